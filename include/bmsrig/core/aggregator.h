/* The aggregator: several packs, each read by its own client, presented to an inverter as one
 * battery (one struct rig_inv_battery, which every inverter-protocol codec encodes). The same
 * rules as the emulator's BMS (sim/bms_limits.c), but from settings in struct rig_agg_cfg,
 * since the core cannot see a BMS's own settings. Every rule, with its numbers, is in
 * docs/aggregator.md.
 *
 * Use from a port (bmsmon, the lx106 port, the judge's in-process DUT):
 *
 *     struct rig_agg agg;                        // the port owns it: no heap
 *     struct rig_agg_cfg cfg;
 *     rig_agg_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
 *     cfg.pack_count = 3;                        // packs expected at index 0..2
 *     rig_agg_init(&agg, &cfg, now_ms);
 *     ...each time a client completes a cycle on pack i:
 *     rig_agg_update(&agg, i, &pack_state_i, design_mAh_or_0, own_record_or_NULL);
 *     ...each time the inverter side needs the battery (e.g. every second):
 *     rig_agg_compute(&agg, now_ms, hold, &battery);   // enum rig_agg_hold bits, 0 = none
 *
 * C99, no heap, no float, no division helper from libgcc (the lx106 has no divider). */
#ifndef BMSRIG_AGGREGATOR_H
#define BMSRIG_AGGREGATOR_H

#include <stdint.h>

#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RIG_AGG_PACKS_MAX RIG_INV_MODULES_MAX

enum rig_agg_chem { RIG_AGG_CHEM_LFP = 0, RIG_AGG_CHEM_NMC = 1 };

/* What rig_agg_compute reports beyond the record (also kept in struct rig_agg .flags). */
enum rig_agg_flag {
	RIG_AGG_F_SPREAD    = 1u << 0,   /* online packs' voltages differ by more than spread_mV */
	RIG_AGG_F_NO_PACK   = 1u << 1,   /* no pack online: limits 0, state fields 0 */
	RIG_AGG_F_HELD      = 1u << 2,   /* the caller's hold forced a limit (or both) to 0 */
	RIG_AGG_F_COMM      = 1u << 3    /* a pack silent for comm_alarm_ms (RIG_INV_ALARM_COMM) */
};

/* What the caller's safety policy holds (rig_agg_compute's hold): the direction a fault makes
 * unsafe, so an over-voltage pack still lets the inverter discharge it (the way out of the fault)
 * and an under-voltage one still lets it charge. */
enum rig_agg_hold {
	RIG_AGG_HOLD_CHG = 1u << 0,      /* CCL 0, no charge-enable */
	RIG_AGG_HOLD_DSG = 1u << 1,      /* DCL 0, no discharge-enable */
	RIG_AGG_HOLD_ALL = RIG_AGG_HOLD_CHG | RIG_AGG_HOLD_DSG
};

/* Per-pack rules, as a BMS applies them to itself (sim/bms_limits.c), and the battery's. All
 * voltages are a cell's unless named pack; temperatures in 0.1 K (PACK_DK_ZERO_C = 0 degC). */
struct rig_agg_cfg {
	int32_t max_charge_mA;        /* a pack's CCL before taper and derating */
	int32_t max_discharge_mA;     /* a pack's DCL before taper and derating */
	uint16_t cvl_cell_mV;         /* a pack's CVL = this x its cell count */
	uint16_t dvl_cell_mV;         /* a pack's DVL = this x its cell count */
	uint16_t taper_start_mV;      /* highest cell at which CCL starts falling ... */
	uint16_t cell_ovp_mV;         /* ... to 0 here */
	uint16_t cell_uvp_mV;         /* lowest cell at which DCL is 0 ... */
	uint16_t dsg_taper_mV;        /* ... falling over this margin above it */
	uint16_t chg_utp_dK, chg_otp_dK;   /* charge window (CCL 0 at or beyond; never below 0 degC) */
	uint16_t dsg_utp_dK, dsg_otp_dK;   /* discharge window */
	uint16_t derate_dK;           /* band inside each window limit where the limit falls */
	uint16_t warn_cell_mV;        /* warnings: a cell this close to OVP/UVP ... */
	uint16_t warn_temp_dK;        /* ... or a probe this close to a window limit */
	uint16_t spread_mV;           /* online packs differing by more: RIG_AGG_F_SPREAD */
	uint8_t cells;                /* cells a pack has when it reports none (and for no pack) */
	uint8_t force_chg_1_pct;      /* battery SOC at or below: RIG_INV_FORCE_CHG_1 */
	uint8_t force_chg_2_pct;      /* at or below (above _1): RIG_INV_FORCE_CHG_2 */
	uint8_t pack_count;           /* packs expected, index 0..pack_count-1 (comm alarm) */
	uint32_t chg_block_prot;      /* enum pack_prot bits that forbid charging a pack */
	uint32_t dsg_block_prot;      /* enum pack_prot bits that forbid discharging it */
	uint32_t stale_ms;            /* no update for this long: the pack is offline ... */
	uint32_t comm_alarm_ms;       /* ... RIG_INV_ALARM_COMM (both at least a number of the
	                               * pack's read intervals: rig_agg_set_interval) */
};

/* One pack as the aggregator keeps it: a summary of its last pack_state (not the state itself:
 * 15 full pack_states would not fit an ESP8266's RAM budget) and its own BMS's limits. */
struct rig_agg_pack {
	uint32_t pack_mV;
	int32_t current_mA;
	uint32_t remain_mAh, full_mAh, design_mAh;  /* 0 = not known */
	uint32_t prot;                /* enum pack_prot */
	uint32_t updated_ms;          /* pack_state.updated_ms of the last update */
	int32_t own_ccl_mA, own_dcl_mA;   /* its own BMS's limits; -1 = none given */
	uint32_t own_cvl_mV, own_dvl_mV;  /* 0 = none given */
	uint16_t cell_max_mV, cell_min_mV;
	uint16_t temp_max_dK, temp_min_dK, temp_avg_dK;   /* no probe: all 25 degC */
	uint16_t cycles;
	uint8_t soc_pct;
	uint8_t cells;
	uint8_t fets;                 /* enum rig_inv_fet: switches on */
	uint8_t seen;                 /* 1 once an update arrived */
};

struct rig_agg {
	struct rig_agg_cfg cfg;
	struct rig_agg_pack pack[RIG_AGG_PACKS_MAX];
	uint32_t interval_ms[RIG_AGG_PACKS_MAX];   /* how far apart pack i's reads are, 0 = unknown
	                                            * (rig_agg_set_interval) */
	uint32_t start_ms;            /* a pack never heard from is silent since this */
	uint16_t online_mask;         /* bit i: pack i online at the last compute */
	uint8_t online_count;         /* packs online at the last compute (= module_count) */
	uint8_t flags;                /* enum rig_agg_flag of the last compute */
};

/* Defaults for a chemistry and cell count (the emulator's BMS defaults for a 100 Ah pack):
 * LFP 3550/3000 mV a cell, taper 3450 -> 3650 mV, DCL over 2800 -> 2500 mV; NMC 4150/3100,
 * 4100 -> 4250, 3100 -> 2800; 50 A both ways; charge 0..55 degC (NMC 45), discharge
 * -20..60 degC, 5 K bands; force-charge at 9 % / 13 %; stale 10 s, comm alarm 30 s; one pack. */
void rig_agg_cfg_defaults(struct rig_agg_cfg *cfg, enum rig_agg_chem chem, uint8_t cells);

/* Every pack unknown; silence counts from now_ms. */
void rig_agg_init(struct rig_agg *a, const struct rig_agg_cfg *cfg, uint32_t now_ms);

/* Pack `index` (< RIG_AGG_PACKS_MAX) was read: s its state, whose updated_ms says when (so
 * handing in the same, unrefreshed pack_state again does not keep a dead pack alive).
 * design_mAh: its design capacity, 0 if unknown (SOH = full / design). own: what the pack's
 * own BMS allows, when it is itself an inverter-protocol battery (a client's record), or NULL;
 * its CCL/DCL/CVL cap the pack's and its DVL floors it. Returns 0, or -1 for a bad index. */
int rig_agg_update(struct rig_agg *a, unsigned index, const struct pack_state *s, uint32_t design_mAh,
                   const struct rig_inv_battery *own);

/* A pack read less often than stale_ms allows (one of fifteen on a bus, whose round outlasts
 * it) is not silent between its reads: it is stale only once it has missed RIG_AGG_STALE_READS
 * reads and alarms after RIG_AGG_ALARM_READS, when those come later than the fixed times. */
#define RIG_AGG_STALE_READS 2u
#define RIG_AGG_ALARM_READS 3u
/* Pack `index` is read every interval_ms (a bus: its round); 0 = only the fixed times. Kept
 * across updates and forget; the caller refreshes it as the interval changes. */
void rig_agg_set_interval(struct rig_agg *a, unsigned index, uint32_t interval_ms);
/* Pack `index`'s stale time: the larger of cfg.stale_ms and RIG_AGG_STALE_READS intervals. */
uint32_t rig_agg_stale_ms(const struct rig_agg *a, unsigned index);

/* Forget pack `index` (removed from the system): it no longer counts nor alarms. */
void rig_agg_forget(struct rig_agg *a, unsigned index);

/* The two shapes every limit takes, shared with the emulator's BMS (sim/bms_limits.c), so the
 * battery a pack announces and the one the aggregator computes follow one rule set.
 * rig_agg_ramp: limit as x rises, full up to start, 0 from end on, linear between (floored;
 * 32-bit only, exact while limit and end - start fit 32 bits together, as any real pack's do).
 * Falling limits take the same ramp on -x. rig_agg_temp_window: limit derated by temperature,
 * 0 at or beyond either limit, falling linearly over band_dK inside each, full between. */
int32_t rig_agg_ramp(int32_t limit, int32_t x, int32_t start, int32_t end);
int32_t rig_agg_temp_window(int32_t limit, int32_t tmin_dK, int32_t tmax_dK, int32_t lo_dK, int32_t hi_dK,
                            int32_t band_dK);

/* The battery at now_ms into *out (cleared first). hold: enum rig_agg_hold bits, the directions
 * the caller's safety policy holds at 0 on top of the rules (RIG_AGG_HOLD_ALL for an open relay;
 * the bridge maps policy reasons to directions with rig_bridge_hold_dirs).
 * Returns enum rig_agg_flag bits; a->online_mask / online_count say which packs counted. */
unsigned rig_agg_compute(struct rig_agg *a, uint32_t now_ms, uint32_t hold, struct rig_inv_battery *out);

#ifdef __cplusplus
}
#endif

#endif
