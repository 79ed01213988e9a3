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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_open_until_data),
		cmocka_unit_test(cell_over_limit_opens_and_hysteresis_holds),
		cmocka_unit_test(cell_under_limit_opens),
		cmocka_unit_test(temperature_out_of_range_opens),
		cmocka_unit_test(silence_opens_after_n_polls_and_clears_on_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
