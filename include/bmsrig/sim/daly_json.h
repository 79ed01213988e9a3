/*
 * Daly frames as "decoded frame" JSON objects (docs/architecture.md): proto, kind, cmd, address,
 * then the fields in the vocabulary of docs/vectors.md. One mapping for bmsdecode,
 * the emulator's -v log, the vector tests and traces, so they can never disagree about a name.
 */
#ifndef BMSRIG_DALY_JSON_H
#define BMSRIG_DALY_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/core/daly.h"
#include "bmsrig/core/rc.h"

/*
 * f as one object: {"proto":"daly","kind":"request"|"response","cmd":id,"address":byte1, ...}.
 * Requests: reads add "fill" (the data byte they repeat) or data_hex; 0xD9/0xDA add fet_dsg /
 * fet_chg (d0); 0x21 adds soc_permille and "rtc" ("YYYY-MM-DD hh:mm:ss").
 * Responses add their id's fields: 0x90 pack_mv current_ma soc_permille gather_mv; 0x91/0x92
 * extremes; 0x93 chg_dsg_state fet_chg fet_dsg remain_mah life; 0x94 cell_count ntc_count
 * cycles charger load dio; 0x95 frame cells_mv (3 slots); 0x96 frame temps_dk (7 slots);
 * 0x97 bal_mask; 0x98 prot_raw (d0..d6 big-endian) fault_code prot (PACK_PROT_* bits);
 * 0xD9/0xDA fet_dsg/fet_chg; 0x21 result; the 0x50-0x5F settings (names in daly_json.c).
 * Other ids: data_hex. Reserved bytes are never shown: they mean nothing (docs/protocols/daly.md §2.4).
 * The caller owns the result (cJSON_Delete); NULL only when memory runs out.
 */
cJSON *daly_frame_json(const struct daly_frame *f);

/* One complete 13-byte frame of wire bytes, parsed and converted as above. Bytes that are not
 * a frame give {"proto":"daly","error":"<rig_rc_str>"} with no "kind". */
cJSON *daly_wire_json(const uint8_t *wire, size_t n);

/*
 * The frames of one multi-frame answer (0x95, 0x96, 0x57), in the order they came, as one
 * object: cells_mv / temps_dk with every slot of every frame (padding and leftovers included:
 * cut it with 0x94's counts), or battery_code; plus "frames" (count) and "frame_numbers".
 * One frame of any other id gives daly_frame_json. Frames that are not one answer (mixed ids
 * or addresses, requests, several frames of a single-frame id) give {"proto":"daly","error":..}.
 */
cJSON *daly_answer_json(const struct daly_frame *frames, size_t count);

/*
 * Decodes f's payload into its typed struct and builds *out again from only those values,
 * with the codec's own builders and encoders. For any frame it accepts, out encodes to the
 * same bytes as f: the round trip the vector tests and fuzz targets check.
 * RIG_ERR_UNSUPPORTED for frames no builder can express: a read request whose data bytes are
 * not all one fill byte, a reply of an id the codec does not map.
 */
rig_rc daly_frame_rebuild(const struct daly_frame *f, struct daly_frame *out);

#endif
