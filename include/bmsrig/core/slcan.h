/* slcan (Lawicel) text: CAN frames and adapter commands as ASCII lines ending in '\r'. The
 * emulator's pty, the TCP listener and the inverter-side client all speak it, so one codec
 * serves them: a frame <-> its line, and a resynchronising line assembler on the rxbuf
 * mechanics. Lines: "tIIIL<2L hex>" (11-bit), "TIIIIIIIIL<2L hex>" (29-bit), one-letter
 * commands with an optional argument ("C", "S6", "O", "V", ...), an empty line (the adapter's
 * acknowledgement, also "z"/"Z" after a sent frame) and '\a' (BEL: the adapter's error). */
#ifndef BMSRIG_SLCAN_H
#define BMSRIG_SLCAN_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/core/rxbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLCAN_CR        0x0Du
#define SLCAN_BEL       0x07u
#define SLCAN_STD_ID_MAX 0x7FFu
#define SLCAN_EXT_ID_MAX 0x1FFFFFFFu
/* The longest line: 'T' + 8 id digits + 1 DLC digit + 16 data digits, and the terminator. */
#define SLCAN_LINE_MAX  27u
#define SLCAN_ARG_MAX   (SLCAN_LINE_MAX - 2u)

/* One classic CAN frame (no FD, no remote frames). */
struct rig_can_frame {
	uint32_t id;
	uint8_t dlc;                 /* 0..8 */
	uint8_t data[8];             /* bytes past dlc are zero */
	uint8_t ext;                 /* 1: 29-bit id */
};

enum slcan_kind {
	SLCAN_FRAME = 0,             /* a data frame ('t' or 'T') */
	SLCAN_COMMAND,               /* an adapter command: cmd and its argument */
	SLCAN_ACK,                   /* an empty line, "z" or "Z": a command was accepted */
	SLCAN_ERROR                  /* BEL: a command was refused */
};

struct slcan_line {
	uint8_t kind;                /* enum slcan_kind */
	uint8_t len;                 /* bytes on the line, its terminator included */
	char cmd;                    /* SLCAN_COMMAND: the letter, e.g. 'S' */
	uint8_t arg_len;
	char arg[SLCAN_ARG_MAX + 1]; /* NUL-terminated, printable ASCII only */
	struct rig_can_frame frame;  /* SLCAN_FRAME */
};

/* The frame as a line with its '\r' (upper-case hex, as adapters write it). RIG_ERR_ARG for an
 * id or dlc out of range, RIG_ERR_SPACE when cap is short. */
rig_rc rig_slcan_frame_encode(const struct rig_can_frame *f, uint8_t *out, size_t cap, size_t *n);
/* One line without its terminator (term: SLCAN_CR or SLCAN_BEL) into *out. Hex in either
 * case. RIG_ERR_LENGTH when a frame's digits do not match its DLC, RIG_ERR_FRAME for a bad
 * digit, an id out of range or a non-printable byte. */
rig_rc rig_slcan_parse(const uint8_t *line, size_t n, uint8_t term, struct slcan_line *out);

/* The line assembler. A line longer than SLCAN_LINE_MAX is dropped up to its terminator, so its
 * tail is never read as a line of its own; a line that does not parse is counted in
 * rejected_frames and skipped. */
struct slcan_rx {
	uint8_t buf[SLCAN_LINE_MAX];
	struct rxbuf b;
	uint8_t discard;             /* inside an overlong line: drop until its terminator */
};
void rig_slcan_rx_init(struct slcan_rx *rx, uint32_t gap_ms);
/* Takes as many of p[0..n) as fit; returns the count taken. Call rig_slcan_rx_next until it
 * stops returning RIG_OK before feeding the rest. */
size_t rig_slcan_rx_feed(struct slcan_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms);
/* RIG_OK: *out holds the next valid line. RIG_MORE: nothing complete yet. */
rig_rc rig_slcan_rx_next(struct slcan_rx *rx, struct slcan_line *out);

#ifdef __cplusplus
}
#endif

#endif
