/*
 * The scenario runner (runner.h). One event loop carries everything, on simulated time
 * (lockstep) or on the wall clock (realtime). Timers due at the same moment fire in the order
 * they were made, which fixes the order of one 100 ms step: the scenario engine sets the load,
 * the emulator steps its model and BMS, then the judge looks.
 */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "bmsrig/bms.h"
#include "bmsrig/dut.h"
#include "bmsrig/fw.h"
#include "bmsrig/hil.h"
#include "bmsrig/loop.h"
#include "bmsrig/runner.h"
#include "bmsrig/sim.h"
#include "bmsrig/telemetry.h"
#include "bmsrig/timeline.h"
#include "bmsrig/util_json.h"

#define JUDGE_MS SIM_STEP_MS
#define TRACE_TRUTH_MS 1000u
#define WIRE_RING 8u
#define LINE_BYTES 8192u
#define REQ_SLOTS 32u

/* Bytes from the emulator to the in-process DUT: they are on the line already (the emulator
 * paces them), the DUT reads them when it next steps. */
struct line_queue {
	uint8_t buf[LINE_BYTES];
	size_t head, len;
};

/* A request from the in-process DUT on its way to the emulator. */
struct req_slot {
	struct run *run;
	int used;
	size_t len;
	uint8_t bytes[512];
};

struct wire_note {
	uint32_t t_ms;
	enum personality_dir dir;
	char hex[100];
};

struct run {
	const struct scenario *sc;
	const struct run_opts *o;
	struct run_report *rep;
	struct rig_loop *loop;
	struct sim *sim;
	struct timeline tl;
	/* the device under test */
	struct fw fw;                      /* lockstep */
	struct line_queue to_dut;
	struct req_slot req[REQ_SLOTS];
	struct dut_proc *proc;             /* host, qemu */
	struct rig_serial *bms_port;       /* serial: the port the board's BMS UART is on */
	struct dut_board *board;           /* serial */
	struct dut_report dut;
	int have_dut, fresh_report;
	uint32_t dut_at_ms;
	struct truth_view at_reply;        /* the truth behind the BMS's latest replies, per part */
	uint32_t at_reply_built_ms[3];     /* when the reply behind each part was built */
	struct truth_view seen;            /* at_reply when the latest report arrived */
	/* the judge */
	struct expect_result res[SCEN_EXPECT_MAX];
	unsigned fired[SCEN_EVENTS_MAX], n_fired;
	struct wire_note wire[WIRE_RING];
	unsigned n_wire;
	double requested_A;
	uint32_t next_trace_ms;
	/* progress */
	double wall0, next_draw;
	unsigned judge_calls;
};

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- trace -------------------------------------------------------------------------------- */

static void trace_put(struct run *r, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	if (text) {
		fputs(text, r->o->trace);
		fputc('\n', r->o->trace);
		free(text);
	}
	cJSON_Delete(o);
}

static cJSON *trace_record(const struct run *r, const char *type)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "t_ms", rig_loop_now_ms(r->loop));
	cJSON_AddStringToObject(o, "type", type);
	return o;
}

/* ---- the truth the judge sees ------------------------------------------------------------- */

/* The measured parts a sample carries (pack, cells, temperatures), into a view. */
static void view_take(struct truth_view *v, const struct truth_sample *s)
{
	if (s->parts & TRUTH_PACK) {
		v->pack_mV = s->pack_mV;
		v->current_mA = s->current_mA;
	}
	if (s->parts & TRUTH_CELLS) {
		v->cell_count = s->cell_count;
		memcpy(v->cell_mV, s->cell_mV, sizeof v->cell_mV);
	}
	if (s->parts & TRUTH_TEMPS) {
		v->temp_count = s->temp_count;
		memcpy(v->temp_dK, s->temp_dK, sizeof v->temp_dK);
	}
}

/* The truth now: the emulator's sample of every part, and what no reply carries (the state of
 * charge, the load asked for, the ambient, the BMS's own decisions). */
static void truth_now(const struct run *r, struct truth_view *t)
{
	const struct model *m = sim_model(r->sim, 0);
	const struct bms *b = sim_bms(r->sim, 0);
	struct truth_sample all;
	double soc = 0.0;
	unsigned i;

	memset(t, 0, sizeof *t);
	sim_truth(r->sim, 0, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS, &all);
	view_take(t, &all);
	t->requested_mA = r->requested_A * 1000.0;
	for (i = 0; i < m->cfg.cells; i++) {
		t->cell_soc_pct[i] = model_cell_soc_frac(m, i) * 100.0;
		soc += t->cell_soc_pct[i];
	}
	t->soc_pct = soc / m->cfg.cells;
	t->ambient_dK = PACK_DK_ZERO_C + 10.0 * m->ambient_C;
	t->fet_chg = !!(b->fet & JBD_FET_CHG_ON);
	t->fet_dsg = !!(b->fet & JBD_FET_DSG_ON);
	t->prot = b->prot_bits;            /* already the normalised set */
	t->bal_mask = b->bal_mask;
}

static void trace_truth(struct run *r, const struct truth_view *t)
{
	cJSON *o = trace_record(r, "truth");
	double cells[PACK_CELLS_MAX], temps[PACK_TEMPS_MAX];
	unsigned i;

	for (i = 0; i < t->cell_count; i++)
		cells[i] = round(t->cell_mV[i] * 10.0) / 10.0;
	for (i = 0; i < t->temp_count; i++)
		temps[i] = round(t->temp_dK[i] * 10.0) / 10.0;
	cJSON_AddNumberToObject(o, "pack_mv", round(t->pack_mV));
	cJSON_AddNumberToObject(o, "current_ma", round(t->current_mA));
	cJSON_AddNumberToObject(o, "requested_ma", round(t->requested_mA));
	cJSON_AddNumberToObject(o, "soc_pct", round(t->soc_pct * 100.0) / 100.0);
	cJSON_AddItemToObject(o, "cells_mv", cJSON_CreateDoubleArray(cells, (int)t->cell_count));
	cJSON_AddItemToObject(o, "temps_dk", cJSON_CreateDoubleArray(temps, (int)t->temp_count));
	cJSON_AddNumberToObject(o, "fet_chg", t->fet_chg);
	cJSON_AddNumberToObject(o, "fet_dsg", t->fet_dsg);
	cJSON_AddNumberToObject(o, "prot", t->prot);
	cJSON_AddNumberToObject(o, "bal_mask", t->bal_mask);
	trace_put(r, o);
}

/* Each reply carries some parts of the pack (truth.h); what the DUT reports next combines them,
 * so the truth it is held to is merged the same way. */
static void on_truth(void *ctx, unsigned unit, const struct truth_sample *sample)
{
	struct run *r = ctx;
	struct truth_view now, *v = &r->at_reply;
	unsigned part;

	(void)unit;
	/* A reply that arrives after a newer one (a late reply to an earlier request, which no
	 * client takes any more) does not set the truth back. */
	for (part = 0; part < 3; part++)
		if ((sample->parts & 1u << part) && (int32_t)(sample->t_ms - r->at_reply_built_ms[part]) < 0)
			return;
	for (part = 0; part < 3; part++)
		if (sample->parts & 1u << part)
			r->at_reply_built_ms[part] = sample->t_ms;
	truth_now(r, &now);
	/* The sample is what the BMS measured as it built the reply; the reply may have taken a
	 * while to cross (Bluetooth), so only the rest comes from now. */
	view_take(v, sample);
	if (sample->parts & TRUTH_PACK) {
		v->requested_mA = now.requested_mA;
		v->soc_pct = now.soc_pct;
		memcpy(v->cell_soc_pct, now.cell_soc_pct, sizeof v->cell_soc_pct);
	}
	v->ambient_dK = now.ambient_dK;
	v->fet_chg = now.fet_chg;
	v->fet_dsg = now.fet_dsg;
	v->prot = now.prot;
	v->bal_mask = now.bal_mask;
}

/* ---- what crosses the wire ---------------------------------------------------------------- */

static void on_frame(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct run *r = ctx;
	struct wire_note *w = &r->wire[r->n_wire++ % WIRE_RING];
	size_t i, shown = n > 48 ? 48 : n;

	control_frame(r->o->control, unit, dir, wire, n);
	r->rep->frames++;
	w->t_ms = rig_loop_now_ms(r->loop);
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
		cJSON *o = trace_record(r, "frame"), *hex = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "dir", dir == PERS_RX ? "rx" : "tx");
		json_add_hex(hex, "hex", wire, n);
		cJSON_AddItemToObject(o, "hex", cJSON_DetachItemFromObject(hex, "hex"));
		cJSON_Delete(hex);
		cJSON_AddItemToObject(o, "decoded", sim_unit_ops(r->sim, 0)->wire_json(wire, n));
		trace_put(r, o);
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
	r->seen = r->at_reply;
	r->dut_at_ms = rig_loop_now_ms(r->loop);
	r->rep->dut_reports++;
	control_dut(r->o->control, 0, line + strlen(TELEMETRY_PREFIX));
	if (r->o->verbose)
		fprintf(stderr, "%10.3f %s\n", r->dut_at_ms / 1000.0, line);
	if (r->o->trace) {
		cJSON *o = trace_record(r, "dut");

		cJSON_AddItemToObject(o, "report", cJSON_Parse(line + strlen(TELEMETRY_PREFIX)));
		trace_put(r, o);
	}
}

/* lockstep: the firmware core's HAL */
static uint32_t hal_now(void *ctx) { return rig_loop_now_ms(((struct run *)ctx)->loop); }
static void hal_telemetry(void *ctx, const char *line) { on_dut_line(ctx, line); }

static int32_t dut_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct line_queue *q = &((struct run *)ctx)->to_dut;
	size_t n = q->len < cap ? q->len : cap, i;

	for (i = 0; i < n; i++)
		p[i] = q->buf[(q->head + i) % LINE_BYTES];
	q->head = (q->head + n) % LINE_BYTES;
	q->len -= n;
	return (int32_t)n;
}

static int deliver_request(struct rig_loop *loop, uint32_t id, void *ctx)
{
	struct req_slot *s = ctx;

	(void)loop;
	(void)id;
	sim_input(s->run->sim, s->bytes, s->len);
	s->used = 0;
	return 0;
}

/* A request reaches the BMS once its last byte has crossed the line. */
static int32_t dut_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct run *r = ctx;
	uint32_t ms = sim_wire_ms(r->sim, n);
	unsigned i;

	for (i = 0; i < REQ_SLOTS; i++)
		if (!r->req[i].used)
			break;
	if (i == REQ_SLOTS || n > sizeof r->req[i].bytes)
		return RIG_ERR_SPACE;
	r->req[i] = (struct req_slot){ r, 1, n, { 0 } };
	memcpy(r->req[i].bytes, p, n);
	if (!rig_loop_add_timer(r->loop, ms, deliver_request, &r->req[i])) {
		r->req[i].used = 0;
		return RIG_ERR_SPACE;
	}
	return n;
}

/* lockstep: the emulator's side of the in-memory line */
static int mem_fd(const void *h) { (void)h; return -1; }
static int32_t mem_read(void *h, uint8_t *p, uint16_t cap) { (void)h; (void)p; (void)cap; return 0; }

static int32_t mem_write(void *h, const uint8_t *p, uint16_t n)
{
	struct line_queue *q = &((struct run *)h)->to_dut;
	uint16_t i;

	for (i = 0; i < n && q->len < LINE_BYTES; i++)
		q->buf[(q->head + q->len++) % LINE_BYTES] = p[i];
	return n;
}

static int fw_tick(struct rig_loop *loop, uint32_t id, void *ctx)
{
	struct run *r = ctx;

	(void)id;
	fw_step(&r->fw, rig_loop_now_ms(loop));
	return (int)r->sc->dut.step_ms;
}

/* realtime: the DUT process */
static void on_proc_readable(struct rig_loop *loop, int fd, void *ctx)
{
	struct run *r = ctx;

	if (dut_proc_pump(r->proc, on_dut_line, r)) {
		rig_loop_del_fd(loop, fd);
		if (!r->rep->error[0])
			snprintf(r->rep->error, sizeof r->rep->error, "the device under test exited at %.3f s",
			         rig_loop_now_ms(loop) / 1000.0);
		rig_loop_stop(loop);
	}
}

static void on_console_readable(struct rig_loop *loop, int fd, void *ctx);

/* serial: the board's console. Unplugged, it is closed and tried again from the engine's tick. */
static void on_board_event(void *ctx, const char *what)
{
	struct run *r = ctx;
	int back = !strcmp(what, "back");

	fprintf(stderr, "bmssim run: %s: console %s at %.3f s%s\n", r->o->dut.console,
	        back ? "back" : "lost", rig_loop_now_ms(r->loop) / 1000.0, back ? "" : "; reconnecting");
	if (back)
		(void)rig_loop_add_fd(r->loop, dut_board_fd(r->board), on_console_readable, r);
}

static void on_console_readable(struct rig_loop *loop, int fd, void *ctx)
{
	struct run *r = ctx;

	dut_board_pump(r->board, rig_loop_now_ms(loop), on_dut_line, on_board_event, r);
	if (dut_board_fd(r->board) != fd)
		rig_loop_del_fd(loop, fd);
}

/* ---- the step: engine, then (the emulator's own timer), then judge ------------------------ */

static int engine_tick(struct rig_loop *loop, uint32_t id, void *ctx)
{
	struct run *r = ctx;
	uint32_t now = rig_loop_now_ms(loop);
	const struct model *m = sim_model(r->sim, 0);
	double load, short_A;
	unsigned k, n;

	(void)id;
	if (r->board && dut_board_fd(r->board) < 0)
		dut_board_pump(r->board, now, on_dut_line, on_board_event, r);   /* reconnecting */
	n = timeline_step(&r->tl, now, r->fired + r->n_fired, SCEN_EVENTS_MAX - r->n_fired);
	for (k = 0; k < n && r->o->trace; k++) {
		const struct scen_event *e = &r->sc->event[r->fired[r->n_fired + k]];
		cJSON *o = trace_record(r, "event");

		cJSON_AddStringToObject(o, "do", e->kind == SCEN_EV_WIRE_FAULT ? wire_fault_names[e->fault]
		                                                              : scen_ev_name(e->kind));
		if (e->id[0])
			cJSON_AddStringToObject(o, "id", e->id);
		cJSON_AddNumberToObject(o, "line", e->line);
		trace_put(r, o);
	}
	for (k = 0; k < n; k++)
		control_timeline(r->o->control, r->fired[r->n_fired + k]);
	r->n_fired += n;
	load = timeline_load_A(&r->tl, now, model_pack_V(m));
	short_A = timeline_short_A(&r->tl);
	r->requested_A = load;
	/* A board's relay, read on its sense wire, is what is true about it. */
	if (r->board) {
		int sensed = dut_board_relay(r->board);

		if (sensed >= 0 && r->have_dut)
			r->dut.relay = sensed;
	}
	/* The relay sits between the pack and its load and charger; a short is inside it. */
	if (r->sc->dut.relay_cuts_current && !(r->have_dut && r->dut.relay))
		load = 0.0;
	sim_set_current(r->sim, 0, short_A != 0.0 ? short_A : load);
	return JUDGE_MS;
}

static void progress(struct run *r, int done)
{
	double now = wall_s(), frac, t = rig_loop_now_ms(r->loop) / 1000.0;
	char bar[31];
	int i, fill;

	if (!r->o->progress || (!done && now < r->next_draw))
		return;
	r->next_draw = now + 0.1;
	frac = t / (r->sc->duration_ms / 1000.0);
	fill = (int)(frac * 30.0 + 0.5);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r%-32.32s [%s] %9.1f / %.1f s  %7.0fx", r->sc->name, bar, t,
	        r->sc->duration_ms / 1000.0, now > r->wall0 ? t / (now - r->wall0) : 0.0);
	if (done)
		fprintf(stderr, "\r%*s\r", 90, "");
	fflush(stderr);
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

	truth_now(r, &t);
	env = (struct expect_env){ now / 1000.0, r->have_dut ? &r->dut : NULL, r->rep->dut_reports,
	                           r->have_dut ? (double)(now - r->dut_at_ms) : 1e12, &t };
	env_seen = env;
	env_seen.truth = &r->seen;
	for (i = 0; i < r->sc->n_expect; i++) {
		const struct expect_spec *e = &r->sc->expect[i];
		int per_report = (e->form == EXPECT_ALWAYS || e->form == EXPECT_NEVER) && e->that.uses_dut;

		if (per_report && !r->fresh_report)
			continue;
		failed += expect_step(e, &r->res[i], 1, now, per_report ? &env_seen : &env, r->fired, r->n_fired);
	}
	control_expects(r->o->control);
	r->fresh_report = 0;
	r->n_fired = 0;
	if (failed)
		for (i = 0; i < r->sc->n_expect; i++)
			if (r->res[i].state == EXPECT_FAILED && r->res[i].t_ms == now &&
			    !r->rep->cases[i].wire[0])
				wire_context(r, r->rep->cases[i].wire, sizeof r->rep->cases[i].wire);
	if (r->o->trace && now >= r->next_trace_ms) {
		r->next_trace_ms = now + TRACE_TRUTH_MS;
		trace_truth(r, &t);
	}
	if ((++r->judge_calls & 15u) == 0)
		progress(r, 0);
}

static int judge_tick(struct rig_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	judge(ctx, rig_loop_now_ms(loop));
	return JUDGE_MS;
}

static int end_tick(struct rig_loop *loop, uint32_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	rig_loop_stop(loop);
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

static double ctl_requested_A(void *ctx, unsigned u)
{
	(void)u;
	return ((struct run *)ctx)->requested_A;
}

/* ---- setting up and reporting ------------------------------------------------------------- */

/* The virtual NodeMCU's wrapper: firmware/port/qemu-lx106/bmsmon-qemu of the tree this program
 * was built in (it lives in build/bin or build/asan/bin), found by walking up. */
static int find_qemu_wrapper(const char *dir, char *out, size_t cap)
{
	char up[4096];
	int level;

	snprintf(up, sizeof up, "%s", dir);
	for (level = 0; level < 4; level++) {
		if ((size_t)snprintf(out, cap, "%s/firmware/port/qemu-lx106/bmsmon-qemu", up) < cap &&
		    access(out, X_OK) == 0)
			return 1;
		if (strlen(up) + 4 >= sizeof up)
			break;
		strcat(up, "/..");
	}
	return 0;
}

/* bmsmon beside this program (or the virtual NodeMCU), with the scenario's DUT settings as
 * flags. Returns 0 with why in out when the program is not there. */
static int default_dut_cmd(const struct scenario *sc, enum dut_kind kind, char *out, size_t cap)
{
	const struct fw_cfg *f = &sc->dut.fw;
	char self[4096] = "", prog[4600];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *dir = ".";

	if (n > 0) {
		self[n] = 0;
		dir = dirname(self);
	}
	if (kind == DUT_QEMU) {
		if (!find_qemu_wrapper(dir, prog, sizeof prog)) {
			snprintf(out, cap, "firmware/port/qemu-lx106/bmsmon-qemu not found above %s", dir);
			return 0;
		}
	} else {
		snprintf(prog, sizeof prog, "%s/bmsmon", dir);
	}
	snprintf(out, cap,
	         "'%s' --port {port} --proto %s --poll-ms %u --timeout-ms %u --retries %u --address %u "
	         "--cell-max-mv %u --cell-min-mv %u --cell-hyst-mv %u --temp-max-dk %u --temp-min-dk %u "
	         "--temp-hyst-dk %u --silent-polls %u%s -q",
	         prog, fw_protos[f->proto].name, f->client.poll_ms, f->client.timeout_ms, f->client.retries,
	         f->client.address,
	         f->policy.cell_max_mV, f->policy.cell_min_mV, f->policy.cell_hyst_mV, f->policy.temp_max_dK,
	         f->policy.temp_min_dK, f->policy.temp_hyst_dK, f->policy.comm_fail_max,
	         f->policy_drives_fets ? " --policy-fets" : "");
	return 1;
}

/* serial: the board's BMS port, served by the emulator through the runner, which keeps it to
 * read the relay line and, when the console shares the port, to take the telemetry out. */
static int ser_fd(const void *h) { return rig_serial_fd(((const struct run *)h)->bms_port); }
static int32_t ser_write(void *h, const uint8_t *p, uint16_t n) { return rig_serial_write(((struct run *)h)->bms_port, p, n); }

static int32_t ser_read(void *h, uint8_t *p, uint16_t cap)
{
	struct run *r = h;
	uint8_t raw[512];
	int32_t n = rig_serial_read(r->bms_port, raw,
	                            cap < sizeof raw ? cap : sizeof raw);

	if (n <= 0 || r->o->dut.console[0]) {
		if (n > 0)
			memcpy(p, raw, (size_t)n);
		return n;
	}
	return (int32_t)dut_board_demux(r->board, raw, (size_t)n, p, cap, on_dut_line, r);
}

static rig_rc open_board(struct run *r)
{
	const struct dut_spec *d = &r->o->dut;
	const struct personality_ops *ops = r->sc->bms.unit.ops;
	uint32_t baud = r->sc->bms.baud ? r->sc->bms.baud : ops->baud;
	char err[600];

	if (rig_serial_open(&r->bms_port, d->bms_port, baud, err, sizeof err) != RIG_OK ||
	    dut_board_open(&r->board, d, r->bms_port, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %s", err);
		return RIG_ERR_IO;
	}
	return RIG_OK;
}

static rig_rc open_sim(struct run *r, struct sim_transport *mem)
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
	if (r->o->dut.kind == DUT_INPROC) {
		*mem = (struct sim_transport){ r, mem_fd, mem_read, mem_write, NULL, NULL, "in-process" };
		cfg.transport = mem;
	} else if (r->o->dut.kind == DUT_SERIAL) {
		*mem = (struct sim_transport){ r, ser_fd, ser_read, ser_write, NULL, NULL, r->o->dut.bms_port };
		cfg.transport = mem;
	}
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

static rig_rc start_dut(struct run *r)
{
	char cmd[8192], err[300];

	if (r->o->dut.kind == DUT_SERIAL)
		return dut_board_fd(r->board) < 0 ? RIG_OK
		       : rig_loop_add_fd(r->loop, dut_board_fd(r->board), on_console_readable, r);
	if (r->o->dut.kind == DUT_INPROC) {
		struct fw_hal hal = { { r, dut_write, dut_read }, r, hal_now, NULL, hal_telemetry, NULL };

		fw_init(&r->fw, &hal, &r->sc->dut.fw);
		return rig_loop_add_timer(r->loop, r->sc->dut.step_ms, fw_tick, r) ? RIG_OK : RIG_ERR_SPACE;
	}
	if (r->o->dut_cmd) {
		snprintf(cmd, sizeof cmd, "%s", r->o->dut_cmd);
	} else if (!default_dut_cmd(r->sc, r->o->dut.kind, cmd, sizeof cmd)) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %.900s", cmd);
		return RIG_ERR_IO;
	}
	if (dut_proc_start(&r->proc, cmd, sim_port(r->sim), 0, err, sizeof err) != RIG_OK) {
		snprintf(r->rep->error, sizeof r->rep->error, "device under test: %s", err);
		return RIG_ERR_IO;
	}
	return rig_loop_add_fd(r->loop, dut_proc_fd(r->proc), on_proc_readable, r);
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

	expect_finish(r->sc->expect, r->res, r->sc->n_expect, end_ms);
	control_expects(r->o->control);
	/* Expectations are the first cases; the wire context of those that failed during the
	 * run is already in place (add_case leaves it). */
	for (i = 0; i < r->sc->n_expect; i++) {
		add_case(rep, r->sc->expect[i].name, r->res[i].state, r->res[i].t_ms / 1000.0, r->res[i].message);
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
			cJSON *o = trace_record(r, "verdict");

			cJSON_AddStringToObject(o, "name", rep->cases[i].name);
			cJSON_AddStringToObject(o, "state", rep->cases[i].state == EXPECT_PASSED ? "passed" : "failed");
			cJSON_AddStringToObject(o, "message", rep->cases[i].message);
			trace_put(r, o);
		}
}

rig_rc run_scenario(const struct scenario *sc, const struct run_opts *o, struct run_report *rep)
{
	struct run *r = calloc(1, sizeof *r);
	struct sim_transport mem;
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
	r->o = o;
	r->rep = rep;
	/* A board is reset and heard from before the clock starts. */
	if (o->dut.kind == DUT_SERIAL && open_board(r) != RIG_OK) {
		rc = RIG_ERR_IO;
		r->loop = NULL;
		goto fail;
	}
	r->loop = o->realtime ? rig_loop_new() : rig_loop_new_virtual();
	r->wall0 = wall_s();
	if (r->loop && o->rate > 0 && !o->realtime)
		(void)rig_loop_set_rate(r->loop, o->rate);
	if (!r->loop) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		free(r);
		return RIG_ERR_IO;
	}
	if (o->trace) {
		cJSON *t = trace_record(r, "scenario");

		cJSON_AddStringToObject(t, "name", sc->name);
		cJSON_AddStringToObject(t, "path", sc->path);
		cJSON_AddNumberToObject(t, "seed", sc->seed);
		cJSON_AddStringToObject(t, "mode", o->realtime ? "realtime" : "lockstep");
		cJSON_AddStringToObject(t, "dut", dut_kind_name(o->dut.kind));
		cJSON_AddStringToObject(t, "protocol", sc->bms.kind->name);
		trace_put(r, t);
	}
	/* Made before the emulator's step timer, so at each step the load is set first. */
	if (!rig_loop_add_timer(r->loop, JUDGE_MS, engine_tick, r)) {
		snprintf(rep->error, sizeof rep->error, "out of memory");
		goto out;
	}
	if ((rc = open_sim(r, &mem)) != RIG_OK)
		goto out;
	sim_on_frame(r->sim, on_frame, r);
	sim_on_truth(r->sim, on_truth, r);
	timeline_init(&r->tl, sc, r->sim);
	if (o->control) {
		struct control_hooks h = { r, "run", 1, ctl_unit, ctl_timeline, ctl_requested_A, NULL, sc, r->res };

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
	if (!rig_loop_add_timer(r->loop, JUDGE_MS, judge_tick, r) ||
	    !rig_loop_add_timer(r->loop, sc->duration_ms, end_tick, r)) {
		snprintf(rep->error, sizeof rep->error, "event loop: out of memory");
		rc = RIG_ERR_SPACE;
		goto out;
	}
	if (rig_loop_run(r->loop) != RIG_OK) {
		snprintf(rep->error, sizeof rep->error, "event loop: poll failed");
		rc = RIG_ERR_IO;
		goto out;
	}
	end_ms = rig_loop_now_ms(r->loop);
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
	rep->wall_s = wall_s() - r->wall0;
	if (r->proc) {
		rig_loop_del_fd(r->loop, dut_proc_fd(r->proc));
		(void)dut_proc_stop(r->proc, 500);
		dut_proc_free(r->proc);
	}
	if (o->control)
		control_detach(o->control);
	if (r->sim)
		sim_close(r->sim);
	rig_loop_free(r->loop);
fail:
	dut_board_close(r->board);
	rig_serial_close(r->bms_port);
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
