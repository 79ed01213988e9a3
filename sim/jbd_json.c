/* JBD frame -> decoded-frame JSON, and the typed round trip (include/bmsrig/sim/jbd_json.h). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/jbd_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Every typed payload a register view can decode into. */
union payload {
	struct jbd_basic basic;
	struct jbd_cells cells;
	struct jbd_text text;
	struct jbd_events events;
	uint16_t value;
	struct jbd_params params;
};

/* ---- small emitters ------------------------------------------------------------------ */

/* Length-prefixed, so a NUL in it is data; text[] holds no more than JBD_TEXT_MAX whatever len says. */
static void add_text(cJSON *o, const char *key, const struct jbd_text *t)
{
	json_add_latin1(o, key, (const uint8_t *)t->text, t->len < JBD_TEXT_MAX ? t->len : JBD_TEXT_MAX);
}

static void add_date(cJSON *o, const char *key, uint16_t packed)
{
	unsigned y, m, d;
	char s[32];

	rig_jbd_date_unpack(packed, &y, &m, &d);
	snprintf(s, sizeof s, "%04u-%02u-%02u", y, m, d);
	cJSON_AddStringToObject(o, key, s);
}

/* 0xA0-0xA2 in register order; the vocabulary calls 0xA1 "model", like the 0x05 text. */
static const char *string_key(uint8_t reg)
{
	static const char *const keys[] = { "manufacturer", "model", "barcode" };

	return keys[reg - JBD_REG_MFG_NAME];
}

/* ---- register views: decode, encode from the decoded values, emit JSON -------------------- */

static rig_rc basic_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_basic_decode(f, &u->basic); }
static rig_rc cells_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_cells_decode(f, &u->cells); }
static rig_rc version_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_version_decode(f, &u->text); }
static rig_rc string_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_string_decode(f, &u->text); }
static rig_rc events_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_events_decode(f, &u->events); }
static rig_rc register_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_register_decode(f, &u->value); }
static rig_rc params_dec(const struct jbd_frame *f, union payload *u) { return rig_jbd_params_decode(f, &u->params); }

static rig_rc basic_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	(void)reg;
	return rig_jbd_basic_encode(f, &u->basic);
}

static rig_rc cells_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	(void)reg;
	return rig_jbd_cells_encode(f, &u->cells);
}

static rig_rc version_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	(void)reg;
	return rig_jbd_version_encode(f, &u->text);
}

static rig_rc string_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	return rig_jbd_string_encode(f, reg, &u->text);
}

static rig_rc events_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	(void)reg;
	return rig_jbd_events_encode(f, &u->events);
}

static rig_rc register_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	rig_jbd_register_encode(f, reg, u->value);
	return RIG_OK;
}

static rig_rc params_enc(struct jbd_frame *f, uint8_t reg, const union payload *u)
{
	(void)reg;
	return rig_jbd_params_encode(f, &u->params);
}

static void basic_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	const struct jbd_basic *b = &u->basic;
	const struct json_num head[] = {
		{ "pack_mv", b->pack_mV }, { "current_ma", b->current_mA },
		{ "remain_mah", b->remain_mAh }, { "full_mah", b->full_mAh }, { "cycles", b->cycles },
	};
	const struct json_num mid[] = {
		{ "bal_mask", (uint32_t)b->bal_high << 16 | b->bal_low }, { "prot_raw", b->prot_raw },
		{ "sw_version", b->sw_version }, { "soc_pct", b->soc_pct },
		{ "fet_chg", (b->fet & JBD_FET_CHG_ON) != 0 }, { "fet_dsg", (b->fet & JBD_FET_DSG_ON) != 0 },
		{ "cell_count", b->cell_count }, { "ntc_count", b->ntc_count },
	};
	const struct json_num ext[] = {
		{ "humidity_pct", b->humidity_pct }, { "alarm_raw", b->alarm_raw },
		{ "ext_full_mah", b->ext_full_mAh }, { "ext_remain_mah", b->ext_remain_mAh },
		{ "balance_current_ma", b->balance_current_mA },
	};

	(void)reg;
	json_add_nums(o, head, N_OF(head));
	add_date(o, "production_date", b->production_date);
	json_add_nums(o, mid, N_OF(mid));
	json_add_u16_array(o, "temps_dk", b->temp_dK, b->ntc_count);
	if (b->has_ext)
		json_add_nums(o, ext, N_OF(ext));
}

static void cells_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	(void)reg;
	json_add_u16_array(o, "cells_mv", u->cells.cell_mV, u->cells.count);
	cJSON_AddNumberToObject(o, "cell_count", u->cells.count);
}

static void version_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	(void)reg;
	add_text(o, "model", &u->text);
}

static void string_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	add_text(o, string_key(reg), &u->text);
}

static void events_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	(void)reg;
	json_add_u16_array(o, "event_counts", u->events.value, u->events.count);
}

static void register_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	(void)reg;
	cJSON_AddNumberToObject(o, "register_value", u->value);
}

static void params_emit(cJSON *o, uint8_t reg, const union payload *u)
{
	(void)reg;
	cJSON_AddNumberToObject(o, "param_start", u->params.start);
	cJSON_AddNumberToObject(o, "param_count", u->params.count);
	json_add_u16_array(o, "param_values", u->params.value, u->params.count);
}

struct reg_view {
	uint8_t first, last;
	rig_rc (*decode)(const struct jbd_frame *f, union payload *u);
	rig_rc (*encode)(struct jbd_frame *f, uint8_t reg, const union payload *u);
	void (*emit)(cJSON *o, uint8_t reg, const union payload *u);
};

/* What an OK response with data means, per register (docs/protocols/jbd.md §4-§9). */
static const struct reg_view response_views[] = {
	{ JBD_REG_BASIC, JBD_REG_BASIC, basic_dec, basic_enc, basic_emit },
	{ JBD_REG_CELLS, JBD_REG_CELLS, cells_dec, cells_enc, cells_emit },
	{ JBD_REG_VERSION, JBD_REG_VERSION, version_dec, version_enc, version_emit },
	{ JBD_REG_EEPROM_FIRST, JBD_REG_EEPROM_LAST, register_dec, register_enc, register_emit },
	{ JBD_REG_MFG_NAME, JBD_REG_BARCODE, string_dec, string_enc, string_emit },
	{ JBD_REG_EVENTS, JBD_REG_EVENTS, events_dec, events_enc, events_emit },
	{ JBD_REG_PARAM_BLOCK, JBD_REG_PARAM_BLOCK, params_dec, params_enc, params_emit },
};

static const struct reg_view *response_view(uint8_t reg)
{
	for (size_t i = 0; i < N_OF(response_views); i++)
		if (reg >= response_views[i].first && reg <= response_views[i].last)
			return &response_views[i];
	return NULL;
}

/* ---- frame -> JSON ------------------------------------------------------------------------ */

static void add_error(cJSON *o, rig_rc rc, const struct jbd_frame *f)
{
	cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
	if (!cJSON_HasObjectItem(o, "data_hex"))
		json_add_hex(o, "data_hex", f->data, f->len);
}

static void request_json(cJSON *o, const struct jbd_frame *f)
{
	int write = f->rw == JBD_RW_WRITE;
	uint16_t value;
	struct jbd_text t;
	rig_rc rc;

	if (!write && f->rw != JBD_RW_READ) {
		add_error(o, RIG_ERR_ARG, f);
		return;
	}
	cJSON_AddStringToObject(o, "rw", write ? "write" : "read");
	if (write && rig_jbd_register_decode(f, &value) == RIG_OK)
		cJSON_AddNumberToObject(o, "register_value", value);
	else if (f->len)
		json_add_hex(o, "data_hex", f->data, f->len);
	/* Even an empty string write is judged: it lacks the length byte every string carries. */
	if (write && rig_jbd_reg_is_string(f->reg)) {
		rc = rig_jbd_string_request_decode(f, &t);
		if (rc == RIG_OK)
			add_text(o, string_key(f->reg), &t);
		else
			add_error(o, rc, f);
	}
}

static void response_json(cJSON *o, const struct jbd_frame *f)
{
	const struct reg_view *v = response_view(f->reg);
	union payload u;
	rig_rc rc;

	cJSON_AddNumberToObject(o, "status", f->status);
	if (f->len == 0)
		return;                                    /* ack or error status */
	if (f->status != JBD_STATUS_OK || !v) {
		json_add_hex(o, "data_hex", f->data, f->len);
		return;
	}
	rc = v->decode(f, &u);
	if (rc == RIG_OK)
		v->emit(o, f->reg, &u);
	else
		add_error(o, rc, f);
}

cJSON *jbd_frame_json(const struct jbd_frame *f)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "jbd");
	cJSON_AddStringToObject(o, "kind", f->kind == JBD_KIND_REQUEST ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f->reg);
	if (f->kind == JBD_KIND_REQUEST)
		request_json(o, f);
	else
		response_json(o, f);
	return o;
}

cJSON *jbd_wire_json(const uint8_t *wire, size_t n)
{
	struct jbd_frame f;
	rig_rc rc = rig_jbd_frame_parse(wire, n, &f);

	return rc == RIG_OK ? jbd_frame_json(&f) : json_error_object("jbd", rig_rc_str(rc));
}

/* ---- typed round trip ---------------------------------------------------------------------- */

static rig_rc request_rebuild(const struct jbd_frame *f, struct jbd_frame *out)
{
	struct jbd_text t;
	uint16_t value;
	uint8_t data[1 + JBD_TEXT_MAX];
	rig_rc rc;

	if (f->rw == JBD_RW_READ && f->len == 0) {
		rig_jbd_request_read(out, f->reg);
		return RIG_OK;
	}
	if (f->rw != JBD_RW_WRITE)
		return RIG_ERR_UNSUPPORTED;           /* a read with data (0xFA) has no builder */
	if (rig_jbd_reg_is_string(f->reg)) {
		rc = rig_jbd_string_request_decode(f, &t);
		if (rc != RIG_OK)
			return rc;
		data[0] = t.len;
		memcpy(data + 1, t.text, t.len);
		return rig_jbd_request_write(out, f->reg, data, (uint8_t)(t.len + 1u));
	}
	if (f->len == 2) {
		rc = rig_jbd_register_decode(f, &value);
		if (rc == RIG_OK)
			rig_jbd_request_write_u16(out, f->reg, value);
		return rc;
	}
	return rig_jbd_request_write(out, f->reg, f->data, f->len);
}

static rig_rc response_rebuild(const struct jbd_frame *f, struct jbd_frame *out)
{
	const struct reg_view *v = response_view(f->reg);
	union payload u;
	rig_rc rc;

	if (f->status != JBD_STATUS_OK) {
		if (f->len)
			return RIG_ERR_UNSUPPORTED;
		rig_jbd_response_error(out, f->reg, f->status);
		return RIG_OK;
	}
	if (f->len == 0) {
		rig_jbd_response_ack(out, f->reg);
		return RIG_OK;
	}
	if (!v)
		return RIG_ERR_UNSUPPORTED;
	rc = v->decode(f, &u);
	return rc != RIG_OK ? rc : v->encode(out, f->reg, &u);
}

rig_rc jbd_frame_rebuild(const struct jbd_frame *f, struct jbd_frame *out)
{
	memset(out, 0, sizeof *out);
	return f->kind == JBD_KIND_REQUEST ? request_rebuild(f, out) : response_rebuild(f, out);
}
