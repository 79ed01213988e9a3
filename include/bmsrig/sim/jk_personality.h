/*
 * The JK "4E 57" personality: a JK-B2A24S20P (hw 10.XW, sw 10.07, protocol version 1) on its
 * UART/RS485 port (docs/protocols/jk.md §2, §8.1), answering from a struct bms.
 *
 *   0x06, 0x03 id 0   every readable id in canonical order (docs/protocols/jk.md §2.3: 3n + 243 bytes), with
 *                     the request's command word echoed; truth TRUTH_PACK|CELLS|TEMPS.
 *   0x03 id           a frame with that one item (no capture: docs/protocols/jk.md §8.1's suggestion). An id
 *                     the table lacks or a write-only one gets no reply.
 *   0x02 id value     applied, answered with the id and value as written (cmd 0x02, docs/protocols/jk.md §4.1).
 *                     A read-only or unknown id, a value of the wrong width or one the BMS
 *                     refuses gets no reply (the real board's answer is not captured).
 *   0x01, 0x05        acknowledged with a one-byte 00 item list; 0x05 is not required before
 *                     a write (the tester in docs/protocols/jk.md §4.1 found its content ignored).
 * A request's terminal number, frame source and record number are not checked.
 *
 * What the board reports, from the BMS:
 *   0x79 cells (cell_count of them)    0x80 MOSFET = probe 1's reading (the board sits with the
 *   pack) 0x81/0x82 the first two probes enabled in ntc_enable_mask (BMS_ABSENT_NTC_DK when
 *   fewer), 0x86 = how many are enabled; temperatures round to whole degC and clamp to
 *   -40..100 degC (the codes' range). 0x83 pack, 0x84 current per the current_mode quirk
 *   (saturating at what the encoding holds), 0x85 SOC, 0x87 cycles, 0x89 cycles x
 *   cycle_capacity_mAh, 0x8A/0xA9 = cell_count, 0x8B = rig_jk_alarm_from_prot(prot_bits) + low
 *   capacity (SOC < 0xB1), 0x8C = FETs, balancer switch (balance_enable).
 * Settings held in the BMS's settings (bms.h; read and written through one table):
 *   0x8E/0x8F pack OV/UV = pack_ovp_mV/pack_uvp_mV (kept in whole 10 mV)
 *   0x90/0x91 = cell_ovp_mV/_release_mV    0x93/0x94 = cell_uvp_mV/_release_mV
 *   0x92/0x95 cell OV/UV delay = cell_ovp_delay_s/cell_uvp_delay_s
 *   0x97/0x98 dsg OC A/delay = dsg_oc_mA/1000, dsg_oc_delay_s
 *   0x99/0x9A chg OC = chg_oc_mA/1000, chg_oc_delay_s    0x9B/0x9C = balance_start/delta_mV
 *   0x9D = balance_enable    0xA3/0xA4 chg/dsg OT = chg_otp_dK/dsg_otp_dK in degC
 *   0xA5..0xA8 chg/dsg UT and release    0xA9 = cell_count
 *   0xAA capacity Ah = design_capacity_mAh/1000    0xAB/0xAC = bms_set_inhibit bits 0/1.
 * Every other id (MOSFET/box temperature limits, password, strings, ...) is held by the
 * personality with the captured board's values; 0xBC (factory reset) restores those. 0xBB
 * (restart) is acknowledged only: a BMS restart needs the pack model, which a personality does
 * not hold. A write that changes the BMS calls the save callback (the board keeps settings at
 * once; there is no save command).
 */
#ifndef BMSRIG_JK_PERSONALITY_H
#define BMSRIG_JK_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/sim/personality.h"

struct jk_quirks {
	uint32_t reply_latency_ms;     /* the caller sends the reply this much later */
	uint8_t current_mode;          /* the 0xC0 value: 1 sign-magnitude, 0 old offset code */
	uint32_t junk_every;           /* "AT\r\n" before every Nth reply (BLE-module chatter on
	                                * the shared UART, docs/protocols/jk.md §3.3); 0 = never */
};

struct jk_personality {
	struct bms *bms;
	struct jk_quirks q;
	struct jk_data own;            /* ids the JBD registers do not hold, as last written */
	struct personality_saver saver;
	uint32_t requests, replies, refused;
};

/* 30 ms latency, protocol version 1, no junk. */
void jk_quirks_defaults(struct jk_quirks *q);
/* address: reported in 0xAE (0 = the board default 1); nothing on the wire addresses a JK. */
void jk_personality_init(struct jk_personality *p, struct bms *b, const struct jk_quirks *q,
                         uint8_t address);
void jk_personality_on_save(struct jk_personality *p,
                            int (*save)(void *ctx, const struct bms *b), void *ctx);
/* Everything the board would report now: every id, canonical read-all order. */
void jk_personality_data(const struct jk_personality *p, struct jk_data *d);
/* 1: *reply is the answer (send it reply_latency_ms later). 0: silence. */
int jk_personality_handle(struct jk_personality *p, const struct jk_frame *req, uint32_t now_ms,
                          struct jk_frame *reply);

extern const struct personality_ops jk_personality_ops;

/* The JK id that carries neutral setting `setting` (enum bms_setting_id): 0 and *jk_id, or -1
 * when JK has none; and the personality's conversions between the setting's unit and the id's
 * (degC, A, Ah), so a settings tool (tools/bmsctl.c) converts as the board does. */
int jk_setting_id(unsigned setting, uint8_t *jk_id);
int32_t jk_setting_to_jk(uint8_t jk_id, int32_t value);
int64_t jk_setting_from_jk(uint8_t jk_id, int32_t value);

#endif
