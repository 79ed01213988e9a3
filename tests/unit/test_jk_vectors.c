/*
 * Every "4E 57" golden vector of tests/vectors/jk.json (real captures, docs/vectors.md):
 * the frame parses, its decoded-frame JSON carries every key of `expect` with an equal value,
 * and decoding it into typed values and encoding again gives the captured bytes back.
 * The file also holds the BLE protocol's vectors (another codec's): this test takes the entries
 * whose hex starts with 4E57 and asserts how many that is, so a vector lost by the selection
 * or added without a look here fails the run. One cmocka test per vector, named by its id.
 * BMSRIG_VECTORS=<dir> reads <dir>/jk.json instead (run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "bmsrig/core/jk.h"
#include "bmsrig/sim/jk_json.h"
#include "vectors.h"

/* jk_req_read_all, jk_4e57_13s_fets_off, jk_4e57_14s_charging. */
#define JK_4E57_VECTORS 3u

static struct vector_tally tally;

/* A "4E 57" entry: one frame whose hex starts with 4E57 (BLE entries start 55AA / AA55). */
static int is_4e57(const cJSON *v)
{
	const char *hex = vector_str(v, "hex");

	return hex && strncasecmp(hex, "4E57", 4) == 0;
}

VECTOR_ONE_FRAME_TEST(test_vector, jk, JK_FRAME_MAX, &tally)

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("jk 4E57 vectors: %zu selected, %zu checked, %zu passed\n",
		      tally.taken, tally.exercised, tally.passed);
	assert_int_equal(tally.taken, JK_4E57_VECTORS);
	assert_int_equal(tally.exercised, tally.taken);
	assert_int_equal(tally.passed, tally.taken);
}

int main(void)
{
	static const struct vector_suite suite = {
		"jk.json", "jk_vectors", 0, is_4e57, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
