/* test_flight.c - the flight recorder, its recovery, the quarantine and the
 * hash set under it (harness/engines/flight.c, base/hashset.c).
 *
 * Each recorder case runs in a forked child that opens a record, starts an
 * input and then dies one way or another; the parent recovers the folder
 * and checks what was filed: a crash signal or exit() in the middle of an
 * input is a `crash` finding, a run past the hang timeout a `hang`, and a
 * kill between inputs or of a run that was not overdue (a campaign being
 * stopped) files nothing. Filed inputs land in the quarantine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"
#include "base/hashset.h"
#include "harness/engines/flight.h"

/* ---- the hash set ---- */

static uint64_t nth_hash(uint64_t i)
{
    return (i * 0x9e3779b97f4a7c15ull) | 1;
}

static void test_hashset_grows_and_finds(void **state)
{
    (void)state;
    af_hashset s = {0};
    assert_false(af_hashset_has(&s, 42));
    enum { N = 20000 };
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(af_hashset_add(&s, nth_hash(i)), 1);
    assert_int_equal(s.count, N);
    assert_true(s.cap >= 2 * N);
    for (uint64_t i = 0; i < N; i++) {
        assert_true(af_hashset_has(&s, nth_hash(i)));
        assert_int_equal(af_hashset_add(&s, nth_hash(i)), 0);
    }
    assert_int_equal(s.count, N);
    /* even numbers were never added (every added hash is odd) */
    for (uint64_t i = 1; i < 1000; i++)
        assert_false(af_hashset_has(&s, i * 2));
    af_hashset_free(&s);
    assert_null(s.slots);
    assert_int_equal(s.count, 0);
    assert_false(af_hashset_has(&s, nth_hash(1)));
}

/* ---- the recorder ---- */

typedef enum {
    DIE_SEGV_RUNNING,  /* crash:SIGSEGV */
    DIE_ABORT_RUNNING, /* crash:SIGABRT */
    DIE_EXIT_RUNNING,  /* crash:exit */
    DIE_OVERDUE,       /* hang:timeout */
    DIE_KILL_RUNNING,  /* stopped in the middle of a run: nothing */
    DIE_SEGV_IDLE,     /* crashed between inputs: nothing */
    DIE_CLOSED,        /* ended cleanly: no record left */
} death;

static const uint8_t INPUT[] = {0x01, 0x02, 0x03, 0x40, 0x7f, 0x11, 0x22};

static void child(const char *dir, death how)
{
    /* cmocka catches crash signals in the test process: this child dies
     * the way a fuzz target does, by the default actions */
    const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        signal(crash_signals[i], SIG_DFL);
    af_error err;
    memset(&err, 0, sizeof err);
    af_flight *fl = af_flight_open(dir, "libfuzzer", "", 0.2, &err);
    if (!fl)
        _exit(100);
    af_flight_begin(fl, INPUT, sizeof INPUT);
    switch (how) {
    case DIE_SEGV_RUNNING:
        raise(SIGSEGV);
        break;
    case DIE_ABORT_RUNNING:
        abort();
    case DIE_EXIT_RUNNING:
        exit(3);
    case DIE_OVERDUE: {
        struct timespec t = {0, 600 * 1000 * 1000};
        while (nanosleep(&t, &t) < 0)
            ;
        raise(SIGKILL);
        break;
    }
    case DIE_KILL_RUNNING:
        raise(SIGKILL);
        break;
    case DIE_SEGV_IDLE:
        af_flight_end(fl);
        raise(SIGSEGV);
        break;
    case DIE_CLOSED:
        af_flight_end(fl);
        af_flight_close(fl);
        _exit(0);
    }
    _exit(101);
}

static int filed_count;
static void count_filed(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    assert_int_equal(len, sizeof INPUT);
    assert_memory_equal(data, INPUT, len);
    filed_count++;
}

/* The text of the first finding folder's verdict.json, or NULL. */
static char *first_verdict(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char *text = NULL;
    while (!text && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/verdict.json", dir, e->d_name);
        size_t len;
        af_error err;
        if (af_read_file(path, 1 << 20, &text, &len, &err) < 0)
            text = NULL;
    }
    closedir(d);
    return text;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Runs one death in a child; returns how many inputs recovery filed, and
 * the verdict text in *verdict (caller frees; NULL when nothing). */
static int die_and_recover(death how, int want_signal, char **verdict)
{
    char dir[] = "/tmp/af-test-flight.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(dir, how);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (want_signal)
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == want_signal);
    else
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) < 100);

    filed_count = 0;
    int filed = af_flight_recover(dir, "test_flight", NULL, count_filed, NULL);
    assert_int_equal(filed, filed_count);
    /* the record is consumed: a second recovery files nothing */
    assert_int_equal(af_flight_recover(dir, "test_flight", NULL, NULL, NULL), 0);
    char inflight[4096];
    snprintf(inflight, sizeof inflight, "%s/.inflight", dir);
    assert_int_equal(count_entries(inflight), 0);

    af_quarantine q = {0};
    assert_int_equal(af_quarantine_load(&q, dir), 0);
    assert_int_equal(af_hashset_has(&q, af_quarantine_hash(INPUT, sizeof INPUT)), filed > 0);
    af_hashset_free(&q);

    *verdict = filed ? first_verdict(dir) : NULL;
    if (filed)
        assert_non_null(*verdict);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return filed;
}

static void expect_filed(death how, int sig, const char *oracle, const char *text)
{
    char *verdict = NULL;
    assert_int_equal(die_and_recover(how, sig, &verdict), 1);
    char want[128];
    snprintf(want, sizeof want, "\"%s\"", oracle);
    assert_non_null(strstr(verdict, want));
    snprintf(want, sizeof want, "\"%s\"", text);
    assert_non_null(strstr(verdict, want));
    free(verdict);
}

static void expect_nothing(death how, int sig)
{
    char *verdict = NULL;
    assert_int_equal(die_and_recover(how, sig, &verdict), 0);
    assert_null(verdict);
}

static void test_crash_signal_is_filed(void **state)
{
    (void)state;
    expect_filed(DIE_SEGV_RUNNING, SIGSEGV, "crash", "crash:SIGSEGV");
    expect_filed(DIE_ABORT_RUNNING, SIGABRT, "crash", "crash:SIGABRT");
}

static void test_exit_during_run_is_filed(void **state)
{
    (void)state;
    expect_filed(DIE_EXIT_RUNNING, 0, "crash", "crash:exit");
}

static void test_overdue_run_is_a_hang(void **state)
{
    (void)state;
    expect_filed(DIE_OVERDUE, SIGKILL, "hang", "hang:timeout");
}

static void test_stopped_campaign_files_nothing(void **state)
{
    (void)state;
    expect_nothing(DIE_KILL_RUNNING, SIGKILL);
    expect_nothing(DIE_SEGV_IDLE, SIGSEGV);
    expect_nothing(DIE_CLOSED, 0);
}

static void test_quarantine_load_reads_only_hash_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/af-test-quar.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[4096];
    af_error err;
    snprintf(path, sizeof path, "%s/.quarantine", dir);
    assert_int_equal(af_make_dirs(path, &err), 0);
    const char *names[] = {"00000000000000ab", "ffffffffffffffff", "not-a-hash", "0000000000000000",
                           "12345"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/.quarantine/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    af_quarantine q = {0};
    assert_int_equal(af_quarantine_load(&q, dir), 0);
    assert_int_equal(q.count, 2);
    assert_true(af_hashset_has(&q, 0xab));
    assert_true(af_hashset_has(&q, UINT64_MAX));
    af_hashset_free(&q);
    /* a folder without a quarantine is an empty one */
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(af_quarantine_load(&q, path), 0);
    assert_int_equal(q.count, 0);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hashset_grows_and_finds),
        cmocka_unit_test(test_crash_signal_is_filed),
        cmocka_unit_test(test_exit_during_run_is_filed),
        cmocka_unit_test(test_overdue_run_is_a_hang),
        cmocka_unit_test(test_stopped_campaign_files_nothing),
        cmocka_unit_test(test_quarantine_load_reads_only_hash_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
