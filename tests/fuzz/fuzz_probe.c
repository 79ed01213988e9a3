/*
 * libFuzzer: auto-detection's recognisers (firmware/core/probe.c) on hostile bytes. The input
 * is read twice. As a port's bytes: rig_probe_jbd_module_reply must return -1 or the RR of a
 * well-formed FF AA 15 01 RR ck found in them, and must not read past them. As a traffic log
 * for the watch: records of 3 bytes (bit 7 of the first: a request goes out first; the rest
 * of it with the second byte: a piece's size, 0..32767; the third: ms since the last piece),
 * on a baud rate from the first two bytes; the verdict must be one of the three, and UBSan
 * watches the gap and line-time arithmetic.
 * Seeds: tests/fuzz/corpus/fuzz_probe/ (hand-made: the module's answer after junk; a JBD reply
 * as two notifications; Daly frames at line pace).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/core/probe.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes on the heap, so ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1u);
	struct rig_probe_watch w;
	enum rig_probe_link v;
	uint32_t now_ms = 0;
	size_t at = 2;
	int rr;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rr = rig_probe_jbd_module_reply(copy, size);
	CHECK(rr >= -1 && rr <= 0xFF);
	if (rr >= 0) {
		size_t i;
		int found = 0;

		for (i = 0; i + 6u <= size && !found; i++)
			found = copy[i] == 0xFF && copy[i + 1] == 0xAA && copy[i + 2] == 0x15 && copy[i + 3] == 0x01 &&
			        copy[i + 4] == (uint8_t)rr && copy[i + 5] == (uint8_t)(0x16u + (unsigned)rr);
		CHECK(found);
	}
	free(copy);

	rig_probe_watch_init(&w, size >= 2 ? (uint32_t)data[0] << 8 | data[1] : 9600u);
	for (; at + 3u <= size; at += 3u) {
		uint16_t n = (uint16_t)((data[at] & 0x7Fu) << 8 | data[at + 1]);

		if (data[at] & 0x80u)
			rig_probe_watch_request(&w);
		now_ms += data[at + 2];
		rig_probe_watch_read(&w, n, now_ms);
	}
	v = rig_probe_watch_verdict(&w);
	CHECK(v == RIG_PROBE_LINK_UNKNOWN || v == RIG_PROBE_LINK_WIRE || v == RIG_PROBE_LINK_BLE);
	return 0;
}
