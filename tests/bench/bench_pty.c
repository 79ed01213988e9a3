/* pty round trip, told as it is: a 7-byte JBD 0x04 request to the whole 39-byte reply of a 16S
 * pack, through bmssim (reply latency 0) and through a bare pty echo (bench_echo) answering
 * the same sizes, in one run: 1 BMS polled back to back, alternating between the two; then
 * 256 BMS each polled at 10 Hz, the two sides taking turns of one poll period (100 ms, fifty
 * turns each), so that whatever else the machine does falls on both alike. Prints p50/p99 of each
 * side per round and one GOAL line per case: the median over its rounds of bmssim p99 / echo p99. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/lib/serial.h"

extern char **environ;

enum { UNITS_MAX = 256, CELLS = 16, POLLS_1 = 20000, RATE_HZ = 10, LOAD_S = 5, ROUNDS_MAX = 5 };
/* Room for either case: POLLS_1 back to back, or every unit's polls over LOAD_S seconds. */
#define SAMPLES_MAX (POLLS_1 > UNITS_MAX * RATE_HZ * LOAD_S + UNITS_MAX ? POLLS_1 : UNITS_MAX * RATE_HZ * LOAD_S + UNITS_MAX)

struct side {                       /* bmssim's or the echo's ptys, as the client sees them */
	const char *name;
	pid_t pid;
	int n;
	struct host_serial *port[UNITS_MAX];
	struct jbd_rx rx[UNITS_MAX];
	double sent_us[UNITS_MAX], next_us[UNITS_MAX];
	int waiting[UNITS_MAX];
	double lat[SAMPLES_MAX];
	size_t n_lat;
};

static uint8_t g_req[JBD_FRAME_MAX];
static size_t g_req_len;
static char g_dir[] = "/tmp/bmsrig-bench-pty.XXXXXX";

static int open_ports(struct side *s, const char *prefix)
{
	char link[160], err[256];
	int i, tries;

	for (i = 0; i < s->n; i++) {
		struct stat st;

		snprintf(link, sizeof link, "%s/%s%d", g_dir, prefix, i);
		for (tries = 0; tries < 1000 && lstat(link, &st) != 0; tries++)
			usleep(10000);
		if (host_serial_open(&s->port[i], link, 9600, err, sizeof err) != RIG_OK) {
			fprintf(stderr, "bench_pty: %s\n", err);
			return -1;
		}
		rig_jbd_rx_init(&s->rx[i], 0);
	}
	return 0;
}

static void stop_side(struct side *s)
{
	int i, status;

	for (i = 0; i < s->n; i++)
		host_serial_close(s->port[i]);
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &status, 0);
	}
	s->pid = 0;
}

/* Bytes from port i; returns 1 when they completed the reply. raw (may be NULL) collects them. */
static int take(struct side *s, int i, uint8_t *raw, size_t *raw_len)
{
	uint8_t buf[256];
	struct jbd_frame f;
	int32_t got = host_serial_read(s->port[i], buf, sizeof buf);

	if (got <= 0)
		return 0;
	if (raw && *raw_len + (size_t)got <= JBD_FRAME_MAX) {
		memcpy(raw + *raw_len, buf, (size_t)got);
		*raw_len += (size_t)got;
	}
	rig_jbd_rx_feed(&s->rx[i], buf, (size_t)got, 0);
	return rig_jbd_rx_next(&s->rx[i], &f) == RIG_OK;
}

/* One request to port i and its whole reply: latency in us, or -1 after 1 s of silence. */
static double roundtrip(struct side *s, int ep, int i, uint8_t *raw, size_t *raw_len)
{
	double t0;

	if (host_serial_write(s->port[i], g_req, (uint16_t)g_req_len) != (int32_t)g_req_len)
		return -1;
	t0 = bench_now_us();
	for (;;) {
		struct epoll_event ev;

		if (take(s, i, raw, raw_len))
			return bench_now_us() - t0;
		if (epoll_wait(ep, &ev, 1, 1000) <= 0)
			return -1;
	}
}

static int watch(struct side *s, int ep)
{
	int i;

	for (i = 0; i < s->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, host_serial_fd(s->port[i]), &ev))
			return -1;
	}
	return 0;
}

/* One turn: every port polled once, the polls spread evenly over the period (so the load is
 * RATE_HZ per BMS while the turn lasts); then
 * the replies still on their way are awaited (not timed), so none is left to end the next
 * turn's first request early. */
static void load(struct side *s, int ep)
{
	double t0 = bench_now_us(), t_end = t0 + 1e6 / RATE_HZ, t_drain = t_end + 2e5;
	int i, busy = 1;

	for (i = 0; i < s->n; i++) {
		s->next_us[i] = t0 + i * (1e6 / RATE_HZ / s->n);
		s->waiting[i] = 0;
	}
	while (busy) {
		struct epoll_event ev[UNITS_MAX];
		double t = bench_now_us();
		int k, got;

		for (i = 0; i < s->n && t < t_end; i++)
			if (!s->waiting[i] && t >= s->next_us[i]) {
				host_serial_write(s->port[i], g_req, (uint16_t)g_req_len);
				s->sent_us[i] = bench_now_us();
				s->next_us[i] += 1e6 / RATE_HZ;
				s->waiting[i] = 1;
			}
		got = epoll_wait(ep, ev, UNITS_MAX, 1);
		for (k = 0; k < got; k++) {
			i = (int)ev[k].data.u32;
			if (take(s, i, NULL, NULL) && s->waiting[i]) {
				if (s->n_lat < SAMPLES_MAX && t < t_end)
					s->lat[s->n_lat++] = bench_now_us() - s->sent_us[i];
				s->waiting[i] = 0;
			}
		}
		for (i = 0, busy = t < t_end; i < s->n && !busy && t < t_drain; i++)
			busy = s->waiting[i];
	}
}

static double pct(struct side *s, int p)
{
	return s->lat[s->n_lat * (size_t)p / 100];
}

static pid_t spawn(char **args)
{
	pid_t pid;

	return posix_spawn(&pid, args[0], NULL, NULL, args, environ) == 0 ? pid : -1;
}

/* One round of a case: n BMS in one bmssim and n echo ptys. Returns the p99 ratio, or -1. */
static double run_round(const char *sim, const char *echo, int n)
{
	static struct side s, e;
	char cfg[96], nbuf[16], hex[3 * JBD_FRAME_MAX + 1];
	char *sim_args[] = { (char *)sim, "serve", "--config", cfg, "--latency-ms", "0", "-q", NULL };
	char *echo_args[] = { (char *)echo, g_dir, nbuf, NULL, hex, NULL };
	char req_len[16];
	uint8_t raw[JBD_FRAME_MAX];
	size_t raw_len = 0, k;
	int i, ep_s = epoll_create1(0), ep_e = epoll_create1(0);
	double ratio = -1;
	FILE *f;

	memset(&s, 0, sizeof s);
	memset(&e, 0, sizeof e);
	s.n = e.n = n;
	snprintf(cfg, sizeof cfg, "%s/bms%d.json", g_dir, n);
	f = fopen(cfg, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"bms\": [\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%s {\"kind\": \"jbd\", \"cells\": %d, \"seed\": %d, \"link\": \"%s/s%d\"}",
		        i ? ",\n" : "", CELLS, i, g_dir, i);
	fprintf(f, "\n]}\n");
	fclose(f);
	if ((s.pid = spawn(sim_args)) < 0 || open_ports(&s, "s") || watch(&s, ep_s))
		goto out;
	/* The echo answers with the very bytes bmssim sent, so both sides carry the same sizes. */
	if (roundtrip(&s, ep_s, 0, raw, &raw_len) < 0) {
		fprintf(stderr, "bench_pty: bmssim did not answer\n");
		goto out;
	}
	for (k = 0; k < raw_len; k++)
		snprintf(hex + 2 * k, 3, "%02X", raw[k]);
	snprintf(nbuf, sizeof nbuf, "%d", n);
	snprintf(req_len, sizeof req_len, "%zu", g_req_len);
	echo_args[3] = req_len;
	if ((e.pid = spawn(echo_args)) < 0 || open_ports(&e, "e") || watch(&e, ep_e))
		goto out;
	if (n == 1) {
		for (i = 0; i < POLLS_1; i++) {
			double a = roundtrip(&s, ep_s, 0, NULL, NULL), b = roundtrip(&e, ep_e, 0, NULL, NULL);

			if (a < 0 || b < 0) {
				fprintf(stderr, "bench_pty: no reply at poll %d\n", i);
				goto out;
			}
			if (s.n_lat < SAMPLES_MAX) {
				s.lat[s.n_lat++] = a;
				e.lat[e.n_lat++] = b;
			}
		}
	} else {
		for (i = 0; i < LOAD_S * RATE_HZ; i++) {
			load(&s, ep_s);
			load(&e, ep_e);
		}
	}
	if (!s.n_lat || !e.n_lat) {
		fprintf(stderr, "bench_pty: no replies\n");
		goto out;
	}
	qsort(s.lat, s.n_lat, sizeof s.lat[0], bench_cmp_double);
	qsort(e.lat, e.n_lat, sizeof e.lat[0], bench_cmp_double);
	ratio = pct(&s, 99) / pct(&e, 99);
	printf("    bmssim     %6zu replies  p50 %6.0f us  p99 %6.0f us\n"
	       "    bare echo  %6zu replies  p50 %6.0f us  p99 %6.0f us   ratio of p99 %.2f\n",
	       s.n_lat, pct(&s, 50), pct(&s, 99), e.n_lat, pct(&e, 50), pct(&e, 99), ratio);
out:
	stop_side(&s);
	stop_side(&e);
	close(ep_s);
	close(ep_e);
	unlink(cfg);
	for (i = 0; i < n; i++) {
		char link[160];

		snprintf(link, sizeof link, "%s/e%d", g_dir, i);
		unlink(link);
	}
	return ratio;
}

/* A case: its rounds one after the other and the median of their ratios as the GOAL line. A
 * shared machine's hiccups land on one round's p99 more than on the others', so one round
 * alone swings by a tenth or more; the median of several does not. */
static double run_case(const char *sim, const char *echo, int n, int rounds, const char *goal_name,
                       double goal)
{
	double ratio[ROUNDS_MAX];
	int r;

	printf("  %d BMS (%s), %zu-byte request to the whole reply (%d cells), %d rounds:\n", n,
	       n == 1 ? "back to back, alternating" : "each at 10 Hz, 50 turns of 100 ms per side",
	       g_req_len, CELLS, rounds);
	for (r = 0; r < rounds; r++)
		if ((ratio[r] = run_round(sim, echo, n)) < 0)
			return -1;
	qsort(ratio, (size_t)rounds, sizeof ratio[0], bench_cmp_double);
	printf("GOAL %s: measured %.2fx, goal %.2fx, %s (median of %d rounds, %.2f..%.2f)\n", goal_name,
	       ratio[rounds / 2], goal, ratio[rounds / 2] <= goal ? "ok" : "short", rounds, ratio[0],
	       ratio[rounds - 1]);
	return ratio[rounds / 2];
}

int main(int argc, char **argv)
{
	const char *sim = argc > 1 ? argv[1] : "build/bin/bmssim";
	const char *echo = argc > 2 ? argv[2] : "build/bench/bench_echo";
	struct jbd_frame req;
	struct rlimit rl;
	double one, many;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(g_dir)) {
		fprintf(stderr, "bench_pty: %s: %s\n", g_dir, strerror(errno));
		return 1;
	}
	rig_jbd_request_read(&req, JBD_REG_CELLS);
	rig_jbd_frame_encode(&req, g_req, sizeof g_req, &g_req_len);
	one = run_case(sim, echo, 1, 5, "pty-p99-1bms", 1.10);
	many = run_case(sim, echo, UNITS_MAX, 3, "pty-p99-256bms", 1.5);
	rmdir(g_dir);
	return one < 0 || many < 0;
}
