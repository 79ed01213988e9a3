/*
 * libFuzzer: the Daly receive assembler fed the way links deliver, in pieces with time passing.
 * Input: byte 0 is control, the rest is the byte stream.
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * abort() unless: feed never takes more than offered and never refuses twice running; every
 * stream byte is in exactly one of a delivered frame, skipped_bytes or the buffer, which never
 * holds more than one frame; each delivered frame encodes to bytes that parse back to it, its
 * JSON never says "error", its typed rebuild gives it back (or RIG_ERR_UNSUPPORTED); and the
 * delivered frames of one id, taken as one answer, give daly_answer_json without a crash.
 * Seeds: tests/fuzz/corpus/fuzz_daly_rx/ (a control byte, then captured frames and noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/daly.h"
#include "bmsrig/daly_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP 16u

struct run {
	struct daly_rx rx;
	uint32_t gap_ms;
	size_t fed, framed;
	struct daly_frame kept[KEEP];   /* the last frames, for daly_answer_json */
	size_t n_kept;
};

static void check_frame(const struct daly_frame *f)
{
	uint8_t w[DALY_FRAME_LEN];
	struct daly_frame back, g;
	size_t n = 0;
	cJSON *o;
	rig_rc rc;

	CHECK(daly_frame_encode(f, w, sizeof w, &n) == RIG_OK && n == DALY_FRAME_LEN);
	CHECK(daly_frame_parse(w, n, &back) == RIG_OK && memcmp(&back, f, sizeof back) == 0);
	o = daly_frame_json(f);
	CHECK(o && !cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	rc = daly_frame_rebuild(f, &g);
	CHECK(rc == RIG_OK || rc == RIG_ERR_UNSUPPORTED);
	if (rc == RIG_OK)
		CHECK(memcmp(&g, f, sizeof g) == 0);
}

static void keep(struct run *r, const struct daly_frame *f)
{
	/* A new id or address starts a new answer. */
	if (r->n_kept && (r->kept[0].cmd != f->cmd || r->kept[0].addr != f->addr))
		r->n_kept = 0;
	if (r->n_kept == KEEP) {
		memmove(r->kept, r->kept + 1, (KEEP - 1) * sizeof r->kept[0]);
		r->n_kept--;
	}
	r->kept[r->n_kept++] = *f;
	cJSON_Delete(daly_answer_json(r->kept, r->n_kept));
}

static void drain(struct run *r)
{
	struct daly_frame f;

	while (daly_rx_next(&r->rx, &f) == RIG_OK) {
		r->framed += DALY_FRAME_LEN;
		check_frame(&f);
		keep(r, &f);
	}
	CHECK(r->rx.have < DALY_FRAME_LEN);            /* a whole frame never waits */
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
	static struct run r;
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
	daly_rx_init(&r.rx, r.gap_ms);
	max_piece = 1u + (ctl & 0x3Fu);
	x = 0x9E3779B9u ^ ctl;
	while (size) {
		size_t piece = 1u + xorshift(&x) % max_piece;
		int idle = 0;

		if (piece > size)
			piece = size;
		now += (ctl & 0x40u) ? xorshift(&x) % 64u : 1u;
		while (piece) {
			size_t took = daly_rx_feed(&r.rx, data, piece, now);

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
