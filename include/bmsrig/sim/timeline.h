/*
 * The scenario engine: a scenario's timeline played into a running emulator. Each model step the
 * runner asks what the load wants and tells the engine the time; the engine starts the events
 * that are due (faults, drift, reboots, line trouble), ends those whose `for` ran out and keeps
 * ramps and profiles moving. It never reads the device under test: the runner decides what an
 * open relay does to the current. Events from outside the scenario (the control socket's faults)
 * go in with timeline_inject and are started, ended and replaced the same way.
 */
#ifndef BMSRIG_TIMELINE_H
#define BMSRIG_TIMELINE_H

#include <stdint.h>
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/wire_fault.h"
#include "bmsrig/sim/sim.h"

struct timeline_ramp {
	double from, to;
	uint32_t t0_ms, t1_ms;
};

#define TIMELINE_INJECT_MAX 32u
#define TIMELINE_INJECTED SCEN_EVENTS_MAX    /* event index of injected slot 0 */

struct timeline {
	const struct scenario *sc;
	struct sim *sim;                   /* line 0's emulator */
	struct sim *line_sim[SCEN_LINES_MAX];   /* each line's (timeline_set_line); [0] = sim */
	unsigned unit;                     /* the emulator's unit the events act on (0) */
	unsigned next;                     /* the first event not started */
	uint32_t ends_ms[SCEN_EVENTS_MAX]; /* when a started event with `for` ends; 0 = not pending */
	/* the load: one source at a time, the latest event replaces it */
	int load_event;                    /* current, power or profile event, or -1 */
	struct timeline_ramp load;         /* current (A) or power (W), linear between t0 and t1 */
	int short_event;                   /* a short circuit in progress, or -1 */
	struct timeline_ramp ambient;
	/* Line faults on the DUT's inverter line (`"line": "inverter"`): kept here, applied by
	 * whoever plays the inverter (the runner's rig_inverter reads the DUT through them). */
	struct wire_faults inverter_faults;
	unsigned errors;                   /* quirks a personality refused at run time */
	char last_error[200];
	struct scen_event inject[TIMELINE_INJECT_MAX];   /* injected, at_ms when they started */
	uint32_t inject_ends_ms[TIMELINE_INJECT_MAX];    /* as ends_ms */
	uint32_t end_due_ms;               /* no end is due before this: the ends are not scanned */
};

void timeline_init(struct timeline *tl, const struct scenario *sc, struct sim *sim);
/* A scenario of several lines: line's emulator (1..), which events naming its units (`"bms":
 * N`) act on; right after timeline_init. The load, the ambient and the settings stay unit
 * 0's, on line 0; clear_faults clears every line. */
void timeline_set_line(struct timeline *tl, unsigned line, struct sim *sim);
/* Act on unit (of a bus) instead of unit 0; right after timeline_init. */
void timeline_set_unit(struct timeline *tl, unsigned unit);
/*
 * Advance to now_ms: start every event due, end the timed ones, set the ambient. Indices of the
 * events started in this call go to fired (at most max). Returns how many.
 */
unsigned timeline_step(struct timeline *tl, uint32_t now_ms, unsigned *fired, unsigned max);
/* What the load or charger asks for now, in A (+ = charging), from the pack voltage for a
 * power profile. A short circuit is apart: timeline_short_A (0 when none). */
double timeline_load_A(const struct timeline *tl, uint32_t now_ms, double pack_V);
double timeline_short_A(const struct timeline *tl);
/* A load event (current, power or profile) is in effect: without one timeline_load_A is 0 and
 * an emulator serving a fixed current keeps it. */
int timeline_has_load(const struct timeline *tl);
/* The earliest time after now_ms (the last timeline_step's) at which timeline_step or
 * timeline_load_A could do or give anything else: the next event's start, the next `for` end;
 * now_ms itself while a ramp, a profile or a power load (its current follows the pack voltage)
 * moves, meaning at the next step. UINT32_MAX when nothing is left to change. */
uint32_t timeline_next_ms(const struct timeline *tl, uint32_t now_ms);

/*
 * Starts e (checked by scenario_parse_event; its at_ms is ignored) now, as if the scenario had
 * it at now_ms; its `for` ends it as a scenario event's does. It is never among timeline_step's
 * fired indices. RIG_ERR_SPACE when TIMELINE_INJECT_MAX injected events are still in effect
 * (ending later, or the load or short in force); RIG_ERR_ARG when the emulator refused it (a
 * quirk): then err says why and the timeline's own errors are untouched.
 */
rig_rc timeline_inject(struct timeline *tl, const struct scen_event *e, uint32_t now_ms, char *err, size_t errcap);

#endif
