/*
 * libFuzzer: the inverter port (firmware/core/inv_port.c) with a hostile inverter on its line.
 * Input: byte 0 picks the setup (bits 0-1 the protocol, bit 2 CAN host mode, bit 3 Deye per
 * pack, bit 4 comm alarm, bit 5 three packs in the view, bits 6-7 read size 1/7/64/all),
 * byte 1 the address, then records of [length][time step in 10 ms][bytes].
 * abort() unless every step's output is bounded and made only of what the protocol's battery
 * may say: RS485 frames that parse, from this module's address; Deye responses that parse,
 * from an address the port serves; on CAN, slcan frame lines of the Pylontech set or the
 * adapter's replies (CR, BEL, "z", version, serial, status lines).
 * Seeds: tests/fuzz/corpus/fuzz_inv_port/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/pylon_can.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	const uint8_t *in;
	size_t in_len, in_pos, read_max;
	uint8_t out[1u << 17];     /* 512 bytes in can ask for ~28 RS485 replies of 2 KB */
	size_t out_len;
	int overflow;
} line;

static int32_t line_write(void *ctx, const uint8_t *p, uint16_t n)
{
	(void)ctx;
	if (line.out_len + n > sizeof line.out) {
		line.overflow = 1;
		return -9;
	}
	memcpy(line.out + line.out_len, p, n);
	line.out_len += n;
	return n;
}

static int32_t line_read(void *ctx, uint8_t *p, uint16_t cap)
{
	size_t n = line.in_len - line.in_pos;

	(void)ctx;
	if (n > cap)
		n = cap;
	if (line.read_max && n > line.read_max)
		n = line.read_max;
	memcpy(p, line.in + line.in_pos, n);
	line.in_pos += n;
	return (int32_t)n;
}

static void check_rs485(const uint8_t *o, size_t n, uint8_t me)
{
	static struct pylon_frame f;
	size_t i = 0;

	while (i < n) {
		size_t e = i;

		CHECK(o[i] == PYLON_SOI);
		while (e < n && o[e] != PYLON_EOI)
			e++;
		CHECK(e < n);
		CHECK(rig_pylon_frame_parse(o + i, e + 1 - i, &f) == RIG_OK);
		CHECK(f.adr == me && f.cid1 == PYLON_CID1 && rig_pylon_is_rtn(f.cid2));
		i = e + 1;
	}
}

static void check_deye(const uint8_t *o, size_t n, uint8_t lo, uint8_t hi)
{
	struct modbus_frame f;
	size_t i = 0;

	while (i < n) {
		int len = rig_modbus_frame_len(o + i, n - i, MODBUS_RESPONSE);

		CHECK(len > 0 && (size_t)len <= n - i);
		CHECK(rig_modbus_frame_parse(o + i, (size_t)len, MODBUS_RESPONSE, &f) == RIG_OK);
		CHECK(f.addr >= lo && f.addr <= hi);
		CHECK(f.fc == 0x04 || f.fc == 0x11 || (f.fc & 0x80u));
		i += (size_t)len;
	}
}

static void check_can(const uint8_t *o, size_t n)
{
	static const char *const ok[] = { "", "\a", "z", "Z", "V1013", "v1013", "NPY01", "F00" };
	size_t i = 0;

	while (i < n) {
		size_t e = i, k;
		struct slcan_line l;
		int known = 0;

		if (o[i] == SLCAN_BEL) {
			i++;
			continue;
		}
		while (e < n && o[e] != SLCAN_CR)
			e++;
		CHECK(e < n && e - i <= SLCAN_LINE_MAX);
		for (k = 0; k < sizeof ok / sizeof ok[0]; k++)
			if (strlen(ok[k]) == e - i && !memcmp(ok[k], o + i, e - i))
				known = 1;
		if (!known) {
			struct rig_inv_battery r;
			unsigned have = 0;

			CHECK(rig_slcan_parse(o + i, e - i, SLCAN_CR, &l) == RIG_OK && l.kind == SLCAN_FRAME);
			memset(&r, 0, sizeof r);
			CHECK(rig_pylon_can_decode(&l.frame, &r, &have) == RIG_OK);
		}
		i = e + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t read_sizes[4] = { 1, 7, 64, 0 };
	static struct rig_inv_port port;
	static struct rig_inv_battery rec, pack_rec[3];
	static struct pack_state packs[3];
	struct rig_inv_port_cfg cfg;
	struct rig_inv_port_view v;
	struct rig_io io = { NULL, line_write, line_read };
	uint32_t now = 0;
	size_t pos = 2;
	unsigned k;

	if (size < 2)
		return 0;
	memset(&cfg, 0, sizeof cfg);
	cfg.proto = (uint8_t)((data[0] & 3u) % RIG_INV_PROTO_COUNT);
	cfg.can_mode = (data[0] >> 2) & 1u;
	cfg.per_pack = (data[0] >> 3) & 1u;
	cfg.comm_alarm = (data[0] >> 4) & 1u;
	cfg.address = data[1];
	cfg.period_ms = 300;
	memset(&rec, 0, sizeof rec);
	rec.cvl_mV = 55200;
	rec.ccl_mA = 50000;
	rec.dcl_mA = 100000;
	rec.pack_mV = 52000;
	rec.soc_pct = 60;
	rec.cell_max_mV = 3300;
	rec.cell_min_mV = 3200;
	for (k = 0; k < 3; k++) {
		pack_rec[k] = rec;
		memset(&packs[k], 0, sizeof packs[k]);
		packs[k].cell_count = (uint8_t)(k == 2 ? PACK_CELLS_MAX : 16u);   /* more than 0x42 holds */
		packs[k].temp_count = PACK_TEMPS_MAX;
		packs[k].cell_mV[3] = 3300;
		packs[k].prot = 0xFFFFu;
		packs[k].full_mAh = 300000;    /* the u24 capacity form */
	}
	memset(&v, 0, sizeof v);
	v.battery = &rec;
	if (data[0] & 0x20u) {
		v.pack_count = 3;
		v.packs = packs;
		v.pack_records = pack_rec;
	}
	memset(&line, 0, sizeof line);
	line.read_max = read_sizes[data[0] >> 6];
	if (rig_inv_port_init(&port, &cfg, io, 0) != RIG_OK) {
		CHECK(cfg.proto == RIG_INV_DEYE_MODBUS && cfg.address > DEYE_MB_ADDR_MAX);
		return 0;
	}
	line.out_len = 0;
	while (pos + 2 <= size) {
		size_t n = data[pos];
		size_t before;

		now += 10u * data[pos + 1];
		pos += 2;
		if (n > size - pos)
			n = size - pos;
		line.in = data + pos;
		line.in_len = n;
		line.in_pos = 0;
		before = port.st.replies;
		(void)rig_inv_port_step(&port, now, &v);
		pos += n;
		CHECK(!line.overflow);
		/* Bounded: a step reads at most 512 bytes, and one reply per complete request (a
		 * request is at least 4 bytes for Deye, 2 for RS485, a CAN line 2) plus one set. */
		CHECK(port.st.replies - before <= 512u / 2u + PYLON_CAN_SET_MAX);
		switch (cfg.proto) {
		case RIG_INV_PYLON_RS485:
			check_rs485(line.out, line.out_len, cfg.address ? cfg.address : PYLON_ADR_DEFAULT);
			break;
		case RIG_INV_DEYE_MODBUS: {
			uint8_t lo = port.cfg.address;
			uint8_t hi = (uint8_t)(lo + (cfg.per_pack && v.pack_count ? v.pack_count - 1u : 0u));

			check_deye(line.out, line.out_len, lo, hi);
			break;
		}
		default:
			check_can(line.out, line.out_len);
			break;
		}
		line.out_len = 0;
	}
	CHECK(port.st.io_errors == 0);
	return 0;
}
