/*
 * libFuzzer: the input as one frame of wire bytes, through rig_jbd_frame_parse, the response-side
 * decoders, jbd_frame_json and jbd_frame_rebuild. Besides not crashing, every accepted frame
 * must survive its round trips (abort() otherwise):
 *   parse -> encode gives the input; decode -> encode gives the frame; the typed rebuild
 *   gives the input; the JSON prints as valid UTF-8 and parses back equal, and says "error"
 *   exactly when the rebuild hit a decoder error.
 * Mutations rarely keep a checksum right, so a repaired copy of each input (fresh length,
 * checksum and stop byte) is checked too: that one must parse, and reaches the decoders.
 * Seeds: tests/fuzz/corpus/fuzz_jbd_response/ (captured frames).
 */
#include <stddef.h>
#include <stdint.h>

#include "jbd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jbd_check_wire_input(data, size, 0, fuzz_jbd_check_response_decoders);
	return 0;
}
