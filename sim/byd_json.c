/* BYD PRO 2.5 frame -> decoded-frame JSON, and the typed round trip (include/bmsrig/sim/byd_json.h). */
#include <string.h>

#include "bmsrig/sim/byd_json.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void record_json(cJSON *o, const struct byd_data *d)
{
	struct pack_state s;
	uint16_t cells[BYD_CELLS], temps[BYD_TEMPS];
	unsigned i, count = 0;

	for (i = 0; i < BYD_CELLS; i++) {
		cells[i] = (uint16_t)d->cell_mV[i];
		if (d->cell_mV[i] != 0)
			count = i + 1;
	}
	for (i = 0; i < BYD_TEMPS; i++)
		temps[i] = (uint16_t)(d->temp_C[i] * 10 + (int)PACK_DK_ZERO_C);
	{
		const struct json_num nums[] = {
			{ "pack_mv", d->pack_mV }, { "battery_mv", d->battery_mV },
			{ "cell_count", count }, { "current_ma", d->current_mA },
			{ "others_raw", d->others }, { "alarm_raw", d->alarm }, { "prot_raw", d->protect },
			{ "fail_raw", d->fail }, { "bal_mask", d->balance },
			{ "battery_state", d->battery_state }, { "soc_pct", d->soc_pct },
			{ "soh_pct", d->soh_pct }, { "cycles", d->discharge_count },
			{ "total_discharge", d->total_discharge },
		};
		json_add_nums(o, nums, N_OF(nums));
	}
	json_add_u16_array(o, "cells_mv", cells, BYD_CELLS);
	if (rig_byd_to_pack_state(d, &s) == RIG_OK) {
		/* Only then are the slots temperatures at all; otherwise the raw words say enough. */
		json_add_u16_array(o, "temps_dk", temps, BYD_TEMPS);
		cJSON_AddNumberToObject(o, "prot", s.prot);
		cJSON_AddNumberToObject(o, "fet_chg", s.fet_chg);
		cJSON_AddNumberToObject(o, "fet_dsg", s.fet_dsg);
	}
}

cJSON *byd_frame_json(const struct byd_frame *f)
{
	cJSON *o = cJSON_CreateObject();
	struct byd_frame back;
	struct byd_data d;
	rig_rc rc;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", "byd");
	cJSON_AddStringToObject(o, "kind", rig_byd_frame_is_request(f) ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f->cmd);
	cJSON_AddNumberToObject(o, "address", f->addr);
	if (!rig_byd_frame_is_request(f) && f->len >= 1) {
		cJSON_AddNumberToObject(o, "result", f->payload[0]);
		if (rig_byd_data_decode(f, &d) == RIG_OK)
			record_json(o, &d);
	}
	/* "error" means exactly: not fully understood, i.e. no typed round trip. */
	rc = byd_frame_rebuild(f, &back);
	if (rc != RIG_OK) {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		json_add_hex(o, "data_hex", f->payload, f->len);
	}
	return o;
}

cJSON *byd_wire_json(const uint8_t *wire, size_t n)
{
	struct byd_frame f;
	rig_rc rc = rig_byd_frame_parse(wire, n, &f);

	return rc == RIG_OK ? byd_frame_json(&f) : json_error_object("byd", rig_rc_str(rc));
}

rig_rc byd_frame_rebuild(const struct byd_frame *f, struct byd_frame *out)
{
	struct byd_data d;
	rig_rc rc;

	if (rig_byd_frame_is_request(f)) {
		if (f->len != 0)
			return RIG_ERR_UNSUPPORTED;
		rig_byd_request_read(out, f->addr);
		out->cmd = f->cmd;
		return RIG_OK;
	}
	rc = rig_byd_data_decode(f, &d);
	if (rc == RIG_ERR_STATUS && f->len == 1) {
		rig_byd_response_error(out, f->addr, f->payload[0]);
		return RIG_OK;
	}
	if (rc != RIG_OK)
		return rc == RIG_ERR_STATUS ? RIG_ERR_UNSUPPORTED : rc;
	rig_byd_response_data(out, f->addr, &d);
	return RIG_OK;
}
