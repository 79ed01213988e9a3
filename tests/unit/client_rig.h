/*
 * What the client tests share: a rig, one protocol's client on a fake line. A test file's
 * `struct rig` holds at least
 *   struct fake_io io;  struct <proto>_client c;  struct pack_state ps;  struct client_cfg cfg;
 * (CLIENT_RIG(proto) declares one with just these), and the macros below work on any of them.
 */
#ifndef BMSRIG_TEST_CLIENT_RIG_H
#define BMSRIG_TEST_CLIENT_RIG_H

#include <stddef.h>

#include "bmsrig/core/client.h"
#include "fake_io.h"

#define CLIENT_RIG(proto) \
	struct rig { \
		struct fake_io io; \
		struct proto##_client c; \
		struct pack_state ps; \
		struct client_cfg cfg; \
	}

/*
 * Zeroes the rig (rig_size bytes at rig, which holds client, cfg_store, io and ps), stores cfg
 * in it (CLIENT_CFG_DEFAULT when cfg is NULL) and starts the client through its table on the
 * fake line io, filling ps. Returns rig.
 */
void *client_rig_start(void *rig, size_t rig_size, const struct client_ops *ops, void *client,
		       struct client_cfg *cfg_store, const struct client_cfg *cfg,
		       struct fake_io *io, struct pack_state *ps);
#define CLIENT_RIG_START(r, ops, conf) \
	client_rig_start((r), sizeof *(r), (ops), &(r)->c, &(r)->cfg, (conf), &(r)->io, &(r)->ps)

/* The client wrote exactly hex since the last check (which forgets it). */
#define assert_sent(r, hex) fake_io_assert_sent(&(r)->io, (hex))

#endif
