/* The telemetry line (docs/architecture.md contract): "BMSRIG " + one JSON object, integers only. */
#ifndef BMSRIG_TELEMETRY_H
#define BMSRIG_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/pack_state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TELEMETRY_PREFIX "BMSRIG "
#define TELEMETRY_LINE_MAX 640u   /* 32 cells and 8 temps fit with room */

struct telemetry {
	uint32_t ms;
	const char *proto;
	uint8_t ok;
	const struct pack_state *pack;
	uint8_t relay;
	uint16_t comm_fail;
	uint32_t reasons;             /* policy reasons, reported as `why` */
};

/* Writes the line without a newline, NUL-terminated. Returns its length, or 0 when cap is
 * too small (nothing half-written is left meaningful: out[0] = 0). */
size_t rig_telemetry_format(char *out, size_t cap, const struct telemetry *t);

#ifdef __cplusplus
}
#endif

#endif
