/*
 * JK "4E 57" frames as "decoded frame" JSON objects (docs/architecture.md): proto "jk", kind, cmd,
 * then the fields in the vocabulary of docs/vectors.md. One mapping for bmsdecode, the
 * emulator's log, the vector tests and traces.
 */
#ifndef BMSRIG_JK_JSON_H
#define BMSRIG_JK_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/jk.h"
#include "bmsrig/core/rc.h"

/*
 * f as one object: {"proto":"jk","kind":"request"|"response","cmd":n,"source":n,"type":n, ...}
 * ("terminal" and "record" only when not 0, as in every capture).
 * Requests add "register" (the data id; 0 = all); writes also "value_len" and the value, as
 * "register_value" (1, 2 or 4 bytes, unsigned as sent) or "data_hex", and the id's own key
 * when the value decodes. Replies with items (cmd 2, 3, 6) add each carried id's key:
 * cells_mv + cell_count (0x79), mos_temp_dk, temps_dk ([0x81, 0x82] as carried), pack_mv,
 * current_ma (+ = charging), soc_pct, ntc_count, cycles, prot_raw (0x8B), status_raw with
 * fet_chg, fet_dsg and bal_on (0x8C), cell_ovp_mv, cell_uvp_mv, design_mah (0xAA x 1000),
 * sw_version, ... (jk_id_key names every id).
 * "data_hex" is a request's bytes after the register that are not a 1/2/4-byte write value,
 * or a reply's information field when it cannot be decoded. "error" (rig_rc_str) appears
 * exactly when the frame cannot be decoded into typed values and rebuilt from them
 * (jk_frame_rebuild fails). Caller owns the result; NULL only when memory runs out.
 */
cJSON *jk_frame_json(const struct jk_frame *f);

/* One complete frame of wire bytes, parsed and converted as above. Bytes that are not a frame
 * give {"proto":"jk","error":"<rig_rc_str>"} with no "kind". */
cJSON *jk_wire_json(const uint8_t *wire, size_t n);

/* The JSON key of an id's value (NULL for an id not in the table). */
const char *jk_id_key(uint8_t id);

/*
 * Decodes f into its typed values and builds *out again from only those values with the codec's
 * builders (jk_request_*, rig_jk_data_encode, rig_jk_response_ack), keeping f's header numbers
 * (terminal, source, type, record). For any frame it accepts, out encodes to the same bytes as
 * f. RIG_ERR_UNSUPPORTED for frames no builder expresses (a read with extra bytes, a password
 * frame other than 00 00, an ack with data); decoder errors pass through.
 */
rig_rc jk_frame_rebuild(const struct jk_frame *f, struct jk_frame *out);

/*
 * Every promise above, checked on one frame the codec accepted (the fuzz targets' oracle, and
 * a capture check for tools): f encodes to bytes that parse back to f; its JSON has proto,
 * kind and cmd, prints as valid UTF-8 and parses back equal, and says "error" exactly when
 * jk_frame_rebuild fails; a rebuilt frame encodes to f's bytes. RIG_OK, or RIG_ERR_STATE
 * naming no more than that a promise broke (RIG_ERR_IO when memory ran out).
 */
rig_rc jk_frame_check(const struct jk_frame *f);

#endif
