/*
 * The Daly poll machine, two ways:
 *  - against scripted replies taken from real captures (a BLE session of python-daly-bms
 *    tests/test_bluetooth.py@1ee4498 at host 0x80, the PC-tool cycle of diysolarforum 21898 at
 *    0x40): request bytes, the line gap, echoes, implausible frames, other boards, the sign
 *    check, FET writes;
 *  - against the Daly personality through a fake link with latency, once per quirk the
 *    personality can show: the pack_state must land within one unit of resolution of what the
 *    BMS measured for the reply that carried it.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/core/daly_client.h"
#include "bmsrig/sim/daly_personality.h"
#include "bmsrig/sim/model.h"
#include "client_rig.h"

/* ---- scripted replies ------------------------------------------------------------------------ */

struct rig {
	struct fake_io io;
	struct daly_client c;
	struct pack_state ps;
	struct client_cfg cfg;
	uint32_t t;
};

static struct rig *rig_new(uint8_t address, uint8_t flags)
{
	static struct rig r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	cfg.address = address;
	cfg.flags = flags;
	return CLIENT_RIG_START(&r, &rig_daly_client_ops, &cfg);
}

/* One request/answer: the client sends req at r->t, the answer is read 60 ms later, and the
 * clock moves on to the earliest moment the next request may go. Returns the step's event. */
static enum client_event exchange(struct rig *r, const char *req, const char *answer)
{
	enum client_event ev;

	assert_int_equal(rig_daly_client_step(&r->c, r->t), CLIENT_BUSY);
	assert_sent(r, req);
	fake_io_queue_hex(&r->io, answer);
	ev = rig_daly_client_step(&r->c, r->t + 60);
	r->t += 60 + DALY_MIN_GAP_MS;
	return ev;
}

/* The BLE session (host 0x80). */
static const char BLE_REQ_94[] = "A5 80 94 08 00 00 00 00 00 00 00 00 C1";
static const char BLE_REQ_90[] = "A5 80 90 08 00 00 00 00 00 00 00 00 BD";
static const char BLE_REQ_93[] = "A5 80 93 08 00 00 00 00 00 00 00 00 C0";
static const char BLE_REQ_95[] = "A5 80 95 08 00 00 00 00 00 00 00 00 C2";
static const char BLE_REQ_96[] = "A5 80 96 08 00 00 00 00 00 00 00 00 C3";
static const char BLE_REQ_97[] = "A5 80 97 08 00 00 00 00 00 00 00 00 C4";
static const char BLE_REQ_98[] = "A5 80 98 08 00 00 00 00 00 00 00 00 C5";
static const char BLE_94[] = "A5 01 94 08 10 01 00 00 02 00 0B 9B FB";
static const char BLE_90[] = "A5 01 90 08 02 12 00 00 74 F5 03 9A 58";   /* -5.9 A */
static const char BLE_93[] = "A5 01 93 08 02 01 01 9E 00 03 EA F8 C8";   /* discharging */
/* 16 frames with 12-14 lost in garbage and 16 cut short. */
static const char BLE_95[] =
	"A5019508010D370D360D349BA7A5019508020D350D350D359BA6A5019508030D340D3E0D369BB0"
	"A5019508040D370D360D379BADA5019508050D340D350D349BA7A5019508060D37000000009B28"
	"A5019508070000000000009BE5A5019508080000000000009BE6A5019508090000000000009BE7"
	"A50195080A0000000000009BE8A50195080B0000000000009BE9A5A8004000702440000D300000"
	"7024400038A700006D320000702440005331000000000000A800A50195080F0000000000009BED"
	"A501950810";
static const char BLE_96[] = "A5019608013D00000000000082A5019608020000000000000046";
static const char BLE_97[] = "A5 01 97 08 00 00 00 00 00 00 00 00 45";
static const char BLE_98[] = "A5 01 98 08 00 00 00 00 00 00 00 00 46";

static void ble_session_cycle(void **state)
{
	static const uint16_t cells[16] = { 3383, 3382, 3380, 3381, 3381, 3381, 3380, 3390,
	                                    3382, 3383, 3382, 3383, 3380, 3381, 3380, 3383 };
	struct rig *r = rig_new(0, DALY_CLIENT_HOST_BLE);

	(void)state;
	r->io.read_max = 20;                              /* BLE notifications */
	assert_int_equal(exchange(r, BLE_REQ_94, BLE_94), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_90, BLE_90), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_93, BLE_93), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_95, BLE_95), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_96, BLE_96), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_97, BLE_97), CLIENT_BUSY);
	assert_int_equal(exchange(r, BLE_REQ_98, BLE_98), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 53000);
	assert_int_equal(r->ps.current_mA, -5900);
	assert_int_equal(r->ps.soc_pct, 92);
	assert_int_equal(r->ps.remain_mAh, 256760);
	assert_int_equal(r->ps.cycles, 11);
	assert_int_equal(r->ps.cell_count, 16);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	assert_int_equal(r->ps.temp_count, 1);
	assert_int_equal(r->ps.temp_dK[0], 2941);
	assert_int_equal(r->ps.fet_chg, 1);
	assert_int_equal(r->ps.fet_dsg, 1);
	assert_int_equal(r->ps.prot, 0);
	assert_int_equal(r->ps.bal_mask, 0);
	assert_int_equal(r->c.eng.stats.cycles_ok, 1);
	assert_int_equal(r->c.eng.stats.requests, 7);
	assert_int_equal(r->c.eng.stats.rejected, 0);
	assert_int_equal(r->c.sign_flips, 0);             /* -5.9 A and "discharging" agree */
}

/* The PC tool's 14S cycle (host 0x40): 5 cell frames, the 15th slot and the 2nd 0x96 frame
 * are padding. */
static void pc_tool_cycle_cuts_by_counts(void **state)
{
	static const uint16_t cells[14] = { 3776, 3778, 3783, 3784, 3784, 3782, 3778, 3778, 3740,
	                                    3780, 3780, 3780, 3779, 3776 };
	struct rig *r = rig_new(0, 0);

	(void)state;
	exchange(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81", "A5 01 94 08 0E 01 00 00 02 00 00 20 73");
	exchange(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D", "A5 01 90 08 02 10 00 00 75 30 01 F4 EA");
	exchange(r, "A5 40 93 08 00 00 00 00 00 00 00 00 80", "A5 01 93 08 00 01 01 10 00 00 4E 20 C1");
	exchange(r, "A5 40 95 08 00 00 00 00 00 00 00 00 82",
	         "A5 01 95 08 01 0E C0 0E C2 0E C7 20 D7 A5 01 95 08 02 0E C8 0E C8 0E C6 20 E5"
	         "A5 01 95 08 03 0E C2 0E C2 0E 9C 20 B0 A5 01 95 08 04 0E C4 0E C4 0E C4 20 DD"
	         "A5 01 95 08 05 0E C3 0E C0 0E C4 20 D9");
	exchange(r, "A5 40 96 08 00 00 00 00 00 00 00 00 83",
	         "A5 01 96 08 01 3D 00 00 00 00 00 00 82 A5 01 96 08 02 00 00 00 00 00 00 00 46");
	exchange(r, "A5 40 97 08 00 00 00 00 00 00 00 00 84", "A5 01 97 08 00 00 00 00 00 00 00 00 45");
	assert_int_equal(exchange(r, "A5 40 98 08 00 00 00 00 00 00 00 00 85",
	                          "A5 01 98 08 00 00 80 00 00 00 00 00 C6"), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 52800);
	assert_int_equal(r->ps.current_mA, 0);
	assert_int_equal(r->ps.soc_pct, 50);
	assert_int_equal(r->ps.remain_mAh, 20000);
	assert_int_equal(r->ps.cell_count, 14);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	assert_int_equal(r->ps.cell_mV[14], 0);           /* slot 15 (3780) was padding */
	assert_int_equal(r->ps.temp_count, 1);
	assert_int_equal(r->ps.temp_dK[0], 2941);
	assert_int_equal(r->ps.prot, 0);                  /* SOC low L2 has no neutral bit */
}

/* Nothing goes out until the line has been quiet for DALY_MIN_GAP_MS. */
static void requests_wait_for_a_quiet_line(void **state)
{
	struct rig *r = rig_new(0, 0);
	uint32_t t;

	(void)state;
	rig_daly_client_step(&r->c, 0);
	assert_sent(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81");
	fake_io_queue_hex(&r->io, BLE_94);
	rig_daly_client_step(&r->c, 60);
	rig_daly_client_step(&r->c, 159);
	assert_int_equal(r->io.tx_len, 0);
	rig_daly_client_step(&r->c, 160);
	assert_sent(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	fake_io_queue_hex(&r->io, BLE_90);
	rig_daly_client_step(&r->c, 220);
	/* A late byte (the tail of someone's answer) restarts the wait. */
	fake_io_queue_hex(&r->io, "00");
	rig_daly_client_step(&r->c, 300);
	rig_daly_client_step(&r->c, 399);
	assert_int_equal(r->io.tx_len, 0);
	rig_daly_client_step(&r->c, 400);
	assert_sent(r, "A5 40 93 08 00 00 00 00 00 00 00 00 80");
	/* A line that never goes quiet delays a request by timeout_ms at most. */
	fake_io_queue_hex(&r->io, BLE_93);
	rig_daly_client_step(&r->c, 460);
	for (t = 470; t < 960; t += 10) {
		fake_io_queue_hex(&r->io, "00");
		rig_daly_client_step(&r->c, t);
		assert_int_equal(r->io.tx_len, 0);
	}
	fake_io_queue_hex(&r->io, "00");
	rig_daly_client_step(&r->c, 960);
	assert_sent(r, "A5 40 95 08 00 00 00 00 00 00 00 00 82");
}

/* An RS485 adapter that loops the request back: the echo comes first, the answer after it. */
static void echo_is_rejected_and_the_answer_still_taken(void **state)
{
	struct rig *r = rig_new(0, 0);

	(void)state;
	rig_daly_client_step(&r->c, 0);
	assert_sent(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81");
	fake_io_queue_hex(&r->io, "A5 40 94 08 00 00 00 00 00 00 00 00 81");
	fake_io_queue_hex(&r->io, BLE_94);
	rig_daly_client_step(&r->c, 60);
	assert_int_equal(r->c.eng.stats.rejected, 1);
	assert_int_equal(r->c.poll.status.cell_count, 16);
	rig_daly_client_step(&r->c, 160);
	assert_sent(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	/* A sleeping BMS's echo alone: refused, then the timeout resends. */
	fake_io_queue_hex(&r->io, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	rig_daly_client_step(&r->c, 163);
	assert_int_equal(r->c.eng.stats.rejected, 2);
	rig_daly_client_step(&r->c, 659);
	assert_int_equal(r->io.tx_len, 0);
	rig_daly_client_step(&r->c, 660);
	assert_sent(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	assert_int_equal(r->c.eng.stats.resends, 1);
	/* Any host address is an echo, not only our own request. */
	fake_io_queue_hex(&r->io, "A5 80 90 08 00 00 00 00 00 00 00 00 BD");
	fake_io_queue_hex(&r->io, BLE_90);
	rig_daly_client_step(&r->c, 720);
	assert_int_equal(r->c.eng.stats.rejected, 3);
	assert_int_equal(r->c.poll.pack.pack_mV, 53000);
}

/* The stale adapter's all-zero frames (python-daly-bms #48): refused, never reported. */
static void all_zero_frames_are_refused(void **state)
{
	struct rig *r = rig_new(0, 0);
	enum client_event ev = CLIENT_BUSY;
	uint32_t t;

	(void)state;
	r->ps.pack_mV = 12345;                            /* whatever was there stays */
	for (t = 0; t < 5000 && ev == CLIENT_BUSY; t += 10) {
		if (r->io.tx_len) {
			fake_io_clear_tx(&r->io);
			fake_io_queue_hex(&r->io, "A5 01 94 08 00 00 00 00 00 00 00 00 42");
		}
		ev = rig_daly_client_step(&r->c, t);
	}
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(r->c.eng.stats.rejected, 4);         /* 1 + 3 retries */
	assert_int_equal(r->ps.pack_mV, 12345);
	/* The same for 0x90: 0 V and -3000.0 A. */
	r = rig_new(0, 0);
	exchange(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81", BLE_94);
	rig_daly_client_step(&r->c, r->t);
	assert_sent(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	fake_io_queue_hex(&r->io, "A5 01 90 08 00 00 00 00 00 00 00 00 3E");
	rig_daly_client_step(&r->c, r->t + 60);
	assert_int_equal(r->c.eng.stats.rejected, 1);
	assert_int_equal(r->c.eng.stats.timeouts, 1);          /* a lost reply: resent */
	rig_daly_client_step(&r->c, r->t + 160);
	assert_sent(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	/* SOC above 100.0 % and a zero cell frame number are refused too. */
	fake_io_queue_hex(&r->io, "A5 01 90 08 02 12 00 00 74 F5 03 E9 A7");
	rig_daly_client_step(&r->c, r->t + 220);
	assert_int_equal(r->c.eng.stats.rejected, 2);
}

static void other_boards_and_stale_ids_are_ignored(void **state)
{
	struct rig *r = rig_new(2, 0);                    /* RS485 board 2: host 0x41, reply 0x02 */

	(void)state;
	rig_daly_client_step(&r->c, 0);
	assert_sent(r, "A5 41 94 08 00 00 00 00 00 00 00 00 82");
	/* Board 1's answer, and a stale 0x90 of our board: neither is the answer. */
	fake_io_queue_hex(&r->io, BLE_94);
	fake_io_queue_hex(&r->io, "A5 02 90 08 02 12 00 00 74 F5 03 9A 59");
	rig_daly_client_step(&r->c, 60);
	assert_int_equal(r->c.step, 0);
	assert_int_equal(r->c.eng.stats.rejected, 0);
	fake_io_queue_hex(&r->io, "A5 02 94 08 10 01 00 00 02 00 0B 9B FC");
	rig_daly_client_step(&r->c, 80);
	assert_int_equal(r->c.step, 1);
	rig_daly_client_step(&r->c, 180);
	assert_sent(r, "A5 41 90 08 00 00 00 00 00 00 00 00 7E");
}

/* 0x93's state decides the sign when it contradicts 0x90 (daly_client.h). */
static void current_sign_is_checked_against_the_state(void **state)
{
	static const struct { int32_t mA; uint8_t st; int32_t want; int flip; } cases[] = {
		{ 6300, DALY_STATE_DISCHARGING, -6300, 1 }, { -5900, DALY_STATE_CHARGING, 5900, 1 },
		{ -5900, DALY_STATE_DISCHARGING, -5900, 0 }, { 6300, DALY_STATE_CHARGING, 6300, 0 },
		{ 6300, DALY_STATE_IDLE, 6300, 0 }, { 0, DALY_STATE_DISCHARGING, 0, 0 },
	};
	struct rig *r;
	struct daly_mos m = { DALY_STATE_CHARGING, 1, 1, 0x10, 100000 };
	struct daly_frame f;
	uint8_t w[DALY_FRAME_LEN];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int32_t v = cases[i].mA;

		assert_int_equal(rig_daly_current_sign_fix(&v, cases[i].st), cases[i].flip);
		assert_int_equal(v, cases[i].want);
	}
	/* Through the client: mpp-solar's +6.3 A with its own "discharging" 0x93, then the same
	 * with a charging 0x93 (built by the codec), and once with the unit marked inverted. The
	 * first disagreement is read again (0x90, 0x93) before it is believed. */
	for (int inv = 0; inv < 2; inv++) {
		r = rig_new(0, inv ? DALY_CLIENT_INVERT_CURRENT : 0);
		exchange(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81", "A5 01 94 08 04 00 00 00 00 00 00 00 46");
		for (int again = 0; again <= !inv; again++) {
			exchange(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D", "A5 01 90 08 02 10 00 00 75 6F 03 BC F3");
			exchange(r, "A5 40 93 08 00 00 00 00 00 00 00 00 80", "A5 01 93 08 02 01 01 78 00 03 CB 40 CB");
		}
		assert_int_equal(r->c.sign_rechecks, inv ? 0 : 1);
		exchange(r, "A5 40 95 08 00 00 00 00 00 00 00 00 82",
		         "A5 01 95 08 01 0C FD 0C FE 0C FE 40 A1 A5 01 95 08 02 0C FE 0C FE 0C FE 40 A3");
		exchange(r, "A5 40 97 08 00 00 00 00 00 00 00 00 84", BLE_97);
		assert_int_equal(exchange(r, "A5 40 98 08 00 00 00 00 00 00 00 00 85", BLE_98), CLIENT_CYCLE_OK);
		assert_int_equal(r->ps.current_mA, -6300);
		assert_int_equal(r->c.sign_flips, inv ? 0 : 1);
		assert_int_equal(r->ps.temp_count, 0);        /* no sensors: 0x96 was not asked */
	}
	r = rig_new(0, 0);
	rig_daly_mos_encode(&f, 0x01, &m);
	assert_int_equal(rig_daly_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	exchange(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81", "A5 01 94 08 04 00 00 00 00 00 00 00 46");
	exchange(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D", "A5 01 90 08 02 10 00 00 75 6F 03 BC F3");
	rig_daly_client_step(&r->c, r->t);
	fake_io_clear_tx(&r->io);
	fake_io_queue(&r->io, w, n);
	rig_daly_client_step(&r->c, r->t + 60);
	r->t += 160;
	exchange(r, "A5 40 95 08 00 00 00 00 00 00 00 00 82",
	         "A5 01 95 08 01 0C FD 0C FE 0C FE 40 A1 A5 01 95 08 02 0C FE 0C FE 0C FE 40 A3");
	exchange(r, "A5 40 97 08 00 00 00 00 00 00 00 00 84", BLE_97);
	assert_int_equal(exchange(r, "A5 40 98 08 00 00 00 00 00 00 00 00 85", BLE_98), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.current_mA, 6300);
	assert_int_equal(r->c.sign_flips, 0);
}

/* field: a load that reverses between 0x90 (-45 A, discharging) and 0x93 (charging) must not
 * be reported as +45 A; the second read shows +40 A and charging, which is the truth. */
static void a_reversal_between_current_and_state_is_read_again(void **state)
{
	struct daly_pack pk = { 53200, 0, -45000, 900 };
	struct daly_mos chg = { DALY_STATE_CHARGING, 1, 1, 0x10, 100000 };
	struct rig *r = rig_new(0, 0);
	char minus45[64], plus40[64], charging[64];
	struct daly_frame f;
	uint8_t w[DALY_FRAME_LEN];
	size_t n, i;

	(void)state;
	assert_int_equal(rig_daly_pack_encode(&f, 0x01, &pk), RIG_OK);
	assert_int_equal(rig_daly_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	for (i = 0; i < n; i++)
		snprintf(minus45 + 2 * i, 3, "%02X", w[i]);
	pk.current_mA = 40000;
	assert_int_equal(rig_daly_pack_encode(&f, 0x01, &pk), RIG_OK);
	assert_int_equal(rig_daly_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	for (i = 0; i < n; i++)
		snprintf(plus40 + 2 * i, 3, "%02X", w[i]);
	rig_daly_mos_encode(&f, 0x01, &chg);
	assert_int_equal(rig_daly_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	for (i = 0; i < n; i++)
		snprintf(charging + 2 * i, 3, "%02X", w[i]);
	exchange(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81", "A5 01 94 08 04 00 00 00 00 00 00 00 46");
	exchange(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D", minus45);
	exchange(r, "A5 40 93 08 00 00 00 00 00 00 00 00 80", charging);
	exchange(r, "A5 40 90 08 00 00 00 00 00 00 00 00 7D", plus40);      /* read again */
	exchange(r, "A5 40 93 08 00 00 00 00 00 00 00 00 80", charging);
	exchange(r, "A5 40 95 08 00 00 00 00 00 00 00 00 82",
	         "A5 01 95 08 01 0C FD 0C FE 0C FE 40 A1 A5 01 95 08 02 0C FE 0C FE 0C FE 40 A3");
	exchange(r, "A5 40 97 08 00 00 00 00 00 00 00 00 84", BLE_97);
	assert_int_equal(exchange(r, "A5 40 98 08 00 00 00 00 00 00 00 00 85", BLE_98), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.current_mA, 40000);
	assert_int_equal(r->c.sign_flips, 0);
	assert_int_equal(r->c.sign_rechecks, 1);
	assert_int_equal(r->c.sign_inverted, 0);
}

static void fet_writes_lead_the_next_cycle(void **state)
{
	struct rig *r = rig_new(0, DALY_CLIENT_HOST_BLE);

	(void)state;
	rig_daly_client_set_fets(&r->c, 0, 1);
	/* ESPHome feature request #1979's frames: charge off, discharge on. */
	exchange(r, "A5 80 DA 08 00 00 00 00 00 00 00 00 07", "A5 01 DA 08 00 00 00 00 00 00 00 00 88");
	exchange(r, "A5 80 D9 08 01 00 00 00 00 00 00 00 07", "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA");
	assert_int_equal(r->c.eng.fets.pending, 0);
	assert_int_equal(r->c.eng.stats.error_replies, 0);
	assert_int_equal(rig_daly_client_step(&r->c, r->t), CLIENT_BUSY);
	assert_sent(r, BLE_REQ_94);
	/* A BMS that keeps its FET (a latched protection) says so in d0: counted, not retried. */
	r = rig_new(0, 0);
	rig_daly_client_set_fets(&r->c, 1, 1);
	exchange(r, "A5 40 DA 08 01 00 00 00 00 00 00 00 C8", "A5 01 DA 08 00 00 00 00 00 00 00 00 88");
	exchange(r, "A5 40 D9 08 01 00 00 00 00 00 00 00 C7", "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA");
	assert_int_equal(r->c.eng.stats.error_replies, 1);
	assert_int_equal(r->c.eng.fets.pending, 0);
	rig_daly_client_step(&r->c, r->t);
	assert_sent(r, "A5 40 94 08 00 00 00 00 00 00 00 00 81");
}

static void retries_then_fail(void **state)
{
	struct rig *r = rig_new(0, DALY_CLIENT_FILL_AA);
	/* timeout 500, retries 3, backoff 100: sends at 0, 500, 1100, 1800; fails at 2300. */
	static const uint32_t send_at[] = { 0, 500, 1100, 1800 };
	enum client_event ev = CLIENT_BUSY;
	unsigned sends = 0;
	uint32_t t;

	(void)state;
	for (t = 0; t <= 2300 && ev == CLIENT_BUSY; t += 10) {
		ev = rig_daly_client_step(&r->c, t);
		if (r->io.tx_len) {
			assert_true(sends < 4);
			assert_int_equal(t, send_at[sends]);
			sends++;
			assert_sent(r, "A5 40 94 08 AA AA AA AA AA AA AA AA D1");   /* 0xAA fill */
		}
	}
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(t - 10, 2300);
	assert_int_equal(r->c.eng.stats.comm_fail, 1);
	assert_int_equal(r->c.eng.stats.timeouts, 4);
	assert_int_equal(r->c.eng.stats.resends, 3);
}

/* ---- the personality through a fake link ----------------------------------------------------- */

struct link;

struct unit {
	const struct personality_ops *ops;
	alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
	struct model m;
	struct bms b;
	double current_A;
	struct link *link;
	struct reply_sink sink;
	/* What the BMS measured when it built the last reply carrying each truth part. */
	struct bms_meas at_pack, at_cells;
	struct bms_view at_temps;
	unsigned parts_seen;
};

struct delivery {
	uint32_t due;
	size_t n;
	uint8_t b[DALY_FRAME_LEN];
};

struct link {
	uint32_t now;
	struct unit *unit[2];
	unsigned n_units;
	struct delivery q[256];
	size_t nq;
	uint8_t in[4096];
	size_t in_len, in_pos;
	int loopback;                      /* the adapter echoes what the host sends */
	struct daly_client c;
	struct pack_state ps;
	unsigned ok, failed;
};

static void enqueue(struct link *l, uint32_t due, const uint8_t *p, size_t n)
{
	size_t at = l->nq;

	assert_true(l->nq < sizeof l->q / sizeof l->q[0] && n <= DALY_FRAME_LEN);
	/* Keep due order; equal times in the order sent. */
	while (at && (int32_t)(l->q[at - 1].due - due) > 0)
		at--;
	memmove(&l->q[at + 1], &l->q[at], (l->nq - at) * sizeof l->q[0]);
	l->q[at].due = due;
	l->q[at].n = n;
	memcpy(l->q[at].b, p, n);
	l->nq++;
}

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct unit *u = ctx;

	enqueue(u->link, u->link->now + delay_ms, wire, n);
	u->parts_seen |= parts;
	if (parts & TRUTH_PACK)
		u->at_pack = u->b.meas;
	if (parts & TRUTH_CELLS)
		u->at_cells = u->b.meas;
	if (parts & TRUTH_TEMPS)
		bms_view(&u->b, &u->at_temps);
}

static int32_t link_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct link *l = ctx;

	if (l->loopback)
		enqueue(l, l->now, p, n);
	for (unsigned i = 0; i < l->n_units; i++)
		l->unit[i]->ops->rx(l->unit[i]->state, p, n, l->now, &l->unit[i]->sink);
	return n;
}

static int32_t link_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct link *l = ctx;
	size_t k = 0, n;

	while (k < l->nq && (int32_t)(l->now - l->q[k].due) >= 0) {
		assert_true(l->in_len + l->q[k].n <= sizeof l->in);
		memcpy(l->in + l->in_len, l->q[k].b, l->q[k].n);
		l->in_len += l->q[k].n;
		k++;
	}
	memmove(l->q, l->q + k, (l->nq - k) * sizeof l->q[0]);
	l->nq -= k;
	n = l->in_len - l->in_pos < cap ? l->in_len - l->in_pos : cap;
	memcpy(p, l->in + l->in_pos, n);
	l->in_pos += n;
	if (l->in_pos == l->in_len)
		l->in_pos = l->in_len = 0;
	return (int32_t)n;
}

static void unit_make(struct unit *u, struct link *l, uint8_t cells, uint8_t board, double current_A)
{
	struct model_cfg mc;

	memset(u, 0, sizeof *u);
	model_cfg_defaults(&mc);
	mc.cells = cells;
	assert_int_equal(model_init(&u->m, &mc), RIG_OK);
	assert_int_equal(bms_init(&u->b, &u->m), RIG_OK);
	u->ops = &daly_personality_ops;
	assert_int_equal(u->ops->init(u->state, &u->b, board), RIG_OK);
	u->current_A = current_A;
	u->link = l;
	u->sink = (struct reply_sink){ u, sink_send, NULL };
	bms_step(&u->b, &u->m, 0.1, current_A);
	l->unit[l->n_units++] = u;
}

static void quirk(struct unit *u, const char *key, const char *value)
{
	char why[160] = "";

	if (u->ops->set_quirk(u->state, key, value, why, sizeof why) != RIG_OK)
		fail_msg("quirk %s=%s: %s", key, value, why);
}

static void link_client(struct link *l, uint8_t address, uint8_t flags, uint32_t poll_ms)
{
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct rig_io io = { l, link_write, link_read };

	cfg.address = address;
	cfg.flags = flags;
	cfg.poll_ms = poll_ms;
	rig_daly_client_init(&l->c, &cfg, io, &l->ps);
}

/* Runs the world 1 ms at a time until the client ends n cycles (ok or failed) or `until`.
 * Returns the last cycle's event (CLIENT_BUSY if none ended). */
static enum client_event run(struct link *l, unsigned n, uint32_t until)
{
	enum client_event last = CLIENT_BUSY;
	unsigned ended = 0;

	for (; (int32_t)(until - l->now) >= 0 && ended < n; l->now++) {
		enum client_event ev;

		if (l->now % 100 == 0)
			for (unsigned i = 0; i < l->n_units; i++) {
				struct unit *u = l->unit[i];

				bms_step(&u->b, &u->m, 0.1, u->current_A);
				u->ops->tick(u->state, l->now, &u->sink);
			}
		ev = rig_daly_client_step(&l->c, l->now);
		if (ev == CLIENT_CYCLE_OK)
			l->ok++;
		if (ev == CLIENT_CYCLE_FAIL)
			l->failed++;
		if (ev != CLIENT_BUSY) {
			last = ev;
			ended++;
		}
	}
	return last;
}

static void assert_near(long got, long want, double res)
{
	if (labs(got - want) > (long)res)
		fail_msg("got %ld, want %ld +- %.0f", got, want, res);
}

/* The pack_state is what the BMS measured, within one unit of the protocol's resolution. */
static void assert_matches_truth(const struct unit *u, const struct pack_state *ps)
{
	const struct resolution *res = &u->ops->resolution;
	unsigned n = (unsigned)u->b.set.cell_count;

	assert_int_equal(u->parts_seen, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	assert_near((long)ps->pack_mV, (long)u->at_pack.pack_mV, res->pack_mV);
	assert_near(ps->current_mA, u->at_pack.current_mA, res->current_mA);
	assert_int_equal(ps->cell_count, n);
	for (unsigned i = 0; i < n; i++)
		assert_near(ps->cell_mV[i], u->at_cells.cell_mV[i], res->cell_mV);
	assert_int_equal(ps->temp_count, u->at_temps.probe_count);
	for (unsigned i = 0; i < ps->temp_count; i++)
		assert_near(ps->temp_dK[i], u->at_temps.probe_dK[i], res->temp_dK);
	assert_int_equal(ps->soc_pct, bms_soc_pct(&u->b));
	assert_near((long)ps->remain_mAh, (long)bms_remain_mAh(&u->b), 50);
	assert_int_equal(ps->fet_chg, (u->b.fet & BMS_FET_CHG) != 0);
	assert_int_equal(ps->fet_dsg, (u->b.fet & BMS_FET_DSG) != 0);
}

static struct link *link_new(void)
{
	static struct link l;

	memset(&l, 0, sizeof l);
	return &l;
}

static struct unit *unit_slot(unsigned i)
{
	static struct unit u[2];

	return &u[i];
}

static void loop_defaults_within_resolution(void **state)
{
	struct link *l = link_new();
	struct unit *u = unit_slot(0);

	(void)state;
	unit_make(u, l, 16, 0, -20.0);
	link_client(l, 0, 0, 1000);
	assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
	assert_matches_truth(u, &l->ps);
	assert_true(l->ps.current_mA < -19000);
	assert_int_equal(l->c.eng.stats.rejected, 0);
	assert_int_equal(l->c.eng.stats.resends, 0);
	assert_int_equal(l->c.sign_flips, 0);
	/* Keeps going: three more cycles, every one clean. */
	assert_int_equal(run(l, 3, 20000), CLIENT_CYCLE_OK);
	assert_int_equal(l->ok, 4);
	assert_int_equal(l->c.eng.stats.requests, 4 * 7);
	assert_matches_truth(u, &l->ps);
	/* The same over the BLE address, where the BMS sends all 16 cell frames. */
	l = link_new();
	u = unit_slot(0);
	unit_make(u, l, 4, 0, 5.0);
	quirk(u, "all_cell_frames", "1");
	link_client(l, 0, DALY_CLIENT_HOST_BLE, 1000);
	assert_int_equal(run(l, 2, 10000), CLIENT_CYCLE_OK);
	assert_int_equal(l->ok, 2);
	assert_matches_truth(u, &l->ps);
	assert_true(l->ps.current_mA > 4000);
}

/* Asleep with echo: each request comes back 3 ms later and is refused. wake_on=current (the
 * default): the client fails until a current wakes the BMS; wake_on=any: the echoed request
 * woke it and the retry is answered. */
static void loop_echo_while_asleep(void **state)
{
	struct link *l = link_new();
	struct unit *u = unit_slot(0);

	(void)state;
	unit_make(u, l, 4, 0, 0.0);
	quirk(u, "asleep", "1");
	link_client(l, 0, 0, 1000);
	assert_int_equal(run(l, 1, 10000), CLIENT_CYCLE_FAIL);
	assert_int_equal(l->c.eng.stats.rejected, 4);          /* 4 sends, 4 echoes */
	assert_int_equal(l->ps.cell_count, 0);             /* nothing reported */
	u->current_A = -5.0;                               /* a load wakes it */
	assert_int_equal(run(l, 1, 20000), CLIENT_CYCLE_OK);
	assert_int_equal(l->ok, 1);
	assert_matches_truth(u, &l->ps);

	l = link_new();
	u = unit_slot(0);
	unit_make(u, l, 4, 0, 0.0);
	quirk(u, "asleep", "1");
	quirk(u, "wake_on", "any");
	link_client(l, 0, 0, 1000);
	assert_int_equal(run(l, 1, 10000), CLIENT_CYCLE_OK);
	assert_int_equal(l->c.eng.stats.rejected, 1);
	assert_int_equal(l->c.eng.stats.resends, 1);
	assert_matches_truth(u, &l->ps);
}

/* Asleep without echo but with the stale-adapter zero frames: refused as implausible, the
 * pack_state keeps what it had; the wake pin brings the answers back. */
static void loop_zero_frames(void **state)
{
	struct link *l = link_new();
	struct unit *u = unit_slot(0);

	(void)state;
	unit_make(u, l, 4, 0, -3.0);
	quirk(u, "wake_on", "none");
	quirk(u, "echo", "0");
	quirk(u, "zero_frames", "1");
	quirk(u, "asleep", "1");
	link_client(l, 0, 0, 1000);
	l->ps.pack_mV = 4242;
	assert_int_equal(run(l, 1, 10000), CLIENT_CYCLE_FAIL);
	assert_int_equal(l->c.eng.stats.rejected, 4);
	assert_int_equal(l->ps.pack_mV, 4242);
	quirk(u, "asleep", "0");
	assert_int_equal(run(l, 2, 20000), CLIENT_CYCLE_OK);
	assert_matches_truth(u, &l->ps);
}

/* sleep_after_s with a poll slower than it: the BMS is asleep at each cycle's first request.
 * Echoing or silent, the request wakes it (wake_on=any) and the retry is answered. */
static void loop_sleep_then_wake_on_a_retry(void **state)
{
	for (int echo = 0; echo < 2; echo++) {
		struct link *l = link_new();
		struct unit *u = unit_slot(0);

		(void)state;
		unit_make(u, l, 4, 0, 0.0);
		quirk(u, "sleep_after_s", "2");
		quirk(u, "wake_on", "any");
		quirk(u, "echo", echo ? "1" : "0");
		link_client(l, 0, 0, 5000);
		assert_int_equal(run(l, 3, 20000), CLIENT_CYCLE_OK);
		assert_int_equal(l->ok, 3);
		assert_int_equal(l->c.eng.stats.rejected, echo ? 2u : 0u);   /* cycles 2 and 3 */
		assert_int_equal(l->c.eng.stats.resends, 2);
		assert_matches_truth(u, &l->ps);
	}
}

/* Leftover bytes in reserved fields and padding cells change nothing the client reports. */
static void loop_stale_reserved(void **state)
{
	struct pack_state with, without;

	(void)state;
	for (int stale = 0; stale < 2; stale++) {
		struct link *l = link_new();
		struct unit *u = unit_slot(0);

		unit_make(u, l, 7, 0, 10.0);                   /* 7 cells: 2 padding slots */
		quirk(u, "stale_reserved", stale ? "1" : "0");
		link_client(l, 0, 0, 1000);
		assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
		assert_matches_truth(u, &l->ps);
		if (stale)
			with = l->ps;
		else
			without = l->ps;
	}
	with.updated_ms = without.updated_ms;
	assert_memory_equal(&with, &without, sizeof with);
}

/* The BMS reads exactly 0 inside its dead band (and says idle); the client reports that. */
static void loop_dead_band(void **state)
{
	static const struct { const char *band; double A; int32_t want_mA; } cases[] = {
		{ "2000", -1.5, 0 }, { "2000", -2.5, -2500 }, { "500", -1.5, -1500 }, { "1000", 0.8, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct link *l = link_new();
		struct unit *u = unit_slot(0);

		unit_make(u, l, 4, 0, cases[i].A);
		quirk(u, "deadband_ma", cases[i].band);
		assert_int_equal(u->b.sensor.current_deadband_mA, (uint32_t)atoi(cases[i].band));
		link_client(l, 0, 0, 1000);
		assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
		assert_near(l->ps.current_mA, cases[i].want_mA, 100);
		assert_matches_truth(u, &l->ps);
		assert_int_equal(l->c.sign_flips, 0);
	}
}

/* A firmware reporting discharge as positive: 0x93 says discharging, the client flips. */
static void loop_inverted_current_sign(void **state)
{
	(void)state;
	for (int told = 0; told < 2; told++) {
		struct link *l = link_new();
		struct unit *u = unit_slot(0);

		unit_make(u, l, 4, 0, -20.0);
		quirk(u, "current_sign", "inverted");
		link_client(l, 0, told ? DALY_CLIENT_INVERT_CURRENT : 0, 1000);
		assert_int_equal(run(l, 2, 10000), CLIENT_CYCLE_OK);
		assert_matches_truth(u, &l->ps);
		assert_true(l->ps.current_mA < -19000);
		assert_int_equal(l->c.sign_flips, told ? 0u : 2u);
	}
}

/* The adapter echoes every request: each is refused, each real answer still taken. */
static void loop_rs485_loopback(void **state)
{
	struct link *l = link_new();
	struct unit *u = unit_slot(0);

	(void)state;
	unit_make(u, l, 8, 0, 3.0);
	l->loopback = 1;
	link_client(l, 0, 0, 1000);
	assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
	assert_int_equal(l->c.eng.stats.rejected, l->c.eng.stats.requests);
	assert_int_equal(l->c.eng.stats.resends, 0);
	assert_matches_truth(u, &l->ps);
}

/* Two boards on one bus: each answers its own number only, and the client reads the one it
 * is configured for. */
static void loop_rs485_boards(void **state)
{
	for (uint8_t want = 1; want <= 2; want++) {
		struct link *l = link_new();
		struct unit *b1 = unit_slot(0), *b2 = unit_slot(1);

		(void)state;
		unit_make(b1, l, 4, 1, -2.0);
		unit_make(b2, l, 8, 2, 6.0);
		link_client(l, want, 0, 1000);
		assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
		assert_matches_truth(want == 1 ? b1 : b2, &l->ps);
		assert_int_equal(l->ps.cell_count, want == 1 ? 4 : 8);
		assert_int_equal((want == 1 ? b2 : b1)->parts_seen, 0);   /* the other never spoke */
		assert_int_equal(l->c.eng.stats.rejected, 0);
	}
}

/* set_fets through the loop: the BMS's FET state follows, and the next report shows it. */
static void loop_fet_control(void **state)
{
	struct link *l = link_new();
	struct unit *u = unit_slot(0);

	(void)state;
	unit_make(u, l, 4, 0, -5.0);
	link_client(l, 0, 0, 1000);
	assert_int_equal(run(l, 1, 5000), CLIENT_CYCLE_OK);
	assert_int_equal(l->ps.fet_dsg, 1);
	rig_daly_client_set_fets(&l->c, 1, 0);
	assert_int_equal(run(l, 1, 10000), CLIENT_CYCLE_OK);
	assert_int_equal(u->b.inhibit, BMS_INHIBIT_DSG);
	assert_int_equal(l->ps.fet_dsg, 0);
	assert_int_equal(l->ps.fet_chg, 1);
	assert_true(l->ps.prot & PACK_PROT_SW_LOCK);
	rig_daly_client_set_fets(&l->c, 1, 1);
	assert_int_equal(run(l, 1, 15000), CLIENT_CYCLE_OK);
	assert_int_equal(u->b.inhibit, 0);
	assert_int_equal(l->ps.fet_dsg, 1);
	assert_int_equal(l->ps.prot, 0);
	assert_int_equal(l->c.eng.stats.error_replies, 0);
}

static void ops_table(void **state)
{
	(void)state;
	assert_string_equal(rig_daly_client_ops.name, "daly");
	assert_int_equal(rig_daly_client_ops.baud, 9600);
	assert_true(sizeof(struct daly_client) <= 400);   /* embedded in the core's union */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ble_session_cycle),
		cmocka_unit_test(pc_tool_cycle_cuts_by_counts),
		cmocka_unit_test(requests_wait_for_a_quiet_line),
		cmocka_unit_test(echo_is_rejected_and_the_answer_still_taken),
		cmocka_unit_test(all_zero_frames_are_refused),
		cmocka_unit_test(other_boards_and_stale_ids_are_ignored),
		cmocka_unit_test(current_sign_is_checked_against_the_state),
		cmocka_unit_test(a_reversal_between_current_and_state_is_read_again),
		cmocka_unit_test(fet_writes_lead_the_next_cycle),
		cmocka_unit_test(retries_then_fail),
		cmocka_unit_test(loop_defaults_within_resolution),
		cmocka_unit_test(loop_echo_while_asleep),
		cmocka_unit_test(loop_zero_frames),
		cmocka_unit_test(loop_sleep_then_wake_on_a_retry),
		cmocka_unit_test(loop_stale_reserved),
		cmocka_unit_test(loop_dead_band),
		cmocka_unit_test(loop_inverted_current_sign),
		cmocka_unit_test(loop_rs485_loopback),
		cmocka_unit_test(loop_rs485_boards),
		cmocka_unit_test(loop_fet_control),
		cmocka_unit_test(ops_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
