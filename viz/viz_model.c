/* bmsviz's model of a running bmssim, fed line by line from the control socket. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/viz/viz_model.h"

const char *const viz_prot_names[VIZ_PROT_BITS] = {
	"cell OV", "cell UV", "pack OV", "pack UV", "chg OT", "chg UT", "dsg OT", "dsg UT",
	"chg OC", "dsg OC", "short", "AFE", "SW lock"
};
const char *const viz_why_names[VIZ_WHY_BITS] = {
	"cell high", "cell low", "temp high", "temp low", "BMS silent", "no data"
};

/*
 * Per chemistry: the cut-offs are the emulated BMS's default OV/UV protections (sim/bms.c
 * registers 0x24/0x26), the warnings where the OCV curve leaves its plateau; the bar range
 * runs a little past both cut-offs so an over-voltage still shows as a taller bar.
 */
static const struct chem_scale {
	double lo_cut, lo_warn, hi_warn, hi_cut, bar_min, bar_max;
} chem_scales[] = {
	[VIZ_CHEM_LFP] = { 2500, 2900, 3450, 3650, 2400, 3800 },
	[VIZ_CHEM_NMC] = { 2800, 3300, 4100, 4250, 2700, 4350 },
};

/* Above this median an unknown pack is NMC: LFP's OCV ends at 3.39 V, NMC's is 3.59 V at 5 %. */
#define CHEM_AUTO_SPLIT_MV 3500.0

static void set_chem(struct viz_model *m, enum viz_chem c)
{
	const struct chem_scale *s = &chem_scales[c == VIZ_CHEM_NMC ? VIZ_CHEM_NMC : VIZ_CHEM_LFP];

	m->chem = c;
	m->chem_lo_cut = s->lo_cut;
	m->chem_lo_warn = s->lo_warn;
	m->chem_hi_warn = s->hi_warn;
	m->chem_hi_cut = s->hi_cut;
	m->bar_min_mv = s->bar_min;
	m->bar_max_mv = s->bar_max;
}

void viz_model_init(struct viz_model *m, enum viz_chem chem, double diff_mv)
{
	memset(m, 0, sizeof *m);
	set_chem(m, chem == VIZ_CHEM_AUTO ? VIZ_CHEM_LFP : chem);
	m->chem = chem;
	m->diff_mv = diff_mv;
	m->next_id = 1;
	m->st.paused = -1;
	m->st.rate = NAN;
	m->st.t_ms = NAN;
}

void viz_clean_text(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	if (!cap)
		return;
	for (; s && *s && n + 1 < cap; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[n] = 0;
	if (s && *s && cap >= 4)
		memcpy(out + cap - 4, "...", 4);
}

void viz_log_add(struct viz_log *l, enum viz_log_kind kind, const char *text)
{
	struct viz_log_line *ln = &l->line[l->head];

	ln->kind = kind;
	viz_clean_text(ln->text, sizeof ln->text, text);
	l->head = (l->head + 1) % VIZ_LOG_LINES;
	if (l->count < VIZ_LOG_LINES)
		l->count++;
}

const struct viz_log_line *viz_log_get(const struct viz_log *l, unsigned k)
{
	if (k >= l->count)
		return NULL;
	return &l->line[(l->head + VIZ_LOG_LINES - 1 - k) % VIZ_LOG_LINES];
}

void viz_model_set_status(struct viz_model *m, int error, const char *fmt, ...)
{
	char buf[VIZ_STATUS_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	viz_clean_text(m->status, sizeof m->status, buf);
	m->status_error = error;
	viz_log_add(&m->actions, error ? VIZ_LOG_ERROR : VIZ_LOG_ACTION, m->status);
}

long viz_model_request(struct viz_model *m, const char *what)
{
	long id = m->next_id++;
	unsigned slot = (unsigned)(id % VIZ_PENDING);

	m->pending[slot].id = id;
	viz_clean_text(m->pending[slot].what, sizeof m->pending[slot].what, what);
	return id;
}

const struct viz_unit *viz_model_unit(const struct viz_model *m)
{
	if (!m->have_state || m->unit_sel < 0 || m->unit_sel >= m->st.n_units)
		return NULL;
	return &m->st.units[m->unit_sel];
}

const struct viz_sample *viz_model_sample(const struct viz_model *m, unsigned k)
{
	if (k >= m->hist_count)
		return NULL;
	return &m->hist[(m->hist_head + VIZ_HISTORY - 1 - k) % VIZ_HISTORY];
}

void viz_model_select_unit(struct viz_model *m, int unit)
{
	if (unit == m->unit_sel)
		return;
	m->unit_sel = unit;
	m->hist_head = m->hist_count = 0;
	m->cell_sel = 0;
}

/* ---- reading untrusted JSON ----------------------------------------------------------- */

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* A flag or bit mask: a non-negative integer below 2^32, else NAN. */
static double mask(const cJSON *o, const char *key)
{
	double v = num(o, key);

	return v >= 0 && v < 4294967296.0 && v == floor(v) ? v : NAN;
}

static int array(const cJSON *o, const char *key, double *out, int cap)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	int n = 0;

	if (!cJSON_IsArray(a))
		return 0;
	cJSON_ArrayForEach(e, a) {
		if (n >= cap)
			break;
		out[n++] = cJSON_IsNumber(e) && isfinite(e->valuedouble) ? e->valuedouble : NAN;
	}
	return n;
}

static void text(const cJSON *o, const char *key, char *out, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	viz_clean_text(out, cap, cJSON_IsString(v) ? v->valuestring : "");
}

/* Which numbers each side carries, and whether as a plain number or as a flag/mask. */
static const struct reading_field {
	const char *key;
	size_t off;
	int is_mask;
	unsigned sides;                      /* bit per enum viz_side */
} reading_fields[] = {
#define RF(k, f, msk, s) { k, offsetof(struct viz_reading, f), msk, s }
	RF("pack_mv", pack_mv, 0, 7), RF("current_ma", current_ma, 0, 7), RF("soc_pct", soc_pct, 0, 7),
	RF("fet_chg", fet_chg, 1, 6), RF("fet_dsg", fet_dsg, 1, 6), RF("prot", prot, 1, 6),
	RF("bal_mask", bal_mask, 1, 6), RF("relay", relay, 1, 4), RF("ok", ok, 1, 4),
	RF("comm_fail", comm_fail, 1, 4), RF("why", why, 1, 4),
#undef RF
};

static void parse_reading(struct viz_reading *r, const cJSON *o, enum viz_side side)
{
	size_t i;

	for (i = 0; i < sizeof reading_fields / sizeof reading_fields[0]; i++)
		*(double *)((char *)r + reading_fields[i].off) = NAN;
	r->n_cells = r->n_temps = 0;
	r->present = cJSON_IsObject(o);
	if (!r->present)
		return;
	for (i = 0; i < sizeof reading_fields / sizeof reading_fields[0]; i++) {
		const struct reading_field *f = &reading_fields[i];
		if (f->sides & (1u << side))
			*(double *)((char *)r + f->off) = f->is_mask ? mask(o, f->key) : num(o, f->key);
	}
	r->n_cells = array(o, "cells_mv", r->cells_mv, VIZ_MAX_CELLS);
	r->n_temps = array(o, "temps_dk", r->temps_dk, VIZ_MAX_TEMPS);
}

/* enum rig_inv_request's bits, as the panel names them (short: the line is shared with four
 * limits and the warnings). */
const char *const viz_request_names[VIZ_REQUEST_BITS] = {
	"chg", "dsg", "force I", "force II", "full"
};

static void parse_limits(struct viz_limits *l, const cJSON *o)
{
	l->present = cJSON_IsObject(o);
	l->cvl_mv = num(o, "cvl_mv");
	l->ccl_ma = num(o, "ccl_ma");
	l->dcl_ma = num(o, "dcl_ma");
	l->dvl_mv = num(o, "dvl_mv");
	l->request = mask(o, "request");
	l->warn = mask(o, "warn");
}

static void parse_unit(struct viz_unit *u, const cJSON *o, int index)
{
	const cJSON *truth = cJSON_GetObjectItemCaseSensitive(o, "truth");
	const cJSON *faults = cJSON_GetObjectItemCaseSensitive(o, "faults");
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(o, "link");
	const cJSON *lines, *e;
	double n = num(o, "unit");

	u->unit = n >= 0 && n < 65536 ? (int)n : index;
	text(o, "proto", u->proto, sizeof u->proto);
	text(o, "port", u->port, sizeof u->port);
	parse_reading(&u->r[VIZ_TRUTH], truth, VIZ_TRUTH);
	parse_reading(&u->r[VIZ_BMS], cJSON_GetObjectItemCaseSensitive(o, "bms"), VIZ_BMS);
	parse_reading(&u->r[VIZ_DUT], cJSON_GetObjectItemCaseSensitive(o, "dut"), VIZ_DUT);
	u->requested_ma = num(truth, "requested_ma");
	u->ambient_dk = num(truth, "ambient_dk");
	parse_limits(&u->limits, cJSON_GetObjectItemCaseSensitive(o, "limits"));
	u->n_cell_soc = array(truth, "cell_soc_pct", u->cell_soc_pct, VIZ_MAX_CELLS);
	u->open_wire_mask = mask(faults, "open_wire_mask");
	u->force_mask = mask(faults, "force_mask");
	u->ntc_open_mask = mask(faults, "ntc_open_mask");
	u->ntc_short_mask = mask(faults, "ntc_short_mask");
	u->n_line_faults = 0;
	lines = cJSON_GetObjectItemCaseSensitive(faults, "line");
	if (cJSON_IsArray(lines)) {
		cJSON_ArrayForEach(e, lines) {
			if (u->n_line_faults >= VIZ_MAX_LINEFAULT)
				break;
			viz_clean_text(u->line_faults[u->n_line_faults++], sizeof u->line_faults[0],
			               cJSON_IsString(e) ? e->valuestring : "?");
		}
	}
	text(link, "kind", u->link_kind, sizeof u->link_kind);
	text(link, "state", u->link_state, sizeof u->link_state);
}

static enum viz_expect_state expect_state(const char *s)
{
	if (s && !strcmp(s, "passed"))
		return VIZ_EXPECT_PASSED;
	if (s && !strcmp(s, "failed"))
		return VIZ_EXPECT_FAILED;
	return VIZ_EXPECT_PENDING;
}

static void parse_scenario(struct viz_scenario *sc, const cJSON *o)
{
	const cJSON *a, *e;

	text(o, "name", sc->name, sizeof sc->name);
	sc->duration_ms = num(o, "duration_ms");
	sc->n_events = sc->n_expect = 0;
	a = cJSON_GetObjectItemCaseSensitive(o, "events");
	if (cJSON_IsArray(a)) {
		cJSON_ArrayForEach(e, a) {
			if (sc->n_events >= VIZ_MAX_EVENTS)
				break;
			if (!cJSON_IsObject(e))
				continue;
			sc->events[sc->n_events].at_ms = num(e, "at_ms");
			text(e, "do", sc->events[sc->n_events].what, sizeof sc->events[0].what);
			text(e, "id", sc->events[sc->n_events].id, sizeof sc->events[0].id);
			sc->events[sc->n_events].fired = 0;
			sc->n_events++;
		}
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "expect");
	if (cJSON_IsArray(a)) {
		cJSON_ArrayForEach(e, a) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "state");
			if (sc->n_expect >= VIZ_MAX_EXPECT)
				break;
			if (!cJSON_IsObject(e))
				continue;
			text(e, "name", sc->expect[sc->n_expect].name, sizeof sc->expect[0].name);
			sc->expect[sc->n_expect].state = expect_state(cJSON_IsString(s) ? s->valuestring : NULL);
			sc->n_expect++;
		}
	}
}

static double median_mv(const struct viz_reading *r)
{
	double v[VIZ_MAX_CELLS];
	int n = 0, i, j;

	for (i = 0; i < r->n_cells; i++) {
		if (isnan(r->cells_mv[i]))
			continue;
		for (j = n; j > 0 && v[j - 1] > r->cells_mv[i]; j--)
			v[j] = v[j - 1];
		v[j] = r->cells_mv[i];
		n++;
	}
	return n ? v[n / 2] : NAN;
}

void viz_min_max(const struct viz_reading *r, int *imin, int *imax)
{
	int i;

	*imin = *imax = -1;
	for (i = 0; i < r->n_cells; i++) {
		if (isnan(r->cells_mv[i]))
			continue;
		if (*imin < 0 || r->cells_mv[i] < r->cells_mv[*imin])
			*imin = i;
		if (*imax < 0 || r->cells_mv[i] > r->cells_mv[*imax])
			*imax = i;
	}
}

static void record_sample(struct viz_model *m)
{
	const struct viz_unit *u = viz_model_unit(m);
	const struct viz_sample *last = viz_model_sample(m, 0);
	struct viz_sample *s;
	int lo, hi;

	if (!u || isnan(m->st.t_ms))
		return;
	/* A clock that goes back is another run (or a restarted bmssim): its history is not ours. */
	if (last && m->st.t_ms < last->t_ms)
		m->hist_head = m->hist_count = 0;
	if (last && m->st.t_ms == last->t_ms && m->hist_count)
		m->hist_head = (m->hist_head + VIZ_HISTORY - 1) % VIZ_HISTORY, m->hist_count--;
	s = &m->hist[m->hist_head];
	s->t_ms = m->st.t_ms;
	s->pack_mv = u->r[VIZ_TRUTH].pack_mv;
	s->current_ma = u->r[VIZ_TRUTH].current_ma;
	s->dut_pack_mv = u->r[VIZ_DUT].pack_mv;
	viz_min_max(&u->r[VIZ_TRUTH], &lo, &hi);
	s->spread_mv = lo >= 0 ? u->r[VIZ_TRUTH].cells_mv[hi] - u->r[VIZ_TRUTH].cells_mv[lo] : NAN;
	m->hist_head = (m->hist_head + 1) % VIZ_HISTORY;
	if (m->hist_count < VIZ_HISTORY)
		m->hist_count++;
}

static int parse_state(struct viz_model *m, const cJSON *o)
{
	struct viz_state *st = &m->st;
	const cJSON *units = cJSON_GetObjectItemCaseSensitive(o, "units"), *e;
	const cJSON *scen = cJSON_GetObjectItemCaseSensitive(o, "scenario");
	const cJSON *paused = cJSON_GetObjectItemCaseSensitive(o, "paused");

	if (!cJSON_IsObject(o))
		return -1;
	st->t_ms = num(o, "t_ms");
	st->rate = num(o, "rate");
	st->paused = cJSON_IsBool(paused) ? cJSON_IsTrue(paused) : -1;
	st->n_units = 0;
	if (cJSON_IsArray(units)) {
		cJSON_ArrayForEach(e, units) {
			if (st->n_units >= VIZ_MAX_UNITS)
				break;
			if (!cJSON_IsObject(e))
				continue;
			parse_unit(&st->units[st->n_units], e, st->n_units);
			st->n_units++;
		}
	}
	st->has_scenario = cJSON_IsObject(scen);
	if (st->has_scenario) {
		parse_scenario(&st->scen, scen);
	}
	m->have_state = 1;
	m->states++;
	if (m->unit_sel >= st->n_units)
		viz_model_select_unit(m, 0);
	if (m->chem == VIZ_CHEM_AUTO && st->n_units) {
		double med = median_mv(&st->units[m->unit_sel].r[VIZ_TRUTH]);
		if (!isnan(med))
			set_chem(m, med > CHEM_AUTO_SPLIT_MV ? VIZ_CHEM_NMC : VIZ_CHEM_LFP);
	}
	if (viz_model_unit(m) && m->cell_sel >= viz_model_unit(m)->r[VIZ_TRUTH].n_cells)
		m->cell_sel = 0;
	record_sample(m);
	return 0;
}

/* The decoded frame, shortened for one log line: its "proto" is already in the prefix. */
static void frame_line(struct viz_model *m, const cJSON *o)
{
	const cJSON *dec = cJSON_GetObjectItemCaseSensitive(o, "decoded");
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "dir");
	int tx = cJSON_IsString(dir) && !strcmp(dir->valuestring, "tx");
	char proto[12], body[VIZ_LOG_TEXT], line[VIZ_LOG_TEXT + 48];
	double t = num(o, "t_ms"), unit = num(o, "unit");
	char *s = NULL;

	text(o, "proto", proto, sizeof proto);
	if (cJSON_IsObject(dec)) {
		cJSON *copy = cJSON_Duplicate(dec, 1);
		if (copy) {
			cJSON_DeleteItemFromObjectCaseSensitive(copy, "proto");
			s = cJSON_PrintUnformatted(copy);
			cJSON_Delete(copy);
		}
	}
	if (!s) {
		const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "hex");
		viz_clean_text(body, sizeof body, cJSON_IsString(hex) ? hex->valuestring : "?");
	} else {
		viz_clean_text(body, sizeof body, s);
		free(s);
	}
	snprintf(line, sizeof line, "%9.3f #%d %s %s %s", isnan(t) ? 0.0 : t / 1000.0,
	         unit >= 0 && unit < 65536 ? (int)unit : -1, tx ? "tx" : "rx", proto, body);
	viz_log_add(&m->frames, tx ? VIZ_LOG_TX : VIZ_LOG_RX, line);
	m->frame_events++;
}

static void timeline_line(struct viz_model *m, const cJSON *o)
{
	char what[24], id[32], line[VIZ_LOG_TEXT + 128];
	double t = num(o, "t_ms"), idx = num(o, "index");

	text(o, "do", what, sizeof what);
	text(o, "id", id, sizeof id);
	snprintf(line, sizeof line, "%9.3f timeline #%d %s %s", isnan(t) ? 0.0 : t / 1000.0,
	         idx >= 0 && idx < 1e6 ? (int)idx : -1, what, id);
	viz_log_add(&m->frames, VIZ_LOG_TIMELINE, line);
	if (m->st.has_scenario && idx >= 0 && idx < m->st.scen.n_events)
		m->st.scen.events[(int)idx].fired = 1;
}

static void expect_line(struct viz_model *m, const cJSON *o)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "state");
	enum viz_expect_state es = expect_state(cJSON_IsString(s) ? s->valuestring : NULL);
	char name[80], msg[120], line[VIZ_LOG_TEXT + 256];
	double t = num(o, "t_ms"), idx = num(o, "index");

	text(o, "name", name, sizeof name);
	text(o, "message", msg, sizeof msg);
	/* A long message is cut to the log's line: the full text is in the run's report. */
	if (snprintf(line, sizeof line, "%9.3f expect %s: %s %s", isnan(t) ? 0.0 : t / 1000.0, name,
	             es == VIZ_EXPECT_PASSED ? "passed" : es == VIZ_EXPECT_FAILED ? "FAILED" : "pending",
	             msg) >= (int)sizeof line)
		line[sizeof line - 1] = 0;
	viz_log_add(&m->frames, es == VIZ_EXPECT_FAILED ? VIZ_LOG_EXPECT_FAIL : VIZ_LOG_EXPECT_OK, line);
	if (m->st.has_scenario && idx >= 0 && idx < m->st.scen.n_expect)
		m->st.scen.expect[(int)idx].state = es;
}

static void reply_line(struct viz_model *m, const cJSON *o)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(o, "state");
	const char *what = "request";
	char e[160];

	if (cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble < (double)m->next_id) {
		long n = (long)id->valuedouble;
		if (m->pending[n % VIZ_PENDING].id == n)
			what = m->pending[n % VIZ_PENDING].what;
		if (n > m->last_reply_id)
			m->last_reply_id = n;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok"))) {
		viz_clean_text(e, sizeof e, cJSON_IsString(err) ? err->valuestring : "(no error text)");
		viz_model_set_status(m, 1, "%s: refused: %s", what, e);
		return;
	}
	if (cJSON_IsObject(state)) {
		parse_state(m, state);
		return;                        /* our own refreshes: no status line for them */
	}
	if (!strcmp(what, "hello")) {
		double p = num(o, "protocol");
		m->protocol = p >= 0 && p < 1000 ? (int)p : 0;
		text(o, "mode", m->mode, sizeof m->mode);
		return;
	}
	if (!strcmp(what, "subscribe") || !strcmp(what, "get"))
		return;
	viz_model_set_status(m, 0, "%s: ok", what);
}

enum viz_line_kind viz_model_line(struct viz_model *m, const char *line, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *ev;
	enum viz_line_kind k = VIZ_LINE_OTHER;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		m->bad_lines++;
		return VIZ_LINE_BAD;
	}
	ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	if (cJSON_IsString(ev)) {
		if (!strcmp(ev->valuestring, "state")) {
			k = parse_state(m, cJSON_GetObjectItemCaseSensitive(o, "state")) ? VIZ_LINE_BAD
			                                                                  : VIZ_LINE_STATE;
		} else if (!strcmp(ev->valuestring, "frame")) {
			frame_line(m, o);
			k = VIZ_LINE_FRAME;
		} else if (!strcmp(ev->valuestring, "timeline")) {
			timeline_line(m, o);
			k = VIZ_LINE_TIMELINE;
		} else if (!strcmp(ev->valuestring, "expect")) {
			expect_line(m, o);
			k = VIZ_LINE_EXPECT;
		}
	} else if (cJSON_GetObjectItemCaseSensitive(o, "ok")) {
		reply_line(m, o);
		k = VIZ_LINE_REPLY;
	}
	if (k == VIZ_LINE_BAD)
		m->bad_lines++;
	cJSON_Delete(o);
	return k;
}

/* ---- the colour scale ------------------------------------------------------------------ */

enum { LO_CUT, LO_WARN, HI_WARN, HI_CUT };

/*
 * Colour stops, each a fraction of the way from one of the chemistry's levels to another,
 * interpolated between: red, orange, green on the low side; green, yellow, orange on the high
 * side. At and past either cut-off the colour is a flat red, so a cell beyond the BMS's limit
 * is never mistaken for one nearing it.
 */
static const struct stop {
	int from, to;
	double f;
	uint8_t rgb[3];
} stops[] = {
	{ LO_CUT, LO_CUT, 0, { 215, 40, 40 } },
	{ LO_CUT, LO_WARN, 0.5, { 245, 150, 30 } },
	{ LO_WARN, LO_WARN, 0, { 50, 185, 80 } },
	{ HI_WARN, HI_WARN, 0, { 50, 185, 80 } },
	{ HI_WARN, HI_CUT, 0.5, { 235, 205, 40 } },
	{ HI_CUT, HI_CUT, 0, { 255, 120, 0 } },
};
static const uint8_t col_cut[3] = { 230, 30, 30 }, col_none[3] = { 120, 120, 120 };
#define N_STOPS (sizeof stops / sizeof stops[0])

static void lerp(const uint8_t a[3], const uint8_t b[3], double f, uint8_t out[3])
{
	int i;

	f = f < 0 ? 0 : f > 1 ? 1 : f;
	for (i = 0; i < 3; i++)
		out[i] = (uint8_t)lrint(a[i] + (b[i] - a[i]) * f);
}

void viz_cell_colour(const struct viz_model *m, double mv, uint8_t rgb[3])
{
	const double lv[4] = { m->chem_lo_cut, m->chem_lo_warn, m->chem_hi_warn, m->chem_hi_cut };
	double x0 = lv[LO_CUT];
	size_t k;

	if (isnan(mv)) {
		memcpy(rgb, col_none, 3);
		return;
	}
	if (mv <= lv[LO_CUT] || mv >= lv[HI_CUT]) {
		memcpy(rgb, col_cut, 3);
		return;
	}
	for (k = 1; k < N_STOPS; k++) {
		const struct stop *s = &stops[k];
		double x1 = lv[s->from] + (lv[s->to] - lv[s->from]) * s->f;
		if (mv <= x1) {
			lerp(stops[k - 1].rgb, s->rgb, x1 > x0 ? (mv - x0) / (x1 - x0) : 1, rgb);
			return;
		}
		x0 = x1;
	}
	memcpy(rgb, stops[N_STOPS - 1].rgb, 3);
}

double viz_cell_frac(const struct viz_model *m, double mv)
{
	double f;

	if (isnan(mv))
		return 0;
	f = (mv - m->bar_min_mv) / (m->bar_max_mv - m->bar_min_mv);
	return f < 0 ? 0 : f > 1 ? 1 : f;
}
