/* The Pylontech low-voltage RS485 personality: a battery module an inverter polls over the
 * ASCII protocol (docs/protocols/pylontech-rs485.md). It answers at its address (default 2;
 * unit i of a line at 2 + i), and the master (unit 0) answers the all-modules queries (0x42 and
 * 0x44 with command value FF) and the system commands 0x60-0x63 for every module on its line. */
#ifndef BMSRIG_PYLON_RS485_PERSONALITY_H
#define BMSRIG_PYLON_RS485_PERSONALITY_H

#include "bmsrig/sim/personality.h"

extern const struct personality_ops pylon_rs485_personality_ops;

#endif
