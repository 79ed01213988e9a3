/*
 * The Thornwave client against scripted bytes: the public captures of tests/vectors/thornwave.json
 * cut into the ATT pieces a long read returns at the default MTU (22 + 22 + 8 value bytes), in
 * small notifications and between stray bytes; the exact requests it sends; a lost piece resent;
 * an ATT error; a value whose float is no number; the mapping into the pack_state.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reads_the_value_in_three_pieces, setup),
		cmocka_unit_test_setup(small_notifications_and_stray_bytes, setup),
		cmocka_unit_test_setup(lost_piece_is_asked_again, setup),
		cmocka_unit_test_setup(att_error_fails_the_cycle, setup),
		cmocka_unit_test_setup(value_that_is_no_number_never_lands, setup),
		cmocka_unit_test_setup(answer_to_another_request_is_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
