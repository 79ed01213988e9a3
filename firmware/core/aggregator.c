/* Several packs as one battery (aggregator.h). Each pack's limits follow the emulator's BMS
 * rules (sim/bms_limits.c) from the aggregator's own settings; the battery's are the weakest
 * pack's times the packs online, as bms_inverter_combine does. docs/aggregator.md has every
 * rule. Only 32-bit arithmetic: the lx106 has neither a divider nor a 64-bit multiply. */
#include <stddef.h>
#include <string.h>

#include "bmsrig/core/aggregator.h"
#include "intmath.h"

#define TEMP_25C_DK ((uint16_t)(PACK_DK_ZERO_C + 250u))
#define CPCT_SCALE_MAX 429496u     /* UINT32_MAX / 10000: sum of weights the SOC ratio takes */

static uint32_t sat_add_u32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static int32_t sat_add_i32(int32_t a, int32_t b)
{
	if (b > 0 && a > INT32_MAX - b)
		return INT32_MAX;
	if (b < 0 && a < INT32_MIN - b)
		return INT32_MIN;
	return a + b;
}

static unsigned bit_len(uint32_t v)
{
	unsigned n = 0;

	while (v) {
		v >>= 1;
		n++;
	}
	return n;
}

/* a * num / den (den > 0) in 32 bits: num and den are shifted down together until the product
 * fits, which costs precision only for limits and spans far beyond a real pack's. */
static uint32_t scale(uint32_t a, uint32_t num, uint32_t den)
{
	while (bit_len(a) + bit_len(num) > 32u) {
		num >>= 1;
		den >>= 1;
	}
	return den ? u32_div(a * num, den) : 0u;
}

int32_t rig_agg_ramp(int32_t limit, int32_t x, int32_t start, int32_t end)
{
	if (x >= end || limit <= 0)
		return 0;
	if (x <= start)
		return limit;
	return (int32_t)scale((uint32_t)limit, (uint32_t)(end - x), (uint32_t)(end - start));
}

int32_t rig_agg_temp_window(int32_t limit, int32_t tmin_dK, int32_t tmax_dK, int32_t lo_dK, int32_t hi_dK,
                            int32_t band_dK)
{
	if (tmin_dK <= lo_dK || tmax_dK >= hi_dK)
		return 0;
	limit = rig_agg_ramp(limit, -tmin_dK, -(lo_dK + band_dK), -lo_dK);
	return rig_agg_ramp(limit, tmax_dK, hi_dK - band_dK, hi_dK);
}

static int32_t min_i32(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

/* Defaults per chemistry: the emulator's BMS defaults (sim/bms.c) for a 100 Ah pack. */
static const struct chem_defaults {
	uint16_t cvl, dvl, taper, ovp, uvp, chg_otp;
} chem_defaults[] = {
	[RIG_AGG_CHEM_LFP] = { 3550u, 3000u, 3450u, 3650u, 2500u, 3281u },
	[RIG_AGG_CHEM_NMC] = { 4150u, 3100u, 4100u, 4250u, 2800u, 3181u },
};

void rig_agg_cfg_defaults(struct rig_agg_cfg *cfg, enum rig_agg_chem chem, uint8_t cells)
{
	const struct chem_defaults *d = &chem_defaults[chem == RIG_AGG_CHEM_NMC ? 1 : 0];

	memset(cfg, 0, sizeof *cfg);
	cfg->max_charge_mA = 50000;
	cfg->max_discharge_mA = 50000;
	cfg->cvl_cell_mV = d->cvl;
	cfg->dvl_cell_mV = d->dvl;
	cfg->taper_start_mV = d->taper;
	cfg->cell_ovp_mV = d->ovp;
	cfg->cell_uvp_mV = d->uvp;
	cfg->dsg_taper_mV = 300u;
	cfg->chg_utp_dK = PACK_DK_ZERO_C;
	cfg->chg_otp_dK = d->chg_otp;
	cfg->dsg_utp_dK = PACK_DK_ZERO_C - 200u;
	cfg->dsg_otp_dK = PACK_DK_ZERO_C + 600u;
	cfg->derate_dK = 50u;
	cfg->warn_cell_mV = 50u;
	cfg->warn_temp_dK = 50u;
	cfg->spread_mV = (uint16_t)(cells ? 100u * cells : 1600u);   /* 100 mV a cell */
	cfg->cells = cells ? cells : 16u;
	cfg->force_chg_1_pct = 9u;
	cfg->force_chg_2_pct = 13u;
	cfg->pack_count = 1u;
	/* What a BMS opens its charge / discharge switch for (sim/bms.c's protection engine). */
	cfg->chg_block_prot = PACK_PROT_CELL_OV | PACK_PROT_PACK_OV | PACK_PROT_CHG_OT | PACK_PROT_CHG_UT |
	                      PACK_PROT_CHG_OC | PACK_PROT_SHORT | PACK_PROT_AFE | PACK_PROT_SW_LOCK;
	cfg->dsg_block_prot = PACK_PROT_CELL_UV | PACK_PROT_PACK_UV | PACK_PROT_DSG_OT | PACK_PROT_DSG_UT |
	                      PACK_PROT_DSG_OC | PACK_PROT_SHORT | PACK_PROT_AFE | PACK_PROT_SW_LOCK;
	cfg->stale_ms = 10000u;
	cfg->comm_alarm_ms = 30000u;
}

void rig_agg_init(struct rig_agg *a, const struct rig_agg_cfg *cfg, uint32_t now_ms)
{
	memset(a, 0, sizeof *a);
	a->cfg = *cfg;
	if (a->cfg.pack_count > RIG_AGG_PACKS_MAX)
		a->cfg.pack_count = RIG_AGG_PACKS_MAX;
	if (!a->cfg.cells)
		a->cfg.cells = 1u;
	a->start_ms = now_ms;
}

int rig_agg_update(struct rig_agg *a, unsigned index, const struct pack_state *s, uint32_t design_mAh,
                   const struct rig_inv_battery *own)
{
	struct rig_agg_pack *p;
	unsigned i, n;
	uint32_t sum_dK = 0;

	if (index >= RIG_AGG_PACKS_MAX)
		return -1;
	p = &a->pack[index];
	memset(p, 0, sizeof *p);
	p->pack_mV = s->pack_mV;
	p->current_mA = s->current_mA;
	p->remain_mAh = s->remain_mAh;
	p->full_mAh = s->full_mAh;
	p->design_mAh = design_mAh;
	p->prot = s->prot;
	p->updated_ms = s->updated_ms;
	p->cycles = s->cycles;
	p->soc_pct = s->soc_pct > 100u ? 100u : s->soc_pct;
	p->fets = (uint8_t)((s->fet_chg ? RIG_INV_FET_CHG : 0u) | (s->fet_dsg ? RIG_INV_FET_DSG : 0u));
	p->seen = 1u;

	n = s->cell_count < PACK_CELLS_MAX ? s->cell_count : PACK_CELLS_MAX;
	p->cells = (uint8_t)(n ? n : a->cfg.cells);
	if (n) {
		p->cell_min_mV = 0xFFFFu;
		for (i = 0; i < n; i++) {
			if (s->cell_mV[i] > p->cell_max_mV)
				p->cell_max_mV = s->cell_mV[i];
			if (s->cell_mV[i] < p->cell_min_mV)
				p->cell_min_mV = s->cell_mV[i];
		}
	} else {
		/* No cell readings (a protocol that reports only the pack): its mean cell. */
		uint32_t c = u32_div(s->pack_mV, p->cells);
		p->cell_max_mV = p->cell_min_mV = (uint16_t)(c > 0xFFFFu ? 0xFFFFu : c);
	}

	/* No probe: 25 degC, so no temperature rule limits what the pack cannot see. */
	n = s->temp_count < PACK_TEMPS_MAX ? s->temp_count : PACK_TEMPS_MAX;
	p->temp_max_dK = p->temp_min_dK = p->temp_avg_dK = TEMP_25C_DK;
	if (n) {
		p->temp_max_dK = 0;
		p->temp_min_dK = 0xFFFFu;
		for (i = 0; i < n; i++) {
			sum_dK += s->temp_dK[i];
			if (s->temp_dK[i] > p->temp_max_dK)
				p->temp_max_dK = s->temp_dK[i];
			if (s->temp_dK[i] < p->temp_min_dK)
				p->temp_min_dK = s->temp_dK[i];
		}
		p->temp_avg_dK = (uint16_t)u32_div(sum_dK, n);
	}

	p->own_ccl_mA = p->own_dcl_mA = -1;
	if (own) {
		p->own_ccl_mA = own->ccl_mA < 0 ? 0 : own->ccl_mA;
		p->own_dcl_mA = own->dcl_mA < 0 ? 0 : own->dcl_mA;
		p->own_cvl_mV = own->cvl_mV;
		p->own_dvl_mV = own->dvl_mV;
		p->prot |= own->prot;
	}
	return 0;
}

void rig_agg_forget(struct rig_agg *a, unsigned index)
{
	if (index < RIG_AGG_PACKS_MAX)
		memset(&a->pack[index], 0, sizeof a->pack[index]);
}

void rig_agg_set_interval(struct rig_agg *a, unsigned index, uint32_t interval_ms)
{
	if (index < RIG_AGG_PACKS_MAX)
		a->interval_ms[index] = interval_ms;
}

/* The larger of a fixed time and `reads` of pack i's intervals (saturating: no wrap to short). */
static uint32_t reads_or(const struct rig_agg *a, unsigned i, uint32_t fixed_ms, uint32_t reads)
{
	uint32_t iv = i < RIG_AGG_PACKS_MAX ? a->interval_ms[i] : 0u;
	uint32_t t = iv > UINT32_MAX / reads ? UINT32_MAX : iv * reads;

	return t > fixed_ms ? t : fixed_ms;
}

uint32_t rig_agg_stale_ms(const struct rig_agg *a, unsigned index)
{
	return reads_or(a, index, a->cfg.stale_ms, RIG_AGG_STALE_READS);
}

/* What one pack allows, by its BMS's rules on the aggregator's settings (bms_limits.c). */
static void pack_limits(const struct rig_agg_cfg *c, const struct rig_agg_pack *p, int32_t *ccl, int32_t *dcl)
{
	const int32_t tmin = p->temp_min_dK, tmax = p->temp_max_dK;
	const int32_t cold_dK = c->chg_utp_dK > (int32_t)PACK_DK_ZERO_C ? (int32_t)c->chg_utp_dK : (int32_t)PACK_DK_ZERO_C;
	int32_t ch, dh;

	ch = rig_agg_ramp(c->max_charge_mA, p->cell_max_mV, c->taper_start_mV, c->cell_ovp_mV);
	ch = min_i32(ch, rig_agg_temp_window(c->max_charge_mA, tmin, tmax, cold_dK, c->chg_otp_dK, c->derate_dK));
	if (!(p->fets & RIG_INV_FET_CHG) || (p->prot & c->chg_block_prot))
		ch = 0;
	dh = rig_agg_ramp(c->max_discharge_mA, -(int32_t)p->cell_min_mV, -(int32_t)(c->cell_uvp_mV + c->dsg_taper_mV),
	          -(int32_t)c->cell_uvp_mV);
	dh = min_i32(dh, rig_agg_temp_window(c->max_discharge_mA, tmin, tmax, c->dsg_utp_dK, c->dsg_otp_dK, c->derate_dK));
	if (!(p->fets & RIG_INV_FET_DSG) || (p->prot & c->dsg_block_prot))
		dh = 0;
	if (p->own_ccl_mA >= 0)
		ch = min_i32(ch, p->own_ccl_mA);
	if (p->own_dcl_mA >= 0)
		dh = min_i32(dh, p->own_dcl_mA);
	*ccl = ch;
	*dcl = dh;
}

/* Warnings: the battery's extremes a margin inside the aggregator's own limits, one row each
 * (bms_limits.c's table, less the pack and current rows: their thresholds are a BMS's). */
enum warn_src { W_CELL_MAX, W_CELL_MIN, W_TEMP_MAX, W_TEMP_MIN };
static const struct warn_def {
	uint8_t src, over, cell;           /* enum warn_src, 1 = at or above, 1 = warn_cell_mV margin */
	uint16_t bit;                      /* enum pack_prot */
} warn_defs[] = {
	{ W_CELL_MAX, 1, 1, PACK_PROT_CELL_OV },
	{ W_CELL_MIN, 0, 1, PACK_PROT_CELL_UV },
	{ W_TEMP_MAX, 1, 0, PACK_PROT_CHG_OT },
	{ W_TEMP_MIN, 0, 0, PACK_PROT_CHG_UT },
	{ W_TEMP_MAX, 1, 0, PACK_PROT_DSG_OT },
	{ W_TEMP_MIN, 0, 0, PACK_PROT_DSG_UT },
};

static uint32_t warnings(const struct rig_agg_cfg *c, const struct rig_inv_battery *r)
{
	const int32_t src[] = {
		[W_CELL_MAX] = r->cell_max_mV, [W_CELL_MIN] = r->cell_min_mV,
		[W_TEMP_MAX] = r->temp_max_dK, [W_TEMP_MIN] = r->temp_min_dK,
	};
	/* Each row's threshold, in warn_defs' order. */
	const int32_t thr[] = { c->cell_ovp_mV, c->cell_uvp_mV, c->chg_otp_dK, c->chg_utp_dK, c->dsg_otp_dK,
	                        c->dsg_utp_dK };
	uint32_t warn = 0;
	size_t i;

	for (i = 0; i < sizeof warn_defs / sizeof warn_defs[0]; i++) {
		const struct warn_def *d = &warn_defs[i];
		int32_t margin = d->cell ? c->warn_cell_mV : c->warn_temp_dK;
		if (d->over ? src[d->src] >= thr[i] - margin : src[d->src] <= thr[i] + margin)
			warn |= d->bit;
	}
	return warn;
}

/* Median of v[0..n-1] (n >= 1), sorted in place: a pack whose meter is off cannot move it. */
static uint32_t median(uint32_t *v, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		uint32_t x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	if (n & 1u)
		return v[n >> 1];
	return v[(n >> 1) - 1u] + ((v[n >> 1] - v[(n >> 1) - 1u] + 1u) >> 1);   /* no overflow */
}

static uint16_t soc_cpct(uint32_t charge_mAh, uint32_t weight_mAh)
{
	uint32_t c;

	while (weight_mAh > CPCT_SCALE_MAX) {
		weight_mAh >>= 1;
		charge_mAh >>= 1;
	}
	if (!weight_mAh)
		return 0;
	c = u32_div(charge_mAh * 10000u + (weight_mAh >> 1), weight_mAh);
	return (uint16_t)(c > 10000u ? 10000u : c);
}

unsigned rig_agg_compute(struct rig_agg *a, uint32_t now_ms, uint32_t hold, struct rig_inv_battery *out)
{
	const struct rig_agg_cfg *c = &a->cfg;
	uint32_t volts[RIG_AGG_PACKS_MAX];
	uint32_t charge = 0, weight = 0, soc_sum = 0, temp_sum = 0;
	int32_t ccl = INT32_MAX, dcl = INT32_MAX;
	unsigned i, n = 0, flags = 0, unweighted = 0;
	uint8_t fets = RIG_INV_FET_CHG | RIG_INV_FET_DSG;

	memset(out, 0, sizeof *out);
	a->online_mask = 0;
	out->cvl_mV = UINT32_MAX;
	out->soh_pct = 100u;
	out->cell_min_mV = out->temp_min_dK = 0xFFFFu;
	for (i = 0; i < RIG_AGG_PACKS_MAX; i++) {
		const struct rig_agg_pack *p = &a->pack[i];
		uint32_t since = p->seen ? p->updated_ms : a->start_ms;
		int32_t age = (int32_t)(now_ms - since);   /* a clock a little behind the pack's: 0 */
		uint32_t age_ms = age > 0 ? (uint32_t)age : 0u;
		int32_t pc, pd;
		uint32_t v;

		if ((p->seen || i < c->pack_count) && age_ms >= reads_or(a, i, c->comm_alarm_ms, RIG_AGG_ALARM_READS))
			flags |= RIG_AGG_F_COMM;
		if (!p->seen || age_ms >= rig_agg_stale_ms(a, i))
			continue;
		a->online_mask |= (uint16_t)(1u << i);
		volts[n++] = p->pack_mV;

		out->current_mA = sat_add_i32(out->current_mA, p->current_mA);
		out->remain_mAh = sat_add_u32(out->remain_mAh, p->remain_mAh);
		out->full_mAh = sat_add_u32(out->full_mAh, p->full_mAh);
		out->design_mAh = sat_add_u32(out->design_mAh, p->design_mAh);
		/* SOC weighted by capacity: the packs' charge over their capacity, the full capacity
		 * where known, else the design one; a pack with neither makes it a plain mean. */
		v = p->full_mAh ? p->full_mAh : p->design_mAh;
		if (!v)
			unweighted = 1;
		charge = sat_add_u32(charge, p->full_mAh ? (p->remain_mAh < v ? p->remain_mAh : v)
		                                         : scale(v, p->soc_pct, 100u));
		weight = sat_add_u32(weight, v);
		soc_sum += p->soc_pct;
		if (p->full_mAh && p->design_mAh && p->full_mAh < p->design_mAh) {
			uint32_t soh = scale(100u, p->full_mAh, p->design_mAh);
			if (soh < out->soh_pct)
				out->soh_pct = (uint8_t)soh;
		}
		temp_sum += p->temp_avg_dK;
		if (p->cell_max_mV > out->cell_max_mV)
			out->cell_max_mV = p->cell_max_mV;
		if (p->cell_min_mV < out->cell_min_mV)
			out->cell_min_mV = p->cell_min_mV;
		if (p->temp_max_dK > out->temp_max_dK)
			out->temp_max_dK = p->temp_max_dK;
		if (p->temp_min_dK < out->temp_min_dK)
			out->temp_min_dK = p->temp_min_dK;
		if (p->cycles > out->cycles)
			out->cycles = p->cycles;
		out->prot |= p->prot;
		fets &= p->fets;

		pack_limits(c, p, &pc, &pd);
		ccl = min_i32(ccl, pc);
		dcl = min_i32(dcl, pd);
		/* CVL: the lowest any pack takes; DVL: the highest any pack needs. */
		v = (uint32_t)c->cvl_cell_mV * p->cells;
		if (p->own_cvl_mV && p->own_cvl_mV < v)
			v = p->own_cvl_mV;
		if (v < out->cvl_mV)
			out->cvl_mV = v;
		v = (uint32_t)c->dvl_cell_mV * p->cells;
		if (p->own_dvl_mV > v)
			v = p->own_dvl_mV;
		if (v > out->dvl_mV)
			out->dvl_mV = v;
	}

	a->online_count = (uint8_t)n;
	out->module_count = (uint8_t)n;
	memcpy(out->manufacturer, "PYLON", 6);
	if (n == 0) {
		/* Nothing to speak for: no current either way, the voltages of the configured pack. */
		flags |= RIG_AGG_F_NO_PACK;
		memset(out, 0, offsetof(struct rig_inv_battery, module_count));
		out->cvl_mV = (uint32_t)c->cvl_cell_mV * c->cells;
		out->dvl_mV = (uint32_t)c->dvl_cell_mV * c->cells;
		out->soh_pct = 100u;
		ccl = dcl = 0;
	} else {
		out->pack_mV = median(volts, n);
		if (volts[n - 1u] - volts[0] > c->spread_mV)
			flags |= RIG_AGG_F_SPREAD;
		out->temp_dK = (uint16_t)u32_div(temp_sum, n);
		out->soc_cpct = unweighted ? (uint16_t)(u32_div(soc_sum, n) * 100u) : soc_cpct(charge, weight);
		out->soc_pct = (uint8_t)u32_div10(u32_div10(out->soc_cpct + 50u));
		out->fets = fets;
		out->warn = warnings(c, out);
		/* Current shares evenly between parallel packs: the weakest pack's limit sets each
		 * pack's share (bms_inverter_combine). One pack that forbids forbids all. */
		ccl = ccl > INT32_MAX / (int32_t)RIG_AGG_PACKS_MAX ? INT32_MAX : ccl * (int32_t)n;
		dcl = dcl > INT32_MAX / (int32_t)RIG_AGG_PACKS_MAX ? INT32_MAX : dcl * (int32_t)n;
	}
	if (hold & RIG_AGG_HOLD_ALL)
		flags |= RIG_AGG_F_HELD;
	if (hold & RIG_AGG_HOLD_CHG)
		ccl = 0;
	if (hold & RIG_AGG_HOLD_DSG)
		dcl = 0;
	out->ccl_mA = ccl;
	out->dcl_mA = dcl;
	out->request = (uint8_t)((ccl > 0 ? RIG_INV_CHG_ENABLE : 0u) | (dcl > 0 ? RIG_INV_DSG_ENABLE : 0u));
	if (n && out->soc_pct <= c->force_chg_1_pct)
		out->request |= RIG_INV_FORCE_CHG_1;
	else if (n && out->soc_pct <= c->force_chg_2_pct)
		out->request |= RIG_INV_FORCE_CHG_2;
	if (flags & RIG_AGG_F_COMM)
		out->alarm |= RIG_INV_ALARM_COMM;
	a->flags = (uint8_t)flags;
	return flags;
}
