/* JK BLE client (jk_ble_client.h): the 0x97/0x96 session, then cycles over the pushed stream.
 * The cycle here is a window of time rather than a list of requests, so the client drives the
 * engine's parts itself (cadence, receive, send, expire) instead of rig_client_engine_step. */
#include <string.h>

#include "bmsrig/core/jk_ble_client.h"
#include "bmsrig/core/scratch.h"

enum session {
	S_NONE,          /* nothing asked yet, or the last session gave up: next cycle sends 0x97 */
	S_DEVICE,        /* 0x97 sent, waiting for device info */
	S_START,         /* 0x96 sent, waiting for the settings or a cell-info record */
	S_STREAM,        /* records arrive by themselves */
	S_WRITE          /* streaming, and a switch write waits for its ack */
};
/* Until the first cell-info record says otherwise (init hook). */
static void init(void *v)
{
	((struct jk_ble_client *)v)->layout = JK_BLE_JK02_24S;
}

/* ---- requests ---------------------------------------------------------------------------- */

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	struct jk_ble_client *c = v;
	struct jk_ble_cmd cmd;

	if (cap < JK_BLE_CMD_LEN)
		return RIG_ERR_LENGTH;
	if (c->session == S_WRITE)
		(void)rig_jk_ble_cmd_write(&cmd, c->writing, 4,
		                       c->writing == JK_BLE_REG_CHG_SWITCH ? c->eng.fets.chg_on : c->eng.fets.dsg_on);
	else
		rig_jk_ble_cmd_read(&cmd, c->session == S_DEVICE ? JK_BLE_REG_DEVICE_INFO : JK_BLE_REG_CELL_INFO);
	rig_jk_ble_cmd_encode(&cmd, wire);
	*n = JK_BLE_CMD_LEN;
	return RIG_OK;
}

static void request(struct jk_ble_client *c, enum session s, uint32_t now_ms)
{
	c->session = (uint8_t)s;
	c->eng.req = CLIENT_REQ_REPLY;
	c->eng.tries = 0;
	rig_client_engine_send(&c->eng, now_ms);
}

/* A cycle ends once; the command in flight (if any) goes on across cycles. */
static enum client_event finish(struct jk_ble_client *c, int ok)
{
	if (!c->cycle_open)
		return CLIENT_BUSY;
	c->cycle_open = 0;
	c->fresh = 0;
	return rig_client_finish(&c->eng.stats, ok);
}

/* The next switch write, or back to listening. */
static void next_write(struct jk_ble_client *c, uint32_t now_ms)
{
	struct client_fets *fets = &c->eng.fets;

	if (c->layout == JK_BLE_JK04)
		fets->pending = 0;            /* JK04 has no charge/discharge switch registers */
	if (!fets->pending) {
		c->session = S_STREAM;
		return;
	}
	c->writing = (fets->pending & CLIENT_FET_CHG) ? JK_BLE_REG_CHG_SWITCH : JK_BLE_REG_DSG_SWITCH;
	request(c, S_WRITE, now_ms);
}

static enum client_event on_timeout(struct jk_ble_client *c, uint32_t now_ms)
{
	if (!rig_client_engine_expire(&c->eng, now_ms)) {
		rig_client_engine_send_due(&c->eng, now_ms);
		return CLIENT_BUSY;
	}
	if (c->session == S_WRITE) {      /* the stream goes on; the switch is tried next cycle */
		c->session = S_STREAM;
		return CLIENT_BUSY;
	}
	c->session = S_NONE;
	return finish(c, 0);
}

/* ---- what arrives ----------------------------------------------------------------------------- */

static enum client_rx on_record(struct jk_ble_client *c, const uint8_t *rec, uint32_t now_ms)
{
	enum jk_ble_layout layout = rig_jk_ble_layout_detect(rec);
	struct jk_ble_cells *cells = &rig_client_scratch.jk_ble;

	switch (rec[4]) {
	case JK_BLE_REC_DEVICE:
		if (c->session == S_DEVICE)
			request(c, S_START, now_ms);
		return CLIENT_RX_WAIT;
	case JK_BLE_REC_SETTINGS:
		if (c->session == S_START)
			c->session = S_STREAM;
		return CLIENT_RX_WAIT;
	case JK_BLE_REC_CELLS:
		if (rig_jk_ble_cells_decode(rec, layout, cells) != RIG_OK)
			break;
		c->layout = (uint8_t)layout;
		rig_jk_ble_to_pack_state(cells, layout, c->eng.out);
		c->fresh = 1;
		c->records++;
		/* A stream that runs already (a restarted client) needs no new session. */
		if (c->session != S_WRITE)
			c->session = S_STREAM;
		return CLIENT_RX_WAIT;
	default:
		break;                    /* logbook or unknown types: not ours to read */
	}
	return CLIENT_RX_SPURIOUS;
}

static enum client_rx on_command(struct jk_ble_client *c, const uint8_t *wire, uint32_t now_ms)
{
	struct jk_ble_cmd cmd;

	if (rig_jk_ble_cmd_parse(wire, JK_BLE_CMD_LEN, &cmd) != RIG_OK || !rig_jk_ble_cmd_is_ack(&cmd))
		return CLIENT_RX_SPURIOUS;    /* our own command echoed by a half-duplex bridge */
	/* Acks carry no register; only a write waits for one, and writes go one at a time. */
	if (c->session != S_WRITE)
		return CLIENT_RX_WAIT;
	c->eng.fets.pending &= (uint8_t)~(c->writing == JK_BLE_REG_CHG_SWITCH ? CLIENT_FET_CHG : CLIENT_FET_DSG);
	next_write(c, now_ms);
	return CLIENT_RX_WAIT;
}

static size_t rx_feed(void *v, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_jk_ble_rx_feed(&((struct jk_ble_client *)v)->rx, p, n, now_ms);
}

/* Records and acks move the session themselves, whatever the engine waits for. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct jk_ble_client *c = v;
	const uint8_t *w;
	size_t n;

	(void)waiting;
	if (rig_jk_ble_rx_next(&c->rx, &w, &n) != RIG_OK)
		return CLIENT_RX_NONE;
	if (n == JK_BLE_RECORD_LEN)
		return on_record(c, w, c->eng.now_ms);
	return on_command(c, w, c->eng.now_ms);
}

/* Unlike a polled protocol, nothing in the line is stale: records keep coming, so the input
 * is never flushed before a command. The cycle is the client's own (rig_jk_ble_client_step). */
static const struct client_proto jk_ble_proto = {
	.line = CLIENT_LINE_STREAM, .init = init, .encode = encode, .rx_next = rx_next, .rx_feed = rx_feed
};

/* The client's step (rig_jk_ble_client_step): its cycle is a window of time over the stream. */
static enum client_event step(struct client_engine *e, uint32_t now_ms)
{
	struct jk_ble_client *c = e->owner;
	int streaming;

	(void)rig_client_engine_receive(e, now_ms);   /* the verdicts above never end a cycle */
	if (!c->cycle_open && rig_client_cycle_due(e, now_ms)) {
		c->cycle_open = 1;
		c->cycle_ms = now_ms;
		if (c->session == S_NONE)
			request(c, S_DEVICE, now_ms);
		else if (c->session == S_STREAM)
			next_write(c, now_ms);
	}
	if (c->cycle_open && c->fresh) {
		e->out->updated_ms = now_ms;
		return finish(c, 1);
	}
	streaming = c->session == S_STREAM || c->session == S_WRITE;
	/* A record is due within one push period of the cycle's start, plus timeout_ms to cross the
	 * link; after that the stream stalled: ask for it again (a write in flight goes with it). */
	if (c->cycle_open && streaming &&
	    client_due(now_ms, c->cycle_ms + JK_BLE_PUSH_MS + e->cfg.timeout_ms)) {
		e->stats.timeouts++;
		request(c, S_START, now_ms);
		return finish(c, 0);
	}
	/* A command of the session, or a write, is in flight: resend it, or time it out. */
	if (c->session != S_NONE && c->session != S_STREAM) {
		if (e->phase == CLIENT_PH_READY)
			rig_client_engine_send_due(e, now_ms);
		else if (client_due(now_ms, e->sent_ms + e->cfg.timeout_ms))
			return on_timeout(c, now_ms);
	}
	return CLIENT_BUSY;
}

/* ---- the table the core drives every client through ----------------------------------------- */

/* The typed API, and the table the core drives every client through. 115200: what the BMS's
 * UART runs at behind its BLE module (docs/protocols/jk.md §1). */
CLIENT_DEFINE(jk_ble, "jk-ble", 115200u, step, NULL);
