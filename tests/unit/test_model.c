/* Pack model: OCV tables, RC step response, coulomb counting, Arrhenius, spread, balancing,
 * thermal node, leaks and drift. Expected numbers are worked by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "near.h"
#include "bmsrig/sim/model.h"

/* One ideal cell: no spread, no self-discharge, CE 1, unless a test says otherwise. */
static void ideal_cfg(struct model_cfg *c, unsigned cells, double capacity_Ah)
{
	model_cfg_defaults(c);
	c->cells = (uint8_t)cells;
	c->capacity_Ah = capacity_Ah;
	c->soc_pct = 50.0;
	c->soc_sigma_pct = 0.0;
	c->capacity_sigma = 0.0;
	c->resistance_sigma = 0.0;
	c->self_discharge_pct_month = 0.0;
	c->charge_efficiency = 1.0;
	c->ntc_offset_C = 0.0;
}

static void ocv_tables_are_strictly_increasing(void **state)
{
	(void)state;
	static const enum model_chem chems[] = { MODEL_CHEM_LFP, MODEL_CHEM_NMC };
	for (size_t c = 0; c < 2; c++) {
		const double *t = model_ocv_table_V(chems[c]);
		for (unsigned k = 1; k < MODEL_OCV_POINTS; k++)
			assert_true(t[k] > t[k - 1]);
		/* And the curve between the points never goes down either, including the 75 %
		 * neighbourhood where the source's SOC axis was wrong. */
		double prev = model_ocv_V(chems[c], 0.0);
		for (unsigned i = 1; i <= 1000; i++) {
			double v = model_ocv_V(chems[c], i / 1000.0);
			assert_true(v >= prev);
			prev = v;
		}
	}
	/* The table ends as in docs/field-notes.md §5.3. */
	assert_near(model_ocv_table_V(MODEL_CHEM_LFP)[0], 2.833, 1e-12);
	assert_near(model_ocv_table_V(MODEL_CHEM_LFP)[20], 3.392, 1e-12);
	assert_near(model_ocv_table_V(MODEL_CHEM_NMC)[0], 2.800, 1e-12);
	assert_near(model_ocv_table_V(MODEL_CHEM_NMC)[20], 4.198, 1e-12);
}

static void ocv_interpolates_by_hand(void **state)
{
	(void)state;
	/* At table points. */
	assert_near(model_ocv_V(MODEL_CHEM_LFP, 0.50), 3.265, 1e-9);
	assert_near(model_ocv_V(MODEL_CHEM_NMC, 0.75), 3.993, 1e-9);
	assert_near(model_ocv_V(MODEL_CHEM_LFP, 1.00), 3.392, 1e-9);
	assert_near(model_ocv_V(MODEL_CHEM_NMC, 0.00), 2.800, 1e-9);
	/* LFP 72.5 %: halfway between 70 % (3.283) and 75 % (3.296) = 3.2895. */
	assert_near(model_ocv_V(MODEL_CHEM_LFP, 0.725), 3.2895, 1e-9);
	/* LFP 77.5 %: halfway between 75 % (3.296) and 80 % (3.304) = 3.300 (the source's axis
	 * bug would have put 85 % here). */
	assert_near(model_ocv_V(MODEL_CHEM_LFP, 0.775), 3.300, 1e-9);
	/* NMC 12 %: 10 % (3.684) + 0.4 * (3.702 - 3.684) = 3.684 + 0.0072 = 3.6912. */
	assert_near(model_ocv_V(MODEL_CHEM_NMC, 0.12), 3.6912, 1e-9);
	/* NMC 2.5 %: 2.800 + 0.5 * (3.588 - 2.800) = 3.194. */
	assert_near(model_ocv_V(MODEL_CHEM_NMC, 0.025), 3.194, 1e-9);
	/* Knee past 100 %: 3.392 + 0.01 * 20 V = 3.592; below 0 %: 2.833 - 0.01 * 20 = 2.633. */
	assert_near(model_ocv_V(MODEL_CHEM_LFP, 1.01), 3.592, 1e-9);
	assert_near(model_ocv_V(MODEL_CHEM_LFP, -0.01), 2.633, 1e-9);
	/* The inverse lands back on the SOC. */
	static const double socs[] = { -0.02, 0.0, 0.12, 0.5, 0.725, 0.99, 1.0, 1.013 };
	for (size_t i = 0; i < sizeof socs / sizeof socs[0]; i++) {
		assert_near(model_soc_frac_for_ocv(MODEL_CHEM_LFP,
		                   model_ocv_V(MODEL_CHEM_LFP, socs[i])), socs[i], 1e-9);
		assert_near(model_soc_frac_for_ocv(MODEL_CHEM_NMC,
		                   model_ocv_V(MODEL_CHEM_NMC, socs[i])), socs[i], 1e-9);
	}
}

static void rc_step_response_matches_hand_value(void **state)
{
	(void)state;
	struct model_cfg c;
	ideal_cfg(&c, 1, 100.0);
	c.r0_ohm = 0.0004;
	c.r1_ohm = 0.0006;
	c.tau1_s = 30.0;
	c.heat_capacity_J_K = 1e12;      /* the temperature stays at 25 degC: R factors stay 1 */

	/* 10 A charge for 30 s from rest, at 25 degC and 50 % SOC (R factors 1):
	 *   V1 = R1 * I * (1 - exp(-t / tau)) = 0.0006 * 10 * (1 - exp(-1))
	 *      = 0.006 * 0.6321205588 = 0.0037927234 V.
	 * The step is an exact zero-order hold, so 1 s steps and one 30 s step agree. */
	const double expect_V1 = 0.0037927234;
	static const double steps_s[] = { 0.1, 1.0, 7.5, 30.0 };
	for (size_t k = 0; k < sizeof steps_s / sizeof steps_s[0]; k++) {
		struct model m;
		assert_int_equal(model_init(&m, &c), RIG_OK);
		double ocv0 = model_cell_V(&m, 0);
		assert_near(ocv0, 3.265, 1e-12);
		unsigned n = (unsigned)lround(30.0 / steps_s[k]);
		for (unsigned i = 0; i < n; i++)
			model_step(&m, steps_s[k], 10.0, 0);
		assert_near(m.cell[0].V1_V, expect_V1, 1e-9);
		/* Terminal = OCV + R0 * I + V1; R0 * I = 0.004 V. */
		double ocv = model_ocv_V(MODEL_CHEM_LFP, m.cell[0].soc_frac);
		assert_near(model_cell_V(&m, 0) - ocv, 0.004 + expect_V1, 1e-7);
	}

	/* Then rest 30 s: V1 decays by exp(-1): 0.0037927234 * 0.3678794412 = 0.0013952650 V. */
	struct model m;
	assert_int_equal(model_init(&m, &c), RIG_OK);
	model_step(&m, 30.0, 10.0, 0);
	model_step(&m, 30.0, 0.0, 0);
	assert_near(m.cell[0].V1_V, 0.0013952650, 1e-9);
}

static void soc_integration(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 1, 10.0);

	/* 10 A for 360 s into 10 Ah: 10 * 360 / 3600 = 1 Ah = 10 %. */
	assert_int_equal(model_init(&m, &c), RIG_OK);
	for (int i = 0; i < 360; i++)
		model_step(&m, 1.0, 10.0, 0);
	assert_near(model_cell_soc_frac(&m, 0), 0.60, 1e-9);

	/* Discharge the same: back down 10 %, no efficiency on discharge. */
	for (int i = 0; i < 360; i++)
		model_step(&m, 1.0, -10.0, 0);
	assert_near(model_cell_soc_frac(&m, 0), 0.50, 1e-9);

	/* With CE 0.9995 the charge stores 0.9995 * 10 % = 9.995 %. */
	c.charge_efficiency = 0.9995;
	assert_int_equal(model_init(&m, &c), RIG_OK);
	for (int i = 0; i < 360; i++)
		model_step(&m, 1.0, 10.0, 0);
	assert_near(model_cell_soc_frac(&m, 0), 0.59995, 1e-9);

	/* Self-discharge 2 %/month: 30 days at rest takes 50 % to 48 %. */
	c.charge_efficiency = 1.0;
	c.self_discharge_pct_month = 2.0;
	assert_int_equal(model_init(&m, &c), RIG_OK);
	for (int h = 0; h < 30 * 24; h++)
		model_step(&m, 3600.0, 0.0, 0);
	assert_near(model_cell_soc_frac(&m, 0), 0.48, 1e-9);
}

static void arrhenius_factors(void **state)
{
	(void)state;
	/* exp(20000 / 8.3145 * (1/273.15 - 1/298.15)) = exp(2405.4 * 3.0698e-4) = exp(0.7384) = 2.093 */
	assert_near(model_arrhenius_factor(0.0), 2.09, 0.005);
	assert_near(model_arrhenius_factor(25.0), 1.0, 1e-12);
	assert_near(model_arrhenius_factor(-20.0), 4.20, 0.01);
	assert_near(model_arrhenius_factor(45.0), 0.60, 0.01);

	/* And the cell's resistance follows the pack temperature. */
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 1, 100.0);
	c.ambient_C = 0.0;
	assert_int_equal(model_init(&m, &c), RIG_OK);
	assert_near(model_cell_R0_ohm(&m, 0) / m.r0_ohm, model_arrhenius_factor(0.0), 1e-12);
}

static double rel_sd(const double *x, unsigned n)
{
	double mean = 0.0, var = 0.0;
	for (unsigned i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (unsigned i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	return sqrt(var / (n - 1)) / mean;
}

static void seed_determinism_and_spread(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model a, b, other;
	model_cfg_defaults(&c);
	c.cells = 32;
	c.seed = 7;
	c.capacity_sigma = 0.003;
	c.resistance_sigma = 0.02;
	c.soc_sigma_pct = 0.5;
	assert_int_equal(model_init(&a, &c), RIG_OK);
	assert_int_equal(model_init(&b, &c), RIG_OK);
	assert_memory_equal(a.cell, b.cell, sizeof a.cell);
	assert_memory_equal(a.ntc_offset_C, b.ntc_offset_C, sizeof a.ntc_offset_C);
	c.seed = 8;
	assert_int_equal(model_init(&other, &c), RIG_OK);
	assert_memory_not_equal(a.cell, other.cell, sizeof a.cell);

	/* The sample spread is near the asked sigma (32 draws: within about +-40 %). */
	double cap[32], r[32], soc[32];
	for (unsigned i = 0; i < 32; i++) {
		cap[i] = a.cell[i].capacity_Ah;
		r[i] = a.cell[i].r_scale;
		soc[i] = a.cell[i].soc_frac;
	}
	assert_in_range((long)(rel_sd(cap, 32) * 1e5), 180, 420);     /* 0.3 % */
	assert_in_range((long)(rel_sd(r, 32) * 1e4), 120, 280);        /* 2 % */
	/* SOC: absolute sigma 0.5 % (mean 0.5), in 0.01 % units. */
	assert_in_range((long)(rel_sd(soc, 32) * 0.5 * 1e4), 30, 70);

	/* Sigma 0 means identical cells. */
	c.capacity_sigma = c.resistance_sigma = c.soc_sigma_pct = 0.0;
	assert_int_equal(model_init(&a, &c), RIG_OK);
	for (unsigned i = 1; i < 32; i++) {
		assert_true(a.cell[i].capacity_Ah == a.cell[0].capacity_Ah);
		assert_true(a.cell[i].r_scale == 1.0);
		assert_true(a.cell[i].soc_frac == 0.5);
	}
}

static void balancing_drains_only_flagged_cells(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 4, 100.0);
	assert_int_equal(model_init(&m, &c), RIG_OK);

	/* Cells 1 and 3 (mask 0b0101) bleed for one hour at 0 A through R = 3.2 V / 0.06 A
	 * = 53.33 Ohm: I = 3.265 / 53.33 = 0.0612 A, 0.0612 Ah of 100 Ah = 0.000612 of SOC. */
	for (int i = 0; i < 3600; i++)
		model_step(&m, 1.0, 0.0, 0x5u);
	double drained = 3.265 * 0.060 / 3.2 / 100.0;
	assert_near(model_cell_soc_frac(&m, 0), 0.5 - drained, 2e-6);
	assert_near(model_cell_soc_frac(&m, 2), 0.5 - drained, 2e-6);
	assert_true(model_cell_soc_frac(&m, 1) == 0.5);
	assert_true(model_cell_soc_frac(&m, 3) == 0.5);
	/* Bits for cells the pack does not have are ignored. */
	model_step(&m, 1.0, 0.0, 0xFFFFFFF0u);
	assert_int_equal(m.bleed_mask, 0);
}

static void thermal_node_heats_and_cools(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 1, 100.0);
	c.ntc_count = 2;
	c.ntc_offset_C = 0.3;
	assert_int_equal(model_init(&m, &c), RIG_OK);

	/* 100 A through R0 + R1 = 0.42 + 0.56 mOhm: about 9.8 W into 5 W/K, tau 1500/5 = 300 s;
	 * after 600 s the rise is near 1.96 * (1 - exp(-2)) = 1.7 K. */
	for (int i = 0; i < 600; i++)
		model_step(&m, 1.0, 100.0, 0);
	assert_in_range((long)((m.temp_C - 25.0) * 100), 140, 200);
	for (unsigned k = 0; k < 2; k++)
		assert_true(fabs(model_temp_C(&m, k) - m.temp_C) <= 0.3);
	/* An hour at rest: back to ambient (1.7 K * exp(-12)). */
	for (int i = 0; i < 3600; i++)
		model_step(&m, 1.0, 0.0, 0);
	assert_near(m.temp_C, 25.0, 0.01);
}

static void leak_drains_one_cell_unseen(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 4, 100.0);
	c.self_discharge_pct_month = 2.0;       /* the leak comes on top of it */
	assert_int_equal(model_init(&m, &c), RIG_OK);
	for (unsigned i = 0; i < 4; i++)
		assert_true(m.cell[i].leak_A == 0.0);
	model_cell_drift(&m, 1, 1.0, 1.0, 1.0);

	/* One hour at 0 A: self-discharge takes 2 % * 3600 / (30 * 86400) = 2.7778e-5 of every
	 * cell; the leak another 1 A * 1 h / 100 Ah = 0.01 of cell 2. Both are linear in time
	 * and independent of the state, so 3600 steps add up to that exactly but for rounding:
	 * at most half an ulp of 0.5 (5.6e-17) per step, 2e-13 in all; 1e-12 is plenty. */
	const double sd = 0.02 * 3600.0 / (30.0 * 86400.0);
	for (int i = 0; i < 3600; i++)
		model_step(&m, 1.0, 0.0, 0);
	assert_near(model_cell_soc_frac(&m, 1), 0.5 - sd - 0.01, 1e-12);
	for (unsigned i = 0; i < 4; i++)
		if (i != 1)
			assert_near(model_cell_soc_frac(&m, i), 0.5 - sd, 1e-12);
	/* Nothing of it shows outside the cell: no string current, no drop across R0. */
	assert_true(m.pack_I_A == 0.0);
	assert_true(m.cell[1].I_A == 0.0);
	assert_near(model_cell_V(&m, 1),
	                   model_ocv_V(MODEL_CHEM_LFP, model_cell_soc_frac(&m, 1)), 1e-15);

	/* Unlike self-discharge, a short does not stop at 0 %: it drives the cell down to the
	 * model's floor. 1 A from 1 % of 1 Ah runs past 0 in 36 s. */
	ideal_cfg(&c, 2, 1.0);
	assert_int_equal(model_init(&m, &c), RIG_OK);
	model_set_cell_soc_frac(&m, 0, 0.01);
	model_cell_drift(&m, 0, 1.0, 1.0, 1.0);
	for (int i = 0; i < 3600; i++)
		model_step(&m, 1.0, 0.0, 0);
	assert_true(model_cell_soc_frac(&m, 0) == MODEL_SOC_MIN_FRAC);
	assert_true(model_cell_soc_frac(&m, 1) == 0.5);
}

static void drift_fades_capacity_and_raises_resistance(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	ideal_cfg(&c, 4, 100.0);
	c.heat_capacity_J_K = 1e12;             /* 25 degC throughout: R factors from drift only */
	assert_int_equal(model_init(&m, &c), RIG_OK);
	double r0 = model_cell_R0_ohm(&m, 0), r1 = model_cell_R1_ohm(&m, 0);

	/* 80 % of 100 Ah holding the same 50 Ah: 50 / 80 = 0.625. */
	model_cell_drift(&m, 2, 0.8, 1.0, 0.0);
	assert_near(m.cell[2].capacity_Ah, 80.0, 1e-12);
	assert_near(model_cell_soc_frac(&m, 2), 0.625, 1e-12);
	assert_near(model_cell_soc_frac(&m, 2) * m.cell[2].capacity_Ah, 50.0, 1e-12);
	/* A recovering cell (factor above 1) reads lower: 50 / 125 = 0.4. */
	model_cell_drift(&m, 3, 1.25, 1.0, 0.0);
	assert_near(model_cell_soc_frac(&m, 3), 0.4, 1e-12);
	/* The same charge in half the capacity would be 180 %: held at the model's ceiling. */
	model_set_cell_soc_frac(&m, 1, 0.9);
	model_cell_drift(&m, 1, 0.5, 1.0, 0.0);
	assert_true(model_cell_soc_frac(&m, 1) == MODEL_SOC_MAX_FRAC);

	/* Resistance times r_factor, R0 and R1 alike; the SOC (and its R bowl) stays. */
	model_cell_drift(&m, 0, 1.0, 1.5, 0.0);
	assert_near(model_cell_R0_ohm(&m, 0), 1.5 * r0, 1e-15);
	assert_near(model_cell_R1_ohm(&m, 0), 1.5 * r1, 1e-15);
	assert_true(model_cell_soc_frac(&m, 0) == 0.5);
	model_cell_drift(&m, 0, 1.0, 2.0, 0.0);            /* factors compound */
	assert_near(model_cell_R0_ohm(&m, 0), 3.0 * r0, 1e-15);

	/* The faded cell now moves faster: 8 A for 1 h is 8 / 80 = 0.1 of it, 8 / 100 of a
	 * healthy one (cell 1 sits at the ceiling, past the clamp, so it is left out). */
	double before2 = model_cell_soc_frac(&m, 2), before0 = model_cell_soc_frac(&m, 0);
	for (int i = 0; i < 3600; i++)
		model_step(&m, 1.0, -8.0, 0);
	assert_near(before2 - model_cell_soc_frac(&m, 2), 0.10, 1e-9);
	assert_near(before0 - model_cell_soc_frac(&m, 0), 0.08, 1e-9);

	/* leak_A is set, not added; a cell the pack lacks is left alone. */
	model_cell_drift(&m, 3, 1.0, 1.0, 0.5);
	model_cell_drift(&m, 3, 1.0, 1.0, 0.5);
	assert_true(m.cell[3].leak_A == 0.5);
	model_cell_drift(&m, 3, 1.0, 1.0, 0.0);
	assert_true(m.cell[3].leak_A == 0.0);
	struct model_cell untouched = m.cell[4];
	model_cell_drift(&m, 4, 0.5, 2.0, 1.0);
	assert_memory_equal(&m.cell[4], &untouched, sizeof untouched);
}

static void init_rejects_out_of_range(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;

	model_cfg_defaults(&c);
	assert_int_equal(model_init(&m, &c), RIG_OK);
	c.cells = 0;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	c.cells = 33;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.ntc_count = 0;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	c.ntc_count = 9;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.capacity_Ah = 0.0;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.soc_pct = 101.0;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.charge_efficiency = 1.5;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.capacity_Ah = NAN;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
	model_cfg_defaults(&c);
	c.chem = (enum model_chem)7;
	assert_int_equal(model_init(&m, &c), RIG_ERR_ARG);
}

/* The step is exact for a constant current in V1 (zero-order hold), SOC (linear) and the
 * thermal node (exponential): one 60 s step must land where 600 steps of 100 ms do, to well
 * inside what a BMS reports (1 mV, 0.1 K). What separates them: R0/R1 held at their start value
 * while SOC and temperature drift inside the interval (0.05 mV here), and the RC pair's heat
 * taken from the mean of V1 at both ends (trapezoid: 0.03 K after 60 s at 200 A, tau 30 s).
 * This is what would let time jump further than 100 ms. */
static void one_long_step_matches_many_short_ones(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model big, small;
	model_cfg_defaults(&c);
	c.cells = 16;
	c.capacity_Ah = 280.0;
	c.soc_pct = 40.0;
	assert_int_equal(model_init(&big, &c), RIG_OK);
	small = big;
	const double I_A[] = { 140.0, -200.0, 0.0 };
	for (size_t k = 0; k < sizeof I_A / sizeof I_A[0]; k++) {
		model_step(&big, 60.0, I_A[k], 0x5u);
		for (int i = 0; i < 600; i++)
			model_step(&small, 0.1, I_A[k], 0x5u);
		for (unsigned i = 0; i < c.cells; i++) {
			assert_true(fabs(model_cell_V(&big, i) - model_cell_V(&small, i)) < 0.2e-3);
			assert_true(fabs(model_cell_soc_frac(&big, i) - model_cell_soc_frac(&small, i)) < 1e-6);
		}
		assert_true(fabs(model_temp_C(&big, 0) - model_temp_C(&small, 0)) < 0.05);
		assert_true(fabs(big.time_s - small.time_s) < 1e-6);
	}
}

/* Cell voltages are evaluated once per step and remembered with their inputs: a scenario
 * writing the temperature, a SOC set or a drift after the step must read fresh values. */
static void cell_voltage_memo_never_goes_stale(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m, fresh;
	model_cfg_defaults(&c);
	c.cells = 4;
	assert_int_equal(model_init(&m, &c), RIG_OK);
	model_step(&m, 1.0, -80.0, 0);
	double before_V = model_cell_V(&m, 0);
	m.temp_C -= 30.0;                          /* colder: R0 higher, the cell sags more */
	fresh = m;
	fresh.memo_ok = 0;
	assert_true(model_cell_V(&m, 0) < before_V - 1e-3);
	for (unsigned i = 0; i < c.cells; i++)
		assert_true(model_cell_V(&m, i) == model_cell_V(&fresh, i));
	assert_true(model_pack_V(&m) == model_pack_V(&fresh));
	model_set_cell_soc_frac(&m, 1, 0.9);
	model_cell_drift(&m, 2, 0.8, 1.5, 0.0);
	fresh = m;
	fresh.memo_ok = 0;
	for (unsigned i = 0; i < c.cells; i++)
		assert_true(model_cell_V(&m, i) == model_cell_V(&fresh, i));
	/* And the Arrhenius memo answers each temperature for itself. */
	assert_true(model_arrhenius_factor(-10.0) > model_arrhenius_factor(25.0));
	assert_true(model_arrhenius_factor(25.0) == 1.0);
}

/* The RC and thermal decays come from a memo of the last two exp() arguments: intervals that
 * come back in turn (a poll's two requests), with a third in between, give each step exactly
 * what exp() of its own interval gives, bit for bit. */
static void repeated_intervals_step_as_exp_says(void **state)
{
	(void)state;
	struct model_cfg c;
	struct model m;
	static const double dt_s[] = { 0.9, 0.1, 0.9, 0.1, 0.3, 0.9, 0.3, 0.1, 0.1, 60.0, 0.9 };

	ideal_cfg(&c, 2, 100.0);
	assert_int_equal(model_init(&m, &c), RIG_OK);
	model_step(&m, 5.0, 20.0, 0);                 /* V1 and the temperature away from rest */
	for (size_t k = 0; k < sizeof dt_s / sizeof dt_s[0]; k++) {
		double I_A = k % 2 ? -15.0 : 12.0;
		double decay = exp(-dt_s[k] / m.tau1_s);
		double r0 = model_cell_R0_ohm(&m, 0), r1 = model_cell_R1_ohm(&m, 0);
		double v1_old = m.cell[0].V1_V, v1 = v1_old * decay + r1 * (1.0 - decay) * I_A;
		double mid = 0.5 * (v1_old + v1);
		double heat_W = 2.0 * (I_A * I_A * r0 + mid * mid / r1);
		double G = m.heat_transfer_W_K, C = m.heat_capacity_J_K, T_inf = m.ambient_C + heat_W / G;
		double T = T_inf + (m.temp_C - T_inf) * exp(-dt_s[k] * G / C);

		model_step(&m, dt_s[k], I_A, 0);
		assert_true(m.cell[0].V1_V == v1);
		assert_true(m.temp_C == T);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ocv_tables_are_strictly_increasing),
		cmocka_unit_test(ocv_interpolates_by_hand),
		cmocka_unit_test(rc_step_response_matches_hand_value),
		cmocka_unit_test(soc_integration),
		cmocka_unit_test(arrhenius_factors),
		cmocka_unit_test(seed_determinism_and_spread),
		cmocka_unit_test(balancing_drains_only_flagged_cells),
		cmocka_unit_test(thermal_node_heats_and_cools),
		cmocka_unit_test(leak_drains_one_cell_unseen),
		cmocka_unit_test(drift_fades_capacity_and_raises_resistance),
		cmocka_unit_test(init_rejects_out_of_range),
		cmocka_unit_test(one_long_step_matches_many_short_ones),
		cmocka_unit_test(cell_voltage_memo_never_goes_stale),
		cmocka_unit_test(repeated_intervals_step_as_exp_says),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
