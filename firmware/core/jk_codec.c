/* JK "4E 57" codec: framing, the receive assembler, the id table and its typed values
 * (docs/protocols/jk.md §2, §4.1). */
#include <stddef.h>
#include <string.h>

#include "bmsrig/core/jk.h"
#include "bmsrig/core/pack_state.h"
#include "intmath.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

/* ---- the id table (docs/protocols/jk.md §2.4) ------------------------------------------------------------ */

#define ID(id, w, kind, acc, field) \
	{ id, w, JK_KIND_##kind, JK_ACC_##acc, (uint16_t)offsetof(struct jk_data, field) }

const struct jk_id_def rig_jk_ids[JK_ID_COUNT] = {
	ID(0x79, 0, CELLS, R, cell_count),
	ID(0x80, 2, TEMP, R, mos_temp_dK),
	ID(0x81, 2, TEMP, R, box_temp_dK),
	ID(0x82, 2, TEMP, R, bat_temp_dK),
	ID(0x83, 2, X10, R, pack_mV),
	ID(0x84, 2, CURRENT, R, current_mA),
	ID(0x85, 1, U8, R, soc_pct),
	ID(0x86, 1, U8, R, ntc_count),
	ID(0x87, 2, U16, R, cycles),
	ID(0x89, 4, U32, R, cycle_total_Ah),
	ID(0x8A, 2, U16, R, cell_strings),
	ID(0x8B, 2, U16, R, alarm_raw),
	ID(0x8C, 2, U16, R, status_raw),
	ID(0x8E, 2, X10, RW, pack_ovp_mV),
	ID(0x8F, 2, X10, RW, pack_uvp_mV),
	ID(0x90, 2, U16, RW, cell_ovp_mV),
	ID(0x91, 2, U16, RW, cell_ovp_rel_mV),
	ID(0x92, 2, U16, RW, cell_ovp_delay_s),
	ID(0x93, 2, U16, RW, cell_uvp_mV),
	ID(0x94, 2, U16, RW, cell_uvp_rel_mV),
	ID(0x95, 2, U16, RW, cell_uvp_delay_s),
	ID(0x96, 2, U16, RW, cell_diff_mV),
	ID(0x97, 2, U16, RW, dsg_ocp_A),
	ID(0x98, 2, U16, RW, dsg_ocp_delay_s),
	ID(0x99, 2, U16, RW, chg_ocp_A),
	ID(0x9A, 2, U16, RW, chg_ocp_delay_s),
	ID(0x9B, 2, U16, RW, bal_start_mV),
	ID(0x9C, 2, U16, RW, bal_trigger_mV),
	ID(0x9D, 1, U8, RW, balancer_on),
	ID(0x9E, 2, U16, RW, mos_otp_C),
	ID(0x9F, 2, U16, RW, mos_otp_rel_C),
	ID(0xA0, 2, U16, RW, box_otp_C),
	ID(0xA1, 2, U16, RW, box_otp_rel_C),
	ID(0xA2, 2, U16, RW, temp_diff_C),
	ID(0xA3, 2, U16, RW, chg_otp_C),
	ID(0xA4, 2, U16, RW, dsg_otp_C),
	ID(0xA5, 2, S16, RW, chg_utp_C),
	ID(0xA6, 2, S16, RW, chg_utp_rel_C),
	ID(0xA7, 2, S16, RW, dsg_utp_C),
	ID(0xA8, 2, S16, RW, dsg_utp_rel_C),
	ID(0xA9, 1, U8, RW, cell_count_set),
	ID(0xAA, 4, U32, RW, capacity_Ah),
	ID(0xAB, 1, U8, RW, chg_switch),
	ID(0xAC, 1, U8, RW, dsg_switch),
	ID(0xAD, 2, U16, RW, current_cal_mA),
	ID(0xAE, 1, U8, RW, address),
	ID(0xAF, 1, U8, RW, battery_type),
	ID(0xB0, 2, U16, RW, sleep_wait_s),
	ID(0xB1, 1, U8, RW, low_soc_alarm_pct),
	ID(0xB2, 10, TEXT, RW, password),
	ID(0xB3, 1, U8, RW, dedicated_charger),
	ID(0xB4, 8, TEXT, RW, device_id),
	ID(0xB5, 4, TEXT, RW, mfg_date),
	ID(0xB6, 4, U32, RW, runtime_min),
	ID(0xB7, 15, TEXT, R, sw_version),
	ID(0xB8, 1, U8, RW, cal_start),
	ID(0xB9, 4, U32, RW, actual_capacity_Ah),
	ID(0xBA, 24, TEXT, RW, manufacturer),
	ID(0xBB, 1, U8, W, restart),
	ID(0xBC, 1, U8, W, factory_reset),
	ID(0xBD, 1, U8, W, upgrade),
	ID(0xBE, 2, U16, W, gps_off_mV),
	ID(0xBF, 2, U16, W, gps_on_mV),
	ID(0xC0, 1, U8, R, protocol_version),
};

#undef ID

const struct jk_id_def *rig_jk_id_find(uint8_t id)
{
	unsigned i;

	for (i = 0; i < JK_ID_COUNT; i++)
		if (rig_jk_ids[i].id == id)
			return &rig_jk_ids[i];
	return NULL;
}

static void *field(struct jk_data *d, const struct jk_id_def *def)
{
	return (uint8_t *)d + def->offset;
}

static const void *cfield(const struct jk_data *d, const struct jk_id_def *def)
{
	return (const uint8_t *)d + def->offset;
}

/* ---- framing ---------------------------------------------------------------------------- */

uint16_t rig_jk_checksum(const uint8_t *p, size_t n)
{
	uint16_t s = 0;

	while (n--)
		s = (uint16_t)(s + *p++);
	return s;
}

static int cmd_known(uint8_t cmd)
{
	return cmd >= JK_CMD_ACTIVATE && cmd <= JK_CMD_READ_ALL && cmd != 0x04u;
}

rig_rc rig_jk_frame_encode(const struct jk_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = (size_t)f->len + JK_OVERHEAD;
	uint8_t *tail;

	if (f->len < 1 || f->len > JK_INFO_MAX || !cmd_known(f->cmd) || f->type > JK_TYPE_UPLOAD)
		return RIG_ERR_ARG;
	if (cap < total)
		return RIG_ERR_SPACE;
	out[0] = JK_START0;
	out[1] = JK_START1;
	put_be16(out + 2, (uint16_t)(total - 2u));
	put_be32(out + 4, f->terminal);
	out[8] = f->cmd;
	out[9] = f->source;
	out[10] = f->type;
	memcpy(out + JK_HEAD_LEN, f->info, f->len);
	tail = out + JK_HEAD_LEN + f->len;
	put_be32(tail, f->record);
	tail[4] = JK_END;
	tail[5] = 0;                      /* "CRC not enabled": the high half is always zero */
	tail[6] = 0;
	put_be16(tail + 7, rig_jk_checksum(out, total - 4u));
	*out_len = total;
	return RIG_OK;
}

rig_rc rig_jk_frame_parse(const uint8_t *w, size_t n, struct jk_frame *f)
{
	const uint8_t *tail;
	size_t len;

	if (n < JK_OVERHEAD + 1u || n > JK_FRAME_MAX)
		return RIG_ERR_LENGTH;
	if (w[0] != JK_START0 || w[1] != JK_START1)
		return RIG_ERR_FRAME;
	if ((size_t)get_be16(w + 2) + 2u != n)
		return RIG_ERR_LENGTH;
	len = n - JK_OVERHEAD;
	tail = w + JK_HEAD_LEN + len;
	if (tail[4] != JK_END)
		return RIG_ERR_FRAME;
	if (tail[5] != 0 || tail[6] != 0 || get_be16(tail + 7) != rig_jk_checksum(w, n - 4u))
		return RIG_ERR_CHECKSUM;
	if (!cmd_known(w[8]) || w[10] > JK_TYPE_UPLOAD)
		return RIG_ERR_FRAME;
	f->terminal = get_be32(w + 4);
	f->cmd = w[8];
	f->source = w[9];
	f->type = w[10];
	f->record = get_be32(tail);
	f->len = (uint16_t)len;
	memcpy(f->info, w + JK_HEAD_LEN, len);
	return RIG_OK;
}

/* ---- receive assembler ------------------------------------------------------------------ */

void rig_jk_rx_init(struct jk_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_jk_rx_feed(struct jk_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

/* A header that cannot start a frame we would accept: refused as soon as its bytes are in, so
 * a stray "NW" in noise does not hold real frames back until its bogus length has arrived. */
static int header_impossible(const uint8_t *b, uint16_t have)
{
	uint32_t total;

	if (have < 4)
		return 0;
	total = (uint32_t)get_be16(b + 2) + 2u;
	if (total < JK_OVERHEAD + 1u || total > JK_FRAME_MAX)
		return 1;
	return have >= JK_HEAD_LEN && (!cmd_known(b[8]) || b[10] > JK_TYPE_UPLOAD);
}

rig_rc rig_jk_rx_next(struct jk_rx *rx, struct jk_frame *f)
{
	for (;;) {
		uint16_t start = 0, need;

		while (start < rx->b.have && !(rx->buf[start] == JK_START0 &&
		       (start + 1u == rx->b.have || rx->buf[start + 1] == JK_START1)))
			start++;
		rig_rxbuf_skip(&rx->b, rx->buf, start);
		if (!header_impossible(rx->buf, rx->b.have)) {
			if (rx->b.have < 4)
				return RIG_MORE;
			need = (uint16_t)(get_be16(rx->buf + 2) + 2u);
			if (rx->b.have < need)
				return RIG_MORE;
			if (rig_jk_frame_parse(rx->buf, need, f) == RIG_OK) {
				rig_rxbuf_drop(&rx->b, rx->buf, need);
				return RIG_OK;
			}
		}
		/* Not a frame after all: the 4E 57 was data or noise. Resync on the next one. */
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- the two encodings with traps (docs/protocols/jk.md §2.5) ------------------------------------------ */

int32_t rig_jk_temp_decode(uint16_t code)
{
	int32_t c = code <= 100u ? (int32_t)code : 100 - (int32_t)code;

	return JK_TEMP_ZERO_DK + 10 * c;
}

rig_rc rig_jk_current_decode(uint16_t raw, uint8_t version, int32_t *mA, uint8_t *zero_chg)
{
	int32_t mag = (int32_t)(raw & 0x7FFFu);

	switch (version) {
	case 0:
		*mA = (10000 - (int32_t)raw) * 10;
		*zero_chg = 0;
		return RIG_OK;
	case 1:
		*mA = (raw & 0x8000u) ? 10 * mag : -10 * mag;
		*zero_chg = raw == 0x8000u;
		return RIG_OK;
	default:
		return RIG_ERR_UNSUPPORTED;
	}
}

/* ---- typed data ----------------------------------------------------------------------------- */

void rig_jk_data_clear(struct jk_data *d)
{
	memset(d, 0, sizeof *d);
}

int rig_jk_data_has(const struct jk_data *d, uint8_t id)
{
	unsigned i;

	for (i = 0; i < d->n_items; i++)
		if (d->order[i] == id)
			return 1;
	return 0;
}

rig_rc rig_jk_data_add(struct jk_data *d, uint8_t id)
{
	if (!rig_jk_id_find(id))
		return RIG_ERR_ARG;
	if (!rig_jk_data_has(d, id) && d->n_items < JK_ID_COUNT)
		d->order[d->n_items++] = id;
	return RIG_OK;
}

void rig_jk_data_add_all(struct jk_data *d)
{
	unsigned i;

	d->n_items = 0;
	for (i = 0; i < JK_ID_COUNT; i++)
		if (rig_jk_ids[i].access & JK_ACC_R)
			d->order[d->n_items++] = rig_jk_ids[i].id;
}

/* The version the current of d is (to be) encoded with: 0xC0 when carried, else the old rule. */
static uint8_t current_version(const struct jk_data *d)
{
	return rig_jk_data_has(d, JK_ID_PROTOCOL) ? d->protocol_version : 0u;
}

rig_rc rig_jk_data_get(const struct jk_data *d, uint8_t id, int32_t *v)
{
	const struct jk_id_def *def = rig_jk_id_find(id);
	const void *p;

	if (!def)
		return RIG_ERR_ARG;
	p = cfield(d, def);
	switch (def->kind) {
	case JK_KIND_U8:      *v = *(const uint8_t *)p; return RIG_OK;
	case JK_KIND_U16:     *v = *(const uint16_t *)p; return RIG_OK;
	case JK_KIND_S16:     *v = *(const int16_t *)p; return RIG_OK;
	case JK_KIND_TEMP:
	case JK_KIND_CURRENT: *v = *(const int32_t *)p; return RIG_OK;
	case JK_KIND_U32:
	case JK_KIND_X10:
		if (*(const uint32_t *)p > 0x7FFFFFFFu)
			return RIG_ERR_ARG;
		*v = (int32_t)*(const uint32_t *)p;
		return RIG_OK;
	default:
		return RIG_ERR_ARG;
	}
}

rig_rc rig_jk_data_set(struct jk_data *d, uint8_t id, int32_t v)
{
	const struct jk_id_def *def = rig_jk_id_find(id);
	void *p;

	if (!def)
		return RIG_ERR_ARG;
	p = field(d, def);
	switch (def->kind) {
	case JK_KIND_U8:
		if (v < 0 || v > 0xFF)
			return RIG_ERR_ARG;
		*(uint8_t *)p = (uint8_t)v;
		return RIG_OK;
	case JK_KIND_U16:
		if (v < 0 || v > 0xFFFF)
			return RIG_ERR_ARG;
		*(uint16_t *)p = (uint16_t)v;
		return RIG_OK;
	case JK_KIND_S16:
		if (v < -32768 || v > 32767)
			return RIG_ERR_ARG;
		*(int16_t *)p = (int16_t)v;
		return RIG_OK;
	case JK_KIND_TEMP:
	case JK_KIND_CURRENT:
		*(int32_t *)p = v;
		return RIG_OK;
	case JK_KIND_U32:
	case JK_KIND_X10:
		if (v < 0)
			return RIG_ERR_ARG;
		*(uint32_t *)p = (uint32_t)v;
		return RIG_OK;
	default:
		return RIG_ERR_ARG;
	}
}

/* Bytes of the typed field behind each kind (TEXT: the id's width). */
static size_t field_size(const struct jk_id_def *def)
{
	static const uint8_t size[] = {
		[JK_KIND_U8] = 1, [JK_KIND_U16] = 2, [JK_KIND_U32] = 4, [JK_KIND_S16] = 2,
		[JK_KIND_X10] = 4, [JK_KIND_TEMP] = 4, [JK_KIND_CURRENT] = 4,
	};

	return def->kind == JK_KIND_TEXT ? def->width : size[def->kind];
}

void rig_jk_data_copy_field(struct jk_data *dst, const struct jk_data *src, uint8_t id)
{
	const struct jk_id_def *def = rig_jk_id_find(id);

	if (!def)
		return;
	if (def->kind == JK_KIND_CELLS) {
		dst->cell_count = src->cell_count;
		memcpy(dst->cell_mV, src->cell_mV, sizeof dst->cell_mV);
		return;
	}
	if (def->kind == JK_KIND_CURRENT)
		dst->current_zero_chg = src->current_zero_chg;
	memcpy(field(dst, def), cfield(src, def), field_size(def));
}

/* One value from the wire into its field. The current only parks its raw word: its meaning
 * depends on 0xC0, which comes later in the list. */
static void value_decode(const struct jk_id_def *def, const uint8_t *p, struct jk_data *d,
                         uint16_t *current_raw)
{
	void *f = field(d, def);
	uint16_t v16 = def->width == 2u ? get_be16(p) : 0u;

	switch (def->kind) {
	case JK_KIND_U8:      *(uint8_t *)f = p[0]; break;
	case JK_KIND_U16:     *(uint16_t *)f = v16; break;
	case JK_KIND_U32:     *(uint32_t *)f = get_be32(p); break;
	case JK_KIND_S16:     *(int16_t *)f = (int16_t)(v16 < 0x8000u ? (int32_t)v16 : (int32_t)v16 - 0x10000); break;
	case JK_KIND_X10:     *(uint32_t *)f = 10u * v16; break;
	case JK_KIND_TEMP:    *(int32_t *)f = rig_jk_temp_decode(v16); break;
	case JK_KIND_CURRENT: *current_raw = v16; break;
	default:              memcpy(f, p, def->width); break;     /* TEXT */
	}
}

/* 0x79: count byte 3n, then n x (index, mV). *used = bytes after the id. */
static rig_rc cells_decode(const uint8_t *p, size_t n, struct jk_data *d, size_t *used)
{
	size_t count, at;
	unsigned k = 0;

	if (n < 1 || (count = p[0]) > n - 1u)
		return RIG_ERR_LENGTH;
	for (at = 1; at <= count; at += 3) {
		if (count + 1u - at < 3u || k >= JK_CELLS_MAX)
			return RIG_ERR_LENGTH;
		if (p[at] != k + 1u)
			return RIG_ERR_FRAME;           /* cells are numbered 1..n in every capture */
		d->cell_mV[k++] = get_be16(p + at + 1);
	}
	d->cell_count = (uint8_t)k;
	*used = 1u + count;
	return RIG_OK;
}

static int seen_test_set(uint8_t seen[32], uint8_t id)
{
	uint8_t bit = (uint8_t)(1u << (id & 7u));
	int was = (seen[id >> 3] & bit) != 0;

	seen[id >> 3] |= bit;
	return was;
}

rig_rc rig_jk_items_decode(const uint8_t *p, size_t n, struct jk_data *d)
{
	uint8_t seen[32];
	uint16_t current_raw = 0;
	size_t pos = 0;
	rig_rc rc;

	rig_jk_data_clear(d);
	memset(seen, 0, sizeof seen);
	while (pos < n) {
		uint8_t id = p[pos++];
		const struct jk_id_def *def = rig_jk_id_find(id);
		size_t used = def ? def->width : 0u;

		/* Widths are not on the wire: past an unknown id nothing can be read (docs/protocols/jk.md §2.7). */
		if (!def || seen_test_set(seen, id))
			return RIG_ERR_FRAME;
		if (def->kind == JK_KIND_CELLS) {
			rc = cells_decode(p + pos, n - pos, d, &used);
			if (rc != RIG_OK)
				return rc;
		} else if (n - pos < used) {
			return RIG_ERR_LENGTH;
		} else {
			value_decode(def, p + pos, d, &current_raw);
		}
		pos += used;
		d->order[d->n_items++] = id;
	}
	if (!rig_jk_data_has(d, JK_ID_CURRENT))
		return RIG_OK;
	return rig_jk_current_decode(current_raw, current_version(d), &d->current_mA, &d->current_zero_chg);
}

/* ---- frames with typed content ------------------------------------------------------------ */

static void frame_head(struct jk_frame *f, uint8_t cmd, uint8_t source, uint8_t type)
{
	f->terminal = 0;
	f->cmd = cmd;
	f->source = source;
	f->type = type;
	f->record = 0;
	f->len = 0;
}

static int has_items(uint8_t cmd)
{
	return cmd == JK_CMD_WRITE || cmd == JK_CMD_READ || cmd == JK_CMD_READ_ALL;
}

rig_rc rig_jk_data_decode(const struct jk_frame *f, struct jk_data *d)
{
	if (f->type == JK_TYPE_REQUEST || !has_items(f->cmd))
		return RIG_ERR_ARG;
	return rig_jk_items_decode(f->info, f->len, d);
}

static void request_id(struct jk_frame *f, uint8_t cmd, uint8_t source, uint8_t id)
{
	frame_head(f, cmd, source, JK_TYPE_REQUEST);
	f->info[0] = id;
	f->len = 1;
}

void rig_jk_request_read_all(struct jk_frame *f, uint8_t source)
{
	request_id(f, JK_CMD_READ_ALL, source, JK_ID_ALL);
}

void rig_jk_request_read(struct jk_frame *f, uint8_t source, uint8_t id)
{
	request_id(f, JK_CMD_READ, source, id);
}

void rig_jk_request_activate(struct jk_frame *f, uint8_t source)
{
	request_id(f, JK_CMD_ACTIVATE, source, JK_ID_ALL);
}

void rig_jk_request_password(struct jk_frame *f, uint8_t source)
{
	request_id(f, JK_CMD_PASSWORD, source, JK_ID_ALL);
	f->info[1] = 0;
	f->len = 2;
}

rig_rc rig_jk_request_switch(struct jk_frame *f, uint8_t source, uint8_t id, uint8_t on)
{
	const struct jk_id_def *def = rig_jk_id_find(id);

	request_id(f, JK_CMD_WRITE, source, id);
	if (!def || !(def->access & JK_ACC_W) || def->kind != JK_KIND_U8)
		return RIG_ERR_ARG;
	f->info[1] = on ? 1u : 0u;
	f->len = 2;
	return RIG_OK;
}

rig_rc rig_jk_write_decode(const struct jk_frame *f, struct jk_data *d)
{
	const struct jk_id_def *def;

	if (f->type != JK_TYPE_REQUEST || f->cmd != JK_CMD_WRITE || f->len < 1)
		return RIG_ERR_ARG;
	def = rig_jk_id_find(f->info[0]);
	if (!def)
		return RIG_ERR_FRAME;
	if (!(def->access & JK_ACC_W))
		return RIG_ERR_UNSUPPORTED;
	if (f->len != 1u + def->width)
		return RIG_ERR_LENGTH;
	return rig_jk_items_decode(f->info, f->len, d);
}

/* ---- alarms <-> normalised protection bits ------------------------------------------------ */

struct alarm_map {
	uint8_t bit;             /* enum jk_alarm_bit */
	uint16_t to_prot;        /* what a client reports for it */
	uint16_t from_prot;      /* what an emulated board raises it for */
};

static const struct alarm_map alarm_maps[] = {
	{ JK_ALARM_CHG_OV,  PACK_PROT_PACK_OV, PACK_PROT_PACK_OV },
	{ JK_ALARM_DSG_UV,  PACK_PROT_PACK_UV, PACK_PROT_PACK_UV },
	{ JK_ALARM_BAT_OT,  PACK_PROT_CHG_OT | PACK_PROT_DSG_OT, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT },
	{ JK_ALARM_CHG_OC,  PACK_PROT_CHG_OC, PACK_PROT_CHG_OC },
	{ JK_ALARM_DSG_OC,  PACK_PROT_DSG_OC, PACK_PROT_DSG_OC | PACK_PROT_SHORT },
	{ JK_ALARM_BAT_UT,  PACK_PROT_CHG_UT | PACK_PROT_DSG_UT, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT },
	{ JK_ALARM_CELL_OV, PACK_PROT_CELL_OV, PACK_PROT_CELL_OV },
	{ JK_ALARM_CELL_UV, PACK_PROT_CELL_UV, PACK_PROT_CELL_UV },
};

uint32_t rig_jk_alarm_to_prot(uint16_t alarm_raw)
{
	uint32_t prot = 0;
	unsigned i;

	for (i = 0; i < sizeof alarm_maps / sizeof alarm_maps[0]; i++)
		if (alarm_raw & (1u << alarm_maps[i].bit))
			prot |= alarm_maps[i].to_prot;
	return prot;
}

/* ---- the neutral view -------------------------------------------------------------------- */

rig_rc rig_jk_to_pack_state(const struct jk_data *d, struct pack_state *s)
{
	static const uint8_t required[] = {
		JK_ID_CELLS, JK_ID_PACK_V, JK_ID_CURRENT, JK_ID_SOC, JK_ID_STATUS
	};
	static const uint8_t probes[] = { JK_ID_BOX_TEMP, JK_ID_BAT_TEMP };
	int32_t probe_dK[2];
	uint16_t temp_dK[2];
	unsigned i, n = 0, limit = rig_jk_data_has(d, JK_ID_NTC_COUNT) ? d->ntc_count : 2u;
	uint32_t cap_Ah = 0;

	for (i = 0; i < sizeof required; i++)
		if (!rig_jk_data_has(d, required[i]))
			return RIG_ERR_LENGTH;
	if (d->cell_count == 0 || d->soc_pct > 100u)
		return RIG_ERR_ARG;
	probe_dK[0] = d->box_temp_dK;
	probe_dK[1] = d->bat_temp_dK;
	for (i = 0; i < sizeof probes && n < limit; i++) {
		if (!rig_jk_data_has(d, probes[i]))
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
	s->prot = rig_jk_data_has(d, JK_ID_ALARMS) ? rig_jk_alarm_to_prot(d->alarm_raw) : 0u;
	/* The JK form of JBD's software lock: a FET switched off by command (0xAB/0xAC). */
	if ((rig_jk_data_has(d, JK_ID_CHG_SWITCH) && !d->chg_switch) ||
	    (rig_jk_data_has(d, JK_ID_DSG_SWITCH) && !d->dsg_switch))
		s->prot |= PACK_PROT_SW_LOCK;
	s->bal_mask = 0;
	if (rig_jk_data_has(d, JK_ID_ACTUAL_CAPACITY) && d->actual_capacity_Ah)
		cap_Ah = d->actual_capacity_Ah;
	else if (rig_jk_data_has(d, JK_ID_CAPACITY))
		cap_Ah = d->capacity_Ah;
	if (cap_Ah > 0xFFFFFFFFu / 1000u)
		cap_Ah = 0xFFFFFFFFu / 1000u;
	/* Ah x 1000 x SOC / 100 without a division: Ah x 10 x SOC. */
	s->full_mAh = cap_Ah * 1000u;
	s->remain_mAh = cap_Ah * 10u * d->soc_pct;
	s->cycles = rig_jk_data_has(d, JK_ID_CYCLES) ? d->cycles : 0u;
	return RIG_OK;
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

rig_rc rig_jk_temp_encode(int32_t dK, uint16_t *code)
{
	int32_t c;

	/* Outside these no code exists (100 degC .. 100 - 65535 degC); also keeps dK - 2731 sane. */
	if (dK > JK_TEMP_ZERO_DK + 1004 || dK < JK_TEMP_ZERO_DK - 654354)
		return RIG_ERR_ARG;
	c = i32_div10_round(dK - JK_TEMP_ZERO_DK);
	*code = (uint16_t)(c >= 0 ? c : 100 - c);
	return RIG_OK;
}

rig_rc rig_jk_current_encode(int32_t mA, uint8_t zero_chg, uint8_t version, uint16_t *raw)
{
	int32_t c = i32_div10_round(mA);

	switch (version) {
	case 0:
		if (c > 10000 || c < 10000 - 65535)
			return RIG_ERR_ARG;
		*raw = (uint16_t)(10000 - c);
		return RIG_OK;
	case 1:
		if (c > 0x7FFF || c < -0x7FFF)
			return RIG_ERR_ARG;
		*raw = (uint16_t)((c < 0 ? -c : c) | ((c > 0 || (c == 0 && zero_chg)) ? 0x8000 : 0));
		return RIG_OK;
	default:
		return RIG_ERR_UNSUPPORTED;
	}
}

static rig_rc value_encode(const struct jk_id_def *def, const struct jk_data *d, uint8_t *p)
{
	const void *f = cfield(d, def);
	uint16_t v16 = 0;
	uint32_t mV;
	rig_rc rc = RIG_OK;

	switch (def->kind) {
	case JK_KIND_U8:   p[0] = *(const uint8_t *)f; return RIG_OK;
	case JK_KIND_U32:  put_be32(p, *(const uint32_t *)f); return RIG_OK;
	case JK_KIND_TEXT: memcpy(p, f, def->width); return RIG_OK;
	case JK_KIND_U16:  v16 = *(const uint16_t *)f; break;
	case JK_KIND_S16:  v16 = (uint16_t)*(const int16_t *)f; break;
	case JK_KIND_X10:
		mV = *(const uint32_t *)f;
		if (mV > 655350u)
			return RIG_ERR_ARG;
		v16 = (uint16_t)u32_div10_round(mV);
		break;
	case JK_KIND_TEMP:
		rc = rig_jk_temp_encode(*(const int32_t *)f, &v16);
		break;
	case JK_KIND_CURRENT:
		rc = rig_jk_current_encode(d->current_mA, d->current_zero_chg, current_version(d), &v16);
		break;
	default:
		return RIG_ERR_ARG;
	}
	put_be16(p, v16);
	return rc;
}

rig_rc rig_jk_items_encode(const struct jk_data *d, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t seen[32];
	size_t pos = 0;
	unsigned i, k;
	rig_rc rc;

	memset(seen, 0, sizeof seen);
	if (d->n_items > JK_ID_COUNT)
		return RIG_ERR_ARG;
	for (i = 0; i < d->n_items; i++) {
		const struct jk_id_def *def = rig_jk_id_find(d->order[i]);
		size_t w;

		if (!def || seen_test_set(seen, def->id))
			return RIG_ERR_ARG;
		if (def->kind == JK_KIND_CELLS && d->cell_count > JK_CELLS_MAX)
			return RIG_ERR_ARG;
		w = def->kind == JK_KIND_CELLS ? 1u + 3u * d->cell_count : def->width;
		if (cap - pos < 1u + w)
			return RIG_ERR_SPACE;
		out[pos] = def->id;
		if (def->kind == JK_KIND_CELLS) {
			out[pos + 1] = (uint8_t)(3u * d->cell_count);
			for (k = 0; k < d->cell_count; k++) {
				out[pos + 2 + 3 * k] = (uint8_t)(k + 1u);
				put_be16(out + pos + 3 + 3 * k, d->cell_mV[k]);
			}
		} else {
			rc = value_encode(def, d, out + pos + 1);
			if (rc != RIG_OK)
				return rc == RIG_ERR_UNSUPPORTED ? rc : RIG_ERR_ARG;
		}
		pos += 1u + w;
	}
	*out_len = pos;
	return RIG_OK;
}

rig_rc rig_jk_data_encode(struct jk_frame *f, uint8_t cmd, const struct jk_data *d)
{
	size_t n = 0;
	rig_rc rc;

	frame_head(f, cmd, JK_SRC_BMS, JK_TYPE_REPLY);
	if (!has_items(cmd))
		return RIG_ERR_ARG;
	rc = rig_jk_items_encode(d, f->info, sizeof f->info, &n);
	if (rc == RIG_OK && n == 0)
		rc = RIG_ERR_ARG;                     /* a frame carries at least one info byte */
	f->len = (uint16_t)n;
	return rc;
}

void rig_jk_response_ack(struct jk_frame *f, uint8_t cmd)
{
	frame_head(f, cmd, JK_SRC_BMS, JK_TYPE_REPLY);
	f->info[0] = JK_ID_ALL;
	f->len = 1;
}

rig_rc rig_jk_request_write_item(struct jk_frame *f, uint8_t source, uint8_t id, const struct jk_data *d)
{
	const struct jk_id_def *def = rig_jk_id_find(id);
	rig_rc rc;

	request_id(f, JK_CMD_WRITE, source, id);
	if (!def || !(def->access & JK_ACC_W))
		return RIG_ERR_ARG;
	rc = value_encode(def, d, f->info + 1);
	f->len = (uint16_t)(1u + def->width);
	return rc;
}

uint16_t rig_jk_alarm_from_prot(uint32_t prot)
{
	uint16_t alarm = 0;
	unsigned i;

	for (i = 0; i < sizeof alarm_maps / sizeof alarm_maps[0]; i++)
		if (prot & alarm_maps[i].from_prot)
			alarm = (uint16_t)(alarm | (1u << alarm_maps[i].bit));
	return alarm;
}

#endif /* RIG_FIRMWARE */
