/* Scenario files: every key and event kind read into the right numbers, times, profiles, and
 * every error located at its line and column (inline cases and the golden tests/scenarios/bad). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/hil/scenario_judge.h"

#define BAD_DIR "tests/scenarios/bad"

static struct scenario sc;      /* ~400 KB: not on the stack */
static struct scenario_judge sj;   /* the file's dut and expect */
static char err[1024];

static const char *write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/bmsrig-scen-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return write_file(path, text);
}

static rig_rc load_text(const char *text, long long seed_override)
{
	const char *path = write_tmp(text);
	rig_rc rc = scenario_judge_load(&sc, &sj, path, seed_override, err, sizeof err);

	unlink(path);
	return rc;
}

/* Every top-level key, every event kind, every expectation form. */
static const char everything[] =
	"{\n"
	"  \"bmsrig_scenario\": 1,\n"
	"  \"name\": \"everything\",\n"
	"  \"description\": \"every key and every event kind\",\n"
	"  \"seed\": 42,\n"
	"  \"duration\": \"1h\",\n"
	"  \"pack\": {\"chemistry\": \"nmc\", \"cells\": 8, \"capacity_ah\": 50, \"soc_pct\": 60, \"temp_c\": 20,\n"
	"           \"ntc\": 3, \"self_discharge_pct_month\": 3,\n"
	"           \"spread\": {\"soc_pct\": 1, \"capacity\": 0.01, \"resistance\": 0.05}},\n"
	"  \"bms\": {\"protocol\": \"jbd-ble\", \"variant\": \"default\", \"address\": 0, \"quirks\": {\"latency_ms\": 60},\n"
	"          \"settings\": {\"cell_ov_mv\": 4200, \"pack_ov_mv\": 33600, \"chg_oc_ma\": 50000,\n"
	"                       \"dsg_oc_ma\": -60000, \"chg_ot_c\": 50, \"dsg_ut_c\": -20.5,\n"
	"                       \"balance_start_mv\": 3900, \"0x2B\": 20, \"0x10\": 5000, \"0x29\": -5000}},\n"
	"  \"link\": {\"baud\": 9600, \"ble\": {\"chunk_bytes\": 182, \"interval_ms\": 45, \"connect_ms\": 2000, \"queue_ms\": 2500,\n"
	"                                  \"drop_first\": 0, \"password\": \"123456\"}},\n"
	"  \"dut\": {\"kind\": \"host\", \"proto\": \"jbd-ble\", \"poll\": \"2s\", \"timeout\": \"1500ms\", \"retries\": 2,\n"
	"          \"address\": 0, \"step\": \"10ms\", \"relay_cuts_current\": false, \"policy_fets\": true,\n"
	"          \"policy\": {\"cell_max_mv\": 4200, \"cell_min_mv\": 3000, \"cell_hyst_mv\": 40, \"temp_max_c\": 50,\n"
	"                     \"temp_min_c\": -5, \"temp_hyst_c\": 2.5, \"comm_fail_max\": 5}},\n"
	"  \"timeline\": [\n"
	"    {\"at\": \"0\", \"do\": \"current\", \"a\": -20, \"ramp\": \"10s\", \"id\": \"start\"},\n"
	"    {\"at\": \"1s\", \"do\": \"power\", \"w\": -500},\n"
	"    {\"at\": \"2s\", \"do\": \"profile\", \"steps\": [[\"0\", -10], [\"30s\", 5], [\"30s\", 7], [\"1m\", 0]]},\n"
	"    {\"at\": \"3s\", \"do\": \"ambient\", \"c\": 35, \"ramp\": \"5m\"},\n"
	"    {\"at\": \"4s\", \"do\": \"drift\", \"cell\": 2, \"capacity_pct\": -20, \"resistance_pct\": 50, \"leak_ma\": 5},\n"
	"    {\"at\": \"5s\", \"do\": \"cell_soc\", \"cell\": 3, \"soc_pct\": 10},\n"
	"    {\"at\": \"6s\", \"do\": \"force_cell\", \"cell\": 8, \"mv\": 4300, \"for\": \"30s\"},\n"
	"    {\"at\": \"7s\", \"do\": \"open_wire\", \"cell\": 1},\n"
	"    {\"at\": \"8s\", \"do\": \"ntc_open\", \"ntc\": 3},\n"
	"    {\"at\": \"9s\", \"do\": \"ntc_short\", \"ntc\": 1, \"for\": \"1m\"},\n"
	"    {\"at\": \"10s\", \"do\": \"short_circuit\"},\n"
	"    {\"at\": \"11s\", \"do\": \"bms_reboot\"},\n"
	"    {\"at\": \"12s\", \"do\": \"settings_reset\"},\n"
	"    {\"at\": \"13s\", \"do\": \"fets\", \"chg\": false, \"dsg\": true},\n"
	"    {\"at\": \"14s\", \"do\": \"quirk\", \"name\": \"latency_ms\", \"value\": 100},\n"
	"    {\"at\": \"15s\", \"do\": \"no_reply\", \"rate\": 0.5, \"for\": \"10s\"},\n"
	"    {\"at\": \"16s\", \"do\": \"late_reply\", \"ms\": 1200},\n"
	"    {\"at\": \"17s\", \"do\": \"corrupt_checksum\"},\n"
	"    {\"at\": \"18s\", \"do\": \"truncate_frame\", \"bytes\": 5},\n"
	"    {\"at\": \"19s\", \"do\": \"oversize_frame\"},\n"
	"    {\"at\": \"20s\", \"do\": \"garbage\", \"bytes\": 64, \"rate\": 0.1},\n"
	"    {\"at\": \"21s\", \"do\": \"drop_bytes\", \"bytes\": 2},\n"
	"    {\"at\": \"22s\", \"do\": \"dup_bytes\"},\n"
	"    {\"at\": \"23s\", \"do\": \"baud_mismatch\", \"baud\": 115200},\n"
	"    {\"at\": \"24s\", \"do\": \"ble_disconnect\", \"reconnect\": \"5s\"},\n"
	"    {\"at\": \"25s\", \"do\": \"clear_faults\"},\n"
	"    {\"at\": \"25s\", \"do\": \"mark\", \"id\": \"faults_cleared\"}\n"
	"  ],\n"
	"  \"expect\": [\n"
	"    {\"name\": \"at\", \"at\": \"30s\", \"that\": \"dut.relay == 1\", \"tolerance\": 0.5},\n"
	"    {\"name\": \"within an event\", \"within\": \"10s\", \"after\": \"faults_cleared\", \"that\": \"dut.ok\"},\n"
	"    {\"name\": \"within a condition\", \"within\": \"5s\", \"after\": \"truth.prot & prot.cell_ov\",\n"
	"     \"that\": \"dut.relay == 0\"},\n"
	"    {\"name\": \"always\", \"always\": \"all cells: dut.cell_mv > 0\", \"from\": \"1m\", \"until\": \"50m\"},\n"
	"    {\"name\": \"never\", \"never\": \"dut.comm_fail > 3\"}\n"
	"  ]\n"
	"}\n";

/* Neutral setting names work for every protocol, in the setting's own unit, and apply. */
static void neutral_settings_load_for_any_protocol(void **state)
{
	struct model m;
	struct bms b;

	(void)state;
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": "
	                           "{\"protocol\": \"daly\", \"settings\": {\"cell_ovp_mV\": 3600, "
	                           "\"dsg_oc_mA\": 60000, \"cell_count\": 4}}}", -1), RIG_OK);
	assert_int_equal(sc.n_settings, 3);
	assert_int_equal(sc.setting[0].reg, 0);
	assert_int_equal(sc.setting[0].id, BMS_SET_CELL_OVP);
	assert_int_equal(sc.setting[0].value, 3600);
	assert_int_equal(sc.setting[1].id, BMS_SET_DSG_OC);
	assert_int_equal(sc.setting[1].value, 60000);
	assert_int_equal(model_init(&m, &sc.bms.unit.model), RIG_OK);
	assert_int_equal(bms_init(&b, &m), RIG_OK);
	for (unsigned i = 0; i < sc.n_settings; i++)
		assert_int_equal(scen_setting_apply(&sc.setting[i], &b), RIG_OK);
	assert_int_equal(b.set.cell_ovp_mV, 3600);
	assert_int_equal(b.set.dsg_oc_mA, 60000);
	scenario_free(&sc);
	/* Twice is refused, as a register is. */
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": "
	                           "{\"settings\": {\"cell_ovp_mV\": 3600, \"cell_ovp_mV\": 3500}}}", -1),
	                 RIG_ERR_ARG);
	/* The inverter limits' settings load the same way, range-checked. */
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": "
	                           "{\"settings\": {\"max_charge_mA\": 30000, \"soc_clamp\": 1, "
	                           "\"charge_taper_start_mV\": 3400}}}", -1), RIG_OK);
	assert_int_equal(model_init(&m, &sc.bms.unit.model), RIG_OK);
	assert_int_equal(bms_init(&b, &m), RIG_OK);
	for (unsigned i = 0; i < sc.n_settings; i++)
		assert_int_equal(scen_setting_apply(&sc.setting[i], &b), RIG_OK);
	assert_int_equal(b.set.max_charge_mA, 30000);
	assert_int_equal(b.set.soc_clamp, 1);
	assert_int_equal(b.set.charge_taper_start_mV, 3400);
	scenario_free(&sc);
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": "
	                           "{\"settings\": {\"soc_clamp\": 2}}}", -1), RIG_ERR_ARG);
}

static void everything_loads_with_the_right_numbers(void **state)
{
	const struct scen_event *e = sc.event;
	const struct model_cfg *m = &sc.bms.unit.model;
	static const struct scen_setting settings[] = {
		{ 0x24, 4200, 0 }, { 0x20, 3360, 0 }, { 0x28, 5000, 0 }, { 0x29, (uint16_t)-6000, 0 }, { 0x18, 3231, 0 },
		{ 0x1E, 2526, 0 }, { 0x2A, 3900, 0 }, { 0x2B, 20, 0 }, { 0x10, 5000, 0 },
	};
	static const struct scen_point points[] = {
		{ 0, -10 }, { 30000, -10 }, { 30000, 5 }, { 30000, 7 }, { 60000, 7 }, { 60000, 0 }
	};
	unsigned i;

	(void)state;
	/* 0x29 appears twice (dsg_oc_ma and "0x29"): refused, then loaded without the second. */
	assert_int_equal(load_text(everything, -1), RIG_ERR_ARG);
	assert_non_null(strstr(err, ":13:"));
	assert_non_null(strstr(err, "bms.settings.0x29: expected each register once, got 0x29 twice"));
	{
		static char text[sizeof everything];
		char *p;

		strcpy(text, everything);
		p = strstr(text, ", \"0x29\": -5000");
		memmove(p, p + strlen(", \"0x29\": -5000"), strlen(p + strlen(", \"0x29\": -5000")) + 1);
		assert_int_equal(load_text(text, -1), RIG_OK);
	}
	assert_string_equal(sc.name, "everything");
	assert_string_equal(sc.description, "every key and every event kind");
	assert_int_equal(sc.seed, 42);
	assert_int_equal(sc.duration_ms, 3600000);
	/* the pack */
	assert_int_equal(m->chem, MODEL_CHEM_NMC);
	assert_int_equal(m->cells, 8);
	assert_true(m->capacity_Ah == 50 && m->soc_pct == 60 && m->ambient_C == 20);
	assert_int_equal(m->ntc_count, 3);
	assert_int_equal(m->seed, 42);
	assert_true(m->self_discharge_pct_month == 3 && m->soc_sigma_pct == 1);
	assert_true(m->capacity_sigma == 0.01 && m->resistance_sigma == 0.05);
	/* the BMS and its link */
	assert_string_equal(sc.bms.kind->name, "jbd-ble");
	assert_non_null(sc.bms.unit.ops);                        /* resolved */
	assert_int_equal(sc.bms.unit.n_quirks, 1);
	assert_string_equal(sc.bms.unit.quirk[0].key, "latency_ms");
	assert_string_equal(sc.bms.unit.quirk[0].value, "60");
	assert_int_equal(sc.n_settings, sizeof settings / sizeof settings[0]);
	for (i = 0; i < sc.n_settings; i++) {
		assert_int_equal(sc.setting[i].reg, settings[i].reg);
		assert_int_equal(sc.setting[i].value, settings[i].value);
	}
	assert_int_equal(sc.bms.baud, 9600);
	assert_int_equal(sc.bms.link.kind, LINK_BLE);
	assert_int_equal(sc.bms.link.chunk_bytes, 182);
	assert_int_equal(sc.bms.link.interval_ms, 45);
	assert_int_equal(sc.bms.link.connect_ms, 2000);
	assert_int_equal(sc.bms.link.drop_first, 0);
	assert_int_equal(sc.bms.link.queue_ms, 2500);
	assert_string_equal(sc.bms.link.password, "123456");
	assert_int_equal(sc.bms.link.seed, 42);
	/* the DUT */
	assert_int_equal(sj.dut.fw.proto, FW_PROTO_JBD_BLE);
	assert_int_equal(sj.dut.fw.client.poll_ms, 2000);
	assert_int_equal(sj.dut.fw.client.timeout_ms, 1500);
	assert_int_equal(sj.dut.fw.client.retries, 2);
	assert_int_equal(sj.dut.fw.client.address, 0);
	assert_int_equal(sj.dut.step_ms, 10);
	assert_int_equal(sj.dut.relay_cuts_current, 0);
	assert_int_equal(sj.dut.fw.policy_drives_fets, 1);
	assert_int_equal(sj.dut.fw.policy.cell_max_mV, 4200);
	assert_int_equal(sj.dut.fw.policy.cell_min_mV, 3000);
	assert_int_equal(sj.dut.fw.policy.cell_hyst_mV, 40);
	assert_int_equal(sj.dut.fw.policy.temp_max_dK, 3231);
	assert_int_equal(sj.dut.fw.policy.temp_min_dK, 2681);
	assert_int_equal(sj.dut.fw.policy.temp_hyst_dK, 25);
	assert_int_equal(sj.dut.fw.policy.comm_fail_max, 5);
	/* the timeline */
	assert_int_equal(sc.n_events, 27);
	for (i = 0; i < sc.n_events; i++)
		assert_int_equal(e[i].line, 21 + i);
	assert_int_equal(e[0].kind, SCEN_EV_CURRENT);
	assert_true(e[0].value == -20);
	assert_int_equal(e[0].ramp_ms, 10000);
	assert_string_equal(e[0].id, "start");
	assert_int_equal(e[0].cell, -1);
	assert_true(e[1].kind == SCEN_EV_POWER && e[1].value == -500 && e[1].at_ms == 1000);
	assert_int_equal(e[2].kind, SCEN_EV_PROFILE);
	assert_int_equal(e[2].first, 0);
	assert_int_equal(e[2].count, 6);
	assert_int_equal(sc.n_points, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(sc.point[i].t_ms, points[i].t_ms);
		assert_true(sc.point[i].value == points[i].value);
	}
	assert_true(e[3].kind == SCEN_EV_AMBIENT && e[3].value == 35 && e[3].ramp_ms == 300000);
	assert_true(e[4].kind == SCEN_EV_DRIFT && e[4].cell == 1);
	assert_true(e[4].capacity_pct == -20 && e[4].resistance_pct == 50 && e[4].leak_mA == 5);
	assert_true(e[5].kind == SCEN_EV_CELL_SOC && e[5].cell == 2 && e[5].value == 10);
	assert_true(e[6].kind == SCEN_EV_FORCE_CELL && e[6].cell == 7 && e[6].value == 4300 && e[6].for_ms == 30000);
	assert_true(e[7].kind == SCEN_EV_OPEN_WIRE && e[7].cell == 0 && e[7].ntc == -1);
	assert_true(e[8].kind == SCEN_EV_NTC_OPEN && e[8].ntc == 2);
	assert_true(e[9].kind == SCEN_EV_NTC_SHORT && e[9].ntc == 0 && e[9].for_ms == 60000);
	assert_true(e[10].kind == SCEN_EV_SHORT_CIRCUIT && e[10].value == -1000 && e[10].for_ms == 500);
	assert_int_equal(e[11].kind, SCEN_EV_BMS_REBOOT);
	assert_int_equal(e[12].kind, SCEN_EV_SETTINGS_RESET);
	assert_true(e[13].kind == SCEN_EV_FETS && e[13].chg == 0 && e[13].dsg == 1);
	assert_int_equal(e[14].kind, SCEN_EV_QUIRK);
	assert_string_equal(e[14].text[0], "latency_ms");
	assert_string_equal(e[14].text[1], "100");
	for (i = 15; i <= 23; i++) {
		assert_int_equal(e[i].kind, SCEN_EV_WIRE_FAULT);
		assert_int_equal(e[i].fault, (enum wire_fault_kind)(i - 15));
	}
	assert_true(e[15].rate == 0.5 && e[15].for_ms == 10000 && e[15].param == 0);
	assert_true(e[16].rate == 1 && e[16].param == 1200);
	assert_int_equal(e[18].param, 5);
	assert_true(e[20].param == 64 && e[20].rate == 0.1);
	assert_int_equal(e[21].param, 2);
	assert_int_equal(e[23].param, 115200);
	assert_true(e[24].kind == SCEN_EV_BLE_DISCONNECT && e[24].reconnect_ms == 5000);
	assert_int_equal(e[25].kind, SCEN_EV_CLEAR_FAULTS);
	assert_true(e[26].kind == SCEN_EV_MARK && e[26].at_ms == 25000);
	assert_string_equal(e[26].id, "faults_cleared");
	/* the expectations */
	assert_int_equal(sj.n_expect, 5);
	assert_int_equal(sj.expect[0].form, EXPECT_AT);
	assert_int_equal(sj.expect[0].at_ms, 30000);
	assert_true(sj.expect[0].tolerance == 0.5);
	assert_string_equal(sj.expect[0].that.text, "dut.relay == 1");
	assert_int_equal(sj.expect[1].form, EXPECT_WITHIN);
	assert_int_equal(sj.expect[1].within_ms, 10000);
	assert_int_equal(sj.expect[1].after_event, 26);
	assert_int_equal(sj.expect[2].after_event, -1);
	assert_string_equal(sj.expect[2].after.text, "truth.prot & prot.cell_ov");
	assert_true(sj.expect[2].after.n_nodes > 0);
	assert_int_equal(sj.expect[3].form, EXPECT_ALWAYS);
	assert_int_equal(sj.expect[3].from_ms, 60000);
	assert_int_equal(sj.expect[3].until_ms, 3000000);
	assert_int_equal(sj.expect[4].form, EXPECT_NEVER);
	assert_int_equal(sj.expect[4].until_ms, 0);
	assert_true(sj.expect[4].tolerance == 0);
	scenario_free(&sc);
	assert_null(sc.point);
	scenario_free(&sc);                                       /* twice is harmless */
}

static void defaults_fill_what_the_file_leaves_out(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"m\", \"duration\": \"1m\"}", -1), RIG_OK);
	assert_int_equal(sc.seed, 1);
	assert_string_equal(sc.bms.kind->name, "jbd");
	assert_int_equal(sc.bms.unit.model.cells, 4);
	assert_true(sc.bms.unit.model.soc_pct == 50);          /* not spec_defaults' 80 */
	assert_true(sc.bms.unit.model.capacity_Ah == 100);
	assert_int_equal(sc.bms.unit.model.ntc_count, 2);
	assert_int_equal(sc.bms.baud, 0);                      /* the protocol's own */
	assert_non_null(sc.bms.unit.ops);
	assert_int_equal(sj.dut.fw.proto, FW_PROTO_JBD);
	assert_int_equal(sj.dut.fw.client.poll_ms, 1000);
	assert_int_equal(sj.dut.fw.client.timeout_ms, rig_fw_protos[FW_PROTO_JBD].timeout_ms);
	assert_int_equal(sj.dut.fw.client.retries, 3);
	assert_int_equal(sj.dut.step_ms, 5);
	assert_int_equal(sj.dut.relay_cuts_current, 1);
	assert_int_equal(sj.dut.fw.policy_drives_fets, 0);
	assert_int_equal(sj.dut.fw.policy.cell_max_mV, 3650);
	assert_int_equal(sc.n_events + sj.n_expect + sc.n_settings, 0);
	scenario_free(&sc);

	/* A Bluetooth kind: its own timeout, the kind's quirk, the variant's, and the link's
	 * connect time as the reconnect default. */
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"b\", \"duration\": \"1m\", \"bms\": "
	                           "{\"protocol\": \"daly-ble\", \"address\": 3}, \"timeline\": [{\"at\": \"1s\", "
	                           "\"do\": \"ble_disconnect\"}]}", -1), RIG_OK);
	assert_int_equal(sj.dut.fw.proto, FW_PROTO_DALY_BLE);
	assert_int_equal(sj.dut.fw.client.timeout_ms, rig_fw_protos[FW_PROTO_DALY_BLE].timeout_ms);
	assert_int_equal(sj.dut.fw.client.address, 3);
	assert_int_equal(sc.bms.unit.n_quirks, 1);
	assert_string_equal(sc.bms.unit.quirk[0].key, "all_cell_frames");
	assert_int_equal(sc.event[0].reconnect_ms, sc.bms.link.connect_ms);
	assert_true(sc.event[0].reconnect_ms > 0);
	scenario_free(&sc);
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"v\", \"duration\": \"1m\", \"bms\": "
	                           "{\"protocol\": \"jk-ble\", \"variant\": \"JK04\"}}", -1), RIG_OK);
	assert_string_equal(sc.bms.unit.quirk[0].key, "layout");
	assert_string_equal(sc.bms.unit.quirk[0].value, "JK04");
	scenario_free(&sc);
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"v\", \"duration\": \"1m\", \"bms\": "
	                           "{\"variant\": \"v8\"}}", -1), RIG_OK);
	assert_string_equal(sc.bms.unit.quirk[0].key, "basic_ext");
	scenario_free(&sc);
}

static void times_parse_to_whole_milliseconds(void **state)
{
	static const struct { const char *text; uint32_t ms; } good[] = {
		{ "0", 0 }, { "0s", 0 }, { "250ms", 250 }, { "2s", 2000 }, { "1.5s", 1500 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "1h30m", 5400000 }, { "1m30s500ms", 90500 }, { "0.001s", 1 },
		{ "1.50000000000s", 1500 }, { "0.5h", 1800000 }, { "1176h", 4233600000u }, { "49000ms", 49000 },
	};
	static const char *const bad[] = {
		"", "s", "1", "10", "1.s", ".5s", "1.5", "-1s", "1 s", "1S", "30m1h", "1s1s", "1ms1s", "0.0005s",
		"1176h1ms", "1177h", "99999999999ms", "1.0000000001s", "1h 30m", "1d", "1sx", "+1s",
	};
	unsigned i;
	uint32_t ms;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ms = 12345;
		if (scenario_parse_time(good[i].text, &ms) != RIG_OK || ms != good[i].ms)
			fail_msg("\"%s\": got %u", good[i].text, (unsigned)ms);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (scenario_parse_time(bad[i], &ms) == RIG_OK)
			fail_msg("\"%s\" read as %u ms", bad[i], (unsigned)ms);
}

static void steps_become_points_that_interpolate_to_steps(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"bmsrig_scenario\": 1, \"name\": \"p\", \"duration\": \"1h\", \"timeline\": [\n"
	                           " {\"at\": \"0\", \"do\": \"profile\", \"steps\": [[\"0\", 1]]},\n"
	                           " {\"at\": \"1m\", \"do\": \"profile\", \"steps\": [[\"0\", 2], [\"0\", 3], [\"1s\", 4]]}]}",
	                           -1), RIG_OK);
	assert_int_equal(sc.event[0].first, 0);
	assert_int_equal(sc.event[0].count, 1);
	assert_int_equal(sc.event[1].first, 1);
	assert_int_equal(sc.event[1].count, 4);             /* (0,2) (0,3) (1000,3) (1000,4) */
	assert_true(sc.point[1].t_ms == 0 && sc.point[1].value == 2);
	assert_true(sc.point[2].t_ms == 0 && sc.point[2].value == 3);
	assert_true(sc.point[3].t_ms == 1000 && sc.point[3].value == 3);
	assert_true(sc.point[4].t_ms == 1000 && sc.point[4].value == 4);
	scenario_free(&sc);
}

static void csv_profiles_are_read_beside_the_scenario(void **state)
{
	char dir[] = "/tmp/bmsrig-scen-dir-XXXXXX", path[128], csv[128], want[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.json", dir);
	snprintf(csv, sizeof csv, "%s/drive.csv", dir);
	write_file(path, "{\"bmsrig_scenario\": 1, \"name\": \"c\", \"duration\": \"1h\", \"timeline\": [\n"
	                 " {\"at\": \"0\", \"do\": \"profile\", \"csv\": \"drive.csv\"}]}");
	write_file(csv, "time_s,current_a\n# a drive\n\n0, -10\r\n0.5,-20.5\n  2 , 3\n2,4\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_OK);
	assert_int_equal(sc.event[0].count, 4);
	assert_true(sc.point[0].t_ms == 0 && sc.point[0].value == -10);
	assert_true(sc.point[1].t_ms == 500 && sc.point[1].value == -20.5);
	assert_true(sc.point[2].t_ms == 2000 && sc.point[2].value == 3);
	assert_true(sc.point[3].t_ms == 2000 && sc.point[3].value == 4);
	scenario_free(&sc);

	/* Errors name the CSV file and its line. */
	write_file(csv, "0,1\n5,2\n4,3\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s:3: expected a time at or after 5s (the row before), got \"4,3\"", csv);
	assert_string_equal(err, want);
	write_file(csv, "# no header\n0,1\n1,2,3\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s:3: expected a row time_s,current_a (two numbers), got \"1,2,3\"", csv);
	assert_string_equal(err, want);
	write_file(csv, "1.5\n");                            /* numeric: no header, a bad row */
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s:1: expected a row time_s,current_a (two numbers), got \"1.5\"", csv);
	assert_string_equal(err, want);
	write_file(csv, "t,a\n1,2500\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s:2: expected a current of -2000..2000 A, got \"1,2500\"", csv);
	assert_string_equal(err, want);
	write_file(csv, "time_s,current_a\n# nothing\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s: expected at least one row time_s,current_a", csv);
	assert_string_equal(err, want);
	unlink(csv);
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_IO);
	snprintf(want, sizeof want, "%s:2:38: timeline[0].csv: %s: cannot open: No such file or directory", path, csv);
	assert_string_equal(err, want);
	assert_null(sc.point);                                 /* freed on error */
	unlink(path);
	rmdir(dir);
}

/* A profile reaches only files in the scenario's folder tree, and a bad row is quoted short
 * and escaped: a path to a secret must neither be read nor echoed. */
static void csv_profiles_stay_inside_the_scenario_folder(void **state)
{
	static const struct { const char *csv; const char *why; } refused[] = {
		{ "/etc/passwd", "expected a path inside the scenario's folder (relative, no \"..\" above it), got \"/etc/passwd\"" },
		{ "../../x.csv", "expected a path inside the scenario's folder (relative, no \"..\" above it), got \"../../x.csv\"" },
		{ "sub/../../x.csv", "expected a path inside the scenario's folder (relative, no \"..\" above it), got \"sub/../../x.csv\"" },
		{ "out.csv", "expected a file inside the scenario's folder, got \"out.csv\" (a symlink to a file outside it)" },
	};
	char top[] = "/tmp/bmsrig-scen-top-XXXXXX", dir[128], sub[160], path[192], csv[192], outside[128];
	char want[512], json[256];
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof dir, "%s/scen", top);
	snprintf(sub, sizeof sub, "%s/sub", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof path, "%s/s.json", dir);
	snprintf(outside, sizeof outside, "%s/secret.csv", top);
	write_file(outside, "0,1\n");
	snprintf(csv, sizeof csv, "%s/out.csv", dir);
	assert_int_equal(symlink(outside, csv), 0);
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		snprintf(json, sizeof json, "{\"bmsrig_scenario\": 1, \"name\": \"c\", \"duration\": \"1h\", \"timeline\": [\n"
		         " {\"at\": \"0\", \"do\": \"profile\", \"csv\": \"%s\"}]}", refused[i].csv);
		write_file(path, json);
		assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
		snprintf(want, sizeof want, "%s:2:38: timeline[0].csv: %s", path, refused[i].why);
		assert_string_equal(err, want);
	}
	unlink(csv);

	/* Inside, even through "..": read. */
	snprintf(csv, sizeof csv, "%s/in.csv", dir);
	write_file(csv, "0,1\n");
	write_file(path, "{\"bmsrig_scenario\": 1, \"name\": \"c\", \"duration\": \"1h\", \"timeline\": [\n"
	                 " {\"at\": \"0\", \"do\": \"profile\", \"csv\": \"sub/../in.csv\"}]}");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_OK);
	assert_int_equal(sc.event[0].count, 1);
	scenario_free(&sc);

	/* A bad row: 16 bytes at most, control bytes and quotes escaped. */
	write_file(csv, "time,a\nroot:$6$abcdefghijklmnopqrstuvwxyz:19000\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s/sub/../in.csv:2: expected a row time_s,current_a (two numbers), got \"root:$6$abcdefgh...\"", dir);
	assert_string_equal(err, want);
	write_file(csv, "0,1\n1,\"x\"\t\x1b[2J\n");
	assert_int_equal(scenario_judge_load(&sc, &sj, path, -1, err, sizeof err), RIG_ERR_ARG);
	snprintf(want, sizeof want, "%s/sub/../in.csv:2: expected a row time_s,current_a (two numbers), got \"1,\\x22x\\x22\\x09\\x1B[2J\"", dir);
	assert_string_equal(err, want);

	unlink(csv);
	unlink(path);
	unlink(outside);
	rmdir(sub);
	rmdir(dir);
	rmdir(top);
}

static void seed_override_replaces_every_seed(void **state)
{
	static const char text[] = "{\"bmsrig_scenario\": 1, \"name\": \"s\", \"seed\": 7, \"duration\": \"1m\", "
	                           "\"bms\": {\"protocol\": \"jk-ble\"}}";

	(void)state;
	assert_int_equal(load_text(text, -1), RIG_OK);
	assert_int_equal(sc.seed, 7);
	assert_int_equal(sc.bms.unit.model.seed, 7);
	assert_int_equal(sc.bms.link.seed, 7);
	scenario_free(&sc);
	assert_int_equal(load_text(text, 4294967295LL), RIG_OK);
	assert_int_equal(sc.seed, 4294967295u);
	assert_int_equal(sc.bms.unit.model.seed, 4294967295u);
	assert_int_equal(sc.bms.link.seed, 4294967295u);
	scenario_free(&sc);
	assert_int_equal(load_text(text, 0), RIG_OK);
	assert_int_equal(sc.seed, 0);
	scenario_free(&sc);
	assert_int_equal(load_text(text, 4294967296LL), RIG_ERR_ARG);
	assert_non_null(strstr(err, "seed override: expected 0..4294967295"));
}

/* One case per error class, with the exact line and column. */
static void errors_are_located(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		/* syntax */
		{ "{\"bmsrig_scenario\": 1,\n \"name\": \"x\" \"duration\": \"1m\"}", ":2:14: expected valid JSON" },
		{ "[1]", ":1:1: expected an object (a bmsrig scenario), got an array" },
		{ "{\"name\": \"x\"}", ":1:1: expected key \"bmsrig_scenario\": 1 (the format version)" },
		/* types and ranges */
		{ "{\"bmsrig_scenario\": 1, \"name\": 5, \"duration\": \"1m\"}",
		  ":1:32: name: expected a string of 1..95 characters, got a number" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"\", \"duration\": \"1m\"}",
		  ":1:32: name: expected a string of 1..95 characters, got \"\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": 60}",
		  ":1:49: duration: expected a time such as \"250ms\", \"2s\" or \"1h30m\", got a number" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"0\"}",
		  ":1:49: duration: expected a time of at least 1ms, got \"0\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"seed\": -1, \"duration\": \"1m\"}",
		  ":1:45: seed: expected an integer 0..4294967295, got \"-1\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"pack\": {\"cells\": 40}}",
		  ":1:73: pack.cells: expected an integer 1..32, got \"40\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"pack\": {\"spread\": {\"capacity\": 1e9}}}",
		  ":1:87: pack.spread.capacity: expected a number 0..0.5, got \"1e9\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"pack\": {\"chemistry\": \"lead\"}}",
		  ":1:77: pack.chemistry: expected one of lfp, nmc, got \"lead\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"pack\": []}",
		  ":1:63: pack: expected an object, got an array" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"dut\": {\"step\": \"200ms\"}}",
		  ":1:71: dut.step: expected a time 1ms..100ms, got \"200ms\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"dut\": {\"kind\": \"qemu\"}}",
		  ":1:71: dut.kind: expected \"host\" (the host build of the firmware core), got \"qemu\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"dut\": {\"proto\": \"modbus\"}}",
		  ":1:72: dut.proto: expected one of jbd, jbd-ble, daly, daly-ble, jk, jk-ble, deye-modbus, pylontech-rs485, pylontech-can, byd, jk-pb, thornwave, thornwave-x, got \"modbus\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"dut\": {\"policy\": {\"cell_min_mv\": 3700}}}",
		  ":1:89: dut.policy.cell_min_mv: expected cell_min_mv (3700) below cell_max_mv (3650)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"dut\": {\"relay_cuts_current\": 1}}",
		  ":1:85: dut.relay_cuts_current: expected true or false, got a number" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"link\": {\"baud\": 12345}}",
		  ":1:72: link.baud: expected a standard rate such as 9600, got \"12345\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"protocol\": \"jk-ble\"},\n"
		  " \"link\": {\"ble\": {\"seed\": 3}}}",
		  ":2:19: link.ble.seed: unknown key (expected one of: chunk_bytes, interval_ms, connect_ms, drop_first, "
		  "disconnect_after_ms, disconnects_per_h, stuck_ms, notify_loss_pct, queue_ms, disconnect_on_close, "
		  "password, mac)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"protocol\": \"jk-ble\",\n"
		  " \"quirks\": {\"push_ms\": 10}}}",
		  ":2:24: bms.quirks.push_ms: expected 50..60000, got \"10\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"protocol\": \"daly\", \"address\": 40}}",
		  ":1:94: bms.address: expected an address daly accepts, got \"40\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"settings\": {\"0x48\": 1}}}",
		  ":1:76: bms.settings.0x48: unknown setting (expected a register \"0x10\"..\"0x47\" or one of: chg_ot_c" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"settings\": {\"pack_ov_mv\": 14605}}}",
		  ":1:90: bms.settings.pack_ov_mv: expected a multiple of 10 mV 0..655350, got \"14605\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"settings\": {\"0x2F\": 8}}}",
		  ":1:84: bms.settings.0x2F: expected 4 (pack.cells), got \"8\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"bms\": {\"settings\": {\"0x28\": -5}}}",
		  ":1:84: bms.settings.0x28: register 0x28: expected 1..32767, got -5" },
		/* the timeline */
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n 3]}",
		  ":2:2: timeline[0]: expected an object {\"at\": TIME, \"do\": KIND, ...}, got a number" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n {\"at\": \"1s\"}]}",
		  ":2:2: timeline[0]: expected key \"do\" (what happens)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n {\"do\": \"bms_reboot\"}]}",
		  ":2:2: timeline[0]: expected key \"at\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"mark\"}]}", ":2:2: timeline[0]: expected key \"id\" (a mark is a name for expectations)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"mark\", \"id\": \"a\"}, {\"at\": \"2s\", \"do\": \"mark\", \"id\": \"a\"}]}",
		  ":2:74: timeline[1].id: expected an id no other event has, got \"a\" (timeline[0] has it)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"mark\", \"id\": \"a b\"}]}",
		  ":2:35: timeline[0].id: expected an id of 1..31 letters, digits and _, got \"a b\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"drift\", \"cell\": 1}]}",
		  ":2:2: timeline[0]: expected at least one of the keys \"capacity_pct\", \"resistance_pct\", \"leak_ma\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"profile\", \"steps\": [[\"0\", 1]], \"csv\": \"a.csv\"}]}",
		  ":2:53: timeline[0].csv: expected either \"steps\" or \"csv\", not both" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"profile\"}]}", ":2:2: timeline[0]: expected key \"steps\" or \"csv\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"profile\", \"steps\": [[\"1s\", 1]]}]}",
		  ":2:43: timeline[0].steps[0][0]: expected the first step at \"0\", got \"1s\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"profile\", \"steps\": [[\"0\"]]}]}",
		  ":2:42: timeline[0].steps[0]: expected a step [\"TIME\", A], got an array" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"ramp\", \"a\": 1}]}", ":2:21: timeline[0].do: expected an event kind (current," },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"fets\", \"ramp\": \"1s\", \"chg\": true, \"dsg\": true}]}",
		  ":2:29: timeline[0].ramp: unknown key (expected one of: at, do, id, for, chg, dsg, bms)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"late_reply\"}]}", ":2:2: timeline[0]: expected key \"ms\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"garbage\", \"rate\": 2}]}",
		  ":2:40: timeline[0].rate: expected a number 0..1, got \"2\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"ntc_open\", \"ntc\": 3}]}",
		  ":2:40: timeline[0].ntc: expected a probe number 1..2 (pack.ntc), got \"3\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"quirk\", \"name\": \"sleepy\", \"value\": \"1\"}]}",
		  ":2:38: timeline[0].name: unknown jbd quirk \"sleepy\" (latency_ms, drop_after_idle_ms, factory_gate, basic_ext)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"timeline\": [\n"
		  " {\"at\": \"1s\", \"do\": \"short_circuit\", \"a\": 5}]}",
		  ":2:43: timeline[0].a: expected a number -100000..-1, got \"5\"" },
		/* expectations */
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n {\"name\": \"n\"}]}",
		  ":2:2: expect[0]: expected one of the keys \"at\", \"within\", \"always\", \"never\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"at\": \"2m\", \"that\": \"dut.ok\"}]}",
		  ":2:22: expect[0].at: expected a time at or before the end (duration 1m), got \"2m\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"always\": \"dut.ok\", \"from\": \"30s\", \"until\": \"20s\"}]}",
		  ":2:60: expect[0].until: expected a time after from (30s), got \"20s\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"never\": \"dut.ok\", \"from\": \"1m\"}]}",
		  ":2:43: expect[0].from: expected a time before the end (duration 1m), got \"1m\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"at\": \"1s\", \"that\": \"dut.ok\", \"from\": \"1s\"}]}",
		  ":2:46: expect[0].from: unknown key (expected one of: name, at, that, tolerance)" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"at\": \"1s\", \"that\": \"dut.ok\", \"tolerance\": -1}]}",
		  ":2:59: expect[0].tolerance: expected a number of at least 0, got \"-1\"" },
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"within\": \"1s\", \"that\": \"dut.ok\"}]}", ":2:2: expect[0]: expected key \"after\"" },
		/* the column of an expression error counts the escapes before it */
		{ "{\"bmsrig_scenario\": 1, \"name\": \"x\", \"duration\": \"1m\", \"expect\": [\n"
		  " {\"name\": \"n\", \"at\": \"1s\", \"that\": \"\\u0064ut.ok \\t== dut.rely\"}]}",
		  ":2:54: expect[0].that: unknown name `dut.rely`" },
	};
	char want[1024];
	unsigned i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *path = write_tmp(cases[i].text);
		rig_rc rc = scenario_judge_load(&sc, &sj, path, -1, err, sizeof err);

		unlink(path);
		snprintf(want, sizeof want, "%s%s", path, cases[i].want);
		if (rc != RIG_ERR_ARG || strncmp(err, want, strlen(want)) != 0) {
			print_message("case %u: rc %d, got\n  %s\nwant\n  %s...\n", i, rc, err, want);
			failed++;
		}
		assert_null(sc.point);
	}
	assert_int_equal(failed, 0);
	assert_int_equal(scenario_judge_load(&sc, &sj, "/nonexistent/s.json", -1, err, sizeof err), RIG_ERR_IO);
	assert_string_equal(err, "/nonexistent/s.json: cannot open: No such file or directory");
}

/* tests/scenarios/bad/NAME.json fails with exactly the line in NAME.expected. */
static void golden_bad_files_fail_as_recorded(void **state)
{
	DIR *d = opendir(BAD_DIR);
	struct dirent *de;
	unsigned n = 0, failed = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[512], exp_path[512], want[1024] = "";
		size_t len = strlen(de->d_name);
		FILE *f;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof path, "%s/%s", BAD_DIR, de->d_name);
		snprintf(exp_path, sizeof exp_path, "%s/%.*s.expected", BAD_DIR, (int)(len - 5), de->d_name);
		f = fopen(exp_path, "r");
		if (!f || !fgets(want, sizeof want, f)) {
			print_message("%s: no %s\n", path, exp_path);
			failed++;
		}
		if (f)
			fclose(f);
		want[strcspn(want, "\n")] = '\0';
		if (scenario_judge_load(&sc, &sj, path, -1, err, sizeof err) != RIG_ERR_ARG || strcmp(err, want)) {
			print_message("%s:\n  got  %s\n  want %s\n", path, err, want);
			failed++;
		}
		n++;
	}
	closedir(d);
	assert_true(n >= 12);
	assert_int_equal(failed, 0);
}

static void parse_without_files_and_event_names(void **state)
{
	static const char text[] = "{\"bmsrig_scenario\": 1, \"name\": \"f\", \"duration\": \"1m\", \"timeline\": "
	                           "[{\"at\": \"0\", \"do\": \"profile\", \"csv\": \"missing.csv\"}]}";

	(void)state;
	assert_int_equal(scenario_judge_parse(&sc, &sj, text, strlen(text), "mem.json", -1, 0, err, sizeof err), RIG_OK);
	assert_int_equal(sc.event[0].count, 0);
	assert_string_equal(sc.path, "mem.json");
	scenario_free(&sc);
	assert_int_equal(scenario_judge_parse(&sc, &sj, text, strlen(text), "mem.json", -1, 1, err, sizeof err), RIG_ERR_IO);
	assert_string_equal(err, "mem.json:1:104: timeline[0].csv: missing.csv: cannot open: No such file or directory");
	/* A NUL inside the text is not JSON. */
	assert_int_equal(scenario_judge_parse(&sc, &sj, "{\n \0}", 5, "nul.json", -1, 0, err, sizeof err), RIG_ERR_ARG);
	assert_string_equal(err, "nul.json:2:2: expected valid JSON");

	assert_string_equal(scen_ev_name(SCEN_EV_CURRENT), "current");
	assert_string_equal(scen_ev_name(SCEN_EV_NTC_OPEN), "ntc_open");
	assert_string_equal(scen_ev_name(SCEN_EV_SHORT_CIRCUIT), "short_circuit");
	assert_string_equal(scen_ev_name(SCEN_EV_WIRE_FAULT), "wire_fault");
	assert_string_equal(scen_ev_name(SCEN_EV_MARK), "mark");
	assert_string_equal(scen_ev_name(SCEN_EV_COUNT), "?");
}

/* The emulator reads the world alone: the judgement's keys are unknown to it, and the caller's
 * part puts them back in their place among the keys. */
static void world_alone_leaves_dut_and_expect_to_the_caller(void **state)
{
	static const char text[] = "{\"bmsrig_scenario\": 1, \"name\": \"w\", \"duration\": \"1m\",\n"
	                           " \"dut\": {\"poll\": \"2s\"}, \"expect\": []}";

	(void)state;
	assert_int_equal(scenario_parse(&sc, text, strlen(text), "w.json", -1, 0, err, sizeof err), RIG_ERR_ARG);
	assert_string_equal(err, "w.json:2:2: dut: unknown key (expected one of: bmsrig_scenario, name, description, "
	                         "seed, duration, pack, bms, link, timeline)");
	assert_int_equal(scenario_judge_parse(&sc, &sj, text, strlen(text), "w.json", -1, 0, err, sizeof err), RIG_OK);
	assert_int_equal(sj.dut.fw.client.poll_ms, 2000);
	assert_int_equal(sj.n_expect, 0);
	assert_int_equal(sc.duration_ms, 60000);
	scenario_free(&sc);
}

/* The rig as the inverter: `inverter` with its protocol's defaults, its keys checked per
 * protocol (poll for RS485 / Modbus, keepalive and send_keepalive for CAN), and each error
 * located at the value. */
static rig_rc inverter_text(const char *inv)
{
	static char text[1024];

	snprintf(text, sizeof text, "{\"bmsrig_scenario\": 1, \"name\": \"i\", \"duration\": \"1m\",\n"
	                            " \"inverter\": %s}", inv);
	return scenario_judge_parse(&sc, &sj, text, strlen(text), "i.json", -1, 0, err, sizeof err);
}

static void inverter_reads_with_its_protocols_keys(void **state)
{
	(void)state;
	/* None: the rig plays no inverter. */
	assert_int_equal(inverter_text("null"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:14: inverter: expected an object, got null");
	assert_int_equal(inverter_text("{\"protocol\": \"pylontech-can\"}"), RIG_OK);
	assert_int_equal(sj.inverter.on, 1);
	assert_int_equal(sj.inverter.proto, RIG_INV_PYLON_CAN);
	assert_int_equal(sj.inverter.keepalive, 1);
	assert_int_equal(sj.inverter.poll_ms, 1000);
	assert_int_equal(sj.inverter.timeout_ms, RIG_INVERTER_CAN_TIMEOUT_MS);
	scenario_free(&sc);
	assert_int_equal(inverter_text("{\"protocol\": \"pylontech-can\", \"keepalive\": \"2s\", "
	                               "\"send_keepalive\": false, \"timeout\": \"3s\"}"), RIG_OK);
	assert_int_equal(sj.inverter.keepalive, 0);
	assert_int_equal(sj.inverter.poll_ms, 2000);
	assert_int_equal(sj.inverter.timeout_ms, 3000);
	scenario_free(&sc);
	assert_int_equal(inverter_text("{\"protocol\": \"deye-modbus\", \"address\": 3, \"poll\": \"500ms\"}"), RIG_OK);
	assert_int_equal(sj.inverter.proto, RIG_INV_DEYE_MODBUS);
	assert_int_equal(sj.inverter.address, 3);
	assert_int_equal(sj.inverter.poll_ms, 500);
	assert_int_equal(sj.inverter.timeout_ms, RIG_INVERTER_TIMEOUT_MS);
	scenario_free(&sc);
	assert_int_equal(inverter_text("{\"protocol\": \"pylontech-rs485\", \"address\": 2}"), RIG_OK);
	assert_int_equal(sj.inverter.proto, RIG_INV_PYLON_RS485);
	assert_int_equal(sj.inverter.address, 2);
	scenario_free(&sc);
	/* A file without one. */
	assert_int_equal(scenario_judge_parse(&sc, &sj, "{\"bmsrig_scenario\": 1, \"name\": \"n\", \"duration\": \"1m\"}",
	                                      strlen("{\"bmsrig_scenario\": 1, \"name\": \"n\", \"duration\": \"1m\"}"),
	                                      "n.json", -1, 0, err, sizeof err), RIG_OK);
	assert_int_equal(sj.inverter.on, 0);
	scenario_free(&sc);

	assert_int_equal(inverter_text("{\"protocol\": \"sma-can\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:27: inverter.protocol: expected one of pylontech-can, pylontech-rs485, "
	                         "deye-modbus, got \"sma-can\"");
	assert_int_equal(inverter_text("{\"address\": 2}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:14: inverter: expected the key \"protocol\" (pylontech-can, pylontech-rs485 or deye-modbus)");
	assert_int_equal(inverter_text("{\"protocol\": \"pylontech-can\", \"poll\": \"1s\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:44: inverter.poll: unknown key (expected one of: protocol, keepalive, send_keepalive, timeout)");
	assert_int_equal(inverter_text("{\"protocol\": \"deye-modbus\", \"keepalive\": \"1s\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:42: inverter.keepalive: unknown key (expected one of: protocol, address, poll, timeout)");
	assert_int_equal(inverter_text("{\"protocol\": \"deye-modbus\", \"address\": 15}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:53: inverter.address: expected an address from 0 to 14 (0x0E) for deye-modbus, got \"15\"");
	assert_int_equal(inverter_text("{\"protocol\": \"pylontech-rs485\", \"poll\": \"10ms\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "i.json:2:54: inverter.poll: expected a time of at least 100ms, got \"10ms\"");
}

/* `bms` as an array: units on one line (a bus), the first's protocol for all, each its own
 * address and quirks, resolved like the first; errors located in the item. */
static rig_rc bus_text(const char *bms)
{
	static char text[1024];

	snprintf(text, sizeof text, "{\"bmsrig_scenario\": 1, \"name\": \"b\", \"duration\": \"1m\",\n"
	                            " \"bms\": %s}", bms);
	return scenario_judge_parse(&sc, &sj, text, strlen(text), "b.json", -1, 0, err, sizeof err);
}

static rig_rc bus_events(const char *events)
{
	static char text[1024];

	snprintf(text, sizeof text, "{\"bmsrig_scenario\": 1, \"name\": \"e\", \"duration\": \"1m\",\n"
	         " \"bms\": [{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 2}, {\"address\": 3}],\n"
	         " \"timeline\": [%s]}", events);
	return scenario_judge_parse(&sc, &sj, text, strlen(text), "e.json", -1, 0, err, sizeof err);
}

static void bms_array_is_units_on_one_line(void **state)
{
	(void)state;
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1, \"quirks\": {\"latency_ms\": 20}},"
	                          " {\"address\": 2}, {\"protocol\": \"daly\", \"address\": 3, \"quirks\": {\"echo\": 1}}]"),
	                 RIG_OK);
	assert_int_equal(sc.n_units, 3);
	assert_string_equal(sc.bms.kind->name, "daly");
	assert_int_equal(sc.bms.unit.address, 1);
	assert_int_equal(sc.unit[0].unit.address, 1);
	assert_int_equal(sc.unit[1].unit.address, 2);
	assert_int_equal(sc.unit[2].unit.address, 3);
	assert_ptr_equal(sc.unit[2].unit.ops, sc.bms.unit.ops);
	assert_non_null(sc.unit[1].unit.ops);
	assert_string_equal(sc.unit[2].kind->name, "daly");
	/* Each unit's own quirks, pointing into its own copy. */
	assert_int_equal(sc.unit[1].unit.n_quirks, sc.unit[0].unit.n_quirks - 1);
	assert_string_equal(sc.unit[2].unit.quirk[sc.unit[2].unit.n_quirks - 1].key, "echo");
	assert_ptr_equal(sc.unit[2].unit.quirk[0].key, sc.unit[2].quirk_text[0][0]);
	assert_int_equal(sc.unit[0].unit.model.cells, sc.unit[2].unit.model.cells);
	scenario_free(&sc);
	/* A later unit's own pack state and size. */
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 2, \"pack\": "
	                          "{\"soc_pct\": 20, \"capacity_ah\": 200, \"temp_c\": 5}}]"), RIG_OK);
	assert_true(sc.unit[1].unit.model.soc_pct == 20 && sc.unit[1].unit.model.capacity_Ah == 200);
	assert_true(sc.unit[0].unit.model.soc_pct != 20 && sc.unit[0].unit.model.capacity_Ah != 200);
	assert_true(sc.bms.unit.model.capacity_Ah == sc.unit[0].unit.model.capacity_Ah);
	scenario_free(&sc);
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 2, \"pack\": {\"cells\": 8}}]"),
	                 RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:70: bms[1].pack.cells: unknown key (expected one of: capacity_ah, soc_pct, temp_c)");
	/* An event of the pack or the BMS may name a unit; the load may not. */
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"cell_soc\", \"bms\": 3, \"cell\": 2, \"soc_pct\": 99},"
	                            " {\"at\": \"2s\", \"do\": \"quirk\", \"bms\": 2, \"name\": \"echo\", \"value\": 1},"
	                            " {\"at\": \"3s\", \"do\": \"bms_reboot\"}"), RIG_OK);
	assert_int_equal(sc.event[0].unit, 2);
	assert_int_equal(sc.event[1].unit, 1);
	assert_int_equal(sc.event[2].unit, 0);
	scenario_free(&sc);
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"cell_soc\", \"bms\": 4, \"cell\": 2, \"soc_pct\": 99}"),
	                 RIG_ERR_ARG);
	assert_string_equal(err, "e.json:3:53: timeline[0].bms: expected a unit of the bms array, 1..3, got \"4\"");
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"current\", \"a\": 1, \"bms\": 1}"), RIG_ERR_ARG);
	assert_string_equal(err, "e.json:3:53: timeline[0].bms: unknown key (expected one of: at, do, id, for, ramp, a)");
	/* A line fault on the inverter line; only the faults that hit what the device sends. */
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"garbage\", \"line\": \"inverter\", \"bytes\": 7},"
	                            " {\"at\": \"2s\", \"do\": \"garbage\", \"line\": \"bms\"}"), RIG_OK);
	assert_int_equal(sc.event[0].inverter_line, 1);
	assert_int_equal(sc.event[1].inverter_line, 0);
	scenario_free(&sc);
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"garbage\", \"line\": \"can\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "e.json:3:53: timeline[0].line: expected \"bms\" or \"inverter\", got \"can\"");
	assert_int_equal(bus_events("{\"at\": \"1s\", \"do\": \"late_reply\", \"ms\": 100, \"line\": \"inverter\"}"), RIG_ERR_ARG);
	assert_string_equal(err, "e.json:3:59: timeline[0].line: unknown key (expected one of: at, do, id, for, rate, ms, bms)");
	/* An object is one unit. */
	assert_int_equal(bus_text("{\"protocol\": \"jbd\"}"), RIG_OK);
	assert_int_equal(sc.n_units, 1);
	scenario_free(&sc);

	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"protocol\": \"jbd\", \"address\": 2}]"),
	                 RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:59: bms[1].protocol: expected \"daly\" (the units of one line speak its first unit's protocol, bms[0]'s; another protocol needs a \"line\" of its own), got \"jbd\"");
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 1}]"), RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:58: bms[1].address: expected an address of its own on the line, got 1 (bms[0]'s too)");
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"settings\": {}}]"), RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:47: bms[1].settings: unknown key (expected one of: line, address, pack, protocol, quirks)");
	assert_int_equal(bus_text("[]"), RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:9: bms: expected at least one BMS");
	assert_int_equal(bus_text("[3]"), RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:10: bms[0]: expected an object, got a number");
	assert_int_equal(bus_text("3"), RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:9: bms: expected an object or an array of objects, got a number");
	assert_int_equal(bus_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"address\": 2, \"quirks\": {\"nope\": 1}}]"),
	                 RIG_ERR_ARG);
	assert_string_equal(err, "b.json:2:72: bms[1].quirks.nope: unknown daly quirk \"nope\" (latency_ms, sleep_after_s, wake_on, echo, echo_ms, zero_frames, stale_reserved, deadband_ma, current_sign, all_cell_frames, extra_temp_frame, reset_ms, asleep)");
}


/* `bms` units on several lines (`"line": N`): a new line's first unit names its protocol,
 * variant and link; later units of that line share them; each unit knows its line and place
 * on it. A line fault's `"bms": N` is unit N (its line, for the runner). */
static rig_rc lines_text(const char *bms, const char *inverter)
{
	static char text[2048];

	snprintf(text, sizeof text, "{\"bmsrig_scenario\": 1, \"name\": \"l\", \"duration\": \"1m\",\n"
	                            " \"bms\": %s,\n"
	                            " %s\"timeline\": [{\"at\": \"1s\", \"do\": \"no_reply\", \"bms\": 3, \"for\": \"2s\"},"
	                            " {\"at\": \"2s\", \"do\": \"cell_soc\", \"bms\": 4, \"cell\": 1, \"soc_pct\": 90}]}",
	         bms, inverter);
	return scenario_judge_parse(&sc, &sj, text, strlen(text), "l.json", -1, 0, err, sizeof err);
}

static void bms_lines_each_their_protocol(void **state)
{
	static const char inv[] = "\"inverter\": {\"protocol\": \"pylontech-can\"}, ";

	(void)state;
	if (lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 2, \"protocol\": \"daly\", \"address\": 1, \"link\": {\"baud\": 9600}},"
	               " {\"line\": 2, \"address\": 2}, {\"line\": 3, \"protocol\": \"daly\", \"address\": 1},"
	               " {\"line\": 4, \"protocol\": \"jbd\", \"variant\": \"v8\", \"baud\": 19200}]", inv) != RIG_OK)
		fail_msg("%s", err);
	assert_int_equal(sc.n_units, 5);
	assert_int_equal(sc.n_lines, 4);
	assert_int_equal(sc.unit_line[0], 0);
	assert_int_equal(sc.unit_line[1], 1);
	assert_int_equal(sc.unit_line[2], 1);
	assert_int_equal(sc.unit_line[3], 2);
	assert_int_equal(sc.unit_line[4], 3);
	assert_int_equal(sc.unit_index[2], 1);
	assert_int_equal(sc.unit_index[3], 0);
	assert_int_equal(sc.line_first[1], 1);
	assert_int_equal(sc.line_first[2], 3);
	assert_int_equal(sc.line_units[1], 2);
	assert_int_equal(sc.line_units[3], 1);
	assert_string_equal(scenario_line_spec(&sc, 0)->kind->name, "jbd");
	assert_ptr_equal(scenario_line_spec(&sc, 0), &sc.bms);
	assert_string_equal(scenario_line_spec(&sc, 1)->kind->name, "daly");
	assert_string_equal(sc.unit[2].kind->name, "daly");
	assert_ptr_equal(sc.unit[2].unit.ops, sc.unit[1].unit.ops);
	assert_int_equal(scenario_line_spec(&sc, 1)->baud, 9600);
	assert_string_equal(scenario_line_spec(&sc, 3)->kind->name, "jbd");
	assert_int_equal(scenario_line_spec(&sc, 3)->baud, 19200);
	assert_int_not_equal(scenario_line_spec(&sc, 0)->baud, 19200);
	/* The variant's quirk is that line's unit's, not line 1's. */
	assert_int_equal(sc.unit[4].unit.n_quirks, sc.unit[0].unit.n_quirks + 1);
	/* An address is its line's own: unit 4 repeats unit 2's on another line. */
	assert_int_equal(sc.unit[3].unit.address, sc.unit[1].unit.address);
	assert_int_equal(sc.event[0].kind, SCEN_EV_WIRE_FAULT);
	assert_int_equal(sc.event[0].unit, 2);
	assert_int_equal(sc.event[1].unit, 3);
	scenario_free(&sc);
	/* One line is one protocol. */
	assert_int_equal(lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 2, \"protocol\": \"daly\", \"address\": 1},"
	                            " {\"line\": 2, \"protocol\": \"jk\", \"address\": 2}, {\"address\": 3}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:102: bms[2].protocol: expected \"daly\" (the units of one line speak its first unit's protocol, bms[1]'s; another protocol needs a \"line\" of its own), got \"jk\"");
	/* Lines in order, without a gap, at most the bridge's links; the first unit on line 1. */
	assert_int_equal(lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 3, \"protocol\": \"daly\"}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:40: bms[1].line: expected a line 1..2 (lines are numbered from 1 in the order they first appear, without a gap), got \"3\"");
	assert_int_equal(lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 2, \"protocol\": \"jbd\"}, {\"line\": 3, \"protocol\": \"jbd\"},"
	                            " {\"line\": 4, \"protocol\": \"jbd\"}, {\"line\": 5, \"protocol\": \"jbd\"}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:136: bms[4].line: expected a line 1..4 (the bridge reads at most 4 separate lines), got \"5\"");
	assert_int_equal(lines_text("[{\"line\": 2, \"protocol\": \"jbd\"}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:19: bms[0].line: expected 1 (the first unit is on line 1), got \"2\"");
	assert_int_equal(lines_text("{\"line\": \"a\", \"protocol\": \"jbd\"}", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:18: bms.line: expected 1 (the first unit is on line 1), got a string");
	/* A new line names its protocol. */
	assert_int_equal(lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 2, \"address\": 4}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:31: bms[1]: expected key \"protocol\"");
	/* Only the bridge reads several lines: without an inverter the second line is refused. */
	assert_int_equal(lines_text("[{\"protocol\": \"jbd\"}, {\"line\": 2, \"protocol\": \"daly\"}]", ""), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:40: bms[1].line: expected line 1 only, got 2 (several BMS lines are read by the bridge, which runs for a scenario with an \"inverter\")");
	/* Addresses are per line. */
	assert_int_equal(lines_text("[{\"protocol\": \"daly\", \"address\": 1}, {\"line\": 2, \"protocol\": \"daly\", \"address\": 1},"
	                            " {\"line\": 2, \"address\": 1}]", inv), RIG_ERR_ARG);
	assert_string_equal(err, "l.json:2:116: bms[2].address: expected an address of its own on the line, got 1 (bms[1]'s too)");
}

/* The event parser a control socket injects with: the file's vocabulary and checks, without
 * "at" or a file position. */
static rig_rc parse_event(const struct scenario *on, const char *json, struct scen_event *e)
{
	cJSON *o = cJSON_Parse(json);
	rig_rc rc;

	assert_non_null(o);
	rc = scenario_parse_event(on, o, e, err, sizeof err);
	cJSON_Delete(o);
	return rc;
}

static void events_parse_for_injection(void **state)
{
	static const char text[] = "{\"bmsrig_scenario\": 1, \"name\": \"e\", \"duration\": \"1m\", "
	                           "\"pack\": {\"cells\": 4, \"ntc\": 2}, \"timeline\": "
	                           "[{\"at\": \"0\", \"do\": \"mark\", \"id\": \"m\"}]}";
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "{\"do\": \"ntc_open\", \"ntc\": 3}", "ntc: expected a probe number 1..2 (pack.ntc), got \"3\"" },
		{ "{\"at\": \"1s\", \"do\": \"ntc_open\", \"ntc\": 1}", "at: unknown key (expected one of: do, id, for, ntc, bms)" },
		{ "{\"do\": \"profile\", \"steps\": [[\"0\", 1]]}",
		  "do: expected an event kind other than profile (it belongs in a scenario file)" },
		{ "{\"do\": \"fets\", \"chg\": false}", "expected key \"dsg\"" },
		{ "{\"do\": \"ble_disconnect\"}",
		  "do: expected a Bluetooth bms.protocol (jbd-ble, daly-ble, jk-ble, thornwave, thornwave-x) for ble_disconnect, got \"jbd\"" },
		{ "{\"do\": \"quirk\", \"name\": \"latency_ms\", \"value\": 9000}", "value: expected 0..5000, got \"9000\"" },
		{ "{\"do\": \"current\", \"a\": \"x\"}", "a: expected a number -2000..2000, got a string" },
		{ "{\"do\": \"mark\", \"id\": \"m\"}", "id: expected an id no other event has, got \"m\" (timeline[0] has it)" },
		{ "{\"do\": \"explode\"}", NULL },
		{ "{}", "expected key \"do\" (what happens)" },
	};
	static struct scenario unit_sc;
	struct sim_unit_cfg u;
	struct link_cfg link;
	struct scen_event e;
	unsigned i;

	(void)state;
	assert_int_equal(scenario_judge_parse(&sc, &sj, text, strlen(text), "mem.json", -1, 0, err, sizeof err), RIG_OK);
	assert_int_equal(parse_event(&sc, "{\"do\": \"ntc_open\", \"ntc\": 2}", &e), RIG_OK);
	assert_int_equal(e.kind, SCEN_EV_NTC_OPEN);
	assert_int_equal(e.ntc, 1);
	assert_int_equal(e.for_ms, 0);
	assert_int_equal(parse_event(&sc, "{\"do\": \"no_reply\", \"for\": \"10s\", \"rate\": 0.5}", &e), RIG_OK);
	assert_int_equal(e.kind, SCEN_EV_WIRE_FAULT);
	assert_int_equal(e.fault, WF_NO_REPLY);
	assert_int_equal(e.for_ms, 10000);
	assert_true(e.rate == 0.5);
	assert_int_equal(parse_event(&sc, "{\"do\": \"short_circuit\"}", &e), RIG_OK);
	assert_int_equal(e.for_ms, 500);                  /* the file's defaults */
	assert_true(e.value == -1000.0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse_event(&sc, bad[i].json, &e), RIG_ERR_ARG);
		if (bad[i].err)
			assert_string_equal(err, bad[i].err);
		else
			assert_non_null(strstr(err, "do: expected an event kind ("));
	}
	assert_int_equal(sc.n_events, 1);                 /* the scenario is only read */

	/* bmssim serve has no file: the unit's own pack and kind stand in for one. */
	u = sc.bms.unit;
	u.model.cells = 16;
	link = sc.bms.link;
	assert_int_equal(scenario_for_unit(&unit_sc, &u, &link), RIG_OK);
	assert_string_equal(unit_sc.bms.kind->name, "jbd");
	assert_int_equal(unit_sc.n_events, 0);
	assert_int_equal(parse_event(&unit_sc, "{\"do\": \"open_wire\", \"cell\": 16}", &e), RIG_OK);
	assert_int_equal(e.cell, 15);
	assert_int_equal(parse_event(&unit_sc, "{\"do\": \"open_wire\", \"cell\": 17}", &e), RIG_ERR_ARG);
	assert_string_equal(err, "cell: expected a cell number 1..16 (pack.cells), got \"17\"");
	link.kind = LINK_BLE;
	assert_int_equal(scenario_for_unit(&unit_sc, &u, &link), RIG_OK);
	assert_string_equal(unit_sc.bms.kind->name, "jbd-ble");
	assert_int_equal(parse_event(&unit_sc, "{\"do\": \"ble_disconnect\", \"reconnect\": \"3s\"}", &e), RIG_OK);
	assert_int_equal(e.reconnect_ms, 3000);
	scenario_free(&sc);
}

/* The rows reader on text (fuzz_profile_csv's entry): rows after the pool's points, and a bad
 * row located with an excerpt. */
static void csv_profile_text_reads_rows(void **state)
{
	static const char good[] = "# comment\ntime_s,current_a\r\n0,5\n1.5, -2.25\n";
	static const char bad[] = "0,5\n1,amps\n";
	struct scenario pool = { 0 };
	struct scen_event e = { 0 };
	char why[256];

	(void)state;
	pool.point = calloc(SCEN_POINTS_MAX, sizeof *pool.point);
	assert_non_null(pool.point);
	pool.n_points = 3;
	assert_int_equal(scenario_profile_csv(&pool, &e, "p.csv", good, sizeof good - 1, why, sizeof why), RIG_OK);
	assert_int_equal(e.first, 3);
	assert_int_equal(e.count, 2);
	assert_int_equal(pool.point[4].t_ms, 1500);
	assert_true(pool.point[4].value == -2.25);
	assert_int_equal(scenario_profile_csv(&pool, &e, "p.csv", bad, sizeof bad - 1, why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "p.csv:2: expected a row time_s,current_a (two numbers), got \"1,amps\"");
	free(pool.point);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(everything_loads_with_the_right_numbers),
		cmocka_unit_test(neutral_settings_load_for_any_protocol),
		cmocka_unit_test(defaults_fill_what_the_file_leaves_out),
		cmocka_unit_test(times_parse_to_whole_milliseconds),
		cmocka_unit_test(steps_become_points_that_interpolate_to_steps),
		cmocka_unit_test(csv_profiles_are_read_beside_the_scenario),
		cmocka_unit_test(csv_profiles_stay_inside_the_scenario_folder),
		cmocka_unit_test(csv_profile_text_reads_rows),
		cmocka_unit_test(seed_override_replaces_every_seed),
		cmocka_unit_test(errors_are_located),
		cmocka_unit_test(golden_bad_files_fail_as_recorded),
		cmocka_unit_test(parse_without_files_and_event_names),
		cmocka_unit_test(world_alone_leaves_dut_and_expect_to_the_caller),
		cmocka_unit_test(inverter_reads_with_its_protocols_keys),
		cmocka_unit_test(bms_array_is_units_on_one_line),
		cmocka_unit_test(bms_lines_each_their_protocol),
		cmocka_unit_test(events_parse_for_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
