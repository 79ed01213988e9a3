/* Integer helpers for the core. The ESP8266's lx106 has no divider and Debian's libgcc for it
 * lacks __udivsi3 and friends, so the core divides by 10 with shifts and adds only. */
#ifndef BMSRIG_INTMATH_H
#define BMSRIG_INTMATH_H

#include <stdint.h>

/* floor(n / 10), exact for every uint32_t (Hacker's Delight, divu10). */
static inline uint32_t u32_div10(uint32_t n)
{
	uint32_t q = (n >> 1) + (n >> 2);
	uint32_t r;

	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q >>= 3;
	r = n - ((q << 3) + (q << 1));
	return q + (r > 9u);
}

/* n / 10 rounded to nearest, halves away from zero. */
static inline int32_t i32_div10_round(int32_t n)
{
	uint32_t m = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
	uint32_t q = u32_div10(m + 5u);

	return n < 0 ? -(int32_t)q : (int32_t)q;
}

static inline uint32_t u32_div10_round(uint32_t n)
{
	return u32_div10(n + 5u);
}

/* n / d for d > 0, by shift and subtract: a general division without libgcc's __udivsi3.
 * 32 steps; for the few divisions that are not by a power of ten (averages, ratios). */
static inline uint32_t u32_div(uint32_t n, uint32_t d)
{
	uint32_t q = 0, r = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		r = r << 1 | (n >> i & 1u);
		if (r >= d) {
			r -= d;
			q |= 1u << i;
		}
	}
	return q;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Little-endian fields (Thornwave, Bluetooth ATT). */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

#endif
