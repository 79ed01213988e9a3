/* Expectations: the expression language (compile, evaluate, why) and the judge over time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "near.h"
#include "bmsrig/hil/expect.h"

/* A 4-cell DUT report that matches truth4 to within a millivolt. */
static struct dut_report dut4(void)
{
	struct dut_report d;

	memset(&d, 0, sizeof d);
	d.ok = 1;
	d.pack.pack_mV = 13206;
	d.pack.current_mA = -20000;
	d.pack.soc_pct = 80;
	d.pack.cell_count = 4;
	d.pack.cell_mV[0] = 3300; d.pack.cell_mV[1] = 3301; d.pack.cell_mV[2] = 3302; d.pack.cell_mV[3] = 3303;
	d.pack.temp_count = 2;
	d.pack.temp_dK[0] = 2981; d.pack.temp_dK[1] = 2990;
	d.pack.fet_chg = 1; d.pack.fet_dsg = 1;
	d.pack.prot = PACK_PROT_CELL_OV | PACK_PROT_SHORT;
	d.pack.bal_mask = 0x5;
	d.relay = 1;
	d.comm_fail = 2;
	return d;
}

static struct truth_view truth4(void)
{
	struct truth_view t;

	memset(&t, 0, sizeof t);
	t.pack_mV = 13206.4;
	t.current_mA = -19990;
	t.requested_mA = -20000;
	t.soc_pct = 80.2;
	t.cell_count = 4;
	t.cell_mV[0] = 3300.2; t.cell_mV[1] = 3301.1; t.cell_mV[2] = 3302.4; t.cell_mV[3] = 3302.7;
	t.cell_soc_pct[0] = 80; t.cell_soc_pct[1] = 80.5; t.cell_soc_pct[2] = 79.5; t.cell_soc_pct[3] = 80.8;
	t.temp_count = 2;
	t.temp_dK[0] = 2981.3; t.temp_dK[1] = 2989.8;
	t.ambient_dK = 2981.5;
	t.fet_chg = 1; t.fet_dsg = 0;
	t.prot = PACK_PROT_PACK_UV;
	t.bal_mask = 0x2;
	return t;
}

/* One bench moment: a DUT report (or none) and the truth. */
struct bench {
	struct dut_report d;
	struct truth_view t;
	struct expect_env env;
};

static void bench_init(struct bench *b, int reported)
{
	b->d = dut4();
	b->t = truth4();
	memset(&b->env, 0, sizeof b->env);
	b->env.t_s = 12.5;
	b->env.dut = reported ? &b->d : NULL;
	b->env.dut_reports = reported ? 7 : 0;
	b->env.dut_age_ms = 250;
	b->env.truth = &b->t;
}

static double ev_why(const char *text, const struct expect_env *env, double tol, struct expr_why *why)
{
	struct expr e;
	char err[128];
	unsigned col = 99;

	if (expr_compile(&e, text, err, sizeof err, &col) != RIG_OK)
		fail_msg("`%s` did not compile: %s (column %u)", text, err, col);
	assert_int_equal(col, 0);
	return expr_eval(&e, env, tol, why);
}

static double ev(const char *text, const struct expect_env *env)
{
	return ev_why(text, env, 0, NULL);
}

static void compile_error(const char *text, const char *want, unsigned want_col)
{
	struct expr e;
	char err[128] = "untouched";
	unsigned col = 0;

	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, want);
	assert_int_equal(col, want_col);
	assert_int_equal(e.n_nodes, 0);
}

#define EV(text, want) assert_near(ev(text, &b.env), (want), 1e-9)
#define IS_NAN(text) assert_true(isnan(ev(text, &b.env)))

static void arithmetic_and_precedence(void **state)
{
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	EV("42", 42);
	EV("3290.4", 3290.4);
	EV("0.25", 0.25);
	EV("1 + 2 * 3", 7);
	EV("(1 + 2) * 3", 9);
	EV("7 - 2 - 1", 4);
	EV("8 / 2 / 2", 2);
	EV("10 / 4", 2.5);
	EV("-2 * 3", -6);
	EV("2 - -3", 5);
	EV("--3", 3);
	EV("-(1 + 2)", -3);
	IS_NAN("1 / 0");
	IS_NAN("0 / 0");
	EV("6 & 3", 2);
	EV("1 + 2 & 3", 3);            /* + before & */
	EV("5 & 4 == 4", 1);           /* & before == */
	EV("2.9 & 3", 2);              /* truncated */
	IS_NAN("-1 & 1");
	IS_NAN("4294967296 & 1");
	EV("4294967295 & 4294967295", 4294967295.0);
	EV("abs(-3.5)", 3.5);
	EV("min(2, 5)", 2);
	EV("max(2, 5)", 5);
	EV("max(min(1, 2), abs(-7)) * 2", 14);
	IS_NAN("min(1, 1 / 0)");
	EV("  1\t+\n2 ", 3);
}

static void comparisons_and_logic(void **state)
{
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	EV("1 == 1", 1); EV("1 == 2", 0);
	EV("1 != 2", 1); EV("1 != 1", 0);
	EV("1 < 2", 1);  EV("2 < 2", 0);
	EV("2 <= 2", 1); EV("3 <= 2", 0);
	EV("3 > 2", 1);  EV("2 > 2", 0);
	EV("2 >= 2", 1); EV("1 >= 2", 0);
	EV("1 + 1 == 2", 1);
	EV("1 < 2 and 2 < 1", 0);
	EV("1 < 2 and 2 < 3", 1);
	EV("1 or 0 and 0", 1);         /* and before or */
	EV("(1 or 0) and 0", 0);
	EV("0 or 0", 0);
	EV("not 1 == 2", 1);           /* not (1 == 2) */
	EV("not 0 and 0", 0);          /* (not 0) and 0 */
	EV("not not 5", 1);
	EV("!0 && 1 || 0", 1);
	EV("!(1 != 1)", 1);
	EV("5 and 7", 1);              /* logic gives 1, not an operand */
	EV("(1 < 2) + (3 < 4)", 2);
	EV("1 / 0 or 0", 0);           /* NaN is false */
	EV("not (1 / 0)", 1);
}

static void tolerance_widens_each_comparison(void **state)
{
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	assert_near(ev_why("3300 == 3305", &b.env, 5, NULL), 1, 0);
	assert_near(ev_why("3300 == 3305", &b.env, 4.9, NULL), 0, 0);
	assert_near(ev_why("3300 == 3305", &b.env, -5, NULL), 1, 0);   /* the magnitude */
	assert_near(ev_why("3300 != 3305", &b.env, 5, NULL), 0, 0);
	assert_near(ev_why("3300 != 3305", &b.env, 4.9, NULL), 1, 0);
	assert_near(ev_why("3305 < 3300", &b.env, 5, NULL), 0, 0);
	assert_near(ev_why("3305 < 3300", &b.env, 5.1, NULL), 1, 0);
	assert_near(ev_why("3305 <= 3300", &b.env, 5, NULL), 1, 0);
	assert_near(ev_why("3305 <= 3300", &b.env, 4.9, NULL), 0, 0);
	assert_near(ev_why("3295 > 3300", &b.env, 5, NULL), 0, 0);
	assert_near(ev_why("3295 > 3300", &b.env, 5.1, NULL), 1, 0);
	assert_near(ev_why("3295 >= 3300", &b.env, 5, NULL), 1, 0);
	assert_near(ev_why("3295 >= 3300", &b.env, 4.9, NULL), 0, 0);
	assert_near(ev_why("1 == 1", &b.env, NAN, NULL), 1, 0);
	/* the DUT's cells are within 0.4 mV of the truth's */
	assert_near(ev_why("all cells: dut.cell_mv == truth.cell_mv", &b.env, 0.5, NULL), 1, 0);
	assert_near(ev_why("all cells: dut.cell_mv == truth.cell_mv", &b.env, 0.2, NULL), 0, 0);
}

static void every_name_reads_its_field(void **state)
{
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	EV("t", 12.5);
	EV("dut.ok", 1); EV("dut.pack_mv", 13206); EV("dut.current_ma", -20000); EV("dut.soc_pct", 80);
	EV("dut.cell_count", 4); EV("dut.cell_mv[2]", 3301); EV("dut.cell_mv[1 + 3]", 3303);
	EV("dut.cell_min_mv", 3300); EV("dut.cell_max_mv", 3303); EV("dut.cell_spread_mv", 3);
	EV("dut.temp_count", 2); EV("dut.temp_dk[2]", 2990); EV("dut.temp_min_dk", 2981);
	EV("dut.temp_max_dk", 2990); EV("dut.fet_chg", 1); EV("dut.fet_dsg", 1);
	EV("dut.prot", PACK_PROT_CELL_OV | PACK_PROT_SHORT); EV("dut.bal_mask", 5); EV("dut.relay", 1);
	EV("dut.comm_fail", 2); EV("dut.reports", 7); EV("dut.age_ms", 250);
	EV("truth.pack_mv", 13206.4); EV("truth.current_ma", -19990); EV("truth.requested_ma", -20000);
	EV("truth.soc_pct", 80.2); EV("truth.cell_count", 4); EV("truth.cell_mv[3]", 3302.4);
	EV("truth.cell_soc_pct[4]", 80.8); EV("truth.cell_min_mv", 3300.2);
	EV("truth.cell_max_mv", 3302.7); EV("truth.cell_spread_mv", 2.5); EV("truth.temp_count", 2);
	EV("truth.temp_dk[1]", 2981.3); EV("truth.temp_min_dk", 2981.3); EV("truth.temp_max_dk", 2989.8);
	EV("truth.ambient_dk", 2981.5); EV("truth.fet_chg", 1); EV("truth.fet_dsg", 0);
	EV("truth.prot", PACK_PROT_PACK_UV); EV("truth.bal_mask", 2);
	EV("prot.cell_ov", PACK_PROT_CELL_OV); EV("prot.cell_uv", PACK_PROT_CELL_UV);
	EV("prot.pack_ov", PACK_PROT_PACK_OV); EV("prot.pack_uv", PACK_PROT_PACK_UV);
	EV("prot.chg_ot", PACK_PROT_CHG_OT); EV("prot.chg_ut", PACK_PROT_CHG_UT);
	EV("prot.dsg_ot", PACK_PROT_DSG_OT); EV("prot.dsg_ut", PACK_PROT_DSG_UT);
	EV("prot.chg_oc", PACK_PROT_CHG_OC); EV("prot.dsg_oc", PACK_PROT_DSG_OC);
	EV("prot.short", PACK_PROT_SHORT); EV("prot.afe", PACK_PROT_AFE);
	EV("prot.sw_lock", PACK_PROT_SW_LOCK);
	EV("dut.prot & prot.short != 0", 1);
	EV("dut.prot & prot.afe", 0);
}

/* The inverter records: each name reads its own field (distinct values, so a name wired to
 * the wrong field fails), truth.* NaN for a BMS kind without an inverter protocol and wire.*
 * NaN before the first decoded frame, while the counters stay readable. */
static void inverter_names_read_truth_and_wire(void **state)
{
	struct rig_inv_battery it, iw;
	struct bench b;

	(void)state;
	bench_init(&b, 0);
	IS_NAN("truth.cvl_mv");
	IS_NAN("truth.module_count");
	IS_NAN("wire.ccl_ma");
	IS_NAN("wire.alarm & alarm.comm");
	EV("not (wire.request & req.chg_enable)", 1);   /* NaN is false: `not` makes it 1 */
	EV("truth.pack_mv", 13206.4);                    /* the BMS-side truth does not depend on them */
	b.env.wire_age_ms = 1e12;
	EV("wire.frames", 0);
	EV("wire.age_ms > 1000000", 1);

	memset(&it, 0, sizeof it);
	it.cvl_mV = 56800; it.dvl_mV = 44800; it.ccl_mA = 74000; it.dcl_mA = 100000;
	it.request = RIG_INV_CHG_ENABLE | RIG_INV_FORCE_CHG_2; it.warn = PACK_PROT_CELL_OV;
	it.alarm = RIG_INV_ALARM_SYSTEM; it.soh_pct = 97; it.module_count = 3;
	it.soc_pct = 1; it.pack_mV = 1; it.current_mA = 1; it.prot = 1;   /* no truth.* names these */
	memset(&iw, 0, sizeof iw);
	iw.cvl_mV = 53200; iw.dvl_mV = 47000; iw.ccl_mA = 25000; iw.dcl_mA = 0; iw.soc_pct = 42;
	iw.soh_pct = 99; iw.pack_mV = 52150; iw.current_mA = -12300; iw.request = RIG_INV_DSG_ENABLE;
	iw.prot = PACK_PROT_DSG_OC; iw.warn = PACK_PROT_CHG_OT; iw.alarm = RIG_INV_ALARM_COMM;
	iw.module_count = 2;
	b.env.inv_truth = &it;
	b.env.inv_wire = &iw;
	b.env.wire_frames = 17;
	b.env.wire_age_ms = 850;
	EV("truth.cvl_mv", 56800); EV("truth.dvl_mv", 44800); EV("truth.ccl_ma", 74000);
	EV("truth.dcl_ma", 100000); EV("truth.request", 9); EV("truth.warn", PACK_PROT_CELL_OV);
	EV("truth.alarm", 2); EV("truth.soh_pct", 97); EV("truth.module_count", 3);
	EV("truth.soc_pct", 80.2);                       /* still the model's, not the record's */
	EV("truth.prot", PACK_PROT_PACK_UV);
	EV("wire.cvl_mv", 53200); EV("wire.dvl_mv", 47000); EV("wire.ccl_ma", 25000);
	EV("wire.dcl_ma", 0); EV("wire.soc_pct", 42); EV("wire.soh_pct", 99); EV("wire.pack_mv", 52150);
	EV("wire.current_ma", -12300); EV("wire.request", 2); EV("wire.prot", PACK_PROT_DSG_OC);
	EV("wire.warn", PACK_PROT_CHG_OT); EV("wire.alarm", 1); EV("wire.module_count", 2);
	EV("wire.frames", 17); EV("wire.age_ms", 850);
	EV("req.chg_enable", 1); EV("req.dsg_enable", 2); EV("req.force_chg_1", 4);
	EV("req.force_chg_2", 8); EV("req.full_chg", 16);
	EV("alarm.comm", 1); EV("alarm.system", 2);
	EV("wire.prot & prot.dsg_oc != 0 and wire.dcl_ma == 0", 1);
	EV("truth.request & req.force_chg_2 != 0 and not (truth.request & req.force_chg_1)", 1);
	EV("wire.alarm & alarm.comm", 1);
	EV("wire.ccl_ma < truth.ccl_ma", 1);
	compile_error("wire.ccl", "unknown name `wire.ccl`", 1);
	compile_error("req.chg", "unknown name `req.chg`", 1);
	{
		struct expr e;
		char err[64];
		unsigned col;

		/* Neither record is the DUT's: an `always` over them is judged every step. */
		assert_int_equal(expr_compile(&e, "wire.ccl_ma <= truth.ccl_ma", err, sizeof err, &col), RIG_OK);
		assert_int_equal(e.uses_dut, 0);
	}
}

/* The rig as the inverter: inv.* read the record decoded from the DUT, field by field
 * (distinct values), NaN before the first; inv.records is readable before it; inv.* are not
 * the DUT's telemetry, so an expression over them does not wait for a report. */
static void inv_names_read_what_the_device_announced(void **state)
{
	struct rig_inv_battery r;
	struct bench b;
	struct expr e;

	(void)state;
	bench_init(&b, 0);
	IS_NAN("inv.cvl_mv");
	IS_NAN("inv.online_packs");
	IS_NAN("inv.age_ms");
	EV("inv.age_ms < 3000", 0);                      /* no record: not fresh */
	EV("inv.records", 0);
	memset(&r, 0, sizeof r);
	r.cvl_mV = 55200; r.dvl_mV = 46400; r.ccl_mA = 74000; r.dcl_mA = 99000; r.soc_pct = 63;
	r.soh_pct = 97; r.pack_mV = 52300; r.current_mA = -12300;
	r.request = RIG_INV_CHG_ENABLE | RIG_INV_FORCE_CHG_1; r.prot = PACK_PROT_CHG_UT;
	r.warn = PACK_PROT_CELL_OV; r.alarm = RIG_INV_ALARM_COMM; r.module_count = 3;
	b.env.inv_dut = &r;
	b.env.inv_records = 4;
	b.env.inv_age_ms = 1250;
	EV("inv.cvl_mv", 55200); EV("inv.dvl_mv", 46400); EV("inv.ccl_ma", 74000); EV("inv.dcl_ma", 99000);
	EV("inv.soc_pct", 63); EV("inv.soh_pct", 97); EV("inv.pack_mv", 52300); EV("inv.current_ma", -12300);
	EV("inv.request", 5); EV("inv.prot", PACK_PROT_CHG_UT); EV("inv.warn", PACK_PROT_CELL_OV);
	EV("inv.alarm", 1); EV("inv.online_packs", 3); EV("inv.age_ms", 1250); EV("inv.records", 4);
	EV("inv.alarm & alarm.comm != 0 and inv.ccl_ma > 0", 1);
	EV("inv.prot & prot.chg_ut", PACK_PROT_CHG_UT);
	EV("inv.age_ms < 1000", 0);
	IS_NAN("wire.cvl_mv");                           /* the other records stay apart */
	IS_NAN("truth.cvl_mv");
	compile_error("inv.ccl", "unknown name `inv.ccl`", 1);
	assert_int_equal(expr_compile(&e, "inv.ccl_ma == 0", NULL, 0, NULL), RIG_OK);
	assert_int_equal(e.uses_dut, 0);
}

static void before_a_report_dut_fields_are_nan(void **state)
{
	struct bench b;
	struct expr_why why;
	struct expr e;

	(void)state;
	bench_init(&b, 0);
	IS_NAN("dut.pack_mv");
	IS_NAN("dut.cell_min_mv");
	IS_NAN("dut.cell_mv[1]");
	EV("dut.relay != 1", 0);       /* NaN: every comparison is false, != too */
	EV("dut.relay == 1", 0);
	EV("dut.reports == 0", 1);
	EV("dut.age_ms", 250);
	EV("truth.pack_mv > 0", 1);
	assert_near(ev_why("dut.relay != 1", &b.env, 0, &why), 0, 0);
	assert_int_equal(why.have, 1);
	assert_string_equal(why.lhs, "dut.relay");
	assert_true(isnan(why.lhs_v));
	assert_near(why.rhs_v, 1, 0);

	assert_int_equal(expr_compile(&e, "dut.relay == 0", NULL, 0, NULL), RIG_OK);
	assert_int_equal(e.uses_dut, 1);
	assert_int_equal(expr_compile(&e, "dut.reports > 0 and dut.age_ms < 500 and t > 1", NULL, 0, NULL), RIG_OK);
	assert_int_equal(e.uses_dut, 0);
	assert_int_equal(expr_compile(&e, "all cells: truth.cell_mv > 0", NULL, 0, NULL), RIG_OK);
	assert_int_equal(e.uses_dut, 0);

	b.env.truth = NULL;            /* no truth either: truth.* reads NaN too */
	IS_NAN("truth.pack_mv");
}

static void quantifiers_and_why_cell(void **state)
{
	struct bench b;
	struct expr_why why;

	(void)state;
	bench_init(&b, 1);
	assert_near(ev_why("all cells: abs(dut.cell_mv - truth.cell_mv) <= 1", &b.env, 0, &why), 1, 0);
	assert_int_equal(why.cell, 4);                 /* all true: the last cell */
	b.d.pack.cell_mV[2] = 3290;
	assert_near(ev_why("all cells: abs(dut.cell_mv - truth.cell_mv) <= 1", &b.env, 0, &why), 0, 0);
	assert_int_equal(why.have, 1);
	assert_int_equal(why.cell, 3);                 /* the first false cell */
	assert_string_equal(why.lhs, "abs(dut.cell_mv - truth.cell_mv)");
	assert_string_equal(why.op, "<=");
	assert_string_equal(why.rhs, "1");
	assert_near(why.lhs_v, 12.4, 1e-9);

	assert_near(ev_why("any cell: dut.cell_mv > 3302", &b.env, 0, &why), 1, 0);
	assert_int_equal(why.cell, 4);                 /* the first true cell */
	assert_near(ev_why("any cell: dut.cell_mv < 3295", &b.env, 0, &why), 1, 0);
	assert_int_equal(why.cell, 3);
	assert_near(ev_why("any cells: dut.cell_mv > 4000", &b.env, 0, &why), 0, 0);
	assert_int_equal(why.cell, 4);                 /* none: the last cell */
	assert_near(why.lhs_v, 3303, 0);

	EV("all cells: cell >= 1 and cell <= 4", 1);
	EV("all cells: truth.cell_soc_pct > 79", 1);
	EV("any cell: truth.cell_soc_pct < 80 and cell == 3", 1);
	EV("(all cells: dut.cell_mv > 3000) + 1", 2);
	EV("dut.ok == 1 and all cells: dut.cell_mv > 3000", 1);
	EV("not all cells: dut.cell_mv > 3300", 1);
	EV("all cells: dut.cell_mv[1] == 3300", 1);   /* an explicit index still works inside */
	/* the body reaches right: `or 1` is inside, so cell 3 passes */
	EV("all cells: dut.cell_mv > 3295 or 1", 1);
	EV("(all cells: dut.cell_mv > 3295) or 0", 0);

	b.d.pack.cell_count = 3;                        /* the truth has 4: the DUT lacks cell 4 */
	b.d.pack.cell_mV[2] = 3302;
	EV("all cells: dut.cell_mv > 3000", 0);
	b.env.truth = NULL;                             /* without truth the DUT's count is used */
	EV("all cells: dut.cell_mv > 3000", 1);
	EV("any cell: cell == 4", 0);
	b.env.dut = NULL;                               /* no cells at all */
	EV("all cells: dut.cell_mv > 3000", 1);
	EV("any cell: cell == 1", 0);
}

static void index_out_of_range_is_nan(void **state)
{
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	IS_NAN("dut.cell_mv[0]");
	IS_NAN("dut.cell_mv[5]");
	IS_NAN("dut.cell_mv[-1]");
	IS_NAN("dut.cell_mv[1.5]");
	IS_NAN("dut.cell_mv[1 / 0]");
	IS_NAN("dut.temp_dk[3]");
	IS_NAN("truth.cell_mv[5]");
	IS_NAN("truth.temp_dk[3]");
	EV("dut.cell_mv[5] > 0", 0);
	EV("truth.cell_mv[4] > 0", 1);
	b.d.pack.cell_count = 200;                      /* a count beyond the array is clamped */
	IS_NAN("dut.cell_mv[33]");
	b.d.pack.cell_count = 0;
	IS_NAN("dut.cell_min_mv");
}

static void compile_errors_and_columns(void **state)
{
	(void)state;
	compile_error("dut.rely == 0", "unknown name `dut.rely`", 1);
	compile_error("1 + dut.", "unknown name `dut.`", 5);
	compile_error("", "empty expression", 1);
	compile_error("   ", "empty expression", 1);
	compile_error("1 2", "unexpected `2` after `1`", 3);
	compile_error("dut.relay 1", "unexpected `1` after `dut.relay`", 11);
	compile_error("(1 + 2", "unclosed `(`", 1);
	compile_error("(1 + 2 3)", "unexpected `3` after `2`", 8);
	compile_error("1 + 2)", "unmatched `)`", 6);
	compile_error("()", "expected a value, got `)`", 2);
	compile_error("1 +", "expected a value after `+`", 4);
	compile_error("1 + * 2", "expected a value, got `*`", 5);
	compile_error("1.2.3 > 0", "bad number `1.2.3`", 1);
	compile_error("2 * 3.", "bad number `3.`", 5);
	compile_error("12abc", "bad number `12abc`", 1);
	compile_error(".5", "unexpected `.`", 1);
	compile_error("1 < 2 < 3", "comparisons do not chain: write `a < b and b < c`", 7);
	compile_error("1 == 2 != 3", "comparisons do not chain: write `a < b and b < c`", 8);
	compile_error("dut.relay = 0", "`=` is not a comparison: write `==`", 11);
	compile_error("1 | 2", "unexpected `|`", 3);
	compile_error("1 + \x01", "unexpected byte 0x01", 5);
	compile_error("dut.cell_mv > 3000", "dut.cell_mv needs an index [n] outside `all cells:`", 1);
	compile_error("1 + truth.cell_soc_pct", "truth.cell_soc_pct needs an index [n] outside `all cells:`", 5);
	compile_error("all cells: dut.temp_dk > 0", "dut.temp_dk needs an index [n]", 12);
	compile_error("dut.pack_mv[1]", "`dut.pack_mv` takes no index", 12);
	compile_error("dut.cell_mv[1", "unclosed `[`", 12);
	compile_error("cell > 1", "`cell` is only known inside `all cells:` or `any cell:`", 1);
	compile_error("all cells: any cell: 1", "quantifiers do not nest", 12);
	compile_error("all cells dut.ok", "expected `:` after `cells`", 11);
	compile_error("all dut.ok", "expected `cells:` after `all`", 5);
	compile_error("all cells:", "expected a value after `:`", 11);
	compile_error("1 + all cells: 1", "put `all cells: ...` in parentheses to use its value", 5);
	compile_error("abs 1", "expected `(` after `abs`", 5);
	compile_error("abs(1, 2)", "`abs` takes 1 argument", 6);
	compile_error("min(1)", "`min` takes 2 arguments", 6);
	compile_error("max(1, 2, 3)", "`max` takes 2 arguments", 9);
	compile_error("min(1, 2", "unclosed `(`", 4);
	compile_error("Dut.relay", "unknown name `Dut.relay`", 1);
}

static void errors_without_err_buffer_and_recompile(void **state)
{
	struct expr e;
	unsigned col = 0;

	(void)state;
	assert_int_equal(expr_compile(&e, "1 +", NULL, 0, &col), RIG_ERR_ARG);
	assert_int_equal(col, 4);
	assert_int_equal(expr_compile(&e, "dut.relay == 0", NULL, 0, NULL), RIG_OK);
	assert_string_equal(e.text, "dut.relay == 0");
	assert_true(e.n_nodes >= 3 && e.root < e.n_nodes);
}

static void depth_bomb_fails_cleanly(void **state)
{
	static char text[10010];
	struct expr e;
	char err[128];
	unsigned col = 0, i;

	(void)state;
	for (i = 0; i < 10000; i++)
		text[i] = '(';
	strcpy(text + 10000, "1");
	/* longer than the limit: refused before any parsing */
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "too long (more than 511 characters)");
	assert_int_equal(col, 512);

	strcpy(text + 500, "1");       /* 500 '(' fit the text limit and hit the depth limit */
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "nested too deeply (more than 64 levels)");
	assert_int_equal(col, 65);     /* the whole is level 1; what the 64th `(` opens, level 65 */
	for (i = 0; i < 500; i++)
		text[i] = i % 2 ? ' ' : '-';
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "nested too deeply (more than 64 levels)");
	for (i = 0; i < 500; i++)
		text[i] = '!';
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "nested too deeply (more than 64 levels)");

	/* 60 levels are fine */
	for (i = 0; i < 60; i++) {
		text[i] = '(';
		text[61 + i] = ')';
	}
	text[60] = '1';
	text[121] = '\0';
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_OK);
}

static void long_input_and_too_many_nodes(void **state)
{
	char text[600];
	struct expr e;
	struct bench b;
	char err[128];
	unsigned col = 0, i;

	(void)state;
	bench_init(&b, 1);
	memset(text, ' ', sizeof text);
	strcpy(text + 510, "1");                  /* 511 characters: the most there may be */
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_OK);
	assert_near(expr_eval(&e, &b.env, 0, NULL), 1, 0);
	memset(text, ' ', sizeof text);
	strcpy(text + 511, "1");
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "too long (more than 511 characters)");
	assert_int_equal(col, 512);

	/* "1+1+...": the 97th node is a `+`, made when the parser stands on column 98 */
	for (i = 0; i < 100; i++) {
		text[2 * i] = '1';
		text[2 * i + 1] = '+';
	}
	text[199] = '\0';
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_ERR_ARG);
	assert_string_equal(err, "too many nodes (more than 96)");
	assert_int_equal(col, 98);
	text[95] = '\0';               /* 48 ones, 47 pluses: 95 nodes */
	assert_int_equal(expr_compile(&e, text, err, sizeof err, &col), RIG_OK);
	assert_near(expr_eval(&e, &b.env, 0, NULL), 48, 0);
}

static void why_names_the_deciding_comparison(void **state)
{
	struct bench b;
	struct expr_why why;

	(void)state;
	bench_init(&b, 1);
	assert_near(ev_why("dut.relay == 0", &b.env, 0, &why), 0, 0);
	assert_int_equal(why.have, 1);
	assert_string_equal(why.lhs, "dut.relay");
	assert_string_equal(why.op, "==");
	assert_string_equal(why.rhs, "0");
	assert_near(why.lhs_v, 1, 0);
	assert_near(why.rhs_v, 0, 0);
	assert_int_equal(why.cell, 0);

	/* and: the first false operand */
	ev_why("dut.ok == 1 and dut.fet_chg == 0 and dut.relay == 0", &b.env, 0, &why);
	assert_string_equal(why.lhs, "dut.fet_chg");
	/* or, false: the last operand */
	ev_why("dut.relay == 0 or dut.fet_dsg == 0", &b.env, 0, &why);
	assert_string_equal(why.lhs, "dut.fet_dsg");
	/* or, true: the operand that made it true */
	ev_why("dut.relay == 1 or dut.fet_dsg == 0", &b.env, 0, &why);
	assert_string_equal(why.lhs, "dut.relay");
	/* the sides' text keeps parentheses and drops the spaces around them */
	ev_why("  (dut.pack_mv - truth.pack_mv)   >=   max(1, 2)  ", &b.env, 0, &why);
	assert_string_equal(why.lhs, "(dut.pack_mv - truth.pack_mv)");
	assert_string_equal(why.rhs, "max(1, 2)");
	assert_string_equal(why.op, ">=");
	/* no comparison: nothing to name */
	ev_why("dut.ok", &b.env, 0, &why);
	assert_int_equal(why.have, 0);
}

/* ---- the judge --------------------------------------------------------------------------- */

static void spec_init(struct expect_spec *s, enum expect_form form, const char *that)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "test");
	s->form = form;
	s->after_event = -1;
	assert_int_equal(expr_compile(&s->that, that, NULL, 0, NULL), RIG_OK);
}

static void at_passes_fails_and_needs_a_report(void **state)
{
	struct expect_spec s[3];
	struct expect_result r[3];
	struct bench b;

	(void)state;
	bench_init(&b, 0);
	memset(r, 0, sizeof r);
	spec_init(&s[0], EXPECT_AT, "dut.relay == 0");
	s[0].at_ms = 12300;
	spec_init(&s[1], EXPECT_AT, "all cells: dut.cell_mv == truth.cell_mv");
	s[1].at_ms = 12300;
	s[1].tolerance = 0.5;
	spec_init(&s[2], EXPECT_AT, "truth.fet_dsg == 0");
	s[2].at_ms = 1000;

	assert_int_equal(expect_step(s, r, 3, 500, &b.env, NULL, 0), 0);
	assert_int_equal(r[0].state, EXPECT_PENDING);
	assert_int_equal(r[2].state, EXPECT_PENDING);
	assert_int_equal(expect_step(s, r, 3, 1000, &b.env, NULL, 0), 0);
	assert_int_equal(r[2].state, EXPECT_PASSED);       /* truth only: no report needed */
	assert_int_equal(r[2].t_ms, 1000);
	assert_string_equal(r[2].message, "at 1.000 s: truth.fet_dsg == 0 is true: truth.fet_dsg = 0, 0");

	b.env.dut = &b.d;
	b.d.pack.cell_mV[2] = 3301;
	assert_int_equal(expect_step(s, r, 3, 12301, &b.env, NULL, 0), 2);
	assert_int_equal(r[0].state, EXPECT_FAILED);
	assert_int_equal(r[0].t_ms, 12301);
	assert_int_equal(r[0].checks, 1);
	assert_string_equal(r[0].message, "at 12.301 s: dut.relay == 0 is false: dut.relay = 1, 0");
	assert_string_equal(r[0].why.lhs, "dut.relay");
	assert_int_equal(r[1].state, EXPECT_FAILED);
	assert_string_equal(r[1].message, "at 12.301 s: all cells: dut.cell_mv == truth.cell_mv is false "
	                    "(cell 3: dut.cell_mv = 3301, truth.cell_mv = 3302.4) (tolerance 0.5)");
	assert_int_equal(r[1].why.cell, 3);
	/* decided: later steps change nothing */
	assert_int_equal(expect_step(s, r, 3, 13000, &b.env, NULL, 0), 0);
	assert_int_equal(r[0].checks, 1);

	/* no report when the time comes */
	memset(r, 0, sizeof r);
	b.env.dut = NULL;
	assert_int_equal(expect_step(s, r, 1, 12300, &b.env, NULL, 0), 1);
	assert_string_equal(r[0].message, "at 12.300 s: no telemetry from the DUT yet");
	/* never reached */
	memset(r, 0, sizeof r);
	expect_finish(s, r, 1, 10000);
	assert_int_equal(r[0].state, EXPECT_FAILED);
	assert_int_equal(r[0].t_ms, 10000);
	assert_string_equal(r[0].message, "the run ended at 10.000 s, before 12.300 s");
}

static void within_after_an_event(void **state)
{
	struct expect_spec s;
	struct expect_result r;
	struct bench b;
	const unsigned other = 1, ev3[2] = { 1, 3 };

	(void)state;
	bench_init(&b, 1);
	spec_init(&s, EXPECT_WITHIN, "dut.relay == 0");
	s.within_ms = 2000;
	s.after_event = 3;

	/* passes at the first step it holds */
	memset(&r, 0, sizeof r);
	assert_int_equal(expect_step(&s, &r, 1, 1000, &b.env, &other, 1), 0);
	assert_int_equal(r.trigger_ms, UINT32_MAX);
	assert_int_equal(r.checks, 0);
	assert_int_equal(expect_step(&s, &r, 1, 5000, &b.env, ev3, 2), 0);
	assert_int_equal(r.trigger_ms, 5000);
	assert_int_equal(r.checks, 1);                      /* the trigger step counts */
	assert_int_equal(r.state, EXPECT_PENDING);
	b.d.relay = 0;
	assert_int_equal(expect_step(&s, &r, 1, 6200, &b.env, NULL, 0), 0);
	assert_int_equal(r.state, EXPECT_PASSED);
	assert_int_equal(r.t_ms, 6200);
	assert_int_equal(r.checks, 2);
	assert_string_equal(r.message, "at 6.200 s: dut.relay == 0 is true, 1.200 s after the trigger: "
	                    "dut.relay = 0, 0");

	/* holds at the trigger step itself */
	memset(&r, 0, sizeof r);
	expect_step(&s, &r, 1, 5000, &b.env, ev3, 2);
	assert_int_equal(r.state, EXPECT_PASSED);

	/* the deadline passes: fails at the first step after it, not at it */
	memset(&r, 0, sizeof r);
	b.d.relay = 1;
	expect_step(&s, &r, 1, 5000, &b.env, ev3, 2);
	assert_int_equal(expect_step(&s, &r, 1, 7000, &b.env, NULL, 0), 0);
	assert_int_equal(r.state, EXPECT_PENDING);
	assert_int_equal(expect_step(&s, &r, 1, 7005, &b.env, NULL, 0), 1);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_int_equal(r.t_ms, 7005);
	assert_int_equal(r.checks, 2);
	assert_string_equal(r.message, "at 7.005 s: dut.relay == 0 did not hold within 2.000 s after the "
	                    "trigger at 5.000 s: dut.relay = 1, 0");

	/* the trigger never came */
	memset(&r, 0, sizeof r);
	expect_step(&s, &r, 1, 5000, &b.env, &other, 1);
	expect_finish(&s, &r, 1, 9000);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_int_equal(r.trigger_ms, UINT32_MAX);
	assert_string_equal(r.message, "the trigger (timeline event #3) never happened");

	/* the run ended before the deadline */
	memset(&r, 0, sizeof r);
	expect_step(&s, &r, 1, 5000, &b.env, ev3, 2);
	expect_finish(&s, &r, 1, 6000);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_string_equal(r.message, "the run ended at 6.000 s, before the deadline at 7.000 s, without "
	                    "dut.relay == 0 holding: dut.relay = 1, 0");
}

static void within_after_a_condition(void **state)
{
	struct expect_spec s;
	struct expect_result r;
	struct bench b;

	(void)state;
	bench_init(&b, 0);
	spec_init(&s, EXPECT_WITHIN, "dut.prot & prot.cell_ov");
	s.within_ms = 500;
	assert_int_equal(expr_compile(&s.after, "truth.cell_max_mv > 3650", NULL, 0, NULL), RIG_OK);

	memset(&r, 0, sizeof r);
	assert_int_equal(expect_step(&s, &r, 1, 100, &b.env, NULL, 0), 0);
	assert_int_equal(r.trigger_ms, UINT32_MAX);
	b.t.cell_mV[1] = 3651;                          /* triggers; the DUT has not reported */
	assert_int_equal(expect_step(&s, &r, 1, 200, &b.env, NULL, 0), 0);
	assert_int_equal(r.trigger_ms, 200);
	assert_int_equal(r.state, EXPECT_PENDING);
	b.env.dut = &b.d;                               /* reports the bit 0.5 s later: in time */
	assert_int_equal(expect_step(&s, &r, 1, 700, &b.env, NULL, 0), 0);
	assert_int_equal(r.state, EXPECT_PASSED);
	assert_int_equal(r.t_ms, 700);
	assert_string_equal(r.message, "at 0.700 s: dut.prot & prot.cell_ov is true, 0.500 s after the "
	                    "trigger (value 1)");

	/* a condition that never holds */
	memset(&r, 0, sizeof r);
	b.t.cell_mV[1] = 3300;
	expect_step(&s, &r, 1, 100, &b.env, NULL, 0);
	expect_finish(&s, &r, 1, 1000);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_string_equal(r.message, "the trigger `truth.cell_max_mv > 3650` never happened");
	/* never stepped at all */
	memset(&r, 0, sizeof r);
	expect_finish(&s, &r, 1, 1000);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_int_equal(r.trigger_ms, UINT32_MAX);
}

static void always_fails_at_the_first_false_step(void **state)
{
	struct expect_spec s;
	struct expect_result r;
	struct bench b;
	uint32_t ms;

	(void)state;
	bench_init(&b, 0);
	spec_init(&s, EXPECT_ALWAYS, "dut.relay == 1");
	memset(&r, 0, sizeof r);
	assert_int_equal(expect_step(&s, &r, 1, 0, &b.env, NULL, 0), 0);   /* no report: skipped */
	assert_int_equal(r.checks, 0);
	b.env.dut = &b.d;
	for (ms = 100; ms <= 500; ms += 100)
		assert_int_equal(expect_step(&s, &r, 1, ms, &b.env, NULL, 0), 0);
	assert_int_equal(r.checks, 5);
	b.d.relay = 0;
	assert_int_equal(expect_step(&s, &r, 1, 600, &b.env, NULL, 0), 1);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_int_equal(r.t_ms, 600);
	assert_string_equal(r.message, "at 0.600 s: dut.relay == 1 is false: dut.relay = 0, 1");
	expect_finish(&s, &r, 1, 1000);
	assert_int_equal(r.state, EXPECT_FAILED);          /* finish keeps a decision */

	/* it held: passes at the end */
	memset(&r, 0, sizeof r);
	b.d.relay = 1;
	expect_step(&s, &r, 1, 100, &b.env, NULL, 0);
	expect_step(&s, &r, 1, 200, &b.env, NULL, 0);
	expect_finish(&s, &r, 1, 1000);
	assert_int_equal(r.state, EXPECT_PASSED);
	assert_int_equal(r.t_ms, 1000);
	assert_string_equal(r.message, "dut.relay == 1 held at all 2 checks");
}

static void always_window_and_zero_checks(void **state)
{
	struct expect_spec s;
	struct expect_result r;
	struct bench b;
	uint32_t ms;

	(void)state;
	bench_init(&b, 1);
	spec_init(&s, EXPECT_ALWAYS, "dut.relay == 1");
	s.from_ms = 1000;
	s.until_ms = 2000;
	memset(&r, 0, sizeof r);
	b.d.relay = 0;                                      /* false outside the window only */
	assert_int_equal(expect_step(&s, &r, 1, 999, &b.env, NULL, 0), 0);
	b.d.relay = 1;
	for (ms = 1000; ms <= 2000; ms += 250)
		assert_int_equal(expect_step(&s, &r, 1, ms, &b.env, NULL, 0), 0);
	b.d.relay = 0;
	assert_int_equal(expect_step(&s, &r, 1, 2001, &b.env, NULL, 0), 0);
	assert_int_equal(r.checks, 5);
	expect_finish(&s, &r, 1, 3000);
	assert_int_equal(r.state, EXPECT_PASSED);

	/* the DUT never reported in the window */
	memset(&r, 0, sizeof r);
	b.env.dut = NULL;
	for (ms = 0; ms <= 3000; ms += 500)
		expect_step(&s, &r, 1, ms, &b.env, NULL, 0);
	expect_finish(&s, &r, 1, 3000);
	assert_int_equal(r.state, EXPECT_FAILED);
	assert_int_equal(r.checks, 0);
	assert_string_equal(r.message, "never checked: the DUT never reported in the window");
}

static void never_fails_when_it_holds(void **state)
{
	struct expect_spec s[2];
	struct expect_result r[2];
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	spec_init(&s[0], EXPECT_NEVER, "any cell: dut.cell_mv > 3650");
	spec_init(&s[1], EXPECT_NEVER, "dut.comm_fail > 5");
	s[1].from_ms = 500;
	memset(r, 0, sizeof r);
	assert_int_equal(expect_step(s, r, 2, 100, &b.env, NULL, 0), 0);
	assert_int_equal(r[0].checks, 1);
	assert_int_equal(r[1].checks, 0);                  /* before its window */
	b.d.pack.cell_mV[1] = 3700;
	b.d.comm_fail = 9;
	assert_int_equal(expect_step(s, r, 2, 200, &b.env, NULL, 0), 1);
	assert_int_equal(r[0].state, EXPECT_FAILED);
	assert_string_equal(r[0].message, "at 0.200 s: any cell: dut.cell_mv > 3650 is true "
	                    "(cell 2: dut.cell_mv = 3700, 3650)");
	assert_int_equal(r[0].why.cell, 2);
	b.d.comm_fail = 2;
	assert_int_equal(expect_step(s, r, 2, 600, &b.env, NULL, 0), 0);
	expect_finish(s, r, 2, 1000);
	assert_int_equal(r[1].state, EXPECT_PASSED);
	assert_string_equal(r[1].message, "dut.comm_fail > 5 held at none of 1 checks");
}

/* A flag the compiler sets on an expression, checked over a table of texts. */
struct flag_case { const char *text; int want; };

static int reads_live_of(const struct expr *e) { return e->reads_live; }
static int reads_soc_of(const struct expr *e) { return e->reads_soc; }

static void flag_cases(const struct flag_case *cases, size_t n, const char *flag, int (*get)(const struct expr *))
{
	struct expr e;
	size_t i;

	for (i = 0; i < n; i++) {
		if (expr_compile(&e, cases[i].text, NULL, 0, NULL) != RIG_OK)
			fail_msg("`%s` did not compile", cases[i].text);
		if (get(&e) != cases[i].want)
			fail_msg("`%s`: %s %d, want %d", cases[i].text, flag, get(&e), cases[i].want);
	}
}

/* Which expressions read only the emulated BMS's decisions (reads_live 0), whose value cannot
 * change while those stay: the judge counts their checks then instead of evaluating. */
static void reads_live_marks_what_moves_between_decisions(void **state)
{
	static const struct flag_case cases[] = {
		{ "truth.prot != 0", 0 },
		{ "truth.fet_chg == 1 and truth.fet_dsg == 1", 0 },
		{ "(truth.bal_mask & 4) == 0", 0 },
		{ "1 < 2", 0 },
		{ "truth.prot != 0 or truth.pack_mv > 60000", 1 },
		{ "truth.cell_max_mv < 3650", 1 },
		{ "t > 5 and truth.prot == 0", 1 },
		{ "dut.prot != 0", 1 },
		{ "dut.reports > 3", 1 },
		{ "all cells: truth.prot == 0", 1 },
	};

	(void)state;
	flag_cases(cases, sizeof cases / sizeof cases[0], "reads_live", reads_live_of);
}

static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* A quantifier whose body has no `and`/`or` runs for all cells at once (run_rows in expect.c);
 * `BODY and 1` has the same value and the same deciding comparison but runs cell by cell, so
 * the two must agree in value and in every part of why, whatever cell decides or reads NaN. */
static void a_flat_quantifier_agrees_with_the_cell_by_cell_walk(void **state)
{
	static const char *const bodies[] = {
		"abs(dut.cell_mv - truth.cell_mv) <= 1",
		"dut.cell_mv > 3301",
		"dut.cell_mv < 3295",
		"(dut.cell_mv > 3300) + (truth.cell_mv < 3302) >= 1",
		"dut.cell_mv[cell] - truth.cell_mv[cell] < 0.5",
		"-dut.cell_mv < -3301",
		"not (cell == 2)",
		"min(dut.cell_mv, truth.cell_mv) > 3300.5",
		"truth.cell_soc_pct > 80",
		"max(truth.cell_soc_pct, 80.1) / 2 == 40.05",
		"dut.cell_mv - 3301",
	};
	static const char *const quants[] = { "all cells: ", "any cell: " };
	struct bench b;
	unsigned variant, q, i;

	(void)state;
	for (variant = 0; variant < 5; variant++)
		for (q = 0; q < 2; q++)
			for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
				char flat[160], walked[160];
				struct expr_why wf, ww;
				double vf, vw;

				bench_init(&b, 1);
				if (variant == 1)
					b.d.pack.cell_mV[0] = 3290;          /* the first cell decides */
				if (variant == 2)
					b.d.pack.cell_count = 3;            /* cell 4 reads NaN on the DUT's side */
				if (variant == 3)
					b.env.truth = NULL;                 /* the DUT's cells; truth.* NaN */
				if (variant == 4)
					b.env.dut = NULL;                   /* the truth's cells; dut.* NaN */
				snprintf(flat, sizeof flat, "%s%s", quants[q], bodies[i]);
				snprintf(walked, sizeof walked, "%s%s and 1", quants[q], bodies[i]);
				vf = ev_why(flat, &b.env, 0.25, &wf);
				vw = ev_why(walked, &b.env, 0.25, &ww);
				if (!same_double(vf, vw) || wf.have != ww.have || wf.cell != ww.cell ||
				    !same_double(wf.lhs_v, ww.lhs_v) || !same_double(wf.rhs_v, ww.rhs_v) ||
				    strcmp(wf.lhs, ww.lhs) || strcmp(wf.rhs, ww.rhs) || strcmp(wf.op, ww.op))
					fail_msg("variant %u `%s`: %g (cell %d: %s = %g %s %s = %g), walked %g (cell %d: %s = %g %s %s = %g)",
					         variant, flat, vf, wf.cell, wf.lhs, wf.lhs_v, wf.op, wf.rhs, wf.rhs_v,
					         vw, ww.cell, ww.lhs, ww.lhs_v, ww.op, ww.rhs, ww.rhs_v);
			}
	/* and the values themselves, for the common shape */
	bench_init(&b, 1);
	b.d.pack.cell_mV[1] = 3310;
	{
		struct expr_why w;

		assert_near(ev_why("all cells: abs(dut.cell_mv - truth.cell_mv) <= 3", &b.env, 0, &w), 0, 0);
		assert_int_equal(w.cell, 2);
		assert_near(w.lhs_v, 8.9, 1e-9);
		assert_near(w.rhs_v, 3, 0);
	}
}

/* An always/never whose inputs (expr.n_inputs) are bit for bit those of its last check, which
 * held, is counted without evaluating; any change (a value, a record gone) is evaluated. */
static void unchanged_inputs_are_counted_changed_ones_evaluated(void **state)
{
	static const struct { const char *text; unsigned n; } cases[] = {
		{ "dut.ok == 0", 1 },
		{ "dut.fet_chg == 1 and dut.fet_dsg == 1", 2 },
		{ "abs(dut.pack_mv - truth.pack_mv) <= 15", 2 },
		{ "dut.relay == 0 or dut.relay == 2", 1 },
		{ "t > 1 and dut.age_ms < 5000", 2 },
		{ "all cells: dut.cell_mv > 3000", 0 },
		{ "dut.temp_dk[1] > 2000", 0 },
		{ "dut.ok + dut.relay + dut.prot + dut.bal_mask + dut.soc_pct > 0", 0 },
		{ "1 < 2", 0 },
	};
	struct expect_spec s[2];
	struct expect_result r[2];
	struct bench b;
	struct expr e;
	uint32_t ms;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (expr_compile(&e, cases[i].text, NULL, 0, NULL) != RIG_OK)
			fail_msg("`%s` did not compile", cases[i].text);
		if (e.n_inputs != cases[i].n)
			fail_msg("`%s`: n_inputs %u, want %u", cases[i].text, e.n_inputs, cases[i].n);
	}

	bench_init(&b, 1);
	spec_init(&s[0], EXPECT_ALWAYS, "dut.fet_chg == 1 and dut.fet_dsg == 1");
	spec_init(&s[1], EXPECT_ALWAYS, "truth.pack_mv > 1");
	memset(r, 0, sizeof r);
	for (ms = 100; ms <= 500; ms += 100)
		assert_int_equal(expect_step(s, r, 2, ms, &b.env, NULL, 0), 0);
	assert_int_equal(r[0].checks, 5);
	assert_int_equal(r[1].checks, 5);
	/* one input moved: evaluated, and it fails with its own why */
	b.d.pack.fet_dsg = 0;
	assert_int_equal(expect_step(s, r, 2, 600, &b.env, NULL, 0), 1);
	assert_int_equal(r[0].state, EXPECT_FAILED);
	assert_int_equal(r[0].checks, 6);
	assert_string_equal(r[0].message, "at 0.600 s: dut.fet_chg == 1 and dut.fet_dsg == 1 is false: dut.fet_dsg = 0, 1");
	/* the truth gone: truth.pack_mv reads NaN, which the last inputs were not */
	b.env.truth = NULL;
	assert_int_equal(expect_step(s, r, 2, 700, &b.env, NULL, 0), 1);
	assert_int_equal(r[1].state, EXPECT_FAILED);
	assert_int_equal(r[1].checks, 7);
	assert_string_equal(r[1].message, "at 0.700 s: truth.pack_mv > 1 is false: truth.pack_mv = NaN, 1");

	/* a never whose input keeps moving while it holds: every check evaluated, none decides */
	bench_init(&b, 1);
	spec_init(&s[0], EXPECT_NEVER, "dut.current_ma > 0");
	memset(r, 0, sizeof r);
	for (ms = 100; ms <= 500; ms += 100) {
		b.d.pack.current_mA = -(int32_t)ms;
		assert_int_equal(expect_step(s, r, 1, ms, &b.env, NULL, 0), 0);
	}
	b.d.pack.current_mA = 1;
	assert_int_equal(expect_step(s, r, 1, 600, &b.env, NULL, 0), 1);
	assert_string_equal(r[0].message, "at 0.600 s: dut.current_ma > 0 is true: dut.current_ma = 1, 0");
}

/* Which expressions read the model's state of charge (reads_soc): the truth behind a reply
 * computes it only when one judged on a report does (hil/run_truth.c). */
static void reads_soc_marks_the_state_of_charge(void **state)
{
	static const struct flag_case cases[] = {
		{ "abs(dut.soc_pct - truth.soc_pct) <= 2", 1 },
		{ "all cells: truth.cell_soc_pct > 10", 1 },
		{ "truth.cell_soc_pct[3] > 10", 1 },
		{ "dut.soc_pct > 20", 0 },
		{ "wire.soc_pct > 20", 0 },
		{ "all cells: abs(dut.cell_mv - truth.cell_mv) <= 3", 0 },
		{ "truth.pack_mv > 1 and truth.prot == 0", 0 },
	};

	(void)state;
	flag_cases(cases, sizeof cases / sizeof cases[0], "reads_soc", reads_soc_of);
}

/* A counted check is one check: in the window, on a pending expectation, and the end message
 * counts it as step_one would have. */
static void a_check_counted_without_evaluating(void **state)
{
	struct expect_spec s[2];
	struct expect_result r[2], full[2];
	struct bench b;
	uint32_t ms;

	(void)state;
	bench_init(&b, 1);
	spec_init(&s[0], EXPECT_NEVER, "truth.prot == 4096");
	spec_init(&s[1], EXPECT_ALWAYS, "truth.fet_chg == 1");
	s[0].from_ms = 300;
	s[1].until_ms = 700;
	memset(r, 0, sizeof r);
	memset(full, 0, sizeof full);
	for (ms = 100; ms <= 1000; ms += 100) {
		assert_int_equal(expect_step(s, full, 2, ms, &b.env, NULL, 0), 0);
		if (ms == 100)
			assert_int_equal(expect_step(s, r, 2, ms, &b.env, NULL, 0), 0);
		else {
			expect_step_same(&s[0], &r[0], ms, &b.env);
			expect_step_same(&s[1], &r[1], ms, &b.env);
		}
	}
	assert_int_equal(r[0].checks, full[0].checks);
	assert_int_equal(r[1].checks, full[1].checks);
	assert_int_equal(r[0].checks, 8);                  /* 300 .. 1000 */
	assert_int_equal(r[1].checks, 7);                  /* 100 .. 700 */
	expect_finish(s, r, 2, 1000);
	expect_finish(s, full, 2, 1000);
	assert_string_equal(r[0].message, full[0].message);
	assert_string_equal(r[1].message, "truth.fet_chg == 1 held at all 7 checks");
	/* decided: nothing more is counted */
	expect_step_same(&s[1], &r[1], 1100, &b.env);
	assert_int_equal(r[1].checks, 7);
}

/* A check keeps the deciding comparison as its node and numbers; its text is filled when the
 * expectation is decided, at a step or at the finish, so a decided why always names it. */
static void a_decided_why_names_its_comparison(void **state)
{
	struct expect_spec s[2];
	struct expect_result r[2];
	struct bench b;

	(void)state;
	bench_init(&b, 1);
	memset(r, 0, sizeof r);
	spec_init(&s[0], EXPECT_ALWAYS, "all cells: dut.cell_mv >= 0 and truth.prot != 0");
	spec_init(&s[1], EXPECT_WITHIN, "dut.relay == 0");
	s[1].within_ms = 5000;
	assert_int_equal(expr_compile(&s[1].after, "t >= 0", NULL, 0, NULL), RIG_OK);
	assert_int_equal(expect_step(s, r, 2, 100, &b.env, NULL, 0), 0);
	assert_int_equal(expect_step(s, r, 2, 200, &b.env, NULL, 0), 0);
	assert_int_equal(r[0].state, EXPECT_PENDING);
	assert_int_equal(r[0].why.have, 1);
	expect_finish(s, r, 2, 300);
	assert_int_equal(r[0].state, EXPECT_PASSED);
	assert_string_equal(r[0].message, "all cells: dut.cell_mv >= 0 and truth.prot != 0 held at all 2 checks");
	assert_string_equal(r[0].why.lhs, "truth.prot");
	assert_string_equal(r[0].why.op, "!=");
	assert_string_equal(r[0].why.rhs, "0");
	assert_int_equal(r[0].why.cell, 4);                /* all held: the last cell decided */
	assert_int_equal(r[1].state, EXPECT_FAILED);
	assert_string_equal(r[1].why.lhs, "dut.relay");
	assert_true(strstr(r[1].message, "without dut.relay == 0 holding: dut.relay = 1, 0") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arithmetic_and_precedence),
		cmocka_unit_test(comparisons_and_logic),
		cmocka_unit_test(tolerance_widens_each_comparison),
		cmocka_unit_test(every_name_reads_its_field),
		cmocka_unit_test(inverter_names_read_truth_and_wire),
		cmocka_unit_test(inv_names_read_what_the_device_announced),
		cmocka_unit_test(before_a_report_dut_fields_are_nan),
		cmocka_unit_test(quantifiers_and_why_cell),
		cmocka_unit_test(index_out_of_range_is_nan),
		cmocka_unit_test(compile_errors_and_columns),
		cmocka_unit_test(errors_without_err_buffer_and_recompile),
		cmocka_unit_test(depth_bomb_fails_cleanly),
		cmocka_unit_test(long_input_and_too_many_nodes),
		cmocka_unit_test(why_names_the_deciding_comparison),
		cmocka_unit_test(at_passes_fails_and_needs_a_report),
		cmocka_unit_test(within_after_an_event),
		cmocka_unit_test(within_after_a_condition),
		cmocka_unit_test(always_fails_at_the_first_false_step),
		cmocka_unit_test(always_window_and_zero_checks),
		cmocka_unit_test(never_fails_when_it_holds),
		cmocka_unit_test(reads_live_marks_what_moves_between_decisions),
		cmocka_unit_test(reads_soc_marks_the_state_of_charge),
		cmocka_unit_test(unchanged_inputs_are_counted_changed_ones_evaluated),
		cmocka_unit_test(a_flat_quantifier_agrees_with_the_cell_by_cell_walk),
		cmocka_unit_test(a_check_counted_without_evaluating),
		cmocka_unit_test(a_decided_why_names_its_comparison),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
