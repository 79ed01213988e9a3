/*
 * libFuzzer: the input as one JK "4E 57" frame of wire bytes, through rig_jk_frame_parse,
 * jk_wire_json and, for every frame it accepts, jk_frame_check (parse -> encode gives the
 * input; the JSON prints as valid UTF-8, parses back equal and says "error" exactly when the
 * typed rebuild fails; the rebuild gives the input) and the client's rig_jk_to_pack_state.
 * Mutations rarely keep a checksum right, so the input is also framed afresh as a reply
 * (info = the input from byte 11 on, command word and type chosen from bytes 8 and 10,
 * length, end byte and checksum by the encoder): that one must parse and reaches the item
 * walk. abort() on any broken promise.
 * Seeds: tests/fuzz/corpus/fuzz_jk_response/ (captured frames).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_client.h"
#include "jk_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_items(const struct jk_frame *f)
{
	struct jk_data d;
	struct pack_state s;

	if (rig_jk_data_decode(f, &d) != RIG_OK)
		return;
	CHECK(d.n_items <= JK_ID_COUNT && d.cell_count <= JK_CELLS_MAX);
	memset(&s, 0xA5, sizeof s);
	if (rig_jk_to_pack_state(&d, &s) == RIG_OK)
		CHECK(s.cell_count >= 1 && s.cell_count <= PACK_CELLS_MAX && s.temp_count <= 2 &&
		      s.soc_pct <= 100 && s.remain_mAh <= s.full_mAh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jk_check_wire_input(data, size, 0, check_items);
	return 0;
}
