/* The truth the judge holds a DUT to (run_parts.h). */
#include <string.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/core/jbd.h"
#include "run_parts.h"

/* The measured parts a sample carries (pack, cells, temperatures), into a view. */
static void view_take(struct truth_view *v, const struct truth_sample *s)
{
	if (s->parts & TRUTH_PACK) {
		v->pack_mV = s->pack_mV;
		v->current_mA = s->current_mA;
	}
	if (s->parts & TRUTH_CELLS) {
		v->cell_count = s->cell_count;
		memcpy(v->cell_mV, s->cell_mV, sizeof v->cell_mV);
	}
	if (s->parts & TRUTH_TEMPS) {
		v->temp_count = s->temp_count;
		memcpy(v->temp_dK, s->temp_dK, sizeof v->temp_dK);
	}
}

void run_truth_decisions(const struct sim *sim, struct truth_view *t)
{
	const struct bms *b = sim_bms(sim, 0);

	t->fet_chg = !!(b->fet & BMS_FET_CHG);
	t->fet_dsg = !!(b->fet & BMS_FET_DSG);
	t->prot = b->prot_bits;            /* already the normalised set */
	t->bal_mask = b->bal_mask;
}

/* The model's state of charge, per cell and the mean, into t: a pass over the cells. */
static void soc_take(const struct model *m, struct truth_view *t)
{
	double soc = 0.0;
	unsigned i;

	for (i = 0; i < m->cfg.cells; i++) {
		t->cell_soc_pct[i] = model_cell_soc_frac(m, i) * 100.0;
		soc += t->cell_soc_pct[i];
	}
	t->soc_pct = soc / m->cfg.cells;
}

static double ambient_dK(const struct model *m) { return PACK_DK_ZERO_C + 10.0 * m->ambient_C; }

void run_truth_now(const struct sim *sim, double requested_A, struct truth_view *t)
{
	const struct model *m = sim_model(sim, 0);
	struct truth_sample all;

	memset(t, 0, sizeof *t);
	sim_truth(sim, 0, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS, &all);
	view_take(t, &all);
	t->requested_mA = requested_A * 1000.0;
	soc_take(m, t);
	t->ambient_dK = ambient_dK(m);
	run_truth_decisions(sim, t);
}

/* Each reply carries some parts of the pack (truth.h); what the DUT reports next combines them,
 * so the truth it is held to is merged the same way. */
/* Only what is judged on a report (an expectation reading dut.*) sees the truth behind a reply;
 * the state of charge is its one costly part (172,800 replies a day), so it is read only when
 * one of those names it. */
void run_truth_plan(struct run_truth *rt, const struct expect_spec *spec, unsigned n_spec)
{
	unsigned k;

	rt->reads_soc = 0;
	for (k = 0; k < n_spec; k++)
		if (spec[k].that.uses_dut && spec[k].that.reads_soc)
			rt->reads_soc = 1;
}

void run_truth_reply(struct run_truth *rt, const struct sim *sim, double requested_A,
                     const struct truth_sample *sample)
{
	struct truth_view *v = &rt->at_reply;
	const struct model *m = sim_model(sim, 0);
	unsigned part;

	/* A reply that arrives after a newer one (a late reply to an earlier request, which no
	 * client takes any more) does not set the truth back. */
	for (part = 0; part < 3; part++)
		if ((sample->parts & 1u << part) && (int32_t)(sample->t_ms - rt->built_ms[part]) < 0)
			return;
	for (part = 0; part < 3; part++)
		if (sample->parts & 1u << part)
			rt->built_ms[part] = sample->t_ms;
	/* The sample is what the BMS measured as it built the reply; the reply may have taken a
	 * while to cross (Bluetooth), so only the rest comes from the model as it is now: its state
	 * of charge is that of the unit's last step, as the sample's readings are (no step of its
	 * own: the emulator steps the unit when it is read or due, sim.c catch_up_read). */
	view_take(v, sample);
	if (sample->parts & TRUTH_PACK) {
		v->requested_mA = requested_A * 1000.0;
		if (rt->reads_soc)
			soc_take(m, v);
	}
	v->ambient_dK = ambient_dK(m);
	run_truth_decisions(sim, v);
}

/* ---- the battery as an inverter sees it ----------------------------------------------------- */

void run_inv_init(struct run_inv *v, const struct sim *sim)
{
	memset(v, 0, sizeof *v);
	v->decode = sim_unit_ops(sim, 0)->inv_decode;
}

void run_inv_frame(struct run_inv *v, enum personality_dir dir, const uint8_t *wire, size_t n, uint32_t now_ms)
{
	if (v->decode && v->decode(&v->ask, dir, wire, n, &v->wire)) {
		v->frames++;
		v->last_ms = now_ms;
	}
}

void run_inv_truth(struct run_inv *v, const struct sim *sim)
{
	struct rig_inv_battery modules[SIM_UNITS_MAX];
	unsigned n = sim_unit_count(sim), i;

	if (!v->decode)
		return;
	if (n <= 1) {
		bms_inverter_limits(sim_bms(sim, 0), &v->truth);
		return;
	}
	/* Units on one line are modules of one battery: the master answers for them all. */
	n = n < SIM_UNITS_MAX ? n : SIM_UNITS_MAX;
	for (i = 0; i < n; i++)
		bms_inverter_limits(sim_bms(sim, i), &modules[i]);
	bms_inverter_combine(modules, n, &v->truth);
}

void run_inv_env(const struct run_inv *v, uint32_t now_ms, struct expect_env *env)
{
	env->inv_truth = v->decode ? &v->truth : NULL;
	env->inv_wire = v->frames ? &v->wire : NULL;
	env->wire_frames = v->frames;
	/* As dut.age_ms: before the first frame, longer than any timeout. */
	env->wire_age_ms = v->frames ? (double)(now_ms - v->last_ms) : 1e12;
}

cJSON *run_inv_json(const struct rig_inv_battery *rec)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "cvl_mv", rec->cvl_mV);
	cJSON_AddNumberToObject(o, "dvl_mv", rec->dvl_mV);
	cJSON_AddNumberToObject(o, "ccl_ma", rec->ccl_mA);
	cJSON_AddNumberToObject(o, "dcl_ma", rec->dcl_mA);
	cJSON_AddNumberToObject(o, "soc_pct", rec->soc_pct);
	cJSON_AddNumberToObject(o, "soh_pct", rec->soh_pct);
	cJSON_AddNumberToObject(o, "pack_mv", rec->pack_mV);
	cJSON_AddNumberToObject(o, "current_ma", rec->current_mA);
	cJSON_AddNumberToObject(o, "request", rec->request);
	cJSON_AddNumberToObject(o, "prot", rec->prot);
	cJSON_AddNumberToObject(o, "warn", rec->warn);
	cJSON_AddNumberToObject(o, "alarm", rec->alarm);
	cJSON_AddNumberToObject(o, "module_count", rec->module_count);
	return o;
}
