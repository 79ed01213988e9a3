/* JBD poller. One cycle: [0xE1 when a FET change is pending] -> 0x03 -> 0x04. Each request is
 * retried on timeout; the first resend goes at once because a sleeping JBD drops the first
 * frame after idle (jbd.md §12.1), later ones back off. */
#include <string.h>

#include "bmsrig/jbd_client.h"

enum phase { PH_IDLE, PH_WAIT, PH_RESEND };
enum { RX_CHUNK = 64 };

void jbd_client_init(struct jbd_client *c, const struct client_cfg *cfg, struct rig_io io,
                     struct pack_state *out)
{
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->io = io;
	c->out = out;
	jbd_rx_init(&c->rx, cfg->gap_ms);
}

void jbd_client_set_fets(struct jbd_client *c, uint8_t chg_on, uint8_t dsg_on)
{
	c->mosfet_mask = (uint8_t)((chg_on ? 0u : JBD_MOSFET_CHG_OFF) | (dsg_on ? 0u : JBD_MOSFET_DSG_OFF));
	c->mosfet_pending = 1;
}

const struct client_stats *jbd_client_stats(const struct jbd_client *c)
{
	return &c->stats;
}

void jbd_to_pack_state(const struct jbd_basic *b, const struct jbd_cells *cells, struct pack_state *s)
{
	unsigned i;

	s->pack_mV = b->pack_mV;
	s->current_mA = b->current_mA;
	s->soc_pct = b->soc_pct;
	s->remain_mAh = b->remain_mAh;
	s->full_mAh = b->full_mAh;
	s->cycles = b->cycles;
	s->fet_chg = (b->fet & JBD_FET_CHG_ON) != 0;
	s->fet_dsg = (b->fet & JBD_FET_DSG_ON) != 0;
	/* JBD bits 0..12 are the normalised set, bit for bit; 13..15 have no neutral meaning. */
	s->prot = b->prot_raw & 0x1FFFu;
	s->bal_mask = (uint32_t)b->bal_high << 16 | b->bal_low;
	s->temp_count = b->ntc_count;
	for (i = 0; i < b->ntc_count && i < PACK_TEMPS_MAX; i++)
		s->temp_dK[i] = b->temp_dK[i];
	s->cell_count = cells->count;
	for (i = 0; i < cells->count && i < PACK_CELLS_MAX; i++)
		s->cell_mV[i] = cells->cell_mV[i];
}

static void send(struct jbd_client *c, uint32_t now_ms)
{
	uint8_t wire[JBD_FRAME_MAX];
	size_t n;
	int32_t got;

	/* Whatever is still in the line belongs to an older request (jbd.md §12.2). */
	while ((got = c->io.read(c->io.ctx, wire, sizeof wire)) > 0)
		;
	jbd_rx_reset(&c->rx);
	if (jbd_frame_encode(&c->req, wire, sizeof wire, &n) == RIG_OK)
		(void)c->io.write(c->io.ctx, wire, (uint16_t)n);
	c->tries++;
	c->stats.requests++;
	c->sent_ms = now_ms;
	c->phase = PH_WAIT;
}

static void start_request(struct jbd_client *c, uint32_t now_ms)
{
	c->tries = 0;
	if (c->mosfet_pending)
		jbd_request_mosfet(&c->req, c->mosfet_mask);
	else
		jbd_request_read(&c->req, JBD_REG_BASIC);
	send(c, now_ms);
}

static enum client_event finish(struct jbd_client *c, int ok)
{
	c->phase = PH_IDLE;
	return client_finish(&c->stats, ok);
}

static void resend(struct jbd_client *c, uint32_t now_ms)
{
	c->stats.resends++;
	send(c, now_ms);
}

static enum client_event on_timeout(struct jbd_client *c, uint32_t now_ms)
{
	uint32_t wait = client_backoff_ms(&c->cfg, c->tries);

	c->stats.timeouts++;
	if (c->tries > c->cfg.retries)
		return finish(c, 0);
	c->resend_at_ms = now_ms + wait;
	c->phase = PH_RESEND;
	if (!wait)
		resend(c, now_ms);
	return CLIENT_BUSY;
}

/* A reply to the request in flight. A corrupt payload counts as a lost reply. */
static enum client_event on_reply(struct jbd_client *c, const struct jbd_frame *f, uint32_t now_ms)
{
	struct jbd_cells cells;

	if (f->status != JBD_STATUS_OK) {
		c->stats.error_replies++;
		if (c->req.reg == JBD_REG_MOSFET) {   /* refused: report it, keep polling */
			c->mosfet_pending = 0;
			jbd_request_read(&c->req, JBD_REG_BASIC);
			c->tries = 0;
			send(c, now_ms);
			return CLIENT_BUSY;
		}
		return finish(c, 0);
	}
	switch (c->req.reg) {
	case JBD_REG_MOSFET:
		c->mosfet_pending = 0;
		jbd_request_read(&c->req, JBD_REG_BASIC);
		break;
	case JBD_REG_BASIC:
		if (jbd_basic_decode(f, &c->basic) != RIG_OK)
			return on_timeout(c, now_ms);
		jbd_request_read(&c->req, JBD_REG_CELLS);
		break;
	default:
		if (jbd_cells_decode(f, &cells) != RIG_OK)
			return on_timeout(c, now_ms);
		jbd_to_pack_state(&c->basic, &cells, c->out);
		c->out->updated_ms = now_ms;
		return finish(c, 1);
	}
	c->tries = 0;
	send(c, now_ms);
	return CLIENT_BUSY;
}

enum client_event jbd_client_step(struct jbd_client *c, uint32_t now_ms)
{
	uint8_t chunk[RX_CHUNK];
	struct jbd_frame f;
	int32_t got;

	while (c->phase == PH_WAIT && (got = c->io.read(c->io.ctx, chunk, sizeof chunk)) > 0) {
		const uint8_t *p = chunk;
		size_t left = (size_t)got;

		while (left) {
			size_t used = jbd_rx_feed(&c->rx, p, left, now_ms);

			p += used;
			left -= used;
			while (jbd_rx_next(&c->rx, &f) == RIG_OK) {
				if (c->phase == PH_WAIT && f.kind == JBD_KIND_RESPONSE && f.reg == c->req.reg) {
					enum client_event ev = on_reply(c, &f, now_ms);

					if (ev != CLIENT_BUSY)
						return ev;
				}
			}
		}
	}
	switch (c->phase) {
	case PH_IDLE:
		if (c->started && !client_due(now_ms, c->next_poll_ms))
			break;
		/* Keep the cadence, but never try to catch up on cycles missed while busy. */
		c->next_poll_ms = c->started && client_due(c->next_poll_ms + c->cfg.poll_ms, now_ms)
		                  ? c->next_poll_ms + c->cfg.poll_ms : now_ms + c->cfg.poll_ms;
		c->started = 1;
		start_request(c, now_ms);
		break;
	case PH_WAIT:
		if (client_due(now_ms, c->sent_ms + c->cfg.timeout_ms))
			return on_timeout(c, now_ms);
		break;
	case PH_RESEND:
		if (client_due(now_ms, c->resend_at_ms))
			resend(c, now_ms);
		break;
	}
	return CLIENT_BUSY;
}

/* The table the core drives every client through. */
CLIENT_OPS_DEFINE(jbd, "jbd", 9600u);
