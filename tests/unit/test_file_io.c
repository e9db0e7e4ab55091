/* test_file_io.c - reading inputs and writing outputs (base/file_io.c):
 * special files never block a read in open(2); -o never replaces anything
 * but a regular file; a write error on standard output is an error; an
 * empty folder lists as nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.h"

static char g_dir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/af_file_io_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
}

/* A FIFO nobody writes to: the read returns (empty) instead of blocking in
 * open(2); an alarm fails the test if it hangs. */
static void test_fifo_without_writer_reads_empty(void **state)
{
    (void)state;
    char fifo[300];
    path_in_dir(fifo, sizeof fifo, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(5);
    char *data = NULL;
    size_t len = 99;
    af_error err;
    assert_int_equal(af_read_file(fifo, 1024, &data, &len, &err), 0);
    alarm(0);
    assert_int_equal(len, 0);
    free(data);
}

static void test_directory_is_not_read(void **state)
{
    (void)state;
    char *data = NULL;
    size_t len = 0;
    af_error err;
    assert_int_equal(af_read_file(g_dir, 1024, &data, &len, &err), -1);
    assert_non_null(strstr(err.message, "directory"));
}

static void test_write_refuses_what_is_not_a_regular_file(void **state)
{
    (void)state;
    af_error err;
    /* a character device stays one */
    assert_int_equal(af_write_file("/dev/null", "x", 1, &err), -1);
    assert_non_null(strstr(err.message, "character device"));
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    /* a FIFO, a symbolic link, a directory */
    char fifo[300], link[300], target[300];
    path_in_dir(fifo, sizeof fifo, "out-fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(af_write_file(fifo, "x", 1, &err), -1);
    assert_non_null(strstr(err.message, "FIFO"));
    path_in_dir(target, sizeof target, "target");
    path_in_dir(link, sizeof link, "link");
    assert_int_equal(af_write_file(target, "old", 3, &err), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(af_write_file(link, "new", 3, &err), -1);
    assert_non_null(strstr(err.message, "symbolic link"));
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(af_write_file(g_dir, "x", 1, &err), -1);
    assert_non_null(strstr(err.message, "directory"));
}

static void test_write_replaces_a_regular_file_and_creates_a_new_one(void **state)
{
    (void)state;
    af_error err;
    char path[300];
    path_in_dir(path, sizeof path, "plain");
    assert_int_equal(af_write_file(path, "first", 5, &err), 0);
    assert_int_equal(af_write_file(path, "second!", 7, &err), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(af_read_file(path, 1024, &data, &len, &err), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "second!", 7);
    free(data);
}

/* Standard output on a full disk (/dev/full): the write is an error. */
static void test_stdout_write_error_is_an_error(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/full", "w", stdout))
            _exit(3);
        af_error err;
        char big[8192];
        memset(big, 'x', sizeof big);
        int a = af_write_file("-", big, sizeof big, &err);
        int b = af_flush_stdout(&err);
        _exit(a == -1 && b == -1 && strstr(err.message, "standard output") ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_empty_folder_lists_nothing(void **state)
{
    (void)state;
    char empty[300];
    path_in_dir(empty, sizeof empty, "empty");
    assert_int_equal(mkdir(empty, 0700), 0);
    af_path_list list = {0};
    assert_int_equal(af_path_list_add_arg(&list, empty, ".json"), 0);
    assert_int_equal(list.count, 0);
    af_path_list_free(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_without_writer_reads_empty),
        cmocka_unit_test(test_directory_is_not_read),
        cmocka_unit_test(test_write_refuses_what_is_not_a_regular_file),
        cmocka_unit_test(test_write_replaces_a_regular_file_and_creates_a_new_one),
        cmocka_unit_test(test_stdout_write_error_is_an_error),
        cmocka_unit_test(test_empty_folder_lists_nothing),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
