/* bmsviz's drawing: one software-rendered canvas, regions from viz_layout. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bmsrig/viz/viz_draw.h"

/* One palette; the cell colours themselves come from viz_cell_colour (the documented scale). */
static const SDL_Color
	C_BG = { 22, 24, 28, 255 }, C_PANEL = { 34, 37, 43, 255 }, C_BORDER = { 66, 70, 80, 255 },
	C_TEXT = { 225, 228, 232, 255 }, C_DIM = { 140, 146, 156, 255 },
	C_BARBG = { 50, 54, 62, 255 }, C_SEL = { 80, 150, 255, 255 }, C_SELBG = { 44, 50, 64, 255 },
	C_DIFF = { 255, 60, 220, 255 }, C_BAL = { 70, 200, 255, 255 }, C_ON = { 40, 165, 75, 255 },
	C_OFF = { 205, 40, 40, 255 }, C_UNK = { 88, 92, 102, 255 }, C_WARN = { 255, 165, 0, 255 },
	C_CHG = { 70, 160, 255, 255 }, C_DSG = { 255, 150, 40, 255 }, C_GRID = { 58, 62, 70, 255 },
	C_CURSOR = { 255, 220, 60, 255 }, C_BMS = { 235, 235, 235, 255 };

#define CELSIUS(dk) (((dk) - 2731.5) / 10.0)

/* ---- primitives ------------------------------------------------------------------------ */

static SDL_Rect R(struct viz_rect r)
{
	SDL_Rect s = { r.x, r.y, r.w, r.h };
	return s;
}

static void colour(struct viz_draw *d, SDL_Color c)
{
	SDL_SetRenderDrawColor(d->r, c.r, c.g, c.b, c.a);
}

static void fill(struct viz_draw *d, struct viz_rect r, SDL_Color c)
{
	SDL_Rect s = R(r);
	colour(d, c);
	SDL_RenderFillRect(d->r, &s);
}

static void outline(struct viz_draw *d, struct viz_rect r, SDL_Color c)
{
	SDL_Rect s = R(r);
	colour(d, c);
	SDL_RenderDrawRect(d->r, &s);
}

static void hline(struct viz_draw *d, int x0, int x1, int y, SDL_Color c)
{
	colour(d, c);
	SDL_RenderDrawLine(d->r, x0, y, x1, y);
}

static void clip(struct viz_draw *d, const struct viz_rect *r)
{
	SDL_Rect s;

	if (!r) {
		SDL_RenderSetClipRect(d->r, NULL);
		return;
	}
	s = R(*r);
	SDL_RenderSetClipRect(d->r, &s);
}

static int text_w(TTF_Font *f, const char *s)
{
	int w = 0, h = 0;
	return *s && TTF_SizeUTF8(f, s, &w, &h) == 0 ? w : 0;
}

static void cache_flush(struct viz_draw *d)
{
	int i;

	for (i = 0; i < VIZ_TEXT_CACHE; i++)
		if (d->cache[i].tex)
			SDL_DestroyTexture(d->cache[i].tex);
	memset(d->cache, 0, sizeof d->cache);
}

/* The slot a string lives in (FNV-1a over font, colour and text). */
static struct viz_text *cache_slot(struct viz_draw *d, TTF_Font *f, Uint32 rgba, const char *s)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)f ^ ((uint64_t)rgba << 20);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return &d->cache[h % VIZ_TEXT_CACHE];
}

/* Draws s with its top-left at (x, y); returns its width. Rasterising text is most of a
 * frame's cost, so a string drawn in the last frames is reused. */
static int text(struct viz_draw *d, TTF_Font *f, int x, int y, SDL_Color c, const char *s)
{
	Uint32 rgba = (Uint32)c.r << 24 | (Uint32)c.g << 16 | (Uint32)c.b << 8 | c.a;
	struct viz_text *e;
	SDL_Surface *surf;
	SDL_Rect dst;

	if (!*s)
		return 0;
	e = cache_slot(d, f, rgba, s);
	if (!(e->tex && e->font == f && e->rgba == rgba && !strcmp(e->s, s))) {
		if (!(surf = TTF_RenderUTF8_Blended(f, s, c)))
			return 0;
		if (e->tex)
			SDL_DestroyTexture(e->tex);
		e->tex = SDL_CreateTextureFromSurface(d->r, surf);
		e->w = surf->w;
		e->h = surf->h;
		SDL_FreeSurface(surf);
		if (!e->tex)
			return 0;
		e->font = f;
		e->rgba = rgba;
		/* A string too long for the key is drawn but never matched again. */
		snprintf(e->s, sizeof e->s, "%s", strlen(s) < sizeof e->s ? s : "");
	}
	dst = (SDL_Rect){ x, y, e->w, e->h };
	SDL_RenderCopy(d->r, e->tex, NULL, &dst);
	return e->w;
}

static int textf(struct viz_draw *d, TTF_Font *f, int x, int y, SDL_Color c, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int textf(struct viz_draw *d, TTF_Font *f, int x, int y, SDL_Color c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return text(d, f, x, y, c, buf);
}

static void text_right(struct viz_draw *d, TTF_Font *f, int xr, int y, SDL_Color c, const char *s)
{
	text(d, f, xr - text_w(f, s), y, c, s);
}

static void text_centre(struct viz_draw *d, TTF_Font *f, struct viz_rect r, SDL_Color c,
                        const char *s)
{
	text(d, f, r.x + (r.w - text_w(f, s)) / 2, r.y + (r.h - TTF_FontHeight(f)) / 2, c, s);
}

static void panel(struct viz_draw *d, struct viz_rect r, const char *title)
{
	fill(d, r, C_PANEL);
	outline(d, r, C_BORDER);
	if (title)
		text(d, d->sans, r.x + 6, r.y + 1, C_DIM, title);
}

/* A number or a dash: absent values never print as "nan", absurd ones not as 20 digits. */
static const char *num(char *buf, size_t cap, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (fabs(v) >= 1e9)
		snprintf(buf, cap, "?");
	else
		snprintf(buf, cap, "%.*f", decimals, v);
	return buf;
}

static SDL_Color rgb(const uint8_t c[3])
{
	SDL_Color s = { c[0], c[1], c[2], 255 };
	return s;
}

static int bit(double mask, int i)
{
	return !isnan(mask) && i >= 0 && i < 32 && (((uint32_t)mask >> i) & 1u);
}

/* ---- open / close ----------------------------------------------------------------------- */

static TTF_Font *font(const char *path, int px, char *err, size_t cap)
{
	TTF_Font *f = TTF_OpenFont(path, px);

	if (!f)
		snprintf(err, cap, "font %s: %s (install the Debian package %s)", path, TTF_GetError(),
		         VIZ_FONT_PKG);
	return f;
}

int viz_draw_open(struct viz_draw *d, int w, int h, int n_buttons, char *err, size_t cap)
{
	memset(d, 0, sizeof *d);
	if (TTF_Init() < 0) {
		snprintf(err, cap, "SDL_ttf: %s", TTF_GetError());
		return -1;
	}
	if (!(d->sans = font(VIZ_FONT_SANS, 12, err, cap)) ||
	    !(d->small = font(VIZ_FONT_SANS, 10, err, cap)) ||
	    !(d->mono = font(VIZ_FONT_MONO, 11, err, cap)) ||
	    !(d->big = font(VIZ_FONT_BOLD, 17, err, cap))) {
		viz_draw_close(d);
		return -1;
	}
	viz_layout_compute(&d->L, w, h, 4, n_buttons);
	if (viz_draw_resize(d, w, h) < 0) {
		snprintf(err, cap, "canvas %dx%d: %s", w, h, SDL_GetError());
		viz_draw_close(d);
		return -1;
	}
	return 0;
}

int viz_draw_resize(struct viz_draw *d, int w, int h)
{
	SDL_Surface *s;
	SDL_Renderer *r;

	viz_layout_compute(&d->L, w, h, d->L.n_cells, d->L.n_buttons);
	s = SDL_CreateRGBSurfaceWithFormat(0, d->L.w, d->L.h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!s)
		return -1;
	r = SDL_CreateSoftwareRenderer(s);
	if (!r) {
		SDL_FreeSurface(s);
		return -1;
	}
	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
	cache_flush(d);                    /* its textures belong to the old renderer */
	if (d->r)
		SDL_DestroyRenderer(d->r);
	if (d->canvas)
		SDL_FreeSurface(d->canvas);
	d->canvas = s;
	d->r = r;
	return 0;
}

void viz_draw_close(struct viz_draw *d)
{
	TTF_Font **fonts[] = { &d->sans, &d->small, &d->mono, &d->big };
	size_t i;

	cache_flush(d);
	if (d->r)
		SDL_DestroyRenderer(d->r);
	if (d->canvas)
		SDL_FreeSurface(d->canvas);
	for (i = 0; i < sizeof fonts / sizeof fonts[0]; i++)
		if (*fonts[i])
			TTF_CloseFont(*fonts[i]);
	if (TTF_WasInit())
		TTF_Quit();
	memset(d, 0, sizeof *d);
}

/* ---- header, status, toolbar, key map --------------------------------------------------- */

static void draw_header(struct viz_draw *d, const struct viz_model *m, const struct viz_ui *ui)
{
	const struct viz_state *st = &m->st;
	char t[32], rate[32];
	int x;

	fill(d, d->L.header, C_PANEL);
	x = 8 + text(d, d->sans, 8, 4, C_TEXT, "bmsviz");
	x += 12 + textf(d, d->sans, x + 12, 4, C_DIM, "%s  bmssim %s, protocol %d", ui->source,
	                m->mode[0] ? m->mode : "?", m->protocol);
	if (!m->have_state) {
		text(d, d->sans, x + 20, 4, C_WARN, "waiting for the first state...");
		return;
	}
	num(t, sizeof t, st->t_ms / 1000.0, 1);
	num(rate, sizeof rate, st->rate, st->rate < 1 ? 2 : 0);
	x += 20 + textf(d, d->sans, x + 20, 4, C_TEXT, "t = %s s   rate x%s", t, rate);
	x += 16 + text(d, d->sans, x + 16, 4, st->paused == 1 ? C_WARN : C_ON,
	               st->paused == 1 ? "PAUSED" : "RUNNING");
	textf(d, d->sans, x + 16, 4, C_DIM, "units %d   states %lu   bad lines %lu", st->n_units,
	      m->states, m->bad_lines);
	text_right(d, d->sans, d->L.w - 8, 4, C_DIM, "? keys");
}

static void draw_status(struct viz_draw *d, const struct viz_model *m)
{
	char right[64];

	fill(d, d->L.status, C_BG);
	hline(d, 0, d->L.w, d->L.status.y, C_BORDER);
	text(d, d->sans, 8, d->L.status.y + 4, m->status_error ? C_OFF : C_TEXT,
	     m->status[0] ? m->status : "ready: press ? for the key map, click a cell to select it");
	snprintf(right, sizeof right, "cell %d selected", m->cell_sel + 1);
	text_right(d, d->sans, d->L.w - 8, d->L.status.y + 4, C_SEL, right);
}

static void draw_toolbar(struct viz_draw *d, const struct viz_ui *ui)
{
	int i;

	fill(d, d->L.toolbar, C_BG);
	for (i = 0; i < d->L.n_buttons && i < ui->n_buttons; i++) {
		struct viz_rect b = d->L.button[i];
		fill(d, b, i == ui->pressed_button ? C_SEL : C_PANEL);
		outline(d, b, C_BORDER);
		clip(d, &b);
		text_centre(d, text_w(d->sans, ui->button_labels[i]) <= b.w - 4 ? d->sans : d->small, b,
		            C_TEXT, ui->button_labels[i]);
		clip(d, NULL);
	}
}

static void draw_keymap(struct viz_draw *d, const struct viz_ui *ui)
{
	struct viz_rect k = d->L.keymap;
	SDL_Color shade = { 10, 12, 16, 235 };
	int i, y = k.y + 30;

	fill(d, k, shade);
	outline(d, k, C_SEL);
	text(d, d->big, k.x + 12, k.y + 6, C_TEXT, "Keys and mouse (? closes)");
	clip(d, &k);
	for (i = 0; i < ui->n_keys && y < k.y + k.h - 40; i++, y += VIZ_LINE_H + 1) {
		text(d, d->mono, k.x + 16, y, C_SEL, ui->key_names[i]);
		text(d, d->sans, k.x + 130, y, C_TEXT, ui->key_help[i]);
	}
	text(d, d->sans, k.x + 16, y + 6, C_DIM,
	     "Mouse: click a cell to select it; click a button in the bottom bar to run it.");
	text(d, d->sans, k.x + 16, y + 6 + VIZ_LINE_H, C_DIM,
	     "Every action is a control request; a refusal shows in the status line.");
	clip(d, NULL);
}

/* ---- cells ------------------------------------------------------------------------------ */

static int y_of(const struct viz_model *m, const struct viz_rect *bar, double mv)
{
	return bar->y + bar->h - (int)lround(viz_cell_frac(m, mv) * bar->h);
}

static void draw_scale(struct viz_draw *d, const struct viz_model *m)
{
	const double marks[] = { m->bar_min_mv, m->chem_lo_cut, m->chem_lo_warn, m->chem_hi_warn,
	                         m->chem_hi_cut, m->bar_max_mv };
	const struct viz_rect *s = &d->L.scale;
	int x_end = d->L.cell_col[d->L.n_cells - 1].x + d->L.cell_col[d->L.n_cells - 1].w;
	size_t i;

	for (i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		int y = y_of(m, s, marks[i]);
		uint8_t c[3];
		char v[16];
		int dash;

		viz_cell_colour(m, marks[i], c);
		snprintf(v, sizeof v, "%.2f", marks[i] / 1000.0);
		text_right(d, d->small, s->x + s->w - 4, y - 6, rgb(c), v);
		/* Dashed guides between the bars (the bars are drawn over them). */
		for (dash = s->x + s->w; dash < x_end; dash += 8)
			hline(d, dash, dash + 3, y, C_GRID);
	}
}

static void draw_cell(struct viz_draw *d, const struct viz_model *m, const struct viz_unit *u,
                      int i, int imin, int imax)
{
	const struct viz_layout *L = &d->L;
	const struct viz_reading *t = &u->r[VIZ_TRUTH], *b = &u->r[VIZ_BMS], *dut = &u->r[VIZ_DUT];
	double tv = i < t->n_cells ? t->cells_mv[i] : NAN;
	double bv = i < b->n_cells ? b->cells_mv[i] : NAN;
	double dv = dut->present && i < dut->n_cells ? dut->cells_mv[i] : NAN;
	int dut_diff = !isnan(dv) && !isnan(tv) && fabs(dv - tv) > m->diff_mv;
	int bms_diff = !isnan(bv) && !isnan(tv) && fabs(bv - tv) > m->diff_mv;
	struct viz_rect bar = L->cell_bar[i], fillr = bar, strip = L->cell_dut[i];
	struct viz_rect mk = L->cell_mark[i], tx = L->cell_text[i];
	int cw = L->cell_col[i].w, ty = tx.y, wide = cw >= 44;
	uint8_t c[3];
	char v[32];

	if (i == m->cell_sel) {
		fill(d, L->cell_col[i], C_SELBG);
		outline(d, L->cell_col[i], C_SEL);
	}
	fill(d, bar, C_BARBG);
	viz_cell_colour(m, isnan(tv) ? bv : tv, c);
	fillr.h = bar.y + bar.h - y_of(m, &bar, isnan(tv) ? bv : tv);
	fillr.y = bar.y + bar.h - fillr.h;
	fill(d, fillr, rgb(c));

	/* The strip beside the bar: magenta all along when the DUT disagrees, then the ticks. */
	fill(d, strip, dut_diff ? C_DIFF : C_BARBG);
	if (!isnan(bv))
		fill(d, (struct viz_rect){ strip.x, y_of(m, &bar, bv) - 1, strip.w, 2 }, C_BMS);
	if (!isnan(dv))
		fill(d, (struct viz_rect){ strip.x - 2, y_of(m, &bar, dv) - 1, strip.w + 4, 3 },
		     dut_diff ? C_TEXT : C_DIFF);

	clip(d, &L->cell_col[i]);
	if (i == imax)
		text(d, d->small, mk.x + 2, mk.y, C_WARN, wide ? "\u25B2max" : "\u25B2");
	if (i == imin)
		text(d, d->small, mk.x + 2, mk.y, C_SEL, wide ? "\u25BCmin" : "\u25BC");
	if (bit(b->bal_mask, i))
		text(d, d->small, mk.x + 2, mk.y + 14, C_BAL, wide ? "\u2248bal" : "\u2248");
	if (bit(u->open_wire_mask, i))
		text_right(d, d->small, mk.x + mk.w - 2, mk.y + 14, C_OFF, wide ? "open" : "!");
	else if (bit(u->force_mask, i))
		text_right(d, d->small, mk.x + mk.w - 2, mk.y + 14, C_WARN, wide ? "forced" : "f");

	textf(d, d->sans, tx.x + 2, ty, i == m->cell_sel ? C_SEL : C_TEXT, "%d", i + 1);
	if (wide) {
		text(d, d->small, tx.x + 2, ty + 15, C_TEXT, num(v, sizeof v, tv, 1));
		text(d, d->small, tx.x + 2, ty + 29, bms_diff ? C_WARN : C_DIM, num(v, sizeof v, bv, 0));
		text(d, d->small, tx.x + 2, ty + 43, dut_diff ? C_DIFF : C_DIM, num(v, sizeof v, dv, 0));
	}
	clip(d, NULL);
}

static void draw_cells(struct viz_draw *d, const struct viz_model *m, const struct viz_unit *u)
{
	const struct viz_reading *t = &u->r[VIZ_TRUTH];
	int i, imin, imax;
	char title[128];

	snprintf(title, sizeof title, "Cells: truth bar, BMS tick (white), DUT tick (magenta);"
	         " %s scale", m->chem == VIZ_CHEM_NMC ? "NMC" : "LFP");
	panel(d, d->L.cells, title);
	if (d->L.cells.w > 650)
		text_right(d, d->small, d->L.cells.x + d->L.cells.w - 6, d->L.cells.y + 3, C_DIM,
		           "rows: truth mV, BMS, DUT");
	draw_scale(d, m);
	viz_min_max(t, &imin, &imax);
	for (i = 0; i < d->L.n_cells; i++)
		draw_cell(d, m, u, i, imin, imax);
}

/* ---- the pack panel --------------------------------------------------------------------- */

static void indicator(struct viz_draw *d, struct viz_rect r, const char *name, double on,
                      const char *on_text, const char *off_text)
{
	char s[48];

	fill(d, r, isnan(on) ? C_UNK : on != 0 ? C_ON : C_OFF);
	outline(d, r, C_BORDER);
	snprintf(s, sizeof s, "%s %s", name, isnan(on) ? "n/a" : on != 0 ? on_text : off_text);
	clip(d, &r);
	text_centre(d, d->sans, r, C_TEXT, s);
	clip(d, NULL);
}

/*
 * A table row: one quantity per side, scaled for display, and how far a side may stray. The
 * BMS is held to the truth. The DUT is held to the truth where it reports a measurement, but
 * to the BMS where it can only repeat the BMS's own estimate or decision (SOC, FETs, flags).
 */
struct row {
	const char *label;
	double (*get)(const struct viz_reading *r, int arg);
	int arg, decimals;
	double tol;
	int hex;
	enum viz_side dut_ref;
};

static double get_pack(const struct viz_reading *r, int a) { (void)a; return r->pack_mv / 1000.0; }
static double get_curr(const struct viz_reading *r, int a) { (void)a; return r->current_ma / 1000.0; }
static double get_soc(const struct viz_reading *r, int a) { (void)a; return r->soc_pct; }
static double get_chg(const struct viz_reading *r, int a) { (void)a; return r->fet_chg; }
static double get_dsg(const struct viz_reading *r, int a) { (void)a; return r->fet_dsg; }
static double get_prot(const struct viz_reading *r, int a) { (void)a; return r->prot; }
static double get_cell(const struct viz_reading *r, int a)
{
	return a >= 0 && a < r->n_cells ? r->cells_mv[a] : NAN;
}
static double get_temp(const struct viz_reading *r, int a)
{
	return a >= 0 && a < r->n_temps ? CELSIUS(r->temps_dk[a]) : NAN;
}
static double get_min(const struct viz_reading *r, int a)
{
	int lo, hi;
	(void)a;
	viz_min_max(r, &lo, &hi);
	return lo >= 0 ? r->cells_mv[lo] : NAN;
}
static double get_max(const struct viz_reading *r, int a)
{
	int lo, hi;
	(void)a;
	viz_min_max(r, &lo, &hi);
	return hi >= 0 ? r->cells_mv[hi] : NAN;
}

static void table_row(struct viz_draw *d, const struct viz_unit *u, const struct row *row,
                      int y, const int *col)
{
	int s;

	text(d, d->sans, col[0], y, C_DIM, row->label);
	for (s = 0; s < VIZ_SIDES; s++) {
		double v = u->r[s].present ? row->get(&u->r[s], row->arg) : NAN;
		enum viz_side ref = s == VIZ_DUT ? row->dut_ref : VIZ_TRUTH;
		double rv = u->r[ref].present ? row->get(&u->r[ref], row->arg) : NAN;
		int off = s != VIZ_TRUTH && !isnan(v) && !isnan(rv) && fabs(v - rv) > row->tol;
		SDL_Color c = s == VIZ_TRUTH ? C_TEXT : !off ? C_TEXT : s == VIZ_DUT ? C_DIFF : C_WARN;
		char buf[32];

		if (off && s == VIZ_DUT)
			fill(d, (struct viz_rect){ col[s + 1] - 70, y, 72, VIZ_LINE_H - 1 },
			     (SDL_Color){ 90, 20, 80, 255 });
		if (row->hex && !isnan(v))
			snprintf(buf, sizeof buf, "0x%04X", (unsigned)v);
		else
			num(buf, sizeof buf, v, row->decimals);
		text_right(d, d->sans, col[s + 1], y, c, buf);
	}
}

static void draw_table(struct viz_draw *d, const struct viz_model *m, const struct viz_unit *u)
{
	const struct viz_rect *t = &d->L.table;
	/* label column, then the right edges of truth, BMS, DUT */
	const int col[4] = { t->x, t->x + t->w * 55 / 100, t->x + t->w * 77 / 100, t->x + t->w - 4 };
	char cell_label[24];
	const struct row fixed[] = {
		{ "pack V", get_pack, 0, 3, 0.1, 0, VIZ_TRUTH },
		{ "current A", get_curr, 0, 2, 0.5, 0, VIZ_TRUTH },
		{ "SOC %", get_soc, 0, 1, 2.0, 0, VIZ_BMS },
		{ cell_label, get_cell, m->cell_sel, 1, m->diff_mv, 0, VIZ_TRUTH },
		{ "min cell mV", get_min, 0, 1, m->diff_mv, 0, VIZ_TRUTH },
		{ "max cell mV", get_max, 0, 1, m->diff_mv, 0, VIZ_TRUTH },
		{ "CHG FET", get_chg, 0, 0, 0.5, 0, VIZ_BMS },
		{ "DSG FET", get_dsg, 0, 0, 0.5, 0, VIZ_BMS },
		{ "protection", get_prot, 0, 0, 0.5, 1, VIZ_BMS },
	};
	int y = t->y, i, n_temps = u->r[VIZ_TRUTH].n_temps;
	size_t k;

	snprintf(cell_label, sizeof cell_label, "cell %d mV", m->cell_sel + 1);
	clip(d, t);
	if (t->w > 460)
		text(d, d->small, col[0], y + 2, C_DIM, "(off: DUT magenta, BMS orange)");
	text_right(d, d->sans, col[1], y, C_DIM, "truth");
	text_right(d, d->sans, col[2], y, C_DIM, "BMS");
	text_right(d, d->sans, col[3], y, u->r[VIZ_DUT].present ? C_DIM : C_UNK,
	           u->r[VIZ_DUT].present ? "DUT" : "no DUT");
	y += VIZ_LINE_H;
	for (k = 0; k < sizeof fixed / sizeof fixed[0] && y < t->y + t->h; k++, y += VIZ_LINE_H - 1)
		table_row(d, u, &fixed[k], y, col);
	for (i = 0; i < n_temps && y < t->y + t->h; i++, y += VIZ_LINE_H - 1) {
		char label[24];
		struct row r = { label, get_temp, i, 1, 1.0, 0, VIZ_TRUTH };
		snprintf(label, sizeof label, "T%d \u00B0C", i + 1);
		table_row(d, u, &r, y, col);
	}
	clip(d, NULL);
}

static void mask_names(char *out, size_t cap, double mask, const char *const *names, int n)
{
	size_t len = 0;
	int i;

	out[0] = 0;
	for (i = 0; i < n; i++)
		if (bit(mask, i))
			len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s",
			                        len ? ", " : "", names[i]);
	if (len >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

static void draw_faults_line(struct viz_draw *d, const struct viz_unit *u, int x, int y)
{
	char buf[256];
	size_t len = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < 32; i++) {
		if (bit(u->ntc_open_mask, i))
			len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0,
			                        "NTC%d open, ", i + 1);
		if (bit(u->ntc_short_mask, i))
			len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0,
			                        "NTC%d short, ", i + 1);
		if (bit(u->open_wire_mask, i))
			len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0,
			                        "wire %d open, ", i + 1);
	}
	for (i = 0; i < u->n_line_faults; i++)
		len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0, "%s, ",
		                        u->line_faults[i]);
	if (len >= 2 && len < sizeof buf)
		buf[len - 2] = 0;
	x += text(d, d->sans, x, y, C_DIM, "faults: ");
	text(d, d->sans, x, y, buf[0] ? C_WARN : C_TEXT, buf[0] ? buf : "none");
}

/* What the BMS tells an inverter: CVL, CCL, DCL, DVL and the request bits, warnings in colour. */
static void draw_limits_line(struct viz_draw *d, const struct viz_unit *u, int x, int y)
{
	const struct viz_limits *l = &u->limits;
	char buf[256], v[4][16];

	if (!l->present)
		return;
	x += text(d, d->sans, x, y, C_DIM, "inverter: ");
	x += textf(d, d->sans, x, y, C_TEXT, "CVL %s V  CCL %s A  DCL %s A  DVL %s V  ",
	           num(v[0], sizeof v[0], l->cvl_mv / 1000.0, 1), num(v[1], sizeof v[1], l->ccl_ma / 1000.0, 1),
	           num(v[2], sizeof v[2], l->dcl_ma / 1000.0, 1), num(v[3], sizeof v[3], l->dvl_mv / 1000.0, 1));
	mask_names(buf, sizeof buf, l->request, viz_request_names, VIZ_REQUEST_BITS);
	x += text(d, d->sans, x, y, buf[0] ? C_TEXT : C_OFF, buf[0] ? buf : "none allowed");
	mask_names(buf, sizeof buf, l->warn, viz_prot_names, VIZ_PROT_BITS);
	if (buf[0])
		textf(d, d->sans, x + 8, y, C_WARN, "warn %s", buf);
}

static void draw_pack(struct viz_draw *d, const struct viz_model *m, const struct viz_unit *u)
{
	const struct viz_layout *L = &d->L;
	const struct viz_reading *t = &u->r[VIZ_TRUTH], *b = &u->r[VIZ_BMS], *dut = &u->r[VIZ_DUT];
	double a = t->current_ma / 1000.0;
	struct viz_rect g = L->soc;
	char buf[256], v1[16], v2[16], v3[16];
	int x;

	panel(d, L->pack, NULL);
	clip(d, &L->title);
	textf(d, d->sans, L->title.x, L->title.y, C_TEXT, "unit %d of %d   %s   %s   link %s %s",
	      u->unit, m->st.n_units, u->proto, u->port, u->link_kind, u->link_state);
	clip(d, NULL);
	indicator(d, L->fet_chg, "CHG FET", b->fet_chg, "on", "off");
	indicator(d, L->fet_dsg, "DSG FET", b->fet_dsg, "on", "off");
	indicator(d, L->relay, "RELAY", dut->present ? dut->relay : NAN, "closed", "open");

	/* Current: + is charging (into the pack, up), - discharging (out, down). */
	clip(d, &L->current);
	if (isnan(a))
		x = text(d, d->big, L->current.x, L->current.y + 2, C_DIM, "current -");
	else if (fabs(a) < 0.005)
		x = textf(d, d->big, L->current.x, L->current.y + 2, C_DIM, "\u25C6 0.00 A idle");
	else
		x = textf(d, d->big, L->current.x, L->current.y + 2, a > 0 ? C_CHG : C_DSG,
		          "%s %+.2f A %s", a > 0 ? "\u25B2" : "\u25BC", a,
		          a > 0 ? "charging" : "discharging");
	textf(d, d->sans, L->current.x + x + 16, L->current.y + 6, C_DIM, "load %s A   pack %s V",
	      num(v1, sizeof v1, u->requested_ma / 1000.0, 1), num(v2, sizeof v2, t->pack_mv / 1000.0, 3));
	clip(d, NULL);

	/* SOC gauge: red when low, green from 20 %. */
	fill(d, g, C_BARBG);
	if (!isnan(t->soc_pct)) {
		struct viz_rect f = g;
		double s = t->soc_pct < 0 ? 0 : t->soc_pct > 100 ? 100 : t->soc_pct;
		f.w = (int)lround(g.w * s / 100.0);
		fill(d, f, s < 10 ? C_OFF : s < 20 ? C_WARN : C_ON);
	}
	outline(d, g, C_BORDER);
	snprintf(buf, sizeof buf, "SOC %s %%   BMS %s %%   DUT %s %%", num(v1, sizeof v1, t->soc_pct, 1),
	         num(v2, sizeof v2, b->soc_pct, 0), num(v3, sizeof v3, dut->soc_pct, 0));
	text_centre(d, d->sans, g, C_TEXT, buf);

	clip(d, &L->prot);
	mask_names(buf, sizeof buf, b->prot, viz_prot_names, VIZ_PROT_BITS);
	x = text(d, d->sans, L->prot.x, L->prot.y, C_DIM, "protection: ");
	x += text(d, d->sans, L->prot.x + x, L->prot.y, buf[0] ? C_OFF : C_TEXT, buf[0] ? buf : "none");
	if (dut->present && !isnan(dut->why) && dut->why != 0) {
		mask_names(buf, sizeof buf, dut->why, viz_why_names, VIZ_WHY_BITS);
		textf(d, d->sans, L->prot.x + x + 16, L->prot.y, C_DIFF, "DUT relay why: %s", buf);
	}
	draw_faults_line(d, u, L->prot.x, L->prot.y + VIZ_LINE_H);
	draw_limits_line(d, u, L->prot.x, L->prot.y + 2 * VIZ_LINE_H);
	clip(d, NULL);
	draw_table(d, m, u);
}

/* ---- plots ------------------------------------------------------------------------------ */

struct plot_def {
	const char *title, *unit;
	size_t off;                        /* into struct viz_sample */
	double scale, min_span;
	int decimals;
	SDL_Color c;
};

static double sample(const struct viz_sample *s, size_t off, double scale)
{
	return *(const double *)((const char *)s + off) * scale;
}

static void series(struct viz_draw *d, const struct viz_model *m, struct viz_rect a, size_t off,
                   double scale, double lo, double hi, SDL_Color c)
{
	const struct viz_sample *first = viz_model_sample(m, m->hist_count - 1);
	const struct viz_sample *last = viz_model_sample(m, 0);
	double t0 = first->t_ms, span = last->t_ms - t0 > 0 ? last->t_ms - t0 : 1;
	int have = 0, px = 0, py = 0;
	unsigned k;

	colour(d, c);
	for (k = m->hist_count; k-- > 0;) {
		const struct viz_sample *s = viz_model_sample(m, k);
		double v = sample(s, off, scale);
		int x, y;

		if (isnan(v)) {
			have = 0;
			continue;
		}
		x = a.x + (int)lround((s->t_ms - t0) / span * (a.w - 1));
		y = a.y + a.h - 1 - (int)lround((v - lo) / (hi - lo) * (a.h - 1));
		if (have)
			SDL_RenderDrawLine(d->r, px, py, x, y);
		else
			SDL_RenderDrawPoint(d->r, x, y);
		px = x, py = y, have = 1;
	}
}

static void draw_plot(struct viz_draw *d, const struct viz_model *m, struct viz_rect r,
                      const struct plot_def *p, int with_dut)
{
	struct viz_rect a = { r.x + 50, r.y + 20, r.w - 58, r.h - 36 };
	double lo = INFINITY, hi = -INFINITY, span_s = 0;
	char v[32], title[96];
	unsigned k;

	for (k = 0; k < m->hist_count; k++) {
		double x = sample(viz_model_sample(m, k), p->off, p->scale);
		if (!isnan(x))
			lo = fmin(lo, x), hi = fmax(hi, x);
	}
	if (m->hist_count > 1)
		span_s = (viz_model_sample(m, 0)->t_ms - viz_model_sample(m, m->hist_count - 1)->t_ms) / 1000.0;
	snprintf(title, sizeof title, "%s  %s %s", p->title,
	         m->hist_count ? num(v, sizeof v, sample(viz_model_sample(m, 0), p->off, p->scale),
	                             p->decimals) : "-", p->unit);
	panel(d, r, title);
	if (lo > hi) {
		text(d, d->small, a.x + 4, a.y + 4, C_DIM, "no samples yet");
		return;
	}
	if (hi - lo < p->min_span) {
		double mid = (hi + lo) / 2;
		lo = mid - p->min_span / 2, hi = mid + p->min_span / 2;
	}
	fill(d, a, C_BG);
	if (lo < 0 && hi > 0) {
		int y0 = a.y + a.h - 1 - (int)lround((0 - lo) / (hi - lo) * (a.h - 1));
		hline(d, a.x, a.x + a.w - 1, y0, C_GRID);
	}
	text_right(d, d->small, a.x - 4, a.y - 2, C_DIM, num(v, sizeof v, hi, p->decimals));
	text_right(d, d->small, a.x - 4, a.y + a.h - 12, C_DIM, num(v, sizeof v, lo, p->decimals));
	textf(d, d->small, a.x, a.y + a.h + 1, C_DIM, "-%.1f s", span_s);
	text_right(d, d->small, a.x + a.w, a.y + a.h + 1, C_DIM, "now");
	clip(d, &a);
	series(d, m, a, p->off, p->scale, lo, hi, p->c);
	if (with_dut)
		series(d, m, a, offsetof(struct viz_sample, dut_pack_mv), p->scale, lo, hi, C_DIFF);
	clip(d, NULL);
}

static void draw_plots(struct viz_draw *d, const struct viz_model *m)
{
	const struct plot_def defs[3] = {
		{ "Pack voltage (DUT magenta)", "V", offsetof(struct viz_sample, pack_mv), 0.001, 0.02, 3, C_TEXT },
		{ "Current (+ charging)", "A", offsetof(struct viz_sample, current_ma), 0.001, 1.0, 2, C_CHG },
		{ "Cell spread (max - min)", "mV", offsetof(struct viz_sample, spread_mv), 1.0, 4.0, 1, C_WARN },
	};
	int i;

	for (i = 0; i < 3; i++)
		draw_plot(d, m, d->L.plot[i], &defs[i], i == 0);
}

/* ---- scenario / actions, frame log ------------------------------------------------------- */

static void draw_scenario(struct viz_draw *d, const struct viz_model *m)
{
	const struct viz_scenario *sc = &m->st.scen;
	struct viz_rect r = d->L.bottom_left;
	struct viz_rect ax = { r.x + 12, r.y + 18 + 3 * 12 + 6, r.w - 24, 1 };
	double dur = sc->duration_ms > 0 ? sc->duration_ms : 1;
	char t[16], title[160];
	int i, y, col_w;

	snprintf(title, sizeof title, "Scenario %s   %s / %.1f s", sc->name,
	         num(t, sizeof t, m->st.t_ms / 1000.0, 1), dur / 1000.0);
	panel(d, r, title);
	clip(d, &r);
	hline(d, ax.x, ax.x + ax.w, ax.y, C_DIM);
	for (i = 0; i < sc->n_events; i++) {
		double at = sc->events[i].at_ms;
		int x = ax.x + (int)lround((isnan(at) ? 0 : fmin(fmax(at, 0), dur)) / dur * ax.w);
		int fired = sc->events[i].fired || (!isnan(at) && at <= m->st.t_ms);
		SDL_Color c = fired ? C_CURSOR : C_DIM;

		colour(d, c);
		SDL_RenderDrawLine(d->r, x, ax.y - 6, x, ax.y + 6);
		/* Three label rows so neighbouring ticks rarely collide. */
		text(d, d->small, x + 2, r.y + 18 + (i % 3) * 12, c, sc->events[i].what);
	}
	if (!isnan(m->st.t_ms)) {
		int x = ax.x + (int)lround(fmin(fmax(m->st.t_ms, 0), dur) / dur * ax.w);
		fill(d, (struct viz_rect){ x - 1, ax.y - 10, 3, 20 }, C_SEL);
	}
	text(d, d->small, ax.x, ax.y + 8, C_DIM, "0 s");
	textf(d, d->small, ax.x + ax.w - 40, ax.y + 8, C_DIM, "%.0f s", dur / 1000.0);
	y = ax.y + 24;
	text(d, d->sans, r.x + 8, y, C_DIM, "expectations:");
	y += VIZ_LINE_H;
	col_w = (r.w - 16) / 2;
	for (i = 0; i < sc->n_expect; i++) {
		int cx = r.x + 8 + (i % 2) * col_w, cy = y + (i / 2) * VIZ_LINE_H;
		enum viz_expect_state s = sc->expect[i].state;
		struct viz_rect cell = { cx, cy, col_w - 8, VIZ_LINE_H };

		if (cy > r.y + r.h - VIZ_LINE_H)
			break;
		clip(d, &cell);
		textf(d, d->sans, cx, cy, s == VIZ_EXPECT_PASSED ? C_ON : s == VIZ_EXPECT_FAILED ? C_OFF : C_DIM,
		      "%s %s", s == VIZ_EXPECT_PASSED ? "\u2714" : s == VIZ_EXPECT_FAILED ? "\u2718" : "\u2026",
		      sc->expect[i].name);
		clip(d, &r);
	}
	clip(d, NULL);
}

static SDL_Color log_colour(enum viz_log_kind k)
{
	static const SDL_Color by_kind[] = {
		[VIZ_LOG_RX] = { 140, 190, 255, 255 }, [VIZ_LOG_TX] = { 150, 225, 150, 255 },
		[VIZ_LOG_TIMELINE] = { 255, 220, 60, 255 }, [VIZ_LOG_EXPECT_OK] = { 40, 200, 90, 255 },
		[VIZ_LOG_EXPECT_FAIL] = { 230, 60, 60, 255 }, [VIZ_LOG_ACTION] = { 225, 228, 232, 255 },
		[VIZ_LOG_ERROR] = { 230, 60, 60, 255 },
	};
	return (unsigned)k < sizeof by_kind / sizeof by_kind[0] ? by_kind[k] : C_TEXT;
}

/* Newest line at the bottom, as a terminal scrolls. */
static void draw_lines(struct viz_draw *d, struct viz_rect r, const struct viz_log *log)
{
	struct viz_rect inner = { r.x + 4, r.y + 18, r.w - 8, r.h - 20 };
	/* Underscores reach a row below the font height at these sizes: leave them room. */
	int line_h = TTF_FontLineSkip(d->mono), y = inner.y + inner.h - TTF_FontHeight(d->mono) - 2;
	unsigned k;

	clip(d, &inner);
	for (k = 0; y >= inner.y - line_h; k++, y -= line_h) {
		const struct viz_log_line *ln = viz_log_get(log, k);
		if (!ln)
			break;
		text(d, d->mono, inner.x, y, log_colour(ln->kind), ln->text);
	}
	clip(d, NULL);
}

static void draw_bottom(struct viz_draw *d, const struct viz_model *m)
{
	char title[96];

	if (m->st.has_scenario)
		draw_scenario(d, m);
	else {
		panel(d, d->L.bottom_left, "Actions and replies (no scenario: bmssim serve)");
		draw_lines(d, d->L.bottom_left, &m->actions);
	}
	snprintf(title, sizeof title, "Frames: rx = to the BMS, tx = from it (%lu)", m->frame_events);
	panel(d, d->L.log, title);
	draw_lines(d, d->L.log, &m->frames);
}

/* ---- the whole frame -------------------------------------------------------------------- */

void viz_draw_layout(struct viz_draw *d, const struct viz_model *m, int n_buttons)
{
	const struct viz_unit *u = viz_model_unit(m);
	int n = u ? (u->r[VIZ_TRUTH].n_cells ? u->r[VIZ_TRUTH].n_cells : u->r[VIZ_BMS].n_cells) : 4;

	if (n != d->L.n_cells || n_buttons != d->L.n_buttons)
		viz_layout_compute(&d->L, d->L.w, d->L.h, n, n_buttons);
}

void viz_draw_frame(struct viz_draw *d, const struct viz_model *m, const struct viz_ui *ui)
{
	const struct viz_unit *u = viz_model_unit(m);

	viz_draw_layout(d, m, ui->n_buttons);
	SDL_RenderSetClipRect(d->r, NULL);
	colour(d, C_BG);
	SDL_RenderClear(d->r);
	draw_header(d, m, ui);
	if (u) {
		draw_cells(d, m, u);
		draw_pack(d, m, u);
	} else {
		panel(d, d->L.cells, "Cells");
		panel(d, d->L.pack, NULL);
		text(d, d->big, d->L.cells.x + 20, d->L.cells.y + 40, C_WARN,
		     m->have_state ? "the state has no units" : "waiting for bmssim's first state");
	}
	draw_plots(d, m);
	draw_bottom(d, m);
	draw_toolbar(d, ui);
	draw_status(d, m);
	if (ui->show_keymap)
		draw_keymap(d, ui);
	SDL_RenderPresent(d->r);
}
