/* The link model between an emulated BMS and its transport. A UART passes bytes as they are.
 * A Bluetooth link (what a BLE-to-UART bridge delivers) cuts replies into notifications of a
 * few bytes, one per connection event, takes time to connect, loses the first request after a
 * connect, drops the connection after a while or at random (seeded), and, like JK boards that
 * allow one central only, may refuse a client that reconnects too soon
 * (docs/field-notes.md §2.3, docs/protocols/jbd.md §10). Pure logic on millisecond timestamps: the caller moves bytes. */
#ifndef BMSRIG_LINK_H
#define BMSRIG_LINK_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"

enum link_kind { LINK_UART = 0, LINK_BLE };

struct link_cfg {
	enum link_kind kind;
	uint16_t chunk_bytes;          /* notification payload (MTU 23 - 3 = 20) */
	uint16_t interval_ms;          /* connection interval: one notification per event */
	uint32_t connect_ms;           /* from the first bytes of a client to a usable link */
	uint8_t drop_first;            /* the first request after a connect is lost */
	uint32_t disconnect_after_ms;  /* the link drops after this long connected; 0 = never */
	uint32_t disconnects_per_h;    /* random drops (seeded); 0 = none */
	uint32_t stuck_ms;             /* after a client closes the port, refuse it this long
	                                * (one central only, the old one still "connected");
	                                * only with disconnect_on_close */
	uint8_t disconnect_on_close;   /* a client closing the port ends the connection (a client
	                                * that owns it); 0: the link stays up across a reopen, as a
	                                * serial BLE bridge does */
	uint8_t notify_loss_pct;       /* each notification is lost with this chance (seeded) */
	uint32_t queue_ms;             /* a reply that would wait longer than this is lost; 0 = no bound */
	uint32_t seed;
	char password[7];              /* JBD modules: FF AA password (6 characters); "" = none */
	uint8_t mac[6];                /* the module's address, which scrambles the password */
};
/* 20-byte notifications, 30 ms interval, 1.5 s connect, first request lost, no drops, a
 * 1 s send queue, connected across a port reopen. */
void link_cfg_ble_defaults(struct link_cfg *c);
/* key=value settings, e.g. "chunk_bytes", "20" (RIG_ERR_ARG with why on a bad key or value). */
rig_rc link_set(struct link_cfg *c, const char *key, const char *value, char *why, size_t whycap);

enum link_state { LINK_DOWN = 0, LINK_CONNECTING, LINK_UP, LINK_STUCK };

struct link {
	struct link_cfg cfg;
	enum link_state state;
	uint32_t since_ms;             /* when the state began */
	uint32_t next_free_ms;         /* next connection event with room for a notification */
	uint32_t drop_until_ms;        /* the lost first request: bytes up to here are dropped */
	uint8_t first_pending;
	uint32_t rng;
	uint32_t drops_at_ms;          /* the next random disconnect, when enabled */
	uint32_t connects, disconnects, dropped_bytes, lost_notifications, overflows;
};

struct link_chunk {
	size_t offset, len;
	uint32_t at_ms;
};

void link_init(struct link *l, const struct link_cfg *cfg, uint32_t now_ms);
/* n bytes from the client at now_ms: 1 when they reach the BMS, 0 when the link loses them. */
int link_uplink(struct link *l, uint32_t now_ms, size_t n);
/* A reply of n bytes ready at now_ms: how it leaves, in chunks with their send times. Returns
 * the chunk count (0 when the link is down: the reply is lost), at most max. */
unsigned link_downlink(struct link *l, uint32_t now_ms, size_t n, struct link_chunk *out, unsigned max);
/* A chunk scheduled earlier is still deliverable at now_ms (the link did not drop since). */
int link_up_since(struct link *l, uint32_t now_ms, uint32_t scheduled_ms);
/* The connection drops now (a scenario's Bluetooth disconnect); the next connect takes
 * reconnect_ms. UART links ignore it. */
void link_drop(struct link *l, uint32_t now_ms, uint32_t reconnect_ms);
/* The client closed the port: a disconnect with disconnect_on_close, else nothing. */
void link_client_closed(struct link *l, uint32_t now_ms);
/* Advance timers (connect done, timed and random drops, stuck over). */
void link_tick(struct link *l, uint32_t now_ms);

#endif
