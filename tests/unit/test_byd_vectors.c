/*
 * Every vector of tests/vectors/byd.json (docs/vectors.md): the frame parses, its decoded-frame
 * JSON carries every key of `expect` with an equal value, and decoding it into typed values and
 * encoding again gives the same bytes back. No BYD PRO 2.5 capture is public: the file's
 * entries are marked hand_built (written out byte by byte from the seed client's struct, not by
 * our encoder), and this test asserts that every entry says so, so a real capture added later
 * must drop the mark and the count below changes with a look here.
 * BMSRIG_VECTORS=<dir> reads <dir>/byd.json instead (run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsrig/core/byd.h"
#include "bmsrig/sim/byd_json.h"
#include "vectors.h"

/* byd_req_read_addr1, byd_read_16s_discharging_handmade, byd_read_cell_ov_protect_handmade. */
#define BYD_VECTORS 3u

static struct vector_tally tally;
static size_t hand_built;

static int take(const cJSON *v)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "hand_built")))
		hand_built++;
	return 1;
}

VECTOR_ONE_FRAME_TEST(test_vector, byd, BYD_FRAME_MAX, &tally)

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("byd vectors: %zu selected (%zu hand-built), %zu checked, %zu passed\n",
		      tally.taken, hand_built, tally.exercised, tally.passed);
	assert_int_equal(tally.taken, BYD_VECTORS);
	assert_int_equal(hand_built, BYD_VECTORS);
	assert_int_equal(tally.exercised, tally.taken);
	assert_int_equal(tally.passed, tally.taken);
}

int main(void)
{
	static const struct vector_suite suite = {
		"byd.json", "byd_vectors", 1, take, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
