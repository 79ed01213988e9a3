/* A small poll() event loop in the style of Redis' ae: read callbacks on fds and millisecond
 * timers, one poll() per iteration. Callbacks may add and delete fds and timers, their own
 * included. Sized for a few hundred of each. Not thread-safe. */
#ifndef BMSRIG_LOOP_H
#define BMSRIG_LOOP_H

#include <stdint.h>
#include "bmsrig/rc.h"

struct rig_loop;

typedef void (*rig_loop_fd_cb)(struct rig_loop *loop, int fd, void *ctx);
/* Returns the delay to the next firing in ms, or 0 (or less) to end the timer. The delay counts
 * from when the timer was due, so a periodic timer does not drift; one that fell a whole period
 * behind skips ahead rather than firing in a burst. */
typedef int (*rig_loop_timer_cb)(struct rig_loop *loop, uint32_t id, void *ctx);

struct rig_loop *rig_loop_new(void);   /* NULL when out of memory */
/* A loop on simulated time (lockstep runs): the clock starts at 0 and jumps from one timer to
 * the next, as fast as the callbacks go; fds may be added but are never polled. */
struct rig_loop *rig_loop_new_virtual(void);
void rig_loop_free(struct rig_loop *loop);

/* on_readable runs when fd is readable, hung up or in error; the callback must read or
 * delete the fd, or it runs again at once. An fd closed without rig_loop_del_fd is dropped
 * silently. Adding an fd again replaces its callback. */
rig_rc rig_loop_add_fd(struct rig_loop *loop, int fd, rig_loop_fd_cb on_readable, void *ctx);
void rig_loop_del_fd(struct rig_loop *loop, int fd);

/* First firing after_ms from now. Returns the timer id, never 0 (0: out of memory or no cb).
 * Timers due together fire in due order, then in order of creation. */
uint32_t rig_loop_add_timer(struct rig_loop *loop, uint32_t after_ms, rig_loop_timer_cb cb,
                            void *ctx);
void rig_loop_del_timer(struct rig_loop *loop, uint32_t id);

/* Runs until rig_loop_stop, or until there is no fd and no timer left to wait for.
 * RIG_ERR_IO when poll() fails. */
rig_rc rig_loop_run(struct rig_loop *loop);
/* run returns after the current iteration. Safe in a signal handler (poll() then returns). */
void rig_loop_stop(struct rig_loop *loop);
uint32_t rig_loop_now_ms(const struct rig_loop *loop);   /* CLOCK_MONOTONIC since _new, or simulated */

#endif
