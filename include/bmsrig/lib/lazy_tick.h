/* A periodic step on an event loop that sleeps while its owner has nothing due. The owner's
 * step says when it next has something to do; the timer then skips the ticks before that,
 * and host_lazy_tick_wake brings it back for input that arrived meanwhile. Every step still lands
 * on the fixed cadence's tick (start + k x period) and in the same order among timers due
 * together, so an owner whose skipped steps would have done nothing behaves exactly as if it
 * were stepped at every tick (lockstep's in-process firmware: 5 ms ticks, a poll a second). */
#ifndef BMSRIG_LAZY_TICK_H
#define BMSRIG_LAZY_TICK_H

#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/lib/loop.h"

/* One step at now_ms; returns the earliest time the next may do anything without input
 * (now_ms or earlier: the next tick). */
typedef uint32_t (*host_lazy_tick_step)(void *ctx, uint32_t now_ms);

struct host_lazy_tick {
	struct host_loop *loop;
	host_lazy_tick_step step;
	void *ctx;
	uint32_t id;                 /* the loop's timer */
	uint32_t period_ms;
	uint32_t origin_ms;          /* ticks fall at origin_ms + k x period_ms, k >= 1 */
	uint32_t due_ms;             /* when the timer fires next */
	uint32_t last_ms;            /* of the last step */
	uint8_t ran;                 /* a step has run */
	uint8_t in_step, woken;      /* input came during the step itself */
	uint32_t steps;              /* steps run, for tests and benchmarks */
};

/* The first step one period from now. RIG_ERR_SPACE when the loop is out of memory. */
rig_rc host_lazy_tick_start(struct host_lazy_tick *t, struct host_loop *loop, uint32_t period_ms,
                            host_lazy_tick_step step, void *ctx);
/* Input arrived now: step at the first tick a fixed cadence would have seen it (this one if
 * its turn among the timers due now has not passed, else the next), unless one is due sooner. */
void host_lazy_tick_wake(struct host_lazy_tick *t);

#endif
