/* The runner's side: reading telemetry lines back, judging them against truth, DUT processes,
 * a session of the runner on an emulator its caller built. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <poll.h>
#include <cmocka.h>

#include "bmsrig/hil/hil.h"
#include "bmsrig/hil/runner.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/lib/pty.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/hil/scenario_judge.h"
#include "bmsrig/sim/jbd_personality.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/core/pylon_can.h"
#include "bmsrig/core/slcan.h"

static struct pack_state sample_pack(void)
{
	struct pack_state s;

	memset(&s, 0, sizeof s);
	s.pack_mV = 13200;
	s.current_mA = -20000;
	s.soc_pct = 80;
	s.cell_count = 4;
	s.cell_mV[0] = 3301; s.cell_mV[1] = 3299; s.cell_mV[2] = 3300; s.cell_mV[3] = 3300;
	s.temp_count = 2;
	s.temp_dK[0] = 2981; s.temp_dK[1] = 2983;
	s.fet_chg = s.fet_dsg = 1;
	s.bal_mask = 0x5;
	return s;
}

static void line_round_trips_through_the_parser(void **state)
{
	struct pack_state s = sample_pack();
	struct telemetry t = { 123456, "jbd", 1, &s, 1, 0, 0, NULL };
	struct dut_report r;
	char line[TELEMETRY_LINE_MAX], err[128];

	(void)state;
	assert_true(rig_telemetry_format(line, sizeof line, &t) > 0);
	assert_int_equal(dut_report_parse(line, &r, err, sizeof err), RIG_OK);
	assert_int_equal(r.ms, 123456);
	assert_string_equal(r.proto, "jbd");
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.relay, 1);
	assert_int_equal(r.pack.pack_mV, 13200);
	assert_int_equal(r.pack.current_mA, -20000);
	assert_int_equal(r.pack.cell_count, 4);
	assert_memory_equal(r.pack.cell_mV, s.cell_mV, 4 * sizeof s.cell_mV[0]);
	assert_int_equal(r.pack.temp_count, 2);
	assert_int_equal(r.pack.temp_dK[1], 2983);
	assert_int_equal(r.pack.bal_mask, 5);
}

/* A bridge's line: the inv object comes back; a line without one says so. */
static void inv_object_round_trips(void **state)
{
	struct pack_state s = sample_pack();
	struct rig_inv_battery b;
	struct telemetry_inv inv;
	struct telemetry t = { 9, "daly", 1, &s, 1, 0, 0, &inv };
	struct dut_report r;
	char line[TELEMETRY_LINE_MAX], err[128];

	(void)state;
	memset(&b, 0, sizeof b);
	memset(&inv, 0, sizeof inv);
	b.cvl_mV = 56800; b.dvl_mV = 48000; b.ccl_mA = 100000; b.dcl_mA = 150000;
	b.soc_pct = 61; b.request = 3; b.prot = 0x10; b.alarm = RIG_INV_ALARM_COMM;
	inv.battery = &b;
	inv.online_packs = 2;
	inv.pack_count = 3;
	inv.pack_ok[0] = inv.pack_ok[2] = 1;
	inv.pack_age_ms[1] = 31000;
	assert_true(rig_telemetry_format(line, sizeof line, &t) > 0);
	assert_int_equal(dut_report_parse(line, &r, err, sizeof err), RIG_OK);
	assert_true(r.has_inv);
	assert_int_equal(r.inv.cvl_mV, 56800);
	assert_int_equal(r.inv.dvl_mV, 48000);
	assert_int_equal(r.inv.ccl_mA, 100000);
	assert_int_equal(r.inv.dcl_mA, 150000);
	assert_int_equal(r.inv.soc_pct, 61);
	assert_int_equal(r.inv.request, 3);
	assert_int_equal(r.inv.prot, 0x10);
	assert_int_equal(r.inv.alarm, RIG_INV_ALARM_COMM);
	assert_int_equal(r.inv.online_packs, 2);
	assert_int_equal(r.inv.pack_count, 3);
	assert_int_equal(r.inv.pack_ok[1], 0);
	assert_int_equal(r.inv.pack_ok[2], 1);
	assert_int_equal(r.inv.pack_age_ms[1], 31000);
	assert_int_equal(r.pack.pack_mV, 13200);
	t.inv = NULL;
	assert_true(rig_telemetry_format(line, sizeof line, &t) > 0);
	assert_int_equal(dut_report_parse(line, &r, err, sizeof err), RIG_OK);
	assert_false(r.has_inv);
	/* A broken inv object is an error that names it. */
	assert_int_equal(dut_report_parse("BMSRIG {\"ms\":1,\"proto\":\"jbd\",\"ok\":1,\"pack_mv\":0,\"current_ma\":0,"
	                                  "\"soc_pct\":0,\"cells_mv\":[],\"temps_dk\":[],\"fet_chg\":0,\"fet_dsg\":0,"
	                                  "\"prot\":0,\"bal_mask\":0,\"relay\":0,\"comm_fail\":0,\"why\":0,"
	                                  "\"inv\":{\"cvl_mv\":-1}}", &r, err, sizeof err), RIG_ERR_FRAME);
	assert_non_null(strstr(err, "\"inv.cvl_mv\""));
}

/* Lockstep hands the judge the struct: it must read exactly what the line would have said,
 * fields the line leaves out (remain, cycles, why) included, with and without an inv object
 * and before the first data (no pack). */
static void struct_report_equals_the_parsed_line(void **state)
{
	struct pack_state s = sample_pack();
	struct rig_inv_battery b;
	struct telemetry_inv inv;
	struct telemetry t = { 4000000000u, "jk-ble", 0, &s, 0, 7, 0x21, NULL };
	struct dut_report from_line, from_struct;
	char line[TELEMETRY_LINE_MAX], err[128];
	unsigned i, pass;

	(void)state;
	s.cell_count = PACK_CELLS_MAX;
	for (i = 0; i < PACK_CELLS_MAX; i++)
		s.cell_mV[i] = (uint16_t)(2500u + 37u * i);
	s.temp_count = PACK_TEMPS_MAX;
	s.prot = 0x80000001u;
	s.current_mA = -2147483647;
	s.remain_mAh = 55000;
	s.cycles = 12;
	memset(&b, 0, sizeof b);
	memset(&inv, 0, sizeof inv);
	b.cvl_mV = 56800; b.ccl_mA = -5; b.dcl_mA = 150000; b.soc_pct = 100; b.alarm = 1;
	b.pack_mV = 51000;                          /* not in the line: must not appear */
	inv.battery = &b;
	inv.online_packs = 1;
	inv.pack_count = 2;
	inv.pack_ok[1] = 1;
	inv.pack_age_ms[0] = 4294967295u;
	for (pass = 0; pass < 3; pass++) {
		t.inv = pass == 1 ? &inv : NULL;
		t.pack = pass == 2 ? NULL : &s;
		assert_true(rig_telemetry_format(line, sizeof line, &t) > 0);
		assert_int_equal(dut_report_parse(line, &from_line, err, sizeof err), RIG_OK);
		dut_report_from_telemetry(&t, &from_struct);
		assert_memory_equal(&from_struct, &from_line, sizeof from_line);
	}
	assert_int_equal(from_struct.pack.cell_count, 0);
	/* A name longer than the report holds is cut the same way on both paths. */
	t.proto = "a-protocol-name-longer-than-the-field";
	assert_true(rig_telemetry_format(line, sizeof line, &t) > 0);
	assert_int_equal(dut_report_parse(line, &from_line, err, sizeof err), RIG_OK);
	dut_report_from_telemetry(&t, &from_struct);
	assert_memory_equal(&from_struct, &from_line, sizeof from_line);
	assert_string_equal(from_struct.proto, "a-protocol-name");
}

static void other_lines_and_broken_ones(void **state)
{
	struct dut_report r;
	char err[128] = "";

	(void)state;
	assert_int_equal(dut_report_parse("boot: hello", &r, err, sizeof err), RIG_ERR_UNSUPPORTED);
	assert_int_equal(dut_report_parse("BMSRIG {\"ms\":1", &r, err, sizeof err), RIG_ERR_FRAME);
	assert_int_equal(dut_report_parse("BMSRIG {\"ms\":1,\"proto\":\"jbd\",\"ok\":1,\"pack_mv\":-5}", &r, err,
	                                  sizeof err), RIG_ERR_FRAME);
	assert_non_null(strstr(err, "\"pack_mv\""));
}

static struct truth_sample truth_pack(double mV, double mA)
{
	struct truth_sample t;

	memset(&t, 0, sizeof t);
	t.parts = TRUTH_PACK | TRUTH_TEMPS;
	t.pack_mV = mV;
	t.current_mA = mA;
	t.temp_count = 2;
	t.temp_dK[0] = 2981.4;
	t.temp_dK[1] = 2982.6;
	return t;
}

static struct truth_sample truth_cells(double offset_mV)
{
	struct truth_sample t;
	unsigned i;

	memset(&t, 0, sizeof t);
	t.parts = TRUTH_CELLS;
	t.cell_count = 4;
	for (i = 0; i < 4; i++)
		t.cell_mV[i] = 3300.0 + offset_mV;
	t.cell_mV[0] += 1.0;
	t.cell_mV[1] -= 1.0;
	return t;
}

static void verdict_agrees_within_one_unit_only(void **state)
{
	static struct verdict v;
	const struct resolution tol = { 10.0, 10.0, 1.0, 1.0 };   /* JBD */
	struct dut_report r;
	struct truth_sample tp = truth_pack(13204.9, -20004.0), tc = truth_cells(0.6);
	char why[200];

	(void)state;
	memset(&r, 0, sizeof r);
	r.ok = 1;
	r.pack = sample_pack();
	verdict_init(&v, &tol);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);   /* no truth yet */
	verdict_init(&v, &tol);
	verdict_add_truth(&v, &tp);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 1);
	assert_true(verdict_passed(&v));
	/* 1.6 mV off on every cell is more than one unit. */
	verdict_init(&v, &tol);
	tc = truth_cells(1.6);
	verdict_add_truth(&v, &tp);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);
	assert_non_null(strstr(why, "cells"));
	assert_false(verdict_passed(&v));
	/* A later, matching sample in the history makes the next report agree; a failed poll fails. */
	tc = truth_cells(0.0);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 1);
	r.ok = 0;
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), -1);
	assert_int_equal(v.failed_polls, 1);
	/* Failing while connecting, before anything agreed, is not held against the DUT. */
	verdict_init(&v, &tol);
	verdict_add_truth(&v, &tp);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), -1);
	assert_int_equal(v.startup_failures, 1);
	assert_int_equal(v.failed_polls, 0);
	assert_false(verdict_passed(&v));
	r.ok = 1;
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 1);
	assert_true(verdict_passed(&v));
	r.ok = 0;
	/* Current 11 mA off. */
	verdict_init(&v, &tol);
	tp = truth_pack(13200.0, -19989.0);
	verdict_add_truth(&v, &tp);
	verdict_add_truth(&v, &tc);
	r.ok = 1;
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);
	assert_non_null(strstr(why, "mA"));
}

/* Issue 11 item 15(c): a protocol that carries only cells (JK04: no current, SOC or
 * temperatures in its record) is judged on the cells; a report before any truth still is not. */
static void verdict_judges_only_the_parts_the_protocol_carries(void **state)
{
	static struct verdict v;
	const struct resolution tol = { 1.0, 1.0, 1.0, 1.0 };
	struct dut_report r;
	struct truth_sample tc = truth_cells(0.0);
	char why[200];

	(void)state;
	memset(&r, 0, sizeof r);
	r.ok = 1;
	r.pack = sample_pack();
	r.pack.current_mA = 0;                    /* what a JK04 client reports: nothing sent */
	r.pack.soc_pct = 0;
	r.pack.temp_count = 0;
	r.pack.fet_chg = r.pack.fet_dsg = 0;
	verdict_init(&v, &tol);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);   /* no truth yet */
	verdict_init(&v, &tol);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 1);
	assert_true(verdict_passed(&v));
	/* The cells are still judged. */
	tc = truth_cells(5.0);
	verdict_init(&v, &tol);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);
	assert_non_null(strstr(why, "cells"));
}

/* The summary is made of the same comparisons as the lines: after a report with an open sense
 * wire (a cell at 0 mV, 3300 off), the worst cell error is that, in mV, not the 1 mV of the
 * reports that agreed; and a report missing a cell says so. */
static void verdict_summary_tells_what_the_lines_said(void **state)
{
	static struct verdict v;
	const struct resolution tol = { 10.0, 10.0, 1.0, 1.0 };
	struct dut_report r;
	struct truth_sample tp = truth_pack(13204.9, -20004.0), tc = truth_cells(0.0);
	char why[200], line[512];

	(void)state;
	memset(&r, 0, sizeof r);
	r.ok = 1;
	r.pack = sample_pack();
	verdict_init(&v, &tol);
	verdict_add_truth(&v, &tp);
	verdict_add_truth(&v, &tc);
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 1);
	r.pack.cell_mV[3] = 0;
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);
	verdict_summary(&v, line, sizeof line);
	assert_non_null(strstr(line, "DISAGREE: 1 of 2 reports agree with the truth (1 disagree, 0 failed polls)"));
	assert_non_null(strstr(line, "worst error: cell 3300.0 mV,"));
	assert_string_equal(why, "cells differ from every recent truth sample (3300.0 mV off at best)");
	r.pack.cell_count = 3;
	assert_int_equal(verdict_check(&v, &r, why, sizeof why), 0);
	assert_string_equal(why, "cells: the DUT reports 3, the truth has 4");
}

struct lines { int n; char last[64]; };

static void on_line(void *ctx, const char *line)
{
	struct lines *l = ctx;

	l->n++;
	strncpy(l->last, line, sizeof l->last - 1);
}

static void dut_process_lines_and_exit_status(void **state)
{
	struct dut_proc *p;
	struct lines l = { 0, "" };
	char err[128];
	int done = 0, status;

	(void)state;
	assert_int_equal(dut_proc_start(&p, "printf 'a\\nport={port}\\r\\n'; exit 3", "/dev/pts/9", 0, err,
	                                 sizeof err), RIG_OK);
	while (!done) {
		struct pollfd pfd = { dut_proc_fd(p), POLLIN, 0 };

		poll(&pfd, 1, 1000);
		done = dut_proc_pump(p, on_line, &l);
	}
	assert_int_equal(l.n, 2);
	assert_string_equal(l.last, "port=/dev/pts/9");
	status = dut_proc_stop(p, 1000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	dut_proc_free(p);
	/* A child that ignores nothing is ended by SIGTERM. */
	assert_int_equal(dut_proc_start(&p, "exec sleep 30", "x", 1, err, sizeof err), RIG_OK);
	status = dut_proc_stop(p, 2000);
	assert_true(WIFSIGNALED(status));
	dut_proc_free(p);
}

/* A session's world as bmssim serve builds it: a BMS on a pty, on the wall clock. */
static void open_world(struct host_loop **loop, struct sim **sim)
{
	struct bms_spec spec;
	struct sim_cfg cfg;
	char err[256];

	spec_defaults(&spec);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	*loop = host_loop_new();
	assert_non_null(*loop);
	if (sim_open(sim, *loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
}

static unsigned case_named(const struct run_report *rep, const char *name)
{
	unsigned i;

	for (i = 0; i < rep->n_cases; i++)
		if (!strcmp(rep->cases[i].name, name))
			return i;
	fail_msg("no case \"%s\"", name);
	return 0;
}

/* A session has no scenario: its DUT is judged by the standing verdict, a telemetry line that
 * does not parse counts against it, and a DUT that ends by itself ends the session and is
 * judged by its exit status; one still running at the end of the duration is only stopped. */
static void session_judges_the_dut_by_verdict_and_exit(void **state)
{
	static struct run_report rep;
	struct host_loop *loop;
	struct sim *sim;
	struct run *r;
	struct run_opts o = { .realtime = 1, .dut = { .kind = DUT_HOST }, .dut_quiet = 1, .dut_grace_ms = 500,
	                      .dut_cmd = "printf 'BMSRIG {\"ms\":1\\n'; exit 3" };
	struct run_setup setup = { .verdict = 1, .duration_ms = 5000 };
	unsigned k;

	(void)state;
	open_world(&loop, &sim);
	setup.loop = loop;
	setup.sim = sim;
	assert_int_equal(run_open(&r, &setup, &o, &rep), RIG_OK);
	assert_ptr_equal(run_loop(r), loop);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(loop), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	assert_true(rep.sim_s < 4.0);                       /* the DUT ended it, not the duration */
	assert_int_equal(rep.dut_reports, 0);
	assert_false(run_passed(&rep));
	assert_int_equal(rep.n_cases, 3);
	k = case_named(&rep, "the device under test agrees with the truth");
	assert_int_equal(rep.cases[k].state, EXPECT_FAILED);
	assert_non_null(strstr(rep.cases[k].message, "1 disagree"));
	k = case_named(&rep, "the device under test exits 0");
	assert_int_equal(rep.cases[k].state, EXPECT_FAILED);
	assert_non_null(strstr(rep.cases[k].message, "status 3"));
	/* Still running when the duration ends: stopped, and no exit status held against it. */
	o.dut_cmd = "exec sleep 30";
	setup.duration_ms = 300;
	assert_int_equal(run_open(&r, &setup, &o, &rep), RIG_OK);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(loop), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	assert_true(rep.sim_s >= 0.3);
	assert_int_equal(rep.n_cases, 2);
	k = case_named(&rep, "the device under test reports");
	assert_int_equal(rep.cases[k].state, EXPECT_FAILED);
	k = case_named(&rep, "the device under test agrees with the truth");
	assert_int_equal(rep.cases[k].state, EXPECT_FAILED);
	sim_close(sim);
	host_loop_free(loop);
}

/* ---- an inverter personality, faked: the runner's wire and truth records ------------------ */

/* The JBD personality with an inverter's decode hook: what its basic-info replies carry (pack
 * voltage, current, SOC) goes into the record; its other replies carry none of it. Real
 * inverter personalities decode their own frames the same way. */
static int fake_inv_decode(uint32_t *ask, enum personality_dir dir, const uint8_t *wire, size_t n,
                           struct rig_inv_battery *rec)
{
	struct jbd_frame f;
	struct jbd_basic b;

	(void)ask;
	if (dir != PERS_TX || rig_jbd_frame_parse(wire, n, &f) != RIG_OK || rig_jbd_basic_decode(&f, &b) != RIG_OK)
		return 0;
	rec->pack_mV = b.pack_mV;
	rec->current_mA = b.current_mA;
	rec->soc_pct = b.soc_pct;
	return 1;
}

/* Each quirk that reaches the personality while the run goes, and when. */
static struct host_loop *fake_loop;
static unsigned fake_quirks;
static uint32_t fake_quirk_ms;
static char fake_quirk[2][64];

static rig_rc fake_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	if (fake_loop) {
		fake_quirks++;
		fake_quirk_ms = host_loop_now_ms(fake_loop);
		snprintf(fake_quirk[0], sizeof fake_quirk[0], "%s", key);
		snprintf(fake_quirk[1], sizeof fake_quirk[1], "%s", value);
	}
	return jbd_personality_ops.set_quirk(state, key, value, why, whycap);
}

static struct personality_ops fake_inv_ops;

/* The inverter scenario: 4S JBD pack, the in-process monitor polling each second; %s is the
 * timeline's middle (the mute_dut event or nothing). */
static const char inv_scenario[] =
	"{\"bmsrig_scenario\": 1, \"name\": \"inv\", \"duration\": \"16s\", \"seed\": 2,"
	" \"pack\": {\"cells\": 4, \"ntc\": 2, \"soc_pct\": 60}, \"bms\": {\"protocol\": \"jbd\"},"
	" \"dut\": {\"poll\": \"1s\"},"
	" \"timeline\": [{\"at\": \"0s\", \"do\": \"current\", \"a\": -10}, %s"
	"  {\"at\": \"10s\", \"id\": \"resume\", \"do\": \"mark\"},"
	"  {\"at\": \"12s\", \"do\": \"quirk\", \"name\": \"latency_ms\", \"value\": 120}],"
	" \"expect\": ["
	"  {\"name\": \"wire agrees with truth\", \"always\": \"abs(wire.pack_mv - truth.pack_mv) <= 30 and "
	"abs(wire.current_ma - truth.current_ma) <= 150 and abs(wire.soc_pct - truth.soc_pct) <= 1\", \"from\": \"2s\", \"until\": \"5s\"},"
	"  {\"name\": \"truth record\", \"always\": \"truth.module_count == 1 and truth.cvl_mv > 10000 and "
	"truth.ccl_ma >= 0 and wire.frames >= 0\"},"
	"  {\"name\": \"silence\", \"within\": \"3s\", \"after\": \"mute\", \"that\": \"wire.age_ms > 2000\"},"
	"  {\"name\": \"heard again\", \"within\": \"3s\", \"after\": \"resume\", \"that\": \"wire.age_ms < 1100 and wire.frames > 8\"}"
	" ]}";

static void run_inv(const char *middle, struct run_report *rep, int fake, FILE *trace)
{
	static struct scenario sc;
	static struct scenario_judge jd;
	static char text[4096];
	struct run_opts o = { .dut = { .kind = DUT_INPROC }, .trace = trace };
	const struct run_setup setup = { .sc = &sc, .jd = &jd };
	char err[512];
	struct run *r;

	snprintf(text, sizeof text, inv_scenario, middle);
	if (scenario_judge_parse(&sc, &jd, text, strlen(text), "inv.json", -1, 0, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	fake_inv_ops = jbd_personality_ops;
	fake_inv_ops.inv_decode = fake_inv_decode;
	fake_inv_ops.set_quirk = fake_set_quirk;
	if (fake)
		sc.bms.unit.ops = &fake_inv_ops;
	fake_quirks = 0;
	assert_int_equal(run_open(&r, &setup, &o, rep), RIG_OK);
	fake_loop = run_loop(r);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(fake_loop), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	fake_loop = NULL;
	scenario_free(&sc);
}

/* The runner decodes every frame the emulated battery sent with the personality's inv_decode:
 * wire.* follows the pack as the frames said it, truth.* is the BMS logic's record, mute_dut
 * silences the DUT (its polls go unheard, so the battery's frames stop) until it ends, and a
 * timeline quirk reaches the running personality at its moment. */
static void runner_decodes_the_wire_and_mute_dut_silences_the_dut(void **state)
{
	static struct run_report rep;
	static char line[4096];
	FILE *trace = tmpfile();
	unsigned k, inverter_lines = 0, with_wire = 0;

	(void)state;
	assert_non_null(trace);
	run_inv("{\"at\": \"5s\", \"id\": \"mute\", \"do\": \"mute_dut\", \"for\": \"5s\"},", &rep, 1, trace);
	/* The trace has the records once a second: the truth always, the wire once a frame came. */
	rewind(trace);
	while (fgets(line, sizeof line, trace))
		if (strstr(line, "\"type\":\"inverter\"")) {
			inverter_lines++;
			assert_non_null(strstr(line, "\"truth\":{\"cvl_mv\":"));
			with_wire += strstr(line, "\"wire\":{\"cvl_mv\":") != NULL;
		}
	fclose(trace);
	assert_in_range(inverter_lines, 15, 17);
	assert_in_range(with_wire, 14, 16);
	for (k = 0; k < rep.n_cases; k++)
		if (rep.cases[k].state != EXPECT_PASSED)
			fail_msg("%s: %s", rep.cases[k].name, rep.cases[k].message);
	assert_true(run_passed(&rep));
	assert_int_equal(fake_quirks, 1);
	assert_int_equal(fake_quirk_ms, 12000);
	assert_string_equal(fake_quirk[0], "latency_ms");
	assert_string_equal(fake_quirk[1], "120");

	/* Without the fault the battery never falls silent: the same expectation fails. */
	run_inv("{\"at\": \"5s\", \"id\": \"mute\", \"do\": \"mark\"},", &rep, 1, NULL);
	assert_false(run_passed(&rep));
	k = case_named(&rep, "silence");
	assert_int_equal(rep.cases[k].state, EXPECT_FAILED);
	assert_int_equal(rep.cases[case_named(&rep, "wire agrees with truth")].state, EXPECT_PASSED);

	/* A BMS kind with no inverter protocol: truth.cvl_mv ... and wire.* are NaN, so even
	 * `wire.frames >= 0`'s companions fail, and no frame is ever decoded. */
	run_inv("{\"at\": \"5s\", \"id\": \"mute\", \"do\": \"mute_dut\", \"for\": \"5s\"},", &rep, 0, NULL);
	assert_int_equal(rep.cases[case_named(&rep, "truth record")].state, EXPECT_FAILED);
	assert_int_equal(rep.cases[case_named(&rep, "wire agrees with truth")].state, EXPECT_FAILED);
	assert_int_equal(rep.cases[case_named(&rep, "heard again")].state, EXPECT_FAILED);
}

/* ---- the rig plays the inverter ---------------------------------------------------------- */

static const char rig_inv_scenario[] =
	"{\"bmsrig_scenario\": 1, \"name\": \"rig-inv\", \"duration\": \"10s\", \"seed\": 2,"
	" \"pack\": {\"cells\": 4, \"ntc\": 2, \"soc_pct\": 60}, \"bms\": {\"protocol\": \"jbd\"},"
	" \"dut\": {\"poll\": \"1s\"}, \"inverter\": %s,"
	" \"timeline\": [{\"at\": \"0s\", \"do\": \"current\", \"a\": -10}],"
	" \"expect\": ["
	"  {\"name\": \"no pack yet\", \"at\": \"0s\", \"that\": \"not (inv.ccl_ma > 0)\"},"
	"  {\"name\": \"announced\", \"at\": \"4s\", \"that\": \"inv.records > 0 and inv.online_packs == 1 and "
	"inv.ccl_ma > 0 and inv.cvl_mv > 13000 and inv.cvl_mv < 15000 and abs(inv.soc_pct - truth.soc_pct) <= 2\"},"
	"  {\"name\": \"fresh\", \"always\": \"inv.age_ms < 2100\", \"from\": \"4s\"},"
	"  {\"name\": \"comm alarm\", \"at\": \"9s\", \"that\": \"inv.alarm & alarm.comm\"}"
	" ]}";

/* The scenario's `inverter` in process: the in-process DUT is the bridge over the scenario's
 * BMS, the runner plays the inverter on its inverter port, and inv.* read what it announced.
 * At 0 s no pack is online yet, so nothing allows charging (CAN: no set yet, NaN; Deye: the
 * bridge answers at once, with limits 0; its block always says one pack). The communication alarm rises only when the rig keeps its keep-alive to itself. */
static void rig_plays_the_inverter_of_the_in_process_bridge(void **state)
{
	static const struct { const char *inv; int alarm; } cases[] = {
		{ "{\"protocol\": \"pylontech-can\"}", 0 },
		{ "{\"protocol\": \"pylontech-can\", \"send_keepalive\": false}", 1 },
		{ "{\"protocol\": \"deye-modbus\", \"address\": 2, \"poll\": \"500ms\"}", 0 },
	};
	static struct scenario sc;
	static struct scenario_judge jd;
	static struct run_report rep;
	static char text[4096];
	struct run_opts o = { .dut = { .kind = DUT_INPROC } };
	const struct run_setup setup = { .sc = &sc, .jd = &jd };
	struct host_pty *board;
	char err[512];
	struct run *r;
	unsigned i, k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, rig_inv_scenario, cases[i].inv);
		if (scenario_judge_parse(&sc, &jd, text, strlen(text), "rig-inv.json", -1, 0, err, sizeof err) != RIG_OK)
			fail_msg("%s", err);
		assert_int_equal(run_open(&r, &setup, &o, &rep), RIG_OK);
		assert_int_equal(run_start(r), RIG_OK);
		assert_int_equal(host_loop_run(run_loop(r)), RIG_OK);
		assert_int_equal(run_finish(r), RIG_OK);
		run_free(r);
		for (k = 0; k < rep.n_cases; k++) {
			enum expect_state want = strcmp(rep.cases[k].name, "comm alarm") || cases[i].alarm
			                         ? EXPECT_PASSED : EXPECT_FAILED;

			if (rep.cases[k].state != want)
				fail_msg("%s: %s: %s", cases[i].inv, rep.cases[k].name, rep.cases[k].message);
		}
		scenario_free(&sc);
	}

	/* A DUT kind without an inverter port refuses such a scenario: a board (its BMS port and
	 * console a pty here, no relay or reset line, no banner awaited), which has none yet. */
	snprintf(text, sizeof text, rig_inv_scenario, cases[0].inv);
	assert_int_equal(scenario_judge_parse(&sc, &jd, text, strlen(text), "rig-inv.json", -1, 0, err, sizeof err), RIG_OK);
	assert_int_equal(host_pty_open(&board, NULL, 9600, err, sizeof err), RIG_OK);
	o.dut.kind = DUT_SERIAL;
	snprintf(o.dut.bms_port, sizeof o.dut.bms_port, "%s", host_pty_path(board));
	o.dut.relay_line = -1;
	o.dut.reset_line = -1;
	o.dut.banner_ms = 0;
	assert_int_not_equal(run_open(&r, &setup, &o, &rep), RIG_OK);
	assert_string_equal(rep.error, "device under test: serial has no inverter port (the scenario declares an inverter)");
	run_free(r);
	host_pty_close(board);
	scenario_free(&sc);
}

/* A `bms` array: three Daly units on one RS485 bus, read by the in-process bridge as one link
 * polling their addresses in turn, announced over Pylontech CAN: the set says three packs and
 * the sum of the load they share.
 * Then two Deye Modbus packs of different size and charge on one bus (their blocks carry the
 * capacities; a Daly's do not, and the bridge knows one design capacity per link), announced
 * over Pylontech CAN: the capacity-weighted SOC; the second unit falls silent (its own quirk,
 * `"bms": 2`) and leaves the battery once stale. */
static void rig_plays_the_inverter_of_a_bridge_on_a_bus(void **state)
{
	static struct scenario sc;
	static struct scenario_judge jd;
	static struct run_report rep;
	static const char text[] =
		"{\"bmsrig_scenario\": 1, \"name\": \"rig-inv-bus\", \"duration\": \"12s\", \"seed\": 3,"
		" \"pack\": {\"cells\": 16, \"ntc\": 2, \"soc_pct\": 60},"
		" \"bms\": [{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 2}, {\"protocol\": \"daly\", \"address\": 3}],"
		" \"dut\": {\"poll\": \"1s\", \"timeout\": \"300ms\", \"retries\": 1}, \"inverter\": {\"protocol\": \"pylontech-can\"},"
		" \"timeline\": [{\"at\": \"0s\", \"do\": \"current\", \"a\": -10}],"
		" \"expect\": ["
		"  {\"name\": \"three packs\", \"at\": \"10s\", \"that\": \"inv.online_packs == 3 and inv.ccl_ma > 0 and "
		"abs(inv.soc_pct - truth.soc_pct) <= 2 and abs(inv.pack_mv - truth.pack_mv) <= 200\"},"
		"  {\"name\": \"the packs share the load, the battery sums it\", \"at\": \"10s\", \"that\": "
		"\"abs(truth.current_ma + 3333) <= 150 and abs(inv.current_ma + 10000) <= 300\"},"
		"  {\"name\": \"fresh\", \"always\": \"inv.age_ms < 2100\", \"from\": \"5s\"}"
		" ]}";
	static const char weighted[] =
		"{\"bmsrig_scenario\": 1, \"name\": \"rig-inv-soc\", \"duration\": \"25s\", \"seed\": 4,"
		" \"pack\": {\"cells\": 16, \"ntc\": 2, \"soc_pct\": 80, \"capacity_ah\": 100},"
		" \"bms\": [{\"protocol\": \"deye-modbus\", \"address\": 1}, {\"address\": 2, \"pack\": {\"soc_pct\": 20, \"capacity_ah\": 200}}],"
		" \"dut\": {\"poll\": \"1s\", \"timeout\": \"300ms\", \"retries\": 1}, \"inverter\": {\"protocol\": \"pylontech-can\"},"
		" \"timeline\": [{\"at\": \"8s\", \"id\": \"gone\", \"do\": \"quirk\", \"bms\": 2, \"name\": \"absent\", \"value\": 1}],"
		" \"expect\": ["
		"  {\"name\": \"weighted\", \"always\": \"abs(inv.soc_pct - 40) <= 1 and inv.online_packs == 2\", \"from\": \"5s\", \"until\": \"8s\"},"
		"  {\"name\": \"the silent pack leaves\", \"within\": \"13s\", \"after\": \"gone\", \"that\": \"inv.online_packs == 1 and abs(inv.soc_pct - 80) <= 1\"}"
		" ]}";
	struct run_opts o = { .dut = { .kind = DUT_INPROC } };
	const struct run_setup setup = { .sc = &sc, .jd = &jd };
	char err[512];
	struct run *r;
	unsigned k;

	(void)state;
	if (scenario_judge_parse(&sc, &jd, text, strlen(text), "rig-inv-bus.json", -1, 0, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	assert_int_equal(sc.n_units, 3);
	if (run_open(&r, &setup, &o, &rep) != RIG_OK)
		fail_msg("%s", rep.error);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(run_loop(r)), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	for (k = 0; k < rep.n_cases; k++)
		if (rep.cases[k].state != EXPECT_PASSED)
			fail_msg("%s: %s", rep.cases[k].name, rep.cases[k].message);
	scenario_free(&sc);

	/* Two packs, 100 Ah at 80 % and 200 Ah at 20 %: the battery is at the capacity-weighted
	 * 40 %, not the plain mean 50 %. */
	if (scenario_judge_parse(&sc, &jd, weighted, strlen(weighted), "rig-inv-soc.json", -1, 0, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	if (run_open(&r, &setup, &o, &rep) != RIG_OK)
		fail_msg("%s", rep.error);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(run_loop(r)), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	for (k = 0; k < rep.n_cases; k++)
		if (rep.cases[k].state != EXPECT_PASSED)
			fail_msg("%s: %s", rep.cases[k].name, rep.cases[k].message);
	scenario_free(&sc);
}

/* A process DUT's inverter line: a pty the runner makes, named in place of {inverter_path} in
 * the command (the default bmsmon command line gets --inverter PROTO:PATH). Here the "device" is a
 * shell loop writing a Pylontech CAN set (the core codecs' slcan text) into it every 300 ms, on
 * the wall clock: the rig decodes it, inv.* read it, and the set keeps the record fresh. */
static void rig_plays_the_inverter_on_a_process_duts_pty(void **state)
{
	static struct scenario sc;
	static struct scenario_judge jd;
	static struct run_report rep;
	static char text[2048], cmd[2048];
	static const char scen[] =
		"{\"bmsrig_scenario\": 1, \"name\": \"rig-inv-host\", \"duration\": \"3s\","
		" \"bms\": {\"protocol\": \"jbd\"}, \"inverter\": {\"protocol\": \"pylontech-can\"},"
		" \"expect\": ["
		"  {\"name\": \"heard\", \"at\": \"2500ms\", \"that\": \"inv.records >= 3 and inv.cvl_mv == 55200 and "
		"inv.ccl_ma == 74000 and inv.dcl_ma == 99000 and inv.soc_pct == 63 and inv.online_packs == 2\"},"
		"  {\"name\": \"fresh\", \"always\": \"inv.age_ms < 1000\", \"from\": \"1500ms\"}"
		" ]}";
	struct run_opts o = { .realtime = 1, .dut = { .kind = DUT_HOST }, .dut_quiet = 1, .dut_grace_ms = 200,
	                      .dut_cmd = cmd };
	const struct run_setup setup = { .sc = &sc, .jd = &jd };
	struct rig_inv_battery rec;
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	char err[512];
	size_t n, k, len, one;
	struct run *r;

	(void)state;
	memset(&rec, 0, sizeof rec);
	rec.cvl_mV = 55200; rec.dvl_mV = 46400; rec.ccl_mA = 74000; rec.dcl_mA = 99000; rec.soc_pct = 63;
	rec.soh_pct = 97; rec.pack_mV = 52300; rec.module_count = 2;
	rec.request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE;
	n = rig_pylon_can_encode_set(&rec, 0, f, PYLON_CAN_SET_MAX);
	/* One open of the pty for the whole run: the pty empties its buffers at each open and
	 * close of its slave (pty.h), which a write per open would race. */
	len = (size_t)snprintf(cmd, sizeof cmd, "exec 3> {inverter_path}; sleep 0.2; while :; do printf '");
	for (k = 0; k < n; k++) {
		assert_int_equal(rig_slcan_frame_encode(&f[k], (uint8_t *)cmd + len, sizeof cmd - len - 64, &one), RIG_OK);
		len += one - 1;                            /* the frame's CR, written as printf's \r */
		len += (size_t)snprintf(cmd + len, sizeof cmd - len, "\\r");
	}
	snprintf(cmd + len, sizeof cmd - len, "' >&3; sleep 0.3; done");
	snprintf(text, sizeof text, "%s", scen);
	if (scenario_judge_parse(&sc, &jd, text, strlen(text), "rig-inv-host.json", -1, 0, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	if (run_open(&r, &setup, &o, &rep) != RIG_OK)
		fail_msg("%s", rep.error);
	if (run_start(r) != RIG_OK)
		fail_msg("%s", rep.error);
	assert_int_equal(host_loop_run(run_loop(r)), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	for (k = 0; k < rep.n_cases; k++)
		if (!strcmp(rep.cases[k].name, "heard") || !strcmp(rep.cases[k].name, "fresh"))
			if (rep.cases[k].state != EXPECT_PASSED)
				fail_msg("%s: %s", rep.cases[k].name, rep.cases[k].message);
	scenario_free(&sc);
}


/* Several BMS lines (`"line": N`): a JBD, a Daly bus of two and a JK, each line its own
 * emulator on the one loop, read by the in-process bridge as three links. Every line's frames
 * reach the trace marked with their line and decoded by their own protocol; a line fault
 * naming unit 4 (`"bms": 4`, the JK) silences that line only (one pack leaves), a forced cell
 * on unit 3 (the second Daly) reaches that unit (charging stops for all). The DUT kind that
 * reads one line (a board: its one BMS UART) refuses the scenario before anything runs. */
static void runner_routes_each_unit_to_its_line(void **state)
{
	static struct scenario sc;
	static struct scenario_judge jd;
	static struct run_report rep;
	static const char text[] =
		"{\"bmsrig_scenario\": 1, \"name\": \"lines\", \"duration\": \"40s\", \"seed\": 5,"
		" \"pack\": {\"cells\": 16, \"ntc\": 2, \"soc_pct\": 60},"
		" \"bms\": [{\"protocol\": \"jbd\"}, {\"line\": 2, \"protocol\": \"daly\", \"address\": 1},"
		"  {\"line\": 2, \"address\": 2}, {\"line\": 3, \"protocol\": \"jk\"}],"
		" \"dut\": {\"poll\": \"1s\", \"timeout\": \"300ms\", \"retries\": 1}, \"inverter\": {\"protocol\": \"pylontech-can\"},"
		" \"timeline\": [{\"at\": \"0s\", \"do\": \"current\", \"a\": -20},"
		"  {\"at\": \"10s\", \"id\": \"jk_off\", \"do\": \"no_reply\", \"bms\": 4, \"for\": \"15s\"},"
		"  {\"at\": \"30s\", \"id\": \"ov\", \"do\": \"force_cell\", \"bms\": 3, \"cell\": 2, \"mv\": 3700}],"
		" \"expect\": ["
		"  {\"name\": \"four packs\", \"at\": \"9s\", \"that\": \"inv.online_packs == 4 and inv.ccl_ma == 200000\"},"
		"  {\"name\": \"the JK line only\", \"within\": \"13s\", \"after\": \"jk_off\", \"that\": \"inv.online_packs == 3 and inv.ccl_ma == 150000\"},"
		"  {\"name\": \"never more\", \"never\": \"inv.online_packs < 3\", \"from\": \"9s\"},"
		"  {\"name\": \"back\", \"at\": \"29s\", \"that\": \"inv.online_packs == 4\"},"
		"  {\"name\": \"the Daly's cell stops charging\", \"within\": \"3s\", \"after\": \"ov\", \"that\": \"inv.ccl_ma == 0\"}"
		" ]}";
	struct run_opts o = { .dut = { .kind = DUT_INPROC } };
	const struct run_setup setup = { .sc = &sc, .jd = &jd };
	const char *protos[3] = { "\"proto\":\"jbd\"", "\"proto\":\"daly\"", "\"proto\":\"jk\"" };
	unsigned frames[4] = { 0 }, k, line;
	char err[512], rec[4096];
	struct run *r;
	FILE *trace = tmpfile();

	(void)state;
	assert_non_null(trace);
	o.trace = trace;
	if (scenario_judge_parse(&sc, &jd, text, strlen(text), "lines.json", -1, 0, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	assert_int_equal(sc.n_lines, 3);
	if (run_open(&r, &setup, &o, &rep) != RIG_OK)
		fail_msg("%s", rep.error);
	assert_int_equal(run_start(r), RIG_OK);
	assert_int_equal(host_loop_run(run_loop(r)), RIG_OK);
	assert_int_equal(run_finish(r), RIG_OK);
	run_free(r);
	for (k = 0; k < rep.n_cases; k++)
		if (rep.cases[k].state != EXPECT_PASSED)
			fail_msg("%s: %s", rep.cases[k].name, rep.cases[k].message);
	/* Each frame record of a line names it and is decoded as its protocol's. */
	rewind(trace);
	while (fgets(rec, sizeof rec, trace)) {
		const char *l = strstr(rec, "\"line\":");

		if (!strstr(rec, "\"type\":\"frame\""))
			continue;
		assert_non_null(l);
		line = (unsigned)atoi(l + 7);
		assert_true(line >= 1 && line <= 3);
		if (!strstr(rec, protos[line - 1]))
			fail_msg("line %u's frame is not %s: %.300s", line, protos[line - 1], rec);
		frames[line]++;
	}
	fclose(trace);
	assert_true(frames[1] > 20 && frames[2] > 20 && frames[3] > 20);

	/* A board reads one line: refused before it starts. */
	o.trace = NULL;
	o.dut.kind = DUT_SERIAL;
	assert_int_not_equal(run_open(&r, &setup, &o, &rep), RIG_OK);
	assert_string_equal(rep.error, "device under test: serial reads 1 BMS line, the scenario has 3 (inproc, host and qemu read 4)");
	run_free(r);
	scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_round_trips_through_the_parser),
		cmocka_unit_test(inv_object_round_trips),
		cmocka_unit_test(struct_report_equals_the_parsed_line),
		cmocka_unit_test(other_lines_and_broken_ones),
		cmocka_unit_test(verdict_agrees_within_one_unit_only),
		cmocka_unit_test(verdict_judges_only_the_parts_the_protocol_carries),
		cmocka_unit_test(verdict_summary_tells_what_the_lines_said),
		cmocka_unit_test(dut_process_lines_and_exit_status),
		cmocka_unit_test(session_judges_the_dut_by_verdict_and_exit),
		cmocka_unit_test(runner_decodes_the_wire_and_mute_dut_silences_the_dut),
		cmocka_unit_test(rig_plays_the_inverter_of_the_in_process_bridge),
		cmocka_unit_test(rig_plays_the_inverter_on_a_process_duts_pty),
		cmocka_unit_test(rig_plays_the_inverter_of_a_bridge_on_a_bus),
		cmocka_unit_test(runner_routes_each_unit_to_its_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
