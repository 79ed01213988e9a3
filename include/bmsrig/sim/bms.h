/*
 * A BMS's brain, independent of protocol and framing: its settings (struct bms_settings, named
 * and in everyday units), measurement of the pack model, the protection set with its delays and
 * releases, FET control (protections AND the inhibit mask), balancing, its own coulomb-counting
 * SOC and the cycle and event counters. Each personality maps its own registers or fields to
 * the settings (sim/jbd_settings.c for JBD's EEPROM); the logic never sees a register number.
 *
 * Protection rules (behaviour modelled on JBD, docs/protocols/jbd.md §8.2-8.4):
 *   cell OV/UV    max/min cell mV vs cell_ovp_mV/cell_uvp_mV, delays cell_*_delay_s, releases
 *                 cell_*_release_mV
 *   pack OV/UV    pack mV vs pack_ovp_mV/pack_uvp_mV, likewise
 *   charge OT/UT  max/min enabled NTC vs chg_otp_dK/chg_utp_dK, likewise
 *   dsg OT/UT     max/min enabled NTC vs dsg_otp_dK/dsg_utp_dK, likewise
 *   charge OC     current >= chg_oc_mA for chg_oc_delay_s; released chg_oc_release_s after the trip
 *   dsg OC        current <= -dsg_oc_mA for dsg_oc_delay_s; released dsg_oc_release_s after
 *   short circuit discharge current >= sc_threshold_mV across shunt_uOhm; trips in the step it is
 *                 seen (a real one's delay is 70-400 us); released sc_release_s after the trip.
 * A trigger must hold continuously for its delay (measured from the first step that sees it);
 * threshold releases are immediate once the value is past the release value. Triggers
 * compare with >= / <=, releases with strict < / >. Temperature protections apply whatever
 * the current's direction (they say whether charging/discharging is allowed).
 * OV/charge protections open the charge FET; UV/discharge protections the discharge FET.
 *
 * SOC: remaining mAh integrates the *measured* current (offset and dead band included, no
 * efficiency) clamped to 0..design_capacity_mAh. It snaps to full while charging with a cell at
 * or above full_cell_mV and to 0 while discharging with a cell at or below empty_cell_mV. At
 * bms_init it is estimated from the mean cell voltage on the voltage points (empty_cell_mV = 0 %,
 * soc_point_mV[0] = 10 % .. soc_point_mV[9] = 100 %), as a BMS does at first power-up.
 * One cycle is counted per cycle_capacity_mAh of measured discharge.
 */
#ifndef BMSRIG_BMS_H
#define BMSRIG_BMS_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/sim/model.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"

#define BMS_CELLS_MAX    32u         /* sense lines */
#define BMS_PROBES_MAX   8u          /* temperature probe inputs */
#define BMS_STRING_COUNT 3u
#define BMS_EVENT_COUNT  12u         /* enum bms_event */
#define BMS_TEXT_MAX     31u         /* bytes of a text (enum bms_text) */
#define BMS_STORE_WORDS  128u          /* words a personality keeps for its peer (struct bms_store) */
#define BMS_ABSENT_NTC_DK 2431u        /* an enabled but missing probe reads -30.0 degC (§4.6) */
#define BMS_FULL_SOC_PCT  97u         /* at or above: "full" for the full-charge request (Pylontech) */

/* The BMS's settings, by what they mean. Every field is an int32_t so one table (bms.c) can
 * check and set any of them by name; BMS_SETTINGS lists each with its range. A personality maps
 * its own registers onto these; the logic reads nothing else. */
struct bms_settings {
	int32_t design_capacity_mAh;        /* full; the SOC divides by it */
	int32_t cycle_capacity_mAh;         /* measured discharge per counted cycle */
	int32_t full_cell_mV;               /* SOC snaps to 100 % while charging at or above */
	int32_t empty_cell_mV;              /* SOC snaps to 0 % while discharging; the 0 % point */
	int32_t soc_point_mV[10];           /* rested cell voltage at 10 %, 20 % .. 100 % */
	int32_t cycles;                     /* a counter kept with the settings (a reset keeps it) */
	int32_t mfg_year, mfg_month, mfg_day;
	int32_t cell_ovp_mV, cell_ovp_release_mV, cell_ovp_delay_s;
	int32_t cell_uvp_mV, cell_uvp_release_mV, cell_uvp_delay_s;
	int32_t pack_ovp_mV, pack_ovp_release_mV, pack_ovp_delay_s;
	int32_t pack_uvp_mV, pack_uvp_release_mV, pack_uvp_delay_s;
	int32_t chg_otp_dK, chg_otp_release_dK, chg_otp_delay_s;
	int32_t chg_utp_dK, chg_utp_release_dK, chg_utp_delay_s;
	int32_t dsg_otp_dK, dsg_otp_release_dK, dsg_otp_delay_s;
	int32_t dsg_utp_dK, dsg_utp_release_dK, dsg_utp_delay_s;
	int32_t chg_oc_mA, chg_oc_delay_s, chg_oc_release_s;     /* trips at current >= chg_oc_mA */
	int32_t dsg_oc_mA, dsg_oc_delay_s, dsg_oc_release_s;     /* trips at current <= -dsg_oc_mA */
	int32_t sc_threshold_mV, sc_release_s;  /* across the shunt: no delay, timed release */
	int32_t shunt_uOhm;
	int32_t balance_enable;             /* 0/1 */
	int32_t balance_charging_only;      /* 0/1: balance only while charging */
	int32_t balance_start_mV;           /* cells at or above ... */
	int32_t balance_delta_mV;           /* ... and more than this above the lowest cell bleed */
	int32_t ntc_enable_mask;            /* bit 0 = probe 1: the probes reported and protected on */
	int32_t cell_count;                 /* the cells the BMS is configured for */
	/* What the BMS tells an inverter (sim/bms_limits.c, docs/bmssim.md "Limits to the
	 * inverter"). */
	int32_t charge_voltage_cell_mV;     /* CVL = this x cell_count */
	int32_t discharge_voltage_cell_mV;  /* DVL = this x cell_count */
	int32_t max_charge_mA;              /* CCL before taper and derating */
	int32_t max_discharge_mA;           /* DCL before taper and derating */
	int32_t charge_taper_start_mV;      /* highest cell at which CCL starts falling to 0 at OVP */
	int32_t discharge_taper_mV;         /* margin above cell_uvp_mV over which DCL falls to 0 */
	int32_t temp_derate_dK;             /* band inside each temperature limit where a limit falls */
	int32_t force_charge_1_pct;         /* SOC at or below: force-charge request I */
	int32_t force_charge_2_pct;         /* SOC above I's and at or below this: request II */
	int32_t full_charge_days;           /* days below 97 % SOC before the full-charge request; 0 = never */
	int32_t soc_clamp;                  /* 0/1: SOC 100 while CCL is 0, 0 while DCL is 0 (Deye) */
	int32_t warn_cell_mV;               /* cell (and, x cells, pack) warnings this far before OVP/UVP */
	int32_t warn_temp_dK;               /* temperature warnings this far before a limit */
	int32_t warn_current_pct;           /* current warnings at this % of an over-current threshold */
};

/* X(ID, "name", field, min, max): every setting with its name (as scenarios and the state file
 * spell it) and the values the BMS accepts. Only what would break the BMS's own arithmetic or
 * a report's layout is refused; the rest spans what the 16-bit registers boards use can hold. */
#define BMS_SETTINGS(X) \
	X(DESIGN_CAPACITY,  "design_capacity_mAh",  design_capacity_mAh, 10, 655350) \
	X(CYCLE_CAPACITY,   "cycle_capacity_mAh",   cycle_capacity_mAh, 10, 655350) \
	X(FULL_CELL,        "full_cell_mV",         full_cell_mV, 0, 65535) \
	X(EMPTY_CELL,       "empty_cell_mV",        empty_cell_mV, 0, 65535) \
	X(SOC_10,           "soc_10pct_mV",         soc_point_mV[0], 0, 65535) \
	X(SOC_20,           "soc_20pct_mV",         soc_point_mV[1], 0, 65535) \
	X(SOC_30,           "soc_30pct_mV",         soc_point_mV[2], 0, 65535) \
	X(SOC_40,           "soc_40pct_mV",         soc_point_mV[3], 0, 65535) \
	X(SOC_50,           "soc_50pct_mV",         soc_point_mV[4], 0, 65535) \
	X(SOC_60,           "soc_60pct_mV",         soc_point_mV[5], 0, 65535) \
	X(SOC_70,           "soc_70pct_mV",         soc_point_mV[6], 0, 65535) \
	X(SOC_80,           "soc_80pct_mV",         soc_point_mV[7], 0, 65535) \
	X(SOC_90,           "soc_90pct_mV",         soc_point_mV[8], 0, 65535) \
	X(SOC_100,          "soc_100pct_mV",        soc_point_mV[9], 0, 65535) \
	X(CYCLES,           "cycles",               cycles, 0, 65535) \
	X(MFG_YEAR,         "mfg_year",             mfg_year, 2000, 2127) \
	X(MFG_MONTH,        "mfg_month",            mfg_month, 0, 15) \
	X(MFG_DAY,          "mfg_day",              mfg_day, 0, 31) \
	X(CELL_OVP,         "cell_ovp_mV",          cell_ovp_mV, 0, 65535) \
	X(CELL_OVP_RELEASE, "cell_ovp_release_mV",  cell_ovp_release_mV, 0, 65535) \
	X(CELL_OVP_DELAY,   "cell_ovp_delay_s",     cell_ovp_delay_s, 0, 255) \
	X(CELL_UVP,         "cell_uvp_mV",          cell_uvp_mV, 0, 65535) \
	X(CELL_UVP_RELEASE, "cell_uvp_release_mV",  cell_uvp_release_mV, 0, 65535) \
	X(CELL_UVP_DELAY,   "cell_uvp_delay_s",     cell_uvp_delay_s, 0, 255) \
	X(PACK_OVP,         "pack_ovp_mV",          pack_ovp_mV, 0, 655350) \
	X(PACK_OVP_RELEASE, "pack_ovp_release_mV",  pack_ovp_release_mV, 0, 655350) \
	X(PACK_OVP_DELAY,   "pack_ovp_delay_s",     pack_ovp_delay_s, 0, 255) \
	X(PACK_UVP,         "pack_uvp_mV",          pack_uvp_mV, 0, 655350) \
	X(PACK_UVP_RELEASE, "pack_uvp_release_mV",  pack_uvp_release_mV, 0, 655350) \
	X(PACK_UVP_DELAY,   "pack_uvp_delay_s",     pack_uvp_delay_s, 0, 255) \
	X(CHG_OTP,          "chg_otp_dK",           chg_otp_dK, 0, 65535) \
	X(CHG_OTP_RELEASE,  "chg_otp_release_dK",   chg_otp_release_dK, 0, 65535) \
	X(CHG_OTP_DELAY,    "chg_otp_delay_s",      chg_otp_delay_s, 0, 255) \
	X(CHG_UTP,          "chg_utp_dK",           chg_utp_dK, 0, 65535) \
	X(CHG_UTP_RELEASE,  "chg_utp_release_dK",   chg_utp_release_dK, 0, 65535) \
	X(CHG_UTP_DELAY,    "chg_utp_delay_s",      chg_utp_delay_s, 0, 255) \
	X(DSG_OTP,          "dsg_otp_dK",           dsg_otp_dK, 0, 65535) \
	X(DSG_OTP_RELEASE,  "dsg_otp_release_dK",   dsg_otp_release_dK, 0, 65535) \
	X(DSG_OTP_DELAY,    "dsg_otp_delay_s",      dsg_otp_delay_s, 0, 255) \
	X(DSG_UTP,          "dsg_utp_dK",           dsg_utp_dK, 0, 65535) \
	X(DSG_UTP_RELEASE,  "dsg_utp_release_dK",   dsg_utp_release_dK, 0, 65535) \
	X(DSG_UTP_DELAY,    "dsg_utp_delay_s",      dsg_utp_delay_s, 0, 255) \
	X(CHG_OC,           "chg_oc_mA",            chg_oc_mA, 10, 327670) \
	X(CHG_OC_DELAY,     "chg_oc_delay_s",       chg_oc_delay_s, 0, 255) \
	X(CHG_OC_RELEASE,   "chg_oc_release_s",     chg_oc_release_s, 0, 255) \
	X(DSG_OC,           "dsg_oc_mA",            dsg_oc_mA, 10, 327680) \
	X(DSG_OC_DELAY,     "dsg_oc_delay_s",       dsg_oc_delay_s, 0, 255) \
	X(DSG_OC_RELEASE,   "dsg_oc_release_s",     dsg_oc_release_s, 0, 255) \
	X(SC_THRESHOLD,     "sc_threshold_mV",      sc_threshold_mV, 1, 1000) \
	X(SC_RELEASE,       "sc_release_s",         sc_release_s, 0, 255) \
	X(SHUNT,            "shunt_uOhm",           shunt_uOhm, 100, 3276700) \
	X(BALANCE_ENABLE,   "balance_enable",       balance_enable, 0, 1) \
	X(BALANCE_CHG_ONLY, "balance_charging_only", balance_charging_only, 0, 1) \
	X(BALANCE_START,    "balance_start_mV",     balance_start_mV, 0, 65535) \
	X(BALANCE_DELTA,    "balance_delta_mV",     balance_delta_mV, 0, 65535) \
	X(NTC_ENABLE,       "ntc_enable_mask",      ntc_enable_mask, 0, 255) \
	X(CELL_COUNT,       "cell_count",           cell_count, 1, BMS_CELLS_MAX) \
	X(CHARGE_VOLTAGE,   "charge_voltage_cell_mV", charge_voltage_cell_mV, 0, 65535) \
	X(DISCHARGE_VOLTAGE, "discharge_voltage_cell_mV", discharge_voltage_cell_mV, 0, 65535) \
	X(MAX_CHARGE,       "max_charge_mA",        max_charge_mA, 0, 327670) \
	X(MAX_DISCHARGE,    "max_discharge_mA",     max_discharge_mA, 0, 327680) \
	X(CHARGE_TAPER,     "charge_taper_start_mV", charge_taper_start_mV, 0, 65535) \
	X(DISCHARGE_TAPER,  "discharge_taper_mV",   discharge_taper_mV, 0, 65535) \
	X(TEMP_DERATE,      "temp_derate_dK",       temp_derate_dK, 0, 1000) \
	X(FORCE_CHARGE_1,   "force_charge_1_pct",   force_charge_1_pct, 0, 100) \
	X(FORCE_CHARGE_2,   "force_charge_2_pct",   force_charge_2_pct, 0, 100) \
	X(FULL_CHARGE_DAYS, "full_charge_days",     full_charge_days, 0, 3650) \
	X(SOC_CLAMP,        "soc_clamp",            soc_clamp, 0, 1) \
	X(WARN_CELL,        "warn_cell_mV",         warn_cell_mV, 0, 65535) \
	X(WARN_TEMP,        "warn_temp_dK",         warn_temp_dK, 0, 1000) \
	X(WARN_CURRENT,     "warn_current_pct",     warn_current_pct, 0, 100)

#define BMS_SET_ID_(id, name, field, lo, hi) BMS_SET_##id,
enum bms_setting_id { BMS_SETTINGS(BMS_SET_ID_) BMS_SET_COUNT };
#undef BMS_SET_ID_

struct bms_setting_info {
	const char *name;
	size_t offset;                      /* of the int32_t in struct bms_settings */
	int32_t min, max;
};

/* A personality's map from its own setting ids to the BMS's: one row per id it keeps in the
 * BMS, with its own conversion code. */
struct bms_setting_map {
	uint16_t own;                       /* the protocol's id */
	uint8_t setting;                    /* enum bms_setting_id */
	uint8_t conv;                       /* the personality's conversion */
};

/* The protections the BMS evaluates, in enum pack_prot's bit order. */
enum bms_prot_id {
	BMS_PROT_CELL_OV = 0, BMS_PROT_CELL_UV, BMS_PROT_PACK_OV, BMS_PROT_PACK_UV,
	BMS_PROT_CHG_OT, BMS_PROT_CHG_UT, BMS_PROT_DSG_OT, BMS_PROT_DSG_UT,
	BMS_PROT_CHG_OC, BMS_PROT_DSG_OC, BMS_PROT_SHORT, BMS_PROT_COUNT
};

/* The BMS's texts. */
enum bms_text { BMS_TEXT_MAKER = 0, BMS_TEXT_MODEL, BMS_TEXT_BARCODE };

/* Words a personality keeps for its peer that the logic never reads (JBD: EEPROM bits the
 * settings do not cover, calibration). An unwritten word reads as the personality's factory
 * value, so the BMS needs to know none of them; a settings reset forgets them all. */
struct bms_store {
	uint16_t word[BMS_STORE_WORDS];
	uint8_t written[BMS_STORE_WORDS];
};

/* A text the BMS keeps (maker, model, barcode). */
struct bms_string {
	uint8_t len;
	char text[BMS_TEXT_MAX + 1];        /* NUL-terminated for convenience */
};

/* The event counters (struct bms.events), in the order JBD's 0xAA reports them
 * (docs/protocols/jbd.md §7.3). */
enum bms_event {
	BMS_EV_SHORT = 0, BMS_EV_CHG_OC, BMS_EV_DSG_OC, BMS_EV_CELL_OV, BMS_EV_CELL_UV,
	BMS_EV_CHG_OT, BMS_EV_CHG_UT, BMS_EV_DSG_OT, BMS_EV_DSG_UT, BMS_EV_PACK_OV,
	BMS_EV_PACK_UV, BMS_EV_RESTART
};

/* What the BMS measured in its last step, in wire units. It reads every sense line and probe
 * input; what it reports and protects on is selected by the settings at the time (the first
 * cell_count cells, the probes in ntc_enable_mask), so a change shows in the next report. */
struct bms_meas {
	uint16_t cell_mV[BMS_CELLS_MAX];    /* lines beyond the model's cells read 0 */
	uint32_t pack_mV;
	int32_t current_mA;                 /* + = charging, after offset and dead band */
	uint16_t probe_dK[BMS_PROBES_MAX];     /* probes beyond the model's read BMS_ABSENT_NTC_DK */
	uint8_t soh_pct;                    /* the weakest cell's capacity against the nominal one:
	                                     * what a full cycle would measure, rounded, 0..100 */
};

/* The current sensor and board constants; set after bms_init, any time. */
struct bms_sensor {
	int32_t current_offset_mA;          /* added to the true current */
	uint32_t current_deadband_mA;       /* |reading| <= this reads 0 */
	uint16_t balance_current_mA;        /* what a bleeding cell draws (bms_view) */
};

struct bms_prot {
	uint8_t tripped;
	uint8_t pending;                    /* trigger seen, delay running */
	uint32_t timer_ms;                  /* delay, or time since the trip for timed releases */
};

/* Faults in what the BMS senses (docs/field-notes.md §3.2): the model stays true, the measurement lies.
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
	uint16_t force_mV[BMS_CELLS_MAX];
	uint8_t ntc_open_mask, ntc_short_mask;   /* bit 0 = probe 1 */
};

/* The FETs (struct bms.fet: set = closed, current may flow that way) and the inhibit mask a
 * peer sets (struct bms.inhibit: set = keep that FET open whatever the protections say). Each
 * personality maps its own bits or switches onto these. */
#define BMS_FET_CHG      0x01u
#define BMS_FET_DSG      0x02u
#define BMS_INHIBIT_CHG  0x01u
#define BMS_INHIBIT_DSG  0x02u
#define BMS_INHIBIT_ALL  (BMS_INHIBIT_CHG | BMS_INHIBIT_DSG)

struct bms {
	struct bms_sense_faults faults;     /* applied by every measurement; all clear at init */
	struct bms_settings set;
	uint8_t chem;                       /* enum model_chem the factory settings were made for */
	struct bms_store store;
	struct bms_string str[BMS_STRING_COUNT]; /* enum bms_text */
	uint16_t events[BMS_EVENT_COUNT];
	uint8_t inhibit;                    /* BMS_INHIBIT_CHG | BMS_INHIBIT_DSG */
	uint8_t sw_version;                 /* firmware version, major.minor in nibbles */
	struct bms_sensor sensor;
	struct bms_meas meas;
	struct bms_prot prot[BMS_PROT_COUNT]; /* indexed by enum bms_prot_id */
	uint32_t prot_bits;                 /* enum pack_prot bits (SW_LOCK: the inhibit mask) */
	uint8_t fet;                        /* BMS_FET_CHG | BMS_FET_DSG: closed */
	uint32_t bal_mask;                  /* bit 0 = cell 1 */
	double remain_mAh;
	double cycle_progress_mAh;          /* measured discharge since the last counted cycle */
	double time_s;
	double below_full_s;                /* time since the SOC was last at or above 97 % */
};

/* Settings, strings and counters at factory values for m's chemistry, cell count, NTC count
 * and capacity; measures m and estimates the SOC from its voltage. */
rig_rc bms_init(struct bms *b, const struct model *m);
/* A power cycle: clears protection state and the inhibit mask, counts a restart (BMS_EV_RESTART),
 * re-measures (when m is not NULL; otherwise the next bms_step does). Settings, remaining capacity and counters survive. */
void bms_restart(struct bms *b, const struct model *m);
/* Settings reset: settings, the store and strings back to factory values for m (as
 * bms_init sets them), then a restart. Counters (the cycle count too) and the remaining
 * capacity survive. */
void bms_factory_reset(struct bms *b, const struct model *m);
/* One step: FETs gate requested_A (+ = charging), the model runs with what flows and the
 * balancing mask, then measure, count, protect, decide FETs and balancing for the next step. */
void bms_step(struct bms *b, struct model *m, double dt_s, double requested_A);
/* How long, in ms up to max_ms, b and m may be stepped in one bms_step with requested_A and
 * take the decisions a run of 100 ms steps would (docs/bmssim.md "Time"): 0 while anything
 * moves on its own clock (a protection pending or tripped, balancing, an open sense line) or
 * the current is not the one that flowed in the last step; otherwise the time until the
 * nearest threshold (protections, balancing start, the full and empty snaps, the 97 % mark)
 * could at most be reached, from bounds on how fast the cells' voltages and the temperature
 * can move at this current. */
uint32_t bms_quiet_ms(const struct bms *b, const struct model *m, double requested_A, uint32_t max_ms);
/* 1 when a_A and b_A read on the same side of every current threshold the logic applies (the
 * sensor's dead band, the over-current and short-circuit triggers): a current drifting between
 * them changes no decision. */
int bms_current_same(const struct bms *b, double a_A, double b_A);

/* Settings by id or name. bms_setting_find: the id, or -1. set: RIG_ERR_ARG for an unknown id
 * or a value out of range (nothing changes); a smaller design capacity clamps the remaining
 * capacity. check: why (if cap > 0) reads like "expected 1..32, got 40". */
const struct bms_setting_info *bms_setting_info(unsigned id);
int bms_setting_find(const char *name);
int32_t bms_setting_get(const struct bms *b, unsigned id);
rig_rc bms_setting_check(unsigned id, int64_t value, char *why, size_t whycap);
rig_rc bms_setting_set(struct bms *b, unsigned id, int64_t value);
/* The row of map[0..n-1] for the protocol's id own, or NULL. */
const struct bms_setting_map *bms_setting_map_find(const struct bms_setting_map *map, size_t n,
                                                   unsigned own);

/* Texts (enum bms_text): at most BMS_TEXT_MAX bytes, no NUL. */
rig_rc bms_string_get(const struct bms *b, unsigned which, struct bms_string *t);
rig_rc bms_string_set(struct bms *b, unsigned which, const char *text, size_t len);

/* The inhibit mask (BMS_INHIBIT_*); RIG_ERR_ARG for any other bit. Effective at once. */
rig_rc bms_set_inhibit(struct bms *b, uint8_t mask);
/* One FET's switch as the personalities' on/off commands set it: allowed clears its inhibit
 * bit (BMS_INHIBIT_CHG or _DSG), else sets it; the other bit stays. */
rig_rc bms_allow_fet(struct bms *b, uint8_t inhibit_bit, int allowed);
/* 1 when no inhibit bit holds that FET open. */
int bms_fet_allowed(const struct bms *b, uint8_t inhibit_bit);
/* 0xE0 and tests: the BMS's remaining capacity, clamped to full. */
void bms_set_remain_mAh(struct bms *b, uint32_t remain_mAh);
uint32_t bms_remain_mAh(const struct bms *b);
uint32_t bms_full_mAh(const struct bms *b);       /* design_capacity_mAh */
uint8_t bms_soc_pct(const struct bms *b);          /* RSOC, rounded */
void bms_events_clear(struct bms *b);

/* What the BMS measured and decided in its last step, as every personality reports it: the
 * configured cells, the enabled probes, and the values in full (each personality saturates
 * to what its own fields carry). */
struct bms_view {
	uint32_t pack_mV;
	int32_t current_mA;                 /* + = charging */
	uint8_t cell_count;                 /* cell_count setting: cell_mV[0..cell_count-1] */
	uint16_t cell_mV[BMS_CELLS_MAX];    /* every sense line; beyond cell_count: not reported */
	uint8_t probe_count;                /* the probes ntc_enable_mask enables */
	uint16_t probe_dK[BMS_PROBES_MAX];     /* those probes, in bit order */
	uint32_t remain_mAh, full_mAh;
	uint8_t soc_pct;
	uint16_t cycles;
	uint32_t prot_bits;                 /* enum pack_prot */
	uint8_t fet;                        /* BMS_FET_* */
	uint32_t bal_mask;                  /* bleeding cells, bit 0 = cell 1, configured ones only */
	uint16_t balance_current_mA;        /* while any cell bleeds, else 0 */
	uint8_t soh_pct;                    /* bms_meas.soh_pct */
};
void bms_view(const struct bms *b, struct bms_view *out);

/* Settings state file (sim/bms_state_file.c), JSON:
 *   {"bmsrig_bms_state": 1, "settings": {"design_capacity_mAh": 100000, ...},
 *    "strings": {"maker": "...", "model": "...", "barcode": "..."}, "store": {"4": 2, ...},
 *    "events": [12 integers], "mosfet_mask": 0, "remain_mAh": 5000, "cycle_progress_mAh": 0}
 * Settings by their bms.h names; "store" holds the written store words by index. Older JBD
 * files with "registers" {"0x10": 10000, ...} and "calibration" {"0xad": 0, ...} still load
 * through JBD's register map, as do strings keyed "0xa0".."0xa2". Save writes PATH.tmp,
 * fsyncs and renames. Load checks everything before changing *b (all or nothing); keys it
 * omits keep their current values, unknown keys are errors. err gets one line naming the
 * file: "state.json: register 0x2f: expected 1..32, got 40". Missing file: RIG_ERR_IO,
 * "cannot open PATH: No such file or directory"; bad content: RIG_ERR_ARG. */
rig_rc bms_state_save(const struct bms *b, const char *path, char *err, size_t errcap);
rig_rc bms_state_load(struct bms *b, const char *path, char *err, size_t errcap);
/* The same over text[0..len) (text[len] is NUL) as read from path, which errors name. */
rig_rc bms_state_parse(struct bms *b, const char *text, size_t len, const char *path, char *err, size_t errcap);

#endif
