/* JK "4E 57" poller (jk_client.h) on the transaction engine (client.h). One cycle: [password,
 * pause, 0xAB, 0xAC when a FET change is pending] -> read-all. */
#include <string.h>

#include "bmsrig/core/jk_client.h"
#include "bmsrig/core/scratch.h"

enum step { ST_AUTH, ST_CHG, ST_DSG, ST_READ };   /* in the order a cycle runs them */

/* ---- the hooks ------------------------------------------------------------------------------ */

/* No reply is known for the password frame: the engine gives the board a pause, then writes. */
static enum client_req request_kind(const struct jk_client *c)
{
	return c->step == ST_AUTH ? CLIENT_REQ_PAUSE : CLIENT_REQ_REPLY;
}

static enum client_req begin_cycle(void *v)
{
	struct jk_client *c = v;

	c->step = c->eng.fets.pending ? ST_AUTH : ST_READ;
	return request_kind(c);
}

/* The read-all is the last request: its answer completes the cycle. */
static enum client_req next_request(void *v)
{
	struct jk_client *c = v;

	if (c->step >= ST_READ)
		return CLIENT_REQ_NONE;
	c->step++;
	return request_kind(c);
}

/* A write without its reply may still have landed: the read-all will tell. */
static int skippable(const void *v)
{
	const struct jk_client *c = v;

	return c->step == ST_CHG || c->step == ST_DSG;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	struct jk_client *c = v;
	struct jk_frame *f = &rig_client_scratch.jk.frame;

	switch (c->step) {
	case ST_AUTH:
		rig_jk_request_password(f, JK_SRC_PC);
		break;
	case ST_CHG:
		(void)rig_jk_request_switch(f, JK_SRC_PC, JK_ID_CHG_SWITCH, c->eng.fets.chg_on);
		break;
	case ST_DSG:
		(void)rig_jk_request_switch(f, JK_SRC_PC, JK_ID_DSG_SWITCH, c->eng.fets.dsg_on);
		break;
	default:
		rig_jk_request_read_all(f, JK_SRC_PC);
		break;
	}
	return rig_jk_frame_encode(f, wire, cap, n);
}

/* The reply the request in flight waits for: same command; a write's names its id. */
static int answers(const struct jk_client *c, const struct jk_frame *f)
{
	switch (c->step) {
	case ST_CHG:
		return f->cmd == JK_CMD_WRITE && f->info[0] == JK_ID_CHG_SWITCH;
	case ST_DSG:
		return f->cmd == JK_CMD_WRITE && f->info[0] == JK_ID_DSG_SWITCH;
	case ST_READ:
		return f->cmd == JK_CMD_READ_ALL;
	default:
		return 0;
	}
}

static enum client_rx on_read_all(struct jk_client *c, const struct jk_frame *f)
{
	struct client_fets *fets = &c->eng.fets;
	struct jk_data *d = &rig_client_scratch.jk.data;
	rig_rc rc = rig_jk_data_decode(f, d);

	if (rc == RIG_OK)
		rc = rig_jk_to_pack_state(d, c->eng.out);
	if (rc != RIG_OK)
		return CLIENT_RX_BAD;
	/* Done when the switches read back as asked (or the board does not report them). A cycle
	 * writes both switches, so both stay pending while either differs. */
	if (fets->pending && rig_jk_data_has(d, JK_ID_CHG_SWITCH) && rig_jk_data_has(d, JK_ID_DSG_SWITCH) &&
	    (d->chg_switch != fets->chg_on || d->dsg_switch != fets->dsg_on))
		fets->pending = CLIENT_FET_CHG | CLIENT_FET_DSG;
	else
		fets->pending = 0;
	return CLIENT_RX_DONE;
}

/* An echo is refused even while no reply is due. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct jk_client *c = v;
	struct jk_frame *f = &rig_client_scratch.jk.frame;

	if (rig_jk_rx_next(&c->rx, f) != RIG_OK)
		return CLIENT_RX_NONE;
	if (f->type == JK_TYPE_REQUEST)
		return CLIENT_RX_SPURIOUS;        /* our own request, echoed by a half-duplex adapter */
	if (!waiting || !answers(c, f))
		return CLIENT_RX_WAIT;
	return c->step == ST_READ ? on_read_all(c, f) : CLIENT_RX_DONE;
}

static const struct client_proto jk_proto = {
	.line = CLIENT_LINE_FLUSH, .pause_ms = JK_AUTH_PAUSE_MS, .begin_cycle = begin_cycle,
	.next_request = next_request, .encode = encode, .rx_next = rx_next, .skippable = skippable
};

/* The typed API and the table the core drives every client through. */
CLIENT_DEFINE(jk, "jk", 115200u, rig_client_engine_step, rig_client_ops_next_due_ms);
