/* The battery as an inverter sees it: one protocol-neutral record that the battery-to-inverter
 * codecs (Pylontech CAN, Pylontech RS485, Deye Modbus) encode and decode. The emulator fills it
 * from its pack and BMS logic (sim/bms_limits.c); an inverter-side client, the runner and the
 * aggregator read it back from the wire. Units are in every name; + current = charging. */
#ifndef BMSRIG_INVERTER_H
#define BMSRIG_INVERTER_H

#include <stdint.h>

#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RIG_INV_MODULES_MAX 15u      /* modules behind one battery (Deye addresses 0x00-0x0E) */
#define RIG_INV_NAME_MAX    20u      /* manufacturer / model text, not NUL-counted */

/* What the battery asks of the inverter (Pylontech 0x35C / RS485 0x92 status bits). */
enum rig_inv_request {
	RIG_INV_CHG_ENABLE   = 1u << 0,
	RIG_INV_DSG_ENABLE   = 1u << 1,
	RIG_INV_FORCE_CHG_1  = 1u << 2,   /* "charge immediately" (low SOC, e.g. 5-9 %) */
	RIG_INV_FORCE_CHG_2  = 1u << 3,   /* "charge before shutdown" (e.g. 9-13 %) */
	RIG_INV_FULL_CHG_REQ = 1u << 4    /* SOC has not reached ~97 % for a long time */
};

/* Alarms beyond enum pack_prot's: raised on the battery's own account. */
enum rig_inv_alarm {
	RIG_INV_ALARM_COMM   = 1u << 0,   /* the inverter's keep-alive stopped; from the aggregator: a
	                                   * pack silent for comm_alarm_ms (aggregator.h) */
	RIG_INV_ALARM_SYSTEM = 1u << 1    /* BMS internal error */
};

/* The BMS's switches as a protocol reports them (Deye 0x1007 bits 10-11). */
enum rig_inv_fet {
	RIG_INV_FET_CHG = 1u << 0,
	RIG_INV_FET_DSG = 1u << 1
};

struct rig_inv_battery {
	/* Limits the battery announces. */
	uint32_t cvl_mV;              /* charge voltage limit */
	uint32_t dvl_mV;              /* discharge voltage limit */
	int32_t ccl_mA;               /* charge current limit, >= 0 */
	int32_t dcl_mA;               /* discharge current limit, a magnitude >= 0 */
	uint8_t request;              /* enum rig_inv_request bits */
	/* State. */
	uint8_t soc_pct, soh_pct;
	uint16_t soc_cpct;            /* SOC in 0.01 % (high-resolution, 0x355 bytes 4-5) */
	uint32_t pack_mV;
	int32_t current_mA;
	uint16_t temp_dK;             /* representative (average) temperature */
	uint16_t cell_max_mV, cell_min_mV;
	uint16_t temp_max_dK, temp_min_dK;
	uint32_t remain_mAh, full_mAh, design_mAh;
	uint16_t cycles;
	/* Flags: protections active, warnings (approaching a protection), own alarms. */
	uint32_t prot;                /* enum pack_prot bits */
	uint32_t warn;                /* enum pack_prot bits, as warnings */
	uint8_t alarm;                /* enum rig_inv_alarm bits */
	uint8_t module_count;         /* modules in parallel behind this battery, >= 1 */
	uint8_t soc_clamp;            /* 1: the SOC fields follow the Deye clamp (100 while CCL is 0,
	                               * 0 while DCL is 0); remain_mAh / full_mAh keep the true SOC */
	char manufacturer[RIG_INV_NAME_MAX + 1];   /* "PYLON" */
	/* Carried by Deye's Modbus block; 0 = not known (a personality falls back to temp_dK). */
	uint16_t temp_env_dK;         /* environment (ambient) temperature */
	uint16_t temp_mos_dK;         /* MOSFET temperature */
	uint8_t fets;                 /* enum rig_inv_fet bits: switches on */
};

#ifdef __cplusplus
}
#endif

#endif
