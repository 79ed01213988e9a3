/*
 * Daly codec: checksums and request bytes against captures (docs/protocols/daly.md §2.1, §4, §10), parse
 * rejections, units at their edges, frame counts, the 0x98 table, the settings layouts of §5,
 * and the receive assembler on garbage, pieces, bad checksums and the corrupted BLE burst of
 * python-daly-bms tests/test_bluetooth.py@1ee4498.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/sim/daly_json.h"
#include "bmsrig/core/pack_state.h"
#include "fake_io.h"

static void frame_of(const char *hex, struct daly_frame *f)
{
	uint8_t w[DALY_FRAME_LEN + 4];
	size_t n = hex_to_bytes(hex, w, sizeof w);

	assert_int_equal(n, DALY_FRAME_LEN);
	assert_int_equal(rig_daly_frame_parse(w, n, f), RIG_OK);
}

/* f must encode to exactly these captured bytes. */
static void assert_wire(const struct daly_frame *f, const char *hex)
{
	uint8_t want[DALY_FRAME_LEN + 4], out[DALY_FRAME_LEN];
	size_t n = hex_to_bytes(hex, want, sizeof want), len = 0;

	assert_int_equal(rig_daly_frame_encode(f, out, sizeof out, &len), RIG_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
}

/* Parse, typed rebuild, encode: the captured bytes again. */
static void assert_round_trip(const char *hex)
{
	struct daly_frame f, g;

	frame_of(hex, &f);
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_OK);
	assert_wire(&g, hex);
}

static void requests_match_captures(void **state)
{
	struct daly_frame f;
	struct daly_soc_set s = { 2022, 12, 13, 21, 29, 39, 300 };

	(void)state;
	/* §2.1 / §10: zero fill at 0x40 and 0x80, 0xAA fill; the Y-series poll (patagonaa #9). */
	rig_daly_request_read(&f, DALY_HOST_UART, DALY_CMD_PACK, 0x00);
	assert_wire(&f, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	rig_daly_request_read(&f, DALY_HOST_BLE, DALY_CMD_PACK, 0x00);
	assert_wire(&f, "A5 80 90 08 00 00 00 00 00 00 00 00 BD");
	rig_daly_request_read(&f, DALY_HOST_UART, DALY_CMD_PACK, 0xAA);
	assert_wire(&f, "A5 40 90 08 AA AA AA AA AA AA AA AA CD");
	rig_daly_request_read(&f, DALY_HOST_UART, DALY_CMD_FAULTS, 0x00);
	assert_wire(&f, "A5 40 98 08 00 00 00 00 00 00 00 00 85");
	rig_daly_request_read(&f, DALY_HOST_UART, DALY_CMD_D8, 0x00);
	assert_wire(&f, "A5 40 D8 08 00 00 00 00 00 00 00 00 C5");
	rig_daly_request_read(&f, DALY_HOST_UART, DALY_CMD_RESET, 0x00);
	assert_wire(&f, "A5 40 00 08 00 00 00 00 00 00 00 00 ED");
	/* MOSFET switches: python-daly-bms #3 at 0x40, ESPHome feature request #1979 at 0x80. */
	rig_daly_request_fet(&f, DALY_HOST_UART, DALY_CMD_DSG_FET, 1);
	assert_wire(&f, "A5 40 D9 08 01 00 00 00 00 00 00 00 C7");
	rig_daly_request_fet(&f, DALY_HOST_UART, DALY_CMD_DSG_FET, 0);
	assert_wire(&f, "A5 40 D9 08 00 00 00 00 00 00 00 00 C6");
	rig_daly_request_fet(&f, DALY_HOST_BLE, DALY_CMD_CHG_FET, 0);
	assert_wire(&f, "A5 80 DA 08 00 00 00 00 00 00 00 00 07");
	rig_daly_request_fet(&f, DALY_HOST_BLE, DALY_CMD_CHG_FET, 1);
	assert_wire(&f, "A5 80 DA 08 01 00 00 00 00 00 00 00 08");
	rig_daly_request_fet(&f, DALY_HOST_BLE, DALY_CMD_DSG_FET, 7);      /* any "on" is 1 on the wire */
	assert_wire(&f, "A5 80 D9 08 01 00 00 00 00 00 00 00 07");
	/* 0x21 SOC write, diysolarforum 52016. */
	assert_int_equal(rig_daly_soc_set_encode(&f, DALY_HOST_UART, &s), RIG_OK);
	assert_wire(&f, "A5 40 21 08 16 0C 0D 15 1D 27 01 2C C3");
	s.year = 1999;
	assert_int_equal(rig_daly_soc_set_encode(&f, DALY_HOST_UART, &s), RIG_ERR_ARG);
	/* RS485 board numbers. */
	assert_int_equal(rig_daly_host_for_board(1), 0x40);
	assert_int_equal(rig_daly_host_for_board(2), 0x41);
	assert_int_equal(rig_daly_host_for_board(16), 0x4F);
	assert_int_equal(rig_daly_host_for_board(0), 0);
	assert_int_equal(rig_daly_host_for_board(17), 0);
}

static void parse_rejects_what_is_not_a_frame(void **state)
{
	uint8_t w[16];
	struct daly_frame f;
	size_t n = hex_to_bytes("A5 01 90 08 02 3A 00 00 75 30 01 ED 0D", w, sizeof w);   /* maland16 */

	(void)state;
	assert_int_equal(rig_daly_frame_parse(w, n, &f), RIG_OK);
	assert_int_equal(f.addr, 0x01);
	assert_int_equal(f.cmd, 0x90);
	assert_false(rig_daly_frame_is_request(&f));
	assert_int_equal(rig_daly_frame_parse(w, n - 1, &f), RIG_ERR_LENGTH);
	assert_int_equal(rig_daly_frame_parse(w, n + 1, &f), RIG_ERR_LENGTH);     /* mpp-solar's 0x0A */
	w[12] ^= 0x01;
	assert_int_equal(rig_daly_frame_parse(w, n, &f), RIG_ERR_CHECKSUM);
	w[12] ^= 0x01;
	w[0] = 0x5A;
	assert_int_equal(rig_daly_frame_parse(w, n, &f), RIG_ERR_FRAME);
	w[0] = 0xA5;
	w[3] = 0x07;
	w[12] = (uint8_t)(w[12] - 1);                 /* checksum right, length byte wrong */
	assert_int_equal(rig_daly_frame_parse(w, n, &f), RIG_ERR_LENGTH);
	/* The checksum examples of §2.1. */
	n = hex_to_bytes("A5 40 90 08 00 00 00 00 00 00 00 00", w, sizeof w);
	assert_int_equal(rig_daly_checksum(w, n), 0x7D);
	/* Byte 1 sorts requests from replies. */
	assert_true(rig_daly_addr_is_host(0x20));
	assert_true(rig_daly_addr_is_host(0x40));
	assert_true(rig_daly_addr_is_host(0x80));
	assert_false(rig_daly_addr_is_host(0x10));
	assert_false(rig_daly_addr_is_host(0x01));
}

static void decoders_refuse_other_ids_and_requests(void **state)
{
	struct daly_frame f;
	struct daly_pack p;
	struct daly_status s;
	struct daly_soc_set ss;
	struct daly_flag fl;
	uint8_t fill = 0;

	(void)state;
	frame_of("A5 40 90 08 00 00 00 00 00 00 00 00 7D", &f);       /* a request, not a reply */
	assert_true(rig_daly_frame_is_request(&f));
	assert_int_equal(rig_daly_pack_decode(&f, &p), RIG_ERR_ARG);
	assert_int_equal(rig_daly_request_fill(&f, &fill), RIG_OK);
	assert_int_equal(fill, 0);
	frame_of("A5 01 94 08 10 01 00 00 00 00 03 40 96", &f);       /* 0x94 is not 0x90 */
	assert_int_equal(rig_daly_pack_decode(&f, &p), RIG_ERR_ARG);
	assert_int_equal(rig_daly_status_decode(&f, &s), RIG_OK);
	assert_int_equal(rig_daly_soc_set_decode(&f, &ss), RIG_ERR_ARG);   /* a reply, and not 0x21 */
	assert_int_equal(rig_daly_flag_decode(&f, &fl), RIG_ERR_ARG);
	assert_int_equal(rig_daly_request_fill(&f, &fill), RIG_ERR_ARG);
	/* A read whose data bytes differ has no fill: no builder rebuilds it. */
	frame_of("A5 40 90 08 00 01 00 00 00 00 00 00 7E", &f);
	assert_int_equal(rig_daly_request_fill(&f, &fill), RIG_ERR_UNSUPPORTED);
	struct daly_frame g;
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_ERR_UNSUPPORTED);
	/* A reply of an id nothing maps (0x5C) has no builder either, but shows its bytes. */
	struct daly_raw zero = { { 0 } };
	rig_daly_raw_encode(&f, 0x01, 0x5C, &zero);
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_ERR_UNSUPPORTED);
	cJSON *o = daly_frame_json(&f);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "data_hex")), "0000000000000000");
	cJSON_Delete(o);
}

static void current_and_temperature_units(void **state)
{
	uint16_t raw = 0;
	uint8_t t = 0;
	struct daly_frame f;
	struct daly_pack p;

	(void)state;
	/* int32, not int16: raw 33000 is +300 A (python-daly-bms reads -6253.6 A, §3.1). */
	assert_int_equal(rig_daly_current_from_raw(33000), 300000);
	assert_int_equal(rig_daly_current_from_raw(30000), 0);
	assert_int_equal(rig_daly_current_from_raw(29941), -5900);
	assert_int_equal(rig_daly_current_from_raw(0), -3000000);
	assert_int_equal(rig_daly_current_from_raw(65535), 3553500);
	assert_int_equal(rig_daly_current_to_raw(149, &raw), RIG_OK);       /* nearest 0.1 A */
	assert_int_equal(raw, 30001);
	assert_int_equal(rig_daly_current_to_raw(150, &raw), RIG_OK);       /* halves away from zero */
	assert_int_equal(raw, 30002);
	assert_int_equal(rig_daly_current_to_raw(-150, &raw), RIG_OK);
	assert_int_equal(raw, 29998);
	assert_int_equal(rig_daly_current_to_raw(-3000000, &raw), RIG_OK);
	assert_int_equal(raw, 0);
	assert_int_equal(rig_daly_current_to_raw(3553500, &raw), RIG_OK);
	assert_int_equal(raw, 65535);
	assert_int_equal(rig_daly_current_to_raw(-3000100, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_daly_current_to_raw(3553550, &raw), RIG_ERR_ARG);
	assert_int_equal(rig_daly_current_to_raw(INT32_MIN, &raw), RIG_ERR_ARG);
	/* degC + 40 in 0.1 K. */
	assert_int_equal(rig_daly_temp_from_raw(0), 2331);
	assert_int_equal(rig_daly_temp_from_raw(0x3D), 2941);                /* 21 degC */
	assert_int_equal(rig_daly_temp_from_raw(255), 4881);
	assert_int_equal(rig_daly_temp_to_raw(2326, &t), RIG_OK);
	assert_int_equal(t, 0);
	assert_int_equal(rig_daly_temp_to_raw(2936, &t), RIG_OK);
	assert_int_equal(t, 0x3D);
	assert_int_equal(rig_daly_temp_to_raw(4885, &t), RIG_OK);
	assert_int_equal(t, 255);
	assert_int_equal(rig_daly_temp_to_raw(2325, &t), RIG_ERR_ARG);
	assert_int_equal(rig_daly_temp_to_raw(4886, &t), RIG_ERR_ARG);
	/* 0x90 encoder: pack in 0.1 V rounded, the range checked. */
	p = (struct daly_pack){ 53049, 0, -5900, 922 };
	assert_int_equal(rig_daly_pack_encode(&f, 0x01, &p), RIG_OK);
	assert_wire(&f, "A5 01 90 08 02 12 00 00 74 F5 03 9A 58");         /* the BLE capture */
	p.pack_mV = 6553550;
	assert_int_equal(rig_daly_pack_encode(&f, 0x01, &p), RIG_ERR_ARG);
	p.pack_mV = 53000;
	p.current_mA = -3000100;
	assert_int_equal(rig_daly_pack_encode(&f, 0x01, &p), RIG_ERR_ARG);
	/* Decoding the all-zero reply gives the -3000.0 A a client must refuse (§3.1). */
	frame_of("A5 01 90 08 00 00 00 00 00 00 00 00 3E", &f);
	assert_int_equal(rig_daly_pack_decode(&f, &p), RIG_OK);
	assert_int_equal(p.current_mA, -3000000);
}

static void frame_counts(void **state)
{
	(void)state;
	static const uint8_t cells[][2] = { { 0, 0 }, { 1, 1 }, { 3, 1 }, { 4, 2 }, { 14, 5 }, { 15, 5 },
	                                    { 16, 6 }, { 47, 16 }, { 48, 16 } };
	static const uint8_t ntc[][2] = { { 0, 0 }, { 1, 1 }, { 7, 1 }, { 8, 2 }, { 14, 2 }, { 21, 3 } };

	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
		assert_int_equal(rig_daly_cell_frames_for(cells[i][0]), cells[i][1]);
	for (size_t i = 0; i < sizeof ntc / sizeof ntc[0]; i++)
		assert_int_equal(rig_daly_temp_frames_for(ntc[i][0]), ntc[i][1]);
}

/* Captures of docs/protocols/daly.md §7 that are not in the vector file, decoded and rebuilt. */
static void more_captures_decode_and_rebuild(void **state)
{
	static const char *const frames_14s[] = {          /* §7.3, PC tool at 0x40, 14S: 5 frames */
		"A5 01 95 08 01 0E C0 0E C2 0E C7 20 D7", "A5 01 95 08 02 0E C8 0E C8 0E C6 20 E5",
		"A5 01 95 08 03 0E C2 0E C2 0E 9C 20 B0", "A5 01 95 08 04 0E C4 0E C4 0E C4 20 DD",
		"A5 01 95 08 05 0E C3 0E C0 0E C4 20 D9",
	};
	static const uint16_t cells_14s[15] = { 3776, 3778, 3783, 3784, 3784, 3782, 3778, 3778, 3740,
	                                        3780, 3780, 3780, 3779, 3776, 3780 };
	static const char *const others[] = {
		"A5 01 91 08 0E C8 05 0E 9C 09 01 F4 C2", "A5 01 92 08 3D 01 3D 01 9C 09 01 F4 56",
		"A5 01 94 08 0E 01 00 00 02 00 00 20 73", "A5 01 D9 08 00 0D 13 0D 21 0D 17 C0 B9",
		"A5 01 98 08 00 00 80 00 00 00 00 00 C6", "A5 01 95 08 06 0C CD 0C CC 0C D0 00 D6",
		"A5 01 96 08 01 38 38 00 00 FF FF FF B2", "A5 01 93 08 02 01 01 9E 00 03 EA F8 C8",
		"A5 01 91 08 0C F3 0A 0C EC 01 03 9A DE", "A5 01 92 08 3D 01 3D 01 00 00 00 AD 69",
		"A5 01 D8 08 00 00 00 00 00 00 00 00 86", "A5 01 D8 08 00 00 00 00 01 00 00 00 87",
		"A5 40 96 08 00 00 00 00 00 00 00 00 83",
	};
	struct daly_frame f;
	struct daly_cell_frame cf;
	struct daly_cell_range cr;
	struct daly_status st;
	struct daly_flag fl;
	struct daly_faults x;
	struct daly_temp_frame tf;
	struct daly_mos m;

	(void)state;
	for (size_t k = 0; k < 5; k++) {
		assert_round_trip(frames_14s[k]);
		frame_of(frames_14s[k], &f);
		assert_int_equal(rig_daly_cell_frame_decode(&f, &cf), RIG_OK);
		assert_int_equal(cf.frame_no, k + 1);                  /* from 1, not 0 */
		assert_memory_equal(cf.cell_mV, cells_14s + 3 * k, sizeof cf.cell_mV);
		assert_int_equal(cf.reserved, 0x20);                   /* = 0x94 d7 of the same BMS */
	}
	for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
		assert_round_trip(others[k]);
	frame_of(others[0], &f);
	assert_int_equal(rig_daly_cell_range_decode(&f, &cr), RIG_OK);
	assert_int_equal(cr.max_cell_mV, 3784);
	assert_int_equal(cr.max_cell_index, 5);
	assert_int_equal(cr.min_cell_mV, 3740);
	assert_int_equal(cr.min_cell_index, 9);
	assert_int_equal(cr.reserved[0] << 8 | cr.reserved[1], 500);   /* the SOC, left over */
	frame_of(others[2], &f);
	assert_int_equal(rig_daly_status_decode(&f, &st), RIG_OK);
	assert_int_equal(st.cell_count, 14);
	assert_int_equal(st.ntc_count, 1);
	assert_int_equal(st.dio, 0x02);
	assert_int_equal(st.cycles, 0);
	frame_of(others[3], &f);                                       /* discharge off, echoed */
	assert_int_equal(rig_daly_flag_decode(&f, &fl), RIG_OK);
	assert_int_equal(fl.value, 0);
	frame_of(others[4], &f);                                       /* SOC low level 2 */
	assert_int_equal(rig_daly_faults_decode(&f, &x), RIG_OK);
	assert_int_equal(x.bits[2], 0x80);
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), 0);             /* no neutral bit for it */
	frame_of(others[6], &f);                                       /* unused sensors as 0xFF */
	assert_int_equal(rig_daly_temp_frame_decode(&f, &tf), RIG_OK);
	assert_int_equal(tf.temp_dK[0], 2891);
	assert_int_equal(tf.temp_dK[6], 4881);
	frame_of(others[7], &f);
	assert_int_equal(rig_daly_mos_decode(&f, &m), RIG_OK);
	assert_int_equal(m.state, DALY_STATE_DISCHARGING);
	assert_int_equal(m.remain_mAh, 256760);
	assert_int_equal(m.life, 0x9E);
	/* A request of a multi-frame id is no answer. */
	frame_of(others[12], &f);
	cJSON *o = daly_answer_json(&f, 1);
	assert_true(cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
}

/* The 0x50-0x5F payloads quoted in docs/protocols/daly.md §5 (diysolarforum 65439, ai-republic). */
static void settings_layouts(void **state)
{
	static const uint8_t rated[8] = { 0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x0E, 0x10 };
	static const uint8_t layout[8] = { 0x01, 0x0E, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 };
	static const uint8_t info[8] = { 0x01, 0x01, 0x16, 0x08, 0x0A, 0xFF, 0xFF, 0x0A };
	static const uint8_t bal[8] = { 0x0E, 0xD8, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t cur[8] = { 0x79, 0xE0, 0x7A, 0x44, 0x73, 0x3C, 0x72, 0xD8 };
	static const uint8_t fw[8] = { '2', '0', '2', '2', '0', '8', '1', '0' };
	struct daly_frame f, g;
	struct daly_rated r;
	struct daly_layout l;
	struct daly_info i;
	struct daly_balance_cfg b;
	struct daly_current_limits c;
	struct daly_pack_limits pl = { 58400, 60000, 44800, 40000 };
	struct daly_text8 t;

	(void)state;
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_RATED, rated);
	assert_int_equal(rig_daly_rated_decode(&f, &r), RIG_OK);
	assert_int_equal(r.rated_mAh, 30000);
	assert_int_equal(r.nominal_cell_mV, 3600);
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_LAYOUT, layout);
	assert_int_equal(rig_daly_layout_decode(&f, &l), RIG_OK);
	assert_int_equal(l.boards, 1);
	assert_int_equal(l.cells[0], 14);
	assert_int_equal(l.ntc[0], 1);
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_INFO, info);
	assert_int_equal(rig_daly_info_decode(&f, &i), RIG_OK);
	assert_int_equal(i.year, 2022);
	assert_int_equal(i.month, 8);
	assert_int_equal(i.day, 10);
	assert_int_equal(i.sleep_s, 0xFFFF);
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_OK);
	assert_memory_equal(g.data, info, 8);
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_BALANCE_CFG, bal);
	assert_int_equal(rig_daly_balance_cfg_decode(&f, &b), RIG_OK);
	assert_int_equal(b.start_mV, 3800);
	assert_int_equal(b.delta_mV, 50);
	/* 0x5B: 31200 = discharge 120 A, 29500 = charge 50 A (charge below 30000). */
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_CURRENT_LIMITS, cur);
	assert_int_equal(rig_daly_current_limits_decode(&f, &c), RIG_OK);
	assert_int_equal(c.dsg_l1_mA, 120000);
	assert_int_equal(c.dsg_l2_mA, 130000);
	assert_int_equal(c.chg_l1_mA, -50000);
	assert_int_equal(c.chg_l2_mA, -60000);
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_OK);
	assert_memory_equal(g.data, cur, 8);
	assert_int_equal(rig_daly_pack_limits_encode(&f, 0x01, &pl), RIG_OK);
	assert_int_equal(f.data[0] << 8 | f.data[1], 584);
	pl.low_l2_mV = 7000000;
	assert_int_equal(rig_daly_pack_limits_encode(&f, 0x01, &pl), RIG_ERR_ARG);
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_FIRMWARE, fw);
	assert_int_equal(rig_daly_text8_decode(&f, &t), RIG_OK);
	cJSON *o = daly_frame_json(&f);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "sw_version")), "20220810");
	cJSON_Delete(o);
}

/* Bit orders no vector shows (every captured 0x97/0x98 of an idle pack is zero). */
static void balance_and_alarm_bit_orders(void **state)
{
	static const uint8_t bal[8] = { 0x01, 0x00, 0x00, 0x80, 0x01, 0x80, 0xEE, 0xFF };
	struct daly_frame f, g;
	struct daly_balance b;
	cJSON *o;

	(void)state;
	/* d(i) bit j = cell 8i+j+1: d0 bit 0 is cell 1, d3 bit 7 cell 32, d4 bit 0 cell 33. */
	rig_daly_frame_raw(&f, 0x01, DALY_CMD_BALANCE, bal);
	assert_int_equal(rig_daly_balance_decode(&f, &b), RIG_OK);
	assert_int_equal(b.bal_lo, 0x80000001u);
	assert_int_equal(b.bal_hi, 0x8001u);
	assert_int_equal(daly_frame_rebuild(&f, &g), RIG_OK);
	assert_memory_equal(g.data, bal, 8);
	o = daly_frame_json(&f);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "bal_mask")) == (double)0x800180000001ULL);
	cJSON_Delete(o);
	/* prot_raw = d0..d6 as one big-endian integer: SOC low L2 (d2 bit 7) of the 16S capture. */
	frame_of("A5 01 98 08 00 00 80 00 00 00 00 00 C6", &f);
	o = daly_frame_json(&f);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "prot_raw")) == 549755813888.0);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "prot")) == 0.0);
	cJSON_Delete(o);
	frame_of("A5 01 98 08 01 00 00 00 00 00 04 07 52", &f);    /* cell OV L1, short, code 7 */
	o = daly_frame_json(&f);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "prot_raw")) == (double)0x01000000000004ULL);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "fault_code")) == 7.0);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "prot")) == (double)PACK_PROT_SHORT);
	cJSON_Delete(o);
}

static void fault_table_both_ways(void **state)
{
	struct daly_faults x;

	(void)state;
	/* Every neutral bit survives the way out and back; each is a level-2 (odd) bit or a fault. */
	for (unsigned b = 0; b <= 12; b++) {
		rig_daly_faults_from_pack_prot(&x, 1u << b);
		assert_int_equal(rig_daly_faults_to_pack_prot(&x), 1u << b);
		assert_int_equal(x.fault_code, 0);
	}
	rig_daly_faults_from_pack_prot(&x, PACK_PROT_CELL_OV);
	assert_int_equal(x.bits[0], 0x03);                   /* level 1 and level 2 */
	rig_daly_faults_from_pack_prot(&x, PACK_PROT_DSG_OC);
	assert_int_equal(x.bits[2], 0x0C);
	rig_daly_faults_from_pack_prot(&x, PACK_PROT_SHORT);
	assert_int_equal(x.bits[6], 0x04);
	rig_daly_faults_from_pack_prot(&x, PACK_PROT_SW_LOCK);
	assert_int_equal(x.bits[6], 0x10);
	rig_daly_faults_from_pack_prot(&x, PACK_PROT_AFE);
	assert_int_equal(x.bits[5], 0x01);                   /* the first row only */
	rig_daly_faults_from_pack_prot(&x, 0x1FFFu);
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), 0x1FFFu);
	/* Level-1 warnings alone are not protections. */
	memset(&x, 0, sizeof x);
	x.bits[0] = 0x55;
	x.bits[1] = 0x55;
	x.bits[2] = 0x55;
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), 0);
	x.bits[5] = 0x02;                                    /* cell acquisition dropped out */
	assert_int_equal(rig_daly_faults_to_pack_prot(&x), PACK_PROT_AFE);
}

/* ---- the assembler -------------------------------------------------------------------------- */

struct got {
	struct daly_frame f[32];
	size_t n;
};

static void feed(struct daly_rx *rx, struct got *g, const uint8_t *p, size_t n, size_t piece, uint32_t *now)
{
	while (n) {
		size_t k = n < piece ? n : piece, used;

		while (k) {
			used = rig_daly_rx_feed(rx, p, k, *now);
			p += used;
			n -= used;
			k -= used;
			while (g->n < 32 && rig_daly_rx_next(rx, &g->f[g->n]) == RIG_OK)
				g->n++;
		}
		*now += 1;
	}
}

static void assembler_garbage_pieces_checksums(void **state)
{
	/* Noise, 0x90 reply, a lone A5, 0x94 reply with a bad checksum, 0x93 reply, mpp-solar's 0x0A. */
	static const char stream[] =
		"00 FF 13 "
		"A5 01 90 08 02 3A 00 00 75 30 01 ED 0D "
		"A5 "
		"A5 01 94 08 10 01 00 00 00 00 03 40 97 "
		"A5 01 93 08 00 01 01 10 00 00 4E 20 C1 "
		"0A";
	uint8_t w[128];
	size_t n = hex_to_bytes(stream, w, sizeof w);

	(void)state;
	for (size_t piece = 1; piece <= 20; piece++) {
		struct daly_rx rx;
		struct got g = { .n = 0 };
		uint32_t now = 0;

		rig_daly_rx_init(&rx, 0);
		feed(&rx, &g, w, n, piece, &now);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.f[0].cmd, 0x90);
		assert_int_equal(g.f[1].cmd, 0x93);
		/* The lone A5 is refused at its length byte; the bad 0x94 at its checksum. */
		assert_int_equal(rx.b.rejected_frames, 2);
		assert_int_equal(rx.b.skipped_bytes, n - 26);
		assert_int_equal(rx.b.have, 0);
	}
}

static void assembler_drops_a_stalled_partial_frame(void **state)
{
	uint8_t w[32];
	size_t n = hex_to_bytes("A5 01 97 08 00 00 00 00 00 00 00 00 45", w, sizeof w);
	struct daly_rx rx;
	struct daly_frame f;

	(void)state;
	rig_daly_rx_init(&rx, 50);
	assert_int_equal(rig_daly_rx_feed(&rx, w, 6, 1000), 6);
	assert_int_equal(rig_daly_rx_next(&rx, &f), RIG_MORE);
	/* The tail comes 51 ms later: a different frame's tail, so the head is dropped. */
	assert_int_equal(rig_daly_rx_feed(&rx, w + 6, n - 6, 1051), n - 6);
	assert_int_equal(rig_daly_rx_next(&rx, &f), RIG_MORE);
	assert_int_equal(rx.b.skipped_bytes, n);
	/* Within the gap it joins up. */
	rig_rxbuf_clear(&rx.b);
	assert_int_equal(rig_daly_rx_feed(&rx, w, 6, 2000), 6);
	assert_int_equal(rig_daly_rx_feed(&rx, w + 6, n - 6, 2050), n - 6);
	assert_int_equal(rig_daly_rx_next(&rx, &f), RIG_OK);
	assert_int_equal(f.cmd, 0x97);
	/* feed never takes more than the buffer holds. */
	rig_daly_rx_init(&rx, 0);
	assert_int_equal(rig_daly_rx_feed(&rx, w, 5, 0), 5);
	assert_int_equal(rig_daly_rx_feed(&rx, w, n, 0), DALY_FRAME_LEN - 5);
}

/* python-daly-bms tests/test_bluetooth.py@1ee4498: a 16-frame BLE 0x95 answer in which frames
 * 12-14 became 39 bytes of garbage and frame 16 was cut after 5 bytes. */
static const char ble_cells[] =
	"A5019508010D370D360D349BA7A5019508020D350D350D359BA6A5019508030D340D3E0D369BB0"
	"A5019508040D370D360D379BADA5019508050D340D350D349BA7A5019508060D37000000009B28"
	"A5019508070000000000009BE5A5019508080000000000009BE6A5019508090000000000009BE7"
	"A50195080A0000000000009BE8A50195080B0000000000009BE9A5A8004000702440000D300000"
	"7024400038A700006D320000702440005331000000000000A800A50195080F0000000000009BED"
	"A501950810";

static void assembler_on_the_corrupted_ble_burst(void **state)
{
	static const uint16_t cells[16] = { 3383, 3382, 3380, 3381, 3381, 3381, 3380, 3390,
	                                    3382, 3383, 3382, 3383, 3380, 3381, 3380, 3383 };
	uint8_t w[256];
	size_t n = hex_to_bytes(ble_cells, w, sizeof w);
	struct daly_rx rx;
	struct got g = { .n = 0 };
	uint32_t now = 0;
	uint16_t got_cells[48] = { 0 };

	(void)state;
	assert_int_equal(n, 200);
	rig_daly_rx_init(&rx, 0);
	feed(&rx, &g, w, n, 20, &now);                       /* BLE notifications of 20 bytes */
	assert_int_equal(g.n, 12);                           /* frames 1-11 and 15 */
	for (size_t i = 0; i < g.n; i++) {
		struct daly_cell_frame cf;

		assert_int_equal(rig_daly_cell_frame_decode(&g.f[i], &cf), RIG_OK);
		assert_int_equal(cf.frame_no, i < 11 ? i + 1 : 15);
		assert_int_equal(cf.reserved, 0x9B);
		memcpy(got_cells + 3 * (cf.frame_no - 1), cf.cell_mV, sizeof cf.cell_mV);
	}
	assert_memory_equal(got_cells, cells, sizeof cells);
	assert_int_equal(rx.b.have, 5);                      /* the cut frame 16 waits */
	assert_int_equal(rx.b.skipped_bytes, 39);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests_match_captures),
		cmocka_unit_test(parse_rejects_what_is_not_a_frame),
		cmocka_unit_test(decoders_refuse_other_ids_and_requests),
		cmocka_unit_test(current_and_temperature_units),
		cmocka_unit_test(frame_counts),
		cmocka_unit_test(more_captures_decode_and_rebuild),
		cmocka_unit_test(settings_layouts),
		cmocka_unit_test(balance_and_alarm_bit_orders),
		cmocka_unit_test(fault_table_both_ways),
		cmocka_unit_test(assembler_garbage_pieces_checksums),
		cmocka_unit_test(assembler_drops_a_stalled_partial_frame),
		cmocka_unit_test(assembler_on_the_corrupted_ble_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
