/* bmssim: the BMS emulator. `bmssim serve` runs one emulated BMS on a pty (or a real serial
 * port); with --dut it also runs a device under test against it and judges what it reports
 * against the model's truth. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "bmsrig/bms.h"
#include "bmsrig/cli.h"
#include "bmsrig/hil.h"
#include "bmsrig/jbd_json.h"
#include "bmsrig/serial.h"
#include "bmsrig/sim.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1.0"
#endif

static const char *const PROG = "bmssim";
static struct rig_loop *g_loop;   /* for the signal handler only */

struct opts {
	struct sim_cfg sim;
	const char *dut;
	uint32_t duration_s;
	int verbose, quiet;
};

struct run {
	struct opts *o;
	struct sim *sim;
	struct dut_proc *dut;
	struct verdict verdict;
	int tty;
	int dut_done;
	uint32_t last_draw_ms;
	struct dut_report last;
	int have_last;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bmssim serve [options]\n"
"Emulates a smart BMS (pack model, BMS logic, protocol) on a pseudo-terminal or a serial port.\n"
"Prints the port it serves on stdout, then serves until stopped.\n"
"\n"
"BMS and pack\n"
"  -b, --bms NAME            protocol personality: jbd (default jbd)\n"
"  -c, --cells N             cells in series, 1..32 (default 4)\n"
"  -C, --chem NAME           lfp or nmc (default lfp)\n"
"  -a, --capacity-ah X       capacity in Ah, 0.1..10000 (default 100)\n"
"  -s, --soc-pct X           initial state of charge, 0..100 (default 80)\n"
"  -I, --current-a X         load current in A, + charging, - discharging, |X| <= 327\n"
"                            (the JBD current field's range; default 0)\n"
"  -T, --temp-c X            ambient temperature in degC, -40..80 (default 25)\n"
"  -n, --ntc N               temperature probes, 1..8 (default 2)\n"
"      --seed N              seed for the cell-to-cell spread (default 1)\n"
"      --state FILE          settings persist here on exit-and-save (0x01 28 28) and are\n"
"                            loaded at start when the file exists\n"
"Transport\n"
"  -l, --link PATH           publish the pty as this symlink (e.g. /tmp/bmsrig/jbd0)\n"
"  -p, --port PATH           serve on a real serial port instead of a pty\n"
"      --baud N              line speed (default 9600)\n"
"Quirks\n"
"      --latency-ms N        reply latency, 0..5000 (default 40)\n"
"      --drop-after-idle-ms N  drop the first request after N ms of silence, as a sleeping\n"
"                            board does (default 0 = off)\n"
"      --no-factory-gate     answer settings reads outside factory mode (old firmware)\n"
"      --basic-ext           0x03 carries the 9-byte extension of V8+ firmware\n"
"Device under test\n"
"      --dut CMD             run CMD (with {port} replaced by the port) and judge the\n"
"                            telemetry lines it prints against the model's truth\n"
"      --duration-s N        stop after N seconds (default 0 = until stopped; 10 with --dut)\n"
"Output\n"
"  -v, --verbose             log every frame, decoded, on stderr\n"
"  -q, --quiet               nothing but errors and the verdict\n"
"  -h, --help                this text\n"
"      --version             the version\n"
"\n"
"Exit status: 0 served until stopped / the DUT agreed with the truth, 1 the DUT disagreed or\n"
"failed, 2 bad usage, a bad state file or a port that cannot be opened.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SEED = 256, O_STATE, O_BAUD, O_LATENCY, O_DROP, O_NOGATE, O_EXT, O_DUT, O_DURATION,
	       O_VERSION };
	static const struct option lo[] = {
		{ "bms", required_argument, 0, 'b' }, { "cells", required_argument, 0, 'c' },
		{ "chem", required_argument, 0, 'C' }, { "capacity-ah", required_argument, 0, 'a' },
		{ "soc-pct", required_argument, 0, 's' }, { "current-a", required_argument, 0, 'I' },
		{ "temp-c", required_argument, 0, 'T' }, { "ntc", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, O_SEED }, { "state", required_argument, 0, O_STATE },
		{ "link", required_argument, 0, 'l' }, { "port", required_argument, 0, 'p' },
		{ "baud", required_argument, 0, O_BAUD }, { "latency-ms", required_argument, 0, O_LATENCY },
		{ "drop-after-idle-ms", required_argument, 0, O_DROP },
		{ "no-factory-gate", no_argument, 0, O_NOGATE }, { "basic-ext", no_argument, 0, O_EXT },
		{ "dut", required_argument, 0, O_DUT }, { "duration-s", required_argument, 0, O_DURATION },
		{ "verbose", no_argument, 0, 'v' }, { "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, O_VERSION },
		{ 0, 0, 0, 0 }
	};
	static const char *const protos[] = { "jbd", NULL };
	static const char *const chems[] = { "lfp", "nmc", NULL };
	struct model_cfg *m = &o->sim.model;
	uint32_t u;
	int c, w, duration_set = 0;

	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(stdout);
			exit(0);
		}
		if (argc >= 2 && !strcmp(argv[1], "--version")) {
			printf("bmssim %s\n", BMSRIG_VERSION);
			exit(0);
		}
		fprintf(stderr, "%s: expected a command: serve (see --help)\n", PROG);
		return 0;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "b:c:C:a:s:I:T:n:l:p:vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'b': if (!cli_word(PROG, "--bms", optarg, protos, &w)) return 0; break;
		case 'c': if (!cli_u32(PROG, "--cells", optarg, 1, 32, &u)) return 0; m->cells = (uint8_t)u; break;
		case 'C': if (!cli_word(PROG, "--chem", optarg, chems, &w)) return 0; m->chem = (enum model_chem)w; break;
		case 'a': if (!cli_double(PROG, "--capacity-ah", optarg, 0.1, 10000, &m->capacity_Ah)) return 0; break;
		case 's': if (!cli_double(PROG, "--soc-pct", optarg, 0, 100, &m->soc_pct)) return 0; break;
		case 'I': if (!cli_double(PROG, "--current-a", optarg, -327, 327, &o->sim.current_A)) return 0; break;
		case 'T': if (!cli_double(PROG, "--temp-c", optarg, -40, 80, &m->ambient_C)) return 0; break;
		case 'n': if (!cli_u32(PROG, "--ntc", optarg, 1, 8, &u)) return 0; m->ntc_count = (uint8_t)u; break;
		case O_SEED: if (!cli_u32(PROG, "--seed", optarg, 0, UINT32_MAX, &m->seed)) return 0; break;
		case O_STATE: o->sim.state_path = optarg; break;
		case 'l': o->sim.link_path = optarg; break;
		case 'p': o->sim.serial_path = optarg; break;
		case O_BAUD:
			if (!cli_u32(PROG, "--baud", optarg, 50, 4000000, &u)) return 0;
			if (!rig_serial_baud_ok(u)) {
				fprintf(stderr, "%s: --baud: expected a standard rate such as 9600, got \"%s\"\n", PROG, optarg);
				return 0;
			}
			o->sim.baud = u;
			break;
		case O_LATENCY: if (!cli_u32(PROG, "--latency-ms", optarg, 0, 5000, &o->sim.quirks.reply_latency_ms)) return 0; break;
		case O_DROP: if (!cli_u32(PROG, "--drop-after-idle-ms", optarg, 0, 86400000, &o->sim.quirks.drop_first_after_idle_ms)) return 0; break;
		case O_NOGATE: o->sim.quirks.eeprom_needs_factory = 0; break;
		case O_EXT: o->sim.quirks.basic_extension = 1; break;
		case O_DUT: o->dut = optarg; break;
		case O_DURATION: if (!cli_u32(PROG, "--duration-s", optarg, 0, 31536000, &o->duration_s)) return 0; duration_set = 1; break;
		case 'v': o->verbose = 1; break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(stdout); exit(0);
		case O_VERSION: printf("bmssim %s\n", BMSRIG_VERSION); exit(0);
		default: fprintf(stderr, "%s: see --help\n", PROG); return 0;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n", PROG, argv[optind]);
		return 0;
	}
	if (o->sim.link_path && o->sim.serial_path) {
		fprintf(stderr, "%s: --link and --port: expected one transport, got both\n", PROG);
		return 0;
	}
	if (o->verbose && o->quiet) {
		fprintf(stderr, "%s: -v and -q: expected at most one\n", PROG);
		return 0;
	}
	if (o->dut && !duration_set)
		o->duration_s = 10;
	return 1;
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_loop)
		rig_loop_stop(g_loop);
}

static void log_frame(void *ctx, enum sim_dir dir, const struct jbd_frame *f)
{
	cJSON *j = jbd_frame_json(f);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;

	(void)ctx;
	if (s)
		fprintf(stderr, "%s: %s %s\n", PROG, dir == SIM_RX ? "rx" : "tx", s);
	free(s);
	cJSON_Delete(j);
}

static void add_truth(void *ctx, const struct truth_sample *t)
{
	struct run *r = ctx;

	verdict_add_truth(&r->verdict, t);
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
static void draw_table(struct run *r)
{
	const struct dut_report *d = &r->last;
	struct truth_sample tp, tc;
	unsigned i;

	sim_truth(r->sim, TRUTH_PACK, &tp);
	sim_truth(r->sim, TRUTH_CELLS, &tc);
	printf("\033[H\033[J");
	printf("bmssim  %s  t=%.1f s   DUT reports %u, agreeing %u\n\n", sim_port(r->sim),
	       tp.t_ms / 1000.0, r->verdict.lines, r->verdict.agree);
	printf("               %12s %12s\n", "truth", "DUT says");
	printf("pack V         %12.4f %12.2f\n", tp.pack_mV / 1000, d->pack.pack_mV / 1000.0);
	printf("current A      %12.3f %12.2f\n", tp.current_mA / 1000, d->pack.current_mA / 1000.0);
	printf("SOC %%          %12.1f %12u\n", 100.0 * mean_soc_frac(sim_model(r->sim)), d->pack.soc_pct);
	for (i = 0; i < tc.cell_count; i++)
		printf("cell %-2u V      %12.4f %12.3f\n", i + 1, tc.cell_mV[i] / 1000,
		       i < d->pack.cell_count ? d->pack.cell_mV[i] / 1000.0 : 0.0);
	for (i = 0; i < tp.temp_count; i++)
		printf("temp %u degC    %12.2f %12.1f\n", i + 1, (tp.temp_dK[i] - PACK_DK_ZERO_C) / 10,
		       i < d->pack.temp_count ? ((int)d->pack.temp_dK[i] - (int)PACK_DK_ZERO_C) / 10.0 : 0.0);
	printf("FET chg/dsg    %12s %7u/%u\n", "", d->pack.fet_chg, d->pack.fet_dsg);
	printf("relay          %12s %12s\n", "", d->relay ? "closed" : "open");
	fflush(stdout);
}

static void on_dut_line(void *ctx, const char *line)
{
	struct run *r = ctx;
	struct dut_report rep;
	char err[256], why[256];
	rig_rc rc = dut_report_parse(line, &rep, err, sizeof err);
	int v;

	if (rc == RIG_ERR_UNSUPPORTED)
		return;
	if (rc != RIG_OK) {
		fprintf(stderr, "%s: DUT: %s\n", PROG, err);
		r->verdict.disagree++;
		return;
	}
	v = verdict_check(&r->verdict, &rep, why, sizeof why);
	r->last = rep;
	r->have_last = 1;
	if (r->o->quiet)
		return;
	if (r->tty) {
		draw_table(r);
	} else {
		printf("dut %6u ms: %s pack %u mV %d mA soc %u%% cells", rep.ms, rep.ok ? "ok  " : "FAIL",
		       rep.pack.pack_mV, rep.pack.current_mA, rep.pack.soc_pct);
		for (unsigned i = 0; i < rep.pack.cell_count; i++)
			printf("%s%u", i ? "," : " ", rep.pack.cell_mV[i]);
		printf(" fet %u/%u prot 0x%x relay %d -> %s%s%s\n", rep.pack.fet_chg, rep.pack.fet_dsg,
		       rep.pack.prot, rep.relay, v == 1 ? "agrees" : "DISAGREES",
		       v == 1 ? "" : ": ", v == 1 ? "" : why);
		fflush(stdout);
	}
}

static void on_dut_readable(struct rig_loop *loop, int fd, void *ctx)
{
	struct run *r = ctx;

	if (dut_proc_pump(r->dut, on_dut_line, r)) {
		rig_loop_del_fd(loop, fd);
		r->dut_done = 1;
		rig_loop_stop(loop);
	}
}

static int on_duration(struct rig_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	rig_loop_stop(loop);
	return 0;
}

int main(int argc, char **argv)
{
	static struct opts o;
	static struct run r;
	struct sigaction sa;
	char err[512];
	int status = 0, code = 0;

	model_cfg_defaults(&o.sim.model);
	o.sim.model.cells = 4;
	o.sim.model.capacity_Ah = 100;
	o.sim.model.soc_pct = 80;
	o.sim.model.ntc_count = 2;
	o.sim.model.seed = 1;
	jbd_quirks_defaults(&o.sim.quirks);
	o.sim.baud = 9600;
	if (!parse_args(argc, argv, &o))
		return CLI_EXIT_USAGE;

	g_loop = rig_loop_new();
	if (!g_loop) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	if (sim_open(&r.sim, g_loop, &o.sim, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rig_loop_free(g_loop);
		return CLI_EXIT_USAGE;
	}
	r.o = &o;
	if (o.verbose)
		sim_on_frame(r.sim, log_frame, &r);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!o.quiet) {
		printf("%s: serving jbd on %s%s%s%s: %uS %s %.1f Ah, SOC %.0f %%, %+.1f A, %u NTC\n", PROG,
		       sim_port(r.sim), o.sim.link_path ? " (link " : "", o.sim.link_path ? o.sim.link_path : "",
		       o.sim.link_path ? ")" : "", o.sim.model.cells, o.sim.model.chem == MODEL_CHEM_NMC ? "NMC" : "LFP",
		       o.sim.model.capacity_Ah, o.sim.model.soc_pct, o.sim.current_A, o.sim.model.ntc_count);
		fflush(stdout);
	}
	if (o.dut) {
		const struct verdict_tol tol = VERDICT_TOL_JBD;

		verdict_init(&r.verdict, &tol);
		sim_on_truth(r.sim, add_truth, &r);
		r.tty = isatty(STDOUT_FILENO);
		if (dut_proc_start(&r.dut, o.dut, sim_port(r.sim), o.quiet, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			sim_close(r.sim);
			rig_loop_free(g_loop);
			return CLI_EXIT_USAGE;
		}
		rig_loop_add_fd(g_loop, dut_proc_fd(r.dut), on_dut_readable, &r);
	}
	if (o.duration_s)
		rig_loop_add_timer(g_loop, o.duration_s * 1000u, on_duration, &r);
	if (rig_loop_run(g_loop) != RIG_OK) {
		fprintf(stderr, "%s: event loop failed\n", PROG);
		code = 1;
	}
	if (r.dut) {
		char line[512];

		status = dut_proc_stop(r.dut, 2000);
		dut_proc_free(r.dut);
		verdict_summary(&r.verdict, line, sizeof line);
		printf("%sverdict: %s\n", r.tty && !o.quiet ? "\n" : "", line);
		if (r.verdict.first_problem[0])
			printf("first problem: %s\n", r.verdict.first_problem);
		if (r.dut_done && WIFEXITED(status) && WEXITSTATUS(status) != 0)
			printf("the device under test exited with status %d\n", WEXITSTATUS(status));
		if (!verdict_passed(&r.verdict) || (r.dut_done && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)))
			code = 1;
	}
	sim_close(r.sim);
	rig_loop_free(g_loop);
	return code;
}
