/* bmsmon: the firmware core as a Linux process, polling a BMS over a serial port or a pty and
 * printing its telemetry lines (docs/architecture.md, "Telemetry line"). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bmsrig/lib/cli.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/lib/serial.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1.0"
#endif

#define TICK_MS 10   /* the longest rig_fw_step may wait for: well inside a 9600-baud byte gap */

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct opts {
	const char *port;
	uint32_t baud, poll_ms, timeout_ms, count, duration_s;   /* baud, timeout 0: protocol's */
	uint32_t retries;
	int proto;                                               /* enum fw_proto, or PROTO_AUTO */
	uint32_t address;                                        /* on an RS485 bus; 0 = default */
	int pretty, list, quiet, verbose;
	struct policy_cfg policy;
	uint8_t policy_drives_fets;
};

struct app {
	struct opts o;
	struct host_serial *serial;
	struct fw fw;
	struct timespec t0;
	uint32_t lines;
	uint8_t relay;
	int tty_out, drawn;
};

#define PROTO_AUTO (-1)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	"usage: bmsmon --port PATH [options]\n"
	"       bmsmon --list-ports\n"
	"Polls a smart BMS with the bmsrig firmware core and prints one telemetry line\n"
	"(\"BMSRIG {json}\") per poll cycle on stdout.\n"
	"\n"
	"  -p, --port PATH       serial port or pty (e.g. /dev/ttyUSB0, /tmp/bmsrig/jbd0)\n"
	"  -P, --proto NAME      BMS protocol: jbd, jbd-ble, daly, daly-ble, jk, jk-ble (default jbd),\n"
	"                        pylontech-can (an inverter on a battery's slcan link),\n"
	"                        or auto: try each in turn with short\n"
	"                        timeouts and keep the first that answers\n"
	"  -b, --baud N          line speed, a standard rate (default: the protocol's own)\n"
	"  -i, --poll-ms N       start of one poll cycle to the next, 100..600000 (default 1000)\n"
	"  -t, --timeout-ms N    request to complete reply, 10..60000 (default: the protocol's)\n"
	"      --retries N       resends of a request before the cycle fails, 0..10 (default 3)\n"
	"      --address N       the BMS's address on an RS485 bus (default: the protocol's)\n"
	"  -n, --count N         exit after N telemetry lines (default 0 = run until stopped)\n"
	"  -d, --duration-s N    exit after N seconds (default 0 = run until stopped)\n"
	"      --pretty          a live table instead of lines (redrawn in place on a terminal)\n"
	"Safety policy (the relay opens outside these; defaults for LFP)\n"
	"      --cell-max-mv N   highest cell voltage (default 3650)\n"
	"      --cell-min-mv N   lowest cell voltage (default 2500)\n"
	"      --cell-hyst-mv N  how far back inside before the relay closes again (default 50)\n"
	"      --temp-max-dk N   highest temperature in 0.1 K, 2731 = 0 degC (default 3281 = 55 degC)\n"
	"      --temp-min-dk N   lowest temperature in 0.1 K (default 2631 = -10 degC)\n"
	"      --temp-hyst-dk N  temperature hysteresis in 0.1 K (default 30)\n"
	"      --silent-polls N  failed polls in a row that open the relay, 0 = never (default 3)\n"
	"      --policy-fets     also switch the BMS's MOSFETs off (0xE1) while the relay is open\n"
	"  -l, --list-ports      list the serial ports found (path, description, USB VID:PID)\n"
	"  -q, --quiet           nothing on stderr but errors\n"
	"  -v, --verbose         also log the core's events and relay changes on stderr\n"
	"  -h, --help            this text\n"
	"      --version         the version\n"
	"\n"
	"Exit status: 0 done (count or duration reached, SIGINT, SIGTERM), 1 the port was lost,\n"
	"2 bad usage or a port that cannot be opened.\n");
}

/* ---- arguments -------------------------------------------------------------------------- */

/* "jbd, jbd-ble, ..." for messages. */
static const char *proto_names(void)
{
	static char buf[128];
	size_t n = 0;
	int i;

	for (i = 0; i < FW_PROTO_COUNT && n < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? ", " : "", rig_fw_protos[i].name);
	return buf;
}

static int cli_u16(const char *opt, const char *s, uint16_t min, uint16_t max, uint16_t *out)
{
	uint32_t v;

	if (!cli_u32("bmsmon", opt, s, min, max, &v))
		return 0;
	*out = (uint16_t)v;
	return 1;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_PRETTY = 256, OPT_VERSION, OPT_CELL_MAX, OPT_CELL_MIN, OPT_CELL_HYST, OPT_TEMP_MAX,
	       OPT_TEMP_MIN, OPT_TEMP_HYST, OPT_SILENT, OPT_FETS, OPT_ADDRESS, OPT_RETRIES };
	static const struct option longs[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "proto", required_argument, NULL, 'P' },
		{ "baud", required_argument, NULL, 'b' },
		{ "poll-ms", required_argument, NULL, 'i' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "count", required_argument, NULL, 'n' },
		{ "duration-s", required_argument, NULL, 'd' },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "cell-max-mv", required_argument, NULL, OPT_CELL_MAX },
		{ "cell-min-mv", required_argument, NULL, OPT_CELL_MIN },
		{ "cell-hyst-mv", required_argument, NULL, OPT_CELL_HYST },
		{ "temp-max-dk", required_argument, NULL, OPT_TEMP_MAX },
		{ "temp-min-dk", required_argument, NULL, OPT_TEMP_MIN },
		{ "temp-hyst-dk", required_argument, NULL, OPT_TEMP_HYST },
		{ "silent-polls", required_argument, NULL, OPT_SILENT },
		{ "policy-fets", no_argument, NULL, OPT_FETS },
		{ "list-ports", no_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct client_cfg dflt = CLIENT_CFG_DEFAULT;
	int c, bad = 0;

	memset(o, 0, sizeof *o);
	o->poll_ms = dflt.poll_ms;
	o->retries = dflt.retries;
	o->proto = FW_PROTO_JBD;
	o->policy = (struct policy_cfg)POLICY_CFG_LFP;
	opterr = 0;
	while (!bad && (c = getopt_long(argc, argv, ":p:P:b:i:t:n:d:lqvh", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->port = optarg; break;
		case 'P':
			o->proto = strcmp(optarg, "auto") ? rig_fw_proto_find(optarg) : PROTO_AUTO;
			if (o->proto == -1 && strcmp(optarg, "auto")) {
				fprintf(stderr, "bmsmon: --proto: expected one of %s, auto; got \"%s\"\n",
				        proto_names(), optarg);
				bad = 1;
			}
			break;
		case 'b':
			bad = !cli_u32("bmsmon", "--baud", optarg, 1, 4000000, &o->baud);
			if (!bad && !host_serial_baud_ok(o->baud)) {
				fprintf(stderr, "bmsmon: --baud: expected a standard rate such as 9600 or "
				        "115200, got \"%s\"\n", optarg);
				bad = 1;
			}
			break;
		case 'i': bad = !cli_u32("bmsmon", "--poll-ms", optarg, 100, 600000, &o->poll_ms); break;
		case 't': bad = !cli_u32("bmsmon", "--timeout-ms", optarg, 10, 60000, &o->timeout_ms); break;
		case OPT_RETRIES: bad = !cli_u32("bmsmon", "--retries", optarg, 0, 10, &o->retries); break;
		case 'n': bad = !cli_u32("bmsmon", "--count", optarg, 0, UINT32_MAX, &o->count); break;
		case 'd': bad = !cli_u32("bmsmon", "--duration-s", optarg, 0, 31536000, &o->duration_s); break;
		case OPT_PRETTY: o->pretty = 1; break;
		case OPT_ADDRESS: bad = !cli_u32("bmsmon", "--address", optarg, 0, 254, &o->address); break;
		case OPT_CELL_MAX: bad = !cli_u16("--cell-max-mv", optarg, 1000, 5000, &o->policy.cell_max_mV); break;
		case OPT_CELL_MIN: bad = !cli_u16("--cell-min-mv", optarg, 0, 5000, &o->policy.cell_min_mV); break;
		case OPT_CELL_HYST: bad = !cli_u16("--cell-hyst-mv", optarg, 0, 1000, &o->policy.cell_hyst_mV); break;
		case OPT_TEMP_MAX: bad = !cli_u16("--temp-max-dk", optarg, 2331, 4231, &o->policy.temp_max_dK); break;
		case OPT_TEMP_MIN: bad = !cli_u16("--temp-min-dk", optarg, 2331, 4231, &o->policy.temp_min_dK); break;
		case OPT_TEMP_HYST: bad = !cli_u16("--temp-hyst-dk", optarg, 0, 500, &o->policy.temp_hyst_dK); break;
		case OPT_SILENT: bad = !cli_u16("--silent-polls", optarg, 0, 1000, &o->policy.comm_fail_max); break;
		case OPT_FETS: o->policy_drives_fets = 1; break;
		case 'l': o->list = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("bmsmon %s\n", BMSRIG_VERSION); return 0;
		case ':':
			fprintf(stderr, "bmsmon: %s needs a value (see --help)\n", argv[optind - 1]);
			bad = 1;
			break;
		default:
			if (optopt)
				fprintf(stderr, "bmsmon: unknown option \"-%c\" (see --help)\n", optopt);
			else
				fprintf(stderr, "bmsmon: unknown option \"%s\" (see --help)\n", argv[optind - 1]);
			bad = 1;
			break;
		}
	}
	if (bad)
		return EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "bmsmon: unexpected argument \"%s\" (see --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->quiet && o->verbose) {
		fprintf(stderr, "bmsmon: --quiet and --verbose cannot be combined\n");
		return EXIT_USAGE;
	}
	if (!o->port && !o->list) {
		fprintf(stderr, "bmsmon: --port is required (see --help)\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* ---- --list-ports ----------------------------------------------------------------------- */

static void print_port(void *ctx, const char *path, const char *description, int vid, int pid)
{
	if (vid >= 0)
		printf("%s\t%s\t%04x:%04x\n", path, description, (unsigned)vid, (unsigned)pid);
	else
		printf("%s\t%s\t-\n", path, description);
	++*(unsigned *)ctx;
}

static int list_ports(void)
{
	unsigned n = 0;

	if (host_serial_list(print_port, &n) != RIG_OK) {
		fprintf(stderr, "bmsmon: cannot list serial ports\n");
		return EXIT_RUNTIME;
	}
	if (!n)
		printf("no serial ports found\n");
	return 0;
}

static uint32_t now_ms(void *ctx)
{
	struct app *a = ctx;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((int64_t)(ts.tv_sec - a->t0.tv_sec) * 1000000000 +
	                   (ts.tv_nsec - a->t0.tv_nsec)) / 1000000);
}

/* ---- --pretty --------------------------------------------------------------------------- */

/* v / div with `decimals` digits, truncated toward zero: the integers of the telemetry line
 * shown in everyday units. */
static const char *fixed(char *buf, size_t cap, int64_t v, unsigned div, unsigned decimals)
{
	uint64_t a = v < 0 ? (uint64_t)-v : (uint64_t)v;
	unsigned step = div, i;

	for (i = 0; i < decimals; i++)
		step /= 10;
	if (decimals)
		snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / div,
		         (int)decimals, (a % div) / step);
	else
		snprintf(buf, cap, "%s%" PRIu64, v < 0 ? "-" : "", a / div);
	return buf;
}

static void bit_names(FILE *f, uint32_t bits, const char *const *names, unsigned n)
{
	unsigned i;
	int first = 1;

	for (i = 0; i < n; i++)
		if (bits & (1u << i)) {
			fprintf(f, "%s%s", first ? "" : ", ", names[i]);
			first = 0;
		}
	if (first)
		fputs("none", f);
}

static void draw(struct app *a)
{
	static const char *const prot[] = {
		"cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut",
		"chg_oc", "dsg_oc", "short", "afe", "sw_lock"
	};
	static const char *const why[] = {
		"cell_high", "cell_low", "temp_high", "temp_low", "comm_lost", "no_data"
	};
	const struct pack_state *s = &a->fw.pack;
	const struct client_stats *st = rig_fw_stats(&a->fw);
	/* On a terminal each line ends by clearing the rest of it, so a shorter redraw leaves
	 * nothing of the previous one behind. */
	const char *eol = a->tty_out ? "\033[K\n" : "\n";
	char b1[24], b2[24], b3[24], b4[24];
	unsigned i, lo = 0, hi = 0;

	if (a->tty_out)
		fputs(a->drawn++ ? "\033[H" : "\033[H\033[2J", stdout);
	printf("bmsmon  %s  %s %" PRIu32 " baud  t %s s%s", a->o.port, rig_fw_protos[a->o.proto].name, a->o.baud,
	       fixed(b1, sizeof b1, now_ms(a), 1000, 1), eol);
	printf("link     %s  comm_fail %u  cycles %" PRIu32 " ok, %" PRIu32 " failed%s",
	       st->ok ? "ok     " : "failing", st->comm_fail, st->cycles_ok, st->cycles_failed, eol);
	if (!a->fw.have_data) {
		printf("pack     (nothing received yet)%s", eol);
	} else {
		printf("pack     %s V  %s A  SOC %u %%  %s / %s Ah  %u cycles%s",
		       fixed(b1, sizeof b1, s->pack_mV, 1000, 2),
		       fixed(b2, sizeof b2, s->current_mA, 1000, 2), s->soc_pct,
		       fixed(b3, sizeof b3, s->remain_mAh, 1000, 1),
		       fixed(b4, sizeof b4, s->full_mAh, 1000, 1), s->cycles, eol);
		for (i = 1; i < s->cell_count; i++) {
			lo = s->cell_mV[i] < s->cell_mV[lo] ? i : lo;
			hi = s->cell_mV[i] > s->cell_mV[hi] ? i : hi;
		}
		if (s->cell_count)
			printf("cells    %u  min %u mV (#%u v)  max %u mV (#%u ^)  spread %u mV%s",
			       s->cell_count, s->cell_mV[lo], lo + 1, s->cell_mV[hi], hi + 1,
			       (unsigned)(s->cell_mV[hi] - s->cell_mV[lo]), eol);
		else
			printf("cells    none%s", eol);
		for (i = 0; i < s->cell_count; i++)
			printf("%s#%-2u %5u %c%s", i % 8 ? " " : "  ", i + 1, s->cell_mV[i],
			       s->cell_count < 2 ? ' ' : i == lo ? 'v' : i == hi ? '^' : ' ',
			       i % 8 == 7 || i + 1 == s->cell_count ? eol : "");
		fputs("temps   ", stdout);
		for (i = 0; i < s->temp_count; i++)
			printf(" %s °C", fixed(b1, sizeof b1, (int64_t)s->temp_dK[i] - PACK_DK_ZERO_C, 10, 1));
		printf("%s%s", s->temp_count ? "" : " none", eol);
		printf("fets     charge %s  discharge %s%s", s->fet_chg ? "on" : "off",
		       s->fet_dsg ? "on" : "off", eol);
		fputs("prot     ", stdout);
		bit_names(stdout, s->prot, prot, sizeof prot / sizeof prot[0]);
		fputs(eol, stdout);
	}
	printf("relay    %s", a->relay ? "closed" : "open (");
	if (!a->relay) {
		bit_names(stdout, a->fw.policy.reasons, why, sizeof why / sizeof why[0]);
		fputs(")", stdout);
	}
	fputs(eol, stdout);
	fputs(a->tty_out ? "\033[J" : "\n", stdout);
	fflush(stdout);
}

/* ---- HAL -------------------------------------------------------------------------------- */

static void hal_log(void *ctx, const char *msg)
{
	struct app *a = ctx;

	if (a->o.verbose)
		fprintf(stderr, "bmsmon: %s\n", msg);
}

/* A host has no relay: the state is only recorded for --pretty (the core logs changes). */
static void set_relay(void *ctx, uint8_t closed)
{
	struct app *a = ctx;

	a->relay = closed;
}

static void telemetry(void *ctx, const char *line)
{
	struct app *a = ctx;

	a->lines++;
	if (a->o.pretty) {
		draw(a);
		return;
	}
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ---- main loop -------------------------------------------------------------------------- */

static int readable_now(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int run(struct app *a)
{
	int fd = host_serial_fd(a->serial);
	uint64_t end_ms = a->o.duration_s ? (uint64_t)a->o.duration_s * 1000u : 0;
	uint64_t elapsed = 0;
	uint32_t last = 0;
	short events = POLLIN;

	while (!stop_requested) {
		struct pollfd p = { fd, events, 0 };
		uint32_t now;

		if (poll(&p, 1, TICK_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "bmsmon: %s: poll: %s\n", a->o.port, strerror(errno));
			return EXIT_RUNTIME;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			const char *why = host_tty_lost(fd, 0);

			fprintf(stderr, "bmsmon: %s: port lost (%s)\n", a->o.port, why ? why : "hangup");
			return EXIT_RUNTIME;
		}
		now = now_ms(a);
		elapsed += (uint32_t)(now - last);   /* 64-bit: --duration-s may outlast a u32 wrap */
		last = now;
		rig_fw_step(&a->fw, now);
		/* The core reads only while it waits for a reply; bytes arriving at other times wait
		 * for its next request to drain them, and must not turn poll() into a busy loop. */
		events = (p.revents & POLLIN) && readable_now(fd) ? 0 : POLLIN;
		if ((a->o.count && a->lines >= a->o.count) || (end_ms && elapsed >= end_ms))
			break;
	}
	return 0;
}

/* Protocols --proto auto does not try, and why: the messages name them apart from the tried. */
static const struct {
	enum fw_proto proto;
	const char *why;
} auto_skips[] = {
	{ FW_PROTO_JBD_BLE, "on the wire it is jbd" },
	{ FW_PROTO_PYLON_CAN, "a battery-to-inverter link (slcan), not a BMS port" },
};

static const char *auto_skip_why(int proto)
{
	size_t k;

	for (k = 0; k < sizeof auto_skips / sizeof auto_skips[0]; k++)
		if ((int)auto_skips[k].proto == proto)
			return auto_skips[k].why;
	return NULL;
}

/* --proto auto: what real monitors do. Each protocol in turn at its own speed (or --baud),
 * one short poll cycle, the port reopened each time so its line settings are fresh; those of
 * auto_skips are not tried. Returns -1 with o->proto set when one answered, else the exit
 * status. */
static int probe(struct opts *o)
{
	static const struct fw_hal quiet;
	char tried[128] = "", skipped[256] = "";
	size_t n_tried = 0, n_skipped = 0;
	int i;

	for (i = 0; i < FW_PROTO_COUNT && !stop_requested; i++) {
		struct fw_cfg cfg = { (enum fw_proto)i, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
		uint32_t baud = o->baud ? o->baud : rig_fw_protos[i].ops->baud, t;
		struct host_serial *port;
		static struct fw fw;
		struct fw_hal hal = quiet;
		char err[256];
		int ok;

		if (auto_skip_why(i)) {
			if (!o->quiet)
				fprintf(stderr, "bmsmon: auto: %s skipped: %s\n", rig_fw_protos[i].name, auto_skip_why(i));
			if (n_skipped < sizeof skipped)
				n_skipped += (size_t)snprintf(skipped + n_skipped, sizeof skipped - n_skipped, "; skipped %s: %s",
				                              rig_fw_protos[i].name, auto_skip_why(i));
			continue;
		}
		if (n_tried < sizeof tried)
			n_tried += (size_t)snprintf(tried + n_tried, sizeof tried - n_tried, "%s%s", n_tried ? ", " : "",
			                            rig_fw_protos[i].name);
		if (host_serial_open(&port, o->port, baud, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "bmsmon: %s\n", err);
			return EXIT_USAGE;
		}
		cfg.client.timeout_ms = 300;
		cfg.client.retries = 1;
		cfg.client.address = (uint8_t)o->address;
		hal.bms = host_serial_io(port);
		rig_fw_init(&fw, &hal, &cfg);
		for (t = 0; !rig_fw_stats(&fw)->cycles_ok && !rig_fw_stats(&fw)->cycles_failed && t < 5000; t += 5) {
			rig_fw_step(&fw, t);
			poll(NULL, 0, 5);
		}
		ok = rig_fw_stats(&fw)->cycles_ok > 0;
		host_serial_close(port);
		if (!o->quiet)
			fprintf(stderr, "bmsmon: auto: %s at %" PRIu32 " baud: %s\n", rig_fw_protos[i].name, baud,
			        ok ? "answered" : "no reply");
		if (ok) {
			o->proto = i;
			o->baud = baud;
			return -1;
		}
	}
	fprintf(stderr, "bmsmon: auto: no BMS answered on %s (tried %s%s)\n", o->port, tried, skipped);
	return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	struct app app;
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
	struct fw_hal hal;
	struct sigaction sa;
	char err[256];
	const struct client_stats *st;
	int rc;

	memset(&app, 0, sizeof app);
	rc = parse_args(argc, argv, &app.o);
	if (rc >= 0)
		return rc;
	if (app.o.list)
		return list_ports();
	if (app.o.proto == PROTO_AUTO) {
		rc = probe(&app.o);
		if (rc >= 0)
			return rc;
	}
	if (!app.o.baud)
		app.o.baud = rig_fw_protos[app.o.proto].ops->baud;
	if (!app.o.timeout_ms)
		app.o.timeout_ms = rig_fw_protos[app.o.proto].timeout_ms;
	if (host_serial_open(&app.serial, app.o.port, app.o.baud, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmsmon: %s\n", err);
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &app.t0);
	app.tty_out = app.o.pretty && isatty(STDOUT_FILENO);
	cfg.proto = (enum fw_proto)app.o.proto;
	cfg.client.address = (uint8_t)app.o.address;
	cfg.client.poll_ms = app.o.poll_ms;
	cfg.client.timeout_ms = app.o.timeout_ms;
	cfg.client.retries = (uint8_t)app.o.retries;
	cfg.policy = app.o.policy;
	cfg.policy_drives_fets = app.o.policy_drives_fets;
	memset(&hal, 0, sizeof hal);
	hal.bms = host_serial_io(app.serial);
	hal.ctx = &app;
	hal.now_ms = now_ms;
	hal.set_relay = set_relay;
	hal.telemetry = telemetry;
	hal.log = hal_log;
	if (app.o.verbose)
		fprintf(stderr, "bmsmon: %s open: %s, %" PRIu32 " baud, poll %" PRIu32 " ms, timeout %"
		        PRIu32 " ms\n", app.o.port, rig_fw_protos[app.o.proto].name, app.o.baud, app.o.poll_ms,
		        app.o.timeout_ms);
	rig_fw_init(&app.fw, &hal, &cfg);

	rc = run(&app);
	st = rig_fw_stats(&app.fw);
	if (!app.o.quiet)
		fprintf(stderr, "bmsmon: %" PRIu32 " cycles ok, %" PRIu32 " failed (%" PRIu32
		        " requests, %" PRIu32 " timeouts, %" PRIu32 " error replies)\n", st->cycles_ok,
		        st->cycles_failed, st->requests, st->timeouts, st->error_replies);
	host_serial_close(app.serial);
	return rc;
}
