/* The battery's word to an inverter (sim/bms_limits.c) on real BMS and model objects: every
 * rule of docs/bmssim.md "Limits to the inverter" with its numbers. A 16S LFP 100 Ah pack:
 * max charge / discharge 50 A (0.5 C), taper 3450 -> 3650 mV, DCL falling over 2800 -> 2500 mV,
 * CVL 3550 and DVL 3000 mV a cell, 5 K derating bands, force-charge at 9 % / 13 %. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/bms_limits.h"

struct rig { struct model m; struct bms b; };

/* A pack without spread, self-discharge or probe offsets, so what a test sets is what the BMS
 * reads. */
static void rig_make(struct rig *r, unsigned cells, double cap_Ah)
{
	struct model_cfg c;
	model_cfg_defaults(&c);
	c.chem = MODEL_CHEM_LFP;
	c.cells = (uint8_t)cells;
	c.capacity_Ah = cap_Ah;
	c.ntc_count = 2;
	c.soc_sigma_pct = c.capacity_sigma = c.resistance_sigma = 0.0;
	c.self_discharge_pct_month = 0.0;
	c.ntc_offset_C = 0.0;
	c.ambient_C = 25.0;
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
}

static void put(struct bms *b, unsigned id, int64_t value)
{
	assert_int_equal(bms_setting_set(b, id, value), RIG_OK);
}

/* One short step at rest: the BMS measures what the test set up, no protection delay runs out. */
static struct rig_inv_battery look(struct rig *r)
{
	struct rig_inv_battery rec;
	bms_step(&r->b, &r->m, 0.1, 0.0);
	bms_inverter_limits(&r->b, &rec);
	return rec;
}

/* The BMS reads cell 1 at mV (a forced reading: the model stays at rest). */
static void cell_reads(struct rig *r, uint16_t mV)
{
	r->b.faults.force_mask = 1u;
	r->b.faults.force_mV[0] = mV;
}

static void pack_at_C(struct rig *r, double C)
{
	r->m.temp_C = C;
	r->m.ambient_C = C;
}

static void defaults_at_rest(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, 16, 100.0);
	assert_int_equal(bms_setting_get(&r.b, BMS_SET_MAX_CHARGE), 50000);
	assert_int_equal(bms_setting_get(&r.b, BMS_SET_MAX_DISCHARGE), 50000);
	assert_int_equal(bms_setting_find("charge_voltage_cell_mV"), BMS_SET_CHARGE_VOLTAGE);
	struct rig_inv_battery rec = look(&r);
	assert_int_equal(rec.cvl_mV, 56800);      /* 16 x 3550 */
	assert_int_equal(rec.dvl_mV, 48000);      /* 16 x 3000 */
	assert_int_equal(rec.ccl_mA, 50000);
	assert_int_equal(rec.dcl_mA, 50000);
	assert_int_equal(rec.request, RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE);
	assert_int_equal(rec.soc_pct, 50);
	assert_int_equal(rec.soc_cpct, 5000);
	assert_int_equal(rec.soh_pct, 100);
	assert_int_equal(rec.temp_dK, 2981);
	assert_int_equal(rec.prot, 0);
	assert_int_equal(rec.warn, 0);
	assert_int_equal(rec.alarm, 0);
	assert_int_equal(rec.module_count, 1);
	assert_int_equal(rec.design_mAh, 100000);
	assert_string_equal(rec.manufacturer, "PYLON");
}

static void ccl_tapers_to_zero_at_ovp(void **state)
{
	(void)state;
	static const struct { uint16_t cell_mV; int32_t ccl_mA; } pts[] = {
		{ 3400, 50000 }, { 3450, 50000 }, { 3500, 37500 }, { 3550, 25000 }, { 3600, 12500 },
		{ 3649, 250 }, { 3650, 0 },
	};
	struct rig r;
	rig_make(&r, 16, 100.0);
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		cell_reads(&r, pts[i].cell_mV);
		struct rig_inv_battery rec = look(&r);
		if (rec.ccl_mA != pts[i].ccl_mA)
			fail_msg("cell %u mV: CCL %d, expected %d", pts[i].cell_mV, rec.ccl_mA, pts[i].ccl_mA);
		assert_int_equal(rec.dcl_mA, 50000);
		assert_int_equal(!!(rec.request & RIG_INV_CHG_ENABLE), pts[i].ccl_mA > 0);
	}
	/* The taper follows its setting. */
	put(&r.b, BMS_SET_CHARGE_TAPER, 3550);
	cell_reads(&r, 3600);
	assert_int_equal(look(&r).ccl_mA, 25000);
}

static void dcl_falls_near_uvp(void **state)
{
	(void)state;
	static const struct { uint16_t cell_mV; int32_t dcl_mA; } pts[] = {
		{ 2900, 50000 }, { 2800, 50000 }, { 2650, 25000 }, { 2560, 10000 }, { 2500, 0 }, { 2400, 0 },
	};
	struct rig r;
	rig_make(&r, 16, 100.0);
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		cell_reads(&r, pts[i].cell_mV);
		struct rig_inv_battery rec = look(&r);
		if (rec.dcl_mA != pts[i].dcl_mA)
			fail_msg("cell %u mV: DCL %d, expected %d", pts[i].cell_mV, rec.dcl_mA, pts[i].dcl_mA);
		assert_int_equal(rec.ccl_mA, 50000);
		assert_int_equal(!!(rec.request & RIG_INV_DSG_ENABLE), pts[i].dcl_mA > 0);
	}
}

static void temperature_windows(void **state)
{
	(void)state;
	static const struct { double C; int32_t ccl_mA, dcl_mA; } pts[] = {
		{ -25.0, 0, 0 },           /* below dsg UTP -20 */
		{ -18.0, 0, 20000 },       /* 2 K above dsg UTP, 5 K band */
		{ -1.0, 0, 50000 },        /* no charging below 0 degC */
		{ 0.0, 0, 50000 },
		{ 2.0, 20000, 50000 },     /* 2 K into the 5 K band above 0 degC */
		{ 25.0, 50000, 50000 },
		{ 52.0, 30000, 50000 },    /* 3 K below chg OTP 55 */
		{ 55.0, 0, 50000 },
		{ 58.0, 0, 20000 },        /* 2 K below dsg OTP 60 */
		{ 60.0, 0, 0 },
	};
	struct rig r;
	rig_make(&r, 16, 100.0);
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		pack_at_C(&r, pts[i].C);
		struct rig_inv_battery rec = look(&r);
		if (rec.ccl_mA != pts[i].ccl_mA || rec.dcl_mA != pts[i].dcl_mA)
			fail_msg("%.1f degC: CCL %d DCL %d, expected %d %d", pts[i].C, rec.ccl_mA, rec.dcl_mA,
			         pts[i].ccl_mA, pts[i].dcl_mA);
	}
	/* A charge UTP above 0 degC wins over 0 degC. */
	put(&r.b, BMS_SET_CHG_UTP, 2781);            /* 5 degC */
	put(&r.b, BMS_SET_CHG_UTP_RELEASE, 2831);
	pack_at_C(&r, 8.0);
	assert_int_equal(look(&r).ccl_mA, 30000);
	pack_at_C(&r, 4.0);
	assert_int_equal(look(&r).ccl_mA, 0);
}

static void protections_fets_and_inhibit_zero_their_direction(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, 16, 100.0);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_CHG), RIG_OK);
	struct rig_inv_battery rec = look(&r);
	assert_int_equal(rec.ccl_mA, 0);
	assert_int_equal(rec.dcl_mA, 50000);
	assert_int_equal(rec.request, RIG_INV_DSG_ENABLE);
	assert_int_equal(rec.prot, PACK_PROT_SW_LOCK);
	assert_int_equal(bms_set_inhibit(&r.b, 0), RIG_OK);

	/* Charge over-current: trips after its 10 s at 101 A, then CCL is 0 though the cells are fine. */
	for (unsigned i = 0; i < 120; i++)
		bms_step(&r.b, &r.m, 0.1, 101.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.prot & PACK_PROT_CHG_OC, PACK_PROT_CHG_OC);
	assert_int_equal(rec.ccl_mA, 0);
	assert_int_equal(rec.dcl_mA, 50000);

	/* Cell under-voltage: a cell at 2400 mV for 3 s. */
	rig_make(&r, 16, 100.0);
	cell_reads(&r, 2400);
	for (unsigned i = 0; i < 30; i++)
		bms_step(&r.b, &r.m, 0.1, 0.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.prot, PACK_PROT_CELL_UV);
	assert_int_equal(rec.dcl_mA, 0);
	assert_int_equal(rec.ccl_mA, 50000);
	assert_int_equal(rec.request, RIG_INV_CHG_ENABLE);
}

static void force_charge_requests_follow_soc(void **state)
{
	(void)state;
	static const struct { uint32_t soc; uint8_t req; } pts[] = {
		{ 0, RIG_INV_FORCE_CHG_1 }, { 5, RIG_INV_FORCE_CHG_1 }, { 9, RIG_INV_FORCE_CHG_1 },
		{ 10, RIG_INV_FORCE_CHG_2 }, { 13, RIG_INV_FORCE_CHG_2 }, { 14, 0 }, { 50, 0 },
	};
	struct rig r;
	rig_make(&r, 16, 100.0);
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		bms_set_remain_mAh(&r.b, pts[i].soc * 1000u);
		struct rig_inv_battery rec;
		bms_inverter_limits(&r.b, &rec);
		if ((rec.request & (RIG_INV_FORCE_CHG_1 | RIG_INV_FORCE_CHG_2)) != pts[i].req)
			fail_msg("SOC %u %%: request 0x%02x", pts[i].soc, rec.request);
	}
	put(&r.b, BMS_SET_FORCE_CHARGE_1, 20);
	bms_set_remain_mAh(&r.b, 14000);
	struct rig_inv_battery rec;
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.request & RIG_INV_FORCE_CHG_1, RIG_INV_FORCE_CHG_1);
}

static void full_charge_request_after_days_below_97(void **state)
{
	(void)state;
	struct rig r;
	struct rig_inv_battery rec;
	rig_make(&r, 16, 100.0);
	put(&r.b, BMS_SET_FULL_CHARGE_DAYS, 1);
	for (unsigned h = 0; h < 23; h++)
		bms_step(&r.b, &r.m, 3600.0, 0.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.request & RIG_INV_FULL_CHG_REQ, 0);
	bms_step(&r.b, &r.m, 3600.0, 0.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.request & RIG_INV_FULL_CHG_REQ, RIG_INV_FULL_CHG_REQ);
	/* 0 days: never. */
	put(&r.b, BMS_SET_FULL_CHARGE_DAYS, 0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.request & RIG_INV_FULL_CHG_REQ, 0);
	/* Reaching 97 % starts the count again. */
	put(&r.b, BMS_SET_FULL_CHARGE_DAYS, 1);
	bms_set_remain_mAh(&r.b, 97000);
	bms_step(&r.b, &r.m, 1.0, 0.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.request & RIG_INV_FULL_CHG_REQ, 0);
}

static void warnings_come_a_margin_early(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, 16, 100.0);
	cell_reads(&r, 3599);
	assert_int_equal(look(&r).warn, 0);
	cell_reads(&r, 3600);                        /* OVP 3650 - 50 */
	struct rig_inv_battery rec = look(&r);
	assert_int_equal(rec.warn, PACK_PROT_CELL_OV);
	assert_int_equal(rec.prot, 0);
	cell_reads(&r, 2550);                        /* UVP 2500 + 50 */
	assert_int_equal(look(&r).warn, PACK_PROT_CELL_UV);
	put(&r.b, BMS_SET_WARN_CELL, 10);
	assert_int_equal(look(&r).warn, 0);
	r.b.faults.force_mask = 0;

	pack_at_C(&r, 49.9);                         /* chg OTP 55.0 - 5 K */
	assert_int_equal(look(&r).warn, 0);
	pack_at_C(&r, 50.0);
	assert_int_equal(look(&r).warn, PACK_PROT_CHG_OT);
	pack_at_C(&r, 55.0);
	assert_int_equal(look(&r).warn, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT);
	pack_at_C(&r, 4.0);                          /* chg UTP 0.0 + 5 K */
	assert_int_equal(look(&r).warn, PACK_PROT_CHG_UT);
	pack_at_C(&r, 25.0);

	/* 90 % of the 100 A over-current thresholds. */
	bms_step(&r.b, &r.m, 0.1, 89.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.warn, 0);
	bms_step(&r.b, &r.m, 0.1, 91.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.warn, PACK_PROT_CHG_OC);
	bms_step(&r.b, &r.m, 0.1, -91.0);
	bms_inverter_limits(&r.b, &rec);
	assert_int_equal(rec.warn, PACK_PROT_DSG_OC);
}

static void soc_clamp_steers_away_from_a_forbidden_direction(void **state)
{
	(void)state;
	struct rig r;
	struct rig_inv_battery rec;
	rig_make(&r, 16, 100.0);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_CHG), RIG_OK);
	rec = look(&r);
	assert_int_equal(rec.soc_pct, 50);           /* off by default */
	put(&r.b, BMS_SET_SOC_CLAMP, 1);
	rec = look(&r);
	assert_int_equal(rec.soc_pct, 100);
	assert_int_equal(rec.soc_cpct, 10000);
	assert_int_equal(rec.remain_mAh, 50000);     /* the true charge stays */
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_DSG), RIG_OK);
	rec = look(&r);
	assert_int_equal(rec.soc_pct, 0);
	assert_int_equal(rec.soc_cpct, 0);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_ALL), RIG_OK);
	rec = look(&r);
	assert_int_equal(rec.soc_pct, 50);           /* both forbidden: nowhere to steer */
	assert_int_equal(bms_set_inhibit(&r.b, 0), RIG_OK);
	assert_int_equal(look(&r).soc_pct, 50);
}

static void soh_cycles_and_sensor_alarm(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, 16, 100.0);
	r.m.cell[3].capacity_Ah = 88.0;              /* one faded cell sets the pack's capacity */
	put(&r.b, BMS_SET_CYCLES, 123);
	struct rig_inv_battery rec = look(&r);
	assert_int_equal(rec.soh_pct, 88);
	assert_int_equal(rec.cycles, 123);
	assert_int_equal(rec.alarm, 0);
	r.b.faults.ntc_open_mask = 2u;
	assert_int_equal(look(&r).alarm, RIG_INV_ALARM_SYSTEM);
	r.b.faults.ntc_open_mask = 0;
	r.b.faults.open_wire_mask = 1u;
	assert_int_equal(look(&r).alarm, RIG_INV_ALARM_SYSTEM);
}

static void combine_modules(void **state)
{
	(void)state;
	struct rig a, b;
	struct rig_inv_battery mod[2], all;
	rig_make(&a, 16, 100.0);
	rig_make(&b, 16, 50.0);
	bms_set_remain_mAh(&a.b, 80000);             /* 80 % of 100 Ah */
	bms_set_remain_mAh(&b.b, 5000);              /* 10 % of 50 Ah */
	put(&b.b, BMS_SET_CHARGE_VOLTAGE, 3500);
	put(&a.b, BMS_SET_DISCHARGE_VOLTAGE, 3100);
	cell_reads(&b, 3550);                        /* b tapers to half its 25 A */
	mod[0] = look(&a);
	mod[1] = look(&b);
	assert_int_equal(mod[1].ccl_mA, 12500);
	bms_inverter_combine(mod, 2, &all);
	assert_int_equal(all.module_count, 2);
	assert_int_equal(all.ccl_mA, 25000);         /* 2 x the smaller module limit */
	assert_int_equal(all.dcl_mA, 50000);         /* 2 x b's 25 A */
	assert_int_equal(all.cvl_mV, 56000);         /* the lower: 16 x 3500 */
	assert_int_equal(all.dvl_mV, 49600);         /* the higher: 16 x 3100 */
	assert_int_equal(all.soc_cpct, 5667);        /* 85 Ah of 150 */
	assert_int_equal(all.soc_pct, 57);
	assert_int_equal(all.remain_mAh, 85000);
	assert_int_equal(all.full_mAh, 150000);
	assert_int_equal(all.pack_mV, (mod[0].pack_mV + mod[1].pack_mV) / 2);
	assert_int_equal(all.cell_max_mV, 3550);
	assert_int_equal(all.request, RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE | RIG_INV_FORCE_CHG_2);
	assert_int_equal(all.warn, 0);

	/* One module that forbids a direction forbids it for all; flags or'd; the clamp applies to
	 * the combined SOC. */
	assert_int_equal(bms_set_inhibit(&a.b, BMS_INHIBIT_DSG), RIG_OK);
	put(&b.b, BMS_SET_SOC_CLAMP, 1);            /* on the second module: or'd */
	cell_reads(&b, 3600);
	mod[0] = look(&a);
	mod[1] = look(&b);
	bms_inverter_combine(mod, 2, &all);
	assert_int_equal(all.dcl_mA, 0);
	assert_int_equal(all.ccl_mA, 2 * 6250);
	assert_int_equal(all.request, RIG_INV_CHG_ENABLE | RIG_INV_FORCE_CHG_2);
	assert_int_equal(all.prot, PACK_PROT_SW_LOCK);
	assert_int_equal(all.warn, PACK_PROT_CELL_OV);
	assert_int_equal(all.soc_pct, 0);
	assert_int_equal(all.remain_mAh, 85000);

	/* One module is itself. */
	bms_inverter_combine(mod, 1, &all);
	assert_memory_equal(&all, &mod[0], sizeof all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_at_rest),
		cmocka_unit_test(ccl_tapers_to_zero_at_ovp),
		cmocka_unit_test(dcl_falls_near_uvp),
		cmocka_unit_test(temperature_windows),
		cmocka_unit_test(protections_fets_and_inhibit_zero_their_direction),
		cmocka_unit_test(force_charge_requests_follow_soc),
		cmocka_unit_test(full_charge_request_after_days_below_97),
		cmocka_unit_test(warnings_come_a_margin_early),
		cmocka_unit_test(soc_clamp_steers_away_from_a_forbidden_direction),
		cmocka_unit_test(soh_cycles_and_sensor_alarm),
		cmocka_unit_test(combine_modules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
