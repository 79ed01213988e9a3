/* The battery's word to an inverter (bms_limits.h). FIRST CUT: state from the BMS's view and
 * limits that follow only the FETs and protections; the limits issue replaces the rules below
 * with the taper, temperature derating, force-charge requests and warnings from settings. */
#include <string.h>

#include "bmsrig/sim/bms_limits.h"

void bms_inverter_limits(const struct bms *b, struct rig_inv_battery *out)
{
	struct bms_view v;
	uint32_t sum_dK = 0;
	unsigned i;

	bms_view(b, &v);
	memset(out, 0, sizeof *out);
	out->pack_mV = v.pack_mV;
	out->current_mA = v.current_mA;
	out->soc_pct = v.soc_pct;
	out->soc_cpct = (uint16_t)(v.soc_pct * 100u);
	out->soh_pct = 100;
	out->remain_mAh = v.remain_mAh;
	out->full_mAh = v.full_mAh;
	out->design_mAh = (uint32_t)b->set.design_capacity_mAh;
	out->cycles = v.cycles;
	out->cell_min_mV = 0xFFFF;
	for (i = 0; i < v.cell_count; i++) {
		if (v.cell_mV[i] > out->cell_max_mV)
			out->cell_max_mV = v.cell_mV[i];
		if (v.cell_mV[i] < out->cell_min_mV)
			out->cell_min_mV = v.cell_mV[i];
	}
	if (!v.cell_count)
		out->cell_min_mV = 0;
	out->temp_min_dK = 0xFFFF;
	for (i = 0; i < v.probe_count; i++) {
		sum_dK += v.probe_dK[i];
		if (v.probe_dK[i] > out->temp_max_dK)
			out->temp_max_dK = v.probe_dK[i];
		if (v.probe_dK[i] < out->temp_min_dK)
			out->temp_min_dK = v.probe_dK[i];
	}
	out->temp_dK = (uint16_t)(v.probe_count ? sum_dK / v.probe_count : PACK_DK_ZERO_C + 250u);
	if (!v.probe_count)
		out->temp_min_dK = out->temp_max_dK = out->temp_dK;
	out->cvl_mV = (uint32_t)b->set.cell_ovp_mV * v.cell_count;   /* FIRST CUT */
	out->dvl_mV = (uint32_t)b->set.cell_uvp_mV * v.cell_count;
	out->ccl_mA = (v.fet & BMS_FET_CHG) ? b->set.chg_oc_mA / 2 : 0;
	out->dcl_mA = (v.fet & BMS_FET_DSG) ? b->set.dsg_oc_mA / 2 : 0;
	out->request = (uint8_t)((out->ccl_mA ? RIG_INV_CHG_ENABLE : 0u) | (out->dcl_mA ? RIG_INV_DSG_ENABLE : 0u));
	out->prot = v.prot_bits;
	out->module_count = 1;
	strcpy(out->manufacturer, "PYLON");
}

void bms_inverter_combine(const struct rig_inv_battery *modules, unsigned n, struct rig_inv_battery *out)
{
	*out = modules[0];       /* FIRST CUT: the master module speaks for all */
	out->module_count = (uint8_t)n;
}
