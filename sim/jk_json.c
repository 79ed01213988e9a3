/* JK "4E 57" frame -> decoded-frame JSON, and the typed round trip (include/bmsrig/sim/jk_json.h). */
#include <string.h>

#include "bmsrig/sim/jk_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the vocabulary: one key per id ------------------------------------------------------ */

struct key {
	uint8_t id;
	const char *key;
	uint16_t scale;          /* JSON value = field x scale (Ah -> mAh) */
};

static const struct key keys[] = {
	{ 0x79, "cells_mv", 1 },          /* + cell_count */
	{ 0x80, "mos_temp_dk", 1 },
	{ 0x81, "temps_dk", 1 },          /* with 0x82: one array */
	{ 0x82, "temps_dk", 1 },
	{ 0x83, "pack_mv", 1 },
	{ 0x84, "current_ma", 1 },
	{ 0x85, "soc_pct", 1 },
	{ 0x86, "ntc_count", 1 },
	{ 0x87, "cycles", 1 },
	{ 0x89, "cycle_capacity_ah", 1 },
	{ 0x8A, "cell_strings", 1 },
	{ 0x8B, "prot_raw", 1 },
	{ 0x8C, "status_raw", 1 },        /* + fet_chg, fet_dsg, bal_on */
	{ 0x8E, "pack_ovp_mv", 1 },
	{ 0x8F, "pack_uvp_mv", 1 },
	{ 0x90, "cell_ovp_mv", 1 },
	{ 0x91, "cell_ovp_release_mv", 1 },
	{ 0x92, "cell_ovp_delay_s", 1 },
	{ 0x93, "cell_uvp_mv", 1 },
	{ 0x94, "cell_uvp_release_mv", 1 },
	{ 0x95, "cell_uvp_delay_s", 1 },
	{ 0x96, "cell_diff_prot_mv", 1 },
	{ 0x97, "dsg_ocp_a", 1 },
	{ 0x98, "dsg_ocp_delay_s", 1 },
	{ 0x99, "chg_ocp_a", 1 },
	{ 0x9A, "chg_ocp_delay_s", 1 },
	{ 0x9B, "bal_start_mv", 1 },
	{ 0x9C, "bal_trigger_mv", 1 },
	{ 0x9D, "balancer", 1 },
	{ 0x9E, "mos_otp_c", 1 },
	{ 0x9F, "mos_otp_release_c", 1 },
	{ 0xA0, "box_otp_c", 1 },
	{ 0xA1, "box_otp_release_c", 1 },
	{ 0xA2, "temp_diff_prot_c", 1 },
	{ 0xA3, "chg_otp_c", 1 },
	{ 0xA4, "dsg_otp_c", 1 },
	{ 0xA5, "chg_utp_c", 1 },
	{ 0xA6, "chg_utp_release_c", 1 },
	{ 0xA7, "dsg_utp_c", 1 },
	{ 0xA8, "dsg_utp_release_c", 1 },
	{ 0xA9, "cell_count_setting", 1 },
	{ 0xAA, "design_mah", 1000 },
	{ 0xAB, "chg_switch", 1 },
	{ 0xAC, "dsg_switch", 1 },
	{ 0xAD, "current_cal_ma", 1 },
	{ 0xAE, "board_address", 1 },
	{ 0xAF, "battery_type", 1 },
	{ 0xB0, "sleep_wait_s", 1 },
	{ 0xB1, "low_soc_alarm_pct", 1 },
	{ 0xB2, "password", 1 },
	{ 0xB3, "dedicated_charger", 1 },
	{ 0xB4, "device_id", 1 },
	{ 0xB5, "production_yymm", 1 },
	{ 0xB6, "runtime_min", 1 },
	{ 0xB7, "sw_version", 1 },
	{ 0xB8, "current_cal_start", 1 },
	{ 0xB9, "actual_capacity_mah", 1000 },
	{ 0xBA, "manufacturer", 1 },
	{ 0xBB, "restart", 1 },
	{ 0xBC, "factory_reset", 1 },
	{ 0xBD, "upgrade_flag", 1 },
	{ 0xBE, "gps_off_mv", 1 },
	{ 0xBF, "gps_on_mv", 1 },
	{ 0xC0, "protocol_version", 1 },
};

static const struct key *key_of(uint8_t id)
{
	for (size_t i = 0; i < N_OF(keys); i++)
		if (keys[i].id == id)
			return &keys[i];
	return NULL;
}

const char *jk_id_key(uint8_t id)
{
	const struct key *k = key_of(id);

	return k ? k->key : NULL;
}

/* A numeric field as a double: every one is an integer below 2^53, so it is held exactly. */
static double number_of(const struct jk_data *d, const struct jk_id_def *def)
{
	const void *p = (const uint8_t *)d + def->offset;

	switch (def->kind) {
	case JK_KIND_U8:  return *(const uint8_t *)p;
	case JK_KIND_U16: return *(const uint16_t *)p;
	case JK_KIND_S16: return *(const int16_t *)p;
	case JK_KIND_U32:
	case JK_KIND_X10: return *(const uint32_t *)p;
	default:          return *(const int32_t *)p;     /* TEMP, CURRENT */
	}
}

/* Every carried id of d, in wire order; the two probe temperatures as one array. */
static void add_items(cJSON *o, const struct jk_data *d)
{
	cJSON *temps = NULL;

	for (unsigned i = 0; i < d->n_items; i++) {
		const struct jk_id_def *def = rig_jk_id_find(d->order[i]);
		const struct key *k = key_of(d->order[i]);

		if (!def || !k)
			continue;
		switch (def->id) {
		case JK_ID_CELLS:
			json_add_u16_array(o, k->key, d->cell_mV, d->cell_count);
			cJSON_AddNumberToObject(o, "cell_count", d->cell_count);
			continue;
		case JK_ID_BOX_TEMP:
		case JK_ID_BAT_TEMP:
			if (!temps)
				temps = cJSON_AddArrayToObject(o, k->key);
			continue;
		case JK_ID_STATUS:
			cJSON_AddNumberToObject(o, "fet_chg", (d->status_raw & JK_STATUS_CHG_ON) != 0);
			cJSON_AddNumberToObject(o, "fet_dsg", (d->status_raw & JK_STATUS_DSG_ON) != 0);
			cJSON_AddNumberToObject(o, "bal_on", (d->status_raw & JK_STATUS_BAL_ON) != 0);
			break;
		default:
			break;
		}
		if (def->kind == JK_KIND_TEXT)
			json_add_padded_text(o, k->key, (const uint8_t *)d + def->offset, def->width);
		else
			cJSON_AddNumberToObject(o, k->key, number_of(d, def) * k->scale);
	}
	/* Probe order, not wire order: temps_dk[0] is probe 1 whichever came first. */
	if (temps && rig_jk_data_has(d, JK_ID_BOX_TEMP))
		cJSON_AddItemToArray(temps, cJSON_CreateNumber(d->box_temp_dK));
	if (temps && rig_jk_data_has(d, JK_ID_BAT_TEMP))
		cJSON_AddItemToArray(temps, cJSON_CreateNumber(d->bat_temp_dK));
}

static void request_json(cJSON *o, const struct jk_frame *f)
{
	struct jk_data d;
	size_t n = f->len - 1u;
	const uint8_t *v = f->info + 1;

	cJSON_AddNumberToObject(o, "register", f->info[0]);
	if (f->cmd != JK_CMD_WRITE) {
		if (n)
			json_add_hex(o, "data_hex", v, n);
		return;
	}
	cJSON_AddNumberToObject(o, "value_len", (double)n);
	if (n == 1 || n == 2 || n == 4) {
		uint32_t x = 0;

		for (size_t i = 0; i < n; i++)
			x = x << 8 | v[i];
		cJSON_AddNumberToObject(o, "register_value", x);
	} else if (n) {
		json_add_hex(o, "data_hex", v, n);
	}
	if (rig_jk_write_decode(f, &d) == RIG_OK)
		add_items(o, &d);
}

static void response_json(cJSON *o, const struct jk_frame *f)
{
	struct jk_data d;

	if (rig_jk_data_decode(f, &d) == RIG_OK)
		add_items(o, &d);
}

cJSON *jk_frame_json(const struct jk_frame *f)
{
	cJSON *o = cJSON_CreateObject();
	struct jk_frame back;
	rig_rc rc;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "jk");
	cJSON_AddStringToObject(o, "kind", f->type == JK_TYPE_REQUEST ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f->cmd);
	cJSON_AddNumberToObject(o, "source", f->source);
	cJSON_AddNumberToObject(o, "type", f->type);
	if (f->terminal)
		cJSON_AddNumberToObject(o, "terminal", f->terminal);
	if (f->record)
		cJSON_AddNumberToObject(o, "record", f->record);
	if (f->type == JK_TYPE_REQUEST)
		request_json(o, f);
	else
		response_json(o, f);
	/* "error" means exactly: not fully understood, i.e. no typed round trip. */
	rc = jk_frame_rebuild(f, &back);
	if (rc != RIG_OK) {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		if (f->type != JK_TYPE_REQUEST)
			json_add_hex(o, "data_hex", f->info, f->len);
	}
	return o;
}

cJSON *jk_wire_json(const uint8_t *wire, size_t n)
{
	struct jk_frame f;
	rig_rc rc = rig_jk_frame_parse(wire, n, &f);

	return rc == RIG_OK ? jk_frame_json(&f) : json_error_object("jk", rig_rc_str(rc));
}

/* ---- typed round trip -------------------------------------------------------------------- */

static int info_is(const struct jk_frame *f, const uint8_t *want, size_t n)
{
	return f->len == n && memcmp(f->info, want, n) == 0;
}

static rig_rc request_rebuild(const struct jk_frame *f, struct jk_frame *out)
{
	static const uint8_t all[] = { JK_ID_ALL }, pair[] = { JK_ID_ALL, 0x00 };
	struct jk_data d;
	rig_rc rc;

	switch (f->cmd) {
	case JK_CMD_READ_ALL:
		if (!info_is(f, all, sizeof all))
			return RIG_ERR_UNSUPPORTED;
		rig_jk_request_read_all(out, f->source);
		return RIG_OK;
	case JK_CMD_READ:
		if (f->len != 1)
			return RIG_ERR_UNSUPPORTED;
		rig_jk_request_read(out, f->source, f->info[0]);
		return RIG_OK;
	case JK_CMD_ACTIVATE:
		if (!info_is(f, all, sizeof all))
			return RIG_ERR_UNSUPPORTED;
		rig_jk_request_activate(out, f->source);
		return RIG_OK;
	case JK_CMD_PASSWORD:
		if (!info_is(f, pair, sizeof pair))
			return RIG_ERR_UNSUPPORTED;
		rig_jk_request_password(out, f->source);
		return RIG_OK;
	default:
		rc = rig_jk_write_decode(f, &d);
		return rc != RIG_OK ? rc : rig_jk_request_write_item(out, f->source, f->info[0], &d);
	}
}

static rig_rc response_rebuild(const struct jk_frame *f, struct jk_frame *out)
{
	static const uint8_t all[] = { JK_ID_ALL };
	struct jk_data d;
	rig_rc rc;

	if (f->cmd == JK_CMD_ACTIVATE || f->cmd == JK_CMD_PASSWORD) {
		if (!info_is(f, all, sizeof all))
			return RIG_ERR_UNSUPPORTED;
		rig_jk_response_ack(out, f->cmd);
		return RIG_OK;
	}
	rc = rig_jk_data_decode(f, &d);
	return rc != RIG_OK ? rc : rig_jk_data_encode(out, f->cmd, &d);
}

rig_rc jk_frame_rebuild(const struct jk_frame *f, struct jk_frame *out)
{
	rig_rc rc;

	memset(out, 0, sizeof *out);
	rc = f->type == JK_TYPE_REQUEST ? request_rebuild(f, out) : response_rebuild(f, out);
	/* Header numbers are not payload: they carry over as they are. */
	out->terminal = f->terminal;
	out->source = f->source;
	out->type = f->type;
	out->record = f->record;
	return rc;
}

/* ---- the promises, checked ----------------------------------------------------------------- */

static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		int more = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 :
			   (*s & 0xF8) == 0xF0 ? 3 : -1;

		if (more < 0)
			return 0;
		for (s++; more--; s++)
			if ((*s & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* JSON view: the head keys, valid UTF-8, a faithful print; *has_error says if it gave up. */
static rig_rc check_json(const struct jk_frame *f, int *has_error)
{
	cJSON *o = jk_frame_json(f), *back = NULL;
	char *s = NULL;
	rig_rc rc = RIG_ERR_IO;

	if (o && (s = cJSON_PrintUnformatted(o)) != NULL && (back = cJSON_Parse(s)) != NULL) {
		rc = cJSON_HasObjectItem(o, "proto") && cJSON_HasObjectItem(o, "kind") &&
		     cJSON_HasObjectItem(o, "cmd") && valid_utf8((const unsigned char *)s) &&
		     cJSON_Compare(o, back, 1) ? RIG_OK : RIG_ERR_STATE;
		*has_error = cJSON_HasObjectItem(o, "error");
	}
	cJSON_Delete(back);
	cJSON_free(s);
	cJSON_Delete(o);
	return rc;
}

rig_rc jk_frame_check(const struct jk_frame *f)
{
	uint8_t w[JK_FRAME_MAX], w2[JK_FRAME_MAX];
	size_t n = 0, n2 = 0;
	struct jk_frame g;
	int has_error = 0;
	rig_rc rc;

	if (rig_jk_frame_encode(f, w, sizeof w, &n) != RIG_OK || rig_jk_frame_parse(w, n, &g) != RIG_OK ||
	    g.terminal != f->terminal || g.cmd != f->cmd || g.source != f->source ||
	    g.type != f->type || g.record != f->record || g.len != f->len ||
	    memcmp(g.info, f->info, f->len) != 0)
		return RIG_ERR_STATE;
	rc = check_json(f, &has_error);
	if (rc != RIG_OK)
		return rc;
	rc = jk_frame_rebuild(f, &g);
	if (has_error != (rc != RIG_OK))
		return RIG_ERR_STATE;
	if (rc == RIG_OK && (rig_jk_frame_encode(&g, w2, sizeof w2, &n2) != RIG_OK || n2 != n ||
	                     memcmp(w, w2, n) != 0))
		return RIG_ERR_STATE;
	return RIG_OK;
}
