/* End to end, byte for byte: a real bmssim process on a pty, spoken to through the host serial
 * layer with the codec, as JBDTools or the Xiaoxiang app would. Expected bytes for error and
 * ack frames are the real captures of tests/vectors/jbd.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/core/jbd.h"
#include "bmsrig/lib/serial.h"
#include "fake_io.h"

extern char **environ;

struct e2e {
	char dir[64], link[96], state[96];
	pid_t pid;
	struct host_serial *port;
};

static const char *bin(void)
{
	const char *b = getenv("BMSRIG_BIN");

	return b ? b : "build/asan/bin";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void start_sim(struct e2e *e)
{
	char path[128];
	char *argv[] = { path, "serve", "--link", e->link, "--state", e->state, "--latency-ms", "5",
	                 "--cells", "4", "--ntc", "2", "-q", NULL };
	struct stat st;
	char err[256];
	int i;

	snprintf(path, sizeof path, "%s/bmssim", bin());
	assert_int_equal(posix_spawn(&e->pid, path, NULL, NULL, argv, environ), 0);
	for (i = 0; i < 100 && lstat(e->link, &st) != 0; i++)
		sleep_ms(20);
	assert_int_equal(host_serial_open(&e->port, e->link, 9600, err, sizeof err), RIG_OK);
}

static void stop_sim(struct e2e *e)
{
	int status;

	host_serial_close(e->port);
	e->port = NULL;
	kill(e->pid, SIGTERM);
	assert_int_equal(waitpid(e->pid, &status, 0), e->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup(void **state)
{
	static struct e2e e;

	memset(&e, 0, sizeof e);
	strcpy(e.dir, "/tmp/bmsrig-e2e-jbd.XXXXXX");
	if (!mkdtemp(e.dir))
		return -1;
	snprintf(e.link, sizeof e.link, "%s/jbd0", e.dir);
	snprintf(e.state, sizeof e.state, "%s/state.json", e.dir);
	start_sim(&e);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct e2e *e = *state;

	if (e->port)
		stop_sim(e);
	unlink(e->state);
	rmdir(e->dir);
	return 0;
}

/* Sends req and returns the wire bytes of the reply (0 when none came within 1 s). */
static size_t transact(struct e2e *e, const struct jbd_frame *req, uint8_t *wire, size_t cap,
                       struct jbd_frame *reply)
{
	uint8_t out[JBD_FRAME_MAX];
	size_t n;
	struct jbd_rx rx;
	int waited;

	rig_jbd_rx_init(&rx, 0);
	assert_int_equal(rig_jbd_frame_encode(req, out, sizeof out, &n), RIG_OK);
	host_serial_flush_input(e->port);
	assert_int_equal(host_serial_write(e->port, out, (uint16_t)n), (int32_t)n);
	for (waited = 0; waited < 1000; waited += 2) {
		uint8_t buf[64];
		int32_t got = host_serial_read(e->port, buf, sizeof buf);

		if (got > 0)
			rig_jbd_rx_feed(&rx, buf, (size_t)got, 0);
		if (rig_jbd_rx_next(&rx, reply) == RIG_OK) {
			assert_int_equal(rig_jbd_frame_encode(reply, wire, cap, &n), RIG_OK);
			return n;
		}
		sleep_ms(2);
	}
	return 0;
}

static void assert_reply_hex(struct e2e *e, const struct jbd_frame *req, const char *hex)
{
	uint8_t want[JBD_FRAME_MAX], got[JBD_FRAME_MAX];
	size_t nw = hex_to_bytes(hex, want, sizeof want);
	struct jbd_frame reply;
	size_t ng = transact(e, req, got, sizeof got, &reply);

	assert_int_equal(ng, nw);
	assert_memory_equal(got, want, nw);
}

static void reads_and_errors_are_byte_exact(void **state)
{
	struct e2e *e = *state;
	struct jbd_frame req, reply;
	struct jbd_basic b;
	struct jbd_cells c;
	uint8_t wire[JBD_FRAME_MAX];

	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_basic_decode(&reply, &b), RIG_OK);
	assert_int_equal(b.cell_count, 4);
	assert_int_equal(b.ntc_count, 2);
	assert_int_equal(b.fet, 3);
	rig_jbd_request_read(&req, JBD_REG_CELLS);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_cells_decode(&reply, &c), RIG_OK);
	assert_int_equal(c.count, 4);
	/* Settings outside factory mode: refused exactly like the V1.3 board captured (F10). */
	rig_jbd_request_read(&req, 0x24);
	assert_reply_hex(e, &req, "DD 24 81 00 FF 7F 77");
	/* A register the firmware lacks (docs/protocols/jbd.md §2.4). */
	rig_jbd_request_read(&req, 0xE3);
	assert_reply_hex(e, &req, "DD E3 80 00 FF 80 77");   /* jbd_err_reset_0x80 */
	/* A frame with a bad checksum gets silence, and the next good one an answer. */
	{
		static const uint8_t bad[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFC, 0x77 };
		uint8_t buf[64];

		assert_int_equal(host_serial_write(e->port, bad, sizeof bad), (int32_t)sizeof bad);
		sleep_ms(200);
		assert_int_equal(host_serial_read(e->port, buf, sizeof buf), 0);
	}
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
}

static void mosfet_mask_shows_in_basic_info(void **state)
{
	struct e2e *e = *state;
	struct jbd_frame req, reply;
	struct jbd_basic b;
	uint8_t wire[JBD_FRAME_MAX];

	rig_jbd_request_mosfet(&req, JBD_MOSFET_CHG_OFF);
	assert_reply_hex(e, &req, "DD E1 00 00 00 00 77");   /* jbd_ack_fet */
	sleep_ms(250);   /* one BMS step */
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_basic_decode(&reply, &b), RIG_OK);
	assert_int_equal(b.fet, 0x02);              /* F9 capture: charge off */
	assert_int_equal(b.prot_raw, 0x1000);       /* software lock */
	rig_jbd_request_mosfet(&req, 0);
	assert_reply_hex(e, &req, "DD E1 00 00 00 00 77");
	sleep_ms(250);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_basic_decode(&reply, &b), RIG_OK);
	assert_int_equal(b.fet, 0x03);
	assert_int_equal(b.prot_raw, 0);
}

static void settings_survive_exit_and_save_and_a_restart(void **state)
{
	struct e2e *e = *state;
	struct jbd_frame req, reply;
	uint8_t wire[JBD_FRAME_MAX];
	uint16_t v;

	rig_jbd_request_factory_enter(&req);
	assert_reply_hex(e, &req, "DD 00 00 00 00 00 77");   /* jbd_ack_enter_factory */
	rig_jbd_request_read(&req, 0x24);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_register_decode(&reply, &v), RIG_OK);
	assert_int_equal(v, 3650);
	rig_jbd_request_write_u16(&req, 0x24, 3600);
	assert_reply_hex(e, &req, "DD 24 00 00 00 00 77");
	rig_jbd_request_factory_exit(&req, 1);
	assert_reply_hex(e, &req, "DD 01 00 00 00 00 77");
	assert_int_equal(access(e->state, R_OK), 0);
	/* The client goes away and comes back: the port still answers. */
	host_serial_close(e->port);
	{
		char err[256];

		assert_int_equal(host_serial_open(&e->port, e->link, 9600, err, sizeof err), RIG_OK);
	}
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	/* A power cycle: the emulator restarts on the same state file. */
	stop_sim(e);
	start_sim(e);
	rig_jbd_request_factory_enter(&req);
	assert_reply_hex(e, &req, "DD 00 00 00 00 00 77");
	rig_jbd_request_read(&req, 0x24);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_register_decode(&reply, &v), RIG_OK);
	assert_int_equal(v, 3600);
	/* Exit without saving: a later change is live but not persisted. */
	rig_jbd_request_write_u16(&req, 0x24, 3620);
	assert_reply_hex(e, &req, "DD 24 00 00 00 00 77");
	rig_jbd_request_factory_exit(&req, 0);
	assert_reply_hex(e, &req, "DD 01 00 00 00 00 77");
	stop_sim(e);
	start_sim(e);
	rig_jbd_request_factory_enter(&req);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	rig_jbd_request_read(&req, 0x24);
	assert_true(transact(e, &req, wire, sizeof wire, &reply) > 0);
	assert_int_equal(rig_jbd_register_decode(&reply, &v), RIG_OK);
	assert_int_equal(v, 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_and_errors_are_byte_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(mosfet_mask_shows_in_basic_info, setup, teardown),
		cmocka_unit_test_setup_teardown(settings_survive_exit_and_save_and_a_restart, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
