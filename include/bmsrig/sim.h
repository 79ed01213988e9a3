/* One emulated BMS served on a byte transport: pack model -> BMS logic -> personality ->
 * pty or serial port, driven by the event loop. The first instance of what `bmssim serve`
 * runs; the scenario engine and many-BMS buses build on it. */
#ifndef BMSRIG_SIM_H
#define BMSRIG_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/jbd.h"
#include "bmsrig/jbd_personality.h"
#include "bmsrig/loop.h"
#include "bmsrig/model.h"
#include "bmsrig/rc.h"
#include "bmsrig/truth.h"

#define SIM_STEP_MS 100u            /* model and BMS logic step, in real time */

struct sim_cfg {
	struct model_cfg model;
	double current_A;               /* requested load (-) or charge (+) */
	struct jbd_quirks quirks;
	const char *link_path;          /* pty: publish this symlink (may be NULL) */
	const char *serial_path;        /* serve on this real port instead of a pty */
	uint32_t baud;
	const char *state_path;         /* settings persist here on exit-and-save; may be NULL */
};

enum sim_dir { SIM_RX = 0, SIM_TX = 1 };

struct sim;

/* Loads state_path first when it exists; any error there (unreadable, invalid) is fatal,
 * reported in err as one line, and nothing is opened. */
rig_rc sim_open(struct sim **out, struct rig_loop *loop, const struct sim_cfg *cfg,
                char *err, size_t errcap);
void sim_close(struct sim *s);
/* The path a client opens: /dev/pts/N or the serial port. */
const char *sim_port(const struct sim *s);

/* Observers: each frame on the wire, and the truth behind each reply as it is built. */
void sim_on_frame(struct sim *s, void (*cb)(void *ctx, enum sim_dir dir, const struct jbd_frame *f),
                  void *ctx);
void sim_on_truth(struct sim *s, void (*cb)(void *ctx, const struct truth_sample *t), void *ctx);

const struct model *sim_model(const struct sim *s);
const struct bms *sim_bms(const struct sim *s);
/* The truth now, for one part. */
void sim_truth(const struct sim *s, enum truth_part part, struct truth_sample *t);

#endif
