/* Deye Modbus master (deye_modbus_client.h): one FC 0x04 read of the block per cycle, on the
 * transaction engine (client.h), so timeouts and resends follow the same rules as every BMS. */
#include <string.h>

#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/core/scratch.h"

#define DEYE_MB_CLIENT_DEFAULT_ADDR 1u

/* CLIENT_DEFINE sets the assembler up by the prefix's name; a master receives responses. */
static void rig_deye_modbus_rx_init(struct modbus_rx *rx, uint32_t gap_ms)
{
	rig_modbus_rx_init(rx, gap_ms, MODBUS_RESPONSE);
}

static uint8_t address(const struct deye_modbus_client *c)
{
	return c->eng.cfg.address ? c->eng.cfg.address : (uint8_t)DEYE_MB_CLIENT_DEFAULT_ADDR;
}

static enum client_req begin_cycle(void *v)
{
	struct deye_modbus_client *c = v;

	/* No FET command in this protocol: a request to switch is dropped, not kept pending. */
	c->eng.fets.pending = 0;
	rig_deye_mb_request_read(&c->req, address(c), DEYE_MB_BLOCK_START, DEYE_MB_BLOCK_COUNT);
	return CLIENT_REQ_REPLY;
}

static enum client_req next_request(void *v)
{
	(void)v;
	return CLIENT_REQ_NONE;
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	return rig_modbus_frame_encode(&((struct deye_modbus_client *)v)->req, wire, cap, n);
}

static void to_pack_state(const struct rig_inv_battery *r, struct pack_state *s)
{
	memset(s, 0, sizeof *s);
	s->pack_mV = r->pack_mV;
	s->current_mA = r->current_mA;
	s->soc_pct = r->soc_pct;
	s->cell_count = 2;
	s->cell_mV[0] = r->cell_max_mV;
	s->cell_mV[1] = r->cell_min_mV;
	s->temp_count = 2;
	s->temp_dK[0] = r->temp_max_dK;
	s->temp_dK[1] = r->temp_min_dK;
	s->fet_chg = (r->fets & RIG_INV_FET_CHG) ? 1u : 0u;
	s->fet_dsg = (r->fets & RIG_INV_FET_DSG) ? 1u : 0u;
	s->prot = r->prot;
	s->remain_mAh = r->remain_mAh;
	s->full_mAh = r->full_mAh;
	s->cycles = r->cycles;
}

/* Another slave's answer, or one for an earlier request, is not ours: wait on. An exception
 * from our pack fails the cycle; a block that is not 22 registers is as good as no answer. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct deye_modbus_client *c = v;
	struct modbus_frame *f = &rig_client_scratch.deye.frame;
	uint16_t *regs = rig_client_scratch.deye.regs, count;

	if (rig_modbus_rx_next(&c->rx, f) != RIG_OK)
		return CLIENT_RX_NONE;
	if (!waiting || f->addr != c->req.addr || (f->fc & ~MODBUS_FC_EXCEPTION) != c->req.fc)
		return CLIENT_RX_WAIT;
	if (f->fc & MODBUS_FC_EXCEPTION)
		return CLIENT_RX_FAIL;
	if (rig_deye_mb_regs_decode(f, regs, DEYE_MB_BLOCK_COUNT, &count) != RIG_OK || count != DEYE_MB_BLOCK_COUNT)
		return CLIENT_RX_BAD;
	rig_deye_mb_block_decode(regs, &c->inv);
	c->have_inv = 1;
	to_pack_state(&c->inv, c->eng.out);
	return CLIENT_RX_DONE;
}

static const struct client_proto deye_modbus_proto = {
	.line = CLIENT_LINE_FLUSH, .begin_cycle = begin_cycle, .next_request = next_request,
	.encode = encode, .rx_next = rx_next
};
CLIENT_DEFINE(deye_modbus, "deye-modbus", 9600u, rig_client_engine_step, rig_client_ops_next_due_ms);
