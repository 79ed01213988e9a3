/* The inverter's side of the Pylontech CAN link through an slcan adapter: opens the channel
 * (C, S6, O), sends the 0x305 keep-alive once a cycle and waits for a whole set (0x351 to
 * 0x35E, the six frames after one 0x351), which it turns into the pack_state (pack voltage,
 * current, SOC, one temperature, FET states from the 0x35C request bits, protections) and keeps
 * as the last decoded rig_inv_battery with the time it arrived, for the runner. */
#ifndef BMSRIG_PYLON_CAN_CLIENT_H
#define BMSRIG_PYLON_CAN_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pylon_can.h"
#include "bmsrig/core/slcan.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pylon_can_client_step {
	PYLON_CAN_STEP_CLOSE = 0,    /* "C": whatever state the adapter was left in */
	PYLON_CAN_STEP_BITRATE,      /* "S6": 500 kbit/s */
	PYLON_CAN_STEP_OPEN,         /* "O" */
	PYLON_CAN_STEP_KEEPALIVE     /* 0x305, answered by a whole set */
};

struct pylon_can_client {
	struct client_engine eng;    /* first (client.h) */
	struct slcan_rx rx;
	uint8_t step;                /* enum pylon_can_client_step of the request in flight */
	uint8_t opened;              /* C, S6, O went out */
	unsigned have;               /* enum pylon_can_have since the last 0x351 */
	struct rig_inv_battery work; /* the set being collected */
	struct rig_inv_battery last; /* the last whole set */
	uint32_t last_ms;            /* when it arrived (the engine's clock) */
	uint8_t has_last;
	uint32_t sets;               /* whole sets seen */
};

/* set_fets: the Pylontech set has no way to ask for it; the request is dropped. */
CLIENT_API_DECLARE(pylon_can);

/* The last whole set and when it arrived; 0 when none came yet. */
int rig_pylon_can_client_last(const struct pylon_can_client *c, struct rig_inv_battery *out, uint32_t *at_ms);

#ifdef __cplusplus
}
#endif

#endif
