/*
 * Daly Smart BMS 0xA5 codec: frame build and parse, the incremental receive assembler, and the
 * typed payloads of every data id both sides use. Byte layouts: docs/protocols/daly.md.
 * C99, no heap, no stdio, no floating point, no division (intmath.h).
 *
 * Both directions share one frame shape, always 13 bytes:
 *   A5, address, data id, 08, d0..d7, checksum (low byte of the sum of bytes 0..11).
 * Request:  address = host: 0x40 (PC / RS485 board 1), 0x3F+n (RS485 board n), 0x80 (the
 *           Bluetooth app; also accepted on most TTL ports).
 * Response: address = the BMS: 0x01, or the board number n on an RS485 bus.
 * No host address is below 0x20 and no BMS address above 0x10, so byte 1 tells a request
 * from a response (docs/protocols/daly.md §2.2): a frame with byte 1 >= 0x20 seen by a host is its own
 * request echoed back (§9.3).
 *
 * Multi-byte fields are big-endian. Reserved bytes in replies carry leftovers of the BMS's
 * transmit buffer (§2.4): the typed structs keep them as `reserved` so a decoded frame
 * re-encodes to the same bytes, and a client never interprets them.
 */
#ifndef BMSRIG_DALY_H
#define BMSRIG_DALY_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALY_START          0xA5u
#define DALY_DATA_LEN       8u
#define DALY_FRAME_LEN      13u
#define DALY_HOST_UART      0x40u      /* PC tool, RS485 board 1, most UART clients */
#define DALY_HOST_BLE       0x80u      /* the Bluetooth app (V1.1+ address plan) */
#define DALY_HOST_MIN       0x20u      /* byte 1 at or above: a host's request */
#define DALY_BMS_ADDR       0x01u      /* reply address of a lone BMS / board 1 */
#define DALY_BOARDS_MAX     16u        /* RS485 board numbers 1..16 = hosts 0x40..0x4F */
#define DALY_CELLS_PER_FRAME 3u        /* 0x95 */
#define DALY_TEMPS_PER_FRAME 7u        /* 0x96 */
#define DALY_CELL_FRAMES_MAX 16u       /* 48 cells [DOC] */
#define DALY_TEMP_FRAMES_MAX 3u        /* 21 sensor slots [DOC] */
#define DALY_CELLS_MAX      (DALY_CELL_FRAMES_MAX * DALY_CELLS_PER_FRAME)
#define DALY_TEMPS_MAX      (DALY_TEMP_FRAMES_MAX * DALY_TEMPS_PER_FRAME)
#define DALY_CODE_FRAMES    5u         /* 0x57: 5 frames of 7 characters */
#define DALY_CODE_PER_FRAME 7u
#define DALY_CURRENT_OFFSET 30000u     /* current raw = 30000 + 0.1 A steps */
#define DALY_TEMP_OFFSET_DK 2331u      /* raw 0 = -40 degC = 233.1 K */
#define DALY_SOC_PERMILLE_MAX 1000u

enum daly_cmd {
	DALY_CMD_RESET        = 0x00,  /* restart; a rebooting BMS sends nothing (§9.4) */
	DALY_CMD_SOC_SET      = 0x21,  /* RTC + SOC write */
	DALY_CMD_RATED        = 0x50,  /* rated capacity, nominal cell voltage */
	DALY_CMD_LAYOUT       = 0x51,  /* acquisition boards */
	DALY_CMD_TOTALS       = 0x52,  /* lifetime charge / discharge */
	DALY_CMD_INFO         = 0x53,  /* battery type, production date, sleep time */
	DALY_CMD_FIRMWARE     = 0x54,  /* 8 ASCII */
	DALY_CMD_CODE         = 0x57,  /* battery code, 5 frames */
	DALY_CMD_CELL_LIMITS  = 0x59,
	DALY_CMD_PACK_LIMITS  = 0x5A,
	DALY_CMD_CURRENT_LIMITS = 0x5B,
	DALY_CMD_BALANCE_CFG  = 0x5F,
	DALY_CMD_PACK         = 0x90,  /* voltage, current, SOC */
	DALY_CMD_CELL_RANGE   = 0x91,
	DALY_CMD_TEMP_RANGE   = 0x92,
	DALY_CMD_MOS          = 0x93,  /* state, FETs, remaining capacity */
	DALY_CMD_STATUS       = 0x94,  /* cell and NTC counts, cycles */
	DALY_CMD_CELLS        = 0x95,  /* multi-frame */
	DALY_CMD_TEMPS        = 0x96,  /* multi-frame */
	DALY_CMD_BALANCE      = 0x97,
	DALY_CMD_FAULTS       = 0x98,
	DALY_CMD_D8           = 0xD8,  /* the PC tool's end-of-cycle request; meaning unknown */
	DALY_CMD_DSG_FET      = 0xD9,
	DALY_CMD_CHG_FET      = 0xDA
};

/* 0x93 d0. */
enum daly_state { DALY_STATE_IDLE = 0, DALY_STATE_CHARGING = 1, DALY_STATE_DISCHARGING = 2 };

/* One frame minus start byte, length byte and checksum. */
struct daly_frame {
	uint8_t addr;          /* byte 1 */
	uint8_t cmd;           /* byte 2, the data id */
	uint8_t data[DALY_DATA_LEN];
};

/* Low 8 bits of the sum of p[0..n-1]. */
uint8_t rig_daly_checksum(const uint8_t *p, size_t n);

/* Frame <-> wire bytes. parse takes exactly one 13-byte frame and checks everything. */
rig_rc rig_daly_frame_encode(const struct daly_frame *f, uint8_t *out, size_t cap, size_t *out_len);
rig_rc rig_daly_frame_parse(const uint8_t *wire, size_t n, struct daly_frame *f);

/* A host's request (byte 1 >= 0x20) rather than a BMS's reply. */
int rig_daly_addr_is_host(uint8_t addr);
int rig_daly_frame_is_request(const struct daly_frame *f);
/* The host address that reaches RS485 board n (1..16): 0x3F + n. 0 for any other n. */
uint8_t rig_daly_host_for_board(uint8_t board);

/* Incremental receive: bytes in any pieces, garbage and bad frames skipped. */
struct daly_rx {
	uint8_t buf[DALY_FRAME_LEN];
	struct rxbuf b;            /* rejected_frames: bad checksum or length byte */
};
void rig_daly_rx_init(struct daly_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n-1] as fit; returns the count taken. Call rig_daly_rx_next until it
 * stops returning RIG_OK before feeding the rest. */
size_t rig_daly_rx_feed(struct daly_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *f holds the next valid frame. RIG_MORE: nothing complete yet. */
rig_rc rig_daly_rx_next(struct daly_rx *rx, struct daly_frame *f);

/* Any frame from raw parts (tests, undecoded ids). */
void rig_daly_frame_raw(struct daly_frame *f, uint8_t addr, uint8_t cmd, const uint8_t data[DALY_DATA_LEN]);

/* ---- requests ---------------------------------------------------------------------------- */

/* A read (or 0x00 reset) with every data byte = fill: 0x00 as the PC tool, or 0xAA as
 * dbus-serialbattery and batmon (§2.3). */
void rig_daly_request_read(struct daly_frame *f, uint8_t host, uint8_t cmd, uint8_t fill);
/* The fill byte of a read request: RIG_OK when all 8 data bytes are equal. */
rig_rc rig_daly_request_fill(const struct daly_frame *f, uint8_t *fill);

/* d0 then 7 bytes: 0xD9/0xDA requests (d0 = 1 on, 0 off) and their replies (d0 echoed,
 * leftovers after it), the 0x21 reply (d0 = 1 success). */
struct daly_flag {
	uint8_t value;
	uint8_t reserved[7];
};
rig_rc rig_daly_flag_decode(const struct daly_frame *f, struct daly_flag *v);
void rig_daly_flag_encode(struct daly_frame *f, uint8_t addr, uint8_t cmd, const struct daly_flag *v);
/* 0xD9 (discharge) or 0xDA (charge) switch request, rest zero. */
void rig_daly_request_fet(struct daly_frame *f, uint8_t host, uint8_t cmd, uint8_t on);
int rig_daly_cmd_is_fet(uint8_t cmd);

/* 0x21 request: d0..d5 = RTC (year - 2000, month, day, hour, minute, second), d6..d7 = SOC. */
struct daly_soc_set {
	uint16_t year;             /* 2000..2255 */
	uint8_t month, day, hour, minute, second;
	uint16_t soc_permille;
};
rig_rc rig_daly_soc_set_decode(const struct daly_frame *f, struct daly_soc_set *s);
rig_rc rig_daly_soc_set_encode(struct daly_frame *f, uint8_t host, const struct daly_soc_set *s);

/* ---- 0x90-0x98 replies ------------------------------------------------------------------- */

/* Decoders accept only a reply (byte 1 < 0x20) of their own id: RIG_ERR_ARG otherwise.
 * Encoders take the reply address; RIG_ERR_ARG for a value the wire field cannot carry. */

struct daly_pack {                 /* 0x90 */
	uint32_t pack_mV;              /* wire: u16 0.1 V */
	uint32_t gather_mV;            /* "acquisition" voltage, 0 in every capture */
	int32_t current_mA;            /* wire: (raw - 30000) x 0.1 A, + = charging as sent */
	uint16_t soc_permille;         /* 0.1 % */
};
rig_rc rig_daly_pack_decode(const struct daly_frame *f, struct daly_pack *p);
rig_rc rig_daly_pack_encode(struct daly_frame *f, uint8_t addr, const struct daly_pack *p);

struct daly_cell_range {           /* 0x91 */
	uint16_t max_cell_mV;
	uint8_t max_cell_index;        /* 1-based */
	uint16_t min_cell_mV;
	uint8_t min_cell_index;
	uint8_t reserved[2];           /* often the SOC of the 0x90 sent before */
};
rig_rc rig_daly_cell_range_decode(const struct daly_frame *f, struct daly_cell_range *r);
void rig_daly_cell_range_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_range *r);

struct daly_temp_range {           /* 0x92 */
	uint16_t max_temp_dK;          /* wire: u8 degC + 40 */
	uint8_t max_temp_index;
	uint16_t min_temp_dK;
	uint8_t min_temp_index;
	uint8_t reserved[4];
};
rig_rc rig_daly_temp_range_decode(const struct daly_frame *f, struct daly_temp_range *r);
rig_rc rig_daly_temp_range_encode(struct daly_frame *f, uint8_t addr, const struct daly_temp_range *r);

struct daly_mos {                  /* 0x93 */
	uint8_t state;                 /* enum daly_state */
	uint8_t chg_fet, dsg_fet;      /* 0 off, 1 on */
	uint8_t life;                  /* "BMS life": a rolling heartbeat in practice */
	uint32_t remain_mAh;
};
rig_rc rig_daly_mos_decode(const struct daly_frame *f, struct daly_mos *m);
void rig_daly_mos_encode(struct daly_frame *f, uint8_t addr, const struct daly_mos *m);

struct daly_status {               /* 0x94 */
	uint8_t cell_count, ntc_count;
	uint8_t charger, load;         /* 0 disconnected, 1 connected */
	uint8_t dio;                   /* bit0-3 DI1-4, bit4-7 DO1-4 */
	uint16_t cycles;
	uint8_t reserved;              /* leftovers, or the MOSFET temperature + 40 on one board */
};
rig_rc rig_daly_status_decode(const struct daly_frame *f, struct daly_status *s);
void rig_daly_status_encode(struct daly_frame *f, uint8_t addr, const struct daly_status *s);

struct daly_cell_frame {           /* one 0x95 frame */
	uint8_t frame_no;              /* 1-based in every capture (the document says 0) */
	uint16_t cell_mV[DALY_CELLS_PER_FRAME];
	uint8_t reserved;
};
rig_rc rig_daly_cell_frame_decode(const struct daly_frame *f, struct daly_cell_frame *c);
void rig_daly_cell_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_frame *c);

struct daly_temp_frame {           /* one 0x96 frame */
	uint8_t frame_no;
	uint16_t temp_dK[DALY_TEMPS_PER_FRAME];   /* raw 0x00 = -40 degC = "no sensor" */
};
rig_rc rig_daly_temp_frame_decode(const struct daly_frame *f, struct daly_temp_frame *t);
rig_rc rig_daly_temp_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_temp_frame *t);

/* Frames an answer for n cells / n sensors needs: ceil(n/3), ceil(n/7), without division. */
uint8_t rig_daly_cell_frames_for(unsigned cells);
uint8_t rig_daly_temp_frames_for(unsigned ntc);

struct daly_balance {              /* 0x97: d(i) bit j = cell 8i+j+1 (the C clients' order) */
	uint32_t bal_lo;               /* cells 1-32, bit 0 = cell 1 */
	uint16_t bal_hi;               /* cells 33-48 */
	uint8_t reserved[2];
};
rig_rc rig_daly_balance_decode(const struct daly_frame *f, struct daly_balance *b);
void rig_daly_balance_encode(struct daly_frame *f, uint8_t addr, const struct daly_balance *b);

#define DALY_FAULT_BYTES 7u
struct daly_faults {               /* 0x98 */
	uint8_t bits[DALY_FAULT_BYTES];  /* d0..d6, 1 = active; even bit level 1, odd level 2 */
	uint8_t fault_code;            /* d7 */
};
rig_rc rig_daly_faults_decode(const struct daly_frame *f, struct daly_faults *x);
void rig_daly_faults_encode(struct daly_frame *f, uint8_t addr, const struct daly_faults *x);
/* The alarm bits as the neutral PACK_PROT_* set, and back (one table, both sides):
 * only protections (level 2 and the fault bits) map; level-1 warnings have no neutral bit.
 * from_pack sets each protection's level-2 bit and, where the pair has one, its level-1
 * bit too: a value past the protection threshold is past the alarm threshold as well. */
uint32_t rig_daly_faults_to_pack_prot(const struct daly_faults *x);
void rig_daly_faults_from_pack_prot(struct daly_faults *x, uint32_t prot);

/* 0xD8 and other ids whose payload means nothing known: the 8 bytes as sent. */
struct daly_raw {
	uint8_t data[DALY_DATA_LEN];
};
rig_rc rig_daly_raw_decode(const struct daly_frame *f, struct daly_raw *r);
void rig_daly_raw_encode(struct daly_frame *f, uint8_t addr, uint8_t cmd, const struct daly_raw *r);

/* ---- 0x50-0x5F settings reads (docs/protocols/daly.md §5; writes have no capture, §4.1) ------------------ */

struct daly_rated {                /* 0x50 */
	uint32_t rated_mAh;
	uint32_t nominal_cell_mV;
};
rig_rc rig_daly_rated_decode(const struct daly_frame *f, struct daly_rated *r);
void rig_daly_rated_encode(struct daly_frame *f, uint8_t addr, const struct daly_rated *r);

struct daly_layout {               /* 0x51 */
	uint8_t boards;
	uint8_t cells[3];              /* on boards 1..3 */
	uint8_t ntc[3];
	uint8_t reserved;
};
rig_rc rig_daly_layout_decode(const struct daly_frame *f, struct daly_layout *l);
void rig_daly_layout_encode(struct daly_frame *f, uint8_t addr, const struct daly_layout *l);

struct daly_totals {               /* 0x52: unit probably Ah (unconfirmed, §5) */
	uint32_t charge_Ah;
	uint32_t discharge_Ah;
};
rig_rc rig_daly_totals_decode(const struct daly_frame *f, struct daly_totals *t);
void rig_daly_totals_encode(struct daly_frame *f, uint8_t addr, const struct daly_totals *t);

struct daly_info {                 /* 0x53 */
	uint8_t battery_type;          /* 0 LFP, 1 NMC, 2 LTO (ai-republic) */
	uint8_t unknown1;              /* d1, meaning unknown */
	uint16_t year;                 /* 2000 + d2 */
	uint8_t month, day;
	uint16_t sleep_s;              /* auto-sleep, 0xFFFF = never */
	uint8_t reserved;
};
rig_rc rig_daly_info_decode(const struct daly_frame *f, struct daly_info *i);
rig_rc rig_daly_info_encode(struct daly_frame *f, uint8_t addr, const struct daly_info *i);

struct daly_text8 {                /* 0x54 firmware index, e.g. "20220810" */
	uint8_t text[DALY_DATA_LEN];
};
rig_rc rig_daly_text8_decode(const struct daly_frame *f, struct daly_text8 *t);
void rig_daly_text8_encode(struct daly_frame *f, uint8_t addr, const struct daly_text8 *t);

struct daly_code_frame {           /* one 0x57 frame */
	uint8_t frame_no;              /* 1..5 */
	uint8_t text[DALY_CODE_PER_FRAME];
};
rig_rc rig_daly_code_frame_decode(const struct daly_frame *f, struct daly_code_frame *c);
void rig_daly_code_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_code_frame *c);

struct daly_cell_limits {          /* 0x59, mV */
	uint16_t high_l1_mV, high_l2_mV, low_l1_mV, low_l2_mV;
};
rig_rc rig_daly_cell_limits_decode(const struct daly_frame *f, struct daly_cell_limits *l);
void rig_daly_cell_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_limits *l);

struct daly_pack_limits {          /* 0x5A, wire 0.1 V */
	uint32_t high_l1_mV, high_l2_mV, low_l1_mV, low_l2_mV;
};
rig_rc rig_daly_pack_limits_decode(const struct daly_frame *f, struct daly_pack_limits *l);
rig_rc rig_daly_pack_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_pack_limits *l);

/* 0x5B, wire (raw - 30000) x 0.1 A like 0x90 but with the opposite sign: discharge limits
 * sit above 30000 (positive here), charge limits below (negative here). */
struct daly_current_limits {
	int32_t dsg_l1_mA, dsg_l2_mA, chg_l1_mA, chg_l2_mA;
};
rig_rc rig_daly_current_limits_decode(const struct daly_frame *f, struct daly_current_limits *l);
rig_rc rig_daly_current_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_current_limits *l);

struct daly_balance_cfg {          /* 0x5F */
	uint16_t start_mV;
	uint16_t delta_mV;
	uint8_t reserved[4];
};
rig_rc rig_daly_balance_cfg_decode(const struct daly_frame *f, struct daly_balance_cfg *b);
void rig_daly_balance_cfg_encode(struct daly_frame *f, uint8_t addr, const struct daly_balance_cfg *b);

/* ---- unit helpers shared by both sides ---------------------------------------------------- */

/* 0.1 A wire steps <-> mA: raw 30000 = 0 A. to_raw rounds half away from zero; RIG_ERR_ARG
 * when the result does not fit the u16 field. */
int32_t rig_daly_current_from_raw(uint16_t raw);
rig_rc rig_daly_current_to_raw(int32_t mA, uint16_t *raw);
/* degC + 40 in one byte <-> 0.1 K. to_raw rounds; RIG_ERR_ARG outside -40..215 degC. */
uint16_t rig_daly_temp_from_raw(uint8_t raw);
rig_rc rig_daly_temp_to_raw(uint32_t dK, uint8_t *raw);

/* ---- the neutral view ---------------------------------------------------------------- */

/* What one cycle decoded, before it becomes a pack_state. */
struct daly_poll {
	struct daly_status status;         /* 0x94 */
	struct daly_pack pack;             /* 0x90 */
	struct daly_mos mos;               /* 0x93 */
	uint16_t cell_mV[PACK_CELLS_MAX];  /* 0x95, the first cells the pack_state can hold */
	uint16_t temp_dK[PACK_TEMPS_MAX];  /* 0x96 */
	struct daly_balance bal;           /* 0x97 */
	struct daly_faults faults;         /* 0x98 */
};

/* The client's current sign check (daly_client.h) on one current: returns 1 when it flipped
 * *current_mA. */
int rig_daly_current_sign_fix(int32_t *current_mA, uint8_t state);
/* One cycle's decoded replies into the neutral view (current as given: fix it first). */
void rig_daly_to_pack_state(const struct daly_poll *p, struct pack_state *s);

#ifdef __cplusplus
}
#endif

#endif
