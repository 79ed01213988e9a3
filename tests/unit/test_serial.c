/* Host serial access, exercised on a pty (the termios backend) since a test box has no UART. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/serial.h"

struct bench {
	int master;
	char path[64];
	struct host_serial *s;
};

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Reads until n bytes arrived or 1 s passed; ptys may hand bytes over in pieces. */
static size_t read_master(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(fd, 1000)) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static size_t read_serial(struct host_serial *s, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(host_serial_fd(s), 1000)) {
		int32_t r = host_serial_read(s, buf + got, (uint16_t)(n - got));

		if (r < 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static int setup(void **state)
{
	struct bench *b = calloc(1, sizeof *b);
	int slave;
	char err[200];

	if (!b || openpty(&b->master, &slave, NULL, NULL, NULL) != 0 ||
	    ttyname_r(slave, b->path, sizeof b->path) != 0)
		return -1;
	close(slave);   /* the client under test opens it by name */
	if (host_serial_open(&b->s, b->path, 19200, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	host_serial_close(b->s);
	if (b->master >= 0)
		close(b->master);
	free(b);
	return 0;
}

static void pty_opens_raw_at_the_baud(void **state)
{
	struct bench *b = *state;
	struct termios t;

	assert_int_equal(tcgetattr(host_serial_fd(b->s), &t), 0);
	assert_int_equal(cfgetospeed(&t), B19200);
	assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_int_equal(t.c_cflag & (CSIZE | PARENB | CSTOPB | CRTSCTS), CS8);
	assert_true(fcntl(host_serial_fd(b->s), F_GETFL) & O_NONBLOCK);
}

static void bytes_round_trip(void **state)
{
	struct bench *b = *state;
	const uint8_t req[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
	uint8_t reply[300], got[300];
	size_t i;

	assert_int_equal(host_serial_write(b->s, req, sizeof req), (int32_t)sizeof req);
	assert_int_equal(read_master(b->master, got, sizeof req), sizeof req);
	assert_memory_equal(got, req, sizeof req);

	/* Every byte value survives (raw mode: no CR/NL mapping, no flow-control bytes eaten). */
	for (i = 0; i < sizeof reply; i++)
		reply[i] = (uint8_t)i;
	assert_int_equal(write(b->master, reply, sizeof reply), (ssize_t)sizeof reply);
	assert_int_equal(read_serial(b->s, got, sizeof reply), sizeof reply);
	assert_memory_equal(got, reply, sizeof reply);
}

static void read_is_zero_when_nothing_waits(void **state)
{
	struct bench *b = *state;
	uint8_t c;

	assert_int_equal(host_serial_read(b->s, &c, 1), 0);
}

static void io_struct_reaches_the_same_port(void **state)
{
	struct bench *b = *state;
	struct rig_io io = host_serial_io(b->s);
	uint8_t got[4];

	assert_int_equal(io.write(io.ctx, (const uint8_t *)"ping", 4), 4);
	assert_int_equal(read_master(b->master, got, 4), 4);
	assert_memory_equal(got, "ping", 4);
	assert_int_equal(write(b->master, "pong", 4), 4);
	assert_true(wait_readable(host_serial_fd(b->s), 1000));
	assert_int_equal(io.read(io.ctx, got, sizeof got), 4);
	assert_memory_equal(got, "pong", 4);
}

static void flush_input_drops_what_waits(void **state)
{
	struct bench *b = *state;
	uint8_t c;

	assert_int_equal(write(b->master, "old", 3), 3);
	assert_true(wait_readable(host_serial_fd(b->s), 1000));
	host_serial_flush_input(b->s);
	assert_int_equal(host_serial_read(b->s, &c, 1), 0);
}

static void hangup_reads_as_io_error(void **state)
{
	struct bench *b = *state;
	uint8_t c;

	close(b->master);
	b->master = -1;
	assert_int_equal(host_serial_read(b->s, &c, 1), RIG_ERR_IO);
	assert_int_equal(host_serial_write(b->s, &c, 1), RIG_ERR_IO);
}

/* The words bmssim and bmsmon print for a lost port: nothing while the line is up. */
static void lost_line_is_worded(void **state)
{
	struct bench *b = *state;
	int fd = host_serial_fd(b->s), dead;

	assert_null(host_tty_lost(fd, 0));
	assert_string_equal(host_tty_lost(fd, ENXIO), "device gone");
	close(b->master);
	b->master = -1;
	assert_string_equal(host_tty_lost(fd, 0), "hangup");
	assert_string_equal(host_tty_lost(fd, EIO), "hangup");
	dead = dup(fd);
	assert_true(dead >= 0);
	close(dead);
	assert_string_equal(host_tty_lost(dead, 0), "not open");
}

/* Nobody reads the master: writes must give up after HOST_TTY_WRITE_WAIT_MS, not hang. */
static void full_line_does_not_block_forever(void **state)
{
	struct bench *b = *state;
	static uint8_t chunk[4096];
	int32_t r = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		r = host_serial_write(b->s, chunk, sizeof chunk);
		if (r != (int32_t)sizeof chunk)
			break;
	}
	assert_true(i < 1000);
	assert_true(r == RIG_ERR_TIMEOUT || (r >= 0 && r < (int32_t)sizeof chunk));
}

static void missing_port_names_the_path(void **state)
{
	struct host_serial *s = (struct host_serial *)1;
	char err[200];

	(void)state;
	assert_int_equal(host_serial_open(&s, "/dev/ttyUSB_bmsrig_none", 9600, err, sizeof err),
	                 RIG_ERR_IO);
	assert_null(s);
	assert_string_equal(err, "/dev/ttyUSB_bmsrig_none: cannot open: no such device");
}

static void not_a_terminal_is_refused(void **state)
{
	char path[] = "/tmp/bmsrig-serial-XXXXXX", err[200], want[240];
	struct host_serial *s;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(host_serial_open(&s, path, 9600, err, sizeof err), RIG_ERR_IO);
	snprintf(want, sizeof want, "%s: cannot open: not a serial port or terminal", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void bad_baud_is_an_argument_error(void **state)
{
	struct bench *b = *state;
	struct host_serial *s;
	char err[200];

	assert_int_equal(host_serial_open(&s, b->path, 12345, err, sizeof err), RIG_ERR_ARG);
	assert_null(s);
	assert_non_null(strstr(err, "12345 baud is not a standard rate"));
	assert_int_equal(host_serial_open(&s, b->path, 0, err, sizeof err), RIG_ERR_ARG);
	assert_true(host_serial_baud_ok(9600));
	assert_true(host_serial_baud_ok(115200));
	assert_false(host_serial_baud_ok(9601));
}

/* Modem lines: names both ways, inputs and outputs kept apart, and a pty (no lines) says so
 * rather than pretending a level. */
static void modem_lines_on_a_pty_are_unsupported(void **state)
{
	struct bench *b = *state;
	int level = 7;

	assert_int_equal(host_line_find("cts"), HOST_LINE_CTS);
	assert_int_equal(host_line_find("dcd"), HOST_LINE_DCD);
	assert_int_equal(host_line_find("rts"), HOST_LINE_RTS);
	assert_int_equal(host_line_find("CTS"), -1);
	assert_true(host_line_is_input(HOST_LINE_DSR));
	assert_false(host_line_is_input(HOST_LINE_DTR));
	assert_int_equal(host_serial_get_line(b->s, HOST_LINE_DTR, &level), RIG_ERR_ARG);
	assert_int_equal(host_serial_set_line(b->s, HOST_LINE_CTS, 1), RIG_ERR_ARG);
	assert_int_equal(host_serial_get_line(b->s, HOST_LINE_CTS, &level), RIG_ERR_UNSUPPORTED);
	assert_int_equal(host_serial_set_line(b->s, HOST_LINE_DTR, 1), RIG_ERR_UNSUPPORTED);
	assert_int_equal(level, 7);
}

static void count_port(void *ctx, const char *path, const char *description, int vid, int pid)
{
	assert_non_null(path);
	assert_non_null(description);
	assert_true((vid < 0) == (pid < 0));
	++*(int *)ctx;
}

static void list_ports_runs(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(host_serial_list(count_port, &n), RIG_OK);
	assert_true(n >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pty_opens_raw_at_the_baud, setup, teardown),
		cmocka_unit_test_setup_teardown(bytes_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(read_is_zero_when_nothing_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(io_struct_reaches_the_same_port, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_input_drops_what_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(hangup_reads_as_io_error, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_line_is_worded, setup, teardown),
		cmocka_unit_test_setup_teardown(full_line_does_not_block_forever, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_baud_is_an_argument_error, setup, teardown),
		cmocka_unit_test_setup_teardown(modem_lines_on_a_pty_are_unsupported, setup, teardown),
		cmocka_unit_test(missing_port_names_the_path),
		cmocka_unit_test(not_a_terminal_is_refused),
		cmocka_unit_test(list_ports_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
