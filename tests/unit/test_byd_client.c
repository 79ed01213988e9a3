/*
 * The BYD PRO 2.5 poller, two ways:
 *  - against scripted replies (the hand-built record of tests/vectors/byd.json: no capture is
 *    public): the request bytes, a whole cycle, a reply from another pack, our echo, an error
 *    result, an implausible record, a lost reply and its resends, FET requests dropped;
 *  - against two BYD personalities on one bus (addresses 1 and 2): the client at each address
 *    reads its own pack and never the other's.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/byd_client.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/byd_personality.h"
#include "bmsrig/sim/model.h"
#include "client_rig.h"

CLIENT_RIG(byd);

static const char REQ_1[] = "01 00 04 01 03 55 AA 07";
static const char REQ_2[] = "02 00 04 01 03 55 AA 07";
/* byd_read_16s_discharging_handmade; the same record from address 2 (sum unchanged: the
 * address is outside it). */
#define RECORD_HEX \
	"65018355AA0080CF00006CCF0000F80CF80CF80CF80CEE0CF80CF80CF80CF80CF80CF80CF80CF80CF80C" \
	"F80CFD0CCCCFFFFF18001900190018001A001700FEFF1F000000000000000000000000000000000000800000" \
	"02003700620000007B00000039300000F4"
static const char REPLY_1[] = "0100" RECORD_HEX;
static const char REPLY_2[] = "0200" RECORD_HEX;
/* A refusal: result 02, no record (size 5). */
static const char ERROR_1[] = "01 00 05 01 83 55 AA 02 8A";

static struct rig *rig_new(uint8_t address)
{
	static struct rig r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;

	cfg.address = address;
	return CLIENT_RIG_START(&r, &rig_byd_client_ops, &cfg);
}

static void one_cycle_reads_the_record(void **state)
{
	struct rig *r = rig_new(0);

	(void)state;
	assert_int_equal(rig_byd_client_step(&r->c, 0), CLIENT_BUSY);
	assert_sent(r, REQ_1);                           /* address 0 = the default 1 */
	fake_io_queue_hex(&r->io, REPLY_1);
	assert_int_equal(rig_byd_client_step(&r->c, 120), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 53120);
	assert_int_equal(r->ps.current_mA, -12340);
	assert_int_equal(r->ps.soc_pct, 55);
	assert_int_equal(r->ps.cell_count, 16);
	assert_int_equal(r->ps.cell_mV[15], 3325);
	assert_int_equal(r->ps.temp_count, 8);
	assert_int_equal(r->ps.temp_dK[7], 3041);
	assert_int_equal(r->ps.bal_mask, 0x8000);
	assert_int_equal(r->ps.cycles, 123);
	assert_int_equal(r->ps.updated_ms, 120);
	assert_int_equal(r->c.eng.stats.requests, 1);
	assert_int_equal(r->c.eng.stats.rejected, 0);
	assert_string_equal(rig_byd_client_ops.name, "byd");
	assert_int_equal(rig_byd_client_ops.baud, 9600);
	/* The next cycle polls again after poll_ms. */
	assert_int_equal(rig_byd_client_step(&r->c, 500), CLIENT_BUSY);
	assert_int_equal(r->io.tx_len, 0);
	assert_int_equal(rig_byd_client_step(&r->c, 1000), CLIENT_BUSY);
	assert_sent(r, REQ_1);
}

static void other_packs_and_echoes_are_waited_past(void **state)
{
	struct rig *r = rig_new(2);

	(void)state;
	assert_int_equal(rig_byd_client_step(&r->c, 0), CLIENT_BUSY);
	assert_sent(r, REQ_2);
	fake_io_queue_hex(&r->io, REQ_2);                /* our request, echoed by the adapter */
	fake_io_queue_hex(&r->io, REPLY_1);              /* pack 1 answering someone else */
	assert_int_equal(rig_byd_client_step(&r->c, 60), CLIENT_BUSY);
	assert_int_equal(r->c.eng.stats.rejected, 1);    /* the echo */
	fake_io_queue_hex(&r->io, REPLY_2);
	assert_int_equal(rig_byd_client_step(&r->c, 150), CLIENT_CYCLE_OK);
	assert_int_equal(r->ps.pack_mV, 53120);
	assert_int_equal(r->c.eng.stats.requests, 1);
}

static void error_result_fails_the_cycle(void **state)
{
	struct rig *r = rig_new(1);

	(void)state;
	rig_byd_client_step(&r->c, 0);
	assert_sent(r, REQ_1);
	fake_io_queue_hex(&r->io, ERROR_1);
	assert_int_equal(rig_byd_client_step(&r->c, 60), CLIENT_CYCLE_FAIL);
	assert_int_equal(r->c.eng.stats.error_replies, 1);
	assert_int_equal(r->c.eng.stats.comm_fail, 1);
	assert_int_equal(r->ps.pack_mV, 0);
}

static void implausible_record_is_rejected_then_resent(void **state)
{
	struct rig *r = rig_new(1);
	uint8_t w[BYD_FRAME_MAX];
	size_t n = hex_to_bytes(REPLY_1, w, sizeof w);

	(void)state;
	/* SOC 0x37 -> 0x97 = 151 %, sum fixed up: a frame that passes its checks but no pack sends. */
	w[8 + 82] = 0x97;
	w[n - 1] = (uint8_t)(w[n - 1] + 0x60);
	rig_byd_client_step(&r->c, 0);
	assert_sent(r, REQ_1);
	fake_io_queue(&r->io, w, n);
	assert_int_equal(rig_byd_client_step(&r->c, 60), CLIENT_BUSY);
	assert_int_equal(r->c.eng.stats.rejected, 1);
	assert_int_equal(r->ps.soc_pct, 0);
	/* Handled as a lost reply: the first resend goes at once. */
	rig_byd_client_step(&r->c, 61);
	assert_sent(r, REQ_1);
	assert_int_equal(r->c.eng.stats.resends, 1);
}

static void silence_fails_after_the_retries(void **state)
{
	struct rig *r = rig_new(1);
	enum client_event ev = CLIENT_BUSY;
	uint32_t t;

	(void)state;
	for (t = 0; t < 5000 && ev == CLIENT_BUSY; t += 10)
		ev = rig_byd_client_step(&r->c, t);
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(r->c.eng.stats.requests, 4);     /* 1 + 3 retries */
	assert_int_equal(r->c.eng.stats.timeouts, 4);
	assert_int_equal(r->c.eng.stats.cycles_failed, 1);
}

static void fet_requests_are_dropped(void **state)
{
	struct rig *r = rig_new(1);

	(void)state;
	rig_byd_client_set_fets(&r->c, 0, 0);
	assert_int_not_equal(r->c.eng.fets.pending, 0);
	rig_byd_client_step(&r->c, 0);
	assert_sent(r, REQ_1);                           /* only the read: nothing writes */
	assert_int_equal(r->c.eng.fets.pending, 0);
}

/* ---- two personalities on one bus ----------------------------------------------------------- */

struct unit {
	alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
	struct model m;
	struct bms b;
	struct reply_sink sink;
};

struct bus {
	struct unit u[2];
	struct fake_io line;               /* what the packs sent, for the client to read */
};

static void bus_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	(void)delay_ms;
	assert_int_equal(parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	fake_io_queue(ctx, wire, n);
}

static int32_t bus_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct bus *b = ctx;

	for (unsigned i = 0; i < 2; i++)
		byd_personality_ops.rx(b->u[i].state, p, n, 0, &b->u[i].sink);
	return n;
}

static int32_t bus_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct bus *b = ctx;
	struct rig_io io = fake_io_stream(&b->line);

	return io.read(io.ctx, p, cap);
}

static void each_address_reads_its_own_pack(void **state)
{
	static struct bus bus;
	struct model_cfg mc;

	(void)state;
	memset(&bus, 0, sizeof bus);
	for (unsigned i = 0; i < 2; i++) {
		struct unit *u = &bus.u[i];

		model_cfg_defaults(&mc);
		mc.cells = (uint8_t)(i ? 15 : 16);
		mc.soc_pct = i ? 30 : 90;
		assert_int_equal(model_init(&u->m, &mc), RIG_OK);
		assert_int_equal(bms_init(&u->b, &u->m), RIG_OK);
		bms_step(&u->b, &u->m, 0.1, i ? -20.0 : 5.0);
		assert_int_equal(byd_personality_ops.init(u->state, &u->b, (uint8_t)(i + 1)), RIG_OK);
		u->sink = (struct reply_sink){ &bus.line, bus_send, NULL };
	}
	for (unsigned i = 0; i < 2; i++) {
		struct byd_client c;
		struct pack_state ps;
		struct client_cfg cfg = CLIENT_CFG_DEFAULT;
		struct rig_io io = { &bus, bus_write, bus_read };
		struct bms_view v;

		cfg.address = (uint8_t)(i + 1);
		rig_byd_client_init(&c, &cfg, io, &ps);
		assert_int_equal(rig_byd_client_step(&c, 0), CLIENT_BUSY);
		assert_int_equal(rig_byd_client_step(&c, 100), CLIENT_CYCLE_OK);
		bms_view(&bus.u[i].b, &v);
		assert_int_equal(ps.cell_count, v.cell_count);
		assert_memory_equal(ps.cell_mV, v.cell_mV, v.cell_count * sizeof v.cell_mV[0]);
		assert_int_equal(ps.pack_mV, v.pack_mV);
		assert_int_equal(ps.current_mA, v.current_mA);
		assert_int_equal(ps.soc_pct, v.soc_pct);
		assert_int_equal(c.eng.stats.rejected, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_cycle_reads_the_record),
		cmocka_unit_test(other_packs_and_echoes_are_waited_past),
		cmocka_unit_test(error_result_fails_the_cycle),
		cmocka_unit_test(implausible_record_is_rejected_then_resent),
		cmocka_unit_test(silence_fails_after_the_retries),
		cmocka_unit_test(fet_requests_are_dropped),
		cmocka_unit_test(each_address_reads_its_own_pack),
	};

	return cmocka_run_group_tests_name("byd_client", tests, NULL, NULL);
}
