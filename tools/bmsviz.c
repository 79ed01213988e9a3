/*
 * bmsviz: a window onto a running bmssim, through its control socket (control protocol v1).
 * It draws the pack, the BMS's view and the device under test's beside the truth, and turns
 * keys and clicks into control requests. Headless, it writes one PNG and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <cjson/cJSON.h>

#include "bmsrig/lib/file.h"
#include "bmsrig/viz/viz_conn.h"
#include "bmsrig/viz/viz_layout.h"
#include "bmsrig/viz/viz_model.h"
#include "bmsrig/viz/viz_draw.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define DEFAULT_W        1280
#define DEFAULT_H        800
#define STATE_PERIOD_MS  100     /* of real time: resubscribed in emulator ms as the rate changes */
#define DRAW_PERIOD_MS   50      /* 20 frames a second at most */
#define NO_STATE_GRACE   5000    /* a screenshot waits this much longer for a first state */
#define LOAD_STEP_A      5.0
#define SOC_STEP_PCT     5.0
#define STEP_MS          1000
#define NO_REPLY_FOR     "10s"
#define RATE_MIN         0.1
#define RATE_MAX         1000.0

struct opts {
	const char *control, *screenshot, *press;
	double after_ms, diff_mv;
	int w, h, cells, print_layout, quiet, verbose;
	enum viz_chem chem;
};

struct app {
	const struct opts *o;
	struct viz_model *m;
	struct viz_conn conn;
	struct viz_draw d;
	struct viz_ui ui;
	SDL_Window *win;
	int quit, dead, dirty, state_ms;
};

/* ---- requests ----------------------------------------------------------------------------- */

static cJSON *cmd(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cmd", name);
	return o;
}

/* Sends req (consumed) with a fresh id; `what` names it in the status line when the reply comes. */
static void request(struct app *a, const char *what, cJSON *req)
{
	char *s;

	cJSON_AddNumberToObject(req, "id", (double)viz_model_request(a->m, what));
	s = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (a->o->verbose)
		fprintf(stderr, "bmsviz: > %s\n", s ? s : "(out of memory)");
	if (!s || viz_conn_send(&a->conn, s) < 0)
		a->dead = 1;
	free(s);
}

static void refresh(struct app *a)
{
	request(a, "get", cmd("get"));
}

/* State events every ~STATE_PERIOD_MS of real time whatever the clock rate, so a fast run
 * does not flood us and a slow one still moves. */
static void subscribe(struct app *a)
{
	double rate = a->m->st.rate;
	/* rate 0 is "as fast as the machine goes": no real-time period to keep, so a slow one */
	int ms = isnan(rate) ? STATE_PERIOD_MS : rate <= 0 ? 1000
	         : (int)fmin(fmax(round(STATE_PERIOD_MS * rate), 50), 60000);
	cJSON *o;

	if (ms == a->state_ms)
		return;
	a->state_ms = ms;
	o = cmd("subscribe");
	cJSON_AddNumberToObject(o, "state_ms", ms);
	cJSON_AddBoolToObject(o, "frames", 1);
	request(a, "subscribe", o);
}

/* A command about the unit on screen; NULL (and a status line) before the first state. */
static cJSON *unit_cmd(struct app *a, const char *name, const struct viz_unit **u)
{
	cJSON *o;

	*u = viz_model_unit(a->m);
	if (!*u) {
		viz_model_set_status(a->m, 1, "%s: no state from bmssim yet", name);
		return NULL;
	}
	o = cmd(name);
	cJSON_AddNumberToObject(o, "unit", (*u)->unit);
	return o;
}

static void fault(struct app *a, const char *what, const char *event_do, const char *key, double v,
                  const char *for_text)
{
	const struct viz_unit *u;
	cJSON *o = unit_cmd(a, "fault", &u);
	char label[64];

	if (!o)
		return;
	cJSON_AddStringToObject(o, "do", event_do);
	if (key)
		cJSON_AddNumberToObject(o, key, v);
	if (for_text)
		cJSON_AddStringToObject(o, "for", for_text);
	snprintf(label, sizeof label, "fault %s", what);
	request(a, label, o);
	refresh(a);
}

static void set_value(struct app *a, const char *key, int cell, double value)
{
	const struct viz_unit *u;
	cJSON *o = unit_cmd(a, "set", &u);
	char label[64];

	if (!o)
		return;
	cJSON_AddStringToObject(o, "key", key);
	if (cell > 0)
		cJSON_AddNumberToObject(o, "cell", cell);
	cJSON_AddNumberToObject(o, "value", value);
	if (cell > 0)
		snprintf(label, sizeof label, "set %s cell %d = %.1f", key, cell, value);
	else
		snprintf(label, sizeof label, "set %s = %.1f", key, value);
	request(a, label, o);
	refresh(a);
}

/* ---- actions: one table drives the keys, the buttons and the key map -------------------------- */

static void act_ntc(struct app *a) { fault(a, "NTC 1 open", "ntc_open", "ntc", 1, NULL); }
static void act_short(struct app *a) { fault(a, "short circuit", "short_circuit", NULL, 0, NULL); }
static void act_no_reply(struct app *a)
{
	fault(a, "no reply for " NO_REPLY_FOR, "no_reply", NULL, 0, NO_REPLY_FOR);
}

static void act_open_wire(struct app *a)
{
	char what[32];

	snprintf(what, sizeof what, "open wire cell %d", a->m->cell_sel + 1);
	fault(a, what, "open_wire", "cell", a->m->cell_sel + 1, NULL);
}

static void act_clear(struct app *a)
{
	const struct viz_unit *u;
	cJSON *o = unit_cmd(a, "clear", &u);

	if (o) {
		request(a, "clear faults", o);
		refresh(a);
	}
}

static void load(struct app *a, double step_a)
{
	const struct viz_unit *u = viz_model_unit(a->m);
	double now_ma = !u ? NAN : !isnan(u->requested_ma) ? u->requested_ma : u->r[VIZ_TRUTH].current_ma;

	set_value(a, "current_a", 0, (isnan(now_ma) ? 0 : now_ma / 1000.0) + step_a);
}
static void act_load_up(struct app *a) { load(a, LOAD_STEP_A); }
static void act_load_down(struct app *a) { load(a, -LOAD_STEP_A); }

static void cell_soc(struct app *a, double step)
{
	const struct viz_unit *u = viz_model_unit(a->m);
	int c = a->m->cell_sel;
	double now = u && c < u->n_cell_soc ? u->cell_soc_pct[c] : NAN;

	if (isnan(now)) {
		viz_model_set_status(a->m, 1, "cell %d: bmssim reports no SOC for it", c + 1);
		return;
	}
	set_value(a, "cell_soc_pct", c + 1, fmin(fmax(now + step, 0), 100));
}
static void act_soc_up(struct app *a) { cell_soc(a, SOC_STEP_PCT); }
static void act_soc_down(struct app *a) { cell_soc(a, -SOC_STEP_PCT); }

static void act_pause(struct app *a)
{
	int paused = a->m->st.paused == 1;

	request(a, paused ? "resume" : "pause", cmd(paused ? "resume" : "pause"));
	refresh(a);
}

static void act_step(struct app *a)
{
	cJSON *o = cmd("step");

	cJSON_AddNumberToObject(o, "ms", STEP_MS);
	request(a, "step 1 s", o);
	refresh(a);
}

static void rate(struct app *a, double factor)
{
	double r = isnan(a->m->st.rate) || a->m->st.rate <= 0 ? 1 : a->m->st.rate;
	cJSON *o = cmd("rate");
	char label[32];

	r = fmin(fmax(r * factor, RATE_MIN), RATE_MAX);
	cJSON_AddNumberToObject(o, "x", r);
	snprintf(label, sizeof label, "rate x%g", r);
	request(a, label, o);
	refresh(a);
}
static void act_faster(struct app *a) { rate(a, 2); }
static void act_slower(struct app *a) { rate(a, 0.5); }

static void select_cell(struct app *a, int c)
{
	const struct viz_unit *u = viz_model_unit(a->m);
	int n = u ? u->r[VIZ_TRUTH].n_cells : 0;

	if (n > 0)
		a->m->cell_sel = (c % n + n) % n;
	a->dirty = 1;
}
static void act_next_cell(struct app *a) { select_cell(a, a->m->cell_sel + 1); }
static void act_prev_cell(struct app *a) { select_cell(a, a->m->cell_sel - 1); }

static void act_next_unit(struct app *a)
{
	if (a->m->st.n_units > 0)
		viz_model_select_unit(a->m, (a->m->unit_sel + 1) % a->m->st.n_units);
	a->dirty = 1;
}

static void act_keymap(struct app *a) { a->ui.show_keymap = !a->ui.show_keymap; a->dirty = 1; }
static void act_quit(struct app *a) { a->quit = 1; }

struct action {
	const char *chars;       /* typed characters that run it (layout independent) */
	SDL_Keycode key;         /* or a key that types nothing */
	const char *key_name, *button, *help;
	void (*run)(struct app *a);
};

static const struct action actions[] = {
	{ "n", 0, "n", "NTC1 open", "open NTC 1 (its reading goes to the open-circuit value)", act_ntc },
	{ "o", 0, "o", "Open wire", "open the sense wire of the selected cell", act_open_wire },
	{ "s", 0, "s", "Short", "short circuit on the load side", act_short },
	{ "r", 0, "r", "No reply", "the BMS answers nothing for " NO_REPLY_FOR, act_no_reply },
	{ "c", 0, "c", "Clear", "clear every sense and line fault", act_clear },
	{ "-_", 0, "-", "-5 A", "load 5 A more toward discharging", act_load_down },
	{ "+=", 0, "+", "+5 A", "load 5 A more toward charging", act_load_up },
	{ NULL, SDLK_PAGEUP, "PgUp", "Cell SOC +", "selected cell's SOC +5 % (its voltage rises)", act_soc_up },
	{ NULL, SDLK_PAGEDOWN, "PgDn", "Cell SOC -", "selected cell's SOC -5 %", act_soc_down },
	{ " p", 0, "Space, p", "Pause/Run", "pause or resume the emulator's clock", act_pause },
	{ ".", 0, ".", "Step 1 s", "while paused: advance the clock 1 s", act_step },
	{ "[<", 0, "[", "Rate /2", "clock rate halved (down to x0.1)", act_slower },
	{ "]>", 0, "]", "Rate x2", "clock rate doubled (up to x1000)", act_faster },
	{ "?", 0, "?", "Keys ?", "show or hide this key map", act_keymap },
	{ NULL, SDLK_RIGHT, "Right", NULL, "select the next cell (or click its bar)", act_next_cell },
	{ NULL, SDLK_LEFT, "Left", NULL, "select the previous cell", act_prev_cell },
	{ NULL, SDLK_TAB, "Tab", NULL, "show the next BMS unit", act_next_unit },
	{ "q", SDLK_ESCAPE, "q, Esc", NULL, "quit", act_quit },
};
#define N_ACTIONS (sizeof actions / sizeof actions[0])

static const char *key_names[N_ACTIONS], *key_help[N_ACTIONS], *button_labels[N_ACTIONS];
static int button_action[N_ACTIONS];

static int setup_ui(struct viz_ui *ui)
{
	size_t i;
	int nb = 0;

	for (i = 0; i < N_ACTIONS; i++) {
		key_names[i] = actions[i].key_name;
		key_help[i] = actions[i].help;
		if (actions[i].button) {
			button_labels[nb] = actions[i].button;
			button_action[nb++] = (int)i;
		}
	}
	ui->n_keys = (int)N_ACTIONS;
	ui->key_names = key_names;
	ui->key_help = key_help;
	ui->n_buttons = nb;
	ui->button_labels = button_labels;
	ui->pressed_button = -1;
	return nb;
}

static void run_action(struct app *a, const struct action *act)
{
	if (a->o->verbose)
		fprintf(stderr, "bmsviz: action: %s\n", act->help);
	act->run(a);
	a->dirty = 1;
}

static int on_char(struct app *a, char c)
{
	size_t i;

	for (i = 0; i < N_ACTIONS; i++)
		if (actions[i].chars && strchr(actions[i].chars, c) && c) {
			run_action(a, &actions[i]);
			return 1;
		}
	return 0;
}

static int on_key(struct app *a, SDL_Keycode k)
{
	size_t i;

	for (i = 0; i < N_ACTIONS; i++)
		if (actions[i].key && actions[i].key == k) {
			run_action(a, &actions[i]);
			return 1;
		}
	return 0;
}

static void on_click(struct app *a, int x, int y)
{
	int b, c;

	/* Hit-test what is on screen now: the cell count may have changed since the last frame. */
	viz_draw_layout(&a->d, a->m, a->ui.n_buttons);
	b = viz_layout_button_at(&a->d.L, x, y);

	if (b >= 0 && b < a->ui.n_buttons) {
		a->ui.pressed_button = b;
		run_action(a, &actions[button_action[b]]);
		return;
	}
	if (!a->ui.show_keymap && (c = viz_layout_cell_at(&a->d.L, x, y)) >= 0)
		select_cell(a, c);
}

/*
 * One --press token through the same handlers as real input: "s", "PageUp", "click:X:Y".
 * The caller waits for every reply (and so the refreshed state) before the next token, so
 * "PageUp,PageUp" raises a cell's SOC twice, not to the same value twice.
 */
static int press_one(struct app *a, const char *tok)
{
	int x, y;
	char end;

	if (sscanf(tok, "click:%d:%d%c", &x, &y, &end) == 2) {
		on_click(a, x, y);
		return 0;
	}
	if (strlen(tok) == 1) {
		if (on_char(a, tok[0]))
			return 0;
	} else {
		/* A named key that types a character ("space") goes where its text would go. */
		SDL_Keycode k = SDL_GetKeyFromName(tok);
		if ((k > 0 && k < 128 && on_char(a, (char)k)) || on_key(a, k))
			return 0;
	}
	fprintf(stderr, "bmsviz: --press: %s: no such key or action\n", tok);
	return -1;
}

/* The next token of the --press list (advancing *pos), or NULL at its end. */
static const char *next_token(const char *list, size_t *pos, char *tok, size_t cap)
{
	size_t n;

	while (list[*pos] == ',')
		(*pos)++;
	if (!list[*pos])
		return NULL;
	n = strcspn(list + *pos, ",");
	snprintf(tok, cap, "%.*s", (int)(n < cap ? n : cap - 1), list + *pos);
	*pos += n;
	return tok;
}

static int answered(const struct app *a)
{
	return a->m->last_reply_id >= a->m->next_id - 1;
}

/* ---- the socket and the window ----------------------------------------------------------- */

static void on_line(void *ctx, const char *line, size_t len)
{
	struct app *a = ctx;
	enum viz_line_kind k = viz_model_line(a->m, line, len);

	if (a->o->verbose && k != VIZ_LINE_FRAME && k != VIZ_LINE_STATE)
		fprintf(stderr, "bmsviz: < %.300s\n", line);
	a->dirty = 1;
}

static void present(struct app *a)
{
	SDL_Surface *ws;

	viz_draw_frame(&a->d, a->m, &a->ui);
	a->ui.pressed_button = -1;
	if (a->win && (ws = SDL_GetWindowSurface(a->win))) {
		SDL_BlitSurface(a->d.canvas, NULL, ws, NULL);
		SDL_UpdateWindowSurface(a->win);
	}
}

static void on_event(struct app *a, const SDL_Event *e)
{
	switch (e->type) {
	case SDL_QUIT:
		a->quit = 1;
		break;
	case SDL_TEXTINPUT: {
		const char *p;
		for (p = e->text.text; *p; p++)
			on_char(a, *p);
		break;
	}
	case SDL_KEYDOWN:
		on_key(a, e->key.keysym.sym);
		break;
	case SDL_MOUSEBUTTONDOWN:
		if (e->button.button == SDL_BUTTON_LEFT)
			on_click(a, e->button.x, e->button.y);
		break;
	case SDL_WINDOWEVENT:
		if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
			viz_draw_resize(&a->d, e->window.data1, e->window.data2);
		a->dirty = 1;
		break;
	default:
		break;
	}
}

static int save_png(struct app *a, const char *out)
{
	/* Every pixel is opaque: RGB, not the canvas's ARGB, makes a file a quarter smaller. */
	SDL_Surface *rgb = SDL_ConvertSurfaceFormat(a->d.canvas, SDL_PIXELFORMAT_RGB24, 0);
	const char *why = rgb ? NULL : SDL_GetError();
	struct host_file_out file;
	char err[4200];

	if (!rgb) {
		fprintf(stderr, "bmsviz: %s: cannot write: %s\n", out, why);
		return -1;
	}
	/* Through host_file_out, as every file the project writes: a fresh temporary created
	 * exclusively beside out, renamed over it once whole. */
	if (host_file_out_open(&file, out, err, sizeof err) != RIG_OK) {
		SDL_FreeSurface(rgb);
		fprintf(stderr, "bmsviz: %s\n", err);
		return -1;
	}
	{
		SDL_RWops *rw = SDL_RWFromFP(file.f, SDL_FALSE);

		if (!rw || IMG_SavePNG_RW(rgb, rw, 1) < 0)
			why = rw ? IMG_GetError() : SDL_GetError();
	}
	SDL_FreeSurface(rgb);
	if (why) {
		fprintf(stderr, "bmsviz: %s: cannot write: %s\n", out, why);
		host_file_out_abort(&file);
		return -1;
	}
	if (host_file_out_commit(&file, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmsviz: %s\n", err);
		return -1;
	}
	return 0;
}

static int loop(struct app *a)
{
	const struct opts *o = a->o;
	Uint64 start = SDL_GetTicks64(), next_draw = 0;
	size_t press_pos = 0;
	int pressing = o->press != NULL;

	for (;;) {
		SDL_Event e;
		Uint64 now;

		if (viz_conn_poll(&a->conn, 10, on_line, a) < 0 || a->dead) {
			fprintf(stderr, "bmsviz: %s: connection closed by bmssim\n", o->control);
			return EXIT_RUNTIME;
		}
		if (a->m->have_state) {
			char tok[64];
			subscribe(a);
			if (pressing && answered(a)) {
				if (!next_token(o->press, &press_pos, tok, sizeof tok))
					pressing = 0;
				else if (press_one(a, tok) < 0)
					return EXIT_USAGE;
			}
		}
		while (SDL_PollEvent(&e))
			on_event(a, &e);
		if (a->quit)
			return 0;
		now = SDL_GetTicks64();
		/* Headless too: every state is drawn as the window would draw it, not just the last. */
		if (a->dirty && now >= next_draw) {
			present(a);
			a->dirty = 0;
			next_draw = now + DRAW_PERIOD_MS;
		}
		if (o->screenshot) {
			if (now - start < (Uint64)o->after_ms)
				continue;
			if (!a->m->have_state || pressing) {
				if (now - start < (Uint64)o->after_ms + NO_STATE_GRACE)
					continue;
				fprintf(stderr, "bmsviz: %s: %s in %.1f s\n", o->control,
				        a->m->have_state ? "bmssim did not answer the --press requests"
				                         : "no state from bmssim",
				        (o->after_ms + NO_STATE_GRACE) / 1000.0);
				return EXIT_RUNTIME;
			}
			present(a);
			if (save_png(a, o->screenshot) < 0)
				return EXIT_RUNTIME;
			if (!o->quiet)
				fprintf(stderr, "bmsviz: wrote %s (%dx%d) after %lu states\n", o->screenshot,
				        a->d.L.w, a->d.L.h, a->m->states);
			return 0;
		}
	}
}

static int start(struct app *a)
{
	const struct opts *o = a->o;
	char err[512], title[300];
	int rc;

	if (o->screenshot && !getenv("SDL_VIDEODRIVER"))
		setenv("SDL_VIDEODRIVER", "offscreen", 1);
	/* The canvas is software-rendered already: a GL-backed window surface would only add a
	 * copy, and a GL driver to load (whose allocations LeakSanitizer then reports). */
	SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		fprintf(stderr, "bmsviz: SDL: %s\n", SDL_GetError());
		return EXIT_RUNTIME;
	}
	if (viz_draw_open(&a->d, o->w, o->h, a->ui.n_buttons, err, sizeof err) < 0) {
		fprintf(stderr, "bmsviz: %s\n", err);
		SDL_Quit();
		return EXIT_RUNTIME;
	}
	snprintf(title, sizeof title, "bmsviz - %s", o->control);
	a->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, a->d.L.w,
	                          a->d.L.h, o->screenshot ? SDL_WINDOW_HIDDEN : SDL_WINDOW_RESIZABLE);
	if (!a->win && !o->screenshot) {
		fprintf(stderr, "bmsviz: cannot open a window: %s\n", SDL_GetError());
		viz_draw_close(&a->d);
		SDL_Quit();
		return EXIT_RUNTIME;
	}
	if (a->win)
		SDL_SetWindowMinimumSize(a->win, VIZ_MIN_W, VIZ_MIN_H);
	if (o->screenshot)
		IMG_Init(IMG_INIT_PNG);

	request(a, "hello", cmd("hello"));
	subscribe(a);
	refresh(a);
	rc = loop(a);

	if (o->screenshot)
		IMG_Quit();
	if (a->win)
		SDL_DestroyWindow(a->win);
	viz_draw_close(&a->d);
	SDL_Quit();
	return rc;
}

/* ---- options ----------------------------------------------------------------------------- */

static void usage(FILE *to)
{
	size_t i;

	fputs("Usage: bmsviz --control PATH [--screenshot OUT.png [--after TIME]] [options]\n"
	      "A window onto a running bmssim (bmssim serve|run --control PATH): the cells, the BMS's\n"
	      "measurements and decisions, the device under test's report beside the truth, plots,\n"
	      "the decoded frames and the scenario; keys and clicks inject faults and change the load.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --control PATH     bmssim's control socket (required)\n"
	      "  -o, --screenshot FILE  headless: render (SDL offscreen driver), write FILE as PNG, exit\n"
	      "  -a, --after TIME       wait this long before the screenshot: 5s, 1500ms, 2.5 (s);\n"
	      "                         default 2s\n"
	      "      --size WxH         window or screenshot size, default 1280x800 (min 640x400)\n"
	      "      --press KEYS       once the first state is in: press these keys, comma separated:\n"
	      "                         a character (s, +), an SDL key name (PageUp, Right) or\n"
	      "                         click:X:Y; the same handlers as the keyboard and mouse, each\n"
	      "                         after the replies to the one before; a screenshot waits for them\n"
	      "      --chem CHEM        the cell scale: auto (default: from the first cells), lfp, nmc\n"
	      "      --diff-mv N        a DUT cell this far from the truth is highlighted (default 20)\n"
	      "      --print-layout     print the regions for --size and --cells as JSON and exit\n"
	      "      --cells N          cell count for --print-layout (default 4)\n"
	      "  -q, --quiet            no progress messages\n"
	      "  -v, --verbose          every request and reply on stderr\n"
	      "  -h, --help             this text\n"
	      "      --version          print the version and exit\n"
	      "\n"
	      "Keys:\n", to);
	for (i = 0; i < N_ACTIONS; i++)
		fprintf(to, "  %-10s %s\n", actions[i].key_name, actions[i].help);
	fputs("\nExit status: 0 ok (a screenshot written); 1 runtime failure (the socket closed, no\n"
	      "state arrived, the PNG could not be written, fonts missing); 2 usage error or cannot\n"
	      "connect.\n", to);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("bmsviz: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (try --help)\n", stderr);
	return -1;
}

static int parse_after(const char *s, double *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		*ms = v;
	else if (!strcmp(end, "s") || !*end)
		*ms = v * 1000.0;
	else
		return -1;
	return *ms <= 3600e3 ? 0 : -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_SIZE = 256, O_PRESS, O_CHEM, O_DIFF, O_LAYOUT, O_CELLS, O_VERSION };
	static const struct option lo[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "screenshot", required_argument, NULL, 'o' },
		{ "after", required_argument, NULL, 'a' },
		{ "size", required_argument, NULL, O_SIZE },
		{ "press", required_argument, NULL, O_PRESS },
		{ "chem", required_argument, NULL, O_CHEM },
		{ "diff-mv", required_argument, NULL, O_DIFF },
		{ "print-layout", no_argument, NULL, O_LAYOUT },
		{ "cells", required_argument, NULL, O_CELLS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c, after_given = 0;

	*o = (struct opts){ .after_ms = 2000, .diff_mv = 20, .w = DEFAULT_W, .h = DEFAULT_H,
	                    .cells = 4, .chem = VIZ_CHEM_AUTO };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:o:a:qvh", lo, NULL)) != -1) {
		char end;
		switch (c) {
		case 'c': o->control = optarg; break;
		case 'o': o->screenshot = optarg; break;
		case 'a':
			after_given = 1;
			if (parse_after(optarg, &o->after_ms) < 0)
				return usage_error("--after: expected a time like 5s or 500ms, got \"%s\"", optarg);
			break;
		case O_SIZE:
			if (sscanf(optarg, "%dx%d%c", &o->w, &o->h, &end) != 2 || o->w < VIZ_MIN_W ||
			    o->h < VIZ_MIN_H || o->w > VIZ_MAX_W || o->h > VIZ_MAX_H)
				return usage_error("--size: expected WxH from 640x400 to 7680x4320, got \"%s\"", optarg);
			break;
		case O_PRESS: o->press = optarg; break;
		case O_CHEM:
			if (!strcmp(optarg, "auto")) o->chem = VIZ_CHEM_AUTO;
			else if (!strcmp(optarg, "lfp")) o->chem = VIZ_CHEM_LFP;
			else if (!strcmp(optarg, "nmc")) o->chem = VIZ_CHEM_NMC;
			else return usage_error("--chem: expected auto, lfp or nmc, got \"%s\"", optarg);
			break;
		case O_DIFF:
			if (sscanf(optarg, "%lf%c", &o->diff_mv, &end) != 1 || !(o->diff_mv >= 0) ||
			    o->diff_mv > 10000)
				return usage_error("--diff-mv: expected 0..10000 mV, got \"%s\"", optarg);
			break;
		case O_LAYOUT: o->print_layout = 1; break;
		case O_CELLS:
			if (sscanf(optarg, "%d%c", &o->cells, &end) != 1 || o->cells < 1 ||
			    o->cells > VIZ_MAX_CELLS)
				return usage_error("--cells: expected 1..32, got \"%s\"", optarg);
			break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case O_VERSION: printf("bmsviz %s\n", BMSRIG_VERSION); exit(0);
		case ':': return usage_error("%s: needs a value", argv[optind - 1]);
		default: return usage_error("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o->print_layout)
		return 0;
	if (!o->control)
		return usage_error("%s", "--control PATH is required");
	if (after_given && !o->screenshot)
		return usage_error("%s", "--after needs --screenshot");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct app a;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	memset(&a, 0, sizeof a);
	a.o = &o;
	setup_ui(&a.ui);
	a.ui.source = o.control;
	if (o.print_layout) {
		struct viz_layout L;
		viz_layout_compute(&L, o.w, o.h, o.cells, a.ui.n_buttons);
		viz_layout_print(stdout, &L, button_labels);
		return 0;
	}
	if (viz_conn_open(&a.conn, o.control) < 0) {
		fprintf(stderr, "bmsviz: %s: cannot connect: %s\n", o.control, strerror(errno));
		return EXIT_USAGE;
	}
	a.m = malloc(sizeof *a.m);
	if (!a.m) {
		fprintf(stderr, "bmsviz: out of memory\n");
		viz_conn_close(&a.conn);
		return EXIT_RUNTIME;
	}
	viz_model_init(a.m, o.chem, o.diff_mv);
	rc = start(&a);
	viz_conn_close(&a.conn);
	free(a.m);
	return rc;
}
