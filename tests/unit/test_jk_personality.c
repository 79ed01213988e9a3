/*
 * The JK "4E 57" personality: the read-all a real board sends (length rule, canonical order,
 * the offsets ESPHome's fixed-offset parser reads, the three places the cell count lives), the
 * BMS behind every id, writes of switches and settings into the JBD-form registers, refusals
 * by silence, acks, quirks, truth parts and persistence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/jk_json.h"
#include "bmsrig/sim/jk_personality.h"
#include "fake_io.h"

struct sent {
	uint8_t wire[JK_FRAME_MAX + 8];
	size_t n;
	uint32_t delay_ms;
	unsigned parts;
};

struct rig {
	struct model m;
	struct bms b;
	_Alignas(max_align_t) uint8_t state[PERSONALITY_STATE_MAX];
	const struct personality_ops *ops;
	struct reply_sink sink;
	struct sent out[4];
	unsigned n_out, n_logged;
	unsigned saves;
};

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct rig *r = ctx;
	struct sent *s = &r->out[r->n_out++ % 4];

	assert_true(n <= sizeof s->wire);
	memcpy(s->wire, wire, n);
	s->n = n;
	s->delay_ms = delay_ms;
	s->parts = parts;
}

static void on_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct rig *r = ctx;
	struct jk_frame f;

	(void)dir;
	assert_int_equal(rig_jk_frame_parse(wire, n, &f), RIG_OK);   /* logs see whole frames */
	r->n_logged++;
}

static int save(void *ctx, const struct bms *b)
{
	(void)b;
	((struct rig *)ctx)->saves++;
	return 0;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof *r);
	struct model_cfg c;

	assert_non_null(r);
	model_cfg_defaults(&c);                   /* 4S LFP 100 Ah, 2 NTC, 25 degC */
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
	r->ops = &jk_personality_ops;
	assert_int_equal(r->ops->init(r->state, &r->b, 0), RIG_OK);
	r->ops->on_save(r->state, save, r);
	r->sink.ctx = r;
	r->sink.send = on_send;
	r->sink.frame = on_frame;
	return r;
}

/* Sends a request; returns how many replies came (0 or 1). */
static unsigned ask(struct rig *r, const struct jk_frame *req)
{
	uint8_t w[JK_FRAME_MAX];
	size_t n;
	unsigned before = r->n_out;

	assert_int_equal(rig_jk_frame_encode(req, w, sizeof w, &n), RIG_OK);
	r->ops->rx(r->state, w, n, 1000, &r->sink);
	return r->n_out - before;
}

static const struct sent *last(const struct rig *r)
{
	return &r->out[(r->n_out - 1) % 4];
}

/* The last reply, parsed and decoded. */
static void last_reply(const struct rig *r, struct jk_frame *f, struct jk_data *d)
{
	const struct sent *s = last(r);

	assert_int_equal(rig_jk_frame_parse(s->wire, s->n, f), RIG_OK);
	if (d)
		assert_int_equal(rig_jk_data_decode(f, d), RIG_OK);
}

static void read_all(struct rig *r, struct jk_data *d)
{
	struct jk_frame req, f;

	rig_jk_request_read_all(&req, JK_SRC_GPS);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, d);
	assert_int_equal(f.cmd, JK_CMD_READ_ALL);
}

static void write_ok(struct rig *r, const struct jk_frame *req)
{
	struct jk_frame f;

	assert_int_equal(ask(r, req), 1);
	last_reply(r, &f, NULL);
	assert_int_equal(f.cmd, JK_CMD_WRITE);
	assert_int_equal(f.type, JK_TYPE_REPLY);
	/* The reply is the id and value as written. */
	assert_int_equal(f.len, req->len);
	assert_memory_equal(f.info, req->info, req->len);
}

static int32_t setting(const struct rig *r, unsigned id)
{
	return bms_setting_get(&r->b, id);
}

/* ---- the read-all ---------------------------------------------------------------------------- */

static void read_all_has_the_real_shape(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame f;
	struct jk_data d;
	const struct sent *s;
	size_t off;

	(void)state;
	read_all(r, &d);
	s = last(r);
	last_reply(r, &f, NULL);
	/* docs/protocols/jk.md §2.3: 3n + 243 bytes, L = 3n + 241, every readable id in table order. */
	assert_int_equal(s->n, 3 * 4 + 243);
	assert_int_equal(s->wire[2] << 8 | s->wire[3], 3 * 4 + 241);
	assert_int_equal(f.source, JK_SRC_BMS);
	assert_int_equal(f.terminal, 0);
	assert_int_equal(f.record, 0);
	assert_int_equal(d.n_items, 59);
	for (unsigned i = 1; i < d.n_items; i++)
		assert_true(d.order[i] > d.order[i - 1]);
	/* ESPHome reads by fixed offsets from the cell block's length (docs/protocols/jk.md §2.7): the byte at
	 * data[1] + 3 + 84 + 135 of the information field is the protocol version. */
	off = (size_t)f.info[1] + 3u + 84u + 135u;
	assert_int_equal(f.info[off - 1], JK_ID_PROTOCOL);
	assert_int_equal(f.info[off], 1);
	/* The cell count lives in three places. */
	assert_int_equal(f.info[1], 3 * 4);
	assert_int_equal(d.cell_strings, 4);
	assert_int_equal(d.cell_count_set, 4);
	assert_int_equal(d.ntc_count, 2);
	assert_int_equal(d.protocol_version, 1);
	assert_memory_equal(d.sw_version, "10.XW_S10.07___", 15);
	/* Read-all carries every truth part; it goes out after the latency. */
	assert_int_equal(s->parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	assert_int_equal(s->delay_ms, 30);
	assert_int_equal(r->n_logged, 2);
	free(r);
}

static void read_all_reports_the_bms(void **state)
{
	struct rig *r = rig_new();
	struct bms_view v;
	struct jk_data d;

	(void)state;
	bms_step(&r->b, &r->m, 1.0, -45.5);        /* past 32.767 A */
	bms_view(&r->b, &v);
	read_all(r, &d);
	assert_int_equal(d.cell_count, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(d.cell_mV[i], r->b.meas.cell_mV[i]);
	assert_true(abs((int)d.pack_mV - (int)r->b.meas.pack_mV) <= 5);
	assert_true(abs(d.current_mA - r->b.meas.current_mA) <= 5);
	assert_true(d.current_mA < -45000);
	assert_true(abs(d.box_temp_dK - v.probe_dK[0]) <= 5);
	assert_true(abs(d.bat_temp_dK - v.probe_dK[1]) <= 5);
	assert_true(abs(d.mos_temp_dK - r->b.meas.probe_dK[0]) <= 5);
	assert_int_equal(d.soc_pct, bms_soc_pct(&r->b));
	assert_int_equal(d.status_raw, JK_STATUS_CHG_ON | JK_STATUS_DSG_ON | JK_STATUS_BAL_ON);
	assert_int_equal(d.alarm_raw, 0);
	assert_int_equal(d.chg_switch, 1);
	assert_int_equal(d.dsg_switch, 1);
	/* Settings in JK units from the JBD registers (LFP 4S 100 Ah defaults). */
	assert_int_equal(d.cell_ovp_mV, 3650);
	assert_int_equal(d.cell_ovp_rel_mV, 3550);
	assert_int_equal(d.cell_uvp_mV, 2500);
	assert_int_equal(d.cell_uvp_rel_mV, 2700);
	assert_int_equal(d.pack_ovp_mV, 14600);
	assert_int_equal(d.pack_uvp_mV, 10000);
	assert_int_equal(d.cell_ovp_delay_s, 2);
	assert_int_equal(d.cell_uvp_delay_s, 2);
	assert_int_equal(d.chg_ocp_A, 100);
	assert_int_equal(d.dsg_ocp_A, 100);
	assert_int_equal(d.chg_ocp_delay_s, 10);
	assert_int_equal(d.bal_start_mV, 3400);
	assert_int_equal(d.bal_trigger_mV, 15);
	assert_int_equal(d.balancer_on, 1);
	assert_int_equal(d.chg_otp_C, 55);
	assert_int_equal(d.dsg_otp_C, 60);
	assert_int_equal(d.chg_utp_C, 0);
	assert_int_equal(d.chg_utp_rel_C, 5);
	assert_int_equal(d.dsg_utp_C, -20);
	assert_int_equal(d.dsg_utp_rel_C, -10);
	assert_int_equal(d.capacity_Ah, 100);
	assert_int_equal(d.battery_type, 0);        /* LFP */
	free(r);
}

static void temperatures_clamp_to_the_codes_range(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame f;
	struct jk_data d;

	(void)state;
	r->b.meas.probe_dK[0] = 2731 - 555;        /* -55.5 degC: the codes end at -40 */
	r->b.meas.probe_dK[1] = 2731 + 1234;       /* 123.4 degC: and at 100 */
	read_all(r, &d);
	assert_int_equal(d.box_temp_dK, 2331);
	assert_int_equal(d.bat_temp_dK, 3731);
	last_reply(r, &f, NULL);
	/* On the wire: 81 00 8C (140 = -40 degC), 82 00 64 (100). */
	assert_memory_equal(f.info + 2 + 12 + 3, "\x81\x00\x8C\x82\x00\x64", 6);
	/* Only one probe enabled: 0x86 says so, 0x82 reads as an absent probe does. */
	assert_int_equal(bms_setting_set(&r->b, BMS_SET_NTC_ENABLE, 1), RIG_OK);
	read_all(r, &d);
	assert_int_equal(d.ntc_count, 1);
	assert_int_equal(d.bat_temp_dK, BMS_ABSENT_NTC_DK);
	free(r);
}

static void alarms_follow_the_protections(void **state)
{
	struct rig *r = rig_new();
	struct jk_data d;

	(void)state;
	r->b.prot_bits = PACK_PROT_CELL_OV | PACK_PROT_SHORT;
	r->b.fet = BMS_FET_DSG;
	bms_set_remain_mAh(&r->b, 10000);          /* 10 % < the 20 % alarm */
	read_all(r, &d);
	assert_int_equal(d.alarm_raw, (1u << JK_ALARM_CELL_OV) | (1u << JK_ALARM_DSG_OC) |
	                              (1u << JK_ALARM_LOW_CAPACITY));
	assert_int_equal(d.status_raw & (JK_STATUS_CHG_ON | JK_STATUS_DSG_ON), JK_STATUS_DSG_ON);
	free(r);
}

/* ---- other reads, acks, silence -------------------------------------------------------------- */

static void read_one_and_acks(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req, f;
	struct jk_data d;

	(void)state;
	/* mpp-solar's 03 00: the read-all with command 03 echoed. */
	rig_jk_request_read(&req, JK_SRC_PC, JK_ID_ALL);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, &d);
	assert_int_equal(f.cmd, JK_CMD_READ);
	assert_int_equal(d.n_items, 59);
	assert_int_equal(last(r)->parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	/* One id: one item, no truth. */
	rig_jk_request_read(&req, JK_SRC_PC, JK_ID_CELL_OVP);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, &d);
	assert_int_equal(f.len, 3);
	assert_int_equal(d.cell_ovp_mV, 3650);
	assert_int_equal(last(r)->parts, 0);
	/* No such id, a write-only one, a read-all with an id: silence. */
	rig_jk_request_read(&req, JK_SRC_PC, 0x88);
	assert_int_equal(ask(r, &req), 0);
	rig_jk_request_read(&req, JK_SRC_PC, JK_ID_RESTART);
	assert_int_equal(ask(r, &req), 0);
	rig_jk_request_read_all(&req, JK_SRC_PC);
	req.info[0] = JK_ID_SOC;
	assert_int_equal(ask(r, &req), 0);
	/* Password and activate: a one-byte 00 ack. */
	rig_jk_request_password(&req, JK_SRC_GPS);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, NULL);
	assert_int_equal(f.cmd, JK_CMD_PASSWORD);
	assert_int_equal(f.len, 1);
	assert_int_equal(f.info[0], 0);
	rig_jk_request_activate(&req, JK_SRC_PC);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, NULL);
	assert_int_equal(f.cmd, JK_CMD_ACTIVATE);
	/* A reply (or our own echo) is not a request: no answer. */
	assert_int_equal(rig_jk_data_encode(&req, JK_CMD_READ_ALL, &d), RIG_OK);
	assert_int_equal(ask(r, &req), 0);
	/* Bytes in pieces, with junk, still make one request. */
	{
		static const char hex[] = "41540D0A 4E57001300000000 0603000000000000 6800000129";
		uint8_t w[64];
		size_t n = hex_to_bytes(hex, w, sizeof w);
		unsigned before = r->n_out;

		for (size_t i = 0; i < n; i++)
			r->ops->rx(r->state, w + i, 1, 2000 + (uint32_t)i, &r->sink);
		assert_int_equal(r->n_out - before, 1);
	}
	free(r);
}

/* ---- writes ------------------------------------------------------------------------------------ */

static void switch_writes_drive_the_fets(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req;
	struct jk_data d;

	(void)state;
	/* ESPHome's exact frame (docs/protocols/jk.md §4.1): charge MOSFET off. */
	{
		uint8_t w[32];
		size_t n = hex_to_bytes("4E 57 00 14 00 00 00 00 02 02 00 AB 00 00 00 00 00 68 00 00 01 D0", w, sizeof w);
		unsigned before = r->n_out;

		r->ops->rx(r->state, w, n, 1000, &r->sink);
		assert_int_equal(r->n_out - before, 1);
		assert_int_equal(last(r)->parts, 0);
	}
	assert_int_equal(r->b.inhibit, BMS_INHIBIT_CHG);
	assert_int_equal(r->saves, 1);
	read_all(r, &d);
	assert_int_equal(d.chg_switch, 0);
	assert_int_equal(d.dsg_switch, 1);
	assert_int_equal(d.status_raw & JK_STATUS_CHG_ON, 0);
	assert_int_equal(rig_jk_request_switch(&req, JK_SRC_PC, JK_ID_DSG_SWITCH, 0), RIG_OK);
	write_ok(r, &req);
	assert_int_equal(r->b.inhibit, BMS_INHIBIT_CHG | BMS_INHIBIT_DSG);
	assert_int_equal(rig_jk_request_switch(&req, JK_SRC_PC, JK_ID_CHG_SWITCH, 1), RIG_OK);
	write_ok(r, &req);
	assert_int_equal(r->b.inhibit, BMS_INHIBIT_DSG);
	/* A switch value other than 0/1 is refused: silence, nothing changes. */
	req.info[1] = 2;
	assert_int_equal(ask(r, &req), 0);
	assert_int_equal(r->b.inhibit, BMS_INHIBIT_DSG);
	free(r);
}

static void setting_writes_land_in_the_settings(void **state)
{
	/* Each write, the setting it lands in and, where one is, a neighbour it must leave alone
	 * (BMS_SET_COUNT: none). */
	static const struct { uint8_t id; int32_t v; uint8_t set; int32_t want; uint8_t kept; int32_t kept_v; } t[] = {
		{ JK_ID_CELL_OVP, 3600, BMS_SET_CELL_OVP, 3600, BMS_SET_COUNT, 0 },
		{ JK_ID_CELL_UVP_REL, 2900, BMS_SET_CELL_UVP_RELEASE, 2900, BMS_SET_COUNT, 0 },
		{ JK_ID_PACK_OVP, 14400, BMS_SET_PACK_OVP, 14400, BMS_SET_COUNT, 0 },
		{ JK_ID_CELL_UVP_DELAY, 7, BMS_SET_CELL_UVP_DELAY, 7, BMS_SET_CELL_OVP_DELAY, 2 },
		{ JK_ID_CELL_OVP_DELAY, 9, BMS_SET_CELL_OVP_DELAY, 9, BMS_SET_CELL_UVP_DELAY, 7 },
		{ JK_ID_CHG_OCP, 50, BMS_SET_CHG_OC, 50000, BMS_SET_COUNT, 0 },            /* A -> mA */
		{ JK_ID_DSG_OCP, 80, BMS_SET_DSG_OC, 80000, BMS_SET_COUNT, 0 },
		{ JK_ID_DSG_OCP_DELAY, 5, BMS_SET_DSG_OC_DELAY, 5, BMS_SET_DSG_OC_RELEASE, 30 },
		{ JK_ID_CHG_OTP, 45, BMS_SET_CHG_OTP, 3181, BMS_SET_COUNT, 0 },           /* degC -> 0.1 K */
		{ JK_ID_DSG_UTP, -25, BMS_SET_DSG_UTP, 2481, BMS_SET_COUNT, 0 },
		{ JK_ID_CHG_UTP_REL, 3, BMS_SET_CHG_UTP_RELEASE, 2761, BMS_SET_COUNT, 0 },
		{ JK_ID_BALANCER, 0, BMS_SET_BALANCE_ENABLE, 0, BMS_SET_BALANCE_CHG_ONLY, 1 },
		{ JK_ID_CAPACITY, 200, BMS_SET_DESIGN_CAPACITY, 200000, BMS_SET_COUNT, 0 }, /* Ah -> mAh */
		{ JK_ID_CELL_COUNT, 8, BMS_SET_CELL_COUNT, 8, BMS_SET_COUNT, 0 },
	};
	struct rig *r = rig_new();
	struct jk_frame req;
	struct jk_data w, d;

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rig_jk_data_clear(&w);
		assert_int_equal(rig_jk_data_set(&w, t[i].id, t[i].v), RIG_OK);
		assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, t[i].id, &w), RIG_OK);
		write_ok(r, &req);
		if (setting(r, t[i].set) != t[i].want)
			fail_msg("id 0x%02X: %s = %d, want %d", t[i].id, bms_setting_info(t[i].set)->name,
			         setting(r, t[i].set), t[i].want);
		if (t[i].kept < BMS_SET_COUNT && setting(r, t[i].kept) != t[i].kept_v)
			fail_msg("id 0x%02X: %s = %d, want %d (kept)", t[i].id,
			         bms_setting_info(t[i].kept)->name, setting(r, t[i].kept), t[i].kept_v);
		/* And the next read-all reports what was written. */
		read_all(r, &d);
		assert_int_equal(rig_jk_data_get(&d, t[i].id, &w.current_mA), RIG_OK);
		assert_int_equal(w.current_mA, t[i].v);
	}
	assert_int_equal(r->saves, sizeof t / sizeof t[0]);
	read_all(r, &d);
	assert_int_equal(d.cell_count, 8);           /* 0x2F moved all three cell counts */
	assert_int_equal(d.cell_strings, 8);
	assert_int_equal(d.status_raw & JK_STATUS_BAL_ON, 0);
	free(r);
}

/* Read-all reports the BMS's neutral settings in JK's units; a JK write lands in them. */
static void settings_read_and_write_the_neutral_values(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req;
	struct jk_data w, d;
	int32_t v = 0;

	(void)state;
	assert_int_equal(bms_setting_set(&r->b, BMS_SET_CELL_OVP, 3612), RIG_OK);
	assert_int_equal(bms_setting_set(&r->b, BMS_SET_CHG_OC, 51000), RIG_OK);
	assert_int_equal(bms_setting_set(&r->b, BMS_SET_DSG_UTP, 2531), RIG_OK);
	read_all(r, &d);
	assert_int_equal(rig_jk_data_get(&d, JK_ID_CELL_OVP, &v), RIG_OK);
	assert_int_equal(v, 3612);
	assert_int_equal(rig_jk_data_get(&d, JK_ID_CHG_OCP, &v), RIG_OK);
	assert_int_equal(v, 51);                         /* A */
	assert_int_equal(rig_jk_data_get(&d, JK_ID_DSG_UTP, &v), RIG_OK);
	assert_int_equal(v, -20);                        /* degC */
	rig_jk_data_clear(&w);
	assert_int_equal(rig_jk_data_set(&w, JK_ID_DSG_OCP, 80), RIG_OK);
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_DSG_OCP, &w), RIG_OK);
	write_ok(r, &req);
	assert_int_equal(r->b.set.dsg_oc_mA, 80000);
	free(r);
}

static void refused_writes_get_silence(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req;
	struct jk_data w;
	int32_t before = setting(r, BMS_SET_DSG_OC);

	(void)state;
	rig_jk_data_clear(&w);
	w.dsg_ocp_A = 0;                           /* the BMS needs a non-zero limit */
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_DSG_OCP, &w), RIG_OK);
	assert_int_equal(ask(r, &req), 0);
	assert_int_equal(setting(r, BMS_SET_DSG_OC), before);
	w.cell_count_set = 40;
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_CELL_COUNT, &w), RIG_OK);
	assert_int_equal(ask(r, &req), 0);
	w.capacity_Ah = 700;                       /* 70000 x 10 mAh does not fit the register */
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_CAPACITY, &w), RIG_OK);
	assert_int_equal(ask(r, &req), 0);
	/* Read-only ids, wrong widths, unknown ids. */
	assert_int_equal(rig_jk_request_switch(&req, JK_SRC_PC, JK_ID_CHG_SWITCH, 0), RIG_OK);
	req.info[0] = JK_ID_SOC;
	assert_int_equal(ask(r, &req), 0);
	req.info[0] = JK_ID_CELL_OVP;                /* 2-byte id, 1 value byte */
	assert_int_equal(ask(r, &req), 0);
	req.info[0] = 0x8D;
	assert_int_equal(ask(r, &req), 0);
	assert_int_equal(r->saves, 0);
	assert_int_equal(r->b.inhibit, 0);
	free(r);
}

static void personality_only_settings_persist_until_factory_reset(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req, f;
	struct jk_data w, d;

	(void)state;
	rig_jk_data_clear(&w);
	memcpy(w.password, "000000\0\0\0\0", 10);
	w.mos_otp_C = 80;
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_PASSWORD, &w), RIG_OK);
	write_ok(r, &req);
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_MOS_OTP, &w), RIG_OK);
	write_ok(r, &req);
	rig_jk_request_read(&req, JK_SRC_PC, JK_ID_PASSWORD);
	assert_int_equal(ask(r, &req), 1);
	last_reply(r, &f, &d);
	assert_memory_equal(d.password, "000000\0\0\0\0", 10);
	read_all(r, &d);
	assert_int_equal(d.mos_otp_C, 80);
	/* Restart is acknowledged; factory reset restores the board's values. */
	w.restart = 1;
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_RESTART, &w), RIG_OK);
	write_ok(r, &req);
	w.factory_reset = 1;
	assert_int_equal(rig_jk_request_write_item(&req, JK_SRC_PC, JK_ID_FACTORY_RESET, &w), RIG_OK);
	write_ok(r, &req);
	read_all(r, &d);
	assert_int_equal(d.mos_otp_C, 90);
	assert_memory_equal(d.password, "123456\0\0\0\0", 10);
	free(r);
}

/* ---- quirks ------------------------------------------------------------------------------------ */

static void quirks(void **state)
{
	struct rig *r = rig_new();
	struct jk_frame req, f;
	struct jk_data d;
	char why[128];

	(void)state;
	assert_int_equal(r->ops->set_quirk(r->state, "nope", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "latency_ms"));
	assert_int_equal(r->ops->set_quirk(r->state, "current_mode", "2", why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "current_mode: expected 0..1, got \"2\"");
	assert_int_equal(r->ops->set_quirk(r->state, "latency_ms", "-1", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(r->ops->set_quirk(r->state, "latency_ms", "120", why, sizeof why), RIG_OK);
	assert_int_equal(r->ops->set_quirk(r->state, "junk_prefix", "2", why, sizeof why), RIG_OK);
	assert_int_equal(r->ops->set_quirk(r->state, "current_mode", "0", why, sizeof why), RIG_OK);

	bms_step(&r->b, &r->m, 1.0, 20.0);
	rig_jk_request_read_all(&req, JK_SRC_PC);
	for (unsigned i = 1; i <= 4; i++) {
		const struct sent *s;
		size_t at;

		assert_int_equal(ask(r, &req), 1);
		s = last(r);
		assert_int_equal(s->delay_ms, 120);
		/* Every 2nd reply carries the BLE module's "AT\r\n" in front. */
		at = (i % 2 == 0) ? 4 : 0;
		if (at)
			assert_memory_equal(s->wire, "AT\r\n", 4);
		assert_int_equal(s->wire[at], JK_START0);
		assert_int_equal(rig_jk_frame_parse(s->wire + at, s->n - at, &f), RIG_OK);
	}
	/* Old firmware's current: 0xC0 = 0 and the offset code (10000 - raw) x 10 mA. */
	assert_int_equal(rig_jk_data_decode(&f, &d), RIG_OK);
	assert_int_equal(d.protocol_version, 0);
	assert_true(abs(d.current_mA - r->b.meas.current_mA) <= 5);
	assert_true(d.current_mA > 19000);
	free(r);
}

/* The emulated read-all decodes to the vector vocabulary (what bmsdecode and traces show). */
static void wire_json_speaks_the_vector_vocabulary(void **state)
{
	static const char *const keys[] = {
		"cmd", "cells_mv", "cell_count", "mos_temp_dk", "temps_dk", "pack_mv", "current_ma",
		"soc_pct", "ntc_count", "cycles", "prot_raw", "fet_chg", "fet_dsg", "design_mah",
		"sw_version", "cell_ovp_mv", "cell_uvp_mv",
	};
	struct rig *r = rig_new();
	struct jk_data d;
	cJSON *o;

	(void)state;
	read_all(r, &d);
	o = r->ops->wire_json(last(r)->wire, last(r)->n);
	assert_non_null(o);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!cJSON_HasObjectItem(o, keys[i]))
			fail_msg("no \"%s\"", keys[i]);
	assert_false(cJSON_HasObjectItem(o, "error"));
	assert_int_equal(cJSON_GetObjectItem(o, "design_mah")->valueint, 100000);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "sw_version")), "10.XW_S10.07___");
	cJSON_Delete(o);
	assert_string_equal(r->ops->name, "jk");
	assert_int_equal(r->ops->baud, 115200);
	assert_true(r->ops->resolution.temp_dK == 10.0 && r->ops->resolution.pack_mV == 10.0 &&
	            r->ops->resolution.current_mA == 10.0 && r->ops->resolution.cell_mV == 1.0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_all_has_the_real_shape),
		cmocka_unit_test(read_all_reports_the_bms),
		cmocka_unit_test(temperatures_clamp_to_the_codes_range),
		cmocka_unit_test(alarms_follow_the_protections),
		cmocka_unit_test(read_one_and_acks),
		cmocka_unit_test(switch_writes_drive_the_fets),
		cmocka_unit_test(setting_writes_land_in_the_settings),
		cmocka_unit_test(settings_read_and_write_the_neutral_values),
		cmocka_unit_test(refused_writes_get_silence),
		cmocka_unit_test(personality_only_settings_persist_until_factory_reset),
		cmocka_unit_test(quirks),
		cmocka_unit_test(wire_json_speaks_the_vector_vocabulary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
