/* A published pseudo-terminal, shared by the emulator's links and bmsmon's inverter port (both
 * play a device whose far end opens a serial port): clients open the slave (/dev/pts/N, or a stable symlink to
 * it) as if it were a serial port; the emulator reads and writes the master.
 *
 * The emulator holds a slave fd itself, so the master never sees EIO and keeps serving across
 * a client's close and reopen (docs/architecture.md, "Transports"). Holding it also keeps whatever the
 * emulator wrote and no client read, which a real UART would lose when its port closes. So
 * the pty watches the slave node (inotify) and treats every open or close of it by anyone as
 * a replug: it empties what waits for the client to read, and after a close it puts the slave
 * back into raw mode at the pty's baud (a departed client's echo or CR mapping would outlive
 * it otherwise). That work happens in host_pty_read and host_pty_write, and host_pty_fd wakes
 * the caller for it. A client reading within the emulator's wake-up latency of its open
 * could still see a previous session's tail; JBD clients flush before each request anyway
 * (docs/protocols/jbd.md §12.2). Without inotify the pty still serves, but nothing is discarded.
 * Read and write conventions: serial.h. */
#ifndef BMSRIG_PTY_H
#define BMSRIG_PTY_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"

struct host_pty;

/* link_path may be NULL. Otherwise a symlink link_path -> /dev/pts/N is published: its parent
 * directory is created 0700 when missing and must pass host_dir_check's
 * HOST_DIR_NO_OTHER_WRITERS rule; the name is ours while we hold an flock on link_path.lock
 * (a live holder: RIG_ERR_ARG, "LINK is held by PROGRAM pid N"); an existing symlink of ours
 * there is then stale and replaced atomically, anything else there is refused (RIG_ERR_ARG).
 * On failure *out is NULL and err holds one line. */
rig_rc host_pty_open(struct host_pty **out, const char *link_path, uint32_t baud,
                    char *err, size_t errcap);
/* Closes the master (clients see a hangup), removes the symlink if it still points here, and
 * the lock file. */
void host_pty_close(struct host_pty *p);
const char *host_pty_path(const struct host_pty *p);   /* /dev/pts/N */
/* Poll this for readability: it fires for client bytes and for clients coming and going.
 * Call host_pty_read whenever it does (it may return 0). */
int host_pty_fd(const struct host_pty *p);
int32_t host_pty_read(struct host_pty *p, uint8_t *buf, uint16_t cap);
int32_t host_pty_write(struct host_pty *p, const uint8_t *buf, uint16_t n);

/* How many times a client was seen to close the port (a burst of closes may count once): the
 * Bluetooth link model treats a close as the central going away. */
uint32_t host_pty_closes(const struct host_pty *p);

#endif
