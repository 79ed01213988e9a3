/* The JBD poll machine against scripted replies taken from real captures (tests/vectors). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jbd_client.h"
#include "client_rig.h"

/* jbd_sp04s034_basic / _cells: JBD-SP04S034, 4S, 3 NTC, idle. */
static const char BASIC_4S[] = "DD03001D0618000001F201F400002C7C00000000000080640304030B8B0B8A0B84FA8D77";
static const char CELLS_4S[] = "DD0400080F450F3D0F370F3DFEC677";
static const char REQ_BASIC[] = "DDA50300FFFD77";
static const char REQ_CELLS[] = "DDA50400FFFC77";

CLIENT_RIG(jbd);

static int setup(void **state)
{
	static struct rig r;

	*state = CLIENT_RIG_START(&r, &rig_jbd_client_ops, NULL);
	return 0;
}

static void complete_cycle(struct rig *r, uint32_t t)
{
	assert_int_equal(rig_jbd_client_step(&r->c, t), CLIENT_BUSY);
	assert_sent(r, REQ_BASIC);
	fake_io_queue_hex(&r->io, BASIC_4S);
	assert_int_equal(rig_jbd_client_step(&r->c, t + 60), CLIENT_BUSY);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, CELLS_4S);
	assert_int_equal(rig_jbd_client_step(&r->c, t + 90), CLIENT_CYCLE_OK);
}

static void cycle_reads_basic_then_cells(void **state)
{
	struct rig *r = *state;
	static const uint16_t cells[] = { 3909, 3901, 3895, 3901 };
	static const uint16_t temps[] = { 2955, 2954, 2948 };

	r->io.read_max = 5;   /* replies arrive in pieces, docs/protocols/jbd.md §12.2 */
	complete_cycle(r, 1000);
	assert_int_equal(r->ps.pack_mV, 15600);
	assert_int_equal(r->ps.current_mA, 0);
	assert_int_equal(r->ps.soc_pct, 100);
	assert_int_equal(r->ps.cell_count, 4);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	assert_int_equal(r->ps.temp_count, 3);
	assert_memory_equal(r->ps.temp_dK, temps, sizeof temps);
	assert_int_equal(r->ps.fet_chg, 1);
	assert_int_equal(r->ps.fet_dsg, 1);
	assert_int_equal(r->ps.remain_mAh, 4980);
	assert_int_equal(r->ps.full_mAh, 5000);
	assert_int_equal(r->ps.updated_ms, 1090);
	assert_int_equal(rig_jbd_client_stats(&r->c)->cycles_ok, 1);
	assert_int_equal(rig_jbd_client_stats(&r->c)->comm_fail, 0);
	/* Nothing more until the poll period is up. */
	assert_int_equal(rig_jbd_client_step(&r->c, 1999), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_jbd_client_step(&r->c, 2000), CLIENT_BUSY);
	assert_sent(r, REQ_BASIC);
}

static void lost_first_frame_is_resent_at_once(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jbd_client_stats(&r->c);

	rig_jbd_client_step(&r->c, 0);
	assert_sent(r, REQ_BASIC);
	assert_int_equal(rig_jbd_client_step(&r->c, 499), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_jbd_client_step(&r->c, 500), CLIENT_BUSY);   /* times out, resends at once */
	assert_sent(r, REQ_BASIC);
	assert_int_equal(st->resends, 1);
	fake_io_queue_hex(&r->io, BASIC_4S);
	rig_jbd_client_step(&r->c, 560);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, CELLS_4S);
	assert_int_equal(rig_jbd_client_step(&r->c, 600), CLIENT_CYCLE_OK);
	assert_int_equal(st->timeouts, 1);
}

static void retries_back_off_then_fail_and_count(void **state)
{
	struct rig *r = *state;
	const struct client_stats *st = rig_jbd_client_stats(&r->c);
	/* timeout 500, retries 3, backoff 100: sends at 0, 500, 1100 (500+500+100), 1800 (+500+200). */
	static const uint32_t send_at[] = { 0, 500, 1100, 1800 };
	uint32_t t;
	unsigned sends = 0;
	enum client_event ev = CLIENT_BUSY;

	for (t = 0; t <= 2300 && ev == CLIENT_BUSY; t += 10) {
		ev = rig_jbd_client_step(&r->c, t);
		if (r->io.tx_len) {
			assert_true(sends < 4);
			assert_int_equal(t, send_at[sends]);
			sends++;
			assert_sent(r, REQ_BASIC);
		}
	}
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(t - 10, 2300);
	assert_int_equal(sends, 4);
	assert_int_equal(st->comm_fail, 1);
	assert_int_equal(st->ok, 0);
	/* The next cycle fails too: two in a row. Then one success clears the count. */
	for (ev = CLIENT_BUSY; ev == CLIENT_BUSY; t += 10)
		ev = rig_jbd_client_step(&r->c, t);
	assert_int_equal(st->comm_fail, 2);
	fake_io_clear_tx(&r->io);
	for (; r->io.tx_len == 0; t += 10)
		rig_jbd_client_step(&r->c, t);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, BASIC_4S);
	rig_jbd_client_step(&r->c, t);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, CELLS_4S);
	assert_int_equal(rig_jbd_client_step(&r->c, t + 10), CLIENT_CYCLE_OK);
	assert_int_equal(st->comm_fail, 0);
}

static void error_status_fails_the_cycle(void **state)
{
	struct rig *r = *state;

	rig_jbd_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, "DD 03 80 00 FF 80 77");
	assert_int_equal(rig_jbd_client_step(&r->c, 50), CLIENT_CYCLE_FAIL);
	assert_int_equal(rig_jbd_client_stats(&r->c)->error_replies, 1);
	assert_int_equal(rig_jbd_client_stats(&r->c)->comm_fail, 1);
}

static void bad_checksum_reply_is_a_lost_reply(void **state)
{
	struct rig *r = *state;
	char bad[sizeof BASIC_4S];

	memcpy(bad, BASIC_4S, sizeof bad);
	bad[sizeof bad - 5] = bad[sizeof bad - 5] == '0' ? '1' : '0';   /* low checksum byte */
	rig_jbd_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, bad);
	assert_int_equal(rig_jbd_client_step(&r->c, 50), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	rig_jbd_client_step(&r->c, 500);
	assert_sent(r, REQ_BASIC);
	assert_int_equal(r->c.rx.b.rejected_frames, 1);
}

static void stale_bytes_are_flushed_before_a_request(void **state)
{
	struct rig *r = *state;

	/* A late 0x04 reply from an earlier poll sits in the line; it must not satisfy 0x04 now. */
	fake_io_queue_hex(&r->io, CELLS_4S);
	rig_jbd_client_step(&r->c, 0);
	assert_sent(r, REQ_BASIC);
	assert_int_equal(r->io.rx_len, 0);
	fake_io_queue_hex(&r->io, BASIC_4S);
	rig_jbd_client_step(&r->c, 50);
	assert_sent(r, REQ_CELLS);
	assert_int_equal(rig_jbd_client_step(&r->c, 100), CLIENT_BUSY);
}

static void fet_request_goes_first_in_the_next_cycle(void **state)
{
	struct rig *r = *state;

	rig_jbd_client_set_fets(&r->c, 0, 1);
	rig_jbd_client_step(&r->c, 0);
	assert_sent(r, "DD5AE1020001FF1C77");       /* jbd_req_fet_chg_off, real capture */
	fake_io_queue_hex(&r->io, "DDE10000000077"); /* jbd_ack_fet */
	rig_jbd_client_step(&r->c, 40);
	assert_sent(r, REQ_BASIC);
	fake_io_queue_hex(&r->io, BASIC_4S);
	rig_jbd_client_step(&r->c, 80);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, CELLS_4S);
	assert_int_equal(rig_jbd_client_step(&r->c, 120), CLIENT_CYCLE_OK);
	/* Sent once only. */
	rig_jbd_client_step(&r->c, 1000);
	assert_sent(r, REQ_BASIC);
}

static void reply_for_another_register_is_ignored(void **state)
{
	struct rig *r = *state;

	rig_jbd_client_step(&r->c, 0);
	fake_io_clear_tx(&r->io);
	fake_io_queue_hex(&r->io, CELLS_4S);        /* wrong register for the 0x03 in flight */
	assert_int_equal(rig_jbd_client_step(&r->c, 40), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	fake_io_queue_hex(&r->io, BASIC_4S);
	rig_jbd_client_step(&r->c, 60);
	assert_sent(r, REQ_CELLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(cycle_reads_basic_then_cells, setup),
		cmocka_unit_test_setup(lost_first_frame_is_resent_at_once, setup),
		cmocka_unit_test_setup(retries_back_off_then_fail_and_count, setup),
		cmocka_unit_test_setup(error_status_fails_the_cycle, setup),
		cmocka_unit_test_setup(bad_checksum_reply_is_a_lost_reply, setup),
		cmocka_unit_test_setup(stale_bytes_are_flushed_before_a_request, setup),
		cmocka_unit_test_setup(fet_request_goes_first_in_the_next_cycle, setup),
		cmocka_unit_test_setup(reply_for_another_register_is_ignored, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
