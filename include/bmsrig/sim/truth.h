/* What the emulator knew when it answered: exact model values, before the BMS rounded them.
 * The emulator makes these; the runner compares the DUT's reports with them. */
#ifndef BMSRIG_TRUTH_H
#define BMSRIG_TRUTH_H

#include <stdint.h>
#include "bmsrig/core/pack_state.h"

/* Which parts of the pack a reply carried: a client's report combines several replies, each
 * taken at its own moment, so each part is judged against the samples that carried it. */
enum truth_part {
	TRUTH_PACK  = 1u << 0,         /* pack voltage and current */
	TRUTH_CELLS = 1u << 1,
	TRUTH_TEMPS = 1u << 2
};

struct truth_sample {
	uint32_t t_ms;
	unsigned parts;                /* enum truth_part bits */
	double pack_mV, current_mA;
	unsigned temp_count;
	double temp_dK[PACK_TEMPS_MAX];
	unsigned cell_count;
	double cell_mV[PACK_CELLS_MAX];
};

/* One unit of a protocol's resolution: how far a DUT may be from the truth. */
struct resolution {
	double pack_mV, current_mA, temp_dK, cell_mV;
};

#endif
