/* The Pylontech CAN inverter side on the transaction engine (pylon_can_client.h). The battery
 * talks by itself, so the line is a stream; a cycle is [C, S6, O on the first cycle, after
 * three failed ones and after the adapter refused the keep-alive: requests nothing answers]
 * -> 0x305, whose "answer" is the next whole set. The keep-alive thus goes once a cycle
 * (poll_ms, 1000 by default) and again on each resend. */
#include <string.h>

#include "bmsrig/core/pylon_can_client.h"

/* A battery silent for three cycles may have been restarted: open its adapter again. */
#define REOPEN_AFTER_FAILS 3u

static void rig_pylon_can_rx_init(struct slcan_rx *rx, uint32_t gap_ms)
{
	rig_slcan_rx_init(rx, gap_ms);
}

static enum client_req begin_cycle(void *v)
{
	struct pylon_can_client *c = v;

	c->eng.fets.pending = 0;   /* nothing in the protocol carries it */
	if (c->eng.stats.comm_fail >= REOPEN_AFTER_FAILS)
		c->opened = 0;
	c->step = c->opened ? PYLON_CAN_STEP_KEEPALIVE : PYLON_CAN_STEP_CLOSE;
	return c->opened ? CLIENT_REQ_REPLY : CLIENT_REQ_PAUSE;
}

static enum client_req next_request(void *v)
{
	struct pylon_can_client *c = v;

	if (c->step == PYLON_CAN_STEP_KEEPALIVE)
		return CLIENT_REQ_NONE;
	c->step++;
	if (c->step == PYLON_CAN_STEP_KEEPALIVE) {
		c->opened = 1;
		return CLIENT_REQ_REPLY;
	}
	return CLIENT_REQ_PAUSE;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	static const char *const cmds[] = { "C\r", "S6\r", "O\r" };
	struct pylon_can_client *c = v;
	struct rig_can_frame f;

	if (c->step < PYLON_CAN_STEP_KEEPALIVE) {
		size_t len = strlen(cmds[c->step]);
		if (cap < len)
			return RIG_ERR_SPACE;
		memcpy(wire, cmds[c->step], len);
		*n = len;
		return RIG_OK;
	}
	rig_pylon_can_keepalive(&f);
	return rig_slcan_frame_encode(&f, wire, cap, n);
}

/* Only a set that starts after the keep-alive answers it. */
static void on_send(void *v)
{
	((struct pylon_can_client *)v)->have = 0;
}

static void to_pack_state(const struct rig_inv_battery *r, struct pack_state *out)
{
	out->pack_mV = r->pack_mV;
	out->current_mA = r->current_mA;
	out->soc_pct = r->soc_pct;
	out->cell_count = 0;                /* the set carries no cells */
	out->temp_count = 1;
	out->temp_dK[0] = r->temp_dK;
	out->fet_chg = (r->request & RIG_INV_CHG_ENABLE) ? 1u : 0u;
	out->fet_dsg = (r->request & RIG_INV_DSG_ENABLE) ? 1u : 0u;
	out->prot = r->prot;
	out->bal_mask = 0;
	if (r->full_mAh)                    /* 0x35F, when the battery sends the extras */
		out->full_mAh = r->full_mAh;
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct pylon_can_client *c = v;
	struct slcan_line l;

	for (;;) {
		if (rig_slcan_rx_next(&c->rx, &l) != RIG_OK)
			return CLIENT_RX_NONE;
		/* A BEL while the keep-alive waits: the adapter refused the frame, so its channel is
		 * closed (an adapter that restarted, or a port whose buffers were emptied when it was
		 * opened and lost our O): the cycle fails now and the next one opens it again,
		 * rather than three silent cycles later. */
		if (l.kind == SLCAN_ERROR && waiting && c->step == PYLON_CAN_STEP_KEEPALIVE) {
			c->opened = 0;
			return CLIENT_RX_FAIL;
		}
		/* Adapter acknowledgements, and frames of no interest (another node's), pass by. */
		if (l.kind != SLCAN_FRAME)
			continue;
		if (l.frame.id == PYLON_CAN_ID_LIMITS && !l.frame.ext)
			c->have = 0;                /* a new set begins */
		if (rig_pylon_can_decode(&l.frame, &c->work, &c->have) != RIG_OK)
			continue;
		if ((c->have & PYLON_CAN_HAVE_CORE) != PYLON_CAN_HAVE_CORE || !(c->have & PYLON_CAN_HAVE_LIMITS))
			return CLIENT_RX_WAIT;
		c->have = 0;
		c->last = c->work;
		c->last_ms = c->eng.now_ms;
		c->has_last = 1;
		c->sets++;
		to_pack_state(&c->last, c->eng.out);
		return waiting ? CLIENT_RX_DONE : CLIENT_RX_WAIT;
	}
}

static const struct client_proto pylon_can_proto = {
	.line = CLIENT_LINE_STREAM, .pause_ms = 20, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next, .on_send = on_send,
};
CLIENT_DEFINE(pylon_can, "pylontech-can", 500000u, rig_client_engine_step, rig_client_ops_next_due_ms);

int rig_pylon_can_client_last(const struct pylon_can_client *c, struct rig_inv_battery *out, uint32_t *at_ms)
{
	if (!c->has_last)
		return 0;
	*out = c->last;
	*at_ms = c->last_ms;
	return 1;
}
