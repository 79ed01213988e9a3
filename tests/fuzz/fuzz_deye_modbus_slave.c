/*
 * libFuzzer: the deye-modbus personality (the emulated pack) as an inverter's hostile line
 * reaches it, and the decoded-frame view of the input as one frame.
 * Input: byte 0 picks quirks (bit 0 exceptions off, bit 1 absent, bit 2 stale_after_ms 100,
 * bits 4-7 the address), then records of [length][time step in 20 ms][bytes].
 * abort() unless every reply is a response frame of the pack's own address whose JSON view has
 * no "error", goes out only for a request to that address, and deye_mb_wire_json on the whole
 * input gives an object.
 * Seeds: tests/fuzz/corpus/fuzz_deye_modbus_slave/.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/deye_modbus.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/deye_modbus_json.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model m0, m;
static struct bms b0, b;
static alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
static uint8_t address;
static unsigned asked;          /* requests to our address seen so far */

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned truth_parts)
{
	struct modbus_frame f;
	cJSON *o;

	(void)ctx;
	(void)truth_parts;
	CHECK(asked > 0 && delay_ms <= 5000u);
	CHECK(rig_modbus_frame_parse(wire, n, MODBUS_RESPONSE, &f) == RIG_OK && f.addr == address);
	o = deye_mb_frame_json(&f, MODBUS_RESPONSE);
	CHECK(o && !cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
}

static void on_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	(void)ctx;
	(void)wire;
	CHECK(n >= 4 && n <= MODBUS_ADU_MAX);
	if (dir == PERS_RX)
		asked++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct personality_ops *ops = personality_find("deye-modbus");
	const struct reply_sink sink = { NULL, on_send, on_frame };
	char why[200], v[8];
	uint32_t now_ms = 0;
	cJSON *o;

	CHECK(ops);
	o = deye_mb_wire_json(data, size);
	CHECK(o);
	cJSON_Delete(o);
	if (size < 1)
		return 0;
	if (!b0.set.design_capacity_mAh) {
		struct model_cfg c;

		model_cfg_defaults(&c);
		c.cells = 16;
		c.capacity_Ah = 100;
		CHECK(model_init(&m0, &c) == RIG_OK && bms_init(&b0, &m0) == RIG_OK);
	}
	m = m0;
	b = b0;
	memset(state, 0, sizeof state);
	address = (uint8_t)((data[0] >> 4) % (DEYE_MB_ADDR_MAX + 1u));
	CHECK(ops->init(state, &b, 0) == RIG_OK);
	snprintf(v, sizeof v, "%u", address);
	CHECK(ops->set_quirk(state, "address", v, why, sizeof why) == RIG_OK);
	CHECK(ops->set_quirk(state, "exceptions", data[0] & 1u ? "0" : "1", why, sizeof why) == RIG_OK);
	CHECK(ops->set_quirk(state, "absent", data[0] & 2u ? "1" : "0", why, sizeof why) == RIG_OK);
	CHECK(ops->set_quirk(state, "stale_after_ms", data[0] & 4u ? "100" : "0", why, sizeof why) == RIG_OK);
	CHECK(ops->set_quirk(state, "address", "15", why, sizeof why) == RIG_ERR_ARG);
	asked = 0;
	data++;
	size--;
	while (size >= 2) {
		size_t n = data[0] < size - 2 ? data[0] : size - 2;

		now_ms += data[1] * 20u;
		ops->rx(state, data + 2, n, now_ms, &sink);
		if (data[1] & 1u) {       /* the BMS steps only on odd steps, so staleness happens */
			ops->tick(state, now_ms, &sink);
			bms_step(&b, &m, 0.1, 0.0);
		}
		data += 2 + n;
		size -= 2 + n;
	}
	return 0;
}
