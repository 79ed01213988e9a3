/*
 * libFuzzer: the input as expectation text (up to its first NUL, at most 600 bytes so the
 * too-long path is reached) through expr_compile, expr_eval and the judge. Besides not
 * crashing or overflowing the stack (hostile nesting), abort() unless:
 *   a refused text has a non-empty error and a column within the text (or one past it);
 *   an accepted one keeps its text, compiles again to the same nodes, evaluates with a `why`
 *   that names a real comparison (op, cell 0..4, sides that fit), and gives the same value
 *   without a DUT report when it does not use the DUT;
 *   the four judge forms over a few steps decide everything at finish with a one-line message.
 * The env is fixed: a DUT report of 3 cells, a truth of 4 (so cell 4 of the DUT reads NaN).
 * Seeds: tests/fuzz/corpus/fuzz_expr/ (one expression a file).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "bmsrig/hil/expect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixed_env(struct expect_env *env, struct dut_report *d, struct truth_view *t)
{
	unsigned i;

	memset(d, 0, sizeof *d);
	d->ok = 1;
	d->pack.pack_mV = 9903;
	d->pack.current_mA = -5000;
	d->pack.soc_pct = 55;
	d->pack.cell_count = 3;
	d->pack.temp_count = 2;
	d->pack.temp_dK[0] = 2981;
	d->pack.temp_dK[1] = 3001;
	d->pack.fet_chg = 1;
	d->pack.prot = PACK_PROT_CELL_UV;
	d->relay = 1;
	memset(t, 0, sizeof *t);
	t->cell_count = 4;
	for (i = 0; i < 4; i++) {
		d->pack.cell_mV[i] = (uint16_t)(3300 + i);
		t->cell_mV[i] = 3300.5 + i;
		t->cell_soc_pct[i] = 50 + i;
	}
	t->pack_mV = 13206;
	t->current_mA = -5000;
	t->requested_mA = -5000;
	t->temp_count = 2;
	t->temp_dK[0] = 2981.2;
	t->temp_dK[1] = 3000.9;
	t->ambient_dK = 2981.5;
	memset(env, 0, sizeof *env);
	env->t_s = 3.5;
	env->dut = d;
	env->dut_reports = 4;
	env->dut_age_ms = 120;
	env->truth = t;
	/* The inverter records, so truth.cvl_mv ... and wire.* read values, not only NaN. */
	static struct rig_inv_battery inv;
	memset(&inv, 0, sizeof inv);
	inv.cvl_mV = 14200;
	inv.ccl_mA = 50000;
	inv.request = RIG_INV_CHG_ENABLE | RIG_INV_DSG_ENABLE;
	inv.alarm = RIG_INV_ALARM_COMM;
	inv.soc_pct = 55;
	inv.module_count = 1;
	env->inv_truth = &inv;
	env->inv_wire = &inv;
	env->wire_frames = 9;
	env->wire_age_ms = 300;
}

static void check_why(const struct expr_why *w)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
	unsigned i;

	CHECK(w->have == 0 || w->have == 1);
	CHECK(w->cell >= 0 && w->cell <= 4);
	CHECK(strlen(w->lhs) < sizeof w->lhs && strlen(w->rhs) < sizeof w->rhs);
	if (!w->have) {
		CHECK(!w->lhs[0] && !w->rhs[0] && !w->op[0] && !w->cell);
		return;
	}
	CHECK(w->lhs[0] && w->rhs[0]);
	for (i = 0; i < 6 && strcmp(w->op, ops[i]); i++)
		;
	CHECK(i < 6);
}

static int same(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void judge(const struct expr *e, const struct expect_env *env)
{
	struct expect_spec s[4];
	struct expect_result r[4];
	struct expect_env none = *env;
	const unsigned fired = 0;
	unsigned i, failed = 0;

	none.dut = NULL;
	memset(s, 0, sizeof s);
	memset(r, 0, sizeof r);
	for (i = 0; i < 4; i++) {
		s[i].form = (enum expect_form)i;
		s[i].that = *e;
		s[i].tolerance = 0.5;
		s[i].after_event = -1;
		s[i].after = *e;
		s[i].within_ms = 100;
	}
	s[EXPECT_AT].at_ms = 100;
	s[EXPECT_ALWAYS].from_ms = 50;
	failed += expect_step(s, r, 4, 0, &none, &fired, 1);
	failed += expect_step(s, r, 4, 100, env, &fired, 1);
	failed += expect_step(s, r, 4, 250, env, NULL, 0);
	expect_finish(s, r, 4, 300);
	for (i = 0; i < 4; i++) {
		CHECK(r[i].state == EXPECT_PASSED || r[i].state == EXPECT_FAILED);
		CHECK(r[i].message[0] && !strchr(r[i].message, '\n'));
		CHECK(strlen(r[i].message) < sizeof r[i].message);
		check_why(&r[i].why);
		CHECK(r[i].checks <= 3);
	}
	CHECK(failed <= 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[601], err[128];
	struct expr e, again;
	struct expect_env env, none;
	struct dut_report d;
	struct truth_view t;
	struct expr_why why;
	unsigned col = 12345;
	size_t len;
	double v, v_tol, v_none;
	rig_rc rc;

	len = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, len);
	text[len] = '\0';
	len = strlen(text);
	memset(err, 'x', sizeof err);
	rc = expr_compile(&e, text, err, sizeof err, &col);
	if (rc != RIG_OK) {
		CHECK(rc == RIG_ERR_ARG);
		CHECK(memchr(err, '\0', sizeof err) && err[0]);
		CHECK(col >= 1 && col <= len + 1 && col <= EXPR_TEXT_MAX);
		return 0;
	}
	CHECK(col == 0 && len < EXPR_TEXT_MAX && !strcmp(e.text, text));
	CHECK(e.n_nodes >= 1 && e.n_nodes <= EXPR_NODES_MAX && e.root < e.n_nodes);
	CHECK(expr_compile(&again, e.text, NULL, 0, NULL) == RIG_OK);
	CHECK(again.n_nodes == e.n_nodes && again.root == e.root && again.uses_dut == e.uses_dut);

	fixed_env(&env, &d, &t);
	v = expr_eval(&e, &env, 0, &why);
	check_why(&why);
	v_tol = expr_eval(&e, &env, 1.5, &why);
	check_why(&why);
	(void)v_tol;
	none = env;
	none.dut = NULL;
	v_none = expr_eval(&e, &none, 0, NULL);
	if (!e.uses_dut)
		CHECK(same(v, v_none));
	judge(&e, &env);
	return 0;
}
