#include "spec_check.h"

#include <string.h>

#include "common.h"

static void check_text(const char *t, size_t cap)
{
	CHECK(memchr(t, 0, cap));
}

void fuzz_check_specs(struct bms_spec *s, unsigned n)
{
	static struct sim_cfg cfgs[8];
	unsigned first[8], n_cfgs = 0, i, q;
	char err[512];
	rig_rc rc = RIG_OK;

	CHECK(n <= 8);
	for (i = 0; i < n; i++) {
		const struct model_cfg *m = &s[i].unit.model;

		CHECK(s[i].kind && bms_kind_find(s[i].kind->name) == s[i].kind);
		CHECK(m->cells >= 1 && m->cells <= 32 && m->ntc_count >= 1 && m->ntc_count <= 8);
		CHECK(m->capacity_Ah >= 0.1 && m->capacity_Ah <= 10000 && m->soc_pct >= 0 && m->soc_pct <= 100);
		CHECK(s[i].unit.current_A >= -327 && s[i].unit.current_A <= 327);
		CHECK(m->ambient_C >= -40 && m->ambient_C <= 80 && s[i].unit.address <= 254);
		CHECK(s[i].unit.n_quirks <= SIM_QUIRKS_MAX);
		check_text(s[i].link_path, sizeof s[i].link_path);
		check_text(s[i].port_path, sizeof s[i].port_path);
		check_text(s[i].state_path, sizeof s[i].state_path);
		check_text(s[i].origin, sizeof s[i].origin);
		for (q = 0; q < s[i].unit.n_quirks; q++)
			check_text(s[i].quirk_text[q][0], sizeof s[i].quirk_text[q][0]);
		err[0] = '\0';
		rc = spec_resolve(&s[i], err, sizeof err);
		CHECK(rc == RIG_OK || rc == RIG_ERR_ARG || rc == RIG_ERR_UNSUPPORTED);
		if (rc != RIG_OK) {
			CHECK(err[0] && !strchr(err, '\n'));
			return;
		}
		CHECK(s[i].unit.ops && s[i].unit.n_quirks <= SIM_QUIRKS_MAX);
	}
	err[0] = '\0';
	rc = spec_group(s, n, cfgs, &n_cfgs, first, err, sizeof err);
	CHECK(rc == RIG_OK || rc == RIG_ERR_ARG);
	if (rc != RIG_OK) {
		CHECK(err[0]);
		return;
	}
	CHECK(n_cfgs >= (n ? 1u : 0u) && n_cfgs <= n);
	for (i = 0; i < n_cfgs; i++)
		CHECK(first[i] < n && cfgs[i].units >= 1 && cfgs[i].units <= SIM_UNITS_MAX && cfgs[i].baud > 0);
}
