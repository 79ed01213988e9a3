/* Pylontech low-voltage RS485 codec (include/bmsrig/core/pylon_rs485.h,
 * docs/protocols/pylontech-rs485.md). */
#include <string.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/core/pylon_rs485.h"
#include "intmath.h"

static const char hexdig[] = "0123456789ABCDEF";

/* n hex characters at p as a number; -1 when one is not hex. */
static int32_t hexnum(const uint8_t *p, unsigned n)
{
	int32_t v = 0;

	while (n--) {
		int d = rig_hex_digit(*p++);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static void puthex(uint8_t *p, uint32_t v, unsigned n)
{
	while (n--) {
		p[n] = (uint8_t)hexdig[v & 0xFu];
		v >>= 4;
	}
}

uint16_t rig_pylon_checksum(const uint8_t *p, size_t n)
{
	uint16_t s = 0;

	/* Negating the running sum in uint16_t is "sum mod 65536, inverted, plus one". */
	while (n--)
		s = (uint16_t)(s - *p++);
	return s;
}

uint16_t rig_pylon_length_field(uint16_t lenid)
{
	unsigned sum = (lenid & 0xFu) + (lenid >> 4 & 0xFu) + (lenid >> 8 & 0xFu);

	lenid &= 0x0FFFu;
	return (uint16_t)(((0u - sum) & 0xFu) << 12 | lenid);
}

int rig_pylon_is_rtn(uint8_t cid2)
{
	return cid2 <= PYLON_RTN_DATA || cid2 == PYLON_RTN_ADR || cid2 == PYLON_RTN_INTERNAL;
}

/* ---- framing --------------------------------------------------------------------------- */

rig_rc rig_pylon_frame_encode(const struct pylon_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total, i;
	uint16_t lenid;

	if (f->info_len > PYLON_INFO_MAX)
		return RIG_ERR_ARG;
	lenid = (uint16_t)(2u * f->info_len);
	total = PYLON_OVERHEAD + lenid;
	if (cap < total)
		return RIG_ERR_SPACE;
	out[0] = PYLON_SOI;
	puthex(out + 1, f->ver, 2);
	puthex(out + 3, f->adr, 2);
	puthex(out + 5, f->cid1, 2);
	puthex(out + 7, f->cid2, 2);
	puthex(out + 9, rig_pylon_length_field(lenid), 4);
	for (i = 0; i < f->info_len; i++)
		puthex(out + 13 + 2 * i, f->info[i], 2);
	puthex(out + 13 + lenid, rig_pylon_checksum(out + 1, 12u + lenid), 4);
	out[total - 1] = PYLON_EOI;
	*out_len = total;
	return RIG_OK;
}

rig_rc rig_pylon_frame_parse(const uint8_t *w, size_t n, struct pylon_frame *f)
{
	int32_t ver, adr, cid1, cid2, length, sum;
	uint16_t lenid, i;

	/* Too short to hold a header: a frame error, so RIG_ERR_LENGTH always comes with one. */
	if (n < PYLON_OVERHEAD)
		return RIG_ERR_FRAME;
	if (w[0] != PYLON_SOI || w[n - 1] != PYLON_EOI)
		return RIG_ERR_FRAME;
	ver = hexnum(w + 1, 2);
	adr = hexnum(w + 3, 2);
	cid1 = hexnum(w + 5, 2);
	cid2 = hexnum(w + 7, 2);
	length = hexnum(w + 9, 4);
	if (ver < 0 || adr < 0 || cid1 < 0 || cid2 < 0 || length < 0)
		return RIG_ERR_FRAME;
	f->ver = (uint8_t)ver;
	f->adr = (uint8_t)adr;
	f->cid1 = (uint8_t)cid1;
	f->cid2 = (uint8_t)cid2;
	f->info_len = 0;
	lenid = (uint16_t)(length & 0x0FFF);
	/* The header is known from here on: a length or checksum error still says whom to answer. */
	if (rig_pylon_length_field(lenid) != (uint16_t)length || (lenid & 1u) ||
	    n != PYLON_OVERHEAD + (size_t)lenid || lenid > 2u * PYLON_INFO_MAX)
		return RIG_ERR_LENGTH;
	sum = hexnum(w + 13 + lenid, 4);
	for (i = 0; i < lenid; i++)
		if (rig_hex_digit(w[13 + i]) < 0)
			return RIG_ERR_FRAME;
	if (sum < 0)
		return RIG_ERR_FRAME;
	if ((uint16_t)sum != rig_pylon_checksum(w + 1, 12u + lenid))
		return RIG_ERR_CHECKSUM;
	f->info_len = (uint16_t)(lenid / 2u);
	for (i = 0; i < f->info_len; i++)
		f->info[i] = (uint8_t)hexnum(w + 13 + 2 * i, 2);
	return RIG_OK;
}

/* ---- receive assembler ----------------------------------------------------------------- */

void rig_pylon_rx_init(struct pylon_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_pylon_rx_feed(struct pylon_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

rig_rc rig_pylon_rx_next(struct pylon_rx *rx, struct pylon_frame *f)
{
	for (;;) {
		uint16_t start = 0, end;
		rig_rc rc;

		while (start < rx->b.have && rx->buf[start] != PYLON_SOI)
			start++;
		rig_rxbuf_skip(&rx->b, rx->buf, start);
		if (rx->b.have == 0)
			return RIG_MORE;
		/* The frame ends at the first CR: INFO is hex, so no CR can hide inside it. A second
		 * SOI before it means the first frame was cut short. */
		for (end = 1; end < rx->b.have; end++)
			if (rx->buf[end] == PYLON_EOI || rx->buf[end] == PYLON_SOI)
				break;
		if (end == rx->b.have) {
			if (rx->b.have < sizeof rx->buf)
				return RIG_MORE;
			rig_rxbuf_reject(&rx->b, rx->buf);     /* longer than any frame we hold */
			continue;
		}
		if (rx->buf[end] == PYLON_SOI) {
			rx->b.rejected_frames++;
			rig_rxbuf_skip(&rx->b, rx->buf, end);
			continue;
		}
		rc = rig_pylon_frame_parse(rx->buf, (size_t)end + 1u, f);
		if (rc == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)(end + 1u));
			return RIG_OK;
		}
		rx->b.rejected_frames++;
		rig_rxbuf_skip(&rx->b, rx->buf, (uint16_t)(end + 1u));
		if (rc == RIG_ERR_CHECKSUM || rc == RIG_ERR_LENGTH)
			return rc;
	}
}

/* ---- requests and heads ---------------------------------------------------------------- */

static void head(struct pylon_frame *f, uint8_t adr, uint8_t cid2)
{
	f->ver = PYLON_VER;
	f->adr = adr;
	f->cid1 = PYLON_CID1;
	f->cid2 = cid2;
	f->info_len = 0;
}

void rig_pylon_request(struct pylon_frame *f, uint8_t adr, uint8_t cid2, int with_value, uint8_t value)
{
	head(f, adr, cid2);
	if (with_value) {
		f->info[0] = value;
		f->info_len = 1;
	}
}

void rig_pylon_response(struct pylon_frame *f, uint8_t adr, uint8_t rtn)
{
	head(f, adr, rtn);
}

/* ---- payload cursors: every read is bounds-checked once, by the cursor ------------------- */

struct rd { const uint8_t *p; uint16_t n, at; int bad; };
struct wr { uint8_t *p; uint16_t at; int bad; };

static uint32_t rd_n(struct rd *r, unsigned bytes)
{
	uint32_t v = 0;

	if (r->bad || (unsigned)(r->n - r->at) < bytes) {
		r->bad = 1;
		return 0;
	}
	while (bytes--)
		v = v << 8 | r->p[r->at++];
	return v;
}
static uint8_t rd8(struct rd *r) { return (uint8_t)rd_n(r, 1); }
static uint16_t rd16(struct rd *r) { return (uint16_t)rd_n(r, 2); }
static int16_t rds16(struct rd *r) { return (int16_t)rd16(r); }
static uint16_t rd_left(const struct rd *r) { return (uint16_t)(r->n - r->at); }

static void wr_n(struct wr *w, uint32_t v, unsigned bytes)
{
	if (w->bad || PYLON_INFO_MAX - w->at < bytes) {
		w->bad = 1;
		return;
	}
	while (bytes--)
		w->p[w->at++] = (uint8_t)(v >> (8u * bytes));
}
static void wr8(struct wr *w, uint32_t v) { wr_n(w, v, 1); }
static void wr16(struct wr *w, uint32_t v) { wr_n(w, v, 2); }

static void rd_begin(struct rd *r, const struct pylon_frame *f)
{
	r->p = f->info;
	r->n = f->info_len > PYLON_INFO_MAX ? (uint16_t)PYLON_INFO_MAX : f->info_len;
	r->at = 0;
	r->bad = 0;
}
static void wr_begin(struct wr *w, struct pylon_frame *f)
{
	w->p = f->info;
	w->at = 0;
	w->bad = 0;
}
static rig_rc wr_end(struct wr *w, struct pylon_frame *f)
{
	if (w->bad)
		return RIG_ERR_SPACE;
	f->info_len = w->at;
	return RIG_OK;
}
static rig_rc rd_end(const struct rd *r)
{
	return r->bad || r->at != r->n ? RIG_ERR_LENGTH : RIG_OK;
}

/* 0.1 A on the wire <-> mA; 10 mA for 0x61. Division by 100 as two exact divisions by 10,
 * rounded once (the lx106 has no divider). */
static int32_t deci_A_to_mA(int16_t v) { return (int32_t)v * 100; }
static int16_t mA_to_deci_A(int32_t mA)
{
	uint32_t m = mA < 0 ? 0u - (uint32_t)mA : (uint32_t)mA;
	uint32_t q = u32_div10(u32_div10(m + 50u));

	if (q > (mA < 0 ? 32768u : 32767u))
		q = mA < 0 ? 32768u : 32767u;
	return (int16_t)(mA < 0 ? -(int32_t)q : (int32_t)q);
}
static int16_t mA_to_centi_A(int32_t mA)
{
	int32_t q = i32_div10_round(mA);

	return (int16_t)(q > 32767 ? 32767 : q < -32768 ? -32768 : q);
}
static uint16_t clamp16(uint32_t v) { return (uint16_t)(v > 0xFFFFu ? 0xFFFFu : v); }

/* ---- 0x42 analogue values ------------------------------------------------------------- */

static void module_read(struct rd *r, struct pylon_module *m)
{
	unsigned i;

	m->cell_count = rd8(r);
	if (m->cell_count > PYLON_CELLS_MAX)
		r->bad = 1;
	for (i = 0; !r->bad && i < m->cell_count; i++)
		m->cell_mV[i] = rd16(r);
	m->temp_count = rd8(r);
	if (m->temp_count > PYLON_TEMPS_MAX)
		r->bad = 1;
	for (i = 0; !r->bad && i < m->temp_count; i++)
		m->temp_dK[i] = rd16(r);
	m->current_mA = deci_A_to_mA(rds16(r));
	m->pack_mV = rd16(r);
	m->remain_mAh = rd16(r);
	m->user_defined = rd8(r);
	m->full_mAh = rd16(r);
	m->cycles = rd16(r);
	m->remain16_mAh = (uint16_t)m->remain_mAh;
	m->full16_mAh = (uint16_t)m->full_mAh;
	if (m->user_defined == 4) {
		/* Packs over 65 Ah send FFFF in the u16 fields and the real values as u24 here. */
		m->remain_mAh = rd_n(r, 3);
		m->full_mAh = rd_n(r, 3);
	} else if (m->user_defined != 2) {
		r->bad = 1;
	}
}

rig_rc rig_pylon_analog_decode(const struct pylon_frame *f, struct pylon_analog *a)
{
	struct rd r;

	rd_begin(&r, f);
	a->dataflag = rd8(&r);
	a->command_value = rd8(&r);
	a->module_count = 0;
	/* A single-module answer carries the address where an all-modules answer carries the
	 * count, so the modules are counted as they come until INFO ends. */
	while (!r.bad && rd_left(&r) > 0) {
		if (a->module_count >= PYLON_MODULES_MAX)
			return RIG_ERR_LENGTH;
		module_read(&r, &a->m[a->module_count++]);
	}
	if (a->module_count == 0)
		return RIG_ERR_LENGTH;
	return rd_end(&r);
}

rig_rc rig_pylon_analog_encode(struct pylon_frame *f, const struct pylon_analog *a)
{
	struct wr w;
	unsigned i, k;

	if (a->module_count == 0 || a->module_count > PYLON_MODULES_MAX)
		return RIG_ERR_ARG;
	wr_begin(&w, f);
	wr8(&w, a->dataflag);
	wr8(&w, a->command_value);
	for (k = 0; k < a->module_count; k++) {
		const struct pylon_module *m = &a->m[k];
		int big = m->user_defined == 4;

		if (m->cell_count > PYLON_CELLS_MAX || m->temp_count > PYLON_TEMPS_MAX ||
		    (m->user_defined != 2 && !big))
			return RIG_ERR_ARG;
		wr8(&w, m->cell_count);
		for (i = 0; i < m->cell_count; i++)
			wr16(&w, m->cell_mV[i]);
		wr8(&w, m->temp_count);
		for (i = 0; i < m->temp_count; i++)
			wr16(&w, m->temp_dK[i]);
		wr16(&w, (uint16_t)mA_to_deci_A(m->current_mA));
		wr16(&w, clamp16(m->pack_mV));
		wr16(&w, big ? m->remain16_mAh : clamp16(m->remain_mAh));
		wr8(&w, m->user_defined);
		wr16(&w, big ? m->full16_mAh : clamp16(m->full_mAh));
		wr16(&w, m->cycles);
		if (big) {
			wr_n(&w, m->remain_mAh > 0xFFFFFFu ? 0xFFFFFFu : m->remain_mAh, 3);
			wr_n(&w, m->full_mAh > 0xFFFFFFu ? 0xFFFFFFu : m->full_mAh, 3);
		}
	}
	return wr_end(&w, f);
}

/* ---- 0x44 alarm info ------------------------------------------------------------------ */

#define ALARM_MODULE_MIN 10u   /* M, N, 3 states, 5 status bytes: the least a module can be */

rig_rc rig_pylon_alarm_decode(const struct pylon_frame *f, struct pylon_alarm *a)
{
	struct rd r;
	unsigned i;

	rd_begin(&r, f);
	a->dataflag = rd8(&r);
	a->command_value = rd8(&r);
	a->module_count = 0;
	a->trailer_len = 0;
	while (!r.bad && rd_left(&r) >= ALARM_MODULE_MIN) {
		struct pylon_alarm_module *m;

		if (a->module_count >= PYLON_MODULES_MAX)
			return RIG_ERR_LENGTH;
		m = &a->m[a->module_count++];
		m->cell_count = rd8(&r);
		if (m->cell_count > PYLON_CELLS_MAX)
			return RIG_ERR_LENGTH;
		for (i = 0; i < m->cell_count; i++)
			m->cell_state[i] = rd8(&r);
		m->temp_count = rd8(&r);
		if (m->temp_count > PYLON_TEMPS_MAX)
			return RIG_ERR_LENGTH;
		for (i = 0; i < m->temp_count; i++)
			m->temp_state[i] = rd8(&r);
		m->chg_current_state = rd8(&r);
		m->voltage_state = rd8(&r);
		m->dsg_current_state = rd8(&r);
		for (i = 0; i < 5; i++)
			m->status[i] = rd8(&r);
	}
	if (r.bad || a->module_count == 0)
		return RIG_ERR_LENGTH;
	/* A real US2000C appends a byte after status 5: kept, so the frame rebuilds as sent. */
	if (rd_left(&r) > PYLON_TRAILER_MAX)
		return RIG_ERR_LENGTH;
	a->trailer_len = (uint8_t)rd_left(&r);
	for (i = 0; i < a->trailer_len; i++)
		a->trailer[i] = rd8(&r);
	return rd_end(&r);
}

rig_rc rig_pylon_alarm_encode(struct pylon_frame *f, const struct pylon_alarm *a)
{
	struct wr w;
	unsigned i, k;

	if (a->module_count == 0 || a->module_count > PYLON_MODULES_MAX || a->trailer_len > PYLON_TRAILER_MAX)
		return RIG_ERR_ARG;
	wr_begin(&w, f);
	wr8(&w, a->dataflag);
	wr8(&w, a->command_value);
	for (k = 0; k < a->module_count; k++) {
		const struct pylon_alarm_module *m = &a->m[k];

		if (m->cell_count > PYLON_CELLS_MAX || m->temp_count > PYLON_TEMPS_MAX)
			return RIG_ERR_ARG;
		wr8(&w, m->cell_count);
		for (i = 0; i < m->cell_count; i++)
			wr8(&w, m->cell_state[i]);
		wr8(&w, m->temp_count);
		for (i = 0; i < m->temp_count; i++)
			wr8(&w, m->temp_state[i]);
		wr8(&w, m->chg_current_state);
		wr8(&w, m->voltage_state);
		wr8(&w, m->dsg_current_state);
		for (i = 0; i < 5; i++)
			wr8(&w, m->status[i]);
	}
	for (i = 0; i < a->trailer_len; i++)
		wr8(&w, a->trailer[i]);
	return wr_end(&w, f);
}

/* ---- 0x47 system parameters ----------------------------------------------------------- */

rig_rc rig_pylon_sys_param_decode(const struct pylon_frame *f, struct pylon_sys_param *p)
{
	struct rd r;

	rd_begin(&r, f);
	p->infoflag = rd8(&r);
	p->cell_high_mV = rd16(&r);
	p->cell_low_mV = rd16(&r);
	p->cell_under_mV = rd16(&r);
	p->chg_high_dK = rd16(&r);
	p->chg_low_dK = rd16(&r);
	p->chg_current_mA = deci_A_to_mA(rds16(&r));
	p->module_high_mV = rd16(&r);
	p->module_low_mV = rd16(&r);
	p->module_under_mV = rd16(&r);
	p->dsg_high_dK = rd16(&r);
	p->dsg_low_dK = rd16(&r);
	p->dsg_current_mA = deci_A_to_mA(rds16(&r));
	return rd_end(&r);
}

rig_rc rig_pylon_sys_param_encode(struct pylon_frame *f, const struct pylon_sys_param *p)
{
	struct wr w;

	wr_begin(&w, f);
	wr8(&w, p->infoflag);
	wr16(&w, p->cell_high_mV);
	wr16(&w, p->cell_low_mV);
	wr16(&w, p->cell_under_mV);
	wr16(&w, p->chg_high_dK);
	wr16(&w, p->chg_low_dK);
	wr16(&w, (uint16_t)mA_to_deci_A(p->chg_current_mA));
	wr16(&w, p->module_high_mV);
	wr16(&w, p->module_low_mV);
	wr16(&w, p->module_under_mV);
	wr16(&w, p->dsg_high_dK);
	wr16(&w, p->dsg_low_dK);
	wr16(&w, (uint16_t)mA_to_deci_A(p->dsg_current_mA));
	return wr_end(&w, f);
}

/* ---- 0x92 / 0x63 charge management ----------------------------------------------------- */

rig_rc rig_pylon_mgmt_decode(const struct pylon_frame *f, int has_command_value, struct pylon_mgmt *m)
{
	struct rd r;
	rd_begin(&r, f);
	m->has_command_value = has_command_value ? 1u : 0u;
	m->command_value = has_command_value ? rd8(&r) : 0u;
	m->cvl_mV = rd16(&r);
	m->dvl_mV = rd16(&r);
	m->ccl_mA = deci_A_to_mA(rds16(&r));
	m->dcl_mA = deci_A_to_mA(rds16(&r));
	m->status = rd8(&r);
	return rd_end(&r);
}

rig_rc rig_pylon_mgmt_encode(struct pylon_frame *f, const struct pylon_mgmt *m)
{
	struct wr w;

	wr_begin(&w, f);
	if (m->has_command_value)
		wr8(&w, m->command_value);
	wr16(&w, clamp16(m->cvl_mV));
	wr16(&w, clamp16(m->dvl_mV));
	wr16(&w, (uint16_t)mA_to_deci_A(m->ccl_mA));
	wr16(&w, (uint16_t)mA_to_deci_A(m->dcl_mA));
	wr8(&w, m->status);
	return wr_end(&w, f);
}

/* ---- 0x93 serial, 0x51 manufacturer ----------------------------------------------------- */

static void rd_text(struct rd *r, char *out, uint8_t *raw, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t c = rd8(r);

		if (raw)
			raw[i] = c;
		out[i] = (char)c;
	}
	out[n] = '\0';
}

/* All n bytes as they stand, NULs inside included, so a decoded text encodes back as sent. */
static void wr_text(struct wr *w, const char *s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		wr8(w, (uint8_t)s[i]);
}

rig_rc rig_pylon_serial_decode(const struct pylon_frame *f, struct pylon_serial *s)
{
	struct rd r;

	rd_begin(&r, f);
	s->command_value = rd8(&r);
	rd_text(&r, s->serial, NULL, PYLON_SERIAL_LEN);
	return rd_end(&r);
}

rig_rc rig_pylon_serial_encode(struct pylon_frame *f, const struct pylon_serial *s)
{
	struct wr w;

	wr_begin(&w, f);
	wr8(&w, s->command_value);
	wr_text(&w, s->serial, PYLON_SERIAL_LEN);
	return wr_end(&w, f);
}

static void mfr_read(struct rd *r, struct pylon_mfr *m, int sw_after_mfr)
{
	rd_text(r, m->name, m->name_raw, PYLON_NAME_LEN);
	if (!sw_after_mfr) {
		m->sw_major = rd8(r);
		m->sw_minor = rd8(r);
	}
	rd_text(r, m->manufacturer, m->mfr_raw, PYLON_MFR_LEN);
	if (sw_after_mfr) {
		m->sw_major = rd8(r);
		m->sw_minor = rd8(r);
	}
}

static void mfr_write(struct wr *w, const struct pylon_mfr *m, int sw_after_mfr)
{
	unsigned i;

	for (i = 0; i < PYLON_NAME_LEN; i++)
		wr8(w, m->name_raw[i]);
	if (!sw_after_mfr) {
		wr8(w, m->sw_major);
		wr8(w, m->sw_minor);
	}
	for (i = 0; i < PYLON_MFR_LEN; i++)
		wr8(w, m->mfr_raw[i]);
	if (sw_after_mfr) {
		wr8(w, m->sw_major);
		wr8(w, m->sw_minor);
	}
}

rig_rc rig_pylon_mfr_decode(const struct pylon_frame *f, struct pylon_mfr *m)
{
	struct rd r;

	rd_begin(&r, f);
	mfr_read(&r, m, 0);
	return rd_end(&r);
}

rig_rc rig_pylon_mfr_encode(struct pylon_frame *f, const struct pylon_mfr *m)
{
	struct wr w;

	wr_begin(&w, f);
	mfr_write(&w, m, 0);
	return wr_end(&w, f);
}

static void text_set(uint8_t *raw, char *s, const char *from, unsigned n)
{
	unsigned i;
	int ended = 0;

	for (i = 0; i < n; i++) {
		if (!ended && from[i] == '\0')
			ended = 1;
		raw[i] = ended ? 0u : (uint8_t)from[i];
		s[i] = (char)raw[i];
	}
	s[n] = '\0';
}

void rig_pylon_mfr_set(struct pylon_mfr *m, const char *name, uint8_t sw_major, uint8_t sw_minor, const char *mfr)
{
	text_set(m->name_raw, m->name, name, PYLON_NAME_LEN);
	text_set(m->mfr_raw, m->manufacturer, mfr, PYLON_MFR_LEN);
	m->sw_major = sw_major;
	m->sw_minor = sw_minor;
}

/* ---- 0x60 system basic info: name, manufacturer, software version, count, serials -------- */

rig_rc rig_pylon_sys_basic_decode(const struct pylon_frame *f, struct pylon_sys_basic *b)
{
	struct rd r;
	unsigned k;

	rd_begin(&r, f);
	mfr_read(&r, &b->id, 1);
	b->module_count = rd8(&r);
	if (b->module_count > PYLON_MODULES_MAX)
		return RIG_ERR_LENGTH;
	for (k = 0; k < b->module_count; k++)
		rd_text(&r, b->serial[k], NULL, PYLON_SERIAL_LEN);
	return rd_end(&r);
}

rig_rc rig_pylon_sys_basic_encode(struct pylon_frame *f, const struct pylon_sys_basic *b)
{
	struct wr w;
	unsigned k;

	if (b->module_count > PYLON_MODULES_MAX)
		return RIG_ERR_ARG;
	wr_begin(&w, f);
	mfr_write(&w, &b->id, 1);
	wr8(&w, b->module_count);
	for (k = 0; k < b->module_count; k++)
		wr_text(&w, b->serial[k], PYLON_SERIAL_LEN);
	return wr_end(&w, f);
}

/* ---- 0x61 system analogue ------------------------------------------------------------- */

static void rd_ext(struct rd *r, struct pylon_extreme *e)
{
	e->value = rd16(r);
	e->where = rd16(r);
}
static void wr_ext(struct wr *w, const struct pylon_extreme *e)
{
	wr16(w, e->value);
	wr16(w, e->where);
}

rig_rc rig_pylon_sys_analog_decode(const struct pylon_frame *f, struct pylon_sys_analog *a)
{
	struct rd r;

	rd_begin(&r, f);
	a->pack_mV = rd16(&r);
	a->current_mA = (int32_t)rds16(&r) * 10;
	a->soc_pct = rd8(&r);
	a->cycles_avg = rd16(&r);
	a->cycles_max = rd16(&r);
	a->soh_avg_pct = rd8(&r);
	a->soh_min_pct = rd8(&r);
	rd_ext(&r, &a->cell_max_mV);
	rd_ext(&r, &a->cell_min_mV);
	a->cell_temp_avg_dK = rd16(&r);
	rd_ext(&r, &a->cell_temp_max_dK);
	rd_ext(&r, &a->cell_temp_min_dK);
	a->mos_temp_avg_dK = rd16(&r);
	rd_ext(&r, &a->mos_temp_max_dK);
	rd_ext(&r, &a->mos_temp_min_dK);
	a->bms_temp_avg_dK = rd16(&r);
	rd_ext(&r, &a->bms_temp_max_dK);
	rd_ext(&r, &a->bms_temp_min_dK);
	return rd_end(&r);
}

rig_rc rig_pylon_sys_analog_encode(struct pylon_frame *f, const struct pylon_sys_analog *a)
{
	struct wr w;

	wr_begin(&w, f);
	wr16(&w, clamp16(a->pack_mV));
	wr16(&w, (uint16_t)mA_to_centi_A(a->current_mA));
	wr8(&w, a->soc_pct);
	wr16(&w, a->cycles_avg);
	wr16(&w, a->cycles_max);
	wr8(&w, a->soh_avg_pct);
	wr8(&w, a->soh_min_pct);
	wr_ext(&w, &a->cell_max_mV);
	wr_ext(&w, &a->cell_min_mV);
	wr16(&w, a->cell_temp_avg_dK);
	wr_ext(&w, &a->cell_temp_max_dK);
	wr_ext(&w, &a->cell_temp_min_dK);
	wr16(&w, a->mos_temp_avg_dK);
	wr_ext(&w, &a->mos_temp_max_dK);
	wr_ext(&w, &a->mos_temp_min_dK);
	wr16(&w, a->bms_temp_avg_dK);
	wr_ext(&w, &a->bms_temp_max_dK);
	wr_ext(&w, &a->bms_temp_min_dK);
	return wr_end(&w, f);
}

/* ---- 0x62 system alarm ---------------------------------------------------------------- */

rig_rc rig_pylon_sys_alarm_decode(const struct pylon_frame *f, struct pylon_sys_alarm *a)
{
	struct rd r;

	rd_begin(&r, f);
	a->alarm1 = rd8(&r);
	a->alarm2 = rd8(&r);
	a->prot1 = rd8(&r);
	a->prot2 = rd8(&r);
	return rd_end(&r);
}

rig_rc rig_pylon_sys_alarm_encode(struct pylon_frame *f, const struct pylon_sys_alarm *a)
{
	struct wr w;

	wr_begin(&w, f);
	wr8(&w, a->alarm1);
	wr8(&w, a->alarm2);
	wr8(&w, a->prot1);
	wr8(&w, a->prot2);
	return wr_end(&w, f);
}

/* ---- neutral views ------------------------------------------------------------------- */

/* Status 1 bit <-> PACK_PROT bits, one table for both directions: a bit is raised by any of
 * `prot` and reads back as `back`. */
static const struct { uint8_t st1; uint32_t prot, back; } st1_map[] = {
	{ PYLON_ST1_MODULE_UV, PACK_PROT_PACK_UV,                    PACK_PROT_PACK_UV },
	{ PYLON_ST1_CHG_OT,    PACK_PROT_CHG_OT,                     PACK_PROT_CHG_OT },
	{ PYLON_ST1_DSG_OT,    PACK_PROT_DSG_OT,                     PACK_PROT_DSG_OT },
	{ PYLON_ST1_DSG_OC,    PACK_PROT_DSG_OC | PACK_PROT_SHORT,   PACK_PROT_DSG_OC },
	{ PYLON_ST1_CHG_OC,    PACK_PROT_CHG_OC,                     PACK_PROT_CHG_OC },
	{ PYLON_ST1_CELL_UV,   PACK_PROT_CELL_UV,                    PACK_PROT_CELL_UV },
	{ PYLON_ST1_MODULE_OV, PACK_PROT_PACK_OV | PACK_PROT_CELL_OV, PACK_PROT_PACK_OV },
};

uint8_t rig_pylon_status1_from_prot(uint32_t prot)
{
	uint8_t s = 0;
	size_t i;

	for (i = 0; i < sizeof st1_map / sizeof st1_map[0]; i++)
		if (prot & st1_map[i].prot)
			s = (uint8_t)(s | st1_map[i].st1);
	return s;
}

void rig_pylon_alarm_status(struct pylon_alarm_module *a, uint32_t prot, int chg_fet, int dsg_fet,
                            int32_t current_mA, uint8_t soc_pct, uint16_t cell_bits)
{
	a->chg_current_state = (prot & PACK_PROT_CHG_OC) ? PYLON_STATE_HIGH : PYLON_STATE_NORMAL;
	a->voltage_state = (prot & PACK_PROT_PACK_OV) ? PYLON_STATE_HIGH :
	                   (prot & PACK_PROT_PACK_UV) ? PYLON_STATE_LOW : PYLON_STATE_NORMAL;
	a->dsg_current_state = (prot & (PACK_PROT_DSG_OC | PACK_PROT_SHORT)) ? PYLON_STATE_HIGH : PYLON_STATE_NORMAL;
	a->status[0] = rig_pylon_status1_from_prot(prot);
	a->status[1] = (uint8_t)(PYLON_ST2_MODULE_POWER | (chg_fet ? PYLON_ST2_CHG_FET : 0u) |
	                         (dsg_fet ? PYLON_ST2_DSG_FET : 0u));
	a->status[2] = (uint8_t)((current_mA > 100 ? PYLON_ST3_CHARGING : 0u) |
	                         (current_mA < -100 ? PYLON_ST3_DISCHARGING : 0u) |
	                         (soc_pct >= 100u ? PYLON_ST3_FULL : 0u));
	a->status[3] = (uint8_t)cell_bits;          /* cells 1-8 */
	a->status[4] = (uint8_t)(cell_bits >> 8);   /* cells 9-16 */
}

uint32_t rig_pylon_prot_from_status1(uint8_t status1)
{
	uint32_t p = 0;
	size_t i;

	for (i = 0; i < sizeof st1_map / sizeof st1_map[0]; i++)
		if (status1 & st1_map[i].st1)
			p |= st1_map[i].back;
	return p;
}

static const struct { uint8_t mgmt; uint8_t req; } mgmt_map[] = {
	{ PYLON_MGMT_CHG_ENABLE,   RIG_INV_CHG_ENABLE },
	{ PYLON_MGMT_DSG_ENABLE,   RIG_INV_DSG_ENABLE },
	{ PYLON_MGMT_FORCE_CHG_1,  RIG_INV_FORCE_CHG_1 },
	{ PYLON_MGMT_FORCE_CHG_2,  RIG_INV_FORCE_CHG_2 },
	{ PYLON_MGMT_FULL_CHG_REQ, RIG_INV_FULL_CHG_REQ },
};

uint8_t rig_pylon_mgmt_from_request(uint8_t request)
{
	uint8_t s = 0;
	size_t i;

	for (i = 0; i < sizeof mgmt_map / sizeof mgmt_map[0]; i++)
		if (request & mgmt_map[i].req)
			s = (uint8_t)(s | mgmt_map[i].mgmt);
	return s;
}

uint8_t rig_pylon_request_from_mgmt(uint8_t status)
{
	uint8_t r = 0;
	size_t i;

	for (i = 0; i < sizeof mgmt_map / sizeof mgmt_map[0]; i++)
		if (status & mgmt_map[i].mgmt)
			r = (uint8_t)(r | mgmt_map[i].req);
	return r;
}

void rig_pylon_to_pack_state(const struct pylon_module *m, const struct pylon_alarm_module *al,
                             struct pack_state *s)
{
	unsigned i;

	s->pack_mV = m->pack_mV;
	s->current_mA = m->current_mA;
	s->cell_count = m->cell_count;
	for (i = 0; i < m->cell_count && i < PACK_CELLS_MAX; i++)
		s->cell_mV[i] = m->cell_mV[i];
	s->temp_count = m->temp_count;
	for (i = 0; i < m->temp_count && i < PACK_TEMPS_MAX; i++)
		s->temp_dK[i] = m->temp_dK[i];
	s->remain_mAh = m->remain_mAh;
	s->full_mAh = m->full_mAh;
	s->cycles = m->cycles;
	/* remain is at most u24, so remain * 100 fits 32 bits. */
	s->soc_pct = 0;
	if (m->full_mAh) {
		uint32_t pct = u32_div(m->remain_mAh * 100u + m->full_mAh / 2u, m->full_mAh);

		s->soc_pct = (uint8_t)(pct > 100u ? 100u : pct);
	}
	if (al) {
		s->prot = rig_pylon_prot_from_status1(al->status[0]);
		s->fet_chg = (al->status[1] & PYLON_ST2_CHG_FET) ? 1u : 0u;
		s->fet_dsg = (al->status[1] & PYLON_ST2_DSG_FET) ? 1u : 0u;
		s->bal_mask = 0;
	}
}

void rig_pylon_analog_to_inv(const struct pylon_analog *a, struct rig_inv_battery *b)
{
	unsigned k, i;
	uint32_t volt_sum = 0, temp_sum = 0, temps = 0;

	b->module_count = a->module_count;
	b->current_mA = 0;
	b->remain_mAh = b->full_mAh = 0;
	b->cycles = 0;
	b->cell_max_mV = 0;
	b->cell_min_mV = 0xFFFFu;
	b->temp_max_dK = 0;
	b->temp_min_dK = 0xFFFFu;
	for (k = 0; k < a->module_count; k++) {
		const struct pylon_module *m = &a->m[k];

		volt_sum += m->pack_mV;
		b->current_mA += m->current_mA;
		b->remain_mAh += m->remain_mAh;
		b->full_mAh += m->full_mAh;
		if (m->cycles > b->cycles)
			b->cycles = m->cycles;
		for (i = 0; i < m->cell_count; i++) {
			if (m->cell_mV[i] > b->cell_max_mV)
				b->cell_max_mV = m->cell_mV[i];
			if (m->cell_mV[i] < b->cell_min_mV)
				b->cell_min_mV = m->cell_mV[i];
		}
		for (i = 0; i < m->temp_count; i++) {
			temp_sum += m->temp_dK[i];
			temps++;
			if (m->temp_dK[i] > b->temp_max_dK)
				b->temp_max_dK = m->temp_dK[i];
			if (m->temp_dK[i] < b->temp_min_dK)
				b->temp_min_dK = m->temp_dK[i];
		}
	}
	if (b->cell_min_mV == 0xFFFFu)
		b->cell_min_mV = 0;
	if (b->temp_min_dK == 0xFFFFu)
		b->temp_min_dK = 0;
	b->pack_mV = a->module_count ? u32_div(volt_sum, a->module_count) : 0u;
	b->temp_dK = (uint16_t)(temps ? u32_div(temp_sum, temps) : 0u);
}

void rig_pylon_mgmt_to_inv(const struct pylon_mgmt *m, struct rig_inv_battery *b)
{
	b->cvl_mV = m->cvl_mV;
	b->dvl_mV = m->dvl_mV;
	b->ccl_mA = m->ccl_mA < 0 ? 0 : m->ccl_mA;
	b->dcl_mA = m->dcl_mA < 0 ? -m->dcl_mA : m->dcl_mA;   /* a magnitude, whichever sign came */
	b->request = rig_pylon_request_from_mgmt(m->status);
}

void rig_pylon_mgmt_from_inv(const struct rig_inv_battery *b, struct pylon_mgmt *m)
{
	m->cvl_mV = b->cvl_mV;
	m->dvl_mV = b->dvl_mV;
	m->ccl_mA = b->ccl_mA;
	m->dcl_mA = -b->dcl_mA;   /* sent negative, as packs send the 0x47 discharge limit */
	m->status = rig_pylon_mgmt_from_request(b->request);
}
