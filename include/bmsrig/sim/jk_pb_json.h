/*
 * JK-PB RS485 frames as "decoded frame" JSON (docs/architecture.md), proto "jk-pb", for
 * bmsdecode, the emulator's -v log and traces.
 *   a record (300 bytes, or 308 with the FC 0x10 reply behind it): the JK BLE decoding
 *     (jk_ble_json.h: layout, cells_mv, pack_mv, ... and modbus_address, modbus_register for
 *     the 308-byte answer);
 *   a Modbus frame, read as a request when it parses as one, else as a response:
 *     {"kind","cmd":function,"address"} and
 *       FC 0x10 request: register, count, data_hex, and trigger ("device_info", "settings",
 *         "cell_info") for the three trigger registers; FC 0x10 response: register, count;
 *       FC 0x03 request: register, count; response: data_hex;
 *       an exception response: exception (the code).
 * Bytes that are none of these give {"proto":"jk-pb","error":"<rig_rc_str>"}.
 */
#ifndef BMSRIG_JK_PB_JSON_H
#define BMSRIG_JK_PB_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

cJSON *jk_pb_wire_json(const uint8_t *wire, size_t n);

#endif
