/*
 * Deye's RS485 battery protocol: Modbus RTU, the inverter as master polling each pack (slave
 * address 0x00-0x0E) with function 0x04 on the input-register block 0x1000-0x1015, and 0x11
 * ("report slave ID") for the pack's identity. Byte layouts: docs/protocols/deye-modbus.md.
 * C99, no heap, no stdio, no floating point.
 *
 * The Modbus RTU framing is the core's one (modbus_rtu.h, shared with JK-PB), built by hand
 * rather than taken from libmodbus: the core has to run on an ESP8266 with no such library,
 * and the 0x11 payload Deye expects differs from the one libmodbus builds anyway.
 */
#ifndef BMSRIG_DEYE_MODBUS_H
#define BMSRIG_DEYE_MODBUS_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/modbus_rtu.h"
#include "bmsrig/core/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DEYE_MB_READ_MAX     125u        /* registers one FC 0x04 may ask for */
#define DEYE_MB_ADDR_MAX     0x0Eu       /* Deye polls packs 0x00..0x0E */
#define DEYE_MB_BLOCK_START  0x1000u
#define DEYE_MB_BLOCK_COUNT  22u         /* 0x1000..0x1015, what Deye reads */
#define DEYE_MB_MODEL_MAX    15u         /* FC 0x11 model text */
#define DEYE_MB_SERIAL_LEN   20u         /* FC 0x11 serial, fixed length */
#define DEYE_MB_IDENT_LEN(model_len) ((model_len) + 1u + 2u + 1u + 2u + 1u + DEYE_MB_SERIAL_LEN + 1u)

enum deye_mb_fc {
	DEYE_MB_FC_READ_INPUT = 0x04,
	DEYE_MB_FC_REPORT_ID  = 0x11
};

enum deye_mb_exception {
	DEYE_MB_EX_ILLEGAL_FUNCTION = 0x01,
	DEYE_MB_EX_ILLEGAL_ADDRESS  = 0x02,
	DEYE_MB_EX_ILLEGAL_VALUE    = 0x03
};

/* Registers of the block, as offsets from DEYE_MB_BLOCK_START. */
enum deye_mb_reg {
	DEYE_MB_R_PACK_V = 0, DEYE_MB_R_CURRENT, DEYE_MB_R_REMAIN, DEYE_MB_R_TEMP_AVG, DEYE_MB_R_TEMP_ENV,
	DEYE_MB_R_WARN, DEYE_MB_R_PROT, DEYE_MB_R_STATUS, DEYE_MB_R_SOC, DEYE_MB_R_SOH, DEYE_MB_R_FULL,
	DEYE_MB_R_CYCLES, DEYE_MB_R_CCL, DEYE_MB_R_CELL_MAX, DEYE_MB_R_CELL_MIN, DEYE_MB_R_RESERVED_F,
	DEYE_MB_R_TEMP_MAX, DEYE_MB_R_TEMP_MIN, DEYE_MB_R_TEMP_MOS, DEYE_MB_R_RESERVED_13,
	DEYE_MB_R_FLOAT_V, DEYE_MB_R_DESIGN
};

/* 0x1007 status bits. */
#define DEYE_MB_ST_FAULT       (1u << 0)
#define DEYE_MB_ST_SENSOR      (1u << 1)
#define DEYE_MB_ST_CHARGING    (1u << 8)
#define DEYE_MB_ST_DISCHARGING (1u << 9)
#define DEYE_MB_ST_CHG_FET     (1u << 10)
#define DEYE_MB_ST_DSG_FET     (1u << 11)
#define DEYE_MB_ST_CHG_LIMIT   (1u << 12)

/* Requests. */
void rig_deye_mb_request_read(struct modbus_frame *f, uint8_t addr, uint16_t start, uint16_t count);
void rig_deye_mb_request_ident(struct modbus_frame *f, uint8_t addr);
/* A FC 0x04 request's start and count (RIG_ERR_LENGTH when it is not 4 data bytes). */
rig_rc rig_deye_mb_read_decode(const struct modbus_frame *f, uint16_t *start, uint16_t *count);

/* Responses. */
rig_rc rig_deye_mb_response_regs(struct modbus_frame *f, uint8_t addr, const uint16_t *regs, uint16_t count);
/* A FC 0x04 response's registers into regs[0..cap): RIG_ERR_LENGTH when the byte count is odd,
 * disagrees with the length or exceeds cap. */
rig_rc rig_deye_mb_regs_decode(const struct modbus_frame *f, uint16_t *regs, uint16_t cap, uint16_t *count);

/* FC 0x11: model `*` software (2 bytes) `*` hardware (2 bytes) `*` serial (20 bytes) `*`. */
struct deye_mb_ident {
	uint8_t model_len;                     /* 1..DEYE_MB_MODEL_MAX */
	char model[DEYE_MB_MODEL_MAX];         /* no '*' in it */
	uint8_t sw[2], hw[2];
	char serial[DEYE_MB_SERIAL_LEN];
};
rig_rc rig_deye_mb_ident_encode(struct modbus_frame *f, uint8_t addr, const struct deye_mb_ident *id);
rig_rc rig_deye_mb_ident_decode(const struct modbus_frame *f, struct deye_mb_ident *id);

/* The register at DEYE_MB_BLOCK_START + offset as the record gives it: the block's 22, 0 for
 * 0x1016 (reserved) and 0xFFFF for any other address, as Deye's packs answer. */
uint16_t rig_deye_mb_reg_value(const struct rig_inv_battery *r, uint32_t reg);
/* The 22 registers of the block <-> the record (decode fills what the block carries and zeroes
 * the rest; module_count 1). */
void rig_deye_mb_block_encode(const struct rig_inv_battery *r, uint16_t regs[DEYE_MB_BLOCK_COUNT]);
void rig_deye_mb_block_decode(const uint16_t regs[DEYE_MB_BLOCK_COUNT], struct rig_inv_battery *r);

#ifdef __cplusplus
}
#endif

#endif
