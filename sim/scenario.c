/*
 * Scenario files (scenario.h, scenarios/README.md): one strict pass from JSON to a checked
 * struct scenario, the world. The caller's keys (bmssim run's `dut` and `expect`) are walked in
 * the same pass through the same reader (scenario_reader.h), at the places the caller gives.
 *
 * Every object is read through a table of fields (key, JSON type, range, where it is stored)
 * by one walker: unknown and repeated keys are refused first, then the fields are taken in
 * table order, which is also the order the parts depend on one another (the pack before the
 * BMS built from it, the BMS before the timeline that names its cells, the timeline before
 * a caller's expectations that name its events). A field of another table's kind (the pack, the BMS
 * kind, quirks, Bluetooth link settings) goes through spec_set, the key table bmssim already
 * uses, so a scenario and a --bms string accept the same values.
 *
 * cJSON keeps no positions: an error names the path it was reading, and json_where finds that
 * path in the text again for the line and column.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/jbd_settings.h"
#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/file.h"
#include "bmsrig/lib/json_where.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/scenario_reader.h"

#define TIME_MAX_MS  SCEN_TIME_MAX_MS
#define FILE_MAX     (1L << 24)
#define DEPTH_MAX    8u          /* timeline[i].steps[j][k] is the deepest path: 5 */
#define AMPS_MAX     2000.0      /* load and charge current, profile points included */
#define GOT_MAX      SCEN_GOT_MAX
#define CSV_SHOWN_MAX 16u        /* bytes of a CSV row quoted back in a message */
#define N_OF(a)      (sizeof(a) / sizeof((a)[0]))

struct scen_reader {
	struct scenario *s;
	const char *path;            /* as the caller named it, for messages */
	const char *text;            /* the JSON, NUL-terminated */
	char dir[4096];              /* the scenario's folder with a trailing '/', or "" */
	int read_files;              /* 0: CSV profiles are named but not read (fuzzing) */
	long long seed_override;
	char *err;
	size_t errcap;
	/* One event for a running emulator (scenario_parse_event): no "at", no file position in
	 * messages, and the scenario is only read. */
	int inject;
	unsigned line;               /* the line of the `bms` unit being read, 0-based */
	const struct scenario_part *part;   /* the caller's top-level keys; may be NULL */
	struct json_step step[DEPTH_MAX];
	unsigned depth;
	/* A scratch BMS of the scenario's kind: every quirk is tried on it while the file is
	 * read, so a bad one is reported where it stands instead of when the run starts. */
	const struct personality_ops *ops;
	struct model model;
	struct bms bms;
	_Alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
};

/* ---- times ------------------------------------------------------------------------------- */

rig_rc scenario_parse_time(const char *text, uint32_t *ms)
{
	/* Largest unit first: each may appear once, in this order ("1h30m", not "30m1h"). */
	static const struct { const char *name; uint32_t ms; } units[] = {
		{ "h", 3600000u }, { "ms", 1u }, { "m", 60000u }, { "s", 1000u }
	};
	static const unsigned rank[] = { 0, 3, 1, 2 };   /* units[] order is for matching "ms" first */
	const char *p = text;
	uint64_t total = 0;
	unsigned next_rank = 0;

	if (!text || !*text)
		return RIG_ERR_ARG;
	if (!strcmp(text, "0")) {
		*ms = 0;
		return RIG_OK;
	}
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1, value;
		unsigned digits = 0, fdigits = 0, u;

		for (; *p >= '0' && *p <= '9'; p++)
			if (++digits > 10)
				return RIG_ERR_ARG;
			else
				whole = whole * 10u + (uint64_t)(*p - '0');
		if (!digits)
			return RIG_ERR_ARG;
		if (*p == '.') {
			const char *f = ++p, *last = NULL;

			for (; *p >= '0' && *p <= '9'; p++)
				if (*p != '0')
					last = p;
			if (p == f)
				return RIG_ERR_ARG;
			/* Trailing zeros carry nothing; nine significant places are more than any unit
			 * here can turn into whole milliseconds. */
			for (; last && f <= last; f++) {
				if (++fdigits > 9)
					return RIG_ERR_ARG;
				frac = frac * 10u + (uint64_t)(*f - '0');
				scale *= 10u;
			}
		}
		for (u = 0; u < N_OF(units); u++)
			if (!strncmp(p, units[u].name, strlen(units[u].name)))
				break;
		if (u == N_OF(units) || rank[u] < next_rank)
			return RIG_ERR_ARG;
		p += strlen(units[u].name);
		next_rank = rank[u] + 1;
		if ((frac * units[u].ms) % scale)
			return RIG_ERR_ARG;                  /* not a whole millisecond */
		value = whole * units[u].ms + frac * units[u].ms / scale;
		total += value;
		if (total > TIME_MAX_MS)
			return RIG_ERR_ARG;
	}
	*ms = (uint32_t)total;
	return RIG_OK;
}

/* The shortest spelling scenario_parse_time reads back: "1h30m", "1s500ms", "0". */
static const char *fmt_time(uint32_t ms, char *buf, size_t cap)
{
	static const struct { const char *name; uint32_t ms; } units[] = {
		{ "h", 3600000u }, { "m", 60000u }, { "s", 1000u }, { "ms", 1u }
	};
	size_t n = 0;
	unsigned u;

	buf[0] = '\0';
	if (!ms)
		snprintf(buf, cap, "0");
	for (u = 0; u < N_OF(units) && ms; u++) {
		if (ms / units[u].ms && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%u%s", (unsigned)(ms / units[u].ms), units[u].name);
		ms %= units[u].ms;
	}
	return buf;
}

/* ---- paths and messages -------------------------------------------------------------------- */

static void push(struct scen_reader *c, const char *key)
{
	if (c->depth < DEPTH_MAX)
		c->step[c->depth] = (struct json_step){ key, 0 };
	c->depth++;
}

static void push_i(struct scen_reader *c, unsigned index)
{
	if (c->depth < DEPTH_MAX)
		c->step[c->depth] = (struct json_step){ NULL, index };
	c->depth++;
}

static void pop(struct scen_reader *c)
{
	c->depth--;
}

/* Line and column of the value (or the key, key_pos) at the current path. A key the text
 * spells with escapes is not found by json_where: then the nearest enclosing value. */
static void locate(const struct scen_reader *c, int key_pos, unsigned *line, unsigned *col)
{
	unsigned d = c->depth < DEPTH_MAX ? c->depth : DEPTH_MAX;

	for (; d > 0; d--)
		if (json_where(c->text, c->step, d, key_pos && d == c->depth, line, col))
			return;
	json_where(c->text, c->step, 0, 0, line, col);
}

static const char *text_at(const char *text, unsigned line, unsigned col)
{
	const char *p = text;

	for (; line > 1 && *p; p++)
		if (*p == '\n')
			line--;
	for (; col > 1 && *p && *p != '\n'; col--)
		p++;
	return p;
}

/* "timeline[2].at": the path as the user reads it. */
static void label(const struct scen_reader *c, char *out, size_t cap)
{
	size_t n = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < c->depth && i < DEPTH_MAX && n < cap; i++) {
		if (c->step[i].key)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "." : "", c->step[i].key);
		else
			n += (size_t)snprintf(out + n, cap - n, "[%u]", c->step[i].index);
	}
}

static rig_rc vfail_at(struct scen_reader *c, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	char where[256], msg[768];

	label(c, where, sizeof where);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (c->inject)
		snprintf(c->err, c->errcap, "%s%s%s", where, *where ? ": " : "", msg);
	else
		snprintf(c->err, c->errcap, "%s:%u:%u: %s%s%s", c->path, line, col, where, *where ? ": " : "", msg);
	return RIG_ERR_ARG;
}


/* Copies at most GOT_MAX bytes of s, control characters shown as '?' so the message stays
 * one line, cut on a UTF-8 character boundary. */
static void clip(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, max = n < GOT_MAX ? n : GOT_MAX;

	if (max >= cap)
		max = cap - 1;
	if (max < n)
		while (max > 0 && ((unsigned char)s[max] & 0xC0u) == 0x80u)
			max--;
	for (i = 0; i < max; i++)
		out[i] = (unsigned char)s[i] < 0x20u || s[i] == 0x7F ? '?' : s[i];
	out[max] = '\0';
	if (max < n && max + 4 < cap)
		strcat(out, "...");
}

/* A number as the file spells it (so 1e999 reads back as itself), else "%.15g". */
static const char *number_text(const struct scen_reader *c, const cJSON *v, char *out, size_t cap)
{
	unsigned line = 1, col = 1;
	const char *p, *e;

	locate(c, 0, &line, &col);
	p = text_at(c->text, line, col);
	for (e = p; *e && !strchr(",}] \t\r\n", *e); e++)
		;
	if ((*p == '-' || (*p >= '0' && *p <= '9')) && e > p)
		clip(out, cap, p, (size_t)(e - p));
	else
		snprintf(out, cap, "%.15g", v->valuedouble);
	return out;
}

/* What a value is, for "got ...": "40" and "abc" (quoted, as spec_set quotes them), true,
 * false, null, an object, an array. with_type names the type instead of quoting the value:
 * for a value of the wrong type. */
static const char *got(const struct scen_reader *c, const cJSON *v, int with_type, char *out, size_t cap)
{
	char t[GOT_MAX + 8];

	if (cJSON_IsString(v) && !with_type) {
		clip(t, sizeof t, v->valuestring, strlen(v->valuestring));
		snprintf(out, cap, "\"%s\"", t);
	} else if (cJSON_IsNumber(v) && !with_type) {
		snprintf(out, cap, "\"%s\"", number_text(c, v, t, sizeof t));
	} else {
		snprintf(out, cap, "%s", cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number" :
		         cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : cJSON_IsNull(v) ? "null" :
		         cJSON_IsArray(v) ? "an array" : "an object");
	}
	return out;
}

/* The text spec_set and set_quirk take for a scalar. */
static const char *scalar(const struct scen_reader *c, const cJSON *v, char *out, size_t cap)
{
	if (cJSON_IsString(v))
		snprintf(out, cap, "%s", v->valuestring);
	else
		number_text(c, v, out, cap);
	return out;
}

/* A why from a table that prefixes its own key ("chunk_bytes: expected ...") says the key
 * twice after the path: drop that prefix. */
static const char *unprefixed(const char *why, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(why, key, n) && !strncmp(why + n, ": ", 2) ? why + n + 2 : why;
}

/* ---- fields ------------------------------------------------------------------------------ */

#define MEMBER SCEN_MEMBER
#define FNF SCEN_FNF
#define SPECF(k, t, spec) { k, t, 0, 0, 0, 0, 0, 0, NULL, spec }

/* What a field takes, in words: "an integer 1..32". */
static const char *const type_words[] = {
	[SCEN_T_TIME] = "a time", [SCEN_T_NUM] = "a number", [SCEN_T_INT] = "an integer", [SCEN_T_BOOL] = "true or false",
	[SCEN_T_TEXT] = "a string", [SCEN_T_SCALAR] = "a string or a number", [SCEN_T_CELL] = "a cell number",
	[SCEN_T_NTC] = "a probe number", [SCEN_T_DK] = "a temperature in degC", [SCEN_T_DK_DELTA] = "a temperature difference in K",
	[SCEN_T_SPEC_NUM] = "a number", [SCEN_T_SPEC_STR] = "a string",
	[SCEN_T_SPEC_ANY] = "a number or a string", [SCEN_T_OBJ] = "an object", [SCEN_T_ARR] = "an array",
	[SCEN_T_SKIP] = "a value", [SCEN_T_FN] = "a value",
};

static void describe(const struct scen_reader *c, const struct scen_field *f, char *out, size_t cap)
{
	const struct model_cfg *m = &c->s->bms.unit.model;
	char a[32], b[32];

	if (f->type == SCEN_T_TIME && f->min == 0 && f->max == TIME_MAX_MS)
		snprintf(out, cap, "a time such as \"250ms\", \"2s\" or \"1h30m\"");
	else if (f->type == SCEN_T_TIME && f->max == TIME_MAX_MS)
		snprintf(out, cap, "a time of at least %s", fmt_time((uint32_t)f->min, a, sizeof a));
	else if (f->type == SCEN_T_TIME)
		snprintf(out, cap, "a time %s..%s", fmt_time((uint32_t)f->min, a, sizeof a),
		         fmt_time((uint32_t)f->max, b, sizeof b));
	else if (f->type == SCEN_T_CELL || f->type == SCEN_T_NTC)
		snprintf(out, cap, "%s 1..%u", type_words[f->type], f->type == SCEN_T_CELL ? m->cells : m->ntc_count);
	else if (f->type == SCEN_T_TEXT)
		snprintf(out, cap, "a string of %.0f..%.0f characters", f->min, f->max);
	else if (f->min < f->max && isinf(f->max))
		snprintf(out, cap, "%s of at least %.10g", type_words[f->type], f->min);
	else if (f->min < f->max)
		snprintf(out, cap, "%s %.10g..%.10g", type_words[f->type], f->min, f->max);
	else
		snprintf(out, cap, "%s", type_words[f->type]);
}

static void put_uint(void *dst, size_t size, uint32_t v)
{
	if (size == 1) {
		uint8_t u = (uint8_t)v;
		memcpy(dst, &u, 1);
	} else if (size == 2) {
		uint16_t u = (uint16_t)v;
		memcpy(dst, &u, 2);
	} else {
		memcpy(dst, &v, 4);
	}
}

static int type_ok(const struct scen_field *f, const cJSON *v)
{
	switch (f->type) {
	case SCEN_T_TIME: case SCEN_T_TEXT: case SCEN_T_SPEC_STR: return cJSON_IsString(v);
	case SCEN_T_NUM: case SCEN_T_INT: case SCEN_T_CELL: case SCEN_T_NTC: case SCEN_T_DK: case SCEN_T_DK_DELTA: case SCEN_T_SPEC_NUM:
		return cJSON_IsNumber(v);
	case SCEN_T_BOOL: return cJSON_IsBool(v);
	case SCEN_T_SCALAR: case SCEN_T_SPEC_ANY: return cJSON_IsString(v) || cJSON_IsNumber(v);
	case SCEN_T_OBJ: return cJSON_IsObject(v);
	case SCEN_T_ARR: return cJSON_IsArray(v);
	default: return 1;
	}
}

/* One value into base, by its field; the path already names it. */
static rig_rc field_value(struct scen_reader *c, const struct scen_field *f, const cJSON *v, void *base)
{
	char *dst = (char *)base + f->off, want[160], g[GOT_MAX + 24], text[256], why[256];
	const struct model_cfg *m = &c->s->bms.unit.model;
	double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
	uint32_t ms;

	if (f->type == SCEN_T_TIME && !cJSON_IsString(v))
		return scen_fail(c, 0, "expected a time such as \"250ms\", \"2s\" or \"1h30m\", got %s", got(c, v, 1, g, sizeof g));
	describe(c, f, want, sizeof want);
	if (!type_ok(f, v))
		return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 1, g, sizeof g));
	switch (f->type) {
	case SCEN_T_TIME:
		if (scenario_parse_time(v->valuestring, &ms) != RIG_OK)
			return scen_fail(c, 0, "expected a time such as \"250ms\", \"2s\" or \"1h30m\" (units h, m, s, ms; "
			            "whole milliseconds, at most 49 days), got %s", got(c, v, 0, g, sizeof g));
		if (ms < f->min || ms > f->max)
			return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 0, g, sizeof g));
		put_uint(dst, f->size, ms);
		return RIG_OK;
	case SCEN_T_NUM:
		if (!(d >= f->min && d <= f->max))
			return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 0, g, sizeof g));
		memcpy(dst, &d, sizeof d);
		return RIG_OK;
	case SCEN_T_INT:
		if (!(d >= f->min && d <= f->max) || d != floor(d))
			return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 0, g, sizeof g));
		if (f->size == sizeof(double))
			memcpy(dst, &d, sizeof d);
		else
			put_uint(dst, f->size, (uint32_t)d);
		return RIG_OK;
	case SCEN_T_BOOL:
		*(uint8_t *)dst = cJSON_IsTrue(v) ? 1u : 0u;
		return RIG_OK;
	case SCEN_T_TEXT:
		if ((double)strlen(v->valuestring) < f->min || (double)strlen(v->valuestring) > f->max)
			return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 0, g, sizeof g));
		snprintf(dst, f->size, "%s", v->valuestring);
		return RIG_OK;
	case SCEN_T_SCALAR:
		scalar(c, v, text, sizeof text);
		if (!*text || strlen(text) >= f->size)
			return scen_fail(c, 0, "expected %s of 1..%zu characters, got %s", want, f->size - 1,
			            got(c, v, 0, g, sizeof g));
		memcpy(dst, text, strlen(text) + 1);
		return RIG_OK;
	case SCEN_T_CELL:
	case SCEN_T_NTC: {
		int n = f->type == SCEN_T_CELL ? m->cells : m->ntc_count;

		if (!(d >= 1 && d <= n) || d != floor(d))
			return scen_fail(c, 0, "expected %s (pack.%s), got %s", want, f->type == SCEN_T_CELL ? "cells" : "ntc",
			            got(c, v, 0, g, sizeof g));
		*(int *)(void *)dst = (int)d - 1;
		return RIG_OK;
	}
	case SCEN_T_DK:
	case SCEN_T_DK_DELTA: {
		uint16_t dk;

		if (!(d >= f->min && d <= f->max))
			return scen_fail(c, 0, "expected %s, got %s", want, got(c, v, 0, g, sizeof g));
		/* The BMS and the policy count 0.1 K: the value rounds to 0.1 degC. */
		dk = (uint16_t)lround((f->type == SCEN_T_DK ? PACK_DK_ZERO_C : 0) + 10.0 * d);
		memcpy(dst, &dk, sizeof dk);
		return RIG_OK;
	}
	case SCEN_T_SPEC_NUM:
	case SCEN_T_SPEC_STR:
	case SCEN_T_SPEC_ANY:
		if (spec_set(&c->s->bms, f->spec, scalar(c, v, text, sizeof text), why, sizeof why) != RIG_OK)
			return scen_fail(c, 0, "%s", unprefixed(why, f->key));
		return RIG_OK;
	case SCEN_T_SKIP:
		return RIG_OK;
	default:
		return f->fn(c, v, base);
	}
}

static int allowed(const struct scen_field *f, uint32_t mask)
{
	return !f->only || (f->only & mask);
}

static const struct scen_field *find_field(const struct scen_field *tab, size_t n, uint32_t mask, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (allowed(&tab[i], mask) && !strcmp(tab[i].key, key))
			return &tab[i];
	return NULL;
}

/* Refuses a key given twice (cJSON keeps both; the first would silently win). */
static rig_rc check_repeats(struct scen_reader *c, const cJSON *obj, const cJSON *it)
{
	rig_rc rc = RIG_OK;

	if (json_key_repeated(obj, it)) {
		push(c, it->string);
		rc = scen_fail(c, 1, "expected each key once, got it twice");
		pop(c);
	}
	return rc;
}

/*
 * An object read through tab under mask: unknown and repeated keys first, then every field in
 * table order. seen (may be NULL) gets bit i for each tab[i] present.
 */
static rig_rc walk(struct scen_reader *c, const cJSON *obj, const struct scen_field *tab, size_t n, uint32_t mask,
                   void *base, uint64_t *seen)
{
	const cJSON *it;
	rig_rc rc = RIG_OK;
	size_t i;

	if (seen)
		*seen = 0;
	cJSON_ArrayForEach(it, obj) {
		if ((rc = check_repeats(c, obj, it)) != RIG_OK)
			return rc;
		if (!find_field(tab, n, mask, it->string)) {
			char keys[512];
			size_t k = 0;

			keys[0] = '\0';
			for (i = 0; i < n && k < sizeof keys; i++)
				if (allowed(&tab[i], mask) && find_field(tab, n, mask, tab[i].key) == &tab[i])
					k += (size_t)snprintf(keys + k, sizeof keys - k, "%s%s", k ? ", " : "", tab[i].key);
			push(c, it->string);
			rc = scen_fail(c, 1, "unknown key (expected one of: %s)", keys);
			pop(c);
			return rc;
		}
	}
	for (i = 0; i < n && rc == RIG_OK; i++) {
		const struct scen_field *f = &tab[i];

		if (!allowed(f, mask))
			continue;
		it = cJSON_GetObjectItemCaseSensitive(obj, f->key);
		if (!it && (f->flags & SCEN_REQ))
			return scen_fail(c, 0, "expected key \"%s\"", f->key);
		if (!it && !(f->flags & SCEN_ALWAYS))
			continue;
		if (it && seen)
			*seen |= 1ull << i;
		push(c, f->key);
		rc = it ? field_value(c, f, it, base) : f->fn(c, NULL, base);
		pop(c);
	}
	return rc;
}

static int was_seen(const struct scen_field *tab, size_t n, uint64_t seen, const char *key)
{
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		if (!strcmp(tab[i].key, key) && (seen >> i & 1u))
			return 1;
	return 0;
}

/* ---- a column inside a string (an expression's error) ---------------------------------------- */

static unsigned hex4(const char *p, unsigned long *cp)
{
	unsigned i;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		int h = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10 :
		        p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
		if (h < 0)
			return 0;
		*cp = *cp << 4 | (unsigned long)h;
	}
	return 1;
}

/*
 * The file column of byte i (0-based) of a JSON string's decoded text, its opening quote q
 * being at column col0: an escape takes more columns than the bytes it makes (\n: 2 for 1,
 * \u00e9: 6 for 2, a surrogate pair: 12 for 4).
 */
static unsigned string_col(const char *q, unsigned col0, unsigned i)
{
	const char *p = q + 1;
	unsigned d = 0;

	if (*q != '"')
		return col0;
	while (*p && *p != '"') {
		unsigned src = 1, out = 1;
		unsigned long cp, lo;

		if (*p == '\\' && p[1] == 'u' && hex4(p + 2, &cp)) {
			src = 6;
			out = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
			if (cp >= 0xD800 && cp < 0xDC00 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, &lo)) {
				src = 12;
				out = 4;
			}
		} else if (*p == '\\' && p[1]) {
			src = 2;
		}
		if (d + out > i)
			break;
		d += out;
		p += src;
	}
	return col0 + (unsigned)(p - q);
}

/* ---- the pack ------------------------------------------------------------------------------ */

#define PACK(m) MEMBER(struct model_cfg, m)
static const struct scen_field spread_fields[] = {
	{ "soc_pct", SCEN_T_NUM, 0, 0, 20, PACK(soc_sigma_pct), 0, NULL, NULL },
	{ "capacity", SCEN_T_NUM, 0, 0, 0.5, PACK(capacity_sigma), 0, NULL, NULL },
	/* model_init takes a resistance sigma up to 0.5 */
	{ "resistance", SCEN_T_NUM, 0, 0, 0.5, PACK(resistance_sigma), 0, NULL, NULL },
};

static rig_rc pack_spread(struct scen_reader *c, const cJSON *v, void *base)
{
	return walk(c, v, spread_fields, N_OF(spread_fields), 0, base, NULL);
}

static const struct scen_field pack_fields[] = {
	SPECF("chemistry", SCEN_T_SPEC_STR, "chem"),
	SPECF("cells", SCEN_T_SPEC_NUM, "cells"),
	SPECF("capacity_ah", SCEN_T_SPEC_NUM, "capacity_ah"),
	SPECF("soc_pct", SCEN_T_SPEC_NUM, "soc_pct"),
	SPECF("temp_c", SCEN_T_SPEC_NUM, "temp_c"),
	SPECF("ntc", SCEN_T_SPEC_NUM, "ntc"),
	{ "self_discharge_pct_month", SCEN_T_NUM, 0, 0, 100, PACK(self_discharge_pct_month), 0, NULL, NULL },
	FNF("spread", SCEN_T_OBJ, 0, pack_spread, 0),
};
#undef PACK

static rig_rc top_pack(struct scen_reader *c, const cJSON *v, void *base)
{
	(void)base;
	return v ? walk(c, v, pack_fields, N_OF(pack_fields), 0, &c->s->bms.unit.model, NULL) : RIG_OK;
}

/* ---- the BMS ------------------------------------------------------------------------------- */

/* What a protocol's hardware variants change: one quirk each (NULL: the personality's own
 * defaults). The first of a protocol is its default. */
static const struct variant {
	const char *kind, *name, *quirk, *value;
} variants[] = {
	{ "jbd", "classic", NULL, NULL },
	{ "jbd", "v8", "basic_ext", "1" },          /* the 0x03 reply's extension block */
	{ "jbd-ble", "default", NULL, NULL },
	{ "daly", "default", NULL, NULL },
	{ "daly-ble", "default", NULL, NULL },
	{ "jk", "default", NULL, NULL },
	{ "byd", "default", NULL, NULL },
	{ "jk-ble", "JK02_32S", "layout", "JK02_32S" },
	{ "jk-ble", "JK02_24S", "layout", "JK02_24S" },
	{ "jk-ble", "JK04", "layout", "JK04" },
	{ "thornwave", "legacy", NULL, NULL },     /* firmware <= 2.03: the value at handle 0x0015 */
	{ "thornwave-x", "default", NULL, NULL },  /* firmware > 2.03: the notified COBS stream */
};

/* Tries one quirk on the scratch BMS; why as set_quirk words it. */
static rig_rc try_quirk(struct scen_reader *c, const char *key, const char *value, char *why, size_t whycap)
{
	return c->ops->set_quirk(c->state, key, value, why, whycap);
}

/* The personalities word an unknown quirk name "unknown <proto> quirk ...": that error is
 * reported at the name, any other at the value. */
static int quirk_name_unknown(const char *why)
{
	return !strncmp(why, "unknown", 7);
}

/* The scratch BMS of the scenario's kind over its pack. 1 when the pack is one the model
 * refuses (the pack's ranges are inside model_init's, so that is checked all the same). */
static int scratch_bms(struct scen_reader *c)
{
	const struct bms_spec *b = &c->s->bms;

	c->ops = personality_find(b->kind->personality);
	memset(c->state, 0, sizeof c->state);
	return !c->ops || model_init(&c->model, &b->unit.model) != RIG_OK || bms_init(&c->bms, &c->model) != RIG_OK;
}

/* The scratch BMS: the pack as the model builds it, the BMS logic over it and the protocol's
 * personality at the address, with the kind's own quirk (bms_kinds[]) as spec_resolve will
 * add it. */
static rig_rc bms_protocol(struct scen_reader *c, const cJSON *v, void *base)
{
	struct bms_spec *b = &c->s->bms;
	char why[256], g[GOT_MAX + 24];

	(void)base;
	if (v && !cJSON_IsString(v))
		return scen_fail(c, 0, "expected a string, got %s", got(c, v, 1, g, sizeof g));
	if (v && spec_set(b, "kind", v->valuestring, why, sizeof why) != RIG_OK)
		return scen_fail(c, 0, "%s", why);
	if (!personality_find(b->kind->personality))
		return scen_fail(c, 0, "expected a protocol built into this bmsrig, got \"%s\"", b->kind->name);
	if (scratch_bms(c))
		return scen_fail(c, 0, "expected a pack the model accepts");
	if (c->ops->init(c->state, &c->bms, b->unit.address) != RIG_OK) {
		/* only a given address can be refused: reported there (bms.address, a sibling) */
		const char *was = c->step[c->depth - 1].key;
		rig_rc rc;

		c->step[c->depth - 1].key = "address";
		rc = scen_fail(c, 0, "expected an address %s accepts, got \"%u\"", b->kind->name, b->unit.address);
		c->step[c->depth - 1].key = was;
		return rc;
	}
	if (b->kind->quirk && try_quirk(c, b->kind->quirk, b->kind->quirk_value, why, sizeof why) != RIG_OK)
		return scen_fail(c, 0, "%s", why);
	return RIG_OK;
}

static rig_rc bms_variant(struct scen_reader *c, const cJSON *v, void *base)
{
	const char *kind = c->s->bms.kind->name;
	char names[128] = "", why[256], key[80], g[GOT_MAX + 24];
	size_t i, n = 0;

	(void)base;
	for (i = 0; i < N_OF(variants); i++) {
		if (strcmp(variants[i].kind, kind))
			continue;
		if (cJSON_IsString(v) && !strcmp(variants[i].name, v->valuestring))
			break;
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", variants[i].name);
	}
	if (i == N_OF(variants))
		return scen_fail(c, 0, "expected a %s variant (%s), got %s", kind, names, got(c, v, !cJSON_IsString(v), g, sizeof g));
	if (!variants[i].quirk)
		return RIG_OK;
	snprintf(key, sizeof key, "quirk.%s", variants[i].quirk);
	if (spec_set(&c->s->bms, key, variants[i].value, why, sizeof why) != RIG_OK ||
	    try_quirk(c, variants[i].quirk, variants[i].value, why, sizeof why) != RIG_OK)
		return scen_fail(c, 0, "%s", why);
	return RIG_OK;
}

static rig_rc bms_quirks(struct scen_reader *c, const cJSON *v, void *base)
{
	const cJSON *it;
	char key[128], value[256], why[256], g[GOT_MAX + 24];
	rig_rc rc = RIG_OK;

	(void)base;
	cJSON_ArrayForEach(it, v) {
		if ((rc = check_repeats(c, v, it)) != RIG_OK)
			return rc;
		push(c, it->string);
		if (!cJSON_IsString(it) && !cJSON_IsNumber(it))
			rc = scen_fail(c, 0, "expected a number or a string, got %s", got(c, it, 1, g, sizeof g));
		else if (snprintf(key, sizeof key, "quirk.%s", it->string),
		         spec_set(&c->s->bms, key, scalar(c, it, value, sizeof value), why, sizeof why) != RIG_OK)
			rc = scen_fail(c, 0, "%s", why);
		else if (try_quirk(c, it->string, value, why, sizeof why) != RIG_OK)
			rc = scen_fail(c, quirk_name_unknown(why), "%s", unprefixed(why, it->string));
		pop(c);
		if (rc != RIG_OK)
			return rc;
	}
	return RIG_OK;
}

static rig_rc add_setting(struct scen_reader *c, struct scen_setting set)
{
	struct scenario *s = c->s;

	if (s->n_settings >= SCEN_SETTINGS_MAX)
		return scen_fail(c, 1, "expected at most %u settings", SCEN_SETTINGS_MAX);
	s->setting[s->n_settings++] = set;
	return RIG_OK;
}

/* A neutral setting by its bms.h name, in its own unit. */
static rig_rc neutral_setting(struct scen_reader *c, const cJSON *it, int id)
{
	struct scenario *s = c->s;
	const struct bms_setting_info *in = bms_setting_info((unsigned)id);
	char g[GOT_MAX + 24];
	double d = it->valuedouble;
	unsigned i;

	if (!cJSON_IsNumber(it) || d != floor(d) || d < in->min || d > in->max)
		return scen_fail(c, 0, "expected an integer %ld..%ld, got %s", (long)in->min, (long)in->max,
		            got(c, it, !cJSON_IsNumber(it), g, sizeof g));
	for (i = 0; i < s->n_settings; i++)
		if (!s->setting[i].reg && s->setting[i].id == id)
			return scen_fail(c, 1, "expected each setting once, got %s twice", in->name);
	/* A cell count that differs from the pack reads 0 mV on the missing lines and trips. */
	if (id == BMS_SET_CELL_COUNT && d != s->bms.unit.model.cells)
		return scen_fail(c, 0, "expected %u (pack.cells), got %s", s->bms.unit.model.cells, got(c, it, 0, g, sizeof g));
	return add_setting(c, (struct scen_setting){ 0, (int32_t)d, (uint8_t)id });
}

/* A setting by its bms.h name or, JBD scenarios only, by an older JBD key (jbd_settings.c
 * knows those). */
static rig_rc one_setting(struct scen_reader *c, const cJSON *it)
{
	struct scenario *s = c->s;
	struct jbd_legacy l;
	enum jbd_legacy_fail f;
	char why[1024], g[GOT_MAX + 24], names[1536];
	int id = bms_setting_find(it->string);
	unsigned i;
	size_t n = 0;

	if (id >= 0)
		return neutral_setting(c, it, id);
	for (i = 0; i < BMS_SET_COUNT && n < sizeof names; i++)
		n += (size_t)snprintf(names + n, sizeof names - n, ", %s", bms_setting_info(i)->name);
	if (strcmp(s->bms.kind->personality, "jbd"))
		return scen_fail(c, 1, "unknown setting (registers and the old names are for a JBD "
		            "bms.protocol only; expected one of: %s)", names + 2);
	f = jbd_legacy_setting(NULL, JBD_LEGACY_SCENARIO, it->string, cJSON_IsNumber(it),
	                       it->valuedouble, &l, why, sizeof why);
	if (f == JBD_LEGACY_BAD_KEY)
		return scen_fail(c, 1, "unknown setting (%s%s)", why, names);
	if (f == JBD_LEGACY_BAD_VALUE)
		return scen_fail(c, 0, "%s, got %s", why, got(c, it, !cJSON_IsNumber(it), g, sizeof g));
	for (i = 0; i < s->n_settings; i++)
		if (s->setting[i].reg == l.reg)
			return scen_fail(c, 1, "expected each register once, got 0x%02X twice", (unsigned)l.reg);
	if (f != JBD_LEGACY_OK)
		return scen_fail(c, 0, "%s", why);
	/* A cell count that differs from the pack reads 0 mV on the missing lines and trips. */
	if (l.setting == BMS_SET_CELL_COUNT && l.setting_value != (int32_t)s->bms.unit.model.cells)
		return scen_fail(c, 0, "expected %u (pack.cells), got %s", s->bms.unit.model.cells, got(c, it, 0, g, sizeof g));
	return add_setting(c, (struct scen_setting){ l.reg, l.raw, 0 });
}

rig_rc scen_setting_apply(const struct scen_setting *set, struct bms *b)
{
	return set->reg ? jbd_legacy_apply(b, &(struct jbd_legacy){ .reg = set->reg, .raw = (uint16_t)set->value })
	                : bms_setting_set(b, set->id, set->value);
}

static rig_rc bms_settings(struct scen_reader *c, const cJSON *v, void *base)
{
	const cJSON *it;
	rig_rc rc = RIG_OK;

	(void)base;
	cJSON_ArrayForEach(it, v) {
		if ((rc = check_repeats(c, v, it)) != RIG_OK)
			return rc;
		push(c, it->string);
		rc = one_setting(c, it);
		pop(c);
		if (rc != RIG_OK)
			return rc;
	}
	return RIG_OK;
}

/* The address first: the personality is set up at it. */
static const struct scen_field bms_fields[] = {
	FNF("line", SCEN_T_SKIP, 0, NULL, 0),
	SPECF("address", SCEN_T_SPEC_NUM, "address"),
	FNF("protocol", SCEN_T_FN, SCEN_ALWAYS, bms_protocol, 0),
	FNF("variant", SCEN_T_FN, 0, bms_variant, 0),
	FNF("quirks", SCEN_T_OBJ, 0, bms_quirks, 0),
	FNF("settings", SCEN_T_OBJ, 0, bms_settings, 0),
};

static rig_rc each_item(struct scen_reader *c, const cJSON *v, unsigned max, const char *what,
                        rig_rc (*one)(struct scen_reader *c, const cJSON *v, void *item), void *items,
                        size_t item_size, unsigned *count);

/* The line the unit being read is on (bms_item sets it): a later unit speaks its first unit's
 * protocol. */
static const struct bms_spec *reading_line_first(const struct scen_reader *c)
{
	return &c->s->unit[c->s->line_first[c->line]];
}

/* A unit after the first on a bus: its protocol is the line's first unit's (one line, one
 * protocol). */
static rig_rc bus_protocol(struct scen_reader *c, const cJSON *v, void *base)
{
	const struct bms_spec *first = reading_line_first(c);
	char g[GOT_MAX + 24];

	if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, first->kind->name)))
		return scen_fail(c, 0, "expected \"%s\" (the units of one line speak its first unit's protocol, "
		                 "bms[%u]'s; another protocol needs a \"line\" of its own), got %s",
		                 first->kind->name, c->s->line_first[c->line], got(c, v, !cJSON_IsString(v), g, sizeof g));
	return bms_protocol(c, NULL, base);
}

/* What a later unit may change of the top-level pack: its state and size, not its make-up
 * (chemistry, cells, probes: the first unit's policy and the bridge's limits assume one). */
static const struct scen_field bus_pack_fields[] = {
	SPECF("capacity_ah", SCEN_T_SPEC_NUM, "capacity_ah"),
	SPECF("soc_pct", SCEN_T_SPEC_NUM, "soc_pct"),
	SPECF("temp_c", SCEN_T_SPEC_NUM, "temp_c"),
};

static rig_rc bus_pack(struct scen_reader *c, const cJSON *v, void *base)
{
	return walk(c, v, bus_pack_fields, N_OF(bus_pack_fields), 0, base, NULL);
}

/* "line" is read before the walk (bms_item): it decides which table the unit is read by. The
 * address and the pack before the protocol: its scratch personality is set up with them. */
static const struct scen_field bus_fields[] = {
	FNF("line", SCEN_T_SKIP, 0, NULL, 0),
	SPECF("address", SCEN_T_SPEC_NUM, "address"),
	FNF("pack", SCEN_T_OBJ, 0, bus_pack, 0),
	FNF("protocol", SCEN_T_FN, SCEN_ALWAYS, bus_protocol, 0),
	FNF("quirks", SCEN_T_OBJ, 0, bms_quirks, 0),
};

static rig_rc line_link(struct scen_reader *c, const cJSON *v, void *base);

/* The first unit of a line after the first: its own protocol, variant and link, the rest as
 * a bus unit. */
static const struct scen_field line_fields[] = {
	FNF("line", SCEN_T_SKIP, 0, NULL, 0),
	SPECF("address", SCEN_T_SPEC_NUM, "address"),
	FNF("pack", SCEN_T_OBJ, 0, bus_pack, 0),
	FNF("protocol", SCEN_T_FN, SCEN_REQ, bms_protocol, 0),
	FNF("variant", SCEN_T_FN, 0, bms_variant, 0),
	FNF("quirks", SCEN_T_OBJ, 0, bms_quirks, 0),
	SPECF("baud", SCEN_T_SPEC_NUM, "baud"),      /* the short way to its link's baud */
	FNF("link", SCEN_T_OBJ, 0, line_link, 0),
};

static rig_rc one_bms(struct scen_reader *c, const cJSON *v, struct bms_spec *base)
{
	char why[256];
	rig_rc rc;

	rc = v ? walk(c, v, bms_fields, N_OF(bms_fields), 0, base, NULL) : bms_protocol(c, NULL, base);
	if (rc == RIG_OK && spec_resolve(&c->s->bms, why, sizeof why) != RIG_OK)
		rc = scen_fail(c, 0, "%s", why);
	return rc;
}

/* The unit's "line" (1-based in the file): 1 for the first unit; a later one names a line
 * already begun or the next one. *line gets it 0-based. */
static rig_rc item_line(struct scen_reader *c, const cJSON *v, unsigned k, unsigned *line)
{
	const cJSON *ln = cJSON_GetObjectItemCaseSensitive(v, "line");
	unsigned n = c->s->n_lines, next = n < SCEN_LINES_MAX ? n + 1 : n;
	char g[GOT_MAX + 24];
	rig_rc rc = RIG_OK;
	int l;

	*line = 0;
	if (!ln)
		return RIG_OK;
	l = cJSON_IsNumber(ln) && ln->valuedouble == (double)(int)ln->valuedouble ? ln->valueint : 0;
	push(c, "line");
	if (k == 0 && l != 1)
		rc = scen_fail(c, 0, "expected 1 (the first unit is on line 1), got %s", got(c, ln, !cJSON_IsNumber(ln), g, sizeof g));
	else if (l > (int)SCEN_LINES_MAX)
		rc = scen_fail(c, 0, "expected a line 1..%u (the bridge reads at most %u separate lines), got %s",
		               SCEN_LINES_MAX, SCEN_LINES_MAX, got(c, ln, 0, g, sizeof g));
	else if (l < 1 || l > (int)next)
		rc = scen_fail(c, 0, "expected a line 1..%u (lines are numbered from 1 in the order they first appear, "
		               "without a gap), got %s", next, got(c, ln, !cJSON_IsNumber(ln), g, sizeof g));
	pop(c);
	*line = l > 0 ? (unsigned)l - 1u : 0u;
	return rc;
}

/* Item k of a `bms` array. The readers of a BMS's keys work on s->bms (its scratch personality
 * checks quirks and the address), so a later unit is read there too, from the defaults the
 * first one started from, and then moved to s->unit[k]; s->bms is the first one again after. */
static rig_rc bms_item(struct scen_reader *c, const cJSON *v, void *item)
{
	struct scenario *s = c->s;
	struct bms_spec *u = item;
	unsigned k = (unsigned)(u - s->unit), line;
	int new_line;
	char why[256], g[GOT_MAX + 24];
	rig_rc rc;

	if (!cJSON_IsObject(v))
		return scen_fail(c, 0, "expected an object, got %s", got(c, v, 1, g, sizeof g));
	if ((rc = item_line(c, v, k, &line)) != RIG_OK)
		return rc;
	c->line = line;
	new_line = line == s->n_lines;
	if (new_line) {
		s->line_first[line] = (uint8_t)k;
		s->n_lines++;
	}
	s->unit_line[k] = (uint8_t)line;
	s->unit_index[k] = s->line_units[line]++;
	if (k == 0) {
		if ((rc = one_bms(c, v, &s->bms)) == RIG_OK)
			s->unit[0] = s->bms;
		return rc;
	}
	s->bms = s->unit[SCEN_BUS_UNITS_MAX - 1];     /* the defaults, kept there by top_bms */
	if (new_line) {
		s->bms.link.seed = s->seed ^ (0x9E3779B9u * line);
		rc = walk(c, v, line_fields, N_OF(line_fields), 0, &s->bms, NULL);
	} else {
		s->bms.kind = reading_line_first(c)->kind;
		s->bms.link = reading_line_first(c)->link;
		s->bms.baud = reading_line_first(c)->baud;
		rc = walk(c, v, bus_fields, N_OF(bus_fields), 0, &s->bms, NULL);
	}
	*u = s->bms;
	s->bms = s->unit[0];
	if (rc == RIG_OK && spec_resolve(u, why, sizeof why) != RIG_OK)
		rc = scen_fail(c, 0, "%s", why);
	return rc;
}

static rig_rc top_bms(struct scen_reader *c, const cJSON *v, void *base)
{
	struct scenario *s = c->s;
	char g[GOT_MAX + 24];
	unsigned k, j;
	rig_rc rc;

	s->n_units = 1;
	s->n_lines = 1;
	s->line_units[0] = 1;
	if (!v || cJSON_IsObject(v)) {
		unsigned line;

		if (v && (rc = item_line(c, v, 0, &line)) != RIG_OK)
			return rc;
		rc = one_bms(c, v, base);
		s->unit[0] = s->bms;
		return rc;
	}
	if (!cJSON_IsArray(v))
		return scen_fail(c, 0, "expected an object or an array of objects, got %s", got(c, v, 1, g, sizeof g));
	if (!cJSON_GetArraySize(v))
		return scen_fail(c, 0, "expected at least one BMS");
	/* The last slot holds the defaults until the items have been read (a full bus fills it
	 * last, after every other item has taken its copy). */
	s->unit[SCEN_BUS_UNITS_MAX - 1] = s->bms;
	s->n_lines = 0;
	s->line_units[0] = 0;
	rc = each_item(c, v, SCEN_BUS_UNITS_MAX, "units on all lines", bms_item, s->unit, sizeof s->unit[0], &s->n_units);
	if (rc != RIG_OK)
		return rc;
	for (k = 1; k < s->n_units; k++)
		for (j = 0; j < k; j++)
			if (s->unit_line[j] == s->unit_line[k] && s->unit[j].unit.address == s->unit[k].unit.address) {
				push_i(c, k);
				push(c, "address");
				rc = scen_fail(c, 0, "expected an address of its own on the line, got %u (bms[%u]'s too)",
				               s->unit[k].unit.address, j);
				pop(c);
				pop(c);
				return rc;
			}
	return RIG_OK;
}

const struct bms_spec *scenario_line_spec(const struct scenario *s, unsigned line)
{
	return line && line < s->n_lines ? &s->unit[s->line_first[line]] : &s->bms;
}

/* ---- the link ------------------------------------------------------------------------------ */

/* link_set keys but the seed, which comes from the scenario's. */
static const struct scen_field ble_fields[] = {
	SPECF("chunk_bytes", SCEN_T_SPEC_ANY, "ble.chunk_bytes"),
	SPECF("interval_ms", SCEN_T_SPEC_ANY, "ble.interval_ms"),
	SPECF("connect_ms", SCEN_T_SPEC_ANY, "ble.connect_ms"),
	SPECF("drop_first", SCEN_T_SPEC_ANY, "ble.drop_first"),
	SPECF("disconnect_after_ms", SCEN_T_SPEC_ANY, "ble.disconnect_after_ms"),
	SPECF("disconnects_per_h", SCEN_T_SPEC_ANY, "ble.disconnects_per_h"),
	SPECF("stuck_ms", SCEN_T_SPEC_ANY, "ble.stuck_ms"),
	SPECF("notify_loss_pct", SCEN_T_SPEC_ANY, "ble.notify_loss_pct"),
	SPECF("queue_ms", SCEN_T_SPEC_ANY, "ble.queue_ms"),
	SPECF("disconnect_on_close", SCEN_T_SPEC_ANY, "ble.disconnect_on_close"),
	SPECF("password", SCEN_T_SPEC_ANY, "ble.password"),
	SPECF("mac", SCEN_T_SPEC_ANY, "ble.mac"),
};

static rig_rc link_ble(struct scen_reader *c, const cJSON *v, void *base)
{
	if (c->s->bms.kind->link != LINK_BLE)
		return scen_fail(c, 1, "expected a Bluetooth bms.protocol (jbd-ble, daly-ble, jk-ble, thornwave, thornwave-x) for Bluetooth "
		            "settings, got \"%s\"", c->s->bms.kind->name);
	return walk(c, v, ble_fields, N_OF(ble_fields), 0, base, NULL);
}

static const struct scen_field link_fields[] = {
	SPECF("baud", SCEN_T_SPEC_NUM, "baud"),
	FNF("ble", SCEN_T_OBJ, 0, link_ble, 0),
};

/* A line's own link (the first line's is the top-level `link`); its random drops follow a
 * seed of their own, from the scenario's (bms_item). */
static rig_rc line_link(struct scen_reader *c, const cJSON *v, void *base)
{
	return walk(c, v, link_fields, N_OF(link_fields), 0, base, NULL);
}

static rig_rc top_link(struct scen_reader *c, const cJSON *v, void *base)
{
	rig_rc rc = v ? walk(c, v, link_fields, N_OF(link_fields), 0, base, NULL) : RIG_OK;

	c->s->bms.link.seed = c->s->seed;
	return rc;
}

/* ---- the timeline -------------------------------------------------------------------------- */

/* What "do" names. The line faults follow, one per enum wire_fault_kind, named by
 * wire_fault_names. Each name is one bit of a field's .only mask. */
enum do_index {
	D_CURRENT, D_POWER, D_PROFILE, D_AMBIENT, D_DRIFT, D_CELL_SOC, D_FORCE_CELL, D_OPEN_WIRE,
	D_NTC_OPEN, D_NTC_SHORT, D_SHORT, D_REBOOT, D_SETTINGS_RESET, D_FETS, D_QUIRK,
	D_BLE_DISCONNECT, D_CLEAR_FAULTS, D_MARK, D_WIRE, D_COUNT = D_WIRE + WF_COUNT
};
/* The mask's top bit: the event is read from a file (it has an "at"), not injected. */
#define IN_FILE (1u << 31)
_Static_assert(D_COUNT <= 31, "a do name is one bit of a uint32 mask, IN_FILE the top one");

#define NEEDS_ID  1u     /* a mark is nothing but its id */
#define NEEDS_BLE 2u     /* only a Bluetooth link disconnects */
#define ONE_DRIFT 4u     /* at least one of capacity_pct, resistance_pct, leak_ma */
#define BOTH_OR_NONE 8u  /* profile: exactly one of steps and csv */
#define FILE_ONLY 16u    /* its points live in the scenario: never injected */

static const struct do_kind {
	const char *name;
	enum scen_ev_kind kind;
	uint8_t flags;
	uint32_t for_ms;     /* default "for" */
	double value;        /* default value */
} do_kinds[D_WIRE] = {
	[D_CURRENT] = { "current", SCEN_EV_CURRENT, 0, 0, 0 },
	[D_POWER] = { "power", SCEN_EV_POWER, 0, 0, 0 },
	[D_PROFILE] = { "profile", SCEN_EV_PROFILE, BOTH_OR_NONE | FILE_ONLY, 0, 0 },
	[D_AMBIENT] = { "ambient", SCEN_EV_AMBIENT, 0, 0, 0 },
	[D_DRIFT] = { "drift", SCEN_EV_DRIFT, ONE_DRIFT, 0, 0 },
	[D_CELL_SOC] = { "cell_soc", SCEN_EV_CELL_SOC, 0, 0, 0 },
	[D_FORCE_CELL] = { "force_cell", SCEN_EV_FORCE_CELL, 0, 0, 0 },
	[D_OPEN_WIRE] = { "open_wire", SCEN_EV_OPEN_WIRE, 0, 0, 0 },
	[D_NTC_OPEN] = { "ntc_open", SCEN_EV_NTC_OPEN, 0, 0, 0 },
	[D_NTC_SHORT] = { "ntc_short", SCEN_EV_NTC_SHORT, 0, 0, 0 },
	[D_SHORT] = { "short_circuit", SCEN_EV_SHORT_CIRCUIT, 0, 500, -1000 },
	[D_REBOOT] = { "bms_reboot", SCEN_EV_BMS_REBOOT, 0, 0, 0 },
	[D_SETTINGS_RESET] = { "settings_reset", SCEN_EV_SETTINGS_RESET, 0, 0, 0 },
	[D_FETS] = { "fets", SCEN_EV_FETS, 0, 0, 0 },
	[D_QUIRK] = { "quirk", SCEN_EV_QUIRK, 0, 0, 0 },
	[D_BLE_DISCONNECT] = { "ble_disconnect", SCEN_EV_BLE_DISCONNECT, NEEDS_BLE, 0, 0 },
	[D_CLEAR_FAULTS] = { "clear_faults", SCEN_EV_CLEAR_FAULTS, 0, 0, 0 },
	[D_MARK] = { "mark", SCEN_EV_MARK, NEEDS_ID, 0, 0 },
};

const char *scen_ev_name(enum scen_ev_kind k)
{
	unsigned i;

	if (k == SCEN_EV_WIRE_FAULT)
		return "wire_fault";      /* in files, each fault by its own name */
	for (i = 0; i < N_OF(do_kinds); i++)
		if (do_kinds[i].kind == k)
			return do_kinds[i].name;
	return "?";
}

static const char *do_name(unsigned d)
{
	return d < D_WIRE ? do_kinds[d].name : wire_fault_names[d - D_WIRE];
}

static int do_find(const char *name)
{
	unsigned d;
	int f;

	for (d = 0; d < D_WIRE; d++)
		if (!strcmp(do_kinds[d].name, name))
			return (int)d;
	f = wire_fault_find(name);
	return f >= 0 ? D_WIRE + f : -1;
}

static rig_rc ev_id(struct scen_reader *c, const cJSON *v, void *base);
static rig_rc ev_unit(struct scen_reader *c, const cJSON *v, void *base);
static rig_rc ev_line(struct scen_reader *c, const cJSON *v, void *base);
static rig_rc ev_steps(struct scen_reader *c, const cJSON *v, void *base);
static rig_rc ev_csv(struct scen_reader *c, const cJSON *v, void *base);

#define B(d) (1u << (d))
#define WIRE(f) B(D_WIRE + (f))
#define EV(m) MEMBER(struct scen_event, m)
static const struct scen_field ev_fields[] = {
	{ "at", SCEN_T_TIME, SCEN_REQ, 0, TIME_MAX_MS, EV(at_ms), IN_FILE, NULL, NULL },
	FNF("do", SCEN_T_SKIP, 0, NULL, 0),
	FNF("id", SCEN_T_FN, 0, ev_id, 0),
	{ "for", SCEN_T_TIME, 0, 0, TIME_MAX_MS, EV(for_ms), 0, NULL, NULL },
	{ "ramp", SCEN_T_TIME, 0, 0, TIME_MAX_MS, EV(ramp_ms), B(D_CURRENT) | B(D_POWER) | B(D_AMBIENT), NULL, NULL },
	{ "a", SCEN_T_NUM, SCEN_REQ, -AMPS_MAX, AMPS_MAX, EV(value), B(D_CURRENT), NULL, NULL },
	{ "w", SCEN_T_NUM, SCEN_REQ, -100000, 100000, EV(value), B(D_POWER), NULL, NULL },
	FNF("steps", SCEN_T_ARR, 0, ev_steps, B(D_PROFILE)),
	FNF("csv", SCEN_T_FN, 0, ev_csv, B(D_PROFILE)),
	{ "c", SCEN_T_NUM, SCEN_REQ, -40, 80, EV(value), B(D_AMBIENT), NULL, NULL },
	{ "cell", SCEN_T_CELL, SCEN_REQ, 0, 0, EV(cell), B(D_DRIFT) | B(D_CELL_SOC) | B(D_FORCE_CELL) | B(D_OPEN_WIRE), NULL, NULL },
	{ "capacity_pct", SCEN_T_NUM, 0, -90, 100, EV(capacity_pct), B(D_DRIFT), NULL, NULL },
	{ "resistance_pct", SCEN_T_NUM, 0, -50, 1000, EV(resistance_pct), B(D_DRIFT), NULL, NULL },
	{ "leak_ma", SCEN_T_NUM, 0, 0, 10000, EV(leak_mA), B(D_DRIFT), NULL, NULL },
	{ "soc_pct", SCEN_T_NUM, SCEN_REQ, 0, 100, EV(value), B(D_CELL_SOC), NULL, NULL },
	{ "mv", SCEN_T_INT, SCEN_REQ, 0, 6000, EV(value), B(D_FORCE_CELL), NULL, NULL },
	{ "ntc", SCEN_T_NTC, SCEN_REQ, 0, 0, EV(ntc), B(D_NTC_OPEN) | B(D_NTC_SHORT), NULL, NULL },
	{ "a", SCEN_T_NUM, 0, -100000, -1, EV(value), B(D_SHORT), NULL, NULL },
	{ "chg", SCEN_T_BOOL, SCEN_REQ, 0, 0, EV(chg), B(D_FETS), NULL, NULL },
	{ "dsg", SCEN_T_BOOL, SCEN_REQ, 0, 0, EV(dsg), B(D_FETS), NULL, NULL },
	{ "name", SCEN_T_TEXT, SCEN_REQ, 1, 63, EV(text[0]), B(D_QUIRK), NULL, NULL },
	{ "value", SCEN_T_SCALAR, SCEN_REQ, 0, 0, EV(text[1]), B(D_QUIRK), NULL, NULL },
	{ "rate", SCEN_T_NUM, 0, 0, 1, EV(rate), ((1u << WF_COUNT) - 1u) << D_WIRE, NULL, NULL },
	{ "ms", SCEN_T_INT, SCEN_REQ, 1, 60000, EV(param), WIRE(WF_LATE_REPLY), NULL, NULL },
	{ "bytes", SCEN_T_INT, 0, 1, 4096, EV(param), WIRE(WF_TRUNCATE) | WIRE(WF_OVERSIZE) | WIRE(WF_GARBAGE) |
	  WIRE(WF_DROP_BYTES) | WIRE(WF_DUP_BYTES), NULL, NULL },
	{ "baud", SCEN_T_INT, SCEN_REQ, 50, 4000000, EV(param), WIRE(WF_BAUD), NULL, NULL },
	{ "reconnect", SCEN_T_TIME, 0, 0, TIME_MAX_MS, EV(reconnect_ms), B(D_BLE_DISCONNECT), NULL, NULL },
	/* The pack's and the BMS's own events may name a unit of a bus; the load, the ambient and
	 * the line are the first unit's or the line's. */
	/* A line fault on the DUT's inverter line instead: what the device announces is hit (the
	 * faults that change a reply's bytes or lose it; delays and the client's side are the BMS
	 * line's only). */
	FNF("line", SCEN_T_FN, 0, ev_line, WIRE(WF_NO_REPLY) | WIRE(WF_CORRUPT) | WIRE(WF_TRUNCATE) | WIRE(WF_OVERSIZE) |
	    WIRE(WF_GARBAGE) | WIRE(WF_DROP_BYTES) | WIRE(WF_DUP_BYTES)),
	/* On a line fault, "bms": N is unit N's line (several lines: `"line": N` in the array). */
	FNF("bms", SCEN_T_FN, 0, ev_unit, B(D_DRIFT) | B(D_CELL_SOC) | B(D_FORCE_CELL) | B(D_OPEN_WIRE) |
	    B(D_NTC_OPEN) | B(D_NTC_SHORT) | B(D_REBOOT) | B(D_SETTINGS_RESET) | B(D_FETS) | B(D_QUIRK) |
	    B(D_BLE_DISCONNECT) | (((1u << WF_COUNT) - 1u) << D_WIRE)),
};
#undef EV
_Static_assert(N_OF(ev_fields) <= 64, "walk's seen mask");

/* "line": "bms" (the default) or "inverter". */
static rig_rc ev_line(struct scen_reader *c, const cJSON *v, void *base)
{
	char g[GOT_MAX + 24];

	if (!cJSON_IsString(v) || (strcmp(v->valuestring, "bms") && strcmp(v->valuestring, "inverter")))
		return scen_fail(c, 0, "expected \"bms\" or \"inverter\", got %s", got(c, v, !cJSON_IsString(v), g, sizeof g));
	((struct scen_event *)base)->inverter_line = !strcmp(v->valuestring, "inverter");
	return RIG_OK;
}

/* "bms": N, 1-based among the `bms` array's units. */
static rig_rc ev_unit(struct scen_reader *c, const cJSON *v, void *base)
{
	unsigned n = c->s->n_units ? c->s->n_units : 1;
	char g[GOT_MAX + 24];

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valueint < 1 ||
	    (unsigned)v->valueint > n)
		return scen_fail(c, 0, "expected a unit of the bms array, 1..%u, got %s", n, got(c, v, !cJSON_IsNumber(v), g, sizeof g));
	((struct scen_event *)base)->unit = (unsigned)v->valueint - 1u;
	return RIG_OK;
}

static rig_rc ev_id(struct scen_reader *c, const cJSON *v, void *base)
{
	struct scen_event *e = base;
	char g[GOT_MAX + 24];
	unsigned i;

	if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) >= sizeof e->id ||
	    strspn(v->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
	    strlen(v->valuestring))
		return scen_fail(c, 0, "expected an id of 1..31 letters, digits and _, got %s",
		            got(c, v, !cJSON_IsString(v), g, sizeof g));
	for (i = 0; i < c->s->n_events; i++)
		if (!strcmp(c->s->event[i].id, v->valuestring))
			return scen_fail(c, 0, "expected an id no other event has, got \"%s\" (timeline[%u] has it)",
			            v->valuestring, i);
	memcpy(e->id, v->valuestring, strlen(v->valuestring) + 1);
	return RIG_OK;
}

static rig_rc add_point(struct scen_reader *c, uint32_t t_ms, double value)
{
	struct scenario *s = c->s;

	if (s->n_points >= SCEN_POINTS_MAX)
		return scen_fail(c, 0, "expected at most %u profile points in all (steps count twice)", SCEN_POINTS_MAX);
	s->point[s->n_points++] = (struct scen_point){ t_ms, value };
	return RIG_OK;
}

static const struct scen_field step_time = { "time", SCEN_T_TIME, 0, 0, TIME_MAX_MS, 0, sizeof(uint32_t), 0, NULL, NULL };
static const struct scen_field step_amps = { "current", SCEN_T_NUM, 0, -AMPS_MAX, AMPS_MAX, 0, sizeof(double), 0, NULL, NULL };

/* Steps as points: each value holds until the next step, so the next step's time gets a point
 * with the value before it, and linear interpolation between points reproduces the steps. */
static rig_rc ev_steps(struct scen_reader *c, const cJSON *v, void *base)
{
	struct scen_event *e = base;
	const cJSON *st;
	char g[GOT_MAX + 24], a[32];
	uint32_t t = 0, prev_t = 0;
	double amps = 0, prev_amps = 0;
	unsigned j = 0;
	rig_rc rc = RIG_OK;

	e->first = c->s->n_points;
	if (!cJSON_GetArraySize(v))
		return scen_fail(c, 0, "expected at least one step [\"TIME\", A]");
	cJSON_ArrayForEach(st, v) {
		push_i(c, j);
		if (!cJSON_IsArray(st) || cJSON_GetArraySize(st) != 2) {
			rc = scen_fail(c, 0, "expected a step [\"TIME\", A], got %s", got(c, st, 1, g, sizeof g));
		} else {
			push_i(c, 0);
			rc = field_value(c, &step_time, st->child, &t);
			if (rc == RIG_OK && j == 0 && t != 0)
				rc = scen_fail(c, 0, "expected the first step at \"0\", got %s", got(c, st->child, 0, g, sizeof g));
			if (rc == RIG_OK && t < prev_t)
				rc = scen_fail(c, 0, "expected a time at or after %s (the step before), got %s",
				          fmt_time(prev_t, a, sizeof a), got(c, st->child, 0, g, sizeof g));
			pop(c);
			push_i(c, 1);
			if (rc == RIG_OK)
				rc = field_value(c, &step_amps, st->child->next, &amps);
			if (rc == RIG_OK && j > 0 && t > prev_t)
				rc = add_point(c, t, prev_amps);
			if (rc == RIG_OK)
				rc = add_point(c, t, amps);
			pop(c);
		}
		pop(c);
		if (rc != RIG_OK)
			return rc;
		prev_t = t;
		prev_amps = amps;
		j++;
	}
	e->count = c->s->n_points - e->first;
	return RIG_OK;
}


/* "  1.5 " as a finite number. */
static int csv_number(const char *p, const char *end, double *out)
{
	char buf[64], *stop;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - p);
	if (!n || n >= sizeof buf || memchr(p, '\0', n))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &stop);
	return !*stop && !errno && isfinite(*out);
}

/* At most CSV_SHOWN_MAX bytes of a CSV row, anything but printable ASCII as \xNN: a path
 * mistaken for a profile (a key file, a password file) must not be echoed into a log. */
static void csv_excerpt(char *out, size_t cap, const char *p, size_t n)
{
	size_t i, k = 0, max = n < CSV_SHOWN_MAX ? n : CSV_SHOWN_MAX;

	for (i = 0; i < max && k + 5 < cap; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20u && ch < 0x7Fu && ch != '"' && ch != '\\')
			out[k++] = (char)ch;
		else
			k += (size_t)snprintf(out + k, cap - k, "\\x%02X", ch);
	}
	out[k] = '\0';
	if (max < n && k + 4 < cap)
		strcat(out, "...");
}

static rig_rc csv_fail(struct scen_reader *c, const char *file, unsigned line, const char *what, const char *p, size_t n)
{
	char shown[CSV_SHOWN_MAX * 4 + 8];

	csv_excerpt(shown, sizeof shown, p, n);
	snprintf(c->err, c->errcap, "%s:%u: expected %s, got \"%s\"", file, line, what, shown);
	return RIG_ERR_ARG;
}

/* Rows "time_s,current_a" into points. Blank lines and # comments are skipped, and so is a
 * first row whose time is not a number (a header). Times round to the millisecond. */
static rig_rc csv_rows(struct scen_reader *c, struct scen_event *e, const char *file, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 0, content = 0;
	uint32_t prev_ms = 0;
	char what[96], a[32];

	e->first = c->s->n_points;
	while (p < end) {
		const char *q = p, *eol = memchr(p, '\n', (size_t)(end - p)), *comma;
		double t_s, amps;
		uint32_t ms;

		if (!eol)
			eol = end;
		line++;
		p = eol + 1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (eol > q && eol[-1] == '\r')
			eol--;
		if (q == eol || *q == '#')
			continue;
		comma = memchr(q, ',', (size_t)(eol - q));
		if (++content == 1 && !csv_number(q, comma ? comma : eol, &t_s))
			continue;                                /* a header: its first field is no number */
		if (!comma || memchr(comma + 1, ',', (size_t)(eol - comma - 1)) || !csv_number(q, comma, &t_s) ||
		    !csv_number(comma + 1, eol, &amps))
			return csv_fail(c, file, line, "a row time_s,current_a (two numbers)", q, (size_t)(eol - q));
		if (!(t_s >= 0 && t_s * 1000.0 <= TIME_MAX_MS))
			return csv_fail(c, file, line, "a time of 0..4233600 s (49 days)", q, (size_t)(eol - q));
		ms = (uint32_t)llround(t_s * 1000.0);
		if (ms < prev_ms) {
			snprintf(what, sizeof what, "a time at or after %s (the row before)", fmt_time(prev_ms, a, sizeof a));
			return csv_fail(c, file, line, what, q, (size_t)(eol - q));
		}
		if (!(amps >= -AMPS_MAX && amps <= AMPS_MAX))
			return csv_fail(c, file, line, "a current of -2000..2000 A", q, (size_t)(eol - q));
		if (c->s->n_points >= SCEN_POINTS_MAX) {
			snprintf(what, sizeof what, "at most %u profile points in all", SCEN_POINTS_MAX);
			return csv_fail(c, file, line, what, q, (size_t)(eol - q));
		}
		c->s->point[c->s->n_points++] = (struct scen_point){ ms, amps };
		prev_ms = ms;
	}
	e->count = c->s->n_points - e->first;
	if (!e->count) {
		snprintf(c->err, c->errcap, "%s: expected at least one row time_s,current_a", file);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

/* A profile's path stays inside the scenario's folder tree as written: not absolute, and no
 * ".." that climbs above where it started ("a/../b.csv" is fine, "../b.csv" is not). */
static int path_stays_inside(const char *rel)
{
	const char *p = rel;
	long depth = 0;

	if (*p == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && *p == '.')) {
			depth++;
		}
		p += n;
		p += *p == '/';
	}
	return 1;
}

/* The written path is inside; is the file it reaches (symlinks resolved) inside too? 1 yes,
 * with *real the resolved path to read (so a link swapped after this check is not followed);
 * 0 no; -1 cannot tell (the file is missing: the read will say so). */
static int file_stays_inside(const char *dir, const char *file, char **real)
{
	char *real_dir = realpath(*dir ? dir : ".", NULL), *real_file = realpath(file, NULL);
	int inside = -1;

	*real = NULL;
	if (real_dir && real_file) {
		size_t n = strlen(real_dir);

		/* "/" is every file's folder; otherwise "DIR/..." and not "DIRx/...". */
		inside = !strncmp(real_file, real_dir, n) && (n == 1 || real_file[n] == '/');
	}
	free(real_dir);
	if (inside == 1)
		*real = real_file;
	else
		free(real_file);
	return inside;
}

/* A CSV profile, relative to the scenario's folder and inside its tree (scenarios/README.md,
 * "Profiles"). Not read when fuzzing (read_files 0). */
static rig_rc ev_csv(struct scen_reader *c, const cJSON *v, void *base)
{
	struct scen_event *e = base;
	char file[sizeof c->dir + SCEN_TEXT_MAX], why[sizeof file + 128], g[GOT_MAX + 24], *text, *real;
	size_t len = 0;
	rig_rc rc;

	if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) >= SCEN_TEXT_MAX)
		return scen_fail(c, 0, "expected a file name of 1..%u characters, got %s", SCEN_TEXT_MAX - 1,
		            got(c, v, !cJSON_IsString(v), g, sizeof g));
	if (!path_stays_inside(v->valuestring))
		return scen_fail(c, 0, "expected a path inside the scenario's folder (relative, no \"..\" "
		                 "above it), got %s", got(c, v, 0, g, sizeof g));
	e->first = c->s->n_points;
	e->count = 0;
	if (!c->read_files)
		return RIG_OK;
	snprintf(file, sizeof file, "%s%s", c->dir, v->valuestring);
	if (!file_stays_inside(c->dir, file, &real))
		return scen_fail(c, 0, "expected a file inside the scenario's folder, got %s (a symlink "
		                 "to a file outside it)", got(c, v, 0, g, sizeof g));
	text = host_file_read_all(real ? real : file, (size_t)FILE_MAX, &len, why, sizeof why);
	free(real);
	if (!text) {
		scen_fail(c, 0, "%s", why);
		return RIG_ERR_IO;
	}
	rc = csv_rows(c, e, file, text, len);
	free(text);
	return rc;
}

rig_rc scenario_profile_csv(struct scenario *s, struct scen_event *e, const char *file, const char *text,
                            size_t len, char *err, size_t errcap)
{
	struct scen_reader *c = calloc(1, sizeof *c);
	rig_rc rc;

	if (!c) {
		snprintf(err, errcap, "%s: out of memory", file);
		return RIG_ERR_IO;
	}
	c->s = s;
	c->err = err;
	c->errcap = errcap;
	rc = csv_rows(c, e, file, text, len);
	free(c);
	return rc;
}

/* The value of key in obj, which a check after the walk refused. */
static rig_rc fail_key(struct scen_reader *c, const cJSON *obj, const char *key, const char *expected)
{
	char g[GOT_MAX + 24];
	rig_rc rc;

	push(c, key);
	rc = scen_fail(c, 0, "expected %s, got %s", expected, got(c, cJSON_GetObjectItemCaseSensitive(obj, key), 0, g, sizeof g));
	pop(c);
	return rc;
}

static rig_rc one_event(struct scen_reader *c, const cJSON *v, struct scen_event *e)
{
	struct scenario *s = c->s;
	const cJSON *what = cJSON_GetObjectItemCaseSensitive(v, "do");
	const struct do_kind *dk;
	char g[GOT_MAX + 24], names[512], a[32], expected[96];
	unsigned line = 1, col = 1, flags;
	uint64_t seen = 0;
	size_t n = 0;
	int d;
	rig_rc rc;

	if (!cJSON_IsObject(v))
		return scen_fail(c, 0, "expected an object {\"at\": TIME, \"do\": KIND, ...}, got %s", got(c, v, 1, g, sizeof g));
	if (!what)
		return scen_fail(c, 0, "expected key \"do\" (what happens)");
	d = cJSON_IsString(what) ? do_find(what->valuestring) : -1;
	if (d < 0) {
		for (d = 0; d < D_COUNT; d++)
			n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", do_name((unsigned)d));
		push(c, "do");
		rc = scen_fail(c, 0, "expected an event kind (%s), got %s", names, got(c, what, !cJSON_IsString(what), g, sizeof g));
		pop(c);
		return rc;
	}
	dk = d < D_WIRE ? &do_kinds[d] : NULL;
	flags = dk ? dk->flags : 0;
	memset(e, 0, sizeof *e);
	e->kind = dk ? dk->kind : SCEN_EV_WIRE_FAULT;
	e->fault = dk ? WF_NO_REPLY : (enum wire_fault_kind)(d - D_WIRE);
	e->cell = e->ntc = -1;
	e->rate = 1;
	e->for_ms = dk ? dk->for_ms : 0;
	e->value = dk ? dk->value : 0;
	e->reconnect_ms = s->bms.link.connect_ms;
	locate(c, 0, &line, &col);
	e->line = line;
	if ((flags & NEEDS_BLE) && s->bms.kind->link != LINK_BLE) {
		push(c, "do");
		rc = scen_fail(c, 0, "expected a Bluetooth bms.protocol (jbd-ble, daly-ble, jk-ble, thornwave, thornwave-x) for %s, got \"%s\"",
		          do_name((unsigned)d), s->bms.kind->name);
		pop(c);
		return rc;
	}
	if ((flags & FILE_ONLY) && c->inject) {
		push(c, "do");
		rc = scen_fail(c, 0, "expected an event kind other than %s (it belongs in a scenario file)", do_name((unsigned)d));
		pop(c);
		return rc;
	}
	if ((flags & BOTH_OR_NONE) && cJSON_HasObjectItem(v, "steps") && cJSON_HasObjectItem(v, "csv")) {
		push(c, "csv");
		rc = scen_fail(c, 1, "expected either \"steps\" or \"csv\", not both");
		pop(c);
		return rc;
	}
	rc = walk(c, v, ev_fields, N_OF(ev_fields), B(d) | (c->inject ? 0u : IN_FILE), e, &seen);
	if (rc != RIG_OK)
		return rc;
	if ((flags & NEEDS_ID) && !e->id[0])
		return scen_fail(c, 0, "expected key \"id\" (a mark is a name for expectations)");
	if ((flags & ONE_DRIFT) && !was_seen(ev_fields, N_OF(ev_fields), seen, "capacity_pct") &&
	    !was_seen(ev_fields, N_OF(ev_fields), seen, "resistance_pct") &&
	    !was_seen(ev_fields, N_OF(ev_fields), seen, "leak_ma"))
		return scen_fail(c, 0, "expected at least one of the keys \"capacity_pct\", \"resistance_pct\", \"leak_ma\"");
	if ((flags & BOTH_OR_NONE) && !was_seen(ev_fields, N_OF(ev_fields), seen, "steps") &&
	    !was_seen(ev_fields, N_OF(ev_fields), seen, "csv"))
		return scen_fail(c, 0, "expected key \"steps\" or \"csv\"");
	if (e->kind == SCEN_EV_QUIRK) {
		char why[256];

		if (try_quirk(c, e->text[0], e->text[1], why, sizeof why) != RIG_OK) {
			push(c, quirk_name_unknown(why) ? "name" : "value");
			rc = scen_fail(c, 0, "%s", unprefixed(why, e->text[0]));
			pop(c);
			return rc;
		}
	}
	if (c->inject)
		return RIG_OK;
	if (s->n_events && e->at_ms < s->event[s->n_events - 1].at_ms) {
		snprintf(expected, sizeof expected, "a time at or after %s (the previous event)",
		         fmt_time(s->event[s->n_events - 1].at_ms, a, sizeof a));
		return fail_key(c, v, "at", expected);
	}
	if (e->at_ms >= s->duration_ms) {
		snprintf(expected, sizeof expected, "a time before the end (duration %s)", fmt_time(s->duration_ms, a, sizeof a));
		return fail_key(c, v, "at", expected);
	}
	return RIG_OK;
}

/* Each item of an array section through one(), at most max of them; *count follows the items
 * read so far, so a later check can look back at them. */
static rig_rc each_item(struct scen_reader *c, const cJSON *v, unsigned max, const char *what,
                        rig_rc (*one)(struct scen_reader *c, const cJSON *v, void *item), void *items,
                        size_t item_size, unsigned *count)
{
	const cJSON *it;
	unsigned i = 0;
	rig_rc rc;

	if (cJSON_GetArraySize(v) > (int)max)
		return scen_fail(c, 0, "expected at most %u %s", max, what);
	cJSON_ArrayForEach(it, v) {
		push_i(c, i);
		rc = one(c, it, (char *)items + i * item_size);
		pop(c);
		if (rc != RIG_OK)
			return rc;
		*count = ++i;
	}
	return RIG_OK;
}

static rig_rc event_item(struct scen_reader *c, const cJSON *v, void *item) { return one_event(c, v, item); }

static rig_rc top_timeline(struct scen_reader *c, const cJSON *v, void *base)
{
	(void)base;
	return each_item(c, v, SCEN_EVENTS_MAX, "events", event_item, c->s->event, sizeof c->s->event[0],
	                 &c->s->n_events);
}

/* ---- the file -------------------------------------------------------------------------- */

static rig_rc top_seed(struct scen_reader *c, const cJSON *v, void *base)
{
	static const struct scen_field seed = SPECF("seed", SCEN_T_SPEC_NUM, "seed");
	struct scenario *s = c->s;
	rig_rc rc = v ? field_value(c, &seed, v, base) : RIG_OK;

	/* One seed for everything random: the pack's spread and the link's drops. */
	if (c->seed_override >= 0)
		s->bms.unit.model.seed = (uint32_t)c->seed_override;
	s->seed = s->bms.unit.model.seed;
	return rc;
}

/* In the order the parts depend on each other (walk takes fields in table order). */
#define SC(m) MEMBER(struct scenario, m)
static const struct scen_field top_fields[] = {
	FNF("bmsrig_scenario", SCEN_T_SKIP, 0, NULL, 0),
	{ "name", SCEN_T_TEXT, SCEN_REQ, 1, 95, SC(name), 0, NULL, NULL },
	{ "description", SCEN_T_TEXT, 0, 0, SCEN_TEXT_MAX - 1, SC(description), 0, NULL, NULL },
	FNF("seed", SCEN_T_FN, SCEN_ALWAYS, top_seed, 0),
	{ "duration", SCEN_T_TIME, SCEN_REQ, 1, TIME_MAX_MS, SC(duration_ms), 0, NULL, NULL },
	FNF("pack", SCEN_T_OBJ, SCEN_ALWAYS, top_pack, 0),
	FNF("bms", SCEN_T_FN, SCEN_ALWAYS, top_bms, 0),
	FNF("link", SCEN_T_OBJ, SCEN_ALWAYS, top_link, 0),
	FNF("timeline", SCEN_T_ARR, 0, top_timeline, 0),
};
#undef SC

/* The file's own keys with the caller's part merged in, each of these just before the key it
 * names: one walk then takes them all in that order. */
static rig_rc walk_top(struct scen_reader *c, const cJSON *root)
{
	struct scen_field tab[N_OF(top_fields) + SCEN_PART_KEYS_MAX];
	const struct scenario_part *p = c->part;
	size_t n = 0, i;
	unsigned k;

	for (i = 0; i <= N_OF(top_fields); i++) {
		for (k = 0; p && k < p->n_keys && k < SCEN_PART_KEYS_MAX; k++) {
			const struct scen_part_key *pk = &p->keys[k];

			if (i < N_OF(top_fields) ? pk->before && !strcmp(pk->before, top_fields[i].key) : !pk->before)
				tab[n++] = (struct scen_field)FNF(pk->key, pk->type, pk->flags, pk->fn, 0);
		}
		if (i < N_OF(top_fields))
			tab[n++] = top_fields[i];
	}
	return walk(c, root, tab, n, 0, c->s, NULL);
}

/* The version before anything else: a file of another version gets that said, not a list of
 * keys this version does not know. */
static rig_rc parse_root(struct scen_reader *c, const cJSON *root)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "bmsrig_scenario");
	char g[GOT_MAX + 24];
	rig_rc rc;

	if (!cJSON_IsObject(root))
		return scen_fail(c, 0, "expected an object (a bmsrig scenario), got %s", got(c, root, 1, g, sizeof g));
	if (!ver)
		return scen_fail(c, 0, "expected key \"bmsrig_scenario\": %d (the format version)", SCENARIO_VERSION);
	if (!cJSON_IsNumber(ver) || ver->valuedouble != SCENARIO_VERSION) {
		push(c, "bmsrig_scenario");
		rc = scen_fail(c, 0, "expected %d (the format version this bmsrig reads), got %s", SCENARIO_VERSION,
		          got(c, ver, !cJSON_IsNumber(ver), g, sizeof g));
		pop(c);
		return rc;
	}
	return walk_top(c, root);
}

rig_rc scenario_parse_part(struct scenario *s, const char *text, size_t len, const char *path,
                           long long seed_override, int read_files, const struct scenario_part *part,
                           char *err, size_t errcap)
{
	const char *nul = memchr(text, '\0', len), *end = NULL, *slash = strrchr(path, '/');
	struct scen_reader *c = NULL;
	cJSON *root = NULL;
	char *copy = NULL;
	unsigned line = 1, col = 1;
	rig_rc rc;

	memset(s, 0, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	if (seed_override > (long long)UINT32_MAX) {
		snprintf(err, errcap, "%s: seed override: expected 0..4294967295, got %lld", path, seed_override);
		rc = RIG_ERR_ARG;
		goto out;
	}
	c = calloc(1, sizeof *c);
	copy = malloc(len + 1);
	s->point = malloc(SCEN_POINTS_MAX * sizeof *s->point);
	if (!c || !copy || !s->point) {
		snprintf(err, errcap, "%s: out of memory", path);
		rc = RIG_ERR_IO;
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (!nul)
		root = cJSON_ParseWithOpts(copy, &end, 1);
	if (!root) {
		json_offset_where(copy, nul ? (size_t)(nul - text) : end ? (size_t)(end - copy) : 0, &line, &col);
		snprintf(err, errcap, "%s:%u:%u: expected valid JSON", path, line, col);
		rc = RIG_ERR_ARG;
		goto out;
	}
	c->s = s;
	c->path = path;
	c->text = copy;
	c->read_files = read_files;
	c->part = part;
	c->seed_override = seed_override;
	c->err = err;
	c->errcap = errcap;
	if (slash && (size_t)(slash - path) + 1 < sizeof c->dir)
		memcpy(c->dir, path, (size_t)(slash - path) + 1);
	spec_defaults(&s->bms);
	s->bms.unit.model.soc_pct = 50;      /* a scenario starts mid-way unless it says */
	snprintf(s->bms.origin, sizeof s->bms.origin, "%s", path);
	rc = parse_root(c, root);
out:
	cJSON_Delete(root);
	free(copy);
	free(c);
	if (rc != RIG_OK) {
		scenario_free(s);
		cli_one_line(err);   /* cJSON takes raw control characters inside strings, and keys are quoted back */
	}
	return rc;
}

rig_rc scenario_parse(struct scenario *s, const char *text, size_t len, const char *path,
                      long long seed_override, int read_files, char *err, size_t errcap)
{
	return scenario_parse_part(s, text, len, path, seed_override, read_files, NULL, err, errcap);
}

rig_rc scenario_load_part(struct scenario *s, const char *path, long long seed_override,
                          const struct scenario_part *part, char *err, size_t errcap)
{
	char *text;
	size_t len = 0;
	rig_rc rc;

	memset(s, 0, sizeof *s);
	text = host_file_read_all(path, (size_t)FILE_MAX, &len, err, errcap);
	if (!text) {
		cli_one_line(err);
		return RIG_ERR_IO;
	}
	rc = scenario_parse_part(s, text, len, path, seed_override, 1, part, err, errcap);
	free(text);
	return rc;
}

rig_rc scenario_load(struct scenario *s, const char *path, long long seed_override, char *err, size_t errcap)
{
	return scenario_load_part(s, path, seed_override, NULL, err, errcap);
}

rig_rc scenario_parse_event(const struct scenario *sc, const struct cJSON *obj, struct scen_event *out,
                            char *err, size_t errcap)
{
	struct scen_reader *c = calloc(1, sizeof *c);
	char *text = cJSON_PrintUnformatted(obj);
	rig_rc rc;

	if (!c || !text) {
		snprintf(err, errcap, "out of memory");
		rc = RIG_ERR_IO;
	} else {
		/* Only read in this mode: a profile, the one kind that adds to the scenario (its
		 * points), is refused before its fields are read. */
		c->s = (struct scenario *)(uintptr_t)sc;
		c->path = "event";
		c->text = text;
		c->inject = 1;
		c->err = err;
		c->errcap = errcap;
		if (scratch_bms(c) || c->ops->init(c->state, &c->bms, sc->bms.unit.address) != RIG_OK ||
		    (sc->bms.kind->quirk && try_quirk(c, sc->bms.kind->quirk, sc->bms.kind->quirk_value, err, errcap) != RIG_OK)) {
			snprintf(err, errcap, "the emulated %s cannot check events", sc->bms.kind->name);
			rc = RIG_ERR_ARG;
		} else {
			rc = one_event(c, obj, out);
		}
	}
	if (rc != RIG_OK)
		cli_one_line(err);
	free(text);
	free(c);
	return rc;
}

rig_rc scenario_for_unit(struct scenario *s, const struct sim_unit_cfg *unit, const struct link_cfg *link)
{
	const struct bms_kind *k;

	memset(s, 0, sizeof *s);
	for (k = bms_kinds; k->name; k++)
		if (!strcmp(k->personality, unit->ops->name) && k->link == link->kind)
			break;
	if (!k->name)
		return RIG_ERR_ARG;
	snprintf(s->name, sizeof s->name, "%s", k->name);
	s->duration_ms = TIME_MAX_MS;
	s->seed = unit->model.seed;
	s->bms.kind = k;
	s->bms.unit = *unit;
	s->bms.link = *link;
	s->unit[0] = s->bms;
	s->n_units = 1;
	s->n_lines = 1;
	s->line_units[0] = 1;
	return RIG_OK;
}

void scenario_free(struct scenario *s)
{
	free(s->point);
	s->point = NULL;
	s->n_points = 0;
}

/* ---- the reader, for a caller's part (scenario_reader.h) ----------------------------------- */

const struct scenario *scen_reader_scenario(const struct scen_reader *r) { return r->s; }
void *scen_reader_part(const struct scen_reader *r) { return r->part ? r->part->ctx : NULL; }

rig_rc scen_walk(struct scen_reader *r, const cJSON *obj, const struct scen_field *tab, size_t n,
                 uint32_t mask, void *base, uint64_t *seen)
{
	return walk(r, obj, tab, n, mask, base, seen);
}

int scen_was_seen(const struct scen_field *tab, size_t n, uint64_t seen, const char *key)
{
	return was_seen(tab, n, seen, key);
}

rig_rc scen_each_item(struct scen_reader *r, const cJSON *v, unsigned max, const char *what,
                      rig_rc (*one)(struct scen_reader *r, const cJSON *v, void *item), void *items,
                      size_t item_size, unsigned *count)
{
	return each_item(r, v, max, what, one, items, item_size, count);
}

void scen_push(struct scen_reader *r, const char *key) { push(r, key); }
void scen_push_i(struct scen_reader *r, unsigned index) { push_i(r, index); }
void scen_pop(struct scen_reader *r) { pop(r); }

rig_rc scen_fail(struct scen_reader *r, int key_pos, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	va_list ap;
	rig_rc rc;

	locate(r, key_pos, &line, &col);
	va_start(ap, fmt);
	rc = vfail_at(r, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

rig_rc scen_fail_in_string(struct scen_reader *r, unsigned i, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	va_list ap;
	rig_rc rc;

	locate(r, 0, &line, &col);
	col = string_col(text_at(r->text, line, col), col, i);
	va_start(ap, fmt);
	rc = vfail_at(r, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

rig_rc scen_fail_key(struct scen_reader *r, const cJSON *obj, const char *key, const char *expected)
{
	return fail_key(r, obj, key, expected);
}

const char *scen_got(const struct scen_reader *r, const cJSON *v, int with_type, char *out, size_t cap)
{
	return got(r, v, with_type, out, cap);
}

const char *scen_fmt_time(uint32_t ms, char *buf, size_t cap)
{
	return fmt_time(ms, buf, cap);
}
