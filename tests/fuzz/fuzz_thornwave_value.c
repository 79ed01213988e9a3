/*
 * libFuzzer: the input as the legacy 52-byte value (rig_tw_value_decode; shorter inputs must be
 * refused, longer ones are read for their first 52 bytes). A value that decodes encodes back to
 * exactly its 52 bytes (floats keep their bits), maps into a pack_state with at most one
 * temperature and no cells, and its JSON view prints. Then the same bytes as the client's
 * assembler gets them (rig_thornwave_rx_next), waiting for each piece length in turn: every
 * PDU it gives is a response of that length or a 5-byte error, never more than it was fed.
 * Seeds: tests/fuzz/corpus/fuzz_thornwave_value/ (the three public captures).
 */
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "bmsrig/core/thornwave.h"
#include "bmsrig/sim/thornwave_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_value v;
	struct pack_state s;
	struct thornwave_rx rx;
	struct tw_att a;
	uint8_t out[TW_VALUE_LEN], pdu[TW_ATT_PDU_MAX];
	size_t fed = 0, framed = 0, want = 0;
	rig_rc rc = rig_tw_value_decode(data, size, &v);
	cJSON *j;

	if (size < TW_VALUE_LEN)
		CHECK(rc == RIG_ERR_LENGTH);
	if (rc == RIG_OK) {
		rig_tw_value_encode(&v, out);
		CHECK(!memcmp(out, data, TW_VALUE_LEN));
		rig_tw_to_pack_state(&v, &s);
		CHECK(s.cell_count == 0 && s.temp_count == 1 && s.soc_pct <= 100);
		j = thornwave_wire_json(data, TW_VALUE_LEN);
		CHECK(j != NULL);
		fuzz_check_json_prints(j, 1);
		cJSON_Delete(j);
	}

	rig_thornwave_rx_init(&rx, 40);
	while (fed < size) {
		size_t took = rig_thornwave_rx_feed(&rx, data + fed, size - fed, (uint32_t)fed);

		fed += took;
		while (rig_thornwave_rx_next(&rx, rig_tw_att_piece_len(TW_VALUE_LEN, want), pdu, &a) == RIG_OK) {
			if (a.op == TW_ATT_ERROR_RSP) {
				framed += TW_ATT_ERROR_LEN;
				continue;
			}
			CHECK(a.op == TW_ATT_READ_RSP || a.op == TW_ATT_BLOB_RSP);
			CHECK(a.value_len == rig_tw_att_piece_len(TW_VALUE_LEN, want));
			framed += 1u + a.value_len;
			want = (want + a.value_len) % TW_VALUE_LEN;
		}
		CHECK(rx.b.have <= TW_ATT_PDU_MAX && rx.b.gap_ms == 40);
		CHECK(framed + rx.b.skipped_bytes + rx.b.have == fed);
		if (!took)
			break;
	}
	return 0;
}
