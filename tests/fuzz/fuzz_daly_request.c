/*
 * libFuzzer: the input as one Daly frame of wire bytes, through rig_daly_frame_parse, the request
 * side (rig_daly_request_fill, the 0xD9/0xDA and 0x21 decoders), daly_frame_json and
 * daly_frame_rebuild. Besides not crashing, every accepted frame must survive its round trips
 * (abort() otherwise): parse -> encode gives the input; the typed rebuild gives the input or
 * says RIG_ERR_UNSUPPORTED (a read whose data bytes are not one fill byte); the JSON prints
 * and parses back equal and never says "error" for a frame that parsed.
 * Mutations rarely keep a checksum right, so a repaired copy of each input (A5, a host address
 * >= 0x20, length 8, fresh checksum) is checked too: that one must parse as a request.
 * Seeds: tests/fuzz/corpus/fuzz_daly_request/ (captured requests).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/sim/daly_json.h"
#include "daly_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct daly_frame *f, const uint8_t *wire)
{
	uint8_t w[DALY_FRAME_LEN];
	struct daly_frame g;
	struct daly_soc_set s;
	struct daly_flag v;
	size_t n = 0;
	rig_rc rc;

	fuzz_daly_check_parsed(f, wire);
	rc = daly_frame_rebuild(f, &g);
	CHECK(rc == RIG_OK || rc == RIG_ERR_UNSUPPORTED);
	if (rc == RIG_OK) {
		CHECK(rig_daly_frame_encode(&g, w, sizeof w, &n) == RIG_OK);
		CHECK(memcmp(w, wire, DALY_FRAME_LEN) == 0);
	}
	/* Each request decoder either refuses or gives the frame back through its builder. */
	if (rig_daly_flag_decode(f, &v) == RIG_OK) {
		rig_daly_flag_encode(&g, f->addr, f->cmd, &v);
		CHECK(memcmp(&g, f, sizeof g) == 0);
	}
	if (rig_daly_soc_set_decode(f, &s) == RIG_OK) {
		CHECK(rig_daly_soc_set_encode(&g, f->addr, &s) == RIG_OK);
		CHECK(memcmp(&g, f, sizeof g) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_daly_check_wire_input(data, size, 1, check_frame);
	return 0;
}
