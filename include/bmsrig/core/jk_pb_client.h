/*
 * JK-PB RS485 master (docs/protocols/jk-pb.md), on the transaction engine (client.h). One
 * cycle:
 *   [FC 0x10 charge switch 0x1070, discharge switch 0x1074 when set_fets asked] ->
 *   the cell-info trigger (FC 0x10, one register, value 0, to 0x1620)
 * The trigger's answer is the 300-byte JK02_32S cell-info record followed by the 8-byte FC
 * 0x10 reply; the record is decoded by the JK BLE codec (jk_ble.h) into the pack_state once the
 * reply that names our address and register has come. A record without that reply is a lost
 * answer (resent); the reply without a good record before it likewise. A record whose cell
 * mask is empty is implausible (counted in stats.rejected, resent).
 *
 * Address cfg->address (1..15; 0 = 1). On a bus of several packs the bridge runs one client
 * per address in turn (bridge.h), as with Daly's boards: a record carries no address, and only
 * the pack addressed answers, so one request at a time keeps records and packs apart.
 * Another slave's reply, or a reply to another register, is not ours: the client waits on.
 * An exception reply to the trigger fails the cycle; to a switch write it counts in
 * stats.error_replies and the switch is not asked again.
 * "AT\r\n" and any junk between frames are skipped by the assembler (jk_pb.h).
 */
#ifndef BMSRIG_JK_PB_CLIENT_H
#define BMSRIG_JK_PB_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/jk_pb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jk_pb_client {
	struct client_engine eng;       /* first (client.h) */
	struct jk_pb_rx rx;
	uint16_t reg;                   /* the request in flight: its register (a trigger or a */
	uint8_t value;                  /* switch) and the switch's value; built at each send, */
	uint8_t addr;                   /* so no 256-byte frame is kept in a bridge's links */
	uint8_t have_record;            /* this try's cell-info record arrived */
	struct jk_ble_cells cells;      /* ... decoded */
	uint32_t records;               /* cell-info records taken */
};

CLIENT_API_DECLARE(jk_pb);

#ifdef __cplusplus
}
#endif

#endif
