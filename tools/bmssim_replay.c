/* `bmssim replay TRACE`: the recorded BMS side of a run, served on a pty or another of the
 * emulator's transports (replay.h, sim.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/replay.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmssim.h"

static const char *const PROG = "bmssim replay";
static struct host_loop *g_loop;       /* for the signal handler only */

#define WRITES_MAX 64u

struct replayer {
	struct replay trace;
	struct sim_transport port;
	int verbose;
	struct write_slot {
		struct replayer *owner;
		const struct replay_reply *reply;
		int used;
	} slot[WRITES_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bmssim replay [options] TRACE.jsonl|CAPTURE.log\n"
"Serves the BMS side of a run recorded with `bmssim run --trace`, or of a capture log\n"
"(`bmssim serve --capture`, `bmsctl tap`; docs/capture.md), on a pty: each request that\n"
"matches a recorded one (byte for byte, searching on from the last one answered) gets the\n"
"replies recorded after it, at the recorded delays; a request recorded nowhere gets nothing.\n"
"\n"
"  -l, --link PATH        publish the pty as this symlink; or tcp:[ADDR:]PORT (bmssim --help)\n"
"  -s, --scenario NAME    the run of this scenario (default: the first in the trace; a\n"
"                         capture has one run)\n"
"  -b, --baud N           line speed (default: the recorded protocol's own)\n"
"  -d, --duration-s N     stop after N seconds (default: serve until stopped)\n"
"  -q, --quiet            nothing on stdout or stderr but errors\n"
"  -v, --verbose          each request and reply on stderr\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 served until stopped or the duration, 2 bad usage or a bad trace.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	host_loop_stop(g_loop);
}

static int write_due(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct write_slot *w = ctx;

	(void)loop;
	(void)id;
	(void)w->owner->port.write(w->owner->port.h, w->reply->bytes, (uint16_t)w->reply->len);
	w->used = 0;
	return 0;
}

static void on_readable(struct host_loop *loop, int fd, void *ctx)
{
	struct replayer *r = ctx;
	uint8_t buf[512];
	int32_t n;

	(void)fd;
	while ((n = r->port.read(r->port.h, buf, sizeof buf)) > 0) {
		const struct replay_exchange *e = replay_input(&r->trace, buf, (size_t)n);
		unsigned k, s;

		if (!e)
			continue;
		if (r->verbose)
			fprintf(stderr, "%s: request recorded at %.3f s: %u replies\n", PROG, e->t_ms / 1000.0,
			        e->n_replies);
		for (k = 0; k < e->n_replies; k++) {
			for (s = 0; s < WRITES_MAX && r->slot[s].used; s++)
				;
			if (s == WRITES_MAX)
				break;                 /* a client flooding us: later replies are lost */
			r->slot[s] = (struct write_slot){ r, &e->replies[k], 1 };
			if (!host_loop_add_timer(loop, e->replies[k].delay_ms, write_due, &r->slot[s]))
				r->slot[s].used = 0;
		}
	}
}

static int on_duration(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

int replay_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "link", required_argument, 0, 'l' }, { "scenario", required_argument, 0, 's' },
		{ "baud", required_argument, 0, 'b' }, { "duration-s", required_argument, 0, 'd' },
		{ "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	static struct replayer r;
	const char *link = NULL, *scenario = NULL;
	uint32_t baud = 0, duration_s = 0;
	int c, quiet = 0, code = 0;
	struct sigaction sa;
	struct sim_cfg cfg;
	char err[600];

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:s:b:d:qvh", lo, NULL)) != -1) {
		switch (c) {
		case 'l': link = optarg; break;
		case 's': scenario = optarg; break;
		case 'b': if (!cli_u32(PROG, "--baud", optarg, 50, 4000000, &baud)) return CLI_EXIT_USAGE; break;
		case 'd': if (!cli_u32(PROG, "--duration-s", optarg, 1, 31536000, &duration_s)) return CLI_EXIT_USAGE; break;
		case 'q': quiet = 1; break;
		case 'v': r.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "%s: see --help\n", PROG); return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one TRACE file (see --help)\n", PROG);
		return CLI_EXIT_USAGE;
	}
	if (replay_load(&r.trace, argv[optind], scenario, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return CLI_EXIT_USAGE;
	}
	if (r.trace.warning[0])
		fprintf(stderr, "%s: %s\n", PROG, r.trace.warning);
	if (!baud) {
		const struct bms_kind *k = bms_kind_find(r.trace.protocol);
		const struct personality_ops *ops = k ? personality_find(k->personality) : NULL;

		baud = ops ? ops->baud : 9600u;
	}
	g_loop = host_loop_new();
	memset(&cfg, 0, sizeof cfg);
	cfg.link_path = link;
	if (!g_loop || sim_transport_open(&r.port, &cfg, baud, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, g_loop ? err : "out of memory");
		replay_free(&r.trace);
		host_loop_free(g_loop);
		return CLI_EXIT_USAGE;
	}
	if (!quiet) {
		printf("bmssim: replaying %u requests of %s (%s) on %s\n", r.trace.n, r.trace.scenario,
		       r.trace.protocol, link && !sim_link_names_transport(link) ? link : r.port.path);
		fflush(stdout);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (host_loop_add_fd(g_loop, r.port.fd(r.port.h), on_readable, &r) != RIG_OK ||
	    (duration_s && !host_loop_add_timer(g_loop, duration_s * 1000u, on_duration, NULL)) ||
	    host_loop_run(g_loop) != RIG_OK) {
		fprintf(stderr, "%s: event loop failed\n", PROG);
		code = 1;
	}
	if (!quiet)
		fprintf(stderr, "%s: answered %u requests, %u bytes matched nothing\n", PROG, r.trace.answered,
		        r.trace.unmatched_bytes);
	r.port.close(r.port.h);
	replay_free(&r.trace);
	host_loop_free(g_loop);
	return code;
}
