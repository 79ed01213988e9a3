/*
 * Every "4E 57" golden vector of tests/vectors/jk.json (real captures, shared/vectors/README.md):
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "bmsrig/jk.h"
#include "bmsrig/jk_json.h"
#include "fake_io.h"

/* jk_req_read_all, jk_4e57_13s_fets_off, jk_4e57_14s_charging. */
#define JK_4E57_VECTORS 3u

static size_t n_selected, n_exercised, n_passed;

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

/* A "4E 57" entry: one frame whose hex starts with 4E57 (BLE entries start 55AA / AA55). */
static int is_4e57(const cJSON *v)
{
	const char *hex = str_of(v, "hex");

	return hex && strncasecmp(hex, "4E57", 4) == 0;
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

/* The typed round trip: typed values -> builders -> the captured bytes. */
static int rebuilds(const char *id, const struct jk_frame *f, const uint8_t *wire, size_t n)
{
	struct jk_frame g;
	uint8_t out[JK_FRAME_MAX];
	char hw[2 * JK_FRAME_MAX + 1], ho[2 * JK_FRAME_MAX + 1];
	size_t len = 0;
	rig_rc rc = jk_frame_rebuild(f, &g);

	if (rc != RIG_OK) {
		print_error("%s: decode/encode round trip failed: %s\n", id, rig_rc_str(rc));
		return 0;
	}
	rc = jk_frame_encode(&g, out, sizeof out, &len);
	if (rc != RIG_OK) {
		print_error("%s: jk_frame_encode of the rebuilt frame: %s\n", id, rig_rc_str(rc));
		return 0;
	}
	if (len == n && memcmp(out, wire, n) == 0)
		return 1;
	hex_line(hw, wire, n);
	hex_line(ho, out, len);
	print_error("%s: rebuilt frame differs\n  captured %s\n  rebuilt  %s\n", id, hw, ho);
	return 0;
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = str_of(v, "id"), *hex = str_of(v, "hex");
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(v, "expect"), *e;
	uint8_t wire[2 * JK_FRAME_MAX];
	struct jk_frame f;
	size_t n;
	rig_rc rc;
	cJSON *got;
	int ok = 1;

	n_exercised++;
	if (!id)
		fail_msg("vector without an id");
	if (!cJSON_IsObject(expect) || !str_of(v, "kind"))
		fail_msg("%s: no \"expect\" object or no \"kind\"", id);
	n = hex_to_bytes(hex, wire, sizeof wire);
	if (2 * n != strlen(hex))
		fail_msg("%s: \"hex\" is not plain hex of at most %u bytes", id, (unsigned)sizeof wire);
	rc = jk_frame_parse(wire, n, &f);
	if (rc != RIG_OK)
		fail_msg("%s: jk_frame_parse: %s", id, rig_rc_str(rc));

	got = jk_frame_json(&f);
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

	ok &= rebuilds(id, &f, wire, n);
	if (!ok)
		fail_msg("%s: see above", id);
	n_passed++;
}

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	print_message("jk 4E57 vectors: %zu selected, %zu checked, %zu passed\n",
		      n_selected, n_exercised, n_passed);
	assert_int_equal(n_selected, JK_4E57_VECTORS);
	assert_int_equal(n_exercised, n_selected);
	assert_int_equal(n_passed, n_selected);
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

	snprintf(path, sizeof path, "%s/jk.json", dir && *dir ? dir : "tests/vectors");
	text = read_file(path);
	if (!text) {
		fprintf(stderr, "test_jk_vectors: cannot read %s (run from the repository root)\n", path);
		return 1;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(root)) {
		fprintf(stderr, "test_jk_vectors: %s is not a JSON array\n", path);
		cJSON_Delete(root);
		return 1;
	}
	tests = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *tests);
	if (!tests)
		return 1;
	cJSON_ArrayForEach(v, root) {
		const char *id = str_of(v, "id");

		if (!is_4e57(v))
			continue;
		tests[i].name = id ? id : "(vector without id)";
		tests[i].test_func = test_vector;
		tests[i].initial_state = v;
		i++;
	}
	n_selected = i;
	tests[i].name = "all_vectors_checked";
	tests[i].test_func = test_all_vectors_checked;
	failed = _cmocka_run_group_tests("jk_vectors", tests, n_selected + 1, NULL, NULL);
	free(tests);
	cJSON_Delete(root);
	return failed;
}
