/* The event loop: timer order and periods, fd callbacks, changes made from callbacks,
 * and the clock: pause, step and rate on real and virtual loops.
 * Timing is only checked one way (never early); ordering is exact. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/loop.h"

struct rec {
	struct host_loop *loop;
	char order[32];
	size_t n;
	uint32_t at[32];
	uint32_t peer;      /* a timer id to act on */
	int count, limit;
	int fd[2];
};

static void note(struct rec *r, char tag)
{
	if (r->n < sizeof r->order - 1) {
		r->at[r->n] = host_loop_now_ms(r->loop);
		r->order[r->n++] = tag;
	}
}

static int stop_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

/* Each timer records its tag: the ctx points into a tag string "A", "B", ... */
struct tagged { struct rec *r; char tag; };

static int tag_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct tagged *t = ctx;

	(void)loop;
	(void)id;
	note(t->r, t->tag);
	return 0;
}

static void timers_fire_in_due_order(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' }, b = { &r, 'B' }, c = { &r, 'C' }, d = { &r, 'D' };
	uint32_t t0;

	(void)state;
	r.loop = host_loop_new();
	assert_non_null(r.loop);
	t0 = host_loop_now_ms(r.loop);
	assert_true(host_loop_add_timer(r.loop, 30, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 10, tag_cb, &b) != 0);
	assert_true(host_loop_add_timer(r.loop, 20, tag_cb, &c) != 0);
	assert_true(host_loop_add_timer(r.loop, 20, tag_cb, &d) != 0);   /* ties: creation order */
	assert_int_equal(host_loop_run(r.loop), RIG_OK);   /* returns: nothing left to wait for */
	assert_string_equal(r.order, "BCDA");
	assert_true(r.at[0] >= t0 + 10);
	assert_true(r.at[1] >= t0 + 20);
	assert_true(r.at[3] >= t0 + 30);
	host_loop_free(r.loop);
}

static int periodic_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct rec *r = ctx;

	(void)loop;
	(void)id;
	note(r, 'P');
	return ++r->count < r->limit ? 15 : 0;
}

static void periodic_timer_keeps_its_period(void **state)
{
	struct rec r = { 0 };
	uint32_t t0;
	int k;

	(void)state;
	r.loop = host_loop_new();
	r.limit = 5;
	t0 = host_loop_now_ms(r.loop);
	assert_true(host_loop_add_timer(r.loop, 15, periodic_cb, &r) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(r.count, 5);
	/* Scheduled from the due time, not the firing time: the k-th firing is never before
	 * t0 + 15 * k, and over 5 periods the whole run stays near 75 ms (generous bound). */
	for (k = 0; k < 5; k++)
		assert_true(r.at[k] >= t0 + 15u * (uint32_t)(k + 1));
	assert_true(r.at[4] < t0 + 75 + 1000);
	host_loop_free(r.loop);
}

static void on_pipe(struct host_loop *loop, int fd, void *ctx)
{
	struct rec *r = ctx;
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	note(r, c);
	if (c == 'x')
		host_loop_stop(loop);
}

static void fd_callback_fires_when_readable(void **state)
{
	struct rec r = { 0 };

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(r.fd), 0);
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[0], on_pipe, &r), RIG_OK);
	assert_int_equal(write(r.fd[1], "abx", 3), 3);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);   /* the 'x' stops it */
	assert_string_equal(r.order, "abx");
	assert_int_equal(host_loop_add_fd(r.loop, -1, on_pipe, &r), RIG_ERR_ARG);
	close(r.fd[0]);
	close(r.fd[1]);
	host_loop_free(r.loop);
}

static int stop_loop(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

/* An fd not polled for input (a peer done sending, its replies still going out) is not read
 * while its bytes wait, and is read again once reading is back on. */
static void fd_not_read_while_deaf(void **state)
{
	struct rec r = { 0 };

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(r.fd), 0);
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[0], on_pipe, &r), RIG_OK);
	assert_int_equal(host_loop_fd_reading(r.loop, r.fd[0], 0), RIG_OK);
	assert_int_equal(write(r.fd[1], "ax", 2), 2);
	assert_true(host_loop_add_timer(r.loop, 50, stop_loop, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);      /* the timer stops it, nothing read */
	assert_string_equal(r.order, "");
	assert_int_equal(host_loop_fd_reading(r.loop, r.fd[0], 1), RIG_OK);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);      /* the 'x' stops it */
	assert_string_equal(r.order, "ax");
	assert_int_equal(host_loop_fd_reading(r.loop, 12345, 0), RIG_ERR_ARG);
	close(r.fd[0]);
	close(r.fd[1]);
	host_loop_free(r.loop);
}

static void on_pipe_once(struct host_loop *loop, int fd, void *ctx)
{
	struct rec *r = ctx;
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	note(r, c);
	host_loop_del_fd(loop, fd);
	host_loop_del_fd(loop, r->fd[0] == fd ? r->fd[1] : r->fd[0]);   /* the other one too */
}

static void fd_callback_deleting_itself_and_another(void **state)
{
	struct rec r = { 0 };
	int p1[2], p2[2];

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	r.fd[0] = p1[0];
	r.fd[1] = p2[0];
	assert_int_equal(host_loop_add_fd(r.loop, p1[0], on_pipe_once, &r), RIG_OK);
	assert_int_equal(host_loop_add_fd(r.loop, p2[0], on_pipe_once, &r), RIG_OK);
	/* Both readable in the same poll: whichever runs first deletes both. */
	assert_int_equal(write(p1[1], "12", 2), 2);
	assert_int_equal(write(p2[1], "34", 2), 2);
	assert_true(host_loop_add_timer(r.loop, 50, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(r.n, 1);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	host_loop_free(r.loop);
}

static int self_deleting_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct rec *r = ctx;

	note(r, 'S');
	host_loop_del_timer(loop, id);
	host_loop_del_timer(loop, r->peer);   /* due at the same time, must not fire */
	return 5;                            /* ignored: the timer is gone */
}

static int adding_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct rec *r = ctx;
	int i;

	(void)id;
	note(r, 'N');
	/* Grows the timer array under the dispatch; a 0 ms timer runs in a later pass. */
	for (i = 0; i < 100; i++)
		assert_true(host_loop_add_timer(loop, 1000, stop_cb, NULL) != 0);
	if (r->count++ == 0)
		assert_true(host_loop_add_timer(loop, 0, adding_cb, r) != 0);
	else
		host_loop_add_timer(loop, 0, stop_cb, NULL);
	return 0;
}

static void timer_changes_from_callbacks(void **state)
{
	struct rec r = { 0 };
	struct tagged never = { &r, '!' };

	(void)state;
	r.loop = host_loop_new();
	assert_true(host_loop_add_timer(r.loop, 5, self_deleting_cb, &r) != 0);
	r.peer = host_loop_add_timer(r.loop, 5, tag_cb, &never);
	assert_true(host_loop_add_timer(r.loop, 10, adding_cb, &r) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "SNN");
	host_loop_free(r.loop);   /* 200 timers still pending: freed without leaks */
}

static void closed_fd_is_dropped(void **state)
{
	struct rec r = { 0 };
	int p[2];

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(host_loop_add_fd(r.loop, p[0], on_pipe, &r), RIG_OK);
	close(p[0]);
	close(p[1]);
	assert_true(host_loop_add_timer(r.loop, 20, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(r.n, 0);
	host_loop_free(r.loop);
}

static void stop_then_run_again(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' };

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(r.fd), 0);
	/* An fd that never becomes readable keeps the loop waiting until stop. */
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[0], on_pipe, &r), RIG_OK);
	assert_true(host_loop_add_timer(r.loop, 10, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_true(host_loop_add_timer(r.loop, 5, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 10, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "A");
	close(r.fd[0]);
	close(r.fd[1]);
	host_loop_free(r.loop);
}

/* Simulated time: the clock jumps to each timer exactly, an hour passes in no wall time, and a
 * periodic timer fires at exact multiples of its period. */
static void virtual_loop_jumps_to_each_timer(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' }, b = { &r, 'B' };

	(void)state;
	r.loop = host_loop_new_virtual();
	assert_non_null(r.loop);
	assert_int_equal(host_loop_now_ms(r.loop), 0);
	r.limit = 4;
	assert_true(host_loop_add_timer(r.loop, 3600000u, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 15, periodic_cb, &r) != 0);
	assert_true(host_loop_add_timer(r.loop, 45, tag_cb, &b) != 0);   /* same time as P #3: made later */
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "PPPBPA");
	assert_int_equal(r.at[0], 15);
	assert_int_equal(r.at[1], 30);
	assert_int_equal(r.at[2], 45);
	assert_int_equal(r.at[3], 45);
	assert_int_equal(r.at[4], 60);
	assert_int_equal(r.at[5], 3600000u);
	assert_int_equal(host_loop_now_ms(r.loop), 3600000u);
	host_loop_free(r.loop);
}

static void virtual_loop_stops_and_resumes(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' };

	(void)state;
	r.loop = host_loop_new_virtual();
	assert_true(host_loop_add_timer(r.loop, 100, stop_cb, NULL) != 0);
	assert_true(host_loop_add_timer(r.loop, 200, tag_cb, &a) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(host_loop_now_ms(r.loop), 100);
	assert_string_equal(r.order, "");
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "A");
	assert_int_equal(r.at[0], 200);
	host_loop_free(r.loop);
}

/* ---- the clock ---------------------------------------------------------------------------- */

static struct host_loop *g_alarm_loop;

static void on_alarm(int sig)
{
	(void)sig;
	if (g_alarm_loop)
		host_loop_stop(g_alarm_loop);
}

/* A paused loop has nothing to wake it: a wall-clock alarm stops it after ms. */
static void run_for_wall_ms(struct host_loop *loop, long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	g_alarm_loop = loop;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(host_loop_run(loop), RIG_OK);
	g_alarm_loop = NULL;
}

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void real_loop_pauses_steps_and_changes_rate(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' }, b = { &r, 'B' }, c = { &r, 'C' };
	uint32_t t;
	double w0;

	(void)state;
	r.loop = host_loop_new();
	assert_false(host_loop_is_virtual(r.loop));
	assert_true(host_loop_rate(r.loop) == 1.0);
	assert_int_equal(host_loop_set_rate(r.loop, 0.0), RIG_ERR_ARG);   /* unpaced: virtual only */
	assert_int_equal(host_loop_set_rate(r.loop, -1.0), RIG_ERR_ARG);
	assert_int_equal(host_loop_set_rate(r.loop, NAN), RIG_ERR_ARG);
	assert_int_equal(host_loop_step(r.loop, 10), RIG_ERR_STATE);      /* not paused */

	host_loop_pause(r.loop, 1);
	assert_true(host_loop_paused(r.loop));
	t = host_loop_now_ms(r.loop);
	assert_true(host_loop_add_timer(r.loop, 10, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 30, tag_cb, &b) != 0);
	run_for_wall_ms(r.loop, 60);
	assert_string_equal(r.order, "");                  /* the clock stood still */
	assert_int_equal(host_loop_now_ms(r.loop), t);

	assert_int_equal(host_loop_step(r.loop, 15), RIG_OK);
	assert_string_equal(r.order, "A");
	assert_int_equal(r.at[0], t + 10);                 /* at its own time, not the step's end */
	assert_int_equal(host_loop_now_ms(r.loop), t + 15);
	assert_int_equal(host_loop_step(r.loop, 15), RIG_OK);
	assert_string_equal(r.order, "AB");
	assert_int_equal(r.at[1], t + 30);
	assert_int_equal(host_loop_now_ms(r.loop), t + 30);

	/* Four times real time: 200 ms of the clock take at least 50 ms of wall time. */
	assert_int_equal(host_loop_set_rate(r.loop, 4.0), RIG_OK);
	host_loop_pause(r.loop, 0);
	w0 = wall_ms();
	assert_true(host_loop_add_timer(r.loop, 200, tag_cb, &c) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "ABC");
	assert_true(r.at[2] >= t + 30 + 200);
	assert_true(wall_ms() - w0 >= 50.0 - 1.0);
	assert_true(host_loop_rate(r.loop) == 4.0);
	host_loop_free(r.loop);
}

static void virtual_loop_paced_keeps_the_unpaced_order(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' }, b = { &r, 'B' };
	double w0;

	(void)state;
	r.loop = host_loop_new_virtual();
	assert_true(host_loop_is_virtual(r.loop));
	assert_true(host_loop_rate(r.loop) == 0.0);
	assert_int_equal(host_loop_set_rate(r.loop, 10.0), RIG_OK);
	r.limit = 4;
	assert_true(host_loop_add_timer(r.loop, 200, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 15, periodic_cb, &r) != 0);
	assert_true(host_loop_add_timer(r.loop, 45, tag_cb, &b) != 0);
	w0 = wall_ms();
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	/* The same firings at the same times as unpaced (virtual_loop_jumps_to_each_timer) ... */
	assert_string_equal(r.order, "PPPBPA");
	assert_int_equal(r.at[0], 15);
	assert_int_equal(r.at[2], 45);
	assert_int_equal(r.at[3], 45);
	assert_int_equal(r.at[4], 60);
	assert_int_equal(r.at[5], 200);
	/* ... but 200 ms at ten times real time took at least 20 ms. */
	assert_true(wall_ms() - w0 >= 20.0 - 1.0);
	assert_int_equal(host_loop_set_rate(r.loop, 0.0), RIG_OK);
	host_loop_free(r.loop);
}

static int stepping_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct rec *r = ctx;

	(void)id;
	note(r, host_loop_step(loop, 5) == RIG_ERR_STATE ? 'S' : '!');
	return 0;
}

static void virtual_loop_pauses_and_steps(void **state)
{
	struct rec r = { 0 };
	struct tagged a = { &r, 'A' }, b = { &r, 'B' };

	(void)state;
	r.loop = host_loop_new_virtual();
	r.limit = 3;
	assert_true(host_loop_add_timer(r.loop, 100, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(host_loop_now_ms(r.loop), 100);
	host_loop_pause(r.loop, 1);
	assert_true(host_loop_add_timer(r.loop, 10, tag_cb, &a) != 0);
	assert_true(host_loop_add_timer(r.loop, 20, periodic_cb, &r) != 0);   /* every 15 ms after */
	assert_true(host_loop_add_timer(r.loop, 0, tag_cb, &b) != 0);         /* due now: fires paused */
	run_for_wall_ms(r.loop, 40);
	assert_string_equal(r.order, "B");
	assert_int_equal(host_loop_now_ms(r.loop), 100);
	assert_int_equal(host_loop_step(r.loop, 40), RIG_OK);
	assert_string_equal(r.order, "BAPP");
	assert_int_equal(r.at[1], 110);
	assert_int_equal(r.at[2], 120);
	assert_int_equal(r.at[3], 135);
	assert_int_equal(host_loop_now_ms(r.loop), 140);
	/* A timer may not step (it would fire timers inside the firing of timers). */
	assert_true(host_loop_add_timer(r.loop, 0, stepping_cb, &r) != 0);
	assert_int_equal(host_loop_step(r.loop, 20), RIG_OK);
	assert_string_equal(r.order, "BAPPSP");
	assert_int_equal(r.at[5], 150);
	host_loop_pause(r.loop, 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_int_equal(host_loop_now_ms(r.loop), 160);
	host_loop_free(r.loop);
}

static int forever_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)loop;
	(void)id;
	(void)ctx;
	return 100;
}

static void on_pipe_step(struct host_loop *loop, int fd, void *ctx)
{
	struct rec *r = ctx;
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	note(r, c);
	if (c == 's')
		assert_int_equal(host_loop_step(loop, 1000), RIG_OK);
	else
		host_loop_stop(loop);
}

/* Unpaced, the clock races on a timer that never ends, yet the fds are still served; a step
 * from an fd callback ends where a timer stopped the loop. */
static void virtual_loop_serves_fds_while_racing(void **state)
{
	struct rec r = { 0 };

	(void)state;
	r.loop = host_loop_new_virtual();
	assert_int_equal(pipe(r.fd), 0);
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[0], on_pipe_step, &r), RIG_OK);
	assert_true(host_loop_add_timer(r.loop, 100, forever_cb, NULL) != 0);
	assert_int_equal(write(r.fd[1], "x", 1), 1);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "x");

	host_loop_pause(r.loop, 1);
	r.n = 0;
	memset(r.order, 0, sizeof r.order);
	{
		uint32_t t = host_loop_now_ms(r.loop);

		assert_true(host_loop_add_timer(r.loop, 300, stop_cb, NULL) != 0);
		assert_int_equal(write(r.fd[1], "s", 1), 1);
		assert_int_equal(host_loop_run(r.loop), RIG_OK);
		assert_string_equal(r.order, "s");
		assert_int_equal(host_loop_now_ms(r.loop), t + 300);
	}
	close(r.fd[0]);
	close(r.fd[1]);
	host_loop_free(r.loop);
}

static void on_writable(struct host_loop *loop, int fd, void *ctx)
{
	struct rec *r = ctx;

	assert_int_equal(write(fd, "w", 1), 1);
	note(r, 'W');
	assert_int_equal(host_loop_fd_writable(loop, fd, NULL), RIG_OK);
}

static void writable_callback_runs_until_switched_off(void **state)
{
	struct rec r = { 0 };

	(void)state;
	r.loop = host_loop_new();
	assert_int_equal(pipe(r.fd), 0);
	assert_int_equal(host_loop_fd_writable(r.loop, r.fd[1], on_writable), RIG_ERR_ARG);  /* not added */
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[1], on_pipe, &r), RIG_OK);
	assert_int_equal(host_loop_fd_writable(r.loop, r.fd[1], on_writable), RIG_OK);
	assert_int_equal(host_loop_add_fd(r.loop, r.fd[0], on_pipe, &r), RIG_OK);
	assert_true(host_loop_add_timer(r.loop, 50, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(r.loop), RIG_OK);
	assert_string_equal(r.order, "Ww");
	close(r.fd[0]);
	close(r.fd[1]);
	host_loop_free(r.loop);
}

/* The timer heap: 500 timers with scattered due times, a third deleted before the run and
 * periodic ones among them, fire exactly in (due, creation) order, each deleted one never. */
#define HEAP_N 500
struct heap_rec {
	struct host_loop *loop;
	uint64_t last_key;     /* due_ms << 32 | id of the last firing */
	int fired[HEAP_N + 1], order_ok;
	uint32_t id[HEAP_N + 1];
};
static struct heap_rec *heap_rec;

static int heap_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	uint64_t key = ((uint64_t)host_loop_now_ms(loop) << 32) | id;
	size_t k = (size_t)((int *)ctx - heap_rec->fired);

	if (key <= heap_rec->last_key)
		heap_rec->order_ok = 0;
	heap_rec->last_key = key;
	heap_rec->fired[k]++;
	/* every seventh repeats once, 1000 ms later: it goes back into the heap */
	return k % 7 == 0 && heap_rec->fired[k] == 1 ? 1000 : 0;
}

static void timer_heap_keeps_due_order_under_deletes(void **state)
{
	static struct heap_rec h;
	uint32_t x = 12345u;

	(void)state;
	memset(&h, 0, sizeof h);
	heap_rec = &h;
	h.order_ok = 1;
	h.loop = host_loop_new_virtual();
	assert_non_null(h.loop);
	for (size_t k = 1; k <= HEAP_N; k++) {
		x = x * 1103515245u + 12345u;
		h.id[k] = host_loop_add_timer(h.loop, (x >> 16) % 97u, heap_cb, &h.fired[k]);
		assert_true(h.id[k] != 0);
	}
	for (size_t k = 3; k <= HEAP_N; k += 3)
		host_loop_del_timer(h.loop, h.id[k]);
	assert_int_equal(host_loop_run(h.loop), RIG_OK);
	assert_true(h.order_ok);
	for (size_t k = 1; k <= HEAP_N; k++)
		assert_int_equal(h.fired[k], k % 3 == 0 ? 0 : k % 7 == 0 ? 2 : 1);
	host_loop_free(h.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_fire_in_due_order),
		cmocka_unit_test(periodic_timer_keeps_its_period),
		cmocka_unit_test(fd_callback_fires_when_readable),
		cmocka_unit_test(fd_not_read_while_deaf),
		cmocka_unit_test(fd_callback_deleting_itself_and_another),
		cmocka_unit_test(timer_changes_from_callbacks),
		cmocka_unit_test(closed_fd_is_dropped),
		cmocka_unit_test(stop_then_run_again),
		cmocka_unit_test(virtual_loop_jumps_to_each_timer),
		cmocka_unit_test(virtual_loop_stops_and_resumes),
		cmocka_unit_test(real_loop_pauses_steps_and_changes_rate),
		cmocka_unit_test(virtual_loop_paced_keeps_the_unpaced_order),
		cmocka_unit_test(virtual_loop_pauses_and_steps),
		cmocka_unit_test(virtual_loop_serves_fds_while_racing),
		cmocka_unit_test(writable_callback_runs_until_switched_off),
		cmocka_unit_test(timer_heap_keeps_due_order_under_deletes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
