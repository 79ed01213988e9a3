/* Emulated BMS served on one byte transport: for each unit a pack model, the BMS logic and a
 * personality; a link model (UART or Bluetooth) between them and a pty or serial port. Several
 * units on one transport form an RS485 bus: each answers only its address, and replies that
 * overlap on the wire collide. Driven by the event loop. */
#ifndef BMSRIG_SIM_H
#define BMSRIG_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/sim/link.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/truth.h"
#include "bmsrig/sim/wire_fault.h"

#define SIM_STEP_MS 100u            /* model and BMS logic step, in real time */
#define SIM_DRIFT_A 0.01            /* lockstep: a smooth current drifts this far, at most, between steps */
#define SIM_REOPEN_MS 500u          /* a lost serial port: how often it is tried again */
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

/* A byte transport. The emulator opens a pty or a serial port itself; a caller may give its own
 * (in-process lockstep runs), with fd -1 when there is nothing to poll: it then hands the
 * client's bytes to sim_input. */
struct sim_transport {
	void *h;
	int (*fd)(const void *h);
	int32_t (*read)(void *h, uint8_t *p, uint16_t cap);
	int32_t (*write)(void *h, const uint8_t *p, uint16_t n);
	void (*close)(void *h);               /* may be NULL */
	uint32_t (*closes)(const void *h);    /* clients seen leaving; NULL: cannot tell */
	const char *path;
};

struct sim_cfg {
	struct sim_unit_cfg unit[SIM_UNITS_MAX];
	unsigned units;
	struct link_cfg link;
	const char *link_path;          /* pty: publish this symlink (may be NULL); or a network or
	                                 * CAN transport: "tcp:[ADDR:]PORT" (lib/tcp.h),
	                                 * "socketcand:[ADDR:]PORT" (lib/socketcand.h), "socketcan:IFACE"
	                                 * (socketcan.h) */
	const char *serial_path;        /* serve on this real port instead of a pty */
	uint32_t baud;                  /* 0: the first unit's protocol's own */
	const struct sim_transport *transport;   /* instead of a pty or serial port; may be NULL */
	uint8_t pace;                   /* UART replies take their time on the line at baud; over a
	                                 * pty or TCP, where a request arrives whole at once, its own
	                                 * crossing too (a real port and the in-process line deliver
	                                 * it after its crossing already) */
};

/* Opens what cfg names: cfg->transport as given, a --link scheme (tcp:, socketcand:,
 * socketcan:), cfg->serial_path, or else a pty (published at cfg->link_path when set). sim_open
 * does this; `bmssim replay` serves its trace on the same transports. One line in err. */
rig_rc sim_transport_open(struct sim_transport *t, const struct sim_cfg *cfg, uint32_t baud,
                          char *err, size_t errcap);
/* 1 when link names a network or CAN transport rather than a pty's symlink. */
int sim_link_names_transport(const char *link);

struct sim_stats {
	uint32_t replies, collisions, lost_replies;
	uint32_t steps;                 /* 100 ms steps taken (a virtual loop skips the quiet ones) */
};

struct sim;

/* Checks every unit (quirks, state files) before it opens anything; an error is one line in
 * err naming what was wrong. */
rig_rc sim_open(struct sim **out, struct host_loop *loop, const struct sim_cfg *cfg,
                char *err, size_t errcap);
void sim_close(struct sim *s);
/* The path a client opens: /dev/pts/N or the serial port. */
const char *sim_port(const struct sim *s);
unsigned sim_unit_count(const struct sim *s);
const struct personality_ops *sim_unit_ops(const struct sim *s, unsigned unit);
const struct model *sim_model(const struct sim *s, unsigned unit);
const struct bms *sim_bms(const struct sim *s, unsigned unit);
/* 1 when the unit's settings were loaded from its state file at start (0: none, or a first
 * start without the file). */
int sim_state_loaded(const struct sim *s, unsigned unit);
const struct link *sim_link(const struct sim *s);
const struct sim_stats *sim_stats(const struct sim *s);

/* Observers: each frame a unit saw (as it reached the unit) or sent (once the reply carrying it
 * has crossed the link whole), and the truth behind each reply as it is built. */
void sim_on_frame(struct sim *s, void (*cb)(void *ctx, unsigned unit, enum personality_dir dir,
                                           const uint8_t *wire, size_t n), void *ctx);
/* What the link model (or the bus, or a line fault) lost: a frame a unit sent that never
 * crossed (PERS_TX, n = the frame's bytes), or a client's write that never reached the BMS
 * (PERS_RX, unit 0). why says what took it: "not connected", "connecting", "send queue full"... */
void sim_on_drop(struct sim *s, void (*cb)(void *ctx, unsigned unit, enum personality_dir dir, size_t n,
                                          const char *why), void *ctx);
void sim_on_truth(struct sim *s, void (*cb)(void *ctx, unsigned unit, const struct truth_sample *t),
                  void *ctx);
/* A unit's BMS decided anew: its protections, FETs or balancing differ from when cb last heard
 * (or from when it was set). Told as the emulator steps the unit or a request writes to it;
 * not for changes made through sim_bms_rw (the timeline, the control socket), whose callers
 * know them. */
void sim_on_decide(struct sim *s, void (*cb)(void *ctx, unsigned unit), void *ctx);
/* Bytes from the client, as a transport without an fd delivers them. */
void sim_input(struct sim *s, const uint8_t *p, size_t n);

/* What a scenario changes while the emulator runs. */
struct model *sim_model_rw(struct sim *s, unsigned unit);
struct bms *sim_bms_rw(struct sim *s, unsigned unit);
void sim_set_current(struct sim *s, unsigned unit, double current_A);   /* requested, + = charging */
double sim_current(const struct sim *s, unsigned unit);                  /* what was set last */
rig_rc sim_set_quirk(struct sim *s, unsigned unit, const char *key, const char *value,
                     char *why, size_t whycap);
struct wire_faults *sim_wire_faults(struct sim *s);  /* line faults on every reply and request */
void sim_ble_drop(struct sim *s, uint32_t reconnect_ms);   /* Bluetooth links drop now */
/* How long len bytes take on the line at its baud rate (10 bits a byte), rounded up: in ms for
 * timers on the loop's millisecond clock, in microseconds for the paced line, which sums many
 * frames and must not round each one (39 bytes at 9600 Bd are 40.625 ms, not 41). */
uint32_t sim_wire_ms(const struct sim *s, size_t len);
uint32_t sim_wire_us(const struct sim *s, size_t len);

/* The truth now. */
void sim_truth(const struct sim *s, unsigned unit, unsigned parts, struct truth_sample *t);

#endif
