/*
 * Pylontech RS485 frames as "decoded frame" JSON objects (docs/architecture.md), in the
 * vocabulary of docs/vectors.md. A response does not say which command it answers, so the
 * caller passes the request's CID2 when it knows it (cmd < 0: unknown; then only the frame
 * fields come out: address, rtn, info_len).
 */
#ifndef BMSRIG_PYLON_RS485_JSON_H
#define BMSRIG_PYLON_RS485_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/core/rc.h"

#define PYLON_RS485_PROTO "pylontech-rs485"

/* {"proto":"pylontech-rs485","kind":"request"|"response","cmd":..,"address":..,...}.
 * Requests add command_value (when INFO has one byte) or data_hex. OK responses of a known
 * command add its fields (0x42: module_count and module 1's values flat, every module under
 * "modules"; 0x44 cell_states, temp_states, status_bytes; 0x47, 0x92/0x63 limits; 0x93 serial;
 * 0x51 model, sw_version, manufacturer; 0x60-0x62). A payload that does not decode adds "error"
 * and data_hex. NULL only when memory runs out. */
cJSON *pylon_rs485_frame_json(const struct pylon_frame *f, int cmd);

/* One frame of wire bytes (either the ASCII frame or nothing else), parsed and converted with
 * cmd unknown; {"proto":..,"error":..} for bytes that are not a frame. */
cJSON *pylon_rs485_wire_json(const uint8_t *wire, size_t n);
/* The same with the request's CID2 known (cmd < 0: unknown). */
cJSON *pylon_rs485_wire_json_cmd(const uint8_t *wire, size_t n, int cmd);

/* Decodes f's INFO as the answer (or request) to cmd and builds *out from the decoded values
 * alone with the codec's encoders: out encodes to f's bytes for any frame it accepts.
 * RIG_ERR_UNSUPPORTED for a command without a typed payload. */
rig_rc pylon_rs485_frame_rebuild(const struct pylon_frame *f, int cmd, struct pylon_frame *out);

#endif
