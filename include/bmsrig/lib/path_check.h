/* Folders the emulator publishes names in (its control socket, its --link symlinks): checked
 * before anything is made there, because whoever can write in the folder can swap the name for
 * one of their own and have clients talk to it (docs/bmssim.md, "Links"). */
#ifndef BMSRIG_PATH_CHECK_H
#define BMSRIG_PATH_CHECK_H

#include <stddef.h>
#include "bmsrig/core/rc.h"

enum host_dir_rule {
	/* Ours, and no one else may even enter it (mode & 077 == 0): the control socket's
	 * default folder, which we make ourselves. */
	HOST_DIR_PRIVATE,
	/* Ours or root's, and no one else may write in it, unless it is sticky (as /tmp is: there
	 * others cannot remove or rename what we make). Any folder a user names with --link. */
	HOST_DIR_NO_OTHER_WRITERS,
};

/* RIG_OK when dir, never followed if a symbolic link, is a folder the rule allows. Otherwise
 * err holds one line, "WHAT folder DIR: expected ...; got ...", and the result is RIG_ERR_ARG
 * (RIG_ERR_IO: dir cannot be looked at). */
rig_rc host_dir_check(const char *dir, enum host_dir_rule rule, const char *what, char *err,
                      size_t errcap);

/* The folder path's last name is in: "." for a bare name, "/" for a name right under the root.
 * RIG_ERR_ARG when it does not fit in cap. */
rig_rc host_path_folder(const char *path, char *out, size_t cap);

#endif
