/* The pack model (model.h). Numbers and their sources: docs/field-notes.md §5. */
#include "bmsrig/sim/model.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define GAS_CONSTANT_J_MOLK 8.314462618
#define ARRHENIUS_EA_J_MOL  20000.0   /* PyBaMM ECM example set */
#define KELVIN_AT_0C        273.15
#define REF_TEMP_C          25.0
#define SECONDS_PER_MONTH   (30.0 * 86400.0)
/* PyBaMM ECM: DC resistance rises quadratically to 1.2x at 0 % and 100 % SOC. */
#define R_SOC_RISE          0.2
#define TWO_PI              6.283185307179586

/* OCV tables, LibreSolar bms-firmware bms_common.c, stored ascending: entry k is k * 5 % SOC.
 * The SOC axis is implicit, which sidesteps the source's axis bug (docs/field-notes.md §5.3: its
 * soc_default[] reads ... 80, 85, 70 ... where 75 was meant). */
static const double ocv_lfp_V[MODEL_OCV_POINTS] = {
	2.833, 3.132, 3.177, 3.190, 3.213, 3.226, 3.240, 3.252, 3.262, 3.264, 3.265,
	3.268, 3.271, 3.275, 3.283, 3.296, 3.304, 3.308, 3.309, 3.314, 3.392
};
static const double ocv_nmc_V[MODEL_OCV_POINTS] = {
	2.800, 3.588, 3.684, 3.702, 3.726, 3.745, 3.764, 3.787, 3.803, 3.819, 3.838,
	3.858, 3.883, 3.924, 3.962, 3.993, 4.026, 4.056, 4.089, 4.135, 4.198
};

/* What differs per chemistry beyond the OCV curve. Resistances are per cell at 25 degC and
 * 50 % SOC, scaled inversely with capacity from a reference cell:
 *   LFP: 280 Ah, R0 0.15 mOhm, R1 0.20 mOhm (docs/field-notes.md §5.4 suggested defaults);
 *   NMC: 100 Ah, R0 0.40 mOhm, R1 0.60 mOhm (PyBaMM ECM example set, §5.2). */
struct chem_info {
	const double *ocv_V;
	double nominal_V;
	double ref_capacity_Ah, ref_r0_ohm, ref_r1_ohm;
};
static const struct chem_info chem_table[] = {
	[MODEL_CHEM_LFP] = { ocv_lfp_V, 3.2, 280.0, 0.15e-3, 0.20e-3 },
	[MODEL_CHEM_NMC] = { ocv_nmc_V, 3.7, 100.0, 0.40e-3, 0.60e-3 },
};

static const struct chem_info *chem_of(enum model_chem chem)
{
	return &chem_table[chem == MODEL_CHEM_NMC ? MODEL_CHEM_NMC : MODEL_CHEM_LFP];
}

/* ---- deterministic randomness: splitmix64, state on the caller's stack ------------------ */

struct rng { uint64_t s; };

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so log() below is safe. */
static double rng_uniform(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller; the second value is thrown away to keep draws in lockstep). */
static double rng_normal(struct rng *r)
{
	double u1 = rng_uniform(r), u2 = rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* A spread factor 1 + sigma * N(0,1), kept physical (a 4-sigma B-grade draw must not go
 * negative). */
static double spread_factor(struct rng *r, double sigma)
{
	return clamp(1.0 + sigma * rng_normal(r), 0.5, 1.5);
}

/* ---- public ------------------------------------------------------------------------------ */

void model_cfg_defaults(struct model_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->cells = 4;
	cfg->chem = MODEL_CHEM_LFP;
	cfg->capacity_Ah = 100.0;
	cfg->soc_pct = 50.0;
	cfg->soc_sigma_pct = 0.5;
	cfg->ambient_C = 25.0;
	cfg->ntc_count = 2;
	cfg->seed = 1;
	cfg->capacity_sigma = 0.003;      /* A-grade, docs/field-notes.md §5.4 */
	cfg->resistance_sigma = 0.02;
	cfg->r0_ohm = 0.0;                /* from chemistry and capacity */
	cfg->r1_ohm = 0.0;
	cfg->tau1_s = 30.0;
	cfg->self_discharge_pct_month = 2.0;
	cfg->charge_efficiency = 0.9995;
	cfg->bleed_A = 0.060;
	cfg->heat_capacity_J_K = 0.0;
	cfg->heat_transfer_W_K = 0.0;
	cfg->ntc_offset_C = 0.3;
}

static int in_range(double x, double lo, double hi)
{
	return isfinite(x) && x >= lo && x <= hi;
}

static int cfg_valid(const struct model_cfg *c)
{
	return c->cells >= 1 && c->cells <= MODEL_CELLS_MAX &&
	       (c->chem == MODEL_CHEM_LFP || c->chem == MODEL_CHEM_NMC) &&
	       c->ntc_count >= 1 && c->ntc_count <= MODEL_NTC_MAX &&
	       in_range(c->capacity_Ah, 0.001, 100000.0) &&
	       in_range(c->soc_pct, 0.0, 100.0) &&
	       in_range(c->soc_sigma_pct, 0.0, 50.0) &&
	       in_range(c->ambient_C, -60.0, 120.0) &&
	       in_range(c->capacity_sigma, 0.0, 0.5) &&
	       in_range(c->resistance_sigma, 0.0, 0.5) &&
	       in_range(c->r0_ohm, 0.0, 10.0) && in_range(c->r1_ohm, 0.0, 10.0) &&
	       in_range(c->tau1_s, 1e-3, 1e6) &&
	       in_range(c->self_discharge_pct_month, 0.0, 100.0) &&
	       in_range(c->charge_efficiency, 0.5, 1.0) &&
	       in_range(c->bleed_A, 0.0, 10.0) &&
	       in_range(c->heat_capacity_J_K, 0.0, 1e12) &&
	       in_range(c->heat_transfer_W_K, 0.0, 1e6) &&
	       in_range(c->ntc_offset_C, 0.0, 10.0);
}

rig_rc model_init(struct model *m, const struct model_cfg *cfg)
{
	if (m == NULL || cfg == NULL || !cfg_valid(cfg))
		return RIG_ERR_ARG;
	const struct chem_info *ci = chem_of(cfg->chem);
	double scale = ci->ref_capacity_Ah / cfg->capacity_Ah;

	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	m->r0_ohm = cfg->r0_ohm > 0.0 ? cfg->r0_ohm : ci->ref_r0_ohm * scale;
	m->r1_ohm = cfg->r1_ohm > 0.0 ? cfg->r1_ohm : ci->ref_r1_ohm * scale;
	m->tau1_s = cfg->tau1_s;
	m->bleed_ohm = cfg->bleed_A > 0.0 ? ci->nominal_V / cfg->bleed_A : INFINITY;
	/* PyBaMM ECM thermal set per 100 Ah cell: cell 1000 J/K plus jig 500 J/K; cell-jig and
	 * jig-air 10 W/K each, in series 5 W/K. Lumped into one node and scaled with capacity. */
	double cell_C = cfg->heat_capacity_J_K > 0.0 ? cfg->heat_capacity_J_K
	                                             : 15.0 * cfg->capacity_Ah;
	double cell_G = cfg->heat_transfer_W_K > 0.0 ? cfg->heat_transfer_W_K
	                                             : 0.05 * cfg->capacity_Ah;
	m->heat_capacity_J_K = cell_C * cfg->cells;
	m->heat_transfer_W_K = cell_G * cfg->cells;
	m->ambient_C = cfg->ambient_C;
	m->temp_C = cfg->ambient_C;

	/* Draw order is part of the seed contract: per cell capacity, resistance, SOC; then the
	 * probe offsets. Append new draws at the end so old seeds keep their packs. */
	struct rng r = { (uint64_t)cfg->seed * 0x2545F4914F6CDD1Dull + 0x1234567u };
	for (unsigned i = 0; i < cfg->cells; i++) {
		struct model_cell *c = &m->cell[i];
		c->capacity_Ah = cfg->capacity_Ah * spread_factor(&r, cfg->capacity_sigma);
		c->r_scale = spread_factor(&r, cfg->resistance_sigma);
		c->soc_frac = clamp((cfg->soc_pct + cfg->soc_sigma_pct * rng_normal(&r)) / 100.0,
		                    0.0, 1.0);
	}
	for (unsigned k = 0; k < cfg->ntc_count; k++)
		m->ntc_offset_C[k] = cfg->ntc_offset_C * (2.0 * rng_uniform(&r) - 1.0);
	return RIG_OK;
}

const double *model_ocv_table_V(enum model_chem chem)
{
	return chem_of(chem)->ocv_V;
}

double model_nominal_V(enum model_chem chem)
{
	return chem_of(chem)->nominal_V;
}

double model_ocv_V(enum model_chem chem, double soc_frac)
{
	const double *t = chem_of(chem)->ocv_V;
	const unsigned last = MODEL_OCV_POINTS - 1u;
	if (!(soc_frac > 0.0))                       /* also catches NaN */
		return t[0] + clamp(soc_frac, MODEL_SOC_MIN_FRAC, 0.0) * MODEL_OCV_KNEE_V_PER_FRAC;
	if (soc_frac >= 1.0)
		return t[last] + (clamp(soc_frac, 1.0, MODEL_SOC_MAX_FRAC) - 1.0) *
		                 MODEL_OCV_KNEE_V_PER_FRAC;
	double x = soc_frac * last;
	unsigned k = (unsigned)x;
	if (k >= last)
		k = last - 1u;
	return t[k] + (x - k) * (t[k + 1] - t[k]);
}

double model_soc_frac_for_ocv(enum model_chem chem, double ocv_V)
{
	const double *t = chem_of(chem)->ocv_V;
	const unsigned last = MODEL_OCV_POINTS - 1u;
	if (ocv_V <= t[0])
		return clamp((ocv_V - t[0]) / MODEL_OCV_KNEE_V_PER_FRAC, MODEL_SOC_MIN_FRAC, 0.0);
	if (ocv_V >= t[last])
		return clamp(1.0 + (ocv_V - t[last]) / MODEL_OCV_KNEE_V_PER_FRAC, 1.0,
		             MODEL_SOC_MAX_FRAC);
	unsigned k = 0;
	while (k + 1u < last && ocv_V > t[k + 1])
		k++;
	return (k + (ocv_V - t[k]) / (t[k + 1] - t[k])) / last;
}

/* One-entry memo: every caller asks about the same pack temperature between steps (16 cells
 * x R0 and R1 x several callers per step), and exp() was the model's largest cost. */
double model_arrhenius_factor(double temp_C)
{
	static _Thread_local double last_C = NAN, last_factor = 1.0;

	if (temp_C == last_C)
		return last_factor;
	double T_K = temp_C + KELVIN_AT_0C, ref_K = REF_TEMP_C + KELVIN_AT_0C;
	last_factor = exp(ARRHENIUS_EA_J_MOL / GAS_CONSTANT_J_MOLK * (1.0 / T_K - 1.0 / ref_K));
	last_C = temp_C;
	return last_factor;
}

/* Everything R0 and R1 share but temperature: spread and the SOC bowl. The temperature factor
 * is the same for every cell; loops over the cells take it once (arrhenius). */
static double r_factor_at(const struct model *m, unsigned cell, double arrhenius)
{
	double s = (clamp(m->cell[cell].soc_frac, 0.0, 1.0) - 0.5) / 0.5;
	return m->cell[cell].r_scale * arrhenius * (1.0 + R_SOC_RISE * s * s);
}

static double r_factor(const struct model *m, unsigned cell)
{
	return r_factor_at(m, cell, model_arrhenius_factor(m->temp_C));
}

double model_cell_R0_ohm(const struct model *m, unsigned cell)
{
	return cell < m->cfg.cells ? m->r0_ohm * r_factor(m, cell) : 0.0;
}

double model_cell_R1_ohm(const struct model *m, unsigned cell)
{
	return cell < m->cfg.cells ? m->r1_ohm * r_factor(m, cell) : 0.0;
}

/* Terminal voltage of a cell inside the pack, the temperature factor given. */
static double cell_V_at(const struct model *m, unsigned cell, double arrhenius)
{
	const struct model_cell *c = &m->cell[cell];
	return model_ocv_V(m->cfg.chem, c->soc_frac) + m->r0_ohm * r_factor_at(m, cell, arrhenius) * c->I_A +
	       c->V1_V;
}

/* A cell beyond the pack reads 0 V: what a BMS configured for more cells sees on an
 * unconnected sense line. */
double model_cell_V(const struct model *m, unsigned cell)
{
	if (cell >= m->cfg.cells)
		return 0.0;
	const double *memo_V = model_cells_V(m);
	return memo_V ? memo_V[cell] : cell_V_at(m, cell, model_arrhenius_factor(m->temp_C));
}

/* Evaluated once per step, after it: the BMS logic, the truth and the judge read the same
 * voltages several times (the pack's sum too) before the next step changes them. */
static void memo_voltages(struct model *m)
{
	const double arrhenius = model_arrhenius_factor(m->temp_C);
	double v = 0.0;

	for (unsigned i = 0; i < m->cfg.cells; i++) {
		m->memo_cell_V[i] = cell_V_at(m, i, arrhenius);
		v += m->memo_cell_V[i];            /* the order model_pack_V adds in */
	}
	m->memo_pack_V = v;
	m->memo_temp_C = m->temp_C;
	m->memo_ok = 1;
}

double model_pack_V(const struct model *m)
{
	if (m->memo_ok && m->memo_temp_C == m->temp_C)
		return m->memo_pack_V;
	double v = 0.0;
	for (unsigned i = 0; i < m->cfg.cells; i++)
		v += model_cell_V(m, i);
	return v;
}

double model_temp_C(const struct model *m, unsigned ntc)
{
	return m->temp_C + (ntc < MODEL_NTC_MAX ? m->ntc_offset_C[ntc] : 0.0);
}

double model_cell_soc_frac(const struct model *m, unsigned cell)
{
	return cell < m->cfg.cells ? m->cell[cell].soc_frac : 0.0;
}

void model_set_cell_soc_frac(struct model *m, unsigned cell, double soc_frac)
{
	if (cell >= m->cfg.cells || !isfinite(soc_frac))
		return;
	m->memo_ok = 0;
	m->cell[cell].soc_frac = clamp(soc_frac, MODEL_SOC_MIN_FRAC, MODEL_SOC_MAX_FRAC);
	m->cell[cell].V1_V = 0.0;
	m->cell[cell].I_A = 0.0;
}

void model_cell_drift(struct model *m, unsigned cell, double capacity_factor, double r_factor,
                      double leak_A)
{
	if (cell >= m->cfg.cells)
		return;
	struct model_cell *c = &m->cell[cell];
	double old_Ah = c->capacity_Ah;
	m->memo_ok = 0;
	c->capacity_Ah = old_Ah * capacity_factor;
	/* The charge held stays: the same Ah in a smaller cell is a higher state of charge. */
	c->soc_frac = clamp(c->soc_frac * old_Ah / c->capacity_Ah, MODEL_SOC_MIN_FRAC,
	                    MODEL_SOC_MAX_FRAC);
	c->r_scale *= r_factor;
	c->leak_A = leak_A;
}

/* exp() of the same argument as one of the last two: in lockstep a unit is stepped over the
 * same few intervals again and again (a poll's two requests, the 100 ms step), so the RC and
 * thermal decays repeat exactly. One memo per caller; the value is exp()'s own, bit for bit. */
struct exp_memo {
	double x[2], y[2];
	unsigned next;
};

static double exp_memo(struct exp_memo *e, double x)
{
	if (x == e->x[0])
		return e->y[0];
	if (x == e->x[1])
		return e->y[1];
	e->x[e->next] = x;
	e->y[e->next] = exp(x);
	e->next ^= 1u;
	return e->y[e->next ^ 1u];
}

void model_step(struct model *m, double dt_s, double current_A, uint32_t bleed_mask)
{
	static _Thread_local struct exp_memo rc_memo = { { NAN, NAN }, { 0.0, 0.0 }, 0 },
	                                     heat_memo = { { NAN, NAN }, { 0.0, 0.0 }, 0 };
	if (!(dt_s > 0.0) || !isfinite(dt_s) || !isfinite(current_A))
		return;
	const double decay = exp_memo(&rc_memo, -dt_s / m->tau1_s);
	const double sd_frac = m->cfg.self_discharge_pct_month / 100.0 * dt_s / SECONDS_PER_MONTH;
	const double arrhenius = model_arrhenius_factor(m->temp_C);
	double heat_W = 0.0;

	if (m->cfg.cells < 32u)
		bleed_mask &= (1u << m->cfg.cells) - 1u;
	for (unsigned i = 0; i < m->cfg.cells; i++) {
		struct model_cell *c = &m->cell[i];
		/* The bleed resistor hangs across the cell: its current leaves the cell, not the
		 * string. Explicit in V (the previous step's terminal voltage); the bleed is tiny. */
		double bleed_A = 0.0;
		if (bleed_mask & (1u << i)) {
			double v = model_cell_V(m, i);
			bleed_A = v > 0.0 ? v / m->bleed_ohm : 0.0;
		}
		double I_A = current_A - bleed_A;
		double rf = r_factor_at(m, i, arrhenius), r0 = m->r0_ohm * rf, r1 = m->r1_ohm * rf;
		double v1_old = c->V1_V;

		/* Exact zero-order hold of dV1/dt = -V1/tau + I/C1 for I constant over the step. */
		c->V1_V = v1_old * decay + r1 * (1.0 - decay) * I_A;
		double eta = I_A > 0.0 ? m->cfg.charge_efficiency : 1.0;
		/* A leak is a current like any other to the cell's charge (unlike self-discharge it
		 * does not stop at 0 %), but it flows inside the cell: not in I_A, not through R0. */
		double soc = c->soc_frac + (eta * I_A - c->leak_A) * dt_s / (3600.0 * c->capacity_Ah);
		if (soc > 0.0)
			soc = soc - sd_frac > 0.0 ? soc - sd_frac : 0.0;
		c->soc_frac = clamp(soc, MODEL_SOC_MIN_FRAC, MODEL_SOC_MAX_FRAC);
		c->I_A = I_A;

		double v1_mid = 0.5 * (v1_old + c->V1_V);
		heat_W += I_A * I_A * r0 + v1_mid * v1_mid / r1;
	}

	/* One thermal node, exact for constant heat over the step:
	 * T -> Ta + P/G along exp(-t G / C). */
	double G = m->heat_transfer_W_K, C = m->heat_capacity_J_K;
	double T_inf = m->ambient_C + heat_W / G;
	m->temp_C = T_inf + (m->temp_C - T_inf) * exp_memo(&heat_memo, -dt_s * G / C);

	m->pack_I_A = current_A;
	m->bleed_mask = bleed_mask;
	m->time_s += dt_s;
	memo_voltages(m);
}
