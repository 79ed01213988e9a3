/* A device under test as a child process; its stdout comes back through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bmsrig/hil/hil.h"

extern char **environ;

struct dut_proc {
	pid_t pid;
	int fd;
	int status;
	int reaped;
	size_t have;
	char line[4096];
};

/* cmd with each {port} replaced; NULL when it would not fit. */
static char *expand(const char *cmd, const char *port)
{
	size_t cap = strlen(cmd) + 1, plen = strlen(port), n = 0;
	const char *p;
	char *out;

	for (p = cmd; (p = strstr(p, "{port}")); p += 6)
		cap += plen;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (p = cmd; *p;) {
		if (!strncmp(p, "{port}", 6)) {
			memcpy(out + n, port, plen);
			n += plen;
			p += 6;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

rig_rc dut_proc_start(struct dut_proc **out, const char *cmd, const char *port, int quiet_stderr,
                      char *err, size_t errcap)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct dut_proc *p;
	char *line;
	int pipefd[2], rc;

	*out = NULL;
	line = expand(cmd, port);
	p = calloc(1, sizeof *p);
	if (!line || !p || pipe(pipefd) != 0) {
		snprintf(err, errcap, "cannot start the device under test: %s", strerror(errno ? errno : ENOMEM));
		free(line);
		free(p);
		return RIG_ERR_IO;
	}
	/* Our end must not leak into the child, or its stdout would never read as closed. */
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	if (quiet_stderr)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	{
		char *argv[] = { "sh", "-c", line, NULL };

		/* Its own process group, so stopping it reaches what the shell started too. */
		posix_spawnattr_init(&attr);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
		rc = posix_spawn(&p->pid, "/bin/sh", &fa, &attr, argv, environ);
		posix_spawnattr_destroy(&attr);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	free(line);
	if (rc != 0) {
		snprintf(err, errcap, "cannot start the device under test: %s", strerror(rc));
		close(pipefd[0]);
		free(p);
		return RIG_ERR_IO;
	}
	p->fd = pipefd[0];
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	*out = p;
	return RIG_OK;
}

int dut_proc_fd(const struct dut_proc *p)
{
	return p->fd;
}

int dut_proc_pump(struct dut_proc *p, void (*on_line)(void *ctx, const char *line), void *ctx)
{
	for (;;) {
		ssize_t n = read(p->fd, p->line + p->have, sizeof p->line - 1 - p->have);
		char *nl;

		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		p->have += (size_t)n;
		p->line[p->have] = '\0';
		while ((nl = memchr(p->line, '\n', p->have))) {
			size_t len = (size_t)(nl - p->line);

			*nl = '\0';
			if (len && p->line[len - 1] == '\r')
				p->line[len - 1] = '\0';
			on_line(ctx, p->line);
			memmove(p->line, nl + 1, p->have - len - 1);
			p->have -= len + 1;
			p->line[p->have] = '\0';
		}
		/* A line longer than the buffer is not telemetry: drop it rather than stall. */
		if (p->have == sizeof p->line - 1)
			p->have = 0;
	}
}

int dut_proc_stop(struct dut_proc *p, unsigned grace_ms)
{
	unsigned waited = 0;
	const struct timespec tick = { 0, 10 * 1000 * 1000 };

	if (p->reaped)
		return p->status;
	kill(-p->pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);

		if (r == p->pid || (r < 0 && errno != EINTR))
			break;
		if (waited >= grace_ms) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, &p->status, 0);
			break;
		}
		nanosleep(&tick, NULL);
		waited += 10;
	}
	p->reaped = 1;
	return p->status;
}

void dut_proc_free(struct dut_proc *p)
{
	if (!p)
		return;
	if (!p->reaped)
		dut_proc_stop(p, 1000);
	close(p->fd);
	free(p);
}
