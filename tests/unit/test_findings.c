/* test_findings.c - the findings store (reports/findings.h): filing real
 * runs (judged by the embedded interpreter) into a store in a temporary
 * folder and reading back what is on disk.
 *
 * Properties: a new signature is one complete folder (every file, meta.json,
 * count 1) and scenario.json expects the oracle of every verdict of the run,
 * so the scenario replays green; a known signature is counted, on disk and
 * in a process's table; a smaller run replaces the folder (first seen and
 * count kept), a larger one does not; processes filing at once leave one
 * folder per signature with exact counts; what a killed process leaves (a
 * temporary folder, a folder missing files, an .old- folder, a file's
 * temporary) is removed or repaired at the next open, with a message; the
 * summary lists every folder, its count and the campaign, and keeps the
 * campaign when regenerated without one; minimize's folder writer replaces
 * a folder whole; a crash finding has the same files.
 * Campaigns: a store with known-defect lists labels meta.json known (issue,
 * fixed in, list) or new at filing, a smaller run keeps the label, and the
 * labelling pass adds the label a filer lacked and changes it when the
 * lists change, rewriting nothing otherwise; a tally of counts shows the
 * signatures a run met; a meta.json field is set and replaced; a folder
 * imported from another store arrives complete, once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "oracles/verdict.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"

/* The fixture: a known asyncio defect (two target-caused verdicts,
 * cancellation swallowed and count) beside a task waiting for an Event
 * nobody sets (leaked-task, scenario-caused), and the same defect without
 * the leaked task (smaller, same signatures). The defect is the running
 * version's: gh-86296 on 3.11 (wait_for swallows the cancel of t1), fixed
 * in 3.12 by gh-96764; gh-134471 from 3.12 on (a task enters
 * asyncio.timeout() with its own cancel pending: TimeoutError, caught),
 * which Debian's 3.11.2 does not have (3.11.3+). */
typedef struct fixture {
    const char *mixed, *small;
    const char *swallowed_text, *count_text; /* the two verdicts' signature texts */
    const char *issue, *fixed_in; /* the running version's stock list's row (fixed_in NULL: "-") */
} fixture;

#define WAIT_FOR_RACE_T1                                                                           \
    "  {\"op\": \"spawn\", \"task\": {\"name\": \"t1\", \"body\": ["                               \
    "    {\"op\": \"sleep\", \"ticks\": 3},"                                                       \
    "    {\"op\": \"wait_for\", \"timeout\": 41, \"body\": [{\"op\": \"sleep\", \"ticks\": "       \
    "40}]}]}},"
#define WAIT_FOR_RACE_MAIN_END                                                                     \
    "  {\"op\": \"sleep\", \"ticks\": 43}, {\"op\": \"cancel\", \"target\": \"t1\"}]}}"
#define TIMEOUT_PENDING_T1                                                                         \
    "  {\"op\": \"spawn\", \"task\": {\"name\": \"t1\", \"body\": ["                               \
    "    {\"op\": \"cancel\", \"target\": \"self\"},"                                              \
    "    {\"op\": \"try\", \"on_error\": \"swallow\", \"body\": [{\"op\": \"timeout\", \"name\": " \
    "\"to0\", \"delay\": 0, \"body\": [{\"op\": \"sleep\", \"ticks\": 0}]}]}]}},"
#define TIMEOUT_PENDING_MAIN_END "  {\"op\": \"sleep\", \"ticks\": 3}]}}"
#define HEAD_WITH_EVENT                                                                            \
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [],"                                    \
    " \"primitives\": [{\"name\": \"ev\", \"kind\": \"event\"}],"                                  \
    " \"main\": {\"name\": \"main\", \"body\": ["
#define HEAD                                                                                       \
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"main\": {\"name\": \"main\", "    \
    "\"body\": ["
#define LEAKED_T2                                                                                  \
    "  {\"op\": \"spawn\", \"task\": {\"name\": \"t2\", \"body\": "                                \
    "[{\"op\": \"event_wait\", \"primitive\": \"ev\"}]}},"

static const fixture WAIT_FOR_RACE = {
    .mixed = HEAD_WITH_EVENT WAIT_FOR_RACE_T1 LEAKED_T2 WAIT_FOR_RACE_MAIN_END,
    .small = HEAD WAIT_FOR_RACE_T1 WAIT_FOR_RACE_MAIN_END,
    .swallowed_text = "cancellation.swallowed|wait_for|block",
    .count_text = "cancellation.count|wait_for|block",
    .issue = "gh-86296",
    .fixed_in = "3.12"};
static const fixture TIMEOUT_PENDING = {
    .mixed = HEAD_WITH_EVENT TIMEOUT_PENDING_T1 LEAKED_T2 TIMEOUT_PENDING_MAIN_END,
    .small = HEAD TIMEOUT_PENDING_T1 TIMEOUT_PENDING_MAIN_END,
    .swallowed_text = "cancellation.swallowed|timeout|block-raise",
    .count_text = "cancellation.count|timeout|task-end",
    .issue = "gh-134471",
    .fixed_in = NULL};
static const fixture *FIX;

/* One judged run: its scenario, every verdict, the findings among them. */
typedef struct run {
    af_scenario s;
    af_verdict_list all, findings;
    af_trace trace;
    uint8_t bytes[4096];
    size_t nbytes;
} run;

static af_runner *R;
static run MIX, SML;
static char BASE[64];
static int serial;

static void judge(const char *json, run *out)
{
    af_error err;
    assert_int_equal(af_json_read(json, strlen(json), &out->s, &err), 0);
    assert_int_equal(af_trace_init(&out->trace, 0, 0), 0);
    assert_int_equal(af_judge_run(R, &out->s, &out->trace, &out->all, &err), 0);
    out->findings = out->all;
    af_verdict_list_keep_findings(&out->findings, 0);
    assert_int_equal(af_encode(&out->s, false, out->bytes, sizeof out->bytes, &out->nbytes, NULL),
                     0);
}

static int setup(void **state)
{
    (void)state;
    af_runner_options o;
    af_runner_options_default(&o);
    af_error err;
    R = af_runner_new(&o, &err);
    if (!R)
        return -1;
    snprintf(BASE, sizeof BASE, "/tmp/af-test-findings.XXXXXX");
    if (!mkdtemp(BASE))
        return -1;
    FIX = af_embed_pyversion() < 312 ? &WAIT_FOR_RACE : &TIMEOUT_PENDING;
    judge(FIX->mixed, &MIX);
    judge(FIX->small, &SML);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", BASE);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

/* A fresh store folder (not created: the store creates it). */
static void new_store(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/store%d", BASE, serial++);
}

static int index_of(const af_verdict_list *v, const char *oracle)
{
    for (int i = 0; i < v->count; i++)
        if (strcmp(af_oracle_name(v->items[i].oracle), oracle) == 0)
            return i;
    return -1;
}

/* The record of a run, filed under its verdict of `oracle`. */
static af_findings_record_in record_of(const run *r, const char *oracle)
{
    af_findings_record_in in = {.scenario = &r->s,
                                .verdicts = &r->findings,
                                .primary = index_of(&r->findings, oracle),
                                .all_verdicts = &r->all,
                                .trace = &r->trace,
                                .input = r->bytes,
                                .input_len = r->nbytes,
                                .engine = "test",
                                .origin = "test_findings"};
    assert_true(in.primary >= 0);
    return in;
}

static uint64_t sig_of(const run *r, const char *oracle)
{
    return r->findings.items[index_of(&r->findings, oracle)].signature;
}

static void sig_dir(const char *store, uint64_t sig, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%016" PRIx64, store, sig);
}

/* A fresh store holding MIX filed under its cancellation.swallowed verdict
 * (a new folder, whose path goes to dir). */
static void store_with_mix(char *store, size_t cap, char *dir, size_t dircap)
{
    new_store(store, cap);
    af_findings_record_in in = record_of(&MIX, "cancellation.swallowed");
    af_error err;
    assert_int_equal(af_findings_record(store, &in, dir, dircap, &err), AF_FINDINGS_NEW);
}

static bool has(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *dir, const char *name)
{
    char path[4200], *data = NULL;
    size_t len;
    af_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return af_read_file(path, 1 << 22, &data, &len, &err) == 0 ? data : NULL;
}

static cJSON *json_of(const char *dir, const char *name)
{
    char *text = slurp(dir, name);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Entries of dir whose name starts with prefix ("" for all but . and ..). */
static int entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static int sig_folders(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += af_findings_is_sig_name(e->d_name);
    closedir(d);
    return n;
}

static void assert_complete(const char *dir)
{
    static const char *const files[] = {"scenario.json", "repro.py",    "verdict.json",
                                        "verdicts.json", "trace.jsonl", "input.bin",
                                        "meta.json",     "count",       NULL};
    for (int i = 0; files[i]; i++)
        if (!has(dir, files[i]))
            fail_msg("%s: no %s", dir, files[i]);
}

static void copy_folder(const char *from, const char *to)
{
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* The oracles of a verdict list as a bit set. */
static unsigned oracle_set(const af_verdict_list *v)
{
    unsigned set = 0;
    for (int i = 0; i < v->count; i++)
        set |= 1u << v->items[i].oracle;
    return set;
}

/* ---- a new finding ---- */

static void test_new_finding_is_one_complete_folder(void **state)
{
    (void)state;
    char store[128], dir[4200], filed[4200];
    store_with_mix(store, sizeof store, filed, sizeof filed);
    uint64_t sig = sig_of(&MIX, "cancellation.swallowed");
    sig_dir(store, sig, dir, sizeof dir);
    assert_string_equal(filed, dir);
    assert_complete(dir);
    assert_int_equal(sig_folders(store), 1);
    assert_int_equal(entries(store, ".tmp-"), 0);
    assert_int_equal(af_findings_count(dir), 1);

    cJSON *meta = json_of(dir, "meta.json");
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, sig);
    assert_string_equal(str(meta, "signature"), hex);
    assert_string_equal(str(meta, "oracle"), "cancellation.swallowed");
    assert_string_equal(str(meta, "signature_text"), FIX->swallowed_text);
    assert_string_equal(str(meta, "engine"), "test");
    assert_string_equal(str(meta, "origin"), "test_findings");
    af_findings_size size;
    af_findings_size_of(&MIX.s, &size);
    cJSON *sz = cJSON_GetObjectItemCaseSensitive(meta, "size");
    assert_int_equal((int)num(sz, "ops"), size.ops);
    assert_int_equal((int)num(sz, "tasks"), size.tasks);
    cJSON_Delete(meta);

    cJSON *verdict = json_of(dir, "verdict.json");
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(verdict, "signature"), "hash"), hex);
    cJSON_Delete(verdict);
    /* input.bin holds the bytes given */
    char *bytes = slurp(dir, "input.bin");
    assert_non_null(bytes);
    assert_memory_equal(bytes, MIX.bytes, MIX.nbytes);
    free(bytes);
    /* the summary lists it */
    cJSON *sum = json_of(store, "summary.json");
    assert_int_equal((int)num(sum, "unique"), 1);
    cJSON_Delete(sum);
}

static void test_expect_lists_every_verdict_and_replays_green(void **state)
{
    (void)state;
    /* the run has a verdict that is no finding (scenario-caused) */
    assert_true(MIX.findings.count < MIX.all.count);
    assert_true(oracle_set(&MIX.findings) != oracle_set(&MIX.all));
    char store[128], dir[4200], path[4300];
    store_with_mix(store, sizeof store, dir, sizeof dir);
    af_error err;
    snprintf(path, sizeof path, "%s/scenario.json", dir);
    static af_scenario back;
    assert_int_equal(af_json_read_file(path, &back, &err), 0);
    unsigned expected = 0;
    for (int i = 0; i < back.nexpect; i++) {
        int o = af_oracle_from_name(back.expect[i].oracle);
        assert_true(o >= 0);
        expected |= 1u << o;
        /* restricted to the Python version it was seen on */
        assert_int_equal(back.expect[i].npyversions, 1);
        assert_int_equal(back.expect[i].pyversions[0].minor, af_embed_pyversion());
        assert_int_equal(back.expect[i].pyversions[0].first_patch, -1);
    }
    assert_int_equal(expected, oracle_set(&MIX.all));
    /* replaying it reports exactly those oracles */
    static af_trace tr;
    static af_verdict_list again;
    assert_int_equal(af_trace_init(&tr, 0, 0), 0);
    assert_int_equal(af_judge_run(R, &back, &tr, &again, &err), 0);
    assert_int_equal(oracle_set(&again), expected);
    af_trace_free(&tr);
}

/* ---- dedupe and counts ---- */

static void test_known_signature_is_counted(void **state)
{
    (void)state;
    char store[128], dir[4200];
    store_with_mix(store, sizeof store, dir, sizeof dir);
    af_findings_record_in in = record_of(&MIX, "cancellation.swallowed");
    af_error err;
    assert_int_equal(af_findings_record(store, &in, NULL, 0, &err), AF_FINDINGS_COUNTED);
    uint64_t sig = sig_of(&MIX, "cancellation.swallowed");
    assert_int_equal(af_findings_count(dir), 2);
    assert_int_equal(af_findings_add_count(store, sig, 5, &err), 0);
    assert_int_equal(af_findings_count(dir), 7);
    assert_int_equal(sig_folders(store), 1);
    /* a signature the store does not have cannot be counted */
    assert_int_equal(af_findings_add_count(store, sig ^ 1, 1, &err), -1);
}

static void test_table_files_first_runs_and_counts_the_rest(void **state)
{
    (void)state;
    char store[128], dir[4200];
    new_store(store, sizeof store);
    af_error err;
    af_findings_store *st = af_findings_open(store, "test", NULL, &err);
    assert_non_null(st);
    af_findings_record_in in = record_of(&MIX, "cancellation.swallowed");
    af_findings_filed filed[AF_MAX_VERDICTS];
    /* first run: one record per distinct finding signature */
    int n = af_findings_file_run(st, &in, filed, AF_MAX_VERDICTS, &err);
    assert_int_equal(n, MIX.findings.count);
    for (int i = 0; i < n; i++)
        assert_int_equal(filed[i].result, AF_FINDINGS_NEW);
    assert_int_equal(sig_folders(store), MIX.findings.count);
    /* the same run again, and a smaller one: counted in memory only */
    assert_int_equal(af_findings_file_run(st, &in, filed, AF_MAX_VERDICTS, &err), 0);
    af_findings_record_in small = record_of(&SML, "cancellation.swallowed");
    assert_int_equal(af_findings_file_run(st, &small, filed, AF_MAX_VERDICTS, &err), 0);
    uint64_t sig = sig_of(&MIX, "cancellation.swallowed");
    sig_dir(store, sig, dir, sizeof dir);
    assert_int_equal(af_findings_count(dir), 1);
    assert_int_equal(af_findings_known_count(st), (size_t)MIX.findings.count);
    const af_findings_known *k = af_findings_known_at(st, 0);
    assert_int_equal(k->hits, 3);
    assert_int_equal(k->pending, 2);
    assert_int_equal(k->first, AF_FINDINGS_NEW);
    assert_int_equal(af_findings_flush(st, &err), 0);
    assert_int_equal(af_findings_count(dir), 3);
    assert_int_equal(k->pending, 0);
    /* the folder still holds the first run (refile_smaller is off) */
    cJSON *meta = json_of(dir, "meta.json");
    af_findings_size size;
    af_findings_size_of(&MIX.s, &size);
    assert_int_equal((int)num(cJSON_GetObjectItemCaseSensitive(meta, "size"), "ops"), size.ops);
    cJSON_Delete(meta);
    af_findings_close(st);
}

/* ---- a smaller reproducer ---- */

static void test_smaller_run_replaces_the_folder(void **state)
{
    (void)state;
    char store[128], dir[4200];
    new_store(store, sizeof store);
    af_findings_record_in big = record_of(&MIX, "cancellation.swallowed");
    af_findings_record_in small = record_of(&SML, "cancellation.swallowed");
    af_findings_size bs, ss;
    af_findings_size_of(&MIX.s, &bs);
    af_findings_size_of(&SML.s, &ss);
    assert_true(af_findings_size_cmp(&ss, &bs) < 0);
    af_error err;
    assert_int_equal(af_findings_record(store, &big, NULL, 0, &err), AF_FINDINGS_NEW);
    sig_dir(store, sig_of(&MIX, "cancellation.swallowed"), dir, sizeof dir);
    cJSON *meta = json_of(dir, "meta.json");
    char first_seen[64];
    snprintf(first_seen, sizeof first_seen, "%s", str(meta, "first_seen"));
    cJSON_Delete(meta);
    assert_int_equal(af_findings_record(store, &small, NULL, 0, &err), AF_FINDINGS_SMALLER);
    assert_complete(dir);
    char *scen = slurp(dir, "scenario.json");
    assert_non_null(scen);
    assert_null(strstr(scen, "\"t2\"")); /* the small scenario has no t2 */
    free(scen);
    meta = json_of(dir, "meta.json");
    assert_string_equal(str(meta, "first_seen"), first_seen);
    assert_int_equal((int)num(cJSON_GetObjectItemCaseSensitive(meta, "size"), "ops"), ss.ops);
    cJSON_Delete(meta);
    assert_int_equal(af_findings_count(dir), 2);
    /* the larger one again: counted, not filed */
    assert_int_equal(af_findings_record(store, &big, NULL, 0, &err), AF_FINDINGS_COUNTED);
    scen = slurp(dir, "scenario.json");
    assert_null(strstr(scen, "\"t2\""));
    free(scen);
    assert_int_equal(af_findings_count(dir), 3);
    assert_int_equal(entries(store, ".tmp-"), 0);
    assert_int_equal(entries(store, ".old-"), 0);

    /* the same through a table that offers smaller runs */
    new_store(store, sizeof store);
    af_findings_store *st = af_findings_open(store, "test", NULL, &err);
    assert_non_null(st);
    af_findings_refile_smaller(st, true);
    af_findings_filed filed[AF_MAX_VERDICTS];
    assert_true(af_findings_file_run(st, &big, filed, AF_MAX_VERDICTS, &err) > 0);
    int n = af_findings_file_run(st, &small, filed, AF_MAX_VERDICTS, &err);
    assert_int_equal(n, SML.findings.count);
    for (int i = 0; i < n; i++)
        assert_int_equal(filed[i].result, AF_FINDINGS_SMALLER);
    /* not smaller than what it offered: counted */
    assert_int_equal(af_findings_file_run(st, &small, filed, AF_MAX_VERDICTS, &err), 0);
    af_findings_close(st);
}

/* ---- processes filing at once ---- */

#define WRITERS 6
#define ROUNDS 15

static void writer(const char *store, int id)
{
    af_findings_record_in shared = record_of(&MIX, "cancellation.swallowed");
    char text[64], origin[64];
    snprintf(text, sizeof text, "crash:test-writer-%d", id);
    snprintf(origin, sizeof origin, "writer %d", id);
    af_findings_record_in own = {.scenario = &SML.s,
                                 .input = SML.bytes,
                                 .input_len = SML.nbytes,
                                 .engine = "test",
                                 .origin = origin,
                                 .oracle = "crash",
                                 .signature_text = text,
                                 .evidence = "a writer of the concurrency test"};
    af_error err;
    for (int i = 0; i < ROUNDS; i++)
        if (af_findings_record(store, &shared, NULL, 0, &err) == AF_FINDINGS_ERROR ||
            af_findings_record(store, &own, NULL, 0, &err) == AF_FINDINGS_ERROR)
            _exit(1);
    _exit(0);
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    char store[128], dir[4200];
    new_store(store, sizeof store);
    pid_t pids[WRITERS];
    fflush(NULL);
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            writer(store, i);
    }
    for (int i = 0; i < WRITERS; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(sig_folders(store), WRITERS + 1);
    assert_int_equal(entries(store, ".tmp-"), 0);
    assert_int_equal(entries(store, ".old-"), 0);
    sig_dir(store, sig_of(&MIX, "cancellation.swallowed"), dir, sizeof dir);
    assert_complete(dir);
    assert_int_equal(af_findings_count(dir), WRITERS * ROUNDS);
    for (int i = 0; i < WRITERS; i++) {
        char text[64];
        snprintf(text, sizeof text, "crash:test-writer-%d", i);
        sig_dir(store, af_hash64(text, strlen(text)), dir, sizeof dir);
        assert_true(has(dir, "scenario.json") && has(dir, "repro.py") && has(dir, "meta.json"));
        assert_int_equal(af_findings_count(dir), ROUNDS);
    }
    size_t unique = 0;
    uint64_t total = 0;
    af_error err;
    assert_int_equal(af_findings_summary(store, &unique, &total, &err), 0);
    assert_int_equal(unique, WRITERS + 1);
    assert_int_equal(total, 2 * WRITERS * ROUNDS);
}

/* ---- what a killed process leaves ---- */

static void remove_file(const char *dir, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static void touch(const char *dir, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    af_error err;
    assert_int_equal(af_write_file(path, "x", 1, &err), 0);
}

/* The pid of a process that has ended. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    int status;
    waitpid(p, &status, 0);
    return (long)p;
}

static void test_repair_of_what_a_killed_process_left(void **state)
{
    (void)state;
    char store[128], good[4200], from[4300], to[4300];
    store_with_mix(store, sizeof store, good, sizeof good);
    af_error err;
    /* a folder being built when its process was killed */
    snprintf(to, sizeof to, "%s/.tmp-0123456789abcdef-%ld-0", store, dead_pid());
    assert_int_equal(mkdir(to, 0777), 0);
    touch(to, "scenario.json");
    /* signature folders missing files (written one by one, cut short) */
    snprintf(to, sizeof to, "%s/1111111111111111", store);
    copy_folder(good, to);
    remove_file(to, "repro.py");
    snprintf(to, sizeof to, "%s/2222222222222222", store);
    copy_folder(good, to);
    remove_file(to, "meta.json");
    remove_file(to, "count");
    char rebuilt[4300];
    snprintf(rebuilt, sizeof rebuilt, "%s", to);
    /* a replaced folder moved aside, its replacement not yet in place */
    snprintf(to, sizeof to, "%s/.old-3333333333333333-%ld-0", store, dead_pid());
    copy_folder(good, to);
    /* a file's temporary, in the store and inside a folder */
    touch(store, "summary.json.tmp.999999");
    snprintf(from, sizeof from, "scenario.json.tmp.%ld", dead_pid());
    touch(good, from);

    FILE *log = tmpfile();
    assert_non_null(log);
    af_findings_store *st = af_findings_open(store, "test", log, &err);
    assert_non_null(st);
    af_findings_close(st);
    assert_int_equal(entries(store, ".tmp-"), 0);
    assert_int_equal(entries(store, ".old-"), 0);
    assert_int_equal(entries(store, "summary.json.tmp"), 0);
    assert_false(has(good, from));
    assert_complete(good);
    snprintf(to, sizeof to, "%s/1111111111111111", store);
    assert_false(has(to, ""));
    assert_complete(rebuilt);
    cJSON *meta = json_of(rebuilt, "meta.json");
    assert_string_equal(str(meta, "oracle"), "cancellation.swallowed");
    assert_string_equal(str(meta, "signature"), "2222222222222222");
    cJSON_Delete(meta);
    assert_int_equal(af_findings_count(rebuilt), 1);
    snprintf(to, sizeof to, "%s/3333333333333333", store);
    assert_complete(to);
    assert_int_equal(sig_folders(store), 3);
    /* each change was said */
    char said[8192] = "";
    rewind(log);
    size_t n = fread(said, 1, sizeof said - 1, log);
    said[n] = '\0';
    fclose(log);
    assert_non_null(strstr(said, "removed a temporary folder"));
    assert_non_null(
        strstr(said, "1111111111111111: removed a partial finding folder (no repro.py)"));
    assert_non_null(strstr(said, "2222222222222222: meta.json rebuilt"));
    assert_non_null(strstr(said, "2222222222222222: count was missing"));
    assert_non_null(strstr(said, "put back as 3333333333333333"));
    assert_non_null(strstr(said, "summary.json.tmp.999999: removed"));
    /* the summary was regenerated over what is left */
    cJSON *sum = json_of(store, "summary.json");
    assert_int_equal((int)num(sum, "unique"), 3);
    cJSON_Delete(sum);
    /* nothing left to do */
    assert_int_equal(af_findings_repair(store, NULL, &err), 0);
    /* a store that does not exist yet is fine, and is not created */
    snprintf(to, sizeof to, "%s/none", BASE);
    assert_int_equal(af_findings_repair(to, NULL, &err), 0);
    assert_false(has(to, ""));
}

/* ---- summary.json ---- */

static void test_summary_contents(void **state)
{
    (void)state;
    char store[128], dir[4200];
    new_store(store, sizeof store);
    af_findings_record_in a = record_of(&MIX, "cancellation.swallowed");
    af_findings_record_in b = record_of(&MIX, "cancellation.count");
    af_error err;
    assert_int_equal(af_findings_record(store, &a, NULL, 0, &err), AF_FINDINGS_NEW);
    assert_int_equal(af_findings_record(store, &b, NULL, 0, &err), AF_FINDINGS_NEW);
    assert_int_equal(af_findings_record(store, &b, NULL, 0, &err), AF_FINDINGS_COUNTED);
    af_findings_campaign c = {.command = "gen",
                              .engine = "gen",
                              .seed = 5,
                              .runs = 40,
                              .seconds = 2.0,
                              .misuse = true,
                              .max_len = 256,
                              .new_signatures = 2,
                              .stopped_by = "SIGINT"};
    size_t unique;
    uint64_t total;
    assert_int_equal(af_findings_summary_campaign(store, &c, &unique, &total, &err), 0);
    assert_int_equal(unique, 2);
    assert_int_equal(total, 3);
    cJSON *sum = json_of(store, "summary.json");
    assert_int_equal((int)num(sum, "asyncfuzz_findings"), 2);
    assert_int_equal((int)num(sum, "unique"), 2);
    assert_int_equal((int)num(sum, "total"), 3);
    cJSON *cj = cJSON_GetObjectItemCaseSensitive(sum, "campaign");
    assert_string_equal(str(cj, "command"), "gen");
    assert_int_equal((int)num(cj, "seed"), 5);
    assert_int_equal((int)num(cj, "runs"), 40);
    assert_int_equal((int)num(cj, "runs_per_second"), 20);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cj, "misuse")));
    assert_string_equal(str(cj, "stopped_by"), "SIGINT");
    cJSON *f;
    int seen = 0;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(sum, "findings"))
    {
        const char *oracle = str(f, "oracle");
        const char *o =
            strcmp(oracle, "cancellation.count") == 0 ? oracle : "cancellation.swallowed";
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, sig_of(&MIX, o));
        assert_string_equal(str(f, "signature"), hex);
        assert_string_equal(str(f, "folder"), hex);
        assert_int_equal((int)num(f, "count"), strcmp(oracle, "cancellation.count") == 0 ? 2 : 1);
        assert_string_equal(str(f, "engine"), "test");
        assert_string_equal(str(f, "origin"), "test_findings");
        sig_dir(store, sig_of(&MIX, o), dir, sizeof dir);
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f, "size")));
        seen++;
    }
    assert_int_equal(seen, 2);
    cJSON_Delete(sum);
    /* one line per finding: signature, text and count first, in that order */
    char *text = slurp(store, "summary.json");
    char line[256];
    snprintf(line, sizeof line,
             "{\"signature\": \"%016" PRIx64 "\", \"text\": \"%s\", \"count\": 2, ",
             sig_of(&MIX, "cancellation.count"), FIX->count_text);
    assert_non_null(strstr(text, line));
    free(text);
    /* regenerated without a campaign (a new finding): the campaign stays */
    af_findings_record_in s = record_of(&MIX, "cancellation.swallowed");
    s.scenario = &SML.s; /* smaller: replaces, and regenerates the summary */
    assert_int_equal(af_findings_record(store, &s, NULL, 0, &err), AF_FINDINGS_SMALLER);
    sum = json_of(store, "summary.json");
    cj = cJSON_GetObjectItemCaseSensitive(sum, "campaign");
    assert_int_equal((int)num(cj, "runs"), 40);
    assert_int_equal((int)num(sum, "total"), 4);
    cJSON_Delete(sum);
}

/* ---- minimize's folder, crash findings ---- */

static void test_write_folder_replaces_whole(void **state)
{
    (void)state;
    char parent[128], path[256];
    new_store(parent, sizeof parent);
    snprintf(path, sizeof path, "%s/finding/minimized", parent);
    af_findings_record_in big = record_of(&MIX, "cancellation.swallowed");
    af_findings_record_in small = record_of(&SML, "cancellation.swallowed");
    af_error err;
    assert_int_equal(af_findings_write_folder(path, &big, &err), 0);
    assert_complete(path);
    touch(path, "left-over");
    assert_int_equal(af_findings_write_folder(path, &small, &err), 0);
    assert_complete(path);
    assert_false(has(path, "left-over")); /* replaced as a whole */
    char *scen = slurp(path, "scenario.json");
    assert_null(strstr(scen, "\"t2\""));
    free(scen);
    snprintf(path, sizeof path, "%s/finding", parent);
    assert_int_equal(entries(path, ".tmp-"), 0);
    assert_int_equal(entries(path, ".old-"), 0);
}

static void test_crash_finding_files(void **state)
{
    (void)state;
    char store[128], dir[4200];
    new_store(store, sizeof store);
    af_findings_record_in in = {.scenario = &MIX.s,
                                .input = MIX.bytes,
                                .input_len = MIX.nbytes,
                                .engine = "builtin",
                                .origin = "builtin supervisor",
                                .oracle = "crash",
                                .signature_text = "crash:SIGSEGV",
                                .evidence = "killed by signal 11"};
    af_error err;
    assert_int_equal(af_findings_record(store, &in, dir, sizeof dir, &err), AF_FINDINGS_NEW);
    for (const char *const *f =
             (const char *const[]){"scenario.json", "repro.py", "verdict.json", "verdicts.json",
                                   "input.bin", "meta.json", "count", NULL};
         *f; f++)
        assert_true(has(dir, *f));
    cJSON *v = json_of(dir, "verdict.json");
    assert_string_equal(str(v, "oracle"), "crash");
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, af_hash64("crash:SIGSEGV", 13));
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(v, "signature"), "hash"), hex);
    cJSON_Delete(v);
    char *scen = slurp(dir, "scenario.json");
    assert_non_null(strstr(scen, "\"expect\": []"));
    assert_non_null(strstr(scen, "killed by signal 11"));
    free(scen);
}

/* ---- campaigns: labels, tallies, meta fields, imports ---- */

static const cJSON *label_of(const cJSON *meta)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(meta, "baseline");
    assert_true(cJSON_IsObject(l));
    return l;
}

static void test_labels(void **state)
{
    (void)state;
    char store[128], dir[4200], crash_dir[4200];
    new_store(store, sizeof store);
    af_error err;
    af_baseline *stock = af_baseline_load(NULL, af_embed_pyversion(), NULL, &err);
    assert_non_null(stock);
    af_findings_store *st = af_findings_open(store, "test", NULL, &err);
    af_findings_use_baseline(st, stock);
    af_findings_record_in big = record_of(&MIX, "cancellation.swallowed");
    assert_true(af_findings_file_run(st, &big, NULL, 0, &err) > 0);
    af_findings_close(st);
    sig_dir(store, sig_of(&MIX, "cancellation.swallowed"), dir, sizeof dir);
    cJSON *meta = json_of(dir, "meta.json");
    const cJSON *l = label_of(meta);
    assert_string_equal(str(l, "status"), "known");
    assert_string_equal(str(l, "issue"), FIX->issue);
    if (FIX->fixed_in)
        assert_string_equal(str(l, "fixed_in"), FIX->fixed_in);
    else
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "fixed_in")));
    char list[64];
    snprintf(list, sizeof list, "baselines/asyncio-%d.%d.tsv", af_embed_pyversion() / 100,
             af_embed_pyversion() % 100);
    assert_string_equal(str(l, "list"), list);
    cJSON_Delete(meta);
    /* a smaller run filed without lists keeps the folder's label */
    af_findings_record_in small = record_of(&SML, "cancellation.swallowed");
    assert_int_equal(af_findings_record(store, &small, NULL, 0, &err), AF_FINDINGS_SMALLER);
    meta = json_of(dir, "meta.json");
    assert_string_equal(str(label_of(meta), "status"), "known");
    cJSON_Delete(meta);
    /* a crash filed without lists has no label until the labelling pass */
    af_findings_record_in crash = {.scenario = &SML.s,
                                   .engine = "test",
                                   .oracle = "crash",
                                   .signature_text = "crash:SIGSEGV",
                                   .evidence = "a crash of the label test"};
    assert_int_equal(af_findings_record(store, &crash, crash_dir, sizeof crash_dir, &err),
                     AF_FINDINGS_NEW);
    meta = json_of(crash_dir, "meta.json");
    assert_null(cJSON_GetObjectItemCaseSensitive(meta, "baseline"));
    cJSON_Delete(meta);
    assert_int_equal(af_findings_label(store, stock, &err), 1); /* only the crash changed */
    meta = json_of(crash_dir, "meta.json");
    l = label_of(meta);
    assert_string_equal(str(l, "status"), "new");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "issue")));
    cJSON_Delete(meta);
    assert_int_equal(af_findings_label(store, stock, &err), 0); /* nothing to change */
    /* a team list that names the crash: known from then on */
    assert_int_equal(af_baseline_add_text(stock, "team.tsv", "crash:SIGSEGV\tBUG-1\n", &err), 0);
    assert_int_equal(af_findings_label(store, stock, &err), 1);
    meta = json_of(crash_dir, "meta.json");
    assert_string_equal(str(label_of(meta), "issue"), "BUG-1");
    assert_string_equal(str(label_of(meta), "list"), "team.tsv");
    cJSON_Delete(meta);
    af_baseline_free(stock);
}

static void test_tally_meta_and_import(void **state)
{
    (void)state;
    char store[128], dir[4200], other[128];
    store_with_mix(store, sizeof store, dir, sizeof dir);
    uint64_t sig = sig_of(&MIX, "cancellation.swallowed");
    af_error err;
    af_findings_tally before, after;
    assert_int_equal(af_findings_tally_read(store, &before, &err), 0);
    assert_int_equal(before.n, 1);
    assert_int_equal(af_findings_tally_count(&before, sig), 1);
    af_findings_record_in in = record_of(&MIX, "cancellation.swallowed");
    assert_int_equal(af_findings_record(store, &in, NULL, 0, &err), AF_FINDINGS_COUNTED);
    af_findings_record_in count = record_of(&MIX, "cancellation.count");
    assert_int_equal(af_findings_record(store, &count, NULL, 0, &err), AF_FINDINGS_NEW);
    assert_int_equal(af_findings_tally_read(store, &after, &err), 0);
    assert_int_equal(after.n, 2);
    assert_int_equal(af_findings_tally_count(&after, sig), 2); /* met again */
    assert_int_equal(af_findings_tally_count(&before, sig_of(&MIX, "cancellation.count")), 0);
    af_findings_tally_free(&before);
    af_findings_tally_free(&after);
    /* an absent store: an empty tally */
    char none[200];
    snprintf(none, sizeof none, "%s/absent", BASE);
    assert_int_equal(af_findings_tally_read(none, &before, &err), 0);
    assert_int_equal(before.n, 0);

    /* a meta.json field, set and replaced; the rest of meta.json stays */
    assert_int_equal(
        af_findings_set_meta(store, sig, "reproduces_on", "[{\"python\": \"x\"}]", &err), 0);
    assert_int_equal(af_findings_set_meta(store, sig, "reproduces_on", "[]", &err), 0);
    cJSON *meta = json_of(dir, "meta.json");
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(meta, "reproduces_on")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meta, "reproduces_on")),
                     0);
    assert_string_equal(str(meta, "oracle"), "cancellation.swallowed");
    cJSON_Delete(meta);
    assert_int_equal(af_findings_set_meta(store, sig, "x", "{not json", &err), -1);
    assert_int_equal(af_findings_set_meta(store, 1, "x", "1", &err), -1);

    /* imported into another store: complete, once */
    new_store(other, sizeof other);
    assert_int_equal(af_findings_import(other, dir, &err), 1);
    assert_int_equal(af_findings_import(other, dir, &err), 0);
    char copy[4200];
    sig_dir(other, sig, copy, sizeof copy);
    assert_complete(copy);
    assert_int_equal(af_findings_count(copy), af_findings_count(dir));
    assert_int_equal(entries(other, ".tmp-"), 0);
    assert_true(has(other, "summary.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_finding_is_one_complete_folder),
        cmocka_unit_test(test_expect_lists_every_verdict_and_replays_green),
        cmocka_unit_test(test_known_signature_is_counted),
        cmocka_unit_test(test_table_files_first_runs_and_counts_the_rest),
        cmocka_unit_test(test_smaller_run_replaces_the_folder),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_repair_of_what_a_killed_process_left),
        cmocka_unit_test(test_summary_contents),
        cmocka_unit_test(test_write_folder_replaces_whole),
        cmocka_unit_test(test_crash_finding_files),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_tally_meta_and_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
