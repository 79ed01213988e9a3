/* Stepping the firmware only when it has something due (lazy_tick.h, rig_fw_next_due_ms) gives
 * the same run as stepping it at every 5 ms tick: two copies of one world, the emulator on the
 * in-process line and the core polling it, one stepped at every tick and one lazily, report the
 * same telemetry lines at the same times and end with the same client statistics, for polled,
 * back-to-back, timing-out and quiet-line (Daly) clients. Also the loop's timer move. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/fw.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/lib/lazy_tick.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/transport_mem.h"

enum { STEP_MS = 5, RUN_MS = 60000, REPORTS_MAX = 2000 };

struct world {
	struct host_loop *loop;
	struct sim_mem *mem;
	struct sim *sim;
	struct fw fw;
	struct host_lazy_tick tick;
	uint32_t every_steps;
	unsigned n;
	char (*line)[TELEMETRY_LINE_MAX];
};

static void on_report(void *ctx, const struct telemetry *t)
{
	struct world *w = ctx;

	assert_true(w->n < REPORTS_MAX);
	assert_true(rig_telemetry_format(w->line[w->n++], TELEMETRY_LINE_MAX, t) > 0);
}

static uint32_t hal_now(void *ctx) { return host_loop_now_ms(((struct world *)ctx)->loop); }

static int every_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct world *w = ctx;

	(void)id;
	rig_fw_step(&w->fw, host_loop_now_ms(loop));
	w->every_steps++;
	return STEP_MS;
}

static uint32_t lazy_step(void *ctx, uint32_t now_ms)
{
	struct world *w = ctx;

	rig_fw_step(&w->fw, now_ms);
	return rig_fw_next_due_ms(&w->fw, now_ms);
}

static void on_bytes(void *ctx) { host_lazy_tick_wake(&((struct world *)ctx)->tick); }

/* One world: `kind`'s emulator at its defaults, the core speaking `proto` with `client`. */
static void world_run(struct world *w, const char *kind, enum fw_proto proto, const struct client_cfg *client,
                      int lazy)
{
	struct fw_hal hal = { { 0 }, w, hal_now, NULL, NULL, NULL, on_report };
	struct fw_cfg fc;
	struct bms_spec spec;
	struct sim_cfg cfg;
	char err[256];

	memset(w, 0, sizeof *w);
	w->line = calloc(REPORTS_MAX, sizeof *w->line);
	assert_non_null(w->line);
	spec_defaults(&spec);
	spec.kind = bms_kind_find(kind);
	assert_non_null(spec.kind);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	w->loop = host_loop_new_virtual();
	assert_non_null(w->loop);
	host_loop_pause(w->loop, 1);
	assert_int_equal(sim_mem_new(&w->mem), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.pace = 1;
	cfg.transport = sim_mem_emulator(w->mem);
	if (sim_open(&w->sim, w->loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	sim_mem_attach(w->mem, w->loop, w->sim);
	memset(&fc, 0, sizeof fc);
	fc.proto = proto;
	fc.client = *client;
	fc.policy = (struct policy_cfg)POLICY_CFG_LFP;
	hal.bms = sim_mem_client(w->mem);
	rig_fw_init(&w->fw, &hal, &fc);
	if (lazy) {
		sim_mem_on_bytes(w->mem, on_bytes, w);
		assert_int_equal(host_lazy_tick_start(&w->tick, w->loop, STEP_MS, lazy_step, w), RIG_OK);
	} else {
		assert_true(host_loop_add_timer(w->loop, STEP_MS, every_tick, w) != 0);
	}
	assert_int_equal(host_loop_step(w->loop, RUN_MS), RIG_OK);
}

static void world_close(struct world *w)
{
	sim_close(w->sim);
	sim_mem_free(w->mem);
	host_loop_free(w->loop);
	free(w->line);
}

static struct client_stats same_run(const char *kind, enum fw_proto proto, const struct client_cfg *client,
                                    unsigned reports_min)
{
	struct client_stats st;
	struct world *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	unsigned i;

	assert_non_null(a);
	assert_non_null(b);
	world_run(a, kind, proto, client, 0);
	world_run(b, kind, proto, client, 1);
	if (a->n < reports_min)
		fail_msg("%u reports, %u wanted", a->n, reports_min);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++)
		assert_string_equal(a->line[i], b->line[i]);
	assert_memory_equal(rig_fw_stats(&a->fw), rig_fw_stats(&b->fw), sizeof(struct client_stats));
	/* and it skipped most ticks */
	assert_int_equal(a->every_steps, RUN_MS / STEP_MS);
	assert_true(b->tick.steps * 4 < a->every_steps);
	st = *rig_fw_stats(&a->fw);
	world_close(a);
	world_close(b);
	free(a);
	free(b);
	return st;
}

static void jbd_polled_each_second(void **state)
{
	struct client_cfg c = CLIENT_CFG_DEFAULT;

	(void)state;
	assert_true(same_run("jbd", FW_PROTO_JBD, &c, 50).cycles_ok >= 50);
}

static void jbd_back_to_back(void **state)
{
	struct client_cfg c = CLIENT_CFG_DEFAULT;

	(void)state;
	c.poll_ms = 0;
	assert_true(same_run("jbd", FW_PROTO_JBD, &c, 200).cycles_ok >= 200);
}

/* Replies come after the timeout: resends, back-off, failed cycles and late bytes on the line. */
static void jbd_timing_out(void **state)
{
	struct client_cfg c = CLIENT_CFG_DEFAULT;
	struct client_stats st;

	(void)state;
	c.timeout_ms = 30;
	c.poll_ms = 700;
	st = same_run("jbd", FW_PROTO_JBD, &c, 50);
	assert_true(st.resends > 0);
	assert_true(st.cycles_failed > 0);
}

/* Daly's quiet line: a request waits for silence on the bus. */
static void daly_quiet_line(void **state)
{
	struct client_cfg c = CLIENT_CFG_DEFAULT;
	struct client_stats st;

	(void)state;
	assert_true(same_run("daly", FW_PROTO_DALY, &c, 40).cycles_ok >= 40);
	c.timeout_ms = 60;
	c.poll_ms = 300;
	st = same_run("daly", FW_PROTO_DALY, &c, 40);
	assert_true(st.resends > 0);
}

/* ---- the loop's timer move ---- */

struct order {
	uint32_t id[4];               /* created in this order */
	uint32_t at_ms[4];            /* when each fired */
	char seen[8];
	unsigned n;
	rig_rc self, passed, ahead;
};

static int fired(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct order *o = ctx;
	unsigned k;

	for (k = 0; k < 4 && o->id[k] != id; k++)
		;
	assert_true(k < 4);
	o->seen[o->n++] = (char)('0' + k);
	o->at_ms[k] = host_loop_now_ms(loop);
	if (k == 2) {
		o->self = host_loop_move_timer(loop, id, 30);
		o->passed = host_loop_move_timer(loop, o->id[0], 0);   /* (10, 0) before (10, 2) */
		o->ahead = host_loop_move_timer(loop, o->id[3], 0);    /* (10, 3): still this pass */
	}
	return 0;
}

static void a_timer_moves_keeping_its_place(void **state)
{
	struct host_loop *loop = host_loop_new_virtual();
	struct order o;

	(void)state;
	assert_non_null(loop);
	memset(&o, 0, sizeof o);
	host_loop_pause(loop, 1);
	o.id[0] = host_loop_add_timer(loop, 50, fired, &o);
	o.id[1] = host_loop_add_timer(loop, 10, fired, &o);
	o.id[2] = host_loop_add_timer(loop, 40, fired, &o);
	o.id[3] = host_loop_add_timer(loop, 100, fired, &o);
	assert_int_equal(host_loop_move_timer(loop, o.id[2], 10), RIG_OK);   /* earlier: 40 -> 10 */
	assert_int_equal(host_loop_move_timer(loop, 12345, 10), RIG_ERR_ARG);
	assert_int_equal(host_loop_step(loop, 200), RIG_OK);
	assert_int_equal(o.self, RIG_ERR_STATE);
	assert_int_equal(o.passed, RIG_ERR_STATE);
	assert_int_equal(o.ahead, RIG_OK);
	assert_int_equal(o.n, 4);
	assert_memory_equal(o.seen, "1230", 4);
	assert_int_equal(o.at_ms[1], 10);
	assert_int_equal(o.at_ms[2], 10);
	assert_int_equal(o.at_ms[3], 10);
	assert_int_equal(o.at_ms[0], 50);
	host_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jbd_polled_each_second),
		cmocka_unit_test(jbd_back_to_back),
		cmocka_unit_test(jbd_timing_out),
		cmocka_unit_test(daly_quiet_line),
		cmocka_unit_test(a_timer_moves_keeping_its_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
