/* The runner's progress bar on stderr (run_parts.h): where the run is and how much faster than
 * real time it goes. */
#include <time.h>

#include "run_parts.h"

double run_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void run_progress_start(struct run_progress *p)
{
	p->wall0 = run_wall_s();
	p->next_draw = 0.0;
}

void run_progress_draw(struct run_progress *p, const char *name, uint32_t now_ms, uint32_t duration_ms, int done)
{
	double now = run_wall_s(), frac, t = now_ms / 1000.0;
	char bar[31];
	int i, fill;

	if (!done && now < p->next_draw)
		return;
	p->next_draw = now + 0.1;
	frac = t / (duration_ms / 1000.0);
	fill = (int)(frac * 30.0 + 0.5);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r%-32.32s [%s] %9.1f / %.1f s  %7.0fx", name, bar, t, duration_ms / 1000.0,
	        now > p->wall0 ? t / (now - p->wall0) : 0.0);
	if (done)
		fprintf(stderr, "\r%*s\r", 90, "");
	fflush(stderr);
}
