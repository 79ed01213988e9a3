/* The receive assemblers' shared byte mechanics (include/bmsrig/core/rxbuf.h). */
#include <string.h>

#include "bmsrig/core/rxbuf.h"

size_t rig_rxbuf_take(struct rxbuf *b, uint8_t *buf, size_t cap, const uint8_t *p, size_t n, uint32_t now_ms)
{
	size_t room;

	if (n == 0)
		return 0;
	/* A partial frame that stalled longer than a BMS or link ever pauses is a lost tail. */
	if (b->have && b->gap_ms && now_ms - b->last_ms > b->gap_ms) {
		b->skipped_bytes += b->have;
		b->have = 0;
	}
	b->last_ms = now_ms;
	room = cap - b->have;
	if (n > room)
		n = room;
	memcpy(buf + b->have, p, n);
	b->have = (uint16_t)(b->have + n);
	return n;
}

void rig_rxbuf_clear(struct rxbuf *b)
{
	b->have = 0;
}

void rig_rxbuf_drop(struct rxbuf *b, uint8_t *buf, uint16_t n)
{
	b->have = (uint16_t)(b->have - n);
	/* Most often the frame was all there was: nothing behind it to move up. */
	if (b->have)
		memmove(buf, buf + n, b->have);
}

void rig_rxbuf_skip(struct rxbuf *b, uint8_t *buf, uint16_t n)
{
	if (n) {
		b->skipped_bytes += n;
		rig_rxbuf_drop(b, buf, n);
	}
}

void rig_rxbuf_reject(struct rxbuf *b, uint8_t *buf)
{
	b->rejected_frames++;
	rig_rxbuf_skip(b, buf, 1);
}
