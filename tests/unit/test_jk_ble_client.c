/*
 * The JK BLE client against scripted bytes: the captured records of tests/vectors/jk.json and
 * the acks of the btsnoop captures, delivered as 20-byte BLE notifications with the module's
 * "AT\r\n" after each ack. Session order, each layout into the pack_state, stall and resends,
 * unknown record types, a push arriving while a switch write waits for its ack, a lost ack,
 * echoes, and the error-mask table in both directions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jk_ble_client.h"
#include "client_rig.h"

/* jk02_24s_device_info: JK-B2A24S20P sw 10.07 */
static const char DEVICE_24S[] =
	"55AAEB9003FC4A4B2D4232413234533230500000000031302E584700000031302E30370000002C1B"
	"0400010000004A4B2D42324132345332305000000000313233340000000000000000000000003232"
	"30353131000032303431383033303238003030303000496E70757420557365726461746100003132"
	"33343536000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000FC";
/* jk02_24s_settings */
static const char SETTINGS_24S[] =
	"55AAEB9001FC58020000280A0000780A0000DE0D0000480D00000500000000000000000000000000"
	"000000000000F609000050C300001E0000003C00000020BF02002C0100003C0000003C000000BC02"
	"000058020000F40100005802000026020000000000000A00000084030000BC020000180000000100"
	"0000000000000000000050C30000E8030000B80B0000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000074";
/* jk02_24s_cells_24: 24 cells, 78.735 V, 0 A, discharge FET off */
static const char CELLS_24S[] =
	"55AAEB9002FCD40CD00CCF0CD00CD00CCF0CCF0CD10CD00CCF0CD00CCF0CD20CD40CCF0CCF0CD00C"
	"CF0CD10CD20CD20CD20CD50CD10CFFFFFF00D10C0500000364006C00680063005F005D005B005E00"
	"7F0079006B006F006F006800640060005B00580058005B0060006500680061000000000000008F33"
	"01000000000000000000CF00CF00EA0000000000005534A7000050C3000000000000F93400006400"
	"40051C1C040001008506000000000000000000000000070001000000FA030000000000D23F400000"
	"0000E204000000000001000300001A19290000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000043";
/* jk_pb_rs485_cells without its Modbus echo: 8S, +17.841 A, five probes present */
static const char CELLS_32S_PB[] =
	"55AAEB9002051D0D1D0D1D0D1C0D1C0D1D0D1C0D1C0D000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000FF0000001D0D01000400"
	"420042004E0052005700570064006600000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000002C0100000000E4680000604F0700B145"
	"0000280126010000000000000058B9F30200605B030065000000E0135601640000007A0BCE000101"
	"0000000000000000000000000000FF0001000000E8032F00000066F43F40000000007D0A00000001"
	"0101000600001E020000000000002C011E011E01B503ED19ED08AE1C000080510100000000000000"
	"00000000000000FEFF7FDD0F0100B007000000B5";
/* jk02_32s_cells_balancing_b2a8s: 8S, balancer discharging at -2019 mA */
static const char CELLS_32S_BAL[] =
	"55AAEB90028BD70CDB0CD50CFF0C000DD50CD40CE00C000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000FF000000E20C2B000305"
	"33003300320032003200320031003200000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000006901000000000D670000000000000000"
	"000029012A01000000001DF80245B20F0100A0860100000000002E00000064000000ED2A00000101"
	"00000000000000000000000000000700010000009F0300000000A7B34040A30000004E0AD8E10001"
	"00010005000044AD0100000000000000000000000000000000000000000000000000000000000000"
	"00000000000000FEFF7FDC1F01000000000000F4";
/* jk04_cells_b2a16s: 16 float cells */
static const char CELLS_JK04[] =
	"55AAEB90027C3C8357405EDA56405EDA56409E0A5740FD525740DD3A57401D6B57403C8357409E0A"
	"5740BE225740FD525740BE2257409E0A57401D6B57409E0A5740BE22574000000000000000000000"
	"000000000000000000000000000000000000000000007C1D233E1BEB083E56CE143E4D9B153EE0DB"
	"CD3D7233CD3D9488013E5E1EEA3DE517CD3DE3BBD73DF544D23DBE7C013E27B6003EDAB5FC3D6B51"
	"F83DA293F33D00000000000000000000000000000000000000000000000000000000000000000000"
	"00005333574000DE283C00000000FFFF00000002000100000000000000000000006C6AE64A400000"
	"00000000000000000000000000000000000000000101000000000000000000000000000000000000"
	"00000000000047841D000000000000D021400035";
static const char ACK_AT[] = "AA5590EBC80101000000000000000000000000 44 41540D0A";
static const char REQ_DEVICE[] = "AA5590EB970000000000000000000000000000 11";
static const char REQ_CELLS[] = "AA5590EB960000000000000000000000000000 10";
static const char CHG_OFF[] = "AA5590EB1D0400000000000000000000000000 9B";
static const char DSG_ON[] = "AA5590EB1E0401000000000000000000000000 9D";

CLIENT_RIG(jk_ble);

static int setup(void **state)
{
	static struct rig r;

	*state = CLIENT_RIG_START(&r, &rig_jk_ble_client_ops, NULL);  /* poll 1000, timeout 500, 3 retries */
	r.io.read_max = 20;                              /* notifications of the default MTU */
	return 0;
}

static void assert_quiet(struct rig *r)
{
	assert_int_equal(r->io.tx_len, 0);
}

static const struct client_stats *st(struct rig *r)
{
	return rig_jk_ble_client_stats(&r->c);
}

/* 0x97 -> device info -> 0x96 -> ack, settings, first cell record: the first cycle lands. */
static void start_session(struct rig *r, const char *cells, uint32_t t)
{
	assert_int_equal(rig_jk_ble_client_step(&r->c, t), CLIENT_BUSY);
	assert_sent(r, REQ_DEVICE);
	fake_io_queue_hex(&r->io, DEVICE_24S);       /* the reply, then its ack (issue #171) */
	fake_io_queue_hex(&r->io, ACK_AT);
	assert_int_equal(rig_jk_ble_client_step(&r->c, t + 100), CLIENT_BUSY);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, ACK_AT);               /* either order is taken */
	fake_io_queue_hex(&r->io, SETTINGS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, t + 150), CLIENT_BUSY);
	fake_io_queue_hex(&r->io, cells);
	assert_int_equal(rig_jk_ble_client_step(&r->c, t + 200), CLIENT_CYCLE_OK);
	assert_quiet(r);
}

static void session_then_stream_24s(void **state)
{
	struct rig *r = *state;
	static const uint16_t cells[24] = {
		3284, 3280, 3279, 3280, 3280, 3279, 3279, 3281, 3280, 3279, 3280, 3279,
		3282, 3284, 3279, 3279, 3280, 3279, 3281, 3282, 3282, 3282, 3285, 3281 };

	start_session(r, CELLS_24S, 0);
	assert_int_equal(r->c.layout, JK_BLE_JK02_24S);
	assert_int_equal(r->ps.cell_count, 24);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	assert_int_equal(r->ps.pack_mV, 78735);
	assert_int_equal(r->ps.current_mA, 0);
	assert_int_equal(r->ps.soc_pct, 85);
	assert_int_equal(r->ps.remain_mAh, 42804);
	assert_int_equal(r->ps.full_mAh, 50000);
	assert_int_equal(r->ps.fet_chg, 1);
	assert_int_equal(r->ps.fet_dsg, 0);
	assert_int_equal(r->ps.prot, 0);
	assert_int_equal(r->ps.temp_count, 2);          /* T1, T2; the MOSFET is not a probe */
	assert_int_equal(r->ps.temp_dK[0], 2938);
	assert_int_equal(r->ps.temp_dK[1], 2938);
	assert_int_equal(r->ps.bal_mask, 0);
	assert_int_equal(r->ps.updated_ms, 200);
	/* The stream goes on by itself: the next cycle needs only the next record. */
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 700), CLIENT_BUSY);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 999), CLIENT_BUSY);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1000), CLIENT_CYCLE_OK);
	assert_quiet(r);
	assert_int_equal(st(r)->cycles_ok, 2);
	assert_int_equal(st(r)->requests, 2);
	assert_int_equal(st(r)->rejected, 0);
	assert_int_equal(r->c.records, 2);
}

/* No record for a push period plus the timeout: the cycle fails and 0x96 goes again; when
 * that stays unanswered through its retries, the next cycle starts over with 0x97. */
static void stall_resends_0x96_then_0x97(void **state)
{
	struct rig *r = *state;
	enum client_event ev = CLIENT_BUSY;
	uint32_t t;

	start_session(r, CELLS_24S, 0);
	for (t = 210; ev == CLIENT_BUSY; t += 10)
		ev = rig_jk_ble_client_step(&r->c, t);
	assert_int_equal(ev, CLIENT_CYCLE_FAIL);
	assert_int_equal(t - 10, 1000 + 500 + 500);
	assert_sent(r, REQ_CELLS);
	/* 0x96 unanswered: resent at once, then after 100 and 200 ms of backoff. */
	unsigned sends = 1;
	for (ev = CLIENT_BUSY; t < 6000; t += 10) {
		ev = rig_jk_ble_client_step(&r->c, t);
		if (r->io.tx_len) {
			uint8_t reg = r->io.tx[4];

			fake_io_clear_tx(&r->io);
			if (reg == 0x97)
				break;
			assert_int_equal(reg, 0x96);
			sends++;
		}
	}
	assert_int_equal(sends, 4);
	assert_int_equal(st(r)->comm_fail, 2);
	assert_int_equal(st(r)->cycles_failed, 2);
	/* Device info again, then the stream: the link is back. */
	fake_io_queue_hex(&r->io, DEVICE_24S);
	rig_jk_ble_client_step(&r->c, t + 50);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, t + 100), CLIENT_CYCLE_OK);
	assert_int_equal(st(r)->comm_fail, 0);
}

/* A BLE link often loses the first write after connecting: 0x97 goes again at once. */
static void lost_first_request_is_resent_at_once(void **state)
{
	struct rig *r = *state;

	rig_jk_ble_client_step(&r->c, 0);
	assert_sent(r, REQ_DEVICE);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 499), CLIENT_BUSY);
	assert_quiet(r);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 500), CLIENT_BUSY);
	assert_sent(r, REQ_DEVICE);
	assert_int_equal(st(r)->timeouts, 1);
	assert_int_equal(st(r)->resends, 1);
	fake_io_queue_hex(&r->io, DEVICE_24S);
	rig_jk_ble_client_step(&r->c, 560);
	assert_sent(r, REQ_CELLS);
	/* The 0x96 ack is lost too: the client never needed it. */
	fake_io_queue_hex(&r->io, SETTINGS_24S);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 700), CLIENT_CYCLE_OK);
}

/* The settings record shows 0x96 was heard: a first cell record slower than the request
 * timeout brings no second 0x96. */
static void settings_record_starts_the_stream(void **state)
{
	struct rig *r = *state;

	rig_jk_ble_client_step(&r->c, 0);
	assert_sent(r, REQ_DEVICE);
	fake_io_queue_hex(&r->io, DEVICE_24S);
	rig_jk_ble_client_step(&r->c, 100);
	assert_sent(r, REQ_CELLS);
	fake_io_queue_hex(&r->io, SETTINGS_24S);
	for (uint32_t t = 110; t < 900; t += 10)
		assert_int_equal(rig_jk_ble_client_step(&r->c, t), CLIENT_BUSY);
	assert_quiet(r);
	assert_int_equal(st(r)->timeouts, 0);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 900), CLIENT_CYCLE_OK);
}

static void layout_32s_five_probes(void **state)
{
	struct rig *r = *state;
	static const uint16_t temps[] = { 3027, 3025, 3031, 3017, 3017 };

	start_session(r, CELLS_32S_PB, 0);
	assert_int_equal(r->c.layout, JK_BLE_JK02_32S);
	assert_int_equal(r->ps.cell_count, 8);
	assert_int_equal(r->ps.cell_mV[0], 3357);
	assert_int_equal(r->ps.pack_mV, 26852);
	assert_int_equal(r->ps.current_mA, 17841);
	assert_int_equal(r->ps.soc_pct, 88);
	assert_int_equal(r->ps.cycles, 101);
	/* Presence byte 0xFF: T1, T2 and the three at 254, 256, 258, in offset order. */
	assert_int_equal(r->ps.temp_count, 5);
	assert_memory_equal(r->ps.temp_dK, temps, sizeof temps);
}

static void layout_32s_balancing(void **state)
{
	struct rig *r = *state;

	start_session(r, CELLS_32S_BAL, 0);
	assert_int_equal(r->ps.cell_count, 8);
	assert_int_equal(r->ps.temp_count, 2);          /* presence byte 0x07: MOS, T1, T2 */
	assert_int_equal(r->ps.temp_dK[0], 3028);
	assert_int_equal(r->ps.temp_dK[1], 3029);
	/* Balancing: the highest (cell 5, 3328 mV) and the lowest (cell 7, 3284 mV). */
	assert_int_equal(r->ps.bal_mask, 1u << 4 | 1u << 6);
	assert_int_equal(r->ps.fet_chg, 1);
	assert_int_equal(r->ps.fet_dsg, 1);
}

static void layout_jk04(void **state)
{
	struct rig *r = *state;
	static const uint16_t cells[16] = { 3367, 3357, 3357, 3360, 3364, 3363, 3366, 3367,
	                                    3360, 3361, 3364, 3361, 3360, 3366, 3360, 3361 };
	uint32_t sum = 0;

	start_session(r, CELLS_JK04, 0);
	assert_int_equal(r->c.layout, JK_BLE_JK04);
	assert_int_equal(r->ps.cell_count, 16);
	assert_memory_equal(r->ps.cell_mV, cells, sizeof cells);
	for (int i = 0; i < 16; i++)
		sum += cells[i];
	assert_int_equal(r->ps.pack_mV, sum);
	assert_int_equal(r->ps.temp_count, 0);
	assert_int_equal(r->ps.current_mA, 0);
	/* No switch registers on JK04: set_fets sends nothing. */
	rig_jk_ble_client_set_fets(&r->c, 0, 0);
	fake_io_queue_hex(&r->io, CELLS_JK04);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1000), CLIENT_CYCLE_OK);
	assert_quiet(r);
}

/* An unknown record type (a logbook, a new firmware's record) is refused and the stream goes
 * on; so is our own command echoed back by a half-duplex bridge. */
static void unknown_record_and_echo(void **state)
{
	struct rig *r = *state;
	uint8_t rec[JK_BLE_RECORD_LEN];

	start_session(r, CELLS_24S, 0);
	hex_to_bytes(CELLS_24S, rec, sizeof rec);
	rec[4] = 0x07;
	rig_jk_ble_record_seal(rec);
	fake_io_queue(&r->io, rec, sizeof rec);
	fake_io_queue_hex(&r->io, REQ_CELLS);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 500), CLIENT_BUSY);
	assert_int_equal(st(r)->rejected, 2);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1000), CLIENT_CYCLE_OK);
}

/* set_fets: 0x1D then 0x1E, each after the previous ack. Records pushed while a write waits
 * still complete the cycle; a lost ack brings the write again. */
static void fet_writes_with_pushes_between(void **state)
{
	struct rig *r = *state;

	start_session(r, CELLS_24S, 0);
	rig_jk_ble_client_set_fets(&r->c, 0, 1);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1000), CLIENT_CYCLE_OK);
	assert_sent(r, CHG_OFF);
	/* A push, no ack yet: the next cycle is served, the write still waits. */
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1200), CLIENT_BUSY);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1499), CLIENT_BUSY);
	assert_quiet(r);
	/* Its ack is lost: sent again at once. */
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1500), CLIENT_BUSY);
	assert_sent(r, CHG_OFF);
	fake_io_queue_hex(&r->io, ACK_AT);
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 1550), CLIENT_BUSY);
	assert_sent(r, DSG_ON);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 2000), CLIENT_CYCLE_OK);
	fake_io_queue_hex(&r->io, ACK_AT);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 2050), CLIENT_BUSY);
	assert_quiet(r);
	assert_int_equal(r->c.eng.fets.pending, 0);
	/* Nothing more to write at the next cycle. */
	fake_io_queue_hex(&r->io, CELLS_24S);
	assert_int_equal(rig_jk_ble_client_step(&r->c, 3000), CLIENT_CYCLE_OK);
	assert_quiet(r);
}

/* A BMS that never acks writes: the write gives up after its retries, the stream goes on,
 * and the next cycle tries again. */
static void unacked_write_gives_up_and_retries(void **state)
{
	struct rig *r = *state;
	unsigned writes = 0;
	uint32_t t;

	start_session(r, CELLS_24S, 0);
	rig_jk_ble_client_set_fets(&r->c, 0, 1);
	for (t = 1000; t < 2000; t += 10) {
		if (t % 400 == 0)
			fake_io_queue_hex(&r->io, CELLS_24S);
		rig_jk_ble_client_step(&r->c, t);
		if (r->io.tx_len) {
			assert_sent(r, CHG_OFF);
			writes++;
		}
	}
	/* 1000, 1500 (at once), 2000 would be the third: 1500 + 500 + 100 = 2100. */
	assert_int_equal(writes, 2);
	for (; t <= 4000; t += 10) {
		if (t % 400 == 0)
			fake_io_queue_hex(&r->io, CELLS_24S);
		rig_jk_ble_client_step(&r->c, t);
		if (r->io.tx_len) {
			assert_sent(r, CHG_OFF);
			writes++;
		}
	}
	/* 2100, 2800, given up at 3300; the cycle at 3000 found it still waiting, 4000 tries anew. */
	assert_int_equal(writes, 5);
	assert_int_equal(st(r)->cycles_failed, 0);
}

static void error_mask_table(void **state)
{
	(void)state;
	/* Bit 4: cell over-voltage on old firmware, "battery full" (no protection) on new. */
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 4, JK_BLE_JK02_24S), PACK_PROT_CELL_OV);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 4, JK_BLE_JK02_32S), 0);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 11 | 1u << 13, JK_BLE_JK02_24S),
	                 PACK_PROT_CELL_UV | PACK_PROT_DSG_OC);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 7 | 1u << 14, JK_BLE_JK02_32S), PACK_PROT_SHORT);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 27, JK_BLE_JK02_32S), PACK_PROT_DSG_UT);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 27, JK_BLE_JK02_24S), 0);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 21, JK_BLE_JK02_32S), PACK_PROT_CHG_OT | PACK_PROT_DSG_OT);
	assert_int_equal(rig_jk_ble_errors_to_prot(0xFFFFFFFFu, JK_BLE_JK04), 0);
	assert_int_equal(rig_jk_ble_errors_to_prot(1u << 0 | 1u << 1 | 1u << 2, JK_BLE_JK02_32S), 0);
	/* An emulated BMS: one bit per protection; 24S cannot say discharge under-temperature. */
	assert_int_equal(rig_jk_ble_errors_from_prot(PACK_PROT_SHORT, JK_BLE_JK02_24S), 1u << 14);
	assert_int_equal(rig_jk_ble_errors_from_prot(PACK_PROT_DSG_UT, JK_BLE_JK02_24S), 0);
	assert_int_equal(rig_jk_ble_errors_from_prot(PACK_PROT_DSG_UT, JK_BLE_JK02_32S), 1u << 27);
	assert_int_equal(rig_jk_ble_errors_from_prot(PACK_PROT_CELL_OV, JK_BLE_JK02_32S), 1u << 4);
	/* Every protection a 32S mask can carry comes back as itself, except "battery full". */
	for (unsigned b = 0; b < 13; b++) {
		uint32_t p = 1u << b, e = rig_jk_ble_errors_from_prot(p, JK_BLE_JK02_32S);

		if (e && p != PACK_PROT_CELL_OV)
			assert_int_equal(rig_jk_ble_errors_to_prot(e, JK_BLE_JK02_32S), p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(session_then_stream_24s, setup),
		cmocka_unit_test_setup(stall_resends_0x96_then_0x97, setup),
		cmocka_unit_test_setup(lost_first_request_is_resent_at_once, setup),
		cmocka_unit_test_setup(settings_record_starts_the_stream, setup),
		cmocka_unit_test_setup(layout_32s_five_probes, setup),
		cmocka_unit_test_setup(layout_32s_balancing, setup),
		cmocka_unit_test_setup(layout_jk04, setup),
		cmocka_unit_test_setup(unknown_record_and_echo, setup),
		cmocka_unit_test_setup(fet_writes_with_pushes_between, setup),
		cmocka_unit_test_setup(unacked_write_gives_up_and_retries, setup),
		cmocka_unit_test(error_mask_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
