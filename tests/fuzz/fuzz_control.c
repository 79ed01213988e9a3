/*
 * libFuzzer: the input as what a client writes to bmssim's control socket, over a real socket
 * to a server on a virtual loop in front of one 4S JBD unit, hooks as bmssim serve gives them
 * (test_control.c's rig). The client writes the input, closes its side and reads until the
 * server hangs up. abort() unless:
 *   - the server hangs up (no hang: libFuzzer's -timeout catches one);
 *   - every line it sent is a JSON object: a reply {"ok": true|false, ...} with a one-line
 *     "error" string when false, or an {"event": ...};
 *   - one reply per request line (a non-blank line ended by a newline), unless the client was
 *     cut off for holding too many replies unread, which the server does above CONTROL_OUT_MAX.
 * The emulator, its timeline and the clock live on between inputs, as in a long session.
 * Seeds: tests/fuzz/corpus/fuzz_control/ (sessions in docs/control-socket.md's words).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/control.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct host_loop *loop;
	struct sim *sim;
	struct scenario sc;
	struct timeline tl;
	int have_tl;
	struct control *ctl;
	char dir[64], path[128];
	struct sim_unit_cfg unit;
	struct link_cfg link;
} F;

static struct {
	char *buf;
	size_t len, cap;
	int eof;
} in;

static void hook_unit(void *ctx, unsigned u, struct sim **sim, unsigned *index)
{
	(void)ctx;
	CHECK(u == 0);
	*sim = F.sim;
	*index = 0;
}

static struct timeline *hook_timeline(void *ctx, unsigned u)
{
	(void)ctx;
	(void)u;
	if (!F.have_tl) {
		CHECK(scenario_for_unit(&F.sc, &F.unit, &F.link) == RIG_OK);
		timeline_init(&F.tl, &F.sc, F.sim);
		F.have_tl = 1;
	}
	return &F.tl;
}

static void hook_injected(void *ctx, unsigned u)
{
	(void)ctx;
	(void)u;
	if (timeline_has_load(&F.tl))
		sim_set_current(F.sim, 0, timeline_load_A(&F.tl, host_loop_now_ms(F.loop), 13.0));
}

static int engine(struct host_loop *loop, uint32_t id, void *ctx)
{
	unsigned none[1];

	(void)id;
	(void)ctx;
	if (F.have_tl)
		timeline_step(&F.tl, host_loop_now_ms(loop), none, 0);
	return 100;
}

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	control_frame(ctx, unit, dir, wire, n);
}

static int no_fd(const void *h) { (void)h; return -1; }
static int32_t no_read(void *h, uint8_t *p, uint16_t cap) { (void)h; (void)p; (void)cap; return 0; }
static int32_t sink_write(void *h, const uint8_t *p, uint16_t n) { (void)h; (void)p; return n; }

/* The socket and its folder go when the fuzzer exits, crash or not (ASan's death callback is
 * not needed: a crash leaves a folder in /tmp, as a crashed bmssim would). */
static void teardown(void)
{
	control_close(F.ctl);
	rmdir(F.dir);
}

static void setup(void)
{
	static const struct sim_transport mem = { .fd = no_fd, .read = no_read, .write = sink_write, .path = "mem" };
	struct control_hooks h = { NULL, "serve", 1, hook_unit, hook_timeline, NULL, hook_injected, NULL, NULL };
	static struct sim_cfg cfg;
	struct bms_spec spec;
	char err[256];

	spec_defaults(&spec);
	CHECK(spec_resolve(&spec, err, sizeof err) == RIG_OK);
	F.unit = spec.unit;
	F.link = spec.link;
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.transport = &mem;
	F.loop = host_loop_new_virtual();
	CHECK(F.loop && sim_open(&F.sim, F.loop, &cfg, err, sizeof err) == RIG_OK);
	CHECK(host_loop_add_timer(F.loop, 100, engine, NULL) != 0);
	strcpy(F.dir, "/tmp/bmsrig-fuzz-ctl-XXXXXX");
	CHECK(mkdtemp(F.dir));
	snprintf(F.path, sizeof F.path, "%s/ctl.sock", F.dir);
	CHECK(control_open(&F.ctl, F.path, err, sizeof err) == RIG_OK);
	sim_on_frame(F.sim, on_frame, F.ctl);
	CHECK(control_attach(F.ctl, F.loop, &h) == RIG_OK);
	host_loop_pause(F.loop, 1);
	atexit(teardown);
}

static void on_data(struct host_loop *loop, int fd, void *ctx)
{
	ssize_t n;

	(void)ctx;
	if (in.cap - in.len < 65536) {
		in.cap = in.cap ? in.cap * 2 : 1u << 20;
		CHECK((in.buf = realloc(in.buf, in.cap)) != NULL);
	}
	n = read(fd, in.buf + in.len, in.cap - in.len - 1);
	if (n <= 0) {
		in.eof = 1;
		host_loop_del_fd(loop, fd);
		host_loop_stop(loop);
		return;
	}
	in.len += (size_t)n;
}

/* Request lines in data: newline-ended and not blank; -1 when one is too long to count. */
static long requests(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	long n = 0;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t len = (size_t)(nl - p);

		if (len > CONTROL_LINE_MAX)
			return -1;
		if (strspn((const char *)p, " \t\r") < len || memchr(p, '\0', len))
			n++;
		p = nl + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un a;
	long want = requests(data, size), replies = 0;
	char *line, *nl;
	int fd;

	if (size > 65536)
		return 0;
	if (!F.loop)
		setup();
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, F.path);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	in.len = 0;
	in.eof = 0;
	/* Whole into the socket's buffer before the loop runs: inputs past 64 KB are skipped. */
	CHECK(write(fd, data, size) == (ssize_t)size);
	shutdown(fd, SHUT_WR);
	CHECK(host_loop_add_fd(F.loop, fd, on_data, NULL) == RIG_OK);
	CHECK(host_loop_run(F.loop) == RIG_OK && in.eof);
	close(fd);
	host_loop_pause(F.loop, 1);
	in.buf[in.len] = '\0';
	for (line = in.buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		cJSON *o, *ok, *err;

		*nl = '\0';
		o = cJSON_Parse(line);
		CHECK(cJSON_IsObject(o));
		ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
		err = cJSON_GetObjectItemCaseSensitive(o, "error");
		if (ok) {
			CHECK(cJSON_IsBool(ok));
			CHECK(cJSON_IsTrue(ok) || (cJSON_IsString(err) && err->valuestring[0] && !strchr(err->valuestring, '\n')));
			replies++;
		} else {
			CHECK(cJSON_GetObjectItemCaseSensitive(o, "event"));
		}
		cJSON_Delete(o);
	}
	CHECK(*line == '\0');
	CHECK(want < 0 || replies <= want);
	CHECK(want < 0 || replies == want || in.len > CONTROL_OUT_MAX / 2);
	return 0;
}
