/* JBD poller. One cycle: [0xE1 when a FET change is pending] -> 0x03 -> 0x04, on the
 * transaction engine (client.h): each request is retried on timeout, the first resend at once
 * because a sleeping JBD drops the first frame after idle (docs/protocols/jbd.md §12.1), later ones back off. */
#include <string.h>

#include "bmsrig/core/jbd_client.h"

static const struct client_proto jbd_proto;

void rig_jbd_client_init(struct jbd_client *c, const struct client_cfg *cfg, struct rig_io io,
                     struct pack_state *out)
{
	memset(c, 0, sizeof *c);
	rig_client_engine_init(&c->eng, &jbd_proto, c, cfg, io, out);
	rig_jbd_rx_init(&c->rx, cfg->gap_ms);
	rig_client_engine_rx(&c->eng, &c->rx.b, c->rx.buf, sizeof c->rx.buf);
}

void rig_jbd_client_set_fets(struct jbd_client *c, uint8_t chg_on, uint8_t dsg_on)
{
	c->mosfet_mask = (uint8_t)((chg_on ? 0u : JBD_MOSFET_CHG_OFF) | (dsg_on ? 0u : JBD_MOSFET_DSG_OFF));
	c->mosfet_pending = 1;
}

const struct client_stats *rig_jbd_client_stats(const struct jbd_client *c)
{
	return &c->eng.stats;
}

enum client_event rig_jbd_client_step(struct jbd_client *c, uint32_t now_ms)
{
	return rig_client_engine_step(&c->eng, now_ms);
}

/* ---- the hooks ------------------------------------------------------------------------------ */

static enum client_req begin_cycle(void *v)
{
	struct jbd_client *c = v;

	if (c->mosfet_pending)
		rig_jbd_request_mosfet(&c->req, c->mosfet_mask);
	else
		rig_jbd_request_read(&c->req, JBD_REG_BASIC);
	return CLIENT_REQ_REPLY;
}

static enum client_req next_request(void *v)
{
	struct jbd_client *c = v;

	switch (c->req.reg) {
	case JBD_REG_MOSFET:
		rig_jbd_request_read(&c->req, JBD_REG_BASIC);
		return CLIENT_REQ_REPLY;
	case JBD_REG_BASIC:
		rig_jbd_request_read(&c->req, JBD_REG_CELLS);
		return CLIENT_REQ_REPLY;
	default:
		return CLIENT_REQ_NONE;
	}
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	return rig_jbd_frame_encode(&((struct jbd_client *)v)->req, wire, cap, n);
}

/* A reply to the request in flight. A corrupt payload counts as a lost reply. */
static enum client_rx judge(struct jbd_client *c, const struct jbd_frame *f)
{
	struct jbd_cells cells;

	if (f->kind != JBD_KIND_RESPONSE || f->reg != c->req.reg)
		return CLIENT_RX_WAIT;           /* not the answer to this request */
	if (f->status != JBD_STATUS_OK) {
		if (c->req.reg != JBD_REG_MOSFET)
			return CLIENT_RX_FAIL;
		c->mosfet_pending = 0;           /* refused: report it, keep polling */
		return CLIENT_RX_DONE_ERROR;
	}
	switch (c->req.reg) {
	case JBD_REG_MOSFET:
		c->mosfet_pending = 0;
		return CLIENT_RX_DONE;
	case JBD_REG_BASIC:
		return rig_jbd_basic_decode(f, &c->basic) == RIG_OK ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	default:
		if (rig_jbd_cells_decode(f, &cells) != RIG_OK)
			return CLIENT_RX_LOST;
		rig_jbd_to_pack_state(&c->basic, &cells, c->eng.out);
		return CLIENT_RX_DONE;
	}
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct jbd_client *c = v;
	struct jbd_frame f;

	if (rig_jbd_rx_next(&c->rx, &f) != RIG_OK)
		return CLIENT_RX_NONE;
	return waiting ? judge(c, &f) : CLIENT_RX_WAIT;
}

static const struct client_proto jbd_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next
};
/* The table the core drives every client through. */
CLIENT_OPS_DEFINE(jbd, "jbd", 9600u);
