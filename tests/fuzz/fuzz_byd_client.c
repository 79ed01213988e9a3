/*
 * libFuzzer: the BYD PRO 2.5 client as the monitor sees a hostile line. Byte 0: bit 7 repairs
 * each reply (the client's address, size, version, 0x83, marks and a fresh sum around its bytes,
 * so the record decoder and the neutral view are reached), bits 0-3 the pack's address. The rest
 * is replies, each [length][gap][length bytes], put on the line gap ms after the request went.
 * abort() unless the client never breaks its invariants: it only ever sends the 8-byte read
 * to its address, the counters agree (ok + failed cycles never above requests), and a cycle
 * that ended ok left a plausible pack_state (counts within their arrays, SOC at most 100 %).
 * Seeds: tests/fuzz/corpus/fuzz_byd_client/.
 */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/byd_client.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct line {
	uint8_t addr;
	uint8_t in[BYD_FRAME_MAX + 8];
	size_t in_len, in_pos;
	uint32_t sends;
};

static int32_t line_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct line *l = ctx;
	const uint8_t want[] = { l->addr, 0x00, 0x04, 0x01, 0x03, 0x55, 0xAA, 0x07 };

	CHECK(n == sizeof want && memcmp(p, want, n) == 0);
	l->sends++;
	return n;
}

static int32_t line_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct line *l = ctx;
	size_t n = l->in_len - l->in_pos;

	if (n > cap)
		n = cap;
	memcpy(p, l->in + l->in_pos, n);
	l->in_pos += n;
	return (int32_t)n;
}

/* The reply's bytes as they go on the line: raw, or wrapped into a well-formed frame. */
static void put_reply(struct line *l, const uint8_t *p, size_t n, int repair)
{
	if (!repair) {
		if (n > sizeof l->in)
			n = sizeof l->in;
		memcpy(l->in, p, n);
		l->in_len = n;
	} else {
		struct byd_frame f;

		if (n > BYD_PAYLOAD_MAX)
			n = BYD_PAYLOAD_MAX;
		memset(&f, 0, sizeof f);
		f.addr = l->addr;
		f.cmd = BYD_CMD_READ | BYD_CMD_REPLY_BIT;
		f.len = (uint8_t)n;
		memcpy(f.payload, p, n);
		CHECK(rig_byd_frame_encode(&f, l->in, sizeof l->in, &l->in_len) == RIG_OK);
	}
	l->in_pos = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct byd_client c;
	static struct pack_state ps;
	static struct line l;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct rig_io io = { &l, line_write, line_read };
	uint32_t now = 0;
	size_t at = 1;
	int repair;

	if (size < 1)
		return 0;
	memset(&l, 0, sizeof l);
	memset(&ps, 0, sizeof ps);
	repair = (data[0] & 0x80) != 0;
	cfg.address = (uint8_t)(data[0] & 0x0F);
	l.addr = cfg.address ? cfg.address : (uint8_t)BYD_ADDR_DEFAULT;
	rig_byd_client_init(&c, &cfg, io, &ps);
	while (at + 2 <= size) {
		size_t n = data[at];
		uint32_t gap = data[at + 1], sends = l.sends, t;
		const struct client_stats *st;

		at += 2;
		if (n > size - at)
			n = size - at;
		/* Run until the client sends, then the reply comes gap ms later. */
		for (t = 0; l.sends == sends && t < 20000; t += 10, now += 10)
			(void)rig_byd_client_step(&c, now);
		now += gap;
		put_reply(&l, data + at, n, repair);
		at += n;
		for (t = 0; t < 600; t += 10, now += 10) {
			enum client_event ev = rig_byd_client_step(&c, now);

			if (ev == CLIENT_CYCLE_OK)
				CHECK(ps.cell_count <= BYD_CELLS && ps.temp_count == BYD_TEMPS && ps.soc_pct <= 100 &&
				      ps.updated_ms == now);
		}
		st = rig_byd_client_stats(&c);
		CHECK(st->cycles_ok + st->cycles_failed <= st->requests && st->requests == l.sends);
	}
	return 0;
}
