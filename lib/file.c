/* User files, read and written safely (file.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* mkostemp; and O_CLOEXEC, O_DIRECTORY, fdopen */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsrig/lib/file.h"

FILE *host_file_open_read(const char *path, char *err, size_t errcap)
{
	struct stat st;
	FILE *f;
	int fd;

	/* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever, before the fstat
	 * below could refuse it. O_NOCTTY: a terminal named by mistake must not become ours. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

char *host_file_read_all(const char *path, size_t max_len, size_t *len, char *err, size_t errcap)
{
	FILE *f = host_file_open_read(path, err, errcap);
	struct stat st;
	char *text = NULL;
	size_t n = 0, cap;

	if (!f)
		return NULL;
	if (max_len > SIZE_MAX / 2)
		max_len = SIZE_MAX / 2;
	/* cap bytes are asked for, one more than the file's size: its size is only a first guess
	 * (a file can grow while it is read), and reaching max_len + 1 tells "too large". */
	cap = (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (uintmax_t)st.st_size < max_len ?
	       (size_t)st.st_size : max_len) + 1;
	for (;;) {
		char *more = realloc(text, cap + 1);

		if (!more) {
			snprintf(err, errcap, "%s: out of memory", path);
			break;
		}
		text = more;
		n += fread(text + n, 1, cap - n, f);
		if (n > max_len) {
			snprintf(err, errcap, "%s: larger than %zu bytes", path, max_len);
			break;
		}
		if (ferror(f)) {
			snprintf(err, errcap, "%s: cannot read: %s", path, strerror(errno));
			break;
		}
		if (n < cap) {                               /* the end of the file */
			fclose(f);
			text[n] = '\0';
			*len = n;
			return text;
		}
		cap = cap > max_len / 2 ? max_len + 1 : cap * 2;
	}
	fclose(f);
	free(text);
	return NULL;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* A rename is only durable once the folder's entry is on disk too. Best effort. */
static void fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

rig_rc host_file_out_open(struct host_file_out *o, const char *path, char *err, size_t errcap)
{
	struct stat old;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof *o);
	if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path) {
		snprintf(err, errcap, "%s: path too long", path);
		return RIG_ERR_ARG;
	}
	/* mkostemp creates its name with O_CREAT|O_EXCL, which refuses any name that exists, a
	 * symlink planted there included, and tries other names when one is taken. */
	snprintf(o->tmp, sizeof o->tmp, "%s.tmp.XXXXXX", path);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errcap, "%s: cannot write: %s", o->tmp, strerror(errno));
		o->tmp[0] = '\0';
		return RIG_ERR_IO;
	}
	/* mkostemp makes the file 0600; a file replaced keeps its permissions (a state file kept
	 * private stays private), a new one gets what a plain create would (0666 less the umask). */
	mask = umask(0);
	umask(mask);
	if (stat(path, &old) == 0 && S_ISREG(old.st_mode))
		(void)fchmod(fd, old.st_mode & 07777);
	else
		(void)fchmod(fd, 0666 & ~mask);
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		snprintf(err, errcap, "%s: cannot write: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return RIG_ERR_IO;
	}
	return RIG_OK;
}

void host_file_out_abort(struct host_file_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

rig_rc host_file_out_commit(struct host_file_out *o, char *err, size_t errcap)
{
	int bad = ferror(o->f) || fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
	int saved = bad ? (errno ? errno : EIO) : 0;

	if (fclose(o->f) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	o->f = NULL;
	if (!bad && rename(o->tmp, o->path) != 0) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		snprintf(err, errcap, "%s: cannot write: %s", o->path, strerror(saved));
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return RIG_ERR_IO;
	}
	o->tmp[0] = '\0';
	fsync_dir_of(o->path);
	return RIG_OK;
}

rig_rc host_file_write_atomic(const char *path, const void *bytes, size_t len, char *err, size_t errcap)
{
	struct host_file_out o;
	rig_rc rc = host_file_out_open(&o, path, err, errcap);

	if (rc != RIG_OK)
		return rc;
	if (len && fwrite(bytes, 1, len, o.f) != len) {
		snprintf(err, errcap, "%s: cannot write: %s", o.tmp, strerror(errno));
		host_file_out_abort(&o);
		return RIG_ERR_IO;
	}
	return host_file_out_commit(&o, err, errcap);
}
