/* Safety policy v1. A limit that holds the relay open is only cleared once the value is back
 * inside it by the hysteresis, so a cell sitting on its limit cannot make the relay chatter. */
#include "bmsrig/core/policy.h"

void rig_policy_init(struct policy *p, const struct policy_cfg *cfg)
{
	p->cfg = *cfg;
	p->relay_closed = 0;
	p->reasons = POLICY_NO_DATA;
}

/* The reason `bit` holds when v crosses `limit`, or (once held) has not come back by `hyst`. */
static uint32_t check_high(uint32_t held, uint32_t bit, uint32_t v, uint32_t limit, uint32_t hyst)
{
	uint32_t clear_at = (held & bit) ? (limit > hyst ? limit - hyst : 0u) : limit;

	return (held & bit) ? (v >= clear_at ? bit : 0u) : (v > limit ? bit : 0u);
}

static uint32_t check_low(uint32_t held, uint32_t bit, uint32_t v, uint32_t limit, uint32_t hyst)
{
	return (held & bit) ? (v <= limit + hyst ? bit : 0u) : (v < limit ? bit : 0u);
}

int rig_policy_update(struct policy *p, const struct pack_state *s, uint16_t comm_fail)
{
	const struct policy_cfg *c = &p->cfg;
	uint32_t held = p->reasons, now = 0;
	uint8_t was = p->relay_closed;
	unsigned i;

	if (!s) {
		now |= POLICY_NO_DATA;
	} else {
		for (i = 0; i < s->cell_count; i++) {
			now |= check_high(held, POLICY_CELL_HIGH, s->cell_mV[i], c->cell_max_mV, c->cell_hyst_mV);
			now |= check_low(held, POLICY_CELL_LOW, s->cell_mV[i], c->cell_min_mV, c->cell_hyst_mV);
		}
		for (i = 0; i < s->temp_count; i++) {
			now |= check_high(held, POLICY_TEMP_HIGH, s->temp_dK[i], c->temp_max_dK, c->temp_hyst_dK);
			now |= check_low(held, POLICY_TEMP_LOW, s->temp_dK[i], c->temp_min_dK, c->temp_hyst_dK);
		}
	}
	if (c->comm_fail_max && comm_fail >= c->comm_fail_max)
		now |= POLICY_COMM_LOST;
	p->reasons = now;
	p->relay_closed = now == 0;
	return p->relay_closed != was;
}
