/* What every protocol client shares: configuration, status and the result of one step. */
#ifndef BMSRIG_CLIENT_H
#define BMSRIG_CLIENT_H

#include <stdint.h>

struct client_cfg {
	uint32_t poll_ms;         /* start of one cycle to the start of the next */
	uint32_t timeout_ms;      /* request to complete reply */
	uint32_t gap_ms;          /* longest pause inside one reply */
	uint8_t retries;          /* resends per request after the first try */
	uint32_t backoff_ms;      /* wait before the 2nd resend, doubled for each later one;
	                           * the 1st resend goes at once (a sleeping BMS drops the
	                           * first frame after idle, jbd.md §12.1) */
};
#define CLIENT_CFG_DEFAULT { 1000u, 500u, 200u, 3u, 100u }

enum client_event {
	CLIENT_BUSY = 0,          /* nothing finished in this step */
	CLIENT_CYCLE_OK,          /* a full poll cycle landed in the pack_state */
	CLIENT_CYCLE_FAIL         /* a cycle gave up after its retries */
};

struct client_stats {
	uint32_t cycles_ok, cycles_failed;
	uint32_t requests, timeouts, resends;
	uint32_t error_replies;   /* valid frames carrying an error status */
	uint16_t comm_fail;       /* consecutive failed cycles */
	uint8_t ok;               /* the last cycle succeeded */
};

#endif
