/* Replaying a trace (replay.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/lib/capture.h"
#include "bmsrig/lib/file.h"
#include "bmsrig/sim/replay.h"

/* A malloc'd copy of the bytes a hex string spells, or NULL when it spells none. */
static uint8_t *from_hex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;

	if (!n || n % 2)
		return NULL;
	out = malloc(n / 2);
	for (i = 0; out && i < n / 2; i++) {
		int hi = rig_hex_digit(hex[2 * i]), lo = rig_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* Room for one more element; arrays grow by doubling. */
static int grow(void **arr, unsigned n, unsigned *cap, size_t elem)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 64) * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

/* One frame (malloc'd bytes, owned from here on) into the exchanges: a request opens one,
 * replies join the open one. */
static const char *add_bytes(struct replay *r, unsigned *cap, unsigned *rcap, int is_rx, uint32_t t_ms,
                             uint8_t *bytes, size_t len)
{
	if (is_rx) {
		if (grow((void **)&r->ex, r->n, cap, sizeof *r->ex)) {
			free(bytes);
			return "memory for the frames";
		}
		r->ex[r->n++] = (struct replay_exchange){ t_ms, len, bytes, 0, NULL };
		*rcap = 0;
		return NULL;
	}
	if (!r->n) {                       /* a push before any request: nothing asked for it */
		free(bytes);
		return NULL;
	}
	{
		struct replay_exchange *e = &r->ex[r->n - 1];
		uint32_t at = t_ms;

		if (grow((void **)&e->replies, e->n_replies, rcap, sizeof *e->replies)) {
			free(bytes);
			return "memory for the frames";
		}
		e->replies[e->n_replies++] = (struct replay_reply){ at > e->t_ms ? at - e->t_ms : 0, len, bytes };
	}
	return NULL;
}

/* One frame record of a trace. */
static const char *add_frame(struct replay *r, unsigned *cap, unsigned *rcap, const cJSON *o)
{
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "dir");
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "hex");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t_ms");
	size_t len = 0;
	uint8_t *bytes;

	if (!cJSON_IsString(dir) || !cJSON_IsString(hex) || !cJSON_IsNumber(t) || t->valuedouble < 0)
		return "a frame record with \"dir\", \"hex\" and \"t_ms\"";
	if (!(bytes = from_hex(hex->valuestring, &len)))
		return "\"hex\" as pairs of hex digits";
	return add_bytes(r, cap, rcap, !strcmp(dir->valuestring, "rx"), (uint32_t)t->valuedouble, bytes, len);
}

/* A capture log (capture.h): its frames, timed from the first one. Time stamps that go back
 * (a clock stepped while capturing) count as no delay rather than a wrapped one. */
static rig_rc load_capture(struct replay *r, FILE *f, const char *path, char *err, size_t errcap)
{
	struct host_capture_frame fr;
	struct host_capture_header h;
	char *line = NULL;
	size_t linecap = 0;
	unsigned lineno = 0, cap = 0, rcap = 0;
	uint64_t t0_us = 0;
	int have_t0 = 0;
	const char *bad = NULL;
	ssize_t got;

	memset(&h, 0, sizeof h);
	while (!bad && (got = getline(&line, &linecap, f)) > 0) {
		enum host_capture_line kind;
		uint8_t *bytes;

		lineno++;
		if ((size_t)got > HOST_CAPTURE_LINE_MAX) {
			bad = "a line of at most 65536 bytes";
			break;
		}
		bad = host_capture_parse_line(line, &h, &fr, &kind);
		if (bad || kind != HOST_CAPTURE_LINE_FRAME)
			continue;
		if (!have_t0) {
			t0_us = fr.t_us;
			have_t0 = 1;
		}
		if (!(bytes = malloc(fr.len))) {
			bad = "memory for the frames";
			break;
		}
		memcpy(bytes, fr.bytes, fr.len);
		bad = add_bytes(r, &cap, &rcap, fr.dir == HOST_CAPTURE_RX,
		                fr.t_us > t0_us ? (uint32_t)((fr.t_us - t0_us) / 1000u) : 0, bytes, fr.len);
	}
	free(line);
	fclose(f);
	if (!bad && !r->n)
		bad = "frame lines with at least one rx (a request to answer)";
	if (bad) {
		snprintf(err, errcap, "%s:%u: expected %s", path, lineno, bad);
		replay_free(r);
		return RIG_ERR_ARG;
	}
	snprintf(r->scenario, sizeof r->scenario, "capture");
	snprintf(r->protocol, sizeof r->protocol, "%s", h.protocol);
	return RIG_OK;
}

rig_rc replay_load(struct replay *r, const char *path, const char *scenario, char *err, size_t errcap)
{
	FILE *f;
	char *line = NULL;
	size_t linecap = 0;
	unsigned lineno = 0, cap = 0, rcap = 0;
	int in_run = 0, runs_seen = 0;
	const char *bad = NULL;

	memset(r, 0, sizeof *r);
	f = host_file_open_read(path, err, errcap);
	if (!f)
		return RIG_ERR_IO;
	{
		char head[64];
		size_t n = fread(head, 1, sizeof head, f);

		rewind(f);
		if (host_capture_detect(head, n))
			return load_capture(r, f, path, err, errcap);
	}
	while (!bad && getline(&line, &linecap, f) > 0) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
		int next = o ? 0 : getc(f);

		if (next != EOF && !o)
			ungetc(next, f);
		lineno++;
		if (!o && next == EOF && lineno > 1) {
			/* A run killed while it wrote its trace leaves half a record last; what came
			 * before is whole and worth replaying. */
			snprintf(r->warning, sizeof r->warning, "%s:%u: warning: truncated last line ignored "
			         "(run killed while writing?)", path, lineno);
		} else if (!cJSON_IsString(type)) {
			bad = "a JSON object with a \"type\" (a trace from bmssim run --trace)";
		} else if (!strcmp(type->valuestring, "scenario")) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
			const cJSON *proto = cJSON_GetObjectItemCaseSensitive(o, "protocol");
			int wanted = cJSON_IsString(name) && (scenario ? !strcmp(name->valuestring, scenario) : !runs_seen);

			if (in_run && r->n)
				in_run = 0;                /* one run only */
			else if (wanted && !r->n) {
				in_run = 1;
				snprintf(r->scenario, sizeof r->scenario, "%s", name->valuestring);
				snprintf(r->protocol, sizeof r->protocol, "%s", cJSON_IsString(proto) ? proto->valuestring : "");
			}
			runs_seen++;
		} else if (in_run && !strcmp(type->valuestring, "frame")) {
			bad = add_frame(r, &cap, &rcap, o);
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	if (!bad && !r->n)
		bad = scenario ? "the named scenario's frames" : "frame records";
	if (bad) {
		snprintf(err, errcap, "%s:%u: expected %s", path, lineno, bad);
		replay_free(r);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

void replay_free(struct replay *r)
{
	unsigned i, k;

	for (i = 0; i < r->n; i++) {
		for (k = 0; k < r->ex[i].n_replies; k++)
			free(r->ex[i].replies[k].bytes);
		free(r->ex[i].replies);
		free(r->ex[i].request);
	}
	free(r->ex);
	memset(r, 0, sizeof *r);
}

static int ends_with(const uint8_t *p, size_t n, const uint8_t *tail, size_t m)
{
	return m <= n && !memcmp(p + n - m, tail, m);
}

const struct replay_exchange *replay_input(struct replay *r, const uint8_t *p, size_t n)
{
	unsigned k;

	while (n) {
		size_t room = sizeof r->pending - r->n_pending, take = n < room ? n : room;

		if (!room) {                   /* nothing this long matched: keep the newer half */
			size_t half = sizeof r->pending / 2;

			memmove(r->pending, r->pending + half, sizeof r->pending - half);
			r->n_pending -= half;
			r->unmatched_bytes += (uint32_t)half;
			continue;
		}
		memcpy(r->pending + r->n_pending, p, take);
		r->n_pending += take;
		p += take;
		n -= take;
	}
	for (k = 0; k < r->n; k++) {
		unsigned i = (r->next + k) % r->n;
		const struct replay_exchange *e = &r->ex[i];

		if (ends_with(r->pending, r->n_pending, e->request, e->len)) {
			r->unmatched_bytes += (uint32_t)(r->n_pending - e->len);
			r->n_pending = 0;
			r->next = (i + 1) % r->n;
			r->answered++;
			return e;
		}
	}
	return NULL;
}
