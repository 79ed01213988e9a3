/*
 * libFuzzer: the input as a `--bms KIND[,key=value...]` argument through spec_parse, and a
 * spec it takes through spec_resolve and spec_group, as bmssim serve does. abort() unless each
 * returns a known code, an error is one non-empty "--bms ..." line, and an accepted spec keeps
 * the key table's ranges (spec_check.c).
 * Seeds: tests/fuzz/corpus/fuzz_bms_spec/ (the forms docs/bmssim.md shows).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "spec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bms_spec tmpl, spec;
	char *text = malloc(size + 1), err[512];
	rig_rc rc;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	spec_defaults(&tmpl);
	err[0] = '\0';
	rc = spec_parse(&spec, &tmpl, text, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	if (rc == RIG_OK)
		fuzz_check_specs(&spec, 1);
	else
		CHECK(!strncmp(err, "--bms", 5) && !strchr(err, '\n'));
	free(text);
	return 0;
}
