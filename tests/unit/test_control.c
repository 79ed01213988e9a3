/* The control socket: a server on a virtual loop over one in-memory JBD unit, with hooks as a
 * program would give them, and real client sockets. Every command's reply; bad requests get
 * ok:false and change nothing; subscriptions on the emulator's clock; the clock commands; a
 * slow client never holds the loop up; the socket file's rules.
 * Runs paused wherever it can, so times are exact; a wall-clock alarm guards every wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/control.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/timeline.h"

struct fix {
	struct host_loop *loop;
	struct sim *sim;
	struct scenario sc;        /* the unit's empty scenario, made on the first event */
	struct timeline tl;
	int have_tl;
	unsigned injected;
	struct control *ctl;
	char dir[64], path[128];
	struct sim_unit_cfg unit;
	struct link_cfg link;
};

static struct fix F;           /* ~450 KB: not on the stack */

struct tclient {
	int fd, eof;
	char buf[1u << 21];
	size_t len;
};

static struct tclient A, B, C;

/* ---- the embedding program's side ---------------------------------------------------------- */

static void hook_unit(void *ctx, unsigned u, struct sim **sim, unsigned *index)
{
	struct fix *f = ctx;

	assert_int_equal(u, 0);
	*sim = f->sim;
	*index = 0;
}

static struct timeline *hook_timeline(void *ctx, unsigned u)
{
	struct fix *f = ctx;

	(void)u;
	if (!f->have_tl) {
		assert_int_equal(scenario_for_unit(&f->sc, &f->unit, &f->link), RIG_OK);
		timeline_init(&f->tl, &f->sc, f->sim);
		f->have_tl = 1;
	}
	return &f->tl;
}

static void hook_injected(void *ctx, unsigned u)
{
	struct fix *f = ctx;

	(void)u;
	f->injected++;
	if (timeline_has_load(&f->tl))
		sim_set_current(f->sim, 0, timeline_load_A(&f->tl, host_loop_now_ms(f->loop), 13.0));
}

/* The engine: what bmssim serve does every step. */
static int engine(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct fix *f = ctx;
	unsigned none[1];

	(void)id;
	if (f->have_tl)
		timeline_step(&f->tl, host_loop_now_ms(loop), none, 0);
	return 100;
}

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	control_frame(ctx, unit, dir, wire, n);
}

static int no_fd(const void *h) { (void)h; return -1; }
static int32_t no_read(void *h, uint8_t *p, uint16_t cap) { (void)h; (void)p; (void)cap; return 0; }
static int32_t sink_write(void *h, const uint8_t *p, uint16_t n) { (void)h; (void)p; return n; }

static int setup(void **state)
{
	static const struct sim_transport mem = { .fd = no_fd, .read = no_read, .write = sink_write, .path = "mem" };
	struct control_hooks h = { &F, "serve", 1, hook_unit, hook_timeline, NULL, hook_injected, NULL, NULL };
	struct bms_spec spec;
	struct sim_cfg cfg;
	char err[256];

	(void)state;
	memset(&F, 0, sizeof F);
	spec_defaults(&spec);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	F.unit = spec.unit;
	F.link = spec.link;
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.transport = &mem;
	F.loop = host_loop_new_virtual();
	assert_int_equal(sim_open(&F.sim, F.loop, &cfg, err, sizeof err), RIG_OK);
	assert_true(host_loop_add_timer(F.loop, 100, engine, &F) != 0);
	strcpy(F.dir, "/tmp/bmsrig-ctl-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(F.path, sizeof F.path, "%s/ctl.sock", F.dir);
	if (control_open(&F.ctl, F.path, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	sim_on_frame(F.sim, on_frame, F.ctl);
	assert_int_equal(control_attach(F.ctl, F.loop, &h), RIG_OK);
	host_loop_pause(F.loop, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	control_close(F.ctl);
	sim_close(F.sim);
	host_loop_free(F.loop);
	if (F.have_tl)
		scenario_free(&F.sc);
	rmdir(F.dir);
	return 0;
}

/* ---- clients ------------------------------------------------------------------------------- */

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	host_loop_stop(F.loop);
}

/* The loop until something stops it, at most ms of wall time. */
static void run_guarded(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	timed_out = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(host_loop_run(F.loop), RIG_OK);
	setitimer(ITIMER_REAL, &off, NULL);
}

static void connect_client(struct tclient *c)
{
	struct sockaddr_un a;

	memset(c, 0, sizeof *c);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, F.path);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
}

static void close_client(struct tclient *c)
{
	close(c->fd);
	c->fd = -1;
}

static void on_data(struct host_loop *loop, int fd, void *ctx)
{
	struct tclient *c = ctx;
	ssize_t n = read(fd, c->buf + c->len, sizeof c->buf - 1 - c->len);

	if (n <= 0) {
		c->eof = 1;
		host_loop_del_fd(loop, fd);
		host_loop_stop(loop);
		return;
	}
	c->len += (size_t)n;
	if (memchr(c->buf, '\n', c->len))
		host_loop_stop(loop);
}

/* The next line the server sent c (without its newline); 0 at EOF. */
static int next_line(struct tclient *c, char *out, size_t cap)
{
	char *nl;
	size_t n;

	while (!(nl = memchr(c->buf, '\n', c->len))) {
		if (c->eof)
			return 0;
		assert_int_equal(host_loop_add_fd(F.loop, c->fd, on_data, c), RIG_OK);
		run_guarded(5000);
		if (!c->eof)
			host_loop_del_fd(F.loop, c->fd);
		if (timed_out)
			fail_msg("no line from the server within 5 s");
	}
	n = (size_t)(nl - c->buf);
	assert_true(n < cap);
	memcpy(out, c->buf, n);
	out[n] = '\0';
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return 1;
}

static void send_line(struct tclient *c, const char *line)
{
	size_t n = strlen(line);

	assert_int_equal(write(c->fd, line, n), (ssize_t)n);
	assert_int_equal(write(c->fd, "\n", 1), 1);
}

/* Sends a request, returns its reply (parsed; the caller deletes it). Events before it go. */
static cJSON *ask(struct tclient *c, const char *line)
{
	static char text[1u << 16];
	cJSON *o;

	send_line(c, line);
	for (;;) {
		assert_true(next_line(c, text, sizeof text));
		o = cJSON_Parse(text);
		assert_non_null(o);
		if (!cJSON_GetObjectItemCaseSensitive(o, "event"))
			return o;
		cJSON_Delete(o);
	}
}

static int is_ok(const cJSON *reply)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

static const char *error_of(const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");

	return cJSON_IsString(e) ? e->valuestring : "";
}

/* A number at a path of keys and [indices]: "state.units[0].truth.pack_mv". */
static const cJSON *at(const cJSON *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".[");

		if (n) {
			memcpy(key, path, n);
			key[n] = '\0';
			o = cJSON_GetObjectItemCaseSensitive(o, key);
			path += n;
		} else if (*path == '[') {
			o = cJSON_GetArrayItem(o, atoi(path + 1));
			path = strchr(path, ']') + 1;
		}
		if (*path == '.')
			path++;
	}
	return o;
}

static double num(const cJSON *o, const char *path)
{
	const cJSON *v = at(o, path);

	if (!cJSON_IsNumber(v))
		fail_msg("%s: not a number", path);
	return v->valuedouble;
}

static cJSON *get_state(struct tclient *c)
{
	cJSON *r = ask(c, "{\"cmd\":\"get\"}");

	assert_true(is_ok(r));
	return r;
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void every_command_replies(void **state)
{
	cJSON *r, *s;
	double t0;

	(void)state;
	connect_client(&A);
	r = ask(&A, "{\"cmd\":\"hello\",\"id\":{\"a\":[1]}}");
	assert_true(is_ok(r));
	assert_int_equal(num(r, "id.a[0]"), 1);          /* any JSON id comes back */
	assert_int_equal(num(r, "protocol"), 1);
	assert_string_equal(at(r, "program")->valuestring, "bmssim");
	assert_string_equal(at(r, "mode")->valuestring, "serve");
	assert_int_equal(num(r, "units"), 1);
	cJSON_Delete(r);

	s = get_state(&A);
	assert_true(cJSON_IsTrue(at(s, "state.paused")));
	assert_true(num(s, "state.rate") == 0.0);
	assert_string_equal(at(s, "state.units[0].proto")->valuestring, "jbd");
	assert_string_equal(at(s, "state.units[0].port")->valuestring, "mem");
	assert_int_equal(cJSON_GetArraySize(at(s, "state.units[0].truth.cells_mv")), 4);
	assert_int_equal(cJSON_GetArraySize(at(s, "state.units[0].bms.temps_dk")), 2);
	assert_true(num(s, "state.units[0].truth.pack_mv") > 12000.0);
	assert_int_equal(num(s, "state.units[0].bms.fet_chg"), 1);
	assert_int_equal(cJSON_GetArraySize(at(s, "state.units[0].faults.line")), 0);
	assert_string_equal(at(s, "state.units[0].link.kind")->valuestring, "uart");
	assert_string_equal(at(s, "state.units[0].link.state")->valuestring, "up");
	assert_true(cJSON_IsNull(at(s, "state.units[0].dut")));
	assert_true(cJSON_IsNull(at(s, "state.scenario")));
	t0 = num(s, "state.t_ms");
	cJSON_Delete(s);

	r = ask(&A, "{\"cmd\":\"set\",\"unit\":0,\"key\":\"current_a\",\"value\":-20}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"cell_soc_pct\",\"cell\":2,\"value\":90}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"ambient_c\",\"value\":30}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	s = get_state(&A);
	assert_true(num(s, "state.units[0].truth.requested_ma") == -20000.0);
	assert_true(num(s, "state.units[0].truth.cell_soc_pct[1]") == 90.0);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":200}");
	assert_true(is_ok(r));
	assert_true(num(r, "t_ms") == t0 + 200);
	cJSON_Delete(r);
	s = get_state(&A);
	assert_true(num(s, "state.units[0].truth.ambient_dk") == 3031.0);
	assert_true(fabs(num(s, "state.units[0].truth.current_ma") + 20000.0) < 1.0);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"soc_pct\",\"value\":50}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"temp_c\",\"value\":40}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	s = get_state(&A);
	assert_true(num(s, "state.units[0].truth.cell_soc_pct[0]") == 50.0);
	assert_true(num(s, "state.units[0].truth.cell_soc_pct[3]") == 50.0);
	assert_true(fabs(num(s, "state.units[0].truth.temps_dk[0]") - 3131.0) < 30.0);   /* probe offsets */
	cJSON_Delete(s);

	/* The limits an inverter would get, and the settings behind them by name. The fixture is a
	 * 4S LFP 100 Ah pack: CVL 4 x 3550 mV, 50 A both ways mid-charge. */
	assert_int_equal(num(s = get_state(&A), "state.units[0].limits.cvl_mv"), 14200);
	assert_int_equal(num(s, "state.units[0].limits.dvl_mv"), 12000);
	assert_int_equal(num(s, "state.units[0].limits.ccl_ma"), 50000);
	assert_int_equal(num(s, "state.units[0].limits.dcl_ma"), 50000);
	assert_int_equal(num(s, "state.units[0].limits.request"), 3);
	assert_true(num(s, "state.units[0].limits.soc_pct") == num(s, "state.units[0].bms.soc_pct"));
	assert_true(num(s, "state.units[0].bms.soc_pct") < 100.0);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"max_charge_mA\",\"value\":20000}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"charge_voltage_cell_mV\",\"value\":3450}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"soc_clamp\",\"value\":1}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"fault\",\"do\":\"fets\",\"chg\":false,\"dsg\":true}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	cJSON_Delete(ask(&A, "{\"cmd\":\"step\",\"ms\":100}"));
	s = get_state(&A);
	assert_int_equal(num(s, "state.units[0].limits.cvl_mv"), 13800);
	assert_int_equal(num(s, "state.units[0].limits.ccl_ma"), 0);
	assert_int_equal(num(s, "state.units[0].limits.request"), 2);
	assert_int_equal(num(s, "state.units[0].limits.soc_pct"), 100);   /* the SOC clamp */
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"fault\",\"do\":\"fets\",\"chg\":true,\"dsg\":true}");
	cJSON_Delete(r);
	cJSON_Delete(ask(&A, "{\"cmd\":\"step\",\"ms\":100}"));
	assert_int_equal(num(s = get_state(&A), "state.units[0].limits.ccl_ma"), 20000);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"set\",\"key\":\"soc_clamp\",\"value\":0}");
	cJSON_Delete(r);

	r = ask(&A, "{\"cmd\":\"fault\",\"unit\":0,\"do\":\"ntc_open\",\"ntc\":1,\"id\":7}");
	assert_true(is_ok(r));
	assert_int_equal(num(r, "id"), 7);               /* the request's id, not the event's */
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"fault\",\"do\":\"no_reply\",\"for\":\"1s\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":100}");
	cJSON_Delete(r);
	s = get_state(&A);
	assert_int_equal(num(s, "state.units[0].faults.ntc_open_mask"), 1);
	assert_int_equal(num(s, "state.units[0].bms.temps_dk[0]"), BMS_NTC_OPEN_DK);
	assert_string_equal(at(s, "state.units[0].faults.line[0]")->valuestring, "no_reply");
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":1000}");
	cJSON_Delete(r);
	s = get_state(&A);
	assert_int_equal(cJSON_GetArraySize(at(s, "state.units[0].faults.line")), 0);   /* its for ran out */
	assert_int_equal(num(s, "state.units[0].faults.ntc_open_mask"), 1);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"clear\",\"unit\":0}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	s = get_state(&A);
	assert_int_equal(num(s, "state.units[0].faults.ntc_open_mask"), 0);
	cJSON_Delete(s);

	r = ask(&A, "{\"cmd\":\"resume\"}");
	assert_true(is_ok(r));
	assert_false(cJSON_IsTrue(at(r, "paused")));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"pause\"}");
	assert_true(is_ok(r));
	assert_true(cJSON_IsTrue(at(r, "paused")));
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"rate\",\"x\":2.5}");
	assert_true(is_ok(r));
	assert_true(num(r, "rate") == 2.5);
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"rate\",\"x\":0}");
	assert_true(is_ok(r));
	assert_true(num(r, "rate") == 0.0);
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"subscribe\",\"state_ms\":1000,\"frames\":true}");
	assert_true(is_ok(r));
	assert_int_equal(num(r, "state_ms"), 1000);
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"unsubscribe\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	close_client(&A);
}

static void bad_requests_change_nothing(void **state)
{
	static const struct {
		const char *line, *error;
	} bad[] = {
		{ "not json", "expected a JSON object on one line (not JSON from byte 1)" },
		{ "[1,2]", "expected a JSON object, got [1,2]" },
		{ "{\"id\":5}", "expected key \"cmd\" (one of hello, get, set, fault, clear, pause, resume, step, rate, "
		  "subscribe, unsubscribe)" },
		{ "{\"cmd\":\"explode\"}", "cmd: expected one of hello, get, set, fault, clear, pause, resume, step, rate, "
		  "subscribe, unsubscribe, got \"explode\"" },
		{ "{\"cmd\":\"get\",\"extra\":1}", "extra: unknown key (expected one of: cmd, id)" },
		{ "{\"cmd\":\"get\",\"cmd\":\"get\"}", "cmd: expected each key once, got it twice" },
		{ "{\"cmd\":\"set\",\"key\":\"current_a\",\"value\":5000}", "value: expected a number -2000..2000, got \"5000\"" },
		{ "{\"cmd\":\"set\",\"key\":\"current_a\",\"value\":\"5\"}", "value: expected a number -2000..2000, got a string" },
		{ "{\"cmd\":\"set\",\"key\":\"volts\",\"value\":1}",
		  "key: expected one of current_a, ambient_c, cell_soc_pct, soc_pct, temp_c or a BMS setting's name, "
		  "got \"volts\"" },
		{ "{\"cmd\":\"set\",\"key\":\"max_charge_mA\",\"value\":400000}",
		  "value: expected an integer 0..327670, got 400000" },
		{ "{\"cmd\":\"set\",\"key\":\"soc_clamp\",\"value\":0.5}", "value: expected an integer 0..1, got 0.5" },
		{ "{\"cmd\":\"set\",\"key\":\"soc_clamp\",\"cell\":1,\"value\":1}", "cell: expected only with cell_soc_pct" },
		{ "{\"cmd\":\"set\",\"key\":\"cell_soc_pct\",\"value\":10}", "expected key \"cell\"" },
		{ "{\"cmd\":\"set\",\"key\":\"cell_soc_pct\",\"cell\":5,\"value\":10}",
		  "cell: expected a cell number 1..4 (pack.cells), got \"5\"" },
		{ "{\"cmd\":\"set\",\"key\":\"current_a\",\"cell\":1,\"value\":1}", "cell: expected only with cell_soc_pct" },
		{ "{\"cmd\":\"set\",\"key\":\"temp_c\",\"value\":300}", "value: expected a number -40..120, got 300" },
		{ "{\"cmd\":\"set\",\"unit\":3,\"key\":\"current_a\",\"value\":1}", "unit: expected an integer 0..0, got 3" },
		{ "{\"cmd\":\"fault\",\"do\":\"ntc_open\",\"ntc\":9}", "ntc: expected a probe number 1..2 (pack.ntc), got \"9\"" },
		{ "{\"cmd\":\"fault\",\"do\":\"profile\",\"steps\":[[\"0\",1]]}",
		  "do: expected an event kind other than profile (it belongs in a scenario file)" },
		{ "{\"cmd\":\"fault\",\"at\":\"1s\",\"do\":\"ntc_open\",\"ntc\":1}",
		  "at: unknown key (expected one of: do, id, for, ntc, bms)" },
		{ "{\"cmd\":\"fault\",\"do\":\"fets\",\"chg\":false}", "expected key \"dsg\"" },
		{ "{\"cmd\":\"clear\",\"unit\":-1}", "unit: expected an integer 0..0, got -1" },
		{ "{\"cmd\":\"step\",\"ms\":0}", "ms: expected an integer 1..3600000, got 0" },
		{ "{\"cmd\":\"step\"}", "expected key \"ms\"" },
		{ "{\"cmd\":\"rate\",\"x\":5000}", "x: expected a number 0.1..1000, got 5000" },
		{ "{\"cmd\":\"subscribe\",\"state_ms\":10}", "state_ms: expected 0 (none) or 50..60000, got 10" },
		{ "{\"cmd\":\"subscribe\",\"frames\":\"yes\"}", "frames: expected true or false, got \"yes\"" },
	};
	static char before[1u << 16], after[1u << 16], big[70001];
	cJSON *r, *s;
	unsigned i;
	char *text;

	(void)state;
	connect_client(&A);
	s = get_state(&A);
	text = cJSON_PrintUnformatted(at(s, "state"));
	strcpy(before, text);
	free(text);
	cJSON_Delete(s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = ask(&A, bad[i].line);
		assert_false(is_ok(r));
		assert_string_equal(error_of(r), bad[i].error);
		if (i == 2)
			assert_int_equal(num(r, "id"), 5);
		cJSON_Delete(r);
	}
	/* A NUL inside a line would hide the rest of it from the parser. */
	assert_int_equal(write(A.fd, "{\"cmd\":\"hello\"}\0x\n", 18), 18);
	assert_true(next_line(&A, big, sizeof big));
	r = cJSON_Parse(big);
	assert_false(is_ok(r));
	assert_string_equal(error_of(r), "expected a JSON object on one line (a NUL byte at 16)");
	cJSON_Delete(r);
	/* Over 64 KiB: refused once, the rest of the line skipped, the next line served. */
	memset(big, 'x', sizeof big - 1);
	r = ask(&A, big);
	assert_false(is_ok(r));
	assert_string_equal(error_of(r), "expected a line of at most 65536 bytes");
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"hello\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	s = get_state(&A);
	text = cJSON_PrintUnformatted(at(s, "state"));
	strcpy(after, text);
	free(text);
	cJSON_Delete(s);
	assert_string_equal(before, after);
	assert_int_equal(F.injected, 0);
	close_client(&A);
}

static void clock_commands_drive_the_loop(void **state)
{
	cJSON *r, *s;
	double t0, t1;

	(void)state;
	connect_client(&A);
	s = get_state(&A);
	t0 = num(s, "state.t_ms");
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":250}");
	assert_true(num(r, "t_ms") == t0 + 250);
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"resume\"}");
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":10}");
	assert_false(is_ok(r));
	assert_string_equal(error_of(r), "expected a paused clock (send {\"cmd\":\"pause\"} first)");
	cJSON_Delete(r);
	s = get_state(&A);                       /* unpaced: the clock raced on between requests */
	t1 = num(s, "state.t_ms");
	assert_true(t1 > t0 + 250);
	assert_false(cJSON_IsTrue(at(s, "state.paused")));
	cJSON_Delete(s);
	/* Paced at 1000 x, 300 ms of wall time carry the clock at most 300 s (plus a step). */
	r = ask(&A, "{\"cmd\":\"rate\",\"x\":1000}");
	cJSON_Delete(r);
	s = get_state(&A);
	t1 = num(s, "state.t_ms");
	cJSON_Delete(s);
	usleep(300000);
	s = get_state(&A);
	assert_true(num(s, "state.t_ms") <= t1 + 300000.0 + 1000.0);
	assert_true(num(s, "state.rate") == 1000.0);
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"pause\"}");
	t1 = num(r, "t_ms");
	cJSON_Delete(r);
	usleep(20000);
	s = get_state(&A);
	assert_true(num(s, "state.t_ms") == t1);       /* paused: it stands */
	cJSON_Delete(s);
	close_client(&A);
}

static void subscribers_get_state_and_frames_on_the_emulators_clock(void **state)
{
	static char line[1u << 16];
	static const uint8_t req03[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
	cJSON *r, *s, *e;
	double t0;
	int k;

	(void)state;
	connect_client(&A);
	connect_client(&B);
	s = get_state(&A);
	t0 = num(s, "state.t_ms");
	cJSON_Delete(s);
	r = ask(&A, "{\"cmd\":\"subscribe\",\"state_ms\":100,\"frames\":true}");
	cJSON_Delete(r);
	r = ask(&B, "{\"cmd\":\"hello\"}");            /* B never subscribes: it hears nothing */
	cJSON_Delete(r);
	send_line(&A, "{\"cmd\":\"step\",\"ms\":1000,\"id\":\"s\"}");
	for (k = 1; k <= 10; k++) {
		assert_true(next_line(&A, line, sizeof line));
		e = cJSON_Parse(line);
		assert_string_equal(at(e, "event")->valuestring, "state");
		assert_true(num(e, "state.t_ms") == t0 + 100.0 * k);   /* every 100 ms of the emulator */
		cJSON_Delete(e);
	}
	assert_true(next_line(&A, line, sizeof line));
	e = cJSON_Parse(line);
	assert_string_equal(at(e, "id")->valuestring, "s");      /* then the step's reply */
	cJSON_Delete(e);

	/* A request from the line: its frame, and the reply's once it has crossed the line (the
	 * BMS's 40 ms latency, then the bytes on the wire), not when it was built. */
	sim_input(F.sim, req03, sizeof req03);
	send_line(&A, "{\"cmd\":\"step\",\"ms\":60}");
	assert_true(next_line(&A, line, sizeof line));
	e = cJSON_Parse(line);
	assert_string_equal(at(e, "event")->valuestring, "frame");
	assert_string_equal(at(e, "dir")->valuestring, "rx");
	assert_string_equal(at(e, "proto")->valuestring, "jbd");
	assert_string_equal(at(e, "hex")->valuestring, "DDA50300FFFD77");
	assert_int_equal(num(e, "decoded.cmd"), 3);
	assert_true(num(e, "t_ms") == t0 + 1000);
	assert_int_equal(num(e, "unit"), 0);
	cJSON_Delete(e);
	assert_true(next_line(&A, line, sizeof line));
	e = cJSON_Parse(line);
	assert_string_equal(at(e, "dir")->valuestring, "tx");
	assert_true(num(e, "t_ms") >= t0 + 1040 && num(e, "t_ms") <= t0 + 1060);
	assert_int_equal(num(e, "decoded.cell_count"), 4);
	cJSON_Delete(e);
	assert_true(next_line(&A, line, sizeof line));       /* no state event: 1060 is not a tick */
	e = cJSON_Parse(line);
	assert_true(is_ok(e));
	cJSON_Delete(e);

	r = ask(&A, "{\"cmd\":\"unsubscribe\"}");
	cJSON_Delete(r);
	r = ask(&A, "{\"cmd\":\"step\",\"ms\":500}");        /* ask() would skip events: check there were none */
	cJSON_Delete(r);
	assert_int_equal(A.len, 0);
	r = ask(&B, "{\"cmd\":\"get\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	assert_int_equal(B.len, 0);
	close_client(&A);
	close_client(&B);
}

static int stop_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

static void a_slow_client_does_not_block(void **state)
{
	static char line[1u << 16], gets[2000 * 16];
	unsigned events = 0, replies = 0, i;
	size_t n = 0;
	cJSON *r;

	(void)state;
	connect_client(&A);
	connect_client(&B);
	connect_client(&C);
	r = ask(&A, "{\"cmd\":\"subscribe\",\"state_ms\":50,\"frames\":true}");
	cJSON_Delete(r);
	/* 20 minutes of the emulator, unpaced, with A reading nothing: 24000 state events of
	 * ~1 KB fill any buffer. The loop is not held up. */
	host_loop_pause(F.loop, 0);
	assert_true(host_loop_add_timer(F.loop, 1200000u, stop_cb, NULL) != 0);
	run_guarded(30000);
	assert_false(timed_out);
	host_loop_pause(F.loop, 1);
	r = ask(&B, "{\"cmd\":\"hello\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	/* A's reply still comes, after what was kept of its events. */
	send_line(&A, "{\"cmd\":\"get\",\"id\":\"late\"}");
	for (;;) {
		cJSON *e;

		assert_true(next_line(&A, line, sizeof line));
		e = cJSON_Parse(line);
		assert_non_null(e);
		if (at(e, "event")) {
			events++;
			cJSON_Delete(e);
			continue;
		}
		assert_string_equal(at(e, "id")->valuestring, "late");
		cJSON_Delete(e);
		break;
	}
	assert_true(events > 100);
	assert_true(events < 24000 / 4);
	/* C asks and asks and never reads: its replies may not be dropped, so past 1 MiB it goes. */
	for (i = 0; i < 2000; i++)
		n += (size_t)snprintf(gets + n, sizeof gets - n, "{\"cmd\":\"get\"}\n");
	assert_int_equal(write(C.fd, gets, n), (ssize_t)n);
	r = ask(&B, "{\"cmd\":\"step\",\"ms\":100}");         /* the server reads C meanwhile */
	cJSON_Delete(r);
	while (next_line(&C, line, sizeof line))
		replies++;
	assert_true(C.eof);
	assert_true(replies < 2000);
	r = ask(&B, "{\"cmd\":\"hello\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	close_client(&A);
	close_client(&B);
	close_client(&C);
}

/* At most CONTROL_CLIENTS_MAX clients at once: one more gets one error line and is closed,
 * the others are served on; once one leaves, a newcomer is served again. */
static void clients_are_capped(void **state)
{
	int fd[CONTROL_CLIENTS_MAX];
	char line[256], want[128];
	struct sockaddr_un a;
	unsigned i;
	cJSON *r;

	(void)state;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, F.path);
	connect_client(&A);
	for (i = 0; i + 1 < CONTROL_CLIENTS_MAX; i++) {
		fd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(connect(fd[i], (struct sockaddr *)&a, sizeof a), 0);
		r = ask(&A, "{\"cmd\":\"hello\"}");         /* the loop runs: the server accepts */
		assert_true(is_ok(r));
		cJSON_Delete(r);
	}
	connect_client(&B);                                  /* one too many */
	assert_true(next_line(&B, line, sizeof line));
	snprintf(want, sizeof want, "{\"ok\":false,\"error\":\"too many clients: at most %u at once\"}",
	         CONTROL_CLIENTS_MAX);
	assert_string_equal(line, want);
	assert_false(next_line(&B, line, sizeof line));     /* and closed */
	close_client(&B);
	r = ask(&A, "{\"cmd\":\"hello\"}");               /* the others are served on */
	assert_true(is_ok(r));
	cJSON_Delete(r);
	close(fd[0]);
	r = ask(&A, "{\"cmd\":\"hello\"}");               /* the server sees it leave */
	assert_true(is_ok(r));
	cJSON_Delete(r);
	connect_client(&C);
	r = ask(&C, "{\"cmd\":\"hello\"}");
	assert_true(is_ok(r));
	cJSON_Delete(r);
	close_client(&C);
	for (i = 1; i + 1 < CONTROL_CLIENTS_MAX; i++)
		close(fd[i]);
	close_client(&A);
}

static void socket_file_rules(void **state)
{
	struct sockaddr_un a;
	struct control *other;
	char err[512], path[160], xdg[96], want[200];
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(stat(F.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Live (this server): refused, and left alone. */
	assert_int_equal(control_open(&other, F.path, err, sizeof err), RIG_ERR_ARG);
	assert_null(other);
	assert_non_null(strstr(err, "is live: another process serves on it"));
	assert_int_equal(stat(F.path, &st), 0);
	/* Stale (bound, then its process gone): replaced. */
	snprintf(path, sizeof path, "%s/stale.sock", F.dir);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
	assert_int_equal(control_open(&other, path, err, sizeof err), RIG_OK);
	control_close(other);
	assert_int_equal(lstat(path, &st), -1);                /* removed at close */
	/* A symbolic link is never followed, a plain file never removed. */
	snprintf(path, sizeof path, "%s/link.sock", F.dir);
	assert_int_equal(symlink(F.path, path), 0);
	assert_int_equal(control_open(&other, path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "is a symbolic link (never followed)"));
	unlink(path);
	snprintf(path, sizeof path, "%s/file.sock", F.dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(control_open(&other, path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "exists and is not a socket"));
	unlink(path);
	/* The default path: a private folder under XDG_RUNTIME_DIR. */
	snprintf(xdg, sizeof xdg, "%s/xdg", F.dir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(control_default_path(path, sizeof path, err, sizeof err), RIG_OK);
	snprintf(want, sizeof want, "%s/bmsrig/bmssim-%ld.sock", xdg, (long)getpid());
	assert_string_equal(path, want);
	snprintf(want, sizeof want, "%s/bmsrig", xdg);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(chmod(want, 0755), 0);                /* others may enter: refused */
	assert_int_equal(control_default_path(path, sizeof path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "expected a folder of ours only we can enter (mode 0700)"));
	unsetenv("XDG_RUNTIME_DIR");
	rmdir(want);
	rmdir(xdg);
	/* A path of one's choosing: its folder must be one no one else can put a socket in. */
	snprintf(xdg, sizeof xdg, "%s/open", F.dir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(chmod(xdg, 0777), 0);
	snprintf(path, sizeof path, "%s/ctl.sock", xdg);
	assert_int_equal(control_open(&other, path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "control socket folder "));
	assert_non_null(strstr(err, ": expected a folder of ours or root's that no one else can write in, "
	                            "or a sticky one such as /tmp; got mode 0777"));
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(chmod(xdg, 01777), 0);              /* sticky, as /tmp: served */
	assert_int_equal(control_open(&other, path, err, sizeof err), RIG_OK);
	control_close(other);
	rmdir(xdg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_command_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(clock_commands_drive_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(subscribers_get_state_and_frames_on_the_emulators_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(a_slow_client_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(clients_are_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(socket_file_rules, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
