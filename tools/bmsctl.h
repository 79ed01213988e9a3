/* bmsctl's subcommands, each in its own file. */
#ifndef BMSRIG_BMSCTL_H
#define BMSRIG_BMSCTL_H

/* `bmsctl tap` (tools/bmsctl_tap.c): argv[0] is "tap". */
int bmsctl_tap_main(int argc, char **argv);

#endif
