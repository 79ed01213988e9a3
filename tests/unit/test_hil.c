/* The runner's side: reading telemetry lines back, judging them against truth, DUT processes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/wait.h>
#include <poll.h>
#include <cmocka.h>

#include "bmsrig/hil/hil.h"
#include "bmsrig/core/telemetry.h"

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
	struct telemetry t = { 123456, "jbd", 1, &s, 1, 0, 0 };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_round_trips_through_the_parser),
		cmocka_unit_test(other_lines_and_broken_ones),
		cmocka_unit_test(verdict_agrees_within_one_unit_only),
		cmocka_unit_test(dut_process_lines_and_exit_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
