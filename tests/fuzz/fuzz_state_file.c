/*
 * libFuzzer: the input as a `--state` file (named fuzz.json) through bms_state_parse over a
 * 16S LFP BMS at factory settings. abort() unless it returns RIG_OK or RIG_ERR_ARG and:
 *   - a refused file leaves the BMS exactly as it was (all or nothing, bms.h), and the error
 *     is one non-empty line naming the file;
 *   - after a loaded one every setting still passes bms_setting_check, the remaining capacity
 *     is at most the full one, the inhibit mask holds only its bits and the texts their size.
 * Seeds: tests/fuzz/corpus/fuzz_state_file/ (files bmssim wrote, and an older JBD one).
 */
#include <string.h>
#include <stdlib.h>

#include "common.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model m;
static struct bms fresh, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	rig_rc rc;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	if (!fresh.set.design_capacity_mAh) {
		struct model_cfg c;

		model_cfg_defaults(&c);
		c.cells = 16;
		c.capacity_Ah = 100;
		CHECK(model_init(&m, &c) == RIG_OK && bms_init(&fresh, &m) == RIG_OK);
	}
	b = fresh;
	err[0] = '\0';
	rc = bms_state_parse(&b, text, size, "fuzz.json", err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	if (rc != RIG_OK) {
		CHECK(!memcmp(&b, &fresh, sizeof b));
		CHECK(!strncmp(err, "fuzz.json: ", 11) && !strchr(err, '\n'));
	} else {
		for (unsigned id = 0; id < BMS_SET_COUNT; id++)
			CHECK(bms_setting_check(id, bms_setting_get(&b, id), NULL, 0) == RIG_OK);
		CHECK(bms_remain_mAh(&b) <= bms_full_mAh(&b) && b.remain_mAh >= 0);
		CHECK((b.inhibit & ~BMS_INHIBIT_ALL) == 0);
		for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
			CHECK(b.str[i].len <= BMS_TEXT_MAX);
	}
	free(text);
	return 0;
}
