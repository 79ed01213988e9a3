/* The Deye Modbus personality (deye_modbus_personality.h): FC 0x04 / 0x11 requests in,
 * codec-built replies out, values from bms_inverter_limits only. */
#include "bmsrig/sim/deye_modbus_personality.h"

#include <stdio.h>
#include <string.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/sim/deye_modbus_json.h"

#define DEYE_MB_DEFAULT_ADDR 1u

struct deye_mb_unit {
	struct bms *bms;
	struct deye_mb_quirks q;
	struct modbus_rx rx;
	uint8_t address_fixed;       /* given by the spec or a quirk: peers leaves it alone */
	double seen_time_s;          /* the BMS's clock when last looked at */
	uint32_t fresh_ms;           /* our clock when the BMS's clock last moved */
	uint8_t fresh_known;
};

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct deye_mb_unit *u = state;

	if (address > DEYE_MB_ADDR_MAX)
		return RIG_ERR_ARG;
	memset(u, 0, sizeof *u);
	u->bms = bms;
	u->q.latency_ms = 20;
	u->q.stale_after_ms = 150000;    /* virtual-bms: 10 polls of 15 s */
	u->q.exceptions = 1;
	u->q.address = address ? address : (uint8_t)DEYE_MB_DEFAULT_ADDR;
	u->address_fixed = address != 0;
	/* RTU ends a frame with 3.5 characters of silence; Deye's side resets after 200 ms. */
	rig_modbus_rx_init(&u->rx, 200, MODBUS_REQUEST);
	return RIG_OK;
}

/* Packs sharing a line without an address of their own take 0, 1, 2, ... as Deye numbers them. */
static void unit_peers(void *state, const struct bms *const *peers, unsigned n)
{
	struct deye_mb_unit *u = state;
	unsigned i;

	if (u->address_fixed || n < 2)
		return;
	for (i = 0; i < n && i <= DEYE_MB_ADDR_MAX; i++)
		if (peers[i] == u->bms)
			u->q.address = (uint8_t)i;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct deye_mb_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct deye_mb_quirks, stale_after_ms, "stale_after_ms", 0, 86400000),
	PERSONALITY_QUIRK(struct deye_mb_quirks, exceptions, "exceptions", 0, 1),
	PERSONALITY_QUIRK(struct deye_mb_quirks, absent, "absent", 0, 1),
	PERSONALITY_QUIRK(struct deye_mb_quirks, address, "address", 0, DEYE_MB_ADDR_MAX),
};
static const struct personality_quirks quirks = {
	.proto = "deye-modbus", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, stale_after_ms, exceptions, absent, address",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	struct deye_mb_unit *u = state;
	rig_rc rc = personality_quirk_set(&quirks, &u->q, key, value, why, whycap);

	if (rc == RIG_OK && !strcmp(key, "address"))
		u->address_fixed = 1;        /* the way to ask for address 0 on a line of one */
	return rc;
}

/* Whether the BMS has stepped within stale_after_ms of now. */
static int fresh(struct deye_mb_unit *u, uint32_t now_ms)
{
	if (!u->fresh_known || u->bms->time_s != u->seen_time_s) {
		u->seen_time_s = u->bms->time_s;
		u->fresh_ms = now_ms;
		u->fresh_known = 1;
	}
	/* Signed: a clock a step behind the last look (a reply in flight) is not 49 days ahead. */
	return !u->q.stale_after_ms || (int32_t)(now_ms - u->fresh_ms) <= (int32_t)u->q.stale_after_ms;
}

static void unit_tick(void *state, uint32_t now_ms, const struct reply_sink *sink)
{
	(void)sink;
	(void)fresh(state, now_ms);
}

/* The record Deye's block is built from, plus what the block carries beyond the limits. */
static void record(const struct deye_mb_unit *u, struct rig_inv_battery *r)
{
	bms_inverter_limits(u->bms, r);
	if (!r->fets)
		r->fets = (uint8_t)(((u->bms->fet & BMS_FET_CHG) ? RIG_INV_FET_CHG : 0u) |
		                    ((u->bms->fet & BMS_FET_DSG) ? RIG_INV_FET_DSG : 0u));
}

/* The identity from the BMS's texts: its model (at most 15 bytes, '*' would end it early, so
 * it becomes '-'), its firmware version as major, minor, and its barcode as the serial,
 * padded with '0' to the 20 bytes Deye reads. */
static void identity(const struct deye_mb_unit *u, struct deye_mb_ident *id)
{
	const struct bms_string *model = &u->bms->str[BMS_TEXT_MODEL];
	const struct bms_string *serial = &u->bms->str[BMS_TEXT_BARCODE];
	size_t i, n;

	memset(id, 0, sizeof *id);
	n = model->len < DEYE_MB_MODEL_MAX ? model->len : DEYE_MB_MODEL_MAX;
	if (!n) {
		memcpy(id->model, "BMSRIG", 6);
		n = 6;
	} else
		memcpy(id->model, model->text, n);
	for (i = 0; i < n; i++)
		if (id->model[i] == '*')
			id->model[i] = '-';
	id->model_len = (uint8_t)n;
	id->sw[0] = (uint8_t)(u->bms->sw_version >> 4);
	id->sw[1] = (uint8_t)(u->bms->sw_version & 0x0Fu);
	id->hw[0] = 1;
	id->hw[1] = 0;
	memset(id->serial, '0', DEYE_MB_SERIAL_LEN);
	n = serial->len < DEYE_MB_SERIAL_LEN ? serial->len : DEYE_MB_SERIAL_LEN;
	memcpy(id->serial, serial->text, n);
	for (i = 0; i < n; i++)
		if (id->serial[i] == '*')
			id->serial[i] = '-';
}

/* 1: *reply is the answer; 0: silence. The protocol logic (which request earns which reply or
 * exception) is the firmware's inverter port's, so the emulated pack and a bridge answer
 * alike; the emulator adds its quirk (exceptions off) and the truth parts. */
static int handle(struct deye_mb_unit *u, const struct modbus_frame *req, struct modbus_frame *reply,
                  unsigned *parts)
{
	struct rig_inv_battery r;
	struct deye_mb_ident id;
	uint16_t start, count;
	int kind;

	*parts = 0;
	record(u, &r);
	identity(u, &id);
	kind = rig_inv_port_deye_answer(&r, &id, u->q.address, req, reply);
	if (kind == 2)
		return u->q.exceptions;
	/* The block has no per-cell or per-probe values: a read that touches it shows the pack. */
	if (kind == 1 && req->fc == DEYE_MB_FC_READ_INPUT && rig_deye_mb_read_decode(req, &start, &count) == RIG_OK &&
	    (uint32_t)start < DEYE_MB_BLOCK_START + DEYE_MB_BLOCK_COUNT && (uint32_t)start + count > DEYE_MB_BLOCK_START)
		*parts = TRUTH_PACK;
	return kind;
}

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const struct modbus_frame *f)
{
	uint8_t wire[MODBUS_ADU_MAX];
	size_t n;

	if (sink->frame && rig_modbus_frame_encode(f, wire, sizeof wire, &n) == RIG_OK)
		sink->frame(sink->ctx, dir, wire, n);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct deye_mb_unit *u = state;
	struct modbus_frame req, reply;

	while (n) {
		size_t used = rig_modbus_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_modbus_rx_next(&u->rx, &req) == RIG_OK) {
			uint8_t wire[MODBUS_ADU_MAX];
			size_t len;
			unsigned parts;

			/* Another pack's request: every slave on the bus hears it and keeps quiet. */
			if (req.addr != u->q.address)
				continue;
			log_frame(sink, PERS_RX, &req);
			if (u->q.absent || !fresh(u, now_ms))
				continue;
			if (!handle(u, &req, &reply, &parts) ||
			    rig_modbus_frame_encode(&reply, wire, sizeof wire, &len) != RIG_OK)
				continue;
			log_frame(sink, PERS_TX, &reply);
			sink->send(sink->ctx, wire, len, u->q.latency_ms, parts);
		}
	}
}

/* The runner's view of what crossed. An FC 0x04 answer does not say which registers it holds,
 * so the request's start and count are kept in *ask (start << 8 | count); the registers read
 * replace theirs in the block the record gives, and the block is read back. */
static int unit_inv_decode(uint32_t *ask, enum personality_dir dir, const uint8_t *wire, size_t n,
                           struct rig_inv_battery *rec)
{
	struct modbus_frame f;
	uint16_t regs[DEYE_MB_BLOCK_COUNT], got[125], start, count;
	uint32_t i;

	if (dir == PERS_RX) {
		if (rig_modbus_frame_parse(wire, n, MODBUS_REQUEST, &f) == RIG_OK && f.fc == 0x04 &&
		    rig_deye_mb_read_decode(&f, &start, &count) == RIG_OK && count <= 125u)
			*ask = (uint32_t)start << 8 | count;
		return 0;
	}
	if (!*ask || rig_modbus_frame_parse(wire, n, MODBUS_RESPONSE, &f) != RIG_OK || f.fc != 0x04 ||
	    rig_deye_mb_regs_decode(&f, got, 125u, &count) != RIG_OK || count != (*ask & 0xFFu))
		return 0;
	start = (uint16_t)(*ask >> 8);
	rig_deye_mb_block_encode(rec, regs);
	for (i = 0; i < count; i++)
		if ((uint32_t)start + i >= DEYE_MB_BLOCK_START &&
		    (uint32_t)start + i < DEYE_MB_BLOCK_START + DEYE_MB_BLOCK_COUNT)
			regs[(uint32_t)start + i - DEYE_MB_BLOCK_START] = got[i];
	rig_deye_mb_block_decode(regs, rec);
	return 1;
}

const struct personality_ops deye_modbus_personality_ops = {
	.name = "deye-modbus",
	.baud = 9600u,
	/* The block's steps: 10 mV pack, 10 mA current, 0.1 degC, 1 mV cells (max/min only). */
	.resolution = { .pack_mV = 10.0, .current_mA = 10.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.peers = unit_peers,
	.tick = unit_tick,
	.wire_json = deye_mb_wire_json,
	.inv_decode = unit_inv_decode,
};

_Static_assert(sizeof(struct deye_mb_unit) <= PERSONALITY_STATE_MAX, "deye_mb_unit outgrew PERSONALITY_STATE_MAX");
