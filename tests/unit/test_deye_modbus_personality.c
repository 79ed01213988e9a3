/*
 * The deye-modbus personality through its ops table, and the core's client against it:
 * addresses (default 1, a line's places 0, 1, ..., the spec's, the quirk), the block's bytes
 * from the BMS, partial and out-of-map reads, FC 0x11 byte for byte, the exceptions and their
 * quirk, silence for other addresses, bad CRCs, absent and stale packs; the client's request
 * bytes (the notes' frame) and what it makes of the emulator's answer.
 */
#include <stdalign.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"
#include "client_rig.h"
#include "fake_io.h"

struct pack {
	struct model m;
	struct bms b;
	alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
	const struct personality_ops *ops;
};

/* What the personality sent: the last reply. */
static uint8_t sent[MODBUS_ADU_MAX];
static size_t sent_n;
static unsigned sends, sent_parts;
static uint32_t sent_delay;

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	(void)ctx;
	assert_true(n <= sizeof sent);
	memcpy(sent, wire, n);
	sent_n = n;
	sent_delay = delay_ms;
	sent_parts = parts;
	sends++;
}

static const struct reply_sink sink = { NULL, on_send, NULL };

static void pack_start(struct pack *p, uint8_t address, double soc_pct)
{
	struct model_cfg c;

	model_cfg_defaults(&c);
	c.cells = 16;
	c.capacity_Ah = 100;
	c.soc_pct = soc_pct;
	assert_int_equal(model_init(&p->m, &c), RIG_OK);
	assert_int_equal(bms_init(&p->b, &p->m), RIG_OK);
	bms_step(&p->b, &p->m, 0.1, -10.0);
	p->ops = personality_find("deye-modbus");
	assert_non_null(p->ops);
	assert_int_equal(p->ops->init(p->state, &p->b, address), RIG_OK);
}

static void quirk(struct pack *p, const char *key, const char *value)
{
	char why[200];

	assert_int_equal(p->ops->set_quirk(p->state, key, value, why, sizeof why), RIG_OK);
}

/* Sends the frame hex (its CRC appended) to p at now_ms; returns 1 when p answered. */
static int ask_at(struct pack *p, const char *hex, uint32_t now_ms)
{
	uint8_t w[MODBUS_ADU_MAX];
	size_t n = hex_to_bytes(hex, w, sizeof w - 2);
	uint16_t crc = rig_modbus_crc(w, n);
	unsigned before = sends;

	w[n] = (uint8_t)(crc & 0xFF);
	w[n + 1] = (uint8_t)(crc >> 8);
	p->ops->rx(p->state, w, n + 2, now_ms, &sink);
	return sends != before;
}

static int ask(struct pack *p, const char *hex)
{
	return ask_at(p, hex, 1000);
}

static void assert_reply(const char *hex_without_crc)
{
	uint8_t w[MODBUS_ADU_MAX];
	size_t n = hex_to_bytes(hex_without_crc, w, sizeof w);
	uint16_t crc = rig_modbus_crc(w, n);

	assert_int_equal(sent_n, n + 2);
	assert_memory_equal(sent, w, n);
	assert_int_equal(sent[n], crc & 0xFF);
	assert_int_equal(sent[n + 1], crc >> 8);
}

static uint16_t reg_at(unsigned i)
{
	return (uint16_t)(sent[3 + 2 * i] << 8 | sent[4 + 2 * i]);
}

static void test_block_from_the_bms(void **st)
{
	static struct pack p;
	struct bms_view v;
	struct rig_inv_battery rec;
	uint16_t cmax = 0, cmin = 0xFFFF;
	unsigned i;

	(void)st;
	pack_start(&p, 0, 60);
	assert_true(ask(&p, "01 04 10 00 00 16"));
	assert_int_equal(sent_n, 3 + 44 + 2);
	assert_int_equal(sent[0], 1);
	assert_int_equal(sent[1], 4);
	assert_int_equal(sent[2], 44);
	assert_int_equal(sent_delay, 20);
	assert_int_equal(sent_parts, TRUTH_PACK);
	bms_view(&p.b, &v);
	for (i = 0; i < v.cell_count; i++) {
		cmax = v.cell_mV[i] > cmax ? v.cell_mV[i] : cmax;
		cmin = v.cell_mV[i] < cmin ? v.cell_mV[i] : cmin;
	}
	assert_int_equal(reg_at(0), (v.pack_mV + 5) / 10);
	assert_int_equal((int16_t)reg_at(1), v.current_mA / 10);
	bms_inverter_limits(&p.b, &rec);                     /* SOC in 0.1 %: the record's 0.01 % */
	assert_int_equal(reg_at(8), (rec.soc_cpct + 5) / 10);
	assert_int_equal(reg_at(13), cmax);
	assert_int_equal(reg_at(14), cmin);
	assert_int_equal(reg_at(15), 0);
	assert_int_equal(reg_at(19), 0);
	assert_int_equal(reg_at(21), 10000);                  /* 100 Ah in 10 mAh */
	assert_int_equal(reg_at(7) & (DEYE_MB_ST_DISCHARGING | DEYE_MB_ST_CHG_FET | DEYE_MB_ST_DSG_FET),
	                 DEYE_MB_ST_DISCHARGING | DEYE_MB_ST_CHG_FET | DEYE_MB_ST_DSG_FET);
	assert_int_equal(rig_modbus_crc(sent, sent_n - 2), sent[sent_n - 2] | sent[sent_n - 1] << 8);

	/* Inside the block, part of it; across its end 0x1016 is 0, then 0xFFFF. */
	assert_true(ask(&p, "01 04 10 08 00 01"));
	assert_int_equal(sent[2], 2);
	assert_int_equal(reg_at(0), (rec.soc_cpct + 5) / 10);
	assert_true(ask(&p, "01 04 10 15 00 03"));
	assert_int_equal(reg_at(0), 10000);
	assert_int_equal(reg_at(1), 0);
	assert_int_equal(reg_at(2), 0xFFFF);
	sent_parts = 99;
	assert_true(ask(&p, "01 04 20 00 00 02"));
	assert_reply("01 04 04 FF FF FF FF");
	assert_int_equal(sent_parts, 0);                      /* no pack data in it */
}

static void test_ident_bytes(void **st)
{
	static struct pack p;

	(void)st;
	pack_start(&p, 3, 50);
	assert_int_equal(bms_string_set(&p.b, BMS_TEXT_MODEL, "DEYE*PACK", 9), RIG_OK);
	assert_int_equal(bms_string_set(&p.b, BMS_TEXT_BARCODE, "SN123", 5), RIG_OK);
	p.b.sw_version = 0x21;
	assert_true(ask(&p, "03 11"));
	/* model * SW(2) * HW(2) * serial(20) *, the '*' in the model made '-'. */
	assert_reply("03 11 25 44 45 59 45 2D 50 41 43 4B 2A 02 01 2A 01 00 2A "
	             "53 4E 31 32 33 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 2A");
}

static void test_exceptions_and_their_quirk(void **st)
{
	static struct pack p;

	(void)st;
	pack_start(&p, 0, 50);
	assert_true(ask(&p, "01 03 10 00 00 16"));
	assert_reply("01 83 01");
	assert_true(ask(&p, "01 04 10 00 00 00"));
	assert_reply("01 84 03");
	assert_true(ask(&p, "01 04 10 00 00 7E"));
	assert_reply("01 84 03");
	assert_true(ask(&p, "01 04 FF FF 00 02"));
	assert_reply("01 84 02");
	assert_true(ask(&p, "01 06 00 01 00 02"));
	assert_reply("01 86 01");
	quirk(&p, "exceptions", "0");
	assert_false(ask(&p, "01 03 10 00 00 16"));
	assert_false(ask(&p, "01 04 10 00 00 00"));
	assert_true(ask(&p, "01 04 10 00 00 16"));
}

static void test_silence(void **st)
{
	static struct pack p;
	uint8_t w[8];
	size_t n;

	(void)st;
	pack_start(&p, 0, 50);
	assert_false(ask(&p, "02 04 10 00 00 16"));          /* another pack's */
	assert_false(ask(&p, "00 04 10 00 00 16"));
	n = hex_to_bytes("01 04 10 00 00 16 75 05", w, sizeof w);   /* bad CRC */
	sends = 0;
	p.ops->rx(p.state, w, n, 1000, &sink);
	assert_int_equal(sends, 0);
	/* The notes' poll, in two pieces. */
	n = hex_to_bytes("01 04 10 00 00 16 75 04", w, sizeof w);
	p.ops->rx(p.state, w, 3, 1000, &sink);
	assert_int_equal(sends, 0);
	p.ops->rx(p.state, w + 3, n - 3, 1001, &sink);
	assert_int_equal(sends, 1);

	quirk(&p, "absent", "1");
	assert_false(ask(&p, "01 04 10 00 00 16"));
	assert_false(ask(&p, "01 11"));
	quirk(&p, "absent", "0");
	assert_true(ask(&p, "01 11"));
}

/* A BMS that has not stepped for stale_after_ms is a pack whose data is old: silent until it
 * steps again. */
static void test_stale(void **st)
{
	static struct pack p;

	(void)st;
	pack_start(&p, 0, 50);
	quirk(&p, "stale_after_ms", "1000");
	p.ops->tick(p.state, 0, &sink);
	assert_true(ask_at(&p, "01 04 10 00 00 16", 900));
	assert_false(ask_at(&p, "01 04 10 00 00 16", 1100));
	bms_step(&p.b, &p.m, 0.1, 0.0);
	assert_true(ask_at(&p, "01 04 10 00 00 16", 1200));
	quirk(&p, "stale_after_ms", "0");
	assert_true(ask_at(&p, "01 04 10 00 00 16", 900000));
}

static void test_addresses(void **st)
{
	static struct pack a, b, c;
	const struct bms *line[3];
	char why[200];

	(void)st;
	pack_start(&a, 0, 50);
	pack_start(&b, 0, 50);
	pack_start(&c, 5, 50);
	/* Alone on its line, 1. */
	a.ops->peers(a.state, (const struct bms *const[]){ &a.b }, 1);
	assert_true(ask(&a, "01 04 10 00 00 01"));
	/* Sharing one, each takes its place unless it was given an address. */
	line[0] = &a.b;
	line[1] = &b.b;
	line[2] = &c.b;
	a.ops->peers(a.state, line, 3);
	b.ops->peers(b.state, line, 3);
	c.ops->peers(c.state, line, 3);
	assert_true(ask(&a, "00 04 10 00 00 01"));
	assert_false(ask(&a, "01 04 10 00 00 01"));
	assert_true(ask(&b, "01 04 10 00 00 01"));
	assert_true(ask(&c, "05 04 10 00 00 01"));
	assert_false(ask(&c, "02 04 10 00 00 01"));
	/* The quirk sets any address, 0 too, and peers leaves it alone. */
	quirk(&b, "address", "0");
	b.ops->peers(b.state, line, 3);
	assert_true(ask(&b, "00 04 10 00 00 01"));
	assert_int_equal(a.ops->set_quirk(a.state, "address", "15", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(a.ops->init(a.state, &a.b, 15), RIG_ERR_ARG);
	assert_int_equal(a.ops->set_quirk(a.state, "nope", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "stale_after_ms"));
}

/* The client's request is the notes' frame; the emulator's answer lands in the pack_state
 * within the block's resolution of the BMS's values. */
static void test_client_against_the_personality(void **st)
{
	static struct pack p;
	static struct rig {
		struct fake_io io;
		struct deye_modbus_client c;
		struct pack_state ps;
		struct client_cfg cfg;
	} r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct bms_view v;
	struct rig_inv_battery want;

	(void)st;
	pack_start(&p, 0, 70);
	CLIENT_RIG_START(&r, &rig_deye_modbus_client_ops, &cfg);
	assert_int_equal(rig_deye_modbus_client_step(&r.c, 0), CLIENT_BUSY);
	assert_sent(&r, "01 04 10 00 00 16 75 04");
	/* The reply to the same request, given to the client. */
	assert_true(ask(&p, "01 04 10 00 00 16"));
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_deye_modbus_client_step(&r.c, 50), CLIENT_CYCLE_OK);
	bms_view(&p.b, &v);
	bms_inverter_limits(&p.b, &want);
	assert_true(r.c.have_inv);
	assert_true(abs((int)r.ps.pack_mV - (int)v.pack_mV) <= 5);
	assert_true(abs(r.ps.current_mA - v.current_mA) <= 5);
	assert_int_equal(r.ps.soc_pct, v.soc_pct);
	assert_int_equal(r.ps.cell_count, 2);
	assert_int_equal(r.ps.cell_mV[0], want.cell_max_mV);
	assert_int_equal(r.ps.cell_mV[1], want.cell_min_mV);
	assert_int_equal(r.ps.temp_dK[0], want.temp_max_dK);
	assert_int_equal(r.ps.fet_chg, 1);
	assert_int_equal(r.ps.fet_dsg, 1);
	assert_int_equal(r.c.inv.design_mAh, 100000);
	assert_int_equal(r.c.inv.ccl_mA, want.ccl_mA);

	/* Address 2; another pack's answer is not taken; an exception fails the cycle. */
	cfg.address = 2;
	cfg.retries = 0;
	CLIENT_RIG_START(&r, &rig_deye_modbus_client_ops, &cfg);
	assert_int_equal(rig_deye_modbus_client_step(&r.c, 0), CLIENT_BUSY);
	assert_sent(&r, "02 04 10 00 00 16 75 37");
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_deye_modbus_client_step(&r.c, 50), CLIENT_BUSY);
	fake_io_queue_hex(&r.io, "02 84 02 32 C1");
	assert_int_equal(rig_deye_modbus_client_step(&r.c, 60), CLIENT_CYCLE_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_from_the_bms),
		cmocka_unit_test(test_ident_bytes),
		cmocka_unit_test(test_exceptions_and_their_quirk),
		cmocka_unit_test(test_silence),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_client_against_the_personality),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
