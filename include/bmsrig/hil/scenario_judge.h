/*
 * The judgement in a scenario file, bmssim run's part of it (scenarios/README.md): the device
 * under test (`dut`: its protocol, timing and policy), the inverter the rig plays toward it
 * (`inverter`: protocol, address, poll or keep-alive) and what it must show (`expect`). The
 * emulator reads the rest, the world (scenario.h); scenario_judge_load reads both in one walk
 * of the file, so every error is still one line "FILE:LINE:COLUMN: what was expected".
 */
#ifndef BMSRIG_SCENARIO_JUDGE_H
#define BMSRIG_SCENARIO_JUDGE_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/hil/expect.h"
#include "bmsrig/hil/rig_inverter.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/scenario.h"

#define SCEN_EXPECT_MAX 64u

struct scen_dut {
	struct fw_cfg fw;         /* proto from the BMS kind unless given; client timing; policy */
	uint8_t relay_cuts_current; /* an open relay stops the load and the charger (default 1) */
	uint32_t step_ms;         /* lockstep: how often rig_fw_step runs (default 5 ms) */
};

struct scenario_judge {
	struct scen_dut dut;
	/* `inverter`: the rig plays the inverter on the DUT's inverter port (rig_inverter.h);
	 * inverter.on 0 when the file has none. */
	struct rig_inverter_cfg inverter;
	struct expect_spec expect[SCEN_EXPECT_MAX];
	unsigned n_expect;
};

/* scenario_load and scenario_parse (scenario.h) with the judgement into j; s is freed on error. */
rig_rc scenario_judge_load(struct scenario *s, struct scenario_judge *j, const char *path,
                           long long seed_override, char *err, size_t errcap);
rig_rc scenario_judge_parse(struct scenario *s, struct scenario_judge *j, const char *text, size_t len,
                            const char *path, long long seed_override, int read_files,
                            char *err, size_t errcap);

#endif
