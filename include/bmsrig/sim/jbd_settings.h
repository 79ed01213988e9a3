/*
 * JBD's numeric registers over the protocol-neutral BMS (bms.h): EEPROM 0x10-0x47 map onto
 * struct bms_settings through one table (sim/jbd_settings.c); bits no setting covers, and the
 * calibration registers 0xAD-0xD7, live in the BMS's store, stored only.
 */
#ifndef BMSRIG_JBD_SETTINGS_H
#define BMSRIG_JBD_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/sim/bms.h"

/* RIG_ERR_UNSUPPORTED: no such register. RIG_ERR_ARG: value out of range (set only; nothing
 * changes). A read composes the register from the settings it carries, in its own units. */
rig_rc jbd_reg_get(const struct bms *b, uint8_t reg, uint16_t *value);
rig_rc jbd_reg_set(struct bms *b, uint8_t reg, uint16_t value);
/* The check jbd_reg_set applies. On RIG_ERR_ARG, why (if cap > 0) reads like
 * "expected 1..32, got 40", in the register's units; signed registers are shown signed. */
rig_rc jbd_reg_check(uint8_t reg, uint16_t value, char *why, size_t whycap);
/* 0x28 and 0x29 hold s16 values. */
int jbd_reg_is_signed(uint8_t reg);
/* A JBD key of an older state file: "0x2f" or "0x2F" -> the register, when it is one of the
 * EEPROM (kind 'e'), calibration ('c') or string ('s') registers; -1 otherwise. For a string
 * it is the enum bms_text. */
int jbd_reg_of_key(const char *key, char kind);

#endif
