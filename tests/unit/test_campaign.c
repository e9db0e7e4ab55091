/* test_campaign.c - a campaign folder's memory (reports/campaign.h).
 *
 * Properties: campaign.json is written at the first start and a start
 * with other settings is told every difference (not the lists'); a run's
 * two history lines read as one run, and the signatures of earlier runs
 * exclude the current one's; a run killed before its end (its process
 * gone) has its line completed from its statistics and the findings filed
 * while it ran, once, while the runs of a live process and of another
 * machine are left alone; histories merge by run id, a complete line
 * winning over an unfinished one, ordered by start; a folder's settings
 * are adopted by a merge target that has none and compared otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"
#include "reports/baseline.h"
#include "reports/campaign.h"

static char BASE[64];
static int serial;

static int setup(void **state)
{
    (void)state;
    snprintf(BASE, sizeof BASE, "/tmp/af-test-campaign.XXXXXX");
    return mkdtemp(BASE) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", BASE);
    return system(cmd) == 0 ? 0 : -1;
}

static void new_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/c%d", BASE, serial++);
    af_error err;
    assert_int_equal(af_make_dirs(dir, &err), 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    af_error err;
    assert_int_equal(af_make_dirs(dir, &err), 0);
    assert_int_equal(af_write_file(path, text, strlen(text), &err), 0);
}

static char *read_text(const char *dir, const char *name)
{
    char path[512], *text = NULL;
    size_t len;
    af_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(af_read_file(path, 1 << 20, &text, &len, &err), 0);
    return text;
}

/* The lines of history.jsonl, parsed (a JSON array). */
static cJSON *history(const char *dir)
{
    char *text = read_text(dir, "history.jsonl");
    cJSON *all = cJSON_CreateArray();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        cJSON_AddItemToArray(all, o);
    }
    free(text);
    return all;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first signature of a history line's "signatures": "new" or "known". */
static const char *first_sig(const cJSON *line, const char *which)
{
    const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(line, "signatures");
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sigs, which), 0);
    return cJSON_IsString(first) ? first->valuestring : "";
}

static void test_settings(void **state)
{
    (void)state;
    char dir[128], diff[1024];
    new_dir(dir, sizeof dir);
    af_error err;
    af_baseline *b = af_baseline_load(NULL, 311, NULL, &err);
    af_campaign_settings s = {.target = "asyncio",
                              .engine = "builtin",
                              .coverage = "semantic,python",
                              .interpreter = "CPython 3.11.2",
                              .baseline = b};
    bool created;
    assert_int_equal(af_campaign_settings_check(dir, &s, &created, diff, sizeof diff, &err), 0);
    assert_true(created);
    char *text = read_text(dir, "campaign.json");
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "settings");
    assert_string_equal(str(set, "target"), "asyncio");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(set, "reference")));
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(set, "baselines"), 0)->valuestring,
        "baselines/asyncio-3.11.tsv");
    assert_non_null(str(root, "created"));
    cJSON_Delete(root);
    /* the same settings (another list does not count) */
    af_campaign_settings same = s;
    same.baseline = NULL;
    assert_int_equal(af_campaign_settings_check(dir, &same, &created, diff, sizeof diff, &err), 0);
    assert_false(created);
    /* every difference named */
    af_campaign_settings other = s;
    other.target = "planted_wait_for";
    other.engine = "afl";
    other.reference = "asyncio";
    assert_int_equal(af_campaign_settings_check(dir, &other, &created, diff, sizeof diff, &err), 1);
    assert_string_equal(diff, "target: was asyncio, now planted_wait_for; reference: was none, now "
                              "asyncio; engine: was builtin, now afl");
    /* not a campaign */
    char bad[128];
    new_dir(bad, sizeof bad);
    write_text(bad, "campaign.json", "{\"x\": 1}\n");
    assert_int_equal(af_campaign_settings_check(bad, &s, &created, diff, sizeof diff, &err), -1);
    assert_non_null(strstr(err.message, "not an asyncfuzz campaign"));

    /* a merge target adopts the settings, then compares them */
    char target[128];
    new_dir(target, sizeof target);
    assert_int_equal(af_campaign_settings_adopt(target, dir, diff, sizeof diff, &err), 0);
    assert_int_equal(af_campaign_settings_adopt(target, dir, diff, sizeof diff, &err), 0);
    char elsewhere[128];
    new_dir(elsewhere, sizeof elsewhere);
    assert_int_equal(
        af_campaign_settings_check(elsewhere, &other, &created, diff, sizeof diff, &err), 0);
    assert_int_equal(af_campaign_settings_adopt(target, elsewhere, diff, sizeof diff, &err), 1);
    assert_non_null(strstr(diff, "target: was asyncio, now planted_wait_for"));
    af_baseline_free(b);
}

static void test_history_lines(void **state)
{
    (void)state;
    char dir[128];
    new_dir(dir, sizeof dir);
    af_error err;
    af_campaign_run a, b;
    af_campaign_run_init(&a, "fuzz", "builtin", 2);
    snprintf(a.run, sizeof a.run, "20260101T000000Z-1");
    assert_int_equal(af_campaign_history_append(dir, &a, &err), 0); /* its start */
    a.execs = 1000;
    a.seconds = 10;
    a.exit = 1;
    snprintf(a.end, sizeof a.end, "2026-01-01T00:00:10Z");
    assert_int_equal(af_sigset_add(&a.new_sigs, 0x1111), 0);
    assert_int_equal(af_sigset_add(&a.known_sigs, 0x2222), 0);
    assert_int_equal(af_campaign_history_append(dir, &a, &err), 0); /* its end */
    af_campaign_run_init(&b, "gen", "gen", 1);
    assert_int_equal(af_sigset_add(&b.known_sigs, 0x3333), 0);
    assert_int_equal(af_campaign_history_append(dir, &b, &err), 0);
    cJSON *h = history(dir);
    assert_int_equal(cJSON_GetArraySize(h), 3);
    const cJSON *first = cJSON_GetArrayItem(h, 0), *second = cJSON_GetArrayItem(h, 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "end")));
    assert_string_equal(str(second, "end"), "2026-01-01T00:00:10Z");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(second, "execs_per_second")->valueint, 100);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(second, "exit")->valueint, 1);
    assert_string_equal(first_sig(second, "new"), "0000000000001111");
    cJSON_Delete(h);
    /* earlier runs than b: a's signatures; a's two lines are one run */
    af_sigset seen = {0};
    size_t runs;
    assert_int_equal(af_campaign_history_seen(dir, b.run, &seen, &runs, &err), 0);
    assert_int_equal(runs, 1);
    assert_true(af_sigset_has(&seen, 0x1111) && af_sigset_has(&seen, 0x2222));
    assert_false(af_sigset_has(&seen, 0x3333));
    af_sigset_free(&seen);
    af_sigset_free(&a.new_sigs);
    af_sigset_free(&a.known_sigs);
    af_sigset_free(&b.known_sigs);
}

/* A pid no process has: a child that exited and was reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void test_repair(void **state)
{
    (void)state;
    char dir[128], host[256] = "", line[1024];
    new_dir(dir, sizeof dir);
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    char start[32];
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    /* a sleeping process that looks like an asyncfuzz campaign */
    pid_t live = fork();
    if (live == 0) {
        execl("/bin/bash", "bash", "-c", "exec -a asyncfuzz-test-sleeper sleep 30", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* until bash has exec'd the sleeper */
        char path[64], name[64] = "";
        snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)live);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(name, 1, sizeof name - 1, f);
            name[n] = '\0';
            fclose(f);
        }
        if (strncmp(name, "asyncfuzz", 9) == 0)
            break;
        usleep(10000);
    }
    long dead = dead_pid();
    char text[4096];
    size_t pos = 0;
    /* killed: a dead pid of this machine, with statistics */
    snprintf(line, sizeof line,
             "{\"run\":\"X-%ld\",\"start\":\"%s\",\"end\":null,\"command\":\"fuzz\",\"engine\":"
             "\"builtin\",\"machine\":\"%s\",\"jobs\":1,\"exit\":null,\"stats\":\"stats/X-%ld\"}\n",
             dead, start, host, dead);
    pos += (size_t)snprintf(text + pos, sizeof text - pos, "%s", line);
    /* running: the live process */
    pos += (size_t)snprintf(text + pos, sizeof text - pos,
                            "{\"run\":\"Y-%ld\",\"start\":\"%s\",\"end\":null,\"command\":\"fuzz\","
                            "\"engine\":\"builtin\",\"machine\":\"%s\",\"jobs\":1,\"exit\":null}\n",
                            (long)live, start, host);
    /* another machine's */
    pos +=
        (size_t)snprintf(text + pos, sizeof text - pos,
                         "{\"run\":\"Z-%ld\",\"start\":\"%s\",\"end\":null,\"command\":\"fuzz\","
                         "\"engine\":\"afl\",\"machine\":\"elsewhere\",\"jobs\":1,\"exit\":null}\n",
                         dead, start);
    write_text(dir, "history.jsonl", text);
    char stats[256];
    snprintf(stats, sizeof stats, "%s/stats/X-%ld", dir, dead);
    snprintf(text, sizeof text,
             "start_time        : %ld\nlast_update       : %ld\nrun_time          : 7\n"
             "execs_done        : 4321\ncorpus_count      : 55\nedges_found       : 987\n",
             (long)now, (long)now + 7);
    write_text(stats, "fuzzer_stats", text);
    /* a finding first filed while it ran */
    char finding[256];
    snprintf(finding, sizeof finding, "%s/findings/00000000000000ab", dir);
    snprintf(text, sizeof text,
             "{\"signature\": \"00000000000000ab\", \"first_seen_unix\": %ld, \"size\": "
             "{\"ops\": 1, \"tasks\": 1, \"bytes\": 3}}\n",
             (long)now);
    write_text(finding, "meta.json", text);

    af_error err;
    FILE *log = tmpfile();
    assert_int_equal(af_campaign_repair(dir, NULL, log, &err), 1);
    assert_int_equal(af_campaign_repair(dir, NULL, NULL, &err), 0); /* once */
    rewind(log);
    char said[512] = "";
    assert_non_null(fgets(said, sizeof said, log));
    fclose(log);
    assert_non_null(strstr(said, "was killed before its end"));
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);

    cJSON *h = history(dir);
    assert_int_equal(cJSON_GetArraySize(h), 4);
    const cJSON *done = cJSON_GetArrayItem(h, 3);
    char id[64];
    snprintf(id, sizeof id, "X-%ld", dead);
    assert_string_equal(str(done, "run"), id);
    assert_non_null(str(done, "end"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(done, "killed")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(done, "execs")->valueint, 4321);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(done, "features")->valueint, 987);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(done, "seconds")->valueint, 7);
    assert_string_equal(first_sig(done, "new"), "00000000000000ab");
    cJSON_Delete(h);
}

static void test_merge(void **state)
{
    (void)state;
    char a[128], b[128], out[128], fa[256], fb[256];
    new_dir(a, sizeof a);
    new_dir(b, sizeof b);
    new_dir(out, sizeof out);
    write_text(
        a, "history.jsonl",
        "{\"run\":\"R2\",\"start\":\"2026-01-02T00:00:00Z\",\"end\":null}\n"
        "{\"run\":\"R1\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T01:00:00Z\"}\n"
        "{\"run\":\"R2\",\"start\":\"2026-01-02T00:00:00Z\",\"end\":\"2026-01-02T01:00:00Z\","
        "\"exit\":0}\n"
        "{\"run\":\"R3\",\"sta"); /* a line cut short by a crash */
    write_text(
        b, "history.jsonl",
        "{\"run\":\"R2\",\"start\":\"2026-01-02T00:00:00Z\",\"end\":null}\n"
        "{\"run\":\"R0\",\"start\":\"2025-12-31T00:00:00Z\",\"end\":\"2025-12-31T01:00:00Z\"}\n");
    snprintf(fa, sizeof fa, "%s/history.jsonl", a);
    snprintf(fb, sizeof fb, "%s/history.jsonl", b);
    const char *files[] = {fa, fb};
    af_error err;
    assert_int_equal(af_campaign_history_merge(out, files, 2, &err), 3);
    assert_int_equal(af_campaign_history_merge(out, files, 2, &err), 3); /* again: the same */
    cJSON *h = history(out);
    assert_int_equal(cJSON_GetArraySize(h), 3);
    assert_string_equal(str(cJSON_GetArrayItem(h, 0), "run"), "R0");
    assert_string_equal(str(cJSON_GetArrayItem(h, 1), "run"), "R1");
    assert_string_equal(str(cJSON_GetArrayItem(h, 2), "run"), "R2");
    assert_string_equal(str(cJSON_GetArrayItem(h, 2), "end"), "2026-01-02T01:00:00Z");
    cJSON_Delete(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_history_lines),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
