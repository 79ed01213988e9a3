/* JBD's register map over the neutral BMS settings (sim/jbd_settings.c): a register write lands
 * in its setting with the register's scale, a setting shows in the register read, refusals
 * change nothing, and bits no setting covers survive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/sim/jbd_settings.h"

static struct model m;
static struct bms b;

static int setup(void **state)
{
	struct model_cfg c;

	(void)state;
	model_cfg_defaults(&c);          /* 4S LFP 100 Ah, 2 NTC */
	assert_int_equal(model_init(&m, &c), RIG_OK);
	assert_int_equal(bms_init(&b, &m), RIG_OK);
	return 0;
}

static uint16_t reg(uint8_t r)
{
	uint16_t v = 0;
	assert_int_equal(jbd_reg_get(&b, r, &v), RIG_OK);
	return v;
}

static void register_writes_land_in_settings_with_their_scale(void **state)
{
	static const struct {
		uint8_t reg;
		uint16_t raw;
		unsigned id;
		int32_t want;
	} t[] = {
		{ 0x10, 12345, BMS_SET_DESIGN_CAPACITY, 123450 },     /* 10 mAh */
		{ 0x20, 1460, BMS_SET_PACK_OVP, 14600 },              /* 10 mV */
		{ 0x24, 3612, BMS_SET_CELL_OVP, 3612 },
		{ 0x28, 4321, BMS_SET_CHG_OC, 43210 },                /* s16 10 mA */
		{ 0x29, (uint16_t)-1234, BMS_SET_DSG_OC, 12340 },     /* stored negative */
		{ 0x2C, 5, BMS_SET_SHUNT, 500 },                      /* 0.1 mOhm */
		{ 0x18, 3181, BMS_SET_CHG_OTP, 3181 },                /* 0.1 K both */
		{ 0x3D, 0x0305, BMS_SET_CELL_OVP_DELAY, 5 },          /* lo byte */
		{ 0x3D, 0x0305, BMS_SET_CELL_UVP_DELAY, 3 },          /* hi byte */
		{ 0x3E, 0x0A1E, BMS_SET_CHG_OC_DELAY, 10 },
		{ 0x3E, 0x0A1E, BMS_SET_CHG_OC_RELEASE, 30 },
		{ 0x46, 3210, BMS_SET_SOC_10, 3210 },                 /* the 10 % point */
		{ 0x47, 3390, BMS_SET_SOC_100, 3390 },
		{ 0x15, (uint16_t)(25u << 9 | 7u << 5 | 31u), BMS_SET_MFG_YEAR, 2025 },
		{ 0x15, (uint16_t)(25u << 9 | 7u << 5 | 31u), BMS_SET_MFG_MONTH, 7 },
		{ 0x15, (uint16_t)(25u << 9 | 7u << 5 | 31u), BMS_SET_MFG_DAY, 31 },
		{ 0x38, 0x0300, BMS_SET_SC_THRESHOLD, 56 },           /* RSNS 0, code 3 */
		{ 0x38, 0x8700, BMS_SET_SC_THRESHOLD, 200 },          /* RSNS 1, code 7 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(jbd_reg_set(&b, t[i].reg, t[i].raw), RIG_OK);
		if (bms_setting_get(&b, t[i].id) != t[i].want)
			fail_msg("0x%02X = 0x%04X: %s = %d, want %d", t[i].reg, t[i].raw,
			         bms_setting_info(t[i].id)->name, bms_setting_get(&b, t[i].id), t[i].want);
		assert_int_equal(reg(t[i].reg), t[i].raw);        /* and reads back as written */
	}
}

static void settings_show_in_the_registers(void **state)
{
	(void)state;
	assert_int_equal(bms_setting_set(&b, BMS_SET_PACK_UVP, 11200), RIG_OK);
	assert_int_equal(reg(0x22), 1120);
	assert_int_equal(bms_setting_set(&b, BMS_SET_DSG_OC, 50000), RIG_OK);
	assert_int_equal(reg(0x29), (uint16_t)-5000);
	assert_int_equal(bms_setting_set(&b, BMS_SET_DSG_OC_DELAY, 7), RIG_OK);
	assert_int_equal(reg(0x3F), 0x071E);                      /* release (lo) kept */
	/* A value between two steps reads as the nearest the register holds. */
	assert_int_equal(bms_setting_set(&b, BMS_SET_PACK_OVP, 14606), RIG_OK);
	assert_int_equal(reg(0x20), 1461);
	/* The balancer bits follow their settings; SCRL (bit 1), stored only, stays. */
	assert_int_equal(reg(0x2D), 0x000E);
	assert_int_equal(bms_setting_set(&b, BMS_SET_BALANCE_CHG_ONLY, 0), RIG_OK);
	assert_int_equal(reg(0x2D), 0x0006);
	assert_int_equal(jbd_reg_set(&b, 0x2D, 0x0001), RIG_OK);
	assert_int_equal(bms_setting_get(&b, BMS_SET_BALANCE_ENABLE), 0);
	assert_int_equal(reg(0x2D), 0x0001);
	/* A short-circuit threshold the codes do not have reads as the nearest code; the delay
	 * bits (3-6) and the secondary over-current (lo byte) stay as they were. */
	assert_int_equal(reg(0x38), 0x8D5C);
	assert_int_equal(bms_setting_set(&b, BMS_SET_SC_THRESHOLD, 100), RIG_OK);
	assert_int_equal(reg(0x38), 0x0F5C);                      /* RSNS 0, code 7: 100 mV */
	assert_int_equal(bms_setting_set(&b, BMS_SET_SC_THRESHOLD, 150), RIG_OK);
	assert_int_equal(reg(0x38), 0x8D5C);                      /* 155 mV is nearest */
}

static void refusals_change_nothing(void **state)
{
	struct bms before;
	char why[80];

	(void)state;
	before = b;
	assert_int_equal(jbd_reg_set(&b, 0x2F, 40), RIG_ERR_ARG);
	assert_int_equal(jbd_reg_set(&b, 0x10, 0), RIG_ERR_ARG);
	assert_int_equal(jbd_reg_set(&b, 0x29, 5), RIG_ERR_ARG);  /* a discharge limit is negative */
	assert_int_equal(jbd_reg_set(&b, 0x48, 5), RIG_ERR_UNSUPPORTED);
	assert_int_equal(bms_setting_set(&b, BMS_SET_CELL_COUNT, 33), RIG_ERR_ARG);
	assert_int_equal(bms_setting_set(&b, BMS_SET_CHG_OC, 5), RIG_ERR_ARG);
	assert_int_equal(bms_setting_set(&b, BMS_SET_COUNT, 1), RIG_ERR_ARG);
	assert_memory_equal(&b, &before, sizeof b);
	/* Refusals say why in the register's units, or the setting's. */
	assert_int_equal(jbd_reg_check(0x29, 5, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "expected -32768..-1, got 5");
	assert_int_equal(jbd_reg_check(0x2C, 0, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "expected 1..32767, got 0");
	assert_int_equal(bms_setting_check(BMS_SET_CELL_COUNT, 33, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "expected 1..32, got 33");
}

static void names_find_their_settings(void **state)
{
	(void)state;
	assert_int_equal(bms_setting_find("cell_ovp_mV"), BMS_SET_CELL_OVP);
	assert_int_equal(bms_setting_find("soc_100pct_mV"), BMS_SET_SOC_100);
	assert_int_equal(bms_setting_find("cell_ov_mv"), -1);     /* the old JBD-only name */
	for (unsigned i = 0; i < BMS_SET_COUNT; i++)
		assert_int_equal(bms_setting_find(bms_setting_info(i)->name), (int)i);
}

static void a_settings_reset_forgets_stored_bits(void **state)
{
	(void)state;
	assert_int_equal(jbd_reg_set(&b, 0x14, 9), RIG_OK);      /* self-discharge, stored only */
	assert_int_equal(jbd_reg_set(&b, 0xB0, 1234), RIG_OK);    /* calibration */
	assert_int_equal(jbd_reg_set(&b, 0x17, 3), RIG_OK);       /* cycles */
	assert_int_equal(reg(0x14), 9);
	bms_factory_reset(&b, &m);
	assert_int_equal(reg(0x14), 2);
	assert_int_equal(reg(0xB0), 0);
	assert_int_equal(reg(0x17), 3);                           /* a counter survives */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(register_writes_land_in_settings_with_their_scale, setup),
		cmocka_unit_test_setup(settings_show_in_the_registers, setup),
		cmocka_unit_test_setup(refusals_change_nothing, setup),
		cmocka_unit_test_setup(names_find_their_settings, setup),
		cmocka_unit_test_setup(a_settings_reset_forgets_stored_bits, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
