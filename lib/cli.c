#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/lib/cli.h"

int cli_u32(const char *prog, const char *opt, const char *s, uint32_t min, uint32_t max,
            uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v < min || v > max) {
		fprintf(stderr, "%s: %s: expected an integer %" PRIu32 "..%" PRIu32 ", got \"%s\"\n",
		        prog, opt, min, max, s);
		return 0;
	}
	*out = (uint32_t)v;
	return 1;
}

int cli_double(const char *prog, const char *opt, const char *s, double min, double max,
               double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "%s: %s: expected a number %g..%g, got \"%s\"\n", prog, opt, min, max, s);
		return 0;
	}
	*out = v;
	return 1;
}

int cli_word(const char *prog, const char *opt, const char *s, const char *const *words, int *out)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(s, words[i])) {
			*out = i;
			return 1;
		}
	fprintf(stderr, "%s: %s: expected one of", prog, opt);
	for (i = 0; words[i]; i++)
		fprintf(stderr, "%s %s", i ? "," : "", words[i]);
	fprintf(stderr, ", got \"%s\"\n", s);
	return 0;
}

void cli_one_line(char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20u || *msg == 0x7F)
			*msg = '?';
}
