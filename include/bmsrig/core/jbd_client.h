/* JBD poller: a non-blocking state machine advanced by rig_jbd_client_step(now_ms). Each cycle
 * reads 0x03 then 0x04 (sending a pending MOSFET command first) into a pack_state. */
#ifndef BMSRIG_JBD_CLIENT_H
#define BMSRIG_JBD_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jbd_client {
	struct client_engine eng;    /* first (client.h): cadence, timeouts, resends, stats */
	struct jbd_rx rx;
	struct jbd_frame req;        /* the request in flight */
	struct jbd_basic basic;      /* 0x03 of the cycle in progress */
};

/* set_fets: one 0xE1 write (both FETs) at the start of the next cycle; a refusal counts in
 * stats.error_replies and is not retried. */
CLIENT_API_DECLARE(jbd);

#ifdef __cplusplus
}
#endif

#endif
