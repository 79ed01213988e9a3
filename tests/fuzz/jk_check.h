/* Checks shared by the JK "4E 57" fuzz targets (fuzz_jk_request, fuzz_jk_response). */
#ifndef BMSRIG_TESTS_FUZZ_JK_CHECK_H
#define BMSRIG_TESTS_FUZZ_JK_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "bmsrig/core/jk.h"
#include "common.h"

/*
 * The input as one frame of wire bytes through rig_jk_frame_parse and jk_wire_json ("kind" exactly
 * when it parses, "error" when it does not); a frame that parses keeps every promise of
 * jk_frame_check, then goes to check_frame. Then, since mutations rarely keep a checksum
 * right, the input framed afresh by the encoder (info = the input from byte 11 on; command
 * word from byte 8, source byte 9; type REQUEST with as_request, else REPLY or UPLOAD by bit 0
 * of byte 10), which must parse. abort() on any broken promise.
 */
void fuzz_jk_check_wire_input(const uint8_t *data, size_t size, int as_request,
			      void (*check_frame)(const struct jk_frame *f));

#endif
