/*
 * The rig plays the inverter (issue 13, docs/inverter-port.md "The rig as the inverter"): one of
 * the core's inverter-side clients (pylon_can_client.h, pylon_rs485_client.h,
 * deye_modbus_client.h) run by the judge against the device under test's inverter port, keeping
 * the last battery record the device announced and when it came. The expectations read it as
 * inv.* (expect.h: struct expect_env's inv_dut, inv_records, inv_age_ms).
 *
 * The line is any struct rig_io: a pty the runner made and handed to a process DUT
 * (`bmsmon --inverter PROTO:PATH`), or an in-process pair in lockstep. Nothing here blocks;
 * step it from the runner's loop as often as the DUT is stepped (every few ms).
 *
 *   pylontech-can    the rig is the slcan host: it opens the DUT's adapter (C, S6, O), sends
 *                    the 0x305 keep-alive every keepalive_ms (when keepalive is on) and decodes
 *                    every whole set the DUT sends, asked for or not.
 *   pylontech-rs485  the rig polls the module at address (0 = 2) every poll_ms: 0x42, 0x44,
 *                    0x92, 0x47; a record is a whole cycle.
 *   deye-modbus      the rig reads the 22 registers at 0x1000 of the slave at address (0 = 1)
 *                    every poll_ms; a record is one read.
 */
#ifndef BMSRIG_RIG_INVERTER_H
#define BMSRIG_RIG_INVERTER_H

#include <stdint.h>

#include "bmsrig/core/deye_modbus_client.h"
#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/io.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/core/pylon_can_client.h"
#include "bmsrig/core/pylon_rs485_client.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/wire_fault.h"

/* What a scenario's `inverter` object says (scenarios/README.md); zeroed = no inverter. */
struct rig_inverter_cfg {
	uint8_t on;                  /* the scenario declares an inverter */
	uint8_t proto;               /* enum rig_inv_proto (inv_port.h) */
	uint8_t address;             /* rs485: 0 = 2; deye: 0 = 1; CAN: unused */
	uint8_t keepalive;           /* CAN: 1 = send 0x305 (default); 0 = a silent listener */
	uint32_t poll_ms;            /* rs485 / deye: the cadence; CAN: the keep-alive period */
	uint32_t timeout_ms;         /* a poll's answer, or the set after a keep-alive */
};

/* The defaults a scenario's `inverter` starts from: 1000 ms cadence, keep-alive on, the
 * timeout RIG_INVERTER_TIMEOUT_MS (CAN: the battery's set period plus a margin, as the set
 * answers the keep-alive only when it next comes round). */
#define RIG_INVERTER_POLL_MS     1000u
#define RIG_INVERTER_TIMEOUT_MS  500u
#define RIG_INVERTER_CAN_TIMEOUT_MS 1500u
void rig_inverter_cfg_default(struct rig_inverter_cfg *cfg, uint8_t proto);

struct rig_inverter {
	struct rig_inverter_cfg cfg;
	struct rig_io line;          /* the DUT's inverter line, as given */
	union {
		struct pylon_can_client can;
		struct pylon_client rs485;
		struct deye_modbus_client mb;
	} c;
	struct pack_state ps;        /* what the client fills besides the record (unused here) */
	struct rig_inv_battery last; /* the last record decoded from the DUT */
	uint32_t last_ms;            /* when it came */
	uint32_t records;            /* records decoded so far (0: last is not valid) */
	uint32_t dropped_keepalives; /* CAN with keepalive off: 0x305 kept off the line */
	/* Line faults on what the DUT sends (rig_inverter_faults); NULL = a clean line. Each read
	 * of the DUT's bytes counts as one "reply" (wire_faults_reply), so a fault hits what one
	 * step brought in; its result waits in pend for the client's reads. */
	struct wire_faults *faults;
	uint8_t pend[256 + WIRE_FAULT_GROWTH];
	size_t pend_at, pend_len;
};

/* Starts the client on line (v must not move afterwards: the client writes through it).
 * RIG_ERR_ARG for an unknown protocol. */
rig_rc rig_inverter_init(struct rig_inverter *v, const struct rig_inverter_cfg *cfg, struct rig_io line);
/* One step at now_ms: the client polls or listens; a new record lands in last. */
void rig_inverter_step(struct rig_inverter *v, uint32_t now_ms);
/* The last record and its time, or NULL before the first. */
const struct rig_inv_battery *rig_inverter_last(const struct rig_inverter *v, uint32_t *at_ms);
/* The record into an expectation's environment: inv_dut (NULL before the first), inv_records,
 * inv_age_ms (now_ms - the record's time). v may be NULL (no inverter: inv.* read NaN). */
struct expect_env;
void rig_inverter_env(const struct rig_inverter *v, uint32_t now_ms, struct expect_env *env);
/* The faults to put on what the DUT sends (the timeline's inverter_faults); NULL: none. Any
 * late_reply delay is not applied (the scenario does not offer it on this line). */
void rig_inverter_faults(struct rig_inverter *v, struct wire_faults *faults);
/* The client's statistics (requests, timeouts, failed cycles). */
const struct client_stats *rig_inverter_stats(const struct rig_inverter *v);

#endif
