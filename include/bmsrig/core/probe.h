/* Auto-detection (`bmsmon --proto auto`, docs/bmsmon.md "Auto-detection"): which protocol a
 * port speaks, and whether it reaches the BMS over a wire or through a Bluetooth link.
 *
 * The probe table lists what is tried, in order: the protocol whose client polls one cycle,
 * how long each try waits and how often, and what the answer is named over a wire and over
 * Bluetooth. A row answers when its client completes a cycle: the client's codec is the
 * recogniser (it resynchronises and checks every checksum and length). Which link carried the
 * answer is told from what a client observes, never from the emulator: the pacing of the reply
 * pieces (rig_probe_watch) and, for JBD, whether the Bluetooth module answers its own FF AA
 * 0x15 query. The port runs the I/O and the clock; everything here is pure logic. */
#ifndef BMSRIG_PROBE_H
#define BMSRIG_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/fw.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A notification's payload at the default ATT MTU of 23 (docs/protocols/jbd.md §10.3). */
#define RIG_PROBE_NOTIFY_BYTES 20u

enum rig_probe_link {
	RIG_PROBE_LINK_UNKNOWN = 0,   /* nothing seen tells (short replies, or mixed signs) */
	RIG_PROBE_LINK_WIRE,          /* replies came as fast as the line carries, or whole */
	RIG_PROBE_LINK_BLE            /* replies came in notification-sized pieces, paced slower
	                               * than the line, or a Bluetooth module answered */
};

struct rig_probe_row {
	uint8_t proto;                /* enum fw_proto: the client that polls the try */
	uint8_t proto_wire;           /* the answer's name when the replies show a wire ... */
	uint8_t proto_ble;            /* ... and when they show Bluetooth */
	uint8_t tries;                /* requests per cycle step: 1 + the client's retries */
	uint32_t wait_ms;             /* per request: reply time, plus a connect on Bluetooth rows */
	uint8_t module_query;         /* 1: ask the JBD Bluetooth module (FF AA 0x15) on an answer */
};

extern const struct rig_probe_row rig_probe_rows[];
extern const uint8_t rig_probe_row_count;

/* The table's rows never try these; the messages say why. NULL: tried. */
const char *rig_probe_skip_why(uint8_t proto);

/* Watches one probe's traffic: each request written, each piece read with its time. */
struct rig_probe_watch {
	uint32_t baud;                /* the line speed the probe opened the port at */
	uint32_t last_ms;             /* when the previous piece of this reply arrived */
	uint16_t pieces;              /* of the reply being read */
	uint16_t ble_gaps;            /* gaps of this reply a Bluetooth link explains: a piece
	                               * later than the line carries it, or one after a full
	                               * notification */
	uint16_t wire_gaps;           /* gaps only a wire explains: as fast as the line */
	uint8_t prev_full;            /* the previous piece was exactly one notification */
	uint8_t big;                  /* a piece larger than one notification */
	uint16_t ble_replies, wire_replies;
};
void rig_probe_watch_init(struct rig_probe_watch *w, uint32_t baud);
/* A request went out: the bytes read next are its reply. */
void rig_probe_watch_request(struct rig_probe_watch *w);
/* n bytes read at now_ms (n > 0). */
void rig_probe_watch_read(struct rig_probe_watch *w, uint16_t n, uint32_t now_ms);
/* What the replies so far show (the reply being read included). */
enum rig_probe_link rig_probe_watch_verdict(const struct rig_probe_watch *w);

/* The JBD module's app-key query, FF AA 15 06 "000000" 3B (docs/protocols/jbd.md §10.6). */
#define RIG_PROBE_JBD_MODULE_QUERY_LEN 11u
extern const uint8_t rig_probe_jbd_module_query[RIG_PROBE_JBD_MODULE_QUERY_LEN];
/* Its answer FF AA 15 01 RR ck anywhere in p[0..n): RR (0 a password follows, 1 rejected,
 * 2 no password set), or -1 when no well-formed answer is there. */
int rig_probe_jbd_module_reply(const uint8_t *p, size_t n);

/* The protocol an answering row names: Bluetooth when a module answered or the replies show
 * it, a wire when they show one, the row's own protocol when nothing tells. */
uint8_t rig_probe_name(const struct rig_probe_row *r, enum rig_probe_link link, int module_answered);

#ifdef __cplusplus
}
#endif

#endif
