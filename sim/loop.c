/* poll() event loop (loop.h). Entries deleted while callbacks run are only marked dead and
 * swept between iterations, so indices held by the dispatch stay valid and a dead entry is
 * never called. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmsrig/loop.h"

struct fd_ent {
	int fd;
	rig_loop_fd_cb cb;
	void *ctx;
	int dead;
};

struct timer_ent {
	uint32_t id;
	uint64_t due_ms;
	rig_loop_timer_cb cb;
	void *ctx;
	int dead;
};

struct rig_loop {
	uint64_t t0_ns;
	int is_virtual;
	uint64_t virtual_ms;            /* the clock of a virtual loop */
	struct fd_ent *fds;
	size_t nfds, capfds;
	struct pollfd *pfd;
	size_t cappfd;
	struct timer_ent *timers;
	size_t ntimers, captimers;
	uint32_t next_id;
	int dispatching;
	volatile sig_atomic_t stop;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now64(const struct rig_loop *loop)
{
	return loop->is_virtual ? loop->virtual_ms : (mono_ns() - loop->t0_ns) / 1000000u;
}

uint32_t rig_loop_now_ms(const struct rig_loop *loop)
{
	return (uint32_t)now64(loop);
}

/* Room for one more of size elem in *arr (cap grows by doubling). */
static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

struct rig_loop *rig_loop_new(void)
{
	struct rig_loop *loop = calloc(1, sizeof *loop);

	if (loop) {
		loop->t0_ns = mono_ns();
		loop->next_id = 1;
	}
	return loop;
}

struct rig_loop *rig_loop_new_virtual(void)
{
	struct rig_loop *loop = rig_loop_new();

	if (loop)
		loop->is_virtual = 1;
	return loop;
}

void rig_loop_free(struct rig_loop *loop)
{
	if (!loop)
		return;
	free(loop->fds);
	free(loop->pfd);
	free(loop->timers);
	free(loop);
}

static void sweep(struct rig_loop *loop)
{
	size_t i, k;

	if (loop->dispatching)
		return;
	for (i = k = 0; i < loop->nfds; i++)
		if (!loop->fds[i].dead)
			loop->fds[k++] = loop->fds[i];
	loop->nfds = k;
	for (i = k = 0; i < loop->ntimers; i++)
		if (!loop->timers[i].dead)
			loop->timers[k++] = loop->timers[i];
	loop->ntimers = k;
}

static struct fd_ent *find_fd(struct rig_loop *loop, int fd)
{
	size_t i;

	for (i = 0; i < loop->nfds; i++)
		if (!loop->fds[i].dead && loop->fds[i].fd == fd)
			return &loop->fds[i];
	return NULL;
}

rig_rc rig_loop_add_fd(struct rig_loop *loop, int fd, rig_loop_fd_cb on_readable, void *ctx)
{
	struct fd_ent *e;

	if (fd < 0 || !on_readable)
		return RIG_ERR_ARG;
	e = find_fd(loop, fd);
	if (!e) {
		if (reserve((void **)&loop->fds, &loop->capfds, loop->nfds + 1, sizeof *loop->fds))
			return RIG_ERR_SPACE;
		e = &loop->fds[loop->nfds++];
		e->fd = fd;
		e->dead = 0;
	}
	e->cb = on_readable;
	e->ctx = ctx;
	return RIG_OK;
}

void rig_loop_del_fd(struct rig_loop *loop, int fd)
{
	struct fd_ent *e = find_fd(loop, fd);

	if (e) {
		e->dead = 1;
		sweep(loop);
	}
}

uint32_t rig_loop_add_timer(struct rig_loop *loop, uint32_t after_ms, rig_loop_timer_cb cb,
                            void *ctx)
{
	struct timer_ent *t;

	if (!cb || reserve((void **)&loop->timers, &loop->captimers, loop->ntimers + 1,
	                   sizeof *loop->timers))
		return 0;
	t = &loop->timers[loop->ntimers++];
	t->id = loop->next_id++;
	if (loop->next_id == 0)
		loop->next_id = 1;
	t->due_ms = now64(loop) + after_ms;
	t->cb = cb;
	t->ctx = ctx;
	t->dead = 0;
	return t->id;
}

void rig_loop_del_timer(struct rig_loop *loop, uint32_t id)
{
	size_t i;

	for (i = 0; i < loop->ntimers; i++)
		if (!loop->timers[i].dead && loop->timers[i].id == id) {
			loop->timers[i].dead = 1;
			sweep(loop);
			return;
		}
}

void rig_loop_stop(struct rig_loop *loop)
{
	loop->stop = 1;
}

/* The live timer due first (ties: oldest id) among ids below id_end, or -1. */
static long first_due(const struct rig_loop *loop, uint32_t id_end)
{
	long best = -1;
	size_t i;

	for (i = 0; i < loop->ntimers; i++) {
		const struct timer_ent *t = &loop->timers[i];

		if (t->dead || t->id >= id_end)
			continue;
		if (best < 0 || t->due_ms < loop->timers[best].due_ms ||
		    (t->due_ms == loop->timers[best].due_ms && t->id < loop->timers[best].id))
			best = (long)i;
	}
	return best;
}

static void dispatch_fds(struct rig_loop *loop, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		short rev = loop->pfd[i].revents;

		if (!rev || loop->fds[i].dead)
			continue;
		if (rev & POLLNVAL)
			loop->fds[i].dead = 1;
		else
			loop->fds[i].cb(loop, loop->fds[i].fd, loop->fds[i].ctx);
	}
}

/* Only timers that existed when the pass began run in it, so a callback adding a 0 ms timer
 * cannot keep the pass going forever. */
static void fire_timers(struct rig_loop *loop)
{
	uint64_t now = now64(loop);
	uint32_t id_end = loop->next_id;
	long i;

	while ((i = first_due(loop, id_end)) >= 0 && loop->timers[i].due_ms <= now) {
		struct timer_ent t = loop->timers[i];
		int next = t.cb(loop, t.id, t.ctx);

		/* i still names this timer: nothing is swept while dispatching and new timers are
		 * appended; but the callback may have deleted it. */
		if (loop->timers[i].dead)
			continue;
		if (next <= 0) {
			loop->timers[i].dead = 1;
			continue;
		}
		loop->timers[i].due_ms = t.due_ms + (uint64_t)next;
		if (loop->timers[i].due_ms <= now)
			loop->timers[i].due_ms = now + (uint64_t)next;
	}
}

/* Simulated time has nothing to wait for: the clock jumps to the next timer. */
static rig_rc run_virtual(struct rig_loop *loop)
{
	while (!loop->stop) {
		long first;

		sweep(loop);
		first = first_due(loop, loop->next_id);
		if (first < 0)
			break;
		if (loop->timers[first].due_ms > loop->virtual_ms)
			loop->virtual_ms = loop->timers[first].due_ms;
		loop->dispatching = 1;
		fire_timers(loop);
		loop->dispatching = 0;
	}
	return RIG_OK;
}

rig_rc rig_loop_run(struct rig_loop *loop)
{
	loop->stop = 0;
	if (loop->is_virtual)
		return run_virtual(loop);
	while (!loop->stop) {
		long first;
		int timeout = -1, n;
		size_t i, nfds;

		sweep(loop);
		if (!loop->nfds && !loop->ntimers)
			break;
		nfds = loop->nfds;
		if (reserve((void **)&loop->pfd, &loop->cappfd, nfds, sizeof *loop->pfd))
			return RIG_ERR_SPACE;
		for (i = 0; i < nfds; i++) {
			loop->pfd[i].fd = loop->fds[i].fd;
			loop->pfd[i].events = POLLIN;
			loop->pfd[i].revents = 0;
		}
		first = first_due(loop, loop->next_id);
		if (first >= 0) {
			uint64_t now = now64(loop), due = loop->timers[first].due_ms;

			timeout = due <= now ? 0 : due - now > 3600000u ? 3600000 : (int)(due - now);
		}
		n = poll(loop->pfd, (nfds_t)nfds, timeout);
		if (n < 0 && errno != EINTR)
			return RIG_ERR_IO;
		loop->dispatching = 1;
		if (n > 0)
			dispatch_fds(loop, nfds);
		fire_timers(loop);
		loop->dispatching = 0;
	}
	return RIG_OK;
}
