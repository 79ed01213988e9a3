/*
 * Rounding to nearest, halves away from zero: lround's answer without the libm call. The BMS
 * logic rounds some 45 readings every 100 ms step for every unit, and the call into libm cost
 * 5 % of a lockstep run. Exact for |x| < 2^52 (x - trunc(x) is then exact, so the half is
 * decided on the true fraction, not on x + 0.5 rounded); callers clamp to their range first.
 */
#ifndef BMSRIG_SIM_ROUND_H
#define BMSRIG_SIM_ROUND_H

static inline long round_nearest(double x)
{
	long r = (long)x;
	double frac = x - (double)r;
	if (frac >= 0.5)
		r++;
	else if (frac <= -0.5)
		r--;
	return r;
}

#endif
