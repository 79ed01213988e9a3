/*
 * JK BLE frames as "decoded frame" JSON (docs/architecture.md) in the vocabulary of
 * docs/vectors.md, with proto "jk-ble": one mapping for bmsdecode, the emulator's log,
 * traces and the vector tests.
 */
#ifndef BMSRIG_JK_BLE_JSON_H
#define BMSRIG_JK_BLE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/rc.h"

/*
 * One frame of wire bytes:
 *   20-byte command: {"proto":"jk-ble","kind":"request","cmd":reg,"value_len":n,"value":v}
 *     (kind "response" for the BMS's ack, register 0xC8; "value" for 1..4 value bytes as a
 *     little-endian number, "value_hex" for longer values).
 *   300-byte record: {"proto":"jk-ble","kind":"response","cmd":type,"counter":c, ...} with
 *     "layout" and the fields of settings (0x01) and cell-info (0x02) records, the texts of
 *     device info (0x03); other types carry no fields. A record followed by the 8-byte Modbus
 *     FC 0x10 echo of a JK-PB RS485 trigger (docs/protocols/jk.md §5) adds modbus_address, modbus_register.
 *     Cell info: cells_mv lists the cells of the cell mask (JK04: the non-zero slots, floats
 *     rounded to the nearest mV); temps_dk is [T1, T2]; 32S adds temps_ext_dk, the sensors at
 *     offsets 254, 256, 258 in that order, whose names the sources dispute (docs/protocols/jk.md §9.2).
 * Bytes that are not a frame give {"proto":"jk-ble","error":"<rig_rc_str>"} with no "kind";
 * a frame whose payload its decoder rejects carries "error" beside kind and cmd.
 * The caller owns the result (cJSON_Delete); NULL only when memory runs out.
 */
cJSON *jk_ble_wire_json(const uint8_t *wire, size_t n);

/*
 * The typed round trip the vector tests and fuzz targets check: decodes the frame into its
 * typed struct and builds the wire bytes again from it with the codec's builders and encoders.
 * Bytes no decoder models stay as they were: a command's padding after its value, and in a
 * record every byte outside the layout's field table (it starts from the record with those
 * fields cleared, rig_jk_ble_record_clear_fields; a JK04 float keeps its sub-mV bits while it still
 * rounds to the decoded value). For any frame it accepts, out equals wire.
 * RIG_ERR_UNSUPPORTED for record types without a decoder; decoder errors pass through.
 */
rig_rc jk_ble_wire_rebuild(const uint8_t *wire, size_t n, uint8_t *out, size_t cap, size_t *out_len);

#endif
