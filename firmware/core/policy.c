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

/* check_values finds a reason's low twin one bit above it. */
typedef char policy_low_bit_follows_high[POLICY_CELL_LOW == POLICY_CELL_HIGH << 1 &&
                                         POLICY_TEMP_LOW == POLICY_TEMP_HIGH << 1 ? 1 : -1];

/* The reasons `high` and `high << 1` (its low twin) for the n values v: each test holds for
 * some value exactly when it holds for the highest (check_high) or the lowest (check_low), so
 * the extremes decide for all, two tests a poll rather than two a value. */
static uint32_t check_values(uint32_t held, uint32_t high, const uint16_t *v, unsigned n,
                             uint32_t max, uint32_t min, uint32_t hyst)
{
	uint32_t lo, hi;
	unsigned i;

	if (!n)
		return 0;
	lo = hi = v[0];
	for (i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return check_high(held, high, hi, max, hyst) | check_low(held, high << 1, lo, min, hyst);
}

int rig_policy_update(struct policy *p, const struct pack_state *s, uint16_t comm_fail)
{
	const struct policy_cfg *c = &p->cfg;
	uint32_t held = p->reasons, now;
	uint8_t was = p->relay_closed;

	if (!s)
		now = POLICY_NO_DATA;
	else
		now = check_values(held, POLICY_CELL_HIGH, s->cell_mV, s->cell_count, c->cell_max_mV,
		                   c->cell_min_mV, c->cell_hyst_mV) |
		      check_values(held, POLICY_TEMP_HIGH, s->temp_dK, s->temp_count, c->temp_max_dK,
		                   c->temp_min_dK, c->temp_hyst_dK);
	if (c->comm_fail_max && comm_fail >= c->comm_fail_max)
		now |= POLICY_COMM_LOST;
	p->reasons = now;
	p->relay_closed = now == 0;
	return p->relay_closed != was;
}
