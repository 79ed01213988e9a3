/* bmsmon's TCP client (tcp.h) and the stream seam (stream.h): both directions against the
 * listener, a lost connection said once and retried on HOST_TCP_RECONNECT_MS (not sooner), the
 * same fd across reconnects, bytes written while down lost, bad specs and refused connects as
 * one line; the seam opening a client and a listener by their spec. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bmsrig/lib/stream.h"
#include "bmsrig/lib/tcp.h"

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct notes {
	char line[4][200];
	unsigned n;
};

static void note(void *ctx, const char *line)
{
	struct notes *n = ctx;

	if (n->n < 4)
		snprintf(n->line[n->n], sizeof n->line[0], "%s", line);
	n->n++;
}

static struct host_tcp *listener(const char *spec)
{
	struct host_tcp *t;
	char err[200];

	if (host_tcp_open(&t, spec, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	return t;
}

/* Lets the listener take the client (its accept runs in read and write). */
static void listener_takes(struct host_tcp *t, uint32_t connects)
{
	uint8_t c;
	int i;

	for (i = 0; i < 200 && host_tcp_connects(t) != connects; i++)
		if (wait_readable(host_tcp_fd(t), 10))
			(void)host_tcp_read(t, &c, 1);
	assert_int_equal(host_tcp_connects(t), connects);
}

static size_t client_reads(struct host_tcp_client *c, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(host_tcp_client_fd(c), 2000))
		got += (size_t)host_tcp_client_read(c, buf + got, (uint16_t)(n - got));
	return got;
}

static size_t listener_reads(struct host_tcp *t, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(host_tcp_fd(t), 2000))
		got += (size_t)host_tcp_read(t, buf + got, (uint16_t)(n - got));
	return got;
}

static struct host_tcp_client *client(const char *host, uint16_t port, struct notes *n)
{
	struct host_tcp_client *c;
	char spec[80], err[200];

	snprintf(spec, sizeof spec, "%s:%u", host, (unsigned)port);
	if (host_tcp_client_open(&c, spec, note, n, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	return c;
}

static void both_directions_by_address_and_by_name(void **state)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost" };
	struct host_tcp *t = listener("127.0.0.1:0");
	struct notes n = { .n = 0 };
	uint8_t buf[8];
	char want[40];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct host_tcp_client *c = client(hosts[i], host_tcp_port(t), &n);

		snprintf(want, sizeof want, "tcp:%s:%u", hosts[i], (unsigned)host_tcp_port(t));
		assert_string_equal(host_tcp_client_path(c), want);
		assert_true(host_tcp_client_connected(c));
		listener_takes(t, (uint32_t)i + 1);
		/* A JBD basic-info request out, a reply's first bytes back. */
		assert_int_equal(host_tcp_client_write(c, (const uint8_t *)"\xDD\xA5\x03\x00\xFF\xFD\x77", 7), 7);
		assert_int_equal(listener_reads(t, buf, 7), 7);
		assert_memory_equal(buf, "\xDD\xA5\x03\x00\xFF\xFD\x77", 7);
		assert_int_equal(host_tcp_write(t, (const uint8_t *)"\xDD\x03\x00", 3), 3);
		assert_int_equal(client_reads(c, buf, 3), 3);
		assert_memory_equal(buf, "\xDD\x03\x00", 3);
		host_tcp_client_close(c);
	}
	assert_int_equal(n.n, 0);
	host_tcp_close(t);
}

static void a_lost_connection_is_said_once_and_retried_every_500_ms(void **state)
{
	struct host_tcp *t = listener("127.0.0.1:0");
	uint16_t port = host_tcp_port(t);
	struct notes n = { .n = 0 };
	struct host_tcp_client *c = client("127.0.0.1", port, &n);
	int fd = host_tcp_client_fd(c);
	char spec[16], want[120];
	uint64_t lost_at, back_at = 0;
	uint8_t buf[4];

	(void)state;
	listener_takes(t, 1);
	host_tcp_close(t);   /* the emulator stops: its end closes */
	assert_true(wait_readable(fd, 2000));
	assert_int_equal(host_tcp_client_read(c, buf, sizeof buf), 0);
	lost_at = mono_ms();
	assert_false(host_tcp_client_connected(c));
	assert_int_equal(host_tcp_client_losses(c), 1);
	assert_int_equal(n.n, 1);
	snprintf(want, sizeof want, "tcp:127.0.0.1:%u: port lost (closed by the far end); reconnecting every 500 ms",
	         (unsigned)port);
	assert_string_equal(n.line[0], want);
	/* Down: reads give nothing, writes are taken and lost, nothing more is said. */
	assert_int_equal(host_tcp_client_read(c, buf, sizeof buf), 0);
	assert_int_equal(host_tcp_client_write(c, (const uint8_t *)"lost", 4), 4);
	/* The emulator back on the same port at once: the client waits for its cadence. */
	snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)port);
	t = listener(spec);
	while (mono_ms() < lost_at + 3000u) {
		host_tcp_client_tick(c);
		if (host_tcp_client_connected(c)) {
			back_at = mono_ms();
			break;
		}
		poll(NULL, 0, 5);
	}
	assert_true(back_at != 0);
	assert_true(back_at >= lost_at + HOST_TCP_RECONNECT_MS - 20u);
	assert_true(back_at < lost_at + 2u * HOST_TCP_RECONNECT_MS + 200u);
	assert_int_equal(n.n, 2);
	snprintf(want, sizeof want, "tcp:127.0.0.1:%u: port back", (unsigned)port);
	assert_string_equal(n.line[1], want);
	assert_int_equal(host_tcp_client_fd(c), fd);   /* a poll loop keeps its fd */
	listener_takes(t, 1);
	/* What was written while down never arrives; what is written now does. */
	assert_int_equal(host_tcp_client_write(c, (const uint8_t *)"back", 4), 4);
	assert_int_equal(listener_reads(t, buf, 4), 4);
	assert_memory_equal(buf, "back", 4);
	assert_int_equal(host_tcp_write(t, (const uint8_t *)"ok", 2), 2);
	assert_int_equal(client_reads(c, buf, 2), 2);
	assert_memory_equal(buf, "ok", 2);
	host_tcp_client_close(c);
	host_tcp_close(t);
}

static void a_write_to_a_vanished_peer_is_a_loss(void **state)
{
	struct host_tcp *t = listener("127.0.0.1:0");
	struct notes n = { .n = 0 };
	struct host_tcp_client *c = client("127.0.0.1", host_tcp_port(t), &n);
	int i;

	(void)state;
	listener_takes(t, 1);
	host_tcp_close(t);
	/* The first write after the peer's close draws its reset; a later one fails. Either way
	 * no SIGPIPE, every write reports its bytes taken, and the loss is said once. */
	for (i = 0; i < 50 && host_tcp_client_connected(c); i++) {
		assert_int_equal(host_tcp_client_write(c, (const uint8_t *)"x", 1), 1);
		poll(NULL, 0, 10);
	}
	assert_false(host_tcp_client_connected(c));
	assert_int_equal(n.n, 1);
	assert_non_null(strstr(n.line[0], ": port lost ("));
	host_tcp_client_close(c);
}

static void bad_specs_and_refused_connects_are_one_line(void **state)
{
	static const struct {
		const char *spec;
		rig_rc rc;
		const char *err;
	} cases[] = {
		{ "5000", RIG_ERR_ARG, "tcp:5000: expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)" },
		{ "127.0.0.1:", RIG_ERR_ARG, "tcp:127.0.0.1:: expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)" },
		{ "127.0.0.1:0", RIG_ERR_ARG, "tcp:127.0.0.1:0: expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)" },
		{ "127.0.0.1:65536", RIG_ERR_ARG, "tcp:127.0.0.1:65536: expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)" },
		{ ":5000", RIG_ERR_ARG, "tcp::5000: expected HOST:PORT (HOST an IPv4 address or a host name, PORT 1-65535)" },
		{ "[::1:5000", RIG_ERR_ARG, "tcp:[::1:5000: expected HOST:PORT or [IPV6]:PORT" },
	};
	/* (A name that does not resolve is not tried: it would ask the network's DNS.) */
	struct host_tcp_client *c;
	struct host_tcp *t = listener("127.0.0.1:0");
	char err[200], spec[32], want[120];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(host_tcp_client_open(&c, cases[i].spec, NULL, NULL, err, sizeof err), cases[i].rc);
		assert_null(c);
		assert_true(!strncmp(err, cases[i].err, strlen(cases[i].err)));
		assert_null(strchr(err, '\n'));
	}
	/* A port nobody listens on: the listener's, once it is closed. */
	snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)host_tcp_port(t));
	host_tcp_close(t);
	assert_int_equal(host_tcp_client_open(&c, spec, NULL, NULL, err, sizeof err), RIG_ERR_IO);
	assert_null(c);
	snprintf(want, sizeof want, "tcp:%s: cannot connect: Connection refused", spec);
	assert_string_equal(err, want);
}

/* The seam opens a listener and a client by their spec; the core's rig_io carries the bytes. */
static void the_stream_seam_opens_by_spec(void **state)
{
	struct host_stream srv, cli, scd;
	struct rig_io a, b;
	char err[200], spec[40];
	uint8_t buf[8];
	size_t got = 0;
	int i;

	(void)state;
	assert_int_equal(host_stream_serve(&srv, "tcp:127.0.0.1:0", 9600, err, sizeof err), RIG_OK);
	assert_true(!strncmp(srv.path, "tcp:127.0.0.1:", 14));
	assert_non_null(srv.closes);
	snprintf(spec, sizeof spec, "%s", srv.path);
	assert_int_equal(host_stream_open_port(&cli, spec, 9600, NULL, NULL, err, sizeof err), RIG_OK);
	assert_string_equal(cli.path, spec);
	assert_non_null(cli.tick);
	a = host_stream_io(&cli);
	b = host_stream_io(&srv);
	assert_int_equal(a.write(a.ctx, (const uint8_t *)"\x01\x04\x10\x00", 4), 4);
	for (i = 0; i < 200 && got < 4; i++) {
		(void)wait_readable(srv.fd(srv.h), 10);
		got += (size_t)b.read(b.ctx, buf + got, (uint16_t)(4 - got));
	}
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "\x01\x04\x10\x00", 4);
	host_stream_close(&cli);
	host_stream_close(&srv);
	assert_null(srv.h);
	host_stream_close(&srv);   /* a cleared stream closes as a no-op */
	assert_int_equal(host_stream_serve(&scd, "socketcand:127.0.0.1:0", 115200, err, sizeof err), RIG_OK);
	assert_true(!strncmp(scd.path, "socketcand:127.0.0.1:", 21));
	host_stream_close(&scd);
	assert_int_equal(host_stream_serve(&scd, "socketcand:localhost:1", 115200, err, sizeof err), RIG_ERR_ARG);
	assert_string_equal(err, "socketcand:localhost:1: expected a dotted IPv4 address, got \"localhost\"");
	assert_int_equal(host_stream_is("tcp:1", "tcp"), 1);
	assert_int_equal(host_stream_is("tcpx:1", "tcp"), 0);
	assert_int_equal(host_stream_is("/tmp/tcp", "tcp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_by_address_and_by_name),
		cmocka_unit_test(a_lost_connection_is_said_once_and_retried_every_500_ms),
		cmocka_unit_test(a_write_to_a_vanished_peer_is_a_loss),
		cmocka_unit_test(bad_specs_and_refused_connects_are_one_line),
		cmocka_unit_test(the_stream_seam_opens_by_spec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
