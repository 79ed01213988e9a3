/*
 * JK-PB over RS485: the core's codec (trigger and write frames byte for byte, the master's
 * assembler against junk, bad sums and CRCs), the personality through its ops table (the
 * popular Python client's request answered with the record and exactly `01 10 16 20 00 01
 * 04 4B`, the other triggers, settings writes reaching the BMS and the settings record, FC
 * 0x03 byte ranges, exceptions and their quirk, silence on another address or a bad CRC,
 * chained packs numbered by their place, the AT junk quirk), the JK02 record's cell-count
 * fields, and the core's client against the personality (FET writes, a bus of three).
 */
#include <stdalign.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jk_pb.h"
#include "bmsrig/core/jk_pb_client.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/jk_pb_personality.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"
#include "client_rig.h"
#include "fake_io.h"

/* ---- the codec ------------------------------------------------------------------------------ */

static size_t encode(const struct modbus_frame *f, uint8_t *out)
{
	size_t n = 0;

	assert_int_equal(rig_modbus_frame_encode(f, out, MODBUS_ADU_MAX, &n), RIG_OK);
	return n;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[MODBUS_ADU_MAX];
	size_t m = hex_to_bytes(hex, want, sizeof want);

	assert_int_equal(n, m);
	assert_memory_equal(got, want, m);
}

static void test_codec_frames(void **st)
{
	struct modbus_frame f;
	uint8_t w[MODBUS_ADU_MAX];
	const uint8_t *bytes;
	uint16_t reg, count, off;
	size_t n;

	(void)st;
	/* The three triggers as mpp-solar and dbus-serialbattery send them (address 1). */
	assert_int_equal(rig_jk_pb_request_trigger(&f, 1, JK_BLE_REC_DEVICE), RIG_OK);
	assert_bytes(w, encode(&f, w), "01 10 16 1C 00 01 02 00 00 D3 CD");
	assert_int_equal(rig_jk_pb_request_trigger(&f, 1, JK_BLE_REC_SETTINGS), RIG_OK);
	assert_bytes(w, encode(&f, w), "01 10 16 1E 00 01 02 00 00 D2 2F");
	assert_int_equal(rig_jk_pb_request_trigger(&f, 1, JK_BLE_REC_CELLS), RIG_OK);
	assert_bytes(w, encode(&f, w), "01 10 16 20 00 01 02 00 00 D6 F1");
	assert_int_equal(rig_jk_pb_request_trigger(&f, 1, JK_BLE_REC_LOGBOOK), RIG_ERR_ARG);
	/* Their replies' tails, as captured. */
	rig_jk_pb_write_echo(&f, 1, JK_PB_TRIG_DEVICE, 1);
	assert_bytes(w, encode(&f, w), "01 10 16 1C 00 01 C4 47");
	rig_jk_pb_write_echo(&f, 1, JK_PB_TRIG_SETTINGS, 1);
	assert_bytes(w, encode(&f, w), "01 10 16 1E 00 01 65 87");
	rig_jk_pb_write_echo(&f, 1, JK_PB_TRIG_CELLS, 1);
	assert_bytes(w, encode(&f, w), "01 10 16 20 00 01 04 4B");
	assert_int_equal(rig_jk_pb_trigger_type(0x1622), 0);
	assert_int_equal(rig_jk_pb_trigger_reg(JK_BLE_REC_CELLS), JK_PB_TRIG_CELLS);

	/* Write decode refuses a byte count that disagrees, an odd or empty write. */
	assert_int_equal(rig_jk_pb_request_write(&f, 3, 0x1070, (const uint8_t *)"\x01\x00\x00\x00", 4), RIG_OK);
	assert_int_equal(rig_jk_pb_write_decode(&f, &reg, &count, &bytes), RIG_OK);
	assert_int_equal(reg, 0x1070);
	assert_int_equal(count, 2);
	assert_int_equal(bytes[0], 1);
	f.data[4] = 6;
	assert_int_equal(rig_jk_pb_write_decode(&f, &reg, &count, &bytes), RIG_ERR_LENGTH);
	assert_int_equal(rig_jk_pb_request_write(&f, 3, 0x1070, (const uint8_t *)"\x01", 1), RIG_ERR_LENGTH);
	assert_int_equal(rig_jk_pb_request_write(&f, 3, 0x1070, w, 0), RIG_ERR_LENGTH);

	/* Byte-addressed registers: 0x1290 is the pack voltage at record byte 150, 0x1070 the
	 * charge switch at 118, 0x1400 the model text at 6 (docs/protocols/jk.md §5). */
	assert_int_equal(rig_jk_pb_reg_locate(0x1290, &off), JK_BLE_REC_CELLS);
	assert_int_equal(off, 150);
	assert_int_equal(rig_jk_pb_reg_locate(0x1070, &off), JK_BLE_REC_SETTINGS);
	assert_int_equal(off, 118);
	assert_int_equal(rig_jk_pb_reg_locate(0x1400, &off), JK_BLE_REC_DEVICE);
	assert_int_equal(off, 6);
	assert_int_equal(rig_jk_pb_reg_locate(0x1600, &off), 0);
	assert_int_equal(rig_jk_pb_reg_locate(0x1000 + JK_PB_BLOCK_BYTES, &off), 0);

	/* FC 0x03 both ways. */
	rig_jk_pb_request_read(&f, 1, 0x1290, 2);
	assert_bytes(w, encode(&f, w), "01 03 12 90 00 02 C1 5E");
	assert_int_equal(rig_jk_pb_read_decode(&f, &reg, &count), RIG_OK);
	assert_int_equal(rig_jk_pb_response_read(&f, 1, (const uint8_t *)"\xE4\x68\x00\x00", 4), RIG_OK);
	assert_int_equal(rig_jk_pb_read_bytes(&f, &bytes, &n), RIG_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(bytes, "\xE4\x68\x00\x00", 4);
	f.len = 3;
	assert_int_equal(rig_jk_pb_read_bytes(&f, &bytes, &n), RIG_ERR_LENGTH);
}

/* A valid cell-info record with counter c. */
static void record(uint8_t rec[JK_BLE_RECORD_LEN], uint8_t c)
{
	rig_jk_ble_record_begin(rec, JK_BLE_REC_CELLS, c);
	rec[6] = 0x1D;
	rec[7] = 0x0D;
	rec[70] = 0x01;
	rig_jk_ble_record_seal(rec);
}

static void test_assembler(void **st)
{
	static struct jk_pb_rx rx;
	static uint8_t line[2048];
	uint8_t rec[JK_BLE_RECORD_LEN], echo[8];
	struct modbus_frame f;
	struct jk_pb_item it;
	size_t n = 0, at = 0, echo_n;
	unsigned records = 0, frames = 0;

	(void)st;
	rig_jk_pb_write_echo(&f, 1, JK_PB_TRIG_CELLS, 1);
	echo_n = encode(&f, echo);
	/* AT flood, a record, its reply; noise; a record with a bad sum8 (costs one byte, and the
	 * good one behind it still counts); a reply with a bad CRC (dropped); record + reply. */
	memcpy(line + n, "AT\r\nAT\r\nAT\r\n", 12), n += 12;
	record(line + n, 1), n += JK_BLE_RECORD_LEN;
	memcpy(line + n, echo, echo_n), n += echo_n;
	memcpy(line + n, "\x00\xFF\x10\x55\xAA", 5), n += 5;
	record(line + n, 2), line[n + 100] ^= 0x40, n += JK_BLE_RECORD_LEN;
	record(line + n, 3), n += JK_BLE_RECORD_LEN;
	memcpy(line + n, echo, echo_n), line[n + 7] ^= 1, n += echo_n;
	record(line + n, 4), n += JK_BLE_RECORD_LEN;
	memcpy(line + n, echo, echo_n), n += echo_n;

	rig_jk_pb_rx_init(&rx, 0);
	/* Pieces of 7 bytes, as a UART driver may hand them out. */
	while (at < n) {
		size_t k = n - at < 7 ? n - at : 7;

		at += rig_jk_pb_rx_feed(&rx, line + at, k, 0);
		while (rig_jk_pb_rx_next(&rx, &it) == RIG_OK) {
			if (it.kind == JK_PB_ITEM_RECORD) {
				memcpy(rec, it.record, sizeof rec);
				assert_int_equal(rig_jk_ble_record_check(rec, sizeof rec), RIG_OK);
				assert_true(rec[5] == 1 || rec[5] == 3 || rec[5] == 4);
				records++;
			} else {
				assert_int_equal(it.frame.addr, 1);
				assert_int_equal(it.frame.fc, 0x10);
				frames++;
			}
		}
	}
	assert_int_equal(records, 3);
	assert_int_equal(frames, 2);
	assert_true(rx.b.rejected_frames >= 1);

	/* "\n" then the reply's address 0x02 reads as function 0x02 with 0x10 bytes to come (21 in
	 * all): the whole reply behind it is handed out at once, not after the line goes quiet. */
	rig_jk_pb_rx_init(&rx, 0);
	memcpy(line, "AT\r\n", 4);
	rig_jk_pb_write_echo(&f, 2, 0x1070, 2);
	n = 4 + encode(&f, line + 4);
	assert_int_equal(rig_jk_pb_rx_feed(&rx, line, n, 0), n);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_OK);
	assert_int_equal(it.kind, JK_PB_ITEM_MODBUS);
	assert_int_equal(it.frame.addr, 2);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_MORE);
	assert_int_equal(rx.b.have, 0);
}

/* ---- the personality ---------------------------------------------------------------------- */

struct pack {
	struct model m;
	struct bms b;
	alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
	const struct personality_ops *ops;
};

static uint8_t sent[JK_BLE_RECORD_LEN + MODBUS_ADU_MAX + 4 * JK_PB_AT_JUNK_MAX];
static size_t sent_n;
static unsigned sends, sent_parts;

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	(void)ctx;
	(void)delay_ms;
	assert_true(n <= sizeof sent);
	memcpy(sent, wire, n);
	sent_n = n;
	sent_parts = parts;
	sends++;
}

static const struct reply_sink sink = { NULL, on_send, NULL };

static void pack_start(struct pack *p, uint8_t address, unsigned cells, double soc_pct)
{
	struct model_cfg c;

	model_cfg_defaults(&c);
	c.cells = (uint8_t)cells;
	c.capacity_Ah = 100;
	c.soc_pct = soc_pct;
	assert_int_equal(model_init(&p->m, &c), RIG_OK);
	assert_int_equal(bms_init(&p->b, &p->m), RIG_OK);
	bms_step(&p->b, &p->m, 0.1, 5.0);
	p->ops = personality_find("jk-pb");
	assert_non_null(p->ops);
	assert_int_equal(p->ops->init(p->state, &p->b, address), RIG_OK);
}

static void quirk(struct pack *p, const char *key, const char *value)
{
	char why[200];

	assert_int_equal(p->ops->set_quirk(p->state, key, value, why, sizeof why), RIG_OK);
}

/* Sends the exact bytes hex; returns 1 when p answered. */
static int send_raw(struct pack *p, const char *hex)
{
	uint8_t w[MODBUS_ADU_MAX];
	size_t n = hex_to_bytes(hex, w, sizeof w);
	unsigned before = sends;

	p->ops->rx(p->state, w, n, 1000, &sink);
	return sends != before;
}

/* Sends the frame hex with its CRC appended. */
static int ask(struct pack *p, const char *hex)
{
	uint8_t w[MODBUS_ADU_MAX];
	size_t n = hex_to_bytes(hex, w, sizeof w - 2);
	uint16_t crc = rig_modbus_crc(w, n);
	unsigned before = sends;

	w[n] = (uint8_t)(crc & 0xFF);
	w[n + 1] = (uint8_t)(crc >> 8);
	p->ops->rx(p->state, w, n + 2, 1000, &sink);
	return sends != before;
}

static void test_popular_client_request(void **st)
{
	static struct pack p;
	struct jk_ble_cells c;
	struct bms_view v;
	unsigned i;

	(void)st;
	pack_start(&p, 0, 8, 88);
	assert_true(send_raw(&p, "01 10 16 20 00 01 02 00 00 D6 F1"));
	assert_int_equal(sent_n, JK_PB_REPLY_LEN);
	assert_int_equal(rig_jk_ble_record_check(sent, JK_BLE_RECORD_LEN), RIG_OK);
	assert_int_equal(sent[4], JK_BLE_REC_CELLS);
	assert_bytes(sent + JK_BLE_RECORD_LEN, 8, "01 10 16 20 00 01 04 4B");
	assert_int_equal(sent_parts, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
	/* The record is the pack's, in the 32S layout (byte 287 set, as every PB board sends). */
	assert_int_equal(sent[287], 0xFE);
	assert_int_equal(rig_jk_ble_cells_decode(sent, JK_BLE_JK02_32S, &c), RIG_OK);
	bms_view(&p.b, &v);
	assert_int_equal(c.pack_mV, p.b.meas.pack_mV);
	assert_int_equal(c.soc_pct, v.soc_pct);
	for (i = 0; i < 8; i++)
		assert_int_equal(c.cell_mV[i], v.cell_mV[i]);

	/* The other two triggers, with the captured tails. */
	assert_true(send_raw(&p, "01 10 16 1C 00 01 02 00 00 D3 CD"));
	assert_int_equal(sent_n, JK_PB_REPLY_LEN);
	assert_int_equal(sent[4], JK_BLE_REC_DEVICE);
	assert_memory_equal(sent + 6, "JK_PB2A16S", 10);
	assert_bytes(sent + JK_BLE_RECORD_LEN, 8, "01 10 16 1C 00 01 C4 47");
	assert_true(send_raw(&p, "01 10 16 1E 00 01 02 00 00 D2 2F"));
	assert_int_equal(sent[4], JK_BLE_REC_SETTINGS);
	assert_bytes(sent + JK_BLE_RECORD_LEN, 8, "01 10 16 1E 00 01 65 87");
	assert_int_equal(sent_parts, 0);
	/* Records count up. */
	assert_int_equal(sent[5], 2);
}

/*
 * The fields clients count cells from, as a real JK02_32S record fills them (jk.md §3.6, §8.1):
 * the enabled-cell mask (70), a voltage and a non-zero balance-wire resistance for each cell and
 * zero in the slots after it, the average and the extremes; the settings record's cell count
 * (114); byte 287 non-zero. A 13-cell pack reads `FF 1F 00 00`, as the notes' capture does.
 */
static void test_record_cell_count_fields(void **st)
{
	static struct pack p;
	unsigned i;

	(void)st;
	pack_start(&p, 0, 13, 60);
	assert_true(send_raw(&p, "01 10 16 20 00 01 02 00 00 D6 F1"));
	assert_bytes(sent + 70, 4, "FF 1F 00 00");
	for (i = 0; i < 32; i++) {
		unsigned mv = (unsigned)(sent[6 + 2 * i] | sent[7 + 2 * i] << 8);
		unsigned res = (unsigned)(sent[80 + 2 * i] | sent[81 + 2 * i] << 8);

		if (i < 13) {
			assert_true(mv > 2500 && mv < 3700);
			assert_true(res > 0);
		} else {
			assert_int_equal(mv, 0);
			assert_int_equal(res, 0);
		}
	}
	assert_true((sent[74] | sent[75] << 8) > 2500);
	assert_true(sent[78] < 13 && sent[79] < 13);
	assert_int_equal(sent[287], 0xFE);
	assert_true(send_raw(&p, "01 10 16 1E 00 01 02 00 00 D2 2F"));
	assert_bytes(sent + 114, 4, "0D 00 00 00");
}

static void test_settings_writes_and_reads(void **st)
{
	static struct pack p;
	struct bms_view v;

	(void)st;
	pack_start(&p, 0, 8, 70);
	/* Charge switch off: register 0x1070, two registers, the u32 little-endian as in the record. */
	assert_true(ask(&p, "01 10 10 70 00 02 04 00 00 00 00"));
	assert_int_equal(sent_n, 8);
	assert_int_equal(rig_modbus_crc(sent, 6), (uint16_t)(sent[6] | sent[7] << 8));
	assert_bytes(sent, 6, "01 10 10 70 00 02");
	assert_int_equal(bms_fet_allowed(&p.b, BMS_INHIBIT_CHG), 0);
	/* Cell OVP (0x100C, record 18) 3600 mV: the BMS's setting, and read back by FC 0x03. */
	assert_true(ask(&p, "01 10 10 0C 00 02 04 10 0E 00 00"));
	assert_bytes(sent, 6, "01 10 10 0C 00 02");
	assert_true(ask(&p, "01 03 10 0C 00 02"));
	assert_bytes(sent, 7, "01 03 04 10 0E 00 00");
	assert_true(ask(&p, "01 10 16 1E 00 01 02 00 00"));
	assert_bytes(sent + 18, 4, "10 0E 00 00");
	assert_bytes(sent + 118, 4, "00 00 00 00");
	/* FC 0x03 of the pack voltage (0x1290, u32 at record 150). */
	assert_true(ask(&p, "01 03 12 90 00 02"));
	assert_int_equal(sent[2], 4);
	bms_view(&p.b, &v);
	assert_int_equal((uint32_t)sent[3] | (uint32_t)sent[4] << 8 | (uint32_t)sent[5] << 16 | (uint32_t)sent[6] << 24,
	                 p.b.meas.pack_mV);
	assert_int_equal(sent_parts, TRUTH_PACK);
	/* A command-block write (LFP preset) is answered and changes nothing here. */
	assert_true(ask(&p, "01 10 16 0C 00 01 02 00 01"));
	assert_bytes(sent, 6, "01 10 16 0C 00 01");
}

static void test_exceptions_and_silence(void **st)
{
	static struct pack p;
	unsigned before;

	(void)st;
	pack_start(&p, 0, 8, 70);
	assert_true(ask(&p, "01 04 12 00 00 02"));
	assert_int_equal(sent_n, 5);
	assert_bytes(sent, 3, "01 84 01");
	assert_true(ask(&p, "01 03 20 00 00 02"));
	assert_bytes(sent, 3, "01 83 02");
	assert_true(ask(&p, "01 03 12 00 00 00"));
	assert_bytes(sent, 3, "01 83 03");
	assert_true(ask(&p, "01 03 12 00 00 7E"));
	assert_bytes(sent, 3, "01 83 03");
	/* A write that splits the u32 field of the cell OVP. */
	assert_true(ask(&p, "01 10 10 0E 00 01 02 00 00"));
	assert_bytes(sent, 3, "01 90 03");
	assert_true(ask(&p, "01 10 30 00 00 01 02 00 00"));
	assert_bytes(sent, 3, "01 90 02");
	/* Silence: another address, a bad CRC, exceptions off, absent. */
	before = sends;
	assert_false(send_raw(&p, "02 10 16 20 00 01 02 00 00 D6 C2"));
	assert_false(ask(&p, "02 10 16 20 00 01 02 00 00"));
	assert_false(send_raw(&p, "01 10 16 20 00 01 02 00 00 D6 F2"));
	quirk(&p, "exceptions", "0");
	assert_false(ask(&p, "01 04 12 00 00 02"));
	quirk(&p, "absent", "1");
	assert_false(send_raw(&p, "01 10 16 20 00 01 02 00 00 D6 F1"));
	assert_int_equal(sends, before);
}

static void test_chained_packs_and_quirks(void **st)
{
	static struct pack p[3];
	const struct bms *peers[3];
	struct bms_view v;
	char why[200];
	unsigned i;

	(void)st;
	for (i = 0; i < 3; i++) {
		pack_start(&p[i], 0, 8, 30.0 + 20.0 * i);
		peers[i] = &p[i].b;
	}
	for (i = 0; i < 3; i++)
		p[i].ops->peers(p[i].state, peers, 3);
	/* Packs 1, 2, 3 by their place; each answers only its own address. */
	for (i = 0; i < 3; i++) {
		char req[64];
		unsigned k;

		snprintf(req, sizeof req, "%02X 10 16 20 00 01 02 00 00", i + 1);
		for (k = 0; k < 3; k++)
			assert_int_equal(ask(&p[k], req), k == i);
		assert_int_equal(sent[JK_BLE_RECORD_LEN], i + 1);
		bms_view(&p[i].b, &v);
		assert_int_equal(sent[173], v.soc_pct);
	}
	/* The AT flood before each reply. */
	quirk(&p[0], "at_junk", "2");
	assert_true(ask(&p[0], "01 10 16 20 00 01 02 00 00"));
	assert_int_equal(sent_n, 8 + JK_PB_REPLY_LEN);
	assert_memory_equal(sent, "AT\r\nAT\r\n", 8);
	assert_int_equal(sent[8], 0x55);
	/* Bad quirks and addresses. */
	assert_int_equal(p[0].ops->set_quirk(p[0].state, "address", "16", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(p[0].ops->set_quirk(p[0].state, "nope", "1", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "at_junk"));
	assert_int_equal(p[0].ops->init(p[0].state, &p[0].b, 16), RIG_ERR_ARG);
}

/* ---- the client --------------------------------------------------------------------------------- */

static void test_client_against_the_personality(void **st)
{
	static struct pack p[3];
	static CLIENT_RIG(jk_pb) r;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	const struct bms *peers[3];
	struct bms_view v;
	unsigned i;

	(void)st;
	for (i = 0; i < 3; i++) {
		pack_start(&p[i], 0, 8, 30.0 + 20.0 * i);
		peers[i] = &p[i].b;
	}
	for (i = 0; i < 3; i++)
		p[i].ops->peers(p[i].state, peers, 3);
	quirk(&p[1], "at_junk", "3");

	/* Address 2 on a bus of three: its request is the trigger; the junk-led answer lands. */
	cfg.address = 2;
	CLIENT_RIG_START(&r, &rig_jk_pb_client_ops, &cfg);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 0), CLIENT_BUSY);
	assert_int_equal(r.io.tx_len, 11);
	for (i = 0; i < 3; i++)
		p[i].ops->rx(p[i].state, r.io.tx, r.io.tx_len, 0, &sink);
	fake_io_clear_tx(&r.io);
	assert_int_equal(sent_n, 12 + JK_PB_REPLY_LEN);
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 30), CLIENT_CYCLE_OK);
	bms_view(&p[1].b, &v);
	assert_int_equal(r.ps.pack_mV, p[1].b.meas.pack_mV);
	assert_int_equal(r.ps.soc_pct, v.soc_pct);
	assert_int_equal(r.ps.cell_count, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(r.ps.cell_mV[i], v.cell_mV[i]);
	assert_int_equal(r.ps.fet_chg, 1);
	assert_int_equal(r.c.records, 1);

	/* FET switches: both writes, each answered by its reply, then the trigger, one cycle. */
	rig_jk_pb_client_set_fets(&r.c, 0, 1);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 1000), CLIENT_BUSY);
	assert_sent(&r, "02 10 10 70 00 02 04 00 00 00 00 36 0F");
	assert_true(send_raw(&p[1], "02 10 10 70 00 02 04 00 00 00 00 36 0F"));
	assert_int_equal(bms_fet_allowed(&p[1].b, BMS_INHIBIT_CHG), 0);
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 1010), CLIENT_BUSY);
	assert_sent(&r, "02 10 10 74 00 02 04 01 00 00 00 36 00");
	assert_true(send_raw(&p[1], "02 10 10 74 00 02 04 01 00 00 00 36 00"));
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 1020), CLIENT_BUSY);
	assert_sent(&r, "02 10 16 20 00 01 02 00 00 C2 01");
	bms_step(&p[1].b, &p[1].m, 0.1, 5.0);         /* the BMS acts on the switch */
	assert_true(send_raw(&p[1], "02 10 16 20 00 01 02 00 00 C2 01"));
	fake_io_queue(&r.io, sent, sent_n);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 1050), CLIENT_CYCLE_OK);
	assert_int_equal(r.ps.fet_chg, 0);
	assert_int_equal(r.ps.fet_dsg, 1);
	assert_int_equal(r.c.eng.fets.pending, 0);

	/* The trigger's answer without its record (lost on the way) is no answer. */
	cfg.address = 1;
	cfg.retries = 0;
	CLIENT_RIG_START(&r, &rig_jk_pb_client_ops, &cfg);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 0), CLIENT_BUSY);
	assert_sent(&r, "01 10 16 20 00 01 02 00 00 D6 F1");
	fake_io_queue_hex(&r.io, "01 10 16 20 00 01 04 4B");
	assert_int_equal(rig_jk_pb_client_step(&r.c, 30), CLIENT_CYCLE_FAIL);
	/* An exception to the trigger fails the cycle too. */
	CLIENT_RIG_START(&r, &rig_jk_pb_client_ops, &cfg);
	assert_int_equal(rig_jk_pb_client_step(&r.c, 0), CLIENT_BUSY);
	fake_io_queue_hex(&r.io, "01 90 02 CD C1");
	assert_int_equal(rig_jk_pb_client_step(&r.c, 30), CLIENT_CYCLE_FAIL);
	assert_int_equal(rig_jk_pb_client_stats(&r.c)->cycles_failed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_frames),
		cmocka_unit_test(test_assembler),
		cmocka_unit_test(test_popular_client_request),
		cmocka_unit_test(test_record_cell_count_fields),
		cmocka_unit_test(test_settings_writes_and_reads),
		cmocka_unit_test(test_exceptions_and_silence),
		cmocka_unit_test(test_chained_packs_and_quirks),
		cmocka_unit_test(test_client_against_the_personality),
	};

	return cmocka_run_group_tests_name("jk_pb", tests, NULL, NULL);
}
