/*
 * libFuzzer: the JK "4E 57" receive assembler fed the way links deliver, in pieces with time
 * passing. Input: byte 0 is control, the rest is the byte stream.
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * abort() unless: feed never takes more than offered and never refuses twice running;
 * every stream byte is in exactly one of a delivered frame, skipped_bytes or the buffer,
 * which never exceeds JK_FRAME_MAX; each delivered frame keeps every promise of
 * jk_frame_check, and one whose items decode either fills a sane pack_state or is refused.
 * Seeds: tests/fuzz/corpus/fuzz_jk_rx/ (a control byte, then captured frames, "AT\r\n" and
 * noise).
 */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_client.h"
#include "bmsrig/sim/jk_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct jk_frame *f)
{
	struct jk_data d;
	struct pack_state s;

	CHECK(f->len >= 1 && f->len <= JK_INFO_MAX);
	CHECK(jk_frame_check(f) == RIG_OK);
	if (rig_jk_data_decode(f, &d) == RIG_OK && rig_jk_to_pack_state(&d, &s) == RIG_OK)
		CHECK(s.cell_count >= 1 && s.cell_count <= PACK_CELLS_MAX && s.temp_count <= 2);
}

static void init(void *rx, uint32_t gap_ms)
{
	rig_jk_rx_init(rx, gap_ms);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_jk_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct jk_rx *rx = ctx;
	struct jk_frame f;
	size_t framed = 0;

	while (rig_jk_rx_next(rx, &f) == RIG_OK) {
		framed += (size_t)f.len + JK_OVERHEAD;
		check_frame(&f);
	}
	CHECK(rx->b.have <= JK_FRAME_MAX);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct jk_rx), init, feed, drain };
	struct jk_rx rx;

	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
