/* JK BLE codec: commands, records, the field tables of each layout, JK04 floats without
 * floating point, and the receive assembler (docs/protocols/jk.md §3, §4.2). */
#include <stddef.h>
#include <string.h>

#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/pack_state.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t HDR_CMD[4] = { 0xAA, 0x55, 0x90, 0xEB };
static const uint8_t HDR_REC[4] = { 0x55, 0xAA, 0xEB, 0x90 };

uint8_t rig_jk_ble_sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* memcmp is not in the lx106 core's allowed libc set. */
static int is_header(const uint8_t *p, const uint8_t h[4])
{
	return p[0] == h[0] && p[1] == h[1] && p[2] == h[2] && p[3] == h[3];
}

int rig_jk_ble_record_header_at(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < sizeof HDR_REC; i++)
		if (p[i] != HDR_REC[i])
			return 0;
	return 1;
}

static uint32_t get_le(const uint8_t *p, unsigned width)
{
	uint32_t v = 0;

	while (width--)
		v = v << 8 | p[width];
	return v;
}

static void put_le(uint8_t *p, uint32_t v, unsigned width)
{
	unsigned i;

	for (i = 0; i < width; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

const char *rig_jk_ble_layout_name(unsigned layout)
{
	static const char *const names[JK_BLE_LAYOUT_COUNT] = { "JK02_24S", "JK02_32S", "JK04" };

	return layout < JK_BLE_LAYOUT_COUNT ? names[layout] : "?";
}

enum jk_ble_layout rig_jk_ble_layout_detect(const uint8_t rec[JK_BLE_RECORD_LEN])
{
	if (rec[9] == 0x3F || rec[9] == 0x40)
		return JK_BLE_JK04;
	return rec[287] ? JK_BLE_JK02_32S : JK_BLE_JK02_24S;
}

/* ---- commands ------------------------------------------------------------------------ */

rig_rc rig_jk_ble_cmd_parse(const uint8_t *w, size_t n, struct jk_ble_cmd *c)
{
	if (n != JK_BLE_CMD_LEN)
		return RIG_ERR_LENGTH;
	if (!is_header(w, HDR_CMD))
		return RIG_ERR_FRAME;
	if (rig_jk_ble_sum8(w, JK_BLE_CMD_LEN - 1u) != w[JK_BLE_CMD_LEN - 1u])
		return RIG_ERR_CHECKSUM;
	if (w[5] > JK_BLE_VALUE_MAX)
		return RIG_ERR_LENGTH;
	c->reg = w[4];
	c->value_len = w[5];
	memcpy(c->value, w + 6, JK_BLE_VALUE_MAX);
	return RIG_OK;
}

void rig_jk_ble_cmd_encode(const struct jk_ble_cmd *c, uint8_t out[JK_BLE_CMD_LEN])
{
	memcpy(out, HDR_CMD, sizeof HDR_CMD);
	out[4] = c->reg;
	out[5] = c->value_len;
	memcpy(out + 6, c->value, JK_BLE_VALUE_MAX);
	out[JK_BLE_CMD_LEN - 1u] = rig_jk_ble_sum8(out, JK_BLE_CMD_LEN - 1u);
}

void rig_jk_ble_cmd_read(struct jk_ble_cmd *c, uint8_t reg)
{
	memset(c, 0, sizeof *c);
	c->reg = reg;
}

rig_rc rig_jk_ble_cmd_write(struct jk_ble_cmd *c, uint8_t reg, uint8_t len, uint32_t value)
{
	rig_jk_ble_cmd_read(c, reg);
	if (len > 4u)
		return RIG_ERR_ARG;
	c->value_len = len;
	put_le(c->value, value, len);
	return RIG_OK;
}

uint32_t rig_jk_ble_cmd_value(const struct jk_ble_cmd *c)
{
	return get_le(c->value, c->value_len < 4u ? c->value_len : 4u);
}

int rig_jk_ble_cmd_is_ack(const struct jk_ble_cmd *c)
{
	return c->reg == JK_BLE_REG_ACK;
}

/* ---- records --------------------------------------------------------------------------- */

rig_rc rig_jk_ble_record_check(const uint8_t *w, size_t n)
{
	if (n != JK_BLE_RECORD_LEN)
		return RIG_ERR_LENGTH;
	if (!is_header(w, HDR_REC))
		return RIG_ERR_FRAME;
	if (rig_jk_ble_sum8(w, JK_BLE_RECORD_LEN - 1u) != w[JK_BLE_RECORD_LEN - 1u])
		return RIG_ERR_CHECKSUM;
	return RIG_OK;
}

/* ---- floats ------------------------------------------------------------------------------ */

rig_rc rig_jk_ble_f32_to_milli(uint32_t bits, int32_t *milli)
{
	uint32_t e = (bits >> 23) & 0xFFu, m = (bits & 0x7FFFFFu) | 0x800000u, r;
	int t;

	if (e == 0xFFu)
		return RIG_ERR_ARG;
	if (e == 0u) {                   /* zero and subnormals: far below a milli-unit */
		*milli = 0;
		return RIG_OK;
	}
	/* v * 1000 = m * 2^(e - 150) * 125 * 8 = (m * 125) >> (147 - e), and m * 125 < 2^31. */
	t = 147 - (int)e;
	if (t < -1 || (t == -1 && m * 125u > 0x7FFFFFFFu >> 1))
		return RIG_ERR_ARG;                   /* more than int32 milli-units */
	if (t <= 0)
		r = m * 125u << -t;
	else if (t >= 32)
		r = 0;
	else
		r = (m * 125u + (1u << (t - 1))) >> t;   /* < 2^31 + 2^30: no wrap */
	*milli = (bits & 0x80000000u) ? -(int32_t)r : (int32_t)r;
	return RIG_OK;
}

/* ---- field tables -------------------------------------------------------------------------
 * Each record kind and layout is one table: where a field sits on the wire, how it is coded
 * there, and which struct member holds it. One walker decodes, encodes and clears them all. */

enum wire_kind {
	W_U8, W_U16, W_U32, W_S16, W_S32,
	W_TEMP,      /* s16 0.1 degC <-> dK */
	W_F32        /* IEEE-754 single, units <-> milli-units */
};
enum mem_kind { M_U8, M_U16, M_U32, M_I32 };

struct field {
	uint16_t off;        /* in the record */
	uint16_t member;     /* offsetof in the struct */
	uint8_t wire, mem;
	uint8_t count;       /* consecutive values, both on the wire and in the struct */
};

struct table {
	const struct field *f;
	uint8_t n;
};

static const uint8_t wire_width[] = { 1, 2, 4, 2, 4, 2, 4 };
static const uint8_t mem_width[] = { 1, 2, 4, 4 };

#define CF(off, m, w, k, n) { off, offsetof(struct jk_ble_cells, m), w, k, n }
static const struct field cells_24s[] = {
	CF(6, cell_mV, W_U16, M_U16, 24),     CF(54, cell_mask, W_U32, M_U32, 1),
	CF(58, avg_cell_mV, W_U16, M_U16, 1), CF(60, delta_cell_mV, W_U16, M_U16, 1),
	CF(62, max_cell_idx, W_U8, M_U8, 1),  CF(63, min_cell_idx, W_U8, M_U8, 1),
	CF(64, wire_res_mOhm, W_U16, M_U16, 24),
	CF(118, pack_mV, W_U32, M_U32, 1),    CF(122, power_mW, W_U32, M_U32, 1),
	CF(126, current_mA, W_S32, M_I32, 1), CF(130, temp_dK, W_TEMP, M_I32, 2),
	CF(134, mos_temp_dK, W_TEMP, M_I32, 1), CF(136, errors, W_U16, M_U32, 1),
	CF(138, balance_current_mA, W_S16, M_I32, 1), CF(140, balance_action, W_U8, M_U8, 1),
	CF(141, soc_pct, W_U8, M_U8, 1),      CF(142, remain_mAh, W_U32, M_U32, 1),
	CF(146, full_mAh, W_U32, M_U32, 1),   CF(150, cycles, W_U32, M_U32, 1),
	CF(154, cycle_capacity_mAh, W_U32, M_U32, 1), CF(158, soh_pct, W_U8, M_U8, 1),
	CF(162, runtime_s, W_U32, M_U32, 1),  CF(166, fet_chg, W_U8, M_U8, 1),
	CF(167, fet_dsg, W_U8, M_U8, 1),      CF(182, temp_present, W_U8, M_U8, 1),
};
/* 8 more voltage slots shift what follows by 16, 8 more resistance slots by another 16. */
static const struct field cells_32s[] = {
	CF(6, cell_mV, W_U16, M_U16, 32),     CF(70, cell_mask, W_U32, M_U32, 1),
	CF(74, avg_cell_mV, W_U16, M_U16, 1), CF(76, delta_cell_mV, W_U16, M_U16, 1),
	CF(78, max_cell_idx, W_U8, M_U8, 1),  CF(79, min_cell_idx, W_U8, M_U8, 1),
	CF(80, wire_res_mOhm, W_U16, M_U16, 32),
	CF(144, mos_temp_dK, W_TEMP, M_I32, 1),
	CF(150, pack_mV, W_U32, M_U32, 1),    CF(154, power_mW, W_U32, M_U32, 1),
	CF(158, current_mA, W_S32, M_I32, 1), CF(162, temp_dK, W_TEMP, M_I32, 2),
	CF(166, errors, W_U32, M_U32, 1),
	CF(170, balance_current_mA, W_S16, M_I32, 1), CF(172, balance_action, W_U8, M_U8, 1),
	CF(173, soc_pct, W_U8, M_U8, 1),      CF(174, remain_mAh, W_U32, M_U32, 1),
	CF(178, full_mAh, W_U32, M_U32, 1),   CF(182, cycles, W_U32, M_U32, 1),
	CF(186, cycle_capacity_mAh, W_U32, M_U32, 1), CF(190, soh_pct, W_U8, M_U8, 1),
	CF(194, runtime_s, W_U32, M_U32, 1),  CF(198, fet_chg, W_U8, M_U8, 1),
	CF(199, fet_dsg, W_U8, M_U8, 1),      CF(214, temp_present, W_U8, M_U8, 1),
	CF(254, temp_dK[2], W_TEMP, M_I32, 3),
};
static const struct field cells_jk04[] = {
	CF(6, cell_mV, W_F32, M_U16, 24),     CF(102, wire_res_mOhm, W_F32, M_U16, 24),
	CF(202, avg_cell_mV, W_F32, M_U16, 1), CF(206, delta_cell_mV, W_F32, M_U16, 1),
	CF(220, balance_action, W_U8, M_U8, 1), CF(222, balance_current_mA, W_F32, M_I32, 1),
	CF(286, runtime_s, W_U32, M_U32, 1),
};

#define SF(off, k, w) { off, offsetof(struct jk_ble_settings, value) + 4u * (k), w, M_U32, 1 }
static const struct field settings_jk02[] = {
	{ 6, offsetof(struct jk_ble_settings, value), W_U32, M_U32, JK_SET_COUNT },
};
static const struct field settings_jk04[] = {
	SF(34, JK_SET_CELL_COUNT, W_U8),     SF(38, JK_SET_POWER_OFF_MV, W_F32),
	SF(98, JK_SET_BAL_START_MV, W_F32),  SF(106, JK_SET_BAL_TRIGGER_MV, W_F32),
	SF(110, JK_SET_MAX_BAL_MA, W_F32),   SF(114, JK_SET_BAL_SWITCH, W_U8),
};

#define DF(off, m, w, k, n) { off, offsetof(struct jk_ble_device, m), w, k, n }
static const struct field device_fields[] = {
	DF(6, model, W_U8, M_U8, 16),        DF(22, hw_version, W_U8, M_U8, 8),
	DF(30, sw_version, W_U8, M_U8, 8),   DF(38, uptime_s, W_U32, M_U32, 1),
	DF(42, power_on_count, W_U32, M_U32, 1), DF(46, name, W_U8, M_U8, 16),
	DF(62, passcode, W_U8, M_U8, 16),    DF(78, mfg_date, W_U8, M_U8, 8),
	DF(86, serial, W_U8, M_U8, 11),      DF(97, passcode2, W_U8, M_U8, 5),
	DF(102, user_data, W_U8, M_U8, 16),  DF(118, setup_passcode, W_U8, M_U8, 16),
};

static const struct table cells_tables[JK_BLE_LAYOUT_COUNT] = {
	{ cells_24s, N_OF(cells_24s) }, { cells_32s, N_OF(cells_32s) }, { cells_jk04, N_OF(cells_jk04) },
};
static const struct table settings_tables[JK_BLE_LAYOUT_COUNT] = {
	{ settings_jk02, N_OF(settings_jk02) }, { settings_jk02, N_OF(settings_jk02) },
	{ settings_jk04, N_OF(settings_jk04) },
};
static const struct table device_table = { device_fields, N_OF(device_fields) };

/* A wire value as a 32-bit carrier: unsigned kinds as they are, signed ones sign-extended. */
static rig_rc wire_get(const uint8_t *p, uint8_t kind, uint32_t *v)
{
	int32_t milli;
	rig_rc rc;

	switch (kind) {
	case W_S16:
		*v = (uint32_t)(int32_t)(int16_t)get_le(p, 2);
		return RIG_OK;
	case W_TEMP:
		*v = (uint32_t)((int32_t)(int16_t)get_le(p, 2) + JK_BLE_DK_ZERO_C);
		return RIG_OK;
	case W_F32:
		rc = rig_jk_ble_f32_to_milli(get_le(p, 4), &milli);
		*v = (uint32_t)milli;
		return rc == RIG_OK ? RIG_OK : RIG_ERR_FRAME;
	default:
		*v = get_le(p, wire_width[kind]);
		return RIG_OK;
	}
}

static rig_rc mem_put(uint8_t *m, uint8_t kind, uint32_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;

	switch (kind) {
	case M_U8:
		if (v > 0xFFu)
			return RIG_ERR_FRAME;
		memcpy(m, &u8, 1);
		return RIG_OK;
	case M_U16:
		if (v > 0xFFFFu)
			return RIG_ERR_FRAME;   /* only a float can be this far out */
		memcpy(m, &u16, 2);
		return RIG_OK;
	default:
		memcpy(m, &v, 4);
		return RIG_OK;
	}
}

static rig_rc table_decode(const uint8_t *rec, const struct table *t, void *st)
{
	uint8_t *base = st;
	unsigned i, k;

	for (i = 0; i < t->n; i++) {
		const struct field *f = &t->f[i];

		for (k = 0; k < f->count; k++) {
			uint32_t v;
			rig_rc rc = wire_get(rec + f->off + k * wire_width[f->wire], f->wire, &v);

			if (rc == RIG_OK)
				rc = mem_put(base + f->member + k * mem_width[f->mem], f->mem, v);
			if (rc != RIG_OK)
				return rc;
		}
	}
	return RIG_OK;
}

static void table_clear(uint8_t *rec, const struct table *t)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (t->f[i].wire != W_F32)
			memset(rec + t->f[i].off, 0, (size_t)t->f[i].count * wire_width[t->f[i].wire]);
}

void rig_jk_ble_record_clear_fields(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout)
{
	if ((unsigned)layout >= JK_BLE_LAYOUT_COUNT)
		return;
	switch (rec[4]) {
	case JK_BLE_REC_SETTINGS: table_clear(rec, &settings_tables[layout]); break;
	case JK_BLE_REC_CELLS:    table_clear(rec, &cells_tables[layout]); break;
	case JK_BLE_REC_DEVICE:   table_clear(rec, &device_table); break;
	default: break;
	}
}

/* ---- typed records ---------------------------------------------------------------------- */

/* The cell slots of each layout: the one place a layout's cell maximum is written down. */
static const uint8_t layout_slots[JK_BLE_LAYOUT_COUNT] = { 24u, 32u, 24u };

unsigned rig_jk_ble_slots(enum jk_ble_layout layout)
{
	return (unsigned)layout < JK_BLE_LAYOUT_COUNT ? layout_slots[layout] : 0u;
}

static rig_rc want(const uint8_t *rec, uint8_t type, unsigned layout)
{
	return rec[4] == type && layout < JK_BLE_LAYOUT_COUNT ? RIG_OK : RIG_ERR_ARG;
}

rig_rc rig_jk_ble_cells_decode(const uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                           struct jk_ble_cells *c)
{
	rig_rc rc = want(rec, JK_BLE_REC_CELLS, (unsigned)layout);
	unsigned i;

	if (rc != RIG_OK)
		return rc;
	memset(c, 0, sizeof *c);
	rc = table_decode(rec, &cells_tables[layout], c);
	if (rc != RIG_OK || layout != JK_BLE_JK04)
		return rc;
	/* JK04 sends neither a cell mask nor a pack voltage (docs/protocols/jk.md §3.10). */
	for (i = 0; i < 24u; i++)
		if (c->cell_mV[i]) {
			c->cell_mask |= (uint32_t)1u << i;
			c->pack_mV += c->cell_mV[i];
		}
	return RIG_OK;
}

rig_rc rig_jk_ble_settings_decode(const uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                              struct jk_ble_settings *s)
{
	rig_rc rc = want(rec, JK_BLE_REC_SETTINGS, (unsigned)layout);

	if (rc != RIG_OK)
		return rc;
	memset(s, 0, sizeof *s);
	return table_decode(rec, &settings_tables[layout], s);
}

rig_rc rig_jk_ble_device_decode(const uint8_t rec[JK_BLE_RECORD_LEN], struct jk_ble_device *d)
{
	rig_rc rc = want(rec, JK_BLE_REC_DEVICE, 0);

	if (rc != RIG_OK)
		return rc;
	memset(d, 0, sizeof *d);
	return table_decode(rec, &device_table, d);
}

/* ---- settings registers (docs/protocols/jk.md §4.2) ------------------------------------------------------ */

/* The JK04 settings a write can reach; JK02 is arithmetic (see rig_jk_ble_setting_reg). */
static const uint8_t jk04_regs[][2] = {
	{ JK_SET_CELL_COUNT, 0x1C }, { JK_SET_POWER_OFF_MV, 0x20 }, { JK_SET_BAL_START_MV, 0x58 },
	{ JK_SET_BAL_TRIGGER_MV, 0x64 }, { JK_SET_MAX_BAL_MA, 0x68 }, { JK_SET_BAL_SWITCH, JK_BLE_REG_JK04_BAL },
};

static const struct field *setting_field(enum jk_ble_layout layout, unsigned k)
{
	const struct table *t;
	unsigned i;

	if ((unsigned)layout >= JK_BLE_LAYOUT_COUNT || k >= JK_SET_COUNT)
		return NULL;
	t = &settings_tables[layout];
	for (i = 0; i < t->n; i++) {
		unsigned first = (t->f[i].member - offsetof(struct jk_ble_settings, value)) / 4u;

		if (k >= first && k < first + t->f[i].count)
			return &t->f[i];
	}
	return NULL;
}

int rig_jk_ble_setting_present(enum jk_ble_layout layout, unsigned k)
{
	return setting_field(layout, k) != NULL;
}

uint8_t rig_jk_ble_setting_reg(enum jk_ble_layout layout, unsigned k)
{
	unsigned i;

	if (!rig_jk_ble_setting_present(layout, k))
		return 0;
	if (layout == JK_BLE_JK04) {
		for (i = 0; i < N_OF(jk04_regs); i++)
			if (jk04_regs[i][0] == k)
				return jk04_regs[i][1];
		return 0;
	}
	/* Words 0..31 are registers 1..0x20; the last two moved between 24S and 32S. */
	if (k < 32u)
		return (uint8_t)(k + 1u);
	if (k == JK_SET_SCP_DELAY_US)
		return layout == JK_BLE_JK02_24S ? 0x25 : 0x21;
	return layout == JK_BLE_JK02_24S ? 0x26 : 0x22;
}

int rig_jk_ble_setting_of_reg(enum jk_ble_layout layout, uint8_t reg)
{
	unsigned k;

	for (k = 0; reg && k < JK_SET_COUNT; k++)
		if (rig_jk_ble_setting_reg(layout, k) == reg)
			return (int)k;
	return -1;
}

rig_rc rig_jk_ble_setting_from_wire(enum jk_ble_layout layout, unsigned k, uint32_t wire, uint32_t *value)
{
	const struct field *f = setting_field(layout, k);
	int32_t milli;
	rig_rc rc;

	if (!f)
		return RIG_ERR_ARG;
	if (f->wire != W_F32) {
		*value = wire;
		return RIG_OK;
	}
	rc = rig_jk_ble_f32_to_milli(wire, &milli);
	*value = (uint32_t)milli;
	return rc;
}

/* ---- receive assembler ------------------------------------------------------------------- */

void rig_jk_ble_rx_init(struct jk_ble_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

/* The frame handed out last leaves the buffer only now, so the caller could read it in place. */
static void rx_release(struct jk_ble_rx *rx)
{
	if (rx->out) {
		rig_rxbuf_drop(&rx->b, rx->buf, rx->out);
		rx->out = 0;
	}
}

size_t rig_jk_ble_rx_feed(struct jk_ble_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	rx_release(rx);
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

static uint16_t frame_len(const uint8_t *p)
{
	if (is_header(p, HDR_CMD))
		return JK_BLE_CMD_LEN;
	if (is_header(p, HDR_REC))
		return JK_BLE_RECORD_LEN;
	return 0;
}

rig_rc rig_jk_ble_rx_next(struct jk_ble_rx *rx, const uint8_t **wire, size_t *n)
{
	rx_release(rx);
	for (;;) {
		uint16_t start = 0, need;
		struct jk_ble_cmd c;
		rig_rc rc;

		while (start < rx->b.have && rx->buf[start] != HDR_CMD[0] && rx->buf[start] != HDR_REC[0])
			start++;
		rig_rxbuf_skip(&rx->b, rx->buf, start);
		if (rx->b.have < sizeof HDR_CMD)
			return RIG_MORE;
		need = frame_len(rx->buf);
		if (!need) {
			rig_rxbuf_skip(&rx->b, rx->buf, 1);
			continue;
		}
		if (rx->b.have < need)
			return RIG_MORE;
		/* A new record starting inside this one: a notification was lost and the window holds
		 * the tail of one record and the head of the next, whose sum8 still matches one time in
		 * 256. Start again at the new header rather than trust the sum. */
		if (need == JK_BLE_RECORD_LEN) {
			uint16_t k;

			for (k = 1; k + sizeof HDR_REC <= need && !is_header(rx->buf + k, HDR_REC); k++)
				;
			if (k + sizeof HDR_REC <= need) {
				rig_rxbuf_skip(&rx->b, rx->buf, k);
				rx->b.rejected_frames++;
				continue;
			}
		}
		rc = need == JK_BLE_CMD_LEN ? rig_jk_ble_cmd_parse(rx->buf, need, &c)
		                            : rig_jk_ble_record_check(rx->buf, need);
		if (rc == RIG_OK) {
			rx->out = need;
			*wire = rx->buf;
			*n = need;
			return RIG_OK;
		}
		/* A header inside noise, or a record cut short by the next one: resync one byte on. */
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- the error mask (docs/protocols/jk.md §3.7, docs/field-notes.md §2.3) ------------------------------------- */

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

uint32_t rig_jk_ble_errors_to_prot(uint32_t errors, enum jk_ble_layout layout)
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

void rig_jk_ble_to_pack_state(const struct jk_ble_cells *c, enum jk_ble_layout layout, struct pack_state *s)
{
	unsigned i, n = 0, hi = 0, lo = 0, slots = rig_jk_ble_slots(layout);

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
	s->prot = rig_jk_ble_errors_to_prot(c->errors, layout);
	s->bal_mask = c->balance_action && n ? (uint32_t)1u << hi | (uint32_t)1u << lo : 0u;
	s->temp_count = 0;
	if (layout == JK_BLE_JK04)
		return;
	for (i = 0; i < JK_BLE_TEMPS_MAX && s->temp_count < PACK_TEMPS_MAX; i++)
		if (temp_present(c, layout, i))
			s->temp_dK[s->temp_count++] = (uint16_t)(c->temp_dK[i] < 0 ? 0 : c->temp_dK[i]);
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

void rig_jk_ble_cmd_ack(struct jk_ble_cmd *c)
{
	(void)rig_jk_ble_cmd_write(c, JK_BLE_REG_ACK, 1, 1);
}

void rig_jk_ble_record_begin(uint8_t rec[JK_BLE_RECORD_LEN], uint8_t type, uint8_t counter)
{
	memset(rec, 0, JK_BLE_RECORD_LEN);
	memcpy(rec, HDR_REC, sizeof HDR_REC);
	rec[4] = type;
	rec[5] = counter;
}

void rig_jk_ble_record_seal(uint8_t rec[JK_BLE_RECORD_LEN])
{
	memcpy(rec, HDR_REC, sizeof HDR_REC);
	rec[JK_BLE_RECORD_LEN - 1u] = rig_jk_ble_sum8(rec, JK_BLE_RECORD_LEN - 1u);
}

uint32_t rig_jk_ble_milli_to_f32(int32_t milli)
{
	uint32_t a = milli < 0 ? 0u - (uint32_t)milli : (uint32_t)milli;
	uint32_t sign = milli < 0 ? 0x80000000u : 0u;
	uint32_t r = 0, q = 0, mant;
	int pos = 31, lead = 0, got = 0;

	if (a == 0)
		return 0;
	/* Schoolbook division of a by 1000, one bit at a time (a's bits, then zero fraction bits),
	 * until the quotient has 25 significant bits: the mantissa and one rounding bit. The
	 * remainder left over is the sticky part. No divider needed, and none on the lx106. */
	while (got < 25) {
		uint32_t bit = pos >= 0 ? (a >> pos) & 1u : 0u;

		r = r << 1 | bit;
		if (r >= 1000u) {
			r -= 1000u;
			if (!got)
				lead = pos;
			q = q << 1 | 1u;
			got++;
		} else if (got) {
			q <<= 1;
			got++;
		}
		pos--;
	}
	mant = q >> 1;
	if ((q & 1u) && (r || (mant & 1u)))       /* nearest, ties to even */
		mant++;
	if (mant >> 24) {
		mant >>= 1;
		lead++;
	}
	return sign | (uint32_t)(lead + 127) << 23 | (mant & 0x7FFFFFu);
}

static int fits_s16(int32_t v)
{
	return v >= -32768 && v <= 32767;
}

static rig_rc wire_put(uint8_t *p, uint8_t kind, uint32_t v)
{
	int32_t s = (int32_t)v, old;

	switch (kind) {
	case W_U8:
	case W_U16:
		if (v >> (8u * wire_width[kind]))
			return RIG_ERR_ARG;
		break;
	case W_S16:
		if (!fits_s16(s))
			return RIG_ERR_ARG;
		break;
	case W_TEMP:
		if (s < -32768 + JK_BLE_DK_ZERO_C || s > 32767 + JK_BLE_DK_ZERO_C)
			return RIG_ERR_ARG;
		v = (uint32_t)(s - JK_BLE_DK_ZERO_C);
		break;
	case W_F32:
		/* A float that already reads as this value keeps its finer bits (captured records
		 * rebuild exactly); otherwise the nearest float. */
		if (rig_jk_ble_f32_to_milli(get_le(p, 4), &old) == RIG_OK && old == s)
			return RIG_OK;
		v = rig_jk_ble_milli_to_f32(s);
		break;
	default:
		break;
	}
	put_le(p, v, wire_width[kind]);
	return RIG_OK;
}

static uint32_t mem_get(const uint8_t *m, uint8_t kind)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	int32_t i32;

	switch (kind) {
	case M_U8:  memcpy(&u8, m, 1); return u8;
	case M_U16: memcpy(&u16, m, 2); return u16;
	case M_U32: memcpy(&u32, m, 4); return u32;
	default:    memcpy(&i32, m, 4); return (uint32_t)i32;
	}
}

static rig_rc table_encode(uint8_t *rec, const struct table *t, const void *st)
{
	const uint8_t *base = st;
	unsigned i, k;

	for (i = 0; i < t->n; i++) {
		const struct field *f = &t->f[i];

		for (k = 0; k < f->count; k++) {
			uint32_t v = mem_get(base + f->member + k * mem_width[f->mem], f->mem);
			rig_rc rc = wire_put(rec + f->off + k * wire_width[f->wire], f->wire, v);

			if (rc != RIG_OK)
				return rc;
		}
	}
	return RIG_OK;
}

rig_rc rig_jk_ble_cells_encode(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                           const struct jk_ble_cells *c)
{
	rig_rc rc = want(rec, JK_BLE_REC_CELLS, (unsigned)layout);

	return rc != RIG_OK ? rc : table_encode(rec, &cells_tables[layout], c);
}

rig_rc rig_jk_ble_settings_encode(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                              const struct jk_ble_settings *s)
{
	rig_rc rc = want(rec, JK_BLE_REC_SETTINGS, (unsigned)layout);

	return rc != RIG_OK ? rc : table_encode(rec, &settings_tables[layout], s);
}

rig_rc rig_jk_ble_device_encode(uint8_t rec[JK_BLE_RECORD_LEN], const struct jk_ble_device *d)
{
	rig_rc rc = want(rec, JK_BLE_REC_DEVICE, 0);

	return rc != RIG_OK ? rc : table_encode(rec, &device_table, d);
}

uint32_t rig_jk_ble_setting_to_wire(enum jk_ble_layout layout, unsigned k, uint32_t value)
{
	const struct field *f = setting_field(layout, k);

	return f && f->wire == W_F32 ? rig_jk_ble_milli_to_f32((int32_t)value) : value;
}

uint32_t rig_jk_ble_errors_from_prot(uint32_t prot, enum jk_ble_layout layout)
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

#endif /* RIG_FIRMWARE */
