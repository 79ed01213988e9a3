/*
 * The bridge: the firmware as the battery's voice to an inverter (docs/aggregator.md, "The
 * bridge"). Several BMS links are read, their packs fed to the aggregator, the safety policy's
 * hold put on top, and the one battery announced by the inverter port on a second rig_io. A
 * port drives it all with one call, rig_bridge_step, as it drives struct fw with rig_fw_step:
 *
 *     static struct rig_bridge b;                // the port owns it: no heap (~6 KB, see below)
 *     struct rig_bridge_cfg cfg;
 *     rig_bridge_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
 *     cfg.link_count = 2;
 *     cfg.link[0].proto = FW_PROTO_JBD;          // one JBD on its own UART
 *     cfg.link[1].proto = FW_PROTO_DALY;         // a Daly RS485 bus with boards 1, 2 and 3
 *     cfg.link[1].addr_count = 3;
 *     cfg.link[1].addr[0] = 1; cfg.link[1].addr[1] = 2; cfg.link[1].addr[2] = 3;
 *     cfg.inverter = 1;
 *     cfg.inv.proto = RIG_INV_PYLON_CAN;
 *     hal.bms[0] = uart0_io; hal.bms[1] = rs485_io; hal.inverter = can_io; hal.now_ms = ...;
 *     if (rig_bridge_init(&b, &hal, &cfg, now_ms) != RIG_OK) ...;
 *     for (;;) rig_bridge_step(&b, now_ms);     // never blocks, never sleeps
 *
 * Packs are numbered across the links in order: link 0's addresses first (pack 0, 1, ...), then
 * link 1's. A link with addr_count > 1 is a bus: ONE client polls its addresses in turn (one
 * full cycle each, the client re-initialised for the next address), so fifteen packs on one
 * RS485 bus cost one client, and the round starts again poll_ms after the last one started.
 * A pack on a bus is read once a round, which may outlast the aggregator's stale time (fifteen
 * Daly packs at 9600 Bd: ~20 s): the bridge tells the aggregator each bus pack's read interval
 * (the longer of poll_ms, the last round and the current one so far), so such a pack is stale
 * only after RIG_AGG_STALE_READS missed rounds and alarms after RIG_AGG_ALARM_READS, when those
 * are longer than cfg.agg.stale_ms / comm_alarm_ms. A lone link keeps the fixed times.
 * Separate links each have their own client; RIG_BRIDGE_LINKS_MAX of them (a client is up to
 * 0.8 KB). The Pylontech RS485 client (a 6 KB buffer for a 15-module 0x42) is not offered on a
 * link: rig_bridge_init refuses it.
 *
 * Safety: each pack has its own struct policy on its last cycle's pack_state. The hold is the OR
 * of the cell and temperature reasons of the packs that are online, handed to the aggregator as
 * the directions they make unsafe (rig_bridge_hold_dirs: a high cell holds charging only, a low
 * cell or a temperature beyond the discharge window discharging only);
 * a silent pack is not a hold (the aggregator takes its share out, then raises the
 * communication alarm). The relay (optional hal.set_relay) is closed while nothing holds and at
 * least one pack is online.
 *
 * Telemetry: one line every report_ms, and at once when the relay changes: the usual keys
 * carry the aggregated battery (pack_mv, current_ma, soc_pct, prot, FETs; no cells or
 * temperatures), `proto` the first link's protocol, `ok` 1 when every pack's last cycle
 * succeeded, `comm_fail` the largest of the packs' counts, `why` the hold; and the object `inv`
 * with the limits announced and each pack's ok and age (docs/architecture.md, telemetry line).
 *
 * C99, no heap, no floating point.
 */
#ifndef BMSRIG_BRIDGE_H
#define BMSRIG_BRIDGE_H

#include <stdint.h>

#include "bmsrig/core/aggregator.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/policy.h"
#include "bmsrig/core/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RIG_BRIDGE_LINKS_MAX
#define RIG_BRIDGE_LINKS_MAX 4u       /* separate BMS links (UARTs, BLE); a bus counts as one */
#endif
#define RIG_BRIDGE_PACKS_MAX RIG_AGG_PACKS_MAX
#define RIG_BRIDGE_REPORT_MS 1000u    /* telemetry cadence when cfg.report_ms is 0 */

struct rig_bridge_hal {
	struct rig_io bms[RIG_BRIDGE_LINKS_MAX];          /* link i's line */
	struct rig_io inverter;                           /* the inverter port's line (cfg.inverter) */
	void *ctx;                                        /* for the calls below */
	void (*set_relay)(void *ctx, uint8_t closed);     /* optional: may be NULL */
	void (*telemetry)(void *ctx, const char *line);   /* one line, no newline; may be NULL */
	void (*log)(void *ctx, const char *msg);          /* optional: may be NULL */
	void (*report)(void *ctx, const struct telemetry *t);   /* optional: as fw_hal's */
};

struct rig_bridge_link_cfg {
	uint8_t proto;                /* enum fw_proto, not FW_PROTO_PYLON_RS485 */
	struct client_cfg client;     /* timing; .address for a lone BMS (addr_count 0 or 1: addr[0]
	                               * wins when addr_count is 1) */
	uint8_t addr_count;           /* > 1: a bus, these addresses polled in turn */
	uint8_t addr[RIG_BRIDGE_PACKS_MAX];
	uint32_t design_mAh;          /* each pack's design capacity, 0 = unknown (SOH) */
};

struct rig_bridge_cfg {
	uint8_t link_count;           /* 1..RIG_BRIDGE_LINKS_MAX */
	struct rig_bridge_link_cfg link[RIG_BRIDGE_LINKS_MAX];
	struct rig_agg_cfg agg;       /* pack_count is set by rig_bridge_init (the packs of the links) */
	struct policy_cfg policy;     /* every pack's (comm_fail_max is not used: silence is the
	                               * aggregator's) */
	uint8_t inverter;             /* 1: run the inverter port on hal.inverter with inv */
	struct rig_inv_port_cfg inv;
	uint32_t report_ms;           /* telemetry cadence; 0 = RIG_BRIDGE_REPORT_MS */
};

/* One pack as the bridge tracks it beside the aggregator's summary. */
struct rig_bridge_pack {
	struct policy policy;
	uint32_t cycles_ok, cycles_failed;
	uint16_t comm_fail;           /* consecutive failed cycles */
	uint8_t ok;                   /* its last cycle succeeded */
};

struct rig_bridge_link {
	const struct client_ops *ops;
	struct client_cfg ccfg;       /* the client's, address set per pack */
	struct pack_state work;       /* what the client fills, handed on after each cycle */
	uint8_t first_pack;           /* the pack index of addr 0 */
	uint8_t cur;                  /* the address being polled (a bus) */
	uint8_t resting;              /* a bus between rounds, until next_round_ms */
	uint32_t round_ms;            /* a bus: when the current round started */
	uint32_t next_round_ms;
	uint32_t last_round_ms;       /* a bus: how long its last full round took (0: none yet) */
	union {                       /* one member per client struct a link may run */
		struct jbd_client jbd;
		struct daly_client daly;
		struct jk_client jk;
		struct jk_ble_client jk_ble;
		struct deye_modbus_client deye_modbus;
		struct pylon_can_client pylon_can;
		struct jk_pb_client jk_pb;
	} client;
};

struct rig_bridge {
	struct rig_bridge_hal hal;
	struct rig_bridge_cfg cfg;
	uint8_t pack_count;
	struct rig_bridge_link link[RIG_BRIDGE_LINKS_MAX];
	struct rig_bridge_pack pack[RIG_BRIDGE_PACKS_MAX];
	struct rig_agg agg;
	struct rig_inv_battery battery;   /* what the inverter port announces (the last compute) */
	unsigned agg_flags;               /* enum rig_agg_flag of the last compute */
	uint32_t hold;                    /* enum policy_reason bits of online packs */
	uint8_t relay_closed;
	uint32_t computed_ms, next_report_ms;
	struct rig_inv_port port;
	char line[TELEMETRY_LINE_MAX];    /* the telemetry line: here, not on the ESP8266's stack */
};

/* Starts every link, the aggregator and (cfg->inverter) the inverter port; the relay is set
 * open. RIG_ERR_ARG for no link or too many, an unknown or refused protocol, more than
 * RIG_BRIDGE_PACKS_MAX packs, or an inverter configuration rig_inv_port_init refuses. */
rig_rc rig_bridge_init(struct rig_bridge *b, const struct rig_bridge_hal *hal, const struct rig_bridge_cfg *cfg,
                       uint32_t now_ms);
/* One step: every link's client, the aggregate, the policy's hold and relay, the inverter port
 * and the telemetry line when due. Never blocks. */
void rig_bridge_step(struct rig_bridge *b, uint32_t now_ms);

/* Defaults: no link, the aggregator's defaults for chem and cells, POLICY_CFG_LFP-like limits
 * derived from them (cell_ovp / cell_uvp, the charge window's ends), no inverter, 1 s reports. */
void rig_bridge_cfg_defaults(struct rig_bridge_cfg *cfg, enum rig_agg_chem chem, uint8_t cells);

/* Link lc as a monitor's flags give it (bmsmon's and the virtual NodeMCU's, one code for both):
 * protocol proto (enum fw_proto) with timing's poll_ms, timeout_ms (0: the protocol's,
 * rig_fw_protos) and retries, at the addresses addr[0..n): none, the protocol's default address;
 * one, a lone BMS there; more, a bus polled in turn. n is cut to RIG_BRIDGE_PACKS_MAX;
 * rig_bridge_init refuses whatever else does not fit. */
void rig_bridge_link_set(struct rig_bridge_link_cfg *lc, uint8_t proto, const struct client_cfg *timing,
                         const uint8_t *addr, uint8_t n);

/* The directions (enum rig_agg_hold) that policy reasons (enum policy_reason bits) hold at 0:
 * POLICY_CELL_HIGH charging; POLICY_CELL_LOW, POLICY_TEMP_HIGH and POLICY_TEMP_LOW (the policy
 * watches the discharge window) discharging; any other reason both; 0 none. */
unsigned rig_bridge_hold_dirs(uint32_t reasons);

/* Pack i's age: ms since its last good cycle (since init when none); 0xFFFFFFFF for a bad i. */
uint32_t rig_bridge_pack_age_ms(const struct rig_bridge *b, unsigned i, uint32_t now_ms);

#ifdef __cplusplus
}
#endif

#endif
