/*
 * JK BLE personality: exact ack bytes, the 0x97 / 0x96 answers and the pushed stream, writes
 * reaching the BMS, quirks; then the client and the personality together through a fake BLE
 * link that cuts every reply into 20-byte notifications, one per 8 ms connection event: for
 * each layout the client's pack_state equals what the BMS measured when it sent the record,
 * within one unit of the personality's resolution. The loop also shows the client surviving
 * each quirk (push period, latency, a stream that stops, no "AT"), a lost first request, a
 * lost 0x96 ack, and FET writes landing in the BMS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bmsrig/core/jk_ble_client.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "fake_io.h"

/* ---- a sink that keeps what the personality sent ------------------------------------------ */

struct sent {
	uint8_t wire[JK_BLE_RECORD_LEN + 64];
	size_t n;
	uint32_t delay_ms;
	unsigned parts;
};

struct capture {
	struct sent s[16];
	size_t count;
};

static void capture_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct capture *c = ctx;

	assert_true(c->count < 16 && n <= sizeof c->s[0].wire);
	memcpy(c->s[c->count].wire, wire, n);
	c->s[c->count].n = n;
	c->s[c->count].delay_ms = delay_ms;
	c->s[c->count].parts = parts;
	c->count++;
}

struct bench {
	struct model m;
	struct bms b;
	struct jk_ble_personality p;
	struct capture cap;
	struct reply_sink sink;
};

static void bench_make_cells(struct bench *t, unsigned ntc, unsigned cells)
{
	struct model_cfg c;

	memset(t, 0, sizeof *t);
	model_cfg_defaults(&c);                  /* LFP 100 Ah */
	c.ntc_count = (uint8_t)ntc;
	c.cells = (uint8_t)cells;
	assert_int_equal(model_init(&t->m, &c), RIG_OK);
	assert_int_equal(bms_init(&t->b, &t->m), RIG_OK);
	assert_true(sizeof t->p <= PERSONALITY_STATE_MAX);
	assert_int_equal(jk_ble_personality_ops.init(&t->p, &t->b, 0), RIG_OK);
	t->sink.ctx = &t->cap;
	t->sink.send = capture_send;
}

static void bench_make(struct bench *t, unsigned ntc)
{
	bench_make_cells(t, ntc, 4);
}

static void command(struct bench *t, const char *hex, uint32_t now_ms)
{
	uint8_t w[32];
	size_t n = hex_to_bytes(hex, w, sizeof w);

	t->cap.count = 0;
	jk_ble_personality_ops.rx(&t->p, w, n, now_ms, &t->sink);
}

static void write_cmd(struct bench *t, uint8_t reg, uint8_t len, uint32_t v, uint32_t now_ms)
{
	struct jk_ble_cmd c;
	uint8_t w[JK_BLE_CMD_LEN];

	assert_int_equal(rig_jk_ble_cmd_write(&c, reg, len, v), RIG_OK);
	rig_jk_ble_cmd_encode(&c, w);
	t->cap.count = 0;
	/* In two pieces, as a BLE bridge may hand them over. */
	jk_ble_personality_ops.rx(&t->p, w, 7, now_ms, &t->sink);
	jk_ble_personality_ops.rx(&t->p, w + 7, sizeof w - 7, now_ms, &t->sink);
}

static const char ACK_AT[] = "AA5590EBC80101000000000000000000000000 44 41540D0A";

/* The ack with "AT\r\n" behind it, alone or after a record. */
static void assert_ack(const struct sent *s, size_t at)
{
	uint8_t want[24];

	assert_int_equal(hex_to_bytes(ACK_AT, want, sizeof want), 24);
	assert_int_equal(s->n, at + 24);
	assert_memory_equal(s->wire + at, want, 24);
}

static int set_quirk(struct bench *t, const char *k, const char *v)
{
	char why[160];

	return jk_ble_personality_ops.set_quirk(&t->p, k, v, why, sizeof why);
}

/* ---- the personality alone ---------------------------------------------------------------- */

static void device_info_then_settings_then_stream(void **state)
{
	struct bench *t = malloc(sizeof *t);
	struct jk_ble_device d;
	struct jk_ble_settings s;
	struct jk_ble_cells c;

	(void)state;
	bench_make(t, 2);
	/* One write: the record, then the ack (the 320-byte replies of the captures), then "AT". */
	command(t, "AA5590EB970000000000000000000000000000 11", 1000);
	assert_int_equal(t->cap.count, 1);
	assert_ack(&t->cap.s[0], JK_BLE_RECORD_LEN);
	assert_int_equal(t->cap.s[0].delay_ms, 40);
	assert_int_equal(t->cap.s[0].parts, 0);
	assert_int_equal(rig_jk_ble_record_check(t->cap.s[0].wire, 300), RIG_OK);
	assert_int_equal(rig_jk_ble_device_decode(t->cap.s[0].wire, &d), RIG_OK);
	assert_string_equal((const char *)d.model, "JK_PB2A16S20P");
	assert_string_equal((const char *)d.sw_version, "15.41");
	/* Nothing streams before 0x96. */
	t->cap.count = 0;
	jk_ble_personality_ops.tick(&t->p, 3000, &t->sink);
	assert_int_equal(t->cap.count, 0);

	command(t, "AA5590EB960000000000000000000000000000 10", 3000);
	assert_int_equal(t->cap.count, 1);
	assert_ack(&t->cap.s[0], JK_BLE_RECORD_LEN);
	const uint8_t *rec = t->cap.s[0].wire;
	assert_int_equal(rec[4], JK_BLE_REC_SETTINGS);
	assert_int_equal(rec[5], 1);                             /* the second record */
	assert_int_equal(rig_jk_ble_layout_detect(rec), JK_BLE_JK02_32S);
	assert_int_equal(rig_jk_ble_settings_decode(rec, JK_BLE_JK02_32S, &s), RIG_OK);
	assert_int_equal(s.value[JK_SET_CELL_OVP_MV], bms_setting_get(&t->b, BMS_SET_CELL_OVP));
	assert_int_equal(s.value[JK_SET_CELL_COUNT], 4);
	assert_int_equal(s.value[JK_SET_CAPACITY_MAH], 100000);
	assert_int_equal(s.value[JK_SET_CHG_SWITCH], 1);
	/* The stream: the first record after the latency, then every 500 ms, from tick(). */
	t->cap.count = 0;
	for (uint32_t now = 3000; now <= 4600; now += 10)
		jk_ble_personality_ops.tick(&t->p, now, &t->sink);
	assert_int_equal(t->cap.count, 4);                      /* 3040, 3540, 4040, 4540 */
	for (size_t i = 0; i < 4; i++) {
		rec = t->cap.s[i].wire;
		assert_int_equal(rec[4], JK_BLE_REC_CELLS);
		assert_int_equal(rec[5], 2 + i);
		assert_int_equal(t->cap.s[i].parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
		assert_int_equal(t->cap.s[i].delay_ms, 0);
		assert_int_equal(rig_jk_ble_layout_detect(rec), JK_BLE_JK02_32S);
	}
	assert_int_equal(rig_jk_ble_cells_decode(rec, JK_BLE_JK02_32S, &c), RIG_OK);
	assert_int_equal(c.cell_mask, 0x0F);
	assert_int_equal(c.cell_mV[0], t->b.meas.cell_mV[0]);
	assert_int_equal(c.pack_mV, t->b.meas.pack_mV);
	assert_int_equal(c.temp_present, 0x07);
	assert_int_equal(c.temp_dK[0], t->b.meas.probe_dK[0]);
	assert_int_equal(c.temp_dK[2], JK_BLE_TEMP_ABSENT_DK);
	assert_int_equal(c.runtime_s, 3);
	/* 0x97 ends the stream: a new session begins. */
	command(t, "AA5590EB970000000000000000000000000000 11", 5000);
	t->cap.count = 0;
	for (uint32_t now = 5000; now <= 7000; now += 10)
		jk_ble_personality_ops.tick(&t->p, now, &t->sink);
	assert_int_equal(t->cap.count, 0);
	free(t);
}

struct save_log { int calls; int32_t ov_mV; };

static int save_cb(void *ctx, const struct bms *b)
{
	struct save_log *log = ctx;

	log->calls++;
	log->ov_mV = bms_setting_get(b, BMS_SET_CELL_OVP);
	return 0;
}

static void writes_reach_the_bms(void **state)
{
	struct bench *t = malloc(sizeof *t);
	struct save_log log = { 0, 0 };
	struct jk_ble_settings s;

	(void)state;
	bench_make(t, 2);
	jk_ble_personality_ops.on_save(&t->p, save_cb, &log);
	/* docs/protocols/jk.md §4.2 "cell OVP 3.650 V" frame; then 3600 the same way. */
	command(t, "AA5590EB0404420E0000000000000000000000 D2", 100);
	assert_int_equal(t->cap.count, 1);
	assert_ack(&t->cap.s[0], 0);
	assert_int_equal(t->cap.s[0].parts, 0);
	write_cmd(t, 0x04, 4, 3600, 200);
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_CELL_OVP), 3600);
	assert_int_equal(log.calls, 2);
	assert_int_equal(log.ov_mV, 3600);
	/* A value the BMS refuses (40 cells) is acked and changes nothing. */
	write_cmd(t, 0x1C, 4, 40, 300);
	assert_int_equal(t->cap.count, 1);
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_CELL_COUNT), 4);
	/* Temperatures in 0.1 degC, currents in mA, capacity in mAh: the BMS's units behind. */
	write_cmd(t, 0x18, 4, (uint32_t)-50, 400);               /* charge UTP -5.0 degC */
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_CHG_UTP), 2681);
	write_cmd(t, 0x0F, 4, 150000, 500);                      /* max discharge 150 A */
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_DSG_OC), 150000);
	write_cmd(t, 0x20, 4, 50000, 600);
	assert_int_equal(bms_full_mAh(&t->b), 50000);
	/* Switches: bms_set_inhibit, and back in the settings record. */
	write_cmd(t, JK_BLE_REG_CHG_SWITCH, 4, 0, 700);
	assert_int_equal(t->b.inhibit, BMS_INHIBIT_CHG);
	write_cmd(t, JK_BLE_REG_DSG_SWITCH, 4, 0, 800);
	assert_int_equal(t->b.inhibit, BMS_INHIBIT_CHG | BMS_INHIBIT_DSG);
	write_cmd(t, JK_BLE_REG_CHG_SWITCH, 4, 1, 900);
	assert_int_equal(t->b.inhibit, BMS_INHIBIT_DSG);
	/* A setting with no BMS register is kept and read back. */
	write_cmd(t, 0x09, 4, 3450, 1000);                       /* RCV */
	command(t, "AA5590EB960000000000000000000000000000 10", 1100);
	assert_int_equal(rig_jk_ble_settings_decode(t->cap.s[0].wire, JK_BLE_JK02_32S, &s), RIG_OK);
	assert_int_equal(s.value[JK_SET_RCV_MV], 3450);
	assert_int_equal(s.value[JK_SET_CELL_OVP_MV], 3600);
	assert_int_equal(s.value[JK_SET_CHG_UTP_DC], (uint32_t)-50);
	assert_int_equal(s.value[JK_SET_MAX_DSG_MA], 150000);
	assert_int_equal(s.value[JK_SET_CHG_SWITCH], 1);
	assert_int_equal(s.value[JK_SET_DSG_SWITCH], 0);
	/* Unknown commands are acked; a bad sum is not answered at all. */
	write_cmd(t, 0xA1, 0, 0, 1200);                          /* logbook request */
	assert_int_equal(t->cap.count, 1);
	assert_ack(&t->cap.s[0], 0);
	command(t, "AA5590EB960000000000000000000000000000 11", 1300);
	assert_int_equal(t->cap.count, 0);
	free(t);
}

static void jk04_and_24s_records(void **state)
{
	struct bench *t = malloc(sizeof *t);
	struct jk_ble_settings s;
	struct jk_ble_cells c;

	(void)state;
	bench_make(t, 2);
	assert_int_equal(set_quirk(t, "layout", "JK04"), RIG_OK);
	command(t, "AA5590EB960000000000000000000000000000 10", 0);
	const uint8_t *rec = t->cap.s[0].wire;
	assert_int_equal(rig_jk_ble_layout_detect(rec), JK_BLE_JK04);
	assert_int_equal(rig_jk_ble_settings_decode(rec, JK_BLE_JK04, &s), RIG_OK);
	assert_int_equal(s.value[JK_SET_CELL_COUNT], 4);
	t->cap.count = 0;
	jk_ble_personality_ops.tick(&t->p, 100, &t->sink);
	assert_int_equal(t->cap.count, 1);
	assert_int_equal(t->cap.s[0].parts, TRUTH_CELLS);
	rec = t->cap.s[0].wire;
	assert_int_equal(rig_jk_ble_layout_detect(rec), JK_BLE_JK04);
	assert_int_equal(rig_jk_ble_cells_decode(rec, JK_BLE_JK04, &c), RIG_OK);
	assert_int_equal(c.cell_mask, 0x0F);
	assert_int_equal(c.cell_mV[3], t->b.meas.cell_mV[3]);
	/* JK04 writes take floats: balance trigger 8 mV = 0x3C03126F (the B5A24S capture). */
	write_cmd(t, 0x64, 4, 0x3C03126Fu, 200);
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_BALANCE_DELTA), 8);

	assert_int_equal(set_quirk(t, "layout", "JK02_24S"), RIG_OK);
	command(t, "AA5590EB970000000000000000000000000000 11", 300);
	struct jk_ble_device d;
	assert_int_equal(rig_jk_ble_device_decode(t->cap.s[0].wire, &d), RIG_OK);
	assert_string_equal((const char *)d.sw_version, "10.07");
	command(t, "AA5590EB960000000000000000000000000000 10", 400);
	assert_int_equal(rig_jk_ble_layout_detect(t->cap.s[0].wire), JK_BLE_JK02_24S);
	t->cap.count = 0;
	jk_ble_personality_ops.tick(&t->p, 500, &t->sink);
	assert_int_equal(rig_jk_ble_layout_detect(t->cap.s[0].wire), JK_BLE_JK02_24S);
	free(t);
}

/* Issue 11 item 12: every present cell has a balance-wire resistance of tens of mOhm (a popular
 * client counts cells by them), the slots after the last cell 0, in each layout's own encoding:
 * JK02 u16 mOhm at 64 (24S) / 80 (32S), JK04 f32 Ohm at 102. The index bytes name the extremes. */
static void wire_resistances_for_the_cells_present(void **state)
{
	static const struct { const char *name; enum jk_ble_layout layout; unsigned off; } lay[] = {
		{ "JK02_24S", JK_BLE_JK02_24S, 64 }, { "JK02_32S", JK_BLE_JK02_32S, 80 },
		{ "JK04", JK_BLE_JK04, 102 },
	};
	struct bench *t = malloc(sizeof *t);
	struct jk_ble_cells c;

	(void)state;
	for (unsigned k = 0; k < sizeof lay / sizeof lay[0]; k++) {
		bench_make_cells(t, 2, 16);
		assert_int_equal(set_quirk(t, "layout", lay[k].name), RIG_OK);
		command(t, "AA5590EB960000000000000000000000000000 10", 0);
		t->cap.count = 0;
		jk_ble_personality_ops.tick(&t->p, 100, &t->sink);
		assert_int_equal(t->cap.count, 1);
		const uint8_t *rec = t->cap.s[0].wire;
		assert_int_equal(rig_jk_ble_cells_decode(rec, lay[k].layout, &c), RIG_OK);
		for (unsigned i = 0; i < rig_jk_ble_slots(lay[k].layout); i++) {
			if (lay[k].layout != JK_BLE_JK04)    /* the raw u16, not only the codec's view */
				assert_int_equal(rec[lay[k].off + 2 * i] | rec[lay[k].off + 2 * i + 1] << 8,
				                 c.wire_res_mOhm[i]);
			if (i < 16)
				assert_in_range(c.wire_res_mOhm[i], 20, 60);
			else
				assert_int_equal(c.wire_res_mOhm[i], 0);
		}
		if (lay[k].layout == JK_BLE_JK04) {
			/* 16th resistance as f32 Ohm: 0.043 lies in [2^-5, 2^-4), biased exponent 122. */
			uint32_t bits = (uint32_t)rec[102 + 60] | (uint32_t)rec[103 + 60] << 8 |
			                (uint32_t)rec[104 + 60] << 16 | (uint32_t)rec[105 + 60] << 24;
			assert_int_equal(bits >> 23, 122);
			continue;
		}
		for (unsigned i = 0; i < 16; i++) {
			assert_true(c.cell_mV[c.max_cell_idx] >= c.cell_mV[i]);
			assert_true(c.cell_mV[c.min_cell_idx] <= c.cell_mV[i]);
		}
	}
	free(t);
}

/* Issue 11 item 15(d): a layout is refused for a pack with more cells than its slots (one
 * table, rig_jk_ble_slots), and a cell-count write past them changes nothing. */
static void layout_cell_maximum(void **state)
{
	static const struct { const char *name; unsigned max; } lay[] = {
		{ "JK02_24S", 24 }, { "JK02_32S", 32 }, { "JK04", 24 },
	};
	struct bench *t = malloc(sizeof *t);
	char why[160] = "";

	(void)state;
	for (unsigned k = 0; k < sizeof lay / sizeof lay[0]; k++) {
		bench_make_cells(t, 2, lay[k].max);
		assert_int_equal(set_quirk(t, "layout", lay[k].name), RIG_OK);
		if (lay[k].max < 32) {
			bench_make_cells(t, 2, lay[k].max + 1);
			assert_int_equal(jk_ble_personality_ops.set_quirk(&t->p, "layout", lay[k].name, why, sizeof why),
			                 RIG_ERR_ARG);
			assert_non_null(strstr(why, "carries at most"));
		}
	}
	bench_make_cells(t, 2, 4);
	assert_int_equal(set_quirk(t, "layout", "JK02_24S"), RIG_OK);
	write_cmd(t, JK_SET_CELL_COUNT + 1, 4, 25, 100);      /* register k + 1 */
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_CELL_COUNT), 4);
	write_cmd(t, JK_SET_CELL_COUNT + 1, 4, 24, 200);
	assert_int_equal(bms_setting_get(&t->b, BMS_SET_CELL_COUNT), 24);
	free(t);
}

/* Protections as the error mask; bleeding as the discharging balancer. */
static void errors_and_balancing(void **state)
{
	struct bench *t = malloc(sizeof *t);
	struct jk_ble_cells c;

	(void)state;
	bench_make(t, 2);
	command(t, "AA5590EB960000000000000000000000000000 10", 0);
	t->b.prot_bits = PACK_PROT_CELL_UV | PACK_PROT_SHORT;
	t->b.bal_mask = 0x3;
	t->b.sensor.balance_current_mA = 60;
	t->cap.count = 0;
	jk_ble_personality_ops.tick(&t->p, 100, &t->sink);
	assert_int_equal(rig_jk_ble_cells_decode(t->cap.s[0].wire, JK_BLE_JK02_32S, &c), RIG_OK);
	assert_int_equal(c.errors, 1u << 11 | 1u << 14);
	assert_int_equal(c.balance_action, 2);
	assert_int_equal(c.balance_current_mA, -60);
	free(t);
}

static void quirk_settings(void **state)
{
	struct bench *t = malloc(sizeof *t);
	char why[160];

	(void)state;
	bench_make(t, 2);
	assert_int_equal(t->p.q.layout, JK_BLE_JK02_32S);
	assert_int_equal(t->p.q.push_ms, 500);
	assert_int_equal(set_quirk(t, "push_ms", "1000"), RIG_OK);
	assert_int_equal(t->p.q.push_ms, 1000);
	assert_int_equal(set_quirk(t, "latency_ms", "300"), RIG_OK);
	assert_int_equal(set_quirk(t, "quiet_stop_ms", "2000"), RIG_OK);
	assert_int_equal(set_quirk(t, "at_after_ack", "0"), RIG_OK);
	assert_int_equal(jk_ble_personality_ops.set_quirk(&t->p, "layout", "JK03", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "JK02_24S, JK02_32S or JK04"));
	assert_int_equal(jk_ble_personality_ops.set_quirk(&t->p, "push_ms", "0", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "push_ms: expected 50..60000"));
	assert_int_equal(set_quirk(t, "latency_ms", "-1"), RIG_ERR_ARG);
	assert_int_equal(jk_ble_personality_ops.set_quirk(&t->p, "sleep", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "unknown jk-ble quirk"));
	/* Without "AT": the bare 20-byte ack. */
	command(t, "AA5590EB970000000000000000000000000000 11", 0);
	assert_int_equal(t->cap.s[0].n, JK_BLE_RECORD_LEN + JK_BLE_CMD_LEN);
	assert_int_equal(t->cap.s[0].wire[JK_BLE_RECORD_LEN + 4], JK_BLE_REG_ACK);
	assert_int_equal(t->cap.s[0].delay_ms, 300);
	assert_string_equal(jk_ble_personality_ops.name, "jk-ble");
	assert_int_equal(jk_ble_personality_ops.baud, 115200);
	free(t);
}

/* ---- the client and the personality through a fake BLE link ------------------------------- */

#define CHUNK 20u
#define EVENT_MS 8u                    /* one notification per connection event */
#define STEP_MS 10u
#define TRUTHS 8u

struct truth {
	uint8_t cells, temps;
	uint16_t cell_mV[PACK_CELLS_MAX];
	uint32_t pack_mV;
	int32_t current_mA;
	uint16_t temp_dK[PACK_TEMPS_MAX];
};

struct chunk {
	uint32_t at_ms;
	uint8_t n;
	uint8_t b[CHUNK];
};

struct loop {
	struct bench t;
	struct jk_ble_client c;
	struct pack_state ps;
	double current_A;
	uint32_t now;
	struct chunk down[512];
	size_t head, tail;
	uint32_t last_at;
	uint8_t up[512];
	size_t up_n;
	uint8_t last_up_reg;             /* the command the BMS heard last */
	unsigned drop_first_up;          /* the link loses this many commands */
	unsigned drop_ack_after_96;      /* and this many acks that answer 0x96 */
	struct truth truth[TRUTHS];
	unsigned n_truth;
	unsigned ok, failed, compared;
};

static int32_t loop_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct loop *L = ctx;

	if (L->drop_first_up) {
		L->drop_first_up--;
		return n;
	}
	assert_true(L->up_n + n <= sizeof L->up);
	memcpy(L->up + L->up_n, p, n);
	L->up_n += n;
	return n;
}

static int32_t loop_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct loop *L = ctx;
	size_t got = 0;

	while (L->head != L->tail && (int32_t)(L->now - L->down[L->head].at_ms) >= 0 &&
	       got + L->down[L->head].n <= cap) {
		memcpy(p + got, L->down[L->head].b, L->down[L->head].n);
		got += L->down[L->head].n;
		L->head = (L->head + 1) % 512;
	}
	return (int32_t)got;
}

/* What the BMS measured as it built a record: what the client must end up with. */
static void take_truth(struct loop *L, unsigned parts)
{
	struct truth *tr = &L->truth[L->n_truth++ % TRUTHS];
	struct bms_view v;

	bms_view(&L->t.b, &v);
	memset(tr, 0, sizeof *tr);
	tr->cells = v.cell_count;
	memcpy(tr->cell_mV, v.cell_mV, sizeof tr->cell_mV);
	tr->pack_mV = L->t.b.meas.pack_mV;
	tr->current_mA = L->t.b.meas.current_mA;
	tr->temps = v.probe_count;
	memcpy(tr->temp_dK, v.probe_dK, sizeof v.probe_dK);
	if (!(parts & TRUTH_PACK)) {               /* JK04: the sum of the cells, no current */
		tr->pack_mV = 0;
		for (unsigned i = 0; i < tr->cells; i++)
			tr->pack_mV += tr->cell_mV[i];
		tr->current_mA = 0;
	}
	if (!(parts & TRUTH_TEMPS))
		tr->temps = 0;
}

static void loop_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct loop *L = ctx;
	uint32_t at = L->now + delay_ms;

	/* The ack rides behind the settings record: losing it leaves the record alone. */
	if (L->drop_ack_after_96 && L->last_up_reg == 0x96 && n > JK_BLE_RECORD_LEN &&
	    wire[JK_BLE_RECORD_LEN + 4] == JK_BLE_REG_ACK) {
		L->drop_ack_after_96--;
		n = JK_BLE_RECORD_LEN;
	}
	if (parts)
		take_truth(L, parts);
	for (size_t off = 0; off < n; off += CHUNK) {
		struct chunk *c = &L->down[L->tail];

		if ((int32_t)(at - (L->last_at + EVENT_MS)) < 0)
			at = L->last_at + EVENT_MS;
		c->at_ms = at;
		c->n = (uint8_t)(n - off < CHUNK ? n - off : CHUNK);
		memcpy(c->b, wire + off, c->n);
		L->last_at = at;
		L->tail = (L->tail + 1) % 512;
		assert_true(L->tail != L->head);
	}
}

static int within(int64_t a, int64_t b, double unit)
{
	return (double)(a > b ? a - b : b - a) <= unit;
}

static int matches(const struct pack_state *ps, const struct truth *tr, const struct resolution *res)
{
	if (ps->cell_count != tr->cells || ps->temp_count != tr->temps)
		return 0;
	for (unsigned i = 0; i < tr->cells; i++)
		if (!within(ps->cell_mV[i], tr->cell_mV[i], res->cell_mV))
			return 0;
	for (unsigned i = 0; i < tr->temps; i++)
		if (!within(ps->temp_dK[i], tr->temp_dK[i], res->temp_dK))
			return 0;
	return within(ps->pack_mV, tr->pack_mV, res->pack_mV) &&
	       within(ps->current_mA, tr->current_mA, res->current_mA);
}

static void loop_make(struct loop *L, const char *layout, unsigned ntc, double current_A)
{
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct rig_io io = { L, loop_write, loop_read };

	memset(L, 0, sizeof *L);
	bench_make(&L->t, ntc);
	L->t.sink.ctx = L;
	L->t.sink.send = loop_send;
	L->current_A = current_A;
	L->now = 1000;
	assert_int_equal(set_quirk(&L->t, "layout", layout), RIG_OK);
	rig_jk_ble_client_ops.init(&L->c, &cfg, io, &L->ps);
}

static void loop_run(struct loop *L, uint32_t for_ms)
{
	const struct resolution *res = &jk_ble_personality_ops.resolution;
	uint32_t until = L->now + for_ms;

	for (; L->now < until; L->now += STEP_MS) {
		bms_step(&L->t.b, &L->t.m, STEP_MS / 1000.0, L->current_A);
		if (L->up_n) {
			L->last_up_reg = L->up[4];
			jk_ble_personality_ops.rx(&L->t.p, L->up, L->up_n, L->now, &L->t.sink);
			L->up_n = 0;
		}
		jk_ble_personality_ops.tick(&L->t.p, L->now, &L->t.sink);
		enum client_event ev = rig_jk_ble_client_ops.step(&L->c, L->now);
		if (ev == CLIENT_CYCLE_FAIL)
			L->failed++;
		if (ev != CLIENT_CYCLE_OK)
			continue;
		L->ok++;
		int found = 0;
		for (unsigned i = 0; i < TRUTHS && i < L->n_truth; i++)
			found |= matches(&L->ps, &L->truth[i], res);
		if (!found)
			fail_msg("t=%u: the client's report (%u cells, %u mV, %d mA, %u temps) matches no "
			         "record the BMS sent", L->now, L->ps.cell_count, L->ps.pack_mV,
			         L->ps.current_mA, L->ps.temp_count);
		L->compared++;
	}
}

static void loop_each_layout(void **state)
{
	static const struct { const char *layout; unsigned ntc; double amps; unsigned temps; } run[] = {
		{ "JK02_32S", 4, -20.0, 4 },   /* T1, T2 and two of the three extra probes */
		{ "JK02_32S", 2, 31.9, 2 },    /* charging, near JK's old 16-bit trouble spot */
		{ "JK02_24S", 2, -45.0, 2 },   /* past the +-32.767 A of 16-bit current fields */
		{ "JK04", 2, -5.0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof run / sizeof run[0]; i++) {
		struct loop *L = malloc(sizeof *L);

		loop_make(L, run[i].layout, run[i].ntc, run[i].amps);
		loop_run(L, 8000);
		assert_int_equal(L->failed, 0);
		assert_true(L->ok >= 6);
		assert_int_equal(L->compared, L->ok);
		assert_int_equal(L->c.layout, L->t.p.q.layout);
		assert_int_equal(L->ps.temp_count, run[i].temps);
		assert_int_equal(L->ps.cell_count, 4);
		if (run[i].temps)
			assert_true(run[i].amps < 0 ? L->ps.current_mA < 0 : L->ps.current_mA > 0);
		free(L);
	}
}

/* Each quirk the personality can show, with the client on the other end. */
static void loop_survives_quirks(void **state)
{
	static const struct { const char *key, *value; unsigned max_failed; } q[] = {
		{ "push_ms", "1000", 0 },      /* the stream at 1 Hz, the poll at 1 Hz */
		{ "push_ms", "200", 0 },
		{ "latency_ms", "300", 0 },
		{ "at_after_ack", "0", 0 },
		{ "quiet_stop_ms", "2500", 4 },/* the stream stops; 0x96 starts it again */
	};

	(void)state;
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		struct loop *L = malloc(sizeof *L);

		loop_make(L, "JK02_32S", 2, -10.0);
		assert_int_equal(set_quirk(&L->t, q[i].key, q[i].value), RIG_OK);
		loop_run(L, 12000);
		if (L->failed > q[i].max_failed)
			fail_msg("quirk %s=%s: %u failed cycles", q[i].key, q[i].value, L->failed);
		assert_true(L->ok >= 8);
		/* Still served at the end. */
		unsigned ok = L->ok;
		loop_run(L, 2000);
		assert_true(L->ok >= ok + 1);
		free(L);
	}
	/* A stopping stream is noticed and restarted more than once. */
	struct loop *L = malloc(sizeof *L);
	loop_make(L, "JK02_24S", 2, -10.0);
	assert_int_equal(set_quirk(&L->t, "quiet_stop_ms", "2500"), RIG_OK);
	loop_run(L, 12000);
	assert_true(L->failed >= 2);
	assert_true(L->t.p.commands >= 4);
	free(L);
}

/* The link loses the client's first write (0x97) and the ack that answers 0x96. */
static void loop_lost_request_and_ack(void **state)
{
	struct loop *L = malloc(sizeof *L);

	(void)state;
	loop_make(L, "JK02_32S", 2, -10.0);
	L->drop_first_up = 1;
	L->drop_ack_after_96 = 1;
	loop_run(L, 5000);
	assert_int_equal(L->drop_ack_after_96, 0);
	assert_int_equal(L->failed, 0);
	assert_true(L->ok >= 4);
	assert_int_equal(rig_jk_ble_client_stats(&L->c)->resends, 1);
	free(L);
}

/* set_fets reaches the BMS, and the records show the result. */
static void loop_fets(void **state)
{
	struct loop *L = malloc(sizeof *L);

	(void)state;
	loop_make(L, "JK02_32S", 2, -10.0);
	loop_run(L, 2000);
	assert_int_equal(L->ps.fet_chg, 1);
	assert_int_equal(L->ps.fet_dsg, 1);
	rig_jk_ble_client_ops.set_fets(&L->c, 0, 1);
	loop_run(L, 3000);
	assert_int_equal(L->t.b.inhibit, BMS_INHIBIT_CHG);
	assert_int_equal(L->ps.fet_chg, 0);
	assert_int_equal(L->ps.fet_dsg, 1);
	rig_jk_ble_client_ops.set_fets(&L->c, 1, 0);
	loop_run(L, 3000);
	assert_int_equal(L->t.b.inhibit, BMS_INHIBIT_DSG);
	assert_int_equal(L->ps.fet_chg, 1);
	assert_int_equal(L->ps.fet_dsg, 0);
	assert_int_equal(L->ps.current_mA, 0);     /* the discharge FET is open */
	assert_int_equal(L->failed, 0);
	free(L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_info_then_settings_then_stream),
		cmocka_unit_test(writes_reach_the_bms),
		cmocka_unit_test(jk04_and_24s_records),
		cmocka_unit_test(errors_and_balancing),
		cmocka_unit_test(wire_resistances_for_the_cells_present),
		cmocka_unit_test(layout_cell_maximum),
		cmocka_unit_test(quirk_settings),
		cmocka_unit_test(loop_each_layout),
		cmocka_unit_test(loop_survives_quirks),
		cmocka_unit_test(loop_lost_request_and_ack),
		cmocka_unit_test(loop_fets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
