/* JBD's register map over the neutral BMS settings (sim/jbd_settings.c): a register write lands
 * in its setting with the register's scale, a setting shows in the register read, refusals
 * change nothing, bits no setting covers survive, and older state files keyed by register
 * load through the map. The BMS logic itself is test_bms.c's, through the settings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		{ 0x38, 0x055C, BMS_SET_SC_THRESHOLD, 78 },           /* RSNS 0, code 5 */
		{ 0x38, 0x8D5C, BMS_SET_SC_THRESHOLD, 155 },          /* RSNS 1, code 5 */
		{ 0x39, 0xF064, BMS_SET_SC_RELEASE, 100 },            /* lo byte */
		{ 0x11, 100, BMS_SET_CYCLE_CAPACITY, 1000 },          /* 10 mAh */
		{ 0x17, 17, BMS_SET_CYCLES, 17 },
		{ 0x2A, 3500, BMS_SET_BALANCE_START, 3500 },
		{ 0x2B, 200, BMS_SET_BALANCE_DELTA, 200 },
		{ 0x2D, 0x0004, BMS_SET_BALANCE_ENABLE, 1 },          /* bit 2 */
		{ 0x2D, 0x0004, BMS_SET_BALANCE_CHG_ONLY, 0 },        /* bit 3 */
		{ 0x2D, 0x0008, BMS_SET_BALANCE_CHG_ONLY, 1 },
		{ 0x2E, 0x0005, BMS_SET_NTC_ENABLE, 5 },
		{ 0x2F, 6, BMS_SET_CELL_COUNT, 6 },
		{ 0x3A, 0x0305, BMS_SET_CHG_OTP_DELAY, 5 },           /* lo byte */
		{ 0x3A, 0x0305, BMS_SET_CHG_UTP_DELAY, 3 },           /* hi byte */
		{ 0x3B, 0x0406, BMS_SET_DSG_OTP_DELAY, 6 },
		{ 0x3B, 0x0406, BMS_SET_DSG_UTP_DELAY, 4 },
		{ 0x3F, 0x0205, BMS_SET_DSG_OC_DELAY, 2 },            /* hi byte */
		{ 0x3F, 0x0205, BMS_SET_DSG_OC_RELEASE, 5 },          /* lo byte */
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

/* The factory settings as JBD's registers carry them, for the two chemistries. */
static void factory_settings_read_in_register_units(void **state)
{
	static const struct {
		enum model_chem chem;
		uint8_t reg;
		uint16_t want;
	} t[] = {
		{ MODEL_CHEM_LFP, 0x10, 10000 },                      /* 100 Ah in 10 mAh */
		{ MODEL_CHEM_LFP, 0x11, 8000 },
		{ MODEL_CHEM_LFP, 0x20, 1460 },                       /* 4 x 3650 mV in 10 mV */
		{ MODEL_CHEM_LFP, 0x24, 3650 },
		{ MODEL_CHEM_LFP, 0x25, 3550 },
		{ MODEL_CHEM_LFP, 0x29, (uint16_t)-10000 },           /* -100 A, stored negative */
		{ MODEL_CHEM_LFP, 0x2E, 0x0003 },
		{ MODEL_CHEM_LFP, 0x2F, 4 },
		{ MODEL_CHEM_LFP, 0x3D, 0x0202 },                     /* cell UV / OV delays 2 s */
		{ MODEL_CHEM_NMC, 0x10, 5000 },                       /* 50 Ah */
		{ MODEL_CHEM_NMC, 0x20, 3400 },                       /* 8 x 4250 mV */
		{ MODEL_CHEM_NMC, 0x24, 4250 },
		{ MODEL_CHEM_NMC, 0x25, 4150 },
		{ MODEL_CHEM_NMC, 0x26, 2800 },
		{ MODEL_CHEM_NMC, 0x27, 3000 },
		{ MODEL_CHEM_NMC, 0x2E, 0x0007 },
		{ MODEL_CHEM_NMC, 0x2F, 8 },
	};
	struct model_cfg c;

	(void)state;
	assert_true(reg(0x2D) & (1u << 2));                       /* balancer on (LFP, setup) */
	model_cfg_defaults(&c);
	c.chem = MODEL_CHEM_NMC;
	c.cells = 8;
	c.capacity_Ah = 50.0;
	c.ntc_count = 3;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (i > 0 && t[i].chem != t[i - 1].chem) {
			assert_int_equal(model_init(&m, &c), RIG_OK);
			assert_int_equal(bms_init(&b, &m), RIG_OK);
		}
		if (reg(t[i].reg) != t[i].want)
			fail_msg("%s 0x%02X = 0x%04X, want 0x%04X", t[i].chem == MODEL_CHEM_LFP ? "LFP" : "NMC",
			         t[i].reg, reg(t[i].reg), t[i].want);
	}
}

/* The registers JBD has end where its map says; a calibration register holds any word. */
static void register_range_edges(void **state)
{
	static const struct { uint8_t reg; rig_rc rc; } t[] = {
		{ 0x0F, RIG_ERR_UNSUPPORTED }, { 0x10, RIG_OK }, { 0x47, RIG_OK },
		{ 0x48, RIG_ERR_UNSUPPORTED }, { 0xAC, RIG_ERR_UNSUPPORTED }, { 0xAD, RIG_OK },
		{ 0xD7, RIG_OK }, { 0xD8, RIG_ERR_UNSUPPORTED },
	};
	uint16_t v;

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (jbd_reg_get(&b, t[i].reg, &v) != t[i].rc)
			fail_msg("get 0x%02X: want %d", t[i].reg, (int)t[i].rc);
	assert_int_equal(jbd_reg_set(&b, 0x0F, 1), RIG_ERR_UNSUPPORTED);
	assert_int_equal(jbd_reg_set(&b, 0xD7, 2981), RIG_OK);   /* calibration */
	assert_int_equal(reg(0xD7), 2981);
}

static void refusals_change_nothing(void **state)
{
	struct bms before;
	char why[80];

	(void)state;
	before = b;
	assert_int_equal(jbd_reg_set(&b, 0x2F, 40), RIG_ERR_ARG);
	assert_int_equal(jbd_reg_set(&b, 0x2F, 0), RIG_ERR_ARG);
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
	assert_int_equal(jbd_reg_set(&b, 0x16, 4242), RIG_OK);   /* serial number, stored only */
	assert_int_equal(jbd_reg_set(&b, 0xB0, 1234), RIG_OK);    /* calibration */
	assert_int_equal(jbd_reg_set(&b, 0x17, 3), RIG_OK);       /* cycles */
	assert_int_equal(reg(0x14), 9);
	bms_factory_reset(&b, &m);
	assert_int_equal(reg(0x14), 2);
	assert_int_equal(reg(0x16), 0);
	assert_int_equal(reg(0xB0), 0);
	assert_int_equal(reg(0x17), 3);                           /* a counter survives */
}

/* A file at a fresh path holding text; the caller unlinks it. */
static void write_tmp(char *path, size_t cap, const char *text)
{
	snprintf(path, cap, "/tmp/bmsrig-jbd-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* State files from before the neutral settings keep their values by register, in the
 * register's units (signed ones signed), and their errors name the register. */
static void older_state_files_load_by_register(void **state)
{
	char path[64], err[256], expect[320];
	struct bms before;

	(void)state;
	write_tmp(path, sizeof path, "{\"bmsrig_bms_state\": 1, \"registers\": {\"0x24\": 3600, "
	          "\"0x29\": -1234}, \"calibration\": {\"0xb0\": 1234}, "
	          "\"strings\": {\"0xa2\": \"SN-42\"}}");
	rig_rc rc = bms_state_load(&b, path, err, sizeof err);
	unlink(path);
	if (rc != RIG_OK)
		fail_msg("%s", err);
	assert_int_equal(bms_setting_get(&b, BMS_SET_CELL_OVP), 3600);
	assert_int_equal(bms_setting_get(&b, BMS_SET_DSG_OC), 12340);      /* -1234 in 10 mA */
	assert_int_equal(reg(0xB0), 1234);
	assert_string_equal(b.str[BMS_TEXT_BARCODE].text, "SN-42");

	/* A bad value after a good one: nothing is applied. */
	before = b;
	write_tmp(path, sizeof path, "{\"bmsrig_bms_state\": 1, \"registers\": {\"0x24\": 3500, "
	          "\"0x2F\": 40}}");
	assert_int_equal(bms_state_load(&b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: register 0x2f: expected 1..32, got 40", path);
	assert_string_equal(err, expect);
	assert_memory_equal(&b, &before, sizeof b);
	unlink(path);

	write_tmp(path, sizeof path, "{\"bmsrig_bms_state\": 1, \"registers\": {\"0x24\": 3600.5}}");
	assert_int_equal(bms_state_load(&b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: register 0x24: expected an integer", path);
	assert_string_equal(err, expect);
	assert_memory_equal(&b, &before, sizeof b);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(register_writes_land_in_settings_with_their_scale, setup),
		cmocka_unit_test_setup(settings_show_in_the_registers, setup),
		cmocka_unit_test_setup(refusals_change_nothing, setup),
		cmocka_unit_test_setup(names_find_their_settings, setup),
		cmocka_unit_test_setup(a_settings_reset_forgets_stored_bits, setup),
		cmocka_unit_test_setup(factory_settings_read_in_register_units, setup),
		cmocka_unit_test_setup(register_range_edges, setup),
		cmocka_unit_test_setup(older_state_files_load_by_register, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
