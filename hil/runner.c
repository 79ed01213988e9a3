/*
 * The scenario runner (runner.h). One event loop carries everything, on simulated time
 * (lockstep) or on the wall clock (realtime). Timers due at the same moment fire in the order
 * they were made, which fixes the order of one 100 ms step: the scenario engine sets the load,
 * the emulator steps its model and BMS, then the judge looks.
 *
 * It composes: the device under test through its table (dut.h, hil/dut_<kind>.c), the
 * emulator (sim.h) on the DUT's transport, the timeline, the judge (expect.h), and its own parts
 * (run_parts.h): the truth behind the replies, the trace, the progress bar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/hil/hil.h"
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

struct wire_note {
	uint32_t t_ms;
	enum personality_dir dir;
	char hex[100];
};

struct run {
	const struct scenario *sc;         /* the world */
	const struct scenario_judge *jd;   /* the DUT's settings and the expectations */
	const struct run_opts *o;
	struct run_report *rep;
	struct host_loop *loop;
	struct sim *sim;
	struct timeline tl;
	/* the device under test: the runner calls only its table */
	const struct dut_ops *dut_ops;
	void *dut_self;
	struct dut_report dut;
	int have_dut, fresh_report;
	uint32_t dut_at_ms;
	struct run_truth truth;            /* behind the BMS's latest replies, per part */
	struct truth_view seen;            /* truth.at_reply when the latest report arrived */
	/* the judge */
	struct expect_result res[SCEN_EXPECT_MAX];
	enum expect_state published[SCEN_EXPECT_MAX];   /* on the control socket */
	unsigned fired[SCEN_EVENTS_MAX], n_fired;
	struct wire_note wire[WIRE_RING];
	unsigned n_wire;
	double requested_A;
	uint32_t next_trace_ms;
	/* progress */
	struct run_progress bar;
	unsigned judge_calls;
};

/* ---- the truth ------------------------------------------------------------------------------ */

static void on_truth(void *ctx, unsigned unit, const struct truth_sample *sample)
{
	struct run *r = ctx;

	(void)unit;
	run_truth_reply(&r->truth, r->sim, r->requested_A, sample);
}

/* ---- what crosses the wire ---------------------------------------------------------------- */

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct run *r = ctx;
	struct wire_note *w = &r->wire[r->n_wire++ % WIRE_RING];
	size_t i, shown = n > 48 ? 48 : n;

	control_frame(r->o->control, unit, dir, wire, n);
	r->rep->frames++;
	w->t_ms = host_loop_now_ms(r->loop);
	w->dir = dir;
	/* Every frame of a long run passes here: no printf. */
	for (i = 0; i < shown; i++) {
		w->hex[2 * i] = "0123456789ABCDEF"[wire[i] >> 4];
		w->hex[2 * i + 1] = "0123456789ABCDEF"[wire[i] & 15];
	}
	memcpy(w->hex + 2 * shown, shown < n ? "..." : "", shown < n ? 4 : 1);
	if (r->o->verbose)
		fprintf(stderr, "%10.3f %s %s\n", w->t_ms / 1000.0, dir == PERS_RX ? "rx" : "tx", w->hex);
	if (r->o->trace) {
		cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "frame"), *hex = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "dir", dir == PERS_RX ? "rx" : "tx");
		json_add_hex(hex, "hex", wire, n);
		cJSON_AddItemToObject(o, "hex", cJSON_DetachItemFromObject(hex, "hex"));
		cJSON_Delete(hex);
		cJSON_AddItemToObject(o, "decoded", sim_unit_ops(r->sim, 0)->wire_json(wire, n));
		run_trace_put(r->o->trace, o);
	}
}

/* The last frames, oldest first, one per line. */
static void wire_context(const struct run *r, char *out, size_t cap)
{
	unsigned n = r->n_wire < WIRE_RING ? r->n_wire : WIRE_RING, k;
	size_t used = 0;

	out[0] = 0;
	for (k = 0; k < n && used < cap; k++) {
		const struct wire_note *w = &r->wire[(r->n_wire - n + k) % WIRE_RING];
		int m = snprintf(out + used, cap - used, "%s%.3f s %s %s", k ? "\n" : "", w->t_ms / 1000.0,
		                 w->dir == PERS_RX ? "rx" : "tx", w->hex);

		if (m < 0)
			break;
		used += (size_t)m;
	}
}

/* ---- the device under test's reports ------------------------------------------------------ */

static void on_dut_line(void *ctx, const char *line)
{
	struct run *r = ctx;
	struct dut_report d;
	char err[160];

	if (dut_report_parse(line, &d, err, sizeof err) != RIG_OK)
		return;
	r->dut = d;
	r->have_dut = 1;
	r->fresh_report = 1;
	r->seen = r->truth.at_reply;
	r->dut_at_ms = host_loop_now_ms(r->loop);
	r->rep->dut_reports++;
	control_dut(r->o->control, 0, line + strlen(TELEMETRY_PREFIX));
	if (r->o->verbose)
		fprintf(stderr, "%10.3f %s\n", r->dut_at_ms / 1000.0, line);
	if (r->o->trace) {
		cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "dut");

		cJSON_AddItemToObject(o, "report", cJSON_Parse(line + strlen(TELEMETRY_PREFIX)));
		run_trace_put(r->o->trace, o);
	}
}

/* ---- the step: engine, then (the emulator's own timer), then judge ------------------------ */

static int engine_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct run *r = ctx;
	uint32_t now = host_loop_now_ms(loop);
	const struct model *m = sim_model(r->sim, 0);
	double load, short_A;
	unsigned k, n;

	(void)id;
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
	sim_set_current(r->sim, 0, short_A != 0.0 ? short_A : load);
	return JUDGE_MS;
}

static void progress(struct run *r, int done)
{
	if (r->o->progress)
		run_progress_draw(&r->bar, r->sc->name, host_loop_now_ms(r->loop), r->sc->duration_ms, done);
}

/*
 * A report describes the pack as it was when the BMS answered, up to a poll period ago, so an
 * `always` or `never` over dut.* is judged once per fresh report against the truth behind the
 * replies it came from: a load that just changed is not a DUT error. Everything else is judged
 * every step against the truth now (a relay must open in time, whatever the last report said).
 */
static void judge(struct run *r, uint32_t now)
{
	struct truth_view t;
	struct expect_env env, env_seen;
	unsigned failed = 0, i;

	run_truth_now(r->sim, r->requested_A, &t);
	env = (struct expect_env){ now / 1000.0, r->have_dut ? &r->dut : NULL, r->rep->dut_reports,
	                           r->have_dut ? (double)(now - r->dut_at_ms) : 1e12, &t };
	env_seen = env;
	env_seen.truth = &r->seen;
	for (i = 0; i < r->jd->n_expect; i++) {
		const struct expect_spec *e = &r->jd->expect[i];
		int per_report = (e->form == EXPECT_ALWAYS || e->form == EXPECT_NEVER) && e->that.uses_dut;

		if (per_report && !r->fresh_report)
			continue;
		failed += expect_step(e, &r->res[i], 1, now, per_report ? &env_seen : &env, r->fired, r->n_fired);
	}
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
		run_trace_truth(r->o->trace, now, &t);
	}
	if ((++r->judge_calls & 15u) == 0)
		progress(r, 0);
}

static int judge_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	judge(ctx, host_loop_now_ms(loop));
	return JUDGE_MS;
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
}

static double ctl_requested_A(void *ctx, unsigned u)
{
	(void)u;
	return ((struct run *)ctx)->requested_A;
}

/* ---- setting up and reporting ------------------------------------------------------------- */

static rig_rc open_sim(struct run *r)
{
	const struct scenario *sc = r->sc;
	struct sim_cfg cfg;
	struct bms *b;
	char err[300];
	unsigned i;

	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = sc->bms.unit;
	cfg.units = 1;
	cfg.link = sc->bms.link;
	cfg.baud = sc->bms.baud;
	cfg.pace = 1;
	if (r->dut_ops->transport)
		cfg.transport = r->dut_ops->transport(r->dut_self);
	if (sim_open(&r->sim, r->loop, &cfg, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "%s: %s", sc->path, err);
		return RIG_ERR_ARG;
	}
	b = sim_bms_rw(r->sim, 0);
	for (i = 0; i < sc->n_settings; i++)
		(void)scen_setting_apply(&sc->setting[i], b);
	if (sc->n_settings)
		bms_restart(b, sim_model(r->sim, 0));   /* settings take effect as after a power cycle */
	return RIG_OK;
}

/* The DUT's output ended (a process exited): the run cannot go on. */
static void on_dut_gone(void *ctx)
{
	struct run *r = ctx;

	if (!r->rep->error[0])
		snprintf(r->rep->error, sizeof r->rep->error, "the device under test exited at %.3f s",
		         host_loop_now_ms(r->loop) / 1000.0);
	host_loop_stop(r->loop);
}

static rig_rc open_dut(struct run *r)
{
	static const struct dut_ops *const kinds[] = {
		[DUT_INPROC] = &dut_inproc_ops, [DUT_HOST] = &dut_host_ops,
		[DUT_QEMU] = &dut_qemu_ops, [DUT_SERIAL] = &dut_serial_ops,
	};
	const struct dut_env env = { .spec = &r->o->dut, .cmd = r->o->dut_cmd, .sc = r->sc, .dut = &r->jd->dut,
	                             .ctx = r, .line = on_dut_line, .gone = on_dut_gone };
	char err[600];

	r->dut_ops = kinds[r->o->dut.kind];
	if (r->dut_ops->open(&r->dut_self, &env, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %s", err);
		return RIG_ERR_IO;
	}
	return RIG_OK;
}

static rig_rc start_dut(struct run *r)
{
	char err[1000];

	if (r->dut_ops->start(r->dut_self, r->loop, r->sim, err, sizeof err) == RIG_OK)
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

static void report(struct run *r, uint32_t end_ms)
{
	struct run_report *rep = r->rep;
	unsigned i;
	char msg[512];

	expect_finish(r->jd->expect, r->res, r->jd->n_expect, end_ms);
	expect_publish(r->o->control, r->jd->expect, r->res, r->published, r->jd->n_expect);
	/* Expectations are the first cases; the wire context of those that failed during the
	 * run is already in place (add_case leaves it). */
	for (i = 0; i < r->jd->n_expect; i++) {
		add_case(rep, r->jd->expect[i].name, r->res[i].state, r->res[i].t_ms / 1000.0, r->res[i].message);
		if (r->res[i].state == EXPECT_FAILED && !rep->cases[i].wire[0])
			wire_context(r, rep->cases[i].wire, sizeof rep->cases[i].wire);
	}
	snprintf(msg, sizeof msg, "%u telemetry lines", rep->dut_reports);
	add_case(rep, "the device under test reports", rep->dut_reports ? EXPECT_PASSED : EXPECT_FAILED,
	         end_ms / 1000.0, rep->dut_reports ? msg : "no telemetry line in the whole run");
	if (r->tl.errors)
		add_case(rep, "the timeline runs", EXPECT_FAILED, end_ms / 1000.0, r->tl.last_error);
	if (r->o->trace)
		for (i = 0; i < rep->n_cases; i++) {
			cJSON *o = run_trace_record(host_loop_now_ms(r->loop), "verdict");

			cJSON_AddStringToObject(o, "name", rep->cases[i].name);
			cJSON_AddStringToObject(o, "state", rep->cases[i].state == EXPECT_PASSED ? "passed" : "failed");
			cJSON_AddStringToObject(o, "message", rep->cases[i].message);
			run_trace_put(r->o->trace, o);
		}
}

rig_rc run_scenario(const struct scenario *sc, const struct scenario_judge *jd, const struct run_opts *o,
                    struct run_report *rep)
{
	struct run *r = calloc(1, sizeof *r);
	rig_rc rc = RIG_ERR_IO;
	uint32_t end_ms;

	memset(rep, 0, sizeof *rep);
	snprintf(rep->scenario, sizeof rep->scenario, "%s", sc->name);
	snprintf(rep->path, sizeof rep->path, "%s", sc->path);
	if (!r) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		return RIG_ERR_IO;
	}
	r->sc = sc;
	r->jd = jd;
	r->o = o;
	r->rep = rep;
	/* Before the clock starts: a board is reset and heard from. */
	if (open_dut(r) != RIG_OK) {
		rc = RIG_ERR_IO;
		goto fail;
	}
	r->loop = o->realtime ? host_loop_new() : host_loop_new_virtual();
	run_progress_start(&r->bar);
	if (r->loop && o->rate > 0 && !o->realtime)
		(void)host_loop_set_rate(r->loop, o->rate);
	if (!r->loop) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		goto fail;
	}
	if (o->trace) {
		cJSON *t = run_trace_record(host_loop_now_ms(r->loop), "scenario");

		cJSON_AddStringToObject(t, "name", sc->name);
		cJSON_AddStringToObject(t, "path", sc->path);
		cJSON_AddNumberToObject(t, "seed", sc->seed);
		cJSON_AddStringToObject(t, "mode", o->realtime ? "realtime" : "lockstep");
		cJSON_AddStringToObject(t, "dut", dut_kind_name(o->dut.kind));
		cJSON_AddStringToObject(t, "protocol", sc->bms.kind->name);
		run_trace_put(r->o->trace, t);
	}
	/* Made before the emulator's step timer, so at each step the load is set first. */
	if (!host_loop_add_timer(r->loop, JUDGE_MS, engine_tick, r)) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		goto out;
	}
	if ((rc = open_sim(r)) != RIG_OK)
		goto out;
	sim_on_frame(r->sim, on_frame, r);
	sim_on_truth(r->sim, on_truth, r);
	timeline_init(&r->tl, sc, r->sim);
	if (o->control) {
		struct control_hooks h = { r, "run", 1, ctl_unit, ctl_timeline, ctl_requested_A, NULL, sc, ctl_judge_json };

		if ((rc = control_attach(o->control, r->loop, &h)) != RIG_OK) {
			snprintf(rep->error, sizeof rep->error, "control socket: out of memory");
			goto out;
		}
	}
	(void)engine_tick(r->loop, 0, r);     /* what happens at 0 s happens before the first poll */
	if ((rc = start_dut(r)) != RIG_OK) {
		if (!rep->error[0])
			snprintf(rep->error, sizeof rep->error, "event loop: out of memory");
		goto out;
	}
	if (!host_loop_add_timer(r->loop, JUDGE_MS, judge_tick, r) ||
	    !host_loop_add_timer(r->loop, sc->duration_ms, end_tick, r)) {
		snprintf(rep->error, sizeof rep->error, "event loop: out of memory");
		rc = RIG_ERR_SPACE;
		goto out;
	}
	if (host_loop_run(r->loop) != RIG_OK) {
		snprintf(rep->error, sizeof rep->error, "event loop: poll failed");
		rc = RIG_ERR_IO;
		goto out;
	}
	end_ms = host_loop_now_ms(r->loop);
	progress(r, 1);
	if (!rep->error[0]) {
		if (end_ms % JUDGE_MS)
			judge(r, end_ms);
		report(r, end_ms);
		rc = RIG_OK;
	} else {
		rc = RIG_ERR_IO;
	}
	rep->sim_s = end_ms / 1000.0;
out:
	rep->wall_s = run_wall_s() - r->bar.wall0;
	if (r->dut_ops->stop)
		r->dut_ops->stop(r->dut_self);
	if (o->control)
		control_detach(o->control);
	if (r->sim)
		sim_close(r->sim);
	host_loop_free(r->loop);
fail:
	if (r->dut_self)
		r->dut_ops->free(r->dut_self);
	free(r);
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
