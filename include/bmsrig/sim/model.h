/*
 * The physical pack: the truth the emulated BMS measures. 1-32 series cells, each a Thevenin
 * 1RC cell (docs/field-notes.md §5.1: R0 plus one R1||C1 pair stepped by its exact zero-order-hold
 * form) on a 21-point OCV table (docs/field-notes.md §5.3), Arrhenius resistance (Ea = 20 kJ/mol),
 * coulomb counting with charge efficiency, self-discharge, one lumped thermal node read by
 * 1-8 NTC probes, cell-to-cell spread from a seed, and passive balancing through bleed
 * resistors. Callers own the struct; no heap, no globals.
 *
 * Sign convention: current + = charging (the opposite of docs/field-notes.md §5.1, which takes
 * + = discharge), the same as the JBD wire format and pack_state.
 */
#ifndef BMSRIG_MODEL_H
#define BMSRIG_MODEL_H

#include <stdint.h>
#include "bmsrig/core/rc.h"

#define MODEL_CELLS_MAX   32u
#define MODEL_NTC_MAX     8u
#define MODEL_OCV_POINTS  21u     /* 0 %, 5 %, ... 100 % */
#define MODEL_OCV_STEP_PCT 5u

enum model_chem { MODEL_CHEM_LFP = 0, MODEL_CHEM_NMC = 1 };

struct model_cfg {
	uint8_t cells;                   /* 1..32 */
	enum model_chem chem;
	double capacity_Ah;              /* nominal per cell (series pack: the pack's Ah) */
	double soc_pct;                  /* initial mean state of charge, 0..100 */
	double soc_sigma_pct;            /* spread of the initial SOC between cells (absolute %) */
	double ambient_C;                /* ambient, and the pack's initial temperature */
	uint8_t ntc_count;               /* 1..8 probes on the pack */
	uint32_t seed;                   /* every random draw comes from this */
	double capacity_sigma;           /* relative sigma of cell capacity (0.003 = 0.3 %) */
	double resistance_sigma;         /* relative sigma of R0 and R1 */
	double r0_ohm;                   /* per cell at 25 degC, 50 % SOC; 0 = from chem and capacity */
	double r1_ohm;                   /* the RC pair's resistance; 0 = from chem and capacity */
	double tau1_s;                   /* R1*C1 */
	double self_discharge_pct_month; /* of capacity, per 30 days */
	double charge_efficiency;        /* coulombic, applied to charge only */
	double bleed_A;                  /* balancing current at the chemistry's nominal voltage */
	double heat_capacity_J_K;        /* per cell; 0 = 10 J/K per Ah */
	double heat_transfer_W_K;        /* per cell to ambient; 0 = 5 W/K per 100 Ah */
	double ntc_offset_C;             /* each probe reads a fixed offset drawn from +-this */
};

struct model_cell {
	double soc_frac;       /* of this cell's own capacity; may run a little past 0..1 */
	double capacity_Ah;
	double r_scale;        /* manufacturing spread on R0 and R1 */
	double V1_V;           /* voltage across the RC pair, + while charging */
	double I_A;            /* current through the cell during the last step, + = charging */
	double leak_A;         /* an extra self-discharge path inside this cell (a soft short) */
};

/* All fields are readable. Scenarios may write ambient_C and temp_C directly; the cells change
 * only through the functions below (the voltage memo relies on it). */
struct model {
	struct model_cfg cfg;
	double r0_ohm, r1_ohm;          /* nominal cell values actually used (after the defaults) */
	double tau1_s;
	double bleed_ohm;               /* bleed resistor, sized from cfg.bleed_A */
	double heat_capacity_J_K;       /* whole pack */
	double heat_transfer_W_K;       /* whole pack to ambient */
	double ambient_C;
	double temp_C;                  /* the lumped pack temperature */
	double ntc_offset_C[MODEL_NTC_MAX];
	double pack_I_A;                /* what flowed during the last step */
	uint32_t bleed_mask;            /* the last step's bleed mask */
	double time_s;
	struct model_cell cell[MODEL_CELLS_MAX];
	/* Terminal voltages as the last step left them, computed once for every reader; valid
	 * while memo_ok and temp_C still equals memo_temp_C (a direct write of temp_C misses it). */
	int memo_ok;
	double memo_temp_C, memo_pack_V, memo_cell_V[MODEL_CELLS_MAX];
};

/* A 4S LFP 100 Ah pack at 50 %, 25 degC, 2 NTCs, A-grade spread (docs/field-notes.md §5.4). */
void model_cfg_defaults(struct model_cfg *cfg);
/* RIG_ERR_ARG when cells, ntc_count, capacity, soc or any sigma/efficiency is out of range. */
rig_rc model_init(struct model *m, const struct model_cfg *cfg);
/* Advance dt_s with current_A through the series string (+ = charging; what actually flows,
 * after the BMS's FETs). Bit i of bleed_mask bleeds cell i+1 through its bleed resistor. */
void model_step(struct model *m, double dt_s, double current_A, uint32_t bleed_mask);

/* Terminal voltages: OCV + (R0 * I) + V1 with the last step's current. */
double model_cell_V(const struct model *m, unsigned cell);
double model_pack_V(const struct model *m);
/* All the cells' terminal voltages at once (model_cell_V of each) while the step's memo holds,
 * else NULL: a reader of every cell each step skips a call per cell. */
static inline const double *model_cells_V(const struct model *m)
{
	return m->memo_ok && m->memo_temp_C == m->temp_C ? m->memo_cell_V : (const double *)0;
}
/* Probe ntc (0-based): the pack temperature plus that probe's fixed offset. */
double model_temp_C(const struct model *m, unsigned ntc);
double model_cell_soc_frac(const struct model *m, unsigned cell);
/* R0 and R1 of a cell now (spread, temperature and SOC applied). */
double model_cell_R0_ohm(const struct model *m, unsigned cell);
double model_cell_R1_ohm(const struct model *m, unsigned cell);
/* Forcing a cell's state (scenarios, tests): SOC, and the RC pair relaxed to 0. */
void model_set_cell_soc_frac(struct model *m, unsigned cell, double soc_frac);

/* Ageing and damage of one cell (scenarios): its capacity times capacity_factor (the charge it
 * holds stays, so its SOC rises as it fades), its R0 and R1 times r_factor, and leak_A drawn
 * from it all the time, which no current through the string shows. */
void model_cell_drift(struct model *m, unsigned cell, double capacity_factor, double r_factor,
                      double leak_A);

/* The OCV table: MODEL_OCV_POINTS values, entry k at SOC k * 5 %, ascending. */
const double *model_ocv_table_V(enum model_chem chem);
/* OCV at soc_frac, linear between table points. Past either end the curve continues on a
 * steep knee (MODEL_OCV_KNEE_V_PER_FRAC) so that overcharge and overdischarge reach the
 * protection thresholds as a real cell does. */
#define MODEL_OCV_KNEE_V_PER_FRAC 20.0    /* 0.2 V per % of SOC */
#define MODEL_SOC_MIN_FRAC (-0.05)        /* the state stops here, and at MAX */
#define MODEL_SOC_MAX_FRAC 1.05
double model_ocv_V(enum model_chem chem, double soc_frac);
/* Inverse of model_ocv_V (clamped to MODEL_SOC_MIN_FRAC..MODEL_SOC_MAX_FRAC). */
double model_soc_frac_for_ocv(enum model_chem chem, double ocv_V);
/* R(T) / R(25 degC) for Ea = 20 kJ/mol. */
double model_arrhenius_factor(double temp_C);
/* The chemistry's nominal cell voltage (3.2 V LFP, 3.7 V NMC). */
double model_nominal_V(enum model_chem chem);

#endif
