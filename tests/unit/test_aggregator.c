/* The aggregator (firmware/core/aggregator.c): every rule of docs/aggregator.md with its
 * numbers, on 16S LFP packs of 100 Ah with the defaults (50 A a pack both ways, taper
 * 3450 -> 3650 mV, DCL over 2800 -> 2500 mV, CVL/DVL 3550/3000 mV a cell, charge 0..55 degC,
 * 5 K bands, stale 10 s, comm alarm 30 s); and a cross-check against the emulator's own
 * implementation of the same rules (sim/bms_limits.c) on real BMS objects. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/core/aggregator.h"
#include "bmsrig/core/policy.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/bms_limits.h"

#define DK(c) ((uint16_t)((int)PACK_DK_ZERO_C + (c) * 10))

/* A resting 16S pack of 100 Ah: every cell at cell_mV, two probes at temp_dK, both FETs on. */
static struct pack_state pack(uint16_t cell_mV, uint16_t temp_dK, uint8_t soc_pct, uint32_t t_ms)
{
	struct pack_state s;
	memset(&s, 0, sizeof s);
	s.cell_count = 16;
	for (unsigned i = 0; i < 16; i++)
		s.cell_mV[i] = cell_mV;
	s.pack_mV = 16u * cell_mV;
	s.temp_count = 2;
	s.temp_dK[0] = s.temp_dK[1] = temp_dK;
	s.fet_chg = s.fet_dsg = 1;
	s.soc_pct = soc_pct;
	s.full_mAh = 100000;
	s.remain_mAh = 1000u * soc_pct;
	s.updated_ms = t_ms;
	return s;
}

/* n packs at index 0..n-1, all read at t_ms. */
static void setup_n(struct rig_agg *a, unsigned n, uint32_t t_ms)
{
	struct rig_agg_cfg cfg;
	rig_agg_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
	cfg.pack_count = (uint8_t)n;
	rig_agg_init(a, &cfg, t_ms);
	for (unsigned i = 0; i < n; i++) {
		struct pack_state s = pack(3300, DK(25), 50, t_ms);
		assert_int_equal(rig_agg_update(a, i, &s, 100000, NULL), 0);
	}
}

static void put(struct rig_agg *a, unsigned i, const struct pack_state *s)
{
	assert_int_equal(rig_agg_update(a, i, s, 100000, NULL), 0);
}

static void one_pack_at_rest(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 1, 0);
	assert_int_equal(rig_agg_compute(&a, 1000, 0, &r), 0);
	assert_int_equal(r.cvl_mV, 56800);
	assert_int_equal(r.dvl_mV, 48000);
	assert_int_equal(r.ccl_mA, 50000);
	assert_int_equal(r.dcl_mA, 50000);
	assert_int_equal(r.request, RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE);
	assert_int_equal(r.soc_cpct, 5000);
	assert_int_equal(r.soc_pct, 50);
	assert_int_equal(r.soh_pct, 100);
	assert_int_equal(r.pack_mV, 52800);
	assert_int_equal(r.temp_dK, 2981);
	assert_int_equal(r.cell_max_mV, 3300);
	assert_int_equal(r.cell_min_mV, 3300);
	assert_int_equal(r.module_count, 1);
	assert_int_equal(r.alarm, 0);
	assert_int_equal(r.warn, 0);
	assert_int_equal(r.fets, RIG_INV_FET_CHG | RIG_INV_FET_DSG);
	assert_string_equal(r.manufacturer, "PYLON");
	assert_int_equal(a.online_mask, 1);
}

static void three_packs_sum_and_extremes(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	struct pack_state s0 = pack(3300, DK(25), 50, 0), s1 = s0, s2 = s0;
	s0.current_mA = 10000;
	s1.current_mA = -2000;
	s2.current_mA = 5000;
	s1.cycles = 40;
	s2.cycles = 12;
	s1.full_mAh = 90000;                    /* SOH 90 % of its 100 Ah design */
	s1.remain_mAh = 45000;
	s0.temp_dK[1] = DK(31);
	s2.temp_dK[0] = DK(19);
	s2.cell_mV[3] = 3320;
	s0.cell_mV[7] = 3290;
	put(&a, 0, &s0);
	put(&a, 1, &s1);
	put(&a, 2, &s2);
	rig_agg_compute(&a, 500, 0, &r);
	assert_int_equal(r.current_mA, 13000);
	assert_int_equal(r.module_count, 3);
	assert_int_equal(r.ccl_mA, 150000);      /* 3 x 50 A */
	assert_int_equal(r.dcl_mA, 150000);
	assert_int_equal(r.cycles, 40);
	assert_int_equal(r.soh_pct, 90);
	assert_int_equal(r.temp_max_dK, DK(31));
	assert_int_equal(r.temp_min_dK, DK(19));
	assert_int_equal(r.temp_dK, (DK(28) + DK(25) + DK(22)) / 3);   /* mean of the packs' means */
	assert_int_equal(r.cell_max_mV, 3320);
	assert_int_equal(r.cell_min_mV, 3290);
	assert_int_equal(r.remain_mAh, 145000);
	assert_int_equal(r.full_mAh, 290000);
	assert_int_equal(r.design_mAh, 300000);
	assert_int_equal(r.soc_cpct, 5000);      /* 145 of 290 Ah */
}

static void ccl_tapers_on_the_highest_cell_of_any_pack(void **state)
{
	(void)state;
	static const struct { uint16_t cell_mV; int32_t ccl_mA; } pts[] = {
		{ 3450, 150000 }, { 3500, 3 * 37500 }, { 3550, 3 * 25000 }, { 3600, 3 * 12500 },
		{ 3649, 3 * 250 }, { 3650, 0 }, { 3700, 0 },
	};
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		struct rig_agg a;
		struct rig_inv_battery r;
		setup_n(&a, 3, 0);
		struct pack_state s = pack(3300, DK(25), 50, 0);
		s.cell_mV[5] = pts[i].cell_mV;
		put(&a, 1, &s);
		rig_agg_compute(&a, 100, 0, &r);
		if (r.ccl_mA != pts[i].ccl_mA)
			fail_msg("cell %u mV: CCL %d, expected %d", pts[i].cell_mV, r.ccl_mA, pts[i].ccl_mA);
		assert_int_equal(r.dcl_mA, 150000);
		assert_int_equal(!!(r.request & RIG_INV_CHG_ENABLE), pts[i].ccl_mA > 0);
		assert_int_equal(!!(r.warn & PACK_PROT_CELL_OV), pts[i].cell_mV >= 3600);
	}
}

static void dcl_falls_on_the_lowest_cell_of_any_pack(void **state)
{
	(void)state;
	static const struct { uint16_t cell_mV; int32_t dcl_mA; } pts[] = {
		{ 2800, 100000 }, { 2650, 50000 }, { 2560, 20000 }, { 2500, 0 }, { 2400, 0 },
	};
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		struct rig_agg a;
		struct rig_inv_battery r;
		setup_n(&a, 2, 0);
		struct pack_state s = pack(3300, DK(25), 50, 0);
		s.cell_mV[0] = pts[i].cell_mV;
		put(&a, 0, &s);
		rig_agg_compute(&a, 100, 0, &r);
		assert_int_equal(r.dcl_mA, pts[i].dcl_mA);
		assert_int_equal(r.ccl_mA, 100000);
		assert_int_equal(!!(r.request & RIG_INV_DSG_ENABLE), pts[i].dcl_mA > 0);
	}
}

static void a_cold_pack_forbids_charging_for_all(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	struct pack_state cold = pack(3300, DK(0), 50, 0);
	put(&a, 2, &cold);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 150000);      /* discharge allowed down to -20 degC */
	assert_int_equal(r.request, RIG_INV_DSG_ENABLE);
	assert_int_equal(r.warn, PACK_PROT_CHG_UT);
	/* 2.5 degC: half way up the 5 K band. */
	cold.temp_dK[0] = cold.temp_dK[1] = (uint16_t)(DK(2) + 5);
	put(&a, 2, &cold);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 3 * 25000);
	/* Hot: charge window ends at 55 degC, discharge at 60. */
	struct pack_state hot = pack(3300, DK(57), 50, 0);
	put(&a, 2, &hot);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 3 * 30000);   /* 3 K left of the 5 K band to 60 degC */
	assert_int_equal(r.warn, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT);
	/* Too cold to discharge as well. */
	struct pack_state frozen = pack(3300, DK(-20), 50, 0);
	put(&a, 2, &frozen);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 0);
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), 0);
	assert_int_equal(r.warn, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT);
}

static void protections_and_fets_zero_their_direction(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	struct pack_state s = pack(3300, DK(25), 50, 0);
	s.fet_chg = 0;
	put(&a, 0, &s);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 150000);
	assert_int_equal(r.fets, RIG_INV_FET_DSG);
	/* A protection that forbids discharging, with the FETs still reported on. */
	s = pack(3300, DK(25), 50, 0);
	s.prot = PACK_PROT_CELL_UV;
	put(&a, 0, &s);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 150000);
	assert_int_equal(r.dcl_mA, 0);
	assert_int_equal(r.prot, PACK_PROT_CELL_UV);
	/* A short forbids both. */
	s.prot = PACK_PROT_SHORT;
	put(&a, 0, &s);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 0);
}

static void soc_is_weighted_by_capacity(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 2, 0);
	struct pack_state big = pack(3300, DK(25), 80, 0), small = pack(3300, DK(25), 20, 0);
	small.full_mAh = 50000;
	small.remain_mAh = 10000;
	put(&a, 0, &big);
	put(&a, 1, &small);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.soc_cpct, 6000);      /* 90 of 150 Ah, not the mean 50 */
	assert_int_equal(r.soc_pct, 60);
	/* Full capacity unknown: the design capacity weighs, with the pack's own SOC. */
	small.full_mAh = small.remain_mAh = 0;
	assert_int_equal(rig_agg_update(&a, 1, &small, 50000, NULL), 0);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.soc_cpct, 6000);
	/* Neither known: a plain mean of the packs' SOC. */
	assert_int_equal(rig_agg_update(&a, 1, &small, 0, NULL), 0);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.soc_cpct, 5000);
	/* Large packs: no overflow in 32 bits (15 x 1000 Ah at 33 %). */
	setup_n(&a, 15, 0);
	for (unsigned i = 0; i < 15; i++) {
		struct pack_state s = pack(3300, DK(25), 33, 0);
		s.full_mAh = 1000000;
		s.remain_mAh = 333300;
		assert_int_equal(rig_agg_update(&a, i, &s, 1000000, NULL), 0);
	}
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.soc_cpct, 3333);
	assert_int_equal(r.remain_mAh, 15u * 333300u);
}

static void fifteen_packs(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 15, 0);
	struct pack_state s = pack(3300, DK(25), 50, 0);
	assert_int_equal(rig_agg_update(&a, 15, &s, 0, NULL), -1);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.module_count, 15);
	assert_int_equal(a.online_mask, 0x7FFF);
	assert_int_equal(r.ccl_mA, 750000);
	assert_int_equal(r.dcl_mA, 750000);
	s.cell_mV[15] = 3600;                    /* the last pack's top cell tapers all 15 */
	put(&a, 14, &s);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 15 * 12500);
	assert_int_equal(r.cell_max_mV, 3600);
}

static void a_stale_pack_leaves_and_rejoins(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	struct pack_state s = pack(3300, DK(25), 50, 0);
	setup_n(&a, 3, 0);
	rig_agg_compute(&a, 9999, 0, &r);
	assert_int_equal(r.module_count, 3);
	/* Packs 0 and 1 are read again; pack 2 falls silent at 0 ms. */
	for (uint32_t t = 5000; t <= 30000; t += 5000) {
		s.updated_ms = t;
		put(&a, 0, &s);
		put(&a, 1, &s);
		rig_agg_compute(&a, t, 0, &r);
		if (t < 10000) {
			assert_int_equal(r.module_count, 3);
			continue;
		}
		assert_int_equal(r.module_count, 2);  /* 10 s silent: out */
		assert_int_equal(a.online_count, 2);
		assert_int_equal(a.online_mask, 0x3);
		assert_int_equal(r.ccl_mA, 100000);   /* its share gone */
		assert_int_equal(r.dcl_mA, 100000);
		assert_int_equal(r.alarm, t < 30000 ? 0 : RIG_INV_ALARM_COMM);
	}
	/* The same old pack_state handed in again keeps it out: updated_ms says when it was read. */
	struct pack_state old = pack(3300, DK(25), 50, 0);
	put(&a, 2, &old);
	assert_int_equal(rig_agg_compute(&a, 30000, 0, &r) & RIG_AGG_F_COMM, RIG_AGG_F_COMM);
	assert_int_equal(r.module_count, 2);
	/* Read again: back, and the alarm clears. */
	old.updated_ms = 30500;
	put(&a, 2, &old);
	assert_int_equal(rig_agg_compute(&a, 31000, 0, &r), 0);
	assert_int_equal(r.module_count, 3);
	assert_int_equal(a.online_mask, 0x7);
	assert_int_equal(r.ccl_mA, 150000);
	assert_int_equal(r.alarm, 0);
	/* A pack taken out of the system neither counts nor alarms. */
	rig_agg_forget(&a, 2);
	rig_agg_compute(&a, 31000, 0, &r);
	assert_int_equal(r.module_count, 2);
}

static void a_pack_never_heard_alarms_after_its_time(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	struct rig_agg_cfg cfg;
	rig_agg_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
	cfg.pack_count = 2;
	rig_agg_init(&a, &cfg, 1000);
	struct pack_state s = pack(3300, DK(25), 50, 30000);
	put(&a, 0, &s);
	assert_int_equal(rig_agg_compute(&a, 30999, 0, &r), 0);
	assert_int_equal(r.module_count, 1);
	assert_int_equal(rig_agg_compute(&a, 31000, 0, &r), RIG_AGG_F_COMM);
	assert_int_equal(r.alarm, RIG_INV_ALARM_COMM);
	/* Nothing online at all: nothing announced but the configured pack's voltages. */
	assert_int_equal(rig_agg_compute(&a, 50000, 0, &r), RIG_AGG_F_COMM | RIG_AGG_F_NO_PACK);
	assert_int_equal(r.module_count, 0);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 0);
	assert_int_equal(r.request, 0);
	assert_int_equal(r.cvl_mV, 56800);
	assert_int_equal(r.dvl_mV, 48000);
	assert_int_equal(r.pack_mV, 0);
	assert_int_equal(r.alarm, RIG_INV_ALARM_COMM);
}

/* Fifteen packs on a bus are read once a round (~20 s for Daly): a pack is stale after two
 * missed rounds, not the fixed 10 s, and alarms after three, not 30 s; a lone pack keeps both. */
static void a_pack_read_once_a_round_is_stale_after_two_rounds(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 2, 0);
	rig_agg_set_interval(&a, 0, 20000);
	assert_int_equal(rig_agg_stale_ms(&a, 0), 40000);
	assert_int_equal(rig_agg_stale_ms(&a, 1), 10000);
	assert_int_equal(rig_agg_stale_ms(&a, 15), 10000);     /* a bad index: the fixed time */
	rig_agg_compute(&a, 19999, 0, &r);
	assert_int_equal(a.online_mask, 0x1);                   /* pack 1: 10 s, gone */
	rig_agg_compute(&a, 39999, 0, &r);
	assert_int_equal(a.online_mask, 0x1);
	assert_int_equal(r.alarm, RIG_INV_ALARM_COMM);          /* pack 1's 30 s */
	setup_n(&a, 1, 0);                                      /* the bus pack alone */
	rig_agg_set_interval(&a, 0, 20000);
	assert_int_equal(rig_agg_compute(&a, 39999, 0, &r), 0);
	assert_int_equal(rig_agg_compute(&a, 40000, 0, &r), RIG_AGG_F_NO_PACK);
	assert_int_equal(a.online_mask, 0);                     /* two rounds missed */
	assert_int_equal(rig_agg_compute(&a, 59999, 0, &r), RIG_AGG_F_NO_PACK);
	assert_int_equal(rig_agg_compute(&a, 60000, 0, &r), RIG_AGG_F_NO_PACK | RIG_AGG_F_COMM);
	/* Kept across an update; shorter than the fixed times: those win; huge: no wrap. */
	struct pack_state s = pack(3300, DK(25), 50, 60000);
	put(&a, 0, &s);
	assert_int_equal(rig_agg_stale_ms(&a, 0), 40000);
	rig_agg_set_interval(&a, 0, 1000);
	assert_int_equal(rig_agg_stale_ms(&a, 0), 10000);
	rig_agg_set_interval(&a, 0, 0xF0000000u);
	assert_int_equal(rig_agg_stale_ms(&a, 0), 0xFFFFFFFFu);
}

static void disagreeing_voltages_take_the_median(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	struct pack_state s = pack(3300, DK(25), 50, 0);
	s.pack_mV = 52900;
	put(&a, 1, &s);
	s.pack_mV = 60000;                      /* a meter far off */
	put(&a, 2, &s);
	assert_int_equal(rig_agg_compute(&a, 100, 0, &r), RIG_AGG_F_SPREAD);
	assert_int_equal(r.pack_mV, 52900);
	assert_int_equal(a.flags, RIG_AGG_F_SPREAD);
	/* Within the spread (1600 mV for 16S): no flag; an even count takes the middle two's mean. */
	setup_n(&a, 4, 0);
	s.pack_mV = 53000;
	put(&a, 3, &s);
	s.pack_mV = 53100;
	put(&a, 2, &s);
	assert_int_equal(rig_agg_compute(&a, 100, 0, &r), 0);
	assert_int_equal(r.pack_mV, 52900);      /* (52800 + 53000) / 2 */
}

static void the_policy_holds_both_limits_at_zero(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	assert_int_equal(rig_agg_compute(&a, 100, RIG_AGG_HOLD_ALL, &r), RIG_AGG_F_HELD);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 0);
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), 0);
	assert_int_equal(r.module_count, 3);
	assert_int_equal(rig_agg_compute(&a, 100, 0, &r), 0);
	assert_int_equal(r.ccl_mA, 150000);
}

/* A hold in one direction leaves the other: an over-voltage battery may still be discharged. */
static void a_hold_zeroes_only_its_direction(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 3, 0);
	assert_int_equal(rig_agg_compute(&a, 100, RIG_AGG_HOLD_CHG, &r), RIG_AGG_F_HELD);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 150000);
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), RIG_INV_DSG_ENABLE);
	assert_int_equal(rig_agg_compute(&a, 100, RIG_AGG_HOLD_DSG, &r), RIG_AGG_F_HELD);
	assert_int_equal(r.ccl_mA, 150000);
	assert_int_equal(r.dcl_mA, 0);
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), RIG_INV_CHG_ENABLE);
}

static void force_charge_follows_the_battery_soc(void **state)
{
	(void)state;
	static const struct { uint8_t soc_pct, req; } pts[] = {
		{ 5, RIG_INV_FORCE_CHG_1 }, { 9, RIG_INV_FORCE_CHG_1 }, { 10, RIG_INV_FORCE_CHG_2 },
		{ 13, RIG_INV_FORCE_CHG_2 }, { 14, 0 }, { 90, 0 },
	};
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
		struct rig_agg a;
		struct rig_inv_battery r;
		setup_n(&a, 1, 0);
		struct pack_state s = pack(3300, DK(25), pts[i].soc_pct, 0);
		put(&a, 0, &s);
		rig_agg_compute(&a, 100, 0, &r);
		assert_int_equal(r.request & (RIG_INV_FORCE_CHG_1 | RIG_INV_FORCE_CHG_2), pts[i].req);
	}
}

static void voltage_limits_and_a_packs_own_bms(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r, own;
	setup_n(&a, 2, 0);
	/* A 15S pack beside a 16S one: the lower CVL, the higher DVL. */
	struct pack_state s15 = pack(3300, DK(25), 50, 0);
	s15.cell_count = 15;
	s15.pack_mV = 49500;
	put(&a, 1, &s15);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.cvl_mV, 53250);
	assert_int_equal(r.dvl_mV, 48000);
	/* Pack 0 is itself a Pylontech battery: what its BMS allows caps it. */
	memset(&own, 0, sizeof own);
	own.ccl_mA = 20000;
	own.dcl_mA = 70000;
	own.cvl_mV = 53000;
	own.dvl_mV = 48500;
	struct pack_state s = pack(3300, DK(25), 50, 0);
	assert_int_equal(rig_agg_update(&a, 0, &s, 100000, &own), 0);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.ccl_mA, 2 * 20000);
	assert_int_equal(r.dcl_mA, 2 * 50000);   /* its own 70 A is above the rules' 50 */
	assert_int_equal(r.cvl_mV, 53000);
	assert_int_equal(r.dvl_mV, 48500);
}

/* ---- one rule set, two implementations: the emulator's BMS against the aggregator ---- */

struct rig { struct model m; struct bms b; };

static void rig_make(struct rig *r, double cap_Ah, double temp_C)
{
	struct model_cfg c;
	model_cfg_defaults(&c);
	c.chem = MODEL_CHEM_LFP;
	c.cells = 16;
	c.capacity_Ah = cap_Ah;
	c.ntc_count = 2;
	c.soc_sigma_pct = c.capacity_sigma = c.resistance_sigma = 0.0;
	c.self_discharge_pct_month = 0.0;
	c.ntc_offset_C = 0.0;
	c.ambient_C = temp_C;
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	r->m.temp_C = temp_C;
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
}

/* What a client would have made of the BMS's answers. */
static struct pack_state state_of(const struct bms *b, uint32_t t_ms)
{
	struct bms_view v;
	struct pack_state s;
	bms_view(b, &v);
	memset(&s, 0, sizeof s);
	s.pack_mV = v.pack_mV;
	s.current_mA = v.current_mA;
	s.soc_pct = v.soc_pct;
	s.cell_count = v.cell_count;
	memcpy(s.cell_mV, v.cell_mV, sizeof s.cell_mV[0] * v.cell_count);
	s.temp_count = v.probe_count;
	memcpy(s.temp_dK, v.probe_dK, sizeof s.temp_dK[0] * v.probe_count);
	s.fet_chg = (v.fet & BMS_FET_CHG) != 0;
	s.fet_dsg = (v.fet & BMS_FET_DSG) != 0;
	s.prot = v.prot_bits;
	s.remain_mAh = v.remain_mAh;
	s.full_mAh = v.full_mAh;
	s.cycles = v.cycles;
	s.updated_ms = t_ms;
	return s;
}

/* The aggregator's settings from a BMS's own. */
static void cfg_of(const struct bms *b, struct rig_agg_cfg *c, unsigned packs)
{
	const struct bms_settings *s = &b->set;
	rig_agg_cfg_defaults(c, RIG_AGG_CHEM_LFP, 16);
	c->max_charge_mA = s->max_charge_mA;
	c->max_discharge_mA = s->max_discharge_mA;
	c->cvl_cell_mV = (uint16_t)s->charge_voltage_cell_mV;
	c->dvl_cell_mV = (uint16_t)s->discharge_voltage_cell_mV;
	c->taper_start_mV = (uint16_t)s->charge_taper_start_mV;
	c->cell_ovp_mV = (uint16_t)s->cell_ovp_mV;
	c->cell_uvp_mV = (uint16_t)s->cell_uvp_mV;
	c->dsg_taper_mV = (uint16_t)s->discharge_taper_mV;
	c->chg_utp_dK = (uint16_t)s->chg_utp_dK;
	c->chg_otp_dK = (uint16_t)s->chg_otp_dK;
	c->dsg_utp_dK = (uint16_t)s->dsg_utp_dK;
	c->dsg_otp_dK = (uint16_t)s->dsg_otp_dK;
	c->derate_dK = (uint16_t)s->temp_derate_dK;
	c->force_chg_1_pct = (uint8_t)s->force_charge_1_pct;
	c->force_chg_2_pct = (uint8_t)s->force_charge_2_pct;
	c->pack_count = (uint8_t)packs;
}

static void agrees_with_the_emulators_bms(void **state)
{
	(void)state;
	/* Per case, three packs: a forced reading on pack 1's cell 1 (0 = none) and pack 2's
	 * temperature; pack 0 stays at 25 degC. */
	static const struct { uint16_t cell_mV; double temp_C; } cases[] = {
		{ 0, 25.0 }, { 3500, 25.0 }, { 3600, 25.0 }, { 3649, 25.0 }, { 3650, 25.0 },
		{ 2700, 25.0 }, { 2560, 25.0 }, { 2500, 25.0 }, { 0, 2.0 }, { 0, 0.5 }, { 0, -1.0 },
		{ 0, 52.0 }, { 0, 58.0 }, { 0, -17.0 }, { 3550, 3.0 }, { 2600, 57.5 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		static struct rig r[3];
		struct rig_inv_battery mod[3], want, got;
		struct rig_agg a;
		struct rig_agg_cfg cfg;
		rig_make(&r[0], 100.0, 25.0);
		rig_make(&r[1], 100.0, 25.0);
		rig_make(&r[2], 100.0, cases[k].temp_C);
		if (cases[k].cell_mV) {
			r[1].b.faults.force_mask = 1u;
			r[1].b.faults.force_mV[0] = cases[k].cell_mV;
		}
		cfg_of(&r[0].b, &cfg, 3);
		rig_agg_init(&a, &cfg, 0);
		for (unsigned i = 0; i < 3; i++) {
			bms_step(&r[i].b, &r[i].m, 0.1, 0.0);
			bms_inverter_limits(&r[i].b, &mod[i]);
			struct pack_state s = state_of(&r[i].b, 0);
			assert_int_equal(rig_agg_update(&a, i, &s, (uint32_t)r[i].b.set.design_capacity_mAh, NULL), 0);
		}
		bms_inverter_combine(mod, 3, &want);
		rig_agg_compute(&a, 100, 0, &got);
		/* Within rounding: each pack's ramp truncates once, times three packs. */
		if (got.ccl_mA > want.ccl_mA + 3 || got.ccl_mA < want.ccl_mA - 3 ||
		    got.dcl_mA > want.dcl_mA + 3 || got.dcl_mA < want.dcl_mA - 3)
			fail_msg("case %zu: aggregator CCL %d DCL %d, emulator CCL %d DCL %d", k, got.ccl_mA,
			         got.dcl_mA, want.ccl_mA, want.dcl_mA);
		assert_int_equal(got.cvl_mV, want.cvl_mV);
		assert_int_equal(got.dvl_mV, want.dvl_mV);
		assert_int_equal(got.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE),
		                 want.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE));
		assert_int_equal(got.soc_cpct, want.soc_cpct);
		assert_int_equal(got.current_mA, want.current_mA);
		assert_int_equal(got.cell_max_mV, want.cell_max_mV);
		assert_int_equal(got.cell_min_mV, want.cell_min_mV);
		assert_int_equal(got.temp_max_dK, want.temp_max_dK);
		assert_int_equal(got.temp_min_dK, want.temp_min_dK);
		assert_int_equal(got.module_count, want.module_count);
	}
}

static void packs_that_report_little(void **state)
{
	(void)state;
	struct rig_agg a;
	struct rig_inv_battery r;
	setup_n(&a, 1, 0);
	/* No cells, no probes: its mean cell, 25 degC; read 5 ms "after" the aggregator's clock. */
	struct pack_state s = pack(3300, DK(25), 50, 105);
	s.cell_count = 0;
	s.temp_count = 0;
	s.pack_mV = 57600;                      /* 3600 mV a cell over the config's 16 */
	s.full_mAh = 110000;                    /* above its design: SOH stays 100 */
	put(&a, 0, &s);
	rig_agg_compute(&a, 100, 0, &r);
	assert_int_equal(r.module_count, 1);
	assert_int_equal(r.cell_max_mV, 3600);
	assert_int_equal(r.cell_min_mV, 3600);
	assert_int_equal(r.ccl_mA, 12500);
	assert_int_equal(r.temp_dK, 2981);
	assert_int_equal(r.temp_min_dK, 2981);
	assert_int_equal(r.soh_pct, 100);
	assert_int_equal(r.warn, PACK_PROT_CELL_OV);
	/* The clock wraps: a pack read just before it, computed just after, is 20 ms old. */
	setup_n(&a, 1, 0xFFFFFFF0u);
	rig_agg_compute(&a, 4, 0, &r);
	assert_int_equal(r.module_count, 1);
	rig_agg_compute(&a, 10000u - 16u, 0, &r);
	assert_int_equal(r.module_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_pack_at_rest),
		cmocka_unit_test(three_packs_sum_and_extremes),
		cmocka_unit_test(ccl_tapers_on_the_highest_cell_of_any_pack),
		cmocka_unit_test(dcl_falls_on_the_lowest_cell_of_any_pack),
		cmocka_unit_test(a_cold_pack_forbids_charging_for_all),
		cmocka_unit_test(protections_and_fets_zero_their_direction),
		cmocka_unit_test(soc_is_weighted_by_capacity),
		cmocka_unit_test(fifteen_packs),
		cmocka_unit_test(a_stale_pack_leaves_and_rejoins),
		cmocka_unit_test(a_pack_never_heard_alarms_after_its_time),
		cmocka_unit_test(disagreeing_voltages_take_the_median),
		cmocka_unit_test(the_policy_holds_both_limits_at_zero),
		cmocka_unit_test(a_hold_zeroes_only_its_direction),
		cmocka_unit_test(a_pack_read_once_a_round_is_stale_after_two_rounds),
		cmocka_unit_test(force_charge_follows_the_battery_soc),
		cmocka_unit_test(voltage_limits_and_a_packs_own_bms),
		cmocka_unit_test(packs_that_report_little),
		cmocka_unit_test(agrees_with_the_emulators_bms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
