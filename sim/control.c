/*
 * The control socket (control.h). Requests are read through a table of commands, each with
 * the keys it takes; replies and events are JSON lines written without blocking. A client's
 * output waits in its own buffer while the socket is full: events are dropped once that holds
 * CONTROL_EVENTS_MAX bytes, replies only when it would pass CONTROL_OUT_MAX, and then the
 * client is cut off instead. Clients closed inside a callback are freed once no callback of
 * this server is running, so no caller up the stack is left holding a freed client.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/sim/control.h"
#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/path_check.h"
#include "bmsrig/lib/util_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define GOT_MAX 40u
#define ACCEPTS_PER_CALL 32
#define READS_PER_CALL 16
#define STEP_MS_MAX 3600000.0
#define RATE_MIN 0.1
#define RATE_MAX 1000.0
#define STATE_MS_MIN 50.0
#define STATE_MS_MAX 60000.0

struct client {
	struct control *ctl;
	int fd, closed;
	int eof;                         /* sent all it will: closed once its replies are out */
	char in[CONTROL_LINE_MAX + 1];   /* a whole line and its newline */
	size_t in_len;
	int skipping;                    /* the rest of a refused over-long line */
	char *out;
	size_t out_len, out_cap;
	int subscribed, frames;
	uint32_t state_ms, state_timer;
	unsigned dropped;                /* events lost to a full buffer */
	struct client *next;
};

struct control {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	dev_t dev;
	ino_t ino;
	struct host_loop *loop;           /* NULL while detached */
	struct control_hooks h;
	struct client *clients;
	unsigned busy;                   /* callbacks of ours running */
	char **dut;                      /* per unit: the last telemetry object's text */
	int kept, kept_paused;           /* the clock the clients left, for the next loop */
	double kept_rate;
};

/* ---- output -------------------------------------------------------------------------------- */

static void on_writable(struct host_loop *loop, int fd, void *ctx);

static void client_close(struct client *cl)
{
	struct control *c = cl->ctl;

	if (cl->closed)
		return;
	cl->closed = 1;
	if (c->loop) {
		host_loop_del_fd(c->loop, cl->fd);
		if (cl->state_timer)
			host_loop_del_timer(c->loop, cl->state_timer);
	}
	cl->state_timer = 0;
	close(cl->fd);
	cl->fd = -1;
}

static void reap(struct control *c)
{
	struct client **pp = &c->clients;

	if (c->busy)
		return;
	while (*pp) {
		struct client *cl = *pp;

		if (!cl->closed) {
			pp = &cl->next;
			continue;
		}
		*pp = cl->next;
		free(cl->out);
		free(cl);
	}
}

static void flush(struct client *cl)
{
	size_t done = 0;

	while (done < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + done, cl->out_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			client_close(cl);
			return;
		}
	}
	memmove(cl->out, cl->out + done, cl->out_len - done);
	cl->out_len -= done;
	if (cl->eof && !cl->out_len) {
		client_close(cl);
		return;
	}
	if (cl->ctl->loop)
		(void)host_loop_fd_writable(cl->ctl->loop, cl->fd, cl->out_len ? on_writable : NULL);
}

/* One line to cl: a reply is always kept (or the client goes), an event only while there is
 * room for it. */
static void put(struct client *cl, const char *text, size_t len, int reply)
{
	size_t need = cl->out_len + len + 1;

	if (cl->closed)
		return;
	if (!reply && need > CONTROL_EVENTS_MAX) {
		cl->dropped++;
		return;
	}
	if (need > CONTROL_OUT_MAX) {
		client_close(cl);
		return;
	}
	if (need > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		if (!(p = realloc(cl->out, cap))) {
			client_close(cl);
			return;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, text, len);
	cl->out[cl->out_len + len] = '\n';
	cl->out_len = need;
	flush(cl);
}

static void put_json(struct client *cl, const cJSON *o, int reply)
{
	char *text = cJSON_PrintUnformatted(o);

	if (text)
		put(cl, text, strlen(text), reply);
	else if (reply)
		client_close(cl);
	free(text);
}

/* An event to every subscribed client (with frames, when frames_only). */
static void broadcast(struct control *c, const cJSON *o, int frames_only)
{
	struct client *cl;
	char *text = NULL;

	for (cl = c->clients; cl; cl = cl->next) {
		if (cl->closed || !cl->subscribed || (frames_only && !cl->frames))
			continue;
		if (!text && !(text = cJSON_PrintUnformatted(o)))
			return;
		put(cl, text, strlen(text), 0);
	}
	free(text);
}

static int subscribers(const struct control *c, int frames_only)
{
	const struct client *cl;

	for (cl = c->clients; cl; cl = cl->next)
		if (!cl->closed && cl->subscribed && (!frames_only || cl->frames))
			return 1;
	return 0;
}

/* ---- the state ------------------------------------------------------------------------------ */

static double r1(double x) { return round(x * 10.0) / 10.0; }
static double r2(double x) { return round(x * 100.0) / 100.0; }

static void add_doubles(cJSON *o, const char *key, const double *v, unsigned n)
{
	cJSON_AddItemToObject(o, key, cJSON_CreateDoubleArray(v, (int)n));
}

static cJSON *truth_json(const struct control *c, unsigned u, const struct sim *s, unsigned i)
{
	const struct model *m = sim_model(s, i);
	double cells[MODEL_CELLS_MAX], socs[MODEL_CELLS_MAX], temps[MODEL_NTC_MAX], soc = 0.0;
	double requested = c->h.requested_A ? c->h.requested_A(c->h.ctx, u) : sim_current(s, i);
	cJSON *o = cJSON_CreateObject();
	unsigned k;

	for (k = 0; k < m->cfg.cells; k++) {
		cells[k] = r1(model_cell_V(m, k) * 1000.0);
		socs[k] = model_cell_soc_frac(m, k) * 100.0;
		soc += socs[k];
		socs[k] = r2(socs[k]);
	}
	for (k = 0; k < m->cfg.ntc_count; k++)
		temps[k] = r1(PACK_DK_ZERO_C + 10.0 * model_temp_C(m, k));
	cJSON_AddNumberToObject(o, "pack_mv", r1(model_pack_V(m) * 1000.0));
	cJSON_AddNumberToObject(o, "current_ma", r1(m->pack_I_A * 1000.0));
	cJSON_AddNumberToObject(o, "requested_ma", r1(requested * 1000.0));
	cJSON_AddNumberToObject(o, "soc_pct", r2(m->cfg.cells ? soc / m->cfg.cells : 0.0));
	add_doubles(o, "cells_mv", cells, m->cfg.cells);
	add_doubles(o, "cell_soc_pct", socs, m->cfg.cells);
	add_doubles(o, "temps_dk", temps, m->cfg.ntc_count);
	cJSON_AddNumberToObject(o, "ambient_dk", r1(PACK_DK_ZERO_C + 10.0 * m->ambient_C));
	return o;
}

static cJSON *bms_json(const struct sim *s, unsigned i)
{
	const struct model *m = sim_model(s, i);
	const struct bms *b = sim_bms(s, i);
	const struct json_num nums[] = {
		{ "pack_mv", b->meas.pack_mV }, { "current_ma", b->meas.current_mA }, { "soc_pct", bms_soc_pct(b) },
		{ "fet_chg", !!(b->fet & BMS_FET_CHG) }, { "fet_dsg", !!(b->fet & BMS_FET_DSG) },
		{ "prot", b->prot_bits }, { "bal_mask", b->bal_mask },
	};
	cJSON *o = cJSON_CreateObject();

	json_add_u16_array(o, "cells_mv", b->meas.cell_mV, m->cfg.cells);
	json_add_u16_array(o, "temps_dk", b->meas.probe_dK, m->cfg.ntc_count);
	json_add_nums(o, nums, N_OF(nums));
	return o;
}

/* What the unit's BMS tells an inverter now (bms_limits.c): its own module's record, whatever
 * protocol the unit speaks, so scripts and bmsviz read the limits of any BMS. */
static cJSON *limits_json(const struct sim *s, unsigned i)
{
	struct rig_inv_battery r;

	bms_inverter_limits(sim_bms(s, i), &r);
	const struct json_num nums[] = {
		{ "cvl_mv", r.cvl_mV }, { "ccl_ma", r.ccl_mA }, { "dcl_ma", r.dcl_mA }, { "dvl_mv", r.dvl_mV },
		{ "request", r.request }, { "warn", r.warn }, { "prot", r.prot }, { "alarm", r.alarm },
		{ "soc_pct", r.soc_pct }, { "soh_pct", r.soh_pct }, { "cycles", r.cycles },
	};
	cJSON *o = cJSON_CreateObject();

	json_add_nums(o, nums, N_OF(nums));
	return o;
}

static cJSON *faults_json(struct sim *s, unsigned i)
{
	const struct bms_sense_faults *f = &sim_bms(s, i)->faults;
	const struct wire_faults *w = sim_wire_faults(s);
	const struct json_num nums[] = {
		{ "open_wire_mask", f->open_wire_mask }, { "force_mask", f->force_mask },
		{ "ntc_open_mask", f->ntc_open_mask }, { "ntc_short_mask", f->ntc_short_mask },
	};
	cJSON *o = cJSON_CreateObject(), *line = cJSON_CreateArray();
	unsigned k;

	json_add_nums(o, nums, N_OF(nums));
	for (k = 0; k < WF_COUNT; k++)
		if (w->on_mask >> k & 1u)
			cJSON_AddItemToArray(line, cJSON_CreateString(wire_fault_names[k]));
	cJSON_AddItemToObject(o, "line", line);
	return o;
}

static cJSON *link_json(const struct sim *s)
{
	static const char *const states[] = {
		[LINK_DOWN] = "down", [LINK_CONNECTING] = "connecting", [LINK_UP] = "up", [LINK_STUCK] = "stuck"
	};
	const struct link *l = sim_link(s);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", l->cfg.kind == LINK_BLE ? "ble" : "uart");
	cJSON_AddStringToObject(o, "state", states[l->state]);
	return o;
}

static cJSON *unit_json(const struct control *c, unsigned u)
{
	cJSON *o = cJSON_CreateObject(), *dut = NULL;
	struct sim *s;
	unsigned i;

	c->h.unit(c->h.ctx, u, &s, &i);
	cJSON_AddNumberToObject(o, "unit", u);
	cJSON_AddStringToObject(o, "proto", sim_unit_ops(s, i)->name);
	cJSON_AddStringToObject(o, "port", sim_port(s));
	cJSON_AddItemToObject(o, "truth", truth_json(c, u, s, i));
	cJSON_AddItemToObject(o, "bms", bms_json(s, i));
	cJSON_AddItemToObject(o, "limits", limits_json(s, i));
	cJSON_AddItemToObject(o, "faults", faults_json(s, i));
	cJSON_AddItemToObject(o, "link", link_json(s));
	if (c->dut && c->dut[u])
		dut = cJSON_Parse(c->dut[u]);
	cJSON_AddItemToObject(o, "dut", dut ? dut : cJSON_CreateNull());
	return o;
}

static const char *event_name(const struct scen_event *e)
{
	return e->kind == SCEN_EV_WIRE_FAULT ? wire_fault_names[e->fault] : scen_ev_name(e->kind);
}

static cJSON *scenario_json(const struct control *c)
{
	const struct scenario *sc = c->h.sc;
	cJSON *o = cJSON_CreateObject(), *events = cJSON_CreateArray();
	unsigned k;

	cJSON_AddStringToObject(o, "name", sc->name);
	cJSON_AddNumberToObject(o, "duration_ms", sc->duration_ms);
	for (k = 0; k < sc->n_events; k++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "at_ms", sc->event[k].at_ms);
		cJSON_AddStringToObject(e, "do", event_name(&sc->event[k]));
		cJSON_AddStringToObject(e, "id", sc->event[k].id);
		cJSON_AddItemToArray(events, e);
	}
	cJSON_AddItemToObject(o, "events", events);
	if (c->h.judge_json)
		c->h.judge_json(c->h.ctx, o);
	return o;
}

static cJSON *state_json(const struct control *c)
{
	cJSON *o = cJSON_CreateObject(), *units = cJSON_CreateArray();
	unsigned u;

	cJSON_AddNumberToObject(o, "t_ms", host_loop_now_ms(c->loop));
	cJSON_AddBoolToObject(o, "paused", host_loop_paused(c->loop));
	cJSON_AddNumberToObject(o, "rate", host_loop_rate(c->loop));
	for (u = 0; u < c->h.units; u++)
		cJSON_AddItemToArray(units, unit_json(c, u));
	cJSON_AddItemToObject(o, "units", units);
	cJSON_AddItemToObject(o, "scenario", c->h.sc ? scenario_json(c) : cJSON_CreateNull());
	return o;
}

/* ---- request fields ------------------------------------------------------------------------ */

/* A value as the request spelt it, one line, at most GOT_MAX characters. */
static const char *got(const cJSON *v, char *out, size_t cap)
{
	char *text = cJSON_PrintUnformatted(v);
	size_t i, n = text ? strlen(text) : 0;

	snprintf(out, cap, "%.*s%s", (int)(n > GOT_MAX ? GOT_MAX : n), text ? text : "?", n > GOT_MAX ? "..." : "");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20u)
			out[i] = '?';
	free(text);
	return out;
}

/* key as a number min..max (whole, when whole): required, or def when absent. */
static int get_number(const cJSON *req, const char *key, double min, double max, int whole, int required,
                      double def, double *out, char *err, size_t errcap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	char g[GOT_MAX + 8];

	if (!v) {
		if (required) {
			snprintf(err, errcap, "expected key \"%s\"", key);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
	    (whole && v->valuedouble != floor(v->valuedouble))) {
		snprintf(err, errcap, "%s: expected %s %.10g..%.10g, got %s", key, whole ? "an integer" : "a number", min,
		         max, got(v, g, sizeof g));
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

static int get_unit(const struct control *c, const cJSON *req, unsigned *u, char *err, size_t errcap)
{
	double d;

	if (get_number(req, "unit", 0, c->h.units - 1.0, 1, 0, 0, &d, err, errcap))
		return -1;
	*u = (unsigned)d;
	return 0;
}

/* w is one of the space-separated words. */
static int has_word(const char *words, const char *w)
{
	size_t n = strlen(w);
	const char *p;

	for (p = words; n && (p = strstr(p, w)); p += n)
		if ((p == words || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

/* Only cmd, id and the command's own keys (space-separated words), each once. */
static int keys_ok(const cJSON *req, const char *keys, char *err, size_t errcap)
{
	const cJSON *it, *prev;
	char list[128];

	cJSON_ArrayForEach(it, req) {
		for (prev = req->child; prev != it; prev = prev->next)
			if (!strcmp(prev->string, it->string)) {
				snprintf(err, errcap, "%.60s: expected each key once, got it twice", it->string);
				return -1;
			}
		if (strcmp(it->string, "cmd") && strcmp(it->string, "id") && !has_word(keys, it->string)) {
			const char *p = keys;
			size_t n = (size_t)snprintf(list, sizeof list, "cmd, id");

			while (*p && n < sizeof list) {
				size_t len = strcspn(p, " ");

				n += (size_t)snprintf(list + n, sizeof list - n, ", %.*s", (int)len, p);
				p += len + strspn(p + len, " ");
			}
			snprintf(err, errcap, "%.60s: unknown key (expected one of: %s)", it->string, list);
			return -1;
		}
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------------------------ */

typedef int cmd_fn(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap);

/* Into unit u's timeline, now; the embedder then brings the load in line. */
static int inject(struct control *c, unsigned u, const cJSON *event, int cell, char *err, size_t errcap)
{
	struct timeline *tl = c->h.timeline(c->h.ctx, u);
	struct scen_event e;

	if (!tl) {
		snprintf(err, errcap, "unit %u: out of memory", u);
		return -1;
	}
	if (scenario_parse_event(tl->sc, event, &e, err, errcap) != RIG_OK)
		return -1;
	if (cell >= 0)
		e.cell = cell;
	if (timeline_inject(tl, &e, host_loop_now_ms(c->loop), err, errcap) != RIG_OK)
		return -1;
	if (c->h.injected)
		c->h.injected(c->h.ctx, u);
	return 0;
}

static int cmd_hello(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	(void)cl;
	(void)req;
	(void)err;
	(void)errcap;
	cJSON_AddNumberToObject(reply, "protocol", CONTROL_PROTOCOL);
	cJSON_AddStringToObject(reply, "program", "bmssim");
	cJSON_AddStringToObject(reply, "mode", c->h.mode);
	cJSON_AddNumberToObject(reply, "units", c->h.units);
	return 0;
}

static int cmd_get(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	(void)cl;
	(void)req;
	(void)err;
	(void)errcap;
	cJSON_AddItemToObject(reply, "state", state_json(c));
	return 0;
}

/* What set's keys are: a timeline event with the value under its field (every cell in turn
 * for EVERY_CELL), or (event NULL) the pack's lumped temperature, written into the model. */
#define ONE_CELL 1
#define EVERY_CELL 2
static const struct set_key {
	const char *key, *event, *field;
	int cells;
} set_keys[] = {
	{ "current_a", "current", "a", 0 },
	{ "ambient_c", "ambient", "c", 0 },
	{ "cell_soc_pct", "cell_soc", "soc_pct", ONE_CELL },
	{ "soc_pct", "cell_soc", "soc_pct", EVERY_CELL },
	{ "temp_c", NULL, NULL, 0 },
};
#define TEMP_C_MIN -40.0
#define TEMP_C_MAX 120.0

/* A BMS setting by its bms.h name (as scenarios' "settings" spell it), an integer in its unit,
 * effective from the BMS's next step. */
static int set_setting(struct control *c, unsigned u, const cJSON *req, unsigned id, char *err, size_t errcap)
{
	const struct bms_setting_info *in = bms_setting_info(id);
	struct sim *s;
	unsigned idx;
	double v;

	if (cJSON_GetObjectItemCaseSensitive(req, "cell")) {
		snprintf(err, errcap, "cell: expected only with cell_soc_pct");
		return -1;
	}
	if (get_number(req, "value", in->min, in->max, 1, 1, 0, &v, err, errcap))
		return -1;
	c->h.unit(c->h.ctx, u, &s, &idx);
	if (bms_setting_set(sim_bms_rw(s, idx), id, (int64_t)v) != RIG_OK) {
		snprintf(err, errcap, "value: refused");     /* the range was checked above */
		return -1;
	}
	return 0;
}

static int cmd_set(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(req, "key"), *value, *cell;
	const struct set_key *k = NULL;
	char g[GOT_MAX + 8], names[128] = "";
	size_t i, n = 0, flen;
	unsigned u;
	int rc = 0;
	struct sim *s;
	unsigned idx;
	cJSON *ev;

	(void)cl;
	(void)reply;
	if (get_unit(c, req, &u, err, errcap))
		return -1;
	for (i = 0; i < N_OF(set_keys); i++) {
		if (cJSON_IsString(key) && !strcmp(key->valuestring, set_keys[i].key))
			k = &set_keys[i];
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", set_keys[i].key);
	}
	if (!k && cJSON_IsString(key) && bms_setting_find(key->valuestring) >= 0)
		return set_setting(c, u, req, (unsigned)bms_setting_find(key->valuestring), err, errcap);
	if (!k) {
		if (key)
			snprintf(err, errcap, "key: expected one of %s or a BMS setting's name, got %s", names,
			         got(key, g, sizeof g));
		else
			snprintf(err, errcap, "expected key \"key\" (one of %s or a BMS setting's name)", names);
		return -1;
	}
	value = cJSON_GetObjectItemCaseSensitive(req, "value");
	cell = cJSON_GetObjectItemCaseSensitive(req, "cell");
	if (!value) {
		snprintf(err, errcap, "expected key \"value\"");
		return -1;
	}
	if (cell && k->cells != ONE_CELL) {
		snprintf(err, errcap, "cell: expected only with cell_soc_pct");
		return -1;
	}
	c->h.unit(c->h.ctx, u, &s, &idx);
	if (!k->event) {
		double t;

		if (get_number(req, "value", TEMP_C_MIN, TEMP_C_MAX, 0, 1, 0, &t, err, errcap))
			return -1;
		sim_model_rw(s, idx)->temp_C = t;
		return 0;
	}
	/* The event's own parser checks the value: its words name the event's field, which is
	 * "value" here. */
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "do", k->event);
	cJSON_AddItemToObject(ev, k->field, cJSON_Duplicate(value, 1));
	if (k->cells == ONE_CELL && cell)
		cJSON_AddItemToObject(ev, "cell", cJSON_Duplicate(cell, 1));
	if (k->cells == EVERY_CELL)
		cJSON_AddNumberToObject(ev, "cell", 1);
	for (i = 0; rc == 0 && i < (k->cells == EVERY_CELL ? sim_model(s, idx)->cfg.cells : 1u); i++)
		rc = inject(c, u, ev, k->cells == EVERY_CELL ? (int)i : -1, err, errcap);
	cJSON_Delete(ev);
	flen = strlen(k->field);
	if (rc && !strncmp(err, k->field, flen) && !strncmp(err + flen, ": ", 2) && strlen(err) + 5 < errcap) {
		memmove(err + 5, err + flen, strlen(err + flen) + 1);
		memcpy(err, "value", 5);
	}
	return rc;
}

static int cmd_fault(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	static const char *const ours[] = { "cmd", "unit", "id" };
	cJSON *ev;
	unsigned u, i;
	int rc;

	(void)cl;
	(void)reply;
	if (get_unit(c, req, &u, err, errcap))
		return -1;
	/* The rest of the request is the event; "id" is the request's, echoed, not an event id. */
	if (!(ev = cJSON_Duplicate(req, 1))) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	for (i = 0; i < N_OF(ours); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(ev, ours[i]);
	rc = inject(c, u, ev, -1, err, errcap);
	cJSON_Delete(ev);
	return rc;
}

static int cmd_clear(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	cJSON *ev = cJSON_CreateObject();
	unsigned u;
	int rc = -1;

	(void)cl;
	(void)reply;
	cJSON_AddStringToObject(ev, "do", "clear_faults");
	if (get_unit(c, req, &u, err, errcap) == 0)
		rc = inject(c, u, ev, -1, err, errcap);
	cJSON_Delete(ev);
	return rc;
}

static void add_clock(const struct control *c, cJSON *reply)
{
	cJSON_AddNumberToObject(reply, "t_ms", host_loop_now_ms(c->loop));
	cJSON_AddBoolToObject(reply, "paused", host_loop_paused(c->loop));
}

static int cmd_pause(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	(void)cl;
	(void)req;
	(void)err;
	(void)errcap;
	host_loop_pause(c->loop, 1);
	add_clock(c, reply);
	return 0;
}

static int cmd_resume(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	(void)cl;
	(void)req;
	(void)err;
	(void)errcap;
	host_loop_pause(c->loop, 0);
	add_clock(c, reply);
	return 0;
}

static int cmd_step(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	double ms;

	(void)cl;
	if (get_number(req, "ms", 1, STEP_MS_MAX, 1, 1, 0, &ms, err, errcap))
		return -1;
	if (host_loop_step(c->loop, (uint32_t)ms) != RIG_OK) {
		snprintf(err, errcap, "expected a paused clock (send {\"cmd\":\"pause\"} first)");
		return -1;
	}
	add_clock(c, reply);
	return 0;
}

static int cmd_rate(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(req, "x");
	double v;

	(void)cl;
	if (x && cJSON_IsNumber(x) && x->valuedouble == 0.0) {
		v = 0.0;
		if (!host_loop_is_virtual(c->loop)) {
			snprintf(err, errcap, "x: expected %g..%g (0, as fast as the machine goes, is for lockstep runs only), got 0",
			         RATE_MIN, RATE_MAX);
			return -1;
		}
	} else if (get_number(req, "x", RATE_MIN, RATE_MAX, 0, 1, 0, &v, err, errcap)) {
		return -1;
	}
	if (host_loop_set_rate(c->loop, v) != RIG_OK) {
		snprintf(err, errcap, "x: the clock refused %g", v);
		return -1;
	}
	cJSON_AddNumberToObject(reply, "rate", v);
	return 0;
}

static int state_due(struct host_loop *loop, uint32_t id, void *ctx);

static void set_state_timer(struct client *cl)
{
	struct control *c = cl->ctl;

	if (cl->state_timer)
		host_loop_del_timer(c->loop, cl->state_timer);
	cl->state_timer = cl->state_ms ? host_loop_add_timer(c->loop, cl->state_ms, state_due, cl) : 0;
}

static int cmd_subscribe(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err, size_t errcap)
{
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(req, "frames");
	char g[GOT_MAX + 8];
	double ms;

	(void)c;
	if (get_number(req, "state_ms", 0, STATE_MS_MAX, 1, 0, 0, &ms, err, errcap))
		return -1;
	if (ms > 0 && ms < STATE_MS_MIN) {
		snprintf(err, errcap, "state_ms: expected 0 (none) or %g..%g, got %g", STATE_MS_MIN, STATE_MS_MAX, ms);
		return -1;
	}
	if (frames && !cJSON_IsBool(frames)) {
		snprintf(err, errcap, "frames: expected true or false, got %s", got(frames, g, sizeof g));
		return -1;
	}
	cl->subscribed = 1;
	cl->frames = cJSON_IsTrue(frames);
	cl->state_ms = (uint32_t)ms;
	set_state_timer(cl);
	if (cl->state_ms && !cl->state_timer) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	cJSON_AddNumberToObject(reply, "state_ms", cl->state_ms);
	cJSON_AddBoolToObject(reply, "frames", cl->frames);
	return 0;
}

static int cmd_unsubscribe(struct control *c, struct client *cl, const cJSON *req, cJSON *reply, char *err,
                           size_t errcap)
{
	(void)c;
	(void)req;
	(void)reply;
	(void)err;
	(void)errcap;
	cl->subscribed = cl->frames = 0;
	cl->state_ms = 0;
	set_state_timer(cl);
	return 0;
}

/* keys: what the request may hold beside cmd and id; NULL: the command reads them all. */
static const struct command {
	const char *name, *keys;
	cmd_fn *run;
} commands[] = {
	{ "hello", "", cmd_hello },
	{ "get", "", cmd_get },
	{ "set", "unit key value cell", cmd_set },
	{ "fault", NULL, cmd_fault },
	{ "clear", "unit", cmd_clear },
	{ "pause", "", cmd_pause },
	{ "resume", "", cmd_resume },
	{ "step", "ms", cmd_step },
	{ "rate", "x", cmd_rate },
	{ "subscribe", "state_ms frames", cmd_subscribe },
	{ "unsubscribe", "", cmd_unsubscribe },
};

static const struct command *find_command(const cJSON *req, char *err, size_t errcap)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	char names[160], g[GOT_MAX + 8];
	size_t i, n = 0;

	for (i = 0; i < N_OF(commands); i++) {
		if (cJSON_IsString(cmd) && !strcmp(cmd->valuestring, commands[i].name))
			return &commands[i];
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", commands[i].name);
	}
	if (cmd)
		snprintf(err, errcap, "cmd: expected one of %s, got %s", names, got(cmd, g, sizeof g));
	else
		snprintf(err, errcap, "expected key \"cmd\" (one of %s)", names);
	return NULL;
}

static void handle_line(struct control *c, struct client *cl, const char *line, size_t len)
{
	const struct command *k = NULL;
	const char *end = NULL;
	const cJSON *id = NULL;
	cJSON *req, *reply;
	char err[768], g[GOT_MAX + 8];

	if (strspn(line, " \t\r") == len)
		return;                                   /* a blank line is no request */
	/* cJSON would stop at a NUL and take what comes before it for the whole line. */
	req = memchr(line, '\0', len) ? NULL : cJSON_ParseWithOpts(line, &end, 1);
	if (!req && memchr(line, '\0', len)) {
		snprintf(err, sizeof err, "expected a JSON object on one line (a NUL byte at %zu)",
		         (size_t)((const char *)memchr(line, '\0', len) - line) + 1);
	} else if (!req) {
		snprintf(err, sizeof err, "expected a JSON object on one line (not JSON from byte %zu)",
		         end && end >= line ? (size_t)(end - line) + 1 : 1);
	} else if (!cJSON_IsObject(req)) {
		snprintf(err, sizeof err, "expected a JSON object, got %s", got(req, g, sizeof g));
	} else {
		id = cJSON_GetObjectItemCaseSensitive(req, "id");
		k = find_command(req, err, sizeof err);
		if (k && k->keys && keys_ok(req, k->keys, err, sizeof err))
			k = NULL;
	}
	reply = cJSON_CreateObject();
	if (id)
		cJSON_AddItemToObject(reply, "id", cJSON_Duplicate(id, 1));
	cJSON_AddBoolToObject(reply, "ok", 1);
	if (k && k->run(c, cl, req, reply, err, sizeof err))
		k = NULL;
	if (!k) {
		cJSON_Delete(reply);
		reply = cJSON_CreateObject();
		if (id)
			cJSON_AddItemToObject(reply, "id", cJSON_Duplicate(id, 1));
		cJSON_AddBoolToObject(reply, "ok", 0);
		cli_one_line(err);
		cJSON_AddStringToObject(reply, "error", err);
	}
	put_json(cl, reply, 1);
	cJSON_Delete(reply);
	cJSON_Delete(req);
}

/* ---- the loop's callbacks ------------------------------------------------------------------ */

/* Whole lines out of cl->in; an over-long one is refused once and skipped to its end. */
static void take_lines(struct control *c, struct client *cl)
{
	size_t start = 0;
	char *nl;

	while (!cl->closed && (nl = memchr(cl->in + start, '\n', cl->in_len - start))) {
		size_t len = (size_t)(nl - (cl->in + start));

		if (cl->skipping) {
			cl->skipping = 0;
		} else {
			*nl = '\0';
			handle_line(c, cl, cl->in + start, len);
		}
		start += len + 1;
	}
	if (cl->closed)
		return;
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len > CONTROL_LINE_MAX && !cl->skipping) {
		char msg[96];
		int n = snprintf(msg, sizeof msg, "{\"ok\":false,\"error\":\"expected a line of at most %u bytes\"}",
		                 CONTROL_LINE_MAX);

		put(cl, msg, (size_t)n, 1);
		cl->skipping = 1;
	}
	if (cl->skipping)
		cl->in_len = 0;
}

static void on_client(struct host_loop *loop, int fd, void *ctx)
{
	struct client *cl = ctx;
	struct control *c = cl->ctl;
	int reads = 0;

	(void)loop;
	c->busy++;
	while (!cl->closed && reads++ < READS_PER_CALL) {
		ssize_t n = read(fd, cl->in + cl->in_len, sizeof cl->in - cl->in_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == 0 && cl->out_len && c->loop) {
			/* A client that shut its sending side still gets every reply: no more input
			 * and no more events, and the connection closes once the replies are out. */
			cl->eof = 1;
			cl->subscribed = 0;
			if (cl->state_timer)
				host_loop_del_timer(c->loop, cl->state_timer);
			cl->state_timer = 0;
			(void)host_loop_fd_reading(c->loop, fd, 0);
			break;
		}
		if (n <= 0) {
			client_close(cl);
			break;
		}
		cl->in_len += (size_t)n;
		take_lines(c, cl);
	}
	c->busy--;
	reap(c);
}

static void on_writable(struct host_loop *loop, int fd, void *ctx)
{
	struct client *cl = ctx;
	struct control *c = cl->ctl;

	(void)loop;
	(void)fd;
	c->busy++;
	flush(cl);
	c->busy--;
	reap(c);
}

static int state_due(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct client *cl = ctx;
	struct control *c = cl->ctl;
	cJSON *o = cJSON_CreateObject();
	int next;

	(void)loop;
	(void)id;
	c->busy++;
	cJSON_AddStringToObject(o, "event", "state");
	cJSON_AddItemToObject(o, "state", state_json(c));
	put_json(cl, o, 0);
	cJSON_Delete(o);
	next = cl->closed ? 0 : (int)cl->state_ms;
	c->busy--;
	reap(c);
	return next;
}

static int watch(struct control *c, struct client *cl)
{
	if (host_loop_add_fd(c->loop, cl->fd, on_client, cl) != RIG_OK)
		return -1;
	if (cl->out_len)
		(void)host_loop_fd_writable(c->loop, cl->fd, on_writable);
	if (cl->subscribed && cl->state_ms)
		set_state_timer(cl);
	return 0;
}

static unsigned live_clients(const struct control *c)
{
	const struct client *cl;
	unsigned n = 0;

	for (cl = c->clients; cl; cl = cl->next)
		n += !cl->closed;
	return n;
}

/* Said once, without waiting: a fresh socket's buffer always has room for one short line. */
static void refuse_client(int cfd)
{
	char line[80];
	int n = snprintf(line, sizeof line, "{\"ok\":false,\"error\":\"too many clients: at most %u at once\"}\n",
	                 CONTROL_CLIENTS_MAX);

	(void)send(cfd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(cfd);
}

static void on_listen(struct host_loop *loop, int fd, void *ctx)
{
	struct control *c = ctx;
	unsigned live = live_clients(c);
	int i;

	(void)loop;
	for (i = 0; i < ACCEPTS_PER_CALL; i++) {
		int cfd = accept(fd, NULL, NULL);
		struct client *cl;

		if (cfd < 0)
			break;
		/* Each client may hold a megabyte of output: a bound on them bounds the memory. */
		if (live >= CONTROL_CLIENTS_MAX) {
			refuse_client(cfd);
			continue;
		}
		cl = calloc(1, sizeof *cl);
		if (!cl || fcntl(cfd, F_SETFL, O_NONBLOCK) != 0 || fcntl(cfd, F_SETFD, FD_CLOEXEC) != 0) {
			free(cl);
			close(cfd);
			continue;
		}
		cl->ctl = c;
		cl->fd = cfd;
		if (watch(c, cl)) {
			close(cfd);
			free(cl);
			continue;
		}
		cl->next = c->clients;
		c->clients = cl;
		live++;
	}
}

/* ---- the socket ----------------------------------------------------------------------------- */

rig_rc control_default_path(char *out, size_t cap, char *err, size_t errcap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int n;

	if (xdg && *xdg)
		n = snprintf(dir, sizeof dir, "%s/bmsrig", xdg);
	else
		n = snprintf(dir, sizeof dir, "/tmp/bmsrig-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= sizeof dir) {
		snprintf(err, errcap, "control socket: XDG_RUNTIME_DIR: expected a path of at most %zu bytes",
		         sizeof dir - 24);
		return RIG_ERR_ARG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errcap, "control socket folder %s: cannot make it: %s", dir, strerror(errno));
		return RIG_ERR_IO;
	}
	/* Anyone may make a folder in /tmp: one we did not make, or others can enter, is refused. */
	if (host_dir_check(dir, HOST_DIR_PRIVATE, "control socket", err, errcap) != RIG_OK)
		return RIG_ERR_ARG;
	n = snprintf(out, cap, "%s/bmssim-%ld.sock", dir, (long)getpid());
	if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof dir) {
		snprintf(err, errcap, "control socket in %s: expected a path of at most %zu bytes", dir, sizeof dir - 1);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

/* Someone accepts on path (or will: a full backlog is someone too). */
static int socket_live(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), live;

	if (fd < 0)
		return 1;                                 /* cannot tell: do not remove it */
	live = connect(fd, (const struct sockaddr *)a, sizeof *a) == 0 || errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

rig_rc control_open(struct control **out, const char *path, char *err, size_t errcap)
{
	struct sockaddr_un a;
	struct control *c;
	struct stat st;
	char dir[sizeof a.sun_path];
	mode_t old;
	int fd, rc;

	*out = NULL;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof a.sun_path) {
		snprintf(err, errcap, "control socket %.*s: expected a path of 1..%zu bytes", 120, path, sizeof a.sun_path - 1);
		return RIG_ERR_ARG;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* Whoever may write in the folder could put a socket of their own in place of ours. */
	if (host_path_folder(path, dir, sizeof dir) != RIG_OK ||
	    host_dir_check(dir, HOST_DIR_NO_OTHER_WRITERS, "control socket", err, errcap) != RIG_OK)
		return RIG_ERR_ARG;
	if (lstat(path, &st) == 0) {
		const char *why = S_ISLNK(st.st_mode) ? "is a symbolic link (never followed)" :
		                  !S_ISSOCK(st.st_mode) ? "exists and is not a socket" :
		                  socket_live(&a) ? "is live: another process serves on it" : NULL;

		if (why) {
			snprintf(err, errcap, "control socket %s: %s", path, why);
			return RIG_ERR_ARG;
		}
		if (unlink(path) != 0) {
			snprintf(err, errcap, "control socket %s: cannot remove the stale socket: %s", path, strerror(errno));
			return RIG_ERR_IO;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errcap, "control socket %s: %s", path, strerror(errno));
		return RIG_ERR_IO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errcap, "control socket: %s", strerror(errno));
		return RIG_ERR_IO;
	}
	/* Made 0600 from the start: no moment in which another user could connect. */
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)&a, sizeof a);
	umask(old);
	if (rc != 0 || listen(fd, (int)CONTROL_CLIENTS_MAX) != 0 || lstat(path, &st) != 0 || !(c = calloc(1, sizeof *c))) {
		snprintf(err, errcap, "control socket %s: cannot listen: %s", path, rc ? strerror(errno) : "out of memory");
		if (rc == 0)
			unlink(path);
		close(fd);
		return RIG_ERR_IO;
	}
	memcpy(c->path, a.sun_path, sizeof c->path);
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	*out = c;
	return RIG_OK;
}

const char *control_path(const struct control *c)
{
	return c->path;
}

rig_rc control_attach(struct control *c, struct host_loop *loop, const struct control_hooks *h)
{
	struct client *cl;

	control_detach(c);
	if (!(c->dut = calloc(h->units ? h->units : 1, sizeof *c->dut)))
		return RIG_ERR_SPACE;
	c->loop = loop;
	c->h = *h;
	if (c->kept) {
		host_loop_pause(loop, c->kept_paused);
		(void)host_loop_set_rate(loop, c->kept_rate);   /* a real loop refuses unpaced: keeps its own */
	}
	if (host_loop_add_fd(loop, c->fd, on_listen, c) != RIG_OK) {
		control_detach(c);
		return RIG_ERR_SPACE;
	}
	for (cl = c->clients; cl; cl = cl->next)
		if (!cl->closed && watch(c, cl))
			client_close(cl);
	reap(c);
	return RIG_OK;
}

void control_detach(struct control *c)
{
	struct client *cl;
	unsigned u;

	if (!c->loop)
		return;
	c->kept = 1;
	c->kept_paused = host_loop_paused(c->loop);
	c->kept_rate = host_loop_rate(c->loop);
	host_loop_del_fd(c->loop, c->fd);
	for (cl = c->clients; cl; cl = cl->next) {
		if (cl->closed)
			continue;
		host_loop_del_fd(c->loop, cl->fd);
		if (cl->state_timer)
			host_loop_del_timer(c->loop, cl->state_timer);
		cl->state_timer = 0;
	}
	for (u = 0; u < c->h.units; u++)
		free(c->dut[u]);
	free(c->dut);
	c->dut = NULL;
	c->loop = NULL;
}

void control_close(struct control *c)
{
	struct client *cl;
	struct stat st;

	if (!c)
		return;
	control_detach(c);
	for (cl = c->clients; cl; cl = cl->next)
		client_close(cl);
	c->busy = 0;
	reap(c);
	/* Only our own socket: a later bmssim may have taken the path since. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	close(c->fd);
	free(c);
}

/* ---- what the embedder reports ------------------------------------------------------------- */

void control_frame(struct control *c, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	const struct personality_ops *ops;
	struct sim *s;
	unsigned i;
	cJSON *o;

	if (!c || !c->loop || unit >= c->h.units || !subscribers(c, 1))
		return;
	c->h.unit(c->h.ctx, unit, &s, &i);
	ops = sim_unit_ops(s, i);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", "frame");
	cJSON_AddNumberToObject(o, "t_ms", host_loop_now_ms(c->loop));
	cJSON_AddNumberToObject(o, "unit", unit);
	cJSON_AddStringToObject(o, "dir", dir == PERS_RX ? "rx" : "tx");
	cJSON_AddStringToObject(o, "proto", ops->name);
	json_add_hex(o, "hex", wire, n);
	cJSON_AddItemToObject(o, "decoded", ops->wire_json(wire, n));
	c->busy++;
	broadcast(c, o, 1);
	c->busy--;
	reap(c);
	cJSON_Delete(o);
}

void control_dut(struct control *c, unsigned unit, const char *telemetry_json)
{
	char *copy;

	if (!c || !c->loop || unit >= c->h.units || !(copy = strdup(telemetry_json)))
		return;
	free(c->dut[unit]);
	c->dut[unit] = copy;
}

void control_timeline(struct control *c, unsigned index)
{
	const struct scen_event *e;
	cJSON *o;

	if (!c || !c->loop || !c->h.sc || index >= c->h.sc->n_events || !subscribers(c, 0))
		return;
	e = &c->h.sc->event[index];
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", "timeline");
	cJSON_AddNumberToObject(o, "t_ms", host_loop_now_ms(c->loop));
	cJSON_AddNumberToObject(o, "index", index);
	cJSON_AddStringToObject(o, "do", event_name(e));
	cJSON_AddStringToObject(o, "id", e->id);
	c->busy++;
	broadcast(c, o, 0);
	c->busy--;
	reap(c);
	cJSON_Delete(o);
}

void control_publish(struct control *c, const cJSON *event)
{
	if (!c || !c->loop)
		return;
	c->busy++;
	broadcast(c, event, 0);
	c->busy--;
	reap(c);
}

extern char **environ;

long control_spawn_viz(const struct control *c, char *err, size_t errcap)
{
	char self[4096], viz[4200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *argv[4];
	pid_t pid;
	int e;

	if (n <= 0) {
		snprintf(err, errcap, "--viz: cannot find this program's folder");
		return -1;
	}
	self[n] = 0;
	snprintf(viz, sizeof viz, "%s/bmsviz", dirname(self));
	if (access(viz, X_OK) != 0) {
		snprintf(err, errcap, "--viz: %s: %s (make builds it)", viz, strerror(errno));
		return -1;
	}
	argv[0] = viz;
	argv[1] = (char *)"--control";
	argv[2] = (char *)control_path(c);
	argv[3] = NULL;
	if ((e = posix_spawn(&pid, viz, NULL, NULL, argv, environ)) != 0) {
		snprintf(err, errcap, "--viz: cannot start %s: %s", viz, strerror(e));
		return -1;
	}
	return (long)pid;
}
