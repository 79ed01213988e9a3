/* A scripted byte stream for client tests: what the client wrote, and what it will read. */
#ifndef BMSRIG_TEST_FAKE_IO_H
#define BMSRIG_TEST_FAKE_IO_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/io.h"

struct fake_io {
	uint8_t tx[4096];
	size_t tx_len;
	uint8_t rx[4096];
	size_t rx_len, rx_pos;
	size_t read_max;          /* bytes handed out per read call, 0 = all */
};

struct rig_io fake_io_stream(struct fake_io *f);
void fake_io_queue(struct fake_io *f, const uint8_t *p, size_t n);
/* Queue one frame given as hex text ("DD 03 00 ..."); returns its byte count. */
size_t fake_io_queue_hex(struct fake_io *f, const char *hex);
size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap);
void fake_io_clear_tx(struct fake_io *f);
/* For a cmocka test: what was written since the last clear is exactly the frame(s) given as
 * hex text (at most 64 bytes); clears it. */
void fake_io_assert_sent(struct fake_io *f, const char *hex);

#endif
