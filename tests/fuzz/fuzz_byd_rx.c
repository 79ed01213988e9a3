/*
 * libFuzzer: the BYD PRO 2.5 receive assembler fed the way links deliver, in pieces with time
 * passing (fuzz_rx_run: byte 0 is control, the rest the byte stream). abort() unless: feed never
 * takes more than offered and never refuses twice running; every stream byte is in exactly one
 * of a delivered frame, skipped_bytes or the buffer; each delivered frame encodes to the bytes
 * it came as (size, version, marks and sum included), its JSON prints and parses back equal and
 * says "error" exactly when byd_frame_rebuild fails, a rebuild gives it back, and a record that
 * decodes maps to a pack_state within its arrays or is refused.
 * Seeds: tests/fuzz/corpus/fuzz_byd_rx/ (a control byte, then hand-built frames and noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/byd.h"
#include "bmsrig/sim/byd_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct byd_frame *f)
{
	uint8_t w[BYD_FRAME_MAX], w2[BYD_FRAME_MAX];
	struct byd_frame back, g;
	struct byd_data d;
	struct pack_state s;
	size_t n = 0, n2 = 0;
	cJSON *o;
	rig_rc rc;

	CHECK(rig_byd_frame_encode(f, w, sizeof w, &n) == RIG_OK && n == f->len + BYD_FRAME_OVERHEAD);
	CHECK(rig_byd_frame_parse(w, n, &back) == RIG_OK && back.addr == f->addr && back.cmd == f->cmd &&
	      back.len == f->len && memcmp(back.payload, f->payload, f->len) == 0);
	rc = byd_frame_rebuild(f, &g);
	CHECK(rc == RIG_OK || rc == RIG_ERR_UNSUPPORTED || rc == RIG_ERR_LENGTH);
	if (rc == RIG_OK)
		CHECK(rig_byd_frame_encode(&g, w2, sizeof w2, &n2) == RIG_OK && n2 == n && memcmp(w, w2, n) == 0);
	o = byd_frame_json(f);
	CHECK(o);
	fuzz_check_json_prints(o, 1);
	CHECK(cJSON_HasObjectItem(o, "error") == (rc != RIG_OK));
	cJSON_Delete(o);
	if (rig_byd_data_decode(f, &d) == RIG_OK && rig_byd_to_pack_state(&d, &s) == RIG_OK)
		CHECK(s.cell_count <= BYD_CELLS && s.temp_count == BYD_TEMPS && s.soc_pct <= 100);
}

struct run {
	struct byd_rx rx;
};

static void init(void *ctx, uint32_t gap_ms)
{
	struct run *r = ctx;

	rig_byd_rx_init(&r->rx, gap_ms);
}

static size_t feed(void *ctx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	struct run *r = ctx;

	return rig_byd_rx_feed(&r->rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct run *r = ctx;
	struct byd_frame f;
	size_t framed = 0;

	while (rig_byd_rx_next(&r->rx, &f) == RIG_OK) {
		framed += (size_t)f.len + BYD_FRAME_OVERHEAD;
		check_frame(&f);
	}
	CHECK(r->rx.b.have < BYD_FRAME_MAX);           /* a whole frame never waits */
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
