/* The BMS settings state file (bms.h): JSON through cJSON, saved atomically (lib/file.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "bmsrig/lib/cli.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/jbd_settings.h"
#include "bmsrig/lib/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_VERSION 1
#define STATE_FILE_MAX (1024u * 1024u)   /* a real state file is a few kB */

/* The message is one line even when it quotes a key, which JSON lets hold a newline. */
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
	if (err == NULL || cap == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	cli_one_line(err);
}

/* The texts by enum bms_text. */
static const char *const text_names[BMS_STRING_COUNT] = { "maker", "model", "barcode" };

/* ---- save ----------------------------------------------------------------------------------- */

static cJSON *build(const struct bms *b)
{
	char key[8];
	cJSON *root = cJSON_CreateObject();
	/* The version first: the file should say what it is at its top. */
	cJSON *ver = cJSON_AddNumberToObject(root, "bmsrig_bms_state", STATE_VERSION);
	cJSON *set = cJSON_AddObjectToObject(root, "settings");
	cJSON *strs = cJSON_AddObjectToObject(root, "strings");
	cJSON *store = cJSON_AddObjectToObject(root, "store");
	cJSON *events = cJSON_AddArrayToObject(root, "events");
	if (!root || !ver || !set || !strs || !store || !events) {
		cJSON_Delete(root);
		return NULL;
	}
	int ok = 1;
	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		ok &= cJSON_AddNumberToObject(set, bms_setting_info(id)->name, bms_setting_get(b, id)) != NULL;
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
		ok &= cJSON_AddStringToObject(strs, text_names[i], b->str[i].text) != NULL;
	/* Only what a personality wrote: the rest reads as its factory value. */
	for (unsigned i = 0; i < BMS_STORE_WORDS; i++) {
		snprintf(key, sizeof key, "%u", i);
		if (b->store.written[i])
			ok &= cJSON_AddNumberToObject(store, key, b->store.word[i]) != NULL;
	}
	for (unsigned i = 0; i < BMS_EVENT_COUNT; i++) {
		cJSON *n = cJSON_CreateNumber(b->events[i]);
		ok &= n != NULL && cJSON_AddItemToArray(events, n);
	}
	ok &= cJSON_AddNumberToObject(root, "mosfet_mask", b->inhibit) != NULL;
	ok &= cJSON_AddNumberToObject(root, "remain_mAh", bms_remain_mAh(b)) != NULL;
	ok &= cJSON_AddNumberToObject(root, "cycle_progress_mAh",
	                              round(b->cycle_progress_mAh)) != NULL;
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

rig_rc bms_state_save(const struct bms *b, const char *path, char *err, size_t errcap)
{
	cJSON *root = build(b);
	char *text = root ? cJSON_Print(root) : NULL;
	size_t n;
	rig_rc rc;

	cJSON_Delete(root);
	if (text == NULL) {
		set_err(err, errcap, "%s: out of memory", path);
		return RIG_ERR_IO;
	}
	/* cJSON_Print leaves room for nothing more: the closing newline goes on in place of its NUL. */
	n = strlen(text);
	text[n] = '\n';
	rc = host_file_write_atomic(path, text, n + 1, err, errcap);
	cJSON_free(text);
	return rc;
}

/* ---- load ----------------------------------------------------------------------------------- */

static unsigned line_of(const char *text, const char *at)
{
	unsigned line = 1;
	for (const char *p = text; p < at && *p; p++)
		line += *p == '\n';
	return line;
}

/* An integer within lo..hi, or 0 with err set ("what: expected lo..hi, got v"). */
static int get_int(const cJSON *item, long lo, long hi, long *out, const char *path,
                   const char *what, char *err, size_t errcap)
{
	if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble)) {
		set_err(err, errcap, "%s: %s: expected an integer", path, what);
		return 0;
	}
	double v = item->valuedouble;
	if (v < (double)lo || v > (double)hi) {
		set_err(err, errcap, "%s: %s: expected %ld..%ld, got %.0f", path, what, lo, hi, v);
		return 0;
	}
	*out = (long)v;
	return 1;
}

/* Older files, JBD's: the EEPROM ("registers") and calibration by register, through JBD's
 * map (jbd_settings.c). */
static int load_registers(struct bms *b, const cJSON *obj, enum jbd_legacy_kind kind,
                          const char *path, char *err, size_t errcap)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		char why[160];
		struct jbd_legacy l;
		if (jbd_legacy_setting(b, kind, it->string, cJSON_IsNumber(it), it->valuedouble, &l, why,
		                       sizeof why) != JBD_LEGACY_OK) {
			set_err(err, errcap, "%s: %s", path, why);
			return 0;
		}
	}
	return 1;
}

static int load_settings(struct bms *b, const cJSON *obj, const char *path, char *err,
                         size_t errcap)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		char what[64];
		long v;
		int id = bms_setting_find(it->string);
		if (id < 0) {
			set_err(err, errcap, "%s: settings: unknown setting \"%s\"", path, it->string);
			return 0;
		}
		const struct bms_setting_info *in = bms_setting_info((unsigned)id);
		snprintf(what, sizeof what, "setting %s", in->name);
		if (!get_int(it, in->min, in->max, &v, path, what, err, errcap))
			return 0;
		(void)bms_setting_set(b, (unsigned)id, v);
	}
	return 1;
}

static int load_store(struct bms *b, const cJSON *obj, const char *path, char *err, size_t errcap)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		char what[64], *end;
		long v;
		unsigned long i = strtoul(it->string, &end, 10);
		if (!it->string[0] || *end || i >= BMS_STORE_WORDS) {
			set_err(err, errcap, "%s: store: unknown word \"%s\" (0..%u)", path, it->string,
			        BMS_STORE_WORDS - 1u);
			return 0;
		}
		snprintf(what, sizeof what, "store %lu", i);
		if (!get_int(it, 0, 65535, &v, path, what, err, errcap))
			return 0;
		b->store.word[i] = (uint16_t)v;
		b->store.written[i] = 1;
	}
	return 1;
}

static int load_strings(struct bms *b, const cJSON *obj, const char *path, char *err,
                        size_t errcap)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		/* By name; a JBD register key ("0xa0".."0xa2") as older files have it. */
		struct jbd_legacy l;
		int which = jbd_legacy_setting(NULL, JBD_LEGACY_STRING, it->string, 0, 0.0, &l, NULL, 0)
		            == JBD_LEGACY_OK ? l.reg : -1;
		for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
			if (strcmp(it->string, text_names[i]) == 0)
				which = (int)i;
		if (which < 0) {
			set_err(err, errcap, "%s: strings: unknown string \"%s\" (maker, model, barcode)",
			        path, it->string);
			return 0;
		}
		const char *s = cJSON_GetStringValue(it);
		if (s == NULL || bms_string_set(b, (unsigned)which, s, strlen(s)) != RIG_OK) {
			set_err(err, errcap, "%s: string %s: expected text of at most %u bytes", path,
			        text_names[which], BMS_TEXT_MAX);
			return 0;
		}
	}
	return 1;
}

static int load_events(struct bms *b, const cJSON *arr, const char *path, char *err,
                       size_t errcap)
{
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != (int)BMS_EVENT_COUNT) {
		set_err(err, errcap, "%s: events: expected an array of %u integers", path,
		        BMS_EVENT_COUNT);
		return 0;
	}
	for (unsigned i = 0; i < BMS_EVENT_COUNT; i++) {
		char what[32];
		long v;
		snprintf(what, sizeof what, "events[%u]", i);
		if (!get_int(cJSON_GetArrayItem(arr, (int)i), 0, 65535, &v, path, what, err, errcap))
			return 0;
		b->events[i] = (uint16_t)v;
	}
	return 1;
}

/* Apply root to b; 0 with err set on the first problem. */
static int apply(struct bms *b, const cJSON *root, const char *path, char *err, size_t errcap)
{
	long v;
	if (!cJSON_IsObject(root)) {
		set_err(err, errcap, "%s: expected a JSON object", path);
		return 0;
	}
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "bmsrig_bms_state");
	if (ver == NULL) {
		set_err(err, errcap, "%s: missing \"bmsrig_bms_state\": not a BMS state file", path);
		return 0;
	}
	if (!get_int(ver, STATE_VERSION, STATE_VERSION, &v, path, "bmsrig_bms_state", err, errcap))
		return 0;

	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		const char *k = it->string;
		int ok = 1;
		if (strcmp(k, "bmsrig_bms_state") == 0) {
			continue;
		} else if (strcmp(k, "settings") == 0 || strcmp(k, "store") == 0 ||
		           strcmp(k, "strings") == 0 || strcmp(k, "registers") == 0 ||
		           strcmp(k, "calibration") == 0) {
			if (!cJSON_IsObject(it)) {
				set_err(err, errcap, "%s: %s: expected an object", path, k);
				return 0;
			}
			ok = k[0] == 'r' ? load_registers(b, it, JBD_LEGACY_REGISTER, path, err, errcap)
			   : k[0] == 'c' ? load_registers(b, it, JBD_LEGACY_CALIBRATION, path, err, errcap)
			   : k[1] == 'e' ? load_settings(b, it, path, err, errcap)
			   : k[1] == 't' && k[2] == 'o' ? load_store(b, it, path, err, errcap)
			                 : load_strings(b, it, path, err, errcap);
		} else if (strcmp(k, "events") == 0) {
			ok = load_events(b, it, path, err, errcap);
		} else if (strcmp(k, "mosfet_mask") == 0) {
			ok = get_int(it, 0, BMS_INHIBIT_ALL, &v, path, k, err, errcap);
			if (ok)
				b->inhibit = (uint8_t)v;
		} else if (strcmp(k, "remain_mAh") == 0) {
			ok = get_int(it, 0, 655350, &v, path, k, err, errcap);
			if (ok)
				b->remain_mAh = (double)v;
		} else if (strcmp(k, "cycle_progress_mAh") == 0) {
			ok = get_int(it, 0, 655350, &v, path, k, err, errcap);
			if (ok)
				b->cycle_progress_mAh = (double)v;
		} else {
			set_err(err, errcap, "%s: unknown key \"%s\"", path, k);
			return 0;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

rig_rc bms_state_parse(struct bms *b, const char *text, size_t len, const char *path, char *err, size_t errcap)
{
	/* cJSON would stop at a NUL and take what stands before it for the whole file. */
	const char *end = memchr(text, '\0', len);
	/* cJSON checks for the terminating NUL inside buffer_length, so count it. */
	cJSON *root = end ? NULL : cJSON_ParseWithLengthOpts(text, len + 1u, &end, 1);
	if (root == NULL) {
		set_err(err, errcap, "%s: not valid JSON near line %u", path,
		        line_of(text, end ? end : text + len));
		return RIG_ERR_ARG;
	}
	/* All or nothing: work on a copy. */
	struct bms next = *b;
	int ok = apply(&next, root, path, err, errcap);
	cJSON_Delete(root);
	if (!ok)
		return RIG_ERR_ARG;
	if (next.remain_mAh > bms_full_mAh(&next))
		next.remain_mAh = bms_full_mAh(&next);
	/* The FETs follow a restored mask at once (the next measurement redoes the rest). */
	*b = next;
	(void)bms_set_inhibit(b, b->inhibit);
	return RIG_OK;
}

rig_rc bms_state_load(struct bms *b, const char *path, char *err, size_t errcap)
{
	size_t len = 0;
	char *text = host_file_read_all(path, STATE_FILE_MAX, &len, err, errcap);
	rig_rc rc;

	if (text == NULL)
		return RIG_ERR_IO;
	rc = bms_state_parse(b, text, len, path, err, errcap);
	free(text);
	return rc;
}
