/*
 * The runner: plays a device under test against the emulator and judges it. One runner for
 * `bmssim run` and `bmssim serve --dut`; a run is either
 *   a scenario  the runner builds the event loop and the emulator from it, plays its timeline
 *               and judges its expectations, for the scenario's duration. Two clocks:
 *               lockstep  the firmware core linked in, simulated time on a virtual event loop,
 *                         bytes over an in-memory line with their modelled delays: deterministic
 *                         for a seed and as fast as the machine goes;
 *               realtime  the host bmsmon (or any command printing telemetry lines) as a
 *                         separate process on a pty, the emulator pacing each reply at its baud
 *                         rate, on the wall clock;
 *   a session   the caller has built the loop, the emulator (any ports and units), their load
 *               and the control socket (bmssim serve); no timeline, no expectations: the judge
 *               is the standing truth comparison (hil.h, verdict.c) of every report.
 * Both share the DUT table (dut.h), the judges, the display and the report.
 */
#ifndef BMSRIG_RUNNER_H
#define BMSRIG_RUNNER_H

#include <stdint.h>
#include <stdio.h>
#include "bmsrig/sim/control.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/hil/expect.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/hil/scenario_judge.h"

struct run_opts {
	int realtime;                 /* the wall clock: every DUT but inproc (a session: always) */
	struct dut_spec dut;          /* which device under test (dut.h) */
	const char *dut_cmd;          /* host/qemu: run this with {port}; NULL = the built one */
	int dut_quiet;                /* host/qemu: the process's stderr goes to /dev/null */
	unsigned dut_grace_ms;        /* host/qemu: SIGTERM to SIGKILL at the end; 0 = 500 */
	FILE *trace;                  /* JSON lines: truth, telemetry, frames, events; may be NULL */
	int progress;                 /* a live bar on stderr */
	int show_reports;             /* each report on stdout, with the standing verdict's word */
	int tty;                      /* show_reports: a side-by-side table redrawn in place */
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
	/* the expectations, then the runner's own checks: reports came, the timeline ran, the
	 * standing verdict agreed, a DUT that ended by itself exited 0 */
	struct run_case cases[SCEN_EXPECT_MAX + 4];
	double sim_s, wall_s;
	unsigned dut_reports, frames;
	char error[1024];             /* the run could not happen (DUT did not start ...): "" if it did */
};

/* What a run plays against, and its judges. */
struct run_setup {
	/* A scenario: the world, its timeline and duration. NULL: a session on the world below. */
	const struct scenario *sc;
	/* A session's world, its caller's: it runs and stops the loop, serves the ports, sets the
	 * load and attaches the control socket. */
	struct host_loop *loop;
	struct sim *sim;
	unsigned unit;                /* the BMS on sim the DUT reads (a scenario's: 0) */
	unsigned control_unit;        /* its number on the control socket */
	uint32_t duration_ms;         /* the session ends then; 0 = when its caller stops the loop */
	/* The judges, either or both. */
	const struct scenario_judge *jd;  /* a scenario's expectations and DUT settings: required */
	int verdict;                  /* the standing truth comparison of every report */
};

struct run;

/* Opens the DUT (a board is reset and heard from) and, for a scenario, builds the loop and the
 * emulator. Whatever happens *out is to be freed (run_free); on error rep->error says why. */
rig_rc run_open(struct run **out, const struct run_setup *s, const struct run_opts *o, struct run_report *rep);
/* Starts the DUT and the judges' timers on the run's loop (run_loop): the caller runs it. */
rig_rc run_start(struct run *r);
struct host_loop *run_loop(const struct run *r);
/* Once the loop has stopped: the last judgement, the DUT stopped, the report filled (a session's
 * verdict also printed). RIG_OK when the run happened (run_passed says how it went). */
rig_rc run_finish(struct run *r);
void run_free(struct run *r);

/* A scenario from start to end: the lifecycle above on the run's own loop. RIG_OK when the run
 * happened (judged in rep, passed or not); otherwise rep->error says why. */
rig_rc run_scenario(const struct scenario *sc, const struct scenario_judge *jd, const struct run_opts *o,
                    struct run_report *rep);
/* Every case passed and the run happened. */
int run_passed(const struct run_report *rep);

/* JUnit XML: a testsuite per scenario, a testcase per case; written to PATH.tmp, then renamed. */
rig_rc junit_write(const char *path, const struct run_report *reps, unsigned n, char *err, size_t errcap);

#endif
