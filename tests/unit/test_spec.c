/* bmssim's specs: --bms strings, config files with located errors, and buses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/json_where.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/transport_mem.h"

static struct bms_spec tmpl;
static struct bms_spec specs[8];

static int setup(void **state)
{
	(void)state;
	spec_defaults(&tmpl);
	return 0;
}

static void bms_strings_set_keys_over_the_template(void **state)
{
	char err[300];

	(void)state;
	assert_int_equal(spec_parse(&specs[0], &tmpl, "jbd-ble,cells=16,chem=nmc,current_a=-33.5,quirk.latency_ms=60,"
	                            "ble.chunk_bytes=182,link=/tmp/x", err, sizeof err), RIG_OK);
	assert_string_equal(specs[0].kind->name, "jbd-ble");
	assert_int_equal(specs[0].kind->link, LINK_BLE);
	assert_int_equal(specs[0].unit.model.cells, 16);
	assert_int_equal(specs[0].unit.model.chem, MODEL_CHEM_NMC);
	assert_true(specs[0].unit.current_A == -33.5);
	assert_int_equal(specs[0].link.chunk_bytes, 182);
	assert_int_equal(specs[0].unit.n_quirks, 1);
	assert_string_equal(specs[0].quirk_text[0][0], "latency_ms");
	assert_string_equal(specs[0].link_path, "/tmp/x");
	assert_int_equal(specs[0].unit.model.capacity_Ah == 100.0, 1);   /* from the template */
	assert_int_equal(spec_parse(&specs[1], &tmpl, "jbd,cells=40", err, sizeof err), RIG_ERR_ARG);
	assert_string_equal(err, "--bms jbd,cells=40: cells: expected an integer 1..32, got \"40\"");
	assert_int_equal(spec_parse(&specs[1], &tmpl, "lead", err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "kind: expected one of jbd, jbd-ble"));
	assert_int_equal(spec_parse(&specs[1], &tmpl, "jbd,ble.chunk_bytes=20", err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "expected a Bluetooth kind"));
	assert_int_equal(spec_parse(&specs[1], &tmpl, "jbd,cells", err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "\"cells\": expected key=value"));
}

static const char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	strcpy(path, "/tmp/bmsrig-spec-XXXXXX");
	f = fdopen(mkstemp(path), "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void config_errors_are_located(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "{\"bms\": [\n  {\"kind\": \"jbd\"},\n  {\"kind\": \"jbd\", \"cells\": 40}\n]}",
		  ":3:28: cells: expected an integer 1..32, got \"40\"" },
		{ "{\"bms\": [\n  {\"kind\": \"jbd\",\n   \"cellz\": 4}]}", ":3:4: cellz: unknown key" },
		{ "{\"bms\": [{\"kind\": \"daly\", \"quirks\": {\"latency_ms\": [1]}}]}",
		  ":1:52: quirks.latency_ms: expected a number or a string" },
		{ "{\"bms\": [{\"kind\": \"jbd-ble\", \"ble\": {\"chunk_bytes\": 0}}]}",
		  ":1:53: ble.chunk_bytes: chunk_bytes: expected 1..512, got \"0\"" },
		{ "{\"bms\": [\n {\"kind\": 3}]}", ":2:11: kind: expected a string" },
		{ "{\"bms\": [\n {\"kind\": \"jbd\",,}]}", ":2:18: expected valid JSON" },
		{ "{\"bmss\": []}", ":1:1: expected an object" },
		{ "{\"bms\": [{}], \"extra\": 1}", ":1:15: extra: unknown key" },
		/* A key given twice is refused wherever it stands, as in a scenario file. */
		{ "{\"bms\": [\n {\"kind\": \"jbd\", \"cells\": 4, \"cells\": 8}]}",
		  ":2:18: cells: expected each key once, got it twice" },
		{ "{\"bms\": [{\"kind\": \"jbd\"}],\n \"bms\": [{\"kind\": \"daly\"}]}",
		  ":1:2: bms: expected each key once, got it twice" },
		{ "{\"bms\": [{\"kind\": \"daly\"}, {\"kind\": \"daly\",\n \"quirks\": {\"latency_ms\": 1, \"latency_ms\": 2}}]}",
		  ":2:13: latency_ms: expected each key once, got it twice" },
	};
	char err[400], want[400];
	unsigned i, n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *path = write_tmp(cases[i].text);

		assert_int_equal(spec_load_config(path, &tmpl, specs, 8, &n, err, sizeof err), RIG_ERR_ARG);
		snprintf(want, sizeof want, "%s%s", path, cases[i].want);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %u: got \"%s\", want \"%s...\"", i, err, want);
		unlink(path);
	}
	{
		/* A NUL ends no JSON: before it cJSON saw a whole file, and the rest was never read. */
		static const char nul[] = "{\"bms\": [{\"kind\": \"jbd\"}]}\0{\"bms\": 1}";
		char tmp[] = "/tmp/bmsrig-spec-nul-XXXXXX";
		int fd = mkstemp(tmp);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, nul, sizeof nul - 1), (ssize_t)(sizeof nul - 1));
		close(fd);
		assert_int_equal(spec_load_config(tmp, &tmpl, specs, 8, &n, err, sizeof err), RIG_ERR_ARG);
		snprintf(want, sizeof want, "%s:1:27: expected valid JSON", tmp);
		assert_string_equal(err, want);
		unlink(tmp);
	}
	assert_int_equal(spec_load_config("/nonexistent/x.json", &tmpl, specs, 8, &n, err, sizeof err), RIG_ERR_IO);
	assert_string_equal(err, "/nonexistent/x.json: cannot open: No such file or directory");
}

static void config_builds_specs_and_buses(void **state)
{
	const char *path = write_tmp("{\"bms\": [\n"
	                             " {\"kind\": \"jbd\", \"link\": \"/tmp/bus\", \"cells\": 8},\n"
	                             " {\"kind\": \"jbd\", \"link\": \"/tmp/bus\", \"quirks\": {\"latency_ms\": 5}},\n"
	                             " {\"kind\": \"jbd-ble\", \"soc_pct\": 12.5, \"ble\": {\"interval_ms\": 45}}\n"
	                             "]}");
	static struct sim_cfg cfgs[8];
	unsigned first[8], n, n_cfgs, i;
	char err[400];

	(void)state;
	assert_int_equal(spec_load_config(path, &tmpl, specs, 8, &n, err, sizeof err), RIG_OK);
	unlink(path);
	assert_int_equal(n, 3);
	assert_int_equal(specs[0].unit.model.cells, 8);
	assert_string_equal(specs[1].quirk_text[0][1], "5");
	assert_true(specs[2].unit.model.soc_pct == 12.5);
	assert_int_equal(specs[2].link.interval_ms, 45);
	assert_non_null(strstr(specs[1].origin, ":3:2"));
	for (i = 0; i < n; i++)
		assert_int_equal(spec_resolve(&specs[i], err, sizeof err), RIG_OK);
	assert_int_equal(spec_group(specs, n, cfgs, &n_cfgs, first, err, sizeof err), RIG_OK);
	assert_int_equal(n_cfgs, 2);
	assert_int_equal(cfgs[0].units, 2);                    /* the two on /tmp/bus */
	assert_string_equal(cfgs[0].link_path, "/tmp/bus");
	assert_int_equal(cfgs[0].baud, 9600);
	assert_int_equal(cfgs[1].units, 1);
	assert_int_equal(cfgs[1].link.kind, LINK_BLE);
	assert_int_equal(first[1], 2);
	/* A Bluetooth BMS cannot share a UART bus. */
	strcpy(specs[2].link_path, "/tmp/bus");
	assert_int_equal(spec_group(specs, n, cfgs, &n_cfgs, first, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "shares /tmp/bus with"));
}

/* A key or an argument holding a newline is quoted back as '?': the error stays one line
 * (fuzz_config, fuzz_bms_spec and fuzz_state_file check it). */
static void errors_quoting_a_newline_stay_one_line(void **state)
{
	static const char text[] = "{\"bms\": [{\"kind\": \"jbd\", \"a\nb\": 1}]}";
	char err[512];
	unsigned n;

	(void)state;
	assert_int_equal(spec_parse_config(text, sizeof text - 1, "c.json", &tmpl, specs, 8, &n, err, sizeof err), RIG_ERR_ARG);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "c.json:1:26: a?b: unknown key"));
	assert_int_equal(spec_parse(&specs[0], &tmpl, "jbd,cel\nls=4", err, sizeof err), RIG_ERR_ARG);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "--bms jbd,cel?ls=4: cel?ls: unknown key"));
	assert_null(strchr(specs[0].origin, '\n'));

	/* A quirk's key is only tried when the emulator starts: its error, too. */
	{
		struct host_loop *loop = host_loop_new_virtual();
		struct sim_mem *mem = NULL;
		struct sim *sim = NULL;
		static struct sim_cfg cfg;

		assert_int_equal(spec_parse(&specs[0], &tmpl, "jbd,quirk.a\nb=1", err, sizeof err), RIG_OK);
		assert_int_equal(spec_resolve(&specs[0], err, sizeof err), RIG_OK);
		assert_non_null(loop);
		assert_int_equal(sim_mem_new(&mem), RIG_OK);
		cfg.unit[0] = specs[0].unit;
		cfg.units = 1;
		cfg.link = specs[0].link;
		cfg.transport = sim_mem_emulator(mem);
		assert_int_equal(sim_open(&sim, loop, &cfg, err, sizeof err), RIG_ERR_ARG);
		assert_null(strchr(err, '\n'));
		assert_non_null(strstr(err, "unknown jbd quirk \"a?b\""));
		sim_mem_free(mem);
		host_loop_free(loop);
	}
}

static void json_where_walks_paths(void **state)
{
	const char *text = "{\"a\": {\"b\": [1, {\"c\": \"x,}]\"}, [2, 3]]}, \"d\": 4}";
	struct json_step p1[] = { { "a", 0 }, { "b", 0 }, { NULL, 2 }, { NULL, 1 } };
	struct json_step p2[] = { { "d", 0 } };
	struct json_step p3[] = { { "a", 0 }, { "zz", 0 } };
	unsigned line, col;

	(void)state;
	assert_true(json_where(text, p1, 4, 0, &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 36);
	assert_true(json_where(text, p2, 1, 1, &line, &col));
	assert_int_equal(col, 42);
	assert_false(json_where(text, p3, 2, 0, &line, &col));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(bms_strings_set_keys_over_the_template, setup),
		cmocka_unit_test_setup(config_errors_are_located, setup),
		cmocka_unit_test_setup(config_builds_specs_and_buses, setup),
		cmocka_unit_test_setup(errors_quoting_a_newline_stay_one_line, setup),
		cmocka_unit_test(json_where_walks_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
