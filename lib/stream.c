/* The one byte-stream seam over serial ports, ptys, TCP and socketcand (stream.h says why). */
#include <string.h>

#include "bmsrig/lib/pty.h"
#include "bmsrig/lib/serial.h"
#include "bmsrig/lib/socketcand.h"
#include "bmsrig/lib/stream.h"
#include "bmsrig/lib/tcp.h"

static int ser_fd(const void *h) { return host_serial_fd(h); }
static int32_t ser_read(void *h, uint8_t *p, uint16_t cap) { return host_serial_read(h, p, cap); }
static int32_t ser_write(void *h, const uint8_t *p, uint16_t n) { return host_serial_write(h, p, n); }
static void ser_close(void *h) { host_serial_close(h); }

static int cli_fd(const void *h) { return host_tcp_client_fd(h); }
static int32_t cli_read(void *h, uint8_t *p, uint16_t cap) { return host_tcp_client_read(h, p, cap); }
static int32_t cli_write(void *h, const uint8_t *p, uint16_t n) { return host_tcp_client_write(h, p, n); }
static void cli_tick(void *h) { host_tcp_client_tick(h); }
static void cli_close(void *h) { host_tcp_client_close(h); }

static int pty_fd(const void *h) { return host_pty_fd(h); }
static int32_t pty_read(void *h, uint8_t *p, uint16_t cap) { return host_pty_read(h, p, cap); }
static int32_t pty_write(void *h, const uint8_t *p, uint16_t n) { return host_pty_write(h, p, n); }
static void pty_close(void *h) { host_pty_close(h); }
static uint32_t pty_closes(const void *h) { return host_pty_closes(h); }

static int tcp_fd(const void *h) { return host_tcp_fd(h); }
static int32_t tcp_read(void *h, uint8_t *p, uint16_t cap) { return host_tcp_read(h, p, cap); }
static int32_t tcp_write(void *h, const uint8_t *p, uint16_t n) { return host_tcp_write(h, p, n); }
static void tcp_close(void *h) { host_tcp_close(h); }
static uint32_t tcp_closes(const void *h) { return host_tcp_closes(h); }

static int scd_fd(const void *h) { return host_scd_fd(h); }
static int32_t scd_read(void *h, uint8_t *p, uint16_t cap) { return host_scd_read(h, p, cap); }
static int32_t scd_write(void *h, const uint8_t *p, uint16_t n) { return host_scd_write(h, p, n); }
static void scd_close(void *h) { host_scd_close(h); }
static uint32_t scd_closes(const void *h) { return host_scd_closes(h); }

int host_stream_is(const char *spec, const char *scheme)
{
	size_t n = strlen(scheme);

	return spec && !strncmp(spec, scheme, n) && spec[n] == ':';
}

rig_rc host_stream_open_port(struct host_stream *s, const char *spec, uint32_t baud,
                             void (*note)(void *ctx, const char *line), void *note_ctx,
                             char *err, size_t errcap)
{
	rig_rc rc;

	memset(s, 0, sizeof *s);
	if (host_stream_is(spec, "tcp")) {
		struct host_tcp_client *c;

		rc = host_tcp_client_open(&c, spec + 4, note, note_ctx, err, errcap);
		if (rc == RIG_OK)
			*s = (struct host_stream) {
				.h = c, .fd = cli_fd, .read = cli_read, .write = cli_write, .tick = cli_tick,
				.close = cli_close, .path = spec,
			};
		return rc;
	}
	{
		struct host_serial *p;

		rc = host_serial_open(&p, spec, baud, err, errcap);
		if (rc == RIG_OK)
			*s = (struct host_stream) {
				.h = p, .fd = ser_fd, .read = ser_read, .write = ser_write, .close = ser_close,
				.path = spec,
			};
	}
	return rc;
}

rig_rc host_stream_serve(struct host_stream *s, const char *spec, uint32_t baud,
                         char *err, size_t errcap)
{
	rig_rc rc;

	memset(s, 0, sizeof *s);
	if (host_stream_is(spec, "tcp")) {
		struct host_tcp *t;

		rc = host_tcp_open(&t, spec + 4, err, errcap);
		if (rc == RIG_OK)
			*s = (struct host_stream) {
				.h = t, .fd = tcp_fd, .read = tcp_read, .write = tcp_write, .close = tcp_close,
				.closes = tcp_closes, .path = host_tcp_path(t),
			};
	} else if (host_stream_is(spec, "socketcand")) {
		struct host_scd *d;

		rc = host_scd_open(&d, spec + 11, err, errcap);
		if (rc == RIG_OK)
			*s = (struct host_stream) {
				.h = d, .fd = scd_fd, .read = scd_read, .write = scd_write, .close = scd_close,
				.closes = scd_closes, .path = host_scd_path(d),
			};
	} else {
		struct host_pty *p;

		rc = host_pty_open(&p, spec, baud, err, errcap);
		if (rc == RIG_OK)
			*s = (struct host_stream) {
				.h = p, .fd = pty_fd, .read = pty_read, .write = pty_write, .close = pty_close,
				.closes = pty_closes, .path = host_pty_path(p),
			};
	}
	return rc;
}

static int32_t io_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct host_stream *s = ctx;

	return s->read(s->h, p, cap);
}

static int32_t io_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct host_stream *s = ctx;

	return s->write(s->h, p, n);
}

struct rig_io host_stream_io(struct host_stream *s)
{
	struct rig_io io = { s, io_write, io_read };

	return io;
}

void host_stream_close(struct host_stream *s)
{
	if (s->h && s->close)
		s->close(s->h);
	memset(s, 0, sizeof *s);
}
