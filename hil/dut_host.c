/* A device under test as a process on the emulator's pty (dut.h): the host bmsmon, or any
 * command that prints telemetry lines on stdout. The virtual NodeMCU (hil/dut_qemu.c) is the
 * same kind of DUT with another program. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/hil/hil.h"
#include "bmsrig/hil/rig_inverter.h"
#include "bmsrig/lib/pty.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/hil/scenario_judge.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/sim.h"

#define CMD_BYTES 8192u

struct proc_dut {
	struct dut_env env;
	int (*program)(const char *dir, char *out, size_t cap);
	struct host_loop *loop;
	struct dut_proc *proc;
	int status;                        /* wait status once stopped; -1 before */
	struct host_pty *inv_pty;           /* the inverter line, when the scenario has an inverter */
	char inv_arg[300];                 /* "PROTO:PATH" for --inverter / {inverter}; "" = none */
	uint8_t inv_address;               /* the scenario inverter's (0: the protocol's) */
};

rig_rc dut_process_open(void **self, const struct dut_env *env,
                        int (*program)(const char *dir, char *out, size_t cap),
                        char *err, size_t errcap)
{
	struct proc_dut *d = calloc(1, sizeof *d);

	*self = d;
	if (!d) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	d->env = *env;
	d->program = program;
	d->status = -1;
	return RIG_OK;
}

/* One `--port P --proto X --address A[,B...]` per line, for bmsmon's bridge mode (options after
 * a --port are that port's): line 0's protocol is `dut`'s (its "proto" may differ from the BMS's
 * name), the others' their BMS kind's. */
static int port_args(const struct proc_dut *d, struct sim *const *sim, unsigned n_lines, char *out, size_t cap)
{
	const struct scenario *sc = d->env.sc;
	size_t n = 0;
	unsigned l, k;

	for (l = 0; l < n_lines; l++) {
		int proto = l ? rig_fw_proto_find(scenario_line_spec(sc, l)->kind->name) : (int)d->env.dut->fw.proto;
		/* Without an inverter bmsmon is no bridge: it reads one unit, the first (as before). */
		unsigned units = sc && sc->n_lines > l && d->inv_arg[0] ? sc->line_units[l] : 1;
		const char *sep = "";

		if (proto < 0)
			return 0;
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s--port '%s' --proto %s --address ", l ? " " : "",
		                      sim_port(sim[l]), rig_fw_protos[proto].name);
		if (units <= 1)
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%u", l ? scenario_line_spec(sc, l)->unit.address
			                                                              : d->env.dut->fw.client.address);
		for (k = 0; units > 1 && sc && k < sc->n_units; k++)
			if (sc->unit_line[k] == l) {
				n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%u", sep, sc->unit[k].unit.address);
				sep = ",";
			}
	}
	return n < cap;
}

/* The program with the scenario's DUT settings as flags. Returns 0 with why in out when the
 * program is not there. With an inverter, the bridge's flags too: the pack's cells for the
 * aggregator's limits and the inverter's address, as the in-process bridge takes them. */
static int default_cmd(const struct proc_dut *d, struct sim *const *sim, unsigned n_lines, char *out, size_t cap)
{
	const struct fw_cfg *f = &d->env.dut->fw;
	char self[4096] = "", prog[4600], ports[2048], bridge[400] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *dir = ".";

	if (n > 0) {
		self[n] = 0;
		dir = dirname(self);
	}
	if (!d->program(dir, prog, sizeof prog)) {
		snprintf(out, cap, "%.900s", prog);
		return 0;
	}
	if (!port_args(d, sim, n_lines, ports, sizeof ports)) {
		snprintf(out, cap, "the command for %u BMS lines does not fit", n_lines);
		return 0;
	}
	if (d->inv_arg[0])
		snprintf(bridge, sizeof bridge, " --inverter %s --inverter-address %u --cells %u", d->inv_arg,
		         d->inv_address, d->env.sc->bms.unit.model.cells);
	snprintf(out, cap,
	         "'%s' %s --poll-ms %u --timeout-ms %u --retries %u "
	         "--cell-max-mv %u --cell-min-mv %u --cell-hyst-mv %u --temp-max-dk %u --temp-min-dk %u "
	         "--temp-hyst-dk %u --silent-polls %u%s%s -q",
	         prog, ports, f->client.poll_ms, f->client.timeout_ms, f->client.retries,
	         f->policy.cell_max_mV, f->policy.cell_min_mV, f->policy.cell_hyst_mV, f->policy.temp_max_dK,
	         f->policy.temp_min_dK, f->policy.temp_hyst_dK, f->policy.comm_fail_max,
	         f->policy_drives_fets ? " --policy-fets" : "", bridge);
	return 1;
}

/* A given command with each {inverter} replaced by PROTO:PATH (for a program taking bmsmon's
 * --inverter) and each {inverter_path} by PATH (for one that only opens it); 0 when it does
 * not fit. */
static int put_inverter(const struct proc_dut *d, const char *cmd, char *out, size_t cap)
{
	const char *path = strchr(d->inv_arg, ':');
	const struct { const char *key; const char *value; } subst[] = {
		{ "{inverter}", d->inv_arg }, { "{inverter_path}", path ? path + 1 : "" },
	};
	size_t n = 0, k;
	const char *p = cmd;

	while (*p) {
		for (k = 0; k < sizeof subst / sizeof subst[0]; k++)
			if (!strncmp(p, subst[k].key, strlen(subst[k].key)))
				break;
		if (k < sizeof subst / sizeof subst[0]) {
			size_t vlen = strlen(subst[k].value);

			if (n + vlen >= cap)
				return 0;
			memcpy(out + n, subst[k].value, vlen);
			n += vlen;
			p += strlen(subst[k].key);
			continue;
		}
		if (n + 1 >= cap)
			return 0;
		out[n++] = *p++;
	}
	out[n] = 0;
	return 1;
}

static int32_t inv_write(void *ctx, const uint8_t *p, uint16_t n) { return host_pty_write(ctx, p, n); }
static int32_t inv_read(void *ctx, uint8_t *p, uint16_t cap) { return host_pty_read(ctx, p, cap); }

rig_rc dut_process_inverter(void *self, const struct rig_inverter_cfg *cfg, struct rig_io *line,
                            char *err, size_t errcap)
{
	struct proc_dut *d = self;

	/* The pty outlives the process's opens and closes (pty.h), so a DUT that reopens its
	 * inverter port finds the rig still there. 115200: slcan's and the RS485 adapters' usual
	 * host-side speed; a pty does not pace by it. */
	if (host_pty_open(&d->inv_pty, NULL, 115200, err, errcap) != RIG_OK)
		return RIG_ERR_IO;
	snprintf(d->inv_arg, sizeof d->inv_arg, "%s:%s", rig_inv_port_proto_name(cfg->proto),
	         host_pty_path(d->inv_pty));
	d->inv_address = cfg->address;
	line->ctx = d->inv_pty;
	line->write = inv_write;
	line->read = inv_read;
	return RIG_OK;
}

static void on_readable(struct host_loop *loop, int fd, void *ctx)
{
	struct proc_dut *d = ctx;

	if (dut_proc_pump(d->proc, d->env.line, d->env.ctx)) {
		host_loop_del_fd(loop, fd);
		d->env.gone(d->env.ctx);
	}
}

rig_rc dut_process_start(void *self, struct host_loop *loop, struct sim *const *sim, unsigned n_lines, char *err,
                         size_t errcap)
{
	struct proc_dut *d = self;
	char cmd[CMD_BYTES];

	d->loop = loop;
	if (d->env.cmd) {
		if (!put_inverter(d, d->env.cmd, cmd, sizeof cmd)) {
			snprintf(err, errcap, "the command is too long with {inverter} replaced");
			return RIG_ERR_IO;
		}
	} else if (!default_cmd(d, sim, n_lines, cmd, sizeof cmd)) {
		snprintf(err, errcap, "%s", cmd);
		return RIG_ERR_IO;
	}
	if (dut_proc_start(&d->proc, cmd, sim_port(sim[0]), d->env.quiet_stderr, err, errcap) != RIG_OK)
		return RIG_ERR_IO;
	err[0] = 0;
	return host_loop_add_fd(loop, dut_proc_fd(d->proc), on_readable, d);
}

void dut_process_stop(void *self)
{
	struct proc_dut *d = self;

	if (!d->proc)
		return;
	host_loop_del_fd(d->loop, dut_proc_fd(d->proc));
	d->status = dut_proc_stop(d->proc, d->env.grace_ms ? d->env.grace_ms : 500);
	dut_proc_free(d->proc);
	d->proc = NULL;
}

int dut_process_status(const void *self)
{
	return ((const struct proc_dut *)self)->status;
}

void dut_process_free(void *self)
{
	struct proc_dut *d = self;

	dut_process_stop(self);
	if (d && d->inv_pty)
		host_pty_close(d->inv_pty);
	free(self);
}

/* bmsmon beside this program. */
static int host_program(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s/bmsmon", dir);
	return 1;
}

static rig_rc host_open(void **self, const struct dut_env *env, char *err, size_t errcap)
{
	return dut_process_open(self, env, host_program, err, errcap);
}

/* The process kinds' table: host_open picks the program, the rest is shared with qemu. */
const struct dut_ops dut_host_ops = {
	.name = "host",
	.open = host_open,
	.start = dut_process_start,
	.stop = dut_process_stop,
	.status = dut_process_status,
	.free = dut_process_free,
	.inverter = dut_process_inverter,
	.lines_max = SCEN_LINES_MAX,
};
