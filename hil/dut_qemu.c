/* The virtual NodeMCU (firmware/port/qemu-lx106) as a device under test: a process on the
 * emulator's pty like the host bmsmon (hil/dut_host.c), running QEMU through its wrapper. Its
 * inverter port is the process kind's: the rig's pty, whose path the firmware opens through
 * semihosting (it cannot make a pty of its own). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/sim/scenario.h"

/* firmware/port/qemu-lx106/bmsmon-qemu of the tree this program was built in (it lives in
 * build/bin or build/asan/bin), found by walking up. */
static int qemu_program(const char *dir, char *out, size_t cap)
{
	char up[4096];
	int level;

	snprintf(up, sizeof up, "%s", dir);
	for (level = 0; level < 4; level++) {
		if ((size_t)snprintf(out, cap, "%s/firmware/port/qemu-lx106/bmsmon-qemu", up) < cap &&
		    access(out, X_OK) == 0)
			return 1;
		if (strlen(up) + 4 >= sizeof up)
			break;
		strcat(up, "/..");
	}
	snprintf(out, cap, "firmware/port/qemu-lx106/bmsmon-qemu not found above %s", dir);
	return 0;
}

static rig_rc qemu_open(void **self, const struct dut_env *env, char *err, size_t errcap)
{
	return dut_process_open(self, env, qemu_program, err, errcap);
}

/* Only the program differs from host: its start, stop, free, inverter and lines are host's
 * (the QEMU port's bridge mode takes --port up to RIG_BRIDGE_LINKS_MAX times, as bmsmon's). */
const struct dut_ops dut_qemu_ops = {
	.name = "qemu",
	.open = qemu_open,
	.start = dut_process_start,
	.stop = dut_process_stop,
	.status = dut_process_status,
	.free = dut_process_free,
	.inverter = dut_process_inverter,
	.lines_max = SCEN_LINES_MAX,
};
