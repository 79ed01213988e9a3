/* The sims of one real-time loop share one step timer (sim.c's stepper): every sim is stepped
 * by it, one that joins between steps gets the shorter first step it is due, a sim that
 * leaves is no longer stepped, and the last to leave takes the timer with it (a loop left
 * with nothing else then ends at once). On a virtual loop a quiet unit skips its 100 ms steps
 * and is caught up, over the whole stretch, by the first read of its truth; a current that
 * ramps slowly is not a step per tick, and lands within SIM_DRIFT_A of a run stepped at every
 * tick, while a step change of current is stepped at once. The sim tells when its BMS decides
 * anew (sim_on_decide), and only then. */
#include <math.h>
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

/* One JBD sim on a paused virtual loop, discharging at 20 A from 0 s: quiet after its first step. */
static struct sim *open_quiet(struct host_loop *loop, struct sim_mem **mem)
{
	struct sim *s;

	host_loop_pause(loop, 1);
	s = open_one(loop, mem);
	sim_set_current(s, 0, -20.0);
	return s;
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

/* A quiet unit's sim sleeps through its steps on a virtual loop, and a write wakes it: the
 * unit is stepped again at the next 100 ms step, as a fixed cadence would have. */
static void quiet_sim_sleeps_and_a_write_wakes_it(void **state)
{
	struct host_loop *loop = host_loop_new_virtual();
	struct sim_mem *mem;
	struct sim *s;

	(void)state;
	s = open_quiet(loop, &mem);
	assert_int_equal(host_loop_step(loop, 5050), RIG_OK);
	assert_true(sim_stats(s)->steps <= 2);        /* not 50 */
	assert_float_equal(time_s(s), 0.1, 1e-9);
	(void)sim_bms_rw(s, 0);                       /* caught up to 5.05 s, quiet stretch ended */
	assert_float_equal(time_s(s), 5.05, 1e-9);
	assert_int_equal(host_loop_step(loop, 50), RIG_OK);
	assert_float_equal(time_s(s), 5.1, 1e-9);     /* stepped at the 5.1 s step */
	sim_close(s);
	sim_mem_free(mem);
	host_loop_free(loop);
}

/* sim_on_decide: told once per move of the BMS's decisions (its protections, FETs, balancing)
 * as the quiet sim steps, never while they stand. */
struct told { unsigned n, unit; uint32_t prot; uint8_t fet; };

static void count_decide(void *ctx, unsigned unit)
{
	struct told *t = ctx;

	t->n++;
	t->unit = unit;
}

static void the_sim_tells_when_the_bms_decides(void **state)
{
	struct host_loop *loop = host_loop_new_virtual();
	struct sim_mem *mem;
	struct told told = { 0, 99, 0, 0 };
	struct sim *s;

	(void)state;
	host_loop_pause(loop, 1);
	s = open_one(loop, &mem);
	sim_on_decide(s, count_decide, &told);
	sim_set_current(s, 0, -20.0);
	assert_int_equal(host_loop_step(loop, 5000), RIG_OK);
	(void)sim_bms_rw(s, 0);
	assert_int_equal(told.n, 0);                  /* 5 s at 20 A: nothing decided */
	assert_true(sim_bms(s, 0)->fet & BMS_FET_DSG);
	sim_set_current(s, 0, -2000.0);              /* a short circuit: the BMS opens its FETs */
	assert_int_equal(host_loop_step(loop, 1000), RIG_OK);
	(void)sim_bms_rw(s, 0);
	assert_true(told.n >= 1);
	assert_int_equal(told.unit, 0);
	assert_false(sim_bms(s, 0)->fet & BMS_FET_DSG);
	told.n = 0;
	assert_int_equal(host_loop_step(loop, 1000), RIG_OK);
	(void)sim_bms_rw(s, 0);
	assert_int_equal(told.n, 0);                  /* still open: nothing new to tell */
	sim_on_decide(s, NULL, NULL);
	sim_close(s);
	sim_mem_free(mem);
	host_loop_free(loop);
}

/* A read on a quiet lockstep port finds the unit at the 100 ms step at or before it, as a step
 * at every tick had it: the two requests of a poll share one step. A unit written to since its
 * last step is stepped to the read's time, so the change shows in the first reply. */
static void reads_share_the_step_and_a_write_is_read_at_once(void **state)
{
	static const uint8_t basic[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
	struct host_loop *loop = host_loop_new_virtual();
	struct sim_mem *mem;
	struct sim *s;

	(void)state;
	s = open_quiet(loop, &mem);
	assert_int_equal(host_loop_step(loop, 5013), RIG_OK);
	assert_float_equal(time_s(s), 0.1, 1e-9);    /* quiet since its first step */
	sim_input(s, basic, sizeof basic);
	assert_float_equal(time_s(s), 5.0, 1e-9);    /* the step at 5.0 s, not 5.013 s */
	assert_int_equal(host_loop_step(loop, 50), RIG_OK);
	sim_input(s, basic, sizeof basic);
	assert_float_equal(time_s(s), 5.0, 1e-9);    /* 5.063 s: the same step serves */
	sim_bms_rw(s, 0)->fet &= (uint8_t)~BMS_FET_CHG;  /* a write at 5.063 s */
	assert_float_equal(time_s(s), 5.063, 1e-9);
	assert_int_equal(host_loop_step(loop, 10), RIG_OK);
	sim_input(s, basic, sizeof basic);
	assert_float_equal(time_s(s), 5.073, 1e-9);  /* written since its step: read at once */
	sim_close(s);
	sim_mem_free(mem);
	host_loop_free(loop);
}

/* The evening ramp of the 24-hour day: -8 A to -30 A over 15 minutes, a new current every
 * 100 ms (2.4 mA a tick), against a twin stepped at every tick with the same currents. */
static void slow_ramp_skips_steps_within_the_drift_bound(void **state)
{
	struct host_loop *loop = host_loop_new_virtual();
	struct sim_mem *mem;
	struct sim *s;
	struct model m;
	struct bms b;
	enum { TICKS = 9000 };
	unsigned lagging = 0;

	(void)state;
	host_loop_pause(loop, 1);
	s = open_one(loop, &mem);
	m = *sim_model(s, 0);
	b = *sim_bms(s, 0);
	sim_set_current(s, 0, -8.0);
	bms_step(&b, &m, 0.1, -8.0);
	assert_int_equal(host_loop_step(loop, 100), RIG_OK);
	for (int k = 1; k <= TICKS; k++) {
		double I_A = -8.0 - 22.0 * k / TICKS;

		sim_set_current(s, 0, I_A);
		bms_step(&b, &m, 0.1, I_A);
		assert_int_equal(host_loop_step(loop, 100), RIG_OK);
		if (time_s(s) < 0.1 * (k + 1) - 1e-6)
			lagging++;
	}
	/* Caught up by a write (sim_bms_rw catches up to now); at least half the ticks had no step. */
	const struct bms *sb = sim_bms_rw(s, 0);
	const struct model *sm = sim_model(s, 0);
	assert_true(fabs(time_s(s) - (0.1 * (TICKS + 1))) <= 1e-6);
	assert_true(lagging > TICKS / 2);
	/* The bound: one reading's count (10 mA, 1 mV, 10 mAh), no decision. */
	assert_true(abs(sb->meas.current_mA - b.meas.current_mA) <= (int)(SIM_DRIFT_A * 1000.0));
	assert_true(abs((int)sb->meas.pack_mV - (int)b.meas.pack_mV) <= 1);
	for (unsigned i = 0; i < m.cfg.cells; i++)
		assert_true(abs((int)sb->meas.cell_mV[i] - (int)b.meas.cell_mV[i]) <= 1);
	assert_true(fabs(sb->remain_mAh - b.remain_mAh) <= 10.0);
	for (unsigned i = 0; i < m.cfg.cells; i++)
		assert_true(fabs(model_cell_soc_frac(sm, i) - model_cell_soc_frac(&m, i)) <= 1e-7);
	assert_int_equal(sb->fet, b.fet);
	assert_int_equal(sb->bal_mask, b.bal_mask);
	/* A step change of current is stepped at once, with the old current up to now. */
	assert_int_equal(host_loop_step(loop, 50), RIG_OK);
	sim_set_current(s, 0, -29.0);
	assert_true(fabs(time_s(s) - (0.1 * (TICKS + 1) + 0.05)) <= 1e-6);
	sim_close(s);
	sim_mem_free(mem);
	host_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sims_share_one_step_timer),
		cmocka_unit_test(quiet_unit_is_caught_up_by_a_truth_read),
		cmocka_unit_test(quiet_sim_sleeps_and_a_write_wakes_it),
		cmocka_unit_test(the_sim_tells_when_the_bms_decides),
		cmocka_unit_test(reads_share_the_step_and_a_write_is_read_at_once),
		cmocka_unit_test(slow_ramp_skips_steps_within_the_drift_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
