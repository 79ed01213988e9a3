/*
 * JBD frames as "decoded frame" JSON objects (docs/architecture.md): proto, kind, cmd, then the
 * fields in the vocabulary of docs/vectors.md. One mapping for bmsdecode, the
 * emulator's -v log, the vector tests and traces, so they can never disagree about a name.
 */
#ifndef BMSRIG_JBD_JSON_H
#define BMSRIG_JBD_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/rc.h"

/*
 * f as one object: {"proto":"jbd","kind":"request"|"response","cmd":reg, ...}.
 * Requests add rw ("read"/"write") and register_value (2 data bytes, unsigned as sent) or
 * data_hex (any other length, uppercase); string writes (0xA0-0xA2) also the decoded text.
 * Responses add status; an OK response with data adds its register's fields (0x03, 0x04, 0x05,
 * 0xA0-0xA2, 0xAA, EEPROM 0x10-0x47, 0xFA); data of other registers or of an error status
 * comes as data_hex. A payload its decoder rejects adds "error" (rig_rc_str) and data_hex,
 * so an object carries "error" exactly when something in it was not understood.
 * The caller owns the result (cJSON_Delete); NULL only when memory runs out.
 */
cJSON *jbd_frame_json(const struct jbd_frame *f);

/* One complete frame of wire bytes, parsed and converted as above. Bytes that are not a frame
 * give {"proto":"jbd","error":"<rig_rc_str>"} with no "kind". */
cJSON *jbd_wire_json(const uint8_t *wire, size_t n);

/*
 * Decodes f's payload into its typed struct and builds *out again from only those values,
 * with the codec's own builders and encoders (jbd_request_*, jbd_response_*, jbd_*_encode).
 * For any frame it accepts, out encodes to the same bytes as f: the round trip the vector
 * tests and fuzz targets check. RIG_ERR_UNSUPPORTED for frames no builder can express (data
 * on an error status, a register this module does not map); decoder errors pass through.
 */
rig_rc jbd_frame_rebuild(const struct jbd_frame *f, struct jbd_frame *out);

#endif
