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
#include <stdlib.h>
#include <string.h>

#include "bmsrig/jk.h"
#include "bmsrig/jk_client.h"
#include "bmsrig/jk_json.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct jk_rx rx;
	uint32_t gap_ms;
	size_t fed, framed;
};

static void check_frame(const struct jk_frame *f)
{
	struct jk_data d;
	struct pack_state s;

	CHECK(f->len >= 1 && f->len <= JK_INFO_MAX);
	CHECK(jk_frame_check(f) == RIG_OK);
	if (jk_data_decode(f, &d) == RIG_OK && jk_to_pack_state(&d, &s) == RIG_OK)
		CHECK(s.cell_count >= 1 && s.cell_count <= PACK_CELLS_MAX && s.temp_count <= 2);
}

static void drain(struct run *r)
{
	struct jk_frame f;

	while (jk_rx_next(&r->rx, &f) == RIG_OK) {
		r->framed += (size_t)f.len + JK_OVERHEAD;
		check_frame(&f);
	}
	CHECK(r->rx.have <= JK_FRAME_MAX);
	CHECK(r->rx.gap_ms == r->gap_ms);              /* the field after buf: an overrun shows */
	CHECK(r->fed == r->framed + r->rx.skipped_bytes + r->rx.have);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	uint32_t x, now = 0;
	uint8_t ctl;
	size_t max_piece;

	if (size == 0)
		return 0;
	ctl = data[0];
	data++;
	size--;
	memset(&r, 0, sizeof r);
	r.gap_ms = (ctl & 0x80u) ? 40u : 0u;
	jk_rx_init(&r.rx, r.gap_ms);
	max_piece = 1u + (ctl & 0x3Fu);
	x = 0x9E3779B9u ^ ctl;
	while (size) {
		size_t piece = 1u + xorshift(&x) % max_piece;
		int idle = 0;

		if (piece > size)
			piece = size;
		now += (ctl & 0x40u) ? xorshift(&x) % 64u : 1u;
		while (piece) {
			size_t took = jk_rx_feed(&r.rx, data, piece, now);

			CHECK(took <= piece);
			idle = took ? 0 : idle + 1;
			CHECK(idle < 2);
			data += took;
			size -= took;
			piece -= took;
			r.fed += took;
			drain(&r);
		}
	}
	return 0;
}
