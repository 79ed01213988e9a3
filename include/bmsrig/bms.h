/*
 * The JBD BMS's brain, independent of framing: EEPROM settings, measurement of the pack
 * model, the protection set with its delays and releases (all read from its own EEPROM
 * registers, jbd.md §8), FET control (protections AND the 0xE1 inhibit mask), balancing,
 * its own coulomb-counting SOC and the cycle and event counters.
 *
 * Protection rules (jbd.md §8.2-8.4):
 *   cell OV/UV    max/min cell mV vs 0x24/0x26, delay 0x3D lo/hi, release 0x25/0x27
 *   pack OV/UV    pack mV vs 0x20/0x22 (10 mV), delay 0x3C lo/hi, release 0x21/0x23
 *   charge OT/UT  max/min enabled NTC vs 0x18/0x1A (0.1 K), delay 0x3A lo/hi, release 0x19/0x1B
 *   dsg OT/UT     max/min enabled NTC vs 0x1C/0x1E, delay 0x3B lo/hi, release 0x1D/0x1F
 *   charge OC     current > 0x28 (10 mA), delay 0x3E hi; released 0x3E lo seconds after the trip
 *   dsg OC        current < 0x29 (10 mA, stored negative), delay 0x3F hi; release 0x3F lo s
 *   short circuit discharge current >= 0x38 hi-byte threshold (TI BQ769x0 PROTECT1: code ->
 *                 22..100 mV, doubled when RSNS bit 7 is set) / shunt 0x2C (0.1 mOhm); trips in
 *                 the step it is seen (its real delay is 70-400 us); released 0x39 lo seconds
 *                 after the trip. The secondary over-current in 0x38 lo is not modelled.
 * A trigger must hold continuously for its delay (measured from the first step that sees it);
 * threshold releases are immediate once the value is past the release value. Triggers
 * compare with >= / <=, releases with strict < / >. Temperature protections apply whatever
 * the current's direction (they say whether charging/discharging is allowed).
 * OV/charge protections open the charge FET; UV/discharge protections the discharge FET.
 *
 * SOC: remaining mAh integrates the *measured* current (offset and dead band included, no
 * efficiency) clamped to 0..full (full = 0x10). It snaps to full while charging with a cell at
 * or above 0x12 and to 0 while discharging with a cell at or below 0x13. At bms_init it is
 * estimated from the mean cell voltage on the EEPROM voltage points (0x13 = 0 %, 0x46, 0x35,
 * 0x45, 0x34, 0x44, 0x33, 0x43, 0x32, 0x42 = 90 %, 0x47 = 100 %), as a BMS does at first power-up.
 * One cycle (register 0x17) is counted per 0x11 (cycle capacity) of measured discharge.
 */
#ifndef BMSRIG_BMS_H
#define BMSRIG_BMS_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/jbd.h"
#include "bmsrig/model.h"
#include "bmsrig/rc.h"

#define BMS_EEPROM_COUNT (JBD_REG_EEPROM_LAST - JBD_REG_EEPROM_FIRST + 1)
#define BMS_CAL_COUNT    (JBD_REG_CAL_LAST - JBD_REG_CAL_FIRST + 1)
#define BMS_STRING_COUNT 3u
#define BMS_EVENT_COUNT  JBD_EVENTS_MAX
#define BMS_PROT_COUNT   11u           /* the evaluated protections: 0x03 prot bits 0..10 */
#define BMS_ABSENT_NTC_DK 2431u        /* an enabled but missing probe reads -30.0 degC (§4.6) */

/* 0xAA counter slots (jbd.md §7.3 order). */
enum bms_event {
	BMS_EV_SHORT = 0, BMS_EV_CHG_OC, BMS_EV_DSG_OC, BMS_EV_CELL_OV, BMS_EV_CELL_UV,
	BMS_EV_CHG_OT, BMS_EV_CHG_UT, BMS_EV_DSG_OT, BMS_EV_DSG_UT, BMS_EV_PACK_OV,
	BMS_EV_PACK_UV, BMS_EV_RESTART
};

/* What the BMS measured in its last step, in wire units. It reads every sense line and probe
 * input; what it reports and protects on is selected by the registers at the time (the first
 * 0x2F cells, the probes enabled in 0x2E), so a register write shows in the next 0x03 at once. */
struct bms_meas {
	uint16_t cell_mV[JBD_CELLS_MAX];    /* lines beyond the model's cells read 0 */
	uint32_t pack_mV;
	int32_t current_mA;                 /* + = charging, after offset and dead band */
	uint16_t probe_dK[JBD_NTC_MAX];     /* probes beyond the model's read BMS_ABSENT_NTC_DK */
};

/* The current sensor and board constants; set after bms_init, any time. */
struct bms_sensor {
	int32_t current_offset_mA;          /* added to the true current */
	uint32_t current_deadband_mA;       /* |reading| <= this reads 0 */
	uint16_t balance_current_mA;        /* reported in the 0x03 extension while balancing */
};

struct bms_prot {
	uint8_t tripped;
	uint8_t pending;                    /* trigger seen, delay running */
	uint32_t timer_ms;                  /* delay, or time since the trip for timed releases */
};

/* Faults in what the BMS senses (field-notes §3.2): the model stays true, the measurement lies.
 * An open sense line at the top of cell i (bit i-1 of open_wire_mask) leaves cell i reading
 * BMS_OPEN_WIRE_MV while the cell above it reads both cells together (for the top cell, the
 * cell below does). A forced cell reads force_mV whatever the model says. An open NTC reads
 * BMS_NTC_OPEN_DK (far below any limit), a shorted one BMS_NTC_SHORT_DK. The pack voltage is
 * measured apart from the cells and stays true. */
#define BMS_OPEN_WIRE_MV 0u
#define BMS_NTC_OPEN_DK  2331u          /* -40.0 degC */
#define BMS_NTC_SHORT_DK 3731u          /* +100.0 degC */
struct bms_sense_faults {
	uint32_t open_wire_mask;            /* bit 0 = cell 1 */
	uint32_t force_mask;                /* bit 0 = cell 1 */
	uint16_t force_mV[JBD_CELLS_MAX];
	uint8_t ntc_open_mask, ntc_short_mask;   /* bit 0 = probe 1 */
};

struct bms {
	struct bms_sense_faults faults;     /* applied by every measurement; all clear at init */
	uint16_t eeprom[BMS_EEPROM_COUNT];  /* 0x10..0x47; 0x15 date, 0x17 cycles live here */
	uint16_t cal[BMS_CAL_COUNT];        /* 0xAD..0xD7, stored only */
	struct jbd_text str[BMS_STRING_COUNT]; /* 0xA0 maker, 0xA1 model (= 0x05), 0xA2 barcode */
	uint16_t events[BMS_EVENT_COUNT];
	uint8_t mosfet_mask;                /* 0xE1 inhibit: JBD_MOSFET_CHG_OFF | _DSG_OFF */
	uint8_t sw_version;                 /* 0x03 byte 18, nibbles */
	struct bms_sensor sensor;
	struct bms_meas meas;
	struct bms_prot prot[BMS_PROT_COUNT]; /* indexed by enum jbd_prot_bit */
	uint16_t prot_raw;                  /* 0x03 protection word */
	uint8_t fet;                        /* JBD_FET_CHG_ON | JBD_FET_DSG_ON */
	uint32_t bal_mask;                  /* bit 0 = cell 1 */
	double remain_mAh;
	double cycle_progress_mAh;          /* measured discharge since the last counted cycle */
	double time_s;
};

/* EEPROM, strings and counters at factory values for m's chemistry, cell count, NTC count
 * and capacity; measures m and estimates the SOC from its voltage. */
rig_rc bms_init(struct bms *b, const struct model *m);
/* A power cycle: clears protection state and the 0xE1 mask, counts a restart (0xAA #12),
 * re-measures (when m is not NULL; otherwise the next bms_step does). EEPROM, remaining capacity and counters survive. */
void bms_restart(struct bms *b, const struct model *m);
/* Settings reset: EEPROM, calibration and strings back to factory values for m (as
 * bms_init sets them), then a restart. Counters and the remaining capacity survive. */
void bms_factory_reset(struct bms *b, const struct model *m);
/* One step: FETs gate requested_A (+ = charging), the model runs with what flows and the
 * balancing mask, then measure, count, protect, decide FETs and balancing for the next step. */
void bms_step(struct bms *b, struct model *m, double dt_s, double requested_A);

/* Numeric registers: EEPROM 0x10-0x47 and calibration 0xAD-0xD7.
 * RIG_ERR_UNSUPPORTED: no such register. RIG_ERR_ARG: value out of range (set only). */
rig_rc bms_reg_get(const struct bms *b, uint8_t reg, uint16_t *value);
rig_rc bms_reg_set(struct bms *b, uint8_t reg, uint16_t value);
/* The check bms_reg_set applies. On RIG_ERR_ARG, why (if cap > 0) reads like
 * "expected 1..32, got 40"; signed registers (0x28, 0x29) are shown signed. */
rig_rc bms_reg_check(uint8_t reg, uint16_t value, char *why, size_t whycap);
/* 0x28 and 0x29 hold s16 values. */
int bms_reg_is_signed(uint8_t reg);

/* Strings 0xA0-0xA2: at most JBD_TEXT_MAX bytes, no NUL. */
rig_rc bms_string_get(const struct bms *b, uint8_t reg, struct jbd_text *t);
rig_rc bms_string_set(struct bms *b, uint8_t reg, const char *text, size_t len);

/* 0xE1: bit 0 charge off, bit 1 discharge off; RIG_ERR_ARG above 3. Effective at once. */
rig_rc bms_set_mosfet_mask(struct bms *b, uint8_t mask);
/* 0xE0 and tests: the BMS's remaining capacity, clamped to full. */
void bms_set_remain_mAh(struct bms *b, uint32_t remain_mAh);
uint32_t bms_remain_mAh(const struct bms *b);
uint32_t bms_full_mAh(const struct bms *b);       /* register 0x10 in mAh */
uint8_t bms_soc_pct(const struct bms *b);          /* RSOC, rounded */
void bms_events_get(const struct bms *b, struct jbd_events *e);
void bms_events_clear(struct bms *b);

/* The 0x03 and 0x04 payloads from the last measurement (has_ext = 0; the extension fields
 * are filled anyway for a personality that sets it). */
void bms_jbd_basic(const struct bms *b, struct jbd_basic *out);
void bms_jbd_cells(const struct bms *b, struct jbd_cells *out);

/* Settings state file (sim/bms_state_file.c), JSON:
 *   {"bmsrig_bms_state": 1, "registers": {"0x10": 10000, ...}, "strings": {"0xa0": "...", ...},
 *    "calibration": {"0xad": 0, ...}, "events": [12 integers], "mosfet_mask": 0,
 *    "remain_mAh": 5000, "cycle_progress_mAh": 0}
 * 0x28/0x29 are written signed. The cycle count is register 0x17. Save writes PATH.tmp,
 * fsyncs and renames. Load checks everything before changing *b (all or nothing); keys it
 * omits keep their current values, unknown keys are errors. err gets one line naming the
 * file: "state.json: register 0x2f: expected 1..32, got 40". Missing file: RIG_ERR_IO,
 * "cannot open PATH: No such file or directory"; bad content: RIG_ERR_ARG. */
rig_rc bms_state_save(const struct bms *b, const char *path, char *err, size_t errcap);
rig_rc bms_state_load(struct bms *b, const char *path, char *err, size_t errcap);

#endif
