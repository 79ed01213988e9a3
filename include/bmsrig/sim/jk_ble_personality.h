/*
 * The JK BLE personality: a JK BMS as its BLE module's UART side shows it (docs/protocols/jk.md §3, §8.1), on
 * top of a struct bms. It mimics, by layout: JK02_32S a JK-PB2A16S20P (hw 15A, sw 15.41),
 * JK02_24S a JK-B2A24S20P (hw 10.XG, sw 10.07), JK04 a JK-B2A16S (hw 3.0, sw 3.3.0), the
 * boards of the captures in tests/vectors/jk.json.
 *
 * Commands (20 bytes, sum8 checked by the assembler; others are dropped unanswered):
 *   0x97  the device-info record with the ack behind it in the same write (the order of the
 *         captures: docs/protocols/jk.md §3.3, §8.1); stops a running stream (a new session begins).
 *   0x96  the settings record and the ack likewise, then a cell-info record every push_ms,
 *         pushed from tick(). The stream runs until the next 0x97, or until no command has come for
 *         quiet_stop_ms (0 = never, the default: a real BMS streams for as long as the BLE
 *         connection holds, and a UART bridge cannot tell a client that just listens from one
 *         that left). Writes do not stop it: clients read switch states from the stream.
 *   writes ack. JK02: charge/discharge switch (0x1D/0x1E) -> bms_set_inhibit; cell count,
 *         cell OV/UV and releases, 100 %/0 % voltages, balance start/trigger, charge/discharge
 *         current limits, charge/discharge temperature limits and capacity -> the BMS
 *         settings of the same meaning (bms_setting_set, then the save callback); everything
 *         else is kept and read back in the settings record. JK04: cell count, balance
 *         start/trigger (f32) likewise; balancer switch 0x6C and the rest kept.
 *   anything else: ack (the real BMS acks what it accepts; refusals were never captured).
 * The ack is `AA 55 90 EB C8 01 01 00..00 44`, followed by "AT\r\n" as in the captures
 * (quirk at_after_ack). Records count up in byte 5.
 *
 * Cell-info content: cells of register 0x2F, pack mV and current mA as measured, T1, T2 (and
 * on 32S up to three more) from the enabled probes, the MOSFET temperature = T1 (the model
 * has no MOSFET), error mask from the protections (rig_jk_ble_errors_from_prot), the balancer as
 * "discharging" at -balance_current_mA while the BMS bleeds, SOC, capacities, cycles, FETs.
 * Truth parts: TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS per JK02 record; JK04 records carry only
 * cells (their pack voltage is the cells' sum; no current, no temperatures), so TRUTH_CELLS.
 */
#ifndef BMSRIG_JK_BLE_PERSONALITY_H
#define BMSRIG_JK_BLE_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/sim/personality.h"

struct jk_ble_quirks {
	uint8_t layout;              /* enum jk_ble_layout; "layout", default JK02_32S */
	uint32_t push_ms;            /* "push_ms": cell-info period, default 500 (~2 Hz) */
	uint32_t latency_ms;         /* "latency_ms": command to its answer, default 40 */
	uint32_t quiet_stop_ms;      /* "quiet_stop_ms": end the stream after this much silence;
	                              * 0 (default) = never */
	uint8_t at_after_ack;        /* "at_after_ack": 1 (default) = "AT\r\n" after each ack */
};

struct jk_ble_personality {
	struct bms *bms;
	struct jk_ble_quirks q;
	struct jk_ble_rx rx;
	uint8_t counter;             /* byte 5 of the next record */
	uint8_t streaming;
	uint8_t heard;
	uint32_t start_ms;           /* first command: the runtime counter starts here */
	uint32_t last_cmd_ms;
	uint32_t next_push_ms;
	uint32_t store[JK_SET_COUNT];   /* settings with no BMS register behind them */
	struct personality_saver saver;
	uint32_t commands, records;
};

void jk_ble_quirks_defaults(struct jk_ble_quirks *q);
void jk_ble_personality_init(struct jk_ble_personality *p, struct bms *b, const struct jk_ble_quirks *q);
/* Called after each write that changed a BMS register; non-zero = failure (counted). */
void jk_ble_personality_on_save(struct jk_ble_personality *p,
                                int (*save)(void *ctx, const struct bms *b), void *ctx);
/* Setting k (enum jk_ble_setting) written with the 4 value bytes wire (little-endian, as the
 * record holds it): what a BLE write of its register does, for the JK-PB personality's Modbus
 * writes too. Refused values change nothing. */
void jk_ble_personality_write(struct jk_ble_personality *p, unsigned k, uint32_t wire);
/* Bytes from the line in any pieces; answers go to sink. */
void jk_ble_personality_rx(struct jk_ble_personality *p, const uint8_t *bytes, size_t n,
                           uint32_t now_ms, const struct reply_sink *sink);
/* The connection ended: the 0x96 subscription ends with it (a real board pushes to the
 * central that asked, and a new central starts unsubscribed). */
void jk_ble_personality_disconnected(struct jk_ble_personality *p);
/* The stream: call every model step. */
void jk_ble_personality_tick(struct jk_ble_personality *p, uint32_t now_ms, const struct reply_sink *sink);
/* The records as the BMS would send them now (the counter is not advanced). */
void jk_ble_personality_cells(const struct jk_ble_personality *p, uint32_t now_ms,
                              uint8_t rec[JK_BLE_RECORD_LEN]);
void jk_ble_personality_settings(const struct jk_ble_personality *p, uint8_t rec[JK_BLE_RECORD_LEN]);
void jk_ble_personality_device(const struct jk_ble_personality *p, uint32_t now_ms,
                               uint8_t rec[JK_BLE_RECORD_LEN]);

extern const struct personality_ops jk_ble_personality_ops;

/* The settings-record index (enum jk_ble_setting) that carries neutral setting `setting`: 0 and
 * *k, or -1 when JK BLE has none; and the personality's conversions between the setting's unit
 * and the record's (0.1 degC), so a settings tool (tools/bmsctl.c) converts as the board does. */
int jk_ble_setting_index(unsigned setting, unsigned *k);
uint32_t jk_ble_setting_to_jk(unsigned k, int32_t value);
int64_t jk_ble_setting_from_jk(unsigned k, uint32_t value);

#endif
