/*
 * The judgement in a scenario file (scenario_judge.h): `dut` and `expect`, read through the
 * emulator's scenario reader as a part of the file's walk. `dut` comes just before the
 * timeline (its defaults follow the BMS), `expect` last (it names the timeline's events), which
 * is where they always stood among the file's keys.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/core/pack_state.h"
#include "bmsrig/hil/scenario_judge.h"
#include "bmsrig/sim/scenario_reader.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the device under test ----------------------------------------------------------------- */

static rig_rc dut_kind(struct scen_reader *c, const cJSON *v, void *base)
{
	char g[SCEN_GOT_MAX + 24];

	(void)base;
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "host"))
		return scen_fail(c, 0, "expected \"host\" (the host build of the firmware core), got %s",
		            scen_got(c, v, !cJSON_IsString(v), g, sizeof g));
	return RIG_OK;
}

static rig_rc dut_proto(struct scen_reader *c, const cJSON *v, void *base)
{
	struct scen_dut *d = base;
	char names[256] = "", g[SCEN_GOT_MAX + 24];   /* every protocol of rig_fw_protos */
	size_t n = 0;
	int p = cJSON_IsString(v) ? rig_fw_proto_find(v->valuestring) : -1;
	unsigned i;

	if (p >= 0) {
		d->fw.proto = (enum fw_proto)p;
		return RIG_OK;
	}
	for (i = 0; i < FW_PROTO_COUNT; i++)
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", rig_fw_protos[i].name);
	return scen_fail(c, 0, "expected one of %s, got %s", names, scen_got(c, v, !cJSON_IsString(v), g, sizeof g));
}

#define POL(m) SCEN_MEMBER(struct policy_cfg, m)
static const struct scen_field policy_fields[] = {
	{ "cell_max_mv", SCEN_T_INT, 0, 0, 6000, POL(cell_max_mV), 0, NULL, NULL },
	{ "cell_min_mv", SCEN_T_INT, 0, 0, 6000, POL(cell_min_mV), 0, NULL, NULL },
	{ "cell_hyst_mv", SCEN_T_INT, 0, 0, 1000, POL(cell_hyst_mV), 0, NULL, NULL },
	{ "temp_max_c", SCEN_T_DK, 0, -40, 120, POL(temp_max_dK), 0, NULL, NULL },
	{ "temp_min_c", SCEN_T_DK, 0, -40, 120, POL(temp_min_dK), 0, NULL, NULL },
	{ "temp_hyst_c", SCEN_T_DK_DELTA, 0, 0, 50, POL(temp_hyst_dK), 0, NULL, NULL },
	{ "comm_fail_max", SCEN_T_INT, 0, 1, 1000, POL(comm_fail_max), 0, NULL, NULL },
};
#undef POL

/* A lower limit at or above its upper one would hold the relay open for ever: reported at
 * whichever of the two the file gave (the upper one when both). */
static rig_rc limits_ordered(struct scen_reader *c, uint64_t seen, const char *lo, const char *hi, unsigned lo_v,
                             unsigned hi_v, double scale, double offset)
{
	rig_rc rc;

	if (lo_v < hi_v)
		return RIG_OK;
	scen_push(c, scen_was_seen(policy_fields, N_OF(policy_fields), seen, hi) ? hi : lo);
	rc = scen_fail(c, 0, "expected %s (%g) below %s (%g)", lo, ((double)lo_v - offset) / scale, hi,
	          ((double)hi_v - offset) / scale);
	scen_pop(c);
	return rc;
}

static rig_rc dut_policy(struct scen_reader *c, const cJSON *v, void *base)
{
	struct policy_cfg *p = &((struct scen_dut *)base)->fw.policy;
	uint64_t seen;
	rig_rc rc = scen_walk(c, v, policy_fields, N_OF(policy_fields), 0, p, &seen);

	if (rc == RIG_OK)
		rc = limits_ordered(c, seen, "cell_min_mv", "cell_max_mv", p->cell_min_mV, p->cell_max_mV, 1, 0);
	if (rc == RIG_OK)
		rc = limits_ordered(c, seen, "temp_min_c", "temp_max_c", p->temp_min_dK, p->temp_max_dK, 10,
		                    PACK_DK_ZERO_C);
	return rc;
}

#define DUT(m) SCEN_MEMBER(struct scen_dut, m)
static const struct scen_field dut_fields[] = {
	SCEN_FNF("kind", SCEN_T_FN, 0, dut_kind, 0),
	SCEN_FNF("proto", SCEN_T_FN, 0, dut_proto, 0),
	{ "poll", SCEN_T_TIME, 0, 1, SCEN_TIME_MAX_MS, DUT(fw.client.poll_ms), 0, NULL, NULL },
	{ "timeout", SCEN_T_TIME, 0, 1, SCEN_TIME_MAX_MS, DUT(fw.client.timeout_ms), 0, NULL, NULL },
	{ "retries", SCEN_T_INT, 0, 0, 10, DUT(fw.client.retries), 0, NULL, NULL },
	{ "address", SCEN_T_INT, 0, 0, 254, DUT(fw.client.address), 0, NULL, NULL },
	{ "step", SCEN_T_TIME, 0, 1, 100, DUT(step_ms), 0, NULL, NULL },
	{ "relay_cuts_current", SCEN_T_BOOL, 0, 0, 0, DUT(relay_cuts_current), 0, NULL, NULL },
	SCEN_FNF("policy", SCEN_T_OBJ, 0, dut_policy, 0),
	{ "policy_fets", SCEN_T_BOOL, 0, 0, 0, DUT(fw.policy_drives_fets), 0, NULL, NULL },
};
#undef DUT

static rig_rc top_dut(struct scen_reader *c, const cJSON *v, void *base)
{
	static const struct client_cfg client = CLIENT_CFG_DEFAULT;
	static const struct policy_cfg policy = POLICY_CFG_LFP;
	const struct scenario *s = scen_reader_scenario(c);
	struct scen_dut *d = &((struct scenario_judge *)scen_reader_part(c))->dut;
	int proto = rig_fw_proto_find(s->bms.kind->name);
	uint64_t seen = 0;
	rig_rc rc;

	(void)base;
	d->fw.proto = proto >= 0 ? (enum fw_proto)proto : FW_PROTO_JBD;
	d->fw.client = client;
	d->fw.client.address = s->bms.unit.address;
	d->fw.policy = policy;
	d->fw.policy_drives_fets = 0;
	d->relay_cuts_current = 1;
	d->step_ms = 5;
	rc = v ? scen_walk(c, v, dut_fields, N_OF(dut_fields), 0, d, &seen) : RIG_OK;
	if (!scen_was_seen(dut_fields, N_OF(dut_fields), seen, "timeout"))
		d->fw.client.timeout_ms = rig_fw_protos[d->fw.proto].timeout_ms;
	return rc;
}

/* ---- the rig as the inverter --------------------------------------------------------------- */

/* Read before the walk (SCEN_T_SKIP below): the protocol decides the defaults and which of
 * poll / keepalive exist. */
static rig_rc inv_protocol(struct scen_reader *c, const cJSON *v, struct rig_inverter_cfg *inv)
{
	char names[96] = "", g[SCEN_GOT_MAX + 24];
	size_t n = 0;
	uint8_t p;
	unsigned i;

	if (cJSON_IsString(v) && rig_inv_port_proto_parse(v->valuestring, &p) == RIG_OK) {
		rig_inverter_cfg_default(inv, p);
		return RIG_OK;
	}
	for (i = 0; i < RIG_INV_PROTO_COUNT; i++)
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", rig_inv_port_proto_name((uint8_t)i));
	return scen_fail(c, 0, "expected one of %s, got %s", names, scen_got(c, v, !cJSON_IsString(v), g, sizeof g));
}

#define INV_BIT(p) (1u << (p))
#define INV(m) SCEN_MEMBER(struct rig_inverter_cfg, m)
static const struct scen_field inverter_fields[] = {
	{ "protocol", SCEN_T_SKIP, SCEN_REQ, 0, 0, 0, 0, 0, NULL, NULL },
	{ "address", SCEN_T_INT, 0, 0, 254, INV(address), INV_BIT(RIG_INV_PYLON_RS485) | INV_BIT(RIG_INV_DEYE_MODBUS), NULL, NULL },
	{ "poll", SCEN_T_TIME, 0, 100, SCEN_TIME_MAX_MS, INV(poll_ms), INV_BIT(RIG_INV_PYLON_RS485) | INV_BIT(RIG_INV_DEYE_MODBUS), NULL, NULL },
	{ "keepalive", SCEN_T_TIME, 0, 100, SCEN_TIME_MAX_MS, INV(poll_ms), INV_BIT(RIG_INV_PYLON_CAN), NULL, NULL },
	{ "send_keepalive", SCEN_T_BOOL, 0, 0, 0, INV(keepalive), INV_BIT(RIG_INV_PYLON_CAN), NULL, NULL },
	{ "timeout", SCEN_T_TIME, 0, 10, SCEN_TIME_MAX_MS, INV(timeout_ms), 0, NULL, NULL },
};
#undef INV

/* Only the bridge (core/bridge.h) reads several BMS lines, and it runs for a scenario with an
 * inverter: without one, the error stands at the second line's first "line" key. */
static rig_rc several_lines_need_a_bridge(struct scen_reader *c)
{
	const struct scenario *s = scen_reader_scenario(c);
	rig_rc rc;

	if (s->n_lines <= 1)
		return RIG_OK;
	scen_pop(c);                       /* "inverter", absent: the path is the unit's */
	scen_push(c, "bms");
	scen_push_i(c, s->line_first[1]);
	scen_push(c, "line");
	rc = scen_fail(c, 0, "expected line 1 only, got 2 (several BMS lines are read by the bridge, which runs "
	               "for a scenario with an \"inverter\")");
	scen_pop(c);
	scen_pop(c);
	scen_pop(c);
	scen_push(c, "inverter");
	return rc;
}

static rig_rc top_inverter(struct scen_reader *c, const cJSON *v, void *base)
{
	struct rig_inverter_cfg *inv = &((struct scenario_judge *)scen_reader_part(c))->inverter;
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(v, "protocol");
	rig_rc rc;

	(void)base;
	if (!v)
		return several_lines_need_a_bridge(c);
	if (!proto)
		return scen_fail(c, 0, "expected the key \"protocol\" (pylontech-can, pylontech-rs485 or deye-modbus)");
	scen_push(c, "protocol");
	rc = inv_protocol(c, proto, inv);
	scen_pop(c);
	if (rc != RIG_OK)
		return rc;
	rc = scen_walk(c, v, inverter_fields, N_OF(inverter_fields), INV_BIT(inv->proto), inv, NULL);
	/* A Deye battery answers at 0x00-0x0E only (one address per pack of 15). */
	if (rc == RIG_OK && inv->proto == RIG_INV_DEYE_MODBUS && inv->address > 0x0E)
		return scen_fail_key(c, v, "address", "an address from 0 to 14 (0x0E) for deye-modbus");
	return rc;
}
#undef INV_BIT

/* ---- expectations -------------------------------------------------------------------------- */

static const char *const form_keys[] = {
	[EXPECT_AT] = "at", [EXPECT_WITHIN] = "within", [EXPECT_ALWAYS] = "always", [EXPECT_NEVER] = "never"
};

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* An expression, compiled; an error points at its column in the file. */
static rig_rc compile_expr(struct scen_reader *c, struct expr *e, const cJSON *v)
{
	char why[256];
	unsigned err_col = 0;

	if (expr_compile(e, v->valuestring, why, sizeof why, &err_col) == RIG_OK)
		return RIG_OK;
	return scen_fail_in_string(c, err_col ? err_col - 1 : 0, "%s", why);
}

/* always, never, that: the condition every form has. */
static rig_rc exp_that(struct scen_reader *c, const cJSON *v, void *base)
{
	char g[SCEN_GOT_MAX + 24];

	if (!cJSON_IsString(v))
		return scen_fail(c, 0, "expected an expression (a string), got %s", scen_got(c, v, 1, g, sizeof g));
	return compile_expr(c, &((struct expect_spec *)base)->that, v);
}

/* An event's id, else a condition whose first truth starts the clock. */
static rig_rc exp_after(struct scen_reader *c, const cJSON *v, void *base)
{
	const struct scenario *s = scen_reader_scenario(c);
	struct expect_spec *x = base;
	char g[SCEN_GOT_MAX + 24];
	const char *t;
	unsigned i;

	if (!cJSON_IsString(v))
		return scen_fail(c, 0, "expected the id of a timeline event or a condition, got %s", scen_got(c, v, 1, g, sizeof g));
	t = v->valuestring;
	for (i = 0; i < s->n_events; i++)
		if (s->event[i].id[0] && !strcmp(s->event[i].id, t)) {
			x->after_event = (int)i;
			return RIG_OK;
		}
	/* A bare word that is no event's id was meant as one: a condition reads dut.*, truth.*,
	 * t or numbers, so report the missing event rather than an unknown name. */
	if (*t && strspn(t, ID_CHARS) == strlen(t) && !(t[0] >= '0' && t[0] <= '9') && strcmp(t, "t"))
		return scen_fail(c, 0, "expected the id of a timeline event or a condition, got %s (no event has that id)",
		            scen_got(c, v, 0, g, sizeof g));
	x->after_event = -1;
	return compile_expr(c, &x->after, v);
}

#define FORM(f) (1u << (f))
#define XS(m) SCEN_MEMBER(struct expect_spec, m)
static const struct scen_field expect_fields[] = {
	{ "name", SCEN_T_TEXT, SCEN_REQ, 1, 95, XS(name), 0, NULL, NULL },
	{ "at", SCEN_T_TIME, SCEN_REQ, 0, SCEN_TIME_MAX_MS, XS(at_ms), FORM(EXPECT_AT), NULL, NULL },
	{ "within", SCEN_T_TIME, SCEN_REQ, 0, SCEN_TIME_MAX_MS, XS(within_ms), FORM(EXPECT_WITHIN), NULL, NULL },
	SCEN_FNF("after", SCEN_T_FN, SCEN_REQ, exp_after, FORM(EXPECT_WITHIN)),
	SCEN_FNF("always", SCEN_T_FN, SCEN_REQ, exp_that, FORM(EXPECT_ALWAYS)),
	SCEN_FNF("never", SCEN_T_FN, SCEN_REQ, exp_that, FORM(EXPECT_NEVER)),
	SCEN_FNF("that", SCEN_T_FN, SCEN_REQ, exp_that, FORM(EXPECT_AT) | FORM(EXPECT_WITHIN)),
	{ "from", SCEN_T_TIME, 0, 0, SCEN_TIME_MAX_MS, XS(from_ms), FORM(EXPECT_ALWAYS) | FORM(EXPECT_NEVER), NULL, NULL },
	{ "until", SCEN_T_TIME, 0, 0, SCEN_TIME_MAX_MS, XS(until_ms), FORM(EXPECT_ALWAYS) | FORM(EXPECT_NEVER), NULL, NULL },
	{ "tolerance", SCEN_T_NUM, 0, 0, INFINITY, XS(tolerance), 0, NULL, NULL },
};
#undef XS

static rig_rc one_expect(struct scen_reader *c, const cJSON *v, struct expect_spec *x)
{
	uint32_t end = scen_reader_scenario(c)->duration_ms;
	const cJSON *it;
	char g[SCEN_GOT_MAX + 24], a[32], b[32], expected[128];
	int form = -1;
	unsigned f;
	uint64_t seen = 0;
	rig_rc rc;

	if (!cJSON_IsObject(v))
		return scen_fail(c, 0, "expected an object {\"name\": ..., and one of \"at\", \"within\", \"always\", \"never\"}, "
		            "got %s", scen_got(c, v, 1, g, sizeof g));
	cJSON_ArrayForEach(it, v)
		for (f = 0; f < N_OF(form_keys); f++) {
			if (strcmp(it->string, form_keys[f]))
				continue;
			if (form >= 0 && form != (int)f) {
				scen_push(c, it->string);
				rc = scen_fail(c, 1, "expected one form, got both \"%s\" and \"%s\"", form_keys[form], form_keys[f]);
				scen_pop(c);
				return rc;
			}
			form = (int)f;
		}
	if (form < 0)
		return scen_fail(c, 0, "expected one of the keys \"at\", \"within\", \"always\", \"never\"");
	memset(x, 0, sizeof *x);
	x->form = (enum expect_form)form;
	x->after_event = -1;
	rc = scen_walk(c, v, expect_fields, N_OF(expect_fields), FORM(form), x, &seen);
	if (rc != RIG_OK)
		return rc;
	scen_fmt_time(end, a, sizeof a);
	snprintf(expected, sizeof expected, "a time at or before the end (duration %s)", a);
	if (x->form == EXPECT_AT && x->at_ms > end)
		return scen_fail_key(c, v, "at", expected);
	if (scen_was_seen(expect_fields, N_OF(expect_fields), seen, "until")) {
		if (x->until_ms > end)
			return scen_fail_key(c, v, "until", expected);
		if (x->until_ms <= x->from_ms) {
			snprintf(expected, sizeof expected, "a time after from (%s)", scen_fmt_time(x->from_ms, b, sizeof b));
			return scen_fail_key(c, v, "until", expected);
		}
	} else if (x->from_ms >= end) {
		snprintf(expected, sizeof expected, "a time before the end (duration %s)", a);
		return scen_fail_key(c, v, "from", expected);
	}
	return RIG_OK;
}

static rig_rc expect_item(struct scen_reader *c, const cJSON *v, void *item) { return one_expect(c, v, item); }

static rig_rc top_expect(struct scen_reader *c, const cJSON *v, void *base)
{
	(void)base;
	struct scenario_judge *j = scen_reader_part(c);

	return scen_each_item(c, v, SCEN_EXPECT_MAX, "expectations", expect_item, j->expect, sizeof j->expect[0],
	                      &j->n_expect);
}


/* ---- the part --------------------------------------------------------------------------- */

static const struct scen_part_key judge_keys[] = {
	{ "dut", "timeline", SCEN_T_OBJ, SCEN_ALWAYS, top_dut },
	{ "inverter", "timeline", SCEN_T_OBJ, SCEN_ALWAYS, top_inverter },
	{ "expect", NULL, SCEN_T_ARR, 0, top_expect },
};

rig_rc scenario_judge_parse(struct scenario *s, struct scenario_judge *j, const char *text, size_t len,
                            const char *path, long long seed_override, int read_files,
                            char *err, size_t errcap)
{
	const struct scenario_part part = { judge_keys, N_OF(judge_keys), j };

	memset(j, 0, sizeof *j);
	return scenario_parse_part(s, text, len, path, seed_override, read_files, &part, err, errcap);
}

rig_rc scenario_judge_load(struct scenario *s, struct scenario_judge *j, const char *path,
                           long long seed_override, char *err, size_t errcap)
{
	const struct scenario_part part = { judge_keys, N_OF(judge_keys), j };

	memset(j, 0, sizeof *j);
	return scenario_load_part(s, path, seed_override, &part, err, errcap);
}
