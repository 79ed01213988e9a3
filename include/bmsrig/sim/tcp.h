/* The emulator's TCP transport: the BMS byte stream on a TCP listener, for clients that speak
 * to a network port instead of a serial one (python-can's slcan reads
 * channel='socket://127.0.0.1:PORT', a TCP-to-serial bridge, a raw socket in a test).
 *
 * One client at a time, and the newest wins: a client that connects while another is
 * connected replaces it (the old one is closed). A TCP peer that vanished without a FIN (a
 * killed VM, a pulled cable) looks live for minutes; refusing newcomers would lock the line
 * for that long, while replacing the old client is what reopening a serial port does. A
 * client's close counts like a pty close (sim_tcp_closes); a client that only shuts its
 * sending side (socat after its input ends) counts as closed too but still gets what the
 * emulator writes until a write fails. What the emulator writes while no client is connected
 * is lost, as on a UART with nobody listening.
 *
 * The listener binds 127.0.0.1 unless the spec names another numeric IPv4 address: the
 * emulator has no authentication, so reaching it from elsewhere must be asked for.
 * Read and write conventions: serial.h (a write never blocks longer than
 * HOST_TTY_WRITE_WAIT_MS; a client gone mid-write is a close, not an error). */
#ifndef BMSRIG_SIM_TCP_H
#define BMSRIG_SIM_TCP_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"

struct sim_tcp;

/* spec: "PORT" or "ADDR:PORT" (ADDR a dotted IPv4 address; PORT 0 lets the kernel choose,
 * sim_tcp_path then names the port it chose). On failure *out is NULL and err holds one
 * line (RIG_ERR_ARG: a bad spec; RIG_ERR_IO: the socket, bind or listen failed). */
rig_rc sim_tcp_open(struct sim_tcp **out, const char *spec, char *err, size_t errcap);
void sim_tcp_close(struct sim_tcp *t);
/* "tcp:ADDR:PORT", with the port actually bound. */
const char *sim_tcp_path(const struct sim_tcp *t);
uint16_t sim_tcp_port(const struct sim_tcp *t);
/* Poll this for readability: it fires for client bytes and for clients coming and going.
 * Call sim_tcp_read whenever it does (it may return 0). */
int sim_tcp_fd(const struct sim_tcp *t);
int32_t sim_tcp_read(struct sim_tcp *t, uint8_t *buf, uint16_t cap);
int32_t sim_tcp_write(struct sim_tcp *t, const uint8_t *buf, uint16_t n);
/* Clients that went away (closed, half-closed, reset, or replaced by a newer one), clients
 * accepted, and whether one is connected and still sending. */
uint32_t sim_tcp_closes(const struct sim_tcp *t);
uint32_t sim_tcp_connects(const struct sim_tcp *t);
int sim_tcp_connected(const struct sim_tcp *t);

/* Parses a tcp spec ("PORT" or "ADDR:PORT") into host byte order values; RIG_ERR_ARG with why. */
rig_rc sim_tcp_parse(const char *spec, uint32_t *addr, uint16_t *port, char *why, size_t whycap);

#endif
