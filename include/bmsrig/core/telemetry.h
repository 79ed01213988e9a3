/* The telemetry line (docs/architecture.md contract): "BMSRIG " + one JSON object, integers only. */
#ifndef BMSRIG_TELEMETRY_H
#define BMSRIG_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TELEMETRY_PREFIX "BMSRIG "
#define TELEMETRY_LINE_MAX 640u   /* 32 cells and 8 temps fit with room */

/* The optional `inv` object of a bridge (bridge.h): what the inverter port announces and the
 * packs behind it. */
struct telemetry_inv {
	const struct rig_inv_battery *battery;   /* cvl, ccl, dcl, dvl, soc, request, prot, alarm */
	uint8_t online_packs;
	uint8_t pack_count;                      /* entries of the two arrays below */
	uint8_t pack_ok[RIG_INV_MODULES_MAX];    /* each pack's last cycle succeeded */
	uint32_t pack_age_ms[RIG_INV_MODULES_MAX];   /* since its last good cycle */
};

struct telemetry {
	uint32_t ms;
	const char *proto;
	uint8_t ok;
	const struct pack_state *pack;
	uint8_t relay;
	uint16_t comm_fail;
	uint32_t reasons;             /* policy reasons, reported as `why` */
	const struct telemetry_inv *inv;   /* NULL: no `inv` object (a lone BMS, as before) */
};

/* Writes the line without a newline, NUL-terminated. Returns its length, or 0 when cap is
 * too small (nothing half-written is left meaningful: out[0] = 0). */
size_t rig_telemetry_format(char *out, size_t cap, const struct telemetry *t);

#ifdef __cplusplus
}
#endif

#endif
