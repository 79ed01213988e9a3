/* slcan (Lawicel) text lines (include/bmsrig/core/slcan.h). */
#include <string.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/core/slcan.h"

static const char hexdig[] = "0123456789ABCDEF";

static void put_hex(uint8_t *out, uint32_t v, unsigned digits)
{
	while (digits--) {
		out[digits] = (uint8_t)hexdig[v & 0xFu];
		v >>= 4;
	}
}

/* digits hex digits at p into *v; 0 on a bad digit. */
static int get_hex(const uint8_t *p, unsigned digits, uint32_t *v)
{
	uint32_t x = 0;
	unsigned i;

	for (i = 0; i < digits; i++) {
		int d = rig_hex_digit(p[i]);
		if (d < 0)
			return 0;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 1;
}

rig_rc rig_slcan_frame_encode(const struct rig_can_frame *f, uint8_t *out, size_t cap, size_t *n)
{
	const unsigned id_digits = f->ext ? 8u : 3u;
	size_t len, i;

	if (f->dlc > 8u || f->id > (f->ext ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
		return RIG_ERR_ARG;
	len = 1u + id_digits + 1u + 2u * f->dlc + 1u;
	if (cap < len)
		return RIG_ERR_SPACE;
	out[0] = f->ext ? 'T' : 't';
	put_hex(out + 1, f->id, id_digits);
	out[1 + id_digits] = (uint8_t)('0' + f->dlc);
	for (i = 0; i < f->dlc; i++)
		put_hex(out + 2 + id_digits + 2 * i, f->data[i], 2);
	out[len - 1] = SLCAN_CR;
	*n = len;
	return RIG_OK;
}

static rig_rc parse_frame(const uint8_t *line, size_t n, struct slcan_line *out)
{
	const unsigned ext = line[0] == 'T', id_digits = ext ? 8u : 3u;
	uint32_t id, dlc, byte;
	unsigned i;

	if (n < 2u + id_digits)
		return RIG_ERR_LENGTH;
	if (!get_hex(line + 1, id_digits, &id) || id > (ext ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
		return RIG_ERR_FRAME;
	if (line[1 + id_digits] < '0' || line[1 + id_digits] > '8')
		return RIG_ERR_FRAME;
	dlc = (uint32_t)(line[1 + id_digits] - '0');
	if (n != 2u + id_digits + 2u * dlc)
		return RIG_ERR_LENGTH;
	memset(&out->frame, 0, sizeof out->frame);
	for (i = 0; i < dlc; i++) {
		if (!get_hex(line + 2 + id_digits + 2 * i, 2, &byte))
			return RIG_ERR_FRAME;
		out->frame.data[i] = (uint8_t)byte;
	}
	out->frame.id = id;
	out->frame.dlc = (uint8_t)dlc;
	out->frame.ext = (uint8_t)ext;
	out->kind = SLCAN_FRAME;
	return RIG_OK;
}

rig_rc rig_slcan_parse(const uint8_t *line, size_t n, uint8_t term, struct slcan_line *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	if (n > SLCAN_LINE_MAX - 1u)
		return RIG_ERR_LENGTH;
	out->len = (uint8_t)(n + 1u);
	for (i = 0; i < n; i++)
		if (line[i] < 0x20u || line[i] > 0x7Eu)
			return RIG_ERR_FRAME;
	if (term == SLCAN_BEL) {
		/* Adapters send a bare BEL; anything before it is not a line we know. */
		if (n)
			return RIG_ERR_FRAME;
		out->kind = SLCAN_ERROR;
		return RIG_OK;
	}
	if (term != SLCAN_CR)
		return RIG_ERR_ARG;
	if (n == 0 || (n == 1 && (line[0] == 'z' || line[0] == 'Z'))) {
		out->kind = SLCAN_ACK;
		return RIG_OK;
	}
	if (line[0] == 't' || line[0] == 'T')
		return parse_frame(line, n, out);
	out->kind = SLCAN_COMMAND;
	out->cmd = (char)line[0];
	out->arg_len = (uint8_t)(n - 1u);
	memcpy(out->arg, line + 1, n - 1u);
	out->arg[n - 1u] = '\0';
	return RIG_OK;
}

void rig_slcan_rx_init(struct slcan_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_slcan_rx_feed(struct slcan_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

rig_rc rig_slcan_rx_next(struct slcan_rx *rx, struct slcan_line *out)
{
	for (;;) {
		uint16_t i, have = rx->b.have;

		for (i = 0; i < have; i++)
			if (rx->buf[i] == SLCAN_CR || rx->buf[i] == SLCAN_BEL)
				break;
		if (i == have) {
			/* No terminator in a full buffer: an overlong line, dropped up to its end. */
			if (have == sizeof rx->buf) {
				if (!rx->discard)
					rx->b.rejected_frames++;
				rx->discard = 1;
				rig_rxbuf_skip(&rx->b, rx->buf, have);
			}
			return RIG_MORE;
		}
		if (rx->discard) {
			rx->discard = 0;
			rig_rxbuf_skip(&rx->b, rx->buf, (uint16_t)(i + 1u));
			continue;
		}
		if (rig_slcan_parse(rx->buf, i, rx->buf[i], out) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)(i + 1u));
			return RIG_OK;
		}
		/* A line is its own unit: a bad one goes whole, the next starts after its terminator. */
		rx->b.rejected_frames++;
		rig_rxbuf_skip(&rx->b, rx->buf, (uint16_t)(i + 1u));
	}
}
