/*
 * Expectations: the expression language and the judge (include/bmsrig/hil/expect.h).
 *
 * THE EXPRESSION LANGUAGE
 *
 * Values are doubles. Comparisons and logic give 1 or 0. A value is true when it is neither 0
 * nor NaN. NaN means "no value": a dut.* field before the DUT's first report, an index outside
 * 1..count, a division by zero.
 *
 * Lexical
 *   spaces, tabs and line breaks separate tokens and are otherwise ignored.
 *   number    digits, optionally `.` and more digits: 3300, 0.5, 12.25. No sign (that is unary
 *             minus), no exponent, no leading `.`; `1.`, `1.2.3`, `12abc` are bad numbers.
 *   name      a letter or `_`, then letters, digits, `_` and `.`: dut.cell_mv, prot.cell_ov.
 *             Names are case-sensitive and lower case.
 *   operators ( ) [ ] , : + - * / & == != < <= > >= and or not && || !
 *             (`&&` `||` `!` are the same as `and` `or` `not`; a single `=` is an error.)
 *
 * Grammar, lowest precedence first
 *   expr    := or
 *   or      := and { ("or" | "||") and }              left to right, stops at the first true
 *   and     := not { ("and" | "&&") not }             left to right, stops at the first false
 *   not     := ("not" | "!") not | quant | cmp
 *   quant   := ("all" | "any") ("cells" | "cell") ":" expr
 *   cmp     := bitand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") bitand ]
 *   bitand  := sum { "&" sum }
 *   sum     := product { ("+" | "-") product }
 *   product := unary { ("*" | "/") unary }
 *   unary   := "-" unary | primary
 *   primary := number | "(" expr ")" | name [ "[" expr "]" ] | function "(" expr [ "," expr ] ")"
 * So `not a == b` is `not (a == b)`, `a + b & c` is `(a + b) & c`, and `1 < 2 < 3` is an
 * error (comparisons do not chain: write `1 < 2 and 2 < 3`).
 *
 * Operators
 *   + - * /   arithmetic; x / 0 is NaN (not infinity).
 *   &         bit and: both sides must be in 0 .. 2^32-1 and are truncated to whole numbers;
 *             anything else (negative, NaN, too big) gives NaN. `dut.prot & prot.cell_ov`.
 *   == != < <= > >=
 *             1 or 0. A NaN on either side makes every comparison false, `!=` included.
 *             The expectation's tolerance (its magnitude; NaN counts as 0) widens each one:
 *             a == b  |a - b| <= tol        a != b  |a - b| > tol
 *             a < b   a < b + tol           a <= b  a <= b + tol
 *             a > b   a > b - tol           a >= b  a >= b - tol
 *   and or not  1 or 0 by truthiness, so `not` of a NaN is 1.
 *
 * Functions: abs(x), min(a, b), max(a, b); a NaN argument gives NaN.
 *
 * Quantifiers: `all cells: EXPR` (1 when EXPR is true for every cell) and `any cell: EXPR`
 * (1 when it is true for at least one); `cell` and `cells` are accepted after either. The body
 * reaches as far right as possible, so `all cells: a or b` quantifies `a or b` and
 * `x and all cells: y` is `x and (all cells: y)`; to use one inside arithmetic or a
 * comparison, or to end it early, put it in parentheses. Cells run from 1 to the truth's
 * cell_count, or the DUT's when there is no truth. Over no cells `all` is 1 and `any` is 0.
 * Quantifiers do not nest. Inside one, `cell` is the cell's number (1-based) and the
 * unindexed dut.cell_mv, truth.cell_mv and truth.cell_soc_pct mean that cell's value.
 *
 * Names (an array field takes a 1-based index expression [n]; a non-whole or out-of-range
 * index gives NaN)
 *   t                   simulated seconds since the start
 *   dut.ok dut.pack_mv dut.current_ma (+ = charging) dut.soc_pct dut.cell_count dut.cell_mv[n]
 *   dut.cell_min_mv dut.cell_max_mv dut.cell_spread_mv dut.temp_count dut.temp_dk[n]
 *   dut.temp_min_dk dut.temp_max_dk dut.fet_chg dut.fet_dsg dut.prot dut.bal_mask dut.relay
 *   dut.comm_fail       the last telemetry line; NaN before the first.
 *   dut.reports         telemetry lines so far, and dut.age_ms, milliseconds since the last:
 *                       readable before the first report.
 *   truth.pack_mv truth.current_ma truth.requested_ma truth.soc_pct truth.cell_count
 *   truth.cell_mv[n] truth.cell_soc_pct[n] truth.cell_min_mv truth.cell_max_mv
 *   truth.cell_spread_mv truth.temp_count truth.temp_dk[n] truth.temp_min_dk truth.temp_max_dk
 *   truth.ambient_dk truth.fet_chg truth.fet_dsg truth.prot truth.bal_mask
 *                       the model and the emulated BMS now.
 *   truth.cvl_mv truth.dvl_mv truth.ccl_ma truth.dcl_ma truth.request truth.warn truth.alarm
 *   truth.soh_pct truth.module_count
 *                       the battery's word to an inverter as the BMS logic computes it now
 *                       (core/inverter.h; all modules of the line together); NaN when the
 *                       BMS kind speaks no inverter protocol.
 *   wire.cvl_mv wire.dvl_mv wire.ccl_ma wire.dcl_ma wire.soc_pct wire.soh_pct wire.pack_mv
 *   wire.current_ma wire.request wire.prot wire.warn wire.alarm wire.module_count
 *                       the same record as the frames that crossed the wire said it, each
 *                       frame changing what it carries; NaN before the first decoded frame.
 *   wire.frames         frames decoded so far, and wire.age_ms, milliseconds since the last:
 *                       readable before the first (0, and a very large age).
 *   inv.cvl_mv inv.dvl_mv inv.ccl_ma inv.dcl_ma inv.soc_pct inv.soh_pct inv.pack_mv
 *   inv.current_ma inv.request inv.prot inv.warn inv.alarm inv.online_packs inv.age_ms
 *                       the rig as the inverter (the scenario's `inverter`, rig_inverter.h):
 *                       the last record it decoded from the DUT's inverter port, i.e. what
 *                       the device announced (online_packs: the modules it said it has);
 *                       inv.age_ms since that record's last frame or answer. NaN before the
 *                       first record (so `inv.age_ms < 3000` is false until one came).
 *   inv.records         records decoded so far: readable before the first (0).
 *   prot.cell_ov prot.cell_uv prot.pack_ov prot.pack_uv prot.chg_ot prot.chg_ut prot.dsg_ot
 *   prot.dsg_ut prot.chg_oc prot.dsg_oc prot.short prot.afe prot.sw_lock
 *                       the protection bits (enum pack_prot): 1, 2, 4 ... 4096.
 *   req.chg_enable req.dsg_enable req.force_chg_1 req.force_chg_2 req.full_chg
 *                       the request bits (enum rig_inv_request): 1, 2, 4, 8, 16.
 *   alarm.comm alarm.system
 *                       the battery's own alarm bits (enum rig_inv_alarm): 1, 2.
 *   min/max/spread of an empty array is NaN. An expression reading any dut.* field but
 *   reports and age_ms "uses the DUT" (expr.uses_dut).
 *
 * Errors (expr_compile, RIG_ERR_ARG): one phrase and the 1-based column where it went wrong:
 *   empty expression; too long (more than 511 characters); too many nodes (more than
 *   EXPR_NODES_MAX); nested too deeply (more than 64 levels of parentheses, `not`, `-`, index,
 *   argument or quantifier); bad number `1.2.3`; unknown name `dut.rely`; unexpected `x`
 *   after `y`; unmatched `)`; unclosed `(` / `[`; expected a value after `+`; comparisons do
 *   not chain; dut.cell_mv needs an index [n] outside `all cells:`; `cell` outside a
 *   quantifier; quantifiers do not nest; a quantifier inside arithmetic without parentheses;
 *   wrong argument counts; an index on a field that takes none.
 *
 * Why (struct expr_why): the deciding comparison, its two sides' text and values, its op and
 * the quantifier's cell. With short-circuit evaluation that is simply the last comparison
 * evaluated: for `and` the first false operand's (or the last one's when all hold), for `or`
 * the first true operand's (or the last one's when none holds). For `all cells:` the first
 * cell that is false (the last cell when all hold); for `any cell:` the first true cell (the
 * last cell when none is). `have` is 0 when no comparison was evaluated (`dut.ok`).
 *
 * THE JUDGE: see expect_step below. expect_result starts zeroed (EXPECT_PENDING).
 */
#include "bmsrig/hil/expect.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE 0xFFFFu
#define DEPTH_MAX 64u
#define SHOW_MAX 32                /* longest token quoted in an error */

enum { N_NUM, N_VAR, N_CELL, N_NEG, N_NOT, N_BIN, N_CMP, N_AND, N_OR, N_CALL, N_QUANT };
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };
static const char *const cmp_name[] = { "==", "!=", "<", "<=", ">", ">=" };

/* Tokens: single characters stand for themselves. */
enum { T_END = 0, T_NUM = 256, T_NAME, T_AND, T_OR, T_NOT, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
       T_BAD };

/* ---- names ------------------------------------------------------------------------------- */

typedef double getter(const struct expect_env *env, unsigned i);

#define GET(fn, value) \
	static double fn(const struct expect_env *env, unsigned i) { (void)i; return (double)(value); }
#define DUT (env->dut->pack)
#define TRUTH (*env->truth)

static unsigned clamp(unsigned n, unsigned max) { return n < max ? n : max; }
static unsigned dut_cells(const struct expect_env *env) { return clamp(DUT.cell_count, PACK_CELLS_MAX); }
static unsigned dut_temps(const struct expect_env *env) { return clamp(DUT.temp_count, PACK_TEMPS_MAX); }
static unsigned truth_cells(const struct expect_env *env) { return clamp(TRUTH.cell_count, PACK_CELLS_MAX); }
static unsigned truth_temps(const struct expect_env *env) { return clamp(TRUTH.temp_count, PACK_TEMPS_MAX); }

enum { S_MIN, S_MAX, S_SPREAD };
static double stat_of(const struct expect_env *env, getter *get, unsigned n, int what)
{
	double lo = NAN, hi = NAN;
	unsigned i;

	for (i = 0; i < n; i++) {
		double v = get(env, i);

		lo = i == 0 || v < lo ? v : lo;
		hi = i == 0 || v > hi ? v : hi;
	}
	return what == S_MIN ? lo : what == S_MAX ? hi : hi - lo;
}

GET(get_t, env->t_s)
GET(get_reports, env->dut_reports)
GET(get_age, env->dut_age_ms)
GET(d_ok, env->dut->ok)
GET(d_pack, DUT.pack_mV)
GET(d_current, DUT.current_mA)
GET(d_soc, DUT.soc_pct)
GET(d_cell_count, DUT.cell_count)
GET(d_cell, DUT.cell_mV[i])
GET(d_cell_min, stat_of(env, d_cell, dut_cells(env), S_MIN))
GET(d_cell_max, stat_of(env, d_cell, dut_cells(env), S_MAX))
GET(d_cell_spread, stat_of(env, d_cell, dut_cells(env), S_SPREAD))
GET(d_temp_count, DUT.temp_count)
GET(d_temp, DUT.temp_dK[i])
GET(d_temp_min, stat_of(env, d_temp, dut_temps(env), S_MIN))
GET(d_temp_max, stat_of(env, d_temp, dut_temps(env), S_MAX))
GET(d_fet_chg, DUT.fet_chg)
GET(d_fet_dsg, DUT.fet_dsg)
GET(d_prot, DUT.prot)
GET(d_bal, DUT.bal_mask)
GET(d_relay, env->dut->relay)
GET(d_comm_fail, env->dut->comm_fail)
GET(t_pack, TRUTH.pack_mV)
GET(t_current, TRUTH.current_mA)
GET(t_requested, TRUTH.requested_mA)
GET(t_soc, TRUTH.soc_pct)
GET(t_cell_count, TRUTH.cell_count)
GET(t_cell, TRUTH.cell_mV[i])
GET(t_cell_soc, TRUTH.cell_soc_pct[i])
GET(t_cell_min, stat_of(env, t_cell, truth_cells(env), S_MIN))
GET(t_cell_max, stat_of(env, t_cell, truth_cells(env), S_MAX))
GET(t_cell_spread, stat_of(env, t_cell, truth_cells(env), S_SPREAD))
GET(t_temp_count, TRUTH.temp_count)
GET(t_temp, TRUTH.temp_dK[i])
GET(t_temp_min, stat_of(env, t_temp, truth_temps(env), S_MIN))
GET(t_temp_max, stat_of(env, t_temp, truth_temps(env), S_MAX))
GET(t_ambient, TRUTH.ambient_dK)
GET(t_fet_chg, TRUTH.fet_chg)
GET(t_fet_dsg, TRUTH.fet_dsg)
GET(t_prot, TRUTH.prot)
GET(t_bal, TRUTH.bal_mask)
/* The inverter records: SRC_INV_TRUTH, SRC_INV_WIRE and SRC_INV_DUT read NaN while theirs is
 * NULL. */
#define INV_T (*env->inv_truth)
#define INV_W (*env->inv_wire)
#define INV_D (*env->inv_dut)         /* SRC_INV_DUT: NaN while NULL */
GET(it_cvl, INV_T.cvl_mV)
GET(it_dvl, INV_T.dvl_mV)
GET(it_ccl, INV_T.ccl_mA)
GET(it_dcl, INV_T.dcl_mA)
GET(it_request, INV_T.request)
GET(it_warn, INV_T.warn)
GET(it_alarm, INV_T.alarm)
GET(it_soh, INV_T.soh_pct)
GET(it_modules, INV_T.module_count)
GET(w_cvl, INV_W.cvl_mV)
GET(w_dvl, INV_W.dvl_mV)
GET(w_ccl, INV_W.ccl_mA)
GET(w_dcl, INV_W.dcl_mA)
GET(w_soc, INV_W.soc_pct)
GET(w_soh, INV_W.soh_pct)
GET(w_pack, INV_W.pack_mV)
GET(w_current, INV_W.current_mA)
GET(w_request, INV_W.request)
GET(w_prot, INV_W.prot)
GET(w_warn, INV_W.warn)
GET(w_alarm, INV_W.alarm)
GET(w_modules, INV_W.module_count)
GET(v_cvl, INV_D.cvl_mV)
GET(v_dvl, INV_D.dvl_mV)
GET(v_ccl, INV_D.ccl_mA)
GET(v_dcl, INV_D.dcl_mA)
GET(v_soc, INV_D.soc_pct)
GET(v_soh, INV_D.soh_pct)
GET(v_pack, INV_D.pack_mV)
GET(v_current, INV_D.current_mA)
GET(v_request, INV_D.request)
GET(v_prot, INV_D.prot)
GET(v_warn, INV_D.warn)
GET(v_alarm, INV_D.alarm)
GET(v_online, INV_D.module_count)
GET(v_age, env->inv_age_ms)
GET(v_records, env->inv_records)
GET(w_frames, env->wire_frames)
GET(w_age, env->wire_age_ms)

/* Every source but SRC_ENV reads NaN while its record is NULL. */
enum { SRC_ENV, SRC_DUT, SRC_TRUTH, SRC_INV_TRUTH, SRC_INV_WIRE, SRC_INV_DUT };
struct var {
	const char *name;
	getter *get;
	unsigned (*count)(const struct expect_env *env);   /* arrays: indices 1..count */
	uint8_t src, per_cell;                              /* per_cell: unindexed in a quantifier */
};
static const struct var vars[] = {
	{ "t", get_t, NULL, SRC_ENV, 0 },
	{ "dut.reports", get_reports, NULL, SRC_ENV, 0 },
	{ "dut.age_ms", get_age, NULL, SRC_ENV, 0 },
	{ "dut.ok", d_ok, NULL, SRC_DUT, 0 },
	{ "dut.pack_mv", d_pack, NULL, SRC_DUT, 0 },
	{ "dut.current_ma", d_current, NULL, SRC_DUT, 0 },
	{ "dut.soc_pct", d_soc, NULL, SRC_DUT, 0 },
	{ "dut.cell_count", d_cell_count, NULL, SRC_DUT, 0 },
	{ "dut.cell_mv", d_cell, dut_cells, SRC_DUT, 1 },
	{ "dut.cell_min_mv", d_cell_min, NULL, SRC_DUT, 0 },
	{ "dut.cell_max_mv", d_cell_max, NULL, SRC_DUT, 0 },
	{ "dut.cell_spread_mv", d_cell_spread, NULL, SRC_DUT, 0 },
	{ "dut.temp_count", d_temp_count, NULL, SRC_DUT, 0 },
	{ "dut.temp_dk", d_temp, dut_temps, SRC_DUT, 0 },
	{ "dut.temp_min_dk", d_temp_min, NULL, SRC_DUT, 0 },
	{ "dut.temp_max_dk", d_temp_max, NULL, SRC_DUT, 0 },
	{ "dut.fet_chg", d_fet_chg, NULL, SRC_DUT, 0 },
	{ "dut.fet_dsg", d_fet_dsg, NULL, SRC_DUT, 0 },
	{ "dut.prot", d_prot, NULL, SRC_DUT, 0 },
	{ "dut.bal_mask", d_bal, NULL, SRC_DUT, 0 },
	{ "dut.relay", d_relay, NULL, SRC_DUT, 0 },
	{ "dut.comm_fail", d_comm_fail, NULL, SRC_DUT, 0 },
	{ "truth.pack_mv", t_pack, NULL, SRC_TRUTH, 0 },
	{ "truth.current_ma", t_current, NULL, SRC_TRUTH, 0 },
	{ "truth.requested_ma", t_requested, NULL, SRC_TRUTH, 0 },
	{ "truth.soc_pct", t_soc, NULL, SRC_TRUTH, 0 },
	{ "truth.cell_count", t_cell_count, NULL, SRC_TRUTH, 0 },
	{ "truth.cell_mv", t_cell, truth_cells, SRC_TRUTH, 1 },
	{ "truth.cell_soc_pct", t_cell_soc, truth_cells, SRC_TRUTH, 1 },
	{ "truth.cell_min_mv", t_cell_min, NULL, SRC_TRUTH, 0 },
	{ "truth.cell_max_mv", t_cell_max, NULL, SRC_TRUTH, 0 },
	{ "truth.cell_spread_mv", t_cell_spread, NULL, SRC_TRUTH, 0 },
	{ "truth.temp_count", t_temp_count, NULL, SRC_TRUTH, 0 },
	{ "truth.temp_dk", t_temp, truth_temps, SRC_TRUTH, 0 },
	{ "truth.temp_min_dk", t_temp_min, NULL, SRC_TRUTH, 0 },
	{ "truth.temp_max_dk", t_temp_max, NULL, SRC_TRUTH, 0 },
	{ "truth.ambient_dk", t_ambient, NULL, SRC_TRUTH, 0 },
	{ "truth.fet_chg", t_fet_chg, NULL, SRC_TRUTH, 0 },
	{ "truth.fet_dsg", t_fet_dsg, NULL, SRC_TRUTH, 0 },
	{ "truth.prot", t_prot, NULL, SRC_TRUTH, 0 },
	{ "truth.bal_mask", t_bal, NULL, SRC_TRUTH, 0 },
	{ "truth.cvl_mv", it_cvl, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.dvl_mv", it_dvl, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.ccl_ma", it_ccl, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.dcl_ma", it_dcl, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.request", it_request, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.warn", it_warn, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.alarm", it_alarm, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.soh_pct", it_soh, NULL, SRC_INV_TRUTH, 0 },
	{ "truth.module_count", it_modules, NULL, SRC_INV_TRUTH, 0 },
	{ "wire.cvl_mv", w_cvl, NULL, SRC_INV_WIRE, 0 },
	{ "wire.dvl_mv", w_dvl, NULL, SRC_INV_WIRE, 0 },
	{ "wire.ccl_ma", w_ccl, NULL, SRC_INV_WIRE, 0 },
	{ "wire.dcl_ma", w_dcl, NULL, SRC_INV_WIRE, 0 },
	{ "wire.soc_pct", w_soc, NULL, SRC_INV_WIRE, 0 },
	{ "wire.soh_pct", w_soh, NULL, SRC_INV_WIRE, 0 },
	{ "wire.pack_mv", w_pack, NULL, SRC_INV_WIRE, 0 },
	{ "wire.current_ma", w_current, NULL, SRC_INV_WIRE, 0 },
	{ "wire.request", w_request, NULL, SRC_INV_WIRE, 0 },
	{ "wire.prot", w_prot, NULL, SRC_INV_WIRE, 0 },
	{ "wire.warn", w_warn, NULL, SRC_INV_WIRE, 0 },
	{ "wire.alarm", w_alarm, NULL, SRC_INV_WIRE, 0 },
	{ "wire.module_count", w_modules, NULL, SRC_INV_WIRE, 0 },
	{ "wire.frames", w_frames, NULL, SRC_ENV, 0 },
	{ "wire.age_ms", w_age, NULL, SRC_ENV, 0 },
	{ "inv.cvl_mv", v_cvl, NULL, SRC_INV_DUT, 0 },
	{ "inv.dvl_mv", v_dvl, NULL, SRC_INV_DUT, 0 },
	{ "inv.ccl_ma", v_ccl, NULL, SRC_INV_DUT, 0 },
	{ "inv.dcl_ma", v_dcl, NULL, SRC_INV_DUT, 0 },
	{ "inv.soc_pct", v_soc, NULL, SRC_INV_DUT, 0 },
	{ "inv.soh_pct", v_soh, NULL, SRC_INV_DUT, 0 },
	{ "inv.pack_mv", v_pack, NULL, SRC_INV_DUT, 0 },
	{ "inv.current_ma", v_current, NULL, SRC_INV_DUT, 0 },
	{ "inv.request", v_request, NULL, SRC_INV_DUT, 0 },
	{ "inv.prot", v_prot, NULL, SRC_INV_DUT, 0 },
	{ "inv.warn", v_warn, NULL, SRC_INV_DUT, 0 },
	{ "inv.alarm", v_alarm, NULL, SRC_INV_DUT, 0 },
	{ "inv.online_packs", v_online, NULL, SRC_INV_DUT, 0 },
	{ "inv.age_ms", v_age, NULL, SRC_INV_DUT, 0 },
	{ "inv.records", v_records, NULL, SRC_ENV, 0 },
};

/* Named bits: protections (enum pack_prot), an inverter's requests and alarms (inverter.h). */
static const struct { const char *name; uint32_t bit; } prots[] = {
	{ "prot.cell_ov", PACK_PROT_CELL_OV }, { "prot.cell_uv", PACK_PROT_CELL_UV },
	{ "prot.pack_ov", PACK_PROT_PACK_OV }, { "prot.pack_uv", PACK_PROT_PACK_UV },
	{ "prot.chg_ot", PACK_PROT_CHG_OT },   { "prot.chg_ut", PACK_PROT_CHG_UT },
	{ "prot.dsg_ot", PACK_PROT_DSG_OT },   { "prot.dsg_ut", PACK_PROT_DSG_UT },
	{ "prot.chg_oc", PACK_PROT_CHG_OC },   { "prot.dsg_oc", PACK_PROT_DSG_OC },
	{ "prot.short", PACK_PROT_SHORT },     { "prot.afe", PACK_PROT_AFE },
	{ "prot.sw_lock", PACK_PROT_SW_LOCK },
	{ "req.chg_enable", RIG_INV_CHG_ENABLE }, { "req.dsg_enable", RIG_INV_DSG_ENABLE },
	{ "req.force_chg_1", RIG_INV_FORCE_CHG_1 }, { "req.force_chg_2", RIG_INV_FORCE_CHG_2 },
	{ "req.full_chg", RIG_INV_FULL_CHG_REQ },
	{ "alarm.comm", RIG_INV_ALARM_COMM },  { "alarm.system", RIG_INV_ALARM_SYSTEM },
};

enum { F_ABS, F_MIN, F_MAX };
static const struct { const char *name; unsigned args; } funcs[] = {
	{ "abs", 1 }, { "min", 2 }, { "max", 2 },
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* ---- the parser -------------------------------------------------------------------------- */

struct parser {
	struct expr *e;
	const char *s;
	unsigned n;                    /* strlen(s) */
	unsigned pos;                  /* where the lexer continues */
	int tok;
	unsigned at, len;              /* the current token */
	unsigned prev_at, prev_len;    /* the one before, for "after `x`" */
	double num;
	unsigned depth;
	int in_quant;
	char *err;
	size_t errcap;
	unsigned col;
	int failed;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail(struct parser *p, unsigned at, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;                    /* the first error is the one that explains */
	p->failed = 1;
	p->col = at + 1;
	if (p->errcap) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errcap, fmt, ap);
		va_end(ap);
	}
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_name(char c) { return is_name_start(c) || is_digit(c) || c == '.'; }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int word(const char *s, unsigned len, const char *w) { return strlen(w) == len && !memcmp(s, w, len); }
static int show(unsigned len) { return len < SHOW_MAX ? (int)len : SHOW_MAX; }

static void lex_number(struct parser *p, unsigned i)
{
	double v = 0;
	unsigned frac = 0;
	int bad = 0;

	while (i < p->n && is_digit(p->s[i]))
		v = v * 10 + (p->s[i++] - '0');
	if (i < p->n && p->s[i] == '.') {
		bad = ++i >= p->n || !is_digit(p->s[i]);
		for (; i < p->n && is_digit(p->s[i]); frac++)
			v = v * 10 + (p->s[i++] - '0');
	}
	/* `12abc` and `1.2.3` are one mistake, not a number and a name */
	for (; i < p->n && is_name(p->s[i]); bad = 1)
		i++;
	p->num = v / pow(10, frac);
	p->tok = T_NUM;
	p->len = i - p->at;
	if (bad || !isfinite(p->num)) {
		fail(p, p->at, "bad number `%.*s`", show(p->len), p->s + p->at);
		p->tok = T_BAD;
	}
}

static void next(struct parser *p)
{
	static const char two[][3] = { "==", "!=", "<=", ">=", "&&", "||" };
	static const int two_tok[] = { T_EQ, T_NE, T_LE, T_GE, T_AND, T_OR };
	const char *s = p->s;
	unsigned i = p->pos, k;
	char c;

	p->prev_at = p->at;
	p->prev_len = p->len;
	while (i < p->n && is_space(s[i]))
		i++;
	p->at = i;
	p->len = 1;
	if (i >= p->n) {
		p->tok = T_END;
		p->len = 0;
	} else if (is_digit(c = s[i])) {
		lex_number(p, i);
	} else if (is_name_start(c)) {
		while (i < p->n && is_name(s[i]))
			i++;
		p->len = i - p->at;
		p->tok = word(s + p->at, p->len, "and") ? T_AND : word(s + p->at, p->len, "or") ? T_OR :
		         word(s + p->at, p->len, "not") ? T_NOT : T_NAME;
	} else {
		for (k = 0; k < COUNT(two); k++)
			if (i + 1 < p->n && c == two[k][0] && s[i + 1] == two[k][1])
				break;
		if (k < COUNT(two)) {
			p->tok = two_tok[k];
			p->len = 2;
		} else if (c == '<' || c == '>' || c == '!') {
			p->tok = c == '<' ? T_LT : c == '>' ? T_GT : T_NOT;
		} else if (strchr("()[],:+-*/&", c)) {
			p->tok = c;
		} else {
			p->tok = T_BAD;
			if (c == '=')
				fail(p, i, "`=` is not a comparison: write `==`");
			else if (c > ' ' && c < 127)
				fail(p, i, "unexpected `%c`", c);
			else
				fail(p, i, "unexpected byte 0x%02x", (unsigned char)c);
		}
	}
	p->pos = p->at + p->len;
}

static unsigned node(struct parser *p, unsigned kind, unsigned op, unsigned a, unsigned b,
                     unsigned at, unsigned end)
{
	struct expr_node *n;

	if (p->failed)
		return NONE;
	if (p->e->n_nodes >= EXPR_NODES_MAX) {
		fail(p, p->at, "too many nodes (more than %u)", EXPR_NODES_MAX);
		return NONE;
	}
	n = &p->e->node[p->e->n_nodes];
	memset(n, 0, sizeof *n);
	n->kind = (uint8_t)kind;
	n->op = (uint8_t)op;
	n->a = (uint16_t)a;
	n->b = (uint16_t)b;
	n->src_at = (uint16_t)at;
	n->src_len = (uint16_t)(end - at);
	return p->e->n_nodes++;
}

static unsigned start_of(const struct parser *p, unsigned i) { return p->e->node[i].src_at; }
static unsigned end_of(const struct parser *p, unsigned i)
{
	return p->e->node[i].src_at + p->e->node[i].src_len;
}

static unsigned binary(struct parser *p, unsigned kind, unsigned op, unsigned l, unsigned r)
{
	return p->failed ? NONE : node(p, kind, op, l, r, start_of(p, l), end_of(p, r));
}

/* Every way the grammar recurses goes through here, so hostile nesting fails, not the stack. */
static int enter(struct parser *p)
{
	if (++p->depth <= DEPTH_MAX)
		return 1;
	fail(p, p->at, "nested too deeply (more than %u levels)", DEPTH_MAX);
	return 0;
}

static void unexpected(struct parser *p)
{
	if (p->tok == T_END)
		fail(p, p->at, "expected a value after `%.*s`", show(p->prev_len), p->s + p->prev_at);
	else
		fail(p, p->at, "expected a value, got `%.*s`", show(p->len), p->s + p->at);
}

/* The token closing what opened at `open`; END there means it was never closed. */
static int closes(struct parser *p, int tok, unsigned open)
{
	if (p->tok == tok)
		return 1;
	if (p->tok == T_END)
		fail(p, open, "unclosed `%c`", p->s[open]);
	else
		fail(p, p->at, "unexpected `%.*s` after `%.*s`", show(p->len), p->s + p->at,
		     show(p->prev_len), p->s + p->prev_at);
	return 0;
}

static unsigned parse_or(struct parser *p);

static unsigned parse_call(struct parser *p, unsigned f)
{
	unsigned at = p->at, open, a, b = NONE, n;

	next(p);
	if (p->tok != '(') {
		fail(p, p->at, "expected `(` after `%s`", funcs[f].name);
		return NONE;
	}
	open = p->at;
	next(p);
	a = parse_or(p);
	if (!p->failed && funcs[f].args == 2) {
		if (p->tok != ',') {
			fail(p, p->at, "`%s` takes 2 arguments", funcs[f].name);
			return NONE;
		}
		next(p);
		b = parse_or(p);
	}
	if (!p->failed && p->tok == ',') {
		fail(p, p->at, "`%s` takes %u argument%s", funcs[f].name, funcs[f].args,
		     funcs[f].args == 1 ? "" : "s");
		return NONE;
	}
	if (p->failed || !closes(p, ')', open))
		return NONE;
	n = node(p, N_CALL, f, a, b, at, p->at + 1);
	next(p);
	return n;
}

/* The emulated BMS's own decisions: they change at its steps' events only, not with the pack. */
static int decision_var(unsigned v)
{
	static const char *const names[] = { "truth.prot", "truth.fet_chg", "truth.fet_dsg", "truth.bal_mask" };
	unsigned i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(vars[v].name, names[i]))
			return 1;
	return 0;
}

static unsigned parse_var(struct parser *p, unsigned v)
{
	unsigned at = p->at, end = p->at + p->len, open, index;

	next(p);
	if (vars[v].src == SRC_DUT)
		p->e->uses_dut = 1;
	if (!decision_var(v))
		p->e->reads_live = 1;
	if (vars[v].get == t_soc || vars[v].get == t_cell_soc)
		p->e->reads_soc = 1;
	if (p->tok == '[') {
		if (!vars[v].count) {
			fail(p, p->at, "`%s` takes no index", vars[v].name);
			return NONE;
		}
		open = p->at;
		next(p);
		index = parse_or(p);
		if (p->failed || !closes(p, ']', open))
			return NONE;
		end = p->at + 1;
		next(p);
		return node(p, N_VAR, 0, v, index, at, end);
	}
	if (vars[v].count && !(vars[v].per_cell && p->in_quant)) {
		fail(p, at, "%s needs an index [n]%s", vars[v].name,
		     vars[v].per_cell ? " outside `all cells:`" : "");
		return NONE;
	}
	return node(p, N_VAR, vars[v].count != NULL, v, NONE, at, end);   /* op 1: this cell */
}

static unsigned parse_name(struct parser *p)
{
	const char *s = p->s + p->at;
	unsigned at = p->at, len = p->len, i, n;

	if (word(s, len, "cell")) {
		if (!p->in_quant) {
			fail(p, at, "`cell` is only known inside `all cells:` or `any cell:`");
			return NONE;
		}
		n = node(p, N_CELL, 0, NONE, NONE, at, at + len);
		next(p);
		return n;
	}
	for (i = 0; i < COUNT(funcs); i++)
		if (word(s, len, funcs[i].name))
			return parse_call(p, i);
	for (i = 0; i < COUNT(vars); i++)
		if (word(s, len, vars[i].name))
			return parse_var(p, i);
	for (i = 0; i < COUNT(prots); i++)
		if (word(s, len, prots[i].name)) {
			n = node(p, N_NUM, 0, NONE, NONE, at, at + len);
			if (n != NONE)
				p->e->node[n].num = prots[i].bit;
			next(p);
			return n;
		}
	if (word(s, len, "all") || word(s, len, "any"))
		fail(p, at, "put `%.*s cells: ...` in parentheses to use its value", (int)len, s);
	else
		fail(p, at, "unknown name `%.*s`", show(len), s);
	return NONE;
}

static unsigned parse_primary(struct parser *p)
{
	unsigned at = p->at, n;

	if (p->tok == T_NUM) {
		n = node(p, N_NUM, 0, NONE, NONE, at, at + p->len);
		if (n != NONE)
			p->e->node[n].num = p->num;
		next(p);
		return n;
	}
	if (p->tok == T_NAME)
		return parse_name(p);
	if (p->tok != '(') {
		unexpected(p);
		return NONE;
	}
	next(p);
	n = parse_or(p);
	if (p->failed || !closes(p, ')', at))
		return NONE;
	/* the parentheses belong to the text a message quotes */
	p->e->node[n].src_at = (uint16_t)at;
	p->e->node[n].src_len = (uint16_t)(p->at + 1 - at);
	next(p);
	return n;
}

static unsigned parse_unary(struct parser *p)
{
	unsigned at = p->at, c;

	if (p->tok != '-')
		return parse_primary(p);
	if (!enter(p))
		return NONE;
	next(p);
	c = parse_unary(p);
	if (p->failed)
		return NONE;
	p->depth--;
	return node(p, N_NEG, 0, c, NONE, at, end_of(p, c));
}

typedef unsigned parse_fn(struct parser *p);

/* operand { (op1 | op2) operand }, left to right */
static unsigned chain(struct parser *p, parse_fn *operand, int op1, int op2, unsigned kind)
{
	unsigned l = operand(p), r;
	int op;

	while (!p->failed && (p->tok == op1 || p->tok == op2)) {
		op = p->tok;
		next(p);
		r = operand(p);
		l = binary(p, kind, (unsigned)op, l, r);
	}
	return l;
}

static unsigned parse_product(struct parser *p) { return chain(p, parse_unary, '*', '/', N_BIN); }
static unsigned parse_sum(struct parser *p) { return chain(p, parse_product, '+', '-', N_BIN); }
static unsigned parse_bitand(struct parser *p) { return chain(p, parse_sum, '&', '&', N_BIN); }

static int is_cmp(int tok) { return tok >= T_EQ && tok <= T_GE; }

static unsigned parse_cmp(struct parser *p)
{
	unsigned l = parse_bitand(p), r, op;

	if (p->failed || !is_cmp(p->tok))
		return l;
	op = (unsigned)(p->tok - T_EQ);
	next(p);
	r = parse_bitand(p);
	if (!p->failed && is_cmp(p->tok)) {
		fail(p, p->at, "comparisons do not chain: write `a < b and b < c`");
		return NONE;
	}
	return binary(p, N_CMP, op, l, r);
}

static unsigned parse_quant(struct parser *p)
{
	unsigned at = p->at, any = p->s[at + 1] == 'n', body;

	if (p->in_quant) {
		fail(p, at, "quantifiers do not nest");
		return NONE;
	}
	next(p);
	if (p->tok != T_NAME || !(word(p->s + p->at, p->len, "cells") ||
	                          word(p->s + p->at, p->len, "cell"))) {
		fail(p, p->at, "expected `cells:` after `%s`", any ? "any" : "all");
		return NONE;
	}
	next(p);
	if (p->tok != ':') {
		fail(p, p->at, "expected `:` after `%.*s`", show(p->prev_len), p->s + p->prev_at);
		return NONE;
	}
	next(p);
	p->in_quant = 1;
	body = parse_or(p);
	p->in_quant = 0;
	p->e->reads_live = 1;
	return p->failed ? NONE : node(p, N_QUANT, any, body, NONE, at, end_of(p, body));
}

static unsigned parse_not(struct parser *p)
{
	unsigned at = p->at, c;

	if (p->tok == T_NAME && (word(p->s + at, p->len, "all") || word(p->s + at, p->len, "any")))
		return parse_quant(p);
	if (p->tok != T_NOT)
		return parse_cmp(p);
	if (!enter(p))
		return NONE;
	next(p);
	c = parse_not(p);
	if (p->failed)
		return NONE;
	p->depth--;
	return node(p, N_NOT, 0, c, NONE, at, end_of(p, c));
}

static unsigned parse_and(struct parser *p) { return chain(p, parse_not, T_AND, T_AND, N_AND); }

static unsigned parse_or(struct parser *p)
{
	unsigned n;

	if (!enter(p))
		return NONE;
	n = chain(p, parse_and, T_OR, T_OR, N_OR);
	p->depth--;
	return n;
}

/* ---- the program --------------------------------------------------------------------------
 *
 * The tree in postfix order, for eval_root's stack machine. Operands are pushed left then right,
 * as the tree would evaluate them; `and` and `or` jump over their right side when the left
 * decides (the short circuit, and so the same deciding comparison); a quantifier runs its body
 * once per cell, jumping back until a cell decides or none is left.
 */
enum { O_NUM, O_CELL, O_VAR, O_VAR_CELL, O_VAR_INDEX, O_NEG, O_NOT, O_BIN, O_CMP, O_CALL,
       O_AND, O_OR, O_TRUTHY, O_QUANT, O_NEXT_CELL };

/* How an operator reads an operand: from the stack (what an op before it pushed), or a leaf
 * read in place (the ops O_NUM, O_CELL, O_VAR and O_VAR_CELL would have pushed). */
enum { K_STACK, K_NUM, K_CELL, K_VAR, K_ZERO, K_DUT_CELL_MV, K_TRUTH_CELL_MV, K_TRUTH_CELL_SOC };

static unsigned put_op(struct expr *e, unsigned code, unsigned o, unsigned node_i)
{
	e->ops[e->n_ops] = (struct expr_op){ (uint8_t)code, (uint8_t)o, K_STACK, K_STACK, (uint16_t)node_i, 0, 0, 0 };
	return e->n_ops++;
}

static unsigned leaf_kind(const struct expr *e, unsigned i)
{
	const struct expr_node *n = &e->node[i];

	switch (n->kind) {
	case N_NUM:  return K_NUM;
	case N_CELL: return K_CELL;
	case N_VAR:
		if (!vars[n->a].count)
			return K_VAR;
		if (!n->op)
			return K_STACK;       /* indexed: O_VAR_INDEX */
		/* this cell's field (the only per_cell vars): read from its array, no getter */
		return vars[n->a].get == d_cell ? K_DUT_CELL_MV : vars[n->a].get == t_cell ? K_TRUTH_CELL_MV
		                                                                      : K_TRUTH_CELL_SOC;
	}
	return K_STACK;
}

static void emit(struct expr *e, unsigned i);

/* An operator over children a and b (b NONE: one operand), leaves read in place: only the
 * other operands are emitted, left then right, so the right one is on top. */
static void emit_operator(struct expr *e, unsigned code, unsigned o, unsigned i, unsigned a, unsigned b)
{
	unsigned lk = leaf_kind(e, a), rk = b == NONE ? K_ZERO : leaf_kind(e, b), at;

	if (lk == K_STACK)
		emit(e, a);
	if (rk == K_STACK)
		emit(e, b);
	at = put_op(e, code, o, i);
	e->ops[at].lk = (uint8_t)lk;
	e->ops[at].rk = (uint8_t)rk;
	e->ops[at].ln = (uint16_t)a;
	e->ops[at].rn = (uint16_t)(b == NONE ? 0 : b);   /* K_ZERO reads no node */
}

/* Rows (run_rows): the deepest value stack a quantifier's body may need to run for all its
 * cells at once. */
#define ROWS_MAX 8u

/* Can ops[from..to), a quantifier's body, run one op at a time over all cells (run_rows)? Only
 * without a jump (`and`, `or`: each cell's ops are then the same, in the same order) and
 * within ROWS_MAX values of stack. */
static int flat_body(const struct expr *e, unsigned from, unsigned to)
{
	unsigned pc, depth = 0;

	for (pc = from; pc < to; pc++) {
		const struct expr_op *o = &e->ops[pc];

		switch (o->code) {
		case O_NUM: case O_CELL: case O_VAR: case O_VAR_CELL:
			depth++;
			break;
		case O_NEG: case O_NOT:
			break;
		case O_VAR_INDEX: case O_BIN: case O_CMP: case O_CALL:
			depth -= (unsigned)(o->lk == K_STACK) + (unsigned)(o->rk == K_STACK);
			depth++;
			break;
		default:
			return 0;
		}
		if (depth > ROWS_MAX)
			return 0;
	}
	return 1;
}

/* Depth is bounded by the parser's DEPTH_MAX; ops by two per node. */
static void emit(struct expr *e, unsigned i)
{
	const struct expr_node *n = &e->node[i];
	unsigned at;

	switch (n->kind) {
	case N_NUM:  put_op(e, O_NUM, 0, i); return;
	case N_CELL: put_op(e, O_CELL, 0, i); return;
	case N_VAR:
		if (!vars[n->a].count) {
			put_op(e, O_VAR, 0, i);
		} else if (n->op) {
			put_op(e, O_VAR_CELL, 0, i);
		} else {
			emit_operator(e, O_VAR_INDEX, 0, i, n->b, NONE);   /* the index its operand */
		}
		return;
	case N_NEG: emit(e, n->a); put_op(e, O_NEG, 0, i); return;
	case N_NOT: emit(e, n->a); put_op(e, O_NOT, 0, i); return;
	case N_AND:
	case N_OR:
		emit(e, n->a);
		at = put_op(e, n->kind == N_AND ? O_AND : O_OR, 0, i);
		emit(e, n->b);
		put_op(e, O_TRUTHY, 0, i);
		e->ops[at].to = (uint16_t)e->n_ops;
		return;
	case N_QUANT:
		at = put_op(e, O_QUANT, n->op, i);
		emit(e, n->a);
		e->ops[at].lk = (uint8_t)flat_body(e, at + 1, e->n_ops);
		put_op(e, O_NEXT_CELL, n->op, i);
		e->ops[e->n_ops - 1].to = (uint16_t)(at + 1);
		e->ops[at].to = (uint16_t)e->n_ops;
		return;
	case N_CALL: emit_operator(e, O_CALL, n->op, i, n->a, n->b); return;
	case N_BIN:  emit_operator(e, O_BIN, n->op, i, n->a, n->b); return;
	case N_CMP:  emit_operator(e, O_CMP, n->op, i, n->a, n->b); return;
	}
}

static int add_input(struct expr *e, unsigned v)
{
	unsigned k;

	for (k = 0; k < e->n_inputs; k++)
		if (e->input_var[k] == v)
			return 1;
	if (e->n_inputs == EXPR_INPUTS_MAX)
		return 0;
	e->input_var[e->n_inputs++] = (uint16_t)v;
	return 1;
}

/* expr.n_inputs: the names read by O_VAR and by operators in place (K_VAR), when nothing else
 * (a cell, an index, a quantifier's counts) decides the value. */
static void find_inputs(struct expr *e)
{
	unsigned pc;
	int ok = 1;

	e->n_inputs = 0;
	for (pc = 0; pc < e->n_ops && ok; pc++) {
		const struct expr_op *o = &e->ops[pc];

		switch (o->code) {
		case O_VAR_CELL: case O_VAR_INDEX: case O_CELL: case O_QUANT: case O_NEXT_CELL:
			ok = 0;
			break;
		case O_VAR:
			ok = add_input(e, e->node[o->node].a);
			break;
		default:
			if (o->lk == K_VAR)
				ok = add_input(e, e->node[o->ln].a);
			if (ok && o->rk == K_VAR)
				ok = add_input(e, e->node[o->rn].a);
		}
	}
	if (!ok)
		e->n_inputs = 0;
}

rig_rc expr_compile(struct expr *e, const char *text, char *err, size_t errcap, unsigned *err_col)
{
	struct parser p;
	unsigned n = 0;

	memset(e, 0, sizeof *e);
	memset(&p, 0, sizeof p);
	p.e = e;
	p.err = err;
	p.errcap = err ? errcap : 0;
	if (p.errcap)
		err[0] = '\0';
	while (n < EXPR_TEXT_MAX && text[n])
		n++;
	if (n >= EXPR_TEXT_MAX) {
		fail(&p, EXPR_TEXT_MAX - 1, "too long (more than %u characters)", EXPR_TEXT_MAX - 1);
	} else {
		memcpy(e->text, text, n);
		p.s = e->text;
		p.n = n;
		next(&p);
		if (p.tok == T_END)
			fail(&p, 0, "empty expression");
		e->root = parse_or(&p);
		if (!p.failed && p.tok == ')')
			fail(&p, p.at, "unmatched `)`");
		else if (!p.failed && p.tok != T_END)
			fail(&p, p.at, "unexpected `%.*s` after `%.*s`", show(p.len), p.s + p.at,
			     show(p.prev_len), p.s + p.prev_at);
	}
	if (err_col)
		*err_col = p.failed ? p.col : 0;
	if (p.failed) {
		memset(e, 0, sizeof *e);
		return RIG_ERR_ARG;
	}
	emit(e, e->root);
	find_inputs(e);
	return RIG_OK;
}

/* ---- evaluation -------------------------------------------------------------------------- */

struct ctx {
	const struct expr *e;
	const struct expect_env *env;
	double tol;
	unsigned absent;               /* bit src: that source's record is NULL (reads NaN) */
	unsigned cells_dut, cells_truth;   /* the counts a quantifier's per-cell reads check */
	int cell;                      /* inside a quantifier, 1-based; else 0 */
	unsigned why;                  /* the last comparison evaluated, or NONE */
	double why_l, why_r;
	int why_cell;
};

static int truthy(double v) { return v != 0 && !isnan(v); }

/* Bit src set: that source's record is NULL, its names read NaN. */
static unsigned absent_of(const struct expect_env *env)
{
	return (unsigned)!env->dut << SRC_DUT | (unsigned)!env->truth << SRC_TRUTH |
	       (unsigned)!env->inv_truth << SRC_INV_TRUTH | (unsigned)!env->inv_wire << SRC_INV_WIRE |
	       (unsigned)!env->inv_dut << SRC_INV_DUT;
}

/* An unindexed cell field inside a quantifier: this cell, a whole number 1..the truth's count
 * (or the DUT's), so only the record's own count is left to check. */
static double read_cell(const struct ctx *c, const struct expr_node *n)
{
	const struct var *v = &vars[n->a];

	if (c->absent >> v->src & 1u || (unsigned)c->cell > (v->src == SRC_DUT ? c->cells_dut : c->cells_truth))
		return NAN;
	return v->get(c->env, (unsigned)c->cell - 1);
}

#if defined(__GNUC__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE int compare(unsigned op, double l, double r, double tol)
{
	int eq = l == r || fabs(l - r) <= tol;

	if (isnan(l) || isnan(r))
		return 0;
	switch (op) {
	case C_EQ: return eq;
	case C_NE: return !eq;
	case C_LT: return l < r + tol;
	case C_LE: return l <= r + tol;
	case C_GT: return l > r - tol;
	default:   return l >= r - tol;
	}
}

static ALWAYS_INLINE double arith(unsigned op, double l, double r)
{
	switch (op) {
	case '+': return l + r;
	case '-': return l - r;
	case '*': return l * r;
	case '/': return r == 0 ? NAN : l / r;
	}
	/* `&`: the range check first, a cast out of range is undefined */
	if (!(l >= 0 && l < 4294967296.0 && r >= 0 && r < 4294967296.0))
		return NAN;
	return (double)((uint32_t)l & (uint32_t)r);
}

/* abs, min, max; NaN in, NaN out */
static ALWAYS_INLINE double call(unsigned op, double l, double r)
{
	return isnan(l) || isnan(r) ? NAN : op == F_ABS ? fabs(l) : op == F_MIN ? (l < r ? l : r) : (l > r ? l : r);
}

/* An indexed field, name n at index v (1-based): NaN when its record is absent or v is not a
 * whole number within the record's count. */
static ALWAYS_INLINE double read_index(const struct ctx *c, const struct expr_node *n, double v)
{
	return c->absent >> vars[n->a].src & 1u || !(v >= 1 && v <= vars[n->a].count(c->env) && v == floor(v))
	       ? NAN : vars[n->a].get(c->env, (unsigned)v - 1);
}

/* Runs once per evaluation, a million times in a long run: no printf. */
static void side_text(char *out, size_t cap, const struct expr *e, unsigned i)
{
	size_t n = e->node[i].src_len < cap - 1 ? e->node[i].src_len : cap - 1;

	memcpy(out, e->text + e->node[i].src_at, n);
	out[n] = 0;
}

/* An operand an operator reads in place (emit_operator); a leaf has no side effect, so when
 * it is read does not matter. A function's missing second argument (K_ZERO) reads 0. A cell's
 * field reads NaN beyond its record's count, which is 0 while the record is absent (read_cell). */
static ALWAYS_INLINE double leaf(const struct ctx *c, unsigned kind, unsigned i)
{
	const struct expr_node *n = &c->e->node[i];
	unsigned cell = (unsigned)c->cell;

	switch (kind) {
	case K_NUM:  return n->num;
	case K_CELL: return c->cell;
	case K_VAR:  return c->absent >> vars[n->a].src & 1u ? NAN : vars[n->a].get(c->env, 0);
	case K_ZERO: return 0;
	case K_DUT_CELL_MV:    return cell > c->cells_dut ? NAN : (double)c->env->dut->pack.cell_mV[cell - 1];
	case K_TRUTH_CELL_MV:  return cell > c->cells_truth ? NAN : c->env->truth->cell_mV[cell - 1];
	default:               return cell > c->cells_truth ? NAN : c->env->truth->cell_soc_pct[cell - 1];
	}
}

/* compare over a row, its operator chosen once */
static void compare_row(unsigned op, const double *l, const double *r, double tol, double *t, unsigned cells)
{
	unsigned k;

	switch (op) {
	case C_EQ: for (k = 0; k < cells; k++) t[k] = compare(C_EQ, l[k], r[k], tol); break;
	case C_NE: for (k = 0; k < cells; k++) t[k] = compare(C_NE, l[k], r[k], tol); break;
	case C_LT: for (k = 0; k < cells; k++) t[k] = compare(C_LT, l[k], r[k], tol); break;
	case C_LE: for (k = 0; k < cells; k++) t[k] = compare(C_LE, l[k], r[k], tol); break;
	case C_GT: for (k = 0; k < cells; k++) t[k] = compare(C_GT, l[k], r[k], tol); break;
	default:   for (k = 0; k < cells; k++) t[k] = compare(C_GE, l[k], r[k], tol); break;
	}
}

/* A leaf's value for each of cells cells into row. */
static const double *leaf_row(struct ctx *c, unsigned kind, unsigned i, unsigned cells, double *row)
{
	const struct expect_env *env = c->env;
	unsigned k;

	switch (kind) {
	case K_NUM:
		for (k = 0; k < cells; k++)
			row[k] = c->e->node[i].num;
		break;
	case K_DUT_CELL_MV:
		for (k = 0; k < cells; k++)
			row[k] = k >= c->cells_dut ? NAN : (double)env->dut->pack.cell_mV[k];
		break;
	case K_TRUTH_CELL_MV:
		for (k = 0; k < cells; k++)
			row[k] = k >= c->cells_truth ? NAN : env->truth->cell_mV[k];
		break;
	default:
		for (k = 0; k < cells; k++) {
			c->cell = (int)k + 1;
			row[k] = leaf(c, kind, i);
		}
	}
	return row;
}

/*
 * A flat body (flat_body) of a quantifier run for all its cells at once: each op over a row of
 * cells, so the program is walked once, not once per cell. Each cell's ops are the same as the
 * cell-by-cell walk's, in the same order, so its values are too; its last comparison is the
 * body's last O_CMP (*why, NONE if none), whose sides per cell are left in wl and wr.
 */
static void run_rows(struct ctx *c, unsigned from, unsigned to, unsigned cells, double *out,
                     unsigned *why, double *wl, double *wr)
{
	const struct expr *e = c->e;
	double st[ROWS_MAX][PACK_CELLS_MAX], lrow[PACK_CELLS_MAX], rrow[PACK_CELLS_MAX];
	const double *l, *r;
	unsigned sp = 0, pc, k;

	for (pc = from; pc < to; pc++) {
		const struct expr_op *o = &e->ops[pc];
		const struct expr_node *n = &e->node[o->node];
		double *t;

		switch (o->code) {
		case O_NUM:
		case O_CELL:
		case O_VAR:
			leaf_row(c, o->code == O_NUM ? K_NUM : o->code == O_CELL ? K_CELL : K_VAR, o->node, cells, st[sp++]);
			break;
		case O_VAR_CELL:
			for (k = 0; k < cells; k++) {
				c->cell = (int)k + 1;
				st[sp][k] = read_cell(c, n);
			}
			sp++;
			break;
		case O_NEG:
			for (k = 0; k < cells; k++)
				st[sp - 1][k] = -st[sp - 1][k];
			break;
		case O_NOT:
			for (k = 0; k < cells; k++)
				st[sp - 1][k] = !truthy(st[sp - 1][k]);
			break;
		case O_VAR_INDEX:
			l = o->lk ? leaf_row(c, o->lk, o->ln, cells, lrow) : st[--sp];
			t = st[sp++];
			for (k = 0; k < cells; k++)
				t[k] = read_index(c, n, l[k]);
			break;
		default:              /* O_BIN, O_CMP, O_CALL: the right operand is on top */
			r = o->rk ? leaf_row(c, o->rk, o->rn, cells, rrow) : st[--sp];
			l = o->lk ? leaf_row(c, o->lk, o->ln, cells, lrow) : st[--sp];
			t = st[sp++];
			if (o->code == O_BIN) {
				for (k = 0; k < cells; k++)
					t[k] = arith(n->op, l[k], r[k]);
			} else if (o->code == O_CALL) {
				for (k = 0; k < cells; k++)
					t[k] = call(n->op, l[k], r[k]);
			} else {
				*why = o->node;
				memcpy(wl, l, cells * sizeof *wl);
				memcpy(wr, r, cells * sizeof *wr);
				compare_row(n->op, wl, wr, c->tol, t, cells);
			}
		}
	}
	memcpy(out, st[0], cells * sizeof *out);
}

/* The program (see emit): the tree's values, in its order, on a stack. */
static double run(struct ctx *c)
{
	const struct expr *e = c->e;
	const struct expect_env *env = c->env;
	double st[2 * EXPR_NODES_MAX], l, r;
	unsigned sp = 0, pc, cells = 0;

	for (pc = 0; pc < e->n_ops; pc++) {
		const struct expr_op *o = &e->ops[pc];
		const struct expr_node *n = &e->node[o->node];

		switch (o->code) {
		case O_NUM:  st[sp++] = n->num; break;
		case O_CELL: st[sp++] = c->cell; break;
		case O_VAR:
			st[sp++] = c->absent >> vars[n->a].src & 1u ? NAN : vars[n->a].get(env, 0);
			break;
		case O_VAR_CELL:
			st[sp++] = read_cell(c, n);
			break;
		case O_VAR_INDEX:
			l = o->lk ? leaf(c, o->lk, o->ln) : st[--sp];
			st[sp++] = read_index(c, n, l);
			break;
		case O_NEG: st[sp - 1] = -st[sp - 1]; break;
		case O_NOT: st[sp - 1] = !truthy(st[sp - 1]); break;
		case O_TRUTHY: st[sp - 1] = truthy(st[sp - 1]); break;
		case O_AND:
		case O_OR:
			/* the left side decides: its 0 or 1 is the value, the right side is skipped */
			if (truthy(st[sp - 1]) == (o->code == O_OR)) {
				st[sp - 1] = o->code == O_OR;
				pc = o->to - 1u;
			} else {
				sp--;
			}
			break;
		/* an operator's operands: the right one is on top when both are on the stack */
		case O_BIN:
			r = o->rk ? leaf(c, o->rk, o->rn) : st[--sp];
			l = o->lk ? leaf(c, o->lk, o->ln) : st[--sp];
			st[sp++] = arith(n->op, l, r);
			break;
		case O_CMP:
			r = o->rk ? leaf(c, o->rk, o->rn) : st[--sp];
			l = o->lk ? leaf(c, o->lk, o->ln) : st[--sp];
			c->why = o->node;
			c->why_l = l;
			c->why_r = r;
			c->why_cell = c->cell;
			st[sp++] = compare(n->op, l, r, c->tol);
			break;
		case O_CALL:
			r = o->rk ? leaf(c, o->rk, o->rn) : st[--sp];
			l = o->lk ? leaf(c, o->lk, o->ln) : st[--sp];
			st[sp++] = call(n->op, l, r);
			break;
		case O_QUANT:
			c->cells_dut = env->dut ? dut_cells(env) : 0;
			c->cells_truth = env->truth ? truth_cells(env) : 0;
			cells = env->truth ? c->cells_truth : c->cells_dut;
			if (!cells) {
				st[sp++] = !o->op;         /* over no cells `all` is 1, `any` 0 */
				pc = o->to - 1u;
			} else if (o->lk) {
				/* flat: all cells at once, then the one that decides, as O_NEXT_CELL would */
				double value[PACK_CELLS_MAX], wl[PACK_CELLS_MAX], wr[PACK_CELLS_MAX];
				unsigned why = NONE, k;
				int hit = 0;

				run_rows(c, pc + 1, o->to - 1u, cells, value, &why, wl, wr);
				for (k = 0; k < cells && !(hit = truthy(value[k]) == o->op); k++)
					;
				k = hit ? k : cells - 1;
				if (why != NONE) {
					c->why = why;
					c->why_l = wl[k];
					c->why_r = wr[k];
					c->why_cell = (int)k + 1;
				}
				c->cell = 0;
				st[sp++] = o->op ? hit : !hit;
				pc = o->to - 1u;
			} else {
				c->cell = 1;
			}
			break;
		case O_NEXT_CELL: {
			/* `all` stops at a false cell, `any` at a true one */
			int hit = truthy(st[--sp]) == o->op;

			if (hit || (unsigned)c->cell >= cells) {
				c->cell = 0;
				st[sp++] = o->op ? hit : !hit;
			} else {
				c->cell++;
				pc = o->to - 1u;
			}
			break;
		}
		}
	}
	return sp ? st[sp - 1] : NAN;
}

/* The deciding comparison's text, from why->node: filled only when a message will show it. */
static void why_text(const struct expr *e, struct expr_why *why)
{
	const char *op;

	if (!why->have)
		return;
	op = cmp_name[e->node[why->node].op];
	side_text(why->lhs, sizeof why->lhs, e, e->node[why->node].a);
	side_text(why->rhs, sizeof why->rhs, e, e->node[why->node].b);
	memcpy(why->op, op, strlen(op) + 1);
}

/* expr_eval without the sides' text: the judge's checks, most of which show nothing. */
static double eval_root(const struct expr *e, const struct expect_env *env, double tolerance,
                        struct expr_why *why)
{
	struct ctx c;
	double v = NAN;

	c.e = e;
	c.env = env;
	c.tol = isnan(tolerance) ? 0 : fabs(tolerance);
	c.absent = absent_of(env);
	c.cells_dut = c.cells_truth = 0;
	c.cell = 0;
	c.why = NONE;
	c.why_l = c.why_r = 0;
	c.why_cell = 0;
	if (e->n_ops)
		v = run(&c);
	if (why) {
		why->have = c.why != NONE;
		why->node = why->have ? (uint16_t)c.why : 0;
		why->lhs[0] = why->rhs[0] = why->op[0] = '\0';
		why->lhs_v = why->have ? c.why_l : 0;
		why->rhs_v = why->have ? c.why_r : 0;
		why->cell = why->have ? c.why_cell : 0;
	}
	return v;
}

/* The values e's inputs have in env, as run reads them (NaN while their record is absent). */
static void read_inputs(const struct expr *e, const struct expect_env *env, double *in)
{
	unsigned absent = absent_of(env);
	unsigned k;

	for (k = 0; k < e->n_inputs; k++) {
		const struct var *v = &vars[e->input_var[k]];

		in[k] = absent >> v->src & 1u ? NAN : v->get(env, 0);
	}
}

double expr_eval(const struct expr *e, const struct expect_env *env, double tolerance,
                 struct expr_why *why)
{
	double v;

	if (why)
		memset(why, 0, sizeof *why);
	v = eval_root(e, env, tolerance, why);
	if (why)
		why_text(e, why);
	return v;
}

/* ---- the judge --------------------------------------------------------------------------- */

/*
 * Per form, for each expectation still pending (checks counts evaluations of `that`):
 *   at      at the first step with now >= at_ms, `that` is evaluated and decides; if it reads
 *           dut.* and the DUT has not reported, it fails ("no telemetry from the DUT yet").
 *           Still pending at the end: fails (the run ended before at_ms).
 *   within  the trigger is the first step where after_event is among the fired events (or,
 *           with after_event < 0, where `after` first holds, evaluated without tolerance).
 *           From the trigger step (inclusive) to trigger + within_ms (inclusive) it passes at
 *           the first step where `that` holds; it fails at the first step after the deadline.
 *           An expression reading dut.* does not hold before the DUT reported. At the end: a
 *           trigger that never happened fails, and so does a deadline the run did not reach.
 *           checks > 0 exactly when the trigger happened (it is checked at the trigger step).
 *   always  at every step in [from_ms, until_ms] (until_ms 0: to the end) `that` must hold;
 *   never   ... must not hold. Steps before the DUT reported are skipped when `that` reads
 *           dut.*. The first wrong step fails; at the end it passes when at least one check
 *           was made, and fails ("never checked") when none was.
 */

static const char *secs(char *buf, size_t cap, uint32_t ms)
{
	snprintf(buf, cap, "%lu.%03u", (unsigned long)(ms / 1000u), (unsigned)(ms % 1000u));
	return buf;
}

static const char *num(char *buf, size_t cap, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "NaN");
	else
		snprintf(buf, cap, "%.6g", v);
	return buf;
}

/* ": lhs = 1, rhs = 0", " (cell 3: lhs = ..., rhs = ...)", or the value when no comparison
 * decided; a tolerance is named. */
/* "dut.relay = 1", or just "0" for a side that is a number already. */
static const char *side(char *out, size_t cap, const char *text, double v)
{
	char *end, n[32];

	(void)strtod(text, &end);
	if (*text && !*end)
		snprintf(out, cap, "%s", text);
	else
		snprintf(out, cap, "%s = %s", text, num(n, sizeof n, v));
	return out;
}

static void explain(char *out, size_t cap, const struct expr_why *w, double tol, int have_v, double v)
{
	char a[160], b[160], n[32], t[48] = "";

	if (tol != 0 && !isnan(tol))
		snprintf(t, sizeof t, " (tolerance %s)", num(n, sizeof n, fabs(tol)));
	if (!w->have && !have_v)
		snprintf(out, cap, "%s", t);
	else if (!w->have)
		snprintf(out, cap, " (value %s)%s", num(b, sizeof b, v), t);
	else if (w->cell)
		snprintf(out, cap, " (cell %d: %s, %s)%s", w->cell, side(a, sizeof a, w->lhs, w->lhs_v),
		         side(b, sizeof b, w->rhs, w->rhs_v), t);
	else
		snprintf(out, cap, ": %s, %s%s", side(a, sizeof a, w->lhs, w->lhs_v),
		         side(b, sizeof b, w->rhs, w->rhs_v), t);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static unsigned decide(struct expect_result *r, enum expect_state st, uint32_t ms, const char *fmt, ...)
{
	va_list ap;
	char *c;

	r->state = st;
	r->t_ms = ms;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	for (c = r->message; *c; c++)      /* one line, whatever the scenario's text holds */
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	return st == EXPECT_FAILED;
}

static int judgeable(const struct expr *e, const struct expect_env *env)
{
	return !e->uses_dut || env->dut;
}

/* Evaluates `that` into r->why; 1 when it holds. */
static int check(const struct expect_spec *s, struct expect_result *r, const struct expect_env *env,
                 double *v)
{
	r->checks++;
	*v = NAN;
	if (!judgeable(&s->that, env)) {
		memset(&r->why, 0, sizeof r->why);
		return 0;
	}
	*v = eval_root(&s->that, env, s->tolerance, &r->why);
	return truthy(*v);
}

static int triggered(const struct expect_spec *s, const struct expect_env *env,
                     const unsigned *fired, unsigned n_fired)
{
	unsigned i;

	if (s->after_event >= 0) {
		for (i = 0; i < n_fired; i++)
			if (fired[i] == (unsigned)s->after_event)
				return 1;
		return 0;
	}
	return judgeable(&s->after, env) && truthy(eval_root(&s->after, env, 0, NULL));
}

static unsigned step_one(const struct expect_spec *s, struct expect_result *r, uint32_t now,
                         const struct expect_env *env, const unsigned *fired, unsigned n_fired)
{
	char at[16], t1[16], t2[16], why[400];
	uint64_t deadline;
	double v, in[EXPR_INPUTS_MAX];
	int holds;

	/* `at` is formatted only when something is decided: most steps decide nothing. */
	switch (s->form) {
	case EXPECT_AT:
		if (now < s->at_ms)
			return 0;
		if (!judgeable(&s->that, env))
			return decide(r, EXPECT_FAILED, now, "at %s s: no telemetry from the DUT yet", secs(at, sizeof at, now));
		holds = check(s, r, env, &v);
		why_text(&s->that, &r->why);
		explain(why, sizeof why, &r->why, s->tolerance, 1, v);
		return decide(r, holds ? EXPECT_PASSED : EXPECT_FAILED, now, "at %s s: %s is %s%s", secs(at, sizeof at, now),
		              s->that.text, holds ? "true" : "false", why);
	case EXPECT_WITHIN:
		if (!r->checks) {
			r->trigger_ms = UINT32_MAX;
			if (!triggered(s, env, fired, n_fired))
				return 0;
			r->trigger_ms = now;
		}
		deadline = (uint64_t)r->trigger_ms + s->within_ms;
		if (now > deadline) {
			why_text(&s->that, &r->why);
			explain(why, sizeof why, &r->why, s->tolerance, 0, 0);
			return decide(r, EXPECT_FAILED, now, "at %s s: %s did not hold within %s s after the "
			              "trigger at %s s%s", secs(at, sizeof at, now), s->that.text, secs(t1, sizeof t1, s->within_ms),
			              secs(t2, sizeof t2, r->trigger_ms), why);
		}
		if (!check(s, r, env, &v))
			return 0;
		why_text(&s->that, &r->why);
		explain(why, sizeof why, &r->why, s->tolerance, 1, v);
		return decide(r, EXPECT_PASSED, now, "at %s s: %s is true, %s s after the trigger%s", secs(at, sizeof at, now),
		              s->that.text, secs(t1, sizeof t1, now - r->trigger_ms), why);
	case EXPECT_ALWAYS:
	case EXPECT_NEVER:
		if (now < s->from_ms || (s->until_ms && now > s->until_ms) || !judgeable(&s->that, env))
			return 0;
		/* Inputs the same, bit for bit, as at the last check, which held: this one holds too,
		 * with the same why. Counted, not evaluated. */
		if (s->that.n_inputs) {
			read_inputs(&s->that, env, in);
			if (r->inputs_held && !memcmp(in, r->inputs, s->that.n_inputs * sizeof in[0])) {
				r->checks++;
				return 0;
			}
		}
		holds = check(s, r, env, &v);
		if (holds == (s->form == EXPECT_ALWAYS)) {
			r->inputs_held = s->that.n_inputs != 0;
			memcpy(r->inputs, in, s->that.n_inputs * sizeof in[0]);
			return 0;
		}
		why_text(&s->that, &r->why);
		explain(why, sizeof why, &r->why, s->tolerance, 1, v);
		return decide(r, EXPECT_FAILED, now, "at %s s: %s is %s%s", secs(at, sizeof at, now), s->that.text,
		              holds ? "true" : "false", why);
	}
	return 0;
}

unsigned expect_step(const struct expect_spec *spec, struct expect_result *res, unsigned n,
                     uint32_t now_ms, const struct expect_env *env,
                     const unsigned *fired, unsigned n_fired)
{
	unsigned i, failed = 0;

	for (i = 0; i < n; i++)
		if (res[i].state == EXPECT_PENDING)
			failed += step_one(&spec[i], &res[i], now_ms, env, fired, n_fired);
	return failed;
}

void expect_step_same(const struct expect_spec *s, struct expect_result *r, uint32_t now,
                      const struct expect_env *env)
{
	/* step_one's window and judgeability, then check's count */
	if (r->state != EXPECT_PENDING || (s->form != EXPECT_ALWAYS && s->form != EXPECT_NEVER))
		return;
	if (now < s->from_ms || (s->until_ms && now > s->until_ms) || !judgeable(&s->that, env))
		return;
	r->checks++;
}

void expect_finish(const struct expect_spec *spec, struct expect_result *res, unsigned n,
                   uint32_t end_ms)
{
	char end[16], t1[16], t2[16], why[400];
	unsigned i;

	secs(end, sizeof end, end_ms);
	for (i = 0; i < n; i++) {
		const struct expect_spec *s = &spec[i];
		struct expect_result *r = &res[i];
		uint64_t deadline;

		if (r->state != EXPECT_PENDING)
			continue;
		why_text(&s->that, &r->why);      /* a decided expectation's why has its text */
		switch (s->form) {
		case EXPECT_AT:
			decide(r, EXPECT_FAILED, end_ms, "the run ended at %s s, before %s s", end,
			       secs(t1, sizeof t1, s->at_ms));
			break;
		case EXPECT_WITHIN:
			if (!r->checks) {
				r->trigger_ms = UINT32_MAX;
				if (s->after_event >= 0)
					decide(r, EXPECT_FAILED, end_ms, "the trigger (timeline event #%d) never "
					       "happened", s->after_event);
				else
					decide(r, EXPECT_FAILED, end_ms, "the trigger `%s` never happened",
					       s->after.text);
				break;
			}
			deadline = (uint64_t)r->trigger_ms + s->within_ms;
			explain(why, sizeof why, &r->why, s->tolerance, 0, 0);
			if (end_ms <= deadline)
				decide(r, EXPECT_FAILED, end_ms, "the run ended at %s s, before the deadline at "
				       "%s s, without %s holding%s", end, secs(t1, sizeof t1, deadline < UINT32_MAX ? (uint32_t)deadline : UINT32_MAX),
				       s->that.text, why);
			else
				decide(r, EXPECT_FAILED, end_ms, "%s did not hold within %s s after the trigger "
				       "at %s s%s", s->that.text, secs(t1, sizeof t1, s->within_ms),
				       secs(t2, sizeof t2, r->trigger_ms), why);
			break;
		case EXPECT_ALWAYS:
		case EXPECT_NEVER:
			if (!r->checks)
				decide(r, EXPECT_FAILED, end_ms, "never checked: %s", s->that.uses_dut ?
				       "the DUT never reported in the window" : "no step fell in the window");
			else
				decide(r, EXPECT_PASSED, end_ms, "%s held at %s %lu checks", s->that.text,
				       s->form == EXPECT_ALWAYS ? "all" : "none of", (unsigned long)r->checks);
			break;
		}
	}
}
