/*
 * The Deye Modbus personality: a battery pack as a Deye hybrid inverter polls it over RS485
 * (docs/protocols/deye-modbus.md), a Modbus RTU slave at 9600 8N1 answering
 *   FC 0x04 on any registers (the 0x1000-0x1015 block from bms_inverter_limits; 0x1016 reads
 *           0, any other register 0xFFFF, as d4rkmen/virtual-bms answers Deye);
 *   FC 0x11 with the hand-built identity Deye expects (model * SW * HW * serial *);
 *   other functions, a count of 0 or over 125, or a range past 0xFFFF: a Modbus exception
 *           (01, 03, 02) when the `exceptions` quirk is on (default), silence when it is off
 *           (virtual-bms has its exception replies commented out).
 * Silence, as a real pack gives it: a frame for another address, a bad CRC, a pack that is
 * `absent` (a quirk a scenario or the control socket can set), and a pack whose BMS has not
 * been updated for `stale_after_ms` (virtual-bms drops packs older than 150 s).
 * Address: the spec's (1..0x0E); 0 means the default: 1 for a pack alone on its line, the
 * unit's number (0, 1, 2, ...) for packs sharing one line.
 * Replies are built only with the core's codec (bmsrig/core/deye_modbus.h).
 */
#ifndef BMSRIG_DEYE_MODBUS_PERSONALITY_H
#define BMSRIG_DEYE_MODBUS_PERSONALITY_H

#include <stdint.h>
#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/personality.h"

struct deye_mb_quirks {
	uint32_t latency_ms;        /* request to reply */
	uint32_t stale_after_ms;    /* silent when the BMS has not stepped for this long; 0 = never */
	uint8_t exceptions;         /* 1: Modbus exception replies; 0: silence instead */
	uint8_t absent;             /* 1: the pack is not there (silent) */
	uint8_t address;            /* the address answered; set by init and peers, or as a quirk */
};

extern const struct personality_ops deye_modbus_personality_ops;

#endif
