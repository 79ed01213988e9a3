/*
 * Thornwave PowerMon client (legacy firmware, docs/protocols/thornwave.md): each cycle reads the
 * 52-byte value at handle 0x0015 as BlueZ does for a long attribute, a Read Request and then
 * Read Blob Requests at offsets 22 and 44, each answered by MTU-1 (22) value bytes or the rest.
 * The pieces are joined, decoded and land in the pack_state only once the whole value is in and
 * decodes (rig_tw_to_pack_state: V1, current, SOC, one temperature; no cells, no FETs).
 * An ATT Error Response fails the cycle; a piece that does not come is resent like any request.
 * A PowerMon has no switches: set_fets asks nothing of it.
 *
 * With TW_CLIENT_STREAM (newer firmware, > 2.03; fw protocol "thornwave-x") the client instead
 * writes 01 00 to the monitor characteristic's CCCD (handle 0x0011, resent on timeout) and then
 * listens: the notifications' values join into a COBS stream, each 0x00 ends a frame, and a frame
 * that decodes as a monitor frame lands (rig_tw_monitor_to_pack_state). A cycle succeeds when a
 * frame landed since the previous one and fails when none came within one push period
 * (TW_MON_PUSH_MS) plus timeout_ms of its start; then the client subscribes again.
 */
#ifndef BMSRIG_THORNWAVE_CLIENT_H
#define BMSRIG_THORNWAVE_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/thornwave.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TW_CLIENT_STREAM 0x01u      /* client_cfg.flags: the newer firmware's notified stream */

struct thornwave_client {
	struct client_engine eng;   /* first (client.h) */
	struct thornwave_rx rx;
	uint16_t offset;            /* of the piece in flight: 0 read, else blob */
	uint8_t value[TW_VALUE_LEN];
	struct tw_value last;       /* the last value that decoded (meters, clock, uptime) */
	/* stream mode */
	struct tw_cobs_rx cobs;
	struct tw_monitor last_mon; /* the last monitor frame that decoded */
	uint8_t subscribed, fresh, cycle_open;
	uint32_t cycle_ms;
	uint32_t frames;            /* monitor frames taken */
};

CLIENT_API_DECLARE(thornwave);

#ifdef __cplusplus
}
#endif

#endif
