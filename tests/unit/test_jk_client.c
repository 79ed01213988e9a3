/*
 * The JK "4E 57" poll machine: against scripted replies taken from real captures
 * (tests/vectors/jk.json, docs/protocols/jk.md §6.1), and against the JK personality over a fake link, where
 * each quirk the personality can show (latency, "AT\r\n" junk, the old current code) must
 * leave the client with a pack_state within one resolution step of what the BMS measured,
 * across 0 degC and beyond +-32.767 A (docs/field-notes.md §2.3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jk_client.h"
#include "bmsrig/sim/jk_personality.h"
#include "client_rig.h"

/* jk_4e57_14s_charging: 14S, +2.08 A, SOC 15 %, 14 Ah, both FETs on. */
static const char F14S[] =
	"4E57011B00000000060001792A010EED020EFA030EF7040EEC050EF8060EFA070EF1080EF8090EE3"
	"0A0EFA0B0EF10C0EFB0D0EFB0E0EF280001D81001E82001C8314EF8480D0850F860287000489000000008A000E"
	"8B00008C00078E16268F10AE900FD2910FA0920005930BEA940C1C95000596012C9700079800039900059A0005"
	"9B0CE49C00089D019E005A9F0046A00064A10064A20014A30046A40046A5FFECA6FFF6A7FFECA8FFF6A90EAA00"
	"00000EAB01AC01AD0411AE01AF01B0000AB114B231323334353600000000B300B4496E707574205573B5323130"
	"31B60000E200B748362E585F5F53362E312E33535F5FB800B900000000BA4254333037323032303132303030"
	"30323030353231303031C0010000000068000054D1";
/* jk_4e57_13s_fets_off: 13S, 0 A, both FETs switched off (0xAB = 0xAC = 0). */
static const char F13S[] =
	"4E570118000000000600017927010FFC020FCF030FFD040FFC050FFC060FFA070FF7080FFE090FFE0A0FFC0B"
	"0FF70C0FF70D0FFD8000168100138200138314C1840000855E860287000089000000008A000D8B00008C0004"
	"8E15548F0EBA901068911004920005930B54940C8095000596012C97009698012C9900199A001E9B0CE49C00"
	"0A9D019E005A9F0046A00064A10064A20014A30046A40046A5FFECA6FFF6A7FFECA8FFF6A90DAA00000005AB"
	"00AC00AD042EAE01AF01B0000AB114B231323334353600000000B300B4496E707574205573B532323034B600"
	"000000B731302E58575F5331302E30375F5F5FB800B900000000BA496E707574205573657264614A4B2D4232"
	"41323453313550C00100000000680000544E";
/* What the client sends (source 3 = PC, as the vendor example): the jk_req_read_all vector. */
static const char REQ_ALL[] = "4E5700130000000006030000000000006800000129";
static const char REQ_PASSWORD[] = "4E 57 00 14 00 00 00 00 05 03 00 00 00 00 00 00 00 68 00 00 01 29";
static const char REQ_CHG_OFF[] = "4E 57 00 14 00 00 00 00 02 03 00 AB 00 00 00 00 00 68 00 00 01 D1";
static const char REQ_DSG_ON[] = "4E 57 00 14 00 00 00 00 02 03 00 AC 01 00 00 00 00 68 00 00 01 D3";

/* ---- scripted replies ------------------------------------------------------------------------ */

CLIENT_RIG(jk);

static int setup(void **state)
{
	static struct rig r;

	*state = CLIENT_RIG_START(&r, &rig_jk_client_ops, NULL);
	return 0;
}

/* A reply frame around raw items: the write acks no capture shows (docs/protocols/jk.md §4.1's shape). */
static void queue_reply(struct rig *r, uint8_t cmd, const char *items_hex)
{
	struct jk_frame f;
	uint8_t w[JK_FRAME_MAX];
	size_t n;

	memset(&f, 0, sizeof f);
	f.cmd = cmd;
	f.type = JK_TYPE_REPLY;
	f.len = (uint16_t)hex_to_bytes(items_hex, f.info, sizeof f.info);
	assert_int_equal(rig_jk_frame_encode(&f, w, sizeof w, &n), RIG_OK);
	fake_io_queue(&r->io, w, n);
}

static void cycle_reads_all(void **state)
{
	struct rig *r = *state;
	static const uint16_t cells[] = {
		3821, 3834, 3831, 3820, 3832, 3834, 3825, 3832, 3811, 3834, 3825, 3835, 3835, 3826
	};
	static const uint16_t temps[] = { 3031, 3011 };

	r->io.read_max = 7;                        /* the reply comes in pieces */
	assert_int_equal(rig_jk_client_step(&r->c, 1000), CLIENT_BUSY);
	assert_sent(r, REQ_ALL);
	fake_io_queue_hex(&r->io, F14S);
	assert_int_equal(rig_jk_client_step(&r->c, 1040), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 53590);
	assert_int_equal(r->ps.current_mA, 2080);
	assert_int_equal(r->ps.soc_pct, 15);
	assert_int_equal(r->ps.cell_count, 14);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	assert_int_equal(r->ps.temp_count, 2);
	assert_memory_equal(r->ps.temp_dK, temps, sizeof temps);
	assert_int_equal(r->ps.fet_chg, 1);
	assert_int_equal(r->ps.fet_dsg, 1);
	assert_int_equal(r->ps.prot, 0);
	assert_int_equal(r->ps.bal_mask, 0);
	assert_int_equal(r->ps.full_mAh, 14000);
	assert_int_equal(r->ps.remain_mAh, 2100);
	assert_int_equal(r->ps.cycles, 4);
	assert_int_equal(r->ps.updated_ms, 1040);
	assert_int_equal(rig_jk_client_stats(&r->c)->cycles_ok, 1);
	/* Nothing more until the poll period is up. */
	assert_int_equal(rig_jk_client_step(&r->c, 1999), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_jk_client_step(&r->c, 2000), CLIENT_BUSY);
	assert_sent(r, REQ_ALL);
}

static void switched_off_fets_show_as_software_lock(void **state)
{
	struct rig *r = *state;

	rig_jk_client_step(&r->c, 0);
	assert_sent(r, REQ_ALL);
	fake_io_queue(&r->io, (const uint8_t *)"AT\r\n", 4);   /* the board's BLE module chatters */
	fake_io_queue_hex(&r->io, F13S);
	assert_int_equal(rig_jk_client_step(&r->c, 30), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.cell_count, 13);
	assert_int_equal(r->ps.current_mA, 0);
	assert_int_equal(r->ps.fet_chg, 0);
	assert_int_equal(r->ps.fet_dsg, 0);
	assert_int_equal(r->ps.prot, PACK_PROT_SW_LOCK);
	assert_int_equal(r->ps.temp_dK[0], 2921);
	assert_int_equal(r->c.rx.b.skipped_bytes, 4);
}

static void retries_back_off_then_fail_and_count(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jk_client_stats(&r->c);
	/* timeout 500, retries 3, backoff 100: sends at 0, 500, 1100 (500+500+100), 1800 (+500+200). */
	static const uint32_t send_at[] = { 0, 500, 1100, 1800 };
	uint32_t t;
	unsigned sends = 0;
	enum client_event ev = CLIENT_BUSY;

	for (t = 0; t <= 2300 && ev == CLIENT_BUSY; t += 10) {
		ev = rig_jk_client_step(&r->c, t);
		if (r->io.tx_len) {
			assert_true(sends < 4);
			assert_int_equal(t, send_at[sends]);
			sends++;
			assert_sent(r, REQ_ALL);
		}
	}
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(t - 10, 2300);
	assert_int_equal(st->resends, 3);
	assert_int_equal(st->timeouts, 4);
	assert_int_equal(st->comm_fail, 1);
	/* A good reply in a later cycle clears the count. */
	for (; r->io.tx_len == 0; t += 10)
		rig_jk_client_step(&r->c, t);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, F14S);
	assert_int_equal(rig_jk_client_step(&r->c, t), CLIENT_CYCLE_OK);
	assert_int_equal(st->comm_fail, 0);
}

static void bad_checksum_is_a_lost_reply(void **state)
{
	struct rig *r = *state;
	char bad[sizeof F14S];

	memcpy(bad, F14S, sizeof bad);
	bad[sizeof bad - 2] = bad[sizeof bad - 2] == '0' ? '1' : '0';
	rig_jk_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, bad);
	assert_int_equal(rig_jk_client_step(&r->c, 50), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(r->c.rx.b.rejected_frames, 1);
	rig_jk_client_step(&r->c, 500);
	assert_sent(r, REQ_ALL);
	fake_io_queue_hex(&r->io, F14S);
	assert_int_equal(rig_jk_client_step(&r->c, 540), CLIENT_CYCLE_OK);
}

/* An id whose width nobody knows ends the walk: the frame is refused, not guessed at. */
static void unknown_id_is_rejected(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jk_client_stats(&r->c);

	rig_jk_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	queue_reply(r, JK_CMD_READ_ALL, "79 03 01 0E ED 83 14 EF 84 80 D0 85 0F 8C 00 07 88 00 01");
	assert_int_equal(rig_jk_client_step(&r->c, 40), CLIENT_BUSY);
	assert_int_equal(st->rejected, 1);
	assert_sent(r, REQ_ALL);                       /* counted as lost: resent at once */
	/* The same list without it is enough for a cycle; so is one missing 0xC0 (old firmware,
	 * current in the offset code) and the temperatures. */
	queue_reply(r, JK_CMD_READ_ALL, "79 03 01 0E ED 83 14 EF 84 27 06 85 0F 8C 00 07");
	assert_int_equal(rig_jk_client_step(&r->c, 80), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.current_mA, 100);
	assert_int_equal(r->ps.temp_count, 0);
	assert_int_equal(r->ps.cell_count, 1);
	assert_int_equal(r->ps.full_mAh, 0);
}

static void incomplete_or_implausible_reply_is_rejected(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jk_client_stats(&r->c);
	static const char *const bad[] = {
		"83 14 EF 84 80 D0 85 0F 8C 00 07",                         /* no cells */
		"79 03 01 0E ED 84 80 D0 85 0F 8C 00 07",                   /* no pack voltage */
		"79 03 01 0E ED 83 14 EF 84 80 D0 85 65 8C 00 07",          /* SOC 101 % */
		"79 00 83 14 EF 84 80 D0 85 0F 8C 00 07",                   /* no cells after all */
		"79 03 01 0E ED 81 01 80 83 14 EF 84 80 D0 85 0F 8C 00 07", /* 0x0180: -284 degC */
	};
	uint32_t t = 0;

	rig_jk_client_step(&r->c, t);
	fake_io_clear_tx(&r->io);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		queue_reply(r, JK_CMD_READ_ALL, bad[i]);
		t += 10;
		rig_jk_client_step(&r->c, t);
		assert_int_equal(st->rejected, i + 1);
		/* Counted as a lost reply: a resend (after its backoff), or the next cycle. */
		for (unsigned k = 0; r->io.tx_len == 0 && k < 200; k++)
			rig_jk_client_step(&r->c, t += 10);
		assert_sent(r, REQ_ALL);
	}
	assert_int_equal(st->cycles_ok, 0);
	assert_int_equal(st->cycles_failed, 1);       /* 1 try + 3 retries, then the next cycle */
}

static void echo_and_foreign_replies_are_ignored(void **state)
{
	struct rig *r = *state;

	rig_jk_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, REQ_ALL);            /* a half-duplex adapter's echo */
	queue_reply(r, JK_CMD_WRITE, "AB 01");         /* a late write reply */
	assert_int_equal(rig_jk_client_step(&r->c, 10), CLIENT_BUSY);
	assert_int_equal(rig_jk_client_stats(&r->c)->rejected, 1);
	assert_int_equal(r->io.tx_len, 0);
	fake_io_queue_hex(&r->io, F14S);
	assert_int_equal(rig_jk_client_step(&r->c, 20), CLIENT_CYCLE_OK);
}

static void fet_writes_go_first_and_are_read_back(void **state)
{
	struct rig *r = *state;

	rig_jk_client_set_fets(&r->c, 0, 1);
	rig_jk_client_step(&r->c, 0);
	assert_sent(r, REQ_PASSWORD);
	/* No reply is awaited for the password frame: 100 ms, then the writes (docs/protocols/jk.md §4.1). */
	assert_int_equal(rig_jk_client_step(&r->c, 99), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	rig_jk_client_step(&r->c, 100);
	assert_sent(r, REQ_CHG_OFF);
	queue_reply(r, JK_CMD_WRITE, "AB 00");
	rig_jk_client_step(&r->c, 120);
	assert_sent(r, REQ_DSG_ON);
	queue_reply(r, JK_CMD_WRITE, "AC 01");
	rig_jk_client_step(&r->c, 140);
	assert_sent(r, REQ_ALL);
	/* This board did not take it (0xAB still 1): the next cycle asks again. */
	fake_io_queue_hex(&r->io, F14S);
	assert_int_equal(rig_jk_client_step(&r->c, 160), CLIENT_CYCLE_OK);
	assert_int_equal(r->c.eng.fets.pending, CLIENT_FET_CHG | CLIENT_FET_DSG);
	rig_jk_client_step(&r->c, 1000);
	assert_sent(r, REQ_PASSWORD);
	rig_jk_client_step(&r->c, 1100);
	assert_sent(r, REQ_CHG_OFF);
	queue_reply(r, JK_CMD_WRITE, "AB 00");
	rig_jk_client_step(&r->c, 1120);
	assert_sent(r, REQ_DSG_ON);
	queue_reply(r, JK_CMD_WRITE, "AC 01");
	rig_jk_client_step(&r->c, 1140);
	assert_sent(r, REQ_ALL);
	queue_reply(r, JK_CMD_READ_ALL,
	            "79 03 01 0E ED 83 14 EF 84 80 D0 85 0F 8C 00 02 AB 00 AC 01 C0 01");
	assert_int_equal(rig_jk_client_step(&r->c, 1160), CLIENT_CYCLE_OK);
	assert_int_equal(r->c.eng.fets.pending, 0);
	assert_int_equal(r->ps.fet_chg, 0);
	assert_int_equal(r->ps.prot, PACK_PROT_SW_LOCK);
	rig_jk_client_step(&r->c, 2000);
	assert_sent(r, REQ_ALL);                       /* done: polling only */
}

/* A board that never answers writes: each is retried, given up, and the poll goes on. */
static void unanswered_writes_do_not_stop_polling(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jk_client_stats(&r->c);
	enum client_event ev = CLIENT_BUSY;
	unsigned writes = 0;
	uint32_t t;

	r->cfg.retries = 1;
	rig_jk_client_init(&r->c, &r->cfg, fake_io_stream(&r->io), &r->ps);
	rig_jk_client_set_fets(&r->c, 0, 0);
	for (t = 0; ev == CLIENT_BUSY && t < 5000; t += 10) {
		ev = rig_jk_client_step(&r->c, t);
		if (r->io.tx_len > 21 && r->io.tx[8] == JK_CMD_WRITE)
			writes++;
		if (r->io.tx_len == 21) {                  /* the read-all */
			fake_io_clear_tx(&r->io);
			fake_io_queue_hex(&r->io, F14S);
		}
		fake_io_clear_tx(&r->io);
	}
	assert_int_equal(ev, CLIENT_CYCLE_OK);
	assert_int_equal(writes, 4);                   /* 2 ids x (1 try + 1 retry) */
	assert_int_equal(st->timeouts, 4);
	assert_int_equal(r->c.eng.fets.pending, CLIENT_FET_CHG | CLIENT_FET_DSG); /* 0xAB reads 1: again */
}

/* ---- client <-> personality over a fake link -------------------------------------------------- */

struct pending {
	uint8_t bytes[JK_FRAME_MAX + 8];
	size_t n;
	uint32_t due_ms;
};

struct link {
	struct model m;
	struct bms b;
	_Alignas(max_align_t) uint8_t state[PERSONALITY_STATE_MAX];
	const struct personality_ops *ops;
	struct reply_sink sink;
	struct pending q[8];
	unsigned nq;
	unsigned parts;                      /* truth parts of the replies sent */
	uint8_t line[8192];                  /* bytes on their way to the client */
	size_t line_len, line_pos;
	uint32_t now_ms;
	struct jk_client c;
	struct pack_state ps;
	struct client_cfg cfg;
};

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct link *l = ctx;

	assert_true(l->nq < 8 && n <= sizeof l->q[0].bytes);
	memcpy(l->q[l->nq].bytes, wire, n);
	l->q[l->nq].n = n;
	l->q[l->nq].due_ms = l->now_ms + delay_ms;
	l->nq++;
	l->parts |= parts;
}

static int32_t link_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct link *l = ctx;

	l->ops->rx(l->state, p, n, l->now_ms, &l->sink);
	return n;
}

static int32_t link_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct link *l = ctx;
	size_t n;

	for (unsigned i = 0; i < l->nq;) {
		if ((int32_t)(l->now_ms - l->q[i].due_ms) < 0) {
			i++;
			continue;
		}
		assert_true(l->line_len + l->q[i].n <= sizeof l->line);
		memcpy(l->line + l->line_len, l->q[i].bytes, l->q[i].n);
		l->line_len += l->q[i].n;
		memmove(&l->q[i], &l->q[i + 1], (l->nq - i - 1) * sizeof l->q[0]);
		l->nq--;
	}
	n = l->line_len - l->line_pos;
	if (n > cap)
		n = cap;
	if (n > 13)
		n = 13;                          /* a UART delivers in pieces */
	memcpy(p, l->line + l->line_pos, n);
	l->line_pos += n;
	if (l->line_pos == l->line_len)
		l->line_pos = l->line_len = 0;
	return (int32_t)n;
}

static struct link *link_new(double ambient_C)
{
	struct link *l = calloc(1, sizeof *l);
	struct model_cfg mc;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct rig_io io;

	assert_non_null(l);
	model_cfg_defaults(&mc);                 /* 4S LFP 100 Ah, 2 NTC */
	mc.ambient_C = ambient_C;
	assert_int_equal(model_init(&l->m, &mc), RIG_OK);
	assert_int_equal(bms_init(&l->b, &l->m), RIG_OK);
	l->ops = &jk_personality_ops;
	assert_int_equal(l->ops->init(l->state, &l->b, 0), RIG_OK);
	l->sink.ctx = l;
	l->sink.send = sink_send;
	l->cfg = cfg;
	io.ctx = l;
	io.write = link_write;
	io.read = link_read;
	rig_jk_client_init(&l->c, &l->cfg, io, &l->ps);
	return l;
}

static void quirk(struct link *l, const char *key, const char *value)
{
	char why[128] = "";

	if (l->ops->set_quirk(l->state, key, value, why, sizeof why) != RIG_OK)
		fail_msg("quirk %s=%s: %s", key, value, why);
}

/* Runs the client until a cycle ends; the BMS holds still meanwhile, so it is the truth. */
static enum client_event run_cycle(struct link *l)
{
	enum client_event ev = CLIENT_BUSY;

	for (uint32_t end = l->now_ms + 10000; ev == CLIENT_BUSY && l->now_ms < end; l->now_ms += 5)
		ev = rig_jk_client_step(&l->c, l->now_ms);
	return ev;
}

static long labs_diff(long a, long b)
{
	return a > b ? a - b : b - a;
}

/* Within one resolution step of the BMS's own measurement, part by part. */
static void assert_matches_bms(const struct link *l)
{
	const struct resolution *res = &l->ops->resolution;
	const struct bms_meas *m = &l->b.meas;
	struct bms_view v;

	bms_view(&l->b, &v);
	assert_true(labs_diff(l->ps.pack_mV, m->pack_mV) <= res->pack_mV);
	assert_true(labs_diff(l->ps.current_mA, m->current_mA) <= res->current_mA);
	assert_int_equal(l->ps.cell_count, v.cell_count);
	for (unsigned i = 0; i < l->ps.cell_count; i++)
		assert_true(labs_diff(l->ps.cell_mV[i], m->cell_mV[i]) <= res->cell_mV);
	assert_int_equal(l->ps.temp_count, v.probe_count);
	for (unsigned i = 0; i < l->ps.temp_count; i++)
		assert_true(labs_diff(l->ps.temp_dK[i], v.probe_dK[i]) <= res->temp_dK);
	assert_int_equal(l->ps.soc_pct, v.soc_pct);
	assert_int_equal(l->ps.fet_chg, (l->b.fet & BMS_FET_CHG) != 0);
	assert_int_equal(l->ps.fet_dsg, (l->b.fet & BMS_FET_DSG) != 0);
	assert_int_equal(l->ps.full_mAh, bms_full_mAh(&l->b));
	assert_int_equal(l->parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
}

/* One second of current through the pack, so the BMS measures it. */
static void flow(struct link *l, double amps)
{
	bms_step(&l->b, &l->m, 1.0, amps);
	assert_true(labs_diff(l->b.meas.current_mA, (long)(amps * 1000)) < 1000);
}

static void loop_matches_the_bms(void **state)
{
	struct link *l = link_new(25.0);
	static const double currents_A[] = { 0.0, -12.34, 2.5, -45.5, 45.5 };

	(void)state;
	for (size_t i = 0; i < sizeof currents_A / sizeof currents_A[0]; i++) {
		flow(l, currents_A[i]);
		assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
		assert_matches_bms(l);
		l->now_ms += 1000;
	}
	/* Beyond +-32.767 A the sign survives (mpp-solar#203). */
	assert_true(l->ps.current_mA > 45000);
	assert_int_equal(rig_jk_client_stats(&l->c)->rejected, 0);
	free(l);
}

static void loop_below_zero_degrees(void **state)
{
	struct link *l = link_new(-15.0);

	(void)state;
	flow(l, -20.0);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	assert_true(l->ps.temp_dK[0] < 2731 - 100);   /* reads as frost, not as +115 degC */
	assert_true(l->ps.temp_dK[1] < 2731 - 100);
	free(l);
}

/* 0x86 says how many of 0x81/0x82 are real probes; the rest is not reported. */
static void loop_one_probe(void **state)
{
	struct link *l = link_new(25.0);

	(void)state;
	assert_int_equal(bms_setting_set(&l->b, BMS_SET_NTC_ENABLE, 1), RIG_OK);
	flow(l, -1.0);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	assert_int_equal(l->ps.temp_count, 1);
	free(l);
}

static void loop_old_current_code(void **state)
{
	struct link *l = link_new(25.0);

	(void)state;
	quirk(l, "current_mode", "0");
	flow(l, 45.5);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	flow(l, -45.5);
	l->now_ms += 1000;
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	free(l);
}

static void loop_survives_junk_prefix(void **state)
{
	struct link *l = link_new(25.0);

	(void)state;
	quirk(l, "junk_prefix", "1");              /* "AT\r\n" before every reply */
	for (int i = 0; i < 3; i++) {
		flow(l, -5.0);
		assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
		assert_matches_bms(l);
		l->now_ms += 1000;
	}
	assert_int_equal(l->c.rx.b.skipped_bytes, 3 * 4);
	assert_int_equal(rig_jk_client_stats(&l->c)->resends, 0);
	free(l);
}

static void loop_survives_latency(void **state)
{
	struct link *l = link_new(25.0);
	const struct client_stats *st = rig_jk_client_stats(&l->c);

	(void)state;
	quirk(l, "latency_ms", "450");             /* inside the 500 ms timeout */
	flow(l, -5.0);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	assert_int_equal(st->resends, 0);
	quirk(l, "latency_ms", "700");             /* past it: the resend's reply or the first lands */
	l->now_ms += 1000;
	flow(l, -6.0);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_matches_bms(l);
	assert_true(st->resends >= 1);
	free(l);
}

static void loop_fet_write_lands(void **state)
{
	struct link *l = link_new(25.0);

	(void)state;
	quirk(l, "junk_prefix", "2");
	rig_jk_client_set_fets(&l->c, 0, 1);
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_int_equal(l->b.inhibit, BMS_INHIBIT_CHG);
	assert_int_equal(l->ps.fet_chg, 0);
	assert_int_equal(l->ps.fet_dsg, 1);
	assert_true(l->ps.prot & PACK_PROT_SW_LOCK);
	assert_int_equal(l->c.eng.fets.pending, 0);
	rig_jk_client_set_fets(&l->c, 1, 1);
	l->now_ms += 1000;
	assert_int_equal(run_cycle(l), CLIENT_CYCLE_OK);
	assert_int_equal(l->b.inhibit, 0);
	assert_int_equal(l->ps.fet_chg, 1);
	assert_int_equal(l->ps.prot & PACK_PROT_SW_LOCK, 0);
	assert_int_equal(rig_jk_client_stats(&l->c)->timeouts, 0);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(cycle_reads_all, setup),
		cmocka_unit_test_setup(switched_off_fets_show_as_software_lock, setup),
		cmocka_unit_test_setup(retries_back_off_then_fail_and_count, setup),
		cmocka_unit_test_setup(bad_checksum_is_a_lost_reply, setup),
		cmocka_unit_test_setup(unknown_id_is_rejected, setup),
		cmocka_unit_test_setup(incomplete_or_implausible_reply_is_rejected, setup),
		cmocka_unit_test_setup(echo_and_foreign_replies_are_ignored, setup),
		cmocka_unit_test_setup(fet_writes_go_first_and_are_read_back, setup),
		cmocka_unit_test_setup(unanswered_writes_do_not_stop_polling, setup),
		cmocka_unit_test(loop_matches_the_bms),
		cmocka_unit_test(loop_below_zero_degrees),
		cmocka_unit_test(loop_one_probe),
		cmocka_unit_test(loop_old_current_code),
		cmocka_unit_test(loop_survives_junk_prefix),
		cmocka_unit_test(loop_survives_latency),
		cmocka_unit_test(loop_fet_write_lands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
