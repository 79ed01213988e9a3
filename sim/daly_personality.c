/* The Daly personality (daly_personality.h): requests in, codec-built replies out. */
#include "bmsrig/sim/daly_personality.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/daly_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The firmware index a 2022 board reports in 0x54 (diysolarforum 65439). */
static const char firmware_index[DALY_DATA_LEN] = { '2', '0', '2', '2', '0', '8', '1', '0' };

void daly_quirks_defaults(struct daly_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->latency_ms = 60;
	q->sleep_after_s = 3000;
	q->wake_on = DALY_WAKE_CURRENT;
	q->echo = 1;
	q->echo_ms = 3;
	q->zero_frames = 0;
	q->stale_reserved = 1;
	q->deadband_ma = 1000;
	q->current_inverted = 0;
	q->all_cell_frames = 0;
	/* A real board answers ceil(ntc/7) frames; the extra zero frame some captures show
	 * desynchronises clients that read exactly that many, so it is a quirk, off. */
	q->extra_temp_frame = 0;
	q->reset_ms = 3000;
}

rig_rc daly_personality_init(struct daly_personality *p, struct bms *b, const struct daly_quirks *q,
                             uint8_t board, const struct model *model)
{
	if (board > DALY_BOARDS_MAX)
		return RIG_ERR_ARG;
	memset(p, 0, sizeof *p);
	p->bms = b;
	p->model = model;
	p->board = board;
	if (q)
		p->q = *q;
	else
		daly_quirks_defaults(&p->q);
	b->sensor.current_deadband_mA = p->q.deadband_ma;
	return RIG_OK;
}

/* ---- what the BMS knows, in Daly terms ----------------------------------------------------- */

static int is_nmc(const struct bms *b)
{
	/* The cell OV limit tells the chemistry: 3650 mV LFP, 4250 mV NMC by default. */
	return b->set.cell_ovp_mV >= 4000;
}

/* A setting as a Daly u16 field carries it (saturated). */
static uint16_t u16_of(int32_t v)
{
	return v < 0 ? 0u : (v > 0xFFFF ? 0xFFFFu : (uint16_t)v);
}

static uint16_t soc_permille(const struct bms *b)
{
	uint32_t full = bms_full_mAh(b);
	double x = full ? b->remain_mAh * 1000.0 / full : 0.0;

	return (uint16_t)lround(x < 0.0 ? 0.0 : (x > 1000.0 ? 1000.0 : x));
}

/* What a one-byte degC + 40 field can carry. */
static uint16_t wire_dK(uint16_t dK)
{
	return dK < DALY_TEMP_OFFSET_DK ? DALY_TEMP_OFFSET_DK
	     : (dK > DALY_TEMP_OFFSET_DK + 2550u ? DALY_TEMP_OFFSET_DK + 2550u : dK);
}

static uint8_t reply_addr(const struct daly_personality *p)
{
	return p->board ? p->board : DALY_BMS_ADDR;
}

/* ---- building answers ---------------------------------------------------------------------- */

/* Reserved bytes: the bytes at the same place of the frame sent before (§2.4), or zero. */
static void leftover(const struct daly_personality *p, unsigned off, void *dst, size_t n)
{
	if (p->q.stale_reserved)
		memcpy(dst, p->last_data + off, n);
	else
		memset(dst, 0, n);
}

static uint16_t leftover_u16(const struct daly_personality *p, unsigned off)
{
	uint8_t v[2];

	leftover(p, off, v, 2);
	return (uint16_t)(v[0] << 8 | v[1]);
}

static void push(struct daly_personality *p, struct daly_answer *a, const struct daly_frame *f)
{
	if (a->count >= DALY_ANSWER_MAX)
		return;
	a->frame[a->count++] = *f;
	memcpy(p->last_data, f->data, DALY_DATA_LEN);
}

typedef void build_fn(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                      struct daly_answer *a);

static void build_pack(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                       struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct daly_pack v = { 0 };
	struct daly_frame f;
	int32_t i = p->q.current_inverted ? -b->meas.current_mA : b->meas.current_mA;

	(void)req;
	v.pack_mV = b->meas.pack_mV > 6553500u ? 6553500u : b->meas.pack_mV;
	v.gather_mV = 0;                  /* 0 in every capture */
	v.current_mA = i < -3000000 ? -3000000 : (i > 3553500 ? 3553500 : i);
	v.soc_permille = soc_permille(b);
	(void)rig_daly_pack_encode(&f, addr, &v);
	push(p, a, &f);
	a->truth_parts = TRUTH_PACK;
}

static void build_cell_range(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                             struct daly_answer *a)
{
	struct bms_view c;
	struct daly_cell_range r = { 0 };
	struct daly_frame f;
	unsigned i;

	(void)req;
	bms_view(p->bms, &c);
	r.min_cell_mV = 0xFFFFu;
	/* The first cell of a tie, 1-based. */
	for (i = 0; i < c.cell_count; i++) {
		if (c.cell_mV[i] > r.max_cell_mV || !r.max_cell_index) {
			r.max_cell_mV = c.cell_mV[i];
			r.max_cell_index = (uint8_t)(i + 1u);
		}
		if (c.cell_mV[i] < r.min_cell_mV) {
			r.min_cell_mV = c.cell_mV[i];
			r.min_cell_index = (uint8_t)(i + 1u);
		}
	}
	leftover(p, 6, r.reserved, 2);
	rig_daly_cell_range_encode(&f, addr, &r);
	push(p, a, &f);
}

static void build_temp_range(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                             struct daly_answer *a)
{
	struct bms_view v;
	struct daly_temp_range r = { 0 };
	struct daly_frame f;
	unsigned i;

	(void)req;
	bms_view(p->bms, &v);
	r.max_temp_dK = r.min_temp_dK = DALY_TEMP_OFFSET_DK;
	for (i = 0; i < v.probe_count; i++) {
		uint16_t t = wire_dK(v.probe_dK[i]);

		if (!r.max_temp_index || t > r.max_temp_dK) {
			r.max_temp_dK = t;
			r.max_temp_index = (uint8_t)(i + 1u);
		}
		if (!r.min_temp_index || t < r.min_temp_dK) {
			r.min_temp_dK = t;
			r.min_temp_index = (uint8_t)(i + 1u);
		}
	}
	leftover(p, 4, r.reserved, 4);
	(void)rig_daly_temp_range_encode(&f, addr, &r);
	push(p, a, &f);
}

static void build_mos(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                      struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct daly_mos m;
	struct daly_frame f;

	(void)req;
	/* The state is the BMS's own verdict from its true reading, whatever 0x90's sign does. */
	m.state = b->meas.current_mA > 0 ? DALY_STATE_CHARGING
	        : (b->meas.current_mA < 0 ? DALY_STATE_DISCHARGING : DALY_STATE_IDLE);
	m.chg_fet = (b->fet & BMS_FET_CHG) ? 1u : 0u;
	m.dsg_fet = (b->fet & BMS_FET_DSG) ? 1u : 0u;
	m.life = ++p->life;               /* the rolling "BMS life" byte */
	m.remain_mAh = bms_remain_mAh(b);
	rig_daly_mos_encode(&f, addr, &m);
	push(p, a, &f);
}

static void build_status(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                         struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct bms_view v;
	struct daly_status s = { 0 };
	struct daly_frame f;

	(void)req;
	bms_view(b, &v);
	s.cell_count = v.cell_count;
	s.ntc_count = v.probe_count;
	s.charger = b->meas.current_mA > 0;
	s.load = b->meas.current_mA < 0;
	s.dio = 0;                        /* bit 7 set crashes python-daly-bms (§3.5) */
	s.cycles = v.cycles;
	leftover(p, 7, &s.reserved, 1);
	rig_daly_status_encode(&f, addr, &s);
	push(p, a, &f);
}

static void build_cells(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                        struct daly_answer *a)
{
	struct bms_view c;
	uint8_t used, frames, k;
	unsigned i;

	bms_view(p->bms, &c);
	used = rig_daly_cell_frames_for(c.cell_count);
	/* Over the BLE dongle (host 0x80) the BMS sends every frame, the empty ones zero (§3.6). */
	frames = p->q.all_cell_frames && req->addr == DALY_HOST_BLE ? DALY_CELL_FRAMES_MAX : used;
	for (k = 1; k <= frames; k++) {
		struct daly_cell_frame cf;
		struct daly_frame f;

		cf.frame_no = k;
		for (i = 0; i < DALY_CELLS_PER_FRAME; i++) {
			unsigned slot = DALY_CELLS_PER_FRAME * (k - 1u) + i;

			/* Padding in the last frame in use repeats the frame before (cells 14/15 as
			 * "17/18" of a 16S capture); frames past it are zero. */
			cf.cell_mV[i] = slot < c.cell_count ? c.cell_mV[slot]
			              : (k <= used ? leftover_u16(p, 1u + 2u * i) : 0u);
		}
		leftover(p, 7, &cf.reserved, 1);
		rig_daly_cell_frame_encode(&f, addr, &cf);
		push(p, a, &f);
	}
	a->truth_parts = TRUTH_CELLS;
}

static void build_temps(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                        struct daly_answer *a)
{
	struct bms_view v;
	uint8_t frames, k;
	unsigned i;

	(void)req;
	bms_view(p->bms, &v);
	frames = (uint8_t)(rig_daly_temp_frames_for(v.probe_count) + (p->q.extra_temp_frame ? 1u : 0u));
	if (frames > DALY_TEMP_FRAMES_MAX)
		frames = DALY_TEMP_FRAMES_MAX;
	for (k = 1; k <= frames; k++) {
		struct daly_temp_frame tf;
		struct daly_frame f;

		tf.frame_no = k;
		for (i = 0; i < DALY_TEMPS_PER_FRAME; i++) {
			unsigned slot = DALY_TEMPS_PER_FRAME * (k - 1u) + i;

			tf.temp_dK[i] = slot < v.probe_count ? wire_dK(v.probe_dK[slot]) : DALY_TEMP_OFFSET_DK;
		}
		(void)rig_daly_temp_frame_encode(&f, addr, &tf);
		push(p, a, &f);
	}
	a->truth_parts = TRUTH_TEMPS;
}

static void build_balance(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                          struct daly_answer *a)
{
	struct bms_view view;
	struct daly_balance v = { 0 };
	struct daly_frame f;

	(void)req;
	bms_view(p->bms, &view);
	v.bal_lo = view.bal_mask;
	leftover(p, 6, v.reserved, 2);
	rig_daly_balance_encode(&f, addr, &v);
	push(p, a, &f);
}

static void build_faults(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                         struct daly_answer *a)
{
	struct daly_faults x;
	struct daly_frame f;

	(void)req;
	rig_daly_faults_from_pack_prot(&x, p->bms->prot_bits);
	rig_daly_faults_encode(&f, addr, &x);
	push(p, a, &f);
}

static void build_d8(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                     struct daly_answer *a)
{
	struct daly_raw r = { { 0 } };
	struct daly_frame f;

	rig_daly_raw_encode(&f, addr, req->cmd, &r);
	push(p, a, &f);
}

static void build_fet(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                      struct daly_answer *a)
{
	struct bms *b = p->bms;
	struct daly_flag v;
	struct daly_frame f;
	uint8_t off_bit = req->cmd == DALY_CMD_CHG_FET ? BMS_INHIBIT_CHG : BMS_INHIBIT_DSG;

	(void)rig_daly_flag_decode(req, &v);
	/* Only 0 and 1 mean something; anything else changes nothing but is still echoed. */
	if (v.value <= 1u)
		(void)bms_allow_fet(b, off_bit, v.value == 1u);
	leftover(p, 1, v.reserved, sizeof v.reserved);
	rig_daly_flag_encode(&f, addr, req->cmd, &v);
	push(p, a, &f);
}

static void build_soc_set(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                          struct daly_answer *a)
{
	struct daly_soc_set s;
	struct daly_flag v;
	struct daly_frame f;

	/* The RTC part (d0..d5) is accepted and forgotten: the emulator keeps no clock. */
	(void)rig_daly_soc_set_decode(req, &s);
	v.value = s.soc_permille <= DALY_SOC_PERMILLE_MAX;
	if (v.value)
		bms_set_remain_mAh(p->bms, (uint32_t)lround(bms_full_mAh(p->bms) * (s.soc_permille / 1000.0)));
	leftover(p, 1, v.reserved, sizeof v.reserved);
	rig_daly_flag_encode(&f, addr, DALY_CMD_SOC_SET, &v);
	push(p, a, &f);
}

/* ---- settings: JBD-form registers in Daly layouts ------------------------------------------ */

static void build_rated(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                        struct daly_answer *a)
{
	struct daly_rated r;
	struct daly_frame f;

	(void)req;
	r.rated_mAh = bms_full_mAh(p->bms);
	r.nominal_cell_mV = is_nmc(p->bms) ? 3700u : 3200u;
	rig_daly_rated_encode(&f, addr, &r);
	push(p, a, &f);
}

static void build_layout(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                         struct daly_answer *a)
{
	struct bms_view v;
	struct daly_layout l = { 0 };
	struct daly_frame f;

	(void)req;
	bms_view(p->bms, &v);
	l.boards = 1;                     /* everything on one acquisition board */
	l.cells[0] = v.cell_count;
	l.ntc[0] = v.probe_count;
	leftover(p, 7, &l.reserved, 1);
	rig_daly_layout_encode(&f, addr, &l);
	push(p, a, &f);
}

static void build_totals(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                         struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct daly_totals t;
	struct daly_frame f;
	/* The BMS counts discharge per cycle (0x17 x 0x11) plus progress; it keeps no separate
	 * charge total, and in the long run charge in equals charge out. */
	double dsg_mAh = (double)b->set.cycles * b->set.cycle_capacity_mAh + b->cycle_progress_mAh;

	(void)req;
	t.discharge_Ah = (uint32_t)lround(dsg_mAh / 1000.0);
	t.charge_Ah = t.discharge_Ah;
	rig_daly_totals_encode(&f, addr, &t);
	push(p, a, &f);
}

static void build_info(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                       struct daly_answer *a)
{
	struct daly_info i;
	struct daly_frame f;
	unsigned y, m, d;

	(void)req;
	y = (unsigned)p->bms->set.mfg_year;
	m = (unsigned)p->bms->set.mfg_month;
	d = (unsigned)p->bms->set.mfg_day;
	i.battery_type = is_nmc(p->bms) ? 1u : 0u;
	i.unknown1 = 1;                   /* as the one capture (65439) */
	i.year = (uint16_t)(y > 2255u ? 2255u : y);
	i.month = (uint8_t)m;
	i.day = (uint8_t)d;
	i.sleep_s = p->q.sleep_after_s ? (uint16_t)p->q.sleep_after_s : 0xFFFFu;
	leftover(p, 7, &i.reserved, 1);
	(void)rig_daly_info_encode(&f, addr, &i);
	push(p, a, &f);
}

static void build_firmware(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                           struct daly_answer *a)
{
	struct daly_text8 t;
	struct daly_frame f;

	(void)req;
	memcpy(t.text, firmware_index, sizeof t.text);
	rig_daly_text8_encode(&f, addr, &t);
	push(p, a, &f);
}

static void build_code(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                       struct daly_answer *a)
{
	struct bms_string code;
	uint8_t k;

	(void)req;
	/* The battery code is the barcode string, NUL-padded to 35 characters. */
	(void)bms_string_get(p->bms, BMS_TEXT_BARCODE, &code);
	for (k = 1; k <= DALY_CODE_FRAMES; k++) {
		struct daly_code_frame cf;
		struct daly_frame f;
		unsigned i;

		cf.frame_no = k;
		for (i = 0; i < DALY_CODE_PER_FRAME; i++) {
			unsigned at = DALY_CODE_PER_FRAME * (k - 1u) + i;

			cf.text[i] = at < code.len ? (uint8_t)code.text[at] : 0u;
		}
		rig_daly_code_frame_encode(&f, addr, &cf);
		push(p, a, &f);
	}
}

/* Daly's level 1 is an alarm before the level-2 protection; JBD has no alarm threshold, and
 * its release value, on the same side of normal, stands in for it. */
static void build_cell_limits(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                              struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct daly_cell_limits l = { u16_of(b->set.cell_ovp_release_mV), u16_of(b->set.cell_ovp_mV),
	                              u16_of(b->set.cell_uvp_release_mV), u16_of(b->set.cell_uvp_mV) };
	struct daly_frame f;

	(void)req;
	rig_daly_cell_limits_encode(&f, addr, &l);
	push(p, a, &f);
}

static void build_pack_limits(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                              struct daly_answer *a)
{
	const struct bms *b = p->bms;
	struct daly_pack_limits l = {
		(uint32_t)b->set.pack_ovp_release_mV, (uint32_t)b->set.pack_ovp_mV,
		(uint32_t)b->set.pack_uvp_release_mV, (uint32_t)b->set.pack_uvp_mV
	};
	struct daly_frame f;

	(void)req;
	(void)rig_daly_pack_limits_encode(&f, addr, &l);
	push(p, a, &f);
}

/* Daly's wire has charge currents negative and discharge positive. The BMS's OC release is
 * timed, not a threshold, so level 1 = level 2. */
static void build_current_limits(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                                 struct daly_answer *a)
{
	const struct bms *b = p->bms;
	int32_t chg_mA = b->set.chg_oc_mA, dsg_mA = b->set.dsg_oc_mA;
	struct daly_current_limits l = { dsg_mA, dsg_mA, -chg_mA, -chg_mA };
	struct daly_frame f;

	(void)req;
	(void)rig_daly_current_limits_encode(&f, addr, &l);
	push(p, a, &f);
}

static void build_balance_cfg(struct daly_personality *p, const struct daly_frame *req, uint8_t addr,
                              struct daly_answer *a)
{
	struct daly_balance_cfg c;
	struct daly_frame f;

	(void)req;
	c.start_mV = u16_of(p->bms->set.balance_start_mV);
	c.delta_mV = u16_of(p->bms->set.balance_delta_mV);
	leftover(p, 4, c.reserved, 4);
	rig_daly_balance_cfg_encode(&f, addr, &c);
	push(p, a, &f);
}

struct builder {
	uint8_t cmd;
	build_fn *build;
};

static const struct builder builders[] = {
	{ DALY_CMD_PACK, build_pack }, { DALY_CMD_CELL_RANGE, build_cell_range },
	{ DALY_CMD_TEMP_RANGE, build_temp_range }, { DALY_CMD_MOS, build_mos },
	{ DALY_CMD_STATUS, build_status }, { DALY_CMD_CELLS, build_cells },
	{ DALY_CMD_TEMPS, build_temps }, { DALY_CMD_BALANCE, build_balance },
	{ DALY_CMD_FAULTS, build_faults }, { DALY_CMD_D8, build_d8 },
	{ DALY_CMD_DSG_FET, build_fet }, { DALY_CMD_CHG_FET, build_fet },
	{ DALY_CMD_SOC_SET, build_soc_set },
	{ DALY_CMD_RATED, build_rated }, { DALY_CMD_LAYOUT, build_layout },
	{ DALY_CMD_TOTALS, build_totals }, { DALY_CMD_INFO, build_info },
	{ DALY_CMD_FIRMWARE, build_firmware }, { DALY_CMD_CODE, build_code },
	{ DALY_CMD_CELL_LIMITS, build_cell_limits }, { DALY_CMD_PACK_LIMITS, build_pack_limits },
	{ DALY_CMD_CURRENT_LIMITS, build_current_limits }, { DALY_CMD_BALANCE_CFG, build_balance_cfg },
};

static build_fn *builder_for(uint8_t cmd)
{
	for (size_t i = 0; i < N_OF(builders); i++)
		if (builders[i].cmd == cmd)
			return builders[i].build;
	return NULL;
}

/* ---- requests in ------------------------------------------------------------------------- */

static int addressed(const struct daly_personality *p, uint8_t addr)
{
	if (p->board)
		return addr == rig_daly_host_for_board(p->board);
	return addr == DALY_HOST_UART || addr == DALY_HOST_BLE;
}

void daly_personality_tick(struct daly_personality *p, uint32_t now_ms)
{
	if (!p->clock_started) {
		p->clock_started = 1;
		p->active_ms = now_ms;
	}
	/* The measured current is already 0 inside the dead band. */
	if (p->bms->meas.current_mA != 0) {
		p->active_ms = now_ms;
		if (p->asleep && p->q.wake_on != DALY_WAKE_NONE)
			p->asleep = 0;
	}
	if (!p->asleep && p->q.sleep_after_s &&
	    (uint32_t)(now_ms - p->active_ms) >= p->q.sleep_after_s * 1000u)
		p->asleep = 1;
}

static void answer_asleep(struct daly_personality *p, const struct daly_frame *req, struct daly_answer *out)
{
	if (p->q.echo) {
		out->kind = DALY_ANSWER_ECHO;
		out->count = 1;
		out->frame[0] = *req;
		out->delay_ms = p->q.echo_ms;
		p->echoed++;
	} else if (p->q.zero_frames) {
		struct daly_raw zero = { { 0 } };
		struct daly_frame f;

		rig_daly_raw_encode(&f, reply_addr(p), req->cmd, &zero);
		push(p, out, &f);
		out->kind = DALY_ANSWER_FRAMES;
		out->delay_ms = p->q.latency_ms;
		p->zeroed++;
	}
}

void daly_personality_handle(struct daly_personality *p, const struct daly_frame *req,
                             uint32_t now_ms, struct daly_answer *out)
{
	build_fn *build;

	memset(out, 0, offsetof(struct daly_answer, frame));
	/* Replies of other boards on the bus, and requests for them, are not ours. */
	if (!rig_daly_frame_is_request(req) || !addressed(p, req->addr))
		return;
	p->requests++;
	daly_personality_tick(p, now_ms);
	if (p->rebooting && (int32_t)(now_ms - p->silent_until_ms) < 0) {
		p->ignored++;
		return;
	}
	p->rebooting = 0;
	if (p->asleep) {
		/* The request that wakes the board still meets the sleeping board. */
		if (p->q.wake_on == DALY_WAKE_ANY) {
			p->asleep = 0;
			p->active_ms = now_ms;
		}
		answer_asleep(p, req, out);
		return;
	}
	if (p->q.wake_on == DALY_WAKE_ANY)
		p->active_ms = now_ms;
	if (req->cmd == DALY_CMD_RESET) {
		/* A rebooting board answers nothing (§9.4). */
		p->resets++;
		bms_restart(p->bms, p->model);
		p->rebooting = 1;
		p->silent_until_ms = now_ms + p->q.reset_ms;
		p->active_ms = now_ms;
		return;
	}
	build = builder_for(req->cmd);
	if (!build) {
		p->ignored++;
		return;
	}
	build(p, req, reply_addr(p), out);
	out->kind = DALY_ANSWER_FRAMES;
	out->delay_ms = p->q.latency_ms;
}

/* ---- quirks -------------------------------------------------------------------------------- */

static const struct personality_quirk quirk_nums[] = {
	PERSONALITY_QUIRK(struct daly_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct daly_quirks, sleep_after_s, "sleep_after_s", 0, 65534),   /* 0xFFFF = never */
	PERSONALITY_QUIRK(struct daly_quirks, echo, "echo", 0, 1),
	PERSONALITY_QUIRK(struct daly_quirks, echo_ms, "echo_ms", 0, 1000),
	PERSONALITY_QUIRK(struct daly_quirks, zero_frames, "zero_frames", 0, 1),
	PERSONALITY_QUIRK(struct daly_quirks, stale_reserved, "stale_reserved", 0, 1),
	PERSONALITY_QUIRK(struct daly_quirks, deadband_ma, "deadband_ma", 0, 100000),
	PERSONALITY_QUIRK(struct daly_quirks, all_cell_frames, "all_cell_frames", 0, 1),
	PERSONALITY_QUIRK(struct daly_quirks, extra_temp_frame, "extra_temp_frame", 0, 1),
	PERSONALITY_QUIRK(struct daly_quirks, reset_ms, "reset_ms", 0, 60000),
};
static const struct personality_quirks quirks = {
	.proto = "daly", .rows = quirk_nums, .n = N_OF(quirk_nums),
	.all_keys = "latency_ms, sleep_after_s, wake_on, echo, echo_ms, zero_frames, stale_reserved, "
	            "deadband_ma, current_sign, all_cell_frames, extra_temp_frame, reset_ms, asleep",
};

struct quirk_word {
	const char *key;
	const char *words[3];          /* value i is words[i] */
	size_t off;
};
static const struct quirk_word quirk_words[] = {
	{ "wake_on", { "any", "current", "none" }, offsetof(struct daly_quirks, wake_on) },
	{ "current_sign", { "normal", "inverted", NULL }, offsetof(struct daly_quirks, current_inverted) },
};

rig_rc daly_personality_set_quirk(struct daly_personality *p, const char *key, const char *value,
                                  char *why, size_t whycap)
{
	rig_rc rc;

	for (size_t i = 0; i < N_OF(quirk_words); i++) {
		const struct quirk_word *w = &quirk_words[i];

		if (strcmp(key, w->key))
			continue;
		for (size_t k = 0; k < N_OF(w->words) && w->words[k]; k++)
			if (!strcmp(value, w->words[k])) {
				*(uint32_t *)((char *)&p->q + w->off) = (uint32_t)k;
				return RIG_OK;
			}
		snprintf(why, whycap, "%s: expected %s|%s%s%s, got \"%s\"", key, w->words[0], w->words[1],
		         w->words[2] ? "|" : "", w->words[2] ? w->words[2] : "", value);
		return RIG_ERR_ARG;
	}
	/* The wake pin, or a nudge to sleep now: state, not a setting. */
	if (!strcmp(key, "asleep")) {
		if (personality_quirk_u8(key, value, 0, 1, &p->asleep, why, whycap) != RIG_OK)
			return RIG_ERR_ARG;
		p->clock_started = 0;              /* the idle time starts again at the next tick */
		return RIG_OK;
	}
	rc = personality_quirk_set(&quirks, &p->q, key, value, why, whycap);
	p->bms->sensor.current_deadband_mA = p->q.deadband_ma;
	return rc;
}

/* ---- the generic personality table ------------------------------------------------------ */

/* The protocol state the emulator holds: the personality plus its receive assembler. */
struct daly_unit {
	struct daly_personality p;
	struct daly_rx rx;
};

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct daly_unit *u = state;

	rig_daly_rx_init(&u->rx, 200);
	return daly_personality_init(&u->p, bms, NULL, address, NULL);
}

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	return daly_personality_set_quirk(&((struct daly_unit *)state)->p, key, value, why, whycap);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct daly_unit *u = state;
	struct daly_frame req;
	struct daly_answer a;
	uint8_t wire[DALY_FRAME_LEN];
	size_t len;

	while (n) {
		size_t used = rig_daly_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_daly_rx_next(&u->rx, &req) == RIG_OK) {
			if (sink->frame && rig_daly_frame_encode(&req, wire, sizeof wire, &len) == RIG_OK)
				sink->frame(sink->ctx, PERS_RX, wire, len);
			daly_personality_handle(&u->p, &req, now_ms, &a);
			for (unsigned k = 0; k < a.count; k++) {
				if (rig_daly_frame_encode(&a.frame[k], wire, sizeof wire, &len) != RIG_OK)
					continue;
				if (sink->frame)
					sink->frame(sink->ctx, PERS_TX, wire, len);
				/* Back to back, and the truth goes with the answer's last frame. */
				sink->send(sink->ctx, wire, len, a.delay_ms + k * DALY_FRAME_WIRE_MS,
				           k + 1u == a.count ? a.truth_parts : 0u);
			}
		}
	}
}

static void unit_tick(void *state, uint32_t now_ms, const struct reply_sink *sink)
{
	(void)sink;
	daly_personality_tick(&((struct daly_unit *)state)->p, now_ms);
}

const struct personality_ops daly_personality_ops = {
	.name = "daly",
	.baud = 9600u,
	.resolution = { .pack_mV = 100.0, .current_mA = 100.0, .temp_dK = 10.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.tick = unit_tick,
	.wire_json = daly_wire_json,
};

_Static_assert(sizeof(struct daly_unit) <= PERSONALITY_STATE_MAX, "daly_unit outgrew PERSONALITY_STATE_MAX");
