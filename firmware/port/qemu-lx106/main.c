/* bmsmon-lx106: the firmware core as a virtual NodeMCU. The ESP8266's CPU core (an Xtensa lx106)
 * in QEMU's `sim` machine; the BMS's serial port, the console and the command line reach it
 * through semihosting (semihost.h). What bmsmon does on Linux, on the board's own CPU: open the
 * BMS port, build fw_cfg from flags, run rig_fw_step in a loop and write one telemetry line per poll
 * cycle. No heap, no stdio: everything here is static or on the stack, and printing is a few
 * helpers over one buffer.
 *
 * At exit (--count or --duration-s reached, or the port lost) it adds two lines on stdout for
 * the port's own figures:
 *   BMSRIG-STACK {"used_bytes":N,"size_bytes":N}   deepest stack use (painted at reset)
 *   BMSRIG-PERF {...}                               poll-cycle time and the CPU work per cycle
 * They do not start with "BMSRIG " (with a space), so telemetry readers skip them. */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/fw.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/telemetry.h"
#include "lx106.h"
#include "semihost.h"

#define PROG "bmsmon-lx106"
#define TICK_MS 10u          /* longest wait between steps: well inside a 9600-baud byte gap */
#define ICOUNT_TICK_MS 2u    /* under -icount the wait cannot end on data, so it is shorter */
#define ICOUNT_OFF 0xFFu
#define ARGV_BYTES 2048u     /* the command line as SH_ARGV lays it out */

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct opts {
	const char *port;
	uint32_t poll_ms, timeout_ms, address, count, duration_s, baud, ccount_khz, icount_shift;
	uint32_t retries;
	int proto;
	struct policy_cfg policy;
	uint8_t policy_fets, quiet, verbose, help;
};

/* A millisecond clock from CCOUNT. The count wraps every 2^32 cycles (107 s at 40 MHz), so it
 * is read at least once per loop turn and only differences are used: 32-bit arithmetic, one
 * division and its remainder per reading, no drift (the leftover cycles carry over). */
struct clock {
	uint32_t khz, last, rem, ms;
};

/* What one run measured, for BMSRIG-PERF. */
struct perf {
	uint64_t busy_ccount;        /* CCOUNT spent inside rig_fw_step, summed over all steps */
	uint32_t steps, step_min;    /* rig_fw_step calls, and the cheapest (an idle step) */
	uint32_t timed, cycle_ms_sum, cycle_ms_min, cycle_ms_max;   /* first request to report */
	uint32_t cycle_start_ms;
	uint8_t in_cycle;
};

struct app {
	struct opts o;
	int32_t fd;                  /* the BMS port, a host file descriptor */
	struct fw fw;
	struct clock clk;
	struct perf perf;
	uint32_t lines;
	uint8_t relay, port_lost, line_now;
};

static struct app app;

/* ---- output without stdio ---------------------------------------------------------------- */

/* Buffered writes to one fd, for messages and the closing figures; the telemetry line is
 * written straight from the core's buffer. Kept small, since it lives on the stack and say()
 * runs inside rig_fw_step (hal_log): a longer text goes out in several writes. */
struct out {
	int32_t fd;
	size_t n;
	char b[160];
};

static void o_init(struct out *o, int32_t fd)
{
	o->fd = fd;
	o->n = 0;
}

static void o_flush(struct out *o)
{
	if (o->n)
		sh_call(SH_WRITE, o->fd, (int32_t)(uintptr_t)o->b, (int32_t)o->n, NULL);
	o->n = 0;
}

static void o_str(struct out *o, const char *s)
{
	size_t k = strlen(s);

	while (k) {
		size_t room = sizeof o->b - o->n, c = k < room ? k : room;

		memcpy(o->b + o->n, s, c);
		o->n += c;
		s += c;
		k -= c;
		if (o->n == sizeof o->b)
			o_flush(o);
	}
}

/* Decimal. 64-bit division by ten: exercises this port's __udivdi3/__umoddi3 (libgcc_lx106.c). */
static void o_u64(struct out *o, uint64_t v)
{
	char d[21];
	int i = (int)sizeof d;

	d[--i] = '\0';
	do {
		d[--i] = (char)('0' + (int)(v % 10u));
		v /= 10u;
	} while (v);
	o_str(o, d + i);
}

/* "bmsmon-lx106: a b c d\n" on stderr; trailing parts may be NULL. */
static void say(const char *a, const char *b, const char *c, const char *d)
{
	struct out o;

	o_init(&o, 2);
	o_str(&o, PROG ": ");
	o_str(&o, a);
	o_str(&o, b ? b : "");
	o_str(&o, c ? c : "");
	o_str(&o, d ? d : "");
	o_str(&o, "\n");
	o_flush(&o);
}

/* ---- the command line -------------------------------------------------------------------- */

static const char usage_text[] =
	"usage: bmsmon-lx106 --port PATH [options]\n"
	"The bmsrig firmware core on an emulated ESP8266 CPU (QEMU -M sim -cpu lx106, semihosting):\n"
	"polls a smart BMS and prints one telemetry line (\"BMSRIG {json}\") per poll cycle.\n"
	"\n"
	"  -p, --port PATH       the BMS's pty or serial port on the host (opened through semihosting;\n"
	"                        a serial port must already be raw at its speed: semihosting cannot set it)\n"
	"  -P, --proto NAME      jbd, jbd-ble, daly, daly-ble, jk, jk-ble, thornwave,\n"
	"                        thornwave-x (default jbd)\n"
	"  -b, --baud N          accepted for bmsmon's command lines; ignored (see --port)\n"
	"  -i, --poll-ms N       start of one poll cycle to the next, 100..600000 (default 1000)\n"
	"  -t, --timeout-ms N    request to complete reply, 10..60000 (default: the protocol's)\n"
	"      --retries N       resends of a request before the cycle fails, 0..10 (default 3)\n"
	"      --address N       the BMS's address on an RS485 bus (default: the protocol's)\n"
	"  -n, --count N         exit after N telemetry lines (default 0 = run until stopped)\n"
	"  -d, --duration-s N    exit after N seconds (default 0 = run until stopped)\n"
	"Safety policy (as bmsmon; defaults for LFP)\n"
	"      --cell-max-mv N   --cell-min-mv N   --cell-hyst-mv N\n"
	"      --temp-max-dk N   --temp-min-dk N   --temp-hyst-dk N\n"
	"      --silent-polls N  --policy-fets\n"
	"The emulated CPU\n"
	"      --ccount-khz N    CCOUNT cycles per millisecond (default 40000, QEMU's lx106)\n"
	"      --icount-shift N  QEMU runs with -icount shift=N: sleep with WAITI (a blocking\n"
	"                        semihosting call would stop the virtual clock) and report\n"
	"                        instructions per poll cycle\n"
	"  -q, --quiet           nothing on stderr but errors\n"
	"  -v, --verbose         also log the core's events on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"At exit (--count, --duration-s, port lost) two more lines: BMSRIG-STACK (deepest stack use)\n"
	"and BMSRIG-PERF (poll-cycle time, CPU work per cycle). Exit status: 0 done, 1 the port was\n"
	"lost, 2 bad usage or a port that cannot be opened, 3 a CPU exception.\n";

enum opt_kind { K_FLAG, K_STR, K_U32, K_U16, K_PROTO };

struct opt {
	const char *name;
	char short_name;
	uint8_t kind;
	uint32_t min, max;
	void *dst;
};

/* A table instead of getopt_long: picolibc has one, but it reports errors through stdio
 * (stderr, fputc), which this port does not otherwise link. */
static const struct opt opt_table[] = {
	{ "port", 'p', K_STR, 0, 0, &app.o.port },
	{ "proto", 'P', K_PROTO, 0, 0, &app.o.proto },
	{ "baud", 'b', K_U32, 1, 4000000, &app.o.baud },
	{ "poll-ms", 'i', K_U32, 100, 600000, &app.o.poll_ms },
	{ "timeout-ms", 't', K_U32, 10, 60000, &app.o.timeout_ms },
	{ "retries", 0, K_U32, 0, 10, &app.o.retries },
	{ "address", 0, K_U32, 0, 254, &app.o.address },
	{ "count", 'n', K_U32, 0, UINT32_MAX, &app.o.count },
	{ "duration-s", 'd', K_U32, 0, 31536000, &app.o.duration_s },
	{ "cell-max-mv", 0, K_U16, 1000, 5000, &app.o.policy.cell_max_mV },
	{ "cell-min-mv", 0, K_U16, 0, 5000, &app.o.policy.cell_min_mV },
	{ "cell-hyst-mv", 0, K_U16, 0, 1000, &app.o.policy.cell_hyst_mV },
	{ "temp-max-dk", 0, K_U16, 2331, 4231, &app.o.policy.temp_max_dK },
	{ "temp-min-dk", 0, K_U16, 2331, 4231, &app.o.policy.temp_min_dK },
	{ "temp-hyst-dk", 0, K_U16, 0, 500, &app.o.policy.temp_hyst_dK },
	{ "silent-polls", 0, K_U16, 0, 1000, &app.o.policy.comm_fail_max },
	{ "policy-fets", 0, K_FLAG, 0, 0, &app.o.policy_fets },
	{ "ccount-khz", 0, K_U32, 1000, 1000000, &app.o.ccount_khz },
	{ "icount-shift", 0, K_U32, 0, 10, &app.o.icount_shift },
	{ "quiet", 'q', K_FLAG, 0, 0, &app.o.quiet },
	{ "verbose", 'v', K_FLAG, 0, 0, &app.o.verbose },
	{ "help", 'h', K_FLAG, 0, 0, &app.o.help },
};

#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

/* Whole string, decimal, min..max; the message is bmsmon's (cli.c). */
static int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		p = NULL;
	while (p && *p) {
		uint32_t d = (uint32_t)(*p - '0');

		if (*p < '0' || *p > '9' || v > 429496729u || (v == 429496729u && d > 5u))
			p = NULL;
		else
			v = v * 10u + d, p++;
	}
	if (!p || v < min || v > max) {
		struct out o;

		o_init(&o, 2);
		o_str(&o, PROG ": ");
		o_str(&o, opt);
		o_str(&o, ": expected an integer ");
		o_u64(&o, min);
		o_str(&o, "..");
		o_u64(&o, max);
		o_str(&o, ", got \"");
		o_str(&o, s);
		o_str(&o, "\"\n");
		o_flush(&o);
		return 0;
	}
	*out = v;
	return 1;
}

static int set_opt(const struct opt *d, const char *shown, const char *val)
{
	uint32_t v;

	switch (d->kind) {
	case K_STR:
		*(const char **)d->dst = val;
		return 1;
	case K_U32:
		return parse_u32(shown, val, d->min, d->max, (uint32_t *)d->dst);
	case K_U16:
		if (!parse_u32(shown, val, d->min, d->max, &v))
			return 0;
		*(uint16_t *)d->dst = (uint16_t)v;
		return 1;
	case K_PROTO:
		*(int *)d->dst = rig_fw_proto_find(val);
		if (*(int *)d->dst >= 0)
			return 1;
		say(shown, ": expected one of jbd, jbd-ble, daly, daly-ble, jk, jk-ble, thornwave, thornwave-x; got \"", val, "\"");
		return 0;
	default:
		*(uint8_t *)d->dst = 1;
		return 1;
	}
}

/* The option as the user wrote it, without "=VALUE", for messages. */
static const char *shown_name(const char *arg, const char *eq, char *buf, size_t cap)
{
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

/* --name VALUE, --name=VALUE, -x VALUE. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv)
{
	struct client_cfg dflt = CLIENT_CFG_DEFAULT;
	struct policy_cfg lfp = POLICY_CFG_LFP;
	int i;

	app.o.poll_ms = dflt.poll_ms;
	app.o.retries = dflt.retries;
	app.o.proto = FW_PROTO_JBD;
	app.o.policy = lfp;
	app.o.ccount_khz = LX_CCOUNT_KHZ_QEMU;
	app.o.icount_shift = ICOUNT_OFF;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq = NULL;
		const struct opt *d = NULL;
		char name[32];
		size_t k, len;

		if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
			eq = strchr(arg + 2, '=');
			len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			for (k = 0; k < N_OPTS && !d; k++)
				if (strlen(opt_table[k].name) == len && !strncmp(opt_table[k].name, arg + 2, len))
					d = &opt_table[k];
			val = eq ? eq + 1 : NULL;
		} else if (arg[0] == '-' && arg[1] && !arg[2]) {
			for (k = 0; k < N_OPTS && !d; k++)
				if (opt_table[k].short_name == arg[1])
					d = &opt_table[k];
		} else {
			say("unexpected argument \"", arg, "\" (see --help)", NULL);
			return EXIT_USAGE;
		}
		if (!d) {
			say("unknown option \"", arg, "\" (see --help)", NULL);
			return EXIT_USAGE;
		}
		if (d->kind == K_FLAG) {
			if (eq) {
				say(arg, ": takes no value", NULL, NULL);
				return EXIT_USAGE;
			}
		} else if (!val) {
			if (i + 1 >= argc) {
				say(arg, " needs a value (see --help)", NULL, NULL);
				return EXIT_USAGE;
			}
			val = argv[++i];
		}
		if (!set_opt(d, shown_name(arg, eq, name, sizeof name), val))
			return EXIT_USAGE;
	}
	if (app.o.help) {
		sh_call(SH_WRITE, 1, (int32_t)(uintptr_t)usage_text, (int32_t)(sizeof usage_text - 1), NULL);
		return 0;
	}
	if (app.o.quiet && app.o.verbose) {
		say("--quiet and --verbose cannot be combined", NULL, NULL, NULL);
		return EXIT_USAGE;
	}
	if (!app.o.port) {
		say("--port is required (see --help)", NULL, NULL, NULL);
		return EXIT_USAGE;
	}
	return -1;
}

/* The semihosting command line: argv[0] (the kernel's name or the first arg=), then the rest. */
static int get_args(char ***argv_out)
{
	static uint32_t buf[ARGV_BYTES / 4u];   /* words: it starts with the pointer array */
	int32_t argc = sh_call(SH_ARGC, 0, 0, 0, NULL);
	int32_t need = sh_call(SH_ARGV_SIZE, 0, 0, 0, NULL);

	if (argc < 0 || need < 0 || (uint32_t)need > sizeof buf) {
		say("the command line is longer than ", "2048", " bytes", NULL);
		return -1;
	}
	sh_call(SH_ARGV, (int32_t)(uintptr_t)buf, 0, 0, NULL);
	*argv_out = (char **)buf;
	return argc;
}

/* ---- the HAL ------------------------------------------------------------------------------ */

/* 1 when fd can be read within timeout_ms (0: now), 0 when not, -1 on error. */
static int32_t wait_fd(int32_t fd, int32_t what, uint32_t timeout_ms)
{
	/* select_one reads {seconds, microseconds}: the timeout is in guest memory. */
	int32_t tv[2];

	tv[0] = 0;
	tv[1] = (int32_t)(timeout_ms * 1000u);
	return sh_call(SH_SELECT_ONE, fd, what, (int32_t)(uintptr_t)tv, NULL);
}

static int32_t bms_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct app *a = ctx;
	uint16_t done = 0;
	int tries = 0;

	/* Replies are small; a full pty buffer is worth a few short waits, not more. */
	while (done < n && tries < 10) {
		int32_t err, k = sh_call(SH_WRITE, a->fd, (int32_t)(uintptr_t)(p + done), n - done, &err);

		if (k > 0) {
			done = (uint16_t)(done + k);
		} else if (k < 0 && err != SH_EAGAIN && err != SH_EINTR) {
			a->port_lost = 1;
			return RIG_ERR_IO;
		} else {
			tries++;
			wait_fd(a->fd, SH_SELECT_WRITE, 10);
		}
	}
	return done;
}

static int32_t bms_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct app *a = ctx;
	int32_t err, n;

	/* Never block: select_one with a zero timeout first. */
	if (!cap || wait_fd(a->fd, SH_SELECT_READ, 0) <= 0)
		return 0;
	n = sh_call(SH_READ, a->fd, (int32_t)(uintptr_t)p, cap, &err);
	if (n > 0)
		return n;
	if (n < 0 && (err == SH_EAGAIN || err == SH_EINTR))
		return 0;
	/* End of file, or EIO: a pty whose other side (the emulator) has gone. */
	a->port_lost = 1;
	return RIG_ERR_IO;
}

static uint32_t clock_ms(struct clock *c)
{
	uint32_t now = lx_ccount(), d = now - c->last;

	c->last = now;
	c->ms += d / c->khz;
	c->rem += d % c->khz;
	if (c->rem >= c->khz) {
		c->rem -= c->khz;
		c->ms++;
	}
	return c->ms;
}

static uint32_t hal_now_ms(void *ctx)
{
	return clock_ms(&((struct app *)ctx)->clk);
}

/* On a NodeMCU this is a GPIO driving the relay's transistor; here the state travels in the
 * telemetry line's "relay" field (and the core logs each change). */
static void hal_set_relay(void *ctx, uint8_t closed)
{
	((struct app *)ctx)->relay = closed;
}

static void hal_telemetry(void *ctx, const char *line)
{
	struct app *a = ctx;

	/* Two writes rather than a copy with the newline: another 640-byte line buffer on the
	 * stack would nearly double the firmware's deepest stack use. Readers assemble lines. */
	sh_call(SH_WRITE, 1, (int32_t)(uintptr_t)line, (int32_t)strlen(line), NULL);
	sh_call(SH_WRITE, 1, (int32_t)(uintptr_t)"\n", 1, NULL);
	a->lines++;
	a->line_now = 1;
}

static void hal_log(void *ctx, const char *msg)
{
	if (((struct app *)ctx)->o.verbose)
		say(msg, NULL, NULL, NULL);
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Waits for the next step: until the port has bytes or a tick has passed. `stuck`: bytes are
 * waiting that the core did not take in the last step (it reads only while it expects a reply),
 * so waking on them would spin. Returns 1 when the port is readable after the wait. */
static int wait_step(struct app *a, int stuck)
{
	if (a->o.icount_shift != ICOUNT_OFF) {
		/* Under -icount the virtual clock (and CCOUNT) moves only with instructions, or with
		 * host time while the CPU is halted: a semihosting call that blocks stops it. So the
		 * wait is WAITI until a CCOMPARE0 deadline, and the port is only looked at. */
		if (!stuck && wait_fd(a->fd, SH_SELECT_READ, 0) > 0)
			return 1;
		lx_sleep_until(lx_ccount() + ICOUNT_TICK_MS * a->clk.khz);
		return wait_fd(a->fd, SH_SELECT_READ, 0) > 0;
	}
	/* Otherwise the virtual clock is host time and select_one sleeps in the host. WAITI would
	 * work too but can lose its wake-up: if the host deschedules QEMU between arming CCOMPARE0
	 * and WAITI for longer than the wait, the deadline passes and the timer fires only after
	 * the next CCOUNT wrap. */
	if (stuck) {
		/* A plain sleep: the exceptional condition of a tty (packet-mode data) never comes
		 * on the side a monitor opens, so this waits the full tick whatever the port holds. */
		wait_fd(a->fd, SH_SELECT_EXCEPT, TICK_MS);
		return wait_fd(a->fd, SH_SELECT_READ, 0) > 0;
	}
	return wait_fd(a->fd, SH_SELECT_READ, TICK_MS) > 0;
}

/* One rig_fw_step, timed in CCOUNT; a poll cycle is timed from the step that sends its first
 * request to the step that reports it. */
static void step(struct app *a, uint32_t now)
{
	struct perf *p = &a->perf;
	uint32_t requests = rig_fw_stats(&a->fw)->requests, t0, dt;

	a->line_now = 0;
	t0 = lx_ccount();
	rig_fw_step(&a->fw, now);
	dt = lx_ccount() - t0;
	p->busy_ccount += dt;
	if (!p->steps++ || dt < p->step_min)
		p->step_min = dt;
	if (!p->in_cycle && rig_fw_stats(&a->fw)->requests != requests) {
		p->in_cycle = 1;
		p->cycle_start_ms = now;
	}
	if (a->line_now && p->in_cycle) {
		uint32_t ms = clock_ms(&a->clk) - p->cycle_start_ms;

		p->in_cycle = 0;
		p->timed++;
		p->cycle_ms_sum += ms;
		if (p->timed == 1 || ms < p->cycle_ms_min)
			p->cycle_ms_min = ms;
		if (ms > p->cycle_ms_max)
			p->cycle_ms_max = ms;
	}
}

static int run(struct app *a)
{
	uint64_t end_ms = (uint64_t)a->o.duration_s * 1000u, elapsed = 0;
	uint32_t last = clock_ms(&a->clk);
	int stuck = 0;

	for (;;) {
		int readable = wait_step(a, stuck);
		uint32_t now = clock_ms(&a->clk);

		elapsed += (uint32_t)(now - last);   /* 64-bit: --duration-s may outlast a u32 wrap */
		last = now;
		step(a, now);
		if (a->port_lost) {
			say(a->o.port, ": port lost (end of file or I/O error)", NULL, NULL);
			return EXIT_RUNTIME;
		}
		if ((a->o.count && a->lines >= a->o.count) || (end_ms && elapsed >= end_ms))
			return 0;
		stuck = readable && wait_fd(a->fd, SH_SELECT_READ, 0) > 0;
	}
}

static void o_field(struct out *o, const char *key, uint64_t v)
{
	o_str(o, key);
	o_u64(o, v);
}

static void report_figures(struct app *a)
{
	const struct perf *p = &a->perf;
	uint32_t reports = a->lines ? a->lines : 1u;
	struct out o;

	o_init(&o, 1);
	o_field(&o, "BMSRIG-STACK {\"used_bytes\":", lx_stack_used());
	o_field(&o, ",\"size_bytes\":", lx_stack_size());
	o_str(&o, "}\n");
	o_flush(&o);

	o_field(&o, "BMSRIG-PERF {\"reports\":", a->lines);
	o_field(&o, ",\"timed_cycles\":", p->timed);
	o_field(&o, ",\"cycle_ms_avg\":", p->timed ? p->cycle_ms_sum / p->timed : 0u);
	o_field(&o, ",\"cycle_ms_min\":", p->cycle_ms_min);
	o_field(&o, ",\"cycle_ms_max\":", p->cycle_ms_max);
	o_field(&o, ",\"steps\":", p->steps);
	o_field(&o, ",\"ccount_khz\":", a->clk.khz);
	o_field(&o, ",\"busy_ccount\":", p->busy_ccount);
	o_field(&o, ",\"step_min_ccount\":", p->step_min);
	if (a->o.icount_shift == ICOUNT_OFF) {
		/* CCOUNT is host time here: QEMU's time inside rig_fw_step, semihosting calls included. */
		o_field(&o, ",\"busy_us_per_report\":", p->busy_ccount * 1000u / a->clk.khz / reports);
	} else {
		/* Under -icount shift=S each instruction is 2^S ns of virtual time, and CCOUNT runs
		 * at khz cycles per virtual millisecond. "work": less what every step costs when it
		 * has nothing to do (the cheapest step), i.e. the cycle's own work. */
		uint64_t den = (uint64_t)a->clk.khz << a->o.icount_shift;
		uint64_t idle = (uint64_t)p->step_min * p->steps;

		o_field(&o, ",\"icount_shift\":", a->o.icount_shift);
		o_field(&o, ",\"insns_per_report\":", p->busy_ccount * 1000000u / den / reports);
		o_field(&o, ",\"work_insns_per_report\":", (p->busy_ccount - idle) * 1000000u / den / reports);
		o_field(&o, ",\"idle_step_insns\":", (uint64_t)p->step_min * 1000000u / den);
	}
	o_str(&o, "}\n");
	o_flush(&o);
}

int lx_main(void)
{
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
	struct fw_hal hal;
	const struct client_stats *st;
	char **argv;
	int32_t err;
	int argc = get_args(&argv), rc;

	if (argc < 0)
		return EXIT_USAGE;
	rc = parse_args(argc, argv);
	if (rc >= 0)
		return rc;
	if (!app.o.timeout_ms)
		app.o.timeout_ms = rig_fw_protos[app.o.proto].timeout_ms;
	/* O_NONBLOCK: a read must never wait (select_one looks first, this is the second guard).
	 * No line settings: semihosting has no ioctl; bmssim's pty is raw already. */
	app.fd = sh_call(SH_OPEN, (int32_t)(uintptr_t)app.o.port, SH_O_RDWR | SH_O_NOCTTY | SH_O_NONBLOCK,
	                 0, &err);
	if (app.fd < 0) {
		struct out o;

		o_init(&o, 2);
		o_str(&o, PROG ": ");
		o_str(&o, app.o.port);
		o_field(&o, ": cannot open (host errno ", (uint32_t)err);
		o_str(&o, err == 2 ? ": no such file)\n" : ")\n");
		o_flush(&o);
		return EXIT_USAGE;
	}
	app.clk.khz = app.o.ccount_khz;
	app.clk.last = lx_ccount();
	cfg.proto = (enum fw_proto)app.o.proto;
	cfg.client.address = (uint8_t)app.o.address;
	cfg.client.poll_ms = app.o.poll_ms;
	cfg.client.timeout_ms = app.o.timeout_ms;
	cfg.client.retries = (uint8_t)app.o.retries;
	cfg.policy = app.o.policy;
	cfg.policy_drives_fets = app.o.policy_fets;
	memset(&hal, 0, sizeof hal);
	hal.bms.ctx = &app;
	hal.bms.read = bms_read;
	hal.bms.write = bms_write;
	hal.ctx = &app;
	hal.now_ms = hal_now_ms;
	hal.set_relay = hal_set_relay;
	hal.telemetry = hal_telemetry;
	hal.log = hal_log;
	if (app.o.verbose)
		say(app.o.port, " open: ", rig_fw_protos[app.o.proto].name, NULL);
	rig_fw_init(&app.fw, &hal, &cfg);

	rc = run(&app);
	report_figures(&app);
	st = rig_fw_stats(&app.fw);
	if (!app.o.quiet) {
		struct out o;

		o_init(&o, 2);
		o_str(&o, PROG ": ");
		o_field(&o, "", st->cycles_ok);
		o_field(&o, " cycles ok, ", st->cycles_failed);
		o_field(&o, " failed (", st->requests);
		o_field(&o, " requests, ", st->timeouts);
		o_field(&o, " timeouts, ", st->error_replies);
		o_str(&o, " error replies)\n");
		o_flush(&o);
	}
	sh_call(SH_CLOSE, app.fd, 0, 0, NULL);
	return rc;
}
