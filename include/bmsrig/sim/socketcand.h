/* A socketcand rawmode server: CAN frames as text over TCP, which python-can reads with
 * interface='socketcand' (and socketcand's own clients). The emulator's personalities speak
 * slcan (Lawicel) text; this module translates, over the TCP transport (tcp.h: one client,
 * the newest wins, 127.0.0.1 by default).
 *
 * The exchange (socketcand's protocol.md, rawmode):
 *   server: "< hi >"                       alone, as soon as a client connects
 *   client: "< open can0 >"  server: "< ok >"   (another bus name: "< error ... >")
 *   client: "< rawmode >"    server: "< ok >"
 *   client: "< echo >"       server: "< echo >"   (once the bus is open: a liveness check)
 *   then each frame the personality writes ("t351814...\r") leaves as
 *   "< frame 351 SEC.USEC 1402F401E803CC01 >\n", and each "< send 305 8 0 0 0 0 0 0 0 0 >"
 *   from the client reaches the personality as "t3058" "0000000000000000" "\r".
 * Two choices follow python-can 4.1.0's client, which compares whole recv() results during the
 * handshake and, reading frames, drops the character after each '>': "< hi >" and each
 * "< ok >" go alone (frames written within SCD_SETTLE_MS of the rawmode "< ok >" are dropped), and a
 * '\n' follows every frame (a frame split across two reads is lost otherwise). Data is hex
 * without spaces: the client splits the line at its first three spaces.
 * Opening the bus is the slcan "S6" and "O" (500 kbit/s, open) to the personality, a client
 * leaving an open bus is "C" (close), as an slcan client on the pty would send them; the
 * personality's answers to those ("\r", BEL) go nowhere. */
#ifndef BMSRIG_SIM_SOCKETCAND_H
#define BMSRIG_SIM_SOCKETCAND_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/core/slcan.h"
#include "bmsrig/sim/sim.h"

#define SCD_BUS "can0"
#define SCD_ELEMENT_MAX 64u     /* "< send 1FFFFFFF 8 ff ff ff ff ff ff ff ff >" is 44 */
#define SCD_FRAME_LINE_MAX 64u  /* "< frame 1FFFFFFF 4294967295.999999 <16 hex> >\n" is 55 */
#define SCD_SETTLE_MS 30u

/* ---- the text protocol, without I/O (byte-exact tests and the fuzz target use these) ---- */

enum scd_kind { SCD_OPEN = 0, SCD_RAWMODE, SCD_SEND, SCD_ECHO, SCD_OTHER };

struct scd_msg {
	uint8_t kind;                   /* enum scd_kind */
	char bus[17];                   /* SCD_OPEN: the bus name, NUL-terminated */
	struct rig_can_frame frame;     /* SCD_SEND */
};

/* Cuts a byte stream into "< ... >" elements. Bytes outside an element are skipped (a stray
 * '>', separators); a '<' inside an element starts again from it (the first was cut off); an
 * element longer than SCD_ELEMENT_MAX is dropped up to its '>'. */
struct scd_rx {
	char buf[SCD_ELEMENT_MAX];
	uint8_t len;
	uint8_t in, discard;
	uint32_t rejected;              /* elements dropped as overlong */
};
void scd_rx_init(struct scd_rx *rx);
/* 1 when c completed an element: rx->buf[0..rx->len) holds it, '<' and '>' included. */
int scd_rx_byte(struct scd_rx *rx, uint8_t c);

/* One element, '<' and '>' included. "< send ID DLC B0 .. >": ID 1-3 hex digits is an 11-bit id
 * (at most 7FF), 4-8 digits a 29-bit one, as socketcand reads them; DLC one hex digit 0-8; then
 * exactly DLC bytes of 1-2 hex digits. Commands other than open, rawmode, send and echo are
 * SCD_OTHER.
 * RIG_ERR_FRAME for anything malformed (no reply owed: socketcand answers "< error >"). */
rig_rc scd_parse(const char *el, size_t n, struct scd_msg *out);
/* "< frame ID SEC.USEC HEX >\n" (ID as 3 or 8 upper-case hex digits): its length, 0 when cap is
 * short or the frame is out of range. */
size_t scd_frame_format(const struct rig_can_frame *f, uint32_t sec, uint32_t usec, char *out,
                        size_t cap);
/* The frame as the slcan line a personality reads ("tIIIL<hex>\r"): its length, 0 on error. */
size_t scd_frame_to_slcan(const struct rig_can_frame *f, uint8_t *out, size_t cap);

/* ---- the transport ------------------------------------------------------------------------ */

struct sim_scd;

/* spec as for tcp.h ("PORT" or "ADDR:PORT"). One line in err on failure. */
rig_rc sim_scd_open(struct sim_scd **out, const char *spec, char *err, size_t errcap);
void sim_scd_close(struct sim_scd *s);
const char *sim_scd_path(const struct sim_scd *s);     /* "socketcand:ADDR:PORT" */
uint16_t sim_scd_port(const struct sim_scd *s);
int sim_scd_fd(const struct sim_scd *s);
/* The personality's side: slcan text in, slcan text out (read/write conventions: serial.h). */
int32_t sim_scd_read(struct sim_scd *s, uint8_t *buf, uint16_t cap);
int32_t sim_scd_write(struct sim_scd *s, const uint8_t *buf, uint16_t n);
uint32_t sim_scd_closes(const struct sim_scd *s);
/* 1 once the client is in rawmode. */
int sim_scd_raw(const struct sim_scd *s);
/* Frames sent to the client, and frames the personality wrote that no client in rawmode took. */
uint32_t sim_scd_frames_out(const struct sim_scd *s);
uint32_t sim_scd_frames_dropped(const struct sim_scd *s);

/* For sim.c: the transport as a struct sim_transport (spec after "socketcand:"). */
rig_rc sim_socketcand_open(struct sim_transport *t, const char *spec, char *err, size_t errcap);

#endif
