/* Raw TCP byte streams, esp-link / ser2net style: a serial line's bytes, unchanged, on a TCP
 * connection. Two halves:
 *
 * The listener (host_tcp_*) plays the device end: bmssim's BMS links and bmsmon's inverter port
 * serve their byte stream to clients that speak to a network port instead of a serial one
 * (python-can's slcan reads channel='socket://127.0.0.1:PORT', a TCP-to-serial bridge, a raw
 * socket in a test).
 *
 * One client at a time, and the newest wins: a client that connects while another is
 * connected replaces it (the old one is closed). A TCP peer that vanished without a FIN (a
 * killed VM, a pulled cable) looks live for minutes; refusing newcomers would lock the line
 * for that long, while replacing the old client is what reopening a serial port does. A
 * client's close counts like a pty close (host_tcp_closes); a client that only shuts its
 * sending side (socat after its input ends) counts as closed too but still gets what the
 * emulator writes until a write fails. What the emulator writes while no client is connected
 * is lost, as on a UART with nobody listening. Below, "the emulator" is whoever owns the listener.
 *
 * The listener binds 127.0.0.1 unless the spec names another numeric IPv4 address: the
 * emulator has no authentication, so reaching it from elsewhere must be asked for.
 * Read and write conventions: serial.h (a write never blocks longer than
 * HOST_TTY_WRITE_WAIT_MS; a client gone mid-write is a close, not an error). */
#ifndef BMSRIG_LIB_TCP_H
#define BMSRIG_LIB_TCP_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"

struct host_tcp;

/* spec: "PORT" or "ADDR:PORT" (ADDR a dotted IPv4 address; PORT 0 lets the kernel choose,
 * host_tcp_path then names the port it chose). On failure *out is NULL and err holds one
 * line (RIG_ERR_ARG: a bad spec; RIG_ERR_IO: the socket, bind or listen failed). */
rig_rc host_tcp_open(struct host_tcp **out, const char *spec, char *err, size_t errcap);
void host_tcp_close(struct host_tcp *t);
/* "tcp:ADDR:PORT", with the port actually bound. */
const char *host_tcp_path(const struct host_tcp *t);
uint16_t host_tcp_port(const struct host_tcp *t);
/* Poll this for readability: it fires for client bytes and for clients coming and going.
 * Call host_tcp_read whenever it does (it may return 0). */
int host_tcp_fd(const struct host_tcp *t);
int32_t host_tcp_read(struct host_tcp *t, uint8_t *buf, uint16_t cap);
int32_t host_tcp_write(struct host_tcp *t, const uint8_t *buf, uint16_t n);
/* Clients that went away (closed, half-closed, reset, or replaced by a newer one), clients
 * accepted, and whether one is connected and still sending. */
uint32_t host_tcp_closes(const struct host_tcp *t);
uint32_t host_tcp_connects(const struct host_tcp *t);
int host_tcp_connected(const struct host_tcp *t);

/* Parses a tcp spec ("PORT" or "ADDR:PORT") into host byte order values; RIG_ERR_ARG with why. */
rig_rc host_tcp_parse(const char *spec, uint32_t *addr, uint16_t *port, char *why, size_t whycap);

/* ---- the client: bmsmon's --port tcp:HOST:PORT ------------------------------------------

 * Reads a BMS that an esp-link, a ser2net or `bmssim serve --link tcp:...` puts on the network.
 * A lost connection (the far end closed, reset or went silent on a write) is not an error for
 * the caller: it is said once through note(), then the client tries to connect again every
 * HOST_TCP_RECONNECT_MS, as bmssim reopens a lost serial port, and says so when it is back.
 * Meanwhile reads give 0 and writes are lost, so a BMS client sees timeouts, as on an unplugged
 * adapter. host_tcp_client_fd stays the same fd across reconnects (an epoll set), so a poll
 * loop keeps it. Read and write conventions: serial.h. */
#define HOST_TCP_RECONNECT_MS 500u

struct host_tcp_client;

/* spec: "HOST:PORT", HOST a numeric IPv4 address or a name getaddrinfo resolves (the first
 * IPv4 or IPv6 address that answers wins), PORT 1-65535. The first connect is made here and
 * must succeed (RIG_ERR_IO: refused, unreachable; RIG_ERR_ARG: a bad spec or a name that does
 * not resolve), as a serial port must open; later losses reconnect. note may be NULL; it gets
 * one line without a newline, starting with the path ("tcp:HOST:PORT: ..."). */
rig_rc host_tcp_client_open(struct host_tcp_client **out, const char *spec,
                            void (*note)(void *ctx, const char *line), void *note_ctx,
                            char *err, size_t errcap);
void host_tcp_client_close(struct host_tcp_client *c);
const char *host_tcp_client_path(const struct host_tcp_client *c);   /* "tcp:HOST:PORT" */
int host_tcp_client_fd(const struct host_tcp_client *c);
/* Never RIG_ERR_IO: a loss starts reconnecting (see above). Either call also makes the next
 * connect attempt when one is due; host_tcp_client_tick does only that, for a caller that
 * neither reads nor writes for a while. */
int32_t host_tcp_client_read(struct host_tcp_client *c, uint8_t *buf, uint16_t cap);
int32_t host_tcp_client_write(struct host_tcp_client *c, const uint8_t *buf, uint16_t n);
void host_tcp_client_tick(struct host_tcp_client *c);
int host_tcp_client_connected(const struct host_tcp_client *c);
uint32_t host_tcp_client_losses(const struct host_tcp_client *c);

#endif
