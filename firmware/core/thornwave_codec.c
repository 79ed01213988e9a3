/* Thornwave PowerMon codec (thornwave.h, docs/protocols/thornwave.md). */
#include <string.h>

#include "bmsrig/core/jk_ble.h"       /* the integer f32 <-> milli converter */
#include "bmsrig/core/thornwave.h"
#include "intmath.h"

/* ---- ATT PDUs --------------------------------------------------------------------------- */

int rig_tw_att_fixed_len(uint8_t op)
{
	switch (op) {
	case TW_ATT_READ_REQ:  return 3;
	case TW_ATT_BLOB_REQ:  return 5;
	case TW_ATT_ERROR_RSP: return (int)TW_ATT_ERROR_LEN;
	case TW_ATT_WRITE_REQ: return 5;
	case TW_ATT_WRITE_RSP: return 1;
	case TW_ATT_READ_RSP:
	case TW_ATT_BLOB_RSP:
	case TW_ATT_NOTIFY:    return 0;
	default:               return -1;
	}
}

rig_rc rig_tw_att_parse(const uint8_t *p, size_t n, struct tw_att *a)
{
	int fixed;

	memset(a, 0, sizeof *a);
	if (n < 1 || n > TW_ATT_PDU_MAX)
		return RIG_ERR_LENGTH;
	fixed = rig_tw_att_fixed_len(p[0]);
	if (fixed < 0)
		return RIG_ERR_FRAME;
	if (fixed > 0 && n != (size_t)fixed)
		return RIG_ERR_LENGTH;
	a->op = p[0];
	switch (p[0]) {
	case TW_ATT_READ_REQ:
		a->handle = get_le16(p + 1);
		break;
	case TW_ATT_BLOB_REQ:
		a->handle = get_le16(p + 1);
		a->offset = get_le16(p + 3);
		break;
	case TW_ATT_ERROR_RSP:
		a->err_op = p[1];
		a->handle = get_le16(p + 2);
		a->err_code = p[4];
		break;
	case TW_ATT_WRITE_REQ:
		a->handle = get_le16(p + 1);
		a->value = p + 3;
		a->value_len = 2;
		break;
	case TW_ATT_WRITE_RSP:
		break;
	case TW_ATT_NOTIFY:
		if (n < 3)
			return RIG_ERR_LENGTH;
		a->handle = get_le16(p + 1);
		a->value = p + 3;
		a->value_len = n - 3;
		break;
	default:                         /* read and blob responses: the value follows the opcode */
		a->value = p + 1;
		a->value_len = n - 1;
		break;
	}
	return RIG_OK;
}

size_t rig_tw_att_encode(const struct tw_att *a, uint8_t *out, size_t cap)
{
	int fixed = rig_tw_att_fixed_len(a->op);
	size_t head = a->op == TW_ATT_NOTIFY ? 3u : 1u, n;

	if (fixed < 0)
		return 0;
	n = fixed > 0 ? (size_t)fixed : head + a->value_len;
	if (n > cap || n > TW_ATT_PDU_MAX)
		return 0;
	out[0] = a->op;
	switch (a->op) {
	case TW_ATT_READ_REQ:
		put_le16(out + 1, a->handle);
		break;
	case TW_ATT_BLOB_REQ:
		put_le16(out + 1, a->handle);
		put_le16(out + 3, a->offset);
		break;
	case TW_ATT_ERROR_RSP:
		out[1] = a->err_op;
		put_le16(out + 2, a->handle);
		out[4] = a->err_code;
		break;
	case TW_ATT_WRITE_REQ:
		if (a->value_len != 2)
			return 0;
		put_le16(out + 1, a->handle);
		memcpy(out + 3, a->value, 2);
		break;
	case TW_ATT_WRITE_RSP:
		break;
	default:
		if (a->op == TW_ATT_NOTIFY)
			put_le16(out + 1, a->handle);
		if (a->value_len)
			memcpy(out + head, a->value, a->value_len);
		break;
	}
	return n;
}

size_t rig_tw_att_piece_len(size_t value_len, size_t offset)
{
	size_t left = offset < value_len ? value_len - offset : 0u;

	return left < TW_ATT_MTU - 1u ? left : TW_ATT_MTU - 1u;
}

/* ---- the legacy value ----------------------------------------------------------------------- */

void rig_tw_clock_unpack(uint32_t packed, struct tw_clock *c)
{
	c->sec = (uint8_t)(packed & 0x3Fu);
	c->min = (uint8_t)(packed >> 6 & 0x3Fu);
	c->hour = (uint8_t)(packed >> 12 & 0x1Fu);
	c->day = (uint8_t)(packed >> 17 & 0x1Fu);
	c->month = (uint8_t)(packed >> 22 & 0x0Fu);
	c->year = (uint16_t)(2017u + (packed >> 26));
}

/* Byte offset of each float in the legacy value. */
static const uint8_t value_float_at[TW_F_COUNT] = { 4, 8, 12, 16, 20, 48 };

static int64_t get_le64s(const uint8_t *p)
{
	return (int64_t)((uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32);
}

rig_rc rig_tw_value_decode(const uint8_t *p, size_t n, struct tw_value *v)
{
	unsigned i;

	memset(v, 0, sizeof *v);
	if (n < TW_VALUE_LEN)
		return RIG_ERR_LENGTH;
	memcpy(v->head, p, 3);
	v->soc_half = p[3];
	for (i = 0; i < TW_F_COUNT; i++) {
		v->bits[i] = get_le32(p + value_float_at[i]);
		if (rig_jk_ble_f32_to_milli(v->bits[i], &v->milli[i]) != RIG_OK)
			return RIG_ERR_FRAME;
	}
	v->energy_mWh = get_le64s(p + 24);
	v->charge_mAh = get_le64s(p + 32);
	v->uptime_s = get_le32(p + 40);
	v->clock = get_le32(p + 44);
	return RIG_OK;
}

/* m degC to dK, rounded, clamped to what a pack_state holds. */
static uint16_t mC_to_dK(int32_t mC)
{
	int32_t dK = i32_div10_round(i32_div10_round(mC)) + (int32_t)PACK_DK_ZERO_C;

	return (uint16_t)(dK < 0 ? 0 : dK > 0xFFFF ? 0xFFFF : dK);
}

void rig_tw_to_pack_state(const struct tw_value *v, struct pack_state *s)
{
	int32_t v1 = v->milli[TW_F_V1];

	memset(s, 0, sizeof *s);
	s->pack_mV = v1 < 0 ? 0u : (uint32_t)v1;
	s->current_mA = v->milli[TW_F_CURRENT];
	s->soc_pct = (uint8_t)(v->soc_half > 200u ? 100u : v->soc_half >> 1);
	s->temp_count = 1;
	s->temp_dK[0] = mC_to_dK(v->milli[TW_F_TEMP]);
}

void rig_tw_monitor_to_pack_state(const struct tw_monitor *m, struct pack_state *s)
{
	memset(s, 0, sizeof *s);
	s->pack_mV = m->v1_mV < 0 ? 0u : (uint32_t)m->v1_mV;
	s->current_mA = m->current_mA;
	s->soc_pct = m->soc_pct <= 100u ? m->soc_pct : 0u;
	s->temp_count = 1;
	s->temp_dK[0] = mC_to_dK(m->temp_mC);
}

/* ---- COBS and the monitor frame ---------------------------------------------------------------- */

rig_rc rig_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outn)
{
	size_t i = 0, o = 0;

	*outn = 0;
	while (i < n) {
		uint8_t code = in[i++];
		size_t k;

		if (code == 0 || i + code - 1u > n)
			return RIG_ERR_FRAME;
		for (k = 1; k < code; k++) {
			if (in[i] == 0)
				return RIG_ERR_FRAME;
			if (o >= cap)
				return RIG_ERR_LENGTH;
			out[o++] = in[i++];
		}
		/* A code below 0xFF stands for a zero, except at the very end. */
		if (code < 0xFF && i < n) {
			if (o >= cap)
				return RIG_ERR_LENGTH;
			out[o++] = 0;
		}
	}
	*outn = o;
	return RIG_OK;
}

/* Offsets of the monitor frame's fields with V2 (PowerMon); a -5S frame lacks V2, so its
 * fields from the current on sit 4 bytes earlier. */
enum { M_FW = 0, M_HW = 2, M_TIME = 3, M_FLAGS = 7, M_V1 = 11, M_V2 = 15, M_I = 19, M_P = 23,
       M_COULOMB = 27, M_ENERGY = 35, M_TEMP = 43, M_STATUS = 47, M_SOC = 48, M_RUNTIME = 49 };

static int family_has_v2(uint8_t hw_rev, size_t *len)
{
	switch (hw_rev >> 4) {
	case 2:  *len = TW_MON_LEN; return 1;
	case 3:  *len = TW_MON_LEN_5S; return 0;
	default: *len = 0; return 0;
	}
}

rig_rc rig_tw_monitor_decode(const uint8_t *p, size_t n, struct tw_monitor *m)
{
	static const uint8_t floats[] = { TW_F_V1, TW_F_V2, TW_F_CURRENT, TW_F_POWER };
	int32_t *dst[] = { &m->v1_mV, &m->v2_mV, &m->current_mA, &m->power_mW };
	size_t want, at = M_V1, k;
	int v2;

	memset(m, 0, sizeof *m);
	if (n < M_V1)
		return RIG_ERR_LENGTH;
	v2 = family_has_v2(p[M_HW], &want);
	if (!want || n != want)
		return RIG_ERR_LENGTH;
	m->fw_bcd = get_le16(p + M_FW);
	m->hw_rev = p[M_HW];
	m->time_s = get_le32(p + M_TIME);
	m->flags = get_le32(p + M_FLAGS);
	for (k = 0; k < sizeof floats; k++) {
		if (floats[k] == TW_F_V2 && !v2)
			continue;
		m->bits[floats[k]] = get_le32(p + at);
		if (rig_jk_ble_f32_to_milli(m->bits[floats[k]], dst[k]) != RIG_OK)
			return RIG_ERR_FRAME;
		at += 4;
	}
	m->charge_mAh = get_le64s(p + at);
	m->energy_mWh = get_le64s(p + at + 8);
	m->bits[TW_F_TEMP] = get_le32(p + at + 16);
	if (rig_jk_ble_f32_to_milli(m->bits[TW_F_TEMP], &m->temp_mC) != RIG_OK)
		return RIG_ERR_FRAME;
	m->power_status = p[at + 20];
	m->soc_pct = p[at + 21];
	m->runtime_min = get_le16(p + at + 22);
	return RIG_OK;
}

void rig_tw_cobs_rx_init(struct tw_cobs_rx *rx)
{
	memset(rx, 0, sizeof *rx);
}

size_t rig_tw_cobs_rx_feed(struct tw_cobs_rx *rx, const uint8_t *p, size_t n, uint8_t *out, size_t *outn)
{
	size_t i;

	*outn = 0;
	for (i = 0; i < n; i++) {
		size_t got;

		if (p[i] != 0) {
			if (rx->have < sizeof rx->buf)
				rx->buf[rx->have++] = p[i];
			else
				rx->overflow = 1;
			continue;
		}
		/* A delimiter: an empty frame is the leading 0x00 of a read, not an error. */
		if (rx->have && !rx->overflow &&
		    rig_cobs_decode(rx->buf, rx->have, out, TW_COBS_MAX, &got) == RIG_OK && got) {
			rx->have = 0;
			*outn = got;
			return i + 1;
		}
		if (rx->have)
			rx->rejected++;
		rx->have = 0;
		rx->overflow = 0;
	}
	return n;
}

/* ---- the client's assembler --------------------------------------------------------------------- */

void rig_thornwave_rx_init(struct thornwave_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_thornwave_rx_feed(struct thornwave_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

rig_rc rig_thornwave_rx_next(struct thornwave_rx *rx, size_t want, uint8_t pdu[TW_ATT_PDU_MAX], struct tw_att *a)
{
	for (;;) {
		size_t need;
		uint8_t op;

		if (!rx->b.have)
			return RIG_MORE;
		op = rx->buf[0];
		if (op == TW_ATT_ERROR_RSP)
			need = TW_ATT_ERROR_LEN;
		else if (op == TW_ATT_READ_RSP || op == TW_ATT_BLOB_RSP)
			need = 1u + (want < TW_ATT_MTU - 1u ? want : TW_ATT_MTU - 1u);
		else {
			rig_rxbuf_skip(&rx->b, rx->buf, 1);   /* starts nothing a client waits for */
			continue;
		}
		if (rx->b.have < need)
			return RIG_MORE;
		memcpy(pdu, rx->buf, need);
		if (rig_tw_att_parse(pdu, need, a) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)need);
			return RIG_OK;
		}
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

rig_rc rig_thornwave_rx_next_notify(struct thornwave_rx *rx, uint8_t pdu[TW_ATT_PDU_MAX], struct tw_att *a)
{
	for (;;) {
		size_t need = 0, i;
		uint8_t op;

		if (!rx->b.have)
			return RIG_MORE;
		op = rx->buf[0];
		if (op == TW_ATT_ERROR_RSP)
			need = TW_ATT_ERROR_LEN;
		else if (op == TW_ATT_WRITE_RSP)
			need = 1;
		else if (op == TW_ATT_NOTIFY) {
			/* Only the monitor handle's header starts one: COBS data has no 0x00, so
			 * "1B 10 00" is a header wherever it stands. */
			if (rx->b.have < 3)
				return RIG_MORE;
			if (rx->buf[1] != (uint8_t)TW_MON_HANDLE || rx->buf[2] != (uint8_t)(TW_MON_HANDLE >> 8)) {
				rig_rxbuf_skip(&rx->b, rx->buf, 1);
				continue;
			}
			/* Its value runs to 20 bytes or to the frame's closing 0x00, whichever is first
			 * (a 0x00 first in the value opens a frame); a header inside it means its tail
			 * was lost: it ends before that header. */
			for (i = 4; i < rx->b.have && i < TW_ATT_PDU_MAX && !need; i++)
				if (rx->buf[i] == 0)
					need = i >= 5 && rx->buf[i - 2] == TW_ATT_NOTIFY &&
					       rx->buf[i - 1] == (uint8_t)TW_MON_HANDLE ? i - 2 : i + 1;
			if (!need && rx->b.have >= TW_ATT_PDU_MAX)
				need = TW_ATT_PDU_MAX;
			if (!need)
				return RIG_MORE;
		} else {
			rig_rxbuf_skip(&rx->b, rx->buf, 1);
			continue;
		}
		if (rx->b.have < need)
			return RIG_MORE;
		memcpy(pdu, rx->buf, need);
		if (rig_tw_att_parse(pdu, need, a) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)need);
			return RIG_OK;
		}
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

rig_rc rig_tw_clock_pack(const struct tw_clock *c, uint32_t *packed)
{
	if (c->year < 2017u || c->year > 2017u + 63u || c->month < 1u || c->month > 12u || c->day < 1u ||
	    c->day > 31u || c->hour > 23u || c->min > 59u || c->sec > 59u)
		return RIG_ERR_ARG;
	*packed = (uint32_t)(c->year - 2017u) << 26 | (uint32_t)c->month << 22 | (uint32_t)c->day << 17 |
	          (uint32_t)c->hour << 12 | (uint32_t)c->min << 6 | c->sec;
	return RIG_OK;
}

static void put_le64s(uint8_t *p, int64_t v)
{
	put_le32(p, (uint32_t)(uint64_t)v);
	put_le32(p + 4, (uint32_t)((uint64_t)v >> 32));
}

/* The bits to send for a float of milli value m: the decoded bits while they still say m. */
static uint32_t float_bits(uint32_t kept, int32_t m)
{
	int32_t back;

	if (kept && rig_jk_ble_f32_to_milli(kept, &back) == RIG_OK && back == m)
		return kept;
	return rig_jk_ble_milli_to_f32(m);
}

void rig_tw_value_encode(const struct tw_value *v, uint8_t out[TW_VALUE_LEN])
{
	unsigned i;

	memcpy(out, v->head, 3);
	out[3] = v->soc_half;
	for (i = 0; i < TW_F_COUNT; i++)
		put_le32(out + value_float_at[i], float_bits(v->bits[i], v->milli[i]));
	put_le64s(out + 24, v->energy_mWh);
	put_le64s(out + 32, v->charge_mAh);
	put_le32(out + 40, v->uptime_s);
	put_le32(out + 44, v->clock);
}

size_t rig_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t i, o = 1, code_at = 0;
	uint8_t code = 1;

	if (cap < 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (in[i] == 0) {
			out[code_at] = code;
			code_at = o++;
			code = 1;
		} else {
			if (o >= cap)
				return 0;
			out[o++] = in[i];
			if (++code == 0xFF && i + 1 < n) {
				out[code_at] = code;
				code_at = o++;
				code = 1;
			}
		}
		if (o > cap)
			return 0;
	}
	out[code_at] = code;
	return o;
}

size_t rig_tw_monitor_encode(const struct tw_monitor *m, uint8_t out[TW_MON_LEN])
{
	size_t len, at = M_V1;
	int v2 = family_has_v2(m->hw_rev, &len);

	if (!len)
		return 0;
	put_le16(out + M_FW, m->fw_bcd);
	out[M_HW] = m->hw_rev;
	put_le32(out + M_TIME, m->time_s);
	put_le32(out + M_FLAGS, m->flags);
	put_le32(out + at, float_bits(m->bits[TW_F_V1], m->v1_mV));
	at += 4;
	if (v2) {
		put_le32(out + at, float_bits(m->bits[TW_F_V2], m->v2_mV));
		at += 4;
	}
	put_le32(out + at, float_bits(m->bits[TW_F_CURRENT], m->current_mA));
	put_le32(out + at + 4, float_bits(m->bits[TW_F_POWER], m->power_mW));
	put_le64s(out + at + 8, m->charge_mAh);
	put_le64s(out + at + 16, m->energy_mWh);
	put_le32(out + at + 24, float_bits(m->bits[TW_F_TEMP], m->temp_mC));
	out[at + 28] = m->power_status;
	out[at + 29] = m->soc_pct;
	put_le16(out + at + 30, m->runtime_min);
	return len;
}

#endif /* RIG_FIRMWARE */
