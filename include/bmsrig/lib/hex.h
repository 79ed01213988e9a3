/*
 * Hex text to bytes, as people paste frames: digits in any case, optionally separated by
 * spaces, colons or commas, with or without 0x prefixes ("DD A5 03", dd:a5:03, 0xDD,0xA5).
 * bmsdecode's reader, here so that a fuzz target links the very parser the tool runs.
 */
#ifndef BMSRIG_LIB_HEX_H
#define BMSRIG_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The NUL-terminated s into out[0..cap), *n bytes. NULL on success, else why (a constant
 * string, e.g. "not valid hex: odd number of digits"); *n is then what was read so far. */
const char *host_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *n);

#endif
