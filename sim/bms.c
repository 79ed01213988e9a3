/* The BMS's logic (bms.h): settings, measurement, protections, FETs, balancing, SOC. */
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/round.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DK_AT_0C            2731
#define CYCLE_CAP_PCT       80u          /* 80 % of the design capacity (the SP04S034: 224/280 Ah) */
#define OC_MAX_mA           300000       /* 300 A: keeps the default OC inside what boards hold */
#define DT_MAX_MS           (UINT32_MAX / 4u)

static uint16_t u16_round(double x)
{
	if (!(x > 0.0))
		return 0;
	return x >= 65535.0 ? 65535u : (uint16_t)round_nearest(x);
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* ---- settings by id -------------------------------------------------------------------------- */

#define BMS_SET_INFO_(id, nm, field, lo, hi) \
	[BMS_SET_##id] = { nm, offsetof(struct bms_settings, field), lo, hi },
static const struct bms_setting_info setting_info[BMS_SET_COUNT] = { BMS_SETTINGS(BMS_SET_INFO_) };
#undef BMS_SET_INFO_

const struct bms_setting_info *bms_setting_info(unsigned id)
{
	return id < BMS_SET_COUNT ? &setting_info[id] : NULL;
}

int bms_setting_find(const char *name)
{
	for (unsigned i = 0; name != NULL && i < BMS_SET_COUNT; i++)
		if (strcmp(setting_info[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int32_t *field_of(struct bms_settings *s, unsigned id)
{
	return (int32_t *)(void *)((char *)s + setting_info[id].offset);
}

int32_t bms_setting_get(const struct bms *b, unsigned id)
{
	if (id >= BMS_SET_COUNT)
		return 0;
	return *(const int32_t *)(const void *)((const char *)&b->set + setting_info[id].offset);
}

rig_rc bms_setting_check(unsigned id, int64_t value, char *why, size_t whycap)
{
	if (id >= BMS_SET_COUNT) {
		if (whycap > 0)
			snprintf(why, whycap, "no such setting");
		return RIG_ERR_ARG;
	}
	const struct bms_setting_info *in = &setting_info[id];
	if (value >= in->min && value <= in->max)
		return RIG_OK;
	if (whycap > 0)
		snprintf(why, whycap, "expected %" PRId32 "..%" PRId32 ", got %" PRId64, in->min,
		         in->max, value);
	return RIG_ERR_ARG;
}

rig_rc bms_setting_set(struct bms *b, unsigned id, int64_t value)
{
	rig_rc rc = bms_setting_check(id, value, NULL, 0);
	if (rc != RIG_OK)
		return rc;
	*field_of(&b->set, id) = (int32_t)value;
	if (id == BMS_SET_DESIGN_CAPACITY && b->remain_mAh > bms_full_mAh(b))
		b->remain_mAh = bms_full_mAh(b);
	return RIG_OK;
}

const struct bms_setting_map *bms_setting_map_find(const struct bms_setting_map *map, size_t n,
                                                   unsigned own)
{
	for (size_t i = 0; i < n; i++)
		if (map[i].own == own)
			return &map[i];
	return NULL;
}

/* ---- defaults ------------------------------------------------------------------------------ */

/* Factory values that do not depend on the pack's size: {setting, LFP, NMC}. LFP follows the
 * SP04S034 dump (docs/protocols/jbd.md §8 "real value") and the JBD LFP defaults of docs/field-notes.md §5.4; NMC uses
 * OV 4250/4150, UV 2800/3000 and foxBMS's 0..45 degC charge window. */
struct setting_default { uint8_t id; int32_t lfp, nmc; };
static const struct setting_default setting_defaults[] = {
	{ BMS_SET_FULL_CELL, 3500, 4200 },           /* 100 % snap */
	{ BMS_SET_EMPTY_CELL, 2800, 3000 },          /* 0 % snap and point */
	{ BMS_SET_MFG_YEAR, 2024, 2024 },
	{ BMS_SET_MFG_MONTH, 3, 3 },
	{ BMS_SET_MFG_DAY, 15, 15 },
	{ BMS_SET_CHG_OTP, 3281, 3181 },             /* 55.0 / 45.0 degC */
	{ BMS_SET_CHG_OTP_RELEASE, 3231, 3131 },     /* 50.0 / 40.0 */
	{ BMS_SET_CHG_UTP, 2731, 2731 },             /* 0.0 */
	{ BMS_SET_CHG_UTP_RELEASE, 2781, 2781 },     /* 5.0 */
	{ BMS_SET_DSG_OTP, 3331, 3331 },             /* 60.0 */
	{ BMS_SET_DSG_OTP_RELEASE, 3231, 3231 },     /* 50.0 */
	{ BMS_SET_DSG_UTP, 2531, 2531 },             /* -20.0 */
	{ BMS_SET_DSG_UTP_RELEASE, 2631, 2631 },     /* -10.0 */
	{ BMS_SET_CELL_OVP, 3650, 4250 },
	{ BMS_SET_CELL_OVP_RELEASE, 3550, 4150 },
	{ BMS_SET_CELL_UVP, 2500, 2800 },
	{ BMS_SET_CELL_UVP_RELEASE, 2700, 3000 },
	{ BMS_SET_BALANCE_START, 3400, 4000 },
	{ BMS_SET_BALANCE_DELTA, 15, 15 },
	{ BMS_SET_BALANCE_ENABLE, 1, 1 },            /* balancer on, only while charging (JBDTools) */
	{ BMS_SET_BALANCE_CHG_ONLY, 1, 1 },
	{ BMS_SET_SHUNT, 100, 100 },                 /* 0.1 mOhm */
	{ BMS_SET_SC_THRESHOLD, 155, 155 },          /* the SP04S034's 155 mV */
	{ BMS_SET_SC_RELEASE, 100, 100 },
	{ BMS_SET_CHG_OTP_DELAY, 2, 2 },             /* protection delays, s */
	{ BMS_SET_CHG_UTP_DELAY, 2, 2 },
	{ BMS_SET_DSG_OTP_DELAY, 2, 2 },
	{ BMS_SET_DSG_UTP_DELAY, 2, 2 },
	{ BMS_SET_PACK_OVP_DELAY, 2, 2 },
	{ BMS_SET_PACK_UVP_DELAY, 2, 2 },
	{ BMS_SET_CELL_OVP_DELAY, 2, 2 },
	{ BMS_SET_CELL_UVP_DELAY, 2, 2 },
	{ BMS_SET_CHG_OC_DELAY, 10, 10 },            /* OC delay 10 s, release 30 s */
	{ BMS_SET_CHG_OC_RELEASE, 30, 30 },
	{ BMS_SET_DSG_OC_DELAY, 10, 10 },
	{ BMS_SET_DSG_OC_RELEASE, 30, 30 },
	/* Inverter limits. LFP: a 15S Pylontech announces 53.2 V / 45.0 V (3547 / 3000 mV a cell);
	 * the taper starts where the LFP curve turns up (3450 mV) and DCL falls over the last
	 * 300 mV before UVP. NMC: 4150 / 3100 mV, taper from 4100 mV. */
	{ BMS_SET_CHARGE_VOLTAGE, 3550, 4150 },
	{ BMS_SET_DISCHARGE_VOLTAGE, 3000, 3100 },
	{ BMS_SET_CHARGE_TAPER, 3450, 4100 },
	{ BMS_SET_DISCHARGE_TAPER, 300, 300 },
	{ BMS_SET_TEMP_DERATE, 50, 50 },              /* 5 K inside each temperature limit */
	{ BMS_SET_FORCE_CHARGE_1, 9, 9 },             /* US3000: request I at 5-9 %, II at 9-13 % */
	{ BMS_SET_FORCE_CHARGE_2, 13, 13 },
	{ BMS_SET_FULL_CHARGE_DAYS, 30, 30 },         /* Pylontech: below 97 % for 30 days */
	{ BMS_SET_WARN_CELL, 50, 50 },
	{ BMS_SET_WARN_TEMP, 50, 50 },
	{ BMS_SET_WARN_CURRENT, 90, 90 },
};

/* Every setting a factory reset restores (settings the table leaves out read 0), the store
 * and the strings. */
static void set_defaults(struct bms *b, const struct model_cfg *pc)
{
	static const char *const strings[BMS_STRING_COUNT] = { "bmsrig", "bmsrig-JBD-SP04S034", "" };
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
		(void)bms_string_set(b, i, strings[i], strlen(strings[i]));
	memset(&b->store, 0, sizeof b->store);
	memset(&b->set, 0, sizeof b->set);
	b->chem = (uint8_t)pc->chem;

	const int nmc = pc->chem == MODEL_CHEM_NMC;
	for (size_t i = 0; i < sizeof setting_defaults / sizeof setting_defaults[0]; i++)
		*field_of(&b->set, setting_defaults[i].id) = nmc ? setting_defaults[i].nmc
		                                                 : setting_defaults[i].lfp;

	/* Capacity in whole 10 mAh, as boards keep it. */
	int32_t design = 10 * (int32_t)u16_round(pc->capacity_Ah * 100.0);
	if (design == 0)
		design = 10;
	int32_t cycle = design / 10 * (int32_t)CYCLE_CAP_PCT / 100 * 10;
	b->set.design_capacity_mAh = design;
	b->set.cycle_capacity_mAh = cycle ? cycle : 10;
	b->set.cell_count = (int32_t)pc->cells;
	b->set.ntc_enable_mask = (int32_t)((1u << pc->ntc_count) - 1u);

	/* Pack limits are the cell limits times the cell count, in whole 10 mV (as the 4S dump). */
	struct bms_settings *s = &b->set;
	const int32_t n = (int32_t)pc->cells;
	s->pack_ovp_mV = s->cell_ovp_mV * n / 10 * 10;
	s->pack_ovp_release_mV = s->cell_ovp_release_mV * n / 10 * 10;
	s->pack_uvp_mV = s->cell_uvp_mV * n / 10 * 10;
	s->pack_uvp_release_mV = s->cell_uvp_release_mV * n / 10 * 10;

	/* Over-current at 1 C, both ways, at most 300 A, in whole 10 mA. */
	long oc = 10 * lround(pc->capacity_Ah * 100.0);
	if (oc > OC_MAX_mA)
		oc = OC_MAX_mA;
	if (oc < 10)
		oc = 10;
	s->chg_oc_mA = (int32_t)oc;
	s->dsg_oc_mA = (int32_t)oc;
	/* The limits an inverter gets: 0.5 C both ways (a US3000C's 74 Ah and 37 A), in 10 mA. */
	s->max_charge_mA = (int32_t)(oc / 20 * 10);
	s->max_discharge_mA = s->max_charge_mA;

	/* Voltage points from the model's own OCV curve, so a rested pack reads its true SOC. */
	for (unsigned k = 1; k <= 10; k++)
		s->soc_point_mV[k - 1] = u16_round(model_ocv_V(pc->chem, k / 10.0) * 1000.0);
}

/* ---- measurement ---------------------------------------------------------------------------- */

/* What the faulted sense lines and probes make of the true readings (bms.h). An open line
 * takes its cell out of the chain: the voltage it no longer sees reappears on the next cell
 * up that still has its line (so adjacent open lines add up, and the readings still sum to
 * the pack); at the top of the pack it falls to the nearest reading cell below instead. A
 * force wins over everything, an open wire's sum included, and works on any line (a test of a
 * miswired BMS may force one beyond the pack). Open lines and probe faults where the model has
 * no cell or probe change nothing: those inputs already read absent. */
static void sense_faults(struct bms *b, const struct model *m)
{
	const struct bms_sense_faults *f = &b->faults;
	struct bms_meas *s = &b->meas;
	const unsigned n = m->cfg.cells < BMS_CELLS_MAX ? m->cfg.cells : BMS_CELLS_MAX;

	if (!(f->open_wire_mask | f->force_mask | f->ntc_open_mask | f->ntc_short_mask))
		return;                          /* an intact board, nearly always */
	const uint32_t open = f->open_wire_mask & (n < 32u ? (1u << n) - 1u : UINT32_MAX);
	if (open) {
		double V[BMS_CELLS_MAX], carry_V = 0.0;
		for (unsigned i = 0; i < n; i++) {
			V[i] = model_cell_V(m, i) + carry_V;
			carry_V = (open & (1u << i)) ? V[i] : 0.0;
		}
		if (open & (1u << (n - 1u))) {
			unsigned i = n - 1u;
			while (i > 0 && (open & (1u << (i - 1u))))
				i--;
			if (i > 0)
				V[i - 1u] += carry_V;
		}
		for (unsigned i = 0; i < n; i++)
			s->cell_mV[i] = (open & (1u << i)) ? (uint16_t)BMS_OPEN_WIRE_MV
			                                   : u16_round(V[i] * 1000.0);
	}
	for (unsigned i = 0; i < BMS_CELLS_MAX; i++)
		if (f->force_mask & (1u << i))
			s->cell_mV[i] = f->force_mV[i];

	for (unsigned k = 0; k < m->cfg.ntc_count && k < BMS_PROBES_MAX; k++) {
		if (f->ntc_short_mask & (1u << k))     /* a short across an open probe still shorts */
			s->probe_dK[k] = BMS_NTC_SHORT_DK;
		else if (f->ntc_open_mask & (1u << k))
			s->probe_dK[k] = BMS_NTC_OPEN_DK;
	}
}

static void measure(struct bms *b, const struct model *m)
{
	struct bms_meas *s = &b->meas;
	/* Lines beyond the model's cells read 0 (model_cell_V's answer there), without asking. */
	const unsigned n = m->cfg.cells < BMS_CELLS_MAX ? m->cfg.cells : BMS_CELLS_MAX;
	const double *cells_V = model_cells_V(m);
	for (unsigned i = 0; i < n; i++)
		s->cell_mV[i] = u16_round((cells_V ? cells_V[i] : model_cell_V(m, i)) * 1000.0);
	for (unsigned i = n; i < BMS_CELLS_MAX; i++)
		s->cell_mV[i] = 0;
	double pack = model_pack_V(m) * 1000.0;
	s->pack_mV = pack > 0.0 ? (uint32_t)round_nearest(pack) : 0u;

	/* The shunt sees the string current only: bleed currents stay inside the cells. */
	double I = clampd(m->pack_I_A * 1000.0, -2e9, 2e9) + b->sensor.current_offset_mA;
	long I_mA = round_nearest(clampd(I, -2e9, 2e9));
	s->current_mA = (uint32_t)labs(I_mA) <= b->sensor.current_deadband_mA ? 0 : (int32_t)I_mA;

	/* The capacity a full cycle would measure is the weakest cell's (a series string stops at it). */
	double weakest_Ah = m->cfg.cells ? m->cell[0].capacity_Ah : 0.0;
	const unsigned nm = m->cfg.cells < MODEL_CELLS_MAX ? m->cfg.cells : MODEL_CELLS_MAX;
	for (unsigned i = 1; i < nm; i++)
		weakest_Ah = m->cell[i].capacity_Ah < weakest_Ah ? m->cell[i].capacity_Ah : weakest_Ah;
	s->soh_pct = m->cfg.capacity_Ah > 0.0 ? (uint8_t)round_nearest(clampd(weakest_Ah * 100.0 / m->cfg.capacity_Ah, 0.0, 100.0)) : 0u;

	for (unsigned k = 0; k < BMS_PROBES_MAX; k++)
		s->probe_dK[k] = k < m->cfg.ntc_count ? u16_round(DK_AT_0C + model_temp_C(m, k) * 10.0)
		                                      : (uint16_t)BMS_ABSENT_NTC_DK;
	sense_faults(b, m);
}

/* The cells the BMS is configured for. */
static unsigned cell_count(const struct bms *b)
{
	int32_t n = b->set.cell_count;
	return n < 1 ? 1u : (n > (int32_t)BMS_CELLS_MAX ? BMS_CELLS_MAX : (unsigned)n);
}

/* In locals, the count taken once: through the pointers the compiler re-read the settings and
 * both results at every cell (they might alias), on every step and for every reader. */
static void cell_extremes(const struct bms *b, uint16_t *max_mV, uint16_t *min_mV)
{
	const unsigned n = cell_count(b);
	uint16_t hi = 0, lo = 0xFFFF;

	for (unsigned i = 0; i < n; i++) {
		uint16_t v = b->meas.cell_mV[i];
		hi = v > hi ? v : hi;
		lo = v < lo ? v : lo;
	}
	*max_mV = hi;
	*min_mV = lo;
}

/* The probes enabled, in bit order; returns how many. */
static unsigned enabled_temps(const struct bms *b, uint16_t out_dK[BMS_PROBES_MAX])
{
	unsigned mask = (unsigned)b->set.ntc_enable_mask, n = 0;
	for (unsigned k = 0; k < BMS_PROBES_MAX; k++)
		if (mask & (1u << k))
			out_dK[n++] = b->meas.probe_dK[k];
	return n;
}

/* The enabled probes' highest and lowest reading (0 and 0xFFFF with none); returns how many. */
static unsigned temp_extremes(const struct bms *b, uint16_t *max_dK, uint16_t *min_dK)
{
	uint16_t t[BMS_PROBES_MAX], hi = 0, lo = 0xFFFF;
	const unsigned n = enabled_temps(b, t);

	for (unsigned k = 0; k < n; k++) {
		hi = t[k] > hi ? t[k] : hi;
		lo = t[k] < lo ? t[k] : lo;
	}
	*max_dK = hi;
	*min_dK = lo;
	return n;
}

/* ---- protections ---------------------------------------------------------------------------- */

enum prot_src { SRC_CELL_MAX, SRC_CELL_MIN, SRC_PACK, SRC_TEMP_MAX, SRC_TEMP_MIN, SRC_CURRENT, SRC_COUNT };

struct prot_def {
	uint8_t event;         /* enum bms_event slot */
	uint8_t src;           /* enum prot_src, in mV / 0.1 K / mA */
	uint8_t over;          /* trips at or above the trigger, else at or below */
	int8_t sign;           /* the trigger's sign against the source (-1: discharge currents) */
	uint8_t trig;          /* enum bms_setting_id; BMS_SET_SC_THRESHOLD: see sc_threshold_mA */
	uint8_t rel;           /* release value, or (rel_timed) seconds after the trip */
	uint8_t rel_timed;
	uint8_t delay;         /* trip delay in s; BMS_SET_COUNT = none */
	uint8_t fet;           /* the FET it opens */
};

/* The protections on the current come last (bms_current_same starts there). */
#define PROT_CURRENT_FIRST BMS_PROT_CHG_OC
#define CHG BMS_FET_CHG
#define DSG BMS_FET_DSG
#define P(ev, s, o, t, r, timed, d, f) { BMS_EV_##ev, s, o, 1, BMS_SET_##t, BMS_SET_##r, timed, d, f }
static const struct prot_def prot_defs[BMS_PROT_COUNT] = {
	[BMS_PROT_CELL_OV] = P(CELL_OV, SRC_CELL_MAX, 1, CELL_OVP, CELL_OVP_RELEASE, 0, BMS_SET_CELL_OVP_DELAY, CHG),
	[BMS_PROT_CELL_UV] = P(CELL_UV, SRC_CELL_MIN, 0, CELL_UVP, CELL_UVP_RELEASE, 0, BMS_SET_CELL_UVP_DELAY, DSG),
	[BMS_PROT_PACK_OV] = P(PACK_OV, SRC_PACK, 1, PACK_OVP, PACK_OVP_RELEASE, 0, BMS_SET_PACK_OVP_DELAY, CHG),
	[BMS_PROT_PACK_UV] = P(PACK_UV, SRC_PACK, 0, PACK_UVP, PACK_UVP_RELEASE, 0, BMS_SET_PACK_UVP_DELAY, DSG),
	[BMS_PROT_CHG_OT]  = P(CHG_OT, SRC_TEMP_MAX, 1, CHG_OTP, CHG_OTP_RELEASE, 0, BMS_SET_CHG_OTP_DELAY, CHG),
	[BMS_PROT_CHG_UT]  = P(CHG_UT, SRC_TEMP_MIN, 0, CHG_UTP, CHG_UTP_RELEASE, 0, BMS_SET_CHG_UTP_DELAY, CHG),
	[BMS_PROT_DSG_OT]  = P(DSG_OT, SRC_TEMP_MAX, 1, DSG_OTP, DSG_OTP_RELEASE, 0, BMS_SET_DSG_OTP_DELAY, DSG),
	[BMS_PROT_DSG_UT]  = P(DSG_UT, SRC_TEMP_MIN, 0, DSG_UTP, DSG_UTP_RELEASE, 0, BMS_SET_DSG_UTP_DELAY, DSG),
	[BMS_PROT_CHG_OC]  = P(CHG_OC, SRC_CURRENT, 1, CHG_OC, CHG_OC_RELEASE, 1, BMS_SET_CHG_OC_DELAY, CHG),
	[BMS_PROT_DSG_OC]  = { BMS_EV_DSG_OC, SRC_CURRENT, 0, -1, BMS_SET_DSG_OC, BMS_SET_DSG_OC_RELEASE, 1,
	                       BMS_SET_DSG_OC_DELAY, DSG },
	[BMS_PROT_SHORT]   = { BMS_EV_SHORT, SRC_CURRENT, 0, -1, BMS_SET_SC_THRESHOLD, BMS_SET_SC_RELEASE, 1,
	                       BMS_SET_COUNT, DSG },
};
#undef P
#undef CHG
#undef DSG

/* Short-circuit threshold in mA: the threshold voltage across the shunt.
 * 155 mV / 100 uOhm = 1550 A. */
static int64_t sc_threshold_mA(const struct bms *b)
{
	int64_t shunt_uOhm = b->set.shunt_uOhm > 0 ? b->set.shunt_uOhm : 1;
	return (int64_t)b->set.sc_threshold_mV * 1000000 / shunt_uOhm;
}

static int64_t prot_trigger(const struct bms *b, const struct prot_def *d)
{
	if (d->trig == BMS_SET_SC_THRESHOLD)
		return -sc_threshold_mA(b);
	return d->sign * (int64_t)bms_setting_get(b, d->trig);
}

/* Every quantity the protections watch, from one pass over the measurements (eleven
 * protections read six sources: the cells and probes are scanned once, not per protection).
 * have[src] is 0 when there is none (no NTC enabled). */
static void prot_sources(const struct bms *b, int64_t v[SRC_COUNT], int have[SRC_COUNT])
{
	uint16_t cmax, cmin, tmax, tmin;
	unsigned nt = temp_extremes(b, &tmax, &tmin);
	cell_extremes(b, &cmax, &cmin);
	v[SRC_CELL_MAX] = cmax;
	v[SRC_CELL_MIN] = cmin;
	v[SRC_PACK] = b->meas.pack_mV;
	v[SRC_TEMP_MAX] = tmax;
	v[SRC_TEMP_MIN] = tmin;
	v[SRC_CURRENT] = b->meas.current_mA;
	for (unsigned k = 0; k < SRC_COUNT; k++)
		have[k] = k == SRC_TEMP_MAX || k == SRC_TEMP_MIN ? nt > 0 : 1;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static void protect(struct bms *b, uint32_t dt_ms)
{
	int64_t src_v[SRC_COUNT];
	int src_have[SRC_COUNT];

	prot_sources(b, src_v, src_have);
	for (unsigned i = 0; i < BMS_PROT_COUNT; i++) {
		const struct prot_def *d = &prot_defs[i];
		struct bms_prot *p = &b->prot[i];
		int64_t v = src_v[d->src];
		int have = src_have[d->src];

		if (!p->tripped) {
			int64_t trig = prot_trigger(b, d);
			if (!have || (d->over ? v < trig : v > trig)) {
				p->pending = 0;
				p->timer_ms = 0;
				continue;
			}
			/* The delay runs from the first step that sees the trigger. */
			if (!p->pending) {
				p->pending = 1;
				p->timer_ms = 0;
			} else {
				p->timer_ms = sat_add(p->timer_ms, dt_ms);
			}
			int32_t delay_s = d->delay < BMS_SET_COUNT ? bms_setting_get(b, d->delay) : 0;
			uint32_t delay_ms = 1000u * (uint32_t)(delay_s > 0 ? delay_s : 0);
			if (p->timer_ms >= delay_ms) {
				p->tripped = 1;
				p->pending = 0;
				p->timer_ms = 0;
				if (b->events[d->event] < 0xFFFFu)
					b->events[d->event]++;
			}
		} else if (!d->rel_timed) {
			int64_t rel = (int64_t)bms_setting_get(b, d->rel);
			if (!have || (d->over ? v < rel : v > rel))
				p->tripped = 0;
		} else {
			p->timer_ms = sat_add(p->timer_ms, dt_ms);
			if (p->timer_ms >= 1000u * (uint32_t)bms_setting_get(b, d->rel)) {
				p->tripped = 0;
				p->timer_ms = 0;
			}
		}
	}
}

_Static_assert(PACK_PROT_CELL_OV == 1u << BMS_PROT_CELL_OV && PACK_PROT_DSG_UT == 1u << BMS_PROT_DSG_UT &&
               PACK_PROT_SHORT == 1u << BMS_PROT_SHORT, "enum bms_prot_id follows enum pack_prot's bits");

/* FETs and the protection set from the protections and the inhibit mask (docs/protocols/jbd.md §9.1). */
static void update_fets(struct bms *b)
{
	uint8_t fet = BMS_FET_CHG | BMS_FET_DSG;
	uint32_t prot = 0;
	for (unsigned i = 0; i < BMS_PROT_COUNT; i++) {
		if (!b->prot[i].tripped)
			continue;
		fet &= (uint8_t)~prot_defs[i].fet;
		prot |= 1u << i;          /* enum bms_prot_id is enum pack_prot's bit order */
	}
	if (b->inhibit & BMS_INHIBIT_CHG)
		fet &= (uint8_t)~BMS_FET_CHG;
	if (b->inhibit & BMS_INHIBIT_DSG)
		fet &= (uint8_t)~BMS_FET_DSG;
	if (b->inhibit)
		prot |= PACK_PROT_SW_LOCK;
	b->fet = fet;
	b->prot_bits = prot;
}

/* ---- balancing and SOC ------------------------------------------------------------------- */

static uint32_t balance_mask(const struct bms *b)
{
	const struct bms_meas *s = &b->meas;
	if (!b->set.balance_enable || (b->set.balance_charging_only && s->current_mA <= 0))
		return 0;
	int32_t start = b->set.balance_start_mV, window = b->set.balance_delta_mV;
	uint16_t cmax, cmin;
	cell_extremes(b, &cmax, &cmin);
	uint32_t mask = 0;
	const unsigned n = cell_count(b);
	for (unsigned i = 0; i < n; i++)
		if (s->cell_mV[i] >= start && s->cell_mV[i] - cmin > window)
			mask |= 1u << i;
	return mask;
}

static void count_charge(struct bms *b, double dt_s)
{
	const struct bms_meas *s = &b->meas;
	double full = bms_full_mAh(b);
	double d_mAh = s->current_mA * dt_s / 3600.0;
	uint16_t cmax, cmin;
	cell_extremes(b, &cmax, &cmin);

	b->remain_mAh = clampd(b->remain_mAh + d_mAh, 0.0, full);
	if (s->current_mA > 0 && cmax >= b->set.full_cell_mV)
		b->remain_mAh = full;
	if (s->current_mA < 0 && cmin <= b->set.empty_cell_mV)
		b->remain_mAh = 0.0;

	if (s->current_mA < 0) {
		double cycle_mAh = b->set.cycle_capacity_mAh;
		b->cycle_progress_mAh -= d_mAh;
		while (b->cycle_progress_mAh >= cycle_mAh) {
			b->cycle_progress_mAh -= cycle_mAh;
			if (b->set.cycles < 0xFFFF)
				b->set.cycles++;
		}
	}
}

/* SOC fraction from a rested cell voltage on the voltage points (first segment that
 * brackets it, so a user's non-monotonic points still give an answer). */
static double soc_from_cell_mV(const struct bms *b, double mV)
{
	const int32_t *pt = b->set.soc_point_mV;
	if (mV >= pt[9])
		return 1.0;
	for (unsigned k = 0; k < 10; k++) {
		double lo = k ? pt[k - 1] : b->set.empty_cell_mV, hi = pt[k];
		if (hi > lo && mV >= lo && mV <= hi)
			return (k + (mV - lo) / (hi - lo)) / 10.0;
	}
	return 0.0;
}

/* ---- public ------------------------------------------------------------------------------ */

rig_rc bms_init(struct bms *b, const struct model *m)
{
	if (b == NULL || m == NULL || m->cfg.cells < 1 || m->cfg.cells > BMS_CELLS_MAX ||
	    m->cfg.ntc_count > BMS_PROBES_MAX)
		return RIG_ERR_ARG;
	for (unsigned i = 0; i < PROT_CURRENT_FIRST; i++)
		assert(prot_defs[i].src != SRC_CURRENT);
	memset(b, 0, sizeof *b);                  /* sense faults too: a new board is intact */
	set_defaults(b, &m->cfg);
	b->sw_version = 0x80;                     /* 8.0, as the SP04S034 (docs/protocols/jbd.md §11 F1) */
	b->sensor.current_offset_mA = 0;
	b->sensor.current_deadband_mA = 100;      /* JBD boards read 0.00 A below ~0.1 A */
	b->sensor.balance_current_mA = 60;

	measure(b, m);
	double sum_mV = 0.0;
	for (unsigned i = 0; i < cell_count(b); i++)
		sum_mV += b->meas.cell_mV[i];
	b->remain_mAh = soc_from_cell_mV(b, sum_mV / cell_count(b)) * bms_full_mAh(b);
	update_fets(b);
	return RIG_OK;
}

void bms_restart(struct bms *b, const struct model *m)
{
	memset(b->prot, 0, sizeof b->prot);
	b->inhibit = 0;
	b->bal_mask = 0;
	if (b->events[BMS_EV_RESTART] < 0xFFFFu)
		b->events[BMS_EV_RESTART]++;
	if (m)   /* without the model (a protocol's reset command) the next step measures */
		measure(b, m);
	update_fets(b);
}

void bms_factory_reset(struct bms *b, const struct model *m)
{
	if (m == NULL)   /* the factory values depend on the pack */
		return;
	/* The cycle count is kept with the settings but is a counter, not a setting. */
	int32_t cycles = b->set.cycles;
	set_defaults(b, &m->cfg);
	b->set.cycles = cycles;
	if (b->remain_mAh > bms_full_mAh(b))     /* as a smaller design capacity would */
		b->remain_mAh = bms_full_mAh(b);
	bms_restart(b, m);
}

void bms_step(struct bms *b, struct model *m, double dt_s, double requested_A)
{
	if (!(dt_s > 0.0) || !isfinite(dt_s) || !isfinite(requested_A))
		return;
	double dt_ms = dt_s * 1000.0;
	uint32_t step_ms = dt_ms >= DT_MAX_MS ? DT_MAX_MS : (uint32_t)round_nearest(dt_ms);

	/* An open FET blocks its direction (the other FET's body diode still lets the opposite
	 * direction through, which is why only one direction is blocked each). */
	update_fets(b);
	double allowed_A = requested_A;
	if ((requested_A > 0.0 && !(b->fet & BMS_FET_CHG)) ||
	    (requested_A < 0.0 && !(b->fet & BMS_FET_DSG)))
		allowed_A = 0.0;
	model_step(m, dt_s, allowed_A, b->bal_mask);

	measure(b, m);
	count_charge(b, dt_s);
	protect(b, step_ms);
	update_fets(b);
	b->bal_mask = balance_mask(b);
	b->time_s += dt_s;
	b->below_full_s = bms_soc_pct(b) >= BMS_FULL_SOC_PCT ? 0.0 : b->below_full_s + dt_s;
}

/* How far a cell's voltage can move, per the model's own shape: the OCV never climbs faster
 * than its knee, and the RC pair can at most close its gap to R1 * I. */
struct quiet_bounds {
	double rate_V_s;          /* per cell, from the charge moving */
	double fixed_V;           /* per cell, whatever dt: the RC gap, resistance drift, rounding */
	double temp_rate_K_s;     /* the pack temperature's fastest drift at this current */
};

static void quiet_bounds(const struct model *m, double I_A, struct quiet_bounds *q)
{
	double min_Ah = INFINITY, leak_A = 0.0, r_max = 0.0, gap_V = 0.0;
	for (unsigned i = 0; i < m->cfg.cells; i++) {
		const struct model_cell *c = &m->cell[i];
		double r1 = model_cell_R1_ohm(m, i), r = model_cell_R0_ohm(m, i) + r1;
		double gap = fabs(r1 * I_A - c->V1_V);
		min_Ah = c->capacity_Ah < min_Ah ? c->capacity_Ah : min_Ah;
		leak_A = c->leak_A > leak_A ? c->leak_A : leak_A;
		r_max = r > r_max ? r : r_max;
		gap_V = gap > gap_V ? gap : gap_V;
	}
	double sd_A = m->cfg.self_discharge_pct_month / 100.0 * min_Ah / (30.0 * 24.0);
	q->rate_V_s = MODEL_OCV_KNEE_V_PER_FRAC * (fabs(I_A) + leak_A + sd_A) / (3600.0 * min_Ah);
	/* R0 and R1 drift with temperature and SOC (a few % per K): a tenth of I * R covers it,
	 * and 1 mV the ADC's rounding on both sides. */
	q->fixed_V = gap_V + 0.1 * fabs(I_A) * r_max + 0.001;
	/* Heat at most I^2 (R0 + R1) per cell with the SOC bowl's 1.2 and some; the node moves
	 * toward ambient + P/G no faster than its distance over its time constant. */
	double heat_W = 1.5 * m->cfg.cells * I_A * I_A * r_max;
	double T_inf = m->ambient_C + heat_W / m->heat_transfer_W_K;
	q->temp_rate_K_s = (fabs(T_inf - m->temp_C) + 0.01) * m->heat_transfer_W_K / m->heat_capacity_J_K;
}

/* Seconds until a value now dist_V (or dist_K) from its threshold could reach it: 0 when it
 * could already. */
static double reach_s(double dist, double fixed, double rate)
{
	if (dist - fixed <= 0.0)
		return 0.0;
	return rate > 0.0 ? (dist - fixed) / rate : INFINITY;
}

int bms_current_same(const struct bms *b, double a_A, double b_A)
{
	double off = b->sensor.current_offset_mA, dead = b->sensor.current_deadband_mA;
	double lo = fmin(a_A, b_A) * 1000.0 + off, hi = fmax(a_A, b_A) * 1000.0 + off;
	/* 1 mA either side: the reading is rounded to whole mA before it is compared. */
#define APART(th) ((double)(th) + 1.0 < lo || (double)(th) - 1.0 > hi)
	if (!APART(dead) || !APART(-dead))
		return 0;
	/* Asked at every new current of a profile: only the protections that can watch the current
	 * are looked at (bms_init checks that none before PROT_CURRENT_FIRST does). */
	for (unsigned i = PROT_CURRENT_FIRST; i < BMS_PROT_COUNT; i++)
		if (prot_defs[i].src == SRC_CURRENT && !APART(prot_trigger(b, &prot_defs[i])))
			return 0;
#undef APART
	return 1;
}

uint32_t bms_quiet_ms(const struct bms *b, const struct model *m, double requested_A, uint32_t max_ms)
{
	const struct bms_meas *s = &b->meas;
	const struct bms_settings *set = &b->set;

	if (b->bal_mask || b->faults.open_wire_mask || !(m->heat_capacity_J_K > 0.0) ||
	    !(m->heat_transfer_W_K > 0.0) || m->bleed_mask)
		return 0;
	for (unsigned i = 0; i < BMS_PROT_COUNT; i++)
		if (b->prot[i].pending || b->prot[i].tripped)
			return 0;
	double allowed_A = requested_A;
	if ((requested_A > 0.0 && !(b->fet & BMS_FET_CHG)) || (requested_A < 0.0 && !(b->fet & BMS_FET_DSG)))
		allowed_A = 0.0;
	if (allowed_A != m->pack_I_A)
		return 0;

	struct quiet_bounds q;
	quiet_bounds(m, allowed_A, &q);
	uint16_t cmax, cmin;
	cell_extremes(b, &cmax, &cmin);
	const double n = (double)cell_count(b);
	double t = (double)max_ms / 1000.0, r;
#define NEAR(dist_mV, per) (r = reach_s((dist_mV) / 1000.0, (per) * q.fixed_V, (per) * q.rate_V_s), t = r < t ? r : t)
	NEAR((double)set->cell_ovp_mV - cmax, 1.0);
	NEAR((double)cmin - set->cell_uvp_mV, 1.0);
	NEAR((double)set->pack_ovp_mV - s->pack_mV, n);
	NEAR((double)s->pack_mV - set->pack_uvp_mV, n);
	if (set->balance_enable && (!set->balance_charging_only || s->current_mA > 0))
		NEAR((double)set->balance_start_mV - cmax, 1.0);
	if (s->current_mA > 0)
		NEAR((double)set->full_cell_mV - cmax, 1.0);
	if (s->current_mA < 0)
		NEAR((double)cmin - set->empty_cell_mV, 1.0);
#undef NEAR

	uint16_t tmax, tmin;
	unsigned nt = temp_extremes(b, &tmax, &tmin);
	static const uint8_t hot[] = { BMS_SET_CHG_OTP, BMS_SET_DSG_OTP };
	static const uint8_t cold[] = { BMS_SET_CHG_UTP, BMS_SET_DSG_UTP };
	for (unsigned k = 0; nt && k < 2; k++) {   /* 0.2 K: the probe's 0.1 K rounding, twice */
		r = reach_s(((double)bms_setting_get(b, hot[k]) - tmax) / 10.0, 0.2, q.temp_rate_K_s);
		t = r < t ? r : t;
		r = reach_s(((double)tmin - bms_setting_get(b, cold[k])) / 10.0, 0.2, q.temp_rate_K_s);
		t = r < t ? r : t;
	}

	/* The 97 % mark below_full_s counts from: the remaining charge moves in a straight line. */
	double full = bms_full_mAh(b), mark = (BMS_FULL_SOC_PCT - 0.5) / 100.0 * full;
	if (s->current_mA > 0 && b->remain_mAh < mark)
		r = (mark - b->remain_mAh) * 3600.0 / s->current_mA, t = r < t ? r : t;
	if (s->current_mA < 0 && b->remain_mAh >= mark)
		r = (b->remain_mAh - mark) * 3600.0 / -s->current_mA, t = r < t ? r : t;

	return t <= 0.0 ? 0u : (uint32_t)(t * 1000.0);
}

rig_rc bms_string_get(const struct bms *b, unsigned which, struct bms_string *t)
{
	if (which >= BMS_STRING_COUNT)
		return RIG_ERR_UNSUPPORTED;
	*t = b->str[which];
	return RIG_OK;
}

rig_rc bms_string_set(struct bms *b, unsigned which, const char *text, size_t len)
{
	if (which >= BMS_STRING_COUNT)
		return RIG_ERR_UNSUPPORTED;
	if (len > BMS_TEXT_MAX || (len > 0 && (text == NULL || memchr(text, 0, len) != NULL)))
		return RIG_ERR_ARG;
	struct bms_string *t = &b->str[which];
	memset(t, 0, sizeof *t);
	if (len > 0)
		memcpy(t->text, text, len);
	t->len = (uint8_t)len;
	return RIG_OK;
}

rig_rc bms_set_inhibit(struct bms *b, uint8_t mask)
{
	if (mask & ~BMS_INHIBIT_ALL)
		return RIG_ERR_ARG;
	b->inhibit = mask;
	update_fets(b);
	return RIG_OK;
}

rig_rc bms_allow_fet(struct bms *b, uint8_t inhibit_bit, int allowed)
{
	return bms_set_inhibit(b, (uint8_t)(allowed ? b->inhibit & ~inhibit_bit : b->inhibit | inhibit_bit));
}

int bms_fet_allowed(const struct bms *b, uint8_t inhibit_bit)
{
	return !(b->inhibit & inhibit_bit);
}

uint32_t bms_full_mAh(const struct bms *b)
{
	return b->set.design_capacity_mAh > 0 ? (uint32_t)b->set.design_capacity_mAh : 0u;
}

void bms_set_remain_mAh(struct bms *b, uint32_t remain_mAh)
{
	uint32_t full = bms_full_mAh(b);
	b->remain_mAh = remain_mAh > full ? full : remain_mAh;
}

uint32_t bms_remain_mAh(const struct bms *b)
{
	return (uint32_t)round_nearest(b->remain_mAh);
}

uint8_t bms_soc_pct(const struct bms *b)
{
	uint32_t full = bms_full_mAh(b);
	return full ? (uint8_t)round_nearest(clampd(b->remain_mAh * 100.0 / full, 0.0, 100.0)) : 0u;
}

void bms_events_clear(struct bms *b)
{
	memset(b->events, 0, sizeof b->events);
}

void bms_view(const struct bms *b, struct bms_view *out)
{
	const struct bms_meas *s = &b->meas;
	unsigned n = cell_count(b);

	memset(out, 0, sizeof *out);
	out->pack_mV = s->pack_mV;
	out->current_mA = s->current_mA;
	out->cell_count = (uint8_t)n;
	memcpy(out->cell_mV, s->cell_mV, sizeof out->cell_mV);
	out->probe_count = (uint8_t)enabled_temps(b, out->probe_dK);
	out->remain_mAh = bms_remain_mAh(b);
	out->full_mAh = bms_full_mAh(b);
	out->soc_pct = bms_soc_pct(b);
	out->cycles = (uint16_t)b->set.cycles;
	out->prot_bits = b->prot_bits;
	out->fet = b->fet;
	/* The mask may still name cells a smaller cell_count no longer reports. */
	out->bal_mask = n < 32u ? b->bal_mask & ((1u << n) - 1u) : b->bal_mask;
	out->balance_current_mA = out->bal_mask ? b->sensor.balance_current_mA : 0u;
	out->soh_pct = s->soh_pct;
}
