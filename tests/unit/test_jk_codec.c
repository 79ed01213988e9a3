/*
 * The JK "4E 57" codec against docs/protocols/jk.md: the builders' exact bytes (§2.2, §4.1),
 * parse rejections, the id table against the read-all length rule (§2.3), the encodings with
 * traps (§2.5: temperatures below 0 degC, currents beyond +-32.767 A, the old offset code), the
 * item walk's refusals, the alarm table, the receive assembler (garbage, "AT\r\n", pieces, bad
 * checksums) and the decoded-frame JSON of frames the golden vectors do not cover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/jk.h"
#include "bmsrig/sim/jk_json.h"
#include "bmsrig/core/pack_state.h"
#include "fake_io.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* docs/protocols/jk.md §2.8 / vector jk_4e57_14s_charging: 14S, "H6.X__S6.1.3S__", +2.08 A. */
#define F14S "4E57011B00000000060001792A010EED020EFA030EF7040EEC050EF8060EFA070EF1080EF8090EE3" \
	"0A0EFA0B0EF10C0EFB0D0EFB0E0EF280001D81001E82001C8314EF8480D0850F860287000489000000008A000E" \
	"8B00008C00078E16268F10AE900FD2910FA0920005930BEA940C1C95000596012C9700079800039900059A0005" \
	"9B0CE49C00089D019E005A9F0046A00064A10064A20014A30046A40046A5FFECA6FFF6A7FFECA8FFF6A90EAA00" \
	"00000EAB01AC01AD0411AE01AF01B0000AB114B231323334353600000000B300B4496E707574205573B5323130" \
	"31B60000E200B748362E585F5F53362E312E33535F5FB800B900000000BA4254333037323032303132303030" \
	"30323030353231303031C0010000000068000054D1"
/* docs/protocols/jk.md §6.1-D (syssi/esphome-jk-bms docs/pdus/7.1.0H.txt): JK-BD6A17S6P 16S, discharging
 * -0.69 A, with the transcription fix the reference documents (ID A0 had lost its "A"). */
#define F16S "4E570121000000000600017930010C81020C81030C82040C81050C83060C81070C71080C81090C7C" \
	"0A0C830B0C820C0C830D0C830E0C830F0C83100C82800012810010820010831401840045850F86028700118900" \
	"0005008A00108B00008C00038E16D08F1090900E42910DDE920005930A5A940ABE950005960" \
	"12C97003C98012C99001E9A001E9B0D7A9C000A9D019E005A9F0046A00064A10064A20014A30046A40046A500" \
	"00A60005A7FFECA8FFF6A910AA00000051AB01AC01AD02D5AE01AF01B0000AB114B231323334353600000000B3" \
	"00B4496E707574205573B532313036B600016400B748372E585F5F53372E312E30485F5FB800B900000000BA" \
	"425433303732303230313230303030323030353231303031C00100000000680000" "4AB1"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	return hex_to_bytes(hex, out, cap);
}

static void parse_hex(const char *hex, struct jk_frame *f)
{
	uint8_t w[JK_FRAME_MAX + 8];
	size_t n = unhex(hex, w, sizeof w);

	assert_int_equal(rig_jk_frame_parse(w, n, f), RIG_OK);
}

static void assert_frame_bytes(const struct jk_frame *f, const char *hex)
{
	uint8_t want[JK_FRAME_MAX], got[JK_FRAME_MAX];
	size_t nw = unhex(hex, want, sizeof want), ng = 0;

	assert_int_equal(rig_jk_frame_encode(f, got, sizeof got, &ng), RIG_OK);
	assert_int_equal(ng, nw);
	assert_memory_equal(got, want, nw);
}

/* A reply frame around items given in hex (no validation of the items). */
static void reply_with_items(struct jk_frame *f, uint8_t cmd, const char *items_hex)
{
	memset(f, 0, sizeof *f);
	f->cmd = cmd;
	f->type = JK_TYPE_REPLY;
	f->len = (uint16_t)unhex(items_hex, f->info, sizeof f->info);
}

static rig_rc decode_items(const char *items_hex, struct jk_data *d)
{
	uint8_t b[JK_INFO_MAX + 16];
	size_t n = unhex(items_hex, b, sizeof b);

	return rig_jk_items_decode(b, n, d);
}

/* A fresh checksum after a test changed a byte on purpose. */
static void fix_sum(uint8_t *w, size_t n)
{
	uint16_t sum = rig_jk_checksum(w, n - 4);

	w[n - 2] = (uint8_t)(sum >> 8);
	w[n - 1] = (uint8_t)sum;
}

/* ---- builders: the exact bytes of docs/protocols/jk.md §2.2 and §4.1 ------------------------------------ */

static void test_request_builders(void **state)
{
	struct jk_frame f;

	(void)state;
	rig_jk_request_read_all(&f, JK_SRC_PC);
	assert_frame_bytes(&f, "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29");
	rig_jk_request_read_all(&f, JK_SRC_GPS);     /* what ESPHome sends */
	assert_frame_bytes(&f, "4E 57 00 13 00 00 00 00 06 02 00 00 00 00 00 00 68 00 00 01 28");
	rig_jk_request_read(&f, JK_SRC_PC, JK_ID_ALL);   /* mpp-solar JKSERIAL */
	assert_frame_bytes(&f, "4E 57 00 13 00 00 00 00 03 03 00 00 00 00 00 00 68 00 00 01 26");
	rig_jk_request_password(&f, JK_SRC_GPS);
	assert_frame_bytes(&f, "4E 57 00 14 00 00 00 00 05 02 00 00 00 00 00 00 00 68 00 00 01 28");
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_GPS, JK_ID_CHG_SWITCH, 0), RIG_OK);
	assert_frame_bytes(&f, "4E 57 00 14 00 00 00 00 02 02 00 AB 00 00 00 00 00 68 00 00 01 D0");
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_GPS, JK_ID_CHG_SWITCH, 1), RIG_OK);
	assert_frame_bytes(&f, "4E 57 00 14 00 00 00 00 02 02 00 AB 01 00 00 00 00 68 00 00 01 D1");
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_GPS, JK_ID_DSG_SWITCH, 0), RIG_OK);
	assert_frame_bytes(&f, "4E 57 00 14 00 00 00 00 02 02 00 AC 00 00 00 00 00 68 00 00 01 D1");
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_GPS, JK_ID_DSG_SWITCH, 7), RIG_OK);   /* 1, not 7 */
	assert_frame_bytes(&f, "4E 57 00 14 00 00 00 00 02 02 00 AC 01 00 00 00 00 68 00 00 01 D2");
	/* Not switches: a read-only id, a 2-byte setting. */
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_PC, JK_ID_STATUS, 1), RIG_ERR_ARG);
	assert_int_equal(rig_jk_request_switch(&f, JK_SRC_PC, JK_ID_CELL_OVP, 1), RIG_ERR_ARG);
}

static void test_typed_writes(void **state)
{
	struct jk_data d;
	struct jk_frame f, g;
	uint8_t w[64];
	size_t n;

	(void)state;
	rig_jk_data_clear(&d);
	d.pack_ovp_mV = 56700;                 /* 8E 16 26 as in the 14S capture */
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_PACK_OVP, &d), RIG_OK);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.info, "\x8E\x16\x26", 3);
	d.chg_utp_C = -20;                     /* two's complement, FF EC */
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_CHG_UTP, &d), RIG_OK);
	assert_memory_equal(f.info, "\xA5\xFF\xEC", 3);
	d.capacity_Ah = 280;
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_CAPACITY, &d), RIG_OK);
	assert_memory_equal(f.info, "\xAA\x00\x00\x01\x18", 5);
	memcpy(d.password, "654321\0\0\0\0", 10);
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_PASSWORD, &d), RIG_OK);
	assert_int_equal(f.len, 11);
	/* The decoder gives the same field back, and refuses what is not a write of that width. */
	assert_int_equal(rig_jk_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_int_equal(rig_jk_frame_parse(w, n, &g), RIG_OK);
	rig_jk_data_clear(&d);
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_OK);
	assert_memory_equal(d.password, "654321\0\0\0\0", 10);
	assert_int_equal(d.n_items, 1);
	g.len = 10;
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_ERR_LENGTH);
	/* One item per write: a second one riding along is not a value of the first. */
	memcpy(g.info, "\xAB\x00\xAC\x00", 4);
	g.len = 4;
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_ERR_LENGTH);
	g.info[0] = JK_ID_STATUS;
	g.len = 3;
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_ERR_UNSUPPORTED);     /* read-only */
	g.info[0] = 0x88;
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_ERR_FRAME);           /* no such id */
	g.cmd = JK_CMD_READ;
	assert_int_equal(rig_jk_write_decode(&g, &d), RIG_ERR_ARG);
	/* Read-only ids and values out of the wire's range are not written. */
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_SOC, &d), RIG_ERR_ARG);
	d.pack_ovp_mV = 655360;
	assert_int_equal(rig_jk_request_write_item(&f, JK_SRC_PC, JK_ID_PACK_OVP, &d), RIG_ERR_ARG);
}

/* ---- framing ------------------------------------------------------------------------------ */

static void test_parse_rejections(void **state)
{
	uint8_t w[JK_FRAME_MAX + 8], bad[JK_FRAME_MAX + 8];
	size_t n = unhex("4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29", w, sizeof w);
	struct jk_frame f;

	(void)state;
	assert_int_equal(rig_jk_frame_parse(w, n, &f), RIG_OK);
	assert_int_equal(f.cmd, JK_CMD_READ_ALL);
	assert_int_equal(f.source, JK_SRC_PC);
	assert_int_equal(f.type, JK_TYPE_REQUEST);
	assert_int_equal(f.len, 1);
	assert_int_equal(rig_jk_frame_parse(w, n - 1, &f), RIG_ERR_LENGTH);   /* L says one more */
	assert_int_equal(rig_jk_frame_parse(w, 20, &f), RIG_ERR_LENGTH);      /* no info at all */
#define MUTATE(i, v, rc) do { memcpy(bad, w, n); bad[i] = (v); \
		assert_int_equal(rig_jk_frame_parse(bad, n, &f), rc); } while (0)
	MUTATE(0, 0x4F, RIG_ERR_FRAME);
	MUTATE(1, 0x58, RIG_ERR_FRAME);
	MUTATE(3, 0x14, RIG_ERR_LENGTH);
	MUTATE(16, 0x69, RIG_ERR_FRAME);           /* end byte */
	MUTATE(17, 0x01, RIG_ERR_CHECKSUM);        /* the "unused" half must be zero */
	MUTATE(20, 0x28, RIG_ERR_CHECKSUM);
	MUTATE(11, 0x01, RIG_ERR_CHECKSUM);        /* any summed byte */
#undef MUTATE
	/* Well formed, but a command word or type the protocol does not have. */
	f.terminal = 0; f.cmd = 0x04; f.source = 3; f.type = 0; f.record = 0; f.len = 1; f.info[0] = 0;
	assert_int_equal(rig_jk_frame_encode(&f, bad, sizeof bad, &n), RIG_ERR_ARG);
	f.cmd = 0x06;
	assert_int_equal(rig_jk_frame_encode(&f, bad, sizeof bad, &n), RIG_OK);
	bad[8] = 0x04;
	fix_sum(bad, n);
	assert_int_equal(rig_jk_frame_parse(bad, n, &f), RIG_ERR_FRAME);
	bad[8] = 0x06;
	bad[10] = 0x03;                            /* transport type 3 */
	fix_sum(bad, n);
	assert_int_equal(rig_jk_frame_parse(bad, n, &f), RIG_ERR_FRAME);
	/* Encoder bounds. */
	f.cmd = 0x06; f.type = 3;
	assert_int_equal(rig_jk_frame_encode(&f, bad, sizeof bad, &n), RIG_ERR_ARG);
	f.type = 0; f.len = 0;
	assert_int_equal(rig_jk_frame_encode(&f, bad, sizeof bad, &n), RIG_ERR_ARG);
	f.len = JK_INFO_MAX + 1;
	assert_int_equal(rig_jk_frame_encode(&f, bad, sizeof bad, &n), RIG_ERR_ARG);
	f.len = 1;
	assert_int_equal(rig_jk_frame_encode(&f, bad, 20, &n), RIG_ERR_SPACE);
	/* A frame longer than any real one is refused before its length is trusted. */
	memset(bad, 0, sizeof bad);
	assert_int_equal(rig_jk_frame_parse(bad, JK_FRAME_MAX + 1, &f), RIG_ERR_LENGTH);
}

static void test_terminal_and_record_round_trip(void **state)
{
	struct jk_frame f, g, r;
	uint8_t w[64];
	size_t n;

	(void)state;
	rig_jk_request_read_all(&f, JK_SRC_PC);
	f.terminal = 0x01020304u;
	f.record = 0xA0000001u;
	assert_int_equal(rig_jk_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	assert_memory_equal(w + 4, "\x01\x02\x03\x04", 4);
	assert_memory_equal(w + 12, "\xA0\x00\x00\x01", 4);
	assert_int_equal(rig_jk_frame_parse(w, n, &g), RIG_OK);
	assert_int_equal(g.terminal, 0x01020304u);
	assert_int_equal(g.record, 0xA0000001u);
	assert_int_equal(jk_frame_rebuild(&g, &r), RIG_OK);
	assert_int_equal(r.terminal, g.terminal);
	assert_int_equal(r.record, g.record);
	/* A reply from an odd source, pushed unasked (type 2): rebuilt as it came. */
	reply_with_items(&f, JK_CMD_READ_ALL, "85 0F");
	f.source = 5;
	f.type = JK_TYPE_UPLOAD;
	f.terminal = 7;
	assert_int_equal(jk_frame_rebuild(&f, &r), RIG_OK);
	assert_int_equal(jk_frame_check(&f), RIG_OK);
	assert_int_equal(r.source, 5);
	assert_int_equal(r.type, JK_TYPE_UPLOAD);
	assert_int_equal(r.terminal, 7);
}

/* ---- the id table ------------------------------------------------------------------------ */

static void test_id_table(void **state)
{
	struct jk_data d;
	uint8_t items[JK_INFO_MAX];
	size_t n;
	unsigned readable = 0;

	(void)state;
	for (unsigned i = 0; i < JK_ID_COUNT; i++) {
		assert_ptr_equal(rig_jk_id_find(rig_jk_ids[i].id), &rig_jk_ids[i]);
		if (i)
			assert_true(rig_jk_ids[i].id > rig_jk_ids[i - 1].id);   /* ascending = read-all order */
		assert_non_null(jk_id_key(rig_jk_ids[i].id));
		readable += (rig_jk_ids[i].access & JK_ACC_R) != 0;
	}
	assert_null(rig_jk_id_find(0x88));
	assert_null(rig_jk_id_find(0x8D));
	assert_null(rig_jk_id_find(0x00));
	assert_null(rig_jk_id_find(0xC1));
	assert_int_equal(readable, 59);        /* 0x79..0xC0 without 0x88, 0x8D and 0xBB..0xBF */
	/* docs/protocols/jk.md §2.3: a read-all with n cells carries 3n + 223 info bytes (L = 3n + 241). */
	for (unsigned cells = 0; cells <= JK_CELLS_MAX; cells++) {
		rig_jk_data_clear(&d);
		rig_jk_data_add_all(&d);
		d.cell_count = (uint8_t)cells;
		d.protocol_version = 1;
		assert_int_equal(rig_jk_items_encode(&d, items, sizeof items, &n), RIG_OK);
		assert_int_equal(n, 3u * cells + 223u);
	}
	assert_int_equal(n, JK_INFO_MAX);
	assert_int_equal(rig_jk_items_encode(&d, items, n - 1, &n), RIG_ERR_SPACE);
	d.cell_count = JK_CELLS_MAX + 1;
	assert_int_equal(rig_jk_items_encode(&d, items, sizeof items, &n), RIG_ERR_ARG);
}

static void test_data_get_set(void **state)
{
	struct jk_data d;
	int32_t v;

	(void)state;
	rig_jk_data_clear(&d);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_SOC, 255), RIG_OK);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_SOC, 256), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_CELL_OVP, -1), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_CHG_UTP, -32768), RIG_OK);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_CHG_UTP, 32768), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_CAPACITY, -1), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_PASSWORD, 1), RIG_ERR_ARG);    /* text */
	assert_int_equal(rig_jk_data_set(&d, JK_ID_CELLS, 1), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, 0x88, 1), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_set(&d, JK_ID_PACK_OVP, 56700), RIG_OK);
	assert_int_equal(rig_jk_data_get(&d, JK_ID_PACK_OVP, &v), RIG_OK);
	assert_int_equal(v, 56700);
	assert_int_equal(rig_jk_data_get(&d, JK_ID_CHG_UTP, &v), RIG_OK);
	assert_int_equal(v, -32768);
	d.runtime_min = 0x80000000u;
	assert_int_equal(rig_jk_data_get(&d, JK_ID_RUNTIME, &v), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_add(&d, 0x88), RIG_ERR_ARG);
	assert_int_equal(rig_jk_data_add(&d, JK_ID_SOC), RIG_OK);
	assert_int_equal(rig_jk_data_add(&d, JK_ID_SOC), RIG_OK);
	assert_int_equal(d.n_items, 1);
}

/* ---- encodings with traps (docs/protocols/jk.md §2.5, docs/field-notes.md §2.3) --------------------------------- */

static void test_temperature_code(void **state)
{
	static const struct { uint16_t code; int32_t dK; } t[] = {
		{ 0, 2731 }, { 22, 2951 }, { 99, 3721 }, { 100, 3731 },   /* vendor rule at the edge */
		{ 101, 2721 }, { 110, 2631 }, { 140, 2331 },              /* above 100: 100 - code */
	};
	uint16_t code;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		assert_int_equal(rig_jk_temp_decode(t[i].code), t[i].dK);
		assert_int_equal(rig_jk_temp_encode(t[i].dK, &code), RIG_OK);
		assert_int_equal(code, t[i].code);
	}
	/* Every code is a distinct temperature and comes back exactly. */
	for (uint32_t c = 0; c <= 0xFFFFu; c++) {
		assert_int_equal(rig_jk_temp_encode(rig_jk_temp_decode((uint16_t)c), &code), RIG_OK);
		assert_int_equal(code, c);
	}
	/* Rounding to whole degC, half away from zero: -0.4 -> 0, -0.5 -> -1 (101), 0.5 -> 1. */
	assert_int_equal(rig_jk_temp_encode(2727, &code), RIG_OK);
	assert_int_equal(code, 0);
	assert_int_equal(rig_jk_temp_encode(2726, &code), RIG_OK);
	assert_int_equal(code, 101);
	assert_int_equal(rig_jk_temp_encode(2736, &code), RIG_OK);
	assert_int_equal(code, 1);
	/* Above 100 degC no code exists; nor below the lowest one. */
	assert_int_equal(rig_jk_temp_encode(3735, &code), RIG_OK);
	assert_int_equal(code, 100);
	assert_int_equal(rig_jk_temp_encode(3736, &code), RIG_ERR_ARG);
	assert_int_equal(rig_jk_temp_encode(-651625, &code), RIG_ERR_ARG);
	assert_int_equal(rig_jk_temp_encode(INT32_MIN, &code), RIG_ERR_ARG);
	assert_int_equal(rig_jk_temp_encode(INT32_MAX, &code), RIG_ERR_ARG);
}

static void test_current_code(void **state)
{
	static const struct { uint16_t raw; uint8_t version; int32_t mA; } t[] = {
		{ 0x80D0, 1, 2080 }, { 0x0045, 1, -690 }, { 0x81C5, 1, 4530 },      /* captures */
		{ 0x07D0, 1, -20000 }, { 0x87D0, 1, 20000 },                         /* §2.5 */
		{ 0x8FA0, 1, 40000 }, { 0x0FA0, 1, -40000 },       /* past 32.767 A: no sign flip */
		{ 0xFFFF, 1, 327670 }, { 0x7FFF, 1, -327670 },
		{ 0x2710, 0, 0 }, { 11000, 0, -10000 }, { 9500, 0, 5000 },           /* old code */
		{ 0x0000, 0, 100000 }, { 0xFFFF, 0, -555350 },
	};
	int32_t mA;
	uint8_t z;
	uint16_t raw;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		assert_int_equal(rig_jk_current_decode(t[i].raw, t[i].version, &mA, &z), RIG_OK);
		assert_int_equal(mA, t[i].mA);
		assert_int_equal(rig_jk_current_encode(t[i].mA, 0, t[i].version, &raw), RIG_OK);
		assert_int_equal(raw, t[i].raw);
	}
	/* Zero has two forms in version 1; both come back as sent. */
	assert_int_equal(rig_jk_current_decode(0x8000, 1, &mA, &z), RIG_OK);
	assert_int_equal(mA, 0);
	assert_int_equal(z, 1);
	assert_int_equal(rig_jk_current_encode(0, 1, 1, &raw), RIG_OK);
	assert_int_equal(raw, 0x8000);
	assert_int_equal(rig_jk_current_decode(0x0000, 1, &mA, &z), RIG_OK);
	assert_int_equal(z, 0);
	assert_int_equal(rig_jk_current_encode(0, 0, 1, &raw), RIG_OK);
	assert_int_equal(raw, 0x0000);
	/* Every raw word round-trips in both versions. */
	for (uint8_t v = 0; v <= 1; v++)
		for (uint32_t r = 0; r <= 0xFFFFu; r++) {
			assert_int_equal(rig_jk_current_decode((uint16_t)r, v, &mA, &z), RIG_OK);
			assert_int_equal(rig_jk_current_encode(mA, z, v, &raw), RIG_OK);
			assert_int_equal(raw, r);
		}
	/* Rounding to 10 mA; beyond the encodings' reach; an unknown version. */
	assert_int_equal(rig_jk_current_encode(-695, 0, 1, &raw), RIG_OK);
	assert_int_equal(raw, 0x0046);
	assert_int_equal(rig_jk_current_encode(327675, 0, 1, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_jk_current_encode(-327675, 0, 1, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_jk_current_encode(100005, 0, 0, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_jk_current_encode(-555355, 0, 0, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_jk_current_encode(INT32_MIN, 0, 1, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_jk_current_decode(0x80D0, 2, &mA, &z), RIG_ERR_UNSUPPORTED);
	assert_int_equal(rig_jk_current_encode(0, 0, 2, &raw), RIG_ERR_UNSUPPORTED);
}

/* 0xC0 decides the current wherever it sits in the list; without it, the old rule. */
static void test_current_follows_protocol_id(void **state)
{
	struct jk_data d;

	(void)state;
	assert_int_equal(decode_items("84 80 D0 C0 01", &d), RIG_OK);
	assert_int_equal(d.current_mA, 2080);
	assert_int_equal(decode_items("C0 01 84 80 D0", &d), RIG_OK);
	assert_int_equal(d.current_mA, 2080);
	assert_int_equal(decode_items("84 27 10", &d), RIG_OK);    /* vendor example: 0 A */
	assert_int_equal(d.current_mA, 0);
	assert_int_equal(decode_items("84 80 D0 C0 00", &d), RIG_OK);
	assert_int_equal(d.current_mA, (10000 - 0x80D0) * 10);
	assert_int_equal(decode_items("84 80 D0 C0 02", &d), RIG_ERR_UNSUPPORTED);
	assert_int_equal(decode_items("C0 02", &d), RIG_OK);      /* no current, nothing to misread */
}

static void test_negative_and_large_values_in_frames(void **state)
{
	struct jk_data d, e;
	struct jk_frame f, g;
	uint8_t w[JK_FRAME_MAX];
	size_t n;

	(void)state;
	/* A read-all at -15 degC and -45.5 A, 12.3 degC and +45.5 A: out and back. */
	static const struct { int32_t t_dK, mA; uint16_t code, raw; } t[] = {
		{ 2731 - 150, -45500, 115, 0x11C6 }, { 2731 + 123, 45500, 12, 0x91C6 },
	};
	for (size_t i = 0; i < N_OF(t); i++) {
		rig_jk_data_clear(&d);
		rig_jk_data_add_all(&d);
		d.cell_count = 4;
		d.protocol_version = 1;
		d.mos_temp_dK = d.box_temp_dK = d.bat_temp_dK = t[i].t_dK;
		d.current_mA = t[i].mA;
		assert_int_equal(rig_jk_data_encode(&f, JK_CMD_READ_ALL, &d), RIG_OK);
		/* 0x80 is right after the 4-cell block: 2 + 12 bytes in. */
		assert_int_equal(f.info[14], 0x80);
		assert_int_equal(f.info[15] << 8 | f.info[16], t[i].code);
		assert_int_equal(f.info[26], 0x84);
		assert_int_equal(f.info[27] << 8 | f.info[28], t[i].raw);
		assert_int_equal(rig_jk_frame_encode(&f, w, sizeof w, &n), RIG_OK);
		assert_int_equal(rig_jk_frame_parse(w, n, &g), RIG_OK);
		assert_int_equal(rig_jk_data_decode(&g, &e), RIG_OK);
		assert_int_equal(e.current_mA, t[i].mA);
		assert_int_equal(e.bat_temp_dK, t[i].t_dK - (t[i].t_dK - 2731) % 10);
	}
}

/* ---- the item walk ------------------------------------------------------------------------- */

static void test_item_walk_refusals(void **state)
{
	static const struct { const char *items; rig_rc rc; } t[] = {
		{ "85 0F 88 00 00", RIG_ERR_FRAME },        /* 0x88 does not exist: width unknown */
		{ "85 0F 85 0F", RIG_ERR_FRAME },           /* the same id twice */
		{ "85", RIG_ERR_LENGTH },                   /* value cut off */
		{ "83 14", RIG_ERR_LENGTH },
		{ "79", RIG_ERR_LENGTH },                   /* cell block without count */
		{ "79 06 01 0E ED", RIG_ERR_LENGTH },       /* count past the end */
		{ "79 04 01 0E ED 02", RIG_ERR_LENGTH },    /* count not 3n */
		{ "79 03 02 0E ED", RIG_ERR_FRAME },        /* numbering must start at 1 */
		{ "79 06 01 0E ED 01 0E ED", RIG_ERR_FRAME },
		{ "00", RIG_ERR_FRAME },                    /* "all" is a request id only */
	};
	struct jk_data d;
	uint8_t big[2 + 3 * 33];

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		if (decode_items(t[i].items, &d) != t[i].rc)
			fail_msg("\"%s\": expected %s", t[i].items, rig_rc_str(t[i].rc));
	}
	/* 33 cells do not fit the 32 a board has (and the count byte could say 99). */
	big[0] = 0x79;
	big[1] = 99;
	for (unsigned k = 0; k < 33; k++) {
		big[2 + 3 * k] = (uint8_t)(k + 1);
		big[3 + 3 * k] = 0x0C;
		big[4 + 3 * k] = 0x80;
	}
	assert_int_equal(rig_jk_items_decode(big, sizeof big, &d), RIG_ERR_LENGTH);
	big[1] = 96;
	assert_int_equal(rig_jk_items_decode(big, 2 + 96, &d), RIG_OK);
	assert_int_equal(d.cell_count, 32);
	/* Order is kept: a list in any order decodes and re-encodes as it came. */
	assert_int_equal(decode_items("8C 00 03 85 0F 79 03 01 0E ED", &d), RIG_OK);
	assert_int_equal(d.n_items, 3);
	assert_int_equal(d.order[0], 0x8C);
	assert_int_equal(d.order[2], 0x79);
	assert_int_equal(d.cell_count, 1);
	assert_int_equal(d.cell_mV[0], 3821);
}

static void test_reply_decode_needs_a_reply_with_items(void **state)
{
	struct jk_frame f;
	struct jk_data d;

	(void)state;
	reply_with_items(&f, JK_CMD_WRITE, "AB 00");
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_OK);
	assert_int_equal(d.chg_switch, 0);
	f.cmd = JK_CMD_PASSWORD;
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_ERR_ARG);
	f.cmd = JK_CMD_READ_ALL;
	f.type = JK_TYPE_REQUEST;
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_ERR_ARG);
	f.type = JK_TYPE_UPLOAD;
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_OK);
	rig_jk_data_clear(&d);
	assert_int_equal(rig_jk_data_encode(&f, JK_CMD_READ_ALL, &d), RIG_ERR_ARG);   /* no items */
	assert_int_equal(rig_jk_data_encode(&f, JK_CMD_ACTIVATE, &d), RIG_ERR_ARG);
}

/* docs/protocols/jk.md §6.1-D: a second real board, discharging, with negative settings. */
static void test_capture_16s_discharging(void **state)
{
	static const uint16_t cells[] = {
		3201, 3201, 3202, 3201, 3203, 3201, 3185, 3201, 3196, 3203, 3202, 3203, 3203, 3203, 3203, 3202
	};
	struct jk_frame f, g;
	struct jk_data d;
	uint8_t w[JK_FRAME_MAX];
	size_t n;

	(void)state;
	parse_hex(F16S, &f);
	assert_int_equal(f.len, 3 * 16 + 223);
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_OK);
	assert_int_equal(d.n_items, 59);
	assert_int_equal(d.cell_count, 16);
	assert_memory_equal(d.cell_mV, cells, sizeof cells);
	assert_int_equal(d.mos_temp_dK, 2911);
	assert_int_equal(d.box_temp_dK, 2891);
	assert_int_equal(d.pack_mV, 51210);
	assert_int_equal(d.current_mA, -690);
	assert_int_equal(d.cycles, 17);
	assert_int_equal(d.cycle_total_Ah, 1280);
	assert_int_equal(d.status_raw, 3);
	assert_int_equal(d.capacity_Ah, 81);
	assert_int_equal(d.runtime_min, 91136);
	assert_int_equal(d.chg_utp_C, 0);
	assert_int_equal(d.chg_utp_rel_C, 5);
	assert_int_equal(d.dsg_utp_C, -20);
	assert_int_equal(d.dsg_utp_rel_C, -10);
	assert_memory_equal(d.sw_version, "H7.X__S7.1.0H__", 15);
	assert_int_equal(jk_frame_rebuild(&f, &g), RIG_OK);
	assert_int_equal(rig_jk_frame_encode(&g, w, sizeof w, &n), RIG_OK);
	assert_frame_bytes(&g, F16S);
}

/* ---- alarms ------------------------------------------------------------------------------ */

static void test_alarm_table(void **state)
{
	(void)state;
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_CELL_OV), PACK_PROT_CELL_OV);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_CELL_UV), PACK_PROT_CELL_UV);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_CHG_OV), PACK_PROT_PACK_OV);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_DSG_UV), PACK_PROT_PACK_UV);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_CHG_OC), PACK_PROT_CHG_OC);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_DSG_OC), PACK_PROT_DSG_OC);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_BAT_OT), PACK_PROT_CHG_OT | PACK_PROT_DSG_OT);
	assert_int_equal(rig_jk_alarm_to_prot(1u << JK_ALARM_BAT_UT), PACK_PROT_CHG_UT | PACK_PROT_DSG_UT);
	/* No neutral meaning: dropped. */
	assert_int_equal(rig_jk_alarm_to_prot((1u << JK_ALARM_LOW_CAPACITY) | (1u << JK_ALARM_MOS_OT) |
	                                  (1u << JK_ALARM_CELL_DIFF) | (1u << JK_ALARM_BOX_OT) |
	                                  (1u << JK_ALARM_309_A) | (1u << JK_ALARM_309_B) | 0xC000u), 0);
	/* The other way: a short circuit is the discharge over-current bit; either OT raises OT. */
	assert_int_equal(rig_jk_alarm_from_prot(PACK_PROT_SHORT), 1u << JK_ALARM_DSG_OC);
	assert_int_equal(rig_jk_alarm_from_prot(PACK_PROT_CHG_OT), 1u << JK_ALARM_BAT_OT);
	assert_int_equal(rig_jk_alarm_from_prot(PACK_PROT_DSG_UT), 1u << JK_ALARM_BAT_UT);
	assert_int_equal(rig_jk_alarm_from_prot(PACK_PROT_AFE | PACK_PROT_SW_LOCK), 0);
	for (unsigned bit = 0; bit < 13; bit++) {
		uint32_t p = 1u << bit;
		uint32_t back = rig_jk_alarm_to_prot(rig_jk_alarm_from_prot(p));

		/* What comes back is at least what went in, except for what JK cannot say. */
		if (p & (PACK_PROT_SHORT | PACK_PROT_AFE | PACK_PROT_SW_LOCK))
			continue;
		assert_true((back & p) == p);
	}
}

/* ---- the receive assembler ------------------------------------------------------------------ */

struct sink {
	struct jk_rx rx;
	struct jk_frame got[8];
	unsigned n;
	size_t fed, framed;
};

static void sink_feed(struct sink *s, const uint8_t *p, size_t n, uint32_t now)
{
	while (n) {
		size_t used = rig_jk_rx_feed(&s->rx, p, n, now);

		p += used;
		n -= used;
		s->fed += used;
		while (s->n < N_OF(s->got) && rig_jk_rx_next(&s->rx, &s->got[s->n]) == RIG_OK)
			s->framed += s->got[s->n++].len + JK_OVERHEAD;
		/* Every byte is in a frame, among the skipped ones, or still waiting. */
		assert_int_equal(s->fed, s->framed + s->rx.b.skipped_bytes + s->rx.b.have);
	}
}

static void sink_feed_hex(struct sink *s, const char *hex, uint32_t now)
{
	uint8_t b[2 * JK_FRAME_MAX];
	size_t n = unhex(hex, b, sizeof b);

	sink_feed(s, b, n, now);
}

static void test_rx_pieces_and_junk(void **state)
{
	uint8_t w[JK_FRAME_MAX];
	size_t n = unhex(F14S, w, sizeof w);
	struct sink s;

	(void)state;
	/* Every split point into two pieces, with the board's "AT\r\n" in front. */
	for (size_t cut = 0; cut <= n; cut++) {
		memset(&s, 0, sizeof s);
		rig_jk_rx_init(&s.rx, 0);
		sink_feed(&s, (const uint8_t *)"AT\r\n", 4, 0);
		sink_feed(&s, w, cut, 1);
		assert_int_equal(s.n, cut == n);
		sink_feed(&s, w + cut, n - cut, 2);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.got[0].len, n - JK_OVERHEAD);
		assert_int_equal(s.rx.b.skipped_bytes, 4);
		assert_int_equal(s.rx.b.rejected_frames, 0);
	}
	/* Byte by byte, with junk between two frames and after them. */
	memset(&s, 0, sizeof s);
	rig_jk_rx_init(&s.rx, 0);
	for (unsigned rep = 0; rep < 2; rep++) {
		for (size_t i = 0; i < n; i++)
			sink_feed(&s, w + i, 1, (uint32_t)i);
		sink_feed(&s, (const uint8_t *)"AT\r\nAT\r\n", 8, 0);
	}
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rx.b.skipped_bytes, 16);
	assert_int_equal(s.rx.b.have, 0);
}

static void test_rx_resyncs(void **state)
{
	struct sink s;
	char bad[sizeof F14S];

	(void)state;
	memset(&s, 0, sizeof s);
	rig_jk_rx_init(&s.rx, 0);
	/* Garbage holding start bytes: a lone 4E, a "NW" with an impossible length, one with an
	 * unknown command word, then a real request. */
	sink_feed_hex(&s, "00 4E 11 4E 57 FF FF 4E 57 00 13 00 00 00 00 09 03 00", 0);
	assert_int_equal(s.n, 0);
	sink_feed_hex(&s, "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29", 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.got[0].cmd, JK_CMD_READ_ALL);
	assert_int_equal(s.rx.b.rejected_frames, 2);
	assert_int_equal(s.rx.b.have, 0);
	/* A false start whose length is plausible but whose command word is not does not hold
	 * the next frame back until 258 bytes have come. */
	sink_feed_hex(&s, "4E 57 01 00 00 00 00 00 07 00 01", 2);
	sink_feed_hex(&s, "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29", 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rx.b.rejected_frames, 3);
	/* A bad checksum costs that frame only; the next one lands. */
	memcpy(bad, F14S, sizeof bad);
	bad[sizeof bad - 2] = bad[sizeof bad - 2] == '0' ? '1' : '0';
	sink_feed_hex(&s, bad, 3);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rx.b.rejected_frames, 4);
	sink_feed_hex(&s, F14S, 4);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.got[2].len, 3 * 14 + 223);
	/* A bad end byte likewise. */
	memcpy(bad, F14S, sizeof bad);
	bad[sizeof bad - 10] = '9';                       /* end byte 68 -> 69 */
	sink_feed_hex(&s, bad, 5);
	sink_feed_hex(&s, F14S, 6);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.rx.b.rejected_frames, 5);
}

static void test_rx_gap_drops_a_stalled_frame(void **state)
{
	uint8_t w[JK_FRAME_MAX];
	size_t n = unhex(F14S, w, sizeof w);
	struct sink s;

	(void)state;
	memset(&s, 0, sizeof s);
	rig_jk_rx_init(&s.rx, 50);
	sink_feed(&s, w, 100, 1000);
	sink_feed(&s, w + 100, 100, 1040);      /* pauses inside a frame up to the gap are fine */
	sink_feed(&s, w + 200, n - 200, 1090);
	assert_int_equal(s.n, 1);
	sink_feed(&s, w, 100, 2000);
	sink_feed(&s, w + 100, n - 100, 2051);  /* the head is dropped, the tail is garbage */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rx.b.have, 0);
	sink_feed(&s, w, n, 3000);
	assert_int_equal(s.n, 2);
}

/* ---- JSON of frames the vectors do not cover ------------------------------------------------- */

static cJSON *json_of(const char *hex)
{
	uint8_t w[JK_FRAME_MAX + 8];
	size_t n = unhex(hex, w, sizeof w);
	cJSON *o = jk_wire_json(w, n);

	assert_non_null(o);
	return o;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("no number \"%s\"", key);
	return v->valuedouble;
}

static void test_json_requests_and_acks(void **state)
{
	cJSON *o;

	(void)state;
	o = json_of("4E 57 00 14 00 00 00 00 02 02 00 AB 00 00 00 00 00 68 00 00 01 D0");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")), "request");
	assert_int_equal(num(o, "cmd"), 2);
	assert_int_equal(num(o, "source"), 2);
	assert_int_equal(num(o, "register"), 0xAB);
	assert_int_equal(num(o, "value_len"), 1);
	assert_int_equal(num(o, "register_value"), 0);
	assert_int_equal(num(o, "chg_switch"), 0);
	assert_false(cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);

	/* The password frame, and an ack as the personality sends it. */
	o = json_of("4E 57 00 14 00 00 00 00 05 02 00 00 00 00 00 00 00 68 00 00 01 28");
	assert_int_equal(num(o, "register"), 0);
	assert_false(cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	{
		struct jk_frame f;
		uint8_t w[64];
		size_t n;

		rig_jk_response_ack(&f, JK_CMD_PASSWORD);
		assert_int_equal(rig_jk_frame_encode(&f, w, sizeof w, &n), RIG_OK);
		o = jk_wire_json(w, n);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")), "response");
		assert_false(cJSON_HasObjectItem(o, "error"));
		cJSON_Delete(o);
	}

	/* A password frame with the parameter password's id (PR #343's tester): understood as a
	 * frame, but no builder makes it, so it is shown raw with the reason. */
	o = json_of("4E 57 00 14 00 00 00 00 05 02 00 B2 00 00 00 00 00 68 00 00 01 DA");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")), "unsupported");
	assert_int_equal(num(o, "register"), 0xB2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "data_hex")), "00");
	cJSON_Delete(o);

	/* Not a frame. */
	o = json_of("41 54 0D 0A");
	assert_false(cJSON_HasObjectItem(o, "kind"));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")), "wrong length");
	cJSON_Delete(o);
}

static void test_json_read_all_fields(void **state)
{
	struct jk_frame f;
	cJSON *o;

	(void)state;
	parse_hex(F14S, &f);
	o = jk_frame_json(&f);
	/* Fixed-width text loses its NUL padding; switches and FET states are kept apart. */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "password")), "123456");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "device_id")), "Input Us");
	assert_int_equal(num(o, "cell_ovp_mv"), 4050);
	assert_int_equal(num(o, "cell_uvp_mv"), 3050);
	assert_int_equal(num(o, "chg_utp_c"), -20);
	assert_int_equal(num(o, "pack_ovp_mv"), 56700);
	assert_int_equal(num(o, "protocol_version"), 1);
	cJSON_Delete(o);
	/* Discharge FET open by a protection while its switch stays on. */
	reply_with_items(&f, JK_CMD_READ_ALL, "8C 00 05 AB 01 AC 01");
	o = jk_frame_json(&f);
	assert_int_equal(num(o, "fet_chg"), 1);
	assert_int_equal(num(o, "fet_dsg"), 0);
	assert_int_equal(num(o, "bal_on"), 1);
	assert_int_equal(num(o, "dsg_switch"), 1);
	cJSON_Delete(o);
}

static void test_json_reply_with_unknown_id(void **state)
{
	struct jk_frame f;
	cJSON *o;

	(void)state;
	reply_with_items(&f, JK_CMD_READ, "85 0F 88 00 01");
	o = jk_frame_json(&f);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")), "bad framing");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "data_hex")), "850F880001");
	cJSON_Delete(o);
	/* A single item read back (cmd 3 with id != 0): just that key. */
	reply_with_items(&f, JK_CMD_READ, "81 00 6E");
	o = jk_frame_json(&f);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "temps_dk")), 1);
	assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "temps_dk"), 0)->valueint, 2631);
	assert_false(cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_builders),
		cmocka_unit_test(test_typed_writes),
		cmocka_unit_test(test_parse_rejections),
		cmocka_unit_test(test_terminal_and_record_round_trip),
		cmocka_unit_test(test_id_table),
		cmocka_unit_test(test_data_get_set),
		cmocka_unit_test(test_temperature_code),
		cmocka_unit_test(test_current_code),
		cmocka_unit_test(test_current_follows_protocol_id),
		cmocka_unit_test(test_negative_and_large_values_in_frames),
		cmocka_unit_test(test_item_walk_refusals),
		cmocka_unit_test(test_reply_decode_needs_a_reply_with_items),
		cmocka_unit_test(test_capture_16s_discharging),
		cmocka_unit_test(test_alarm_table),
		cmocka_unit_test(test_rx_pieces_and_junk),
		cmocka_unit_test(test_rx_resyncs),
		cmocka_unit_test(test_rx_gap_drops_a_stalled_frame),
		cmocka_unit_test(test_json_requests_and_acks),
		cmocka_unit_test(test_json_read_all_fields),
		cmocka_unit_test(test_json_reply_with_unknown_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
