/*
 * BYD PRO 2.5 RS485 frames as "decoded frame" JSON objects (docs/architecture.md): proto "byd",
 * kind, cmd, address, then the fields in the vocabulary of docs/vectors.md. One mapping for
 * bmsdecode, the emulator's log, the vector tests and traces.
 */
#ifndef BMSRIG_BYD_JSON_H
#define BMSRIG_BYD_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/byd.h"
#include "bmsrig/core/rc.h"

/*
 * f as one object: {"proto":"byd","kind":"request"|"response","cmd":n,"address":n, ...}.
 * Requests with a payload add data_hex. Replies add "result"; a read reply with its record adds
 * pack_mv, battery_mv, cells_mv (all 16 slots) and cell_count (up to the last non-zero slot),
 * current_ma (+ = charging), temps_dk (all 8 slots, whole degC as 0.1 K), others_raw,
 * alarm_raw, prot_raw (the protect word), fail_raw, bal_mask, battery_state, soc_pct,
 * soh_pct, cycles (the discharge count), total_discharge, and the neutral prot (enum pack_prot),
 * fet_chg, fet_dsg the client infers. "error" (rig_rc_str) appears exactly when
 * byd_frame_rebuild fails, with the payload as data_hex. Caller owns the result; NULL only when
 * memory runs out.
 */
cJSON *byd_frame_json(const struct byd_frame *f);

/* One complete frame of wire bytes, parsed and converted as above. Bytes that are not a frame
 * give {"proto":"byd","error":"<rig_rc_str>"} with no "kind". */
cJSON *byd_wire_json(const uint8_t *wire, size_t n);

/*
 * Decodes f into its typed values and builds *out again from only those values with the codec's
 * builders (rig_byd_request_read, rig_byd_response_data, rig_byd_response_error). For any frame
 * it accepts, out encodes to the same bytes as f. RIG_ERR_UNSUPPORTED for frames no builder
 * expresses (a request with a payload, a reply of another length); decoder errors pass through.
 */
rig_rc byd_frame_rebuild(const struct byd_frame *f, struct byd_frame *out);

#endif
