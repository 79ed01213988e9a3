/*
 * Every golden vector of tests/vectors/jbd.json (real captures, docs/vectors.md):
 * the frame parses, its decoded-frame JSON carries every key of `expect` with an equal value,
 * and decoding it into the typed struct and encoding again gives the captured bytes back.
 * One cmocka test per vector, named by its id, plus one that proves none was skipped.
 * BMSRIG_VECTORS=<dir> reads <dir>/jbd.json instead (run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/jbd_json.h"
#include "vectors.h"

static struct vector_tally tally;

/* A JBD answer is always one frame; a list here would be a vector this test cannot judge. */
VECTOR_ONE_FRAME_TEST(test_vector, jbd, JBD_FRAME_MAX, &tally)

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_true(tally.in_file > 0);
	assert_int_equal(tally.exercised, tally.in_file);
	print_message("jbd vectors: %zu in the file, %zu checked, %zu passed\n",
		      tally.in_file, tally.exercised, tally.passed);
}

int main(void)
{
	static const struct vector_suite suite = {
		"jbd.json", "jbd_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
