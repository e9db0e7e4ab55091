/* findings_summary.c - STORE/summary.json, the one summary of a findings
 * store, regenerated from the folders (findings.h). Must not change a
 * folder: it only reads them.
 *
 *   {
 *     "asyncfuzz_findings": 2,
 *     "unique": 3,                       signature folders
 *     "total": 57,                       the sum of their counts
 *     "campaign": {...},                 the last command that ended on the
 *                                        store (af_findings_campaign), when any
 *     "findings": [                      one line each, by first seen
 *       {"signature": "<16 hex>", "text": "...", "count": 11, "oracle": "...",
 *        "engine": "gen", "origin": "...", "first_seen": "...",
 *        "size": {"ops": 4, "tasks": 2, "bytes": 31}, "folder": "<16 hex>"}
 *     ]
 *   }
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/run/embed.h"
#include "reports/findings.h"
#include "reports/findings_io.h"

/* A growing text buffer; `failed` once memory ran out. */
typedef struct text {
    char *buf;
    size_t len, cap;
    bool failed;
} text;

static char *reserve(text *t, size_t n)
{
    if (t->failed)
        return NULL;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = true;
            return NULL;
        }
        t->buf = b;
        t->cap = cap;
    }
    return t->buf + t->len;
}

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? reserve(t, (size_t)n) : NULL;
    if (!p)
        return;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* A JSON string literal (harness/run/trace.h's escaping). */
static void put_string(text *t, const char *s)
{
    size_t n = strlen(s), room = 6 * n + 3;
    if (!reserve(t, room))
        return;
    size_t pos = t->len;
    af_json_put_string(t->buf, t->len + room + 1, &pos, s, n);
    t->len = pos;
}

/* ---- the folders ---- */

typedef struct entry {
    char name[17];
    int64_t first_unix;
    cJSON *meta; /* NULL when the folder has no readable meta.json */
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->first_unix != y->first_unix)
        return x->first_unix < y->first_unix ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void free_entries(entry *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(list[i].meta);
    free(list);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int af_store_sig_names(const char *dir, char (**names)[17], size_t *n_out, af_error *err)
{
    *names = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!af_findings_is_sig_name(e->d_name))
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char(*bigger)[17] = realloc(*names, c * sizeof **names);
            if (!bigger) {
                af_error_set(err, "", "%s: out of memory", dir);
                rc = -1;
                break;
            }
            *names = bigger;
            cap = c;
        }
        snprintf((*names)[n++], 17, "%s", e->d_name);
    }
    closedir(d);
    if (rc < 0) {
        free(*names);
        *names = NULL;
        return -1;
    }
    if (n)
        qsort(*names, n, sizeof **names, name_cmp);
    *n_out = n;
    return 0;
}

/* The signature folders of dir, sorted by first seen; NULL with *n = 0
 * when there is none or memory ran out (*failed). */
static entry *read_entries(const char *dir, size_t *n_out, bool *failed)
{
    *n_out = 0;
    *failed = false;
    char(*names)[17];
    size_t n;
    af_error err;
    if (af_store_sig_names(dir, &names, &n, &err) < 0) {
        *failed = true;
        return NULL;
    }
    entry *list = n ? malloc(n * sizeof *list) : NULL;
    if (n && !list) {
        *failed = true;
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        entry *x = &list[i];
        snprintf(x->name, sizeof x->name, "%s", names[i]);
        char sig_dir[AF_STORE_PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, names[i]);
        char *meta = af_store_read_text(sig_dir, "meta.json");
        x->meta = meta ? cJSON_Parse(meta) : NULL;
        free(meta);
        cJSON *fu = cJSON_GetObjectItemCaseSensitive(x->meta, "first_seen_unix");
        struct stat st;
        x->first_unix = cJSON_IsNumber(fu)        ? (int64_t)fu->valuedouble
                        : stat(sig_dir, &st) == 0 ? (int64_t)st.st_mtime
                                                  : 0;
    }
    free(names);
    if (n)
        qsort(list, n, sizeof *list, entry_cmp);
    *n_out = n;
    return list;
}

static const char *meta_string(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double meta_number(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Oracle and signature text of a folder without meta.json: verdict.json. */
static cJSON *verdict_of(const char *sig_dir)
{
    char *json = af_store_read_text(sig_dir, "verdict.json");
    cJSON *v = json ? cJSON_Parse(json) : NULL;
    free(json);
    return v;
}

static void put_finding(text *t, const char *dir, const entry *x, uint64_t count)
{
    char sig_dir[AF_STORE_PATH_CAP], when[32];
    snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, x->name);
    cJSON *verdict = x->meta ? NULL : verdict_of(sig_dir);
    cJSON *sg = cJSON_GetObjectItemCaseSensitive(verdict, "signature");
    const char *sigtext =
        x->meta ? meta_string(x->meta, "signature_text") : meta_string(sg, "text");
    const char *oracle = meta_string(x->meta ? x->meta : verdict, "oracle");
    put(t, "{\"signature\": \"%s\", \"text\": ", x->name);
    put_string(t, sigtext);
    put(t, ", \"count\": %" PRIu64 ", \"oracle\": ", count);
    put_string(t, oracle);
    put(t, ", \"engine\": ");
    put_string(t, meta_string(x->meta, "engine"));
    put(t, ", \"origin\": ");
    put_string(t, meta_string(x->meta, "origin"));
    af_store_iso_time(x->first_unix, when, sizeof when);
    put(t, ", \"first_seen\": \"%s\"", when);
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(x->meta, "size");
    af_findings_size size;
    if (cJSON_IsObject(sz)) /* meta.json's, as parsed */
        put(t, ", \"size\": {\"ops\": %d, \"tasks\": %d, \"bytes\": %.0f}",
            (int)meta_number(sz, "ops"), (int)meta_number(sz, "tasks"), meta_number(sz, "bytes"));
    else if (af_store_folder_size(sig_dir, &size) == 0)
        put(t, ", \"size\": {\"ops\": %d, \"tasks\": %d, \"bytes\": %zu}", size.ops, size.tasks,
            size.bytes);
    put(t, ", \"folder\": \"%s\"}", x->name);
    cJSON_Delete(verdict);
}

/* ---- the campaign ---- */

static void put_campaign(text *t, const af_findings_campaign *c)
{
    int py = af_embed_pyversion();
    put(t, "{\"command\": ");
    put_string(t, c->command ? c->command : "");
    put(t, ", \"engine\": ");
    put_string(t, c->engine ? c->engine : "");
    put(t,
        ", \"seed\": %" PRIu64 ", \"runs\": %" PRIu64
        ", \"seconds\": %.3f, \"runs_per_second\": %.1f, \"misuse\": %s, \"max_len\": %zu, "
        "\"python\": \"%d.%d\", \"new_signatures\": %" PRIu64 ", \"stopped_by\": ",
        c->seed, c->runs, c->seconds, c->seconds > 0 ? (double)c->runs / c->seconds : 0.0,
        c->misuse ? "true" : "false", c->max_len, py / 100, py % 100, c->new_signatures);
    if (c->stopped_by)
        put_string(t, c->stopped_by);
    else
        put(t, "null");
    put(t, "}");
}

/* summary.json replaced at once (written beside it, renamed over it),
 * never seen half-written; not fsync'd: it is derived from the folders,
 * which are, and the next command that ends on the store writes it again. */
static int replace_summary(const char *dir, const char *text, size_t len, af_error *err)
{
    char name[64], from[AF_STORE_PATH_CAP], to[AF_STORE_PATH_CAP];
    snprintf(name, sizeof name, "summary.json.tmp.%ld", (long)getpid());
    if (af_store_write_plain(dir, name, text, len, err) < 0)
        return -1;
    snprintf(from, sizeof from, "%s/%s", dir, name);
    snprintf(to, sizeof to, "%s/summary.json", dir);
    if (rename(from, to) != 0) {
        af_error_set(err, "", "%s: cannot write: %s", to, strerror(errno));
        unlink(from);
        return -1;
    }
    return 0;
}

/* The campaign object summary.json has now, one line; NULL if none. */
static char *kept_campaign(const char *dir)
{
    char *old = af_store_read_text(dir, "summary.json");
    cJSON *root = old ? cJSON_Parse(old) : NULL;
    free(old);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "campaign");
    char *line = cJSON_IsObject(c) ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(root);
    return line;
}

int af_store_summary_locked(const char *dir, const af_findings_campaign *campaign, size_t *unique,
                            uint64_t *total, af_error *err)
{
    size_t n;
    bool failed;
    entry *list = read_entries(dir, &n, &failed);
    text t = {0};
    uint64_t sum = 0;
    uint64_t *counts = n ? malloc(n * sizeof *counts) : NULL;
    for (size_t i = 0; i < n && counts; i++) {
        char sig_dir[AF_STORE_PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, list[i].name);
        counts[i] = af_findings_count(sig_dir);
        sum += counts[i];
    }
    put(&t, "{\n  \"asyncfuzz_findings\": 2,\n  \"unique\": %zu,\n  \"total\": %" PRIu64 ",\n", n,
        sum);
    char *kept = campaign ? NULL : kept_campaign(dir);
    if (campaign || kept) {
        put(&t, "  \"campaign\": ");
        if (campaign)
            put_campaign(&t, campaign);
        else
            put(&t, "%s", kept);
        put(&t, ",\n");
    }
    free(kept);
    put(&t, "  \"findings\": [");
    for (size_t i = 0; i < n && counts; i++) {
        put(&t, "%s\n    ", i ? "," : "");
        put_finding(&t, dir, &list[i], counts[i]);
    }
    put(&t, "%s]\n}\n", n ? "\n  " : "");
    free_entries(list, n);
    int rc = -1;
    if (failed || t.failed || (n && !counts))
        af_error_set(err, "", "%s/summary.json: out of memory", dir);
    else
        rc = replace_summary(dir, t.buf, t.len, err);
    free(counts);
    free(t.buf);
    if (unique)
        *unique = n;
    if (total)
        *total = sum;
    return rc;
}

int af_findings_summary_campaign(const char *dir, const af_findings_campaign *campaign,
                                 size_t *unique, uint64_t *total, af_error *err)
{
    int lock = af_store_lock(dir, err);
    if (lock < 0)
        return -1;
    int rc = af_store_summary_locked(dir, campaign, unique, total, err);
    af_store_unlock(lock);
    return rc;
}

int af_findings_summary(const char *dir, size_t *unique, uint64_t *total, af_error *err)
{
    return af_findings_summary_campaign(dir, NULL, unique, total, err);
}
