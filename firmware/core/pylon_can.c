/* The Pylontech low-voltage CAN set (include/bmsrig/core/pylon_can.h). Layouts and the sources
 * they come from: docs/protocols/pylontech-can.md. */
#include <string.h>

#include "bmsrig/core/pylon_can.h"
#include "intmath.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* v / 10^k, truncated; the ESP8266 has no divider (intmath.h). */
static uint32_t u_div_pow10(uint32_t v, unsigned k)
{
	while (k--)
		v = u32_div10(v);
	return v;
}

/* The same toward zero for a signed value, as C's '/' would give. */
static int32_t s_div_pow10(int32_t v, unsigned k)
{
	uint32_t m = u_div_pow10(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, k);

	return v < 0 ? -(int32_t)m : (int32_t)m;
}

static uint16_t sat_u16(uint32_t v)
{
	return v > 0xFFFFu ? 0xFFFFu : (uint16_t)v;
}

static uint16_t sat_s16(int32_t v)
{
	if (v > 32767)
		v = 32767;
	if (v < -32768)
		v = -32768;
	return (uint16_t)(int16_t)v;
}

static uint16_t sat_u16_as_s16(uint32_t v)
{
	return v > 32767u ? 32767u : (uint16_t)v;
}

static int32_t get_s16(const uint8_t *d)
{
	return (int16_t)get_le16(d);
}

/* ---- 0x359: one bit per item, the same items as protections (bytes 0-1) and warnings (2-3) --- */

/* enc: the pack_prot bits that set the bit; dec: what the bit reads back as. Over-temperature
 * and under-temperature have one bit for both directions; a set bit reads back as both. */
static const struct flag_bit {
	uint8_t byte, mask;
	uint32_t enc, dec;
} flag_bits[] = {
	{ 0, 0x02u, PACK_PROT_CELL_OV | PACK_PROT_PACK_OV, PACK_PROT_CELL_OV },
	{ 0, 0x04u, PACK_PROT_CELL_UV | PACK_PROT_PACK_UV, PACK_PROT_CELL_UV },
	{ 0, 0x08u, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT },
	{ 0, 0x10u, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT },
	{ 0, 0x80u, PACK_PROT_DSG_OC | PACK_PROT_SHORT, PACK_PROT_DSG_OC },
	{ 1, 0x01u, PACK_PROT_CHG_OC, PACK_PROT_CHG_OC },
};
#define FLAG_COMM_BYTE 3u        /* "internal communication fail", an alarm of the battery's own */
#define FLAG_COMM_MASK 0x08u

static uint8_t flags_of(uint32_t bits, uint8_t byte)
{
	uint8_t out = 0;
	size_t i;

	for (i = 0; i < N_OF(flag_bits); i++)
		if (flag_bits[i].byte == byte && (bits & flag_bits[i].enc))
			out |= flag_bits[i].mask;
	return out;
}

static uint32_t bits_of(const uint8_t *two)
{
	uint32_t out = 0;
	size_t i;

	for (i = 0; i < N_OF(flag_bits); i++)
		if (two[flag_bits[i].byte] & flag_bits[i].mask)
			out |= flag_bits[i].dec;
	return out;
}

static int system_error(const struct rig_inv_battery *r)
{
	return (r->prot & PACK_PROT_AFE) || (r->alarm & RIG_INV_ALARM_SYSTEM);
}

/* ---- 0x35A: two bits per item, 01 alarm, 10 OK, 11 not supported; bytes 4-7 the warnings ---- */

#define ITEM_ALARM 0x1u
#define ITEM_OK    0x2u
#define ITEM_NONE  0x3u
/* enc 0 and alarm 0: an item the emulated BMS does not have (contactor, cell imbalance).
 * "general" (enc all) is any alarm at all and reads back as nothing in particular. */
static const struct item {
	uint8_t byte, shift;
	uint32_t enc, dec;
	uint8_t alarm;               /* enum rig_inv_alarm bits that also raise it */
} items[] = {
	{ 0, 0, 0xFFFFFFFFu, 0, RIG_INV_ALARM_SYSTEM },
	{ 0, 2, PACK_PROT_CELL_OV | PACK_PROT_PACK_OV, PACK_PROT_CELL_OV, 0 },
	{ 0, 4, PACK_PROT_CELL_UV | PACK_PROT_PACK_UV, PACK_PROT_CELL_UV, 0 },
	{ 0, 6, PACK_PROT_CHG_OT | PACK_PROT_DSG_OT, PACK_PROT_DSG_OT, 0 },
	{ 1, 0, PACK_PROT_CHG_UT | PACK_PROT_DSG_UT, PACK_PROT_DSG_UT, 0 },
	{ 1, 2, PACK_PROT_CHG_OT, PACK_PROT_CHG_OT, 0 },
	{ 1, 4, PACK_PROT_CHG_UT, PACK_PROT_CHG_UT, 0 },
	{ 1, 6, PACK_PROT_DSG_OC, PACK_PROT_DSG_OC, 0 },
	{ 2, 0, PACK_PROT_CHG_OC, PACK_PROT_CHG_OC, 0 },
	{ 2, 2, 0, 0, 0 },                                   /* contactor */
	{ 2, 4, PACK_PROT_SHORT, PACK_PROT_SHORT, 0 },
	{ 2, 6, PACK_PROT_AFE, PACK_PROT_AFE, RIG_INV_ALARM_SYSTEM },
	{ 3, 0, 0, 0, 0 },                                   /* cell imbalance */
};

static void items_encode(uint32_t bits, uint8_t alarm, uint8_t *four)
{
	size_t i;

	for (i = 0; i < N_OF(items); i++) {
		unsigned v = ITEM_NONE;
		if (items[i].enc || items[i].alarm)
			v = (bits & items[i].enc) || (alarm & items[i].alarm) ? ITEM_ALARM : ITEM_OK;
		four[items[i].byte] = (uint8_t)(four[items[i].byte] | v << items[i].shift);
	}
}

static uint32_t items_decode(const uint8_t *four)
{
	uint32_t out = 0;
	size_t i;

	for (i = 0; i < N_OF(items); i++)
		if ((four[items[i].byte] >> items[i].shift & 0x3u) == ITEM_ALARM)
			out |= items[i].dec;
	return out;
}

/* ---- 0x35C ---------------------------------------------------------------------------------- */

static const struct { uint8_t wire, req; } request_bits[] = {
	{ 0x80u, RIG_INV_CHG_ENABLE }, { 0x40u, RIG_INV_DSG_ENABLE }, { 0x20u, RIG_INV_FORCE_CHG_1 },
	{ 0x10u, RIG_INV_FORCE_CHG_2 }, { 0x08u, RIG_INV_FULL_CHG_REQ },
};

/* ---- the frames ----------------------------------------------------------------------------- */

static uint32_t design_or_full_mAh(const struct rig_inv_battery *r)
{
	return r->design_mAh ? r->design_mAh : r->full_mAh;
}

rig_rc rig_pylon_can_encode(uint32_t id, const struct rig_inv_battery *r, struct rig_can_frame *f)
{
	uint8_t *d = f->data;
	size_t i;

	memset(f, 0, sizeof *f);
	f->id = id;
	f->dlc = 8;
	switch (id) {
	case PYLON_CAN_ID_LIMITS:
		put_le16(d, sat_u16(u_div_pow10(r->cvl_mV, 2)));
		put_le16(d + 2, sat_s16(s_div_pow10(r->ccl_mA, 2)));
		put_le16(d + 4, sat_s16(s_div_pow10(r->dcl_mA, 2)));     /* a positive magnitude, as real packs send */
		put_le16(d + 6, sat_u16(u_div_pow10(r->dvl_mV, 2)));
		break;
	case PYLON_CAN_ID_SOC:
		put_le16(d, r->soc_pct);
		put_le16(d + 2, r->soh_pct);
		put_le16(d + 4, r->soc_cpct);
		break;
	case PYLON_CAN_ID_MEASURE:
		put_le16(d, sat_u16_as_s16(u_div_pow10(r->pack_mV, 1)));
		put_le16(d + 2, sat_s16(s_div_pow10(r->current_mA, 2)));
		put_le16(d + 4, sat_s16((int32_t)r->temp_dK - (int32_t)PACK_DK_ZERO_C));
		break;
	case PYLON_CAN_ID_FLAGS:
		d[0] = flags_of(r->prot, 0);
		d[1] = flags_of(r->prot, 1);
		if (system_error(r))
			d[1] |= PYLON_CAN_359_SYS_ERR_A | PYLON_CAN_359_SYS_ERR_B;
		d[2] = flags_of(r->warn, 0);
		d[3] = flags_of(r->warn, 1);
		if (r->alarm & RIG_INV_ALARM_COMM)
			d[FLAG_COMM_BYTE] |= FLAG_COMM_MASK;
		d[4] = r->module_count;
		d[5] = 'P';
		d[6] = 'N';
		break;
	case PYLON_CAN_ID_REQUEST:
		for (i = 0; i < N_OF(request_bits); i++)
			if (r->request & request_bits[i].req)
				d[0] |= request_bits[i].wire;
		break;
	case PYLON_CAN_ID_NAME:
		/* Space padded; Deye recognises the battery only when the name begins with "PYLON". */
		memset(d, ' ', 8);
		for (i = 0; i < 8 && r->manufacturer[i]; i++)
			d[i] = (uint8_t)r->manufacturer[i];
		break;
	case PYLON_CAN_ID_ALARMS:
		items_encode(r->prot, r->alarm, d);
		items_encode(r->warn, 0, d + 4);
		break;
	case PYLON_CAN_ID_INFO:
		/* Model and firmware (bytes 0-3) stay 0: nothing in the record says them. */
		put_le16(d + 4, sat_u16(u_div_pow10(r->full_mAh, 3)));
		break;
	case PYLON_CAN_ID_CAPACITY:
		put_le16(d, sat_u16(u_div_pow10(design_or_full_mAh(r), 3)));
		break;
	default:
		return RIG_ERR_UNSUPPORTED;
	}
	return RIG_OK;
}

static const uint32_t set_order[] = {
	PYLON_CAN_ID_LIMITS, PYLON_CAN_ID_SOC, PYLON_CAN_ID_MEASURE, PYLON_CAN_ID_FLAGS,
	PYLON_CAN_ID_REQUEST, PYLON_CAN_ID_NAME,
	PYLON_CAN_ID_ALARMS, PYLON_CAN_ID_INFO, PYLON_CAN_ID_CAPACITY,
};
#define SET_CORE_COUNT 6u

size_t rig_pylon_can_encode_set(const struct rig_inv_battery *rec, int extras, struct rig_can_frame *out,
                                size_t cap)
{
	size_t want = extras ? N_OF(set_order) : SET_CORE_COUNT, i;

	for (i = 0; i < want && i < cap; i++)
		(void)rig_pylon_can_encode(set_order[i], rec, &out[i]);
	return i;
}

/* The shortest DLC each frame comes with from any sender we know of. */
static const struct { uint32_t id; uint8_t min_dlc; unsigned have; } decode_rows[] = {
	{ PYLON_CAN_ID_LIMITS, 6, PYLON_CAN_HAVE_LIMITS },     /* DVL (6-7) is "reserved" in V1.2 */
	{ PYLON_CAN_ID_SOC, 4, PYLON_CAN_HAVE_SOC },           /* high-res SOC only on newer firmware */
	{ PYLON_CAN_ID_MEASURE, 6, PYLON_CAN_HAVE_MEASURE },
	{ PYLON_CAN_ID_FLAGS, 5, PYLON_CAN_HAVE_FLAGS },       /* "PN" (5-6) not relied on: Pytes sends "PY" */
	{ PYLON_CAN_ID_REQUEST, 1, PYLON_CAN_HAVE_REQUEST },
	{ PYLON_CAN_ID_NAME, 1, PYLON_CAN_HAVE_NAME },         /* Pytes sends 5 bytes */
	{ PYLON_CAN_ID_ALARMS, 8, PYLON_CAN_HAVE_ALARMS },
	{ PYLON_CAN_ID_INFO, 6, PYLON_CAN_HAVE_INFO },
	{ PYLON_CAN_ID_CAPACITY, 2, PYLON_CAN_HAVE_CAPACITY },
};

rig_rc rig_pylon_can_decode(const struct rig_can_frame *f, struct rig_inv_battery *r, unsigned *have)
{
	const uint8_t *d = f->data;
	size_t row, i;
	int32_t t;

	if (f->ext || f->dlc > 8u)
		return RIG_ERR_UNSUPPORTED;
	for (row = 0; row < N_OF(decode_rows) && decode_rows[row].id != f->id; row++)
		;
	if (row == N_OF(decode_rows))
		return RIG_ERR_UNSUPPORTED;
	if (f->dlc < decode_rows[row].min_dlc)
		return RIG_ERR_LENGTH;
	switch (f->id) {
	case PYLON_CAN_ID_LIMITS:
		r->cvl_mV = get_le16(d) * 100u;
		r->ccl_mA = get_s16(d + 2) * 100;
		/* Some senders give DCL as a negative number; the record keeps a magnitude. */
		r->dcl_mA = get_s16(d + 4) < 0 ? -get_s16(d + 4) * 100 : get_s16(d + 4) * 100;
		r->dvl_mV = f->dlc >= 8 ? get_le16(d + 6) * 100u : 0u;
		break;
	case PYLON_CAN_ID_SOC:
		r->soc_pct = (uint8_t)(get_le16(d) > 100u ? 100u : get_le16(d));
		r->soh_pct = (uint8_t)(get_le16(d + 2) > 100u ? 100u : get_le16(d + 2));
		r->soc_cpct = f->dlc >= 6 ? get_le16(d + 4) : (uint16_t)(r->soc_pct * 100u);
		break;
	case PYLON_CAN_ID_MEASURE:
		t = get_s16(d);
		r->pack_mV = t < 0 ? 0u : (uint32_t)t * 10u;
		r->current_mA = get_s16(d + 2) * 100;
		t = get_s16(d + 4) + (int32_t)PACK_DK_ZERO_C;
		r->temp_dK = (uint16_t)(t < 0 ? 0 : t);
		break;
	case PYLON_CAN_ID_FLAGS:
		r->prot = bits_of(d);
		r->warn = bits_of(d + 2);
		r->alarm = 0;
		if (d[1] & (PYLON_CAN_359_SYS_ERR_A | PYLON_CAN_359_SYS_ERR_B))
			r->alarm |= RIG_INV_ALARM_SYSTEM;
		if (d[FLAG_COMM_BYTE] & FLAG_COMM_MASK)
			r->alarm |= RIG_INV_ALARM_COMM;
		r->module_count = d[4];
		break;
	case PYLON_CAN_ID_REQUEST:
		r->request = 0;
		for (i = 0; i < N_OF(request_bits); i++)
			if (d[0] & request_bits[i].wire)
				r->request |= request_bits[i].req;
		break;
	case PYLON_CAN_ID_NAME:
		memset(r->manufacturer, 0, sizeof r->manufacturer);
		for (i = 0; i < f->dlc && d[i]; i++)
			r->manufacturer[i] = (char)d[i];
		while (i && r->manufacturer[i - 1] == ' ')
			r->manufacturer[--i] = '\0';
		break;
	case PYLON_CAN_ID_ALARMS:
		r->prot = items_decode(d);
		r->warn = items_decode(d + 4);
		break;
	case PYLON_CAN_ID_INFO:
		r->full_mAh = get_le16(d + 4) * 1000u;
		break;
	default:   /* PYLON_CAN_ID_CAPACITY */
		r->design_mAh = get_le16(d) * 1000u;
		break;
	}
	*have |= decode_rows[row].have;
	return RIG_OK;
}

void rig_pylon_can_keepalive(struct rig_can_frame *f)
{
	memset(f, 0, sizeof *f);
	f->id = PYLON_CAN_ID_KEEPALIVE;
	f->dlc = 8;
}

int rig_pylon_can_is_keepalive(const struct rig_can_frame *f)
{
	return !f->ext && f->id == PYLON_CAN_ID_KEEPALIVE;
}
