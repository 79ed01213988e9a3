/* The battery's word to an inverter: limits, requests and flags computed from the pack and the
 * BMS's settings, in the neutral record every inverter-side codec encodes (core/inverter.h).
 * Every inverter personality (pylontech-can, pylontech-rs485, deye-modbus) calls this; none
 * computes a limit of its own. */
#ifndef BMSRIG_SIM_BMS_LIMITS_H
#define BMSRIG_SIM_BMS_LIMITS_H

#include "bmsrig/core/inverter.h"
#include "bmsrig/sim/bms.h"

/* One module's record from its BMS's last step: state, limits, requests, flags. */
void bms_inverter_limits(const struct bms *b, struct rig_inv_battery *out);

/* Several modules behind one battery (modules[0..n-1], n >= 1): one record as the master
 * module announces it (voltage averaged, currents summed, SOC weighted by capacity, the
 * limits the modules allow together, flags or'd, module_count = n). */
void bms_inverter_combine(const struct rig_inv_battery *modules, unsigned n, struct rig_inv_battery *out);

#endif
