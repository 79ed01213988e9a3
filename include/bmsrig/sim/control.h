/*
 * The control socket of bmssim (protocol v1, README "Control socket"): a Unix stream socket on
 * which any number of clients send one JSON request per line and get one reply line each, and,
 * once subscribed, events: the state on the emulator's clock, every frame, and in a scenario run
 * the timeline's events and the expectations' verdicts. It is served from the emulator's event
 * loop and never blocks it: a client that reads too slowly loses events, not the emulator its
 * pace (its replies are kept, up to CONTROL_OUT_MAX, then it is disconnected).
 *
 * The program that embeds it says what a unit is through hooks. pause, resume, step and rate
 * go to the loop; set, fault and clear become timeline events, checked by the scenario loader's
 * own event parser and started by the unit's timeline.
 */
#ifndef BMSRIG_CONTROL_H
#define BMSRIG_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/timeline.h"

#define CONTROL_PROTOCOL 1
#define CONTROL_LINE_MAX 65536u          /* a longer request is refused */
#define CONTROL_OUT_MAX (1u << 20)        /* pending output a client may have; then it is cut */
#define CONTROL_EVENTS_MAX (1u << 19)     /* pending output beyond which its events are dropped */
/* Clients at once (each may hold up to CONTROL_OUT_MAX): one more gets one line, {"ok":false,
 * "error":"too many clients: at most 32 at once"}, and is closed. Also the listen backlog, so a
 * burst of that many connects waits for the loop rather than failing. */
#define CONTROL_CLIENTS_MAX 32u

struct cJSON;

struct control_hooks {
	void *ctx;
	const char *mode;                 /* "serve" or "run", for hello */
	unsigned units;
	/* Where unit u lives: its emulator and its index there. */
	void (*unit)(void *ctx, unsigned u, struct sim **sim, unsigned *index);
	/* The timeline events for unit u go into, made on first use; NULL when it cannot be. */
	struct timeline *(*timeline)(void *ctx, unsigned u);
	/* What the load asks of unit u, in A (truth.requested_ma). NULL: the emulator's current. */
	double (*requested_A)(void *ctx, unsigned u);
	/* An event went into unit u's timeline: apply the load now rather than at the next step.
	 * May be NULL. */
	void (*injected)(void *ctx, unsigned u);
	/* A scenario run: its file (its events). NULL in serve. */
	const struct scenario *sc;
	/* The judge's part of the state's "scenario" object (the expectations and their states),
	 * added after its events: the control socket serves the judge without knowing it. NULL: no
	 * judge. */
	void (*judge_json)(void *ctx, struct cJSON *scenario);
};

struct control;

/* $XDG_RUNTIME_DIR/bmsrig/bmssim-PID.sock, or /tmp/bmsrig-UID/bmssim-PID.sock when
 * XDG_RUNTIME_DIR is unset; the folder is made (mode 0700) and must be ours and private. */
rig_rc control_default_path(char *out, size_t cap, char *err, size_t errcap);
/* Listens on path (mode 0600). A stale socket file there is replaced; a live one (another
 * process answers), a symbolic link or any other file is refused: err says which, one line. */
rig_rc control_open(struct control **out, const char *path, char *err, size_t errcap);
const char *control_path(const struct control *c);
/* Serves on loop with hooks (copied) until control_detach. Clients stay connected across a
 * detach and the next attach (bmssim run: one loop per scenario), and so do the pause and the
 * rate they asked for. */
rig_rc control_attach(struct control *c, struct host_loop *loop, const struct control_hooks *h);
void control_detach(struct control *c);
/* Disconnects every client and removes the socket file. NULL is fine. */
void control_close(struct control *c);
/* `--viz`: bmsviz from beside this program, watching c, as a child of its own (it ends when the
 * socket closes). Returns its pid, or -1 with err (one line) when it cannot start. */
long control_spawn_viz(const struct control *c, char *err, size_t errcap);

/* What the embedding program reports as it happens; each costs nothing without subscribers. */
void control_frame(struct control *c, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n);
/* The device under test's last telemetry (the JSON object after the line's prefix). */
void control_dut(struct control *c, unsigned unit, const char *telemetry_json);
/* Scenario event index (hooks.sc) just started. */
void control_timeline(struct control *c, unsigned index);
/* An event object of the embedding program's own (the judge's verdicts), sent as it is to the
 * subscribers; nothing while detached. */
void control_publish(struct control *c, const struct cJSON *event);

#endif
