/* For tests/arduino-check: built with one PlatformIO env's flags against firmware/core/fw.c
 * built with the same flags, it prints the protocol BMSRIG_PROTO names and every protocol the
 * build carries, and exits 1 unless the named one is in and every other row uses its client
 * (jbd and jbd-ble share one, as do daly and daly-ble): the board carries its protocol only. */
#include <stdio.h>

#include "bmsrig/core/fw.h"

int main(void)
{
	const struct fw_proto_info *want = &rig_fw_protos[BMSRIG_PROTO];
	int ok = want->ops != NULL;
	unsigned i;

	printf("%s (the rows built:", want->ops ? want->name : "(not built)");
	for (i = 0; i < FW_PROTO_COUNT; i++) {
		if (!rig_fw_protos[i].ops)
			continue;
		printf(" %s", rig_fw_protos[i].name);
		if (rig_fw_protos[i].ops != want->ops)
			ok = 0;
	}
	printf(")\n");
	return ok ? 0 : 1;
}
