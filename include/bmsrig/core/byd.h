/*
 * BYD PRO 2.5 RS485 codec: frame build and parse, the incremental receive assembler, and the
 * one data record. Byte layouts: docs/protocols/byd.md. C99, no heap, no stdio, no floating
 * point.
 *
 * Both directions share one frame shape (it looks like Modbus but is not):
 *   addr, size (u16 big-endian = frame length - 4), 0x01 (protocol version), cmd, 0x55, 0xAA,
 *   payload, sum8 of every byte but the address and the sum itself.
 * Request:  cmd 0x03 (read), no payload: `01 00 04 01 03 55 AA 07` for address 1.
 * Response: cmd 0x83 (read | 0x80), payload = result byte (0 = OK) + the 96-byte record, all
 *           fields packed little-endian (a struct of the BMS's ARM firmware sent as it is).
 * The frame has no start byte: the assembler takes a frame where the version, command class and
 * 55 AA fall in place and the sum holds, and otherwise drops one byte and looks again.
 */
#ifndef BMSRIG_BYD_H
#define BMSRIG_BYD_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BYD_VERSION         0x01u
#define BYD_CMD_READ        0x03u
#define BYD_CMD_REPLY_BIT   0x80u      /* a reply's cmd is the request's with this bit set */
#define BYD_MARK0           0x55u      /* bytes 5 and 6 of every frame */
#define BYD_MARK1           0xAAu
#define BYD_HEADER_LEN      7u         /* addr, size(2), version, cmd, 55, AA */
#define BYD_FRAME_OVERHEAD  8u         /* header + sum */
#define BYD_REQUEST_LEN     8u
#define BYD_CELLS           16u        /* cell slots in the record */
#define BYD_TEMPS           8u         /* temperature slots in the record */
#define BYD_RECORD_LEN      96u        /* the read reply's record, after the result byte */
#define BYD_PAYLOAD_MAX     112u       /* the seed client's buffer for what follows addr+size */
#define BYD_FRAME_MAX       (BYD_PAYLOAD_MAX + BYD_FRAME_OVERHEAD)
#define BYD_READ_REPLY_LEN  (BYD_FRAME_OVERHEAD + 1u + BYD_RECORD_LEN)   /* 105 bytes */
#define BYD_ADDR_DEFAULT    1u         /* the seed's example; the bus may use 0..0xFF */

/* Bits of the alarm and protect words (the same layout in both). */
enum byd_state_bit {
	BYD_ST_PACK_V_HIGH    = 1u << 0,
	BYD_ST_MODULE_V_HIGH  = 1u << 1,
	BYD_ST_CELL_V_HIGH    = 1u << 2,
	BYD_ST_PACK_V_LOW     = 1u << 3,
	BYD_ST_MODULE_V_LOW   = 1u << 4,
	BYD_ST_CELL_V_LOW     = 1u << 5,
	BYD_ST_CHG_I_HIGH     = 1u << 6,
	BYD_ST_DSG_I_HIGH     = 1u << 7,
	BYD_ST_CHG_T_HIGH     = 1u << 8,
	BYD_ST_DSG_T_HIGH     = 1u << 9,
	BYD_ST_CHG_T_LOW      = 1u << 10,
	BYD_ST_DSG_T_LOW      = 1u << 11,
	BYD_ST_SOC_LOW        = 1u << 12,
	BYD_ST_DSG_SHORT      = 1u << 14,
	BYD_ST_REVERSED       = 1u << 15,
	BYD_ST_CYCLES_HIGH    = 1u << 16,
	BYD_ST_CHG_SHORT      = 1u << 19
};

/* Bits of the fail word. */
enum byd_fail_bit {
	BYD_FAIL_VOLT_SENSOR  = 1u << 0,
	BYD_FAIL_TEMP_SENSOR  = 1u << 1,
	BYD_FAIL_CHG_FET      = 1u << 2,
	BYD_FAIL_DSG_FET      = 1u << 3,
	BYD_FAIL_CELL         = 1u << 4,
	BYD_FAIL_HEATER       = 1u << 5,
	BYD_FAIL_PANEL_SWITCH = 1u << 7,
	BYD_FAIL_CHG_CIRCUIT  = 1u << 8
};

/* The battery state word: one of these. */
enum byd_battery_state {
	BYD_BAT_CHARGE = 1u, BYD_BAT_DISCHARGE = 2u, BYD_BAT_FULL = 4u, BYD_BAT_IDLE = 8u
};

/* One frame minus size, version, marks and sum. */
struct byd_frame {
	uint8_t addr;
	uint8_t cmd;
	uint8_t len;                        /* payload bytes */
	uint8_t payload[BYD_PAYLOAD_MAX];
};

/* The read reply's record, in wire order and the wire's units. */
struct byd_data {
	int32_t pack_mV;                    /* at the terminals */
	int32_t battery_mV;                 /* of the cells, before the FETs */
	int16_t cell_mV[BYD_CELLS];         /* unused slots 0 */
	int32_t current_mA;                 /* + = charging */
	int16_t temp_C[BYD_TEMPS];          /* whole degC */
	uint32_t others, alarm, protect, fail, balance;
	uint16_t battery_state;             /* enum byd_battery_state */
	uint16_t soc_pct;
	uint32_t soh_pct;
	uint32_t discharge_count;
	uint32_t total_discharge;           /* unit not known; carried as it is */
};

/* Low 8 bits of the sum of p[0..n-1]. */
uint8_t rig_byd_checksum(const uint8_t *p, size_t n);

/* Frame <-> wire bytes. parse takes exactly one whole frame and checks everything. */
rig_rc rig_byd_frame_encode(const struct byd_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_byd_frame_parse(const uint8_t *wire, size_t n, struct byd_frame *f);
/* A host's request (cmd without the reply bit) rather than a BMS's reply. */
int rig_byd_frame_is_request(const struct byd_frame *f);

/* Incremental receive: bytes in any pieces, garbage and bad frames skipped. */
struct byd_rx {
	uint8_t buf[BYD_FRAME_MAX];
	struct rxbuf b;            /* rejected_frames: bad marks, size or sum */
};
void rig_byd_rx_init(struct byd_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n-1] as fit; returns the count taken. Call rig_byd_rx_next until it
 * stops returning RIG_OK before feeding the rest. */
size_t rig_byd_rx_feed(struct byd_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next valid frame. RIG_MORE: nothing complete yet. */
rig_rc rig_byd_rx_next(struct byd_rx *rx, struct byd_frame *f);

/* The read request to addr. */
void rig_byd_request_read(struct byd_frame *f, uint8_t addr);
/* A read reply from addr: result 0 and the record. */
void rig_byd_response_data(struct byd_frame *f, uint8_t addr, const struct byd_data *d);
/* A read reply carrying only a non-zero result byte (how a refusal would look; none captured). */
void rig_byd_response_error(struct byd_frame *f, uint8_t addr, uint8_t result);

/* A read reply's record. RIG_ERR_STATUS: the result byte is not 0. RIG_ERR_LENGTH: the
 * payload is not result + 96 bytes. RIG_ERR_UNSUPPORTED: not a read reply. */
rig_rc rig_byd_data_decode(const struct byd_frame *f, struct byd_data *d);

/* The neutral view of a record. Cells: the slots up to the last non-zero one (a pack of fewer
 * than 16 cells leaves the rest 0). RIG_ERR_ARG for what no pack reports: a negative pack or
 * cell voltage, an SOC above 100, a temperature below -273 degC. */
rig_rc rig_byd_to_pack_state(const struct byd_data *d, struct pack_state *out);
/* Neutral protection bits (enum pack_prot) <-> the protect word, both ways. */
uint32_t rig_byd_state_from_prot(uint32_t prot);
uint32_t rig_byd_prot_from_state(uint32_t protect, uint32_t fail);

#ifdef __cplusplus
}
#endif

#endif
