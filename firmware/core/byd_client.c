/* BYD PRO 2.5 poller (byd_client.h) on the transaction engine (client.h). One cycle: one read. */
#include <string.h>

#include "bmsrig/core/byd_client.h"
#include "bmsrig/core/scratch.h"

static void init(void *v)
{
	struct byd_client *c = v;

	c->addr = c->eng.cfg.address ? c->eng.cfg.address : (uint8_t)BYD_ADDR_DEFAULT;
}

/* Nothing on this wire switches a FET: a request for it is settled by dropping it. */
static enum client_req begin_cycle(void *v)
{
	struct byd_client *c = v;

	c->eng.fets.pending = 0;
	return CLIENT_REQ_REPLY;
}

static enum client_req next_request(void *v)
{
	(void)v;
	return CLIENT_REQ_NONE;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	struct byd_client *c = v;
	struct byd_frame *f = &rig_client_scratch.byd.frame;

	rig_byd_request_read(f, c->addr);
	return rig_byd_frame_encode(f, wire, cap, n);
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct byd_client *c = v;
	struct byd_frame *f = &rig_client_scratch.byd.frame;
	struct byd_data *d = &rig_client_scratch.byd.data;
	rig_rc rc;

	if (rig_byd_rx_next(&c->rx, f) != RIG_OK)
		return CLIENT_RX_NONE;
	if (rig_byd_frame_is_request(f))
		return CLIENT_RX_SPURIOUS;        /* a request (ours echoed, or another master's) */
	if (!waiting || f->addr != c->addr)
		return CLIENT_RX_WAIT;            /* late, or another pack's answer */
	rc = rig_byd_data_decode(f, d);
	if (rc == RIG_ERR_STATUS)
		return CLIENT_RX_FAIL;
	if (rc == RIG_OK)
		rc = rig_byd_to_pack_state(d, c->eng.out);
	return rc == RIG_OK ? CLIENT_RX_DONE : CLIENT_RX_BAD;
}

static const struct client_proto byd_proto = {
	.line = CLIENT_LINE_FLUSH, .init = init, .begin_cycle = begin_cycle,
	.next_request = next_request, .encode = encode, .rx_next = rx_next
};

/* The typed API and the table the core drives every client through. */
CLIENT_DEFINE(byd, "byd", 9600u, rig_client_engine_step, rig_client_ops_next_due_ms);
