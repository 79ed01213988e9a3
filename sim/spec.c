/* Specs for bmssim serve (spec.h): one key table for flags, --bms strings and config files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/file.h"
#include "bmsrig/lib/json_where.h"
#include "bmsrig/lib/serial.h"
#include "bmsrig/sim/spec.h"

#define CONFIG_FILE_MAX ((size_t)1 << 24)   /* a --config file: far more than SPEC_MAX BMS need */

const struct bms_kind bms_kinds[] = {
	{ "jbd", "jbd", LINK_UART, NULL, NULL },
	{ "jbd-ble", "jbd", LINK_BLE, NULL, NULL },
	{ "daly", "daly", LINK_UART, NULL, NULL },
	/* The Daly BLE dongle asks for all 16 cell frames whatever the pack (docs/protocols/daly.md §3.6). */
	{ "daly-ble", "daly", LINK_BLE, "all_cell_frames", "1" },
	{ "jk", "jk", LINK_UART, NULL, NULL },
	{ "jk-ble", "jk-ble", LINK_BLE, NULL, NULL },
	{ "deye-modbus", "deye-modbus", LINK_UART, NULL, NULL },
	{ "pylontech-rs485", "pylontech-rs485", LINK_UART, NULL, NULL },
	{ "pylontech-can", "pylontech-can", LINK_UART, NULL, NULL },
	{ "byd", "byd", LINK_UART, NULL, NULL },
	{ "jk-pb", "jk-pb", LINK_UART, NULL, NULL },
	/* A battery monitor read over Bluetooth ATT (docs/protocols/thornwave.md). */
	{ "thornwave", "thornwave", LINK_BLE, NULL, NULL },
	/* Its newer firmware (> 2.03): monitor frames notified as a COBS stream. */
	{ "thornwave-x", "thornwave", LINK_BLE, "stream", "1" },
	{ NULL, NULL, LINK_UART, NULL, NULL }
};

const struct bms_kind *bms_kind_find(const char *name)
{
	const struct bms_kind *k;

	for (k = bms_kinds; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/* The link settings stay whatever the kind: a Bluetooth kind uses them, a UART ignores them,
 * so --ble may come before or after the kind is chosen. */
static void set_kind(struct bms_spec *s, const struct bms_kind *k)
{
	s->kind = k;
	s->link.kind = k->link;
}

void spec_defaults(struct bms_spec *s)
{
	memset(s, 0, sizeof *s);
	link_cfg_ble_defaults(&s->link);
	set_kind(s, &bms_kinds[0]);
	model_cfg_defaults(&s->unit.model);
	s->unit.model.cells = 4;
	s->unit.model.capacity_Ah = 100;
	s->unit.model.soc_pct = 80;
	s->unit.model.ntc_count = 2;
	s->unit.model.seed = 1;
}

/* ---- the key table ------------------------------------------------------------------------ */

enum key_type { K_U8, K_U32, K_DOUBLE, K_CHEM, K_TEXT, K_BAUD, K_KIND };

static const struct spec_key {
	const char *key;
	enum key_type type;
	double min, max;
	size_t off;
} keys[] = {
#define U(f) offsetof(struct bms_spec, unit.f)
	{ "kind", K_KIND, 0, 0, 0 },
	{ "cells", K_U8, 1, 32, U(model.cells) },
	{ "chem", K_CHEM, 0, 0, U(model.chem) },
	{ "capacity_ah", K_DOUBLE, 0.1, 10000, U(model.capacity_Ah) },
	{ "soc_pct", K_DOUBLE, 0, 100, U(model.soc_pct) },
	{ "current_a", K_DOUBLE, -327, 327, U(current_A) },
	{ "temp_c", K_DOUBLE, -40, 80, U(model.ambient_C) },
	{ "ntc", K_U8, 1, 8, U(model.ntc_count) },
	{ "seed", K_U32, 0, 4294967295.0, U(model.seed) },
	{ "address", K_U8, 0, 254, U(address) },
	{ "state", K_TEXT, 0, 0, offsetof(struct bms_spec, state_path) },
	{ "link", K_TEXT, 0, 0, offsetof(struct bms_spec, link_path) },
	{ "port", K_TEXT, 0, 0, offsetof(struct bms_spec, port_path) },
	{ "baud", K_BAUD, 50, 4000000, offsetof(struct bms_spec, baud) },
#undef U
};

static int parse_number(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return *v && !*end && !errno && isfinite(*out);
}

rig_rc spec_set(struct bms_spec *s, const char *key, const char *value, char *why, size_t whycap)
{
	char *base = (char *)s;
	size_t i;
	double d;

	if (!strncmp(key, "quirk.", 6)) {
		unsigned n = s->unit.n_quirks;

		if (n >= SIM_QUIRKS_MAX || strlen(key + 6) >= 64 || strlen(value) >= 64) {
			snprintf(why, whycap, "expected at most %u quirks of up to 63 characters", SIM_QUIRKS_MAX);
			return RIG_ERR_ARG;
		}
		strcpy(s->quirk_text[n][0], key + 6);
		strcpy(s->quirk_text[n][1], value);
		s->unit.n_quirks = n + 1;
		return RIG_OK;
	}
	if (!strncmp(key, "ble.", 4)) {
		if (s->kind->link != LINK_BLE) {
			snprintf(why, whycap, "expected a Bluetooth kind (jbd-ble, daly-ble, jk-ble, thornwave, thornwave-x), got %s", s->kind->name);
			return RIG_ERR_ARG;
		}
		return link_set(&s->link, key + 4, value, why, whycap);
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct spec_key *k = &keys[i];

		if (strcmp(key, k->key))
			continue;
		switch (k->type) {
		case K_KIND: {
			const struct bms_kind *kind = bms_kind_find(value);

			if (!kind) {
				char names[256];
				size_t n = 0, j;

				/* The names come from the table, so a new kind needs no edit here. */
				names[0] = '\0';
				for (j = 0; bms_kinds[j].name && n < sizeof names; j++)
					n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", j ? ", " : "", bms_kinds[j].name);
				snprintf(why, whycap, "expected one of %s, got \"%s\"", names, value);
				return RIG_ERR_ARG;
			}
			set_kind(s, kind);
			return RIG_OK;
		}
		case K_CHEM:
			if (strcmp(value, "lfp") && strcmp(value, "nmc")) {
				snprintf(why, whycap, "expected one of lfp, nmc, got \"%s\"", value);
				return RIG_ERR_ARG;
			}
			s->unit.model.chem = value[0] == 'n' ? MODEL_CHEM_NMC : MODEL_CHEM_LFP;
			return RIG_OK;
		case K_TEXT:
			if (!*value || strlen(value) >= SPEC_TEXT_MAX) {
				snprintf(why, whycap, "expected a path of 1..%u characters", SPEC_TEXT_MAX - 1);
				return RIG_ERR_ARG;
			}
			strcpy(base + k->off, value);
			return RIG_OK;
		case K_DOUBLE:
			if (!parse_number(value, &d) || d < k->min || d > k->max) {
				snprintf(why, whycap, "expected a number %g..%g, got \"%s\"", k->min, k->max, value);
				return RIG_ERR_ARG;
			}
			memcpy(base + k->off, &d, sizeof d);
			return RIG_OK;
		default:
			if (value[0] < '0' || value[0] > '9' || !parse_number(value, &d) || d != floor(d) ||
			    d < k->min || d > k->max || (k->type == K_BAUD && !host_serial_baud_ok((uint32_t)d))) {
				if (k->type == K_BAUD)
					snprintf(why, whycap, "expected a standard rate such as 9600, got \"%s\"", value);
				else
					snprintf(why, whycap, "expected an integer %.0f..%.0f, got \"%s\"", k->min, k->max, value);
				return RIG_ERR_ARG;
			}
			if (k->type == K_U8) {
				*(uint8_t *)(base + k->off) = (uint8_t)d;
			} else {
				uint32_t u = (uint32_t)d;
				memcpy(base + k->off, &u, sizeof u);
			}
			return RIG_OK;
		}
	}
	snprintf(why, whycap, "unknown key (kind, cells, chem, capacity_ah, soc_pct, current_a, temp_c, ntc, "
	         "seed, address, state, link, port, baud, quirk.NAME, ble.NAME)");
	return RIG_ERR_ARG;
}

rig_rc spec_parse(struct bms_spec *out, const struct bms_spec *tmpl, const char *text,
                  char *err, size_t errcap)
{
	char buf[1024], *save = NULL, *item;
	int first = 1;

	*out = *tmpl;
	snprintf(out->origin, sizeof out->origin, "--bms %s", text);
	cli_one_line(out->origin);        /* later errors quote it */
	if (strlen(text) >= sizeof buf) {
		snprintf(err, errcap, "--bms: expected at most %zu characters", sizeof buf - 1);
		return RIG_ERR_ARG;
	}
	strcpy(buf, text);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), first = 0) {
		char *eq = strchr(item, '='), why[256];
		const char *key = item, *value;

		if (first && !eq) {
			key = "kind";
			value = item;
		} else if (!eq) {
			snprintf(err, errcap, "--bms %s: \"%s\": expected key=value", text, item);
			cli_one_line(err);
			return RIG_ERR_ARG;
		} else {
			*eq = '\0';
			value = eq + 1;
		}
		if (spec_set(out, key, value, why, sizeof why) != RIG_OK) {
			snprintf(err, errcap, "--bms %s: %s: %s", text, key, why);
			cli_one_line(err);
			return RIG_ERR_ARG;
		}
	}
	return RIG_OK;
}

/* ---- config files ------------------------------------------------------------------------- */

/* "file:line:column: " for the value at path (or the key, when key_pos). */
static void where(char *out, size_t cap, const char *path, const char *text, const struct json_step *steps,
                  unsigned depth, int key_pos)
{
	unsigned line = 1, col = 1;

	json_where(text, steps, depth, key_pos, &line, &col);
	snprintf(out, cap, "%s:%u:%u", path, line, col);
}

/* A JSON scalar as the text spec_set takes. */
static int scalar_text(const cJSON *v, char *out, size_t cap)
{
	if (cJSON_IsString(v))
		snprintf(out, cap, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, cap, "%.17g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(out, cap, "%d", cJSON_IsTrue(v) ? 1 : 0);
	else
		return 0;
	return 1;
}

static rig_rc load_item(struct bms_spec *s, const cJSON *obj, const char *path, const char *text,
                        unsigned index, char *err, size_t errcap)
{
	struct json_step steps[4] = { { "bms", 0 }, { NULL, index }, { NULL, 0 }, { NULL, 0 } };
	const cJSON *it, *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	char at[SPEC_TEXT_MAX + 32], why[256], value[256];

	where(s->origin, sizeof s->origin, path, text, steps, 2, 0);
	/* The kind first: what a ble.* key means depends on it. */
	if (kind && (!cJSON_IsString(kind) || spec_set(s, "kind", kind->valuestring, why, sizeof why) != RIG_OK)) {
		steps[2].key = "kind";
		where(at, sizeof at, path, text, steps, 3, 0);
		snprintf(err, errcap, "%s: kind: %s", at, cJSON_IsString(kind) ? why : "expected a string");
		return RIG_ERR_ARG;
	}
	cJSON_ArrayForEach(it, obj) {
		int nested = !strcmp(it->string, "quirks") || !strcmp(it->string, "ble");
		const cJSON *sub;

		steps[2].key = it->string;
		if (!strcmp(it->string, "kind"))
			continue;
		if (nested) {
			if (!cJSON_IsObject(it)) {
				where(at, sizeof at, path, text, steps, 3, 0);
				snprintf(err, errcap, "%s: %s: expected an object of name: value", at, it->string);
				return RIG_ERR_ARG;
			}
			cJSON_ArrayForEach(sub, it) {
				char key[128];

				steps[3].key = sub->string;
				snprintf(key, sizeof key, "%s.%s", it->string[0] == 'q' ? "quirk" : "ble", sub->string);
				if (!scalar_text(sub, value, sizeof value) || spec_set(s, key, value, why, sizeof why) != RIG_OK) {
					where(at, sizeof at, path, text, steps, 4, 0);
					snprintf(err, errcap, "%s: %s.%s: %s", at, it->string, sub->string,
					         scalar_text(sub, value, sizeof value) ? why : "expected a number or a string");
					return RIG_ERR_ARG;
				}
			}
			continue;
		}
		if (!scalar_text(it, value, sizeof value) || spec_set(s, it->string, value, why, sizeof why) != RIG_OK) {
			int unknown = scalar_text(it, value, sizeof value) && !strncmp(why, "unknown key", 11);

			where(at, sizeof at, path, text, steps, 3, unknown);
			snprintf(err, errcap, "%s: %s: %s", at, it->string,
			         scalar_text(it, value, sizeof value) ? why : "expected a number or a string");
			return RIG_ERR_ARG;
		}
	}
	return RIG_OK;
}

rig_rc spec_parse_config(const char *text, size_t len, const char *path, const struct bms_spec *tmpl, struct bms_spec *out,
                         unsigned max, unsigned *n, char *err, size_t errcap)
{
	const char *bad = NULL;
	const cJSON *list, *it;
	cJSON *root;
	rig_rc rc = RIG_OK;
	unsigned line, col;

	*n = 0;
	/* cJSON stops at a NUL and would take what stands before it for the whole file. */
	if ((bad = memchr(text, '\0', len)) == NULL)
		root = cJSON_ParseWithOpts(text, &bad, 1);
	else
		root = NULL;
	if (!root) {
		json_offset_where(text, bad ? (size_t)(bad - text) : 0, &line, &col);
		snprintf(err, errcap, "%s:%u:%u: expected valid JSON", path, line, col);
		return RIG_ERR_ARG;
	}
	/* A key given twice would silently lose one value: refused, as in a scenario file. */
	{
		struct json_step steps[8];
		unsigned depth = 0;
		const cJSON *twice = json_find_repeat(root, steps, sizeof steps / sizeof steps[0], &depth);

		if (twice) {
			json_where(text, steps, depth, 1, &line, &col);
			snprintf(err, errcap, "%s:%u:%u: %s: expected each key once, got it twice", path, line, col,
			         twice->string);
			cJSON_Delete(root);
			cli_one_line(err);
			return RIG_ERR_ARG;
		}
	}
	list = cJSON_GetObjectItemCaseSensitive(root, "bms");
	if (!cJSON_IsObject(root) || !cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
		snprintf(err, errcap, "%s:1:1: expected an object {\"bms\": [ {...}, ... ]} with at least one BMS", path);
		rc = RIG_ERR_ARG;
	}
	for (it = root->child; rc == RIG_OK && it; it = it->next) {
		if (strcmp(it->string, "bms")) {
			struct json_step step = { it->string, 0 };

			json_where(text, &step, 1, 1, &line, &col);
			snprintf(err, errcap, "%s:%u:%u: %s: unknown key (expected \"bms\")", path, line, col, it->string);
			rc = RIG_ERR_ARG;
		}
	}
	if (rc == RIG_OK)
		cJSON_ArrayForEach(it, list) {
			if (*n >= max) {
				snprintf(err, errcap, "%s: expected at most %u BMS, got more", path, max);
				rc = RIG_ERR_ARG;
				break;
			}
			out[*n] = *tmpl;
			if (!cJSON_IsObject(it)) {
				struct json_step steps[2] = { { "bms", 0 }, { NULL, *n } };

				json_where(text, steps, 2, 0, &line, &col);
				snprintf(err, errcap, "%s:%u:%u: expected an object for each BMS", path, line, col);
				rc = RIG_ERR_ARG;
				break;
			}
			rc = load_item(&out[*n], it, path, text, *n, err, errcap);
			if (rc != RIG_OK)
				break;
			(*n)++;
		}
	cJSON_Delete(root);
	if (rc != RIG_OK)
		cli_one_line(err);        /* a key may hold a newline, and errors quote keys */
	return rc;
}

rig_rc spec_load_config(const char *path, const struct bms_spec *tmpl, struct bms_spec *out,
                        unsigned max, unsigned *n, char *err, size_t errcap)
{
	size_t len = 0;
	char *text = host_file_read_all(path, CONFIG_FILE_MAX, &len, err, errcap);
	rig_rc rc;

	*n = 0;
	if (!text)
		return RIG_ERR_IO;
	rc = spec_parse_config(text, len, path, tmpl, out, max, n, err, errcap);
	free(text);
	return rc;
}

/* ---- from specs to sims ------------------------------------------------------------------- */

rig_rc spec_resolve(struct bms_spec *s, char *err, size_t errcap)
{
	unsigned i;

	s->unit.ops = personality_find(s->kind->personality);
	if (!s->unit.ops) {
		snprintf(err, errcap, "%s%skind %s: not built into this bmssim", s->origin, *s->origin ? ": " : "",
		         s->kind->name);
		return RIG_ERR_UNSUPPORTED;
	}
	/* The kind's own quirk goes first, so the user's quirk.* keys override it. */
	if (s->kind->quirk) {
		if (s->unit.n_quirks >= SIM_QUIRKS_MAX) {
			snprintf(err, errcap, "%s: expected at most %u quirks", s->origin, SIM_QUIRKS_MAX - 1);
			return RIG_ERR_ARG;
		}
		memmove(s->quirk_text[1], s->quirk_text[0], s->unit.n_quirks * sizeof s->quirk_text[0]);
		snprintf(s->quirk_text[0][0], sizeof s->quirk_text[0][0], "%s", s->kind->quirk);
		snprintf(s->quirk_text[0][1], sizeof s->quirk_text[0][1], "%s", s->kind->quirk_value);
		s->unit.n_quirks++;
	}
	for (i = 0; i < s->unit.n_quirks; i++) {
		s->unit.quirk[i].key = s->quirk_text[i][0];
		s->unit.quirk[i].value = s->quirk_text[i][1];
	}
	s->unit.state_path = s->state_path[0] ? s->state_path : NULL;
	return RIG_OK;
}

static const char *transport_key(const struct bms_spec *s)
{
	return s->link_path[0] ? s->link_path : s->port_path[0] ? s->port_path : NULL;
}

rig_rc spec_group(struct bms_spec *specs, unsigned n, struct sim_cfg *cfgs, unsigned *n_cfgs,
                  unsigned *first_spec, char *err, size_t errcap)
{
	unsigned i, j;

	*n_cfgs = 0;
	for (i = 0; i < n; i++) {
		const char *key = transport_key(&specs[i]);
		struct sim_cfg *c = NULL;

		if (specs[i].link_path[0] && specs[i].port_path[0]) {
			snprintf(err, errcap, "%s%slink and port: expected one transport, got both", specs[i].origin,
			         *specs[i].origin ? ": " : "");
			return RIG_ERR_ARG;
		}
		for (j = 0; key && j < *n_cfgs && !c; j++) {
			const struct bms_spec *f = &specs[first_spec[j]];

			if (transport_key(f) && !strcmp(transport_key(f), key))
				c = &cfgs[j];
		}
		if (c) {
			const struct bms_spec *f = &specs[first_spec[c - cfgs]];

			if (c->units >= SIM_UNITS_MAX || f->kind->link != specs[i].kind->link ||
			    (specs[i].baud ? specs[i].baud : specs[i].unit.ops->baud) != c->baud) {
				snprintf(err, errcap, "%s: shares %s with %s: expected the same link and baud, and at most %u "
				         "BMS on one bus", specs[i].origin, key, f->origin, SIM_UNITS_MAX);
				return RIG_ERR_ARG;
			}
			c->unit[c->units++] = specs[i].unit;
			continue;
		}
		c = &cfgs[*n_cfgs];
		memset(c, 0, sizeof *c);
		first_spec[*n_cfgs] = i;
		(*n_cfgs)++;
		c->unit[0] = specs[i].unit;
		c->units = 1;
		c->link = specs[i].link;
		c->link_path = specs[i].link_path[0] ? specs[i].link_path : NULL;
		c->serial_path = specs[i].port_path[0] ? specs[i].port_path : NULL;
		c->baud = specs[i].baud ? specs[i].baud : specs[i].unit.ops->baud;
	}
	return RIG_OK;
}
