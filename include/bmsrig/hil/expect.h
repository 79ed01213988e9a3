/*
 * Expectations: what a scenario says the device under test must show, and when.
 *
 * An expression is a small language over two records, `dut.*` (the last telemetry line) and
 * `truth.*` (the model and the emulated BMS now), with numbers, + - * /, comparisons
 * (== != < <= > >=), `and`, `or`, `not`, `&` (bit and), parentheses, abs/min/max and the
 * per-cell quantifiers `all cells: EXPR` and `any cell: EXPR`. Inside a quantifier `cell` is the
 * cell's number (1-based) and the unindexed cell fields (`dut.cell_mv`, `truth.cell_mv`, ...)
 * name that cell. Protection bits have names: `prot.cell_ov` ... `prot.sw_lock` (pack_state.h).
 * For inverter protocols two more records: `truth.cvl_mv` ... (the battery's word to an
 * inverter as the BMS logic computes it now) and `wire.*` (as the frames that crossed the wire
 * said it), with the bit names `req.*` and `alarm.*` (core/inverter.h); and `inv.*`, the last
 * record the rig, playing the inverter, decoded from the device under test's inverter port.
 * The full vocabulary is documented in scenarios/README.md.
 *
 * A tolerance widens every comparison by that much in the compared units: `a == b` holds when
 * |a - b| <= tol, `a < b` when a < b + tol, and so on.
 *
 * A judge runs the four forms over time: `at T`, `within D after <event or condition>`,
 * `always` and `never` (the last two optionally limited to from..until).
 * No heap: a compiled expression lives in its own fixed pool.
 */
#ifndef BMSRIG_EXPECT_H
#define BMSRIG_EXPECT_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/hil/hil.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"

#define EXPR_NODES_MAX 96u
#define EXPR_TEXT_MAX 512u
#define EXPR_INPUTS_MAX 4u

/* The truth side of an expression: what the model and the emulated BMS hold now. */
struct truth_view {
	double pack_mV, current_mA;        /* current: what flows, + = charging */
	double requested_mA;               /* what the load or charger asked for */
	double soc_pct;                    /* mean of the cells' state of charge */
	unsigned cell_count;
	double cell_mV[PACK_CELLS_MAX];    /* terminal voltages */
	double cell_soc_pct[PACK_CELLS_MAX];
	unsigned temp_count;
	double temp_dK[PACK_TEMPS_MAX];    /* what each probe would read, exactly */
	double ambient_dK;
	unsigned fet_chg, fet_dsg;         /* the emulated BMS's FETs, 1 = on */
	uint32_t prot;                     /* the emulated BMS's protections, enum pack_prot bits */
	uint32_t bal_mask;
};

/* Everything an expression can read at one moment. */
struct expect_env {
	double t_s;                        /* simulated seconds since the start */
	const struct dut_report *dut;      /* NULL until the DUT has reported */
	unsigned dut_reports;              /* telemetry lines so far */
	double dut_age_ms;                 /* since the last telemetry line */
	const struct truth_view *truth;
	/* The battery as an inverter sees it (core/inverter.h), for BMS kinds that speak an
	 * inverter protocol: inv_truth what the BMS logic computes now (NULL for the other kinds:
	 * truth.cvl_mv ... read NaN), inv_wire what the frames that crossed the wire said (NULL
	 * before the first decoded frame: wire.* read NaN). */
	const struct rig_inv_battery *inv_truth, *inv_wire;
	unsigned wire_frames;              /* frames decoded so far */
	double wire_age_ms;                /* since the last decoded frame */
	/* The rig as the inverter (rig_inverter.h): the last record it decoded from the DUT's
	 * inverter port, NULL before the first (inv.* read NaN), how many so far and the age of
	 * the last (inv.age_ms). */
	const struct rig_inv_battery *inv_dut;
	unsigned inv_records;
	double inv_age_ms;
};

/* One node of a compiled expression; only expect.c reads its fields. */
struct expr_node {
	uint8_t kind, op;
	uint16_t a, b;                     /* child nodes, or a variable id */
	double num;
	uint16_t src_at, src_len;          /* the node's text in expr.text, for messages */
};
struct expr {
	unsigned n_nodes, root;
	int uses_dut;                      /* reads dut.*: cannot be judged before a report */
	/* reads what may move between two of the emulated BMS's decisions: anything but
	 * truth.prot, truth.fet_chg, truth.fet_dsg and truth.bal_mask (a cell quantifier too); 0:
	 * the value stays the same while those four do */
	int reads_live;
	/* reads truth.soc_pct or truth.cell_soc_pct: the truth behind a reply then needs the
	 * model's state of charge, which costs a pass over the cells (hil/run_truth.c) */
	int reads_soc;
	/* The names it reads, when its value depends on nothing else (no quantifier, no index,
	 * at most EXPR_INPUTS_MAX names): n_inputs 0 otherwise. The same values give the same
	 * value and the same deciding comparison, so the judge need not evaluate it again. */
	unsigned n_inputs;
	uint16_t input_var[EXPR_INPUTS_MAX];
	char text[EXPR_TEXT_MAX];
	struct expr_node node[EXPR_NODES_MAX];
	/* The nodes flattened at compile time into a program for a value stack (expect.c): what
	 * the judge runs, with no recursion and no call per node. A node gives at most two ops.
	 * An operator's operand that is a leaf (a number, `cell`, an unindexed name) is read by
	 * the operator itself (lk, rk: how; ln, rn: its node), not pushed by an op of its own. */
	unsigned n_ops;
	struct expr_op { uint8_t code, op, lk, rk; uint16_t node, to, ln, rn; } ops[2 * EXPR_NODES_MAX];
};

/*
 * Compiles text. On RIG_ERR_ARG, err reads like "unknown name `dut.rely`" and
 * *err_col is the 1-based column in text where it went wrong.
 */
rig_rc expr_compile(struct expr *e, const char *text, char *err, size_t errcap, unsigned *err_col);

/* Why an expression came out as it did: the deciding comparison and both of its sides. */
struct expr_why {
	char lhs[128], rhs[128];           /* the sides' source text */
	char op[4];
	double lhs_v, rhs_v;
	int cell;                          /* 1-based cell of a quantifier that decided, else 0 */
	int have;                          /* a comparison decided */
	uint16_t node;                     /* its node: the judge fills lhs, rhs and op from it only
	                                    * when a message shows them (expect_result.why holds them
	                                    * once the expectation is decided) */
};

/* Value of e (comparisons give 1 or 0). why may be NULL. A dut.* field read before the DUT
 * has reported, or a cell or probe index beyond the counts, gives NaN (and so false). */
double expr_eval(const struct expr *e, const struct expect_env *env, double tolerance,
                 struct expr_why *why);

/* ---- the judge ---------------------------------------------------------------------------- */

enum expect_form { EXPECT_AT = 0, EXPECT_WITHIN, EXPECT_ALWAYS, EXPECT_NEVER };

struct expect_spec {
	char name[96];
	enum expect_form form;
	struct expr that;                  /* at/within: must hold; always: must hold; never: must not */
	double tolerance;
	uint32_t at_ms;                    /* EXPECT_AT */
	uint32_t within_ms;                /* EXPECT_WITHIN: after the trigger */
	int after_event;                   /* EXPECT_WITHIN: timeline event index, or -1 ... */
	struct expr after;                 /* ... or the condition whose first truth is the trigger */
	uint32_t from_ms, until_ms;        /* ALWAYS/NEVER window; until 0 = to the end */
};

enum expect_state { EXPECT_PENDING = 0, EXPECT_PASSED, EXPECT_FAILED };

struct expect_result {
	enum expect_state state;
	uint32_t t_ms;                     /* when it was decided */
	uint32_t trigger_ms;               /* WITHIN: when the trigger happened (or UINT32_MAX) */
	uint32_t checks;                   /* evaluations made */
	char message[512];                 /* "at 12.300 s: dut.relay == 0 is false: dut.relay = 1, 0 = 0" */
	struct expr_why why;
	/* ALWAYS/NEVER with that.n_inputs: the inputs of its last check, which held (inputs_held);
	 * a step that finds them the same counts its check without evaluating */
	int inputs_held;
	double inputs[EXPR_INPUTS_MAX];
};

/*
 * Feed one moment: every pending expectation is evaluated against env. Events that happened
 * at this moment (timeline indices) are given in fired[0..n_fired). Returns the number of
 * expectations that failed at this call (so a runner can attach the wire context).
 */
unsigned expect_step(const struct expect_spec *spec, struct expect_result *res, unsigned n,
                     uint32_t now_ms, const struct expect_env *env,
                     const unsigned *fired, unsigned n_fired);
/* The run ended at end_ms: decide everything still pending (an `at` never reached fails, an
 * `always` or `never` that held passes, a `within` whose trigger never came fails). */
/* One step of spec[i] (ALWAYS or NEVER, that.reads_live 0) whose inputs are the same as at its
 * last check, which held: the check this step would make, counted without evaluating (its
 * outcome is that check's). Lets the judge skip what cannot change a verdict. */
void expect_step_same(const struct expect_spec *spec, struct expect_result *res, uint32_t now_ms,
                      const struct expect_env *env);
void expect_finish(const struct expect_spec *spec, struct expect_result *res, unsigned n,
                   uint32_t end_ms);

/* ---- on the control socket (hil/expect_control.c) ------------------------------------------ */

struct cJSON;
struct control;

/* The "expect" array of the state's "scenario" object: each expectation's name and state. */
void expect_states_json(struct cJSON *scenario, const struct expect_spec *spec,
                        const struct expect_result *res, unsigned n);
/* Sends an "expect" event for each expectation whose state is not last[k] any more, and
 * remembers it there (last starts all EXPECT_PENDING). c may be NULL. */
void expect_publish(struct control *c, const struct expect_spec *spec, const struct expect_result *res,
                    enum expect_state *last, unsigned n);

#endif
