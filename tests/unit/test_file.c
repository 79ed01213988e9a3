/* lib/file.c: user files read only when regular and bounded, written through an exclusive
 * temporary file that a planted symlink cannot redirect. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/lib/file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/bmsrig-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

/* Every test leaves the folder as it found it (empty): a temporary file left behind fails. */
static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *get(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static unsigned entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void planted_symlink_at_the_old_tmp_name_is_not_followed(void **state)
{
	char target[128], tmp[160], victim[128], err[256];
	struct stat st;

	(void)state;
	snprintf(target, sizeof target, "%s/state.json", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", target);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, tmp), 0);

	assert_int_equal(host_file_write_atomic(target, "new\n", 4, err, sizeof err), RIG_OK);
	assert_string_equal(get(target), "new\n");
	assert_string_equal(get(victim), "precious\n");
	assert_int_equal(lstat(tmp, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(entries(), 3u);         /* target, victim, the symlink: no temporary left */
	unlink(tmp);
	unlink(victim);
	unlink(target);
}

static void a_replaced_file_keeps_its_mode(void **state)
{
	char target[128], err[256];
	struct stat st;

	(void)state;
	snprintf(target, sizeof target, "%s/private.json", dir);
	put(target, "old\n");
	assert_int_equal(chmod(target, 0600), 0);
	assert_int_equal(host_file_write_atomic(target, "new\n", 4, err, sizeof err), RIG_OK);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_string_equal(get(target), "new\n");
	unlink(target);
}

static void a_failed_write_leaves_the_target_and_no_temporary(void **state)
{
	char target[128], err[256];
	struct host_file_out o;

	(void)state;
	/* rename cannot put a file over a folder: the commit fails after the write. */
	snprintf(target, sizeof target, "%s/busy", dir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(host_file_write_atomic(target, "x", 1, err, sizeof err), RIG_ERR_IO);
	assert_non_null(strstr(err, "/busy: cannot write: "));
	assert_int_equal(entries(), 1u);
	rmdir(target);

	/* An abort takes the temporary away and leaves the old file. */
	snprintf(target, sizeof target, "%s/kept", dir);
	put(target, "old\n");
	assert_int_equal(host_file_out_open(&o, target, err, sizeof err), RIG_OK);
	fputs("half", o.f);
	host_file_out_abort(&o);
	assert_string_equal(get(target), "old\n");
	assert_int_equal(entries(), 1u);
	unlink(target);

	snprintf(target, sizeof target, "%s/no/such/folder", dir);
	assert_int_equal(host_file_write_atomic(target, "x", 1, err, sizeof err), RIG_ERR_IO);
	assert_non_null(strstr(err, "cannot write: No such file or directory"));
}

static void only_regular_files_are_read(void **state)
{
	char fifo[128], want[200], err[256];
	size_t len = 0;

	(void)state;
	/* A FIFO with no writer: a plain open would wait forever. */
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(host_file_read_all(fifo, 1024, &len, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a regular file", fifo);
	assert_string_equal(err, want);
	unlink(fifo);

	assert_null(host_file_read_all(dir, 1024, &len, err, sizeof err));
	assert_non_null(strstr(err, ": not a regular file"));
	assert_null(host_file_read_all("/dev/zero", 1024, &len, err, sizeof err));
	assert_string_equal(err, "/dev/zero: not a regular file");
	assert_null(host_file_open_read("/dev/null", err, sizeof err));
	assert_null(host_file_read_all("/nonexistent/x", 1024, &len, err, sizeof err));
	assert_string_equal(err, "/nonexistent/x: cannot open: No such file or directory");
}

static void reads_are_capped(void **state)
{
	char path[128], want[200], err[256], *text;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/eight", dir);
	put(path, "12345678");
	text = host_file_read_all(path, 8, &len, err, sizeof err);
	assert_non_null(text);
	assert_int_equal(len, 8);
	assert_string_equal(text, "12345678");
	free(text);
	assert_null(host_file_read_all(path, 7, &len, err, sizeof err));
	snprintf(want, sizeof want, "%s: larger than 7 bytes", path);
	assert_string_equal(err, want);
	unlink(path);

	/* A file whose size says 0 (the kernel's) is read to its end all the same. */
	text = host_file_read_all("/proc/self/status", 1u << 20, &len, err, sizeof err);
	assert_non_null(text);
	assert_true(len > 100 && strlen(text) == len);
	assert_non_null(strstr(text, "Name:"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(planted_symlink_at_the_old_tmp_name_is_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(a_replaced_file_keeps_its_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_write_leaves_the_target_and_no_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(only_regular_files_are_read, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_are_capped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
