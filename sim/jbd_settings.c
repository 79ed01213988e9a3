/* JBD's EEPROM and calibration registers over the neutral BMS settings (jbd_settings.h). */
#include "bmsrig/sim/jbd_settings.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
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

int jbd_reg_of_setting(unsigned id)
{
	for (size_t k = 0; k < N_OF(fields); k++)
		if (fields[k].id == id)
			return fields[k].reg;
	return -1;
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

	if (key == NULL || key[0] != '0' || (key[1] != 'x' && key[1] != 'X') || key[2] == '\0' ||
	    strlen(key) > 4 || strspn(key + 2, "0123456789abcdefABCDEF") != strlen(key + 2))
		return -1;
	unsigned long r = strtoul(key + 2, &end, 16);
	if (*end != '\0' || r < first || r > last)
		return -1;
	return kind == 's' ? (int)(r - first) : (int)r;
}

/* ---- older files' keys ------------------------------------------------------------------ */

/* The names older JBD scenarios give EEPROM registers, in everyday units. */
enum legacy_unit { U_MV, U_10MV, U_10MA, U_C };
static const struct legacy_name {
	const char *name;
	uint8_t reg;
	uint8_t unit;
} legacy_names[] = {
	{ "chg_ot_c", 0x18, U_C }, { "chg_ot_release_c", 0x19, U_C },
	{ "chg_ut_c", 0x1A, U_C }, { "chg_ut_release_c", 0x1B, U_C },
	{ "dsg_ot_c", 0x1C, U_C }, { "dsg_ot_release_c", 0x1D, U_C },
	{ "dsg_ut_c", 0x1E, U_C }, { "dsg_ut_release_c", 0x1F, U_C },
	{ "pack_ov_mv", 0x20, U_10MV }, { "pack_ov_release_mv", 0x21, U_10MV },
	{ "pack_uv_mv", 0x22, U_10MV }, { "pack_uv_release_mv", 0x23, U_10MV },
	{ "cell_ov_mv", 0x24, U_MV }, { "cell_ov_release_mv", 0x25, U_MV },
	{ "cell_uv_mv", 0x26, U_MV }, { "cell_uv_release_mv", 0x27, U_MV },
	{ "chg_oc_ma", 0x28, U_10MA }, { "dsg_oc_ma", 0x29, U_10MA },
	{ "balance_start_mv", 0x2A, U_MV }, { "balance_window_mv", 0x2B, U_MV },
};

/* Each unit: the range in the file's unit, and how many of them one register count is. */
static const struct legacy_unit_info {
	double min, max, per_count;
	const char *words;
} legacy_units[] = {
	[U_MV] = { 0, 65535, 1, "an integer number of mV" },
	[U_10MV] = { 0, 655350, 10, "a multiple of 10 mV" },
	[U_10MA] = { -327680, 327670, 10, "a multiple of 10 mA" },
	[U_C] = { -40, 120, 0, "a temperature in degC" },
};

static enum jbd_legacy_fail legacy_fail(enum jbd_legacy_fail f, char *why, size_t whycap,
                                        const char *fmt, ...)
{
	va_list ap;
	if (whycap > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whycap, fmt, ap);
		va_end(ap);
	}
	return f;
}

/* The setting a register holds whole, if one does. */
static void legacy_setting_of(struct jbd_legacy *out)
{
	out->setting = -1;
	out->setting_value = 0;
	for (size_t k = 0; k < N_OF(fields); k++)
		if (fields[k].reg == out->reg && fields[k].mask == 0xFFFFu) {
			out->setting = fields[k].id;
			out->setting_value = (int32_t)decode(&fields[k], out->raw);
		}
}

/* A scenario's key: the register and the raw value it asks for. */
static enum jbd_legacy_fail legacy_scenario(const char *key, int is_number, double d,
                                            struct jbd_legacy *out, char *why, size_t whycap)
{
	const struct legacy_name *sn = NULL;
	int reg = jbd_reg_of_key(key, 'e'), sign;
	double raw;
	size_t n = 0;

	for (size_t i = 0; i < N_OF(legacy_names) && reg < 0; i++)
		if (!strcmp(legacy_names[i].name, key)) {
			sn = &legacy_names[i];
			reg = sn->reg;
		}
	if (reg < 0) {
		if (whycap > 0)
			n = (size_t)snprintf(why, whycap, "expected a register \"0x%02X\"..\"0x%02X\" or one of: ",
			                     JBD_REG_EEPROM_FIRST, JBD_REG_EEPROM_LAST);
		for (size_t i = 0; i < N_OF(legacy_names) && n < whycap; i++)
			n += (size_t)snprintf(why + n, whycap - n, "%s%s", i ? ", " : "", legacy_names[i].name);
		return JBD_LEGACY_BAD_KEY;
	}
	sign = jbd_reg_is_signed((uint8_t)reg);
	if (!sn) {
		if (!is_number || d != floor(d) || d < (sign ? -32768 : 0) || d > 65535)
			return legacy_fail(JBD_LEGACY_BAD_VALUE, why, whycap,
			                   "expected the raw register value, an integer %s..65535",
			                   sign ? "-32768" : "0");
		raw = d;
	} else {
		const struct legacy_unit_info *u = &legacy_units[sn->unit];

		if (!is_number || !(d >= u->min && d <= u->max) ||
		    (u->per_count != 0 && fmod(d, u->per_count) != 0))
			return legacy_fail(JBD_LEGACY_BAD_VALUE, why, whycap, "expected %s %.10g..%.10g",
			                   u->words, u->min, u->max);
		raw = u->per_count != 0 ? d / u->per_count : (double)lround(PACK_DK_ZERO_C + 10.0 * d);
		if (raw < (sign ? -32768 : 0) || raw > (sign ? 32767 : 65535))
			return legacy_fail(JBD_LEGACY_BAD_VALUE, why, whycap,
			                   "expected a value register 0x%02X holds", (unsigned)reg);
	}
	out->reg = (uint8_t)reg;
	out->raw = (uint16_t)(int32_t)raw;
	return JBD_LEGACY_OK;
}

/* A state file's key: the register, the raw value, and what its messages call it. */
static enum jbd_legacy_fail legacy_state(enum jbd_legacy_kind kind, const char *key, int is_number,
                                         double d, struct jbd_legacy *out, char *what,
                                         size_t whatcap, char *why, size_t whycap)
{
	int cal = kind == JBD_LEGACY_CALIBRATION;
	int reg = jbd_reg_of_key(key, cal ? 'c' : 'e');
	if (reg < 0)
		return legacy_fail(JBD_LEGACY_BAD_KEY, why, whycap, "%s: unknown register \"%s\" (0x%02x..0x%02x)",
		                   cal ? "calibration" : "registers", key,
		                   cal ? JBD_REG_CAL_FIRST : JBD_REG_EEPROM_FIRST,
		                   cal ? JBD_REG_CAL_LAST : JBD_REG_EEPROM_LAST);
	snprintf(what, whatcap, "%s 0x%02x", cal ? "calibration" : "register", (unsigned)reg);
	int sig = !cal && jbd_reg_is_signed((uint8_t)reg);
	long lo = sig ? -32768 : 0, hi = sig ? 32767 : 65535;
	if (!is_number || d != floor(d))
		return legacy_fail(JBD_LEGACY_REFUSED, why, whycap, "%s: expected an integer", what);
	if (d < (double)lo || d > (double)hi)
		return legacy_fail(JBD_LEGACY_REFUSED, why, whycap, "%s: expected %ld..%ld, got %.0f",
		                   what, lo, hi, d);
	out->reg = (uint8_t)reg;
	out->raw = (uint16_t)((long)d & 0xFFFF);
	return JBD_LEGACY_OK;
}

enum jbd_legacy_fail jbd_legacy_setting(struct bms *b, enum jbd_legacy_kind kind, const char *key,
                                        int is_number, double value, struct jbd_legacy *out,
                                        char *why, size_t whycap)
{
	char what[32], reason[64];
	enum jbd_legacy_fail f;

	memset(out, 0, sizeof *out);
	out->setting = -1;
	if (kind == JBD_LEGACY_STRING) {
		int which = jbd_reg_of_key(key, 's');
		if (which < 0)
			return legacy_fail(JBD_LEGACY_BAD_KEY, why, whycap, "no such string register");
		out->reg = (uint8_t)which;
		return JBD_LEGACY_OK;
	}
	if (kind == JBD_LEGACY_SCENARIO) {
		f = legacy_scenario(key, is_number, value, out, why, whycap);
		snprintf(what, sizeof what, "register 0x%02X", (unsigned)out->reg);
	} else {
		f = legacy_state(kind, key, is_number, value, out, what, sizeof what, why, whycap);
	}
	if (f != JBD_LEGACY_OK)
		return f;
	/* Scenarios and state files checked each register as JBD would, and still do. */
	if (jbd_reg_check(out->reg, out->raw, reason, sizeof reason) != RIG_OK)
		return legacy_fail(JBD_LEGACY_REFUSED, why, whycap, "%s: %s", what, reason);
	legacy_setting_of(out);
	if (b != NULL)
		(void)jbd_legacy_apply(b, out);
	return JBD_LEGACY_OK;
}

rig_rc jbd_legacy_apply(struct bms *b, const struct jbd_legacy *l)
{
	return jbd_reg_set(b, l->reg, l->raw);
}
