/* The inverter port (firmware/core/inv_port.c) played against the core's own inverter-side
 * clients over a fake line in lockstep: each protocol's client decodes exactly the record the
 * port was given (compared with what the codecs make of it), the bytes on the wire are the
 * codecs' bytes, errors get their RTN or exception, other addresses get silence, and the
 * keep-alive / request age and the communication alarm follow the inverter's traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/pylon_can.h"
#include "bmsrig/core/pylon_can_client.h"
#include "bmsrig/core/pylon_rs485_client.h"
#include "fake_io.h"

struct bench {
	struct fake_io port_io;      /* the port's side: tx what it wrote, rx what it will read */
	struct fake_io cli_io;       /* the inverter's side */
	struct rig_inv_port port;
	struct rig_inv_port_cfg cfg;
	struct rig_inv_battery rec;
	struct rig_inv_port_view view;
	struct pack_state packs[3];
	struct rig_inv_battery pack_rec[3];
	struct pack_state ps;        /* what the client fills */
	union {
		struct pylon_can_client can;
		struct pylon_client rs;
		struct deye_modbus_client mb;
	} c;
	uint8_t wire[4096];          /* everything the port wrote, for byte checks */
	size_t wire_len;
};

/* Values every protocol carries exactly: 100 mV, 100 mA, 0.1 K steps. */
static void record(struct rig_inv_battery *r)
{
	memset(r, 0, sizeof *r);
	r->cvl_mV = 55200;
	r->dvl_mV = 46400;
	r->ccl_mA = 74000;
	r->dcl_mA = 100000;
	r->request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE;
	r->soc_pct = 50;
	r->soh_pct = 98;
	r->soc_cpct = 5000;
	r->pack_mV = 52300;
	r->current_mA = -12300;
	r->temp_dK = 2981;
	r->cell_max_mV = 3345;
	r->cell_min_mV = 3290;
	r->temp_max_dK = 2991;
	r->temp_min_dK = 2971;
	r->remain_mAh = 50000;
	r->full_mAh = 100000;
	r->design_mAh = 100000;
	r->cycles = 123;
	r->module_count = 1;
	r->fets = RIG_INV_FET_CHG | RIG_INV_FET_DSG;
	memcpy(r->manufacturer, "PYLON", 6);
}

static void bench_start(struct bench *t, uint8_t proto)
{
	memset(t, 0, sizeof *t);
	record(&t->rec);
	t->cfg.proto = proto;
	t->view.battery = &t->rec;
	assert_int_equal(rig_inv_port_init(&t->port, &t->cfg, fake_io_stream(&t->port_io), 0), RIG_OK);
}

static void bench_restart(struct bench *t)
{
	assert_int_equal(rig_inv_port_init(&t->port, &t->cfg, fake_io_stream(&t->port_io), 0), RIG_OK);
}

/* Moves the bytes each side wrote to the other's input; keeps a copy of the port's. */
static void shuttle(struct bench *t)
{
	if (t->wire_len + t->port_io.tx_len <= sizeof t->wire) {
		memcpy(t->wire + t->wire_len, t->port_io.tx, t->port_io.tx_len);
		t->wire_len += t->port_io.tx_len;
	}
	fake_io_queue(&t->cli_io, t->port_io.tx, t->port_io.tx_len);
	fake_io_clear_tx(&t->port_io);
	fake_io_queue(&t->port_io, t->cli_io.tx, t->cli_io.tx_len);
	fake_io_clear_tx(&t->cli_io);
}

typedef enum client_event (*step_fn)(struct bench *t, uint32_t now_ms);

static enum client_event step_can(struct bench *t, uint32_t ms) { return rig_pylon_can_client_step(&t->c.can, ms); }
static enum client_event step_rs(struct bench *t, uint32_t ms) { return rig_pylon_client_step(&t->c.rs, ms); }
static enum client_event step_mb(struct bench *t, uint32_t ms) { return rig_deye_modbus_client_step(&t->c.mb, ms); }

/* Lockstep in 10 ms steps over [from, to]: client, line, port, line. Counts finished cycles. */
static unsigned run(struct bench *t, step_fn client, uint32_t from, uint32_t to, unsigned *failed)
{
	unsigned ok = 0;

	for (uint32_t ms = from; ms <= to; ms += 10) {
		enum client_event ev = client ? client(t, ms) : CLIENT_BUSY;

		if (ev == CLIENT_CYCLE_OK)
			ok++;
		if (ev == CLIENT_CYCLE_FAIL && failed)
			(*failed)++;
		shuttle(t);
		assert_int_equal(rig_inv_port_step(&t->port, ms, &t->view), RIG_OK);
		shuttle(t);
	}
	return ok;
}

static void client_cfg(struct client_cfg *cfg, uint8_t address)
{
	struct client_cfg d = CLIENT_CFG_DEFAULT;

	*cfg = d;
	cfg->retries = 0;
	cfg->timeout_ms = 800;
	cfg->address = address;
}

/* ---- pylontech-can ---------------------------------------------------------------------- */

/* The set the codecs make of r, as slcan text. */
static size_t set_text(const struct rig_inv_battery *r, uint8_t *out, size_t cap)
{
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	size_t n = rig_pylon_can_encode_set(r, 0, f, PYLON_CAN_SET_MAX), len = 0, one;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rig_slcan_frame_encode(&f[i], out + len, cap - len, &one), RIG_OK);
		len += one;
	}
	return len;
}

/* What the codecs decode from the set made of r. */
static void set_decoded(const struct rig_inv_battery *r, struct rig_inv_battery *out)
{
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	size_t n = rig_pylon_can_encode_set(r, 0, f, PYLON_CAN_SET_MAX);
	unsigned have = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rig_pylon_can_decode(&f[i], out, &have), RIG_OK);
	assert_int_equal(have, PYLON_CAN_HAVE_CORE);
}

static void test_can_adapter_client_decodes_the_record(void **state)
{
	struct bench t;
	struct client_cfg cfg;
	struct rig_inv_battery got, want;
	uint8_t set[512];
	size_t set_len;
	uint32_t at = 0;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	client_cfg(&cfg, 0);
	cfg.timeout_ms = 1500;
	rig_pylon_can_client_init(&t.c.can, &cfg, fake_io_stream(&t.cli_io), &t.ps);
	/* Closed: nothing goes out however long the port runs. */
	run(&t, NULL, 0, 2000, NULL);
	assert_int_equal(t.wire_len, 0);
	assert_true(run(&t, step_can, 2010, 5000, NULL) >= 1);
	assert_true(rig_pylon_can_client_last(&t.c.can, &got, &at));
	set_decoded(&t.rec, &want);
	assert_memory_equal(&got, &want, sizeof got);
	assert_int_equal(got.cvl_mV, t.rec.cvl_mV);
	assert_int_equal(got.ccl_mA, t.rec.ccl_mA);
	assert_int_equal(got.dcl_mA, t.rec.dcl_mA);
	assert_int_equal(got.soc_pct, t.rec.soc_pct);
	assert_int_equal(got.pack_mV, t.rec.pack_mV);
	assert_int_equal(got.current_mA, t.rec.current_mA);
	/* The wire: C, S6, O acknowledged, at once the codecs' set, then the keep-alive's "z". */
	set_len = set_text(&t.rec, set, sizeof set);
	assert_memory_equal(t.wire, "\r\r\r", 3);
	assert_memory_equal(t.wire + 3, set, set_len);
	assert_memory_equal(t.wire + 3 + set_len, "z\r", 2);
	assert_true(t.port.st.sets >= 3);
	assert_int_equal(t.port.st.replies, t.port.st.sets * 6u);
	assert_true(t.port.st.requests >= 3);   /* keep-alives */
	assert_int_equal(t.port.st.io_errors, 0);
}

static void test_can_adapter_commands(void **state)
{
	struct bench t;
	static const char in[] = "V\rN\rF\rS9\rt30580000000000000000\rS6\rO\rS6\rx\r";

	(void)state;
	bench_start(&t, RIG_INV_PYLON_CAN);
	fake_io_queue(&t.port_io, (const uint8_t *)in, sizeof in - 1);
	/* Time 1: the set is due at once when O opens the channel. */
	assert_int_equal(rig_inv_port_step(&t.port, 1, &t.view), RIG_OK);
	/* V, N, F answered; S9 and a frame while closed ring; S6, O fine; S6 while open and an
	 * unknown command ring. */
	{
		static const char want[] = "V1013\rNPY01\rF00\r\a\a\r\r\a\a";
		assert_memory_equal(t.port_io.tx, want, sizeof want - 1);
		assert_true(t.port_io.tx_len > sizeof want - 1);   /* the set follows */
		assert_memory_equal(t.port_io.tx + sizeof want - 1, "t351", 4);
	}
	assert_int_equal(t.port.st.requests, 0);   /* the keep-alive came while closed */
	assert_int_equal(t.port.st.sets, 1);
	fake_io_clear_tx(&t.port_io);
	/* C closes: the next period passes silently. */
	fake_io_queue(&t.port_io, (const uint8_t *)"C\r", 2);
	assert_int_equal(rig_inv_port_step(&t.port, 1500, &t.view), RIG_OK);
	assert_int_equal(t.port_io.tx_len, 1);
	assert_int_equal(t.port.st.sets, 1);
}

static void test_can_host_mode_opens_adapter(void **state)
{
	struct bench t;
	uint8_t set[512];
	size_t set_len;

	(void)state;
	memset(&t, 0, sizeof t);
	record(&t.rec);
	t.view.battery = &t.rec;
	t.cfg.proto = RIG_INV_PYLON_CAN;
	t.cfg.can_mode = RIG_INV_CAN_HOST;
	t.cfg.period_ms = 500;
	assert_int_equal(rig_inv_port_init(&t.port, &t.cfg, fake_io_stream(&t.port_io), 100), RIG_OK);
	fake_io_assert_sent(&t.port_io, "43 0D 53 36 0D 4F 0D");   /* C S6 O */
	/* The adapter's acknowledgements and a keep-alive come back: no "z" from us. */
	fake_io_queue(&t.port_io, (const uint8_t *)"\r\r\rz\rt30580000000000000000\r", 27);
	assert_int_equal(rig_inv_port_step(&t.port, 100, &t.view), RIG_OK);
	set_len = set_text(&t.rec, set, sizeof set);
	assert_int_equal(t.port_io.tx_len, set_len);
	assert_memory_equal(t.port_io.tx, set, set_len);
	assert_int_equal(t.port.st.requests, 1);
	assert_int_equal(rig_inv_port_quiet_ms(&t.port, 400), 300);
	fake_io_clear_tx(&t.port_io);
	assert_int_equal(rig_inv_port_step(&t.port, 599, &t.view), RIG_OK);
	assert_int_equal(t.port_io.tx_len, 0);                   /* not due yet */
	assert_int_equal(rig_inv_port_step(&t.port, 600, &t.view), RIG_OK);
	assert_int_equal(t.port_io.tx_len, set_len);
}

static void test_can_keepalive_age_and_comm_alarm(void **state)
{
	struct bench t;
	struct rig_can_frame f;
	struct slcan_line l;
	unsigned have = 0;
	struct rig_inv_battery got;
	size_t i;

	(void)state;
	memset(&t, 0, sizeof t);
	record(&t.rec);
	t.view.battery = &t.rec;
	t.cfg.proto = RIG_INV_PYLON_CAN;
	t.cfg.can_mode = RIG_INV_CAN_HOST;
	t.cfg.comm_alarm = 1;
	t.cfg.silence_ms = 3000;
	assert_int_equal(rig_inv_port_init(&t.port, &t.cfg, fake_io_stream(&t.port_io), 0), RIG_OK);
	fake_io_clear_tx(&t.port_io);
	fake_io_queue(&t.port_io, (const uint8_t *)"t30580000000000000000\r", 22);
	assert_int_equal(rig_inv_port_step(&t.port, 1000, &t.view), RIG_OK);
	assert_int_equal(rig_inv_port_quiet_ms(&t.port, 3999), 2999);
	assert_false(rig_inv_port_comm_lost(&t.port, 3999));
	assert_true(rig_inv_port_comm_lost(&t.port, 4000));
	fake_io_clear_tx(&t.port_io);
	assert_int_equal(rig_inv_port_step(&t.port, 4000, &t.view), RIG_OK);
	/* The set written while the inverter is silent carries the communication alarm. */
	memset(&got, 0, sizeof got);
	for (i = 0; i < t.port_io.tx_len;) {
		size_t e = i;

		while (t.port_io.tx[e] != '\r')
			e++;
		assert_int_equal(rig_slcan_parse(t.port_io.tx + i, e - i, SLCAN_CR, &l), RIG_OK);
		f = l.frame;
		assert_int_equal(rig_pylon_can_decode(&f, &got, &have), RIG_OK);
		i = e + 1;
	}
	assert_int_equal(have, PYLON_CAN_HAVE_CORE);
	assert_true(got.alarm & RIG_INV_ALARM_COMM);
	assert_false(t.rec.alarm & RIG_INV_ALARM_COMM);   /* the caller's record is untouched */
}

/* ---- pylontech-rs485 -------------------------------------------------------------------- */

static void test_rs485_client_decodes_the_record(void **state)
{
	struct bench t;
	struct client_cfg cfg;
	const struct rig_inv_battery *got;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485);
	client_cfg(&cfg, 0);
	rig_pylon_client_init(&t.c.rs, &cfg, fake_io_stream(&t.cli_io), &t.ps);
	assert_true(run(&t, step_rs, 0, 2500, NULL) >= 2);
	got = &t.c.rs.inv;
	assert_int_equal(got->cvl_mV, t.rec.cvl_mV);
	assert_int_equal(got->dvl_mV, t.rec.dvl_mV);
	assert_int_equal(got->ccl_mA, t.rec.ccl_mA);
	assert_int_equal(got->dcl_mA, t.rec.dcl_mA);
	assert_int_equal(got->request, t.rec.request);
	assert_int_equal(got->pack_mV, t.rec.pack_mV);
	assert_int_equal(got->current_mA, t.rec.current_mA);
	assert_int_equal(got->remain_mAh, t.rec.remain_mAh);
	assert_int_equal(got->full_mAh, t.rec.full_mAh);
	assert_int_equal(got->cycles, t.rec.cycles);
	assert_int_equal(got->cell_max_mV, t.rec.cell_max_mV);
	assert_int_equal(got->cell_min_mV, t.rec.cell_min_mV);
	assert_int_equal(got->temp_max_dK, t.rec.temp_max_dK);
	assert_int_equal(got->temp_min_dK, t.rec.temp_min_dK);
	assert_int_equal(got->temp_dK, t.rec.temp_dK);   /* (2981 + 2991 + 2971) / 3 */
	assert_int_equal(got->soc_pct, t.rec.soc_pct);
	assert_int_equal(got->module_count, 1);
	assert_int_equal(t.ps.fet_chg, 1);
	assert_int_equal(t.ps.fet_dsg, 1);
	assert_int_equal(t.port.st.error_replies, 0);
	assert_int_equal(t.port.st.requests, t.port.st.replies);
	assert_true(t.port.st.requests >= 8);   /* 0x42, 0x44, 0x92, 0x47 a cycle */
}

/* One request in, the port's reply out (0 bytes: silence). */
static size_t rs_ask(struct bench *t, const struct pylon_frame *req, uint32_t now_ms, struct pylon_frame *reply)
{
	static uint8_t w[PYLON_FRAME_MAX];
	size_t n, len;

	assert_int_equal(rig_pylon_frame_encode(req, w, sizeof w, &n), RIG_OK);
	fake_io_clear_tx(&t->port_io);
	fake_io_queue(&t->port_io, w, n);
	assert_int_equal(rig_inv_port_step(&t->port, now_ms, &t->view), RIG_OK);
	len = t->port_io.tx_len;
	if (len && reply)
		assert_int_equal(rig_pylon_frame_parse(t->port_io.tx, len, reply), RIG_OK);
	return len;
}

/* The port's reply bytes are those the codecs build for the same payload. */
static void test_rs485_bytes_are_the_codecs(void **state)
{
	static struct bench t;
	static struct pylon_frame req, reply, want;
	static uint8_t w[PYLON_FRAME_MAX];
	struct pylon_mgmt m;
	struct pylon_sys_alarm sa;
	size_t n;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485);
	t.rec.warn = PACK_PROT_CELL_OV;
	t.rec.prot = PACK_PROT_CHG_OT;
	rig_pylon_request(&req, 2, PYLON_CMD_MGMT, 1, 2);
	n = rs_ask(&t, &req, 10, &reply);
	rig_pylon_response(&want, 2, PYLON_RTN_OK);
	rig_pylon_mgmt_from_inv(&t.rec, &m);
	m.has_command_value = 1;
	m.command_value = 2;
	assert_int_equal(rig_pylon_mgmt_encode(&want, &m), RIG_OK);
	assert_int_equal(rig_pylon_frame_encode(&want, w, sizeof w, &n), RIG_OK);
	assert_int_equal(t.port_io.tx_len, n);
	assert_memory_equal(t.port_io.tx, w, n);
	/* 0x62: warnings and protections in their bytes. */
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_ALARM, 0, 0);
	assert_true(rs_ask(&t, &req, 20, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_OK);
	assert_int_equal(rig_pylon_sys_alarm_decode(&reply, &sa), RIG_OK);
	assert_int_equal(sa.alarm1, rig_pylon_status1_from_prot(PACK_PROT_CELL_OV));
	assert_int_equal(sa.prot1, rig_pylon_status1_from_prot(PACK_PROT_CHG_OT));
	/* 0x63: the same limits without a command value. */
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_MGMT, 0, 0);
	assert_true(rs_ask(&t, &req, 30, &reply) > 0);
	assert_int_equal(rig_pylon_mgmt_decode(&reply, 0, &m), RIG_OK);
	assert_int_equal(m.ccl_mA, t.rec.ccl_mA);
	assert_int_equal(m.dcl_mA, -t.rec.dcl_mA);
}

static void test_rs485_identity_commands(void **state)
{
	static struct bench t;
	static struct pylon_frame req, reply;
	static struct pylon_sys_basic basic;
	struct pylon_mfr mfr;
	struct pylon_serial ser;
	struct pylon_sys_param sp;
	struct pylon_sys_analog sa;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485);
	t.cfg.model = "BRIDGE";
	t.cfg.manufacturer = "BMSRIG";
	t.cfg.serial = "SN0123456789ABCDEF";   /* longer than 16: cut */
	t.cfg.sw_major = 2;
	t.cfg.sw_minor = 3;
	bench_restart(&t);
	rig_pylon_request(&req, 2, PYLON_CMD_MFR_INFO, 0, 0);
	assert_true(rs_ask(&t, &req, 10, &reply) > 0);
	assert_int_equal(rig_pylon_mfr_decode(&reply, &mfr), RIG_OK);
	assert_string_equal(mfr.name, "BRIDGE");
	assert_string_equal(mfr.manufacturer, "BMSRIG");
	assert_int_equal(mfr.sw_major, 2);
	assert_int_equal(mfr.sw_minor, 3);
	rig_pylon_request(&req, 2, PYLON_CMD_SERIAL, 1, 2);
	assert_true(rs_ask(&t, &req, 20, &reply) > 0);
	assert_int_equal(rig_pylon_serial_decode(&reply, &ser), RIG_OK);
	assert_string_equal(ser.serial, "SN0123456789ABCD");
	rig_pylon_request(&req, 2, PYLON_CMD_PROTO_VER, 0, 0);
	assert_true(rs_ask(&t, &req, 30, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_OK);
	assert_int_equal(reply.info_len, 0);
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_PARAM, 0, 0);
	assert_true(rs_ask(&t, &req, 40, &reply) > 0);
	assert_int_equal(rig_pylon_sys_param_decode(&reply, &sp), RIG_OK);
	assert_int_equal(sp.chg_current_mA, t.rec.ccl_mA);
	assert_int_equal(sp.dsg_current_mA, -t.rec.dcl_mA);
	assert_int_equal(sp.cell_high_mV, 3650);
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_ANALOG, 0, 0);
	assert_true(rs_ask(&t, &req, 50, &reply) > 0);
	assert_int_equal(rig_pylon_sys_analog_decode(&reply, &sa), RIG_OK);
	assert_int_equal(sa.pack_mV, t.rec.pack_mV);
	assert_int_equal(sa.soc_pct, t.rec.soc_pct);
	assert_int_equal(sa.cell_max_mV.value, t.rec.cell_max_mV);
	assert_int_equal(sa.cell_min_mV.value, t.rec.cell_min_mV);
	/* 0x60 with three packs: three serials, told apart by their last two characters. */
	t.view.packs = t.packs;
	t.view.pack_count = 3;
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_BASIC, 0, 0);
	assert_true(rs_ask(&t, &req, 60, &reply) > 0);
	assert_int_equal(rig_pylon_sys_basic_decode(&reply, &basic), RIG_OK);
	assert_int_equal(basic.module_count, 3);
	assert_string_equal(basic.serial[0], "SN0123456789AB01");
	assert_string_equal(basic.serial[2], "SN0123456789AB03");
}

static void pack(struct pack_state *s, uint16_t base_mV, int32_t current_mA)
{
	memset(s, 0, sizeof *s);
	s->cell_count = 16;
	for (unsigned i = 0; i < 16; i++)
		s->cell_mV[i] = (uint16_t)(base_mV + i);
	s->temp_count = 2;
	s->temp_dK[0] = 2981;
	s->temp_dK[1] = (uint16_t)(2990 + base_mV - 3300);
	s->pack_mV = 16u * base_mV + 120u;
	s->current_mA = current_mA;
	s->remain_mAh = 40000;
	s->full_mAh = 100000;
	s->cycles = 7;
	s->fet_chg = 1;
	s->fet_dsg = 1;
}

static void test_rs485_all_modules_from_packs(void **state)
{
	static struct bench t;
	static struct pylon_frame req, reply;
	static struct pylon_analog a;
	static struct pylon_alarm al;
	struct pylon_sys_analog sa;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485);
	pack(&t.packs[0], 3300, -1000);
	pack(&t.packs[1], 3310, -2000);
	pack(&t.packs[2], 3320, -3000);
	t.packs[1].prot = PACK_PROT_CELL_OV;
	t.view.packs = t.packs;
	t.view.pack_count = 3;
	t.rec.cell_max_mV = 3335;   /* pack 3's cell 16 */
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, PYLON_ADR_ALL);
	assert_true(rs_ask(&t, &req, 10, &reply) > 0);
	assert_int_equal(rig_pylon_analog_decode(&reply, &a), RIG_OK);
	assert_int_equal(a.module_count, 3);
	assert_int_equal(a.command_value, 3);
	assert_int_equal(a.m[1].cell_count, 16);
	assert_int_equal(a.m[1].cell_mV[15], 3325);
	assert_int_equal(a.m[2].current_mA, -3000);
	assert_int_equal(a.m[0].pack_mV, t.packs[0].pack_mV);
	/* Command value 2 (this module): the battery as one module. */
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, 2);
	assert_true(rs_ask(&t, &req, 20, &reply) > 0);
	assert_int_equal(rig_pylon_analog_decode(&reply, &a), RIG_OK);
	assert_int_equal(a.module_count, 1);
	assert_int_equal(a.m[0].pack_mV, t.rec.pack_mV);
	/* 0x44 FF: pack 2's over-voltage marks its highest cell, pack 1 is clean. */
	rig_pylon_request(&req, 2, PYLON_CMD_ALARM, 1, PYLON_ADR_ALL);
	assert_true(rs_ask(&t, &req, 30, &reply) > 0);
	assert_int_equal(rig_pylon_alarm_decode(&reply, &al), RIG_OK);
	assert_int_equal(al.module_count, 3);
	assert_int_equal(al.m[1].cell_state[15], PYLON_STATE_HIGH);
	assert_int_equal(al.m[1].status[4], 0x80);
	assert_int_equal(al.m[1].status[0], rig_pylon_status1_from_prot(PACK_PROT_CELL_OV));
	assert_int_equal(al.m[0].cell_state[15], PYLON_STATE_NORMAL);
	assert_int_equal(al.m[0].status[0], 0);
	assert_int_equal(al.m[0].status[1] & (PYLON_ST2_CHG_FET | PYLON_ST2_DSG_FET), PYLON_ST2_CHG_FET | PYLON_ST2_DSG_FET);
	/* 0x61 locates the highest cell in its pack. */
	rig_pylon_request(&req, 2, PYLON_CMD_SYS_ANALOG, 0, 0);
	assert_true(rs_ask(&t, &req, 40, &reply) > 0);
	assert_int_equal(rig_pylon_sys_analog_decode(&reply, &sa), RIG_OK);
	assert_int_equal(sa.cell_max_mV.where, 0x0310);
}

static void test_rs485_errors_and_silence(void **state)
{
	static struct bench t;
	static struct pylon_frame req, reply;
	static uint8_t w[PYLON_FRAME_MAX];
	size_t n;

	(void)state;
	bench_start(&t, RIG_INV_PYLON_RS485);
	/* Another module's address: silence, counted. */
	rig_pylon_request(&req, 3, PYLON_CMD_ANALOG, 1, 3);
	assert_int_equal(rs_ask(&t, &req, 10, NULL), 0);
	assert_int_equal(t.port.st.other_address, 1);
	assert_int_equal(t.port.st.requests, 0);
	assert_false(t.port.st.heard);
	/* An unknown command: RTN 04. */
	rig_pylon_request(&req, 2, 0x99, 0, 0);
	assert_true(rs_ask(&t, &req, 20, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_CID2);
	assert_int_equal(reply.adr, 2);
	assert_int_equal(reply.info_len, 0);
	/* A wrong CID1: RTN 04; a command value of another module: RTN 06; two value bytes: 05. */
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, 2);
	req.cid1 = 0x4A;
	assert_true(rs_ask(&t, &req, 30, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_CID2);
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, 5);
	assert_true(rs_ask(&t, &req, 40, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_DATA);
	rig_pylon_request(&req, 2, PYLON_CMD_MGMT, 1, PYLON_ADR_ALL);
	assert_true(rs_ask(&t, &req, 45, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_DATA);   /* FF only for 0x42 / 0x44 */
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, 2);
	req.info_len = 2;
	assert_true(rs_ask(&t, &req, 50, &reply) > 0);
	assert_int_equal(reply.cid2, PYLON_RTN_FORMAT);
	/* A bad checksum for this module: RTN 02; for another: silence. */
	rig_pylon_request(&req, 2, PYLON_CMD_ANALOG, 1, 2);
	assert_int_equal(rig_pylon_frame_encode(&req, w, sizeof w, &n), RIG_OK);
	w[n - 2] = w[n - 2] == '0' ? '1' : '0';
	fake_io_clear_tx(&t.port_io);
	fake_io_queue(&t.port_io, w, n);
	assert_int_equal(rig_inv_port_step(&t.port, 60, &t.view), RIG_OK);
	assert_int_equal(rig_pylon_frame_parse(t.port_io.tx, t.port_io.tx_len, &reply), RIG_OK);
	assert_int_equal(reply.cid2, PYLON_RTN_CHKSUM);
	rig_pylon_request(&req, 3, PYLON_CMD_ANALOG, 1, 3);
	assert_int_equal(rig_pylon_frame_encode(&req, w, sizeof w, &n), RIG_OK);
	w[n - 2] = w[n - 2] == '0' ? '1' : '0';
	fake_io_clear_tx(&t.port_io);
	fake_io_queue(&t.port_io, w, n);
	assert_int_equal(rig_inv_port_step(&t.port, 70, &t.view), RIG_OK);
	assert_int_equal(t.port_io.tx_len, 0);
	assert_int_equal(t.port.st.error_replies, 6);
	assert_int_equal(t.port.st.bad_frames, 2);
	/* Garbage on the line: no reply, no request. */
	fake_io_clear_tx(&t.port_io);
	fake_io_queue(&t.port_io, (const uint8_t *)"\x01zz~~~\r\r", 8);
	assert_int_equal(rig_inv_port_step(&t.port, 80, &t.view), RIG_OK);
	assert_int_equal(t.port_io.tx_len, 0);
	/* The age of the last request of ours (the RTN 02 at 60 ms was not one). */
	assert_int_equal(rig_inv_port_quiet_ms(&t.port, 1050), 1000);
}

/* ---- deye-modbus ------------------------------------------------------------------------ */

static void test_deye_client_decodes_the_record(void **state)
{
	struct bench t;
	struct client_cfg cfg;
	struct rig_inv_battery want;
	uint16_t regs[DEYE_MB_BLOCK_COUNT];

	(void)state;
	bench_start(&t, RIG_INV_DEYE_MODBUS);   /* address 0 in the config: the default, 1 */
	client_cfg(&cfg, 0);
	rig_deye_modbus_client_init(&t.c.mb, &cfg, fake_io_stream(&t.cli_io), &t.ps);
	assert_true(run(&t, step_mb, 0, 2500, NULL) >= 2);
	assert_true(t.c.mb.have_inv);
	rig_deye_mb_block_encode(&t.rec, regs);
	rig_deye_mb_block_decode(regs, &want);
	assert_memory_equal(&t.c.mb.inv, &want, sizeof want);
	assert_int_equal(t.c.mb.inv.ccl_mA, t.rec.ccl_mA);
	assert_int_equal(t.c.mb.inv.pack_mV, t.rec.pack_mV);
	assert_int_equal(t.c.mb.inv.current_mA, t.rec.current_mA);
	assert_int_equal(t.c.mb.inv.soc_pct, t.rec.soc_pct);
	assert_int_equal(t.port.st.error_replies, 0);
}

static void test_deye_per_pack_addresses(void **state)
{
	struct bench t;
	struct client_cfg cfg;
	unsigned failed = 0;

	(void)state;
	memset(&t, 0, sizeof t);
	record(&t.rec);
	for (unsigned k = 0; k < 3; k++) {
		record(&t.pack_rec[k]);
		t.pack_rec[k].soc_pct = (uint8_t)(10 + 30 * k);
		t.pack_rec[k].soc_cpct = (uint16_t)(100u * t.pack_rec[k].soc_pct);
		t.pack_rec[k].ccl_mA = 10000 * (int32_t)(k + 1);
	}
	t.view.battery = &t.rec;
	t.view.pack_records = t.pack_rec;
	t.view.pack_count = 3;
	t.cfg.proto = RIG_INV_DEYE_MODBUS;
	t.cfg.per_pack = 1;
	t.cfg.address = 0;
	assert_int_equal(rig_inv_port_init(&t.port, &t.cfg, fake_io_stream(&t.port_io), 0), RIG_OK);
	client_cfg(&cfg, 2);
	rig_deye_modbus_client_init(&t.c.mb, &cfg, fake_io_stream(&t.cli_io), &t.ps);
	assert_true(run(&t, step_mb, 0, 1500, NULL) >= 1);
	assert_int_equal(t.c.mb.inv.soc_pct, 70);
	assert_int_equal(t.c.mb.inv.ccl_mA, 30000);
	/* Pack 4 (address 3) does not exist: every poll unanswered. */
	client_cfg(&cfg, 3);
	memset(&t.cli_io, 0, sizeof t.cli_io);
	rig_deye_modbus_client_init(&t.c.mb, &cfg, fake_io_stream(&t.cli_io), &t.ps);
	assert_int_equal(run(&t, step_mb, 2000, 4500, &failed), 0);
	assert_true(failed >= 1);
	assert_true(t.port.st.other_address >= 2);
}

static size_t mb_ask(struct bench *t, const struct modbus_frame *req, uint32_t now_ms)
{
	uint8_t w[MODBUS_ADU_MAX];
	size_t n;

	assert_int_equal(rig_modbus_frame_encode(req, w, sizeof w, &n), RIG_OK);
	fake_io_clear_tx(&t->port_io);
	fake_io_queue(&t->port_io, w, n);
	assert_int_equal(rig_inv_port_step(&t->port, now_ms, &t->view), RIG_OK);
	return t->port_io.tx_len;
}

static void expect_exception(struct bench *t, uint8_t fc, uint8_t code)
{
	struct modbus_frame want;
	uint8_t w[MODBUS_ADU_MAX];
	size_t n;

	rig_modbus_exception(&want, 1, fc, code);
	assert_int_equal(rig_modbus_frame_encode(&want, w, sizeof w, &n), RIG_OK);
	assert_int_equal(t->port_io.tx_len, n);
	assert_memory_equal(t->port_io.tx, w, n);
}

static void test_deye_exceptions_ident_silence(void **state)
{
	struct bench t;
	struct modbus_frame req, reply;
	struct deye_mb_ident id;

	(void)state;
	bench_start(&t, RIG_INV_DEYE_MODBUS);
	t.cfg.model = "VB*MS";
	t.cfg.serial = "ABC";
	bench_restart(&t);
	rig_deye_mb_request_read(&req, 1, 0x1000, 0);
	assert_true(mb_ask(&t, &req, 10) > 0);
	expect_exception(&t, 0x04, DEYE_MB_EX_ILLEGAL_VALUE);
	rig_deye_mb_request_read(&req, 1, 0xFFF0, 0x20);
	assert_true(mb_ask(&t, &req, 20) > 0);
	expect_exception(&t, 0x04, DEYE_MB_EX_ILLEGAL_ADDRESS);
	/* FC 0x03 (holding registers) is not Deye's: illegal function. */
	rig_deye_mb_request_read(&req, 1, 0x1000, 22);
	req.fc = 0x03;
	assert_true(mb_ask(&t, &req, 30) > 0);
	expect_exception(&t, 0x03, DEYE_MB_EX_ILLEGAL_FUNCTION);
	assert_int_equal(t.port.st.error_replies, 3);
	/* Another pack's request: silence. */
	rig_deye_mb_request_read(&req, 5, 0x1000, 22);
	assert_int_equal(mb_ask(&t, &req, 40), 0);
	assert_int_equal(t.port.st.other_address, 1);
	/* FC 0x11: the configured texts, '*' made '-', the serial padded with '0'. */
	rig_deye_mb_request_ident(&req, 1);
	assert_true(mb_ask(&t, &req, 50) > 0);
	assert_int_equal(rig_modbus_frame_parse(t.port_io.tx, t.port_io.tx_len, MODBUS_RESPONSE, &reply), RIG_OK);
	assert_int_equal(rig_deye_mb_ident_decode(&reply, &id), RIG_OK);
	assert_int_equal(id.model_len, 5);
	assert_memory_equal(id.model, "VB-MS", 5);
	assert_memory_equal(id.serial, "ABC00000000000000000", DEYE_MB_SERIAL_LEN);
	/* A read beyond the block: Deye's packs answer 0 for 0x1016 and FFFF further on. */
	rig_deye_mb_request_read(&req, 1, 0x1015, 3);
	assert_true(mb_ask(&t, &req, 60) > 0);
	{
		uint16_t regs[3], count;

		assert_int_equal(rig_modbus_frame_parse(t.port_io.tx, t.port_io.tx_len, MODBUS_RESPONSE, &reply), RIG_OK);
		assert_int_equal(rig_deye_mb_regs_decode(&reply, regs, 3, &count), RIG_OK);
		assert_int_equal(count, 3);
		assert_int_equal(regs[0], rig_deye_mb_reg_value(&t.rec, 0x1015));
		assert_int_equal(regs[1], 0);
		assert_int_equal(regs[2], 0xFFFF);
	}
	assert_int_equal(rig_inv_port_quiet_ms(&t.port, 100), 40);
}

static int32_t refuse_write(void *ctx, const uint8_t *p, uint16_t n)
{
	(void)ctx;
	(void)p;
	return n > 1 ? (int32_t)n - 1 : -9;   /* short, or refused */
}

static int32_t broken_read(void *ctx, uint8_t *p, uint16_t cap)
{
	(void)ctx;
	(void)p;
	(void)cap;
	return -9;
}

/* A line that garbles what the inverter says: the port skips it and keeps announcing; a line
 * that refuses bytes or breaks is counted and reported, never retried within the step. */
static void test_garbled_and_broken_lines(void **state)
{
	struct bench t;
	struct rig_io io;
	static const char noise[] = "t3058000\r\x01\x02garbage\rTZZ\rt30580000000000000000\r\xff\xfe";

	(void)state;
	memset(&t, 0, sizeof t);
	record(&t.rec);
	t.view.battery = &t.rec;
	t.cfg.proto = RIG_INV_PYLON_CAN;
	t.cfg.can_mode = RIG_INV_CAN_HOST;
	assert_int_equal(rig_inv_port_init(&t.port, &t.cfg, fake_io_stream(&t.port_io), 0), RIG_OK);
	fake_io_clear_tx(&t.port_io);
	t.port_io.read_max = 3;
	fake_io_queue(&t.port_io, (const uint8_t *)noise, sizeof noise - 1);
	for (uint32_t ms = 0; ms <= 1000; ms += 10)
		assert_int_equal(rig_inv_port_step(&t.port, ms, &t.view), RIG_OK);
	assert_int_equal(t.port.st.sets, 2);               /* at 0 and 1000 ms, noise or not */
	assert_int_equal(t.port.st.requests, 1);           /* the one good keep-alive */
	assert_int_equal(t.port.st.last_request_ms, 10);   /* its end is byte 45: a step reads 8 x 3 */
	assert_true(t.port.st.bad_frames >= 2);
	io = fake_io_stream(&t.port_io);
	io.write = refuse_write;
	t.port.io = io;
	assert_int_equal(rig_inv_port_step(&t.port, 2000, &t.view), RIG_ERR_IO);
	assert_int_equal(t.port.st.io_errors, 6);          /* each of the six lines came up short */
	io.write = fake_io_stream(&t.port_io).write;
	io.read = broken_read;
	t.port.io = io;
	assert_int_equal(rig_inv_port_step(&t.port, 2010, &t.view), RIG_ERR_IO);
	assert_int_equal(t.port.st.io_errors, 7);
}

static void test_config_checks(void **state)
{
	struct rig_inv_port p;
	struct rig_inv_port_cfg cfg;
	struct fake_io io;
	uint8_t proto = 9;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	memset(&io, 0, sizeof io);
	cfg.proto = RIG_INV_PROTO_COUNT;
	assert_int_equal(rig_inv_port_init(&p, &cfg, fake_io_stream(&io), 0), RIG_ERR_ARG);
	cfg.proto = RIG_INV_DEYE_MODBUS;
	cfg.address = 0x0F;
	assert_int_equal(rig_inv_port_init(&p, &cfg, fake_io_stream(&io), 0), RIG_ERR_ARG);
	assert_int_equal(rig_inv_port_proto_parse("deye-modbus", &proto), RIG_OK);
	assert_int_equal(proto, RIG_INV_DEYE_MODBUS);
	assert_int_equal(rig_inv_port_proto_parse("pylontech-rs485", &proto), RIG_OK);
	assert_int_equal(proto, RIG_INV_PYLON_RS485);
	assert_int_equal(rig_inv_port_proto_parse("pylontech", &proto), RIG_ERR_ARG);
	assert_string_equal(rig_inv_port_proto_name(RIG_INV_PYLON_CAN), "pylontech-can");
	assert_string_equal(rig_inv_port_proto_name(7), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_can_adapter_client_decodes_the_record),
		cmocka_unit_test(test_can_adapter_commands),
		cmocka_unit_test(test_can_host_mode_opens_adapter),
		cmocka_unit_test(test_can_keepalive_age_and_comm_alarm),
		cmocka_unit_test(test_rs485_client_decodes_the_record),
		cmocka_unit_test(test_rs485_bytes_are_the_codecs),
		cmocka_unit_test(test_rs485_identity_commands),
		cmocka_unit_test(test_rs485_all_modules_from_packs),
		cmocka_unit_test(test_rs485_errors_and_silence),
		cmocka_unit_test(test_deye_client_decodes_the_record),
		cmocka_unit_test(test_deye_per_pack_addresses),
		cmocka_unit_test(test_deye_exceptions_ident_silence),
		cmocka_unit_test(test_garbled_and_broken_lines),
		cmocka_unit_test(test_config_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
