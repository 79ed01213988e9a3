/* The link model: UART pass-through, and the Bluetooth bridge's timing and failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/sim/ble_module.h"
#include "bmsrig/sim/link.h"
#include "fake_io.h"

static struct link ble(uint32_t now)
{
	struct link_cfg c;
	struct link l;

	link_cfg_ble_defaults(&c);
	link_init(&l, &c, now);
	return l;
}

static void uart_passes_everything_at_once(void **state)
{
	struct link_cfg c;
	struct link l;
	struct link_chunk ch[4];

	(void)state;
	memset(&c, 0, sizeof c);
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 1);
	assert_int_equal(link_downlink(&l, 5, 36, ch, 4), 1);
	assert_int_equal(ch[0].offset, 0);
	assert_int_equal(ch[0].len, 36);
	assert_int_equal(ch[0].at_ms, 5);
}

static void ble_connects_then_loses_the_first_request(void **state)
{
	struct link l = ble(1000);

	(void)state;
	assert_int_equal(l.state, LINK_DOWN);
	assert_int_equal(link_uplink(&l, 1000, 7), 0);          /* starts connecting, lost */
	assert_int_equal(l.state, LINK_CONNECTING);
	assert_int_equal(link_uplink(&l, 2499, 7), 0);          /* still connecting (1.5 s) */
	assert_int_equal(link_uplink(&l, 2500, 7), 0);          /* up: this is the lost first request */
	assert_int_equal(l.state, LINK_UP);
	assert_int_equal(link_uplink(&l, 2560, 7), 0);          /* same request, next write */
	assert_int_equal(link_uplink(&l, 2600, 7), 1);          /* the retry gets through */
	assert_int_equal(link_uplink(&l, 2601, 7), 1);
	assert_int_equal(l.connects, 1);
	assert_int_equal(l.dropped_bytes, 28);
}

static void ble_notifications_are_20_bytes_one_per_interval(void **state)
{
	struct link l = ble(0);
	struct link_chunk ch[8];
	unsigned k;

	(void)state;
	link_uplink(&l, 0, 7);
	link_tick(&l, 1500);
	/* The 36-byte 0x03 reply: 20 + 16 (docs/protocols/jbd.md §10.3), 30 ms apart. */
	k = link_downlink(&l, 2000, 36, ch, 8);
	assert_int_equal(k, 2);
	assert_int_equal(ch[0].offset, 0);
	assert_int_equal(ch[0].len, 20);
	assert_int_equal(ch[0].at_ms, 2000);
	assert_int_equal(ch[1].offset, 20);
	assert_int_equal(ch[1].len, 16);
	assert_int_equal(ch[1].at_ms, 2030);
	/* A second reply right after queues behind the first. */
	k = link_downlink(&l, 2001, 15, ch, 8);
	assert_int_equal(k, 1);
	assert_int_equal(ch[0].at_ms, 2060);
	/* A reply while down is lost. */
	{
		struct link d = ble(0);

		assert_int_equal(link_downlink(&d, 10, 36, ch, 8), 0);
	}
}

static void ble_drops_after_a_while_and_chunks_in_flight_die(void **state)
{
	struct link_cfg c;
	struct link l;
	struct link_chunk ch[4];

	(void)state;
	link_cfg_ble_defaults(&c);
	c.connect_ms = 0;
	c.drop_first = 0;
	c.disconnect_after_ms = 30000;
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 1);
	assert_int_equal(link_downlink(&l, 29990, 36, ch, 4), 2);
	assert_true(link_up_since(&l, 29995, 29990));
	assert_false(link_up_since(&l, 30000, 29990));          /* dropped before the 2nd chunk */
	assert_int_equal(l.state, LINK_DOWN);
	assert_int_equal(l.disconnects, 1);
	assert_int_equal(link_uplink(&l, 31000, 7), 1);         /* reconnects at once (connect 0) */
	assert_false(link_up_since(&l, 31001, 29990));          /* old chunks stay dead */
	assert_int_equal(l.connects, 2);
}

static void ble_random_drops_are_seeded(void **state)
{
	struct link_cfg c;
	struct link a, b;
	uint32_t t, drops_a = 0, drops_b = 0;

	(void)state;
	link_cfg_ble_defaults(&c);
	c.connect_ms = 0;
	c.drop_first = 0;
	c.disconnects_per_h = 60;   /* one a minute on average */
	c.seed = 7;
	link_init(&a, &c, 0);
	link_init(&b, &c, 0);
	for (t = 0; t < 3600000u; t += 1000) {
		link_uplink(&a, t, 1);
		link_uplink(&b, t, 1);
	}
	drops_a = a.disconnects;
	drops_b = b.disconnects;
	assert_int_equal(drops_a, drops_b);
	assert_in_range(drops_a, 40, 80);
	c.seed = 8;
	link_init(&b, &c, 0);
	for (t = 0; t < 3600000u; t += 1000)
		link_uplink(&b, t, 1);
	assert_true(b.disconnects != drops_a || b.drops_at_ms != a.drops_at_ms);
}

static void ble_single_central_refuses_a_quick_reconnect(void **state)
{
	struct link_cfg c;
	struct link l;

	(void)state;
	link_cfg_ble_defaults(&c);
	c.connect_ms = 0;
	c.drop_first = 0;
	c.stuck_ms = 60000;
	c.disconnect_on_close = 1;
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 1);
	link_client_closed(&l, 5000);
	assert_int_equal(l.state, LINK_STUCK);
	assert_int_equal(link_uplink(&l, 6000, 7), 0);
	assert_int_equal(link_uplink(&l, 64999, 7), 0);
	assert_int_equal(link_uplink(&l, 65000, 7), 1);          /* the old link timed out */
}

/* A serial BLE bridge stays connected while clients open and close the port around each
 * command; only disconnect_on_close makes a close end the connection. */
static void ble_close_keeps_the_bridge_connected_by_default(void **state)
{
	struct link_cfg c;
	struct link l;
	char why[200];

	(void)state;
	link_cfg_ble_defaults(&c);
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 0);               /* connecting */
	assert_int_equal(link_uplink(&l, 1500, 7), 0);            /* the first request is lost */
	assert_int_equal(link_uplink(&l, 1700, 7), 1);
	link_client_closed(&l, 1800);
	assert_int_equal(l.state, LINK_UP);
	assert_int_equal(link_uplink(&l, 1810, 7), 1);            /* the next client, at once */
	assert_int_equal(l.disconnects, 0);

	assert_int_equal(link_set(&c, "disconnect_on_close", "1", why, sizeof why), RIG_OK);
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 0);
	assert_int_equal(link_uplink(&l, 1500, 7), 0);
	assert_int_equal(link_uplink(&l, 1700, 7), 1);
	link_client_closed(&l, 1800);
	assert_int_equal(l.state, LINK_DOWN);
	assert_int_equal(l.disconnects, 1);
	assert_int_equal(link_uplink(&l, 1810, 7), 0);            /* connecting again */
	assert_int_equal(link_set(&c, "disconnect_on_close", "2", why, sizeof why), RIG_ERR_ARG);
}

static void settings_are_validated(void **state)
{
	struct link_cfg c;
	char why[200];

	(void)state;
	link_cfg_ble_defaults(&c);
	assert_int_equal(link_set(&c, "chunk_bytes", "182", why, sizeof why), RIG_OK);
	assert_int_equal(c.chunk_bytes, 182);
	assert_int_equal(link_set(&c, "interval_ms", "7.5", why, sizeof why), RIG_ERR_ARG);
	assert_string_equal(why, "interval_ms: expected 0..4000, got \"7.5\"");
	assert_int_equal(link_set(&c, "chunk_bytes", "0", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(link_set(&c, "mtu", "23", why, sizeof why), RIG_ERR_ARG);
	assert_non_null(strstr(why, "unknown link setting \"mtu\""));
}

static void module_gates_requests_on_the_ff_aa_password(void **state)
{
	static const uint8_t mac[6] = { 0xA4, 0xC1, 0x37, 0x40, 0x11, 0x22 };
	uint8_t in[64], out[64], want[64], frame[16];
	size_t n, len, wn;
	struct ble_module m;

	(void)state;
	ble_module_init(&m, "123456", mac, 3);
	n = hex_to_bytes("DD A5 03 00 FF FD 77", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), -1);   /* no password yet: dropped */
	/* The app key of the capture (docs/protocols/jbd.md §10.6): "000000"; a password is set, so 00. */
	n = hex_to_bytes("FF AA 15 06 30 30 30 30 30 30 3B", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), 1);
	wn = hex_to_bytes("FF AA 15 01 00 16", want, sizeof want);
	assert_int_equal(len, wn);
	assert_memory_equal(out, want, wn);
	n = hex_to_bytes("FF AA 17 00 17", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), 1);
	assert_int_equal(len, 6);
	assert_int_equal(out[2], 0x17);
	assert_int_equal(out[4], m.rnd);
	/* A wrong password: FF AA 18 01 01 1A, still gated. */
	n = ble_module_password_frame("654321", mac, m.rnd, frame);
	assert_int_equal(ble_module_uplink(&m, frame, n, out, &len), 1);
	wn = hex_to_bytes("FF AA 18 01 01 1A", want, sizeof want);
	assert_memory_equal(out, want, wn);
	assert_false(m.authed);
	/* The right one: FF AA 18 01 00 19 (the captured OK), then requests pass. */
	n = ble_module_password_frame("123456", mac, m.rnd, frame);
	assert_int_equal(frame[4], (uint8_t)((mac[0] ^ '1') + m.rnd));
	assert_int_equal(ble_module_uplink(&m, frame, n, out, &len), 1);
	wn = hex_to_bytes("FF AA 18 01 00 19", want, sizeof want);
	assert_memory_equal(out, want, wn);
	n = hex_to_bytes("DD A5 03 00 FF FD 77", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), 0);
	/* A new connection starts locked again; a bad sum is ignored without a reply. */
	ble_module_disconnected(&m);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), -1);
	n = hex_to_bytes("FF AA 17 00 18", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), 1);
	assert_int_equal(len, 0);
	/* Without a password: everything passes, and 0x15 answers 02 (none set). */
	ble_module_init(&m, "", mac, 3);
	n = hex_to_bytes("DD A5 03 00 FF FD 77", in, sizeof in);
	assert_int_equal(ble_module_uplink(&m, in, n, out, &len), 0);
	n = hex_to_bytes("FF AA 15 06 30 30 30 30 30 30 3B", in, sizeof in);
	ble_module_uplink(&m, in, n, out, &len);
	assert_int_equal(out[4], 0x02);
}

static void password_and_mac_settings(void **state)
{
	struct link_cfg c;
	char why[200];

	(void)state;
	link_cfg_ble_defaults(&c);
	assert_int_equal(link_set(&c, "password", "123456", why, sizeof why), RIG_OK);
	assert_string_equal(c.password, "123456");
	assert_int_equal(link_set(&c, "password", "12345", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(link_set(&c, "mac", "A4:C1:37:40:11:22", why, sizeof why), RIG_OK);
	assert_int_equal(c.mac[0], 0xA4);
	assert_int_equal(c.mac[5], 0x22);
	assert_int_equal(link_set(&c, "mac", "A4:C1:37:40:11", why, sizeof why), RIG_ERR_ARG);
	assert_int_equal(link_set(&c, "mac", "A4:C1:37:40:11:22x", why, sizeof why), RIG_ERR_ARG);
}

/* Lost notifications still use their connection events, and which are lost follows the seed. */
static void ble_notification_loss_is_seeded_and_keeps_the_timing(void **state)
{
	struct link_cfg c;
	struct link l, l2;
	struct link_chunk ch[64], ch2[64];
	char why[160];
	unsigned k, k2, lost = 0, i;

	(void)state;
	link_cfg_ble_defaults(&c);
	c.connect_ms = 0;
	c.drop_first = 0;
	c.queue_ms = 0;                                    /* 20 replies at once: no bound here */
	assert_int_equal(link_set(&c, "notify_loss_pct", "30", why, sizeof why), RIG_OK);
	assert_int_equal(link_set(&c, "notify_loss_pct", "101", why, sizeof why), RIG_ERR_ARG);
	link_init(&l, &c, 0);
	link_init(&l2, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 1);
	assert_int_equal(link_uplink(&l2, 0, 7), 1);
	for (i = 0; i < 20; i++) {
		k = link_downlink(&l, 0, 20 * 50, ch, 64);
		k2 = link_downlink(&l2, 0, 20 * 50, ch2, 64);
		assert_int_equal(k, k2);
		for (unsigned j = 0; j < k; j++) {
			assert_int_equal(ch[j].offset, ch2[j].offset);
			assert_int_equal(ch[j].at_ms, ch2[j].at_ms);
		}
		lost += 50 - k;
		/* every chunk sits on a whole interval after the first event of this reply */
		assert_int_equal((ch[k - 1].at_ms - ch[0].at_ms) % c.interval_ms, 0);
	}
	assert_int_equal(l.lost_notifications, lost);
	assert_in_range(lost, 1000 * 20 / 100, 1000 * 40 / 100);   /* 30 % of 1000, loosely */
}

/* field: a JK pushing a 300-byte record every 500 ms over a 100 ms interval (1.5 s a record)
 * must not queue minutes of stale records: a reply that would wait past queue_ms is lost. */
static void ble_send_queue_is_bounded(void **state)
{
	struct link_cfg c;
	struct link l;
	struct link_chunk ch[64];
	uint32_t t;
	unsigned sent = 0, lost = 0;

	(void)state;
	link_cfg_ble_defaults(&c);
	c.connect_ms = 0;
	c.drop_first = 0;
	c.interval_ms = 100;
	assert_int_equal(c.queue_ms, 1000);
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 1);
	for (t = 0; t < 60000; t += 500) {
		unsigned k = link_downlink(&l, t, 300, ch, 64);

		if (k) {
			sent++;
			assert_true(ch[k - 1].at_ms - t <= 1000 + 15 * 100);   /* never minutes behind */
		} else {
			lost++;
		}
	}
	assert_int_equal(l.overflows, lost);
	assert_true(sent >= 35 && sent <= 45);             /* the link carries one record in 1.5 s */
	assert_true(lost > 0);
}

static void ble_drop_now_with_a_slow_reconnect(void **state)
{
	struct link_cfg c;
	struct link l;

	(void)state;
	link_cfg_ble_defaults(&c);
	c.drop_first = 0;
	link_init(&l, &c, 0);
	assert_int_equal(link_uplink(&l, 0, 7), 0);
	link_tick(&l, 1500);
	assert_int_equal(l.state, LINK_UP);
	link_drop(&l, 2000, 20000);
	assert_int_equal(l.state, LINK_DOWN);
	assert_int_equal(link_uplink(&l, 2100, 7), 0);       /* reconnecting */
	link_tick(&l, 22099);
	assert_int_equal(l.state, LINK_CONNECTING);
	link_tick(&l, 22100);
	assert_int_equal(l.state, LINK_UP);
	assert_int_equal(l.disconnects, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uart_passes_everything_at_once),
		cmocka_unit_test(ble_connects_then_loses_the_first_request),
		cmocka_unit_test(ble_notifications_are_20_bytes_one_per_interval),
		cmocka_unit_test(ble_drops_after_a_while_and_chunks_in_flight_die),
		cmocka_unit_test(ble_random_drops_are_seeded),
		cmocka_unit_test(ble_single_central_refuses_a_quick_reconnect),
		cmocka_unit_test(ble_close_keeps_the_bridge_connected_by_default),
		cmocka_unit_test(settings_are_validated),
		cmocka_unit_test(module_gates_requests_on_the_ff_aa_password),
		cmocka_unit_test(password_and_mac_settings),
		cmocka_unit_test(ble_notification_loss_is_seeded_and_keeps_the_timing),
		cmocka_unit_test(ble_send_queue_is_bounded),
		cmocka_unit_test(ble_drop_now_with_a_slow_reconnect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
