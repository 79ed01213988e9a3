/*
 * The scenario engine: a scenario's timeline played into a running emulator. Each model step the
 * runner asks what the load wants and tells the engine the time; the engine starts the events
 * that are due (faults, drift, reboots, line trouble), ends those whose `for` ran out and keeps
 * ramps and profiles moving. It never reads the device under test: the runner decides what an
 * open relay does to the current.
 */
#ifndef BMSRIG_TIMELINE_H
#define BMSRIG_TIMELINE_H

#include <stdint.h>
#include "bmsrig/scenario.h"
#include "bmsrig/sim.h"

struct timeline_ramp {
	double from, to;
	uint32_t t0_ms, t1_ms;
};

struct timeline {
	const struct scenario *sc;
	struct sim *sim;
	unsigned next;                     /* the first event not started */
	uint32_t ends_ms[SCEN_EVENTS_MAX]; /* when a started event with `for` ends; 0 = not pending */
	/* the load: one source at a time, the latest event replaces it */
	int load_event;                    /* current, power or profile event, or -1 */
	struct timeline_ramp load;         /* current (A) or power (W), linear between t0 and t1 */
	int short_event;                   /* a short circuit in progress, or -1 */
	struct timeline_ramp ambient;
	unsigned errors;                   /* quirks a personality refused at run time */
	char last_error[200];
};

void timeline_init(struct timeline *tl, const struct scenario *sc, struct sim *sim);
/*
 * Advance to now_ms: start every event due, end the timed ones, set the ambient. Indices of the
 * events started in this call go to fired (at most max). Returns how many.
 */
unsigned timeline_step(struct timeline *tl, uint32_t now_ms, unsigned *fired, unsigned max);
/* What the load or charger asks for now, in A (+ = charging), from the pack voltage for a
 * power profile. A short circuit is apart: timeline_short_A (0 when none). */
double timeline_load_A(const struct timeline *tl, uint32_t now_ms, double pack_V);
double timeline_short_A(const struct timeline *tl);

#endif
