/* Poll rate against the wire limit: bmsmon --poll-ms 0 (back to back) against bmssim serve
 * --pace (a JBD 16S at 9600 Bd on a pty, reply latency 0), beside the rate the line allows.
 *
 * The line allows one cycle (0x03 basic info, then 0x04 cell voltages) per
 * (request + reply bytes of both) x 10 bits / 9600 Bd: a half-duplex line carries one frame at
 * a time and the emulator's latency is set to 0, so nothing else is owed. The sizes are measured
 * in the same run, by one exchange of each before bmsmon starts, not assumed. The achieved rate
 * is bmsmon's telemetry lines over the span of their own "ms" stamps (one line a cycle).
 * Prints the figures and `GOAL poll-rate-jbd16s: measured X %, goal 99 %, ok|short`. */
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bmsrig/core/jbd.h"
#include "bmsrig/lib/serial.h"

extern char **environ;

enum { BAUD = 9600, CELLS = 16, RUN_S = 10 };
#define GOAL_PCT 99.0

/* One exchange: the request's and the whole reply's sizes in bytes; 0 on no reply. */
static int exchange(struct host_serial *s, uint8_t reg, size_t *req_len, size_t *reply_len)
{
	struct jbd_frame f;
	struct jbd_rx rx;
	uint8_t wire[JBD_FRAME_MAX], buf[256];
	int fd = host_serial_fd(s);

	rig_jbd_request_read(&f, reg);
	if (rig_jbd_frame_encode(&f, wire, sizeof wire, req_len) != RIG_OK ||
	    host_serial_write(s, wire, (uint16_t)*req_len) != (int32_t)*req_len)
		return 0;
	rig_jbd_rx_init(&rx, 0);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int32_t got;

		if (poll(&p, 1, 2000) <= 0)
			return 0;
		got = host_serial_read(s, buf, sizeof buf);
		if (got <= 0)
			continue;
		rig_jbd_rx_feed(&rx, buf, (size_t)got, 0);
		if (rig_jbd_rx_next(&rx, &f) == RIG_OK && f.reg == reg) {
			*reply_len = f.len + JBD_OVERHEAD;
			return 1;
		}
	}
}

/* Runs bmsmon on link for RUN_S seconds; its telemetry lines' count and first and last "ms". */
static int run_monitor(const char *mon, const char *link, unsigned *lines, long *first_ms,
                       long *last_ms)
{
	char dur[16];
	char *args[] = { (char *)mon, "--port", (char *)link, "--poll-ms", "0", "--duration-s", dur,
	                 "-q", NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, ok = 1;
	char line[2048];
	pid_t pid;
	FILE *in;

	snprintf(dur, sizeof dur, "%d", RUN_S);
	if (pipe(pipefd) != 0)
		return 0;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	if (posix_spawn(&pid, mon, &fa, NULL, args, environ) != 0) {
		fprintf(stderr, "bench_pollrate: cannot start %s\n", mon);
		return 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	*lines = 0;
	while (in && fgets(line, sizeof line, in)) {
		const char *ms = strstr(line, "\"ms\":");
		long t;

		if (!ms || sscanf(ms + 5, "%ld", &t) != 1 || !strstr(line, "\"ok\":1"))
			continue;
		if (!*lines)
			*first_ms = t;
		*last_ms = t;
		++*lines;
	}
	if (in)
		fclose(in);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_pollrate: %s failed\n", mon);
		ok = 0;
	}
	return ok;
}

int main(int argc, char **argv)
{
	const char *sim = argc > 1 ? argv[1] : "build/bin/bmssim";
	const char *mon = argc > 2 ? argv[2] : "build/bin/bmsmon";
	char link[] = "/tmp/bmsrig-bench.XXXXXX/jbd0", err[256], cells[8];
	char *dir = link;
	char *args[] = { (char *)sim, "serve", "--pace", "--cells", cells, "--latency-ms", "0",
	                 "--baud", "9600", "--link", link, "-q", NULL };
	struct host_serial *s;
	size_t req[2], rep[2], bytes;
	unsigned lines = 0;
	long first_ms = 0, last_ms = 0;
	double cycle_ms, limit_hz, got_hz, pct;
	struct stat st;
	pid_t pid;
	int i, ok;

	snprintf(cells, sizeof cells, "%d", CELLS);
	link[sizeof link - 6] = '\0';
	if (!mkdtemp(dir))
		return 1;
	link[strlen(link)] = '/';
	if (posix_spawn(&pid, sim, NULL, NULL, args, environ) != 0) {
		fprintf(stderr, "bench_pollrate: cannot start %s\n", sim);
		return 1;
	}
	for (i = 0; i < 200 && lstat(link, &st) != 0; i++)
		usleep(10000);
	ok = host_serial_open(&s, link, BAUD, err, sizeof err) == RIG_OK;
	if (!ok)
		fprintf(stderr, "bench_pollrate: %s\n", err);
	if (ok) {
		ok = exchange(s, JBD_REG_BASIC, &req[0], &rep[0]) && exchange(s, JBD_REG_CELLS, &req[1], &rep[1]);
		host_serial_close(s);
		if (!ok)
			fprintf(stderr, "bench_pollrate: no reply from %s\n", sim);
	}
	ok = ok && run_monitor(mon, link, &lines, &first_ms, &last_ms);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	*strrchr(link, '/') = '\0';
	rmdir(link);
	if (!ok)
		return 1;
	if (lines < 10 || last_ms <= first_ms) {
		fprintf(stderr, "bench_pollrate: only %u good cycles in %d s\n", lines, RUN_S);
		return 1;
	}
	bytes = req[0] + rep[0] + req[1] + rep[1];
	cycle_ms = (double)bytes * 10.0 * 1000.0 / BAUD;
	limit_hz = 1000.0 / cycle_ms;
	got_hz = (double)(lines - 1) * 1000.0 / (double)(last_ms - first_ms);
	pct = 100.0 * got_hz / limit_hz;
	printf("poll rate, JBD %dS at %d Bd on a pty (bmssim --pace, reply latency 0), bmsmon --poll-ms 0:\n"
	       "  %.3f cycles/s over %u cycles; the wire allows %.3f (%zu+%zu and %zu+%zu bytes = %.3f ms a "
	       "cycle)\n", CELLS, BAUD, got_hz, lines - 1, limit_hz, req[0], rep[0], req[1], rep[1], cycle_ms);
	printf("GOAL poll-rate-jbd16s: measured %.2f %%, goal %.0f %%, %s\n", pct, GOAL_PCT,
	       pct >= GOAL_PCT ? "ok" : "short");
	return 0;
}
