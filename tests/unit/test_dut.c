/* --dut kinds and a board's options, and the demux of a port that carries both a BMS link and
 * a console: telemetry lines out, every other byte (however much it looks like one) through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/hil/dut.h"

static void kinds_and_options(void **state)
{
	struct dut_spec d;
	char err[300];

	(void)state;
	assert_int_equal(dut_spec_parse(&d, "qemu", err, sizeof err), RIG_OK);
	assert_int_equal(d.kind, DUT_QEMU);
	assert_int_equal(dut_spec_parse(&d, "serial:/dev/ttyUSB0", err, sizeof err), RIG_OK);
	assert_int_equal(d.kind, DUT_SERIAL);
	assert_string_equal(d.bms_port, "/dev/ttyUSB0");
	assert_string_equal(d.console, "");
	assert_int_equal(d.relay_line, -1);
	assert_int_equal(d.reset_line, -1);
	assert_string_equal(d.banner, DUT_BANNER_DEFAULT);
	assert_int_equal(d.banner_ms, 10000);
	assert_int_equal(d.console_baud, 115200);
	assert_int_equal(dut_spec_parse(&d, "serial:/dev/ttyUSB0,console=/dev/ttyUSB1,relay=dcd,reset=rts,"
	                                "banner=HELLO,banner_ms=0,console_baud=230400", err, sizeof err), RIG_OK);
	assert_string_equal(d.console, "/dev/ttyUSB1");
	assert_int_equal(d.relay_line, HOST_LINE_DCD);
	assert_int_equal(d.reset_line, HOST_LINE_RTS);
	assert_string_equal(d.banner, "HELLO");
	assert_int_equal(d.banner_ms, 0);
	assert_int_equal(d.console_baud, 230400);
}

static void bad_options_say_what(void **state)
{
	static const struct { const char *text, *why; } cases[] = {
		{ "serial", "expected inproc, host, qemu or serial:PORT" },
		{ "serial:", "expected the BMS port's path" },
		{ "serial:/dev/x,relay", "expected key=value, got \"relay\"" },
		{ "serial:/dev/x,relay=rts", "relay: expected one of cts, dsr, dcd, ri, got \"rts\"" },
		{ "serial:/dev/x,reset=cts", "reset: expected one of dtr, rts, none, got \"cts\"" },
		{ "serial:/dev/x,banner_ms=9x", "banner_ms: expected 0..600000, got \"9x\"" },
		{ "serial:/dev/x,console_baud=12345", "console_baud: expected a rate up to 4000000" },
		{ "serial:/dev/x,colour=red", "unknown option \"colour\"" },
		/* An argument holding a newline is quoted on one line. */
		{ "serial:/dev/x,banner_ms=1\n2", "banner_ms: expected 0..600000, got \"1?2\"" },
		{ "serial:/dev/x,ban\nner", "expected key=value, got \"ban?ner\"" },
		{ "inproc\n", "got \"inproc?\"" },
	};
	struct dut_spec d;
	char err[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(dut_spec_parse(&d, cases[i].text, err, sizeof err), RIG_ERR_ARG);
		if (!strstr(err, cases[i].why))
			fail_msg("%s: got \"%s\"", cases[i].text, err);
	}
}

struct lines {
	char got[4][128];
	unsigned n;
};

static void on_line(void *ctx, const char *line)
{
	struct lines *l = ctx;

	if (l->n < 4)
		strcpy(l->got[l->n++], line);
}

/* A board with one UART (BMS requests and telemetry) through a shared port, fed in every
 * piece size: the JBD frames and the "BMS" that is no "BMSRIG" come through whole. */
static void shared_port_demux(void **state)
{
	static const char in[] = "\xDD\xA5\x03\x00\xFF\xFD\x77" "BMSRIG {\"ok\":1}\r\n" "BMSX"
	                         "\xDD\xA5\x04\x00\xFF\xFC\x77" "BMSRIG-BOOT {}\n" "B";
	static const char want[] = "\xDD\xA5\x03\x00\xFF\xFD\x77" "BMSX" "\xDD\xA5\x04\x00\xFF\xFC\x77";
	size_t piece;

	(void)state;
	for (piece = 1; piece <= sizeof in - 1; piece++) {
		struct dut_spec d;
		struct dut_board *b;
		struct lines l = { .n = 0 };
		uint8_t out[256];
		size_t off, k = 0;
		char err[200];

		assert_int_equal(dut_spec_parse(&d, "serial:/dev/null,banner_ms=0", err, sizeof err), RIG_OK);
		assert_int_equal(dut_board_open(&b, &d, NULL, err, sizeof err), RIG_OK);
		for (off = 0; off < sizeof in - 1; off += piece) {
			size_t n = sizeof in - 1 - off < piece ? sizeof in - 1 - off : piece;

			k += dut_board_demux(b, (const uint8_t *)in + off, n, out + k, sizeof out - k, on_line, &l);
		}
		assert_int_equal(k, sizeof want - 1);     /* the last "B" is held: it may start a line */
		assert_memory_equal(out, want, k);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.got[0], "BMSRIG {\"ok\":1}");
		assert_string_equal(l.got[1], "BMSRIG-BOOT {}");
		dut_board_close(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_and_options),
		cmocka_unit_test(bad_options_say_what),
		cmocka_unit_test(shared_port_demux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
