/*
 * What the golden-vector tests (test_<proto>_vectors.c) share: loading tests/vectors/<proto>.json
 * into one cmocka test per vector plus a last one that proves none was skipped, and the checks
 * every vector goes through (its decoded-frame JSON against `expect`, its typed round trip).
 * Each protocol keeps what is its own: how "hex" becomes frames, the decoders, and the counts
 * its last test asserts. Every failure message names the vector's id (and the key).
 * Call these from inside a cmocka test: a failed check ends the test.
 */
#ifndef BMSRIG_TEST_VECTORS_H
#define BMSRIG_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/rc.h"

/* What a suite counts, for its last test. */
struct vector_tally {
	size_t in_file;      /* entries of the JSON array */
	size_t taken;        /* entries made into tests (those `take` accepted) */
	size_t exercised;    /* tests that started (vector_begin) */
	size_t passed;       /* tests that passed (vector_end) */
};

struct vector_suite {
	const char *file;                      /* "jbd.json": read from $BMSRIG_VECTORS, else
	                                        * tests/vectors (run from the repository root) */
	const char *group;                     /* "jbd_vectors": the cmocka group; the program's
	                                        * own messages say test_<group> */
	int need_entries;                      /* 1: an empty array is a broken file */
	int (*take)(const cJSON *v);           /* which entries are the suite's; NULL: all */
	void (*test)(void **state);            /* one vector, *state its entry */
	void (*all_checked)(void **state);     /* runs last, as "all_vectors_checked" */
	struct vector_tally *tally;
};

/* main() of a vector test: loads the file, runs the group; returns what cmocka returns, or 1
 * when the file cannot be read or is not a JSON array. */
int vectors_main(const struct vector_suite *s);

/* The string under key, or NULL. */
const char *vector_str(const cJSON *o, const char *key);

/* The start of a vector's test: counts it exercised, fails it unless it has an "id", a "kind"
 * and an "expect" object. Returns the id. */
const char *vector_begin(const cJSON *v, struct vector_tally *t);

/* 1 when hex is a string of plain hex digits (no spaces) of at most cap bytes; *n its bytes,
 * stored in out. */
int vector_plain_hex(const char *hex, uint8_t *out, size_t cap, size_t *n);

/* The same, for a test: fails it unless hex is plain hex of at most cap bytes. Returns n. */
size_t vector_hex(const char *id, const char *hex, uint8_t *out, size_t cap);

/* The decoded frame's JSON (got; NULL fails the test) against the vector v: the same "kind",
 * no "error", and every key of "expect" present with an equal value. Prints each difference
 * (for a list, the first element that differs and both lengths); returns 1 when there is none.
 * Deletes got. */
int vector_matches(const char *id, const cJSON *v, cJSON *got);

/*
 * The typed round trip's verdict. rebuild_rc: decoding the captured frame into typed values
 * and building a frame from them; encode_rc (read only when rebuild_rc is RIG_OK, and only
 * when encoder names the step that gave it) encoding that frame into out[0..len). Passes when
 * both succeeded and out is wire[0..n); otherwise prints why and returns 0.
 */
int vector_rebuilt(const char *id, rig_rc rebuild_rc, const char *encoder, rig_rc encode_rc,
		   const uint8_t *wire, size_t n, const uint8_t *out, size_t len);

/* The end of a vector's test: fails it when ok is 0 (the reasons are printed above), else
 * counts it passed. */
void vector_end(const char *id, int ok, struct vector_tally *t);

/*
 * Defines `static void fn(void **state)`, the test of a vector whose "hex" is one frame of a
 * codec with the usual names (struct <proto>_frame, <proto>_frame_parse, _json, _rebuild and
 * _encode; at most max bytes on the wire): the frame parses, its JSON matches the vector, and
 * its typed rebuild encodes to the captured bytes. Counts in *tally.
 */
#define VECTOR_ONE_FRAME_TEST(fn, proto, max, tally)                                           \
	static void fn(void **state)                                                          \
	{                                                                                     \
		const cJSON *v = *state;                                                      \
		const char *id = vector_begin(v, (tally));                                    \
		uint8_t wire[2 * (max)], out[max];                                            \
		struct proto##_frame f, g;                                                    \
		size_t n = vector_hex(id, vector_str(v, "hex"), wire, sizeof wire), len = 0;  \
		rig_rc rc = rig_##proto##_frame_parse(wire, n, &f), enc;                            \
		int ok;                                                                       \
                                                                                              \
		if (rc != RIG_OK)                                                             \
			fail_msg("%s: " #proto "_frame_parse: %s", id, rig_rc_str(rc));      \
		ok = vector_matches(id, v, proto##_frame_json(&f));                           \
		/* The typed round trip: decoded struct -> builder -> encoder -> the capture. */ \
		rc = proto##_frame_rebuild(&f, &g);                                           \
		enc = rc == RIG_OK ? rig_##proto##_frame_encode(&g, out, sizeof out, &len) : rc;    \
		ok &= vector_rebuilt(id, rc, #proto "_frame_encode", enc, wire, n, out, len); \
		vector_end(id, ok, (tally));                                                  \
	}

#endif
