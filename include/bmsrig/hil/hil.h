/* hil: run a device under test and judge what it reports against the emulator's truth. */
#ifndef BMSRIG_HIL_H
#define BMSRIG_HIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/truth.h"

/* One telemetry line (docs/architecture.md contract) as the runner reads it. */
/* A bridge's `inv` object (docs/architecture.md, telemetry line). */
struct dut_report_inv {
	uint32_t cvl_mV, dvl_mV;
	int32_t ccl_mA, dcl_mA;
	uint8_t soc_pct, request, alarm, online_packs;
	uint32_t prot;
	uint8_t pack_count;
	uint8_t pack_ok[RIG_INV_MODULES_MAX];
	uint32_t pack_age_ms[RIG_INV_MODULES_MAX];
};

struct dut_report {
	uint32_t ms;
	char proto[16];
	int ok;
	struct pack_state pack;      /* pack_mV, current_mA, soc, cells, temps, FETs, prot, bal */
	int relay;
	unsigned comm_fail;
	int has_inv;                 /* the line had an `inv` object: inv holds it */
	struct dut_report_inv inv;
};
/* RIG_ERR_UNSUPPORTED: not a telemetry line (anything else a board prints).
 * RIG_ERR_FRAME: the prefix is there but the JSON or a required key is not; err says which. */
rig_rc dut_report_parse(const char *line, struct dut_report *r, char *err, size_t errcap);
struct telemetry;
/* The same report from the struct the line is formatted from (an in-process DUT): exactly the
 * fields the line carries, so a run reads the same whichever way its reports arrive. */
void dut_report_from_telemetry(const struct telemetry *t, struct dut_report *r);

#define VERDICT_HISTORY 64u
struct verdict {
	struct resolution tol;
	struct truth_sample ring[VERDICT_HISTORY];
	unsigned n_samples;          /* samples ever added; the ring holds the newest */
	unsigned parts_seen;         /* TRUTH_* bits any sample ever carried */
	unsigned lines, agree, disagree, failed_polls;
	unsigned startup_failures;   /* failed polls before the first report that agreed: connecting */
	double worst_cell_mV, worst_pack_mV, worst_current_mA, worst_temp_dK;
	char first_problem[256];
};
void verdict_init(struct verdict *v, const struct resolution *tol);
void verdict_add_truth(struct verdict *v, const struct truth_sample *s);
/* 1: each part of the report (pack, cells, temperatures) matches a recent truth sample
 * that carried it; 0: it does not (why says how). A part no sample has ever carried while
 * others have is one the protocol does not send (JK04: cells only) and is not judged;
 * -1: a failed poll (ok = 0), counted but not compared. */
int verdict_check(struct verdict *v, const struct dut_report *r, char *why, size_t whycap);
/* Passed: at least one report compared, none disagreed, no failed polls once one agreed
 * (a monitor may fail while it connects, as over Bluetooth; never after). */
int verdict_passed(const struct verdict *v);
/* One line: "agree: 9/9 reports, worst cell 0.5 mV, ..." */
void verdict_summary(const struct verdict *v, char *out, size_t cap);

/* A device under test as a child process: its stdout is read line by line. */
struct dut_proc;
/* cmd is run by /bin/sh -c with every "{port}" replaced by port. */
rig_rc dut_proc_start(struct dut_proc **out, const char *cmd, const char *port, int quiet_stderr,
                      char *err, size_t errcap);
int dut_proc_fd(const struct dut_proc *p);
/* Reads what is there; calls on_line for each complete line (no newline). Returns 0 while the
 * child's stdout is open, 1 once it closed. */
int dut_proc_pump(struct dut_proc *p, void (*on_line)(void *ctx, const char *line), void *ctx);
/* Ends the child (SIGTERM, then SIGKILL after grace_ms) and returns its wait status, or -1. */
int dut_proc_stop(struct dut_proc *p, unsigned grace_ms);
void dut_proc_free(struct dut_proc *p);

#endif
