/*
 * The scenario runner (`bmssim run`): plays a scenario against a device under test and judges
 * it. Two ways to run one:
 *   lockstep  the firmware core linked in, simulated time on a virtual event loop, bytes over an
 *             in-memory line with their modelled delays: deterministic for a seed and as fast
 *             as the machine goes;
 *   realtime  the host bmsmon (or any command printing telemetry lines) as a separate process
 *             on a pty, the emulator pacing each reply at its baud rate, on the wall clock.
 * Both share the scenario engine, the judge and the reports; only the DUT and the clock differ.
 */
#ifndef BMSRIG_RUNNER_H
#define BMSRIG_RUNNER_H

#include <stdio.h>
#include "bmsrig/sim/control.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/hil/expect.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/hil/scenario_judge.h"

struct run_opts {
	int realtime;                 /* the wall clock: every DUT but inproc */
	struct dut_spec dut;          /* which device under test (dut.h) */
	const char *dut_cmd;          /* host/qemu: run this with {port}; NULL = the built one */
	FILE *trace;                  /* JSON lines: truth, telemetry, frames, events; may be NULL */
	int progress;                 /* a live bar on stderr */
	int verbose;                  /* telemetry and frames on stderr */
	struct control *control;      /* served during each run (control.h); may be NULL */
	double rate;                  /* lockstep: x times real time; 0 = as fast as it goes */
};

#define RUN_WIRE_CONTEXT 1024u

/* One judged item: an expectation, or one of the runner's own checks (the DUT reported at all,
 * the timeline ran without errors). */
struct run_case {
	char name[96];
	enum expect_state state;
	double t_s;                   /* when it was decided */
	char message[512];
	char wire[RUN_WIRE_CONTEXT];  /* failed: the last frames on the wire before it failed */
};

struct run_report {
	char scenario[96];
	char path[SCEN_TEXT_MAX];
	unsigned n_cases;
	struct run_case cases[SCEN_EXPECT_MAX + 2];
	double sim_s, wall_s;
	unsigned dut_reports, frames;
	char error[1024];             /* the run could not happen (DUT did not start ...): "" if it did */
};

/* RIG_OK when the run happened (judged in rep, passed or not); otherwise rep->error says why. */
rig_rc run_scenario(const struct scenario *sc, const struct scenario_judge *jd, const struct run_opts *o,
                    struct run_report *rep);
/* Every case passed and the run happened. */
int run_passed(const struct run_report *rep);

/* JUnit XML: a testsuite per scenario, a testcase per case; written to PATH.tmp, then renamed. */
rig_rc junit_write(const char *path, const struct run_report *reps, unsigned n, char *err, size_t errcap);

/* ---- `bmssim serve --dut CMD`: a session on the program's emulator (hil/run_serve.c) ------- */

struct run_serve_opts {
	const char *cmd;              /* run by /bin/sh -c with {port} replaced by sim's port */
	unsigned unit;                /* the BMS on sim the DUT reads */
	struct control *control;      /* its telemetry goes here as control_unit; may be NULL */
	unsigned control_unit;
	int quiet;                    /* nothing but errors and the verdict; the DUT's stderr too */
	int tty;                      /* stdout is a terminal: a table redrawn in place */
};

struct run_serve;

/* Starts the DUT on loop, judging each report against sim's truth. On error err says why (one
 * line); *out is then still to be freed (run_serve_free). */
rig_rc run_serve_start(struct run_serve **out, struct host_loop *loop, struct sim *sim,
                       const struct run_serve_opts *o, char *err, size_t errcap);
/* Once the loop has stopped: ends the DUT, prints the verdict and frees s. Returns 0 when every
 * report agreed and the DUT (if it ended by itself) exited 0, else 1. */
int run_serve_finish(struct run_serve *s);
void run_serve_free(struct run_serve *s);

/* `bmssim run FILE... [--realtime] [--junit OUT.xml] [--trace OUT.jsonl] [--seed N] ...`.
 * argv[0] is "run". Exit status: 0 all passed, 1 an expectation failed, 2 bad input. */
int runner_main(int argc, char **argv);

#endif
