/*
 * libFuzzer: the input as capture-log text, line by line, through host_capture_parse_line, the
 * reader bmssim replay and bmsdecode share. abort() unless it stays inside its buffers, a
 * refusal is a short "expected" phrase, and a frame line it accepts comes back the same when
 * written by host_capture_write and read again (time, direction, protocol, bytes).
 * Seeds: tests/fuzz/corpus/fuzz_capture/ (logs as bmssim serve --capture and bmsctl tap write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bmsrig/lib/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct host_capture_frame f, again;

static void rewrite(void)
{
	struct host_capture_header h;
	struct host_capture_out w;
	enum host_capture_line kind;
	char *text = NULL;
	size_t n = 0;

	memset(&w, 0, sizeof w);
	memset(&h, 0, sizeof h);
	w.f = open_memstream(&text, &n);
	CHECK(w.f);
	host_capture_write(&w, f.t_us, f.dir, f.proto, f.bytes, f.len, "{\"x\":\n1}");
	fclose(w.f);
	CHECK(n && text[n - 1] == '\n' && memchr(text, '\n', n) == text + n - 1);
	CHECK(host_capture_parse_line(text, &h, &again, &kind) == NULL && kind == HOST_CAPTURE_LINE_FRAME);
	CHECK(again.t_us == f.t_us && again.dir == f.dir && !strcmp(again.proto, f.proto) && again.len == f.len &&
	      !memcmp(again.bytes, f.bytes, f.len));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	struct host_capture_header h;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&h, 0, sizeof h);
	for (line = text; line; line = next) {
		enum host_capture_line kind;
		const char *why;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		why = host_capture_parse_line(line, &h, &f, &kind);
		CHECK(h.protocol[sizeof h.protocol - 1] == '\0' && h.link[sizeof h.link - 1] == '\0');
		if (why) {
			CHECK(kind == HOST_CAPTURE_LINE_NOTE && strlen(why) < 100);
			continue;
		}
		if (kind == HOST_CAPTURE_LINE_FRAME) {
			CHECK(f.len >= 1 && f.len <= HOST_CAPTURE_FRAME_MAX && strlen(f.proto) < HOST_CAPTURE_PROTO_MAX);
			rewrite();
		}
	}
	free(text);
	return 0;
}
