/* `bmssim run`: every file is loaded and checked before the first one runs, so a typo in the
 * tenth file costs nothing; then each runs, is summarised, and lands in the JUnit file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsrig/lib/cli.h"
#include "bmsrig/hil/runner.h"
#include "bmssim.h"

static const char *const PROG = "bmssim run";

static void usage(FILE *f)
{
	fprintf(f,
"usage: bmssim run [options] FILE...\n"
"Plays each scenario file against a device under test and judges its expectations.\n"
"\n"
"  -d, --dut KIND        the device under test (the scenario's dut settings as its flags):\n"
"                          inproc   the firmware core in this process, on simulated time:\n"
"                                   lockstep, deterministic and fast (the default)\n"
"                          host     bmsmon as a process on a pty, on the wall clock, replies\n"
"                                   paced at the baud rate\n"
"                          qemu     the core on the ESP8266's CPU in QEMU (make lx106), on a pty\n"
"                          serial:BMS_PORT[,console=PORT][,relay=cts|dsr|dcd|ri]\n"
"                                 [,reset=dtr|rts|none][,banner=TEXT][,banner_ms=N]\n"
"                                   a real board (hil/README.md): the emulator on BMS_PORT, the\n"
"                                   telemetry from its console (default: the same port)\n"
"  -r, --realtime        the same as --dut host\n"
"      --dut-cmd CMD     host or qemu: run CMD instead, {port} replaced by the emulator's pty\n"
"  -j, --junit OUT.xml   write a JUnit report (atomically)\n"
"  -t, --trace OUT.jsonl truth, telemetry, every frame and event as JSON lines\n"
"  -s, --seed N          replace every file's seed\n"
"      --rate X          lockstep at X times real time, 0.1..1000, to watch it (default 0: as\n"
"                        fast as it goes; other DUTs run at 1)\n"
"      --viz             watch it in bmsviz (implies --control auto unless --control is given;\n"
"                        pair it with --rate to watch a lockstep run at a human pace)\n"
"      --control PATH|auto  serve the control socket (JSON lines, see README) on PATH; auto:\n"
"                        $XDG_RUNTIME_DIR/bmsrig/bmssim-PID.sock (or /tmp/bmsrig-UID/...)\n"
"  -q, --quiet           only failures and the closing line\n"
"  -v, --verbose         telemetry and frames on stderr as they happen\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 every expectation held, 1 one failed (or a run could not happen),\n"
"2 bad usage or a bad scenario file (one line: FILE:LINE:COLUMN: what was expected).\n"
"The scenario format is in scenarios/README.md.\n");
}

static void fmt_duration(double s, char *out, size_t cap)
{
	if (s >= 3600.0)
		snprintf(out, cap, "%ldh%02ldm", (long)s / 3600, (long)s % 3600 / 60);
	else if (s >= 60.0)
		snprintf(out, cap, "%ldm%02lds", (long)s / 60, (long)s % 60);
	else
		snprintf(out, cap, "%.1fs", s);
}

/* One line a scenario, then what was not met; with detail, every case with its message. */
static void summarise(const struct run_report *r, int quiet, int detail)
{
	unsigned i, ok = 0;
	int passed = run_passed(r);
	char sim[32];

	for (i = 0; i < r->n_cases; i++)
		ok += r->cases[i].state == EXPECT_PASSED;
	if (quiet && passed)
		return;
	fmt_duration(r->sim_s, sim, sizeof sim);
	if (r->error[0]) {
		printf("FAIL  %s (%s): %s\n", r->scenario, r->path, r->error);
		return;
	}
	printf("%s  %-44s %2u/%-2u  %s in %.2f s (%.0fx)\n", passed ? "PASS" : "FAIL", r->scenario, ok,
	       r->n_cases, sim, r->wall_s, r->wall_s > 0 ? r->sim_s / r->wall_s : 0.0);
	for (i = 0; i < r->n_cases; i++) {
		const struct run_case *c = &r->cases[i];
		const char *p;

		if (c->state == EXPECT_PASSED) {
			if (detail)
				printf("      met:     %s\n        %s\n", c->name, c->message);
			continue;
		}
		printf("      not met: %s\n        %s\n", c->name, c->message);
		if (!c->wire[0])
			continue;
		printf("        last frames on the wire:\n          ");
		for (p = c->wire; *p; p++)
			fputs(*p == '\n' ? "\n          " : (char[]){ *p, 0 }, stdout);
		putchar('\n');
	}
}

int runner_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "realtime", no_argument, 0, 'r' }, { "dut-cmd", required_argument, 0, 'D' },
		{ "dut", required_argument, 0, 'd' },
		{ "junit", required_argument, 0, 'j' }, { "trace", required_argument, 0, 't' },
		{ "seed", required_argument, 0, 's' }, { "quiet", no_argument, 0, 'q' },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
		{ "rate", required_argument, 0, 'R' }, { "control", required_argument, 0, 'C' },
		{ "viz", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
	};
	const char *control = NULL;
	int viz = 0;
	char path[200];
	struct run_opts o = { 0 };
	const char *junit = NULL, *trace = NULL;
	long long seed = -1;
	int c, quiet = 0, code = 0;
	unsigned n, i, passed = 0;
	struct scenario *sc;
	struct scenario_judge *jd;
	struct run_report *reps;
	char err[1024];

	optind = 1;
	(void)dut_spec_parse(&o.dut, "inproc", err, sizeof err);
	while ((c = getopt_long(argc, argv, "rd:j:t:s:qvh", lo, NULL)) != -1) {
		uint32_t v;

		switch (c) {
		case 'r': (void)dut_spec_parse(&o.dut, "host", err, sizeof err); break;
		case 'd':
			if (dut_spec_parse(&o.dut, optarg, err, sizeof err) != RIG_OK) {
				fprintf(stderr, "%s: %s\n", PROG, err);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'D': o.dut_cmd = optarg; break;
		case 'j': junit = optarg; break;
		case 't': trace = optarg; break;
		case 's':
			if (!cli_u32(PROG, "--seed", optarg, 0, 0xFFFFFFFFu, &v))
				return CLI_EXIT_USAGE;
			seed = v;
			break;
		case 'q': quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case 'C': control = optarg; break;
		case 'V': viz = 1; break;
		case 'R':
			if (!cli_double(PROG, "--rate", optarg, 0, 1000, &o.rate))
				return CLI_EXIT_USAGE;
			if (o.rate > 0 && o.rate < 0.1) {
				fprintf(stderr, "%s: --rate: expected 0 or 0.1..1000, got \"%s\"\n", PROG, optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "%s: see --help\n", PROG); return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: expected at least one scenario FILE (see --help)\n", PROG);
		return CLI_EXIT_USAGE;
	}
	if (quiet && o.verbose) {
		fprintf(stderr, "%s: -q and -v: expected at most one\n", PROG);
		return CLI_EXIT_USAGE;
	}
	o.realtime = o.dut.kind != DUT_INPROC;
	if (o.rate > 0 && o.realtime) {
		fprintf(stderr, "%s: --rate: expected lockstep (--realtime runs at 1)\n", PROG);
		return CLI_EXIT_USAGE;
	}
	if (o.dut_cmd && o.dut.kind != DUT_HOST && o.dut.kind != DUT_QEMU) {
		fprintf(stderr, "%s: --dut-cmd: expected --dut host or qemu as well (inproc runs the core "
		        "in this process, a board is on its port)\n", PROG);
		return CLI_EXIT_USAGE;
	}
	n = (unsigned)(argc - optind);
	sc = calloc(n, sizeof *sc);
	jd = calloc(n, sizeof *jd);
	reps = calloc(n, sizeof *reps);
	if (!sc || !jd || !reps) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		free(sc);
		free(jd);
		free(reps);
		return 1;
	}
	for (i = 0; i < n && !code; i++)
		if (scenario_judge_load(&sc[i], &jd[i], argv[optind + (int)i], seed, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s\n", err);
			code = CLI_EXIT_USAGE;
		}
	if (!code && trace && !(o.trace = fopen(trace, "w"))) {
		fprintf(stderr, "%s: --trace: cannot write %s: %s\n", PROG, trace, strerror(errno));
		code = CLI_EXIT_USAGE;
	}
	if (viz && !control)
		control = "auto";
	if (!code && control && ((!strcmp(control, "auto") && control_default_path(path, sizeof path, err, sizeof err) != RIG_OK) ||
	                         control_open(&o.control, strcmp(control, "auto") ? control : path, err, sizeof err) != RIG_OK)) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		code = CLI_EXIT_USAGE;
	}
	if (o.control && !quiet)
		fprintf(stderr, "bmssim: control socket %s\n", control_path(o.control));
	if (!code && viz && control_spawn_viz(o.control, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		code = CLI_EXIT_USAGE;
	}
	o.progress = !quiet && !o.verbose && isatty(STDERR_FILENO);
	for (i = 0; i < n && !code; i++) {
		(void)run_scenario(&sc[i], &jd[i], &o, &reps[i]);
		passed += run_passed(&reps[i]) ? 1u : 0u;
		summarise(&reps[i], quiet, n == 1);
		fflush(stdout);
	}
	if (!code) {
		printf("%u scenario%s: %u passed, %u failed\n", n, n == 1 ? "" : "s", passed, n - passed);
		if (passed != n)
			code = 1;
		if (junit && junit_write(junit, reps, n, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s: --junit: %s\n", PROG, err);
			code = code ? code : 1;
		}
	}
	if (o.trace && fclose(o.trace) != 0) {
		fprintf(stderr, "%s: --trace: cannot write %s: %s\n", PROG, trace, strerror(errno));
		code = code ? code : 1;
	}
	control_close(o.control);
	for (i = 0; i < n; i++)
		scenario_free(&sc[i]);
	free(sc);
	free(jd);
	free(reps);
	return code;
}
