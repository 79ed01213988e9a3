/* JK-PB RS485 master (jk_pb_client.h): switch writes when asked, then the cell-info trigger;
 * the record is read with the JK BLE codec. */
#include <string.h>

#include "bmsrig/core/jk_pb_client.h"
#include "bmsrig/core/scratch.h"

static uint8_t address(const struct jk_pb_client *c)
{
	uint8_t a = c->eng.cfg.address;

	return a >= JK_PB_ADDR_MIN && a <= JK_PB_ADDR_MAX ? a : (uint8_t)JK_PB_ADDR_MIN;
}

/* The switch write still pending, else the trigger. */
static enum client_req prepare(struct jk_pb_client *c)
{
	const struct client_fets *f = &c->eng.fets;

	c->addr = address(c);
	if (f->pending & (CLIENT_FET_CHG | CLIENT_FET_DSG)) {
		int chg = (f->pending & CLIENT_FET_CHG) != 0;

		c->reg = chg ? JK_PB_REG_CHG_SWITCH : JK_PB_REG_DSG_SWITCH;
		c->value = chg ? f->chg_on : f->dsg_on;
		return CLIENT_REQ_REPLY;
	}
	c->reg = JK_PB_TRIG_CELLS;
	c->value = 0;
	return CLIENT_REQ_REPLY;
}

static enum client_req begin_cycle(void *v)
{
	return prepare(v);
}

static enum client_req next_request(void *v)
{
	struct jk_pb_client *c = v;

	if (c->reg == JK_PB_TRIG_CELLS)
		return CLIENT_REQ_NONE;
	return prepare(c);
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	struct jk_pb_client *c = v;
	struct modbus_frame *f = &rig_client_scratch.jk_pb.frame;
	/* The switch is a u32 in the record, little-endian like every record field. */
	uint8_t bytes[4] = { 0, 0, 0, 0 };
	rig_rc rc;

	bytes[0] = c->value;
	rc = c->reg == JK_PB_TRIG_CELLS ? rig_jk_pb_request_trigger(f, c->addr, JK_BLE_REC_CELLS)
	                                : rig_jk_pb_request_write(f, c->addr, c->reg, bytes, sizeof bytes);
	return rc == RIG_OK ? rig_modbus_frame_encode(f, wire, cap, n) : rc;
}

static size_t rx_feed(void *v, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_jk_pb_rx_feed(&((struct jk_pb_client *)v)->rx, p, n, now_ms);
}

/* Each try waits for a whole answer again; the engine emptied the buffer. */
static void on_send(void *v)
{
	struct jk_pb_client *c = v;

	c->have_record = 0;
	c->rx.out = 0;
}

static enum client_rx on_record(struct jk_pb_client *c, const uint8_t *rec)
{
	/* Only the trigger asks for a record; device or settings records are not this answer. */
	if (c->reg != JK_PB_TRIG_CELLS || rec[4] != JK_BLE_REC_CELLS)
		return CLIENT_RX_WAIT;
	if (rig_jk_ble_cells_decode(rec, JK_BLE_JK02_32S, &c->cells) != RIG_OK || !c->cells.cell_mask)
		return CLIENT_RX_BAD;
	c->have_record = 1;
	return CLIENT_RX_WAIT;           /* the FC 0x10 reply still has to come */
}

static enum client_rx on_frame(struct jk_pb_client *c, const struct modbus_frame *f)
{
	uint16_t reg, count, asked = c->reg;
	struct client_fets *fets = &c->eng.fets;
	uint8_t bit = asked == JK_PB_REG_CHG_SWITCH ? CLIENT_FET_CHG
	            : asked == JK_PB_REG_DSG_SWITCH ? CLIENT_FET_DSG : 0u;

	if (f->addr != c->addr || (f->fc & ~MODBUS_FC_EXCEPTION) != JK_PB_FC_WRITE)
		return CLIENT_RX_WAIT;
	if (f->fc & MODBUS_FC_EXCEPTION) {
		if (!bit)
			return CLIENT_RX_FAIL;
		fets->pending &= (uint8_t)~bit;   /* refused: asking again would be refused again */
		return CLIENT_RX_DONE_ERROR;
	}
	if (rig_jk_pb_echo_decode(f, &reg, &count) != RIG_OK || reg != asked)
		return CLIENT_RX_WAIT;
	if (bit) {
		/* A newer wish that came while this write was in flight still goes out. */
		if (c->value == (bit == CLIENT_FET_CHG ? fets->chg_on : fets->dsg_on))
			fets->pending &= (uint8_t)~bit;
		return CLIENT_RX_DONE;
	}
	if (!c->have_record)
		return CLIENT_RX_LOST;           /* the record was garbled on the way */
	rig_jk_ble_to_pack_state(&c->cells, JK_BLE_JK02_32S, c->eng.out);
	c->records++;
	return CLIENT_RX_DONE;
}

static enum client_rx rx_next(void *v, int waiting)
{
	struct jk_pb_client *c = v;
	struct jk_pb_item *it = &rig_client_scratch.jk_pb;

	if (rig_jk_pb_rx_next(&c->rx, it) != RIG_OK)
		return CLIENT_RX_NONE;
	if (!waiting)
		return CLIENT_RX_WAIT;
	return it->kind == JK_PB_ITEM_RECORD ? on_record(c, it->record) : on_frame(c, &it->frame);
}

/* One request at a time; stale bytes are dropped before each (a Modbus master's discipline). */
static const struct client_proto jk_pb_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next, .rx_feed = rx_feed, .on_send = on_send
};
CLIENT_DEFINE(jk_pb, "jk-pb", JK_PB_BAUD, rig_client_engine_step, rig_client_ops_next_due_ms);
