/*
 * The Thornwave PowerMon personality: a battery monitor with legacy firmware (<= 2.03) as a
 * Bluetooth central sees it (docs/protocols/thornwave.md), over a struct bms whose measurements
 * it reports. The line carries ATT PDUs: a Read Request (0A 15 00) for handle 0x0015 is answered
 * by a Read Response (0B) with the first MTU-1 = 22 bytes of the 52-byte value, a Read Blob
 * Request (0C 15 00 off) by a Read Blob Response (0D) with the next piece. The value is taken at
 * the Read Request and the blobs are served from that snapshot, so one long read is one
 * consistent value. Another handle: Error Response "invalid handle"; an offset past the value:
 * "invalid offset"; bytes that start no request are dropped unanswered.
 *
 * What the value holds: SOC x 2 (the BMS's SOC), V1 = the measured pack voltage, V2 = V1 or
 * the quirk v2_mv, current, power = V1 x I, temperature = the first enabled probe (25 degC with
 * none), the energy and charge meters integrated from V1 and I on every tick since power-on
 * (starting from the quirks energy_mwh and charge_mah), uptime since power-on, the clock
 * (packed, from the quirk clock_start_s, a UNIX time, plus the uptime), the peak |current|.
 * Truth: TRUTH_PACK on the response that carries V1 and the current (offset 0), and TRUTH_TEMPS
 * there too when the BMS has exactly one probe enabled (the monitor has one sensor).
 *
 * Quirk stream (newer firmware, kind thornwave-x): handle 0x0015 answers "invalid handle"; a
 * Write Request of 01 00 to the CCCD 0x0011 (answered 13) subscribes, and from latency_ms later
 * one monitor frame a second is notified on handle 0x0010 as 0x00, COBS, 0x00 in pieces of at
 * most 20 value bytes, the first carrying the truth; a disconnect unsubscribes.
 */
#ifndef BMSRIG_THORNWAVE_PERSONALITY_H
#define BMSRIG_THORNWAVE_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/core/thornwave.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/personality.h"

struct thornwave_quirks {
	uint32_t latency_ms;         /* "latency_ms": request to answer, default 20 */
	uint32_t v2_mv;              /* "v2_mv": the aux input; 0 (default) = wired to V1 */
	uint32_t energy_mwh;         /* "energy_mwh": energy meter at power-on, default 0 */
	uint32_t charge_mah;         /* "charge_mah": charge meter at power-on, default 0 */
	uint32_t clock_start_s;      /* "clock_start_s": the clock at power-on, UNIX seconds
	                              * (default 1767268800, 2026-01-01 12:00:00) */
	uint8_t stream;              /* "stream": 1 = newer firmware (> 2.03): no value at 0x0015,
	                              * monitor frames notified once a second after the client
	                              * writes 01 00 to the CCCD (handle 0x0011) */
};

struct thornwave_personality {
	struct bms *bms;
	struct thornwave_quirks q;
	uint8_t rx[5];               /* a request in assembly */
	uint8_t have;
	uint8_t started;             /* ticked once: the meters run from then */
	uint32_t start_ms, last_ms;
	double energy_mWh, charge_mAh;
	int32_t peak_mA;
	uint8_t snap[TW_VALUE_LEN];  /* the value of the last Read Request */
	uint8_t subscribed;          /* stream: the CCCD says notify */
	uint32_t next_push_ms;
	uint32_t reads, blobs, errors, pushes;
};

void thornwave_quirks_defaults(struct thornwave_quirks *q);
void thornwave_personality_init(struct thornwave_personality *p, struct bms *b, const struct thornwave_quirks *q);
/* The value as the monitor would give it at now_ms. */
void thornwave_personality_value(const struct thornwave_personality *p, uint32_t now_ms, uint8_t out[TW_VALUE_LEN]);
void thornwave_personality_rx(struct thornwave_personality *p, const uint8_t *bytes, size_t n, uint32_t now_ms,
                              const struct reply_sink *sink);
/* The newer firmware's monitor frame at now_ms (51 bytes, a PowerMon with V2). */
size_t thornwave_personality_monitor(const struct thornwave_personality *p, uint32_t now_ms, uint8_t out[TW_MON_LEN]);
/* Integrates the meters up to now_ms, and pushes the stream when subscribed: every model step. */
void thornwave_personality_tick(struct thornwave_personality *p, uint32_t now_ms, const struct reply_sink *sink);

extern const struct personality_ops thornwave_personality_ops;

#endif
