/*
 * libFuzzer: the input as one frame of wire bytes, through rig_jbd_frame_parse, the request-side
 * decoders (2-byte register, string write), jbd_frame_json and jbd_frame_rebuild. Besides
 * not crashing, every accepted frame must survive its round trips (abort() otherwise):
 *   parse -> encode gives the input; decode -> encode gives the frame; the typed rebuild
 *   gives the input; the JSON prints as valid UTF-8 and parses back equal, and says "error"
 *   exactly when the rebuild hit a decoder error.
 * Mutations rarely keep a checksum right, so a repaired copy of each input (fresh length,
 * checksum and stop byte, and byte 1 made A5 or 5A) is checked too: that one must parse as a
 * request, and reaches the decoders.
 * Seeds: tests/fuzz/corpus/fuzz_jbd_request/ (captured frames).
 */
#include <stddef.h>
#include <stdint.h>

#include "jbd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jbd_check_wire_input(data, size, 1, fuzz_jbd_check_request_decoders);
	return 0;
}
