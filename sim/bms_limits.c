/* The battery's word to an inverter (bms_limits.h): limits, requests and flags from the BMS's
 * last measurements and its neutral settings. The rules, and why, are in docs/bmssim.md
 * "Limits to the inverter"; every number below comes from a setting or a measurement. */
#include <string.h>

#include "bmsrig/core/aggregator.h"
#include "bmsrig/sim/bms_limits.h"

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Warnings: the protections' own measurements and thresholds, raised a margin early. */
enum warn_src { W_CELL_MAX, W_CELL_MIN, W_PACK, W_TEMP_MAX, W_TEMP_MIN, W_CHG_I, W_DSG_I };
enum warn_margin { M_CELL, M_PACK, M_TEMP, M_CURRENT };
static const struct warn_def {
	uint8_t src, over, threshold, margin;   /* enum warn_src, 1 = at or above, bms setting, enum warn_margin */
	uint32_t bit;                           /* enum pack_prot */
} warn_defs[] = {
	{ W_CELL_MAX, 1, BMS_SET_CELL_OVP, M_CELL, PACK_PROT_CELL_OV },
	{ W_CELL_MIN, 0, BMS_SET_CELL_UVP, M_CELL, PACK_PROT_CELL_UV },
	{ W_PACK, 1, BMS_SET_PACK_OVP, M_PACK, PACK_PROT_PACK_OV },
	{ W_PACK, 0, BMS_SET_PACK_UVP, M_PACK, PACK_PROT_PACK_UV },
	{ W_TEMP_MAX, 1, BMS_SET_CHG_OTP, M_TEMP, PACK_PROT_CHG_OT },
	{ W_TEMP_MIN, 0, BMS_SET_CHG_UTP, M_TEMP, PACK_PROT_CHG_UT },
	{ W_TEMP_MAX, 1, BMS_SET_DSG_OTP, M_TEMP, PACK_PROT_DSG_OT },
	{ W_TEMP_MIN, 0, BMS_SET_DSG_UTP, M_TEMP, PACK_PROT_DSG_UT },
	{ W_CHG_I, 1, BMS_SET_CHG_OC, M_CURRENT, PACK_PROT_CHG_OC },
	{ W_DSG_I, 1, BMS_SET_DSG_OC, M_CURRENT, PACK_PROT_DSG_OC },
};

static uint32_t warnings(const struct bms *b, const struct rig_inv_battery *r, unsigned cells)
{
	const struct bms_settings *s = &b->set;
	const int64_t src[] = {
		[W_CELL_MAX] = r->cell_max_mV, [W_CELL_MIN] = r->cell_min_mV, [W_PACK] = r->pack_mV,
		[W_TEMP_MAX] = r->temp_max_dK, [W_TEMP_MIN] = r->temp_min_dK,
		[W_CHG_I] = r->current_mA, [W_DSG_I] = -(int64_t)r->current_mA,
	};
	uint32_t warn = 0;

	for (size_t i = 0; i < sizeof warn_defs / sizeof warn_defs[0]; i++) {
		const struct warn_def *d = &warn_defs[i];
		int64_t thr = bms_setting_get(b, d->threshold), margin;
		switch (d->margin) {
		case M_CELL:  margin = s->warn_cell_mV; break;
		case M_PACK:  margin = (int64_t)s->warn_cell_mV * cells; break;
		case M_TEMP:  margin = s->warn_temp_dK; break;
		default:      margin = thr - thr * s->warn_current_pct / 100; break;
		}
		if (d->over ? src[d->src] >= thr - margin : src[d->src] <= thr + margin)
			warn |= d->bit;
	}
	return warn;
}

/* A reading no cell or probe gives: a broken sense wire (0 mV) or an open or shorted probe. */
static int sensor_fault(const struct bms_view *v)
{
	for (unsigned i = 0; i < v->cell_count; i++)
		if (v->cell_mV[i] == BMS_OPEN_WIRE_MV)
			return 1;
	for (unsigned k = 0; k < v->probe_count; k++)
		if (v->probe_dK[k] == BMS_NTC_OPEN_DK || v->probe_dK[k] == BMS_NTC_SHORT_DK)
			return 1;
	return 0;
}

/* The Deye clamp: an inverter that follows SOC more than the limits is steered away from the
 * forbidden direction. With both directions forbidden there is nowhere to steer: the true SOC. */
static void apply_soc_clamp(struct rig_inv_battery *r)
{
	if (!r->soc_clamp || (r->ccl_mA == 0) == (r->dcl_mA == 0))
		return;
	r->soc_pct = r->ccl_mA == 0 ? 100u : 0u;
	r->soc_cpct = (uint16_t)(r->soc_pct * 100u);
}

static uint8_t enable_bits(const struct rig_inv_battery *r)
{
	return (uint8_t)((r->ccl_mA > 0 ? RIG_INV_CHG_ENABLE : 0u) | (r->dcl_mA > 0 ? RIG_INV_DSG_ENABLE : 0u));
}

static uint16_t soc_cpct(uint64_t remain_mAh, uint64_t full_mAh)
{
	if (!full_mAh)
		return 0;
	uint64_t c = (remain_mAh * 10000u + full_mAh / 2u) / full_mAh;
	return (uint16_t)(c > 10000u ? 10000u : c);
}

void bms_inverter_limits(const struct bms *b, struct rig_inv_battery *out)
{
	const struct bms_settings *s = &b->set;
	struct bms_view v;
	uint32_t sum_dK = 0;
	unsigned i;

	bms_view(b, &v);
	memset(out, 0, sizeof *out);
	out->pack_mV = v.pack_mV;
	out->current_mA = v.current_mA;
	out->soc_pct = v.soc_pct;
	out->soc_cpct = soc_cpct(v.remain_mAh, v.full_mAh);
	out->soh_pct = v.soh_pct;
	out->remain_mAh = v.remain_mAh;
	out->full_mAh = v.full_mAh;
	out->design_mAh = (uint32_t)s->design_capacity_mAh;
	out->cycles = v.cycles;
	out->cell_min_mV = v.cell_count ? 0xFFFF : 0;
	for (i = 0; i < v.cell_count; i++) {
		if (v.cell_mV[i] > out->cell_max_mV)
			out->cell_max_mV = v.cell_mV[i];
		if (v.cell_mV[i] < out->cell_min_mV)
			out->cell_min_mV = v.cell_mV[i];
	}
	out->temp_min_dK = 0xFFFF;
	for (i = 0; i < v.probe_count; i++) {
		sum_dK += v.probe_dK[i];
		if (v.probe_dK[i] > out->temp_max_dK)
			out->temp_max_dK = v.probe_dK[i];
		if (v.probe_dK[i] < out->temp_min_dK)
			out->temp_min_dK = v.probe_dK[i];
	}
	/* No probe enabled: 25 degC, so no temperature rule limits what the BMS cannot see. */
	out->temp_dK = (uint16_t)(PACK_DK_ZERO_C + 250u);
	if (v.probe_count)
		out->temp_dK = (uint16_t)(sum_dK / v.probe_count);
	if (!v.probe_count)
		out->temp_min_dK = out->temp_max_dK = out->temp_dK;

	out->cvl_mV = (uint32_t)s->charge_voltage_cell_mV * v.cell_count;
	out->dvl_mV = (uint32_t)s->discharge_voltage_cell_mV * v.cell_count;

	/* CCL: the taper towards OVP, the charge temperature window (never below 0 degC), and
	 * nothing while the charge FET is open: the protection engine's verdict (every active
	 * protection that forbids charging opens it, bms.c) and the inhibit mask's, in one bit. */
	int64_t ccl = rig_agg_ramp(s->max_charge_mA, out->cell_max_mV, s->charge_taper_start_mV, s->cell_ovp_mV);
	int32_t cold_dK = s->chg_utp_dK > (int32_t)PACK_DK_ZERO_C ? s->chg_utp_dK : (int32_t)PACK_DK_ZERO_C;
	ccl = min64(ccl, rig_agg_temp_window(s->max_charge_mA, out->temp_min_dK, out->temp_max_dK, cold_dK,
	                                     s->chg_otp_dK, s->temp_derate_dK));
	if (!(v.fet & BMS_FET_CHG))
		ccl = 0;
	/* DCL: falling over the last discharge_taper_mV to UVP, the discharge temperature window. */
	int64_t dcl = rig_agg_ramp(s->max_discharge_mA, -(int32_t)out->cell_min_mV,
	                           -(s->cell_uvp_mV + s->discharge_taper_mV), -s->cell_uvp_mV);
	dcl = min64(dcl, rig_agg_temp_window(s->max_discharge_mA, out->temp_min_dK, out->temp_max_dK, s->dsg_utp_dK,
	                                     s->dsg_otp_dK, s->temp_derate_dK));
	if (!(v.fet & BMS_FET_DSG))
		dcl = 0;
	out->ccl_mA = (int32_t)(ccl > 0 ? ccl : 0);
	out->dcl_mA = (int32_t)(dcl > 0 ? dcl : 0);

	out->request = enable_bits(out);
	if (v.soc_pct <= s->force_charge_1_pct)
		out->request |= RIG_INV_FORCE_CHG_1;
	else if (v.soc_pct <= s->force_charge_2_pct)
		out->request |= RIG_INV_FORCE_CHG_2;
	if (s->full_charge_days > 0 && b->below_full_s >= (double)s->full_charge_days * 86400.0)
		out->request |= RIG_INV_FULL_CHG_REQ;

	out->prot = v.prot_bits;
	out->warn = warnings(b, out, v.cell_count);
	out->alarm = sensor_fault(&v) ? RIG_INV_ALARM_SYSTEM : 0u;
	out->module_count = 1;
	out->soc_clamp = s->soc_clamp ? 1u : 0u;
	strcpy(out->manufacturer, "PYLON");
	apply_soc_clamp(out);
}

void bms_inverter_combine(const struct rig_inv_battery *modules, unsigned n, struct rig_inv_battery *out)
{
	struct rig_inv_battery r = modules[0];
	uint64_t pack_mV = 0, temp_dK = 0, remain = 0, full = 0, design = 0;
	int64_t current = 0, ccl = INT32_MAX, dcl = INT32_MAX;
	unsigned i;

	if (n == 0)
		n = 1;
	r.request = 0;
	for (i = 0; i < n; i++) {
		const struct rig_inv_battery *m = &modules[i];
		pack_mV += m->pack_mV;
		temp_dK += m->temp_dK;
		current += m->current_mA;
		remain += m->remain_mAh;
		full += m->full_mAh;
		design += m->design_mAh;
		ccl = min64(ccl, m->ccl_mA);
		dcl = min64(dcl, m->dcl_mA);
		r.cvl_mV = m->cvl_mV < r.cvl_mV ? m->cvl_mV : r.cvl_mV;
		r.dvl_mV = m->dvl_mV > r.dvl_mV ? m->dvl_mV : r.dvl_mV;
		r.cell_max_mV = m->cell_max_mV > r.cell_max_mV ? m->cell_max_mV : r.cell_max_mV;
		r.cell_min_mV = m->cell_min_mV < r.cell_min_mV ? m->cell_min_mV : r.cell_min_mV;
		r.temp_max_dK = m->temp_max_dK > r.temp_max_dK ? m->temp_max_dK : r.temp_max_dK;
		r.temp_min_dK = m->temp_min_dK < r.temp_min_dK ? m->temp_min_dK : r.temp_min_dK;
		r.soh_pct = m->soh_pct < r.soh_pct ? m->soh_pct : r.soh_pct;
		r.cycles = m->cycles > r.cycles ? m->cycles : r.cycles;
		r.request |= m->request & (RIG_INV_FORCE_CHG_1 | RIG_INV_FORCE_CHG_2 | RIG_INV_FULL_CHG_REQ);
		r.prot |= m->prot;
		r.warn |= m->warn;
		r.alarm |= m->alarm;
		r.soc_clamp |= m->soc_clamp;
	}
	/* Parallel modules share the bus voltage; a mean hides no module's own reading that matters
	 * (the cell extremes and the limits carry those). */
	r.pack_mV = (uint32_t)(pack_mV / n);
	r.temp_dK = (uint16_t)(temp_dK / n);
	r.current_mA = (int32_t)(current > INT32_MAX ? INT32_MAX : (current < INT32_MIN ? INT32_MIN : current));
	r.remain_mAh = (uint32_t)(remain > UINT32_MAX ? UINT32_MAX : remain);
	r.full_mAh = (uint32_t)(full > UINT32_MAX ? UINT32_MAX : full);
	r.design_mAh = (uint32_t)(design > UINT32_MAX ? UINT32_MAX : design);
	/* SOC weighted by capacity is the modules' charge over their capacity. */
	r.soc_cpct = soc_cpct(remain, full);
	r.soc_pct = (uint8_t)((r.soc_cpct + 50u) / 100u);
	/* Current shares evenly between parallel modules, so the weakest module's limit sets each
	 * module's share; one module that forbids forbids all. */
	ccl *= n;
	dcl *= n;
	r.ccl_mA = (int32_t)(ccl > INT32_MAX ? INT32_MAX : ccl);
	r.dcl_mA = (int32_t)(dcl > INT32_MAX ? INT32_MAX : dcl);
	r.request |= enable_bits(&r);
	r.module_count = (uint8_t)n;
	apply_soc_clamp(&r);
	*out = r;
}
