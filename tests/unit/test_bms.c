/* BMS logic through its neutral settings (bms_setting_get/set, values in each setting's own
 * units): defaults, protections with their delays and releases, FETs and the inhibit mask,
 * the current sensor, coulomb counting, cycles, balancing, setting checks, sense faults,
 * factory reset, state file. How JBD's registers encode the settings is test_jbd_settings.c's. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* open flags O_CLOEXEC, O_DIRECTORY; mkdtemp */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "near.h"
#include "bmsrig/sim/bms.h"

struct rig { struct model m; struct bms b; };

/* A pack without spread or self-discharge, so cell voltages are exactly what a test sets. */
static void rig_make(struct rig *r, enum model_chem chem, unsigned cells, double cap_Ah,
                     unsigned ntc)
{
	struct model_cfg c;
	model_cfg_defaults(&c);
	c.chem = chem;
	c.cells = (uint8_t)cells;
	c.capacity_Ah = cap_Ah;
	c.ntc_count = (uint8_t)ntc;
	c.soc_sigma_pct = c.capacity_sigma = c.resistance_sigma = 0.0;
	c.self_discharge_pct_month = 0.0;
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
}

static int32_t get(const struct bms *b, unsigned id)
{
	return bms_setting_get(b, id);
}

/* A setting the test needs; a refusal would leave the test running on the old value. */
static void put(struct bms *b, unsigned id, int64_t value)
{
	assert_int_equal(bms_setting_set(b, id, value), RIG_OK);
}

/* Every setting reads the same on both, and the words kept for a personality are the same. */
static void assert_same_settings(const struct bms *a, const struct bms *b)
{
	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		if (get(a, id) != get(b, id))
			fail_msg("%s: %d != %d", bms_setting_info(id)->name, get(a, id), get(b, id));
	assert_memory_equal(&a->store, &b->store, sizeof a->store);
}

/* A word a personality keeps in the BMS (the logic only stores it; which word means what is
 * the personality's business, so any index will do). */
static void store_put(struct bms *b, unsigned word, uint16_t value)
{
	b->store.word[word] = value;
	b->store.written[word] = 1;
}

/* Put a cell at a rested open-circuit voltage. */
static void set_cell_V(struct rig *r, unsigned cell, double V)
{
	model_set_cell_soc_frac(&r->m, cell, model_soc_frac_for_ocv(r->m.cfg.chem, V));
}

static void run(struct rig *r, unsigned steps, double dt_s, double A)
{
	for (unsigned i = 0; i < steps; i++)
		bms_step(&r->b, &r->m, dt_s, A);
}

static void defaults_follow_the_pack(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	assert_int_equal(get(&r.b, BMS_SET_CELL_COUNT), 4);
	assert_int_equal(get(&r.b, BMS_SET_NTC_ENABLE), 0x3);
	assert_int_equal(get(&r.b, BMS_SET_DESIGN_CAPACITY), 100000);
	assert_int_equal(get(&r.b, BMS_SET_CYCLE_CAPACITY), 80000);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP), 3650);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP_RELEASE), 3550);
	assert_int_equal(get(&r.b, BMS_SET_PACK_OVP), 14600);        /* 4 x 3650 mV */
	assert_int_equal(get(&r.b, BMS_SET_DSG_OC), 100000);         /* 100 A: a limit, unsigned */
	assert_int_equal(get(&r.b, BMS_SET_BALANCE_ENABLE), 1);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP_DELAY), 2);
	assert_int_equal(get(&r.b, BMS_SET_CELL_UVP_DELAY), 2);
	/* A rested pack at 50 % reads 50 % on the BMS's own voltage points. */
	assert_int_equal(bms_soc_pct(&r.b), 50);
	assert_int_equal(r.b.fet, BMS_FET_CHG | BMS_FET_DSG);
	assert_int_equal(r.b.prot_bits, 0);

	rig_make(&r, MODEL_CHEM_NMC, 8, 50.0, 3);
	assert_int_equal(get(&r.b, BMS_SET_CELL_COUNT), 8);
	assert_int_equal(get(&r.b, BMS_SET_NTC_ENABLE), 0x7);
	assert_int_equal(get(&r.b, BMS_SET_DESIGN_CAPACITY), 50000);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP), 4250);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP_RELEASE), 4150);
	assert_int_equal(get(&r.b, BMS_SET_CELL_UVP), 2800);
	assert_int_equal(get(&r.b, BMS_SET_CELL_UVP_RELEASE), 3000);
	assert_int_equal(get(&r.b, BMS_SET_PACK_OVP), 34000);        /* 8 x 4250 mV */
	assert_int_equal(bms_soc_pct(&r.b), 50);

	struct bms_string t;
	assert_int_equal(bms_string_get(&r.b, BMS_TEXT_MODEL, &t), RIG_OK);
	assert_string_equal(t.text, "bmsrig-JBD-SP04S034");
}

static void cell_ov_waits_for_its_delay_and_release(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	/* Cell 3 at 3.700 V, over the 3650 mV trigger; cell_ovp_delay_s = 2. */
	set_cell_V(&r, 2, 3.700);
	run(&r, 1, 0.1, 0.0);                         /* first step that sees it: t0 */
	assert_int_equal(r.b.meas.cell_mV[2], 3700);
	run(&r, 19, 0.1, 0.0);                        /* t0 + 1.9 s */
	assert_false(r.b.prot_bits & PACK_PROT_CELL_OV);
	assert_true(r.b.fet & BMS_FET_CHG);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 0);
	run(&r, 1, 0.1, 0.0);                         /* t0 + 2.0 s */
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_OV);
	assert_int_equal(r.b.fet, BMS_FET_DSG);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 1);

	/* Tripped: charge current is blocked, discharge still flows. */
	run(&r, 1, 0.1, 20.0);
	assert_true(r.m.pack_I_A == 0.0);
	run(&r, 1, 0.1, -20.0);
	assert_true(r.m.pack_I_A == -20.0);

	/* Between release (3550) and trigger: stays tripped however long. 3550 itself too. */
	set_cell_V(&r, 2, 3.600);
	run(&r, 600, 0.1, 0.0);
	assert_true(r.b.prot_bits & PACK_PROT_CELL_OV);
	set_cell_V(&r, 2, 3.5502);
	run(&r, 10, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[2], 3550);
	assert_true(r.b.prot_bits & PACK_PROT_CELL_OV);
	/* Below the release value: released at once, FET back on, the count stays 1. */
	set_cell_V(&r, 2, 3.549);
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, 0);
	assert_int_equal(r.b.fet, BMS_FET_CHG | BMS_FET_DSG);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 1);
	run(&r, 1, 0.1, 20.0);
	assert_true(r.m.pack_I_A == 20.0);

	/* A trigger that goes away before its delay resets the delay. */
	set_cell_V(&r, 2, 3.700);
	run(&r, 15, 0.1, 0.0);
	set_cell_V(&r, 2, 3.300);
	run(&r, 1, 0.1, 0.0);
	set_cell_V(&r, 2, 3.700);
	run(&r, 15, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, 0);
	/* The delay comes from the setting: with 0 s it trips in the first step that sees it. */
	put(&r.b, BMS_SET_CELL_OVP_DELAY, 0);
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_OV);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 2);
}

static void discharge_oc_releases_after_its_time(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 20.0, 2);
	put(&r.b, BMS_SET_DSG_OC, 20000);                 /* trips at -20 A */
	put(&r.b, BMS_SET_DSG_OC_DELAY, 2);
	put(&r.b, BMS_SET_DSG_OC_RELEASE, 5);
	run(&r, 1, 0.5, -30.0);                       /* seen */
	run(&r, 3, 0.5, -30.0);                       /* 1.5 s */
	assert_int_equal(r.b.prot_bits, 0);
	run(&r, 1, 0.5, -30.0);                       /* 2.0 s: trip */
	assert_int_equal(r.b.prot_bits, PACK_PROT_DSG_OC);
	assert_int_equal(r.b.fet, BMS_FET_CHG);
	assert_int_equal(r.b.events[BMS_EV_DSG_OC], 1);
	run(&r, 9, 0.5, -30.0);                       /* 4.5 s after the trip: no current */
	assert_true(r.m.pack_I_A == 0.0);
	assert_int_equal(r.b.meas.current_mA, 0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_DSG_OC);
	run(&r, 1, 0.5, -30.0);                       /* 5 s: released */
	assert_int_equal(r.b.prot_bits, 0);
	run(&r, 6, 0.5, -30.0);                       /* flows again, trips again after 2 s */
	assert_int_equal(r.b.prot_bits, PACK_PROT_DSG_OC);
	assert_int_equal(r.b.events[BMS_EV_DSG_OC], 2);
}

static void short_circuit_from_threshold_and_shunt(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	/* Factory 155 mV across a 1 mOhm shunt: 155 A. */
	assert_int_equal(get(&r.b, BMS_SET_SC_THRESHOLD), 155);
	assert_int_equal(get(&r.b, BMS_SET_SC_RELEASE), 100);
	put(&r.b, BMS_SET_SHUNT, 1000);
	run(&r, 1, 0.1, -154.99);
	assert_false(r.b.prot_bits & PACK_PROT_SHORT);
	run(&r, 1, 0.1, -155.0);                      /* at the threshold; no delay at this scale */
	assert_true(r.b.prot_bits & PACK_PROT_SHORT);
	assert_false(r.b.fet & BMS_FET_DSG);
	assert_int_equal(r.b.events[BMS_EV_SHORT], 1);
	/* Released sc_release_s = 100 s later. */
	run(&r, 999, 0.1, 0.0);
	assert_true(r.b.prot_bits & PACK_PROT_SHORT);
	run(&r, 1, 0.1, 0.0);
	assert_false(r.b.prot_bits & PACK_PROT_SHORT);
	/* 78 mV / 1 mOhm = 78 A. */
	put(&r.b, BMS_SET_SC_THRESHOLD, 78);
	run(&r, 1, 0.1, -77.99);
	assert_false(r.b.prot_bits & PACK_PROT_SHORT);
	run(&r, 1, 0.1, -78.0);
	assert_true(r.b.prot_bits & PACK_PROT_SHORT);
	assert_int_equal(r.b.events[BMS_EV_SHORT], 2);
}

static void mosfet_mask_gates_current(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_CHG), RIG_OK);
	/* Effective at once, before any step (docs/protocols/jbd.md §11 F9). */
	assert_int_equal(r.b.fet, BMS_FET_DSG);
	assert_int_equal(r.b.prot_bits, PACK_PROT_SW_LOCK);
	run(&r, 1, 1.0, 10.0);
	assert_true(r.m.pack_I_A == 0.0);
	assert_int_equal(r.b.meas.current_mA, 0);
	run(&r, 1, 1.0, -10.0);
	assert_true(r.m.pack_I_A == -10.0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_SW_LOCK);

	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_DSG), RIG_OK);
	assert_int_equal(r.b.fet, BMS_FET_CHG);
	run(&r, 1, 1.0, -10.0);
	assert_true(r.m.pack_I_A == 0.0);
	run(&r, 1, 1.0, 10.0);
	assert_true(r.m.pack_I_A == 10.0);

	assert_int_equal(bms_set_inhibit(&r.b, 0), RIG_OK);
	assert_int_equal(r.b.fet, BMS_FET_CHG | BMS_FET_DSG);
	assert_int_equal(r.b.prot_bits, 0);
	assert_int_equal(bms_set_inhibit(&r.b, 4), RIG_ERR_ARG);
	assert_int_equal(r.b.inhibit, 0);
}

static void restart_counts_and_clears_live_state(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	put(&r.b, BMS_SET_CELL_OVP_DELAY, 0);                      /* OV without delay */
	set_cell_V(&r, 0, 3.700);
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_DSG), RIG_OK);
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_OV | PACK_PROT_SW_LOCK);
	bms_set_remain_mAh(&r.b, 1234);

	bms_restart(&r.b, &r.m);
	assert_int_equal(r.b.events[BMS_EV_RESTART], 1);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 1);           /* counters survive */
	assert_int_equal(r.b.inhibit, 0);
	assert_int_equal(r.b.prot_bits, 0);
	assert_int_equal(r.b.fet, BMS_FET_CHG | BMS_FET_DSG);
	assert_int_equal(bms_remain_mAh(&r.b), 1234);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP_DELAY), 0);    /* settings survive */
	assert_int_equal(get(&r.b, BMS_SET_CELL_UVP_DELAY), 2);
	/* The cell is still high: the fresh BMS finds it again. */
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_OV);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 2);
}

static void current_sensor_offset_and_dead_band(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	r.b.sensor.current_deadband_mA = 100;
	r.b.sensor.current_offset_mA = 0;
	run(&r, 1, 1.0, 0.05);
	assert_int_equal(r.b.meas.current_mA, 0);          /* inside the dead band */
	run(&r, 1, 1.0, -0.1);
	assert_int_equal(r.b.meas.current_mA, 0);          /* its edge reads 0 too */
	run(&r, 1, 1.0, -0.101);
	assert_int_equal(r.b.meas.current_mA, -101);
	run(&r, 1, 1.0, 0.5);
	assert_int_equal(r.b.meas.current_mA, 500);

	r.b.sensor.current_offset_mA = 30;
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.meas.current_mA, 0);          /* a small offset hides in the band */
	r.b.sensor.current_offset_mA = 150;
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.meas.current_mA, 150);        /* a big one shows at rest */
	run(&r, 1, 1.0, -2.0);
	assert_int_equal(r.b.meas.current_mA, -1850);

	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.current_mA, -1850);
}

static void soc_counts_the_measured_current(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 20.0, 2);
	bms_set_remain_mAh(&r.b, 10000);
	assert_int_equal(bms_soc_pct(&r.b), 50);
	/* 10 A for 360 s = 1000 mAh: 11000 of 20000 mAh = 55 %. */
	run(&r, 360, 1.0, 10.0);
	assert_in_range(bms_remain_mAh(&r.b), 10999, 11001);
	assert_int_equal(bms_soc_pct(&r.b), 55);
	/* With +200 mA sensor offset it counts 10.2 A: 1020 mAh more, although the cells got
	 * 1000 mAh (minus charge efficiency): the BMS drifts from the truth as real ones do. */
	r.b.sensor.current_offset_mA = 200;
	run(&r, 360, 1.0, 10.0);
	assert_in_range(bms_remain_mAh(&r.b), 12019, 12021);
	/* Clamped at 0 and at full. */
	r.b.sensor.current_offset_mA = 0;
	bms_set_remain_mAh(&r.b, 100);
	run(&r, 360, 1.0, -10.0);
	assert_int_equal(bms_remain_mAh(&r.b), 0);
	assert_int_equal(bms_soc_pct(&r.b), 0);
	bms_set_remain_mAh(&r.b, 19900);
	run(&r, 360, 1.0, 10.0);
	assert_int_equal(bms_remain_mAh(&r.b), 20000);
	assert_int_equal(bms_soc_pct(&r.b), 100);
	/* bms_set_remain_mAh can't set more than full either. */
	bms_set_remain_mAh(&r.b, 90000);
	assert_int_equal(bms_remain_mAh(&r.b), 20000);
}

static void one_cycle_per_cycle_capacity(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 10.0, 2);
	for (unsigned i = 0; i < 4; i++)
		model_set_cell_soc_frac(&r.m, i, 0.95);
	/* 8000 mAh per cycle (80 % of 10 Ah); 5 A discharges that in 5760 s. */
	assert_int_equal(get(&r.b, BMS_SET_CYCLE_CAPACITY), 8000);
	run(&r, 5700, 1.0, -5.0);
	assert_int_equal(get(&r.b, BMS_SET_CYCLES), 0);
	run(&r, 100, 1.0, -5.0);
	assert_int_equal(get(&r.b, BMS_SET_CYCLES), 1);
	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.cycles, 1);

	/* What overshoots a cycle counts toward the next: 1000 mAh per cycle, 100 s steps of 5 A
	 * (138.9 mAh each); 37 steps = 5139 mAh = 5 cycles (dropping the overshoot would give 4). */
	rig_make(&r, MODEL_CHEM_LFP, 4, 10.0, 2);
	for (unsigned i = 0; i < 4; i++)
		model_set_cell_soc_frac(&r.m, i, 0.95);
	put(&r.b, BMS_SET_CYCLE_CAPACITY, 1000);
	run(&r, 37, 100.0, -5.0);
	assert_int_equal(get(&r.b, BMS_SET_CYCLES), 5);
	/* Charging does not count. */
	run(&r, 37, 100.0, 5.0);
	assert_int_equal(get(&r.b, BMS_SET_CYCLES), 5);
}

static void balancing_follows_its_settings(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	for (unsigned i = 0; i < 4; i++)
		set_cell_V(&r, i, 3.300);
	set_cell_V(&r, 1, 3.420);                 /* cell 2: over 3400 start, 120 mV over min */
	/* By default the balancer works only while charging: nothing at rest. */
	assert_int_equal(get(&r.b, BMS_SET_BALANCE_CHG_ONLY), 1);
	assert_int_equal(get(&r.b, BMS_SET_BALANCE_START), 3400);
	assert_int_equal(get(&r.b, BMS_SET_BALANCE_DELTA), 15);
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.bal_mask, 0);
	run(&r, 1, 1.0, 1.0);
	assert_int_equal(r.b.bal_mask, 0x2);
	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.bal_mask & 0xFFFFu, 0x2);
	assert_int_equal(v.bal_mask >> 16, 0);
	/* The model bleeds what the BMS asked for in the step after. */
	run(&r, 1, 1.0, 1.0);
	assert_int_equal(r.m.bleed_mask, 0x2);
	/* Balancer on without the charging condition: also at rest. */
	put(&r.b, BMS_SET_BALANCE_CHG_ONLY, 0);
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.bal_mask, 0x2);
	/* A window wider than the spread, or a start above the cell, stops it. */
	put(&r.b, BMS_SET_BALANCE_DELTA, 200);
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.bal_mask, 0);
	put(&r.b, BMS_SET_BALANCE_DELTA, 15);
	put(&r.b, BMS_SET_BALANCE_START, 3500);
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.bal_mask, 0);
	/* Balancer off. */
	put(&r.b, BMS_SET_BALANCE_START, 3400);
	put(&r.b, BMS_SET_BALANCE_ENABLE, 0);
	run(&r, 1, 1.0, 0.0);
	assert_int_equal(r.b.bal_mask, 0);
}

/* The quiet horizon: a pack far from every threshold may be stepped over it in one bms_step
 * and ends where 100 ms steps take it, decisions alike and readings within a millivolt. */
static void quiet_horizon_steps_as_100_ms_steps_do(void **state)
{
	(void)state;
	struct rig a, b;
	rig_make(&a, MODEL_CHEM_LFP, 4, 100.0, 2);
	rig_make(&b, MODEL_CHEM_LFP, 4, 100.0, 2);
	/* The current changes in the next step: not quiet until it has flowed for one. */
	assert_int_equal(bms_quiet_ms(&a.b, &a.m, -20.0, 60000), 0);
	run(&a, 1, 0.1, -20.0);
	run(&b, 1, 0.1, -20.0);
	uint32_t q = bms_quiet_ms(&b.b, &b.m, -20.0, 60000);
	assert_int_equal(q, 60000);                   /* 50 %, 20 A: nothing near for a minute */
	assert_int_equal(bms_quiet_ms(&b.b, &b.m, -10.0, 60000), 0);
	run(&a, 600, 0.1, -20.0);
	bms_step(&b.b, &b.m, q / 1000.0, -20.0);
	assert_int_equal(a.b.fet, b.b.fet);
	assert_int_equal(a.b.prot_bits, b.b.prot_bits);
	assert_int_equal(a.b.bal_mask, b.b.bal_mask);
	assert_int_equal(a.b.meas.current_mA, b.b.meas.current_mA);
	for (unsigned i = 0; i < 4; i++)
		assert_true(abs(a.b.meas.cell_mV[i] - b.b.meas.cell_mV[i]) <= 1);
	assert_true(fabs(a.b.remain_mAh - b.b.remain_mAh) < 0.01);
	assert_true(fabs(a.m.temp_C - b.m.temp_C) < 0.01);

	/* Charging at 0.5 C with the balancer's start 200 mV up: the horizon ends before the cells
	 * could be there (20 V per unit of SOC at most, the RC pair's whole gap to R1 * I), and
	 * with the start at the cells themselves there is none. */
	rig_make(&a, MODEL_CHEM_LFP, 4, 100.0, 2);
	run(&a, 2, 0.1, 50.0);
	put(&a.b, BMS_SET_BALANCE_START, a.b.meas.cell_mV[0] + 200);
	q = bms_quiet_ms(&a.b, &a.m, 50.0, 60000);
	assert_true(q > 1000 && q < 60000);
	bms_step(&a.b, &a.m, q / 1000.0, 50.0);
	assert_true(a.b.meas.cell_mV[0] < get(&a.b, BMS_SET_BALANCE_START));
	put(&a.b, BMS_SET_BALANCE_START, a.b.meas.cell_mV[0]);
	assert_int_equal(bms_quiet_ms(&a.b, &a.m, 50.0, 60000), 0);

	/* A protection pending runs on its own clock. */
	rig_make(&a, MODEL_CHEM_LFP, 4, 100.0, 2);
	put(&a.b, BMS_SET_CELL_OVP, 3250);            /* below the resting cells */
	run(&a, 1, 0.1, 0.0);
	assert_true(a.b.prot[BMS_PROT_CELL_OV].pending);
	assert_int_equal(bms_quiet_ms(&a.b, &a.m, 0.0, 60000), 0);
}

static void setting_checks(void **state)
{
	(void)state;
	struct rig r;
	char why[64];
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CELL_COUNT, 40), RIG_ERR_ARG);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CELL_COUNT, 0), RIG_ERR_ARG);
	assert_int_equal(get(&r.b, BMS_SET_CELL_COUNT), 4);
	assert_int_equal(bms_setting_check(BMS_SET_CELL_COUNT, 40, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "expected 1..32, got 40");
	/* A discharge limit is a magnitude: a negative one is refused, in the setting's units. */
	assert_int_equal(bms_setting_check(BMS_SET_DSG_OC, -500, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "expected 10..327680, got -500");
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_COUNT, 1), RIG_ERR_ARG);
	assert_int_equal(bms_string_set(&r.b, BMS_TEXT_BARCODE, "0123456789012345678901234567890X",
	                                32), RIG_ERR_ARG);

	/* The reported view follows cell_count / ntc_enable_mask at once: 6 cells on a 4-cell
	 * pack read 0 mV on the unconnected lines, probe 3 (absent) reads -30.0 degC. */
	put(&r.b, BMS_SET_CELL_COUNT, 6);
	put(&r.b, BMS_SET_NTC_ENABLE, 0x5);
	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.cell_count, 6);
	assert_int_equal(v.cell_mV[4], 0);
	assert_int_equal(v.probe_count, 2);
	assert_int_equal(v.probe_dK[1], BMS_ABSENT_NTC_DK);
	assert_in_range(v.probe_dK[0], 2981 - 5, 2981 + 5);
	/* ...and the UV protection sees those 0 mV lines after its delay, as a miswired BMS. */
	run(&r, 3, 1.0, 0.0);
	assert_true(r.b.prot_bits & PACK_PROT_CELL_UV);
}

/* Cells 1..4 rested at 3.200, 3.250, 3.300, 3.350 V. */
static void rig_staircase(struct rig *r)
{
	rig_make(r, MODEL_CHEM_LFP, 4, 100.0, 2);
	for (unsigned i = 0; i < 4; i++)
		set_cell_V(r, i, 3.200 + 0.050 * i);
	run(r, 1, 0.1, 0.0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r->b.meas.cell_mV[i], 3200 + 50 * i);
}

static void open_wire_reads_zero_and_the_neighbour_the_sum(void **state)
{
	(void)state;
	struct rig r;
	rig_staircase(&r);
	/* The line at the top of cell 2 opens: cell 2 reads 0, cell 3 both (3.250 + 3.300). */
	r.b.faults.open_wire_mask = 1u << 1;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[0], 3200);
	assert_int_equal(r.b.meas.cell_mV[1], BMS_OPEN_WIRE_MV);
	assert_int_equal(r.b.meas.cell_mV[2], 6550);
	assert_int_equal(r.b.meas.cell_mV[3], 3350);
	assert_int_equal(r.b.meas.pack_mV, 13100);         /* measured apart: still true */
	assert_near(model_cell_V(&r.m, 1), 3.250, 1e-9);      /* the cell itself is fine */
	/* The BMS believes its readings: UV (0 mV) and OV (6550 mV) after their 2 s delays. */
	run(&r, 19, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, 0);
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_UV | PACK_PROT_CELL_OV);
	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.cell_mV[1], 0);
	assert_int_equal(v.cell_mV[2], 6550);

	/* The top cell's line: cell 4 reads 0 and the cell below takes the sum. */
	r.b.faults.open_wire_mask = 1u << 3;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[1], 3250);
	assert_int_equal(r.b.meas.cell_mV[2], 6650);
	assert_int_equal(r.b.meas.cell_mV[3], BMS_OPEN_WIRE_MV);
	/* Two adjacent lines (tops of 1 and 2): both read 0, cell 3 reads all three. */
	r.b.faults.open_wire_mask = 0x3;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[0], 0);
	assert_int_equal(r.b.meas.cell_mV[1], 0);
	assert_int_equal(r.b.meas.cell_mV[2], 9750);
	/* Lines beyond the pack change nothing; closing the line heals the reading. */
	r.b.faults.open_wire_mask = 1u << 5;
	run(&r, 1, 0.1, 0.0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r.b.meas.cell_mV[i], 3200 + 50 * i);
	assert_int_equal(r.b.meas.cell_mV[5], 0);

	/* The top of a 1S pack: nothing below to take it. */
	rig_make(&r, MODEL_CHEM_LFP, 1, 100.0, 1);
	r.b.faults.open_wire_mask = 0x1;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[0], 0);
	assert_true(r.b.meas.pack_mV > 3000);
}

static void forced_cell_reads_what_it_is_told(void **state)
{
	(void)state;
	struct rig r;
	rig_staircase(&r);
	r.b.faults.force_mask = 1u << 0;
	r.b.faults.force_mV[0] = 2400;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[0], 2400);
	assert_int_equal(r.b.meas.cell_mV[1], 3250);
	assert_int_equal(r.b.meas.pack_mV, 13100);
	/* Under cell_uvp_mV (2500): UV after cell_uvp_delay_s, 2 s; the model's cell is untouched. */
	assert_int_equal(get(&r.b, BMS_SET_CELL_UVP), 2500);
	run(&r, 19, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, 0);
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.prot_bits, PACK_PROT_CELL_UV);
	assert_false(r.b.fet & BMS_FET_DSG);
	assert_near(model_cell_V(&r.m, 0), 3.200, 1e-9);
	/* A force wins over an open wire's sum. */
	r.b.faults.open_wire_mask = 1u << 1;
	r.b.faults.force_mask = 1u << 2;
	r.b.faults.force_mV[2] = 3333;
	run(&r, 1, 0.1, 0.0);
	assert_int_equal(r.b.meas.cell_mV[0], 3200);
	assert_int_equal(r.b.meas.cell_mV[1], 0);
	assert_int_equal(r.b.meas.cell_mV[2], 3333);
	/* Cleared: the truth again. */
	memset(&r.b.faults, 0, sizeof r.b.faults);
	run(&r, 1, 0.1, 0.0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r.b.meas.cell_mV[i], 3200 + 50 * i);
}

/* Runs 0.5 s steps until the protection bit trips; returns the seconds from the first step
 * that saw the fault (the delay counts from there). */
static double seconds_to_trip(struct rig *r, unsigned bit)
{
	run(r, 1, 0.5, 0.0);
	for (unsigned i = 1; i <= 40; i++) {
		if (r->b.prot_bits & (1u << bit))
			return (i - 1) * 0.5;
		run(r, 1, 0.5, 0.0);
	}
	return -1.0;
}

static void ntc_open_and_short_trip_the_temperature_protections(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	/* Distinct delays: charge UT 3 s / OT 5 s, discharge UT 4 s / OT 6 s. */
	put(&r.b, BMS_SET_CHG_UTP_DELAY, 3);
	put(&r.b, BMS_SET_CHG_OTP_DELAY, 5);
	put(&r.b, BMS_SET_DSG_UTP_DELAY, 4);
	put(&r.b, BMS_SET_DSG_OTP_DELAY, 6);

	/* Shorted probe 2: +100.0 degC, over charge OT (55.0) and discharge OT (60.0). */
	r.b.faults.ntc_short_mask = 1u << 1;
	assert_true(seconds_to_trip(&r, BMS_PROT_CHG_OT) == 5.0);
	assert_int_equal(r.b.meas.probe_dK[1], BMS_NTC_SHORT_DK);
	assert_in_range(r.b.meas.probe_dK[0], 2981 - 5, 2981 + 5);      /* probe 1 true */
	assert_false(r.b.prot_bits & PACK_PROT_DSG_OT);
	assert_false(r.b.fet & BMS_FET_CHG);
	run(&r, 2, 0.5, 0.0);                                          /* 6 s */
	assert_true(r.b.prot_bits & PACK_PROT_DSG_OT);
	assert_int_equal(r.b.fet, 0);
	assert_int_equal(r.b.events[BMS_EV_CHG_OT], 1);
	assert_int_equal(r.b.events[BMS_EV_DSG_OT], 1);
	struct bms_view v;
	bms_view(&r.b, &v);
	assert_int_equal(v.probe_dK[1], 3731);
	/* The short clears: below the releases (50.0 degC) at once. */
	r.b.faults.ntc_short_mask = 0;
	run(&r, 1, 0.5, 0.0);
	assert_int_equal(r.b.prot_bits, 0);

	/* Open probe 1: -40.0 degC, under charge UT (0.0) and discharge UT (-20.0). */
	r.b.faults.ntc_open_mask = 1u << 0;
	assert_true(seconds_to_trip(&r, BMS_PROT_CHG_UT) == 3.0);
	assert_int_equal(r.b.meas.probe_dK[0], BMS_NTC_OPEN_DK);
	assert_false(r.b.prot_bits & PACK_PROT_DSG_UT);
	run(&r, 2, 0.5, 0.0);                                          /* 4 s */
	assert_true(r.b.prot_bits & PACK_PROT_DSG_UT);
	assert_int_equal(r.b.events[BMS_EV_CHG_UT], 1);
	assert_int_equal(r.b.events[BMS_EV_DSG_UT], 1);

	/* A probe the model lacks stays absent whatever its fault; a probe not enabled in
	 * ntc_enable_mask is read but not protected on. */
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	put(&r.b, BMS_SET_NTC_ENABLE, 0x1);
	r.b.faults.ntc_short_mask = 1u << 2;
	r.b.faults.ntc_open_mask = 1u << 1;
	run(&r, 20, 0.5, 0.0);
	assert_int_equal(r.b.meas.probe_dK[2], BMS_ABSENT_NTC_DK);
	assert_int_equal(r.b.meas.probe_dK[1], BMS_NTC_OPEN_DK);
	assert_int_equal(r.b.prot_bits, 0);
}

static void factory_reset_restores_settings_keeps_counters(void **state)
{
	(void)state;
	struct rig r, fresh;
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	rig_make(&fresh, MODEL_CHEM_LFP, 4, 100.0, 2);
	put(&r.b, BMS_SET_CELL_OVP, 3600);
	put(&r.b, BMS_SET_CELL_OVP_DELAY, 0);
	put(&r.b, BMS_SET_CELL_UVP_DELAY, 0);
	put(&r.b, BMS_SET_CELL_COUNT, 6);
	store_put(&r.b, 6, 4242);                                  /* a serial number, say */
	put(&r.b, BMS_SET_CYCLES, 17);
	store_put(&r.b, BMS_STORE_WORDS - 1u, 3333);               /* a calibration, say */
	assert_int_equal(bms_string_set(&r.b, BMS_TEXT_BARCODE, "SN-42", 5), RIG_OK);
	assert_int_equal(bms_string_set(&r.b, BMS_TEXT_MAKER, "acme", 4), RIG_OK);
	assert_int_equal(bms_set_inhibit(&r.b, BMS_INHIBIT_CHG), RIG_OK);
	r.b.events[BMS_EV_CELL_UV] = 3;
	r.b.events[BMS_EV_RESTART] = 9;
	bms_set_remain_mAh(&r.b, 4321);
	r.b.cycle_progress_mAh = 1234.5;
	r.b.faults.ntc_open_mask = 0x1;
	r.b.sensor.current_offset_mA = 70;

	bms_factory_reset(&r.b, &r.m);
	assert_int_equal(get(&r.b, BMS_SET_CELL_OVP), 3650);
	assert_int_equal(get(&r.b, BMS_SET_CELL_COUNT), 4);
	assert_int_equal(r.b.store.written[6], 0);
	assert_int_equal(r.b.store.word[BMS_STORE_WORDS - 1u], 0);
	/* All settings and the store are the factory ones, but for the cycle count, a counter. */
	assert_int_equal(get(&r.b, BMS_SET_CYCLES), 17);
	put(&fresh.b, BMS_SET_CYCLES, 17);
	assert_same_settings(&r.b, &fresh.b);
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++) {
		assert_int_equal(r.b.str[i].len, fresh.b.str[i].len);
		assert_string_equal(r.b.str[i].text, fresh.b.str[i].text);
	}
	/* Counters, the remaining capacity and the pack's faults survive; a restart is counted
	 * and clears the inhibit mask. */
	assert_int_equal(r.b.events[BMS_EV_CELL_UV], 3);
	assert_int_equal(r.b.events[BMS_EV_RESTART], 10);
	assert_int_equal(bms_remain_mAh(&r.b), 4321);
	assert_true(r.b.cycle_progress_mAh == 1234.5);
	assert_int_equal(r.b.inhibit, 0);
	assert_int_equal(r.b.fet, BMS_FET_CHG | BMS_FET_DSG);
	assert_int_equal(r.b.faults.ntc_open_mask, 0x1);
	assert_int_equal(r.b.meas.probe_dK[0], BMS_NTC_OPEN_DK);      /* re-measured */
	assert_int_equal(r.b.sensor.current_offset_mA, 70);           /* board, not settings */

	/* A capacity raised before the reset: what remains is clamped to the factory full. */
	put(&r.b, BMS_SET_DESIGN_CAPACITY, 200000);
	bms_set_remain_mAh(&r.b, 150000);
	bms_factory_reset(&r.b, &r.m);
	assert_int_equal(bms_full_mAh(&r.b), 100000);
	assert_int_equal(bms_remain_mAh(&r.b), 100000);
}

/* A fresh directory holding PATH; remove_tmp() takes both away again. */
static void tmp_path(char *out, size_t cap, const char *name)
{
	static const char tmpl[] = "/tmp/bmsrig-bms-XXXXXX";
	char dir[sizeof tmpl];
	memcpy(dir, tmpl, sizeof tmpl);
	assert_non_null(mkdtemp(dir));
	snprintf(out, cap, "%s/%s", dir, name);
}

static void remove_tmp(const char *path)
{
	char dir[256];
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void state_file_round_trip(void **state)
{
	(void)state;
	struct rig r, fresh;
	char path[256], err[256], tmp[300], victim[300];
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	put(&r.b, BMS_SET_CELL_OVP, 3600);
	put(&r.b, BMS_SET_DSG_OC, 12340);
	put(&r.b, BMS_SET_CYCLES, 17);
	store_put(&r.b, BMS_STORE_WORDS - 1u, 3333);
	assert_int_equal(bms_string_set(&r.b, BMS_TEXT_BARCODE, "SN-42", 5), RIG_OK);
	r.b.events[BMS_EV_CELL_UV] = 3;
	r.b.events[BMS_EV_RESTART] = 9;
	assert_int_equal(bms_set_inhibit(&r.b, 1), RIG_OK);
	bms_set_remain_mAh(&r.b, 4321);

	tmp_path(path, sizeof path, "state.json");
	/* A symlink planted at the temporary name an older bmssim used must not be followed:
	 * the victim stays as it was and the state file is written (lib/file.h). */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	snprintf(victim, sizeof victim, "%s.victim", path);
	write_file(victim, "precious");
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(bms_state_save(&r.b, path, err, sizeof err), RIG_OK);
	{
		FILE *v = fopen(victim, "r");
		char was[16] = "";
		assert_non_null(v);
		assert_non_null(fgets(was, sizeof was, v));
		fclose(v);
		assert_string_equal(was, "precious");
	}
	assert_int_equal(unlink(tmp), 0);
	assert_int_equal(unlink(victim), 0);

	rig_make(&fresh, MODEL_CHEM_LFP, 4, 100.0, 2);
	assert_int_equal(bms_state_load(&fresh.b, path, err, sizeof err), RIG_OK);
	assert_same_settings(&fresh.b, &r.b);
	assert_memory_equal(fresh.b.events, r.b.events, sizeof r.b.events);
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
		assert_string_equal(fresh.b.str[i].text, r.b.str[i].text);
	assert_int_equal(fresh.b.str[2].len, 5);
	assert_int_equal(fresh.b.inhibit, 1);
	assert_int_equal(fresh.b.prot_bits, PACK_PROT_SW_LOCK);   /* the FETs follow the loaded mask */
	assert_int_equal(bms_remain_mAh(&fresh.b), 4321);

	/* Settings are written by name, in their own units. */
	FILE *f = fopen(path, "r");
	char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	assert_non_null(strstr(text, "\"dsg_oc_mA\":\t12340"));   /* by name, in its unit */
	remove_tmp(path);
}

static void state_file_errors_name_the_file(void **state)
{
	(void)state;
	struct rig r;
	char path[256], err[256], expect[400];
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	struct bms before = r.b;

	tmp_path(path, sizeof path, "state.json");
	write_file(path, "{\n  \"bmsrig_bms_state\": 1,\n  \"settings\": {\"cell_count\": }\n}\n");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: not valid JSON near line 3", path);
	assert_string_equal(err, expect);

	/* A bad value after a good one: nothing is applied. */
	write_file(path, "{\"bmsrig_bms_state\": 1, \"settings\": {\"cell_ovp_mV\": 3600, "
	                 "\"cell_count\": 40}}");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: setting cell_count: expected 1..32, got 40", path);
	assert_string_equal(err, expect);
	assert_memory_equal(&r.b, &before, sizeof before);

	write_file(path, "{\"bmsrig_bms_state\": 1, \"colour\": 3}");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: unknown key \"colour\"", path);
	assert_string_equal(err, expect);

	write_file(path, "{\"bmsrig_bms_state\": 1, \"events\": [1, 2]}");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "events: expected an array of 12 integers"));

	write_file(path, "{\"bmsrig_bms_state\": 1, \"settings\": {\"cell_ovp_mV\": 3600.5}}");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	snprintf(expect, sizeof expect, "%s: setting cell_ovp_mV: expected an integer", path);
	assert_string_equal(err, expect);

	write_file(path, "{\"settings\": {}}");
	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "not a BMS state file"));
	unlink(path);

	assert_int_equal(bms_state_load(&r.b, path, err, sizeof err), RIG_ERR_IO);
	snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, expect);
	assert_memory_equal(&r.b, &before, sizeof before);
	remove_tmp(path);
}

/* Found by fuzz_state_file: JSON lets a key hold a newline, and the error quoted it whole. */
static void state_file_error_quoting_a_key_is_one_line(void **state)
{
	(void)state;
	struct rig r;
	char err[256];
	static const char text[] = "{\"bmsrig_bms_state\": 1, \"registers\": {\"0x1\n\": 1}}";
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);

	assert_int_equal(bms_state_parse(&r.b, text, sizeof text - 1, "s.json", err, sizeof err), RIG_ERR_ARG);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "s.json: registers: unknown register \"0x1?\""));
}

/* A NUL inside a state file: cJSON would stop there and load what stands before it as the whole
 * file; the file is refused instead and the BMS left as it was. */
static void state_file_with_a_nul_is_refused(void **state)
{
	(void)state;
	struct rig r;
	struct bms before;
	char err[256];
	static const char text[] = "{\"bmsrig_bms_state\": 1}\0 trailing";
	rig_make(&r, MODEL_CHEM_LFP, 4, 100.0, 2);
	before = r.b;

	assert_int_equal(bms_state_parse(&r.b, text, sizeof text - 1, "s.json", err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "s.json: not valid JSON near line 1"));
	assert_memory_equal(&r.b, &before, sizeof before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_follow_the_pack),
		cmocka_unit_test(cell_ov_waits_for_its_delay_and_release),
		cmocka_unit_test(discharge_oc_releases_after_its_time),
		cmocka_unit_test(short_circuit_from_threshold_and_shunt),
		cmocka_unit_test(mosfet_mask_gates_current),
		cmocka_unit_test(restart_counts_and_clears_live_state),
		cmocka_unit_test(current_sensor_offset_and_dead_band),
		cmocka_unit_test(soc_counts_the_measured_current),
		cmocka_unit_test(one_cycle_per_cycle_capacity),
		cmocka_unit_test(balancing_follows_its_settings),
		cmocka_unit_test(quiet_horizon_steps_as_100_ms_steps_do),
		cmocka_unit_test(setting_checks),
		cmocka_unit_test(open_wire_reads_zero_and_the_neighbour_the_sum),
		cmocka_unit_test(forced_cell_reads_what_it_is_told),
		cmocka_unit_test(ntc_open_and_short_trip_the_temperature_protections),
		cmocka_unit_test(factory_reset_restores_settings_keeps_counters),
		cmocka_unit_test(state_file_round_trip),
		cmocka_unit_test(state_file_errors_name_the_file),
		cmocka_unit_test(state_file_error_quoting_a_key_is_one_line),
		cmocka_unit_test(state_file_with_a_nul_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
