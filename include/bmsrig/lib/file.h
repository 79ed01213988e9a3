/*
 * User files, read and written safely: the one place every host program opens a file the user
 * named (a scenario, a state file, a config, a trace, a profile CSV) or writes one (a state
 * file, a JUnit report, a screenshot).
 *
 * Reading: a FIFO, a device, a socket or a folder given where a file belongs would block a
 * reader forever or read without end, so only a regular file is read, and never more than the
 * caller's cap. Writing: the new file is written under a fresh temporary name in the target's
 * folder, created exclusively (so a symlink planted at a predictable name is never followed),
 * synced, then renamed over the target: a reader sees the old file or the new one, never half.
 *
 * Errors are one line naming the file: "PATH: cannot open: No such file or directory",
 * "PATH: not a regular file", "PATH: larger than N bytes", "PATH: cannot write: ...".
 */
#ifndef BMSRIG_LIB_FILE_H
#define BMSRIG_LIB_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "bmsrig/core/rc.h"

/* A regular file opened for reading (never blocks on a FIFO); NULL with err set. */
FILE *host_file_open_read(const char *path, char *err, size_t errcap);

/* The whole of a regular file of at most max_len bytes, malloc'd and NUL-terminated (the NUL
 * is not counted in *len); NULL with err set. */
char *host_file_read_all(const char *path, size_t max_len, size_t *len, char *err, size_t errcap);

/* A file being written: write to f, then commit (or abort). */
struct host_file_out {
	FILE *f;
	char path[4096];
	char tmp[4096 + 32];
};

/* Creates the temporary file beside path: mode 0666 less the umask, or the mode of the file
 * it will replace. */
rig_rc host_file_out_open(struct host_file_out *o, const char *path, char *err, size_t errcap);
/* Flushes, syncs and renames over the target; on any failure the temporary file is removed and
 * the target is left as it was. Closes f either way. */
rig_rc host_file_out_commit(struct host_file_out *o, char *err, size_t errcap);
/* Closes f and removes the temporary file; the target is left as it was. */
void host_file_out_abort(struct host_file_out *o);

/* The three steps for bytes already in memory. */
rig_rc host_file_write_atomic(const char *path, const void *bytes, size_t len, char *err, size_t errcap);

#endif
