/*
 * JK BLE client: a non-blocking state machine advanced by rig_jk_ble_client_step(now_ms).
 *
 * The BMS is not polled field by field: the session of docs/protocols/jk.md §3.3 asks once and then listens.
 *   1. 0x97 (device info), wait for a type-0x03 record.
 *   2. 0x96, wait for the settings record or the first cell-info record; from then on the BMS
 *      pushes a cell-info record about every 500 ms by itself.
 * Each poll period is one cycle: it succeeds as soon as a cell-info record has landed since the
 * previous cycle (the latest one is in the pack_state, written as each record lands), and fails
 * when none has come one push period (JK_BLE_PUSH_MS) plus timeout_ms after the cycle began.
 * A stalled stream is restarted with 0x96; when 0x96 goes unanswered after its retries the
 * next cycle starts over with 0x97, because some firmware only streams after a 0x97 (issues
 * #656, #1020). Requests are resent on timeout like the JBD client's
 * (the first at once: a BLE link often loses the first write after connecting).
 * Records come in any pieces and between "AT\r\n" chatter and acks (jk_ble_rx); the layout of
 * each record is read from the record itself (rig_jk_ble_layout_detect). A record that arrives
 * while a write waits for its ack is used all the same.
 *
 * FETs: set_fets writes the charge switch (0x1D) then the discharge switch (0x1E) at the next
 * cycle, each waiting for the BMS's ack (0xC8, which names no register: the writes go one at a
 * time) and resent on timeout; the outcome shows in the FET bytes of the following records.
 * JK04 boards have no such switches: set_fets does nothing there.
 *
 * What lands in the pack_state: see rig_jk_ble_to_pack_state (jk_ble.h).
 */
#ifndef BMSRIG_JK_BLE_CLIENT_H
#define BMSRIG_JK_BLE_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jk_ble_client {
	struct client_engine eng;   /* first (client.h): cadence, command timeouts, resends, stats */
	struct jk_ble_rx rx;
	uint8_t session;            /* internal: where the 0x97/0x96 sequence stands */
	uint8_t layout;             /* enum jk_ble_layout of the last cell-info record */
	uint8_t fresh;              /* a cell-info record landed since the last cycle */
	uint8_t cycle_open;
	uint8_t writing;            /* the register of the write in flight */
	uint32_t cycle_ms;          /* when the open cycle began */
	uint32_t records;           /* cell-info records taken */
};

/* set_fets: see FETs above; eng.fets.pending keeps the switch writes not yet acked. */
CLIENT_API_DECLARE(jk_ble);

#ifdef __cplusplus
}
#endif

#endif
