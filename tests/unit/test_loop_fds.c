/* The event loop's fd side on its epoll set: many fds with only the ready ones called, fds
 * deleted (and their numbers reused) while a wake-up is being dispatched, level-triggered
 * draining (a callback may stop at a short read and is called again only with bytes there),
 * hang-ups, regular files (which epoll refuses and poll() called always ready), and fds closed
 * without being deleted. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/loop.h"

enum { MANY = 300 };

struct many {
	struct host_loop *loop;
	int rd[MANY], wr[MANY];
	int calls[MANY];
	int total, want;
};

static int index_of(const struct many *m, int fd)
{
	int i;

	for (i = 0; i < MANY; i++)
		if (m->rd[i] == fd)
			return i;
	return -1;
}

static void on_many(struct host_loop *loop, int fd, void *ctx)
{
	struct many *m = ctx;
	char c;
	int i = index_of(m, fd);

	assert_true(i >= 0);
	assert_int_equal(read(fd, &c, 1), 1);
	m->calls[i]++;
	if (++m->total == m->want)
		host_loop_stop(loop);
}

static int stop_cb(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

static void only_ready_fds_are_called_among_many(void **state)
{
	static struct many m;
	static const int ready[] = { 0, 7, 150, MANY - 1 };
	int i, k;

	(void)state;
	memset(&m, 0, sizeof m);
	m.loop = host_loop_new();
	for (i = 0; i < MANY; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		m.rd[i] = p[0];
		m.wr[i] = p[1];
		assert_int_equal(host_loop_add_fd(m.loop, p[0], on_many, &m), RIG_OK);
	}
	for (k = 0; k < 4; k++)
		assert_int_equal(write(m.wr[ready[k]], "r", 1), 1);
	m.want = 4;
	assert_true(host_loop_add_timer(m.loop, 2000, stop_cb, NULL) != 0);   /* a hang is a failure */
	assert_int_equal(host_loop_run(m.loop), RIG_OK);
	for (i = k = 0; i < MANY; i++) {
		int expect = k < 4 && ready[k] == i;

		assert_int_equal(m.calls[i], expect);
		k += expect;
	}
	/* Deleted fds are no longer watched, the others still are. */
	for (i = 0; i < MANY; i += 2)
		host_loop_del_fd(m.loop, m.rd[i]);
	assert_int_equal(write(m.wr[10], "r", 1), 1);
	assert_int_equal(write(m.wr[11], "r", 1), 1);
	m.total = 0;
	m.want = 1;
	assert_int_equal(host_loop_run(m.loop), RIG_OK);
	assert_int_equal(m.calls[10], 0);
	assert_int_equal(m.calls[11], 1);
	for (i = 0; i < MANY; i++) {
		close(m.rd[i]);
		close(m.wr[i]);
	}
	host_loop_free(m.loop);
}

/* Two fds ready in one wake-up: whichever runs first deletes the other, closes it and puts a
 * fresh pipe at the same number. The event already fetched for the old fd must reach neither
 * the old callback nor the new one (the new pipe is empty). */
struct swap {
	struct host_loop *loop;
	int a[2], b[2], fresh[2];
	char order[8];
	size_t n;
};

static void on_fresh(struct host_loop *loop, int fd, void *ctx)
{
	struct swap *s = ctx;
	char c;

	assert_int_equal(read(fd, &c, 1), 1);      /* woken only with a byte there */
	s->order[s->n++] = 'N';
	host_loop_stop(loop);
}

static void on_swap(struct host_loop *loop, int fd, void *ctx)
{
	struct swap *s = ctx;
	int *mine = fd == s->a[0] ? s->a : s->b, *other = mine == s->a ? s->b : s->a;
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	s->order[s->n++] = c;
	if (s->n == 1) {
		int num = other[0];

		host_loop_del_fd(loop, other[0]);
		close(other[0]);
		assert_int_equal(pipe(s->fresh), 0);
		if (s->fresh[0] != num) {           /* put it at the old number */
			assert_int_equal(dup2(s->fresh[0], num), num);
			close(s->fresh[0]);
			s->fresh[0] = num;
		}
		other[0] = -1;
		assert_int_equal(host_loop_add_fd(loop, s->fresh[0], on_fresh, s), RIG_OK);
	}
}

static void deleted_during_dispatch_and_number_reused(void **state)
{
	struct swap s;

	(void)state;
	memset(&s, 0, sizeof s);
	s.loop = host_loop_new();
	assert_int_equal(pipe(s.a), 0);
	assert_int_equal(pipe(s.b), 0);
	assert_int_equal(host_loop_add_fd(s.loop, s.a[0], on_swap, &s), RIG_OK);
	assert_int_equal(host_loop_add_fd(s.loop, s.b[0], on_swap, &s), RIG_OK);
	assert_int_equal(write(s.a[1], "a", 1), 1);
	assert_int_equal(write(s.b[1], "b", 1), 1);
	assert_true(host_loop_add_timer(s.loop, 50, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(s.loop), RIG_OK);
	assert_int_equal(s.n, 1);                /* one of a, b; never the other, never N */
	assert_true(s.order[0] == 'a' || s.order[0] == 'b');
	/* The fresh pipe at the reused number works. */
	assert_int_equal(write(s.fresh[1], "z", 1), 1);
	assert_true(host_loop_add_timer(s.loop, 50, stop_cb, NULL) != 0);
	assert_int_equal(host_loop_run(s.loop), RIG_OK);
	assert_int_equal(s.order[s.n - 1], 'N');
	host_loop_free(s.loop);
}

/* A callback reading at most 4 bytes a call and stopping at a short read: level-triggered, it
 * is called again while bytes wait, and never woken with nothing to read. */
struct drain {
	struct host_loop *loop;
	int p[2];
	char got[64];
	size_t n;
	int calls, empty_calls, hup;
	uint32_t first_ms;              /* the loop's clock at the first call */
};

static void on_drain(struct host_loop *loop, int fd, void *ctx)
{
	struct drain *d = ctx;
	ssize_t r = read(fd, d->got + d->n, 4);

	if (d->calls++ == 0)
		d->first_ms = host_loop_now_ms(loop);
	if (r < 0)
		d->empty_calls++;            /* EAGAIN: woken for nothing */
	else if (r == 0) {
		d->hup = 1;                  /* the writer has gone */
		host_loop_del_fd(loop, fd);
	} else
		d->n += (size_t)r;
}

static int write_more(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct drain *d = ctx;

	(void)loop;
	(void)id;
	assert_int_equal(write(d->p[1], "KLM", 3), 3);
	return 0;
}

static int hang_up(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct drain *d = ctx;

	(void)loop;
	(void)id;
	close(d->p[1]);
	return 0;
}

static void short_reads_drain_without_empty_wakeups(void **state)
{
	struct drain d;

	(void)state;
	memset(&d, 0, sizeof d);
	d.loop = host_loop_new();
	assert_int_equal(pipe(d.p), 0);
	assert_int_equal(fcntl(d.p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(host_loop_add_fd(d.loop, d.p[0], on_drain, &d), RIG_OK);
	assert_int_equal(write(d.p[1], "ABCDEFGHIJ", 10), 10);
	assert_true(host_loop_add_timer(d.loop, 20, write_more, &d) != 0);
	assert_true(host_loop_add_timer(d.loop, 40, hang_up, &d) != 0);
	assert_int_equal(host_loop_run(d.loop), RIG_OK);   /* ends: the fd went at the hang-up */
	assert_int_equal(d.n, 13);
	assert_memory_equal(d.got, "ABCDEFGHIJKLM", 13);
	assert_int_equal(d.empty_calls, 0);
	assert_int_equal(d.hup, 1);
	assert_int_equal(d.calls, 3 + 1 + 1);              /* 4+4+2, then 3, then the hang-up */
	close(d.p[0]);
	host_loop_free(d.loop);
}

/* Not reading (deaf), a hung-up fd still reaches its callback. */
static void deaf_fd_still_hears_the_hang_up(void **state)
{
	struct drain d;
	uint32_t t0;

	(void)state;
	memset(&d, 0, sizeof d);
	d.loop = host_loop_new();
	assert_int_equal(pipe(d.p), 0);
	assert_int_equal(fcntl(d.p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(host_loop_add_fd(d.loop, d.p[0], on_drain, &d), RIG_OK);
	assert_int_equal(host_loop_fd_reading(d.loop, d.p[0], 0), RIG_OK);
	assert_int_equal(write(d.p[1], "AB", 2), 2);
	t0 = host_loop_now_ms(d.loop);
	assert_true(host_loop_add_timer(d.loop, 30, hang_up, &d) != 0);
	assert_int_equal(host_loop_run(d.loop), RIG_OK);
	assert_true(d.first_ms >= t0 + 30);                /* the bytes alone woke nobody */
	/* Woken by the hang-up alone (not by the bytes): reads AB, then the end, then deletes. */
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.n, 2);
	assert_int_equal(host_loop_fd_reading(d.loop, d.p[0], 1), RIG_ERR_ARG);   /* deleted */
	close(d.p[0]);
	host_loop_free(d.loop);
}

/* epoll takes no regular file; the loop calls one always ready, as poll() did. */
struct file_rd { int calls; };

static void on_file(struct host_loop *loop, int fd, void *ctx)
{
	struct file_rd *f = ctx;

	(void)fd;
	if (++f->calls == 3)
		host_loop_del_fd(loop, fd);
}

static void regular_file_is_always_ready(void **state)
{
	struct host_loop *loop = host_loop_new();
	struct file_rd f = { 0 };
	FILE *tf = tmpfile();

	(void)state;
	assert_non_null(tf);
	assert_int_equal(host_loop_add_fd(loop, fileno(tf), on_file, &f), RIG_OK);
	assert_int_equal(host_loop_run(loop), RIG_OK);     /* ends when it deletes itself */
	assert_int_equal(f.calls, 3);
	fclose(tf);
	host_loop_free(loop);
}

/* An fd closed without host_loop_del_fd: its number, reused by a new pipe and added again,
 * works; a loop left with only closed fds (and no timers) ends instead of waiting forever. */
static void closed_fd_number_reused_and_loop_ends(void **state)
{
	struct drain d;
	int p[2], q[2];

	(void)state;
	memset(&d, 0, sizeof d);
	d.loop = host_loop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(host_loop_add_fd(d.loop, p[0], on_drain, &d), RIG_OK);
	close(p[0]);
	close(p[1]);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(q[0], p[0]);                      /* the lowest free number comes back */
	assert_int_equal(fcntl(q[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(host_loop_add_fd(d.loop, q[0], on_drain, &d), RIG_OK);
	d.p[1] = q[1];
	assert_int_equal(write(q[1], "xy", 2), 2);
	assert_true(host_loop_add_timer(d.loop, 10, hang_up, &d) != 0);
	assert_int_equal(host_loop_run(d.loop), RIG_OK);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.hup, 1);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(host_loop_add_fd(d.loop, p[0], on_drain, &d), RIG_OK);
	close(p[0]);
	close(p[1]);
	assert_int_equal(host_loop_run(d.loop), RIG_OK);   /* returns: nothing left */
	close(q[0]);
	host_loop_free(d.loop);
}

static void bad_fds_are_refused(void **state)
{
	struct host_loop *loop = host_loop_new();
	struct drain d;
	int p[2];

	(void)state;
	assert_int_equal(host_loop_add_fd(loop, -1, on_drain, &d), RIG_ERR_ARG);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(host_loop_add_fd(loop, p[0], on_drain, &d), RIG_ERR_ARG);   /* not open */
	assert_int_equal(host_loop_fd_writable(loop, p[0], on_drain), RIG_ERR_ARG);
	host_loop_del_fd(loop, p[0]);                      /* not added: nothing happens */
	assert_int_equal(host_loop_run(loop), RIG_OK);
	host_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_ready_fds_are_called_among_many),
		cmocka_unit_test(deleted_during_dispatch_and_number_reused),
		cmocka_unit_test(short_reads_drain_without_empty_wakeups),
		cmocka_unit_test(deaf_fd_still_hears_the_hang_up),
		cmocka_unit_test(regular_file_is_always_ready),
		cmocka_unit_test(closed_fd_number_reused_and_loop_ends),
		cmocka_unit_test(bad_fds_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
