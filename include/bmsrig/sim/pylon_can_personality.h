/*
 * The Pylontech low-voltage CAN battery (docs/protocols/pylontech-can.md), seen through a USB
 * slcan adapter: the line carries slcan text. The personality answers the adapter commands a
 * host sends (C, S0-S8, O, L, V, v, N, F, Z, M, m: '\r', or '\a' when refused) and, once the
 * channel is open, writes the whole set every period_ms, 0x351 first, back to back, from
 * bms_inverter_limits (bms_inverter_combine over its peers when several units share the line:
 * unit 0 speaks for all, the others stay silent). A 0x305 frame is the inverter's keep-alive;
 * when none came for keepalive_timeout_ms, on_keepalive_loss says what the battery does.
 */
#ifndef BMSRIG_PYLON_CAN_PERSONALITY_H
#define BMSRIG_PYLON_CAN_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/slcan.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/personality.h"

#define PYLON_CAN_UNITS_MAX RIG_INV_MODULES_MAX

enum pylon_can_on_loss {
	PYLON_CAN_LOSS_KEEP = 0,     /* go on sending, as most packs do */
	PYLON_CAN_LOSS_STOP,         /* send nothing until a 0x305 comes again */
	PYLON_CAN_LOSS_ALARM         /* go on sending, with the communication alarm (0x359 3.3) */
};

struct pylon_can_quirks {
	uint32_t period_ms;              /* the whole set every this long (1000) */
	uint8_t extras;                  /* also 0x35A, 0x35F, 0x379 (0) */
	uint32_t keepalive_timeout_ms;   /* no 0x305 for this long is a loss (5000) */
	uint8_t on_keepalive_loss;       /* enum pylon_can_on_loss (keep) */
};

struct pylon_can_personality {
	struct bms *bms;
	struct pylon_can_quirks q;
	struct slcan_rx rx;
	/* Every unit on the line (peers[0] the master), copied: the peers hook's array lives only
	 * for the call. n_peers 0: alone. */
	const struct bms *peers[PYLON_CAN_UNITS_MAX];
	uint8_t n_peers;
	uint8_t silent;                  /* not unit 0 of its line */
	uint8_t open;                    /* the adapter's channel is open ('O' or 'L') */
	uint8_t bitrate;                 /* the S argument last set (6 = 500 kbit/s) */
	uint8_t heard;                   /* a 0x305 came since the channel opened */
	uint32_t opened_ms, last_keepalive_ms, next_set_ms;
	uint32_t sets_sent, keepalives;
};

/* period 1000 ms, no extras, keep-alive timeout 5000 ms, keep sending on loss. */
void pylon_can_quirks_defaults(struct pylon_can_quirks *q);
/* The record this battery announces now: its own, or its peers' combined. */
void pylon_can_personality_record(const struct pylon_can_personality *p, uint32_t now_ms,
                                  struct rig_inv_battery *out);
/* 1 when the inverter's keep-alive counts as lost at now_ms. */
int pylon_can_keepalive_lost(const struct pylon_can_personality *p, uint32_t now_ms);

extern const struct personality_ops pylon_can_personality_ops;

#endif
