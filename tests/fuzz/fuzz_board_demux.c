/*
 * libFuzzer: the input as what a board sends on a port it shares between its BMS link and its
 * console, through dut_board_demux in pieces of a size taken from the first byte. abort()
 * unless every line handed out starts with "BMSRIG", holds no newline, and the bytes passed on
 * plus the bytes in lines never exceed what came in.
 * Seeds: tests/fuzz/corpus/fuzz_board_demux/.
 */
#include <string.h>

#include "common.h"
#include "bmsrig/hil/dut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t line_bytes;

static void on_line(void *ctx, const char *line)
{
	(void)ctx;
	CHECK(!strncmp(line, "BMSRIG", 6));
	CHECK(!strchr(line, '\n'));
	line_bytes += strlen(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dut_spec d;
	struct dut_board *b;
	uint8_t out[256];
	char err[200];
	size_t piece, off, passed = 0;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 64u + 1u;
	data++;
	size--;
	CHECK(dut_spec_parse(&d, "serial:/dev/null,banner_ms=0", err, sizeof err) == RIG_OK);
	CHECK(dut_board_open(&b, &d, NULL, err, sizeof err) == RIG_OK);
	line_bytes = 0;
	for (off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		passed += dut_board_demux(b, data + off, n, out, sizeof out, on_line, NULL);
	}
	CHECK(passed + line_bytes <= size);
	dut_board_close(b);
	return 0;
}
