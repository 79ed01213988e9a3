/* pty round trip: bmssim with its reply latency set to 0, polled 10,000 times with 0x03 and
 * 0x04. Measures from the last request byte written to the first reply byte read, and prints
 * p50/p99 beside what the reply alone takes on a real 9600-baud wire. */
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/lib/serial.h"

extern char **environ;

enum { POLLS = 10000 };

/* One request; returns the latency to the first reply byte in us, or -1. *reply_len: bytes. */
static double roundtrip(struct host_serial *s, uint8_t reg, size_t *reply_len)
{
	struct jbd_frame f;
	struct jbd_rx rx;
	uint8_t wire[JBD_FRAME_MAX], buf[256];
	size_t n;
	double t0, first = -1;
	int fd = host_serial_fd(s);

	rig_jbd_request_read(&f, reg);
	rig_jbd_frame_encode(&f, wire, sizeof wire, &n);
	rig_jbd_rx_init(&rx, 0);
	if (host_serial_write(s, wire, (uint16_t)n) != (int32_t)n)
		return -1;
	t0 = bench_now_us();
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int32_t got;

		if (poll(&p, 1, 1000) <= 0)
			return -1;
		got = host_serial_read(s, buf, sizeof buf);
		if (got <= 0)
			continue;
		if (first < 0)
			first = bench_now_us() - t0;
		rig_jbd_rx_feed(&rx, buf, (size_t)got, 0);
		if (rig_jbd_rx_next(&rx, &f) == RIG_OK && f.reg == reg) {
			*reply_len = f.len + JBD_OVERHEAD;
			return first;
		}
	}
}

int main(int argc, char **argv)
{
	static double lat[2][POLLS];
	const char *sim = argc > 1 ? argv[1] : "build/bin/bmssim";
	char link[] = "/tmp/bmsrig-bench.XXXXXX/jbd0", err[256];
	char *dir = link;
	char *args[] = { (char *)sim, "serve", "--latency-ms", "0", "--link", link, "-q", NULL };
	struct host_serial *s;
	size_t len[2] = { 0, 0 };
	struct stat st;
	pid_t pid;
	int i, k, status;

	link[sizeof link - 6] = '\0';
	if (!mkdtemp(dir))
		return 1;
	link[strlen(link)] = '/';
	if (posix_spawn(&pid, sim, NULL, NULL, args, environ) != 0) {
		fprintf(stderr, "bench_pty: cannot start %s\n", sim);
		return 1;
	}
	for (i = 0; i < 200 && lstat(link, &st) != 0; i++)
		usleep(10000);
	if (host_serial_open(&s, link, 9600, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bench_pty: %s\n", err);
		kill(pid, SIGTERM);
		return 1;
	}
	for (i = 0; i < POLLS; i++) {
		if (i % 1000 == 0)
			fprintf(stderr, "\rbench_pty: %d/%d polls", i, POLLS);
		for (k = 0; k < 2; k++) {
			lat[k][i] = roundtrip(s, k ? JBD_REG_CELLS : JBD_REG_BASIC, &len[k]);
			if (lat[k][i] < 0) {
				fprintf(stderr, "\nbench_pty: no reply at poll %d\n", i);
				kill(pid, SIGTERM);
				return 1;
			}
		}
	}
	fprintf(stderr, "\rbench_pty: %d/%d polls\n", POLLS, POLLS);
	host_serial_close(s);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	*strrchr(link, '/') = '\0';
	rmdir(link);
	for (k = 0; k < 2; k++) {
		double wire_us = (double)len[k] * 10 * 1e6 / 9600.0, p50, p99;

		qsort(lat[k], POLLS, sizeof lat[k][0], bench_cmp_double);
		p50 = lat[k][POLLS / 2];
		p99 = lat[k][POLLS * 99 / 100];
		printf("pty round trip 0x%02X (%zu-byte reply), %d polls: p50 %.0f us, p99 %.0f us; "
		       "the reply's wire time at 9600 baud is %.1f ms: p50 = %.4f x, p99 = %.4f x of it\n",
		       k ? 4 : 3, len[k], POLLS, p50, p99, wire_us / 1000, p50 / wire_us, p99 / wire_us);
	}
	return 0;
}
