/* The JBD BMS's logic (bms.h): settings, measurement, protections, FETs, balancing, SOC. */
#include "bmsrig/bms.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DK_AT_0C            2731
#define FUNC_BALANCE        (1u << 2)    /* 0x2D: balancer enabled */
#define FUNC_BALANCE_CHG    (1u << 3)    /* 0x2D: balance only while charging */
#define CYCLE_CAP_PCT       80u          /* 0x11 = 80 % of 0x10 (the SP04S034 dump: 224/280 Ah) */
#define OC_MAX_10mA         30000        /* 300 A: keeps the default OC inside s16 10 mA */
#define DT_MAX_MS           (UINT32_MAX / 4u)

static uint16_t ee(const struct bms *b, uint8_t reg)
{
	return b->eeprom[reg - JBD_REG_EEPROM_FIRST];
}

static void ee_put(struct bms *b, uint8_t reg, uint16_t v)
{
	b->eeprom[reg - JBD_REG_EEPROM_FIRST] = v;
}

static uint16_t hi_byte(uint16_t v) { return (uint16_t)(v >> 8); }
static uint16_t lo_byte(uint16_t v) { return (uint16_t)(v & 0xFFu); }

static uint16_t u16_round(double x)
{
	if (!(x > 0.0))
		return 0;
	return x >= 65535.0 ? 65535u : (uint16_t)lround(x);
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* ---- register limits ---------------------------------------------------------------------
 * Only what would break the BMS's own arithmetic or the 0x03 layout is refused; everything
 * else (opaque bits of 0x2D, delays, temperatures) is stored as written (jbd.md §15). */
struct reg_limit { uint8_t reg; int32_t min, max; };
static const struct reg_limit reg_limits[] = {
	{ 0x10, 1, 65535 },          /* design capacity: SOC divides by it */
	{ 0x11, 1, 65535 },          /* cycle capacity: the cycle counter divides by it */
	{ 0x28, 1, 32767 },          /* charge OC, s16 positive */
	{ 0x29, -32768, -1 },        /* discharge OC, s16 stored negative */
	{ 0x2C, 1, 32767 },          /* shunt in 0.1 mOhm; bit 15 (0.01 mOhm, V9+) not modelled */
	{ JBD_REG_NTC_ENABLE, 0, 255 },
	{ JBD_REG_CELL_COUNT, 1, (int32_t)JBD_CELLS_MAX },
};

int bms_reg_is_signed(uint8_t reg)
{
	return reg == 0x28 || reg == 0x29;
}

static int32_t reg_as_int(uint8_t reg, uint16_t v)
{
	return bms_reg_is_signed(reg) ? (int32_t)(int16_t)v : (int32_t)v;
}

static int reg_exists(uint8_t reg)
{
	return (reg >= JBD_REG_EEPROM_FIRST && reg <= JBD_REG_EEPROM_LAST) ||
	       (reg >= JBD_REG_CAL_FIRST && reg <= JBD_REG_CAL_LAST);
}

rig_rc bms_reg_check(uint8_t reg, uint16_t value, char *why, size_t whycap)
{
	if (!reg_exists(reg)) {
		if (whycap > 0)
			snprintf(why, whycap, "no such register");
		return RIG_ERR_UNSUPPORTED;
	}
	for (size_t i = 0; i < sizeof reg_limits / sizeof reg_limits[0]; i++) {
		const struct reg_limit *l = &reg_limits[i];
		int32_t v = reg_as_int(reg, value);
		if (l->reg != reg || (v >= l->min && v <= l->max))
			continue;
		if (whycap > 0)
			snprintf(why, whycap, "expected %" PRId32 "..%" PRId32 ", got %" PRId32,
			         l->min, l->max, v);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

/* The register as a number in its own unit (0x28/0x29 signed). */
static int64_t reg_value(const struct bms *b, uint8_t reg)
{
	return reg_as_int(reg, ee(b, reg));
}

/* ---- defaults ------------------------------------------------------------------------------ */

/* The EEPROM voltage points, by SOC in 10 % steps (jbd.md §8.1/§8.3): 0x13 is the 0 % point. */
static const uint8_t soc_point_reg[11] = {
	0x13, 0x46, 0x35, 0x45, 0x34, 0x44, 0x33, 0x43, 0x32, 0x42, 0x47
};

/* Factory values that do not depend on the pack's size: {reg, LFP, NMC}. LFP follows the
 * SP04S034 dump (jbd.md §8 "real value") and the field-notes JBD LFP defaults; NMC uses
 * OV 4250/4150, UV 2800/3000 and foxBMS's 0..45 degC charge window. Temperatures in 0.1 K. */
struct reg_default { uint8_t reg; uint16_t lfp, nmc; };
static const struct reg_default reg_defaults[] = {
	{ 0x12, 3500, 4200 },        /* full-charge cell voltage (100 % snap) */
	{ 0x13, 2800, 3000 },        /* end-of-discharge cell voltage (0 % snap) */
	{ 0x14, 2, 2 },              /* self-discharge, 0.1 % */
	{ 0x16, 0, 0 },              /* serial number */
	{ 0x17, 0, 0 },              /* cycles */
	{ 0x18, 3281, 3181 },        /* charge OT 55.0 / 45.0 degC */
	{ 0x19, 3231, 3131 },        /*   release 50.0 / 40.0 */
	{ 0x1A, 2731, 2731 },        /* charge UT 0.0 */
	{ 0x1B, 2781, 2781 },        /*   release 5.0 */
	{ 0x1C, 3331, 3331 },        /* discharge OT 60.0 */
	{ 0x1D, 3231, 3231 },        /*   release 50.0 */
	{ 0x1E, 2531, 2531 },        /* discharge UT -20.0 */
	{ 0x1F, 2631, 2631 },        /*   release -10.0 */
	{ 0x24, 3650, 4250 },        /* cell OV */
	{ 0x25, 3550, 4150 },
	{ 0x26, 2500, 2800 },        /* cell UV */
	{ 0x27, 2700, 3000 },
	{ 0x2A, 3400, 4000 },        /* balance start */
	{ 0x2B, 15, 15 },            /* balance window */
	{ 0x2C, 1, 1 },              /* shunt 0.1 mOhm */
	{ 0x2D, 0x000E, 0x000E },    /* SCRL, balancer, balance while charging (simat, JBDTools) */
	{ 0x30, 30, 30 },            /* FET control time, s */
	{ 0x31, 10, 10 },            /* LED time, s */
	{ 0x36, 3900, 4350 },        /* secondary cell OV */
	{ 0x37, 2000, 2500 },        /* secondary cell UV */
	{ 0x38, 0x8D5C, 0x8D5C },    /* SC 155 mV (RSNS 1, code 5) 100 us; OC2 (real dump) */
	{ 0x39, 0xF064, 0xF064 },    /* secondary delays; SC release 100 s */
	{ 0x3A, 0x0202, 0x0202 },    /* delay pairs, s */
	{ 0x3B, 0x0202, 0x0202 },
	{ 0x3C, 0x0202, 0x0202 },
	{ 0x3D, 0x0202, 0x0202 },
	{ 0x3E, 0x0A1E, 0x0A1E },    /* OC delay 10 s, release 30 s */
	{ 0x3F, 0x0A1E, 0x0A1E },
	{ 0x40, 2800, 3000 },        /* GPS shut-off voltage */
	{ 0x41, 10, 10 },
};

/* Every setting a factory reset restores: EEPROM (registers the table leaves out read 0),
 * calibration and strings. */
static void set_defaults(struct bms *b, const struct model_cfg *pc)
{
	static const char *const strings[BMS_STRING_COUNT] = { "bmsrig", "bmsrig-JBD-SP04S034", "" };
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
		(void)bms_string_set(b, (uint8_t)(JBD_REG_MFG_NAME + i), strings[i], strlen(strings[i]));
	memset(b->cal, 0, sizeof b->cal);
	memset(b->eeprom, 0, sizeof b->eeprom);

	const int nmc = pc->chem == MODEL_CHEM_NMC;
	for (size_t i = 0; i < sizeof reg_defaults / sizeof reg_defaults[0]; i++)
		ee_put(b, reg_defaults[i].reg, nmc ? reg_defaults[i].nmc : reg_defaults[i].lfp);

	uint16_t design = u16_round(pc->capacity_Ah * 100.0);   /* 10 mAh */
	if (design == 0)
		design = 1;
	uint32_t cycle = (uint32_t)design * CYCLE_CAP_PCT / 100u;
	ee_put(b, 0x10, design);
	ee_put(b, 0x11, (uint16_t)(cycle ? cycle : 1u));
	ee_put(b, JBD_REG_MFG_DATE, jbd_date_pack(2024, 3, 15));
	ee_put(b, JBD_REG_CELL_COUNT, pc->cells);
	ee_put(b, JBD_REG_NTC_ENABLE, (uint16_t)((1u << pc->ntc_count) - 1u));

	/* Pack limits are the cell limits times the cell count, in 10 mV (as the 4S dump). */
	static const uint8_t pack_from_cell[][2] = {
		{ 0x20, 0x24 }, { 0x21, 0x25 }, { 0x22, 0x26 }, { 0x23, 0x27 }
	};
	for (size_t i = 0; i < 4; i++)
		ee_put(b, pack_from_cell[i][0],
		       (uint16_t)((uint32_t)ee(b, pack_from_cell[i][1]) * pc->cells / 10u));

	/* Over-current at 1 C, both ways, at most 300 A. */
	long oc = lround(pc->capacity_Ah * 100.0);
	if (oc > OC_MAX_10mA)
		oc = OC_MAX_10mA;
	if (oc < 1)
		oc = 1;
	ee_put(b, 0x28, (uint16_t)oc);
	ee_put(b, 0x29, (uint16_t)(int16_t)-oc);

	/* Voltage points from the model's own OCV curve, so a rested pack reads its true SOC. */
	for (unsigned k = 1; k <= 10; k++)
		ee_put(b, soc_point_reg[k], u16_round(model_ocv_V(pc->chem, k / 10.0) * 1000.0));
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
	const unsigned n = m->cfg.cells < JBD_CELLS_MAX ? m->cfg.cells : JBD_CELLS_MAX;

	const uint32_t open = f->open_wire_mask & (n < 32u ? (1u << n) - 1u : UINT32_MAX);
	if (open) {
		double V[JBD_CELLS_MAX], carry_V = 0.0;
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
	for (unsigned i = 0; i < JBD_CELLS_MAX; i++)
		if (f->force_mask & (1u << i))
			s->cell_mV[i] = f->force_mV[i];

	for (unsigned k = 0; k < m->cfg.ntc_count && k < JBD_NTC_MAX; k++) {
		if (f->ntc_short_mask & (1u << k))     /* a short across an open probe still shorts */
			s->probe_dK[k] = BMS_NTC_SHORT_DK;
		else if (f->ntc_open_mask & (1u << k))
			s->probe_dK[k] = BMS_NTC_OPEN_DK;
	}
}

static void measure(struct bms *b, const struct model *m)
{
	struct bms_meas *s = &b->meas;
	for (unsigned i = 0; i < JBD_CELLS_MAX; i++)
		s->cell_mV[i] = u16_round(model_cell_V(m, i) * 1000.0);
	double pack = model_pack_V(m) * 1000.0;
	s->pack_mV = pack > 0.0 ? (uint32_t)lround(pack) : 0u;

	/* The shunt sees the string current only: bleed currents stay inside the cells. */
	double I = clampd(m->pack_I_A * 1000.0, -2e9, 2e9) + b->sensor.current_offset_mA;
	long I_mA = lround(clampd(I, -2e9, 2e9));
	s->current_mA = (uint32_t)labs(I_mA) <= b->sensor.current_deadband_mA ? 0 : (int32_t)I_mA;

	for (unsigned k = 0; k < JBD_NTC_MAX; k++)
		s->probe_dK[k] = k < m->cfg.ntc_count ? u16_round(DK_AT_0C + model_temp_C(m, k) * 10.0)
		                                      : (uint16_t)BMS_ABSENT_NTC_DK;
	sense_faults(b, m);
}

/* The cells the BMS is configured for (0x2F). */
static unsigned cell_count(const struct bms *b)
{
	uint16_t n = ee(b, JBD_REG_CELL_COUNT);
	return n < 1 ? 1u : (n > JBD_CELLS_MAX ? JBD_CELLS_MAX : n);
}

static void cell_extremes(const struct bms *b, uint16_t *max_mV, uint16_t *min_mV)
{
	*max_mV = 0;
	*min_mV = 0xFFFF;
	for (unsigned i = 0; i < cell_count(b); i++) {
		uint16_t v = b->meas.cell_mV[i];
		*max_mV = v > *max_mV ? v : *max_mV;
		*min_mV = v < *min_mV ? v : *min_mV;
	}
}

/* The probes enabled in 0x2E, in bit order; returns how many. */
static unsigned enabled_temps(const struct bms *b, uint16_t out_dK[JBD_NTC_MAX])
{
	unsigned mask = ee(b, JBD_REG_NTC_ENABLE), n = 0;
	for (unsigned k = 0; k < JBD_NTC_MAX; k++)
		if (mask & (1u << k))
			out_dK[n++] = b->meas.probe_dK[k];
	return n;
}

/* ---- protections ---------------------------------------------------------------------------- */

enum prot_src { SRC_CELL_MAX, SRC_CELL_MIN, SRC_PACK, SRC_TEMP_MAX, SRC_TEMP_MIN, SRC_CURRENT };

struct prot_def {
	uint8_t event;         /* 0xAA slot */
	uint8_t src;           /* enum prot_src, in mV / 0.1 K / mA */
	uint8_t over;          /* trips at or above the trigger, else at or below */
	uint8_t scale;         /* source units per register unit (10 mV, 10 mA) */
	uint8_t trig_reg;      /* 0x38: the short-circuit threshold (see sc_threshold_mA) */
	uint8_t rel_reg;       /* release value; 0 = released rel_time_reg's lo byte s after the trip */
	uint8_t delay_reg;     /* trip delay in s, in that register's hi or lo byte; 0 = none */
	uint8_t delay_hi;
	uint8_t rel_time_reg;
	uint8_t fet;           /* the FET it opens */
};

#define CHG JBD_FET_CHG_ON
#define DSG JBD_FET_DSG_ON
static const struct prot_def prot_defs[BMS_PROT_COUNT] = {
	[JBD_PROT_CELL_OV] = { .event = BMS_EV_CELL_OV, .src = SRC_CELL_MAX, .over = 1, .scale = 1,
	                       .trig_reg = 0x24, .rel_reg = 0x25, .delay_reg = 0x3D, .fet = CHG },
	[JBD_PROT_CELL_UV] = { .event = BMS_EV_CELL_UV, .src = SRC_CELL_MIN, .scale = 1,
	                       .trig_reg = 0x26, .rel_reg = 0x27, .delay_reg = 0x3D, .delay_hi = 1,
	                       .fet = DSG },
	[JBD_PROT_PACK_OV] = { .event = BMS_EV_PACK_OV, .src = SRC_PACK, .over = 1, .scale = 10,
	                       .trig_reg = 0x20, .rel_reg = 0x21, .delay_reg = 0x3C, .fet = CHG },
	[JBD_PROT_PACK_UV] = { .event = BMS_EV_PACK_UV, .src = SRC_PACK, .scale = 10,
	                       .trig_reg = 0x22, .rel_reg = 0x23, .delay_reg = 0x3C, .delay_hi = 1,
	                       .fet = DSG },
	[JBD_PROT_CHG_OT]  = { .event = BMS_EV_CHG_OT, .src = SRC_TEMP_MAX, .over = 1, .scale = 1,
	                       .trig_reg = 0x18, .rel_reg = 0x19, .delay_reg = 0x3A, .fet = CHG },
	[JBD_PROT_CHG_UT]  = { .event = BMS_EV_CHG_UT, .src = SRC_TEMP_MIN, .scale = 1,
	                       .trig_reg = 0x1A, .rel_reg = 0x1B, .delay_reg = 0x3A, .delay_hi = 1,
	                       .fet = CHG },
	[JBD_PROT_DSG_OT]  = { .event = BMS_EV_DSG_OT, .src = SRC_TEMP_MAX, .over = 1, .scale = 1,
	                       .trig_reg = 0x1C, .rel_reg = 0x1D, .delay_reg = 0x3B, .fet = DSG },
	[JBD_PROT_DSG_UT]  = { .event = BMS_EV_DSG_UT, .src = SRC_TEMP_MIN, .scale = 1,
	                       .trig_reg = 0x1E, .rel_reg = 0x1F, .delay_reg = 0x3B, .delay_hi = 1,
	                       .fet = DSG },
	[JBD_PROT_CHG_OC]  = { .event = BMS_EV_CHG_OC, .src = SRC_CURRENT, .over = 1, .scale = 10,
	                       .trig_reg = 0x28, .delay_reg = 0x3E, .delay_hi = 1,
	                       .rel_time_reg = 0x3E, .fet = CHG },
	[JBD_PROT_DSG_OC]  = { .event = BMS_EV_DSG_OC, .src = SRC_CURRENT, .scale = 10,
	                       .trig_reg = 0x29, .delay_reg = 0x3F, .delay_hi = 1,
	                       .rel_time_reg = 0x3F, .fet = DSG },
	[JBD_PROT_SHORT]   = { .event = BMS_EV_SHORT, .src = SRC_CURRENT, .scale = 1,
	                       .trig_reg = 0x38, .rel_time_reg = 0x39, .fet = DSG },
};
#undef CHG
#undef DSG

/* Short-circuit threshold in mA from 0x38's hi byte (TI BQ769x0 PROTECT1 SCD_THRESH, mV across
 * the shunt, with the datasheet's RSNS = 1 column rather than jbd.md's approximate doubling)
 * and the shunt 0x2C in 0.1 mOhm. 155 mV / 0.1 mOhm = 1550 A. */
static int64_t sc_threshold_mA(const struct bms *b)
{
	static const uint16_t scd_mV[2][8] = {
		{ 22, 33, 44, 56, 67, 78, 89, 100 },
		{ 44, 67, 89, 111, 133, 155, 178, 200 },
	};
	uint16_t hi = hi_byte(ee(b, 0x38));
	uint16_t shunt = ee(b, 0x2C) & 0x7FFFu;
	int64_t mV = scd_mV[(hi >> 7) & 1u][hi & 7u];
	return mV * 10000 / (shunt ? shunt : 1u);
}

static int64_t prot_trigger(const struct bms *b, const struct prot_def *d)
{
	if (d->trig_reg == 0x38)
		return -sc_threshold_mA(b);
	return reg_value(b, d->trig_reg) * d->scale;
}

/* The measured quantity a protection watches; 0 when there is none (no NTC enabled). */
static int prot_source(const struct bms *b, uint8_t src, int64_t *v)
{
	uint16_t cmax, cmin, t[JBD_NTC_MAX], tmax = 0, tmin = 0xFFFF;
	unsigned nt = enabled_temps(b, t);
	for (unsigned k = 0; k < nt; k++) {
		tmax = t[k] > tmax ? t[k] : tmax;
		tmin = t[k] < tmin ? t[k] : tmin;
	}
	cell_extremes(b, &cmax, &cmin);
	switch (src) {
	case SRC_CELL_MAX: *v = cmax; return 1;
	case SRC_CELL_MIN: *v = cmin; return 1;
	case SRC_PACK:     *v = b->meas.pack_mV; return 1;
	case SRC_TEMP_MAX: *v = tmax; return nt > 0;
	case SRC_TEMP_MIN: *v = tmin; return nt > 0;
	default:           *v = b->meas.current_mA; return 1;
	}
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static void protect(struct bms *b, uint32_t dt_ms)
{
	for (unsigned i = 0; i < BMS_PROT_COUNT; i++) {
		const struct prot_def *d = &prot_defs[i];
		struct bms_prot *p = &b->prot[i];
		int64_t v;
		int have = prot_source(b, d->src, &v);

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
			uint16_t dr = d->delay_reg ? ee(b, d->delay_reg) : 0u;
			uint32_t delay_ms = 1000u * (d->delay_hi ? hi_byte(dr) : lo_byte(dr));
			if (p->timer_ms >= delay_ms) {
				p->tripped = 1;
				p->pending = 0;
				p->timer_ms = 0;
				if (b->events[d->event] < 0xFFFFu)
					b->events[d->event]++;
			}
		} else if (d->rel_reg) {
			int64_t rel = reg_value(b, d->rel_reg) * d->scale;
			if (!have || (d->over ? v < rel : v > rel))
				p->tripped = 0;
		} else {
			p->timer_ms = sat_add(p->timer_ms, dt_ms);
			if (p->timer_ms >= 1000u * lo_byte(ee(b, d->rel_time_reg))) {
				p->tripped = 0;
				p->timer_ms = 0;
			}
		}
	}
}

/* FETs and the protection word from the protections and the 0xE1 mask (jbd.md §9.1). */
static void update_fets(struct bms *b)
{
	uint8_t fet = JBD_FET_CHG_ON | JBD_FET_DSG_ON;
	uint16_t raw = 0;
	for (unsigned i = 0; i < BMS_PROT_COUNT; i++) {
		if (!b->prot[i].tripped)
			continue;
		fet &= (uint8_t)~prot_defs[i].fet;
		raw |= (uint16_t)(1u << i);
	}
	if (b->mosfet_mask & JBD_MOSFET_CHG_OFF)
		fet &= (uint8_t)~JBD_FET_CHG_ON;
	if (b->mosfet_mask & JBD_MOSFET_DSG_OFF)
		fet &= (uint8_t)~JBD_FET_DSG_ON;
	if (b->mosfet_mask)
		raw |= 1u << JBD_PROT_SW_LOCK;
	b->fet = fet;
	b->prot_raw = raw;
}

/* ---- balancing and SOC ------------------------------------------------------------------- */

static uint32_t balance_mask(const struct bms *b)
{
	const struct bms_meas *s = &b->meas;
	uint16_t func = ee(b, JBD_REG_FUNC_CONFIG);
	if (!(func & FUNC_BALANCE) || ((func & FUNC_BALANCE_CHG) && s->current_mA <= 0))
		return 0;
	uint16_t start = ee(b, 0x2A), window = ee(b, 0x2B), cmax, cmin;
	cell_extremes(b, &cmax, &cmin);
	uint32_t mask = 0;
	for (unsigned i = 0; i < cell_count(b); i++)
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
	if (s->current_mA > 0 && cmax >= ee(b, 0x12))
		b->remain_mAh = full;
	if (s->current_mA < 0 && cmin <= ee(b, 0x13))
		b->remain_mAh = 0.0;

	if (s->current_mA < 0) {
		double cycle_mAh = 10.0 * ee(b, 0x11);
		b->cycle_progress_mAh -= d_mAh;
		while (b->cycle_progress_mAh >= cycle_mAh) {
			b->cycle_progress_mAh -= cycle_mAh;
			if (ee(b, JBD_REG_CYCLES) < 0xFFFFu)
				ee_put(b, JBD_REG_CYCLES, (uint16_t)(ee(b, JBD_REG_CYCLES) + 1u));
		}
	}
}

/* SOC fraction from a rested cell voltage on the EEPROM voltage points (first segment that
 * brackets it, so a user's non-monotonic points still give an answer). */
static double soc_from_cell_mV(const struct bms *b, double mV)
{
	if (mV >= ee(b, soc_point_reg[10]))
		return 1.0;
	for (unsigned k = 0; k < 10; k++) {
		double lo = ee(b, soc_point_reg[k]), hi = ee(b, soc_point_reg[k + 1]);
		if (hi > lo && mV >= lo && mV <= hi)
			return (k + (mV - lo) / (hi - lo)) / 10.0;
	}
	return 0.0;
}

/* ---- public ------------------------------------------------------------------------------ */

rig_rc bms_init(struct bms *b, const struct model *m)
{
	if (b == NULL || m == NULL || m->cfg.cells < 1 || m->cfg.cells > JBD_CELLS_MAX ||
	    m->cfg.ntc_count > JBD_NTC_MAX)
		return RIG_ERR_ARG;
	memset(b, 0, sizeof *b);                  /* sense faults too: a new board is intact */
	set_defaults(b, &m->cfg);
	b->sw_version = 0x80;                     /* 8.0, as the SP04S034 (jbd.md §11 F1) */
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
	b->mosfet_mask = 0;
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
	/* The cycle count lives in the EEPROM but is a counter, not a setting. */
	uint16_t cycles = ee(b, JBD_REG_CYCLES);
	set_defaults(b, &m->cfg);
	ee_put(b, JBD_REG_CYCLES, cycles);
	if (b->remain_mAh > bms_full_mAh(b))     /* as a write of 0x10 would */
		b->remain_mAh = bms_full_mAh(b);
	bms_restart(b, m);
}

void bms_step(struct bms *b, struct model *m, double dt_s, double requested_A)
{
	if (!(dt_s > 0.0) || !isfinite(dt_s) || !isfinite(requested_A))
		return;
	double dt_ms = dt_s * 1000.0;
	uint32_t step_ms = dt_ms >= DT_MAX_MS ? DT_MAX_MS : (uint32_t)llround(dt_ms);

	/* An open FET blocks its direction (the other FET's body diode still lets the opposite
	 * direction through, which is why only one direction is blocked each). */
	update_fets(b);
	double allowed_A = requested_A;
	if ((requested_A > 0.0 && !(b->fet & JBD_FET_CHG_ON)) ||
	    (requested_A < 0.0 && !(b->fet & JBD_FET_DSG_ON)))
		allowed_A = 0.0;
	model_step(m, dt_s, allowed_A, b->bal_mask);

	measure(b, m);
	count_charge(b, dt_s);
	protect(b, step_ms);
	update_fets(b);
	b->bal_mask = balance_mask(b);
	b->time_s += dt_s;
}

rig_rc bms_reg_get(const struct bms *b, uint8_t reg, uint16_t *value)
{
	if (reg >= JBD_REG_EEPROM_FIRST && reg <= JBD_REG_EEPROM_LAST)
		*value = ee(b, reg);
	else if (reg >= JBD_REG_CAL_FIRST && reg <= JBD_REG_CAL_LAST)
		*value = b->cal[reg - JBD_REG_CAL_FIRST];
	else
		return RIG_ERR_UNSUPPORTED;
	return RIG_OK;
}

rig_rc bms_reg_set(struct bms *b, uint8_t reg, uint16_t value)
{
	rig_rc rc = bms_reg_check(reg, value, NULL, 0);
	if (rc != RIG_OK)
		return rc;
	if (reg >= JBD_REG_CAL_FIRST) {
		b->cal[reg - JBD_REG_CAL_FIRST] = value;
		return RIG_OK;
	}
	ee_put(b, reg, value);
	if (reg == JBD_REG_DESIGN_CAP && b->remain_mAh > bms_full_mAh(b))
		b->remain_mAh = bms_full_mAh(b);
	return RIG_OK;
}

rig_rc bms_string_get(const struct bms *b, uint8_t reg, struct jbd_text *t)
{
	if (reg < JBD_REG_MFG_NAME || reg > JBD_REG_BARCODE)
		return RIG_ERR_UNSUPPORTED;
	*t = b->str[reg - JBD_REG_MFG_NAME];
	return RIG_OK;
}

rig_rc bms_string_set(struct bms *b, uint8_t reg, const char *text, size_t len)
{
	if (reg < JBD_REG_MFG_NAME || reg > JBD_REG_BARCODE)
		return RIG_ERR_UNSUPPORTED;
	if (len > JBD_TEXT_MAX || (len > 0 && (text == NULL || memchr(text, 0, len) != NULL)))
		return RIG_ERR_ARG;
	struct jbd_text *t = &b->str[reg - JBD_REG_MFG_NAME];
	memset(t, 0, sizeof *t);
	if (len > 0)
		memcpy(t->text, text, len);
	t->len = (uint8_t)len;
	return RIG_OK;
}

rig_rc bms_set_mosfet_mask(struct bms *b, uint8_t mask)
{
	if (mask > (JBD_MOSFET_CHG_OFF | JBD_MOSFET_DSG_OFF))
		return RIG_ERR_ARG;
	b->mosfet_mask = mask;
	update_fets(b);
	return RIG_OK;
}

uint32_t bms_full_mAh(const struct bms *b)
{
	return 10u * ee(b, JBD_REG_DESIGN_CAP);
}

void bms_set_remain_mAh(struct bms *b, uint32_t remain_mAh)
{
	uint32_t full = bms_full_mAh(b);
	b->remain_mAh = remain_mAh > full ? full : remain_mAh;
}

uint32_t bms_remain_mAh(const struct bms *b)
{
	return (uint32_t)lround(b->remain_mAh);
}

uint8_t bms_soc_pct(const struct bms *b)
{
	uint32_t full = bms_full_mAh(b);
	return full ? (uint8_t)lround(clampd(b->remain_mAh * 100.0 / full, 0.0, 100.0)) : 0u;
}

void bms_events_get(const struct bms *b, struct jbd_events *e)
{
	e->count = BMS_EVENT_COUNT;
	memcpy(e->value, b->events, sizeof e->value);
}

void bms_events_clear(struct bms *b)
{
	memset(b->events, 0, sizeof b->events);
}

/* What a 16-bit wire field in 10-unit steps can carry: the BMS saturates rather than wraps. */
#define WIRE_U16_x10 655350u
#define WIRE_S16_x10 327670

void bms_jbd_basic(const struct bms *b, struct jbd_basic *out)
{
	const struct bms_meas *s = &b->meas;
	uint32_t remain = bms_remain_mAh(b), full = bms_full_mAh(b);
	unsigned n = cell_count(b);
	uint32_t bal = n < 32u ? b->bal_mask & ((1u << n) - 1u) : b->bal_mask;
	memset(out, 0, sizeof *out);
	out->pack_mV = s->pack_mV > WIRE_U16_x10 ? WIRE_U16_x10 : s->pack_mV;
	out->current_mA = s->current_mA > WIRE_S16_x10 ? WIRE_S16_x10
	                : (s->current_mA < -WIRE_S16_x10 ? -WIRE_S16_x10 : s->current_mA);
	out->remain_mAh = remain;
	out->full_mAh = full;
	out->cycles = ee(b, JBD_REG_CYCLES);
	out->production_date = ee(b, JBD_REG_MFG_DATE);
	out->bal_low = (uint16_t)(bal & 0xFFFFu);
	out->bal_high = (uint16_t)(bal >> 16);
	out->prot_raw = b->prot_raw;
	out->sw_version = b->sw_version;
	out->soc_pct = bms_soc_pct(b);
	out->fet = b->fet;
	out->cell_count = (uint8_t)n;
	out->ntc_count = (uint8_t)enabled_temps(b, out->temp_dK);
	out->has_ext = 0;
	out->ext_full_mAh = full;
	out->ext_remain_mAh = remain;
	out->balance_current_mA = bal ? b->sensor.balance_current_mA : 0u;
}

void bms_jbd_cells(const struct bms *b, struct jbd_cells *out)
{
	memset(out, 0, sizeof *out);
	out->count = (uint8_t)cell_count(b);
	memcpy(out->cell_mV, b->meas.cell_mV, sizeof out->cell_mV);
}
