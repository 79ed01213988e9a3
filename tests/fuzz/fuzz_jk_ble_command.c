/*
 * libFuzzer: the input as one 20-byte JK BLE command (or anything else), through
 * rig_jk_ble_cmd_parse, jk_ble_wire_json and jk_ble_wire_rebuild (checks: jk_ble_check.h).
 * Mutations rarely keep a sum8 right, so a repaired copy is checked too (header, value length
 * folded into 0..13, sum8): that one must parse, and must rebuild to itself with its padding.
 * Seeds: tests/fuzz/corpus/fuzz_jk_ble_command/ (captured and reference commands).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/sim/jk_ble_json.h"
#include "jk_ble_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t hdr[4] = { 0xAA, 0x55, 0x90, 0xEB };
	uint8_t w[JK_BLE_CMD_LEN], out[JK_BLE_CMD_LEN];
	struct jk_ble_cmd c;
	size_t len;

	fuzz_jk_ble_check_frame(data, size);
	if (size < JK_BLE_CMD_LEN)
		return 0;
	memcpy(w, data, JK_BLE_CMD_LEN);
	memcpy(w, hdr, sizeof hdr);
	w[5] = (uint8_t)(w[5] % (JK_BLE_VALUE_MAX + 1u));
	w[19] = rig_jk_ble_sum8(w, 19);
	CHECK(rig_jk_ble_cmd_parse(w, sizeof w, &c) == RIG_OK);
	CHECK(jk_ble_wire_rebuild(w, sizeof w, out, sizeof out, &len) == RIG_OK);
	CHECK(len == sizeof w && memcmp(out, w, sizeof w) == 0);
	fuzz_jk_ble_check_frame(w, sizeof w);
	return 0;
}
