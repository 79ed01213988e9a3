/* Daly frame -> decoded-frame JSON, and the typed round trip (include/bmsrig/sim/daly_json.h). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/daly_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Every typed payload a view can decode into. */
union payload {
	struct daly_pack pack;
	struct daly_cell_range cell_range;
	struct daly_temp_range temp_range;
	struct daly_mos mos;
	struct daly_status status;
	struct daly_cell_frame cells;
	struct daly_temp_frame temps;
	struct daly_balance bal;
	struct daly_faults faults;
	struct daly_flag flag;
	struct daly_raw raw;
	struct daly_rated rated;
	struct daly_layout layout;
	struct daly_totals totals;
	struct daly_info info;
	struct daly_text8 text8;
	struct daly_code_frame code;
	struct daly_cell_limits cell_limits;
	struct daly_pack_limits pack_limits;
	struct daly_current_limits current_limits;
	struct daly_balance_cfg balance_cfg;
};

/* 0xD9 switches discharge, 0xDA charge. */
static const char *fet_key(uint8_t cmd)
{
	return cmd == DALY_CMD_DSG_FET ? "fet_dsg" : "fet_chg";
}

/* ---- reply views: decode, encode from the decoded values, emit JSON ------------------------- */

#define DEC(name, type, field) \
	static rig_rc name##_dec(const struct daly_frame *f, union payload *u) { return rig_daly_##type##_decode(f, &u->field); }
DEC(pack, pack, pack)
DEC(cell_range, cell_range, cell_range)
DEC(temp_range, temp_range, temp_range)
DEC(mos, mos, mos)
DEC(status, status, status)
DEC(cells, cell_frame, cells)
DEC(temps, temp_frame, temps)
DEC(bal, balance, bal)
DEC(faults, faults, faults)
DEC(flag, flag, flag)
DEC(raw, raw, raw)
DEC(rated, rated, rated)
DEC(layout, layout, layout)
DEC(totals, totals, totals)
DEC(info, info, info)
DEC(text8, text8, text8)
DEC(code, code_frame, code)
DEC(cell_limits, cell_limits, cell_limits)
DEC(pack_limits, pack_limits, pack_limits)
DEC(current_limits, current_limits, current_limits)
DEC(balance_cfg, balance_cfg, balance_cfg)

/* Encoders that cannot fail, and those that can, behind one signature. */
#define ENC_VOID(name, type, field) \
	static rig_rc name##_enc(struct daly_frame *f, uint8_t addr, uint8_t cmd, const union payload *u) \
	{ (void)cmd; rig_daly_##type##_encode(f, addr, &u->field); return RIG_OK; }
#define ENC_RC(name, type, field) \
	static rig_rc name##_enc(struct daly_frame *f, uint8_t addr, uint8_t cmd, const union payload *u) \
	{ (void)cmd; return rig_daly_##type##_encode(f, addr, &u->field); }
ENC_RC(pack, pack, pack)
ENC_VOID(cell_range, cell_range, cell_range)
ENC_RC(temp_range, temp_range, temp_range)
ENC_VOID(mos, mos, mos)
ENC_VOID(status, status, status)
ENC_VOID(cells, cell_frame, cells)
ENC_RC(temps, temp_frame, temps)
ENC_VOID(bal, balance, bal)
ENC_VOID(faults, faults, faults)
ENC_VOID(rated, rated, rated)
ENC_VOID(layout, layout, layout)
ENC_VOID(totals, totals, totals)
ENC_RC(info, info, info)
ENC_VOID(text8, text8, text8)
ENC_VOID(code, code_frame, code)
ENC_VOID(cell_limits, cell_limits, cell_limits)
ENC_RC(pack_limits, pack_limits, pack_limits)
ENC_RC(current_limits, current_limits, current_limits)
ENC_VOID(balance_cfg, balance_cfg, balance_cfg)

static rig_rc flag_enc(struct daly_frame *f, uint8_t addr, uint8_t cmd, const union payload *u)
{
	rig_daly_flag_encode(f, addr, cmd, &u->flag);
	return RIG_OK;
}

static rig_rc raw_enc(struct daly_frame *f, uint8_t addr, uint8_t cmd, const union payload *u)
{
	rig_daly_raw_encode(f, addr, cmd, &u->raw);
	return RIG_OK;
}

static void pack_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_pack *p = &u->pack;
	const struct json_num t[] = {
		{ "pack_mv", p->pack_mV }, { "current_ma", p->current_mA },
		{ "soc_permille", p->soc_permille }, { "gather_mv", p->gather_mV },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void cell_range_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_cell_range *r = &u->cell_range;
	const struct json_num t[] = {
		{ "max_cell_mv", r->max_cell_mV }, { "max_cell_index", r->max_cell_index },
		{ "min_cell_mv", r->min_cell_mV }, { "min_cell_index", r->min_cell_index },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void temp_range_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_temp_range *r = &u->temp_range;
	const struct json_num t[] = {
		{ "max_temp_dk", r->max_temp_dK }, { "max_temp_index", r->max_temp_index },
		{ "min_temp_dk", r->min_temp_dK }, { "min_temp_index", r->min_temp_index },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void mos_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_mos *m = &u->mos;
	const struct json_num t[] = {
		{ "chg_dsg_state", m->state }, { "fet_chg", m->chg_fet }, { "fet_dsg", m->dsg_fet },
		{ "life", m->life }, { "remain_mah", m->remain_mAh },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void status_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_status *s = &u->status;
	const struct json_num t[] = {
		{ "cell_count", s->cell_count }, { "ntc_count", s->ntc_count }, { "charger", s->charger },
		{ "load", s->load }, { "dio", s->dio }, { "cycles", s->cycles },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void cells_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	cJSON_AddNumberToObject(o, "frame", u->cells.frame_no);
	json_add_u16_array(o, "cells_mv", u->cells.cell_mV, DALY_CELLS_PER_FRAME);
}

static void temps_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	cJSON_AddNumberToObject(o, "frame", u->temps.frame_no);
	json_add_u16_array(o, "temps_dk", u->temps.temp_dK, DALY_TEMPS_PER_FRAME);
}

static void bal_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	cJSON_AddNumberToObject(o, "bal_mask", (double)u->bal.bal_hi * 4294967296.0 + u->bal.bal_lo);
}

static void faults_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	double raw = 0;

	(void)cmd;
	for (unsigned i = 0; i < DALY_FAULT_BYTES; i++)
		raw = raw * 256.0 + u->faults.bits[i];
	cJSON_AddNumberToObject(o, "prot_raw", raw);
	cJSON_AddNumberToObject(o, "fault_code", u->faults.fault_code);
	cJSON_AddNumberToObject(o, "prot", rig_daly_faults_to_pack_prot(&u->faults));
}

static void flag_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	cJSON_AddNumberToObject(o, cmd == DALY_CMD_SOC_SET ? "result" : fet_key(cmd), u->flag.value);
}

static void raw_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	json_add_hex(o, "data_hex", u->raw.data, DALY_DATA_LEN);
}

static void rated_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct json_num t[] = {
		{ "rated_mah", u->rated.rated_mAh }, { "nominal_cell_mv", u->rated.nominal_cell_mV },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void layout_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	cJSON_AddNumberToObject(o, "boards", u->layout.boards);
	json_add_u8_array(o, "board_cells", u->layout.cells, 3);
	json_add_u8_array(o, "board_ntcs", u->layout.ntc, 3);
}

static void totals_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct json_num t[] = {
		{ "charge_ah", u->totals.charge_Ah }, { "discharge_ah", u->totals.discharge_Ah },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void info_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_info *i = &u->info;
	char date[32];

	(void)cmd;
	cJSON_AddNumberToObject(o, "battery_type", i->battery_type);
	snprintf(date, sizeof date, "%04u-%02u-%02u", (unsigned)i->year, (unsigned)i->month, (unsigned)i->day);
	cJSON_AddStringToObject(o, "production_date", date);
	cJSON_AddNumberToObject(o, "sleep_s", i->sleep_s);
}

static void text8_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	json_add_padded_text(o, "sw_version", u->text8.text, DALY_DATA_LEN);
}

static void code_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	(void)cmd;
	cJSON_AddNumberToObject(o, "frame", u->code.frame_no);
	json_add_padded_text(o, "battery_code", u->code.text, DALY_CODE_PER_FRAME);
}

static void cell_limits_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_cell_limits *l = &u->cell_limits;
	const struct json_num t[] = {
		{ "cell_high_l1_mv", l->high_l1_mV }, { "cell_high_l2_mv", l->high_l2_mV },
		{ "cell_low_l1_mv", l->low_l1_mV }, { "cell_low_l2_mv", l->low_l2_mV },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void pack_limits_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_pack_limits *l = &u->pack_limits;
	const struct json_num t[] = {
		{ "pack_high_l1_mv", l->high_l1_mV }, { "pack_high_l2_mv", l->high_l2_mV },
		{ "pack_low_l1_mv", l->low_l1_mV }, { "pack_low_l2_mv", l->low_l2_mV },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void current_limits_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct daly_current_limits *l = &u->current_limits;
	const struct json_num t[] = {
		{ "dsg_l1_ma", l->dsg_l1_mA }, { "dsg_l2_ma", l->dsg_l2_mA },
		{ "chg_l1_ma", l->chg_l1_mA }, { "chg_l2_ma", l->chg_l2_mA },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

static void balance_cfg_emit(cJSON *o, uint8_t cmd, const union payload *u)
{
	const struct json_num t[] = {
		{ "balance_start_mv", u->balance_cfg.start_mV }, { "balance_delta_mv", u->balance_cfg.delta_mV },
	};

	(void)cmd;
	json_add_nums(o, t, N_OF(t));
}

struct view {
	uint8_t cmd;
	rig_rc (*decode)(const struct daly_frame *f, union payload *u);
	rig_rc (*encode)(struct daly_frame *f, uint8_t addr, uint8_t cmd, const union payload *u);
	void (*emit)(cJSON *o, uint8_t cmd, const union payload *u);
};

#define VIEW(cmd, name) { cmd, name##_dec, name##_enc, name##_emit }
/* What a reply means, per data id (docs/protocols/daly.md §3-§5). */
static const struct view reply_views[] = {
	VIEW(DALY_CMD_PACK, pack), VIEW(DALY_CMD_CELL_RANGE, cell_range),
	VIEW(DALY_CMD_TEMP_RANGE, temp_range), VIEW(DALY_CMD_MOS, mos),
	VIEW(DALY_CMD_STATUS, status), VIEW(DALY_CMD_CELLS, cells), VIEW(DALY_CMD_TEMPS, temps),
	VIEW(DALY_CMD_BALANCE, bal), VIEW(DALY_CMD_FAULTS, faults), VIEW(DALY_CMD_D8, raw),
	VIEW(DALY_CMD_DSG_FET, flag), VIEW(DALY_CMD_CHG_FET, flag), VIEW(DALY_CMD_SOC_SET, flag),
	VIEW(DALY_CMD_RATED, rated), VIEW(DALY_CMD_LAYOUT, layout), VIEW(DALY_CMD_TOTALS, totals),
	VIEW(DALY_CMD_INFO, info), VIEW(DALY_CMD_FIRMWARE, text8), VIEW(DALY_CMD_CODE, code),
	VIEW(DALY_CMD_CELL_LIMITS, cell_limits), VIEW(DALY_CMD_PACK_LIMITS, pack_limits),
	VIEW(DALY_CMD_CURRENT_LIMITS, current_limits), VIEW(DALY_CMD_BALANCE_CFG, balance_cfg),
};

static const struct view *reply_view(uint8_t cmd)
{
	for (size_t i = 0; i < N_OF(reply_views); i++)
		if (reply_views[i].cmd == cmd)
			return &reply_views[i];
	return NULL;
}

/* ---- frame -> JSON ------------------------------------------------------------------------ */

static cJSON *head_json(uint8_t kind_request, uint8_t cmd, uint8_t addr)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "daly");
	cJSON_AddStringToObject(o, "kind", kind_request ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", cmd);
	cJSON_AddNumberToObject(o, "address", addr);
	return o;
}

static void request_json(cJSON *o, const struct daly_frame *f)
{
	struct daly_soc_set s;
	uint8_t fill;

	if (rig_daly_cmd_is_fet(f->cmd)) {
		cJSON_AddNumberToObject(o, fet_key(f->cmd), f->data[0]);
	} else if (f->cmd == DALY_CMD_SOC_SET && rig_daly_soc_set_decode(f, &s) == RIG_OK) {
		char rtc[48];

		cJSON_AddNumberToObject(o, "soc_permille", s.soc_permille);
		snprintf(rtc, sizeof rtc, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)s.year, (unsigned)s.month,
		         (unsigned)s.day, (unsigned)s.hour, (unsigned)s.minute, (unsigned)s.second);
		cJSON_AddStringToObject(o, "rtc", rtc);
	} else if (rig_daly_request_fill(f, &fill) == RIG_OK) {
		cJSON_AddNumberToObject(o, "fill", fill);
	} else {
		json_add_hex(o, "data_hex", f->data, DALY_DATA_LEN);
	}
}

static void response_json(cJSON *o, const struct daly_frame *f)
{
	const struct view *v = reply_view(f->cmd);
	union payload u;
	rig_rc rc;

	if (!v) {
		json_add_hex(o, "data_hex", f->data, DALY_DATA_LEN);
		return;
	}
	rc = v->decode(f, &u);
	if (rc == RIG_OK) {
		v->emit(o, f->cmd, &u);
	} else {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		json_add_hex(o, "data_hex", f->data, DALY_DATA_LEN);
	}
}

cJSON *daly_frame_json(const struct daly_frame *f)
{
	int req = rig_daly_frame_is_request(f);
	cJSON *o = head_json((uint8_t)req, f->cmd, f->addr);

	if (!o)
		return NULL;
	if (req)
		request_json(o, f);
	else
		response_json(o, f);
	return o;
}

cJSON *daly_wire_json(const uint8_t *wire, size_t n)
{
	struct daly_frame f;
	rig_rc rc = rig_daly_frame_parse(wire, n, &f);

	return rc == RIG_OK ? daly_frame_json(&f) : json_error_object("daly", rig_rc_str(rc));
}

/* ---- multi-frame answers ------------------------------------------------------------------ */

cJSON *daly_answer_json(const struct daly_frame *frames, size_t count)
{
	uint8_t cmd, addr;
	cJSON *o, *nums, *slots = NULL;
	uint8_t code[DALY_CODE_FRAMES * DALY_CODE_PER_FRAME];
	size_t code_len = 0;

	if (count == 0)
		return json_error_object("daly", "no frames");
	cmd = frames[0].cmd;
	addr = frames[0].addr;
	if (count == 1 && cmd != DALY_CMD_CELLS && cmd != DALY_CMD_TEMPS && cmd != DALY_CMD_CODE)
		return daly_frame_json(&frames[0]);
	if (cmd != DALY_CMD_CELLS && cmd != DALY_CMD_TEMPS && cmd != DALY_CMD_CODE)
		return json_error_object("daly", "several frames of a single-frame id");
	for (size_t i = 0; i < count; i++)
		if (frames[i].cmd != cmd || frames[i].addr != addr || rig_daly_frame_is_request(&frames[i]))
			return json_error_object("daly", "frames of different ids, addresses or directions");
	o = head_json(0, cmd, addr);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "frames", (double)count);
	nums = cJSON_AddArrayToObject(o, "frame_numbers");
	if (cmd != DALY_CMD_CODE)
		slots = cJSON_AddArrayToObject(o, cmd == DALY_CMD_CELLS ? "cells_mv" : "temps_dk");
	for (size_t i = 0; i < count; i++) {
		union payload u;

		if (cmd == DALY_CMD_CELLS) {
			(void)rig_daly_cell_frame_decode(&frames[i], &u.cells);
			for (unsigned k = 0; slots && k < DALY_CELLS_PER_FRAME; k++)
				cJSON_AddItemToArray(slots, cJSON_CreateNumber(u.cells.cell_mV[k]));
		} else if (cmd == DALY_CMD_TEMPS) {
			(void)rig_daly_temp_frame_decode(&frames[i], &u.temps);
			for (unsigned k = 0; slots && k < DALY_TEMPS_PER_FRAME; k++)
				cJSON_AddItemToArray(slots, cJSON_CreateNumber(u.temps.temp_dK[k]));
		} else {
			(void)rig_daly_code_frame_decode(&frames[i], &u.code);
			for (unsigned k = 0; k < DALY_CODE_PER_FRAME && code_len < sizeof code; k++)
				code[code_len++] = u.code.text[k];
		}
		if (nums)
			cJSON_AddItemToArray(nums, cJSON_CreateNumber(frames[i].data[0]));
	}
	if (cmd == DALY_CMD_CODE)
		json_add_padded_text(o, "battery_code", code, code_len);
	return o;
}

/* ---- typed round trip ---------------------------------------------------------------------- */

static rig_rc request_rebuild(const struct daly_frame *f, struct daly_frame *out)
{
	struct daly_soc_set s;
	struct daly_flag v;
	uint8_t fill;
	rig_rc rc;

	if (rig_daly_cmd_is_fet(f->cmd)) {
		rc = rig_daly_flag_decode(f, &v);
		if (rc == RIG_OK)
			rig_daly_flag_encode(out, f->addr, f->cmd, &v);
		return rc;
	}
	if (f->cmd == DALY_CMD_SOC_SET) {
		rc = rig_daly_soc_set_decode(f, &s);
		return rc != RIG_OK ? rc : rig_daly_soc_set_encode(out, f->addr, &s);
	}
	rc = rig_daly_request_fill(f, &fill);
	if (rc == RIG_OK)
		rig_daly_request_read(out, f->addr, f->cmd, fill);
	return rc;
}

rig_rc daly_frame_rebuild(const struct daly_frame *f, struct daly_frame *out)
{
	const struct view *v;
	union payload u;
	rig_rc rc;

	memset(out, 0, sizeof *out);
	if (rig_daly_frame_is_request(f))
		return request_rebuild(f, out);
	v = reply_view(f->cmd);
	if (!v)
		return RIG_ERR_UNSUPPORTED;
	rc = v->decode(f, &u);
	return rc != RIG_OK ? rc : v->encode(out, f->addr, f->cmd, &u);
}
