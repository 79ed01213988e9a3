/* Replaying a trace: exchanges built from frame records, requests matched byte for byte in any
 * pieces, the cursor moving on and wrapping, noise dropped, bad traces located. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/sim/replay.h"

static char path[64];

static void write_trace(const char *text)
{
	int fd;

	strcpy(path, "/tmp/bmsrig-replay-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char TRACE[] =
	"{\"t_ms\":0,\"type\":\"scenario\",\"name\":\"one\",\"protocol\":\"jbd\"}\n"
	"{\"t_ms\":5,\"type\":\"truth\",\"pack_mv\":13000}\n"
	"{\"t_ms\":13,\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"DDA50300FFFD77\"}\n"
	"{\"t_ms\":53,\"type\":\"frame\",\"dir\":\"tx\",\"hex\":\"DD0300\"}\n"
	"{\"t_ms\":98,\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"DDA50400FFFC77\"}\n"
	"{\"t_ms\":138,\"type\":\"frame\",\"dir\":\"tx\",\"hex\":\"DD0400\"}\n"
	"{\"t_ms\":1013,\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"DDA50300FFFD77\"}\n"
	"{\"t_ms\":1053,\"type\":\"frame\",\"dir\":\"tx\",\"hex\":\"DD0301\"}\n"
	"{\"t_ms\":1060,\"type\":\"frame\",\"dir\":\"tx\",\"hex\":\"AB\"}\n"
	"{\"t_ms\":0,\"type\":\"scenario\",\"name\":\"two\",\"protocol\":\"daly\"}\n"
	"{\"t_ms\":13,\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"A5409008\"}\n";

static const uint8_t REQ03[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
static const uint8_t REQ04[] = { 0xDD, 0xA5, 0x04, 0x00, 0xFF, 0xFC, 0x77 };

static void exchanges_follow_the_trace_and_wrap(void **state)
{
	struct replay r;
	const struct replay_exchange *e;
	char err[200];

	(void)state;
	write_trace(TRACE);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_OK);
	unlink(path);
	assert_string_equal(r.scenario, "one");
	assert_string_equal(r.protocol, "jbd");
	assert_int_equal(r.n, 3);                               /* the second run is not mixed in */
	assert_null(replay_input(&r, REQ03, 3));                /* in pieces */
	e = replay_input(&r, REQ03 + 3, 4);
	assert_non_null(e);
	assert_int_equal(e->t_ms, 13);
	assert_int_equal(e->n_replies, 1);
	assert_int_equal(e->replies[0].delay_ms, 40);
	assert_memory_equal(e->replies[0].bytes, "\xDD\x03\x00", 3);
	e = replay_input(&r, REQ03, sizeof REQ03);             /* skips the 0x04 exchange */
	assert_non_null(e);
	assert_int_equal(e->t_ms, 1013);
	assert_int_equal(e->n_replies, 2);
	assert_int_equal(e->replies[1].delay_ms, 47);
	e = replay_input(&r, (const uint8_t *)"\x01\x02", 2); /* noise */
	assert_null(e);
	e = replay_input(&r, REQ04, sizeof REQ04);             /* wraps round to the start */
	assert_non_null(e);
	assert_int_equal(e->t_ms, 98);
	assert_int_equal(r.answered, 3);
	assert_int_equal(r.unmatched_bytes, 2);
	replay_free(&r);
}

static void a_named_run(void **state)
{
	struct replay r;
	char err[200];

	(void)state;
	write_trace(TRACE);
	assert_int_equal(replay_load(&r, path, "two", err, sizeof err), RIG_OK);
	assert_string_equal(r.protocol, "daly");
	assert_int_equal(r.n, 1);
	replay_free(&r);
	assert_int_equal(replay_load(&r, path, "three", err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, ":11: expected the named scenario's frames"));
	unlink(path);
}

static void bad_traces_are_located(void **state)
{
	static const struct { const char *text, *expected; } cases[] = {
		{ "not json\n", ":1: expected a JSON object with a \"type\"" },
		{ "{\"type\":\"scenario\",\"name\":\"a\"}\n{\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"DDA\",\"t_ms\":1}\n",
		  ":2: expected \"hex\" as pairs of hex digits" },
		{ "{\"type\":\"scenario\",\"name\":\"a\"}\n{\"type\":\"frame\",\"dir\":\"rx\",\"t_ms\":1}\n",
		  ":2: expected a frame record with" },
		{ "{\"type\":\"scenario\",\"name\":\"a\"}\n", ":1: expected frame records" },
	};
	struct replay r;
	char err[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_trace(cases[i].text);
		assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_ARG);
		unlink(path);
		if (!strstr(err, cases[i].expected))
			fail_msg("case %zu: got \"%s\"", i, err);
	}
	assert_int_equal(replay_load(&r, "/nonexistent.jsonl", NULL, err, sizeof err), RIG_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent.jsonl: cannot open"));
}

/* A run killed mid-way leaves half a record at the end: the rest replays, with a warning. A bad
 * line anywhere else is still an error. */
static void a_truncated_last_line_is_skipped_with_a_warning(void **state)
{
	static const char cut[] = "{\"t_ms\":1093,\"type\":\"frame\",\"dir\":\"rx\",\"hex\":\"DDA5";
	static char text[2 * sizeof TRACE + 128];
	struct replay r;
	char err[300], want[200];

	(void)state;
	/* No newline after the half record. */
	snprintf(text, sizeof text, "%s%s", TRACE, cut);
	write_trace(text);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_OK);
	snprintf(want, sizeof want, "%s:12: warning: truncated last line ignored (run killed while writing?)", path);
	assert_string_equal(r.warning, want);
	assert_int_equal(r.n, 3);
	replay_free(&r);
	unlink(path);

	/* A newline after it (killed between two writes of a buffered line). */
	snprintf(text, sizeof text, "%s%s\n", TRACE, cut);
	write_trace(text);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_OK);
	assert_string_equal(r.warning + strlen(path), ":12: warning: truncated last line ignored (run killed while writing?)");
	replay_free(&r);
	unlink(path);

	/* A whole trace warns of nothing. */
	write_trace(TRACE);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_OK);
	assert_string_equal(r.warning, "");
	replay_free(&r);
	unlink(path);

	/* The same half record in the middle is an error. */
	snprintf(text, sizeof text, "%s\n%s", cut, TRACE);
	write_trace(text);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s:1: expected a JSON object with a \"type\"", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	unlink(path);
	snprintf(text, sizeof text, "%s%s\n%s", TRACE, cut, TRACE);
	write_trace(text);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, ":12: expected a JSON object with a \"type\""));
	unlink(path);
}

/* A FIFO named as the trace is refused at once instead of waiting for a writer. */
static void a_fifo_is_no_trace(void **state)
{
	struct replay r;
	char err[300], want[200];

	(void)state;
	strcpy(path, "/tmp/bmsrig-replay-fifo-XXXXXX");
	assert_non_null(mkdtemp(path));
	strcat(path, "/f");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(replay_load(&r, path, NULL, err, sizeof err), RIG_ERR_IO);
	snprintf(want, sizeof want, "%s: not a regular file", path);
	assert_string_equal(err, want);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exchanges_follow_the_trace_and_wrap),
		cmocka_unit_test(a_named_run),
		cmocka_unit_test(bad_traces_are_located),
		cmocka_unit_test(a_truncated_last_line_is_skipped_with_a_warning),
		cmocka_unit_test(a_fifo_is_no_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
