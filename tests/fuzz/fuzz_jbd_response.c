/*
 * libFuzzer: the input as one frame of wire bytes, through jbd_frame_parse, the response-side
 * decoders, jbd_frame_json and jbd_frame_rebuild. Besides not crashing, every accepted frame
 * must survive its round trips (abort() otherwise):
 *   parse -> encode gives the input; decode -> encode gives the frame; the typed rebuild
 *   gives the input; the JSON prints as valid UTF-8 and parses back equal, and says "error"
 *   exactly when the rebuild hit a decoder error.
 * Mutations rarely keep a checksum right, so a repaired copy of each input (fresh length,
 * checksum and stop byte) is checked too: that one must parse, and reaches the decoders.
 * Seeds: tests/fuzz/corpus/fuzz_jbd_response/ (captured frames).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/jbd.h"
#include "bmsrig/jbd_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int same_frame(const struct jbd_frame *a, const struct jbd_frame *b)
{
	return a->kind == b->kind && a->rw == b->rw && a->reg == b->reg && a->status == b->status &&
	       a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		int more = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 :
			   (*s & 0xF8) == 0xF0 ? 3 : -1;

		if (more < 0)
			return 0;
		for (s++; more--; s++)
			if ((*s & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* Each decoder that accepts f must give back exactly f through its encoder. */
static void check_decoders(const struct jbd_frame *f)
{
	union {
		struct jbd_basic b;
		struct jbd_cells c;
		struct jbd_text t;
		struct jbd_events e;
		struct jbd_params p;
		uint16_t v;
	} u;
	struct jbd_frame g;

	if (jbd_basic_decode(f, &u.b) == RIG_OK) {
		CHECK(u.b.ntc_count <= JBD_NTC_MAX && u.b.cell_count <= JBD_CELLS_MAX);
		CHECK(jbd_basic_encode(&g, &u.b) == RIG_OK && same_frame(f, &g));
	}
	if (jbd_cells_decode(f, &u.c) == RIG_OK)
		CHECK(jbd_cells_encode(&g, &u.c) == RIG_OK && same_frame(f, &g));
	if (jbd_version_decode(f, &u.t) == RIG_OK) {
		CHECK(u.t.len <= JBD_TEXT_MAX && u.t.text[u.t.len] == '\0');
		CHECK(jbd_version_encode(&g, &u.t) == RIG_OK && same_frame(f, &g));
	}
	if (jbd_string_decode(f, &u.t) == RIG_OK) {
		CHECK(u.t.len <= JBD_TEXT_MAX && u.t.text[u.t.len] == '\0');
		CHECK(jbd_string_encode(&g, f->reg, &u.t) == RIG_OK && same_frame(f, &g));
	}
	if (jbd_events_decode(f, &u.e) == RIG_OK)
		CHECK(jbd_events_encode(&g, &u.e) == RIG_OK && same_frame(f, &g));
	if (jbd_params_decode(f, &u.p) == RIG_OK)
		CHECK(jbd_params_encode(&g, &u.p) == RIG_OK && same_frame(f, &g));
	if (f->kind == JBD_KIND_RESPONSE && jbd_register_decode(f, &u.v) == RIG_OK) {
		jbd_register_encode(&g, f->reg, u.v);
		CHECK(same_frame(f, &g));
	}
}

static void check_json_and_rebuild(const struct jbd_frame *f, const uint8_t *wire, size_t n)
{
	uint8_t out[JBD_FRAME_MAX];
	struct jbd_frame g;
	size_t len = 0;
	cJSON *o = jbd_frame_json(f), *back;
	char *s;
	int has_error;
	rig_rc rc;

	CHECK(o && cJSON_HasObjectItem(o, "proto") && cJSON_HasObjectItem(o, "kind") &&
	      cJSON_HasObjectItem(o, "cmd"));
	has_error = cJSON_HasObjectItem(o, "error");
	s = cJSON_PrintUnformatted(o);
	CHECK(s && valid_utf8((const unsigned char *)s));
	back = cJSON_Parse(s);
	CHECK(back && cJSON_Compare(o, back, 1));
	cJSON_Delete(back);
	cJSON_free(s);
	cJSON_Delete(o);

	rc = jbd_frame_rebuild(f, &g);
	CHECK(has_error == (rc != RIG_OK && rc != RIG_ERR_UNSUPPORTED));
	if (rc == RIG_OK) {
		CHECK(jbd_frame_encode(&g, out, sizeof out, &len) == RIG_OK);
		CHECK(len == n && memcmp(out, wire, n) == 0);
	}
}

static void check_wire(const uint8_t *w, size_t n, int must_parse)
{
	uint8_t out[JBD_FRAME_MAX];
	struct jbd_frame f;
	size_t len = 0;
	rig_rc rc = jbd_frame_parse(w, n, &f);
	cJSON *o = jbd_wire_json(w, n);

	CHECK(o);
	CHECK(cJSON_HasObjectItem(o, "kind") == (rc == RIG_OK));
	CHECK(rc == RIG_OK || cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	if (rc != RIG_OK) {
		CHECK(!must_parse);
		return;
	}
	CHECK(jbd_frame_encode(&f, out, sizeof out, &len) == RIG_OK);
	CHECK(len == n && memcmp(out, w, n) == 0);
	check_json_and_rebuild(&f, w, n);
	check_decoders(&f);
}

/* The input with a fresh start byte, length, checksum and stop byte. */
static size_t repair(const uint8_t *in, size_t n, uint8_t *w)
{
	size_t len;
	uint16_t c;

	if (n < JBD_OVERHEAD)
		return 0;
	len = n - JBD_OVERHEAD;
	if (len > JBD_DATA_MAX)
		len = JBD_DATA_MAX;
	memcpy(w, in, 4 + len);
	w[0] = JBD_START;
	w[3] = (uint8_t)len;
	c = jbd_checksum(w + 2, len + 2);
	w[4 + len] = (uint8_t)(c >> 8);
	w[5 + len] = (uint8_t)c;
	w[6 + len] = JBD_STOP;
	return len + JBD_OVERHEAD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t w[JBD_FRAME_MAX];
	size_t n;

	check_wire(data, size, 0);
	n = repair(data, size, w);
	if (n)
		check_wire(w, n, 1);
	return 0;
}
