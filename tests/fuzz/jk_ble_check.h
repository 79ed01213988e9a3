/*
 * Checks shared by the JK BLE fuzz targets (fuzz_jk_ble_*).
 *
 * fuzz_jk_ble_check_frame(w, n): any bytes as one frame. abort() unless
 *   - jk_ble_wire_json gives an object that prints as valid UTF-8 and parses back equal, with
 *     "kind" exactly when the bytes are a frame and "error" exactly when jk_ble_wire_rebuild
 *     hits a decoder error (RIG_ERR_UNSUPPORTED, a type with no decoder, is not one);
 *   - a rebuild that succeeds gives the input back byte for byte;
 *   - a command parses and encodes back to itself;
 *   - a cell-info record that decodes encodes into a fresh record that decodes to the same
 *     struct, and fills a pack_state within its bounds.
 */
#ifndef BMSRIG_TESTS_FUZZ_JK_BLE_CHECK_H
#define BMSRIG_TESTS_FUZZ_JK_BLE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "bmsrig/core/jk_ble.h"
#include "common.h"

void fuzz_jk_ble_check_frame(const uint8_t *w, size_t n);

#endif
