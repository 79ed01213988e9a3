/* bmsmon: the firmware core as a Linux process, polling a BMS over a serial port, a pty or a TCP
 * connection and printing its telemetry lines (docs/architecture.md, "Telemetry line"). With
 * several --port, an RS485 bus of several --address or an --inverter it runs the core's bridge
 * (bridge.h): the packs as one battery, announced to an inverter on a published pty, a TCP
 * listener or a socketcand server (docs/bmsmon.md). Every line opens through lib/stream.h.
 * Each telemetry line also goes to the outputs asked for (out.h): MQTT, Influx, a web view. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bmsrig/lib/cli.h"
#include "bmsrig/core/bridge.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/core/probe.h"
#include "bmsrig/lib/serial.h"
#include "bmsrig/lib/stream.h"
#include "out.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1.0"
#endif

#define TICK_MS 10   /* the longest rig_fw_step may wait for: well inside a 9600-baud byte gap */

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* One --port and the options that followed it (those before the first --port are everyone's). */
struct link_opt {
	const char *port;
	int proto;                   /* enum fw_proto, PROTO_AUTO; -2 = not given */
	uint32_t baud;               /* 0: not given */
	uint8_t addr[RIG_BRIDGE_PACKS_MAX];
	uint8_t addr_count;          /* 0: not given */
};

struct opts {
	const char *port;
	uint32_t baud, poll_ms, timeout_ms, count, duration_s;   /* baud, timeout 0: protocol's */
	uint32_t retries;
	int proto;                                               /* enum fw_proto, or PROTO_AUTO */
	uint32_t address;                                        /* on an RS485 bus; 0 = default */
	int pretty, list, quiet, verbose;
	struct policy_cfg policy;
	uint8_t policy_drives_fets;
	struct link_opt dflt;                                    /* before the first --port */
	struct link_opt link[RIG_BRIDGE_LINKS_MAX];
	unsigned links;
	const char *inv_path;                                    /* --inverter PROTO:WHERE */
	uint8_t inv_proto;
	uint32_t inv_address;                                    /* --inverter-address */
	uint32_t cells, stale_ms, comm_alarm_ms;                 /* the bridge's aggregator */
	const char *mqtt, *mqtt_topic, *influx, *http, *id;       /* outputs (out.h) */
	int ha_discovery;
};

#define PROTO_UNSET (-2)

struct app {
	struct opts o;
	struct host_stream port;                                 /* one-BMS mode */
	struct fw fw;
	struct host_stream ports[RIG_BRIDGE_LINKS_MAX];          /* bridge mode */
	struct host_stream inv;                                  /* .h NULL: no --inverter */
	struct rig_bridge bridge;
	struct timespec t0;
	uint32_t lines;
	uint8_t relay;
	int tty_out, drawn;
	struct out_set outs;
	char id[64];                                             /* --id, or the port's name */
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
	"       bmsmon [options] --port PATH [--proto P --address A,B..] --port PATH ... \\\n"
	"              [--inverter PROTO:PATH|PROTO:tcp:[ADDR:]PORT|pylontech-can:socketcand:[ADDR:]PORT]\n"
	"       bmsmon --list-ports\n"
	"Polls a smart BMS with the bmsrig firmware core and prints one telemetry line\n"
	"(\"BMSRIG {json}\") per poll cycle on stdout.\n"
	"\n"
	"  -p, --port PATH       serial port or pty (e.g. /dev/ttyUSB0, /tmp/bmsrig/jbd0), or\n"
	"                        tcp:HOST:PORT, a BMS's bytes on TCP (esp-link, ser2net, bmssim\n"
	"                        --link tcp:PORT); a lost connection is retried every 500 ms\n"
	"  -P, --proto NAME      BMS protocol: jbd, jbd-ble, daly, daly-ble, jk, jk-ble, byd (BYD PRO\n"
	"                        2.5 on RS485, address 1) (default jbd),\n"
	"                        jk-pb (a JK-PB inverter BMS on RS485, --address 1..15, default 1),\n"
	"                        the thornwave battery monitor (PowerMon, Bluetooth ATT reads;\n"
	"                        thornwave-x: newer firmware, its notified stream),\n"
	"                        a battery as an inverter polls it: deye-modbus (address 1),\n"
	"                        pylontech-rs485 (address 2), pylontech-can (an inverter on a\n"
	"                        battery's slcan link), or auto: try each in turn (Bluetooth\n"
	"                        ones waiting out a connect) and keep the first that answers,\n"
	"                        named by what its replies show: wire or Bluetooth\n"
	"  -b, --baud N          line speed, a standard rate (default: the protocol's own)\n"
	"  -i, --poll-ms N       start of one poll cycle to the next, 0..600000 (default 1000);\n"
	"                        0: back to back, each cycle as soon as the last reply is in\n"
	"  -t, --timeout-ms N    request to complete reply, 10..60000 (default: the protocol's)\n"
	"      --retries N       resends of a request before the cycle fails, 0..10 (default 3)\n"
	"      --address N[,N..] the BMS's address on an RS485 bus (default: the protocol's);\n"
	"                        several: the packs on that bus, polled in turn (bridge mode)\n"
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
	"Bridge: several packs as one battery (--port up to 4 times, or --address N,N.., or\n"
	"--inverter). --proto, --baud and --address apply to the --port they follow; given\n"
	"before the first --port they are every port's default. Up to 15 packs.\n"
	"      --inverter P:PATH  play the battery toward an inverter on a pty published at\n"
	"                        PATH (a symlink), or on PATH itself when it is a terminal\n"
	"                        (an adapter): pylontech-can (slcan), pylontech-rs485,\n"
	"                        deye-modbus; P:tcp:[ADDR:]PORT serves the same bytes on a TCP\n"
	"                        listener (127.0.0.1 unless ADDR, one client, the newest wins);\n"
	"                        pylontech-can:socketcand:[ADDR:]PORT serves the CAN frames as a\n"
	"                        socketcand server (python-can interface='socketcand')\n"
	"      --inverter-address N  the slave address it answers at (RS485: default 2; Deye:\n"
	"                        0x00..0x0E, default 0)\n"
	"      --cells N         cells a pack has when its BMS reports none (default 16)\n"
	"      --stale-ms N      a pack silent this long stops counting (default 10000)\n"
	"      --comm-alarm-ms N  ... and raises the communication alarm (default 30000)\n"
	"Outputs (each optional; docs/bmsmon.md)\n"
	"      --id NAME         this monitor's name in topics, tags and the page (default: the\n"
	"                        port's file name; \"bridge\" in bridge mode)\n"
	"      --mqtt HOST:PORT  publish the state, retained, to an MQTT broker (last will: status\n"
	"                        offline); reconnects by itself\n"
	"      --mqtt-topic PFX  topic prefix (default bmsrig/ID)\n"
	"      --ha-discovery    also publish Home Assistant MQTT discovery configs\n"
	"      --influx TARGET   InfluxDB line protocol to - (stdout, instead of the telemetry\n"
	"                        lines), udp:HOST:PORT or unix:PATH (a datagram socket)\n"
	"      --http [ADDR:]PORT  a web page and /api/v1/state (ADDR default 127.0.0.1)\n"
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

/* --address N or N,N,..: the addresses of one port (several: a bus polled in turn). */
static int parse_addresses(const char *s, struct link_opt *l)
{
	char buf[128], *tok, *save = NULL;
	uint32_t v;

	if (strlen(s) >= sizeof buf) {
		fprintf(stderr, "bmsmon: --address: too long: \"%s\"\n", s);
		return 0;
	}
	strcpy(buf, s);
	l->addr_count = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->addr_count == RIG_BRIDGE_PACKS_MAX) {
			fprintf(stderr, "bmsmon: --address: at most %u addresses on a port\n", RIG_BRIDGE_PACKS_MAX);
			return 0;
		}
		if (!cli_u32("bmsmon", "--address", tok, 0, 254, &v))
			return 0;
		l->addr[l->addr_count++] = (uint8_t)v;
	}
	if (!l->addr_count) {
		fprintf(stderr, "bmsmon: --address: expected N or N,N,.. got \"%s\"\n", s);
		return 0;
	}
	return 1;
}

/* --inverter PROTO:PATH, PROTO:tcp:[ADDR:]PORT or pylontech-can:socketcand:[ADDR:]PORT. */
static int parse_inverter(const char *s, struct opts *o)
{
	const char *colon = strchr(s, ':');
	char name[32];

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= sizeof name) {
		fprintf(stderr, "bmsmon: --inverter: expected PROTO:PATH, PROTO:tcp:[ADDR:]PORT or "
		        "pylontech-can:socketcand:[ADDR:]PORT (pylontech-can, pylontech-rs485, deye-modbus), "
		        "got \"%s\"\n", s);
		return 0;
	}
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	if (rig_inv_port_proto_parse(name, &o->inv_proto) != RIG_OK) {
		fprintf(stderr, "bmsmon: --inverter: unknown protocol \"%s\" (pylontech-can, pylontech-rs485, "
		        "deye-modbus)\n", name);
		return 0;
	}
	/* socketcand carries CAN frames: the RS485 protocols have none to give it. */
	if (host_stream_is(colon + 1, "socketcand") && o->inv_proto != RIG_INV_PYLON_CAN) {
		fprintf(stderr, "bmsmon: --inverter: socketcand carries CAN frames: only pylontech-can, "
		        "not %s (use %s:tcp:PORT or %s:PATH)\n", name, name, name);
		return 0;
	}
	o->inv_path = colon + 1;
	return 1;
}

/* 1 when the options ask for the bridge rather than one BMS. */
static int bridge_mode(const struct opts *o)
{
	unsigned i;

	if (o->links > 1 || o->inv_path)
		return 1;
	for (i = 0; i < o->links; i++)
		if (o->link[i].addr_count > 1)
			return 1;
	return 0;
}

/* Protocols whose client would take an address outside their range for their default: the
 * user is told instead (0 always means the protocol's default). */
static const struct {
	enum fw_proto proto;
	uint32_t max;
} addr_ranges[] = {
	{ FW_PROTO_JK_PB, JK_PB_ADDR_MAX },   /* the board's DIP switches */
};

static int addr_out_of_range(const struct link_opt *l)
{
	size_t k;
	unsigned j;

	for (k = 0; k < sizeof addr_ranges / sizeof addr_ranges[0]; k++)
		for (j = 0; j < l->addr_count; j++)
			if ((int)addr_ranges[k].proto == l->proto && l->addr[j] > addr_ranges[k].max) {
				fprintf(stderr, "bmsmon: --address: %s takes 1..%u, got %u\n", rig_fw_protos[l->proto].name,
				        (unsigned)addr_ranges[k].max, (unsigned)l->addr[j]);
				return 1;
			}
	return 0;
}

/* Every port's options from its own or the defaults; one port alone fills the single-BMS
 * fields as before. Returns -1 to go on, or the exit status. */
static int resolve_links(struct opts *o)
{
	unsigned i;

	for (i = 0; i < o->links; i++) {
		struct link_opt *l = &o->link[i];

		if (l->proto == PROTO_UNSET)
			l->proto = o->dflt.proto == PROTO_UNSET ? FW_PROTO_JBD : o->dflt.proto;
		if (!l->baud)
			l->baud = o->dflt.baud;
		if (!l->addr_count) {
			memcpy(l->addr, o->dflt.addr, sizeof l->addr);
			l->addr_count = o->dflt.addr_count;
		}
		if (addr_out_of_range(l))
			return EXIT_USAGE;
	}
	if (o->links && !bridge_mode(o)) {
		o->port = o->link[0].port;
		o->proto = o->link[0].proto;
		o->baud = o->link[0].baud;
		o->address = o->link[0].addr_count ? o->link[0].addr[0] : 0;
		return -1;
	}
	if (!o->links)
		return -1;
	if (o->pretty || o->policy_drives_fets) {
		fprintf(stderr, "bmsmon: %s works with one BMS only, not in bridge mode\n",
		        o->pretty ? "--pretty" : "--policy-fets");
		return EXIT_USAGE;
	}
	for (i = 0; i < o->links; i++) {
		int p = o->link[i].proto;

		if (p == PROTO_AUTO || p == FW_PROTO_PYLON_RS485) {
			fprintf(stderr, "bmsmon: --port %s: --proto %s is not offered in bridge mode%s\n",
			        o->link[i].port, p == PROTO_AUTO ? "auto" : rig_fw_protos[p].name,
			        p == PROTO_AUTO ? "" : " (its client's 6 KB buffer; see docs/aggregator.md)");
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_PRETTY = 256, OPT_VERSION, OPT_CELL_MAX, OPT_CELL_MIN, OPT_CELL_HYST, OPT_TEMP_MAX,
	       OPT_TEMP_MIN, OPT_TEMP_HYST, OPT_SILENT, OPT_FETS, OPT_ADDRESS, OPT_RETRIES, OPT_INVERTER,
	       OPT_CELLS, OPT_STALE, OPT_COMM_ALARM, OPT_INV_ADDRESS, OPT_MQTT, OPT_MQTT_TOPIC, OPT_HA,
	       OPT_INFLUX, OPT_HTTP, OPT_ID };
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
		{ "inverter", required_argument, NULL, OPT_INVERTER },
		{ "inverter-address", required_argument, NULL, OPT_INV_ADDRESS },
		{ "cells", required_argument, NULL, OPT_CELLS },
		{ "stale-ms", required_argument, NULL, OPT_STALE },
		{ "comm-alarm-ms", required_argument, NULL, OPT_COMM_ALARM },
		{ "mqtt", required_argument, NULL, OPT_MQTT },
		{ "mqtt-topic", required_argument, NULL, OPT_MQTT_TOPIC },
		{ "ha-discovery", no_argument, NULL, OPT_HA },
		{ "influx", required_argument, NULL, OPT_INFLUX },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "id", required_argument, NULL, OPT_ID },
		{ "list-ports", no_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct client_cfg dflt = CLIENT_CFG_DEFAULT;
	struct link_opt *cur;
	int c, bad = 0;

	memset(o, 0, sizeof *o);
	o->poll_ms = dflt.poll_ms;
	o->retries = dflt.retries;
	o->proto = FW_PROTO_JBD;
	o->policy = (struct policy_cfg)POLICY_CFG_LFP;
	o->dflt.proto = PROTO_UNSET;
	o->cells = 16;
	cur = &o->dflt;
	opterr = 0;
	while (!bad && (c = getopt_long(argc, argv, ":p:P:b:i:t:n:d:lqvh", longs, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->links == RIG_BRIDGE_LINKS_MAX) {
				fprintf(stderr, "bmsmon: --port: at most %u ports (a bus of several packs is one "
				        "port with --address N,N..)\n", RIG_BRIDGE_LINKS_MAX);
				bad = 1;
				break;
			}
			cur = &o->link[o->links++];
			cur->port = optarg;
			cur->proto = PROTO_UNSET;
			break;
		case 'P':
			cur->proto = strcmp(optarg, "auto") ? rig_fw_proto_find(optarg) : PROTO_AUTO;
			if (cur->proto == -1 && strcmp(optarg, "auto")) {
				fprintf(stderr, "bmsmon: --proto: expected one of %s, auto; got \"%s\"\n",
				        proto_names(), optarg);
				bad = 1;
			}
			break;
		case 'b':
			bad = !cli_u32("bmsmon", "--baud", optarg, 1, 4000000, &cur->baud);
			if (!bad && !host_serial_baud_ok(cur->baud)) {
				fprintf(stderr, "bmsmon: --baud: expected a standard rate such as 9600 or "
				        "115200, got \"%s\"\n", optarg);
				bad = 1;
			}
			break;
		case 'i': bad = !cli_u32("bmsmon", "--poll-ms", optarg, 0, 600000, &o->poll_ms); break;
		case 't': bad = !cli_u32("bmsmon", "--timeout-ms", optarg, 10, 60000, &o->timeout_ms); break;
		case OPT_RETRIES: bad = !cli_u32("bmsmon", "--retries", optarg, 0, 10, &o->retries); break;
		case 'n': bad = !cli_u32("bmsmon", "--count", optarg, 0, UINT32_MAX, &o->count); break;
		case 'd': bad = !cli_u32("bmsmon", "--duration-s", optarg, 0, 31536000, &o->duration_s); break;
		case OPT_PRETTY: o->pretty = 1; break;
		case OPT_ADDRESS: bad = !parse_addresses(optarg, cur); break;
		case OPT_INVERTER: bad = !parse_inverter(optarg, o); break;
		case OPT_INV_ADDRESS: bad = !cli_u32("bmsmon", "--inverter-address", optarg, 0, 255, &o->inv_address); break;
		case OPT_CELLS: bad = !cli_u32("bmsmon", "--cells", optarg, 1, PACK_CELLS_MAX, &o->cells); break;
		case OPT_STALE: bad = !cli_u32("bmsmon", "--stale-ms", optarg, 100, 3600000, &o->stale_ms); break;
		case OPT_COMM_ALARM:
			bad = !cli_u32("bmsmon", "--comm-alarm-ms", optarg, 100, 3600000, &o->comm_alarm_ms);
			break;
		case OPT_CELL_MAX: bad = !cli_u16("--cell-max-mv", optarg, 1000, 5000, &o->policy.cell_max_mV); break;
		case OPT_CELL_MIN: bad = !cli_u16("--cell-min-mv", optarg, 0, 5000, &o->policy.cell_min_mV); break;
		case OPT_CELL_HYST: bad = !cli_u16("--cell-hyst-mv", optarg, 0, 1000, &o->policy.cell_hyst_mV); break;
		case OPT_TEMP_MAX: bad = !cli_u16("--temp-max-dk", optarg, 2331, 4231, &o->policy.temp_max_dK); break;
		case OPT_TEMP_MIN: bad = !cli_u16("--temp-min-dk", optarg, 2331, 4231, &o->policy.temp_min_dK); break;
		case OPT_TEMP_HYST: bad = !cli_u16("--temp-hyst-dk", optarg, 0, 500, &o->policy.temp_hyst_dK); break;
		case OPT_SILENT: bad = !cli_u16("--silent-polls", optarg, 0, 1000, &o->policy.comm_fail_max); break;
		case OPT_FETS: o->policy_drives_fets = 1; break;
		case OPT_MQTT: o->mqtt = optarg; break;
		case OPT_MQTT_TOPIC: o->mqtt_topic = optarg; break;
		case OPT_HA: o->ha_discovery = 1; break;
		case OPT_INFLUX: o->influx = optarg; break;
		case OPT_HTTP: o->http = optarg; break;
		case OPT_ID: o->id = optarg; break;
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
	if ((o->mqtt_topic || o->ha_discovery) && !o->mqtt) {
		fprintf(stderr, "bmsmon: %s needs --mqtt HOST:PORT\n", o->mqtt_topic ? "--mqtt-topic" : "--ha-discovery");
		return EXIT_USAGE;
	}
	if (o->mqtt_topic && !out_mqtt_topic_ok(o->mqtt_topic)) {
		fprintf(stderr, "bmsmon: --mqtt-topic: expected a topic of 1..99 bytes without + or # and no "
		        "trailing /, got \"%s\"\n", o->mqtt_topic);
		return EXIT_USAGE;
	}
	if (o->pretty && o->influx && !strcmp(o->influx, "-")) {
		fprintf(stderr, "bmsmon: --pretty and --influx - both want stdout; send Influx to udp: or unix:\n");
		return EXIT_USAGE;
	}
	if (o->id && (!*o->id || strlen(o->id) > 40 || strpbrk(o->id, "/+# "))) {
		fprintf(stderr, "bmsmon: --id: expected 1..40 characters without / + # or space, got \"%s\"\n", o->id);
		return EXIT_USAGE;
	}
	if (!o->links && !o->list) {
		fprintf(stderr, "bmsmon: --port is required (see --help)\n");
		return EXIT_USAGE;
	}
	return resolve_links(o);
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
		bit_names(stdout, s->prot, out_prot_names, out_prot_count);
		fputs(eol, stdout);
	}
	printf("relay    %s", a->relay ? "closed" : "open (");
	if (!a->relay) {
		bit_names(stdout, a->fw.policy.reasons, out_why_names, out_why_count);
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
	out_publish_line(&a->outs, line, a->id);
	if (a->o.pretty) {
		draw(a);
		return;
	}
	if (a->o.influx && !strcmp(a->o.influx, "-"))
		return;   /* stdout carries the line protocol instead */
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A TCP port's "lost" and "back" lines (tcp.h), worded as the bridge words a lost serial port. */
static void port_note(void *ctx, const char *line)
{
	struct app *a = ctx;

	if (!a->o.quiet)
		fprintf(stderr, "bmsmon: %s\n", line);
}

static void stream_tick(struct host_stream *s)
{
	if (s->h && s->tick)
		s->tick(s->h);
}

/* ---- main loop -------------------------------------------------------------------------- */

static int readable_now(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int run(struct app *a)
{
	int fd = a->port.fd(a->port.h);
	uint64_t end_ms = a->o.duration_s ? (uint64_t)a->o.duration_s * 1000u : 0;
	uint64_t elapsed = 0;
	uint32_t last = 0;
	short events = POLLIN;

	while (!stop_requested) {
		struct pollfd fds[1 + OUT_MAX];
		struct pollfd p;
		uint32_t now;
		unsigned n;

		fds[0] = (struct pollfd){ fd, events, 0 };
		n = 1 + out_pollfds(&a->outs, fds + 1);
		if (poll(fds, n, TICK_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "bmsmon: %s: poll: %s\n", a->o.port, strerror(errno));
			return EXIT_RUNTIME;
		}
		p = fds[0];
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			const char *why = host_tty_lost(fd, 0);

			fprintf(stderr, "bmsmon: %s: port lost (%s)\n", a->o.port, why ? why : "hangup");
			return EXIT_RUNTIME;
		}
		stream_tick(&a->port);   /* a lost TCP port's reconnect, on its own cadence */
		now = now_ms(a);
		elapsed += (uint32_t)(now - last);   /* 64-bit: --duration-s may outlast a u32 wrap */
		last = now;
		rig_fw_step(&a->fw, now);
		out_service(&a->outs, now);
		/* The core reads only while it waits for a reply; bytes arriving at other times wait
		 * for its next request to drain them, and must not turn poll() into a busy loop. */
		events = (p.revents & POLLIN) && readable_now(fd) ? 0 : POLLIN;
		if ((a->o.count && a->lines >= a->o.count) || (end_ms && elapsed >= end_ms))
			break;
	}
	return 0;
}

/* ---- --proto auto ---------------------------------------------------------------------- */

static uint32_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* The probe's port: the client's reads and writes pass through, and the watch sees each
 * request and each piece of reply with its arrival time (probe.h). */
struct probe_port {
	struct rig_io io;
	struct rig_probe_watch watch;
};

static int32_t probe_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct probe_port *pp = ctx;

	rig_probe_watch_request(&pp->watch);
	return pp->io.write(pp->io.ctx, p, n);
}

static int32_t probe_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct probe_port *pp = ctx;
	int32_t r = pp->io.read(pp->io.ctx, p, cap);

	if (r > 0)
		rig_probe_watch_read(&pp->watch, (uint16_t)r, mono_ms());
	return r;
}

/* Sleeps up to ms, waking early when fd has bytes (so a piece's arrival time is close to its
 * read's); with want_input 0 it only sleeps, for bytes the reader is not taking yet. */
static void wait_input(int fd, int want_input, int ms)
{
	struct pollfd p = { fd, (short)(want_input ? POLLIN : 0), 0 };

	poll(&p, 1, ms);
}

/* The JBD Bluetooth module's own query (probe.h): its answer, or -1 after wait_ms. */
static int ask_jbd_module(struct host_stream *port, uint32_t wait_ms)
{
	struct rig_io io = host_stream_io(port);
	uint8_t buf[64];
	size_t have = 0;
	uint32_t t0 = mono_ms();
	int rr = -1;

	if (io.write(io.ctx, rig_probe_jbd_module_query, RIG_PROBE_JBD_MODULE_QUERY_LEN) !=
	    (int32_t)RIG_PROBE_JBD_MODULE_QUERY_LEN)
		return -1;
	while (rr < 0 && !stop_requested && mono_ms() - t0 < wait_ms) {
		int32_t r;

		wait_input(port->fd(port->h), 1, 10);
		r = io.read(io.ctx, buf + have, (uint16_t)(sizeof buf - have));
		if (r < 0)
			return -1;
		have += (size_t)r;
		rr = rig_probe_jbd_module_reply(buf, have);
		if (have == sizeof buf) {   /* keep the last bytes: an answer may straddle */
			memmove(buf, buf + sizeof buf - 8, 8);
			have = 8;
		}
	}
	return rr;
}

/* After no row answered: does a JBD module answer its query with "a password follows"? */
static int jbd_module_waits_for_password(const struct opts *o)
{
	struct host_stream port;
	char err[256];
	int rr;

	if (host_stream_open_port(&port, o->port, o->baud ? o->baud : rig_fw_protos[FW_PROTO_JBD_BLE].ops->baud,
	                          NULL, NULL, err, sizeof err) != RIG_OK)
		return 0;
	rr = ask_jbd_module(&port, rig_fw_protos[FW_PROTO_JBD_BLE].timeout_ms);
	host_stream_close(&port);
	return rr == 0;
}

/* Why the answer got its name, for the "found" line. */
static void say_found(const struct rig_probe_row *r, uint8_t name, enum rig_probe_link link, int module)
{
	const char *n = rig_fw_protos[name].name;

	if (r->module_query && module >= 0)
		fprintf(stderr, "bmsmon: auto: found %s: a JBD Bluetooth module answered its FF AA 0x15 query\n", n);
	else if (link == RIG_PROBE_LINK_BLE)
		fprintf(stderr, "bmsmon: auto: found %s: its replies came in Bluetooth notifications\n", n);
	else if (link == RIG_PROBE_LINK_WIRE)
		fprintf(stderr, "bmsmon: auto: found %s: its replies came as a wire carries them\n", n);
	else if (r->proto_wire == r->proto_ble)
		fprintf(stderr, "bmsmon: auto: found %s\n", n);
	else
		fprintf(stderr, "bmsmon: auto: found %s: cannot tell %s from %s on this port (the same bytes, "
		        "and nothing in the replies' pieces or pacing tells); give --proto %s if it is %s\n", n,
		        rig_fw_protos[r->proto_wire].name, rig_fw_protos[r->proto_ble].name,
		        rig_fw_protos[name == r->proto_ble ? r->proto_wire : r->proto_ble].name,
		        name == r->proto_ble ? "wired" : "Bluetooth");
}

/* --proto auto: the rows of the probe table in turn (probe.h), each at its protocol's speed
 * (or --baud) with its own wait and tries, the port reopened each time so its line settings
 * are fresh. The row that answers names the protocol and its link. Returns -1 with o->proto
 * set when one answered, else the exit status. */
static int probe(struct opts *o)
{
	static const struct fw_hal quiet;
	char tried[256] = "", skipped[256] = "";
	size_t n_tried = 0, n_skipped = 0;
	uint8_t k;
	int i;

	for (i = 0; i < FW_PROTO_COUNT; i++) {
		const char *why = rig_probe_skip_why((uint8_t)i);

		if (!why)
			continue;
		if (!o->quiet)
			fprintf(stderr, "bmsmon: auto: %s skipped: %s\n", rig_fw_protos[i].name, why);
		if (n_skipped < sizeof skipped)
			n_skipped += (size_t)snprintf(skipped + n_skipped, sizeof skipped - n_skipped, "; skipped %s: %s",
			                              rig_fw_protos[i].name, why);
	}
	for (k = 0; k < rig_probe_row_count && !stop_requested; k++) {
		const struct rig_probe_row *row = &rig_probe_rows[k];
		struct fw_cfg cfg = { (enum fw_proto)row->proto, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
		uint32_t baud = o->baud ? o->baud : rig_fw_protos[row->proto].ops->baud, t0, limit;
		/* A cycle is a few requests, each with its tries; the bound only ends a stuck one. */
		struct host_stream port;
		static struct probe_port pp;
		static struct fw fw;
		struct fw_hal hal = quiet;
		char err[256];
		int ok, want_input = 1, module = -1;

		if (n_tried < sizeof tried)
			n_tried += (size_t)snprintf(tried + n_tried, sizeof tried - n_tried, "%s%s", n_tried ? ", " : "",
			                            rig_fw_protos[row->proto].name);
		if (host_stream_open_port(&port, o->port, baud, NULL, NULL, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "bmsmon: %s\n", err);
			return EXIT_USAGE;
		}
		cfg.client.timeout_ms = row->wait_ms;
		cfg.client.retries = (uint8_t)(row->tries - 1u);
		cfg.client.address = (uint8_t)o->address;
		pp.io = host_stream_io(&port);
		rig_probe_watch_init(&pp.watch, baud);
		hal.bms = (struct rig_io){ &pp, probe_write, probe_read };
		rig_fw_init(&fw, &hal, &cfg);
		limit = row->wait_ms * row->tries * 8u + 1000u;
		t0 = mono_ms();
		while (!rig_fw_stats(&fw)->cycles_ok && !rig_fw_stats(&fw)->cycles_failed && !stop_requested &&
		       mono_ms() - t0 < limit) {
			int fd = port.fd(port.h);

			rig_fw_step(&fw, mono_ms() - t0);
			wait_input(fd, want_input, 2);
			want_input = !readable_now(fd);
		}
		ok = rig_fw_stats(&fw)->cycles_ok > 0;
		if (ok && row->module_query)
			module = ask_jbd_module(&port, row->wait_ms > 500u ? row->wait_ms : 500u);
		host_stream_close(&port);
		if (!o->quiet)
			fprintf(stderr, "bmsmon: auto: %s at %" PRIu32 " baud (%" PRIu32 " ms x %u%s): %s\n",
			        rig_fw_protos[row->proto].name, baud, row->wait_ms, row->tries,
			        row->wait_ms > 1000u ? ", time for a Bluetooth connect" : "", ok ? "answered" : "no reply");
		if (ok) {
			enum rig_probe_link link = rig_probe_watch_verdict(&pp.watch);
			uint8_t name = rig_probe_name(row, link, module >= 0);

			if (!o->quiet)
				say_found(row, name, link, module);
			o->proto = name;
			o->baud = baud;
			return -1;
		}
	}
	/* A JBD module with a password forwards nothing to its BMS until a client gives it, so no
	 * row answers; the module itself still does, and saying so beats "nothing there". */
	if (!stop_requested && jbd_module_waits_for_password(o))
		fprintf(stderr, "bmsmon: auto: a JBD Bluetooth module answered on %s but wants its password "
		        "before it lets the BMS answer (FF AA 0x15 said 0x00); bmsmon does not give one\n", o->port);
	fprintf(stderr, "bmsmon: auto: no BMS answered on %s (tried %s%s)\n", o->port, tried, skipped);
	return EXIT_RUNTIME;
}

/* ---- bridge mode ------------------------------------------------------------------------ */

/* --inverter PATH that is a terminal already (an RS485 or slcan adapter wired to a real
 * inverter, or the slave of a pty a test rig made) is opened as a serial port; any other
 * PATH gets a pty published there for the inverter's side to open. */
static int is_terminal(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

/* Opens every port and the inverter's line, then steps the bridge until done. A BMS port that
 * hangs up (its emulator stopped) is only stopped being polled for: its pack goes silent and
 * the aggregator takes its share out, which is the point of a bridge. */
static int run_bridge(struct app *a)
{
	struct opts *o = &a->o;
	static struct rig_bridge_cfg cfg;
	struct client_cfg timing = CLIENT_CFG_DEFAULT;
	struct rig_bridge_hal hal;
	struct pollfd fds[RIG_BRIDGE_LINKS_MAX + 1 + OUT_MAX];
	uint64_t end_ms = o->duration_s ? (uint64_t)o->duration_s * 1000u : 0, elapsed = 0;
	uint32_t last = 0;
	char err[256];
	unsigned i, n;
	int rc = 0;

	rig_bridge_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, (uint8_t)o->cells);
	cfg.policy = o->policy;
	if (o->stale_ms)
		cfg.agg.stale_ms = o->stale_ms;
	if (o->comm_alarm_ms)
		cfg.agg.comm_alarm_ms = o->comm_alarm_ms;
	memset(&hal, 0, sizeof hal);
	timing.poll_ms = o->poll_ms;
	timing.timeout_ms = o->timeout_ms;
	timing.retries = (uint8_t)o->retries;
	cfg.link_count = (uint8_t)o->links;
	for (i = 0; i < o->links; i++) {
		struct link_opt *l = &o->link[i];
		uint32_t baud = l->baud ? l->baud : rig_fw_protos[l->proto].ops->baud;

		rig_bridge_link_set(&cfg.link[i], (uint8_t)l->proto, &timing, l->addr, l->addr_count);
		if (host_stream_open_port(&a->ports[i], l->port, baud, port_note, a, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "bmsmon: %s\n", err);
			return EXIT_USAGE;
		}
		hal.bms[i] = host_stream_io(&a->ports[i]);
		if (o->verbose)
			fprintf(stderr, "bmsmon: %s open: %s, %" PRIu32 " baud, %u pack(s)\n", l->port,
			        rig_fw_protos[l->proto].name, baud, l->addr_count > 1 ? l->addr_count : 1u);
	}
	if (o->inv_path) {
		/* The baud of a pty is only what a client's tcgetattr shows: the inverter protocols'. */
		uint32_t baud = o->inv_proto == RIG_INV_PYLON_CAN ? 115200u : 9600u;

		if ((is_terminal(o->inv_path) ? host_stream_open_port(&a->inv, o->inv_path, baud, NULL, NULL, err, sizeof err)
		                              : host_stream_serve(&a->inv, o->inv_path, baud, err, sizeof err)) != RIG_OK) {
			fprintf(stderr, "bmsmon: --inverter: %s\n", err);
			return EXIT_USAGE;
		}
		cfg.inverter = 1;
		cfg.inv.proto = o->inv_proto;
		cfg.inv.address = (uint8_t)o->inv_address;
		hal.inverter = host_stream_io(&a->inv);
		/* A network port may be port 0, which the kernel picked: say which, as bmssim's banner does. */
		if (o->verbose || (!o->quiet && strchr(o->inv_path, ':')))
			fprintf(stderr, "bmsmon: inverter port %s on %s -> %s\n", rig_inv_port_proto_name(o->inv_proto),
			        o->inv_path, a->inv.path);
	}
	hal.ctx = a;
	hal.set_relay = set_relay;
	hal.telemetry = telemetry;
	hal.log = hal_log;
	if (rig_bridge_init(&a->bridge, &hal, &cfg, now_ms(a)) != RIG_OK) {
		fprintf(stderr, "bmsmon: more than %u packs, or a setting the bridge refuses\n", RIG_BRIDGE_PACKS_MAX);
		return EXIT_USAGE;
	}
	for (i = 0; i < o->links; i++)
		fds[i] = (struct pollfd){ a->ports[i].fd(a->ports[i].h), POLLIN, 0 };
	n = o->links;
	if (a->inv.h)
		fds[n++] = (struct pollfd){ a->inv.fd(a->inv.h), POLLIN, 0 };
	while (!stop_requested) {
		uint32_t now;
		unsigned n_all = n + out_pollfds(&a->outs, fds + n);

		if (poll(fds, n_all, TICK_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "bmsmon: poll: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		for (i = 0; i < o->links; i++)
			if (fds[i].fd >= 0 && (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL))) {
				const char *why = host_tty_lost(fds[i].fd, 0);

				if (!o->quiet)
					fprintf(stderr, "bmsmon: %s: port lost (%s); its pack goes silent\n",
					        o->link[i].port, why ? why : "hangup");
				fds[i].fd = -1;
			}
		for (i = 0; i < o->links; i++)
			stream_tick(&a->ports[i]);
		now = now_ms(a);
		elapsed += (uint32_t)(now - last);
		last = now;
		rig_bridge_step(&a->bridge, now);
		out_service(&a->outs, now);
		/* As in run(): bytes the core does not read yet must not spin poll(). */
		for (i = 0; i < o->links; i++)
			if (fds[i].fd >= 0)
				fds[i].events = (fds[i].revents & POLLIN) && readable_now(fds[i].fd) ? 0 : POLLIN;
		if ((o->count && a->lines >= o->count) || (end_ms && elapsed >= end_ms))
			break;
	}
	if (!o->quiet)
		for (i = 0; i < a->bridge.pack_count; i++)
			fprintf(stderr, "bmsmon: pack %u: %" PRIu32 " cycles ok, %" PRIu32 " failed\n", i,
			        a->bridge.pack[i].cycles_ok, a->bridge.pack[i].cycles_failed);
	return rc;
}

static void close_bridge(struct app *a)
{
	unsigned i;

	for (i = 0; i < RIG_BRIDGE_LINKS_MAX; i++)
		host_stream_close(&a->ports[i]);
	host_stream_close(&a->inv);
}

/* --id, or the port's file name (/tmp/bmsrig/jbd0 -> jbd0), or "bridge"; characters a topic
 * or a Home Assistant id would trip on become '_'. */
static void make_id(struct app *a)
{
	const char *src = a->o.id, *slash;
	size_t i;

	if (!src && bridge_mode(&a->o))
		src = "bridge";
	if (!src) {
		slash = strrchr(a->o.link[0].port, '/');
		src = slash && slash[1] ? slash + 1 : a->o.link[0].port;
	}
	snprintf(a->id, sizeof a->id, "%s", src);
	for (i = 0; a->id[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", a->id[i]))
			a->id[i] = '_';
}

/* The outputs the command line asked for, in one table. 0 when one cannot open. */
static int open_outputs(struct app *a)
{
	const struct { const char *arg; const struct out_ops *ops; } want[] = {
		{ a->o.mqtt, &out_mqtt_ops }, { a->o.influx, &out_influx_ops }, { a->o.http, &out_http_ops },
	};
	struct out_cfg cfg;
	size_t i;

	make_id(a);
	/* A broker or browser that hangs up mid-write must be an error return, not the end of
	 * bmsmon (libmosquitto and libmicrohttpd send without SIGPIPE on Linux; this is the net). */
	if (a->o.mqtt || a->o.influx || a->o.http)
		signal(SIGPIPE, SIG_IGN);
	memset(&cfg, 0, sizeof cfg);
	cfg.id = a->id;
	cfg.mqtt_topic = a->o.mqtt_topic;
	cfg.ha_discovery = a->o.ha_discovery;
	cfg.quiet = a->o.quiet;
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (want[i].arg && !out_open(&a->outs, want[i].ops, want[i].arg, &cfg))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static struct app app;
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
	if (!open_outputs(&app)) {
		out_close(&app.outs);
		return EXIT_USAGE;
	}
	if (bridge_mode(&app.o)) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		clock_gettime(CLOCK_MONOTONIC, &app.t0);
		rc = run_bridge(&app);
		close_bridge(&app);
		out_close(&app.outs);
		return rc;
	}
	if (app.o.proto == PROTO_AUTO) {
		rc = probe(&app.o);
		if (rc >= 0) {
			out_close(&app.outs);
			return rc;
		}
	}
	if (!app.o.baud)
		app.o.baud = rig_fw_protos[app.o.proto].ops->baud;
	if (!app.o.timeout_ms)
		app.o.timeout_ms = rig_fw_protos[app.o.proto].timeout_ms;
	if (host_stream_open_port(&app.port, app.o.port, app.o.baud, port_note, &app, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmsmon: %s\n", err);
		out_close(&app.outs);
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
	hal.bms = host_stream_io(&app.port);
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
	host_stream_close(&app.port);
	out_close(&app.outs);
	return rc;
}
