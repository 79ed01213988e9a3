/*
 * JBD's numeric registers over the protocol-neutral BMS (bms.h): EEPROM 0x10-0x47 map onto
 * struct bms_settings through one table (sim/jbd_settings.c); bits no setting covers, and the
 * calibration registers 0xAD-0xD7, live in the BMS's store, stored only.
 */
#ifndef BMSRIG_JBD_SETTINGS_H
#define BMSRIG_JBD_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/bms.h"

/* RIG_ERR_UNSUPPORTED: no such register. RIG_ERR_ARG: value out of range (set only; nothing
 * changes). A read composes the register from the settings it carries, in its own units. */
rig_rc jbd_reg_get(const struct bms *b, uint8_t reg, uint16_t *value);
rig_rc jbd_reg_set(struct bms *b, uint8_t reg, uint16_t value);
/* The check jbd_reg_set applies. On RIG_ERR_ARG, why (if cap > 0) reads like
 * "expected 1..32, got 40", in the register's units; signed registers are shown signed. */
rig_rc jbd_reg_check(uint8_t reg, uint16_t value, char *why, size_t whycap);
/* The EEPROM register that holds setting id (enum bms_setting_id), or -1 when JBD has none:
 * what a settings tool reads and writes to reach a neutral setting (tools/bmsctl.c). */
int jbd_reg_of_setting(unsigned id);
/* 0x28 and 0x29 hold s16 values. */
int jbd_reg_is_signed(uint8_t reg);
/* A JBD key of an older file: "0x2f" or "0x2F" (two hex digits) -> the register, when it is
 * one of the EEPROM (kind 'e'), calibration ('c') or string ('s') registers; -1 otherwise. For
 * a string it is the enum bms_text. */
int jbd_reg_of_key(const char *key, char kind);

/* ---- the keys older scenarios and state files use -------------------------------------------
 * The BMS's settings have names of their own (bms.h); JBD's registers were the names first, so
 * older files still spell settings that way. jbd_legacy_setting is the one way those keys reach
 * the BMS, so no other file needs to know a register number. */
enum jbd_legacy_kind {
	JBD_LEGACY_REGISTER,      /* state file "registers": "0x10".."0x47", the raw value */
	JBD_LEGACY_CALIBRATION,   /* state file "calibration": "0xad".."0xd7", raw, stored only */
	JBD_LEGACY_STRING,        /* state file "strings": "0xa0".."0xa2"; the key only */
	JBD_LEGACY_SCENARIO,      /* a JBD scenario's "settings": a register as above (0..65535,
	                           * signed ones from -32768), or an old name in everyday units
	                           * ("cell_ov_mv", "chg_ot_c", ...) */
};

enum jbd_legacy_fail {
	JBD_LEGACY_OK = 0,
	JBD_LEGACY_BAD_KEY,       /* no such key; why is the message */
	JBD_LEGACY_BAD_VALUE,     /* JBD_LEGACY_SCENARIO: why reads "expected ..."; the caller adds
	                           * ", got " and the value as the file spells it */
	JBD_LEGACY_REFUSED,       /* the value is wrong; why is the message, naming the register */
};

struct jbd_legacy {
	uint8_t reg;              /* the register the key names; STRING: the enum bms_text */
	uint16_t raw;             /* the value as the register holds it */
	int setting;              /* the enum bms_setting_id the whole register holds, else -1 */
	int32_t setting_value;    /* that setting's value */
};

/* Resolves key, checks the value (is_number = 0: the file holds something else there) and,
 * when b is not NULL and all is well, writes it to b as JBD would. out is filled as far as the
 * key and value were understood (REFUSED: reg and raw). */
enum jbd_legacy_fail jbd_legacy_setting(struct bms *b, enum jbd_legacy_kind kind, const char *key,
                                        int is_number, double value, struct jbd_legacy *out,
                                        char *why, size_t whycap);
/* Writes a setting jbd_legacy_setting accepted earlier (a scenario's, at its start). */
rig_rc jbd_legacy_apply(struct bms *b, const struct jbd_legacy *l);

#endif
