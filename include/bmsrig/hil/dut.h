/*
 * The device under test, as `bmssim run --dut KIND` names it. One interface for the runner,
 * four kinds behind it:
 *   inproc   the firmware core linked into the runner, on simulated time (lockstep);
 *   host     the host bmsmon as a process on a pty, on the wall clock;
 *   qemu     the core on the ESP8266's CPU in QEMU (firmware/port/qemu-lx106), on a pty;
 *   serial   a real board: the emulator serves its BMS UART on a serial port, its telemetry
 *            console is another port (or the same one: telemetry lines are then taken out of
 *            the byte stream before the emulator sees it), its relay is read on a modem input
 *            line and its reset pulsed on a modem output.
 * A process DUT prints telemetry lines on stdout; a board prints them on its console.
 */
#ifndef BMSRIG_DUT_H
#define BMSRIG_DUT_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/io.h"
#include "bmsrig/core/rc.h"
#include "bmsrig/lib/serial.h"

struct telemetry;

enum dut_kind { DUT_INPROC = 0, DUT_HOST, DUT_QEMU, DUT_SERIAL };

#define DUT_BANNER_DEFAULT "BMSRIG-BOOT"

struct dut_spec {
	enum dut_kind kind;
	char bms_port[256];            /* serial: the port wired to the board's BMS UART */
	char console[256];             /* serial: its console; "" = the BMS port itself */
	uint32_t console_baud;         /* 115200 */
	int relay_line;                /* serial: HOST_LINE_CTS/DSR/DCD/RI the relay pin drives, or -1 */
	int reset_line;                /* serial: HOST_LINE_DTR/RTS pulsed to reset the board, or -1 */
	char banner[64];               /* serial: the line prefix a started board prints */
	uint32_t banner_ms;            /* how long to wait for it after the reset */
};

/* "inproc", "host", "qemu" or "serial:BMS_PORT[,console=PORT][,relay=cts|dsr|dcd|ri]
 * [,reset=dtr|rts|none][,banner=TEXT][,banner_ms=N][,console_baud=N]". err: one line. */
rig_rc dut_spec_parse(struct dut_spec *d, const char *text, char *err, size_t errcap);
const char *dut_kind_name(enum dut_kind k);

/* ---- the runner's view: one table of functions per kind ------------------------------------ */

struct host_loop;
struct rig_inverter_cfg;
struct scen_dut;
struct scenario;
struct sim;
struct sim_transport;

/* What the runner hands a device under test. */
struct dut_env {
	const struct dut_spec *spec;
	const char *cmd;               /* host, qemu: run this with {port}; NULL = the built program */
	const struct scenario *sc;     /* the world: the BMS it talks to */
	const struct scen_dut *dut;    /* its settings in the scenario (protocol, timing, policy) */
	void *ctx;                     /* the runner's, for the calls below */
	void (*line)(void *ctx, const char *line);   /* each line it printed: the runner parses it */
	/* An in-process DUT hands its reports here as the struct instead (no text to parse);
	 * its other lines, if any, still go to line. */
	void (*report)(void *ctx, const struct telemetry *t);
	void (*gone)(void *ctx);       /* its output ended (a process exited): the run stops */
	int quiet_stderr;              /* host, qemu: the process's stderr goes to /dev/null */
	unsigned grace_ms;             /* host, qemu: from SIGTERM to SIGKILL at stop; 0 = 500 */
};

/*
 * The runner calls only these (designated initialisers in hil/dut_<kind>.c); a NULL entry does
 * nothing. A scenario may have several BMS lines (`"line": N` in its `bms` array), each its own
 * emulator: a DUT reads up to lines_max of them (0 means 1; the runner refuses more, "device
 * under test: KIND reads 1 BMS line, the scenario has N"). In run order: open before the
 * clock starts (a board is reset and heard from), transport when each line's emulator opens (NULL: the emulator serves a
 * pty of its own), start once they all serve, with every line's emulator in line order (its
 * port, sim_port, for a process; the DUT watches its own fds and timers on loop), tick and relay at each
 * engine step, stop before the emulator closes (then status), free after it did. Errors fill
 * err, one line, which the runner puts after "device under test: "; start leaves err empty when
 * only the event loop ran out of memory.
 */
struct dut_ops {
	const char *name;
	rig_rc (*open)(void **self, const struct dut_env *env, char *err, size_t errcap);
	const struct sim_transport *(*transport)(void *self, unsigned line);
	rig_rc (*start)(void *self, struct host_loop *loop, struct sim *const *sim, unsigned n_lines, char *err,
	                size_t errcap);
	/* Each step before the timeline: what a DUT does on the engine's clock (a board's console
	 * reconnecting). */
	void (*tick)(void *self, uint32_t now_ms);
	/* The relay as sensed on the DUT itself: 1 closed, 0 open, -1 only its telemetry tells. */
	int (*relay)(void *self);
	void (*stop)(void *self);
	/* After stop: a process's wait status (-1 when it never ran); NULL for a DUT that is not
	 * a process. A session judges by it a DUT that ended by itself. */
	int (*status)(const void *self);
	void (*free)(void *self);
	/* Optional: the DUT's inverter port, for a scenario that declares an `inverter` (the rig
	 * plays the inverter, rig_inverter.h). Called once after open and before start; fills
	 * *line with the rig's end of the DUT's inverter line, which the runner's inverter client
	 * reads and writes at each engine step until stop (never blocking; the DUT keeps whatever
	 * line->ctx points to until free). The DUT makes the line its way: host and qemu a pty
	 * passed to the program as `--inverter PROTO:PATH` (bmsmon, or the virtual NodeMCU, which
	 * opens it through semihosting); inproc an in-process pair; serial later (a second serial
	 * port). NULL: the runner refuses a scenario with an inverter ("device under test: KIND has
	 * no inverter port"). */
	rig_rc (*inverter)(void *self, const struct rig_inverter_cfg *cfg, struct rig_io *line,
	                   char *err, size_t errcap);
	unsigned lines_max;            /* BMS lines it reads at once; 0 = 1 */
};

extern const struct dut_ops dut_inproc_ops;   /* hil/dut_inproc.c */
extern const struct dut_ops dut_host_ops;     /* hil/dut_host.c */
extern const struct dut_ops dut_qemu_ops;     /* hil/dut_qemu.c */
extern const struct dut_ops dut_serial_ops;   /* hil/dut_serial.c, over dut_board.c */

/* host and qemu are one kind of DUT, a process on the emulator's pty, that differ in the
 * program they run by default (hil/dut_host.c). program: the program's path from the folder
 * this one lives in, or 0 with why in out. */
rig_rc dut_process_open(void **self, const struct dut_env *env,
                        int (*program)(const char *dir, char *out, size_t cap),
                        char *err, size_t errcap);
/* Every line's port goes to the process: the default command gives bmsmon `--port P --proto X
 * [--address A,B]` per line; a given command gets line 1's in place of {port}. */
rig_rc dut_process_start(void *self, struct host_loop *loop, struct sim *const *sim, unsigned n_lines, char *err,
                         size_t errcap);
void dut_process_stop(void *self);
void dut_process_free(void *self);
/* After stop: the process's wait status, or -1 when it never ran. */
int dut_process_status(const void *self);
/* The inverter op for a process: a pty whose slave the process gets as --inverter PROTO:PATH
 * (the default command), or in a command given with --dut-cmd in place of each {inverter}
 * (PROTO:PATH) and {inverter_path} (PATH). */
rig_rc dut_process_inverter(void *self, const struct rig_inverter_cfg *cfg, struct rig_io *line,
                            char *err, size_t errcap);

/* ---- a real board's console ----------------------------------------------------------------- */

struct dut_board;

/* bms is the BMS port, opened by the caller (it serves the emulator on it; the relay line is
 * read there). Opens the console (unless it is the BMS port: then dut_board_demux carries the
 * lines), pulses the reset line, checks the relay line can be read, and waits for the banner
 * (banner_ms 0: does not). Errors name the port and what happened:
 * "/dev/ttyUSB1: cannot open: busy (held by another process)",
 * "/dev/ttyUSB1: no start-up banner \"BMSRIG-BOOT\" within 10000 ms after the reset". */
rig_rc dut_board_open(struct dut_board **out, const struct dut_spec *d, struct host_serial *bms,
                      char *err, size_t errcap);
void dut_board_close(struct dut_board *b);
/* The console's fd for poll(), or -1 while it is gone (unplugged) or shared with the BMS port. */
int dut_board_fd(const struct dut_board *b);
/* Reads the console: on_line for each complete line. When the port goes away it is closed and
 * tried again on each call (at most every 500 ms); on_event says "lost" and "back" once each. */
void dut_board_pump(struct dut_board *b, uint32_t now_ms, void (*on_line)(void *ctx, const char *line),
                    void (*on_event)(void *ctx, const char *what), void *ctx);
/* The relay as the sense wire shows it: 1 closed, 0 open, -1 no sense line or unreadable. The
 * pin's active level comes from the banner's "relay_active_high" (default 1); an adapter's
 * modem input reads active low (hil/README.md). */
int dut_board_relay(struct dut_board *b);

/*
 * One port carrying both the BMS link and the console: bytes from the board go through here;
 * whole lines starting with "BMSRIG" go to on_line, every other byte to out (returned count).
 * A byte that could still begin such a line is held back until it is clear either way.
 */
size_t dut_board_demux(struct dut_board *b, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                       void (*on_line)(void *ctx, const char *line), void *ctx);

#endif
