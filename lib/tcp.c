/* Raw TCP byte streams: the listener bmssim and bmsmon serve on, and bmsmon's client (tcp.h says
 * what each promises and why). */
#define _GNU_SOURCE   /* accept4, getaddrinfo */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmsrig/lib/tcp.h"
#include "bmsrig/lib/serial.h"

struct host_tcp {
	int listener, client;
	int client_eof;      /* the client shut its sending side: replies still go to it */
	int poll_fd;         /* epoll over listener and client: one fd for the caller's loop */
	uint16_t port;
	uint32_t closes, connects;
	char path[40];
};

rig_rc host_tcp_parse(const char *spec, uint32_t *addr, uint16_t *port, char *why, size_t whycap)
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

static void drop_client(struct host_tcp *t)
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
static void client_ends_sending(struct host_tcp *t)
{
	epoll_ctl(t->poll_fd, EPOLL_CTL_DEL, t->client, NULL);   /* it would stay readable */
	t->client_eof = 1;
	t->closes++;
}

/* Takes every waiting connection; the last one stays (the newest client wins, tcp.h). */
static void take_clients(struct host_tcp *t)
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

rig_rc host_tcp_open(struct host_tcp **out, const char *spec, char *err, size_t errcap)
{
	struct host_tcp *t;
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
	if (host_tcp_parse(spec, &addr, &port, why, sizeof why) != RIG_OK) {
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
		host_tcp_close(t);
		return RIG_ERR_IO;
	}
	t->port = ntohs(sa.sin_port);
	snprintf(t->path, sizeof t->path, "tcp:%u.%u.%u.%u:%u", (unsigned)(addr >> 24),
	         (unsigned)(addr >> 16 & 0xffu), (unsigned)(addr >> 8 & 0xffu), (unsigned)(addr & 0xffu),
	         (unsigned)t->port);
	*out = t;
	return RIG_OK;
}

void host_tcp_close(struct host_tcp *t)
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

const char *host_tcp_path(const struct host_tcp *t) { return t->path; }
uint16_t host_tcp_port(const struct host_tcp *t) { return t->port; }
int host_tcp_fd(const struct host_tcp *t) { return t->poll_fd; }
uint32_t host_tcp_closes(const struct host_tcp *t) { return t->closes; }
uint32_t host_tcp_connects(const struct host_tcp *t) { return t->connects; }
int host_tcp_connected(const struct host_tcp *t) { return t->client >= 0 && !t->client_eof; }

int32_t host_tcp_read(struct host_tcp *t, uint8_t *buf, uint16_t cap)
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

int32_t host_tcp_write(struct host_tcp *t, const uint8_t *buf, uint16_t n)
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

/* ---- the client --------------------------------------------------------------------------- */

enum client_state { CL_DOWN = 0, CL_CONNECTING, CL_UP };

struct host_tcp_client {
	int sock, poll_fd;
	uint8_t state;                      /* enum client_state */
	uint64_t next_try_ms, started_ms;
	struct sockaddr_storage addr;       /* the address the first connect reached */
	socklen_t addr_len;
	uint32_t losses;
	void (*note)(void *ctx, const char *line);
	void *note_ctx;
	char path[300];
};

/* A connect that neither completes nor fails this long is given up and tried again. */
#define CONNECT_WAIT_MS 2000u

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void say(struct host_tcp_client *c, const char *what)
{
	char line[sizeof c->path + 200];

	if (c->note) {
		snprintf(line, sizeof line, "%s: %s", c->path, what);
		c->note(c->note_ctx, line);
	}
}

/* "HOST:PORT" or "[V6]:PORT" into host and port text; 0 with why when it is neither. */
static int split_host_port(const char *spec, char *host, size_t hostcap, char *port, size_t portcap,
                           char *why, size_t whycap)
{
	const char *h = spec, *colon;
	size_t n;

	if (*spec == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':') {
			snprintf(why, whycap, "expected HOST:PORT or [IPV6]:PORT");
			return 0;
		}
		h = spec + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		n = colon ? (size_t)(colon - spec) : 0;
	}
	if (!colon || n == 0 || n >= hostcap || !colon[1] || strlen(colon + 1) >= portcap ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strtoul(colon + 1, NULL, 10) == 0 ||
	    strtoul(colon + 1, NULL, 10) > 65535u) {
		snprintf(why, whycap, "expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)");
		return 0;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 1;
}

static int tcp_socket(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	/* A BMS request is a few bytes and its reply is awaited: latency over packing. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* The result of a non-blocking connect on fd: 0 done, EINPROGRESS still going, else its errno. */
static int connect_result(int fd, int wait_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int e = 0;
	socklen_t len = sizeof e;

	if (poll(&p, 1, wait_ms) == 0)
		return EINPROGRESS;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return errno;
	return e;
}

static void client_up(struct host_tcp_client *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = c->sock;
	(void)epoll_ctl(c->poll_fd, EPOLL_CTL_ADD, c->sock, &ev);
	c->state = CL_UP;
}

static void client_down(struct host_tcp_client *c)
{
	if (c->sock >= 0) {
		if (c->state == CL_UP)
			(void)epoll_ctl(c->poll_fd, EPOLL_CTL_DEL, c->sock, NULL);
		close(c->sock);
	}
	c->sock = -1;
	c->state = CL_DOWN;
	c->next_try_ms = mono_ms() + HOST_TCP_RECONNECT_MS;
}

/* One line, worded as bmssim words a lost serial port. */
static void client_lost(struct host_tcp_client *c, const char *why)
{
	char what[160];

	c->losses++;
	client_down(c);
	snprintf(what, sizeof what, "port lost (%s); reconnecting every %u ms", why, HOST_TCP_RECONNECT_MS);
	say(c, what);
}

void host_tcp_client_tick(struct host_tcp_client *c)
{
	uint64_t now = mono_ms();
	int e;

	if (c->state == CL_DOWN && now >= c->next_try_ms) {
		c->sock = tcp_socket(c->addr.ss_family);
		if (c->sock < 0) {
			c->next_try_ms = now + HOST_TCP_RECONNECT_MS;
			return;
		}
		c->started_ms = now;
		c->state = CL_CONNECTING;
		if (connect(c->sock, (struct sockaddr *)&c->addr, c->addr_len) != 0 && errno != EINPROGRESS) {
			client_down(c);
			return;
		}
	}
	if (c->state != CL_CONNECTING)
		return;
	e = connect_result(c->sock, 0);
	if (e == 0) {
		client_up(c);
		say(c, "port back");
	} else if (e != EINPROGRESS || now >= c->started_ms + CONNECT_WAIT_MS) {
		client_down(c);
	}
}

rig_rc host_tcp_client_open(struct host_tcp_client **out, const char *spec,
                            void (*note)(void *ctx, const char *line), void *note_ctx,
                            char *err, size_t errcap)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct host_tcp_client *c;
	char host[256], port[8], why[128];
	int e = 0, gai;

	*out = NULL;
	if (!split_host_port(spec, host, sizeof host, port, sizeof port, why, sizeof why)) {
		snprintf(err, errcap, "tcp:%s: %s", spec, why);
		return RIG_ERR_ARG;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errcap, "tcp:%s: cannot resolve \"%s\": %s", spec, host, gai_strerror(gai));
		return RIG_ERR_ARG;
	}
	c = calloc(1, sizeof *c);
	if (!c || (c->poll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errcap, "tcp:%s: %s", spec, strerror(errno));
		free(c);
		freeaddrinfo(res);
		return RIG_ERR_IO;
	}
	c->sock = -1;
	c->note = note;
	c->note_ctx = note_ctx;
	snprintf(c->path, sizeof c->path, "tcp:%s", spec);
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof c->addr || (c->sock = tcp_socket(ai->ai_family)) < 0) {
			e = errno;
			continue;
		}
		if (connect(c->sock, ai->ai_addr, ai->ai_addrlen) == 0)
			e = 0;
		else
			e = errno == EINPROGRESS ? connect_result(c->sock, (int)CONNECT_WAIT_MS) : errno;
		if (e == 0) {
			memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
			c->addr_len = ai->ai_addrlen;
			break;
		}
		close(c->sock);
		c->sock = -1;
	}
	freeaddrinfo(res);
	if (c->sock < 0) {
		snprintf(err, errcap, "tcp:%s: cannot connect: %s", spec,
		         e == EINPROGRESS ? "timed out" : strerror(e ? e : EHOSTUNREACH));
		close(c->poll_fd);
		free(c);
		return RIG_ERR_IO;
	}
	client_up(c);
	*out = c;
	return RIG_OK;
}

void host_tcp_client_close(struct host_tcp_client *c)
{
	if (!c)
		return;
	if (c->sock >= 0)
		close(c->sock);
	close(c->poll_fd);
	free(c);
}

const char *host_tcp_client_path(const struct host_tcp_client *c) { return c->path; }
int host_tcp_client_fd(const struct host_tcp_client *c) { return c->poll_fd; }
int host_tcp_client_connected(const struct host_tcp_client *c) { return c->state == CL_UP; }
uint32_t host_tcp_client_losses(const struct host_tcp_client *c) { return c->losses; }

int32_t host_tcp_client_read(struct host_tcp_client *c, uint8_t *buf, uint16_t cap)
{
	ssize_t n;

	host_tcp_client_tick(c);
	if (c->state != CL_UP || cap == 0)
		return 0;
	n = recv(c->sock, buf, cap, MSG_DONTWAIT);
	if (n > 0)
		return (int32_t)n;
	if (n == 0)
		client_lost(c, "closed by the far end");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		client_lost(c, strerror(errno));
	return 0;
}

int32_t host_tcp_client_write(struct host_tcp_client *c, const uint8_t *buf, uint16_t n)
{
	uint16_t done = 0;

	host_tcp_client_tick(c);
	while (c->state == CL_UP && done < n) {
		ssize_t k = send(c->sock, buf + done, (size_t)(n - done), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k > 0) {
			done = (uint16_t)(done + (uint16_t)k);
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { c->sock, POLLOUT, 0 };

			if (poll(&p, 1, (int)HOST_TTY_WRITE_WAIT_MS) != 1)
				return done ? (int32_t)done : RIG_ERR_TIMEOUT;
		} else if (!(k < 0 && errno == EINTR)) {
			client_lost(c, k < 0 ? strerror(errno) : "closed by the far end");
		}
	}
	/* Not connected: the bytes are lost, as on an unplugged adapter; the reply never comes. */
	return (int32_t)n;
}
