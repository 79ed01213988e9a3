/*
 * bmsviz's end of the control socket (control protocol v1): connect, send one request line,
 * and cut what arrives into lines. Reads never block; a line longer than VIZ_CONN_LINE_MAX is
 * dropped whole (counted) instead of growing the buffer without bound.
 */
#ifndef BMSRIG_VIZ_CONN_H
#define BMSRIG_VIZ_CONN_H

#include <stddef.h>

#define VIZ_CONN_LINE_MAX (4u << 20)   /* a STATE of 256 units with DUTs is far below this */

struct viz_conn {
	int fd;
	char *buf;
	size_t len, cap;
	size_t scanned;                    /* the front of buf known to hold no newline */
	int skipping;                      /* inside a line that was too long */
	unsigned long long_lines;
};

/* 0, or -1 with errno set (the caller prints "PATH: cannot connect: strerror"). */
int viz_conn_open(struct viz_conn *c, const char *path);
void viz_conn_close(struct viz_conn *c);

/* Writes line and a "\n" whole (a short wait is fine: requests are small). 0 or -1. */
int viz_conn_send(struct viz_conn *c, const char *line);

/*
 * Reads what is there (waiting up to timeout_ms for the first byte) and calls fn for each
 * complete line. Returns the number of lines, or -1 when the peer closed or an error occurred.
 */
typedef void (*viz_line_fn)(void *ctx, const char *line, size_t len);
int viz_conn_poll(struct viz_conn *c, int timeout_ms, viz_line_fn fn, void *ctx);

#endif
