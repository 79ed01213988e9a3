/* Which protocols a build carries (docs/nodemcu.md "Choosing the protocols"). A board carries
 * only what it reads: a build that defines RIG_PROTOS_CHOSEN keeps the BMS-side protocols it
 * defines RIG_WITH_<NAME> for, and one that defines RIG_INV_CHOSEN the inverter-side ones it
 * defines RIG_INV_WITH_<NAME> for (make lx106 LX_PROTOCOLS=..., LX_INVERTER=...). Without them
 * every protocol is in, as in every host build. The tables (fw.c, probe.c, inv_port.c) leave a
 * missing protocol's row empty, so its code is never referenced and the link drops it. */
#ifndef BMSRIG_CORE_WITH_H
#define BMSRIG_CORE_WITH_H

#ifndef RIG_PROTOS_CHOSEN
#define RIG_WITH_JBD 1
#define RIG_WITH_DALY 1
#define RIG_WITH_JK 1
#define RIG_WITH_JK_BLE 1
#define RIG_WITH_JK_PB 1
#define RIG_WITH_BYD 1
#define RIG_WITH_THORNWAVE 1
#define RIG_WITH_DEYE_MODBUS 1
#define RIG_WITH_PYLONTECH_RS485 1
#define RIG_WITH_PYLONTECH_CAN 1
#endif
#ifndef RIG_INV_CHOSEN
#define RIG_INV_WITH_PYLONTECH_CAN 1
#define RIG_INV_WITH_PYLONTECH_RS485 1
#define RIG_INV_WITH_DEYE_MODBUS 1
#endif

/* Every name 0 unless chosen, so that code can test it in a plain if (folded at compile time). */
#ifndef RIG_WITH_JBD
#define RIG_WITH_JBD 0
#endif
#ifndef RIG_WITH_DALY
#define RIG_WITH_DALY 0
#endif
#ifndef RIG_WITH_JK
#define RIG_WITH_JK 0
#endif
#ifndef RIG_WITH_JK_BLE
#define RIG_WITH_JK_BLE 0
#endif
#ifndef RIG_WITH_JK_PB
#define RIG_WITH_JK_PB 0
#endif
#ifndef RIG_WITH_BYD
#define RIG_WITH_BYD 0
#endif
#ifndef RIG_WITH_THORNWAVE
#define RIG_WITH_THORNWAVE 0
#endif
#ifndef RIG_WITH_DEYE_MODBUS
#define RIG_WITH_DEYE_MODBUS 0
#endif
#ifndef RIG_WITH_PYLONTECH_RS485
#define RIG_WITH_PYLONTECH_RS485 0
#endif
#ifndef RIG_WITH_PYLONTECH_CAN
#define RIG_WITH_PYLONTECH_CAN 0
#endif
#ifndef RIG_INV_WITH_PYLONTECH_CAN
#define RIG_INV_WITH_PYLONTECH_CAN 0
#endif
#ifndef RIG_INV_WITH_PYLONTECH_RS485
#define RIG_INV_WITH_PYLONTECH_RS485 0
#endif
#ifndef RIG_INV_WITH_DEYE_MODBUS
#define RIG_INV_WITH_DEYE_MODBUS 0
#endif

#endif
