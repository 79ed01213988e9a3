/*
 * The BYD PRO 2.5 personality: the read answered at its own address with the record built from
 * the BMS (every field against bms_view, temperatures rounded to whole degC, the protect and
 * alarm words from the BMS's protections, the battery state from the current), silence for
 * other addresses, replies, other masters' bytes and noise; requests in pieces; quirks; the
 * decoded view of what it sends.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/byd_json.h"
#include "bmsrig/sim/byd_personality.h"
#include "bmsrig/sim/model.h"
#include "fake_io.h"

struct rig {
	struct model m;
	struct bms b;
	alignas(max_align_t) uint8_t state[PERSONALITY_STATE_MAX];
	struct reply_sink sink;
	uint8_t wire[BYD_FRAME_MAX];
	size_t n;
	uint32_t delay_ms;
	unsigned parts, n_out, n_logged;
};

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct rig *r = ctx;

	assert_true(n <= sizeof r->wire);
	memcpy(r->wire, wire, n);
	r->n = n;
	r->delay_ms = delay_ms;
	r->parts = parts;
	r->n_out++;
}

static void on_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct byd_frame f;

	(void)dir;
	assert_int_equal(rig_byd_frame_parse(wire, n, &f), RIG_OK);   /* logs see whole frames */
	((struct rig *)ctx)->n_logged++;
}

static struct rig *rig_new(uint8_t cells, uint8_t ntc, uint8_t address, double current_A)
{
	static struct rig rig;         /* one test at a time: no allocation to leak on a failure */
	struct rig *r = &rig;
	struct model_cfg c;

	memset(r, 0, sizeof *r);
	model_cfg_defaults(&c);
	c.cells = cells;
	c.ntc_count = ntc;
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
	bms_step(&r->b, &r->m, 0.1, current_A);
	assert_int_equal(byd_personality_ops.init(r->state, &r->b, address), RIG_OK);
	r->sink = (struct reply_sink){ r, on_send, on_frame };
	return r;
}

static unsigned ask_hex(struct rig *r, const char *hex)
{
	uint8_t w[256];
	size_t n = hex_to_bytes(hex, w, sizeof w);
	unsigned before = r->n_out;

	byd_personality_ops.rx(r->state, w, n, 1000, &r->sink);
	return r->n_out - before;
}

static void reply_record(const struct rig *r, struct byd_frame *f, struct byd_data *d)
{
	assert_int_equal(r->n, BYD_READ_REPLY_LEN);
	assert_int_equal(rig_byd_frame_parse(r->wire, r->n, f), RIG_OK);
	assert_int_equal(rig_byd_data_decode(f, d), RIG_OK);
}

static void read_gives_the_bms_as_the_record(void **state)
{
	struct rig *r = rig_new(16, 4, 0, -20.0);
	struct byd_frame f;
	struct byd_data d;
	struct bms_view v;

	(void)state;
	assert_int_equal(ask_hex(r, "01 00 04 01 03 55 AA 07"), 1);   /* 0 = address 1 */
	assert_int_equal(r->delay_ms, 40);
	assert_int_equal(r->parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	assert_int_equal(r->n_logged, 2);
	reply_record(r, &f, &d);
	assert_int_equal(f.addr, 1);
	assert_int_equal(f.payload[0], 0);
	bms_view(&r->b, &v);
	assert_int_equal(d.pack_mV, (int32_t)v.pack_mV);
	assert_int_equal(d.battery_mV, (int32_t)v.pack_mV);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(d.cell_mV[i], v.cell_mV[i]);
	assert_int_equal(d.current_mA, v.current_mA);
	assert_true(d.current_mA < 0);
	assert_int_equal(d.battery_state, BYD_BAT_DISCHARGE);
	for (unsigned i = 0; i < BYD_TEMPS; i++) {
		/* Whole degC; the slots beyond the 4 probes repeat probe 1. */
		int want_dK = v.probe_dK[i < 4 ? i : 0];
		int got_dK = d.temp_C[i] * 10 + (int)PACK_DK_ZERO_C;

		assert_true(abs(got_dK - want_dK) <= 5);
	}
	assert_int_equal(d.soc_pct, v.soc_pct);
	assert_int_equal(d.soh_pct, v.soh_pct);
	assert_int_equal(d.discharge_count, v.cycles);
	assert_int_equal(d.protect, 0);
	assert_int_equal(d.alarm, 0);
	assert_int_equal(d.fail, 0);
}

static void fewer_cells_leave_slots_zero_and_state_follows_current(void **state)
{
	struct rig *r = rig_new(13, 2, 5, 15.0);
	struct byd_frame f;
	struct byd_data d;
	struct pack_state s;

	(void)state;
	assert_int_equal(ask_hex(r, "05 00 04 01 03 55 AA 07"), 1);
	reply_record(r, &f, &d);
	assert_int_equal(f.addr, 5);
	assert_int_not_equal(d.cell_mV[12], 0);
	assert_int_equal(d.cell_mV[13], 0);
	assert_int_equal(d.cell_mV[15], 0);
	assert_int_equal(d.battery_state, BYD_BAT_CHARGE);
	assert_int_equal(rig_byd_to_pack_state(&d, &s), RIG_OK);
	assert_int_equal(s.cell_count, 13);
	/* Idle. */
	bms_step(&r->b, &r->m, 0.1, 0.0);
	assert_int_equal(ask_hex(r, "05 00 04 01 03 55 AA 07"), 1);
	reply_record(r, &f, &d);
	assert_int_equal(d.battery_state, BYD_BAT_IDLE);
}

static void protections_reach_protect_and_alarm(void **state)
{
	struct rig *r = rig_new(16, 2, 1, 0.0);
	struct byd_frame f;
	struct byd_data d;

	(void)state;
	r->b.prot_bits = PACK_PROT_CELL_OV | PACK_PROT_DSG_OT | PACK_PROT_SHORT;
	assert_int_equal(ask_hex(r, "01 00 04 01 03 55 AA 07"), 1);
	reply_record(r, &f, &d);
	assert_int_equal(d.protect, BYD_ST_CELL_V_HIGH | BYD_ST_DSG_T_HIGH | BYD_ST_DSG_SHORT);
	assert_int_equal(d.alarm, d.protect);
	assert_int_equal(rig_byd_prot_from_state(d.protect, d.fail), PACK_PROT_CELL_OV | PACK_PROT_DSG_OT | PACK_PROT_SHORT);
}

static void silence_for_what_is_not_its_read(void **state)
{
	struct rig *r = rig_new(16, 2, 3, 0.0);

	(void)state;
	assert_int_equal(ask_hex(r, "01 00 04 01 03 55 AA 07"), 0);     /* another module's */
	assert_int_equal(ask_hex(r, "03 00 04 01 03 55 AA 08"), 0);     /* bad sum */
	assert_int_equal(ask_hex(r, "03 00 05 01 03 55 AA 00 08"), 0);  /* a read with a payload */
	assert_int_equal(ask_hex(r, "03 00 05 01 83 55 AA 02 8A"), 0);  /* a reply on the bus */
	assert_int_equal(ask_hex(r, "FF 55 AA 00 03 00 04 01"), 0);     /* noise */
	/* Pieces, after the noise: one reply. */
	assert_int_equal(ask_hex(r, "03 00 04"), 0);
	assert_int_equal(ask_hex(r, "01 03 55"), 0);
	assert_int_equal(ask_hex(r, "AA 07"), 1);
	assert_int_equal(r->wire[0], 3);
}

static void quirks_and_view(void **state)
{
	struct rig *r = rig_new(16, 2, 1, 0.0);
	char why[160] = "";
	cJSON *o;

	(void)state;
	assert_int_equal(byd_personality_ops.set_quirk(r->state, "latency_ms", "120", why, sizeof why), RIG_OK);
	assert_int_equal(ask_hex(r, "01 00 04 01 03 55 AA 07"), 1);
	assert_int_equal(r->delay_ms, 120);
	assert_int_equal(byd_personality_ops.set_quirk(r->state, "latency_ms", "9000", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "latency_ms"));
	assert_int_equal(byd_personality_ops.set_quirk(r->state, "echo", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "unknown byd quirk"));
	assert_ptr_equal(personality_find("byd"), &byd_personality_ops);
	assert_int_equal(byd_personality_ops.baud, 9600);
	o = byd_personality_ops.wire_json(r->wire, r->n);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")), "response");
	assert_false(cJSON_HasObjectItem(o, "error"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "cells_mv")), 16);
	cJSON_Delete(o);
	o = byd_personality_ops.wire_json(r->wire, r->n - 1);
	assert_true(cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_gives_the_bms_as_the_record),
		cmocka_unit_test(fewer_cells_leave_slots_zero_and_state_follows_current),
		cmocka_unit_test(protections_reach_protect_and_alarm),
		cmocka_unit_test(silence_for_what_is_not_its_read),
		cmocka_unit_test(quirks_and_view),
	};

	return cmocka_run_group_tests_name("byd_personality", tests, NULL, NULL);
}
