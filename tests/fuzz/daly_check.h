/* Checks shared by the Daly one-frame fuzz targets (fuzz_daly_request, fuzz_daly_response). */
#ifndef BMSRIG_TESTS_FUZZ_DALY_CHECK_H
#define BMSRIG_TESTS_FUZZ_DALY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/daly.h"
#include "common.h"

/* A JSON view of frames that parsed: it exists, says no "error", and prints and parses back
 * equal. Deletes o. */
void fuzz_daly_check_json(cJSON *o);

/* f, parsed from wire[0..DALY_FRAME_LEN): encodes to wire, parses back to itself, and its
 * daly_frame_json passes fuzz_daly_check_json. */
void fuzz_daly_check_parsed(const struct daly_frame *f, const uint8_t *wire);

/*
 * The input as one frame of wire bytes: check(f, data) when it parses. Then, since mutations
 * rarely keep a checksum right, a repaired copy (A5, length 8, fresh checksum; the address
 * made a host's (>= 0x20) with as_request, a board's (< 0x20) without) must parse as that
 * side's frame, and goes to check too.
 */
void fuzz_daly_check_wire_input(const uint8_t *data, size_t size, int as_request,
				void (*check)(const struct daly_frame *f, const uint8_t *wire));

#endif
