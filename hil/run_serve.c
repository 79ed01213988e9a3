/*
 * `bmssim serve --dut CMD` (runner.h): a session rather than a scenario. The emulator is the
 * program's, served on its ports with the load the command line set; the device under test is
 * a process on the first port, driven through the same table as a scenario run's (dut.h); the
 * judge is the standing truth comparison (hil/verdict.c): every report against the truth behind
 * the replies it came from, to one unit of the protocol's resolution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bmsrig/sim/control.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/hil/hil.h"
#include "bmsrig/hil/runner.h"
#include "bmsrig/core/telemetry.h"

static const char *const PROG = "bmssim";

struct run_serve {
	struct run_serve_opts o;
	struct host_loop *loop;
	struct sim *sim;
	void *dut;
	struct verdict verdict;
	struct dut_report last;
	int dut_done;
};

static void add_truth(void *ctx, unsigned unit, const struct truth_sample *t)
{
	struct run_serve *s = ctx;

	if (unit == s->o.unit)
		verdict_add_truth(&s->verdict, t);
}

static double mean_soc_frac(const struct model *m)
{
	double sum = 0;
	unsigned i;

	for (i = 0; i < m->cfg.cells; i++)
		sum += model_cell_soc_frac(m, i);
	return m->cfg.cells ? sum / m->cfg.cells : 0;
}

/* The side-by-side table, redrawn in place on a terminal. */
static void draw_table(struct run_serve *s)
{
	const struct dut_report *d = &s->last;
	struct truth_sample t;
	unsigned i, u = s->o.unit;

	sim_truth(s->sim, u, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS, &t);
	printf("\033[H\033[J");
	printf("bmssim  %s %s  t=%.1f s   DUT reports %u, agreeing %u\n\n", sim_unit_ops(s->sim, u)->name,
	       sim_port(s->sim), t.t_ms / 1000.0, s->verdict.lines, s->verdict.agree);
	printf("               %12s %12s\n", "truth", "DUT says");
	printf("pack V         %12.4f %12.2f\n", t.pack_mV / 1000, d->pack.pack_mV / 1000.0);
	printf("current A      %12.3f %12.2f\n", t.current_mA / 1000, d->pack.current_mA / 1000.0);
	printf("SOC %%          %12.1f %12u\n", 100.0 * mean_soc_frac(sim_model(s->sim, u)), d->pack.soc_pct);
	for (i = 0; i < t.cell_count; i++)
		printf("cell %-2u V      %12.4f %12.3f\n", i + 1, t.cell_mV[i] / 1000,
		       i < d->pack.cell_count ? d->pack.cell_mV[i] / 1000.0 : 0.0);
	for (i = 0; i < t.temp_count; i++)
		printf("temp %u degC    %12.2f %12.1f\n", i + 1, (t.temp_dK[i] - PACK_DK_ZERO_C) / 10,
		       i < d->pack.temp_count ? ((int)d->pack.temp_dK[i] - (int)PACK_DK_ZERO_C) / 10.0 : 0.0);
	printf("FET chg/dsg    %12s %7u/%u\n", "", d->pack.fet_chg, d->pack.fet_dsg);
	printf("relay          %12s %12s\n", "", d->relay ? "closed" : "open");
	fflush(stdout);
}

static void on_dut_line(void *ctx, const char *line)
{
	struct run_serve *s = ctx;
	struct dut_report rep;
	char err[256], why[256];
	rig_rc rc = dut_report_parse(line, &rep, err, sizeof err);
	unsigned i;
	int v;

	if (rc == RIG_ERR_UNSUPPORTED)
		return;
	if (rc != RIG_OK) {
		fprintf(stderr, "%s: DUT: %s\n", PROG, err);
		s->verdict.disagree++;
		return;
	}
	v = verdict_check(&s->verdict, &rep, why, sizeof why);
	s->last = rep;
	control_dut(s->o.control, s->o.control_unit, line + strlen(TELEMETRY_PREFIX));
	if (s->o.quiet)
		return;
	if (s->o.tty) {
		draw_table(s);
		return;
	}
	printf("dut %6u ms: %s pack %u mV %d mA soc %u%% cells", rep.ms, rep.ok ? "ok  " : "FAIL",
	       rep.pack.pack_mV, rep.pack.current_mA, rep.pack.soc_pct);
	for (i = 0; i < rep.pack.cell_count; i++)
		printf("%s%u", i ? "," : " ", rep.pack.cell_mV[i]);
	printf(" fet %u/%u prot 0x%x relay %d -> %s%s%s\n", rep.pack.fet_chg, rep.pack.fet_dsg,
	       rep.pack.prot, rep.relay, v == 1 ? "agrees" : v == 0 ? "DISAGREES" : "no data",
	       v == 1 ? "" : ": ", v == 1 ? "" : why);
	fflush(stdout);
}

/* The DUT's output ended: so does the session. */
static void on_dut_gone(void *ctx)
{
	struct run_serve *s = ctx;

	s->dut_done = 1;
	host_loop_stop(s->loop);
}

rig_rc run_serve_start(struct run_serve **out, struct host_loop *loop, struct sim *sim,
                       const struct run_serve_opts *o, char *err, size_t errcap)
{
	struct run_serve *s = calloc(1, sizeof *s);
	struct resolution tol;
	struct dut_env env;

	*out = s;
	if (!s) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	s->o = *o;
	s->loop = loop;
	s->sim = sim;
	tol = sim_unit_ops(sim, o->unit)->resolution;
	/* A current inside the BMS's dead band reads 0 on the wire: as close as a DUT can get. */
	tol.current_mA += sim_bms(sim, o->unit)->sensor.current_deadband_mA;
	verdict_init(&s->verdict, &tol);
	sim_on_truth(sim, add_truth, s);
	env = (struct dut_env){ .cmd = o->cmd, .ctx = s, .line = on_dut_line, .gone = on_dut_gone,
	                        .quiet_stderr = o->quiet, .grace_ms = 2000 };
	if (dut_host_ops.open(&s->dut, &env, err, errcap) != RIG_OK)
		return RIG_ERR_SPACE;
	if (dut_host_ops.start(s->dut, loop, sim, err, errcap) != RIG_OK) {
		if (!err[0])
			snprintf(err, errcap, "event loop: out of memory");
		return RIG_ERR_IO;
	}
	return RIG_OK;
}

int run_serve_finish(struct run_serve *s)
{
	char line[512];
	int status, code = 0;

	if (!s)
		return 0;
	dut_host_ops.stop(s->dut);
	status = dut_process_status(s->dut);
	verdict_summary(&s->verdict, line, sizeof line);
	printf("%sverdict: %s\n", s->o.tty && !s->o.quiet ? "\n" : "", line);
	if (s->verdict.first_problem[0])
		printf("first problem: %s\n", s->verdict.first_problem);
	if (s->dut_done && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		printf("the device under test exited with status %d\n", WEXITSTATUS(status));
	if (!verdict_passed(&s->verdict) || (s->dut_done && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)))
		code = 1;
	run_serve_free(s);
	return code;
}

void run_serve_free(struct run_serve *s)
{
	if (!s)
		return;
	if (s->dut)
		dut_host_ops.free(s->dut);
	free(s);
}
