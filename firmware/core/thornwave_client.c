/* Thornwave PowerMon client (thornwave_client.h): one long ATT read per cycle on the
 * transaction engine. */
#include <string.h>

#include "bmsrig/core/thornwave_client.h"
#include "bmsrig/core/scratch.h"

static int streaming(const struct thornwave_client *c)
{
	return (c->eng.cfg.flags & TW_CLIENT_STREAM) != 0;
}

static enum client_req begin_cycle(void *v)
{
	struct thornwave_client *c = v;

	c->eng.fets.pending = 0;    /* a monitor has no FETs to switch */
	c->offset = 0;
	return CLIENT_REQ_REPLY;
}

/* The next piece while the value has bytes left. */
static enum client_req next_request(void *v)
{
	struct thornwave_client *c = v;

	c->offset = (uint16_t)(c->offset + rig_tw_att_piece_len(TW_VALUE_LEN, c->offset));
	return c->offset < TW_VALUE_LEN ? CLIENT_REQ_REPLY : CLIENT_REQ_NONE;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	static const uint8_t notify_on[2] = { 0x01, 0x00 };
	const struct thornwave_client *c = v;
	struct tw_att a;

	memset(&a, 0, sizeof a);
	if (streaming(c)) {
		a.op = TW_ATT_WRITE_REQ;
		a.handle = TW_MON_CCCD;
		a.value = notify_on;
		a.value_len = 2;
		*n = rig_tw_att_encode(&a, wire, cap);
		return *n ? RIG_OK : RIG_ERR_LENGTH;
	}
	a.op = c->offset ? TW_ATT_BLOB_REQ : TW_ATT_READ_REQ;
	a.handle = TW_VALUE_HANDLE;
	a.offset = c->offset;
	*n = rig_tw_att_encode(&a, wire, cap);
	return *n ? RIG_OK : RIG_ERR_LENGTH;
}

static enum client_rx stream_rx_next(struct thornwave_client *c);

static enum client_rx rx_next(void *v, int waiting)
{
	struct thornwave_client *c = v;
	size_t want = rig_tw_att_piece_len(TW_VALUE_LEN, c->offset);
	uint8_t *pdu = rig_client_scratch.tw.pdu;
	struct tw_value *val = &rig_client_scratch.tw.val;
	struct tw_att *a = &rig_client_scratch.tw.att;

	if (streaming(c))
		return stream_rx_next(c);
	if (rig_thornwave_rx_next(&c->rx, want, pdu, a) != RIG_OK)
		return CLIENT_RX_NONE;
	if (!waiting)
		return CLIENT_RX_SPURIOUS;
	if (a->op == TW_ATT_ERROR_RSP)
		return CLIENT_RX_FAIL;      /* the device refuses the read: no value this cycle */
	if (a->op != (c->offset ? TW_ATT_BLOB_RSP : TW_ATT_READ_RSP))
		return CLIENT_RX_BAD;       /* the answer to another request: not this piece */
	memcpy(c->value + c->offset, a->value, a->value_len);
	if (c->offset + a->value_len < TW_VALUE_LEN)
		return CLIENT_RX_DONE;
	if (rig_tw_value_decode(c->value, TW_VALUE_LEN, val) != RIG_OK)
		return CLIENT_RX_BAD;
	c->last = *val;
	rig_tw_to_pack_state(val, c->eng.out);
	return CLIENT_RX_DONE;
}

/* ---- stream mode ------------------------------------------------------------------------------- */

/* Each notification's value into the COBS splitter; frames that decode land at once. */
static enum client_rx stream_rx_next(struct thornwave_client *c)
{
	uint8_t *pdu = rig_client_scratch.tw.pdu, *frame = rig_client_scratch.tw.cobs;
	struct tw_monitor *m = &rig_client_scratch.tw.mon;
	struct tw_att *a = &rig_client_scratch.tw.att;
	size_t off = 0;

	if (rig_thornwave_rx_next_notify(&c->rx, pdu, a) != RIG_OK)
		return CLIENT_RX_NONE;
	if (a->op == TW_ATT_WRITE_RSP) {
		if (c->eng.phase == CLIENT_PH_WAIT)
			c->subscribed = 1;
		c->eng.phase = CLIENT_PH_IDLE;
		return CLIENT_RX_WAIT;
	}
	if (a->op != TW_ATT_NOTIFY || a->handle != TW_MON_HANDLE)
		return CLIENT_RX_SPURIOUS;    /* an error, or another characteristic's */
	while (off < a->value_len) {
		size_t got;

		off += rig_tw_cobs_rx_feed(&c->cobs, a->value + off, a->value_len - off, frame, &got);
		if (!got)
			continue;
		if (rig_tw_monitor_decode(frame, got, m) != RIG_OK) {
			c->eng.stats.rejected++;
			continue;
		}
		c->last_mon = *m;
		rig_tw_monitor_to_pack_state(m, c->eng.out);
		c->subscribed = 1;        /* frames come: whatever became of the write response */
		c->fresh = 1;
		c->frames++;
	}
	return CLIENT_RX_WAIT;
}

static void subscribe(struct thornwave_client *c, uint32_t now_ms)
{
	c->subscribed = 0;
	c->eng.req = CLIENT_REQ_REPLY;
	c->eng.tries = 0;
	rig_client_engine_send(&c->eng, now_ms);
}

static enum client_event finish(struct thornwave_client *c, int ok)
{
	c->cycle_open = 0;
	c->fresh = 0;
	return rig_client_finish(&c->eng.stats, ok);
}

/* The stream's step: a cycle is a window of time over the notifications (as JK BLE's). */
static enum client_event stream_step(struct client_engine *e, uint32_t now_ms)
{
	struct thornwave_client *c = e->owner;

	(void)rig_client_engine_receive(e, now_ms);
	if (!c->cycle_open && rig_client_cycle_due(e, now_ms)) {
		c->cycle_open = 1;
		c->cycle_ms = now_ms;
		if (!c->subscribed && e->phase != CLIENT_PH_WAIT && e->phase != CLIENT_PH_READY)
			subscribe(c, now_ms);
	}
	if (c->cycle_open && c->fresh) {
		e->out->updated_ms = now_ms;
		return finish(c, 1);
	}
	/* The CCCD write in flight: resend it, or give it up for this round. */
	if (e->phase == CLIENT_PH_READY)
		rig_client_engine_send_due(e, now_ms);
	else if (e->phase == CLIENT_PH_WAIT && client_due(now_ms, e->sent_ms + e->cfg.timeout_ms) &&
	         rig_client_engine_expire(e, now_ms))
		e->phase = CLIENT_PH_IDLE;
	if (c->cycle_open && client_due(now_ms, c->cycle_ms + TW_MON_PUSH_MS + e->cfg.timeout_ms)) {
		e->stats.timeouts++;
		c->subscribed = 0;        /* the stream stalled: subscribe again next cycle */
		return finish(c, 0);
	}
	return CLIENT_BUSY;
}

static enum client_event step(struct client_engine *e, uint32_t now_ms)
{
	const struct thornwave_client *c = e->owner;

	return streaming(c) ? stream_step(e, now_ms) : rig_client_engine_step(e, now_ms);
}

/* Legacy reads flush stale input before each request; the stream is never flushed (the engine
 * reads always), so the line kind is chosen once the flags are known (init hook). */
static void init(void *v);
static const struct client_proto thornwave_proto = {
	.line = CLIENT_LINE_FLUSH, .init = init, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next
};
static const struct client_proto thornwave_stream_proto = {
	.line = CLIENT_LINE_STREAM, .encode = encode, .rx_next = rx_next
};

static void init(void *v)
{
	struct thornwave_client *c = v;

	rig_tw_cobs_rx_init(&c->cobs);
	if (streaming(c))
		c->eng.proto = &thornwave_stream_proto;
}

/* The typed API and the table. 115200: the rig's Bluetooth links run at the UART speed of a
 * BLE bridge; the link model adds the Bluetooth timing. */
CLIENT_DEFINE(thornwave, "thornwave", 115200u, step, NULL);
