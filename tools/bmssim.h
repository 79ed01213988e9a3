/* bmssim's subcommands, each in its own file beside the main (tools/bmssim.c). Their argv[0]
 * is the subcommand's name; they return the process's exit status. */
#ifndef BMSRIG_TOOLS_BMSSIM_H
#define BMSRIG_TOOLS_BMSSIM_H

/* `bmssim run FILE... [--realtime] [--junit OUT.xml] [--trace OUT.jsonl] [--seed N] ...`:
 * 0 all passed, 1 an expectation failed, 2 bad input (tools/bmssim_run.c). */
int runner_main(int argc, char **argv);
/* `bmssim replay [options] TRACE` (tools/bmssim_replay.c). */
int replay_main(int argc, char **argv);

#endif
