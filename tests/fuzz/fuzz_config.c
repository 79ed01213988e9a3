/*
 * libFuzzer: the input as a `bmssim serve --config` file (named fuzz.json) through
 * spec_parse_config, then what it takes through spec_resolve and spec_group. abort() unless
 * each returns a known code, an error names the file ("fuzz.json:..."), at most the 8 BMS room
 * was given for come back, and each keeps the key table's ranges (spec_check.c).
 * Seeds: tests/fuzz/corpus/fuzz_config/ (configs like those in docs/bmssim.md).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "spec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bms_spec tmpl, specs[8];
	char *text = malloc(size + 1), err[512];
	unsigned n = 99;
	rig_rc rc;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	spec_defaults(&tmpl);
	err[0] = '\0';
	rc = spec_parse_config(text, size, "fuzz.json", &tmpl, specs, 8, &n, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	CHECK(n <= 8);
	if (rc == RIG_OK) {
		CHECK(n >= 1);
		fuzz_check_specs(specs, n);
	} else {
		CHECK(!strncmp(err, "fuzz.json:", 10) && !strchr(err, '\n'));
	}
	free(text);
	return 0;
}
