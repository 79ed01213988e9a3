/* The TCP listener (lib/tcp.c) bmssim and bmsmon serve on: both directions, a client's close
 * counted like a pty close, the newest client replacing a live one, bytes written with nobody
 * connected lost, the kernel's port choice reported, and bad specs refused with one line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/tcp.h"

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* What the emulator's loop does: wait for its fd, then read (client events included). */
static size_t emulator_reads(struct host_tcp *t, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(host_tcp_fd(t), 2000)) {
		int32_t r = host_tcp_read(t, buf + got, (uint16_t)(n - got));

		assert_true(r >= 0);
		got += (size_t)r;
	}
	return got;
}

/* Lets the emulator notice clients coming and going until cond holds (or 2 s pass). */
static void emulator_until(struct host_tcp *t, uint32_t (*count)(const struct host_tcp *), uint32_t want)
{
	uint8_t c;
	int i;

	for (i = 0; i < 200 && count(t) != want; i++)
		if (wait_readable(host_tcp_fd(t), 10))
			assert_int_equal(host_tcp_read(t, &c, 1), 0);
	assert_int_equal(count(t), want);
}

static int client_connects(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static size_t client_reads(int fd, uint8_t *buf, size_t n, int ms)
{
	size_t got = 0;

	while (got < n && wait_readable(fd, ms)) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static struct host_tcp *listener(void)
{
	struct host_tcp *t;
	char err[200];

	if (host_tcp_open(&t, "127.0.0.1:0", err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	return t;
}

static void both_directions_and_the_chosen_port(void **state)
{
	struct host_tcp *t = listener();
	char want[40];
	uint8_t buf[16];
	int c;

	(void)state;
	assert_true(host_tcp_port(t) != 0);
	snprintf(want, sizeof want, "tcp:127.0.0.1:%u", (unsigned)host_tcp_port(t));
	assert_string_equal(host_tcp_path(t), want);
	c = client_connects(host_tcp_port(t));
	assert_int_equal(send(c, "t3058\r", 6, 0), 6);
	assert_int_equal(emulator_reads(t, buf, 6), 6);
	assert_memory_equal(buf, "t3058\r", 6);
	assert_int_equal(host_tcp_connects(t), 1);
	assert_true(host_tcp_connected(t));
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"\r", 1), 1);
	assert_int_equal(client_reads(c, buf, 1, 2000), 1);
	assert_int_equal(buf[0], '\r');
	close(c);
	host_tcp_close(t);
}

static void a_close_is_counted_and_the_line_stays(void **state)
{
	struct host_tcp *t = listener();
	uint8_t buf[8];
	int c;

	(void)state;
	c = client_connects(host_tcp_port(t));
	assert_int_equal(send(c, "x", 1, 0), 1);
	assert_int_equal(emulator_reads(t, buf, 1), 1);
	close(c);
	emulator_until(t, host_tcp_closes, 1);
	assert_false(host_tcp_connected(t));
	/* Nobody listens: the bytes are lost, not an error, and the next client does not get them. */
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"stale", 5), 5);
	c = client_connects(host_tcp_port(t));
	emulator_until(t, host_tcp_connects, 2);
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"new", 3), 3);
	assert_int_equal(client_reads(c, buf, 3, 2000), 3);
	assert_memory_equal(buf, "new", 3);
	assert_int_equal(send(c, "y", 1, 0), 1);
	assert_int_equal(emulator_reads(t, buf, 1), 1);
	assert_int_equal(buf[0], 'y');
	close(c);
	host_tcp_close(t);
}

static void the_newest_client_replaces_a_live_one(void **state)
{
	struct host_tcp *t = listener();
	uint8_t buf[8];
	int a, b;

	(void)state;
	a = client_connects(host_tcp_port(t));
	emulator_until(t, host_tcp_connects, 1);
	b = client_connects(host_tcp_port(t));
	emulator_until(t, host_tcp_connects, 2);
	assert_int_equal(host_tcp_closes(t), 1);
	/* The first client sees its connection end; the second gets the line. */
	assert_true(wait_readable(a, 2000));
	assert_true(recv(a, buf, sizeof buf, 0) <= 0);
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(client_reads(b, buf, 2, 2000), 2);
	assert_memory_equal(buf, "hi", 2);
	close(a);
	close(b);
	host_tcp_close(t);
}

static void a_client_gone_mid_write_is_a_close(void **state)
{
	struct host_tcp *t = listener();
	struct linger lg = { 1, 0 };
	uint8_t big[1024];
	int c, i;

	(void)state;
	memset(big, 'x', sizeof big);
	c = client_connects(host_tcp_port(t));
	emulator_until(t, host_tcp_connects, 1);
	/* A reset, not a FIN: the next send fails with EPIPE or ECONNRESET (no SIGPIPE). */
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	close(c);
	for (i = 0; i < 50 && host_tcp_connected(t); i++) {
		assert_int_equal(host_tcp_write(t, big, sizeof big), (int32_t)sizeof big);
		usleep(10000);
	}
	assert_false(host_tcp_connected(t));
	assert_int_equal(host_tcp_closes(t), 1);
	host_tcp_close(t);
}

/* "printf REQ | socat - TCP:..." shuts its sending side and waits for the reply. */
static void a_half_closed_client_still_gets_replies(void **state)
{
	struct host_tcp *t = listener();
	uint8_t buf[8];
	int c;

	(void)state;
	c = client_connects(host_tcp_port(t));
	assert_int_equal(send(c, "req", 3, 0), 3);
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	assert_int_equal(emulator_reads(t, buf, 3), 3);
	emulator_until(t, host_tcp_closes, 1);
	assert_false(host_tcp_connected(t));
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"rep", 3), 3);
	assert_int_equal(client_reads(c, buf, 3, 2000), 3);
	assert_memory_equal(buf, "rep", 3);
	/* Its leaving was counted once; the next client is a second connect, not a second close. */
	close(c);
	c = client_connects(host_tcp_port(t));
	emulator_until(t, host_tcp_connects, 2);
	assert_int_equal(host_tcp_closes(t), 1);
	close(c);
	host_tcp_close(t);
}

static void bad_specs_are_refused(void **state)
{
	static const struct { const char *spec, *err; } cases[] = {
		{ "", "tcp:: expected a port 0-65535" },
		{ "65536", "tcp:65536: expected a port 0-65535" },
		{ "12a", "tcp:12a: expected a port 0-65535" },
		{ "localhost:5000", "tcp:localhost:5000: expected a dotted IPv4 address, got \"localhost\"" },
		{ ":5000", "tcp::5000: expected PORT or ADDR:PORT (ADDR a dotted IPv4 address)" },
		{ "127.0.0.1:", "tcp:127.0.0.1:: expected a port 0-65535" },
	};
	struct host_tcp *t;
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(host_tcp_open(&t, cases[i].spec, err, sizeof err), RIG_ERR_ARG);
		assert_null(t);
		assert_string_equal(err, cases[i].err);
	}
}

static void a_port_in_use_is_one_line(void **state)
{
	struct host_tcp *a = listener(), *b;
	char spec[16], err[200], want[80];

	(void)state;
	snprintf(spec, sizeof spec, "%u", (unsigned)host_tcp_port(a));
	assert_int_equal(host_tcp_open(&b, spec, err, sizeof err), RIG_ERR_IO);
	assert_null(b);
	snprintf(want, sizeof want, "tcp:%s: cannot listen: Address already in use", spec);
	assert_string_equal(err, want);
	host_tcp_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_and_the_chosen_port),
		cmocka_unit_test(a_close_is_counted_and_the_line_stays),
		cmocka_unit_test(the_newest_client_replaces_a_live_one),
		cmocka_unit_test(a_client_gone_mid_write_is_a_close),
		cmocka_unit_test(a_half_closed_client_still_gets_replies),
		cmocka_unit_test(bad_specs_are_refused),
		cmocka_unit_test(a_port_in_use_is_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
