/* JBD personality: factory-mode rules, exact error bytes, exit-and-save, 0x05 = 0xA1, 0x03
 * consistent with the EEPROM, string writes, 0xE1/0xE0 outside factory mode, idle drop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/sim/jbd_personality.h"
#include "bmsrig/sim/jbd_settings.h"

struct rig {
	struct model m;
	struct bms b;
	struct jbd_personality p;
	struct jbd_frame reply;
	uint32_t now_ms;
};

static void rig_make(struct rig *r, const struct jbd_quirks *q)
{
	struct model_cfg c;
	model_cfg_defaults(&c);          /* 4S LFP 100 Ah, 2 NTC */
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
	jbd_personality_init(&r->p, &r->b, q);
	r->now_ms = 1000;
}

/* Send one request; returns what handle returned. */
static int ask(struct rig *r, const struct jbd_frame *req)
{
	r->now_ms += 100;
	memset(&r->reply, 0xA5, sizeof r->reply);
	return jbd_personality_handle(&r->p, req, r->now_ms, &r->reply);
}

static int ask_read(struct rig *r, uint8_t reg)
{
	struct jbd_frame req;
	rig_jbd_request_read(&req, reg);
	return ask(r, &req);
}

static int ask_write(struct rig *r, uint8_t reg, uint16_t v)
{
	struct jbd_frame req;
	rig_jbd_request_write_u16(&req, reg, v);
	return ask(r, &req);
}

/* The reply on the wire must be exactly these bytes. */
static void assert_wire(const struct jbd_frame *f, const uint8_t *want, size_t n)
{
	uint8_t out[JBD_FRAME_MAX];
	size_t len = 0;
	assert_int_equal(rig_jbd_frame_encode(f, out, sizeof out, &len), RIG_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
}

static uint16_t reply_u16(const struct rig *r)
{
	uint16_t v = 0;
	assert_int_equal(r->reply.status, JBD_STATUS_OK);
	assert_int_equal(rig_jbd_register_decode(&r->reply, &v), RIG_OK);
	return v;
}

static void factory_mode_rules(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, NULL);

	/* Outside factory mode: refused, as the V1.3 capture `DD 24 81 00 FF 7F 77`. */
	assert_int_equal(ask_read(&r, 0x24), 1);
	static const uint8_t refused[] = { 0xDD, 0x24, 0x81, 0x00, 0xFF, 0x7F, 0x77 };
	assert_wire(&r.reply, refused, sizeof refused);
	assert_int_equal(ask_write(&r, 0x24, 3600), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);
	assert_int_equal(ask_read(&r, JBD_REG_DEVICE_NAME), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);
	assert_int_equal(ask_write(&r, 0xB0, 3300), 1);              /* calibration too */
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);
	uint16_t v;
	assert_int_equal(jbd_reg_get(&r.b, 0x24, &v), RIG_OK);
	assert_int_equal(v, 3650);

	/* The live registers need no factory mode. */
	static const uint8_t live[] = { JBD_REG_BASIC, JBD_REG_CELLS, JBD_REG_VERSION, JBD_REG_EVENTS };
	for (size_t i = 0; i < sizeof live; i++) {
		assert_int_equal(ask_read(&r, live[i]), 1);
		assert_int_equal(r.reply.status, JBD_STATUS_OK);
		assert_int_equal(r.reply.reg, live[i]);
	}

	/* A wrong key does not open it. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, 0x1234), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);
	assert_int_equal(ask_read(&r, 0x24), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);

	/* 0x5678 does: ack `DD 00 00 00 00 00 77`, then the F4 capture's read of 0x24. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	static const uint8_t ack00[] = { 0xDD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack00, sizeof ack00);
	assert_int_equal(ask_read(&r, 0x24), 1);
	static const uint8_t ov[] = { 0xDD, 0x24, 0x00, 0x02, 0x0E, 0x42, 0xFF, 0xAE, 0x77 };
	assert_wire(&r.reply, ov, sizeof ov);
	assert_int_equal(ask_read(&r, 0x47), 1);                     /* newer-firmware points */
	assert_int_equal(reply_u16(&r), 3392);

	/* Writes land; a value the BMS refuses gets 0x80 and changes nothing. */
	assert_int_equal(ask_write(&r, 0x24, 3600), 1);
	static const uint8_t ack24[] = { 0xDD, 0x24, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack24, sizeof ack24);
	assert_int_equal(ask_read(&r, 0x24), 1);
	assert_int_equal(reply_u16(&r), 3600);
	assert_int_equal(ask_write(&r, JBD_REG_CELL_COUNT, 40), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_UNSUPPORTED);
	assert_int_equal(r.reply.len, 0);
	assert_int_equal(ask_read(&r, JBD_REG_CELL_COUNT), 1);
	assert_int_equal(reply_u16(&r), 4);
	assert_int_equal(ask_write(&r, 0xB0, 3300), 1);              /* calibration */
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(jbd_reg_get(&r.b, 0xB0, &v), RIG_OK);
	assert_int_equal(v, 3300);

	/* Exit 00 00: acked, refused again, but the write stays live. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, JBD_EXIT_DISCARD), 1);
	static const uint8_t ack01[] = { 0xDD, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack01, sizeof ack01);
	assert_int_equal(ask_read(&r, 0x24), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_REFUSED);
	assert_int_equal(jbd_reg_get(&r.b, 0x24, &v), RIG_OK);
	assert_int_equal(v, 3600);

	/* "Old firmware" quirk: settings served without factory mode. */
	struct jbd_quirks q;
	jbd_quirks_defaults(&q);
	q.eeprom_needs_factory = 0;
	rig_make(&r, &q);
	assert_int_equal(ask_read(&r, 0x24), 1);
	assert_int_equal(reply_u16(&r), 3650);
}

static void unknown_register_exact_bytes(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, NULL);
	/* The two captured error frames (docs/protocols/jbd.md §11 F10). */
	assert_int_equal(ask_write(&r, 0xE3, 0x4321), 1);
	static const uint8_t e3[] = { 0xDD, 0xE3, 0x80, 0x00, 0xFF, 0x80, 0x77 };
	assert_wire(&r.reply, e3, sizeof e3);
	assert_int_equal(ask_write(&r, JBD_REG_CONTROL, 0x1881), 1);
	static const uint8_t e0a[] = { 0xDD, 0x0A, 0x80, 0x00, 0xFF, 0x80, 0x77 };
	assert_wire(&r.reply, e0a, sizeof e0a);
	/* Reads of registers that do not exist, or are write-only, in factory mode too. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	static const uint8_t regs[] = { 0x48, 0x9F, 0x02, JBD_REG_MOSFET, JBD_REG_REMAIN_CAP, 0xFF };
	for (size_t i = 0; i < sizeof regs; i++) {
		assert_int_equal(ask_read(&r, regs[i]), 1);
		const uint8_t want[] = { 0xDD, regs[i], 0x80, 0x00, 0xFF, 0x80, 0x77 };
		assert_wire(&r.reply, want, sizeof want);
	}
	/* Writes to read-only registers. */
	assert_int_equal(ask_write(&r, JBD_REG_BASIC, 0), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_UNSUPPORTED);
	/* A response arriving on the BMS side is not answered. */
	struct jbd_frame resp;
	rig_jbd_response_ack(&resp, JBD_REG_BASIC);
	assert_int_equal(ask(&r, &resp), 0);
}

struct save_log { int calls; uint16_t cell_ov_at_save; uint16_t ov_reg_at_save; int fail; };

static int save_cb(void *ctx, const struct bms *b)
{
	struct save_log *log = ctx;
	log->calls++;
	log->cell_ov_at_save = b->events[BMS_EV_CELL_OV];
	uint16_t v = 0;
	(void)jbd_reg_get(b, 0x24, &v);
	log->ov_reg_at_save = v;
	return log->fail;
}

static void exit_and_save(void **state)
{
	(void)state;
	struct rig r;
	struct save_log log = { 0 };
	rig_make(&r, NULL);
	jbd_personality_on_save(&r.p, save_cb, &log);
	r.b.events[BMS_EV_CELL_OV] = 5;
	r.b.events[BMS_EV_RESTART] = 2;

	/* Outside factory mode 28 28 is acked and does nothing. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, JBD_EXIT_SAVE), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(log.calls, 0);
	assert_int_equal(r.b.events[BMS_EV_CELL_OV], 5);

	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	assert_int_equal(ask_write(&r, 0x24, 3610), 1);
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, JBD_EXIT_SAVE), 1);
	static const uint8_t ack01[] = { 0xDD, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack01, sizeof ack01);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.cell_ov_at_save, 0);         /* zeroed before persisting */
	assert_int_equal(log.ov_reg_at_save, 3610);
	for (unsigned i = 0; i < BMS_EVENT_COUNT; i++)
		assert_int_equal(r.b.events[i], 0);
	assert_int_equal(r.p.factory, 0);
	assert_int_equal(ask_read(&r, JBD_REG_EVENTS), 1);
	struct jbd_events e;
	assert_int_equal(rig_jbd_events_decode(&r.reply, &e), RIG_OK);
	assert_int_equal(e.count, 12);
	assert_int_equal(e.value[BMS_EV_CELL_OV], 0);

	/* A failing save still acks (as the board would) and is counted. */
	log.fail = 1;
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, JBD_EXIT_SAVE), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(log.calls, 2);
	assert_int_equal(r.p.saver.failures, 1);
	/* Other exit codes are not exits. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, 0x1234), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_UNSUPPORTED);
}

static void version_is_the_a1_string(void **state)
{
	(void)state;
	struct rig r;
	struct jbd_text t05, ta1;
	rig_make(&r, NULL);
	assert_int_equal(ask_read(&r, JBD_REG_VERSION), 1);
	assert_int_equal(rig_jbd_version_decode(&r.reply, &t05), RIG_OK);
	assert_string_equal(t05.text, "bmsrig-JBD-SP04S034");
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	assert_int_equal(ask_read(&r, JBD_REG_DEVICE_NAME), 1);
	assert_int_equal(r.reply.len, t05.len + 1);
	assert_int_equal(rig_jbd_string_decode(&r.reply, &ta1), RIG_OK);
	assert_int_equal(ta1.len, t05.len);
	assert_memory_equal(ta1.text, t05.text, t05.len);

	/* Write a new model name ([len][ascii], the simat form): 0x05 follows. */
	struct jbd_frame req;
	static const uint8_t name[] = { 5, 'D', 'G', 'J', 'B', 'D' };
	assert_int_equal(rig_jbd_request_write(&req, JBD_REG_DEVICE_NAME, name, sizeof name), RIG_OK);
	assert_int_equal(ask(&r, &req), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(ask_read(&r, JBD_REG_VERSION), 1);
	static const uint8_t v05[] = { 0xDD, 0x05, 0x00, 0x05, 'D', 'G', 'J', 'B', 'D', 0xFE, 0xA0, 0x77 };
	assert_wire(&r.reply, v05, sizeof v05);

	/* jbdtool's form without the prefix (L + 1 != len) is refused and changes nothing. */
	static const uint8_t bare[] = { 'A', 'C', 'M', 'E' };
	assert_int_equal(rig_jbd_request_write(&req, JBD_REG_DEVICE_NAME, bare, sizeof bare), RIG_OK);
	assert_int_equal(ask(&r, &req), 1);
	static const uint8_t e_a1[] = { 0xDD, 0xA1, 0x80, 0x00, 0xFF, 0x80, 0x77 };
	assert_wire(&r.reply, e_a1, sizeof e_a1);
	assert_int_equal(ask_read(&r, JBD_REG_VERSION), 1);
	assert_int_equal(r.reply.len, 5);
	/* The empty barcode reads as `DD A2 00 01 00 FF FF 77` (docs/protocols/jbd.md §11 F4). */
	assert_int_equal(ask_read(&r, JBD_REG_BARCODE), 1);
	static const uint8_t a2[] = { 0xDD, 0xA2, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0x77 };
	assert_wire(&r.reply, a2, sizeof a2);
}

static unsigned popcount(unsigned v)
{
	unsigned n = 0;
	for (; v; v &= v - 1u)
		n++;
	return n;
}

/* Decode 0x03 and check it against the registers as they are now. */
static void check_basic_vs_eeprom(struct rig *r)
{
	struct jbd_basic basic;
	uint16_t cells, ntc, design, date, cycles;
	assert_int_equal(ask_read(r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r->reply, &basic), RIG_OK);
	assert_int_equal(jbd_reg_get(&r->b, JBD_REG_CELL_COUNT, &cells), RIG_OK);
	assert_int_equal(jbd_reg_get(&r->b, JBD_REG_NTC_ENABLE, &ntc), RIG_OK);
	assert_int_equal(jbd_reg_get(&r->b, JBD_REG_DESIGN_CAP, &design), RIG_OK);
	assert_int_equal(jbd_reg_get(&r->b, JBD_REG_MFG_DATE, &date), RIG_OK);
	assert_int_equal(jbd_reg_get(&r->b, JBD_REG_CYCLES, &cycles), RIG_OK);
	assert_int_equal(basic.cell_count, cells);
	assert_int_equal(basic.ntc_count, popcount(ntc));
	assert_int_equal(basic.full_mAh, 10u * design);
	assert_int_equal(basic.production_date, date);
	assert_int_equal(basic.cycles, cycles);
	assert_int_equal(r->reply.len, JBD_BASIC_FIXED_LEN + 2u * popcount(ntc));
	assert_int_equal(ask_read(r, JBD_REG_CELLS), 1);
	assert_int_equal(r->reply.len, 2u * cells);
}

static void basic_is_consistent_with_eeprom(void **state)
{
	(void)state;
	struct rig r;
	rig_make(&r, NULL);
	check_basic_vs_eeprom(&r);
	struct jbd_basic basic;
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_ERR_ARG);   /* reply is 0x04 now */
	assert_int_equal(ask_read(&r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_OK);
	assert_int_equal(basic.sw_version, 0x80);
	assert_int_equal(basic.fet, JBD_FET_CHG_ON | JBD_FET_DSG_ON);
	assert_int_equal(basic.soc_pct, 50);
	assert_in_range(basic.pack_mV, 13050, 13070);           /* 4 x 3.265 V */
	assert_in_range(basic.temp_dK[0], 2981 - 5, 2981 + 5);  /* 25 degC +- probe offset */

	/* Change everything through the protocol; the very next 0x03 agrees, no step needed. */
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY), 1);
	assert_int_equal(ask_write(&r, JBD_REG_CELL_COUNT, 3), 1);
	assert_int_equal(ask_write(&r, JBD_REG_NTC_ENABLE, 0x0D), 1);
	assert_int_equal(ask_write(&r, JBD_REG_DESIGN_CAP, 5000), 1);
	assert_int_equal(ask_write(&r, JBD_REG_MFG_DATE, rig_jbd_date_pack(2023, 7, 1)), 1);
	assert_int_equal(ask_write(&r, JBD_REG_CYCLES, 42), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	check_basic_vs_eeprom(&r);
	assert_int_equal(ask_read(&r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_OK);
	assert_int_equal(basic.ntc_count, 3);
	assert_int_equal(basic.temp_dK[1], BMS_ABSENT_NTC_DK);  /* probe 3: not on the pack */
	assert_int_equal(basic.soc_pct, 100);                   /* 50 Ah remaining of a 50 Ah design */

	/* The V8+ extension quirk appends 9 bytes. */
	struct jbd_quirks q;
	jbd_quirks_defaults(&q);
	q.basic_extension = 1;
	rig_make(&r, &q);
	assert_int_equal(ask_read(&r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_OK);
	assert_int_equal(basic.has_ext, 1);
	assert_int_equal(basic.ext_full_mAh, 100000);
}

static void mosfet_and_remaining_outside_factory_mode(void **state)
{
	(void)state;
	struct rig r;
	struct jbd_basic basic;
	rig_make(&r, NULL);
	/* docs/protocols/jbd.md §11 F9: E1 00 01 -> ack, then 0x03 shows FET 0x02 and protection 0x1000. */
	assert_int_equal(ask_write(&r, JBD_REG_MOSFET, 0x0001), 1);
	static const uint8_t ack[] = { 0xDD, 0xE1, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack, sizeof ack);
	assert_int_equal(ask_write(&r, JBD_REG_FACTORY_EXIT, JBD_EXIT_DISCARD), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(ask_read(&r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_OK);
	assert_int_equal(basic.fet, JBD_FET_DSG_ON);
	assert_int_equal(basic.prot_raw, 0x1000);
	bms_step(&r.b, &r.m, 1.0, 10.0);
	assert_true(r.m.pack_I_A == 0.0);                      /* and charge is blocked */
	/* Other values are refused (the vendor warns against them). */
	assert_int_equal(ask_write(&r, JBD_REG_MOSFET, 0x0004), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_UNSUPPORTED);
	assert_int_equal(r.b.inhibit, 1);
	assert_int_equal(ask_write(&r, JBD_REG_MOSFET, 0x0000), 1);
	assert_int_equal(ask_read(&r, JBD_REG_BASIC), 1);
	assert_int_equal(rig_jbd_basic_decode(&r.reply, &basic), RIG_OK);
	assert_int_equal(basic.fet, JBD_FET_CHG_ON | JBD_FET_DSG_ON);
	assert_int_equal(basic.prot_raw, 0);

	/* E0 27 10: remaining 100.00 Ah; 0x06 pairing acked. */
	bms_set_remain_mAh(&r.b, 0);
	assert_int_equal(ask_write(&r, JBD_REG_REMAIN_CAP, 0x2710), 1);
	assert_int_equal(r.reply.status, JBD_STATUS_OK);
	assert_int_equal(bms_remain_mAh(&r.b), 100000);
	struct jbd_frame req;
	static const uint8_t pw[] = { 6, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(rig_jbd_request_write(&req, JBD_REG_PASSWORD, pw, sizeof pw), RIG_OK);
	assert_int_equal(ask(&r, &req), 1);
	static const uint8_t ack06[] = { 0xDD, 0x06, 0x00, 0x00, 0x00, 0x00, 0x77 };
	assert_wire(&r.reply, ack06, sizeof ack06);
}

static void idle_drop_takes_exactly_the_first_request(void **state)
{
	(void)state;
	struct rig r;
	struct jbd_frame req;
	struct jbd_quirks q;
	jbd_quirks_defaults(&q);
	assert_int_equal(q.reply_latency_ms, 40);
	assert_int_equal(q.drop_first_after_idle_ms, 0);
	assert_int_equal(q.eeprom_needs_factory, 1);

	/* Off: the very first request is answered. */
	rig_make(&r, &q);
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 0, &r.reply), 1);

	q.drop_first_after_idle_ms = 5000;
	rig_make(&r, &q);
	/* The board starts asleep: the first request wakes it and is lost; a resend at once is
	 * answered, and so is everything while it is kept busy. */
	assert_int_equal(jbd_personality_handle(&r.p, &req, 1000, &r.reply), 0);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 1001, &r.reply), 1);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 5000, &r.reply), 1);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 9999, &r.reply), 1);   /* 4999 idle */
	/* 5000 ms of silence: asleep again; exactly one request is dropped. */
	assert_int_equal(jbd_personality_handle(&r.p, &req, 14999, &r.reply), 0);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 15050, &r.reply), 1);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 15100, &r.reply), 1);
	assert_int_equal(r.p.dropped, 2);
	/* Idle time survives the 32-bit millisecond wrap. */
	assert_int_equal(jbd_personality_handle(&r.p, &req, 0xFFFFFF00u, &r.reply), 0);
	assert_int_equal(jbd_personality_handle(&r.p, &req, 0x00000100u, &r.reply), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(factory_mode_rules),
		cmocka_unit_test(unknown_register_exact_bytes),
		cmocka_unit_test(exit_and_save),
		cmocka_unit_test(version_is_the_a1_string),
		cmocka_unit_test(basic_is_consistent_with_eeprom),
		cmocka_unit_test(mosfet_and_remaining_outside_factory_mode),
		cmocka_unit_test(idle_drop_takes_exactly_the_first_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
