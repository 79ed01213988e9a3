/* The SocketCAN backend. Where the kernel has no CAN (here: CONFIG_CAN unset, socket() fails
 * with EAFNOSUPPORT) opening it gives the one line bmssim prints, and the round trip over
 * vcan0 is skipped with a visible note: cmocka counts it as skipped, not passed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/sim/socketcan.h"

static int kernel_has_can(void)
{
	int fd = socket(PF_CAN, SOCK_RAW, CAN_RAW);

	if (fd < 0)
		return errno != EAFNOSUPPORT;
	close(fd);
	return 1;
}

static void no_kernel_can_is_one_clear_line(void **state)
{
	struct sim_socketcan *c;
	char err[256];
	rig_rc rc;

	(void)state;
	rc = sim_socketcan_new(&c, "vcan0", err, sizeof err);
	if (kernel_has_can()) {
		/* With CAN, a missing interface is named instead (vcan0 may well exist). */
		if (rc == RIG_OK)
			sim_socketcan_close(c);
		else
			assert_string_equal(err, "socketcan:vcan0: no such interface");
		return;
	}
	assert_int_equal(rc, RIG_ERR_UNSUPPORTED);
	assert_null(c);
	assert_string_equal(err, "socketcan: this kernel has no CAN support (EAFNOSUPPORT); use "
	                         "--link PATH (slcan on a pty), tcp:PORT or socketcand:PORT");
}

static void a_bad_interface_name_is_refused(void **state)
{
	struct sim_socketcan *c;
	char err[256];

	(void)state;
	assert_int_equal(sim_socketcan_new(&c, "a-name-longer-than-ifnamsiz", err, sizeof err), RIG_ERR_ARG);
	assert_string_equal(err, "socketcan:a-name-longer-than-ifnamsiz: expected an interface name (e.g. can0)");
	assert_int_equal(sim_socketcan_new(&c, "", err, sizeof err), RIG_ERR_ARG);
}

/* On a kernel with vcan0 up: slcan text from the personality is a frame on the bus, a frame on
 * the bus is slcan text for the personality. */
static void frames_cross_vcan0(void **state)
{
	struct sim_socketcan *c;
	struct sockaddr_can sa;
	struct can_frame k;
	struct pollfd p;
	char err[256];
	uint8_t buf[64];
	int peer;
	int32_t n;

	(void)state;
	if (!kernel_has_can() || if_nametoindex("vcan0") == 0) {
		fprintf(stderr, "SKIP: frames_cross_vcan0: %s\n", kernel_has_can() ? "no vcan0 interface"
		        : "this kernel has no CAN support (EAFNOSUPPORT)");
		skip();
	}
	assert_int_equal(sim_socketcan_new(&c, "vcan0", err, sizeof err), RIG_OK);
	peer = socket(PF_CAN, SOCK_RAW, CAN_RAW);
	memset(&sa, 0, sizeof sa);
	sa.can_family = AF_CAN;
	sa.can_ifindex = (int)if_nametoindex("vcan0");
	assert_int_equal(bind(peer, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(sim_socketcan_write(c, (const uint8_t *)"t3518" "1402F401E803CC01\r", 22), 22);
	assert_int_equal(read(peer, &k, sizeof k), (ssize_t)sizeof k);
	assert_int_equal(k.can_id, 0x351);
	assert_int_equal(k.can_dlc, 8);
	assert_memory_equal(k.data, "\x14\x02\xF4\x01\xE8\x03\xCC\x01", 8);
	memset(&k, 0, sizeof k);
	k.can_id = 0x305;
	k.can_dlc = 8;
	assert_int_equal(write(peer, &k, sizeof k), (ssize_t)sizeof k);
	p.fd = sim_socketcan_fd(c);
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = sim_socketcan_read(c, buf, sizeof buf);
	assert_int_equal(n, 22);
	assert_memory_equal(buf, "t3058" "0000000000000000\r", 22);
	close(peer);
	sim_socketcan_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_kernel_can_is_one_clear_line),
		cmocka_unit_test(a_bad_interface_name_is_refused),
		cmocka_unit_test(frames_cross_vcan0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
