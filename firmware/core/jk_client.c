/* JK "4E 57" poller (jk_client.h). One cycle: [password, pause, 0xAB, 0xAC when a FET change
 * is pending] -> read-all. */
#include <string.h>

#include "bmsrig/jk_client.h"

enum phase { PH_IDLE, PH_WAIT, PH_RESEND, PH_PAUSE };
enum step { ST_AUTH, ST_CHG, ST_DSG, ST_READ };   /* in the order a cycle runs them */
enum { RX_CHUNK = 64, REQ_MAX = 32 };

void jk_client_init(struct jk_client *c, const struct client_cfg *cfg, struct rig_io io,
                    struct pack_state *out)
{
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->io = io;
	c->out = out;
	jk_rx_init(&c->rx, cfg->gap_ms);
}

void jk_client_set_fets(struct jk_client *c, uint8_t chg_on, uint8_t dsg_on)
{
	c->chg_on = chg_on ? 1u : 0u;
	c->dsg_on = dsg_on ? 1u : 0u;
	c->fets_pending = 1;
}

const struct client_stats *jk_client_stats(const struct jk_client *c)
{
	return &c->stats;
}

rig_rc jk_to_pack_state(const struct jk_data *d, struct pack_state *s)
{
	static const uint8_t required[] = {
		JK_ID_CELLS, JK_ID_PACK_V, JK_ID_CURRENT, JK_ID_SOC, JK_ID_STATUS
	};
	static const uint8_t probes[] = { JK_ID_BOX_TEMP, JK_ID_BAT_TEMP };
	int32_t probe_dK[2];
	uint16_t temp_dK[2];
	unsigned i, n = 0, limit = jk_data_has(d, JK_ID_NTC_COUNT) ? d->ntc_count : 2u;
	uint32_t cap_Ah = 0;

	for (i = 0; i < sizeof required; i++)
		if (!jk_data_has(d, required[i]))
			return RIG_ERR_LENGTH;
	if (d->cell_count == 0 || d->soc_pct > 100u)
		return RIG_ERR_ARG;
	probe_dK[0] = d->box_temp_dK;
	probe_dK[1] = d->bat_temp_dK;
	for (i = 0; i < sizeof probes && n < limit; i++) {
		if (!jk_data_has(d, probes[i]))
			continue;
		/* Codes above 373 mean below 0 K: not a temperature, a broken frame or probe. */
		if (probe_dK[i] < 0 || probe_dK[i] > 0xFFFF)
			return RIG_ERR_ARG;
		temp_dK[n++] = (uint16_t)probe_dK[i];
	}

	s->pack_mV = d->pack_mV;
	s->current_mA = d->current_mA;
	s->soc_pct = d->soc_pct;
	s->cell_count = d->cell_count;
	memcpy(s->cell_mV, d->cell_mV, sizeof s->cell_mV[0] * d->cell_count);
	s->temp_count = (uint8_t)n;
	memcpy(s->temp_dK, temp_dK, sizeof temp_dK[0] * n);
	s->fet_chg = (d->status_raw & JK_STATUS_CHG_ON) != 0;
	s->fet_dsg = (d->status_raw & JK_STATUS_DSG_ON) != 0;
	s->prot = jk_data_has(d, JK_ID_ALARMS) ? jk_alarm_to_prot(d->alarm_raw) : 0u;
	/* The JK form of JBD's software lock: a FET switched off by command (0xAB/0xAC). */
	if ((jk_data_has(d, JK_ID_CHG_SWITCH) && !d->chg_switch) ||
	    (jk_data_has(d, JK_ID_DSG_SWITCH) && !d->dsg_switch))
		s->prot |= PACK_PROT_SW_LOCK;
	s->bal_mask = 0;
	if (jk_data_has(d, JK_ID_ACTUAL_CAPACITY) && d->actual_capacity_Ah)
		cap_Ah = d->actual_capacity_Ah;
	else if (jk_data_has(d, JK_ID_CAPACITY))
		cap_Ah = d->capacity_Ah;
	if (cap_Ah > 0xFFFFFFFFu / 1000u)
		cap_Ah = 0xFFFFFFFFu / 1000u;
	/* Ah x 1000 x SOC / 100 without a division: Ah x 10 x SOC. */
	s->full_mAh = cap_Ah * 1000u;
	s->remain_mAh = cap_Ah * 10u * d->soc_pct;
	s->cycles = jk_data_has(d, JK_ID_CYCLES) ? d->cycles : 0u;
	return RIG_OK;
}

static void build(const struct jk_client *c, struct jk_frame *f)
{
	switch (c->step) {
	case ST_AUTH:
		jk_request_password(f, JK_SRC_PC);
		break;
	case ST_CHG:
		(void)jk_request_switch(f, JK_SRC_PC, JK_ID_CHG_SWITCH, c->chg_on);
		break;
	case ST_DSG:
		(void)jk_request_switch(f, JK_SRC_PC, JK_ID_DSG_SWITCH, c->dsg_on);
		break;
	default:
		jk_request_read_all(f, JK_SRC_PC);
		break;
	}
}

static void send(struct jk_client *c, uint32_t now_ms)
{
	struct jk_frame f;
	uint8_t wire[REQ_MAX];
	size_t n;
	int32_t got;

	/* Whatever is still in the line belongs to an older request. */
	while ((got = c->io.read(c->io.ctx, wire, sizeof wire)) > 0)
		;
	jk_rx_reset(&c->rx);
	build(c, &f);
	if (jk_frame_encode(&f, wire, sizeof wire, &n) == RIG_OK)
		(void)c->io.write(c->io.ctx, wire, (uint16_t)n);
	c->tries++;
	c->stats.requests++;
	c->sent_ms = now_ms;
	if (c->step == ST_AUTH) {
		/* No reply is known for the password frame: give the board time, then write. */
		c->phase = PH_PAUSE;
		c->resend_at_ms = now_ms + JK_AUTH_PAUSE_MS;
	} else {
		c->phase = PH_WAIT;
	}
}

static void start_step(struct jk_client *c, uint8_t step, uint32_t now_ms)
{
	c->step = step;
	c->tries = 0;
	send(c, now_ms);
}

static enum client_event finish(struct jk_client *c, int ok)
{
	c->phase = PH_IDLE;
	return client_finish(&c->stats, ok);
}

static enum client_event on_timeout(struct jk_client *c, uint32_t now_ms)
{
	uint32_t wait = client_backoff_ms(&c->cfg, c->tries);

	c->stats.timeouts++;
	if (c->tries > c->cfg.retries) {
		/* A write without its reply may still have landed: the read-all will tell. */
		if (c->step == ST_CHG || c->step == ST_DSG) {
			start_step(c, (uint8_t)(c->step + 1u), now_ms);
			return CLIENT_BUSY;
		}
		return finish(c, 0);
	}
	c->resend_at_ms = now_ms + wait;
	c->phase = PH_RESEND;
	if (!wait) {
		c->stats.resends++;
		send(c, now_ms);
	}
	return CLIENT_BUSY;
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

static enum client_event on_read_all(struct jk_client *c, const struct jk_frame *f, uint32_t now_ms)
{
	struct jk_data d;
	rig_rc rc = jk_data_decode(f, &d);

	if (rc == RIG_OK)
		rc = jk_to_pack_state(&d, c->out);
	if (rc != RIG_OK) {
		c->stats.rejected++;
		return on_timeout(c, now_ms);
	}
	c->out->updated_ms = now_ms;
	/* Done when the switches read back as asked (or the board does not report them). */
	if (c->fets_pending && jk_data_has(&d, JK_ID_CHG_SWITCH) && jk_data_has(&d, JK_ID_DSG_SWITCH))
		c->fets_pending = d.chg_switch != c->chg_on || d.dsg_switch != c->dsg_on;
	else
		c->fets_pending = 0;
	return finish(c, 1);
}

enum client_event jk_client_step(struct jk_client *c, uint32_t now_ms)
{
	uint8_t chunk[RX_CHUNK];
	struct jk_frame f;
	int32_t got;

	while (c->phase == PH_WAIT && (got = c->io.read(c->io.ctx, chunk, sizeof chunk)) > 0) {
		const uint8_t *p = chunk;
		size_t left = (size_t)got;

		while (left) {
			size_t used = jk_rx_feed(&c->rx, p, left, now_ms);

			p += used;
			left -= used;
			while (jk_rx_next(&c->rx, &f) == RIG_OK) {
				if (f.type == JK_TYPE_REQUEST) {
					c->stats.rejected++;      /* our own request, echoed by a half-duplex adapter */
					continue;
				}
				if (c->phase != PH_WAIT || !answers(c, &f))
					continue;
				if (c->step == ST_READ) {
					enum client_event ev = on_read_all(c, &f, now_ms);

					if (ev != CLIENT_BUSY)
						return ev;
				} else {
					start_step(c, (uint8_t)(c->step + 1u), now_ms);
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
		start_step(c, c->fets_pending ? ST_AUTH : ST_READ, now_ms);
		break;
	case PH_WAIT:
		if (client_due(now_ms, c->sent_ms + c->cfg.timeout_ms))
			return on_timeout(c, now_ms);
		break;
	case PH_RESEND:
		if (client_due(now_ms, c->resend_at_ms)) {
			c->stats.resends++;
			send(c, now_ms);
		}
		break;
	case PH_PAUSE:
		if (client_due(now_ms, c->resend_at_ms))
			start_step(c, ST_CHG, now_ms);
		break;
	}
	return CLIENT_BUSY;
}

/* The table the core drives every client through. */
CLIENT_OPS_DEFINE(jk, "jk", 115200u);
