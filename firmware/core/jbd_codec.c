/* JBD codec: framing, the receive assembler and the typed payloads (docs/protocols/jbd.md). */
#include <string.h>

#include "bmsrig/core/jbd.h"
#include "intmath.h"

uint16_t rig_jbd_checksum(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	uint32_t sum = 0;

	/* Two bytes a turn: every reply is summed twice a poll (built, then checked), and the pair
	 * costs the lx106 14 bytes where four would cost 38. */
	if (n & 1u)
		sum = *p++;
	for (; p != end; p += 2)
		sum += (uint32_t)p[0] + p[1];
	/* Negating in uint16_t gives 0x10000 - sum, and 0x0000 when the sum is 0 (write acks). */
	return (uint16_t)(0u - sum);
}

/* ---- framing --------------------------------------------------------------------------- */

rig_rc rig_jbd_frame_encode(const struct jbd_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = (size_t)f->len + JBD_OVERHEAD;
	uint16_t c;

	if (f->kind == JBD_KIND_REQUEST && f->rw != JBD_RW_READ && f->rw != JBD_RW_WRITE)
		return RIG_ERR_ARG;
	if (cap < total)
		return RIG_ERR_SPACE;
	out[0] = JBD_START;
	out[1] = f->kind == JBD_KIND_REQUEST ? f->rw : f->reg;
	out[2] = f->kind == JBD_KIND_REQUEST ? f->reg : f->status;
	out[3] = f->len;
	memcpy(out + 4, f->data, f->len);
	c = rig_jbd_checksum(out + 2, (size_t)f->len + 2u);
	put_be16(out + 4 + f->len, c);
	out[6 + f->len] = JBD_STOP;
	*out_len = total;
	return RIG_OK;
}

rig_rc rig_jbd_frame_parse(const uint8_t *w, size_t n, struct jbd_frame *f)
{
	uint8_t len;

	if (n < JBD_OVERHEAD)
		return RIG_ERR_LENGTH;
	if (w[0] != JBD_START)
		return RIG_ERR_FRAME;
	len = w[3];
	if (n != (size_t)len + JBD_OVERHEAD)
		return RIG_ERR_LENGTH;
	if (w[n - 1] != JBD_STOP)
		return RIG_ERR_FRAME;
	if (get_be16(w + 4 + len) != rig_jbd_checksum(w + 2, (size_t)len + 2u))
		return RIG_ERR_CHECKSUM;
	/* No register A5 or 5A exists, so byte 1 tells a request from a response (docs/protocols/jbd.md §2.2). */
	if (w[1] == JBD_RW_READ || w[1] == JBD_RW_WRITE) {
		f->kind = JBD_KIND_REQUEST;
		f->rw = w[1];
		f->reg = w[2];
		f->status = 0;
	} else {
		f->kind = JBD_KIND_RESPONSE;
		f->rw = 0;
		f->reg = w[1];
		f->status = w[2];
	}
	f->len = len;
	memcpy(f->data, w + 4, len);
	return RIG_OK;
}

/* ---- receive assembler ----------------------------------------------------------------- */

void rig_jbd_rx_init(struct jbd_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_jbd_rx_feed(struct jbd_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

rig_rc rig_jbd_rx_next(struct jbd_rx *rx, struct jbd_frame *f)
{
	for (;;) {
		uint16_t start = 0, need;

		while (start < rx->b.have && rx->buf[start] != JBD_START)
			start++;
		rig_rxbuf_skip(&rx->b, rx->buf, start);
		if (rx->b.have < 4)
			return RIG_MORE;
		need = (uint16_t)(rx->buf[3] + JBD_OVERHEAD);
		if (rx->b.have < need)
			return RIG_MORE;
		if (rig_jbd_frame_parse(rx->buf, need, f) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, need);
			return RIG_OK;
		}
		/* Not a frame after all: the DD was data or noise. Resync on the next DD. */
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- requests and bare responses ------------------------------------------------------- */

static void frame_head(struct jbd_frame *f, uint8_t kind, uint8_t rw, uint8_t reg, uint8_t status)
{
	f->kind = kind;
	f->rw = rw;
	f->reg = reg;
	f->status = status;
	f->len = 0;
}

void rig_jbd_request_read(struct jbd_frame *f, uint8_t reg)
{
	frame_head(f, JBD_KIND_REQUEST, JBD_RW_READ, reg, 0);
}

rig_rc rig_jbd_request_write(struct jbd_frame *f, uint8_t reg, const uint8_t *data, uint8_t len)
{
	frame_head(f, JBD_KIND_REQUEST, JBD_RW_WRITE, reg, 0);
	if (len && !data)
		return RIG_ERR_ARG;
	if (len)
		memcpy(f->data, data, len);
	f->len = len;
	return RIG_OK;
}

void rig_jbd_request_write_u16(struct jbd_frame *f, uint8_t reg, uint16_t value)
{
	frame_head(f, JBD_KIND_REQUEST, JBD_RW_WRITE, reg, 0);
	put_be16(f->data, value);
	f->len = 2;
}

void rig_jbd_request_factory_enter(struct jbd_frame *f)
{
	rig_jbd_request_write_u16(f, JBD_REG_FACTORY_ENTER, JBD_FACTORY_KEY);
}

void rig_jbd_request_factory_exit(struct jbd_frame *f, int save)
{
	rig_jbd_request_write_u16(f, JBD_REG_FACTORY_EXIT, save ? JBD_EXIT_SAVE : JBD_EXIT_DISCARD);
}

void rig_jbd_request_mosfet(struct jbd_frame *f, uint8_t inhibit_mask)
{
	rig_jbd_request_write_u16(f, JBD_REG_MOSFET, (uint16_t)(inhibit_mask & 0x03u));
}

/* The payloads are mostly runs of big-endian u16: one loop for all of them. */
static void get_be16_run(uint16_t *dst, const uint8_t *src, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		dst[i] = get_be16(src + 2 * i);
}

/* A decoder may only look at an OK response of its own register. */
static rig_rc want_response(const struct jbd_frame *f, uint8_t reg)
{
	if (f->kind != JBD_KIND_RESPONSE || f->reg != reg)
		return RIG_ERR_ARG;
	if (f->status != JBD_STATUS_OK)
		return RIG_ERR_STATUS;
	return RIG_OK;
}

/* ---- 0x03 basic information (docs/protocols/jbd.md §4) ------------------------------------------------ */

enum {
	B_PACK = 0, B_CURRENT = 2, B_REMAIN = 4, B_FULL = 6, B_CYCLES = 8, B_DATE = 10,
	B_BAL_LO = 12, B_BAL_HI = 14, B_PROT = 16, B_VERSION = 18, B_SOC = 19, B_FET = 20,
	B_CELLS = 21, B_NTC = 22, B_TEMPS = 23
};

rig_rc rig_jbd_basic_decode(const struct jbd_frame *f, struct jbd_basic *b)
{
	const uint8_t *d = f->data;
	rig_rc rc = want_response(f, JBD_REG_BASIC);
	unsigned ntc, base;

	if (rc != RIG_OK)
		return rc;
	if (f->len < JBD_BASIC_FIXED_LEN)
		return RIG_ERR_LENGTH;
	ntc = d[B_NTC];
	base = JBD_BASIC_FIXED_LEN + 2u * ntc;
	if (ntc > JBD_NTC_MAX || d[B_CELLS] > JBD_CELLS_MAX)
		return RIG_ERR_LENGTH;
	/* The tail is either nothing or the 9-byte extension; anything else is not a layout we know. */
	if (f->len != base && f->len != base + JBD_BASIC_EXT_LEN)
		return RIG_ERR_LENGTH;
	memset(b, 0, sizeof *b);
	b->pack_mV = 10u * get_be16(d + B_PACK);
	b->current_mA = 10 * (int32_t)(int16_t)get_be16(d + B_CURRENT);
	b->remain_mAh = 10u * get_be16(d + B_REMAIN);
	b->full_mAh = 10u * get_be16(d + B_FULL);
	b->cycles = get_be16(d + B_CYCLES);
	b->production_date = get_be16(d + B_DATE);
	b->bal_low = get_be16(d + B_BAL_LO);
	b->bal_high = get_be16(d + B_BAL_HI);
	b->prot_raw = get_be16(d + B_PROT);
	b->sw_version = d[B_VERSION];
	b->soc_pct = d[B_SOC];
	b->fet = d[B_FET];
	b->cell_count = d[B_CELLS];
	b->ntc_count = (uint8_t)ntc;
	get_be16_run(b->temp_dK, d + B_TEMPS, ntc);
	if (f->len == base + JBD_BASIC_EXT_LEN) {
		const uint8_t *x = d + base;

		b->has_ext = 1;
		b->humidity_pct = x[0];
		b->alarm_raw = get_be16(x + 1);
		b->ext_full_mAh = 10u * get_be16(x + 3);
		b->ext_remain_mAh = 10u * get_be16(x + 5);
		b->balance_current_mA = get_be16(x + 7);
	}
	return RIG_OK;
}

/* ---- 0x04 cells ------------------------------------------------------------------------ */

rig_rc rig_jbd_cells_decode(const struct jbd_frame *f, struct jbd_cells *c)
{
	rig_rc rc = want_response(f, JBD_REG_CELLS);

	if (rc != RIG_OK)
		return rc;
	if ((f->len & 1u) || f->len / 2u > JBD_CELLS_MAX)
		return RIG_ERR_LENGTH;
	c->count = (uint8_t)(f->len / 2u);
	get_be16_run(c->cell_mV, f->data, c->count);
	return RIG_OK;
}

/* ---- text: 0x05 without prefix, 0xA0-0xA2 with one ------------------------------------- */

static rig_rc text_set(struct jbd_text *t, const uint8_t *p, unsigned n)
{
	if (n > JBD_TEXT_MAX)
		return RIG_ERR_LENGTH;
	memcpy(t->text, p, n);
	t->text[n] = '\0';
	t->len = (uint8_t)n;
	return RIG_OK;
}

rig_rc rig_jbd_version_decode(const struct jbd_frame *f, struct jbd_text *t)
{
	rig_rc rc = want_response(f, JBD_REG_VERSION);

	return rc != RIG_OK ? rc : text_set(t, f->data, f->len);
}

static rig_rc prefixed_text(const struct jbd_frame *f, struct jbd_text *t)
{
	if (f->len < 1 || f->data[0] != f->len - 1u)
		return RIG_ERR_LENGTH;
	return text_set(t, f->data + 1, f->data[0]);
}

rig_rc rig_jbd_string_decode(const struct jbd_frame *f, struct jbd_text *t)
{
	rig_rc rc;

	if (!rig_jbd_reg_is_string(f->reg))
		return RIG_ERR_ARG;
	rc = want_response(f, f->reg);
	return rc != RIG_OK ? rc : prefixed_text(f, t);
}

rig_rc rig_jbd_string_request_decode(const struct jbd_frame *f, struct jbd_text *t)
{
	if (f->kind != JBD_KIND_REQUEST || f->rw != JBD_RW_WRITE || !rig_jbd_reg_is_string(f->reg))
		return RIG_ERR_ARG;
	return prefixed_text(f, t);
}

/* ---- 0xAA counters --------------------------------------------------------------------- */

rig_rc rig_jbd_events_decode(const struct jbd_frame *f, struct jbd_events *e)
{
	rig_rc rc = want_response(f, JBD_REG_EVENTS);

	if (rc != RIG_OK)
		return rc;
	if (f->len != 22u && f->len != 24u)
		return RIG_ERR_LENGTH;
	e->count = (uint8_t)(f->len / 2u);
	get_be16_run(e->value, f->data, e->count);
	return RIG_OK;
}

/* ---- 2-byte registers ------------------------------------------------------------------ */

rig_rc rig_jbd_register_decode(const struct jbd_frame *f, uint16_t *value)
{
	if (f->kind == JBD_KIND_RESPONSE && f->status != JBD_STATUS_OK)
		return RIG_ERR_STATUS;
	if (f->kind == JBD_KIND_REQUEST && f->rw != JBD_RW_WRITE)
		return RIG_ERR_ARG;
	if (f->len != 2)
		return RIG_ERR_LENGTH;
	*value = get_be16(f->data);
	return RIG_OK;
}

/* ---- 0xFA parameter block -------------------------------------------------------------- */

rig_rc rig_jbd_params_decode(const struct jbd_frame *f, struct jbd_params *p)
{
	rig_rc rc = want_response(f, JBD_REG_PARAM_BLOCK);

	if (rc != RIG_OK)
		return rc;
	if (f->len < 3u || f->len != 3u + 2u * f->data[2])
		return RIG_ERR_LENGTH;
	p->start = get_be16(f->data);
	p->count = f->data[2];
	get_be16_run(p->value, f->data + 3, p->count);
	return RIG_OK;
}

/* ---- register classes, dates ----------------------------------------------------------- */

int rig_jbd_reg_is_eeprom(uint8_t reg)
{
	return reg >= JBD_REG_EEPROM_FIRST && reg <= JBD_REG_EEPROM_LAST;
}

int rig_jbd_reg_is_string(uint8_t reg)
{
	return reg >= JBD_REG_MFG_NAME && reg <= JBD_REG_BARCODE;
}

int rig_jbd_reg_is_calibration(uint8_t reg)
{
	return reg >= JBD_REG_CAL_FIRST && reg <= JBD_REG_CAL_LAST;
}

void rig_jbd_date_unpack(uint16_t packed, unsigned *year, unsigned *month, unsigned *day)
{
	*year = 2000u + (packed >> 9);
	*month = (packed >> 5) & 0x0Fu;
	*day = packed & 0x1Fu;
}

/* ---- the neutral view -------------------------------------------------------------------- */

void rig_jbd_to_pack_state(const struct jbd_basic *b, const struct jbd_cells *cells, struct pack_state *s)
{
	unsigned n;

	s->pack_mV = b->pack_mV;
	s->current_mA = b->current_mA;
	s->soc_pct = b->soc_pct;
	s->remain_mAh = b->remain_mAh;
	s->full_mAh = b->full_mAh;
	s->cycles = b->cycles;
	s->fet_chg = (b->fet & JBD_FET_CHG_ON) != 0;
	s->fet_dsg = (b->fet & JBD_FET_DSG_ON) != 0;
	/* JBD bits 0..12 are the normalised set, bit for bit; 13..15 have no neutral meaning. */
	s->prot = b->prot_raw & 0x1FFFu;
	s->bal_mask = (uint32_t)b->bal_high << 16 | b->bal_low;
	s->temp_count = b->ntc_count;
	n = b->ntc_count < PACK_TEMPS_MAX ? b->ntc_count : PACK_TEMPS_MAX;
	memcpy(s->temp_dK, b->temp_dK, n * sizeof s->temp_dK[0]);
	s->cell_count = cells->count;
	n = cells->count < PACK_CELLS_MAX ? cells->count : PACK_CELLS_MAX;
	memcpy(s->cell_mV, cells->cell_mV, n * sizeof s->cell_mV[0]);
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

void rig_jbd_response_ack(struct jbd_frame *f, uint8_t reg)
{
	frame_head(f, JBD_KIND_RESPONSE, 0, reg, JBD_STATUS_OK);
}

void rig_jbd_response_error(struct jbd_frame *f, uint8_t reg, uint8_t status)
{
	frame_head(f, JBD_KIND_RESPONSE, 0, reg, status);
}

static void put_be16_run(uint8_t *dst, const uint16_t *src, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		put_be16(dst + 2 * i, src[i]);
}

static void response_head(struct jbd_frame *f, uint8_t reg, uint8_t len)
{
	frame_head(f, JBD_KIND_RESPONSE, 0, reg, JBD_STATUS_OK);
	f->len = len;
}

/* Values in wire units of 10: out of range is an argument error, not a silent wrap. */
static rig_rc put_u16_div10(uint8_t *p, uint32_t v)
{
	uint32_t w = u32_div10_round(v);

	if (v > 655350u || w > 0xFFFFu)
		return RIG_ERR_ARG;
	put_be16(p, (uint16_t)w);
	return RIG_OK;
}

rig_rc rig_jbd_basic_encode(struct jbd_frame *f, const struct jbd_basic *b)
{
	uint8_t *d = f->data;
	unsigned base;
	int32_t cur;
	rig_rc rc = RIG_OK;

	if (b->ntc_count > JBD_NTC_MAX || b->cell_count > JBD_CELLS_MAX)
		return RIG_ERR_ARG;
	if (b->current_mA < -327680 || b->current_mA > 327670)
		return RIG_ERR_ARG;
	base = JBD_BASIC_FIXED_LEN + 2u * b->ntc_count;
	response_head(f, JBD_REG_BASIC, (uint8_t)(base + (b->has_ext ? JBD_BASIC_EXT_LEN : 0u)));
	cur = i32_div10_round(b->current_mA);
	if (put_u16_div10(d + B_PACK, b->pack_mV) || put_u16_div10(d + B_REMAIN, b->remain_mAh) ||
	    put_u16_div10(d + B_FULL, b->full_mAh))
		rc = RIG_ERR_ARG;
	put_be16(d + B_CURRENT, (uint16_t)cur);
	put_be16(d + B_CYCLES, b->cycles);
	put_be16(d + B_DATE, b->production_date);
	put_be16(d + B_BAL_LO, b->bal_low);
	put_be16(d + B_BAL_HI, b->bal_high);
	put_be16(d + B_PROT, b->prot_raw);
	d[B_VERSION] = b->sw_version;
	d[B_SOC] = b->soc_pct;
	d[B_FET] = b->fet;
	d[B_CELLS] = b->cell_count;
	d[B_NTC] = b->ntc_count;
	put_be16_run(d + B_TEMPS, b->temp_dK, b->ntc_count);
	if (b->has_ext) {
		uint8_t *x = d + base;

		x[0] = b->humidity_pct;
		put_be16(x + 1, b->alarm_raw);
		if (put_u16_div10(x + 3, b->ext_full_mAh) || put_u16_div10(x + 5, b->ext_remain_mAh))
			rc = RIG_ERR_ARG;
		put_be16(x + 7, b->balance_current_mA);
	}
	return rc;
}

rig_rc rig_jbd_cells_encode(struct jbd_frame *f, const struct jbd_cells *c)
{
	if (c->count > JBD_CELLS_MAX)
		return RIG_ERR_ARG;
	response_head(f, JBD_REG_CELLS, (uint8_t)(2u * c->count));
	put_be16_run(f->data, c->cell_mV, c->count);
	return RIG_OK;
}

rig_rc rig_jbd_version_encode(struct jbd_frame *f, const struct jbd_text *t)
{
	if (t->len > JBD_TEXT_MAX)
		return RIG_ERR_ARG;
	response_head(f, JBD_REG_VERSION, t->len);
	memcpy(f->data, t->text, t->len);
	return RIG_OK;
}

rig_rc rig_jbd_string_encode(struct jbd_frame *f, uint8_t reg, const struct jbd_text *t)
{
	if (!rig_jbd_reg_is_string(reg) || t->len > JBD_TEXT_MAX)
		return RIG_ERR_ARG;
	response_head(f, reg, (uint8_t)(t->len + 1u));
	f->data[0] = t->len;
	memcpy(f->data + 1, t->text, t->len);
	return RIG_OK;
}

rig_rc rig_jbd_events_encode(struct jbd_frame *f, const struct jbd_events *e)
{
	if (e->count != 11u && e->count != 12u)
		return RIG_ERR_ARG;
	response_head(f, JBD_REG_EVENTS, (uint8_t)(2u * e->count));
	put_be16_run(f->data, e->value, e->count);
	return RIG_OK;
}

void rig_jbd_register_encode(struct jbd_frame *f, uint8_t reg, uint16_t value)
{
	response_head(f, reg, 2);
	put_be16(f->data, value);
}

rig_rc rig_jbd_params_encode(struct jbd_frame *f, const struct jbd_params *p)
{
	if (p->count > JBD_PARAMS_MAX)
		return RIG_ERR_ARG;
	response_head(f, JBD_REG_PARAM_BLOCK, (uint8_t)(3u + 2u * p->count));
	put_be16(f->data, p->start);
	f->data[2] = p->count;
	put_be16_run(f->data + 3, p->value, p->count);
	return RIG_OK;
}

uint16_t rig_jbd_date_pack(unsigned year, unsigned month, unsigned day)
{
	return (uint16_t)(((year - 2000u) & 0x7Fu) << 9 | (month & 0x0Fu) << 5 | (day & 0x1Fu));
}

#endif /* RIG_FIRMWARE */
