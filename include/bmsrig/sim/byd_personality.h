/*
 * The BYD PRO 2.5 personality: the pack's BMS on its RS485 port as the Deye-side VBMS reads it
 * (docs/protocols/byd.md), answering from a struct bms at one address on a bus.
 *
 *   read `addr 00 04 01 03 55 AA sum` to our address  -> the 105-byte record, reply_latency_ms
 *                                                        later; truth TRUTH_PACK|CELLS|TEMPS
 *   the same to another address, a reply, anything else -> silence (another pack's business)
 *
 * What the record reports, from the BMS:
 *   pack and battery voltage = pack_mV (the model has one); cells 1..cell_count (at most 16, the
 *   record's slots; the rest 0); current_mA as it is (+ = charging); the 8 temperature slots =
 *   the enabled probes rounded to whole degC, slots beyond them repeating probe 1's reading (no
 *   capture shows what a board without a sensor sends; 25 degC when no probe is enabled); protect = rig_byd_state_from_prot of
 *   the BMS's protections, alarm the same bits (a trip is past the alarm level), fail 0,
 *   others 0; balance = the bleeding cells; battery state charge/discharge by the current's sign,
 *   full at 100 % SOC, idle otherwise; SOC; SOH; discharge count = cycles; total discharge =
 *   cycles x 100 (its unit is not known: read as per-cent SOC summed).
 * Nothing on this wire writes, so the personality holds no settings of its own.
 */
#ifndef BMSRIG_BYD_PERSONALITY_H
#define BMSRIG_BYD_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/byd.h"
#include "bmsrig/sim/personality.h"

struct byd_quirks {
	uint32_t reply_latency_ms;     /* the caller sends the reply this much later */
};

struct byd_personality {
	struct bms *bms;
	struct byd_quirks q;
	uint8_t addr;
	uint32_t requests, replies, ignored;
};

/* 40 ms latency. */
void byd_quirks_defaults(struct byd_quirks *q);
/* address: the pack's on the bus (0 = BYD_ADDR_DEFAULT). */
void byd_personality_init(struct byd_personality *p, struct bms *b, const struct byd_quirks *q,
                          uint8_t address);
/* The record the board would send now. */
void byd_personality_data(const struct byd_personality *p, struct byd_data *d);
/* 1: *reply is the answer (send it reply_latency_ms later). 0: silence. */
int byd_personality_handle(struct byd_personality *p, const struct byd_frame *req, struct byd_frame *reply);

extern const struct personality_ops byd_personality_ops;

#endif
