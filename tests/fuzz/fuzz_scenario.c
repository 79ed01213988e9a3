/*
 * libFuzzer: scenario_judge_parse (the world and the judgement) on any text, as a file named
 * fuzz.json (CSV profiles are named but not read: nothing touches the disk). abort() unless:
 *   - it returns RIG_OK or RIG_ERR_ARG (RIG_ERR_IO only comes from reading files);
 *   - an error is one non-empty line naming the file ("fuzz.json:LINE:COLUMN: ..." with
 *     LINE and COLUMN inside the text) and the points are freed;
 *   - a loaded scenario keeps every promise scenario.h makes: events in time order and before
 *     the end, cells and probes inside the pack, profile points inside the pool, each id
 *     once, expectations' times inside the run and their events on the timeline, settings
 *     the BMS accepts, a resolved personality.
 * The same bytes also go to scenario_parse_time: a time it accepts is at most 49 days.
 * Seeds: tests/fuzz/corpus/fuzz_scenario/ (valid scenarios).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/jbd_settings.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/hil/scenario_judge.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scenario sc;
static struct scenario_judge sj;

/* "fuzz.json:L:C: " with L and C inside the text. */
static void check_error(const char *err, const uint8_t *data, size_t size)
{
	unsigned long line, col, lines = 1, longest = 1, cur = 1;
	char *end;
	size_t i;

	CHECK(*err && !strchr(err, '\n'));
	CHECK(!strncmp(err, "fuzz.json:", 10));
	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			lines++;
			cur = 1;
		} else if (++cur > longest) {
			longest = cur;
		}
	}
	line = strtoul(err + 10, &end, 10);
	if (*end != ':')
		return;                       /* "fuzz.json: seed override ..." cannot happen here */
	col = strtoul(end + 1, &end, 10);
	CHECK(*end == ':');
	CHECK(line >= 1 && line <= lines && col >= 1 && col <= longest + 1);
}

static void check_scenario(const struct scenario *s, const struct scenario_judge *jd)
{
	const struct model_cfg *m = &s->bms.unit.model;
	unsigned i, j;

	CHECK(s->bms.unit.ops && s->point);
	CHECK(s->duration_ms >= 1 && s->name[0]);
	CHECK(s->seed == m->seed && s->seed == s->bms.link.seed);
	CHECK(s->n_events <= SCEN_EVENTS_MAX && jd->n_expect <= SCEN_EXPECT_MAX);
	CHECK(s->n_settings <= SCEN_SETTINGS_MAX && s->n_points <= SCEN_POINTS_MAX);
	CHECK(jd->dut.step_ms >= 1 && jd->dut.step_ms <= 100 && jd->dut.fw.proto < FW_PROTO_COUNT);
	for (i = 0; i < s->n_events; i++) {
		const struct scen_event *e = &s->event[i];

		CHECK(e->kind < SCEN_EV_COUNT && e->at_ms < s->duration_ms);
		CHECK(!i || e->at_ms >= s->event[i - 1].at_ms);
		CHECK(e->cell >= -1 && e->cell < (int)m->cells);
		CHECK(e->ntc >= -1 && e->ntc < (int)m->ntc_count);
		CHECK(e->first + e->count <= s->n_points);
		CHECK(e->kind != SCEN_EV_WIRE_FAULT || (e->fault < WF_COUNT && e->rate >= 0 && e->rate <= 1));
		CHECK(strlen(e->id) < sizeof e->id);
		for (j = 0; j < i && e->id[0]; j++)
			CHECK(strcmp(e->id, s->event[j].id));
		for (j = 1; j < e->count; j++)
			CHECK(s->point[e->first + j].t_ms >= s->point[e->first + j - 1].t_ms);
	}
	for (i = 0; i < jd->n_expect; i++) {
		const struct expect_spec *x = &jd->expect[i];

		CHECK(x->name[0] && x->that.n_nodes > 0 && x->tolerance >= 0);
		CHECK(x->at_ms <= s->duration_ms && x->until_ms <= s->duration_ms);
		CHECK(x->until_ms ? x->from_ms < x->until_ms : x->from_ms < s->duration_ms || x->form < EXPECT_ALWAYS);
		CHECK(x->after_event >= -1 && x->after_event < (int)s->n_events);
		CHECK(x->form != EXPECT_WITHIN || x->after_event >= 0 || x->after.n_nodes > 0);
	}
	for (i = 0; i < s->n_settings; i++)
		CHECK(s->setting[i].reg ? jbd_reg_check(s->setting[i].reg, (uint16_t)s->setting[i].value, NULL, 0) == RIG_OK
		                        : bms_setting_check(s->setting[i].id, s->setting[i].value, NULL, 0) == RIG_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024], text[64];
	uint32_t ms;
	rig_rc rc;

	rc = scenario_judge_parse(&sc, &sj, (const char *)data, size, "fuzz.json", -1, 0, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	if (rc == RIG_OK) {
		check_scenario(&sc, &sj);
		scenario_free(&sc);
	} else {
		CHECK(!sc.point);
		check_error(err, data, size);
	}
	if (size < sizeof text) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (scenario_parse_time(text, &ms) == RIG_OK)
			CHECK(ms <= 49u * 24u * 3600u * 1000u);
	}
	return 0;
}
