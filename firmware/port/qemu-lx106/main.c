/* bmsmon-lx106: the firmware core as a virtual NodeMCU. The ESP8266's CPU core (an Xtensa lx106)
 * in QEMU's `sim` machine; the BMS's serial port, the console and the command line reach it
 * through semihosting (semihost.h). What bmsmon does on Linux, on the board's own CPU: open the
 * BMS port, build fw_cfg from flags, run rig_fw_step in a loop and write one telemetry line per poll
 * cycle. No heap, no stdio: everything here is static or on the stack, and printing is a few
 * helpers over one buffer.
 *
 * Bridge mode, on the same flags as bmsmon's (several --port, --address N,N.., --inverter
 * PROTO:PATH): the core's bridge (bridge.h) instead of fw, its telemetry line with the `inv`
 * object. Semihosting cannot make a pty, so the inverter's PATH must exist already (the judge's
 * pty, hil/dut_process_inverter) and is opened like a BMS port. fw and the bridge share one
 * static block (a union): the one-BMS mode's RAM grows only by what the bridge needs beyond fw.
 *
 * At exit (--count or --duration-s reached, or the port lost) it adds two lines on stdout for
 * the port's own figures:
 *   BMSRIG-STACK {"used_bytes":N,"size_bytes":N,"core_bytes":N}   deepest stack use (painted
 *                   at the first step), and of that what the core used below the port's frames
 *   BMSRIG-PERF {...}                               poll-cycle time and the CPU work per cycle
 * They do not start with "BMSRIG " (with a space), so telemetry readers skip them. */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/bridge.h"
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

#define LINKS_MAX RIG_BRIDGE_LINKS_MAX
#define PROTO_UNSET (-1)

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* One --port and the --proto/--address that followed it; those before the first --port are
 * every port's (bmsmon's rule). */
struct link_opt {
	const char *port;
	int proto;                   /* enum fw_proto, or PROTO_UNSET */
	uint8_t addr[RIG_BRIDGE_PACKS_MAX];
	uint8_t addr_count;          /* 0: not given */
};

struct opts {
	struct link_opt dflt, link[LINKS_MAX];
	uint32_t links;
	uint32_t poll_ms, timeout_ms, count, duration_s, baud, ccount_khz, icount_shift;
	uint32_t retries;
	const char *inv_path;        /* --inverter PROTO:PATH, the PATH */
	uint8_t inv_proto;
	uint32_t inv_address, cells, stale_ms, comm_alarm_ms;   /* the bridge's */
	struct policy_cfg policy;
	uint8_t policy_fets, quiet, verbose, help;
};

/* One host file descriptor the firmware reads and writes: a BMS port or the inverter's. */
struct line {
	const char *path;
	int32_t fd;
	uint8_t lost;                /* end of file or I/O error seen */
	uint8_t bridge;              /* a lost line goes silent instead of ending the run */
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
	uint32_t core_depth;         /* stack depth the core is called at (lx_stack_depth in step) */
	uint32_t timed, cycle_ms_sum, cycle_ms_min, cycle_ms_max;   /* first request to report */
	uint32_t cycle_start_ms;
	uint8_t in_cycle;
};

struct app {
	struct opts o;
	struct link_opt *cur;        /* where --proto and --address go while parsing */
	struct line line[LINKS_MAX + 1];   /* the BMS ports, then (bridge) the inverter's */
	uint32_t n_lines;
	union {                      /* one mode runs: the one-BMS core or the bridge */
		struct fw fw;
		struct rig_bridge bridge;
	} core;
	uint8_t bridge;
	struct clock clk;
	struct perf perf;
	uint32_t lines;
	uint8_t relay, line_now;
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

static void o_field(struct out *o, const char *key, uint64_t v)
{
	o_str(o, key);
	o_u64(o, v);
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

/* "bmsmon-lx106: SHOWN: expected one of NAMES; got "VAL"": the names this build carries
 * (firmware/core/with.h), so a board built with fewer protocols names only its own. */
static void say_protos(const char *shown, const char *val)
{
	struct out o;
	const char *sep = ": expected one of ";
	int i;

	o_init(&o, 2);
	o_str(&o, PROG ": ");
	o_str(&o, shown);
	for (i = 0; i < FW_PROTO_COUNT; i++)
		if (rig_fw_protos[i].name) {
			o_str(&o, sep);
			o_str(&o, rig_fw_protos[i].name);
			sep = ", ";
		}
	o_str(&o, "; got \"");
	o_str(&o, val);
	o_str(&o, "\"\n");
	o_flush(&o);
}

/* "bmsmon-lx106: SHOWN: unknown protocol "NAME" (the inverter protocols this build carries)". */
static void say_inv_protos(const char *shown, const char *name)
{
	struct out o;
	const char *sep = " (";
	uint8_t i, p;

	o_init(&o, 2);
	o_str(&o, PROG ": ");
	o_str(&o, shown);
	o_str(&o, ": unknown protocol \"");
	o_str(&o, name);
	o_str(&o, "\"");
	for (i = 0; i < RIG_INV_PROTO_COUNT; i++)
		if (rig_inv_port_proto_parse(rig_inv_port_proto_name(i), &p) == RIG_OK) {
			o_str(&o, sep);
			o_str(&o, rig_inv_port_proto_name(i));
			sep = ", ";
		}
	o_str(&o, *sep == ',' ? ")\n" : " (this build has no inverter port)\n");
	o_flush(&o);
}

/* ---- the command line -------------------------------------------------------------------- */

static const char usage_text[] =
	"usage: bmsmon-lx106 --port PATH [options]\n"
	"       bmsmon-lx106 [options] --port PATH [--proto P --address A,B..] --port PATH ... \\\n"
	"                    [--inverter PROTO:PATH]\n"
	"The bmsrig firmware core on an emulated ESP8266 CPU (QEMU -M sim -cpu lx106, semihosting):\n"
	"polls a smart BMS and prints one telemetry line (\"BMSRIG {json}\") per poll cycle.\n"
	"\n"
	"  -p, --port PATH       the BMS's pty or serial port on the host (opened through semihosting;\n"
	"                        a serial port must already be raw at its speed: semihosting cannot set it)\n"
	"  -P, --proto NAME      jbd, jbd-ble, daly, daly-ble, jk, jk-ble, byd, jk-pb, thornwave,\n"
	"                        thornwave-x (default jbd)\n"
	"  -b, --baud N          accepted for bmsmon's command lines; ignored (see --port)\n"
	"  -i, --poll-ms N       start of one poll cycle to the next, 100..600000 (default 1000)\n"
	"  -t, --timeout-ms N    request to complete reply, 10..60000 (default: the protocol's)\n"
	"      --retries N       resends of a request before the cycle fails, 0..10 (default 3)\n"
	"      --address N[,N..] the BMS's address on an RS485 bus (default: the protocol's);\n"
	"                        several: the packs on that bus, polled in turn (bridge mode)\n"
	"  -n, --count N         exit after N telemetry lines (default 0 = run until stopped)\n"
	"  -d, --duration-s N    exit after N seconds (default 0 = run until stopped)\n"
	"Safety policy (as bmsmon; defaults for LFP)\n"
	"      --cell-max-mv N   --cell-min-mv N   --cell-hyst-mv N\n"
	"      --temp-max-dk N   --temp-min-dk N   --temp-hyst-dk N\n"
	"      --silent-polls N  --policy-fets (one BMS only)\n"
	"Bridge: several packs as one battery (--port up to 4 times, or --address N,N.., or\n"
	"--inverter). --proto and --address apply to the --port they follow; given before the\n"
	"first --port, to every port. The telemetry line carries the aggregate and an \"inv\" object.\n"
	"      --inverter P:PATH  play the battery toward an inverter on PATH, an existing pty\n"
	"                        (semihosting cannot create one): pylontech-can (slcan),\n"
	"                        pylontech-rs485, deye-modbus\n"
	"      --inverter-address N  the slave address it answers at (RS485: default 2; Deye: 1)\n"
	"      --cells N         cells in series per pack, for the aggregator's limits (default 16)\n"
	"      --stale-ms N      a silent pack's share is taken out after N ms (default: the core's)\n"
	"      --comm-alarm-ms N  and the communication alarm rises after N ms\n"
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
	"lost (one BMS; in bridge mode a lost port's packs only go silent), 2 bad usage or a port\n"
	"that cannot be opened, 3 a CPU exception.\n";

/* K_PORT starts a link, K_PROTO and K_ADDRS fill the current one (dst unused). */
enum opt_kind { K_FLAG, K_U32, K_U16, K_PORT, K_PROTO, K_ADDRS, K_INVERTER };

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
	{ "port", 'p', K_PORT, 0, 0, NULL },
	{ "proto", 'P', K_PROTO, 0, 0, NULL },
	{ "baud", 'b', K_U32, 1, 4000000, &app.o.baud },
	{ "poll-ms", 'i', K_U32, 100, 600000, &app.o.poll_ms },
	{ "timeout-ms", 't', K_U32, 10, 60000, &app.o.timeout_ms },
	{ "retries", 0, K_U32, 0, 10, &app.o.retries },
	{ "address", 0, K_ADDRS, 0, 254, NULL },
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
	{ "inverter", 0, K_INVERTER, 0, 0, NULL },
	{ "inverter-address", 0, K_U32, 0, 255, &app.o.inv_address },
	{ "cells", 0, K_U32, 1, PACK_CELLS_MAX, &app.o.cells },
	{ "stale-ms", 0, K_U32, 100, 3600000, &app.o.stale_ms },
	{ "comm-alarm-ms", 0, K_U32, 100, 3600000, &app.o.comm_alarm_ms },
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

/* --address N or N,N,..: the current port's addresses (several: a bus polled in turn). */
static int set_addrs(const char *shown, const char *s, struct link_opt *l)
{
	l->addr_count = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char tok[12];
		uint32_t v;

		if (l->addr_count == RIG_BRIDGE_PACKS_MAX) {
			struct out o;

			o_init(&o, 2);
			o_str(&o, PROG ": ");
			o_str(&o, shown);
			o_field(&o, ": at most ", RIG_BRIDGE_PACKS_MAX);
			o_str(&o, " addresses on a port\n");
			o_flush(&o);
			return 0;
		}
		if (n >= sizeof tok) {
			say(shown, ": expected N or N,N,.. (0..254 each), got \"", s, "\"");
			return 0;
		}
		memcpy(tok, s, n);
		tok[n] = '\0';
		if (!parse_u32(shown, tok, 0, 254, &v))
			return 0;
		l->addr[l->addr_count++] = (uint8_t)v;
		if (!comma)
			return 1;
		s = comma + 1;
	}
}

/* --inverter PROTO:PATH; the protocol names are the core's (rig_inv_port_proto_parse). */
static int set_inverter(const char *shown, const char *s)
{
	const char *colon = strchr(s, ':');
	char name[32];

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= sizeof name) {
		say(shown, ": expected PROTO:PATH (pylontech-can, pylontech-rs485, deye-modbus), got \"", s, "\"");
		return 0;
	}
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	if (rig_inv_port_proto_parse(name, &app.o.inv_proto) != RIG_OK) {
		say_inv_protos(shown, name);
		return 0;
	}
	if (!strncmp(colon + 1, "tcp:", 4)) {
		say(shown, ": tcp: is not served here; use a pty PATH", NULL, NULL);
		return 0;
	}
	app.o.inv_path = colon + 1;
	return 1;
}

static int set_opt(const struct opt *d, const char *shown, const char *val)
{
	uint32_t v;

	switch (d->kind) {
	case K_PORT:
		if (app.o.links == LINKS_MAX) {
			struct out o;

			o_init(&o, 2);
			o_str(&o, PROG ": ");
			o_str(&o, shown);
			o_field(&o, ": at most ", LINKS_MAX);
			o_str(&o, " ports (a bus of several packs is one port with --address N,N..)\n");
			o_flush(&o);
			return 0;
		}
		app.cur = &app.o.link[app.o.links++];
		app.cur->port = val;
		app.cur->proto = PROTO_UNSET;
		return 1;
	case K_ADDRS:
		return set_addrs(shown, val, app.cur);
	case K_INVERTER:
		return set_inverter(shown, val);
	case K_U32:
		return parse_u32(shown, val, d->min, d->max, (uint32_t *)d->dst);
	case K_U16:
		if (!parse_u32(shown, val, d->min, d->max, &v))
			return 0;
		*(uint16_t *)d->dst = (uint16_t)v;
		return 1;
	case K_PROTO:
		app.cur->proto = rig_fw_proto_find(val);
		if (app.cur->proto >= 0)
			return 1;
		say_protos(shown, val);
		return 0;
	default:
		*(uint8_t *)d->dst = 1;
		return 1;
	}
}

/* 1 when the options ask for the bridge rather than one BMS (bmsmon's rule). */
static int bridge_mode(const struct opts *o)
{
	uint32_t i;

	if (o->links > 1 || o->inv_path)
		return 1;
	for (i = 0; i < o->links; i++)
		if (o->link[i].addr_count > 1)
			return 1;
	return 0;
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
	app.o.dflt.proto = PROTO_UNSET;
	app.o.cells = 16;
	app.cur = &app.o.dflt;
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
	if (!app.o.links) {
		say("--port is required (see --help)", NULL, NULL, NULL);
		return EXIT_USAGE;
	}
	for (i = 0; i < (int)app.o.links; i++) {
		struct link_opt *l = &app.o.link[i];

		if (l->proto == PROTO_UNSET)
			l->proto = app.o.dflt.proto == PROTO_UNSET ? FW_PROTO_JBD : app.o.dflt.proto;
		if (!l->addr_count) {
			memcpy(l->addr, app.o.dflt.addr, sizeof l->addr);
			l->addr_count = app.o.dflt.addr_count;
		}
	}
	app.bridge = (uint8_t)bridge_mode(&app.o);
	if (app.bridge && app.o.policy_fets) {
		say("--policy-fets works with one BMS only, not in bridge mode", NULL, NULL, NULL);
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

/* A line that failed: one BMS ends the run (run() looks); in bridge mode the line goes quiet
 * (its packs fall silent and the aggregator takes their share out, as bmsmon does). */
static void line_lost(struct line *l)
{
	if (!l->lost && l->bridge && !app.o.quiet)
		say(l->path, ": port lost (end of file or I/O error); its packs go silent", NULL, NULL);
	l->lost = 1;
}

static int32_t line_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct line *l = ctx;
	uint16_t done = 0;
	int tries = 0;

	if (l->lost)
		return l->bridge ? n : RIG_ERR_IO;   /* a dead wire swallows what is sent */
	/* Replies are small; a full pty buffer is worth a few short waits, not more. */
	while (done < n && tries < 10) {
		int32_t err, k = sh_call(SH_WRITE, l->fd, (int32_t)(uintptr_t)(p + done), n - done, &err);

		if (k > 0) {
			done = (uint16_t)(done + k);
		} else if (k < 0 && err != SH_EAGAIN && err != SH_EINTR) {
			line_lost(l);
			return RIG_ERR_IO;
		} else {
			tries++;
			wait_fd(l->fd, SH_SELECT_WRITE, 10);
		}
	}
	return done;
}

static int32_t line_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct line *l = ctx;
	int32_t err, n;

	/* Never block: select_one with a zero timeout first. */
	if (l->lost || !cap || wait_fd(l->fd, SH_SELECT_READ, 0) <= 0)
		return 0;
	n = sh_call(SH_READ, l->fd, (int32_t)(uintptr_t)p, cap, &err);
	if (n > 0)
		return n;
	if (n < 0 && (err == SH_EAGAIN || err == SH_EINTR))
		return 0;
	/* End of file, or EIO: a pty whose other side (the emulator) has gone. */
	line_lost(l);
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

/* The line whose bytes wake the loop: the BMS port with one BMS. Semihosting's select_one
 * watches one fd, so in bridge mode it is the first live one (the bus, in the usual layout);
 * the other lines are read at the next tick, TICK_MS later at most. -1: every line is lost. */
static int32_t wake_fd(const struct app *a)
{
	uint32_t i;

	for (i = 0; i < a->n_lines; i++)
		if (!a->line[i].lost)
			return a->line[i].fd;
	return -1;
}

/* Waits for the next step: until fd has bytes or a tick has passed. `stuck`: bytes are
 * waiting that the core did not take in the last step (it reads only while it expects a reply),
 * so waking on them would spin. Returns 1 when fd is readable after the wait. */
static int wait_step(struct app *a, int32_t fd, int stuck)
{
	if (a->o.icount_shift != ICOUNT_OFF || fd < 0) {
		/* Under -icount the virtual clock (and CCOUNT) moves only with instructions, or with
		 * host time while the CPU is halted: a semihosting call that blocks stops it. So the
		 * wait is WAITI until a CCOMPARE0 deadline, and the port is only looked at. (Also the
		 * only sleep left when no line is.) */
		if (fd < 0) {
			lx_sleep_until(lx_ccount() + TICK_MS * a->clk.khz);
			return 0;
		}
		if (!stuck && wait_fd(fd, SH_SELECT_READ, 0) > 0)
			return 1;
		lx_sleep_until(lx_ccount() + ICOUNT_TICK_MS * a->clk.khz);
		return wait_fd(fd, SH_SELECT_READ, 0) > 0;
	}
	/* Otherwise the virtual clock is host time and select_one sleeps in the host. WAITI would
	 * work too but can lose its wake-up: if the host deschedules QEMU between arming CCOMPARE0
	 * and WAITI for longer than the wait, the deadline passes and the timer fires only after
	 * the next CCOUNT wrap. */
	if (stuck) {
		/* A plain sleep: the exceptional condition of a tty (packet-mode data) never comes
		 * on the side a monitor opens, so this waits the full tick whatever the port holds. */
		wait_fd(fd, SH_SELECT_EXCEPT, TICK_MS);
		return wait_fd(fd, SH_SELECT_READ, 0) > 0;
	}
	return wait_fd(fd, SH_SELECT_READ, TICK_MS) > 0;
}

/* One step of the core, timed in CCOUNT; with one BMS a poll cycle is timed from the step that
 * sends its first request to the step that reports it (the bridge's reports come on a clock,
 * not at the end of a cycle: not timed). */
static void step(struct app *a, uint32_t now)
{
	struct perf *p = &a->perf;
	uint32_t requests = a->bridge ? 0u : rig_fw_stats(&a->core.fw)->requests, t0, dt;

	a->line_now = 0;
	if (!p->steps) {             /* the core's stack use from here on, not the parsing's */
		p->core_depth = lx_stack_depth();
		lx_stack_repaint();
	}
	t0 = lx_ccount();
	if (a->bridge)
		rig_bridge_step(&a->core.bridge, now);
	else
		rig_fw_step(&a->core.fw, now);
	dt = lx_ccount() - t0;
	p->busy_ccount += dt;
	if (!p->steps++ || dt < p->step_min)
		p->step_min = dt;
	if (a->bridge)
		return;
	if (!p->in_cycle && rig_fw_stats(&a->core.fw)->requests != requests) {
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
		int32_t fd = wake_fd(a);
		int readable = wait_step(a, fd, stuck);
		uint32_t now = clock_ms(&a->clk);

		elapsed += (uint32_t)(now - last);   /* 64-bit: --duration-s may outlast a u32 wrap */
		last = now;
		step(a, now);
		if (!a->bridge && a->line[0].lost) {
			say(a->line[0].path, ": port lost (end of file or I/O error)", NULL, NULL);
			return EXIT_RUNTIME;
		}
		if ((a->o.count && a->lines >= a->o.count) || (end_ms && elapsed >= end_ms))
			return 0;
		fd = wake_fd(a);
		stuck = readable && fd >= 0 && wait_fd(fd, SH_SELECT_READ, 0) > 0;
	}
}

static void report_figures(struct app *a)
{
	const struct perf *p = &a->perf;
	uint32_t reports = a->lines ? a->lines : 1u, used = lx_stack_used();   /* before printing */
	struct out o;

	o_init(&o, 1);
	o_field(&o, "BMSRIG-STACK {\"used_bytes\":", used);
	o_field(&o, ",\"size_bytes\":", lx_stack_size());
	o_field(&o, ",\"core_bytes\":", used - p->core_depth);
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

/* Opens path as the next line. O_NONBLOCK: a read must never wait (select_one looks first,
 * this is the second guard). No line settings: semihosting has no ioctl; bmssim's pty and the
 * judge's are raw already. Returns the line, or NULL after the message. */
static struct line *open_line(const char *what, const char *path)
{
	struct line *l = &app.line[app.n_lines];
	int32_t err;

	l->path = path;
	l->bridge = app.bridge;
	l->fd = sh_call(SH_OPEN, (int32_t)(uintptr_t)path, SH_O_RDWR | SH_O_NOCTTY | SH_O_NONBLOCK, 0, &err);
	if (l->fd < 0) {
		struct out o;

		o_init(&o, 2);
		o_str(&o, PROG ": ");
		o_str(&o, what);
		o_str(&o, path);
		o_field(&o, ": cannot open (host errno ", (uint32_t)err);
		o_str(&o, err == 2 ? ": no such file)\n" : ")\n");
		o_flush(&o);
		return NULL;
	}
	app.n_lines++;
	return l;
}

/* One BMS: struct fw on the one port, as this port always ran. */
static int start_fw(void)
{
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
	const struct link_opt *l = &app.o.link[0];
	struct fw_hal hal;
	struct line *line = open_line("", l->port);

	if (!line)
		return EXIT_USAGE;
	cfg.proto = (enum fw_proto)l->proto;
	cfg.client.address = l->addr_count ? l->addr[0] : 0;
	cfg.client.poll_ms = app.o.poll_ms;
	cfg.client.timeout_ms = app.o.timeout_ms ? app.o.timeout_ms : rig_fw_protos[l->proto].timeout_ms;
	cfg.client.retries = (uint8_t)app.o.retries;
	cfg.policy = app.o.policy;
	cfg.policy_drives_fets = app.o.policy_fets;
	memset(&hal, 0, sizeof hal);
	hal.bms.ctx = line;
	hal.bms.read = line_read;
	hal.bms.write = line_write;
	hal.ctx = &app;
	hal.now_ms = hal_now_ms;
	hal.set_relay = hal_set_relay;
	hal.telemetry = hal_telemetry;
	hal.log = hal_log;
	if (app.o.verbose)
		say(l->port, " open: ", rig_fw_protos[l->proto].name, NULL);
	rig_fw_init(&app.core.fw, &hal, &cfg);
	return -1;
}

/* Several packs: the core's bridge over every port, and the inverter port on its pty; the
 * links' configuration as bmsmon's (rig_bridge_link_set). */
static int start_bridge(void)
{
	static struct rig_bridge_cfg cfg;   /* ~0.5 KB: not on the 4 KB-class stack */
	struct client_cfg timing = CLIENT_CFG_DEFAULT;
	struct rig_bridge_hal hal;
	uint32_t i;

	rig_bridge_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, (uint8_t)app.o.cells);
	cfg.policy = app.o.policy;
	if (app.o.stale_ms)
		cfg.agg.stale_ms = app.o.stale_ms;
	if (app.o.comm_alarm_ms)
		cfg.agg.comm_alarm_ms = app.o.comm_alarm_ms;
	memset(&hal, 0, sizeof hal);
	timing.poll_ms = app.o.poll_ms;
	timing.timeout_ms = app.o.timeout_ms;
	timing.retries = (uint8_t)app.o.retries;
	cfg.link_count = (uint8_t)app.o.links;
	for (i = 0; i < app.o.links; i++) {
		const struct link_opt *l = &app.o.link[i];
		struct line *line = open_line("", l->port);

		if (!line)
			return EXIT_USAGE;
		rig_bridge_link_set(&cfg.link[i], (uint8_t)l->proto, &timing, l->addr, l->addr_count);
		hal.bms[i].ctx = line;
		hal.bms[i].read = line_read;
		hal.bms[i].write = line_write;
		if (app.o.verbose)
			say(l->port, " open: ", rig_fw_protos[l->proto].name, l->addr_count > 1 ? " (a bus)" : NULL);
	}
	if (app.o.inv_path) {
		struct line *line = open_line("--inverter: ", app.o.inv_path);

		if (!line)
			return EXIT_USAGE;
		cfg.inverter = 1;
		cfg.inv.proto = app.o.inv_proto;
		cfg.inv.address = (uint8_t)app.o.inv_address;
		hal.inverter.ctx = line;
		hal.inverter.read = line_read;
		hal.inverter.write = line_write;
		if (app.o.verbose)
			say("inverter port ", rig_inv_port_proto_name(app.o.inv_proto), " on ", app.o.inv_path);
	}
	hal.ctx = &app;
	hal.set_relay = hal_set_relay;
	hal.telemetry = hal_telemetry;
	hal.log = hal_log;
	if (rig_bridge_init(&app.core.bridge, &hal, &cfg, clock_ms(&app.clk)) != RIG_OK) {
		struct out o;

		o_init(&o, 2);
		o_field(&o, PROG ": more than ", RIG_BRIDGE_PACKS_MAX);
		o_str(&o, " packs, or a setting the bridge refuses (--proto pylontech-rs485 is not offered "
		          "on a link)\n");
		o_flush(&o);
		return EXIT_USAGE;
	}
	return -1;
}

static void report_stats(void)
{
	struct out o;
	uint32_t i;

	o_init(&o, 2);
	if (app.bridge) {
		for (i = 0; i < app.core.bridge.pack_count; i++) {
			o_field(&o, PROG ": pack ", i);
			o_field(&o, ": ", app.core.bridge.pack[i].cycles_ok);
			o_field(&o, " cycles ok, ", app.core.bridge.pack[i].cycles_failed);
			o_str(&o, " failed\n");
		}
	} else {
		const struct client_stats *st = rig_fw_stats(&app.core.fw);

		o_str(&o, PROG ": ");
		o_field(&o, "", st->cycles_ok);
		o_field(&o, " cycles ok, ", st->cycles_failed);
		o_field(&o, " failed (", st->requests);
		o_field(&o, " requests, ", st->timeouts);
		o_field(&o, " timeouts, ", st->error_replies);
		o_str(&o, " error replies)\n");
	}
	o_flush(&o);
}

int lx_main(void)
{
	char **argv;
	uint32_t i;
	int argc = get_args(&argv), rc;

	if (argc < 0)
		return EXIT_USAGE;
	rc = parse_args(argc, argv);
	if (rc >= 0)
		return rc;
	app.clk.khz = app.o.ccount_khz;
	app.clk.last = lx_ccount();
	rc = app.bridge ? start_bridge() : start_fw();
	if (rc < 0) {
		rc = run(&app);
		report_figures(&app);
		if (!app.o.quiet)
			report_stats();
	}
	for (i = 0; i < app.n_lines; i++)
		sh_call(SH_CLOSE, app.line[i].fd, 0, 0, NULL);
	return rc;
}
