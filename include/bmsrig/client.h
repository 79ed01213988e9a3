/* What every protocol client shares: configuration, status, the result of one step, and the
 * function table a port drives it through. Each protocol's client has the same function set
 * (init, step, set_fets, stats) under its own prefix, and exports it as `<proto>_client_ops`. */
#ifndef BMSRIG_CLIENT_H
#define BMSRIG_CLIENT_H

#include <stdint.h>
#include "bmsrig/io.h"
#include "bmsrig/pack_state.h"

struct client_cfg {
	uint32_t poll_ms;         /* start of one cycle to the start of the next */
	uint32_t timeout_ms;      /* request to complete reply */
	uint32_t gap_ms;          /* longest pause inside one reply */
	uint8_t retries;          /* resends per request after the first try */
	uint32_t backoff_ms;      /* wait before the 2nd resend, doubled for each later one;
	                           * the 1st resend goes at once (a sleeping BMS drops the
	                           * first frame after idle, jbd.md §12.1) */
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
};

/*
 * Defines `const struct client_ops <prefix>_client_ops` over the typed functions
 * <prefix>_client_init, _step, _set_fets and _stats. The table takes void pointers so the core
 * needs no protocol's struct; the adapters let each client keep its typed API, and the compiler
 * still checks every call against that client's prototypes. Use once, at file scope, ending
 * with a semicolon.
 */
#define CLIENT_OPS_DEFINE(prefix, name, baud)                                                  \
	static void prefix##_ops_init(void *c, const struct client_cfg *cfg, struct rig_io io,     \
	                              struct pack_state *out)                                      \
	{                                                                                          \
		prefix##_client_init(c, cfg, io, out);                                             \
	}                                                                                          \
	static enum client_event prefix##_ops_step(void *c, uint32_t now_ms)                       \
	{                                                                                          \
		return prefix##_client_step(c, now_ms);                                            \
	}                                                                                          \
	static void prefix##_ops_set_fets(void *c, uint8_t chg_on, uint8_t dsg_on)                 \
	{                                                                                          \
		prefix##_client_set_fets(c, chg_on, dsg_on);                                       \
	}                                                                                          \
	static const struct client_stats *prefix##_ops_stats(const void *c)                        \
	{                                                                                          \
		return prefix##_client_stats(c);                                                   \
	}                                                                                          \
	const struct client_ops prefix##_client_ops = {                                            \
		name, baud, prefix##_ops_init, prefix##_ops_step, prefix##_ops_set_fets,           \
		prefix##_ops_stats                                                                 \
	}

/* Shared by the clients: the cycle bookkeeping every protocol does the same way. */
enum client_event client_finish(struct client_stats *st, int ok);
/* The wait before resend number `tries` (1-based count of sends so far): 0 for the first
 * resend, then backoff_ms doubling. */
uint32_t client_backoff_ms(const struct client_cfg *cfg, uint8_t tries);
/* Time comparison that survives the 32-bit millisecond wrap. */
static inline int client_due(uint32_t now_ms, uint32_t at_ms)
{
	return (int32_t)(now_ms - at_ms) >= 0;
}

#endif
