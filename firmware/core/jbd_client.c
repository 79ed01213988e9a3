/* JBD poller. One cycle: [0xE1 when a FET change is pending] -> 0x03 -> 0x04, on the
 * transaction engine (client.h): each request is retried on timeout, the first resend at once
 * because a sleeping JBD drops the first frame after idle (docs/protocols/jbd.md §12.1), later ones back off. */
#include <string.h>

#include "bmsrig/core/jbd_client.h"
#include "bmsrig/core/scratch.h"

/* ---- the hooks ------------------------------------------------------------------------------ */

/* One 0xE1 write carries both FETs, as an inhibit mask. */
static enum client_req begin_cycle(void *v)
{
	struct jbd_client *c = v;
	const struct client_fets *fets = &c->eng.fets;

	if (fets->pending)
		rig_jbd_request_mosfet(&c->req, (uint8_t)((fets->chg_on ? 0u : JBD_MOSFET_CHG_OFF) |
		                                          (fets->dsg_on ? 0u : JBD_MOSFET_DSG_OFF)));
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

/* Frames while no reply is due are line activity only. A reply's corrupt payload counts as a
 * lost reply. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct jbd_client *c = v;
	struct jbd_frame *f = &rig_client_scratch.jbd.frame;

	if (rig_jbd_rx_next(&c->rx, f) != RIG_OK)
		return CLIENT_RX_NONE;
	if (!waiting || f->kind != JBD_KIND_RESPONSE || f->reg != c->req.reg)
		return CLIENT_RX_WAIT;           /* not the answer to this request */
	if (f->status != JBD_STATUS_OK) {
		if (c->req.reg != JBD_REG_MOSFET)
			return CLIENT_RX_FAIL;
		c->eng.fets.pending = 0;         /* refused: report it, keep polling */
		return CLIENT_RX_DONE_ERROR;
	}
	switch (c->req.reg) {
	case JBD_REG_MOSFET:
		c->eng.fets.pending = 0;
		return CLIENT_RX_DONE;
	case JBD_REG_BASIC:
		return rig_jbd_basic_decode(f, &c->basic) == RIG_OK ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	default:
		if (rig_jbd_cells_decode(f, &rig_client_scratch.jbd.cells) != RIG_OK)
			return CLIENT_RX_LOST;
		rig_jbd_to_pack_state(&c->basic, &rig_client_scratch.jbd.cells, c->eng.out);
		return CLIENT_RX_DONE;
	}
}

static const struct client_proto jbd_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next
};
/* The typed API and the table the core drives every client through. */
CLIENT_DEFINE(jbd, "jbd", 9600u, rig_client_engine_step, rig_client_ops_next_due_ms);
