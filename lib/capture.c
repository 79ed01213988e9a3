/* Capture logs: the one writer and the one reader (capture.h, docs/capture.md). */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/lib/capture.h"

rig_rc host_capture_open(struct host_capture_out *w, const char *path, const struct host_capture_header *h,
                         char *err, size_t errcap)
{
	memset(w, 0, sizeof *w);
	if (!strcmp(path, "-")) {
		w->to_stdout = 1;
		w->f = stdout;
	} else {
		rig_rc rc = host_file_out_open(&w->file, path, err, errcap);

		if (rc != RIG_OK)
			return rc;
		w->f = w->file.f;
	}
	fprintf(w->f, "%s\n# protocol: %s\n", HOST_CAPTURE_MAGIC, h && h->protocol[0] ? h->protocol : "-");
	if (h && h->baud)
		fprintf(w->f, "# baud: %u\n", (unsigned)h->baud);
	if (h && h->link[0])
		fprintf(w->f, "# link: %s\n", h->link);
	if (w->to_stdout)
		fflush(w->f);
	return RIG_OK;
}

void host_capture_write(struct host_capture_out *w, uint64_t t_us, enum host_capture_dir dir, const char *proto,
                        const uint8_t *p, size_t n, const char *comment)
{
	size_t i;

	if (!w->f)
		return;
	fprintf(w->f, "(%llu.%06u) %s %s ", (unsigned long long)(t_us / 1000000u), (unsigned)(t_us % 1000000u),
	        dir == HOST_CAPTURE_RX ? "rx" : "tx", proto && *proto ? proto : "-");
	for (i = 0; i < n; i++)
		fprintf(w->f, "%02X", p[i]);
	if (comment) {
		fputs("  # ", w->f);
		for (; *comment; comment++)
			fputc(*comment == '\n' || *comment == '\r' ? ' ' : *comment, w->f);
	}
	fputc('\n', w->f);
	w->frames++;
	if (w->to_stdout)
		fflush(w->f);
}

rig_rc host_capture_close(struct host_capture_out *w, char *err, size_t errcap)
{
	rig_rc rc = RIG_OK;

	if (!w->f)
		return RIG_OK;
	if (w->to_stdout)
		fflush(w->f);
	else
		rc = host_file_out_commit(&w->file, err, errcap);
	w->f = NULL;
	return rc;
}

uint64_t host_capture_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int host_capture_detect(const char *text, size_t n)
{
	size_t m = strlen(HOST_CAPTURE_MAGIC);

	return n >= m && !memcmp(text, HOST_CAPTURE_MAGIC, m) &&
	       (n == m || text[m] == '\n' || text[m] == '\r');
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_end(char c)
{
	return c == '\0' || c == '\n' || c == '\r';
}

/* "# key: value" into its header field; other comments are left alone. */
static void header_comment(const char *s, struct host_capture_header *h)
{
	static const struct { const char *key; size_t offset, cap; } fields[] = {
		{ "protocol", offsetof(struct host_capture_header, protocol), HOST_CAPTURE_PROTO_MAX },
		{ "link", offsetof(struct host_capture_header, link), sizeof h->link },
	};
	size_t i, n;

	while (is_blank(*s))
		s++;
	if (!strncmp(s, "baud:", 5)) {
		uint32_t v = 0;

		for (s += 5; is_blank(*s); s++)
			;
		for (n = 0; *s >= '0' && *s <= '9' && n < 9; s++, n++)
			v = v * 10u + (uint32_t)(*s - '0');
		if (n && is_end(*s))
			h->baud = v;
		return;
	}
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		size_t k = strlen(fields[i].key);
		char *out = (char *)h + fields[i].offset;

		if (strncmp(s, fields[i].key, k) || s[k] != ':')
			continue;
		for (s += k + 1; is_blank(*s); s++)
			;
		for (n = 0; !is_end(s[n]) && n + 1 < fields[i].cap; n++)
			out[n] = s[n];
		out[n] = '\0';
		return;
	}
}

const char *host_capture_parse_line(const char *line, struct host_capture_header *h,
                                    struct host_capture_frame *f, enum host_capture_line *kind)
{
	const char *s = line;
	uint64_t sec = 0;
	uint32_t us = 0;
	size_t n;

	*kind = HOST_CAPTURE_LINE_NOTE;
	while (is_blank(*s))
		s++;
	if (is_end(*s))
		return NULL;
	if (*s == '#') {
		header_comment(s + 1, h);
		return NULL;
	}
	/* (SECONDS.MICROSECONDS): at most 12 digits of seconds (year 33658), exactly 6 after. */
	if (*s++ != '(')
		return "a time stamp \"(SECONDS.MICROSECONDS)\" or a '#' comment";
	for (n = 0; *s >= '0' && *s <= '9' && n < 12; s++, n++)
		sec = sec * 10u + (uint64_t)(*s - '0');
	if (!n || *s++ != '.')
		return "a time stamp \"(SECONDS.MICROSECONDS)\" or a '#' comment";
	for (n = 0; *s >= '0' && *s <= '9' && n < 6; s++, n++)
		us = us * 10u + (uint32_t)(*s - '0');
	if (n != 6 || *s++ != ')' || !is_blank(*s))
		return "a time stamp \"(SECONDS.MICROSECONDS)\" with 6 digits of microseconds";
	while (is_blank(*s))
		s++;
	if ((s[0] == 'r' || s[0] == 't') && s[1] == 'x' && is_blank(s[2]))
		f->dir = s[0] == 'r' ? HOST_CAPTURE_RX : HOST_CAPTURE_TX;
	else
		return "a direction, rx or tx, after the time stamp";
	for (s += 2; is_blank(*s); s++)
		;
	for (n = 0; s[n] && !is_blank(s[n]) && !is_end(s[n]) && s[n] != '#'; n++)
		if (n + 1 >= HOST_CAPTURE_PROTO_MAX)
			return "a protocol name of at most 31 characters";
	if (!n || !is_blank(s[n]))
		return "a protocol name (or \"-\") and the frame's hex after the direction";
	memcpy(f->proto, s, n);
	f->proto[n] = '\0';
	for (s += n; is_blank(*s); s++)
		;
	for (n = 0; rig_hex_digit(s[0]) >= 0; s += 2) {
		int lo = rig_hex_digit(s[1]);

		if (lo < 0)
			return "the frame as pairs of hex digits";
		if (n >= HOST_CAPTURE_FRAME_MAX)
			return "a frame of at most 4608 bytes";
		f->bytes[n++] = (uint8_t)(rig_hex_digit(s[0]) << 4 | lo);
	}
	if (!n)
		return "the frame as pairs of hex digits";
	while (is_blank(*s))
		s++;
	if (!is_end(*s) && *s != '#')
		return "the end of the line or a '#' comment after the frame's hex";
	f->len = n;
	f->t_us = sec * 1000000u + us;
	*kind = HOST_CAPTURE_LINE_FRAME;
	return NULL;
}
