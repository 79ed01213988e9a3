/*
 * Thornwave PowerMon bytes as "decoded frame" JSON (docs/vectors.md), proto "thornwave":
 *   an ATT PDU: {"kind":"request"|"response", "op":opcode, "att":"read_req"|..., "handle":h,
 *     "offset":o (blob requests), "value_len":n (responses), "err_op", "err_code" (errors)};
 *   the 52-byte legacy value: {"kind":"value", "soc_pct", "v1_mv", "v2_mv", "current_ma",
 *     "power_mw", "temp_mc", "energy_mwh", "charge_mah", "uptime_s", "clock" (packed) and
 *     "clock_text" ("2020-08-05 13:10:41"), "peak_ma", "head_hex"};
 *   a COBS-framed monitor frame of the newer firmware (0x00 delimiters optional):
 *     {"kind":"monitor", "fw_bcd", "hw_rev", "time_s", "flags", "v1_mv", "v2_mv", "current_ma",
 *     "power_mw", "charge_mah", "energy_mwh", "temp_mc", "power_status", "soc_pct", "runtime_min"}.
 * Bytes that are none of these: {"proto":"thornwave","error":"<rig_rc_str>"}.
 */
#ifndef BMSRIG_THORNWAVE_JSON_H
#define BMSRIG_THORNWAVE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

cJSON *thornwave_wire_json(const uint8_t *wire, size_t n);

#endif
