/*
 * The runner (runner.h), of scenarios and of sessions. One event loop carries everything, on
 * simulated time (lockstep) or on the wall clock (realtime). Timers due at the same moment fire
 * in the order they were made, which fixes the order of one 100 ms step of a scenario: the
 * scenario engine sets the load, the emulator steps its model and BMS, then the judge looks.
 * A session's loop, emulator and load are its caller's; the run adds the DUT, its judge and its
 * end.
 *
 * It composes: the device under test through its table (dut.h, hil/dut_<kind>.c), the
 * emulator (sim.h) on the DUT's transport, the timeline, the judges (the expectations,
 * expect.h; the standing verdict, hil.h), and its own parts (run_parts.h): the truth behind the
 * replies, the trace, the progress display.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/hil/hil.h"
#include "bmsrig/hil/rig_inverter.h"
#include "bmsrig/lib/lazy_tick.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/hil/runner.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/sim/timeline.h"
#include "bmsrig/lib/util_json.h"
#include "run_parts.h"

#define JUDGE_MS SIM_STEP_MS
#define TRACE_TRUTH_MS 1000u
#define WIRE_RING 8u

#define WIRE_NOTE_BYTES 48u
/* A frame kept for a failure's context: its first bytes as they crossed, formatted only when a
 * failure (or --verbose) shows them, since every frame of a long run passes here. */
struct wire_note {
	uint32_t t_ms;
	enum personality_dir dir;
	uint8_t n, more;                   /* bytes kept; more: the frame was longer */
	uint8_t bytes[WIRE_NOTE_BYTES];
};

/* "DD A5 ..." as upper-case hex, "..." when the frame was cut; out holds 2 * 48 + 4. */
static const char *wire_note_hex(const struct wire_note *w, char out[2 * WIRE_NOTE_BYTES + 4])
{
	unsigned i;

	for (i = 0; i < w->n; i++) {
		out[2 * i] = "0123456789ABCDEF"[w->bytes[i] >> 4];
		out[2 * i + 1] = "0123456789ABCDEF"[w->bytes[i] & 15];
	}
	memcpy(out + 2 * i, w->more ? "..." : "", w->more ? 4 : 1);
	return out;
}

struct run;

/* The context of one BMS line's emulator callbacks: which line a frame crossed. */
struct run_line {
	struct run *r;
	unsigned line;                     /* 0-based */
};

struct run {
	const struct scenario *sc;         /* the world; NULL: a session */
	const struct scenario_judge *jd;   /* the DUT's settings and the expectations; may be NULL */
	const struct run_opts *o;
	struct run_report *rep;
	struct host_loop *loop;
	struct sim *sim;                   /* line 0's emulator: the truth, the settings, the socket */
	struct sim *line_sim[SCEN_LINES_MAX];   /* each BMS line's, on the one loop and clock */
	struct run_line line_ctx[SCEN_LINES_MAX];
	unsigned n_lines;
	int owns_world;                    /* a scenario's loop and emulator are the run's to free */
	unsigned unit, control_unit;       /* the BMS on sim the DUT reads, and on the socket */
	uint32_t duration_ms;              /* 0: until the caller stops the loop */
	struct timeline tl;
	/* the device under test: the runner calls only its table */
	const struct dut_ops *dut_ops;
	void *dut_self;
	struct dut_report dut;
	int have_dut, fresh_report;
	int dut_done;                      /* its output ended by itself */
	int dut_stopped;
	uint32_t dut_at_ms;
	struct run_truth truth;            /* behind the BMS's latest replies, per part */
	struct truth_view seen;            /* truth.at_reply when the latest report arrived */
	struct run_inv inv;                /* inverter protocols: truth.cvl_mv ..., wire.* */
	struct rig_inverter *inv_rig;      /* the rig as the inverter (the scenario's `inverter`):
	                                    * inv.*; NULL when it has none */
	/* the standing verdict (hil.h), when it judges */
	int verdict_on;
	struct verdict verdict;
	/* the expectations */
	struct expect_result res[SCEN_EXPECT_MAX];
	/* The judge's schedule, built once at the start (plan_judge): each expectation sits on the
	 * list of what can change its outcome, and a pass looks only at the lists whose inputs
	 * moved. Indices into jd->expect; a decided expectation leaves its list. */
	uint8_t on_report[SCEN_EXPECT_MAX];    /* always/never over dut.*: at a fresh report */
	uint8_t on_decision[SCEN_EXPECT_MAX];  /* always/never over the BMS's decisions alone */
	uint8_t on_step[SCEN_EXPECT_MAX];      /* within, always/never over the live truth */
	uint8_t on_time[SCEN_EXPECT_MAX];      /* at, by at_ms */
	unsigned n_on_report, n_on_decision, n_on_step, n_on_time, next_on_time;
	/* The truth now, kept between passes: a pass that reads only the BMS's decisions updates
	 * those four fields. The decisions at the last pass, and which expectations of on_decision
	 * were checked then and still hold: while those stay, their checks are counted, not
	 * evaluated. */
	struct truth_view now_truth;
	struct { uint32_t prot, bal_mask; unsigned fet_chg, fet_dsg; } decided;
	uint8_t same_ok[SCEN_EXPECT_MAX];
	struct expect_env same_env;        /* judge_same's */
	enum expect_state published[SCEN_EXPECT_MAX];   /* on the control socket */
	unsigned fired[SCEN_EVENTS_MAX], n_fired;
	struct wire_note wire[WIRE_RING];
	unsigned n_wire;
	double requested_A;
	uint32_t next_trace_ms;
	/* progress */
	struct run_progress bar;
	unsigned judge_calls;
	/* The engine's and the judge's 100 ms steps (lazy_tick.h): on plain lockstep they sleep
	 * through the ticks where nothing can have changed (lazy); otherwise, where laziness would
	 * miss an input (the control socket's injections, a board's relay sense and tick, the wall
	 * clock, the progress bar's cadence), they step at every tick. */
	int lazy;
	struct host_lazy_tick engine, judge;
	int judge_on;                      /* the judge's steps started (a scenario's, in run_start) */
	uint32_t judged_ms;                /* the judge's last pass */
};

/* ---- the truth ------------------------------------------------------------------------------ */

static void on_truth(void *ctx, unsigned unit, const struct truth_sample *sample)
{
	struct run *r = ctx;

	if (unit != r->unit)
		return;
	if (r->jd)
		run_truth_reply(&r->truth, r->sim, r->requested_A, sample);
	if (r->verdict_on)
		verdict_add_truth(&r->verdict, sample);
}

/* ---- what crosses the wire ---------------------------------------------------------------- */

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	const struct run_line *lc = ctx;
	struct run *r = lc->r;
	struct wire_note *w = &r->wire[r->n_wire++ % WIRE_RING];
	size_t shown = n > WIRE_NOTE_BYTES ? WIRE_NOTE_BYTES : n;
	char text[2 * WIRE_NOTE_BYTES + 4];

	/* The control socket and the battery-to-inverter decoding (run_inv) are line 1's. */
	if (lc->line == 0) {
		control_frame(r->o->control, unit, dir, wire, n);
		run_inv_frame(&r->inv, dir, wire, n, host_loop_now_ms(r->loop));
	}
	r->rep->frames++;
	w->t_ms = host_loop_now_ms(r->loop);
	w->dir = dir;
	w->n = (uint8_t)shown;
	w->more = shown < n;
	memcpy(w->bytes, wire, shown);
	if (r->o->verbose)
		fprintf(stderr, "%10.3f %s%.0u %s\n", w->t_ms / 1000.0, dir == PERS_RX ? "rx" : "tx",
		        r->n_lines > 1 ? lc->line + 1 : 0, wire_note_hex(w, text));
	if (r->o->trace) {
		cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "frame"), *hex = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "dir", dir == PERS_RX ? "rx" : "tx");
		json_add_hex(hex, "hex", wire, n);
		cJSON_AddItemToObject(o, "hex", cJSON_DetachItemFromObject(hex, "hex"));
		cJSON_Delete(hex);
		cJSON_AddItemToObject(o, "decoded", sim_unit_ops(r->line_sim[lc->line], 0)->wire_json(wire, n));
		if (r->n_lines > 1)
			cJSON_AddNumberToObject(o, "line", lc->line + 1);
		run_trace_put(r->o->trace, o);
	}
}

/* -v: what the link model lost, in the frames' own log (the trace has only what crossed). */
static void on_drop(void *ctx, unsigned unit, enum personality_dir dir, size_t n, const char *why)
{
	const struct run *r = ((const struct run_line *)ctx)->r;

	(void)unit;
	fprintf(stderr, "%10.3f link: dropped %zu bytes%s (%s)\n", host_loop_now_ms(r->loop) / 1000.0, n,
	        dir == PERS_RX ? " from the client" : "", why);
}

/* The last frames, oldest first, one per line. */
static void wire_context(const struct run *r, char *out, size_t cap)
{
	unsigned n = r->n_wire < WIRE_RING ? r->n_wire : WIRE_RING, k;
	size_t used = 0;

	out[0] = 0;
	for (k = 0; k < n && used < cap; k++) {
		const struct wire_note *w = &r->wire[(r->n_wire - n + k) % WIRE_RING];
		char hex[2 * WIRE_NOTE_BYTES + 4];
		int m = snprintf(out + used, cap - used, "%s%.3f s %s %s", k ? "\n" : "", w->t_ms / 1000.0,
		                 w->dir == PERS_RX ? "rx" : "tx", wire_note_hex(w, hex));

		if (m < 0)
			break;
		used += (size_t)m;
	}
}

/* ---- the device under test's reports ------------------------------------------------------ */

/* One report, however it came: line is its text, or NULL when an in-process DUT handed the
 * struct t (the text is then formatted only for the few consumers that want text). */
static void take_report(struct run *r, const struct dut_report *rep, const char *line,
                        const struct telemetry *t)
{
	struct dut_report d = *rep;
	char why[256] = "", text[TELEMETRY_LINE_MAX];
	int agrees = -1;

	if (!line && (r->o->control || r->o->verbose || r->o->trace)) {
		if (!rig_telemetry_format(text, sizeof text, t))
			return;                   /* as the core does: a line too long is not sent */
		line = text;
	}
	if (r->verdict_on)
		agrees = verdict_check(&r->verdict, &d, why, sizeof why);
	/* An open relay cuts the load (engine_step): the engine reads it again at its next tick. */
	if (r->sc && r->jd->dut.relay_cuts_current && (!r->have_dut || r->dut.relay != d.relay))
		host_lazy_tick_wake(&r->engine);
	if (r->judge_on)
		host_lazy_tick_wake(&r->judge);
	r->dut = d;
	r->have_dut = 1;
	r->fresh_report = 1;
	r->seen = r->truth.at_reply;
	r->dut_at_ms = host_loop_now_ms(r->loop);
	r->rep->dut_reports++;
	if (line)
		control_dut(r->o->control, r->control_unit, line + strlen(TELEMETRY_PREFIX));
	if (r->o->show_reports)
		run_show_report(r->sim, r->unit, &r->verdict, &d, r->o->tty, agrees, why);
	if (r->o->verbose)
		fprintf(stderr, "%10.3f %s\n", r->dut_at_ms / 1000.0, line);
	if (r->o->trace) {
		cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "dut");

		cJSON_AddItemToObject(o, "report", cJSON_Parse(line + strlen(TELEMETRY_PREFIX)));
		run_trace_put(r->o->trace, o);
	}
}

static void on_dut_line(void *ctx, const char *line)
{
	struct run *r = ctx;
	struct dut_report d;
	char err[256];
	rig_rc rc = dut_report_parse(line, &d, err, sizeof err);

	if (rc != RIG_OK) {
		/* A telemetry line that does not parse is a report the standing verdict cannot agree
		 * with; expectations see only the reports that parse. */
		if (rc != RIG_ERR_UNSUPPORTED && r->verdict_on) {
			fprintf(stderr, "bmssim: DUT: %s\n", err);
			r->verdict.disagree++;
		}
		return;
	}
	take_report(r, &d, line, NULL);
}

/* Lockstep: the in-process firmware's report as the struct, no text parsed back. */
static void on_dut_report(void *ctx, const struct telemetry *t)
{
	struct dut_report d;

	dut_report_from_telemetry(t, &d);
	take_report(ctx, &d, NULL, t);
}

/* ---- the step: engine, then (the emulator's own timer), then judge ------------------------ */

static uint32_t engine_step(void *ctx, uint32_t now)
{
	struct run *r = ctx;
	const struct model *m = sim_model(r->sim, 0);
	double load, short_A;
	unsigned k, n, units;

	if (r->dut_ops->tick)
		r->dut_ops->tick(r->dut_self, now);
	n = timeline_step(&r->tl, now, r->fired + r->n_fired, SCEN_EVENTS_MAX - r->n_fired);
	for (k = 0; k < n && r->o->trace; k++) {
		const struct scen_event *e = &r->sc->event[r->fired[r->n_fired + k]];
		cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "event");

		cJSON_AddStringToObject(o, "do", e->kind == SCEN_EV_WIRE_FAULT ? wire_fault_names[e->fault]
		                                                              : scen_ev_name(e->kind));
		if (e->id[0])
			cJSON_AddStringToObject(o, "id", e->id);
		cJSON_AddNumberToObject(o, "line", e->line);
		run_trace_put(r->o->trace, o);
	}
	for (k = 0; k < n; k++)
		control_timeline(r->o->control, r->fired[r->n_fired + k]);
	r->n_fired += n;
	if (n && r->judge_on)
		host_lazy_tick_wake(&r->judge);   /* a `within` after an event starts counting */
	load = timeline_load_A(&r->tl, now, model_pack_V(m));
	short_A = timeline_short_A(&r->tl);
	r->requested_A = load;
	/* A relay sensed on the DUT itself (a board's sense wire) is what is true about it. */
	if (r->dut_ops->relay) {
		int sensed = r->dut_ops->relay(r->dut_self);

		if (sensed >= 0 && r->have_dut)
			r->dut.relay = sensed;
	}
	/* The relay sits between the pack and its load and charger; a short is inside it. */
	if (r->jd->dut.relay_cuts_current && !(r->have_dut && r->dut.relay))
		load = 0.0;
	/* The units of a bus, and of every line, are packs in parallel: they share the load evenly
	 * (a model without the packs' resistances); a short is inside the first one. */
	units = r->sc && r->sc->n_units > 1 ? r->sc->n_units : 1;
	sim_set_current(r->sim, 0, short_A != 0.0 ? short_A : load / units);
	for (k = 1; k < units; k++)
		sim_set_current(r->line_sim[r->sc->unit_line[k]], r->sc->unit_index[k], load / units);
	/* Until the timeline's next change the same current would be set again; the DUT's relay
	 * opening or closing (take_report) wakes the engine sooner. */
	return r->lazy ? timeline_next_ms(&r->tl, now) : now;
}

static void progress(struct run *r, int done)
{
	if (r->o->progress && r->sc)
		run_progress_draw(&r->bar, r->sc->name, host_loop_now_ms(r->loop), r->sc->duration_ms, done);
}

/*
 * A report describes the pack as it was when the BMS answered, up to a poll period ago, so an
 * `always` or `never` over dut.* is judged once per fresh report against the truth behind the
 * replies it came from: a load that just changed is not a DUT error. Everything else is judged
 * every step against the truth now (a relay must open in time, whatever the last report said),
 * except what cannot change between two steps: an `at` is looked at in the step that reaches
 * its time, and an `always` or `never` over the BMS's decisions alone (truth.prot, the FETs,
 * bal_mask) is re-evaluated only when one of those moved (its other steps are counted as
 * checks with the outcome of the last, which is theirs).
 */
static void plan_judge(struct run *r)
{
	unsigned i, k;

	for (i = 0; i < r->jd->n_expect; i++) {
		const struct expect_spec *e = &r->jd->expect[i];
		int per_time = e->form == EXPECT_ALWAYS || e->form == EXPECT_NEVER;

		if (e->form == EXPECT_AT) {
			/* insertion by at_ms, stable: the list is walked in time order */
			for (k = r->n_on_time; k > 0 && r->jd->expect[r->on_time[k - 1]].at_ms > e->at_ms; k--)
				r->on_time[k] = r->on_time[k - 1];
			r->on_time[k] = (uint8_t)i;
			r->n_on_time++;
		} else if (per_time && e->that.uses_dut) {
			r->on_report[r->n_on_report++] = (uint8_t)i;
		} else if (per_time && !e->that.reads_live) {
			r->on_decision[r->n_on_decision++] = (uint8_t)i;
		} else {
			r->on_step[r->n_on_step++] = (uint8_t)i;
		}
	}
}

/* Steps list[0..*n) and drops from it what was decided; the failures. */
static unsigned step_list(struct run *r, uint8_t *list, unsigned *n, uint32_t now, const struct expect_env *env)
{
	unsigned failed = 0, i, kept = 0;

	for (i = 0; i < *n; i++) {
		unsigned x = list[i];

		failed += expect_step(&r->jd->expect[x], &r->res[x], 1, now, env, r->fired, r->n_fired);
		if (r->res[x].state == EXPECT_PENDING)
			list[kept++] = (uint8_t)x;
	}
	*n = kept;
	return failed;
}

/* Needs this pass the live truth (the pack now, not only the BMS's decisions)? */
static int needs_live_truth(const struct run *r, uint32_t now)
{
	unsigned i;

	if (r->o->trace && now >= r->next_trace_ms)
		return 1;
	if (r->next_on_time < r->n_on_time && now >= r->jd->expect[r->on_time[r->next_on_time]].at_ms)
		return 1;
	for (i = 0; i < r->n_on_step; i++) {
		const struct expect_spec *e = &r->jd->expect[r->on_step[i]];

		/* a `within` waiting for its timeline event reads nothing until one fires */
		if (!(e->form == EXPECT_WITHIN && e->after_event >= 0 && !r->res[r->on_step[i]].checks && !r->n_fired))
			return 1;
	}
	return 0;
}

/* t's decisions are those of the judge's last pass. */
static int decisions_unmoved(const struct run *r, const struct truth_view *t)
{
	return t->prot == r->decided.prot && t->fet_chg == r->decided.fet_chg &&
	       t->fet_dsg == r->decided.fet_dsg && t->bal_mask == r->decided.bal_mask;
}

/* Every expectation over the BMS's decisions held at its last check: while the decisions stand,
 * its checks can be counted (judge_same), and the judge may sleep (judge_step). */
static int decisions_held(const struct run *r)
{
	unsigned i;

	for (i = 0; i < r->n_on_decision; i++)
		if (!r->same_ok[r->on_decision[i]])
			return 0;
	return 1;
}

static void judge(struct run *r, uint32_t now)
{
	struct truth_view *t = &r->now_truth;
	struct expect_env env, env_seen;
	unsigned failed = 0, i, kept = 0;
	int same;

	/* The pack's truth costs most of a pass; read it only when an expectation (or the trace)
	 * will. Those that read only the BMS's decisions see them unchanged between its events. */
	if (needs_live_truth(r, now))
		run_truth_now(r->sim, r->requested_A, t);
	else
		run_truth_decisions(r->sim, t);
	same = decisions_unmoved(r, t);
	r->decided.prot = t->prot;
	r->decided.fet_chg = t->fet_chg;
	r->decided.fet_dsg = t->fet_dsg;
	r->decided.bal_mask = t->bal_mask;
	run_inv_truth(&r->inv, r->sim);
	env = (struct expect_env){ .t_s = now / 1000.0, .dut = r->have_dut ? &r->dut : NULL,
	                           .dut_reports = r->rep->dut_reports,
	                           .dut_age_ms = r->have_dut ? (double)(now - r->dut_at_ms) : 1e12, .truth = t };
	run_inv_env(&r->inv, now, &env);
	rig_inverter_env(r->inv_rig, now, &env);
	if (r->fresh_report) {
		env_seen = env;
		env_seen.truth = &r->seen;
		failed += step_list(r, r->on_report, &r->n_on_report, now, &env_seen);
	}
	failed += step_list(r, r->on_step, &r->n_on_step, now, &env);
	for (; r->next_on_time < r->n_on_time && now >= r->jd->expect[r->on_time[r->next_on_time]].at_ms;
	     r->next_on_time++) {
		unsigned x = r->on_time[r->next_on_time];

		failed += expect_step(&r->jd->expect[x], &r->res[x], 1, now, &env, r->fired, r->n_fired);
	}
	for (i = 0; i < r->n_on_decision; i++) {
		unsigned x = r->on_decision[i];
		uint32_t checks = r->res[x].checks;

		if (same && r->same_ok[x]) {
			expect_step_same(&r->jd->expect[x], &r->res[x], now, &env);
		} else {
			failed += expect_step(&r->jd->expect[x], &r->res[x], 1, now, &env, r->fired, r->n_fired);
			r->same_ok[x] = r->res[x].checks != checks && r->res[x].state == EXPECT_PENDING;
		}
		if (r->res[x].state == EXPECT_PENDING)
			r->on_decision[kept++] = (uint8_t)x;
	}
	r->n_on_decision = kept;
	expect_publish(r->o->control, r->jd->expect, r->res, r->published, r->jd->n_expect);
	r->fresh_report = 0;
	r->n_fired = 0;
	if (failed)
		for (i = 0; i < r->jd->n_expect; i++)
			if (r->res[i].state == EXPECT_FAILED && r->res[i].t_ms == now &&
			    !r->rep->cases[i].wire[0])
				wire_context(r, r->rep->cases[i].wire, sizeof r->rep->cases[i].wire);
	if (r->o->trace && now >= r->next_trace_ms) {
		r->next_trace_ms = now + TRACE_TRUTH_MS;
		run_trace_truth(r->o->trace, now, t);
		if (r->inv.decode) {
			cJSON *o = run_trace_record(now, "inverter");

			cJSON_AddItemToObject(o, "truth", run_inv_json(&r->inv.truth));
			if (r->inv.frames)
				cJSON_AddItemToObject(o, "wire", run_inv_json(&r->inv.wire));
			cJSON_AddNumberToObject(o, "wire_frames", r->inv.frames);
			run_trace_put(r->o->trace, o);
		}
		if (r->inv_rig) {
			cJSON *o = run_trace_record(now, "inverter_side");

			if (env.inv_dut)
				cJSON_AddItemToObject(o, "dut", run_inv_json(env.inv_dut));
			cJSON_AddNumberToObject(o, "records", env.inv_records);
			run_trace_put(r->o->trace, o);
		}
	}
	if ((++r->judge_calls & 15u) == 0)
		progress(r, 0);
}

/*
 * A pass at a tick where only the expectations over the BMS's decisions are due and the
 * decisions are those of the last pass, which each of them held: the checks counted as judge()
 * counts them (expect_step_same), without the rest of a pass, which would find nothing to do
 * (no report, no event, no `at`, no trace record, nothing read at every step). 0 when a full
 * pass is needed.
 */
static int judge_same(struct run *r, uint32_t now)
{
	struct truth_view *t = &r->now_truth;
	unsigned i;

	if (!r->lazy || r->fresh_report || r->n_fired || r->n_on_step || (r->o->trace && now >= r->next_trace_ms) ||
	    (r->next_on_time < r->n_on_time && now >= r->jd->expect[r->on_time[r->next_on_time]].at_ms))
		return 0;
	if (!decisions_held(r))
		return 0;
	run_truth_decisions(r->sim, t);
	if (!decisions_unmoved(r, t))
		return 0;
	/* judge()'s env, of which expect_step_same reads only whether the DUT has reported (to
	 * know whether the expectation can be judged): kept, not filled anew at every tick */
	r->same_env.dut = r->have_dut ? &r->dut : NULL;
	r->same_env.truth = t;
	for (i = 0; i < r->n_on_decision; i++)
		expect_step_same(&r->jd->expect[r->on_decision[i]], &r->res[r->on_decision[i]], now, &r->same_env);
	r->judge_calls++;
	return 1;
}

/* The ticks the judge slept through since its last pass: only expectations over the BMS's
 * decisions were due, each had held, and the decisions stood (a move wakes the judge), so each
 * tick would have been a judge_same pass, and is counted as one. */
static void count_slept(struct run *r, uint32_t now)
{
	uint32_t t;
	unsigned i;

	for (t = r->judged_ms + JUDGE_MS; (int32_t)(now - t) > 0; t += JUDGE_MS)
		for (i = 0; i < r->n_on_decision; i++)
			expect_step_same(&r->jd->expect[r->on_decision[i]], &r->res[r->on_decision[i]], t, &r->same_env);
}

/* The judge's next pass that has something to do without input: every tick while an
 * expectation reads what moves at every step (the live truth, a `within`'s trigger), or reads
 * the BMS's decisions and did not hold at its last check; else the next `at`, the trace's truth
 * record and the end. A fresh report, a fired event and a move of the BMS's decisions (the
 * emulator tells: on_decide) wake it sooner. */
static uint32_t judge_step(void *ctx, uint32_t now)
{
	struct run *r = ctx;
	uint32_t next = r->duration_ms ? r->duration_ms : UINT32_MAX;

	if (r->lazy)                       /* on the wall clock a tick may come late: not a sleep */
		count_slept(r, now);
	if (!judge_same(r, now))
		judge(r, now);
	r->judged_ms = now;
	if (!r->lazy || r->n_on_step || !decisions_held(r))
		return now;
	if (r->next_on_time < r->n_on_time && r->jd->expect[r->on_time[r->next_on_time]].at_ms < next)
		next = r->jd->expect[r->on_time[r->next_on_time]].at_ms;
	if (r->o->trace && r->next_trace_ms < next)
		next = r->next_trace_ms;
	return next > now ? next : now;
}

/* The emulator's BMS decided anew (sim_on_decide): the judge looks at the next tick. Only the
 * first unit's decisions are judged (run_truth_decisions). */
static void on_decide(void *ctx, unsigned unit)
{
	struct run *r = ctx;

	if (unit == 0 && r->judge_on)
		host_lazy_tick_wake(&r->judge);
}

static int end_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	host_loop_stop(loop);
	return 0;
}

/* ---- the control socket: one unit, the scenario's timeline ------------------------------- */

static void ctl_unit(void *ctx, unsigned u, struct sim **sim, unsigned *index)
{
	(void)u;
	*sim = ((struct run *)ctx)->sim;
	*index = 0;
}

static struct timeline *ctl_timeline(void *ctx, unsigned u)
{
	(void)u;
	return &((struct run *)ctx)->tl;
}

static void ctl_judge_json(void *ctx, cJSON *scenario)
{
	const struct run *r = ctx;

	expect_states_json(scenario, r->jd->expect, r->res, r->jd->n_expect);
	/* What an inverter would have read so far: the judge's wire.* record. */
	if (r->inv.frames)
		cJSON_AddItemToObject(scenario, "wire", run_inv_json(&r->inv.wire));
	/* What the rig, as the inverter, last decoded from the DUT: the judge's inv.* record. */
	if (r->inv_rig && rig_inverter_last(r->inv_rig, NULL))
		cJSON_AddItemToObject(scenario, "inv", run_inv_json(rig_inverter_last(r->inv_rig, NULL)));
}

static double ctl_requested_A(void *ctx, unsigned u)
{
	(void)u;
	return ((struct run *)ctx)->requested_A;
}

/* ---- setting up and reporting ------------------------------------------------------------- */

/* Line l's emulator: its units (the `bms` array's on that line, in file order), its protocol's
 * link and baud, on the DUT's transport for that line. */
static rig_rc open_line(struct run *r, unsigned l)
{
	const struct scenario *sc = r->sc;
	const struct bms_spec *spec = scenario_line_spec(sc, l);
	struct sim_cfg cfg;
	char err[300];
	unsigned k;

	memset(&cfg, 0, sizeof cfg);
	cfg.units = 0;
	for (k = 0; k < (sc->n_units ? sc->n_units : 1); k++)
		if (sc->unit_line[k] == l)
			cfg.unit[cfg.units++] = k ? sc->unit[k].unit : sc->bms.unit;
	cfg.link = spec->link;
	cfg.baud = spec->baud;
	cfg.pace = 1;
	if (r->dut_ops->transport)
		cfg.transport = r->dut_ops->transport(r->dut_self, l);
	if (sim_open(&r->line_sim[l], r->loop, &cfg, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "%s: %s%.0u%s%s", sc->path, r->n_lines > 1 ? "line " : "",
		         r->n_lines > 1 ? l + 1 : 0, r->n_lines > 1 ? ": " : "", err);
		return RIG_ERR_ARG;
	}
	r->line_ctx[l] = (struct run_line){ r, l };
	sim_on_frame(r->line_sim[l], on_frame, &r->line_ctx[l]);
	if (r->o->verbose)
		sim_on_drop(r->line_sim[l], on_drop, &r->line_ctx[l]);
	return RIG_OK;
}

/* One emulator per BMS line (a `bms` array's units on one line are a bus: one emulator); the
 * settings and the truth are unit 0's, on line 0. */
static rig_rc open_sim(struct run *r)
{
	const struct scenario *sc = r->sc;
	unsigned i, l;
	struct bms *b;
	rig_rc rc;

	r->n_lines = sc->n_lines ? sc->n_lines : 1;
	for (l = 0; l < r->n_lines; l++)
		if ((rc = open_line(r, l)) != RIG_OK)
			return rc;
	r->sim = r->line_sim[0];
	b = sim_bms_rw(r->sim, 0);
	for (i = 0; i < sc->n_settings; i++)
		(void)scen_setting_apply(&sc->setting[i], b);
	if (sc->n_settings)
		bms_restart(b, sim_model(r->sim, 0));   /* settings take effect as after a power cycle */
	return RIG_OK;
}

/* The DUT's output ended (a process exited). A scenario cannot go on without it; a session
 * ends with it, and judges how it exited. */
static void on_dut_gone(void *ctx)
{
	struct run *r = ctx;

	r->dut_done = 1;
	if (r->sc && !r->rep->error[0])
		snprintf(r->rep->error, sizeof r->rep->error, "the device under test exited at %.3f s",
		         host_loop_now_ms(r->loop) / 1000.0);
	host_loop_stop(r->loop);
}

/* The rig plays the inverter on the DUT's inverter line (dut_ops.inverter). */
static rig_rc open_inverter(struct run *r)
{
	struct rig_io line = { 0 };
	char err[600];

	if (!r->dut_ops->inverter) {
		snprintf(r->rep->error, sizeof r->rep->error,
		         "device under test: %s has no inverter port (the scenario declares an inverter)",
		         r->dut_ops->name);
		return RIG_ERR_ARG;
	}
	r->inv_rig = calloc(1, sizeof *r->inv_rig);
	if (!r->inv_rig) {
		snprintf(r->rep->error, sizeof r->rep->error, "out of memory");
		return RIG_ERR_SPACE;
	}
	if (r->dut_ops->inverter(r->dut_self, &r->jd->inverter, &line, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: inverter port: %s", err);
		return RIG_ERR_IO;
	}
	if (rig_inverter_init(r->inv_rig, &r->jd->inverter, line) != RIG_OK)
		return RIG_ERR_ARG;
	/* The timeline's faults of this line (`"line": "inverter"`); it is set up later, in place. */
	rig_inverter_faults(r->inv_rig, &r->tl.inverter_faults);
	return RIG_OK;
}

/* The rig's inverter on its own timer, finer than the engine's step: its age and a reply's
 * turn-around are then as exact as the DUT's own stepping. */
#define INV_STEP_MS 10u
static int inv_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct run *r = ctx;

	(void)id;
	rig_inverter_step(r->inv_rig, host_loop_now_ms(loop));
	return INV_STEP_MS;
}

static rig_rc open_dut(struct run *r)
{
	static const struct dut_ops *const kinds[] = {
		[DUT_INPROC] = &dut_inproc_ops, [DUT_HOST] = &dut_host_ops,
		[DUT_QEMU] = &dut_qemu_ops, [DUT_SERIAL] = &dut_serial_ops,
	};
	const struct dut_env env = { .spec = &r->o->dut, .cmd = r->o->dut_cmd, .sc = r->sc,
	                             .dut = r->jd ? &r->jd->dut : NULL, .ctx = r, .line = on_dut_line,
	                             .report = on_dut_report,
	                             .gone = on_dut_gone, .quiet_stderr = r->o->dut_quiet,
	                             .grace_ms = r->o->dut_grace_ms };
	char err[600];
	unsigned lines_max;

	r->dut_ops = kinds[r->o->dut.kind];
	lines_max = r->dut_ops->lines_max ? r->dut_ops->lines_max : 1;
	/* Only the bridge reads several lines; a DUT that has none says so before anything runs. */
	if (r->sc && r->sc->n_lines > lines_max) {
		snprintf(r->rep->error, sizeof r->rep->error,
		         "device under test: %s reads %u BMS line%s, the scenario has %u (inproc, host and qemu read %u)",
		         r->dut_ops->name, lines_max, lines_max == 1 ? "" : "s", r->sc->n_lines, SCEN_LINES_MAX);
		return RIG_ERR_ARG;
	}
	if (r->dut_ops->open(&r->dut_self, &env, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %s", err);
		return RIG_ERR_IO;
	}
	return r->jd && r->jd->inverter.on ? open_inverter(r) : RIG_OK;
}

static rig_rc start_dut(struct run *r)
{
	char err[1000];

	if (r->dut_ops->start(r->dut_self, r->loop, r->line_sim, r->n_lines, err, sizeof err) == RIG_OK)
		return RIG_OK;
	if (err[0])
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %s", err);
	return RIG_ERR_IO;
}

static void add_case(struct run_report *rep, const char *name, enum expect_state st, double t_s,
                     const char *message)
{
	struct run_case *c = &rep->cases[rep->n_cases++];

	snprintf(c->name, sizeof c->name, "%s", name);
	c->state = st;
	c->t_s = t_s;
	snprintf(c->message, sizeof c->message, "%s", message);
}

/* The exit status of a DUT process that ended by itself, or -1: it did not, or is no process. */
static int dut_exit_status(const struct run *r)
{
	return r->dut_done && r->dut_ops->status ? r->dut_ops->status(r->dut_self) : -1;
}

static void report(struct run *r, uint32_t end_ms)
{
	struct run_report *rep = r->rep;
	unsigned i, n_expect = r->jd ? r->jd->n_expect : 0;
	int status = dut_exit_status(r);
	char msg[512];

	if (r->jd) {
		expect_finish(r->jd->expect, r->res, n_expect, end_ms);
		expect_publish(r->o->control, r->jd->expect, r->res, r->published, n_expect);
	}
	/* Expectations are the first cases; the wire context of those that failed during the
	 * run is already in place (add_case leaves it). */
	for (i = 0; i < n_expect; i++) {
		add_case(rep, r->jd->expect[i].name, r->res[i].state, r->res[i].t_ms / 1000.0, r->res[i].message);
		if (r->res[i].state == EXPECT_FAILED && !rep->cases[i].wire[0])
			wire_context(r, rep->cases[i].wire, sizeof rep->cases[i].wire);
	}
	snprintf(msg, sizeof msg, "%u telemetry lines", rep->dut_reports);
	add_case(rep, "the device under test reports", rep->dut_reports ? EXPECT_PASSED : EXPECT_FAILED,
	         end_ms / 1000.0, rep->dut_reports ? msg : "no telemetry line in the whole run");
	if (r->tl.errors)
		add_case(rep, "the timeline runs", EXPECT_FAILED, end_ms / 1000.0, r->tl.last_error);
	if (r->verdict_on) {
		verdict_summary(&r->verdict, msg, sizeof msg);
		add_case(rep, "the device under test agrees with the truth",
		         verdict_passed(&r->verdict) ? EXPECT_PASSED : EXPECT_FAILED, end_ms / 1000.0, msg);
	}
	/* A DUT that ended by itself (a session's: a scenario's is an error) ends well or not. */
	if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (WIFEXITED(status))
			snprintf(msg, sizeof msg, "it exited with status %d", WEXITSTATUS(status));
		else
			snprintf(msg, sizeof msg, "it ended (wait status 0x%x)", (unsigned)status);
		add_case(rep, "the device under test exits 0", EXPECT_FAILED, end_ms / 1000.0, msg);
	}
	if (r->o->trace)
		for (i = 0; i < rep->n_cases; i++) {
			cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "verdict");

			cJSON_AddStringToObject(o, "name", rep->cases[i].name);
			cJSON_AddStringToObject(o, "state", rep->cases[i].state == EXPECT_PASSED ? "passed" : "failed");
			cJSON_AddStringToObject(o, "message", rep->cases[i].message);
			run_trace_put(r->o->trace, o);
		}
}

/* ---- the lifecycle -------------------------------------------------------------------------- */

/* A scenario's own loop and emulator, with the engine's timer made before the emulator's step
 * timer, so at each step the load is set first. */
static rig_rc open_world(struct run *r)
{
	const struct scenario *sc = r->sc;
	const struct run_opts *o = r->o;
	struct run_report *rep = r->rep;
	unsigned l;
	rig_rc rc;

	r->owns_world = 1;
	r->loop = o->realtime ? host_loop_new() : host_loop_new_virtual();
	run_progress_start(&r->bar);
	if (r->loop && o->rate > 0 && !o->realtime)
		(void)host_loop_set_rate(r->loop, o->rate);
	if (!r->loop) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		return RIG_ERR_IO;
	}
	if (o->trace) {
		cJSON *t = run_trace_record(host_loop_now_ms(r->loop), "scenario");

		cJSON_AddStringToObject(t, "name", sc->name);
		cJSON_AddStringToObject(t, "path", sc->path);
		cJSON_AddNumberToObject(t, "seed", sc->seed);
		cJSON_AddStringToObject(t, "mode", o->realtime ? "realtime" : "lockstep");
		cJSON_AddStringToObject(t, "dut", dut_kind_name(o->dut.kind));
		cJSON_AddStringToObject(t, "protocol", sc->bms.kind->name);
		run_trace_put(o->trace, t);
	}
	r->lazy = host_loop_is_virtual(r->loop) && !o->control && !o->progress && !r->dut_ops->tick &&
	          !r->dut_ops->relay;
	if (host_lazy_tick_start(&r->engine, r->loop, JUDGE_MS, engine_step, r) != RIG_OK) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		return RIG_ERR_IO;
	}
	if ((rc = open_sim(r)) != RIG_OK)
		return rc;
	run_inv_init(&r->inv, r->sim);
	timeline_init(&r->tl, sc, r->sim);
	for (l = 1; l < r->n_lines; l++)
		timeline_set_line(&r->tl, l, r->line_sim[l]);
	return RIG_OK;
}

rig_rc run_open(struct run **out, const struct run_setup *s, const struct run_opts *o, struct run_report *rep)
{
	struct run *r = calloc(1, sizeof *r);
	rig_rc rc;

	*out = r;
	memset(rep, 0, sizeof *rep);
	snprintf(rep->scenario, sizeof rep->scenario, "%s", s->sc ? s->sc->name : "session");
	snprintf(rep->path, sizeof rep->path, "%s", s->sc ? s->sc->path : "");
	if (!r) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		return RIG_ERR_IO;
	}
	r->sc = s->sc;
	r->jd = s->jd;
	r->o = o;
	r->rep = rep;
	r->unit = s->sc ? 0 : s->unit;
	r->control_unit = s->sc ? 0 : s->control_unit;
	r->duration_ms = s->sc ? s->sc->duration_ms : s->duration_ms;
	r->verdict_on = s->verdict;
	if (s->sc && !s->jd) {
		snprintf(rep->error, sizeof rep->error, "%s: the scenario's judge (its dut and expect sections) is missing",
		         s->sc->path);
		return RIG_ERR_ARG;
	}
	/* Before the clock starts: a board is reset and heard from. */
	if ((rc = open_dut(r)) != RIG_OK)
		return rc;
	if (s->sc) {
		if ((rc = open_world(r)) != RIG_OK)
			return rc;
	} else {
		r->loop = s->loop;
		r->sim = s->sim;
		r->line_sim[0] = s->sim;
		r->n_lines = 1;
		run_progress_start(&r->bar);
	}
	if (r->verdict_on) {
		struct resolution tol = sim_unit_ops(r->sim, r->unit)->resolution;

		/* A current inside the BMS's dead band reads 0 on the wire: as close as a DUT can get. */
		tol.current_mA += sim_bms(r->sim, r->unit)->sensor.current_deadband_mA;
		verdict_init(&r->verdict, &tol);
	}
	if (r->jd) {
		plan_judge(r);
		run_truth_plan(&r->truth, r->jd->expect, r->jd->n_expect);
	}
	sim_on_truth(r->sim, on_truth, r);
	return RIG_OK;
}

rig_rc run_start(struct run *r)
{
	struct run_report *rep = r->rep;
	rig_rc rc;

	/* A session's socket is its caller's, over all its units. */
	if (r->sc && r->o->control) {
		struct control_hooks h = { r, "run", 1, ctl_unit, ctl_timeline, ctl_requested_A, NULL, r->sc,
		                           ctl_judge_json };

		if ((rc = control_attach(r->o->control, r->loop, &h)) != RIG_OK) {
			snprintf(rep->error, sizeof rep->error, "control socket: out of memory");
			return rc;
		}
	}
	if (r->sc)
		(void)engine_step(r, 0);     /* what happens at 0 s happens before the first poll */
	if ((rc = start_dut(r)) != RIG_OK) {
		if (!rep->error[0])
			snprintf(rep->error, sizeof rep->error, "event loop: out of memory");
		return rc;
	}
	/* A session's judge looks at each report as it comes: no step of its own. The rig's
	 * inverter starts once the DUT runs (nothing would hear it before). */
	if ((r->inv_rig && !host_loop_add_timer(r->loop, INV_STEP_MS, inv_tick, r)) ||
	    (r->sc && host_lazy_tick_start(&r->judge, r->loop, JUDGE_MS, judge_step, r) != RIG_OK) ||
	    (r->duration_ms && !host_loop_add_timer(r->loop, r->duration_ms, end_tick, r))) {
		snprintf(rep->error, sizeof rep->error, "event loop: out of memory");
		return RIG_ERR_SPACE;
	}
	r->judge_on = r->sc != NULL;
	r->judged_ms = host_loop_now_ms(r->loop);     /* the judge's ticks count from here */
	if (r->lazy && r->sc)
		sim_on_decide(r->sim, on_decide, r);   /* a lazy judge sleeps until they move */
	return RIG_OK;
}

struct host_loop *run_loop(const struct run *r)
{
	return r->loop;
}

/* The wall time taken, then the DUT stopped (once): before the emulator closes. */
static void stop_dut(struct run *r)
{
	if (r->dut_stopped || !r->loop)
		return;
	r->dut_stopped = 1;
	r->rep->wall_s = run_wall_s() - r->bar.wall0;
	if (r->dut_ops->stop)
		r->dut_ops->stop(r->dut_self);
}

rig_rc run_finish(struct run *r)
{
	struct run_report *rep = r->rep;
	uint32_t end_ms = host_loop_now_ms(r->loop);
	rig_rc rc = RIG_ERR_IO;

	progress(r, 1);
	if (!rep->error[0] && r->sc && end_ms % JUDGE_MS)
		judge(r, end_ms);
	stop_dut(r);
	if (!rep->error[0]) {
		report(r, end_ms);
		rc = RIG_OK;
	}
	rep->sim_s = end_ms / 1000.0;
	if (r->verdict_on) {
		int status = dut_exit_status(r);

		run_show_verdict(&r->verdict, r->o->show_reports && r->o->tty,
		                 status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : -1);
	}
	return rc;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	stop_dut(r);
	if (r->owns_world) {
		if (r->o->control)
			control_detach(r->o->control);
		unsigned l;

		for (l = 0; l < SCEN_LINES_MAX; l++)
			if (r->line_sim[l])
				sim_close(r->line_sim[l]);
		host_loop_free(r->loop);
	} else if (r->sim) {
		sim_on_truth(r->sim, NULL, NULL);
		sim_on_decide(r->sim, NULL, NULL);
	}
	if (r->dut_self)
		r->dut_ops->free(r->dut_self);
	free(r->inv_rig);
	free(r);
}

rig_rc run_scenario(const struct scenario *sc, const struct scenario_judge *jd, const struct run_opts *o,
                    struct run_report *rep)
{
	const struct run_setup setup = { .sc = sc, .jd = jd };
	struct run *r;
	rig_rc rc = run_open(&r, &setup, o, rep);

	if (rc == RIG_OK)
		rc = run_start(r);
	if (rc == RIG_OK) {
		if (host_loop_run(r->loop) != RIG_OK) {
			snprintf(rep->error, sizeof rep->error, "event loop: poll failed");
			rc = RIG_ERR_IO;
		} else {
			rc = run_finish(r);
		}
	}
	run_free(r);
	return rc;
}

int run_passed(const struct run_report *rep)
{
	unsigned i;

	if (rep->error[0])
		return 0;
	for (i = 0; i < rep->n_cases; i++)
		if (rep->cases[i].state != EXPECT_PASSED)
			return 0;
	return 1;
}
