/* Safety policy v1: the relay opens when a cell is over or under its limit, a temperature is
 * out of range, or the BMS has been silent for too many polls; it closes again only once
 * every value is back inside its limit by the hysteresis and the link is healthy. */
#ifndef BMSRIG_POLICY_H
#define BMSRIG_POLICY_H

#include <stdint.h>
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct policy_cfg {
	uint16_t cell_max_mV, cell_min_mV, cell_hyst_mV;
	uint16_t temp_max_dK, temp_min_dK, temp_hyst_dK;
	uint16_t comm_fail_max;       /* consecutive failed polls that open the relay */
};
/* LFP defaults: 3650/2500 mV +-50, -10..+55 degC +-3 K, 3 silent polls. */
#define POLICY_CFG_LFP { 3650u, 2500u, 50u, 3281u, 2631u, 30u, 3u }

enum policy_reason {
	POLICY_CELL_HIGH = 1u << 0,
	POLICY_CELL_LOW  = 1u << 1,
	POLICY_TEMP_HIGH = 1u << 2,
	POLICY_TEMP_LOW  = 1u << 3,
	POLICY_COMM_LOST = 1u << 4,
	POLICY_NO_DATA   = 1u << 5    /* nothing received yet: the relay starts open */
};

struct policy {
	struct policy_cfg cfg;
	uint8_t relay_closed;
	uint32_t reasons;             /* enum policy_reason bits holding the relay open */
};

void rig_policy_init(struct policy *p, const struct policy_cfg *cfg);
/* s may be NULL when no cycle has succeeded yet. Returns 1 when the relay state changed. */
int rig_policy_update(struct policy *p, const struct pack_state *s, uint16_t comm_fail);

#ifdef __cplusplus
}
#endif

#endif
