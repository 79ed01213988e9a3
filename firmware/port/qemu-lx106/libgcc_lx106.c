/* Integer division and 64-bit multiplication for the lx106 (see libgcc_lx106.h for why).
 *
 * Written so that compiling this file for the lx106 calls none of the functions it defines: only
 * 32-bit multiplies (the lx106's MULL), shifts, adds and compares, and 64-bit shifts, adds and
 * compares, which GCC expands inline. Division is shift-and-subtract, one quotient bit per step,
 * starting at the divisor's highest useful position, so small quotients (the common case: a
 * cycle count over a clock rate, a number over ten) take few steps. */
#include "libgcc_lx106.h"

/* Leading zeros of a nonzero value. No __builtin_clz: on the lx106 that may be a libgcc call
 * too, and this runs a handful of times per division at most. */
static unsigned clz32(uint32_t v)
{
	unsigned n = 0;

	if (!(v & 0xFFFF0000u)) { n += 16; v <<= 16; }
	if (!(v & 0xFF000000u)) { n += 8; v <<= 8; }
	if (!(v & 0xF0000000u)) { n += 4; v <<= 4; }
	if (!(v & 0xC0000000u)) { n += 2; v <<= 2; }
	if (!(v & 0x80000000u)) n += 1;
	return n;
}

static unsigned clz64(uint64_t v)
{
	uint32_t hi = (uint32_t)(v >> 32);

	return hi ? clz32(hi) : 32u + clz32((uint32_t)v);
}

static uint32_t udivmod32(uint32_t n, uint32_t d, uint32_t *rem)
{
	uint32_t q = 0, bit;
	unsigned shift;

	if (d == 0) {
		*rem = n;
		return UINT32_MAX;
	}
	if (n < d) {
		*rem = n;
		return 0;
	}
	shift = clz32(d) - clz32(n);   /* n >= d, so the divisor's top bit moves up to n's */
	d <<= shift;
	bit = (uint32_t)1 << shift;
	while (bit) {
		if (n >= d) {
			n -= d;
			q |= bit;
		}
		d >>= 1;
		bit >>= 1;
	}
	*rem = n;
	return q;
}

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, bit;
	unsigned shift;

	if (d == 0) {
		*rem = n;
		return UINT64_MAX;
	}
	if (n < d) {
		*rem = n;
		return 0;
	}
	/* Both fit 32 bits: the cheaper loop. */
	if (!(n >> 32)) {
		uint32_t r32, q32 = udivmod32((uint32_t)n, (uint32_t)d, &r32);

		*rem = r32;
		return q32;
	}
	shift = clz64(d) - clz64(n);
	d <<= shift;
	bit = (uint64_t)1 << shift;
	while (bit) {
		if (n >= d) {
			n -= d;
			q |= bit;
		}
		d >>= 1;
		bit >>= 1;
	}
	*rem = n;
	return q;
}

/* |v| as unsigned, defined for INT32_MIN too. */
static uint32_t uabs32(int32_t v)
{
	return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

static uint64_t uabs64(int64_t v)
{
	return v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
}

/* Two's complement back to signed without relying on an out-of-range conversion. */
static int32_t to_s32(uint32_t v)
{
	return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static int64_t to_s64(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

int32_t LX_LIBGCC_NAME(__divsi3)(int32_t a, int32_t b)
{
	uint32_t r, q = udivmod32(uabs32(a), uabs32(b), &r);

	if (b == 0)
		return -1;
	return to_s32((a < 0) != (b < 0) ? 0u - q : q);
}

uint32_t LX_LIBGCC_NAME(__udivsi3)(uint32_t a, uint32_t b)
{
	uint32_t r;

	return udivmod32(a, b, &r);
}

uint32_t LX_LIBGCC_NAME(__umodsi3)(uint32_t a, uint32_t b)
{
	uint32_t r;

	(void)udivmod32(a, b, &r);
	return r;
}

int64_t LX_LIBGCC_NAME(__divdi3)(int64_t a, int64_t b)
{
	uint64_t r, q = udivmod64(uabs64(a), uabs64(b), &r);

	if (b == 0)
		return -1;
	return to_s64((a < 0) != (b < 0) ? 0u - q : q);
}

uint64_t LX_LIBGCC_NAME(__udivdi3)(uint64_t a, uint64_t b)
{
	uint64_t r;

	return udivmod64(a, b, &r);
}

uint64_t LX_LIBGCC_NAME(__umoddi3)(uint64_t a, uint64_t b)
{
	uint64_t r;

	(void)udivmod64(a, b, &r);
	return r;
}

/* 32 x 32 -> 64 from four 16 x 16 -> 32 products: the lx106's MULL gives only the low half. */
uint64_t LX_LIBGCC_NAME(__umulsidi3)(uint32_t a, uint32_t b)
{
	uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
	uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint32_t mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);   /* < 3 * 2^16: no carry out */
	uint32_t lo = (ll & 0xFFFFu) | (mid << 16);
	uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);

	return (uint64_t)hi << 32 | lo;
}

/* The low 64 bits of a 64 x 64 product, the same for signed and unsigned operands. */
int64_t LX_LIBGCC_NAME(__muldi3)(int64_t a, int64_t b)
{
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	uint32_t alo = (uint32_t)ua, ahi = (uint32_t)(ua >> 32);
	uint32_t blo = (uint32_t)ub, bhi = (uint32_t)(ub >> 32);
	uint64_t p = LX_LIBGCC_NAME(__umulsidi3)(alo, blo);

	p += (uint64_t)(alo * bhi + ahi * blo) << 32;
	return to_s64(p);
}
