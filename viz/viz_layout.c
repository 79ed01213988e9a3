/* bmsviz's regions from the window size and the cell count (bmsrig/viz_layout.h). */
#include <stddef.h>

#include "bmsrig/viz/viz_layout.h"

#define GAP        6       /* between panels */
#define HEADER_H   24
#define STATUS_H   22
#define TOOLBAR_H  30
#define SCALE_W    46      /* room for "3.650" beside the axis */
#define MARK_H     28      /* two marker rows: min/max, then balancing */
#define LABELS_H   60      /* four label lines under each bar: number, truth, BMS, DUT */

static struct viz_rect rect(int x, int y, int w, int h)
{
	struct viz_rect r = { x, y, w < 0 ? 0 : w, h < 0 ? 0 : h };
	return r;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void cells_panel(struct viz_layout *L)
{
	const struct viz_rect *c = &L->cells;
	int mark_y = c->y + VIZ_LINE_H + 4;
	int bar_y = mark_y + MARK_H + 2;
	int bar_h = c->y + c->h - LABELS_H - 4 - bar_y;
	int x0 = c->x + 4 + SCALE_W + 4, x1 = c->x + c->w - 4;
	int cw = (x1 - x0) / L->n_cells, i;

	L->scale = rect(c->x + 4, bar_y, SCALE_W, bar_h);
	for (i = 0; i < L->n_cells; i++) {
		int x = x0 + i * cw;
		int bw = clampi(cw * 58 / 100, 2, 400);
		int dw = clampi(cw * 9 / 100, 3, 12);
		int bx = x + (cw - bw - dw - 1) / 2;

		L->cell_col[i] = rect(x, c->y + VIZ_LINE_H, cw, c->h - VIZ_LINE_H);
		L->cell_mark[i] = rect(x, mark_y, cw, MARK_H);
		L->cell_bar[i] = rect(bx, bar_y, bw, bar_h);
		L->cell_dut[i] = rect(bx + bw + 1, bar_y, dw, bar_h);
		L->cell_text[i] = rect(x, bar_y + bar_h + 4, cw, LABELS_H);
	}
}

static void pack_panel(struct viz_layout *L)
{
	const struct viz_rect *p = &L->pack;
	int x = p->x + 6, w = p->w - 12, iw = (w - 2 * GAP) / 3;
	int y = p->y + 2;

	L->title = rect(x, y, w, VIZ_LINE_H);
	y += VIZ_LINE_H + 4;
	L->fet_chg = rect(x, y, iw, 26);
	L->fet_dsg = rect(x + iw + GAP, y, iw, 26);
	L->relay = rect(x + 2 * (iw + GAP), y, iw, 26);
	y += 26 + 6;
	L->current = rect(x, y, w, 28);
	y += 28 + 4;
	L->soc = rect(x, y, w, 20);
	y += 20 + 4;
	L->prot = rect(x, y, w, 3 * VIZ_LINE_H);   /* protections, faults, inverter limits */
	y += 3 * VIZ_LINE_H + 4;
	/* In the smallest window the lines above fill the panel: the table is left no room, but
	 * stays inside it. */
	if (y > p->y + p->h - 4)
		y = p->y + p->h - 4;
	L->table = rect(x, y, w, p->y + p->h - 4 - y);
}

void viz_layout_compute(struct viz_layout *L, int w, int h, int n_cells, int n_buttons)
{
	int body_y, body_h, top_h, plots_h, pw, i, bw;

	w = clampi(w, VIZ_MIN_W, VIZ_MAX_W);
	h = clampi(h, VIZ_MIN_H, VIZ_MAX_H);
	*L = (struct viz_layout){ 0 };
	L->w = w;
	L->h = h;
	L->n_cells = clampi(n_cells, 1, VIZ_MAX_CELLS);
	L->n_buttons = clampi(n_buttons, 0, VIZ_MAX_BUTTONS);

	L->header = rect(0, 0, w, HEADER_H);
	L->status = rect(0, h - STATUS_H, w, STATUS_H);
	L->toolbar = rect(0, L->status.y - TOOLBAR_H, w, TOOLBAR_H);
	body_y = HEADER_H + 4;
	body_h = L->toolbar.y - 4 - body_y;
	top_h = body_h * 47 / 100;
	plots_h = body_h * 22 / 100;

	L->cells = rect(GAP, body_y, w * 58 / 100 - GAP - GAP / 2, top_h);
	L->pack = rect(L->cells.x + L->cells.w + GAP, body_y, w - L->cells.w - 3 * GAP, top_h);
	pw = (w - 4 * GAP) / 3;
	for (i = 0; i < 3; i++)
		L->plot[i] = rect(GAP + i * (pw + GAP), body_y + top_h + GAP, pw, plots_h - GAP);
	L->bottom_left = rect(GAP, L->plot[0].y + L->plot[0].h + GAP, (w - 3 * GAP) / 2,
	                      L->toolbar.y - 4 - (L->plot[0].y + L->plot[0].h + GAP));
	L->log = rect(L->bottom_left.x + L->bottom_left.w + GAP, L->bottom_left.y,
	              w - L->bottom_left.w - 3 * GAP, L->bottom_left.h);
	L->keymap = rect(w / 5, h / 8, w * 3 / 5, h * 3 / 4);

	cells_panel(L);
	pack_panel(L);

	bw = L->n_buttons ? (w - GAP) / L->n_buttons - 4 : 0;
	if (bw > 130)
		bw = 130;
	for (i = 0; i < L->n_buttons; i++)
		L->button[i] = rect(GAP + i * (bw + 4), L->toolbar.y + 3, bw, TOOLBAR_H - 6);
}

static int inside(const struct viz_rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

int viz_layout_cell_at(const struct viz_layout *L, int x, int y)
{
	int i;

	for (i = 0; i < L->n_cells; i++)
		if (inside(&L->cell_col[i], x, y))
			return i;
	return -1;
}

int viz_layout_button_at(const struct viz_layout *L, int x, int y)
{
	int i;

	for (i = 0; i < L->n_buttons; i++)
		if (inside(&L->button[i], x, y))
			return i;
	return -1;
}

static void region(FILE *to, const char *name, int index, const struct viz_rect *r, int *first)
{
	fprintf(to, "%s\n  {\"name\":\"%s\",", *first ? "" : ",", name);
	if (index >= 0)
		fprintf(to, "\"index\":%d,", index);
	fprintf(to, "\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d}", r->x, r->y, r->w, r->h);
	*first = 0;
}

void viz_layout_print(FILE *to, const struct viz_layout *L, const char *const *button_names)
{
	static const struct { const char *name; size_t off; } panels[] = {
#define P(f) { #f, offsetof(struct viz_layout, f) }
		P(header), P(cells), P(pack), P(bottom_left), P(log), P(toolbar), P(status),
		P(keymap), P(scale), P(title), P(fet_chg), P(fet_dsg), P(relay), P(current), P(soc),
		P(table), P(prot),
#undef P
	};
	static const char *const plot_names[3] = { "plot_pack_v", "plot_current", "plot_spread" };
	int first = 1, i;
	size_t k;

	fprintf(to, "{\"w\":%d,\"h\":%d,\"cells\":%d,\"regions\":[", L->w, L->h, L->n_cells);
	for (k = 0; k < sizeof panels / sizeof panels[0]; k++)
		region(to, panels[k].name, -1,
		       (const struct viz_rect *)((const char *)L + panels[k].off), &first);
	for (i = 0; i < 3; i++)
		region(to, plot_names[i], -1, &L->plot[i], &first);
	for (i = 0; i < L->n_cells; i++) {
		region(to, "cell_col", i + 1, &L->cell_col[i], &first);
		region(to, "cell_mark", i + 1, &L->cell_mark[i], &first);
		region(to, "cell_bar", i + 1, &L->cell_bar[i], &first);
		region(to, "cell_dut", i + 1, &L->cell_dut[i], &first);
		region(to, "cell_text", i + 1, &L->cell_text[i], &first);
	}
	for (i = 0; i < L->n_buttons; i++) {
		char name[48];
		snprintf(name, sizeof name, "button:%s", button_names ? button_names[i] : "?");
		region(to, name, i, &L->button[i], &first);
	}
	fprintf(to, "\n]}\n");
}
