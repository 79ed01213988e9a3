/* bmssim: the BMS emulator. `bmssim serve` runs emulated BMS on pseudo-terminals or serial
 * ports, one or many, alone or several on one RS485 bus; with --dut it also runs a device under
 * test against the first: a session of the runner (runner.h), whose judge holds each report to
 * the model's truth. `run`
 * and `replay` are tools/bmssim_run.c and tools/bmssim_replay.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/lib/capture.h"
#include "bmsrig/lib/cli.h"
#include "bmsrig/sim/control.h"
#include "bmsrig/sim/replay.h"
#include "bmsrig/hil/runner.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/timeline.h"
#include "bmssim.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1.0"
#endif

static const char *const PROG = "bmssim";
static struct host_loop *g_loop;   /* for the signal handler only */

struct opts {
	struct bms_spec tmpl;
	const char *bms_text[SPEC_MAX];
	unsigned n_bms_text;
	const char *config;
	const char *dut;
	const char *control;             /* PATH or "auto"; NULL: no control socket */
	const char *capture;             /* --capture FILE; NULL: none */
	int viz;                         /* start bmsviz on it (and the socket, "auto", if none) */
	uint32_t duration_s, dut_unit;
	int verbose, quiet;
	int pace;                        /* --pace */
};

/* One BMS as the control socket sees it. Its timeline (over an empty scenario of its pack,
 * ~400 KB) is made with its first event: a serve of 256 BMS pays for those it is sent. */
struct serve_unit {
	struct sim *sim;
	unsigned index;                  /* in sim */
	const struct sim_unit_cfg *cfg;
	const struct link_cfg *link;
	double base_A;                   /* served until a load event comes in */
	struct scenario *sc;
	struct timeline *tl;
};

struct port {
	struct run *r;
	unsigned sim;
};

struct run {
	struct opts *o;
	struct sim **sims;
	unsigned n_sims;
	struct port *ports;
	unsigned *unit0;                 /* per sim: the control socket's number of its first BMS */
	struct control *ctl;
	struct serve_unit *units;
	unsigned n_units;
	struct run *dut;                 /* --dut: the runner's session on these ports (runner.h) */
	struct run_opts dut_opts;
	struct run_report dut_rep;
	struct host_capture_out cap;     /* --capture: every frame of every port */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bmssim serve [options]\n"
"       bmssim run [options] FILE...   (scenarios: see bmssim run --help)\n"
"       bmssim replay [options] TRACE  (a recorded run: see bmssim replay --help)\n"
"Emulates smart BMS (pack model, BMS logic, protocol) on pseudo-terminals or serial ports.\n"
"Prints the port each one serves on stdout, then serves until stopped.\n"
"\n"
"What to emulate (these flags are the defaults of every BMS)\n"
"  -b, --bms KIND[,key=value...]  a BMS: jbd, jbd-ble, daly, daly-ble, jk, jk-ble, jk-pb (RS485\n"
"                            Modbus), byd (BYD PRO 2.5 on RS485, 16 cells at most, address 1\n"
"                            unless --address); thornwave or thornwave-x (a battery monitor over\n"
"                            Bluetooth); or the battery an inverter polls: deye-modbus,\n"
"                            pylontech-rs485; repeat it for more.\n"
"                            Keys: cells, chem, capacity_ah, soc_pct, current_a, temp_c, ntc, seed,\n"
"                            address, state, link, port, baud, quirk.NAME, ble.NAME.\n"
"                            BMS with the same link or port share it: an RS485 bus.\n"
"      --config FILE         the BMS from a JSON file: {\"bms\": [{\"kind\": \"daly\", ...}, ...]}\n"
"  -c, --cells N             cells in series, 1..32 (default 4)\n"
"  -C, --chem NAME           lfp or nmc (default lfp)\n"
"  -a, --capacity-ah X       capacity in Ah, 0.1..10000 (default 100)\n"
"  -s, --soc-pct X           initial state of charge, 0..100 (default 80)\n"
"  -I, --current-a X         load current in A, + charging, - discharging, |X| <= 327 (default 0)\n"
"  -T, --temp-c X            ambient temperature in degC, -40..80 (default 25)\n"
"  -n, --ntc N               temperature probes, 1..8 (default 2)\n"
"      --seed N              seed for the cell-to-cell spread (default 1)\n"
"      --state FILE          settings persist here on exit-and-save and load at start\n"
"      --address N           address on an RS485 bus (default: the protocol's)\n"
"Transport\n"
"  -l, --link PATH           publish the pty as this symlink (e.g. /tmp/bmsrig/jbd0);\n"
"                            or tcp:[ADDR:]PORT: serve on a TCP listener (127.0.0.1 by default);\n"
"                            socketcand:[ADDR:]PORT: a socketcand rawmode server (bus can0);\n"
"                            socketcan:IFACE: a Linux CAN interface (CAN personalities)\n"
"  -p, --port PATH           serve on a real serial port instead of a pty\n"
"      --baud N              line speed (default: the protocol's own)\n"
"      --pace                a wired line takes its time: each reply is written once its last\n"
"                            byte would have crossed at the baud rate (10 bits a byte), behind\n"
"                            the request's own crossing over a pty or TCP (default: at once)\n"
"      --ble NAME=VALUE      Bluetooth link model: chunk_bytes, interval_ms, connect_ms,\n"
"                            drop_first, disconnect_after_ms, disconnects_per_h, stuck_ms,\n"
"                            notify_loss_pct, queue_ms, seed, password, mac (a JBD module's\n"
"                            FF AA password)\n"
"Quirks\n"
"      --quirk NAME=VALUE    a protocol quirk, e.g. latency_ms=60 (see README for each protocol)\n"
"      --latency-ms N        reply latency (= --quirk latency_ms=N)\n"
"      --drop-after-idle-ms N  JBD: drop the first request after N ms of silence\n"
"      --no-factory-gate     JBD: answer settings reads outside factory mode (old firmware)\n"
"      --basic-ext           JBD: 0x03 carries the 9-byte extension of V8+ firmware\n"
"Device under test\n"
"      --dut CMD             run CMD (with {port} replaced by the first port) and judge the\n"
"                            telemetry lines it prints against the model's truth\n"
"      --dut-unit N          which BMS on that port it reads (default 0, the first)\n"
"      --duration-s N        stop after N seconds (default 0 = until stopped; 10 with --dut)\n"
"Control\n"
"      --control PATH|auto   serve the control socket (JSON lines, see README) on PATH; auto:\n"
"                            $XDG_RUNTIME_DIR/bmsrig/bmssim-PID.sock (or /tmp/bmsrig-UID/...)\n"
"      --viz                 watch it in bmsviz (--control auto unless --control is given)\n"
"Output\n"
"      --capture FILE        log every frame both ways, time-stamped, with its decoded JSON\n"
"                            (docs/capture.md); written whole when serving ends; - : stdout,\n"
"                            line by line (with -q, so that the banner is not in it)\n"
"  -v, --verbose             log every frame, decoded, on stderr\n"
"  -q, --quiet               nothing but errors and the verdict\n"
"  -h, --help                this text\n"
"      --version             the version\n"
"\n"
"Exit status: 0 served until stopped / the DUT agreed with the truth, 1 the DUT disagreed or\n"
"failed, 2 bad usage, a bad config or state file, or a port that cannot be opened.\n");
}

/* A flag that is a spec key: its value goes through the same table as --bms and --config. */
static int set_tmpl(struct opts *o, const char *flag, const char *key, const char *value)
{
	char why[256];

	if (spec_set(&o->tmpl, key, value, why, sizeof why) == RIG_OK)
		return 1;
	fprintf(stderr, "%s: %s: %s\n", PROG, flag, why);
	return 0;
}

/* NAME=VALUE flags into prefixed spec keys ("quirk.latency_ms"). */
static int set_named(struct opts *o, const char *flag, const char *prefix, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[128];

	if (!eq || eq == arg || (size_t)(eq - arg) + strlen(prefix) >= sizeof key) {
		fprintf(stderr, "%s: %s: expected NAME=VALUE, got \"%s\"\n", PROG, flag, arg);
		return 0;
	}
	snprintf(key, sizeof key, "%s%.*s", prefix, (int)(eq - arg), arg);
	return set_tmpl(o, flag, key, eq + 1);
}

/* --ble NAME=VALUE: the Bluetooth link of every Bluetooth kind (UART kinds ignore it). */
static int set_ble(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[64], why[256];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof key) {
		fprintf(stderr, "%s: --ble: expected NAME=VALUE, got \"%s\"\n", PROG, arg);
		return 0;
	}
	snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
	if (link_set(&o->tmpl.link, key, eq + 1, why, sizeof why) != RIG_OK) {
		fprintf(stderr, "%s: --ble: %s\n", PROG, why);
		return 0;
	}
	return 1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SEED = 256, O_STATE, O_BAUD, O_LATENCY, O_DROP, O_NOGATE, O_EXT, O_DUT, O_DURATION,
	       O_VERSION, O_CONFIG, O_ADDRESS, O_QUIRK, O_BLE, O_DUT_UNIT, O_CONTROL, O_VIZ, O_PACE,
	       O_CAPTURE };
	static const struct option lo[] = {
		{ "bms", required_argument, 0, 'b' }, { "cells", required_argument, 0, 'c' },
		{ "chem", required_argument, 0, 'C' }, { "capacity-ah", required_argument, 0, 'a' },
		{ "soc-pct", required_argument, 0, 's' }, { "current-a", required_argument, 0, 'I' },
		{ "temp-c", required_argument, 0, 'T' }, { "ntc", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, O_SEED }, { "state", required_argument, 0, O_STATE },
		{ "address", required_argument, 0, O_ADDRESS }, { "config", required_argument, 0, O_CONFIG },
		{ "link", required_argument, 0, 'l' }, { "port", required_argument, 0, 'p' },
		{ "baud", required_argument, 0, O_BAUD }, { "latency-ms", required_argument, 0, O_LATENCY },
		{ "drop-after-idle-ms", required_argument, 0, O_DROP },
		{ "no-factory-gate", no_argument, 0, O_NOGATE }, { "basic-ext", no_argument, 0, O_EXT },
		{ "quirk", required_argument, 0, O_QUIRK }, { "ble", required_argument, 0, O_BLE },
		{ "dut", required_argument, 0, O_DUT }, { "dut-unit", required_argument, 0, O_DUT_UNIT },
		{ "duration-s", required_argument, 0, O_DURATION }, { "control", required_argument, 0, O_CONTROL },
		{ "viz", no_argument, 0, O_VIZ }, { "pace", no_argument, 0, O_PACE },
		{ "capture", required_argument, 0, O_CAPTURE },
		{ "verbose", no_argument, 0, 'v' }, { "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, O_VERSION },
		{ 0, 0, 0, 0 }
	};
	/* Flags that are plain spec keys. */
	static const struct { int opt; const char *flag, *key; } plain[] = {
		{ 'c', "--cells", "cells" }, { 'C', "--chem", "chem" }, { 'a', "--capacity-ah", "capacity_ah" },
		{ 's', "--soc-pct", "soc_pct" }, { 'I', "--current-a", "current_a" }, { 'T', "--temp-c", "temp_c" },
		{ 'n', "--ntc", "ntc" }, { O_SEED, "--seed", "seed" }, { O_STATE, "--state", "state" },
		{ O_ADDRESS, "--address", "address" }, { 'l', "--link", "link" }, { 'p', "--port", "port" },
		{ O_BAUD, "--baud", "baud" }, { O_LATENCY, "--latency-ms", "quirk.latency_ms" },
		{ O_DROP, "--drop-after-idle-ms", "quirk.drop_after_idle_ms" },
	};
	int c, duration_set = 0;
	size_t i;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		exit(0);
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("bmssim %s\n", BMSRIG_VERSION);
		exit(0);
	}
	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		fprintf(stderr, "%s: expected a command: serve, run or replay (see --help)\n", PROG);
		return 0;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "b:c:C:a:s:I:T:n:l:p:vqh", lo, NULL)) != -1) {
		for (i = 0; i < sizeof plain / sizeof plain[0] && plain[i].opt != c; i++)
			;
		if (i < sizeof plain / sizeof plain[0]) {
			if (!set_tmpl(o, plain[i].flag, plain[i].key, optarg))
				return 0;
			continue;
		}
		switch (c) {
		case 'b':
			if (o->n_bms_text >= SPEC_MAX) {
				fprintf(stderr, "%s: --bms: expected at most %u\n", PROG, SPEC_MAX);
				return 0;
			}
			o->bms_text[o->n_bms_text++] = optarg;
			break;
		case O_CONFIG: o->config = optarg; break;
		case O_NOGATE: if (!set_tmpl(o, "--no-factory-gate", "quirk.factory_gate", "0")) return 0; break;
		case O_EXT: if (!set_tmpl(o, "--basic-ext", "quirk.basic_ext", "1")) return 0; break;
		case O_QUIRK: if (!set_named(o, "--quirk", "quirk.", optarg)) return 0; break;
		case O_BLE: if (!set_ble(o, optarg)) return 0; break;
		case O_DUT: o->dut = optarg; break;
		case O_CONTROL: o->control = optarg; break;
		case O_VIZ: o->viz = 1; break;
		case O_PACE: o->pace = 1; break;
		case O_CAPTURE: o->capture = optarg; break;
		case O_DUT_UNIT: if (!cli_u32(PROG, "--dut-unit", optarg, 0, SPEC_MAX - 1, &o->dut_unit)) return 0; break;
		case O_DURATION:
			if (!cli_u32(PROG, "--duration-s", optarg, 0, 31536000, &o->duration_s))
				return 0;
			duration_set = 1;
			break;
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
	if (o->verbose && o->quiet) {
		fprintf(stderr, "%s: -v and -q: expected at most one\n", PROG);
		return 0;
	}
	if (o->config && o->n_bms_text) {
		fprintf(stderr, "%s: --config and --bms: expected one way to name the BMS, got both\n", PROG);
		return 0;
	}
	if (o->viz && !o->control)
		o->control = "auto";
	if (o->dut && !duration_set)
		o->duration_s = 10;
	return 1;
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_loop)
		host_loop_stop(g_loop);
}

/* Each frame: decoded on stderr with -v, into the capture, and to the control socket's
 * subscribers. */
static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	const struct port *p = ctx;
	struct sim *s = p->r->sims[p->sim];
	cJSON *j;
	char *text;

	control_frame(p->r->ctl, p->r->unit0[p->sim] + unit, dir, wire, n);
	if (!p->r->o->verbose && !p->r->o->capture)
		return;
	j = sim_unit_ops(s, unit)->wire_json(wire, n);
	text = j ? cJSON_PrintUnformatted(j) : NULL;
	if (p->r->o->capture)
		host_capture_write(&p->r->cap, host_capture_now_us(), dir == PERS_RX ? HOST_CAPTURE_RX : HOST_CAPTURE_TX,
		                   sim_unit_ops(s, unit)->name, wire, n, text);
	if (text && p->r->o->verbose)
		fprintf(stderr, "%s: %s #%u %s %s\n", PROG, sim_port(s), unit, dir == PERS_RX ? "rx" : "tx", text);
	free(text);
	cJSON_Delete(j);
}

/* -v: what the link model lost, one line a frame (a client's write, on the way in). */
static void on_drop(void *ctx, unsigned unit, enum personality_dir dir, size_t n, const char *why)
{
	const struct port *p = ctx;

	if (p->r->o->verbose)
		fprintf(stderr, "%s: %s #%u link: dropped %zu bytes%s (%s)\n", PROG, sim_port(p->r->sims[p->sim]), unit,
		        n, dir == PERS_RX ? " from the client" : "", why);
}

/* ---- the control socket ------------------------------------------------------------------- */

static void serve_where(void *ctx, unsigned u, struct sim **sim, unsigned *index)
{
	const struct serve_unit *su = &((struct run *)ctx)->units[u];

	*sim = su->sim;
	*index = su->index;
}

static struct timeline *serve_timeline(void *ctx, unsigned u)
{
	struct serve_unit *su = &((struct run *)ctx)->units[u];

	if (su->tl)
		return su->tl;
	su->sc = malloc(sizeof *su->sc);
	su->tl = malloc(sizeof *su->tl);
	if (!su->sc || !su->tl || scenario_for_unit(su->sc, su->cfg, su->link) != RIG_OK) {
		free(su->sc);
		free(su->tl);
		su->sc = NULL;
		su->tl = NULL;
		return NULL;
	}
	timeline_init(su->tl, su->sc, su->sim);
	timeline_set_unit(su->tl, su->index);
	return su->tl;
}

/* The served current stays unless an event asked for a load (or a short is on). */
static void serve_load(struct serve_unit *su)
{
	uint32_t now = host_loop_now_ms(g_loop);
	double load = timeline_has_load(su->tl) ?
	              timeline_load_A(su->tl, now, model_pack_V(sim_model(su->sim, su->index))) : su->base_A;
	double short_A = timeline_short_A(su->tl);

	sim_set_current(su->sim, su->index, short_A != 0.0 ? short_A : load);
}

static void serve_injected(void *ctx, unsigned u)
{
	serve_load(&((struct run *)ctx)->units[u]);
}

/* What bmssim run's engine does each step, for the units that were sent events. */
static int serve_engine(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct run *r = ctx;
	unsigned u, none[1];

	(void)id;
	for (u = 0; u < r->n_units; u++)
		if (r->units[u].tl) {
			timeline_step(r->units[u].tl, host_loop_now_ms(loop), none, 0);
			serve_load(&r->units[u]);
		}
	return SIM_STEP_MS;
}

/* The socket, its units in port order, and the engine. 0 (said on stderr) when it cannot be. */
static int start_control(struct run *r, const struct sim_cfg *cfgs)
{
	struct control_hooks h = { r, "serve", 0, serve_where, serve_timeline, NULL, serve_injected, NULL, NULL };
	char path[200], err[512];
	unsigned i, k;

	if (!strcmp(r->o->control, "auto") && control_default_path(path, sizeof path, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 0;
	}
	if (control_open(&r->ctl, strcmp(r->o->control, "auto") ? r->o->control : path, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 0;
	}
	r->units = calloc(r->unit0[r->n_sims - 1] + sim_unit_count(r->sims[r->n_sims - 1]), sizeof *r->units);
	if (!r->units) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 0;
	}
	for (i = 0; i < r->n_sims; i++)
		for (k = 0; k < sim_unit_count(r->sims[i]); k++, r->n_units++)
			r->units[r->n_units] = (struct serve_unit){ r->sims[i], k, &cfgs[i].unit[k], &cfgs[i].link,
			                                            cfgs[i].unit[k].current_A, NULL, NULL };
	h.units = r->n_units;
	if (control_attach(r->ctl, g_loop, &h) != RIG_OK || !host_loop_add_timer(g_loop, SIM_STEP_MS, serve_engine, r)) {
		fprintf(stderr, "%s: event loop: out of memory\n", PROG);
		return 0;
	}
	if (!r->o->quiet)
		fprintf(stderr, "%s: control socket %s\n", PROG, control_path(r->ctl));
	if (r->o->viz && control_spawn_viz(r->ctl, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 0;
	}
	return 1;
}

static void stop_control(struct run *r)
{
	unsigned u;

	control_close(r->ctl);
	for (u = 0; u < r->n_units; u++) {
		if (r->units[u].sc)
			scenario_free(r->units[u].sc);
		free(r->units[u].sc);
		free(r->units[u].tl);
	}
	free(r->units);
}

static int on_duration(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

/* The capture's header names the first port's protocol, line speed and port. */
static int start_capture(struct run *r, const struct sim_cfg *c)
{
	struct host_capture_header h;
	char err[512];

	memset(&h, 0, sizeof h);
	snprintf(h.protocol, sizeof h.protocol, "%s", c->unit[0].ops->name);
	h.baud = c->baud ? c->baud : c->unit[0].ops->baud;
	snprintf(h.link, sizeof h.link, "%s", sim_port(r->sims[0]));
	if (host_capture_open(&r->cap, r->o->capture, &h, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: --capture: %s\n", PROG, err);
		return 0;
	}
	return 1;
}

/* Every spec checked and grouped before any port opens: bad input leaves nothing behind. */
static int build_sims(struct opts *o, struct bms_spec *specs, struct sim_cfg *cfgs, unsigned *first,
                      unsigned *n_cfgs)
{
	unsigned n = 0, i;
	char err[512];

	if (o->config) {
		if (spec_load_config(o->config, &o->tmpl, specs, SPEC_MAX, &n, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			return 0;
		}
	} else if (!o->n_bms_text) {
		specs[0] = o->tmpl;   /* its origin stays empty: errors name the flags themselves */
		n = 1;
	}
	for (i = 0; i < o->n_bms_text; i++, n++)
		if (spec_parse(&specs[n], &o->tmpl, o->bms_text[i], err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			return 0;
		}
	for (i = 0; i < n; i++)
		if (spec_resolve(&specs[i], err, sizeof err) != RIG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			return 0;
		}
	if (spec_group(specs, n, cfgs, n_cfgs, first, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 0;
	}
	for (i = 0; i < *n_cfgs; i++)
		cfgs[i].pace = (uint8_t)o->pace;
	if (o->dut && o->dut_unit >= cfgs[0].units) {
		fprintf(stderr, "%s: --dut-unit: expected 0..%u (the BMS on the first port), got %u\n", PROG,
		        cfgs[0].units - 1, o->dut_unit);
		return 0;
	}
	return 1;
}

/* 256 BMS hold five descriptors each (pty master and slave, inotify, epoll, the link's lock). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void announce(struct sim *s, const struct sim_cfg *c)
{
	unsigned u;

	for (u = 0; u < c->units; u++) {
		const struct sim_unit_cfg *x = &c->unit[u];
		/* A pty's symlink is worth naming beside /dev/pts/N; "tcp:0" beside the bound port
		 * is not. */
		int named = c->link_path && !sim_link_names_transport(c->link_path);
		struct bms_view v;

		/* What a client will read at once (the BMS derives its SOC from the cells' voltage, and
		 * a state file may set the capacity and cells), not what the command line asked for. */
		bms_view(sim_bms(s, u), &v);
		printf("%s: serving %s%s on %s%s%s%s: %uS %s %.1f Ah, SOC %u %%, %+.1f A, %u NTC", PROG,
		       x->ops->name, c->link.kind == LINK_BLE ? " over Bluetooth" : "", sim_port(s),
		       named ? " (link " : "", named ? c->link_path : "", named ? ")" : "",
		       v.cell_count, x->model.chem == MODEL_CHEM_NMC ? "NMC" : "LFP", v.full_mAh / 1000.0,
		       v.soc_pct, x->current_A, v.probe_count);
		if (c->units > 1 || x->address)
			printf(", address %u", x->address);
		if (sim_state_loaded(s, u))
			printf(", state loaded from %s", x->state_path);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	static struct opts o;
	static struct run r;
	static struct bms_spec specs[SPEC_MAX];
	static struct sim_cfg cfgs[SPEC_MAX];
	static unsigned first[SPEC_MAX];
	struct sigaction sa;
	unsigned n_cfgs = 0, i;
	char err[512];
	int code = 0;

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return runner_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "replay"))
		return replay_main(argc - 1, argv + 1);
	spec_defaults(&o.tmpl);
	if (!parse_args(argc, argv, &o) || !build_sims(&o, specs, cfgs, first, &n_cfgs))
		return CLI_EXIT_USAGE;
	raise_fd_limit();
	g_loop = host_loop_new();
	r.sims = calloc(n_cfgs, sizeof *r.sims);
	r.ports = calloc(n_cfgs, sizeof *r.ports);
	r.unit0 = calloc(n_cfgs, sizeof *r.unit0);
	if (!g_loop || !r.sims || !r.ports || !r.unit0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	r.o = &o;
	for (i = 0; i < n_cfgs; i++, r.n_sims++) {
		if (sim_open(&r.sims[i], g_loop, &cfgs[i], err, sizeof err) != RIG_OK) {
			const char *origin = specs[first[i]].origin;

			fprintf(stderr, "%s: %s%s%s\n", PROG, origin, *origin ? ": " : "", err);
			code = CLI_EXIT_USAGE;
			break;
		}
		r.ports[i] = (struct port){ &r, i };
		r.unit0[i] = i ? r.unit0[i - 1] + cfgs[i - 1].units : 0;
		if (o.verbose || o.control || o.capture)
			sim_on_frame(r.sims[i], on_frame, &r.ports[i]);
		if (o.verbose)
			sim_on_drop(r.sims[i], on_drop, &r.ports[i]);
		if (!o.quiet)
			announce(r.sims[i], &cfgs[i]);
	}
	fflush(stdout);
	if (!code && o.capture && !start_capture(&r, &cfgs[0]))
		code = CLI_EXIT_USAGE;
	if (!code && o.control && !start_control(&r, cfgs))
		code = CLI_EXIT_USAGE;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The DUT reads the first port; the session ends after --duration-s, as a plain serve does. */
	if (!code && o.dut) {
		const struct run_setup setup = { .loop = g_loop, .sim = r.sims[0], .unit = o.dut_unit,
		                                 .control_unit = r.unit0[0] + o.dut_unit,
		                                 .duration_ms = o.duration_s * 1000u, .verdict = 1 };

		r.dut_opts = (struct run_opts){ .realtime = 1, .dut = { .kind = DUT_HOST }, .dut_cmd = o.dut,
		                                .dut_quiet = o.quiet, .dut_grace_ms = 2000, .control = r.ctl,
		                                .show_reports = !o.quiet, .tty = isatty(STDOUT_FILENO) };
		if (run_open(&r.dut, &setup, &r.dut_opts, &r.dut_rep) != RIG_OK || run_start(r.dut) != RIG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, r.dut_rep.error);
			run_free(r.dut);
			r.dut = NULL;
			code = CLI_EXIT_USAGE;
		}
	} else if (!code && o.duration_s) {
		host_loop_add_timer(g_loop, o.duration_s * 1000u, on_duration, &r);
	}
	if (!code && host_loop_run(g_loop) != RIG_OK) {
		fprintf(stderr, "%s: event loop failed\n", PROG);
		code = 1;
	}
	if (r.dut) {
		if (run_finish(r.dut) != RIG_OK || !run_passed(&r.dut_rep))
			code = 1;
		run_free(r.dut);
	}
	stop_control(&r);
	if (host_capture_close(&r.cap, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: --capture: %s\n", PROG, err);
		code = 1;
	} else if (o.capture && !o.quiet && strcmp(o.capture, "-")) {
		fprintf(stderr, "%s: captured %u frames in %s\n", PROG, (unsigned)r.cap.frames, o.capture);
	}
	for (i = 0; i < r.n_sims; i++)
		sim_close(r.sims[i]);
	free(r.sims);
	free(r.ports);
	free(r.unit0);
	host_loop_free(g_loop);
	return code;
}
