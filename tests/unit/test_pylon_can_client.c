/* The pylontech-can client (the inverter's side) on a scripted line: it opens the adapter, sends
 * 0x305 each cycle, takes only a whole set that starts after it as the answer, never mixes two
 * sets, fills the pack_state and keeps the last record with its time, opens the adapter again
 * after three failed cycles, and at once when the adapter refuses the keep-alive (BEL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_can_client.h"
#include "fake_io.h"

#define KEEPALIVE "t30580000000000000000\r"

/* The US5000 capture as the battery sent it (native DLCs), as slcan lines. */
static const char us5000_set[] =
	"t35181402C012C012C201\r" "t355458005E00\r" "t35667A13F2FE6B01\r"
	"t35970000000006504E\r" "t35C2C000\r" "t35E850594C4F4E202020\r";

struct bench {
	struct fake_io io;
	struct pack_state pack;
	struct pylon_can_client c;
};

static void bench_make_poll(struct bench *t, uint32_t poll_ms)
{
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	memset(t, 0, sizeof *t);
	cfg.poll_ms = poll_ms;
	cfg.timeout_ms = 1500;
	cfg.retries = 0;
	rig_pylon_can_client_init(&t->c, &cfg, fake_io_stream(&t->io), &t->pack);
}

static void bench_make(struct bench *t)
{
	bench_make_poll(t, 1000);
}

static void queue(struct bench *t, const char *text)
{
	fake_io_queue(&t->io, (const uint8_t *)text, strlen(text));
}

static void sent(struct bench *t, const char *text)
{
	assert_int_equal(t->io.tx_len, strlen(text));
	assert_memory_equal(t->io.tx, text, strlen(text));
	fake_io_clear_tx(&t->io);
}

/* Steps from `from` to `to` in 10 ms steps; the last event that was not BUSY. */
static enum client_event run(struct bench *t, uint32_t from, uint32_t to)
{
	enum client_event last = CLIENT_BUSY;

	for (uint32_t ms = from; ms <= to; ms += 10) {
		enum client_event ev = rig_pylon_can_client_step(&t->c, ms);
		if (ev != CLIENT_BUSY)
			last = ev;
	}
	return last;
}

static void test_open_keepalive_set(void **state)
{
	struct rig_inv_battery rec;
	uint32_t at = 0;
	struct bench t;

	(void)state;
	bench_make(&t);
	assert_false(rig_pylon_can_client_last(&t.c, &rec, &at));
	assert_int_equal(run(&t, 0, 100), CLIENT_BUSY);
	sent(&t, "C\rS6\rO\r" KEEPALIVE);
	/* The adapter's acknowledgements and a foreign frame pass by; the set answers. */
	queue(&t, "\r\r\rz\rt1232ABCD\r");
	queue(&t, us5000_set);
	assert_int_equal(run(&t, 110, 200), CLIENT_CYCLE_OK);
	assert_int_equal(t.pack.pack_mV, 49860);
	assert_int_equal(t.pack.current_mA, -27000);
	assert_int_equal(t.pack.soc_pct, 88);
	assert_int_equal(t.pack.temp_count, 1);
	assert_int_equal(t.pack.temp_dK[0], 2731 + 363);
	assert_int_equal(t.pack.fet_chg, 1);
	assert_int_equal(t.pack.fet_dsg, 1);
	assert_int_equal(t.pack.prot, 0);
	assert_int_equal(t.pack.cell_count, 0);
	assert_true(rig_pylon_can_client_last(&t.c, &rec, &at));
	assert_int_equal(at, 110);
	assert_int_equal(rec.cvl_mV, 53200);
	assert_int_equal(rec.dvl_mV, 45000);
	assert_int_equal(rec.module_count, 6);
	assert_string_equal(rec.manufacturer, "PYLON");
	/* The next cycle: only the keep-alive, one second after the first began. */
	assert_int_equal(run(&t, 210, 990), CLIENT_BUSY);
	assert_int_equal(t.io.tx_len, 0);
	run(&t, 1000, 1000);
	sent(&t, KEEPALIVE);
}

/* A set cut short is never completed by the next set's tail: a 0x351 starts afresh. */
static void test_sets_never_mix(void **state)
{
	struct bench t;

	(void)state;
	bench_make(&t);
	run(&t, 0, 100);
	sent(&t, "C\rS6\rO\r" KEEPALIVE);
	queue(&t, "t35181402C012C012C201\rt355458005E00\rt35667A13F2FE6B01\r");   /* 0x359.. lost */
	queue(&t, "t35182802C012C012C201\r");                                      /* CVL 55.2 V */
	queue(&t, "t35970000000006504E\rt35C2C000\rt35E850594C4F4E202020\r");
	assert_int_equal(run(&t, 110, 110), CLIENT_BUSY);                        /* incomplete */
	queue(&t, "t355458005E00\rt35667A13F2FE6B01\r");
	assert_int_equal(run(&t, 120, 200), CLIENT_CYCLE_OK);
	struct rig_inv_battery rec;
	uint32_t at;
	assert_true(rig_pylon_can_client_last(&t.c, &rec, &at));
	assert_int_equal(rec.cvl_mV, 55200);    /* the second 0x351, not the first */
}

/* No set: the cycle fails at the timeout; after three failures C, S6, O go again. Polls every
 * 2 s here so that each cycle's 1.5 s wait ends before the next begins. */
static void test_silence_and_reopen(void **state)
{
	struct bench t;
	uint32_t ms = 0;

	(void)state;
	bench_make_poll(&t, 2000);
	for (int cycle = 0; cycle < 3; cycle++, ms += 2000) {
		assert_int_equal(run(&t, ms, ms + 1990), CLIENT_CYCLE_FAIL);
		sent(&t, cycle == 0 ? "C\rS6\rO\r" KEEPALIVE : KEEPALIVE);
	}
	assert_int_equal(rig_pylon_can_client_stats(&t.c)->comm_fail, 3);
	run(&t, ms, ms + 100);
	sent(&t, "C\rS6\rO\r" KEEPALIVE);
	queue(&t, us5000_set);
	assert_int_equal(run(&t, ms + 110, ms + 200), CLIENT_CYCLE_OK);
	assert_int_equal(rig_pylon_can_client_stats(&t.c)->comm_fail, 0);
	/* set_fets has no frame to go in: nothing extra is sent. */
	rig_pylon_can_client_set_fets(&t.c, 0, 0);
	fake_io_clear_tx(&t.io);
	run(&t, ms + 2000, ms + 2000);
	sent(&t, KEEPALIVE);
}

/* The adapter answers the keep-alive with BEL (its channel closed: it restarted, or a pty
 * emptied at its open ate our O): the cycle fails at once, not at the timeout, and the next
 * cycle opens the adapter again. Acknowledgements of C, S6 and O (empty lines) are no refusal. */
static void test_refused_keepalive_reopens(void **state)
{
	struct bench t;

	(void)state;
	bench_make(&t);
	assert_int_equal(run(&t, 0, 100), CLIENT_BUSY);
	sent(&t, "C\rS6\rO\r" KEEPALIVE);
	queue(&t, "\r\r\r\a");
	assert_int_equal(run(&t, 110, 110), CLIENT_CYCLE_FAIL);
	assert_int_equal(rig_pylon_can_client_stats(&t.c)->comm_fail, 1);
	assert_int_equal(run(&t, 120, 990), CLIENT_BUSY);
	assert_int_equal(t.io.tx_len, 0);
	run(&t, 1000, 1100);
	sent(&t, "C\rS6\rO\r" KEEPALIVE);
	queue(&t, us5000_set);
	assert_int_equal(run(&t, 1110, 1200), CLIENT_CYCLE_OK);
	assert_int_equal(rig_pylon_can_client_stats(&t.c)->comm_fail, 0);
	/* Opened: the next cycle is the keep-alive alone again. */
	run(&t, 2000, 2000);
	sent(&t, KEEPALIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_keepalive_set),
		cmocka_unit_test(test_sets_never_mix),
		cmocka_unit_test(test_silence_and_reopen),
		cmocka_unit_test(test_refused_keepalive_reopens),
	};
	return cmocka_run_group_tests_name("pylon_can_client", tests, NULL, NULL);
}
