/* What `bmssim serve` is asked to run: one spec per emulated BMS, from command-line flags,
 * `--bms KIND,key=value,...` or a JSON config file, all through one key table. Specs that name
 * the same --link or --port share one transport: an RS485 bus. */
#ifndef BMSRIG_SPEC_H
#define BMSRIG_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/sim/link.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/sim.h"

#define SPEC_TEXT_MAX 256u
#define SPEC_MAX 512u

/* A BMS kind: a personality behind a link. */
struct bms_kind {
	const char *name;               /* jbd, jbd-ble, daly, daly-ble, jk, jk-ble */
	const char *personality;
	enum link_kind link;
	const char *quirk, *quirk_value;   /* what the real device does behind this link, or NULL */
};
extern const struct bms_kind bms_kinds[];
const struct bms_kind *bms_kind_find(const char *name);

struct bms_spec {
	const struct bms_kind *kind;
	struct sim_unit_cfg unit;       /* ops set by spec_resolve */
	struct link_cfg link;
	uint32_t baud;                  /* 0 = the protocol's own */
	char link_path[SPEC_TEXT_MAX], port_path[SPEC_TEXT_MAX], state_path[SPEC_TEXT_MAX];
	char quirk_text[SIM_QUIRKS_MAX][2][64];
	char origin[SPEC_TEXT_MAX];     /* "--bms daly,cells=16" or "file:line:column", for errors */
};

/* jbd, 4S LFP 100 Ah at 80 %, no current, 25 degC, 2 NTC, seed 1. */
void spec_defaults(struct bms_spec *s);
/* One key; why (no key prefix) on RIG_ERR_ARG, e.g. "expected an integer 1..32, got \"40\"". */
rig_rc spec_set(struct bms_spec *s, const char *key, const char *value, char *why, size_t whycap);
/* "KIND[,key=value...]" over a copy of the template. err: "--bms ...: cells: expected ...". */
rig_rc spec_parse(struct bms_spec *out, const struct bms_spec *tmpl, const char *text,
                  char *err, size_t errcap);
/* {"bms": [{"kind": "daly", "cells": 16, "quirks": {...}, "ble": {...}}, ...]} over copies of
 * the template; err: "FILE:LINE:COLUMN: what was expected". *n specs are written to out. */
rig_rc spec_load_config(const char *path, const struct bms_spec *tmpl, struct bms_spec *out,
                        unsigned max, unsigned *n, char *err, size_t errcap);
/* The same over the text of a file named path: len bytes, NUL-terminated after them (a NUL
 * inside is an error); its errors name path. */
rig_rc spec_parse_config(const char *text, size_t len, const char *path, const struct bms_spec *tmpl,
                         struct bms_spec *out, unsigned max, unsigned *n, char *err, size_t errcap);
/* Personality lookup and quirk table for the sim; RIG_ERR_UNSUPPORTED when not built in. */
rig_rc spec_resolve(struct bms_spec *s, char *err, size_t errcap);
/* Group specs into transports (same link or port path = one bus). cfgs gets one sim_cfg per
 * transport, first_spec the index of its first spec. */
rig_rc spec_group(struct bms_spec *specs, unsigned n, struct sim_cfg *cfgs, unsigned *n_cfgs,
                  unsigned *first_spec, char *err, size_t errcap);

#endif
