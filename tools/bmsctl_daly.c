/* bmsctl over Daly, on a wire and through its Bluetooth module (bmsctl.h, docs/bmsctl.md).
 * Settings are read from 0x50-0x5F; Daly's setting writes have no capture
 * (docs/protocols/daly.md), so this protocol has none. FETs are 0xD9/0xDA, SOC 0x21. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bmsctl.h"

#define DALY_HOST 0x40u     /* the UART/RS485 host address of board 1 (docs/protocols/daly.md) */

struct daly_want {
	uint8_t cmd;
	unsigned want, got;
	struct daly_frame *rep;
};

/* `want` replies of the id asked (0x95/0x96 answer in several numbered frames). */
static int daly_take(struct ctl *c, const uint8_t *p, size_t n, void *ctx)
{
	struct daly_want *w = ctx;
	size_t off = 0;
	if (n == 0) {
		rig_daly_rx_init(&c->drx, 200);
		w->got = 0;
		return 0;
	}
	while (off < n) {
		off += rig_daly_rx_feed(&c->drx, p + off, n - off, ctl_now_ms());
		while (w->got < w->want && rig_daly_rx_next(&c->drx, &w->rep[w->got]) == RIG_OK)
			if (!rig_daly_frame_is_request(&w->rep[w->got]) && w->rep[w->got].cmd == w->cmd)
				w->got++;
		if (w->got == w->want)
			return 1;
	}
	return 0;
}

static int daly_xfer(struct ctl *c, const struct daly_frame *req, struct daly_frame *rep, unsigned want)
{
	uint8_t wire[DALY_FRAME_LEN];
	size_t n;
	char what[8];
	struct daly_want w = { req->cmd, want, 0, rep };

	snprintf(what, sizeof what, "0x%02X", req->cmd);
	if (rig_daly_frame_encode(req, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	return ctl_exchange(c, wire, n, daly_take, &w, what);
}

static int daly_read1(struct ctl *c, uint8_t cmd, struct daly_frame *rep)
{
	struct daly_frame req;
	rig_daly_request_read(&req, DALY_HOST, cmd, 0x00);
	return daly_xfer(c, &req, rep, 1);
}

/* Which read carries which setting. Daly's level-1 limit is an alarm before the level-2
 * protection; the neutral settings have no alarm, so level 1 reads as the release value, as
 * the emulator maps it (docs/bmsctl.md). */
static const struct { uint8_t cmd, id; } daly_rows[] = {
	{ DALY_CMD_RATED, BMS_SET_DESIGN_CAPACITY },
	{ DALY_CMD_INFO, BMS_SET_MFG_YEAR }, { DALY_CMD_INFO, BMS_SET_MFG_MONTH }, { DALY_CMD_INFO, BMS_SET_MFG_DAY },
	{ DALY_CMD_CELL_LIMITS, BMS_SET_CELL_OVP_RELEASE }, { DALY_CMD_CELL_LIMITS, BMS_SET_CELL_OVP },
	{ DALY_CMD_CELL_LIMITS, BMS_SET_CELL_UVP_RELEASE }, { DALY_CMD_CELL_LIMITS, BMS_SET_CELL_UVP },
	{ DALY_CMD_PACK_LIMITS, BMS_SET_PACK_OVP_RELEASE }, { DALY_CMD_PACK_LIMITS, BMS_SET_PACK_OVP },
	{ DALY_CMD_PACK_LIMITS, BMS_SET_PACK_UVP_RELEASE }, { DALY_CMD_PACK_LIMITS, BMS_SET_PACK_UVP },
	{ DALY_CMD_CURRENT_LIMITS, BMS_SET_DSG_OC }, { DALY_CMD_CURRENT_LIMITS, BMS_SET_CHG_OC },
	{ DALY_CMD_BALANCE_CFG, BMS_SET_BALANCE_START }, { DALY_CMD_BALANCE_CFG, BMS_SET_BALANCE_DELTA },
};

static int daly_has(unsigned id)
{
	for (size_t i = 0; i < CTL_N_OF(daly_rows); i++)
		if (daly_rows[i].id == id)
			return 1;
	return 0;
}

/* One 0x5x reply into the settings it carries (v indexed by enum bms_setting_id). */
static rig_rc daly_decode(const struct daly_frame *f, int32_t *v)
{
	rig_rc rc = RIG_ERR_UNSUPPORTED;
	switch (f->cmd) {
	case DALY_CMD_RATED: {
		struct daly_rated r;
		if ((rc = rig_daly_rated_decode(f, &r)) == RIG_OK)
			v[BMS_SET_DESIGN_CAPACITY] = (int32_t)r.rated_mAh;
		break;
	}
	case DALY_CMD_INFO: {
		struct daly_info i;
		if ((rc = rig_daly_info_decode(f, &i)) == RIG_OK) {
			v[BMS_SET_MFG_YEAR] = i.year;
			v[BMS_SET_MFG_MONTH] = i.month;
			v[BMS_SET_MFG_DAY] = i.day;
		}
		break;
	}
	case DALY_CMD_CELL_LIMITS: {
		struct daly_cell_limits l;
		if ((rc = rig_daly_cell_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_CELL_OVP_RELEASE] = l.high_l1_mV;
			v[BMS_SET_CELL_OVP] = l.high_l2_mV;
			v[BMS_SET_CELL_UVP_RELEASE] = l.low_l1_mV;
			v[BMS_SET_CELL_UVP] = l.low_l2_mV;
		}
		break;
	}
	case DALY_CMD_PACK_LIMITS: {
		struct daly_pack_limits l;
		if ((rc = rig_daly_pack_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_PACK_OVP_RELEASE] = (int32_t)l.high_l1_mV;
			v[BMS_SET_PACK_OVP] = (int32_t)l.high_l2_mV;
			v[BMS_SET_PACK_UVP_RELEASE] = (int32_t)l.low_l1_mV;
			v[BMS_SET_PACK_UVP] = (int32_t)l.low_l2_mV;
		}
		break;
	}
	case DALY_CMD_CURRENT_LIMITS: {
		struct daly_current_limits l;
		if ((rc = rig_daly_current_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_DSG_OC] = l.dsg_l2_mA;
			v[BMS_SET_CHG_OC] = -l.chg_l2_mA;   /* charge limits are negative on the wire */
		}
		break;
	}
	case DALY_CMD_BALANCE_CFG: {
		struct daly_balance_cfg b;
		if ((rc = rig_daly_balance_cfg_decode(f, &b)) == RIG_OK) {
			v[BMS_SET_BALANCE_START] = b.start_mV;
			v[BMS_SET_BALANCE_DELTA] = b.delta_mV;
		}
		break;
	}
	default:
		break;
	}
	return rc;
}

static int daly_read(struct ctl *c, const unsigned *ids, size_t n, int32_t *out)
{
	int32_t v[BMS_SET_COUNT] = { 0 };
	uint8_t done[256] = { 0 };
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < CTL_N_OF(daly_rows); r++) {
			struct daly_frame rep;
			uint8_t cmd = daly_rows[r].cmd;
			if (daly_rows[r].id != ids[i] || done[cmd])
				continue;
			if (daly_read1(c, cmd, &rep) != 0 || daly_decode(&rep, v) != RIG_OK)
				return -1;
			done[cmd] = 1;
		}
	for (size_t i = 0; i < n; i++)
		out[i] = v[ids[i]];
	return 0;
}

static int daly_info(struct ctl *c, struct ctl_info *in)
{
	struct daly_poll p;
	struct daly_frame f[DALY_CELL_FRAMES_MAX > DALY_TEMP_FRAMES_MAX ? DALY_CELL_FRAMES_MAX : DALY_TEMP_FRAMES_MAX];
	struct daly_frame req;
	struct pack_state s;
	struct daly_text8 t;

	memset(in, 0, sizeof *in);
	memset(&p, 0, sizeof p);
	if (daly_read1(c, DALY_CMD_STATUS, f) != 0 || rig_daly_status_decode(f, &p.status) != RIG_OK ||
	    daly_read1(c, DALY_CMD_PACK, f) != 0 || rig_daly_pack_decode(f, &p.pack) != RIG_OK ||
	    daly_read1(c, DALY_CMD_MOS, f) != 0 || rig_daly_mos_decode(f, &p.mos) != RIG_OK ||
	    daly_read1(c, DALY_CMD_BALANCE, f) != 0 || rig_daly_balance_decode(f, &p.bal) != RIG_OK ||
	    daly_read1(c, DALY_CMD_FAULTS, f) != 0 || rig_daly_faults_decode(f, &p.faults) != RIG_OK)
		return -1;
	/* Cells and temperatures come in numbered frames; each is placed by its number. */
	unsigned nf = rig_daly_cell_frames_for(p.status.cell_count);
	rig_daly_request_read(&req, DALY_HOST, DALY_CMD_CELLS, 0x00);
	if (nf > CTL_N_OF(f) || (nf > 0 && daly_xfer(c, &req, f, nf) != 0))
		return -1;
	for (unsigned i = 0; i < nf; i++) {
		struct daly_cell_frame cf;
		if (rig_daly_cell_frame_decode(&f[i], &cf) != RIG_OK || cf.frame_no < 1 || cf.frame_no > nf)
			return -1;
		for (unsigned k = 0; k < DALY_CELLS_PER_FRAME; k++) {
			unsigned at = (cf.frame_no - 1u) * DALY_CELLS_PER_FRAME + k;
			if (at < PACK_CELLS_MAX)
				p.cell_mV[at] = cf.cell_mV[k];
		}
	}
	nf = rig_daly_temp_frames_for(p.status.ntc_count);
	rig_daly_request_read(&req, DALY_HOST, DALY_CMD_TEMPS, 0x00);
	if (nf > CTL_N_OF(f) || (nf > 0 && daly_xfer(c, &req, f, nf) != 0))
		return -1;
	for (unsigned i = 0; i < nf; i++) {
		struct daly_temp_frame tf;
		if (rig_daly_temp_frame_decode(&f[i], &tf) != RIG_OK || tf.frame_no < 1 || tf.frame_no > nf)
			return -1;
		for (unsigned k = 0; k < DALY_TEMPS_PER_FRAME; k++) {
			unsigned at = (tf.frame_no - 1u) * DALY_TEMPS_PER_FRAME + k;
			if (at < PACK_TEMPS_MAX)
				p.temp_dK[at] = tf.temp_dK[k];
		}
	}
	(void)rig_daly_current_sign_fix(&p.pack.current_mA, p.mos.state);
	rig_daly_to_pack_state(&p, &s);
	struct daly_rated r;
	if (daly_read1(c, DALY_CMD_RATED, f) == 0 && rig_daly_rated_decode(f, &r) == RIG_OK)
		s.full_mAh = r.rated_mAh;       /* 0x90-0x98 carry no full capacity */
	if (daly_read1(c, DALY_CMD_FIRMWARE, f) == 0 && rig_daly_text8_decode(f, &t) == RIG_OK)
		snprintf(in->model, sizeof in->model, "firmware %.8s", (const char *)t.text);
	ctl_info_from_pack(in, &s);
	return 0;
}

/* 0xDA charge, 0xD9 discharge: d0 1 on, 0 off; the reply echoes d0. */
static int daly_fets(struct ctl *c, int chg, int dsg)
{
	const struct { int on; uint8_t cmd; } sw[] = { { chg, DALY_CMD_CHG_FET }, { dsg, DALY_CMD_DSG_FET } };
	for (size_t i = 0; i < CTL_N_OF(sw); i++) {
		struct daly_frame req, rep;
		struct daly_flag v;
		if (sw[i].on < 0)
			continue;
		rig_daly_request_fet(&req, DALY_HOST, sw[i].cmd, (uint8_t)sw[i].on);
		if (daly_xfer(c, &req, &rep, 1) != 0 || rig_daly_flag_decode(&rep, &v) != RIG_OK ||
		    v.value != (uint8_t)sw[i].on) {
			fprintf(stderr, "bmsctl: %s: 0x%02X was not echoed\n", c->proto->name, sw[i].cmd);
			return -1;
		}
	}
	return 0;
}

/* 0x21 carries the clock with the SOC; the host's clock goes with it, as the PC tool does. */
static int daly_soc(struct ctl *c, unsigned pct)
{
	struct daly_frame req, rep;
	struct daly_soc_set s;
	struct daly_flag v;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	s.year = (uint16_t)(tm.tm_year + 1900);
	s.month = (uint8_t)(tm.tm_mon + 1);
	s.day = (uint8_t)tm.tm_mday;
	s.hour = (uint8_t)tm.tm_hour;
	s.minute = (uint8_t)tm.tm_min;
	s.second = (uint8_t)tm.tm_sec;
	s.soc_permille = (uint16_t)(pct * 10u);
	if (rig_daly_soc_set_encode(&req, DALY_HOST, &s) != RIG_OK || daly_xfer(c, &req, &rep, 1) != 0 ||
	    rig_daly_flag_decode(&rep, &v) != RIG_OK || v.value != 1u) {
		fprintf(stderr, "bmsctl: %s: the SOC write was not accepted\n", c->proto->name);
		return -1;
	}
	return 0;
}

const struct ctl_proto ctl_daly = {
	"daly", 9600, CTL_WIRE_REPLY_MS, daly_has, daly_read, NULL, daly_info, daly_fets, daly_soc, NULL,
};
/* The same frames through the vendor's Bluetooth module, in pieces, after a connect. */
const struct ctl_proto ctl_daly_ble = {
	"daly-ble", 9600, CTL_BLE_REPLY_MS, daly_has, daly_read, NULL, daly_info, daly_fets, daly_soc, NULL,
};
