/* The pylontech-can personality through its ops table: the slcan adapter's answers, the set's
 * cadence and order, the extras, the keep-alive knob and the module count with peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_can.h"
#include "bmsrig/sim/pylon_can_personality.h"

struct capture {
	char text[2048];            /* everything sent, concatenated */
	size_t n;
	unsigned sends;
	unsigned parts;             /* truth parts of the last send */
};

static void capture_send(void *ctx, const uint8_t *wire, size_t n, uint32_t delay_ms, unsigned parts)
{
	struct capture *c = ctx;

	assert_int_equal(delay_ms, 0);
	assert_true(c->n + n < sizeof c->text);
	memcpy(c->text + c->n, wire, n);
	c->n += n;
	c->text[c->n] = '\0';
	c->sends++;
	c->parts = parts;
}

struct bench {
	struct model m[2];
	struct bms b[2];
	struct pylon_can_personality p[2];
	struct capture cap;
	struct reply_sink sink;
};

static void bench_make(struct bench *t)
{
	struct model_cfg c;

	memset(t, 0, sizeof *t);
	model_cfg_defaults(&c);                  /* LFP 100 Ah */
	c.cells = 16;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(model_init(&t->m[i], &c), RIG_OK);
		assert_int_equal(bms_init(&t->b[i], &t->m[i]), RIG_OK);
		assert_int_equal(pylon_can_personality_ops.init(&t->p[i], &t->b[i], 0), RIG_OK);
	}
	t->sink.ctx = &t->cap;
	t->sink.send = capture_send;
}

static void clear(struct bench *t)
{
	t->cap.n = 0;
	t->cap.text[0] = '\0';
	t->cap.sends = 0;
}

static void host(struct bench *t, unsigned unit, const char *text, uint32_t now_ms)
{
	clear(t);
	pylon_can_personality_ops.rx(&t->p[unit], (const uint8_t *)text, strlen(text), now_ms, &t->sink);
}

static void tick(struct bench *t, unsigned unit, uint32_t now_ms)
{
	clear(t);
	pylon_can_personality_ops.tick(&t->p[unit], now_ms, &t->sink);
}

static void quirk(struct bench *t, const char *key, const char *value)
{
	char why[160];

	assert_int_equal(pylon_can_personality_ops.set_quirk(&t->p[0], key, value, why, sizeof why), RIG_OK);
}

/* The frames of the last send, in order; returns their count. */
static size_t frames_of(const struct bench *t, struct rig_can_frame *f, size_t cap)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i < t->cap.n; i++)
		if (t->cap.text[i] == '\r') {
			struct slcan_line l;

			assert_int_equal(rig_slcan_parse((const uint8_t *)t->cap.text + start, i - start, SLCAN_CR, &l), RIG_OK);
			assert_int_equal(l.kind, SLCAN_FRAME);
			assert_true(k < cap);
			f[k++] = l.frame;
			start = i + 1;
		}
	assert_int_equal(start, t->cap.n);
	return k;
}

static void test_adapter_commands(void **state)
{
	struct bench t;

	(void)state;
	bench_make(&t);
	host(&t, 0, "C\rS6\r", 0);
	assert_string_equal(t.cap.text, "\r\r");
	host(&t, 0, "t30580000000000000000\r", 0);   /* channel closed: refused */
	assert_string_equal(t.cap.text, "\a");
	host(&t, 0, "S9\rV\rN\rF\r", 0);
	assert_string_equal(t.cap.text, "\aV1013\rNPY01\rF00\r");
	tick(&t, 0, 0);
	assert_int_equal(t.cap.sends, 0);          /* nothing on a closed channel */
	host(&t, 0, "O\rS6\rY\r", 0);
	assert_string_equal(t.cap.text, "\r\a\a");  /* no bitrate change while open; Y unknown */
	host(&t, 0, "t30580000000000000000\r", 10);
	assert_string_equal(t.cap.text, "z\r");
	host(&t, 0, "C\r", 20);
	assert_string_equal(t.cap.text, "\r");
	tick(&t, 0, 1000);
	assert_int_equal(t.cap.sends, 0);
}

static void test_cadence_and_order(void **state)
{
	static const uint32_t order[] = { 0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E, 0x35A, 0x35F, 0x379 };
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	struct bench t;

	(void)state;
	bench_make(&t);
	host(&t, 0, "C\rS6\rO\r", 0);
	tick(&t, 0, 0);
	assert_int_equal(t.cap.sends, 1);          /* the set in one write, back to back */
	assert_int_equal(t.cap.parts, TRUTH_PACK);
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(f[i].id, order[i]);
		assert_int_equal(f[i].dlc, 8);
	}
	assert_memory_equal(f[5].data, "PYLON   ", 8);
	assert_int_equal(f[3].data[4], 1);         /* one module */
	/* 16 LFP cells at the default 3650 mV over-voltage: CVL 58.4 V, as bms_inverter_limits says. */
	struct rig_inv_battery rec;
	pylon_can_personality_record(&t.p[0], 0, &rec);
	assert_int_equal(f[0].data[0] | f[0].data[1] << 8, rec.cvl_mV / 100);
	assert_int_equal(f[1].data[0], rec.soc_pct);
	tick(&t, 0, 900);
	assert_int_equal(t.cap.sends, 0);
	tick(&t, 0, 1000);
	assert_int_equal(t.cap.sends, 1);
	/* period_ms and extras */
	quirk(&t, "period_ms", "250");
	quirk(&t, "extras", "1");
	tick(&t, 0, 1100);
	assert_int_equal(t.cap.sends, 0);          /* the next was booked at 2000 */
	tick(&t, 0, 2000);
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 9);
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(f[i].id, order[i]);
	tick(&t, 0, 2250);
	assert_int_equal(t.cap.sends, 1);
	/* A stall: one set, then the cadence again from now, not a burst of the missed ones. */
	tick(&t, 0, 9000);
	assert_int_equal(t.cap.sends, 1);
	tick(&t, 0, 9100);
	assert_int_equal(t.cap.sends, 0);
	tick(&t, 0, 9250);
	assert_int_equal(t.cap.sends, 1);
}

static void test_keepalive_stop(void **state)
{
	struct bench t;

	(void)state;
	bench_make(&t);
	quirk(&t, "keepalive_timeout_ms", "2500");
	quirk(&t, "on_keepalive_loss", "stop");
	host(&t, 0, "O\r", 0);
	tick(&t, 0, 0);
	assert_int_equal(t.cap.sends, 1);
	tick(&t, 0, 1000);
	host(&t, 0, "t30580000000000000000\r", 1500);
	tick(&t, 0, 2000);
	assert_int_equal(t.cap.sends, 1);
	tick(&t, 0, 3000);
	assert_int_equal(t.cap.sends, 1);          /* 1500 ms since the keep-alive */
	tick(&t, 0, 4000);
	assert_int_equal(t.cap.sends, 0);          /* 2500 ms: lost, silent */
	tick(&t, 0, 5000);
	assert_int_equal(t.cap.sends, 0);
	host(&t, 0, "t30580000000000000000\r", 5500);
	tick(&t, 0, 6000);
	assert_int_equal(t.cap.sends, 1);          /* back with the keep-alive */
}

static void test_keepalive_alarm_and_keep(void **state)
{
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	struct bench t;

	(void)state;
	bench_make(&t);
	quirk(&t, "keepalive_timeout_ms", "2000");
	host(&t, 0, "O\r", 0);
	tick(&t, 0, 5000);                         /* keep (the default): still sending, no alarm */
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 6);
	assert_int_equal(f[3].data[3] & 0x08, 0);
	quirk(&t, "on_keepalive_loss", "alarm");
	tick(&t, 0, 6000);
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 6);
	assert_int_equal(f[3].data[3] & 0x08, 0x08);   /* 0x359 byte 3 bit 3: communication fail */
	host(&t, 0, "t30580000000000000000\r", 6500);
	tick(&t, 0, 7000);
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 6);
	assert_int_equal(f[3].data[3] & 0x08, 0);
	char why[160];
	assert_int_equal(pylon_can_personality_ops.set_quirk(&t.p[0], "on_keepalive_loss", "panic", why, sizeof why),
	                 RIG_ERR_ARG);
	assert_string_equal(why, "on_keepalive_loss: expected keep, stop or alarm, got \"panic\"");
	assert_int_equal(pylon_can_personality_ops.set_quirk(&t.p[0], "period_ms", "5", why, sizeof why), RIG_ERR_ARG);
}

static void test_peers(void **state)
{
	struct rig_can_frame f[PYLON_CAN_SET_MAX];
	const struct bms *peers[2];
	struct bench t;

	(void)state;
	bench_make(&t);
	peers[0] = &t.b[0];
	peers[1] = &t.b[1];
	pylon_can_personality_ops.peers(&t.p[0], peers, 2);
	pylon_can_personality_ops.peers(&t.p[1], peers, 2);
	/* The array is the caller's for the call only (sim.c builds it on its stack). */
	peers[0] = peers[1] = NULL;
	host(&t, 1, "C\rS6\rO\r", 0);
	assert_int_equal(t.cap.n, 0);              /* unit 1 is silent: unit 0 is the adapter */
	tick(&t, 1, 0);
	assert_int_equal(t.cap.sends, 0);
	host(&t, 0, "C\rS6\rO\r", 0);
	assert_string_equal(t.cap.text, "\r\r\r");
	tick(&t, 0, 0);
	assert_int_equal(frames_of(&t, f, PYLON_CAN_SET_MAX), 6);
	assert_int_equal(f[3].data[4], 2);         /* 0x359 module count */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adapter_commands),
		cmocka_unit_test(test_cadence_and_order),
		cmocka_unit_test(test_keepalive_stop),
		cmocka_unit_test(test_keepalive_alarm_and_keep),
		cmocka_unit_test(test_peers),
	};
	return cmocka_run_group_tests_name("pylon_can_personality", tests, NULL, NULL);
}
