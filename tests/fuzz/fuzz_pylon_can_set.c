/*
 * libFuzzer: the Pylontech set decoder on hostile frames. The input is a list of 10-byte
 * records: id low byte (0x300 + it, so the set's ids come up often; bit 7 of byte 1 makes the id
 * 29-bit instead), DLC (byte 1 & 0x0F, 9-15 included), 8 data bytes. All frames decode into one
 * record, as a client collects a set. abort() unless: a frame outside the set, 29-bit or with a
 * DLC over 8 is refused and changes nothing; a refused frame sets no "have" bit and an accepted
 * one sets exactly its own; encoding the record and decoding that again gives the same record
 * (the record is a fixed point after one trip); the JSON view and bmsdecode's text parser
 * agree and print.
 * Seeds: tests/fuzz/corpus/fuzz_pylon_can_set/ (the US5000 capture, the emulator's set).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/pylon_can.h"
#include "bmsrig/sim/pylon_can_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const struct rig_can_frame *f)
{
	uint8_t line[SLCAN_LINE_MAX];
	struct rig_can_frame back;
	size_t n;
	cJSON *o;

	if (f->dlc > 8)
		return;
	CHECK(rig_slcan_frame_encode(f, line, sizeof line, &n) == RIG_OK);
	CHECK(pylon_can_text_parse(line, n, &back) == RIG_OK);
	CHECK(!memcmp(&back, f, sizeof back));
	o = pylon_can_wire_json(line, n);
	CHECK(o && cJSON_HasObjectItem(o, "kind"));
	fuzz_check_json_prints(o, 0);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rig_inv_battery rec, before, again, twice;
	unsigned have = 0;

	memset(&rec, 0, sizeof rec);
	for (size_t at = 0; at + 10 <= size; at += 10) {
		struct rig_can_frame f, enc;
		unsigned had = have, h2 = 0;
		rig_rc rc;

		memset(&f, 0, sizeof f);
		f.id = 0x300u + data[at];
		f.ext = (data[at + 1] & 0x80u) ? 1u : 0u;
		f.dlc = data[at + 1] & 0x0Fu;
		memcpy(f.data, data + at + 2, f.dlc < 8 ? f.dlc : 8u);
		before = rec;
		rc = rig_pylon_can_decode(&f, &rec, &have);
		if (rc != RIG_OK) {
			CHECK(have == had && !memcmp(&before, &rec, sizeof rec));
			CHECK(rc == RIG_ERR_UNSUPPORTED || rc == RIG_ERR_LENGTH);
		} else {
			CHECK(!f.ext && f.dlc <= 8);
			CHECK(__builtin_popcount(have & ~had) <= 1);
			/* One trip through the encoder, then the record is a fixed point. */
			CHECK(rig_pylon_can_encode(f.id, &rec, &enc) == RIG_OK && enc.dlc == 8);
			again = rec;
			CHECK(rig_pylon_can_decode(&enc, &again, &h2) == RIG_OK);
			CHECK(rig_pylon_can_encode(f.id, &again, &enc) == RIG_OK);
			twice = again;
			CHECK(rig_pylon_can_decode(&enc, &twice, &h2) == RIG_OK);
			CHECK(!memcmp(&again, &twice, sizeof again));
		}
		check_text(&f);
	}
	return 0;
}
