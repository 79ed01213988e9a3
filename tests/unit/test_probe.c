/* Auto-detection's table and recognisers (core/probe.h): the JBD module's answer, the watch
 * that tells a Bluetooth link from a wire by how replies arrive, and the names a row gives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/probe.h"

/* A JBD 0x03 reply captured from a real BMS (tests/vectors/jbd.json): 36 bytes, which the
 * JBD module sends as 20 + 16 (docs/protocols/jbd.md §10.3). */
static const uint8_t jbd_basic[] = {
	0xDD, 0x03, 0x00, 0x1D, 0x06, 0x18, 0x00, 0x00, 0x01, 0xF2, 0x01, 0xF4, 0x00, 0x00, 0x2C, 0x7C,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x64, 0x03, 0x04, 0x03, 0x0B, 0x8B, 0x0B, 0x8A, 0x0B,
	0x84, 0xFA, 0x8D, 0x77
};
#define DALY_FRAME 13u   /* every Daly frame; a 0x95 reply is one per 3 cells */

/* Pieces of sizes[] at times[] after one request. */
static enum rig_probe_link one_reply(uint32_t baud, const uint16_t *sizes, const uint32_t *times, unsigned n)
{
	struct rig_probe_watch w;
	unsigned i;

	rig_probe_watch_init(&w, baud);
	rig_probe_watch_request(&w);
	for (i = 0; i < n; i++)
		rig_probe_watch_read(&w, sizes[i], times[i]);
	return rig_probe_watch_verdict(&w);
}

static void jbd_reply_whole_is_a_wire(void **state)
{
	uint16_t s[] = { sizeof jbd_basic };
	uint32_t t[] = { 40 };

	(void)state;
	assert_int_equal(sizeof jbd_basic, 36);
	assert_int_equal(one_reply(9600, s, t, 1), RIG_PROBE_LINK_WIRE);
}

/* The emulator's link model: one 20-byte notification per 30 ms connection event. */
static void jbd_reply_in_paced_notifications_is_bluetooth(void **state)
{
	uint16_t s[] = { 20, 16 };
	uint32_t t[] = { 77, 107 };

	(void)state;
	assert_int_equal(one_reply(9600, s, t, 2), RIG_PROBE_LINK_BLE);
}

/* The real module: 20 + 16, the continuation 0.3-6 ms after the first part. Fast, but cut at
 * exactly one notification. */
static void jbd_reply_cut_at_20_bytes_is_bluetooth_however_fast(void **state)
{
	uint16_t s[] = { 20, 16 };
	uint32_t t1[] = { 77, 77 }, t6[] = { 63, 69 };

	(void)state;
	assert_int_equal(one_reply(9600, s, t1, 2), RIG_PROBE_LINK_BLE);
	assert_int_equal(one_reply(9600, s, t6, 2), RIG_PROBE_LINK_BLE);
}

/* A USB serial adapter hands a 9600-baud reply over in pieces as the line fills them (16 ms
 * latency timer): pieces of any size, as fast as the line. */
static void jbd_reply_at_line_pace_is_a_wire(void **state)
{
	uint16_t s[] = { 16, 16, 4 };
	uint32_t t[] = { 17, 33, 37 };

	(void)state;
	assert_int_equal(one_reply(9600, s, t, 3), RIG_PROBE_LINK_WIRE);
}

/* Daly frames are 13 bytes, under one notification: only their pacing tells. At 9600 baud a
 * frame takes 13.5 ms on the wire; a Bluetooth link sends one per connection event. */
static void daly_frames_told_by_pacing(void **state)
{
	uint16_t s[] = { DALY_FRAME, DALY_FRAME, DALY_FRAME };
	uint32_t wire[] = { 14, 28, 41 }, ble[] = { 20, 50, 80 };

	(void)state;
	assert_int_equal(one_reply(9600, s, wire, 3), RIG_PROBE_LINK_WIRE);
	assert_int_equal(one_reply(9600, s, ble, 3), RIG_PROBE_LINK_BLE);
}

/* One piece of one notification or less says nothing; gaps some fast, some slow neither. */
static void short_or_mixed_replies_tell_nothing(void **state)
{
	uint16_t one[] = { DALY_FRAME }, three[] = { DALY_FRAME, DALY_FRAME, DALY_FRAME };
	uint32_t t1[] = { 20 }, mixed[] = { 20, 34, 70 };

	(void)state;
	assert_int_equal(one_reply(9600, one, t1, 1), RIG_PROBE_LINK_UNKNOWN);
	assert_int_equal(one_reply(9600, three, mixed, 3), RIG_PROBE_LINK_UNKNOWN);
}

/* A cycle of several requests: a reply that tells and ones that do not make one verdict;
 * replies that disagree make none. A gap is never counted across a request. */
static void replies_of_a_cycle_add_up(void **state)
{
	struct rig_probe_watch w;

	(void)state;
	rig_probe_watch_init(&w, 9600);
	rig_probe_watch_request(&w);
	rig_probe_watch_read(&w, 15, 50);          /* JBD 0x04, 4 cells: fits one notification */
	rig_probe_watch_request(&w);
	rig_probe_watch_read(&w, 20, 1000);        /* 0x03 as the link model sends it */
	rig_probe_watch_read(&w, 16, 1030);
	assert_int_equal(rig_probe_watch_verdict(&w), RIG_PROBE_LINK_BLE);
	rig_probe_watch_request(&w);
	rig_probe_watch_read(&w, 36, 2000);        /* and then one whole: a wire? */
	assert_int_equal(rig_probe_watch_verdict(&w), RIG_PROBE_LINK_UNKNOWN);

	rig_probe_watch_init(&w, 9600);
	rig_probe_watch_request(&w);
	rig_probe_watch_read(&w, DALY_FRAME, 100);
	rig_probe_watch_request(&w);               /* 2 s later: not a slow piece of one reply */
	rig_probe_watch_read(&w, DALY_FRAME, 2100);
	assert_int_equal(rig_probe_watch_verdict(&w), RIG_PROBE_LINK_UNKNOWN);
}

/* docs/protocols/jbd.md §10.6: FF AA 15 01 RR ck, ck = (15 + 01 + RR) & 0xFF. */
static void jbd_module_answer_recognised(void **state)
{
	static const uint8_t none_set[] = { 0xFF, 0xAA, 0x15, 0x01, 0x02, 0x18 };
	static const uint8_t accepted[] = { 0xFF, 0xAA, 0x15, 0x01, 0x00, 0x16 };
	/* The 1-byte notification at connect (§10.4), a JBD reply's tail, then the answer. */
	static const uint8_t after_junk[] = { 0x00, 0xFA, 0x8D, 0x77, 0xFF, 0xFF, 0xAA, 0x15, 0x01, 0x01, 0x17 };

	(void)state;
	assert_int_equal(rig_probe_jbd_module_reply(none_set, sizeof none_set), 2);
	assert_int_equal(rig_probe_jbd_module_reply(accepted, sizeof accepted), 0);
	assert_int_equal(rig_probe_jbd_module_reply(after_junk, sizeof after_junk), 1);
}

static void jbd_module_answer_refuses_the_rest(void **state)
{
	static const uint8_t bad_sum[] = { 0xFF, 0xAA, 0x15, 0x01, 0x02, 0x19 };
	/* The password answer captured (§10.6): another command. */
	static const uint8_t password_ok[] = { 0xFF, 0xAA, 0x18, 0x01, 0x00, 0x19 };
	static const uint8_t long_len[] = { 0xFF, 0xAA, 0x15, 0x02, 0x02, 0x19 };
	uint8_t cut[5];

	(void)state;
	memcpy(cut, bad_sum, sizeof cut);
	assert_int_equal(rig_probe_jbd_module_reply(bad_sum, sizeof bad_sum), -1);
	assert_int_equal(rig_probe_jbd_module_reply(password_ok, sizeof password_ok), -1);
	assert_int_equal(rig_probe_jbd_module_reply(long_len, sizeof long_len), -1);
	assert_int_equal(rig_probe_jbd_module_reply(cut, sizeof cut), -1);
	assert_int_equal(rig_probe_jbd_module_reply(cut, 0), -1);
	/* The query itself, echoed back by a half-duplex line, is not an answer. */
	assert_int_equal(rig_probe_jbd_module_reply(rig_probe_jbd_module_query, RIG_PROBE_JBD_MODULE_QUERY_LEN), -1);
}

static const struct rig_probe_row *row_of(uint8_t proto)
{
	uint8_t k;

	for (k = 0; k < rig_probe_row_count; k++)
		if (rig_probe_rows[k].proto == proto)
			return &rig_probe_rows[k];
	return NULL;
}

/* Every protocol is tried or skipped with a reason, and every one a BMS port may speak is a
 * name some row gives; wire rows come first and Bluetooth rows wait out a connect. */
static void table_covers_every_protocol(void **state)
{
	uint8_t k, p;
	int named[FW_PROTO_COUNT] = { 0 }, seen_ble = 0;

	(void)state;
	for (k = 0; k < rig_probe_row_count; k++) {
		const struct rig_probe_row *r = &rig_probe_rows[k];

		assert_true(r->proto < FW_PROTO_COUNT && r->proto_wire < FW_PROTO_COUNT &&
		            r->proto_ble < FW_PROTO_COUNT);
		assert_null(rig_probe_skip_why(r->proto));
		assert_ptr_equal(row_of(r->proto), r);          /* one row a protocol */
		assert_true(r->tries >= 1 && r->wait_ms >= 100);
		if (r->wait_ms >= 1500)
			seen_ble = 1;
		else
			assert_false(seen_ble);
		named[r->proto_wire] = named[r->proto_ble] = 1;
	}
	for (p = 0; p < FW_PROTO_COUNT; p++)
		assert_true(named[p] || rig_probe_skip_why(p));
	assert_non_null(rig_probe_skip_why(FW_PROTO_PYLON_CAN));
	/* Bluetooth rows give a 1.5 s connect and a lost first request their time. */
	assert_true(row_of(FW_PROTO_JBD_BLE)->wait_ms * row_of(FW_PROTO_JBD_BLE)->tries >= 1500u + 2u * 300u);
	assert_true(row_of(FW_PROTO_JK_BLE)->wait_ms >= 1500u);
}

static void rows_name_by_link(void **state)
{
	const struct rig_probe_row *jbd = row_of(FW_PROTO_JBD), *jbd_ble = row_of(FW_PROTO_JBD_BLE);
	const struct rig_probe_row *daly = row_of(FW_PROTO_DALY), *jk = row_of(FW_PROTO_JK);

	(void)state;
	assert_int_equal(rig_probe_name(jbd, RIG_PROBE_LINK_WIRE, 0), FW_PROTO_JBD);
	assert_int_equal(rig_probe_name(jbd, RIG_PROBE_LINK_BLE, 0), FW_PROTO_JBD_BLE);
	assert_int_equal(rig_probe_name(jbd, RIG_PROBE_LINK_UNKNOWN, 0), FW_PROTO_JBD);
	/* The module's answer outweighs the pacing: a real module's pieces may look fast. */
	assert_int_equal(rig_probe_name(jbd, RIG_PROBE_LINK_WIRE, 1), FW_PROTO_JBD_BLE);
	/* The Bluetooth row that answered on a wire names the wire; with nothing to tell, itself. */
	assert_int_equal(rig_probe_name(jbd_ble, RIG_PROBE_LINK_WIRE, 0), FW_PROTO_JBD);
	assert_int_equal(rig_probe_name(jbd_ble, RIG_PROBE_LINK_UNKNOWN, 0), FW_PROTO_JBD_BLE);
	assert_int_equal(rig_probe_name(daly, RIG_PROBE_LINK_BLE, 0), FW_PROTO_DALY_BLE);
	assert_int_equal(rig_probe_name(daly, RIG_PROBE_LINK_WIRE, 0), FW_PROTO_DALY);
	/* Only JBD has a module to ask. */
	assert_int_equal(rig_probe_name(daly, RIG_PROBE_LINK_WIRE, 1), FW_PROTO_DALY);
	/* JK's 4E 57 protocol is wired only, whatever a reply looks like. */
	assert_int_equal(rig_probe_name(jk, RIG_PROBE_LINK_BLE, 0), FW_PROTO_JK);
	assert_int_equal(rig_probe_name(row_of(FW_PROTO_JK_BLE), RIG_PROBE_LINK_WIRE, 0), FW_PROTO_JK_BLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jbd_reply_whole_is_a_wire),
		cmocka_unit_test(jbd_reply_in_paced_notifications_is_bluetooth),
		cmocka_unit_test(jbd_reply_cut_at_20_bytes_is_bluetooth_however_fast),
		cmocka_unit_test(jbd_reply_at_line_pace_is_a_wire),
		cmocka_unit_test(daly_frames_told_by_pacing),
		cmocka_unit_test(short_or_mixed_replies_tell_nothing),
		cmocka_unit_test(replies_of_a_cycle_add_up),
		cmocka_unit_test(jbd_module_answer_recognised),
		cmocka_unit_test(jbd_module_answer_refuses_the_rest),
		cmocka_unit_test(table_covers_every_protocol),
		cmocka_unit_test(rows_name_by_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
