#ifndef BMSRIG_CORE_SCRATCH_H
#define BMSRIG_CORE_SCRATCH_H
/*
 * The one scratch the clients decode a reply in: a frame copied out of the receive buffer and
 * what it decodes to. Several hundred bytes each, too much for the ESP8266's stack budget
 * (docs/nodemcu.md), and needed only inside one encode or rx_next call. The core runs one step
 * at a time (no threads; no interrupt calls into it), so every client of every link shares
 * it: its RAM is paid once, not per client or per bridge link. Nothing in it survives a call.
 */
#include <stdint.h>
#include "bmsrig/core/byd.h"
#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/jk_pb.h"
#include "bmsrig/core/modbus_rtu.h"
#include "bmsrig/core/thornwave.h"

#ifdef __cplusplus
extern "C" {
#endif

union rig_client_scratch {
	struct { struct jbd_frame frame; struct jbd_cells cells; } jbd;
	struct { struct jk_frame frame; struct jk_data data; } jk;
	struct jk_ble_cells jk_ble;
	struct { struct byd_frame frame; struct byd_data data; } byd;
	struct { struct modbus_frame frame; uint16_t regs[DEYE_MB_BLOCK_COUNT]; } deye;
	struct jk_pb_item jk_pb;
	struct {
		uint8_t pdu[TW_ATT_PDU_MAX];
		struct tw_att att;
		struct tw_value val;             /* a read's value */
		uint8_t cobs[TW_COBS_MAX];       /* the stream's: a COBS frame and its decoding */
		struct tw_monitor mon;
	} tw;
};

extern union rig_client_scratch rig_client_scratch;

#ifdef __cplusplus
}
#endif

#endif
