/*
 * Thornwave PowerMon ("BT DCPM") codec, both directions (docs/protocols/thornwave.md).
 *
 * A PowerMon is a battery monitor, not a BMS: it measures V1, V2, current, power and a
 * temperature, counts energy and charge, and keeps a clock and an uptime. Two firmware
 * generations:
 *   legacy (<= 2.03): one 52-byte little-endian value at ATT handle 0x0015, read with an ATT
 *     Read Request and, since it is longer than MTU-1, Read Blob Requests at offsets 22, 44;
 *   newer (> 2.03): a COBS-framed stream of 51-byte (PowerMon) or 47-byte (PowerMon-5S)
 *     monitor frames, each ended by 0x00, carried by notifications.
 * On the rig's serial line the Bluetooth link carries the ATT PDUs themselves (opcode first,
 * little-endian handles); see the page for why and how they are delimited.
 *
 * C99, no heap, no stdio, no floating point: the f32 fields convert to milli-units with the
 * integer converter the JK04 codec uses (rig_jk_ble_f32_to_milli).
 */
#ifndef BMSRIG_THORNWAVE_H
#define BMSRIG_THORNWAVE_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TW_VALUE_LEN 52u              /* the legacy value at handle 0x0015 */
#define TW_VALUE_HANDLE 0x0015u
#define TW_ATT_MTU 23u                /* the default ATT MTU: a response carries MTU-1 value bytes */
#define TW_ATT_PDU_MAX TW_ATT_MTU
#define TW_ATT_ERROR_LEN 5u           /* 01 op handle(2) code */
#define TW_ATT_NOTIFY_DATA (TW_ATT_MTU - 3u)   /* 20 value bytes a notification */

/* The newer firmware's monitor stream on the rig's line (docs/protocols/thornwave.md §4): the
 * handles are the rig's choice, since a real client finds them by discovery. */
#define TW_MON_HANDLE 0x0010u         /* value of ec7c0001 */
#define TW_MON_CCCD 0x0011u           /* its Client Characteristic Configuration */
#define TW_MON_PUSH_MS 1000u          /* one monitor frame a second */

/* ATT opcodes the PowerMon's clients use (Bluetooth Core Vol 3 Part F §3.4). */
enum tw_att_op {
	TW_ATT_ERROR_RSP = 0x01,
	TW_ATT_READ_REQ = 0x0A,
	TW_ATT_READ_RSP = 0x0B,
	TW_ATT_BLOB_REQ = 0x0C,
	TW_ATT_BLOB_RSP = 0x0D,
	TW_ATT_WRITE_REQ = 0x12,          /* only 2-byte values here: a CCCD write (5 bytes) */
	TW_ATT_WRITE_RSP = 0x13,
	TW_ATT_NOTIFY = 0x1B
};
/* ATT error codes the emulated server answers with. */
enum tw_att_err {
	TW_ATT_ERR_INVALID_HANDLE = 0x01,
	TW_ATT_ERR_REQ_NOT_SUPPORTED = 0x06,
	TW_ATT_ERR_INVALID_OFFSET = 0x07
};

/* One ATT PDU. value points into the parsed bytes (read/blob responses, notifications). */
struct tw_att {
	uint8_t op;                       /* enum tw_att_op */
	uint16_t handle;                  /* requests, errors, notifications */
	uint16_t offset;                  /* blob requests */
	uint8_t err_op, err_code;         /* error responses: the request's opcode, the code */
	const uint8_t *value;
	size_t value_len;
};
/* n bytes as one PDU: requests and errors of their exact length, responses of 1..MTU bytes,
 * notifications of 3..MTU. RIG_ERR_LENGTH for a wrong length, RIG_ERR_FRAME for an opcode
 * this codec does not know. */
rig_rc rig_tw_att_parse(const uint8_t *p, size_t n, struct tw_att *a);
/* The PDU's bytes into out; the count, or 0 when it does not fit in cap or in one MTU. */
size_t rig_tw_att_encode(const struct tw_att *a, uint8_t *out, size_t cap);
/* The length of the PDU that starts with op, when the opcode fixes it (requests, errors);
 * 0 for a response or notification (its length depends on what was asked), -1 for an
 * opcode this codec does not know. */
int rig_tw_att_fixed_len(uint8_t op);
/* The value bytes a read (offset 0) or blob read at offset answers with, for a value of
 * value_len bytes at the default MTU: min(MTU-1, value_len - offset), 0 past the end. */
size_t rig_tw_att_piece_len(size_t value_len, size_t offset);

/* ---- the legacy 52-byte value --------------------------------------------------------- */

/* Packed device clock (offset 44): bits 0-5 s, 6-11 min, 12-16 h, 17-21 day, 22-25 month,
 * 26-31 year - 2017. */
struct tw_clock {
	uint16_t year;
	uint8_t month, day, hour, min, sec;
};
void rig_tw_clock_unpack(uint32_t packed, struct tw_clock *c);
/* RIG_ERR_ARG for a field out of its range (year 2017..2080, month 1..12, day 1..31, ...). */
rig_rc rig_tw_clock_pack(const struct tw_clock *c, uint32_t *packed);

/* The f32 fields (offsets 4..23 and 48) in their order. */
enum tw_float { TW_F_V1, TW_F_V2, TW_F_CURRENT, TW_F_POWER, TW_F_TEMP, TW_F_PEAK, TW_F_COUNT };

struct tw_value {
	uint8_t head[3];                  /* e0 ff 0f in every capture; kept as sent */
	uint8_t soc_half;                 /* state of charge x 2 */
	/* V1 mV, V2 mV, current mA (+ = charging), power mW, temperature m degC, peak current
	 * mA: the floats in milli-units, rounded. */
	int32_t milli[TW_F_COUNT];
	uint32_t bits[TW_F_COUNT];        /* the floats as sent (decode), or 0: encode from milli */
	int64_t energy_mWh;               /* energy meter, signed */
	int64_t charge_mAh;               /* coulomb meter, signed */
	uint32_t uptime_s;
	uint32_t clock;                   /* packed, struct tw_clock */
};
/* At least TW_VALUE_LEN bytes (bytes beyond are not known and ignored). RIG_ERR_LENGTH when
 * shorter; RIG_ERR_FRAME for a float that is no number or does not fit in milli-units. */
rig_rc rig_tw_value_decode(const uint8_t *p, size_t n, struct tw_value *v);
/* A float field keeps its bits when they still convert to its milli value; otherwise the
 * float nearest to it. */
void rig_tw_value_encode(const struct tw_value *v, uint8_t out[TW_VALUE_LEN]);
/* What a monitor gives the core: pack = V1, current, SOC, one temperature; no cells, no
 * FETs, no protections (docs/protocols/thornwave.md "In the core"). Sets nothing else
 * except those fields and zeroes the rest. */
void rig_tw_to_pack_state(const struct tw_value *v, struct pack_state *s);

/* ---- the newer firmware's stream: COBS and the monitor frame ----------------------------- */

#define TW_MON_LEN 51u                /* PowerMon (family 2): has V2 */
#define TW_MON_LEN_5S 47u             /* PowerMon-5S (family 3): no V2 */
#define TW_COBS_MAX (TW_MON_LEN + 2u) /* one frame, COBS-coded, without its 0x00 */

/* COBS without the delimiter: in[0..n) has no 0x00. RIG_ERR_FRAME for a 0x00 inside or a code
 * that runs past the end, RIG_ERR_LENGTH when out is too small. */
rig_rc rig_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outn);
/* The COBS form of in[0..n) (no delimiter); its length, or 0 when it does not fit in cap. */
size_t rig_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

struct tw_monitor {
	uint16_t fw_bcd;                  /* 0x0231 = 2.31 (inferred) */
	uint8_t hw_rev;                   /* BCD; high nibble the family: 2 PowerMon, 3 -5S */
	uint32_t time_s;                  /* local time, UNIX seconds */
	uint32_t flags;
	int32_t v1_mV, v2_mV;             /* v2_mV 0 when the family has none */
	int32_t current_mA, power_mW, temp_mC;
	int64_t charge_mAh, energy_mWh;
	uint8_t power_status;             /* 0 off, 1 on, 2 LVD, ... */
	uint8_t soc_pct;                  /* 0xFF disabled, 0xFE unknown */
	uint16_t runtime_min;             /* 0xFFFF disabled, 0xFFFE unknown */
	uint32_t bits[TW_F_COUNT];        /* V1, V2, I, P, T as sent (index TW_F_PEAK unused) */
};
/* A decoded frame: 51 bytes with family 2, 47 with family 3 (as the vendor library checks);
 * RIG_ERR_LENGTH otherwise, RIG_ERR_FRAME for an unusable float. */
rig_rc rig_tw_monitor_decode(const uint8_t *p, size_t n, struct tw_monitor *m);
/* The frame for m (its length by m's family); 0 for a family without a BLE stream. Floats
 * keep their bits when they still convert (as rig_tw_value_encode). */
size_t rig_tw_monitor_encode(const struct tw_monitor *m, uint8_t out[TW_MON_LEN]);
/* The same mapping for a monitor frame: V1, current, SOC (0 when the fuel gauge is off or
 * does not know), one temperature. */
void rig_tw_monitor_to_pack_state(const struct tw_monitor *m, struct pack_state *s);

/* Splits a byte stream at its 0x00 delimiters and COBS-decodes each frame. */
struct tw_cobs_rx {
	uint8_t buf[TW_COBS_MAX];
	uint16_t have;
	uint8_t overflow;                 /* the frame in progress outgrew buf: dropped at its 0x00 */
	uint32_t rejected;                /* frames that did not decode */
};
void rig_tw_cobs_rx_init(struct tw_cobs_rx *rx);
/* Takes bytes until a frame is complete: returns the count taken, and *outn > 0 when out holds
 * a decoded frame (out has room for TW_COBS_MAX bytes). Call again with the rest. */
size_t rig_tw_cobs_rx_feed(struct tw_cobs_rx *rx, const uint8_t *p, size_t n, uint8_t *out, size_t *outn);

/* ---- the client's assembler: ATT responses on a byte stream ------------------------------ */

/* ATT has no length field: a response is as long as the request makes it. The client says how
 * many value bytes it waits for; error responses have their own fixed length; a byte that
 * starts nothing known is skipped. */
struct thornwave_rx {
	uint8_t buf[TW_ATT_PDU_MAX];
	struct rxbuf b;
};
void rig_thornwave_rx_init(struct thornwave_rx *rx, uint32_t gap_ms);
size_t rig_thornwave_rx_feed(struct thornwave_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* The same for the notification stream: RIG_OK for the next write response (1 byte), error
 * response, or notification of the monitor handle (TW_MON_HANDLE), whose value ends after 20
 * bytes or at the first 0x00 after its first byte (each frame is sent as 0x00, COBS, 0x00 in
 * notifications of its own, so a short one ends at its closing delimiter), or before the next notification's header when the link lost its tail (COBS data
 * has no 0x00, so "1B 10 00" is always a header); RIG_MORE otherwise. */
rig_rc rig_thornwave_rx_next_notify(struct thornwave_rx *rx, uint8_t pdu[TW_ATT_PDU_MAX], struct tw_att *a);
/* RIG_OK: the next PDU, a read/blob response with want value bytes (at most MTU-1) or an error
 * response, copied to pdu and parsed into *a (a->value points into pdu); RIG_MORE: nothing
 * complete yet. */
rig_rc rig_thornwave_rx_next(struct thornwave_rx *rx, size_t want, uint8_t pdu[TW_ATT_PDU_MAX],
                             struct tw_att *a);

#ifdef __cplusplus
}
#endif

#endif
