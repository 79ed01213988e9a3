/* A BMS personality: the protocol face of an emulated BMS. It takes the bytes a client sends,
 * answers from the BMS logic (struct bms), and hands its replies to a sink, which the link
 * model and the transport carry to the wire. Every protocol exports one table,
 * `<proto>_personality_ops`, with the same function set. */
#ifndef BMSRIG_PERSONALITY_H
#define BMSRIG_PERSONALITY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bmsrig/sim/bms.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/truth.h"

#define PERSONALITY_STATE_MAX 4096u    /* bytes of state a personality may use */

enum personality_dir { PERS_RX = 0, PERS_TX = 1 };

/* Where replies go. delay_ms counts from the request (the BMS's latency); truth_parts says
 * which truth_part bits the reply carries (0 for acks, settings, errors). */
struct reply_sink {
	void *ctx;
	void (*send)(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned truth_parts);
	/* Optional: each complete frame seen or sent, for logs and traces. */
	void (*frame)(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n);
};

struct personality_ops {
	const char *name;              /* "jbd", "daly", "jk", "jk-ble" */
	uint32_t baud;                 /* the real device's line speed */
	struct resolution resolution;
	/* Sets up state (at most PERSONALITY_STATE_MAX bytes) over bms, answering at address
	 * (0 = the protocol's default; on a bus, the unit's number). Quirks get realistic
	 * defaults; set_quirk changes them. */
	rig_rc (*init)(void *state, struct bms *bms, uint8_t address);
	/* key=value quirk settings, e.g. "latency_ms", "40". RIG_ERR_ARG with why: an unknown
	 * key or a bad value ("latency_ms: expected 0..5000, got 9000"). */
	rig_rc (*set_quirk)(void *state, const char *key, const char *value, char *why, size_t whycap);
	/* Bytes from the line, as they arrive (in any pieces). */
	void (*rx)(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink);
	/* The client's connection ended (a Bluetooth link dropped): what it set up, such as a
	 * subscription, ends with it, and the next connection starts afresh. May be NULL. */
	void (*disconnected)(void *state);
	/* The BMS of every unit on the same line, this one included (peers[i] is unit i), given
	 * once after all are set up: modules of one battery, which an inverter protocol's master
	 * module answers for together. The pointers stay valid while the units live; the array
	 * itself only during the call (copy the pointers). May be NULL. */
	void (*peers)(void *state, const struct bms *const *peers, unsigned n);
	/* Called every model step: unsolicited pushes, sleep timers. May be NULL. */
	void (*tick)(void *state, uint32_t now_ms, const struct reply_sink *sink);
	/* Settings persistence: exit-and-save and friends call this (may be NULL). */
	void (*on_save)(void *state, int (*save)(void *ctx, const struct bms *b), void *ctx);
	/* One frame of this protocol, decoded in the vector vocabulary (docs/architecture.md "Decoded
	 * frame"); an object with "error" for bytes that are not a frame. For logs and traces. */
	cJSON *(*wire_json)(const uint8_t *wire, size_t n);
};

/* A numeric quirk in a table: its key, its range and where it lives in the personality's quirk
 * struct (a uint8_t or uint32_t field). PERSONALITY_QUIRK(struct jbd_quirks, field, "key", 0, 1). */
struct personality_quirk {
	const char *key;
	uint32_t min, max;
	size_t offset;
	uint8_t size;
};
#define PERSONALITY_QUIRK(type, field, key, min, max) \
	{ (key), (min), (max), offsetof(type, field), (uint8_t)sizeof(((type *)0)->field) }
/* A personality's numeric quirks, and every key it knows for the "unknown quirk" message. */
struct personality_quirks {
	const char *proto;                   /* "jbd" */
	const struct personality_quirk *rows;
	size_t n;
	const char *all_keys;                /* "latency_ms, drop_after_idle_ms, ..." */
};
/* Sets the quirk named key in quirks: RIG_OK, or RIG_ERR_ARG with why: a bad value (as
 * personality_quirk_u32 says it) or "unknown jbd quirk \"x\" (all_keys)". A personality checks
 * its quirks of other kinds (words, state) before. */
rig_rc personality_quirk_set(const struct personality_quirks *t, void *quirks, const char *key, const char *value,
                             char *why, size_t whycap);

/* For set_quirk: value as a decimal number in min..max into *out. RIG_ERR_ARG otherwise, with
 * why saying so in the words set_quirk promises ("latency_ms: expected 0..5000, got \"x\""),
 * and *out untouched. */
rig_rc personality_quirk_u32(const char *key, const char *value, uint32_t min, uint32_t max, uint32_t *out,
                             char *why, size_t whycap);
rig_rc personality_quirk_u8(const char *key, const char *value, uint8_t min, uint8_t max, uint8_t *out,
                            char *why, size_t whycap);

/* Settings persistence as on_save wires it: the port's callback, and how it went. */
struct personality_saver {
	int (*save)(void *ctx, const struct bms *b);   /* NULL: nothing persists */
	void *ctx;
	uint32_t saves, failures;                      /* failures: save returned non-zero */
};
/* Where the board would write its EEPROM: hands b to the callback, if any, and counts. */
void personality_persist(struct personality_saver *s, const struct bms *b);

/* All personalities the emulator knows, NULL-terminated; and lookup by name. */
extern const struct personality_ops *const personality_table[];
const struct personality_ops *personality_find(const char *name);

#endif
