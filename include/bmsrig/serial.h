/* Host serial access for bmsmon and bmssim. A port is named by its path whatever it is: real
 * ports go through libserialport (enumeration, settings, modem lines later), pseudo-terminals
 * and anything else libserialport refuses go through termios on a plain fd (design.md,
 * "Transports"). Reads never block; both backends share the fd-level I/O below.
 *
 * Read convention (rig_serial_read, rig_tty_read, rig_pty_read): bytes read, 0 when nothing
 * is waiting, RIG_ERR_IO when the line is gone (EIO, hangup).
 * Write convention: all n bytes, or fewer / RIG_ERR_TIMEOUT when the line stayed full for
 * RIG_TTY_WRITE_WAIT_MS, or RIG_ERR_IO. */
#ifndef BMSRIG_SERIAL_H
#define BMSRIG_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/io.h"
#include "bmsrig/rc.h"

#define RIG_TTY_WRITE_WAIT_MS 100u

struct rig_serial;

/* baud 8N1, no flow control, non-blocking. On failure *out is NULL and err holds one line
 * naming the path and the cause, e.g. "/dev/ttyUSB9: cannot open: no such device".
 * RIG_ERR_ARG: baud is not a standard rate; RIG_ERR_IO: the port cannot be opened. */
rig_rc rig_serial_open(struct rig_serial **out, const char *path, uint32_t baud,
                       char *err, size_t errcap);
void rig_serial_close(struct rig_serial *s);
int rig_serial_fd(const struct rig_serial *s);     /* for poll(); owned by s */
int32_t rig_serial_read(struct rig_serial *s, uint8_t *p, uint16_t cap);
int32_t rig_serial_write(struct rig_serial *s, const uint8_t *p, uint16_t n);
void rig_serial_flush_input(struct rig_serial *s);
/* The firmware core's stream over s (valid while s is open). */
struct rig_io rig_serial_io(struct rig_serial *s);

/* Modem control lines, for a bench: a board's relay pin wired to an input (CTS, DSR, DCD, RI)
 * of a USB-serial adapter, and its reset and boot pins on the outputs (DTR, RTS). Real ports
 * only (libserialport): a pty has none, RIG_ERR_UNSUPPORTED. "cts", "dsr", "dcd", "ri",
 * "dtr", "rts" by name through rig_line_find (-1 when unknown). */
enum rig_line { RIG_LINE_CTS = 0, RIG_LINE_DSR, RIG_LINE_DCD, RIG_LINE_RI, RIG_LINE_DTR, RIG_LINE_RTS,
                RIG_LINE_COUNT };
int rig_line_find(const char *name);
int rig_line_is_input(enum rig_line line);
/* *level 1 asserted, 0 not. */
rig_rc rig_serial_get_line(struct rig_serial *s, enum rig_line line, int *level);
rig_rc rig_serial_set_line(struct rig_serial *s, enum rig_line line, int level);

/* Real serial ports the OS knows (ptys are not listed). usb_vid/usb_pid are -1 when the
 * port is not on USB; description is never NULL. */
rig_rc rig_serial_list(void (*cb)(void *ctx, const char *path, const char *description,
                                  int usb_vid, int usb_pid), void *ctx);

/* 1 when baud is a standard rate (50 .. 4000000) the host can set. */
int rig_serial_baud_ok(uint32_t baud);

/* fd-level helpers, shared with sim/pty.c. rig_tty_raw: raw 8N1 at baud, receiver on, no
 * modem control, no flow control, VMIN 1 / VTIME 0 (RIG_ERR_ARG: bad baud or not a tty). */
rig_rc rig_tty_raw(int fd, uint32_t baud);
int32_t rig_tty_read(int fd, uint8_t *p, uint16_t cap);
int32_t rig_tty_write(int fd, const uint8_t *p, uint16_t n);

#endif
