/*
 * libFuzzer: a conversation with one emulated BMS. Byte 0's low 7 bits pick the personality
 * (personality_table order: JBD, Daly, JK, JK-BLE, Pylontech CAN, ...), byte 1 switches its quirks
 * on (one bit a row of the table below, rows from the 9th on only with byte 0's bit 7: JBD's
 * factory gate, Daly's echo, JK's junk prefix ...). The rest is requests, each [length][gap][length bytes]:
 * the bytes go to rx after gap * 20 ms, then tick and one 100 ms BMS step, so factory mode,
 * register writes, calibration, saves, the JBD Bluetooth password frames and every timer are
 * reached in any order. abort() unless, all along:
 *   - every reply is 1..REPLY_MAX bytes, due at most 10 s later, and (with no quirk that puts
 *     junk on the wire) each frame it reports sending its own decoder reads as a frame;
 *   - after each request every setting still passes bms_setting_check, the texts fit, the
 *     inhibit mask holds only its bits, and the remaining capacity is at most the full one;
 *   - what a save hands over passes the same checks.
 * Seeds: tests/fuzz/corpus/fuzz_personality/ (the request corpora of the protocols, chained).
 */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/model.h"
#include "bmsrig/sim/personality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLY_MAX 1024u
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Quirks a conversation may switch on; junk 1: the wire then carries more than frames. */
static const struct quirk_row {
	const char *proto, *key, *value;
	int junk;
} quirks[] = {
	{ "jbd", "factory_gate", "1", 0 },
	{ "jbd", "basic_ext", "1", 0 },
	{ "jbd", "drop_after_idle_ms", "1000", 0 },
	{ "daly", "echo", "1", 1 },
	{ "daly", "zero_frames", "1", 0 },
	{ "daly", "all_cell_frames", "1", 0 },
	{ "daly", "extra_temp_frame", "1", 0 },
	{ "daly", "sleep_after_s", "2", 0 },
	{ "jk", "junk_prefix", "3", 1 },
	{ "jk", "current_mode", "1", 0 },
	{ "jk-ble", "at_after_ack", "1", 1 },
	{ "jk-ble", "push_ms", "50", 0 },
	{ "pylontech-can", "extras", "1", 0 },
	{ "pylontech-can", "on_keepalive_loss", "stop", 0 },
	{ "pylontech-can", "keepalive_timeout_ms", "100", 0 },
	{ "pylontech-can", "period_ms", "10", 0 },
	{ "jk-pb", "at_junk", "3", 1 },
	{ "jk-pb", "exceptions", "0", 0 },
	{ "thornwave", "stream", "1", 0 },
};

static struct model m0, m;
static struct bms b0, b;
static alignas(max_align_t) unsigned char state[PERSONALITY_STATE_MAX];
static const struct personality_ops *ops;
static int junk;
static uint32_t now_ms;

static void check_bms(const struct bms *x)
{
	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		CHECK(bms_setting_check(id, bms_setting_get(x, id), NULL, 0) == RIG_OK);
	for (unsigned i = 0; i < BMS_STRING_COUNT; i++)
		CHECK(x->str[i].len <= BMS_TEXT_MAX && strlen(x->str[i].text) == x->str[i].len);
	CHECK((x->inhibit & ~BMS_INHIBIT_ALL) == 0);
	CHECK(bms_remain_mAh(x) <= bms_full_mAh(x));
}

static void on_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned truth_parts)
{
	(void)ctx;
	(void)wire;
	(void)truth_parts;
	CHECK(n >= 1 && n <= REPLY_MAX && delay_ms <= 10000u);
}

/* A frame the personality sent is one its own decoder reads (a send may hold more than one:
 * a JK-BLE record and its ack). */
static void on_frame(void *ctx, enum personality_dir dir, const uint8_t *wire, size_t n)
{
	(void)ctx;
	CHECK(dir == PERS_RX || dir == PERS_TX);
	CHECK(n >= 1 && n <= REPLY_MAX);
	if (dir == PERS_TX && !junk) {
		cJSON *o = ops->wire_json(wire, n);

		CHECK(o && !cJSON_HasObjectItem(o, "error"));
		cJSON_Delete(o);
	}
}

/* Every personality the emulator knows is fuzzed, whatever their number. */
static unsigned n_personalities(void)
{
	unsigned n = 0;

	while (personality_table[n])
		n++;
	return n;
}

static int on_save(void *ctx, const struct bms *x)
{
	(void)ctx;
	check_bms(x);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct reply_sink sink = { NULL, on_send, on_frame };
	char why[256];
	size_t i;

	if (size < 2)
		return 0;
	if (!b0.set.design_capacity_mAh) {
		struct model_cfg c;

		model_cfg_defaults(&c);
		c.cells = 16;
		c.capacity_Ah = 100;
		c.ntc_count = 3;
		CHECK(model_init(&m0, &c) == RIG_OK && bms_init(&b0, &m0) == RIG_OK);
	}
	m = m0;
	b = b0;
	ops = personality_table[(data[0] & 0x7Fu) % n_personalities()];
	memset(state, 0, sizeof state);
	CHECK(ops->init(state, &b, 0) == RIG_OK);
	junk = 0;
	for (i = 0; i < N_OF(quirks); i++)
		if ((data[1] >> (i % 8u)) & 1u && !strcmp(quirks[i].proto, ops->name) && (i < 8u || data[0] & 0x80u)) {
			CHECK(ops->set_quirk(state, quirks[i].key, quirks[i].value, why, sizeof why) == RIG_OK);
			junk |= quirks[i].junk;
		}
	if (ops->on_save)
		ops->on_save(state, on_save, NULL);
	now_ms = 0;
	data += 2;
	size -= 2;
	while (size >= 2) {
		size_t n = data[0] < size - 2 ? data[0] : size - 2;

		now_ms += data[1] * 20u;
		ops->rx(state, data + 2, n, now_ms, &sink);
		if (ops->tick)
			ops->tick(state, now_ms, &sink);
		bms_step(&b, &m, 0.1, 0.0);
		check_bms(&b);
		data += 2 + n;
		size -= 2 + n;
	}
	return 0;
}
