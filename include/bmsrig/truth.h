/* What the emulator knew when it answered: exact model values, before the BMS rounded them.
 * The emulator makes these; the runner compares the DUT's reports with them. */
#ifndef BMSRIG_TRUTH_H
#define BMSRIG_TRUTH_H

#include <stdint.h>
#include "bmsrig/pack_state.h"

enum truth_part { TRUTH_PACK = 1, TRUTH_CELLS = 2 };

struct truth_sample {
	uint32_t t_ms;
	enum truth_part part;          /* which reply it stands behind */
	double pack_mV, current_mA;
	unsigned temp_count;
	double temp_dK[PACK_TEMPS_MAX];
	unsigned cell_count;
	double cell_mV[PACK_CELLS_MAX];
};

#endif
