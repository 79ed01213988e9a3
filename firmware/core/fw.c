/* The firmware core: client -> pack_state -> policy -> relay, FETs and the telemetry line. */
#include <string.h>

#include "bmsrig/core/fw.h"
#include "bmsrig/core/telemetry.h"
#include "with.h"

/* A protocol the build leaves out (with.h) has an empty row: no name, no ops. */
const struct fw_proto_info rig_fw_protos[FW_PROTO_COUNT] = {
#if RIG_WITH_JBD
	[FW_PROTO_JBD]      = { "jbd", &rig_jbd_client_ops, 500u, 0u },
#endif
#if RIG_WITH_JBD
	[FW_PROTO_JBD_BLE]  = { "jbd-ble", &rig_jbd_client_ops, 2000u, 0u },   /* connect, chunks */
#endif
#if RIG_WITH_DALY
	[FW_PROTO_DALY]     = { "daly", &rig_daly_client_ops, 500u, 0u },
#endif
#if RIG_WITH_DALY
	[FW_PROTO_DALY_BLE] = { "daly-ble", &rig_daly_client_ops, 2000u, DALY_CLIENT_HOST_BLE },
#endif
#if RIG_WITH_JK
	[FW_PROTO_JK]       = { "jk", &rig_jk_client_ops, 500u, 0u },
#endif
#if RIG_WITH_JK_BLE
	[FW_PROTO_JK_BLE]   = { "jk-ble", &rig_jk_ble_client_ops, 2000u, 0u },
#endif
	/* A pack answers in tens of ms; Deye itself waits about a second. */
#if RIG_WITH_DEYE_MODBUS
	[FW_PROTO_DEYE_MODBUS] = { "deye-modbus", &rig_deye_modbus_client_ops, 500u, 0u },
#endif
	/* a 15-module 0x42 is 2 KB: 2.2 s at 9600 baud */
#if RIG_WITH_PYLONTECH_RS485
	[FW_PROTO_PYLON_RS485] = { "pylontech-rs485", &rig_pylon_client_ops, 3000u, 0u },
#endif
	/* The "reply" is the next whole set, which comes once a second whenever the keep-alive went. */
#if RIG_WITH_PYLONTECH_CAN
	[FW_PROTO_PYLON_CAN] = { "pylontech-can", &rig_pylon_can_client_ops, 1500u, 0u },
#endif
	/* 105 bytes at 9600 baud take 110 ms */
#if RIG_WITH_BYD
	[FW_PROTO_BYD]       = { "byd", &rig_byd_client_ops, 500u, 0u },
#endif
	/* 308 bytes at 115200 baud take 27 ms; the board answers within tens of ms. */
#if RIG_WITH_JK_PB
	[FW_PROTO_JK_PB] = { "jk-pb", &rig_jk_pb_client_ops, 500u, 0u },
#endif
	/* A Bluetooth monitor: each of the three ATT pieces crosses the link in one or two events. */
#if RIG_WITH_THORNWAVE
	[FW_PROTO_THORNWAVE] = { "thornwave", &rig_thornwave_client_ops, 2000u, 0u },
#endif
	/* Newer firmware: a frame is three notifications 30 ms apart, once a second. */
#if RIG_WITH_THORNWAVE
	[FW_PROTO_THORNWAVE_X] = { "thornwave-x", &rig_thornwave_client_ops, 2000u, TW_CLIENT_STREAM },
#endif
};

int rig_fw_proto_find(const char *name)
{
	int i;

	for (i = 0; i < FW_PROTO_COUNT; i++)
		if (rig_fw_protos[i].name && !strcmp(rig_fw_protos[i].name, name))
			return i;
	return -1;
}

void rig_fw_init(struct fw *fw, const struct fw_hal *hal, const struct fw_cfg *cfg)
{
	memset(fw, 0, sizeof *fw);
	fw->hal = *hal;
	fw->cfg = *cfg;
	fw->fets_asked = FW_FETS_UNSET;
	rig_policy_init(&fw->policy, &cfg->policy);
	fw->ops = rig_fw_protos[cfg->proto].ops;
	fw->cfg.client.flags |= rig_fw_protos[cfg->proto].client_flags;
	fw->ops->init(&fw->client, &fw->cfg.client, hal->bms, &fw->pack);
	if (fw->hal.set_relay)
		fw->hal.set_relay(fw->hal.ctx, 0);   /* fail safe until the first good poll */
}

const struct client_stats *rig_fw_stats(const struct fw *fw)
{
	return fw->ops->stats(&fw->client);
}

static void report(struct fw *fw, uint32_t now_ms)
{
	const struct client_stats *st = rig_fw_stats(fw);
	struct telemetry t;

	t.ms = now_ms;
	t.proto = rig_fw_protos[fw->cfg.proto].name;
	t.ok = st->ok;
	t.pack = fw->have_data ? &fw->pack : NULL;
	t.relay = fw->policy.relay_closed;
	t.comm_fail = st->comm_fail;
	t.reasons = fw->policy.reasons;
	t.inv = NULL;
	if (fw->hal.report)
		fw->hal.report(fw->hal.ctx, &t);
	else if (rig_telemetry_format(fw->line, sizeof fw->line, &t) && fw->hal.telemetry)
		fw->hal.telemetry(fw->hal.ctx, fw->line);
}

/* What a finished cycle means: the pack's data, the relay, the FETs, the telemetry line. */
static void cycle_ended(struct fw *fw, enum client_event ev, uint32_t now_ms)
{
	const struct client_stats *st = rig_fw_stats(fw);

	if (ev == CLIENT_CYCLE_OK)
		fw->have_data = 1;
	if (rig_policy_update(&fw->policy, fw->have_data ? &fw->pack : NULL, st->comm_fail)) {
		if (fw->hal.set_relay)
			fw->hal.set_relay(fw->hal.ctx, fw->policy.relay_closed);
		if (fw->hal.log)
			fw->hal.log(fw->hal.ctx, fw->policy.relay_closed ? "relay closed" : "relay opened");
	}
	/* The relay starts open, so "on change" would never reach a BMS that is bad from the
	 * first poll: ask whenever the wish differs from what the BMS was last told. */
	if (fw->cfg.policy_drives_fets && fw->have_data && fw->fets_asked != fw->policy.relay_closed) {
		fw->fets_asked = fw->policy.relay_closed;
		fw->ops->set_fets(&fw->client, fw->fets_asked, fw->fets_asked);
	}
	report(fw, now_ms);
}

void rig_fw_step(struct fw *fw, uint32_t now_ms)
{
	unsigned pass;

	/* A second pass at the same time when a cycle ended: a cycle already due (poll_ms 0, or one
	 * that overran its poll_ms) sends its first request now, not a port's tick later, and after
	 * the FET wish, so that goes with it. Two passes at most, so a step never loops on cycles
	 * that end as soon as they begin. */
	for (pass = 0; pass < 2; pass++) {
		enum client_event ev = fw->ops->step(&fw->client, now_ms);

		if (ev == CLIENT_BUSY)
			return;
		cycle_ended(fw, ev, now_ms);
	}
}

#ifndef RIG_FIRMWARE   /* as rig_client_ops_next_due_ms (client.h) */
uint32_t rig_fw_next_due_ms(const struct fw *fw, uint32_t now_ms)
{
	/* Nothing in the core acts by itself but the client: the policy, the relay, the FET wish
	 * and the report all follow a cycle's end. */
	return fw->ops->next_due_ms ? fw->ops->next_due_ms(&fw->client, now_ms) : now_ms;
}
#endif
