/*
 * The JBD codec against docs/protocols/jbd.md: checksum worked examples, the parse
 * rejections, the builders' exact bytes, decoder and encoder bounds, the 9-byte 0x03
 * extension, dates, and the decoded-frame JSON of frames the golden vectors do not cover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/jbd_json.h"
#include "fake_io.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Real frames quoted in docs/protocols/jbd.md §11. */
#define F1_BASIC "DD 03 00 1D 06 18 00 00 01 F2 01 F4 00 00 2C 7C 00 00 00 00 00 00 80 64 03 04 03 " \
		 "0B 8B 0B 8A 0B 84 FA 8D 77"
#define F6_EXT   "DD 03 00 22 05 5F 00 00 4A DF 4E 20 00 02 2D 14 00 00 00 00 00 00 23 60 03 04 01 " \
		 "0B B1 00 00 00 4E 20 4A DF 00 00 FA C2 77"
#define F7_DSG   "DD 03 00 1B 0A 50 FD A4 B7 17 DA C0 00 00 2C F3 00 00 00 00 00 00 16 54 03 08 02 " \
		 "0B 7D 0B 77 F8 E2 77"
#define F8_BAL   "DD 03 00 1B 0A 88 03 3C 0E 26 13 88 00 A5 29 89 00 08 00 00 00 00 28 48 03 08 02 " \
		 "0B B5 0B B4 FA EA 77"
#define F9_LOCK  "DD 03 00 1D 05 33 00 00 68 C9 6D 60 00 00 2C 7C 00 00 00 00 10 00 80 60 02 04 03 " \
		 "0B 6D 0B 6D 0B 69 FA A8 77"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	return hex_to_bytes(hex, out, cap);
}

static void parse_hex_frame(const char *hex, struct jbd_frame *f)
{
	uint8_t w[JBD_FRAME_MAX + 8];
	size_t n = unhex(hex, w, sizeof w);

	assert_int_equal(rig_jbd_frame_parse(w, n, f), RIG_OK);
}

static void assert_frame_bytes(const struct jbd_frame *f, const char *hex)
{
	uint8_t want[JBD_FRAME_MAX], got[JBD_FRAME_MAX];
	size_t nw = unhex(hex, want, sizeof want), ng = 0;

	assert_int_equal(rig_jbd_frame_encode(f, got, sizeof got, &ng), RIG_OK);
	assert_int_equal(ng, nw);
	assert_memory_equal(got, want, nw);
}

/* ---- checksum (docs/protocols/jbd.md §2.3) ----------------------------------------------------------- */

static void test_checksum_worked_examples(void **state)
{
	static const struct { const char *summed; uint16_t want; } t[] = {
		{ "03 00", 0xFFFD },                 /* DD A5 03 00 FF FD 77 */
		{ "00 02 56 78", 0xFF30 },           /* enter factory */
		{ "80 00", 0xFF80 },                 /* error reply: the status is summed */
		{ "00 00", 0x0000 },                 /* every write ack: sum 0 -> 0x0000, not 0x10000 */
	};
	uint8_t b[JBD_FRAME_MAX], f1[JBD_FRAME_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		n = unhex(t[i].summed, b, sizeof b);
		assert_int_equal(rig_jbd_checksum(b, n), t[i].want);
	}
	/* F1: offsets 2..3+len sum to 0x0573. */
	n = unhex(F1_BASIC, f1, sizeof f1);
	assert_int_equal(rig_jbd_checksum(f1 + 2, n - 5), 0xFA8D);
	/* The largest sum a frame can have, 255 + 255 + 255 * 255 = 0xFFFF, still fits. */
	memset(b, 0xFF, 2 + JBD_DATA_MAX);
	assert_int_equal(rig_jbd_checksum(b, 2 + JBD_DATA_MAX), 0x0001);
	assert_int_equal(rig_jbd_checksum(b, 0), 0x0000);
	/* The sum goes two bytes a turn: every length, odd ones too, and every start, against the
	 * byte-by-byte negated sum. */
	for (n = 0; n < 2 + JBD_DATA_MAX; n++)
		b[n] = (uint8_t)(n * 37u + 11u);
	for (size_t start = 0; start < 2; start++)
		for (n = 0; n + start <= 2 + JBD_DATA_MAX; n++) {
			uint16_t want = 0;

			for (size_t k = 0; k < n; k++)
				want = (uint16_t)(want - b[start + k]);
			assert_int_equal(rig_jbd_checksum(b + start, n), want);
		}
}

/* ---- parse ------------------------------------------------------------------------------ */

static void test_parse_rejects(void **state)
{
	static const struct { const char *why, *hex; rig_rc rc; } t[] = {
		{ "empty", "", RIG_ERR_LENGTH },
		{ "short input", "DD A5 03 00 FF FD", RIG_ERR_LENGTH },
		{ "bad start", "DC A5 03 00 FF FD 77", RIG_ERR_FRAME },
		{ "bad stop", "DD A5 03 00 FF FD 78", RIG_ERR_FRAME },
		{ "len says 1, no data", "DD A5 03 01 FF FD 77", RIG_ERR_LENGTH },
		{ "trailing byte", "DD A5 03 00 FF FD 77 00", RIG_ERR_LENGTH },
		{ "len says 0, data present", "DD 24 00 00 0E 42 FF AE 77", RIG_ERR_LENGTH },
		{ "checksum low byte", "DD A5 03 00 FF FC 77", RIG_ERR_CHECKSUM },
		/* Some clients compare only the low byte (docs/protocols/jbd.md §2.3): the high byte counts too. */
		{ "checksum high byte", "DD A5 03 00 FE FD 77", RIG_ERR_CHECKSUM },
		{ "data corrupted", "DD 24 00 02 0E 43 FF AE 77", RIG_ERR_CHECKSUM },
	};
	uint8_t w[64];
	struct jbd_frame f;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		size_t n = unhex(t[i].hex, w, sizeof w);
		rig_rc rc = rig_jbd_frame_parse(w, n, &f);

		if (rc != t[i].rc)
			fail_msg("%s: got %s, want %s", t[i].why, rig_rc_str(rc), rig_rc_str(t[i].rc));
	}
}

static void test_parse_tells_request_from_response(void **state)
{
	struct jbd_frame f;

	(void)state;
	parse_hex_frame("DD A5 03 00 FF FD 77", &f);
	assert_int_equal(f.kind, JBD_KIND_REQUEST);
	assert_int_equal(f.rw, JBD_RW_READ);
	assert_int_equal(f.reg, JBD_REG_BASIC);
	assert_int_equal(f.status, 0);
	assert_int_equal(f.len, 0);

	parse_hex_frame("DD 5A E1 02 00 01 FF 1C 77", &f);
	assert_int_equal(f.kind, JBD_KIND_REQUEST);
	assert_int_equal(f.rw, JBD_RW_WRITE);
	assert_int_equal(f.reg, JBD_REG_MOSFET);
	assert_int_equal(f.len, 2);

	parse_hex_frame("DD E3 80 00 FF 80 77", &f);
	assert_int_equal(f.kind, JBD_KIND_RESPONSE);
	assert_int_equal(f.rw, 0);
	assert_int_equal(f.reg, 0xE3);
	assert_int_equal(f.status, JBD_STATUS_UNSUPPORTED);
}

static void test_encode_checks_room_and_rw(void **state)
{
	struct jbd_frame f;
	uint8_t out[JBD_FRAME_MAX];
	size_t n = 0;

	(void)state;
	rig_jbd_request_read(&f, JBD_REG_BASIC);
	assert_int_equal(rig_jbd_frame_encode(&f, out, 6, &n), RIG_ERR_SPACE);
	assert_int_equal(rig_jbd_frame_encode(&f, out, 7, &n), RIG_OK);
	assert_int_equal(n, 7);
	f.rw = 0x00;
	assert_int_equal(rig_jbd_frame_encode(&f, out, sizeof out, &n), RIG_ERR_ARG);
}

/* ---- builders produce the bytes of docs/protocols/jbd.md ------------------------------------------------ */

static void b_read_basic(struct jbd_frame *f) { rig_jbd_request_read(f, JBD_REG_BASIC); }
static void b_read_events(struct jbd_frame *f) { rig_jbd_request_read(f, JBD_REG_EVENTS); }
static void b_factory_enter(struct jbd_frame *f) { rig_jbd_request_factory_enter(f); }
static void b_exit_discard(struct jbd_frame *f) { rig_jbd_request_factory_exit(f, 0); }
static void b_exit_save(struct jbd_frame *f) { rig_jbd_request_factory_exit(f, 1); }
static void b_mosfet_chg(struct jbd_frame *f) { rig_jbd_request_mosfet(f, JBD_MOSFET_CHG_OFF); }
static void b_mosfet_both(struct jbd_frame *f) { rig_jbd_request_mosfet(f, JBD_MOSFET_CHG_OFF | JBD_MOSFET_DSG_OFF); }
/* The vendor warns against other E1 values: the builder keeps only the two defined bits. */
static void b_mosfet_junk(struct jbd_frame *f) { rig_jbd_request_mosfet(f, 0xFF); }
static void b_remain_cap(struct jbd_frame *f) { rig_jbd_request_write_u16(f, JBD_REG_REMAIN_CAP, 10000); }
static void b_balance_off(struct jbd_frame *f) { rig_jbd_request_write_u16(f, JBD_REG_FUNC_CONFIG, 0x0002); }
static void b_ack(struct jbd_frame *f) { rig_jbd_response_ack(f, JBD_REG_MOSFET); }
static void b_unsupported(struct jbd_frame *f) { rig_jbd_response_error(f, 0xE3, JBD_STATUS_UNSUPPORTED); }
static void b_refused(struct jbd_frame *f) { rig_jbd_response_error(f, 0x24, JBD_STATUS_REFUSED); }
static void b_eeprom(struct jbd_frame *f) { rig_jbd_register_encode(f, 0x24, 3650); }

static void b_string_write(struct jbd_frame *f)
{
	static const uint8_t d[] = { 5, 'D', 'G', 'J', 'B', 'D' };

	assert_int_equal(rig_jbd_request_write(f, JBD_REG_MFG_NAME, d, sizeof d), RIG_OK);
}

static void b_string_reply(struct jbd_frame *f)
{
	struct jbd_text t = { 5, "DGJBD" };

	assert_int_equal(rig_jbd_string_encode(f, JBD_REG_MFG_NAME, &t), RIG_OK);
}

static void b_empty_barcode(struct jbd_frame *f)
{
	struct jbd_text t = { 0, "" };

	assert_int_equal(rig_jbd_string_encode(f, JBD_REG_BARCODE, &t), RIG_OK);
}

static void test_builders_exact_bytes(void **state)
{
	static const struct { void (*build)(struct jbd_frame *f); const char *hex; } t[] = {
		{ b_read_basic, "DD A5 03 00 FF FD 77" },
		{ b_read_events, "DD A5 AA 00 FF 56 77" },
		{ b_factory_enter, "DD 5A 00 02 56 78 FF 30 77" },
		{ b_exit_discard, "DD 5A 01 02 00 00 FF FD 77" },
		{ b_exit_save, "DD 5A 01 02 28 28 FF AD 77" },
		{ b_mosfet_chg, "DD 5A E1 02 00 01 FF 1C 77" },
		{ b_mosfet_both, "DD 5A E1 02 00 03 FF 1A 77" },
		{ b_mosfet_junk, "DD 5A E1 02 00 03 FF 1A 77" },
		{ b_remain_cap, "DD 5A E0 02 27 10 FE E7 77" },
		{ b_balance_off, "DD 5A 2D 02 00 02 FF CF 77" },
		{ b_string_write, "DD 5A A0 06 05 44 47 4A 42 44 FD FA 77" },
		{ b_ack, "DD E1 00 00 00 00 77" },
		{ b_unsupported, "DD E3 80 00 FF 80 77" },
		{ b_refused, "DD 24 81 00 FF 7F 77" },
		{ b_eeprom, "DD 24 00 02 0E 42 FF AE 77" },
		{ b_string_reply, "DD A0 00 06 05 44 47 4A 42 44 FE 9A 77" },
		{ b_empty_barcode, "DD A2 00 01 00 FF FF 77" },
	};
	struct jbd_frame f;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		memset(&f, 0xA5, sizeof f);         /* builders must not rely on a cleared frame */
		t[i].build(&f);
		assert_frame_bytes(&f, t[i].hex);
	}
}

static void test_write_without_data(void **state)
{
	struct jbd_frame f;

	(void)state;
	assert_int_equal(rig_jbd_request_write(&f, JBD_REG_CONTROL, NULL, 0), RIG_OK);
	assert_int_equal(f.len, 0);
	assert_int_equal(rig_jbd_request_write(&f, JBD_REG_CONTROL, NULL, 2), RIG_ERR_ARG);
}

/* ---- decoders refuse what they cannot read ------------------------------------------------ */

enum dec { D_BASIC, D_CELLS, D_VERSION, D_STRING, D_STRING_REQ, D_EVENTS, D_REGISTER, D_PARAMS };

static rig_rc decode_as(enum dec d, const struct jbd_frame *f)
{
	struct jbd_basic b;
	struct jbd_cells c;
	struct jbd_text t;
	struct jbd_events e;
	struct jbd_params p;
	uint16_t v;

	switch (d) {
	case D_BASIC: return rig_jbd_basic_decode(f, &b);
	case D_CELLS: return rig_jbd_cells_decode(f, &c);
	case D_VERSION: return rig_jbd_version_decode(f, &t);
	case D_STRING: return rig_jbd_string_decode(f, &t);
	case D_STRING_REQ: return rig_jbd_string_request_decode(f, &t);
	case D_EVENTS: return rig_jbd_events_decode(f, &e);
	case D_REGISTER: return rig_jbd_register_decode(f, &v);
	case D_PARAMS: return rig_jbd_params_decode(f, &p);
	}
	return RIG_ERR_ARG;
}

/* F1's data with the NTC count byte (data offset 22) replaced, and tails appended. */
#define F1_DATA(ntc) "06 18 00 00 01 F2 01 F4 00 00 2C 7C 00 00 00 00 00 00 80 64 03 04 " ntc
#define F1_TEMPS "0B 8B 0B 8A 0B 84"
#define TEXT31 "41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41"

static void test_decoders_reject_bad_lengths(void **state)
{
	static const struct {
		const char *why;
		enum dec dec;
		uint8_t kind, rw, reg, status;
		const char *data;
		rig_rc rc;
	} t[] = {
		{ "0x03 as captured", D_BASIC, 1, 0, 0x03, 0, F1_DATA("03") F1_TEMPS, RIG_OK },
		{ "0x03 NTC count 4, 3 values", D_BASIC, 1, 0, 0x03, 0, F1_DATA("04") F1_TEMPS, RIG_ERR_LENGTH },
		{ "0x03 NTC count 2, 3 values", D_BASIC, 1, 0, 0x03, 0, F1_DATA("02") F1_TEMPS, RIG_ERR_LENGTH },
		{ "0x03 NTC count 9", D_BASIC, 1, 0, 0x03, 0, F1_DATA("09") F1_TEMPS, RIG_ERR_LENGTH },
		{ "0x03 shorter than 23", D_BASIC, 1, 0, 0x03, 0, "06 18 00 00", RIG_ERR_LENGTH },
		{ "0x03 5-byte tail", D_BASIC, 1, 0, 0x03, 0, F1_DATA("03") F1_TEMPS "00 00 00 00 00", RIG_ERR_LENGTH },
		{ "0x03 9-byte tail", D_BASIC, 1, 0, 0x03, 0, F1_DATA("03") F1_TEMPS "00 00 00 00 00 00 00 00 00", RIG_OK },
		{ "0x03 33 cells", D_BASIC, 1, 0, 0x03, 0, "06 18 00 00 01 F2 01 F4 00 00 2C 7C 00 00 00 00 00 00 80 64 03 21 00", RIG_ERR_LENGTH },
		{ "0x03 error status", D_BASIC, 1, 0, 0x03, 0x80, "", RIG_ERR_STATUS },
		{ "0x03 decoder on 0x04", D_BASIC, 1, 0, 0x04, 0, F1_DATA("03") F1_TEMPS, RIG_ERR_ARG },
		{ "0x03 decoder on a request", D_BASIC, 0, 0xA5, 0x03, 0, "", RIG_ERR_ARG },
		{ "0x04 odd length", D_CELLS, 1, 0, 0x04, 0, "0F 45 0F 3D 0F", RIG_ERR_LENGTH },
		{ "0x04 33 cells", D_CELLS, 1, 0, 0x04, 0, TEXT31 " " TEXT31 " 41 41 41 41 41", RIG_ERR_LENGTH },
		{ "0x04 32 cells", D_CELLS, 1, 0, 0x04, 0, TEXT31 " " TEXT31 " 41 41", RIG_OK },
		{ "0x05 31 chars", D_VERSION, 1, 0, 0x05, 0, TEXT31, RIG_OK },
		{ "0x05 32 chars", D_VERSION, 1, 0, 0x05, 0, TEXT31 " 41", RIG_ERR_LENGTH },
		{ "string prefix too big", D_STRING, 1, 0, 0xA0, 0, "06 44 47 4A 42 44", RIG_ERR_LENGTH },
		{ "string prefix too small", D_STRING, 1, 0, 0xA0, 0, "04 44 47 4A 42 44", RIG_ERR_LENGTH },
		{ "string without prefix byte", D_STRING, 1, 0, 0xA2, 0, "", RIG_ERR_LENGTH },
		{ "string of 31", D_STRING, 1, 0, 0xA1, 0, "1F " TEXT31, RIG_OK },
		{ "string of 32", D_STRING, 1, 0, 0xA1, 0, "20 " TEXT31 " 41", RIG_ERR_LENGTH },
		{ "string decoder on 0x05", D_STRING, 1, 0, 0x05, 0, "01 41", RIG_ERR_ARG },
		{ "string write, jbdtool form", D_STRING_REQ, 0, 0x5A, 0xA0, 0, "41 43 4D 45", RIG_ERR_LENGTH },
		{ "string write with prefix", D_STRING_REQ, 0, 0x5A, 0xA0, 0, "04 41 43 4D 45", RIG_OK },
		{ "string read is no write", D_STRING_REQ, 0, 0xA5, 0xA0, 0, "", RIG_ERR_ARG },
		{ "0xAA 10 counters", D_EVENTS, 1, 0, 0xAA, 0, "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", RIG_ERR_LENGTH },
		{ "0xAA odd", D_EVENTS, 1, 0, 0xAA, 0, "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", RIG_ERR_LENGTH },
		{ "register 3 bytes", D_REGISTER, 1, 0, 0x24, 0, "0E 42 00", RIG_ERR_LENGTH },
		{ "register read request", D_REGISTER, 0, 0xA5, 0x24, 0, "0E 42", RIG_ERR_ARG },
		{ "register refused", D_REGISTER, 1, 0, 0x24, 0x81, "", RIG_ERR_STATUS },
		{ "0xFA count 2, one value", D_PARAMS, 1, 0, 0xFA, 0, "00 01 02 0F A0", RIG_ERR_LENGTH },
		{ "0xFA no count", D_PARAMS, 1, 0, 0xFA, 0, "00 01", RIG_ERR_LENGTH },
		{ "0xFA write reply, count 2, no values", D_PARAMS, 1, 0, 0xFA, 0, "00 01 02", RIG_ERR_LENGTH },
	};
	struct jbd_frame f;

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		rig_rc rc;

		memset(&f, 0, sizeof f);
		f.kind = t[i].kind;
		f.rw = t[i].rw;
		f.reg = t[i].reg;
		f.status = t[i].status;
		f.len = (uint8_t)unhex(t[i].data, f.data, sizeof f.data);
		rc = decode_as(t[i].dec, &f);
		if (rc != t[i].rc)
			fail_msg("%s: got %s, want %s", t[i].why, rig_rc_str(rc), rig_rc_str(t[i].rc));
	}
}

/* ---- encoders refuse what the wire cannot carry ------------------------------------------ */

static void test_encoders_reject_out_of_range(void **state)
{
	struct jbd_frame f;
	struct jbd_basic b;
	struct jbd_cells c = { JBD_CELLS_MAX + 1, { 0 } };
	struct jbd_text t = { JBD_TEXT_MAX + 1, "" };
	struct jbd_events e = { 10, { 0 } };
	struct jbd_params p = { 0, JBD_PARAMS_MAX + 1, { 0 } };

	(void)state;
	assert_int_equal(rig_jbd_cells_encode(&f, &c), RIG_ERR_ARG);
	c.count = JBD_CELLS_MAX;
	assert_int_equal(rig_jbd_cells_encode(&f, &c), RIG_OK);
	assert_int_equal(f.len, 2 * JBD_CELLS_MAX);

	memset(&b, 0, sizeof b);
	b.ntc_count = JBD_NTC_MAX + 1;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);
	b.ntc_count = JBD_NTC_MAX;
	b.cell_count = JBD_CELLS_MAX + 1;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);
	b.cell_count = JBD_CELLS_MAX;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	assert_int_equal(f.len, JBD_BASIC_FIXED_LEN + 2 * JBD_NTC_MAX);
	/* 16-bit wire fields in units of 10: one unit past the top is refused, not wrapped. */
	b.pack_mV = 655360;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);
	b.pack_mV = 655350;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	b.current_mA = 327680;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);
	b.current_mA = -327690;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);
	b.current_mA = -327680;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	b.has_ext = 1;
	b.ext_full_mAh = 700000;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_ERR_ARG);

	assert_int_equal(rig_jbd_version_encode(&f, &t), RIG_ERR_ARG);
	assert_int_equal(rig_jbd_string_encode(&f, JBD_REG_MFG_NAME, &t), RIG_ERR_ARG);
	t.len = 1;
	assert_int_equal(rig_jbd_string_encode(&f, JBD_REG_VERSION, &t), RIG_ERR_ARG);
	assert_int_equal(rig_jbd_events_encode(&f, &e), RIG_ERR_ARG);
	e.count = 13;
	assert_int_equal(rig_jbd_events_encode(&f, &e), RIG_ERR_ARG);
	assert_int_equal(rig_jbd_params_encode(&f, &p), RIG_ERR_ARG);
	p.count = JBD_PARAMS_MAX;
	assert_int_equal(rig_jbd_params_encode(&f, &p), RIG_OK);
	assert_int_equal(f.len, JBD_DATA_MAX);
}

/* ---- 0x03 values ------------------------------------------------------------------------ */

static void test_basic_extension_f6(void **state)
{
	struct jbd_frame f, g;
	struct jbd_basic b;

	(void)state;
	parse_hex_frame(F6_EXT, &f);
	assert_int_equal(rig_jbd_basic_decode(&f, &b), RIG_OK);
	assert_int_equal(b.pack_mV, 13750);
	assert_int_equal(b.remain_mAh, 191670);
	assert_int_equal(b.full_mAh, 200000);
	assert_int_equal(b.cycles, 2);
	assert_int_equal(b.production_date, rig_jbd_date_pack(2022, 8, 20));
	assert_int_equal(b.sw_version, 0x23);
	assert_int_equal(b.soc_pct, 96);
	assert_int_equal(b.ntc_count, 1);
	assert_int_equal(b.temp_dK[0], 2993);
	assert_true(b.has_ext);
	assert_int_equal(b.humidity_pct, 0);
	assert_int_equal(b.alarm_raw, 0);
	assert_int_equal(b.ext_full_mAh, 200000);
	assert_int_equal(b.ext_remain_mAh, 191670);
	assert_int_equal(b.balance_current_mA, 0);
	assert_int_equal(rig_jbd_basic_encode(&g, &b), RIG_OK);
	assert_frame_bytes(&g, F6_EXT);
}

static void test_basic_extension_values_round_trip(void **state)
{
	struct jbd_frame f;
	struct jbd_basic b, d;

	(void)state;
	memset(&b, 0, sizeof b);
	b.cell_count = 4;
	b.ntc_count = 2;
	b.temp_dK[0] = 2981;
	b.temp_dK[1] = 2631;
	b.has_ext = 1;
	b.humidity_pct = 55;
	b.alarm_raw = 0x0C01;
	b.ext_full_mAh = 123450;
	b.ext_remain_mAh = 67890;
	b.balance_current_mA = 321;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	assert_int_equal(f.len, JBD_BASIC_FIXED_LEN + 4 + JBD_BASIC_EXT_LEN);
	assert_int_equal(rig_jbd_basic_decode(&f, &d), RIG_OK);
	assert_memory_equal(&d, &b, sizeof b);
}

static void test_basic_signs_and_rounding(void **state)
{
	struct jbd_frame f;
	struct jbd_basic b;

	(void)state;
	/* F7: discharging is negative, 0xFDA4 = -604 -> -6040 mA. */
	parse_hex_frame(F7_DSG, &f);
	assert_int_equal(rig_jbd_basic_decode(&f, &b), RIG_OK);
	assert_int_equal(b.current_mA, -6040);
	assert_int_equal(b.pack_mV, 26400);

	/* The wire holds 10 mV / 10 mA steps: the encoder rounds to nearest, halves away from 0. */
	b.pack_mV = 15604;
	b.current_mA = -6045;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	assert_int_equal(f.data[0] << 8 | f.data[1], 1560);
	assert_int_equal((int16_t)(f.data[2] << 8 | f.data[3]), -605);
	b.pack_mV = 15605;
	b.current_mA = 6044;
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	assert_int_equal(f.data[0] << 8 | f.data[1], 1561);
	assert_int_equal((int16_t)(f.data[2] << 8 | f.data[3]), 604);
}

/* ---- dates (docs/protocols/jbd.md §4.2) -------------------------------------------------------------- */

static void test_date_pack_unpack(void **state)
{
	static const struct { uint16_t packed; unsigned y, m, d; } t[] = {
		{ 0x2068, 2016, 3, 8 }, { 0x2078, 2016, 3, 24 }, { 0x2C7C, 2022, 3, 28 },
		{ 0x2D14, 2022, 8, 20 }, { 0x2989, 2020, 12, 9 }, { 0x0021, 2000, 1, 1 },
		{ 0xFF9F, 2127, 12, 31 },
	};

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		unsigned y, m, d;

		assert_int_equal(rig_jbd_date_pack(t[i].y, t[i].m, t[i].d), t[i].packed);
		rig_jbd_date_unpack(t[i].packed, &y, &m, &d);
		assert_int_equal(y, t[i].y);
		assert_int_equal(m, t[i].m);
		assert_int_equal(d, t[i].d);
	}
}

/* ---- decoded-frame JSON beyond the golden vectors ---------------------------------------- */

static void test_json_objects(void **state)
{
	static const struct { const char *why, *hex, *json; } t[] = {
		{ "F6: 0x03 with the extension", F6_EXT,
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":3,\"status\":0,\"pack_mv\":13750,"
		  "\"current_ma\":0,\"remain_mah\":191670,\"full_mah\":200000,\"cycles\":2,"
		  "\"production_date\":\"2022-08-20\",\"bal_mask\":0,\"prot_raw\":0,\"sw_version\":35,"
		  "\"soc_pct\":96,\"fet_chg\":1,\"fet_dsg\":1,\"cell_count\":4,\"ntc_count\":1,"
		  "\"temps_dk\":[2993],\"humidity_pct\":0,\"alarm_raw\":0,\"ext_full_mah\":200000,"
		  "\"ext_remain_mah\":191670,\"balance_current_ma\":0}" },
		{ "F7: discharging", F7_DSG,
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":3,\"status\":0,\"pack_mv\":26400,"
		  "\"current_ma\":-6040,\"remain_mah\":468710,\"full_mah\":560000,\"cycles\":0,"
		  "\"production_date\":\"2022-07-19\",\"bal_mask\":0,\"prot_raw\":0,\"sw_version\":22,"
		  "\"soc_pct\":84,\"fet_chg\":1,\"fet_dsg\":1,\"cell_count\":8,\"ntc_count\":2,"
		  "\"temps_dk\":[2941,2935]}" },
		{ "F8: cell 4 balancing", F8_BAL,
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":3,\"status\":0,\"pack_mv\":26960,"
		  "\"current_ma\":8280,\"remain_mah\":36220,\"full_mah\":50000,\"cycles\":165,"
		  "\"production_date\":\"2020-12-09\",\"bal_mask\":8,\"prot_raw\":0,\"sw_version\":40,"
		  "\"soc_pct\":72,\"fet_chg\":1,\"fet_dsg\":1,\"cell_count\":8,\"ntc_count\":2,"
		  "\"temps_dk\":[2997,2996]}" },
		{ "F9: software lock, charge FET off", F9_LOCK,
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":3,\"status\":0,\"pack_mv\":13310,"
		  "\"current_ma\":0,\"remain_mah\":268250,\"full_mah\":280000,\"cycles\":0,"
		  "\"production_date\":\"2022-03-28\",\"bal_mask\":0,\"prot_raw\":4096,\"sw_version\":128,"
		  "\"soc_pct\":96,\"fet_chg\":0,\"fet_dsg\":1,\"cell_count\":4,\"ntc_count\":3,"
		  "\"temps_dk\":[2925,2925,2921]}" },
		{ "string write with its text", "DD 5A A0 06 05 44 47 4A 42 44 FD FA 77",
		  "{\"proto\":\"jbd\",\"kind\":\"request\",\"cmd\":160,\"rw\":\"write\","
		  "\"data_hex\":\"0544474A4244\",\"manufacturer\":\"DGJBD\"}" },
		{ "string write without prefix (jbdtool)", "DD 5A A0 04 41 43 4D 45 FE 46 77",
		  "{\"proto\":\"jbd\",\"kind\":\"request\",\"cmd\":160,\"rw\":\"write\","
		  "\"data_hex\":\"41434D45\",\"error\":\"wrong length\"}" },
		{ "empty string write", "DD 5A A2 00 FF 5E 77",
		  "{\"proto\":\"jbd\",\"kind\":\"request\",\"cmd\":162,\"rw\":\"write\","
		  "\"error\":\"wrong length\",\"data_hex\":\"\"}" },
		{ "0xFA read request keeps its data", "DD A5 FA 03 00 01 02 FF 00 77",
		  "{\"proto\":\"jbd\",\"kind\":\"request\",\"cmd\":250,\"rw\":\"read\",\"data_hex\":\"000102\"}" },
		{ "refused", "DD 24 81 00 FF 7F 77",
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":36,\"status\":129}" },
		{ "0x04 odd length", "DD 04 00 03 0F 45 0F FF 9A 77",
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":4,\"status\":0,"
		  "\"error\":\"wrong length\",\"data_hex\":\"0F450F\"}" },
		{ "register without a mapping", "DD F6 00 02 12 34 FF B8 77",
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":246,\"status\":0,\"data_hex\":\"1234\"}" },
		{ "bad checksum", "DD A5 03 00 FF FC 77", "{\"proto\":\"jbd\",\"error\":\"bad checksum\"}" },
		{ "bad framing", "DD A5 03 00 FF FD 00", "{\"proto\":\"jbd\",\"error\":\"bad framing\"}" },
		/* Device text is Latin-1 to JSON: B0 -> U+00B0, NUL -> U+FFFD; the output stays UTF-8. */
		{ "non-ASCII model text", "DD 05 00 03 B0 00 43 FF 0A 77",
		  "{\"proto\":\"jbd\",\"kind\":\"response\",\"cmd\":5,\"status\":0,"
		  "\"model\":\"\xC2\xB0\xEF\xBF\xBD" "C\"}" },
	};

	(void)state;
	for (size_t i = 0; i < N_OF(t); i++) {
		uint8_t w[JBD_FRAME_MAX];
		size_t n = unhex(t[i].hex, w, sizeof w);
		cJSON *got = jbd_wire_json(w, n), *want = cJSON_Parse(t[i].json);
		char *s = cJSON_PrintUnformatted(got);

		assert_non_null(want);
		if (!cJSON_Compare(want, got, 1))
			fail_msg("%s:\n  want %s\n  got  %s", t[i].why, t[i].json, s);
		cJSON_free(s);
		cJSON_Delete(got);
		cJSON_Delete(want);
	}
}

static void test_json_balance_high_word(void **state)
{
	struct jbd_frame f;
	struct jbd_basic b;
	cJSON *o;

	(void)state;
	memset(&b, 0, sizeof b);
	b.cell_count = 20;
	b.bal_low = 0x8001;                 /* cells 1 and 16 */
	b.bal_high = 0x0009;                /* cells 17 and 20 */
	assert_int_equal(rig_jbd_basic_encode(&f, &b), RIG_OK);
	o = jbd_frame_json(&f);
	assert_non_null(o);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "bal_mask")) ==
		    (double)0x00098001u);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_worked_examples),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_tells_request_from_response),
		cmocka_unit_test(test_encode_checks_room_and_rw),
		cmocka_unit_test(test_builders_exact_bytes),
		cmocka_unit_test(test_write_without_data),
		cmocka_unit_test(test_decoders_reject_bad_lengths),
		cmocka_unit_test(test_encoders_reject_out_of_range),
		cmocka_unit_test(test_basic_extension_f6),
		cmocka_unit_test(test_basic_extension_values_round_trip),
		cmocka_unit_test(test_basic_signs_and_rounding),
		cmocka_unit_test(test_date_pack_unpack),
		cmocka_unit_test(test_json_objects),
		cmocka_unit_test(test_json_balance_high_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
