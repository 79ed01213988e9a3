/*
 * Pylontech CAN frames as "decoded frame" JSON objects (docs/architecture.md, docs/vectors.md):
 * {"proto":"pylontech-can","kind":"response"|"request","cmd":ID,"can_id":"351","dlc":N, ...}.
 * The battery's frames are "response" (it answers the inverter's bus), the inverter's 0x305
 * keep-alive "request". One mapping for bmsdecode, the emulator's -v log and the vector tests.
 */
#ifndef BMSRIG_PYLON_CAN_JSON_H
#define BMSRIG_PYLON_CAN_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/core/slcan.h"

/* f as one object with the fields its id carries (a field past a short DLC is left out). An id
 * outside the set gives its data as data_hex, with "error"; NULL only when memory runs out. */
cJSON *pylon_can_frame_json(const struct rig_can_frame *f);

/* Text that names one frame: an slcan line ("t3518...", with or without its '\r') or candump
 * style "ID#DATA" ("351#1402C012C012C201", 3 id digits for 11-bit, 8 for 29-bit), optionally
 * after a candump log's "(time) iface " prefix. RIG_ERR_FRAME / RIG_ERR_LENGTH otherwise. */
rig_rc pylon_can_text_parse(const uint8_t *p, size_t n, struct rig_can_frame *f);

/* pylon_can_text_parse, then pylon_can_frame_json; {"proto":"pylontech-can","error":...} with
 * no "kind" for text that is not a frame. */
cJSON *pylon_can_wire_json(const uint8_t *wire, size_t n);

#endif
