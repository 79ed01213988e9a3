/* Pylontech RS485 frame -> decoded-frame JSON and the typed round trip
 * (include/bmsrig/sim/pylon_rs485_json.h). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/pylon_rs485_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Every typed payload; large (0x42 holds 15 modules), so callers keep it static or on the heap. */

static cJSON *module_json(const struct pylon_module *m, cJSON *o)
{
	struct json_num n[] = {
		{ "cell_count", m->cell_count }, { "ntc_count", m->temp_count },
		{ "current_ma", m->current_mA }, { "pack_mv", m->pack_mV },
		{ "remain_mah", m->remain_mAh }, { "full_mah", m->full_mAh },
		{ "cycles", m->cycles }, { "user_defined", m->user_defined },
	};

	json_add_u16_array(o, "cells_mv", m->cell_mV, m->cell_count);
	json_add_u16_array(o, "temps_dk", m->temp_dK, m->temp_count);
	json_add_nums(o, n, N_OF(n));
	return o;
}

static void analog_json(cJSON *o, const struct pylon_analog *a)
{
	cJSON *mods = cJSON_AddArrayToObject(o, "modules");
	unsigned k;

	cJSON_AddNumberToObject(o, "dataflag", a->dataflag);
	cJSON_AddNumberToObject(o, "command_value", a->command_value);
	cJSON_AddNumberToObject(o, "module_count", a->module_count);
	module_json(&a->m[0], o);
	for (k = 0; mods && k < a->module_count; k++)
		cJSON_AddItemToArray(mods, module_json(&a->m[k], cJSON_CreateObject()));
}

static cJSON *alarm_module_json(const struct pylon_alarm_module *m, cJSON *o)
{
	struct json_num n[] = {
		{ "chg_current_state", m->chg_current_state }, { "voltage_state", m->voltage_state },
		{ "dsg_current_state", m->dsg_current_state },
	};

	json_add_u8_array(o, "cell_states", m->cell_state, m->cell_count);
	json_add_u8_array(o, "temp_states", m->temp_state, m->temp_count);
	json_add_u8_array(o, "status_bytes", m->status, 5);
	json_add_nums(o, n, N_OF(n));
	return o;
}

static void alarm_json(cJSON *o, const struct pylon_alarm *a)
{
	cJSON *mods = cJSON_AddArrayToObject(o, "modules");
	unsigned k;

	cJSON_AddNumberToObject(o, "dataflag", a->dataflag);
	cJSON_AddNumberToObject(o, "command_value", a->command_value);
	cJSON_AddNumberToObject(o, "module_count", a->module_count);
	alarm_module_json(&a->m[0], o);
	cJSON_AddNumberToObject(o, "prot", rig_pylon_prot_from_status1(a->m[0].status[0]));
	for (k = 0; mods && k < a->module_count; k++)
		cJSON_AddItemToArray(mods, alarm_module_json(&a->m[k], cJSON_CreateObject()));
	if (a->trailer_len)
		json_add_hex(o, "trailer_hex", a->trailer, a->trailer_len);
}

static void param_json(cJSON *o, const struct pylon_sys_param *p)
{
	struct json_num n[] = {
		{ "infoflag", p->infoflag },
		{ "cell_high_mv", p->cell_high_mV }, { "cell_low_mv", p->cell_low_mV },
		{ "cell_under_mv", p->cell_under_mV }, { "chg_high_dk", p->chg_high_dK },
		{ "chg_low_dk", p->chg_low_dK }, { "chg_current_ma", p->chg_current_mA },
		{ "module_high_mv", p->module_high_mV }, { "module_low_mv", p->module_low_mV },
		{ "module_under_mv", p->module_under_mV }, { "dsg_high_dk", p->dsg_high_dK },
		{ "dsg_low_dk", p->dsg_low_dK }, { "dsg_current_ma", p->dsg_current_mA },
	};

	json_add_nums(o, n, N_OF(n));
}

static void mgmt_json(cJSON *o, const struct pylon_mgmt *m)
{
	struct json_num n[] = {
		{ "cvl_mv", m->cvl_mV }, { "dvl_mv", m->dvl_mV }, { "ccl_ma", m->ccl_mA },
		{ "dcl_ma", m->dcl_mA < 0 ? -(double)m->dcl_mA : m->dcl_mA }, { "mgmt_status", m->status },
		{ "chg_enable", (m->status & PYLON_MGMT_CHG_ENABLE) != 0 },
		{ "dsg_enable", (m->status & PYLON_MGMT_DSG_ENABLE) != 0 },
		{ "force_chg", (m->status & (PYLON_MGMT_FORCE_CHG_1 | PYLON_MGMT_FORCE_CHG_2)) != 0 },
	};

	if (m->has_command_value)
		cJSON_AddNumberToObject(o, "command_value", m->command_value);
	json_add_nums(o, n, N_OF(n));
}

static void mfr_json(cJSON *o, const struct pylon_mfr *m)
{
	char v[16];

	json_add_padded_text(o, "model", m->name_raw, PYLON_NAME_LEN);
	snprintf(v, sizeof v, "%u.%u", m->sw_major, m->sw_minor);
	cJSON_AddStringToObject(o, "sw_version", v);
	json_add_padded_text(o, "manufacturer", m->mfr_raw, PYLON_MFR_LEN);
}

static void basic_json(cJSON *o, const struct pylon_sys_basic *b)
{
	cJSON *s = cJSON_AddArrayToObject(o, "serials");
	unsigned k;

	mfr_json(o, &b->id);
	cJSON_AddNumberToObject(o, "module_count", b->module_count);
	for (k = 0; s && k < b->module_count; k++)
		cJSON_AddItemToArray(s, cJSON_CreateString(b->serial[k]));
}

static void sys_analog_json(cJSON *o, const struct pylon_sys_analog *a)
{
	struct json_num n[] = {
		{ "pack_mv", a->pack_mV }, { "current_ma", a->current_mA }, { "soc_pct", a->soc_pct },
		{ "cycles", a->cycles_avg }, { "cycles_max", a->cycles_max },
		{ "soh_pct", a->soh_avg_pct }, { "soh_min_pct", a->soh_min_pct },
		{ "max_cell_mv", a->cell_max_mV.value }, { "max_cell_where", a->cell_max_mV.where },
		{ "min_cell_mv", a->cell_min_mV.value }, { "min_cell_where", a->cell_min_mV.where },
		{ "temp_dk", a->cell_temp_avg_dK },
		{ "max_temp_dk", a->cell_temp_max_dK.value }, { "max_temp_where", a->cell_temp_max_dK.where },
		{ "min_temp_dk", a->cell_temp_min_dK.value }, { "min_temp_where", a->cell_temp_min_dK.where },
		{ "mos_temp_dk", a->mos_temp_avg_dK }, { "bms_temp_dk", a->bms_temp_avg_dK },
	};

	json_add_nums(o, n, N_OF(n));
}

static void sys_alarm_json(cJSON *o, const struct pylon_sys_alarm *a)
{
	struct json_num n[] = {
		{ "alarm1", a->alarm1 }, { "alarm2", a->alarm2 }, { "prot1", a->prot1 }, { "prot2", a->prot2 },
		{ "prot", rig_pylon_prot_from_status1(a->prot1) },
		{ "warn", rig_pylon_prot_from_status1(a->alarm1) },
	};

	json_add_nums(o, n, N_OF(n));
}

/* Decode, JSON and re-encode, one row per command (0x4F has no INFO and no row). */
struct view {
	uint8_t cmd;
	rig_rc (*dec)(const struct pylon_frame *f, union pylon_payload *u);
	void (*json)(cJSON *o, const union pylon_payload *u);
	rig_rc (*enc)(struct pylon_frame *f, const union pylon_payload *u);
};

#define VIEW(name, type, field)                                                               \
	static rig_rc name##_d(const struct pylon_frame *f, union pylon_payload *u) { return rig_pylon_##name##_decode(f, &u->field); } \
	static void name##_j(cJSON *o, const union pylon_payload *u) { name##_json_(o, &u->field); }  \
	static rig_rc name##_e(struct pylon_frame *f, const union pylon_payload *u) { return rig_pylon_##name##_encode(f, &u->field); }

#define analog_json_ analog_json
#define alarm_json_ alarm_json
#define sys_param_json_ param_json
#define serial_json_(o, s) cJSON_AddStringToObject((o), "serial", (s)->serial)
#define mfr_json_ mfr_json
#define sys_basic_json_ basic_json
#define sys_analog_json_ sys_analog_json
#define sys_alarm_json_ sys_alarm_json
VIEW(analog, struct pylon_analog, analog)
VIEW(alarm, struct pylon_alarm, alarm)
VIEW(sys_param, struct pylon_sys_param, param)
VIEW(serial, struct pylon_serial, serial)
VIEW(mfr, struct pylon_mfr, mfr)
VIEW(sys_basic, struct pylon_sys_basic, basic)
VIEW(sys_analog, struct pylon_sys_analog, sys_analog)
VIEW(sys_alarm, struct pylon_sys_alarm, sys_alarm)

/* 0x92 carries the command value, 0x63 does not: two rows over one decoder. */
static rig_rc mgmt92_d(const struct pylon_frame *f, union pylon_payload *u) { return rig_pylon_mgmt_decode(f, 1, &u->mgmt); }
static rig_rc mgmt63_d(const struct pylon_frame *f, union pylon_payload *u) { return rig_pylon_mgmt_decode(f, 0, &u->mgmt); }
static void mgmt_j(cJSON *o, const union pylon_payload *u) { mgmt_json(o, &u->mgmt); }
static rig_rc mgmt_e(struct pylon_frame *f, const union pylon_payload *u) { return rig_pylon_mgmt_encode(f, &u->mgmt); }

static const struct view views[] = {
	{ PYLON_CMD_ANALOG,     analog_d,     analog_j,     analog_e },
	{ PYLON_CMD_ALARM,      alarm_d,      alarm_j,      alarm_e },
	{ PYLON_CMD_SYS_PARAM,  sys_param_d,  sys_param_j,  sys_param_e },
	{ PYLON_CMD_MFR_INFO,   mfr_d,        mfr_j,        mfr_e },
	{ PYLON_CMD_MGMT,       mgmt92_d,     mgmt_j,       mgmt_e },
	{ PYLON_CMD_SERIAL,     serial_d,     serial_j,     serial_e },
	{ PYLON_CMD_SYS_BASIC,  sys_basic_d,  sys_basic_j,  sys_basic_e },
	{ PYLON_CMD_SYS_ANALOG, sys_analog_d, sys_analog_j, sys_analog_e },
	{ PYLON_CMD_SYS_ALARM,  sys_alarm_d,  sys_alarm_j,  sys_alarm_e },
	{ PYLON_CMD_SYS_MGMT,   mgmt63_d,     mgmt_j,       mgmt_e },
};

static const struct view *view_of(int cmd)
{
	size_t i;

	for (i = 0; i < N_OF(views); i++)
		if (views[i].cmd == cmd)
			return &views[i];
	return NULL;
}

/* The payload union is 10+ KB: one static scratch, as the JSON side is single-threaded. */
static union pylon_payload scratch;

cJSON *pylon_rs485_frame_json(const struct pylon_frame *f, int cmd)
{
	cJSON *o = cJSON_CreateObject();
	int response = rig_pylon_is_rtn(f->cid2);
	const struct view *v;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", PYLON_RS485_PROTO);
	cJSON_AddStringToObject(o, "kind", response ? "response" : "request");
	if (!response)
		cmd = f->cid2;
	if (cmd >= 0)
		cJSON_AddNumberToObject(o, "cmd", cmd);
	cJSON_AddNumberToObject(o, "address", f->adr);
	cJSON_AddNumberToObject(o, "ver", f->ver);
	if (f->cid1 != PYLON_CID1)
		cJSON_AddNumberToObject(o, "cid1", f->cid1);
	if (!response) {
		if (f->info_len == 1)
			cJSON_AddNumberToObject(o, "command_value", f->info[0]);
		else if (f->info_len)
			json_add_hex(o, "data_hex", f->info, f->info_len);
		return o;
	}
	cJSON_AddNumberToObject(o, "rtn", f->cid2);
	cJSON_AddNumberToObject(o, "info_len", f->info_len);
	v = view_of(cmd);
	if (f->cid2 != PYLON_RTN_OK || !v || f->info_len == 0) {
		if (f->info_len)
			json_add_hex(o, "data_hex", f->info, f->info_len);
		return o;
	}
	{
		rig_rc rc = v->dec(f, &scratch);

		if (rc == RIG_OK) {
			v->json(o, &scratch);
		} else {
			cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
			json_add_hex(o, "data_hex", f->info, f->info_len);
		}
	}
	return o;
}

cJSON *pylon_rs485_wire_json_cmd(const uint8_t *wire, size_t n, int cmd)
{
	static struct pylon_frame f;
	rig_rc rc = rig_pylon_frame_parse(wire, n, &f);

	if (rc != RIG_OK)
		return json_error_object(PYLON_RS485_PROTO, rig_rc_str(rc));
	return pylon_rs485_frame_json(&f, cmd);
}

cJSON *pylon_rs485_wire_json(const uint8_t *wire, size_t n)
{
	return pylon_rs485_wire_json_cmd(wire, n, -1);
}

rig_rc pylon_rs485_frame_rebuild(const struct pylon_frame *f, int cmd, struct pylon_frame *out)
{
	const struct view *v;
	rig_rc rc;

	if (!rig_pylon_is_rtn(f->cid2)) {
		if (f->info_len > 1)
			return RIG_ERR_UNSUPPORTED;
		rig_pylon_request(out, f->adr, f->cid2, f->info_len == 1, f->info_len ? f->info[0] : 0);
		out->ver = f->ver;
		out->cid1 = f->cid1;
		return RIG_OK;
	}
	rig_pylon_response(out, f->adr, f->cid2);
	out->ver = f->ver;
	out->cid1 = f->cid1;
	if (f->info_len == 0)
		return RIG_OK;
	v = view_of(cmd);
	if (f->cid2 != PYLON_RTN_OK || !v)
		return RIG_ERR_UNSUPPORTED;
	rc = v->dec(f, &scratch);
	return rc == RIG_OK ? v->enc(out, &scratch) : rc;
}
