/*
 * Daly personality: addressing on a bus, answer shapes (frame counts and numbers, leftovers
 * where the captures show them), values from the BMS, writes, the reset, sleep and its
 * treatments, the settings ids, quirk parsing, and what the generic table hands the sink
 * (delays, truth parts).
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/daly_json.h"
#include "bmsrig/sim/daly_personality.h"
#include "fake_io.h"

struct rig {
	struct model m;
	struct bms b;
	struct daly_personality p;
	struct daly_answer a;
	uint32_t now_ms;
};

static void rig_make(struct rig *r, uint8_t cells, uint8_t board, double current_A)
{
	struct model_cfg c;

	memset(r, 0, sizeof *r);
	model_cfg_defaults(&c);          /* LFP 100 Ah at 50 %, 2 NTC */
	c.cells = cells;
	assert_int_equal(model_init(&r->m, &c), RIG_OK);
	assert_int_equal(bms_init(&r->b, &r->m), RIG_OK);
	assert_int_equal(daly_personality_init(&r->p, &r->b, NULL, board, &r->m), RIG_OK);
	bms_step(&r->b, &r->m, 0.1, current_A);
	r->now_ms = 1000;
}

/* One request from host `host`; returns the answer's frame count. */
static unsigned ask(struct rig *r, uint8_t host, uint8_t cmd)
{
	struct daly_frame req;

	r->now_ms += 200;
	rig_daly_request_read(&req, host, cmd, 0x00);
	daly_personality_handle(&r->p, &req, r->now_ms, &r->a);
	return r->a.count;
}

/* Any request frame, 200 ms after the one before. */
static unsigned ask_frame(struct rig *r, const struct daly_frame *req)
{
	r->now_ms += 200;
	daly_personality_handle(&r->p, req, r->now_ms, &r->a);
	return r->a.count;
}

static void quirk(struct rig *r, const char *key, const char *value)
{
	char why[160] = "";

	if (daly_personality_set_quirk(&r->p, key, value, why, sizeof why) != RIG_OK)
		fail_msg("%s=%s: %s", key, value, why);
}

static void assert_wire(const struct daly_frame *f, const char *hex)
{
	uint8_t want[DALY_FRAME_LEN + 2], out[DALY_FRAME_LEN];
	size_t n = hex_to_bytes(hex, want, sizeof want), len = 0;

	assert_int_equal(rig_daly_frame_encode(f, out, sizeof out, &len), RIG_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
}

static void addressing(void **state)
{
	struct rig r;
	struct daly_frame reply;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	/* A lone BMS answers the PC/UART address and the app's, always as 0x01. */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	assert_int_equal(r.a.frame[0].addr, 0x01);
	assert_int_equal(ask(&r, 0x80, DALY_CMD_PACK), 1);
	assert_int_equal(r.a.frame[0].addr, 0x01);
	assert_int_equal(ask(&r, 0x41, DALY_CMD_PACK), 0);
	assert_int_equal(ask(&r, 0x20, DALY_CMD_PACK), 0);
	/* Another BMS's reply on the line is not a request. */
	rig_daly_frame_raw(&reply, 0x01, DALY_CMD_PACK, (const uint8_t[8]){ 0 });
	daly_personality_handle(&r.p, &reply, 5000, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_NONE);
	/* Board 2 on a bus: 0x41 only, answers as 0x02; board 1's requests and 0x80 get silence. */
	rig_make(&r, 4, 2, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 0);
	assert_int_equal(ask(&r, 0x80, DALY_CMD_PACK), 0);
	assert_int_equal(ask(&r, 0x41, DALY_CMD_PACK), 1);
	assert_int_equal(r.a.frame[0].addr, 0x02);
	/* Board 1 given explicitly is on a bus too: 0x40 only. */
	rig_make(&r, 4, 1, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_STATUS), 1);
	assert_int_equal(ask(&r, 0x80, DALY_CMD_STATUS), 0);
	assert_int_equal(daly_personality_init(&r.p, &r.b, NULL, 17, NULL), RIG_ERR_ARG);
	/* Unknown ids and the undecoded settings: silence. */
	rig_make(&r, 4, 0, 0.0);
	static const uint8_t silent[] = { 0x55, 0x56, 0x58, 0x5C, 0x5D, 0x5E, 0x61, 0x99, 0xFF };
	for (size_t i = 0; i < sizeof silent; i++)
		assert_int_equal(ask(&r, 0x40, silent[i]), 0);
	/* Fill bytes of a read do not matter (0xAA, dbus-serialbattery). */
	struct daly_frame req;
	rig_daly_request_read(&req, 0x40, DALY_CMD_STATUS, 0xAA);
	assert_int_equal(ask_frame(&r, &req), 1);
}

static void pack_mos_status_values(void **state)
{
	struct rig r;
	struct daly_pack p;
	struct daly_mos m;
	struct daly_status s;

	(void)state;
	rig_make(&r, 4, 0, -12.3);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	assert_int_equal(r.a.truth_parts, TRUTH_PACK);
	assert_int_equal(r.a.delay_ms, 60);
	assert_int_equal(rig_daly_pack_decode(&r.a.frame[0], &p), RIG_OK);
	assert_in_range(p.pack_mV, r.b.meas.pack_mV - 50, r.b.meas.pack_mV + 50);
	assert_int_equal(p.current_mA, -12300);
	assert_int_equal(p.soc_permille, 500);
	assert_int_equal(p.gather_mV, 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_MOS), 1);
	assert_int_equal(rig_daly_mos_decode(&r.a.frame[0], &m), RIG_OK);
	assert_int_equal(m.state, DALY_STATE_DISCHARGING);
	assert_int_equal(m.chg_fet, 1);
	assert_int_equal(m.dsg_fet, 1);
	assert_int_equal(m.remain_mAh, bms_remain_mAh(&r.b));
	uint8_t life = m.life;
	assert_int_equal(ask(&r, 0x40, DALY_CMD_MOS), 1);
	assert_int_equal(rig_daly_mos_decode(&r.a.frame[0], &m), RIG_OK);
	assert_int_equal(m.life, (uint8_t)(life + 1));      /* the heartbeat rolls */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_STATUS), 1);
	assert_int_equal(rig_daly_status_decode(&r.a.frame[0], &s), RIG_OK);
	assert_int_equal(s.cell_count, 4);
	assert_int_equal(s.ntc_count, 2);
	assert_int_equal(s.load, 1);
	assert_int_equal(s.charger, 0);
	assert_int_equal(s.dio & 0x80, 0);
	/* Inverted firmware: 0x90 flips, 0x93 still tells the truth. */
	quirk(&r, "current_sign", "inverted");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	assert_int_equal(rig_daly_pack_decode(&r.a.frame[0], &p), RIG_OK);
	assert_int_equal(p.current_mA, 12300);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_MOS), 1);
	assert_int_equal(rig_daly_mos_decode(&r.a.frame[0], &m), RIG_OK);
	assert_int_equal(m.state, DALY_STATE_DISCHARGING);
	/* The dead band: 0.6 A under the default 1 A reads 0 and idle. */
	rig_make(&r, 4, 0, 0.6);
	assert_int_equal(r.b.sensor.current_deadband_mA, 1000);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	assert_int_equal(rig_daly_pack_decode(&r.a.frame[0], &p), RIG_OK);
	assert_int_equal(p.current_mA, 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_MOS), 1);
	assert_int_equal(rig_daly_mos_decode(&r.a.frame[0], &m), RIG_OK);
	assert_int_equal(m.state, DALY_STATE_IDLE);
}

/* Leftovers at the same place of the frame sent before, as in the captures (§2.4). */
static void stale_reserved_bytes(void **state)
{
	struct rig r;
	struct daly_cell_range cr;
	struct daly_pack p;
	struct daly_flag fl;
	struct daly_frame req;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	assert_int_equal(rig_daly_pack_decode(&r.a.frame[0], &p), RIG_OK);
	/* 0x91 d6..d7 = the SOC of the 0x90 before it (thread 21898: 01 F4 after 50.0 %). */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELL_RANGE), 1);
	assert_int_equal(rig_daly_cell_range_decode(&r.a.frame[0], &cr), RIG_OK);
	assert_int_equal(cr.reserved[0] << 8 | cr.reserved[1], p.soc_permille);
	assert_int_equal(cr.max_cell_mV, r.b.meas.cell_mV[cr.max_cell_index - 1]);
	assert_int_equal(cr.min_cell_mV, r.b.meas.cell_mV[cr.min_cell_index - 1]);
	/* 0x92 d4..d5 repeat 0x91 d4..d5. */
	uint8_t d45[2] = { r.a.frame[0].data[4], r.a.frame[0].data[5] };
	assert_int_equal(ask(&r, 0x40, DALY_CMD_TEMP_RANGE), 1);
	assert_memory_equal(r.a.frame[0].data + 4, d45, 2);
	/* The 0xD9 echo carries the previous frame's d1..d7 (python-daly-bms #3). */
	uint8_t prev[8];
	memcpy(prev, r.a.frame[0].data, 8);
	rig_daly_request_fet(&req, 0x40, DALY_CMD_DSG_FET, 1);
	(void)ask_frame(&r, &req);
	assert_int_equal(rig_daly_flag_decode(&r.a.frame[0], &fl), RIG_OK);
	assert_int_equal(fl.value, 1);
	assert_memory_equal(fl.reserved, prev + 1, 7);
	/* Off: all reserved bytes zero. */
	quirk(&r, "stale_reserved", "0");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELL_RANGE), 1);
	assert_int_equal(r.a.frame[0].data[6] | r.a.frame[0].data[7], 0);
}

static void cell_and_temperature_frames(void **state)
{
	struct rig r;
	struct daly_cell_frame cf;
	struct daly_temp_frame tf;
	struct daly_status s;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_STATUS), 1);
	assert_int_equal(rig_daly_status_decode(&r.a.frame[0], &s), RIG_OK);
	/* 4 cells: ceil(4/3) = 2 frames numbered 1, 2; d7 carries 0x94's d7 along. */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELLS), 2);
	assert_int_equal(r.a.truth_parts, TRUTH_CELLS);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(rig_daly_cell_frame_decode(&r.a.frame[k], &cf), RIG_OK);
		assert_int_equal(cf.frame_no, k + 1);
		assert_int_equal(cf.reserved, s.reserved);
		assert_int_equal(cf.cell_mV[0], r.b.meas.cell_mV[3 * k]);
	}
	/* Padding slots 5 and 6 repeat cells 2 and 3 from frame 1 (the 16S "cells 17/18"). */
	assert_int_equal(cf.cell_mV[1], r.b.meas.cell_mV[1]);
	assert_int_equal(cf.cell_mV[2], r.b.meas.cell_mV[2]);
	quirk(&r, "stale_reserved", "0");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELLS), 2);
	assert_int_equal(rig_daly_cell_frame_decode(&r.a.frame[1], &cf), RIG_OK);
	assert_int_equal(cf.cell_mV[1], 0);
	assert_int_equal(cf.cell_mV[2], 0);
	/* 15 cells: exactly 5 frames, the count maland16's floor(n/3)+1 gets wrong. */
	rig_make(&r, 15, 0, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELLS), 5);
	/* BLE dongle mode: all 16 to host 0x80, frames past the count zero; 0x40 unchanged. */
	rig_make(&r, 4, 0, 0.0);
	quirk(&r, "all_cell_frames", "1");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELLS), 2);
	assert_int_equal(ask(&r, 0x80, DALY_CMD_CELLS), 16);
	for (unsigned k = 0; k < 16; k++) {
		assert_int_equal(rig_daly_cell_frame_decode(&r.a.frame[k], &cf), RIG_OK);
		assert_int_equal(cf.frame_no, k + 1);
		if (k >= 2)
			assert_int_equal(cf.cell_mV[0] | cf.cell_mV[1] | cf.cell_mV[2], 0);
	}
	/* 2 NTCs: one frame, ceil(2/7), as a real board answers. */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_TEMPS), 1);
	assert_int_equal(r.a.truth_parts, TRUTH_TEMPS);
	assert_int_equal(rig_daly_temp_frame_decode(&r.a.frame[0], &tf), RIG_OK);
	assert_int_equal(tf.frame_no, 1);
	assert_in_range(tf.temp_dK[0], r.b.meas.probe_dK[0] - 5, r.b.meas.probe_dK[0] + 5);
	assert_int_equal(tf.temp_dK[2], 2331);             /* no sensor: raw 0 */
	/* The quirk adds the all-zero frame of some captures (thread 21898). */
	quirk(&r, "extra_temp_frame", "1");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_TEMPS), 2);
	assert_wire(&r.a.frame[1], "A5 01 96 08 02 00 00 00 00 00 00 00 46");
}

static void balance_and_faults(void **state)
{
	struct rig r;
	struct daly_balance b;
	struct daly_faults x;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	/* Cells 1 and 4 bleeding: d0 = 0x09; a bit past the cell count is not reported. */
	r.b.bal_mask = 0x19;
	assert_int_equal(ask(&r, 0x40, DALY_CMD_BALANCE), 1);
	assert_int_equal(r.a.frame[0].data[0], 0x09);
	assert_int_equal(rig_daly_balance_decode(&r.a.frame[0], &b), RIG_OK);
	assert_int_equal(b.bal_lo, 0x09);
	/* Protections as level 1 + level 2 pairs; fault code 0. */
	r.b.prot_bits = PACK_PROT_CELL_OV | PACK_PROT_DSG_OC;
	assert_int_equal(ask(&r, 0x40, DALY_CMD_FAULTS), 1);
	assert_wire(&r.a.frame[0], "A5 01 98 08 03 00 0C 00 00 00 00 00 55");
	assert_int_equal(rig_daly_faults_decode(&r.a.frame[0], &x), RIG_OK);
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), PACK_PROT_CELL_OV | PACK_PROT_DSG_OC);
}

static void writes(void **state)
{
	struct rig r;
	struct daly_frame req;
	struct daly_flag fl;
	struct daly_soc_set s = { 2022, 12, 13, 21, 29, 39, 300 };
	struct daly_faults x;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	/* 0xDA charge off, 0xD9 discharge off, then on again; each reply echoes d0. */
	rig_daly_request_fet(&req, 0x40, DALY_CMD_CHG_FET, 0);
	(void)ask_frame(&r, &req);
	assert_int_equal(r.b.inhibit, BMS_INHIBIT_CHG);
	assert_int_equal(rig_daly_flag_decode(&r.a.frame[0], &fl), RIG_OK);
	assert_int_equal(fl.value, 0);
	rig_daly_request_fet(&req, 0x40, DALY_CMD_DSG_FET, 0);
	(void)ask_frame(&r, &req);
	assert_int_equal(r.b.inhibit, BMS_INHIBIT_CHG | BMS_INHIBIT_DSG);
	assert_int_equal(r.b.fet, 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_FAULTS), 1);
	assert_int_equal(rig_daly_faults_decode(&r.a.frame[0], &x), RIG_OK);
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), PACK_PROT_SW_LOCK);
	rig_daly_request_fet(&req, 0x40, DALY_CMD_CHG_FET, 1);
	(void)ask_frame(&r, &req);
	assert_int_equal(r.b.inhibit, BMS_INHIBIT_DSG);
	/* d0 other than 0/1 changes nothing, and is echoed. */
	req.data[0] = 7;
	(void)ask_frame(&r, &req);
	assert_int_equal(r.b.inhibit, BMS_INHIBIT_DSG);
	assert_int_equal(r.a.frame[0].data[0], 7);
	/* 0x21 (diysolarforum 52016): 30.0 % of 100 Ah; reply d0 = 1. */
	assert_int_equal(rig_daly_soc_set_encode(&req, 0x40, &s), RIG_OK);
	(void)ask_frame(&r, &req);
	assert_int_equal(bms_remain_mAh(&r.b), 30000);
	assert_int_equal(r.a.frame[0].cmd, DALY_CMD_SOC_SET);
	assert_int_equal(r.a.frame[0].data[0], 1);
	s.soc_permille = 1001;
	assert_int_equal(rig_daly_soc_set_encode(&req, 0x40, &s), RIG_OK);
	(void)ask_frame(&r, &req);
	assert_int_equal(r.a.frame[0].data[0], 0);
	assert_int_equal(bms_remain_mAh(&r.b), 30000);
	/* 0xD8: the captured zero reply. */
	assert_int_equal(ask(&r, 0x40, DALY_CMD_D8), 1);
	assert_wire(&r.a.frame[0], "A5 01 D8 08 00 00 00 00 00 00 00 00 86");
}

static void reset_reboots_in_silence(void **state)
{
	struct rig r;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	(void)bms_set_inhibit(&r.b, BMS_INHIBIT_DSG);
	uint16_t restarts = r.b.events[BMS_EV_RESTART];
	assert_int_equal(ask(&r, 0x40, DALY_CMD_RESET), 0);
	assert_int_equal(r.a.kind, DALY_ANSWER_NONE);
	assert_int_equal(r.b.events[BMS_EV_RESTART], restarts + 1);
	assert_int_equal(r.b.inhibit, 0);                  /* a power cycle clears it */
	assert_int_equal(r.p.resets, 1);
	/* Silent for reset_ms (3000), then back. */
	r.now_ms += 2500;
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK), 1);
	/* Without a model (the generic table) the BMS restarts too; the next step measures. */
	assert_int_equal(daly_personality_init(&r.p, &r.b, NULL, 0, NULL), RIG_OK);
	(void)bms_set_inhibit(&r.b, BMS_INHIBIT_DSG);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_RESET), 0);
	assert_int_equal(r.b.events[BMS_EV_RESTART], restarts + 2);
	assert_int_equal(r.b.inhibit, 0);
	assert_int_equal(r.p.resets, 1);
}

static void sleep_echo_zero_and_wake(void **state)
{
	struct rig r;
	struct daly_frame req;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	/* 3000 s without current: asleep. */
	daly_personality_tick(&r.p, 0);
	daly_personality_tick(&r.p, 2999999);
	assert_int_equal(r.p.asleep, 0);
	daly_personality_tick(&r.p, 3000000);
	assert_int_equal(r.p.asleep, 1);
	/* Asleep: the request comes back 3 ms later, byte for byte. */
	rig_daly_request_read(&req, 0x40, DALY_CMD_PACK, 0xAA);
	daly_personality_handle(&r.p, &req, 3000100, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_ECHO);
	assert_int_equal(r.a.delay_ms, 3);
	assert_wire(&r.a.frame[0], "A5 40 90 08 AA AA AA AA AA AA AA AA CD");
	assert_int_equal(r.p.asleep, 1);                     /* wake_on=current: still asleep */
	/* Not addressed: not even an echo. */
	rig_daly_request_read(&req, 0x41, DALY_CMD_PACK, 0);
	daly_personality_handle(&r.p, &req, 3000200, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_NONE);
	/* No echo, zero frames: the all-zero reply of the stale adapter. */
	quirk(&r, "echo", "0");
	quirk(&r, "zero_frames", "1");
	rig_daly_request_read(&req, 0x40, DALY_CMD_PACK, 0);
	daly_personality_handle(&r.p, &req, 3000300, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_FRAMES);
	assert_wire(&r.a.frame[0], "A5 01 90 08 00 00 00 00 00 00 00 00 3E");
	assert_int_equal(r.a.truth_parts, 0);
	/* Neither: silence. */
	quirk(&r, "zero_frames", "0");
	daly_personality_handle(&r.p, &req, 3000400, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_NONE);
	/* A current beyond the dead band wakes it; inside the band it does not. */
	bms_step(&r.b, &r.m, 0.1, 0.9);
	daly_personality_tick(&r.p, 3000500);
	assert_int_equal(r.p.asleep, 1);
	bms_step(&r.b, &r.m, 0.1, 1.5);
	daly_personality_tick(&r.p, 3000600);
	assert_int_equal(r.p.asleep, 0);
	daly_personality_handle(&r.p, &req, 3000700, &r.a);
	assert_int_equal(r.a.count, 1);
	assert_int_equal(r.a.delay_ms, 60);
	/* wake_on=none: only the pin (asleep=0). */
	quirk(&r, "wake_on", "none");
	quirk(&r, "asleep", "1");
	daly_personality_tick(&r.p, 3000800);
	assert_int_equal(r.p.asleep, 1);
	quirk(&r, "asleep", "0");
	daly_personality_handle(&r.p, &req, 3000900, &r.a);
	assert_int_equal(r.a.count, 1);
	/* wake_on=any: the waking request still meets a sleeping board; the next is answered;
	 * requests keep it awake. */
	quirk(&r, "wake_on", "any");
	quirk(&r, "echo", "1");
	quirk(&r, "sleep_after_s", "10");
	bms_step(&r.b, &r.m, 0.1, 0.0);
	daly_personality_tick(&r.p, 4000000);
	daly_personality_tick(&r.p, 4010000);
	assert_int_equal(r.p.asleep, 1);
	daly_personality_handle(&r.p, &req, 4010100, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_ECHO);
	daly_personality_handle(&r.p, &req, 4010200, &r.a);
	assert_int_equal(r.a.kind, DALY_ANSWER_FRAMES);
	daly_personality_handle(&r.p, &req, 4019000, &r.a);
	daly_personality_tick(&r.p, 4025000);
	assert_int_equal(r.p.asleep, 0);
	/* sleep_after_s=0: never. */
	quirk(&r, "sleep_after_s", "0");
	daly_personality_tick(&r.p, 0xF0000000u);
	assert_int_equal(r.p.asleep, 0);
}

static void settings_from_registers(void **state)
{
	struct rig r;
	struct daly_rated ra;
	struct daly_layout la;
	struct daly_info in;
	struct daly_cell_limits cl;
	struct daly_pack_limits pl;
	struct daly_current_limits cu;
	struct daly_balance_cfg bc;
	struct daly_totals to;
	struct daly_code_frame co;
	struct daly_text8 fw;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_RATED), 1);
	assert_int_equal(rig_daly_rated_decode(&r.a.frame[0], &ra), RIG_OK);
	assert_int_equal(ra.rated_mAh, 100000);
	assert_int_equal(ra.nominal_cell_mV, 3200);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_LAYOUT), 1);
	assert_int_equal(rig_daly_layout_decode(&r.a.frame[0], &la), RIG_OK);
	assert_int_equal(la.boards, 1);
	assert_int_equal(la.cells[0], 4);
	assert_int_equal(la.ntc[0], 2);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_INFO), 1);
	assert_int_equal(rig_daly_info_decode(&r.a.frame[0], &in), RIG_OK);
	assert_int_equal(in.battery_type, 0);
	assert_int_equal(in.year, 2024);
	assert_int_equal(in.month, 3);
	assert_int_equal(in.day, 15);
	assert_int_equal(in.sleep_s, 3000);
	quirk(&r, "sleep_after_s", "0");
	assert_int_equal(ask(&r, 0x40, DALY_CMD_INFO), 1);
	assert_int_equal(rig_daly_info_decode(&r.a.frame[0], &in), RIG_OK);
	assert_int_equal(in.sleep_s, 0xFFFF);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELL_LIMITS), 1);
	assert_int_equal(rig_daly_cell_limits_decode(&r.a.frame[0], &cl), RIG_OK);
	assert_int_equal(cl.high_l2_mV, 3650);
	assert_int_equal(cl.high_l1_mV, 3550);
	assert_int_equal(cl.low_l2_mV, 2500);
	assert_int_equal(cl.low_l1_mV, 2700);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_PACK_LIMITS), 1);
	assert_int_equal(rig_daly_pack_limits_decode(&r.a.frame[0], &pl), RIG_OK);
	assert_int_equal(pl.high_l2_mV, 14600);            /* 4 x 3650 */
	assert_int_equal(pl.low_l2_mV, 10000);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CURRENT_LIMITS), 1);
	assert_int_equal(rig_daly_current_limits_decode(&r.a.frame[0], &cu), RIG_OK);
	assert_int_equal(cu.dsg_l2_mA, 100000);            /* 1 C both ways, Daly's signs */
	assert_int_equal(cu.chg_l2_mA, -100000);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_BALANCE_CFG), 1);
	assert_int_equal(rig_daly_balance_cfg_decode(&r.a.frame[0], &bc), RIG_OK);
	assert_int_equal(bc.start_mV, 3400);
	assert_int_equal(bc.delta_mV, 15);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_TOTALS), 1);
	assert_int_equal(rig_daly_totals_decode(&r.a.frame[0], &to), RIG_OK);
	assert_int_equal(to.discharge_Ah, 0);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_FIRMWARE), 1);
	assert_int_equal(rig_daly_text8_decode(&r.a.frame[0], &fw), RIG_OK);
	assert_memory_equal(fw.text, "20220810", 8);
	assert_int_equal(bms_string_set(&r.b, BMS_TEXT_BARCODE, "DALY-16S-0042", 13), RIG_OK);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CODE), 5);
	assert_int_equal(rig_daly_code_frame_decode(&r.a.frame[1], &co), RIG_OK);
	assert_int_equal(co.frame_no, 2);
	assert_memory_equal(co.text, "S-0042\0", 7);
	/* Settings follow the BMS's at once. */
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CELL_OVP, 3600), RIG_OK);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELL_LIMITS), 1);
	assert_int_equal(rig_daly_cell_limits_decode(&r.a.frame[0], &cl), RIG_OK);
	assert_int_equal(cl.high_l2_mV, 3600);
}

/* Daly's limit frames report the BMS's neutral settings in Daly's units and signs. */
static void limits_report_the_neutral_settings(void **state)
{
	struct rig r;
	struct daly_cell_limits cl;
	struct daly_current_limits il;
	struct daly_balance_cfg bc;

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CELL_UVP, 2610), RIG_OK);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CELL_OVP_RELEASE, 3520), RIG_OK);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_DSG_OC, 45000), RIG_OK);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_CHG_OC, 21000), RIG_OK);
	assert_int_equal(bms_setting_set(&r.b, BMS_SET_BALANCE_DELTA, 23), RIG_OK);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CELL_LIMITS), 1);
	assert_int_equal(rig_daly_cell_limits_decode(&r.a.frame[0], &cl), RIG_OK);
	assert_int_equal(cl.low_l2_mV, 2610);
	assert_int_equal(cl.high_l1_mV, 3520);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_CURRENT_LIMITS), 1);
	assert_int_equal(rig_daly_current_limits_decode(&r.a.frame[0], &il), RIG_OK);
	assert_int_equal(il.dsg_l2_mA, 45000);          /* discharge positive on Daly's wire */
	assert_int_equal(il.chg_l2_mA, -21000);
	assert_int_equal(ask(&r, 0x40, DALY_CMD_BALANCE_CFG), 1);
	assert_int_equal(rig_daly_balance_cfg_decode(&r.a.frame[0], &bc), RIG_OK);
	assert_int_equal(bc.delta_mV, 23);
}

static void quirk_parsing(void **state)
{
	struct rig r;
	char why[200];

	(void)state;
	rig_make(&r, 4, 0, 0.0);
	assert_int_equal(r.p.q.latency_ms, 60);
	assert_int_equal(r.p.q.sleep_after_s, 3000);
	assert_int_equal(r.p.q.wake_on, DALY_WAKE_CURRENT);
	assert_int_equal(r.p.q.echo, 1);
	assert_int_equal(r.p.q.echo_ms, 3);
	assert_int_equal(r.p.q.zero_frames, 0);
	assert_int_equal(r.p.q.stale_reserved, 1);
	assert_int_equal(r.p.q.deadband_ma, 1000);
	assert_int_equal(r.p.q.current_inverted, 0);
	quirk(&r, "latency_ms", "75");
	assert_int_equal(r.p.q.latency_ms, 75);
	quirk(&r, "deadband_ma", "2500");
	assert_int_equal(r.b.sensor.current_deadband_mA, 2500);
	quirk(&r, "wake_on", "any");
	assert_int_equal(r.p.q.wake_on, DALY_WAKE_ANY);
	quirk(&r, "current_sign", "normal");
	assert_int_equal(r.p.q.current_inverted, 0);
	assert_int_equal(daly_personality_set_quirk(&r.p, "latency_ms", "9000", why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "latency_ms: expected 0..5000, got \"9000\"");
	assert_int_equal(daly_personality_set_quirk(&r.p, "echo", "-1", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(daly_personality_set_quirk(&r.p, "echo", "1x", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(daly_personality_set_quirk(&r.p, "wake_on", "pin", why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "wake_on: expected any|current|none, got \"pin\"");
	assert_int_equal(daly_personality_set_quirk(&r.p, "current_sign", "x", why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "current_sign: expected normal|inverted, got \"x\"");
	assert_int_equal(daly_personality_set_quirk(&r.p, "nope", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "unknown daly quirk \"nope\""));
	assert_int_equal(r.p.q.latency_ms, 75);            /* a refused value changes nothing */
	assert_int_equal(r.p.q.wake_on, DALY_WAKE_ANY);
}

/* What the generic table hands the sink. */
struct sent {
	uint8_t wire[32][DALY_FRAME_LEN];
	uint32_t delay[32];
	unsigned parts[32];
	unsigned n;
	unsigned frames_logged;
};

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct sent *s = ctx;

	assert_int_equal(n, DALY_FRAME_LEN);
	assert_true(s->n < 32);
	memcpy(s->wire[s->n], wire, n);
	s->delay[s->n] = delay_ms;
	s->parts[s->n] = parts;
	s->n++;
}

static void sink_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	(void)dir;
	(void)wire;
	(void)n;
	((struct sent *)ctx)->frames_logged++;
}

static void generic_table(void **state)
{
	const struct personality_ops *ops = &daly_personality_ops;
	alignas(max_align_t) static unsigned char st[PERSONALITY_STATE_MAX];
	struct model m;
	struct model_cfg mc;
	struct bms b;
	struct sent s;
	struct reply_sink sink = { &s, sink_send, sink_frame };
	uint8_t w[64];
	size_t n;

	(void)state;
	assert_string_equal(ops->name, "daly");
	assert_int_equal(ops->baud, 9600);
	assert_true(ops->resolution.pack_mV == 100.0 && ops->resolution.current_mA == 100.0 &&
	            ops->resolution.temp_dK == 10.0 && ops->resolution.cell_mV == 1.0);
	assert_non_null(ops->tick);
	assert_true(ops->wire_json == daly_wire_json);
	model_cfg_defaults(&mc);
	mc.cells = 16;
	assert_int_equal(model_init(&m, &mc), RIG_OK);
	assert_int_equal(bms_init(&b, &m), RIG_OK);
	assert_int_equal(ops->init(st, &b, 17), RIG_ERR_ARG);
	assert_int_equal(ops->init(st, &b, 0), RIG_OK);
	/* mpp-solar's 0x95 request with its trailing 0x0A, in pieces, behind some noise. */
	memset(&s, 0, sizeof s);
	n = hex_to_bytes("00 13 A5 40 95 08 00 00 00 00 00 00 00 00 82 0A", w, sizeof w);
	for (size_t i = 0; i < n; i += 3)
		ops->rx(st, w + i, n - i < 3 ? n - i : 3, 1000, &sink);
	assert_int_equal(s.n, 6);                            /* 16 cells */
	for (unsigned k = 0; k < 6; k++) {
		assert_int_equal(s.delay[k], 60 + 14 * k);       /* back to back */
		assert_int_equal(s.parts[k], k == 5 ? TRUTH_CELLS : 0u);
		assert_int_equal(s.wire[k][4], k + 1);
	}
	assert_int_equal(s.frames_logged, 1 + 6);
	/* 0x90 carries the pack truth; 0x96 the temperatures, on its last frame. */
	memset(&s, 0, sizeof s);
	n = hex_to_bytes("A5 80 90 08 00 00 00 00 00 00 00 00 BD A5 80 96 08 00 00 00 00 00 00 00 00 C3", w, sizeof w);
	ops->rx(st, w, n, 2000, &sink);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.parts[0], TRUTH_PACK);
	assert_int_equal(s.parts[1], TRUTH_TEMPS);
	/* A bad checksum is never answered (0xD9 off must not act on noise, §4). */
	memset(&s, 0, sizeof s);
	n = hex_to_bytes("A5 40 D9 08 00 00 00 00 00 00 00 00 C7", w, sizeof w);
	ops->rx(st, w, n, 3000, &sink);
	assert_int_equal(s.n, 0);
	assert_int_equal(b.inhibit, 0);
	/* Quirks through the table; echo through the sink. */
	char why[100];
	assert_int_equal(ops->set_quirk(st, "asleep", "1", why, sizeof why), RIG_OK);
	ops->tick(st, 3500, &sink);
	n = hex_to_bytes("A5 40 90 08 00 00 00 00 00 00 00 00 7D", w, sizeof w);
	ops->rx(st, w, n, 4000, &sink);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.delay[0], 3);
	assert_memory_equal(s.wire[0], w, DALY_FRAME_LEN);
}

/* Issue 11 item 9: 3 probes on the wire are one 13-byte 0x96 frame, nothing after it (a C++
 * client reading exactly ceil(probes/7) frames lost sync on an extra one). */
static void three_probes_answer_one_temperature_frame(void **state)
{
	const struct personality_ops *ops = &daly_personality_ops;
	alignas(max_align_t) static unsigned char st[PERSONALITY_STATE_MAX];
	struct model m;
	struct model_cfg mc;
	struct bms b;
	struct sent s;
	struct reply_sink sink = { &s, sink_send, sink_frame };
	struct daly_temp_frame tf;
	struct daly_frame f;
	uint8_t w[DALY_FRAME_LEN + 2];
	size_t n;

	(void)state;
	model_cfg_defaults(&mc);
	mc.cells = 16;
	mc.ntc_count = 3;
	assert_int_equal(model_init(&m, &mc), RIG_OK);
	assert_int_equal(bms_init(&b, &m), RIG_OK);
	bms_step(&b, &m, 0.1, 0.0);
	assert_int_equal(ops->init(st, &b, 0), RIG_OK);
	memset(&s, 0, sizeof s);
	n = hex_to_bytes("A5 40 96 08 00 00 00 00 00 00 00 00 83", w, sizeof w);
	ops->rx(st, w, n, 1000, &sink);
	assert_int_equal(s.n, 1);                  /* sink_send checks each is 13 bytes */
	assert_int_equal(s.parts[0], TRUTH_TEMPS);
	assert_int_equal(rig_daly_frame_parse(s.wire[0], DALY_FRAME_LEN, &f), RIG_OK);
	assert_int_equal(rig_daly_temp_frame_decode(&f, &tf), RIG_OK);
	assert_int_equal(tf.frame_no, 1);
	for (unsigned i = 0; i < DALY_TEMPS_PER_FRAME; i++)
		if (i < 3)
			assert_in_range(tf.temp_dK[i], b.meas.probe_dK[i] - 5, b.meas.probe_dK[i] + 5);
		else
			assert_int_equal(tf.temp_dK[i], DALY_TEMP_OFFSET_DK);   /* no sensor: raw 0 */
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addressing),
		cmocka_unit_test(pack_mos_status_values),
		cmocka_unit_test(stale_reserved_bytes),
		cmocka_unit_test(cell_and_temperature_frames),
		cmocka_unit_test(balance_and_faults),
		cmocka_unit_test(writes),
		cmocka_unit_test(reset_reboots_in_silence),
		cmocka_unit_test(sleep_echo_zero_and_wake),
		cmocka_unit_test(settings_from_registers),
		cmocka_unit_test(limits_report_the_neutral_settings),
		cmocka_unit_test(quirk_parsing),
		cmocka_unit_test(generic_table),
		cmocka_unit_test(three_probes_answer_one_temperature_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
