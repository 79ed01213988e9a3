/* The emulator behind a Bluetooth link (sim.c with link.c): a connection's subscription ends
 * with it, and the frame log holds only what crossed, with a report for each frame the link
 * lost. A jk-ble BMS on the in-process line, on a virtual clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/transport_mem.h"

struct line {
	struct host_loop *loop;
	struct sim_mem *mem;
	struct sim *sim;
	struct rig_io io;
	unsigned tx_frames, rx_frames, tx_dropped;
	char why[80];
};

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct line *l = ctx;

	(void)unit;
	(void)wire;
	(void)n;
	if (dir == PERS_TX)
		l->tx_frames++;
	else
		l->rx_frames++;
}

static void on_drop(void *ctx, unsigned unit, enum personality_dir dir, size_t n, const char *why)
{
	struct line *l = ctx;

	(void)unit;
	assert_true(n > 0);
	if (dir == PERS_TX)
		l->tx_dropped++;
	strncpy(l->why, why, sizeof l->why - 1);
}

/* jk-ble with a link that connects at once and loses no first request, so the test is about
 * what a connection carries, not how it starts. */
static void line_open(struct line *l)
{
	static const char *const set[][2] = {
		{ "kind", "jk-ble" }, { "ble.connect_ms", "0" }, { "ble.drop_first", "0" },
	};
	struct bms_spec spec;
	struct sim_cfg cfg;
	char err[256];
	size_t i;

	memset(l, 0, sizeof *l);
	spec_defaults(&spec);
	for (i = 0; i < sizeof set / sizeof set[0]; i++)
		assert_int_equal(spec_set(&spec, set[i][0], set[i][1], err, sizeof err), RIG_OK);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	l->loop = host_loop_new_virtual();
	assert_non_null(l->loop);
	host_loop_pause(l->loop, 1);
	assert_int_equal(sim_mem_new(&l->mem), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.transport = sim_mem_emulator(l->mem);
	if (sim_open(&l->sim, l->loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	assert_int_equal(sim_link(l->sim)->cfg.kind, LINK_BLE);
	sim_mem_attach(l->mem, l->loop, l->sim);
	l->io = sim_mem_client(l->mem);
	sim_on_frame(l->sim, on_frame, l);
	sim_on_drop(l->sim, on_drop, l);
}

static void line_close(struct line *l)
{
	sim_close(l->sim);
	sim_mem_free(l->mem);
	host_loop_free(l->loop);
}

static void send_cmd(struct line *l, const struct jk_ble_cmd *c)
{
	uint8_t wire[JK_BLE_CMD_LEN];

	rig_jk_ble_cmd_encode(c, wire);
	assert_int_equal(l->io.write(l->io.ctx, wire, sizeof wire), (int32_t)sizeof wire);
}

static void ask(struct line *l, uint8_t reg)
{
	struct jk_ble_cmd c;

	rig_jk_ble_cmd_read(&c, reg);
	send_cmd(l, &c);
}

/* Steps ms, reading everything that arrives; returns the records of type seen (55 AA EB 90 type). */
static unsigned records(struct line *l, uint32_t ms, uint8_t type)
{
	static uint8_t got[65536];
	size_t n = 0, i;
	unsigned count = 0;
	uint32_t t;

	for (t = 0; t < ms; t += 50) {
		int32_t k;

		assert_int_equal(host_loop_step(l->loop, 50), RIG_OK);
		while (n < sizeof got && (k = l->io.read(l->io.ctx, got + n, (uint16_t)(sizeof got - n > 4096 ? 4096 : sizeof got - n))) > 0)
			n += (size_t)k;
	}
	for (i = 0; i + 5 <= n; i++)
		if (got[i] == 0x55 && got[i + 1] == 0xAA && got[i + 2] == 0xEB && got[i + 3] == 0x90 && got[i + 4] == type)
			count++;
	return count;
}

static void a_new_connection_starts_unsubscribed(void **state)
{
	struct line l;
	struct jk_ble_cmd c;

	(void)state;
	line_open(&l);
	ask(&l, JK_BLE_REG_CELL_INFO);
	assert_true(records(&l, 2000, JK_BLE_REC_CELLS) >= 2);   /* subscribed: pushed about 2 Hz */
	sim_ble_drop(l.sim, 0);
	(void)records(&l, 2000, JK_BLE_REC_CELLS);
	/* A new central switches the balancer on: it never subscribed to anything (0x97 would
	 * end a stream anyway, so it is not the question asked here). */
	assert_int_equal(rig_jk_ble_cmd_write(&c, JK_BLE_REG_BAL_SWITCH, 4, 1), RIG_OK);
	send_cmd(&l, &c);
	assert_int_equal(records(&l, 3000, JK_BLE_REC_CELLS), 0);
	line_close(&l);
}

static void the_log_shows_what_crossed_and_what_was_dropped(void **state)
{
	struct line l;

	(void)state;
	line_open(&l);
	/* The answer is built after the BMS's 40 ms latency; the link drops before it leaves. */
	ask(&l, JK_BLE_REG_DEVICE_INFO);
	assert_int_equal(host_loop_step(l.loop, 10), RIG_OK);
	assert_int_equal(l.rx_frames, 1);
	sim_ble_drop(l.sim, 0);
	assert_int_equal(records(&l, 1000, JK_BLE_REC_DEVICE), 0);
	assert_int_equal(l.tx_frames, 0);                 /* the record and its ack never crossed */
	assert_int_equal(l.tx_dropped, 2);
	assert_string_equal(l.why, "not connected");
	/* Connected again, the answer crosses and is logged as it does. */
	ask(&l, JK_BLE_REG_DEVICE_INFO);
	assert_int_equal(records(&l, 1000, JK_BLE_REC_DEVICE), 1);
	assert_int_equal(l.tx_frames, 2);
	assert_int_equal(l.tx_dropped, 2);
	line_close(&l);
}

/* Three Daly boards on one RS485 bus (addresses 1-3): every unit hears a request, but it crossed
 * the wire once and is logged once (it was logged by every unit: 15 identical lines a request on
 * a bus of fifteen); only the addressed board answers. */
static void a_request_on_a_bus_is_logged_once(void **state)
{
	struct bms_spec spec;
	struct sim_cfg cfg;
	struct daly_frame f;
	struct line l;
	uint8_t wire[DALY_FRAME_LEN];
	size_t len;
	char err[256];
	unsigned i;

	(void)state;
	memset(&l, 0, sizeof l);
	spec_defaults(&spec);
	assert_int_equal(spec_set(&spec, "kind", "daly", err, sizeof err), RIG_OK);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	l.loop = host_loop_new_virtual();
	assert_non_null(l.loop);
	host_loop_pause(l.loop, 1);
	assert_int_equal(sim_mem_new(&l.mem), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	for (i = 0; i < 3; i++) {
		cfg.unit[i] = spec.unit;
		cfg.unit[i].address = (uint8_t)(i + 1);
	}
	cfg.units = 3;
	cfg.link = spec.link;
	cfg.transport = sim_mem_emulator(l.mem);
	if (sim_open(&l.sim, l.loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	sim_mem_attach(l.mem, l.loop, l.sim);
	l.io = sim_mem_client(l.mem);
	sim_on_frame(l.sim, on_frame, &l);
	sim_on_drop(l.sim, on_drop, &l);

	rig_daly_request_read(&f, rig_daly_host_for_board(2), DALY_CMD_PACK, 0);
	assert_int_equal(rig_daly_frame_encode(&f, wire, sizeof wire, &len), RIG_OK);
	assert_int_equal(l.io.write(l.io.ctx, wire, (uint16_t)len), (int32_t)len);
	for (i = 0; i < 10; i++)
		assert_int_equal(host_loop_step(l.loop, 50), RIG_OK);
	assert_int_equal(l.rx_frames, 1);
	assert_int_equal(l.tx_frames, 1);                 /* board 2's answer, no one else's */
	line_close(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_connection_starts_unsubscribed),
		cmocka_unit_test(the_log_shows_what_crossed_and_what_was_dropped),
		cmocka_unit_test(a_request_on_a_bus_is_logged_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
