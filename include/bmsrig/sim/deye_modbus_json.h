/*
 * Deye Modbus frames as "decoded frame" JSON objects (docs/architecture.md), in the vocabulary
 * of docs/vectors.md, for bmsdecode, the emulator's -v log and traces.
 */
#ifndef BMSRIG_DEYE_MODBUS_JSON_H
#define BMSRIG_DEYE_MODBUS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/deye_modbus.h"

/*
 * f as one object: {"proto":"deye-modbus","kind":"request"|"response","cmd":function,
 * "address":slave, ...}. FC 0x04 requests add start and count; FC 0x04 responses add
 * registers (every value as sent) and, for the 22 of the block, its fields (a response does
 * not say where it started: a 22-register answer is read as the block Deye asks for);
 * exceptions add exception (the code); FC 0x11 responses add model, sw_version, hw_version
 * (two bytes each, as hex) and serial. A payload its decoder rejects adds "error" and data_hex.
 */
cJSON *deye_mb_frame_json(const struct modbus_frame *f, enum modbus_kind kind);

/* One complete frame of wire bytes, read as a request when it is one, else as a response.
 * Bytes that are neither give {"proto":"deye-modbus","error":"<rig_rc_str>"}. */
cJSON *deye_mb_wire_json(const uint8_t *wire, size_t n);

#endif
