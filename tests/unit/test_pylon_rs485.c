/*
 * Pylontech RS485: the codec's arithmetic (LENGTH with LCHKSUM masked, CHKSUM, against the
 * spec's corrected examples and real frames), parse errors, the resynchronising assembler, a
 * 0x47 reply from python-pylontech, the client's neutral views; and the personality through
 * its ops table: addressing on a line of three modules, the all-modules answers, error replies
 * (the captured RTN 02 byte for byte), silence, and the quirks.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/pylon_rs485_personality.h"

static struct pylon_frame f;

static rig_rc parse_text(const char *s, struct pylon_frame *out)
{
	return rig_pylon_frame_parse((const uint8_t *)s, strlen(s), out);
}

static void assert_encodes(const struct pylon_frame *fr, const char *want)
{
	static uint8_t out[PYLON_FRAME_MAX + 1];
	size_t n = 0;

	assert_int_equal(rig_pylon_frame_encode(fr, out, sizeof out - 1, &n), RIG_OK);
	out[n] = 0;
	assert_string_equal((char *)out, want);
}

static void test_length_field(void **state)
{
	(void)state;
	assert_int_equal(rig_pylon_length_field(0x012), 0xD012);   /* the spec's own example */
	assert_int_equal(rig_pylon_length_field(0x000), 0x0000);
	assert_int_equal(rig_pylon_length_field(0x06E), 0xC06E);   /* martiby's US2000 capture */
	assert_int_equal(rig_pylon_length_field(0x142), 0x9142);   /* the 3-module capture */
	/* Nibble sums of 16 and 32: two public implementations print a 5-digit field here. */
	assert_int_equal(rig_pylon_length_field(0x01F), 0x001F);
	assert_int_equal(rig_pylon_length_field(0x0F1), 0x00F1);
	assert_int_equal(rig_pylon_length_field(0x0FF), 0x20FF);
}

static void test_checksum(void **state)
{
	const char *spec = "1203400456ABCEFE";

	(void)state;
	/* The spec prints FC72 for this; its characters sum to 0x038F, so FC71. */
	assert_int_equal(rig_pylon_checksum((const uint8_t *)spec, strlen(spec)), 0xFC71);
}

static void test_request_bytes(void **state)
{
	(void)state;
	rig_pylon_request(&f, 2, PYLON_CMD_ANALOG, 1, 2);
	assert_encodes(&f, "~20024642E00202FD33\r");         /* martiby/ess TX capture */
	rig_pylon_request(&f, 2, PYLON_CMD_ANALOG, 1, 0xFF);
	assert_encodes(&f, "~20024642E002FFFD09\r");
	rig_pylon_request(&f, 2, PYLON_CMD_MFR_INFO, 0, 0);
	assert_encodes(&f, "~200246510000FDAC\r");
	rig_pylon_response(&f, 2, PYLON_RTN_CHKSUM);
	assert_encodes(&f, "~200246020000FDB0\r");           /* a real pack's RTN 02 */
}

static void test_parse_errors(void **state)
{
	(void)state;
	/* Either case; the checksum is over the characters as sent. */
	assert_int_equal(parse_text("~20024642e00202fd13\r", &f), RIG_OK);
	assert_int_equal(f.info_len, 1);
	assert_int_equal(f.info[0], 2);
	f.adr = 0;
	assert_int_equal(parse_text("~20024642E00201CB13\r", &f), RIG_ERR_CHECKSUM);
	assert_int_equal(f.adr, 2);                           /* the header, for the RTN 02 reply */
	assert_int_equal(f.cid2, 0x42);
	assert_int_equal(parse_text("~20024642F00202FD33\r", &f), RIG_ERR_LENGTH);  /* LCHKSUM */
	assert_int_equal(parse_text("~20024642E00302FD33\r", &f), RIG_ERR_LENGTH);  /* LENID odd */
	assert_int_equal(parse_text("~20024642E0020GFD33\r", &f), RIG_ERR_FRAME);   /* not hex */
	assert_int_equal(parse_text("~2002\r", &f), RIG_ERR_FRAME);
	assert_int_equal(parse_text("~20024642E00202FD33", &f), RIG_ERR_FRAME);     /* no CR */
}

static void test_assembler_resyncs(void **state)
{
	static struct pylon_rx rx;
	const char *s = "noise~2002\r~200~20024642E00202FD33\r~20024642E00201CB13\r~20024642E002";
	size_t n = strlen(s), i;

	(void)state;
	rig_pylon_rx_init(&rx, 0);
	for (i = 0; i < n; i += 3)    /* in pieces, as a UART delivers */
		assert_int_equal(rig_pylon_rx_feed(&rx, (const uint8_t *)s + i, n - i < 3 ? n - i : 3, 0),
		                 n - i < 3 ? n - i : 3);
	assert_int_equal(rig_pylon_rx_next(&rx, &f), RIG_OK);
	assert_int_equal(f.adr, 2);
	assert_int_equal(f.cid2, 0x42);
	assert_int_equal(rig_pylon_rx_next(&rx, &f), RIG_ERR_CHECKSUM);
	assert_int_equal(rig_pylon_rx_next(&rx, &f), RIG_MORE);
	assert_int_equal(rx.b.have, 13);                     /* the unfinished last frame waits */
	assert_int_equal(rx.b.skipped_bytes, 5 + 6 + 4 + 20);
	assert_int_equal(rx.b.rejected_frames, 3);
}

/* A 0x47 reply python-pylontech keeps as its debug frame (Frankkkkk/python-pylontech). */
static void test_sys_param_reply(void **state)
{
	struct pylon_sys_param p;

	(void)state;
	assert_int_equal(parse_text("~20024600B032110E420BEA0B540D0D0A3D03FCD2F0B3B0ADD40D0D0A3DFC18F23D\r", &f),
	                 RIG_OK);
	assert_int_equal(rig_pylon_sys_param_decode(&f, &p), RIG_OK);
	assert_int_equal(p.cell_high_mV, 3650);
	assert_int_equal(p.cell_low_mV, 3050);
	assert_int_equal(p.cell_under_mV, 2900);
	assert_int_equal(p.chg_high_dK, 3341);
	assert_int_equal(p.chg_current_mA, 102000);
	assert_int_equal(p.module_high_mV, 54000);
	assert_int_equal(p.module_under_mV, 44500);
	assert_int_equal(p.dsg_current_mA, -100000);
	assert_encodes(&f, "~20024600B032110E420BEA0B540D0D0A3D03FCD2F0B3B0ADD40D0D0A3DFC18F23D\r");
}

static void test_neutral_views(void **state)
{
	struct pylon_analog a;
	struct pylon_mgmt m;
	struct rig_inv_battery b;
	struct pack_state s;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(parse_text("~20024600C06E10020F0C9A0C980C990C980C9A0C9A0C990C9B0C9C0C9A0C9B0C9B0C9B0C9B0C99050B740B550B570B530B630000BD06190F02C3500084E545\r", &f), RIG_OK);
	assert_int_equal(rig_pylon_analog_decode(&f, &a), RIG_OK);
	rig_pylon_to_pack_state(&a.m[0], NULL, &s);
	assert_int_equal(s.soc_pct, 13);                       /* 6415 of 50000 mAh */
	assert_int_equal(s.pack_mV, 48390);
	rig_pylon_analog_to_inv(&a, &b);
	assert_int_equal(b.cell_max_mV, 3228);
	assert_int_equal(b.cell_min_mV, 3224);
	assert_int_equal(b.temp_max_dK, 2932);
	assert_int_equal(b.temp_dK, (2932 + 2901 + 2903 + 2899 + 2915) / 5);
	assert_int_equal(rig_pylon_status1_from_prot(PACK_PROT_CELL_UV | PACK_PROT_CHG_OT), 0x42);
	assert_int_equal(rig_pylon_prot_from_status1(0x01), PACK_PROT_PACK_OV);
	b.cvl_mV = 53250; b.dvl_mV = 45000; b.ccl_mA = 50000; b.dcl_mA = 74000;
	b.request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE | RIG_INV_FORCE_CHG_2;
	rig_pylon_mgmt_from_inv(&b, &m);
	m.has_command_value = 1;
	m.command_value = 2;
	rig_pylon_response(&f, 2, 0);
	assert_int_equal(rig_pylon_mgmt_encode(&f, &m), RIG_OK);
	assert_int_equal(f.info_len, 10);
	assert_memory_equal(f.info, "\x02\xD0\x02\xAF\xC8\x01\xF4\xFD\x1C\xD0", 10);
	memset(&b, 0, sizeof b);
	assert_int_equal(rig_pylon_mgmt_decode(&f, 1, &m), RIG_OK);
	rig_pylon_mgmt_to_inv(&m, &b);
	assert_int_equal(b.dcl_mA, 74000);                     /* a magnitude again */
	assert_int_equal(b.request, RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE | RIG_INV_FORCE_CHG_2);
}

/* ---- the personality through its ops table, three modules on one line ------------------- */

#define UNITS 3
struct line {
	struct model m[UNITS];
	struct bms b[UNITS];
	alignas(max_align_t) unsigned char state[UNITS][PERSONALITY_STATE_MAX];
	uint8_t out[UNITS][PYLON_FRAME_MAX + 1];
	size_t n[UNITS];
};
static struct line L;
static int sink_unit;

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	(void)ctx; (void)delay_ms; (void)parts;
	assert_true(n <= PYLON_FRAME_MAX);
	memcpy(L.out[sink_unit], wire, n);
	L.out[sink_unit][n] = 0;
	L.n[sink_unit] = n;
}

static const struct personality_ops *ops(void) { return &pylon_rs485_personality_ops; }

static void line_make(void)
{
	const struct bms *peers[UNITS];
	unsigned i;

	memset(&L, 0, sizeof L);
	for (i = 0; i < UNITS; i++) {
		struct model_cfg c;

		model_cfg_defaults(&c);
		c.cells = i == 2 ? 16 : 15;
		c.ntc_count = 4;
		assert_int_equal(model_init(&L.m[i], &c), RIG_OK);
		assert_int_equal(bms_init(&L.b[i], &L.m[i]), RIG_OK);
		bms_step(&L.b[i], &L.m[i], 0.1, -5.0);
		assert_int_equal(ops()->init(L.state[i], &L.b[i], 0), RIG_OK);
		peers[i] = &L.b[i];
	}
	for (i = 0; i < UNITS; i++)
		ops()->peers(L.state[i], peers, UNITS);
}

/* The request text to every module on the line; returns how many answered. */
static unsigned say(const char *req)
{
	struct reply_sink sink = { NULL, sink_send, NULL };
	unsigned i, answered = 0;

	for (i = 0; i < UNITS; i++) {
		sink_unit = (int)i;
		L.n[i] = 0;
		ops()->rx(L.state[i], (const uint8_t *)req, strlen(req), 1000, &sink);
		answered += L.n[i] > 0;
	}
	return answered;
}

static void test_personality_addressing(void **state)
{
	(void)state;
	line_make();
	assert_int_equal(say("~20024642E00202FD33\r"), 1);
	assert_true(L.n[0] > 0);
	assert_int_equal(parse_text((char *)L.out[0], &f), RIG_OK);
	assert_int_equal(f.adr, 2);
	assert_int_equal(f.cid2, 0);
	assert_int_equal(say("~20034644E00203FD2F\r"), 1);     /* unit 1 is ADR 3 */
	assert_true(L.n[1] > 0);
	assert_int_equal(say("~20054642E00205FD2D\r"), 0);     /* nobody at 5: silence */
}

static void test_personality_all_modules(void **state)
{
	struct pylon_analog a;
	struct pylon_alarm al;

	(void)state;
	line_make();
	assert_int_equal(say("~20024642E002FFFD09\r"), 1);     /* the master alone, for all */
	assert_int_equal(parse_text((char *)L.out[0], &f), RIG_OK);
	assert_int_equal(rig_pylon_analog_decode(&f, &a), RIG_OK);
	assert_int_equal(a.command_value, 3);
	assert_int_equal(a.module_count, 3);
	assert_int_equal(a.m[2].cell_count, 16);
	assert_int_equal(a.m[0].current_mA, -5000);
	assert_int_equal(a.m[2].user_defined, 4);              /* 100 Ah: u24 capacities */
	assert_int_equal(a.m[2].full_mAh, 100000);
	assert_int_equal(say("~20024644E002FFFD07\r"), 1);
	assert_int_equal(parse_text((char *)L.out[0], &f), RIG_OK);
	assert_int_equal(rig_pylon_alarm_decode(&f, &al), RIG_OK);
	assert_int_equal(al.module_count, 3);
	assert_int_equal(al.m[1].status[2] & PYLON_ST3_DISCHARGING, PYLON_ST3_DISCHARGING);
	/* A slave refuses FF and the system commands; the master answers them. */
	assert_int_equal(say("~20034642E002FFFD08\r"), 1);
	assert_int_equal(parse_text((char *)L.out[1], &f), RIG_OK);
	assert_int_equal(f.cid2, PYLON_RTN_DATA);
	assert_int_equal(say("~200346610000FDAA\r"), 1);
	assert_int_equal(parse_text((char *)L.out[1], &f), RIG_OK);
	assert_int_equal(f.cid2, PYLON_RTN_CID2);
	assert_int_equal(say("~200246610000FDAB\r"), 1);
	assert_int_equal(parse_text((char *)L.out[0], &f), RIG_OK);
	assert_int_equal(f.cid2, 0);
	assert_int_equal(f.info_len, 49);
}

static void test_personality_errors_and_quirks(void **state)
{
	char why[160];

	(void)state;
	line_make();
	assert_int_equal(say("~20024642E00201CB13\r"), 1);
	assert_string_equal((char *)L.out[0], "~200246020000FDB0\r");   /* the captured reply */
	assert_int_equal(say("~200246990000FDA0\r"), 1);
	assert_string_equal((char *)L.out[0], "~200246040000FDAE\r");
	assert_int_equal(say("~20024642E00403FF"), 0);                  /* no CR yet: nothing */
	assert_int_equal(ops()->set_quirk(L.state[0], "rtn_echo", "1", why, sizeof why), RIG_OK);
	assert_int_equal(say("~200246630000FDA9\r"), 1);
	assert_int_equal(parse_text((char *)L.out[0], &f), RIG_OK);
	assert_int_equal(f.cid2, 0x63);                                  /* Battery-Emulator's echo */
	assert_int_equal(ops()->set_quirk(L.state[1], "alarm_trailer", "1", why, sizeof why), RIG_OK);
	assert_int_equal(say("~20034644E00203FD2F\r"), 1);
	assert_int_equal(parse_text((char *)L.out[1], &f), RIG_OK);
	assert_int_equal(f.info_len, 3 + 15 + 1 + 4 + 8 + 1);            /* one 00 after status 5 */
	assert_int_equal(f.info[f.info_len - 1], 0);
	assert_int_equal(ops()->set_quirk(L.state[1], "nope", "1", why, sizeof why), RIG_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_field),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_assembler_resyncs),
		cmocka_unit_test(test_sys_param_reply),
		cmocka_unit_test(test_neutral_views),
		cmocka_unit_test(test_personality_addressing),
		cmocka_unit_test(test_personality_all_modules),
		cmocka_unit_test(test_personality_errors_and_quirks),
	};

	return cmocka_run_group_tests_name("pylon_rs485", tests, NULL, NULL);
}
