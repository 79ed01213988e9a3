/* The bridge (firmware/core/bridge.c) in lockstep: emulated packs on fake lines (JBD packs
 * answering with the core's codec, a Deye RS485 bus answered by a per-pack inverter port),
 * the bridge in the middle, and the core's inverter-side clients reading what it announces,
 * as an inverter would. Defaults: 16S LFP packs of 100 Ah, 50 A a pack, CVL 3550 mV a cell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/bridge.h"
#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/pylon_can_client.h"
#include "bmsrig/core/pylon_rs485_client.h"
#include "bmsrig/core/telemetry.h"

#define DK(c) ((uint16_t)((int)PACK_DK_ZERO_C + (c) * 10))

/* One direction of a line: bytes written wait here until read. */
struct pipe {
	uint8_t buf[8192];
	size_t len;
};

static void pipe_put(struct pipe *p, const uint8_t *b, size_t n)
{
	if (n > sizeof p->buf - p->len)
		n = sizeof p->buf - p->len;   /* a full line drops, as a UART would */
	memcpy(p->buf + p->len, b, n);
	p->len += n;
}

static size_t pipe_take(struct pipe *p, uint8_t *b, size_t cap)
{
	size_t n = p->len < cap ? p->len : cap;

	memcpy(b, p->buf, n);
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
	return n;
}

/* A two-way line: end A writes into ab and reads ba, end B the other way. */
struct line {
	struct pipe ab, ba;
};

static int32_t a_write(void *ctx, const uint8_t *p, uint16_t n) { pipe_put(&((struct line *)ctx)->ab, p, n); return n; }
static int32_t a_read(void *ctx, uint8_t *p, uint16_t cap) { return (int32_t)pipe_take(&((struct line *)ctx)->ba, p, cap); }
static int32_t b_write(void *ctx, const uint8_t *p, uint16_t n) { pipe_put(&((struct line *)ctx)->ba, p, n); return n; }
static int32_t b_read(void *ctx, uint8_t *p, uint16_t cap) { return (int32_t)pipe_take(&((struct line *)ctx)->ab, p, cap); }
static struct rig_io end_a(struct line *l) { struct rig_io io = { l, a_write, a_read }; return io; }
static struct rig_io end_b(struct line *l) { struct rig_io io = { l, b_write, b_read }; return io; }

/* A JBD pack: answers 0x03 and 0x04 on its line while alive. */
struct jbd_pack {
	struct line line;            /* A: the bridge's link, B: the pack */
	struct jbd_rx rx;
	uint16_t cell_mV, temp_dK;
	uint8_t soc_pct;
	uint8_t alive;
	unsigned polls;
};

static void jbd_pack_init(struct jbd_pack *k, uint16_t cell_mV, uint8_t soc_pct)
{
	memset(k, 0, sizeof *k);
	rig_jbd_rx_init(&k->rx, 200);
	k->cell_mV = cell_mV;
	k->temp_dK = DK(25);
	k->soc_pct = soc_pct;
	k->alive = 1;
}

static void jbd_pack_serve(struct jbd_pack *k, uint32_t now_ms)
{
	struct rig_io io = end_b(&k->line);
	uint8_t in[512], wire[JBD_FRAME_MAX];
	int32_t n = io.read(io.ctx, in, sizeof in);
	struct jbd_frame f, r;
	size_t len;

	if (n > 0)
		rig_jbd_rx_feed(&k->rx, in, (size_t)n, now_ms);
	while (rig_jbd_rx_next(&k->rx, &f) == RIG_OK) {
		if (!k->alive || f.kind != JBD_KIND_REQUEST)
			continue;
		if (f.reg == JBD_REG_BASIC) {
			struct jbd_basic b;

			memset(&b, 0, sizeof b);
			b.pack_mV = 16u * k->cell_mV;
			b.full_mAh = 100000;
			b.remain_mAh = 1000u * k->soc_pct;
			b.soc_pct = k->soc_pct;
			b.fet = JBD_FET_CHG_ON | JBD_FET_DSG_ON;
			b.cell_count = 16;
			b.ntc_count = 2;
			b.temp_dK[0] = b.temp_dK[1] = k->temp_dK;
			assert_int_equal(rig_jbd_basic_encode(&r, &b), RIG_OK);
		} else if (f.reg == JBD_REG_CELLS) {
			struct jbd_cells c;
			unsigned i;

			c.count = 16;
			for (i = 0; i < 16; i++)
				c.cell_mV[i] = k->cell_mV;
			assert_int_equal(rig_jbd_cells_encode(&r, &c), RIG_OK);
			k->polls++;
		} else {
			continue;
		}
		assert_int_equal(rig_jbd_frame_encode(&r, wire, sizeof wire, &len), RIG_OK);
		io.write(io.ctx, wire, (uint16_t)len);
	}
}

struct bench {
	struct jbd_pack pack[3];
	struct line inv;             /* A: the bridge's inverter port, B: the inverter */
	struct rig_bridge b;
	struct rig_bridge_cfg cfg;
	struct rig_bridge_hal hal;
	union {
		struct pylon_can_client can;
		struct pylon_client rs;
		struct deye_modbus_client mb;
	} c;
	struct pack_state ps;        /* what the inverter's client fills */
	char last_line[TELEMETRY_LINE_MAX];
	unsigned lines;
	uint8_t relay;
};

static void on_line(void *ctx, const char *line)
{
	struct bench *t = ctx;

	snprintf(t->last_line, sizeof t->last_line, "%s", line);
	t->lines++;
}

static void on_relay(void *ctx, uint8_t closed) { ((struct bench *)ctx)->relay = closed; }

/* Three JBD packs on three links at 50, 60 and 70 %, the inverter port speaking inv_proto. */
static void bench_start(struct bench *t, uint8_t inv_proto)
{
	struct client_cfg inv_cfg = CLIENT_CFG_DEFAULT;
	unsigned i;

	memset(t, 0, sizeof *t);
	rig_bridge_cfg_defaults(&t->cfg, RIG_AGG_CHEM_LFP, 16);
	t->cfg.agg.stale_ms = 3000;
	t->cfg.agg.comm_alarm_ms = 6000;
	t->cfg.link_count = 3;
	for (i = 0; i < 3; i++) {
		jbd_pack_init(&t->pack[i], 3300, (uint8_t)(50 + 10 * i));
		t->cfg.link[i].proto = FW_PROTO_JBD;
		t->cfg.link[i].design_mAh = 100000;
		t->hal.bms[i] = end_a(&t->pack[i].line);
	}
	t->cfg.inverter = 1;
	t->cfg.inv.proto = inv_proto;
	t->hal.inverter = end_a(&t->inv);
	t->hal.ctx = t;
	t->hal.telemetry = on_line;
	t->hal.set_relay = on_relay;
	assert_int_equal(rig_bridge_init(&t->b, &t->hal, &t->cfg, 0), RIG_OK);
	inv_cfg.timeout_ms = 1500;
	if (inv_proto == RIG_INV_PYLON_CAN)
		rig_pylon_can_client_init(&t->c.can, &inv_cfg, end_b(&t->inv), &t->ps);
	else if (inv_proto == RIG_INV_PYLON_RS485)
		rig_pylon_client_init(&t->c.rs, &inv_cfg, end_b(&t->inv), &t->ps);
	else
		rig_deye_modbus_client_init(&t->c.mb, &inv_cfg, end_b(&t->inv), &t->ps);
}

/* Lockstep in 10 ms steps over [from, to]: packs, bridge, inverter. */
static void run(struct bench *t, uint32_t from, uint32_t to)
{
	for (uint32_t ms = from; ms <= to; ms += 10) {
		for (unsigned i = 0; i < 3; i++)
			jbd_pack_serve(&t->pack[i], ms);
		rig_bridge_step(&t->b, ms);
		if (t->cfg.inv.proto == RIG_INV_PYLON_CAN)
			rig_pylon_can_client_step(&t->c.can, ms);
		else if (t->cfg.inv.proto == RIG_INV_PYLON_RS485)
			rig_pylon_client_step(&t->c.rs, ms);
		else
			rig_deye_modbus_client_step(&t->c.mb, ms);
	}
}

/* What the inverter decoded last over CAN, and that it is recent. */
static struct rig_inv_battery heard_can(struct bench *t, uint32_t now_ms)
{
	struct rig_inv_battery r;
	uint32_t at_ms;

	assert_true(rig_pylon_can_client_last(&t->c.can, &r, &at_ms));
	assert_true(now_ms - at_ms <= 1500u);
	return r;
}

static void three_packs_announced_over_can(void **state)
{
	static struct bench t;
	struct rig_inv_battery r;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	run(&t, 0, 4000);
	r = heard_can(&t, 4000);
	assert_int_equal(r.module_count, 3);
	assert_int_equal(r.cvl_mV, 16u * 3550u);           /* 56.8 V */
	assert_int_equal(r.ccl_mA, 150000);                /* three packs of 50 A */
	assert_int_equal(r.dcl_mA, 150000);
	assert_int_equal(r.soc_pct, 60);                   /* 50, 60, 70 % of equal packs */
	assert_int_equal(r.alarm, 0);
	assert_true(t.relay);
	/* Each pack was polled about once a second on its own link. */
	for (unsigned i = 0; i < 3; i++)
		assert_in_range(t.pack[i].polls, 4, 5);
	/* The line carries the aggregated battery and what was announced. */
	assert_in_range(t.lines, 4, 6);
	assert_non_null(strstr(t.last_line, "\"proto\":\"jbd\",\"ok\":1,\"pack_mv\":52800,"));
	assert_non_null(strstr(t.last_line, ",\"soc_pct\":60,\"cells_mv\":[],\"temps_dk\":[],"));
	assert_non_null(strstr(t.last_line, "\"relay\":1,\"comm_fail\":0,\"why\":0,\"inv\":{\"cvl_mv\":56800,"
	                                    "\"ccl_ma\":150000,\"dcl_ma\":150000,\"dvl_mv\":48000,\"soc_pct\":60,"));
	assert_non_null(strstr(t.last_line, "\"alarm\":0,\"online_packs\":3,\"pack_ok\":[1,1,1],\"pack_age_ms\":["));
}

/* poll_ms 0 on lone links: the step that takes a cycle's last reply sends the next cycle's first
 * request. In 10 ms steps against packs that answer by the next step, a cycle (0x03, 0x04)
 * then takes 2 steps, not 3: about 50 cycles a second on each link, not 33. */
static void lone_links_poll_back_to_back(void **state)
{
	static struct bench t;
	unsigned i;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	for (i = 0; i < 3; i++)
		t.cfg.link[i].client.poll_ms = 0;
	assert_int_equal(rig_bridge_init(&t.b, &t.hal, &t.cfg, 0), RIG_OK);
	run(&t, 0, 990);
	for (i = 0; i < 3; i++)
		assert_in_range(t.pack[i].polls, 49, 50);
}

static void a_silent_pack_takes_its_share_out_then_alarms(void **state)
{
	static struct bench t;
	struct rig_inv_battery r;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	run(&t, 0, 3000);
	t.pack[2].alive = 0;
	run(&t, 3010, 5000);                               /* not stale yet (3 s) */
	assert_int_equal(heard_can(&t, 5000).module_count, 3);
	run(&t, 5010, 7500);                               /* stale: two packs left */
	assert_non_null(strstr(t.last_line, "\"ok\":0,"));  /* its cycle failed (retries: ~2.3 s) */
	assert_non_null(strstr(t.last_line, "\"pack_ok\":[1,1,0]"));
	assert_int_equal(t.b.pack[2].comm_fail, 1);
	r = heard_can(&t, 7500);
	assert_int_equal(r.module_count, 2);
	assert_int_equal(r.ccl_mA, 100000);
	assert_int_equal(r.soc_pct, 55);                   /* 50 and 60 % */
	assert_int_equal(r.alarm & RIG_INV_ALARM_COMM, 0);
	assert_non_null(strstr(t.last_line, "\"online_packs\":2,"));
	assert_true(t.relay);                              /* silence is not a hold */
	run(&t, 7510, 9500);                               /* silent past the 6 s alarm */
	r = heard_can(&t, 9500);
	assert_true(r.alarm & RIG_INV_ALARM_COMM);
	/* It comes back: counted again at once. */
	t.pack[2].alive = 1;
	run(&t, 9510, 12000);
	r = heard_can(&t, 12000);
	assert_int_equal(r.module_count, 3);
	assert_int_equal(r.ccl_mA, 150000);
	assert_int_equal(r.alarm & RIG_INV_ALARM_COMM, 0);
}

static void a_cell_over_the_limit_holds_the_battery(void **state)
{
	static struct bench t;
	struct rig_inv_battery r;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	run(&t, 0, 2000);
	assert_true(t.relay);
	t.pack[1].cell_mV = 3700;                          /* above the 3650 mV limit */
	{
		/* The CCL's fall to 0 goes out at once, not at the set's next 1 s turn. */
		uint32_t ms = 2010, at_ms;

		for (; ms <= 4500 && !t.b.hold; ms += 10)
			run(&t, ms, ms);
		assert_true(t.b.hold);
		run(&t, ms, ms + 20);
		assert_true(rig_pylon_can_client_last(&t.c.can, &r, &at_ms));
		assert_int_equal(r.ccl_mA, 0);
		assert_true(at_ms >= ms - 10);
		run(&t, ms + 30, 4500);
	}
	r = heard_can(&t, 4500);
	assert_int_equal(r.ccl_mA, 0);
	assert_int_equal(r.dcl_mA, 150000);                /* over-voltage: discharging still helps */
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), RIG_INV_DSG_ENABLE);
	assert_int_equal(t.b.hold, POLICY_CELL_HIGH);
	assert_false(t.relay);
	assert_non_null(strstr(t.last_line, "\"relay\":0,\"comm_fail\":0,\"why\":1,"));
	/* Back under the limit by the hysteresis: released. */
	t.pack[1].cell_mV = 3400;
	run(&t, 4510, 7000);
	r = heard_can(&t, 7000);
	assert_int_equal(r.ccl_mA, 150000);
	assert_true(t.relay);
}

/* The policy's reasons each hold the direction that makes them worse (the aggregator's own
 * rules would not: a pack's DCL falls only at 2500 mV, the policy's limit is below that too). */
static void a_low_cell_holds_discharging_only(void **state)
{
	static struct bench t;
	struct rig_inv_battery r;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	t.b.cfg.policy.cell_min_mV = 3000;                 /* a stricter policy than the BMS's */
	for (unsigned i = 0; i < 3; i++)
		rig_policy_init(&t.b.pack[i].policy, &t.b.cfg.policy);
	run(&t, 0, 2000);
	t.pack[2].cell_mV = 2950;
	run(&t, 2010, 4500);
	r = heard_can(&t, 4500);
	assert_int_equal(t.b.hold, POLICY_CELL_LOW);
	assert_int_equal(r.dcl_mA, 0);
	assert_true(r.ccl_mA > 0);
	assert_int_equal(r.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), RIG_INV_CHG_ENABLE);
}

static void policy_reasons_map_to_directions(void **state)
{
	(void)state;
	assert_int_equal(rig_bridge_hold_dirs(0), 0);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_CELL_HIGH), RIG_AGG_HOLD_CHG);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_CELL_LOW), RIG_AGG_HOLD_DSG);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_TEMP_HIGH), RIG_AGG_HOLD_DSG);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_TEMP_LOW), RIG_AGG_HOLD_DSG);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_CELL_HIGH | POLICY_CELL_LOW), RIG_AGG_HOLD_ALL);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_CELL_HIGH | POLICY_TEMP_HIGH), RIG_AGG_HOLD_ALL);
	/* Neither direction's: both. */
	assert_int_equal(rig_bridge_hold_dirs(POLICY_COMM_LOST), RIG_AGG_HOLD_ALL);
	assert_int_equal(rig_bridge_hold_dirs(POLICY_NO_DATA | POLICY_CELL_LOW), RIG_AGG_HOLD_ALL);
	assert_int_equal(rig_bridge_hold_dirs(1u << 20), RIG_AGG_HOLD_ALL);
}

static void announced_over_rs485_and_deye(void **state)
{
	static struct bench t;
	static const uint8_t protos[] = { RIG_INV_PYLON_RS485, RIG_INV_DEYE_MODBUS };

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		bench_start(&t, protos[k]);
		run(&t, 0, 5000);
		assert_true(t.ps.updated_ms > 3000);          /* the inverter's client got answers */
		assert_int_equal(t.ps.soc_pct, 60);
		assert_int_equal(t.ps.pack_mV, 52800);
		assert_true(t.b.port.st.requests >= 3);
	}
	assert_int_equal(t.c.mb.inv.ccl_mA, 150000);
	assert_int_equal(t.c.mb.inv.cvl_mV, 56800);
}

/* Three Deye packs on one RS485 bus at 1, 2, 3 (played by an inverter port with per-pack
 * records): one client polls them in turn. */
static void a_bus_of_three_polled_in_turn(void **state)
{
	static struct line bus, inv;
	static struct rig_inv_port slaves;
	static struct rig_bridge b;
	static struct pylon_can_client can;
	struct rig_inv_battery rec[3], got;
	struct rig_inv_port_cfg scfg;
	struct rig_inv_port_view view;
	struct rig_bridge_cfg cfg;
	struct rig_bridge_hal hal;
	struct client_cfg icfg = CLIENT_CFG_DEFAULT;
	struct pack_state ps;
	uint32_t at_ms;

	(void)state;
	memset(&bus, 0, sizeof bus);
	memset(&inv, 0, sizeof inv);
	memset(rec, 0, sizeof rec);
	for (unsigned i = 0; i < 3; i++) {
		rec[i].pack_mV = 52800;
		rec[i].cvl_mV = 56800;
		rec[i].dvl_mV = 48000;
		rec[i].ccl_mA = 40000;
		rec[i].dcl_mA = 50000;
		rec[i].soc_pct = (uint8_t)(20 + 30 * i);       /* 20, 50, 80 % */
		rec[i].soh_pct = 100;
		rec[i].remain_mAh = 1000u * rec[i].soc_pct;
		rec[i].full_mAh = 100000;
		rec[i].cell_max_mV = rec[i].cell_min_mV = 3300;
		rec[i].temp_max_dK = rec[i].temp_min_dK = rec[i].temp_dK = DK(25);
		rec[i].module_count = 1;
		rec[i].fets = RIG_INV_FET_CHG | RIG_INV_FET_DSG;
	}
	memset(&scfg, 0, sizeof scfg);
	scfg.proto = RIG_INV_DEYE_MODBUS;
	scfg.address = 1;
	scfg.per_pack = 1;
	assert_int_equal(rig_inv_port_init(&slaves, &scfg, end_b(&bus), 0), RIG_OK);
	memset(&view, 0, sizeof view);
	view.battery = &rec[0];
	view.pack_count = 3;
	view.pack_records = rec;

	rig_bridge_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
	/* Stale and alarm times shorter than the 1 s round: a bus pack is out only after two
	 * missed rounds, so all three stay online between their reads. */
	cfg.agg.stale_ms = 500;
	cfg.agg.comm_alarm_ms = 700;
	cfg.link_count = 1;
	cfg.link[0].proto = FW_PROTO_DEYE_MODBUS;
	cfg.link[0].addr_count = 3;
	cfg.link[0].addr[0] = 1; cfg.link[0].addr[1] = 2; cfg.link[0].addr[2] = 3;
	cfg.inverter = 1;
	cfg.inv.proto = RIG_INV_PYLON_CAN;
	memset(&hal, 0, sizeof hal);
	hal.bms[0] = end_a(&bus);
	hal.inverter = end_a(&inv);
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_OK);
	assert_int_equal(b.pack_count, 3);
	icfg.timeout_ms = 1500;
	rig_pylon_can_client_init(&can, &icfg, end_b(&inv), &ps);
	for (uint32_t ms = 0; ms <= 4000; ms += 10) {
		rig_inv_port_step(&slaves, ms, &view);
		rig_bridge_step(&b, ms);
		rig_pylon_can_client_step(&can, ms);
	}
	/* Three addresses, one request each a round, a round a second. */
	assert_in_range(slaves.st.requests, 12, 15);
	assert_int_equal(slaves.st.other_address, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_in_range(b.pack[i].cycles_ok, 4, 5);
	assert_true(rig_pylon_can_client_last(&can, &got, &at_ms));
	assert_int_equal(got.module_count, 3);
	assert_int_equal(got.alarm & RIG_INV_ALARM_COMM, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_in_range(rig_agg_stale_ms(&b.agg, i), 2000, 2400);   /* two rounds of ~1 s */
	assert_int_equal(got.soc_pct, 50);
	assert_int_equal(got.ccl_mA, 120000);              /* each pack's own 40 A caps the 50 A */
	/* The Deye block has no discharge limit: the packs' 50 A, not 0 (its DCL 0 was "not said"). */
	assert_int_equal(got.dcl_mA, 150000);
	assert_int_equal(got.request & (RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE), RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE);
	/* A Deye block has two cells (the extremes); the battery still has 16 of them. */
	assert_int_equal(got.cvl_mV, 56800);
	assert_int_equal(got.dvl_mV, 48000);
}

static void init_refuses_what_does_not_fit(void **state)
{
	static struct rig_bridge b;
	struct rig_bridge_cfg cfg;
	struct rig_bridge_hal hal;

	(void)state;
	memset(&hal, 0, sizeof hal);
	rig_bridge_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_ERR_ARG);       /* no link */
	cfg.link_count = 1;
	cfg.link[0].proto = FW_PROTO_PYLON_RS485;
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_ERR_ARG);       /* 6 KB client */
	cfg.link[0].proto = FW_PROTO_DALY;
	cfg.link[0].addr_count = 15;
	cfg.link_count = 2;
	cfg.link[1].proto = FW_PROTO_JBD;
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_ERR_ARG);       /* 16 packs */
	cfg.link_count = 1;
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_OK);
	assert_int_equal(b.pack_count, 15);
	cfg.inverter = 1;
	cfg.inv.proto = RIG_INV_DEYE_MODBUS;
	cfg.inv.address = 0x20;
	assert_int_equal(rig_bridge_init(&b, &hal, &cfg, 0), RIG_ERR_ARG);       /* the port's */
	assert_int_equal(rig_bridge_pack_age_ms(&b, 15, 0), 0xFFFFFFFFu);
}

/* A link from a monitor's flags: the protocol's timeout when none is given, the given one
 * otherwise; no address (the protocol's), one (a lone BMS there) or several (a bus); more than
 * fifteen cut to fifteen. */
static void a_link_from_the_flags(void **state)
{
	static const uint8_t addrs[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct client_cfg timing = CLIENT_CFG_DEFAULT;
	struct rig_bridge_link_cfg lc;

	(void)state;
	memset(&lc, 0xA5, sizeof lc);
	timing.poll_ms = 2000;
	timing.timeout_ms = 0;
	timing.retries = 1;
	rig_bridge_link_set(&lc, FW_PROTO_DALY, &timing, addrs, 0);
	assert_int_equal(lc.proto, FW_PROTO_DALY);
	assert_int_equal(lc.client.poll_ms, 2000);
	assert_int_equal(lc.client.timeout_ms, rig_fw_protos[FW_PROTO_DALY].timeout_ms);
	assert_true(lc.client.timeout_ms > 0);
	assert_int_equal(lc.client.retries, 1);
	assert_int_equal(lc.client.address, 0);
	assert_int_equal(lc.addr_count, 0);
	timing.timeout_ms = 300;
	rig_bridge_link_set(&lc, FW_PROTO_DALY, &timing, addrs + 4, 1);
	assert_int_equal(lc.client.timeout_ms, 300);
	assert_int_equal(lc.client.address, 5);
	assert_int_equal(lc.addr_count, 0);
	rig_bridge_link_set(&lc, FW_PROTO_JBD, &timing, addrs, 3);
	assert_int_equal(lc.proto, FW_PROTO_JBD);
	assert_int_equal(lc.client.address, 1);
	assert_int_equal(lc.addr_count, 3);
	assert_memory_equal(lc.addr, addrs, 3);
	rig_bridge_link_set(&lc, FW_PROTO_DALY, &timing, addrs, 16);
	assert_int_equal(lc.addr_count, 15);
	assert_int_equal(lc.addr[14], 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_packs_announced_over_can),
		cmocka_unit_test(lone_links_poll_back_to_back),
		cmocka_unit_test(a_silent_pack_takes_its_share_out_then_alarms),
		cmocka_unit_test(a_cell_over_the_limit_holds_the_battery),
		cmocka_unit_test(a_low_cell_holds_discharging_only),
		cmocka_unit_test(policy_reasons_map_to_directions),
		cmocka_unit_test(announced_over_rs485_and_deye),
		cmocka_unit_test(a_bus_of_three_polled_in_turn),
		cmocka_unit_test(init_refuses_what_does_not_fit),
		cmocka_unit_test(a_link_from_the_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
