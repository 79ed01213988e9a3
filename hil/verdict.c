/* The verdict: does each report match something the emulator really said? A report combines
 * two replies (0x03 pack, 0x04 cells, or their equivalents), each taken at its own moment, so
 * each part is matched against the recent truth samples of that part. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/hil.h"

void verdict_init(struct verdict *v, const struct verdict_tol *tol)
{
	memset(v, 0, sizeof *v);
	v->tol = *tol;
}

void verdict_add_truth(struct verdict *v, const struct truth_sample *s)
{
	if (s->part == TRUTH_PACK)
		v->pack[v->n_pack++ % VERDICT_HISTORY] = *s;
	else
		v->cells[v->n_cells++ % VERDICT_HISTORY] = *s;
}

/* Largest |dut - truth| over the part's fields, each divided by its tolerance (<= 1 agrees). */
static double pack_error(const struct verdict *v, const struct truth_sample *t, const struct pack_state *p)
{
	double e = fabs(p->pack_mV - t->pack_mV) / v->tol.pack_mV;
	double c = fabs(p->current_mA - t->current_mA) / v->tol.current_mA;
	unsigned i;

	if (p->temp_count != t->temp_count)
		return INFINITY;
	e = c > e ? c : e;
	for (i = 0; i < t->temp_count; i++) {
		double d = fabs(p->temp_dK[i] - t->temp_dK[i]) / v->tol.temp_dK;
		e = d > e ? d : e;
	}
	return e;
}

static double cells_error(const struct verdict *v, const struct truth_sample *t, const struct pack_state *p)
{
	double e = 0;
	unsigned i;

	if (p->cell_count != t->cell_count)
		return INFINITY;
	for (i = 0; i < t->cell_count; i++) {
		double d = fabs(p->cell_mV[i] - t->cell_mV[i]) / v->tol.cell_mV;
		e = d > e ? d : e;
	}
	return e;
}

static const struct truth_sample *best(const struct verdict *v, const struct truth_sample *ring,
                                       unsigned n, const struct pack_state *p, double *err,
                                       double (*error)(const struct verdict *, const struct truth_sample *,
                                                       const struct pack_state *))
{
	const struct truth_sample *b = NULL;
	unsigned i, have = n < VERDICT_HISTORY ? n : VERDICT_HISTORY;

	*err = INFINITY;
	for (i = 0; i < have; i++) {
		double e = error(v, &ring[i], p);

		if (e < *err) {
			*err = e;
			b = &ring[i];
		}
	}
	return b;
}

static void track_worst(struct verdict *v, const struct truth_sample *tp, const struct truth_sample *tc,
                        const struct pack_state *p)
{
	unsigned i;

	if (fabs(p->pack_mV - tp->pack_mV) > v->worst_pack_mV)
		v->worst_pack_mV = fabs(p->pack_mV - tp->pack_mV);
	if (fabs(p->current_mA - tp->current_mA) > v->worst_current_mA)
		v->worst_current_mA = fabs(p->current_mA - tp->current_mA);
	for (i = 0; i < tp->temp_count; i++)
		if (fabs(p->temp_dK[i] - tp->temp_dK[i]) > v->worst_temp_dK)
			v->worst_temp_dK = fabs(p->temp_dK[i] - tp->temp_dK[i]);
	for (i = 0; i < tc->cell_count; i++)
		if (fabs(p->cell_mV[i] - tc->cell_mV[i]) > v->worst_cell_mV)
			v->worst_cell_mV = fabs(p->cell_mV[i] - tc->cell_mV[i]);
}

int verdict_check(struct verdict *v, const struct dut_report *r, char *why, size_t whycap)
{
	const struct truth_sample *tp, *tc;
	double ep, ec;

	v->lines++;
	if (!r->ok) {
		v->failed_polls++;
		snprintf(why, whycap, "the DUT reports a failed poll (comm_fail %u)", r->comm_fail);
		if (!v->first_problem[0])
			snprintf(v->first_problem, sizeof v->first_problem, "at DUT %u ms: %s", r->ms, why);
		return -1;
	}
	tp = best(v, v->pack, v->n_pack, &r->pack, &ep, pack_error);
	tc = best(v, v->cells, v->n_cells, &r->pack, &ec, cells_error);
	if (tp && tc && ep <= 1.0 && ec <= 1.0) {
		v->agree++;
		track_worst(v, tp, tc, &r->pack);
		why[0] = '\0';
		return 1;
	}
	v->disagree++;
	if (!tp || !tc)
		snprintf(why, whycap, "no truth sample to compare with (%u cells, %u temps reported)",
		         r->pack.cell_count, r->pack.temp_count);
	else if (ep > 1.0)
		snprintf(why, whycap, "pack %u mV / %d mA vs truth %.1f mV / %.1f mA (%.1f units off)",
		         r->pack.pack_mV, r->pack.current_mA, tp->pack_mV, tp->current_mA, ep);
	else
		snprintf(why, whycap, "cells differ from every recent truth sample by up to %.1f units", ec);
	if (!v->first_problem[0])
		snprintf(v->first_problem, sizeof v->first_problem, "at DUT %u ms: %s", r->ms, why);
	return 0;
}

int verdict_passed(const struct verdict *v)
{
	return v->agree > 0 && v->disagree == 0 && v->failed_polls == 0;
}

void verdict_summary(const struct verdict *v, char *out, size_t cap)
{
	snprintf(out, cap, "%s: %u of %u reports agree with the truth (%u disagree, %u failed polls); "
	         "worst error: cell %.1f mV, pack %.1f mV, current %.1f mA, temperature %.1f dK",
	         verdict_passed(v) ? "AGREE" : "DISAGREE", v->agree, v->lines, v->disagree,
	         v->failed_polls, v->worst_cell_mV, v->worst_pack_mV, v->worst_current_mA, v->worst_temp_dK);
}
