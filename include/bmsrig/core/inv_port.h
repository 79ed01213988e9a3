/*
 * The inverter port: the firmware plays the BATTERY toward a real inverter, through a second
 * struct rig_io beside the BMS side's (docs/inverter-port.md). Each step it is given the battery
 * record to announce (struct rig_inv_battery, e.g. what an aggregator computed) and, optionally,
 * the packs behind it; it reads the inverter's bytes, answers them with frames built by the core
 * codecs (pylon_can.c, pylon_rs485.c, deye_modbus.c: never a second copy of a layout) and keeps
 * statistics for the telemetry and the judge.
 *
 *   pylontech-can    slcan text on the io. RIG_INV_CAN_ADAPTER (default): the io is a pty or
 *                    socket whose far end is an slcan host (python-can's slcan, an inverter
 *                    stand-in), so the port answers the adapter commands (C, S6, O, V, N, F ...)
 *                    like a Lawicel adapter and, once the channel is open, writes the whole set
 *                    every period_ms, 0x351 first. RIG_INV_CAN_HOST: the io is a real USB slcan
 *                    adapter on the CAN bus; the port opens it (C, S6, O) and sends the set.
 *                    Either way the 0x305 keep-alives are counted and timed.
 *   pylontech-rs485  a slave at cfg.address (0: 2, the master module); it also answers ADR FF.
 *   deye-modbus      a slave at cfg.address (0x00..0x0E), and with per_pack at address + k for
 *                    pack k when the view gives per-pack records.
 *
 * C99, no heap, no floating point. Not reentrant: the reply buffers (a 15-module Pylontech
 * 0x42 is 2 KB on the wire) are one static scratch shared by every port, so step ports from one
 * thread.
 */
#ifndef BMSRIG_INV_PORT_H
#define BMSRIG_INV_PORT_H

#include <stdint.h>

#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/slcan.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rig_inv_proto {
	RIG_INV_PYLON_CAN = 0,       /* "pylontech-can" */
	RIG_INV_PYLON_RS485,         /* "pylontech-rs485" */
	RIG_INV_DEYE_MODBUS,         /* "deye-modbus" */
	RIG_INV_PROTO_COUNT
};

enum rig_inv_can_mode {
	RIG_INV_CAN_ADAPTER = 0,     /* the far end of the io is an slcan host: act as the adapter */
	RIG_INV_CAN_HOST             /* the io is an slcan adapter: open it, then send frames */
};

#define RIG_INV_PORT_PERIOD_MS   1000u    /* the Pylontech CAN set once a second */
#define RIG_INV_PORT_SILENCE_MS  5000u    /* no keep-alive / request this long: comm lost */
#define RIG_INV_PORT_TEXT_MAX    20u

struct rig_inv_port_cfg {
	uint8_t proto;               /* enum rig_inv_proto */
	uint8_t can_mode;            /* enum rig_inv_can_mode */
	uint8_t can_extras;          /* 1: 0x35A, 0x35F, 0x379 after the six frames */
	uint8_t address;             /* rs485: 0 = 2; deye: the (first) slave address, 0x00..0x0E */
	uint8_t per_pack;            /* deye: pack k answers at address + k (needs pack_records) */
	uint8_t comm_alarm;          /* 1: raise RIG_INV_ALARM_COMM in what is announced while the
	                              * inverter is silent for silence_ms (Pylontech CAN 0x35A/0x359
	                              * and the RS485 / Deye flags carry it where they can) */
	uint32_t period_ms;          /* CAN set period; 0 = RIG_INV_PORT_PERIOD_MS */
	uint32_t silence_ms;         /* 0 = RIG_INV_PORT_SILENCE_MS */
	/* Identity (0x51, 0x60, 0x93; Deye FC 0x11): NUL-terminated, cut to what the field holds;
	 * NULL = the defaults: model "US2000C" (RS485) or "BMSRIG" (Deye), manufacturer "PYLON",
	 * serial "BMSRIG0000000000" (RS485) or "BMSRIG" padded with '0' (Deye). */
	const char *model;
	const char *manufacturer;
	const char *serial;
	uint8_t sw_major, sw_minor;  /* 0.0 = 1.7 */
	/* RS485 0x47 thresholds; NULL = defaults of a 15-cell LFP module, with the record's CCL
	 * and DCL as the current limits. */
	const struct pylon_sys_param *sys_param;
};

/* What the port announces this step. battery is required; the rest is optional (0 / NULL). */
struct rig_inv_port_view {
	const struct rig_inv_battery *battery;   /* the battery as one (what CAN and 0x92 say) */
	uint8_t pack_count;                      /* packs behind it, <= RIG_INV_MODULES_MAX */
	const struct pack_state *packs;          /* RS485 0x42 / 0x44 / 0x61 per-module lists */
	const struct rig_inv_battery *pack_records; /* Deye per_pack: each pack's own block */
};

struct rig_inv_port_stats {
	uint32_t requests;           /* requests answered (RS485, Deye) or 0x305 keep-alives (CAN) */
	uint32_t replies;            /* frames written: replies, or CAN frames of the sets */
	uint32_t sets;               /* CAN: whole sets written */
	uint32_t error_replies;      /* RS485 RTN != 0, Deye exceptions */
	uint32_t bad_frames;         /* bytes that did not make a frame / line (garbled line) */
	uint32_t other_address;      /* well-formed requests for another slave: silence */
	uint32_t io_errors;          /* write refused or short, read error */
	uint32_t last_request_ms;    /* when the last request / keep-alive was heard */
	uint8_t heard;               /* 1 once one was heard */
};

struct rig_inv_port {
	struct rig_inv_port_cfg cfg;
	struct rig_io io;
	union {
		struct slcan_rx can;
		struct pylon_rx rs485;
		struct modbus_rx mb;
	} rx;
	uint32_t start_ms;           /* init: the silence clock until the first request */
	uint32_t next_set_ms;        /* CAN: when the next set is due */
	uint8_t can_open;            /* CAN: channel open (adapter mode: after 'O') */
	uint8_t can_bitrate;         /* CAN adapter mode: the S argument */
	struct rig_inv_port_stats st;
};

/* Starts the port on io with cfg (copied; the text pointers must outlive the port).
 * RIG_ERR_ARG for an unknown protocol or a Deye address above 0x0E. */
rig_rc rig_inv_port_init(struct rig_inv_port *p, const struct rig_inv_port_cfg *cfg, struct rig_io io,
                         uint32_t now_ms);
/* One step: reads what the io has (a bounded amount), answers it from *v, and on CAN writes the
 * set when due. Never blocks. RIG_OK, or RIG_ERR_IO when the io failed this step (counted). */
rig_rc rig_inv_port_step(struct rig_inv_port *p, uint32_t now_ms, const struct rig_inv_port_view *v);

/* CAN: send the set at the next step instead of at its period's end, the cadence then running
 * from there (a limit that fell to 0 should not wait up to a period to be heard). The polled
 * protocols answer from the view as asked: nothing to do. */
void rig_inv_port_send_now(struct rig_inv_port *p, uint32_t now_ms);

/* Milliseconds since the last request / keep-alive (since init while none came). */
uint32_t rig_inv_port_quiet_ms(const struct rig_inv_port *p, uint32_t now_ms);
/* 1 when that exceeds cfg.silence_ms: the communication alarm's condition. */
int rig_inv_port_comm_lost(const struct rig_inv_port *p, uint32_t now_ms);

/* "pylontech-can", "pylontech-rs485", "deye-modbus" <-> enum rig_inv_proto (for --inverter). */
rig_rc rig_inv_port_proto_parse(const char *name, uint8_t *proto);
const char *rig_inv_port_proto_name(uint8_t proto);

/* The Deye slave's answer to one request, shared with the emulator's personality so both
 * answer alike: *reply from r (FC 0x04 registers via rig_deye_mb_reg_value) or id (FC 0x11).
 * Returns 1 for a normal reply, 2 for an exception reply (illegal function, address, value),
 * 0 for silence (an FC 0x04 whose data is not 4 bytes). */
int rig_inv_port_deye_answer(const struct rig_inv_battery *r, const struct deye_mb_ident *id, uint8_t addr,
                             const struct modbus_frame *req, struct modbus_frame *reply);

/* The RS485 checks before a command is looked at, in the order a module makes them: VER (RTN
 * 01), CID1 (04), the command value's length (05) and value (06: another module's, or FF where
 * only the master may answer for all, 0x42 / 0x44), a system command 0x60-0x63 to a module that
 * is not the master (04). *value: the command value, me when the request has none. Shared with
 * the emulator's module. */
uint8_t rig_inv_port_pylon_check(const struct pylon_frame *req, uint8_t me, int master, uint8_t *value);

/* The slcan adapter's reply to a command that changes no state (V, v, N, F, Z, M, m, s, X, W,
 * Q), NULL for the others (S, O, L, C change the channel; anything else is refused with BEL).
 * Shared with the emulator's adapter. */
const char *rig_inv_port_adapter_reply(char cmd);

#ifdef __cplusplus
}
#endif

#endif
