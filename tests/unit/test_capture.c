/* lib/capture.c: the capture log's writer and reader, byte for byte, and a capture read by
 * replay_load as exchanges with their recorded delays. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/capture.h"
#include "bmsrig/sim/replay.h"

/* JBD 0x03 read request and a 0x04 reply of a 4-cell pack (docs/protocols/jbd.md). */
static const uint8_t REQ[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
static const uint8_t REPLY[] = { 0xDD, 0x04, 0x00, 0x08, 0x0C, 0xE8, 0x0C, 0xE8, 0x0C, 0xE8, 0x0C, 0xE8,
	                             0xFC, 0x28, 0x77 };

static char path[64];

static int setup(void **state)
{
	(void)state;
	int fd;

	snprintf(path, sizeof path, "/tmp/bmsrig-capture-XXXXXX");
	fd = mkstemp(path);
	return fd >= 0 && close(fd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return unlink(path);
}

static char *slurp(const char *p)
{
	static char buf[2048];
	FILE *f = fopen(p, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void writes_the_header_and_one_line_a_frame(void **state)
{
	struct host_capture_header h = { "jbd", 9600, "/dev/pts/5" };
	struct host_capture_out w;
	char err[256];

	(void)state;
	assert_int_equal(host_capture_open(&w, path, &h, err, sizeof err), RIG_OK);
	host_capture_write(&w, 1733600000123456ull, HOST_CAPTURE_RX, "jbd", REQ, sizeof REQ, "{\"a\":\n1}");
	host_capture_write(&w, 1733600000000007ull, HOST_CAPTURE_TX, NULL, REPLY, 3, NULL);
	assert_int_equal(w.frames, 2);
	assert_int_equal(host_capture_close(&w, err, sizeof err), RIG_OK);
	assert_string_equal(slurp(path),
	                    "# bmsrig capture 1\n"
	                    "# protocol: jbd\n"
	                    "# baud: 9600\n"
	                    "# link: /dev/pts/5\n"
	                    "(1733600000.123456) rx jbd DDA50300FFFD77  # {\"a\": 1}\n"
	                    "(1733600000.000007) tx - DD0400\n");
}

static void reads_back_what_it_wrote(void **state)
{
	static struct host_capture_frame f;
	struct host_capture_header h;
	enum host_capture_line kind;

	(void)state;
	memset(&h, 0, sizeof h);
	assert_null(host_capture_parse_line("# bmsrig capture 1\n", &h, &f, &kind));
	assert_int_equal(kind, HOST_CAPTURE_LINE_NOTE);
	assert_null(host_capture_parse_line("# protocol: daly\n", &h, &f, &kind));
	assert_null(host_capture_parse_line("# baud: 115200\r\n", &h, &f, &kind));
	assert_null(host_capture_parse_line("# link: tap: BMS /dev/ttyUSB0\n", &h, &f, &kind));
	assert_null(host_capture_parse_line("   \n", &h, &f, &kind));
	assert_int_equal(kind, HOST_CAPTURE_LINE_NOTE);
	assert_string_equal(h.protocol, "daly");
	assert_int_equal(h.baud, 115200);
	assert_string_equal(h.link, "tap: BMS /dev/ttyUSB0");

	assert_null(host_capture_parse_line("(1733600000.123456) rx jbd DDA50300fffd77  # {\"x\":1}\n", &h, &f, &kind));
	assert_int_equal(kind, HOST_CAPTURE_LINE_FRAME);
	assert_true(f.t_us == 1733600000123456ull);
	assert_int_equal(f.dir, HOST_CAPTURE_RX);
	assert_string_equal(f.proto, "jbd");
	assert_int_equal(f.len, sizeof REQ);
	assert_memory_equal(f.bytes, REQ, sizeof REQ);

	assert_null(host_capture_parse_line("(0.000001) tx - DD04", &h, &f, &kind));
	assert_int_equal(f.dir, HOST_CAPTURE_TX);
	assert_string_equal(f.proto, "-");
	assert_true(f.t_us == 1);
	assert_int_equal(f.len, 2);
}

static void refuses_broken_lines_with_what_was_expected(void **state)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "1733600000.123456 rx jbd DD", "a time stamp \"(SECONDS.MICROSECONDS)\" or a '#' comment" },
		{ "(1733600000.12345) rx jbd DD", "a time stamp \"(SECONDS.MICROSECONDS)\" with 6 digits of microseconds" },
		{ "(1733600000.1234567) rx jbd DD", "a time stamp \"(SECONDS.MICROSECONDS)\" with 6 digits of microseconds" },
		{ "(1.000000)rx jbd DD", "a time stamp \"(SECONDS.MICROSECONDS)\" with 6 digits of microseconds" },
		{ "(1.000000) up jbd DD", "a direction, rx or tx, after the time stamp" },
		{ "(1.000000) rx DD", "a protocol name (or \"-\") and the frame's hex after the direction" },
		{ "(1.000000) rx jbd DDA", "the frame as pairs of hex digits" },
		{ "(1.000000) rx jbd  # nothing", "the frame as pairs of hex digits" },
		{ "(1.000000) rx jbd DD zz", "the end of the line or a '#' comment after the frame's hex" },
		{ "(1.000000) rx aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa DD", "a protocol name of at most 31 characters" },
		{ "(1234567890123.000000) rx jbd DD", "a time stamp \"(SECONDS.MICROSECONDS)\" or a '#' comment" },
	};
	static struct host_capture_frame f;
	struct host_capture_header h;
	enum host_capture_line kind;

	(void)state;
	memset(&h, 0, sizeof h);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = host_capture_parse_line(bad[i].line, &h, &f, &kind);

		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(kind, HOST_CAPTURE_LINE_NOTE);
	}
}

static void a_frame_longer_than_the_maximum_is_refused(void **state)
{
	static struct host_capture_frame f;
	struct host_capture_header h;
	enum host_capture_line kind;
	size_t n = 2 * (HOST_CAPTURE_FRAME_MAX + 1);
	char *line = malloc(n + 32);

	(void)state;
	assert_non_null(line);
	memset(&h, 0, sizeof h);
	strcpy(line, "(1.000000) tx jbd ");
	memset(line + strlen(line), 'A', n);
	line[18 + n] = '\0';
	assert_string_equal(host_capture_parse_line(line, &h, &f, &kind), "a frame of at most 4608 bytes");
	line[18 + n - 2] = '\0';      /* exactly the maximum */
	assert_null(host_capture_parse_line(line, &h, &f, &kind));
	assert_int_equal(f.len, HOST_CAPTURE_FRAME_MAX);
	free(line);
}

static void detects_the_header_only_at_the_start(void **state)
{
	(void)state;
	assert_true(host_capture_detect("# bmsrig capture 1\n(1", 21));
	assert_true(host_capture_detect("# bmsrig capture 1", 18));
	assert_false(host_capture_detect("# bmsrig capture 12\n", 20));
	assert_false(host_capture_detect("# bmsrig captur", 15));
	assert_false(host_capture_detect("DDA50300FFFD77\n", 15));
}

/* A capture read for replay: each rx opens an exchange, the tx after it are its replies at
 * their recorded delays; a tx before any rx answers nothing and is left out. */
static void replay_reads_a_capture_as_exchanges(void **state)
{
	struct replay r;
	const struct replay_exchange *e;
	char err[512];
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fputs("# bmsrig capture 1\n# protocol: jbd\n"
	      "(100.000000) tx jbd DD0400080CE80CE80CE80CE8FC2877\n"
	      "(100.500000) rx jbd DDA50300FFFD77  # {\"kind\":\"request\"}\n"
	      "(100.540250) tx jbd DD0400080CE80CE80CE80CE8FC2877\n"
	      "(101.000000) rx jbd DDA50400FFFC77\n", f);
	fclose(f);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_OK);
	assert_string_equal(r.protocol, "jbd");
	assert_string_equal(r.scenario, "capture");
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ex[0].len, sizeof REQ);
	assert_memory_equal(r.ex[0].request, REQ, sizeof REQ);
	assert_int_equal(r.ex[0].n_replies, 1);
	assert_int_equal(r.ex[0].replies[0].delay_ms, 40);
	assert_memory_equal(r.ex[0].replies[0].bytes, REPLY, sizeof REPLY);
	assert_int_equal(r.ex[1].n_replies, 0);
	e = replay_input(&r, REQ, sizeof REQ);
	assert_ptr_equal(e, &r.ex[0]);
	replay_free(&r);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# bmsrig capture 1\n(1.000000) rx jbd DDA50300FFFD77\n(1.000001) rx jbd DDA5\n", f);
	fputs("(1.5) tx jbd DD\n", f);
	fclose(f);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, ":4: expected a time stamp"));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# bmsrig capture 1\n(1.000000) tx jbd DD\n", f);
	fclose(f);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, ":2: expected frame lines with at least one rx"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_the_header_and_one_line_a_frame, setup, teardown),
		cmocka_unit_test(reads_back_what_it_wrote),
		cmocka_unit_test(refuses_broken_lines_with_what_was_expected),
		cmocka_unit_test(a_frame_longer_than_the_maximum_is_refused),
		cmocka_unit_test(detects_the_header_only_at_the_start),
		cmocka_unit_test_setup_teardown(replay_reads_a_capture_as_exchanges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
