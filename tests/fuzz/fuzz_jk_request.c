/*
 * libFuzzer: the input as one JK "4E 57" frame of wire bytes, through rig_jk_frame_parse,
 * jk_wire_json, the request-side decoder (rig_jk_write_decode) and, for every frame it accepts,
 * jk_frame_check (parse -> encode gives the input; the JSON prints as valid UTF-8, parses
 * back equal and says "error" exactly when the typed rebuild fails; the rebuild gives the
 * input). Mutations rarely keep a checksum right, so the input is also framed afresh as a
 * request (info = the input from byte 11 on, command word from byte 8, length, end byte and
 * checksum by the encoder): that one must parse, and reaches the write decoder.
 * abort() on any broken promise.
 * Seeds: tests/fuzz/corpus/fuzz_jk_request/ (captured requests and docs/protocols/jk.md §4.1 writes).
 */
#include <stddef.h>
#include <stdint.h>

#include "bmsrig/core/jk.h"
#include "jk_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_write(const struct jk_frame *f)
{
	struct jk_data d;
	const struct jk_id_def *def;

	if (rig_jk_write_decode(f, &d) != RIG_OK)
		return;
	def = rig_jk_id_find(f->info[0]);
	CHECK(def && (def->access & JK_ACC_W) && f->len == 1u + def->width);
	CHECK(d.n_items == 1 && d.order[0] == def->id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jk_check_wire_input(data, size, 1, check_write);
	return 0;
}
