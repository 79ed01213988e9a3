/*
 * libFuzzer: the aggregator (firmware/core/aggregator.c) on hostile pack states. Its inputs are
 * values decoded from outside bytes (any BMS may report any number), so every field may be
 * anything. The input: a struct rig_agg_cfg's bytes (when the input is shorter, the LFP 16S
 * defaults), then records of: 1 byte op (bits 0-3 pack index, 0-15: 15 is refused; bit 4 an own
 * BMS record follows; bit 5 forget instead; bits 6-7 a policy hold, enum rig_agg_hold), 2 bytes
 * of time step (ms, so packs go stale and alarm; its low byte << 12 is also the pack's read
 * interval), then a struct pack_state's bytes and, with bit 4, a struct rig_inv_battery's.
 * After each record the battery is computed. abort() unless: the limits are >= 0 and match the
 * enable requests; a hold gives 0 in its direction(s) and the held flag; module_count equals
 * the online mask's bits and is at most 15; no pack online gives 0 limits; SOC within
 * 0..100 %, the two SOC fields agree; min <= max for cells and temperatures when a pack is
 * online; the comm flag and alarm agree. UBSan watches every sum, product and shift.
 * Seeds: tests/fuzz/corpus/fuzz_aggregator/ (hand-made: three packs at rest; one stale).
 */
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/aggregator.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned bits(uint32_t v)
{
	unsigned n = 0;
	for (; v; v &= v - 1u)
		n++;
	return n;
}

static void check(const struct rig_agg *a, const struct rig_inv_battery *r, unsigned flags, uint32_t hold)
{
	CHECK(r->ccl_mA >= 0 && r->dcl_mA >= 0);
	CHECK(!!(r->request & RIG_INV_CHG_ENABLE) == (r->ccl_mA > 0));
	CHECK(!!(r->request & RIG_INV_DSG_ENABLE) == (r->dcl_mA > 0));
	if (hold & RIG_AGG_HOLD_CHG)
		CHECK(r->ccl_mA == 0);
	if (hold & RIG_AGG_HOLD_DSG)
		CHECK(r->dcl_mA == 0);
	CHECK(!!(flags & RIG_AGG_F_HELD) == !!hold);
	CHECK(r->module_count == bits(a->online_mask) && r->module_count <= RIG_AGG_PACKS_MAX);
	CHECK(r->module_count == a->online_count);
	CHECK(!!(flags & RIG_AGG_F_NO_PACK) == (r->module_count == 0));
	if (r->module_count == 0)
		CHECK(r->ccl_mA == 0 && r->dcl_mA == 0);
	else
		CHECK(r->cell_min_mV <= r->cell_max_mV && r->temp_min_dK <= r->temp_max_dK);
	CHECK(r->soc_cpct <= 10000u && r->soc_pct <= 100u);
	CHECK(r->soc_pct == (r->soc_cpct + 50u) / 100u);
	CHECK(!!(flags & RIG_AGG_F_COMM) == !!(r->alarm & RIG_INV_ALARM_COMM));
	CHECK(flags == a->flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig_agg a;
	struct rig_agg_cfg cfg;
	uint32_t now_ms = 0;
	size_t at = 0;

	rig_agg_cfg_defaults(&cfg, RIG_AGG_CHEM_LFP, 16);
	if (size >= sizeof cfg) {
		memcpy(&cfg, data, sizeof cfg);
		at = sizeof cfg;
	}
	rig_agg_init(&a, &cfg, now_ms);
	while (at + 3u + sizeof(struct pack_state) <= size) {
		const uint8_t op = data[at];
		struct pack_state s;
		struct rig_inv_battery own, r;
		const struct rig_inv_battery *ownp = NULL;
		const uint32_t hold = (uint32_t)(op >> 6) & RIG_AGG_HOLD_ALL;
		unsigned flags;

		now_ms += (uint32_t)data[at + 1] << 8 | data[at + 2];
		/* The pack's read interval (a bus round), up to ~17 min, index 15 refused. */
		rig_agg_set_interval(&a, op & 0x0Fu, (uint32_t)data[at + 2] << 12);
		at += 3u;
		memcpy(&s, data + at, sizeof s);
		at += sizeof s;
		if ((op & 0x10u) && at + sizeof own <= size) {
			memcpy(&own, data + at, sizeof own);
			at += sizeof own;
			ownp = &own;
		}
		if (op & 0x20u)
			rig_agg_forget(&a, op & 0x0Fu);
		else
			CHECK(rig_agg_update(&a, op & 0x0Fu, &s, s.remain_mAh ^ s.full_mAh, ownp) ==
			      ((op & 0x0Fu) < RIG_AGG_PACKS_MAX ? 0 : -1));
		flags = rig_agg_compute(&a, now_ms, hold, &r);
		check(&a, &r, flags, hold);
	}
	return 0;
}
