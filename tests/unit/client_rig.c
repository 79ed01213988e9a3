#include <string.h>

#include "client_rig.h"

void *client_rig_start(void *rig, size_t rig_size, const struct client_ops *ops, void *client,
		       struct client_cfg *cfg_store, const struct client_cfg *cfg,
		       struct fake_io *io, struct pack_state *ps)
{
	struct client_cfg c = CLIENT_CFG_DEFAULT;

	if (cfg)
		c = *cfg;
	memset(rig, 0, rig_size);
	*cfg_store = c;
	ops->init(client, cfg_store, fake_io_stream(io), ps);
	return rig;
}
