/*
 * libFuzzer: the judge's reader of the firmware's telemetry line, both ways.
 *   - The input as a console line through dut_report_parse: it returns RIG_OK,
 *     RIG_ERR_UNSUPPORTED (exactly when the "BMSRIG " prefix is missing) or RIG_ERR_FRAME with a
 *     non-empty one-line reason; a report it accepts holds at most 32 cells and 8 temperatures
 *     and a terminated proto.
 *   - The input's bytes as a pack (any values, counts taken modulo their bounds) through the
 *     core's rig_telemetry_format into TELEMETRY_LINE_MAX: the line always fits, and
 *     dut_report_parse gives back every field it wrote.
 * Seeds: tests/fuzz/corpus/fuzz_telemetry/ (lines bmsmon printed).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/hil/hil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), err[256];
	struct dut_report r;
	rig_rc rc;

	CHECK(line);
	memcpy(line, data, size);
	line[size] = '\0';
	err[0] = '\0';
	rc = dut_report_parse(line, &r, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_UNSUPPORTED || rc == RIG_ERR_FRAME);
	CHECK((rc == RIG_ERR_UNSUPPORTED) == !!strncmp(line, TELEMETRY_PREFIX, strlen(TELEMETRY_PREFIX)));
	if (rc == RIG_ERR_FRAME)
		CHECK(err[0] && !strchr(err, '\n'));
	if (rc == RIG_OK)
		CHECK(r.pack.cell_count <= PACK_CELLS_MAX && r.pack.temp_count <= PACK_TEMPS_MAX &&
		      memchr(r.proto, 0, sizeof r.proto));
	free(line);
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	static const char *const protos[] = { "jbd", "daly", "jk", "jk-ble" };
	struct pack_state p;
	struct telemetry t;
	struct dut_report r;
	char line[TELEMETRY_LINE_MAX], err[256];
	uint8_t raw[sizeof p + sizeof t] = { 0 };

	memcpy(raw, data, size < sizeof raw ? size : sizeof raw);
	memcpy(&p, raw, sizeof p);
	memcpy(&t, raw + sizeof p, sizeof t);
	p.cell_count = (uint8_t)(p.cell_count % (PACK_CELLS_MAX + 1u));
	p.temp_count = (uint8_t)(p.temp_count % (PACK_TEMPS_MAX + 1u));
	t.proto = protos[t.ms % 4u];
	t.pack = &p;
	t.inv = NULL;
	CHECK(rig_telemetry_format(line, sizeof line, &t) > 0);
	CHECK(dut_report_parse(line, &r, err, sizeof err) == RIG_OK);
	CHECK(r.ms == t.ms && !strcmp(r.proto, t.proto) && r.ok == t.ok && r.relay == t.relay &&
	      r.comm_fail == t.comm_fail);
	CHECK(r.pack.pack_mV == p.pack_mV && r.pack.current_mA == p.current_mA && r.pack.soc_pct == p.soc_pct);
	CHECK(r.pack.fet_chg == p.fet_chg && r.pack.fet_dsg == p.fet_dsg && r.pack.prot == p.prot &&
	      r.pack.bal_mask == p.bal_mask);
	CHECK(r.pack.cell_count == p.cell_count && !memcmp(r.pack.cell_mV, p.cell_mV, p.cell_count * sizeof p.cell_mV[0]));
	CHECK(r.pack.temp_count == p.temp_count && !memcmp(r.pack.temp_dK, p.temp_dK, p.temp_count * sizeof p.temp_dK[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_line(data, size);
	check_round_trip(data, size);
	return 0;
}
