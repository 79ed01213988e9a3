/* JK BLE frame -> decoded-frame JSON, and the typed round trip (include/bmsrig/sim/jk_ble_json.h). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/jk_ble_json.h"
#include "bmsrig/core/jk_pb.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MODBUS_ECHO_LEN 8u            /* addr, 0x10, reg(2), quantity(2), CRC-16 lo, hi */

/* A NUL-padded device text up to its first NUL. */
static void add_text(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
	const uint8_t *nul = memchr(p, 0, n);

	json_add_latin1(o, key, p, nul ? (size_t)(nul - p) : n);
}

/* The keys every frame the view understands starts with. */
static cJSON *head(const char *kind, unsigned cmd)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "proto", "jk-ble");
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddNumberToObject(o, "cmd", cmd);
	}
	return o;
}

/* ---- commands -------------------------------------------------------------------------- */

static cJSON *cmd_json(const uint8_t *wire, size_t n)
{
	struct jk_ble_cmd c;
	rig_rc rc = rig_jk_ble_cmd_parse(wire, n, &c);
	cJSON *o;

	if (rc != RIG_OK)
		return json_error_object("jk-ble", rig_rc_str(rc));
	o = head(rig_jk_ble_cmd_is_ack(&c) ? "response" : "request", c.reg);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "value_len", c.value_len);
	if (c.value_len > 4u)
		json_add_hex(o, "value_hex", c.value, c.value_len);
	else if (c.value_len)
		cJSON_AddNumberToObject(o, "value", rig_jk_ble_cmd_value(&c));
	return o;
}

/* ---- records ----------------------------------------------------------------------------- */

static const struct { uint8_t k; const char *key; } setting_keys[] = {
	{ JK_SET_CELL_UVP_MV, "cell_uvp_mv" },    { JK_SET_CELL_UVPR_MV, "cell_uvpr_mv" },
	{ JK_SET_CELL_OVP_MV, "cell_ovp_mv" },    { JK_SET_CELL_OVPR_MV, "cell_ovpr_mv" },
	{ JK_SET_POWER_OFF_MV, "power_off_mv" },  { JK_SET_BAL_TRIGGER_MV, "bal_trigger_mv" },
	{ JK_SET_BAL_START_MV, "bal_start_mv" },  { JK_SET_MAX_BAL_MA, "max_bal_ma" },
	{ JK_SET_MAX_CHG_MA, "max_chg_ma" },      { JK_SET_MAX_DSG_MA, "max_dsg_ma" },
	{ JK_SET_CELL_COUNT, "cell_count" },      { JK_SET_CAPACITY_MAH, "design_mah" },
	{ JK_SET_CHG_SWITCH, "chg_switch" },      { JK_SET_DSG_SWITCH, "dsg_switch" },
	{ JK_SET_BAL_SWITCH, "bal_switch" },
};

static rig_rc settings_json(cJSON *o, const uint8_t *rec, enum jk_ble_layout layout)
{
	struct jk_ble_settings s;
	rig_rc rc = rig_jk_ble_settings_decode(rec, layout, &s);

	if (rc != RIG_OK)
		return rc;
	for (size_t i = 0; i < N_OF(setting_keys); i++)
		if (rig_jk_ble_setting_present(layout, setting_keys[i].k))
			cJSON_AddNumberToObject(o, setting_keys[i].key, s.value[setting_keys[i].k]);
	return RIG_OK;
}

static rig_rc cells_json(cJSON *o, const uint8_t *rec, enum jk_ble_layout layout)
{
	struct jk_ble_cells c;
	rig_rc rc = rig_jk_ble_cells_decode(rec, layout, &c);
	cJSON *cells, *res;
	unsigned i, count = 0;

	if (rc != RIG_OK)
		return rc;
	cells = cJSON_AddArrayToObject(o, "cells_mv");
	res = cJSON_AddArrayToObject(o, "wire_res_mohm");
	for (i = 0; cells && res && i < rig_jk_ble_slots(layout); i++)
		if (c.cell_mask >> i & 1u) {
			cJSON_AddItemToArray(cells, cJSON_CreateNumber(c.cell_mV[i]));
			cJSON_AddItemToArray(res, cJSON_CreateNumber(c.wire_res_mOhm[i]));
			count++;
		}
	cJSON_AddNumberToObject(o, "cell_count", count);
	cJSON_AddNumberToObject(o, "pack_mv", c.pack_mV);
	cJSON_AddNumberToObject(o, "balance_current_ma", c.balance_current_mA);
	if (layout == JK_BLE_JK04)
		return RIG_OK;           /* no index bytes, current, temperatures, SOC or switches in JK04 */

	/* The record's index bytes are 0-based; the vocabulary's indices count from 1. They are
	 * what the board sent, which need not be the first extreme of cells_mv (ESPHome PR #1013). */
	const struct json_num more[] = {
		{ "max_cell_index", c.max_cell_idx + 1 }, { "min_cell_index", c.min_cell_idx + 1 },
		{ "current_ma", c.current_mA }, { "mos_temp_dk", c.mos_temp_dK },
		{ "prot_raw", c.errors }, { "soc_pct", c.soc_pct }, { "remain_mah", c.remain_mAh },
		{ "full_mah", c.full_mAh }, { "cycles", c.cycles }, { "fet_chg", c.fet_chg },
		{ "fet_dsg", c.fet_dsg }, { "soh_pct", c.soh_pct }, { "power_mw", c.power_mW },
		{ "runtime_s", c.runtime_s },
	};
	json_add_i32_array(o, "temps_dk", c.temp_dK, 2);
	if (layout == JK_BLE_JK02_32S)
		json_add_i32_array(o, "temps_ext_dk", c.temp_dK + 2, 3);
	json_add_nums(o, more, N_OF(more));
	return RIG_OK;
}

static rig_rc device_json(cJSON *o, const uint8_t *rec)
{
	struct jk_ble_device d;
	rig_rc rc = rig_jk_ble_device_decode(rec, &d);
	const uint8_t *y = d.mfg_date;
	int digits = 1;

	if (rc != RIG_OK)
		return rc;
	add_text(o, "model", d.model, sizeof d.model);
	add_text(o, "hw_version", d.hw_version, sizeof d.hw_version);
	add_text(o, "sw_version", d.sw_version, sizeof d.sw_version);
	add_text(o, "serial", d.serial, sizeof d.serial);
	cJSON_AddNumberToObject(o, "uptime_s", d.uptime_s);
	cJSON_AddNumberToObject(o, "power_on_count", d.power_on_count);
	/* "YYMMDD" read as 20YY; boards that leave it empty get no date. */
	for (int i = 0; i < 6; i++)
		digits &= y[i] >= '0' && y[i] <= '9';
	if (digits) {
		char s[16];

		snprintf(s, sizeof s, "20%c%c-%c%c-%c%c", y[0], y[1], y[2], y[3], y[4], y[5]);
		cJSON_AddStringToObject(o, "production_date", s);
	}
	return RIG_OK;
}

/* A JK-PB RS485 trigger reply: the record, then the 8-byte reply to the FC 0x10 write
 * (framing and CRC: the core's Modbus codec and jk_pb.h). */
static rig_rc modbus_echo_check(const uint8_t *t, size_t n)
{
	struct modbus_frame f;
	uint16_t reg, count;
	rig_rc rc;

	if (n != MODBUS_ECHO_LEN || t[1] != JK_PB_FC_WRITE)
		return RIG_ERR_FRAME;
	rc = rig_modbus_frame_parse(t, n, MODBUS_RESPONSE, &f);
	if (rc == RIG_OK)
		rc = rig_jk_pb_echo_decode(&f, &reg, &count);
	return rc;
}

static void modbus_echo_build(uint8_t *t, uint8_t address, uint16_t reg, uint16_t quantity)
{
	struct modbus_frame f;
	size_t n;

	rig_jk_pb_write_echo(&f, address, reg, quantity);
	(void)rig_modbus_frame_encode(&f, t, MODBUS_ECHO_LEN, &n);
}

/* A record, and a trailer if any: RIG_OK when both are well formed. */
static rig_rc record_check(const uint8_t *wire, size_t n)
{
	rig_rc rc;

	if (n < JK_BLE_RECORD_LEN)
		return RIG_ERR_LENGTH;
	rc = rig_jk_ble_record_check(wire, JK_BLE_RECORD_LEN);
	if (rc == RIG_OK && n > JK_BLE_RECORD_LEN)
		rc = modbus_echo_check(wire + JK_BLE_RECORD_LEN, n - JK_BLE_RECORD_LEN);
	return rc;
}

static int has_layout(uint8_t type)
{
	return type == JK_BLE_REC_SETTINGS || type == JK_BLE_REC_CELLS;
}

static cJSON *record_json(const uint8_t *rec, size_t n)
{
	rig_rc rc = record_check(rec, n);
	enum jk_ble_layout layout;
	cJSON *o;

	if (rc != RIG_OK)
		return json_error_object("jk-ble", rig_rc_str(rc));
	o = head("response", rec[4]);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "counter", rec[5]);
	if (n > JK_BLE_RECORD_LEN) {
		cJSON_AddNumberToObject(o, "modbus_address", rec[JK_BLE_RECORD_LEN]);
		cJSON_AddNumberToObject(o, "modbus_register",
		                        rec[JK_BLE_RECORD_LEN + 2] << 8 | rec[JK_BLE_RECORD_LEN + 3]);
	}
	layout = rig_jk_ble_layout_detect(rec);
	if (has_layout(rec[4]))
		cJSON_AddStringToObject(o, "layout", rig_jk_ble_layout_name(layout));
	switch (rec[4]) {
	case JK_BLE_REC_SETTINGS: rc = settings_json(o, rec, layout); break;
	case JK_BLE_REC_CELLS:    rc = cells_json(o, rec, layout); break;
	case JK_BLE_REC_DEVICE:   rc = device_json(o, rec); break;
	default:                  rc = RIG_OK; break;   /* logbook and unknown types: header only */
	}
	if (rc != RIG_OK)
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
	return o;
}

static int starts(const uint8_t *w, size_t n, uint8_t b0, uint8_t b1)
{
	return n >= 2 && w[0] == b0 && w[1] == b1;
}

cJSON *jk_ble_wire_json(const uint8_t *wire, size_t n)
{
	if (starts(wire, n, 0xAA, 0x55))
		return cmd_json(wire, n);
	if (starts(wire, n, 0x55, 0xAA))
		return record_json(wire, n);
	return json_error_object("jk-ble", rig_rc_str(RIG_ERR_FRAME));
}

/* ---- typed round trip ---------------------------------------------------------------------- */

static rig_rc cmd_rebuild(const uint8_t *wire, size_t n, uint8_t *out)
{
	struct jk_ble_cmd c, g;
	rig_rc rc = rig_jk_ble_cmd_parse(wire, n, &c);

	if (rc != RIG_OK)
		return rc;
	if (c.value_len <= 4u) {
		rc = rig_jk_ble_cmd_write(&g, c.reg, c.value_len, rig_jk_ble_cmd_value(&c));
		if (rc != RIG_OK)
			return rc;
	} else {
		rig_jk_ble_cmd_read(&g, c.reg);
		g.value_len = c.value_len;
		memcpy(g.value, c.value, c.value_len);      /* a string value has no typed form */
	}
	/* The padding the app randomises is not a field: it is carried over as it came. */
	memcpy(g.value + c.value_len, c.value + c.value_len, JK_BLE_VALUE_MAX - c.value_len);
	rig_jk_ble_cmd_encode(&g, out);
	return RIG_OK;
}

static rig_rc record_rebuild(const uint8_t *wire, size_t n, uint8_t *out)
{
	enum jk_ble_layout layout;
	union {
		struct jk_ble_settings s;
		struct jk_ble_cells c;
		struct jk_ble_device d;
	} u;
	rig_rc rc = record_check(wire, n);

	if (rc != RIG_OK)
		return rc;
	layout = rig_jk_ble_layout_detect(wire);
	memcpy(out, wire, JK_BLE_RECORD_LEN);
	rig_jk_ble_record_clear_fields(out, layout);
	switch (wire[4]) {
	case JK_BLE_REC_SETTINGS:
		rc = rig_jk_ble_settings_decode(wire, layout, &u.s);
		if (rc == RIG_OK)
			rc = rig_jk_ble_settings_encode(out, layout, &u.s);
		break;
	case JK_BLE_REC_CELLS:
		rc = rig_jk_ble_cells_decode(wire, layout, &u.c);
		if (rc == RIG_OK)
			rc = rig_jk_ble_cells_encode(out, layout, &u.c);
		break;
	case JK_BLE_REC_DEVICE:
		rc = rig_jk_ble_device_decode(wire, &u.d);
		if (rc == RIG_OK)
			rc = rig_jk_ble_device_encode(out, &u.d);
		break;
	default:
		return RIG_ERR_UNSUPPORTED;
	}
	if (rc != RIG_OK)
		return rc;
	rig_jk_ble_record_seal(out);
	if (n > JK_BLE_RECORD_LEN) {
		const uint8_t *t = wire + JK_BLE_RECORD_LEN;

		modbus_echo_build(out + JK_BLE_RECORD_LEN, t[0], (uint16_t)(t[2] << 8 | t[3]),
		                  (uint16_t)(t[4] << 8 | t[5]));
	}
	return RIG_OK;
}

rig_rc jk_ble_wire_rebuild(const uint8_t *wire, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	rig_rc rc;

	if (cap < n)
		return RIG_ERR_SPACE;
	if (starts(wire, n, 0xAA, 0x55))
		rc = cmd_rebuild(wire, n, out);
	else if (starts(wire, n, 0x55, 0xAA))
		rc = record_rebuild(wire, n, out);
	else
		rc = RIG_ERR_FRAME;
	if (rc == RIG_OK)
		*out_len = n;
	return rc;
}
