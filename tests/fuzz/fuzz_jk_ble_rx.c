/*
 * libFuzzer: the JK BLE assembler fed the way a BLE link delivers, in pieces with time passing.
 * Input: byte 0 is control, the rest is the byte stream.
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * abort() unless: feed never takes more than offered and never refuses twice running; every
 * stream byte is in exactly one of a delivered frame, skipped_bytes or the buffer, which never
 * exceeds a record; each delivered frame is 20 or 300 bytes with a right sum8 and passes the
 * checks of fuzz_jk_ble_check.h.
 * Seeds: tests/fuzz/corpus/fuzz_jk_ble_rx/ (a control byte, then captured traffic and noise).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_jk_ble_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct jk_ble_rx rx;
	uint32_t gap_ms;
	size_t fed, framed;
};

static void drain(struct run *r)
{
	const uint8_t *w;
	size_t n;

	while (jk_ble_rx_next(&r->rx, &w, &n) == RIG_OK) {
		JK_CHECK(n == JK_BLE_CMD_LEN || n == JK_BLE_RECORD_LEN);
		JK_CHECK(jk_ble_sum8(w, n - 1) == w[n - 1]);
		r->framed += n;
		jk_fuzz_frame(w, n);
	}
	JK_CHECK(r->rx.have <= JK_BLE_RECORD_LEN && r->rx.out == 0);
	JK_CHECK(r->rx.gap_ms == r->gap_ms);          /* a field after buf: an overrun shows */
	JK_CHECK(r->fed == r->framed + r->rx.skipped_bytes + r->rx.have);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	uint32_t x, now = 0;
	uint8_t ctl;
	size_t max_piece;

	if (size == 0)
		return 0;
	ctl = data[0];
	data++;
	size--;
	memset(&r, 0, sizeof r);
	r.gap_ms = (ctl & 0x80u) ? 40u : 0u;
	jk_ble_rx_init(&r.rx, r.gap_ms);
	max_piece = 1u + (ctl & 0x3Fu);
	x = 0x9E3779B9u ^ ctl;
	while (size) {
		size_t piece = 1u + xorshift(&x) % max_piece;
		int idle = 0;

		if (piece > size)
			piece = size;
		now += (ctl & 0x40u) ? xorshift(&x) % 64u : 1u;
		while (piece) {
			size_t took = jk_ble_rx_feed(&r.rx, data, piece, now);

			JK_CHECK(took <= piece);
			idle = took ? 0 : idle + 1;
			JK_CHECK(idle < 2);
			data += took;
			size -= took;
			piece -= took;
			r.fed += took;
			drain(&r);
		}
	}
	return 0;
}
