/*
 * The transaction engine (client.h) on its own, driving a toy protocol whose frames are single
 * bytes: request k of a cycle is 0x10 + k, and its answer 0x80 + k. A few other bytes stand for
 * the other verdicts (below). Cadence, timeout, resend with back-off, a cycle giving up after
 * its retries, the verdicts, the quiet line, the pause and the 32-bit millisecond wrap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/client.h"
#include "fake_io.h"

enum {
	ANS = 0x80,           /* + k: the answer to request k */
	REQ = 0x10,           /* + k: request k */
	B_FAIL = 0xE0,        /* an error reply that fails the cycle */
	B_DONE_ERROR = 0xE1,  /* an error reply the cycle survives */
	B_ECHO = 0xEE,        /* an echo: refused, wait on */
	B_BAD = 0xB0,         /* implausible: refused, as if lost */
	B_LOST = 0xB1         /* unusable: as if lost */
};

struct toy {
	struct client_engine eng;
	uint8_t buf[8];
	uint8_t have;
	uint8_t k;            /* the request in flight */
	uint8_t count;        /* requests per cycle */
	uint8_t pause_first;  /* request 0 has no answer */
	uint8_t skip;         /* a request may go unanswered */
	uint8_t completes;    /* cycle_complete calls */
	uint8_t resets;       /* on_send calls */
};

static enum client_req kind(const struct toy *t)
{
	return t->pause_first && t->k == 0 ? CLIENT_REQ_PAUSE : CLIENT_REQ_REPLY;
}

static enum client_req begin_cycle(void *v)
{
	struct toy *t = v;

	t->k = 0;
	return kind(t);
}

static enum client_req next_request(void *v)
{
	struct toy *t = v;

	if (++t->k >= t->count)
		return CLIENT_REQ_NONE;
	return kind(t);
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	struct toy *t = v;

	assert_true(cap >= 1);
	wire[0] = (uint8_t)(REQ + t->k);
	*n = 1;
	return RIG_OK;
}

static size_t rx_feed(void *v, const uint8_t *p, size_t n, uint32_t now_ms)
{
	struct toy *t = v;
	size_t room = sizeof t->buf - t->have;

	(void)now_ms;
	if (n > room)
		n = room;
	memcpy(t->buf + t->have, p, n);
	t->have = (uint8_t)(t->have + n);
	return n;
}

static enum client_rx judge(const struct toy *t, uint8_t b)
{
	switch (b) {
	case B_FAIL:
		return CLIENT_RX_FAIL;
	case B_DONE_ERROR:
		return CLIENT_RX_DONE_ERROR;
	case B_ECHO:
		return CLIENT_RX_SPURIOUS;
	case B_BAD:
		return CLIENT_RX_BAD;
	case B_LOST:
		return CLIENT_RX_LOST;
	default:
		return b == ANS + t->k ? CLIENT_RX_DONE : CLIENT_RX_WAIT;
	}
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct toy *t = v;
	uint8_t b;

	if (!t->have)
		return CLIENT_RX_NONE;
	b = t->buf[0];
	memmove(t->buf, t->buf + 1, --t->have);
	return waiting || b == B_ECHO ? judge(t, b) : CLIENT_RX_WAIT;
}

/* The toy's assembler is its own (rx_feed), so it empties it itself. */
static void on_send(void *v)
{
	struct toy *t = v;

	t->have = 0;
	t->resets++;
}

static int skippable(const void *v)
{
	return ((const struct toy *)v)->skip;
}

static void cycle_complete(void *v)
{
	struct toy *t = v;

	t->completes++;
	t->eng.out->soc_pct = 42;
}

/* The toy on either kind of line: the same hooks, two tables. */
#define TOY_HOOKS                                                                          \
	.begin_cycle = begin_cycle, .next_request = next_request, .encode = encode,        \
	.rx_feed = rx_feed, .rx_next = rx_next, .on_send = on_send,                        \
	.cycle_complete = cycle_complete

static const struct client_proto toy_flush = {
	TOY_HOOKS, .line = CLIENT_LINE_FLUSH, .pause_ms = 50, .skippable = skippable
};

static const struct client_proto toy_quiet = {
	TOY_HOOKS, .line = CLIENT_LINE_QUIET, .quiet_ms = 100
};

struct rig {
	struct fake_io io;
	struct toy t;
	struct pack_state ps;
};

/* poll 1000, timeout 500, gap 200, 3 retries, back-off 100 (CLIENT_CFG_DEFAULT). */
static struct rig *start(const struct client_proto *proto, uint8_t count)
{
	static struct rig r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	memset(&r, 0, sizeof r);
	r.t.count = count;
	rig_client_engine_init(&r.t.eng, proto, &r.t, &cfg, fake_io_stream(&r.io), &r.ps, NULL, NULL, 0);
	return &r;
}

static enum client_event step(struct rig *r, uint32_t now_ms)
{
	return rig_client_engine_step(&r->t.eng, now_ms);
}

/* The engine wrote exactly the one byte b since the last check (or nothing for b < 0). */
static void sent(struct rig *r, int b)
{
	if (b < 0) {
		assert_int_equal(r->io.tx_len, 0);
		return;
	}
	assert_int_equal(r->io.tx_len, 1);
	assert_int_equal(r->io.tx[0], b);
	fake_io_clear_tx(&r->io);
}

/* Steps at t, expecting event ev and the byte b sent (or nothing for b < 0). */
static void at(struct rig *r, uint32_t t, enum client_event ev, int b)
{
	assert_int_equal(step(r, t), ev);
	sent(r, b);
}

static void answer(struct rig *r, uint8_t b)
{
	fake_io_queue(&r->io, &b, 1);
}

static const struct client_stats *stats(const struct rig *r)
{
	return &r->t.eng.stats;
}

/* One full cycle of `count` requests starting at t, each answered 10 ms after its request. */
static void cycle_ok(struct rig *r, uint32_t t)
{
	uint8_t k;

	assert_int_equal(step(r, t), CLIENT_BUSY);
	for (k = 0; k < r->t.count; k++) {
		sent(r, REQ + k);
		answer(r, (uint8_t)(ANS + k));
		assert_int_equal(step(r, t + 10u * (k + 1u)),
		                 k + 1u == r->t.count ? CLIENT_CYCLE_OK : CLIENT_BUSY);
	}
	sent(r, -1);
}

static void cycle_runs_requests_in_order_and_publishes(void **state)
{
	struct rig *r = start(&toy_flush, 3);

	(void)state;
	cycle_ok(r, 5000);
	assert_int_equal(r->t.completes, 1);
	assert_int_equal(r->ps.soc_pct, 42);
	assert_int_equal(r->ps.updated_ms, 5030);
	assert_int_equal(stats(r)->requests, 3);
	assert_int_equal(stats(r)->cycles_ok, 1);
	assert_int_equal(stats(r)->ok, 1);
	assert_int_equal(stats(r)->resends, 0);
	assert_int_equal(stats(r)->timeouts, 0);
}

/* The first cycle at once, then one every poll_ms from the start of the one before. */
static void cadence_keeps_poll_ms_and_never_catches_up(void **state)
{
	struct rig *r = start(&toy_flush, 1);

	(void)state;
	cycle_ok(r, 0);
	at(r, 999, CLIENT_BUSY, -1);
	cycle_ok(r, 1000);
	/* Late (the port was busy): the next slot, 2000, passed, but 3000 is still ahead. */
	cycle_ok(r, 2500);
	at(r, 2999, CLIENT_BUSY, -1);
	cycle_ok(r, 3000);
	/* Very late: slots 4000 and 5000 are both gone; the cadence restarts from now. */
	cycle_ok(r, 5200);
	at(r, 6199, CLIENT_BUSY, -1);
	cycle_ok(r, 6200);
	assert_int_equal(stats(r)->cycles_ok, 6);
}

/* poll_ms 0: a step at the very millisecond a cycle ended starts the next one, every time,
 * and a slow cycle changes nothing (there is no cadence to keep or catch up on). */
static void poll_ms_0_starts_each_cycle_as_soon_as_the_last_ended(void **state)
{
	struct rig *r = start(&toy_flush, 2);
	uint32_t t = 0;
	int i;

	(void)state;
	r->t.eng.cfg.poll_ms = 0;
	for (i = 0; i < 5; i++) {
		cycle_ok(r, t);                   /* ends at t + 20 */
		t += 20;
		if (i == 2)
			t += 777;                 /* the port was busy elsewhere */
	}
	assert_int_equal(stats(r)->cycles_ok, 5);
	/* Same millisecond as the reply that ended cycle 5: cycle 6's first request goes now. */
	answer(r, ANS + 0);                       /* stale input: the send drops it */
	at(r, t, CLIENT_BUSY, REQ + 0);
	answer(r, ANS + 0);
	at(r, t + 1, CLIENT_BUSY, REQ + 1);
	assert_int_equal(stats(r)->requests, 12);
}

/* With a cadence, a cycle that overran poll_ms is due at once as well; one that did not waits. */
static void overrun_cycle_is_followed_in_the_same_step(void **state)
{
	struct rig *r = start(&toy_flush, 1);

	(void)state;
	r->t.eng.cfg.poll_ms = 100;
	cycle_ok(r, 0);                           /* ends at 10 */
	at(r, 10, CLIENT_BUSY, -1);               /* 100 is still ahead */
	at(r, 100, CLIENT_BUSY, REQ + 0);
	answer(r, ANS + 0);
	at(r, 230, CLIENT_CYCLE_OK, -1);          /* answered late: slot 200 passed */
	at(r, 230, CLIENT_BUSY, REQ + 0);         /* the same millisecond */
}

static void timeout_resends_first_at_once_then_backs_off(void **state)
{
	struct rig *r = start(&toy_flush, 1);

	(void)state;
	at(r, 0, CLIENT_BUSY, REQ);
	at(r, 499, CLIENT_BUSY, -1);
	at(r, 500, CLIENT_BUSY, REQ);  /* timeout 1: resend at once */
	assert_int_equal(stats(r)->timeouts, 1);
	assert_int_equal(stats(r)->resends, 1);
	at(r, 1000, CLIENT_BUSY, -1);  /* timeout 2: back-off 100 */
	at(r, 1099, CLIENT_BUSY, -1);
	at(r, 1100, CLIENT_BUSY, REQ);
	assert_int_equal(step(r, 1600), CLIENT_BUSY);      /* timeout 3: back-off doubles */
	at(r, 1799, CLIENT_BUSY, -1);
	at(r, 1800, CLIENT_BUSY, REQ);
	assert_int_equal(stats(r)->requests, 4);
	assert_int_equal(stats(r)->resends, 3);
	/* The answer to the resend still completes the cycle. */
	answer(r, ANS);
	assert_int_equal(step(r, 1850), CLIENT_CYCLE_OK);
	assert_int_equal(stats(r)->timeouts, 3);
}

static void cycle_gives_up_after_retries(void **state)
{
	struct rig *r = start(&toy_flush, 2);
	uint32_t t = 0;
	enum client_event ev = CLIENT_BUSY;

	(void)state;
	for (; t <= 5000 && ev == CLIENT_BUSY; t += 10)
		ev = step(r, t);
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	/* Sent at 0, 500 (at once), 1100 (+100), 1800 (+200); the last times out at 2300. */
	assert_int_equal(t - 10u, 2300);
	assert_int_equal(stats(r)->requests, 4);
	assert_int_equal(stats(r)->resends, 3);
	assert_int_equal(stats(r)->timeouts, 4);
	assert_int_equal(stats(r)->cycles_failed, 1);
	assert_int_equal(stats(r)->comm_fail, 1);
	assert_int_equal(stats(r)->ok, 0);
	assert_int_equal(r->t.completes, 0);
	/* The next cycle on time starts over, and a success clears comm_fail. */
	fake_io_clear_tx(&r->io);
	cycle_ok(r, 3000);
	assert_int_equal(stats(r)->comm_fail, 0);
}

static void skippable_request_lets_the_cycle_go_on(void **state)
{
	struct rig *r = start(&toy_flush, 2);

	(void)state;
	r->t.skip = 1;
	r->t.eng.cfg.retries = 0;
	at(r, 0, CLIENT_BUSY, REQ);
	at(r, 500, CLIENT_BUSY, REQ + 1);  /* given up: the next request at once */
	answer(r, ANS + 1);
	assert_int_equal(step(r, 510), CLIENT_CYCLE_OK);
	assert_int_equal(stats(r)->timeouts, 1);
}

static void verdicts_count_and_steer(void **state)
{
	struct rig *r = start(&toy_flush, 2);

	(void)state;
	at(r, 0, CLIENT_BUSY, REQ);
	answer(r, B_ECHO);                                  /* refused, still waiting */
	at(r, 10, CLIENT_BUSY, -1);
	assert_int_equal(stats(r)->rejected, 1);
	answer(r, B_BAD);                                   /* refused and resent at once */
	at(r, 20, CLIENT_BUSY, REQ);
	assert_int_equal(stats(r)->rejected, 2);
	assert_int_equal(stats(r)->timeouts, 1);
	answer(r, B_LOST);                                  /* lost: resent after the back-off */
	at(r, 30, CLIENT_BUSY, -1);
	assert_int_equal(stats(r)->rejected, 2);
	assert_int_equal(stats(r)->timeouts, 2);
	at(r, 130, CLIENT_BUSY, REQ);
	answer(r, B_DONE_ERROR);                            /* answered with an error: go on */
	at(r, 140, CLIENT_BUSY, REQ + 1);
	assert_int_equal(stats(r)->error_replies, 1);
	answer(r, B_FAIL);                                  /* an error that ends the cycle */
	assert_int_equal(step(r, 150), CLIENT_CYCLE_FAIL);
	assert_int_equal(stats(r)->error_replies, 2);
	assert_int_equal(r->t.completes, 0);
}

/* A flushing protocol drops what came while no reply was due, and the assembler's partial. */
static void flush_drops_stale_input_before_a_request(void **state)
{
	struct rig *r = start(&toy_flush, 1);

	(void)state;
	answer(r, ANS);                                     /* before anything was asked */
	at(r, 0, CLIENT_BUSY, REQ);
	assert_int_equal(r->t.resets, 1);
	assert_int_equal(step(r, 10), CLIENT_BUSY);         /* the stale answer did not count */
	answer(r, ANS);
	assert_int_equal(step(r, 20), CLIENT_CYCLE_OK);
}

/* A quiet-line protocol sends only after quiet_ms without a byte either way. */
static void quiet_line_waits_for_silence(void **state)
{
	struct rig *r = start(&toy_quiet, 2);

	(void)state;
	at(r, 0, CLIENT_BUSY, REQ);  /* a line never used is quiet */
	answer(r, ANS);
	at(r, 30, CLIENT_BUSY, -1);
	answer(r, 0x55);                                    /* noise keeps the line busy */
	assert_int_equal(step(r, 100), CLIENT_BUSY);
	at(r, 199, CLIENT_BUSY, -1);
	at(r, 200, CLIENT_BUSY, REQ + 1);
	answer(r, ANS + 1);
	assert_int_equal(step(r, 250), CLIENT_CYCLE_OK);
}

/* A line that never goes quiet delays a request by at most timeout_ms. */
static void quiet_line_noise_delays_at_most_timeout(void **state)
{
	struct rig *r = start(&toy_quiet, 2);
	uint32_t t;

	(void)state;
	at(r, 0, CLIENT_BUSY, REQ);
	answer(r, ANS);
	assert_int_equal(step(r, 10), CLIENT_BUSY);
	for (t = 20; t < 510; t += 20) {
		answer(r, 0x55);
		assert_int_equal(step(r, t), CLIENT_BUSY);
		sent(r, -1);
	}
	answer(r, 0x55);
	at(r, 510, CLIENT_BUSY, REQ + 1);
}

static void pause_request_is_followed_after_pause_ms(void **state)
{
	struct rig *r = start(&toy_flush, 2);

	(void)state;
	r->t.pause_first = 1;
	at(r, 0, CLIENT_BUSY, REQ);
	at(r, 49, CLIENT_BUSY, -1);
	at(r, 50, CLIENT_BUSY, REQ + 1);
	answer(r, ANS + 1);
	assert_int_equal(step(r, 60), CLIENT_CYCLE_OK);
	assert_int_equal(stats(r)->requests, 2);
	assert_int_equal(stats(r)->timeouts, 0);
}

/* Cadence, timeout and back-off across 0xFFFFFFFF -> 0. */
static void survives_the_32_bit_millisecond_wrap(void **state)
{
	struct rig *r = start(&toy_flush, 1);
	const uint32_t t0 = 0xFFFFFF00u;                    /* 256 ms before the wrap */

	(void)state;
	cycle_ok(r, t0);
	at(r, 0xFFFFFFFFu, CLIENT_BUSY, -1);
	at(r, t0 + 999u, CLIENT_BUSY, -1);  /* 743 after the wrap */
	at(r, t0 + 1000u, CLIENT_BUSY, REQ);
	/* A request sent just before the wrap times out just after it. */
	r = start(&toy_flush, 1);
	at(r, 0xFFFFFFF0u, CLIENT_BUSY, REQ);
	at(r, 0xFFFFFFFFu, CLIENT_BUSY, -1);  /* not yet timed out */
	at(r, 0xFFFFFFF0u + 499u, CLIENT_BUSY, -1);
	assert_int_equal(step(r, 0xFFFFFFF0u + 500u), CLIENT_BUSY);
	sent(r, REQ);                                       /* the first resend, at once */
	assert_int_equal(step(r, 0xFFFFFFF0u + 1000u), CLIENT_BUSY);
	at(r, 0xFFFFFFF0u + 1099u, CLIENT_BUSY, -1);
	at(r, 0xFFFFFFF0u + 1100u, CLIENT_BUSY, REQ);
	answer(r, ANS);
	assert_int_equal(step(r, 0xFFFFFFF0u + 1110u), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.updated_ms, 0xFFFFFFF0u + 1110u);
}

static void backoff_is_zero_then_doubles_and_saturates(void **state)
{
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	(void)state;
	assert_int_equal(rig_client_backoff_ms(&cfg, 1), 0);
	assert_int_equal(rig_client_backoff_ms(&cfg, 2), 100);
	assert_int_equal(rig_client_backoff_ms(&cfg, 3), 200);
	assert_int_equal(rig_client_backoff_ms(&cfg, 4), 400);
	assert_int_equal(rig_client_backoff_ms(&cfg, 18), 100u << 16);
	assert_int_equal(rig_client_backoff_ms(&cfg, 200), 100u << 16);
}

/* The last wish wins, as 0/1, and both FETs are pending again whatever was sent before; the
 * table's set_fets and stats reach the same engine through the client's pointer. */
static void set_fets_keeps_the_last_wish_with_both_pending(void **state)
{
	struct rig *r = start(&toy_flush, 1);
	struct client_fets *fets = &r->t.eng.fets;

	(void)state;
	assert_int_equal(fets->pending, 0);
	rig_client_set_fets(&r->t.eng, 7, 0);
	assert_int_equal(fets->chg_on, 1);
	assert_int_equal(fets->dsg_on, 0);
	assert_int_equal(fets->pending, CLIENT_FET_CHG | CLIENT_FET_DSG);
	fets->pending = CLIENT_FET_DSG;                      /* the charge FET reached the BMS */
	rig_client_ops_set_fets(&r->t, 0, 2);
	assert_int_equal(fets->chg_on, 0);
	assert_int_equal(fets->dsg_on, 1);
	assert_int_equal(fets->pending, CLIENT_FET_CHG | CLIENT_FET_DSG);
	assert_ptr_equal(rig_client_ops_stats(&r->t), &r->t.eng.stats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cycle_runs_requests_in_order_and_publishes),
		cmocka_unit_test(cadence_keeps_poll_ms_and_never_catches_up),
		cmocka_unit_test(poll_ms_0_starts_each_cycle_as_soon_as_the_last_ended),
		cmocka_unit_test(overrun_cycle_is_followed_in_the_same_step),
		cmocka_unit_test(timeout_resends_first_at_once_then_backs_off),
		cmocka_unit_test(cycle_gives_up_after_retries),
		cmocka_unit_test(skippable_request_lets_the_cycle_go_on),
		cmocka_unit_test(verdicts_count_and_steer),
		cmocka_unit_test(flush_drops_stale_input_before_a_request),
		cmocka_unit_test(quiet_line_waits_for_silence),
		cmocka_unit_test(quiet_line_noise_delays_at_most_timeout),
		cmocka_unit_test(pause_request_is_followed_after_pause_ms),
		cmocka_unit_test(survives_the_32_bit_millisecond_wrap),
		cmocka_unit_test(backoff_is_zero_then_doubles_and_saturates),
		cmocka_unit_test(set_fets_keeps_the_last_wish_with_both_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
