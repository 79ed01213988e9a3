/*
 * libFuzzer: the input as text through host_hex_parse, bmsdecode's reader of pasted frames.
 * abort() unless it stays inside its buffer, an error is one of its short reasons, and what it
 * accepts comes back the same when written as "XX XX ..." (and as "0xXX,0xXX") and read again.
 * Seeds: tests/fuzz/corpus/fuzz_hex/ (frames written the ways docs/bmsdecode.md shows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bmsrig/lib/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 64u        /* small, so "too many bytes" is reached */

static void reparse(const uint8_t *bytes, size_t n, const char *fmt, size_t width)
{
	char *text = malloc(n * width + 1);
	uint8_t again[CAP + 1];
	size_t m = 0;

	CHECK(text);
	text[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(text + i * width, width + 1, fmt, bytes[i]);
	CHECK(host_hex_parse(text, again, CAP, &m) == NULL && m == n && !memcmp(again, bytes, n));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint8_t out[CAP + 1];
	const char *why;
	size_t n = 0;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	out[CAP] = 0xA5;
	why = host_hex_parse(text, out, CAP, &n);
	CHECK(n <= CAP && out[CAP] == 0xA5);
	if (why) {
		CHECK(!strncmp(why, "not valid hex: ", 15) || !strcmp(why, "too many bytes for one frame"));
	} else {
		CHECK(n >= 1);
		reparse(out, n, "%02X ", 3);
		reparse(out, n, "0x%02x,", 5);
	}
	free(text);
	return 0;
}
