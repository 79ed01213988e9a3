/* bmsctl: read and change a BMS's settings over its own protocol, through the firmware core's
 * codecs (docs/bmsctl.md). One program, one table of commands, one table of protocols; each
 * protocol row says how to read and write the neutral settings (include/bmsrig/sim/bms.h's
 * names and units), so the commands never see a register. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bmsctl.h"
#include "bmsrig/lib/file.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1"
#endif

#define DUMP_MAX_BYTES (256u * 1024u)

/* Exit codes (docs/bmsctl.md). */
enum {
	EXIT_OK = 0,
	EXIT_DEVICE = 1,       /* no answer, an error status, a read-back that differs */
	EXIT_USAGE = 2,        /* bad options or files, a port that cannot be opened */
	EXIT_REFUSED = 3,      /* a value refused before anything was sent */
	EXIT_DECLINED = 4,     /* the confirmation for a real serial port was not given */
};

static const struct ctl_proto *const protos[] = {
	&ctl_jbd, &ctl_daly, &ctl_jk, &ctl_jbd_ble, &ctl_daly_ble, &ctl_jk_ble, &ctl_jk_pb,
	/* byd and thornwave have no settings (docs/bmsctl.md). */
};

/* ---- output ----------------------------------------------------------------------------------- */

static const char *const prot_names[] = {
	"cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut",
	"chg_oc", "dsg_oc", "short", "afe", "sw_lock",
};

static void print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static cJSON *u16_array(const uint16_t *v, unsigned n)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}

static void print_info(const struct ctl *c, const struct ctl_info *in)
{
	if (c->json) {
		cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateArray();
		cJSON_AddStringToObject(o, "proto", c->proto->name);
		cJSON_AddStringToObject(o, "model", in->model);
		cJSON_AddNumberToObject(o, "pack_mV", in->pack_mV);
		cJSON_AddNumberToObject(o, "current_mA", in->current_mA);
		cJSON_AddNumberToObject(o, "soc_pct", in->soc_pct);
		cJSON_AddNumberToObject(o, "remain_mAh", in->remain_mAh);
		cJSON_AddNumberToObject(o, "full_mAh", in->full_mAh);
		cJSON_AddNumberToObject(o, "cycles", in->cycles);
		cJSON_AddItemToObject(o, "cells_mV", u16_array(in->cell_mV, in->cell_count));
		cJSON_AddItemToObject(o, "temps_dK", u16_array(in->temp_dK, in->temp_count));
		cJSON_AddNumberToObject(o, "fet_chg", in->fet_chg);
		cJSON_AddNumberToObject(o, "fet_dsg", in->fet_dsg);
		cJSON_AddNumberToObject(o, "bal_mask", in->bal_mask);
		cJSON_AddNumberToObject(o, "prot", in->prot);
		for (unsigned i = 0; i < CTL_N_OF(prot_names); i++)
			if (in->prot & (1u << i))
				cJSON_AddItemToArray(p, cJSON_CreateString(prot_names[i]));
		cJSON_AddItemToObject(o, "protections", p);
		print_json(o);
		return;
	}
	printf("proto        %s\nmodel        %s\n", c->proto->name, in->model);
	printf("pack         %lu mV, %ld mA, SOC %u %%, %lu/%lu mAh, %u cycles\n",
	       (unsigned long)in->pack_mV, (long)in->current_mA, in->soc_pct,
	       (unsigned long)in->remain_mAh, (unsigned long)in->full_mAh, in->cycles);
	printf("cells (mV)  ");
	for (unsigned i = 0; i < in->cell_count; i++)
		printf(" %u", in->cell_mV[i]);
	printf("\ntemps (dK)  ");
	for (unsigned i = 0; i < in->temp_count; i++)
		printf(" %u", in->temp_dK[i]);
	printf("\nfets         chg=%s dsg=%s\nbalancing    0x%lx\nprotections ",
	       in->fet_chg ? "on" : "off", in->fet_dsg ? "on" : "off", (unsigned long)in->bal_mask);
	if (!in->prot)
		printf(" none");
	for (unsigned i = 0; i < CTL_N_OF(prot_names); i++)
		if (in->prot & (1u << i))
			printf(" %s", prot_names[i]);
	putchar('\n');
}

/* name = value lines, or one JSON object {"proto":..,"settings":{name:value}} (dump's format). */
static void print_settings(const struct ctl *c, const unsigned *ids, const int32_t *v, size_t n,
                           const char *key)
{
	if (c->json || !strcmp(key, "settings")) {
		cJSON *o = cJSON_CreateObject(), *s = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "proto", c->proto->name);
		for (size_t i = 0; i < n; i++)
			cJSON_AddNumberToObject(s, bms_setting_info(ids[i])->name, v[i]);
		cJSON_AddItemToObject(o, key, s);
		print_json(o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s = %ld\n", bms_setting_info(ids[i])->name, (long)v[i]);
}

/* ---- commands --------------------------------------------------------------------------------- */

/* A name this protocol maps, as an id; -1 with the message. */
static int setting_id(const struct ctl *c, const char *name)
{
	int id = bms_setting_find(name);
	if (id < 0) {
		fprintf(stderr, "bmsctl: %s: expected a setting name (bmsctl --proto %s list)\n", name, c->proto->name);
		return -1;
	}
	if (!c->proto->has((unsigned)id)) {
		fprintf(stderr, "bmsctl: %s: %s has no such setting (bmsctl --proto %s list)\n", name,
		        c->proto->name, c->proto->name);
		return -1;
	}
	return id;
}

/* The whole settings set this protocol maps. */
static size_t all_ids(const struct ctl *c, unsigned *ids)
{
	size_t n = 0;
	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		if (c->proto->has(id))
			ids[n++] = id;
	return n;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	size_t n = all_ids(c, ids);
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < n; i++) {
		const struct bms_setting_info *in = bms_setting_info(ids[i]);
		printf("%s %ld..%ld\n", in->name, (long)in->min, (long)in->max);
	}
	return EXIT_OK;
}

static int cmd_info(struct ctl *c, int argc, char **argv)
{
	struct ctl_info in;
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "bmsctl: info: expected no arguments\n");
		return EXIT_USAGE;
	}
	if (c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	print_info(c, &in);
	return EXIT_OK;
}

static int cmd_get(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	if (argc < 1 || argc > (int)BMS_SET_COUNT) {
		fprintf(stderr, "bmsctl: get: expected one or more setting names\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int id = setting_id(c, argv[i]);
		if (id < 0)
			return EXIT_USAGE;
		ids[i] = (unsigned)id;
	}
	if (c->proto->read(c, ids, (size_t)argc, v) != 0)
		return EXIT_DEVICE;
	print_settings(c, ids, v, (size_t)argc, "get");
	return EXIT_OK;
}

static int cmd_dump(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	size_t n = all_ids(c, ids);
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "bmsctl: dump: expected no arguments (bmsctl dump > FILE.json)\n");
		return EXIT_USAGE;
	}
	if (c->proto->read(c, ids, n, v) != 0)
		return EXIT_DEVICE;
	print_settings(c, ids, v, n, "settings");
	return EXIT_OK;
}

/* A real serial port (not a pty, not tcp:) asks before it is written, unless --yes. */
static int confirm(const struct ctl *c, const char *what)
{
	char path[4096], answer[16];
	struct stat st;
	if (c->yes || host_stream_is(c->s.path, "tcp") || realpath(c->s.path, path) == NULL ||
	    !strncmp(path, "/dev/pts/", 9) || stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	fprintf(stderr, "bmsctl: %s on %s (a serial port); go on? [y/N] ", what, c->s.path);
	if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y')) {
		fprintf(stderr, "bmsctl: not written\n");
		return -1;
	}
	return 0;
}

/* Checks ranges, writes, reports each read-back. */
static int apply(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	int32_t back[BMS_SET_COUNT];
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		char why[96];
		if (bms_setting_check(ids[i], v[i], why, sizeof why) != RIG_OK) {
			fprintf(stderr, "bmsctl: %s: %s\n", bms_setting_info(ids[i])->name, why);
			return EXIT_REFUSED;
		}
	}
	if (c->proto->write == NULL) {
		fprintf(stderr, "bmsctl: %s: setting writes are not supported (docs/bmsctl.md)\n", c->proto->name);
		return EXIT_REFUSED;
	}
	if (confirm(c, "writing settings") != 0)
		return EXIT_DECLINED;
	int rc = c->proto->write(c, ids, v, n, back);
	if (rc == -2)
		return EXIT_REFUSED;
	if (rc != 0)
		return EXIT_DEVICE;
	for (size_t i = 0; i < n; i++)
		if (back[i] != v[i]) {
			fprintf(stderr, "bmsctl: %s: wrote %ld, read back %ld\n", bms_setting_info(ids[i])->name,
			        (long)v[i], (long)back[i]);
			bad = 1;
		}
	if (!c->quiet)
		print_settings(c, ids, back, n, "readback");
	return bad ? EXIT_DEVICE : EXIT_OK;
}

/* A decimal integer, whole. */
static int parse_i32(const char *s, int32_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int cmd_set(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	if (argc < 1 || argc > (int)BMS_SET_COUNT) {
		fprintf(stderr, "bmsctl: set: expected NAME=VALUE...\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		char name[64];
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof name) {
			fprintf(stderr, "bmsctl: set: expected NAME=VALUE, got \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		int id = setting_id(c, name);
		if (id < 0)
			return EXIT_USAGE;
		if (parse_i32(eq + 1, &v[i]) != 0) {
			fprintf(stderr, "bmsctl: %s: expected an integer in %s's unit, got \"%s\"\n", name, name, eq + 1);
			return EXIT_USAGE;
		}
		ids[i] = (unsigned)id;
	}
	return apply(c, ids, v, (size_t)argc);
}

static int cmd_restore(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	char *text, err[256];
	size_t len, n = 0;
	if (argc != 1) {
		fprintf(stderr, "bmsctl: restore: expected one FILE.json (from bmsctl dump)\n");
		return EXIT_USAGE;
	}
	if ((text = host_file_read_all(argv[0], DUMP_MAX_BYTES, &len, err, sizeof err)) == NULL) {
		fprintf(stderr, "bmsctl: %s\n", err);
		return EXIT_USAGE;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "proto");
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "settings"), *it;
	int rc = EXIT_USAGE;
	if (!cJSON_IsObject(set)) {
		fprintf(stderr, "bmsctl: %s: expected a JSON object with \"settings\" (bmsctl dump's output)\n", argv[0]);
		goto out;
	}
	if (cJSON_IsString(proto) && strcmp(proto->valuestring, c->proto->name)) {
		fprintf(stderr, "bmsctl: %s: expected a dump of %s, got one of %s\n", argv[0], c->proto->name,
		        proto->valuestring);
		goto out;
	}
	cJSON_ArrayForEach(it, set) {
		int id = setting_id(c, it->string);
		if (id < 0)
			goto out;
		if (n >= BMS_SET_COUNT || !cJSON_IsNumber(it) || it->valuedouble != (double)(int32_t)it->valuedouble) {
			fprintf(stderr, "bmsctl: %s: %s: expected an integer\n", argv[0], it->string);
			goto out;
		}
		ids[n] = (unsigned)id;
		v[n++] = (int32_t)it->valuedouble;
	}
	rc = apply(c, ids, v, n);
out:
	cJSON_Delete(root);
	return rc;
}

/* on/off for one FET; -1 when the word is not one. */
static int on_off(const char *s)
{
	return !strcmp(s, "on") ? 1 : !strcmp(s, "off") ? 0 : -1;
}

static int cmd_fets(struct ctl *c, int argc, char **argv)
{
	int chg = -1, dsg = -1;
	struct ctl_info in;
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "bmsctl: fets: expected chg=on|off and/or dsg=on|off\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int *which = !strncmp(argv[i], "chg=", 4) ? &chg : !strncmp(argv[i], "dsg=", 4) ? &dsg : NULL;
		if (which == NULL || (*which = on_off(argv[i] + 4)) < 0) {
			fprintf(stderr, "bmsctl: fets: expected chg=on|off or dsg=on|off, got \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (confirm(c, "switching the FETs") != 0)
		return EXIT_DECLINED;
	if (c->proto->fets(c, chg, dsg) != 0 || c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "fet_chg", in.fet_chg);
		cJSON_AddNumberToObject(o, "fet_dsg", in.fet_dsg);
		print_json(o);
	} else if (!c->quiet) {
		printf("chg=%s dsg=%s\n", in.fet_chg ? "on" : "off", in.fet_dsg ? "on" : "off");
	}
	/* A FET asked on may stay off while a protection holds it: say so, it is not a failure. */
	if ((chg >= 0 && (unsigned)chg != in.fet_chg) || (dsg >= 0 && (unsigned)dsg != in.fet_dsg))
		fprintf(stderr, "bmsctl: fets: the BMS reports chg=%s dsg=%s (a protection may hold one off)\n",
		        in.fet_chg ? "on" : "off", in.fet_dsg ? "on" : "off");
	return EXIT_OK;
}

static int cmd_soc(struct ctl *c, int argc, char **argv)
{
	int32_t pct;
	struct ctl_info in;
	if (argc != 1 || parse_i32(argv[0], &pct) != 0) {
		fprintf(stderr, "bmsctl: soc: expected a percentage 0..100\n");
		return EXIT_USAGE;
	}
	if (pct < 0 || pct > 100) {
		fprintf(stderr, "bmsctl: soc: expected 0..100, got %ld\n", (long)pct);
		return EXIT_REFUSED;
	}
	if (c->proto->soc == NULL) {
		fprintf(stderr, "bmsctl: soc: %s has no SOC write\n", c->proto->name);
		return EXIT_REFUSED;
	}
	if (confirm(c, "setting the SOC") != 0)
		return EXIT_DECLINED;
	if (c->proto->soc(c, (unsigned)pct) != 0 || c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "soc_pct", in.soc_pct);
		cJSON_AddNumberToObject(o, "remain_mAh", in.remain_mAh);
		print_json(o);
	} else if (!c->quiet) {
		printf("soc_pct = %u\n", in.soc_pct);
	}
	if (in.soc_pct != (unsigned)pct) {
		fprintf(stderr, "bmsctl: soc: asked %ld %%, the BMS reports %u %%\n", (long)pct, in.soc_pct);
		return EXIT_DEVICE;
	}
	return EXIT_OK;
}

/* One calibration; what the board then measures is reported, since the register itself is
 * write-only on real boards. */
static int cmd_cal(struct ctl *c, int argc, char **argv)
{
	char name[48];
	int32_t v = 0;
	struct ctl_info in;
	if (argc != 1) {
		fprintf(stderr, "bmsctl: cal: expected one NAME[=VALUE] (docs/bmsctl.md)\n");
		return EXIT_USAGE;
	}
	if (c->proto->cal == NULL) {
		fprintf(stderr, "bmsctl: cal: %s has no calibration bmsctl writes\n", c->proto->name);
		return EXIT_REFUSED;
	}
	const char *eq = strchr(argv[0], '=');
	size_t nl = eq ? (size_t)(eq - argv[0]) : strlen(argv[0]);
	if (nl >= sizeof name || (eq && parse_i32(eq + 1, &v) != 0)) {
		fprintf(stderr, "bmsctl: cal: expected NAME=INTEGER, got \"%s\"\n", argv[0]);
		return EXIT_USAGE;
	}
	memcpy(name, argv[0], nl);
	name[nl] = '\0';
	if (confirm(c, "writing a calibration") != 0)
		return EXIT_DECLINED;
	int rc = c->proto->cal(c, name, eq != NULL, v);
	if (rc == -3)
		return EXIT_USAGE;
	if (rc == -2)
		return EXIT_REFUSED;
	if (rc != 0 || c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "cal", name);
		cJSON_AddNumberToObject(o, "current_mA", in.current_mA);
		cJSON_AddItemToObject(o, "cells_mV", u16_array(in.cell_mV, in.cell_count));
		cJSON_AddItemToObject(o, "temps_dK", u16_array(in.temp_dK, in.temp_count));
		print_json(o);
	} else if (!c->quiet) {
		printf("%s written; the BMS now measures %ld mA, cells (mV)", name, (long)in.current_mA);
		for (unsigned i = 0; i < in.cell_count; i++)
			printf(" %u", in.cell_mV[i]);
		printf(", temps (dK)");
		for (unsigned i = 0; i < in.temp_count; i++)
			printf(" %u", in.temp_dK[i]);
		putchar('\n');
	}
	return EXIT_OK;
}

static const struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	int needs_port;
} cmds[] = {
	{ "info", cmd_info, 1 },
	{ "get", cmd_get, 1 },
	{ "set", cmd_set, 1 },
	{ "dump", cmd_dump, 1 },
	{ "restore", cmd_restore, 1 },
	{ "fets", cmd_fets, 1 },
	{ "soc", cmd_soc, 1 },
	{ "cal", cmd_cal, 1 },
	{ "list", cmd_list, 0 },
	/* "tap" is not a row here. It has options of its own (--bms, --client), so main hands it
	 * to bmsctl_tap_main (tools/bmsctl_tap.c) before bmsctl's options are parsed. */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bmsctl --proto P --port PATH|tcp:HOST:PORT [options] COMMAND [ARGS]\n"
	        "commands:\n"
	        "  info                 identity, pack, cells, temperatures, FETs, protections\n"
	        "  get NAME...          settings by their neutral names (bmsctl --proto P list)\n"
	        "  set NAME=VALUE...    write settings (integers in the unit the name ends in); read back\n"
	        "  dump                 every setting as JSON: bmsctl ... dump > FILE.json\n"
	        "  restore FILE.json    write a dump back, every value checked before any is sent\n"
	        "  fets chg=on|off dsg=on|off\n"
	        "  soc PCT              set the state of charge, 0..100\n"
	        "  cal NAME[=VALUE]     JBD calibration: zero_current, chg_current_mA=, dsg_current_mA=,\n"
	        "                       cellN_mV=, ntcN_dK= (the true value the board should measure)\n"
	        "  list                 the settings P has, with their ranges (no port needed)\n"
	        "  tap --bms PORT --client PATH [--proto P] [--capture FILE]\n"
	        "                       sit between a client and a BMS, pass bytes both ways and log\n"
	        "                       every frame (bmsctl tap --help, docs/capture.md)\n"
	        "options:\n"
	        "  -p, --port PATH      a pty, a serial port or tcp:HOST:PORT (as bmsmon's -p)\n"
	        "  -P, --proto P        jbd, daly, jk, jbd-ble, daly-ble, jk-ble, jk-pb (as bmsmon's -P)\n"
	        "  -b, --baud N         serial speed (default: the protocol's)\n"
	        "  -j, --json           JSON output\n"
	        "  -y, --yes            write to a real serial port without asking\n"
	        "  -q, --quiet          no read-back lines on success\n"
	        "  -v, --verbose        say what is sent\n"
	        "  -h, --help, -V, --version\n"
	        "exit: 0 done, 1 device error or read-back differs, 2 usage, 3 value refused before\n"
	        "sending, 4 not confirmed\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "proto", required_argument, NULL, 'P' }, { "port", required_argument, NULL, 'p' },
		{ "baud", required_argument, NULL, 'b' }, { "json", no_argument, NULL, 'j' },
		{ "yes", no_argument, NULL, 'y' }, { "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	static struct ctl c = { .jkb_layout = -1 };
	const char *port = NULL;
	uint32_t baud = 0;
	int o;

	/* tap has options of its own (--bms, --client): it is handed over before ours are parsed. */
	if (argc > 1 && !strcmp(argv[1], "tap"))
		return bmsctl_tap_main(argc - 1, argv + 1);
	while ((o = getopt_long(argc, argv, "+P:p:b:jyqvhV", lopts, NULL)) != -1) {
		switch (o) {
		case 'P':
			for (size_t i = 0; i < CTL_N_OF(protos); i++)
				if (!strcmp(optarg, protos[i]->name))
					c.proto = protos[i];
			if (c.proto == NULL) {
				fprintf(stderr, "bmsctl: --proto: expected jbd, daly, jk, jbd-ble, daly-ble, jk-ble or jk-pb, got \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p': port = optarg; break;
		case 'b': {
			int32_t b;
			if (parse_i32(optarg, &b) != 0 || b < 300 || b > 4000000) {
				fprintf(stderr, "bmsctl: --baud: expected 300..4000000, got \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			baud = (uint32_t)b;
			break;
		}
		case 'j': c.json = 1; break;
		case 'y': c.yes = 1; break;
		case 'q': c.quiet = 1; break;
		case 'v': c.verbose = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("bmsctl %s\n", BMSRIG_VERSION); return EXIT_OK;
		default:
			fprintf(stderr, "bmsctl: expected the options of bmsctl --help\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bmsctl: expected a command (bmsctl --help)\n");
		return EXIT_USAGE;
	}
	const struct ctl_cmd *cmd = NULL;
	for (size_t i = 0; i < CTL_N_OF(cmds); i++)
		if (!strcmp(argv[optind], cmds[i].name))
			cmd = &cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "bmsctl: expected a command (info, get, set, dump, restore, fets, soc, cal, list), got \"%s\"\n",
		        argv[optind]);
		return EXIT_USAGE;
	}
	if (c.proto == NULL) {
		fprintf(stderr, "bmsctl: expected --proto P\n");
		return EXIT_USAGE;
	}
	if (!cmd->needs_port)
		return cmd->run(&c, argc - optind - 1, argv + optind + 1);
	if (port == NULL) {
		fprintf(stderr, "bmsctl: expected --port PATH|tcp:HOST:PORT\n");
		return EXIT_USAGE;
	}
	char err[256];
	if (host_stream_open_port(&c.s, port, baud ? baud : c.proto->baud, NULL, NULL, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmsctl: %s\n", err);
		return EXIT_USAGE;
	}
	int rc = cmd->run(&c, argc - optind - 1, argv + optind + 1);
	host_stream_close(&c.s);
	return rc;
}
