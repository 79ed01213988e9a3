/* The Pylontech low-voltage CAN set (docs/protocols/pylontech-can.md): the frames a 48 V battery
 * broadcasts to its inverter every second, and the inverter's 0x305 keep-alive, to and from the
 * protocol-neutral struct rig_inv_battery. Little-endian fields; the battery sends DLC 8, zero
 * padded; the decoder also takes the shorter native DLCs real packs send (0x355 4, 0x359 7,
 * 0x35C 2) and reads a missing field as absent. */
#ifndef BMSRIG_PYLON_CAN_H
#define BMSRIG_PYLON_CAN_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/inverter.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/core/slcan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYLON_CAN_ID_KEEPALIVE 0x305u   /* inverter -> battery, 8 zero bytes */
#define PYLON_CAN_ID_LIMITS    0x351u   /* CVL, CCL, DCL, DVL */
#define PYLON_CAN_ID_SOC       0x355u   /* SOC, SOH, high-resolution SOC */
#define PYLON_CAN_ID_MEASURE   0x356u   /* voltage, current, temperature */
#define PYLON_CAN_ID_FLAGS     0x359u   /* protections, warnings, module count, "PN" */
#define PYLON_CAN_ID_REQUEST   0x35Cu   /* charge/discharge enable, force-charge requests */
#define PYLON_CAN_ID_NAME      0x35Eu   /* manufacturer, "PYLON   " */
#define PYLON_CAN_ID_ALARMS    0x35Au   /* extra: Victron/SMA 2-bit alarm and warning items */
#define PYLON_CAN_ID_INFO      0x35Fu   /* extra: model, firmware, capacity in Ah */
#define PYLON_CAN_ID_CAPACITY  0x379u   /* extra: installed capacity in Ah (Luxpower) */

/* Which frames of the set a decoder has seen (bit per frame, in set order). */
enum pylon_can_have {
	PYLON_CAN_HAVE_LIMITS   = 1u << 0,
	PYLON_CAN_HAVE_SOC      = 1u << 1,
	PYLON_CAN_HAVE_MEASURE  = 1u << 2,
	PYLON_CAN_HAVE_FLAGS    = 1u << 3,
	PYLON_CAN_HAVE_REQUEST  = 1u << 4,
	PYLON_CAN_HAVE_NAME     = 1u << 5,
	PYLON_CAN_HAVE_ALARMS   = 1u << 6,
	PYLON_CAN_HAVE_INFO     = 1u << 7,
	PYLON_CAN_HAVE_CAPACITY = 1u << 8
};
/* The six frames every Pylontech-protocol inverter expects. */
#define PYLON_CAN_HAVE_CORE 0x3Fu
#define PYLON_CAN_SET_MAX   9u

/* 0x359 byte 1: the "system error" bit the Pylon table names (1.3) and the one Battery-Emulator
 * and JK-BMSToPylontechCAN use (1.7); the encoder sets both, the decoder takes either. */
#define PYLON_CAN_359_SYS_ERR_A 0x08u
#define PYLON_CAN_359_SYS_ERR_B 0x80u

/* The frame with this id from rec (DLC 8, zero padded). RIG_ERR_UNSUPPORTED for an id outside
 * the set. Values beyond a field saturate. */
rig_rc rig_pylon_can_encode(uint32_t id, const struct rig_inv_battery *rec, struct rig_can_frame *f);
/* The whole set in the order it goes on the wire (0x351 first), the extras 0x35A, 0x35F and
 * 0x379 after it when extras is 1. Returns the count written to out[0..cap). */
size_t rig_pylon_can_encode_set(const struct rig_inv_battery *rec, int extras, struct rig_can_frame *out,
                                size_t cap);
/* One frame of the set into the fields it carries in *rec (others untouched) and its bit in
 * *have. RIG_ERR_UNSUPPORTED for another id (0x305 included) or a 29-bit frame, RIG_ERR_LENGTH
 * for a DLC shorter than the fields every sender fills. */
rig_rc rig_pylon_can_decode(const struct rig_can_frame *f, struct rig_inv_battery *rec, unsigned *have);
/* The inverter's keep-alive, and whether f is one (its content is never relied on). */
void rig_pylon_can_keepalive(struct rig_can_frame *f);
int rig_pylon_can_is_keepalive(const struct rig_can_frame *f);

#ifdef __cplusplus
}
#endif

#endif
