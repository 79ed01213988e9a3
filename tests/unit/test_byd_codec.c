/*
 * The BYD PRO 2.5 codec: the read request byte for byte as the seed client builds it, the reply
 * frame's checks (size, version, marks, sum, length cap), the assembler on hostile input (noise
 * before a frame, a frame cut in pieces, a bad sum, a size that announces too much), the record
 * at its hand-checked offsets, and its neutral view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/byd.h"
#include "fake_io.h"

/* The hand-built 16S reply of tests/vectors/byd.json (byd_read_16s_discharging_handmade). */
static const char REPLY_16S[] =
	"010065018355AA0080CF00006CCF0000F80CF80CF80CF80CEE0CF80CF80CF80CF80CF80CF80CF80CF80CF80C"
	"F80CFD0CCCCFFFFF18001900190018001A001700FEFF1F000000000000000000000000000000000000800000"
	"02003700620000007B00000039300000F4";

static size_t reply_16s(uint8_t *w)
{
	return hex_to_bytes(REPLY_16S, w, BYD_FRAME_MAX);
}

static void request_is_the_seeds(void **state)
{
	static const uint8_t want1[] = { 0x01, 0x00, 0x04, 0x01, 0x03, 0x55, 0xAA, 0x07 };
	static const uint8_t want14[] = { 0x0E, 0x00, 0x04, 0x01, 0x03, 0x55, 0xAA, 0x07 };
	struct byd_frame f;
	uint8_t w[BYD_FRAME_MAX];
	size_t n;

	(void)state;
	rig_byd_request_read(&f, 1);
	assert_int_equal(rig_byd_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_int_equal(n, BYD_REQUEST_LEN);
	assert_memory_equal(w, want1, sizeof want1);
	/* The address is outside the sum: every pack's request ends in 07. */
	rig_byd_request_read(&f, 14);
	assert_int_equal(rig_byd_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_memory_equal(w, want14, sizeof want14);
	assert_int_equal(rig_byd_frame_encode(&f, w, 7, &n), RIG_ERR_SPACE);
	assert_true(rig_byd_frame_is_request(&f));
}

static void parse_checks_every_fixed_byte(void **state)
{
	uint8_t w[BYD_FRAME_MAX], bad[BYD_FRAME_MAX];
	size_t n = reply_16s(w);
	struct byd_frame f;
	static const struct { size_t at; uint8_t v; rig_rc rc; } breaks[] = {
		{ 2, 0x64, RIG_ERR_LENGTH },   /* size one short */
		{ 3, 0x02, RIG_ERR_FRAME },    /* version */
		{ 4, 0x84, RIG_ERR_FRAME },    /* an unknown command */
		{ 5, 0x56, RIG_ERR_FRAME },
		{ 6, 0xAB, RIG_ERR_FRAME },
		{ 104, 0xF5, RIG_ERR_CHECKSUM },
		{ 50, 0x00, RIG_ERR_CHECKSUM },   /* a record byte changed, sum kept */
	};

	(void)state;
	assert_int_equal(n, BYD_READ_REPLY_LEN);
	assert_int_equal(rig_byd_frame_parse(w, n, &f), RIG_OK);
	assert_int_equal(f.addr, 1);
	assert_int_equal(f.cmd, 0x83);
	assert_int_equal(f.len, 97);
	assert_false(rig_byd_frame_is_request(&f));
	for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		memcpy(bad, w, n);
		bad[breaks[i].at] = breaks[i].v;
		assert_int_equal(rig_byd_frame_parse(bad, n, &f), breaks[i].rc);
	}
	assert_int_equal(rig_byd_frame_parse(w, n - 1, &f), RIG_ERR_LENGTH);
	assert_int_equal(rig_byd_frame_parse(w, 7, &f), RIG_ERR_LENGTH);
}

static void record_fields_at_their_offsets(void **state)
{
	uint8_t w[BYD_FRAME_MAX], out[BYD_FRAME_MAX];
	size_t n = reply_16s(w), m;
	struct byd_frame f, g;
	struct byd_data d;

	(void)state;
	assert_int_equal(rig_byd_frame_parse(w, n, &f), RIG_OK);
	assert_int_equal(rig_byd_data_decode(&f, &d), RIG_OK);
	assert_int_equal(d.pack_mV, 53120);
	assert_int_equal(d.battery_mV, 53100);
	assert_int_equal(d.cell_mV[0], 3320);
	assert_int_equal(d.cell_mV[4], 3310);
	assert_int_equal(d.cell_mV[15], 3325);
	assert_int_equal(d.current_mA, -12340);
	assert_int_equal(d.temp_C[0], 24);
	assert_int_equal(d.temp_C[6], -2);
	assert_int_equal(d.temp_C[7], 31);
	assert_int_equal(d.balance, 0x8000);
	assert_int_equal(d.battery_state, BYD_BAT_DISCHARGE);
	assert_int_equal(d.soc_pct, 55);
	assert_int_equal(d.soh_pct, 98);
	assert_int_equal(d.discharge_count, 123);
	assert_int_equal(d.total_discharge, 12345);
	/* And back: the builder gives the same bytes. */
	rig_byd_response_data(&g, f.addr, &d);
	assert_int_equal(rig_byd_frame_encode(&g, out, sizeof out, &m), RIG_OK);
	assert_int_equal(m, n);
	assert_memory_equal(out, w, n);
}

static void decode_refuses_errors_and_odd_lengths(void **state)
{
	struct byd_frame f;
	struct byd_data d;

	(void)state;
	rig_byd_response_error(&f, 1, 0x02);
	assert_int_equal(rig_byd_data_decode(&f, &d), RIG_ERR_STATUS);
	rig_byd_response_data(&f, 1, &d);
	f.len = 96;
	assert_int_equal(rig_byd_data_decode(&f, &d), RIG_ERR_LENGTH);
	rig_byd_request_read(&f, 1);
	assert_int_equal(rig_byd_data_decode(&f, &d), RIG_ERR_UNSUPPORTED);
}

static void neutral_view(void **state)
{
	uint8_t w[BYD_FRAME_MAX];
	size_t n = reply_16s(w);
	struct byd_frame f;
	struct byd_data d;
	struct pack_state s;

	(void)state;
	assert_int_equal(rig_byd_frame_parse(w, n, &f), RIG_OK);
	assert_int_equal(rig_byd_data_decode(&f, &d), RIG_OK);
	memset(&s, 0xAA, sizeof s);
	s.updated_ms = 777;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_OK);
	assert_int_equal(s.pack_mV, 53120);
	assert_int_equal(s.current_mA, -12340);
	assert_int_equal(s.soc_pct, 55);
	assert_int_equal(s.cell_count, 16);
	assert_int_equal(s.cell_mV[4], 3310);
	assert_int_equal(s.temp_count, 8);
	assert_int_equal(s.temp_dK[0], 2971);
	assert_int_equal(s.temp_dK[6], 2711);   /* -2 degC */
	assert_int_equal(s.fet_chg, 1);
	assert_int_equal(s.fet_dsg, 1);
	assert_int_equal(s.prot, 0);
	assert_int_equal(s.bal_mask, 0x8000);
	assert_int_equal(s.cycles, 123);
	assert_int_equal(s.remain_mAh, 0);      /* the record has no capacity */
	assert_int_equal(s.updated_ms, 777);    /* the engine's to set */

	/* 13 cells: the slots after the last non-zero one are not cells. */
	memset(&d.cell_mV[13], 0, 3 * sizeof d.cell_mV[0]);
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_OK);
	assert_int_equal(s.cell_count, 13);

	/* A cell over voltage trip stops charging, a short stops both ways; a sensor fault is AFE. */
	d.protect = BYD_ST_CELL_V_HIGH;
	d.fail = BYD_FAIL_TEMP_SENSOR;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_OK);
	assert_int_equal(s.prot, PACK_PROT_CELL_OV | PACK_PROT_AFE);
	assert_int_equal(s.fet_chg, 0);
	assert_int_equal(s.fet_dsg, 1);
	d.protect = BYD_ST_DSG_SHORT;
	d.fail = BYD_FAIL_CHG_FET;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_OK);
	assert_int_equal(s.prot, PACK_PROT_SHORT);
	assert_int_equal(s.fet_chg, 0);
	assert_int_equal(s.fet_dsg, 0);

	/* What no pack reports leaves the view untouched. */
	s.pack_mV = 1;
	d.soc_pct = 101;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_ERR_ARG);
	d.soc_pct = 50;
	d.cell_mV[2] = -1;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_ERR_ARG);
	d.cell_mV[2] = 3300;
	d.temp_C[3] = -274;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_ERR_ARG);
	d.temp_C[3] = 20;
	d.pack_mV = -5;
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_ERR_ARG);
	assert_int_equal(s.pack_mV, 1);
}

static void prot_words_round_trip(void **state)
{
	static const uint32_t each[] = {
		PACK_PROT_CELL_OV, PACK_PROT_CELL_UV, PACK_PROT_PACK_OV, PACK_PROT_PACK_UV,
		PACK_PROT_CHG_OT, PACK_PROT_CHG_UT, PACK_PROT_DSG_OT, PACK_PROT_DSG_UT,
		PACK_PROT_CHG_OC, PACK_PROT_DSG_OC, PACK_PROT_SHORT,
	};
	uint32_t all = 0;

	(void)state;
	for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
		uint32_t w = rig_byd_state_from_prot(each[i]);

		assert_int_equal(__builtin_popcount(w), 1);
		assert_int_equal(rig_byd_prot_from_state(w, 0), each[i]);
		all |= each[i];
	}
	assert_int_equal(rig_byd_state_from_prot(PACK_PROT_CELL_OV), BYD_ST_CELL_V_HIGH);
	assert_int_equal(rig_byd_state_from_prot(PACK_PROT_SHORT), BYD_ST_DSG_SHORT);
	assert_int_equal(rig_byd_prot_from_state(rig_byd_state_from_prot(all), 0), all);
	/* The module-level and charge-side twins read as the same neutral bit. */
	assert_int_equal(rig_byd_prot_from_state(BYD_ST_MODULE_V_HIGH | BYD_ST_CHG_SHORT, 0),
	                 PACK_PROT_PACK_OV | PACK_PROT_SHORT);
	/* Bits the neutral view has no name for read as nothing. */
	assert_int_equal(rig_byd_prot_from_state(BYD_ST_SOC_LOW | BYD_ST_CYCLES_HIGH, 0), 0);
}

/* Feeds the assembler in pieces of `piece` bytes; returns the frames it gave. */
static unsigned feed_all(struct byd_rx *rx, const uint8_t *p, size_t n, size_t piece, struct byd_frame *out,
                         unsigned max)
{
	unsigned got = 0;

	while (n) {
		size_t k = n < piece ? n : piece, used = rig_byd_rx_feed(rx, p, k, 0);

		p += used;
		n -= used;
		while (got < max && rig_byd_rx_next(rx, &out[got]) == RIG_OK)
			got++;
	}
	return got;
}

static void assembler_on_hostile_input(void **state)
{
	uint8_t w[BYD_FRAME_MAX], s[3 * BYD_FRAME_MAX + 64];
	size_t n = reply_16s(w), len = 0;
	struct byd_rx rx;
	struct byd_frame f[4];
	static const uint8_t noise[] = { 0x55, 0xAA, 0x01, 0x00, 0x65, 0x01, 0x83, 0xFF, 0x03, 0x55 };
	static const uint8_t huge[] = { 0x07, 0xFF, 0xF0, 0x01, 0x83, 0x55, 0xAA };

	(void)state;
	/* Noise, a bad-sum copy, a size that announces 65 KB, then the frame: only the frame. */
	memcpy(s + len, noise, sizeof noise);
	len += sizeof noise;
	memcpy(s + len, w, n);
	s[len + n - 1] ^= 0x01;
	len += n;
	memcpy(s + len, huge, sizeof huge);
	len += sizeof huge;
	memcpy(s + len, w, n);
	len += n;
	for (size_t piece = 1; piece <= len; piece = piece * 3 + 1) {
		rig_byd_rx_init(&rx, 0);
		assert_int_equal(feed_all(&rx, s, len, piece, f, 4), 1);
		assert_int_equal(f[0].len, 97);
		assert_int_equal(rx.b.have, 0);
		assert_true(rx.b.rejected_frames > 0);
	}
	/* Two frames back to back, and a request: each comes out whole. */
	rig_byd_rx_init(&rx, 0);
	len = hex_to_bytes("010004010355AA07", s, sizeof s);
	memcpy(s + len, w, n);
	assert_int_equal(feed_all(&rx, s, len + n, 5, f, 4), 2);
	assert_true(rig_byd_frame_is_request(&f[0]));
	assert_int_equal(f[1].cmd, 0x83);
	/* A header in noise that announces more than follows does not hold back the whole frame
	 * behind it, even when nothing comes after. */
	rig_byd_rx_init(&rx, 0);
	len = hex_to_bytes("09007401830055AA", s, sizeof s);
	s[3] = 0x01;
	s[4] = 0x83;
	s[5] = 0x55;
	s[6] = 0xAA;
	memcpy(s + 7, w, n);
	assert_int_equal(feed_all(&rx, s, 7 + n, 7 + n, f, 4), 1);
	assert_int_equal(f[0].addr, 1);
	assert_int_equal(f[0].len, 97);
	assert_int_equal(rx.b.have, 0);
	assert_int_equal(rx.b.skipped_bytes, 7);
	/* A pause longer than the gap drops a partial frame. */
	rig_byd_rx_init(&rx, 200);
	rig_byd_rx_feed(&rx, w, 50, 0);
	assert_int_equal(rig_byd_rx_next(&rx, f), RIG_MORE);
	rig_byd_rx_feed(&rx, w + 50, n - 50, 1000);
	assert_int_not_equal(rig_byd_rx_next(&rx, f), RIG_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_is_the_seeds),
		cmocka_unit_test(parse_checks_every_fixed_byte),
		cmocka_unit_test(record_fields_at_their_offsets),
		cmocka_unit_test(decode_refuses_errors_and_odd_lengths),
		cmocka_unit_test(neutral_view),
		cmocka_unit_test(prot_words_round_trip),
		cmocka_unit_test(assembler_on_hostile_input),
	};

	return cmocka_run_group_tests_name("byd_codec", tests, NULL, NULL);
}
