/*
 * libFuzzer: hostile bytes to a line of three Pylontech RS485 modules (the personality through
 * its ops table). Input: byte 0 sets quirks (bit 0 rtn_echo, bit 1 alarm_trailer) and the
 * piece size (bits 2-7), the rest is the line. abort() unless every reply is one well-formed
 * frame (parses, CID1 0x46, a return code in CID2) and only one module answers each request.
 * Seeds: tests/fuzz/corpus/fuzz_pylon_rs485_personality/ (the captured requests, and noise).
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/pylon_rs485_personality.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNITS 3u
static struct model m0[UNITS];
static struct bms b0[UNITS], b[UNITS];
static alignas(max_align_t) unsigned char state[UNITS][PERSONALITY_STATE_MAX];
static unsigned replies;

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	static struct pylon_frame f;

	(void)ctx; (void)delay_ms; (void)parts;
	CHECK(rig_pylon_frame_parse(wire, n, &f) == RIG_OK);
	CHECK(f.cid1 == PYLON_CID1 && (rig_pylon_is_rtn(f.cid2) || (f.cid2 >= 0x61 && f.cid2 <= 0x63)));
	replies++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct personality_ops *ops = &pylon_rs485_personality_ops;
	const struct reply_sink sink = { NULL, sink_send, NULL };
	const struct bms *peers[UNITS];
	char why[160];
	size_t piece, at;
	unsigned i;

	if (size < 1)
		return 0;
	if (!b0[0].set.design_capacity_mAh)
		for (i = 0; i < UNITS; i++) {
			struct model_cfg c;

			model_cfg_defaults(&c);
			c.cells = i == 2 ? 16 : 15;
			c.capacity_Ah = i == 2 ? 100 : 50;
			CHECK(model_init(&m0[i], &c) == RIG_OK && bms_init(&b0[i], &m0[i]) == RIG_OK);
		}
	for (i = 0; i < UNITS; i++) {
		b[i] = b0[i];
		peers[i] = &b[i];
		CHECK(ops->init(state[i], &b[i], 0) == RIG_OK);
		CHECK(ops->set_quirk(state[i], "rtn_echo", data[0] & 1u ? "1" : "0", why, sizeof why) == RIG_OK);
		CHECK(ops->set_quirk(state[i], "alarm_trailer", data[0] & 2u ? "1" : "0", why, sizeof why) == RIG_OK);
	}
	for (i = 0; i < UNITS; i++)
		ops->peers(state[i], peers, UNITS);
	piece = (size_t)(data[0] >> 2) + 1u;
	for (at = 1; at < size; at += piece) {
		size_t n = size - at < piece ? size - at : piece;
		/* A piece holds at most one CR, so at most one request ends in it: one answer. */
		int crs = 0;
		size_t k;

		for (k = 0; k < n; k++)
			crs += data[at + k] == PYLON_EOI;
		replies = 0;
		for (i = 0; i < UNITS; i++)
			ops->rx(state[i], data + at, n, (uint32_t)at, &sink);
		CHECK(replies <= (unsigned)crs);
	}
	return 0;
}
