/*
 * The Thornwave client against scripted bytes: the public captures of tests/vectors/thornwave.json
 * cut into the ATT pieces a long read returns at the default MTU (22 + 22 + 8 value bytes), in
 * small notifications and between stray bytes; the exact requests it sends; a lost piece resent;
 * an ATT error; a value whose float is no number; the mapping into the pack_state. The newer
 * firmware's stream: the CCCD write, the public monitor read cut into three notifications, a
 * lost notification, a stalled stream subscribed again, a notification whose tail was lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/thornwave_client.h"
#include "client_rig.h"

/* thornwave_legacy_mkj_readme_2020, in its three ATT responses. */
static const char A_READ[] = "0B E0FF0FC651A65B4102B94D415B204440194728422DED";
static const char A_BLOB22[] = "0D D741D2D2020000000000FA1F00000000000031702300";
static const char A_BLOB44[] = "0D A9D20A0E91DC6842";
/* thornwave_legacy_seed_v02_2021: below 0 degC, negative meters. */
static const char C_READ[] = "0B E0FF0FC83B585C41D73B5C418AB1903DE214793F42D7";
static const char C_BLOB22[] = "0D CFC04C6BFBFFFFFFFFFF93A7FFFFFFFFFFFF0E538500";
static const char C_BLOB44[] = "0D 20CE6E106985C441";

/* thornwave_x_mkj_v06_monitor (0x00 + COBS + 0x00, 54 bytes) in the notifications of handle
 * 0x0010 that carry it at the default MTU: 20 + 20 + 14 value bytes. */
static const char X_N1[] = "1B 1000 0008310223BB78AD6301010125406B5741175257";
static const char X_N2[] = "1B 1000 417312D8BE04D2B5C08FFEFFFFFFFFFFFFA5ECFF";
static const char X_N3[] = "1B 1000 FFFFFFFFFF87DD954001010101 00";
static const char SUBSCRIBE[] = "12 1100 0100";

CLIENT_RIG(thornwave);

static int setup(void **state)
{
	static struct rig r;

	*state = CLIENT_RIG_START(&r, &rig_thornwave_client_ops, NULL);  /* poll 1000, timeout 500, 3 retries */
	return 0;
}

/* One request sent at t, answered with reply; returns the step's event. */
static enum client_event answer(struct rig *r, uint32_t t, const char *want_sent, const char *reply)
{
	assert_sent(r, want_sent);
	fake_io_queue_hex(&r->io, reply);
	return rig_thornwave_client_step(&r->c, t);
}

static void reads_the_value_in_three_pieces(void **state)
{
	struct rig *r = *state;

	assert_int_equal(rig_thornwave_client_step(&r->c, 0), CLIENT_BUSY);
	assert_int_equal(answer(r, 40, "0A1500", A_READ), CLIENT_BUSY);
	assert_int_equal(answer(r, 80, "0C15001600", A_BLOB22), CLIENT_BUSY);
	assert_int_equal(answer(r, 120, "0C15002C00", A_BLOB44), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 13728);
	assert_int_equal(r->ps.current_mA, 3064);
	assert_int_equal(r->ps.soc_pct, 99);
	assert_int_equal(r->ps.cell_count, 0);
	assert_int_equal(r->ps.temp_count, 1);
	assert_int_equal(r->ps.temp_dK[0], 2731 + 270);      /* 26.991 degC */
	assert_int_equal(r->ps.fet_chg, 0);
	assert_int_equal(r->ps.prot, 0);
	assert_int_equal(r->ps.updated_ms, 120);
	/* The rest of the value is kept for whoever wants the meters. */
	assert_int_equal(r->c.last.energy_mWh, 185042);
	assert_int_equal(r->c.last.charge_mAh, 8186);
	assert_int_equal(r->c.last.uptime_s, 2322481);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->cycles_ok, 1);
	/* The next cycle starts over with a Read Request at the poll time. */
	assert_int_equal(rig_thornwave_client_step(&r->c, 999), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_thornwave_client_step(&r->c, 1000), CLIENT_BUSY);
	assert_sent(r, "0A1500");
}

static void small_notifications_and_stray_bytes(void **state)
{
	struct rig *r = *state;

	r->io.read_max = 5;
	rig_thornwave_client_step(&r->c, 0);
	assert_sent(r, "0A1500");
	/* Bytes that start no response are skipped; the pieces come 5 bytes a read. */
	fake_io_queue_hex(&r->io, "FF 1B 00");
	fake_io_queue_hex(&r->io, C_READ);
	for (uint32_t t = 10; t < 100 && r->io.tx_len == 0; t += 10)
		rig_thornwave_client_step(&r->c, t);
	assert_sent(r, "0C15001600");
	fake_io_queue_hex(&r->io, C_BLOB22);
	for (uint32_t t = 100; t < 200 && r->io.tx_len == 0; t += 10)
		rig_thornwave_client_step(&r->c, t);
	assert_sent(r, "0C15002C00");
	fake_io_queue_hex(&r->io, C_BLOB44);
	for (uint32_t t = 200; t < 300; t += 10)
		if (rig_thornwave_client_step(&r->c, t) == CLIENT_CYCLE_OK)
			break;
	assert_int_equal(rig_thornwave_client_stats(&r->c)->cycles_ok, 1);
	assert_int_equal(r->ps.pack_mV, 13772);
	assert_int_equal(r->ps.current_mA, 71);
	assert_int_equal(r->ps.soc_pct, 100);
	assert_int_equal(r->ps.temp_dK[0], 2731 - 65);       /* -6.495 degC */
	assert_int_equal(r->c.last.energy_mWh, -300212);
	assert_int_equal(r->c.last.charge_mAh, -22637);
}

static void lost_piece_is_asked_again(void **state)
{
	struct rig *r = *state;

	rig_thornwave_client_step(&r->c, 0);
	assert_int_equal(answer(r, 40, "0A1500", A_READ), CLIENT_BUSY);
	/* The first blob's answer never comes: at the timeout the same blob goes again at once. */
	assert_sent(r, "0C15001600");
	assert_int_equal(rig_thornwave_client_step(&r->c, 539), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_thornwave_client_step(&r->c, 540), CLIENT_BUSY);
	assert_int_equal(answer(r, 560, "0C15001600", A_BLOB22), CLIENT_BUSY);
	assert_int_equal(answer(r, 600, "0C15002C00", A_BLOB44), CLIENT_CYCLE_OK);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->timeouts, 1);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->resends, 1);
	assert_int_equal(r->ps.pack_mV, 13728);
}

static void att_error_fails_the_cycle(void **state)
{
	struct rig *r = *state;

	rig_thornwave_client_step(&r->c, 0);
	/* "invalid handle": a device whose value is not at 0x0015 (newer firmware). */
	assert_int_equal(answer(r, 40, "0A1500", "01 0A 1500 01"), CLIENT_CYCLE_FAIL);
	assert_int_equal(r->ps.pack_mV, 0);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->cycles_failed, 1);
}

static void value_that_is_no_number_never_lands(void **state)
{
	struct rig *r = *state;
	char bad[sizeof A_READ];

	/* V1's float made NaN (exponent all ones): the whole value is refused. */
	strcpy(bad, A_READ);
	memcpy(bad + 3 + 8, "0000C07F", 8);
	rig_thornwave_client_step(&r->c, 0);
	assert_int_equal(answer(r, 40, "0A1500", bad), CLIENT_BUSY);
	assert_int_equal(answer(r, 80, "0C15001600", A_BLOB22), CLIENT_BUSY);
	assert_int_equal(answer(r, 120, "0C15002C00", A_BLOB44), CLIENT_BUSY);
	assert_int_equal(r->ps.pack_mV, 0);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->rejected, 1);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->cycles_ok, 0);
}

static void answer_to_another_request_is_refused(void **state)
{
	struct rig *r = *state;

	rig_thornwave_client_step(&r->c, 0);
	/* A blob response where the read response is due (a late answer of an earlier read). */
	assert_int_equal(answer(r, 40, "0A1500", A_BLOB22), CLIENT_BUSY);
	assert_int_equal(rig_thornwave_client_stats(&r->c)->rejected, 1);
	assert_int_equal(r->ps.pack_mV, 0);
}

static int setup_stream(void **state)
{
	static struct rig r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	cfg.flags = TW_CLIENT_STREAM;
	*state = CLIENT_RIG_START(&r, &rig_thornwave_client_ops, &cfg);
	return 0;
}

static void stream_subscribes_then_reads_the_capture(void **state)
{
	struct rig *r = *state;

	assert_int_equal(rig_thornwave_client_step(&r->c, 0), CLIENT_BUSY);
	assert_sent(r, SUBSCRIBE);
	fake_io_queue_hex(&r->io, "13");
	assert_int_equal(rig_thornwave_client_step(&r->c, 30), CLIENT_BUSY);
	assert_int_equal(r->c.subscribed, 1);
	fake_io_queue_hex(&r->io, X_N1);
	fake_io_queue_hex(&r->io, X_N2);
	assert_int_equal(rig_thornwave_client_step(&r->c, 60), CLIENT_BUSY);
	fake_io_queue_hex(&r->io, X_N3);
	assert_int_equal(rig_thornwave_client_step(&r->c, 90), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 13464);
	assert_int_equal(r->ps.current_mA, -422);
	assert_int_equal(r->ps.soc_pct, 0);
	assert_int_equal(r->ps.cell_count, 0);
	assert_int_equal(r->ps.temp_dK[0], 2731 + 47);      /* 4.683 degC */
	assert_int_equal(r->c.last_mon.charge_mAh, -369);
	assert_int_equal(r->c.last_mon.energy_mWh, -4955);
	assert_int_equal(r->c.frames, 1);
	/* Subscribed: the next cycle sends nothing and waits for the next frame. */
	assert_int_equal(rig_thornwave_client_step(&r->c, 1000), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
}

static void stream_lost_piece_drops_the_frame_and_stall_resubscribes(void **state)
{
	struct rig *r = *state;

	r->io.read_max = 7;
	rig_thornwave_client_step(&r->c, 0);
	assert_sent(r, SUBSCRIBE);
	fake_io_queue_hex(&r->io, "13");
	/* The middle notification is lost: the frame fails COBS or its length, nothing lands. */
	fake_io_queue_hex(&r->io, X_N1);
	fake_io_queue_hex(&r->io, X_N3);
	for (uint32_t t = 10; t < 200; t += 10)
		assert_int_equal(rig_thornwave_client_step(&r->c, t), CLIENT_BUSY);
	assert_int_equal(r->ps.pack_mV, 0);
	assert_int_equal(r->c.frames, 0);
	/* The whole next frame lands, the opening 0x00 starting it afresh. */
	fake_io_queue_hex(&r->io, X_N1);
	fake_io_queue_hex(&r->io, X_N2);
	fake_io_queue_hex(&r->io, X_N3);
	for (uint32_t t = 200; t < 400 && !r->c.frames; t += 10)
		rig_thornwave_client_step(&r->c, t);
	assert_int_equal(r->c.frames, 1);
	assert_int_equal(r->ps.pack_mV, 13464);
	/* Then silence: one push period plus the timeout after the next cycle began, it fails and
	 * subscribes again at the cycle after. */
	assert_int_equal(rig_thornwave_client_step(&r->c, 1000), CLIENT_BUSY);
	assert_int_equal(rig_thornwave_client_step(&r->c, 2499), CLIENT_BUSY);    /* 1000 + 1000 + 500 */
	assert_int_equal(rig_thornwave_client_step(&r->c, 2500), CLIENT_CYCLE_FAIL);
	assert_int_equal(r->io.tx_len, 0);
	rig_thornwave_client_step(&r->c, 2500);
	assert_sent(r, SUBSCRIBE);
}

static void stream_header_inside_a_notification_ends_it(void **state)
{
	struct thornwave_rx rx;
	uint8_t in[64], pdu[TW_ATT_PDU_MAX];
	struct tw_att a;
	size_t n;

	(void)state;
	rig_thornwave_rx_init(&rx, 200);
	/* A notification whose last 3 bytes were lost, then the next one; and another handle's. */
	n = hex_to_bytes("1B 1000 00083102 23BB78AD 6301010125 406B57 1B 1000 1111 00 1B 2000 22", in, sizeof in);
	assert_int_equal(rig_thornwave_rx_feed(&rx, in, n, 0), TW_ATT_PDU_MAX);
	assert_int_equal(rig_thornwave_rx_next_notify(&rx, pdu, &a), RIG_OK);
	assert_int_equal(a.op, TW_ATT_NOTIFY);
	assert_int_equal(a.value_len, 16);
	assert_int_equal(a.value[0], 0x00);                /* the opening 0x00 does not end it */
	assert_int_equal(rig_thornwave_rx_feed(&rx, in + TW_ATT_PDU_MAX, n - TW_ATT_PDU_MAX, 0), n - TW_ATT_PDU_MAX);
	assert_int_equal(rig_thornwave_rx_next_notify(&rx, pdu, &a), RIG_OK);
	assert_int_equal(a.value_len, 3);
	assert_int_equal(a.value[2], 0x00);
	/* 1B 20 00 is no monitor header: skipped byte by byte. */
	assert_int_equal(rig_thornwave_rx_next_notify(&rx, pdu, &a), RIG_MORE);
	assert_true(rx.b.skipped_bytes >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reads_the_value_in_three_pieces, setup),
		cmocka_unit_test_setup(small_notifications_and_stray_bytes, setup),
		cmocka_unit_test_setup(lost_piece_is_asked_again, setup),
		cmocka_unit_test_setup(att_error_fails_the_cycle, setup),
		cmocka_unit_test_setup(value_that_is_no_number_never_lands, setup),
		cmocka_unit_test_setup(answer_to_another_request_is_refused, setup),
		cmocka_unit_test_setup(stream_subscribes_then_reads_the_capture, setup_stream),
		cmocka_unit_test_setup(stream_lost_piece_drops_the_frame_and_stall_resubscribes, setup_stream),
		cmocka_unit_test(stream_header_inside_a_notification_ends_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
