/* The Thornwave PowerMon personality (thornwave_personality.h): ATT reads of the legacy value. */
#include "bmsrig/sim/thornwave_personality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmsrig/sim/thornwave_json.h"

#define TW_CLOCK_START_S 1767268800u     /* 2026-01-01 12:00:00 UTC */
#define TW_NO_PROBE_DK 2981              /* 25 degC: what the value says with no probe enabled */

void thornwave_quirks_defaults(struct thornwave_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->latency_ms = 20;
	q->clock_start_s = TW_CLOCK_START_S;
}

void thornwave_personality_init(struct thornwave_personality *p, struct bms *b, const struct thornwave_quirks *q)
{
	memset(p, 0, sizeof *p);
	p->bms = b;
	if (q)
		p->q = *q;
	else
		thornwave_quirks_defaults(&p->q);
	p->energy_mWh = p->q.energy_mwh;
	p->charge_mAh = p->q.charge_mah;
}

static void push_monitor(struct thornwave_personality *p, uint32_t now_ms, const struct reply_sink *sink);

void thornwave_personality_tick(struct thornwave_personality *p, uint32_t now_ms, const struct reply_sink *sink)
{
	const struct bms_meas *m = &p->bms->meas;
	double h;

	if (!p->started) {
		p->started = 1;
		p->start_ms = p->last_ms = now_ms;
	}
	/* The meters count what flowed since the last step, as the monitor's shunt does. */
	h = (double)(uint32_t)(now_ms - p->last_ms) / 3600000.0;
	p->charge_mAh += (double)m->current_mA * h;
	p->energy_mWh += (double)m->current_mA * (double)m->pack_mV / 1000.0 * h;
	p->last_ms = now_ms;
	if (labs(m->current_mA) > p->peak_mA)
		p->peak_mA = (int32_t)labs(m->current_mA);
	if (p->q.stream && p->subscribed && (int32_t)(now_ms - p->next_push_ms) >= 0) {
		push_monitor(p, now_ms, sink);
		/* Keep the period; after a long gap (a paused model) start again from now. */
		p->next_push_ms += TW_MON_PUSH_MS;
		if ((int32_t)(now_ms - p->next_push_ms) >= 0)
			p->next_push_ms = now_ms + TW_MON_PUSH_MS;
	}
}

/* The packed clock at power-on plus the uptime. */
static uint32_t clock_now(const struct thornwave_personality *p, uint32_t uptime_s)
{
	time_t t = (time_t)p->q.clock_start_s + (time_t)uptime_s;
	struct tm tm;
	struct tw_clock c;
	uint32_t packed = 0;

	if (!gmtime_r(&t, &tm))
		return 0;
	c.year = (uint16_t)(tm.tm_year + 1900);
	c.month = (uint8_t)(tm.tm_mon + 1);
	c.day = (uint8_t)tm.tm_mday;
	c.hour = (uint8_t)tm.tm_hour;
	c.min = (uint8_t)tm.tm_min;
	c.sec = (uint8_t)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	return rig_tw_clock_pack(&c, &packed) == RIG_OK ? packed : 0u;
}

/* What the monitor measures and counts now, in the legacy value's terms. */
static void fill_value(const struct thornwave_personality *p, uint32_t now_ms, struct tw_value *out)
{
	static const uint8_t head[3] = { 0xE0, 0xFF, 0x0F };   /* every capture */
	const struct bms_meas *m = &p->bms->meas;
	struct bms_view v;
	struct tw_value val;
	uint32_t uptime_s = p->started ? (now_ms - p->start_ms) / 1000u : 0u;
	int32_t v1 = (int32_t)m->pack_mV;

	bms_view(p->bms, &v);
	memset(&val, 0, sizeof val);
	memcpy(val.head, head, sizeof head);
	val.soc_half = (uint8_t)(v.soc_pct > 100 ? 200 : v.soc_pct * 2u);
	val.milli[TW_F_V1] = v1;
	val.milli[TW_F_V2] = p->q.v2_mv ? (int32_t)p->q.v2_mv : v1;
	val.milli[TW_F_CURRENT] = m->current_mA;
	val.milli[TW_F_POWER] = (int32_t)llround((double)v1 * (double)m->current_mA / 1000.0);
	val.milli[TW_F_TEMP] = ((v.probe_count ? (int32_t)v.probe_dK[0] : TW_NO_PROBE_DK) - (int32_t)PACK_DK_ZERO_C) * 100;
	val.milli[TW_F_PEAK] = p->peak_mA;
	val.energy_mWh = llround(p->energy_mWh);
	val.charge_mAh = llround(p->charge_mAh);
	val.uptime_s = uptime_s;
	val.clock = clock_now(p, uptime_s);
	*out = val;
}

void thornwave_personality_value(const struct thornwave_personality *p, uint32_t now_ms, uint8_t out[TW_VALUE_LEN])
{
	struct tw_value val;

	fill_value(p, now_ms, &val);
	rig_tw_value_encode(&val, out);
}

size_t thornwave_personality_monitor(const struct thornwave_personality *p, uint32_t now_ms, uint8_t out[TW_MON_LEN])
{
	struct tw_value v;
	struct tw_monitor m;

	fill_value(p, now_ms, &v);
	memset(&m, 0, sizeof m);
	m.fw_bcd = 0x0231;                       /* the capture's firmware */
	m.hw_rev = 0x23;                         /* a PowerMon: family 2, with V2 */
	m.time_s = p->q.clock_start_s + v.uptime_s;
	m.v1_mV = v.milli[TW_F_V1];
	m.v2_mV = v.milli[TW_F_V2];
	m.current_mA = v.milli[TW_F_CURRENT];
	m.power_mW = v.milli[TW_F_POWER];
	m.charge_mAh = v.charge_mAh;
	m.energy_mWh = v.energy_mWh;
	m.temp_mC = v.milli[TW_F_TEMP];
	m.power_status = 1;                      /* on */
	m.soc_pct = (uint8_t)(v.soc_half / 2u);
	m.runtime_min = 0xFFFF;                  /* fuel-gauge runtime disabled */
	return rig_tw_monitor_encode(&m, out);
}

/* ---- the ATT server ----------------------------------------------------------------------------- */

static void send_pdu(const struct reply_sink *sink, const struct tw_att *a, uint32_t delay_ms, unsigned parts)
{
	uint8_t wire[TW_ATT_PDU_MAX];
	size_t n = rig_tw_att_encode(a, wire, sizeof wire);

	if (!n)
		return;
	if (sink->frame)
		sink->frame(sink->ctx, PERS_TX, wire, n);
	sink->send(sink->ctx, wire, n, delay_ms, parts);
}

static void send_error(struct thornwave_personality *p, const struct tw_att *req, uint8_t code,
                       const struct reply_sink *sink)
{
	struct tw_att e;

	memset(&e, 0, sizeof e);
	e.op = TW_ATT_ERROR_RSP;
	e.err_op = req->op;
	e.handle = req->handle;
	e.err_code = code;
	p->errors++;
	send_pdu(sink, &e, p->q.latency_ms, 0);
}

static void handle(struct thornwave_personality *p, const struct tw_att *req, uint32_t now_ms,
                   const struct reply_sink *sink)
{
	struct tw_att r;
	struct bms_view v;

	if (req->op == TW_ATT_WRITE_REQ) {
		if (!p->q.stream || req->handle != TW_MON_CCCD) {
			send_error(p, req, TW_ATT_ERR_INVALID_HANDLE, sink);
			return;
		}
		/* Bit 0 of the CCCD: notify. The first frame follows the write response. */
		p->subscribed = req->value[0] & 1u;
		p->next_push_ms = now_ms + p->q.latency_ms;
		memset(&r, 0, sizeof r);
		r.op = TW_ATT_WRITE_RSP;
		send_pdu(sink, &r, p->q.latency_ms, 0);
		return;
	}
	/* The newer firmware has no value at the legacy handle: old readers get an error. */
	if (req->handle != TW_VALUE_HANDLE || p->q.stream) {
		send_error(p, req, TW_ATT_ERR_INVALID_HANDLE, sink);
		return;
	}
	if (req->op == TW_ATT_READ_REQ) {
		thornwave_personality_value(p, now_ms, p->snap);
		p->reads++;
	} else if (req->offset > TW_VALUE_LEN) {
		send_error(p, req, TW_ATT_ERR_INVALID_OFFSET, sink);
		return;
	} else {
		p->blobs++;
	}
	memset(&r, 0, sizeof r);
	r.op = req->op == TW_ATT_READ_REQ ? TW_ATT_READ_RSP : TW_ATT_BLOB_RSP;
	bms_view(p->bms, &v);
	r.value = p->snap + req->offset;
	r.value_len = rig_tw_att_piece_len(TW_VALUE_LEN, req->offset);
	/* The snapshot is the truth of the whole read; its temperature is the pack's only when the
	 * pack has the one probe the monitor's sensor stands for. */
	send_pdu(sink, &r, p->q.latency_ms,
	         req->op != TW_ATT_READ_REQ ? 0u : TRUTH_PACK | (v.probe_count == 1 ? TRUTH_TEMPS : 0u));
}

void thornwave_personality_rx(struct thornwave_personality *p, const uint8_t *bytes, size_t n, uint32_t now_ms,
                              const struct reply_sink *sink)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int need;
		struct tw_att req;

		if (!p->have) {
			/* Only the two read requests start something; other bytes are not ours. */
			if (bytes[i] != TW_ATT_READ_REQ && bytes[i] != TW_ATT_BLOB_REQ && bytes[i] != TW_ATT_WRITE_REQ)
				continue;
		}
		p->rx[p->have++] = bytes[i];
		need = rig_tw_att_fixed_len(p->rx[0]);
		if (p->have < (size_t)need)
			continue;
		p->have = 0;
		if (rig_tw_att_parse(p->rx, (size_t)need, &req) != RIG_OK)
			continue;
		if (sink->frame)
			sink->frame(sink->ctx, PERS_RX, p->rx, (size_t)need);
		handle(p, &req, now_ms, sink);
	}
}

/* One monitor frame as the device's read shows it, 0x00, COBS, 0x00, in notifications of at
 * most 20 value bytes. A frame starts its own notification, so the last one of a frame ends at
 * its closing 0x00, and the opening one heals a stream whose last delimiter was lost. */
static void push_monitor(struct thornwave_personality *p, uint32_t now_ms, const struct reply_sink *sink)
{
	uint8_t frame[TW_MON_LEN], stream[TW_COBS_MAX + 2];
	size_t n = thornwave_personality_monitor(p, now_ms, frame), len, off;
	struct bms_view v;
	struct tw_att a;

	stream[0] = 0;
	len = rig_cobs_encode(frame, n, stream + 1, sizeof stream - 2u);
	if (!len)
		return;
	len++;
	stream[len++] = 0;
	if (sink->frame)
		sink->frame(sink->ctx, PERS_TX, stream, len);
	bms_view(p->bms, &v);
	memset(&a, 0, sizeof a);
	a.op = TW_ATT_NOTIFY;
	a.handle = TW_MON_HANDLE;
	for (off = 0; off < len; off += TW_ATT_NOTIFY_DATA) {
		uint8_t wire[TW_ATT_PDU_MAX];
		size_t k;

		a.value = stream + off;
		a.value_len = len - off < TW_ATT_NOTIFY_DATA ? len - off : TW_ATT_NOTIFY_DATA;
		k = rig_tw_att_encode(&a, wire, sizeof wire);
		sink->send(sink->ctx, wire, k, 0,
		           off ? 0u : TRUTH_PACK | (v.probe_count == 1 ? TRUTH_TEMPS : 0u));
	}
	p->pushes++;
}

/* ---- the generic personality table ------------------------------------------------------------- */

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	(void)address;   /* one monitor per Bluetooth connection: no bus address */
	thornwave_personality_init(state, bms, NULL);
	return RIG_OK;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct thornwave_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct thornwave_quirks, v2_mv, "v2_mv", 0, 100000),
	PERSONALITY_QUIRK(struct thornwave_quirks, energy_mwh, "energy_mwh", 0, 2000000000),
	PERSONALITY_QUIRK(struct thornwave_quirks, charge_mah, "charge_mah", 0, 2000000000),
	PERSONALITY_QUIRK(struct thornwave_quirks, clock_start_s, "clock_start_s", 1483228800u, 3500000000u),
	PERSONALITY_QUIRK(struct thornwave_quirks, stream, "stream", 0, 1),
};
static const struct personality_quirks quirks = {
	.proto = "thornwave", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, v2_mv, energy_mwh, charge_mah, clock_start_s, stream",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	struct thornwave_personality *p = state;
	rig_rc rc = personality_quirk_set(&quirks, &p->q, key, value, why, whycap);

	/* The meters start from their quirks (quirks are set before the first tick). */
	if (rc == RIG_OK && !p->started) {
		p->energy_mWh = p->q.energy_mwh;
		p->charge_mAh = p->q.charge_mah;
	}
	return rc;
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	thornwave_personality_rx(state, p, n, now_ms, sink);
}

static void unit_tick(void *state, uint32_t now_ms, const struct reply_sink *sink)
{
	thornwave_personality_tick(state, now_ms, sink);
}

static void unit_disconnected(void *state)
{
	struct thornwave_personality *p = state;

	p->have = 0;          /* a half request dies with the link */
	p->subscribed = 0;    /* and a new central starts unsubscribed */
}

/* Baud: the rig's Bluetooth links run at a BLE bridge's UART speed; the link model adds the
 * Bluetooth timing. Resolution: the floats carry far below 1 mV, 1 mA, 0.1 K. */
const struct personality_ops thornwave_personality_ops = {
	.name = "thornwave",
	.baud = 115200u,
	.resolution = { .pack_mV = 1.0, .current_mA = 1.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.tick = unit_tick,
	.disconnected = unit_disconnected,
	.wire_json = thornwave_wire_json,
};
