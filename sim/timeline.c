/* The scenario engine (timeline.h): one start and one end action per event kind, in a table.
 * An action names its event by index: the scenario's events first, then the injected ones from
 * TIMELINE_INJECTED on, so both kinds share every action and the load and short slots. */
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/timeline.h"

static double ramp_at(const struct timeline_ramp *r, uint32_t now_ms)
{
	if (now_ms >= r->t1_ms || r->t1_ms == r->t0_ms)
		return now_ms >= r->t0_ms ? r->to : r->from;
	if (now_ms <= r->t0_ms)
		return r->from;
	return r->from + (r->to - r->from) * (double)(now_ms - r->t0_ms) / (double)(r->t1_ms - r->t0_ms);
}

/* Linear between the points, held before the first and after the last. The points' times never
 * go back (the parser's rule; a step is two points at one time): the segment is the first point
 * after t_ms, found by halving, as a profile is read at every 100 ms step of its run. */
static double profile_at(const struct scenario *sc, const struct scen_event *e, uint32_t t_ms)
{
	const struct scen_point *p = sc->point + e->first;
	unsigned lo = 1, hi = e->count, mid, i;

	if (!e->count)
		return 0.0;
	if (t_ms <= p[0].t_ms)
		return p[0].value;
	while (lo < hi) {                  /* the first i >= 1 with t_ms < p[i].t_ms, or count */
		mid = lo + (hi - lo) / 2u;
		if (t_ms < p[mid].t_ms)
			hi = mid;
		else
			lo = mid + 1u;
	}
	i = lo;
	if (i < e->count) {
		double span = (double)(p[i].t_ms - p[i - 1].t_ms);

		return p[i - 1].value + (p[i].value - p[i - 1].value) * (double)(t_ms - p[i - 1].t_ms) / span;
	}
	return p[e->count - 1].value;
}

static const struct scen_event *ev(const struct timeline *tl, int i)
{
	return i >= (int)TIMELINE_INJECTED ? &tl->inject[i - (int)TIMELINE_INJECTED] : &tl->sc->event[i];
}

static struct model *model_of(struct timeline *tl) { return sim_model_rw(tl->sim, tl->unit); }
static struct bms *bms_of(struct timeline *tl) { return sim_bms_rw(tl->sim, tl->unit); }
static uint32_t bit(int i) { return 1u << (unsigned)i; }
/* The emulator and its unit event i acts on: its own unit of the `bms` array (`"bms": N`) on
 * that unit's line, else the timeline's. */
static struct sim *sim_at(struct timeline *tl, int i)
{
	unsigned u = ev(tl, i)->unit;
	struct sim *s = u ? tl->line_sim[tl->sc->unit_line[u]] : NULL;

	return s ? s : tl->sim;
}
static unsigned unit_of(struct timeline *tl, int i)
{
	unsigned u = ev(tl, i)->unit;

	return u ? tl->sc->unit_index[u] : tl->unit;
}
static struct model *model_at(struct timeline *tl, int i) { return sim_model_rw(sim_at(tl, i), unit_of(tl, i)); }
static struct bms *bms_at(struct timeline *tl, int i) { return sim_bms_rw(sim_at(tl, i), unit_of(tl, i)); }

/* A ramp from where the value is now (only when it is in the same unit) to the event's. */
static void start_ramp(struct timeline_ramp *r, double now_value, const struct scen_event *e, uint32_t now_ms)
{
	*r = (struct timeline_ramp){ e->ramp_ms ? now_value : e->value, e->value, now_ms, now_ms + e->ramp_ms };
}

/* A ramp starts from whatever the load is now, in the new event's unit, whichever kind of
 * event set it (a profile, a current, a power). */
static void start_load(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);
	double pack_V = model_pack_V(model_of(tl));
	double now_A = timeline_load_A(tl, now_ms, pack_V);

	start_ramp(&tl->load, e->kind == SCEN_EV_POWER ? now_A * pack_V : now_A, e, now_ms);
	tl->load_event = i;
}

static void end_load(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	if (tl->load_event == i)
		tl->load_event = -1;
}

static void start_ambient(struct timeline *tl, int i, uint32_t now_ms)
{
	start_ramp(&tl->ambient, model_of(tl)->ambient_C, ev(tl, i), now_ms);
}

static void start_drift(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);

	(void)now_ms;
	model_cell_drift(model_at(tl, i), (unsigned)e->cell, 1.0 + e->capacity_pct / 100.0,
	                 1.0 + e->resistance_pct / 100.0, e->leak_mA / 1000.0);
}

static void start_cell_soc(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);

	(void)now_ms;
	model_set_cell_soc_frac(model_at(tl, i), (unsigned)e->cell, e->value / 100.0);
}

static void start_force(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);
	struct bms_sense_faults *f = &bms_at(tl, i)->faults;

	(void)now_ms;
	f->force_mask |= bit(e->cell);
	f->force_mV[e->cell] = (uint16_t)e->value;
}

static void end_force(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	bms_at(tl, i)->faults.force_mask &= ~bit(ev(tl, i)->cell);
}

static void start_open_wire(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	bms_at(tl, i)->faults.open_wire_mask |= bit(ev(tl, i)->cell);
}

static void end_open_wire(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	bms_at(tl, i)->faults.open_wire_mask &= ~bit(ev(tl, i)->cell);
}

static uint8_t *ntc_mask(struct timeline *tl, int i)
{
	struct bms_sense_faults *f = &bms_at(tl, i)->faults;

	return ev(tl, i)->kind == SCEN_EV_NTC_OPEN ? &f->ntc_open_mask : &f->ntc_short_mask;
}

static void start_ntc(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	*ntc_mask(tl, i) |= (uint8_t)bit(ev(tl, i)->ntc);
}

static void end_ntc(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	*ntc_mask(tl, i) &= (uint8_t)~bit(ev(tl, i)->ntc);
}

static void start_short(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	tl->short_event = i;
}

static void end_short(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	if (tl->short_event == i)
		tl->short_event = -1;
}

static void start_reboot(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	bms_restart(bms_at(tl, i), model_at(tl, i));
}

static void start_settings_reset(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	bms_factory_reset(bms_at(tl, i), model_at(tl, i));
}

static void start_fets(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);

	(void)now_ms;
	(void)bms_set_inhibit(bms_at(tl, i), (uint8_t)((e->chg ? 0u : BMS_INHIBIT_CHG) |
	                                                (e->dsg ? 0u : BMS_INHIBIT_DSG)));
}

static void end_fets(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	(void)bms_set_inhibit(bms_at(tl, i), 0);
}

static void start_quirk(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);
	char why[160];

	(void)now_ms;
	if (sim_set_quirk(sim_at(tl, i), unit_of(tl, i), e->text[0], e->text[1], why, sizeof why) != RIG_OK) {
		tl->errors++;
		if (e->line)
			snprintf(tl->last_error, sizeof tl->last_error, "line %u: quirk %s", e->line, why);
		else
			snprintf(tl->last_error, sizeof tl->last_error, "quirk %s", why);
	}
}

static void start_wire_fault(struct timeline *tl, int i, uint32_t now_ms)
{
	const struct scen_event *e = ev(tl, i);

	(void)now_ms;
	wire_faults_set(e->inverter_line ? &tl->inverter_faults : sim_wire_faults(sim_at(tl, i)), e->fault, e->rate,
	                e->param);
}

static void end_wire_fault(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	wire_faults_clear(ev(tl, i)->inverter_line ? &tl->inverter_faults : sim_wire_faults(sim_at(tl, i)),
	                  ev(tl, i)->fault);
}

static void start_ble_drop(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)now_ms;
	sim_ble_drop(sim_at(tl, i), ev(tl, i)->reconnect_ms);
}

static void start_clear(struct timeline *tl, int i, uint32_t now_ms)
{
	unsigned k, l;

	(void)i;
	(void)now_ms;
	memset(&bms_of(tl)->faults, 0, sizeof bms_of(tl)->faults);
	/* Every line's faults: line 0's emulator is tl->sim. */
	for (k = 0; k < WF_COUNT; k++) {
		wire_faults_clear(sim_wire_faults(tl->sim), (enum wire_fault_kind)k);
		for (l = 1; l < SCEN_LINES_MAX; l++)
			if (tl->line_sim[l])
				wire_faults_clear(sim_wire_faults(tl->line_sim[l]), (enum wire_fault_kind)k);
		wire_faults_clear(&tl->inverter_faults, (enum wire_fault_kind)k);
	}
	tl->short_event = -1;
}

static void nothing(struct timeline *tl, int i, uint32_t now_ms)
{
	(void)tl;
	(void)i;
	(void)now_ms;
}

typedef void (*action)(struct timeline *tl, int i, uint32_t now_ms);
static const struct {
	action start, end;                 /* end: what `for` running out undoes */
} actions[SCEN_EV_COUNT] = {
	[SCEN_EV_CURRENT]        = { start_load, end_load },
	[SCEN_EV_POWER]          = { start_load, end_load },
	[SCEN_EV_PROFILE]        = { start_load, end_load },
	[SCEN_EV_AMBIENT]        = { start_ambient, nothing },
	[SCEN_EV_DRIFT]          = { start_drift, nothing },
	[SCEN_EV_CELL_SOC]       = { start_cell_soc, nothing },
	[SCEN_EV_FORCE_CELL]     = { start_force, end_force },
	[SCEN_EV_OPEN_WIRE]      = { start_open_wire, end_open_wire },
	[SCEN_EV_NTC_OPEN]       = { start_ntc, end_ntc },
	[SCEN_EV_NTC_SHORT]      = { start_ntc, end_ntc },
	[SCEN_EV_SHORT_CIRCUIT]  = { start_short, end_short },
	[SCEN_EV_BMS_REBOOT]     = { start_reboot, nothing },
	[SCEN_EV_SETTINGS_RESET] = { start_settings_reset, nothing },
	[SCEN_EV_FETS]           = { start_fets, end_fets },
	[SCEN_EV_QUIRK]          = { start_quirk, nothing },
	[SCEN_EV_WIRE_FAULT]     = { start_wire_fault, end_wire_fault },
	[SCEN_EV_BLE_DISCONNECT] = { start_ble_drop, nothing },
	[SCEN_EV_CLEAR_FAULTS]   = { start_clear, nothing },
	[SCEN_EV_MARK]           = { nothing, nothing },
};

void timeline_init(struct timeline *tl, const struct scenario *sc, struct sim *sim)
{
	double ambient;

	memset(tl, 0, sizeof *tl);
	tl->sc = sc;
	tl->sim = sim;
	tl->line_sim[0] = sim;
	tl->load_event = -1;
	tl->short_event = -1;
	wire_faults_init(&tl->inverter_faults, sc ? sc->seed ^ 0x1A7E5u : 1u);
	ambient = model_of(tl)->ambient_C;
	tl->ambient = (struct timeline_ramp){ ambient, ambient, 0, 0 };
}

/* An event's end set, and the scan of the ends due by then. */
static void end_at(struct timeline *tl, uint32_t *end, uint32_t at_ms)
{
	*end = at_ms;
	if (at_ms < tl->end_due_ms)
		tl->end_due_ms = at_ms;
}

unsigned timeline_step(struct timeline *tl, uint32_t now_ms, unsigned *fired, unsigned max)
{
	const struct scenario *sc = tl->sc;
	unsigned i, n = 0;

	/* Ends first: a fault that ends as another starts at the same moment leaves the new one.
	 * Scanned only once one is due: this runs at every 100 ms tick of a day-long run. */
	if (now_ms >= tl->end_due_ms) {
		uint32_t due = UINT32_MAX;

		for (i = 0; i < tl->next; i++)
			if (tl->ends_ms[i] && now_ms >= tl->ends_ms[i]) {
				tl->ends_ms[i] = 0;
				actions[sc->event[i].kind].end(tl, (int)i, now_ms);
			}
		for (i = 0; i < TIMELINE_INJECT_MAX; i++)
			if (tl->inject_ends_ms[i] && now_ms >= tl->inject_ends_ms[i]) {
				tl->inject_ends_ms[i] = 0;
				actions[tl->inject[i].kind].end(tl, (int)(TIMELINE_INJECTED + i), now_ms);
			}
		for (i = 0; i < tl->next; i++)
			due = tl->ends_ms[i] && tl->ends_ms[i] < due ? tl->ends_ms[i] : due;
		for (i = 0; i < TIMELINE_INJECT_MAX; i++)
			due = tl->inject_ends_ms[i] && tl->inject_ends_ms[i] < due ? tl->inject_ends_ms[i] : due;
		tl->end_due_ms = due;
	}
	for (; tl->next < sc->n_events && sc->event[tl->next].at_ms <= now_ms; tl->next++) {
		const struct scen_event *e = &sc->event[tl->next];

		actions[e->kind].start(tl, (int)tl->next, now_ms);
		if (e->for_ms)
			end_at(tl, &tl->ends_ms[tl->next], e->at_ms + e->for_ms);
		if (n < max)
			fired[n++] = tl->next;
	}
	/* Written only when it moves: a write ends the unit's quiet stretch (sim.c catch_up). */
	double ambient_C = ramp_at(&tl->ambient, now_ms);
	if (ambient_C != sim_model(tl->sim, tl->unit)->ambient_C)
		model_of(tl)->ambient_C = ambient_C;
	return n;
}

/* A slot is taken while its event can still be ended or is the load or the short. */
static int slot_free(const struct timeline *tl, unsigned k)
{
	int i = (int)(TIMELINE_INJECTED + k);

	return !tl->inject_ends_ms[k] && tl->load_event != i && tl->short_event != i;
}

rig_rc timeline_inject(struct timeline *tl, const struct scen_event *e, uint32_t now_ms, char *err, size_t errcap)
{
	char before[sizeof tl->last_error];
	unsigned k, errors = tl->errors;

	for (k = 0; k < TIMELINE_INJECT_MAX && !slot_free(tl, k); k++)
		;
	if (k == TIMELINE_INJECT_MAX) {
		snprintf(err, errcap, "expected at most %u injected events in effect at once", TIMELINE_INJECT_MAX);
		return RIG_ERR_SPACE;
	}
	memcpy(before, tl->last_error, sizeof before);
	tl->inject[k] = *e;
	tl->inject[k].at_ms = now_ms;
	tl->inject[k].line = 0;
	actions[e->kind].start(tl, (int)(TIMELINE_INJECTED + k), now_ms);
	tl->inject_ends_ms[k] = 0;
	if (e->for_ms)
		end_at(tl, &tl->inject_ends_ms[k], now_ms + e->for_ms);
	/* A refusal is the injector's to hear, not a fault of the scenario's timeline. */
	if (tl->errors != errors) {
		snprintf(err, errcap, "%s", tl->last_error);
		tl->errors = errors;
		memcpy(tl->last_error, before, sizeof before);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

int timeline_has_load(const struct timeline *tl)
{
	return tl->load_event >= 0;
}

/* Moves after now_ms: before its end (a ramp), before its last point (a profile, held after). */
static int load_moves(const struct timeline *tl, uint32_t now_ms)
{
	const struct scen_event *e;

	if (tl->load_event < 0)
		return 0;
	e = ev(tl, tl->load_event);
	switch (e->kind) {
	case SCEN_EV_POWER:
		return 1;
	case SCEN_EV_PROFILE:
		return e->count && now_ms - e->at_ms < tl->sc->point[e->first + e->count - 1].t_ms;
	default:
		return now_ms < tl->load.t1_ms;
	}
}

uint32_t timeline_next_ms(const struct timeline *tl, uint32_t now_ms)
{
	uint32_t next = tl->end_due_ms;

	if (load_moves(tl, now_ms) || now_ms < tl->ambient.t1_ms)
		return now_ms;
	if (tl->next < tl->sc->n_events && tl->sc->event[tl->next].at_ms < next)
		next = tl->sc->event[tl->next].at_ms;
	return next;
}

void timeline_set_line(struct timeline *tl, unsigned line, struct sim *sim)
{
	if (line < SCEN_LINES_MAX)
		tl->line_sim[line] = sim;
}

void timeline_set_unit(struct timeline *tl, unsigned unit)
{
	tl->unit = unit;
	tl->ambient.from = tl->ambient.to = model_of(tl)->ambient_C;
}

double timeline_load_A(const struct timeline *tl, uint32_t now_ms, double pack_V)
{
	const struct scen_event *e;

	if (tl->load_event < 0)
		return 0.0;
	e = ev(tl, tl->load_event);
	switch (e->kind) {
	case SCEN_EV_POWER:
		return pack_V > 1.0 ? ramp_at(&tl->load, now_ms) / pack_V : 0.0;
	case SCEN_EV_PROFILE:
		return profile_at(tl->sc, e, now_ms - e->at_ms);
	default:
		return ramp_at(&tl->load, now_ms);
	}
}

double timeline_short_A(const struct timeline *tl)
{
	return tl->short_event >= 0 ? ev(tl, tl->short_event)->value : 0.0;
}
