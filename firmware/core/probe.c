/* Auto-detection's table and recognisers (probe.h, docs/bmsmon.md "Auto-detection"). */
#include "bmsrig/core/probe.h"
#include "intmath.h"
#include "with.h"

/* A wire row waits what a wired BMS needs: tens of ms to answer, a resend for one that
 * sleeps. A Bluetooth row waits out the link: a connect takes hundreds of ms to seconds
 * (service discovery about 0.9 s in the JBD captures, the emulator's link model 1.5 s) and
 * the first request after it is lost (docs/protocols/jbd.md §10.4), so three tries of 2 s. */
#define WIRE_WAIT_MS 300u
#define WIRE_TRIES 2u
#define BLE_WAIT_MS 2000u
#define BLE_TRIES 3u

#define WIRE(p, w, b, q) { (uint8_t)(p), (uint8_t)(w), (uint8_t)(b), WIRE_TRIES, WIRE_WAIT_MS, q }
#define BLE(p, w, b, q) { (uint8_t)(p), (uint8_t)(w), (uint8_t)(b), BLE_TRIES, BLE_WAIT_MS, q }

/* Wire rows first: on a silent port they cost little, and the Bluetooth rows after them meet
 * a link the first writes have already woken. A JBD or Daly answer is named by its link; JK's
 * 4E 57 protocol is wired only and JK's Bluetooth protocol Bluetooth only, so those rows name
 * themselves. A Daly that answers only the Bluetooth host address 0x80 is read by the daly-ble
 * client, so that row names daly-ble whatever the link. Each Bluetooth row costs a silent port
 * 6 s, so the BMS most people own come first and the battery monitor last. */
const struct rig_probe_row rig_probe_rows[] = {
#if RIG_WITH_JBD
	WIRE(FW_PROTO_JBD, FW_PROTO_JBD, FW_PROTO_JBD_BLE, 1),
#endif
#if RIG_WITH_DALY
	WIRE(FW_PROTO_DALY, FW_PROTO_DALY, FW_PROTO_DALY_BLE, 0),
#endif
#if RIG_WITH_JK
	WIRE(FW_PROTO_JK, FW_PROTO_JK, FW_PROTO_JK, 0),
#endif
#if RIG_WITH_JK_PB
	WIRE(FW_PROTO_JK_PB, FW_PROTO_JK_PB, FW_PROTO_JK_PB, 0),
#endif
#if RIG_WITH_BYD
	WIRE(FW_PROTO_BYD, FW_PROTO_BYD, FW_PROTO_BYD, 0),
#endif
#if RIG_WITH_DEYE_MODBUS
	WIRE(FW_PROTO_DEYE_MODBUS, FW_PROTO_DEYE_MODBUS, FW_PROTO_DEYE_MODBUS, 0),
#endif
#if RIG_WITH_PYLONTECH_RS485
	WIRE(FW_PROTO_PYLON_RS485, FW_PROTO_PYLON_RS485, FW_PROTO_PYLON_RS485, 0),
#endif
#if RIG_WITH_JBD
	BLE(FW_PROTO_JBD_BLE, FW_PROTO_JBD, FW_PROTO_JBD_BLE, 1),
#endif
#if RIG_WITH_DALY
	BLE(FW_PROTO_DALY_BLE, FW_PROTO_DALY_BLE, FW_PROTO_DALY_BLE, 0),
#endif
#if RIG_WITH_JK_BLE
	BLE(FW_PROTO_JK_BLE, FW_PROTO_JK_BLE, FW_PROTO_JK_BLE, 0),
#endif
#if RIG_WITH_THORNWAVE
	BLE(FW_PROTO_THORNWAVE, FW_PROTO_THORNWAVE, FW_PROTO_THORNWAVE, 0),
#endif
#if RIG_WITH_THORNWAVE
	BLE(FW_PROTO_THORNWAVE_X, FW_PROTO_THORNWAVE_X, FW_PROTO_THORNWAVE_X, 0),
#endif
	{ 0, 0, 0, 0, 0, 0 }   /* not a row: keeps the array whole when a build has no row at all */
};
const uint8_t rig_probe_row_count = (uint8_t)(sizeof rig_probe_rows / sizeof rig_probe_rows[0] - 1u);

const char *rig_probe_skip_why(uint8_t proto)
{
	return proto == FW_PROTO_PYLON_CAN ? "a battery-to-inverter link (slcan), not a BMS port" : 0;
}

void rig_probe_watch_init(struct rig_probe_watch *w, uint32_t baud)
{
	w->baud = baud ? baud : 9600u;
	w->last_ms = 0;
	w->pieces = w->ble_gaps = w->wire_gaps = 0;
	w->big = w->prev_full = 0;
	w->ble_replies = w->wire_replies = 0;
}

static void count_reply(const struct rig_probe_watch *w, uint16_t *ble, uint16_t *wire)
{
	if (w->big) {
		/* A piece no notification carries: the reply came over a wire (or a link with a larger
		 * MTU, which reads the same as a wire to us). */
		++*wire;
	} else if (w->pieces >= 2 && (w->ble_gaps && !w->wire_gaps)) {
		++*ble;
	} else if (w->pieces >= 2 && w->wire_gaps && !w->ble_gaps) {
		++*wire;
	}
}

void rig_probe_watch_request(struct rig_probe_watch *w)
{
	count_reply(w, &w->ble_replies, &w->wire_replies);
	w->pieces = w->ble_gaps = w->wire_gaps = 0;
	w->big = w->prev_full = 0;
}

/* ms the line needs for n bytes at the watch's baud (10 bits a byte), rounded up. */
static uint32_t line_ms(const struct rig_probe_watch *w, uint16_t n)
{
	return u32_div((uint32_t)n * 10000u + w->baud - 1u, w->baud);   /* no divider on the lx106 */
}

void rig_probe_watch_read(struct rig_probe_watch *w, uint16_t n, uint32_t now_ms)
{
	if (!n)
		return;
	if (w->pieces) {
		uint32_t gap = now_ms - w->last_ms, need = line_ms(w, n);

		/* A piece that came later than the line could have carried it (half as long again,
		 * and 4 ms for the reader's own wake-ups) was waiting for a connection event. A
		 * piece after a full notification is a module splitting one reply at the MTU: the
		 * JBD captures show 36 bytes as 20 + 16, the rest 0.3-6 ms later (jbd.md §10.3), so
		 * that is Bluetooth whatever the timing. */
		if ((2u * gap >= 3u * need && gap >= need + 4u) || w->prev_full)
			w->ble_gaps++;
		else
			w->wire_gaps++;
	}
	if (n > RIG_PROBE_NOTIFY_BYTES)
		w->big = 1;
	w->prev_full = n == RIG_PROBE_NOTIFY_BYTES;
	w->pieces++;
	w->last_ms = now_ms;
}

enum rig_probe_link rig_probe_watch_verdict(const struct rig_probe_watch *w)
{
	uint16_t ble = w->ble_replies, wire = w->wire_replies;

	count_reply(w, &ble, &wire);
	if (ble && !wire)
		return RIG_PROBE_LINK_BLE;
	if (wire && !ble)
		return RIG_PROBE_LINK_WIRE;
	return RIG_PROBE_LINK_UNKNOWN;
}

const uint8_t rig_probe_jbd_module_query[RIG_PROBE_JBD_MODULE_QUERY_LEN] = {
	0xFF, 0xAA, 0x15, 0x06, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x3B
};

int rig_probe_jbd_module_reply(const uint8_t *p, size_t n)
{
	size_t i;

	/* Anything may come before it: the 1-byte notification some modules send on connect, the
	 * tail of a BMS reply. The sum is (cmd + len + data) & 0xFF, not inverted. */
	for (i = 0; n >= 6 && i <= n - 6; i++)
		if (p[i] == 0xFF && p[i + 1] == 0xAA && p[i + 2] == 0x15 && p[i + 3] == 0x01 &&
		    p[i + 5] == (uint8_t)(0x15u + 0x01u + p[i + 4]))
			return p[i + 4];
	return -1;
}

uint8_t rig_probe_name(const struct rig_probe_row *r, enum rig_probe_link link, int module_answered)
{
	if ((r->module_query && module_answered) || link == RIG_PROBE_LINK_BLE)
		return r->proto_ble;
	if (link == RIG_PROBE_LINK_WIRE)
		return r->proto_wire;
	return r->proto;
}
