/*
 * JK-BMS Bluetooth codec (docs/protocols/jk.md §3, §4.2): the 20-byte host commands
 * `AA 55 90 EB`, the BMS's acknowledgement in the same shape, and the 300-byte `55 AA EB 90`
 * records (type 0x01 settings, 0x02 cell info, 0x03 device info) in the three layouts
 * JK02_24S, JK02_32S and JK04. The BLE module is a UART bridge, so the same bytes run on a
 * serial line. C99, no heap, no stdio, no floating point: JK04's IEEE-754 floats are converted
 * to and from milli-units (mV, mA) with integer bit manipulation, rounded to nearest.
 *
 * Command (20 bytes): AA 55 90 EB, register, value length, value[13] (little-endian, then
 *   padding the official app fills with random bytes), sum8 of bytes 0..18.
 * Record (300 bytes): 55 AA EB 90, type, counter, payload 6..298 (little-endian), sum8 of
 *   bytes 0..298. Offsets below and in the tables are from the record's first byte.
 *
 * Records are plain 300-byte arrays. A typed encoder writes only the fields it models and
 * leaves every other byte as the caller set it: zero for a fresh record (rig_jk_ble_record_begin),
 * or a captured record's bytes, so a rebuild can be exact (rig_jk_ble_record_clear_fields).
 */
#ifndef BMSRIG_JK_BLE_H
#define BMSRIG_JK_BLE_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JK_BLE_CMD_LEN      20u
#define JK_BLE_RECORD_LEN   300u
#define JK_BLE_VALUE_MAX    13u            /* command bytes 6..18 */
#define JK_BLE_SLOTS_MAX    32u            /* cell voltage slots of the widest layout */
#define JK_BLE_TEMPS_MAX    5u             /* T1, T2 and (32S) three more */
#define JK_BLE_DK_ZERO_C    2731           /* 0 degC in 0.1 K: JK sends 0.1 degC */
#define JK_BLE_PUSH_MS      500u           /* the BMS pushes cell info about twice a second */
#define JK_BLE_TEMP_ABSENT_DK (JK_BLE_DK_ZERO_C - 2000)   /* -200.0 degC = no sensor (§3.6) */

/* Commands and registers (docs/protocols/jk.md §3.2, §4.2). */
enum jk_ble_reg {
	JK_BLE_REG_CELL_INFO   = 0x96,   /* start the settings + cell-info stream */
	JK_BLE_REG_DEVICE_INFO = 0x97,
	JK_BLE_REG_ACK         = 0xC8,   /* the BMS's acknowledgement: C8, len 1, value 1 */
	JK_BLE_REG_CHG_SWITCH  = 0x1D,   /* JK02, value 1 on / 0 off, length 4 */
	JK_BLE_REG_DSG_SWITCH  = 0x1E,
	JK_BLE_REG_BAL_SWITCH  = 0x1F,
	JK_BLE_REG_JK04_BAL    = 0x6C    /* JK04 balancer switch, length 1 */
};

enum jk_ble_type {
	JK_BLE_REC_SETTINGS = 0x01,
	JK_BLE_REC_CELLS    = 0x02,
	JK_BLE_REC_DEVICE   = 0x03,
	JK_BLE_REC_LOGBOOK  = 0x05
};

enum jk_ble_layout {
	JK_BLE_JK02_24S = 0,             /* firmware < 11: 24 u16 cell slots */
	JK_BLE_JK02_32S = 1,             /* firmware >= 11 (incl. JK-PB): 32 slots, shifted fields */
	JK_BLE_JK04 = 2,                 /* a few old boards: cells and settings as f32 */
	JK_BLE_LAYOUT_COUNT
};

/* "JK02_24S", "JK02_32S", "JK04" (the vectors' `layout`); "?" for anything else. */
const char *rig_jk_ble_layout_name(unsigned layout);
/*
 * The layout a settings or cell-info record is in (vectors README, docs/protocols/jk.md §3.5): byte 9 = 0x3F
 * or 0x40 is the top byte of a float near 0.5..8 V in the second cell slot (JK04); otherwise
 * byte 287, zero on 24S and 0xFE-like on every 32S capture, decides. Cell-info records of a
 * JK04 pack need a second cell for this to work.
 */
enum jk_ble_layout rig_jk_ble_layout_detect(const uint8_t rec[JK_BLE_RECORD_LEN]);

uint8_t rig_jk_ble_sum8(const uint8_t *p, size_t n);

/* ---- 20-byte commands ---------------------------------------------------------------- */

struct jk_ble_cmd {
	uint8_t reg;
	uint8_t value_len;                 /* 0..13 */
	uint8_t value[JK_BLE_VALUE_MAX];   /* value_len bytes LE, then padding, kept as sent */
};

/* Exactly 20 bytes: header, value_len <= 13, sum8. */
rig_rc rig_jk_ble_cmd_parse(const uint8_t *wire, size_t n, struct jk_ble_cmd *c);
void rig_jk_ble_cmd_encode(const struct jk_ble_cmd *c, uint8_t out[JK_BLE_CMD_LEN]);
/* 0x96 / 0x97: value length 0, zero padding. */
void rig_jk_ble_cmd_read(struct jk_ble_cmd *c, uint8_t reg);
/* A write of len (0..4) value bytes, little-endian, zero padding. RIG_ERR_ARG for len > 4. */
rig_rc rig_jk_ble_cmd_write(struct jk_ble_cmd *c, uint8_t reg, uint8_t len, uint32_t value);
/* AA 55 90 EB C8 01 01 00..00 44 */
void rig_jk_ble_cmd_ack(struct jk_ble_cmd *c);
/* The first min(value_len, 4) value bytes as a little-endian number. */
uint32_t rig_jk_ble_cmd_value(const struct jk_ble_cmd *c);
int rig_jk_ble_cmd_is_ack(const struct jk_ble_cmd *c);

/* ---- records --------------------------------------------------------------------------- */

/* 1 when p[0..n) is the start of a record header `55 AA EB 90` (all of it for n >= 4; n = 0
 * gives 1): for assemblers that share a stream with other frames (JK-PB over RS485). */
int rig_jk_ble_record_header_at(const uint8_t *p, size_t n);
/* Exactly 300 bytes (more is not a record: a caller that knows about trailers cuts them off),
 * header and sum8 right. The type byte is not judged: unknown types are valid records. */
rig_rc rig_jk_ble_record_check(const uint8_t *wire, size_t n);
/* Zeroes rec and writes header, type and counter. */
void rig_jk_ble_record_begin(uint8_t rec[JK_BLE_RECORD_LEN], uint8_t type, uint8_t counter);
/* Writes the header again (type and counter stay) and the sum8 at 299. */
void rig_jk_ble_record_seal(uint8_t rec[JK_BLE_RECORD_LEN]);
/*
 * Zeroes every byte that the typed decoder for rec's type in this layout models, except float
 * fields: a float carries precision beyond the milli-units it decodes to, and the encoder keeps
 * a float that still converts to the value it is asked to write. Unknown types: nothing.
 */
void rig_jk_ble_record_clear_fields(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout);

/* ---- IEEE-754 single precision <-> milli-units, integers only ---------------------------- */

/* x (float bits, units) * 1000 rounded to nearest, halves away from zero. RIG_ERR_ARG for NaN,
 * infinities and magnitudes that do not fit in int32. */
rig_rc rig_jk_ble_f32_to_milli(uint32_t bits, int32_t *milli);
/* The float nearest to milli / 1000 (ties to even), as bits; 0 for 0. Exact inverse of the
 * above for |milli| < 8388608 (8388.608 units), well beyond any cell or balance current. */
uint32_t rig_jk_ble_milli_to_f32(int32_t milli);

/* ---- type 0x02 cell info (docs/protocols/jk.md §3.6, §3.10) ------------------------------------------- */

struct jk_ble_cells {
	uint16_t cell_mV[JK_BLE_SLOTS_MAX];  /* every slot of the layout, enabled or not */
	uint32_t cell_mask;                  /* bit i = cell i+1 present. JK02: sent; JK04: the
	                                      * non-zero slots (derived, not written back) */
	uint16_t avg_cell_mV, delta_cell_mV;
	uint8_t max_cell_idx, min_cell_idx;  /* 0-based, as sent (JK02 only; unreliable on 24S) */
	uint16_t wire_res_mOhm[JK_BLE_SLOTS_MAX]; /* balance-wire resistance per slot, 0 = no cell:
	                                      * JK02 u16 mOhm at 64 (24S) / 80 (32S), JK04 f32 Ohm
	                                      * at 102; some clients count cells by these */
	uint32_t pack_mV;                    /* JK04: the sum of the present cells (derived) */
	uint32_t power_mW;                   /* magnitude, whatever the current's direction */
	int32_t current_mA;                  /* + = charging */
	int32_t mos_temp_dK;
	int32_t temp_dK[JK_BLE_TEMPS_MAX];   /* T1, T2, then (32S) the sensors at 254, 256, 258
	                                      * in offset order (their names are disputed, §9.2) */
	uint8_t temp_present;                /* bit 0 MOS, bits 1..5 sensors 1..5 (24S 182, 32S 214) */
	uint32_t errors;                     /* §3.7: u16 on 24S, u32 on 32S */
	int32_t balance_current_mA;          /* < 0: discharging balancer */
	uint8_t balance_action;              /* 0 off, 1 charging balancer, 2 discharging */
	uint8_t soc_pct, soh_pct;
	uint32_t remain_mAh, full_mAh, cycles, cycle_capacity_mAh, runtime_s;
	uint8_t fet_chg, fet_dsg;            /* 1 = on */
};
/* Slots a layout carries, its cell maximum: 24, 32, 24; 0 for no layout. */
unsigned rig_jk_ble_slots(enum jk_ble_layout layout);
/* RIG_ERR_ARG when rec is not type 0x02; RIG_ERR_FRAME for a JK04 float that is no number or
 * does not fit its field. Fields a layout lacks read 0. */
rig_rc rig_jk_ble_cells_decode(const uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                           struct jk_ble_cells *c);
/* Writes the layout's fields into rec (type must already be 0x02, see rig_jk_ble_record_begin);
 * RIG_ERR_ARG when a value does not fit its wire field (nothing is clipped). */
rig_rc rig_jk_ble_cells_encode(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                           const struct jk_ble_cells *c);

/* ---- type 0x01 settings (docs/protocols/jk.md §3.8) ----------------------------------------------------- */

/* JK02 word k lives at 6 + 4k and is written with register k + 1 (k < 32). JK04 maps the few
 * settings it has onto the same indices. Temperatures are s32 0.1 degC kept as two's complement. */
enum jk_ble_setting {
	JK_SET_SMART_SLEEP_MV = 0, JK_SET_CELL_UVP_MV, JK_SET_CELL_UVPR_MV, JK_SET_CELL_OVP_MV,
	JK_SET_CELL_OVPR_MV, JK_SET_BAL_TRIGGER_MV, JK_SET_SOC100_MV, JK_SET_SOC0_MV, JK_SET_RCV_MV,
	JK_SET_RFV_MV, JK_SET_POWER_OFF_MV, JK_SET_MAX_CHG_MA, JK_SET_CHG_OCP_DELAY_S,
	JK_SET_CHG_OCP_REC_S, JK_SET_MAX_DSG_MA, JK_SET_DSG_OCP_DELAY_S, JK_SET_DSG_OCP_REC_S,
	JK_SET_SCP_REC_S, JK_SET_MAX_BAL_MA, JK_SET_CHG_OTP_DC, JK_SET_CHG_OTPR_DC, JK_SET_DSG_OTP_DC,
	JK_SET_DSG_OTPR_DC, JK_SET_CHG_UTP_DC, JK_SET_CHG_UTPR_DC, JK_SET_MOS_OTP_DC,
	JK_SET_MOS_OTPR_DC, JK_SET_CELL_COUNT, JK_SET_CHG_SWITCH, JK_SET_DSG_SWITCH, JK_SET_BAL_SWITCH,
	JK_SET_CAPACITY_MAH, JK_SET_SCP_DELAY_US, JK_SET_BAL_START_MV,
	JK_SET_COUNT
};

struct jk_ble_settings {
	uint32_t value[JK_SET_COUNT];        /* indices the layout lacks read 0 */
};
rig_rc rig_jk_ble_settings_decode(const uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                              struct jk_ble_settings *s);
rig_rc rig_jk_ble_settings_encode(uint8_t rec[JK_BLE_RECORD_LEN], enum jk_ble_layout layout,
                              const struct jk_ble_settings *s);
/* Whether a layout's settings record carries index k. */
int rig_jk_ble_setting_present(enum jk_ble_layout layout, unsigned k);
/* The write register of setting k in a layout, 0 when it has none; and back: the setting a
 * write register sets, -1 for none. JK04 registers take f32 values (docs/protocols/jk.md §4.2). */
uint8_t rig_jk_ble_setting_reg(enum jk_ble_layout layout, unsigned k);
int rig_jk_ble_setting_of_reg(enum jk_ble_layout layout, uint8_t reg);
/* The 4 value bytes of a write of setting k as a number in the struct's units (JK04 floats
 * converted to milli-units), and the reverse. RIG_ERR_ARG for an unusable float. */
rig_rc rig_jk_ble_setting_from_wire(enum jk_ble_layout layout, unsigned k, uint32_t wire, uint32_t *value);
uint32_t rig_jk_ble_setting_to_wire(enum jk_ble_layout layout, unsigned k, uint32_t value);

/* ---- type 0x03 device info (docs/protocols/jk.md §3.9; the same in every layout) ------------------------- */

/* Text fields as sent: NUL-padded, not necessarily NUL-terminated, bytes after a NUL kept. */
struct jk_ble_device {
	uint8_t model[16];
	uint8_t hw_version[8];
	uint8_t sw_version[8];
	uint32_t uptime_s;
	uint32_t power_on_count;
	uint8_t name[16];
	uint8_t passcode[16];
	uint8_t mfg_date[8];                 /* "YYMMDD" */
	uint8_t serial[11];
	uint8_t passcode2[5];
	uint8_t user_data[16];
	uint8_t setup_passcode[16];
};
rig_rc rig_jk_ble_device_decode(const uint8_t rec[JK_BLE_RECORD_LEN], struct jk_ble_device *d);
rig_rc rig_jk_ble_device_encode(uint8_t rec[JK_BLE_RECORD_LEN], const struct jk_ble_device *d);

/* ---- incremental receive ------------------------------------------------------------------ */

/*
 * Bytes in any pieces (BLE notifications of 20, 128+22, 150 bytes, or a UART stream): finds
 * `AA 55 90 EB` (a 20-byte command or ack) and `55 AA EB 90` (a 300-byte record), skips
 * garbage such as the module's "AT\r\n", and hands out frames whose sum8 is right. A header
 * whose frame fails the sum costs only its first byte, so a record cut short by a new header
 * still lets the new one through (docs/protocols/jk.md §3.4). Frames are handed out in place: *wire stays
 * valid until the next feed, next or reset.
 */
struct jk_ble_rx {
	uint8_t buf[JK_BLE_RECORD_LEN];
	struct rxbuf b;            /* rejected_frames: header found, frame bad (sum8, value length) */
	uint16_t out;              /* bytes of the frame handed out last, dropped at the next call */
};
void rig_jk_ble_rx_init(struct jk_ble_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n-1] as fit; returns the count taken. Call rig_jk_ble_rx_next until it
 * stops returning RIG_OK before feeding the rest. */
size_t rig_jk_ble_rx_feed(struct jk_ble_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: wire[0..n) is the next valid frame, n = 20 (command) or 300 (record).
 * RIG_MORE: nothing complete yet. */
rig_rc rig_jk_ble_rx_next(struct jk_ble_rx *rx, const uint8_t **wire, size_t *n);

/* ---- the neutral view ---------------------------------------------------------------- */

/*
 * A decoded cell-info record into the neutral view:
 *   cells       the cells of the record's cell mask, in order (JK04: the non-zero slots)
 *   temps_dK    the pack probes only, in record order: T1, T2, and on 32S the sensors at
 *               offsets 254, 256, 258. A probe is left out when it reads -200.0 degC (no
 *               sensor) or, on 32S, when its presence bit (byte 214, bits 1..5) is clear; a
 *               presence byte of 0 counts as "T1 and T2". The MOSFET temperature is not a pack
 *               probe and is not reported. JK04 records carry no temperatures.
 *   pack_mV, current_mA (+ = charging), soc_pct, remain/full mAh, cycles, fet_chg/fet_dsg
 *               as sent (JK04: pack = sum of cells; current, SOC and FETs read 0: not sent)
 *   prot        the error mask through rig_jk_ble_errors_to_prot
 *   bal_mask    while the balancer works: the highest and the lowest cell (the active
 *               balancer moves charge between them); 0 otherwise
 */
void rig_jk_ble_to_pack_state(const struct jk_ble_cells *c, enum jk_ble_layout layout, struct pack_state *s);

/*
 * The error mask of a cell-info record (docs/protocols/jk.md §3.7) as PACK_PROT_* bits, one table for both
 * directions. Bit 4 differs by firmware (docs/field-notes.md §2.3): "cell over-voltage" on JK02_24S
 * (firmware < 11), "battery is fully charged" on JK02_32S (firmware >= 11), which is the normal
 * end of a charge and maps to no protection bit. JK04 records have no error mask.
 */
uint32_t rig_jk_ble_errors_to_prot(uint32_t errors, enum jk_ble_layout layout);
/* What an emulated BMS of this layout sends for the protections in prot (one bit per
 * condition; bits a layout's mask cannot hold are dropped). */
uint32_t rig_jk_ble_errors_from_prot(uint32_t prot, enum jk_ble_layout layout);

#ifdef __cplusplus
}
#endif

#endif
