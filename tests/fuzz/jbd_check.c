#include "jbd_check.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/sim/jbd_json.h"

int fuzz_jbd_same_frame(const struct jbd_frame *a, const struct jbd_frame *b)
{
	return a->kind == b->kind && a->rw == b->rw && a->reg == b->reg && a->status == b->status &&
	       a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

void fuzz_jbd_check_request_decoders(const struct jbd_frame *f)
{
	struct jbd_frame g;
	struct jbd_text t;
	uint8_t d[1 + JBD_TEXT_MAX];
	uint16_t v;

	if (f->kind == JBD_KIND_REQUEST && rig_jbd_register_decode(f, &v) == RIG_OK) {
		CHECK(f->rw == JBD_RW_WRITE && f->len == 2);
		rig_jbd_request_write_u16(&g, f->reg, v);
		CHECK(fuzz_jbd_same_frame(f, &g));
	}
	if (rig_jbd_string_request_decode(f, &t) == RIG_OK) {
		CHECK(t.len <= JBD_TEXT_MAX && t.text[t.len] == '\0');
		d[0] = t.len;
		memcpy(d + 1, t.text, t.len);
		CHECK(rig_jbd_request_write(&g, f->reg, d, (uint8_t)(t.len + 1u)) == RIG_OK);
		CHECK(fuzz_jbd_same_frame(f, &g));
	}
}

void fuzz_jbd_check_response_decoders(const struct jbd_frame *f)
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

	if (rig_jbd_basic_decode(f, &u.b) == RIG_OK) {
		CHECK(u.b.ntc_count <= JBD_NTC_MAX && u.b.cell_count <= JBD_CELLS_MAX);
		CHECK(rig_jbd_basic_encode(&g, &u.b) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	}
	if (rig_jbd_cells_decode(f, &u.c) == RIG_OK)
		CHECK(rig_jbd_cells_encode(&g, &u.c) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	if (rig_jbd_version_decode(f, &u.t) == RIG_OK) {
		CHECK(u.t.len <= JBD_TEXT_MAX && u.t.text[u.t.len] == '\0');
		CHECK(rig_jbd_version_encode(&g, &u.t) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	}
	if (rig_jbd_string_decode(f, &u.t) == RIG_OK) {
		CHECK(u.t.len <= JBD_TEXT_MAX && u.t.text[u.t.len] == '\0');
		CHECK(rig_jbd_string_encode(&g, f->reg, &u.t) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	}
	if (rig_jbd_events_decode(f, &u.e) == RIG_OK)
		CHECK(rig_jbd_events_encode(&g, &u.e) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	if (rig_jbd_params_decode(f, &u.p) == RIG_OK)
		CHECK(rig_jbd_params_encode(&g, &u.p) == RIG_OK && fuzz_jbd_same_frame(f, &g));
	if (f->kind == JBD_KIND_RESPONSE && rig_jbd_register_decode(f, &u.v) == RIG_OK) {
		rig_jbd_register_encode(&g, f->reg, u.v);
		CHECK(fuzz_jbd_same_frame(f, &g));
	}
}

void fuzz_jbd_check_rebuild(const struct jbd_frame *f, int has_error, const uint8_t *wire, size_t n)
{
	uint8_t out[JBD_FRAME_MAX];
	struct jbd_frame g;
	size_t len = 0;
	rig_rc rc = jbd_frame_rebuild(f, &g);

	/* UNSUPPORTED: no builder can express f, which is not a decode error, so no "error" key. */
	CHECK(has_error == (rc != RIG_OK && rc != RIG_ERR_UNSUPPORTED));
	if (rc == RIG_OK) {
		CHECK(rig_jbd_frame_encode(&g, out, sizeof out, &len) == RIG_OK);
		CHECK(len == n && memcmp(out, wire, n) == 0);
	}
}

static void check_json_and_rebuild(const struct jbd_frame *f, const uint8_t *wire, size_t n)
{
	cJSON *o = jbd_frame_json(f);
	int has_error;

	CHECK(o && cJSON_HasObjectItem(o, "proto") && cJSON_HasObjectItem(o, "kind") &&
	      cJSON_HasObjectItem(o, "cmd"));
	has_error = cJSON_HasObjectItem(o, "error");
	fuzz_check_json_prints(o, 1);
	cJSON_Delete(o);
	fuzz_jbd_check_rebuild(f, has_error, wire, n);
}

static void check_wire(const uint8_t *w, size_t n, int must_parse,
		       void (*check_decoders)(const struct jbd_frame *f))
{
	uint8_t out[JBD_FRAME_MAX];
	struct jbd_frame f;
	size_t len = 0;
	rig_rc rc = rig_jbd_frame_parse(w, n, &f);
	cJSON *o = jbd_wire_json(w, n);

	CHECK(o);
	CHECK(cJSON_HasObjectItem(o, "kind") == (rc == RIG_OK));
	CHECK(rc == RIG_OK || cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	if (rc != RIG_OK) {
		CHECK(!must_parse);
		return;
	}
	CHECK(rig_jbd_frame_encode(&f, out, sizeof out, &len) == RIG_OK);
	CHECK(len == n && memcmp(out, w, n) == 0);
	check_json_and_rebuild(&f, w, n);
	check_decoders(&f);
}

static size_t repair(const uint8_t *in, size_t n, uint8_t *w, int as_request)
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
	/* Byte 1 is a response's status but a request's rw, which must be A5 or 5A to parse. */
	if (as_request && w[1] != JBD_RW_READ && w[1] != JBD_RW_WRITE)
		w[1] = (w[1] & 1u) ? JBD_RW_WRITE : JBD_RW_READ;
	w[3] = (uint8_t)len;
	c = rig_jbd_checksum(w + 2, len + 2);
	w[4 + len] = (uint8_t)(c >> 8);
	w[5 + len] = (uint8_t)c;
	w[6 + len] = JBD_STOP;
	return len + JBD_OVERHEAD;
}

void fuzz_jbd_check_wire_input(const uint8_t *data, size_t size, int as_request,
			   void (*check_decoders)(const struct jbd_frame *f))
{
	uint8_t w[JBD_FRAME_MAX];
	size_t n;

	check_wire(data, size, 0, check_decoders);
	n = repair(data, size, w, as_request);
	if (n)
		check_wire(w, n, 1, check_decoders);
}
