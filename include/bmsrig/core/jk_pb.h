/*
 * JK-PB inverter BMS over RS485 (docs/protocols/jk-pb.md): Modbus RTU at 115200 8N1, the BMS a
 * slave at 1..15 (its DIP switches). Its registers are byte addresses into the data areas the
 * JK BLE records carry (docs/protocols/jk.md §3): register base + k is byte 6 + k of the record
 * of that block, so the records themselves are built and read by the JK BLE codec (jk_ble.h),
 * and the Modbus framing and CRC are the core's one RTU codec (modbus_rtu.h: struct
 * modbus_frame, rig_modbus_crc, rig_modbus_frame_encode/parse). This file adds only what is
 * JK-PB's own:
 *   - the "trigger" writes: FC 0x10 of one register, value 0, to 0x161C / 0x161E / 0x1620,
 *     answered by the whole 300-byte record (device info / settings / cell info) followed by
 *     the ordinary 8-byte FC 0x10 reply (308 bytes, captured);
 *   - FC 0x10 writes and FC 0x03 reads of byte ranges of the blocks;
 *   - the master's receive assembler, which takes both records and Modbus frames from one
 *     stream and skips the "AT\r\n" junk some firmware floods between them.
 * C99, no heap, no stdio, no floating point.
 */
#ifndef BMSRIG_JK_PB_H
#define BMSRIG_JK_PB_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/modbus_rtu.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JK_PB_BAUD            115200u
#define JK_PB_ADDR_MIN        1u        /* DIP switches give 1..15; 0 makes the BMS a master */
#define JK_PB_ADDR_MAX        15u
#define JK_PB_FC_READ         0x03u
#define JK_PB_FC_WRITE        0x10u
#define JK_PB_REPLY_LEN       (JK_BLE_RECORD_LEN + 8u)   /* a trigger's answer: record + echo */

/* The register blocks: base + k is byte 6 + k of the record of that type. */
#define JK_PB_BASE_SETTINGS   0x1000u   /* read/write, record type 0x01 */
#define JK_PB_BASE_CELLS      0x1200u   /* read only,  record type 0x02 (JK02_32S layout) */
#define JK_PB_BASE_DEVICE     0x1400u   /* read only,  record type 0x03 */
#define JK_PB_BASE_COMMANDS   0x1600u   /* write only: calibrations, presets, triggers */
#define JK_PB_BLOCK_BYTES     (JK_BLE_RECORD_LEN - 6u - 1u)   /* bytes 6..298 of a record */

/* The trigger registers. */
#define JK_PB_TRIG_DEVICE     0x161Cu
#define JK_PB_TRIG_SETTINGS   0x161Eu
#define JK_PB_TRIG_CELLS      0x1620u

/* Settings the client writes: the charge and discharge switches (u32 at record 118 / 122). */
#define JK_PB_REG_CHG_SWITCH  0x1070u
#define JK_PB_REG_DSG_SWITCH  0x1074u

/* The record type a trigger register asks for; 0 for any other register. */
uint8_t rig_jk_pb_trigger_type(uint16_t reg);
/* The trigger register of record type 1, 2 or 3; 0 for others. */
uint16_t rig_jk_pb_trigger_reg(uint8_t rec_type);
/* The record type of the block holding register reg (1, 2, 3), with *offset the byte in the
 * record (6 + reg - base); 0 when reg is in no readable block. */
uint8_t rig_jk_pb_reg_locate(uint16_t reg, uint16_t *offset);

/* ---- FC 0x10 ------------------------------------------------------------------------------- */

/* A trigger: FC 0x10 of one register, value 0 (`01 10 16 20 00 01 02 00 00 D6 F1`).
 * RIG_ERR_ARG for a record type without a trigger. */
rig_rc rig_jk_pb_request_trigger(struct modbus_frame *f, uint8_t addr, uint8_t rec_type);
/* A write of n bytes (even, 2..246) from register reg on. */
rig_rc rig_jk_pb_request_write(struct modbus_frame *f, uint8_t addr, uint16_t reg, const uint8_t *bytes, size_t n);
/* A FC 0x10 request's register, register count and data (2 * count bytes); RIG_ERR_LENGTH when
 * the byte count disagrees with the count or the frame, or the count is 0 or above 123. */
rig_rc rig_jk_pb_write_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count, const uint8_t **bytes);
/* The 8-byte reply to a write: address, 0x10, register, count. */
void rig_jk_pb_write_echo(struct modbus_frame *f, uint8_t addr, uint16_t reg, uint16_t count);
rig_rc rig_jk_pb_echo_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count);

/* ---- FC 0x03 ------------------------------------------------------------------------------- */

void rig_jk_pb_request_read(struct modbus_frame *f, uint8_t addr, uint16_t reg, uint16_t count);
rig_rc rig_jk_pb_read_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count);
/* The answer: byte count, then n data bytes (n <= 250). */
rig_rc rig_jk_pb_response_read(struct modbus_frame *f, uint8_t addr, const uint8_t *bytes, size_t n);
rig_rc rig_jk_pb_read_bytes(const struct modbus_frame *f, const uint8_t **bytes, size_t *n);

/* ---- the master's receive side ------------------------------------------------------------- */

enum jk_pb_item_kind { JK_PB_ITEM_RECORD = 1, JK_PB_ITEM_MODBUS = 2 };

struct jk_pb_item {
	uint8_t kind;                     /* enum jk_pb_item_kind */
	const uint8_t *record;            /* JK_PB_ITEM_RECORD: 300 bytes, in place until the next call */
	struct modbus_frame frame;       /* JK_PB_ITEM_MODBUS: a response, CRC checked */
};

/*
 * Bytes in any pieces. A `55 AA EB 90` header starts a record, handed out once 300 bytes with
 * the right sum8 are there; anything else is tried as a Modbus response (its function gives
 * its length, the CRC decides). A bad record costs only its first byte, so a frame inside it
 * is still found; junk ("AT\r\n", noise) is skipped a byte at a time.
 */
struct jk_pb_rx {
	uint8_t buf[JK_PB_REPLY_LEN + 12u];
	struct rxbuf b;
	uint16_t out;                     /* bytes of the record handed out last */
};
void rig_jk_pb_rx_init(struct jk_pb_rx *rx, uint32_t gap_ms);
size_t rig_jk_pb_rx_feed(struct jk_pb_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *it is the next item. RIG_MORE: nothing complete yet. */
rig_rc rig_jk_pb_rx_next(struct jk_pb_rx *rx, struct jk_pb_item *it);

#ifdef __cplusplus
}
#endif

#endif
