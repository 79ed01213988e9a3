/* Folder checks (path_check.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsrig/lib/path_check.h"

static const char *const expected[] = {
	[HOST_DIR_PRIVATE] = "a folder of ours only we can enter (mode 0700)",
	[HOST_DIR_NO_OTHER_WRITERS] = "a folder of ours or root's that no one else can write in, or a "
	                              "sticky one such as /tmp",
};

rig_rc host_dir_check(const char *dir, enum host_dir_rule rule, const char *what, char *err,
                      size_t errcap)
{
	uid_t me = geteuid();
	struct stat st;
	int ok;

	if (lstat(dir, &st) != 0) {
		snprintf(err, errcap, "%s folder %s: %s", what, dir, strerror(errno));
		return RIG_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errcap, "%s folder %s: expected %s; got %s", what, dir, expected[rule],
		         S_ISLNK(st.st_mode) ? "a symbolic link (never followed)" : "something else than a folder");
		return RIG_ERR_ARG;
	}
	if (rule == HOST_DIR_PRIVATE)
		ok = st.st_uid == me && !(st.st_mode & 077);
	else
		ok = (st.st_uid == me || st.st_uid == 0) &&
		     (!(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX));
	if (!ok) {
		snprintf(err, errcap, "%s folder %s: expected %s; got mode %04o, owner uid %u", what, dir,
		         expected[rule], (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

rig_rc host_path_folder(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);

	if (n >= cap)
		return RIG_ERR_ARG;
	if (!slash)
		memcpy(out, ".", 2);
	else {
		memcpy(out, path, n);
		out[n] = '\0';
	}
	return RIG_OK;
}
