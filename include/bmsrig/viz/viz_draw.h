/*
 * bmsviz's drawing (SDL2 + SDL2_ttf). Private to bmsviz: it is the only program that links SDL,
 * so this header lives beside its sources, not in include/bmsrig/.
 *
 * Everything is drawn by a software renderer into one ARGB8888 canvas surface, on screen and
 * headless alike, so a screenshot has the same pixels as the window.
 */
#ifndef BMSVIZ_DRAW_H
#define BMSVIZ_DRAW_H

#include <SDL.h>
#include <SDL_ttf.h>

#include "bmsrig/viz/viz_layout.h"
#include "bmsrig/viz/viz_model.h"

#define VIZ_FONT_DIR  "/usr/share/fonts/truetype/dejavu/"
#define VIZ_FONT_SANS VIZ_FONT_DIR "DejaVuSans.ttf"
#define VIZ_FONT_BOLD VIZ_FONT_DIR "DejaVuSans-Bold.ttf"
#define VIZ_FONT_MONO VIZ_FONT_DIR "DejaVuSansMono.ttf"
#define VIZ_FONT_PKG  "fonts-dejavu-core"

/* What the drawing needs from the program beyond the model: its key map and buttons. */
struct viz_ui {
	const char *source;                 /* the socket path, for the header */
	int show_keymap;
	int n_keys;
	const char *const *key_names, *const *key_help;
	int n_buttons;
	const char *const *button_labels;
	int pressed_button;                 /* drawn pressed until the next frame, or -1 */
};

/* A rendered string: most of a frame's text is the same as the last frame's. */
#define VIZ_TEXT_CACHE 512
#define VIZ_TEXT_KEY   240
struct viz_text {
	TTF_Font *font;
	Uint32 rgba;
	SDL_Texture *tex;
	int w, h;
	char s[VIZ_TEXT_KEY];
};

struct viz_draw {
	SDL_Surface *canvas;
	SDL_Renderer *r;
	TTF_Font *sans, *small, *mono, *big;
	struct viz_layout L;
	struct viz_text cache[VIZ_TEXT_CACHE];   /* direct-mapped by a hash of font, colour, text */
};

/* Loads the fonts and makes a w x h canvas. 0, or -1 with a one-line reason in err. */
int viz_draw_open(struct viz_draw *d, int w, int h, int n_buttons, char *err, size_t cap);
void viz_draw_close(struct viz_draw *d);
/* A new canvas size (the window was resized). 0 or -1. */
int viz_draw_resize(struct viz_draw *d, int w, int h);

/* The layout for the unit on screen (its cell count), as the next frame will draw it. */
void viz_draw_layout(struct viz_draw *d, const struct viz_model *m, int n_buttons);

/* Recomputes the layout for the unit on screen and draws everything into the canvas. */
void viz_draw_frame(struct viz_draw *d, const struct viz_model *m, const struct viz_ui *ui);

#endif
