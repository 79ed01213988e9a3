/* The firmware core: a client, the policy and the telemetry line behind one HAL.
 * rig_fw_step never blocks and never sleeps; ports call it as often as they like. */
#ifndef BMSRIG_FW_H
#define BMSRIG_FW_H

#include <stdint.h>
#include "bmsrig/core/client.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/byd_client.h"
#include "bmsrig/core/daly_client.h"
#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/core/jbd_client.h"
#include "bmsrig/core/jk_ble_client.h"
#include "bmsrig/core/jk_pb_client.h"
#include "bmsrig/core/jk_client.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/core/pylon_rs485_client.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/pylon_can_client.h"
#include "bmsrig/core/policy.h"
#include "bmsrig/core/telemetry.h"
#include "bmsrig/core/thornwave_client.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fw_hal {
	struct rig_io bms;                               /* the BMS link */
	void *ctx;                                       /* for the calls below */
	uint32_t (*now_ms)(void *ctx);                   /* monotonic */
	void (*set_relay)(void *ctx, uint8_t closed);
	void (*telemetry)(void *ctx, const char *line);  /* one line, no newline */
	void (*log)(void *ctx, const char *msg);         /* optional: may be NULL */
	/* Optional: the report as the struct, in place of the line (an in-process judge in
	 * lockstep reads the fields without formatting and parsing text back). */
	void (*report)(void *ctx, const struct telemetry *t);
};

/* The protocols the core speaks. jbd-ble is the JBD client behind a BLE bridge: the same
 * bytes, slower and in pieces. */
enum fw_proto {
	FW_PROTO_JBD = 0, FW_PROTO_JBD_BLE, FW_PROTO_DALY, FW_PROTO_DALY_BLE, FW_PROTO_JK, FW_PROTO_JK_BLE,
	FW_PROTO_DEYE_MODBUS,
	FW_PROTO_PYLON_RS485,
	FW_PROTO_PYLON_CAN,
	FW_PROTO_BYD,
	FW_PROTO_JK_PB,
	FW_PROTO_THORNWAVE,
	FW_PROTO_THORNWAVE_X,
	FW_PROTO_COUNT
};

/* Name, client table and default timing of each protocol. */
struct fw_proto_info {
	const char *name;
	const struct client_ops *ops;
	uint32_t timeout_ms;          /* the client's default request timeout */
	uint8_t client_flags;         /* added to client_cfg.flags, e.g. the Bluetooth host address */
};
extern const struct fw_proto_info rig_fw_protos[FW_PROTO_COUNT];
/* By name ("jbd", "daly", ...); -1 when unknown. */
int rig_fw_proto_find(const char *name);

struct fw_cfg {
	enum fw_proto proto;
	struct client_cfg client;
	struct policy_cfg policy;
	uint8_t policy_drives_fets;   /* also ask the BMS to switch its FETs off with the relay */
};

#define FW_FETS_UNSET 0xFFu

struct fw {
	struct fw_hal hal;
	struct fw_cfg cfg;
	struct pack_state pack;
	struct policy policy;
	uint8_t have_data;
	uint8_t fets_asked;           /* FET state last asked of the BMS: 1 on, 0 off, FW_FETS_UNSET */
	const struct client_ops *ops;
	/* The telemetry line is built here, not on the stack: 640 B is more than the ESP8266's
	 * stack budget for the whole core (docs/nodemcu.md). */
	char line[TELEMETRY_LINE_MAX];
	union {                       /* one member per client struct */
		struct jbd_client jbd;
		struct daly_client daly;
		struct jk_client jk;
		struct jk_ble_client jk_ble;
		struct deye_modbus_client deye_modbus;
		struct pylon_client pylon;
		struct pylon_can_client pylon_can;
		struct byd_client byd;
		struct jk_pb_client jk_pb;
		struct thornwave_client thornwave;
	} client;
};

void rig_fw_init(struct fw *fw, const struct fw_hal *hal, const struct fw_cfg *cfg);
void rig_fw_step(struct fw *fw, uint32_t now_ms);
/* The earliest time rig_fw_step may do anything when no byte reaches the BMS link before it
 * (the client's next poll, send, timeout or pause end); now_ms when it should step at every
 * tick (a client without deadlines to tell). A port may sleep until then or until input. */
#ifndef RIG_FIRMWARE   /* as rig_client_ops_next_due_ms (client.h) */
uint32_t rig_fw_next_due_ms(const struct fw *fw, uint32_t now_ms);
#endif
const struct client_stats *rig_fw_stats(const struct fw *fw);

#ifdef __cplusplus
}
#endif

#endif
