/* Deye Modbus master (the inverter's side): a non-blocking poller advanced by
 * rig_deye_modbus_client_step(now_ms). Each cycle reads the 22 input registers at 0x1000 of the
 * pack at cfg.address (0 = the protocol's default, 1) with FC 0x04, keeps them as the last
 * struct rig_inv_battery and fills the pack_state: pack voltage, current, SOC, capacities,
 * cycles, protections, switches; the block has no per-cell or per-probe values, so cell_mV
 * holds its highest and lowest cell and temp_dK its highest and lowest temperature, which is
 * what the safety policy needs. Deye has no FET command: set_fets does nothing on the wire. */
#ifndef BMSRIG_DEYE_MODBUS_CLIENT_H
#define BMSRIG_DEYE_MODBUS_CLIENT_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct deye_modbus_client {
	struct client_engine eng;    /* first (client.h) */
	struct modbus_rx rx;
	struct modbus_frame req;    /* the request in flight */
	struct rig_inv_battery inv;  /* the last block read */
	uint8_t have_inv;            /* inv holds a block */
};

CLIENT_API_DECLARE(deye_modbus);

#ifdef __cplusplus
}
#endif

#endif
