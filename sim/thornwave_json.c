/* Thornwave PowerMon bytes as decoded-frame JSON (thornwave_json.h). */
#include "bmsrig/sim/thornwave_json.h"

#include <stdio.h>
#include <string.h>

#include "bmsrig/core/thornwave.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	uint8_t op;
	const char *name, *kind;
} att_names[] = {
	{ TW_ATT_ERROR_RSP, "error_rsp", "response" }, { TW_ATT_READ_REQ, "read_req", "request" },
	{ TW_ATT_READ_RSP, "read_rsp", "response" },   { TW_ATT_BLOB_REQ, "blob_req", "request" },
	{ TW_ATT_BLOB_RSP, "blob_rsp", "response" },   { TW_ATT_NOTIFY, "notify", "response" },
};

static cJSON *att_json(const struct tw_att *a)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "thornwave");
	for (i = 0; i < N_OF(att_names); i++)
		if (att_names[i].op == a->op) {
			cJSON_AddStringToObject(o, "kind", att_names[i].kind);
			cJSON_AddStringToObject(o, "att", att_names[i].name);
		}
	cJSON_AddNumberToObject(o, "op", a->op);
	switch (a->op) {
	case TW_ATT_READ_RSP:
	case TW_ATT_BLOB_RSP:
		break;
	default:
		cJSON_AddNumberToObject(o, "handle", a->handle);
		break;
	}
	if (a->op == TW_ATT_BLOB_REQ)
		cJSON_AddNumberToObject(o, "offset", a->offset);
	if (a->op == TW_ATT_ERROR_RSP) {
		cJSON_AddNumberToObject(o, "err_op", a->err_op);
		cJSON_AddNumberToObject(o, "err_code", a->err_code);
	}
	if (a->value) {
		cJSON_AddNumberToObject(o, "value_len", (double)a->value_len);
		json_add_hex(o, "value_hex", a->value, a->value_len);
	}
	return o;
}

static cJSON *value_json(const struct tw_value *v)
{
	cJSON *o = cJSON_CreateObject();
	struct tw_clock c;
	char text[32];
	const struct json_num nums[] = {
		{ "soc_pct", v->soc_half / 2 }, { "soc_raw", v->soc_half },
		{ "v1_mv", v->milli[TW_F_V1] }, { "v2_mv", v->milli[TW_F_V2] },
		{ "current_ma", v->milli[TW_F_CURRENT] }, { "power_mw", v->milli[TW_F_POWER] },
		{ "temp_mc", v->milli[TW_F_TEMP] }, { "energy_mwh", (double)v->energy_mWh },
		{ "charge_mah", (double)v->charge_mAh }, { "uptime_s", v->uptime_s },
		{ "clock", v->clock }, { "peak_ma", v->milli[TW_F_PEAK] },
	};

	if (!o)
		return NULL;
	rig_tw_clock_unpack(v->clock, &c);
	snprintf(text, sizeof text, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)c.year, (unsigned)c.month,
	         (unsigned)c.day, (unsigned)c.hour, (unsigned)c.min, (unsigned)c.sec);
	cJSON_AddStringToObject(o, "proto", "thornwave");
	cJSON_AddStringToObject(o, "kind", "value");
	json_add_hex(o, "head_hex", v->head, sizeof v->head);
	json_add_nums(o, nums, N_OF(nums));
	cJSON_AddStringToObject(o, "clock_text", text);
	return o;
}

static cJSON *monitor_json(const struct tw_monitor *m)
{
	cJSON *o = cJSON_CreateObject();
	const struct json_num nums[] = {
		{ "fw_bcd", m->fw_bcd }, { "hw_rev", m->hw_rev }, { "time_s", m->time_s },
		{ "flags", m->flags }, { "v1_mv", m->v1_mV }, { "v2_mv", m->v2_mV },
		{ "current_ma", m->current_mA }, { "power_mw", m->power_mW },
		{ "charge_mah", (double)m->charge_mAh }, { "energy_mwh", (double)m->energy_mWh },
		{ "temp_mc", m->temp_mC }, { "power_status", m->power_status }, { "soc_pct", m->soc_pct },
		{ "runtime_min", m->runtime_min },
	};

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "thornwave");
	cJSON_AddStringToObject(o, "kind", "monitor");
	json_add_nums(o, nums, N_OF(nums));
	return o;
}

/* A COBS frame with or without its 0x00 delimiters around it. */
static rig_rc monitor_of(const uint8_t *wire, size_t n, struct tw_monitor *m)
{
	uint8_t frame[TW_COBS_MAX];
	size_t got;
	rig_rc rc;

	while (n && wire[0] == 0) {
		wire++;
		n--;
	}
	while (n && wire[n - 1] == 0)
		n--;
	if (!n)
		return RIG_ERR_LENGTH;
	rc = rig_cobs_decode(wire, n, frame, sizeof frame, &got);
	return rc == RIG_OK ? rig_tw_monitor_decode(frame, got, m) : rc;
}

cJSON *thornwave_wire_json(const uint8_t *wire, size_t n)
{
	struct tw_att a;
	struct tw_value v;
	struct tw_monitor m;
	rig_rc rc;

	if (n && rig_tw_att_fixed_len(wire[0]) >= 0 && n <= TW_ATT_PDU_MAX) {
		rc = rig_tw_att_parse(wire, n, &a);
		return rc == RIG_OK ? att_json(&a) : json_error_object("thornwave", rig_rc_str(rc));
	}
	if (n == TW_VALUE_LEN) {
		rc = rig_tw_value_decode(wire, n, &v);
		return rc == RIG_OK ? value_json(&v) : json_error_object("thornwave", rig_rc_str(rc));
	}
	rc = monitor_of(wire, n, &m);
	return rc == RIG_OK ? monitor_json(&m) : json_error_object("thornwave", rig_rc_str(rc));
}
