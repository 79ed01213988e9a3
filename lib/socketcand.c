/* The socketcand rawmode server, shared by bmssim's CAN links and bmsmon's inverter port
 * (socketcand.h says what it promises and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmsrig/core/hexdigit.h"
#include "bmsrig/lib/socketcand.h"
#include "bmsrig/lib/tcp.h"

/* ---- the text protocol ----------------------------------------------------------------- */

void host_scd_rx_init(struct host_scd_rx *rx)
{
	memset(rx, 0, sizeof *rx);
}

int host_scd_rx_byte(struct host_scd_rx *rx, uint8_t c)
{
	if (c == '<') {
		/* A new element; an unfinished one before it was cut off and goes. */
		rx->in = 1;
		rx->discard = 0;
		rx->len = 0;
	}
	if (!rx->in)
		return 0;
	if (rx->discard) {
		if (c == '>')
			rx->in = rx->discard = 0;
		return 0;
	}
	if (rx->len == sizeof rx->buf) {
		rx->rejected++;
		rx->len = 0;
		rx->discard = 1;
		if (c == '>')
			rx->in = rx->discard = 0;
		return 0;
	}
	rx->buf[rx->len++] = (char)c;
	if (c == '>') {
		rx->in = 0;
		return 1;
	}
	return 0;
}

/* A token of 1..max hex digits; 0 when it is not one. */
static int hex_token(const char *t, size_t n, size_t max, uint32_t *v)
{
	size_t i;

	if (n == 0 || n > max)
		return 0;
	*v = 0;
	for (i = 0; i < n; i++) {
		int d = rig_hex_digit(t[i]);

		if (d < 0)
			return 0;
		*v = *v << 4 | (uint32_t)d;
	}
	return 1;
}

rig_rc host_scd_parse(const char *el, size_t n, struct host_scd_msg *out)
{
	/* Tokens between "<" and ">", separated by single or repeated spaces. */
	const char *tok[12];
	size_t len[12], ntok = 0, i = 1;
	uint32_t v, dlc;

	memset(out, 0, sizeof *out);
	if (n < 2 || el[0] != '<' || el[n - 1] != '>')
		return RIG_ERR_FRAME;
	while (i < n - 1) {
		if (el[i] == ' ') {
			i++;
			continue;
		}
		if (ntok == sizeof tok / sizeof tok[0])
			return RIG_ERR_FRAME;
		tok[ntok] = el + i;
		while (i < n - 1 && el[i] != ' ')
			i++;
		len[ntok] = (size_t)(el + i - tok[ntok]);
		ntok++;
	}
	if (ntok == 0)
		return RIG_ERR_FRAME;
	if (len[0] == 4 && !memcmp(tok[0], "open", 4)) {
		if (ntok != 2 || len[1] >= sizeof out->bus)
			return RIG_ERR_FRAME;
		memcpy(out->bus, tok[1], len[1]);
		out->kind = SCD_OPEN;
		return RIG_OK;
	}
	if (len[0] == 7 && !memcmp(tok[0], "rawmode", 7)) {
		out->kind = ntok == 1 ? SCD_RAWMODE : SCD_OTHER;
		return ntok == 1 ? RIG_OK : RIG_ERR_FRAME;
	}
	if (len[0] == 4 && !memcmp(tok[0], "echo", 4)) {
		out->kind = ntok == 1 ? SCD_ECHO : SCD_OTHER;
		return ntok == 1 ? RIG_OK : RIG_ERR_FRAME;
	}
	if (!(len[0] == 4 && !memcmp(tok[0], "send", 4))) {
		out->kind = SCD_OTHER;
		return RIG_OK;
	}
	if (ntok < 3 || !hex_token(tok[1], len[1], 8, &v) || !hex_token(tok[2], len[2], 1, &dlc) ||
	    dlc > 8 || ntok != 3 + dlc)
		return RIG_ERR_FRAME;
	/* socketcand's rule: more than three digits is a 29-bit id, whatever its value. */
	out->frame.ext = len[1] > 3;
	if (v > (out->frame.ext ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
		return RIG_ERR_FRAME;
	out->frame.id = v;
	out->frame.dlc = (uint8_t)dlc;
	for (i = 0; i < dlc; i++) {
		if (!hex_token(tok[3 + i], len[3 + i], 2, &v))
			return RIG_ERR_FRAME;
		out->frame.data[i] = (uint8_t)v;
	}
	out->kind = SCD_SEND;
	return RIG_OK;
}

size_t host_scd_frame_format(const struct rig_can_frame *f, uint32_t sec, uint32_t usec, char *out,
                        size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	char data[17];
	unsigned i;
	int n;

	if (f->dlc > 8 || usec > 999999u || f->id > (f->ext ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
		return 0;
	for (i = 0; i < f->dlc; i++) {
		data[2 * i] = hex[f->data[i] >> 4];
		data[2 * i + 1] = hex[f->data[i] & 15u];
	}
	data[2 * f->dlc] = '\0';
	n = snprintf(out, cap, f->ext ? "< frame %08X %u.%06u %s >\n" : "< frame %03X %u.%06u %s >\n",
	             (unsigned)f->id, (unsigned)sec, (unsigned)usec, data);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t host_scd_frame_to_slcan(const struct rig_can_frame *f, uint8_t *out, size_t cap)
{
	size_t n;

	return rig_slcan_frame_encode(f, out, cap, &n) == RIG_OK ? n : 0;
}

/* ---- the transport ------------------------------------------------------------------------ */

enum scd_state { SCD_NOBODY = 0, SCD_SAID_HI, SCD_BUS_OPEN, SCD_RAW };

struct host_scd {
	struct host_tcp *tcp;
	uint8_t state;                  /* enum scd_state */
	uint32_t connects_seen, closes_seen;
	uint64_t raw_at_ms;             /* when the rawmode "< ok >" went */
	struct host_scd_rx rx;               /* the client's elements */
	struct slcan_rx out;            /* the owner's lines */
	uint8_t q[256];                 /* slcan text for the owner, not yet read */
	uint16_t q_len, q_off;
	uint32_t frames_out, frames_dropped;
	char path[48];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void say(struct host_scd *s, const char *text)
{
	(void)host_tcp_write(s->tcp, (const uint8_t *)text, (uint16_t)strlen(text));
}

/* Text for the owner; a line that does not fit whole is lost (the queue is sized so that
 * a full read's worth of elements fits: see host_scd_read). */
static void to_owner(struct host_scd *s, const uint8_t *p, size_t n)
{
	if (s->q_off == s->q_len)
		s->q_off = s->q_len = 0;
	if (n > sizeof s->q - s->q_len)
		return;
	memcpy(s->q + s->q_len, p, n);
	s->q_len = (uint16_t)(s->q_len + n);
}

/* Clients coming and going, as the TCP transport saw them since the last look. */
static void notice_clients(struct host_scd *s)
{
	while (host_tcp_closes(s->tcp) != s->closes_seen || host_tcp_connects(s->tcp) != s->connects_seen) {
		if (host_tcp_closes(s->tcp) != s->closes_seen) {
			s->closes_seen = host_tcp_closes(s->tcp);
			if (s->state == SCD_RAW)
				to_owner(s, (const uint8_t *)"C\r", 2);
			s->state = SCD_NOBODY;
		}
		if (host_tcp_connects(s->tcp) != s->connects_seen) {
			s->connects_seen = host_tcp_connects(s->tcp);
			if (host_tcp_connected(s->tcp)) {
				host_scd_rx_init(&s->rx);
				s->state = SCD_SAID_HI;
				say(s, "< hi >");
			}
		}
	}
}

static void element(struct host_scd *s, const char *el, size_t n)
{
	struct host_scd_msg m;
	uint8_t line[SLCAN_LINE_MAX];
	size_t k;

	if (host_scd_parse(el, n, &m) != RIG_OK) {
		say(s, "< error malformed command >");
		return;
	}
	switch (s->state) {
	case SCD_SAID_HI:
		if (m.kind != SCD_OPEN)
			say(s, "< error expected open >");
		else if (strcmp(m.bus, SCD_BUS) != 0)
			say(s, "< error could not open bus >");
		else {
			s->state = SCD_BUS_OPEN;
			say(s, "< ok >");
		}
		break;
	case SCD_BUS_OPEN:
		if (m.kind == SCD_ECHO) {
			say(s, "< echo >");
			break;
		}
		if (m.kind != SCD_RAWMODE) {
			say(s, "< error expected rawmode >");
			break;
		}
		s->state = SCD_RAW;
		s->raw_at_ms = mono_ms();
		say(s, "< ok >");
		to_owner(s, (const uint8_t *)"S6\rO\r", 5);
		break;
	case SCD_RAW:
		if (m.kind == SCD_SEND && (k = host_scd_frame_to_slcan(&m.frame, line, sizeof line)) > 0)
			to_owner(s, line, k);
		else if (m.kind == SCD_ECHO)
			say(s, "< echo >");
		else if (m.kind != SCD_SEND)
			say(s, "< error unknown command >");
		break;
	default:
		break;
	}
}

int32_t host_scd_read(struct host_scd *s, uint8_t *buf, uint16_t cap)
{
	/* 64 bytes hold at most four "< send >" elements (14 bytes the shortest), whose slcan
	 * lines (at most 27 bytes) and the open's "S6\rO\r" fit the queue together. */
	uint8_t in[64];

	for (;;) {
		int32_t n, i;
		uint16_t k;

		if (s->q_off < s->q_len) {
			k = (uint16_t)(s->q_len - s->q_off);
			if (k > cap)
				k = cap;
			memcpy(buf, s->q + s->q_off, k);
			s->q_off = (uint16_t)(s->q_off + k);
			return k;
		}
		n = host_tcp_read(s->tcp, in, sizeof in);
		notice_clients(s);
		if (n <= 0 && s->q_off == s->q_len)
			return n;
		for (i = 0; i < n; i++)
			if (host_scd_rx_byte(&s->rx, in[i]))
				element(s, s->rx.buf, s->rx.len);
	}
}

int32_t host_scd_write(struct host_scd *s, const uint8_t *buf, uint16_t n)
{
	struct slcan_line l;
	size_t done = 0;

	notice_clients(s);
	while (done < n) {
		done += rig_slcan_rx_feed(&s->out, buf + done, n - done, 0);
		while (rig_slcan_rx_next(&s->out, &l) == RIG_OK) {
			char text[SCD_FRAME_LINE_MAX];
			struct timespec ts;
			size_t k;

			/* Acknowledgements and errors answer commands we made up: nobody waits for them. */
			if (l.kind != SLCAN_FRAME)
				continue;
			if (s->state != SCD_RAW || mono_ms() < s->raw_at_ms + SCD_SETTLE_MS) {
				s->frames_dropped++;
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			k = host_scd_frame_format(&l.frame, (uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000),
			                     text, sizeof text);
			if (k > 0 && host_tcp_write(s->tcp, (const uint8_t *)text, (uint16_t)k) == (int32_t)k)
				s->frames_out++;
			else
				s->frames_dropped++;
		}
		notice_clients(s);
	}
	return n;
}

rig_rc host_scd_open(struct host_scd **out, const char *spec, char *err, size_t errcap)
{
	struct host_scd *s = calloc(1, sizeof *s);
	rig_rc rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errcap, "socketcand:%s: out of memory", spec);
		return RIG_ERR_IO;
	}
	if ((rc = host_tcp_open(&s->tcp, spec, err, errcap)) != RIG_OK) {
		/* The TCP transport names itself "tcp:SPEC"; the user wrote socketcand:SPEC. */
		if (errcap > 4 && !strncmp(err, "tcp:", 4)) {
			char why[256];

			snprintf(why, sizeof why, "%s", err + 4);
			snprintf(err, errcap, "socketcand:%s", why);
		}
		free(s);
		return rc;
	}
	host_scd_rx_init(&s->rx);
	rig_slcan_rx_init(&s->out, 0);
	snprintf(s->path, sizeof s->path, "socketcand:%s", host_tcp_path(s->tcp) + 4);
	*out = s;
	return RIG_OK;
}

void host_scd_close(struct host_scd *s)
{
	if (!s)
		return;
	host_tcp_close(s->tcp);
	free(s);
}

const char *host_scd_path(const struct host_scd *s) { return s->path; }
uint16_t host_scd_port(const struct host_scd *s) { return host_tcp_port(s->tcp); }
int host_scd_fd(const struct host_scd *s) { return host_tcp_fd(s->tcp); }
uint32_t host_scd_closes(const struct host_scd *s) { return host_tcp_closes(s->tcp); }
int host_scd_raw(const struct host_scd *s) { return s->state == SCD_RAW; }
uint32_t host_scd_frames_out(const struct host_scd *s) { return s->frames_out; }
uint32_t host_scd_frames_dropped(const struct host_scd *s) { return s->frames_dropped; }
