/*
 * JK-BMS (Jikong) "4E 57" serial/RS485 codec (docs/protocols/jk.md §2, §4.1): frame build and
 * parse, the incremental receive assembler, and every data id of the §2.4 table as typed fields
 * with units. (The BLE protocol of the same boards is a different codec, jk_ble_*.) C99, no
 * heap, no stdio, no floating point, no division.
 *
 * Both directions share one frame shape (all multi-byte fields big-endian):
 *   4E 57 | L(2) | terminal(4) | cmd | source | type | info[N] | record(4) | 68 | 00 00 sum(2)
 * L counts itself and everything after it (L = N + 18, frame = L + 2 bytes); sum is the u16 byte
 * sum of 4E .. 68. A request's info is one data id (0x00 = all), then a write's value bytes; a
 * reply's info is a run of id + value items whose widths only the id table knows (§2.4, §2.7).
 */
#ifndef BMSRIG_JK_H
#define BMSRIG_JK_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JK_START0        0x4Eu
#define JK_START1        0x57u
#define JK_END           0x68u
#define JK_HEAD_LEN      11u                     /* start .. transport type */
#define JK_OVERHEAD      20u                     /* head, record(4), end, checksum(4) */
#define JK_CELLS_MAX     32u                     /* 0xA9 range 3..32 */
#define JK_ID_COUNT      64u                     /* ids in the §2.4 table */
/* The longest item list a real board sends: a read-all reply with 32 cells (docs/protocols/jk.md §2.3:
 * N = 3n + 223). Anything longer would need an unknown or repeated id, which is refused. */
#define JK_INFO_MAX      (3u * JK_CELLS_MAX + 223u)
#define JK_FRAME_MAX     (JK_INFO_MAX + JK_OVERHEAD)
#define JK_TEMP_ZERO_DK  2731                    /* 0 degC in 0.1 K */
#define JK_AUTH_PAUSE_MS 100u                    /* password frame -> write (docs/protocols/jk.md §4.1) */

enum jk_cmd {
	JK_CMD_ACTIVATE = 0x01,   /* wake a sleeping board (vendor spec; no capture) */
	JK_CMD_WRITE    = 0x02,   /* id + value */
	JK_CMD_READ     = 0x03,   /* one id; id 0x00 = all, answered like 0x06 with cmd 0x03 */
	JK_CMD_PASSWORD = 0x05,   /* "pair" frame ESPHome sends before each write */
	JK_CMD_READ_ALL = 0x06
};

enum jk_source { JK_SRC_BMS = 0, JK_SRC_BLE = 1, JK_SRC_GPS = 2, JK_SRC_PC = 3 };
enum jk_type { JK_TYPE_REQUEST = 0, JK_TYPE_REPLY = 1, JK_TYPE_UPLOAD = 2 };

/* Data identification codes (docs/protocols/jk.md §2.4). 0x88 and 0x8D do not exist. */
enum jk_id {
	JK_ID_ALL = 0x00,            /* requests only: "every id" */
	JK_ID_CELLS = 0x79,          /* count byte 3n, then n x (index 1.., mV u16) */
	JK_ID_MOS_TEMP = 0x80, JK_ID_BOX_TEMP, JK_ID_BAT_TEMP, JK_ID_PACK_V, JK_ID_CURRENT,
	JK_ID_SOC, JK_ID_NTC_COUNT, JK_ID_CYCLES,
	JK_ID_CYCLE_CAP = 0x89, JK_ID_STRINGS, JK_ID_ALARMS, JK_ID_STATUS,
	JK_ID_PACK_OVP = 0x8E, JK_ID_PACK_UVP, JK_ID_CELL_OVP, JK_ID_CELL_OVP_REL,
	JK_ID_CELL_OVP_DELAY, JK_ID_CELL_UVP, JK_ID_CELL_UVP_REL, JK_ID_CELL_UVP_DELAY,
	JK_ID_CELL_DIFF, JK_ID_DSG_OCP, JK_ID_DSG_OCP_DELAY, JK_ID_CHG_OCP, JK_ID_CHG_OCP_DELAY,
	JK_ID_BAL_START, JK_ID_BAL_TRIGGER, JK_ID_BALANCER, JK_ID_MOS_OTP, JK_ID_MOS_OTP_REL,
	JK_ID_BOX_OTP, JK_ID_BOX_OTP_REL, JK_ID_TEMP_DIFF, JK_ID_CHG_OTP, JK_ID_DSG_OTP,
	JK_ID_CHG_UTP, JK_ID_CHG_UTP_REL, JK_ID_DSG_UTP, JK_ID_DSG_UTP_REL, JK_ID_CELL_COUNT,
	JK_ID_CAPACITY, JK_ID_CHG_SWITCH, JK_ID_DSG_SWITCH, JK_ID_CURRENT_CAL, JK_ID_ADDRESS,
	JK_ID_BATTERY_TYPE, JK_ID_SLEEP_WAIT, JK_ID_LOW_SOC_ALARM, JK_ID_PASSWORD,
	JK_ID_DEDICATED_CHARGER, JK_ID_DEVICE_ID, JK_ID_MFG_DATE, JK_ID_RUNTIME, JK_ID_SW_VERSION,
	JK_ID_CAL_START, JK_ID_ACTUAL_CAPACITY, JK_ID_MANUFACTURER,
	JK_ID_RESTART, JK_ID_FACTORY_RESET, JK_ID_UPGRADE, JK_ID_GPS_OFF, JK_ID_GPS_ON,  /* write only */
	JK_ID_PROTOCOL = 0xC0        /* 1 = sign-magnitude 0x84 current */
};

/* 0x8C status bits (§2.6). */
#define JK_STATUS_CHG_ON   0x0001u
#define JK_STATUS_DSG_ON   0x0002u
#define JK_STATUS_BAL_ON   0x0004u
#define JK_STATUS_BATTERY  0x0008u   /* vendor: 1 = battery connected; 0 in most captures */

/* 0x8B alarm bits (§2.6). */
enum jk_alarm_bit {
	JK_ALARM_LOW_CAPACITY = 0, JK_ALARM_MOS_OT, JK_ALARM_CHG_OV, JK_ALARM_DSG_UV,
	JK_ALARM_BAT_OT, JK_ALARM_CHG_OC, JK_ALARM_DSG_OC, JK_ALARM_CELL_DIFF, JK_ALARM_BOX_OT,
	JK_ALARM_BAT_UT, JK_ALARM_CELL_OV, JK_ALARM_CELL_UV, JK_ALARM_309_A, JK_ALARM_309_B
};

/* How an id's value bytes map to its typed field (and the field's C type). */
enum jk_kind {
	JK_KIND_U8,        /* uint8_t */
	JK_KIND_U16,       /* uint16_t */
	JK_KIND_U32,       /* uint32_t */
	JK_KIND_S16,       /* int16_t, two's complement (0xA5..0xA8 only) */
	JK_KIND_X10,       /* wire u16 in 10 mV, field uint32_t mV */
	JK_KIND_TEMP,      /* wire "offset-100" code, field int32_t 0.1 K (see rig_jk_temp_decode) */
	JK_KIND_CURRENT,   /* wire u16 per 0xC0, field int32_t mA (see rig_jk_current_decode) */
	JK_KIND_TEXT,      /* uint8_t[width], bytes as sent (NUL padding included) */
	JK_KIND_CELLS      /* 0x79 only */
};

enum jk_access { JK_ACC_R = 1, JK_ACC_W = 2, JK_ACC_RW = 3 };

struct jk_id_def {
	uint8_t id;
	uint8_t width;         /* value bytes; 0x79: 0 (its count byte says) */
	uint8_t kind;          /* enum jk_kind */
	uint8_t access;        /* enum jk_access */
	uint16_t offset;       /* of the typed field in struct jk_data */
};

/* The §2.4 table in id order; a read-all reply carries the readable ids in this order. */
extern const struct jk_id_def rig_jk_ids[JK_ID_COUNT];
/* NULL for an id not in the table. */
const struct jk_id_def *rig_jk_id_find(uint8_t id);

/* One frame as it stands on the wire minus start, length, end and checksum. */
struct jk_frame {
	uint32_t terminal;     /* BMS terminal number, 0 in every capture */
	uint8_t cmd;           /* enum jk_cmd; a reply echoes the request's */
	uint8_t source;        /* enum jk_source: requests 3 (PC) or 2 (GPS), replies 0 */
	uint8_t type;          /* enum jk_type */
	uint32_t record;       /* record number, 0 in every capture */
	uint16_t len;          /* info bytes, 1..JK_INFO_MAX */
	uint8_t info[JK_INFO_MAX];
};

/* u16 byte sum of p[0..n-1] (4E through 68). */
uint16_t rig_jk_checksum(const uint8_t *p, size_t n);

/* Frame <-> wire bytes. parse takes exactly one complete frame and checks everything: start,
 * L + 2 == n, 1..JK_INFO_MAX info bytes, end byte, checksum (high half 00 00), a known command
 * word and transport type. */
rig_rc rig_jk_frame_encode(const struct jk_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_jk_frame_parse(const uint8_t *wire, size_t n, struct jk_frame *f);

/* Incremental receive: bytes in any pieces; garbage (the "AT\r\n" the board's BLE module
 * chatters, noise, half frames) and bad frames are skipped, resyncing on 4E 57. */
struct jk_rx {
	uint8_t buf[JK_FRAME_MAX];
	struct rxbuf b;            /* rejected_frames: headers that led to a bad length, end,
	                            * checksum or field */
};
void rig_jk_rx_init(struct jk_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n-1] as fit; returns the count taken. Call rig_jk_rx_next until it stops
 * returning RIG_OK before feeding the rest. */
size_t rig_jk_rx_feed(struct jk_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next valid frame. RIG_MORE: nothing complete yet. */
rig_rc rig_jk_rx_next(struct jk_rx *rx, struct jk_frame *f);

/* ---- typed data ------------------------------------------------------------------------
 * Every id's value in its unit. Which ids a frame carried, and in which order, is in order[]:
 * a field is meaningful only when its id is listed there. */
struct jk_data {
	uint8_t n_items;
	uint8_t order[JK_ID_COUNT];      /* ids in wire order, no repeats */
	/* 0x79 */
	uint8_t cell_count;
	uint16_t cell_mV[JK_CELLS_MAX];
	/* live values */
	int32_t mos_temp_dK;             /* 0x80 */
	int32_t box_temp_dK;             /* 0x81 probe 1 */
	int32_t bat_temp_dK;             /* 0x82 probe 2 */
	uint32_t pack_mV;                /* 0x83, wire 10 mV */
	int32_t current_mA;              /* 0x84, + = charging, wire 10 mA */
	uint8_t current_zero_chg;        /* 0x84 was 0x8000: zero, sent with the charging bit */
	uint8_t soc_pct;                 /* 0x85 */
	uint8_t ntc_count;               /* 0x86 battery probes */
	uint16_t cycles;                 /* 0x87 */
	uint32_t cycle_total_Ah;         /* 0x89 */
	uint16_t cell_strings;           /* 0x8A */
	uint16_t alarm_raw;              /* 0x8B, enum jk_alarm_bit */
	uint16_t status_raw;             /* 0x8C, JK_STATUS_* */
	/* settings */
	uint32_t pack_ovp_mV, pack_uvp_mV;                   /* 0x8E 0x8F, wire 10 mV */
	uint16_t cell_ovp_mV, cell_ovp_rel_mV, cell_ovp_delay_s;   /* 0x90..0x92 */
	uint16_t cell_uvp_mV, cell_uvp_rel_mV, cell_uvp_delay_s;   /* 0x93..0x95 */
	uint16_t cell_diff_mV;                               /* 0x96 */
	uint16_t dsg_ocp_A, dsg_ocp_delay_s;                 /* 0x97 0x98 */
	uint16_t chg_ocp_A, chg_ocp_delay_s;                 /* 0x99 0x9A */
	uint16_t bal_start_mV, bal_trigger_mV;               /* 0x9B 0x9C */
	uint8_t balancer_on;                                 /* 0x9D */
	uint16_t mos_otp_C, mos_otp_rel_C;                   /* 0x9E 0x9F, plain degC */
	uint16_t box_otp_C, box_otp_rel_C;                   /* 0xA0 0xA1 */
	uint16_t temp_diff_C;                                /* 0xA2 */
	uint16_t chg_otp_C, dsg_otp_C;                       /* 0xA3 0xA4 */
	int16_t chg_utp_C, chg_utp_rel_C;                    /* 0xA5 0xA6, signed */
	int16_t dsg_utp_C, dsg_utp_rel_C;                    /* 0xA7 0xA8 */
	uint8_t cell_count_set;                              /* 0xA9 */
	uint32_t capacity_Ah;                                /* 0xAA */
	uint8_t chg_switch, dsg_switch;                      /* 0xAB 0xAC, 1 = on */
	uint16_t current_cal_mA;                             /* 0xAD */
	uint8_t address;                                     /* 0xAE */
	uint8_t battery_type;                                /* 0xAF: 0 LFP, 1 NMC, 2 LTO */
	uint16_t sleep_wait_s;                               /* 0xB0 */
	uint8_t low_soc_alarm_pct;                           /* 0xB1 */
	uint8_t password[10];                                /* 0xB2 */
	uint8_t dedicated_charger;                           /* 0xB3 */
	uint8_t device_id[8];                                /* 0xB4 */
	uint8_t mfg_date[4];                                 /* 0xB5 "YYMM" */
	uint32_t runtime_min;                                /* 0xB6 */
	uint8_t sw_version[15];                              /* 0xB7 */
	uint8_t cal_start;                                   /* 0xB8 */
	uint32_t actual_capacity_Ah;                         /* 0xB9 */
	uint8_t manufacturer[24];                            /* 0xBA */
	uint8_t restart, factory_reset, upgrade;             /* 0xBB..0xBD, write only */
	uint16_t gps_off_mV, gps_on_mV;                      /* 0xBE 0xBF, write only */
	uint8_t protocol_version;                            /* 0xC0 */
};

void rig_jk_data_clear(struct jk_data *d);
int rig_jk_data_has(const struct jk_data *d, uint8_t id);
/* Appends id to order[] (no-op when present). RIG_ERR_ARG: unknown id. */
rig_rc rig_jk_data_add(struct jk_data *d, uint8_t id);
/* order[] = every readable id in table order: the read-all layout of current firmware. */
void rig_jk_data_add_all(struct jk_data *d);
/* A numeric id's field (kinds U8..CURRENT) as a number in its unit. RIG_ERR_ARG: not
 * numeric, or (set) outside the field's type; get of a u32 above INT32_MAX also RIG_ERR_ARG. */
rig_rc rig_jk_data_get(const struct jk_data *d, uint8_t id, int32_t *value);
rig_rc rig_jk_data_set(struct jk_data *d, uint8_t id, int32_t value);
/* Copies id's field(s) from src to dst (order[] untouched). */
void rig_jk_data_copy_field(struct jk_data *dst, const struct jk_data *src, uint8_t id);

/* The two encodings with traps (§2.5).
 * Temperature: code 0..100 = that many degC, above 100 = 100 - code (101 = -1 degC). Every u16
 * code maps to a distinct 0.1 K value; encode rounds to whole degC and refuses what no code
 * expresses (above 100 degC). */
int32_t rig_jk_temp_decode(uint16_t code);
rig_rc rig_jk_temp_encode(int32_t dK, uint16_t *code);
/* Current, 10 mA units. version 1 (0xC0 = 1): sign-magnitude, bit 15 = charging. version 0
 * (0xC0 absent or 0, old firmware): offset, mA = (10000 - raw) * 10. Other versions:
 * RIG_ERR_UNSUPPORTED. zero_chg keeps a 0x8000 "charging zero" distinct from 0x0000. */
#define JK_CURRENT_SM_MAX_mA   327670     /* version 1: +-0x7FFF x 10 mA */
#define JK_CURRENT_OFS_MIN_mA  (-555350)  /* version 0: raw 0xFFFF */
#define JK_CURRENT_OFS_MAX_mA  100000     /* version 0: raw 0 */
rig_rc rig_jk_current_decode(uint16_t raw, uint8_t version, int32_t *mA, uint8_t *zero_chg);
rig_rc rig_jk_current_encode(int32_t mA, uint8_t zero_chg, uint8_t version, uint16_t *raw);

/* Item list <-> typed data. Decode walks id + value with the table's widths; an id not in
 * the table ends the walk (its width is unknown, so nothing after it can be read:
 * RIG_ERR_FRAME), as does a repeated id; a value running past the end is RIG_ERR_LENGTH;
 * a cell block must number its cells 1..n in order. The current is decoded after the walk,
 * with 0xC0 from anywhere in the list (absent = version 0). Encode writes order[]'s ids. */
rig_rc rig_jk_items_decode(const uint8_t *p, size_t n, struct jk_data *d);
rig_rc rig_jk_items_encode(const struct jk_data *d, uint8_t *out, size_t cap, size_t *out_len);

/* Replies with items: cmd 0x06 / 0x03 read replies, 0x02 write replies (the id and value as
 * written). decode wants a reply or upload with one of those commands (else RIG_ERR_ARG). */
rig_rc rig_jk_data_decode(const struct jk_frame *f, struct jk_data *d);
rig_rc rig_jk_data_encode(struct jk_frame *f, uint8_t cmd, const struct jk_data *d);
/* Replies to 0x01 and 0x05: info is the single byte 00 (not captured; docs/protocols/jk.md §8.1). */
void rig_jk_response_ack(struct jk_frame *f, uint8_t cmd);

/* Requests (source = enum jk_source; the vendor example and most clients use 3). */
void rig_jk_request_read_all(struct jk_frame *f, uint8_t source);
void rig_jk_request_read(struct jk_frame *f, uint8_t source, uint8_t id);
void rig_jk_request_activate(struct jk_frame *f, uint8_t source);
void rig_jk_request_password(struct jk_frame *f, uint8_t source);   /* info 00 00, as ESPHome */
/* A write of id with d's typed field (RIG_ERR_ARG: id not writable or value out of range). */
rig_rc rig_jk_request_write_item(struct jk_frame *f, uint8_t source, uint8_t id, const struct jk_data *d);
/* A 0/1 switch: 0xAB charge, 0xAC discharge, 0x9D balancer... (§4.1 frames). */
rig_rc rig_jk_request_switch(struct jk_frame *f, uint8_t source, uint8_t id, uint8_t on);
/* A write request's single item into d (order = {id}). RIG_ERR_ARG: not a write request;
 * RIG_ERR_FRAME: unknown id; RIG_ERR_LENGTH: value bytes != the id's width;
 * RIG_ERR_UNSUPPORTED: a read-only id. */
rig_rc rig_jk_write_decode(const struct jk_frame *f, struct jk_data *d);

/* 0x8B alarm bits <-> normalised PACK_PROT_* bits, one table both ways. The JK set is coarser:
 * one battery over- and one under-temperature bit for both directions (to_prot reports both
 * directions), no short-circuit bit (from_prot folds it into discharge over-current), and
 * bits with no neutral meaning (low capacity, MOSFET/box temperature, cell difference, 309)
 * are dropped by to_prot. */
uint32_t rig_jk_alarm_to_prot(uint16_t alarm_raw);
uint16_t rig_jk_alarm_from_prot(uint32_t prot);

/*
 * A read-all's items into the neutral view (shared with tools that decode captures).
 * Needs 0x79, 0x83, 0x84, 0x85 and 0x8C (RIG_ERR_LENGTH when one is missing) and temperatures
 * a pack_state can hold (RIG_ERR_ARG). Temperatures: 0x81, 0x82 as carried, at most 0x86 of
 * them (the MOSFET probe 0x80 is the board's, not the pack's). FETs: 0x8C bits 0/1. prot:
 * rig_jk_alarm_to_prot(0x8B), plus PACK_PROT_SW_LOCK when 0xAB or 0xAC is off. full_mAh: 0xB9
 * (actual capacity) when set, else 0xAA; remain_mAh = full x SOC. bal_mask: 0, the protocol
 * reports no per-cell balancing (0x8C bit 2 is only the balancer switch). *s is untouched on
 * an error.
 */
rig_rc rig_jk_to_pack_state(const struct jk_data *d, struct pack_state *s);

#ifdef __cplusplus
}
#endif

#endif
