/* What every benchmark needs: a monotonic clock and a sort order for percentiles. */
#ifndef BMSRIG_BENCH_H
#define BMSRIG_BENCH_H

#include <time.h>

static inline double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline double bench_now_s(void)
{
	return bench_now_us() / 1e6;
}

/* qsort order for doubles. */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
