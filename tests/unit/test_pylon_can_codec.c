/* The two layers of the Pylontech CAN codec: slcan text <-> struct rig_can_frame (with the line
 * assembler's resynchronisation), and the Pylontech LV set <-> struct rig_inv_battery, byte for
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_can.h"
#include "bmsrig/core/slcan.h"

static void feed(struct slcan_rx *rx, const char *s)
{
	assert_int_equal(rig_slcan_rx_feed(rx, (const uint8_t *)s, strlen(s), 0), strlen(s));
}

static void test_slcan_encode(void **state)
{
	struct rig_can_frame f = { 0x351, 8, { 0x14, 0x02, 0xC0, 0x12, 0xC0, 0x12, 0xC2, 0x01 }, 0 };
	uint8_t out[SLCAN_LINE_MAX];
	size_t n;

	(void)state;
	assert_int_equal(rig_slcan_frame_encode(&f, out, sizeof out, &n), RIG_OK);
	assert_int_equal(n, 22);
	assert_memory_equal(out, "t35181402C012C012C201\r", 22);
	f.ext = 1;
	f.id = 0x18FF50E5u;
	f.dlc = 2;
	assert_int_equal(rig_slcan_frame_encode(&f, out, sizeof out, &n), RIG_OK);
	assert_memory_equal(out, "T18FF50E521402\r", n);
	assert_int_equal(rig_slcan_frame_encode(&f, out, 10, &n), RIG_ERR_SPACE);
	f.ext = 0;    /* a 29-bit id in an 11-bit frame */
	assert_int_equal(rig_slcan_frame_encode(&f, out, sizeof out, &n), RIG_ERR_ARG);
	f.id = 0x305;
	f.dlc = 9;
	assert_int_equal(rig_slcan_frame_encode(&f, out, sizeof out, &n), RIG_ERR_ARG);
}

static void test_slcan_parse(void **state)
{
	struct slcan_line l;

	(void)state;
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t3058000000000000000", 20, SLCAN_CR, &l), RIG_ERR_LENGTH);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t30580000000000000000", 21, SLCAN_CR, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_FRAME);
	assert_int_equal(l.frame.id, 0x305);
	assert_int_equal(l.frame.dlc, 8);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t35e2abCD", 9, SLCAN_CR, &l), RIG_OK);   /* any case */
	assert_int_equal(l.frame.id, 0x35E);
	assert_int_equal(l.frame.data[0], 0xAB);
	assert_int_equal(l.frame.data[1], 0xCD);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t8001", 5, SLCAN_CR, &l), RIG_ERR_FRAME);  /* id > 0x7FF */
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t3519", 5, SLCAN_CR, &l), RIG_ERR_FRAME);  /* DLC 9 */
	assert_int_equal(rig_slcan_parse((const uint8_t *)"t3511G0", 7, SLCAN_CR, &l), RIG_ERR_FRAME);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"S6", 2, SLCAN_CR, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_COMMAND);
	assert_int_equal(l.cmd, 'S');
	assert_string_equal(l.arg, "6");
	assert_int_equal(rig_slcan_parse((const uint8_t *)"", 0, SLCAN_CR, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_ACK);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"z", 1, SLCAN_CR, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_ACK);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"", 0, SLCAN_BEL, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_ERROR);
	assert_int_equal(rig_slcan_parse((const uint8_t *)"O\x01", 2, SLCAN_CR, &l), RIG_ERR_FRAME);
}

/* Commands and frames in pieces, garbage, an overlong line and a BEL: every good line comes out,
 * nothing from inside a bad one does. */
static void test_slcan_rx_resync(void **state)
{
	struct slcan_rx rx;
	struct slcan_line l;

	(void)state;
	rig_slcan_rx_init(&rx, 0);
	feed(&rx, "C\rS6");
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_OK);
	assert_int_equal(l.cmd, 'C');
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_MORE);
	feed(&rx, "\rO\r");
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_OK);
	assert_int_equal(l.cmd, 'S');
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_OK);
	assert_int_equal(l.cmd, 'O');
	/* A bad line goes whole. */
	feed(&rx, "t30X8\rt3052C000\r");
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_FRAME);
	assert_int_equal(l.frame.id, 0x305);
	assert_int_equal(rx.b.rejected_frames, 1);
	assert_int_equal(rx.b.skipped_bytes, 6);
	/* An overlong line hides a frame-looking tail: it must not come out. */
	static const char longline[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxt3050\rt3510\r";
	size_t taken = 0, len = sizeof longline - 1;
	rig_rc rc;
	do {
		taken += rig_slcan_rx_feed(&rx, (const uint8_t *)longline + taken, len - taken, 0);
		rc = rig_slcan_rx_next(&rx, &l);
	} while (rc == RIG_MORE && taken < len);
	assert_int_equal(rc, RIG_OK);
	assert_int_equal(l.kind, SLCAN_FRAME);
	assert_int_equal(l.frame.id, 0x351);
	assert_int_equal(rx.b.rejected_frames, 2);
	feed(&rx, "\a");
	assert_int_equal(rig_slcan_rx_next(&rx, &l), RIG_OK);
	assert_int_equal(l.kind, SLCAN_ERROR);
}

static struct rig_inv_battery sample(void)
{
	struct rig_inv_battery r;

	memset(&r, 0, sizeof r);
	r.cvl_mV = 53200;
	r.ccl_mA = 100000;
	r.dcl_mA = 150000;
	r.dvl_mV = 45000;
	r.request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE;
	r.soc_pct = 87;
	r.soh_pct = 99;
	r.soc_cpct = 8712;
	r.pack_mV = 51230;
	r.current_mA = -12300;
	r.temp_dK = 2731 + 251;
	r.full_mAh = 100000;
	r.design_mAh = 105000;
	r.module_count = 1;
	strcpy(r.manufacturer, "PYLON");
	return r;
}

static void test_set_bytes(void **state)
{
	struct rig_inv_battery r = sample();
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	static const struct { uint32_t id; uint8_t d[8]; } want[] = {
		{ 0x351, { 0x14, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xC2, 0x01 } },
		{ 0x355, { 0x57, 0x00, 0x63, 0x00, 0x08, 0x22, 0x00, 0x00 } },
		{ 0x356, { 0x03, 0x14, 0x85, 0xFF, 0xFB, 0x00, 0x00, 0x00 } },
		{ 0x359, { 0x00, 0x00, 0x00, 0x00, 0x01, 'P', 'N', 0x00 } },
		{ 0x35C, { 0xC0, 0, 0, 0, 0, 0, 0, 0 } },
		{ 0x35E, { 'P', 'Y', 'L', 'O', 'N', ' ', ' ', ' ' } },
		{ 0x35A, { 0xAA, 0xAA, 0xAE, 0x03, 0xAA, 0xAA, 0xAE, 0x03 } },   /* 11: no contactor, no imbalance */
		{ 0x35F, { 0, 0, 0, 0, 100, 0, 0, 0 } },
		{ 0x379, { 105, 0, 0, 0, 0, 0, 0, 0 } },
	};

	(void)state;
	assert_int_equal(rig_pylon_can_encode_set(&r, 0, f, PYLON_CAN_SET_MAX), 6);
	assert_int_equal(rig_pylon_can_encode_set(&r, 1, f, PYLON_CAN_SET_MAX), 9);
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(f[i].id, want[i].id);
		assert_int_equal(f[i].dlc, 8);
		assert_int_equal(f[i].ext, 0);
		assert_memory_equal(f[i].data, want[i].d, 8);
	}
	assert_int_equal(rig_pylon_can_encode_set(&r, 1, f, 2), 2);
	assert_int_equal(rig_pylon_can_encode(0x123, &r, f), RIG_ERR_UNSUPPORTED);
}

static void test_flags(void **state)
{
	struct rig_inv_battery r = sample(), back;
	struct rig_can_frame f;
	unsigned have = 0;

	(void)state;
	r.prot = PACK_PROT_CELL_OV | PACK_PROT_SHORT | PACK_PROT_CHG_OC | PACK_PROT_AFE;
	r.warn = PACK_PROT_CHG_UT;
	r.alarm = RIG_INV_ALARM_COMM;
	r.module_count = 3;
	assert_int_equal(rig_pylon_can_encode(0x359, &r, &f), RIG_OK);
	/* 0.1 OV, 0.7 discharge OC (short); 1.0 charge OC, 1.3 and 1.7 system error; 2.4 low T; 3.3 comm. */
	const uint8_t want[8] = { 0x82, 0x89, 0x10, 0x08, 3, 'P', 'N', 0 };
	assert_memory_equal(f.data, want, 8);
	memset(&back, 0, sizeof back);
	assert_int_equal(rig_pylon_can_decode(&f, &back, &have), RIG_OK);
	assert_int_equal(have, PYLON_CAN_HAVE_FLAGS);
	assert_int_equal(back.prot, PACK_PROT_CELL_OV | PACK_PROT_DSG_OC | PACK_PROT_CHG_OC);
	assert_int_equal(back.warn, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT);
	assert_int_equal(back.alarm, RIG_INV_ALARM_COMM | RIG_INV_ALARM_SYSTEM);
	assert_int_equal(back.module_count, 3);
	/* Either system-error bit alone reads as one. */
	f.data[1] = 0x80;
	assert_int_equal(rig_pylon_can_decode(&f, &back, &have), RIG_OK);
	assert_true(back.alarm & RIG_INV_ALARM_SYSTEM);
	/* 0x35A: high V alarm (byte 0 bits 2-3 = 01), short (byte 2 bits 4-5), internal (6-7). */
	assert_int_equal(rig_pylon_can_encode(0x35A, &r, &f), RIG_OK);
	assert_int_equal(f.data[0], 0xA5);
	assert_int_equal(f.data[2], 0x5D);   /* charge OC 01, contactor 11, short 01, internal 01 */
	memset(&back, 0, sizeof back);
	assert_int_equal(rig_pylon_can_decode(&f, &back, &have), RIG_OK);
	assert_int_equal(back.prot, PACK_PROT_CELL_OV | PACK_PROT_SHORT | PACK_PROT_CHG_OC | PACK_PROT_AFE);
	assert_int_equal(back.warn, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT);   /* "low T" and "low T charge" */
}

static void test_requests_and_saturation(void **state)
{
	struct rig_inv_battery r = sample(), back;
	struct rig_can_frame f;
	unsigned have = 0;

	(void)state;
	r.request = RIG_INV_CHG_ENABLE | RIG_INV_FORCE_CHG_1 | RIG_INV_FORCE_CHG_2 | RIG_INV_FULL_CHG_REQ;
	assert_int_equal(rig_pylon_can_encode(0x35C, &r, &f), RIG_OK);
	assert_int_equal(f.data[0], 0xB8);
	assert_int_equal(rig_pylon_can_decode(&f, &back, &have), RIG_OK);
	assert_int_equal(back.request, r.request);
	/* Beyond a field: the most it holds, not a wrap. */
	r.ccl_mA = 5000000;
	r.current_mA = -5000000;
	r.cvl_mV = 7000000;
	assert_int_equal(rig_pylon_can_encode(0x351, &r, &f), RIG_OK);
	assert_int_equal(f.data[0] | f.data[1] << 8, 0xFFFF);
	assert_int_equal(f.data[2] | f.data[3] << 8, 0x7FFF);
	assert_int_equal(rig_pylon_can_encode(0x356, &r, &f), RIG_OK);
	assert_int_equal(f.data[2] | f.data[3] << 8, 0x8000);
	/* A negative DCL (some senders) is kept as a magnitude; a DLC 6 0x351 has no DVL. */
	f.id = 0x351;
	f.dlc = 6;
	f.data[4] = 0x18;
	f.data[5] = 0xFC;      /* -1000 = -100.0 A */
	assert_int_equal(rig_pylon_can_decode(&f, &back, &have), RIG_OK);
	assert_int_equal(back.dcl_mA, 100000);
	assert_int_equal(back.dvl_mV, 0);
}

static void test_decode_refuses(void **state)
{
	struct rig_inv_battery r;
	struct rig_can_frame f;
	unsigned have = 0;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(&f, 0, sizeof f);
	f.id = 0x356;
	f.dlc = 5;
	assert_int_equal(rig_pylon_can_decode(&f, &r, &have), RIG_ERR_LENGTH);
	f.dlc = 6;
	f.ext = 1;
	assert_int_equal(rig_pylon_can_decode(&f, &r, &have), RIG_ERR_UNSUPPORTED);
	f.ext = 0;
	f.id = 0x305;
	assert_int_equal(rig_pylon_can_decode(&f, &r, &have), RIG_ERR_UNSUPPORTED);
	assert_int_equal(have, 0);
	rig_pylon_can_keepalive(&f);
	assert_true(rig_pylon_can_is_keepalive(&f));
	assert_int_equal(f.dlc, 8);
	/* A name shorter than 8 (Pytes sends 5) and trailing spaces trimmed. */
	memcpy(f.data, "PYTES", 5);
	f.id = 0x35E;
	f.dlc = 5;
	assert_int_equal(rig_pylon_can_decode(&f, &r, &have), RIG_OK);
	assert_string_equal(r.manufacturer, "PYTES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slcan_encode),
		cmocka_unit_test(test_slcan_parse),
		cmocka_unit_test(test_slcan_rx_resync),
		cmocka_unit_test(test_set_bytes),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_requests_and_saturation),
		cmocka_unit_test(test_decode_refuses),
	};
	return cmocka_run_group_tests_name("pylon_can_codec", tests, NULL, NULL);
}
