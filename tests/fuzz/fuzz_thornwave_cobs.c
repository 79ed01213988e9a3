/*
 * libFuzzer: the newer firmware's notification stream. The input through the COBS splitter
 * (rig_tw_cobs_rx_feed), in pieces: every frame it gives is at most TW_COBS_MAX bytes and
 * COBS-encodes to bytes that decode to it again; a frame that decodes as a monitor frame
 * (51 bytes with family 2, 47 with family 3) encodes back to exactly itself, and its JSON view
 * prints. Also the whole input as one COBS run (rig_cobs_decode) into a small buffer, and as the
 * client's notification stream (rig_thornwave_rx_next_notify): every PDU it gives is a write
 * response, an error, or a notification of the monitor handle with at most 20 value bytes, and
 * every byte fed is in exactly one of a PDU, skipped_bytes or the buffer.
 * Seeds: tests/fuzz/corpus/fuzz_thornwave_cobs/ (the public PowerMon read, 0x00 + COBS + 0x00).
 */
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "bmsrig/core/thornwave.h"
#include "bmsrig/sim/thornwave_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const uint8_t *f, size_t n)
{
	uint8_t enc[2 * TW_COBS_MAX + 2], back[TW_COBS_MAX], mon[TW_MON_LEN];
	struct tw_monitor m;
	size_t e, got;
	cJSON *j;

	CHECK(n >= 1 && n <= TW_COBS_MAX);
	e = rig_cobs_encode(f, n, enc, sizeof enc);
	CHECK(e > n && e <= n + 2u);
	CHECK(memchr(enc, 0, e) == NULL);
	CHECK(rig_cobs_decode(enc, e, back, sizeof back, &got) == RIG_OK);
	CHECK(got == n && !memcmp(back, f, n));
	if (rig_tw_monitor_decode(f, n, &m) != RIG_OK)
		return;
	CHECK(rig_tw_monitor_encode(&m, mon) == n);
	CHECK(!memcmp(mon, f, n));
	j = thornwave_wire_json(enc, e);
	CHECK(j != NULL);
	fuzz_check_json_prints(j, 1);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_cobs_rx rx;
	uint8_t out[TW_COBS_MAX], small[16];
	size_t i = 0, piece = size ? (size_t)(data[0] % 13u) + 1u : 1u, got;

	rig_tw_cobs_rx_init(&rx);
	while (i < size) {
		size_t n = size - i < piece ? size - i : piece, used = rig_tw_cobs_rx_feed(&rx, data + i, n, out, &got);

		CHECK(used >= 1 && used <= n);
		if (got)
			check_frame(out, got);
		CHECK(rx.have <= sizeof rx.buf);
		i += used;
	}
	if (rig_cobs_decode(data, size, small, sizeof small, &got) == RIG_OK)
		CHECK(got <= sizeof small);

	{
		struct thornwave_rx rx2;
		uint8_t pdu[TW_ATT_PDU_MAX];
		struct tw_att a;
		size_t fed = 0, framed = 0;

		rig_thornwave_rx_init(&rx2, 0);
		while (fed < size) {
			size_t took = rig_thornwave_rx_feed(&rx2, data + fed, size - fed, 0);

			fed += took;
			while (rig_thornwave_rx_next_notify(&rx2, pdu, &a) == RIG_OK) {
				if (a.op == TW_ATT_NOTIFY) {
					CHECK(a.handle == TW_MON_HANDLE && a.value_len <= TW_ATT_NOTIFY_DATA);
					framed += 3u + a.value_len;
				} else {
					CHECK(a.op == TW_ATT_WRITE_RSP || a.op == TW_ATT_ERROR_RSP);
					framed += a.op == TW_ATT_WRITE_RSP ? 1u : TW_ATT_ERROR_LEN;
				}
			}
			CHECK(rx2.b.have <= TW_ATT_PDU_MAX);
			CHECK(framed + rx2.b.skipped_bytes + rx2.b.have == fed);
			if (!took)
				break;
		}
	}
	return 0;
}
