/* A real board as the device under test (dut.h, hil/README.md): the emulator serves its BMS
 * UART on a serial port, which this file keeps to read the relay's sense line and, when the
 * console shares the port, to take the telemetry lines out of the byte stream; the console
 * itself is dut_board.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"

struct serial_dut {
	struct dut_env env;
	struct host_loop *loop;
	struct host_serial *bms_port;       /* the port the board's BMS UART is on */
	struct dut_board *board;
	struct sim_transport port;         /* the emulator's side of bms_port */
};

static int ser_fd(const void *h) { return host_serial_fd(((const struct serial_dut *)h)->bms_port); }
static int32_t ser_write(void *h, const uint8_t *p, uint16_t n) { return host_serial_write(((struct serial_dut *)h)->bms_port, p, n); }

static int32_t ser_read(void *h, uint8_t *p, uint16_t cap)
{
	struct serial_dut *d = h;
	uint8_t raw[512];
	int32_t n = host_serial_read(d->bms_port, raw, cap < sizeof raw ? cap : sizeof raw);

	if (n <= 0 || d->env.spec->console[0]) {
		if (n > 0)
			memcpy(p, raw, (size_t)n);
		return n;
	}
	return (int32_t)dut_board_demux(d->board, raw, (size_t)n, p, cap, d->env.line, d->env.ctx);
}

/* A board is reset and heard from before the clock starts. */
static rig_rc serial_open(void **self, const struct dut_env *env, char *err, size_t errcap)
{
	struct serial_dut *d = calloc(1, sizeof *d);
	const struct personality_ops *ops = env->sc->bms.unit.ops;
	uint32_t baud = env->sc->bms.baud ? env->sc->bms.baud : ops->baud;

	*self = d;
	if (!d) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	d->env = *env;
	d->port = (struct sim_transport) {
		.h = d, .fd = ser_fd, .read = ser_read, .write = ser_write,
		.path = env->spec->bms_port,
	};
	if (host_serial_open(&d->bms_port, env->spec->bms_port, baud, err, errcap) != RIG_OK ||
	    dut_board_open(&d->board, env->spec, d->bms_port, err, errcap) != RIG_OK)
		return RIG_ERR_IO;
	return RIG_OK;
}

static const struct sim_transport *serial_transport(void *self, unsigned line)
{
	(void)line;                        /* one line: lines_max is 1 */
	return &((struct serial_dut *)self)->port;
}

static void on_console_readable(struct host_loop *loop, int fd, void *ctx);

/* Unplugged, the console is closed and tried again from the engine's tick. */
static void on_board_event(void *ctx, const char *what)
{
	struct serial_dut *d = ctx;
	int back = !strcmp(what, "back");

	fprintf(stderr, "bmssim run: %s: console %s at %.3f s%s\n", d->env.spec->console,
	        back ? "back" : "lost", host_loop_now_ms(d->loop) / 1000.0, back ? "" : "; reconnecting");
	if (back)
		(void)host_loop_add_fd(d->loop, dut_board_fd(d->board), on_console_readable, d);
}

/* dut_board_pump takes one context for lines and events: lines go on to the runner. */
static void on_console_line(void *ctx, const char *line)
{
	struct serial_dut *d = ctx;

	d->env.line(d->env.ctx, line);
}

static void on_console_readable(struct host_loop *loop, int fd, void *ctx)
{
	struct serial_dut *d = ctx;

	dut_board_pump(d->board, host_loop_now_ms(loop), on_console_line, on_board_event, d);
	if (dut_board_fd(d->board) != fd)
		host_loop_del_fd(loop, fd);
}

static rig_rc serial_start(void *self, struct host_loop *loop, struct sim *const *sim, unsigned n_lines, char *err,
                           size_t errcap)
{
	struct serial_dut *d = self;

	(void)sim;
	(void)n_lines;
	(void)errcap;
	err[0] = 0;
	d->loop = loop;
	return dut_board_fd(d->board) < 0 ? RIG_OK
	       : host_loop_add_fd(loop, dut_board_fd(d->board), on_console_readable, d);
}

/* A console that is gone is tried again on the engine's clock. */
static void serial_tick(void *self, uint32_t now_ms)
{
	struct serial_dut *d = self;

	if (dut_board_fd(d->board) < 0)
		dut_board_pump(d->board, now_ms, on_console_line, on_board_event, d);
}

/* The relay pin, read on its sense wire, is what is true about it. */
static int serial_relay(void *self)
{
	return dut_board_relay(((struct serial_dut *)self)->board);
}

static void serial_free(void *self)
{
	struct serial_dut *d = self;

	if (!d)
		return;
	dut_board_close(d->board);
	host_serial_close(d->bms_port);
	free(d);
}

const struct dut_ops dut_serial_ops = {
	.name = "serial",
	.open = serial_open,
	.transport = serial_transport,
	.start = serial_start,
	.tick = serial_tick,
	.relay = serial_relay,
	.free = serial_free,
};
