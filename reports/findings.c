/* findings.c - the deduplicating findings store (findings.h). */
#include "reports/findings.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"
#include "harness/run/embed.h"
#include "reports/finding.h"
#include "scenarios/json.h"
#include "scenarios/minimize.h"

#define PATH_CAP 4096

void af_findings_size_of(const af_scenario *s, af_findings_size *out)
{
    out->ops = s->nops;
    out->tasks = s->ntasks;
    out->bytes = af_scenario_encoded_size(s);
}

int af_findings_size_cmp(const af_findings_size *a, const af_findings_size *b)
{
    int x = a->ops + a->tasks, y = b->ops + b->tasks;
    if (x != y)
        return x < y ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? -1 : 1;
    return 0;
}

uint64_t af_findings_signature(const af_findings_record_in *in)
{
    if (in->verdicts && in->primary >= 0 && in->primary < in->verdicts->count)
        return in->verdicts->items[in->primary].signature;
    const char *t = in->signature_text ? in->signature_text : "unknown";
    return af_hash64(t, strlen(t));
}

static const char *oracle_of(const af_findings_record_in *in)
{
    if (in->verdicts && in->primary >= 0 && in->primary < in->verdicts->count)
        return af_oracle_name(in->verdicts->items[in->primary].oracle);
    return in->oracle ? in->oracle : "unknown";
}

static const char *sigtext_of(const af_findings_record_in *in)
{
    if (in->verdicts && in->primary >= 0 && in->primary < in->verdicts->count)
        return in->verdicts->items[in->primary].signature_text;
    return in->signature_text ? in->signature_text : "unknown";
}

/* ---- small file helpers ---- */

static int write_text(const char *dir, const char *name, const char *text, af_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return af_write_file_durable(path, text, strlen(text), err);
}

static char *read_text(const char *dir, const char *name, size_t *len)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = NULL;
    size_t n = 0;
    af_error err;
    if (af_read_file(path, 1 << 20, &data, &n, &err) != 0)
        return NULL;
    if (len)
        *len = n;
    return data;
}

static void fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[PATH_CAP];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int lock_store(const char *dir, af_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        af_error_set(err, "", "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            af_error_set(err, "", "%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_store(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* ---- counts ---- */

uint64_t af_findings_count(const char *sig_dir)
{
    uint64_t total = 0;
    char *text = read_text(sig_dir, "count", NULL);
    if (text) {
        total += strtoull(text, NULL, 10);
        free(text);
    }
    text = read_text(sig_dir, "hits", NULL);
    if (text) {
        for (char *p = text; (p = strstr(p, "hits=")); p += 5)
            total += strtoull(p + 5, NULL, 10);
        free(text);
    }
    return total;
}

static uint64_t own_count(const char *sig_dir)
{
    char *text = read_text(sig_dir, "count", NULL);
    uint64_t n = text ? strtoull(text, NULL, 10) : 0;
    free(text);
    return n;
}

/* The count file is rewritten in place (one 21-byte pwrite at offset 0,
 * fixed width) rather than replaced: counts change often, and creating and
 * deleting a file per update is what makes a file system slow. Not
 * fsync'd: a count is statistics, the finding is what must survive. */
static int write_count(const char *sig_dir, uint64_t n, af_error *err)
{
    char path[PATH_CAP], text[32];
    snprintf(path, sizeof path, "%s/count", sig_dir);
    int len = snprintf(text, sizeof text, "%20" PRIu64 "\n", n);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        af_error_set(err, "", "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    ssize_t w = pwrite(fd, text, (size_t)len, 0);
    close(fd);
    if (w != len) {
        af_error_set(err, "", "%s: cannot write", path);
        return -1;
    }
    return 0;
}

/* ---- meta.json ---- */

static void iso_time(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int read_meta_size(const char *sig_dir, af_findings_size *out, char *first_seen, size_t cap,
                          int64_t *first_unix)
{
    char *text = read_text(sig_dir, "meta.json", NULL);
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        return -1;
    cJSON *size = cJSON_GetObjectItemCaseSensitive(root, "size");
    cJSON *ops = cJSON_GetObjectItemCaseSensitive(size, "ops");
    cJSON *tasks = cJSON_GetObjectItemCaseSensitive(size, "tasks");
    cJSON *bytes = cJSON_GetObjectItemCaseSensitive(size, "bytes");
    int rc = -1;
    if (cJSON_IsNumber(ops) && cJSON_IsNumber(tasks) && cJSON_IsNumber(bytes)) {
        out->ops = ops->valueint;
        out->tasks = tasks->valueint;
        out->bytes = (size_t)bytes->valuedouble;
        rc = 0;
    }
    cJSON *fs = cJSON_GetObjectItemCaseSensitive(root, "first_seen");
    if (first_seen && cJSON_IsString(fs))
        snprintf(first_seen, cap, "%s", fs->valuestring);
    cJSON *fu = cJSON_GetObjectItemCaseSensitive(root, "first_seen_unix");
    if (first_unix && cJSON_IsNumber(fu))
        *first_unix = (int64_t)fu->valuedouble;
    cJSON_Delete(root);
    return rc;
}

static int write_meta(const char *dir, const af_findings_record_in *in, uint64_t sig,
                      const af_findings_size *size, const char *first_seen, int64_t first_unix,
                      af_error *err)
{
    cJSON *root = cJSON_CreateObject();
    char hex[17], now[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, sig);
    iso_time(time(NULL), now, sizeof now);
    cJSON_AddStringToObject(root, "signature", hex);
    cJSON_AddStringToObject(root, "signature_text", sigtext_of(in));
    cJSON_AddStringToObject(root, "oracle", oracle_of(in));
    cJSON_AddStringToObject(root, "engine", in->engine ? in->engine : "");
    cJSON_AddStringToObject(root, "origin", in->origin ? in->origin : "");
    cJSON_AddStringToObject(root, "first_seen", first_seen);
    cJSON_AddNumberToObject(root, "first_seen_unix", (double)first_unix);
    cJSON_AddStringToObject(root, "updated", now);
    cJSON *sz = cJSON_AddObjectToObject(root, "size");
    cJSON_AddNumberToObject(sz, "ops", size->ops);
    cJSON_AddNumberToObject(sz, "tasks", size->tasks);
    cJSON_AddNumberToObject(sz, "bytes", (double)size->bytes);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    int rc = -1;
    if (line) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        rc = write_text(dir, "meta.json", line, err);
        free(line);
    }
    free(text);
    return rc;
}

/* The size stored for a folder: meta.json, or (a folder filed by the
 * libFuzzer / AFL++ targets) its scenario.json. */
static int stored_size(const char *sig_dir, af_findings_size *out)
{
    if (read_meta_size(sig_dir, out, NULL, 0, NULL) == 0)
        return 0;
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/scenario.json", sig_dir);
    static _Thread_local af_scenario s;
    af_error err;
    if (af_json_read_file(path, &s, &err) != 0)
        return -1;
    af_findings_size_of(&s, out);
    return 0;
}

int af_findings_stored_size(const char *dir, uint64_t signature, af_findings_size *out)
{
    char sig_dir[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, signature);
    return stored_size(sig_dir, out);
}

/* ---- one folder's files ---- */

static int write_folder(const char *tmp, const af_findings_record_in *in, uint64_t sig,
                        const af_findings_size *size, const char *first_seen, int64_t first_unix,
                        uint64_t count, af_error *err)
{
    if (af_mkdirs(tmp, err) < 0)
        return -1;
    if (in->verdicts && in->primary >= 0 && in->primary < in->verdicts->count) {
        af_finding f;
        memset(&f, 0, sizeof f);
        f.scenario = in->scenario;
        f.verdicts = in->verdicts;
        f.trace = in->trace;
        f.input = in->input;
        f.input_len = in->input_len;
        f.origin = in->origin;
        f.pyversion = af_embed_pyversion();
        f.primary = in->primary;
        f.target = in->target;
        if (af_finding_write(tmp, &f, err) < 0)
            return -1;
        char buf[2048];
        size_t n = af_verdict_write_json(&in->verdicts->items[in->primary], buf, sizeof buf - 2);
        if (n >= sizeof buf - 2)
            n = sizeof buf - 3;
        buf[n] = '\n';
        buf[n + 1] = '\0';
        if (write_text(tmp, "verdict.json", buf, err) < 0)
            return -1;
    } else {
        /* crash / hang: no verdicts, the files are written here */
        static _Thread_local af_scenario s;
        s = *in->scenario;
        snprintf(s.description, sizeof s.description, "found by asyncfuzz %s: %s: %s",
                 in->engine ? in->engine : "", oracle_of(in), in->evidence ? in->evidence : "");
        s.nexpect = 0;
        char *json = af_json_write(&s);
        if (!json) {
            af_error_set(err, "", "out of memory");
            return -1;
        }
        int rc = write_text(tmp, "scenario.json", json, err);
        free(json);
        if (rc < 0)
            return -1;
        char *py = af_finding_repro_target(&s, NULL, in->target, err);
        if (!py)
            return -1;
        rc = write_text(tmp, "repro.py", py, err);
        free(py);
        if (rc < 0)
            return -1;
        cJSON *v = cJSON_CreateObject();
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, sig);
        cJSON_AddStringToObject(v, "oracle", oracle_of(in));
        cJSON_AddStringToObject(v, "evidence", in->evidence ? in->evidence : "");
        cJSON *sg = cJSON_AddObjectToObject(v, "signature");
        cJSON_AddStringToObject(sg, "hash", hex);
        cJSON_AddStringToObject(sg, "text", sigtext_of(in));
        char *vt = cJSON_PrintUnformatted(v);
        cJSON_Delete(v);
        if (!vt) {
            af_error_set(err, "", "out of memory");
            return -1;
        }
        size_t n = strlen(vt);
        char *line = malloc(n + 2);
        if (!line) {
            free(vt);
            af_error_set(err, "", "out of memory");
            return -1;
        }
        memcpy(line, vt, n);
        memcpy(line + n, "\n", 2);
        free(vt);
        rc = write_text(tmp, "verdict.json", line, err);
        if (rc == 0) {
            /* verdicts.json as reports/finding.h shapes it, with this one */
            size_t m = strlen(line) + 256;
            char *all = malloc(m);
            if (all) {
                line[n] = '\0';
                snprintf(all, m,
                         "{\"asyncfuzz_finding\": 1, \"python\": \"%d.%d\", \"origin\": \"%s\", "
                         "\"verdicts\": [%s]}\n",
                         af_embed_pyversion() / 100, af_embed_pyversion() % 100,
                         in->engine ? in->engine : "", line);
                rc = write_text(tmp, "verdicts.json", all, err);
                free(all);
            }
        }
        free(line);
        if (rc < 0)
            return -1;
        if (in->input) {
            char path[PATH_CAP];
            snprintf(path, sizeof path, "%s/input.bin", tmp);
            if (af_write_file_durable(path, in->input, in->input_len, err) < 0)
                return -1;
        }
    }
    if (write_meta(tmp, in, sig, size, first_seen, first_unix, err) < 0)
        return -1;
    if (write_count(tmp, count, err) < 0)
        return -1;
    fsync_path(tmp);
    return 0;
}

static int summary_unlocked(const char *dir, size_t *unique, uint64_t *total, af_error *err);

static void tmp_name(char *buf, size_t cap, const char *dir, uint64_t sig)
{
    static unsigned serial;
    snprintf(buf, cap, "%s/.tmp-%016" PRIx64 "-%ld-%u", dir, sig, (long)getpid(), serial++);
}

af_findings_result af_findings_record(const char *dir, const af_findings_record_in *in,
                                      char *sig_dir_out, size_t sig_dir_cap, af_error *err)
{
    if (af_mkdirs(dir, err) < 0)
        return AF_FINDINGS_ERROR;
    uint64_t sig = af_findings_signature(in);
    char sig_dir[PATH_CAP], tmp[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, sig);
    if (sig_dir_out)
        snprintf(sig_dir_out, sig_dir_cap, "%s", sig_dir);
    af_findings_size size;
    af_findings_size_of(in->scenario, &size);

    int lock = lock_store(dir, err);
    if (lock < 0)
        return AF_FINDINGS_ERROR;
    af_findings_result res = AF_FINDINGS_ERROR;
    char first_seen[32];
    int64_t first_unix = (int64_t)time(NULL);
    iso_time((time_t)first_unix, first_seen, sizeof first_seen);

    if (!exists(sig_dir)) {
        tmp_name(tmp, sizeof tmp, dir, sig);
        if (write_folder(tmp, in, sig, &size, first_seen, first_unix, 1, err) < 0) {
            remove_tree(tmp);
            goto done;
        }
        if (rename(tmp, sig_dir) < 0) {
            int e = errno;
            remove_tree(tmp);
            if (e != EEXIST && e != ENOTEMPTY) {
                af_error_set(err, "", "%s: cannot rename into place: %s", sig_dir, strerror(e));
                goto done;
            }
            /* filed meanwhile by a process that does not take our lock */
            if (write_count(sig_dir, own_count(sig_dir) + 1, err) < 0)
                goto done;
            res = AF_FINDINGS_COUNTED;
            goto done;
        }
        fsync_path(dir);
        res = AF_FINDINGS_NEW;
        goto done;
    }

    af_findings_size old;
    uint64_t count = own_count(sig_dir) + 1;
    if (stored_size(sig_dir, &old) == 0 && af_findings_size_cmp(&size, &old) >= 0) {
        if (write_count(sig_dir, count, err) < 0)
            goto done;
        res = AF_FINDINGS_COUNTED;
        goto done;
    }
    /* smaller (or the stored one is unreadable): replace, keeping the
     * first-seen time, the count and the hits of other engines */
    read_meta_size(sig_dir, &old, first_seen, sizeof first_seen, &first_unix);
    tmp_name(tmp, sizeof tmp, dir, sig);
    if (write_folder(tmp, in, sig, &size, first_seen, first_unix, count, err) < 0) {
        remove_tree(tmp);
        goto done;
    }
    char *hits = read_text(sig_dir, "hits", NULL);
    if (hits) {
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s/hits", tmp);
        af_error ignored;
        af_write_file_durable(path, hits, strlen(hits), &ignored);
        free(hits);
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, sig_dir, RENAME_EXCHANGE) == 0) {
        remove_tree(tmp); /* now the old folder */
    } else {
        /* no RENAME_EXCHANGE on this file system: move the files one by
         * one (each rename is atomic; the folder stays complete) */
        static const char *const files[] = {
            "input.bin",     "trace.jsonl", "verdicts.json", "verdict.json", "repro.py",
            "scenario.json", "meta.json",   "count",         "hits",         NULL};
        char from[PATH_CAP], to[PATH_CAP];
        for (int i = 0; files[i]; i++) {
            snprintf(from, sizeof from, "%s/%s", tmp, files[i]);
            snprintf(to, sizeof to, "%s/%s", sig_dir, files[i]);
            if (exists(from))
                rename(from, to);
            else if (strcmp(files[i], "hits") != 0)
                unlink(to);
        }
        remove_tree(tmp);
    }
    fsync_path(sig_dir);
    fsync_path(dir);
    res = AF_FINDINGS_SMALLER;
done:
    if (res == AF_FINDINGS_NEW || res == AF_FINDINGS_SMALLER) {
        af_error ignored;
        summary_unlocked(dir, NULL, NULL, &ignored);
    }
    unlock_store(lock);
    return res;
}

int af_findings_add_count(const char *dir, uint64_t signature, uint64_t n, af_error *err)
{
    char sig_dir[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, signature);
    int lock = lock_store(dir, err);
    if (lock < 0)
        return -1;
    int rc = -1;
    if (!exists(sig_dir))
        af_error_set(err, "", "%s: no such finding", sig_dir);
    else
        rc = write_count(sig_dir, own_count(sig_dir) + n, err);
    unlock_store(lock);
    return rc;
}

/* ---- summary.json ---- */

typedef struct entry {
    char name[64];
    int64_t first_unix;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->first_unix != y->first_unix)
        return x->first_unix < y->first_unix ? -1 : 1;
    return strcmp(x->name, y->name);
}

bool af_findings_is_sig_name(const char *n)
{
    if (strlen(n) != 16)
        return false;
    for (int i = 0; i < 16; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return false;
    return true;
}

/* oracle and signature text of a folder without meta.json: its
 * verdicts.json (reports/finding.h) */
static void oracle_from_verdicts(const char *sig_dir, const char *hex, char *oracle, size_t ocap,
                                 char *text, size_t tcap)
{
    snprintf(oracle, ocap, "unknown");
    text[0] = '\0';
    char *json = read_text(sig_dir, "verdicts.json", NULL);
    if (!json)
        return;
    cJSON *root = cJSON_Parse(json);
    free(json);
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(root, "verdicts");
    cJSON *v;
    cJSON_ArrayForEach(v, vs)
    {
        cJSON *sg = cJSON_GetObjectItemCaseSensitive(v, "signature");
        cJSON *h = cJSON_GetObjectItemCaseSensitive(sg, "hash");
        if (cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0) {
            cJSON *o = cJSON_GetObjectItemCaseSensitive(v, "oracle");
            cJSON *t = cJSON_GetObjectItemCaseSensitive(sg, "text");
            if (cJSON_IsString(o))
                snprintf(oracle, ocap, "%s", o->valuestring);
            if (cJSON_IsString(t))
                snprintf(text, tcap, "%s", t->valuestring);
            break;
        }
    }
    cJSON_Delete(root);
}

static int summary_unlocked(const char *dir, size_t *unique, uint64_t *total, af_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        af_error_set(err, "", "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    size_t n = 0, cap = 64;
    entry *list = malloc(cap * sizeof *list);
    struct dirent *e;
    while (list && (e = readdir(d))) {
        if (!af_findings_is_sig_name(e->d_name))
            continue;
        if (n == cap) {
            entry *bigger = realloc(list, 2 * cap * sizeof *list);
            if (!bigger)
                break;
            list = bigger;
            cap *= 2;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", e->d_name);
        list[n].first_unix = 0;
        char sig_dir[PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, e->d_name);
        af_findings_size ignored;
        if (read_meta_size(sig_dir, &ignored, NULL, 0, &list[n].first_unix) != 0) {
            struct stat st;
            if (stat(sig_dir, &st) == 0)
                list[n].first_unix = (int64_t)st.st_mtime;
        }
        n++;
    }
    closedir(d);
    if (!list) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    qsort(list, n, sizeof *list, entry_cmp);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "asyncfuzz_findings", 1);
    cJSON *arr = cJSON_CreateArray();
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        char sig_dir[PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, list[i].name);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "signature", list[i].name);
        uint64_t count = af_findings_count(sig_dir);
        sum += count;
        char *meta = read_text(sig_dir, "meta.json", NULL);
        cJSON *m = meta ? cJSON_Parse(meta) : NULL;
        free(meta);
        if (m) {
            static const char *const keys[] = {"oracle", "signature_text", "engine", "first_seen",
                                               NULL};
            for (int k = 0; keys[k]; k++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(m, keys[k]);
                cJSON_AddStringToObject(f, keys[k], cJSON_IsString(v) ? v->valuestring : "");
            }
            cJSON *size = cJSON_DetachItemFromObjectCaseSensitive(m, "size");
            if (size)
                cJSON_AddItemToObject(f, "size", size);
            cJSON_Delete(m);
        } else {
            char oracle[64], text[AF_VERDICT_SIGTEXT_MAX], when[32];
            oracle_from_verdicts(sig_dir, list[i].name, oracle, sizeof oracle, text, sizeof text);
            cJSON_AddStringToObject(f, "oracle", oracle);
            cJSON_AddStringToObject(f, "signature_text", text);
            cJSON_AddStringToObject(f, "engine", "");
            iso_time((time_t)list[i].first_unix, when, sizeof when);
            cJSON_AddStringToObject(f, "first_seen", when);
            af_findings_size sz;
            if (stored_size(sig_dir, &sz) == 0) {
                cJSON *size = cJSON_AddObjectToObject(f, "size");
                cJSON_AddNumberToObject(size, "ops", sz.ops);
                cJSON_AddNumberToObject(size, "tasks", sz.tasks);
                cJSON_AddNumberToObject(size, "bytes", (double)sz.bytes);
            }
        }
        cJSON_AddNumberToObject(f, "count", (double)count);
        cJSON_AddStringToObject(f, "folder", list[i].name);
        cJSON_AddItemToArray(arr, f);
    }
    cJSON_AddNumberToObject(root, "unique", (double)n);
    cJSON_AddNumberToObject(root, "total", (double)sum);
    cJSON_AddItemToObject(root, "findings", arr);
    free(list);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    int rc = -1;
    if (line) {
        memcpy(line, text, len);
        memcpy(line + len, "\n", 2);
        rc = write_text(dir, "summary.json", line, err);
        free(line);
    }
    free(text);
    if (unique)
        *unique = n;
    if (total)
        *total = sum;
    return rc;
}

int af_findings_summary(const char *dir, size_t *unique, uint64_t *total, af_error *err)
{
    int lock = lock_store(dir, err);
    if (lock < 0)
        return -1;
    int rc = summary_unlocked(dir, unique, total, err);
    unlock_store(lock);
    return rc;
}
