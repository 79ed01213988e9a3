/*
 * Every golden vector of tests/vectors/daly.json (real captures, docs/vectors.md):
 * each frame parses, the decoded-frame JSON (daly_answer_json for a list of frames) carries
 * every key of `expect` with an equal value, and decoding each frame into its typed struct and
 * encoding again gives the captured bytes back. One cmocka test per vector, named by its id,
 * plus one that proves none was skipped.
 * BMSRIG_VECTORS=<dir> reads <dir>/daly.json instead (run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/sim/daly_json.h"
#include "vectors.h"

/* The vectors of tests/vectors/daly.json when this test was written: a file that loses
 * some must fail here, not shrink the test silently. */
#define DALY_VECTORS_KNOWN 24u

static struct vector_tally tally;
static size_t n_frames;

/* The typed round trip: decoded struct -> encoder / builder -> the captured bytes. */
static int rebuilds(const char *id, const struct daly_frame *f, const uint8_t *wire)
{
	struct daly_frame g;
	uint8_t out[DALY_FRAME_LEN];
	size_t len = 0;
	rig_rc rc = daly_frame_rebuild(f, &g);
	rig_rc enc = rc == RIG_OK ? rig_daly_frame_encode(&g, out, sizeof out, &len) : rc;

	return vector_rebuilt(id, rc, "rig_daly_frame_encode", enc, wire, DALY_FRAME_LEN, out, len);
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally);
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(v, "hex"), *h;
	struct daly_frame f[DALY_CELL_FRAMES_MAX];
	uint8_t wire[DALY_CELL_FRAMES_MAX][DALY_FRAME_LEN + 1];
	size_t count = 0;
	int ok;

	/* One frame, or the frames of one multi-frame answer. */
	if (!cJSON_IsString(hex) && !cJSON_IsArray(hex))
		fail_msg("%s: \"hex\" is neither a string nor a list", id);
	for (h = cJSON_IsArray(hex) ? hex->child : hex; h; h = cJSON_IsArray(hex) ? h->next : NULL) {
		const char *s = cJSON_GetStringValue(h);
		size_t n;
		rig_rc rc;

		if (!s || count == DALY_CELL_FRAMES_MAX)
			fail_msg("%s: a \"hex\" entry is not a string, or there are too many", id);
		n = vector_hex(id, s, wire[count], sizeof wire[count]);
		rc = rig_daly_frame_parse(wire[count], n, &f[count]);
		if (rc != RIG_OK)
			fail_msg("%s: frame %zu: rig_daly_frame_parse: %s", id, count + 1, rig_rc_str(rc));
		count++;
	}
	if (count == 0)
		fail_msg("%s: no frames", id);

	ok = vector_matches(id, v, cJSON_IsArray(hex) ? daly_answer_json(f, count) : daly_frame_json(&f[0]));
	for (size_t i = 0; i < count; i++, n_frames++)
		ok &= rebuilds(id, &f[i], wire[i]);
	vector_end(id, ok, &tally);
}

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("daly vectors: %zu in the file, %zu checked, %zu passed, %zu frames rebuilt\n",
		      tally.in_file, tally.exercised, tally.passed, n_frames);
	assert_true(tally.in_file >= DALY_VECTORS_KNOWN);
	assert_int_equal(tally.exercised, tally.in_file);
	assert_int_equal(tally.passed, tally.in_file);
}

int main(void)
{
	static const struct vector_suite suite = {
		"daly.json", "daly_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
