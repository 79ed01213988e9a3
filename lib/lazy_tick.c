/* A periodic step that sleeps while nothing is due (lazy_tick.h). */
#include <limits.h>

#include "bmsrig/lib/lazy_tick.h"

/* a before b on the wrapping millisecond clock */
static int before(uint32_t a_ms, uint32_t b_ms)
{
	return (int32_t)(a_ms - b_ms) < 0;
}

/* The first tick at or after at_ms (never the start itself). */
static uint32_t tick_at_or_after(const struct host_lazy_tick *t, uint32_t at_ms)
{
	uint32_t first_ms = t->origin_ms + t->period_ms, k;

	if (!before(first_ms, at_ms))
		return first_ms;
	k = (at_ms - first_ms + t->period_ms - 1) / t->period_ms;
	return first_ms + k * t->period_ms;
}

static int on_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct host_lazy_tick *t = ctx;
	uint32_t now_ms = host_loop_now_ms(loop), due_ms, next_ms;

	(void)id;
	t->in_step = 1;
	t->woken = 0;
	due_ms = t->step(t->ctx, now_ms);
	t->in_step = 0;
	t->ran = 1;
	t->last_ms = now_ms;
	t->steps++;
	next_ms = now_ms + t->period_ms;
	if (!t->woken && before(next_ms, due_ms))
		next_ms = tick_at_or_after(t, due_ms);
	/* A wait beyond what the loop's int delay holds is cut short: the step then finds nothing
	 * to do and says the same again. */
	if (next_ms - now_ms > (uint32_t)INT_MAX)
		next_ms = now_ms + (uint32_t)INT_MAX / t->period_ms * t->period_ms;
	t->due_ms = next_ms;
	return (int)(next_ms - now_ms);
}

rig_rc host_lazy_tick_start(struct host_lazy_tick *t, struct host_loop *loop, uint32_t period_ms,
                            host_lazy_tick_step step, void *ctx)
{
	*t = (struct host_lazy_tick){ .loop = loop, .step = step, .ctx = ctx, .period_ms = period_ms ? period_ms : 1u };
	t->origin_ms = host_loop_now_ms(loop);
	t->due_ms = t->origin_ms + t->period_ms;
	t->id = host_loop_add_timer(loop, t->period_ms, on_tick, t);
	return t->id ? RIG_OK : RIG_ERR_SPACE;
}

void host_lazy_tick_wake(struct host_lazy_tick *t)
{
	uint32_t now_ms = host_loop_now_ms(t->loop);
	uint32_t at_ms = tick_at_or_after(t, now_ms);

	if (t->in_step) {            /* its own step: on_tick keeps the next tick */
		t->woken = 1;
		return;
	}
	if (t->ran && at_ms == t->last_ms)
		at_ms += t->period_ms;   /* this tick stepped already, before the input */
	if (!before(at_ms, t->due_ms))
		return;
	if (host_loop_move_timer(t->loop, t->id, at_ms - now_ms) == RIG_ERR_STATE) {
		/* This tick's turn among the timers due now has passed: a fixed cadence stepped
		 * before the input came, and reads it at the next tick. */
		at_ms += t->period_ms;
		if (!before(at_ms, t->due_ms) || host_loop_move_timer(t->loop, t->id, at_ms - now_ms) != RIG_OK)
			return;
	}
	t->due_ms = at_ms;
}
