/*
 * libFuzzer: the JK BLE assembler fed the way a BLE link delivers, in pieces with time passing.
 * Input: byte 0 is control, the rest is the byte stream.
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * abort() unless: feed never takes more than offered and never refuses twice running; every
 * stream byte is in exactly one of a delivered frame, skipped_bytes or the buffer, which never
 * exceeds a record; each delivered frame is 20 or 300 bytes with a right sum8 and passes the
 * checks of jk_ble_check.h.
 * Seeds: tests/fuzz/corpus/fuzz_jk_ble_rx/ (a control byte, then captured traffic and noise).
 */
#include <stdint.h>

#include "jk_ble_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init(void *rx, uint32_t gap_ms)
{
	rig_jk_ble_rx_init(rx, gap_ms);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_jk_ble_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct jk_ble_rx *rx = ctx;
	const uint8_t *w;
	size_t n, framed = 0;

	while (rig_jk_ble_rx_next(rx, &w, &n) == RIG_OK) {
		CHECK(n == JK_BLE_CMD_LEN || n == JK_BLE_RECORD_LEN);
		CHECK(rig_jk_ble_sum8(w, n - 1) == w[n - 1]);
		framed += n;
		fuzz_jk_ble_check_frame(w, n);
	}
	CHECK(rx->b.have <= JK_BLE_RECORD_LEN && rx->out == 0);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct jk_ble_rx), init, feed, drain };
	struct jk_ble_rx rx;

	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
