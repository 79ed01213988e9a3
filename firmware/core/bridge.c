/* The bridge: BMS links -> aggregator (+ the policy's hold) -> inverter port and telemetry.
 * The rules and the RAM budget are in bridge.h and docs/aggregator.md. */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/bridge.h"
#include "bmsrig/core/telemetry.h"
#include "with.h"

/* Between cycle events the aggregate is refreshed this often, so a pack going stale shows in
 * what the inverter hears without waiting for another pack's cycle. */
#define BRIDGE_COMPUTE_MS 100u

/* The policy reasons that hold the battery: a pack's measurements. Silence is not one of them
 * (the aggregator takes a silent pack's share out) and neither is "no data yet". */
#define BRIDGE_HOLD_REASONS (POLICY_CELL_HIGH | POLICY_CELL_LOW | POLICY_TEMP_HIGH | POLICY_TEMP_LOW)

/* Which directions each policy reason holds (rig_bridge_hold_dirs): the direction that makes
 * the fault worse. The bridge's policy watches the discharge window's temperatures (the wider
 * one: beyond it charging is already 0 by the aggregator's charge window), so its temperature
 * reasons are discharge-temperature ones. A reason not listed holds both: the safe default. */
static const struct {
	uint32_t reason;
	uint8_t dirs;
} hold_dirs[] = {
	{ POLICY_CELL_HIGH, RIG_AGG_HOLD_CHG },    /* over-voltage: discharging brings it down */
	{ POLICY_CELL_LOW, RIG_AGG_HOLD_DSG },     /* under-voltage: charging brings it up */
	{ POLICY_TEMP_HIGH, RIG_AGG_HOLD_DSG },    /* beyond the discharge window ... */
	{ POLICY_TEMP_LOW, RIG_AGG_HOLD_DSG },     /* ... (charging is 0 there by the charge window) */
};

unsigned rig_bridge_hold_dirs(uint32_t reasons)
{
	unsigned dirs = 0, i;

	for (i = 0; i < sizeof hold_dirs / sizeof hold_dirs[0]; i++)
		if (reasons & hold_dirs[i].reason) {
			dirs |= hold_dirs[i].dirs;
			reasons &= ~hold_dirs[i].reason;
		}
	return reasons ? (unsigned)RIG_AGG_HOLD_ALL : dirs;
}

void rig_bridge_cfg_defaults(struct rig_bridge_cfg *cfg, enum rig_agg_chem chem, uint8_t cells)
{
	static const struct client_cfg ccfg = CLIENT_CFG_DEFAULT;
	unsigned i;

	memset(cfg, 0, sizeof *cfg);
	rig_agg_cfg_defaults(&cfg->agg, chem, cells);
	for (i = 0; i < RIG_BRIDGE_LINKS_MAX; i++)
		cfg->link[i].client = ccfg;
	/* The policy's limits are the BMS's own protection points the aggregator also uses, so the
	 * hold and the taper agree on where a cell is too high. */
	cfg->policy.cell_max_mV = cfg->agg.cell_ovp_mV;
	cfg->policy.cell_min_mV = cfg->agg.cell_uvp_mV;
	cfg->policy.cell_hyst_mV = 50u;
	cfg->policy.temp_max_dK = cfg->agg.dsg_otp_dK;
	cfg->policy.temp_min_dK = cfg->agg.dsg_utp_dK;
	cfg->policy.temp_hyst_dK = 30u;
	cfg->policy.comm_fail_max = 0u;
}

void rig_bridge_link_set(struct rig_bridge_link_cfg *lc, uint8_t proto, const struct client_cfg *timing,
                         const uint8_t *addr, uint8_t n)
{
	if (n > RIG_BRIDGE_PACKS_MAX)
		n = RIG_BRIDGE_PACKS_MAX;
	lc->proto = proto;
	lc->client = *timing;
	if (!lc->client.timeout_ms && proto < FW_PROTO_COUNT)
		lc->client.timeout_ms = rig_fw_protos[proto].timeout_ms;
	lc->client.address = n ? addr[0] : 0u;
	lc->addr_count = n > 1u ? n : 0u;
	if (n)
		memcpy(lc->addr, addr, n);
}

/* (Re)starts link l's client on the address of its pack `cur`. */
static void link_start(struct rig_bridge *b, unsigned l)
{
	struct rig_bridge_link *k = &b->link[l];
	const struct rig_bridge_link_cfg *lc = &b->cfg.link[l];

	if (lc->addr_count)
		k->ccfg.address = lc->addr[k->cur];
	k->ops->init(&k->client, &k->ccfg, b->hal.bms[l], &k->work);
}

rig_rc rig_bridge_init(struct rig_bridge *b, const struct rig_bridge_hal *hal, const struct rig_bridge_cfg *cfg,
                       uint32_t now_ms)
{
	unsigned l, i, packs = 0;

	memset(b, 0, sizeof *b);
	if (!cfg->link_count || cfg->link_count > RIG_BRIDGE_LINKS_MAX)
		return RIG_ERR_ARG;
	for (l = 0; l < cfg->link_count; l++) {
		const struct rig_bridge_link_cfg *lc = &cfg->link[l];

		/* The one client the link union leaves out: its 6 KB buffer is the RAM budget. */
		if (lc->proto >= FW_PROTO_COUNT || lc->proto == FW_PROTO_PYLON_RS485)
			return RIG_ERR_ARG;
		if (!rig_fw_protos[lc->proto].ops)   /* a protocol this build leaves out (with.h) */
			return RIG_ERR_ARG;
		if (lc->addr_count > RIG_BRIDGE_PACKS_MAX)
			return RIG_ERR_ARG;
		packs += lc->addr_count ? lc->addr_count : 1u;
	}
	if (packs > RIG_BRIDGE_PACKS_MAX)
		return RIG_ERR_ARG;
	b->hal = *hal;
	b->cfg = *cfg;
	b->cfg.agg.pack_count = (uint8_t)packs;
	b->pack_count = (uint8_t)packs;
	if (cfg->inverter && rig_inv_port_init(&b->port, &cfg->inv, hal->inverter, now_ms) != RIG_OK)
		return RIG_ERR_ARG;
	packs = 0;
	for (l = 0; l < cfg->link_count; l++) {
		struct rig_bridge_link *k = &b->link[l];
		const struct rig_bridge_link_cfg *lc = &cfg->link[l];

		k->ops = rig_fw_protos[lc->proto].ops;
		k->ccfg = lc->client;
		k->ccfg.flags |= rig_fw_protos[lc->proto].client_flags;
		k->first_pack = (uint8_t)packs;
		packs += lc->addr_count ? lc->addr_count : 1u;
		link_start(b, l);
		k->round_ms = now_ms;
	}
	for (i = 0; i < b->pack_count; i++)
		rig_policy_init(&b->pack[i].policy, &b->cfg.policy);
	rig_agg_init(&b->agg, &b->cfg.agg, now_ms);
	b->agg_flags = rig_agg_compute(&b->agg, now_ms, 0, &b->battery);
	b->computed_ms = now_ms;
	b->next_report_ms = now_ms;
	if (b->hal.set_relay)
		b->hal.set_relay(b->hal.ctx, 0);   /* fail safe until a pack is online */
	return RIG_OK;
}

uint32_t rig_bridge_pack_age_ms(const struct rig_bridge *b, unsigned i, uint32_t now_ms)
{
	if (i >= b->pack_count)
		return 0xFFFFFFFFu;
	return now_ms - (b->agg.pack[i].seen ? b->agg.pack[i].updated_ms : b->agg.start_ms);
}

/* A cycle of pack i ended: hand a good one to the aggregator and the pack's policy. */
static void pack_cycle(struct rig_bridge *b, unsigned l, unsigned i, enum client_event ev)
{
	struct rig_bridge_pack *p = &b->pack[i];
	const struct rig_bridge_link_cfg *lc = &b->cfg.link[l];

	if (ev == CLIENT_CYCLE_OK) {
		p->ok = 1;
		p->comm_fail = 0;
		p->cycles_ok++;
		/* An inverter-protocol battery read on the link brings its own BMS's limits. */
		if (RIG_WITH_PYLONTECH_CAN && lc->proto == FW_PROTO_PYLON_CAN) {
			struct rig_inv_battery own;
			uint32_t at_ms;

			rig_agg_update(&b->agg, i, &b->link[l].work, lc->design_mAh,
			               rig_pylon_can_client_last(&b->link[l].client.pylon_can, &own, &at_ms) ? &own : NULL);
		} else if (lc->proto == FW_PROTO_DEYE_MODBUS) {
			/* A Deye block has only the highest and lowest cell, which its client reports as
			 * two cells; the aggregator counts cells for a pack's CVL and DVL (cells x the
			 * cell's), so it gets the extremes spread over the configured cell count. */
			struct pack_state s = b->link[l].work;
			unsigned c;

			if (s.cell_count == 2u && b->cfg.agg.cells > 2u && b->cfg.agg.cells <= PACK_CELLS_MAX) {
				for (c = 2; c < b->cfg.agg.cells; c++)
					s.cell_mV[c] = s.cell_mV[1];
				s.cell_count = b->cfg.agg.cells;
			}
			/* Nor has it a discharge limit (nor DVL): its record's DCL 0 is "not said", and
			 * as the pack's own limit it zeroed the battery's DCL; no cap instead, so the
			 * aggregator's rules and the pack's discharge FET decide. */
			struct rig_inv_battery own = b->link[l].client.deye_modbus.inv;

			own.dcl_mA = INT32_MAX;
			rig_agg_update(&b->agg, i, &s, lc->design_mAh, &own);
		} else {
			rig_agg_update(&b->agg, i, &b->link[l].work, lc->design_mAh, NULL);
		}
		rig_policy_update(&p->policy, &b->link[l].work, 0);
	} else {
		p->ok = 0;
		p->cycles_failed++;
		if (p->comm_fail < 0xFFFFu)
			p->comm_fail++;
	}
}

/* Steps link l's client; 1 when a cycle ended. A bus moves on to its next address, and rests
 * after the last until poll_ms after its round began. */
static int link_step(struct rig_bridge *b, unsigned l, uint32_t now_ms)
{
	struct rig_bridge_link *k = &b->link[l];
	const struct rig_bridge_link_cfg *lc = &b->cfg.link[l];
	enum client_event ev;
	unsigned pass;

	if (k->resting) {
		if (!client_due(now_ms, k->next_round_ms))
			return 0;
		k->resting = 0;
		k->cur = 0;
		k->round_ms = now_ms;
		link_start(b, l);
	}
	/* A lone pack's next cycle, when already due (poll_ms 0, or an overrun), starts in this
	 * step, as rig_fw_step does: a second pass, never a third, so a step never loops. A bus
	 * keeps its step between addresses. */
	for (pass = 0;; pass++) {
		ev = k->ops->step(&k->client, now_ms);
		if (ev == CLIENT_BUSY)
			return pass > 0;
		pack_cycle(b, l, k->first_pack + k->cur, ev);
		if (lc->addr_count > 1u) {
			if (++k->cur < lc->addr_count) {
				link_start(b, l);
			} else {
				k->resting = 1;
				k->last_round_ms = now_ms - k->round_ms;
				k->next_round_ms = k->round_ms + lc->client.poll_ms;
			}
			return 1;
		}
		if (pass)
			return 1;
	}
}

/* A bus's packs are read once a round: the aggregator is told how far apart that is, so a
 * round longer than its stale time does not take packs out between their reads. The round in
 * progress counts once it is the longest (the first round; a bus slowed by silent packs). */
static void bus_intervals(struct rig_bridge *b, uint32_t now_ms)
{
	unsigned l, j;

	for (l = 0; l < b->cfg.link_count; l++) {
		const struct rig_bridge_link *k = &b->link[l];
		const struct rig_bridge_link_cfg *lc = &b->cfg.link[l];
		uint32_t iv = lc->client.poll_ms;

		if (lc->addr_count < 2u)
			continue;
		if (k->last_round_ms > iv)
			iv = k->last_round_ms;
		if (!k->resting && now_ms - k->round_ms > iv)
			iv = now_ms - k->round_ms;
		for (j = 0; j < lc->addr_count; j++)
			rig_agg_set_interval(&b->agg, k->first_pack + j, iv);
	}
}

/* The OR of the hold reasons of the packs that are fresh (updated within the stale time). */
static uint32_t bridge_hold(const struct rig_bridge *b, uint32_t now_ms)
{
	uint32_t hold = 0;
	unsigned i;

	for (i = 0; i < b->pack_count; i++)
		if (b->agg.pack[i].seen && now_ms - b->agg.pack[i].updated_ms < rig_agg_stale_ms(&b->agg, i))
			hold |= b->pack[i].policy.reasons & BRIDGE_HOLD_REASONS;
	return hold;
}

static void report(struct rig_bridge *b, uint32_t now_ms)
{
	struct telemetry_inv inv;
	struct pack_state s;
	struct telemetry t;
	unsigned i;
	uint16_t comm_fail = 0;
	uint8_t ok = 1;

	memset(&inv, 0, sizeof inv);
	memset(&s, 0, sizeof s);
	inv.battery = &b->battery;
	inv.online_packs = b->agg.online_count;
	inv.pack_count = b->pack_count;
	for (i = 0; i < b->pack_count; i++) {
		inv.pack_ok[i] = b->pack[i].ok;
		inv.pack_age_ms[i] = rig_bridge_pack_age_ms(b, i, now_ms);
		ok = (uint8_t)(ok & b->pack[i].ok);
		if (b->pack[i].comm_fail > comm_fail)
			comm_fail = b->pack[i].comm_fail;
	}
	/* The battery as one: no cells or probes (each pack's are its own BMS's business). */
	s.pack_mV = b->battery.pack_mV;
	s.current_mA = b->battery.current_mA;
	s.soc_pct = b->battery.soc_pct;
	s.prot = b->battery.prot;
	s.fet_chg = (b->battery.fets & RIG_INV_FET_CHG) ? 1u : 0u;
	s.fet_dsg = (b->battery.fets & RIG_INV_FET_DSG) ? 1u : 0u;
	t.ms = now_ms;
	t.proto = rig_fw_protos[b->cfg.link[0].proto].name;
	t.ok = ok;
	t.pack = &s;
	t.relay = b->relay_closed;
	t.comm_fail = comm_fail;
	t.reasons = b->hold;
	t.inv = &inv;
	if (b->hal.report)
		b->hal.report(b->hal.ctx, &t);
	else if (rig_telemetry_format(b->line, sizeof b->line, &t) && b->hal.telemetry)
		b->hal.telemetry(b->hal.ctx, b->line);
}

void rig_bridge_step(struct rig_bridge *b, uint32_t now_ms)
{
	unsigned l;
	int events = 0, changed = 0;

	for (l = 0; l < b->cfg.link_count; l++)
		events += link_step(b, l, now_ms);
	if (events || now_ms - b->computed_ms >= BRIDGE_COMPUTE_MS) {
		uint8_t closed;

		int32_t ccl_mA = b->battery.ccl_mA, dcl_mA = b->battery.dcl_mA;

		bus_intervals(b, now_ms);
		b->hold = bridge_hold(b, now_ms);
		b->agg_flags = rig_agg_compute(&b->agg, now_ms, rig_bridge_hold_dirs(b->hold), &b->battery);
		/* A limit that just fell to 0 goes out at once, not at the CAN set's next turn: on a
		 * Daly bus the pack's cycle already cost most of the time an inverter may wait. */
		if (b->cfg.inverter && ((ccl_mA > 0 && b->battery.ccl_mA == 0) || (dcl_mA > 0 && b->battery.dcl_mA == 0)))
			rig_inv_port_send_now(&b->port, now_ms);
		b->computed_ms = now_ms;
		closed = (uint8_t)(!b->hold && b->agg.online_count);
		if (closed != b->relay_closed) {
			b->relay_closed = closed;
			changed = 1;
			if (b->hal.set_relay)
				b->hal.set_relay(b->hal.ctx, closed);
			if (b->hal.log)
				b->hal.log(b->hal.ctx, closed ? "relay closed" : "relay opened");
		}
	}
	if (b->cfg.inverter) {
		struct rig_inv_port_view v;

		memset(&v, 0, sizeof v);
		v.battery = &b->battery;
		v.pack_count = b->pack_count;
		rig_inv_port_step(&b->port, now_ms, &v);
	}
	if (changed || client_due(now_ms, b->next_report_ms)) {
		b->next_report_ms = now_ms + (b->cfg.report_ms ? b->cfg.report_ms : RIG_BRIDGE_REPORT_MS);
		report(b, now_ms);
	}
}
