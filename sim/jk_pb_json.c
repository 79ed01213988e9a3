/* JK-PB frames -> decoded-frame JSON (include/bmsrig/sim/jk_pb_json.h). */
#include <string.h>

#include "bmsrig/core/jk_pb.h"
#include "bmsrig/lib/util_json.h"
#include "bmsrig/sim/jk_ble_json.h"
#include "bmsrig/sim/jk_pb_json.h"

#define PROTO "jk-pb"

static const char *trigger_name(uint8_t type)
{
	switch (type) {
	case JK_BLE_REC_DEVICE:   return "device_info";
	case JK_BLE_REC_SETTINGS: return "settings";
	case JK_BLE_REC_CELLS:    return "cell_info";
	default:                  return NULL;
	}
}

static void add_fields(cJSON *o, const struct modbus_frame *f, enum modbus_kind kind)
{
	const uint8_t *bytes;
	uint16_t reg, count;
	size_t n;
	rig_rc rc = RIG_OK;

	if (kind == MODBUS_RESPONSE && (f->fc & MODBUS_FC_EXCEPTION)) {
		cJSON_AddNumberToObject(o, "exception", f->data[0]);
		return;
	}
	if (f->fc == JK_PB_FC_WRITE && kind == MODBUS_REQUEST) {
		rc = rig_jk_pb_write_decode(f, &reg, &count, &bytes);
		if (rc == RIG_OK) {
			const char *t = count == 1 ? trigger_name(rig_jk_pb_trigger_type(reg)) : NULL;

			cJSON_AddNumberToObject(o, "register", reg);
			cJSON_AddNumberToObject(o, "count", count);
			json_add_hex(o, "data_hex", bytes, 2u * count);
			if (t)
				cJSON_AddStringToObject(o, "trigger", t);
		}
	} else if (f->fc == JK_PB_FC_WRITE) {
		rc = rig_jk_pb_echo_decode(f, &reg, &count);
		if (rc == RIG_OK) {
			cJSON_AddNumberToObject(o, "register", reg);
			cJSON_AddNumberToObject(o, "count", count);
		}
	} else if (f->fc == JK_PB_FC_READ && kind == MODBUS_REQUEST) {
		rc = rig_jk_pb_read_decode(f, &reg, &count);
		if (rc == RIG_OK) {
			cJSON_AddNumberToObject(o, "register", reg);
			cJSON_AddNumberToObject(o, "count", count);
		}
	} else if (f->fc == JK_PB_FC_READ) {
		rc = rig_jk_pb_read_bytes(f, &bytes, &n);
		if (rc == RIG_OK)
			json_add_hex(o, "data_hex", bytes, n);
	} else {
		json_add_hex(o, "data_hex", f->data, f->len);
	}
	if (rc != RIG_OK) {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		json_add_hex(o, "data_hex", f->data, f->len);
	}
}

cJSON *jk_pb_wire_json(const uint8_t *wire, size_t n)
{
	struct modbus_frame f;
	enum modbus_kind kind = MODBUS_REQUEST;
	rig_rc rc;
	cJSON *o;

	if (n >= 4 && wire[0] == 0x55 && wire[1] == 0xAA) {
		o = jk_ble_wire_json(wire, n);
		if (o)
			cJSON_ReplaceItemInObject(o, "proto", cJSON_CreateString(PROTO));
		return o;
	}
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", PROTO);
	rc = rig_modbus_frame_parse(wire, n, kind, &f);
	if (rc != RIG_OK) {
		rig_rc as_request = rc;

		kind = MODBUS_RESPONSE;
		rc = rig_modbus_frame_parse(wire, n, kind, &f);
		/* A frame of the right length in one direction whose CRC fails: say that. */
		if (rc != RIG_OK && as_request == RIG_ERR_CHECKSUM)
			rc = as_request;
	}
	if (rc != RIG_OK) {
		cJSON_AddStringToObject(o, "error", rig_rc_str(rc));
		return o;
	}
	cJSON_AddStringToObject(o, "kind", kind == MODBUS_REQUEST ? "request" : "response");
	cJSON_AddNumberToObject(o, "cmd", f.fc);
	cJSON_AddNumberToObject(o, "address", f.addr);
	add_fields(o, &f, kind);
	return o;
}
