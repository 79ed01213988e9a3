/*
 * libFuzzer: Thornwave ATT PDUs both ways. The input as one PDU: when rig_tw_att_parse takes it,
 * rig_tw_att_encode gives the same bytes back and the JSON view prints; whatever it is, the view
 * never reads past it. Then the input as the client's byte stream into the emulated PowerMon
 * (thornwave personality), in pieces: every answer is one PDU of at most one MTU that parses,
 * a read or blob response, or an error response; with byte 0's bit 7 the newer firmware
 * (quirk stream), where a write response or a notification of at most one MTU may come too.
 * Seeds: tests/fuzz/corpus/fuzz_thornwave_att/ (the requests and responses of a long read).
 */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "bmsrig/core/thornwave.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/thornwave_json.h"
#include "bmsrig/sim/thornwave_personality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct tw_att a;

	(void)ctx;
	(void)delay_ms;
	(void)parts;
	CHECK(n >= 1 && n <= TW_ATT_PDU_MAX);
	CHECK(rig_tw_att_parse(wire, n, &a) == RIG_OK);
	CHECK(a.op == TW_ATT_READ_RSP || a.op == TW_ATT_BLOB_RSP || a.op == TW_ATT_ERROR_RSP ||
	      a.op == TW_ATT_WRITE_RSP || (a.op == TW_ATT_NOTIFY && a.handle == TW_MON_HANDLE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static struct bms b;
	static int ready;
	static struct thornwave_personality p;
	const struct reply_sink sink = { NULL, on_send, NULL };
	struct tw_att a;
	uint8_t out[TW_ATT_PDU_MAX];
	cJSON *j;
	size_t i, piece;

	if (rig_tw_att_parse(data, size, &a) == RIG_OK) {
		CHECK(rig_tw_att_encode(&a, out, sizeof out) == size);
		CHECK(!memcmp(out, data, size));
	}
	j = thornwave_wire_json(data, size);
	CHECK(j != NULL);
	fuzz_check_json_prints(j, 1);
	cJSON_Delete(j);

	if (!ready) {
		struct model_cfg c;

		model_cfg_defaults(&c);
		CHECK(model_init(&m, &c) == RIG_OK);
		CHECK(bms_init(&b, &m) == RIG_OK);
		ready = 1;
	}
	CHECK(thornwave_personality_ops.init(&p, &b, 0) == RIG_OK);
	if (size && (data[0] & 0x80u)) {
		char why[128];

		CHECK(thornwave_personality_ops.set_quirk(&p, "stream", "1", why, sizeof why) == RIG_OK);
	}
	piece = size ? (size_t)(data[0] % 7u) + 1u : 1u;
	for (i = 0; i < size; i += piece) {
		size_t n = size - i < piece ? size - i : piece;

		thornwave_personality_ops.rx(&p, data + i, n, (uint32_t)i * 100u, &sink);
		thornwave_personality_ops.tick(&p, (uint32_t)i * 100u, &sink);
	}
	return 0;
}
