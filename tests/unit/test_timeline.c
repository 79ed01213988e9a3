/* The scenario engine: events start and end when the file says, ramps and profiles give the
 * load they promise, and each fault lands in the emulator's model, BMS or line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/timeline.h"

static int no_fd(const void *h) { (void)h; return -1; }
static int32_t no_read(void *h, uint8_t *p, uint16_t cap) { (void)h; (void)p; (void)cap; return 0; }
static int32_t sink_write(void *h, const uint8_t *p, uint16_t n) { (void)h; (void)p; return n; }

struct rig {
	struct scenario sc;
	struct host_loop *loop;
	struct sim *sim;
	struct timeline tl;
};

/* Loads the scenario text and opens an in-memory emulator for it. */
static void rig_open(struct rig *r, const char *json)
{
	static const struct sim_transport mem = { .fd = no_fd, .read = no_read, .write = sink_write, .path = "mem" };
	char path[] = "/tmp/bmsrig-timeline-XXXXXX", err[512];
	struct sim_cfg cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	if (scenario_load(&r->sc, path, -1, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	unlink(path);
	r->loop = host_loop_new_virtual();
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = r->sc.bms.unit;
	cfg.units = 1;
	cfg.link = r->sc.bms.link;
	cfg.transport = &mem;
	if (sim_open(&r->sim, r->loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	timeline_init(&r->tl, &r->sc, r->sim);
}

static void rig_close(struct rig *r)
{
	sim_close(r->sim);
	host_loop_free(r->loop);
	scenario_free(&r->sc);
}

static unsigned step(struct rig *r, uint32_t ms, unsigned *fired)
{
	unsigned scratch[SCEN_EVENTS_MAX];

	return timeline_step(&r->tl, ms, fired ? fired : scratch, SCEN_EVENTS_MAX);
}

#define HEAD "{\"bmsrig_scenario\": 1, \"name\": \"t\", \"duration\": \"10m\", \"pack\": {\"cells\": 4, \"ntc\": 2},"

static void load_ramps_and_returns_to_zero_after_for(void **state)
{
	static struct rig r;
	unsigned fired[SCEN_EVENTS_MAX];

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"0s\", \"do\": \"current\", \"a\": -10},"
	         "{\"at\": \"10s\", \"do\": \"current\", \"a\": 20, \"ramp\": \"10s\"},"
	         "{\"at\": \"30s\", \"do\": \"current\", \"a\": 5, \"for\": \"5s\"}]}");
	assert_int_equal(step(&r, 0, fired), 1);
	assert_int_equal(fired[0], 0);
	assert_true(timeline_load_A(&r.tl, 0, 13.0) == -10.0);
	assert_int_equal(step(&r, 9900, NULL), 0);
	assert_int_equal(step(&r, 10000, fired), 1);
	assert_int_equal(fired[0], 1);
	assert_true(fabs(timeline_load_A(&r.tl, 15000, 13.0) - 5.0) < 1e-9);   /* halfway */
	assert_true(timeline_load_A(&r.tl, 25000, 13.0) == 20.0);
	step(&r, 30000, NULL);
	assert_true(timeline_load_A(&r.tl, 30000, 13.0) == 5.0);
	step(&r, 34900, NULL);
	assert_true(timeline_load_A(&r.tl, 34900, 13.0) == 5.0);
	step(&r, 35000, NULL);
	assert_true(timeline_load_A(&r.tl, 35000, 13.0) == 0.0);
	rig_close(&r);
}

static void power_and_profile_steps(void **state)
{
	static struct rig r;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"0s\", \"do\": \"power\", \"w\": -260},"
	         "{\"at\": \"1m\", \"do\": \"profile\", \"steps\": [[\"0s\", -5], [\"1m\", 10], [\"2m\", 0]]}]}");
	step(&r, 0, NULL);
	assert_true(fabs(timeline_load_A(&r.tl, 0, 13.0) + 20.0) < 1e-9);      /* 260 W at 13 V */
	step(&r, 60000, NULL);
	assert_true(timeline_load_A(&r.tl, 60000, 13.0) == -5.0);
	assert_true(timeline_load_A(&r.tl, 119900, 13.0) == -5.0);              /* steps hold */
	assert_true(timeline_load_A(&r.tl, 120000, 13.0) == 10.0);
	assert_true(timeline_load_A(&r.tl, 500000, 13.0) == 0.0);               /* the last holds */
	rig_close(&r);
}

/* A profile read from a CSV interpolates between its points, holds after the last, and a
 * step (two points at one time) takes the later one from that time on. */
static void csv_profile_interpolates_between_points(void **state)
{
	static struct rig r;
	static const struct { uint32_t t_ms; double a; } want[] = {
		{ 0, 0.0 }, { 5000, 5.0 }, { 10000, 10.0 }, { 15000, 20.0 }, { 20000, 30.0 },
		{ 29900, 30.0 }, { 30000, 0.0 }, { 35000, -5.0 }, { 40000, -10.0 }, { 45000, -10.0 },
		{ 50000, -10.0 }, { 600000, -10.0 },
	};
	char csv[] = "/tmp/bmsrig-profile-XXXXXX", json[512];
	const char rows[] = "time_s,current_a\n0,0\n10,10\n20,30\n30,30\n30,0\n40,-10\n50,-10\n";
	int fd = mkstemp(csv);
	unsigned k;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rows, strlen(rows)), (ssize_t)strlen(rows));
	close(fd);
	snprintf(json, sizeof json, HEAD "\"timeline\": [{\"at\": \"1m\", \"do\": \"profile\", \"csv\": \"%s\"}]}",
	         csv + strlen("/tmp/"));              /* beside the scenario, which rig_open puts in /tmp */
	rig_open(&r, json);
	unlink(csv);
	step(&r, 60000, NULL);
	for (k = 0; k < sizeof want / sizeof want[0]; k++)
		if (fabs(timeline_load_A(&r.tl, 60000 + want[k].t_ms, 13.0) - want[k].a) > 1e-9)
			fail_msg("at %u ms into the profile: %g A, expected %g A", want[k].t_ms,
			         timeline_load_A(&r.tl, 60000 + want[k].t_ms, 13.0), want[k].a);
	rig_close(&r);
}

/* timeline_next_ms: the runner's engine sleeps until then, so a time too late would leave a
 * load or an event unplayed. While anything moves it is now (the next step). */
static void next_change_is_the_next_event_end_or_moving_load(void **state)
{
	static struct rig r;
	static const struct { uint32_t now_ms, next_ms; } want[] = {
		{ 0, 10000 },            /* a constant current until the ramp's event */
		{ 10000, 10000 },        /* the ramp moves */
		{ 15000, 15000 },
		{ 20000, 30000 },        /* at its end it holds */
		{ 30000, 35000 },        /* `for` ends at 35 s */
		{ 35000, 40000 },
		{ 40000, 40000 },        /* the ambient ramps for 2 s */
		{ 41900, 41900 },
		{ 42000, 50000 },
		{ 50000, 50000 },        /* a profile moves until its last point */
		{ 109900, 109900 },
		{ 110000, 200000 },      /* and holds after it */
		{ 200000, 200000 },      /* a power load follows the pack voltage */
		{ 209900, 209900 },
		{ 210000, UINT32_MAX },  /* nothing left */
	};
	unsigned k;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"0s\", \"do\": \"current\", \"a\": -10},"
	         "{\"at\": \"10s\", \"do\": \"current\", \"a\": 20, \"ramp\": \"10s\"},"
	         "{\"at\": \"30s\", \"do\": \"current\", \"a\": 5, \"for\": \"5s\"},"
	         "{\"at\": \"40s\", \"do\": \"ambient\", \"c\": 30, \"ramp\": \"2s\"},"
	         "{\"at\": \"50s\", \"do\": \"profile\", \"steps\": [[\"0s\", -5], [\"1m\", 10]]},"
	         "{\"at\": \"200s\", \"do\": \"power\", \"w\": -100, \"for\": \"10s\"}]}");
	for (k = 0; k < sizeof want / sizeof want[0]; k++) {
		step(&r, want[k].now_ms, NULL);
		if (timeline_next_ms(&r.tl, want[k].now_ms) != want[k].next_ms)
			fail_msg("at %u ms: next change at %u ms, expected %u ms", want[k].now_ms,
			         timeline_next_ms(&r.tl, want[k].now_ms), want[k].next_ms);
	}
	rig_close(&r);
}

static void sense_faults_start_and_end(void **state)
{
	static struct rig r;
	const struct bms *b;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"1s\", \"do\": \"force_cell\", \"cell\": 2, \"mv\": 3700, \"for\": \"2s\"},"
	         "{\"at\": \"1s\", \"do\": \"open_wire\", \"cell\": 4},"
	         "{\"at\": \"2s\", \"do\": \"ntc_open\", \"ntc\": 2, \"for\": \"1s\"},"
	         "{\"at\": \"2s\", \"do\": \"ntc_short\", \"ntc\": 1},"
	         "{\"at\": \"5s\", \"do\": \"clear_faults\"}]}");
	b = sim_bms(r.sim, 0);
	step(&r, 1000, NULL);
	assert_int_equal(b->faults.force_mask, 1u << 1);
	assert_int_equal(b->faults.force_mV[1], 3700);
	assert_int_equal(b->faults.open_wire_mask, 1u << 3);
	step(&r, 2000, NULL);
	assert_int_equal(b->faults.ntc_open_mask, 2);
	assert_int_equal(b->faults.ntc_short_mask, 1);
	step(&r, 3000, NULL);          /* both `for`s ran out; the others stay */
	assert_int_equal(b->faults.force_mask, 0);
	assert_int_equal(b->faults.ntc_open_mask, 0);
	assert_int_equal(b->faults.open_wire_mask, 1u << 3);
	assert_int_equal(b->faults.ntc_short_mask, 1);
	step(&r, 5000, NULL);
	assert_int_equal(b->faults.open_wire_mask, 0);
	assert_int_equal(b->faults.ntc_short_mask, 0);
	rig_close(&r);
}

static void line_faults_short_circuit_fets_and_ambient(void **state)
{
	static struct rig r;
	struct wire_faults *w;
	const struct bms *b;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"0s\", \"do\": \"ambient\", \"c\": -5, \"ramp\": \"10s\"},"
	         "{\"at\": \"1s\", \"do\": \"corrupt_checksum\", \"rate\": 0.25, \"for\": \"1s\"},"
	         "{\"at\": \"1s\", \"do\": \"late_reply\", \"ms\": 800},"
	         "{\"at\": \"2s\", \"do\": \"short_circuit\"},"
	         "{\"at\": \"3s\", \"do\": \"fets\", \"chg\": false, \"dsg\": true, \"for\": \"1s\"}]}");
	w = sim_wire_faults(r.sim);
	b = sim_bms(r.sim, 0);
	step(&r, 0, NULL);
	assert_true(fabs(sim_model(r.sim, 0)->ambient_C - 25.0) < 1e-9);
	step(&r, 1000, NULL);
	assert_true(fabs(sim_model(r.sim, 0)->ambient_C - 22.0) < 1e-9);       /* 25 -> -5 over 10 s */
	assert_int_equal(w->on_mask >> WF_CORRUPT & 1u, 1);
	assert_true(w->f[WF_CORRUPT].rate == 0.25);
	assert_int_equal(w->f[WF_LATE_REPLY].param, 800);
	step(&r, 2000, NULL);
	assert_int_equal(w->on_mask >> WF_CORRUPT & 1u, 0);
	assert_int_equal(w->on_mask >> WF_LATE_REPLY & 1u, 1);
	assert_true(timeline_short_A(&r.tl) == -1000.0);                     /* the default, 500 ms */
	step(&r, 2500, NULL);
	assert_true(timeline_short_A(&r.tl) == 0.0);
	step(&r, 3000, NULL);
	assert_int_equal(b->inhibit, BMS_INHIBIT_CHG);
	step(&r, 4000, NULL);
	assert_int_equal(b->inhibit, 0);
	step(&r, 20000, NULL);
	assert_true(fabs(sim_model(r.sim, 0)->ambient_C + 5.0) < 1e-9);
	rig_close(&r);
}

static void drift_soc_reboot_and_reset_reach_the_pack(void **state)
{
	static struct rig r;
	struct bms *b;
	const struct model *m;
	double cap, r0;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": ["
	         "{\"at\": \"1s\", \"do\": \"drift\", \"cell\": 3, \"capacity_pct\": -20, \"resistance_pct\": 50, \"leak_ma\": 40},"
	         "{\"at\": \"1s\", \"do\": \"cell_soc\", \"cell\": 1, \"soc_pct\": 90},"
	         "{\"at\": \"2s\", \"do\": \"bms_reboot\"},"
	         "{\"at\": \"3s\", \"do\": \"settings_reset\"}]}");
	b = sim_bms_rw(r.sim, 0);
	m = sim_model(r.sim, 0);
	cap = m->cell[2].capacity_Ah;
	r0 = m->cell[2].r_scale;
	step(&r, 1000, NULL);
	assert_true(fabs(m->cell[2].capacity_Ah - 0.8 * cap) < 1e-9);
	assert_true(fabs(m->cell[2].r_scale - 1.5 * r0) < 1e-12);   /* R0 also moves with the SOC */
	assert_true(fabs(m->cell[2].leak_A - 0.040) < 1e-12);
	assert_true(fabs(model_cell_soc_frac(m, 0) - 0.9) < 1e-9);
	step(&r, 2000, NULL);
	assert_int_equal(b->events[BMS_EV_RESTART], 1);
	assert_int_equal(bms_setting_set(b, BMS_SET_CELL_OVP, 3500), RIG_OK);
	step(&r, 3000, NULL);
	assert_true(bms_setting_get(b, BMS_SET_CELL_OVP) != 3500);                                              /* back to the factory's */
	assert_int_equal(b->events[BMS_EV_RESTART], 2);                      /* a reset restarts too */
	rig_close(&r);
}

static rig_rc inject(struct rig *r, const char *json, uint32_t now_ms)
{
	cJSON *o = cJSON_Parse(json);
	struct scen_event e;
	char err[256];
	rig_rc rc;

	assert_non_null(o);
	rc = scenario_parse_event(&r->sc, o, &e, err, sizeof err);
	cJSON_Delete(o);
	assert_int_equal(rc, RIG_OK);
	return timeline_inject(&r->tl, &e, now_ms, err, sizeof err);
}

/* Events from outside the scenario start at once, end after their `for`, take over the load,
 * and are never reported as fired scenario events. */
static void injected_events_start_now_and_end_after_for(void **state)
{
	static struct rig r;
	const struct bms *b;
	unsigned fired[SCEN_EVENTS_MAX], i;

	(void)state;
	rig_open(&r, HEAD "\"timeline\": [{\"at\": \"0s\", \"do\": \"current\", \"a\": -10},"
	         "{\"at\": \"10s\", \"do\": \"mark\", \"id\": \"m\"}]}");
	b = sim_bms(r.sim, 0);
	assert_int_equal(step(&r, 0, fired), 1);
	assert_true(timeline_has_load(&r.tl));
	assert_int_equal(inject(&r, "{\"do\": \"ntc_open\", \"ntc\": 2, \"for\": \"2s\"}", 1000), RIG_OK);
	assert_int_equal(b->faults.ntc_open_mask, 2);          /* at once, not at the next step */
	assert_int_equal(step(&r, 2900, fired), 0);
	assert_int_equal(b->faults.ntc_open_mask, 2);
	step(&r, 3000, NULL);
	assert_int_equal(b->faults.ntc_open_mask, 0);

	assert_int_equal(inject(&r, "{\"do\": \"current\", \"a\": 5}", 4000), RIG_OK);
	assert_true(timeline_load_A(&r.tl, 4000, 13.0) == 5.0);
	assert_int_equal(inject(&r, "{\"do\": \"short_circuit\", \"a\": -800}", 4000), RIG_OK);
	assert_true(timeline_short_A(&r.tl) == -800.0);
	step(&r, 4500, NULL);                                  /* the default 500 ms */
	assert_true(timeline_short_A(&r.tl) == 0.0);
	assert_true(timeline_load_A(&r.tl, 4500, 13.0) == 5.0);
	assert_int_equal(step(&r, 10000, fired), 1);          /* the scenario's own, only */
	assert_int_equal(fired[0], 1);

	/* Slots: the load holds one; 31 more faults with an end pending fill the rest. */
	for (i = 0; i < TIMELINE_INJECT_MAX - 1; i++)
		assert_int_equal(inject(&r, "{\"do\": \"open_wire\", \"cell\": 1, \"for\": \"1m\"}", 11000), RIG_OK);
	assert_int_equal(inject(&r, "{\"do\": \"ntc_open\", \"ntc\": 1}", 11000), RIG_ERR_SPACE);
	step(&r, 71000, NULL);                                 /* their ends free them */
	assert_int_equal(b->faults.open_wire_mask, 0);
	assert_int_equal(inject(&r, "{\"do\": \"ntc_open\", \"ntc\": 1}", 71000), RIG_OK);
	assert_int_equal(inject(&r, "{\"do\": \"clear_faults\"}", 72000), RIG_OK);
	assert_int_equal(b->faults.ntc_open_mask, 0);
	assert_int_equal(r.tl.errors, 0);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_ramps_and_returns_to_zero_after_for),
		cmocka_unit_test(power_and_profile_steps),
		cmocka_unit_test(csv_profile_interpolates_between_points),
		cmocka_unit_test(next_change_is_the_next_event_end_or_moving_load),
		cmocka_unit_test(sense_faults_start_and_end),
		cmocka_unit_test(line_faults_short_circuit_fets_and_ambient),
		cmocka_unit_test(drift_soc_reboot_and_reset_reach_the_pack),
		cmocka_unit_test(injected_events_start_now_and_end_after_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
