/* The lookups bmsctl reaches a neutral setting through (tools/bmsctl.c): JBD's register of a
 * setting (sim/jbd_settings.c) and JK's id and unit conversions (sim/jk_personality.c). Each
 * is held to the protocol notes' register and id numbers, and to a write that the map itself
 * then reads back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/sim/jbd_settings.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "bmsrig/sim/jk_personality.h"

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

/* Register numbers from docs/protocols/jbd.md's EEPROM table. */
static void jbd_registers_of_settings(void **state)
{
	(void)state;
	assert_int_equal(jbd_reg_of_setting(BMS_SET_DESIGN_CAPACITY), 0x10);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_PACK_OVP), 0x20);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_CELL_OVP), 0x24);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_CHG_OC), 0x28);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_DSG_OC), 0x29);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_CHG_UTP_DELAY), 0x3A);   /* 0x3A's hi byte */
	assert_int_equal(jbd_reg_of_setting(BMS_SET_MFG_MONTH), 0x15);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_SOC_10), 0x46);
	/* What JBD does not keep: the inverter-side limits. */
	assert_int_equal(jbd_reg_of_setting(BMS_SET_MAX_CHARGE), -1);
	assert_int_equal(jbd_reg_of_setting(BMS_SET_COUNT), -1);
}

/* Every setting JBD maps survives a trip through its register (as bmsctl writes it), and a
 * neighbour in the same register is left as it was. */
static void jbd_every_mapped_setting_round_trips(void **state)
{
	(void)state;
	for (unsigned id = 0; id < BMS_SET_COUNT; id++) {
		int r = jbd_reg_of_setting(id);
		uint16_t raw;
		struct bms copy;
		if (r < 0)
			continue;
		int32_t v = bms_setting_get(&b, id);
		assert_int_equal(jbd_reg_get(&b, (uint8_t)r, &raw), RIG_OK);
		copy = b;
		memset(&copy.set, 0, sizeof copy.set);
		assert_int_equal(jbd_reg_set(&copy, (uint8_t)r, raw), RIG_OK);
		assert_int_equal(bms_setting_get(&copy, id), v);
	}
	/* 0x3A: lo byte charge OT delay, hi byte charge UT delay (docs/protocols/jbd.md). */
	assert_int_equal(bms_setting_set(&b, BMS_SET_CHG_OTP_DELAY, 7), RIG_OK);
	assert_int_equal(bms_setting_set(&b, BMS_SET_CHG_UTP_DELAY, 9), RIG_OK);
	uint16_t raw;
	assert_int_equal(jbd_reg_get(&b, 0x3A, &raw), RIG_OK);
	assert_int_equal(raw, 0x0907);
}

/* JK ids from docs/protocols/jk.md §2.4; units degC, A, Ah on the wire. */
static void jk_ids_and_units(void **state)
{
	uint8_t k = 0;
	(void)state;
	assert_int_equal(jk_setting_id(BMS_SET_CELL_OVP, &k), 0);
	assert_int_equal(k, 0x90);
	assert_int_equal(jk_setting_id(BMS_SET_CHG_OTP, &k), 0);
	assert_int_equal(k, 0xA3);
	assert_int_equal(jk_setting_id(BMS_SET_DESIGN_CAPACITY, &k), 0);
	assert_int_equal(k, 0xAA);
	assert_int_equal(jk_setting_id(BMS_SET_SC_THRESHOLD, &k), -1);
	assert_int_equal(jk_setting_to_jk(0x90, 3650), 3650);             /* mV as mV */
	assert_int_equal(jk_setting_to_jk(0xA3, 3281), 55);               /* 328.1 K: 55 degC */
	assert_int_equal(jk_setting_from_jk(0xA3, 55), 3281);
	assert_int_equal(jk_setting_to_jk(0x97, 100000), 100);            /* dsg OC: A */
	assert_int_equal(jk_setting_from_jk(0xAA, 280), 280000);          /* capacity: Ah */
	/* What bmsctl refuses: a value the unit cannot hold does not come back. */
	assert_int_not_equal(jk_setting_from_jk(0xA3, jk_setting_to_jk(0xA3, 3235)), 3235);
}

/* JK BLE settings words from docs/protocols/jk.md §3.8: word 3 cell OVP in mV, word 19 charge
 * OTP in 0.1 degC, word 11 max charge current in mA, kept by the board in 10 mA. */
static void jk_ble_words_and_units(void **state)
{
	unsigned k = 0;
	(void)state;
	assert_int_equal(jk_ble_setting_index(BMS_SET_CELL_OVP, &k), 0);
	assert_int_equal(k, JK_SET_CELL_OVP_MV);
	assert_int_equal(k, 3);
	assert_int_equal(jk_ble_setting_index(BMS_SET_CHG_OTP, &k), 0);
	assert_int_equal(k, 19);
	assert_int_equal(jk_ble_setting_index(BMS_SET_CELL_OVP_DELAY, &k), -1);
	assert_int_equal(jk_ble_setting_to_jk(19, 3281), 550);            /* 55.0 degC */
	assert_int_equal(jk_ble_setting_from_jk(19, 550), 3281);
	assert_int_equal(jk_ble_setting_to_jk(19, 2531), (uint32_t)-200);  /* -20.0 degC, s32 */
	assert_int_equal(jk_ble_setting_from_jk(19, (uint32_t)-200), 2531);
	assert_int_equal(jk_ble_setting_from_jk(JK_SET_MAX_CHG_MA, 50005), 50010);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(jbd_registers_of_settings, setup),
		cmocka_unit_test_setup(jbd_every_mapped_setting_round_trips, setup),
		cmocka_unit_test_setup(jk_ids_and_units, setup),
		cmocka_unit_test_setup(jk_ble_words_and_units, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
