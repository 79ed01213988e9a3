/* Safety policy v1: limits, hysteresis, silence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/policy.h"

static struct pack_state pack4(uint16_t mV)
{
	struct pack_state s;
	unsigned i;

	memset(&s, 0, sizeof s);
	s.cell_count = 4;
	for (i = 0; i < 4; i++)
		s.cell_mV[i] = mV;
	s.temp_count = 2;
	s.temp_dK[0] = s.temp_dK[1] = 2981;   /* 25.0 degC */
	return s;
}

static struct policy fresh(void)
{
	struct policy_cfg cfg = POLICY_CFG_LFP;
	struct policy p;

	rig_policy_init(&p, &cfg);
	return p;
}

static void starts_open_until_data(void **state)
{
	struct policy p = fresh();
	struct pack_state s = pack4(3300);

	(void)state;
	assert_int_equal(p.relay_closed, 0);
	assert_int_equal(rig_policy_update(&p, NULL, 0), 0);
	assert_int_equal(p.reasons, POLICY_NO_DATA);
	assert_int_equal(rig_policy_update(&p, &s, 0), 1);
	assert_int_equal(p.relay_closed, 1);
	assert_int_equal(p.reasons, 0);
}

static void cell_over_limit_opens_and_hysteresis_holds(void **state)
{
	struct policy p = fresh();
	struct pack_state s = pack4(3300);

	(void)state;
	rig_policy_update(&p, &s, 0);
	s.cell_mV[2] = 3650;                        /* at the limit is still fine */
	assert_int_equal(rig_policy_update(&p, &s, 0), 0);
	s.cell_mV[2] = 3651;
	assert_int_equal(rig_policy_update(&p, &s, 0), 1);
	assert_int_equal(p.relay_closed, 0);
	assert_int_equal(p.reasons, POLICY_CELL_HIGH);
	s.cell_mV[2] = 3620;                        /* below the limit, inside the hysteresis */
	assert_int_equal(rig_policy_update(&p, &s, 0), 0);
	assert_int_equal(p.relay_closed, 0);
	s.cell_mV[2] = 3600;                        /* limit - hysteresis: still held */
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.relay_closed, 0);
	s.cell_mV[2] = 3599;
	assert_int_equal(rig_policy_update(&p, &s, 0), 1);
	assert_int_equal(p.relay_closed, 1);
}

static void cell_under_limit_opens(void **state)
{
	struct policy p = fresh();
	struct pack_state s = pack4(3300);

	(void)state;
	rig_policy_update(&p, &s, 0);
	s.cell_mV[0] = 2499;
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.reasons, POLICY_CELL_LOW);
	s.cell_mV[0] = 2550;
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.relay_closed, 0);
	s.cell_mV[0] = 2551;
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.relay_closed, 1);
}

static void temperature_out_of_range_opens(void **state)
{
	struct policy p = fresh();
	struct pack_state s = pack4(3300);

	(void)state;
	s.temp_dK[1] = 3282;                        /* 55.1 degC */
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.reasons, POLICY_TEMP_HIGH);
	s.temp_dK[1] = 2630;                        /* -10.1 degC: high clears? no, by 3 K */
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.reasons, POLICY_TEMP_LOW);
	s.temp_dK[1] = 2700;
	rig_policy_update(&p, &s, 0);
	assert_int_equal(p.reasons, 0);
}

static void silence_opens_after_n_polls_and_clears_on_reply(void **state)
{
	struct policy p = fresh();
	struct pack_state s = pack4(3300);

	(void)state;
	rig_policy_update(&p, &s, 0);
	rig_policy_update(&p, &s, 2);
	assert_int_equal(p.relay_closed, 1);
	assert_int_equal(rig_policy_update(&p, &s, 3), 1);
	assert_int_equal(p.reasons, POLICY_COMM_LOST);
	assert_int_equal(rig_policy_update(&p, &s, 0), 1);
	assert_int_equal(p.relay_closed, 1);
}

/* The policy's rule, value by value, as v1 states it: the reference the extremes-only
 * evaluation must match. */
static uint32_t reference(uint32_t held, const struct policy_cfg *c, const struct pack_state *s)
{
	uint32_t now = 0;
	unsigned i;

	for (i = 0; i < s->cell_count; i++) {
		uint32_t v = s->cell_mV[i];
		if (held & POLICY_CELL_HIGH ? v >= (uint32_t)(c->cell_max_mV - c->cell_hyst_mV) : v > c->cell_max_mV)
			now |= POLICY_CELL_HIGH;
		if (held & POLICY_CELL_LOW ? v <= (uint32_t)(c->cell_min_mV + c->cell_hyst_mV) : v < c->cell_min_mV)
			now |= POLICY_CELL_LOW;
	}
	for (i = 0; i < s->temp_count; i++) {
		uint32_t v = s->temp_dK[i];
		if (held & POLICY_TEMP_HIGH ? v >= (uint32_t)(c->temp_max_dK - c->temp_hyst_dK) : v > c->temp_max_dK)
			now |= POLICY_TEMP_HIGH;
		if (held & POLICY_TEMP_LOW ? v <= (uint32_t)(c->temp_min_dK + c->temp_hyst_dK) : v < c->temp_min_dK)
			now |= POLICY_TEMP_LOW;
	}
	return now;
}

/* Packs whose values straddle every limit and hysteresis band at random places (the highest
 * and lowest anywhere, both out at once, one cell or 32), from every held state: the reasons
 * are those of judging each value on its own. */
static void extremes_decide_as_every_value_would(void **state)
{
	static const uint16_t cell_mV[] = { 2450, 2499, 2500, 2501, 2549, 2550, 2551, 3300,
	                                    3599, 3600, 3601, 3649, 3650, 3651, 3700 };
	static const uint16_t temp_dK[] = { 2600, 2630, 2631, 2632, 2660, 2661, 2662, 2981,
	                                    3250, 3251, 3252, 3280, 3281, 3282, 3300 };
	uint32_t rng = 12345u, held;
	unsigned k, i, differ = 0;

	(void)state;
	for (k = 0; k < 20000u; k++) {
		struct policy p = fresh();
		struct pack_state s = pack4(3300);

		rng = rng * 1103515245u + 12345u;
		held = (rng >> 8) & 0x0Fu;
		s.cell_count = (uint8_t)(1u + (rng >> 16) % PACK_CELLS_MAX);
		s.temp_count = (uint8_t)((rng >> 24) % (PACK_TEMPS_MAX + 1u));
		for (i = 0; i < s.cell_count; i++) {
			rng = rng * 1103515245u + 12345u;
			s.cell_mV[i] = (rng >> 16) % 4u ? 3300 : cell_mV[(rng >> 20) % 15u];
		}
		for (i = 0; i < s.temp_count; i++) {
			rng = rng * 1103515245u + 12345u;
			s.temp_dK[i] = (rng >> 16) % 3u ? 2981 : temp_dK[(rng >> 20) % 15u];
		}
		p.reasons = held;
		rig_policy_update(&p, &s, 0);
		assert_int_equal(p.reasons, reference(held, &p.cfg, &s));
		differ += p.reasons != 0 && p.reasons != held;
	}
	assert_true(differ > 1000u);             /* the draws do reach and leave the limits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_open_until_data),
		cmocka_unit_test(cell_over_limit_opens_and_hysteresis_holds),
		cmocka_unit_test(cell_under_limit_opens),
		cmocka_unit_test(temperature_out_of_range_opens),
		cmocka_unit_test(silence_opens_after_n_polls_and_clears_on_reply),
		cmocka_unit_test(extremes_decide_as_every_value_would),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
