/* The firmware core linked into the runner as the device under test (dut.h): on simulated
 * time, stepped by a timer of the run's loop, its BMS link the emulator's in-process line
 * (transport_mem.h). */
#include <stdio.h>
#include <stdlib.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/core/fw.h"
#include "bmsrig/lib/loop.h"
#include "bmsrig/hil/scenario_judge.h"
#include "bmsrig/sim/transport_mem.h"

struct inproc_dut {
	struct dut_env env;
	struct host_loop *loop;
	struct sim_mem *line;
	struct fw fw;
};

static rig_rc inproc_open(void **self, const struct dut_env *env, char *err, size_t errcap)
{
	struct inproc_dut *d = calloc(1, sizeof *d);

	*self = d;
	if (!d) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	d->env = *env;
	if (sim_mem_new(&d->line) != RIG_OK) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_SPACE;
	}
	return RIG_OK;
}

static const struct sim_transport *inproc_transport(void *self)
{
	return sim_mem_emulator(((struct inproc_dut *)self)->line);
}

/* The core's HAL */
static uint32_t hal_now(void *ctx) { return host_loop_now_ms(((struct inproc_dut *)ctx)->loop); }

static void hal_telemetry(void *ctx, const char *line)
{
	struct inproc_dut *d = ctx;

	d->env.line(d->env.ctx, line);
}

static int fw_tick(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct inproc_dut *d = ctx;

	(void)id;
	rig_fw_step(&d->fw, host_loop_now_ms(loop));
	return (int)d->env.dut->step_ms;
}

static rig_rc inproc_start(void *self, struct host_loop *loop, struct sim *sim, char *err, size_t errcap)
{
	struct inproc_dut *d = self;
	struct fw_hal hal = { { 0 }, d, hal_now, NULL, hal_telemetry, NULL };

	(void)errcap;
	err[0] = 0;
	d->loop = loop;
	sim_mem_attach(d->line, loop, sim);
	hal.bms = sim_mem_client(d->line);
	rig_fw_init(&d->fw, &hal, &d->env.dut->fw);
	return host_loop_add_timer(loop, d->env.dut->step_ms, fw_tick, d) ? RIG_OK : RIG_ERR_SPACE;
}

static void inproc_free(void *self)
{
	struct inproc_dut *d = self;

	if (d)
		sim_mem_free(d->line);
	free(d);
}

const struct dut_ops dut_inproc_ops = {
	.name = "inproc",
	.open = inproc_open,
	.transport = inproc_transport,
	.start = inproc_start,
	.free = inproc_free,
};
