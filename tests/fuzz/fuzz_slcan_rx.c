/*
 * libFuzzer: the slcan line assembler fed the way links deliver, in pieces with time passing
 * (fuzz_rx_run: byte 0 is control, the rest the stream). abort() unless every stream byte is in
 * exactly one of a delivered line, skipped_bytes or the buffer (at most SLCAN_LINE_MAX); each
 * delivered frame line encodes back to a line that parses to the same frame; a command's
 * argument is printable and NUL-terminated; and the Pylontech view of every frame prints.
 * Seeds: tests/fuzz/corpus/fuzz_slcan_rx/ (python-can's opening, the emulator's set, noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/slcan.h"
#include "bmsrig/sim/pylon_can_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const struct slcan_line *l)
{
	uint8_t w[SLCAN_LINE_MAX];
	struct slcan_line back;
	size_t n = 0;
	cJSON *o;

	CHECK(l->len >= 1 && l->len <= SLCAN_LINE_MAX);
	switch (l->kind) {
	case SLCAN_FRAME:
		CHECK(l->frame.dlc <= 8);
		for (unsigned i = l->frame.dlc; i < 8; i++)
			CHECK(l->frame.data[i] == 0);
		CHECK(rig_slcan_frame_encode(&l->frame, w, sizeof w, &n) == RIG_OK);
		CHECK(n == l->len && w[n - 1] == SLCAN_CR);
		CHECK(rig_slcan_parse(w, n - 1, SLCAN_CR, &back) == RIG_OK);
		CHECK(back.kind == SLCAN_FRAME && !memcmp(&back.frame, &l->frame, sizeof back.frame));
		o = pylon_can_frame_json(&l->frame);
		CHECK(o);
		fuzz_check_json_prints(o, 0);
		cJSON_Delete(o);
		break;
	case SLCAN_COMMAND:
		CHECK(l->arg_len == l->len - 2u && l->arg[l->arg_len] == '\0' && strlen(l->arg) == l->arg_len);
		for (unsigned i = 0; i < l->arg_len; i++)
			CHECK(l->arg[i] >= 0x20 && l->arg[i] <= 0x7E);
		CHECK(l->cmd != 't' && l->cmd != 'T');
		break;
	case SLCAN_ACK:
		CHECK(l->len <= 2);
		break;
	default:
		CHECK(l->kind == SLCAN_ERROR && l->len == 1);
		break;
	}
}

static void init(void *rx, uint32_t gap_ms)
{
	rig_slcan_rx_init(rx, gap_ms);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_slcan_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct slcan_rx *rx = ctx;
	struct slcan_line l;
	size_t framed = 0;

	while (rig_slcan_rx_next(rx, &l) == RIG_OK) {
		framed += l.len;
		check_line(&l);
	}
	CHECK(rx->b.have <= SLCAN_LINE_MAX);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct slcan_rx), init, feed, drain };
	struct slcan_rx rx;

	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
