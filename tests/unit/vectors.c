#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_io.h"
#include "vectors.h"

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

int vectors_main(const struct vector_suite *s)
{
	const char *dir = getenv("BMSRIG_VECTORS");
	char path[4096];
	char *text;
	cJSON *root, *v;
	struct CMUnitTest *tests;
	size_t i = 0;
	int failed;

	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "tests/vectors", s->file);
	text = read_file(path);
	if (!text) {
		fprintf(stderr, "test_%s: cannot read %s (run from the repository root)\n", s->group, path);
		return 1;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(root) || (s->need_entries && cJSON_GetArraySize(root) == 0)) {
		fprintf(stderr, "test_%s: %s is not a %sJSON array\n", s->group, path,
			s->need_entries ? "non-empty " : "");
		cJSON_Delete(root);
		return 1;
	}
	s->tally->in_file = (size_t)cJSON_GetArraySize(root);
	tests = calloc(s->tally->in_file + 1, sizeof *tests);
	if (!tests) {
		cJSON_Delete(root);
		return 1;
	}
	cJSON_ArrayForEach(v, root) {
		const char *id = vector_str(v, "id");

		if (s->take && !s->take(v))
			continue;
		tests[i].name = id ? id : "(vector without id)";
		tests[i].test_func = s->test;
		tests[i].initial_state = v;
		i++;
	}
	s->tally->taken = i;
	tests[i].name = "all_vectors_checked";
	tests[i].test_func = s->all_checked;
	failed = _cmocka_run_group_tests(s->group, tests, i + 1, NULL, NULL);
	free(tests);
	cJSON_Delete(root);
	return failed;
}

const char *vector_str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

const char *vector_begin(const cJSON *v, struct vector_tally *t)
{
	const char *id = vector_str(v, "id");

	t->exercised++;
	if (!id)
		fail_msg("vector without an id");
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "expect")) || !vector_str(v, "kind"))
		fail_msg("%s: no \"expect\" object or no \"kind\"", id);
	return id;
}

int vector_plain_hex(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	if (!hex)
		return 0;
	*n = hex_to_bytes(hex, out, cap);
	return 2 * *n == strlen(hex);
}

size_t vector_hex(const char *id, const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (!hex)
		fail_msg("%s: \"hex\" is not one frame's string", id);
	if (!vector_plain_hex(hex, out, cap, &n))
		fail_msg("%s: \"hex\" is not plain hex of at most %zu bytes", id, cap);
	return n;
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

int vector_matches(const char *id, const cJSON *v, cJSON *got)
{
	const cJSON *e;
	int ok = 1;

	assert_non_null(got);
	ok &= same_value(id, "kind", cJSON_GetObjectItemCaseSensitive(v, "kind"),
			 cJSON_GetObjectItemCaseSensitive(got, "kind"));
	if (cJSON_HasObjectItem(got, "error")) {
		print_error("%s: decoded with error \"%s\"\n", id, vector_str(got, "error"));
		ok = 0;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v, "expect"))
		ok &= same_value(id, e->string, e, cJSON_GetObjectItemCaseSensitive(got, e->string));
	cJSON_Delete(got);
	return ok;
}

static char *hex_line(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02X", p[i]);
	s[2 * n] = '\0';
	return s;
}

int vector_rebuilt(const char *id, rig_rc rebuild_rc, const char *encoder, rig_rc encode_rc,
		   const uint8_t *wire, size_t n, const uint8_t *out, size_t len)
{
	char *hw, *ho;

	if (rebuild_rc != RIG_OK) {
		print_error("%s: decode/encode round trip failed: %s\n", id, rig_rc_str(rebuild_rc));
		return 0;
	}
	if (encoder && encode_rc != RIG_OK) {
		print_error("%s: %s of the rebuilt frame: %s\n", id, encoder, rig_rc_str(encode_rc));
		return 0;
	}
	if (len == n && memcmp(out, wire, n) == 0)
		return 1;
	hw = hex_line(wire, n);
	ho = hex_line(out, len);
	print_error("%s: rebuilt frame differs\n  captured %s\n  rebuilt  %s\n", id, hw, ho);
	free(hw);
	free(ho);
	return 0;
}

void vector_end(const char *id, int ok, struct vector_tally *t)
{
	if (!ok)
		fail_msg("%s: see above", id);
	t->passed++;
}
