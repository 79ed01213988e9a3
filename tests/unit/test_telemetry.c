/* The telemetry line, byte for byte (docs/architecture.md contract), and the firmware core around it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/fw.h"
#include "bmsrig/core/telemetry.h"
#include "fake_io.h"

static void line_is_exact(void **state)
{
	struct pack_state s;
	struct telemetry t = { 4294967295u, "jbd", 1, &s, 1, 0, 0, NULL };
	char out[TELEMETRY_LINE_MAX];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof s);
	s.pack_mV = 26400;
	s.current_mA = -6040;
	s.soc_pct = 84;
	s.cell_count = 3;
	s.cell_mV[0] = 3300; s.cell_mV[1] = 0; s.cell_mV[2] = 65535;
	s.temp_count = 2;
	s.temp_dK[0] = 2941; s.temp_dK[1] = 2935;
	s.fet_chg = 1; s.fet_dsg = 0;
	s.prot = PACK_PROT_SW_LOCK;
	s.bal_mask = 0x80000001u;
	n = rig_telemetry_format(out, sizeof out, &t);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "BMSRIG {\"ms\":4294967295,\"proto\":\"jbd\",\"ok\":1,\"pack_mv\":26400,"
	                         "\"current_ma\":-6040,\"soc_pct\":84,\"cells_mv\":[3300,0,65535],"
	                         "\"temps_dk\":[2941,2935],\"fet_chg\":1,\"fet_dsg\":0,\"prot\":4096,"
	                         "\"bal_mask\":2147483649,\"relay\":1,\"comm_fail\":0,\"why\":0}");
}

static void no_data_gives_empty_arrays_and_small_buffer_gives_nothing(void **state)
{
	struct telemetry t = { 0, "jbd", 0, NULL, 0, 7, 32, NULL };
	char out[TELEMETRY_LINE_MAX];
	size_t n;

	(void)state;
	n = rig_telemetry_format(out, sizeof out, &t);
	assert_string_equal(out, "BMSRIG {\"ms\":0,\"proto\":\"jbd\",\"ok\":0,\"pack_mv\":0,\"current_ma\":0,"
	                         "\"soc_pct\":0,\"cells_mv\":[],\"temps_dk\":[],\"fet_chg\":0,\"fet_dsg\":0,"
	                         "\"prot\":0,\"bal_mask\":0,\"relay\":0,\"comm_fail\":7,\"why\":32}");
	assert_int_equal(rig_telemetry_format(out, n, &t), 0);      /* no room for the NUL */
	assert_int_equal(out[0], '\0');
	assert_int_equal(rig_telemetry_format(out, n + 1, &t), n);
}

/* A bridge's line: the usual keys, then the inv object (limits announced, packs' ok and age). */
static void inv_object_is_exact_and_appended_last(void **state)
{
	struct rig_inv_battery r;
	struct telemetry_inv inv;
	struct telemetry t = { 5000, "jbd", 0, NULL, 1, 2, 0, &inv };
	char out[TELEMETRY_LINE_MAX];
	size_t n;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(&inv, 0, sizeof inv);
	r.cvl_mV = 56800; r.dvl_mV = 48000; r.ccl_mA = 100000; r.dcl_mA = 0;
	r.soc_pct = 55; r.request = RIG_INV_CHG_ENABLE; r.prot = PACK_PROT_CELL_OV; r.alarm = RIG_INV_ALARM_COMM;
	inv.battery = &r;
	inv.online_packs = 2;
	inv.pack_count = 3;
	inv.pack_ok[0] = 1; inv.pack_ok[1] = 1;
	inv.pack_age_ms[0] = 120; inv.pack_age_ms[1] = 4294967295u; inv.pack_age_ms[2] = 31000;
	n = rig_telemetry_format(out, sizeof out, &t);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "BMSRIG {\"ms\":5000,\"proto\":\"jbd\",\"ok\":0,\"pack_mv\":0,\"current_ma\":0,"
	                         "\"soc_pct\":0,\"cells_mv\":[],\"temps_dk\":[],\"fet_chg\":0,\"fet_dsg\":0,"
	                         "\"prot\":0,\"bal_mask\":0,\"relay\":1,\"comm_fail\":2,\"why\":0,"
	                         "\"inv\":{\"cvl_mv\":56800,\"ccl_ma\":100000,\"dcl_ma\":0,\"dvl_mv\":48000,"
	                         "\"soc_pct\":55,\"request\":1,\"prot\":1,\"alarm\":1,\"online_packs\":2,"
	                         "\"pack_ok\":[1,1,0],\"pack_age_ms\":[120,4294967295,31000]}}");
	assert_int_equal(rig_telemetry_format(out, n, &t), 0);
	assert_int_equal(out[0], '\0');
}

/* rig_fw_step end to end over the fake link: relay and telemetry follow the polls. */
struct hal_log {
	int relay, relay_calls;
	char last[TELEMETRY_LINE_MAX];
	int lines;
};

static void hal_relay(void *ctx, uint8_t closed)
{
	struct hal_log *l = ctx;

	l->relay = closed;
	l->relay_calls++;
}

static void hal_line(void *ctx, const char *line)
{
	struct hal_log *l = ctx;

	strncpy(l->last, line, sizeof l->last - 1);
	l->lines++;
}

static void fw_on_fake_link(struct fw *fw, struct fake_io *io, struct hal_log *log,
                            const struct fw_cfg *cfg)
{
	struct fw_hal hal;

	memset(log, 0, sizeof *log);
	memset(io, 0, sizeof *io);
	memset(&hal, 0, sizeof hal);
	hal.bms = fake_io_stream(io);
	hal.ctx = log;
	hal.set_relay = hal_relay;
	hal.telemetry = hal_line;
	rig_fw_init(fw, &hal, cfg);
}

static void fw_closes_relay_on_data_and_opens_on_silence(void **state)
{
	static struct fw fw;
	static struct fake_io io;
	struct hal_log log;
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
	uint32_t t;

	(void)state;
	cfg.policy.comm_fail_max = 2;
	cfg.policy.cell_max_mV = 4200;   /* the captured pack is NMC: 3.9 V cells */
	fw_on_fake_link(&fw, &io, &log, &cfg);
	assert_int_equal(log.relay_calls, 1);
	assert_int_equal(log.relay, 0);
	rig_fw_step(&fw, 0);
	fake_io_queue_hex(&io, "DD0400080F450F3D0F370F3DFEC677");   /* stale: flushed */
	fake_io_clear_tx(&io);
	fake_io_queue_hex(&io, "DD03001D0618000001F201F400002C7C00000000000080640304030B8B0B8A0B84FA8D77");
	rig_fw_step(&fw, 50);
	fake_io_queue_hex(&io, "DD0400080F450F3D0F370F3DFEC677");
	rig_fw_step(&fw, 90);
	assert_int_equal(log.lines, 1);
	assert_int_equal(log.relay, 1);
	assert_non_null(strstr(log.last, "\"ok\":1,\"pack_mv\":15600,"));
	assert_non_null(strstr(log.last, "\"cells_mv\":[3909,3901,3895,3901]"));
	assert_non_null(strstr(log.last, "\"relay\":1,\"comm_fail\":0"));
	/* Silence: two failed cycles open the relay (comm_fail_max = 2). */
	for (t = 100; log.lines < 3 && t < 20000; t += 10)
		rig_fw_step(&fw, t);
	assert_int_equal(log.lines, 3);
	assert_int_equal(log.relay, 0);
	assert_non_null(strstr(log.last, "\"ok\":0,"));
	assert_non_null(strstr(log.last, "\"relay\":0,\"comm_fail\":2,\"why\":16}"));
	/* Last known values are still reported beside ok:0. */
	assert_non_null(strstr(log.last, "\"pack_mv\":15600,"));
}

static void fw_asks_the_bms_to_open_its_fets_when_bad_from_the_first_poll(void **state)
{
	static struct fw fw;
	static struct fake_io io;
	struct hal_log log;
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 1 };
	uint8_t want[16];
	size_t n = hex_to_bytes("DD5AE1020003FF1A77", want, sizeof want);   /* both FETs off */

	(void)state;
	fw_on_fake_link(&fw, &io, &log, &cfg);
	rig_fw_step(&fw, 0);
	fake_io_queue_hex(&io, "DD03001D0618000001F201F400002C7C00000000000080640304030B8B0B8A0B84FA8D77");
	rig_fw_step(&fw, 50);
	fake_io_queue_hex(&io, "DD0400080F450F3D0F370F3DFEC677");   /* 3.9 V cells: over 3650 mV */
	rig_fw_step(&fw, 90);
	assert_int_equal(log.relay, 0);
	assert_non_null(strstr(log.last, "\"why\":1}"));
	fake_io_clear_tx(&io);
	rig_fw_step(&fw, 1000);                                   /* next cycle opens with 0xE1 */
	assert_int_equal(io.tx_len, n);
	assert_memory_equal(io.tx, want, n);
}

/* poll_ms 0: the step that takes the cycle's last reply reports it and sends the next cycle's
 * first request; with the default cadence that step sends nothing. */
static void fw_polls_back_to_back_in_the_step_the_reply_completes(void **state)
{
	static struct fw fw;
	static struct fake_io io;
	struct hal_log log;
	struct fw_cfg cfg = { FW_PROTO_JBD, CLIENT_CFG_DEFAULT, POLICY_CFG_LFP, 0 };
	uint8_t want[8];
	size_t n = hex_to_bytes("DDA50300FFFD77", want, sizeof want);   /* read 0x03 again */
	int back_to_back;

	(void)state;
	for (back_to_back = 1; back_to_back >= 0; back_to_back--) {
		cfg.client.poll_ms = back_to_back ? 0u : 1000u;
		fw_on_fake_link(&fw, &io, &log, &cfg);
		rig_fw_step(&fw, 0);
		fake_io_queue_hex(&io, "DD03001D0618000001F201F400002C7C00000000000080640304030B8B0B8A0B84FA8D77");
		rig_fw_step(&fw, 36);
		fake_io_queue_hex(&io, "DD0400080F450F3D0F370F3DFEC677");
		fake_io_clear_tx(&io);
		rig_fw_step(&fw, 90);
		assert_int_equal(log.lines, 1);
		assert_non_null(strstr(log.last, "\"ms\":90,"));
		if (!back_to_back) {
			assert_int_equal(io.tx_len, 0);
			continue;
		}
		assert_int_equal(io.tx_len, n);
		assert_memory_equal(io.tx, want, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_is_exact),
		cmocka_unit_test(no_data_gives_empty_arrays_and_small_buffer_gives_nothing),
		cmocka_unit_test(inv_object_is_exact_and_appended_last),
		cmocka_unit_test(fw_closes_relay_on_data_and_opens_on_silence),
		cmocka_unit_test(fw_asks_the_bms_to_open_its_fets_when_bad_from_the_first_poll),
		cmocka_unit_test(fw_polls_back_to_back_in_the_step_the_reply_completes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
