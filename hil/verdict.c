/* The verdict: does each report match something the emulator really said? A report combines
 * several replies (JBD 0x03 and 0x04, Daly 0x90, 0x95 and 0x96...), each taken at its own
 * moment, so each part is matched against the recent truth samples that carried that part. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/hil/hil.h"

void verdict_init(struct verdict *v, const struct resolution *tol)
{
	memset(v, 0, sizeof *v);
	v->tol = *tol;
}

void verdict_add_truth(struct verdict *v, const struct truth_sample *s)
{
	v->ring[v->n_samples++ % VERDICT_HISTORY] = *s;
	v->parts_seen |= s->parts;
}

/* Each part's largest |dut - truth| in units of the resolution (<= 1 agrees); *worst gets the
 * largest raw difference. */
static double err_pack(const struct verdict *v, const struct truth_sample *t, const struct pack_state *p,
                       double *worst)
{
	double dv = fabs(p->pack_mV - t->pack_mV), di = fabs(p->current_mA - t->current_mA);

	*worst = dv;
	return fmax(dv / v->tol.pack_mV, di / v->tol.current_mA);
}

/* A value one side has and the other lacks counts whole (the missing side reads 0), so a
 * missing cell's error is its voltage, not nothing. */
static double err_run(const uint16_t *dut, unsigned n_dut, const double *truth, unsigned n_truth,
                      double unit, double *worst)
{
	double e = 0;
	unsigned i, n = n_dut > n_truth ? n_dut : n_truth;

	*worst = 0;
	for (i = 0; i < n; i++) {
		double d = fabs((i < n_dut ? dut[i] : 0.0) - (i < n_truth ? truth[i] : 0.0));

		*worst = fmax(*worst, d);
		e = fmax(e, d / unit);
	}
	return n_dut != n_truth ? INFINITY : e;
}

static double err_part(const struct verdict *v, unsigned part, const struct truth_sample *t,
                       const struct pack_state *p, double *worst)
{
	switch (part) {
	case TRUTH_PACK:  return err_pack(v, t, p, worst);
	case TRUTH_CELLS: return err_run(p->cell_mV, p->cell_count, t->cell_mV, t->cell_count, v->tol.cell_mV, worst);
	default:          return err_run(p->temp_dK, p->temp_count, t->temp_dK, t->temp_count, v->tol.temp_dK, worst);
	}
}

/* The closest recent sample that carried part, or NULL when none did. */
static const struct truth_sample *best(const struct verdict *v, unsigned part, const struct pack_state *p,
                                       double *err, double *worst)
{
	const struct truth_sample *b = NULL;
	unsigned i, have = v->n_samples < VERDICT_HISTORY ? v->n_samples : VERDICT_HISTORY;

	*err = INFINITY;
	for (i = 0; i < have; i++) {
		double w, e;

		if (!(v->ring[i].parts & part))
			continue;
		e = err_part(v, part, &v->ring[i], p, &w);
		if (!b || e < *err) {
			*err = e;
			*worst = w;
			b = &v->ring[i];
		}
	}
	return b;
}

static void problem(struct verdict *v, const struct dut_report *r, const char *why)
{
	if (!v->first_problem[0])
		snprintf(v->first_problem, sizeof v->first_problem, "at DUT %u ms: %s", r->ms, why);
}

/* Every part is compared, and the worst errors are taken from those comparisons whatever the
 * report's outcome: the summary must not say "worst error: cell 0.5 mV" after a line that
 * disagreed by 3305 mV. */
int verdict_check(struct verdict *v, const struct dut_report *r, char *why, size_t whycap)
{
	static const struct { unsigned part; const char *name, *unit; } parts[] = {
		{ TRUTH_PACK, "pack voltage/current", "mV" }, { TRUTH_CELLS, "cells", "mV" },
		{ TRUTH_TEMPS, "temperatures", "dK" },
	};
	double worst[3] = { 0, 0, 0 }, err[3], pack_i = 0;
	const struct truth_sample *t[3];
	int skip[3];
	unsigned i, n_dut, n_truth;

	v->lines++;
	if (!r->ok) {
		if (!v->agree) {
			v->startup_failures++;
			snprintf(why, whycap, "a failed poll while connecting (comm_fail %u)", r->comm_fail);
			return -1;
		}
		v->failed_polls++;
		snprintf(why, whycap, "the DUT reports a failed poll (comm_fail %u)", r->comm_fail);
		problem(v, r, why);
		return -1;
	}
	/* The emulator sends truth with every reply that carries the part, so a part it never sent
	 * is not in the protocol: a JK04 record has no current, temperatures or SOC, and its client's
	 * 0 A is no disagreement. Before any truth, every part is missing. */
	for (i = 0; i < 3; i++) {
		skip[i] = v->parts_seen && !(v->parts_seen & parts[i].part);
		t[i] = skip[i] ? NULL : best(v, parts[i].part, &r->pack, &err[i], &worst[i]);
	}
	if (t[0])
		pack_i = fabs(r->pack.current_mA - t[0]->current_mA);
	v->worst_pack_mV = fmax(v->worst_pack_mV, t[0] ? worst[0] : 0.0);
	v->worst_current_mA = fmax(v->worst_current_mA, pack_i);
	v->worst_cell_mV = fmax(v->worst_cell_mV, t[1] ? worst[1] : 0.0);
	v->worst_temp_dK = fmax(v->worst_temp_dK, t[2] ? worst[2] : 0.0);
	for (i = 0; i < 3; i++) {
		if (skip[i] || (t[i] && err[i] <= 1.0))
			continue;
		v->disagree++;
		n_dut = parts[i].part == TRUTH_CELLS ? r->pack.cell_count : r->pack.temp_count;
		n_truth = !t[i] ? 0 : parts[i].part == TRUTH_CELLS ? t[i]->cell_count : t[i]->temp_count;
		if (!t[i])
			snprintf(why, whycap, "%s: no truth sample to compare with", parts[i].name);
		else if (parts[i].part == TRUTH_PACK)
			snprintf(why, whycap, "pack %u mV / %d mA vs truth %.1f mV / %.1f mA (%.1f mV / %.1f mA off)",
			         r->pack.pack_mV, r->pack.current_mA, t[i]->pack_mV, t[i]->current_mA, worst[i], pack_i);
		else if (n_dut != n_truth)
			snprintf(why, whycap, "%s: the DUT reports %u, the truth has %u", parts[i].name, n_dut, n_truth);
		else
			snprintf(why, whycap, "%s differ from every recent truth sample (%.1f %s off at best)",
			         parts[i].name, worst[i], parts[i].unit);
		problem(v, r, why);
		return 0;
	}
	v->agree++;
	why[0] = '\0';
	return 1;
}

int verdict_passed(const struct verdict *v)
{
	return v->agree > 0 && v->disagree == 0 && v->failed_polls == 0;
}

void verdict_summary(const struct verdict *v, char *out, size_t cap)
{
	snprintf(out, cap, "%s: %u of %u reports agree with the truth (%u disagree, %u failed polls%s); "
	         "worst error: cell %.1f mV, pack %.1f mV, current %.1f mA, temperature %.1f dK",
	         verdict_passed(v) ? "AGREE" : "DISAGREE", v->agree, v->lines, v->disagree,
	         v->failed_polls + (v->agree ? 0 : v->startup_failures),
	         v->agree && v->startup_failures ? ", more while connecting" : "",
	         v->worst_cell_mV, v->worst_pack_mV, v->worst_current_mA, v->worst_temp_dK);
}
