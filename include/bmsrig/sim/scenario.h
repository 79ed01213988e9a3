/*
 * A scenario file (documented key by key in scenarios/README.md): the pack, the BMS and its
 * link, a timeline of events, and (read by its caller, bmssim run's judge: scenario_judge.h)
 * the device under test and what it must show. This is the world's part, the emulator's; a
 * caller's part is read in the same walk (scenario_reader.h). scenario_load checks all of it
 * before anything runs; every error is one line "FILE:LINE:COLUMN: what was expected".
 */
#ifndef BMSRIG_SCENARIO_H
#define BMSRIG_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/wire_fault.h"

#define SCENARIO_VERSION 1
#define SCEN_EVENTS_MAX 256u
#define SCEN_SETTINGS_MAX 64u
#define SCEN_POINTS_MAX 20000u     /* profile points (steps and CSV rows) of all events */
#define SCEN_TEXT_MAX 256u
#define SCEN_BUS_UNITS_MAX 15u     /* units of the `bms` array, on all its lines together */
#define SCEN_LINES_MAX 4u          /* separate BMS lines (`"line": N`); the bridge's links */

enum scen_ev_kind {
	/* load and charge: what the load or charger asks of the pack (+ = charging) */
	SCEN_EV_CURRENT = 0,      /* value A; ramp_ms > 0 ramps from the value before */
	SCEN_EV_POWER,            /* value W (+ = charging): current = W / pack V each step */
	SCEN_EV_PROFILE,          /* points[first..first+count): t_ms from the event, A; linear
	                           * between points (steps: two points at one time), held after */
	SCEN_EV_AMBIENT,          /* value degC; ramp_ms as for current */
	/* the cells */
	SCEN_EV_DRIFT,            /* cell: capacity_pct, resistance_pct (change, %), leak_mA */
	SCEN_EV_CELL_SOC,         /* cell: value % */
	SCEN_EV_FORCE_CELL,       /* cell: value mV, as the BMS reads it */
	SCEN_EV_OPEN_WIRE,        /* cell */
	SCEN_EV_NTC_OPEN,         /* ntc */
	SCEN_EV_NTC_SHORT,        /* ntc */
	SCEN_EV_SHORT_CIRCUIT,    /* value A (negative: a discharge), for_ms (default 500 ms) */
	/* the BMS */
	SCEN_EV_BMS_REBOOT,
	SCEN_EV_SETTINGS_RESET,
	SCEN_EV_FETS,             /* chg, dsg: 1 allowed, 0 forced off (an app's 0xE1 write) */
	SCEN_EV_QUIRK,            /* text[0] = name, text[1] = value */
	/* the line */
	SCEN_EV_WIRE_FAULT,       /* fault, rate, param */
	SCEN_EV_BLE_DISCONNECT,   /* reconnect_ms: how long the next connect takes */
	SCEN_EV_CLEAR_FAULTS,     /* every sense and line fault off */
	SCEN_EV_MARK,             /* nothing happens; a name for expectations */
	SCEN_EV_COUNT
};

struct scen_event {
	enum scen_ev_kind kind;
	char id[32];              /* "" when the file gave none */
	uint32_t at_ms;
	uint32_t for_ms;          /* the fault or override ends after this; 0 = until cleared */
	uint32_t ramp_ms;
	double value;
	int cell, ntc;            /* 0-based; -1 when not used */
	unsigned unit;            /* the unit of the `bms` array it acts on (`"bms": N`, 0-based); 0 =
	                           * the first; a line fault acts on that unit's line */
	uint8_t inverter_line;    /* a line fault on the DUT's inverter line (`"line": "inverter"`) */
	double capacity_pct, resistance_pct, leak_mA;   /* SCEN_EV_DRIFT */
	uint8_t chg, dsg;                               /* SCEN_EV_FETS */
	enum wire_fault_kind fault;                     /* SCEN_EV_WIRE_FAULT */
	double rate;
	uint32_t param;
	uint32_t reconnect_ms;                          /* SCEN_EV_BLE_DISCONNECT */
	unsigned first, count;                          /* SCEN_EV_PROFILE points */
	char text[2][64];                               /* SCEN_EV_QUIRK */
	unsigned line;                                  /* in the file, for messages */
};

struct scen_point {
	uint32_t t_ms;            /* from the event's start */
	double value;
};

/* One setting written over the factory settings before the run: a neutral one (bms.h, by
 * id), or for JBD scenarios a raw EEPROM register (the old keys). */
struct scen_setting {
	uint8_t reg;              /* JBD register; 0 = the neutral setting id */
	int32_t value;            /* the register's raw value, or the setting's */
	uint8_t id;               /* enum bms_setting_id */
};

struct scenario {
	char path[SCEN_TEXT_MAX];
	char name[96];
	char description[SCEN_TEXT_MAX];
	uint32_t seed;
	uint32_t duration_ms;
	struct bms_spec bms;      /* kind, pack model, address, quirks, link, baud (resolved) */
	/* `bms` as an array: units on one or more lines. unit[0] is a copy of bms (without the
	 * top-level `link`, which is bms's); a unit shares the pack model, each at its own address
	 * with its own quirks. Units on one line (a bus) share its protocol and link: those of its
	 * first unit (line 0's: bms). The settings and the truth are bms's (unit 0). n_units 1 and
	 * n_lines 1 for an object. */
	struct bms_spec unit[SCEN_BUS_UNITS_MAX];
	unsigned n_units;
	unsigned n_lines;                          /* 1..SCEN_LINES_MAX */
	uint8_t unit_line[SCEN_BUS_UNITS_MAX];     /* unit k's line, 0-based */
	uint8_t unit_index[SCEN_BUS_UNITS_MAX];    /* unit k's place among its line's units */
	uint8_t line_first[SCEN_LINES_MAX];        /* the line's first unit (it names the protocol) */
	uint8_t line_units[SCEN_LINES_MAX];        /* how many units the line has */
	struct scen_setting setting[SCEN_SETTINGS_MAX];
	unsigned n_settings;
	struct scen_event event[SCEN_EVENTS_MAX];
	unsigned n_events;        /* sorted by at_ms, file order among equals */
	struct scen_point *point; /* SCEN_POINTS_MAX, owned (scenario_free) */
	unsigned n_points;
};

/* Reads and checks path: the world only, a `dut` or `expect` key is unknown to it (bmssim run
 * reads the whole file with scenario_judge_load). A CSV profile is read relative to the scenario's folder. On error
 * err holds one line "path:line:column: what was expected" (or "path: ..." when the file
 * cannot be read) and RIG_ERR_ARG / RIG_ERR_IO is returned; *s is then freed. seed_override
 * >= 0 replaces the file's seed (and every seed derived from it). */
rig_rc scenario_load(struct scenario *s, const char *path, long long seed_override,
                     char *err, size_t errcap);
/* scenario_load on text already read: len bytes (a NUL among them is an error), named path in
 * messages, CSV profiles relative to path's folder. read_files 0 checks a CSV profile's name
 * but does not read it (the event gets no points): for fuzzing. */
rig_rc scenario_parse(struct scenario *s, const char *text, size_t len, const char *path,
                      long long seed_override, int read_files, char *err, size_t errcap);
void scenario_free(struct scenario *s);
/* A profile's CSV text[0..len) (rows time_s,current_a) as a scenario file's "csv" names it,
 * into s's point pool after its n_points: e gets first and count. err: "FILE:LINE: what was
 * expected, got \"excerpt\"", RIG_ERR_ARG. Fuzzing and tests; the loader reads the file. */
rig_rc scenario_profile_csv(struct scenario *s, struct scen_event *e, const char *file, const char *text,
                            size_t len, char *err, size_t errcap);
/* Writes one loaded setting into b (the runner, before the run): RIG_ERR_ARG when b refuses it. */
struct bms;
rig_rc scen_setting_apply(const struct scen_setting *set, struct bms *b);

/*
 * One timeline event for a running emulator (the control socket's "fault"), read and checked
 * as a file's timeline[] entry is, against sc's pack, BMS kind and link: obj is the event
 * object without "at" (and without "id" unless sc has no event of that id). "profile" is
 * refused: its points belong to a file. On error err holds one line "KEY: what was expected"
 * and RIG_ERR_ARG is returned.
 */
struct cJSON;
rig_rc scenario_parse_event(const struct scenario *sc, const struct cJSON *obj, struct scen_event *out,
                            char *err, size_t errcap);
/* An empty scenario around one emulated unit (bmssim serve): no events, the
 * longest duration, its pack, BMS kind and link, so that events can be checked against it and
 * a timeline played over it. RIG_ERR_ARG when no BMS kind has the unit's personality and link. */
rig_rc scenario_for_unit(struct scenario *s, const struct sim_unit_cfg *unit, const struct link_cfg *link);

/* Line l's protocol, link and baud: bms for line 0 (it holds the top-level `link`), else
 * the line's first unit. */
const struct bms_spec *scenario_line_spec(const struct scenario *s, unsigned line);

/* "250ms", "2m", "1h30m", "1.5s", "0" into ms; RIG_ERR_ARG on anything else or above 49 days. */
rig_rc scenario_parse_time(const char *text, uint32_t *ms);

/* The event kind's name in files ("current", "ntc_open", ...). */
const char *scen_ev_name(enum scen_ev_kind k);

#endif
