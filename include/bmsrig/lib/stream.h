/* One byte-stream seam for every line a host program opens, whatever carries it: a serial port
 * or pty it opens as a client, a TCP connection it makes (tcp.h's client, which reconnects by
 * itself), or a line it serves as the device end: a published pty (pty.h), a raw TCP listener
 * (tcp.h) or a socketcand server (socketcand.h, CAN frames from and to slcan text). bmsmon's BMS
 * ports and its inverter port, and bmssim's links, are opened here, so a new transport is one
 * more case in this file rather than one more in each program.
 * Read and write conventions: serial.h. */
#ifndef BMSRIG_LIB_STREAM_H
#define BMSRIG_LIB_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/io.h"
#include "bmsrig/core/rc.h"

struct host_stream {
	void *h;
	int (*fd)(const void *h);             /* poll it for readability; may change only on reopen */
	int32_t (*read)(void *h, uint8_t *p, uint16_t cap);
	int32_t (*write)(void *h, const uint8_t *p, uint16_t n);
	void (*tick)(void *h);                /* call often (a reconnect that is due); may be NULL */
	void (*close)(void *h);
	uint32_t (*closes)(const void *h);    /* clients seen leaving (served lines); may be NULL */
	const char *path;                     /* what the user named, for messages */
};

/* 1 when spec starts with "scheme:" (tcp, socketcand). */
int host_stream_is(const char *spec, const char *scheme);

/* A line to read a device on: "tcp:HOST:PORT" (tcp.h's client; note gets its lost and back
 * lines, may be NULL) or a serial port or pty path at baud (serial.h). One line in err. */
rig_rc host_stream_open_port(struct host_stream *s, const char *spec, uint32_t baud,
                             void (*note)(void *ctx, const char *line), void *note_ctx,
                             char *err, size_t errcap);

/* A line to serve as the device end: "tcp:[ADDR:]PORT" (a raw listener), "socketcand:[ADDR:]PORT"
 * (a socketcand rawmode server; the owner reads and writes slcan text) or else a pty published
 * at the symlink spec (NULL: not published) with baud as its line speed. One line in err. */
rig_rc host_stream_serve(struct host_stream *s, const char *spec, uint32_t baud,
                         char *err, size_t errcap);

/* The firmware core's stream over s (valid while s is open). */
struct rig_io host_stream_io(struct host_stream *s);
/* Closes and clears s; a cleared s is a no-op. */
void host_stream_close(struct host_stream *s);

#endif
