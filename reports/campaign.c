/* campaign.c - campaign.json and history.jsonl (campaign.h). */
#include "reports/campaign.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"
#include "reports/findings.h"
#include "reports/findings_io.h"

#define HISTORY_MAX (64u << 20)

/* ---- signature sets ---- */

static size_t sigset_pos(const af_sigset *s, uint64_t sig)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->items[mid] < sig)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int af_sigset_add(af_sigset *s, uint64_t sig)
{
    size_t k = sigset_pos(s, sig);
    if (k < s->n && s->items[k] == sig)
        return 0;
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 16;
        uint64_t *bigger = realloc(s->items, c * sizeof *bigger);
        if (!bigger)
            return -1;
        s->items = bigger;
        s->cap = c;
    }
    memmove(s->items + k + 1, s->items + k, (s->n - k) * sizeof *s->items);
    s->items[k] = sig;
    s->n++;
    return 0;
}

bool af_sigset_has(const af_sigset *s, uint64_t sig)
{
    size_t k = sigset_pos(s, sig);
    return k < s->n && s->items[k] == sig;
}

void af_sigset_free(af_sigset *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* ---- small JSON helpers ---- */

static const char *json_string(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_string_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *read_json(const char *path, af_error *err)
{
    char *text = NULL;
    size_t len = 0;
    if (af_read_file(path, HISTORY_MAX, &text, &len, err) < 0)
        return NULL;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        af_error_set(err, "", "%s: not JSON", path);
    return root;
}

/* ---- campaign.json ---- */

static cJSON *settings_json(const af_campaign_settings *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "target", s->target ? s->target : "asyncio");
    add_string_or_null(o, "reference", s->reference);
    cJSON_AddStringToObject(o, "engine", s->engine);
    add_string_or_null(o, "coverage", s->coverage);
    cJSON_AddBoolToObject(o, "misuse", s->misuse);
    cJSON_AddStringToObject(o, "interpreter", s->interpreter);
    cJSON *lists = cJSON_AddArrayToObject(o, "baselines");
    for (size_t i = 0; i < af_baseline_count_lists(s->baseline); i++)
        cJSON_AddItemToArray(lists, cJSON_CreateString(af_baseline_list_at(s->baseline, i)));
    return o;
}

/* The text of a setting for messages: its string, "none" for null, or
 * the JSON of anything else. */
static void setting_text(const cJSON *v, char *buf, size_t cap)
{
    if (!v || cJSON_IsNull(v))
        snprintf(buf, cap, "none");
    else if (cJSON_IsString(v))
        snprintf(buf, cap, "%s", v->valuestring);
    else {
        char *t = cJSON_PrintUnformatted(v);
        snprintf(buf, cap, "%s", t ? t : "?");
        free(t);
    }
}

static void compare_settings(const cJSON *was, const cJSON *now, char *diff, size_t cap)
{
    static const char *const compared[] = {"target", "reference",   "engine", "coverage",
                                           "misuse", "interpreter", NULL};
    size_t pos = 0;
    diff[0] = '\0';
    for (int i = 0; compared[i]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(was, compared[i]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(now, compared[i]);
        bool same = (!a || cJSON_IsNull(a)) ? (!b || cJSON_IsNull(b)) : cJSON_Compare(a, b, true);
        if (same)
            continue;
        char ta[256], tb[256];
        setting_text(a, ta, sizeof ta);
        setting_text(b, tb, sizeof tb);
        if (pos < cap)
            pos += (size_t)snprintf(diff + pos, cap - pos, "%s%s: was %s, now %s", pos ? "; " : "",
                                    compared[i], ta, tb);
    }
}

int af_campaign_settings_check(const char *dir, const af_campaign_settings *s, bool *created,
                               char *diff, size_t cap, af_error *err)
{
    char path[AF_STORE_PATH_CAP];
    snprintf(path, sizeof path, "%s/campaign.json", dir);
    *created = false;
    diff[0] = '\0';
    cJSON *now = settings_json(s);
    struct stat st;
    if (stat(path, &st) != 0) {
        cJSON *root = cJSON_CreateObject();
        char when[32];
        af_store_iso_time((int64_t)time(NULL), when, sizeof when);
        cJSON_AddNumberToObject(root, "asyncfuzz_campaign", 1);
        cJSON_AddStringToObject(root, "created", when);
        cJSON_AddItemToObject(root, "settings", now);
        char *text = cJSON_Print(root);
        cJSON_Delete(root);
        char *line = text ? realloc(text, strlen(text) + 2) : NULL;
        if (!line) {
            free(text);
            af_error_set(err, "", "out of memory");
            return -1;
        }
        strcat(line, "\n");
        int rc = af_write_file(path, line, strlen(line), err);
        free(line);
        *created = rc == 0;
        return rc;
    }
    cJSON *root = read_json(path, err);
    cJSON *was = cJSON_GetObjectItemCaseSensitive(root, "settings");
    int rc = -1;
    if (root && !cJSON_IsObject(was))
        af_error_set(err, "", "%s: no \"settings\" object: not an asyncfuzz campaign", path);
    else if (root) {
        compare_settings(was, now, diff, cap);
        rc = diff[0] ? 1 : 0;
    }
    cJSON_Delete(root);
    cJSON_Delete(now);
    return rc;
}

int af_campaign_settings_adopt(const char *dir, const char *from, char *diff, size_t cap,
                               af_error *err)
{
    char mine[AF_STORE_PATH_CAP], theirs[AF_STORE_PATH_CAP];
    snprintf(mine, sizeof mine, "%s/campaign.json", dir);
    snprintf(theirs, sizeof theirs, "%s/campaign.json", from);
    diff[0] = '\0';
    struct stat st;
    if (stat(theirs, &st) != 0)
        return 0; /* a folder without settings: nothing to compare */
    cJSON *b = read_json(theirs, err);
    if (!b)
        return -1;
    int rc = 0;
    if (stat(mine, &st) != 0) {
        char *text = cJSON_Print(b);
        char *line = text ? realloc(text, strlen(text) + 2) : NULL;
        if (line) {
            strcat(line, "\n");
            rc = af_write_file(mine, line, strlen(line), err);
        } else {
            free(text);
            af_error_set(err, "", "out of memory");
            rc = -1;
        }
        free(line);
    } else {
        cJSON *a = read_json(mine, err);
        if (!a)
            rc = -1;
        else {
            compare_settings(cJSON_GetObjectItemCaseSensitive(a, "settings"),
                             cJSON_GetObjectItemCaseSensitive(b, "settings"), diff, cap);
            rc = diff[0] ? 1 : 0;
        }
        cJSON_Delete(a);
    }
    cJSON_Delete(b);
    return rc;
}

/* ---- history lines ---- */

void af_campaign_run_init(af_campaign_run *r, const char *command, const char *engine, int jobs)
{
    memset(r, 0, sizeof *r);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(r->run, sizeof r->run, "%s-%ld", stamp, (long)getpid());
    af_store_iso_time((int64_t)now, r->start, sizeof r->start);
    r->start_unix = (int64_t)now;
    r->command = command;
    r->engine = engine;
    r->jobs = jobs;
    r->exit = -1;
    if (gethostname(r->machine, sizeof r->machine - 1) != 0)
        snprintf(r->machine, sizeof r->machine, "unknown");
}

static cJSON *sig_array(const af_sigset *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++) {
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, s->items[i]);
        cJSON_AddItemToArray(a, cJSON_CreateString(hex));
    }
    return a;
}

static cJSON *run_json(const af_campaign_run *r)
{
    cJSON *o = cJSON_CreateObject();
    bool ended = r->end[0] != '\0';
    cJSON_AddStringToObject(o, "run", r->run);
    cJSON_AddStringToObject(o, "start", r->start);
    add_string_or_null(o, "end", ended ? r->end : NULL);
    cJSON_AddStringToObject(o, "command", r->command);
    cJSON_AddStringToObject(o, "engine", r->engine);
    cJSON_AddNumberToObject(o, "seconds", ended ? (double)(int64_t)(r->seconds * 10) / 10 : 0);
    cJSON_AddNumberToObject(o, "execs", (double)r->execs);
    cJSON_AddNumberToObject(o, "execs_per_second",
                            r->seconds > 0 ? (double)(int64_t)(r->execs / r->seconds * 10) / 10
                                           : 0);
    if (r->has_features) {
        cJSON_AddNumberToObject(o, "features", (double)r->features);
        cJSON_AddNumberToObject(o, "corpus", (double)r->corpus);
    } else {
        cJSON_AddNullToObject(o, "features");
        cJSON_AddNullToObject(o, "corpus");
    }
    cJSON_AddStringToObject(o, "machine", r->machine);
    cJSON_AddNumberToObject(o, "jobs", r->jobs);
    if (r->exit >= 0)
        cJSON_AddNumberToObject(o, "exit", r->exit);
    else
        cJSON_AddNullToObject(o, "exit");
    cJSON *sigs = cJSON_AddObjectToObject(o, "signatures");
    cJSON_AddItemToObject(sigs, "new", sig_array(&r->new_sigs));
    cJSON_AddItemToObject(sigs, "known", sig_array(&r->known_sigs));
    add_string_or_null(o, "stats", r->stats[0] ? r->stats : NULL);
    cJSON *lists = cJSON_AddArrayToObject(o, "baselines");
    for (size_t i = 0; i < af_baseline_count_lists(r->baseline); i++)
        cJSON_AddItemToArray(lists, cJSON_CreateString(af_baseline_list_at(r->baseline, i)));
    return o;
}

/* One line appended with one write(2). */
static int append_line(const char *dir, cJSON *o, af_error *err)
{
    char path[AF_STORE_PATH_CAP];
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    char *text = cJSON_PrintUnformatted(o);
    if (!text) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ssize_t w = fd >= 0 ? write(fd, line, n + 1) : -1;
    int e = errno;
    if (fd >= 0 && (w != (ssize_t)(n + 1) || fsync(fd) != 0))
        e = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    free(line);
    if (w != (ssize_t)(n + 1)) {
        af_error_set(err, "", "%s: cannot append: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

int af_campaign_history_append(const char *dir, const af_campaign_run *r, af_error *err)
{
    cJSON *o = run_json(r);
    int rc = append_line(dir, o, err);
    cJSON_Delete(o);
    return rc;
}

/* ---- reading history.jsonl: the last line of each run ---- */

typedef struct runs {
    cJSON **items; /* one object per run id, the line kept */
    size_t n, cap;
} runs;

static void runs_free(runs *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->items[i]);
    free(r->items);
    memset(r, 0, sizeof *r);
}

static bool ended(const cJSON *line)
{
    return json_string(line, "end") != NULL;
}

/* Keep line for its run id: it replaces the run's line kept so far unless
 * prefer_complete and the kept one ended while this one did not. Takes
 * ownership. 0 or -1 (out of memory). */
static int runs_put(runs *r, cJSON *line, bool prefer_complete)
{
    const char *id = json_string(line, "run");
    if (!id) {
        cJSON_Delete(line);
        return 0; /* not a run line: skipped */
    }
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(json_string(r->items[i], "run"), id) == 0) {
            if (prefer_complete && ended(r->items[i]) && !ended(line)) {
                cJSON_Delete(line);
                return 0;
            }
            cJSON_Delete(r->items[i]);
            r->items[i] = line;
            return 0;
        }
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 32;
        cJSON **bigger = realloc(r->items, c * sizeof *bigger);
        if (!bigger) {
            cJSON_Delete(line);
            return -1;
        }
        r->items = bigger;
        r->cap = c;
    }
    r->items[r->n++] = line;
    return 0;
}

/* The runs of one history file (an absent file has none). */
static int runs_read(const char *path, runs *r, bool prefer_complete, af_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (af_read_file(path, HISTORY_MAX, &text, &len, err) < 0)
        return -1;
    int rc = 0;
    for (char *p = text; *p && rc == 0;) {
        size_t n = strcspn(p, "\n");
        char save = p[n];
        p[n] = '\0';
        cJSON *line = cJSON_Parse(p); /* a line cut short by a crash is skipped */
        if (line && runs_put(r, line, prefer_complete) < 0) {
            af_error_set(err, "", "%s: out of memory", path);
            rc = -1;
        }
        p[n] = save;
        p += n + (save != '\0');
    }
    free(text);
    return rc;
}

static void history_path(const char *dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/history.jsonl", dir);
}

static int add_sig_array(af_sigset *out, const cJSON *a)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, a)
    {
        if (cJSON_IsString(v) && af_findings_is_sig_name(v->valuestring) &&
            af_sigset_add(out, strtoull(v->valuestring, NULL, 16)) < 0)
            return -1;
    }
    return 0;
}

int af_campaign_history_seen(const char *dir, const char *except_run, af_sigset *out, size_t *nruns,
                             af_error *err)
{
    char path[AF_STORE_PATH_CAP];
    history_path(dir, path, sizeof path);
    runs r = {0};
    *nruns = 0;
    if (runs_read(path, &r, false, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < r.n && rc == 0; i++) {
        if (except_run && strcmp(json_string(r.items[i], "run"), except_run) == 0)
            continue;
        (*nruns)++;
        const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(r.items[i], "signatures");
        if (add_sig_array(out, cJSON_GetObjectItemCaseSensitive(sigs, "new")) < 0 ||
            add_sig_array(out, cJSON_GetObjectItemCaseSensitive(sigs, "known")) < 0) {
            af_error_set(err, "", "out of memory");
            rc = -1;
        }
    }
    runs_free(&r);
    return rc;
}

/* ---- repair ---- */

/* Whether process pid of this machine is an asyncfuzz still running: not
 * gone, not a zombie no one has reaped yet, not another program that got
 * the pid since. */
static bool still_running(long pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return kill((pid_t)pid, 0) == 0 || errno != ESRCH; /* no /proc: ask the kernel */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
    if (close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'))
        return false;
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "asyncfuzz") != NULL;
}

/* The pid at the end of a run id, 0 when there is none. */
static long run_pid(const char *id)
{
    const char *dash = strrchr(id, '-');
    return dash ? strtol(dash + 1, NULL, 10) : 0;
}

/* One "key : value" number of an AFL++ fuzzer_stats text. */
static bool stats_number(const char *text, const char *key, double *out)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == ':')) {
            const char *c = strchr(p, ':');
            if (!c)
                return false;
            *out = strtod(c + 1, NULL);
            return true;
        }
    }
    return false;
}

/* The figures a killed run left in stats/<run-id>/fuzzer_stats; its end
 * (the last update) in *end_unix when known. */
static void figures_from_stats(const char *dir, const char *stats, af_campaign_run *r,
                               int64_t *end_unix)
{
    if (!stats)
        return;
    char sdir[AF_STORE_PATH_CAP];
    snprintf(sdir, sizeof sdir, "%s/%s", dir, stats);
    char *text = af_store_read_text(sdir, "fuzzer_stats");
    if (!text)
        return;
    double v;
    if (stats_number(text, "execs_done", &v))
        r->execs = (uint64_t)v;
    if (stats_number(text, "run_time", &v))
        r->seconds = v;
    if (stats_number(text, "edges_found", &v)) {
        r->features = (uint64_t)v;
        r->has_features = true;
    }
    if (stats_number(text, "corpus_count", &v))
        r->corpus = (uint64_t)v;
    if (stats_number(text, "last_update", &v))
        *end_unix = (int64_t)v;
    snprintf(r->stats, sizeof r->stats, "%s", stats);
    free(text);
}

/* The signatures first filed in [from, to]: new or known by b. */
static void signatures_filed_between(const char *dir, int64_t from, int64_t to,
                                     const af_baseline *b, af_campaign_run *r)
{
    char findings[AF_STORE_PATH_CAP];
    snprintf(findings, sizeof findings, "%s/findings", dir);
    af_findings_tally t;
    af_error ignored;
    if (af_findings_tally_read(findings, &t, &ignored) < 0)
        return;
    for (size_t i = 0; i < t.n; i++) {
        char sig_dir[AF_STORE_PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, findings, t.sigs[i]);
        af_findings_size size;
        int64_t first = -1;
        if (af_store_read_meta(sig_dir, &size, NULL, 0, &first) < 0 || first < from || first > to)
            continue;
        (void)af_sigset_add(af_baseline_find(b, t.sigs[i]) ? &r->known_sigs : &r->new_sigs,
                            t.sigs[i]);
    }
    af_findings_tally_free(&t);
}

/* A killed run's line completed: figures from its stats, signatures from
 * the findings filed while it ran. */
static int complete_killed(const char *dir, const cJSON *line, const af_baseline *b, FILE *log,
                           af_error *err)
{
    af_campaign_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.run, sizeof r.run, "%s", json_string(line, "run"));
    snprintf(r.start, sizeof r.start, "%s",
             json_string(line, "start") ? json_string(line, "start") : "");
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    r.start_unix = strptime(r.start, "%Y-%m-%dT%H:%M:%SZ", &tm) ? (int64_t)timegm(&tm) : 0;
    r.command = json_string(line, "command") ? json_string(line, "command") : "?";
    r.engine = json_string(line, "engine") ? json_string(line, "engine") : "?";
    snprintf(r.machine, sizeof r.machine, "%s", json_string(line, "machine"));
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(line, "jobs");
    r.jobs = cJSON_IsNumber(jobs) ? jobs->valueint : 1;
    r.exit = -1;
    r.baseline = b;
    int64_t end = r.start_unix;
    figures_from_stats(dir, json_string(line, "stats"), &r, &end);
    signatures_filed_between(dir, r.start_unix, (int64_t)time(NULL), b, &r);
    if (end < r.start_unix)
        end = r.start_unix;
    if (r.seconds <= 0)
        r.seconds = (double)(end - r.start_unix);
    af_store_iso_time(end, r.end, sizeof r.end);
    cJSON *o = run_json(&r);
    cJSON_AddBoolToObject(o, "killed", true);
    int rc = append_line(dir, o, err);
    cJSON_Delete(o);
    if (rc == 0 && log)
        fprintf(log,
                "asyncfuzz: campaign %s: run %s was killed before its end: its history line "
                "completed (%" PRIu64 " execs, %zu new and %zu known signature(s) filed while it "
                "ran)\n",
                dir, r.run, r.execs, r.new_sigs.n, r.known_sigs.n);
    af_sigset_free(&r.new_sigs);
    af_sigset_free(&r.known_sigs);
    return rc;
}

int af_campaign_repair(const char *dir, const af_baseline *b, FILE *log, af_error *err)
{
    char path[AF_STORE_PATH_CAP], host[256] = "";
    history_path(dir, path, sizeof path);
    gethostname(host, sizeof host - 1);
    runs r = {0};
    if (runs_read(path, &r, false, err) < 0)
        return -1;
    int done = 0;
    for (size_t i = 0; i < r.n && done >= 0; i++) {
        const cJSON *line = r.items[i];
        const char *machine = json_string(line, "machine");
        long pid = run_pid(json_string(line, "run"));
        if (ended(line) || !machine || strcmp(machine, host) != 0 || pid <= 0)
            continue; /* finished, or another machine's: not ours to judge */
        if (pid != (long)getpid() && still_running(pid))
            continue;
        done = complete_killed(dir, line, b, log, err) < 0 ? -1 : done + 1;
    }
    runs_free(&r);
    return done;
}

/* ---- merging histories ---- */

static int start_cmp(const void *a, const void *b)
{
    const char *x = json_string(*(cJSON *const *)a, "start");
    const char *y = json_string(*(cJSON *const *)b, "start");
    int c = strcmp(x ? x : "", y ? y : "");
    return c ? c
             : strcmp(json_string(*(cJSON *const *)a, "run"),
                      json_string(*(cJSON *const *)b, "run"));
}

int af_campaign_history_merge(const char *dir, const char *const *files, int nfiles, af_error *err)
{
    char path[AF_STORE_PATH_CAP];
    history_path(dir, path, sizeof path);
    runs r = {0};
    int rc = runs_read(path, &r, true, err);
    for (int i = 0; i < nfiles && rc == 0; i++)
        rc = runs_read(files[i], &r, true, err);
    if (rc < 0) {
        runs_free(&r);
        return -1;
    }
    qsort(r.items, r.n, sizeof *r.items, start_cmp);
    size_t len = 0, cap = 4096;
    char *all = malloc(cap);
    for (size_t i = 0; i < r.n && all; i++) {
        char *line = cJSON_PrintUnformatted(r.items[i]);
        size_t n = line ? strlen(line) : 0;
        if (line && len + n + 2 > cap) {
            while (len + n + 2 > cap)
                cap *= 2;
            char *bigger = realloc(all, cap);
            if (!bigger) {
                free(all);
                all = NULL;
            } else
                all = bigger;
        }
        if (all && line) {
            memcpy(all + len, line, n);
            all[len + n] = '\n';
            len += n + 1;
        }
        free(line);
    }
    int written = (int)r.n;
    runs_free(&r);
    if (!all) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    rc = af_write_file(path, all, len, err);
    free(all);
    return rc < 0 ? -1 : written;
}
