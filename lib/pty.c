/* The published pty (pty.h says what it promises and why): bmssim's links, bmsmon's inverter port. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "bmsrig/lib/pty.h"
#include "bmsrig/lib/path_check.h"
#include "bmsrig/lib/serial.h"

struct host_pty {
	int master, slave;
	int watch;          /* inotify on the slave node, -1 without */
	int poll_fd;        /* epoll over master and watch: one fd for the caller's loop */
	uint32_t baud;
	char path[64];
	char *link;         /* the symlink we published, or NULL */
	char *lock;         /* LINK.lock, whose flock says the link name is ours; or NULL */
	int lock_fd;
	uint32_t closes;    /* client closes seen (bursts of closes may count once) */
};

static int cloexec(int fd)
{
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The holder's program name (bmssim, bmsmon), for the message that says who has a link. */
static const char *holder_name(long pid)
{
	static char name[32];
	char path[48];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(name, 1, sizeof name - 1, f);
		fclose(f);
	}
	while (n && (name[n - 1] == '\n' || name[n - 1] == ' '))
		n--;
	name[n] = '\0';
	return n ? name : "process";
}

static void say(char *err, size_t errcap, const char *what, const char *path, int e)
{
	if (err && errcap)
		snprintf(err, errcap, "%s: %s: %s", path, what, strerror(e));
}

/* Who owns a link name: whoever holds an flock on LINK.lock, with its pid written inside. The
 * kernel lets go of the lock when its holder dies, however it dies, so a link left by kill -9
 * is known stale for sure, and a live emulator's link is never taken over. */
static rig_rc lock_take(struct host_pty *p, const char *link_path, char *err, size_t errcap)
{
	size_t cap = strlen(link_path) + sizeof ".lock";
	char *lock = malloc(cap), pid[24];
	int tries, fd, n;

	if (!lock) {
		say(err, errcap, "cannot lock", link_path, ENOMEM);
		return RIG_ERR_IO;
	}
	snprintf(lock, cap, "%s.lock", link_path);
	for (tries = 0; tries < 8; tries++) {
		struct stat fst, pst;

		/* Never followed: in a sticky shared folder someone else may have planted it. */
		fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			say(err, errcap, "cannot open the lock file", lock, errno);
			free(lock);
			return RIG_ERR_ARG;
		}
		if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_uid != geteuid()) {
			if (err && errcap)
				snprintf(err, errcap, "%s: expected a plain file of ours (uid %u)", lock,
				         (unsigned)geteuid());
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			ssize_t got = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : -1;
			long holder = got > 0 ? (pid[got] = '\0', strtol(pid, NULL, 10)) : 0;

			if (e != EWOULDBLOCK)
				say(err, errcap, "cannot lock", lock, e);
			else if (holder > 0)
				snprintf(err, errcap, "%s is held by %s pid %ld", link_path, holder_name(holder), holder);
			else
				snprintf(err, errcap, "%s is held by another process", link_path);
			break;
		}
		/* A holder on its way out removes the file before letting go: the lock we got counts
		 * only if it is on the file the name still leads to. */
		if (lstat(lock, &pst) == 0 && pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino) {
			n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
				say(err, errcap, "cannot write the lock file", lock, errno);
				break;
			}
			p->lock = lock;
			p->lock_fd = fd;
			return RIG_OK;
		}
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	else
		say(err, errcap, "cannot lock", lock, EAGAIN);
	free(lock);
	return RIG_ERR_ARG;
}

/* Atomic replace: a reader of link_path sees the old target or the new one, never nothing. */
static rig_rc publish(struct host_pty *p, const char *link_path, char *err, size_t errcap)
{
	size_t cap = strlen(link_path) + 32;
	char dir[PATH_MAX], *tmp = malloc(cap), *keep = strdup(link_path);
	struct stat st;
	rig_rc rc = RIG_ERR_IO;

	if (!tmp || !keep) {
		say(err, errcap, "cannot publish link", link_path, ENOMEM);
		goto out;
	}
	if (!*link_path || host_path_folder(link_path, dir, sizeof dir) != RIG_OK) {
		say(err, errcap, "cannot publish link", link_path, !*link_path ? ENOENT : ENAMETOOLONG);
		rc = RIG_ERR_ARG;
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		say(err, errcap, "cannot create directory", dir, errno);
		goto out;
	}
	/* Whoever may write in the folder could swap the link for one of their own. */
	if ((rc = host_dir_check(dir, HOST_DIR_NO_OTHER_WRITERS, "link", err, errcap)) != RIG_OK ||
	    (rc = lock_take(p, link_path, err, errcap)) != RIG_OK)
		goto out;
	rc = RIG_ERR_ARG;
	if (lstat(link_path, &st) == 0 && !S_ISLNK(st.st_mode)) {
		if (err && errcap)
			snprintf(err, errcap, "%s: exists and is not a symlink; not replacing it",
			         link_path);
		goto out;
	}
	if (lstat(link_path, &st) == 0 && st.st_uid != geteuid()) {
		if (err && errcap)
			snprintf(err, errcap, "%s: a symlink of uid %u; not replacing it", link_path,
			         (unsigned)st.st_uid);
		goto out;
	}
	rc = RIG_ERR_IO;
	snprintf(tmp, cap, "%s.tmp%ld", link_path, (long)getpid());
	unlink(tmp);   /* left by a crashed run that had our pid */
	if (symlink(p->path, tmp) != 0 || rename(tmp, link_path) != 0) {
		say(err, errcap, "cannot publish link", link_path, errno);
		unlink(tmp);
		goto out;
	}
	p->link = keep;
	keep = NULL;
	rc = RIG_OK;
out:
	free(tmp);
	free(keep);
	return rc;
}

/* Our own slave fd was opened before the watch, so only clients' opens and closes show up
 * (O_PATH opens show nothing). inotify merges identical events that are still unread, so
 * they say that clients came or went, never how many are there. */
static void watch_start(struct host_pty *p)
{
	p->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->watch >= 0 && inotify_add_watch(p->watch, p->path, IN_OPEN | IN_CLOSE) < 0) {
		close(p->watch);
		p->watch = -1;
	}
}

static void watch_drain(struct host_pty *p)
{
	_Alignas(struct inotify_event) char buf[4096];
	uint32_t seen = 0;
	ssize_t n;

	if (p->watch < 0)
		return;
	while ((n = read(p->watch, buf, sizeof buf)) > 0) {
		const char *q = buf;

		while (q < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)q;

			seen |= ev->mask;
			q += sizeof *ev + ev->len;
		}
	}
	/* Whatever waits in the slave's input was written for a client that has gone, or
	 * before this one came: like a replugged UART, start the line empty. */
	if (seen & (IN_OPEN | IN_CLOSE))
		tcflush(p->slave, TCIFLUSH);
	/* A departed client's termios changes (echo, CR mapping...) would outlive it. */
	if (seen & IN_CLOSE) {
		(void)host_tty_raw(p->slave, p->baud);
		p->closes++;
	}
}

uint32_t host_pty_closes(const struct host_pty *p)
{
	return p->closes;
}

rig_rc host_pty_open(struct host_pty **out, const char *link_path, uint32_t baud,
                    char *err, size_t errcap)
{
	struct host_pty *p;
	struct epoll_event ev;
	rig_rc rc;

	*out = NULL;
	if (err && errcap)
		err[0] = '\0';
	if (!host_serial_baud_ok(baud)) {
		if (err && errcap)
			snprintf(err, errcap, "pty: %u baud is not a standard rate", (unsigned)baud);
		return RIG_ERR_ARG;
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		say(err, errcap, "cannot open", "pty", ENOMEM);
		return RIG_ERR_IO;
	}
	p->master = p->slave = p->watch = p->poll_fd = p->lock_fd = -1;
	p->baud = baud;
	if (openpty(&p->master, &p->slave, NULL, NULL, NULL) != 0 ||
	    (errno = ttyname_r(p->slave, p->path, sizeof p->path)) != 0 ||
	    cloexec(p->master) != 0 || cloexec(p->slave) != 0 ||
	    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK) != 0 ||
	    host_tty_raw(p->slave, baud) != RIG_OK || host_tty_raw(p->master, baud) != RIG_OK) {
		say(err, errcap, "cannot open", "pty", errno);
		host_pty_close(p);
		return RIG_ERR_IO;
	}
	watch_start(p);
	p->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	if (p->poll_fd < 0 || epoll_ctl(p->poll_fd, EPOLL_CTL_ADD, p->master, &ev) != 0 ||
	    (p->watch >= 0 && epoll_ctl(p->poll_fd, EPOLL_CTL_ADD, p->watch, &ev) != 0)) {
		say(err, errcap, "cannot poll", p->path, errno);
		host_pty_close(p);
		return RIG_ERR_IO;
	}
	if (link_path && (rc = publish(p, link_path, err, errcap)) != RIG_OK) {
		host_pty_close(p);
		return rc;
	}
	*out = p;
	return RIG_OK;
}

void host_pty_close(struct host_pty *p)
{
	char target[sizeof p->path];
	ssize_t n;

	if (!p)
		return;
	if (p->link) {
		/* Another emulator may have taken the name over since: leave its link alone. */
		n = readlink(p->link, target, sizeof target - 1);
		if (n >= 0 && (target[n] = '\0', strcmp(target, p->path) == 0))
			unlink(p->link);
		free(p->link);
	}
	if (p->lock) {
		unlink(p->lock);   /* before letting go: lock_take's check relies on this order */
		free(p->lock);
	}
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	if (p->poll_fd >= 0)
		close(p->poll_fd);
	if (p->watch >= 0)
		close(p->watch);
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	free(p);
}

const char *host_pty_path(const struct host_pty *p)
{
	return p->path;
}

int host_pty_fd(const struct host_pty *p)
{
	return p->poll_fd;
}

/* The watch only needs reading when the wake-up was its own: with bytes from the master, a
 * pending watch event keeps poll_fd readable and is drained at the next call, so a request
 * costs one read(), not two. (Only the slave's input is flushed on an open, never what the
 * master reads, so the order of the two does not matter here; before a write it does.) */
int32_t host_pty_read(struct host_pty *p, uint8_t *buf, uint16_t cap)
{
	int32_t n = host_tty_read(p->master, buf, cap);
	int e = errno;

	if (n <= 0) {
		watch_drain(p);
		errno = e;                /* the caller may ask what the master's read met */
	}
	return n;
}

int32_t host_pty_write(struct host_pty *p, const uint8_t *buf, uint16_t n)
{
	watch_drain(p);   /* a client that has just come must not get the previous one's tail */
	return host_tty_write(p->master, buf, n);
}
