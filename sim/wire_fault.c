/* Line faults between an emulated BMS and its client (wire_fault.h).
 *
 * Every fault works on bytes alone, never on a protocol's frame layout, so one table serves
 * JBD, Daly and JK alike. What that costs, and why it is still enough:
 *   corrupt_checksum  XORs bit 0 of the byte at index n/2. Every protocol here guards its frame
 *                     with a byte sum (JBD's negated 16-bit sum, Daly's 8-bit sum, JK's 16-bit
 *                     sum), and a sum changes whenever exactly one byte does, so the frame fails
 *                     its check (or, for a short frame whose middle is the length byte, its
 *                     length check) without knowing where the checksum sits.
 *   oversize_frame    repeats the frame's first 4 bytes: the header of all three protocols
 *                     (start, command/address, length), so the receiver has begun a frame.
 * Defaults for param 0 that the header leaves open: late_reply 1000 ms (past the 300-1000 ms
 * request timeouts the clients use), baud_mismatch 115200 on a 9600 baud line and 9600 on any
 * other (the usual misconfigurations: a JK rate on a JBD/Daly port, or the reverse).
 */
#include "bmsrig/sim/wire_fault.h"

#include <stdlib.h>
#include <string.h>

#define LATE_DEFAULT_MS      1000u
#define OVERSIZE_DEFAULT     600u
#define OVERSIZE_HEAD        4u
#define OVERSIZE_FILLER      0x00u
#define GARBAGE_DEFAULT      16u
#define SEED_ZERO_STATE      0x6D2B79F5u   /* any non-zero constant: xorshift stalls at 0 */
#define UART_FRAME_BITS      10u           /* 8N1: start, 8 data, stop */

const char *const wire_fault_names[WF_COUNT] = {
	[WF_NO_REPLY] = "no_reply",
	[WF_LATE_REPLY] = "late_reply",
	[WF_CORRUPT] = "corrupt_checksum",
	[WF_TRUNCATE] = "truncate_frame",
	[WF_OVERSIZE] = "oversize_frame",
	[WF_GARBAGE] = "garbage",
	[WF_DROP_BYTES] = "drop_bytes",
	[WF_DUP_BYTES] = "dup_bytes",
	[WF_BAUD] = "baud_mismatch",
	[WF_MUTE_DUT] = "mute_dut",
};

int wire_fault_find(const char *name)
{
	if (name == NULL)
		return -1;
	for (int k = 0; k < (int)WF_COUNT; k++)
		if (strcmp(name, wire_fault_names[k]) == 0)
			return k;
	return -1;
}

/* ---- the generator ------------------------------------------------------------------------ */

static uint32_t draw(struct wire_faults *w)
{
	uint32_t x = w->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	w->rng = x;
	return x;
}

/* Uniform in 0..n-1 (n >= 1) by multiply-shift: no modulo bias worth the name, no loop. */
static size_t draw_below(struct wire_faults *w, size_t n)
{
	return (size_t)(((uint64_t)draw(w) * (uint64_t)n) >> 32);
}

void wire_faults_init(struct wire_faults *w, uint32_t seed)
{
	memset(w, 0, sizeof *w);
	/* Multiplying by an odd constant is a bijection, so only seed 0 lands on the stuck state;
	 * it spreads small seeds (1, 2, 3) apart, which raw xorshift would start out correlated. */
	uint32_t s = seed * 0x9E3779B1u;
	s ^= s >> 16;
	w->rng = s ? s : SEED_ZERO_STATE;
}

void wire_faults_set(struct wire_faults *w, enum wire_fault_kind k, double rate, uint32_t param)
{
	if ((unsigned)k >= WF_COUNT)
		return;
	if (!(rate > 0.0))                 /* also NaN */
		rate = 0.0;
	else if (rate > 1.0)
		rate = 1.0;
	w->on_mask |= 1u << k;
	w->f[k].rate = rate;
	w->f[k].param = param;
}

void wire_faults_clear(struct wire_faults *w, enum wire_fault_kind k)
{
	if ((unsigned)k >= WF_COUNT)
		return;
	memset(&w->f[k], 0, sizeof w->f[k]);
	w->on_mask &= ~(1u << k);
}

int wire_faults_any(const struct wire_faults *w)
{
	return w->on_mask != 0;
}

/* Whether fault k hits this reply. Rates 0 and 1 decide without a draw, so switching on a
 * certain fault does not shift the sequence the uncertain ones see. */
static int hit(struct wire_faults *w, enum wire_fault_kind k)
{
	const struct wire_fault *f = &w->f[k];
	if (!(w->on_mask >> k & 1u) || !(f->rate > 0.0))
		return 0;
	if (f->rate >= 1.0)
		return 1;
	return draw(w) * (1.0 / 4294967296.0) < f->rate;
}

static uint32_t param_or(const struct wire_fault *f, uint32_t dflt)
{
	return f->param ? f->param : dflt;
}

static uint32_t client_baud(const struct wire_fault *f, uint32_t line_baud)
{
	return param_or(f, line_baud == 9600u ? 115200u : 9600u);
}

/* Opens a gap of up to gap bytes at out[at] (at <= len), moving the tail up and cutting
 * whatever passes cap. *got gets the gap actually opened; returns the new length. */
static size_t open_gap(uint8_t *out, size_t len, size_t cap, size_t at, size_t gap, size_t *got)
{
	*got = 0;
	if (at >= cap)
		return len < cap ? len : cap;
	size_t room = cap - at;
	gap = gap < room ? gap : room;
	size_t tail = len - at, keep = room - gap;
	tail = tail < keep ? tail : keep;
	memmove(out + at + gap, out + at, tail);
	*got = gap;
	return at + gap + tail;
}

/* ---- the UART ------------------------------------------------------------------------------ */

/* Bit j of the line (8N1, bytes back to back from bit 0); idle (1) before and after. */
static unsigned line_bit(const uint8_t *in, uint64_t nbits, int64_t j)
{
	if (j < 0 || (uint64_t)j >= nbits)
		return 1u;
	unsigned p = (unsigned)((uint64_t)j % UART_FRAME_BITS);
	if (p == 0)
		return 0u;
	if (p == UART_FRAME_BITS - 1u)
		return 1u;
	return (unsigned)(in[(uint64_t)j / UART_FRAME_BITS] >> (p - 1u)) & 1u;
}

size_t uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud, uint32_t rx_baud,
                     uint8_t *out, size_t cap)
{
	if (tx_baud == rx_baud) {
		size_t m = n < cap ? n : cap;
		if (m > 0)
			memmove(out, in, m);
		return m;
	}
	if (tx_baud == 0 || rx_baud == 0 || n == 0)
		return 0;

	/* Time in units of 1 / (2 * tx * rx) s: a sent bit lasts 2 * rx units, a received bit
	 * 2 * tx, and every mid-bit sample falls on a whole unit, so the arithmetic is exact. */
	const uint64_t tx_bit = 2u * (uint64_t)rx_baud, half_rx = tx_baud;
	const uint64_t nbits = (uint64_t)n * UART_FRAME_BITS;
	size_t o = 0;
	uint64_t j = 0;                    /* the first sent-bit boundary the hunt may take */

	while (o < cap) {
		/* A falling edge: a 0 bit after a 1 (the idle line counts as 1). */
		while (j < nbits && !(line_bit(in, nbits, (int64_t)j) == 0u &&
		                      line_bit(in, nbits, (int64_t)j - 1) == 1u))
			j++;
		if (j >= nbits)
			break;
		const uint64_t edge = j * tx_bit;
		/* Received bit i is sampled at edge + (i + 0.5) received bits = edge + (2i+1) units
		 * of half a received bit. Bit 0 is the start bit: like most receivers, only the
		 * stop bit decides whether the byte is kept, so the start sample is not needed. */
		uint8_t v = 0;
		for (unsigned i = 1; i <= 8u; i++) {
			uint64_t t = edge + (2u * i + 1u) * half_rx;
			v |= (uint8_t)(line_bit(in, nbits, (int64_t)(t / tx_bit)) << (i - 1u));
		}
		const uint64_t stop = edge + (2u * 9u + 1u) * half_rx;
		if (line_bit(in, nbits, (int64_t)(stop / tx_bit)))
			out[o++] = v;
		/* The hunt resumes after the stop sample: the next boundary strictly later (a line
		 * already low there has no 1 -> 0 edge to offer). */
		j = stop / tx_bit + 1u;
	}
	return o;
}

/* ---- replies and requests ------------------------------------------------------------------ */

static size_t apply(struct wire_faults *w, enum wire_fault_kind k, uint8_t *out, size_t len,
                    size_t cap, size_t n, uint32_t line_baud, uint32_t *delay_ms)
{
	const struct wire_fault *f = &w->f[k];
	size_t got;
	switch (k) {
	case WF_LATE_REPLY:
		*delay_ms = param_or(f, LATE_DEFAULT_MS);
		break;
	case WF_CORRUPT:
		if (n / 2u < len)
			out[n / 2u] ^= 0x01u;
		break;
	case WF_TRUNCATE: {
		size_t keep = f->param ? f->param : len / 2u;
		len = keep < len ? keep : len;
		break;
	}
	case WF_OVERSIZE: {
		/* A frame begins, runs on past any receive buffer, then the real one follows: the
		 * client must throw the overflow away and still find the frame. */
		uint8_t head[OVERSIZE_HEAD];
		size_t h = len < OVERSIZE_HEAD ? len : OVERSIZE_HEAD;
		memcpy(head, out, h);
		len = open_gap(out, len, cap, 0, h + (size_t)param_or(f, OVERSIZE_DEFAULT), &got);
		memcpy(out, head, h < got ? h : got);
		if (got > h)
			memset(out + h, OVERSIZE_FILLER, got - h);
		break;
	}
	case WF_GARBAGE:
		len = open_gap(out, len, cap, 0, param_or(f, GARBAGE_DEFAULT), &got);
		for (size_t i = 0; i < got; i++)
			out[i] = (uint8_t)(draw(w) >> 24);
		break;
	case WF_DROP_BYTES:
		for (uint32_t i = param_or(f, 1u); i > 0 && len > 0; i--) {
			size_t at = draw_below(w, len);
			memmove(out + at, out + at + 1, len - at - 1u);
			len--;
		}
		break;
	case WF_DUP_BYTES:
		for (uint32_t i = param_or(f, 1u); i > 0 && len > 0 && len < cap; i--) {
			size_t at = draw_below(w, len);
			len = open_gap(out, len, cap, at + 1u, 1u, &got);
			out[at + 1u] = out[at];
		}
		break;
	case WF_BAUD: {
		uint32_t rx = client_baud(f, line_baud);
		if (line_baud == 0 || rx == line_baud)
			return len;        /* no mismatch to make: nothing changed, no hit */
		uint8_t *sent = malloc(len ? len : 1u);
		if (sent == NULL)
			return 0;          /* nothing to resample from: the client hears nothing */
		memcpy(sent, out, len);
		len = uart_resample(sent, len, line_baud, rx, out, cap);
		free(sent);
		break;
	}
	default:
		break;
	}
	w->hits[k]++;
	return len;
}

size_t wire_faults_reply(struct wire_faults *w, const uint8_t *in, size_t n, uint32_t line_baud,
                         uint8_t *out, size_t cap, uint32_t *extra_delay_ms)
{
	uint32_t delay = 0;
	if (extra_delay_ms)
		*extra_delay_ms = 0;
	if (hit(w, WF_NO_REPLY)) {
		w->hits[WF_NO_REPLY]++;
		return 0;
	}
	size_t len = n < cap ? n : cap;
	if (len > 0)
		memmove(out, in, len);
	/* mute_dut is the other direction's (wire_faults_request_lost): never drawn for here. */
	for (unsigned k = WF_NO_REPLY + 1u; k < WF_COUNT; k++)
		if (k != WF_MUTE_DUT && hit(w, (enum wire_fault_kind)k))
			len = apply(w, (enum wire_fault_kind)k, out, len, cap, n, line_baud, &delay);
	if (extra_delay_ms)
		*extra_delay_ms = delay;
	return len;
}

int wire_faults_request_lost(struct wire_faults *w)
{
	if (!hit(w, WF_MUTE_DUT))
		return 0;
	w->hits[WF_MUTE_DUT]++;
	return 1;
}

size_t wire_faults_request(struct wire_faults *w, const uint8_t *in, size_t n, uint32_t line_baud,
                           uint8_t *out, size_t cap)
{
	/* The client sends at its wrong rate; the BMS listens at the line's own. Requests are
	 * not replies, so they do not count in hits[]. */
	uint32_t tx = client_baud(&w->f[WF_BAUD], line_baud);
	if (line_baud != 0 && tx != line_baud && hit(w, WF_BAUD))
		return uart_resample(in, n, tx, line_baud, out, cap);
	size_t len = n < cap ? n : cap;
	if (len > 0)
		memmove(out, in, len);
	return len;
}
