/* Emulated BMS served on one byte transport: for each unit a pack model, the BMS logic and a
 * personality; a link model (UART or Bluetooth) between them and a pty or serial port. Several
 * units on one transport form an RS485 bus: each answers only its address, and replies that
 * overlap on the wire collide. Driven by the event loop. */
#ifndef BMSRIG_SIM_H
#define BMSRIG_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/link.h"
#include "bmsrig/loop.h"
#include "bmsrig/model.h"
#include "bmsrig/personality.h"
#include "bmsrig/rc.h"
#include "bmsrig/truth.h"

#define SIM_STEP_MS 100u            /* model and BMS logic step, in real time */
#define SIM_UNITS_MAX 16u           /* units on one bus */
#define SIM_QUIRKS_MAX 16u

struct sim_setting {
	const char *key, *value;
};

struct sim_unit_cfg {
	const struct personality_ops *ops;
	struct model_cfg model;
	double current_A;               /* requested load (-) or charge (+) */
	uint8_t address;                /* on a bus; 0 = the protocol's default */
	const char *state_path;         /* settings persist here on exit-and-save; may be NULL */
	unsigned n_quirks;
	struct sim_setting quirk[SIM_QUIRKS_MAX];
};

struct sim_cfg {
	struct sim_unit_cfg unit[SIM_UNITS_MAX];
	unsigned units;
	struct link_cfg link;
	const char *link_path;          /* pty: publish this symlink (may be NULL) */
	const char *serial_path;        /* serve on this real port instead of a pty */
	uint32_t baud;                  /* 0: the first unit's protocol's own */
};

struct sim_stats {
	uint32_t replies, collisions, lost_replies;
};

struct sim;

/* Checks every unit (quirks, state files) before it opens anything; an error is one line in
 * err naming what was wrong. */
rig_rc sim_open(struct sim **out, struct rig_loop *loop, const struct sim_cfg *cfg,
                char *err, size_t errcap);
void sim_close(struct sim *s);
/* The path a client opens: /dev/pts/N or the serial port. */
const char *sim_port(const struct sim *s);
unsigned sim_unit_count(const struct sim *s);
const struct personality_ops *sim_unit_ops(const struct sim *s, unsigned unit);
const struct model *sim_model(const struct sim *s, unsigned unit);
const struct bms *sim_bms(const struct sim *s, unsigned unit);
const struct link *sim_link(const struct sim *s);
const struct sim_stats *sim_stats(const struct sim *s);

/* Observers: each frame a unit saw or sent, and the truth behind each reply as it is built. */
void sim_on_frame(struct sim *s, void (*cb)(void *ctx, unsigned unit, enum personality_dir dir,
                                           const uint8_t *wire, size_t n), void *ctx);
void sim_on_truth(struct sim *s, void (*cb)(void *ctx, unsigned unit, const struct truth_sample *t),
                  void *ctx);
/* The truth now. */
void sim_truth(const struct sim *s, unsigned unit, unsigned parts, struct truth_sample *t);

#endif
