/*
 * JBD / Xiaoxiang / Overkill smart-BMS codec: frame build and parse, the incremental
 * receive assembler, and the typed payloads of every register both sides use.
 * Byte layouts: docs/protocols/jbd.md. C99, no heap, no stdio, no floating point.
 *
 * Both directions share one frame shape: DD, byte1, byte2, len, data[len], checksum(2), 77.
 * Request:  byte1 = A5 (read) or 5A (write), byte2 = register.
 * Response: byte1 = register (echo),          byte2 = status.
 */
#ifndef BMSRIG_JBD_H
#define BMSRIG_JBD_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JBD_START        0xDDu
#define JBD_STOP         0x77u
#define JBD_RW_READ      0xA5u
#define JBD_RW_WRITE     0x5Au
#define JBD_OVERHEAD     7u                       /* start, byte1, byte2, len, csum(2), stop */
#define JBD_DATA_MAX     255u
#define JBD_FRAME_MAX    (JBD_DATA_MAX + JBD_OVERHEAD)
#define JBD_CELLS_MAX    32u
#define JBD_NTC_MAX      8u
#define JBD_TEXT_MAX     31u                      /* strings and the 0x05 model text */
#define JBD_EVENTS_MAX   12u
#define JBD_PARAMS_MAX   ((JBD_DATA_MAX - 3u) / 2u)
#define JBD_BASIC_EXT_LEN 9u                      /* newer firmware's 0x03 tail, docs/protocols/jbd.md §4.8 */
#define JBD_BASIC_FIXED_LEN 23u                   /* 0x03 data before the NTC values */

enum jbd_reg {
	JBD_REG_FACTORY_ENTER = 0x00,   /* write JBD_FACTORY_KEY */
	JBD_REG_FACTORY_EXIT  = 0x01,   /* write JBD_EXIT_DISCARD or JBD_EXIT_SAVE */
	JBD_REG_BASIC         = 0x03,
	JBD_REG_CELLS         = 0x04,
	JBD_REG_VERSION       = 0x05,   /* model text, no length prefix */
	JBD_REG_PASSWORD      = 0x06,
	JBD_REG_CONTROL       = 0x0A,
	JBD_REG_EEPROM_FIRST  = 0x10,
	JBD_REG_DESIGN_CAP    = 0x10,   /* 10 mAh */
	JBD_REG_CYCLE_CAP     = 0x11,
	JBD_REG_MFG_DATE      = 0x15,
	JBD_REG_CYCLES        = 0x17,
	JBD_REG_FUNC_CONFIG   = 0x2D,
	JBD_REG_NTC_ENABLE    = 0x2E,
	JBD_REG_CELL_COUNT    = 0x2F,
	JBD_REG_EEPROM_LAST   = 0x47,
	JBD_REG_MFG_NAME      = 0xA0,   /* length-prefixed strings */
	JBD_REG_DEVICE_NAME   = 0xA1,
	JBD_REG_BARCODE       = 0xA2,
	JBD_REG_EVENTS        = 0xAA,
	JBD_REG_CAL_FIRST     = 0xAD,   /* current, cell and NTC calibration */
	JBD_REG_CAL_LAST      = 0xD7,
	JBD_REG_REMAIN_CAP    = 0xE0,
	JBD_REG_MOSFET        = 0xE1,   /* inhibit mask: bit 0 charge off, bit 1 discharge off */
	JBD_REG_PARAM_BLOCK   = 0xFA
};

enum jbd_status {
	JBD_STATUS_OK          = 0x00,
	JBD_STATUS_UNSUPPORTED = 0x80,
	JBD_STATUS_REFUSED     = 0x81,  /* not in factory mode, or BLE password */
	JBD_STATUS_CHECKSUM    = 0x82,
	JBD_STATUS_PASSWORD    = 0x83
};

#define JBD_FACTORY_KEY   0x5678u
#define JBD_EXIT_DISCARD  0x0000u
#define JBD_EXIT_SAVE     0x2828u
#define JBD_MOSFET_CHG_OFF 0x01u
#define JBD_MOSFET_DSG_OFF 0x02u
#define JBD_FET_CHG_ON    0x01u     /* 0x03 FET status byte */
#define JBD_FET_DSG_ON    0x02u

/* 0x03 protection bits 0..12 (docs/protocols/jbd.md §4.4). */
enum jbd_prot_bit {
	JBD_PROT_CELL_OV = 0, JBD_PROT_CELL_UV, JBD_PROT_PACK_OV, JBD_PROT_PACK_UV,
	JBD_PROT_CHG_OT, JBD_PROT_CHG_UT, JBD_PROT_DSG_OT, JBD_PROT_DSG_UT,
	JBD_PROT_CHG_OC, JBD_PROT_DSG_OC, JBD_PROT_SHORT, JBD_PROT_AFE, JBD_PROT_SW_LOCK
};

enum jbd_kind { JBD_KIND_REQUEST = 0, JBD_KIND_RESPONSE = 1 };

/* One frame, as it stands on the wire minus framing bytes. */
struct jbd_frame {
	uint8_t kind;          /* enum jbd_kind */
	uint8_t rw;            /* request: JBD_RW_READ / JBD_RW_WRITE; response: 0 */
	uint8_t reg;
	uint8_t status;        /* response: enum jbd_status; request: 0 */
	uint8_t len;
	uint8_t data[JBD_DATA_MAX];
};

/* 16-bit negated byte sum over p[0..n-1] (frame offsets 2..3+len). */
uint16_t rig_jbd_checksum(const uint8_t *p, size_t n);

/* Frame <-> wire bytes. parse takes exactly one complete frame and checks everything. */
rig_rc rig_jbd_frame_encode(const struct jbd_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_jbd_frame_parse(const uint8_t *wire, size_t n, struct jbd_frame *f);

/* Incremental receive: bytes in any pieces, garbage and bad frames skipped. */
struct jbd_rx {
	uint8_t buf[JBD_FRAME_MAX];
	struct rxbuf b;            /* rejected_frames: bad checksum, stop byte or length */
};
void rig_jbd_rx_init(struct jbd_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n-1] as fit; returns the count taken. Call rig_jbd_rx_next until it
 * stops returning RIG_OK before feeding the rest. */
size_t rig_jbd_rx_feed(struct jbd_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next valid frame. RIG_MORE: nothing complete yet. */
rig_rc rig_jbd_rx_next(struct jbd_rx *rx, struct jbd_frame *f);

/* Requests. */
void rig_jbd_request_read(struct jbd_frame *f, uint8_t reg);
rig_rc rig_jbd_request_write(struct jbd_frame *f, uint8_t reg, const uint8_t *data, uint8_t len);
void rig_jbd_request_write_u16(struct jbd_frame *f, uint8_t reg, uint16_t value);
void rig_jbd_request_factory_enter(struct jbd_frame *f);
void rig_jbd_request_factory_exit(struct jbd_frame *f, int save);
void rig_jbd_request_mosfet(struct jbd_frame *f, uint8_t inhibit_mask);
/* Responses without data. */
void rig_jbd_response_ack(struct jbd_frame *f, uint8_t reg);
void rig_jbd_response_error(struct jbd_frame *f, uint8_t reg, uint8_t status);

/* 0x03 basic information. */
struct jbd_basic {
	uint32_t pack_mV;            /* wire: 10 mV */
	int32_t current_mA;          /* wire: s16 10 mA, + = charging */
	uint32_t remain_mAh;         /* wire: 10 mAh */
	uint32_t full_mAh;
	uint16_t cycles;
	uint16_t production_date;    /* packed, docs/protocols/jbd.md §4.2 */
	uint16_t bal_low, bal_high;  /* cells 1-16, 17-32, bit 0 = lowest cell */
	uint16_t prot_raw;
	uint8_t sw_version;
	uint8_t soc_pct;
	uint8_t fet;                 /* JBD_FET_* bits */
	uint8_t cell_count;
	uint8_t ntc_count;
	uint16_t temp_dK[JBD_NTC_MAX];
	uint8_t has_ext;             /* the 9-byte extension follows the temperatures */
	uint8_t humidity_pct;
	uint16_t alarm_raw;
	uint32_t ext_full_mAh;
	uint32_t ext_remain_mAh;
	uint16_t balance_current_mA;
};
rig_rc rig_jbd_basic_decode(const struct jbd_frame *f, struct jbd_basic *b);
rig_rc rig_jbd_basic_encode(struct jbd_frame *f, const struct jbd_basic *b);

/* 0x04 cell voltages. */
struct jbd_cells {
	uint8_t count;
	uint16_t cell_mV[JBD_CELLS_MAX];
};
rig_rc rig_jbd_cells_decode(const struct jbd_frame *f, struct jbd_cells *c);
rig_rc rig_jbd_cells_encode(struct jbd_frame *f, const struct jbd_cells *c);

/* 0x05 model text (no prefix) and the 0xA0-0xA2 strings (length prefix). */
struct jbd_text {
	uint8_t len;
	char text[JBD_TEXT_MAX + 1];  /* NUL-terminated for convenience */
};
rig_rc rig_jbd_version_decode(const struct jbd_frame *f, struct jbd_text *t);
rig_rc rig_jbd_version_encode(struct jbd_frame *f, const struct jbd_text *t);
rig_rc rig_jbd_string_decode(const struct jbd_frame *f, struct jbd_text *t);
rig_rc rig_jbd_string_encode(struct jbd_frame *f, uint8_t reg, const struct jbd_text *t);
/* A string write request's data (length prefix included) into t. */
rig_rc rig_jbd_string_request_decode(const struct jbd_frame *f, struct jbd_text *t);

/* 0xAA protection event counters: 11, or 12 with the restart counter. */
struct jbd_events {
	uint8_t count;
	uint16_t value[JBD_EVENTS_MAX];
};
rig_rc rig_jbd_events_decode(const struct jbd_frame *f, struct jbd_events *e);
rig_rc rig_jbd_events_encode(struct jbd_frame *f, const struct jbd_events *e);

/* 2-byte registers: EEPROM 0x10-0x47 replies, any 2-byte write request (E1, calibration...). */
rig_rc rig_jbd_register_decode(const struct jbd_frame *f, uint16_t *value);
void rig_jbd_register_encode(struct jbd_frame *f, uint8_t reg, uint16_t value);

/* 0xFA parameter block reply. */
struct jbd_params {
	uint16_t start;
	uint8_t count;
	uint16_t value[JBD_PARAMS_MAX];
};
rig_rc rig_jbd_params_decode(const struct jbd_frame *f, struct jbd_params *p);
rig_rc rig_jbd_params_encode(struct jbd_frame *f, const struct jbd_params *p);

/* What a register is, for both personality and tools. */
int rig_jbd_reg_is_eeprom(uint8_t reg);       /* 0x10-0x47 */
int rig_jbd_reg_is_string(uint8_t reg);       /* 0xA0-0xA2 */
int rig_jbd_reg_is_calibration(uint8_t reg);  /* 0xAD-0xD7 */

/* Packed production date. */
uint16_t rig_jbd_date_pack(unsigned year, unsigned month, unsigned day);
void rig_jbd_date_unpack(uint16_t packed, unsigned *year, unsigned *month, unsigned *day);

/* JBD 0x03 + 0x04 into the neutral view (the client's, and tools that decode captures). JBD
 * protection bits 0..12 are PACK_PROT_* bit for bit. */
void rig_jbd_to_pack_state(const struct jbd_basic *b, const struct jbd_cells *c, struct pack_state *s);

#ifdef __cplusplus
}
#endif

#endif
