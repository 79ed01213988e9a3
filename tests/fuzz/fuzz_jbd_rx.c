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

#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/jbd_json.h"
#include "jbd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct jbd_frame *f)
{
	uint8_t w[JBD_FRAME_MAX];
	struct jbd_frame back;
	size_t n = 0;
	cJSON *o;
	int has_error;

	CHECK(rig_jbd_frame_encode(f, w, sizeof w, &n) == RIG_OK);
	CHECK(n == (size_t)f->len + JBD_OVERHEAD);
	CHECK(rig_jbd_frame_parse(w, n, &back) == RIG_OK && fuzz_jbd_same_frame(f, &back));

	o = jbd_frame_json(f);
	CHECK(o);
	has_error = cJSON_HasObjectItem(o, "error");
	cJSON_Delete(o);
	fuzz_jbd_check_rebuild(f, has_error, w, n);
	/* The assembler does not know which side it serves, so both sides' decoders get f. */
	fuzz_jbd_check_response_decoders(f);
	fuzz_jbd_check_request_decoders(f);
}

static void init(void *rx, uint32_t gap_ms)
{
	rig_jbd_rx_init(rx, gap_ms);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_jbd_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct jbd_rx *rx = ctx;
	struct jbd_frame f;
	size_t framed = 0;

	while (rig_jbd_rx_next(rx, &f) == RIG_OK) {
		framed += (size_t)f.len + JBD_OVERHEAD;
		check_frame(&f);
	}
	CHECK(rx->b.have <= JBD_FRAME_MAX);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct jbd_rx), init, feed, drain };
	struct jbd_rx rx;

	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
