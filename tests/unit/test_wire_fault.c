/* Line faults: every fault kind byte for byte, rates and their generator, composition, the
 * cap, and the UART resampler against bit timings worked by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/wire_fault.h"

/* Real captures from tests/vectors/jbd.json: "jbd_sp04s034_cells" (15 bytes) and
 * "jbd_sp04s034_basic" (36 bytes). */
static const uint8_t cells_frame[] = {
	0xDD, 0x04, 0x00, 0x08, 0x0F, 0x45, 0x0F, 0x3D, 0x0F, 0x37, 0x0F, 0x3D, 0xFE, 0xC6, 0x77
};
static const uint8_t basic_frame[] = {
	0xDD, 0x03, 0x00, 0x1D, 0x06, 0x18, 0x00, 0x00, 0x01, 0xF2, 0x01, 0xF4, 0x00, 0x00, 0x2C,
	0x7C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x64, 0x03, 0x04, 0x03, 0x0B, 0x8B, 0x0B,
	0x8A, 0x0B, 0x84, 0xFA, 0x8D, 0x77
};
#define CELLS_N sizeof cells_frame
#define BUF_CAP (CELLS_N + WIRE_FAULT_GROWTH)

/* One reply through w, with the header's minimum cap. */
static size_t reply(struct wire_faults *w, const uint8_t *in, size_t n, uint8_t *out,
                    uint32_t *delay)
{
	return wire_faults_reply(w, in, n, 9600, out, n + WIRE_FAULT_GROWTH, delay);
}

static unsigned popcount8(uint8_t v)
{
	unsigned c = 0;
	for (; v; v &= (uint8_t)(v - 1u))
		c++;
	return c;
}

/* 1 when out (n - 1 bytes) is in with exactly one byte taken out. */
static int is_in_minus_one(const uint8_t *in, size_t n, const uint8_t *out)
{
	for (size_t p = 0; p < n; p++)
		if (memcmp(out, in, p) == 0 && memcmp(out + p, in + p + 1, n - p - 1) == 0)
			return 1;
	return 0;
}

/* 1 when a (na bytes) is a subsequence of b (nb bytes). */
static int is_subsequence(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	size_t i = 0;
	for (size_t j = 0; j < nb && i < na; j++)
		if (a[i] == b[j])
			i++;
	return i == na;
}

static void names_follow_the_enum(void **state)
{
	(void)state;
	static const char *const expect[WF_COUNT] = {
		"no_reply", "late_reply", "corrupt_checksum", "truncate_frame", "oversize_frame",
		"garbage", "drop_bytes", "dup_bytes", "baud_mismatch", "mute_dut"
	};
	for (int k = 0; k < (int)WF_COUNT; k++) {
		assert_string_equal(wire_fault_names[k], expect[k]);
		assert_int_equal(wire_fault_find(expect[k]), k);
	}
	assert_int_equal(wire_fault_find("garbage"), WF_GARBAGE);
	assert_int_equal(wire_fault_find("Garbage"), -1);
	assert_int_equal(wire_fault_find("corrupt"), -1);
	assert_int_equal(wire_fault_find(""), -1);
	assert_int_equal(wire_fault_find(NULL), -1);
}

static void init_set_clear(void **state)
{
	(void)state;
	struct wire_faults w, v;
	wire_faults_init(&w, 0);
	assert_int_not_equal(w.rng, 0);                 /* seed 0 still gives a running generator */
	assert_false(wire_faults_any(&w));
	wire_faults_init(&v, 0);
	assert_int_equal(v.rng, w.rng);
	wire_faults_init(&v, 1);
	assert_int_not_equal(v.rng, w.rng);

	wire_faults_set(&w, WF_GARBAGE, 0.25, 7);
	assert_true(wire_faults_any(&w));
	assert_int_equal(w.on_mask >> WF_GARBAGE & 1u, 1);
	assert_true(w.f[WF_GARBAGE].rate == 0.25);
	assert_int_equal(w.f[WF_GARBAGE].param, 7);
	wire_faults_set(&w, WF_DROP_BYTES, 3.0, 0);     /* rates are shares: clamped to 0..1 */
	assert_true(w.f[WF_DROP_BYTES].rate == 1.0);
	wire_faults_set(&w, WF_DUP_BYTES, -1.0, 0);
	assert_true(w.f[WF_DUP_BYTES].rate == 0.0);
	wire_faults_clear(&w, WF_GARBAGE);
	wire_faults_clear(&w, WF_DROP_BYTES);
	wire_faults_clear(&w, WF_DUP_BYTES);
	assert_false(wire_faults_any(&w));
	assert_int_equal(w.f[WF_GARBAGE].param, 0);

	/* Nothing on: the reply passes unchanged. */
	uint8_t out[BUF_CAP];
	uint32_t delay = 99;
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
	assert_memory_equal(out, cells_frame, CELLS_N);
	assert_int_equal(delay, 0);
}

static void no_reply_loses_it_first(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	uint32_t delay = 99;
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_NO_REPLY, 1.0, 0);
	wire_faults_set(&w, WF_LATE_REPLY, 1.0, 500);
	wire_faults_set(&w, WF_GARBAGE, 1.0, 0);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), 0);
	assert_int_equal(delay, 0);
	assert_int_equal(w.hits[WF_NO_REPLY], 1);
	/* The lost reply is not also late or garbled. */
	assert_int_equal(w.hits[WF_LATE_REPLY], 0);
	assert_int_equal(w.hits[WF_GARBAGE], 0);
	/* extra_delay_ms may be NULL. */
	assert_int_equal(wire_faults_reply(&w, cells_frame, CELLS_N, 9600, out, BUF_CAP, NULL), 0);
}

static void late_reply_only_delays(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	uint32_t delay = 0;
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_LATE_REPLY, 1.0, 250);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
	assert_memory_equal(out, cells_frame, CELLS_N);
	assert_int_equal(delay, 250);
	/* Default: 1000 ms, past the clients' request timeouts. */
	wire_faults_set(&w, WF_LATE_REPLY, 1.0, 0);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
	assert_int_equal(delay, 1000);
	assert_int_equal(w.hits[WF_LATE_REPLY], 2);
	/* Off again: no delay left over from the last reply. */
	wire_faults_clear(&w, WF_LATE_REPLY);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
	assert_int_equal(delay, 0);
}

static void corrupt_flips_one_bit_in_the_middle(void **state)
{
	(void)state;
	struct wire_faults w;
	struct jbd_frame f;
	uint8_t out[sizeof basic_frame + WIRE_FAULT_GROWTH];
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_CORRUPT, 1.0, 0);

	static const struct { const uint8_t *p; size_t n; } frames[] = {
		{ cells_frame, sizeof cells_frame }, { basic_frame, sizeof basic_frame }
	};
	for (size_t k = 0; k < 2; k++) {
		const uint8_t *in = frames[k].p;
		size_t n = frames[k].n;
		assert_int_equal(rig_jbd_frame_parse(in, n, &f), RIG_OK);
		assert_int_equal(reply(&w, in, n, out, NULL), n);
		/* Exactly one bit differs, in byte n/2 (7 of 15: a cell voltage byte, 0x3D -> 0x3C;
		 * 18 of 36: a data byte of the basic info). */
		for (size_t i = 0; i < n; i++)
			assert_int_equal(popcount8((uint8_t)(out[i] ^ in[i])), i == n / 2 ? 1u : 0u);
		assert_int_equal(rig_jbd_frame_parse(out, n, &f), RIG_ERR_CHECKSUM);
	}
	assert_int_equal(out[0], 0xDD);
	uint8_t once[CELLS_N];
	assert_int_equal(reply(&w, cells_frame, CELLS_N, once, NULL), CELLS_N);
	assert_int_equal(once[7], 0x3C);
	assert_int_equal(w.hits[WF_CORRUPT], 3);
}

static void truncate_keeps_the_head(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_TRUNCATE, 1.0, 0);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), 7);     /* 15 / 2 */
	assert_memory_equal(out, cells_frame, 7);
	wire_faults_set(&w, WF_TRUNCATE, 1.0, 12);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), 12);
	assert_memory_equal(out, cells_frame, 12);
	wire_faults_set(&w, WF_TRUNCATE, 1.0, 100);        /* longer than the frame: all of it */
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), CELLS_N);
	assert_memory_equal(out, cells_frame, CELLS_N);
}

/* Feeds bytes to a JBD receiver; returns the valid frames it found (the last in *f). */
static unsigned jbd_frames_in(const uint8_t *p, size_t n, struct jbd_frame *f)
{
	struct jbd_rx rx;
	unsigned frames = 0;
	rig_jbd_rx_init(&rx, 0);
	for (size_t fed = 0; fed < n;) {
		fed += rig_jbd_rx_feed(&rx, p + fed, n - fed, 0);
		while (rig_jbd_rx_next(&rx, f) == RIG_OK)
			frames++;
	}
	return frames;
}

static void oversize_starts_a_frame_then_overflows(void **state)
{
	(void)state;
	struct wire_faults w;
	struct jbd_frame f;
	uint8_t out[BUF_CAP];
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_OVERSIZE, 1.0, 0);
	/* The frame's 4 header bytes, 600 filler bytes, then the whole frame. */
	size_t len = reply(&w, cells_frame, CELLS_N, out, NULL);
	assert_int_equal(len, 4 + 600 + CELLS_N);
	assert_memory_equal(out, cells_frame, 4);
	for (size_t i = 4; i < 604; i++)
		assert_int_equal(out[i], 0x00);
	assert_memory_equal(out + 604, cells_frame, CELLS_N);
	/* More than a JBD receive buffer holds, yet a receiver that resyncs still finds the
	 * real frame after the false start. */
	assert_true(len > JBD_FRAME_MAX);
	assert_int_equal(jbd_frames_in(out, len, &f), 1);
	assert_int_equal(f.reg, 0x04);

	wire_faults_set(&w, WF_OVERSIZE, 1.0, 10);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), 4 + 10 + CELLS_N);
	assert_memory_equal(out + 14, cells_frame, CELLS_N);
	/* A small cap cuts the tail. */
	assert_int_equal(wire_faults_reply(&w, cells_frame, CELLS_N, 9600, out, 20, NULL), 20);
	assert_memory_equal(out + 14, cells_frame, 6);
}

static void garbage_comes_first_and_follows_the_seed(void **state)
{
	(void)state;
	struct wire_faults w, v;
	uint8_t out[BUF_CAP], again[BUF_CAP];
	wire_faults_init(&w, 42);
	wire_faults_init(&v, 42);
	wire_faults_set(&w, WF_GARBAGE, 1.0, 0);
	wire_faults_set(&v, WF_GARBAGE, 1.0, 0);
	size_t len = reply(&w, cells_frame, CELLS_N, out, NULL);
	assert_int_equal(len, 16 + CELLS_N);
	assert_memory_equal(out + 16, cells_frame, CELLS_N);
	assert_int_equal(reply(&v, cells_frame, CELLS_N, again, NULL), len);
	assert_memory_equal(out, again, len);              /* the same seed, the same bytes */
	/* The next reply gets other garbage, as does another seed. */
	assert_int_equal(reply(&w, cells_frame, CELLS_N, again, NULL), len);
	assert_memory_not_equal(out, again, 16);
	wire_faults_init(&v, 43);
	wire_faults_set(&v, WF_GARBAGE, 1.0, 0);
	assert_int_equal(reply(&v, cells_frame, CELLS_N, again, NULL), len);
	assert_memory_not_equal(out, again, 16);

	wire_faults_set(&w, WF_GARBAGE, 1.0, 3);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), 3 + CELLS_N);
	assert_memory_equal(out + 3, cells_frame, CELLS_N);
}

static void drop_bytes_loses_some(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	wire_faults_init(&w, 5);
	wire_faults_set(&w, WF_DROP_BYTES, 1.0, 0);
	for (unsigned r = 0; r < 50; r++) {
		assert_int_equal(reply(&w, basic_frame, sizeof basic_frame, out, NULL),
		                 sizeof basic_frame - 1);
		assert_true(is_in_minus_one(basic_frame, sizeof basic_frame, out));
	}
	wire_faults_set(&w, WF_DROP_BYTES, 1.0, 3);
	assert_int_equal(reply(&w, basic_frame, sizeof basic_frame, out, NULL),
	                 sizeof basic_frame - 3);
	assert_true(is_subsequence(out, sizeof basic_frame - 3, basic_frame, sizeof basic_frame));
	wire_faults_set(&w, WF_DROP_BYTES, 1.0, 1000);     /* more than there are: all gone */
	assert_int_equal(reply(&w, basic_frame, sizeof basic_frame, out, NULL), 0);
}

static void dup_bytes_repeats_some(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[sizeof basic_frame + WIRE_FAULT_GROWTH];
	const size_t n = sizeof basic_frame;
	wire_faults_init(&w, 5);
	wire_faults_set(&w, WF_DUP_BYTES, 1.0, 0);
	for (unsigned r = 0; r < 50; r++) {
		assert_int_equal(reply(&w, basic_frame, n, out, NULL), n + 1);
		/* Taking one of the doubled pair out again gives the frame back. */
		int found = 0;
		for (size_t p = 0; p + 1 < n + 1 && !found; p++)
			found = out[p] == out[p + 1] && memcmp(out, basic_frame, p + 1) == 0 &&
			        memcmp(out + p + 2, basic_frame + p + 1, n - p - 1) == 0;
		assert_true(found);
	}
	wire_faults_set(&w, WF_DUP_BYTES, 1.0, 5);
	assert_int_equal(reply(&w, basic_frame, n, out, NULL), n + 5);
	assert_true(is_subsequence(basic_frame, n, out, n + 5));
	/* A huge count stops at the cap. */
	wire_faults_set(&w, WF_DUP_BYTES, 1.0, UINT32_MAX);
	assert_int_equal(wire_faults_reply(&w, basic_frame, n, 9600, out, n + 100, NULL), n + 100);
	assert_true(is_subsequence(basic_frame, n, out, n + 100));
}

static void rate_zero_never_hits(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	uint32_t delay;
	wire_faults_init(&w, 9);
	uint32_t rng = w.rng;
	for (unsigned k = 0; k < WF_COUNT; k++)
		wire_faults_set(&w, (enum wire_fault_kind)k, 0.0, 0);
	assert_true(wire_faults_any(&w));
	for (unsigned r = 0; r < 1000; r++) {
		assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
		assert_memory_equal(out, cells_frame, CELLS_N);
		assert_int_equal(delay, 0);
		assert_int_equal(wire_faults_request(&w, cells_frame, CELLS_N, 9600, out, BUF_CAP),
		                 CELLS_N);
	}
	for (unsigned k = 0; k < WF_COUNT; k++)
		assert_int_equal(w.hits[k], 0);
	assert_int_equal(w.rng, rng);                 /* certain outcomes take no draws */
}

/* mute_dut loses the client's writes (all at rate 1, about the share at 0.5, none once
 * cleared) and never touches a reply, nor draws for one. */
static void mute_dut_loses_requests_only(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	uint32_t delay;
	unsigned lost = 0;
	wire_faults_init(&w, 5);
	assert_int_equal(wire_faults_request_lost(&w), 0);      /* off: nothing lost */
	wire_faults_set(&w, WF_MUTE_DUT, 1.0, 0);
	uint32_t rng = w.rng;
	for (unsigned r = 0; r < 100; r++) {
		assert_int_equal(wire_faults_request_lost(&w), 1);
		assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), CELLS_N);
		assert_memory_equal(out, cells_frame, CELLS_N);
		assert_int_equal(delay, 0);
	}
	assert_int_equal(w.hits[WF_MUTE_DUT], 100);
	assert_int_equal(w.rng, rng);
	wire_faults_set(&w, WF_MUTE_DUT, 0.5, 0);
	for (unsigned r = 0; r < 1000; r++)
		lost += (unsigned)wire_faults_request_lost(&w);
	assert_in_range(lost, 400, 600);
	assert_int_equal(w.hits[WF_MUTE_DUT], 100 + lost);
	wire_faults_clear(&w, WF_MUTE_DUT);
	assert_int_equal(wire_faults_request_lost(&w), 0);
	assert_false(wire_faults_any(&w));
}

/* Which of 1000 replies a no_reply fault at rate 0.5 loses, for a seed. */
static unsigned lost_of_1000(uint32_t seed, uint8_t lost[1000])
{
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	unsigned count = 0;
	wire_faults_init(&w, seed);
	wire_faults_set(&w, WF_NO_REPLY, 0.5, 0);
	for (unsigned r = 0; r < 1000; r++) {
		lost[r] = reply(&w, cells_frame, CELLS_N, out, NULL) == 0;
		count += lost[r];
	}
	assert_int_equal(w.hits[WF_NO_REPLY], count);
	return count;
}

static void rate_half_hits_about_half_reproducibly(void **state)
{
	(void)state;
	uint8_t a[1000], b[1000];
	/* Binomial(1000, 0.5): sigma = sqrt(250) = 15.8; 450..550 is more than 3 sigma. */
	unsigned n = lost_of_1000(7, a);
	assert_in_range(n, 450, 550);
	assert_int_equal(lost_of_1000(7, b), n);
	assert_memory_equal(a, b, sizeof a);
	lost_of_1000(8, b);
	assert_memory_not_equal(a, b, sizeof a);
	for (uint32_t seed = 0; seed < 20; seed++)
		assert_in_range(lost_of_1000(seed, b), 450, 550);
}

static void faults_compose_in_enum_order(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP];
	uint32_t delay = 0;
	wire_faults_init(&w, 3);
	/* Corrupt (byte 7) then truncate to 10 then 4 bytes of garbage in front: the corruption
	 * survives at 4 + 7, the tail is gone, the reply is also late. */
	wire_faults_set(&w, WF_GARBAGE, 1.0, 4);
	wire_faults_set(&w, WF_TRUNCATE, 1.0, 10);
	wire_faults_set(&w, WF_CORRUPT, 1.0, 0);
	wire_faults_set(&w, WF_LATE_REPLY, 1.0, 300);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), 14);
	assert_int_equal(delay, 300);
	uint8_t expect[10];
	memcpy(expect, cells_frame, 10);
	expect[7] ^= 0x01;
	assert_memory_equal(out + 4, expect, 10);
	for (unsigned k = WF_LATE_REPLY; k <= WF_GARBAGE; k++)
		assert_int_equal(w.hits[k], k == WF_OVERSIZE ? 0u : 1u);

	/* Truncating to half first cuts the corrupted byte off with it: order matters. */
	wire_faults_set(&w, WF_TRUNCATE, 1.0, 0);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, &delay), 4 + 7);
	assert_memory_equal(out + 4, cells_frame, 7);

	/* The baud mismatch comes last: it resamples everything before it, garbage included. */
	struct wire_faults v;
	uint8_t mid[BUF_CAP], resampled[BUF_CAP];
	wire_faults_init(&w, 11);
	wire_faults_init(&v, 11);
	wire_faults_set(&w, WF_GARBAGE, 1.0, 0);
	wire_faults_set(&v, WF_GARBAGE, 1.0, 0);
	wire_faults_set(&w, WF_BAUD, 1.0, 4800);
	size_t m = reply(&v, cells_frame, CELLS_N, mid, NULL);
	size_t r = uart_resample(mid, m, 9600, 4800, resampled, sizeof resampled);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), r);
	assert_memory_equal(out, resampled, r);
}

static void the_cap_is_never_passed(void **state)
{
	(void)state;
	enum { ROOM = sizeof basic_frame + WIRE_FAULT_GROWTH + 64 };
	uint8_t out[ROOM];
	const size_t n = sizeof basic_frame;
	static const size_t caps[] = { 0, 1, 3, 5, 17, 36, 100, 700, 36 + WIRE_FAULT_GROWTH };
	for (uint32_t seed = 1; seed <= 20; seed++) {
		struct wire_faults w;
		wire_faults_init(&w, seed);
		wire_faults_set(&w, WF_LATE_REPLY, 1.0, 0);
		wire_faults_set(&w, WF_CORRUPT, 0.5, 0);
		wire_faults_set(&w, WF_OVERSIZE, 0.5, 100000);
		wire_faults_set(&w, WF_GARBAGE, 0.5, 100000);
		wire_faults_set(&w, WF_DROP_BYTES, 0.5, 2);
		wire_faults_set(&w, WF_DUP_BYTES, 0.5, 100000);
		wire_faults_set(&w, WF_BAUD, 0.5, seed % 2 ? 115200 : 1200);
		for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
			memset(out, 0xA5, sizeof out);
			size_t len = wire_faults_reply(&w, basic_frame, n, 9600, out, caps[c], NULL);
			assert_true(len <= caps[c]);
			for (size_t i = caps[c]; i < sizeof out; i++)
				assert_int_equal(out[i], 0xA5);
			memset(out, 0xA5, sizeof out);
			len = wire_faults_request(&w, basic_frame, n, 9600, out, caps[c]);
			assert_true(len <= caps[c]);
			for (size_t i = caps[c]; i < sizeof out; i++)
				assert_int_equal(out[i], 0xA5);
		}
	}
}

static void baud_mismatch_both_ways(void **state)
{
	(void)state;
	struct wire_faults w;
	uint8_t out[BUF_CAP], expect[BUF_CAP];
	wire_faults_init(&w, 1);
	wire_faults_set(&w, WF_BAUD, 1.0, 19200);
	/* Replies: sent at the line's 9600, heard at the client's 19200. */
	size_t e = uart_resample(cells_frame, CELLS_N, 9600, 19200, expect, sizeof expect);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), e);
	assert_memory_equal(out, expect, e);
	assert_int_equal(w.hits[WF_BAUD], 1);
	/* Requests: sent at 19200, heard by the BMS at 9600; not counted as replies. */
	static const uint8_t req[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
	e = uart_resample(req, sizeof req, 19200, 9600, expect, sizeof expect);
	assert_int_equal(wire_faults_request(&w, req, sizeof req, 9600, out, sizeof out), e);
	assert_memory_equal(out, expect, e);
	assert_int_equal(w.hits[WF_BAUD], 1);

	/* Default: 115200 on a 9600 line, 9600 on any other. */
	wire_faults_set(&w, WF_BAUD, 1.0, 0);
	e = uart_resample(cells_frame, CELLS_N, 9600, 115200, expect, sizeof expect);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), e);
	assert_memory_equal(out, expect, e);
	e = uart_resample(cells_frame, CELLS_N, 115200, 9600, expect, sizeof expect);
	assert_int_equal(wire_faults_reply(&w, cells_frame, CELLS_N, 115200, out, BUF_CAP, NULL), e);
	assert_memory_equal(out, expect, e);

	/* The client at the line's own rate, or a line of unknown rate: nothing changes. */
	uint32_t hits = w.hits[WF_BAUD];
	wire_faults_set(&w, WF_BAUD, 1.0, 9600);
	assert_int_equal(reply(&w, cells_frame, CELLS_N, out, NULL), CELLS_N);
	assert_memory_equal(out, cells_frame, CELLS_N);
	assert_int_equal(wire_faults_request(&w, req, sizeof req, 9600, out, sizeof out),
	                 sizeof req);
	assert_memory_equal(out, req, sizeof req);
	wire_faults_set(&w, WF_BAUD, 1.0, 19200);
	assert_int_equal(wire_faults_reply(&w, cells_frame, CELLS_N, 0, out, BUF_CAP, NULL),
	                 CELLS_N);
	assert_memory_equal(out, cells_frame, CELLS_N);
	assert_int_equal(w.hits[WF_BAUD], hits);
}

static void uart_equal_rates_give_the_bytes_back(void **state)
{
	(void)state;
	uint8_t out[64];
	static const uint32_t rates[] = { 300, 9600, 115200, 4000000 };
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		assert_int_equal(uart_resample(basic_frame, sizeof basic_frame, rates[r], rates[r],
		                               out, sizeof out), sizeof basic_frame);
		assert_memory_equal(out, basic_frame, sizeof basic_frame);
	}
	/* Within a UART's tolerance (the stop sample must land in the stop bit: 9.5 received
	 * bits inside 9..10 sent bits, so -5 %..+5.6 %), the start edge resyncs every byte and
	 * the frame survives: 9300 and 9900 are 3 % off 9600. */
	assert_int_equal(uart_resample(basic_frame, sizeof basic_frame, 9600, 9900, out, sizeof out),
	                 sizeof basic_frame);
	assert_memory_equal(out, basic_frame, sizeof basic_frame);
	assert_int_equal(uart_resample(basic_frame, sizeof basic_frame, 9600, 9300, out, sizeof out),
	                 sizeof basic_frame);
	assert_memory_equal(out, basic_frame, sizeof basic_frame);
	/* 9000 is 6 % slow: 9.5 * 9600 / 9000 = 10.13 sent bits, the stop sample hits the next
	 * start bit. */
	size_t n = uart_resample(basic_frame, sizeof basic_frame, 9600, 9000, out, sizeof out);
	assert_false(n == sizeof basic_frame && memcmp(out, basic_frame, n) == 0);
	/* Nothing to send, or a rate of 0: nothing heard. */
	assert_int_equal(uart_resample(basic_frame, 0, 9600, 4800, out, sizeof out), 0);
	assert_int_equal(uart_resample(basic_frame, sizeof basic_frame, 0, 4800, out, sizeof out), 0);
	assert_int_equal(uart_resample(basic_frame, sizeof basic_frame, 9600, 0, out, sizeof out), 0);
}

static size_t resample(const uint8_t *in, size_t n, uint32_t tx, uint32_t rx, uint8_t *out)
{
	return uart_resample(in, n, tx, rx, out, 64);
}

static void uart_by_hand(void **state)
{
	(void)state;
	uint8_t out[64];
	/* Sent bits are numbered from the start bit of the first byte: byte k holds bits 10k
	 * (start 0), 10k+1..10k+8 (data, LSB first), 10k+9 (stop 1); the line idles at 1 after.
	 * A receiver at rx samples bit i of its frame at (i + 0.5) * tx / rx sent bits after the
	 * falling edge. */

	/* 0x00 at 9600 read at 4800: one received bit = 2 sent bits, samples at sent bit
	 * 1 (start), 3, 5, 7, 9, 11, 13, 15, 17 (data), 19 (stop). Bits 0..8 are 0, bit 9 (stop)
	 * and everything after are 1: data 0,0,0,1,1,1,1,1 = 0xF8, stop 1: kept. */
	static const uint8_t zero[] = { 0x00 }, zeros[] = { 0x00, 0x00 };
	assert_int_equal(resample(zero, 1, 9600, 4800, out), 1);
	assert_int_equal(out[0], 0xF8);
	/* Two: bits 10..18 are 0 too, so only the sample at 9 (the first stop bit) reads 1:
	 * data 0,0,0,1,0,0,0,0 = 0x08, stop at 19 reads 1: kept; no edge after 19: one byte. */
	assert_int_equal(resample(zeros, 2, 9600, 4800, out), 1);
	assert_int_equal(out[0], 0x08);

	/* 0xFF at 9600 read at 19200: samples every half sent bit, at 0.25 (start), 0.75, 1.25,
	 * ..., 4.25 (data), 4.75 (stop). Bit 0 (start) is 0, bits 1..9 are 1: data 0,1,1,1,1,
	 * 1,1,1 = 0xFE, stop 1: kept. */
	static const uint8_t ff[] = { 0xFF };
	assert_int_equal(resample(ff, 1, 9600, 19200, out), 1);
	assert_int_equal(out[0], 0xFE);
	/* 0x00 at double rate: all samples up to 4.75 read 0, the stop too: framing error, and
	 * the only later edge (bit 10 of a second byte) ends the same way: nothing heard. */
	assert_int_equal(resample(zero, 1, 9600, 19200, out), 0);
	assert_int_equal(resample(zeros, 2, 9600, 19200, out), 0);
	/* 0x55 at double rate: the line is 0,1,0,1,0,1,0,1,0,1 (bits 0..9). From the edge at 0:
	 * data at 0.75, 1.25, ..., 4.25 = bits 0,1,1,2,2,3,3,4 = 0,1,1,0,0,1,1,0; stop at 4.75 =
	 * bit 4 = 0: lost. The hunt resumes after 4.75: the first 1 -> 0 edge is at 6 (bit 5 = 1,
	 * bit 6 = 0). Data at 6.75 .. 10.25 = bits 6,7,7,8,8,9,9,10 = 0,1,1,0,0,1,1,1 = 0xE6,
	 * stop at 10.75 = idle 1: kept. */
	static const uint8_t x55[] = { 0x55 };
	assert_int_equal(resample(x55, 1, 9600, 19200, out), 1);
	assert_int_equal(out[0], 0xE6);

	/* 19200 sent, read at 9600: samples at sent bits 1, 3, ..., 17, stop 19.
	 * 0x0F: bits 1..4 are 1, 5..8 are 0, 9 on are 1: data at 3,5,7,9,11,13,15,17 =
	 * 1,0,0,1,1,1,1,1 = 0xF9, stop 1: kept. 0x55: bits 3,5,7,9 are 1 and beyond the byte
	 * the line idles: 0xFF. */
	static const uint8_t x0f[] = { 0x0F };
	assert_int_equal(resample(x0f, 1, 19200, 9600, out), 1);
	assert_int_equal(out[0], 0xF9);
	assert_int_equal(resample(x55, 1, 19200, 9600, out), 1);
	assert_int_equal(out[0], 0xFF);

	/* A whole frame at 9600 heard at 19200: something else, and the same every time. */
	uint8_t again[64];
	size_t n = resample(cells_frame, CELLS_N, 9600, 19200, out);
	assert_false(n == CELLS_N && memcmp(out, cells_frame, n) == 0);
	assert_int_equal(resample(cells_frame, CELLS_N, 9600, 19200, again), n);
	assert_memory_equal(out, again, n);
	n = resample(cells_frame, CELLS_N, 19200, 9600, out);
	assert_true(n < CELLS_N);              /* a slow receiver loses bytes it cannot frame */
	assert_int_equal(resample(cells_frame, CELLS_N, 19200, 9600, again), n);
	assert_memory_equal(out, again, n);
}

static void uart_stops_at_the_cap(void **state)
{
	(void)state;
	uint8_t out[64];
	/* A fast receiver on 0x55 bytes: several frames per sent byte at 8x. */
	static const uint8_t x55[8] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
	size_t all = uart_resample(x55, sizeof x55, 9600, 76800, out, sizeof out);
	assert_true(all > 0);
	for (size_t cap = 0; cap <= all; cap++) {
		memset(out, 0xA5, sizeof out);
		assert_int_equal(uart_resample(x55, sizeof x55, 9600, 76800, out, cap),
		                 cap < all ? cap : all);
		for (size_t i = cap; i < sizeof out; i++)
			assert_int_equal(out[i], 0xA5);
	}
	memset(out, 0xA5, sizeof out);
	assert_int_equal(uart_resample(x55, sizeof x55, 9600, 9600, out, 3), 3);
	assert_int_equal(out[3], 0xA5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_follow_the_enum),
		cmocka_unit_test(mute_dut_loses_requests_only),
		cmocka_unit_test(init_set_clear),
		cmocka_unit_test(no_reply_loses_it_first),
		cmocka_unit_test(late_reply_only_delays),
		cmocka_unit_test(corrupt_flips_one_bit_in_the_middle),
		cmocka_unit_test(truncate_keeps_the_head),
		cmocka_unit_test(oversize_starts_a_frame_then_overflows),
		cmocka_unit_test(garbage_comes_first_and_follows_the_seed),
		cmocka_unit_test(drop_bytes_loses_some),
		cmocka_unit_test(dup_bytes_repeats_some),
		cmocka_unit_test(rate_zero_never_hits),
		cmocka_unit_test(rate_half_hits_about_half_reproducibly),
		cmocka_unit_test(faults_compose_in_enum_order),
		cmocka_unit_test(the_cap_is_never_passed),
		cmocka_unit_test(baud_mismatch_both_ways),
		cmocka_unit_test(uart_equal_rates_give_the_bytes_back),
		cmocka_unit_test(uart_by_hand),
		cmocka_unit_test(uart_stops_at_the_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
