/* The firmware core linked into the runner as the device under test (dut.h): on simulated
 * time, stepped by a timer of the run's loop, its BMS link the emulator's in-process line
 * (transport_mem.h). With a scenario `inverter` it is the bridge instead (core/bridge.h: each
 * of the scenario's BMS lines one link, the inverter port on an in-memory line whose other end
 * the runner's inverter reads), stepped the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/core/bridge.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/lib/lazy_tick.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/hil/rig_inverter.h"
#include "bmsrig/hil/scenario_judge.h"
#include "bmsrig/sim/scenario.h"
#include "bmsrig/sim/transport_mem.h"

_Static_assert(SCEN_LINES_MAX <= RIG_BRIDGE_LINKS_MAX, "a scenario's BMS lines are the bridge's links");

/* One direction of the inverter line: bytes cross at once (both ends run on the loop's clock,
 * and neither protocol's timing depends on the wire's speed at these sizes). 4 KB holds the
 * longest reply, a 15-module Pylontech 0x42 (2 KB), twice. */
struct mem_pipe {
	uint8_t buf[4096];
	size_t head, len;
};

struct inproc_dut {
	struct dut_env env;
	struct host_loop *loop;
	struct sim_mem *line[SCEN_LINES_MAX];   /* each BMS line's, from the emulator to the core */
	unsigned n_lines;
	struct fw fw;
	struct host_lazy_tick tick;             /* its steps, on dut.step_ms's cadence */
	/* The bridge, when the scenario has an inverter. */
	int bridge_on;
	struct rig_inverter_cfg inv;
	struct mem_pipe to_rig, to_dut;
	struct rig_bridge bridge;
};

static int32_t pipe_write(struct mem_pipe *p, const uint8_t *b, uint16_t n)
{
	size_t k, room = sizeof p->buf - p->len;

	/* Short when full: the writer counts it (inv_port's io_errors, a client's resend). */
	if (n > room)
		n = (uint16_t)room;
	for (k = 0; k < n; k++)
		p->buf[(p->head + p->len + k) % sizeof p->buf] = b[k];
	p->len += n;
	return n;
}

static int32_t pipe_read(struct mem_pipe *p, uint8_t *b, uint16_t cap)
{
	size_t k, n = p->len < cap ? p->len : cap;

	for (k = 0; k < n; k++)
		b[k] = p->buf[(p->head + k) % sizeof p->buf];
	p->head = (p->head + n) % sizeof p->buf;
	p->len -= n;
	return (int32_t)n;
}

static int32_t rig_write(void *ctx, const uint8_t *b, uint16_t n) { return pipe_write(&((struct inproc_dut *)ctx)->to_dut, b, n); }
static int32_t rig_read(void *ctx, uint8_t *b, uint16_t cap) { return pipe_read(&((struct inproc_dut *)ctx)->to_rig, b, cap); }
static int32_t dut_write(void *ctx, const uint8_t *b, uint16_t n) { return pipe_write(&((struct inproc_dut *)ctx)->to_rig, b, n); }
static int32_t dut_read(void *ctx, uint8_t *b, uint16_t cap) { return pipe_read(&((struct inproc_dut *)ctx)->to_dut, b, cap); }

static rig_rc inproc_open(void **self, const struct dut_env *env, char *err, size_t errcap)
{
	struct inproc_dut *d = calloc(1, sizeof *d);
	unsigned l;

	*self = d;
	if (!d) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	d->env = *env;
	d->n_lines = env->sc && env->sc->n_lines ? env->sc->n_lines : 1;
	for (l = 0; l < d->n_lines; l++)
		if (sim_mem_new(&d->line[l]) != RIG_OK) {
			snprintf(err, errcap, "out of memory");
			return RIG_ERR_SPACE;
		}
	return RIG_OK;
}

static const struct sim_transport *inproc_transport(void *self, unsigned line)
{
	return sim_mem_emulator(((struct inproc_dut *)self)->line[line]);
}

static rig_rc inproc_inverter(void *self, const struct rig_inverter_cfg *cfg, struct rig_io *line, char *err,
                              size_t errcap)
{
	struct inproc_dut *d = self;

	(void)err;
	(void)errcap;
	d->bridge_on = 1;
	d->inv = *cfg;
	line->ctx = d;
	line->write = rig_write;
	line->read = rig_read;
	return RIG_OK;
}

/* The core's HAL */
static uint32_t hal_now(void *ctx) { return host_loop_now_ms(((struct inproc_dut *)ctx)->loop); }

static void hal_telemetry(void *ctx, const char *line)
{
	struct inproc_dut *d = ctx;

	d->env.line(d->env.ctx, line);
}

static void hal_report(void *ctx, const struct telemetry *t)
{
	struct inproc_dut *d = ctx;

	d->env.report(d->env.ctx, t);
}

/* The core steps only at the ticks where it has something due or its line has new bytes
 * (lazy_tick.h): the same steps at the same times as at every tick, less the ones that would
 * have done nothing. The bridge, with an inverter port and several links, steps at every tick. */
static uint32_t fw_tick(void *ctx, uint32_t now_ms)
{
	struct inproc_dut *d = ctx;

	if (d->bridge_on) {
		rig_bridge_step(&d->bridge, now_ms);
		return now_ms;
	}
	rig_fw_step(&d->fw, now_ms);
	return rig_fw_next_due_ms(&d->fw, now_ms);
}

static void line_bytes(void *ctx)
{
	host_lazy_tick_wake(&((struct inproc_dut *)ctx)->tick);
}

/* Link l of the bridge: line l of the scenario, its protocol (line 0's as `dut` says, the
 * others' their BMS kind's), `dut`'s timing (a later line of another protocol takes that
 * protocol's own timeout unless `dut` gave one other than line 0's default) and the addresses
 * of its units, polled in turn when there are several (a bus). */
static int bridge_link(const struct inproc_dut *d, unsigned l, struct rig_bridge_link_cfg *link)
{
	const struct scenario *sc = d->env.sc;
	const struct bms_spec *b = scenario_line_spec(sc, l);
	const struct fw_cfg *fw = &d->env.dut->fw;
	int proto = l ? rig_fw_proto_find(b->kind->name) : (int)fw->proto;
	unsigned k;

	if (proto < 0)
		return 0;
	link->proto = (uint8_t)proto;
	link->client = fw->client;
	if (l) {
		link->client.address = b->unit.address;
		if (fw->client.timeout_ms == rig_fw_protos[fw->proto].timeout_ms)
			link->client.timeout_ms = rig_fw_protos[proto].timeout_ms;
	}
	link->design_mAh = (uint32_t)(b->unit.model.capacity_Ah * 1000.0);
	if (sc->line_units[l] > 1)
		for (k = 0; k < sc->n_units; k++)
			if (sc->unit_line[k] == l)
				link->addr[link->addr_count++] = sc->unit[k].unit.address;
	return 1;
}

/* The bridge over the scenario's BMS lines (one link each): their protocols, timing and policy
 * as `dut` says, the aggregator's defaults for the pack's chemistry and cells, the inverter
 * port speaking the scenario inverter's protocol at its address, raising the communication
 * alarm when the rig is silent (send_keepalive false). */
static rig_rc bridge_start(struct inproc_dut *d, char *err, size_t errcap)
{
	const struct model_cfg *m = &d->env.sc->bms.unit.model;
	struct rig_bridge_hal hal;
	struct rig_bridge_cfg cfg;
	unsigned l;

	memset(&hal, 0, sizeof hal);
	hal.inverter.ctx = d;
	hal.inverter.write = dut_write;
	hal.inverter.read = dut_read;
	hal.ctx = d;
	hal.telemetry = hal_telemetry;
	hal.report = d->env.report ? hal_report : NULL;
	rig_bridge_cfg_defaults(&cfg, m->chem == MODEL_CHEM_NMC ? RIG_AGG_CHEM_NMC : RIG_AGG_CHEM_LFP, m->cells);
	cfg.link_count = (uint8_t)d->n_lines;
	for (l = 0; l < d->n_lines; l++) {
		hal.bms[l] = sim_mem_client(d->line[l]);
		if (!bridge_link(d, l, &cfg.link[l])) {
			snprintf(err, errcap, "the bridge has no client for line %u's %s", l + 1,
			         scenario_line_spec(d->env.sc, l)->kind->name);
			return RIG_ERR_ARG;
		}
	}
	cfg.policy = d->env.dut->fw.policy;
	cfg.inverter = 1;
	cfg.inv.proto = d->inv.proto;
	cfg.inv.address = d->inv.address;
	cfg.inv.comm_alarm = 1;
	if (rig_bridge_init(&d->bridge, &hal, &cfg, host_loop_now_ms(d->loop)) != RIG_OK) {
		snprintf(err, errcap, "the bridge refused %s as its BMS link with a %s inverter port",
		         rig_fw_protos[d->env.dut->fw.proto].name, rig_inv_port_proto_name(d->inv.proto));
		return RIG_ERR_ARG;
	}
	return RIG_OK;
}

static rig_rc inproc_start(void *self, struct host_loop *loop, struct sim *const *sim, unsigned n_lines, char *err,
                           size_t errcap)
{
	struct inproc_dut *d = self;
	struct fw_hal hal = { { 0 }, d, hal_now, NULL, hal_telemetry, NULL, NULL };
	unsigned l;

	hal.report = d->env.report ? hal_report : NULL;
	err[0] = 0;
	d->loop = loop;
	for (l = 0; l < n_lines && l < d->n_lines; l++) {
		sim_mem_attach(d->line[l], loop, sim[l]);
		sim_mem_on_bytes(d->line[l], line_bytes, d);
	}
	if (d->bridge_on) {
		if (bridge_start(d, err, errcap) != RIG_OK)
			return RIG_ERR_ARG;
	} else {
		hal.bms = sim_mem_client(d->line[0]);
		rig_fw_init(&d->fw, &hal, &d->env.dut->fw);
	}
	return host_lazy_tick_start(&d->tick, loop, d->env.dut->step_ms, fw_tick, d);
}

static void inproc_free(void *self)
{
	struct inproc_dut *d = self;
	unsigned l;

	for (l = 0; d && l < SCEN_LINES_MAX; l++)
		if (d->line[l])
			sim_mem_free(d->line[l]);
	free(d);
}

const struct dut_ops dut_inproc_ops = {
	.name = "inproc",
	.open = inproc_open,
	.transport = inproc_transport,
	.start = inproc_start,
	.free = inproc_free,
	.inverter = inproc_inverter,
	.lines_max = SCEN_LINES_MAX,
};
