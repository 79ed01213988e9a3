/* Pylontech RS485 master (the inverter's side): a non-blocking poller on the transaction
 * engine. Each cycle asks the module at cfg.address (0: 2, the master) for 0x42 analogue
 * values, 0x44 alarms, 0x92 charge management and 0x47 system parameters; 0x42 and 0x44 must
 * answer, 0x92 and 0x47 may be missing (older packs) or refused with an RTN. It fills pack_state
 * and keeps the last decoded battery record. */
#ifndef BMSRIG_PYLON_RS485_CLIENT_H
#define BMSRIG_PYLON_RS485_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/pylon_rs485.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pylon_client {
	struct client_engine eng;    /* first (client.h): cadence, timeouts, resends, stats */
	struct pylon_rx rx;
	struct pylon_frame req;      /* the request in flight */
	struct pylon_frame got;      /* the frame being judged */
	struct pylon_analog analog;  /* 0x42 of the cycle in progress */
	struct pylon_alarm alarm;    /* 0x44 of the cycle in progress */
	struct pylon_mgmt mgmt;      /* 0x92 of the cycle in progress */
	struct pylon_sys_param param;/* 0x47, when the module answered it */
	uint8_t have_mgmt, have_param;
	struct rig_inv_battery inv;  /* the last complete cycle, as the battery announced it */
};

/* set_fets: the protocol has no FET command; the request is kept and never sent. */
CLIENT_API_DECLARE(pylon);

#ifdef __cplusplus
}
#endif

#endif
