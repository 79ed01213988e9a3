/* Pylontech CAN frame -> decoded-frame JSON (include/bmsrig/sim/pylon_can_json.h). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/sim/pylon_can_json.h"
#include "bmsrig/core/pylon_can.h"
#include "bmsrig/lib/util_json.h"

#define PROTO "pylontech-can"
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void add_request_bits(cJSON *o, uint8_t req)
{
	static const struct { uint8_t bit; const char *key; } rows[] = {
		{ RIG_INV_CHG_ENABLE, "chg_enable" }, { RIG_INV_DSG_ENABLE, "dsg_enable" },
		{ RIG_INV_FORCE_CHG_1, "force_chg_1" }, { RIG_INV_FORCE_CHG_2, "force_chg_2" },
		{ RIG_INV_FULL_CHG_REQ, "full_chg_req" },
	};
	for (size_t i = 0; i < N_OF(rows); i++)
		cJSON_AddNumberToObject(o, rows[i].key, (req & rows[i].bit) ? 1 : 0);
}

static void add_fields(cJSON *o, const struct rig_can_frame *f, const struct rig_inv_battery *r)
{
	switch (f->id) {
	case PYLON_CAN_ID_LIMITS: {
		struct json_num t[] = { { "cvl_mv", r->cvl_mV }, { "ccl_ma", r->ccl_mA }, { "dcl_ma", r->dcl_mA },
		                        { "dvl_mv", r->dvl_mV } };
		json_add_nums(o, t, f->dlc >= 8 ? 4u : 3u);
		break;
	}
	case PYLON_CAN_ID_SOC: {
		struct json_num t[] = { { "soc_pct", r->soc_pct }, { "soh_pct", r->soh_pct },
		                        { "soc_cpct", r->soc_cpct } };
		json_add_nums(o, t, f->dlc >= 6 ? 3u : 2u);
		break;
	}
	case PYLON_CAN_ID_MEASURE: {
		struct json_num t[] = { { "pack_mv", r->pack_mV }, { "current_ma", r->current_mA },
		                        { "temp_dk", r->temp_dK } };
		json_add_nums(o, t, N_OF(t));
		break;
	}
	case PYLON_CAN_ID_FLAGS: {
		struct json_num t[] = {
			{ "prot_raw", f->data[0] | f->data[1] << 8 }, { "warn_raw", f->data[2] | f->data[3] << 8 },
			{ "prot", r->prot }, { "warn", r->warn },
			{ "system_error", (r->alarm & RIG_INV_ALARM_SYSTEM) ? 1 : 0 },
			{ "comm_alarm", (r->alarm & RIG_INV_ALARM_COMM) ? 1 : 0 },
			{ "module_count", r->module_count },
		};
		json_add_nums(o, t, N_OF(t));
		if (f->dlc >= 7)
			json_add_latin1(o, "tag", f->data + 5, 2);
		break;
	}
	case PYLON_CAN_ID_REQUEST:
		cJSON_AddNumberToObject(o, "request_raw", f->data[0]);
		add_request_bits(o, r->request);
		break;
	case PYLON_CAN_ID_NAME:
		json_add_latin1(o, "manufacturer", (const uint8_t *)r->manufacturer, strlen(r->manufacturer));
		break;
	case PYLON_CAN_ID_ALARMS: {
		struct json_num t[] = { { "prot", r->prot }, { "warn", r->warn } };
		json_add_nums(o, t, N_OF(t));
		break;
	}
	case PYLON_CAN_ID_INFO:
		cJSON_AddNumberToObject(o, "full_mah", r->full_mAh);
		break;
	case PYLON_CAN_ID_CAPACITY:
		cJSON_AddNumberToObject(o, "design_mah", r->design_mAh);
		break;
	default:
		break;
	}
}

cJSON *pylon_can_frame_json(const struct rig_can_frame *f)
{
	struct rig_inv_battery r;
	unsigned have = 0;
	char id[12];
	cJSON *o = cJSON_CreateObject();
	rig_rc rc;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", PROTO);
	cJSON_AddStringToObject(o, "kind", rig_pylon_can_is_keepalive(f) ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f->id);
	snprintf(id, sizeof id, f->ext ? "%08X" : "%03X", (unsigned)f->id);
	cJSON_AddStringToObject(o, "can_id", id);
	cJSON_AddNumberToObject(o, "dlc", f->dlc);
	if (rig_pylon_can_is_keepalive(f)) {
		json_add_hex(o, "data_hex", f->data, f->dlc);
		return o;
	}
	memset(&r, 0, sizeof r);
	rc = rig_pylon_can_decode(f, &r, &have);
	if (rc != RIG_OK) {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		json_add_hex(o, "data_hex", f->data, f->dlc);
		return o;
	}
	add_fields(o, f, &r);
	return o;
}

/* candump "ID#DATA": the id's digit count says 11-bit (3) or 29-bit (8), as in can-utils. */
static rig_rc candump_parse(const uint8_t *p, size_t n, struct rig_can_frame *f)
{
	size_t hash, i;
	uint32_t id = 0;

	for (hash = 0; hash < n && p[hash] != '#'; hash++)
		;
	if (hash == n || (hash != 3 && hash != 8))
		return RIG_ERR_FRAME;
	for (i = 0; i < hash; i++) {
		int d = rig_hex_digit(p[i]);
		if (d < 0)
			return RIG_ERR_FRAME;
		id = id << 4 | (uint32_t)d;
	}
	if (id > (hash == 8 ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
		return RIG_ERR_FRAME;
	memset(f, 0, sizeof *f);
	f->id = id;
	f->ext = hash == 8;
	for (i = hash + 1; i < n; i += 2) {
		int hi, lo;

		if (p[i] == '.') {   /* can-utils allows a dot between bytes */
			i--;
			continue;
		}
		if (i + 1 >= n || (hi = rig_hex_digit(p[i])) < 0 || (lo = rig_hex_digit(p[i + 1])) < 0)
			return RIG_ERR_FRAME;
		if (f->dlc == 8)
			return RIG_ERR_LENGTH;
		f->data[f->dlc++] = (uint8_t)(hi << 4 | lo);
	}
	return RIG_OK;
}

rig_rc pylon_can_text_parse(const uint8_t *p, size_t n, struct rig_can_frame *f)
{
	struct slcan_line line;
	rig_rc rc;

	/* A candump log line: "(1700000000.000000) can0 351#... [R|T]" -> its third word (python-can's
	 * logger adds the direction after it). */
	if (n && p[0] == '(') {
		size_t i = 0, word;
		unsigned spaces = 0;

		while (i < n && spaces < 2)
			if (p[i++] == ' ')
				spaces++;
		for (word = i; i < n && p[i] != ' '; i++)
			;
		p += word;
		n = i - word;
	}
	if (n && p[n - 1] == SLCAN_CR)
		n--;
	if (n && (p[0] == 't' || p[0] == 'T')) {
		rc = rig_slcan_parse(p, n, SLCAN_CR, &line);
		if (rc != RIG_OK)
			return rc;
		if (line.kind != SLCAN_FRAME)
			return RIG_ERR_FRAME;
		*f = line.frame;
		return RIG_OK;
	}
	return candump_parse(p, n, f);
}

cJSON *pylon_can_wire_json(const uint8_t *wire, size_t n)
{
	struct rig_can_frame f;
	rig_rc rc = pylon_can_text_parse(wire, n, &f);

	if (rc != RIG_OK)
		return json_error_object(PROTO, rig_rc_str(rc));
	return pylon_can_frame_json(&f);
}
