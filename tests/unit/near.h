/* Doubles compared as doubles. cmocka's assert_float_equal casts both sides and the epsilon to
 * float, so a 1e-12 tolerance on a value near 0.5 really tested ~3e-8. */
#ifndef TESTS_NEAR_H
#define TESTS_NEAR_H

#include <math.h>

#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)

static inline void assert_near_at(double a, double b, double eps, const char *file, int line)
{
	if (!(fabs(a - b) <= eps)) {
		print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
		_fail(file, line);
	}
}

#endif
