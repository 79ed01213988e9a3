/* Bookkeeping every protocol client shares. */
#include "bmsrig/client.h"

enum client_event client_finish(struct client_stats *st, int ok)
{
	st->ok = (uint8_t)ok;
	if (ok) {
		st->cycles_ok++;
		st->comm_fail = 0;
		return CLIENT_CYCLE_OK;
	}
	st->cycles_failed++;
	if (st->comm_fail < 0xFFFFu)
		st->comm_fail++;
	return CLIENT_CYCLE_FAIL;
}

uint32_t client_backoff_ms(const struct client_cfg *cfg, uint8_t tries)
{
	unsigned shift;

	if (tries < 2)
		return 0;
	shift = tries - 2u < 16u ? tries - 2u : 16u;
	return cfg->backoff_ms << shift;
}
