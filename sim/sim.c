/* Emulated BMS units on one transport (sim.h). Bytes from the line pass the link model and
 * reach every unit's personality; each reply waits out the BMS's latency, is checked for a
 * collision with another unit's reply on the bus, and leaves through the link model in
 * chunks, each on its own timer. All the sims of one real-time loop share one step timer (a
 * stepper): with 256 ports that is one timer firing every 100 ms, not 256. */
#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bmsrig/sim/ble_module.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/pool.h"
#include "bmsrig/lib/pty.h"
#include "bmsrig/sim/socketcan.h"
#include "bmsrig/lib/stream.h"
#include "bmsrig/lib/cli.h"
#include "bmsrig/lib/lazy_tick.h"
#include "bmsrig/lib/serial.h"
#include "bmsrig/sim/sim.h"

/* The frames a unit announced for the reply it is building: they are logged when that reply
 * has crossed the link, or reported lost, never when merely built. */
#define HELD_BYTES_MAX 1024u
#define HELD_FRAMES_MAX 12u          /* a Pylontech CAN set with its extras is 9 frames in one send */
struct held_frames {
	unsigned n;
	uint16_t len[HELD_FRAMES_MAX];
	size_t bytes;
	uint8_t wire[HELD_BYTES_MAX];
};

struct sim_unit {
	struct sim *sim;
	unsigned index;
	const struct personality_ops *ops;
	struct model model;
	struct bms bms;
	double current_A;               /* the current set last, flowing since seg_ms */
	double anchor_A;                /* the current flowing at model_ms: drift is measured from it */
	double charge_As;               /* charge of the currents set from model_ms to seg_ms */
	double step_A;                  /* the (mean) current the last step used */
	uint32_t seg_ms;
	uint8_t drifted;                /* a drift was absorbed since the last plan */
	uint8_t changed;                /* written to since its last step (a new current, an
	                                 * event, a request's write): the next read steps it */
	uint32_t model_ms;              /* the model and the BMS logic are stepped up to here */
	uint32_t quiet_until_ms;        /* virtual loop: no step is needed before this (bms_quiet_ms) */
	char state_path[4096];
	uint8_t state_loaded;           /* the settings came from state_path at start */
	struct reply_sink sink;
	struct held_frames held;        /* announced since the last send */
	unsigned rx_heard;              /* requests it announced in the current sim_input */
	uint32_t told_prot, told_bal;   /* the decisions decide_cb last heard of */
	uint8_t told_fet;
	alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
};

/* The blocks of a reply's way out (pendings, held frames) come from free lists the sim owns
 * (pool.h): a reply no longer costs a malloc and a free of each. */
/* A reply waiting out the BMS's latency, then a chunk waiting for its connection event. */
struct pending {
	struct sim *sim;
	unsigned unit;
	uint32_t timer, due_ms, scheduled_ms;
	uint32_t end_us;                /* paced, wall clock: when its last byte has crossed */
	uint8_t exact;                  /* its ms timer may come early: end_us is the due time */
	uint8_t parked;                 /* waiting for line_tfd, not for a loop timer */
	int is_chunk;
	int has_truth;                  /* the reply's truth, told to observers once it has crossed */
	struct truth_sample truth;
	struct held_frames *frames;     /* what the reply carries, for the log; with the last chunk */
	size_t len;
	struct pending *next;
	uint8_t wire[];
};

struct sim;

/* The step timer of the sims on one real-time loop. A virtual loop's sims keep a timer each:
 * lockstep runs then fire every timer in the order they always did. */
struct stepper {
	struct host_loop *loop;
	uint32_t timer;
	struct sim *first;
	struct stepper *next;
};
static struct stepper *g_steppers;

struct sim {
	struct host_loop *loop;
	struct sim_transport port;
	struct wire_faults faults;
	uint32_t line_free_us;          /* paced: when the line finishes what is queued on it, on
	                                 * the loop's clock in microseconds (mod 2^32) */
	uint8_t pace;
	uint8_t pace_requests;          /* paced, and requests arrive before their crossing (pty) */
	int line_tfd;                   /* paced on a real loop: a timerfd for the sub-millisecond
	                                 * rest of a chunk's wait, which the loop's ms timers would
	                                 * round up once per frame (-1: none) */
	uint32_t rx_cross_ms;           /* in sim_input: the rest of the request's crossing, rounded
	                                 * up, which a reply's latency waits out first */
	struct link link;
	struct ble_module module;       /* JBD modules' FF AA frames; passes all without a password */
	uint32_t link_drops_seen;
	uint32_t baud;
	unsigned n_units;
	unsigned rx_logged;             /* requests logged in the current sim_input (a bus: once) */
	struct sim_unit *unit[SIM_UNITS_MAX];
	struct host_lazy_tick tick;     /* virtual loop: its own step timer, sleeping while no
	                                 * unit needs a step (tick.id 0: none, a stepper instead) */
	uint32_t last_step_ms, closes_seen;
	struct stepper *stepper;        /* or the shared one (real-time loop) */
	struct sim *step_next;
	int serial;                     /* the port is a serial port, opened again after it is lost */
	int lost;                       /* ... and it is lost: port.h is NULL, replies go nowhere */
	uint32_t reopen_timer;
	struct pending *pending;
	struct pool pending_pool, frames_pool;
	struct sim_stats stats;
	void (*frame_cb)(void *ctx, unsigned unit, enum personality_dir dir, const uint8_t *wire, size_t n);
	void *frame_ctx;
	void (*truth_cb)(void *ctx, unsigned unit, const struct truth_sample *t);
	void *truth_ctx;
	void (*drop_cb)(void *ctx, unsigned unit, enum personality_dir dir, size_t n, const char *why);
	void *drop_ctx;
	void (*decide_cb)(void *ctx, unsigned unit);
	void *decide_ctx;
};

static int ser_fd(const void *h) { return host_serial_fd(h); }
static int32_t ser_read(void *h, uint8_t *p, uint16_t cap) { return host_serial_read(h, p, cap); }
static int32_t ser_write(void *h, const uint8_t *p, uint16_t n) { return host_serial_write(h, p, n); }
static void ser_close(void *h) { host_serial_close(h); }

/* A --link naming a network or CAN transport instead of a pty's symlink (sim.h). */
int sim_link_names_transport(const char *link)
{
	return host_stream_is(link, "tcp") || host_stream_is(link, "socketcand") ||
	       host_stream_is(link, "socketcan");
}

rig_rc sim_transport_open(struct sim_transport *p, const struct sim_cfg *cfg, uint32_t baud,
                          char *err, size_t errcap)
{
	rig_rc rc;

	if (cfg->transport) {
		*p = *cfg->transport;
		rc = RIG_OK;
	} else if (host_stream_is(cfg->link_path, "socketcan")) {
		rc = sim_socketcan_open(p, cfg->link_path + 10, err, errcap);
	} else if (cfg->serial_path && !sim_link_names_transport(cfg->link_path)) {
		struct host_serial *s;

		rc = host_serial_open(&s, cfg->serial_path, baud, err, errcap);
		if (rc == RIG_OK)
			*p = (struct sim_transport) {
				.h = s, .fd = ser_fd, .read = ser_read, .write = ser_write,
				.close = ser_close, .path = cfg->serial_path,
			};
	} else {
		/* A pty (published at link_path when set), a raw TCP listener or a socketcand
		 * server: the device end of a line, as bmsmon's inverter port serves it too. */
		struct host_stream h;

		rc = host_stream_serve(&h, cfg->link_path, baud, err, errcap);
		if (rc == RIG_OK)
			*p = (struct sim_transport) {
				.h = h.h, .fd = h.fd, .read = h.read, .write = h.write, .close = h.close,
				.closes = h.closes, .path = h.path,
			};
	}
	return rc;
}

static void catch_up(struct sim *s, uint32_t max_age_ms);
static void catch_up_read(struct sim *s, uint32_t max_age_ms);
static void unit_wake(struct sim_unit *u);
static void notice_decisions(struct sim_unit *u);
static void unit_touched(struct sim_unit *u);

void sim_truth(const struct sim *s, unsigned unit, unsigned parts, struct truth_sample *t)
{
	const struct model *m = &s->unit[unit]->model;
	unsigned i;

	/* Reading the truth does not change it: the pack is only brought to the time it is at,
	 * once it is a step behind (the truth was up to a step old with fixed steps too; a reply's
	 * truth, read as it crosses, then costs no step of its own). s is never a const object
	 * (sim_open makes it), so the cast is sound. */
	catch_up_read((struct sim *)(uintptr_t)s, SIM_STEP_MS - 1u);

	memset(t, 0, sizeof *t);
	t->t_ms = host_loop_now_ms(s->loop);
	t->parts = parts;
	t->pack_mV = model_pack_V(m) * 1000.0;
	t->current_mA = m->pack_I_A * 1000.0;
	t->temp_count = m->cfg.ntc_count;
	for (i = 0; i < t->temp_count && i < PACK_TEMPS_MAX; i++)
		t->temp_dK[i] = PACK_DK_ZERO_C + 10.0 * model_temp_C(m, i);
	t->cell_count = m->cfg.cells;
	const double *cells_V = model_cells_V(m);   /* the step's memo: no call per cell */
	for (i = 0; i < t->cell_count && i < PACK_CELLS_MAX; i++)
		t->cell_mV[i] = (cells_V ? cells_V[i] : model_cell_V(m, i)) * 1000.0;
}

/* ---- the way out: latency, bus collisions, link chunks ------------------------------------ */

static void unlink_pending(struct sim *s, struct pending *p)
{
	struct pending **pp;

	for (pp = &s->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/* ---- the frames a reply carries, for logs and traces ---------------------------------------- */

/* Each frame of f crossed: the observers hear of it now. */
static void frames_crossed(struct sim *s, unsigned unit, const struct held_frames *f)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; f && i < f->n; off += f->len[i++])
		if (s->frame_cb)
			s->frame_cb(s->frame_ctx, unit, PERS_TX, f->wire + off, f->len[i]);
}

/* Each frame of f was lost on the way: one report a frame. */
static void frames_lost(struct sim *s, unsigned unit, const struct held_frames *f, const char *why)
{
	unsigned i;

	for (i = 0; f && i < f->n; i++)
		if (s->drop_cb)
			s->drop_cb(s->drop_ctx, unit, PERS_TX, f->len[i], why);
}

/* Why the link lost a client's write just now (link_uplink returned 0). */
static const char *link_why(const struct link *l)
{
	switch (l->state) {
	case LINK_CONNECTING: return "connecting";
	case LINK_STUCK:      return "refused: the previous connection still holds the BMS";
	case LINK_DOWN:       return "not connected";
	case LINK_UP:         break;
	}
	return "the first request after a connect is lost";
}

static struct pending *new_pending(struct sim *s, unsigned unit, const uint8_t *wire, size_t n)
{
	struct pending *p = pool_get(&s->pending_pool, sizeof *p + n);

	if (!p)
		return NULL;
	memset(p, 0, sizeof *p);
	p->sim = s;
	p->unit = unit;
	p->len = n;
	memcpy(p->wire, wire, n);
	return p;
}

/* p and the frames it carries back to the sim's pools. */
static void pending_free(struct sim *s, struct pending *p)
{
	pool_put(&s->frames_pool, p->frames);
	pool_put(&s->pending_pool, p);
}

/* A chunk's bytes have crossed: out to the client, or lost with the link. */
static void chunk_send(struct sim *s, struct pending *c)
{
	if (s->lost) {   /* an unplugged adapter's UART loses what it was sent */
		frames_lost(s, c->unit, c->frames, "port lost");
	} else if (link_up_since(&s->link, host_loop_now_ms(s->loop), c->scheduled_ms)) {
		(void)s->port.write(s->port.h, c->wire, (uint16_t)c->len);
		frames_crossed(s, c->unit, c->frames);
		if (c->has_truth && s->truth_cb)
			s->truth_cb(s->truth_ctx, c->unit, &c->truth);
	} else {
		frames_lost(s, c->unit, c->frames, "not connected");
	}
	unlink_pending(s, c);
	pending_free(s, c);
}

/* The wall clock in microseconds, mod 2^32 (differences stay right across the wrap). */
static uint32_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

/* line_tfd set for the earliest parked chunk, or disarmed when none is left. */
static void arm_line_timer(struct sim *s)
{
	struct itimerspec its;
	struct pending *c;
	uint32_t now = mono_us(), wait_us = 0;
	int any = 0;

	for (c = s->pending; c; c = c->next) {
		uint32_t w;

		if (!c->parked)
			continue;
		w = (int32_t)(c->end_us - now) > 0 ? c->end_us - now : 1u;   /* 0 would disarm */
		if (!any || w < wait_us)
			wait_us = w;
		any = 1;
	}
	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = (time_t)(wait_us / 1000000u);
	its.it_value.tv_nsec = (long)(wait_us % 1000000u) * 1000;
	(void)timerfd_settime(s->line_tfd, 0, &its, NULL);
}

/* line_tfd fired: every parked chunk whose time has come goes out, in line order. */
static void on_line_timer(struct host_loop *loop, int fd, void *ctx)
{
	struct sim *s = ctx;
	uint64_t expirations;

	(void)loop;
	if (read(fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		struct pending *c, *first = NULL;
		uint32_t now = mono_us();

		for (c = s->pending; c; c = c->next)
			if (c->parked && (int32_t)(now - c->end_us) >= 0 &&
			    (!first || (int32_t)(c->end_us - first->end_us) < 0))
				first = c;
		if (!first)
			break;
		chunk_send(s, first);
	}
	arm_line_timer(s);
}

static int chunk_due(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct pending *c = ctx;
	struct sim *s = c->sim;

	(void)id;
	(void)loop;
	/* Timed on the wall clock to the microsecond: the loop's ms timer came before the last
	 * byte's time; the timerfd waits out the rest. */
	if (c->exact && s->line_tfd >= 0 && (int32_t)(c->end_us - mono_us()) > 0) {
		c->timer = 0;
		c->parked = 1;
		arm_line_timer(s);
		return 0;
	}
	chunk_send(s, c);
	return 0;
}

/* Bytes on a half-duplex bus take len * 10 bits at the baud rate. */
uint32_t sim_wire_ms(const struct sim *s, size_t len)
{
	return (uint32_t)((len * 10u * 1000u + s->baud - 1u) / s->baud);
}

uint32_t sim_wire_us(const struct sim *s, size_t len)
{
	return (uint32_t)(((uint64_t)len * 10u * 1000000u + s->baud - 1u) / s->baud);
}

/* The line's clock may follow the wall to the microsecond: on a real loop running at real time,
 * whose clock is the monotonic one. Otherwise (simulated time, paused, another rate) it is the
 * loop's clock in whole ms. */
static int line_exact(const struct sim *s)
{
	return s->line_tfd >= 0 && !host_loop_paused(s->loop) && host_loop_rate(s->loop) == 1.0;
}

/* The line's clock in microseconds, mod 2^32: the loop's ms * 1000 wraps consistently with the
 * loop's own clock, so differences stay right across either wrap. */
static uint32_t now_us(const struct sim *s)
{
	return line_exact(s) ? mono_us() : host_loop_now_ms(s->loop) * 1000u;
}

/* Paced: n bytes go on the line once it is free (or now), in microseconds; returns when their
 * last byte has crossed. */
static uint32_t line_take_us(struct sim *s, size_t n)
{
	uint32_t now = now_us(s);
	/* More than a minute queued is a clock switched under it (a pause): start afresh. */
	uint32_t start = (int32_t)(s->line_free_us - now) > 0 && s->line_free_us - now < 60000000u
	                 ? s->line_free_us : now;

	s->line_free_us = start + sim_wire_us(s, n);
	return s->line_free_us;
}

/* The loop's ms when microsecond `at_us` (not before now) of the line's clock has come: rounded
 * up, so a reply is never early; the line's clock keeps the fraction, so rounding never adds up.
 * On the wall clock, rounded down: the timerfd waits out the rest (chunk_due). */
static uint32_t ms_at(const struct sim *s, uint32_t at_us)
{
	uint32_t ahead_us = at_us - now_us(s);

	return host_loop_now_ms(s->loop) + (line_exact(s) ? ahead_us / 1000u : (ahead_us + 999u) / 1000u);
}

/* 1 when a chunk other than c is still waiting to go out (bytes must leave in order). */
static int chunk_waiting(const struct sim *s, const struct pending *c)
{
	const struct pending *o;

	for (o = s->pending; o; o = o->next)
		if (o != c && o->is_chunk)
			return 1;
	return 0;
}

/* truth (may be NULL) and frames (taken over; may be NULL) go with the last chunk: observers
 * hear of them when the reply has crossed, which over a slow Bluetooth link can be much later
 * than when it was built, or never. */
static void transmit(struct sim *s, unsigned unit, const uint8_t *wire, size_t n,
                     const struct truth_sample *truth, struct held_frames *frames)
{
	uint32_t now = host_loop_now_ms(s->loop);
	struct link_chunk ch[64];
	unsigned k = link_downlink(&s->link, now, n, ch, 64), i;
	int whole = k > 0, exact = 0;
	uint32_t end_us = 0;

	if (!k) {
		s->stats.lost_replies++;
		frames_lost(s, unit, frames, s->link.state == LINK_UP ? "send queue full" : link_why(&s->link));
	}
	/* A reply missing a notification reaches no client whole: no truth stands behind it. */
	if (k && ch[k - 1].offset + ch[k - 1].len < n)
		whole = 0;
	for (i = 1; whole && i < k; i++)
		if (ch[i].offset != ch[i - 1].offset + ch[i - 1].len)
			whole = 0;
	if (k && !whole)
		frames_lost(s, unit, frames, "a notification was lost");
	if (!whole) {
		truth = NULL;
		pool_put(&s->frames_pool, frames);
		frames = NULL;
	}
	/* Paced, a UART chunk is written once its last byte would have left the line, so a
	 * client sees a 9600-baud reply take its 1.04 ms a byte. */
	if (s->pace && s->link.cfg.kind == LINK_UART && k == 1) {
		end_us = line_take_us(s, n);
		exact = line_exact(s);
		ch[0].at_ms = ms_at(s, end_us);
	}
	for (i = 0; i < k; i++) {
		struct pending *c = new_pending(s, unit, wire + ch[i].offset, ch[i].len);

		if (!c)
			break;
		c->is_chunk = 1;
		c->scheduled_ms = now;
		c->end_us = end_us;
		c->exact = (uint8_t)exact;
		if (i == k - 1) {
			if (truth) {
				c->has_truth = 1;
				c->truth = *truth;
			}
			c->frames = frames;
			frames = NULL;
		}
		c->next = s->pending;
		s->pending = c;
		/* Due now, unpaced, with no earlier chunk still waiting: out at once. A timer of 0
		 * ms added while timers fire would wait a whole loop pass (one more epoll_wait). */
		if (ch[i].at_ms == now && !exact && !chunk_waiting(s, c)) {
			chunk_send(s, c);
			continue;
		}
		c->timer = host_loop_add_timer(s->loop, ch[i].at_ms - now, chunk_due, c);
		if (!c->timer) {
			unlink_pending(s, c);
			frames = c->frames;
			pool_put(&s->pending_pool, c);
			break;
		}
	}
	pool_put(&s->frames_pool, frames);
}

static int reply_due(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct pending *r = ctx, *o, *next;
	struct sim *s = r->sim;
	uint32_t busy_until = r->due_ms + sim_wire_ms(s, r->len);
	uint8_t mixed[1024];
	size_t len = r->len;
	int collided = 0;

	(void)id;
	(void)loop;
	memcpy(mixed, r->wire, len < sizeof mixed ? len : sizeof mixed);
	/* Another unit starting before this reply has left the wire: both drive the bus. */
	for (o = s->pending; o; o = next) {
		size_t i;

		next = o->next;
		if (o == r || o->is_chunk || o->unit == r->unit || (int32_t)(o->due_ms - busy_until) >= 0)
			continue;
		for (i = 0; i < o->len && i < sizeof mixed; i++)
			mixed[i] = i < len ? (uint8_t)(mixed[i] | o->wire[i]) : o->wire[i];
		if (o->len > len)
			len = o->len < sizeof mixed ? o->len : sizeof mixed;
		host_loop_del_timer(s->loop, o->timer);
		unlink_pending(s, o);
		frames_lost(s, o->unit, o->frames, "bus collision");
		pending_free(s, o);
		collided = 1;
	}
	if (collided) {
		s->stats.collisions++;
		frames_lost(s, r->unit, r->frames, "bus collision");
		pool_put(&s->frames_pool, r->frames);
		r->frames = NULL;
	}
	s->stats.replies++;
	unlink_pending(s, r);
	transmit(s, r->unit, collided ? mixed : r->wire, collided ? len : r->len,
	         r->has_truth && !collided ? &r->truth : NULL, r->frames);
	pool_put(&s->pending_pool, r);
	return 0;
}

static void sink_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned truth_parts)
{
	struct sim_unit *u = ctx;
	struct sim *s = u->sim;
	struct pending *r;
	struct held_frames *frames = NULL;
	uint8_t faulted[1024 + WIRE_FAULT_GROWTH];
	uint32_t late_ms = 0;

	/* The frames announced for this reply travel with it. */
	if (u->held.n) {
		frames = pool_get(&s->frames_pool, sizeof *frames);
		if (frames) {                 /* the part in use: most of wire[] is not */
			frames->n = u->held.n;
			frames->bytes = u->held.bytes;
			memcpy(frames->len, u->held.len, u->held.n * sizeof u->held.len[0]);
			memcpy(frames->wire, u->held.wire, u->held.bytes);
		}
		u->held.n = 0;
		u->held.bytes = 0;
	}
	if (wire_faults_any(&s->faults)) {
		n = wire_faults_reply(&s->faults, wire, n, s->baud, faulted, sizeof faulted, &late_ms);
		if (!n) {
			frames_lost(s, u->index, frames, "line fault");
			pool_put(&s->frames_pool, frames);
			return;
		}
		wire = faulted;
		delay_ms += late_ms;
	}
	/* The BMS starts counting its latency at the request's last byte; with none, the line's
	 * microsecond clock (transmit) already queues the reply behind the request. */
	if (delay_ms)
		delay_ms += s->rx_cross_ms;
	r = new_pending(s, u->index, wire, n);
	if (!r) {
		pool_put(&s->frames_pool, frames);
		return;
	}
	r->frames = frames;
	if (truth_parts && s->truth_cb) {
		/* What the BMS measured is the truth now, as the reply is built. */
		sim_truth(s, u->index, truth_parts, &r->truth);
		r->has_truth = 1;
	}
	r->due_ms = host_loop_now_ms(s->loop) + delay_ms;
	r->timer = host_loop_add_timer(s->loop, delay_ms, reply_due, r);
	if (!r->timer) {
		pending_free(s, r);
		return;
	}
	r->next = s->pending;
	s->pending = r;
}

/* A request has crossed already; a reply is held for the send that carries it. */
static void sink_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	struct sim_unit *u = ctx;
	struct held_frames *h = &u->held;

	if (!u->sim->frame_cb && !u->sim->drop_cb)
		return;
	if (dir == PERS_RX) {
		/* On a bus every unit hears (and announces) the same request, which crossed the wire
		 * once: log it once. Counting, not a flag, so a request only a later unit decodes (the
		 * first one asleep or absent) is still logged. */
		if (u->rx_heard++ < u->sim->rx_logged)
			return;
		u->sim->rx_logged++;
		if (u->sim->frame_cb)
			u->sim->frame_cb(u->sim->frame_ctx, u->index, dir, wire, n);
		return;
	}
	if (h->n < HELD_FRAMES_MAX && n <= sizeof h->wire - h->bytes) {
		memcpy(h->wire + h->bytes, wire, n);
		h->len[h->n++] = (uint16_t)n;
		h->bytes += n;
	} else if (u->sim->frame_cb) {
		/* No room (no personality sends so much at once): logged now rather than never. */
		u->sim->frame_cb(u->sim->frame_ctx, u->index, dir, wire, n);
	}
}

/* Frames announced with no send behind them never left the BMS: nothing to log. */
static void unit_done(struct sim_unit *u)
{
	u->held.n = 0;
	u->held.bytes = 0;
}

/* A disconnect the link went through since the last look: the module and the units start the
 * next connection afresh (a password to give again, no subscription). */
static void notice_link(struct sim *s)
{
	unsigned i;

	if (s->link.disconnects == s->link_drops_seen)
		return;
	s->link_drops_seen = s->link.disconnects;
	ble_module_disconnected(&s->module);
	for (i = 0; i < s->n_units; i++)
		if (s->unit[i]->ops->disconnected)
			s->unit[i]->ops->disconnected(s->unit[i]->state);
}

/* ---- the way in, and time ----------------------------------------------------------------- */

void sim_input(struct sim *s, const uint8_t *buf, size_t n)
{
	uint32_t now = host_loop_now_ms(s->loop);
	uint8_t reply[BLE_MODULE_FRAME_MAX], heard[512];
	size_t reply_len;
	unsigned i;
	int up = link_uplink(&s->link, now, n);

	notice_link(s);
	if (!up) {
		if (s->drop_cb)
			s->drop_cb(s->drop_ctx, 0, PERS_RX, n, link_why(&s->link));
		return;
	}
	/* The DUT's own write lost on the way (mute_dut): the inverter's keep-alive stops, a
	 * monitor's requests go unheard, whatever the protocol. */
	if (wire_faults_any(&s->faults) && wire_faults_request_lost(&s->faults)) {
		if (s->drop_cb)
			s->drop_cb(s->drop_ctx, 0, PERS_RX, n, "line fault: mute_dut");
		return;
	}
	if (wire_faults_any(&s->faults) && n <= sizeof heard) {
		n = wire_faults_request(&s->faults, buf, n, s->baud, heard, sizeof heard);
		buf = heard;
	}
	if (s->link.cfg.kind == LINK_BLE) {
		int m = ble_module_uplink(&s->module, buf, n, reply, &reply_len);

		if (m == 1 && reply_len)
			transmit(s, 0, reply, reply_len, NULL, NULL);
		if (m < 0 && s->drop_cb)
			s->drop_cb(s->drop_ctx, 0, PERS_RX, n, "the module wants its password first");
		if (m != 0)
			return;
	}
	/* Over a pty the request arrived whole at once; on the wire it would still be crossing. */
	if (s->pace_requests && s->link.cfg.kind == LINK_UART)
		s->rx_cross_ms = ms_at(s, line_take_us(s, n)) - now;
	s->rx_logged = 0;
	catch_up_read(s, 0);
	for (i = 0; i < s->n_units; i++) {
		struct sim_unit *u = s->unit[i];
		/* A request that wrote a setting or restarted the BMS ends its quiet stretch (the next
		 * step works out a new one); reads, nearly all of them, leave it. */
		struct bms before;
		memcpy(&before, &u->bms, sizeof before);

		u->rx_heard = 0;
		u->ops->rx(u->state, buf, n, now, &u->sink);
		unit_done(u);
		if (memcmp(&before, &u->bms, sizeof before) != 0) {
			unit_touched(u);
			notice_decisions(u);     /* a write that switched the FETs */
		}
	}
	s->rx_cross_ms = 0;
}

/* ---- a serial port that goes away (an adapter unplugged, socat gone) and comes back ------- */

static void on_readable(struct host_loop *loop, int fd, void *ctx);

/* Tried on the loop's clock, so a paused emulator reopens once it resumes. */
static int reopen(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct sim *s = ctx;
	struct host_serial *h;
	char err[256];

	(void)id;
	if (host_serial_open(&h, s->port.path, s->baud, err, sizeof err) != RIG_OK)
		return SIM_REOPEN_MS;
	if (host_loop_add_fd(loop, host_serial_fd(h), on_readable, s) != RIG_OK) {
		host_serial_close(h);
		return SIM_REOPEN_MS;
	}
	s->port.h = h;
	s->lost = 0;
	s->reopen_timer = 0;
	fprintf(stderr, "bmssim: port %s back\n", s->port.path);
	return 0;
}

/* A hung-up fd stays readable: left in the loop it would be polled and read forever. */
static void port_lost(struct sim *s, int fd, const char *why)
{
	fprintf(stderr, "bmssim: port %s lost (%s); waiting for it to come back\n", s->port.path,
	        why ? why : "I/O error");
	host_loop_del_fd(s->loop, fd);
	s->port.close(s->port.h);
	s->port.h = NULL;
	s->lost = 1;
	s->reopen_timer = host_loop_add_timer(s->loop, SIM_REOPEN_MS, reopen, s);
}

static void on_readable(struct host_loop *loop, int fd, void *ctx)
{
	struct sim *s = ctx;
	uint8_t buf[512];
	int32_t n;

	/* A short read took all there was: the loop is level-triggered and calls again when more
	 * comes, so reading on to EAGAIN would only cost one more read() per wake-up. */
	while ((n = s->port.read(s->port.h, buf, sizeof buf)) > 0) {
		sim_input(s, buf, (size_t)n);
		if ((size_t)n < sizeof buf)
			break;
	}
	if (n < 0 && s->serial) {
		port_lost(s, fd, host_tty_lost(fd, errno));
		return;
	}
	if (s->port.closes && s->port.closes(s->port.h) != s->closes_seen) {
		s->closes_seen = s->port.closes(s->port.h);
		link_client_closed(&s->link, host_loop_now_ms(loop));
		notice_link(s);
	}
}

/* Event-driven stepping (docs/bmssim.md "Time"). On a virtual (lockstep) loop a unit whose BMS
 * logic has nothing to decide for a while (bms_quiet_ms) skips the 100 ms steps in between and
 * is stepped over the whole interval at its next event: the quiet horizon's end, a request, a
 * read of the truth, a new current or a write to its state. The model's solutions are exact
 * for a constant current, and the horizon ends before any decision could change. A unit with
 * a tick of its own (sleep timers, pushed notifications) is stepped every time; so is every
 * unit on a real-time loop, where the cost does not matter. */
#define QUIET_MAX_MS 60000u

/* u's decisions as sim_on_decide's callback has heard them. */
static void remember_decisions(struct sim_unit *u)
{
	u->told_prot = u->bms.prot_bits;
	u->told_fet = u->bms.fet;
	u->told_bal = u->bms.bal_mask;
}

/* Tells sim_on_decide's callback when u's BMS has decided anew (its protections, FETs or
 * balancing differ from what it last heard): a judge need not look while they stay. */
static void notice_decisions(struct sim_unit *u)
{
	const struct bms *b = &u->bms;

	if (b->prot_bits == u->told_prot && b->fet == u->told_fet && b->bal_mask == u->told_bal)
		return;
	remember_decisions(u);
	if (u->sim->decide_cb)
		u->sim->decide_cb(u->sim->decide_ctx, u->index);
}

/* u's model and BMS logic stepped up to now, with the current set since its last step. A quiet
 * stretch stays as it was planned: part of it stepped and the rest to come, at the same
 * current, reach what one step over it would. */
static void unit_advance(struct sim_unit *u, uint32_t now)
{
	if (now != u->model_ms) {
		/* A current that drifted (sim_set_current) is taken at its mean over the step: the
		 * charge, and so the SOC, is then exact for a current linear in time. Without a drift
		 * it is the set current itself, bit for bit. */
		double dt_s = (now - u->model_ms) / 1000.0;
		u->step_A = u->seg_ms == u->model_ms ? u->current_A
		          : (u->charge_As + u->current_A * ((now - u->seg_ms) / 1000.0)) / dt_s;
		bms_step(&u->bms, &u->model, dt_s, u->step_A);
		notice_decisions(u);
		u->changed = 0;                  /* measured since: a write at now is not */
	}
	u->model_ms = u->seg_ms = now;
	u->charge_As = 0.0;
	u->anchor_A = u->current_A;
}

/* A current that moves smoothly (a ramp, an interpolated profile) is not worth a step at every
 * 100 ms tick on a virtual loop: it may drift from the one flowing at the unit's last step by
 * up to SIM_DRIFT_A, and a tenth of that current, on the same side of zero and of every
 * current threshold of the BMS (its dead band, over-current, short circuit), before the unit is
 * caught up; meanwhile its charge is summed and the step takes the mean (docs/bmssim.md
 * "Time"). The BMS reads current in 10 mA counts (the JBD's), so the drift stays under one. */
static int drift_ok(const struct sim *s, const struct sim_unit *u, double from_A, double to_A)
{
	double d = fabs(to_A - from_A);

	return host_loop_is_virtual(s->loop) && !u->ops->tick &&
	       ((to_A > 0.0 && from_A > 0.0) || (to_A < 0.0 && from_A < 0.0)) &&
	       d <= SIM_DRIFT_A && d <= 0.1 * fabs(from_A) && bms_current_same(&u->bms, from_A, to_A);
}

/* After a regular step: how long u may go without one. */
static void unit_plan(struct sim *s, struct sim_unit *u, uint32_t now)
{
	u->quiet_until_ms = now;
	u->drifted = 0;
	if (!u->ops->tick && host_loop_is_virtual(s->loop)) {
		/* The current that flows from now on, unless it is only a drift from the mean the
		 * step used (which the model carries): a new current leaves no quiet stretch. */
		double plan_A = drift_ok(s, u, u->step_A, u->current_A) ? u->step_A : u->current_A;
		uint32_t quiet = bms_quiet_ms(&u->bms, &u->model, plan_A, QUIET_MAX_MS);

		if (plan_A != u->current_A) {     /* cut as in sim_set_current */
			u->drifted = 1;
			quiet = quiet / 10u * 8u;
		}
		/* Less than a step ahead is no saving; the regular step comes first anyway. */
		if (quiet > SIM_STEP_MS)
			u->quiet_until_ms = now + quiet;
	}
}

/* Every unit of s more than max_age_ms behind brought up to now, before its state is read or
 * changed from outside. */
static void catch_up(struct sim *s, uint32_t max_age_ms)
{
	uint32_t now = host_loop_now_ms(s->loop);

	for (unsigned i = 0; i < s->n_units; i++)
		if (now - s->unit[i]->model_ms > max_age_ms)
			unit_advance(s->unit[i], now);
}

/* Before the pack is read: by a request (max_age_ms 0) or for its truth (a step). On a lockstep
 * port whose step sleeps (s->tick), a unit behind the 100 ms step at or before now is brought to
 * that step, where a step at every tick would have had it: a reply describes the pack as the BMS
 * measured it at its last step, up to 100 ms before, as with fixed steps, and the two requests
 * of a poll, a few ms apart, share one step. A unit written to since its last step (a new
 * current, an event, a request's write) or whose current drifted after that step (its charge
 * summed from seg_ms) is brought to now, so a change shows in the first reply after it.
 * Elsewhere (a real-time loop, a unit with a tick of its own) a unit more than max_age_ms
 * behind is brought to now. */
static void catch_up_read(struct sim *s, uint32_t max_age_ms)
{
	uint32_t now = host_loop_now_ms(s->loop), step_ms;

	if (!s->tick.id) {
		catch_up(s, max_age_ms);
		return;
	}
	step_ms = now - (now - s->tick.origin_ms) % SIM_STEP_MS;
	for (unsigned i = 0; i < s->n_units; i++) {
		struct sim_unit *u = s->unit[i];

		if (u->changed || (int32_t)(u->quiet_until_ms - now) <= 0) {
			if (now - u->model_ms > max_age_ms)
				unit_advance(u, now);
		} else if ((int32_t)(step_ms - u->model_ms) > 0) {
			unit_advance(u, (int32_t)(u->seg_ms - step_ms) > 0 ? now : step_ms);
		}
	}
}

static void step_one(struct sim *s, uint32_t now)
{
	unsigned i;

	/* A connection that ended took its subscriptions with it before anything is pushed. */
	link_tick(&s->link, now);
	notice_link(s);
	for (i = 0; i < s->n_units; i++) {
		struct sim_unit *u = s->unit[i];

		if ((int32_t)(now - u->quiet_until_ms) >= 0) {
			unit_advance(u, now);
			unit_plan(s, u, now);
		}
		if (u->ops->tick)
			u->ops->tick(u->state, now, &u->sink);
		unit_done(u);
	}
	s->last_step_ms = now;
	s->stats.steps++;
}

/* A virtual loop's step (lazy_tick.h): after it, the next step with anything to do is the
 * earliest end of a unit's quiet stretch. Only over a UART link with no unit ticking of its
 * own: a Bluetooth link's connects and drops (link_tick) and a unit's tick (ops->tick) fall due
 * on their own clocks, and those sims step every 100 ms as before. Whatever ends a quiet stretch
 * early (a write, a request that changed the BMS, a drift) wakes the step (unit_wake). */
static uint32_t step(void *ctx, uint32_t now)
{
	struct sim *s = ctx;
	uint32_t next = 0;
	unsigned i;

	step_one(s, now);
	if (s->link.cfg.kind != LINK_UART)
		return now;
	for (i = 0; i < s->n_units; i++) {
		const struct sim_unit *u = s->unit[i];

		if (u->ops->tick || (int32_t)(u->quiet_until_ms - now) <= 0)
			return now;
		if (i == 0 || (int32_t)(u->quiet_until_ms - next) < 0)
			next = u->quiet_until_ms;
	}
	return next;
}

/* u's quiet stretch was cut short: its step comes at the next 100 ms step that a fixed cadence
 * would have taken (which finds out whether it is due yet). */
static void unit_wake(struct sim_unit *u)
{
	if (u->sim->tick.id)
		host_lazy_tick_wake(&u->sim->tick);
}

/* Something was written to u since its last step (a new current, an event, a request's write):
 * its quiet stretch ends, and the next read steps it to its time (catch_up_read). */
static void unit_touched(struct sim_unit *u)
{
	u->changed = 1;
	u->quiet_until_ms = u->model_ms;
	unit_wake(u);
}

static int step_shared(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct stepper *st = ctx;
	uint32_t now = host_loop_now_ms(loop);
	struct sim *s, *next;

	(void)id;
	for (s = st->first; s; s = next) {
		next = s->step_next;          /* read first: a step's callbacks may close s */
		if (now != s->last_step_ms)   /* one that joined this very millisecond waits a step */
			step_one(s, now);
	}
	return SIM_STEP_MS;
}

/* s joins its loop's stepper (made on first use). 0, or -1 when out of memory. */
static int stepper_join(struct sim *s)
{
	struct stepper *st;

	if (host_loop_is_virtual(s->loop))
		return host_lazy_tick_start(&s->tick, s->loop, SIM_STEP_MS, step, s) == RIG_OK ? 0 : -1;
	for (st = g_steppers; st && st->loop != s->loop; st = st->next)
		;
	if (!st) {
		st = calloc(1, sizeof *st);
		if (!st || !(st->timer = host_loop_add_timer(s->loop, SIM_STEP_MS, step_shared, st))) {
			free(st);
			return -1;
		}
		st->loop = s->loop;
		st->next = g_steppers;
		g_steppers = st;
	}
	s->stepper = st;
	s->step_next = st->first;
	st->first = s;
	return 0;
}

/* The last sim to leave ends the stepper. */
static void stepper_leave(struct sim *s)
{
	struct stepper *st = s->stepper, **pst;
	struct sim **ps;

	if (s->tick.id)
		host_loop_del_timer(s->loop, s->tick.id);
	if (!st)
		return;
	for (ps = &st->first; *ps && *ps != s; ps = &(*ps)->step_next)
		;
	if (*ps)
		*ps = s->step_next;
	if (st->first)
		return;
	host_loop_del_timer(st->loop, st->timer);
	for (pst = &g_steppers; *pst && *pst != st; pst = &(*pst)->next)
		;
	if (*pst)
		*pst = st->next;
	free(st);
}

static int save_state(void *ctx, const struct bms *b)
{
	struct sim_unit *u = ctx;
	char err[512];

	if (bms_state_save(b, u->state_path, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmssim: %s\n", err);
		return -1;
	}
	return 0;
}

/* Model, BMS, saved settings, personality and quirks of one unit; nothing opened yet. */
static rig_rc unit_open(struct sim_unit *u, const struct sim_unit_cfg *c, char *err, size_t errcap)
{
	rig_rc rc;
	unsigned i;
	unsigned cells = 0;

	u->ops = c->ops;
	u->current_A = u->anchor_A = u->step_A = c->current_A;
	rc = model_init(&u->model, &c->model);
	if (rc == RIG_OK)
		rc = bms_init(&u->bms, &u->model);
	if (rc != RIG_OK) {
		snprintf(err, errcap, "pack: %s", rig_rc_str(rc));
		return rc;
	}
	if (c->state_path) {
		snprintf(u->state_path, sizeof u->state_path, "%s", c->state_path);
		/* A missing file is a first start; anything else wrong with it is the user's to fix. */
		if (access(c->state_path, F_OK) == 0) {
			rc = bms_state_load(&u->bms, c->state_path, err, errcap);
			cells = (unsigned)u->bms.set.cell_count;
			if (rc == RIG_OK && cells != c->model.cells) {
				/* Served anyway it would read 0 mV on the missing sense lines and trip. */
				snprintf(err, errcap, "%s: cell_count: expected %u cells to match the pack, got %u",
				         c->state_path, c->model.cells, cells);
				rc = RIG_ERR_ARG;
			}
			if (rc != RIG_OK)
				return rc;
			bms_restart(&u->bms, &u->model);   /* starting again on saved settings is a power cycle */
			u->state_loaded = 1;
		}
	}
	rc = u->ops->init(u->state, &u->bms, c->address);
	if (rc != RIG_OK) {
		snprintf(err, errcap, "%s: address %u: %s", u->ops->name, c->address, rig_rc_str(rc));
		return rc;
	}
	for (i = 0; i < c->n_quirks; i++) {
		char why[200];

		if (u->ops->set_quirk(u->state, c->quirk[i].key, c->quirk[i].value, why, sizeof why) != RIG_OK) {
			snprintf(err, errcap, "%s quirk %s", u->ops->name, why);
			cli_one_line(err);        /* why quotes the key, which a config file may give a newline */
			return RIG_ERR_ARG;
		}
	}
	if (c->state_path && u->ops->on_save)
		u->ops->on_save(u->state, save_state, u);
	u->sink = (struct reply_sink){ u, sink_send, sink_frame };
	return RIG_OK;
}

rig_rc sim_open(struct sim **out, struct host_loop *loop, const struct sim_cfg *cfg,
                char *err, size_t errcap)
{
	struct sim *s;
	rig_rc rc = RIG_OK;
	unsigned i;

	*out = NULL;
	if (cfg->units < 1 || cfg->units > SIM_UNITS_MAX) {
		snprintf(err, errcap, "expected 1..%u BMS on one port, got %u", SIM_UNITS_MAX, cfg->units);
		return RIG_ERR_ARG;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_IO;
	}
	s->line_tfd = -1;
	s->loop = loop;
	/* Room for any reply of the usual size (a JBD 16S reply is 39 bytes, a JK 300). */
	pool_init(&s->pending_pool, sizeof(struct pending) + 512u);
	pool_init(&s->frames_pool, sizeof(struct held_frames));
	s->baud = cfg->baud ? cfg->baud : cfg->unit[0].ops->baud;
	for (i = 0; i < cfg->units && rc == RIG_OK; i++) {
		s->unit[i] = calloc(1, sizeof *s->unit[i]);
		if (!s->unit[i]) {
			snprintf(err, errcap, "out of memory");
			rc = RIG_ERR_IO;
			break;
		}
		s->n_units = i + 1;
		s->unit[i]->sim = s;
		s->unit[i]->index = i;
		rc = unit_open(s->unit[i], &cfg->unit[i], err, errcap);
	}
	/* Modules of one battery on a shared line: each may speak for its peers (an inverter
	 * protocol's master answers for every module in one frame). */
	if (rc == RIG_OK) {
		const struct bms *peers[SIM_UNITS_MAX];

		for (i = 0; i < s->n_units; i++)
			peers[i] = &s->unit[i]->bms;
		for (i = 0; i < s->n_units; i++)
			if (s->unit[i]->ops->peers)
				s->unit[i]->ops->peers(s->unit[i]->state, peers, s->n_units);
	}
	if (rc == RIG_OK)
		rc = sim_transport_open(&s->port, cfg, s->baud, err, errcap);
	if (rc != RIG_OK) {
		for (i = 0; i < s->n_units; i++)
			free(s->unit[i]);
		free(s);
		return rc;
	}
	link_init(&s->link, &cfg->link, host_loop_now_ms(loop));
	wire_faults_init(&s->faults, cfg->link.seed);
	s->pace = cfg->pace;
	s->pace_requests = cfg->pace && !cfg->transport && !cfg->serial_path;
	if (cfg->pace && !host_loop_is_virtual(loop)) {
		s->line_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (s->line_tfd >= 0 && host_loop_add_fd(loop, s->line_tfd, on_line_timer, s) != RIG_OK) {
			close(s->line_tfd);
			s->line_tfd = -1;   /* paced to the ms, as on simulated time */
		}
	}
	ble_module_init(&s->module, cfg->link.password, cfg->link.mac, cfg->link.seed);
	s->serial = !cfg->transport && cfg->serial_path;
	if (s->port.closes)
		s->closes_seen = s->port.closes(s->port.h);
	if ((s->port.fd(s->port.h) >= 0 && host_loop_add_fd(loop, s->port.fd(s->port.h), on_readable, s) != RIG_OK) ||
	    stepper_join(s)) {
		snprintf(err, errcap, "event loop: out of memory");
		sim_close(s);
		return RIG_ERR_IO;
	}
	s->last_step_ms = host_loop_now_ms(loop);
	for (i = 0; i < s->n_units; i++)
		s->unit[i]->model_ms = s->unit[i]->seg_ms = s->unit[i]->quiet_until_ms = s->last_step_ms;
	*out = s;
	return RIG_OK;
}

void sim_close(struct sim *s)
{
	unsigned i;

	if (!s)
		return;
	while (s->pending) {
		struct pending *p = s->pending;

		s->pending = p->next;
		host_loop_del_timer(s->loop, p->timer);
		pending_free(s, p);
	}
	pool_free(&s->pending_pool);
	pool_free(&s->frames_pool);
	stepper_leave(s);
	if (s->line_tfd >= 0) {
		host_loop_del_fd(s->loop, s->line_tfd);
		close(s->line_tfd);
	}
	if (s->reopen_timer)
		host_loop_del_timer(s->loop, s->reopen_timer);
	if (!s->lost && s->port.fd(s->port.h) >= 0)
		host_loop_del_fd(s->loop, s->port.fd(s->port.h));
	if (!s->lost && s->port.close)
		s->port.close(s->port.h);
	for (i = 0; i < s->n_units; i++)
		free(s->unit[i]);
	free(s);
}

const char *sim_port(const struct sim *s) { return s->port.path; }
unsigned sim_unit_count(const struct sim *s) { return s->n_units; }
const struct personality_ops *sim_unit_ops(const struct sim *s, unsigned unit) { return s->unit[unit]->ops; }
const struct model *sim_model(const struct sim *s, unsigned unit) { return &s->unit[unit]->model; }
const struct bms *sim_bms(const struct sim *s, unsigned unit) { return &s->unit[unit]->bms; }
int sim_state_loaded(const struct sim *s, unsigned unit) { return s->unit[unit]->state_loaded; }
const struct link *sim_link(const struct sim *s) { return &s->link; }
const struct sim_stats *sim_stats(const struct sim *s) { return &s->stats; }

void sim_on_frame(struct sim *s, void (*cb)(void *ctx, unsigned unit, enum personality_dir dir,
                                           const uint8_t *wire, size_t n), void *ctx)
{
	s->frame_cb = cb;
	s->frame_ctx = ctx;
}

void sim_on_drop(struct sim *s, void (*cb)(void *ctx, unsigned unit, enum personality_dir dir, size_t n,
                                          const char *why), void *ctx)
{
	s->drop_cb = cb;
	s->drop_ctx = ctx;
}

void sim_on_truth(struct sim *s, void (*cb)(void *ctx, unsigned unit, const struct truth_sample *t),
                  void *ctx)
{
	s->truth_cb = cb;
	s->truth_ctx = ctx;
}

void sim_on_decide(struct sim *s, void (*cb)(void *ctx, unsigned unit), void *ctx)
{
	unsigned i;

	for (i = 0; i < s->n_units; i++)   /* what it has decided so far is known */
		remember_decisions(s->unit[i]);
	s->decide_cb = cb;
	s->decide_ctx = ctx;
}

/* A writer changes what the quiet horizon was worked out from: catch up, and step at the
 * next 100 ms step again (which works out a new one). */
static struct sim_unit *unit_rw(struct sim *s, unsigned unit)
{
	catch_up(s, 0);
	unit_touched(s->unit[unit]);
	return s->unit[unit];
}

struct model *sim_model_rw(struct sim *s, unsigned unit) { return &unit_rw(s, unit)->model; }
struct bms *sim_bms_rw(struct sim *s, unsigned unit) { return &unit_rw(s, unit)->bms; }
struct wire_faults *sim_wire_faults(struct sim *s) { return &s->faults; }

void sim_set_current(struct sim *s, unsigned unit, double current_A)
{
	struct sim_unit *u = s->unit[unit];
	uint32_t now = host_loop_now_ms(s->loop);

	if (current_A == u->current_A)
		return;
	if (drift_ok(s, u, u->anchor_A, current_A)) {
		u->charge_As += u->current_A * ((now - u->seg_ms) / 1000.0);
		u->seg_ms = now;
		u->current_A = current_A;
		/* The quiet horizon assumed the current of the last step; the current may now be
		 * a tenth from the one at that step, itself up to a tenth from the step's mean:
		 * a threshold may come up to a fifth sooner, so the stretch is cut to 80 % (once). */
		if (!u->drifted && (int32_t)(u->quiet_until_ms - now) > 0) {
			u->drifted = 1;
			u->quiet_until_ms = u->model_ms + (u->quiet_until_ms - u->model_ms) / 10u * 8u;
			if ((int32_t)(u->quiet_until_ms - now) < 0)
				u->quiet_until_ms = now;
			unit_wake(u);
		}
		return;
	}
	/* The old current flowed until now: step with it first (a constant current, exactly). */
	u = unit_rw(s, unit);
	u->current_A = u->anchor_A = current_A;
}

double sim_current(const struct sim *s, unsigned unit)
{
	return s->unit[unit]->current_A;
}

rig_rc sim_set_quirk(struct sim *s, unsigned unit, const char *key, const char *value,
                     char *why, size_t whycap)
{
	struct sim_unit *u = s->unit[unit];

	return u->ops->set_quirk(u->state, key, value, why, whycap);
}

void sim_ble_drop(struct sim *s, uint32_t reconnect_ms)
{
	link_drop(&s->link, host_loop_now_ms(s->loop), reconnect_ms);
	notice_link(s);
}
