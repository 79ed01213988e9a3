#include "jk_ble_check.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/jk_ble_client.h"
#include "bmsrig/sim/jk_ble_json.h"

static void check_cells(const uint8_t *rec)
{
	enum jk_ble_layout layout = rig_jk_ble_layout_detect(rec);
	uint8_t fresh[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c, back;
	struct pack_state ps;

	if (rec[4] != JK_BLE_REC_CELLS || rig_jk_ble_cells_decode(rec, layout, &c) != RIG_OK)
		return;
	rig_jk_ble_record_begin(fresh, JK_BLE_REC_CELLS, rec[5]);
	CHECK(rig_jk_ble_cells_encode(fresh, layout, &c) == RIG_OK);
	rig_jk_ble_record_seal(fresh);
	CHECK(rig_jk_ble_cells_decode(fresh, layout, &back) == RIG_OK);
	CHECK(memcmp(&c, &back, sizeof c) == 0);
	memset(&ps, 0, sizeof ps);
	rig_jk_ble_to_pack_state(&c, layout, &ps);
	CHECK(ps.cell_count <= rig_jk_ble_slots(layout) && ps.temp_count <= JK_BLE_TEMPS_MAX);
}

void fuzz_jk_ble_check_frame(const uint8_t *w, size_t n)
{
	uint8_t out[JK_BLE_RECORD_LEN + 16];
	size_t len = 0;
	cJSON *o = jk_ble_wire_json(w, n);
	int kind, error;
	rig_rc rc;
	struct jk_ble_cmd cmd;

	CHECK(o && cJSON_HasObjectItem(o, "proto"));
	kind = cJSON_HasObjectItem(o, "kind");
	error = cJSON_HasObjectItem(o, "error");
	fuzz_check_json_prints(o, 1);
	cJSON_Delete(o);

	rc = n <= sizeof out ? jk_ble_wire_rebuild(w, n, out, sizeof out, &len) : RIG_ERR_LENGTH;
	if (!kind)
		CHECK(error && rc != RIG_OK);
	else
		CHECK(error == (rc != RIG_OK && rc != RIG_ERR_UNSUPPORTED));
	if (rc == RIG_OK)
		CHECK(len == n && memcmp(out, w, n) == 0);
	if (rig_jk_ble_cmd_parse(w, n, &cmd) == RIG_OK) {
		rig_jk_ble_cmd_encode(&cmd, out);
		CHECK(kind && memcmp(out, w, JK_BLE_CMD_LEN) == 0);
	}
	if (rig_jk_ble_record_check(w, n) == RIG_OK) {
		CHECK(kind);
		check_cells(w);
	}
}
