/* The transaction engine every protocol client runs on (include/bmsrig/core/client.h). */
#include <string.h>

#include "bmsrig/core/client.h"

/* Longest request any protocol sends (JK "4E 57" writes are the longest, under 32 bytes). */
enum { REQ_MAX = 32, RX_CHUNK = 64 };

uint32_t rig_client_backoff_ms(const struct client_cfg *cfg, uint8_t tries)
{
	unsigned shift;

	if (tries < 2)
		return 0;
	shift = tries - 2u < 16u ? tries - 2u : 16u;
	return cfg->backoff_ms << shift;
}

void rig_client_engine_init(struct client_engine *e, const struct client_proto *proto, void *owner,
                            const struct client_cfg *cfg, struct rig_io io, struct pack_state *out,
                            struct rxbuf *rxb, uint8_t *rx_buf, uint16_t rx_cap)
{
	memset(e, 0, sizeof *e);
	e->proto = proto;
	e->owner = owner;
	e->cfg = *cfg;
	e->io = io;
	e->out = out;
	e->rxb = rxb;
	e->rx_buf = rx_buf;
	e->rx_cap = rx_cap;
	if (proto->init)
		proto->init(owner);
}

void rig_client_set_fets(struct client_engine *e, uint8_t chg_on, uint8_t dsg_on)
{
	e->fets.chg_on = chg_on ? 1u : 0u;
	e->fets.dsg_on = dsg_on ? 1u : 0u;
	e->fets.pending = CLIENT_FET_CHG | CLIENT_FET_DSG;
}

void rig_client_ops_set_fets(void *client, uint8_t chg_on, uint8_t dsg_on)
{
	rig_client_set_fets(client, chg_on, dsg_on);
}

const struct client_stats *rig_client_ops_stats(const void *client)
{
	return &((const struct client_engine *)client)->stats;
}

enum client_event rig_client_finish(struct client_stats *st, int ok)
{
	st->ok = (uint8_t)ok;
	if (ok) {
		st->cycles_ok++;
		st->comm_fail = 0;
		return CLIENT_CYCLE_OK;
	}
	st->cycles_failed++;
	if (st->comm_fail < 0xFFFFu)
		st->comm_fail++;
	return CLIENT_CYCLE_FAIL;
}

enum client_event rig_client_engine_finish(struct client_engine *e, int ok)
{
	e->phase = CLIENT_PH_IDLE;
	return rig_client_finish(&e->stats, ok);
}

int rig_client_cycle_due(struct client_engine *e, uint32_t now_ms)
{
	if (e->started && !client_due(now_ms, e->next_poll_ms))
		return 0;
	/* Keep the cadence, but never try to catch up on cycles missed while busy. */
	e->next_poll_ms = e->started && client_due(e->next_poll_ms + e->cfg.poll_ms, now_ms)
	                  ? e->next_poll_ms + e->cfg.poll_ms : now_ms + e->cfg.poll_ms;
	e->started = 1;
	return 1;
}

void rig_client_engine_send(struct client_engine *e, uint32_t now_ms)
{
	const struct client_proto *p = e->proto;
	uint8_t wire[REQ_MAX];
	size_t n;

	/* Whatever is still in the line belongs to an older request. */
	if (p->line == CLIENT_LINE_FLUSH)
		while (e->io.read(e->io.ctx, wire, sizeof wire) > 0)
			;
	/* A partial frame from before belongs to no reply of this request; a stream's does. */
	if (p->line != CLIENT_LINE_STREAM && e->rxb)
		rig_rxbuf_clear(e->rxb);
	if (p->on_send)
		p->on_send(e->owner);
	if (p->encode(e->owner, wire, sizeof wire, &n) == RIG_OK)
		(void)e->io.write(e->io.ctx, wire, (uint16_t)n);
	if (e->tries)
		e->stats.resends++;
	e->tries++;
	e->stats.requests++;
	e->sent_ms = now_ms;
	e->line_ms = now_ms;
	e->line_used = 1;
	if (e->req == CLIENT_REQ_PAUSE) {
		e->send_at_ms = now_ms + p->pause_ms;
		e->phase = CLIENT_PH_PAUSE;
	} else {
		e->phase = CLIENT_PH_WAIT;
	}
}

/* The line has been quiet long enough, or has been noisy for longer than a reply may take. */
static int may_send(const struct client_engine *e, uint32_t now_ms)
{
	if (!client_due(now_ms, e->send_at_ms))
		return 0;
	return e->proto->line != CLIENT_LINE_QUIET || !e->line_used ||
	       client_due(now_ms, e->line_ms + e->proto->quiet_ms) ||
	       client_due(now_ms, e->send_at_ms + e->cfg.timeout_ms);
}

void rig_client_engine_send_due(struct client_engine *e, uint32_t now_ms)
{
	if (e->phase == CLIENT_PH_READY && may_send(e, now_ms))
		rig_client_engine_send(e, now_ms);
}

int rig_client_engine_expire(struct client_engine *e, uint32_t now_ms)
{
	e->stats.timeouts++;
	if (e->tries > e->cfg.retries)
		return 1;
	e->send_at_ms = now_ms + rig_client_backoff_ms(&e->cfg, e->tries);
	e->phase = CLIENT_PH_READY;
	return 0;
}

/* Prepared request `req` goes out as soon as the line allows; none left: the cycle is done. */
static enum client_event queue(struct client_engine *e, enum client_req req, uint32_t now_ms)
{
	if (req == CLIENT_REQ_NONE) {
		if (e->proto->cycle_complete)
			e->proto->cycle_complete(e->owner);
		e->out->updated_ms = now_ms;
		return rig_client_engine_finish(e, 1);
	}
	e->req = (uint8_t)req;
	e->tries = 0;
	e->send_at_ms = now_ms;
	e->phase = CLIENT_PH_READY;
	rig_client_engine_send_due(e, now_ms);
	return CLIENT_BUSY;
}

/* No usable reply came: resend (the first at once), skip the request, or fail the cycle. */
static enum client_event on_timeout(struct client_engine *e, uint32_t now_ms)
{
	if (!rig_client_engine_expire(e, now_ms)) {
		rig_client_engine_send_due(e, now_ms);
		return CLIENT_BUSY;
	}
	/* A request the cycle can do without (a write whose effect the next read shows). */
	if (e->proto->skippable && e->proto->skippable(e->owner))
		return queue(e, e->proto->next_request(e->owner), now_ms);
	return rig_client_engine_finish(e, 0);
}

static enum client_event on_verdict(struct client_engine *e, enum client_rx v, uint32_t now_ms)
{
	switch (v) {
	case CLIENT_RX_SPURIOUS:
		e->stats.rejected++;
		return CLIENT_BUSY;
	case CLIENT_RX_DONE_ERROR:
		e->stats.error_replies++;
		/* fall through */
	case CLIENT_RX_DONE:
		return queue(e, e->proto->next_request(e->owner), now_ms);
	case CLIENT_RX_FAIL:
		e->stats.error_replies++;
		return rig_client_engine_finish(e, 0);
	case CLIENT_RX_BAD:
		e->stats.rejected++;
		/* fall through */
	case CLIENT_RX_LOST:
		return on_timeout(e, now_ms);
	default:
		return CLIENT_BUSY;
	}
}

enum client_event rig_client_engine_receive(struct client_engine *e, uint32_t now_ms)
{
	const struct client_proto *p = e->proto;
	int flush = p->line == CLIENT_LINE_FLUSH;
	enum client_event ev = CLIENT_BUSY;
	uint8_t chunk[RX_CHUNK];
	int32_t got;

	e->now_ms = now_ms;
	/* A flushing protocol leaves input alone until a reply is due (the send drops it); the
	 * others read always, so that late frames still count as line activity. */
	while ((!flush || e->phase == CLIENT_PH_WAIT) &&
	       (got = e->io.read(e->io.ctx, chunk, sizeof chunk)) > 0) {
		const uint8_t *q = chunk;
		size_t left = (size_t)got;
		e->line_used = 1;
		e->line_ms = now_ms;
		while (left) {
			size_t used = p->rx_feed ? p->rx_feed(e->owner, q, left, now_ms)
			              : rig_rxbuf_take(e->rxb, e->rx_buf, e->rx_cap, q, left, now_ms);
			enum client_rx v;

			q += used;
			left -= used;
			while ((v = p->rx_next(e->owner, e->phase == CLIENT_PH_WAIT)) != CLIENT_RX_NONE) {
				enum client_event got_ev = on_verdict(e, v, now_ms);

				if (got_ev == CLIENT_BUSY)
					continue;
				/* The cycle ended: the rest is for the next cycle's send to drop. */
				if (flush)
					return got_ev;
				ev = got_ev;
			}
		}
	}
	return ev;
}

enum client_event rig_client_engine_step(struct client_engine *e, uint32_t now_ms)
{
	enum client_event ev = rig_client_engine_receive(e, now_ms);

	if (ev != CLIENT_BUSY)
		return ev;
	switch (e->phase) {
	case CLIENT_PH_IDLE:
		if (!rig_client_cycle_due(e, now_ms))
			break;
		return queue(e, e->proto->begin_cycle(e->owner), now_ms);
	case CLIENT_PH_READY:
		rig_client_engine_send_due(e, now_ms);
		break;
	case CLIENT_PH_WAIT:
		if (client_due(now_ms, e->sent_ms + e->cfg.timeout_ms))
			return on_timeout(e, now_ms);
		break;
	case CLIENT_PH_PAUSE:
		if (client_due(now_ms, e->send_at_ms))
			return queue(e, e->proto->next_request(e->owner), now_ms);
		break;
	default:
		break;
	}
	return CLIENT_BUSY;
}

#ifndef RIG_FIRMWARE   /* see rig_client_ops_next_due_ms in client.h */
/* The earliest of a and b, on the wrapping millisecond clock. */
static uint32_t earlier(uint32_t a_ms, uint32_t b_ms)
{
	return client_due(a_ms, b_ms) ? b_ms : a_ms;
}

/* Mirrors rig_client_engine_step's tests: each phase's first moment one of them can pass. */
uint32_t rig_client_engine_next_due_ms(const struct client_engine *e, uint32_t now_ms)
{
	uint32_t at_ms;

	switch (e->phase) {
	case CLIENT_PH_IDLE:
		at_ms = e->started ? e->next_poll_ms : now_ms;
		break;
	case CLIENT_PH_READY:
		at_ms = e->send_at_ms;
		/* may_send: a quiet line also wants its silence, or the reply's time to have gone. */
		if (client_due(now_ms, at_ms) && e->proto->line == CLIENT_LINE_QUIET && e->line_used)
			at_ms = earlier(e->line_ms + e->proto->quiet_ms, e->send_at_ms + e->cfg.timeout_ms);
		break;
	case CLIENT_PH_WAIT:
		at_ms = e->sent_ms + e->cfg.timeout_ms;
		break;
	case CLIENT_PH_PAUSE:
		at_ms = e->send_at_ms;
		break;
	default:
		at_ms = now_ms;
		break;
	}
	return client_due(now_ms, at_ms) ? now_ms : at_ms;
}

uint32_t rig_client_ops_next_due_ms(const void *client, uint32_t now_ms)
{
	return rig_client_engine_next_due_ms(client, now_ms);
}
#endif /* RIG_FIRMWARE */
