/* Checks shared by the JBD fuzz targets (fuzz_jbd_*): every decoder, the JSON view and the
 * typed rebuild of one frame, and the one-frame-of-wire-bytes input of request and response. */
#ifndef BMSRIG_TESTS_FUZZ_JBD_CHECK_H
#define BMSRIG_TESTS_FUZZ_JBD_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "bmsrig/core/jbd.h"
#include "common.h"

int fuzz_jbd_same_frame(const struct jbd_frame *a, const struct jbd_frame *b);

/* Each decoder that accepts f must give back exactly f through its builder. */
void fuzz_jbd_check_request_decoders(const struct jbd_frame *f);
void fuzz_jbd_check_response_decoders(const struct jbd_frame *f);

/*
 * jbd_frame_rebuild on f: the JSON view must have said "error" (has_error) exactly when the
 * rebuild hit a decoder error, and a rebuilt frame must encode to wire[0..n).
 */
void fuzz_jbd_check_rebuild(const struct jbd_frame *f, int has_error, const uint8_t *wire, size_t n);

/*
 * The input as one frame of wire bytes, then a repaired copy of it (fresh start byte, length,
 * checksum and stop byte; with as_request also byte 1 made A5 or 5A), since mutations rarely
 * keep a checksum right. An accepted frame must survive parse -> encode, the JSON view and
 * the rebuild, then goes to check_decoders. The repaired copy must parse.
 */
void fuzz_jbd_check_wire_input(const uint8_t *data, size_t size, int as_request,
			   void (*check_decoders)(const struct jbd_frame *f));

#endif
