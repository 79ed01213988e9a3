/* The bare pty echo that bench_pty measures bmssim against: N ptys, each linked at DIR/eI,
 * answering every REQ_LEN bytes that arrive with the reply given in hex, from one epoll loop.
 * It does nothing a BMS emulator could skip, so its latency is the floor the kernel's ptys
 * and the scheduler set for the same sizes. Runs until SIGTERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "bmsrig/lib/hex.h"

enum { PTYS_MAX = 1024, REPLY_MAX = 256 };

struct echo_pty {
	int master, slave;
	size_t have;                     /* request bytes since the last reply */
};

static int open_one(struct echo_pty *e, const char *link)
{
	struct termios t;
	char name[128];

	e->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (e->master < 0 || grantpt(e->master) || unlockpt(e->master) ||
	    ptsname_r(e->master, name, sizeof name))
		return -1;
	/* Held open so that the master does not read as hung up before the client comes. */
	e->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (e->slave < 0 || tcgetattr(e->slave, &t))
		return -1;
	cfmakeraw(&t);
	if (tcsetattr(e->slave, TCSANOW, &t))
		return -1;
	unlink(link);
	return symlink(name, link);
}

int main(int argc, char **argv)
{
	static struct echo_pty pty[PTYS_MAX];
	uint8_t reply[REPLY_MAX];
	size_t reply_len, req_len;
	long n;
	int ep, i;

	if (argc != 5 || (n = strtol(argv[2], NULL, 10)) < 1 || n > PTYS_MAX ||
	    (req_len = (size_t)strtoul(argv[3], NULL, 10)) < 1) {
		fprintf(stderr, "usage: bench_echo DIR N REQ_LEN REPLY_HEX (expected 1..%d ptys)\n", PTYS_MAX);
		return 2;
	}
	if (host_hex_parse(argv[4], reply, sizeof reply, &reply_len) || !reply_len) {
		fprintf(stderr, "bench_echo: expected the reply as hex, got %s\n", argv[4]);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < n; i++) {
		char link[512];
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		snprintf(link, sizeof link, "%s/e%d", argv[1], i);
		if (open_one(&pty[i], link) || epoll_ctl(ep, EPOLL_CTL_ADD, pty[i].master, &ev)) {
			fprintf(stderr, "bench_echo: %s: %s\n", link, strerror(errno));
			return 1;
		}
	}
	for (;;) {
		struct epoll_event ev[256];
		int k, got = epoll_wait(ep, ev, 256, -1);

		for (k = 0; k < got; k++) {
			struct echo_pty *e = &pty[ev[k].data.u32];
			uint8_t buf[512];
			ssize_t r = read(e->master, buf, sizeof buf);

			if (r <= 0)
				continue;
			for (e->have += (size_t)r; e->have >= req_len; e->have -= req_len)
				if (write(e->master, reply, reply_len) != (ssize_t)reply_len)
					fprintf(stderr, "bench_echo: short write\n");
		}
	}
}
