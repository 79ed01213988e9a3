/* Deye RS485 battery protocol: FC 0x04 on the 0x1000 block, FC 0x11 identity
 * (include/bmsrig/core/deye_modbus.h, docs/protocols/deye-modbus.md), on the core's Modbus RTU
 * framing (modbus_rtu.c). */
#include <string.h>

#include "bmsrig/core/deye_modbus.h"
#include "intmath.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- requests and responses ------------------------------------------------------------------- */

void rig_deye_mb_request_read(struct modbus_frame *f, uint8_t addr, uint16_t start, uint16_t count)
{
	rig_modbus_reg_count(f, addr, DEYE_MB_FC_READ_INPUT, start, count);
}

void rig_deye_mb_request_ident(struct modbus_frame *f, uint8_t addr)
{
	f->addr = addr;
	f->fc = DEYE_MB_FC_REPORT_ID;
	f->len = 0;
}

rig_rc rig_deye_mb_read_decode(const struct modbus_frame *f, uint16_t *start, uint16_t *count)
{
	return rig_modbus_reg_count_decode(f, DEYE_MB_FC_READ_INPUT, start, count);
}

rig_rc rig_deye_mb_response_regs(struct modbus_frame *f, uint8_t addr, const uint16_t *regs, uint16_t count)
{
	uint16_t i;

	if (count > DEYE_MB_READ_MAX)
		return RIG_ERR_LENGTH;
	f->addr = addr;
	f->fc = DEYE_MB_FC_READ_INPUT;
	f->data[0] = (uint8_t)(count * 2u);
	for (i = 0; i < count; i++)
		put_be16(f->data + 1 + 2u * i, regs[i]);
	f->len = (uint8_t)(1u + count * 2u);
	return RIG_OK;
}

rig_rc rig_deye_mb_regs_decode(const struct modbus_frame *f, uint16_t *regs, uint16_t cap, uint16_t *count)
{
	uint16_t i, n;

	if (f->fc != DEYE_MB_FC_READ_INPUT)
		return RIG_ERR_UNSUPPORTED;
	if (f->len < 1 || f->data[0] & 1u || f->data[0] + 1u != f->len)
		return RIG_ERR_LENGTH;
	n = (uint16_t)(f->data[0] / 2u);
	if (n > cap)
		return RIG_ERR_LENGTH;
	for (i = 0; i < n; i++)
		regs[i] = get_be16(f->data + 1 + 2u * i);
	*count = n;
	return RIG_OK;
}

/* ---- FC 0x11 identity ------------------------------------------------------------------------ */

/* The first '*' in p[0..n), or n: picolibc for the lx106 has no memchr the core may use. */
static size_t star_at(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != '*')
		i++;
	return i;
}

rig_rc rig_deye_mb_ident_encode(struct modbus_frame *f, uint8_t addr, const struct deye_mb_ident *id)
{
	uint8_t *p = f->data + 1;

	if (id->model_len < 1 || id->model_len > DEYE_MB_MODEL_MAX ||
	    star_at((const uint8_t *)id->model, id->model_len) != id->model_len)
		return RIG_ERR_ARG;
	f->addr = addr;
	f->fc = DEYE_MB_FC_REPORT_ID;
	memcpy(p, id->model, id->model_len);
	p += id->model_len;
	*p++ = '*';
	*p++ = id->sw[0];
	*p++ = id->sw[1];
	*p++ = '*';
	*p++ = id->hw[0];
	*p++ = id->hw[1];
	*p++ = '*';
	memcpy(p, id->serial, DEYE_MB_SERIAL_LEN);
	p += DEYE_MB_SERIAL_LEN;
	*p++ = '*';
	f->data[0] = (uint8_t)DEYE_MB_IDENT_LEN(id->model_len);
	f->len = (uint8_t)(1u + f->data[0]);
	return RIG_OK;
}

/* The model ends at the first '*'; everything after it has fixed places, each '*' checked. */
rig_rc rig_deye_mb_ident_decode(const struct modbus_frame *f, struct deye_mb_ident *id)
{
	const uint8_t *p = f->data + 1;
	size_t m;

	if (f->fc != DEYE_MB_FC_REPORT_ID)
		return RIG_ERR_UNSUPPORTED;
	if (f->len < 1 || f->data[0] + 1u != f->len)
		return RIG_ERR_LENGTH;
	m = star_at(p, f->data[0]);
	if (m == f->data[0])
		return RIG_ERR_FRAME;
	if (m < 1 || m > DEYE_MB_MODEL_MAX || f->data[0] != DEYE_MB_IDENT_LEN(m))
		return RIG_ERR_LENGTH;
	if (p[m + 3] != '*' || p[m + 6] != '*' || p[m + 7 + DEYE_MB_SERIAL_LEN] != '*')
		return RIG_ERR_FRAME;
	memset(id, 0, sizeof *id);
	id->model_len = (uint8_t)m;
	memcpy(id->model, p, m);
	memcpy(id->sw, p + m + 1, 2);
	memcpy(id->hw, p + m + 4, 2);
	memcpy(id->serial, p + m + 7, DEYE_MB_SERIAL_LEN);
	return RIG_OK;
}

/* ---- the register block <-> the record ------------------------------------------------------ */

/* pack_prot bits <-> Deye's 0x1005 warning and 0x1006 protection bits. A Deye bit that stands
 * for several of ours (one over-current bit for both directions) decodes to the first row's. */
struct flag_map {
	uint32_t prot;
	uint8_t bit;
};
static const struct flag_map prot_map[] = {
	{ PACK_PROT_CELL_OV, 0 }, { PACK_PROT_CELL_UV, 1 }, { PACK_PROT_PACK_OV, 2 },
	{ PACK_PROT_PACK_UV, 3 }, { PACK_PROT_SHORT, 4 }, { PACK_PROT_DSG_OC, 5 },
	{ PACK_PROT_CHG_OC, 5 }, { PACK_PROT_CHG_OT, 6 }, { PACK_PROT_CHG_UT, 7 },
	{ PACK_PROT_DSG_OT, 8 }, { PACK_PROT_DSG_UT, 9 },
};
static const struct flag_map warn_map[] = {
	{ PACK_PROT_CELL_OV, 0 }, { PACK_PROT_CELL_UV, 1 }, { PACK_PROT_PACK_OV, 2 },
	{ PACK_PROT_PACK_UV, 3 }, { PACK_PROT_CHG_OC, 4 }, { PACK_PROT_DSG_OC, 5 },
	{ PACK_PROT_CHG_OT, 6 }, { PACK_PROT_DSG_OT, 6 }, { PACK_PROT_CHG_UT, 7 }, { PACK_PROT_DSG_UT, 7 },
};

static uint16_t flags_to_deye(const struct flag_map *m, size_t n, uint32_t prot)
{
	uint16_t out = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (prot & m[i].prot)
			out = (uint16_t)(out | 1u << m[i].bit);
	return out;
}

static uint32_t flags_from_deye(const struct flag_map *m, size_t n, uint16_t bits)
{
	uint32_t out = 0;
	uint16_t done = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if ((bits & 1u << m[i].bit) && !(done & 1u << m[i].bit)) {
			out |= m[i].prot;
			done = (uint16_t)(done | 1u << m[i].bit);
		}
	return out;
}

/* Saturating conversions into the block's 16-bit fields, in tenths rounded to nearest (the
 * lx106 has no divider: intmath.h). */
static uint16_t u16_tenth(uint32_t v)
{
	v = v > 0xFFFFu * 10u ? 0xFFFFu * 10u : v;
	return (uint16_t)u32_div10_round(v);
}

static uint16_t s16_tenth(int32_t v)
{
	v = v < -327680 ? -327680 : (v > 327670 ? 327670 : v);
	return (uint16_t)(int16_t)i32_div10_round(v);
}

/* 0.1 K -> the wire's signed 0.1 degC. */
static uint16_t temp_wire(uint16_t dK)
{
	return (uint16_t)(int16_t)((int32_t)dK - (int32_t)PACK_DK_ZERO_C);
}

static uint16_t temp_dK(uint16_t wire)
{
	int32_t v = (int32_t)(int16_t)wire + (int32_t)PACK_DK_ZERO_C;

	return (uint16_t)(v < 0 ? 0 : v);
}

void rig_deye_mb_block_encode(const struct rig_inv_battery *r, uint16_t regs[DEYE_MB_BLOCK_COUNT])
{
	uint16_t st = 0;

	if (r->alarm & RIG_INV_ALARM_SYSTEM)
		st |= DEYE_MB_ST_FAULT;
	if (r->current_mA > 0)
		st |= DEYE_MB_ST_CHARGING;
	if (r->current_mA < 0)
		st |= DEYE_MB_ST_DISCHARGING;
	if (r->fets & RIG_INV_FET_CHG)
		st |= DEYE_MB_ST_CHG_FET;
	if (r->fets & RIG_INV_FET_DSG)
		st |= DEYE_MB_ST_DSG_FET;
	memset(regs, 0, DEYE_MB_BLOCK_COUNT * sizeof regs[0]);
	regs[DEYE_MB_R_PACK_V] = u16_tenth(r->pack_mV);
	regs[DEYE_MB_R_CURRENT] = s16_tenth(r->current_mA);
	regs[DEYE_MB_R_REMAIN] = u16_tenth(r->remain_mAh);
	regs[DEYE_MB_R_TEMP_AVG] = temp_wire(r->temp_dK);
	regs[DEYE_MB_R_TEMP_ENV] = temp_wire(r->temp_env_dK ? r->temp_env_dK : r->temp_dK);
	regs[DEYE_MB_R_WARN] = flags_to_deye(warn_map, N_OF(warn_map), r->warn);
	regs[DEYE_MB_R_PROT] = flags_to_deye(prot_map, N_OF(prot_map), r->prot);
	regs[DEYE_MB_R_STATUS] = st;
	regs[DEYE_MB_R_SOC] = (uint16_t)(r->soc_cpct > 10000u ? 1000u : u32_div10_round(r->soc_cpct));
	regs[DEYE_MB_R_SOH] = (uint16_t)(r->soh_pct > 100u ? 1000u : r->soh_pct * 10u);
	regs[DEYE_MB_R_FULL] = u16_tenth(r->full_mAh);
	regs[DEYE_MB_R_CYCLES] = r->cycles;
	regs[DEYE_MB_R_CCL] = u16_tenth(r->ccl_mA < 0 ? 0u : (uint32_t)r->ccl_mA);
	regs[DEYE_MB_R_CELL_MAX] = r->cell_max_mV;
	regs[DEYE_MB_R_CELL_MIN] = r->cell_min_mV;
	regs[DEYE_MB_R_TEMP_MAX] = temp_wire(r->temp_max_dK);
	regs[DEYE_MB_R_TEMP_MIN] = temp_wire(r->temp_min_dK);
	regs[DEYE_MB_R_TEMP_MOS] = temp_wire(r->temp_mos_dK ? r->temp_mos_dK : r->temp_dK);
	regs[DEYE_MB_R_FLOAT_V] = u16_tenth(r->cvl_mV);
	regs[DEYE_MB_R_DESIGN] = u16_tenth(r->design_mAh);
}

void rig_deye_mb_block_decode(const uint16_t regs[DEYE_MB_BLOCK_COUNT], struct rig_inv_battery *r)
{
	uint16_t st = regs[DEYE_MB_R_STATUS];
	uint16_t soc = regs[DEYE_MB_R_SOC] > 1000u ? 1000u : regs[DEYE_MB_R_SOC];
	uint16_t soh = regs[DEYE_MB_R_SOH] > 1000u ? 1000u : regs[DEYE_MB_R_SOH];

	memset(r, 0, sizeof *r);
	r->pack_mV = regs[DEYE_MB_R_PACK_V] * 10u;
	r->current_mA = (int32_t)(int16_t)regs[DEYE_MB_R_CURRENT] * 10;
	r->remain_mAh = regs[DEYE_MB_R_REMAIN] * 10u;
	r->temp_dK = temp_dK(regs[DEYE_MB_R_TEMP_AVG]);
	r->temp_env_dK = temp_dK(regs[DEYE_MB_R_TEMP_ENV]);
	r->warn = flags_from_deye(warn_map, N_OF(warn_map), regs[DEYE_MB_R_WARN]);
	r->prot = flags_from_deye(prot_map, N_OF(prot_map), regs[DEYE_MB_R_PROT]);
	r->alarm = (st & DEYE_MB_ST_FAULT) ? RIG_INV_ALARM_SYSTEM : 0u;
	r->fets = (uint8_t)(((st & DEYE_MB_ST_CHG_FET) ? RIG_INV_FET_CHG : 0u) |
	                    ((st & DEYE_MB_ST_DSG_FET) ? RIG_INV_FET_DSG : 0u));
	r->soc_cpct = (uint16_t)(soc * 10u);
	r->soc_pct = (uint8_t)u32_div10_round(soc);
	r->soh_pct = (uint8_t)u32_div10_round(soh);
	r->full_mAh = regs[DEYE_MB_R_FULL] * 10u;
	r->cycles = regs[DEYE_MB_R_CYCLES];
	r->ccl_mA = (int32_t)regs[DEYE_MB_R_CCL] * 10;
	r->cell_max_mV = regs[DEYE_MB_R_CELL_MAX];
	r->cell_min_mV = regs[DEYE_MB_R_CELL_MIN];
	r->temp_max_dK = temp_dK(regs[DEYE_MB_R_TEMP_MAX]);
	r->temp_min_dK = temp_dK(regs[DEYE_MB_R_TEMP_MIN]);
	r->temp_mos_dK = temp_dK(regs[DEYE_MB_R_TEMP_MOS]);
	r->cvl_mV = regs[DEYE_MB_R_FLOAT_V] * 10u;
	r->design_mAh = regs[DEYE_MB_R_DESIGN] * 10u;
	r->request = (uint8_t)((r->ccl_mA > 0 ? RIG_INV_CHG_ENABLE : 0u) |
	                       ((st & DEYE_MB_ST_DSG_FET) ? RIG_INV_DSG_ENABLE : 0u));
	r->module_count = 1;
}

uint16_t rig_deye_mb_reg_value(const struct rig_inv_battery *r, uint32_t reg)
{
	uint16_t regs[DEYE_MB_BLOCK_COUNT];

	if (reg >= DEYE_MB_BLOCK_START && reg < DEYE_MB_BLOCK_START + DEYE_MB_BLOCK_COUNT) {
		rig_deye_mb_block_encode(r, regs);
		return regs[reg - DEYE_MB_BLOCK_START];
	}
	return reg == DEYE_MB_BLOCK_START + DEYE_MB_BLOCK_COUNT ? 0u : 0xFFFFu;
}
