/* JUnit XML for CI (runner.h): the shape Jenkins, GitLab and GitHub's test reporters read. The
 * file appears whole or not at all (host_file_out: a fresh temporary beside it, renamed over it). */
#include <stdio.h>
#include <string.h>

#include "bmsrig/hil/runner.h"
#include "bmsrig/lib/file.h"

/* Text and attribute values: the five XML specials escaped, control characters (which XML 1.0
 * cannot carry) shown as '?', tabs and newlines kept. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(c < 0x20 && c != '\n' && c != '\t' ? '?' : c, f); break;
		}
	}
}

static unsigned failures(const struct run_report *r)
{
	unsigned i, n = 0;

	for (i = 0; i < r->n_cases; i++)
		n += r->cases[i].state != EXPECT_PASSED;
	return n;
}

static void put_suite(FILE *f, const struct run_report *r)
{
	unsigned i;

	fputs("  <testsuite name=\"", f);
	put_escaped(f, r->scenario);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\">\n",
	        r->error[0] ? 1u : r->n_cases, r->error[0] ? 0u : failures(r), r->error[0] ? 1u : 0u, r->wall_s);
	fputs("    <properties><property name=\"file\" value=\"", f);
	put_escaped(f, r->path);
	fprintf(f, "\"/><property name=\"simulated_s\" value=\"%.3f\"/></properties>\n", r->sim_s);
	if (r->error[0]) {
		fputs("    <testcase classname=\"", f);
		put_escaped(f, r->scenario);
		fputs("\" name=\"run\"><error message=\"", f);
		put_escaped(f, r->error);
		fputs("\"/></testcase>\n", f);
	}
	for (i = 0; i < r->n_cases && !r->error[0]; i++) {
		const struct run_case *c = &r->cases[i];

		fputs("    <testcase classname=\"", f);
		put_escaped(f, r->scenario);
		fputs("\" name=\"", f);
		put_escaped(f, c->name);
		fprintf(f, "\" time=\"%.3f\"", c->t_s);
		if (c->state == EXPECT_PASSED) {
			fputs("/>\n", f);
			continue;
		}
		fputs("><failure message=\"", f);
		put_escaped(f, c->message);
		fputs("\">", f);
		put_escaped(f, c->message);
		if (c->wire[0]) {
			fputs("\nlast frames on the wire:\n", f);
			put_escaped(f, c->wire);
		}
		fputs("</failure></testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

rig_rc junit_write(const char *path, const struct run_report *reps, unsigned n, char *err, size_t errcap)
{
	struct host_file_out out;
	unsigned i, tests = 0, failed = 0;
	rig_rc rc = host_file_out_open(&out, path, err, errcap);

	if (rc != RIG_OK)
		return rc;
	for (i = 0; i < n; i++) {
		tests += reps[i].error[0] ? 1u : reps[i].n_cases;
		failed += reps[i].error[0] ? 1u : failures(&reps[i]);
	}
	fprintf(out.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	               "<testsuites name=\"bmsrig\" tests=\"%u\" failures=\"%u\">\n", tests, failed);
	for (i = 0; i < n; i++)
		put_suite(out.f, &reps[i]);
	fputs("</testsuites>\n", out.f);
	return host_file_out_commit(&out, err, errcap);
}
