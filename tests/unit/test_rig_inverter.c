/* The rig as the inverter (hil/rig_inverter.c) against a fake device under test: a core
 * inverter port (firmware/core/inv_port.c) announcing a fixed record on an in-memory line, in
 * lockstep. The inv.* names must read what the port announced, for each protocol; NaN before
 * the first record; the age grows while the line is dead and the last record stays; a changed
 * record is seen within a cycle; the CAN keep-alive can be kept off the line (the port then
 * hears nothing and raises its silence condition while the rig still decodes every set); a
 * Deye poll to another address gets no record. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/hil/expect.h"
#include "bmsrig/hil/rig_inverter.h"
#include "fake_io.h"

struct bench {
	struct fake_io dut_io;       /* the DUT's inverter port: tx what it wrote, rx what it reads */
	struct fake_io rig_io;       /* the rig's end */
	struct rig_inv_port port;
	struct rig_inv_port_cfg pcfg;
	struct rig_inv_battery rec;
	struct rig_inv_port_view view;
	struct rig_inverter inv;
	struct rig_inverter_cfg icfg;
	int cut;                     /* 1: the line is dead, nothing crosses */
};

static void record(struct rig_inv_battery *r)
{
	memset(r, 0, sizeof *r);
	r->cvl_mV = 55200;
	r->dvl_mV = 46400;
	r->ccl_mA = 74000;
	r->dcl_mA = 99000;
	r->request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE;
	r->soc_pct = 63;
	r->soh_pct = 97;
	r->soc_cpct = 6300;
	r->pack_mV = 52300;
	r->current_mA = -12300;
	r->temp_dK = 2981;
	r->cell_max_mV = 3345;
	r->cell_min_mV = 3290;
	r->temp_max_dK = 2991;
	r->temp_min_dK = 2971;
	r->remain_mAh = 63000;
	r->full_mAh = 100000;
	r->design_mAh = 100000;
	r->module_count = 3;
	r->fets = RIG_INV_FET_CHG | RIG_INV_FET_DSG;
	memcpy(r->manufacturer, "PYLON", 6);
}

static void bench_start(struct bench *t, uint8_t proto, uint8_t port_addr, uint8_t rig_addr)
{
	memset(t, 0, sizeof *t);
	record(&t->rec);
	t->pcfg.proto = proto;
	t->pcfg.address = port_addr;
	t->view.battery = &t->rec;
	assert_int_equal(rig_inv_port_init(&t->port, &t->pcfg, fake_io_stream(&t->dut_io), 0), RIG_OK);
	rig_inverter_cfg_default(&t->icfg, proto);
	t->icfg.address = rig_addr;
}

static void rig_start(struct bench *t)
{
	assert_int_equal(rig_inverter_init(&t->inv, &t->icfg, fake_io_stream(&t->rig_io)), RIG_OK);
}

/* Each side's writes to the other's input (dropped while the line is cut); a fully read
 * input starts over so the fake's fixed buffer lasts a long run. */
static void move(struct fake_io *from, struct fake_io *to, int cut)
{
	if (to->rx_pos == to->rx_len)
		to->rx_pos = to->rx_len = 0;
	if (!cut)
		fake_io_queue(to, from->tx, from->tx_len);
	fake_io_clear_tx(from);
}

static void run(struct bench *t, uint32_t from, uint32_t to)
{
	for (uint32_t ms = from; ms <= to; ms += 10) {
		rig_inverter_step(&t->inv, ms);
		move(&t->rig_io, &t->dut_io, t->cut);
		assert_int_equal(rig_inv_port_step(&t->port, ms, &t->view), RIG_OK);
		move(&t->dut_io, &t->rig_io, t->cut);
	}
}

static double ev(const struct bench *t, uint32_t now_ms, const char *text)
{
	struct expect_env env;
	struct expr e;
	char err[128];
	unsigned col;

	memset(&env, 0, sizeof env);
	env.t_s = now_ms / 1000.0;
	rig_inverter_env(&t->inv, now_ms, &env);
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_OK);
	return expr_eval(&e, &env, 0, NULL);
}

#define EV(t, now, text, want) assert_true(fabs(ev((t), (now), (text)) - (want)) < 1e-9)
#define IS_NAN(t, now, text) assert_true(isnan(ev((t), (now), (text))))

/* What every protocol carries exactly; the tests of each say what it carries on top (Deye's
 * block has neither DVL nor DCL). */
static void reads_the_limits(const struct bench *t, uint32_t now)
{
	EV(t, now, "inv.cvl_mv", 55200);
	EV(t, now, "inv.ccl_ma", 74000);
	EV(t, now, "inv.soc_pct", 63);
	EV(t, now, "inv.request & req.chg_enable", RIG_INV_CHG_ENABLE);
	EV(t, now, "inv.request & req.dsg_enable", RIG_INV_DSG_ENABLE);
	EV(t, now, "inv.prot", 0);
	EV(t, now, "inv.alarm", 0);
}

static void before_the_first_record_inv_is_nan(struct bench *t)
{
	IS_NAN(t, 0, "inv.cvl_mv");
	IS_NAN(t, 0, "inv.age_ms");
	EV(t, 0, "inv.records", 0);
	assert_null(rig_inverter_last(&t->inv, NULL));
}

static void pylon_can_reads_what_the_port_announced(void **state)
{
	struct bench t;
	uint32_t at = 0;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN, 0, 0);
	rig_start(&t);
	before_the_first_record_inv_is_nan(&t);
	run(&t, 0, 3000);
	assert_non_null(rig_inverter_last(&t.inv, &at));
	reads_the_limits(&t, 3000);
	EV(&t, 3000, "inv.dvl_mv", 46400);
	EV(&t, 3000, "inv.dcl_ma", 99000);
	EV(&t, 3000, "inv.online_packs", 3);            /* 0x359 byte 4 */
	EV(&t, 3000, "inv.pack_mv", 52300);
	EV(&t, 3000, "inv.current_ma", -12300);
	EV(&t, 3000, "inv.soh_pct", 97);
	EV(&t, 3000, "inv.age_ms", 3000 - at);
	assert_true(3000 - at < RIG_INV_PORT_PERIOD_MS);   /* a set a second */
	assert_true(t.inv.records >= 2);
	EV(&t, 3000, "inv.records", t.inv.records);
	assert_true(t.port.st.requests >= 2);          /* the port heard the keep-alives */
	assert_int_equal(t.inv.dropped_keepalives, 0);
}

/* Keep-alive off: the DUT hears no inverter at all (its silence condition comes), the rig still
 * decodes every set, and what the DUT raises for it is what inv.alarm reads. */
static void pylon_can_keepalive_off_is_a_silent_listener(void **state)
{
	struct bench t;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN, 0, 0);
	t.pcfg.comm_alarm = 1;
	assert_int_equal(rig_inv_port_init(&t.port, &t.pcfg, fake_io_stream(&t.dut_io), 0), RIG_OK);
	t.icfg.keepalive = 0;
	rig_start(&t);
	run(&t, 0, 8000);
	assert_int_equal(t.port.st.requests, 0);
	assert_true(t.inv.dropped_keepalives >= 5);
	assert_true(rig_inv_port_comm_lost(&t.port, 8000));
	assert_true(t.inv.records >= 6);
	EV(&t, 8000, "inv.ccl_ma", 74000);
	EV(&t, 8000, "inv.alarm & alarm.comm", RIG_INV_ALARM_COMM);
	EV(&t, 8000, "inv.age_ms < 1000", 1);
}

static void pylon_rs485_reads_what_the_port_announced(void **state)
{
	struct bench t;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485, 0, 0);   /* both default to the master, 2 */
	rig_start(&t);
	before_the_first_record_inv_is_nan(&t);
	run(&t, 0, 2500);
	assert_true(t.inv.records >= 2);
	reads_the_limits(&t, 2500);
	EV(&t, 2500, "inv.dvl_mv", 46400);              /* 0x92 */
	EV(&t, 2500, "inv.dcl_ma", 99000);
	assert_true(rig_inverter_stats(&t.inv)->cycles_ok >= 2);
	assert_int_equal(rig_inverter_stats(&t.inv)->timeouts, 0);
}

static void deye_modbus_reads_what_the_port_announced(void **state)
{
	struct bench t;

	(void)state;
	bench_start(&t, RIG_INV_DEYE_MODBUS, 3, 3);
	rig_start(&t);
	before_the_first_record_inv_is_nan(&t);
	run(&t, 0, 2500);
	assert_true(t.inv.records >= 2);
	reads_the_limits(&t, 2500);
	EV(&t, 2500, "inv.online_packs", 1);            /* the Deye block speaks for one pack */
}

/* Another address: the port keeps silent, the rig gets nothing and counts its timeouts. */
static void deye_modbus_other_address_gives_no_record(void **state)
{
	struct bench t;

	(void)state;
	bench_start(&t, RIG_INV_DEYE_MODBUS, 3, 4);
	rig_start(&t);
	run(&t, 0, 3000);
	assert_int_equal(t.inv.records, 0);
	IS_NAN(&t, 3000, "inv.ccl_ma");
	assert_true(rig_inverter_stats(&t.inv)->timeouts >= 2);
	assert_true(t.port.st.other_address >= 2);
}

/* The announcement changes (charging forbidden): within a cycle inv.* follow; then the line
 * dies: the last record stays and its age grows past the silence. */
static void a_change_is_seen_and_a_dead_line_ages(void **state)
{
	static const uint8_t protos[] = { RIG_INV_PYLON_CAN, RIG_INV_PYLON_RS485, RIG_INV_DEYE_MODBUS };
	struct bench t;

	(void)state;
	for (size_t k = 0; k < sizeof protos; k++) {
		uint32_t at = 0;

		bench_start(&t, protos[k], 0, 0);
		rig_start(&t);
		run(&t, 0, 2000);
		EV(&t, 2000, "inv.ccl_ma", 74000);
		t.rec.ccl_mA = 0;
		t.rec.request = RIG_INV_DSG_ENABLE;
		run(&t, 2010, 4000);
		EV(&t, 4000, "inv.ccl_ma", 0);
		EV(&t, 4000, "inv.request & req.chg_enable", 0);
		EV(&t, 4000, "inv.age_ms < 2000", 1);
		t.cut = 1;
		run(&t, 4010, 9500);
		assert_non_null(rig_inverter_last(&t.inv, &at));
		assert_true(at <= 4010);                       /* what was on its way at the cut */
		EV(&t, 9500, "inv.ccl_ma", 0);                 /* the last record stays */
		EV(&t, 9500, "inv.age_ms > 5000", 1);
		EV(&t, 9500, "inv.age_ms", 9500 - at);
		assert_true(rig_inverter_stats(&t.inv)->timeouts >= 1);
	}
}

/* Line faults on what the DUT sends: garbage before every read still lets the records through
 * (the assemblers resync), a lost reply each time stops them, a flipped bit in each one too;
 * each fault counts its hits, and a clean line again brings the records back. */
static void faults_on_what_the_device_sends(void **state)
{
	struct wire_faults wf;
	struct bench t;
	uint32_t before;

	(void)state;
	bench_start(&t, RIG_INV_DEYE_MODBUS, 0, 0);
	rig_start(&t);
	wire_faults_init(&wf, 7);
	rig_inverter_faults(&t.inv, &wf);
	wire_faults_set(&wf, WF_GARBAGE, 1, 5);
	run(&t, 0, 3000);
	assert_true(t.inv.records >= 2);
	assert_true(wf.hits[WF_GARBAGE] >= 2);
	EV(&t, 3000, "inv.ccl_ma", 74000);
	wire_faults_clear(&wf, WF_GARBAGE);
	wire_faults_set(&wf, WF_NO_REPLY, 1, 0);
	before = t.inv.records;
	run(&t, 3010, 6000);
	assert_true(t.inv.records <= before + 1);        /* one may have been on its way */
	assert_true(wf.hits[WF_NO_REPLY] >= 2);
	EV(&t, 6000, "inv.age_ms > 2000", 1);
	wire_faults_clear(&wf, WF_NO_REPLY);
	wire_faults_set(&wf, WF_CORRUPT, 1, 0);
	before = t.inv.records;
	run(&t, 6010, 9000);
	assert_int_equal(t.inv.records, before);
	assert_true(rig_inverter_stats(&t.inv)->timeouts >= 2);
	wire_faults_clear(&wf, WF_CORRUPT);
	run(&t, 9010, 12000);
	assert_true(t.inv.records > before);
	EV(&t, 12000, "inv.age_ms < 1500", 1);
}

static void cfg_defaults_and_an_unknown_protocol(void **state)
{
	struct rig_inverter_cfg c;
	struct rig_inverter v;
	struct fake_io io;

	(void)state;
	memset(&io, 0, sizeof io);
	rig_inverter_cfg_default(&c, RIG_INV_PYLON_CAN);
	assert_int_equal(c.on, 1);
	assert_int_equal(c.keepalive, 1);
	assert_int_equal(c.poll_ms, 1000);
	assert_int_equal(c.timeout_ms, RIG_INVERTER_CAN_TIMEOUT_MS);
	rig_inverter_cfg_default(&c, RIG_INV_DEYE_MODBUS);
	assert_int_equal(c.timeout_ms, RIG_INVERTER_TIMEOUT_MS);
	c.proto = RIG_INV_PROTO_COUNT;
	assert_int_equal(rig_inverter_init(&v, &c, fake_io_stream(&io)), RIG_ERR_ARG);
	/* No inverter: inv.* read NaN, inv.records 0. */
	{
		struct expect_env env;

		memset(&env, 0, sizeof env);
		env.inv_records = 9;
		rig_inverter_env(NULL, 100, &env);
		assert_null(env.inv_dut);
		assert_int_equal(env.inv_records, 0);
		assert_true(isnan(env.inv_age_ms));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pylon_can_reads_what_the_port_announced),
		cmocka_unit_test(pylon_can_keepalive_off_is_a_silent_listener),
		cmocka_unit_test(pylon_rs485_reads_what_the_port_announced),
		cmocka_unit_test(deye_modbus_reads_what_the_port_announced),
		cmocka_unit_test(deye_modbus_other_address_gives_no_record),
		cmocka_unit_test(a_change_is_seen_and_a_dead_line_ages),
		cmocka_unit_test(faults_on_what_the_device_sends),
		cmocka_unit_test(cfg_defaults_and_an_unknown_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
