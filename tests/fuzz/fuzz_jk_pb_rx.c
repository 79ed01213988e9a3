/*
 * libFuzzer: JK-PB's parsers fed the way links deliver, in pieces with time passing
 * (fuzz_rx_run: byte 0 is control, the rest the stream). An odd input size runs the master's
 * assembler (rig_jk_pb_rx: 300-byte records and Modbus responses in one stream), an even one
 * the slave's side the personality uses (the Modbus request assembler, then the JK-PB write
 * and read decoders).
 * abort() unless every stream byte is in exactly one of a delivered item, skipped_bytes or the
 * buffer (never over its size), each record passes the record check, each Modbus frame
 * encodes back to bytes that parse to it, every decoder that accepts a frame rebuilds it byte
 * for byte, and the decoded-frame JSON of everything delivered prints.
 * Seeds: tests/fuzz/corpus/fuzz_jk_pb_rx/ (a control byte, then replies, junk and requests).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/jk_pb.h"
#include "bmsrig/sim/jk_pb_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int master;

static void check_json(const uint8_t *w, size_t n)
{
	cJSON *o = jk_pb_wire_json(w, n);

	CHECK(o);
	fuzz_check_json_prints(o, 0);
	cJSON_Delete(o);
}

/* f encodes to w[0..*n) and parses back to itself; kind is its direction. */
static void roundtrip(const struct modbus_frame *f, enum modbus_kind kind, uint8_t *w, size_t *n)
{
	struct modbus_frame back;

	CHECK(rig_modbus_frame_encode(f, w, MODBUS_ADU_MAX, n) == RIG_OK && *n == f->len + 4u);
	CHECK(rig_modbus_frame_parse(w, *n, kind, &back) == RIG_OK);
	CHECK(back.addr == f->addr && back.fc == f->fc && back.len == f->len && !memcmp(back.data, f->data, f->len));
	check_json(w, *n);
}

static void same(const struct modbus_frame *again, const uint8_t *w, size_t n)
{
	uint8_t w2[MODBUS_ADU_MAX];
	size_t n2 = 0;

	CHECK(rig_modbus_frame_encode(again, w2, sizeof w2, &n2) == RIG_OK && n2 == n && !memcmp(w, w2, n));
}

static void check_response(const struct modbus_frame *f)
{
	uint8_t w[MODBUS_ADU_MAX];
	struct modbus_frame again;
	const uint8_t *bytes;
	uint16_t reg, count;
	size_t n = 0, k;

	roundtrip(f, MODBUS_RESPONSE, w, &n);
	if (rig_jk_pb_echo_decode(f, &reg, &count) == RIG_OK) {
		rig_jk_pb_write_echo(&again, f->addr, reg, count);
		same(&again, w, n);
	}
	if (rig_jk_pb_read_bytes(f, &bytes, &k) == RIG_OK) {
		CHECK(rig_jk_pb_response_read(&again, f->addr, bytes, k) == RIG_OK);
		same(&again, w, n);
	}
}

static void check_request(const struct modbus_frame *f)
{
	uint8_t w[MODBUS_ADU_MAX];
	struct modbus_frame again;
	const uint8_t *bytes;
	uint16_t reg, count, off;
	size_t n = 0;

	roundtrip(f, MODBUS_REQUEST, w, &n);
	if (rig_jk_pb_write_decode(f, &reg, &count, &bytes) == RIG_OK) {
		CHECK(count >= 1 && count <= 123);
		CHECK(rig_jk_pb_request_write(&again, f->addr, reg, bytes, 2u * count) == RIG_OK);
		same(&again, w, n);
		if (count == 1 && rig_jk_pb_trigger_type(reg)) {
			CHECK(rig_jk_pb_request_trigger(&again, f->addr, rig_jk_pb_trigger_type(reg)) == RIG_OK);
			if (!bytes[0] && !bytes[1])
				same(&again, w, n);
		}
	}
	if (rig_jk_pb_read_decode(f, &reg, &count) == RIG_OK) {
		rig_jk_pb_request_read(&again, f->addr, reg, count);
		same(&again, w, n);
		if (rig_jk_pb_reg_locate(reg, &off))
			CHECK(off >= 6 && off < 6u + JK_PB_BLOCK_BYTES);
	}
}

struct both {
	struct jk_pb_rx m;
	struct modbus_rx s;
};

static void init(void *rx, uint32_t gap_ms)
{
	struct both *b = rx;

	if (master)
		rig_jk_pb_rx_init(&b->m, gap_ms);
	else
		rig_modbus_rx_init(&b->s, gap_ms, MODBUS_REQUEST);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	struct both *b = rx;

	return master ? rig_jk_pb_rx_feed(&b->m, p, n, now_ms) : rig_modbus_rx_feed(&b->s, p, n, now_ms);
}

static size_t drain(void *rx, struct fuzz_rx_counts *c)
{
	struct both *b = rx;
	size_t framed = 0;

	if (master) {
		struct jk_pb_item it;

		while (rig_jk_pb_rx_next(&b->m, &it) == RIG_OK) {
			if (it.kind == JK_PB_ITEM_RECORD) {
				CHECK(rig_jk_ble_record_check(it.record, JK_BLE_RECORD_LEN) == RIG_OK);
				check_json(it.record, JK_BLE_RECORD_LEN);
				framed += JK_BLE_RECORD_LEN;
			} else {
				CHECK(it.kind == JK_PB_ITEM_MODBUS);
				check_response(&it.frame);
				framed += it.frame.len + 4u;
			}
		}
		CHECK(b->m.b.have <= sizeof b->m.buf && b->m.out == 0);
		*c = (struct fuzz_rx_counts){ b->m.b.have, b->m.b.skipped_bytes, b->m.b.gap_ms };
	} else {
		struct modbus_frame f;

		while (rig_modbus_rx_next(&b->s, &f) == RIG_OK) {
			check_request(&f);
			framed += f.len + 4u;
		}
		CHECK(b->s.b.have <= MODBUS_ADU_MAX);
		*c = (struct fuzz_rx_counts){ b->s.b.have, b->s.b.skipped_bytes, b->s.b.gap_ms };
	}
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct both), init, feed, drain };
	struct both rx;

	master = (size & 1u) != 0;
	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
