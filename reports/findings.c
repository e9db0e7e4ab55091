/* findings.c - the findings store on disk (findings.h): filing a run into
 * its signature folder, counts, the crash-safe folder writer and the
 * repair of what a killed process left. Must not keep state between calls:
 * a process's table of signatures is findings_table.c's. */
#include "reports/findings.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
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
#include "reports/findings_io.h"
#include "scenarios/json.h"
#include "scenarios/minimize.h"

#define PATH_CAP AF_STORE_PATH_CAP

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

static const af_verdict *primary_of(const af_findings_record_in *in)
{
    if (in->verdicts && in->primary >= 0 && in->primary < in->verdicts->count)
        return &in->verdicts->items[in->primary];
    return NULL;
}

uint64_t af_findings_signature(const af_findings_record_in *in)
{
    const af_verdict *p = primary_of(in);
    if (p)
        return p->signature;
    const char *t = in->signature_text ? in->signature_text : "unknown";
    return af_hash64(t, strlen(t));
}

static const char *oracle_of(const af_findings_record_in *in)
{
    const af_verdict *p = primary_of(in);
    if (p)
        return af_oracle_name(p->oracle);
    return in->oracle ? in->oracle : "unknown";
}

static const char *sigtext_of(const af_findings_record_in *in)
{
    const af_verdict *p = primary_of(in);
    if (p)
        return p->signature_text;
    return in->signature_text ? in->signature_text : "unknown";
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

/* ---- small file helpers (findings_io.h) ---- */

int af_store_write_text(const char *dir, const char *name, const char *text, af_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return af_write_file_durable(path, text, strlen(text), err);
}

int af_store_write_plain(const char *dir, const char *name, const void *data, size_t len,
                         af_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *p = data;
    while (fd >= 0 && len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        len -= (size_t)w;
    }
    if (fd < 0 || len > 0 || close(fd) != 0) {
        af_error_set(err, "", "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0 && len > 0)
            close(fd);
        return -1;
    }
    return 0;
}

char *af_store_read_text(const char *dir, const char *name)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = NULL;
    size_t n = 0;
    af_error err;
    if (af_read_file(path, 1 << 20, &data, &n, &err) != 0)
        return NULL;
    return data;
}

void af_store_iso_time(int64_t t, char *buf, size_t cap)
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int af_store_lock(const char *dir, af_error *err)
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

void af_store_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static void fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* fsync every file of a folder being built, then the folder: one journal
 * commit for the lot instead of two per file. 0, or -1 with err set. */
static int sync_folder(const char *dir, af_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        af_error_set(err, "", "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    char path[PATH_CAP];
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            af_error_set(err, "", "%s: cannot fsync: %s", path, strerror(errno));
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    if (rc == 0)
        fsync_path(dir);
    return rc;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* rm -r, for the store's own folders (a finding folder may hold a
 * minimize output folder). Symbolic links are removed, never followed. */
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
            if (is_dir(path))
                remove_tree(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- counts ---- */

uint64_t af_findings_count(const char *sig_dir)
{
    uint64_t total = 0;
    char *text = af_store_read_text(sig_dir, "count");
    if (text) {
        total += strtoull(text, NULL, 10);
        free(text);
    }
    text = af_store_read_text(sig_dir, "hits");
    if (text) {
        for (char *p = text; (p = strstr(p, "hits=")); p += 5)
            total += strtoull(p + 5, NULL, 10);
        free(text);
    }
    return total;
}

static uint64_t own_count(const char *sig_dir)
{
    char *text = af_store_read_text(sig_dir, "count");
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

int af_store_read_meta(const char *sig_dir, af_findings_size *out, char *first_seen, size_t cap,
                       int64_t *first_unix)
{
    char *text = af_store_read_text(sig_dir, "meta.json");
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

bool af_findings_recorded_target(const char *dir, char *buf, size_t cap)
{
    char *text = af_store_read_text(dir, "meta.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target");
    bool found = cJSON_IsString(t) && t->valuestring[0];
    if (found)
        snprintf(buf, cap, "%s", t->valuestring);
    cJSON_Delete(root);
    return found;
}

/* What meta.json says besides the size. */
typedef struct meta {
    uint64_t signature;
    const char *signature_text, *oracle, *engine, *origin, *target;
    const af_event *loop; /* the trace's `loop` event; NULL: the VirtualLoop */
    const char *first_seen;
    int64_t first_unix;
    const af_baseline *baseline; /* the label's lists; NULL: keep_label, or none */
    cJSON *keep_label;           /* the replaced folder's label (record_smaller) */
} meta;

cJSON *af_store_label_json(const af_baseline *b, uint64_t signature)
{
    const af_baseline_entry *e = af_baseline_find(b, signature);
    cJSON *label = cJSON_CreateObject();
    cJSON_AddStringToObject(label, "status", e ? "known" : "new");
#define STRING_OR_NULL(key, v)                                                                     \
    ((v) ? cJSON_AddStringToObject(label, key, v) : cJSON_AddNullToObject(label, key))
    STRING_OR_NULL("issue", e ? e->issue : NULL);
    STRING_OR_NULL("fixed_in", e ? e->fixed_in : NULL);
    STRING_OR_NULL("description", e ? e->description : NULL);
    STRING_OR_NULL("list", e ? e->list : NULL);
#undef STRING_OR_NULL
    return label;
}

int af_store_write_meta_json(const char *dir, cJSON *root, bool durable, af_error *err)
{
    char *text = cJSON_Print(root);
    if (!text) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    int rc = -1;
    if (line) {
        memcpy(line, text, n);
        memcpy(line + n, "\n", 2);
        rc = durable ? af_store_write_text(dir, "meta.json", line, err)
                     : af_store_write_plain(dir, "meta.json", line, n + 1, err);
        free(line);
    } else {
        af_error_set(err, "", "out of memory");
    }
    free(text);
    return rc;
}

/* meta.json into dir: durably, or (a folder being built) plain. */
static int write_meta(const char *dir, const meta *m, const af_findings_size *size, bool durable,
                      af_error *err)
{
    cJSON *root = cJSON_CreateObject();
    char hex[17], now[32], py[16];
    snprintf(hex, sizeof hex, "%016" PRIx64, m->signature);
    af_store_iso_time((int64_t)time(NULL), now, sizeof now);
    snprintf(py, sizeof py, "%d.%d", af_embed_pyversion() / 100, af_embed_pyversion() % 100);
    cJSON_AddStringToObject(root, "signature", hex);
    cJSON_AddStringToObject(root, "signature_text", m->signature_text);
    cJSON_AddStringToObject(root, "oracle", m->oracle);
    cJSON_AddStringToObject(root, "engine", m->engine ? m->engine : "");
    cJSON_AddStringToObject(root, "origin", m->origin ? m->origin : "");
    cJSON_AddStringToObject(root, "python", py);
    if (m->target && m->target[0])
        cJSON_AddStringToObject(root, "target", m->target);
    if (m->loop) { /* which loop mode produced the finding (docs/LOOPS.md) */
        cJSON *loop = cJSON_AddObjectToObject(root, "loop");
        cJSON_AddStringToObject(loop, "mode", m->loop->name ? m->loop->name : "");
        cJSON_AddStringToObject(loop, "class", m->loop->msg ? m->loop->msg : "");
        cJSON_AddNumberToObject(loop, "tick_ms", (double)m->loop->ticks);
        cJSON_AddBoolToObject(loop, "deterministic",
                              !(m->loop->name && strcmp(m->loop->name, "realtime") == 0));
    }
    cJSON_AddStringToObject(root, "first_seen", m->first_seen);
    cJSON_AddNumberToObject(root, "first_seen_unix", (double)m->first_unix);
    cJSON_AddStringToObject(root, "updated", now);
    cJSON *sz = cJSON_AddObjectToObject(root, "size");
    cJSON_AddNumberToObject(sz, "ops", size->ops);
    cJSON_AddNumberToObject(sz, "tasks", size->tasks);
    cJSON_AddNumberToObject(sz, "bytes", (double)size->bytes);
    if (m->baseline)
        cJSON_AddItemToObject(root, "baseline", af_store_label_json(m->baseline, m->signature));
    else if (m->keep_label)
        cJSON_AddItemToObject(root, "baseline", cJSON_Duplicate(m->keep_label, true));
    int rc = af_store_write_meta_json(dir, root, durable, err);
    cJSON_Delete(root);
    return rc;
}

int af_store_folder_size(const char *sig_dir, af_findings_size *out)
{
    if (af_store_read_meta(sig_dir, out, NULL, 0, NULL) == 0)
        return 0;
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/scenario.json", sig_dir);
    af_scenario *s = malloc(sizeof *s);
    af_error err;
    int rc = -1;
    if (s && af_json_read_file(path, s, &err) == 0) {
        af_findings_size_of(s, out);
        rc = 0;
    }
    free(s);
    return rc;
}

int af_findings_stored_size(const char *dir, uint64_t signature, af_findings_size *out)
{
    char sig_dir[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, signature);
    return af_store_folder_size(sig_dir, out);
}

/* ---- building a folder ---- */

/* Every file of a finding folder into tmp (created), fsync'd. */
static int build_folder(const char *tmp, const af_findings_record_in *in, const meta *m,
                        const af_findings_size *size, uint64_t count, af_error *err)
{
    af_finding f;
    memset(&f, 0, sizeof f);
    f.scenario = in->scenario;
    f.verdicts = primary_of(in) ? in->verdicts : NULL;
    f.primary = in->primary;
    f.all_verdicts = in->all_verdicts;
    f.trace = in->trace;
    f.input = in->input;
    f.input_len = in->input_len;
    f.origin = in->origin;
    f.pyversion = af_embed_pyversion();
    f.target = in->target;
    f.engine = in->engine;
    f.oracle = oracle_of(in);
    f.signature = m->signature;
    f.signature_text = sigtext_of(in);
    f.evidence = in->evidence;
    if (af_finding_write(tmp, &f, err) < 0 || write_meta(tmp, m, size, false, err) < 0 ||
        write_count(tmp, count, err) < 0)
        return -1;
    return sync_folder(tmp, err);
}

/* A temporary name in dir for a folder about to become NAME. */
static void tmp_name(char *buf, size_t cap, const char *dir, const char *kind, const char *name)
{
    static unsigned serial;
    snprintf(buf, cap, "%s/.%s-%s-%ld-%u", dir, kind, name, (long)getpid(), serial++);
}

/* Put the complete folder tmp in place of the existing folder final: swap
 * the two atomically, or (no RENAME_EXCHANGE on this file system) move
 * final aside to an .old- name first, which the repair puts back should
 * the process die between the two renames. The old folder is removed. */
static int replace_folder(const char *tmp, const char *final, const char *dir, const char *name,
                          af_error *err)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
        remove_tree(tmp); /* now the old folder */
        return 0;
    }
    char old[PATH_CAP];
    tmp_name(old, sizeof old, dir, "old", name);
    if (rename(final, old) < 0 || rename(tmp, final) < 0) {
        af_error_set(err, "", "%s: cannot replace: %s", final, strerror(errno));
        if (!exists(final))
            rename(old, final);
        remove_tree(tmp);
        return -1;
    }
    remove_tree(old);
    return 0;
}

static int put_new_folder(const char *tmp, const char *final, af_error *err)
{
    if (rename(tmp, final) == 0)
        return 0;
    int e = errno;
    remove_tree(tmp);
    if (e != EEXIST && e != ENOTEMPTY)
        af_error_set(err, "", "%s: cannot rename into place: %s", final, strerror(e));
    return e == EEXIST || e == ENOTEMPTY ? 1 : -1;
}

static void meta_of(const af_findings_record_in *in, uint64_t sig, meta *m)
{
    memset(m, 0, sizeof *m);
    m->signature = sig;
    m->signature_text = sigtext_of(in);
    m->oracle = oracle_of(in);
    m->engine = in->engine;
    m->origin = in->origin;
    m->target = in->target;
    if (in->trace && in->trace->nevents > 0 && in->trace->events[0].kind == AF_EV_LOOP)
        m->loop = &in->trace->events[0];
    m->baseline = in->baseline;
}

/* ---- filing ---- */

/* A signature new to the store: its folder, under the lock. */
static af_findings_result record_new(const char *dir, const char *sig_dir,
                                     const af_findings_record_in *in, const meta *m,
                                     const af_findings_size *size, af_error *err)
{
    char tmp[PATH_CAP];
    tmp_name(tmp, sizeof tmp, dir, "tmp", sig_dir + strlen(dir) + 1);
    if (build_folder(tmp, in, m, size, 1, err) < 0) {
        remove_tree(tmp);
        return AF_FINDINGS_ERROR;
    }
    int r = put_new_folder(tmp, sig_dir, err);
    if (r < 0)
        return AF_FINDINGS_ERROR;
    if (r > 0) {
        /* filed meanwhile by a process that does not take our lock */
        if (write_count(sig_dir, own_count(sig_dir) + 1, err) < 0)
            return AF_FINDINGS_ERROR;
        return AF_FINDINGS_COUNTED;
    }
    fsync_path(dir);
    return AF_FINDINGS_NEW;
}

/* A known signature, and this run is smaller (or the stored one is
 * unreadable): replace the folder, keeping first seen, the count + 1 and
 * the hits files of older targets. Under the lock. */
static af_findings_result record_smaller(const char *dir, const char *sig_dir,
                                         const af_findings_record_in *in, meta *m,
                                         const af_findings_size *size, af_error *err)
{
    char first_seen[32], tmp[PATH_CAP];
    af_findings_size old;
    af_store_iso_time(m->first_unix, first_seen, sizeof first_seen);
    af_store_read_meta(sig_dir, &old, first_seen, sizeof first_seen, &m->first_unix);
    m->first_seen = first_seen;
    char *old_meta = m->baseline ? NULL : af_store_read_text(sig_dir, "meta.json");
    cJSON *old_root = old_meta ? cJSON_Parse(old_meta) : NULL;
    free(old_meta);
    m->keep_label = cJSON_GetObjectItemCaseSensitive(old_root, "baseline");
    const char *name = sig_dir + strlen(dir) + 1;
    tmp_name(tmp, sizeof tmp, dir, "tmp", name);
    int built = build_folder(tmp, in, m, size, own_count(sig_dir) + 1, err);
    cJSON_Delete(old_root);
    m->keep_label = NULL;
    if (built < 0) {
        remove_tree(tmp);
        return AF_FINDINGS_ERROR;
    }
    char *hits = af_store_read_text(sig_dir, "hits");
    if (hits) {
        af_error ignored;
        if (af_store_write_plain(tmp, "hits", hits, strlen(hits), &ignored) == 0)
            sync_folder(tmp, &ignored);
        free(hits);
    }
    if (replace_folder(tmp, sig_dir, dir, name, err) < 0)
        return AF_FINDINGS_ERROR;
    fsync_path(sig_dir);
    fsync_path(dir);
    return AF_FINDINGS_SMALLER;
}

af_findings_result af_findings_record(const char *dir, const af_findings_record_in *in,
                                      char *sig_dir_out, size_t sig_dir_cap, af_error *err)
{
    if (af_mkdirs(dir, err) < 0)
        return AF_FINDINGS_ERROR;
    uint64_t sig = af_findings_signature(in);
    char sig_dir[PATH_CAP], first_seen[32];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, sig);
    if (sig_dir_out)
        snprintf(sig_dir_out, sig_dir_cap, "%s", sig_dir);
    af_findings_size size, old;
    af_findings_size_of(in->scenario, &size);
    meta m;
    meta_of(in, sig, &m);
    m.first_unix = (int64_t)time(NULL);
    af_store_iso_time(m.first_unix, first_seen, sizeof first_seen);
    m.first_seen = first_seen;

    int lock = af_store_lock(dir, err);
    if (lock < 0)
        return AF_FINDINGS_ERROR;
    af_findings_result res;
    if (!exists(sig_dir))
        res = record_new(dir, sig_dir, in, &m, &size, err);
    else if (af_store_folder_size(sig_dir, &old) == 0 && af_findings_size_cmp(&size, &old) >= 0)
        res = write_count(sig_dir, own_count(sig_dir) + 1, err) < 0 ? AF_FINDINGS_ERROR
                                                                    : AF_FINDINGS_COUNTED;
    else
        res = record_smaller(dir, sig_dir, in, &m, &size, err);
    if (res == AF_FINDINGS_NEW || res == AF_FINDINGS_SMALLER) {
        af_error ignored;
        af_store_summary_locked(dir, NULL, NULL, NULL, &ignored);
    }
    af_store_unlock(lock);
    return res;
}

int af_findings_add_count(const char *dir, uint64_t signature, uint64_t n, af_error *err)
{
    char sig_dir[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, signature);
    int lock = af_store_lock(dir, err);
    if (lock < 0)
        return -1;
    int rc = -1;
    if (!exists(sig_dir))
        af_error_set(err, "", "%s: no such finding", sig_dir);
    else
        rc = write_count(sig_dir, own_count(sig_dir) + n, err);
    af_store_unlock(lock);
    return rc;
}

int af_findings_write_folder(const char *path, const af_findings_record_in *in, af_error *err)
{
    char parent[PATH_CAP], tmp[PATH_CAP], first_seen[32];
    snprintf(parent, sizeof parent, "%s", path);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    char base[256];
    snprintf(base, sizeof base, "%s", name);
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    if (af_mkdirs(parent, err) < 0)
        return -1;
    af_findings_size size;
    af_findings_size_of(in->scenario, &size);
    meta m;
    meta_of(in, af_findings_signature(in), &m);
    m.first_unix = (int64_t)time(NULL);
    af_store_iso_time(m.first_unix, first_seen, sizeof first_seen);
    m.first_seen = first_seen;
    tmp_name(tmp, sizeof tmp, parent, "tmp", base);
    if (build_folder(tmp, in, &m, &size, 1, err) < 0) {
        remove_tree(tmp);
        return -1;
    }
    int rc = exists(path) ? replace_folder(tmp, path, parent, base, err)
                          : put_new_folder(tmp, path, err);
    if (rc > 0)
        af_error_set(err, "", "%s: written meanwhile by another process", path);
    if (rc != 0)
        return -1;
    fsync_path(parent);
    return 0;
}

int af_findings_put_folder(const char *dir, const char *name, const af_findings_file *files,
                           int nfiles, af_error *err)
{
    char final[PATH_CAP], tmp[PATH_CAP];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    if (af_mkdirs(dir, err) < 0)
        return -1;
    int lock = af_store_lock(dir, err);
    if (lock < 0)
        return -1;
    int rc = 0;
    if (!exists(final)) {
        tmp_name(tmp, sizeof tmp, dir, "tmp", name);
        rc = af_mkdirs(tmp, err);
        for (int i = 0; i < nfiles && rc == 0; i++)
            rc = af_store_write_plain(tmp, files[i].name, files[i].data, files[i].len, err);
        if (rc == 0)
            rc = sync_folder(tmp, err);
        if (rc == 0) {
            rc = put_new_folder(tmp, final, err) < 0 ? -1 : 0;
            fsync_path(dir);
        } else {
            remove_tree(tmp);
        }
    }
    af_store_unlock(lock);
    return rc;
}

int af_findings_import(const char *dir, const char *from, af_error *err)
{
    const char *base = strrchr(from, '/');
    base = base ? base + 1 : from;
    char final[PATH_CAP];
    snprintf(final, sizeof final, "%s/%s", dir, base);
    if (!af_findings_is_sig_name(base)) {
        af_error_set(err, "", "%s: not a signature folder", from);
        return -1;
    }
    if (exists(final))
        return 0;
    /* the finding's own files (a minimized/ folder stays behind) */
    enum { MAX_FILES = 32 };
    af_findings_file files[MAX_FILES];
    char *data[MAX_FILES];
    int n = 0, rc = 0;
    DIR *d = opendir(from);
    if (!d) {
        af_error_set(err, "", "%s: cannot open: %s", from, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while (rc == 0 && n < MAX_FILES && (e = readdir(d))) {
        char path[PATH_CAP];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", from, e->d_name);
        if (e->d_name[0] == '.' || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t len = 0;
        data[n] = NULL;
        rc = af_read_file(path, 256u << 20, &data[n], &len, err);
        if (rc == 0)
            files[n] = (af_findings_file){.name = strdup(e->d_name), .data = data[n], .len = len};
        if (rc == 0 && !files[n].name) {
            af_error_set(err, "", "out of memory");
            free(data[n]);
            rc = -1;
        }
        n += rc == 0;
    }
    closedir(d);
    if (rc == 0)
        rc = af_findings_put_folder(dir, base, files, n, err);
    for (int i = 0; i < n; i++) {
        free((char *)files[i].name);
        free(data[i]);
    }
    if (rc < 0)
        return -1;
    af_error ignored;
    af_findings_summary(dir, NULL, NULL, &ignored);
    return 1;
}

/* ---- repair ---- */

/* NAME-PID-N of a temporary (.tmp-, .old-): whether its process is gone.
 * This process is not writing while it repairs: its own pid is a dead
 * namesake's. */
static bool temporary_is_stale(const char *name)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name)
        return true;
    const char *p = dash - 1;
    while (p > name && *p != '-')
        p--;
    long pid = strtol(p + 1, NULL, 10);
    if (pid <= 0 || pid == (long)getpid())
        return true;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* A per-file temporary of base/file_io.h: NAME.tmp.PID. */
static bool is_file_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t)
        return false;
    for (t += 5; *t; t++)
        if (*t < '0' || *t > '9')
            return false;
    return true;
}

static void remove_path(const char *path)
{
    if (is_dir(path))
        remove_tree(path);
    else
        unlink(path);
}

/* One line of the repair's report. */
__attribute__((format(printf, 3, 4))) static void say(FILE *log, const char *dir, const char *fmt,
                                                      ...)
{
    if (!log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(log, "asyncfuzz: findings store %s: ", dir);
    vfprintf(log, fmt, ap);
    fputc('\n', log);
    fflush(log);
    va_end(ap);
}

/* meta.json again, from verdict.json and scenario.json. 0 or -1. */
static int rebuild_meta(const char *sig_dir, const char *name, af_error *err)
{
    char *text = af_store_read_text(sig_dir, "verdict.json");
    cJSON *v = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *o = cJSON_GetObjectItemCaseSensitive(v, "oracle");
    cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "signature"), "text");
    af_findings_size size;
    int rc = -1;
    if (cJSON_IsString(o) && cJSON_IsString(t) && af_store_folder_size(sig_dir, &size) == 0) {
        struct stat st;
        char first_seen[32];
        meta m = {.signature = strtoull(name, NULL, 16),
                  .signature_text = t->valuestring,
                  .oracle = o->valuestring,
                  .origin = "meta.json rebuilt by the store's repair",
                  .first_unix = stat(sig_dir, &st) == 0 ? (int64_t)st.st_mtime : 0};
        af_store_iso_time(m.first_unix, first_seen, sizeof first_seen);
        m.first_seen = first_seen;
        rc = write_meta(sig_dir, &m, &size, true, err);
    } else {
        af_error_set(err, "", "%s: verdict.json or scenario.json unreadable", sig_dir);
    }
    cJSON_Delete(v);
    return rc;
}

/* One signature folder: 0 complete, 1 repaired, 2 removed. */
static int repair_folder(const char *dir, const char *name, FILE *log)
{
    static const char *const required[] = {"scenario.json", "repro.py", "verdict.json",
                                           "verdicts.json", NULL};
    char sig_dir[PATH_CAP], path[PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, name);
    int changed = 0;
    DIR *d = opendir(sig_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        snprintf(path, sizeof path, "%s/%s", sig_dir, e->d_name);
        bool folder_temporary =
            strncmp(e->d_name, ".tmp-", 5) == 0 || strncmp(e->d_name, ".old-", 5) == 0;
        if (is_file_temporary(e->d_name) || (folder_temporary && temporary_is_stale(e->d_name))) {
            remove_path(path);
            say(log, dir, "%s/%s: removed a temporary left by a killed process", name, e->d_name);
            changed = 1;
        }
    }
    if (d)
        closedir(d);
    const char *missing = NULL;
    for (int i = 0; required[i] && !missing; i++) {
        snprintf(path, sizeof path, "%s/%s", sig_dir, required[i]);
        if (!exists(path))
            missing = required[i];
    }
    af_findings_size size;
    if (!missing && af_store_folder_size(sig_dir, &size) < 0)
        missing = "readable scenario.json";
    if (missing) {
        remove_tree(sig_dir);
        say(log, dir, "%s: removed a partial finding folder (no %s)", name, missing);
        return 2;
    }
    af_error err;
    if (af_store_read_meta(sig_dir, &size, NULL, 0, NULL) < 0) {
        if (rebuild_meta(sig_dir, name, &err) < 0) {
            remove_tree(sig_dir);
            say(log, dir, "%s: removed a partial finding folder (%s)", name, err.message);
            return 2;
        }
        say(log, dir, "%s: meta.json rebuilt from verdict.json and scenario.json", name);
        changed = 1;
    }
    snprintf(path, sizeof path, "%s/count", sig_dir);
    if (!exists(path)) {
        snprintf(path, sizeof path, "%s/hits", sig_dir);
        if (write_count(sig_dir, exists(path) ? 0 : 1, &err) == 0) {
            say(log, dir, "%s: count was missing: written again", name);
            changed = 1;
        }
    }
    return changed;
}

/* One entry of the store: how many changes. */
static int repair_entry(const char *dir, const char *name, FILE *log)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (strncmp(name, ".tmp-", 5) == 0 && is_dir(path)) {
        remove_tree(path);
        say(log, dir, "%s: removed a temporary folder (its process was killed while writing it)",
            name);
        return 1;
    }
    if (strncmp(name, ".old-", 5) == 0 && is_dir(path)) {
        char sig[17], sig_dir[PATH_CAP];
        snprintf(sig, sizeof sig, "%s", name + 5);
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, sig);
        if (af_findings_is_sig_name(sig) && !exists(sig_dir) && rename(path, sig_dir) == 0) {
            say(log, dir, "%s: put back as %s (its replacement was cut short)", name, sig);
            return 1 + (repair_folder(dir, sig, log) != 0);
        }
        remove_tree(path);
        say(log, dir, "%s: removed (a replaced folder its process did not remove)", name);
        return 1;
    }
    if (is_file_temporary(name)) {
        unlink(path);
        say(log, dir, "%s: removed a temporary file left by a killed process", name);
        return 1;
    }
    if (af_findings_is_sig_name(name) && is_dir(path))
        return repair_folder(dir, name, log) != 0;
    return 0;
}

int af_findings_repair(const char *dir, FILE *log, af_error *err)
{
    if (!is_dir(dir))
        return 0;
    int lock = af_store_lock(dir, err);
    if (lock < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d) {
        af_error_set(err, "", "%s: cannot open: %s", dir, strerror(errno));
        af_store_unlock(lock);
        return -1;
    }
    /* the names first: the repair renames and removes entries */
    size_t n = 0, cap = 0;
    char(*names)[256] = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strlen(e->d_name) >= sizeof names[0])
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char(*bigger)[256] = realloc(names, c * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
            cap = c;
        }
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    int changes = 0;
    for (size_t i = 0; i < n; i++)
        changes += repair_entry(dir, names[i], log);
    free(names);
    if (changes > 0) {
        af_error ignored;
        af_store_summary_locked(dir, NULL, NULL, NULL, &ignored);
    }
    af_store_unlock(lock);
    return changes;
}
