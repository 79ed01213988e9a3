/* The JK-PB personality (jk_pb_personality.h): Modbus requests in through the core's codec,
 * the JK BLE personality's records out. */
#include "bmsrig/sim/jk_pb_personality.h"

#include <string.h>

#include "bmsrig/sim/jk_pb_json.h"

#define EX_FUNCTION 0x01u
#define EX_ADDRESS  0x02u
#define EX_VALUE    0x03u

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct jk_pb_personality *u = state;
	struct jk_ble_quirks rq;

	if (address > JK_PB_ADDR_MAX)
		return RIG_ERR_ARG;
	memset(u, 0, sizeof *u);
	jk_ble_quirks_defaults(&rq);
	rq.layout = JK_BLE_JK02_32S;         /* every PB board runs firmware >= 11 */
	jk_ble_personality_init(&u->rec, bms, &rq);
	u->q.latency_ms = 20;
	u->q.exceptions = 1;
	u->q.address = address ? address : (uint8_t)JK_PB_ADDR_MIN;
	u->address_fixed = address != 0;
	/* At 115200 baud a request takes 1 ms; a pause of 50 ms ends any partial one. */
	rig_modbus_rx_init(&u->rx, 50, MODBUS_REQUEST);
	return RIG_OK;
}

/* Chained packs without an address of their own take 1, 2, 3 ... as their DIP switches would. */
static void unit_peers(void *state, const struct bms *const *peers, unsigned n)
{
	struct jk_pb_personality *u = state;
	unsigned i;

	if (u->address_fixed || n < 2)
		return;
	for (i = 0; i < n && i < JK_PB_ADDR_MAX; i++)
		if (peers[i] == u->rec.bms)
			u->q.address = (uint8_t)(i + 1u);
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct jk_pb_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct jk_pb_quirks, exceptions, "exceptions", 0, 1),
	PERSONALITY_QUIRK(struct jk_pb_quirks, absent, "absent", 0, 1),
	PERSONALITY_QUIRK(struct jk_pb_quirks, address, "address", JK_PB_ADDR_MIN, JK_PB_ADDR_MAX),
	PERSONALITY_QUIRK(struct jk_pb_quirks, at_junk, "at_junk", 0, JK_PB_AT_JUNK_MAX),
};
static const struct personality_quirks quirks = {
	.proto = "jk-pb", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, exceptions, absent, address, at_junk",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	struct jk_pb_personality *u = state;
	rig_rc rc = personality_quirk_set(&quirks, &u->q, key, value, why, whycap);

	if (rc == RIG_OK && !strcmp(key, "address"))
		u->address_fixed = 1;
	return rc;
}

/* The record of type t as the BMS would send it now. */
static void build_record(struct jk_pb_personality *u, uint8_t t, uint32_t now_ms, uint8_t rec[JK_BLE_RECORD_LEN])
{
	if (t == JK_BLE_REC_DEVICE)
		jk_ble_personality_device(&u->rec, now_ms, rec);
	else if (t == JK_BLE_REC_SETTINGS)
		jk_ble_personality_settings(&u->rec, rec);
	else
		jk_ble_personality_cells(&u->rec, now_ms, rec);
}

/* Settings block writes: whole u32 fields only, each as its BLE register write. */
static int write_settings(struct jk_pb_personality *u, uint16_t reg, uint16_t count, const uint8_t *bytes)
{
	uint32_t off = (uint32_t)reg - JK_PB_BASE_SETTINGS, i;

	if (off % 4u || count % 2u || off + 2u * count > JK_PB_BLOCK_BYTES)
		return 0;
	for (i = 0; i < 2u * count; i += 4u) {
		uint32_t v = (uint32_t)bytes[i] | (uint32_t)bytes[i + 1] << 8 | (uint32_t)bytes[i + 2] << 16 |
		             (uint32_t)bytes[i + 3] << 24;

		jk_ble_personality_write(&u->rec, (off + i) / 4u, v);
	}
	return 1;
}

struct answer {
	uint8_t wire[JK_BLE_RECORD_LEN + MODBUS_ADU_MAX];
	size_t n;
	unsigned parts;
};

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	if (sink->frame)
		sink->frame(sink->ctx, dir, wire, n);
}

/* Appends f to the answer. */
static void add_frame(struct answer *a, const struct modbus_frame *f)
{
	size_t n;

	if (rig_modbus_frame_encode(f, a->wire + a->n, sizeof a->wire - a->n, &n) == RIG_OK)
		a->n += n;
}

/* The answer to req into *a (n = 0: silence); the exception code, or 0. */
static uint8_t handle(struct jk_pb_personality *u, const struct modbus_frame *req, uint32_t now_ms, struct answer *a)
{
	struct modbus_frame f;
	uint8_t rec[JK_BLE_RECORD_LEN];
	const uint8_t *bytes;
	uint16_t reg, count, off;
	uint8_t t;

	if (req->fc == JK_PB_FC_WRITE) {
		if (rig_jk_pb_write_decode(req, &reg, &count, &bytes) != RIG_OK)
			return EX_VALUE;
		t = rig_jk_pb_trigger_type(reg);
		if (t && count == 1) {
			build_record(u, t, now_ms, a->wire + a->n);
			u->rec.counter++;
			u->rec.records++;
			a->n += JK_BLE_RECORD_LEN;
			if (t == JK_BLE_REC_CELLS)
				a->parts = TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS;
		} else if (reg >= JK_PB_BASE_SETTINGS && reg < JK_PB_BASE_SETTINGS + JK_PB_BLOCK_BYTES) {
			if (!write_settings(u, reg, count, bytes))
				return EX_VALUE;
		} else if (!(reg >= JK_PB_BASE_COMMANDS && (uint32_t)reg + count <= JK_PB_TRIG_DEVICE)) {
			return EX_ADDRESS;
		}
		rig_jk_pb_write_echo(&f, u->q.address, reg, count);
		add_frame(a, &f);
		return 0;
	}
	if (req->fc == JK_PB_FC_READ) {
		if (rig_jk_pb_read_decode(req, &reg, &count) != RIG_OK || count == 0 || count > 125u)
			return EX_VALUE;
		t = rig_jk_pb_reg_locate(reg, &off);
		if (!t || off + 2u * count > JK_BLE_RECORD_LEN - 1u)
			return EX_ADDRESS;
		build_record(u, t, now_ms, rec);
		(void)rig_jk_pb_response_read(&f, u->q.address, rec + off, 2u * count);
		add_frame(a, &f);
		if (t == JK_BLE_REC_CELLS)
			a->parts = TRUTH_PACK;
		return 0;
	}
	return EX_FUNCTION;
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct jk_pb_personality *u = state;
	struct modbus_frame req, ex;

	while (n) {
		size_t used = rig_modbus_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_modbus_rx_next(&u->rx, &req) == RIG_OK) {
			struct answer a;
			uint8_t wire[MODBUS_ADU_MAX], code;
			size_t len, junk, i;

			/* Another pack's request: every slave on the bus hears it and keeps quiet. */
			if (req.addr != u->q.address)
				continue;
			if (rig_modbus_frame_encode(&req, wire, sizeof wire, &len) == RIG_OK)
				log_frame(sink, PERS_RX, wire, len);
			if (u->q.absent)
				continue;
			u->requests++;
			if (!u->rec.heard)
				u->rec.start_ms = now_ms;   /* the runtime counter starts here */
			u->rec.heard = 1;
			junk = 4u * u->q.at_junk;
			for (i = 0; i < junk; i += 4)
				memcpy(a.wire + i, "AT\r\n", 4);
			a.n = junk;
			a.parts = 0;
			code = handle(u, &req, now_ms, &a);
			if (code) {
				if (!u->q.exceptions)
					continue;
				u->exceptions_sent++;
				rig_modbus_exception(&ex, u->q.address, req.fc, code);
				add_frame(&a, &ex);
			}
			/* The log sees each frame on its own: the record, then the Modbus reply. */
			if (a.n - junk == JK_PB_REPLY_LEN && a.wire[junk] == 0x55) {
				log_frame(sink, PERS_TX, a.wire + junk, JK_BLE_RECORD_LEN);
				log_frame(sink, PERS_TX, a.wire + junk + JK_BLE_RECORD_LEN, a.n - junk - JK_BLE_RECORD_LEN);
			} else {
				log_frame(sink, PERS_TX, a.wire + junk, a.n - junk);
			}
			sink->send(sink->ctx, a.wire, a.n, u->q.latency_ms, a.parts);
		}
	}
}

static void unit_on_save(void *state, int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	jk_ble_personality_on_save(&((struct jk_pb_personality *)state)->rec, save, ctx);
}

/* Resolution as JK BLE's JK02: 1 mV pack and cells, 1 mA, 0.1 degC. */
const struct personality_ops jk_pb_personality_ops = {
	.name = "jk-pb",
	.baud = JK_PB_BAUD,
	.resolution = { .pack_mV = 1.0, .current_mA = 1.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.peers = unit_peers,
	.on_save = unit_on_save,
	.wire_json = jk_pb_wire_json,
};

_Static_assert(sizeof(struct jk_pb_personality) <= PERSONALITY_STATE_MAX, "jk_pb_personality outgrew PERSONALITY_STATE_MAX");
