/*
 * libFuzzer: the Pylontech RS485 payload decoders on hostile INFO. Input: byte 0 picks the
 * command, the rest is INFO (up to PYLON_INFO_MAX bytes). abort() unless each decoder either
 * refuses or gives values that encode to exactly the same INFO (the typed round trip), and the
 * neutral views of what decoded stay in range.
 * Seeds: tests/fuzz/corpus/fuzz_pylon_rs485_payload/ (a command byte, then captured INFO).
 */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/pylon_rs485_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t cmds[] = { PYLON_CMD_ANALOG, PYLON_CMD_ALARM, PYLON_CMD_SYS_PARAM, PYLON_CMD_MFR_INFO,
                                PYLON_CMD_MGMT, PYLON_CMD_SERIAL, PYLON_CMD_SYS_BASIC, PYLON_CMD_SYS_ANALOG,
                                PYLON_CMD_SYS_ALARM, PYLON_CMD_SYS_MGMT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pylon_frame f, g;
	static struct pylon_analog a;
	static struct pylon_alarm al;
	struct pack_state s;
	struct rig_inv_battery b;
	rig_rc rc;

	if (size < 1 || size - 1 > PYLON_INFO_MAX)
		return 0;
	rig_pylon_response(&f, 2, PYLON_RTN_OK);
	f.info_len = (uint16_t)(size - 1);
	memcpy(f.info, data + 1, size - 1);
	rc = pylon_rs485_frame_rebuild(&f, cmds[data[0] % sizeof cmds], &g);
	if (rc == RIG_OK)
		CHECK(g.info_len == f.info_len && !memcmp(g.info, f.info, f.info_len));
	if (rig_pylon_analog_decode(&f, &a) == RIG_OK) {
		CHECK(a.module_count >= 1 && a.module_count <= PYLON_MODULES_MAX);
		memset(&s, 0, sizeof s);
		rig_pylon_to_pack_state(&a.m[0], rig_pylon_alarm_decode(&f, &al) == RIG_OK ? &al.m[0] : NULL, &s);
		CHECK(s.soc_pct <= 100u && s.cell_count <= PACK_CELLS_MAX && s.temp_count <= PACK_TEMPS_MAX);
		rig_pylon_analog_to_inv(&a, &b);
		CHECK(b.module_count == a.module_count && b.cell_min_mV <= b.cell_max_mV);
	}
	return 0;
}
