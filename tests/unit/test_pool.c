/* sim/pool.c: a block returned is handed out again (no heap per frame), a larger request gets a
 * block of its own, at most POOL_IDLE_MAX blocks wait idle, and pool_free leaves none (ASan's
 * leak check would report one). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/pool.h"

static void a_returned_block_is_handed_out_again(void **state)
{
	struct pool p;
	unsigned char *a, *b;

	(void)state;
	pool_init(&p, 64);
	a = pool_get(&p, 10);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % _Alignof(max_align_t), 0);
	memset(a, 0xAB, 64);                         /* min_cap bytes usable, not just 10 */
	pool_put(&p, a);
	assert_int_equal(p.n_idle, 1);
	b = pool_get(&p, 64);
	assert_ptr_equal(a, b);                      /* the same block, no malloc */
	assert_int_equal(p.n_idle, 0);
	pool_put(&p, b);
	pool_put(&p, NULL);                          /* ignored */
	assert_int_equal(p.n_idle, 1);
	pool_free(&p);
	assert_int_equal(p.n_idle, 0);
	assert_null(p.idle);
}

static void a_larger_request_gets_a_block_of_its_own(void **state)
{
	struct pool p;
	unsigned char *a, *big;

	(void)state;
	pool_init(&p, 32);
	a = pool_get(&p, 8);
	pool_put(&p, a);
	big = pool_get(&p, 1000);
	assert_non_null(big);
	assert_ptr_not_equal(a, big);
	memset(big, 0, 1000);
	assert_int_equal(p.n_idle, 1);               /* the small one still waits */
	pool_put(&p, big);
	assert_ptr_equal(pool_get(&p, 1000), big);   /* now at the head, and large enough */
	pool_put(&p, big);
	pool_free(&p);
}

static void no_more_than_the_idle_max_wait(void **state)
{
	struct pool p;
	void *b[POOL_IDLE_MAX + 5];
	unsigned i;

	(void)state;
	pool_init(&p, 16);
	for (i = 0; i < POOL_IDLE_MAX + 5; i++)
		assert_non_null(b[i] = pool_get(&p, 16));
	for (i = 0; i < POOL_IDLE_MAX + 5; i++)
		pool_put(&p, b[i]);
	assert_int_equal(p.n_idle, POOL_IDLE_MAX);   /* the 5 beyond went back to the heap */
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_returned_block_is_handed_out_again),
		cmocka_unit_test(a_larger_request_gets_a_block_of_its_own),
		cmocka_unit_test(no_more_than_the_idle_max_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
