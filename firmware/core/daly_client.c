/* Daly poller (daly_client.h). One cycle: [0xDA, 0xD9 when a FET change is pending] -> 0x94 ->
 * 0x90 -> 0x93 -> 0x95 -> 0x96 -> 0x97 -> 0x98, one request at a time, each after the line
 * has been quiet for DALY_MIN_GAP_MS, each retried on timeout. */
#include <string.h>

#include "bmsrig/daly_client.h"
#include "intmath.h"

enum phase { PH_IDLE, PH_READY, PH_WAIT };
enum { RX_CHUNK = 64 };

/* What a reply did to the request in flight. */
enum verdict {
	V_MORE,            /* keep waiting: more frames to come, or this one was not for us */
	V_DONE,            /* the request is answered */
	V_BAD              /* implausible: refuse it, treat the reply as lost */
};

void daly_client_init(struct daly_client *c, const struct client_cfg *cfg, struct rig_io io,
                      struct pack_state *out)
{
	uint8_t board = cfg->address >= 1u && cfg->address <= DALY_BOARDS_MAX ? cfg->address : 1u;

	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->io = io;
	c->out = out;
	/* The Bluetooth app's address reaches the lone BMS, which answers as 0x01. */
	if (cfg->flags & DALY_CLIENT_HOST_BLE) {
		c->host = DALY_HOST_BLE;
		c->board = DALY_BMS_ADDR;
	} else {
		c->host = daly_host_for_board(board);
		c->board = board;
	}
	daly_rx_init(&c->rx, cfg->gap_ms);
}

void daly_client_set_fets(struct daly_client *c, uint8_t chg_on, uint8_t dsg_on)
{
	c->fet_chg_on = chg_on ? 1u : 0u;
	c->fet_dsg_on = dsg_on ? 1u : 0u;
	c->fet_pending = 0x03u;
}

const struct client_stats *daly_client_stats(const struct daly_client *c)
{
	return &c->stats;
}

int daly_current_sign_fix(int32_t *current_mA, uint8_t state)
{
	if ((state == DALY_STATE_DISCHARGING && *current_mA > 0) ||
	    (state == DALY_STATE_CHARGING && *current_mA < 0)) {
		*current_mA = -*current_mA;
		return 1;
	}
	return 0;
}

void daly_to_pack_state(const struct daly_poll *p, struct pack_state *s)
{
	unsigned cells = p->status.cell_count < PACK_CELLS_MAX ? p->status.cell_count : PACK_CELLS_MAX;
	unsigned ntc = p->status.ntc_count < PACK_TEMPS_MAX ? p->status.ntc_count : PACK_TEMPS_MAX;
	uint32_t soc = u32_div10_round(p->pack.soc_permille);

	s->pack_mV = p->pack.pack_mV;
	s->current_mA = p->pack.current_mA;
	s->soc_pct = (uint8_t)(soc > 100u ? 100u : soc);
	s->remain_mAh = p->mos.remain_mAh;
	s->full_mAh = 0;                          /* not in the poll set (0x50 is a setting) */
	s->cycles = p->status.cycles;
	s->fet_chg = p->mos.chg_fet != 0;
	s->fet_dsg = p->mos.dsg_fet != 0;
	s->prot = daly_faults_to_pack_prot(&p->faults);
	s->bal_mask = cells < 32u ? p->bal.bal_lo & ((1u << cells) - 1u) : p->bal.bal_lo;
	s->cell_count = (uint8_t)cells;
	memcpy(s->cell_mV, p->cell_mV, cells * sizeof s->cell_mV[0]);
	s->temp_count = (uint8_t)ntc;
	memcpy(s->temp_dK, p->temp_dK, ntc * sizeof s->temp_dK[0]);
}

/* ---- one handler per data id: decode, judge, keep ------------------------------------------ */

static enum verdict on_status(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_status *s = &c->poll.status;

	(void)daly_status_decode(f, s);
	/* A zero count is the all-zero frame; more than 48 cells or 21 sensors no Daly has. */
	if (s->cell_count == 0 || s->cell_count > DALY_CELLS_MAX || s->ntc_count > DALY_TEMPS_MAX)
		return V_BAD;
	return V_DONE;
}

static enum verdict on_pack(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_pack *p = &c->poll.pack;

	(void)daly_pack_decode(f, p);
	if (p->pack_mV == 0 || p->soc_permille > DALY_SOC_PERMILLE_MAX ||
	    p->current_mA > DALY_CURRENT_MA_MAX || p->current_mA < -DALY_CURRENT_MA_MAX)
		return V_BAD;
	return V_DONE;
}

#define PACK_STEP 1u                   /* cycle_steps[PACK_STEP] is 0x90 */

/*
 * 0x93 comes a request after 0x90, so a current that reverses in between looks like a BMS that
 * reports its sign inverted. A state that disagrees with what this BMS has shown so far is
 * therefore read again, 0x90 and 0x93 both, once per cycle: the second pair is what the BMS
 * does (and is kept from then on), and a real reversal reads consistent the second time.
 */
static enum verdict on_mos(struct daly_client *c, const struct daly_frame *f)
{
	int32_t mA = c->poll.pack.current_mA;
	uint8_t inverted;

	(void)daly_mos_decode(f, &c->poll.mos);
	if (c->poll.mos.state > DALY_STATE_DISCHARGING)
		return V_BAD;
	if (c->cfg.flags & DALY_CLIENT_INVERT_CURRENT)
		mA = -mA;
	if (c->poll.mos.state == DALY_STATE_IDLE || mA == 0)
		return V_DONE;
	inverted = (uint8_t)daly_current_sign_fix(&mA, c->poll.mos.state);
	if (inverted == c->sign_inverted)
		return V_DONE;
	if (!c->sign_rechecked) {
		c->sign_rechecked = 1;
		c->sign_rechecks++;
		c->step = PACK_STEP - 1u;      /* on_frame moves on by one: 0x90 again */
		return V_DONE;
	}
	c->sign_inverted = inverted;
	return V_DONE;
}

/* Bookkeeping of a multi-frame answer: frame k (1-based) arrived. */
static enum verdict frame_seen(struct daly_client *c, uint8_t k)
{
	c->frames_seen = (uint16_t)(c->frames_seen | 1u << (k - 1u));
	return (c->frames_seen & ((1u << c->frames_needed) - 1u)) == (1u << c->frames_needed) - 1u
	       ? V_DONE : V_MORE;
}

static enum verdict on_cells(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_cell_frame cf;
	unsigned i, slot;

	(void)daly_cell_frame_decode(f, &cf);
	if (cf.frame_no == 0 || cf.frame_no > DALY_CELL_FRAMES_MAX) {
		c->stats.rejected++;
		return V_MORE;
	}
	/* Frames past the count (all 16 over BLE) carry padding only. */
	if (cf.frame_no > c->frames_needed)
		return V_MORE;
	slot = DALY_CELLS_PER_FRAME * (cf.frame_no - 1u);
	for (i = 0; i < DALY_CELLS_PER_FRAME; i++, slot++) {
		if (slot >= c->poll.status.cell_count)
			break;                        /* padding or leftovers (§2.4) */
		if (cf.cell_mV[i] > DALY_CELL_MV_MAX)
			return V_BAD;
		if (slot < PACK_CELLS_MAX)
			c->poll.cell_mV[slot] = cf.cell_mV[i];
	}
	return frame_seen(c, cf.frame_no);
}

static enum verdict on_temps(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_temp_frame tf;
	unsigned i, slot;

	(void)daly_temp_frame_decode(f, &tf);
	if (tf.frame_no == 0 || tf.frame_no > DALY_TEMP_FRAMES_MAX) {
		c->stats.rejected++;
		return V_MORE;
	}
	/* Real units send one frame more than the sensors need (§3.7): ignore it. */
	if (tf.frame_no > c->frames_needed)
		return V_MORE;
	slot = DALY_TEMPS_PER_FRAME * (tf.frame_no - 1u);
	for (i = 0; i < DALY_TEMPS_PER_FRAME && slot < c->poll.status.ntc_count; i++, slot++)
		if (slot < PACK_TEMPS_MAX)
			c->poll.temp_dK[slot] = tf.temp_dK[i];
	return frame_seen(c, tf.frame_no);
}

static enum verdict on_balance(struct daly_client *c, const struct daly_frame *f)
{
	(void)daly_balance_decode(f, &c->poll.bal);
	return V_DONE;
}

static enum verdict on_faults(struct daly_client *c, const struct daly_frame *f)
{
	(void)daly_faults_decode(f, &c->poll.faults);
	return V_DONE;
}

static enum verdict on_fet(struct daly_client *c, const struct daly_frame *f)
{
	int chg = f->cmd == DALY_CMD_CHG_FET;
	uint8_t asked = c->req.data[0];
	struct daly_flag echo;

	(void)daly_flag_decode(f, &echo);
	/* A latched protection may keep the FET as it is: the BMS says so in d0. */
	if (echo.value != asked)
		c->stats.error_replies++;
	/* A newer wish that arrived while this one was in flight still goes out. */
	if (asked == (chg ? c->fet_chg_on : c->fet_dsg_on))
		c->fet_pending &= (uint8_t)~(chg ? 0x01u : 0x02u);
	return V_DONE;
}

struct read_step {
	uint8_t cmd;
	enum verdict (*on_reply)(struct daly_client *c, const struct daly_frame *f);
};

static const struct read_step cycle_steps[] = {
	{ DALY_CMD_STATUS, on_status }, { DALY_CMD_PACK, on_pack }, { DALY_CMD_MOS, on_mos },
	{ DALY_CMD_CELLS, on_cells }, { DALY_CMD_TEMPS, on_temps },
	{ DALY_CMD_BALANCE, on_balance }, { DALY_CMD_FAULTS, on_faults },
};
#define CYCLE_STEPS (sizeof cycle_steps / sizeof cycle_steps[0])

/* ---- the machine ---------------------------------------------------------------------- */

/* The next request of the cycle into c->req; 0 when the cycle has read everything. */
static int prepare(struct daly_client *c)
{
	uint8_t fill = (c->cfg.flags & DALY_CLIENT_FILL_AA) ? 0xAAu : 0x00u;

	c->tries = 0;
	if (c->step == 0 && (c->fet_pending & 0x01u)) {
		daly_request_fet(&c->req, c->host, DALY_CMD_CHG_FET, c->fet_chg_on);
		return 1;
	}
	if (c->step == 0 && (c->fet_pending & 0x02u)) {
		daly_request_fet(&c->req, c->host, DALY_CMD_DSG_FET, c->fet_dsg_on);
		return 1;
	}
	/* A pack without sensors has nothing to send for 0x96. */
	if (c->step < CYCLE_STEPS && cycle_steps[c->step].cmd == DALY_CMD_TEMPS && c->poll.status.ntc_count == 0)
		c->step++;
	if (c->step >= CYCLE_STEPS)
		return 0;
	daly_request_read(&c->req, c->host, cycle_steps[c->step].cmd, fill);
	c->frames_needed = c->req.cmd == DALY_CMD_CELLS ? daly_cell_frames_for(c->poll.status.cell_count)
	                 : daly_temp_frames_for(c->poll.status.ntc_count);
	return 1;
}

static void send(struct daly_client *c, uint32_t now_ms)
{
	uint8_t wire[DALY_FRAME_LEN];
	size_t n;

	/* A partial frame from before belongs to no reply of this request. */
	daly_rx_reset(&c->rx);
	if (daly_frame_encode(&c->req, wire, sizeof wire, &n) == RIG_OK)
		(void)c->io.write(c->io.ctx, wire, (uint16_t)n);
	if (c->tries)
		c->stats.resends++;
	c->tries++;
	c->stats.requests++;
	c->sent_ms = now_ms;
	c->line_ms = now_ms;
	c->line_used = 1;
	c->frames_seen = 0;
	c->phase = PH_WAIT;
}

/* The line has been quiet long enough, or has been noisy for longer than a reply may take. */
static int may_send(const struct daly_client *c, uint32_t now_ms)
{
	if (!client_due(now_ms, c->send_at_ms))
		return 0;
	return !c->line_used || client_due(now_ms, c->line_ms + DALY_MIN_GAP_MS) ||
	       client_due(now_ms, c->send_at_ms + c->cfg.timeout_ms);
}

static enum client_event finish(struct daly_client *c, int ok)
{
	c->phase = PH_IDLE;
	return client_finish(&c->stats, ok);
}

static enum client_event on_timeout(struct daly_client *c, uint32_t now_ms)
{
	c->stats.timeouts++;
	if (c->tries > c->cfg.retries)
		return finish(c, 0);
	c->send_at_ms = now_ms + client_backoff_ms(&c->cfg, c->tries);
	c->phase = PH_READY;
	return CLIENT_BUSY;
}

static enum client_event cycle_done(struct daly_client *c, uint32_t now_ms)
{
	struct daly_pack *p = &c->poll.pack;

	if (c->cfg.flags & DALY_CLIENT_INVERT_CURRENT)
		p->current_mA = -p->current_mA;
	c->sign_flips += (uint32_t)daly_current_sign_fix(&p->current_mA, c->poll.mos.state);
	daly_to_pack_state(&c->poll, c->out);
	c->out->updated_ms = now_ms;
	return finish(c, 1);
}

static enum client_event on_frame(struct daly_client *c, const struct daly_frame *f, uint32_t now_ms)
{
	enum verdict v;

	/* Our own request (or any host's) coming back: an echo, never an answer (§9.3). */
	if (daly_frame_is_request(f)) {
		c->stats.rejected++;
		return CLIENT_BUSY;
	}
	if (f->addr != c->board || f->cmd != c->req.cmd)
		return CLIENT_BUSY;
	v = daly_cmd_is_fet(f->cmd) ? on_fet(c, f) : cycle_steps[c->step].on_reply(c, f);
	if (v == V_MORE)
		return CLIENT_BUSY;
	if (v == V_BAD) {
		c->stats.rejected++;
		return on_timeout(c, now_ms);
	}
	if (!daly_cmd_is_fet(f->cmd))
		c->step++;
	if (!prepare(c))
		return cycle_done(c, now_ms);
	c->send_at_ms = now_ms;
	c->phase = PH_READY;
	return CLIENT_BUSY;
}

static void start_cycle(struct daly_client *c, uint32_t now_ms)
{
	/* Keep the cadence, but never try to catch up on cycles missed while busy. */
	c->next_poll_ms = c->started && client_due(c->next_poll_ms + c->cfg.poll_ms, now_ms)
	                  ? c->next_poll_ms + c->cfg.poll_ms : now_ms + c->cfg.poll_ms;
	c->started = 1;
	memset(&c->poll, 0, sizeof c->poll);
	c->step = 0;
	c->sign_rechecked = 0;
	(void)prepare(c);
	c->send_at_ms = now_ms;
	c->phase = PH_READY;
}

enum client_event daly_client_step(struct daly_client *c, uint32_t now_ms)
{
	uint8_t chunk[RX_CHUNK];
	enum client_event ev = CLIENT_BUSY;
	struct daly_frame f;
	int32_t got;

	/* Read in every phase: late frames must still count as line activity. */
	while ((got = c->io.read(c->io.ctx, chunk, sizeof chunk)) > 0) {
		const uint8_t *p = chunk;
		size_t left = (size_t)got;

		c->line_used = 1;
		c->line_ms = now_ms;
		while (left) {
			size_t used = daly_rx_feed(&c->rx, p, left, now_ms);

			p += used;
			left -= used;
			while (daly_rx_next(&c->rx, &f) == RIG_OK) {
				if (c->phase == PH_WAIT) {
					enum client_event e = on_frame(c, &f, now_ms);

					if (e != CLIENT_BUSY)
						ev = e;
				}
			}
		}
	}
	if (ev != CLIENT_BUSY)
		return ev;
	switch (c->phase) {
	case PH_IDLE:
		if (c->started && !client_due(now_ms, c->next_poll_ms))
			break;
		start_cycle(c, now_ms);
		/* fall through */
	case PH_READY:
		if (may_send(c, now_ms))
			send(c, now_ms);
		break;
	case PH_WAIT:
		if (!client_due(now_ms, c->sent_ms + c->cfg.timeout_ms))
			break;
		ev = on_timeout(c, now_ms);
		if (ev != CLIENT_BUSY)
			return ev;
		/* The first resend goes at once when the line allows (client.h). */
		if (may_send(c, now_ms))
			send(c, now_ms);
		break;
	}
	return CLIENT_BUSY;
}

/* The table the core drives every client through. */
CLIENT_OPS_DEFINE(daly, "daly", 9600u);
