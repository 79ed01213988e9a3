/* The in-process line (transport_mem.h): a request reaches the emulator once it has crossed
 * the line, the reply is the client's to read, and requests in flight are bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/lib/loop.h"
#include "bmsrig/sim/sim.h"
#include "bmsrig/sim/spec.h"
#include "bmsrig/sim/transport_mem.h"

static const uint8_t basic_info[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };

struct line {
	struct host_loop *loop;
	struct sim_mem *mem;
	struct sim *sim;
	struct rig_io io;
};

static void line_open(struct line *l)
{
	struct bms_spec spec;
	struct sim_cfg cfg;
	char err[256];

	spec_defaults(&spec);
	assert_int_equal(spec_resolve(&spec, err, sizeof err), RIG_OK);
	l->loop = host_loop_new_virtual();
	assert_non_null(l->loop);
	host_loop_pause(l->loop, 1);
	assert_int_equal(sim_mem_new(&l->mem), RIG_OK);
	memset(&cfg, 0, sizeof cfg);
	cfg.unit[0] = spec.unit;
	cfg.units = 1;
	cfg.link = spec.link;
	cfg.pace = 1;
	cfg.transport = sim_mem_emulator(l->mem);
	if (sim_open(&l->sim, l->loop, &cfg, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	assert_string_equal(sim_port(l->sim), "in-process");
	sim_mem_attach(l->mem, l->loop, l->sim);
	l->io = sim_mem_client(l->mem);
}

static void line_close(struct line *l)
{
	sim_close(l->sim);
	sim_mem_free(l->mem);
	host_loop_free(l->loop);
}

static void request_crosses_the_line_then_the_reply_is_read(void **state)
{
	struct line l;
	uint8_t buf[256];
	uint32_t cross_ms;
	int32_t n;

	(void)state;
	line_open(&l);
	cross_ms = sim_wire_ms(l.sim, sizeof basic_info);
	assert_true(cross_ms > 1);
	assert_int_equal(l.io.write(l.io.ctx, basic_info, sizeof basic_info), (int32_t)sizeof basic_info);
	/* Still on the line: the BMS has not seen it, so nothing comes back. */
	assert_int_equal(host_loop_step(l.loop, cross_ms - 1), RIG_OK);
	assert_int_equal(sim_stats(l.sim)->replies, 0);
	assert_int_equal(l.io.read(l.io.ctx, buf, sizeof buf), 0);
	/* Across, answered, and the reply paced onto the line. */
	assert_int_equal(host_loop_step(l.loop, 500), RIG_OK);
	assert_int_equal(sim_stats(l.sim)->replies, 1);
	n = l.io.read(l.io.ctx, buf, sizeof buf);
	assert_true(n > 7);
	assert_int_equal(buf[0], 0xDD);
	assert_int_equal(buf[1], 0x03);
	assert_int_equal(buf[n - 1], 0x77);
	/* Read once: the line is empty again. */
	assert_int_equal(l.io.read(l.io.ctx, buf, sizeof buf), 0);
	line_close(&l);
}

static void requests_in_flight_are_bounded(void **state)
{
	struct line l;
	unsigned i;
	int32_t rc = 0;

	(void)state;
	line_open(&l);
	for (i = 0; i < 64 && rc >= 0; i++)
		rc = l.io.write(l.io.ctx, basic_info, sizeof basic_info);
	assert_int_equal(rc, RIG_ERR_SPACE);
	assert_true(i > 1 && i < 64);
	/* Once they have crossed, the slots are free again. */
	assert_int_equal(host_loop_step(l.loop, 1000), RIG_OK);
	assert_int_equal(l.io.write(l.io.ctx, basic_info, sizeof basic_info), (int32_t)sizeof basic_info);
	line_close(&l);
}

/* Replies queued on a paced line follow each other on its microsecond clock: each is rounded up
 * to the loop's ms only where it is delivered, so the rounding never adds up. Three 34-byte
 * replies (4S 0x03, 35.417 ms each at 9600 Bd) sent together after the 8 ms crossing and the
 * 40 ms latency end at 83.417, 118.834 and 154.251 ms: read at 84, 119 and 155, not at 84, 120
 * and 156 as whole-ms frames would be. */
static void queued_replies_keep_the_line_time_in_microseconds(void **state)
{
	static const uint32_t ends_ms[] = { 84, 119, 155 };
	struct line l;
	uint8_t buf[512];
	uint32_t t = 0;
	unsigned i, k;
	size_t got = 0;

	(void)state;
	line_open(&l);
	assert_int_equal(sim_wire_us(l.sim, 34), 35417);
	assert_int_equal(sim_wire_ms(l.sim, 34), 36);
	for (i = 0; i < 3; i++)
		assert_int_equal(l.io.write(l.io.ctx, basic_info, sizeof basic_info), (int32_t)sizeof basic_info);
	for (k = 0; k < 3; k++) {
		int32_t n;

		assert_int_equal(host_loop_step(l.loop, ends_ms[k] - 1 - t), RIG_OK);
		assert_int_equal(l.io.read(l.io.ctx, buf, sizeof buf), 0);     /* not yet */
		assert_int_equal(host_loop_step(l.loop, 1), RIG_OK);
		t = ends_ms[k];
		n = l.io.read(l.io.ctx, buf, sizeof buf);
		assert_int_equal(n, 34);                                        /* this one, whole */
		assert_int_equal(buf[0], 0xDD);
		assert_int_equal(buf[33], 0x77);
		got += (size_t)n;
	}
	assert_int_equal(got, 3 * 34);
	line_close(&l);
}

/* The emulator's bytes to the client go round the line's ring (8192 bytes) in order, across its
 * end; what a client that stopped reading has no room for is lost, the rest kept. */
static void the_ring_keeps_the_bytes_in_order_across_its_end(void **state)
{
	struct sim_mem *mem;
	const struct sim_transport *emu;
	struct rig_io io;
	static uint8_t out[3000], in[9000];
	uint32_t sent = 0, got = 0;
	int32_t n;

	(void)state;
	assert_int_equal(sim_mem_new(&mem), RIG_OK);
	emu = sim_mem_emulator(mem);
	io = sim_mem_client(mem);
	for (int round = 0; round < 7; round++) {      /* 21,000 bytes: the ring wraps twice */
		for (unsigned i = 0; i < sizeof out; i++)
			out[i] = (uint8_t)((sent + i) * 7u + 1u);
		assert_int_equal(emu->write(emu->h, out, sizeof out), (int32_t)sizeof out);
		sent += sizeof out;
		while ((n = io.read(io.ctx, in, 1000)) > 0) {
			for (int32_t i = 0; i < n; i++)
				assert_int_equal(in[i], (uint8_t)((got + (uint32_t)i) * 7u + 1u));
			got += (uint32_t)n;
		}
	}
	assert_int_equal(got, sent);
	/* 9,000 bytes with nobody reading: the first 8,192 are kept, in order. */
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned i = 0; i < sizeof out; i++)
			out[i] = (uint8_t)(k * sizeof out + i);
		assert_int_equal(emu->write(emu->h, out, sizeof out), (int32_t)sizeof out);
	}
	n = io.read(io.ctx, in, 65535);
	assert_int_equal(n, 8192);
	for (int32_t i = 0; i < n; i++)
		assert_int_equal(in[i], (uint8_t)i);
	assert_int_equal(io.read(io.ctx, in, sizeof in), 0);
	sim_mem_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_crosses_the_line_then_the_reply_is_read),
		cmocka_unit_test(requests_in_flight_are_bounded),
		cmocka_unit_test(queued_replies_keep_the_line_time_in_microseconds),
		cmocka_unit_test(the_ring_keeps_the_bytes_in_order_across_its_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
