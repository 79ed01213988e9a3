/*
 * JK "4E 57" poller: a non-blocking state machine advanced by rig_jk_client_step(now_ms). Each
 * cycle is one read-all (0x06) whose item list is walked with the id table into a pack_state.
 *
 * A cycle: [0x05 password, 100 ms pause, 0x02 0xAB, 0x02 0xAC when a FET change is pending]
 * -> 0x06. The write sequence is ESPHome's, the only one tested on hardware (docs/protocols/jk.md §4.1); no
 * reply is awaited for 0x05 (none was ever captured). Each request with a reply is retried on
 * timeout like JBD's: the first resend at once, later ones backing off. A write that never gets
 * its reply does not fail the cycle: the read-all still runs, and the FET request stays pending
 * until the read-all shows 0xAB/0xAC as asked (docs/protocols/jk.md §4.1 "read-back"), so it is sent again next
 * cycle. A reply the client cannot use (unknown id, repeated id, cell block out of shape,
 * required ids missing, temperatures below 0 K) counts as `rejected` and as a lost reply.
 *
 * Requests go out with frame source 3 (PC), as the vendor example, dbus-serialbattery and
 * mpp-solar send them. cfg.address and cfg.flags are not used: nothing on the "4E 57" wire
 * addresses a board (the terminal number is 0 in every capture).
 *
 * Unknown ids: the item list has no widths on the wire, so after an id the table does not know
 * nothing more can be read. Like batmon-ha's walk (the only real client that walks ids,
 * docs/protocols/jk.md §2.7) the frame is refused rather than guessed at; ids the table knows but the neutral
 * view has no room for are skipped by their widths.
 */
#ifndef BMSRIG_JK_CLIENT_H
#define BMSRIG_JK_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jk_client {
	struct client_engine eng;    /* first (client.h): cadence, timeouts, resends, stats */
	struct jk_rx rx;
	uint8_t step;                /* internal: which request of the cycle is in flight */
};

/* set_fets: 0xAB and 0xAC written at the start of the next cycle; eng.fets.pending stays set
 * (both bits) while either switch, unsent or read back, differs from what was asked. */
CLIENT_API_DECLARE(jk);

#ifdef __cplusplus
}
#endif

#endif
