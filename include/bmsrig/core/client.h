/* What every protocol client shares: configuration, status, the result of one step, the
 * function table a port drives it through, and the transaction engine each client runs on.
 * Each protocol's client has the same function set (init, step, set_fets, stats) under its own
 * prefix, and exports it as `<proto>_client_ops`. */
#ifndef BMSRIG_CLIENT_H
#define BMSRIG_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>            /* memset, in CLIENT_DEFINE */
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct client_cfg {
	uint32_t poll_ms;         /* start of one cycle to the start of the next; 0: back to back,
	                           * each cycle due as soon as the one before ended */
	uint32_t timeout_ms;      /* request to complete reply */
	uint32_t gap_ms;          /* longest pause inside one reply */
	uint8_t retries;          /* resends per request after the first try */
	uint32_t backoff_ms;      /* wait before the 2nd resend, doubled for each later one;
	                           * the 1st resend goes at once (a sleeping BMS drops the
	                           * first frame after idle, docs/protocols/jbd.md §12.1) */
	uint8_t address;          /* the BMS's address on a bus; 0 = the protocol's default */
	uint8_t flags;            /* protocol-specific, e.g. DALY_CLIENT_HOST_BLE */
};
#define CLIENT_CFG_DEFAULT { 1000u, 500u, 200u, 3u, 100u, 0u, 0u }

enum client_event {
	CLIENT_BUSY = 0,          /* nothing finished in this step */
	CLIENT_CYCLE_OK,          /* a full poll cycle landed in the pack_state */
	CLIENT_CYCLE_FAIL         /* a cycle gave up after its retries */
};

struct client_stats {
	uint32_t cycles_ok, cycles_failed;
	uint32_t requests, timeouts, resends;
	uint32_t error_replies;   /* valid frames carrying an error status */
	uint32_t rejected;        /* frames the client refused: echoes, implausible values */
	uint16_t comm_fail;       /* consecutive failed cycles */
	uint8_t ok;               /* the last cycle succeeded */
};

/* A client behind a table, so the core and the ports need not know which protocol runs. */
struct client_ops {
	const char *name;         /* "jbd", "daly", "jk", "jk-ble" */
	uint32_t baud;            /* the protocol's usual line speed */
	void (*init)(void *client, const struct client_cfg *cfg, struct rig_io io,
	             struct pack_state *out);
	enum client_event (*step)(void *client, uint32_t now_ms);
	/* Ask the BMS for its FET states (1 = allowed on); sent at the start of the next cycle. */
	void (*set_fets)(void *client, uint8_t chg_on, uint8_t dsg_on);
	const struct client_stats *(*stats)(const void *client);
	/* The earliest time the client may act with no byte arriving (a poll, a send, a timeout),
	 * so a port may sleep until then or until input comes; NULL: ask at every tick. */
	uint32_t (*next_due_ms)(const void *client, uint32_t now_ms);
};

/*
 * Every client is a struct <prefix>_client that begins with its engine, `eng`, and has its
 * assembler as `rx` (struct <prefix>_rx with buffer `buf` and fill level `b`, set up by
 * rig_<prefix>_rx_init). Its typed API is the same for every protocol, so it is declared and
 * defined once, here:
 *   rig_<prefix>_client_init      zeroes the client, sets up its assembler and its engine (which
 *                                 calls the protocol's own init hook)
 *   rig_<prefix>_client_step      one step: rig_client_engine_step, or the protocol's own
 *   rig_<prefix>_client_set_fets  rig_client_set_fets
 *   rig_<prefix>_client_stats     the engine's stats
 *   rig_<prefix>_client_ops       the table over these
 * A header declares them with CLIENT_API_DECLARE(prefix); at file scope, ending with a semicolon.
 */
#define CLIENT_API_DECLARE(prefix)                                                             \
	void rig_##prefix##_client_init(struct prefix##_client *c, const struct client_cfg *cfg,  \
	                                struct rig_io io, struct pack_state *out);                \
	enum client_event rig_##prefix##_client_step(struct prefix##_client *c, uint32_t now_ms); \
	void rig_##prefix##_client_set_fets(struct prefix##_client *c, uint8_t chg_on,            \
	                                    uint8_t dsg_on);                                      \
	const struct client_stats *rig_##prefix##_client_stats(const struct prefix##_client *c);  \
	extern const struct client_ops rig_##prefix##_client_ops

/* The table's set_fets and stats, the same for every client: the client begins with its engine
 * (CLIENT_DEFINE checks it), so the void pointer the table gets is the engine's. */
void rig_client_ops_set_fets(void *client, uint8_t chg_on, uint8_t dsg_on);
const struct client_stats *rig_client_ops_stats(const void *client);
/* The table's next_due_ms for a client on rig_client_engine_step (rig_client_engine_next_due_ms).
 * Only the emulator's in-process firmware sleeps on it so far, so a target build (RIG_FIRMWARE)
 * leaves it out of every table (about 160 B of flash on the lx106). */
#ifdef RIG_FIRMWARE
#define rig_client_ops_next_due_ms NULL
#else
uint32_t rig_client_ops_next_due_ms(const void *client, uint32_t now_ms);
#endif

/*
 * Defines the API CLIENT_API_DECLARE declares, for the client whose file has
 * `static const struct client_proto <prefix>_proto`; step_ is rig_client_engine_step for a
 * polled protocol, or the protocol's own function of the same type; next_due_ is
 * rig_client_ops_next_due_ms with rig_client_engine_step, NULL with a step of its own (the
 * engine's deadlines do not cover what such a step does by itself). The table takes void
 * pointers so the core needs no protocol's struct; its init and step adapters call the typed
 * functions, so the compiler still checks those calls against that client's prototypes. Use
 * once, at file scope, ending with a semicolon.
 */
#define CLIENT_DEFINE(prefix, name_, baud_, step_, next_due_)                                     \
	void rig_##prefix##_client_init(struct prefix##_client *c, const struct client_cfg *cfg,  \
	                                struct rig_io io, struct pack_state *out)                 \
	{                                                                                      \
		memset(c, 0, sizeof *c);                                                       \
		rig_##prefix##_rx_init(&c->rx, cfg->gap_ms);                                   \
		rig_client_engine_init(&c->eng, &prefix##_proto, c, cfg, io, out, &c->rx.b,   \
		                       c->rx.buf, sizeof c->rx.buf);                           \
	}                                                                                      \
	enum client_event rig_##prefix##_client_step(struct prefix##_client *c, uint32_t now_ms)  \
	{                                                                                      \
		return step_(&c->eng, now_ms);                                                 \
	}                                                                                      \
	void rig_##prefix##_client_set_fets(struct prefix##_client *c, uint8_t chg_on,            \
	                                    uint8_t dsg_on)                                       \
	{                                                                                      \
		rig_client_set_fets(&c->eng, chg_on, dsg_on);                                  \
	}                                                                                      \
	const struct client_stats *rig_##prefix##_client_stats(const struct prefix##_client *c)   \
	{                                                                                      \
		return &c->eng.stats;                                                          \
	}                                                                                      \
	static void prefix##_ops_init(void *c, const struct client_cfg *cfg, struct rig_io io, \
	                              struct pack_state *out)                                  \
	{                                                                                      \
		rig_##prefix##_client_init(c, cfg, io, out);                                   \
	}                                                                                      \
	static enum client_event prefix##_ops_step(void *c, uint32_t now_ms)                   \
	{                                                                                      \
		return rig_##prefix##_client_step(c, now_ms);                                  \
	}                                                                                      \
	typedef char prefix##_client_begins_with_its_engine                                    \
		[offsetof(struct prefix##_client, eng) == 0 ? 1 : -1];                         \
	const struct client_ops rig_##prefix##_client_ops = {                                  \
		.name = (name_), .baud = (baud_), .init = prefix##_ops_init,                   \
		.step = prefix##_ops_step, .set_fets = rig_client_ops_set_fets,                \
		.stats = rig_client_ops_stats, .next_due_ms = (next_due_),                     \
	}

/* The wait before resend number `tries` (1-based count of sends so far): 0 for the first
 * resend, then backoff_ms doubling. */
uint32_t rig_client_backoff_ms(const struct client_cfg *cfg, uint8_t tries);
/* Time comparison that survives the 32-bit millisecond wrap. */
static inline int client_due(uint32_t now_ms, uint32_t at_ms)
{
	return (int32_t)(now_ms - at_ms) >= 0;
}

/* ---- the transaction engine ------------------------------------------------------------------
 *
 * One engine sequences every protocol: the poll cadence, one request at a time with its
 * timeout, resends with back-off, the cycle bookkeeping and the read side. A protocol says
 * what to send and what a received frame means through a const struct client_proto. Its client
 * embeds a struct client_engine and gives it a pointer to itself, which every hook gets as `c`.
 */

/* What one received frame did to the request in flight (the protocol's verdict). */
enum client_rx {
	CLIENT_RX_NONE = 0,       /* no complete frame left in the assembler */
	CLIENT_RX_WAIT,           /* not the answer (yet): another board's, more frames to come */
	CLIENT_RX_SPURIOUS,       /* refused but harmless (an echo): counted in rejected, wait on */
	CLIENT_RX_DONE,           /* the request is answered */
	CLIENT_RX_DONE_ERROR,     /* answered with an error status the cycle survives */
	CLIENT_RX_FAIL,           /* answered with an error status that fails the cycle */
	CLIENT_RX_LOST,           /* unusable: handled as if no reply had come */
	CLIENT_RX_BAD             /* implausible: counted in rejected, then handled as LOST */
};

/* What the protocol prepared to send next. */
enum client_req {
	CLIENT_REQ_NONE = 0,      /* the cycle has all it needs */
	CLIENT_REQ_REPLY,         /* a request that waits for its answer */
	CLIENT_REQ_PAUSE          /* a request nothing answers: the next one follows pause_ms later */
};

/* How the protocol treats the line around its requests. */
enum client_line {
	CLIENT_LINE_FLUSH = 0,    /* read only while a reply is due; drop stale input before sending */
	CLIENT_LINE_QUIET,        /* read always; send only after quiet_ms without a byte */
	CLIENT_LINE_STREAM        /* read always; never drop input (the BMS pushes by itself) */
};

struct client_proto {
	uint8_t line;             /* enum client_line */
	uint32_t quiet_ms;        /* CLIENT_LINE_QUIET: silence wanted before a request */
	uint32_t pause_ms;        /* after a CLIENT_REQ_PAUSE request */
	/* The protocol's own part of the client's init, once the engine has its cfg (may be NULL). */
	void (*init)(void *c);
	/* A new cycle: reset what it collects and prepare its first request. */
	enum client_req (*begin_cycle)(void *c);
	/* The request in flight is over (answered, or given up when skippable): prepare the next. */
	enum client_req (*next_request)(void *c);
	/* The prepared request on the wire, n bytes; called again for each resend. */
	rig_rc (*encode)(void *c, uint8_t *wire, size_t cap, size_t *n);
	/* The next complete frame out of the assembler, judged against the request in flight;
	 * NONE when no frame is left. While no reply is due (`waiting` 0) only WAIT or SPURIOUS. */
	enum client_rx (*rx_next)(void *c, int waiting);
	/* Received bytes into the assembler, returning the count taken; NULL: rig_rxbuf_take into the
	 * buffer given to rig_client_engine_init. */
	size_t (*rx_feed)(void *c, const uint8_t *p, size_t n, uint32_t now_ms);
	/* Before each send, after the engine dropped the partial frame (may be NULL). */
	void (*on_send)(void *c);
	/* The request in flight had all its retries: 1 when the cycle goes on without it (may be
	 * NULL: every request is required). */
	int (*skippable)(const void *c);
	/* The cycle has read everything: publish it (may be NULL when accepting did). */
	void (*cycle_complete)(void *c);
};

/* The engine's phase. */
enum client_phase {
	CLIENT_PH_IDLE = 0,       /* between cycles (or, streaming, no command in flight) */
	CLIENT_PH_READY,          /* a request waits for send_at_ms (and a quiet line) */
	CLIENT_PH_WAIT,           /* a reply is due by sent_ms + timeout_ms */
	CLIENT_PH_PAUSE           /* a request without answer went; the next at send_at_ms */
};

/* The FET states set_fets asked for, and which of them still have to reach the BMS.
 * rig_client_set_fets writes them; the protocol's hooks send them and clear a bit once the BMS
 * has that state (JBD's one write and JK's read-back clear both at once), so a bit stays set
 * across cycles until then. */
#define CLIENT_FET_CHG 0x01u      /* the charge FET's state is still to be sent */
#define CLIENT_FET_DSG 0x02u      /* the discharge FET's */
struct client_fets {
	uint8_t chg_on, dsg_on;   /* 1 = allowed on */
	uint8_t pending;          /* CLIENT_FET_CHG | CLIENT_FET_DSG */
};

struct client_engine {
	const struct client_proto *proto;
	void *owner;              /* the client the hooks get */
	struct client_cfg cfg;
	struct rig_io io;
	struct client_stats stats;
	struct pack_state *out;
	uint8_t phase;            /* enum client_phase */
	uint8_t req;              /* enum client_req of the prepared request */
	uint8_t tries;            /* sends of the prepared request */
	uint8_t started;          /* a cycle has begun since init */
	uint8_t line_used;        /* a byte went either way since init */
	uint32_t next_poll_ms;
	uint32_t sent_ms;
	uint32_t send_at_ms;
	uint32_t line_ms;         /* last byte sent or received */
	uint32_t now_ms;          /* of the step in progress, for hooks that send */
	struct rxbuf *rxb;        /* the assembler's fill level, and its buffer */
	uint8_t *rx_buf;
	uint16_t rx_cap;
	struct client_fets fets;
};

/* rxb, rx_buf, rx_cap: the protocol assembler's buffer (may be NULL with a rx_feed hook): the
 * engine feeds it, and empties it before each request unless the line is a stream. Calls the
 * proto's init hook last. */
void rig_client_engine_init(struct client_engine *e, const struct client_proto *proto, void *owner,
                            const struct client_cfg *cfg, struct rig_io io, struct pack_state *out,
                            struct rxbuf *rxb, uint8_t *rx_buf, uint16_t rx_cap);
/* Ask the BMS for its FET states (1 = allowed on): both become pending, and the protocol sends
 * them at the start of the next cycle. */
void rig_client_set_fets(struct client_engine *e, uint8_t chg_on, uint8_t dsg_on);
/* One step of a polled protocol: read, judge, time out, resend, start the next cycle. */
enum client_event rig_client_engine_step(struct client_engine *e, uint32_t now_ms);
/* The earliest time rig_client_engine_step may change anything when no byte arrives before it:
 * the next poll, the send a quiet line or a back-off holds, the reply's timeout, the end of a
 * pause; now_ms when it may act at once. A step before then without input does nothing. */
#ifndef RIG_FIRMWARE
uint32_t rig_client_engine_next_due_ms(const struct client_engine *e, uint32_t now_ms);
#endif

/* The engine's parts, for a protocol whose cycle is not a list of requests (JK BLE). */
/* 1 when a new cycle is due now (the first at once); books the next one. */
int rig_client_cycle_due(struct client_engine *e, uint32_t now_ms);
/* Reads what the line has and feeds it to the protocol; the event of a cycle that ended. */
enum client_event rig_client_engine_receive(struct client_engine *e, uint32_t now_ms);
/* Sends the prepared request (kind e->req) now; counts it, and a resend as such. */
void rig_client_engine_send(struct client_engine *e, uint32_t now_ms);
/* Sends a READY request when its time has come and the line allows. */
void rig_client_engine_send_due(struct client_engine *e, uint32_t now_ms);
/* The request in flight timed out: counts it; returns 1 when it has had all its retries, else
 * schedules the resend with back-off (READY) and returns 0. */
int rig_client_engine_expire(struct client_engine *e, uint32_t now_ms);
/* The cycle's bookkeeping in the stats, and the event it makes. */
enum client_event rig_client_finish(struct client_stats *st, int ok);
/* rig_client_finish, and the engine goes IDLE. */
enum client_event rig_client_engine_finish(struct client_engine *e, int ok);

#ifdef __cplusplus
}
#endif

#endif
