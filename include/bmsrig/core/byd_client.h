/*
 * BYD PRO 2.5 RS485 poller: a non-blocking state machine advanced by rig_byd_client_step(now_ms)
 * on the transaction engine (client.h). A cycle is one read (`addr 00 04 01 03 55 AA sum`)
 * answered by the 105-byte record, decoded into a pack_state (docs/protocols/byd.md).
 *
 * cfg.address is the pack's address on the bus (0 = 1, the seed's example); several clients on
 * one line each poll their own, and a reply from another address is another pack's, waited past.
 * Our own request echoed by a half-duplex adapter is refused as spurious. A reply with a non-zero
 * result byte fails the cycle (counted in error_replies); a record the client cannot use
 * (wrong length, negative voltage, SOC above 100) counts as rejected and as a lost reply.
 *
 * set_fets: no write is known for this protocol (docs/protocols/byd.md §5), so a FET request is
 * dropped at the next cycle; the FET states the client reports are inferred from the protect
 * and fail words.
 */
#ifndef BMSRIG_BYD_CLIENT_H
#define BMSRIG_BYD_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/byd.h"
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct byd_client {
	struct client_engine eng;    /* first (client.h): cadence, timeouts, resends, stats */
	struct byd_rx rx;
	uint8_t addr;                /* the pack polled */
};

CLIENT_API_DECLARE(byd);

#ifdef __cplusplus
}
#endif

#endif
