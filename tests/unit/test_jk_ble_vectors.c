/*
 * The JK BLE golden vectors of tests/vectors/jk.json (real captures, shared/vectors/README.md):
 * every entry that is a 20-byte `AA 55 90 EB` command or a `55 AA EB 90` record (given as one
 * string, or as the list of BLE notifications that carried it, which are reassembled with
 * jk_ble_rx first; a JK-PB RS485 record keeps its Modbus echo). Each decodes to a JSON object
 * holding every key of `expect` with an equal value, and jk_ble_wire_rebuild (typed decode,
 * then encode from the typed values) gives the captured bytes back. The "4E 57" entries of the
 * same file belong to the serial protocol; the test checks that those are all it leaves out,
 * and how many it checked. BMSRIG_VECTORS=<dir> reads <dir>/jk.json instead.
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

#include "bmsrig/jk_ble.h"
#include "bmsrig/jk_ble_json.h"
#include "fake_io.h"

/* 3 commands (device info request, ack, app write) + 8 BLE records + 1 JK-PB RS485 record. */
#define JK_BLE_VECTORS 12u
#define WIRE_MAX 1024u

static size_t n_selected, n_exercised, n_passed, n_serial;

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

/* All pieces of "hex" (a string, or a list of strings) back to back; 0 when malformed. */
static size_t vector_bytes(const cJSON *v, uint8_t *out, size_t cap, unsigned *pieces)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "hex"), *e;
	size_t n = 0;

	*pieces = 0;
	if (cJSON_IsString(h)) {
		*pieces = 1;
		n = hex_to_bytes(h->valuestring, out, cap);
		return 2 * n == strlen(h->valuestring) ? n : 0;
	}
	cJSON_ArrayForEach(e, h) {
		size_t k;

		if (!cJSON_IsString(e))
			return 0;
		k = hex_to_bytes(e->valuestring, out + n, cap - n);
		if (2 * k != strlen(e->valuestring))
			return 0;
		n += k;
		(*pieces)++;
	}
	return n;
}

static int is_ble(const uint8_t *w, size_t n)
{
	static const uint8_t cmd[4] = { 0xAA, 0x55, 0x90, 0xEB }, rec[4] = { 0x55, 0xAA, 0xEB, 0x90 };

	return (n == JK_BLE_CMD_LEN && !memcmp(w, cmd, 4)) || (n >= JK_BLE_RECORD_LEN && !memcmp(w, rec, 4));
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

/* A list of notifications is what a BLE client receives: it must reassemble to one frame. */
static size_t reassemble(const char *id, const cJSON *v, uint8_t *frame, size_t cap)
{
	const cJSON *e;
	struct jk_ble_rx rx;
	size_t got = 0, frames = 0;
	uint32_t t = 0;

	jk_ble_rx_init(&rx, 200);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v, "hex")) {
		uint8_t piece[WIRE_MAX];
		size_t n = hex_to_bytes(e->valuestring, piece, sizeof piece), off = 0;
		const uint8_t *w;
		size_t len;

		t += 30;
		while (off < n) {
			off += jk_ble_rx_feed(&rx, piece + off, n - off, t);
			while (jk_ble_rx_next(&rx, &w, &len) == RIG_OK) {
				if (len <= cap)
					memcpy(frame, w, len);
				got = len;
				frames++;
			}
		}
	}
	if (frames != 1)
		fail_msg("%s: the notifications reassemble to %zu frames, not 1", id, frames);
	return got;
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = str_of(v, "id"), *kind = str_of(v, "kind");
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(v, "expect"), *e;
	uint8_t wire[WIRE_MAX], out[WIRE_MAX];
	char hw[2 * WIRE_MAX + 1], ho[2 * WIRE_MAX + 1];
	unsigned pieces;
	size_t n, len = 0;
	cJSON *got;
	rig_rc rc;
	int ok = 1;

	n_exercised++;
	if (!id || !kind || !cJSON_IsObject(expect))
		fail_msg("vector without id, kind or expect");
	n = vector_bytes(v, wire, sizeof wire, &pieces);
	if (pieces > 1)
		n = reassemble(id, v, wire, sizeof wire);

	got = jk_ble_wire_json(wire, n);
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

	rc = jk_ble_wire_rebuild(wire, n, out, sizeof out, &len);
	if (rc != RIG_OK) {
		print_error("%s: decode/encode round trip failed: %s\n", id, rig_rc_str(rc));
		ok = 0;
	} else if (len != n || memcmp(out, wire, n) != 0) {
		hex_line(hw, wire, n);
		hex_line(ho, out, len);
		print_error("%s: rebuilt frame differs\n  captured %s\n  rebuilt  %s\n", id, hw, ho);
		ok = 0;
	}
	if (!ok)
		fail_msg("%s: see above", id);
	n_passed++;
}

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_int_equal(n_selected, JK_BLE_VECTORS);
	assert_int_equal(n_exercised, n_selected);
	print_message("jk-ble vectors: %zu selected (%zu \"4E 57\" left to the serial protocol), "
		      "%zu checked, %zu passed\n", n_selected, n_serial, n_exercised, n_passed);
}

int main(void)
{
	const char *dir = getenv("BMSRIG_VECTORS");
	char path[4096];
	char *text;
	cJSON *root, *v;
	struct CMUnitTest *tests;
	size_t i = 0, total;
	int failed;

	snprintf(path, sizeof path, "%s/jk.json", dir && *dir ? dir : "tests/vectors");
	text = read_file(path);
	if (!text) {
		fprintf(stderr, "test_jk_ble_vectors: cannot read %s (run from the repository root)\n", path);
		return 1;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(root)) {
		fprintf(stderr, "test_jk_ble_vectors: %s is not a JSON array\n", path);
		cJSON_Delete(root);
		return 1;
	}
	total = (size_t)cJSON_GetArraySize(root);
	tests = calloc(total + 1, sizeof *tests);
	if (!tests)
		return 1;
	cJSON_ArrayForEach(v, root) {
		uint8_t w[WIRE_MAX];
		unsigned pieces;
		size_t n = vector_bytes(v, w, sizeof w, &pieces);
		const char *id = str_of(v, "id");

		if (n >= 2 && w[0] == 0x4E && w[1] == 0x57) {
			n_serial++;
			continue;
		}
		/* Anything else must be ours: an entry of unknown shape fails here, unskipped. */
		tests[i].name = id ? id : "(vector without id)";
		tests[i].test_func = test_vector;
		tests[i].initial_state = v;
		i++;
		if (is_ble(w, n) || pieces > 1)
			n_selected++;
		else
			fprintf(stderr, "test_jk_ble_vectors: %s is neither \"4E 57\" nor JK BLE\n",
				id ? id : "?");
	}
	tests[i].name = "all_vectors_checked";
	tests[i].test_func = test_all_vectors_checked;
	failed = _cmocka_run_group_tests("jk_ble_vectors", tests, i + 1, NULL, NULL);
	free(tests);
	cJSON_Delete(root);
	return failed;
}
