/* The byte mechanics every protocol's receive assembler shares. The assembler owns the buffer
 * (each protocol sizes it to its longest frame) and decides what a frame is; struct rxbuf keeps
 * the fill level and the counters, so that bytes enter, leave and are counted the same way in
 * every protocol and a byte is never lost or counted twice. */
#ifndef BMSRIG_RXBUF_H
#define BMSRIG_RXBUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rxbuf {
	uint16_t have;             /* bytes held, from the start of the owner's buffer */
	uint32_t last_ms;          /* when bytes last came in */
	uint32_t gap_ms;           /* a partial frame older than this is dropped; 0 = never */
	uint32_t skipped_bytes;    /* garbage between frames, and first bytes of bad frames */
	uint32_t rejected_frames;  /* frame starts whose frame turned out bad */
};

/* Appends as many of p[0..n) as fit in buf[0..cap); returns the count taken. Bytes held from
 * before a silence longer than gap_ms are first counted as skipped and let go: that frame's
 * tail is lost, and it must not swallow the start of the next one. */
size_t rig_rxbuf_take(struct rxbuf *b, uint8_t *buf, size_t cap, const uint8_t *p, size_t n, uint32_t now_ms);
/* Lets go of everything held: a partial frame that belongs to no reply still awaited. */
void rig_rxbuf_clear(struct rxbuf *b);
/* Lets go of the first n bytes held (a frame consumed). */
void rig_rxbuf_drop(struct rxbuf *b, uint8_t *buf, uint16_t n);
/* The first n bytes held are garbage: counted in skipped_bytes, then dropped. */
void rig_rxbuf_skip(struct rxbuf *b, uint8_t *buf, uint16_t n);
/* The frame that seemed to start at buf[0] is bad. Only its first byte goes, so a real frame
 * that begins inside it is still found. */
void rig_rxbuf_reject(struct rxbuf *b, uint8_t *buf);

#ifdef __cplusplus
}
#endif

#endif
