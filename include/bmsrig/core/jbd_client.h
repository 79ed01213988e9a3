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
	struct client_engine eng;    /* cadence, timeouts, resends, stats */
	struct jbd_rx rx;
	struct jbd_frame req;        /* the request in flight */
	uint8_t mosfet_pending;      /* a mask waits to be sent */
	uint8_t mosfet_mask;
	struct jbd_basic basic;      /* 0x03 of the cycle in progress */
};

void rig_jbd_client_init(struct jbd_client *c, const struct client_cfg *cfg, struct rig_io io,
                     struct pack_state *out);
enum client_event rig_jbd_client_step(struct jbd_client *c, uint32_t now_ms);
/* Ask the BMS for its FET states (1 = allowed on); sent at the start of the next cycle. */
void rig_jbd_client_set_fets(struct jbd_client *c, uint8_t chg_on, uint8_t dsg_on);
const struct client_stats *rig_jbd_client_stats(const struct jbd_client *c);

extern const struct client_ops rig_jbd_client_ops;

#ifdef __cplusplus
}
#endif

#endif
