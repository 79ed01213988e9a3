/* The lx106 port's libgcc helpers (firmware/port/qemu-lx106/libgcc_lx106.c), built with the
 * host's compiler under a name prefix and compared with the host's own `/`, `%` and `*` over
 * edge cases and a fixed-seed stream of random operands. The firmware cannot be unit-tested on
 * the ESP8266's core here, but this code is plain C: what holds on the host holds there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define LX_LIBGCC_PREFIX lxt_
#include "../../firmware/port/qemu-lx106/libgcc_lx106.c"

#define RANDOM_ROUNDS 200000

/* xorshift64*: reproducible operands without the C library's rand(). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Du;
}

/* Random values of every magnitude: a random word shifted right by a random amount, so small
 * divisors and quotients (the common case, and the short path through the loops) get as much
 * coverage as full-width ones. */
static uint64_t rnd_mag64(void)
{
	uint64_t v = rnd64();

	return v >> (rnd64() % 64u);
}

static uint32_t rnd_mag32(void)
{
	return (uint32_t)(rnd_mag64() >> 32);
}

static const uint32_t edge32[] = {
	0u, 1u, 2u, 3u, 7u, 9u, 10u, 11u, 0x7Fu, 0x80u, 0xFFu, 0xFFFFu, 0x10000u, 0x10001u,
	40000u, 80000u, 0x7FFFFFFEu, 0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFF0000u,
	0xFFFFFFFEu, 0xFFFFFFFFu
};

static const uint64_t edge64[] = {
	0u, 1u, 2u, 3u, 10u, 0xFFFFFFFFu, 0x100000000u, 0x100000001u, 0x7FFFFFFFFFFFFFFFu,
	0x8000000000000000u, 0x8000000000000001u, 0xFFFFFFFF00000000u, 0xFFFFFFFFFFFFFFFEu,
	0xFFFFFFFFFFFFFFFFu, 1000000u, 40000000u, 0x123456789ABCDEFu
};

#define N_EDGE32 (sizeof edge32 / sizeof edge32[0])
#define N_EDGE64 (sizeof edge64 / sizeof edge64[0])

static void check_u32(uint32_t a, uint32_t b)
{
	if (b) {
		assert_int_equal(lxt___udivsi3(a, b), a / b);
		assert_int_equal(lxt___umodsi3(a, b), a % b);
	}
}

static void check_s32(int32_t a, int32_t b)
{
	if (b && !(a == INT32_MIN && b == -1))
		assert_int_equal(lxt___divsi3(a, b), a / b);
}

static void check_u64(uint64_t a, uint64_t b)
{
	if (b) {
		assert_int_equal(lxt___udivdi3(a, b), a / b);
		assert_int_equal(lxt___umoddi3(a, b), a % b);
	}
}

static void check_s64(int64_t a, int64_t b)
{
	if (b && !(a == INT64_MIN && b == -1))
		assert_int_equal(lxt___divdi3(a, b), a / b);
}

static void check_mul(uint64_t a, uint64_t b)
{
	uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;

	/* Unsigned arithmetic on the host: the same bits as the signed product, with no overflow. */
	assert_int_equal((uint64_t)lxt___muldi3((int64_t)a, (int64_t)b), a * b);
	assert_int_equal(lxt___umulsidi3(a32, b32), (uint64_t)a32 * b32);
}

static void u32_edges(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_EDGE32; i++)
		for (j = 0; j < N_EDGE32; j++)
			check_u32(edge32[i], edge32[j]);
}

static void s32_edges(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_EDGE32; i++)
		for (j = 0; j < N_EDGE32; j++) {
			check_s32((int32_t)edge32[i], (int32_t)edge32[j]);
			check_s32(-(int32_t)(edge32[i] & 0x7FFFFFFFu), (int32_t)edge32[j]);
			check_s32((int32_t)edge32[i], -(int32_t)(edge32[j] & 0x7FFFFFFFu));
		}
	/* What the host cannot compute without undefined behaviour, by definition. */
	assert_int_equal(lxt___divsi3(INT32_MIN, -1), INT32_MIN);
	assert_int_equal(lxt___divsi3(INT32_MIN, 1), INT32_MIN);
	assert_int_equal(lxt___divsi3(-7, 2), -3);   /* truncates toward zero, as C does */
	assert_int_equal(lxt___divsi3(7, -2), -3);
}

static void u64_s64_edges(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_EDGE64; i++)
		for (j = 0; j < N_EDGE64; j++) {
			check_u64(edge64[i], edge64[j]);
			check_s64((int64_t)edge64[i], (int64_t)edge64[j]);
			check_s64(-(int64_t)(edge64[i] & 0x7FFFFFFFFFFFFFFFu), (int64_t)edge64[j]);
		}
	assert_int_equal(lxt___divdi3(INT64_MIN, -1), INT64_MIN);
	assert_int_equal(lxt___divdi3(-7, 2), -3);
}

static void mul_edges(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_EDGE64; i++)
		for (j = 0; j < N_EDGE64; j++)
			check_mul(edge64[i], edge64[j]);
	for (i = 0; i < N_EDGE32; i++)
		for (j = 0; j < N_EDGE32; j++)
			check_mul(edge32[i], edge32[j]);
	assert_int_equal(lxt___umulsidi3(0xFFFFFFFFu, 0xFFFFFFFFu), 0xFFFFFFFE00000001u);
	assert_int_equal(lxt___muldi3(-3, 5), -15);
}

/* No trap on the lx106: the defined results of libgcc_lx106.h. */
static void divide_by_zero_is_defined(void **state)
{
	(void)state;
	assert_int_equal(lxt___udivsi3(12345u, 0u), UINT32_MAX);
	assert_int_equal(lxt___umodsi3(12345u, 0u), 12345u);
	assert_int_equal(lxt___divsi3(-5, 0), -1);
	assert_int_equal(lxt___udivdi3(12345u, 0u), UINT64_MAX);
	assert_int_equal(lxt___umoddi3(12345u, 0u), 12345u);
	assert_int_equal(lxt___divdi3(5, 0), -1);
}

static void random_32(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < RANDOM_ROUNDS; i++) {
		uint32_t a = rnd_mag32(), b = rnd_mag32();

		check_u32(a, b);
		check_s32((int32_t)a, (int32_t)b);
		check_s32((int32_t)(uint32_t)rnd64(), (int32_t)b);
	}
}

static void random_64(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < RANDOM_ROUNDS; i++) {
		uint64_t a = rnd_mag64(), b = rnd_mag64();

		check_u64(a, b);
		check_s64((int64_t)a, (int64_t)b);
		check_u64(rnd64(), b);
		check_mul(a, b);
		check_mul(rnd64(), rnd64());
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u32_edges),
		cmocka_unit_test(s32_edges),
		cmocka_unit_test(u64_s64_edges),
		cmocka_unit_test(mul_edges),
		cmocka_unit_test(divide_by_zero_is_defined),
		cmocka_unit_test(random_32),
		cmocka_unit_test(random_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
