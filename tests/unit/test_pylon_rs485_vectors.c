/*
 * Every golden vector of tests/vectors/pylon.json (real Pylontech RS485 captures,
 * docs/vectors.md): each frame parses (LENGTH, LCHKSUM and CHKSUM as captured), the decoded-frame
 * JSON of the last frame carries every key of `expect` (for a request/response pair, the
 * response is decoded as the answer to the request's CID2), and decoding each frame into its
 * typed struct and encoding again gives the captured bytes back: our encoder reproduces the
 * captured 0x42, 0x44 (trailing byte included), 0x93 and 0x51 replies exactly.
 * BMSRIG_VECTORS=<dir> reads <dir>/pylon.json instead (run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/pylon_rs485_json.h"
#include "vectors.h"

/* The vectors in the file when this test was written: losing some must fail, not shrink. */
#define PYLON_VECTORS_KNOWN 10u
/* The captures without their request are system-wide 0x42 answers (their notes say so). */
#define MULTI_MODULE_CMD PYLON_CMD_ANALOG

static struct vector_tally tally;
static size_t n_frames;

static struct pylon_frame f[2], g;
static uint8_t wire[2][PYLON_FRAME_MAX], out[PYLON_FRAME_MAX];

static int rebuilds(const char *id, const struct pylon_frame *fr, int cmd, const uint8_t *w, size_t n)
{
	size_t len = 0;
	rig_rc rc = pylon_rs485_frame_rebuild(fr, cmd, &g);
	rig_rc enc = rc == RIG_OK ? rig_pylon_frame_encode(&g, out, sizeof out, &len) : rc;

	return vector_rebuilt(id, rc, "rig_pylon_frame_encode", enc, w, n, out, len);
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally);
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(v, "hex"), *h;
	size_t count = 0, n[2] = { 0, 0 };
	int ok, cmd = -1;

	/* One frame, or a request followed by its response. */
	if (!cJSON_IsString(hex) && !cJSON_IsArray(hex))
		fail_msg("%s: \"hex\" is neither a string nor a list", id);
	for (h = cJSON_IsArray(hex) ? hex->child : hex; h; h = cJSON_IsArray(hex) ? h->next : NULL) {
		const char *s = cJSON_GetStringValue(h);
		rig_rc rc;

		if (!s || count == 2)
			fail_msg("%s: a \"hex\" entry is not a string, or there are more than two", id);
		n[count] = vector_hex(id, s, wire[count], sizeof wire[count]);
		rc = rig_pylon_frame_parse(wire[count], n[count], &f[count]);
		if (rc != RIG_OK)
			fail_msg("%s: frame %zu: rig_pylon_frame_parse: %s", id, count + 1, rig_rc_str(rc));
		count++;
	}
	if (count == 0)
		fail_msg("%s: no frames", id);
	if (count == 2) {
		if (rig_pylon_is_rtn(f[0].cid2) || !rig_pylon_is_rtn(f[1].cid2))
			fail_msg("%s: a pair must be a request, then a response", id);
		cmd = f[0].cid2;
	}
	ok = vector_matches(id, v, pylon_rs485_frame_json(&f[count - 1], cmd));
	for (size_t i = 0; i < count; i++, n_frames++) {
		int c = i == 0 && count == 2 ? -1 : cmd;

		if (c < 0 && rig_pylon_is_rtn(f[i].cid2))
			c = MULTI_MODULE_CMD;
		ok &= rebuilds(id, &f[i], c, wire[i], n[i]);
	}
	vector_end(id, ok, &tally);
}

static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("pylon vectors: %zu in the file, %zu checked, %zu passed, %zu frames rebuilt\n",
		      tally.in_file, tally.exercised, tally.passed, n_frames);
	assert_true(tally.in_file >= PYLON_VECTORS_KNOWN);
	assert_int_equal(tally.exercised, tally.in_file);
	assert_int_equal(tally.passed, tally.in_file);
}

int main(void)
{
	static const struct vector_suite suite = {
		"pylon.json", "pylon_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
