/*
 * The JK-PB personality: a JK-PB inverter BMS (JK_PB2A16S15P, firmware 15.x, the JK02_32S
 * records) on RS485 as a Modbus RTU slave at 115200 8N1 (docs/protocols/jk-pb.md). The records
 * are the JK BLE personality's (jk_ble_personality.h, built with the core's JK BLE codec), so a
 * pack reads the same over both links; the Modbus side uses the core's codec (jk_pb.h).
 *
 *   FC 0x10, one register, to 0x161C / 0x161E / 0x1620 (the "trigger"): the device-info /
 *       settings / cell-info record, then the 8-byte FC 0x10 reply, in one write (308 bytes).
 *   FC 0x10 to the settings block 0x1000..0x1125, whole u32 fields (register and count
 *       multiples of 2 from 0x1000): each field as its BLE register write does it (switches,
 *       limits, cell count ...); then the 8-byte reply. To the command block 0x1600..0x161B:
 *       accepted and answered, with no effect (calibrations, presets).
 *   FC 0x03 of a byte range inside one block (0x1000, 0x1200, 0x1400): the record's bytes from
 *       6 + (register - base), 2 per register counted (the byte-addressed registers the vendor
 *       map and ESPHome's sizing suggest; no capture confirms it, docs/protocols/jk-pb.md).
 *   Exceptions: 01 for other functions, 02 for a register outside the blocks, 03 for a count of
 *       0 or too many, a byte count that disagrees, or a settings write that splits a field;
 *       silence instead with the quirk exceptions=0.
 * Silence, as the vendor document says: a frame for another address, a bad CRC (the
 * assembler drops it), a pack `absent`.
 * Address: the spec's (1..15); 0 means the default: 1 alone on a line, and 1, 2, 3 ... in unit
 * order for packs chained on one bus (their DIP switches).
 * Quirk at_junk=N: N times "AT\r\n" before every reply, the flood some firmware sends.
 */
#ifndef BMSRIG_JK_PB_PERSONALITY_H
#define BMSRIG_JK_PB_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/core/jk_pb.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "bmsrig/sim/personality.h"

#define JK_PB_AT_JUNK_MAX 16u

struct jk_pb_quirks {
	uint32_t latency_ms;         /* request to reply, default 20 */
	uint8_t exceptions;          /* 1 (default): exception replies; 0: silence instead */
	uint8_t absent;              /* 1: the pack is not there (silent) */
	uint8_t address;             /* the address answered; set by init and peers, or as a quirk */
	uint8_t at_junk;             /* "AT\r\n" repeats before every reply, default 0 */
};

struct jk_pb_personality {
	struct jk_ble_personality rec;   /* the records and the settings behind them */
	struct jk_pb_quirks q;
	struct modbus_rx rx;
	uint8_t address_fixed;
	uint32_t requests, exceptions_sent;
};

extern const struct personality_ops jk_pb_personality_ops;

#endif
