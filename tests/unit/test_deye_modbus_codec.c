/*
 * The Deye Modbus codec against docs/protocols/deye-modbus.md: CRC-16/MODBUS on the Modbus
 * specification's example and the frames the protocol notes computed (and Debian's pymodbus
 * agreed with), parse rejections, the assembler's resynchronisation, the FC 0x11 layout, and
 * the block's scalings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/deye_modbus.h"
#include "fake_io.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Modbus over serial line v1.02 §6.2.2 example, and the notes' Deye frames. */
#define SPEC_READ  "01 03 00 6B 00 03 74 17"
#define DEYE_POLL1 "01 04 10 00 00 16 75 04"
#define DEYE_POLL0 "00 04 10 00 00 16 74 D5"
#define DEYE_INFO  "01 11 C0 2C"
/* The notes' sample 0x11 answer: model "JK-BMS", SW 10 11, HW 20 21, serial twenty '0'. */
#define DEYE_IDENT "01 11 22 4A 4B 2D 42 4D 53 2A 10 11 2A 20 21 2A " \
                   "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 2A 30 D1"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	return hex_to_bytes(hex, out, cap);
}

static void test_crc_known_vectors(void **st)
{
	static const char *const frames[] = { SPEC_READ, DEYE_POLL1, DEYE_POLL0, DEYE_INFO, DEYE_IDENT };
	uint8_t w[MODBUS_ADU_MAX];
	size_t i, n;

	(void)st;
	for (i = 0; i < N_OF(frames); i++) {
		uint16_t crc;

		n = unhex(frames[i], w, sizeof w);
		crc = rig_modbus_crc(w, n - 2);
		assert_int_equal(w[n - 2], crc & 0xFF);   /* low byte first */
		assert_int_equal(w[n - 1], crc >> 8);
	}
	assert_int_equal(rig_modbus_crc(NULL, 0), 0xFFFF);
}

static void test_builders_exact_bytes(void **st)
{
	struct modbus_frame f;
	uint8_t w[MODBUS_ADU_MAX], want[MODBUS_ADU_MAX];
	size_t n, wn;

	(void)st;
	rig_deye_mb_request_read(&f, 1, DEYE_MB_BLOCK_START, DEYE_MB_BLOCK_COUNT);
	assert_int_equal(rig_modbus_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	wn = unhex(DEYE_POLL1, want, sizeof want);
	assert_int_equal(n, wn);
	assert_memory_equal(w, want, n);

	rig_deye_mb_request_read(&f, 0, 0x1000, 22);
	assert_int_equal(rig_modbus_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	wn = unhex(DEYE_POLL0, want, sizeof want);
	assert_memory_equal(w, want, wn);

	rig_deye_mb_request_ident(&f, 1);
	assert_int_equal(rig_modbus_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	wn = unhex(DEYE_INFO, want, sizeof want);
	assert_int_equal(n, wn);
	assert_memory_equal(w, want, n);

	/* Room for the CRC is checked. */
	assert_int_equal(rig_modbus_frame_encode(&f, w, 3, &n), RIG_ERR_SPACE);

	rig_modbus_exception(&f, 2, 0x03, DEYE_MB_EX_ILLEGAL_FUNCTION);
	assert_int_equal(rig_modbus_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_int_equal(n, 5);
	assert_int_equal(w[0], 2);
	assert_int_equal(w[1], 0x83);
	assert_int_equal(w[2], 0x01);
	assert_int_equal(rig_modbus_crc(w, 3), w[3] | w[4] << 8);
}

static void test_ident_sample(void **st)
{
	struct modbus_frame f, g;
	struct deye_mb_ident id;
	uint8_t w[MODBUS_ADU_MAX], out[MODBUS_ADU_MAX];
	size_t n, on;

	(void)st;
	n = unhex(DEYE_IDENT, w, sizeof w);
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_RESPONSE, &f), RIG_OK);
	assert_int_equal(rig_deye_mb_ident_decode(&f, &id), RIG_OK);
	assert_int_equal(id.model_len, 6);
	assert_memory_equal(id.model, "JK-BMS", 6);
	assert_int_equal(id.sw[0], 0x10);
	assert_int_equal(id.sw[1], 0x11);
	assert_int_equal(id.hw[0], 0x20);
	assert_int_equal(id.hw[1], 0x21);
	assert_memory_equal(id.serial, "00000000000000000000", 20);
	/* Built again from the decoded values: the same bytes. */
	assert_int_equal(rig_deye_mb_ident_encode(&g, 1, &id), RIG_OK);
	assert_int_equal(rig_modbus_frame_encode(&g, out, sizeof out, &on), RIG_OK);
	assert_int_equal(on, n);
	assert_memory_equal(out, w, n);

	/* A '*' inside the model, or none at all, is refused. */
	memcpy(id.model, "JK*BMS", 6);
	assert_int_equal(rig_deye_mb_ident_encode(&g, 1, &id), RIG_ERR_ARG);
	id.model_len = 0;
	assert_int_equal(rig_deye_mb_ident_encode(&g, 1, &id), RIG_ERR_ARG);
	/* A separator out of place is refused. */
	f.data[1 + 6 + 3] = 'x';
	assert_int_equal(rig_deye_mb_ident_decode(&f, &id), RIG_ERR_FRAME);
	f.data[0] = 10;
	assert_int_equal(rig_deye_mb_ident_decode(&f, &id), RIG_ERR_LENGTH);
}

static void test_parse_rejects(void **st)
{
	struct modbus_frame f;
	uint8_t w[MODBUS_ADU_MAX];
	size_t n;

	(void)st;
	n = unhex(DEYE_POLL1, w, sizeof w);
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_REQUEST, &f), RIG_OK);
	assert_int_equal(f.addr, 1);
	assert_int_equal(f.fc, 4);
	assert_int_equal(f.len, 4);
	/* As a response it has the wrong length for its byte count (0x10). */
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_RESPONSE, &f), RIG_ERR_LENGTH);
	assert_int_equal(rig_modbus_frame_parse(w, n - 1, MODBUS_REQUEST, &f), RIG_ERR_LENGTH);
	assert_int_equal(rig_modbus_frame_parse(w, 3, MODBUS_REQUEST, &f), RIG_ERR_LENGTH);
	w[7] ^= 1;
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_REQUEST, &f), RIG_ERR_CHECKSUM);
	w[1] = 0x42;    /* no such function */
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_REQUEST, &f), RIG_ERR_UNSUPPORTED);
}

static void test_frame_lengths(void **st)
{
	static const uint8_t wr[] = { 1, 0x10, 0, 0, 0, 2, 4 };
	static const uint8_t rsp[] = { 1, 0x04, 44 };
	static const uint8_t ex[] = { 1, 0x84 };

	(void)st;
	assert_int_equal(rig_modbus_frame_len(wr, 1, MODBUS_REQUEST), 0);
	assert_int_equal(rig_modbus_frame_len(wr, 6, MODBUS_REQUEST), 0);   /* byte count not yet in */
	assert_int_equal(rig_modbus_frame_len(wr, 7, MODBUS_REQUEST), 13);
	assert_int_equal(rig_modbus_frame_len(wr, 7, MODBUS_RESPONSE), 8);
	assert_int_equal(rig_modbus_frame_len(rsp, 3, MODBUS_RESPONSE), 49);
	assert_int_equal(rig_modbus_frame_len(rsp, 3, MODBUS_REQUEST), 8);
	assert_int_equal(rig_modbus_frame_len(ex, 2, MODBUS_RESPONSE), 5);
	assert_int_equal(rig_modbus_frame_len(ex, 2, MODBUS_REQUEST), -1);
}

/* Garbage, a corrupted frame and a good one back to back, fed a byte at a time: the good one
 * comes out, the rest is counted. */
static void test_assembler_resyncs(void **st)
{
	struct modbus_rx rx;
	struct modbus_frame f;
	uint8_t w[64];
	size_t n = 0, i;
	int got = 0;

	(void)st;
	w[n++] = 0xFF;
	w[n++] = 0x42;
	n += unhex(DEYE_POLL0, w + n, sizeof w - n);
	w[n - 1] ^= 0x55;                            /* bad CRC */
	n += unhex(DEYE_POLL1, w + n, sizeof w - n);
	rig_modbus_rx_init(&rx, 0, MODBUS_REQUEST);
	for (i = 0; i < n; i++) {
		assert_int_equal(rig_modbus_rx_feed(&rx, w + i, 1, (uint32_t)i), 1);
		while (rig_modbus_rx_next(&rx, &f) == RIG_OK) {
			got++;
			assert_int_equal(f.addr, 1);
			assert_int_equal(f.fc, 4);
		}
	}
	assert_int_equal(got, 1);
	assert_int_equal(rx.b.have, 0);
	assert_true(rx.b.rejected_frames >= 1);
	assert_int_equal(rx.b.skipped_bytes + 0u, 2u + 8u);   /* garbage, then the bad frame's bytes */
}

/* A partial frame followed by silence longer than the gap is dropped, not glued to the next. */
static void test_assembler_gap(void **st)
{
	struct modbus_rx rx;
	struct modbus_frame f;
	uint8_t w[16];
	size_t n = unhex(DEYE_POLL1, w, sizeof w);

	(void)st;
	rig_modbus_rx_init(&rx, 200, MODBUS_REQUEST);
	rig_modbus_rx_feed(&rx, w, 5, 0);
	assert_int_equal(rig_modbus_rx_next(&rx, &f), RIG_MORE);
	rig_modbus_rx_feed(&rx, w, n, 1000);
	assert_int_equal(rig_modbus_rx_next(&rx, &f), RIG_OK);
	assert_int_equal(rig_modbus_rx_next(&rx, &f), RIG_MORE);
}

static void test_regs_round_trip(void **st)
{
	static const uint16_t regs[3] = { 0x1234, 0xFFFF, 0 };
	struct modbus_frame f;
	uint16_t back[3], count;
	uint8_t w[MODBUS_ADU_MAX];
	size_t n;

	(void)st;
	assert_int_equal(rig_deye_mb_response_regs(&f, 1, regs, 3), RIG_OK);
	assert_int_equal(rig_modbus_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_int_equal(n, 11);
	assert_int_equal(w[2], 6);
	assert_int_equal(w[3], 0x12);
	assert_int_equal(w[4], 0x34);
	assert_int_equal(rig_modbus_frame_parse(w, n, MODBUS_RESPONSE, &f), RIG_OK);
	assert_int_equal(rig_deye_mb_regs_decode(&f, back, 3, &count), RIG_OK);
	assert_int_equal(count, 3);
	assert_memory_equal(back, regs, sizeof regs);
	assert_int_equal(rig_deye_mb_regs_decode(&f, back, 2, &count), RIG_ERR_LENGTH);
	f.data[0] = 5;
	assert_int_equal(rig_deye_mb_regs_decode(&f, back, 3, &count), RIG_ERR_LENGTH);
	assert_int_equal(rig_deye_mb_response_regs(&f, 1, regs, 126), RIG_ERR_LENGTH);
}

/* The scalings of the notes' table: 55.20 V is 5520, 50 Ah is 5000, -12.34 A is -1234. */
static void test_block_scalings(void **st)
{
	struct rig_inv_battery r, back;
	uint16_t regs[DEYE_MB_BLOCK_COUNT];

	(void)st;
	memset(&r, 0, sizeof r);
	r.pack_mV = 55200;
	r.current_mA = -12340;
	r.remain_mAh = 25000;
	r.temp_dK = PACK_DK_ZERO_C + 251;
	r.temp_min_dK = PACK_DK_ZERO_C - 53;       /* -5.3 degC */
	r.temp_max_dK = PACK_DK_ZERO_C + 300;
	r.soc_cpct = 5012;
	r.soc_pct = 50;
	r.soh_pct = 98;
	r.full_mAh = 50000;
	r.design_mAh = 50000;
	r.cycles = 17;
	r.ccl_mA = 25000;
	r.cvl_mV = 56800;
	r.cell_max_mV = 3456;
	r.cell_min_mV = 3401;
	r.prot = PACK_PROT_CELL_OV | PACK_PROT_DSG_UT;
	r.warn = PACK_PROT_CHG_OT;
	r.fets = RIG_INV_FET_DSG;
	rig_deye_mb_block_encode(&r, regs);
	assert_int_equal(regs[DEYE_MB_R_PACK_V], 5520);
	assert_int_equal(regs[DEYE_MB_R_CURRENT], (uint16_t)-1234);
	assert_int_equal(regs[DEYE_MB_R_REMAIN], 2500);
	assert_int_equal(regs[DEYE_MB_R_TEMP_AVG], 251);
	assert_int_equal(regs[DEYE_MB_R_TEMP_ENV], 251);        /* none given: the average */
	assert_int_equal(regs[DEYE_MB_R_TEMP_MIN], (uint16_t)-53);
	assert_int_equal(regs[DEYE_MB_R_SOC], 501);
	assert_int_equal(regs[DEYE_MB_R_SOH], 980);
	assert_int_equal(regs[DEYE_MB_R_FULL], 5000);
	assert_int_equal(regs[DEYE_MB_R_CYCLES], 17);
	assert_int_equal(regs[DEYE_MB_R_CCL], 2500);
	assert_int_equal(regs[DEYE_MB_R_CELL_MAX], 3456);
	assert_int_equal(regs[DEYE_MB_R_CELL_MIN], 3401);
	assert_int_equal(regs[DEYE_MB_R_FLOAT_V], 5680);
	assert_int_equal(regs[DEYE_MB_R_DESIGN], 5000);
	assert_int_equal(regs[DEYE_MB_R_PROT], 1u << 0 | 1u << 9);
	assert_int_equal(regs[DEYE_MB_R_WARN], 1u << 6);
	assert_int_equal(regs[DEYE_MB_R_STATUS], DEYE_MB_ST_DISCHARGING | DEYE_MB_ST_DSG_FET);
	assert_int_equal(regs[DEYE_MB_R_RESERVED_F], 0);
	assert_int_equal(regs[DEYE_MB_R_RESERVED_13], 0);

	rig_deye_mb_block_decode(regs, &back);
	assert_int_equal(back.pack_mV, 55200);
	assert_int_equal(back.current_mA, -12340);
	assert_int_equal(back.temp_min_dK, PACK_DK_ZERO_C - 53);
	assert_int_equal(back.soc_cpct, 5010);
	assert_int_equal(back.soc_pct, 50);
	assert_int_equal(back.soh_pct, 98);
	assert_int_equal(back.ccl_mA, 25000);
	assert_int_equal(back.prot, PACK_PROT_CELL_OV | PACK_PROT_DSG_UT);
	assert_int_equal(back.fets, RIG_INV_FET_DSG);
	assert_int_equal(back.module_count, 1);

	/* Outside the block: 0 at the reserved 0x1016, 0xFFFF anywhere else. */
	assert_int_equal(rig_deye_mb_reg_value(&r, 0x1000), 5520);
	assert_int_equal(rig_deye_mb_reg_value(&r, 0x1015), 5000);
	assert_int_equal(rig_deye_mb_reg_value(&r, 0x1016), 0);
	assert_int_equal(rig_deye_mb_reg_value(&r, 0x0FFF), 0xFFFF);
	assert_int_equal(rig_deye_mb_reg_value(&r, 0x1017), 0xFFFF);

	/* Saturation rather than wrap. */
	r.pack_mV = 700000;
	r.current_mA = -400000;
	rig_deye_mb_block_encode(&r, regs);
	assert_int_equal(regs[DEYE_MB_R_PACK_V], 0xFFFF);
	assert_int_equal(regs[DEYE_MB_R_CURRENT], (uint16_t)-32768);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_known_vectors),
		cmocka_unit_test(test_builders_exact_bytes),
		cmocka_unit_test(test_ident_sample),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_frame_lengths),
		cmocka_unit_test(test_assembler_resyncs),
		cmocka_unit_test(test_assembler_gap),
		cmocka_unit_test(test_regs_round_trip),
		cmocka_unit_test(test_block_scalings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
