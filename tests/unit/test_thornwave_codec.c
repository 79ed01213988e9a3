/*
 * The Thornwave codec's parts the vectors do not reach: ATT PDUs both ways byte for byte and
 * their length rules, the piece lengths of a long read, the client's assembler on hostile bytes,
 * the packed clock, COBS (runs of 254 and more, zeros at the ends, broken codes), the -5S monitor
 * frame without V2, the COBS stream splitter, and the pack_state a value makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/thornwave.h"
#include "fake_io.h"

static void att_both_ways(void **state)
{
	struct tw_att a, b;
	uint8_t w[TW_ATT_PDU_MAX], want[8];
	static const uint8_t val[3] = { 1, 2, 3 };

	(void)state;
	memset(&a, 0, sizeof a);
	a.op = TW_ATT_BLOB_REQ;
	a.handle = 0x0015;
	a.offset = 0x012C;
	assert_int_equal(rig_tw_att_encode(&a, w, sizeof w), 5);
	assert_int_equal(hex_to_bytes("0C 1500 2C01", want, sizeof want), 5);
	assert_memory_equal(w, want, 5);
	assert_int_equal(rig_tw_att_parse(w, 5, &b), RIG_OK);
	assert_int_equal(b.handle, 0x15);
	assert_int_equal(b.offset, 300);
	/* Requests and errors have one length only. */
	assert_int_equal(rig_tw_att_parse(w, 4, &b), RIG_ERR_LENGTH);
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x0A\x15\x00\x00", 4, &b), RIG_ERR_LENGTH);
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x01\x0A\x15\x00\x01", 5, &b), RIG_OK);
	assert_int_equal(b.err_op, 0x0A);
	assert_int_equal(b.err_code, 1);
	/* A CCCD write (2-byte value only) and its response. */
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x12\x11\x00\x01\x00", 5, &b), RIG_OK);
	assert_int_equal(b.handle, 0x11);
	assert_int_equal(b.value_len, 2);
	assert_int_equal(rig_tw_att_encode(&b, w, sizeof w), 5);
	assert_memory_equal(w, "\x12\x11\x00\x01\x00", 5);
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x13", 1, &b), RIG_OK);
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x13\x00", 2, &b), RIG_ERR_LENGTH);
	/* Unknown opcodes, and nothing longer than one MTU. */
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x52\x00", 2, &b), RIG_ERR_FRAME);
	assert_int_equal(rig_tw_att_fixed_len(0x52), -1);
	memset(w, 0, sizeof w);
	w[0] = TW_ATT_READ_RSP;
	assert_int_equal(rig_tw_att_parse(w, TW_ATT_PDU_MAX, &b), RIG_OK);
	assert_int_equal(b.value_len, 22);
	assert_int_equal(rig_tw_att_parse(w, TW_ATT_PDU_MAX + 1, &b), RIG_ERR_LENGTH);
	/* A notification: handle, then the value. */
	memset(&a, 0, sizeof a);
	a.op = TW_ATT_NOTIFY;
	a.handle = 0x0010;
	a.value = val;
	a.value_len = 3;
	assert_int_equal(rig_tw_att_encode(&a, w, sizeof w), 6);
	assert_int_equal(hex_to_bytes("1B 1000 010203", want, sizeof want), 6);
	assert_memory_equal(w, want, 6);
	a.value_len = 21;                                   /* 24 bytes: more than one MTU */
	assert_int_equal(rig_tw_att_encode(&a, w, sizeof w), 0);
	assert_int_equal(rig_tw_att_parse((const uint8_t *)"\x1B\x10", 2, &b), RIG_ERR_LENGTH);
}

static void piece_lengths(void **state)
{
	(void)state;
	assert_int_equal(rig_tw_att_piece_len(52, 0), 22);
	assert_int_equal(rig_tw_att_piece_len(52, 22), 22);
	assert_int_equal(rig_tw_att_piece_len(52, 44), 8);
	assert_int_equal(rig_tw_att_piece_len(52, 52), 0);
	assert_int_equal(rig_tw_att_piece_len(52, 60), 0);
}

static void assembler_on_hostile_bytes(void **state)
{
	struct thornwave_rx rx;
	uint8_t in[64], pdu[TW_ATT_PDU_MAX];
	struct tw_att a;
	size_t n;

	(void)state;
	rig_thornwave_rx_init(&rx, 200);
	/* Junk, then an 8-byte blob piece: the junk is skipped and counted. */
	n = hex_to_bytes("FF 00 1B 0D 0102030405060708", in, sizeof in);
	assert_int_equal(rig_thornwave_rx_feed(&rx, in, n, 0), n);
	assert_int_equal(rig_thornwave_rx_next(&rx, 8, pdu, &a), RIG_OK);
	assert_int_equal(a.op, TW_ATT_BLOB_RSP);
	assert_int_equal(a.value_len, 8);
	assert_int_equal(a.value[7], 8);
	assert_int_equal(rx.b.skipped_bytes, 3);
	assert_int_equal(rig_thornwave_rx_next(&rx, 8, pdu, &a), RIG_MORE);
	/* Half a piece waits; a silence longer than gap_ms lets it go before new bytes. */
	assert_int_equal(rig_thornwave_rx_feed(&rx, in + 3, 4, 10), 4);
	assert_int_equal(rig_thornwave_rx_next(&rx, 8, pdu, &a), RIG_MORE);
	n = hex_to_bytes("01 0C 1500 07", in, sizeof in);
	assert_int_equal(rig_thornwave_rx_feed(&rx, in, n, 1000), n);
	assert_int_equal(rig_thornwave_rx_next(&rx, 8, pdu, &a), RIG_OK);
	assert_int_equal(a.op, TW_ATT_ERROR_RSP);
	assert_int_equal(a.err_code, 7);
	/* Never more value bytes than one MTU holds, whatever the caller waits for. */
	memset(in, 0x11, sizeof in);
	in[0] = TW_ATT_READ_RSP;
	assert_int_equal(rig_thornwave_rx_feed(&rx, in, 40, 1001), TW_ATT_PDU_MAX);
	assert_int_equal(rig_thornwave_rx_next(&rx, 52, pdu, &a), RIG_OK);
	assert_int_equal(a.value_len, 22);
}

static void clock_packing(void **state)
{
	struct tw_clock c = { 2020, 8, 5, 13, 10, 41 }, d;
	uint32_t packed;

	(void)state;
	assert_int_equal(rig_tw_clock_pack(&c, &packed), RIG_OK);
	assert_int_equal(packed, 0x0E0AD2A9u);             /* capture A, offset 44 */
	rig_tw_clock_unpack(packed, &d);
	assert_memory_equal(&c, &d, sizeof c);
	c.month = 13;
	assert_int_equal(rig_tw_clock_pack(&c, &packed), RIG_ERR_ARG);
	c.month = 12;
	c.year = 2016;
	assert_int_equal(rig_tw_clock_pack(&c, &packed), RIG_ERR_ARG);
}

static void cobs_edges(void **state)
{
	uint8_t in[600], enc[620], dec[600];
	size_t n, got;

	(void)state;
	/* The textbook examples: 00 -> 01 01; 11 22 00 33 -> 03 11 22 02 33. */
	in[0] = 0;
	assert_int_equal(rig_cobs_encode(in, 1, enc, sizeof enc), 2);
	assert_memory_equal(enc, "\x01\x01", 2);
	memcpy(in, "\x11\x22\x00\x33", 4);
	assert_int_equal(rig_cobs_encode(in, 4, enc, sizeof enc), 5);
	assert_memory_equal(enc, "\x03\x11\x22\x02\x33", 5);
	assert_int_equal(rig_cobs_decode(enc, 5, dec, sizeof dec, &got), RIG_OK);
	assert_int_equal(got, 4);
	assert_memory_equal(dec, in, 4);
	/* 254 non-zero bytes need one code 0xFF and no zero after them; 300 need two codes. */
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i % 255u + 1u);
	n = rig_cobs_encode(in, 254, enc, sizeof enc);
	assert_int_equal(n, 255);
	assert_int_equal(enc[0], 0xFF);
	assert_int_equal(rig_cobs_decode(enc, n, dec, sizeof dec, &got), RIG_OK);
	assert_int_equal(got, 254);
	n = rig_cobs_encode(in, 300, enc, sizeof enc);
	assert_int_equal(n, 302);
	assert_int_equal(rig_cobs_decode(enc, n, dec, sizeof dec, &got), RIG_OK);
	assert_int_equal(got, 300);
	assert_memory_equal(dec, in, 300);
	/* Broken input: a zero inside, a code past the end, too little room. */
	assert_int_equal(rig_cobs_decode((const uint8_t *)"\x03\x11\x00", 3, dec, sizeof dec, &got), RIG_ERR_FRAME);
	assert_int_equal(rig_cobs_decode((const uint8_t *)"\x05\x11", 2, dec, sizeof dec, &got), RIG_ERR_FRAME);
	assert_int_equal(rig_cobs_decode(enc, n, dec, 10, &got), RIG_ERR_LENGTH);
	assert_int_equal(rig_cobs_encode(in, 300, enc, 100), 0);
}

static void monitor_5s_has_no_v2(void **state)
{
	struct tw_monitor m, back;
	uint8_t frame[TW_MON_LEN];

	(void)state;
	memset(&m, 0, sizeof m);
	m.fw_bcd = 0x0231;
	m.hw_rev = 0x31;
	m.v1_mV = 16000;
	m.v2_mV = 999;                                     /* a -5S has none: not sent */
	m.current_mA = -1500;
	m.temp_mC = 21000;
	m.soc_pct = 80;
	m.runtime_min = 0xFFFE;
	assert_int_equal(rig_tw_monitor_encode(&m, frame), TW_MON_LEN_5S);
	assert_int_equal(rig_tw_monitor_decode(frame, TW_MON_LEN_5S, &back), RIG_OK);
	assert_int_equal(back.v1_mV, 16000);
	assert_int_equal(back.v2_mV, 0);
	assert_int_equal(back.current_mA, -1500);
	assert_int_equal(back.temp_mC, 21000);
	assert_int_equal(back.soc_pct, 80);
	assert_int_equal(back.runtime_min, 0xFFFE);
	/* A -5S frame of PowerMon length, and families without a BLE stream, are refused. */
	assert_int_equal(rig_tw_monitor_decode(frame, TW_MON_LEN, &back), RIG_ERR_LENGTH);
	frame[2] = 0x41;
	assert_int_equal(rig_tw_monitor_decode(frame, TW_MON_LEN_5S, &back), RIG_ERR_LENGTH);
	m.hw_rev = 0x41;
	assert_int_equal(rig_tw_monitor_encode(&m, frame), 0);
}

static void cobs_stream_splits_frames(void **state)
{
	struct tw_cobs_rx rx;
	uint8_t in[80], out[TW_COBS_MAX];
	size_t n, used, got;

	(void)state;
	rig_tw_cobs_rx_init(&rx);
	/* A leading 0x00, a broken frame, then a good one. */
	n = hex_to_bytes("00 05 11 00 03 11 22 02 33 00", in, sizeof in);
	used = rig_tw_cobs_rx_feed(&rx, in, n, out, &got);
	assert_int_equal(used, n);
	assert_int_equal(got, 4);
	assert_memory_equal(out, "\x11\x22\x00\x33", 4);
	assert_int_equal(rx.rejected, 1);
	/* More than one frame can hold is dropped at its delimiter. */
	memset(in, 0x22, sizeof in);
	in[sizeof in - 1] = 0;
	assert_int_equal(rig_tw_cobs_rx_feed(&rx, in, sizeof in, out, &got), sizeof in);
	assert_int_equal(got, 0);
	assert_int_equal(rx.rejected, 2);
}

static void value_to_pack_state(void **state)
{
	struct tw_value v;
	struct pack_state s;

	(void)state;
	memset(&v, 0, sizeof v);
	v.soc_half = 0xC6;
	v.milli[TW_F_V1] = 13728;
	v.milli[TW_F_CURRENT] = -3064;
	v.milli[TW_F_TEMP] = -6495;
	s.cell_count = 7;
	rig_tw_to_pack_state(&v, &s);
	assert_int_equal(s.pack_mV, 13728);
	assert_int_equal(s.current_mA, -3064);
	assert_int_equal(s.soc_pct, 99);
	assert_int_equal(s.cell_count, 0);
	assert_int_equal(s.temp_count, 1);
	assert_int_equal(s.temp_dK[0], 2731 - 65);
	/* A negative V1 (a miswired input) reads 0, a SOC byte past 200 reads 100 %. */
	v.milli[TW_F_V1] = -5;
	v.soc_half = 0xFF;
	rig_tw_to_pack_state(&v, &s);
	assert_int_equal(s.pack_mV, 0);
	assert_int_equal(s.soc_pct, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(att_both_ways),
		cmocka_unit_test(piece_lengths),
		cmocka_unit_test(assembler_on_hostile_bytes),
		cmocka_unit_test(clock_packing),
		cmocka_unit_test(cobs_edges),
		cmocka_unit_test(monitor_5s_has_no_v2),
		cmocka_unit_test(cobs_stream_splits_frames),
		cmocka_unit_test(value_to_pack_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
