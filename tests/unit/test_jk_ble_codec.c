/*
 * JK BLE codec: command bytes against docs/protocols/jk.md's worked frames, rejections, record field offsets
 * of each layout, JK04 floats (exhaustively against exact arithmetic, and against the
 * JK-B5A24S capture), settings registers, and the record assembler fed like a BLE link.
 * Records used: the captures of tests/vectors/jk.json and, for JK04 settings, the JK-B5A24S
 * frames of syssi/esphome-jk-bms tests/components/jk_bms_ble/frames_jk04_b5a24s.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "bmsrig/core/jk_ble.h"
#include "fake_io.h"

/* tests/vectors/jk.json jk02_24s_cells_24 (JK-B2A24S20P sw 10.07). */
static const char CELLS_24S[] =
	"55AAEB9002FCD40CD00CCF0CD00CD00CCF0CCF0CD10CD00CCF0CD00CCF0CD20CD40CCF0CCF0CD00C"
	"CF0CD10CD20CD20CD20CD50CD10CFFFFFF00D10C0500000364006C00680063005F005D005B005E00"
	"7F0079006B006F006F006800640060005B00580058005B0060006500680061000000000000008F33"
	"01000000000000000000CF00CF00EA0000000000005534A7000050C3000000000000F93400006400"
	"40051C1C040001008506000000000000000000000000070001000000FA030000000000D23F400000"
	"0000E204000000000001000300001A19290000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000043";
/* tests/vectors/jk.json jk_pb_rs485_cells, the 300-byte record without its Modbus echo. */
static const char CELLS_32S[] =
	"55AAEB9002051D0D1D0D1D0D1C0D1C0D1D0D1C0D1C0D000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000FF0000001D0D01000400"
	"420042004E0052005700570064006600000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000002C0100000000E4680000604F0700B145"
	"0000280126010000000000000058B9F30200605B030065000000E0135601640000007A0BCE000101"
	"0000000000000000000000000000FF0001000000E8032F00000066F43F40000000007D0A00000001"
	"0101000600001E020000000000002C011E011E01B503ED19ED08AE1C000080510100000000000000"
	"00000000000000FEFF7FDD0F0100B007000000B5";
/* JK-B5A24S (JK04) settings and cell info, ESPHome frames_jk04_b5a24s.h. */
static const char SETTINGS_JK04[] =
	"55AAEB9001720000803F00000000000000000000000000000000000000000000000010000000CDCC"
	"4C400000000000000000000000000000000000000000000000000000000000000000C91E42400000"
	"000000000000000000000000000000000000000088409A9959406F12033C00009040010000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000006F";
static const char CELLS_JK04[] =
	"55AAEB9002721544544087FB54403B81544087FB5440D96C5440C3D25440775854404B2455403B81"
	"544061BE54409D95544061BE54403B815440E90F55409D955440D96C544000000000000000000000"
	"00000000000000000000000000000000000000000000F732993DE93EA13DE47C9D3D8A099A3D7090"
	"9A3D02B2923D5B82943D042D933DFA3C923D66EB933D883A933D5224973DE653983D039A953DD965"
	"923D11F49A3D00000000000000000000000000000000000000000000000000000000000000000000"
	"00006C8B54400072373C00000000FFFF0000070202013C5C26C000000000000000806D914A400000"
	"0000253B5A0000000000000000000000000000000000D002D0020000000000000000000003000000"
	"000000000000EA0509000098913F0078D53F001E";

static void load(const char *hex, uint8_t rec[JK_BLE_RECORD_LEN])
{
	assert_int_equal(hex_to_bytes(hex, rec, JK_BLE_RECORD_LEN), JK_BLE_RECORD_LEN);
	assert_int_equal(rig_jk_ble_record_check(rec, JK_BLE_RECORD_LEN), RIG_OK);
}

static void assert_cmd(const struct jk_ble_cmd *c, const char *hex)
{
	uint8_t want[JK_BLE_CMD_LEN], out[JK_BLE_CMD_LEN];

	assert_int_equal(hex_to_bytes(hex, want, sizeof want), JK_BLE_CMD_LEN);
	rig_jk_ble_cmd_encode(c, out);
	assert_memory_equal(out, want, JK_BLE_CMD_LEN);
}

/* ---- commands ----------------------------------------------------------------------------- */

static void commands_match_the_reference_frames(void **state)
{
	struct jk_ble_cmd c;

	(void)state;
	rig_jk_ble_cmd_read(&c, JK_BLE_REG_DEVICE_INFO);
	assert_cmd(&c, "AA5590EB970000000000000000000000000000 11");
	rig_jk_ble_cmd_read(&c, JK_BLE_REG_CELL_INFO);
	assert_cmd(&c, "AA5590EB960000000000000000000000000000 10");
	rig_jk_ble_cmd_ack(&c);
	assert_cmd(&c, "AA5590EBC80101000000000000000000000000 44");
	assert_true(rig_jk_ble_cmd_is_ack(&c));
	/* docs/protocols/jk.md §4.2 worked frames. */
	static const struct { uint8_t reg, len; uint32_t v; const char *hex; } w[] = {
		{ 0x1D, 4, 0, "AA5590EB1D0400000000000000000000000000 9B" },
		{ 0x1D, 4, 1, "AA5590EB1D0401000000000000000000000000 9C" },
		{ 0x1E, 4, 0, "AA5590EB1E0400000000000000000000000000 9C" },
		{ 0x1E, 4, 1, "AA5590EB1E0401000000000000000000000000 9D" },
		{ 0x1F, 4, 1, "AA5590EB1F0401000000000000000000000000 9E" },
		{ 0x04, 4, 3650, "AA5590EB0404420E0000000000000000000000 D2" },
		{ 0x6C, 1, 1, "AA5590EB6C0101000000000000000000000000 E8" },
		{ 0xA5, 2, 1, "AA5590EBA50201000000000000000000000000 22" },
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		assert_int_equal(rig_jk_ble_cmd_write(&c, w[i].reg, w[i].len, w[i].v), RIG_OK);
		assert_cmd(&c, w[i].hex);
		assert_int_equal(rig_jk_ble_cmd_value(&c), w[i].v);
	}
	assert_int_equal(rig_jk_ble_cmd_write(&c, 0x9F, 5, 0), RIG_ERR_ARG);
}

static void command_parse_rejects(void **state)
{
	uint8_t w[24];
	struct jk_ble_cmd c;

	(void)state;
	/* The app's random padding (issue #171) is covered by the sum and kept. */
	assert_int_equal(hex_to_bytes("AA5590EB9700F42AF61E98D0E99B64A86AAFD62A", w, sizeof w), 20);
	assert_int_equal(rig_jk_ble_cmd_parse(w, 20, &c), RIG_OK);
	assert_int_equal(c.reg, 0x97);
	assert_int_equal(c.value_len, 0);
	assert_int_equal(c.value[0], 0xF4);
	assert_int_equal(rig_jk_ble_cmd_parse(w, 19, &c), RIG_ERR_LENGTH);
	assert_int_equal(rig_jk_ble_cmd_parse(w, 21, &c), RIG_ERR_LENGTH);
	w[19] ^= 1;
	assert_int_equal(rig_jk_ble_cmd_parse(w, 20, &c), RIG_ERR_CHECKSUM);
	w[19] ^= 1;
	w[0] = 0x55;
	assert_int_equal(rig_jk_ble_cmd_parse(w, 20, &c), RIG_ERR_FRAME);
	/* A value length beyond the 13 value bytes, with a right sum. */
	rig_jk_ble_cmd_read(&c, 0x9F);
	c.value_len = 14;
	rig_jk_ble_cmd_encode(&c, w);
	assert_int_equal(rig_jk_ble_cmd_parse(w, 20, &c), RIG_ERR_LENGTH);
}

/* ---- records ----------------------------------------------------------------------------- */

static void record_check_rejects(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN + 1];

	(void)state;
	load(CELLS_24S, r);
	assert_int_equal(rig_jk_ble_record_check(r, 299), RIG_ERR_LENGTH);
	assert_int_equal(rig_jk_ble_record_check(r, 301), RIG_ERR_LENGTH);
	r[200] ^= 0x10;
	assert_int_equal(rig_jk_ble_record_check(r, 300), RIG_ERR_CHECKSUM);
	r[200] ^= 0x10;
	r[3] = 0x91;
	assert_int_equal(rig_jk_ble_record_check(r, 300), RIG_ERR_FRAME);
	/* An unknown type is still a record: the client, not the framing, ignores it. */
	r[3] = 0x90;
	r[4] = 0x07;
	rig_jk_ble_record_seal(r);
	assert_int_equal(rig_jk_ble_record_check(r, 300), RIG_OK);
	struct jk_ble_cells c;
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK02_24S, &c), RIG_ERR_ARG);
	r[4] = JK_BLE_REC_CELLS;
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_LAYOUT_COUNT, &c), RIG_ERR_ARG);
}

static void layout_detection(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN];

	(void)state;
	load(CELLS_24S, r);
	assert_int_equal(rig_jk_ble_layout_detect(r), JK_BLE_JK02_24S);
	load(CELLS_32S, r);
	assert_int_equal(rig_jk_ble_layout_detect(r), JK_BLE_JK02_32S);
	load(CELLS_JK04, r);
	assert_int_equal(rig_jk_ble_layout_detect(r), JK_BLE_JK04);
	load(SETTINGS_JK04, r);
	assert_int_equal(rig_jk_ble_layout_detect(r), JK_BLE_JK04);
	assert_string_equal(rig_jk_ble_layout_name(JK_BLE_JK02_32S), "JK02_32S");
	assert_string_equal(rig_jk_ble_layout_name(7), "?");
}

/* Fields of the v15 JK-PB capture at their 32S offsets, as docs/protocols/jk.md §6.2 frame L decodes them. */
static void cells_32s_offsets(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c;

	(void)state;
	load(CELLS_32S, r);
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK02_32S, &c), RIG_OK);
	assert_int_equal(c.cell_mask, 0xFF);
	assert_int_equal(c.cell_mV[0], 3357);
	assert_int_equal(c.cell_mV[7], 3356);
	assert_int_equal(c.cell_mV[8], 0);
	assert_int_equal(c.avg_cell_mV, 3357);
	assert_int_equal(c.delta_cell_mV, 1);
	assert_int_equal(c.mos_temp_dK, 2731 + 300);
	assert_int_equal(c.pack_mV, 26852);
	assert_int_equal(c.current_mA, 17841);
	assert_int_equal(c.temp_dK[0], 2731 + 296);
	assert_int_equal(c.temp_dK[1], 2731 + 294);
	assert_int_equal(c.temp_dK[2], 2731 + 300);
	assert_int_equal(c.temp_dK[3], 2731 + 286);
	assert_int_equal(c.temp_dK[4], 2731 + 286);
	assert_int_equal(c.temp_present, 0xFF);
	assert_int_equal(c.soc_pct, 88);
	assert_int_equal(c.remain_mAh, 193465);
	assert_int_equal(c.full_mAh, 220000);
	assert_int_equal(c.cycles, 101);
	assert_int_equal(c.soh_pct, 100);
	assert_int_equal(c.fet_chg, 1);
	assert_int_equal(c.fet_dsg, 1);
}

static void cells_24s_offsets(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c;

	(void)state;
	load(CELLS_24S, r);
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK02_24S, &c), RIG_OK);
	assert_int_equal(c.cell_mask, 0xFFFFFF);
	assert_int_equal(c.cell_mV[22], 3285);
	assert_int_equal(c.pack_mV, 78735);
	assert_int_equal(c.mos_temp_dK, 2731 + 234);
	assert_int_equal(c.soc_pct, 85);
	assert_int_equal(c.remain_mAh, 42804);
	assert_int_equal(c.cycle_capacity_mAh, 13561);
	assert_int_equal(c.runtime_s, 269340);
	assert_int_equal(c.fet_chg, 1);
	assert_int_equal(c.fet_dsg, 0);
	assert_int_equal(c.temp_present, 0x07);
}

/* A struct encoded into a fresh record: each field at its place, little-endian, signed right. */
static void cells_encode_places_fields(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c, back;

	(void)state;
	memset(&c, 0, sizeof c);
	c.cell_mV[0] = 3300;
	c.cell_mV[31] = 3400;
	c.cell_mask = 0x80000001u;
	c.current_mA = -31881;
	c.temp_dK[0] = 2731 - 50;               /* -5.0 degC */
	c.temp_dK[4] = 2731 + 135;
	c.errors = 0x08000010u;
	c.balance_current_mA = -2019;
	c.pack_mV = 53224;
	rig_jk_ble_record_begin(r, JK_BLE_REC_CELLS, 9);
	assert_int_equal(rig_jk_ble_cells_encode(r, JK_BLE_JK02_32S, &c), RIG_OK);
	static const uint8_t cur[] = { 0x77, 0x83, 0xFF, 0xFF };
	assert_memory_equal(r + 158, cur, 4);
	assert_int_equal(r[162], 0xCE);
	assert_int_equal(r[163], 0xFF);
	assert_int_equal(r[258], 0x87);
	assert_int_equal(r[169], 0x08);
	assert_int_equal(r[170], 0x1D);
	assert_int_equal(r[171], 0xF8);
	assert_int_equal(r[68], 0x48);                   /* cell 32 = 0x0D48 */
	assert_int_equal(r[5], 9);
	rig_jk_ble_record_seal(r);
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK02_32S, &back), RIG_OK);
	assert_memory_equal(&back, &c, sizeof c);

	/* 24S: the same current 32 bytes earlier; errors only 16 bits wide there. */
	rig_jk_ble_record_begin(r, JK_BLE_REC_CELLS, 0);
	assert_int_equal(rig_jk_ble_cells_encode(r, JK_BLE_JK02_24S, &c), RIG_ERR_ARG);
	c.errors = 0x0010;
	assert_int_equal(rig_jk_ble_cells_encode(r, JK_BLE_JK02_24S, &c), RIG_OK);
	assert_memory_equal(r + 126, cur, 4);
	/* Out of a field's range is refused, never clipped. */
	c.balance_current_mA = 40000;
	assert_int_equal(rig_jk_ble_cells_encode(r, JK_BLE_JK02_24S, &c), RIG_ERR_ARG);
	c.balance_current_mA = 0;
	c.temp_dK[1] = 2731 + 40000;
	assert_int_equal(rig_jk_ble_cells_encode(r, JK_BLE_JK02_24S, &c), RIG_ERR_ARG);
}

/* Clearing leaves the bytes no decoder models (168..169, 0x85 0x06 on this capture) alone and
 * clears the modelled ones (the balance-wire resistances at 64..111 among them). */
static void clear_fields_keeps_unmodelled_bytes(void **state)
{
	static const uint8_t zero[48];
	uint8_t r[JK_BLE_RECORD_LEN], orig[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c;

	(void)state;
	load(CELLS_24S, orig);
	memcpy(r, orig, sizeof r);
	rig_jk_ble_record_clear_fields(r, JK_BLE_JK02_24S);
	assert_int_equal(orig[168], 0x85);
	assert_memory_equal(r + 168, orig + 168, 2);
	assert_memory_equal(r + 64, zero, 48);           /* resistances 64..111 */
	assert_int_equal(r[4], JK_BLE_REC_CELLS);
	rig_jk_ble_record_seal(r);
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK02_24S, &c), RIG_OK);
	assert_int_equal(c.pack_mV, 0);
	assert_int_equal(c.cell_mask, 0);
	assert_int_equal(c.temp_dK[0], JK_BLE_DK_ZERO_C);
}

/* ---- JK04 floats ----------------------------------------------------------------------- */

static double f32_of(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

/* Exact: a float times 1000 needs 34 bits, well inside a double. */
static double err_of(uint32_t bits, int32_t milli)
{
	return fabs(f32_of(bits) * 1000.0 - milli);
}

static void floats_decode_rounded_to_nearest(void **state)
{
	int32_t m;

	(void)state;
	assert_int_equal(rig_jk_ble_f32_to_milli(0x4057833Cu, &m), RIG_OK);   /* the B2A16S cell 1 */
	assert_int_equal(m, 3367);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x405691FFu, &m), RIG_OK);   /* docs/protocols/jk.md frame I, 3.3527 V */
	assert_int_equal(m, 3353);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x3F960000u, &m), RIG_OK);   /* 1.171875 A */
	assert_int_equal(m, 1172);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x3D800000u, &m), RIG_OK);   /* 0.0625: 62.5 -> 63 */
	assert_int_equal(m, 63);
	assert_int_equal(rig_jk_ble_f32_to_milli(0xBD800000u, &m), RIG_OK);   /* halves away from zero */
	assert_int_equal(m, -63);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x80000000u, &m), RIG_OK);   /* -0 */
	assert_int_equal(m, 0);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x00000001u, &m), RIG_OK);   /* subnormal */
	assert_int_equal(m, 0);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x7F800000u, &m), RIG_ERR_ARG);   /* inf */
	assert_int_equal(rig_jk_ble_f32_to_milli(0x7FC00000u, &m), RIG_ERR_ARG);   /* NaN */
	assert_int_equal(rig_jk_ble_f32_to_milli(0x4B000000u, &m), RIG_ERR_ARG);   /* 2^23 V */
	assert_int_equal(rig_jk_ble_f32_to_milli(0x4A000000u, &m), RIG_OK);        /* 2^21 V fits */
	assert_int_equal(m, 2097152000);
	assert_int_equal(rig_jk_ble_f32_to_milli(0x4A800000u, &m), RIG_ERR_ARG);   /* 2^22 V does not */
	/* Every float from 0 to 8 V decodes to the nearest milli-unit (sampled every 97 ulps). */
	for (uint32_t b = 0x3A000000u; b < 0x41000000u; b += 97) {
		double exact = f32_of(b) * 1000.0;

		assert_int_equal(rig_jk_ble_f32_to_milli(b, &m), RIG_OK);
		assert_true(fabs(exact - m) <= 0.5);
		if (fabs(exact - m) == 0.5)
			assert_true(fabs((double)m) > fabs(exact));
	}
}

static void floats_encode_nearest_ties_even(void **state)
{
	(void)state;
	assert_int_equal(rig_jk_ble_milli_to_f32(0), 0u);
	assert_int_equal(rig_jk_ble_milli_to_f32(1000), 0x3F800000u);
	assert_int_equal(rig_jk_ble_milli_to_f32(-4500), 0xC0900000u);
	assert_int_equal(rig_jk_ble_milli_to_f32(3200), 0x404CCCCDu);   /* the B5A24S power-off 3.2 V */
	assert_int_equal(rig_jk_ble_milli_to_f32(8), 0x3C03126Fu);      /* its balance trigger 8 mV */
	for (int32_t x = -70000; x <= 70000; x++) {
		uint32_t f = rig_jk_ble_milli_to_f32(x);
		int32_t back;
		double e = err_of(f, x), up = err_of(f + 1u, x), down = err_of(f - 1u, x);

		assert_int_equal(rig_jk_ble_f32_to_milli(f, &back), RIG_OK);
		assert_int_equal(back, x);
		if (x) {
			assert_true(e <= up && e <= down);
			if (e == up || e == down)
				assert_int_equal(f & 1u, 0);
		}
	}
	/* Exact ties need 25 significant bits in x / 1000 = k / 8, so only near 2^21 units:
	 * (2^24 + 1) / 8 goes down to the even mantissa, (2^24 + 3) / 8 up to it. */
	assert_int_equal(rig_jk_ble_milli_to_f32(125 * ((1 << 24) + 1)), 0x4A000000u);
	assert_int_equal(rig_jk_ble_milli_to_f32(125 * ((1 << 24) + 3)), 0x4A000002u);
	assert_int_equal(rig_jk_ble_milli_to_f32(-125 * ((1 << 24) + 1)), 0xCA000000u);
	/* Extremes stay normal floats and keep their sign. */
	assert_int_equal(rig_jk_ble_milli_to_f32(INT32_MIN) >> 31, 1);
	assert_true(fabs(f32_of(rig_jk_ble_milli_to_f32(1)) - 0.001) < 1e-10);
	assert_true(fabs(f32_of(rig_jk_ble_milli_to_f32(INT32_MAX)) - 2147483.647) < 0.2);
}

static void jk04_records(void **state)
{
	uint8_t r[JK_BLE_RECORD_LEN], fresh[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c, back;
	struct jk_ble_settings s;

	(void)state;
	load(CELLS_JK04, r);
	assert_int_equal(rig_jk_ble_cells_decode(r, JK_BLE_JK04, &c), RIG_OK);
	static const uint16_t cells[] = { 3317, 3328, 3320, 3328, 3319, 3325, 3318, 3330,
	                                  3320, 3324, 3322, 3324, 3320, 3329, 3322, 3319 };
	assert_memory_equal(c.cell_mV, cells, sizeof cells);
	assert_int_equal(c.cell_mask, 0xFFFF);
	assert_int_equal(c.avg_cell_mV, 3321);
	assert_int_equal(c.delta_cell_mV, 11);
	assert_int_equal(c.balance_action, 2);
	assert_int_equal(c.balance_current_mA, -2599);      /* "discharging at -2.6 A" */
	assert_int_equal(c.runtime_s, 591338);
	uint32_t sum = 0;
	for (size_t i = 0; i < 16; i++)
		sum += cells[i];
	assert_int_equal(c.pack_mV, sum);
	/* The balance-wire resistances, f32 Ohm at 102 + 4i, rounded to mOhm; zero past cell 16. */
	static const uint16_t res[24] = { 75, 79, 77, 75, 75, 72, 73, 72, 71, 72, 72, 74, 74, 73, 71, 76 };
	assert_memory_equal(c.wire_res_mOhm, res, sizeof res);
	/* The record carries no current, SOC, temperatures or FET states (bytes 226..285 hold
	 * none of them; ESPHome and mpp-solar decode none), so the neutral view has none either:
	 * a JK04 client's 0 A, 0 % and FETs off are the board's silence, not the emulator's. */
	struct pack_state ps;
	rig_jk_ble_to_pack_state(&c, JK_BLE_JK04, &ps);
	assert_int_equal(ps.cell_count, 16);
	assert_int_equal(ps.pack_mV, sum);
	assert_int_equal(ps.temp_count, 0);
	assert_int_equal(ps.current_mA, 0);
	assert_int_equal(ps.soc_pct, 0);
	assert_int_equal(ps.fet_chg | ps.fet_dsg, 0);

	/* Encoded afresh: the nearest floats, which decode to the same values. */
	rig_jk_ble_record_begin(fresh, JK_BLE_REC_CELLS, 0);
	assert_int_equal(rig_jk_ble_cells_encode(fresh, JK_BLE_JK04, &c), RIG_OK);
	rig_jk_ble_record_seal(fresh);
	assert_int_equal(rig_jk_ble_layout_detect(fresh), JK_BLE_JK04);
	assert_int_equal((uint32_t)fresh[6] | (uint32_t)fresh[7] << 8 | (uint32_t)fresh[8] << 16 | (uint32_t)fresh[9] << 24,
	                 rig_jk_ble_milli_to_f32(3317));
	assert_int_equal(rig_jk_ble_cells_decode(fresh, JK_BLE_JK04, &back), RIG_OK);
	assert_memory_equal(&back, &c, sizeof c);

	load(SETTINGS_JK04, r);
	assert_int_equal(rig_jk_ble_settings_decode(r, JK_BLE_JK04, &s), RIG_OK);
	assert_int_equal(s.value[JK_SET_CELL_COUNT], 16);
	assert_int_equal(s.value[JK_SET_POWER_OFF_MV], 3200);
	assert_int_equal(s.value[JK_SET_BAL_TRIGGER_MV], 8);
	assert_int_equal(s.value[JK_SET_MAX_BAL_MA], 4500);
	assert_int_equal(s.value[JK_SET_BAL_START_MV], 4250);
	assert_int_equal(s.value[JK_SET_BAL_SWITCH], 1);
	assert_int_equal(s.value[JK_SET_CELL_OVP_MV], 0);   /* not in JK04 */
	assert_false(rig_jk_ble_setting_present(JK_BLE_JK04, JK_SET_CELL_OVP_MV));
	assert_true(rig_jk_ble_setting_present(JK_BLE_JK02_24S, JK_SET_CELL_OVP_MV));
}

static void settings_registers(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_24S, JK_SET_CELL_OVP_MV), 0x04);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_32S, JK_SET_CHG_SWITCH), 0x1D);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_32S, JK_SET_CAPACITY_MAH), 0x20);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_24S, JK_SET_SCP_DELAY_US), 0x25);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_32S, JK_SET_SCP_DELAY_US), 0x21);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_24S, JK_SET_BAL_START_MV), 0x26);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK02_32S, JK_SET_BAL_START_MV), 0x22);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK04, JK_SET_BAL_SWITCH), 0x6C);
	assert_int_equal(rig_jk_ble_setting_reg(JK_BLE_JK04, JK_SET_CHG_SWITCH), 0);
	assert_int_equal(rig_jk_ble_setting_of_reg(JK_BLE_JK02_32S, 0x22), JK_SET_BAL_START_MV);
	assert_int_equal(rig_jk_ble_setting_of_reg(JK_BLE_JK02_24S, 0x1E), JK_SET_DSG_SWITCH);
	assert_int_equal(rig_jk_ble_setting_of_reg(JK_BLE_JK02_24S, 0x96), -1);
	assert_int_equal(rig_jk_ble_setting_of_reg(JK_BLE_JK04, 0x1D), -1);
	assert_int_equal(rig_jk_ble_setting_of_reg(JK_BLE_JK04, 0x64), JK_SET_BAL_TRIGGER_MV);
	/* JK04 takes floats for voltages, plain numbers for the switch. */
	assert_int_equal(rig_jk_ble_setting_from_wire(JK_BLE_JK04, JK_SET_BAL_TRIGGER_MV, 0x3C03126Fu, &v), RIG_OK);
	assert_int_equal(v, 8);
	assert_int_equal(rig_jk_ble_setting_to_wire(JK_BLE_JK04, JK_SET_POWER_OFF_MV, 3200), 0x404CCCCDu);
	assert_int_equal(rig_jk_ble_setting_from_wire(JK_BLE_JK04, JK_SET_BAL_SWITCH, 1, &v), RIG_OK);
	assert_int_equal(v, 1);
	assert_int_equal(rig_jk_ble_setting_from_wire(JK_BLE_JK04, JK_SET_BAL_START_MV, 0x7FC00000u, &v), RIG_ERR_ARG);
	assert_int_equal(rig_jk_ble_setting_to_wire(JK_BLE_JK02_24S, JK_SET_CELL_OVP_MV, 3650), 3650);
}

/* ---- the assembler --------------------------------------------------------------------- */

struct sink {
	uint8_t frames[8][JK_BLE_RECORD_LEN];
	size_t len[8], count;
	size_t fed, framed;
};

static void drain(struct jk_ble_rx *rx, struct sink *s)
{
	const uint8_t *w;
	size_t n;

	while (rig_jk_ble_rx_next(rx, &w, &n) == RIG_OK) {
		assert_true(s->count < 8);
		memcpy(s->frames[s->count], w, n);
		s->len[s->count++] = n;
		s->framed += n;
	}
	/* Every byte is in a frame, counted as skipped, or still buffered. */
	assert_int_equal(s->fed, s->framed + rx->b.skipped_bytes + rx->b.have - rx->out);
}

static void feed_pieces(struct jk_ble_rx *rx, struct sink *s, const uint8_t *p, size_t n,
                        size_t piece, uint32_t *t)
{
	while (n) {
		size_t k = n < piece ? n : piece, off = 0;

		*t += 10;
		while (off < k) {
			size_t used = rig_jk_ble_rx_feed(rx, p + off, k - off, *t);

			s->fed += used;
			off += used;
			drain(rx, s);
		}
		p += k;
		n -= k;
	}
}

/* The line a BLE client sees: ack + "AT\r\n", chatter, three records of three layouts. */
static size_t stream(uint8_t *out)
{
	size_t n = 0;

	n += hex_to_bytes("AA5590EBC80101000000000000000000000000 44 41540D0A", out + n, 64);
	n += hex_to_bytes(CELLS_24S, out + n, 300);
	n += hex_to_bytes("41540D0A 55AA 00 AA55 FF", out + n, 64);      /* chatter, half headers */
	n += hex_to_bytes(CELLS_32S, out + n, 300);
	n += hex_to_bytes(CELLS_JK04, out + n, 300);
	return n;
}

static void assembler_any_piece_size(void **state)
{
	static const size_t pieces[] = { 20, 1, 7, 128, 150, 1000 };
	uint8_t line[1000], want[JK_BLE_RECORD_LEN];
	size_t n = stream(line);

	(void)state;
	for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		struct jk_ble_rx rx;
		static struct sink s;
		uint32_t t = 0;

		memset(&s, 0, sizeof s);
		rig_jk_ble_rx_init(&rx, 200);
		feed_pieces(&rx, &s, line, n, pieces[k], &t);
		assert_int_equal(s.count, 4);
		assert_int_equal(s.len[0], 20);
		assert_int_equal(s.frames[0][4], 0xC8);
		load(CELLS_24S, want);
		assert_memory_equal(s.frames[1], want, 300);
		load(CELLS_32S, want);
		assert_memory_equal(s.frames[2], want, 300);
		load(CELLS_JK04, want);
		assert_memory_equal(s.frames[3], want, 300);
		assert_int_equal(rx.b.rejected_frames, 0);
		assert_int_equal(rx.b.skipped_bytes, 4 + 4 + 6);
	}
}

/* A record whose tail was lost runs into the next one's header: the sum fails, the next
 * record still comes out whole (docs/protocols/jk.md §3.4). A record with a bad sum never does. */
static void assembler_truncated_then_good(void **state)
{
	uint8_t line[1000], rec[JK_BLE_RECORD_LEN];
	struct jk_ble_rx rx;
	static struct sink s;
	uint32_t t = 0;
	size_t n = 0;

	(void)state;
	memset(&s, 0, sizeof s);
	load(CELLS_32S, rec);
	memcpy(line, rec, 150);                        /* the first half of a record */
	n = 150;
	memcpy(line + n, rec, 300);                    /* then a whole one */
	n += 300;
	rec[100] ^= 0xFF;                              /* then one with a bad sum */
	memcpy(line + n, rec, 300);
	n += 300;
	rig_jk_ble_rx_init(&rx, 0);
	feed_pieces(&rx, &s, line, n, 20, &t);
	assert_int_equal(s.count, 1);
	assert_memory_equal(s.frames[0], line + 150, 300);
	assert_true(rx.b.rejected_frames >= 2);
}

/* field (5 % of notifications lost): record A loses a 20-byte notification, so the 300-byte
 * window from its header ends 20 bytes into record B. One time in 256 that window's sum8 is
 * right; here a byte of B is chosen to make it so. The spliced window must never come out:
 * B's header inside it restarts the search, and B comes out whole. */
static void assembler_never_splices_after_a_lost_notification(void **state)
{
	uint8_t line[1000], a[JK_BLE_RECORD_LEN], b[JK_BLE_RECORD_LEN];
	struct jk_ble_rx rx;
	static struct sink s;
	uint32_t t = 0;
	size_t n;

	(void)state;
	memset(&s, 0, sizeof s);
	load(CELLS_32S, a);
	load(CELLS_32S, b);
	memcpy(line, a, 140);                          /* notification 8 (bytes 140..159) lost */
	memcpy(line + 140, a + 160, 140);
	n = 280;
	b[6] = (uint8_t)(b[6] + 1);                    /* B's counter moves on */
	b[18] = 0;
	b[18] = (uint8_t)(b[19] - rig_jk_ble_sum8(line, 280) - rig_jk_ble_sum8(b, 19));
	rig_jk_ble_record_seal(b);
	assert_int_equal((rig_jk_ble_sum8(line, 280) + rig_jk_ble_sum8(b, 19)) & 0xFF, b[19]);   /* the collision */
	memcpy(line + n, b, 300);
	n += 300;
	rig_jk_ble_rx_init(&rx, 0);
	feed_pieces(&rx, &s, line, n, 20, &t);
	assert_int_equal(s.count, 1);
	assert_memory_equal(s.frames[0], b, 300);
	assert_int_equal(rx.b.rejected_frames, 1);
}

/* A partial frame older than gap_ms is dropped: its tail will never come. */
static void assembler_gap_drops_partial(void **state)
{
	uint8_t rec[JK_BLE_RECORD_LEN];
	struct jk_ble_rx rx;
	const uint8_t *w;
	size_t n;

	(void)state;
	load(CELLS_24S, rec);
	rig_jk_ble_rx_init(&rx, 200);
	assert_int_equal(rig_jk_ble_rx_feed(&rx, rec, 100, 0), 100);
	assert_int_equal(rig_jk_ble_rx_next(&rx, &w, &n), RIG_MORE);
	assert_int_equal(rig_jk_ble_rx_feed(&rx, rec, 300, 201), 300);
	assert_int_equal(rx.b.skipped_bytes, 100);
	assert_int_equal(rig_jk_ble_rx_next(&rx, &w, &n), RIG_OK);
	assert_int_equal(n, 300);
	assert_memory_equal(w, rec, 300);
	assert_int_equal(rig_jk_ble_rx_next(&rx, &w, &n), RIG_MORE);
	assert_int_equal(rx.b.have, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands_match_the_reference_frames),
		cmocka_unit_test(command_parse_rejects),
		cmocka_unit_test(record_check_rejects),
		cmocka_unit_test(layout_detection),
		cmocka_unit_test(cells_32s_offsets),
		cmocka_unit_test(cells_24s_offsets),
		cmocka_unit_test(cells_encode_places_fields),
		cmocka_unit_test(clear_fields_keeps_unmodelled_bytes),
		cmocka_unit_test(floats_decode_rounded_to_nearest),
		cmocka_unit_test(floats_encode_nearest_ties_even),
		cmocka_unit_test(jk04_records),
		cmocka_unit_test(assembler_never_splices_after_a_lost_notification),
		cmocka_unit_test(settings_registers),
		cmocka_unit_test(assembler_any_piece_size),
		cmocka_unit_test(assembler_truncated_then_good),
		cmocka_unit_test(assembler_gap_drops_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
