/* bmsviz's client side of the control socket (bmsrig/viz_conn.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bmsrig/viz/viz_conn.h"

#define READ_CHUNK 65536u

int viz_conn_open(struct viz_conn *c, const char *path)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	c->fd = fd;
	return 0;
}

void viz_conn_close(struct viz_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			if (poll(&pf, 1, 1000) <= 0)
				return -1;        /* a server that takes no request for a second is gone */
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int viz_conn_send(struct viz_conn *c, const char *line)
{
	if (c->fd < 0)
		return -1;
	if (send_all(c->fd, line, strlen(line)) < 0)
		return -1;
	return send_all(c->fd, "\n", 1);
}

/* Hands over the complete lines at the front of the buffer and keeps the partial tail. */
static int split(struct viz_conn *c, viz_line_fn fn, void *ctx)
{
	size_t start = 0, from = c->scanned;
	int lines = 0;
	char *nl;

	/* Searching only the new bytes keeps a long line arriving in pieces linear, not quadratic. */
	while ((nl = memchr(c->buf + from, '\n', c->len - from))) {
		size_t n = (size_t)(nl - (c->buf + start));
		if (c->skipping)
			c->skipping = 0;
		else {
			*nl = 0;
			fn(ctx, c->buf + start, n);
			lines++;
		}
		start += n + 1;
		from = start;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	c->scanned = c->len;
	if (c->len > VIZ_CONN_LINE_MAX) {
		c->len = c->scanned = 0;
		if (!c->skipping)
			c->long_lines++;
		c->skipping = 1;
	}
	return lines;
}

int viz_conn_poll(struct viz_conn *c, int timeout_ms, viz_line_fn fn, void *ctx)
{
	struct pollfd pf = { c->fd, POLLIN, 0 };
	int lines = 0, r, first = 1;

	if (c->fd < 0)
		return -1;
	for (;;) {
		ssize_t n;

		r = poll(&pf, 1, first ? timeout_ms : 0);
		first = 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return lines;
		if (c->cap - c->len < READ_CHUNK + 1) {
			size_t cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
			char *b = realloc(c->buf, cap);
			if (!b)
				return -1;
			c->buf = b;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, READ_CHUNK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
		lines += split(c, fn, ctx);
		/* Yield to drawing now and then, however fast the server writes. */
		if (lines > 2000)
			return lines;
	}
}
