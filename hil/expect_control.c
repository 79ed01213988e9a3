/* The expectations on the control socket (expect.h): the judge's part of the state and its
 * verdict events, which the socket (sim/control.c) publishes without knowing what they are. */
#include <cjson/cJSON.h>

#include "bmsrig/sim/control.h"
#include "bmsrig/hil/expect.h"

static const char *const expect_states[] = {
	[EXPECT_PENDING] = "pending", [EXPECT_PASSED] = "passed", [EXPECT_FAILED] = "failed"
};

void expect_states_json(cJSON *scenario, const struct expect_spec *spec, const struct expect_result *res,
                        unsigned n)
{
	cJSON *expect = cJSON_CreateArray();
	unsigned k;

	for (k = 0; k < n; k++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", spec[k].name);
		cJSON_AddStringToObject(e, "state", expect_states[res ? res[k].state : EXPECT_PENDING]);
		cJSON_AddItemToArray(expect, e);
	}
	cJSON_AddItemToObject(scenario, "expect", expect);
}

void expect_publish(struct control *c, const struct expect_spec *spec, const struct expect_result *res,
                    enum expect_state *last, unsigned n)
{
	unsigned k;

	if (!c)
		return;
	for (k = 0; k < n; k++) {
		const struct expect_result *r = &res[k];
		cJSON *o;

		if (r->state == last[k])
			continue;
		last[k] = r->state;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "expect");
		cJSON_AddNumberToObject(o, "t_ms", r->t_ms);
		cJSON_AddNumberToObject(o, "index", k);
		cJSON_AddStringToObject(o, "name", spec[k].name);
		cJSON_AddStringToObject(o, "state", expect_states[r->state]);
		cJSON_AddStringToObject(o, "message", r->message);
		control_publish(c, o);
		cJSON_Delete(o);
	}
}
