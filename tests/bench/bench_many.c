/* 256 emulated BMS in one bmssim, each polled at 10 Hz at once: request-to-first-reply-byte
 * latency p50/p99, as a ratio of the reply's wire time at the protocol's baud rate. */
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/lib/serial.h"

extern char **environ;

enum { UNITS = 256, RATE_HZ = 10, SECONDS = 5 };

struct unit {
	struct host_serial *port;
	double sent_us, next_us;
	int waiting;
	struct jbd_rx rx;
};

int main(int argc, char **argv)
{
	static struct unit u[UNITS];
	static double lat[UNITS * RATE_HZ * SECONDS + UNITS];
	const char *sim = argc > 1 ? argv[1] : "build/bin/bmssim";
	char dir[] = "/tmp/bmsrig-bench-many.XXXXXX", cfg[96], link[128], err[256];
	char *args[] = { (char *)sim, "serve", "--config", cfg, "--latency-ms", "0", "-q", NULL };
	struct pollfd pfd[UNITS];
	struct jbd_frame req;
	uint8_t wire[JBD_FRAME_MAX];
	size_t req_len, reply_len = 0, n_lat = 0;
	struct rlimit rl;
	double t_end, wire_us;
	FILE *f;
	pid_t pid;
	int i, status;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(cfg, sizeof cfg, "%s/many.json", dir);
	f = fopen(cfg, "w");
	fprintf(f, "{\"bms\": [\n");
	for (i = 0; i < UNITS; i++)
		fprintf(f, "%s {\"kind\": \"jbd\", \"seed\": %d, \"link\": \"%s/u%d\"}", i ? ",\n" : "", i, dir, i);
	fprintf(f, "\n]}\n");
	fclose(f);
	if (posix_spawn(&pid, sim, NULL, NULL, args, environ) != 0)
		return 1;
	for (i = 0; i < UNITS; i++) {
		struct stat st;
		int tries;

		snprintf(link, sizeof link, "%s/u%d", dir, i);
		for (tries = 0; tries < 500 && lstat(link, &st) != 0; tries++)
			usleep(10000);
		if (host_serial_open(&u[i].port, link, 9600, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "bench_many: %s\n", err);
			kill(pid, SIGTERM);
			return 1;
		}
		rig_jbd_rx_init(&u[i].rx, 0);
		pfd[i].fd = host_serial_fd(u[i].port);
		pfd[i].events = POLLIN;
		u[i].next_us = bench_now_us() + i * (1e6 / RATE_HZ / UNITS);   /* spread the polls evenly */
	}
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	rig_jbd_frame_encode(&req, wire, sizeof wire, &req_len);
	t_end = bench_now_us() + SECONDS * 1e6;
	fprintf(stderr, "bench_many: %d BMS, each polled at %d Hz for %d s\n", UNITS, RATE_HZ, SECONDS);
	while (bench_now_us() < t_end) {
		double t = bench_now_us();

		for (i = 0; i < UNITS; i++)
			if (!u[i].waiting && t >= u[i].next_us) {
				host_serial_write(u[i].port, wire, (uint16_t)req_len);
				u[i].sent_us = bench_now_us();
				u[i].next_us += 1e6 / RATE_HZ;
				u[i].waiting = 1;
			}
		if (poll(pfd, UNITS, 1) <= 0)
			continue;
		for (i = 0; i < UNITS; i++) {
			uint8_t buf[128];
			struct jbd_frame reply;
			int32_t got;

			if (!(pfd[i].revents & POLLIN))
				continue;
			got = host_serial_read(u[i].port, buf, sizeof buf);
			if (got <= 0)
				continue;
			if (u[i].waiting && u[i].rx.b.have == 0 && n_lat < sizeof lat / sizeof lat[0])
				lat[n_lat++] = bench_now_us() - u[i].sent_us;
			rig_jbd_rx_feed(&u[i].rx, buf, (size_t)got, 0);
			if (rig_jbd_rx_next(&u[i].rx, &reply) == RIG_OK) {
				reply_len = reply.len + JBD_OVERHEAD;
				u[i].waiting = 0;
			}
		}
	}
	for (i = 0; i < UNITS; i++)
		host_serial_close(u[i].port);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(cfg);
	rmdir(dir);
	if (!n_lat || !reply_len) {
		fprintf(stderr, "bench_many: no replies\n");
		return 1;
	}
	qsort(lat, n_lat, sizeof lat[0], bench_cmp_double);
	wire_us = (double)reply_len * 10 * 1e6 / 9600.0;
	printf("256 BMS at 10 Hz each (%zu replies to 0x03 in %d s): first byte after p50 %.0f us, p99 %.0f us; "
	       "the %zu-byte reply takes %.1f ms on a 9600-baud wire: p50 = %.4f x, p99 = %.4f x of it\n",
	       n_lat, SECONDS, lat[n_lat / 2], lat[n_lat * 99 / 100], reply_len, wire_us / 1000,
	       lat[n_lat / 2] / wire_us, lat[n_lat * 99 / 100] / wire_us);
	return 0;
}
