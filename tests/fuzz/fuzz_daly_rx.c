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

#include "bmsrig/core/daly.h"
#include "bmsrig/sim/daly_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP 16u

struct run {
	struct daly_rx rx;
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

	CHECK(rig_daly_frame_encode(f, w, sizeof w, &n) == RIG_OK && n == DALY_FRAME_LEN);
	CHECK(rig_daly_frame_parse(w, n, &back) == RIG_OK && memcmp(&back, f, sizeof back) == 0);
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

static void init(void *ctx, uint32_t gap_ms)
{
	struct run *r = ctx;

	rig_daly_rx_init(&r->rx, gap_ms);
}

static size_t feed(void *ctx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	struct run *r = ctx;

	return rig_daly_rx_feed(&r->rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct run *r = ctx;
	struct daly_frame f;
	size_t framed = 0;

	while (rig_daly_rx_next(&r->rx, &f) == RIG_OK) {
		framed += DALY_FRAME_LEN;
		check_frame(&f);
		keep(r, &f);
	}
	CHECK(r->rx.b.have < DALY_FRAME_LEN);          /* a whole frame never waits */
	*c = (struct fuzz_rx_counts){ r->rx.b.have, r->rx.b.skipped_bytes, r->rx.b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct run), init, feed, drain };
	static struct run r;

	fuzz_rx_run(data, size, &r, &ops);
	return 0;
}
