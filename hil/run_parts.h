/* The runner's parts (hil/runner.c composes them): the truth the judge holds a DUT to, the
 * trace writer and the progress display. Private to hil/. */
#ifndef BMSRIG_RUN_PARTS_H
#define BMSRIG_RUN_PARTS_H

#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "bmsrig/hil/expect.h"
#include "bmsrig/hil/hil.h"
#include "bmsrig/sim/sim.h"

/* ---- the truth (hil/run_truth.c) ------------------------------------------------------------ */

/* The truth behind the BMS's latest replies, part by part (truth.h): what a DUT's next report
 * combines, so what it is held to. */
struct run_truth {
	struct truth_view at_reply;
	uint32_t built_ms[3];              /* when the reply behind each part was built */
	int reads_soc;                     /* does a report's judge read the SOC? (run_truth_plan) */
};

/* The truth now: the emulator's sample of every part of unit 0, and what no reply carries (the
 * state of charge, the load asked for, the ambient, the BMS's own decisions). */
void run_truth_now(const struct sim *sim, double requested_A, struct truth_view *t);
/* Only the emulated BMS's decisions (FETs, protections, balancing) into t; the rest untouched. */
void run_truth_decisions(const struct sim *sim, struct truth_view *t);
/* Once, before the first reply: what the expectations spec[0..n_spec) need of at_reply (its
 * state of charge only when one reading dut.* reads it; else those two fields stay stale). */
void run_truth_plan(struct run_truth *rt, const struct expect_spec *spec, unsigned n_spec);
/* A reply's sample (sim_on_truth) into at_reply; a late reply to an earlier request does not set
 * the truth back. */
void run_truth_reply(struct run_truth *rt, const struct sim *sim, double requested_A,
                     const struct truth_sample *sample);

/* ---- the battery as an inverter sees it (hil/run_truth.c) ----------------------------------- */

/* For BMS kinds that speak an inverter protocol (their personality has inv_decode): the record
 * the BMS logic computes now, and the one the frames that crossed the wire add up to. */
struct run_inv {
	int (*decode)(uint32_t *ask, enum personality_dir dir, const uint8_t *wire, size_t n,
	              struct rig_inv_battery *rec);   /* NULL: off */
	uint32_t ask;                      /* the decoder's word: what the last request asked */
	struct rig_inv_battery truth, wire;
	unsigned frames;                   /* frames that changed the wire record */
	uint32_t last_ms;                  /* when the last of them crossed */
};

/* Off unless unit 0's personality decodes its frames. */
void run_inv_init(struct run_inv *v, const struct sim *sim);
/* A frame that crossed the line, at now_ms: a reply into the wire record, a request noted. */
void run_inv_frame(struct run_inv *v, enum personality_dir dir, const uint8_t *wire, size_t n, uint32_t now_ms);
/* The truth now: one unit's record, or all units of the line combined as their master module
 * announces them. */
void run_inv_truth(struct run_inv *v, const struct sim *sim);
/* Both into an expectation's environment (NaN where there is no record yet). */
void run_inv_env(const struct run_inv *v, uint32_t now_ms, struct expect_env *env);
/* The record's fields the expectations name, as a JSON object (trace, control socket). */
cJSON *run_inv_json(const struct rig_inv_battery *rec);

/* ---- the trace: JSON lines (hil/run_trace.c) ------------------------------------------------ */

/* A record {"t_ms": ..., "type": ...} to add to, then run_trace_put (which frees it). */
cJSON *run_trace_record(uint32_t t_ms, const char *type);
void run_trace_put(FILE *f, cJSON *o);
/* The truth once a second: rounded as a reader needs it (0.1 mV cells, whole mV and mA). */
void run_trace_truth(FILE *f, uint32_t t_ms, const struct truth_view *t);

/* ---- the progress display (hil/run_progress.c) ---------------------------------------------- */

/* A scenario's: a bar on stderr. */

struct run_progress {
	double wall0, next_draw;           /* s on the monotonic clock */
};

double run_wall_s(void);
void run_progress_start(struct run_progress *p);
/* At most ten times a second, unless done (which also clears the line). */
void run_progress_draw(struct run_progress *p, const char *name, uint32_t now_ms, uint32_t duration_ms,
                       int done);

/* A session's: each report on stdout beside the standing verdict's word for it (agrees 1,
 * disagrees 0, a failed poll -1, with why); on a terminal (tty) the side-by-side table of the
 * truth of unit on sim and the report instead, redrawn in place. */
void run_show_report(const struct sim *sim, unsigned unit, const struct verdict *v, const struct dut_report *d,
                     int tty, int agrees, const char *why);
/* Its end: the verdict, its first problem, and exit_status when a DUT that ended by itself
 * exited with one other than 0 (-1: say nothing). after_table: the table is on the screen. */
void run_show_verdict(const struct verdict *v, int after_table, int exit_status);

#endif
