/*
 * The receive assembler (jbd_rx) against what serial links and BLE really deliver (docs/protocols/jbd.md §2.5,
 * §12): frames in arbitrary pieces, noise, corrupted and truncated frames, stalls, trailing
 * CALLBACK_ID bytes, the largest frame, and a long run of random bytes.
 * Every test also checks the byte accounting: each byte fed ends up in exactly one of a
 * delivered frame, skipped_bytes or the buffer, so nothing is lost or counted twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jbd.h"
#include "fake_io.h"

#define F1_BASIC "DD 03 00 1D 06 18 00 00 01 F2 01 F4 00 00 2C 7C 00 00 00 00 00 00 80 64 03 04 03 " \
		 "0B 8B 0B 8A 0B 84 FA 8D 77"
#define F2_CELLS "DD 04 00 08 0F 45 0F 3D 0F 37 0F 3D FE C6 77"
#define F3_MODEL "DD 05 00 19 4A 42 44 2D 53 50 30 34 53 30 33 34 2D 4C 34 53 2D 32 30 30 41 2D 42 2D " \
		 "55 FA 08 77"
#define READ_BASIC "DD A5 03 00 FF FD 77"

#define MAX_FRAMES 128

struct bytes {
	uint8_t b[4096];
	size_t n;
};

/* The receiving side: an assembler and what came out of it. */
struct sink {
	struct jbd_rx rx;
	struct jbd_frame f[MAX_FRAMES];
	size_t frames;
	size_t fed, framed;         /* bytes fed, bytes of delivered frames */
	uint32_t gap_ms;
};

static struct bytes hex(const char *h)
{
	struct bytes b;

	b.n = hex_to_bytes(h, b.b, sizeof b.b);
	return b;
}

static void cat(struct bytes *b, const char *h)
{
	b->n += hex_to_bytes(h, b->b + b->n, sizeof b->b - b->n);
}

static void sink_init(struct sink *s, uint32_t gap_ms)
{
	memset(s, 0, sizeof *s);
	rig_jbd_rx_init(&s->rx, gap_ms);
	s->gap_ms = gap_ms;
}

static void check_accounting(const struct sink *s)
{
	assert_true(s->rx.b.have <= JBD_FRAME_MAX);
	assert_int_equal(s->rx.b.gap_ms, s->gap_ms);   /* the field after buf: an overrun shows */
	assert_int_equal(s->fed, s->framed + s->rx.b.skipped_bytes + s->rx.b.have);
}

/* Feeds p[0..n-1] the way the API asks: feed, drain, feed the rest. */
static void feed(struct sink *s, const uint8_t *p, size_t n, uint32_t now_ms)
{
	int idle = 0;

	do {
		size_t took = rig_jbd_rx_feed(&s->rx, p, n, now_ms);
		struct jbd_frame f;

		assert_true(took <= n);
		/* Drained, the assembler always has room again: taking nothing twice would spin. */
		idle = took ? 0 : idle + 1;
		assert_true(n == 0 || idle < 2);
		p += took;
		n -= took;
		s->fed += took;
		while (rig_jbd_rx_next(&s->rx, &f) == RIG_OK) {
			assert_true(s->frames < MAX_FRAMES);
			s->f[s->frames++] = f;
			s->framed += (size_t)f.len + JBD_OVERHEAD;
		}
		check_accounting(s);
	} while (n);
}

static void feed_hex(struct sink *s, const char *h, uint32_t now_ms)
{
	struct bytes b = hex(h);

	feed(s, b.b, b.n, now_ms);
}

static void assert_frame(const struct jbd_frame *f, const char *h)
{
	struct bytes want = hex(h);
	uint8_t got[JBD_FRAME_MAX];
	size_t n = 0;

	assert_int_equal(rig_jbd_frame_encode(f, got, sizeof got, &n), RIG_OK);
	assert_int_equal(n, want.n);
	assert_memory_equal(got, want.b, n);
}

/* ---- pieces ------------------------------------------------------------------------------ */

static void test_every_split_into_two(void **state)
{
	static const char *const frames[] = { F1_BASIC, F2_CELLS, READ_BASIC };

	(void)state;
	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		struct bytes b = hex(frames[i]);

		for (size_t k = 1; k < b.n; k++) {
			struct sink s;

			sink_init(&s, 0);
			feed(&s, b.b, k, 0);
			assert_int_equal(s.frames, 0);
			feed(&s, b.b + k, b.n - k, 0);
			assert_int_equal(s.frames, 1);
			assert_frame(&s.f[0], frames[i]);
			assert_int_equal(s.rx.b.have, 0);
		}
	}
}

static void test_byte_by_byte(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	sink_init(&s, 200);
	for (size_t k = 0; k < b.n; k++) {
		assert_int_equal(s.frames, 0);
		feed(&s, b.b + k, 1, (uint32_t)k);    /* 1 ms per byte, as at 9600 baud */
	}
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F1_BASIC);
	assert_int_equal(s.rx.b.skipped_bytes, 0);
	assert_int_equal(s.rx.b.rejected_frames, 0);
}

static void test_two_frames_in_one_feed(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	cat(&b, F2_CELLS);
	sink_init(&s, 0);
	feed(&s, b.b, b.n, 0);
	assert_int_equal(s.frames, 2);
	assert_frame(&s.f[0], F1_BASIC);
	assert_frame(&s.f[1], F2_CELLS);
}

/* ---- noise ------------------------------------------------------------------------------- */

static void test_leading_garbage(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed_hex(&s, "00 FF 77 A5 03 00 12", 0);
	feed_hex(&s, F2_CELLS, 0);
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F2_CELLS);
	assert_int_equal(s.rx.b.skipped_bytes, 7);
	assert_int_equal(s.rx.b.rejected_frames, 0);
}

static void test_garbage_containing_dd(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	/* "DD 11 22 00" announces a 7-byte frame and swallows the real one's first 2 bytes. */
	feed_hex(&s, "01 DD 11 22 00 33", 0);
	feed_hex(&s, READ_BASIC, 0);
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], READ_BASIC);
	assert_int_equal(s.rx.b.rejected_frames, 1);
	assert_int_equal(s.rx.b.skipped_bytes, 6);
}

/* A false start announcing 255 data bytes holds real frames until 262 bytes are in: then the
 * rescan must hand every one of them back, not lose those it had already swallowed. */
static void test_false_start_gives_frames_back(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed_hex(&s, "DD 00 00 FF", 0);
	for (int i = 0; i < 40; i++)
		feed_hex(&s, READ_BASIC, 0);
	assert_int_equal(s.frames, 40);
	for (int i = 0; i < 40; i++)
		assert_frame(&s.f[i], READ_BASIC);
	assert_int_equal(s.rx.b.rejected_frames, 1);
	assert_int_equal(s.rx.b.skipped_bytes, 4);
}

static void test_bad_checksum_then_good(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed_hex(&s, "DD 03 00 1D 06 18 00 00 01 F2 01 F4 00 00 2C 7C 00 00 00 00 00 00 80 64 03 04 03 "
		      "0B 8B 0B 8A 0B 84 FA 8E 77", 0);
	feed_hex(&s, F2_CELLS, 0);
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F2_CELLS);
	assert_int_equal(s.rx.b.rejected_frames, 1);
	assert_int_equal(s.rx.b.skipped_bytes, 36);
}

static void test_bad_stop_then_good(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed_hex(&s, "DD 04 00 08 0F 45 0F 3D 0F 37 0F 3D FE C6 78", 0);
	feed_hex(&s, F1_BASIC, 0);
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F1_BASIC);
	assert_int_equal(s.rx.b.rejected_frames, 1);
}

/* Without a timeout the truncated frame's length claims the next bytes; its checksum then
 * fails and the rescan finds the complete frames inside. */
static void test_truncated_then_complete(void **state)
{
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed_hex(&s, "DD 03 00 1D 06 18 00", 0);       /* docs/protocols/jbd.md §12: a read cut after 7 bytes */
	feed_hex(&s, F2_CELLS, 0);
	feed_hex(&s, F3_MODEL, 0);
	assert_int_equal(s.frames, 2);
	assert_frame(&s.f[0], F2_CELLS);
	assert_frame(&s.f[1], F3_MODEL);
	assert_int_equal(s.rx.b.rejected_frames, 1);
	assert_int_equal(s.rx.b.skipped_bytes, 7);
}

/* ---- stalls ------------------------------------------------------------------------------- */

static void test_gap_drops_partial_frame(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	sink_init(&s, 100);
	feed(&s, b.b, 7, 1000);
	feed_hex(&s, F2_CELLS, 1101);                  /* 101 ms of silence > gap_ms */
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F2_CELLS);
	assert_int_equal(s.rx.b.skipped_bytes, 7);
	assert_int_equal(s.rx.b.rejected_frames, 0);
}

static void test_gap_is_between_bytes_not_per_frame(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	sink_init(&s, 100);
	/* 36 bytes 100 ms apart: 3.5 s for the frame, yet never a gap longer than allowed. */
	for (size_t k = 0; k < b.n; k++)
		feed(&s, b.b + k, 1, (uint32_t)(100 * k));
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F1_BASIC);
}

static void test_gap_zero_never_drops(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	sink_init(&s, 0);
	feed(&s, b.b, 7, 0);
	feed(&s, b.b + 7, b.n - 7, 3600000);
	assert_int_equal(s.frames, 1);
	assert_frame(&s.f[0], F1_BASIC);
}

static void test_gap_survives_clock_wrap(void **state)
{
	struct bytes b = hex(F1_BASIC);
	struct sink s;

	(void)state;
	sink_init(&s, 100);
	feed(&s, b.b, 7, UINT32_MAX - 10);
	feed(&s, b.b + 7, b.n - 7, 20);                 /* 31 ms later across the wrap */
	assert_int_equal(s.frames, 1);
}

/* ---- shapes ------------------------------------------------------------------------------- */

static void test_stray_bytes_after_stop(void **state)
{
	struct sink s;

	(void)state;
	/* A 4-byte CALLBACK_ID after 0x77 (vendor V3+, docs/protocols/jbd.md §2.5) is skipped, not a frame. */
	sink_init(&s, 0);
	feed_hex(&s, F2_CELLS "01 02 03 04" READ_BASIC, 0);
	assert_int_equal(s.frames, 2);
	assert_frame(&s.f[0], F2_CELLS);
	assert_frame(&s.f[1], READ_BASIC);
	assert_int_equal(s.rx.b.skipped_bytes, 4);
	assert_int_equal(s.rx.b.rejected_frames, 0);

	/* The same with a CALLBACK_ID that starts with DD: a false start, then resync. */
	sink_init(&s, 0);
	feed_hex(&s, F2_CELLS "DD 01 02 03" F1_BASIC, 0);
	assert_int_equal(s.frames, 2);
	assert_frame(&s.f[0], F2_CELLS);
	assert_frame(&s.f[1], F1_BASIC);
}

static void test_largest_frame(void **state)
{
	uint8_t data[JBD_DATA_MAX], wire[JBD_FRAME_MAX];
	struct jbd_frame f;
	struct sink s;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);                 /* every value, 0xDD and 0x77 included */
	assert_int_equal(rig_jbd_request_write(&f, JBD_REG_PARAM_BLOCK, data, JBD_DATA_MAX), RIG_OK);
	assert_int_equal(rig_jbd_frame_encode(&f, wire, sizeof wire, &n), RIG_OK);
	assert_int_equal(n, JBD_FRAME_MAX);

	sink_init(&s, 0);
	for (size_t k = 0; k < n; k++)
		feed(&s, wire + k, 1, 0);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.f[0].len, JBD_DATA_MAX);
	assert_memory_equal(s.f[0].data, data, JBD_DATA_MAX);

	sink_init(&s, 0);
	feed(&s, wire, n, 0);
	feed(&s, wire, n, 0);
	assert_int_equal(s.frames, 2);
}

/* ---- random noise ------------------------------------------------------------------------- */

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void feed_noise(struct sink *s, uint32_t seed, size_t total, uint32_t *now)
{
	uint8_t noise[10240];
	uint32_t x = seed;
	size_t k = 0;

	for (size_t i = 0; i < total; i++)
		noise[i] = (uint8_t)xorshift(&x);
	while (k < total) {
		size_t piece = 1 + xorshift(&x) % 64;

		if (piece > total - k)
			piece = total - k;
		feed(s, noise + k, piece, (*now)++);
		k += piece;
	}
}

static size_t count_frames(const struct sink *s, const char *h)
{
	struct bytes want = hex(h);
	uint8_t got[JBD_FRAME_MAX];
	size_t c = 0, n;

	for (size_t i = 0; i < s->frames; i++)
		if (rig_jbd_frame_encode(&s->f[i], got, sizeof got, &n) == RIG_OK && n == want.n &&
		    memcmp(got, want.b, n) == 0)
			c++;
	return c;
}

static void test_random_noise_then_frame(void **state)
{
	struct sink s;
	uint32_t now = 0;

	(void)state;
	/* With a timeout: the stall before the next request clears whatever the noise left. */
	sink_init(&s, 50);
	feed_noise(&s, 0x1234567u, 10240, &now);
	feed_hex(&s, F1_BASIC, now + 1000);
	assert_int_equal(count_frames(&s, F1_BASIC), 1);

	/* Without one: every frame whole after the noise's last false start still comes out. */
	sink_init(&s, 0);
	now = 0;
	feed_noise(&s, 0x89ABCDEu, 10240, &now);
	s.frames = 0;
	for (int i = 0; i < 100; i++)
		feed_hex(&s, READ_BASIC, now);
	assert_true(count_frames(&s, READ_BASIC) >= 100 - (JBD_FRAME_MAX + 6) / 7);
	assert_int_equal(count_frames(&s, READ_BASIC), s.frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split_into_two),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_two_frames_in_one_feed),
		cmocka_unit_test(test_leading_garbage),
		cmocka_unit_test(test_garbage_containing_dd),
		cmocka_unit_test(test_false_start_gives_frames_back),
		cmocka_unit_test(test_bad_checksum_then_good),
		cmocka_unit_test(test_bad_stop_then_good),
		cmocka_unit_test(test_truncated_then_complete),
		cmocka_unit_test(test_gap_drops_partial_frame),
		cmocka_unit_test(test_gap_is_between_bytes_not_per_frame),
		cmocka_unit_test(test_gap_zero_never_drops),
		cmocka_unit_test(test_gap_survives_clock_wrap),
		cmocka_unit_test(test_stray_bytes_after_stop),
		cmocka_unit_test(test_largest_frame),
		cmocka_unit_test(test_random_noise_then_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
