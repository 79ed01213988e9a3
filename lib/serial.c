/* Host serial ports: libserialport for real ports, termios for ptys (docs/architecture.md, "Transports").
 * Once open, both backends are just a non-blocking tty fd, so all I/O goes through host_tty_*. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libserialport.h>

#include "bmsrig/lib/serial.h"

struct host_serial {
	int fd;
	struct sp_port *sp;   /* NULL on the termios backend; kept for modem lines */
};

static const struct { uint32_t baud; speed_t speed; } rates[] = {
	{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 }, { 150, B150 }, { 200, B200 },
	{ 300, B300 }, { 600, B600 }, { 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 },
	{ 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
	{ 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
	{ 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 }, { 1000000, B1000000 },
	{ 1152000, B1152000 }, { 1500000, B1500000 }, { 2000000, B2000000 },
	{ 2500000, B2500000 }, { 3000000, B3000000 }, { 3500000, B3500000 },
	{ 4000000, B4000000 },
};

/* 0 (B0, "hang up") doubles as "not a standard rate". */
static speed_t baud_speed(uint32_t baud)
{
	size_t i;

	for (i = 0; i < sizeof rates / sizeof rates[0]; i++)
		if (rates[i].baud == baud)
			return rates[i].speed;
	return B0;
}

int host_serial_baud_ok(uint32_t baud)
{
	return baud_speed(baud) != B0;
}

rig_rc host_tty_raw(int fd, uint32_t baud)
{
	speed_t speed = baud_speed(baud);
	struct termios t;

	if (speed == B0) {
		errno = EINVAL;
		return RIG_ERR_ARG;
	}
	if (tcgetattr(fd, &t) != 0)
		return errno == ENOTTY ? RIG_ERR_ARG : RIG_ERR_IO;
	cfmakeraw(&t);
	t.c_iflag &= ~(tcflag_t)(IXOFF | IXANY);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | HUPCL);
	t.c_cflag |= CLOCAL | CREAD | CS8;
	t.c_cc[VMIN] = 1;    /* with O_NONBLOCK: EAGAIN when empty, so 0 can only mean hangup */
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0)
		return RIG_ERR_ARG;
	return tcsetattr(fd, TCSANOW, &t) == 0 ? RIG_OK : RIG_ERR_IO;
}

const char *host_tty_lost(int fd, int e)
{
	struct pollfd p = { fd, POLLIN, 0 };

	/* An unplugged USB adapter's node is gone: say so rather than the hangup that comes with it. */
	if (e == ENXIO || e == ENODEV)
		return "device gone";
	if (poll(&p, 1, 0) < 0)
		return "poll failed";
	if (p.revents & POLLNVAL)
		return "not open";
	if (p.revents & POLLHUP)
		return "hangup";
	if (e == EIO || (p.revents & POLLERR))
		return "I/O error";
	return e ? strerror(e) : NULL;
}

int32_t host_tty_read(int fd, uint8_t *p, uint16_t cap)
{
	ssize_t n;

	if (cap == 0)
		return 0;
	do
		n = read(fd, p, cap);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return (int32_t)n;
	if (n < 0)
		return errno == EAGAIN ? 0 : RIG_ERR_IO;
	/* 0: a hung-up tty, or "nothing" where VMIN is 0 (libserialport leaves it so). */
	return host_tty_lost(fd, 0) ? RIG_ERR_IO : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t host_tty_write(int fd, const uint8_t *p, uint16_t n)
{
	int64_t deadline = mono_ms() + HOST_TTY_WRITE_WAIT_MS;
	uint16_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, (size_t)(n - done));
		int64_t left;
		struct pollfd pf = { fd, POLLOUT, 0 };

		if (w > 0) {
			done = (uint16_t)(done + w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return RIG_ERR_IO;
		left = deadline - mono_ms();
		if (left <= 0)
			break;
		if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
			return RIG_ERR_IO;
		if (pf.revents & (POLLHUP | POLLERR | POLLNVAL))
			return RIG_ERR_IO;
	}
	return done ? (int32_t)done : (n ? RIG_ERR_TIMEOUT : 0);
}

/* ---- opening ---------------------------------------------------------------------------- */

static void open_error(char *err, size_t errcap, const char *path, int e)
{
	const char *why;

	switch (e) {
	case ENOENT: case ENODEV: case ENXIO: why = "no such device"; break;
	case EBUSY: why = "busy (held by another process)"; break;
	case EACCES: case EPERM: why = "permission denied (add yourself to the dialout group)"; break;
	case ENOTTY: why = "not a serial port or terminal"; break;
	default: why = strerror(e); break;
	}
	if (err && errcap)
		snprintf(err, errcap, "%s: cannot open: %s", path, why);
}

/* Only libserialport says why it failed, through sp_last_error_code after SP_ERR_FAIL. */
static int sp_errno(enum sp_return r)
{
	return r == SP_ERR_FAIL ? sp_last_error_code() : r == SP_ERR_MEM ? ENOMEM : EINVAL;
}

/* libserialport looks ports up in sysfs by their /dev name, so it needs the real path; it
 * refuses ptys, and any path it cannot place, with SP_ERR_ARG (RIG_ERR_ARG here). On failure
 * s->sp may be left set: host_serial_close cleans up. */
static rig_rc open_sp(struct host_serial *s, const char *real, uint32_t baud, int *e)
{
	enum sp_return r = sp_get_port_by_name(real, &s->sp);
	struct sp_port_config *cfg;

	if (r != SP_OK) {
		*e = sp_errno(r);
		return r == SP_ERR_ARG ? RIG_ERR_ARG : RIG_ERR_IO;
	}
	if ((r = sp_open(s->sp, SP_MODE_READ_WRITE)) != SP_OK || (r = sp_new_config(&cfg)) != SP_OK) {
		*e = sp_errno(r);
		return RIG_ERR_IO;
	}
	/* One apply for all settings; fields left at -1 by sp_new_config stay as they are. */
	if ((r = sp_set_config_baudrate(cfg, (int)baud)) == SP_OK &&
	    (r = sp_set_config_bits(cfg, 8)) == SP_OK &&
	    (r = sp_set_config_parity(cfg, SP_PARITY_NONE)) == SP_OK &&
	    (r = sp_set_config_stopbits(cfg, 1)) == SP_OK &&
	    (r = sp_set_config_flowcontrol(cfg, SP_FLOWCONTROL_NONE)) == SP_OK &&
	    (r = sp_set_config(s->sp, cfg)) == SP_OK)
		r = sp_get_port_handle(s->sp, &s->fd);
	if (r != SP_OK)
		*e = sp_errno(r);   /* before free() can touch errno */
	sp_free_config(cfg);
	return r == SP_OK ? RIG_OK : RIG_ERR_IO;
}

static rig_rc open_tty(struct host_serial *s, const char *real, uint32_t baud, int *e)
{
	s->fd = open(real, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0 || host_tty_raw(s->fd, baud) != RIG_OK) {
		*e = errno;
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return RIG_ERR_IO;
	}
	return RIG_OK;
}

rig_rc host_serial_open(struct host_serial **out, const char *path, uint32_t baud,
                       char *err, size_t errcap)
{
	char real[PATH_MAX];
	struct host_serial *s;
	rig_rc rc;
	int is_pty, e = 0;

	*out = NULL;
	if (err && errcap)
		err[0] = '\0';
	if (!host_serial_baud_ok(baud)) {
		if (err && errcap)
			snprintf(err, errcap, "%s: %u baud is not a standard rate", path, (unsigned)baud);
		return RIG_ERR_ARG;
	}
	if (!realpath(path, real)) {
		open_error(err, errcap, path, errno);
		return RIG_ERR_IO;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		open_error(err, errcap, path, ENOMEM);
		return RIG_ERR_IO;
	}
	s->fd = -1;
	is_pty = strncmp(real, "/dev/pts/", 9) == 0;
	rc = is_pty ? RIG_ERR_ARG : open_sp(s, real, baud, &e);
	if (rc == RIG_ERR_ARG)
		rc = open_tty(s, real, baud, &e);
	/* A real port is ours alone (a second poller would steal half of every reply). Ptys are
	 * left shareable: the emulator holds its slave open, so an exclusive flag set by one
	 * client would outlive it and lock out the next (root ignores it anyway). */
	if (rc == RIG_OK && (fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK) != 0 ||
	                     (!is_pty && ioctl(s->fd, TIOCEXCL) != 0))) {
		e = errno;
		rc = RIG_ERR_IO;
	}
	if (rc != RIG_OK) {
		host_serial_close(s);
		open_error(err, errcap, path, e);
		return RIG_ERR_IO;
	}
	*out = s;
	return RIG_OK;
}

void host_serial_close(struct host_serial *s)
{
	if (!s)
		return;
	if (s->sp) {
		sp_close(s->sp);   /* harmless on a port that never opened */
		sp_free_port(s->sp);
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	free(s);
}

int host_serial_fd(const struct host_serial *s)
{
	return s->fd;
}

int32_t host_serial_read(struct host_serial *s, uint8_t *p, uint16_t cap)
{
	return host_tty_read(s->fd, p, cap);
}

int32_t host_serial_write(struct host_serial *s, const uint8_t *p, uint16_t n)
{
	return host_tty_write(s->fd, p, n);
}

void host_serial_flush_input(struct host_serial *s)
{
	tcflush(s->fd, TCIFLUSH);
}

static int32_t io_read(void *ctx, uint8_t *p, uint16_t cap)
{
	return host_serial_read(ctx, p, cap);
}

static int32_t io_write(void *ctx, const uint8_t *p, uint16_t n)
{
	return host_serial_write(ctx, p, n);
}

struct rig_io host_serial_io(struct host_serial *s)
{
	struct rig_io io = { s, io_write, io_read };

	return io;
}

static const struct {
	const char *name;
	enum sp_signal input;      /* 0 for an output */
} lines[HOST_LINE_COUNT] = {
	[HOST_LINE_CTS] = { "cts", SP_SIG_CTS }, [HOST_LINE_DSR] = { "dsr", SP_SIG_DSR },
	[HOST_LINE_DCD] = { "dcd", SP_SIG_DCD }, [HOST_LINE_RI] = { "ri", SP_SIG_RI },
	[HOST_LINE_DTR] = { "dtr", 0 }, [HOST_LINE_RTS] = { "rts", 0 },
};

int host_line_find(const char *name)
{
	int i;

	for (i = 0; i < HOST_LINE_COUNT; i++)
		if (!strcmp(lines[i].name, name))
			return i;
	return -1;
}

int host_line_is_input(enum host_line line)
{
	return line < HOST_LINE_COUNT && lines[line].input != 0;
}

rig_rc host_serial_get_line(struct host_serial *s, enum host_line line, int *level)
{
	enum sp_signal sig;

	if (!host_line_is_input(line))
		return RIG_ERR_ARG;
	if (!s->sp)
		return RIG_ERR_UNSUPPORTED;
	if (sp_get_signals(s->sp, &sig) != SP_OK)
		return RIG_ERR_IO;
	*level = (sig & lines[line].input) != 0;
	return RIG_OK;
}

rig_rc host_serial_set_line(struct host_serial *s, enum host_line line, int level)
{
	enum sp_return r;

	if (line != HOST_LINE_DTR && line != HOST_LINE_RTS)
		return RIG_ERR_ARG;
	if (!s->sp)
		return RIG_ERR_UNSUPPORTED;
	r = line == HOST_LINE_DTR ? sp_set_dtr(s->sp, level ? SP_DTR_ON : SP_DTR_OFF)
	                         : sp_set_rts(s->sp, level ? SP_RTS_ON : SP_RTS_OFF);
	return r == SP_OK ? RIG_OK : RIG_ERR_IO;
}

rig_rc host_serial_list(void (*cb)(void *ctx, const char *path, const char *description,
                                  int usb_vid, int usb_pid), void *ctx)
{
	struct sp_port **ports;
	size_t i;

	if (sp_list_ports(&ports) != SP_OK)
		return RIG_ERR_IO;
	for (i = 0; ports[i]; i++) {
		const char *desc = sp_get_port_description(ports[i]);
		int vid = -1, pid = -1;

		if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB ||
		    sp_get_port_usb_vid_pid(ports[i], &vid, &pid) != SP_OK)
			vid = pid = -1;
		cb(ctx, sp_get_port_name(ports[i]), desc ? desc : "", vid, pid);
	}
	sp_free_port_list(ports);
	return RIG_OK;
}
