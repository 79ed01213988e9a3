/*
 * The JBD personality: turns request frames into the replies a JBD-SP04S034-class board
 * (firmware 0x80) gives, on top of a struct bms. Behaviour (docs/protocols/jbd.md §7, §9, §13.2):
 *   reads  0x03 0x04 0x05 (= string 0xA1) 0xAA: always answered.
 *          0x10-0x47, 0xA0-0xA2, 0xAD-0xD7: factory mode only (status 0x81 outside) unless
 *          eeprom_needs_factory is 0 ("old firmware").
 *   writes 0x00 0x5678: enter factory mode (other values: 0x81).
 *          0x01 0x0000: leave, writes stay live. 0x01 0x2828: leave, zero the 0xAA counters,
 *          then persist through the save callback. Outside factory mode both are acked and
 *          change nothing (the Xiaoxiang app sends 01 00 00 after a bare E1).
 *          0x10-0x47, 0xAD-0xD7 (2 bytes), 0xA0-0xA2 ([L][text], L+1 == len): factory mode;
 *          a value the BMS refuses (jbd_reg_check) or a bad length gets 0x80.
 *          0xE1 (mask 0..3) and 0xE0 (remaining, 10 mAh): in or out of factory mode.
 *          0x06 (BLE password): acked.
 *   anything else, or a write to a read-only register: 0x80 with len 0.
 * Replies are built only with the codec (bmsrig/jbd.h).
 */
#ifndef BMSRIG_JBD_PERSONALITY_H
#define BMSRIG_JBD_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/sim/personality.h"

struct jbd_quirks {
	uint32_t reply_latency_ms;          /* the caller sends the reply this much later */
	uint32_t drop_first_after_idle_ms;  /* 0 = off; else the first request after this much
	                                     * silence (and the very first one: the board starts
	                                     * asleep) gets no reply (docs/protocols/jbd.md §12.1) */
	uint8_t eeprom_needs_factory;       /* settings reads/writes need factory mode (§12.11) */
	uint8_t basic_extension;            /* 0x03 carries the 9-byte V8+ tail (§4.8) */
};

struct jbd_personality {
	struct bms *bms;
	struct jbd_quirks q;
	uint8_t factory;                    /* in factory mode */
	uint8_t heard;                      /* any request seen yet (idle tracking) */
	uint32_t last_request_ms;
	struct personality_saver saver;
	uint32_t requests, dropped;
};

/* 40 ms latency, no idle drop, EEPROM behind factory mode, no 0x03 extension. */
void jbd_quirks_defaults(struct jbd_quirks *q);
void jbd_personality_init(struct jbd_personality *p, struct bms *b, const struct jbd_quirks *q);
/* Called on exit with 0x2828 in factory mode; non-zero return = failure (the reply is still
 * an ack, as the board would give; the failure is counted in saver.failures). */
void jbd_personality_on_save(struct jbd_personality *p,
                             int (*save)(void *ctx, const struct bms *b), void *ctx);
/* 1: *reply is what the BMS answers (send it reply_latency_ms later). 0: silence (idle drop,
 * or req is a response rather than a request). */
int jbd_personality_handle(struct jbd_personality *p, const struct jbd_frame *req,
                           uint32_t now_ms, struct jbd_frame *reply);

/* The 0x03 and 0x04 payloads from the BMS's last step (bms_view), in JBD's units and bits,
 * saturated to its 16-bit fields (has_ext = 0; the extension fields are filled anyway). */
void jbd_personality_basic(const struct bms *b, struct jbd_basic *out);
void jbd_personality_cells(const struct bms *b, struct jbd_cells *out);

extern const struct personality_ops jbd_personality_ops;

#endif
