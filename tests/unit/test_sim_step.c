/* The sims of one real-time loop share one step timer (sim.c's stepper): every sim is stepped
 * by it, one that joins between steps gets the shorter first step it is due, a sim that
 * leaves is no longer stepped, and the last to leave takes the timer with it (a loop left
 * with nothing else then ends at once). On a virtual loop a quiet unit skips its 100 ms steps
 * and is caught up, over the whole stretch, by the first read of its truth. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/transport_mem.h"

enum { SIMS = 3 };

static struct sim *open_one(struct host_loop *loop, struct sim_mem **mem)
{
	struct bms_spec spec;
	struct sim_cfg cfg;
	struct sim *s;
	char err[256];

	spec_defaults(&spec);
	assert_int_equal(spec_set(&spec, "kind", "jbd", err, sizeof err), RIG_OK);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	assert_int_equal(sim_mem_new(mem), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.transport = sim_mem_emulator(*mem);
	if (sim_open(&s, loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	sim_mem_attach(*mem, loop, s);
	return s;
}

static double time_s(const struct sim *s)
{
	return sim_model(s, 0)->time_s;
}

static void sims_share_one_step_timer(void **state)
{
	struct host_loop *loop = host_loop_new();
	struct sim_mem *mem[SIMS];
	struct sim *s[SIMS];
	int i;

	(void)state;
	host_loop_pause(loop, 1);                     /* the clock moves by steps alone */
	s[0] = open_one(loop, &mem[0]);
	s[1] = open_one(loop, &mem[1]);
	assert_int_equal(host_loop_step(loop, 50), RIG_OK);
	s[2] = open_one(loop, &mem[2]);               /* joins halfway through a step */
	assert_int_equal(host_loop_step(loop, 250), RIG_OK);
	/* Steps at 100, 200 and 300 ms (a step fires what falls due at its end). */
	assert_float_equal(time_s(s[0]), 0.3, 1e-9);
	assert_float_equal(time_s(s[1]), 0.3, 1e-9);
	assert_float_equal(time_s(s[2]), 0.25, 1e-9); /* 50 ms to its first step, then 100, 100 */
	sim_close(s[1]);
	sim_mem_free(mem[1]);
	assert_int_equal(host_loop_step(loop, 200), RIG_OK);   /* steps at 400 and 500 */
	assert_float_equal(time_s(s[0]), 0.5, 1e-9);
	assert_float_equal(time_s(s[2]), 0.45, 1e-9);
	for (i = 0; i < SIMS; i += 2) {
		sim_close(s[i]);
		sim_mem_free(mem[i]);
	}
	host_loop_pause(loop, 0);
	assert_int_equal(host_loop_run(loop), RIG_OK);    /* no timer left: returns at once */
	host_loop_free(loop);
}

static void quiet_unit_is_caught_up_by_a_truth_read(void **state)
{
	struct host_loop *loop = host_loop_new_virtual();
	struct sim_mem *mem;
	struct sim *s;
	struct model m;
	struct bms b;
	struct truth_sample t;

	(void)state;
	host_loop_pause(loop, 1);
	s = open_one(loop, &mem);
	m = *sim_model(s, 0);                         /* a twin stepped at every 100 ms */
	b = *sim_bms(s, 0);
	sim_set_current(s, 0, -20.0);
	assert_int_equal(host_loop_step(loop, 5000), RIG_OK);
	/* The first step saw the new current flow; nothing was near, so none since. */
	assert_float_equal(time_s(s), 0.1, 1e-9);
	sim_truth(s, 0, TRUTH_PACK | TRUTH_CELLS, &t);
	assert_float_equal(time_s(s), 5.0, 1e-9);
	for (int i = 0; i < 50; i++)
		bms_step(&b, &m, 0.1, -20.0);
	assert_true(abs((int)t.pack_mV - (int)(model_pack_V(&m) * 1000.0)) <= 1);
	for (unsigned i = 0; i < m.cfg.cells; i++)
		assert_true(abs((int)t.cell_mV[i] - (int)(model_cell_V(&m, i) * 1000.0)) <= 1);
	assert_int_equal(sim_bms(s, 0)->meas.current_mA, b.meas.current_mA);
	assert_int_equal(sim_bms(s, 0)->fet, b.fet);
	sim_close(s);
	sim_mem_free(mem);
	host_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sims_share_one_step_timer),
		cmocka_unit_test(quiet_unit_is_caught_up_by_a_truth_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
