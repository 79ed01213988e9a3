/*
 * The Daly personality: turns 0xA5 request frames into the replies a Daly Smart BMS (the
 * UART/RS485 "Smart BMS" boards of the 2020-2023 captures, docs/protocols/daly.md §7) gives, on top of a
 * struct bms. Behaviour:
 *   addressing   address 0 (default): a lone BMS = board 1, answers host 0x40 and 0x80, replies
 *                as 0x01. Address n (1..16, a board on an RS485 bus): answers host 0x3F+n only
 *                (0x80 too is ignored, esphome #3452), replies as n. Everything else, and
 *                every reply-addressed frame (another board talking), gets silence.
 *   reads        0x90-0x98 from the BMS's last measurement; d0..d7 of a read are ignored.
 *                0x95: ceil(cells/3) frames numbered from 1 (16 frames to host 0x80 with
 *                all_cell_frames). 0x96: ceil(ntc/7) frames (3 probes: 1 frame), plus one
 *                all-zero frame with extra_temp_frame=1, at most 3 (captures of some 1-NTC
 *                packs show 2 frames, which desynchronises clients reading ceil(ntc/7)). Frames go
 *                back to back, DALY_FRAME_WIRE_MS apart.
 *                0x50-0x53, 0x54, 0x57 (5 frames), 0x59-0x5B, 0x5F from the JBD-form
 *                registers (translation in daly_personality.c). 0xD8: all zero (captured).
 *                0x5C-0x5E, 0x55, 0x56, 0x58 and every unknown id: silence (layouts unknown;
 *                real boards are silent on unknown ids, docs/protocols/daly.md §5).
 *   writes       0xDA / 0xD9 d0 = 1 on, 0 off -> bms_set_inhibit (charge / discharge
 *                inhibit bits); reply echoes d0. 0x21 -> bms_set_remain_mAh(full x SOC),
 *                reply d0 = 1 (d0 = 0 and no change for a SOC above 100.0 %).
 *                0x00 -> no reply (the board reboots), bms_restart when a model is attached,
 *                then reset_ms of silence.
 *   reserved     with stale_reserved, every reserved byte (and the padding cells of the last
 *                0x95 frame) repeats the byte at the same position of the frame sent before,
 *                which is exactly what the captures show (§2.4); else zero.
 *   current      0x90 carries the measured current (+ = charging, dead band applied by the
 *                BMS), negated with current_sign=inverted. 0x93's state always tells the
 *                truth (from the measured current), as in the captures.
 *   sleep        after sleep_after_s without current beyond the dead band (and, with
 *                wake_on=any, without requests) the BMS sleeps. Asleep, an addressed request
 *                is echoed echo_ms later (echo=1), or answered with all-zero data fields
 *                (zero_frames=1, the stale-adapter picture of python-daly-bms #48), or meets
 *                silence. wake_on=current: current beyond the dead band wakes it; any: that or
 *                any addressed request (which itself still gets the asleep treatment); none:
 *                only the wake pin (the quirk asleep=0).
 * Replies are built only with the codec (bmsrig/daly.h).
 */
#ifndef BMSRIG_DALY_PERSONALITY_H
#define BMSRIG_DALY_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/daly.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"

#define DALY_FRAME_WIRE_MS 14u          /* 13 bytes x 10 bits at 9600 baud, rounded up */
#define DALY_ANSWER_MAX    DALY_CELL_FRAMES_MAX

enum daly_wake { DALY_WAKE_ANY = 0, DALY_WAKE_CURRENT = 1, DALY_WAKE_NONE = 2 };

/* Every field is a set_quirk key of the same name (wake_on and current_sign by name). */
struct daly_quirks {
	uint32_t latency_ms;           /* 60: inside the 50-80 ms of maland16 #11 */
	uint32_t sleep_after_s;        /* 3000, the field default; 0 = never */
	uint32_t wake_on;              /* enum daly_wake; current */
	uint32_t echo;                 /* 1: asleep, echo the request */
	uint32_t echo_ms;              /* 3: "1-5 ms" */
	uint32_t zero_frames;          /* 0: asleep without echo, answer all-zero data */
	uint32_t stale_reserved;       /* 1: reserved bytes are leftovers */
	uint32_t deadband_ma;          /* 1000 -> b->sensor.current_deadband_mA */
	uint32_t current_inverted;     /* current_sign: 0 normal, 1 inverted */
	uint32_t all_cell_frames;      /* 0: 1 = all 16 0x95 frames to host 0x80 (BLE dongle) */
	uint32_t extra_temp_frame;     /* 0: 1 = one all-zero 0x96 frame more */
	uint32_t reset_ms;             /* 3000: silence after 0x00 */
};

struct daly_personality {
	struct bms *bms;
	const struct model *model;     /* for 0x00's bms_restart; NULL: the reboot is silence only */
	struct daly_quirks q;
	uint8_t board;                 /* 0 = lone BMS; else the RS485 board number */
	uint8_t asleep;
	uint8_t clock_started;         /* the sleep timer has a reference time */
	uint8_t life;                  /* 0x93 heartbeat */
	uint32_t active_ms;            /* last activity, for the sleep timer */
	uint32_t silent_until_ms;      /* rebooting after 0x00 */
	uint8_t rebooting;
	uint8_t last_data[DALY_DATA_LEN];   /* the frame sent before: leftovers come from here */
	uint32_t requests, echoed, zeroed, ignored, resets;
};

/* What the BMS sends for one request. */
enum daly_answer_kind { DALY_ANSWER_NONE = 0, DALY_ANSWER_FRAMES, DALY_ANSWER_ECHO };
struct daly_answer {
	uint8_t kind;                  /* enum daly_answer_kind */
	uint8_t count;                 /* frames */
	uint32_t delay_ms;             /* of the first frame; each next one DALY_FRAME_WIRE_MS later */
	unsigned truth_parts;          /* carried by the answer's last frame */
	struct daly_frame frame[DALY_ANSWER_MAX];
};

/* 60 ms latency, sleep after 3000 s, wake on current, echo when asleep, stale reserved bytes,
 * 1 A dead band, normal sign, ceil(n/3) cell frames, the extra 0x96 frame, 3 s reboot. */
void daly_quirks_defaults(struct daly_quirks *q);
/* board 0 = lone BMS, 1..16 = RS485 board number (RIG_ERR_ARG above). Applies q->deadband_ma
 * to b. q NULL: the defaults. model may be NULL (then 0x00 cannot call bms_restart). */
rig_rc daly_personality_init(struct daly_personality *p, struct bms *b, const struct daly_quirks *q,
                             uint8_t board, const struct model *model);
/* Sleep timer and wake-on-current; tick and handle call it. */
void daly_personality_tick(struct daly_personality *p, uint32_t now_ms);
/* The answer to one frame heard on the line (kind NONE: silence). */
void daly_personality_handle(struct daly_personality *p, const struct daly_frame *req,
                             uint32_t now_ms, struct daly_answer *out);
/* set_quirk on a personality (also "asleep" = 1 sleep now / 0 the wake pin). */
rig_rc daly_personality_set_quirk(struct daly_personality *p, const char *key, const char *value,
                                  char *why, size_t whycap);

extern const struct personality_ops daly_personality_ops;

#endif
