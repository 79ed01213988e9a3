/* The emulator's pty: the published link, both directions, clients closing and reopening,
 * and no bytes from one client's session reaching the next. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/pty.h"
#include "bmsrig/lib/serial.h"

struct bench {
	char dir[64];
	char link[96];
	struct host_pty *pty;
};

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* What the emulator's loop does: wait for its fd, then read (client events included). */
static size_t emulator_reads(struct host_pty *pty, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n && wait_readable(host_pty_fd(pty), 1000)) {
		int32_t r = host_pty_read(pty, buf + got, (uint16_t)(n - got));

		assert_true(r >= 0);
		got += (size_t)r;
	}
	return got;
}

/* Lets the emulator notice clients coming and going, as its loop would. */
static void emulator_idles(struct host_pty *pty)
{
	uint8_t c;

	while (wait_readable(host_pty_fd(pty), 50))
		assert_int_equal(host_pty_read(pty, &c, 1), 0);
}

static size_t client_reads(struct host_serial *s, uint8_t *buf, size_t n, int ms)
{
	size_t got = 0;

	while (got < n && wait_readable(host_serial_fd(s), ms)) {
		int32_t r = host_serial_read(s, buf + got, (uint16_t)(n - got));

		assert_true(r >= 0);
		got += (size_t)r;
	}
	return got;
}

static struct host_serial *client_opens(const char *path)
{
	struct host_serial *s;
	char err[200];

	if (host_serial_open(&s, path, 9600, err, sizeof err) != RIG_OK)
		fail_msg("%s", err);
	return s;
}

static void write_file_in(const char *base, const char *suffix, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s%s", base, suffix);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct bench *b = calloc(1, sizeof *b);
	char err[200];

	if (!b)
		return -1;
	strcpy(b->dir, "/tmp/bmsrig-pty-XXXXXX");
	if (!mkdtemp(b->dir))
		return -1;
	snprintf(b->link, sizeof b->link, "%s/run/jbd0", b->dir);   /* run/ does not exist yet */
	if (host_pty_open(&b->pty, b->link, 9600, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;
	char run[128];

	host_pty_close(b->pty);
	snprintf(run, sizeof run, "%s/run", b->dir);
	rmdir(run);
	rmdir(b->dir);
	free(b);
	return 0;
}

static void link_resolves_to_the_pts(void **state)
{
	struct bench *b = *state;
	char target[PATH_MAX], run[128];
	ssize_t n = readlink(b->link, target, sizeof target - 1);
	struct stat st;

	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, host_pty_path(b->pty));
	assert_int_equal(strncmp(target, "/dev/pts/", 9), 0);
	snprintf(run, sizeof run, "%s/run", b->dir);
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void both_directions_through_the_link(void **state)
{
	struct bench *b = *state;
	struct host_serial *c = client_opens(b->link);
	uint8_t got[16];

	assert_int_equal(host_serial_write(c, (const uint8_t *)"\xDD\xA5\x03", 3), 3);
	assert_int_equal(emulator_reads(b->pty, got, 3), 3);
	assert_memory_equal(got, "\xDD\xA5\x03", 3);
	assert_int_equal(host_pty_write(b->pty, (const uint8_t *)"\xDD\x03\x00\r\n", 5), 5);
	assert_int_equal(client_reads(c, got, 5, 1000), 5);
	assert_memory_equal(got, "\xDD\x03\x00\r\n", 5);
	host_serial_close(c);
}

static void reopen_works_and_gets_nothing_stale(void **state)
{
	struct bench *b = *state;
	struct host_serial *c = client_opens(b->link);
	uint8_t got[16];

	/* A reply the first client never reads, then it leaves. */
	assert_int_equal(host_pty_write(b->pty, (const uint8_t *)"stale", 5), 5);
	host_serial_close(c);
	emulator_idles(b->pty);
	/* A reply to a request of the client that has gone: no one to hear it. */
	assert_int_equal(host_pty_write(b->pty, (const uint8_t *)"void", 4), 4);

	c = client_opens(b->link);
	emulator_idles(b->pty);   /* the open wakes the emulator's loop */
	assert_int_equal(client_reads(c, got, sizeof got, 100), 0);
	assert_int_equal(host_serial_write(c, (const uint8_t *)"again", 5), 5);
	assert_int_equal(emulator_reads(b->pty, got, 5), 5);   /* no EIO on the master */
	assert_memory_equal(got, "again", 5);
	assert_int_equal(host_pty_write(b->pty, (const uint8_t *)"fresh", 5), 5);
	assert_int_equal(client_reads(c, got, sizeof got, 200), 5);
	assert_memory_equal(got, "fresh", 5);
	host_serial_close(c);
}

/* A client that turns echo and CR mapping on must not leave them on for the next one. */
static void departed_client_settings_do_not_linger(void **state)
{
	struct bench *b = *state;
	struct termios t;
	int fd = open(b->link, O_RDWR | O_NOCTTY);

	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	t.c_lflag |= ECHO | ICANON;
	t.c_iflag |= ICRNL;
	assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
	close(fd);
	emulator_idles(b->pty);

	fd = open(b->link, O_RDWR | O_NOCTTY);   /* plain open: no settings of its own */
	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(t.c_lflag & (ECHO | ICANON), 0);
	assert_int_equal(t.c_iflag & ICRNL, 0);
	assert_int_equal(cfgetospeed(&t), B9600);
	close(fd);
}

static void close_removes_the_link(void **state)
{
	struct bench *b = *state;
	struct stat st;

	host_pty_close(b->pty);
	b->pty = NULL;
	assert_int_equal(lstat(b->link, &st), -1);
}

/* What bmssim killed outright leaves: its link, and a lock file nobody holds any more. */
static void stale_symlink_is_replaced(void **state)
{
	struct bench *b = *state;
	struct host_pty *p2;
	char target[PATH_MAX], err[200];
	ssize_t n;

	host_pty_close(b->pty);
	b->pty = NULL;
	assert_int_equal(symlink("/dev/pts/no-such", b->link), 0);
	write_file_in(b->link, ".lock", "999999999\n");
	assert_int_equal(host_pty_open(&p2, b->link, 9600, err, sizeof err), RIG_OK);
	n = readlink(b->link, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, host_pty_path(p2));
	host_pty_close(p2);
}

/* A second emulator on a live one's link: refused, naming the holder; the link stays the
 * first one's, and a refused emulator removes nothing on its way out. */
static void live_link_is_refused_naming_its_holder(void **state)
{
	struct bench *b = *state;
	struct host_pty *p2 = (struct host_pty *)1;
	char target[PATH_MAX], err[300], want[300];
	ssize_t n;

	assert_int_equal(host_pty_open(&p2, b->link, 9600, err, sizeof err), RIG_ERR_ARG);
	assert_null(p2);
	/* The holder named by its program (here this test; bmssim or bmsmon in use). */
	snprintf(want, sizeof want, "%s is held by test_pty pid %ld", b->link, (long)getpid());
	assert_string_equal(err, want);
	n = readlink(b->link, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, host_pty_path(b->pty));
	/* Once the first lets go, the name is free again. */
	host_pty_close(b->pty);
	b->pty = NULL;
	assert_int_equal(host_pty_open(&b->pty, b->link, 9600, err, sizeof err), RIG_OK);
}

/* A folder anyone may write in lets anyone swap the link: refused, unless sticky (as /tmp). */
static void link_folder_others_can_write_is_refused(void **state)
{
	struct bench *b = *state;
	struct host_pty *p2 = (struct host_pty *)1;
	char dir[128], path[160], err[300], want[300];
	struct stat st;

	snprintf(dir, sizeof dir, "%s/open", b->dir);
	snprintf(path, sizeof path, "%s/jbd", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(host_pty_open(&p2, path, 9600, err, sizeof err), RIG_ERR_ARG);
	assert_null(p2);
	snprintf(want, sizeof want, "link folder %s: expected a folder of ours or root's that no one else "
	         "can write in, or a sticky one such as /tmp; got mode 0777, owner uid %u", dir,
	         (unsigned)geteuid());
	assert_string_equal(err, want);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(host_pty_open(&p2, path, 9600, err, sizeof err), RIG_OK);
	host_pty_close(p2);
	assert_int_equal(chmod(dir, 0770), 0);                 /* the group may write: refused */
	assert_int_equal(host_pty_open(&p2, path, 9600, err, sizeof err), RIG_ERR_ARG);
	rmdir(dir);
}

/* A symlink in place of the folder is never followed. */
static void link_folder_symlink_is_refused(void **state)
{
	struct bench *b = *state;
	struct host_pty *p2 = (struct host_pty *)1;
	char dir[128], path[160], err[300];

	snprintf(dir, sizeof dir, "%s/alias", b->dir);
	snprintf(path, sizeof path, "%s/jbd", dir);
	assert_int_equal(symlink("run", dir), 0);
	assert_int_equal(host_pty_open(&p2, path, 9600, err, sizeof err), RIG_ERR_ARG);
	assert_non_null(strstr(err, "got a symbolic link (never followed)"));
	unlink(dir);
}

static void non_symlink_at_link_path_is_refused(void **state)
{
	struct bench *b = *state;
	struct host_pty *p2 = (struct host_pty *)1;
	char path[128], err[300], want[300];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "%s/run/plain", b->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(host_pty_open(&p2, path, 9600, err, sizeof err), RIG_ERR_ARG);
	assert_null(p2);
	snprintf(want, sizeof want, "%s: exists and is not a symlink; not replacing it", path);
	assert_string_equal(err, want);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
}

static void no_link_and_bad_baud(void **state)
{
	struct host_pty *p;
	char err[200];

	(void)state;
	assert_int_equal(host_pty_open(&p, NULL, 115200, err, sizeof err), RIG_OK);
	assert_int_equal(strncmp(host_pty_path(p), "/dev/pts/", 9), 0);
	host_pty_close(p);
	assert_int_equal(host_pty_open(&p, NULL, 9601, err, sizeof err), RIG_ERR_ARG);
	assert_null(p);
	assert_string_equal(err, "pty: 9601 baud is not a standard rate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(link_resolves_to_the_pts, setup, teardown),
		cmocka_unit_test_setup_teardown(both_directions_through_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_works_and_gets_nothing_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(departed_client_settings_do_not_linger, setup, teardown),
		cmocka_unit_test_setup_teardown(close_removes_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_symlink_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(non_symlink_at_link_path_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(live_link_is_refused_naming_its_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(link_folder_others_can_write_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(link_folder_symlink_is_refused, setup, teardown),
		cmocka_unit_test(no_link_and_bad_baud),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
