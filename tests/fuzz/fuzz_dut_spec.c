/*
 * libFuzzer: the input as a `--dut` argument through dut_spec_parse. abort() unless it returns
 * RIG_OK or RIG_ERR_ARG; an error is one "--dut ..." line; an accepted spec keeps
 * dut.h's promises: a known kind, and for a board a non-empty BMS port, a relay line that is an
 * input, a reset line that is an output (or none), a banner of 1..63 characters, banner_ms at
 * most 600000 and a console rate the serial layer takes.
 * Seeds: tests/fuzz/corpus/fuzz_dut_spec/ (the forms docs/ show).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bmsrig/hil/dut.h"
#include "bmsrig/lib/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct dut_spec d;
	rig_rc rc;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	rc = dut_spec_parse(&d, text, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	if (rc != RIG_OK) {
		CHECK(!strncmp(err, "--dut", 5) && !strchr(err, '\n'));
	} else {
		CHECK(d.kind <= DUT_SERIAL && strcmp(dut_kind_name(d.kind), "?"));
		CHECK(d.kind == DUT_SERIAL || !strcmp(text, dut_kind_name(d.kind)));
		CHECK(memchr(d.bms_port, 0, sizeof d.bms_port) && memchr(d.console, 0, sizeof d.console));
		CHECK(memchr(d.banner, 0, sizeof d.banner) && d.banner[0]);
		CHECK(d.kind != DUT_SERIAL || d.bms_port[0]);
		CHECK(d.relay_line == -1 || host_line_is_input((enum host_line)d.relay_line));
		CHECK(d.reset_line == -1 || !host_line_is_input((enum host_line)d.reset_line));
		CHECK(d.banner_ms <= 600000u && host_serial_baud_ok(d.console_baud));
	}
	free(text);
	return 0;
}
