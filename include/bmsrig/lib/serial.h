/* Host serial access for bmsmon and bmssim. A port is named by its path whatever it is: real
 * ports go through libserialport (enumeration, settings, modem lines later), pseudo-terminals
 * and anything else libserialport refuses go through termios on a plain fd (docs/architecture.md,
 * "Transports"). Reads never block; both backends share the fd-level I/O below.
 *
 * Read convention (host_serial_read, host_tty_read, host_pty_read): bytes read, 0 when nothing
 * is waiting, RIG_ERR_IO when the line is gone (EIO, hangup).
 * Write convention: all n bytes, or fewer / RIG_ERR_TIMEOUT when the line stayed full for
 * HOST_TTY_WRITE_WAIT_MS, or RIG_ERR_IO. */
#ifndef BMSRIG_SERIAL_H
#define BMSRIG_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/io.h"
#include "bmsrig/core/rc.h"

#define HOST_TTY_WRITE_WAIT_MS 100u

struct host_serial;

/* baud 8N1, no flow control, non-blocking. On failure *out is NULL and err holds one line
 * naming the path and the cause, e.g. "/dev/ttyUSB9: cannot open: no such device".
 * RIG_ERR_ARG: baud is not a standard rate; RIG_ERR_IO: the port cannot be opened. */
rig_rc host_serial_open(struct host_serial **out, const char *path, uint32_t baud,
                       char *err, size_t errcap);
void host_serial_close(struct host_serial *s);
int host_serial_fd(const struct host_serial *s);     /* for poll(); owned by s */
int32_t host_serial_read(struct host_serial *s, uint8_t *p, uint16_t cap);
int32_t host_serial_write(struct host_serial *s, const uint8_t *p, uint16_t n);
void host_serial_flush_input(struct host_serial *s);
/* The firmware core's stream over s (valid while s is open). */
struct rig_io host_serial_io(struct host_serial *s);

/* Modem control lines, for a bench: a board's relay pin wired to an input (CTS, DSR, DCD, RI)
 * of a USB-serial adapter, and its reset and boot pins on the outputs (DTR, RTS). Real ports
 * only (libserialport): a pty has none, RIG_ERR_UNSUPPORTED. "cts", "dsr", "dcd", "ri",
 * "dtr", "rts" by name through host_line_find (-1 when unknown). */
enum host_line { HOST_LINE_CTS = 0, HOST_LINE_DSR, HOST_LINE_DCD, HOST_LINE_RI, HOST_LINE_DTR, HOST_LINE_RTS,
                HOST_LINE_COUNT };
int host_line_find(const char *name);
int host_line_is_input(enum host_line line);
/* *level 1 asserted, 0 not. */
rig_rc host_serial_get_line(struct host_serial *s, enum host_line line, int *level);
rig_rc host_serial_set_line(struct host_serial *s, enum host_line line, int level);

/* Real serial ports the OS knows (ptys are not listed). usb_vid/usb_pid are -1 when the
 * port is not on USB; description is never NULL. */
rig_rc host_serial_list(void (*cb)(void *ctx, const char *path, const char *description,
                                  int usb_vid, int usb_pid), void *ctx);

/* 1 when baud is a standard rate (50 .. 4000000) the host can set. */
int host_serial_baud_ok(uint32_t baud);

/* fd-level helpers, shared with lib/pty.c. host_tty_raw: raw 8N1 at baud, receiver on, no
 * modem control, no flow control, VMIN 1 / VTIME 0 (RIG_ERR_ARG: bad baud or not a tty). */
rig_rc host_tty_raw(int fd, uint32_t baud);
int32_t host_tty_read(int fd, uint8_t *p, uint16_t cap);
int32_t host_tty_write(int fd, const uint8_t *p, uint16_t n);
/* Why the line on fd is gone, in a few words for a one-line message ("hangup", "I/O error",
 * "device gone", ...), or NULL when it is not: from poll()'s view of fd now and e, the errno
 * of the read or write that failed (0: none). One wording for bmsmon and bmssim. */
const char *host_tty_lost(int fd, int e);

#endif
