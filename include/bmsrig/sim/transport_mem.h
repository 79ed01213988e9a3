/*
 * The in-process line: the emulator as a first-class endpoint of a client in the same process
 * (as Zephyr's uart_emul is), a transport like the pty but without a file descriptor, on the
 * event loop's clock. The emulator's side is a struct sim_transport; the client's a struct
 * rig_io. Bytes the emulator writes are on the line already (it paces its replies itself), so
 * the client reads them as soon as it next steps; a request reaches the emulator once its last
 * byte has crossed the line at the emulator's baud rate (sim_wire_ms).
 */
#ifndef BMSRIG_TRANSPORT_MEM_H
#define BMSRIG_TRANSPORT_MEM_H

#include "bmsrig/core/io.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/sim.h"

struct sim_mem;

/* RIG_ERR_SPACE when out of memory. */
rig_rc sim_mem_new(struct sim_mem **out);
void sim_mem_free(struct sim_mem *m);
/* The emulator's side, for sim_cfg.transport (path "in-process"). */
const struct sim_transport *sim_mem_emulator(struct sim_mem *m);
/* The emulator that now serves the line (after sim_open) and its loop: requests go to its
 * sim_input, each on a timer of loop. Before it, the client must not write. */
void sim_mem_attach(struct sim_mem *m, struct host_loop *loop, struct sim *sim);
/* The client's side: write never blocks (RIG_ERR_SPACE when too many requests are in flight). */
struct rig_io sim_mem_client(struct sim_mem *m);
/* on_bytes(ctx) runs each time the emulator puts bytes on the line for the client (NULL: none),
 * so a client that sleeps until it has something due can wake to read them. */
void sim_mem_on_bytes(struct sim_mem *m, void (*on_bytes)(void *ctx), void *ctx);

#endif
