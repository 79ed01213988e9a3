/*
 * Modbus RTU framing, the one the core's Modbus protocols share (Deye's battery protocol,
 * deye_modbus.h; JK-PB over RS485, jk_pb.h): an ADU is address, function, PDU data, then the
 * CRC-16/MODBUS low byte first; frames are told apart by their function code's length and the
 * CRC, since RTU has no start byte. Built by hand rather than taken from libmodbus: the core
 * runs on an ESP8266 with no such library. C99, no heap, no stdio, no floating point.
 */
#ifndef BMSRIG_MODBUS_RTU_H
#define BMSRIG_MODBUS_RTU_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MODBUS_ADU_MAX       256u        /* Modbus RTU: the longest frame */
#define MODBUS_DATA_MAX      (MODBUS_ADU_MAX - 4u)    /* address, function, CRC(2) */
#define MODBUS_FC_EXCEPTION  0x80u       /* or'd into the function of an exception response */

enum modbus_kind { MODBUS_REQUEST = 0, MODBUS_RESPONSE = 1 };

/* One frame minus its CRC: data is the PDU after the function code. */
struct modbus_frame {
	uint8_t addr;
	uint8_t fc;
	uint8_t len;                    /* bytes in data */
	uint8_t data[MODBUS_DATA_MAX];
};

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); the wire carries it low byte first. */
uint16_t rig_modbus_crc(const uint8_t *p, size_t n);

/* The length of the frame that starts at p[0..have), from its function code, the byte count
 * where there is one, and which way it goes: 0 while too few bytes are there to tell, -1 when
 * the function is not one whose length is known (the assembler skips such a byte). */
int rig_modbus_frame_len(const uint8_t *p, size_t have, enum modbus_kind kind);

/* Frame <-> wire. parse takes exactly one complete frame of the given kind and checks its CRC
 * and its length against what its function code says. */
rig_rc rig_modbus_frame_encode(const struct modbus_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_modbus_frame_parse(const uint8_t *wire, size_t n, enum modbus_kind kind, struct modbus_frame *f);
/* parse's checks without the copy: whether wire[0..n) is one valid frame (the assemblers look
 * ahead for a later frame with it, with no frame on the stack). */
rig_rc rig_modbus_frame_check(const uint8_t *wire, size_t n, enum modbus_kind kind);

/* Incremental receive of one direction: bytes in any pieces; garbage, bad CRCs and unknown
 * functions skipped a byte at a time so that a real frame inside them is still found. */
struct modbus_rx {
	uint8_t buf[MODBUS_ADU_MAX];
	struct rxbuf b;
	uint8_t kind;                   /* enum modbus_kind this side receives */
};
void rig_modbus_rx_init(struct modbus_rx *rx, uint32_t gap_ms, enum modbus_kind kind);
size_t rig_modbus_rx_feed(struct modbus_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next valid frame. RIG_MORE: nothing complete yet. */
rig_rc rig_modbus_rx_next(struct modbus_rx *rx, struct modbus_frame *f);

/* An exception response: function fc | 0x80 and one code (01 illegal function, 02 illegal data
 * address, 03 illegal data value). */
void rig_modbus_exception(struct modbus_frame *f, uint8_t addr, uint8_t fc, uint8_t code);

/* The body "register, count" (both big-endian, 4 bytes) that a read request and a
 * write-multiple reply carry: built with function fc, and read back when f is fc with exactly
 * that body (RIG_ERR_UNSUPPORTED another function, RIG_ERR_LENGTH another length). */
void rig_modbus_reg_count(struct modbus_frame *f, uint8_t addr, uint8_t fc, uint16_t reg, uint16_t count);
rig_rc rig_modbus_reg_count_decode(const struct modbus_frame *f, uint8_t fc, uint16_t *reg, uint16_t *count);

#ifdef __cplusplus
}
#endif

#endif
