/* Daly poller (daly_client.h). One cycle: [0xDA, 0xD9 when a FET change is pending] -> 0x94 ->
 * 0x90 -> 0x93 -> 0x95 -> 0x96 -> 0x97 -> 0x98, one request at a time, each after the line
 * has been quiet for DALY_MIN_GAP_MS, each retried on timeout. */
#include <string.h>

#include "bmsrig/core/daly_client.h"

/* The addresses, from the engine's cfg (init hook). */
static void init(void *v)
{
	struct daly_client *c = v;
	const struct client_cfg *cfg = &c->eng.cfg;
	uint8_t board = cfg->address >= 1u && cfg->address <= DALY_BOARDS_MAX ? cfg->address : 1u;

	/* The Bluetooth app's address reaches the lone BMS, which answers as 0x01. */
	if (cfg->flags & DALY_CLIENT_HOST_BLE) {
		c->host = DALY_HOST_BLE;
		c->board = DALY_BMS_ADDR;
	} else {
		c->host = rig_daly_host_for_board(board);
		c->board = board;
	}
}

/* ---- one handler per data id: decode, judge, keep ------------------------------------------ */

static enum client_rx on_status(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_status *s = &c->poll.status;

	(void)rig_daly_status_decode(f, s);
	/* A zero count is the all-zero frame; more than 48 cells or 21 sensors no Daly has. */
	if (s->cell_count == 0 || s->cell_count > DALY_CELLS_MAX || s->ntc_count > DALY_TEMPS_MAX)
		return CLIENT_RX_BAD;
	return CLIENT_RX_DONE;
}

static enum client_rx on_pack(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_pack *p = &c->poll.pack;

	(void)rig_daly_pack_decode(f, p);
	if (p->pack_mV == 0 || p->soc_permille > DALY_SOC_PERMILLE_MAX ||
	    p->current_mA > DALY_CURRENT_MA_MAX || p->current_mA < -DALY_CURRENT_MA_MAX)
		return CLIENT_RX_BAD;
	return CLIENT_RX_DONE;
}

#define PACK_STEP 1u                   /* cycle_steps[PACK_STEP] is 0x90 */

/*
 * 0x93 comes a request after 0x90, so a current that reverses in between looks like a BMS that
 * reports its sign inverted. A state that disagrees with what this BMS has shown so far is
 * therefore read again, 0x90 and 0x93 both, once per cycle: the second pair is what the BMS
 * does (and is kept from then on), and a real reversal reads consistent the second time.
 */
static enum client_rx on_mos(struct daly_client *c, const struct daly_frame *f)
{
	int32_t mA = c->poll.pack.current_mA;
	uint8_t inverted;

	(void)rig_daly_mos_decode(f, &c->poll.mos);
	if (c->poll.mos.state > DALY_STATE_DISCHARGING)
		return CLIENT_RX_BAD;
	if (c->eng.cfg.flags & DALY_CLIENT_INVERT_CURRENT)
		mA = -mA;
	if (c->poll.mos.state == DALY_STATE_IDLE || mA == 0)
		return CLIENT_RX_DONE;
	inverted = (uint8_t)rig_daly_current_sign_fix(&mA, c->poll.mos.state);
	if (inverted == c->sign_inverted)
		return CLIENT_RX_DONE;
	if (!c->sign_rechecked) {
		c->sign_rechecked = 1;
		c->sign_rechecks++;
		c->step = PACK_STEP - 1u;      /* next_request moves on by one: 0x90 again */
		return CLIENT_RX_DONE;
	}
	c->sign_inverted = inverted;
	return CLIENT_RX_DONE;
}

/* Bookkeeping of a multi-frame answer: frame k (1-based) arrived. */
static enum client_rx frame_seen(struct daly_client *c, uint8_t k)
{
	c->frames_seen = (uint16_t)(c->frames_seen | 1u << (k - 1u));
	return (c->frames_seen & ((1u << c->frames_needed) - 1u)) == (1u << c->frames_needed) - 1u
	       ? CLIENT_RX_DONE : CLIENT_RX_WAIT;
}

static enum client_rx on_cells(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_cell_frame cf;
	unsigned i, slot;

	/* The dispatch already matched the command; a refusal is checked all the same, since the
	 * frame number below is read only from a decoded frame. */
	if (rig_daly_cell_frame_decode(f, &cf) != RIG_OK || cf.frame_no == 0 ||
	    cf.frame_no > DALY_CELL_FRAMES_MAX) {
		return CLIENT_RX_SPURIOUS;
	}
	/* Frames past the count (all 16 over BLE) carry padding only. */
	if (cf.frame_no > c->frames_needed)
		return CLIENT_RX_WAIT;
	slot = DALY_CELLS_PER_FRAME * (cf.frame_no - 1u);
	for (i = 0; i < DALY_CELLS_PER_FRAME; i++, slot++) {
		if (slot >= c->poll.status.cell_count)
			break;                        /* padding or leftovers (§2.4) */
		if (cf.cell_mV[i] > DALY_CELL_MV_MAX)
			return CLIENT_RX_BAD;
		if (slot < PACK_CELLS_MAX)
			c->poll.cell_mV[slot] = cf.cell_mV[i];
	}
	return frame_seen(c, cf.frame_no);
}

static enum client_rx on_temps(struct daly_client *c, const struct daly_frame *f)
{
	struct daly_temp_frame tf;
	unsigned i, slot;

	if (rig_daly_temp_frame_decode(f, &tf) != RIG_OK || tf.frame_no == 0 ||
	    tf.frame_no > DALY_TEMP_FRAMES_MAX) {
		return CLIENT_RX_SPURIOUS;
	}
	/* Real units send one frame more than the sensors need (§3.7): ignore it. */
	if (tf.frame_no > c->frames_needed)
		return CLIENT_RX_WAIT;
	slot = DALY_TEMPS_PER_FRAME * (tf.frame_no - 1u);
	for (i = 0; i < DALY_TEMPS_PER_FRAME && slot < c->poll.status.ntc_count; i++, slot++)
		if (slot < PACK_TEMPS_MAX)
			c->poll.temp_dK[slot] = tf.temp_dK[i];
	return frame_seen(c, tf.frame_no);
}

static enum client_rx on_balance(struct daly_client *c, const struct daly_frame *f)
{
	(void)rig_daly_balance_decode(f, &c->poll.bal);
	return CLIENT_RX_DONE;
}

static enum client_rx on_faults(struct daly_client *c, const struct daly_frame *f)
{
	(void)rig_daly_faults_decode(f, &c->poll.faults);
	return CLIENT_RX_DONE;
}

static enum client_rx on_fet(struct daly_client *c, const struct daly_frame *f)
{
	int chg = f->cmd == DALY_CMD_CHG_FET;
	uint8_t asked = c->req.data[0];
	struct client_fets *fets = &c->eng.fets;
	struct daly_flag echo;

	(void)rig_daly_flag_decode(f, &echo);
	/* A latched protection may keep the FET as it is: the BMS says so in d0. */
	/* A newer wish that arrived while this one was in flight still goes out. */
	if (asked == (chg ? fets->chg_on : fets->dsg_on))
		fets->pending &= (uint8_t)~(chg ? CLIENT_FET_CHG : CLIENT_FET_DSG);
	return echo.value != asked ? CLIENT_RX_DONE_ERROR : CLIENT_RX_DONE;
}

struct read_step {
	uint8_t cmd;
	enum client_rx (*on_reply)(struct daly_client *c, const struct daly_frame *f);
};

static const struct read_step cycle_steps[] = {
	{ DALY_CMD_STATUS, on_status }, { DALY_CMD_PACK, on_pack }, { DALY_CMD_MOS, on_mos },
	{ DALY_CMD_CELLS, on_cells }, { DALY_CMD_TEMPS, on_temps },
	{ DALY_CMD_BALANCE, on_balance }, { DALY_CMD_FAULTS, on_faults },
};
#define CYCLE_STEPS (sizeof cycle_steps / sizeof cycle_steps[0])

/* ---- the hooks ------------------------------------------------------------------------------ */

/* The next request of the cycle into c->req; NONE when the cycle has read everything. */
static enum client_req prepare(struct daly_client *c)
{
	uint8_t fill = (c->eng.cfg.flags & DALY_CLIENT_FILL_AA) ? 0xAAu : 0x00u;
	const struct client_fets *fets = &c->eng.fets;

	if (c->step == 0 && (fets->pending & CLIENT_FET_CHG)) {
		rig_daly_request_fet(&c->req, c->host, DALY_CMD_CHG_FET, fets->chg_on);
		return CLIENT_REQ_REPLY;
	}
	if (c->step == 0 && (fets->pending & CLIENT_FET_DSG)) {
		rig_daly_request_fet(&c->req, c->host, DALY_CMD_DSG_FET, fets->dsg_on);
		return CLIENT_REQ_REPLY;
	}
	/* A pack without sensors has nothing to send for 0x96. */
	if (c->step < CYCLE_STEPS && cycle_steps[c->step].cmd == DALY_CMD_TEMPS && c->poll.status.ntc_count == 0)
		c->step++;
	if (c->step >= CYCLE_STEPS)
		return CLIENT_REQ_NONE;
	rig_daly_request_read(&c->req, c->host, cycle_steps[c->step].cmd, fill);
	c->frames_needed = c->req.cmd == DALY_CMD_CELLS ? rig_daly_cell_frames_for(c->poll.status.cell_count)
	                 : rig_daly_temp_frames_for(c->poll.status.ntc_count);
	return CLIENT_REQ_REPLY;
}

static enum client_req begin_cycle(void *v)
{
	struct daly_client *c = v;

	memset(&c->poll, 0, sizeof c->poll);
	c->step = 0;
	c->sign_rechecked = 0;
	return prepare(c);
}

static enum client_req next_request(void *v)
{
	struct daly_client *c = v;

	/* The FET writes go before step 0; a read moves the list on. */
	if (!rig_daly_cmd_is_fet(c->req.cmd))
		c->step++;
	return prepare(c);
}

static rig_rc encode(void *v, uint8_t *wire, size_t cap, size_t *n)
{
	return rig_daly_frame_encode(&((struct daly_client *)v)->req, wire, cap, n);
}

/* Each send asks for the whole answer again. */
static void on_send(void *v)
{
	((struct daly_client *)v)->frames_seen = 0;
}

static enum client_rx judge(struct daly_client *c, const struct daly_frame *f)
{
	/* Our own request (or any host's) coming back: an echo, never an answer (§9.3). */
	if (rig_daly_frame_is_request(f))
		return CLIENT_RX_SPURIOUS;
	if (f->addr != c->board || f->cmd != c->req.cmd)
		return CLIENT_RX_WAIT;
	return rig_daly_cmd_is_fet(f->cmd) ? on_fet(c, f) : cycle_steps[c->step].on_reply(c, f);
}

/* Frames that come while no reply is due are line activity only. */
static enum client_rx rx_next(void *v, int waiting)
{
	struct daly_frame f;

	if (rig_daly_rx_next(&((struct daly_client *)v)->rx, &f) != RIG_OK)
		return CLIENT_RX_NONE;
	return waiting ? judge(v, &f) : CLIENT_RX_WAIT;
}

static void cycle_complete(void *v)
{
	struct daly_client *c = v;
	struct daly_pack *p = &c->poll.pack;

	if (c->eng.cfg.flags & DALY_CLIENT_INVERT_CURRENT)
		p->current_mA = -p->current_mA;
	c->sign_flips += (uint32_t)rig_daly_current_sign_fix(&p->current_mA, c->poll.mos.state);
	rig_daly_to_pack_state(&c->poll, c->eng.out);
}

/* One request at a time, each after the line has been quiet (daly_client.h). */
static const struct client_proto daly_proto = {
	.line = CLIENT_LINE_QUIET, .quiet_ms = DALY_MIN_GAP_MS, .init = init, .begin_cycle = begin_cycle,
	.next_request = next_request, .encode = encode, .rx_next = rx_next, .on_send = on_send,
	.cycle_complete = cycle_complete
};
/* The typed API and the table the core drives every client through. */
CLIENT_DEFINE(daly, "daly", 9600u, rig_client_engine_step, rig_client_ops_next_due_ms);
