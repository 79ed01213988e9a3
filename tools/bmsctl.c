/* bmsctl: minimal: the full bmsctl comes from wt-ctl. This one only dispatches `tap`
 * (tools/bmsctl_tap.c), so that the tap builds and is tested on its own branch. */
#include <stdio.h>
#include <string.h>

#include "bmsrig/lib/cli.h"
#include "bmsctl.h"

static void usage(FILE *f)
{
	fputs("usage: bmsctl tap --bms PORT --client PATH [options]   (see bmsctl tap --help)\n"
	      "Talks to a real BMS. tap: sit between a client and a BMS and log every frame.\n", f);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "tap"))
		return bmsctl_tap_main(argc - 1, argv + 1);
	fprintf(stderr, "bmsctl: expected a command: tap (see --help)\n");
	return CLI_EXIT_USAGE;
}
