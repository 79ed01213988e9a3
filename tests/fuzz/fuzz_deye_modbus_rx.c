/*
 * libFuzzer: the Deye Modbus receive assembler fed the way links deliver, in pieces with time
 * passing (fuzz_rx_run: byte 0 is control, the rest the stream). An odd input size runs the
 * master's assembler (responses), an even one the slave's (requests).
 * abort() unless every stream byte is in exactly one of a delivered frame, skipped_bytes or the
 * buffer (never over MODBUS_ADU_MAX), and each delivered frame encodes to the bytes that parse
 * back to it, its JSON view prints, and its decoders refuse it or rebuild it exactly.
 * Seeds: tests/fuzz/corpus/fuzz_deye_modbus_rx/ (a control byte, then frames and noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/sim/deye_modbus_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum modbus_kind kind;

static void check_frame(const struct modbus_frame *f)
{
	uint8_t w[MODBUS_ADU_MAX], w2[MODBUS_ADU_MAX];
	struct modbus_frame back, again;
	struct deye_mb_ident id;
	uint16_t regs[DEYE_MB_READ_MAX + 2], start, count;
	size_t n = 0, n2 = 0;
	cJSON *o;

	CHECK(rig_modbus_frame_encode(f, w, sizeof w, &n) == RIG_OK && n == f->len + 4u);
	CHECK(rig_modbus_frame_parse(w, n, kind, &back) == RIG_OK);
	CHECK(back.addr == f->addr && back.fc == f->fc && back.len == f->len && !memcmp(back.data, f->data, f->len));
	o = deye_mb_frame_json(f, kind);
	CHECK(o);
	fuzz_check_json_prints(o, 0);
	cJSON_Delete(o);
	if (kind == MODBUS_REQUEST && rig_deye_mb_read_decode(f, &start, &count) == RIG_OK) {
		rig_deye_mb_request_read(&again, f->addr, start, count);
		CHECK(rig_modbus_frame_encode(&again, w2, sizeof w2, &n2) == RIG_OK && n2 == n && !memcmp(w, w2, n));
	}
	if (kind == MODBUS_RESPONSE && rig_deye_mb_regs_decode(f, regs, (uint16_t)(sizeof regs / sizeof regs[0]), &count) == RIG_OK) {
		CHECK(rig_deye_mb_response_regs(&again, f->addr, regs, count) == RIG_OK);
		CHECK(rig_modbus_frame_encode(&again, w2, sizeof w2, &n2) == RIG_OK && n2 == n && !memcmp(w, w2, n));
		if (count == DEYE_MB_BLOCK_COUNT) {
			struct rig_inv_battery r;

			rig_deye_mb_block_decode(regs, &r);
			CHECK(r.soc_pct <= 100 && r.soh_pct <= 100 && r.module_count == 1);
		}
	}
	if (kind == MODBUS_RESPONSE && rig_deye_mb_ident_decode(f, &id) == RIG_OK) {
		CHECK(rig_deye_mb_ident_encode(&again, f->addr, &id) == RIG_OK);
		CHECK(rig_modbus_frame_encode(&again, w2, sizeof w2, &n2) == RIG_OK && n2 == n && !memcmp(w, w2, n));
	}
}

static void init(void *rx, uint32_t gap_ms)
{
	rig_modbus_rx_init(rx, gap_ms, kind);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_modbus_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct modbus_rx *rx = ctx;
	struct modbus_frame f;
	size_t framed = 0;

	while (rig_modbus_rx_next(rx, &f) == RIG_OK) {
		framed += f.len + 4u;
		check_frame(&f);
	}
	CHECK(rx->b.have <= MODBUS_ADU_MAX);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct modbus_rx), init, feed, drain };
	struct modbus_rx rx;

	kind = (size & 1u) ? MODBUS_RESPONSE : MODBUS_REQUEST;
	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
