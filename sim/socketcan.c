/* The SocketCAN backend (socketcan.h says what it promises and why). */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsrig/core/slcan.h"
#include "bmsrig/sim/socketcan.h"

struct sim_socketcan {
	int fd;
	struct slcan_rx out;            /* the personality's lines */
	uint8_t q[SLCAN_LINE_MAX];      /* the last frame read, as slcan text not yet taken */
	uint8_t q_len, q_off;
	char path[10 + IF_NAMESIZE + 1];
};

rig_rc sim_socketcan_new(struct sim_socketcan **out, const char *iface, char *err, size_t errcap)
{
	struct sim_socketcan *c;
	struct sockaddr_can sa;
	unsigned idx;

	*out = NULL;
	if (!*iface || strlen(iface) >= IF_NAMESIZE) {
		snprintf(err, errcap, "socketcan:%s: expected an interface name (e.g. can0)", iface);
		return RIG_ERR_ARG;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errcap, "socketcan:%s: out of memory", iface);
		return RIG_ERR_IO;
	}
	c->fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (c->fd < 0) {
		int e = errno;

		free(c);
		if (e == EAFNOSUPPORT) {
			snprintf(err, errcap, "%s", SOCKETCAN_NO_KERNEL_CAN);
			return RIG_ERR_UNSUPPORTED;
		}
		snprintf(err, errcap, "socketcan:%s: cannot open a CAN socket: %s", iface, strerror(e));
		return RIG_ERR_IO;
	}
	if ((idx = if_nametoindex(iface)) == 0) {
		snprintf(err, errcap, "socketcan:%s: no such interface", iface);
		sim_socketcan_close(c);
		return RIG_ERR_ARG;
	}
	memset(&sa, 0, sizeof sa);
	sa.can_family = AF_CAN;
	sa.can_ifindex = (int)idx;
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(err, errcap, "socketcan:%s: cannot bind: %s", iface, strerror(errno));
		sim_socketcan_close(c);
		return RIG_ERR_IO;
	}
	rig_slcan_rx_init(&c->out, 0);
	snprintf(c->path, sizeof c->path, "socketcan:%s", iface);
	*out = c;
	return RIG_OK;
}

void sim_socketcan_close(struct sim_socketcan *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

const char *sim_socketcan_path(const struct sim_socketcan *c) { return c->path; }
int sim_socketcan_fd(const struct sim_socketcan *c) { return c->fd; }

int32_t sim_socketcan_read(struct sim_socketcan *c, uint8_t *buf, uint16_t cap)
{
	for (;;) {
		struct can_frame k;
		struct rig_can_frame f;
		ssize_t n;
		size_t len;

		if (c->q_off < c->q_len) {
			uint16_t m = (uint16_t)(c->q_len - c->q_off);

			if (m > cap)
				m = cap;
			memcpy(buf, c->q + c->q_off, m);
			c->q_off = (uint8_t)(c->q_off + m);
			return m;
		}
		n = read(c->fd, &k, sizeof k);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : RIG_ERR_IO;
		/* Remote and error frames, and anything short, carry nothing a personality reads. */
		if (n != (ssize_t)sizeof k || (k.can_id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) || k.can_dlc > 8)
			continue;
		memset(&f, 0, sizeof f);
		f.ext = (k.can_id & CAN_EFF_FLAG) != 0;
		f.id = k.can_id & (f.ext ? CAN_EFF_MASK : CAN_SFF_MASK);
		f.dlc = k.can_dlc;
		memcpy(f.data, k.data, f.dlc);
		if (rig_slcan_frame_encode(&f, c->q, sizeof c->q, &len) != RIG_OK)
			continue;
		c->q_len = (uint8_t)len;
		c->q_off = 0;
	}
}

int32_t sim_socketcan_write(struct sim_socketcan *c, const uint8_t *buf, uint16_t n)
{
	struct slcan_line l;
	size_t done = 0;

	while (done < n) {
		done += rig_slcan_rx_feed(&c->out, buf + done, n - done, 0);
		while (rig_slcan_rx_next(&c->out, &l) == RIG_OK) {
			struct can_frame k;

			if (l.kind != SLCAN_FRAME)
				continue;
			memset(&k, 0, sizeof k);
			k.can_id = l.frame.id | (l.frame.ext ? CAN_EFF_FLAG : 0u);
			k.can_dlc = l.frame.dlc;
			memcpy(k.data, l.frame.data, l.frame.dlc);
			/* A full transmit queue (no one acknowledging on the bus) loses the frame, as an
			 * adapter's would. */
			(void)write(c->fd, &k, sizeof k);
		}
	}
	return n;
}

static int t_fd(const void *h) { return sim_socketcan_fd(h); }
static int32_t t_read(void *h, uint8_t *p, uint16_t cap) { return sim_socketcan_read(h, p, cap); }
static int32_t t_write(void *h, const uint8_t *p, uint16_t n) { return sim_socketcan_write(h, p, n); }
static void t_close(void *h) { sim_socketcan_close(h); }

rig_rc sim_socketcan_open(struct sim_transport *t, const char *iface, char *err, size_t errcap)
{
	struct sim_socketcan *c;
	rig_rc rc = sim_socketcan_new(&c, iface, err, errcap);

	if (rc == RIG_OK)
		*t = (struct sim_transport) {
			.h = c, .fd = t_fd, .read = t_read, .write = t_write, .close = t_close,
			.path = sim_socketcan_path(c),
		};
	return rc;
}
