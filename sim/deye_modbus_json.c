/* Deye Modbus frame -> decoded-frame JSON (include/bmsrig/sim/deye_modbus_json.h). */
#include <string.h>

#include "bmsrig/sim/deye_modbus_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define PROTO "deye-modbus"

static void add_block(cJSON *o, const uint16_t regs[DEYE_MB_BLOCK_COUNT])
{
	struct rig_inv_battery r;
	uint16_t st = regs[DEYE_MB_R_STATUS];

	rig_deye_mb_block_decode(regs, &r);
	const struct json_num t[] = {
		{ "pack_mv", r.pack_mV }, { "current_ma", r.current_mA }, { "remain_mah", r.remain_mAh },
		{ "temp_dk", r.temp_dK }, { "env_temp_dk", r.temp_env_dK }, { "warn_raw", regs[DEYE_MB_R_WARN] },
		{ "prot_raw", regs[DEYE_MB_R_PROT] }, { "status_raw", st },
		{ "soc_permille", regs[DEYE_MB_R_SOC] }, { "soh_permille", regs[DEYE_MB_R_SOH] },
		{ "full_mah", r.full_mAh }, { "cycles", r.cycles }, { "ccl_ma", r.ccl_mA },
		{ "max_cell_mv", r.cell_max_mV }, { "min_cell_mv", r.cell_min_mV },
		{ "max_temp_dk", r.temp_max_dK }, { "min_temp_dk", r.temp_min_dK },
		{ "mos_temp_dk", r.temp_mos_dK }, { "cvl_mv", r.cvl_mV }, { "design_mah", r.design_mAh },
		{ "fet_chg", (st & DEYE_MB_ST_CHG_FET) ? 1 : 0 }, { "fet_dsg", (st & DEYE_MB_ST_DSG_FET) ? 1 : 0 },
	};
	json_add_nums(o, t, N_OF(t));
}

static void add_error(cJSON *o, rig_rc rc, const struct modbus_frame *f)
{
	cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
	json_add_hex(o, "data_hex", f->data, f->len);
}

cJSON *deye_mb_frame_json(const struct modbus_frame *f, enum modbus_kind kind)
{
	cJSON *o = cJSON_CreateObject();
	uint16_t start, count, regs[DEYE_MB_READ_MAX + 2];
	struct deye_mb_ident id;
	rig_rc rc;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", PROTO);
	cJSON_AddStringToObject(o, "kind", kind == MODBUS_REQUEST ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f->fc);
	cJSON_AddNumberToObject(o, "address", f->addr);
	if (kind == MODBUS_RESPONSE && (f->fc & MODBUS_FC_EXCEPTION)) {
		cJSON_AddNumberToObject(o, "exception", f->data[0]);
		return o;
	}
	switch (f->fc) {
	case DEYE_MB_FC_READ_INPUT:
		if (kind == MODBUS_REQUEST) {
			rc = rig_deye_mb_read_decode(f, &start, &count);
			if (rc == RIG_OK) {
				cJSON_AddNumberToObject(o, "start", start);
				cJSON_AddNumberToObject(o, "count", count);
			} else
				add_error(o, rc, f);
			break;
		}
		rc = rig_deye_mb_regs_decode(f, regs, (uint16_t)N_OF(regs), &count);
		if (rc != RIG_OK) {
			add_error(o, rc, f);
			break;
		}
		json_add_u16_array(o, "registers", regs, count);
		if (count == DEYE_MB_BLOCK_COUNT)
			add_block(o, regs);
		break;
	case DEYE_MB_FC_REPORT_ID:
		if (kind == MODBUS_REQUEST)
			break;
		rc = rig_deye_mb_ident_decode(f, &id);
		if (rc != RIG_OK) {
			add_error(o, rc, f);
			break;
		}
		json_add_latin1(o, "model", (const uint8_t *)id.model, id.model_len);
		json_add_hex(o, "sw_version", id.sw, 2);
		json_add_hex(o, "hw_version", id.hw, 2);
		json_add_latin1(o, "serial", (const uint8_t *)id.serial, DEYE_MB_SERIAL_LEN);
		break;
	default:
		json_add_hex(o, "data_hex", f->data, f->len);
		break;
	}
	return o;
}

cJSON *deye_mb_wire_json(const uint8_t *wire, size_t n)
{
	struct modbus_frame f;
	rig_rc req = rig_modbus_frame_parse(wire, n, MODBUS_REQUEST, &f), rsp;

	if (req == RIG_OK)
		return deye_mb_frame_json(&f, MODBUS_REQUEST);
	rsp = rig_modbus_frame_parse(wire, n, MODBUS_RESPONSE, &f);
	if (rsp == RIG_OK)
		return deye_mb_frame_json(&f, MODBUS_RESPONSE);
	/* A frame whose length fits one direction and whose CRC is wrong is a bad CRC, whatever
	 * the other direction makes of its length. */
	return json_error_object(PROTO, rig_rc_str(req == RIG_ERR_CHECKSUM ? req : rsp));
}
