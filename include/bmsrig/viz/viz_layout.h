/*
 * Where bmsviz draws what: every region computed from the window size and the cell count
 * alone, in this one place, so a screenshot's pixels can be found by a test
 * (`bmsviz --print-layout`) and the mouse is tested against the same rectangles that are drawn.
 * No SDL types, so it is unit-tested without SDL.
 */
#ifndef BMSRIG_VIZ_LAYOUT_H
#define BMSRIG_VIZ_LAYOUT_H

#include <stdio.h>

#include "bmsrig/viz/viz_model.h"

#define VIZ_MAX_BUTTONS 16
#define VIZ_LINE_H      16      /* one text line: the 12 px fonts' line skip plus room */
#define VIZ_MIN_W       640
#define VIZ_MIN_H       400
#define VIZ_MAX_W       7680
#define VIZ_MAX_H       4320

struct viz_rect { int x, y, w, h; };

struct viz_layout {
	int w, h, n_cells, n_buttons;
	/* panels */
	struct viz_rect header, cells, pack, plot[3], bottom_left, log, toolbar, status, keymap;
	/* inside the cells panel */
	struct viz_rect scale;                      /* the voltage axis left of the bars */
	struct viz_rect cell_col[VIZ_MAX_CELLS];    /* a whole column: what a click selects */
	struct viz_rect cell_mark[VIZ_MAX_CELLS];   /* min/max and balancing markers */
	struct viz_rect cell_bar[VIZ_MAX_CELLS];    /* background, and the fill from the bottom */
	struct viz_rect cell_dut[VIZ_MAX_CELLS];    /* right of the bar: DUT tick, diff flag */
	struct viz_rect cell_text[VIZ_MAX_CELLS];   /* number and values below */
	/* inside the pack panel */
	struct viz_rect title, fet_chg, fet_dsg, relay, current, soc, table, prot;
	struct viz_rect button[VIZ_MAX_BUTTONS];
};

/* Clamps w and h to VIZ_MIN..VIZ_MAX and n_cells to 1..VIZ_MAX_CELLS. */
void viz_layout_compute(struct viz_layout *L, int w, int h, int n_cells, int n_buttons);

/* The cell column under (x, y), or -1; the button under it, or -1. */
int viz_layout_cell_at(const struct viz_layout *L, int x, int y);
int viz_layout_button_at(const struct viz_layout *L, int x, int y);

/* The regions as one JSON object, one region per line (easy to grep from a shell test). */
void viz_layout_print(FILE *to, const struct viz_layout *L, const char *const *button_names);

#endif
