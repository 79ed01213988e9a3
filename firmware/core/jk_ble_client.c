/* JK BLE client (jk_ble_client.h): the 0x97/0x96 session, then cycles over the pushed stream. */
#include <string.h>

#include "bmsrig/jk_ble_client.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

enum session {
	S_NONE,          /* nothing asked yet, or the last session gave up: next cycle sends 0x97 */
	S_DEVICE,        /* 0x97 sent, waiting for device info */
	S_START,         /* 0x96 sent, waiting for the settings or a cell-info record */
	S_STREAM,        /* records arrive by themselves */
	S_WRITE          /* streaming, and a switch write waits for its ack */
};
enum { RX_CHUNK = 64, FET_CHG = 1, FET_DSG = 2 };

/* ---- the error mask (jk.md §3.7, field-notes §2.3) ------------------------------------- */

struct error_bit {
	uint8_t bit;
	uint16_t to_24s, to_32s;   /* what a client reads into the bit */
	uint16_t from;             /* the protection an emulated BMS reports with it (0: none) */
};
static const struct error_bit error_map[] = {
	{ 4,  PACK_PROT_CELL_OV, 0,                 PACK_PROT_CELL_OV },  /* 32S: "battery full" */
	{ 5,  PACK_PROT_PACK_OV, PACK_PROT_PACK_OV, PACK_PROT_PACK_OV },
	{ 6,  PACK_PROT_CHG_OC,  PACK_PROT_CHG_OC,  PACK_PROT_CHG_OC },
	{ 7,  PACK_PROT_SHORT,   PACK_PROT_SHORT,   0 },                  /* charge short circuit */
	{ 8,  PACK_PROT_CHG_OT,  PACK_PROT_CHG_OT,  PACK_PROT_CHG_OT },
	{ 9,  PACK_PROT_CHG_UT,  PACK_PROT_CHG_UT,  PACK_PROT_CHG_UT },
	{ 10, PACK_PROT_AFE,     PACK_PROT_AFE,     PACK_PROT_AFE },      /* co-processor link */
	{ 11, PACK_PROT_CELL_UV, PACK_PROT_CELL_UV, PACK_PROT_CELL_UV },
	{ 12, PACK_PROT_PACK_UV, PACK_PROT_PACK_UV, PACK_PROT_PACK_UV },
	{ 13, PACK_PROT_DSG_OC,  PACK_PROT_DSG_OC,  PACK_PROT_DSG_OC },
	{ 14, PACK_PROT_SHORT,   PACK_PROT_SHORT,   PACK_PROT_SHORT },    /* discharge short */
	{ 15, PACK_PROT_DSG_OT,  PACK_PROT_DSG_OT,  PACK_PROT_DSG_OT },
	{ 21, 0, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT, 0 },                /* battery over-temp */
	{ 25, 0, PACK_PROT_DSG_OC,  0 },                                  /* discharge OCP II */
	{ 26, 0, PACK_PROT_DSG_OC,  0 },                                  /* discharge OCP III */
	{ 27, 0, PACK_PROT_DSG_UT,  PACK_PROT_DSG_UT },
	{ 28, 0, PACK_PROT_SW_LOCK, PACK_PROT_SW_LOCK },                  /* GPS remote lock */
};

uint32_t jk_ble_errors_to_prot(uint32_t errors, enum jk_ble_layout layout)
{
	uint32_t prot = 0;
	unsigned i;

	if (layout == JK_BLE_JK04)
		return 0;
	for (i = 0; i < N_OF(error_map); i++)
		if (errors >> error_map[i].bit & 1u)
			prot |= layout == JK_BLE_JK02_32S ? error_map[i].to_32s : error_map[i].to_24s;
	return prot;
}

uint32_t jk_ble_errors_from_prot(uint32_t prot, enum jk_ble_layout layout)
{
	uint32_t errors = 0, done = 0;
	unsigned i, width = layout == JK_BLE_JK02_32S ? 32u : 16u;

	if (layout == JK_BLE_JK04)
		return 0;
	for (i = 0; i < N_OF(error_map); i++) {
		uint32_t p = prot & error_map[i].from & ~done;

		if (p && error_map[i].bit < width) {
			errors |= (uint32_t)1u << error_map[i].bit;
			done |= p;
		}
	}
	return errors;
}

/* ---- the neutral view ---------------------------------------------------------------------- */

static int temp_present(const struct jk_ble_cells *c, enum jk_ble_layout layout, unsigned k)
{
	if (c->temp_dK[k] == JK_BLE_TEMP_ABSENT_DK)
		return 0;
	if (layout != JK_BLE_JK02_32S)
		return k < 2u;
	if (!c->temp_present)
		return k < 2u;
	return c->temp_present >> (k + 1u) & 1u;
}

void jk_ble_to_pack_state(const struct jk_ble_cells *c, enum jk_ble_layout layout, struct pack_state *s)
{
	unsigned i, n = 0, hi = 0, lo = 0, slots = jk_ble_slots(layout);

	s->cell_count = 0;
	for (i = 0; i < slots && n < PACK_CELLS_MAX; i++) {
		if (!(c->cell_mask >> i & 1u))
			continue;
		if (!n || c->cell_mV[i] > c->cell_mV[hi])
			hi = i;
		if (!n || c->cell_mV[i] < c->cell_mV[lo])
			lo = i;
		s->cell_mV[n++] = c->cell_mV[i];
	}
	s->cell_count = (uint8_t)n;
	s->pack_mV = c->pack_mV;
	s->current_mA = c->current_mA;
	s->soc_pct = c->soc_pct;
	s->remain_mAh = c->remain_mAh;
	s->full_mAh = c->full_mAh;
	s->cycles = (uint16_t)(c->cycles > 0xFFFFu ? 0xFFFFu : c->cycles);
	s->fet_chg = c->fet_chg != 0;
	s->fet_dsg = c->fet_dsg != 0;
	s->prot = jk_ble_errors_to_prot(c->errors, layout);
	s->bal_mask = c->balance_action && n ? (uint32_t)1u << hi | (uint32_t)1u << lo : 0u;
	s->temp_count = 0;
	if (layout == JK_BLE_JK04)
		return;
	for (i = 0; i < JK_BLE_TEMPS_MAX && s->temp_count < PACK_TEMPS_MAX; i++)
		if (temp_present(c, layout, i))
			s->temp_dK[s->temp_count++] = (uint16_t)(c->temp_dK[i] < 0 ? 0 : c->temp_dK[i]);
}

/* ---- requests ---------------------------------------------------------------------------- */

void jk_ble_client_init(struct jk_ble_client *c, const struct client_cfg *cfg, struct rig_io io,
                        struct pack_state *out)
{
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->io = io;
	c->out = out;
	c->layout = JK_BLE_JK02_24S;
	jk_ble_rx_init(&c->rx, cfg->gap_ms);
}

void jk_ble_client_set_fets(struct jk_ble_client *c, uint8_t chg_on, uint8_t dsg_on)
{
	c->chg_on = chg_on != 0;
	c->dsg_on = dsg_on != 0;
	c->fets_pending = FET_CHG | FET_DSG;
}

const struct client_stats *jk_ble_client_stats(const struct jk_ble_client *c)
{
	return &c->stats;
}

/* Unlike a polled protocol, nothing in the line is stale: records keep coming, so the input
 * is never flushed before a command. */
static void transmit(struct jk_ble_client *c, uint32_t now_ms)
{
	uint8_t wire[JK_BLE_CMD_LEN];
	struct jk_ble_cmd cmd;

	if (c->session == S_WRITE)
		(void)jk_ble_cmd_write(&cmd, c->writing, 4,
		                       c->writing == JK_BLE_REG_CHG_SWITCH ? c->chg_on : c->dsg_on);
	else
		jk_ble_cmd_read(&cmd, c->session == S_DEVICE ? JK_BLE_REG_DEVICE_INFO : JK_BLE_REG_CELL_INFO);
	jk_ble_cmd_encode(&cmd, wire);
	(void)c->io.write(c->io.ctx, wire, JK_BLE_CMD_LEN);
	c->tries++;
	c->stats.requests++;
	c->sent_ms = now_ms;
	c->resend_due = 0;
}

static void request(struct jk_ble_client *c, enum session s, uint32_t now_ms)
{
	c->session = (uint8_t)s;
	c->tries = 0;
	transmit(c, now_ms);
}

static enum client_event finish(struct jk_ble_client *c, int ok)
{
	if (!c->cycle_open)
		return CLIENT_BUSY;
	c->cycle_open = 0;
	c->fresh = 0;
	return client_finish(&c->stats, ok);
}

/* The next switch write, or back to listening. */
static void next_write(struct jk_ble_client *c, uint32_t now_ms)
{
	if (c->layout == JK_BLE_JK04)
		c->fets_pending = 0;          /* JK04 has no charge/discharge switch registers */
	if (!c->fets_pending) {
		c->session = S_STREAM;
		return;
	}
	c->writing = (c->fets_pending & FET_CHG) ? JK_BLE_REG_CHG_SWITCH : JK_BLE_REG_DSG_SWITCH;
	request(c, S_WRITE, now_ms);
}

static enum client_event on_timeout(struct jk_ble_client *c, uint32_t now_ms)
{
	uint32_t wait = client_backoff_ms(&c->cfg, c->tries);

	c->stats.timeouts++;
	if (c->tries <= c->cfg.retries) {
		c->stats.resends++;
		c->resend_at_ms = now_ms + wait;
		c->resend_due = 1;
		if (!wait)
			transmit(c, now_ms);
		return CLIENT_BUSY;
	}
	if (c->session == S_WRITE) {      /* the stream goes on; the switch is tried next cycle */
		c->session = S_STREAM;
		return CLIENT_BUSY;
	}
	c->session = S_NONE;
	return finish(c, 0);
}

/* ---- what arrives ----------------------------------------------------------------------------- */

static void on_record(struct jk_ble_client *c, const uint8_t *rec, uint32_t now_ms)
{
	enum jk_ble_layout layout = jk_ble_layout_detect(rec);
	struct jk_ble_cells cells;

	switch (rec[4]) {
	case JK_BLE_REC_DEVICE:
		if (c->session == S_DEVICE)
			request(c, S_START, now_ms);
		return;
	case JK_BLE_REC_SETTINGS:
		if (c->session == S_START)
			c->session = S_STREAM;
		return;
	case JK_BLE_REC_CELLS:
		if (jk_ble_cells_decode(rec, layout, &cells) != RIG_OK)
			break;
		c->layout = (uint8_t)layout;
		jk_ble_to_pack_state(&cells, layout, c->out);
		c->fresh = 1;
		c->records++;
		/* A stream that runs already (a restarted client) needs no new session. */
		if (c->session != S_WRITE)
			c->session = S_STREAM;
		return;
	default:
		break;                    /* logbook or unknown types: not ours to read */
	}
	c->stats.rejected++;
}

static void on_command(struct jk_ble_client *c, const uint8_t *wire, uint32_t now_ms)
{
	struct jk_ble_cmd cmd;

	if (jk_ble_cmd_parse(wire, JK_BLE_CMD_LEN, &cmd) != RIG_OK || !jk_ble_cmd_is_ack(&cmd)) {
		c->stats.rejected++;      /* our own command echoed by a half-duplex bridge */
		return;
	}
	/* Acks carry no register; only a write waits for one, and writes go one at a time. */
	if (c->session != S_WRITE)
		return;
	c->fets_pending &= (uint8_t)~(c->writing == JK_BLE_REG_CHG_SWITCH ? FET_CHG : FET_DSG);
	next_write(c, now_ms);
}

static void receive(struct jk_ble_client *c, uint32_t now_ms)
{
	uint8_t chunk[RX_CHUNK];
	int32_t got;

	while ((got = c->io.read(c->io.ctx, chunk, sizeof chunk)) > 0) {
		const uint8_t *p = chunk;
		size_t left = (size_t)got;

		while (left) {
			const uint8_t *w;
			size_t used = jk_ble_rx_feed(&c->rx, p, left, now_ms), n;

			p += used;
			left -= used;
			while (jk_ble_rx_next(&c->rx, &w, &n) == RIG_OK) {
				if (n == JK_BLE_RECORD_LEN)
					on_record(c, w, now_ms);
				else
					on_command(c, w, now_ms);
			}
		}
	}
}

enum client_event jk_ble_client_step(struct jk_ble_client *c, uint32_t now_ms)
{
	int streaming;

	receive(c, now_ms);
	if (!c->cycle_open && (!c->started || client_due(now_ms, c->next_poll_ms))) {
		/* Keep the cadence, but never try to catch up on cycles missed while busy. */
		c->next_poll_ms = c->started && client_due(c->next_poll_ms + c->cfg.poll_ms, now_ms)
		                  ? c->next_poll_ms + c->cfg.poll_ms : now_ms + c->cfg.poll_ms;
		c->started = 1;
		c->cycle_open = 1;
		c->cycle_ms = now_ms;
		if (c->session == S_NONE)
			request(c, S_DEVICE, now_ms);
		else if (c->session == S_STREAM)
			next_write(c, now_ms);
	}
	if (c->cycle_open && c->fresh) {
		c->out->updated_ms = now_ms;
		return finish(c, 1);
	}
	streaming = c->session == S_STREAM || c->session == S_WRITE;
	/* A record is due within one push period of the cycle's start, plus timeout_ms to cross the
	 * link; after that the stream stalled: ask for it again (a write in flight goes with it). */
	if (c->cycle_open && streaming &&
	    client_due(now_ms, c->cycle_ms + JK_BLE_PUSH_MS + c->cfg.timeout_ms)) {
		c->stats.timeouts++;
		request(c, S_START, now_ms);
		return finish(c, 0);
	}
	if (c->session != S_NONE && c->session != S_STREAM) {
		if (c->resend_due && client_due(now_ms, c->resend_at_ms))
			transmit(c, now_ms);
		else if (!c->resend_due && client_due(now_ms, c->sent_ms + c->cfg.timeout_ms))
			return on_timeout(c, now_ms);
	}
	return CLIENT_BUSY;
}

/* ---- the table the core drives every client through ----------------------------------------- */

/* 115200: what the BMS's UART runs at behind its BLE module (jk.md §1). */
CLIENT_OPS_DEFINE(jk_ble, "jk-ble", 115200u);
