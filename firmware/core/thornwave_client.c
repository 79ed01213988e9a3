/* Thornwave PowerMon client (thornwave_client.h): one long ATT read per cycle on the
 * transaction engine. */
#include <string.h>

#include "bmsrig/core/thornwave_client.h"

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
	const struct thornwave_client *c = v;
	struct tw_att a;

	memset(&a, 0, sizeof a);
	a.op = c->offset ? TW_ATT_BLOB_REQ : TW_ATT_READ_REQ;
	a.handle = TW_VALUE_HANDLE;
	a.offset = c->offset;
	*n = rig_tw_att_encode(&a, wire, cap);
	return *n ? RIG_OK : RIG_ERR_LENGTH;
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct thornwave_client *c = v;
	size_t want = rig_tw_att_piece_len(TW_VALUE_LEN, c->offset);
	uint8_t pdu[TW_ATT_PDU_MAX];
	struct tw_value val;
	struct tw_att a;

	if (rig_thornwave_rx_next(&c->rx, want, pdu, &a) != RIG_OK)
		return CLIENT_RX_NONE;
	if (!waiting)
		return CLIENT_RX_SPURIOUS;
	if (a.op == TW_ATT_ERROR_RSP)
		return CLIENT_RX_FAIL;      /* the device refuses the read: no value this cycle */
	if (a.op != (c->offset ? TW_ATT_BLOB_RSP : TW_ATT_READ_RSP))
		return CLIENT_RX_BAD;       /* the answer to another request: not this piece */
	memcpy(c->value + c->offset, a.value, a.value_len);
	if (c->offset + a.value_len < TW_VALUE_LEN)
		return CLIENT_RX_DONE;
	if (rig_tw_value_decode(c->value, TW_VALUE_LEN, &val) != RIG_OK)
		return CLIENT_RX_BAD;
	c->last = val;
	rig_tw_to_pack_state(&val, c->eng.out);
	return CLIENT_RX_DONE;
}

static const struct client_proto thornwave_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next
};
/* The typed API and the table. 115200: the rig's Bluetooth links run at the UART speed of a
 * BLE bridge; the link model adds the Bluetooth timing. */
CLIENT_DEFINE(thornwave, "thornwave", 115200u, rig_client_engine_step);
