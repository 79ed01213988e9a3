/*
 * Pylontech low-voltage RS485 codec (the battery-to-inverter ASCII protocol): frame build and
 * parse, the resynchronising receive assembler, requests, and the payloads of every command
 * both ways. Byte layouts: docs/protocols/pylontech-rs485.md. C99, no heap, no floating point.
 *
 * Wire: '~' VER ADR CID1 CID2 LENGTH INFO CHKSUM '\r', every field but SOI and EOI written as
 * upper-case hex characters. In a request CID2 is the command; in a response it is the return
 * code RTN. LENGTH = LCHKSUM(4 bits) | LENID(12 bits, INFO characters).
 */
#ifndef BMSRIG_PYLON_RS485_H
#define BMSRIG_PYLON_RS485_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYLON_SOI          0x7Eu      /* '~' */
#define PYLON_EOI          0x0Du      /* '\r' */
#define PYLON_VER          0x20u      /* every captured low-voltage frame */
#define PYLON_CID1         0x46u      /* battery data */
#define PYLON_ADR_DEFAULT  0x02u      /* the master module in single-group mode */
#define PYLON_ADR_ALL      0xFFu      /* command value "all modules" (0x42, 0x44) */
#define PYLON_INFO_MAX     1024u      /* INFO bytes we hold: 15 modules of 16 cells fit */
#define PYLON_OVERHEAD     18u        /* SOI, 12 header characters, 4 CHKSUM characters, EOI */
#define PYLON_FRAME_MAX    (PYLON_OVERHEAD + 2u * PYLON_INFO_MAX)
#define PYLON_MODULES_MAX  RIG_INV_MODULES_MAX
#define PYLON_CELLS_MAX    16u        /* 0x44 status 4/5 carry cell bits 1-16 */
#define PYLON_TEMPS_MAX    8u
#define PYLON_NAME_LEN     10u        /* 0x51 / 0x60 device name */
#define PYLON_MFR_LEN      20u        /* 0x51 / 0x60 manufacturer */
#define PYLON_SERIAL_LEN   16u        /* 0x93 / 0x60 serial number */
#define PYLON_TRAILER_MAX  8u         /* bytes after 0x44 status 5 (a US2000C sends one 00) */

enum pylon_cid2 {
	PYLON_CMD_ANALOG      = 0x42,
	PYLON_CMD_ALARM       = 0x44,
	PYLON_CMD_SYS_PARAM   = 0x47,
	PYLON_CMD_PROTO_VER   = 0x4F,
	PYLON_CMD_MFR_INFO    = 0x51,
	PYLON_CMD_MGMT        = 0x92,
	PYLON_CMD_SERIAL      = 0x93,
	PYLON_CMD_SYS_BASIC   = 0x60,   /* V3.5 system commands, answered by the master */
	PYLON_CMD_SYS_ANALOG  = 0x61,
	PYLON_CMD_SYS_ALARM   = 0x62,
	PYLON_CMD_SYS_MGMT    = 0x63
};

enum pylon_rtn {
	PYLON_RTN_OK       = 0x00,
	PYLON_RTN_VER      = 0x01,
	PYLON_RTN_CHKSUM   = 0x02,
	PYLON_RTN_LCHKSUM  = 0x03,
	PYLON_RTN_CID2     = 0x04,
	PYLON_RTN_FORMAT   = 0x05,
	PYLON_RTN_DATA     = 0x06,
	PYLON_RTN_ADR      = 0x90,
	PYLON_RTN_INTERNAL = 0x91
};

/* 0x92 / 0x63 status byte. */
enum pylon_mgmt_bit {
	PYLON_MGMT_CHG_ENABLE   = 0x80u,
	PYLON_MGMT_DSG_ENABLE   = 0x40u,
	PYLON_MGMT_FORCE_CHG_1  = 0x20u,
	PYLON_MGMT_FORCE_CHG_2  = 0x10u,
	PYLON_MGMT_FULL_CHG_REQ = 0x08u
};

/* 0x44 status 1 (and our 0x62 alarm/protection bytes, docs/protocols/pylontech-rs485.md). */
enum pylon_status1_bit {
	PYLON_ST1_MODULE_UV  = 0x80u,
	PYLON_ST1_CHG_OT     = 0x40u,
	PYLON_ST1_DSG_OT     = 0x20u,
	PYLON_ST1_DSG_OC     = 0x10u,
	PYLON_ST1_CHG_OC     = 0x04u,
	PYLON_ST1_CELL_UV    = 0x02u,
	PYLON_ST1_MODULE_OV  = 0x01u
};
#define PYLON_ST2_DSG_FET    0x04u
#define PYLON_ST2_CHG_FET    0x02u
#define PYLON_ST2_MODULE_POWER 0x08u   /* running on the module's own power */
#define PYLON_ST3_CHARGING   0x80u
#define PYLON_ST3_DISCHARGING 0x40u
#define PYLON_ST3_FULL       0x08u

/* 0x44 state bytes. */
enum pylon_state { PYLON_STATE_NORMAL = 0x00, PYLON_STATE_LOW = 0x01, PYLON_STATE_HIGH = 0x02,
                   PYLON_STATE_OTHER = 0xF0 };

/* One frame minus framing, INFO as bytes. */
struct pylon_frame {
	uint8_t ver, adr, cid1, cid2;     /* cid2: the command (request) or RTN (response) */
	uint16_t info_len;                /* bytes (LENID / 2) */
	uint8_t info[PYLON_INFO_MAX];
};

/* Two's complement of the sum of p[0..n-1] (the ASCII characters VER..INFO). */
uint16_t rig_pylon_checksum(const uint8_t *p, size_t n);
/* LENGTH for lenid (0..4095): the 4-bit LCHKSUM over the three nibbles, masked (two public
 * implementations forget the mask and print 5 digits when the nibble sum is a multiple of 16). */
uint16_t rig_pylon_length_field(uint16_t lenid);

/* A CID2 value as a return code (0x00-0x06, 0x90, 0x91) rather than a command: a response. */
int rig_pylon_is_rtn(uint8_t cid2);

/* Frame <-> wire. encode writes upper-case hex; parse takes exactly one frame ('~'..'\r'),
 * either hex case, and checks characters, LENGTH (RIG_ERR_LENGTH, also an LCHKSUM error) and
 * CHKSUM (RIG_ERR_CHECKSUM). On those two errors the header fields of *f are still filled
 * (info_len 0), so a battery can give the matching RTN reply. */
rig_rc rig_pylon_frame_encode(const struct pylon_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_pylon_frame_parse(const uint8_t *wire, size_t n, struct pylon_frame *f);

/* Incremental receive: a frame is '~' up to the next '\r'; bytes before a '~' are skipped, a
 * '~' inside a frame restarts it there, and an overlong frame is dropped. */
struct pylon_rx {
	uint8_t buf[PYLON_FRAME_MAX];
	struct rxbuf b;
};
void rig_pylon_rx_init(struct pylon_rx *rx, uint32_t gap_ms);
size_t rig_pylon_rx_feed(struct pylon_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next good frame. RIG_MORE: nothing complete. RIG_ERR_CHECKSUM or
 * RIG_ERR_LENGTH: a delimited frame whose header read but whose checksum or LENGTH did not
 * (*f has the header; the frame is consumed and counted rejected). */
rig_rc rig_pylon_rx_next(struct pylon_rx *rx, struct pylon_frame *f);

/* Requests: INFO = one command-value byte (the address, or FF), or none. */
void rig_pylon_request(struct pylon_frame *f, uint8_t adr, uint8_t cid2, int with_value, uint8_t value);
/* A response head: VER 0x20, CID1 0x46, RTN, no INFO yet. */
void rig_pylon_response(struct pylon_frame *f, uint8_t adr, uint8_t rtn);

/* ---- 0x42 analogue values -------------------------------------------------------------- */
struct pylon_module {
	uint8_t cell_count;
	uint16_t cell_mV[PYLON_CELLS_MAX];
	uint8_t temp_count;
	uint16_t temp_dK[PYLON_TEMPS_MAX];   /* s16 on the wire, 0.1 K; first the BMS board */
	int32_t current_mA;                  /* wire: s16 0.1 A, + = charging */
	uint32_t pack_mV;
	uint8_t user_defined;                /* 2: u16 capacities; 4: FFFF then u24 capacities */
	uint32_t remain_mAh, full_mAh;
	uint16_t cycles;
	uint16_t remain16_mAh, full16_mAh;   /* with user-defined 4: the u16 fields as sent (FFFF
	                                      * on a US3000), written back as they stand */
};
struct pylon_analog {
	uint8_t dataflag;
	uint8_t command_value;               /* the address, or the module count for FF */
	uint8_t module_count;
	struct pylon_module m[PYLON_MODULES_MAX];
};
rig_rc rig_pylon_analog_decode(const struct pylon_frame *f, struct pylon_analog *a);
rig_rc rig_pylon_analog_encode(struct pylon_frame *f, const struct pylon_analog *a);

/* ---- 0x44 alarm info ------------------------------------------------------------------- */
struct pylon_alarm_module {
	uint8_t cell_count;
	uint8_t cell_state[PYLON_CELLS_MAX];
	uint8_t temp_count;
	uint8_t temp_state[PYLON_TEMPS_MAX];
	uint8_t chg_current_state, voltage_state, dsg_current_state;
	uint8_t status[5];
};
struct pylon_alarm {
	uint8_t dataflag, command_value, module_count;
	struct pylon_alarm_module m[PYLON_MODULES_MAX];
	uint8_t trailer_len;                 /* bytes after the last module, kept as sent */
	uint8_t trailer[PYLON_TRAILER_MAX];
};
rig_rc rig_pylon_alarm_decode(const struct pylon_frame *f, struct pylon_alarm *a);
rig_rc rig_pylon_alarm_encode(struct pylon_frame *f, const struct pylon_alarm *a);

/* ---- 0x47 system parameters (INFOFLAG, then 12 values) --------------------------------- */
struct pylon_sys_param {
	uint8_t infoflag;
	uint16_t cell_high_mV, cell_low_mV, cell_under_mV;
	uint16_t chg_high_dK, chg_low_dK;
	int32_t chg_current_mA;              /* wire: s16 0.1 A */
	uint16_t module_high_mV, module_low_mV, module_under_mV;
	uint16_t dsg_high_dK, dsg_low_dK;
	int32_t dsg_current_mA;              /* wire: s16 0.1 A, real packs send it negative */
};
rig_rc rig_pylon_sys_param_decode(const struct pylon_frame *f, struct pylon_sys_param *p);
rig_rc rig_pylon_sys_param_encode(struct pylon_frame *f, const struct pylon_sys_param *p);

/* ---- 0x92 (command value first) and 0x63 (no command value): charge management ---------- */
struct pylon_mgmt {
	uint8_t has_command_value, command_value;
	uint32_t cvl_mV, dvl_mV;
	int32_t ccl_mA;                      /* wire: s16 0.1 A */
	int32_t dcl_mA;                      /* wire: s16 0.1 A, signed as sent: we send it negative
	                                      * like the 0x47 limit; the record takes the magnitude */
	uint8_t status;                      /* enum pylon_mgmt_bit */
};
rig_rc rig_pylon_mgmt_decode(const struct pylon_frame *f, int has_command_value, struct pylon_mgmt *m);
rig_rc rig_pylon_mgmt_encode(struct pylon_frame *f, const struct pylon_mgmt *m);

/* ---- 0x93 serial number, 0x51 manufacturer info -------------------------------------- */
struct pylon_serial {
	uint8_t command_value;
	char serial[PYLON_SERIAL_LEN + 1];   /* 16 bytes as sent (pad a shorter text with NULs:
	                                      * all 16 are encoded), then a NUL */
};
rig_rc rig_pylon_serial_decode(const struct pylon_frame *f, struct pylon_serial *s);
rig_rc rig_pylon_serial_encode(struct pylon_frame *f, const struct pylon_serial *s);

struct pylon_mfr {
	char name[PYLON_NAME_LEN + 1];       /* as sent; NUL padding ends the string early */
	uint8_t sw_major, sw_minor;
	char manufacturer[PYLON_MFR_LEN + 1];
	uint8_t name_raw[PYLON_NAME_LEN];    /* the exact bytes, for a byte-exact rebuild */
	uint8_t mfr_raw[PYLON_MFR_LEN];
};
rig_rc rig_pylon_mfr_decode(const struct pylon_frame *f, struct pylon_mfr *m);
rig_rc rig_pylon_mfr_encode(struct pylon_frame *f, const struct pylon_mfr *m);
/* Fills name_raw/mfr_raw from the strings (NUL padded), for a new reply. */
void rig_pylon_mfr_set(struct pylon_mfr *m, const char *name, uint8_t sw_major, uint8_t sw_minor, const char *mfr);

/* ---- 0x60 system basic info ----------------------------------------------------------- */
struct pylon_sys_basic {
	struct pylon_mfr id;                 /* name, manufacturer, software version */
	uint8_t module_count;
	char serial[PYLON_MODULES_MAX][PYLON_SERIAL_LEN + 1];   /* as pylon_serial's */
};
rig_rc rig_pylon_sys_basic_decode(const struct pylon_frame *f, struct pylon_sys_basic *b);
rig_rc rig_pylon_sys_basic_encode(struct pylon_frame *f, const struct pylon_sys_basic *b);

/* ---- 0x61 system analogue (49 bytes) ------------------------------------------------- */
struct pylon_extreme { uint16_t value; uint16_t where; };   /* where = module << 8 | cell/probe */
struct pylon_sys_analog {
	uint32_t pack_mV;
	int32_t current_mA;                  /* wire: s16 10 mA */
	uint8_t soc_pct;
	uint16_t cycles_avg, cycles_max;
	uint8_t soh_avg_pct, soh_min_pct;
	struct pylon_extreme cell_max_mV, cell_min_mV;
	uint16_t cell_temp_avg_dK;
	struct pylon_extreme cell_temp_max_dK, cell_temp_min_dK;
	uint16_t mos_temp_avg_dK;
	struct pylon_extreme mos_temp_max_dK, mos_temp_min_dK;
	uint16_t bms_temp_avg_dK;
	struct pylon_extreme bms_temp_max_dK, bms_temp_min_dK;
};
rig_rc rig_pylon_sys_analog_decode(const struct pylon_frame *f, struct pylon_sys_analog *a);
rig_rc rig_pylon_sys_analog_encode(struct pylon_frame *f, const struct pylon_sys_analog *a);

/* ---- 0x62 system alarm: alarm 1, alarm 2, protection 1, protection 2 ------------------- */
struct pylon_sys_alarm { uint8_t alarm1, alarm2, prot1, prot2; };
rig_rc rig_pylon_sys_alarm_decode(const struct pylon_frame *f, struct pylon_sys_alarm *a);
rig_rc rig_pylon_sys_alarm_encode(struct pylon_frame *f, const struct pylon_sys_alarm *a);

/* ---- any one payload: what a reply holds, whichever command it answers ------------------ */
union pylon_payload {
	struct pylon_analog analog;
	struct pylon_alarm alarm;
	struct pylon_sys_param param;
	struct pylon_mgmt mgmt;
	struct pylon_serial serial;
	struct pylon_mfr mfr;
	struct pylon_sys_basic basic;
	struct pylon_sys_analog sys_analog;
	struct pylon_sys_alarm sys_alarm;
};

/* ---- the neutral views --------------------------------------------------------------- */
/* PACK_PROT_* bits <-> 0x44 status 1 / 0x62 bytes (bits with no counterpart are dropped). */
uint8_t rig_pylon_status1_from_prot(uint32_t prot);
/* A module's 0x44 states beyond its cells and probes, from the neutral view: the charge
 * current, voltage and discharge current states and status 1-5 (cell_bits: the cells out of
 * range, bit 0 = cell 1, for status 4 and 5). Who sets the cells' and probes' own states
 * depends on what it sees (thresholds, or only which extreme a protection names). */
void rig_pylon_alarm_status(struct pylon_alarm_module *a, uint32_t prot, int chg_fet, int dsg_fet,
                            int32_t current_mA, uint8_t soc_pct, uint16_t cell_bits);
uint32_t rig_pylon_prot_from_status1(uint8_t status1);
uint8_t rig_pylon_mgmt_from_request(uint8_t request);   /* enum rig_inv_request -> 0x92 bits */
uint8_t rig_pylon_request_from_mgmt(uint8_t status);
/* One module of 0x42 (and its 0x44, may be NULL) into pack_state. */
void rig_pylon_to_pack_state(const struct pylon_module *m, const struct pylon_alarm_module *al,
                             struct pack_state *s);
/* 0x42 modules (all of them: sums and averages as a master would) into the record. */
void rig_pylon_analog_to_inv(const struct pylon_analog *a, struct rig_inv_battery *b);
void rig_pylon_mgmt_to_inv(const struct pylon_mgmt *m, struct rig_inv_battery *b);
void rig_pylon_mgmt_from_inv(const struct rig_inv_battery *b, struct pylon_mgmt *m);

#ifdef __cplusplus
}
#endif

#endif
