/* A socketcand rawmode server: CAN frames as text over TCP, which python-can reads with
 * interface='socketcand' (and socketcand's own clients). Its owner (an emulator's CAN
 * personality, bmsmon's pylontech-can inverter port: "the owner" below) speaks slcan (Lawicel)
 * text; this module translates, over the TCP transport (tcp.h: one client,
 * the newest wins, 127.0.0.1 by default).
 *
 * The exchange (socketcand's protocol.md, rawmode):
 *   server: "< hi >"                       alone, as soon as a client connects
 *   client: "< open can0 >"  server: "< ok >"   (another bus name: "< error ... >")
 *   client: "< rawmode >"    server: "< ok >"
 *   client: "< echo >"       server: "< echo >"   (once the bus is open: a liveness check)
 *   then each frame the owner writes ("t351814...\r") leaves as
 *   "< frame 351 SEC.USEC 1402F401E803CC01 >\n", and each "< send 305 8 0 0 0 0 0 0 0 0 >"
 *   from the client reaches the owner as "t3058" "0000000000000000" "\r".
 * Two choices follow python-can 4.1.0's client, which compares whole recv() results during the
 * handshake and, reading frames, drops the character after each '>': "< hi >" and each
 * "< ok >" go alone (frames written within SCD_SETTLE_MS of the rawmode "< ok >" are dropped), and a
 * '\n' follows every frame (a frame split across two reads is lost otherwise). Data is hex
 * without spaces: the client splits the line at its first three spaces.
 * Opening the bus is the slcan "S6" and "O" (500 kbit/s, open) to the owner, a client
 * leaving an open bus is "C" (close), as an slcan client on the pty would send them; the
 * owner's answers to those ("\r", BEL) go nowhere. */
#ifndef BMSRIG_LIB_SOCKETCAND_H
#define BMSRIG_LIB_SOCKETCAND_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/core/slcan.h"

#define SCD_BUS "can0"
#define SCD_ELEMENT_MAX 64u     /* "< send 1FFFFFFF 8 ff ff ff ff ff ff ff ff >" is 44 */
#define SCD_FRAME_LINE_MAX 64u  /* "< frame 1FFFFFFF 4294967295.999999 <16 hex> >\n" is 55 */
#define SCD_SETTLE_MS 30u

/* ---- the text protocol, without I/O (byte-exact tests and the fuzz target use these) ---- */

enum host_scd_kind { SCD_OPEN = 0, SCD_RAWMODE, SCD_SEND, SCD_ECHO, SCD_OTHER };

struct host_scd_msg {
	uint8_t kind;                   /* enum host_scd_kind */
	char bus[17];                   /* SCD_OPEN: the bus name, NUL-terminated */
	struct rig_can_frame frame;     /* SCD_SEND */
};

/* Cuts a byte stream into "< ... >" elements. Bytes outside an element are skipped (a stray
 * '>', separators); a '<' inside an element starts again from it (the first was cut off); an
 * element longer than SCD_ELEMENT_MAX is dropped up to its '>'. */
struct host_scd_rx {
	char buf[SCD_ELEMENT_MAX];
	uint8_t len;
	uint8_t in, discard;
	uint32_t rejected;              /* elements dropped as overlong */
};
void host_scd_rx_init(struct host_scd_rx *rx);
/* 1 when c completed an element: rx->buf[0..rx->len) holds it, '<' and '>' included. */
int host_scd_rx_byte(struct host_scd_rx *rx, uint8_t c);

/* One element, '<' and '>' included. "< send ID DLC B0 .. >": ID 1-3 hex digits is an 11-bit id
 * (at most 7FF), 4-8 digits a 29-bit one, as socketcand reads them; DLC one hex digit 0-8; then
 * exactly DLC bytes of 1-2 hex digits. Commands other than open, rawmode, send and echo are
 * SCD_OTHER.
 * RIG_ERR_FRAME for anything malformed (no reply owed: socketcand answers "< error >"). */
rig_rc host_scd_parse(const char *el, size_t n, struct host_scd_msg *out);
/* "< frame ID SEC.USEC HEX >\n" (ID as 3 or 8 upper-case hex digits): its length, 0 when cap is
 * short or the frame is out of range. */
size_t host_scd_frame_format(const struct rig_can_frame *f, uint32_t sec, uint32_t usec, char *out,
                        size_t cap);
/* The frame as the slcan line the owner reads ("tIIIL<hex>\r"): its length, 0 on error. */
size_t host_scd_frame_to_slcan(const struct rig_can_frame *f, uint8_t *out, size_t cap);

/* ---- the transport ------------------------------------------------------------------------ */

struct host_scd;

/* spec as for tcp.h ("PORT" or "ADDR:PORT"). One line in err on failure. */
rig_rc host_scd_open(struct host_scd **out, const char *spec, char *err, size_t errcap);
void host_scd_close(struct host_scd *s);
const char *host_scd_path(const struct host_scd *s);     /* "socketcand:ADDR:PORT" */
uint16_t host_scd_port(const struct host_scd *s);
int host_scd_fd(const struct host_scd *s);
/* The owner's side: slcan text in, slcan text out (read/write conventions: serial.h). */
int32_t host_scd_read(struct host_scd *s, uint8_t *buf, uint16_t cap);
int32_t host_scd_write(struct host_scd *s, const uint8_t *buf, uint16_t n);
uint32_t host_scd_closes(const struct host_scd *s);
/* 1 once the client is in rawmode. */
int host_scd_raw(const struct host_scd *s);
/* Frames sent to the client, and frames the owner wrote that no client in rawmode took. */
uint32_t host_scd_frames_out(const struct host_scd *s);
uint32_t host_scd_frames_dropped(const struct host_scd *s);

#endif
