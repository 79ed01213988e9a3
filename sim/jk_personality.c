/* The JK "4E 57" personality (jk_personality.h): requests in, codec-built replies out. */
#include "bmsrig/sim/jk_personality.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/jk_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void jk_quirks_defaults(struct jk_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->reply_latency_ms = 30;   /* docs/protocols/jk.md §8.1: 10-50 ms suits every client seen */
	q->current_mode = 1;        /* every current firmware (docs/protocols/jk.md §2.5) */
	q->junk_every = 0;
}

/* ---- the settings the JBD registers cannot hold ---------------------------------------------
 * Values of the JK-B2A24S20P 10.07 capture (tests/vectors jk_4e57_13s_fets_off). */

struct own_default { uint8_t id; int32_t value; };
static const struct own_default own_numbers[] = {
	{ JK_ID_CELL_DIFF, 300 }, { JK_ID_MOS_OTP, 90 }, { JK_ID_MOS_OTP_REL, 70 },
	{ JK_ID_BOX_OTP, 100 }, { JK_ID_BOX_OTP_REL, 100 }, { JK_ID_TEMP_DIFF, 20 },
	{ JK_ID_CURRENT_CAL, 1070 }, { JK_ID_ADDRESS, 1 }, { JK_ID_SLEEP_WAIT, 10 },
	{ JK_ID_LOW_SOC_ALARM, 20 }, { JK_ID_DEDICATED_CHARGER, 0 }, { JK_ID_CAL_START, 0 },
	{ JK_ID_ACTUAL_CAPACITY, 0 },
};

static void own_defaults(struct jk_personality *p, uint8_t address)
{
	struct jk_data *o = &p->own;

	rig_jk_data_clear(o);
	for (size_t i = 0; i < N_OF(own_numbers); i++)
		(void)rig_jk_data_set(o, own_numbers[i].id, own_numbers[i].value);
	if (address)
		o->address = address;
	/* 0xAF from the chemistry the BMS is set up for: only NMC charges cells past 4 V. */
	o->battery_type = p->bms->set.cell_ovp_mV > 4000 ? 1u : 0u;
	memcpy(o->password, "123456\0\0\0\0", sizeof o->password);
	memcpy(o->device_id, "Input Us", sizeof o->device_id);
	memcpy(o->mfg_date, "2204", sizeof o->mfg_date);
	memcpy(o->sw_version, "10.XW_S10.07___", sizeof o->sw_version);
	memcpy(o->manufacturer, "Input UserdaJK-B2A24S15P", sizeof o->manufacturer);
}

void jk_personality_init(struct jk_personality *p, struct bms *b, const struct jk_quirks *q,
                         uint8_t address)
{
	memset(p, 0, sizeof *p);
	p->bms = b;
	if (q)
		p->q = *q;
	else
		jk_quirks_defaults(&p->q);
	own_defaults(p, address);
}

void jk_personality_on_save(struct jk_personality *p,
                            int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	p->saver.save = save;
	p->saver.ctx = ctx;
}

/* ---- JK ids held in the BMS's settings ---------------------------------------------------- */

enum conv {
	CV_SAME,      /* same unit */
	CV_10MV,      /* setting mV, JK field mV; the BMS keeps pack limits in whole 10 mV */
	CV_DK,        /* setting 0.1 K, JK degC */
	CV_MA_A,      /* setting mA, JK A */
	CV_MAH_AH     /* setting mAh, JK Ah */
};

static const struct bms_setting_map setting_maps[] = {
	{ JK_ID_PACK_OVP, BMS_SET_PACK_OVP, CV_10MV },            { JK_ID_PACK_UVP, BMS_SET_PACK_UVP, CV_10MV },
	{ JK_ID_CELL_OVP, BMS_SET_CELL_OVP, CV_SAME },            { JK_ID_CELL_OVP_REL, BMS_SET_CELL_OVP_RELEASE, CV_SAME },
	{ JK_ID_CELL_OVP_DELAY, BMS_SET_CELL_OVP_DELAY, CV_SAME }, { JK_ID_CELL_UVP, BMS_SET_CELL_UVP, CV_SAME },
	{ JK_ID_CELL_UVP_REL, BMS_SET_CELL_UVP_RELEASE, CV_SAME }, { JK_ID_CELL_UVP_DELAY, BMS_SET_CELL_UVP_DELAY, CV_SAME },
	{ JK_ID_DSG_OCP, BMS_SET_DSG_OC, CV_MA_A },               { JK_ID_DSG_OCP_DELAY, BMS_SET_DSG_OC_DELAY, CV_SAME },
	{ JK_ID_CHG_OCP, BMS_SET_CHG_OC, CV_MA_A },               { JK_ID_CHG_OCP_DELAY, BMS_SET_CHG_OC_DELAY, CV_SAME },
	{ JK_ID_BAL_START, BMS_SET_BALANCE_START, CV_SAME },      { JK_ID_BAL_TRIGGER, BMS_SET_BALANCE_DELTA, CV_SAME },
	{ JK_ID_BALANCER, BMS_SET_BALANCE_ENABLE, CV_SAME },
	{ JK_ID_CHG_OTP, BMS_SET_CHG_OTP, CV_DK },                { JK_ID_DSG_OTP, BMS_SET_DSG_OTP, CV_DK },
	{ JK_ID_CHG_UTP, BMS_SET_CHG_UTP, CV_DK },                { JK_ID_CHG_UTP_REL, BMS_SET_CHG_UTP_RELEASE, CV_DK },
	{ JK_ID_DSG_UTP, BMS_SET_DSG_UTP, CV_DK },                { JK_ID_DSG_UTP_REL, BMS_SET_DSG_UTP_RELEASE, CV_DK },
	{ JK_ID_CELL_COUNT, BMS_SET_CELL_COUNT, CV_SAME },
	{ JK_ID_CAPACITY, BMS_SET_DESIGN_CAPACITY, CV_MAH_AH },
};

static int32_t to_jk(uint8_t conv, int32_t v)
{
	switch (conv) {
	case CV_DK:     return (int32_t)lround((v - JK_TEMP_ZERO_DK) / 10.0);
	case CV_MA_A:
	case CV_MAH_AH: return (int32_t)lround(v / 1000.0);
	default:        return v;
	}
}

static int64_t from_jk(uint8_t conv, int32_t v)
{
	switch (conv) {
	case CV_10MV:   return 10 * (int64_t)lround(v / 10.0);
	case CV_DK:     return (int64_t)v * 10 + JK_TEMP_ZERO_DK;
	case CV_MA_A:
	case CV_MAH_AH: return (int64_t)v * 1000;
	default:        return v;
	}
}

int jk_setting_id(unsigned setting, uint8_t *jk_id)
{
	for (size_t i = 0; i < N_OF(setting_maps); i++)
		if (setting_maps[i].setting == setting) {
			*jk_id = (uint8_t)setting_maps[i].own;
			return 0;
		}
	return -1;
}

int32_t jk_setting_to_jk(uint8_t jk_id, int32_t value)
{
	const struct bms_setting_map *m = bms_setting_map_find(setting_maps, N_OF(setting_maps), jk_id);
	return m ? to_jk(m->conv, value) : value;
}

int64_t jk_setting_from_jk(uint8_t jk_id, int32_t value)
{
	const struct bms_setting_map *m = bms_setting_map_find(setting_maps, N_OF(setting_maps), jk_id);
	return m ? from_jk(m->conv, value) : value;
}

/* ---- what the board reports --------------------------------------------------------------- */

/* The codes span -40..100 degC (docs/protocols/jk.md §2.5); a probe beyond reads as the end it passed. */
static int32_t temp_clamp_dK(int32_t dK)
{
	const int32_t lo = JK_TEMP_ZERO_DK - 400, hi = JK_TEMP_ZERO_DK + 1000;

	return dK < lo ? lo : (dK > hi ? hi : dK);
}

#define PACK_MAX_mV 655350u          /* 0x83: 16 bits of 10 mV; the board saturates */

static int32_t current_clamp_mA(int32_t mA, uint8_t mode)
{
	int32_t lo = mode ? -JK_CURRENT_SM_MAX_mA : JK_CURRENT_OFS_MIN_mA;
	int32_t hi = mode ? JK_CURRENT_SM_MAX_mA : JK_CURRENT_OFS_MAX_mA;

	return mA < lo ? lo : (mA > hi ? hi : mA);
}

void jk_personality_data(const struct jk_personality *p, struct jk_data *d)
{
	const struct bms *b = p->bms;
	struct bms_view v;

	*d = p->own;
	rig_jk_data_add_all(d);
	bms_view(b, &v);

	d->cell_count = v.cell_count;
	memcpy(d->cell_mV, v.cell_mV, sizeof d->cell_mV);
	d->mos_temp_dK = temp_clamp_dK(b->meas.probe_dK[0]);
	d->box_temp_dK = temp_clamp_dK(v.probe_count > 0 ? v.probe_dK[0] : BMS_ABSENT_NTC_DK);
	d->bat_temp_dK = temp_clamp_dK(v.probe_count > 1 ? v.probe_dK[1] : BMS_ABSENT_NTC_DK);
	d->pack_mV = v.pack_mV > PACK_MAX_mV ? PACK_MAX_mV : v.pack_mV;
	d->protocol_version = p->q.current_mode;
	d->current_mA = current_clamp_mA(b->meas.current_mA, p->q.current_mode);
	d->current_zero_chg = 0;
	d->soc_pct = v.soc_pct;
	d->ntc_count = v.probe_count;
	d->cycles = v.cycles;
	d->cycle_total_Ah = (uint32_t)lround(v.cycles * (double)b->set.cycle_capacity_mAh / 1000.0);
	d->cell_strings = v.cell_count;
	d->alarm_raw = rig_jk_alarm_from_prot(b->prot_bits);
	if (v.soc_pct < p->own.low_soc_alarm_pct)
		d->alarm_raw |= 1u << JK_ALARM_LOW_CAPACITY;
	d->status_raw = (uint16_t)(((v.fet & BMS_FET_CHG) ? JK_STATUS_CHG_ON : 0u) |
	                           ((v.fet & BMS_FET_DSG) ? JK_STATUS_DSG_ON : 0u));
	if (b->set.balance_enable)
		d->status_raw |= JK_STATUS_BAL_ON;
	for (size_t i = 0; i < N_OF(setting_maps); i++)
		(void)rig_jk_data_set(d, (uint8_t)setting_maps[i].own,
		                  to_jk(setting_maps[i].conv, bms_setting_get(b, setting_maps[i].setting)));
	d->chg_switch = (uint8_t)bms_fet_allowed(b, BMS_INHIBIT_CHG);
	d->dsg_switch = (uint8_t)bms_fet_allowed(b, BMS_INHIBIT_DSG);
	d->runtime_min = (uint32_t)(b->time_s / 60.0);
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Applies the decoded write w of id; RIG_OK when the board takes it. */
static rig_rc apply_write(struct jk_personality *p, uint8_t id, const struct jk_data *w)
{
	struct bms *b = p->bms;
	const struct bms_setting_map *m = bms_setting_map_find(setting_maps, N_OF(setting_maps), id);
	int32_t v = 0;
	rig_rc rc;

	switch (id) {
	case JK_ID_CHG_SWITCH:
	case JK_ID_DSG_SWITCH: {
		uint8_t bit = id == JK_ID_CHG_SWITCH ? BMS_INHIBIT_CHG : BMS_INHIBIT_DSG;
		uint8_t on = id == JK_ID_CHG_SWITCH ? w->chg_switch : w->dsg_switch;

		if (on > 1)
			return RIG_ERR_ARG;
		rc = bms_allow_fet(b, bit, on);
		if (rc == RIG_OK)
			personality_persist(&p->saver, p->bms);
		return rc;
	}
	case JK_ID_FACTORY_RESET:
		own_defaults(p, p->own.address);
		return RIG_OK;
	case JK_ID_RESTART:
		return RIG_OK;
	default:
		break;
	}
	if (!m) {
		rig_jk_data_copy_field(&p->own, w, id);
		return RIG_OK;
	}
	if ((rc = rig_jk_data_get(w, id, &v)) != RIG_OK ||
	    (rc = bms_setting_set(b, m->setting, from_jk(m->conv, v))) != RIG_OK)
		return rc;
	personality_persist(&p->saver, p->bms);
	return RIG_OK;
}

int jk_personality_handle(struct jk_personality *p, const struct jk_frame *req, uint32_t now_ms,
                          struct jk_frame *reply)
{
	const struct jk_id_def *def;
	struct jk_data d;

	(void)now_ms;
	if (req->type != JK_TYPE_REQUEST)
		return 0;
	p->requests++;
	switch (req->cmd) {
	case JK_CMD_READ_ALL:
	case JK_CMD_READ:
		jk_personality_data(p, &d);
		if (req->info[0] != JK_ID_ALL) {
			def = rig_jk_id_find(req->info[0]);
			if (req->cmd != JK_CMD_READ || !def || !(def->access & JK_ACC_R))
				break;
			d.n_items = 1;
			d.order[0] = def->id;
		}
		if (rig_jk_data_encode(reply, req->cmd, &d) != RIG_OK)
			break;
		p->replies++;
		return 1;
	case JK_CMD_WRITE:
		if (rig_jk_write_decode(req, &d) != RIG_OK || apply_write(p, req->info[0], &d) != RIG_OK ||
		    rig_jk_data_encode(reply, JK_CMD_WRITE, &d) != RIG_OK)
			break;
		p->replies++;
		return 1;
	default:             /* activate, password */
		rig_jk_response_ack(reply, req->cmd);
		p->replies++;
		return 1;
	}
	p->refused++;
	return 0;
}

/* ---- the generic personality table --------------------------------------------------------- */

/* The protocol state the emulator holds: the personality plus its receive assembler. */
struct jk_unit {
	struct jk_personality p;
	struct jk_rx rx;
	uint32_t sent;                  /* replies sent, for junk_every */
};
_Static_assert(sizeof(struct jk_unit) <= PERSONALITY_STATE_MAX, "jk personality state too big");

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct jk_unit *u = state;

	memset(u, 0, sizeof *u);
	jk_personality_init(&u->p, bms, NULL, address);
	rig_jk_rx_init(&u->rx, 200);
	return RIG_OK;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct jk_quirks, reply_latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct jk_quirks, junk_every, "junk_prefix", 0, 1000000),
	PERSONALITY_QUIRK(struct jk_quirks, current_mode, "current_mode", 0, 1),
};
static const struct personality_quirks quirks = {
	.proto = "jk", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, current_mode, junk_prefix",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	return personality_quirk_set(&quirks, &((struct jk_unit *)state)->p.q, key, value, why, whycap);
}

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const struct jk_frame *f)
{
	uint8_t wire[JK_FRAME_MAX];
	size_t n;

	if (sink->frame && rig_jk_frame_encode(f, wire, sizeof wire, &n) == RIG_OK)
		sink->frame(sink->ctx, dir, wire, n);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	static const uint8_t junk[] = { 'A', 'T', '\r', '\n' };
	struct jk_unit *u = state;
	struct jk_frame req, reply;

	while (n) {
		size_t used = rig_jk_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_jk_rx_next(&u->rx, &req) == RIG_OK) {
			uint8_t wire[sizeof junk + JK_FRAME_MAX];
			size_t len, at = 0;
			unsigned parts = 0;

			log_frame(sink, PERS_RX, &req);
			if (!jk_personality_handle(&u->p, &req, now_ms, &reply) ||
			    rig_jk_frame_encode(&reply, wire + sizeof junk, JK_FRAME_MAX, &len) != RIG_OK)
				continue;
			if ((reply.cmd == JK_CMD_READ_ALL || reply.cmd == JK_CMD_READ) &&
			    req.info[0] == JK_ID_ALL)
				parts = TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS;
			log_frame(sink, PERS_TX, &reply);
			u->sent++;
			if (u->p.q.junk_every && u->sent % u->p.q.junk_every == 0)
				memcpy(wire, junk, sizeof junk);
			else
				at = sizeof junk;
			sink->send(sink->ctx, wire + at, len + sizeof junk - at, u->p.q.reply_latency_ms, parts);
		}
	}
}

static void unit_on_save(void *state, int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	jk_personality_on_save(&((struct jk_unit *)state)->p, save, ctx);
}

const struct personality_ops jk_personality_ops = {
	.name = "jk",
	.baud = 115200u,
	.resolution = { .pack_mV = 10.0, .current_mA = 10.0, .temp_dK = 10.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.on_save = unit_on_save,
	.wire_json = jk_wire_json,
};
