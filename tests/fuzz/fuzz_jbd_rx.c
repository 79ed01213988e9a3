/*
 * libFuzzer: the receive assembler fed the way links deliver, in pieces with time passing.
 * Input: byte 0 is control, the rest is the byte stream.
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * abort() unless: feed never takes more than offered and never refuses twice running;
 * every stream byte is in exactly one of a delivered frame, skipped_bytes or the buffer,
 * which never exceeds JBD_FRAME_MAX; each delivered frame encodes to bytes that parse back
 * to it, and every decoder run on it either refuses or rebuilds it exactly (as do the JSON
 * view and jbd_frame_rebuild).
 * Seeds: tests/fuzz/corpus/fuzz_jbd_rx/ (a control byte, then captured frames and noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/jbd.h"
#include "bmsrig/jbd_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct jbd_rx rx;
	uint32_t gap_ms;
	size_t fed, framed;
};

static void check_frame(const struct jbd_frame *f)
{
	uint8_t w[JBD_FRAME_MAX];
	struct jbd_frame back;
	size_t n = 0;
	cJSON *o;
	int has_error;

	CHECK(jbd_frame_encode(f, w, sizeof w, &n) == RIG_OK);
	CHECK(n == (size_t)f->len + JBD_OVERHEAD);
	CHECK(jbd_frame_parse(w, n, &back) == RIG_OK && fuzz_same_frame(f, &back));

	o = jbd_frame_json(f);
	CHECK(o);
	has_error = cJSON_HasObjectItem(o, "error");
	cJSON_Delete(o);
	fuzz_check_rebuild(f, has_error, w, n);
	/* The assembler does not know which side it serves, so both sides' decoders get f. */
	fuzz_check_response_decoders(f);
	fuzz_check_request_decoders(f);
}

static void drain(struct run *r)
{
	struct jbd_frame f;

	while (jbd_rx_next(&r->rx, &f) == RIG_OK) {
		r->framed += (size_t)f.len + JBD_OVERHEAD;
		check_frame(&f);
	}
	CHECK(r->rx.have <= JBD_FRAME_MAX);
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
	jbd_rx_init(&r.rx, r.gap_ms);
	max_piece = 1u + (ctl & 0x3Fu);
	x = 0x9E3779B9u ^ ctl;
	while (size) {
		size_t piece = 1u + xorshift(&x) % max_piece;
		int idle = 0;

		if (piece > size)
			piece = size;
		now += (ctl & 0x40u) ? xorshift(&x) % 64u : 1u;
		while (piece) {
			size_t took = jbd_rx_feed(&r.rx, data, piece, now);

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
