/*
 * libFuzzer: the input as one 300-byte JK BLE record (or a record plus the 8-byte Modbus echo
 * of a JK-PB RS485 reply, or anything else), through rig_jk_ble_record_check, the typed decoders
 * of the layout the record shows, jk_ble_wire_json and jk_ble_wire_rebuild (checks:
 * jk_ble_check.h). A repaired copy (header and sum8 made right) must pass the framing
 * and reach the decoders; its type byte is folded onto 1..3 so that each decoder gets
 * mutated payloads, and it is also checked as each of the three layouts.
 * Seeds: tests/fuzz/corpus/fuzz_jk_ble_record/ (captured records).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jk_ble_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void every_layout(const uint8_t *rec)
{
	for (unsigned l = 0; l < JK_BLE_LAYOUT_COUNT; l++) {
		union {
			struct jk_ble_settings s;
			struct jk_ble_cells c;
		} u;
		uint8_t fresh[JK_BLE_RECORD_LEN];

		rig_jk_ble_record_begin(fresh, rec[4], 0);
		if (rec[4] == JK_BLE_REC_SETTINGS && rig_jk_ble_settings_decode(rec, l, &u.s) == RIG_OK)
			CHECK(rig_jk_ble_settings_encode(fresh, l, &u.s) == RIG_OK);
		if (rec[4] == JK_BLE_REC_CELLS && rig_jk_ble_cells_decode(rec, l, &u.c) == RIG_OK)
			CHECK(rig_jk_ble_cells_encode(fresh, l, &u.c) == RIG_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t w[JK_BLE_RECORD_LEN];

	fuzz_jk_ble_check_frame(data, size);
	if (size < JK_BLE_RECORD_LEN)
		return 0;
	memcpy(w, data, sizeof w);
	w[4] = (uint8_t)(1u + w[4] % 3u);
	rig_jk_ble_record_seal(w);
	CHECK(rig_jk_ble_record_check(w, sizeof w) == RIG_OK);
	fuzz_jk_ble_check_frame(w, sizeof w);
	every_layout(w);
	return 0;
}
