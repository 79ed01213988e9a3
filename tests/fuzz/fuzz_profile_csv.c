/*
 * libFuzzer: the input as a timeline profile's CSV file (named fuzz.csv) through
 * scenario_profile_csv, the rows reader the scenario loader runs on a "csv" file. Byte 0 says how
 * full the point pool already is (SCEN_POINTS_MAX - byte 0 * 80 points), so its limit is
 * reached too; the rest is the file. abort() unless it returns RIG_OK or RIG_ERR_ARG and:
 *   - a refused file gives one non-empty line "fuzz.csv:..." quoting at most a short excerpt;
 *   - an accepted one adds its rows after the points already there, inside the pool, with
 *     times in order and within 49 days, and currents within +-2000 A.
 * Seeds: tests/fuzz/corpus/fuzz_profile_csv/ (scenarios/profiles/ and small variants).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/scenario_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scenario sc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scen_event e;
	char err[512];
	unsigned before, i;
	rig_rc rc;

	if (size < 1)
		return 0;
	if (!sc.point)
		CHECK((sc.point = calloc(SCEN_POINTS_MAX, sizeof *sc.point)) != NULL);
	before = data[0] * 80u < SCEN_POINTS_MAX ? SCEN_POINTS_MAX - data[0] * 80u : 0;
	sc.n_points = before;
	memset(&e, 0, sizeof e);
	err[0] = '\0';
	rc = scenario_profile_csv(&sc, &e, "fuzz.csv", (const char *)data + 1, size - 1, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	CHECK(sc.n_points <= SCEN_POINTS_MAX);
	if (rc != RIG_OK) {
		CHECK(!strncmp(err, "fuzz.csv:", 9) && !strchr(err, '\n') && strlen(err) < 200);
		return 0;
	}
	CHECK(e.first == before && e.count >= 1 && e.first + e.count == sc.n_points);
	for (i = e.first; i < sc.n_points; i++) {
		CHECK(sc.point[i].t_ms <= SCEN_TIME_MAX_MS);
		CHECK(sc.point[i].value >= -2000.0 && sc.point[i].value <= 2000.0);
		CHECK(i == e.first || sc.point[i].t_ms >= sc.point[i - 1].t_ms);
	}
	return 0;
}
