/* Reading the telemetry line back: the DUT's side of the comparison. */
#include <string.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "bmsrig/hil/hil.h"
#include "bmsrig/core/telemetry.h"

static int get_num(const cJSON *o, const char *key, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(it))
		return 0;
	*v = it->valuedouble;
	return 1;
}

/* A double out of the target's range cannot be converted without undefined behaviour. */
static int in_range(char type, double v)
{
	switch (type) {
	case 'u': return v >= 0 && v <= 4294967295.0;
	case 'i': return v >= -2147483648.0 && v <= 2147483647.0;
	default:  return v >= 0 && v <= 255;
	}
}

static int get_u16_array(const cJSON *o, const char *key, uint16_t *out, unsigned max, uint8_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	unsigned i = 0;

	if (!cJSON_IsArray(arr) || (unsigned)cJSON_GetArraySize(arr) > max)
		return 0;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 65535)
			return 0;
		out[i++] = (uint16_t)it->valuedouble;
	}
	*n = (uint8_t)i;
	return 1;
}

struct num_key {
	const char *key;
	size_t off;
	char type;                /* 'u' uint32, 'i' int32, 'b' uint8 */
};

/* The numbers of table[0..n-1] out of object o into the struct at base; RIG_ERR_FRAME with err
 * naming the first bad key (prefix: the object's path, "" or "inv."). */
static rig_rc get_nums(const cJSON *o, const struct num_key *table, size_t n, void *base, const char *prefix,
                       char *err, size_t errcap)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *field = (char *)base + table[i].off;
		double v;

		if (!get_num(o, table[i].key, &v) || !in_range(table[i].type, v)) {
			snprintf(err, errcap, "telemetry line: \"%s%s\": expected %s", prefix, table[i].key,
			         table[i].type == 'i' ? "a 32-bit integer" :
			         table[i].type == 'u' ? "an unsigned 32-bit integer" : "an integer 0..255");
			return RIG_ERR_FRAME;
		} else if (table[i].type == 'u') {
			uint32_t u = (uint32_t)v;
			memcpy(field, &u, sizeof u);
		} else if (table[i].type == 'i') {
			int32_t s = (int32_t)v;
			memcpy(field, &s, sizeof s);
		} else {
			*(uint8_t *)field = (uint8_t)v;
		}
	}
	return RIG_OK;
}

/* The optional inv object: its numbers, then pack_ok and pack_age_ms of one length. */
static rig_rc get_inv(const cJSON *inv, struct dut_report_inv *r, char *err, size_t errcap)
{
	static const struct num_key keys[] = {
#define F(k, field, t) { k, offsetof(struct dut_report_inv, field), t }
		F("cvl_mv", cvl_mV, 'u'), F("ccl_ma", ccl_mA, 'i'), F("dcl_ma", dcl_mA, 'i'),
		F("dvl_mv", dvl_mV, 'u'), F("soc_pct", soc_pct, 'b'), F("request", request, 'b'),
		F("prot", prot, 'u'), F("alarm", alarm, 'b'), F("online_packs", online_packs, 'b'),
#undef F
	};
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(inv, "pack_ok");
	const cJSON *age = cJSON_GetObjectItemCaseSensitive(inv, "pack_age_ms"), *it;
	unsigned i = 0;

	if (!cJSON_IsObject(inv)) {
		snprintf(err, errcap, "telemetry line: \"inv\": expected an object");
		return RIG_ERR_FRAME;
	}
	if (get_nums(inv, keys, sizeof keys / sizeof keys[0], r, "inv.", err, errcap) != RIG_OK)
		return RIG_ERR_FRAME;
	if (!cJSON_IsArray(ok) || !cJSON_IsArray(age) || cJSON_GetArraySize(ok) != cJSON_GetArraySize(age) ||
	    (unsigned)cJSON_GetArraySize(ok) > RIG_INV_MODULES_MAX) {
		snprintf(err, errcap, "telemetry line: \"inv.pack_ok\", \"inv.pack_age_ms\": expected two arrays "
		         "of up to %u numbers", RIG_INV_MODULES_MAX);
		return RIG_ERR_FRAME;
	}
	cJSON_ArrayForEach(it, ok) {
		const cJSON *a = cJSON_GetArrayItem(age, (int)i);

		if (!cJSON_IsNumber(it) || !in_range('b', it->valuedouble) || !cJSON_IsNumber(a) ||
		    !in_range('u', a->valuedouble)) {
			snprintf(err, errcap, "telemetry line: \"inv.pack_ok\", \"inv.pack_age_ms\": bad entry %u", i);
			return RIG_ERR_FRAME;
		}
		r->pack_ok[i] = (uint8_t)it->valuedouble;
		r->pack_age_ms[i++] = (uint32_t)a->valuedouble;
	}
	r->pack_count = (uint8_t)i;
	return RIG_OK;
}

rig_rc dut_report_parse(const char *line, struct dut_report *r, char *err, size_t errcap)
{
	static const struct num_key nums[] = {
#define F(k, field, t) { k, offsetof(struct dut_report, field), t }
		F("ms", ms, 'u'), F("ok", ok, 'i'), F("pack_mv", pack.pack_mV, 'u'),
		F("current_ma", pack.current_mA, 'i'), F("soc_pct", pack.soc_pct, 'b'),
		F("fet_chg", pack.fet_chg, 'b'), F("fet_dsg", pack.fet_dsg, 'b'),
		F("prot", pack.prot, 'u'), F("bal_mask", pack.bal_mask, 'u'),
		F("relay", relay, 'i'), F("comm_fail", comm_fail, 'u'),
#undef F
	};
	size_t plen = strlen(TELEMETRY_PREFIX);
	const cJSON *proto, *inv;
	cJSON *o;
	rig_rc rc = RIG_OK;

	if (strncmp(line, TELEMETRY_PREFIX, plen) != 0)
		return RIG_ERR_UNSUPPORTED;
	memset(r, 0, sizeof *r);
	o = cJSON_Parse(line + plen);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errcap, "telemetry line is not a JSON object");
		cJSON_Delete(o);
		return RIG_ERR_FRAME;
	}
	rc = get_nums(o, nums, sizeof nums / sizeof nums[0], r, "", err, errcap);
	proto = cJSON_GetObjectItemCaseSensitive(o, "proto");
	if (rc == RIG_OK && !cJSON_IsString(proto)) {
		snprintf(err, errcap, "telemetry line: \"proto\": expected a string");
		rc = RIG_ERR_FRAME;
	} else if (rc == RIG_OK) {
		snprintf(r->proto, sizeof r->proto, "%s", proto->valuestring);
	}
	if (rc == RIG_OK && !get_u16_array(o, "cells_mv", r->pack.cell_mV, PACK_CELLS_MAX, &r->pack.cell_count)) {
		snprintf(err, errcap, "telemetry line: \"cells_mv\": expected up to %u numbers", PACK_CELLS_MAX);
		rc = RIG_ERR_FRAME;
	}
	if (rc == RIG_OK && !get_u16_array(o, "temps_dk", r->pack.temp_dK, PACK_TEMPS_MAX, &r->pack.temp_count)) {
		snprintf(err, errcap, "telemetry line: \"temps_dk\": expected up to %u numbers", PACK_TEMPS_MAX);
		rc = RIG_ERR_FRAME;
	}
	inv = cJSON_GetObjectItemCaseSensitive(o, "inv");
	if (rc == RIG_OK && inv) {
		r->has_inv = 1;
		rc = get_inv(inv, &r->inv, err, errcap);
	}
	cJSON_Delete(o);
	return rc;
}

/* Field for field what dut_report_parse reads from the line rig_telemetry_format writes:
 * what the line leaves out (why, remain, cycles, ...) stays 0 here too. */
void dut_report_from_telemetry(const struct telemetry *t, struct dut_report *r)
{
	static const struct pack_state empty;
	const struct pack_state *s = t->pack ? t->pack : &empty;
	unsigned i, n;

	memset(r, 0, sizeof *r);
	r->ms = t->ms;
	/* What snprintf "%s" would write, without its format machinery on every report: the
	 * name cut to fit, the memset's zeros ending it. */
	if (t->proto)
		memcpy(r->proto, t->proto, strnlen(t->proto, sizeof r->proto - 1));
	r->ok = t->ok;
	r->pack.pack_mV = s->pack_mV;
	r->pack.current_mA = s->current_mA;
	r->pack.soc_pct = s->soc_pct;
	r->pack.cell_count = s->cell_count < PACK_CELLS_MAX ? s->cell_count : PACK_CELLS_MAX;
	memcpy(r->pack.cell_mV, s->cell_mV, r->pack.cell_count * sizeof s->cell_mV[0]);
	r->pack.temp_count = s->temp_count < PACK_TEMPS_MAX ? s->temp_count : PACK_TEMPS_MAX;
	memcpy(r->pack.temp_dK, s->temp_dK, r->pack.temp_count * sizeof s->temp_dK[0]);
	r->pack.fet_chg = s->fet_chg;
	r->pack.fet_dsg = s->fet_dsg;
	r->pack.prot = s->prot;
	r->pack.bal_mask = s->bal_mask;
	r->relay = t->relay;
	r->comm_fail = t->comm_fail;
	if (t->inv) {
		const struct rig_inv_battery *b = t->inv->battery;

		r->has_inv = 1;
		if (b) {
			r->inv.cvl_mV = b->cvl_mV;
			r->inv.ccl_mA = b->ccl_mA;
			r->inv.dcl_mA = b->dcl_mA;
			r->inv.dvl_mV = b->dvl_mV;
			r->inv.soc_pct = b->soc_pct;
			r->inv.request = b->request;
			r->inv.prot = b->prot;
			r->inv.alarm = b->alarm;
		}
		r->inv.online_packs = t->inv->online_packs;
		n = t->inv->pack_count < RIG_INV_MODULES_MAX ? t->inv->pack_count : RIG_INV_MODULES_MAX;
		for (i = 0; i < n; i++) {
			r->inv.pack_ok[i] = t->inv->pack_ok[i];
			r->inv.pack_age_ms[i] = t->inv->pack_age_ms[i];
		}
		r->inv.pack_count = (uint8_t)n;
	}
}
