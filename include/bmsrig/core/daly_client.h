/*
 * Daly poller: a non-blocking state machine advanced by rig_daly_client_step(now_ms). One cycle:
 *   [0xDA charge / 0xD9 discharge switch when set_fets asked] -> 0x94 -> 0x90 -> 0x93 ->
 *   0x95 (every frame the cell count needs) -> 0x96 (skipped without sensors) -> 0x97 -> 0x98
 * into a pack_state. 0x94 goes first: its cell and sensor counts say how many 0x95/0x96
 * frames to wait for (docs/protocols/daly.md §3.5). 0x93 follows 0x90 at once so that the current's sign is
 * checked against a state taken moments later.
 *
 * Line discipline (docs/protocols/daly.md §9.1, §12.2): one request at a time, and none until the line has
 * been quiet for DALY_MIN_GAP_MS (no byte sent or received): a BMS busy with its answer loses
 * the next request, and on half-duplex RS485 the request garbles the answer's tail (an extra
 * 0x96 frame, 16 BLE-style 0x95 frames). A line that never goes quiet (noise) delays a
 * request by at most timeout_ms. Timeout and retries as the JBD client (client.h).
 *
 * Addresses: host 0x40 and reply 0x01 by default; host 0x3F+n and reply n for RS485 board
 * n = cfg->address (1..16); host 0x80 (reply 0x01) with DALY_CLIENT_HOST_BLE.
 *
 * Refused frames, each counted in stats.rejected:
 *   - a host-addressed frame (byte 1 >= 0x20) while waiting: the request echoed back by a
 *     sleeping BMS (§9.3) or by an RS485 adapter's loop-back. The client keeps waiting: on a
 *     loop-back adapter the real answer follows the echo.
 *   - an implausible answer, taken as a lost reply (resent like a timeout): 0x90 with 0 V,
 *     SOC above 100.0 % or |I| above 1000 A (raw 0 = -3000.0 A is the all-zero frame of a
 *     stale adapter or a misread echo, §3.1/§9.6); 0x94 with 0 or more than 48 cells or more
 *     than 21 sensors; 0x93 with a state above 2; a 0x95 cell slot in use above 5000 mV.
 *   - a 0x95/0x96 frame whose number is 0 or past 16/3 (ignored; the others still count).
 * Frames from another board's address, or for another data id, are someone else's and are
 * dropped without counting.
 *
 * Current sign (§3.1, §9.5). Firmware differs: most report discharge below 30000 (negative),
 * some the inverse. 0x93's state byte is the BMS's own verdict and is right in every capture,
 * while 0x90's sign is what varies. So when the state says discharging and the current is
 * positive, or charging and negative, the client flips the current rather than rejecting the
 * cycle (a rejection would leave an inverted unit with no data at all), and counts it in
 * sign_flips. An idle state or a zero current (the dead band reads exactly 0, §3.1) says
 * nothing, and the current is left as it is. DALY_CLIENT_INVERT_CURRENT negates the current
 * first, for a unit known to be inverted; the check still applies after it.
 * The state is read a request after the current, so a current that reverses in between would
 * look inverted once: when the pair disagrees with what the BMS has shown so far
 * (sign_inverted), the client reads 0x90 and 0x93 again in the same cycle (sign_rechecks), and
 * the second pair decides, and is learnt.
 *
 * 0x98 -> PACK_PROT_* through rig_daly_faults_to_pack_prot (one table, daly_codec.c). 0x97 cells
 * past the count are masked. The Daly poll set carries no full capacity: full_mAh stays 0.
 */
#ifndef BMSRIG_DALY_CLIENT_H
#define BMSRIG_DALY_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/daly.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALY_MIN_GAP_MS 100u           /* line quiet before any request (§9.1: 120 ms worked
                                        * where 20 ms lost a third of the answers) */
#define DALY_CELL_MV_MAX 5000u         /* no chemistry a Daly serves reaches this */
#define DALY_CURRENT_MA_MAX 1000000    /* |I| above 1000 A is a misread, not a pack (§9.6) */

/* cfg->flags */
#define DALY_CLIENT_HOST_BLE       0x01u   /* host address 0x80 (the Bluetooth app's) */
#define DALY_CLIENT_INVERT_CURRENT 0x02u   /* the unit reports discharge as positive */
#define DALY_CLIENT_FILL_AA        0x04u   /* fill read requests with 0xAA (§2.3) */

struct daly_client {
	struct client_engine eng;          /* first (client.h): cadence, line, timeouts, resends, stats */
	struct daly_rx rx;
	struct daly_frame req;             /* the request in flight */
	uint8_t host, board;               /* request address; reply address */
	uint8_t step;                      /* index into the cycle's read list */
	uint8_t frames_needed;             /* of the 0x95/0x96 answer in flight */
	uint16_t frames_seen;              /* bit k-1: frame k arrived */
	uint32_t sign_flips;               /* currents whose sign 0x93 corrected */
	uint32_t sign_rechecks;            /* 0x90 and 0x93 read again: the two disagreed */
	uint8_t sign_inverted;             /* this BMS reports its current inverted (learnt) */
	uint8_t sign_rechecked;            /* this cycle read them again already */
	struct daly_poll poll;             /* the cycle in progress */
};

/* set_fets: 0xDA, then 0xD9, at the start of the next cycle. A reply echoing another state than
 * asked counts in stats.error_replies. */
CLIENT_API_DECLARE(daly);

#ifdef __cplusplus
}
#endif

#endif
