/* Pylontech RS485 master: 0x42 -> 0x44 -> 0x92 -> 0x47 on the transaction engine (client.h).
 * The module's RTN codes fail the cycle for the two it must answer, and skip the others. */
#include <string.h>

#include "bmsrig/core/pylon_rs485_client.h"

/* The cycle, in order; `optional` requests may be refused or unanswered. */
static const struct { uint8_t cid2, with_value, optional; } steps[] = {
	{ PYLON_CMD_ANALOG,    1, 0 },
	{ PYLON_CMD_ALARM,     1, 0 },
	{ PYLON_CMD_MGMT,      1, 1 },
	{ PYLON_CMD_SYS_PARAM, 0, 1 },
};
#define N_STEPS (sizeof steps / sizeof steps[0])

static uint8_t address(const struct pylon_client *c)
{
	return c->eng.cfg.address ? c->eng.cfg.address : (uint8_t)PYLON_ADR_DEFAULT;
}

static unsigned step_of(const struct pylon_client *c)
{
	unsigned i;

	for (i = 0; i < N_STEPS; i++)
		if (steps[i].cid2 == c->req.cid2)
			return i;
	return 0;
}

static void prepare(struct pylon_client *c, unsigned i)
{
	uint8_t adr = address(c);

	rig_pylon_request(&c->req, adr, steps[i].cid2, steps[i].with_value, adr);
}

static enum client_req begin_cycle(void *v)
{
	struct pylon_client *c = v;

	c->eng.fets.pending = 0;        /* no FET command in this protocol */
	c->have_mgmt = c->have_param = 0;
	prepare(c, 0);
	return CLIENT_REQ_REPLY;
}

static enum client_req next_request(void *v)
{
	struct pylon_client *c = v;
	unsigned i = step_of(c) + 1u;

	if (i >= N_STEPS)
		return CLIENT_REQ_NONE;
	prepare(c, i);
	return CLIENT_REQ_REPLY;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	return rig_pylon_frame_encode(&((struct pylon_client *)v)->req, wire, cap, n);
}

static int skippable(const void *v)
{
	const struct pylon_client *c = v;

	return steps[step_of(c)].optional;
}

static enum client_rx judge(struct pylon_client *c, const struct pylon_frame *f)
{
	switch (c->req.cid2) {
	case PYLON_CMD_ANALOG:
		return rig_pylon_analog_decode(f, &c->analog) == RIG_OK ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	case PYLON_CMD_ALARM:
		return rig_pylon_alarm_decode(f, &c->alarm) == RIG_OK ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	case PYLON_CMD_MGMT:
		c->have_mgmt = rig_pylon_mgmt_decode(f, 1, &c->mgmt) == RIG_OK;
		return c->have_mgmt ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	default:
		c->have_param = rig_pylon_sys_param_decode(f, &c->param) == RIG_OK;
		return c->have_param ? CLIENT_RX_DONE : CLIENT_RX_LOST;
	}
}

/* A reply is the module's when it carries the polled address and a return code; our own
 * request echoed on a two-wire bus carries a command in CID2 and is refused. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct pylon_client *c = v;
	rig_rc rc = rig_pylon_rx_next(&c->rx, &c->got);

	if (rc == RIG_MORE)
		return CLIENT_RX_NONE;
	if (!waiting || rc != RIG_OK)
		return waiting ? CLIENT_RX_BAD : CLIENT_RX_WAIT;
	if (!rig_pylon_is_rtn(c->got.cid2))
		return CLIENT_RX_SPURIOUS;
	if (c->got.adr != address(c))
		return CLIENT_RX_WAIT;
	if (c->got.cid2 != PYLON_RTN_OK)
		return steps[step_of(c)].optional ? CLIENT_RX_DONE_ERROR : CLIENT_RX_FAIL;
	return judge(c, &c->got);
}

static void cycle_complete(void *v)
{
	struct pylon_client *c = v;
	struct rig_inv_battery *b = &c->inv;

	rig_pylon_to_pack_state(&c->analog.m[0], &c->alarm.m[0], c->eng.out);
	rig_pylon_analog_to_inv(&c->analog, b);
	b->soc_pct = c->eng.out->soc_pct;
	b->prot = c->eng.out->prot;
	if (c->have_mgmt)
		rig_pylon_mgmt_to_inv(&c->mgmt, b);
}

static const struct client_proto pylon_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next, .skippable = skippable, .cycle_complete = cycle_complete
};
/* The typed API and the table the core drives every client through. */
CLIENT_DEFINE(pylon, "pylontech-rs485", 9600u, rig_client_engine_step, rig_client_ops_next_due_ms);
