/* A SocketCAN backend: the emulator on a Linux CAN interface (a USB adapter's can0, or vcan0
 * for a test), through an AF_CAN raw socket. The personalities speak slcan text; frames are
 * translated both ways with the core's slcan codec (slcan.h), so a personality runs unchanged
 * on a pty, TCP, socketcand or a real bus. Like a node on a real bus, it answers nothing but
 * frames: slcan adapter commands a personality might write have no meaning here.
 *
 * Kernels without CAN (CONFIG_CAN unset, as on the development machines and CI here) refuse
 * the socket with EAFNOSUPPORT: sim_socketcan_open then fails with one line that names the
 * other ways (RIG_ERR_UNSUPPORTED). */
#ifndef BMSRIG_SIM_SOCKETCAN_H
#define BMSRIG_SIM_SOCKETCAN_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/sim.h"

#define SOCKETCAN_NO_KERNEL_CAN \
	"socketcan: this kernel has no CAN support (EAFNOSUPPORT); use --link PATH (slcan on a pty), " \
	"tcp:PORT or socketcand:PORT"

struct sim_socketcan;

/* iface: an interface name ("can0", "vcan0"). */
rig_rc sim_socketcan_new(struct sim_socketcan **out, const char *iface, char *err, size_t errcap);
void sim_socketcan_close(struct sim_socketcan *c);
const char *sim_socketcan_path(const struct sim_socketcan *c);   /* "socketcan:IFACE" */
int sim_socketcan_fd(const struct sim_socketcan *c);
/* The personality's side: slcan text in and out (serial.h conventions). */
int32_t sim_socketcan_read(struct sim_socketcan *c, uint8_t *buf, uint16_t cap);
int32_t sim_socketcan_write(struct sim_socketcan *c, const uint8_t *buf, uint16_t n);

/* For sim.c: the transport as a struct sim_transport (iface after "socketcan:"). */
rig_rc sim_socketcan_open(struct sim_transport *t, const char *iface, char *err, size_t errcap);

#endif
