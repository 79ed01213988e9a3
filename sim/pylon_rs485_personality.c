/* The Pylontech low-voltage RS485 personality (pylon_rs485_personality.h): requests in, codec-built
 * replies out, every value from bms_view and bms_inverter_limits (sim/bms_limits.c). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/sim/pylon_rs485_json.h"
#include "bmsrig/sim/pylon_rs485_personality.h"

/* What the module calls itself in 0x51 and 0x60 (docs/protocols/pylontech-rs485.md). */
#define DEFAULT_MODEL   "US2000C"
#define SW_MAJOR        1u
#define SW_MINOR        7u
#define DATAFLAG        0x10u     /* no unread alarm or switch change, as in the captures */
#define SYS_INFOFLAG    0x11u     /* 0x47's first byte in the captured reply */

struct pylon_quirks {
	uint32_t latency_ms;      /* from the end of the request to the reply */
	uint8_t alarm_trailer;    /* 1: a 00 byte after 0x44 status 5, as a US2000C sends */
	uint8_t rtn_echo;         /* 1: 0x61-0x63 answered with the CID2 in the RTN place and ADR
	                           * 02, as Battery-Emulator does (the V3.3 rule is RTN 00) */
};

struct pylon_unit {
	struct pylon_rx rx;
	struct bms *bms;
	uint8_t address;          /* configured; 0 = 2 + the unit's place on its line */
	uint8_t index;            /* place on the line, from the peers hook */
	uint8_t n_peers;
	const struct bms *peer[PYLON_MODULES_MAX];
	struct pylon_quirks q;
};

/* The payloads built for one reply; static, as the personality runs on one thread and the
 * 0x42 of 15 modules is larger than a stack frame should be. */
static union pylon_payload pl;

static uint8_t my_address(const struct pylon_unit *u)
{
	return u->address ? u->address : (uint8_t)(PYLON_ADR_DEFAULT + u->index);
}

/* The modules this unit speaks for when asked for all: the line's, or itself alone. */
static unsigned modules(const struct pylon_unit *u, const struct bms **out)
{
	unsigned i;

	if (u->n_peers == 0) {
		out[0] = u->bms;
		return 1;
	}
	for (i = 0; i < u->n_peers; i++)
		out[i] = u->peer[i];
	return u->n_peers;
}

/* ---- per-module payloads -------------------------------------------------------------- */

static void module_analog(const struct bms *b, struct pylon_module *m)
{
	struct bms_view v;
	unsigned i;

	bms_view(b, &v);
	m->cell_count = (uint8_t)(v.cell_count > PYLON_CELLS_MAX ? PYLON_CELLS_MAX : v.cell_count);
	for (i = 0; i < m->cell_count; i++)
		m->cell_mV[i] = v.cell_mV[i];
	m->temp_count = (uint8_t)(v.probe_count > PYLON_TEMPS_MAX ? PYLON_TEMPS_MAX : v.probe_count);
	for (i = 0; i < m->temp_count; i++)
		m->temp_dK[i] = v.probe_dK[i];
	m->current_mA = v.current_mA;
	m->pack_mV = v.pack_mV;
	m->remain_mAh = v.remain_mAh;
	m->full_mAh = v.full_mAh;
	/* Packs over 65 Ah send their capacities as u24 (user-defined 4), as a US3000 does. */
	m->user_defined = v.full_mAh > 0xFFFFu || v.remain_mAh > 0xFFFFu ? 4u : 2u;
	m->remain16_mAh = m->full16_mAh = 0xFFFFu;   /* the u16 fields then say "see below" */
	m->cycles = v.cycles;
}

static uint8_t level_state(int32_t value, int32_t low, int32_t high)
{
	return value >= high ? PYLON_STATE_HIGH : value <= low ? PYLON_STATE_LOW : PYLON_STATE_NORMAL;
}

static void module_alarm(const struct bms *b, struct pylon_alarm_module *m)
{
	const struct bms_settings *s = &b->set;
	struct bms_view v;
	unsigned i;
	uint16_t cell_bits = 0;

	bms_view(b, &v);
	m->cell_count = (uint8_t)(v.cell_count > PYLON_CELLS_MAX ? PYLON_CELLS_MAX : v.cell_count);
	for (i = 0; i < m->cell_count; i++) {
		m->cell_state[i] = level_state(v.cell_mV[i], s->cell_uvp_mV, s->cell_ovp_mV);
		if (m->cell_state[i] != PYLON_STATE_NORMAL)
			cell_bits = (uint16_t)(cell_bits | 1u << i);
	}
	m->temp_count = (uint8_t)(v.probe_count > PYLON_TEMPS_MAX ? PYLON_TEMPS_MAX : v.probe_count);
	for (i = 0; i < m->temp_count; i++)
		m->temp_state[i] = level_state(v.probe_dK[i], s->chg_utp_dK, s->chg_otp_dK);
	rig_pylon_alarm_status(m, v.prot_bits, (v.fet & BMS_FET_CHG) != 0, (v.fet & BMS_FET_DSG) != 0, v.current_mA,
	                       v.soc_pct, cell_bits);
}

/* The barcode text if the BMS keeps one, else a made-up one that names the module's place. */
static void module_serial(const struct bms *b, unsigned place, char *out)
{
	struct bms_string t;
	size_t n = 0;

	memset(out, 0, PYLON_SERIAL_LEN + 1);
	if (bms_string_get(b, BMS_TEXT_BARCODE, &t) == RIG_OK)
		n = t.len > PYLON_SERIAL_LEN ? PYLON_SERIAL_LEN : t.len;
	if (n)
		memcpy(out, t.text, n);
	else
		snprintf(out, PYLON_SERIAL_LEN + 1, "BMSRIGPYLON%05u", place);
}

/* The model of the captured replies: the emulator mimics a US2000C, whatever model text the
 * neutral BMS keeps (its factory text names another protocol's board). */
static void identity(struct pylon_mfr *m)
{
	rig_pylon_mfr_set(m, DEFAULT_MODEL, SW_MAJOR, SW_MINOR, "PYLON");
}

/* The record of the modules given, as the master announces it. */
static void combined(const struct bms *const *mods, unsigned n, struct rig_inv_battery *out)
{
	static struct rig_inv_battery rec[PYLON_MODULES_MAX];
	unsigned i;

	for (i = 0; i < n; i++)
		bms_inverter_limits(mods[i], &rec[i]);
	bms_inverter_combine(rec, n, out);
}

/* ---- commands ------------------------------------------------------------------------- */

static rig_rc cmd_analog(const struct pylon_unit *u, uint8_t value, struct pylon_frame *r)
{
	const struct bms *mods[PYLON_MODULES_MAX];
	unsigned n = value == PYLON_ADR_ALL ? modules(u, mods) : 1u, k;

	if (value != PYLON_ADR_ALL)
		mods[0] = u->bms;
	pl.analog.dataflag = DATAFLAG;
	pl.analog.command_value = value == PYLON_ADR_ALL ? (uint8_t)n : value;
	pl.analog.module_count = (uint8_t)n;
	for (k = 0; k < n; k++)
		module_analog(mods[k], &pl.analog.m[k]);
	return rig_pylon_analog_encode(r, &pl.analog);
}

static rig_rc cmd_alarm(const struct pylon_unit *u, uint8_t value, struct pylon_frame *r)
{
	const struct bms *mods[PYLON_MODULES_MAX];
	unsigned n = value == PYLON_ADR_ALL ? modules(u, mods) : 1u, k;

	if (value != PYLON_ADR_ALL)
		mods[0] = u->bms;
	pl.alarm.dataflag = DATAFLAG;
	pl.alarm.command_value = value == PYLON_ADR_ALL ? (uint8_t)n : value;
	pl.alarm.module_count = (uint8_t)n;
	for (k = 0; k < n; k++)
		module_alarm(mods[k], &pl.alarm.m[k]);
	pl.alarm.trailer_len = u->q.alarm_trailer ? 1u : 0u;
	pl.alarm.trailer[0] = 0;
	return rig_pylon_alarm_encode(r, &pl.alarm);
}

static uint16_t u16_of(int32_t v) { return (uint16_t)(v < 0 ? 0 : v > 0xFFFF ? 0xFFFF : v); }

static rig_rc cmd_sys_param(const struct pylon_unit *u, struct pylon_frame *r)
{
	const struct bms_settings *s = &u->bms->set;
	struct pylon_sys_param *p = &pl.param;

	/* The "low" (alarm) levels are where the protection releases: above the trip point, as an
	 * alarm level is. */
	p->infoflag = SYS_INFOFLAG;
	p->cell_high_mV = u16_of(s->cell_ovp_mV);
	p->cell_low_mV = u16_of(s->cell_uvp_release_mV);
	p->cell_under_mV = u16_of(s->cell_uvp_mV);
	p->chg_high_dK = u16_of(s->chg_otp_dK);
	p->chg_low_dK = u16_of(s->chg_utp_dK);
	p->chg_current_mA = s->chg_oc_mA;
	p->module_high_mV = u16_of(s->pack_ovp_mV);
	p->module_low_mV = u16_of(s->pack_uvp_release_mV);
	p->module_under_mV = u16_of(s->pack_uvp_mV);
	p->dsg_high_dK = u16_of(s->dsg_otp_dK);
	p->dsg_low_dK = u16_of(s->dsg_utp_dK);
	p->dsg_current_mA = -s->dsg_oc_mA;   /* negative, as the captured 0x47 reply sends it */
	return rig_pylon_sys_param_encode(r, p);
}

static rig_rc cmd_mgmt(const struct bms *const *mods, unsigned n, int with_value, uint8_t value,
                       struct pylon_frame *r)
{
	struct rig_inv_battery rec;

	combined(mods, n, &rec);
	rig_pylon_mgmt_from_inv(&rec, &pl.mgmt);
	pl.mgmt.has_command_value = with_value ? 1u : 0u;
	pl.mgmt.command_value = value;
	return rig_pylon_mgmt_encode(r, &pl.mgmt);
}

/* The extreme of one quantity over every module: value and location (module << 8 | item),
 * both 1-based as the 0x61 layout counts them. */
struct scan { uint16_t max, min, max_at, min_at; uint32_t sum, count; };

static void scan_add(struct scan *s, uint16_t v, unsigned module, unsigned item)
{
	uint16_t at = (uint16_t)((module + 1u) << 8 | (item + 1u));

	if (s->count == 0 || v > s->max) {
		s->max = v;
		s->max_at = at;
	}
	if (s->count == 0 || v < s->min) {
		s->min = v;
		s->min_at = at;
	}
	s->sum += v;
	s->count++;
}

static rig_rc cmd_sys_analog(const struct pylon_unit *u, struct pylon_frame *r)
{
	const struct bms *mods[PYLON_MODULES_MAX];
	unsigned n = modules(u, mods), k, i;
	struct scan cell = { 0 }, temp = { 0 }, board = { 0 };
	struct pylon_sys_analog *a = &pl.sys_analog;
	struct rig_inv_battery rec;
	uint32_t cycles = 0;

	combined(mods, n, &rec);
	memset(a, 0, sizeof *a);
	for (k = 0; k < n; k++) {
		struct bms_view v;

		bms_view(mods[k], &v);
		for (i = 0; i < v.cell_count; i++)
			scan_add(&cell, v.cell_mV[i], k, i);
		/* The first probe stands for the BMS board, the others for cell groups (as in 0x42). */
		for (i = 0; i < v.probe_count; i++)
			scan_add(i == 0 ? &board : &temp, v.probe_dK[i], k, i);
		cycles += v.cycles;
		if (v.cycles > a->cycles_max)
			a->cycles_max = v.cycles;
	}
	if (temp.count == 0)
		temp = board;
	a->pack_mV = rec.pack_mV;
	a->current_mA = rec.current_mA;
	a->soc_pct = rec.soc_pct;
	a->cycles_avg = (uint16_t)(cycles / n);
	a->soh_avg_pct = a->soh_min_pct = rec.soh_pct;
	a->cell_max_mV = (struct pylon_extreme){ cell.max, cell.max_at };
	a->cell_min_mV = (struct pylon_extreme){ cell.min, cell.min_at };
	a->cell_temp_avg_dK = (uint16_t)(temp.count ? temp.sum / temp.count : 0u);
	a->cell_temp_max_dK = (struct pylon_extreme){ temp.max, temp.max_at };
	a->cell_temp_min_dK = (struct pylon_extreme){ temp.min, temp.min_at };
	/* No MOSFET probe in the model: the board probe stands in for it. */
	a->bms_temp_avg_dK = a->mos_temp_avg_dK = (uint16_t)(board.count ? board.sum / board.count : 0u);
	a->bms_temp_max_dK = a->mos_temp_max_dK = (struct pylon_extreme){ board.max, board.max_at };
	a->bms_temp_min_dK = a->mos_temp_min_dK = (struct pylon_extreme){ board.min, board.min_at };
	return rig_pylon_sys_analog_encode(r, a);
}

static rig_rc cmd_sys_basic(const struct pylon_unit *u, struct pylon_frame *r)
{
	const struct bms *mods[PYLON_MODULES_MAX];
	unsigned n = modules(u, mods), k;

	identity(&pl.basic.id);
	pl.basic.module_count = (uint8_t)n;
	for (k = 0; k < n; k++)
		module_serial(mods[k], k, pl.basic.serial[k]);
	return rig_pylon_sys_basic_encode(r, &pl.basic);
}

static rig_rc cmd_sys_alarm(const struct pylon_unit *u, struct pylon_frame *r)
{
	const struct bms *mods[PYLON_MODULES_MAX];
	unsigned n = modules(u, mods);
	struct rig_inv_battery rec;

	combined(mods, n, &rec);
	pl.sys_alarm.alarm1 = rig_pylon_status1_from_prot(rec.warn);
	pl.sys_alarm.alarm2 = 0;
	pl.sys_alarm.prot1 = rig_pylon_status1_from_prot(rec.prot);
	pl.sys_alarm.prot2 = 0;
	return rig_pylon_sys_alarm_encode(r, &pl.sys_alarm);
}

/*
 * One request, one reply in *r; 0 when the request is not this module's (silence).
 * Only the master (unit 0) takes the all-modules forms: ADR FF, command value FF, the system
 * commands.
 */
static int answer(const struct pylon_unit *u, const struct pylon_frame *req, struct pylon_frame *r)
{
	uint8_t me = my_address(u), value, rtn;
	int master = u->index == 0;
	rig_rc rc = RIG_OK;

	if (req->adr != me && !(req->adr == PYLON_ADR_ALL && master))
		return 0;
	rig_pylon_response(r, me, PYLON_RTN_OK);
	/* The checks are the firmware's inverter port's, so both modules refuse alike. */
	rtn = rig_inv_port_pylon_check(req, me, master, &value);
	if (rtn != PYLON_RTN_OK) {
		r->cid2 = rtn;
		return 1;
	}
	switch (req->cid2) {
	case PYLON_CMD_ANALOG:    rc = cmd_analog(u, value, r); break;
	case PYLON_CMD_ALARM:     rc = cmd_alarm(u, value, r); break;
	case PYLON_CMD_SYS_PARAM: rc = cmd_sys_param(u, r); break;
	case PYLON_CMD_PROTO_VER: break;                       /* the reply's VER is the answer */
	case PYLON_CMD_MFR_INFO:
		identity(&pl.mfr);
		rc = rig_pylon_mfr_encode(r, &pl.mfr);
		break;
	case PYLON_CMD_MGMT: {
		const struct bms *self = u->bms;

		rc = cmd_mgmt(&self, 1, 1, value, r);
		break;
	}
	case PYLON_CMD_SERIAL:
		pl.serial.command_value = value;
		module_serial(u->bms, u->index, pl.serial.serial);
		rc = rig_pylon_serial_encode(r, &pl.serial);
		break;
	case PYLON_CMD_SYS_BASIC:  rc = cmd_sys_basic(u, r); break;
	case PYLON_CMD_SYS_ANALOG: rc = cmd_sys_analog(u, r); break;
	case PYLON_CMD_SYS_ALARM:  rc = cmd_sys_alarm(u, r); break;
	case PYLON_CMD_SYS_MGMT: {
		const struct bms *mods[PYLON_MODULES_MAX];
		unsigned n = modules(u, mods);

		rc = cmd_mgmt(mods, n, 0, 0, r);
		break;
	}
	default:
		r->cid2 = PYLON_RTN_CID2;
		return 1;
	}
	if (rc != RIG_OK) {
		rig_pylon_response(r, me, PYLON_RTN_INTERNAL);
		return 1;
	}
	if (u->q.rtn_echo && req->cid2 >= PYLON_CMD_SYS_ANALOG && req->cid2 <= PYLON_CMD_SYS_MGMT) {
		r->cid2 = req->cid2;
		r->adr = PYLON_ADR_DEFAULT;
	}
	return 1;
}

/* ---- the generic personality table ---------------------------------------------------- */

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct pylon_unit *u = state;

	memset(u, 0, sizeof *u);
	u->bms = bms;
	u->address = address;
	u->q.latency_ms = 50;
	/* A request is 20 characters: a pause longer than this mid-frame is a new start. */
	rig_pylon_rx_init(&u->rx, 500);
	return RIG_OK;
}

static void unit_peers(void *state, const struct bms *const *peers, unsigned n)
{
	struct pylon_unit *u = state;
	unsigned i;

	u->n_peers = (uint8_t)(n > PYLON_MODULES_MAX ? PYLON_MODULES_MAX : n);
	for (i = 0; i < u->n_peers; i++)
		u->peer[i] = peers[i];
	for (i = 0; i < n; i++)
		if (peers[i] == u->bms)
			u->index = (uint8_t)i;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct pylon_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct pylon_quirks, alarm_trailer, "alarm_trailer", 0, 1),
	PERSONALITY_QUIRK(struct pylon_quirks, rtn_echo, "rtn_echo", 0, 1),
};
static const struct personality_quirks quirks = {
	.proto = "pylontech-rs485", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, alarm_trailer, rtn_echo",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	return personality_quirk_set(&quirks, &((struct pylon_unit *)state)->q, key, value, why, whycap);
}

static void send_frame(const struct pylon_unit *u, const struct reply_sink *sink, const struct pylon_frame *f,
                       unsigned parts)
{
	static uint8_t wire[PYLON_FRAME_MAX];
	size_t len;

	if (rig_pylon_frame_encode(f, wire, sizeof wire, &len) != RIG_OK)
		return;
	if (sink->frame)
		sink->frame(sink->ctx, PERS_TX, wire, len);
	sink->send(sink->ctx, wire, len, u->q.latency_ms, parts);
}

static void log_rx(const struct reply_sink *sink, const struct pylon_frame *f)
{
	static uint8_t wire[PYLON_FRAME_MAX];
	size_t n;

	if (sink->frame && rig_pylon_frame_encode(f, wire, sizeof wire, &n) == RIG_OK)
		sink->frame(sink->ctx, PERS_RX, wire, n);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct pylon_unit *u = state;
	static struct pylon_frame req, reply;

	while (n) {
		size_t used = rig_pylon_rx_feed(&u->rx, p, n, now_ms);
		rig_rc rc;

		p += used;
		n -= used;
		while ((rc = rig_pylon_rx_next(&u->rx, &req)) != RIG_MORE) {
			unsigned parts = 0;

			if (rc != RIG_OK) {
				/* A frame whose header read but whose checksum or LENGTH did not: the
				 * module it names says so (a real pack answers RTN 02 with no INFO). */
				if (req.adr == my_address(u)) {
					rig_pylon_response(&reply, req.adr,
					                   rc == RIG_ERR_CHECKSUM ? PYLON_RTN_CHKSUM : PYLON_RTN_LCHKSUM);
					send_frame(u, sink, &reply, 0);
				}
				continue;
			}
			log_rx(sink, &req);
			if (!answer(u, &req, &reply))
				continue;
			/* A one-module 0x42 carries this unit's pack, cells and temperatures. */
			if (reply.cid2 == PYLON_RTN_OK && req.cid2 == PYLON_CMD_ANALOG &&
			    !(req.info_len == 1 && req.info[0] == PYLON_ADR_ALL))
				parts = TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS;
			send_frame(u, sink, &reply, parts);
		}
	}
}

/* The runner's view of what crossed. A reply does not say which command it answers, so the
 * request's CID2 is kept in *ask; the analogue values, the alarms' protection bits and the
 * charge management each fill their part of the record. */
static int unit_inv_decode(uint32_t *ask, enum personality_dir dir, const uint8_t *wire, size_t n,
                           struct rig_inv_battery *rec)
{
	static struct pylon_frame f;
	static struct pylon_analog a;
	static struct pylon_alarm al;
	struct pylon_mgmt m;
	uint32_t prot = 0;
	unsigned i;

	if (rig_pylon_frame_parse(wire, n, &f) != RIG_OK)
		return 0;
	if (dir == PERS_RX) {
		*ask = rig_pylon_is_rtn(f.cid2) ? 0u : f.cid2;
		return 0;
	}
	if (f.cid2 != PYLON_RTN_OK)
		return 0;
	switch (*ask) {
	case PYLON_CMD_ANALOG:
		if (rig_pylon_analog_decode(&f, &a) != RIG_OK)
			return 0;
		rig_pylon_analog_to_inv(&a, rec);
		return 1;
	case PYLON_CMD_ALARM:
		if (rig_pylon_alarm_decode(&f, &al) != RIG_OK)
			return 0;
		for (i = 0; i < al.module_count && i < PYLON_MODULES_MAX; i++)
			prot |= rig_pylon_prot_from_status1(al.m[i].status[0]);
		rec->prot = prot;
		return 1;
	case PYLON_CMD_MGMT:
	case PYLON_CMD_SYS_MGMT:
		if (rig_pylon_mgmt_decode(&f, *ask == PYLON_CMD_MGMT, &m) != RIG_OK)
			return 0;
		rig_pylon_mgmt_to_inv(&m, rec);
		return 1;
	default:
		return 0;
	}
}

const struct personality_ops pylon_rs485_personality_ops = {
	.name = "pylontech-rs485",
	.baud = 9600u,        /* what inverters use; packs also speak 115200 (--baud) */
	/* current in 0.1 A; cells, pack and temperatures in mV and 0.1 K as measured */
	.resolution = { .pack_mV = 1.0, .current_mA = 100.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.peers = unit_peers,
	.wire_json = pylon_rs485_wire_json,
	.inv_decode = unit_inv_decode,
};
_Static_assert(sizeof(struct pylon_unit) <= PERSONALITY_STATE_MAX, "pylon_unit outgrew PERSONALITY_STATE_MAX");
