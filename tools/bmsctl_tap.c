/*
 * `bmsctl tap`: sits between a real client and a real BMS, passes every byte both ways as it
 * came, and logs the frames in the capture format (lib/capture.h, docs/capture.md).
 *
 * Bytes alone do not say where a frame ends. With --proto and a protocol whose receive
 * assembler the core has (the table below), the tap feeds each direction to that assembler:
 * a frame is what it accepts, exactly as it crossed (the bytes are taken from the stream, not
 * re-encoded), and what it skips (noise, bad checksums) is counted, not logged. Otherwise a
 * frame is the bytes between two silences of --gap-ms, or up to the moment the other side
 * starts talking: right for request/reply protocols whose client waits for each answer, wrong
 * for a stream of back-to-back frames.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/byd.h"
#include "bmsrig/core/daly.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/modbus_rtu.h"
#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/lib/capture.h"
#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/lib/stream.h"
#include "bmsrig/sim/personality.h"
#include "bmsctl.h"

static const char *const PROG = "bmsctl tap";
static struct host_loop *g_loop;        /* for the signal handler only */

#define TAP_ASM_GAP_MS 500u     /* the assemblers drop a partial frame after this silence */
#define TAP_TICK_MS 10u         /* idle-gap checks and a TCP link's reconnects */
#define TAP_SHADOW_MAX 8192u    /* bytes fed to an assembler and not yet out of it */

/* ---- the core's assemblers, behind one face ------------------------------------------------ */

union tap_asm {
	struct jbd_rx jbd;
	struct daly_rx daly;
	struct jk_rx jk;
	struct byd_rx byd;
	struct pylon_rx pylon;
	struct modbus_rx modbus;
};

/* next: RIG_OK a frame came out, RIG_MORE nothing complete, anything else a bad frame the
 * assembler consumed (and counted skipped). init knows the direction: a Modbus assembler reads
 * requests one way and responses the other. */
struct tap_framer {
	const char *proto;
	void (*init)(union tap_asm *a, uint32_t gap_ms, enum host_capture_dir dir);
	size_t (*feed)(union tap_asm *a, const uint8_t *p, size_t n, uint32_t now_ms);
	rig_rc (*next)(union tap_asm *a);
	const struct rxbuf *(*rxb)(const union tap_asm *a);
};

/* One protocol's rows: its assembler under the names above (the frame itself is not wanted:
 * the tap logs the bytes it came from). */
#define TAP_ASM(P, FIELD, FRAME)                                                                    \
	static void P##_init(union tap_asm *a, uint32_t g, enum host_capture_dir d)                 \
	{ (void)d; rig_##P##_rx_init(&a->FIELD, g); }                                               \
	static size_t P##_feed(union tap_asm *a, const uint8_t *p, size_t n, uint32_t t)            \
	{ return rig_##P##_rx_feed(&a->FIELD, p, n, t); }                                           \
	static rig_rc P##_next(union tap_asm *a) { static struct FRAME f; return rig_##P##_rx_next(&a->FIELD, &f); } \
	static const struct rxbuf *P##_rxb(const union tap_asm *a) { return &a->FIELD.b; }
TAP_ASM(jbd, jbd, jbd_frame)
TAP_ASM(daly, daly, daly_frame)
TAP_ASM(jk, jk, jk_frame)
TAP_ASM(byd, byd, byd_frame)
TAP_ASM(pylon, pylon, pylon_frame)

static void modbus_init(union tap_asm *a, uint32_t g, enum host_capture_dir d)
{
	rig_modbus_rx_init(&a->modbus, g, d == HOST_CAPTURE_RX ? MODBUS_REQUEST : MODBUS_RESPONSE);
}
static size_t modbus_feed(union tap_asm *a, const uint8_t *p, size_t n, uint32_t t) { return rig_modbus_rx_feed(&a->modbus, p, n, t); }
static rig_rc modbus_next(union tap_asm *a) { static struct modbus_frame f; return rig_modbus_rx_next(&a->modbus, &f); }
static const struct rxbuf *modbus_rxb(const union tap_asm *a) { return &a->modbus.b; }

static const struct tap_framer framers[] = {
	{ "jbd", jbd_init, jbd_feed, jbd_next, jbd_rxb },
	{ "daly", daly_init, daly_feed, daly_next, daly_rxb },
	{ "jk", jk_init, jk_feed, jk_next, jk_rxb },
	{ "byd", byd_init, byd_feed, byd_next, byd_rxb },
	{ "pylontech-rs485", pylon_init, pylon_feed, pylon_next, pylon_rxb },
	{ "deye-modbus", modbus_init, modbus_feed, modbus_next, modbus_rxb },
};

/* ---- the tap ------------------------------------------------------------------------------- */

struct tap;

/* One direction: bytes read from `from` go to `to` and, cut into frames, to the log. */
struct tap_side {
	struct tap *t;
	struct host_stream *from, *to;
	enum host_capture_dir dir;
	union tap_asm as;
	uint8_t shadow[TAP_SHADOW_MAX];     /* assembler mode: bytes fed, in order */
	size_t n_shadow;
	uint32_t skipped_seen;
	uint8_t pend[HOST_CAPTURE_FRAME_MAX];   /* gap mode: the frame so far */
	size_t n_pend;
	uint32_t last_ms;
	uint64_t last_us;
	uint32_t bytes, frames, skipped;
};

struct tap {
	struct host_stream bms, client;
	struct tap_side side[2];            /* [HOST_CAPTURE_RX]: client to BMS; [TX]: back */
	const struct tap_framer *framer;    /* NULL: idle gaps */
	const struct personality_ops *ops;  /* decodes the log's comments; may be NULL */
	const char *proto;
	uint32_t gap_ms;
	struct host_capture_out cap;
	int verbose, failed;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bmsctl tap --bms PORT --client PATH [options]\n"
"Sits between a real client and a real BMS: every byte passes both ways unchanged, and every\n"
"frame is logged with a microsecond time stamp, its direction (rx: client to BMS, tx: BMS to\n"
"client) and its hex, decoded as a comment when the protocol is known (docs/capture.md).\n"
"\n"
"  -b, --bms PORT         the BMS: a serial port or pty, or tcp:HOST:PORT\n"
"  -c, --client PATH      the client's end: a serial port (an existing device), tcp:[ADDR:]PORT\n"
"                         (a listener), or else a pty published as the symlink PATH\n"
"  -P, --proto NAME       decode frames as this protocol (any bmsdecode knows), and cut them\n"
"                         with its own assembler: jbd, daly, jk, byd, pylontech-rs485,\n"
"                         deye-modbus; without it, or for another protocol, frames are cut\n"
"                         at silences of --gap-ms or when the other side starts talking\n"
"  -g, --gap-ms N         silence that ends a frame when cutting on gaps, 1..10000 (default 20)\n"
"      --baud N           line speed of both ends (default: the protocol's own, else 9600)\n"
"  -o, --capture FILE     write the log to FILE, whole when the tap stops (default -: stdout,\n"
"                         line by line)\n"
"  -d, --duration-s N     stop after N seconds (default: run until stopped)\n"
"  -q, --quiet            nothing on stderr but errors\n"
"  -v, --verbose          a line on stderr for each frame\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 stopped or the duration ran out, 1 a line failed or the log could not be\n"
"written, 2 bad usage or a port that cannot be opened.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_loop)
		host_loop_stop(g_loop);
}

static void log_frame(struct tap_side *s, const uint8_t *p, size_t n, uint64_t t_us)
{
	struct tap *t = s->t;
	cJSON *j = t->ops ? t->ops->wire_json(p, n) : NULL;
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;

	host_capture_write(&t->cap, t_us, s->dir, t->proto, p, n, text);
	s->frames++;
	if (t->verbose)
		fprintf(stderr, "%s: %s %zu bytes\n", PROG, s->dir == HOST_CAPTURE_RX ? "rx" : "tx", n);
	free(text);
	cJSON_Delete(j);
}

/* Assembler mode: what left the assembler since the last look. Bytes leave its buffer from the
 * front in stream order, skipped ones counted; so when a frame came out, the bytes that left
 * are first the skipped ones, then that frame, byte for byte as they crossed. */
static void settle(struct tap_side *s, int frame, uint64_t t_us)
{
	const struct rxbuf *b = s->t->framer->rxb(&s->as);
	size_t left = s->n_shadow - b->have, skipped = (size_t)(b->skipped_bytes - s->skipped_seen);

	if (skipped > left)
		skipped = left;                /* cannot happen; never read outside the shadow */
	if (frame && left > skipped)
		log_frame(s, s->shadow + skipped, left - skipped, t_us);
	/* No frame: whatever left was let go of, counted by the assembler as skipped or not. */
	s->skipped += (uint32_t)(frame ? skipped : left);
	s->skipped_seen = b->skipped_bytes;
	memmove(s->shadow, s->shadow + left, b->have);
	s->n_shadow = b->have;
}

static void flush_gap(struct tap_side *s, uint32_t now_ms, int force);

static void frame_bytes(struct tap_side *s, const uint8_t *p, size_t n, uint32_t now_ms, uint64_t t_us)
{
	const struct tap_framer *fr = s->t->framer;

	if (!fr) {
		/* The other side talking ends its frame: on a line where each waits for the other,
		 * that keeps the log in the order the frames crossed. */
		flush_gap(&s->t->side[!s->dir], now_ms, 1);
		for (size_t i = 0; i < n; i++) {
			if (s->n_pend == sizeof s->pend) {     /* longer than any frame: log what we have */
				log_frame(s, s->pend, s->n_pend, s->last_us);
				s->n_pend = 0;
			}
			s->pend[s->n_pend++] = p[i];
		}
		s->last_ms = now_ms;
		s->last_us = t_us;
		return;
	}
	while (n) {
		size_t room = sizeof s->shadow - s->n_shadow, take;

		take = fr->feed(&s->as, p, n < room ? n : room, now_ms);
		memcpy(s->shadow + s->n_shadow, p, take);
		s->n_shadow += take;
		p += take;
		n -= take;
		for (;;) {
			const struct rxbuf *b = fr->rxb(&s->as);
			uint32_t had = b->have, skipped = b->skipped_bytes;
			rig_rc rc = fr->next(&s->as);

			if (rc == RIG_MORE || (rc != RIG_OK && b->have == had && b->skipped_bytes == skipped))
				break;                 /* nothing more, or an error that consumed nothing */
			settle(s, rc == RIG_OK, t_us);
		}
		settle(s, 0, t_us);
		if (!take && n) {              /* an assembler that takes nothing: never spin */
			s->skipped += (uint32_t)n;
			break;
		}
	}
}

/* Gap mode: the frame so far ends after a silence of gap_ms (or when the tap stops). */
static void flush_gap(struct tap_side *s, uint32_t now_ms, int force)
{
	if (s->n_pend && (force || now_ms - s->last_ms >= s->t->gap_ms)) {
		log_frame(s, s->pend, s->n_pend, s->last_us);
		s->n_pend = 0;
	}
}

static void pump(struct tap_side *s)
{
	uint8_t buf[512];
	int32_t n;

	while ((n = s->from->read(s->from->h, buf, sizeof buf)) > 0) {
		uint64_t t_us = host_capture_now_us();
		int32_t w = s->to->write(s->to->h, buf, (uint16_t)n);

		if (w != n && s->t->verbose)
			fprintf(stderr, "%s: %s: wrote %d of %d bytes\n", PROG, s->to->path, (int)w, (int)n);
		s->bytes += (uint32_t)n;
		frame_bytes(s, buf, (size_t)n, host_loop_now_ms(g_loop), t_us);
	}
	if (n < 0 && n != RIG_ERR_TIMEOUT && s->from == &s->t->bms && !s->from->tick) {
		fprintf(stderr, "%s: %s: the BMS's line is gone\n", PROG, s->from->path);
		s->t->failed = 1;
		host_loop_stop(g_loop);
	}
}

static void on_readable(struct host_loop *loop, int fd, void *ctx)
{
	struct tap *t = ctx;

	(void)loop;
	for (unsigned i = 0; i < 2; i++)
		if (t->side[i].from->fd(t->side[i].from->h) == fd)
			pump(&t->side[i]);
}

static int on_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct tap *t = ctx;

	(void)id;
	for (unsigned i = 0; i < 2; i++) {
		if (t->side[i].from->tick)
			t->side[i].from->tick(t->side[i].from->h);
		if (!t->framer)
			flush_gap(&t->side[i], host_loop_now_ms(loop), 0);
	}
	return TAP_TICK_MS;
}

static int on_duration(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

static void note(void *ctx, const char *line)
{
	const struct tap *t = ctx;

	if (t->verbose)
		fprintf(stderr, "%s: %s\n", PROG, line);
}

/* The client's end: an existing character device is a serial port to open; tcp: a listener;
 * anything else the symlink of a pty published for the client. */
static rig_rc open_client(struct tap *t, const char *spec, uint32_t baud, char *err, size_t errcap)
{
	struct stat st;

	if (!host_stream_is(spec, "tcp") && stat(spec, &st) == 0 && S_ISCHR(st.st_mode))
		return host_stream_open_port(&t->client, spec, baud, note, t, err, errcap);
	return host_stream_serve(&t->client, spec, baud, err, errcap);
}

int bmsctl_tap_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bms", required_argument, 0, 'b' }, { "client", required_argument, 0, 'c' },
		{ "proto", required_argument, 0, 'P' }, { "gap-ms", required_argument, 0, 'g' },
		{ "baud", required_argument, 0, 'B' }, { "capture", required_argument, 0, 'o' },
		{ "duration-s", required_argument, 0, 'd' }, { "quiet", no_argument, 0, 'q' },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	static struct tap t;
	const char *bms = NULL, *client = NULL, *capture = "-";
	uint32_t baud = 0, duration_s = 0;
	int c, quiet = 0, code = 0;
	struct host_capture_header h;
	struct sigaction sa;
	char err[600];

	memset(&t, 0, sizeof t);
	t.gap_ms = 20;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:c:P:g:o:d:qvh", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bms = optarg; break;
		case 'c': client = optarg; break;
		case 'P':
			t.proto = optarg;
			if (!(t.ops = personality_find(optarg))) {
				fprintf(stderr, "%s: --proto: expected a protocol bmsdecode knows (jbd, daly, jk, ...), "
				        "got \"%s\"\n", PROG, optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'g': if (!cli_u32(PROG, "--gap-ms", optarg, 1, 10000, &t.gap_ms)) return CLI_EXIT_USAGE; break;
		case 'B': if (!cli_u32(PROG, "--baud", optarg, 50, 4000000, &baud)) return CLI_EXIT_USAGE; break;
		case 'o': capture = optarg; break;
		case 'd': if (!cli_u32(PROG, "--duration-s", optarg, 1, 31536000, &duration_s)) return CLI_EXIT_USAGE; break;
		case 'q': quiet = 1; break;
		case 'v': t.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "%s: see --help\n", PROG); return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || !bms || !client) {
		fprintf(stderr, "%s: expected --bms PORT and --client PATH and no other arguments (see --help)\n", PROG);
		return CLI_EXIT_USAGE;
	}
	if (quiet && t.verbose) {
		fprintf(stderr, "%s: -q and -v: expected at most one\n", PROG);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; t.proto && i < sizeof framers / sizeof framers[0]; i++)
		if (!strcmp(framers[i].proto, t.proto))
			t.framer = &framers[i];
	if (t.proto && !t.framer && !quiet)
		fprintf(stderr, "%s: no %s assembler in the tap: frames are cut at silences of %u ms\n", PROG, t.proto,
		        (unsigned)t.gap_ms);
	if (!baud)
		baud = t.ops ? t.ops->baud : 9600u;

	g_loop = host_loop_new();
	if (!g_loop) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	if (host_stream_open_port(&t.bms, bms, baud, note, &t, err, sizeof err) != RIG_OK ||
	    open_client(&t, client, baud, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		host_stream_close(&t.bms);
		host_loop_free(g_loop);
		return CLI_EXIT_USAGE;
	}
	memset(&h, 0, sizeof h);
	snprintf(h.protocol, sizeof h.protocol, "%s", t.proto ? t.proto : "-");
	h.baud = baud;
	snprintf(h.link, sizeof h.link, "tap: BMS %s, client %s", bms, t.client.path);
	if (host_capture_open(&t.cap, capture, &h, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: --capture: %s\n", PROG, err);
		host_stream_close(&t.client);
		host_stream_close(&t.bms);
		host_loop_free(g_loop);
		return CLI_EXIT_USAGE;
	}
	t.side[HOST_CAPTURE_RX] = (struct tap_side){ .t = &t, .from = &t.client, .to = &t.bms, .dir = HOST_CAPTURE_RX };
	t.side[HOST_CAPTURE_TX] = (struct tap_side){ .t = &t, .from = &t.bms, .to = &t.client, .dir = HOST_CAPTURE_TX };
	for (unsigned i = 0; t.framer && i < 2; i++)
		t.framer->init(&t.side[i].as, TAP_ASM_GAP_MS, t.side[i].dir);
	if (!quiet) {
		fprintf(stderr, "%s: BMS %s, client %s%s%s\n", PROG, bms, t.client.path,
		        strcmp(t.client.path, client) ? " as " : "", strcmp(t.client.path, client) ? client : "");
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (host_loop_add_fd(g_loop, t.bms.fd(t.bms.h), on_readable, &t) != RIG_OK ||
	    host_loop_add_fd(g_loop, t.client.fd(t.client.h), on_readable, &t) != RIG_OK ||
	    !host_loop_add_timer(g_loop, TAP_TICK_MS, on_tick, &t) ||
	    (duration_s && !host_loop_add_timer(g_loop, duration_s * 1000u, on_duration, NULL)) ||
	    host_loop_run(g_loop) != RIG_OK) {
		fprintf(stderr, "%s: event loop failed\n", PROG);
		code = 1;
	}
	for (unsigned i = 0; !t.framer && i < 2; i++)
		flush_gap(&t.side[i], 0, 1);
	if (host_capture_close(&t.cap, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s: --capture: %s\n", PROG, err);
		code = 1;
	}
	if (!quiet)
		fprintf(stderr, "%s: rx %u bytes in %u frames, tx %u bytes in %u frames; %u bytes %s\n", PROG,
		        (unsigned)t.side[0].bytes, (unsigned)t.side[0].frames, (unsigned)t.side[1].bytes,
		        (unsigned)t.side[1].frames, (unsigned)(t.side[0].skipped + t.side[1].skipped),
		        t.framer ? "skipped by the assembler, passed on but not logged" : "skipped (cut at silences)");
	host_stream_close(&t.client);
	host_stream_close(&t.bms);
	host_loop_free(g_loop);
	return code || t.failed ? 1 : 0;
}
