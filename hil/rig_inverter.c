/* The rig as the inverter (rig_inverter.h): the core's inverter-side clients, unchanged, on the
 * DUT's inverter line, with the record and its age kept the same way for the three protocols. */
#include <math.h>
#include <string.h>

#include "bmsrig/hil/expect.h"
#include "bmsrig/hil/rig_inverter.h"

void rig_inverter_cfg_default(struct rig_inverter_cfg *cfg, uint8_t proto)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->on = 1;
	cfg->proto = proto;
	cfg->keepalive = 1;
	cfg->poll_ms = RIG_INVERTER_POLL_MS;
	cfg->timeout_ms = proto == RIG_INV_PYLON_CAN ? RIG_INVERTER_CAN_TIMEOUT_MS : RIG_INVERTER_TIMEOUT_MS;
}

/* The line as the client sees it. With the keep-alive off the CAN client still runs its cycle
 * (it opens the adapter and times the sets), but its 0x305 frames never reach the DUT: the
 * device then hears a silent inverter, which is what a scenario testing its silence alarm
 * wants, while the rig goes on decoding every set it sends. */
static int32_t line_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct rig_inverter *v = ctx;

	if (!v->cfg.keepalive && v->cfg.proto == RIG_INV_PYLON_CAN && n >= 4 && !memcmp(p, "t305", 4)) {
		v->dropped_keepalives++;
		return n;
	}
	return v->line.write(v->line.ctx, p, n);
}

static int32_t line_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct rig_inverter *v = ctx;
	uint8_t in[256];
	uint32_t delay_ms;
	int32_t n;
	size_t k;

	if (!v->faults || !wire_faults_any(v->faults))
		if (!v->pend_len)
			return v->line.read(v->line.ctx, p, cap);
	if (!v->pend_len) {
		n = v->line.read(v->line.ctx, in, sizeof in);
		if (n <= 0)
			return n;
		/* 115200: the byte time the faults' sizes assume; nothing here is paced by it. */
		v->pend_len = wire_faults_reply(v->faults, in, (size_t)n, 115200u, v->pend, sizeof v->pend, &delay_ms);
		v->pend_at = 0;
	}
	for (k = 0; k < cap && k < v->pend_len; k++)
		p[k] = v->pend[v->pend_at + k];
	v->pend_at += k;
	v->pend_len -= k;
	return (int32_t)k;
}

rig_rc rig_inverter_init(struct rig_inverter *v, const struct rig_inverter_cfg *cfg, struct rig_io line)
{
	struct client_cfg cc = CLIENT_CFG_DEFAULT;
	struct rig_io io;

	if (cfg->proto >= RIG_INV_PROTO_COUNT)
		return RIG_ERR_ARG;
	memset(v, 0, sizeof *v);
	v->cfg = *cfg;
	v->line = line;
	io.ctx = v;
	io.write = line_write;
	io.read = line_read;
	cc.poll_ms = cfg->poll_ms ? cfg->poll_ms : RIG_INVERTER_POLL_MS;
	cc.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : RIG_INVERTER_TIMEOUT_MS;
	cc.address = cfg->address;
	if (cfg->proto == RIG_INV_PYLON_CAN)
		rig_pylon_can_client_init(&v->c.can, &cc, io, &v->ps);
	else if (cfg->proto == RIG_INV_PYLON_RS485)
		rig_pylon_client_init(&v->c.rs485, &cc, io, &v->ps);
	else
		rig_deye_modbus_client_init(&v->c.mb, &cc, io, &v->ps);
	return RIG_OK;
}

void rig_inverter_step(struct rig_inverter *v, uint32_t now_ms)
{
	enum client_event ev;

	switch (v->cfg.proto) {
	case RIG_INV_PYLON_CAN:
		/* A set counts whenever it comes, asked for by a keep-alive or not. */
		rig_pylon_can_client_step(&v->c.can, now_ms);
		if (v->c.can.sets != v->records && rig_pylon_can_client_last(&v->c.can, &v->last, &v->last_ms))
			v->records = v->c.can.sets;
		return;
	case RIG_INV_PYLON_RS485:
		ev = rig_pylon_client_step(&v->c.rs485, now_ms);
		if (ev == CLIENT_CYCLE_OK)
			v->last = v->c.rs485.inv;
		break;
	default:
		ev = rig_deye_modbus_client_step(&v->c.mb, now_ms);
		if (ev == CLIENT_CYCLE_OK)
			v->last = v->c.mb.inv;
		break;
	}
	if (ev == CLIENT_CYCLE_OK) {
		v->last_ms = now_ms;
		v->records++;
	}
}

const struct rig_inv_battery *rig_inverter_last(const struct rig_inverter *v, uint32_t *at_ms)
{
	if (!v->records)
		return NULL;
	if (at_ms)
		*at_ms = v->last_ms;
	return &v->last;
}

const struct client_stats *rig_inverter_stats(const struct rig_inverter *v)
{
	/* Every client begins with its engine (client.h), whose stats are the same for all. */
	return rig_client_ops_stats(&v->c);
}

void rig_inverter_env(const struct rig_inverter *v, uint32_t now_ms, struct expect_env *env)
{
	uint32_t at = 0;

	env->inv_dut = v ? rig_inverter_last(v, &at) : NULL;
	env->inv_records = v ? v->records : 0;
	env->inv_age_ms = env->inv_dut ? (double)(uint32_t)(now_ms - at) : NAN;
}

void rig_inverter_faults(struct rig_inverter *v, struct wire_faults *faults)
{
	v->faults = faults;
}
