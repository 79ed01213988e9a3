/* The socketcand rawmode server: its element parser and frame lines byte for byte (the frame
 * data is 0x351 from a real Pylontech capture, CVL 53.2 V, CCL 50.0 A, DCL 100.0 A, DVL 46.0 V),
 * and the whole exchange with a raw TCP client: "< hi >" alone, open, rawmode, frames out with
 * a '\n' after each, sends in as slcan lines, "S6\rO\r" on opening and "C\r" on leaving. */
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

#include "bmsrig/lib/socketcand.h"

static const uint8_t cap351[8] = { 0x14, 0x02, 0xF4, 0x01, 0xE8, 0x03, 0xCC, 0x01 };

static rig_rc parse(const char *el, struct host_scd_msg *m)
{
	return host_scd_parse(el, strlen(el), m);
}

static void send_elements_parse_as_socketcand_reads_them(void **state)
{
	struct host_scd_msg m;

	(void)state;
	/* python-can 4.1.0's client: upper-case un-padded id and dlc, lower-case un-padded bytes. */
	assert_int_equal(parse("< send 305 8 0 0 0 0 0 0 0 0 >", &m), RIG_OK);
	assert_int_equal(m.kind, SCD_SEND);
	assert_int_equal(m.frame.id, 0x305);
	assert_int_equal(m.frame.dlc, 8);
	assert_int_equal(m.frame.ext, 0);
	assert_int_equal(parse("< send 351 8 14 2 f4 1 e8 3 cc 1 >", &m), RIG_OK);
	assert_memory_equal(m.frame.data, cap351, 8);
	assert_int_equal(parse("< send 18FF50E5 2 a B >", &m), RIG_OK);
	assert_int_equal(m.frame.id, 0x18FF50E5u);
	assert_int_equal(m.frame.ext, 1);
	assert_int_equal(m.frame.data[0], 0x0A);
	assert_int_equal(m.frame.data[1], 0x0B);
	assert_int_equal(parse("< send 0305 0 >", &m), RIG_OK);   /* four digits: 29-bit */
	assert_int_equal(m.frame.ext, 1);
	assert_int_equal(m.frame.dlc, 0);
	assert_int_equal(parse("< open can0 >", &m), RIG_OK);
	assert_int_equal(m.kind, SCD_OPEN);
	assert_string_equal(m.bus, "can0");
	assert_int_equal(parse("<rawmode>", &m), RIG_OK);
	assert_int_equal(m.kind, SCD_RAWMODE);
	assert_int_equal(parse("< echo >", &m), RIG_OK);
	assert_int_equal(m.kind, SCD_ECHO);
	assert_int_equal(parse("< bcmmode >", &m), RIG_OK);
	assert_int_equal(m.kind, SCD_OTHER);
}

static void malformed_elements_are_refused(void **state)
{
	static const char *bad[] = {
		"< send 305 8 0 0 0 0 0 0 0 >",        /* one byte short of its DLC */
		"< send 305 1 0 0 >",                  /* one byte over */
		"< send 800 0 >",                      /* three digits but past 7FF */
		"< send 20000000 0 >",                 /* past 29 bits */
		"< send 123456789 0 >",                /* nine digits */
		"< send 305 9 0 0 0 0 0 0 0 0 0 >",    /* DLC 9 */
		"< send 305 8 0 0 0 0 0 0 0 100 >",    /* a byte of three digits */
		"< send 30g 0 >",
		"< send 305 >",
		"< send >",
		"< >",
		"< open >",
		"< open can0 can1 >",
		"< open 0123456789abcdefX >",          /* bus name too long */
		"< rawmode now >",
		"< echo echo >",
		"send 305 0 >",
		"< send 305 0",
	};
	struct host_scd_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(bad[i], &m) != RIG_ERR_FRAME)
			fail_msg("accepted: %s", bad[i]);
}

static void frame_lines_are_byte_exact(void **state)
{
	struct rig_can_frame f = { 0x351, 8, { 0 }, 0 }, e = { 0x18FF50E5u, 2, { 0xA, 0xB }, 1 },
	                     z = { 0x305, 0, { 0 }, 0 };
	char line[SCD_FRAME_LINE_MAX];
	uint8_t sl[SLCAN_LINE_MAX];

	(void)state;
	memcpy(f.data, cap351, 8);
	assert_int_equal(host_scd_frame_format(&f, 1700000000u, 42u, line, sizeof line), 49);
	assert_string_equal(line, "< frame 351 1700000000.000042 1402F401E803CC01 >\n");
	assert_int_equal(host_scd_frame_format(&e, 5u, 999999u, line, sizeof line), 33);
	assert_string_equal(line, "< frame 18FF50E5 5.999999 0A0B >\n");
	/* No data: the client's split(" ", 3) still finds an empty third part. */
	host_scd_frame_format(&z, 0u, 0u, line, sizeof line);
	assert_string_equal(line, "< frame 305 0.000000  >\n");
	assert_int_equal(host_scd_frame_format(&f, 1u, 1000000u, line, sizeof line), 0);   /* bad usec */
	assert_int_equal(host_scd_frame_format(&f, 1u, 0u, line, 20), 0);                  /* short */
	f.id = 0x800;
	assert_int_equal(host_scd_frame_format(&f, 1u, 0u, line, sizeof line), 0);
	f.id = 0x305;
	f.dlc = 8;
	memset(f.data, 0, 8);
	assert_int_equal(host_scd_frame_to_slcan(&f, sl, sizeof sl), 22);
	assert_memory_equal(sl, "t3058" "0000000000000000\r", 22);
}

static void elements_are_cut_from_a_stream(void **state)
{
	static const char stream[] = "junk> < hi >\n<<open can0 >< half <rawmode> xx";
	struct host_scd_rx rx;
	char got[4][SCD_ELEMENT_MAX + 1];
	unsigned n = 0, i;
	char big[200];

	(void)state;
	host_scd_rx_init(&rx);
	for (i = 0; stream[i]; i++)
		if (host_scd_rx_byte(&rx, (uint8_t)stream[i]) && n < 4) {
			memcpy(got[n], rx.buf, rx.len);
			got[n++][rx.len] = '\0';
		}
	assert_int_equal(n, 3);
	assert_string_equal(got[0], "< hi >");
	assert_string_equal(got[1], "<open can0 >");   /* the first '<' was cut off by the second */
	assert_string_equal(got[2], "<rawmode>");      /* "< half " never closed: dropped */
	/* An overlong element goes whole, up to its '>', and the next one is read. */
	memset(big, 'x', sizeof big);
	big[0] = '<';
	big[sizeof big - 1] = '>';
	for (i = 0; i < sizeof big; i++)
		assert_int_equal(host_scd_rx_byte(&rx, (uint8_t)big[i]), 0);
	assert_int_equal(rx.rejected, 1);
	for (i = 0; i < 8; i++)
		n = (unsigned)host_scd_rx_byte(&rx, (uint8_t)"< tail >"[i]);
	assert_int_equal(n, 1);
	assert_int_equal(rx.len, 8);
}

/* ---- the transport, with a raw TCP client ---------------------------------------------- */

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The emulator's loop for a while: what the personality would read. */
static size_t emulator_reads(struct host_scd *s, uint8_t *buf, size_t cap, size_t want)
{
	size_t got = 0;
	int i;

	for (i = 0; i < 100 && got < want; i++)
		if (wait_readable(host_scd_fd(s), 20)) {
			int32_t r = host_scd_read(s, buf + got, (uint16_t)(cap - got));

			assert_true(r >= 0);
			got += (size_t)r;
		}
	return got;
}

/* What the client reads within 2 s, until it has `want` bytes. */
static size_t client_reads(int fd, char *buf, size_t cap, size_t want)
{
	size_t got = 0;

	while (got < want && got < cap - 1 && wait_readable(fd, 2000)) {
		ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

struct bench {
	struct host_scd *s;
	int c;
	uint8_t seen[256];       /* what the personality read and the test has not looked at */
	size_t seen_len;
};

static void emulator_turns(struct bench *b, size_t want)
{
	b->seen_len += emulator_reads(b->s, b->seen + b->seen_len, sizeof b->seen - b->seen_len, want);
}

/* The personality reads exactly want next. */
static void emulator_sees(struct bench *b, const char *want)
{
	size_t n = strlen(want);

	if (b->seen_len < n)
		emulator_turns(b, n - b->seen_len);
	assert_true(b->seen_len >= n);
	assert_memory_equal(b->seen, want, n);
	memmove(b->seen, b->seen + n, b->seen_len - n);
	b->seen_len -= n;
}

static void client_says(struct bench *b, const char *text, const char *reply)
{
	char buf[128];
	int i;

	assert_int_equal(send(b->c, text, strlen(text), 0), (ssize_t)strlen(text));
	/* The emulator's loop turns; a reply is read alone, as python-can's handshake reads it. */
	for (i = 0; i < 100 && !wait_readable(b->c, 0); i++)
		if (wait_readable(host_scd_fd(b->s), 20)) {
			int32_t r = host_scd_read(b->s, b->seen + b->seen_len,
			                         (uint16_t)(sizeof b->seen - b->seen_len));

			assert_true(r >= 0);
			b->seen_len += (size_t)r;
		}
	assert_int_equal(client_reads(b->c, buf, sizeof buf, strlen(reply)), strlen(reply));
	assert_string_equal(buf, reply);
}

static int setup(void **state)
{
	struct bench *b = calloc(1, sizeof *b);
	struct sockaddr_in sa;
	char err[200], buf[16];
	int i;

	if (!b || host_scd_open(&b->s, "0", err, sizeof err) != RIG_OK)
		return -1;
	b->c = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(host_scd_port(b->s));
	if (connect(b->c, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	for (i = 0; i < 100 && !wait_readable(b->c, 0); i++)
		if (wait_readable(host_scd_fd(b->s), 20))
			(void)host_scd_read(b->s, (uint8_t *)buf, sizeof buf);
	if (client_reads(b->c, buf, sizeof buf, 6) != 6 || strcmp(buf, "< hi >") != 0)
		return -1;
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	close(b->c);
	host_scd_close(b->s);
	free(b);
	return 0;
}

static void handshake_then_frames_both_ways(void **state)
{
	struct bench *b = *state;
	char buf[256], want[80];
	const char *p;
	size_t n;

	assert_int_equal(strncmp(host_scd_path(b->s), "socketcand:127.0.0.1:", 21), 0);
	/* Before rawmode the bus is not open: the personality's frames go nowhere. */
	assert_int_equal(host_scd_write(b->s, (const uint8_t *)"t3518" "1402F401E803CC01\r", 22), 22);
	assert_int_equal(host_scd_frames_dropped(b->s), 1);
	client_says(b, "< open can0 >", "< ok >");
	client_says(b, "< rawmode >", "< ok >");
	assert_true(host_scd_raw(b->s));
	emulator_sees(b, "S6\rO\r");
	assert_int_equal(send(b->c, "< send 305 8 0 0 0 0 0 0 0 0 >", 30, 0), 30);
	emulator_sees(b, "t3058" "0000000000000000\r");
	usleep((SCD_SETTLE_MS + 20u) * 1000u);
	/* Two frames and an acknowledgement in one write: the frames go, each with its '\n'. */
	p = "t3518" "1402F401E803CC01\r" "\r" "t35E8" "50594C4F4E202020\r";
	assert_int_equal(host_scd_write(b->s, (const uint8_t *)p, (uint16_t)strlen(p)), (int32_t)strlen(p));
	n = client_reads(b->c, buf, sizeof buf, 2 * 50 - 2);
	assert_int_equal(host_scd_frames_out(b->s), 2);
	p = strchr(buf, '\n');
	assert_non_null(p);
	assert_int_equal(strncmp(buf, "< frame 351 ", 12), 0);
	snprintf(want, sizeof want, " 1402F401E803CC01 >\n");
	assert_int_equal(strncmp(p + 1 - strlen(want), want, strlen(want)), 0);
	assert_int_equal(strncmp(p + 1, "< frame 35E ", 12), 0);
	snprintf(want, sizeof want, " 50594C4F4E202020 >\n");
	assert_int_equal(strcmp(buf + n - strlen(want), want), 0);
	/* The time stamp between: SEC.USEC, six digits after the point. */
	assert_int_equal(strchr(buf + 12, ' ') - strchr(buf + 12, '.'), 7);
}

static void the_client_leaving_closes_the_bus(void **state)
{
	struct bench *b = *state;

	client_says(b, "< open can0 >", "< ok >");
	client_says(b, "< rawmode >", "< ok >");
	emulator_sees(b, "S6\rO\r");
	close(b->c);
	b->c = -1;
	emulator_sees(b, "C\r");
	assert_int_equal(b->seen_len, 0);
	assert_false(host_scd_raw(b->s));
	assert_int_equal(host_scd_closes(b->s), 1);
}

static void wrong_bus_and_wrong_order_get_errors(void **state)
{
	struct bench *b = *state;

	client_says(b, "< open can1 >", "< error could not open bus >");
	client_says(b, "< rawmode >", "< error expected open >");
	client_says(b, "< send 305 >", "< error malformed command >");
	client_says(b, "< open can0 >", "< ok >");
	client_says(b, "< bcmmode >", "< error expected rawmode >");
	client_says(b, "< echo >", "< echo >");
	client_says(b, "< rawmode >", "< ok >");
	client_says(b, "< bcmmode >", "< error unknown command >");
	client_says(b, "< echo >", "< echo >");
}

static void bad_spec_is_named_as_socketcand(void **state)
{
	struct host_scd *s;
	char err[200];

	(void)state;
	assert_int_equal(host_scd_open(&s, "x", err, sizeof err), RIG_ERR_ARG);
	assert_null(s);
	assert_string_equal(err, "socketcand:x: expected a port 0-65535");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(send_elements_parse_as_socketcand_reads_them),
		cmocka_unit_test(malformed_elements_are_refused),
		cmocka_unit_test(frame_lines_are_byte_exact),
		cmocka_unit_test(elements_are_cut_from_a_stream),
		cmocka_unit_test_setup_teardown(handshake_then_frames_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(the_client_leaving_closes_the_bus, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_bus_and_wrong_order_get_errors, setup, teardown),
		cmocka_unit_test(bad_spec_is_named_as_socketcand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
