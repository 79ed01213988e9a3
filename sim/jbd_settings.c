/* JBD's EEPROM and calibration registers over the neutral BMS settings (jbd_settings.h). */
#include "bmsrig/sim/jbd_settings.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof (a) / sizeof (a)[0])
#define EEPROM_WORDS (JBD_REG_EEPROM_LAST - JBD_REG_EEPROM_FIRST + 1u)
#define CAL_WORDS    (JBD_REG_CAL_LAST - JBD_REG_CAL_FIRST + 1u)
#if EEPROM_WORDS + CAL_WORDS > BMS_STORE_WORDS
#error "the BMS store is too small for JBD's EEPROM and calibration"
#endif

/* The short-circuit threshold is a TI BQ769x0 PROTECT1 code in 0x38's hi byte: bit 7 RSNS,
 * bits 0-2 SCD_THRESH, mV across the shunt (the datasheet's RSNS = 1 column rather than
 * docs/protocols/jbd.md's approximate doubling). Bits 3-6 (the delay, not modelled) stay stored. */
static const uint16_t scd_mV[2][8] = {
	{ 22, 33, 44, 56, 67, 78, 89, 100 },
	{ 44, 67, 89, 111, 133, 155, 178, 200 },
};

enum conv { LINEAR = 0, SC_CODE };

/* One setting inside one register: setting = mul x ((reg & mask) >> shift) + add, the part
 * read as s16 when sgn. Bits no entry covers are stored, not interpreted. */
struct jbd_field {
	uint8_t reg;
	uint8_t id;               /* enum bms_setting_id */
	uint16_t mask;
	uint8_t shift, sgn, conv;
	int16_t mul, add;
};

#define WORD(r, id, mul)      { r, BMS_SET_##id, 0xFFFFu, 0, 0, LINEAR, mul, 0 }
#define LO(r, id)             { r, BMS_SET_##id, 0x00FFu, 0, 0, LINEAR, 1, 0 }
#define HI(r, id)             { r, BMS_SET_##id, 0xFF00u, 8, 0, LINEAR, 1, 0 }
#define BIT(r, id, n)         { r, BMS_SET_##id, (uint16_t)(1u << (n)), n, 0, LINEAR, 1, 0 }
static const struct jbd_field fields[] = {
	WORD(0x10, DESIGN_CAPACITY, 10),       WORD(0x11, CYCLE_CAPACITY, 10),
	WORD(0x12, FULL_CELL, 1),              WORD(0x13, EMPTY_CELL, 1),
	{ 0x15, BMS_SET_MFG_YEAR, 0xFE00u, 9, 0, LINEAR, 1, 2000 },      /* docs/protocols/jbd.md §4.2 */
	{ 0x15, BMS_SET_MFG_MONTH, 0x01E0u, 5, 0, LINEAR, 1, 0 },
	{ 0x15, BMS_SET_MFG_DAY, 0x001Fu, 0, 0, LINEAR, 1, 0 },
	WORD(0x17, CYCLES, 1),
	WORD(0x18, CHG_OTP, 1),                WORD(0x19, CHG_OTP_RELEASE, 1),
	WORD(0x1A, CHG_UTP, 1),                WORD(0x1B, CHG_UTP_RELEASE, 1),
	WORD(0x1C, DSG_OTP, 1),                WORD(0x1D, DSG_OTP_RELEASE, 1),
	WORD(0x1E, DSG_UTP, 1),                WORD(0x1F, DSG_UTP_RELEASE, 1),
	WORD(0x20, PACK_OVP, 10),              WORD(0x21, PACK_OVP_RELEASE, 10),
	WORD(0x22, PACK_UVP, 10),              WORD(0x23, PACK_UVP_RELEASE, 10),
	WORD(0x24, CELL_OVP, 1),               WORD(0x25, CELL_OVP_RELEASE, 1),
	WORD(0x26, CELL_UVP, 1),               WORD(0x27, CELL_UVP_RELEASE, 1),
	{ 0x28, BMS_SET_CHG_OC, 0xFFFFu, 0, 1, LINEAR, 10, 0 },          /* s16, positive */
	{ 0x29, BMS_SET_DSG_OC, 0xFFFFu, 0, 1, LINEAR, -10, 0 },         /* s16, stored negative */
	WORD(0x2A, BALANCE_START, 1),          WORD(0x2B, BALANCE_DELTA, 1),
	WORD(0x2C, SHUNT, 100),                /* 0.1 mOhm; bit 15 (0.01 mOhm, V9+) not modelled */
	BIT(0x2D, BALANCE_ENABLE, 2),          BIT(0x2D, BALANCE_CHG_ONLY, 3),
	WORD(0x2E, NTC_ENABLE, 1),             WORD(0x2F, CELL_COUNT, 1),
	/* The voltage points by SOC (docs/protocols/jbd.md §8.1/§8.3); 0x13 above is the 0 % point. */
	WORD(0x46, SOC_10, 1), WORD(0x35, SOC_20, 1), WORD(0x45, SOC_30, 1), WORD(0x34, SOC_40, 1),
	WORD(0x44, SOC_50, 1), WORD(0x33, SOC_60, 1), WORD(0x43, SOC_70, 1), WORD(0x32, SOC_80, 1),
	WORD(0x42, SOC_90, 1), WORD(0x47, SOC_100, 1),
	{ 0x38, BMS_SET_SC_THRESHOLD, 0x8700u, 8, 0, SC_CODE, 1, 0 },
	LO(0x39, SC_RELEASE),                  /* hi byte: secondary delays, stored */
	LO(0x3A, CHG_OTP_DELAY),               HI(0x3A, CHG_UTP_DELAY),
	LO(0x3B, DSG_OTP_DELAY),               HI(0x3B, DSG_UTP_DELAY),
	LO(0x3C, PACK_OVP_DELAY),              HI(0x3C, PACK_UVP_DELAY),
	LO(0x3D, CELL_OVP_DELAY),              HI(0x3D, CELL_UVP_DELAY),
	HI(0x3E, CHG_OC_DELAY),                LO(0x3E, CHG_OC_RELEASE),
	HI(0x3F, DSG_OC_DELAY),                LO(0x3F, DSG_OC_RELEASE),
};
#undef WORD
#undef LO
#undef HI
#undef BIT

/* Factory values of the bits no setting covers, {reg, LFP, NMC}; the rest of the EEPROM reads
 * 0 until written. LFP follows the SP04S034 dump, NMC uses OV 4250 / UV 2800 class values. */
static const struct { uint8_t reg; uint16_t lfp, nmc; } stored_defaults[] = {
	{ 0x14, 2, 2 },              /* self-discharge, 0.1 % */
	{ 0x2D, 0x000E, 0x000E },    /* bit 1 SCRL (bits 2, 3: the balancer settings) */
	{ 0x30, 30, 30 },            /* FET control time, s */
	{ 0x31, 10, 10 },            /* LED time, s */
	{ 0x36, 3900, 4350 },        /* secondary cell OV */
	{ 0x37, 2000, 2500 },        /* secondary cell UV */
	{ 0x38, 0x8D5C, 0x8D5C },    /* SC 155 mV (RSNS 1, code 5) 100 us; OC2 (real dump) */
	{ 0x39, 0xF064, 0xF064 },    /* secondary delays; SC release 100 s */
	{ 0x40, 2800, 3000 },        /* GPS shut-off voltage */
	{ 0x41, 10, 10 },
};

static int is_eeprom(uint8_t reg)
{
	return reg >= JBD_REG_EEPROM_FIRST && reg <= JBD_REG_EEPROM_LAST;
}

static int is_cal(uint8_t reg)
{
	return reg >= JBD_REG_CAL_FIRST && reg <= JBD_REG_CAL_LAST;
}

static unsigned store_index(uint8_t reg)
{
	return is_eeprom(reg) ? (unsigned)(reg - JBD_REG_EEPROM_FIRST)
	                      : EEPROM_WORDS + (unsigned)(reg - JBD_REG_CAL_FIRST);
}

static uint16_t stored(const struct bms *b, uint8_t reg)
{
	unsigned i = store_index(reg);
	if (b->store.written[i])
		return b->store.word[i];
	for (size_t k = 0; is_eeprom(reg) && k < N_OF(stored_defaults); k++)
		if (stored_defaults[k].reg == reg)
			return b->chem == MODEL_CHEM_NMC ? stored_defaults[k].nmc : stored_defaults[k].lfp;
	return 0;
}

int jbd_reg_is_signed(uint8_t reg)
{
	for (size_t k = 0; k < N_OF(fields); k++)
		if (fields[k].reg == reg && fields[k].sgn)
			return 1;
	return 0;
}

/* The setting an entry's part of raw stands for. */
static int64_t decode(const struct jbd_field *f, uint16_t raw)
{
	uint16_t part = (uint16_t)((raw & f->mask) >> f->shift);
	if (f->conv == SC_CODE)
		return scd_mV[(part >> 7) & 1u][part & 7u];
	return (int64_t)f->mul * (f->sgn ? (int16_t)part : (int32_t)part) + f->add;
}

/* The part of a register that carries setting value v (old: the register now, whose code is
 * kept when it already stands for v); the nearest the register can hold. */
static uint16_t encode(const struct jbd_field *f, int32_t v, uint16_t old)
{
	if (f->conv == SC_CODE) {
		unsigned best = (unsigned)(old & f->mask) >> f->shift;
		int32_t best_err = abs((int32_t)scd_mV[(best >> 7) & 1u][best & 7u] - v);
		for (unsigned rs = 0; rs < 2 && best_err != 0; rs++)
			for (unsigned c = 0; c < 8; c++)
				if (abs((int32_t)scd_mV[rs][c] - v) < best_err) {
					best = rs << 7 | c;
					best_err = abs((int32_t)scd_mV[rs][c] - v);
				}
		return (uint16_t)(best << f->shift);
	}
	long hi = f->sgn ? 32767 : (long)(f->mask >> f->shift), lo = f->sgn ? -32768 : 0;
	long r = lround((double)(v - f->add) / f->mul);
	r = r < lo ? lo : (r > hi ? hi : r);
	return (uint16_t)((((unsigned long)r & 0xFFFFu) << f->shift) & f->mask);
}

rig_rc jbd_reg_get(const struct bms *b, uint8_t reg, uint16_t *value)
{
	if (!is_eeprom(reg) && !is_cal(reg))
		return RIG_ERR_UNSUPPORTED;
	uint16_t raw = stored(b, reg);
	for (size_t k = 0; k < N_OF(fields); k++)
		if (fields[k].reg == reg)
			raw = (uint16_t)((raw & ~fields[k].mask) |
			                 encode(&fields[k], bms_setting_get(b, fields[k].id), raw));
	*value = raw;
	return RIG_OK;
}

rig_rc jbd_reg_check(uint8_t reg, uint16_t value, char *why, size_t whycap)
{
	if (!is_eeprom(reg) && !is_cal(reg)) {
		if (whycap > 0)
			snprintf(why, whycap, "no such register");
		return RIG_ERR_UNSUPPORTED;
	}
	for (size_t k = 0; k < N_OF(fields); k++) {
		const struct jbd_field *f = &fields[k];
		if (f->reg != reg || bms_setting_check(f->id, decode(f, value), NULL, 0) == RIG_OK)
			continue;
		if (whycap > 0) {
			/* In the register's own units: the setting's range over the scale. */
			const struct bms_setting_info *in = bms_setting_info(f->id);
			double a = (double)(in->min - f->add) / f->mul, z = (double)(in->max - f->add) / f->mul;
			int32_t part = (int32_t)((value & f->mask) >> f->shift);
			snprintf(why, whycap, "expected %.0f..%.0f, got %" PRId32, ceil(a < z ? a : z),
			         floor(a < z ? z : a), f->sgn ? (int32_t)(int16_t)part : part);
		}
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

rig_rc jbd_reg_set(struct bms *b, uint8_t reg, uint16_t value)
{
	rig_rc rc = jbd_reg_check(reg, value, NULL, 0);
	if (rc != RIG_OK)
		return rc;
	uint16_t mapped = 0;
	for (size_t k = 0; k < N_OF(fields); k++)
		if (fields[k].reg == reg) {
			(void)bms_setting_set(b, fields[k].id, decode(&fields[k], value));
			mapped |= fields[k].mask;
		}
	/* Only a register with bits no setting covers needs the store. */
	if (mapped != 0xFFFFu) {
		unsigned i = store_index(reg);
		b->store.word[i] = value;
		b->store.written[i] = 1;
	}
	return RIG_OK;
}

int jbd_reg_of_key(const char *key, char kind)
{
	unsigned first = kind == 'e' ? JBD_REG_EEPROM_FIRST : kind == 'c' ? JBD_REG_CAL_FIRST : JBD_REG_MFG_NAME;
	unsigned last = kind == 'e' ? JBD_REG_EEPROM_LAST : kind == 'c' ? JBD_REG_CAL_LAST : JBD_REG_BARCODE;
	char *end;

	if (key == NULL || key[0] != '0' || (key[1] != 'x' && key[1] != 'X') || key[2] == '\0')
		return -1;
	unsigned long r = strtoul(key + 2, &end, 16);
	if (*end != '\0' || strlen(key) > 4 || r < first || r > last)
		return -1;
	return kind == 's' ? (int)(r - first) : (int)r;
}
