/*
 * Pixel probes on bmsviz screenshots, for tests/e2e/viz.sh. Reads the PNG with SDL2_image.
 *
 *   pngcheck bar   FILE X Y W H          "height N rgb R G B": the fill at the bottom centre of
 *                                        the rectangle and how many rows up it reaches
 *   pngcheck mean  FILE X Y W H          "rgb R G B": the mean colour of the rectangle
 *   pngcheck count FILE X Y W H R G B T  "count N": pixels within T of R G B on every channel
 *
 * Exit 0 with the line on stdout; 2 on bad arguments or an unreadable file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>

#define SAME_TOL 6     /* a bar's fill is flat: anti-aliased text is what differs by more */

struct px { int r, g, b; };

static struct px at(SDL_Surface *s, int x, int y)
{
	const Uint8 *p = (const Uint8 *)s->pixels + y * s->pitch + x * 4;
	struct px c = { p[0], p[1], p[2] };   /* SDL_PIXELFORMAT_RGBA32: R, G, B, A in memory */
	return c;
}

static int near(struct px a, struct px b, int tol)
{
	return abs(a.r - b.r) <= tol && abs(a.g - b.g) <= tol && abs(a.b - b.b) <= tol;
}

int main(int argc, char **argv)
{
	SDL_Surface *img, *s;
	int x, y, w, h, i, j;

	if (argc < 7 || (!strcmp(argv[1], "count") && argc != 11)) {
		fprintf(stderr, "usage: pngcheck bar|mean|count FILE X Y W H [R G B TOL]\n");
		return 2;
	}
	x = atoi(argv[3]), y = atoi(argv[4]), w = atoi(argv[5]), h = atoi(argv[6]);
	if (!(img = IMG_Load(argv[2]))) {
		fprintf(stderr, "pngcheck: %s: %s\n", argv[2], IMG_GetError());
		return 2;
	}
	s = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGBA32, 0);
	SDL_FreeSurface(img);
	if (!s || w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > s->w || y + h > s->h) {
		fprintf(stderr, "pngcheck: %s: rectangle %d,%d %dx%d is not inside the image\n",
		        argv[2], x, y, w, h);
		SDL_FreeSurface(s);
		return 2;
	}
	if (!strcmp(argv[1], "bar")) {
		int cx = x + w / 2;
		struct px base = at(s, cx, y + h - 1);
		for (i = 0; i < h && near(at(s, cx, y + h - 1 - i), base, SAME_TOL); i++)
			;
		printf("height %d rgb %d %d %d\n", i, base.r, base.g, base.b);
	} else if (!strcmp(argv[1], "mean")) {
		long sum[3] = { 0, 0, 0 };
		for (j = y; j < y + h; j++)
			for (i = x; i < x + w; i++) {
				struct px c = at(s, i, j);
				sum[0] += c.r, sum[1] += c.g, sum[2] += c.b;
			}
		printf("rgb %ld %ld %ld\n", sum[0] / (w * h), sum[1] / (w * h), sum[2] / (w * h));
	} else if (!strcmp(argv[1], "count")) {
		struct px want = { atoi(argv[7]), atoi(argv[8]), atoi(argv[9]) };
		int tol = atoi(argv[10]), n = 0;
		for (j = y; j < y + h; j++)
			for (i = x; i < x + w; i++)
				n += near(at(s, i, j), want, tol);
		printf("count %d\n", n);
	} else {
		fprintf(stderr, "pngcheck: unknown probe %s\n", argv[1]);
		SDL_FreeSurface(s);
		return 2;
	}
	SDL_FreeSurface(s);
	return 0;
}
