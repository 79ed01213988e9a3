/* The emulator's TCP transport (tcp.h says what it promises and why). */
#define _GNU_SOURCE   /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsrig/sim/tcp.h"
#include "bmsrig/lib/serial.h"

struct sim_tcp {
	int listener, client;
	int client_eof;      /* the client shut its sending side: replies still go to it */
	int poll_fd;         /* epoll over listener and client: one fd for the caller's loop */
	uint16_t port;
	uint32_t closes, connects;
	char path[40];
};

rig_rc sim_tcp_parse(const char *spec, uint32_t *addr, uint16_t *port, char *why, size_t whycap)
{
	const char *colon = strrchr(spec, ':'), *digits = colon ? colon + 1 : spec;
	char host[16];
	struct in_addr a;
	unsigned long v = 0;
	const char *p;

	*addr = INADDR_LOOPBACK;
	if (colon) {
		size_t n = (size_t)(colon - spec);

		if (n == 0 || n >= sizeof host) {
			snprintf(why, whycap, "expected PORT or ADDR:PORT (ADDR a dotted IPv4 address)");
			return RIG_ERR_ARG;
		}
		memcpy(host, spec, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &a) != 1) {
			snprintf(why, whycap, "expected a dotted IPv4 address, got \"%s\"", host);
			return RIG_ERR_ARG;
		}
		*addr = ntohl(a.s_addr);
	}
	if (!*digits || strlen(digits) > 5) {
		snprintf(why, whycap, "expected a port 0-65535");
		return RIG_ERR_ARG;
	}
	for (p = digits; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(why, whycap, "expected a port 0-65535");
			return RIG_ERR_ARG;
		}
		v = v * 10u + (unsigned long)(*p - '0');
	}
	if (v > 65535u) {
		snprintf(why, whycap, "expected a port 0-65535");
		return RIG_ERR_ARG;
	}
	*port = (uint16_t)v;
	return RIG_OK;
}

static void drop_client(struct sim_tcp *t)
{
	if (t->client < 0)
		return;
	if (!t->client_eof) {
		epoll_ctl(t->poll_fd, EPOLL_CTL_DEL, t->client, NULL);
		t->closes++;
	}
	close(t->client);
	t->client = -1;
	t->client_eof = 0;
}

/* The client will send nothing more. It counts as gone for the link model (as a pty client's
 * close does), but "printf REQUEST | socat - TCP:..." half-closes and still waits for the
 * reply, so writes go on until they fail or a newer client comes. */
static void client_ends_sending(struct sim_tcp *t)
{
	epoll_ctl(t->poll_fd, EPOLL_CTL_DEL, t->client, NULL);   /* it would stay readable */
	t->client_eof = 1;
	t->closes++;
}

/* Takes every waiting connection; the last one stays (the newest client wins, tcp.h). */
static void take_clients(struct sim_tcp *t)
{
	int fd;

	while ((fd = accept4(t->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev;
		int one = 1;

		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		/* CAN frames and requests are small and latency matters more than packing. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		drop_client(t);
		if (epoll_ctl(t->poll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			continue;
		}
		t->client = fd;
		t->connects++;
	}
}

rig_rc sim_tcp_open(struct sim_tcp **out, const char *spec, char *err, size_t errcap)
{
	struct sim_tcp *t;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	struct epoll_event ev;
	uint32_t addr;
	uint16_t port;
	char why[128];
	int one = 1;

	*out = NULL;
	if (err && errcap)
		err[0] = '\0';
	if (sim_tcp_parse(spec, &addr, &port, why, sizeof why) != RIG_OK) {
		snprintf(err, errcap, "tcp:%s: %s", spec, why);
		return RIG_ERR_ARG;
	}
	t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errcap, "tcp:%s: %s", spec, strerror(ENOMEM));
		return RIG_ERR_IO;
	}
	t->client = -1;
	t->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	t->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(port);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = t->listener;
	/* A restarted emulator must get its port back while the last run's sockets linger. */
	if (t->poll_fd < 0 || t->listener < 0 ||
	    setsockopt(t->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(t->listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(t->listener, 4) != 0 ||
	    getsockname(t->listener, (struct sockaddr *)&sa, &len) != 0 ||
	    epoll_ctl(t->poll_fd, EPOLL_CTL_ADD, t->listener, &ev) != 0) {
		snprintf(err, errcap, "tcp:%s: cannot listen: %s", spec, strerror(errno));
		sim_tcp_close(t);
		return RIG_ERR_IO;
	}
	t->port = ntohs(sa.sin_port);
	snprintf(t->path, sizeof t->path, "tcp:%u.%u.%u.%u:%u", (unsigned)(addr >> 24),
	         (unsigned)(addr >> 16 & 0xffu), (unsigned)(addr >> 8 & 0xffu), (unsigned)(addr & 0xffu),
	         (unsigned)t->port);
	*out = t;
	return RIG_OK;
}

void sim_tcp_close(struct sim_tcp *t)
{
	if (!t)
		return;
	if (t->client >= 0)
		close(t->client);
	if (t->listener >= 0)
		close(t->listener);
	if (t->poll_fd >= 0)
		close(t->poll_fd);
	free(t);
}

const char *sim_tcp_path(const struct sim_tcp *t) { return t->path; }
uint16_t sim_tcp_port(const struct sim_tcp *t) { return t->port; }
int sim_tcp_fd(const struct sim_tcp *t) { return t->poll_fd; }
uint32_t sim_tcp_closes(const struct sim_tcp *t) { return t->closes; }
uint32_t sim_tcp_connects(const struct sim_tcp *t) { return t->connects; }
int sim_tcp_connected(const struct sim_tcp *t) { return t->client >= 0 && !t->client_eof; }

int32_t sim_tcp_read(struct sim_tcp *t, uint8_t *buf, uint16_t cap)
{
	ssize_t n;

	take_clients(t);
	if (t->client < 0 || t->client_eof || cap == 0)
		return 0;
	n = recv(t->client, buf, cap, MSG_DONTWAIT);
	if (n > 0)
		return (int32_t)n;
	/* An orderly close or half-close (0), or a reset: the line stays for the next client. */
	if (n == 0)
		client_ends_sending(t);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		drop_client(t);
	return 0;
}

int32_t sim_tcp_write(struct sim_tcp *t, const uint8_t *buf, uint16_t n)
{
	uint16_t done = 0;

	take_clients(t);   /* a client that has just come gets what is written from now on */
	while (t->client >= 0 && done < n) {
		/* MSG_NOSIGNAL: a client gone mid-write must not kill the emulator with SIGPIPE. */
		ssize_t k = send(t->client, buf + done, (size_t)(n - done), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k > 0) {
			done = (uint16_t)(done + (uint16_t)k);
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { t->client, POLLOUT, 0 };

			if (poll(&p, 1, (int)HOST_TTY_WRITE_WAIT_MS) != 1)
				return done ? (int32_t)done : RIG_ERR_TIMEOUT;
		} else if (!(k < 0 && errno == EINTR)) {
			drop_client(t);
		}
	}
	/* Nobody connected (or the client left): the bytes are lost on the line, as on a UART. */
	return (int32_t)n;
}
