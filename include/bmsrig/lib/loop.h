/* A small event loop in the style of Redis' ae: read callbacks on fds and millisecond timers.
 * The fds are one epoll set (level-triggered), so a wake-up costs O(ready fds) however many
 * are watched; one epoll_wait per iteration. Callbacks may add and delete fds and timers, their
 * own included. Sized for a few hundred timers and any number of fds. Not thread-safe.
 *
 * The loop's clock is the emulator's: it can be paused, stepped and run faster or slower than
 * the wall clock. A real loop's clock is anchor + rate x (CLOCK_MONOTONIC - wall anchor), so it
 * moves smoothly at rate x real time. A virtual loop's clock only ever takes the due times of
 * its timers, in order, so a run is the same at any rate: unpaced (rate 0, the default) it
 * jumps from timer to timer as fast as the callbacks go; paced (rate x) a timer fires once
 * rate x wall time has reached it. Either kind, paused, stands still until stepped or resumed. */
#ifndef BMSRIG_LOOP_H
#define BMSRIG_LOOP_H

#include <stdint.h>
#include "bmsrig/core/rc.h"

struct host_loop;

typedef void (*host_loop_fd_cb)(struct host_loop *loop, int fd, void *ctx);
/* Returns the delay to the next firing in ms, or 0 (or less) to end the timer. The delay counts
 * from when the timer was due, so a periodic timer does not drift; one that fell a whole period
 * behind skips ahead rather than firing in a burst (a virtual loop is never behind). */
typedef int (*host_loop_timer_cb)(struct host_loop *loop, uint32_t id, void *ctx);

struct host_loop *host_loop_new(void);   /* NULL when out of memory */
/* A loop on simulated time (lockstep runs): the clock starts at 0 and jumps from one timer to
 * the next, as fast as the callbacks go. Its fds are polled without waiting every few
 * milliseconds of wall time (and waited for when paused or paced), so a control socket on it
 * is served while the run races. */
struct host_loop *host_loop_new_virtual(void);
void host_loop_free(struct host_loop *loop);

/* on_readable runs when fd is readable, hung up or in error; the callback must read or
 * delete the fd, or it runs again at once (so it may stop at a short read: more bytes wake it
 * again). An fd closed without host_loop_del_fd is dropped silently (a loop left with only
 * such fds ends). Adding an fd again replaces its callback. A regular file, which epoll
 * refuses, is always ready, as poll() would say. */
rig_rc host_loop_add_fd(struct host_loop *loop, int fd, host_loop_fd_cb on_readable, void *ctx);
void host_loop_del_fd(struct host_loop *loop, int fd);
/* on 0: fd, already added, is no longer polled for input (a peer that has finished sending,
 * whose replies are still on their way out); a hang-up or an error still reaches on_readable.
 * on 1: polled again. RIG_ERR_ARG when fd was not added. */
rig_rc host_loop_fd_reading(struct host_loop *loop, int fd, int on);
/* on_writable (NULL: none) runs while fd, already added, can take more output. RIG_ERR_ARG
 * when fd was not added. */
rig_rc host_loop_fd_writable(struct host_loop *loop, int fd, host_loop_fd_cb on_writable);

/* First firing after_ms from now. Returns the timer id, never 0 (0: out of memory or no cb).
 * Timers due together fire in due order, then in order of creation. */
uint32_t host_loop_add_timer(struct host_loop *loop, uint32_t after_ms, host_loop_timer_cb cb,
                            void *ctx);
void host_loop_del_timer(struct host_loop *loop, uint32_t id);
/* The timer's next firing after_ms from now, earlier or later, keeping its id (so its place
 * among timers due together). RIG_ERR_ARG: no such timer. RIG_ERR_STATE, nothing moved: from a
 * timer callback, the firing timer itself, or a place before it (timers due now that come
 * before the firing one have had their turn in this pass). */
rig_rc host_loop_move_timer(struct host_loop *loop, uint32_t id, uint32_t after_ms);

/* Runs until host_loop_stop, or until there is no fd and no timer left to wait for.
 * RIG_ERR_IO when epoll_wait() fails. */
rig_rc host_loop_run(struct host_loop *loop);
/* run returns after the current iteration. Safe in a signal handler (epoll_wait() then returns). */
void host_loop_stop(struct host_loop *loop);
uint32_t host_loop_now_ms(const struct host_loop *loop);   /* the loop's clock, 0 at _new */

/* The clock. Paused, nothing comes due (timers already due still fire); resuming goes on from
 * where it stood. Pausing a paused loop or resuming a running one changes nothing. */
void host_loop_pause(struct host_loop *loop, int paused);
int host_loop_paused(const struct host_loop *loop);
/* Paused only: the clock moves ms ahead, stopping at each timer due on the way to fire it at
 * its own time (so a step of 1 s fires a 100 ms timer ten times), and stands at the end.
 * Callable from an fd callback or outside run, not from a timer callback (RIG_ERR_STATE, as
 * when not paused). A timer that stops a running loop also ends the step where it stands. */
rig_rc host_loop_step(struct host_loop *loop, uint32_t ms);
/* x > 0: the clock runs at x times real time. x == 0: unpaced, timer to timer as fast as the
 * machine goes, for virtual loops only. RIG_ERR_ARG otherwise (a real loop, a negative, NaN or
 * above 1e6). New loops run at 1 (real) or 0 (virtual). */
rig_rc host_loop_set_rate(struct host_loop *loop, double x);
double host_loop_rate(const struct host_loop *loop);
int host_loop_is_virtual(const struct host_loop *loop);

#endif
