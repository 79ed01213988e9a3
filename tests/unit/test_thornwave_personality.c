/*
 * The Thornwave personality alone: the ATT answers byte for byte (a Read Response with the first
 * 22 value bytes, Read Blob Responses from the same snapshot, the empty blob at the end, errors
 * for another handle and an offset past the value), requests in pieces and between stray bytes,
 * the value's fields against the BMS's measurements, the meters, uptime and clock integrated
 * over time, and the quirks; with quirk stream (newer firmware) the CCCD write and the monitor
 * frames notified once a second as 0x00, COBS, 0x00.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bmsrig/sim/thornwave_personality.h"
#include "fake_io.h"

struct sent {
	uint8_t wire[64];
	size_t n;
	uint32_t delay_ms;
	unsigned parts;
};

struct capture {
	struct sent s[8];
	size_t count;
};

static void capture_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct capture *c = ctx;

	assert_true(c->count < 8 && n <= sizeof c->s[0].wire);
	memcpy(c->s[c->count].wire, wire, n);
	c->s[c->count].n = n;
	c->s[c->count].delay_ms = delay_ms;
	c->s[c->count].parts = parts;
	c->count++;
}

struct bench {
	struct model m;
	struct bms b;
	struct thornwave_personality p;
	struct capture cap;
	struct reply_sink sink;
};

static void bench_make(struct bench *t, unsigned ntc)
{
	struct model_cfg c;

	memset(t, 0, sizeof *t);
	model_cfg_defaults(&c);                  /* LFP 100 Ah */
	c.ntc_count = (uint8_t)ntc;
	c.cells = 4;
	assert_int_equal(model_init(&t->m, &c), RIG_OK);
	assert_int_equal(bms_init(&t->b, &t->m), RIG_OK);
	assert_true(sizeof t->p <= PERSONALITY_STATE_MAX);
	assert_int_equal(thornwave_personality_ops.init(&t->p, &t->b, 0), RIG_OK);
	t->sink.ctx = &t->cap;
	t->sink.send = capture_send;
}

static void request(struct bench *t, const char *hex, uint32_t now_ms)
{
	uint8_t w[32];
	size_t n = hex_to_bytes(hex, w, sizeof w);

	t->cap.count = 0;
	thornwave_personality_ops.rx(&t->p, w, n, now_ms, &t->sink);
}

static void assert_reply(const struct bench *t, const char *hex)
{
	uint8_t want[64];
	size_t n = hex_to_bytes(hex, want, sizeof want);

	assert_int_equal(t->cap.count, 1);
	assert_int_equal(t->cap.s[0].n, n);
	assert_memory_equal(t->cap.s[0].wire, want, n);
}

static void long_read_in_three_pieces(void **state)
{
	struct bench t;
	uint8_t value[TW_VALUE_LEN];
	struct tw_value v;

	(void)state;
	bench_make(&t, 1);
	t.b.meas.pack_mV = 13300;
	t.b.meas.current_mA = -4200;
	thornwave_personality_ops.tick(&t.p, 0, &t.sink);
	request(&t, "0A 1500", 5000);
	assert_int_equal(t.cap.count, 1);
	assert_int_equal(t.cap.s[0].n, 23);                   /* opcode + MTU-1 value bytes */
	assert_int_equal(t.cap.s[0].wire[0], 0x0B);
	assert_int_equal(t.cap.s[0].delay_ms, 20);
	assert_int_equal(t.cap.s[0].parts, TRUTH_PACK | TRUTH_TEMPS);
	memcpy(value, t.cap.s[0].wire + 1, 22);
	/* The model moves on between the pieces; the blobs still come from the read's snapshot. */
	t.b.meas.pack_mV = 12000;
	request(&t, "0C 1500 1600", 5040);
	assert_int_equal(t.cap.s[0].n, 23);
	assert_int_equal(t.cap.s[0].wire[0], 0x0D);
	assert_int_equal(t.cap.s[0].parts, 0);
	memcpy(value + 22, t.cap.s[0].wire + 1, 22);
	request(&t, "0C 1500 2C00", 5080);
	assert_int_equal(t.cap.s[0].n, 9);
	memcpy(value + 44, t.cap.s[0].wire + 1, 8);
	assert_memory_equal(value, t.p.snap, TW_VALUE_LEN);
	assert_memory_equal(value, "\xE0\xFF\x0F", 3);
	assert_int_equal(rig_tw_value_decode(value, sizeof value, &v), RIG_OK);
	assert_int_equal(v.milli[TW_F_V1], 13300);
	assert_int_equal(v.milli[TW_F_V2], 13300);            /* V2 wired to V1 */
	assert_int_equal(v.milli[TW_F_CURRENT], -4200);
	assert_int_equal(v.milli[TW_F_POWER], -55860);
	assert_int_equal(v.soc_half, 2 * bms_soc_pct(&t.b));
	assert_int_equal(v.uptime_s, 5);
	/* An empty blob at the end of the value; past it, "invalid offset". */
	request(&t, "0C 1500 3400", 5100);
	assert_reply(&t, "0D");
	request(&t, "0C 1500 3500", 5100);
	assert_reply(&t, "01 0C 1500 07");
}

static void other_handles_and_stray_bytes(void **state)
{
	struct bench t;

	(void)state;
	bench_make(&t, 1);
	request(&t, "0A 1600", 0);
	assert_reply(&t, "01 0A 1600 01");
	/* Bytes that start no request (a notification's bytes, noise) get no answer. */
	request(&t, "1B 0300 FF 00", 0);
	assert_int_equal(t.cap.count, 0);
	/* A request in two pieces is one request. */
	t.cap.count = 0;
	thornwave_personality_ops.rx(&t.p, (const uint8_t *)"\x0C\x15", 2, 0, &t.sink);
	assert_int_equal(t.cap.count, 0);
	thornwave_personality_ops.rx(&t.p, (const uint8_t *)"\x00\x2C\x00", 3, 0, &t.sink);
	assert_int_equal(t.cap.count, 1);
	assert_int_equal(t.cap.s[0].wire[0], 0x0D);
	/* A disconnect drops a half request. */
	request(&t, "0A", 0);
	thornwave_personality_ops.disconnected(&t.p);
	request(&t, "15 00", 0);
	assert_int_equal(t.cap.count, 0);
}

static void meters_uptime_and_clock_run_with_time(void **state)
{
	struct bench t;
	uint8_t value[TW_VALUE_LEN];
	struct tw_value v;
	struct tw_clock c;
	char why[160];

	(void)state;
	bench_make(&t, 1);
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "energy_mwh", "1000", why, sizeof why), RIG_OK);
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "v2_mv", "12500", why, sizeof why), RIG_OK);
	t.b.meas.pack_mV = 13000;
	t.b.meas.current_mA = 10000;
	thornwave_personality_ops.tick(&t.p, 100, &t.sink);     /* power-on */
	thornwave_personality_ops.tick(&t.p, 100 + 3600000, &t.sink);
	t.b.meas.current_mA = -5000;
	thornwave_personality_ops.tick(&t.p, 100 + 5400000, &t.sink);
	thornwave_personality_value(&t.p, 100 + 5400000, value);
	assert_int_equal(rig_tw_value_decode(value, sizeof value, &v), RIG_OK);
	/* 10 A for 1 h, then -5 A for 0.5 h, at 13 V. */
	assert_int_equal(v.charge_mAh, 10000 - 2500);
	assert_int_equal(v.energy_mWh, 1000 + 130000 - 32500);
	assert_int_equal(v.milli[TW_F_PEAK], 10000);
	assert_int_equal(v.milli[TW_F_V2], 12500);
	assert_int_equal(v.milli[TW_F_TEMP], ((int32_t)t.b.meas.probe_dK[0] - 2731) * 100);   /* the probe */
	assert_int_equal(v.uptime_s, 5400);
	rig_tw_clock_unpack(v.clock, &c);                      /* 2026-01-01 12:00:00 + 1.5 h */
	assert_int_equal(c.year, 2026);
	assert_int_equal(c.month, 1);
	assert_int_equal(c.day, 1);
	assert_int_equal(c.hour, 13);
	assert_int_equal(c.min, 30);
	assert_int_equal(c.sec, 0);
}

static void quirks_are_checked(void **state)
{
	struct bench t;
	char why[160];

	(void)state;
	bench_make(&t, 1);
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "latency_ms", "9000", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "latency_ms"));
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "mtu", "247", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "unknown thornwave quirk"));
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "latency_ms", "80", why, sizeof why), RIG_OK);
	request(&t, "0A 1500", 0);
	assert_int_equal(t.cap.s[0].delay_ms, 80);
}

static void stream_after_the_cccd_write(void **state)
{
	struct bench t;
	char why[160];
	uint8_t joined[64], frame[TW_COBS_MAX];
	size_t n = 0, got;
	struct tw_monitor m;

	(void)state;
	bench_make(&t, 1);
	assert_int_equal(thornwave_personality_ops.set_quirk(&t.p, "stream", "1", why, sizeof why), RIG_OK);
	t.b.meas.pack_mV = 13464;
	t.b.meas.current_mA = -422;
	thornwave_personality_ops.tick(&t.p, 0, &t.sink);
	/* Newer firmware: the legacy handle is gone; nothing is pushed before the CCCD write. */
	request(&t, "0A 1500", 100);
	assert_reply(&t, "01 0A 1500 01");
	t.cap.count = 0;
	thornwave_personality_ops.tick(&t.p, 2000, &t.sink);
	assert_int_equal(t.cap.count, 0);
	request(&t, "12 1100 0100", 2000);
	assert_reply(&t, "13");
	request(&t, "12 1200 0100", 2000);                   /* not the CCCD */
	assert_reply(&t, "01 12 1200 01");
	t.cap.count = 0;
	thornwave_personality_ops.tick(&t.p, 2019, &t.sink);
	assert_int_equal(t.cap.count, 0);
	thornwave_personality_ops.tick(&t.p, 2020, &t.sink);   /* latency_ms after the write */
	/* 0x00 + COBS(51) + 0x00 = 54 bytes: 20 + 20 + 14 in notifications of handle 0x0010. */
	assert_int_equal(t.cap.count, 3);
	assert_int_equal(t.cap.s[0].n, 23);
	assert_int_equal(t.cap.s[1].n, 23);
	assert_int_equal(t.cap.s[2].n, 17);
	assert_int_equal(t.cap.s[0].parts, TRUTH_PACK | TRUTH_TEMPS);
	assert_int_equal(t.cap.s[1].parts, 0);
	for (size_t i = 0; i < 3; i++) {
		assert_memory_equal(t.cap.s[i].wire, "\x1B\x10\x00", 3);
		memcpy(joined + n, t.cap.s[i].wire + 3, t.cap.s[i].n - 3);
		n += t.cap.s[i].n - 3;
	}
	assert_int_equal(joined[0], 0);
	assert_int_equal(joined[n - 1], 0);
	assert_int_equal(rig_cobs_decode(joined + 1, n - 2, frame, sizeof frame, &got), RIG_OK);
	assert_int_equal(rig_tw_monitor_decode(frame, got, &m), RIG_OK);
	assert_int_equal(m.hw_rev, 0x23);
	assert_int_equal(m.v1_mV, 13464);
	assert_int_equal(m.current_mA, -422);
	assert_int_equal(m.power_status, 1);
	assert_int_equal(m.time_s, 1767268800u + 2);
	/* Once a second while subscribed; a disconnect ends the subscription. */
	t.cap.count = 0;
	thornwave_personality_ops.tick(&t.p, 3019, &t.sink);
	assert_int_equal(t.cap.count, 0);
	thornwave_personality_ops.tick(&t.p, 3020, &t.sink);
	assert_int_equal(t.cap.count, 3);
	thornwave_personality_ops.disconnected(&t.p);
	t.cap.count = 0;
	thornwave_personality_ops.tick(&t.p, 5000, &t.sink);
	assert_int_equal(t.cap.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_read_in_three_pieces),
		cmocka_unit_test(other_handles_and_stray_bytes),
		cmocka_unit_test(meters_uptime_and_clock_run_with_time),
		cmocka_unit_test(quirks_are_checked),
		cmocka_unit_test(stream_after_the_cccd_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
