/*
 * Every golden vector of tests/vectors/daly.json (real captures, shared/vectors/README.md):
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "bmsrig/daly.h"
#include "bmsrig/daly_json.h"
#include "fake_io.h"

/* The vectors of shared/vectors/daly.json when this test was written: a file that loses
 * some must fail here, not shrink the test silently. */
#define DALY_VECTORS_KNOWN 24u

static size_t n_vectors, n_exercised, n_passed, n_frames;

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL) {
		if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
			free(buf);
			buf = NULL;
		} else {
			buf[size] = '\0';
		}
	}
	fclose(fp);
	return buf;
}

static const char *str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Prints why got differs from want; returns 1 when they are equal. */
static int same_value(const char *id, const char *key, const cJSON *want, const cJSON *got)
{
	char *w, *g;

	if (!got) {
		print_error("%s: key \"%s\" missing from the decoded frame\n", id, key);
		return 0;
	}
	if (cJSON_Compare(want, got, 1))
		return 1;
	w = cJSON_PrintUnformatted(want);
	g = cJSON_PrintUnformatted(got);
	print_error("%s: key \"%s\": expected %s, got %s\n", id, key, w, g);
	if (cJSON_IsArray(want) && cJSON_IsArray(got)) {
		int nw = cJSON_GetArraySize(want), ng = cJSON_GetArraySize(got);

		for (int i = 0; i < nw && i < ng; i++)
			if (!cJSON_Compare(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i), 1)) {
				print_error("%s: key \"%s\": first difference at element %d\n", id, key, i);
				break;
			}
		if (nw != ng)
			print_error("%s: key \"%s\": %d elements expected, %d got\n", id, key, nw, ng);
	}
	cJSON_free(w);
	cJSON_free(g);
	return 0;
}

static void hex_line(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
	out[2 * n] = '\0';
}

/* The typed round trip: decoded struct -> encoder / builder -> the captured bytes. */
static int rebuilds(const char *id, const struct daly_frame *f, const uint8_t *wire)
{
	struct daly_frame g;
	uint8_t out[DALY_FRAME_LEN];
	char hw[2 * DALY_FRAME_LEN + 1], ho[2 * DALY_FRAME_LEN + 1];
	size_t len = 0;
	rig_rc rc = daly_frame_rebuild(f, &g);

	if (rc != RIG_OK) {
		print_error("%s: decode/encode round trip failed: %s\n", id, rig_rc_str(rc));
		return 0;
	}
	rc = daly_frame_encode(&g, out, sizeof out, &len);
	if (rc != RIG_OK) {
		print_error("%s: daly_frame_encode of the rebuilt frame: %s\n", id, rig_rc_str(rc));
		return 0;
	}
	if (len == DALY_FRAME_LEN && memcmp(out, wire, DALY_FRAME_LEN) == 0)
		return 1;
	hex_line(hw, wire, DALY_FRAME_LEN);
	hex_line(ho, out, len);
	print_error("%s: rebuilt frame differs\n  captured %s\n  rebuilt  %s\n", id, hw, ho);
	return 0;
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = str_of(v, "id"), *kind = str_of(v, "kind");
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(v, "hex");
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(v, "expect"), *e, *h;
	struct daly_frame f[DALY_CELL_FRAMES_MAX];
	uint8_t wire[DALY_CELL_FRAMES_MAX][DALY_FRAME_LEN + 1];
	size_t count = 0;
	cJSON *got;
	int ok = 1;

	n_exercised++;
	if (!id)
		fail_msg("vector without an id");
	if (!cJSON_IsObject(expect) || !kind)
		fail_msg("%s: no \"expect\" object or no \"kind\"", id);
	/* One frame, or the frames of one multi-frame answer. */
	if (!cJSON_IsString(hex) && !cJSON_IsArray(hex))
		fail_msg("%s: \"hex\" is neither a string nor a list", id);
	for (h = cJSON_IsArray(hex) ? hex->child : hex; h; h = cJSON_IsArray(hex) ? h->next : NULL) {
		const char *s = cJSON_GetStringValue(h);
		size_t n;
		rig_rc rc;

		if (!s || count == DALY_CELL_FRAMES_MAX)
			fail_msg("%s: a \"hex\" entry is not a string, or there are too many", id);
		n = hex_to_bytes(s, wire[count], sizeof wire[count]);
		if (2 * n != strlen(s))
			fail_msg("%s: \"hex\" is not plain hex", id);
		rc = daly_frame_parse(wire[count], n, &f[count]);
		if (rc != RIG_OK)
			fail_msg("%s: frame %zu: daly_frame_parse: %s", id, count + 1, rig_rc_str(rc));
		count++;
	}
	if (count == 0)
		fail_msg("%s: no frames", id);

	got = cJSON_IsArray(hex) ? daly_answer_json(f, count) : daly_frame_json(&f[0]);
	assert_non_null(got);
	ok &= same_value(id, "kind", cJSON_GetObjectItemCaseSensitive(v, "kind"),
			 cJSON_GetObjectItemCaseSensitive(got, "kind"));
	if (cJSON_HasObjectItem(got, "error")) {
		print_error("%s: decoded with error \"%s\"\n", id, str_of(got, "error"));
		ok = 0;
	}
	cJSON_ArrayForEach(e, expect)
		ok &= same_value(id, e->string, e, cJSON_GetObjectItemCaseSensitive(got, e->string));
	cJSON_Delete(got);

	for (size_t i = 0; i < count; i++, n_frames++)
		ok &= rebuilds(id, &f[i], wire[i]);
	if (!ok)
		fail_msg("%s: see above", id);
	n_passed++;
}

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("daly vectors: %zu in the file, %zu checked, %zu passed, %zu frames rebuilt\n",
		      n_vectors, n_exercised, n_passed, n_frames);
	assert_true(n_vectors >= DALY_VECTORS_KNOWN);
	assert_int_equal(n_exercised, n_vectors);
	assert_int_equal(n_passed, n_vectors);
}

int main(void)
{
	const char *dir = getenv("BMSRIG_VECTORS");
	char path[4096];
	char *text;
	cJSON *root, *v;
	struct CMUnitTest *tests;
	size_t i = 0;
	int failed;

	snprintf(path, sizeof path, "%s/daly.json", dir && *dir ? dir : "tests/vectors");
	text = read_file(path);
	if (!text) {
		fprintf(stderr, "test_daly_vectors: cannot read %s (run from the repository root)\n", path);
		return 1;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0) {
		fprintf(stderr, "test_daly_vectors: %s is not a non-empty JSON array\n", path);
		cJSON_Delete(root);
		return 1;
	}
	n_vectors = (size_t)cJSON_GetArraySize(root);
	tests = calloc(n_vectors + 1, sizeof *tests);
	if (!tests)
		return 1;
	cJSON_ArrayForEach(v, root) {
		const char *id = str_of(v, "id");

		tests[i].name = id ? id : "(vector without id)";
		tests[i].test_func = test_vector;
		tests[i].initial_state = v;
		i++;
	}
	tests[i].name = "all_vectors_checked";
	tests[i].test_func = test_all_vectors_checked;
	failed = _cmocka_run_group_tests("daly_vectors", tests, n_vectors + 1, NULL, NULL);
	free(tests);
	cJSON_Delete(root);
	return failed;
}
