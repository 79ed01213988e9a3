/* JUnit output: counts, escaping, the failure text with its wire context, and a file that
 * appears whole or not at all. */
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

#include "bmsrig/hil/runner.h"

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void report_counts_escapes_and_carries_the_wire(void **state)
{
	static struct run_report reps[2];
	char dir[] = "/tmp/bmsrig-junit-XXXXXX", path[64], tmp[80], victim[80], err[200];
	const char *x;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out.xml", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	memset(reps, 0, sizeof reps);
	strcpy(reps[0].scenario, "a<b>&\"c\"");
	strcpy(reps[0].path, "scenarios/a.json");
	reps[0].n_cases = 2;
	strcpy(reps[0].cases[0].name, "holds");
	reps[0].cases[0].state = EXPECT_PASSED;
	strcpy(reps[0].cases[1].name, "relay opens");
	reps[0].cases[1].state = EXPECT_FAILED;
	reps[0].cases[1].t_s = 12.5;
	strcpy(reps[0].cases[1].message, "at 12.500 s: dut.relay == 0 is false: dut.relay = 1, 0 = 0");
	strcpy(reps[0].cases[1].wire, "12.013 s rx DDA50300FFFD77\x01");
	strcpy(reps[1].scenario, "b");
	strcpy(reps[1].error, "device under test: cannot start");
	/* A symlink planted at the temporary name older versions used is never followed. */
	snprintf(victim, sizeof victim, "%s/victim", dir);
	fclose(fopen(victim, "w"));
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(junit_write(path, reps, 2, err, sizeof err), RIG_OK);
	assert_string_equal(slurp(victim), "");
	unlink(tmp);
	unlink(victim);
	x = slurp(path);
	assert_non_null(strstr(x, "<testsuites name=\"bmsrig\" tests=\"3\" failures=\"2\">"));
	assert_non_null(strstr(x, "<testsuite name=\"a&lt;b&gt;&amp;&quot;c&quot;\" tests=\"2\" failures=\"1\" errors=\"0\""));
	assert_non_null(strstr(x, "<testcase classname=\"a&lt;b&gt;&amp;&quot;c&quot;\" name=\"holds\" time=\"0.000\"/>"));
	assert_non_null(strstr(x, "name=\"relay opens\" time=\"12.500\"><failure message=\"at 12.500 s: dut.relay == 0 is false"));
	assert_non_null(strstr(x, "last frames on the wire:\n12.013 s rx DDA50300FFFD77?</failure>"));
	assert_non_null(strstr(x, "<testsuite name=\"b\" tests=\"1\" failures=\"0\" errors=\"1\""));
	assert_non_null(strstr(x, "<error message=\"device under test: cannot start\"/>"));
	unlink(path);
	assert_int_equal(rmdir(dir), 0);                         /* nothing left over */
}

static void unwritable_path_leaves_nothing(void **state)
{
	static struct run_report rep;
	char err[200];

	(void)state;
	memset(&rep, 0, sizeof rep);
	strcpy(rep.scenario, "x");
	assert_int_equal(junit_write("/nonexistent-dir/out.xml", &rep, 1, err, sizeof err), RIG_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent-dir/out.xml.tmp."));
	assert_non_null(strstr(err, ": cannot write: No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_counts_escapes_and_carries_the_wire),
		cmocka_unit_test(unwritable_path_leaves_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
