/* report_read.c - a campaign folder read into the report's model
 * (report.h): campaign.json, history.jsonl, the findings store's folders
 * and stats/<run-id>/plot_data. Reads only; what is missing or unreadable
 * becomes a sentence in r->missing, never a failure, so that an old
 * campaign or a plain findings store still gives a report.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file_io.h"
#include "reports/findings.h"
#include "reports/report.h"

#define PATH_CAP 4200
/* The member at offset of the struct at base, of type T. */
#define FIELD(T, base, offset) (*(T *)((char *)(base) + (offset)))
/* The largest file read (history.jsonl, plot_data, meta.json ...). */
#define READ_CAP (64u * 1024 * 1024)

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* DIR/NAME's text, or NULL. */
static char *read_text(const char *dir, const char *name, size_t *len)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = NULL;
    size_t n = 0;
    af_error err;
    if (!is_file(path) || af_read_file(path, READ_CAP, &data, &n, &err) < 0)
        return NULL;
    if (len)
        *len = n;
    return data;
}

static cJSON *read_json(const char *dir, const char *name)
{
    char *text = read_text(dir, name, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

__attribute__((format(printf, 2, 3))) static void note(af_report *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **m = realloc(r->missing, (size_t)(r->nmissing + 1) * sizeof *m);
    if (!m)
        return;
    r->missing = m;
    if ((m[r->nmissing] = strdup(line)))
        r->nmissing++;
}

/* ---- campaign.json ---- */

static void read_campaign(af_report *r)
{
    cJSON *j = read_json(r->dir, "campaign.json");
    if (!j) {
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s/campaign.json", r->dir);
        note(r, is_file(path) ? "campaign.json does not parse: the campaign's settings are unknown"
                              : "no campaign.json: the campaign's settings are unknown");
        return;
    }
    r->created = jstr(j, "created");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "settings");
    char buf[2048] = "";
    size_t n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, s)
    {
        char val[512] = "";
        if (cJSON_IsString(v))
            snprintf(val, sizeof val, "%s", v->valuestring);
        else if (cJSON_IsBool(v))
            snprintf(val, sizeof val, "%s", cJSON_IsTrue(v) ? "yes" : "no");
        else if (cJSON_IsNull(v))
            snprintf(val, sizeof val, "none");
        else if (cJSON_IsArray(v)) {
            size_t k = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, v) if (cJSON_IsString(x) && k < sizeof val) k +=
                (size_t)snprintf(val + k, sizeof val - k, "%s%s", k ? " " : "", x->valuestring);
            if (!k)
                snprintf(val, sizeof val, "none");
        } else if (cJSON_IsNumber(v))
            snprintf(val, sizeof val, "%g", v->valuedouble);
        if (n < sizeof buf && v->string)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s: %s", n ? ", " : "", v->string,
                                  val);
    }
    r->settings = strdup(buf);
    cJSON_Delete(j);
}

/* ---- plot_data ---- */

/* The column of each af_plot_row field: its names in AFL++'s plot_data
 * headers (old names after the current ones). */
static const struct {
    const char *names[3];
    size_t offset;
} plot_columns[] = {
    {{"relative_time", NULL}, offsetof(af_plot_row, t)},
    {{"execs_per_sec", NULL}, offsetof(af_plot_row, execs_per_sec)},
    {{"total_execs", NULL}, offsetof(af_plot_row, total_execs)},
    {{"edges_found", NULL}, offsetof(af_plot_row, edges)},
    {{"corpus_count", "paths_total", NULL}, offsetof(af_plot_row, corpus)},
    {{"saved_crashes", "unique_crashes", NULL}, offsetof(af_plot_row, crashes)},
    {{"saved_hangs", "unique_hangs", NULL}, offsetof(af_plot_row, hangs)},
};
#define NCOLUMNS (sizeof plot_columns / sizeof plot_columns[0])

/* The field each header column fills (-1: none), from "# a, b, c". */
static int header_columns(const char *line, int *field, int cap)
{
    int n = 0;
    const char *p = line + 1;
    while (*p && *p != '\n' && n < cap) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ",\n");
        while (len && p[len - 1] == ' ')
            len--;
        field[n] = -1;
        for (size_t c = 0; c < NCOLUMNS; c++)
            for (int k = 0; plot_columns[c].names[k]; k++)
                if (strlen(plot_columns[c].names[k]) == len &&
                    strncmp(p, plot_columns[c].names[k], len) == 0)
                    field[n] = (int)c;
        n++;
        p += strcspn(p, ",\n");
        if (*p == ',')
            p++;
    }
    return n;
}

static void parse_row(const char *line, const int *field, int ncols, af_plot_row *row)
{
    for (size_t c = 0; c < NCOLUMNS; c++)
        FIELD(double, row, plot_columns[c].offset) = NAN;
    const char *p = line;
    for (int k = 0; k < ncols && *p && *p != '\n'; k++) {
        char *end;
        double v = strtod(p, &end); /* "12.5%" reads as 12.5 */
        if (field[k] >= 0 && end != p)
            FIELD(double, row, plot_columns[field[k]].offset) = v;
        p += strcspn(p, ",\n");
        if (*p == ',')
            p++;
    }
}

int af_plot_data_parse(const char *text, af_plot_row **rows, int *nrows)
{
    enum { MAX_COLS = 64 };
    int field[MAX_COLS], ncols = 0, n = 0, cap = 0, have_t = 0;
    af_plot_row *list = NULL;
    *rows = NULL;
    *nrows = 0;
    for (const char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (*line == '#') {
            ncols = header_columns(line, field, MAX_COLS);
            have_t = 0;
            for (int k = 0; k < ncols; k++)
                have_t |= field[k] == 0;
            continue;
        }
        if (*line == '\n' || !ncols || !have_t)
            continue;
        af_plot_row row;
        parse_row(line, field, ncols, &row);
        if (isnan(row.t))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            af_plot_row *l = realloc(list, (size_t)cap * sizeof *l);
            if (!l)
                break;
            list = l;
        }
        list[n++] = row;
    }
    if (!have_t) {
        free(list);
        return -1;
    }
    *rows = list;
    *nrows = n;
    return 0;
}

/* ---- history.jsonl and stats/ ---- */

/* The fields of a history line read as they are: strings, numbers
 * (NaN when not given). */
static const struct {
    const char *key;
    size_t offset;
} run_strings[] =
    {
        {"run", offsetof(af_report_run, run)},       {"start", offsetof(af_report_run, start)},
        {"end", offsetof(af_report_run, end)},       {"command", offsetof(af_report_run, command)},
        {"engine", offsetof(af_report_run, engine)}, {"machine", offsetof(af_report_run, machine)},
        {"stats", offsetof(af_report_run, stats)},
},
  run_numbers[] = {
      {"seconds", offsetof(af_report_run, seconds)},
      {"execs_per_second", offsetof(af_report_run, execs_per_second)},
      {"execs", offsetof(af_report_run, execs)},
      {"features", offsetof(af_report_run, features)},
      {"corpus", offsetof(af_report_run, corpus)},
};

static void free_run(af_report_run *u)
{
    for (size_t i = 0; i < sizeof run_strings / sizeof run_strings[0]; i++)
        free(FIELD(char *, u, run_strings[i].offset));
    for (int i = 0; i < u->nnew; i++)
        free(u->new_sigs[i]);
    for (int i = 0; i < u->nknown; i++)
        free(u->known_sigs[i]);
    free(u->new_sigs);
    free(u->known_sigs);
    free(u->rows);
    memset(u, 0, sizeof *u);
}

static char **string_list(const cJSON *a, int *n)
{
    *n = 0;
    int size = cJSON_GetArraySize(a);
    char **list = size > 0 ? calloc((size_t)size, sizeof *list) : NULL;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) if (list && cJSON_IsString(x) &&
                                 (list[*n] = strdup(x->valuestring)))(*n)++;
    return list;
}

static void run_from_json(const cJSON *j, af_report_run *u)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < sizeof run_strings / sizeof run_strings[0]; i++)
        FIELD(char *, u, run_strings[i].offset) = jstr(j, run_strings[i].key);
    for (size_t i = 0; i < sizeof run_numbers / sizeof run_numbers[0]; i++)
        FIELD(double, u, run_numbers[i].offset) = jnum(j, run_numbers[i].key);
    double jobs = jnum(j, "jobs"), exit = jnum(j, "exit");
    u->jobs = isnan(jobs) ? 0 : (int)jobs;
    u->exit = isnan(exit) ? -1 : (int)exit;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "signatures");
    u->new_sigs = string_list(cJSON_GetObjectItemCaseSensitive(s, "new"), &u->nnew);
    u->known_sigs = string_list(cJSON_GetObjectItemCaseSensitive(s, "known"), &u->nknown);
}

static af_report_run *find_run(af_report *r, const char *id)
{
    for (int i = 0; i < r->nruns; i++)
        if (r->runs[i].run && strcmp(r->runs[i].run, id) == 0)
            return &r->runs[i];
    return NULL;
}

static af_report_run *add_run(af_report *r)
{
    af_report_run *l = realloc(r->runs, (size_t)(r->nruns + 1) * sizeof *l);
    if (!l)
        return NULL;
    r->runs = l;
    memset(&l[r->nruns], 0, sizeof l[0]);
    return &l[r->nruns++];
}

static void read_history(af_report *r)
{
    char *text = read_text(r->dir, "history.jsonl", NULL);
    if (!text) {
        note(r, "no history.jsonl: no trend over past runs");
        return;
    }
    int lineno = 0, bad = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!*line)
            continue;
        cJSON *j = cJSON_Parse(line);
        char *id = j ? jstr(j, "run") : NULL;
        if (!id) {
            if (!bad++)
                note(r, "history.jsonl line %d is not a run's JSON object: skipped", lineno);
            cJSON_Delete(j);
            continue;
        }
        /* readers take the last line of each run-id */
        af_report_run *u = find_run(r, id);
        if (u)
            free_run(u);
        else
            u = add_run(r);
        if (u)
            run_from_json(j, u);
        free(id);
        cJSON_Delete(j);
    }
    if (bad > 1)
        note(r, "history.jsonl: %d lines in all were not runs' JSON objects", bad);
    free(text);
}

/* "20261207T183413Z-123" -> "2026-12-07T18:34:13Z", or NULL. */
static char *start_of_run_id(const char *id)
{
    int y, mo, d, h, mi, s;
    if (sscanf(id, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
        return NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
    return strdup(buf);
}

/* stats/<run-id>/ folders history does not list become runs of their own
 * (known by their statistics only). */
static void add_stats_only_runs(af_report *r)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/stats", r->dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    int added = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || find_run(r, e->d_name))
            continue;
        char sub[PATH_CAP];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (!is_dir(sub))
            continue;
        af_report_run *u = add_run(r);
        if (!u)
            break;
        u->run = strdup(e->d_name);
        u->start = start_of_run_id(e->d_name);
        snprintf(sub, sizeof sub, "stats/%s", e->d_name);
        u->stats = strdup(sub);
        for (size_t i = 0; i < sizeof run_numbers / sizeof run_numbers[0]; i++)
            FIELD(double, u, run_numbers[i].offset) = NAN;
        u->exit = -1;
        added++;
    }
    closedir(d);
    if (added)
        note(r, "%d run(s) under stats/ are not in history.jsonl: known by their plot_data only",
             added);
}

static void read_plot_data(af_report *r)
{
    int with = 0;
    for (int i = 0; i < r->nruns; i++) {
        af_report_run *u = &r->runs[i];
        char rel[PATH_CAP];
        if (u->stats)
            snprintf(rel, sizeof rel, "%s/plot_data", u->stats);
        else if (u->run)
            snprintf(rel, sizeof rel, "stats/%s/plot_data", u->run);
        else
            continue;
        char *text = read_text(r->dir, rel, NULL);
        if (!text) {
            note(r, "run %s: no %s: its plots show history's totals only", u->run ? u->run : "?",
                 rel);
            continue;
        }
        if (af_plot_data_parse(text, &u->rows, &u->nrows) < 0)
            note(r, "run %s: %s has no \"# relative_time, ...\" header: not read",
                 u->run ? u->run : "?", rel);
        else
            with++;
        free(text);
    }
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/stats", r->dir);
    if (!with && !is_dir(path))
        note(r, "no stats/: no execs/s or features over time");
}

static int run_cmp(const void *a, const void *b)
{
    const af_report_run *x = a, *y = b;
    int c = strcmp(x->start ? x->start : "", y->start ? y->start : "");
    return c ? c : strcmp(x->run ? x->run : "", y->run ? y->run : "");
}

/* ---- the findings store ---- */

static bool listed(char **sigs, int n, const char *sig)
{
    for (int i = 0; i < n; i++)
        if (strcmp(sigs[i], sig) == 0)
            return true;
    return false;
}

static bool run_lists(const af_report_run *u, const char *sig)
{
    return listed(u->new_sigs, u->nnew, sig) || listed(u->known_sigs, u->nknown, sig);
}

static void read_pythons(const cJSON *a, af_report_finding *f)
{
    int size = cJSON_GetArraySize(a);
    if (size <= 0 || !(f->pythons = calloc((size_t)size, sizeof *f->pythons)))
        return;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        af_report_python *p = &f->pythons[f->npythons++];
        p->python = jstr(x, "python");
        p->version = jstr(x, "version");
        p->reproduced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "reproduced"));
        double e = jnum(x, "exit");
        p->exit = isnan(e) ? -1 : (int)e;
    }
}

/* The strings of a finding folder: where each is read (meta.json, its
 * "baseline" object, verdict.json, verdict.json's "task") and its member. */
enum { FROM_META, FROM_BASELINE, FROM_VERDICT, FROM_TASK };
static const struct {
    int from;
    const char *key;
    size_t offset;
} finding_strings[] = {
    {FROM_META, "signature_text", offsetof(af_report_finding, text)},
    {FROM_META, "oracle", offsetof(af_report_finding, oracle)},
    {FROM_META, "engine", offsetof(af_report_finding, engine)},
    {FROM_META, "origin", offsetof(af_report_finding, origin)},
    {FROM_META, "first_seen", offsetof(af_report_finding, first_seen)},
    {FROM_META, "target", offsetof(af_report_finding, target)},
    {FROM_BASELINE, "issue", offsetof(af_report_finding, issue)},
    {FROM_BASELINE, "fixed_in", offsetof(af_report_finding, fixed_in)},
    {FROM_BASELINE, "description", offsetof(af_report_finding, description)},
    {FROM_BASELINE, "list", offsetof(af_report_finding, list)},
    {FROM_TASK, "name", offsetof(af_report_finding, task_name)},
    {FROM_VERDICT, "path", offsetof(af_report_finding, path)},
    {FROM_VERDICT, "evidence", offsetof(af_report_finding, evidence)},
    {FROM_VERDICT, "cause", offsetof(af_report_finding, cause)},
    {FROM_VERDICT, "cause_why", offsetof(af_report_finding, cause_why)},
};
#define NFINDING_STRINGS (sizeof finding_strings / sizeof finding_strings[0])

/* One signature folder; false when it has no readable meta.json. */
static bool read_finding(const char *store, const char *name, af_report_finding *f)
{
    memset(f, 0, sizeof *f);
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s/%s", store, name);
    cJSON *m = read_json(dir, "meta.json");
    if (!m)
        return false;
    cJSON *v = read_json(dir, "verdict.json");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "baseline");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "task");
    const cJSON *from[] = {m, b, v, t};
    for (size_t i = 0; i < NFINDING_STRINGS; i++)
        FIELD(char *, f, finding_strings[i].offset) =
            jstr(from[finding_strings[i].from], finding_strings[i].key);
    snprintf(f->sig, sizeof f->sig, "%s", name);
    f->dir = strdup(dir);
    f->count = af_findings_count(dir);
    char *status = jstr(b, "status");
    f->labelled = status && (strcmp(status, "known") == 0 || strcmp(status, "new") == 0);
    f->known = status && strcmp(status, "known") == 0;
    free(status);
    read_pythons(cJSON_GetObjectItemCaseSensitive(m, "reproduces_on"), f);
    double id = jnum(t, "id"), op = jnum(v, "op"), vt = jnum(v, "vtime");
    f->task = isnan(id) ? -1 : (int)id;
    f->op = isnan(op) ? -1 : (int)op;
    f->vtime = isnan(vt) ? -1 : (int64_t)vt;
    if (!f->text) /* an older meta.json */
        f->text = jstr(cJSON_GetObjectItemCaseSensitive(v, "signature"), "text");
    if (!f->oracle)
        f->oracle = jstr(v, "oracle");
    cJSON_Delete(m);
    cJSON_Delete(v);
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/trace.jsonl", dir);
    f->has_trace = is_file(path);
    return true;
}

static void free_finding(af_report_finding *f)
{
    for (size_t i = 0; i < NFINDING_STRINGS; i++)
        free(FIELD(char *, f, finding_strings[i].offset));
    free(f->dir);
    for (int i = 0; i < f->npythons; i++) {
        free(f->pythons[i].python);
        free(f->pythons[i].version);
    }
    free(f->pythons);
}

static int finding_cmp(const void *a, const void *b)
{
    const af_report_finding *x = a, *y = b;
    if (x->known != y->known)
        return x->known ? 1 : -1;
    int c = strcmp(x->first_seen ? x->first_seen : "", y->first_seen ? y->first_seen : "");
    return c ? c : strcmp(x->sig, y->sig);
}

static int read_findings(af_report *r, af_error *err)
{
    DIR *d = opendir(r->store);
    if (!d) {
        note(r, "no findings store (%s): no finding to report", r->store);
        return 0;
    }
    struct dirent *e;
    int cap = 0, skipped = 0, unlabelled = 0;
    while ((e = readdir(d))) {
        if (!af_findings_is_sig_name(e->d_name))
            continue;
        if (r->nfindings == cap) {
            cap = cap ? 2 * cap : 32;
            af_report_finding *l = realloc(r->findings, (size_t)cap * sizeof *l);
            if (!l) {
                closedir(d);
                af_error_set(err, "", "out of memory reading %s", r->store);
                return -1;
            }
            r->findings = l;
        }
        if (!read_finding(r->store, e->d_name, &r->findings[r->nfindings])) {
            skipped++;
            continue;
        }
        unlabelled += !r->findings[r->nfindings].labelled;
        r->nfindings++;
    }
    closedir(d);
    if (skipped)
        note(r,
             "%d signature folder(s) without a readable meta.json (a run still filing them, or "
             "a store to repair): left out",
             skipped);
    if (unlabelled)
        note(r, "%d finding(s) carry no baseline label (meta.json \"baseline\"): counted as new",
             unlabelled);
    return 0;
}

/* "New since the last run": in the last run's lists and no earlier one's. */
static void mark_new_since_last_run(af_report *r)
{
    if (r->nruns == 0)
        return;
    const af_report_run *last = &r->runs[r->nruns - 1];
    for (int i = 0; i < r->nfindings; i++) {
        af_report_finding *f = &r->findings[i];
        if (!run_lists(last, f->sig))
            continue;
        f->new_since_last_run = true;
        for (int k = 0; k < r->nruns - 1 && f->new_since_last_run; k++)
            f->new_since_last_run = !run_lists(&r->runs[k], f->sig);
    }
}

int af_report_read(const char *dir, af_report *r, af_error *err)
{
    memset(r, 0, sizeof *r);
    if (!is_dir(dir)) {
        af_error_set(err, "", "%s: not a folder", dir);
        return -1;
    }
    char path[PATH_CAP], hist[PATH_CAP], camp[PATH_CAP];
    snprintf(path, sizeof path, "%s/findings", dir);
    snprintf(hist, sizeof hist, "%s/history.jsonl", dir);
    snprintf(camp, sizeof camp, "%s/campaign.json", dir);
    r->dir = strdup(dir);
    bool campaign = is_dir(path) || is_file(hist) || is_file(camp);
    if (campaign) {
        r->store = strdup(path);
    } else {
        /* a plain findings store: summary.json or signature folders */
        snprintf(path, sizeof path, "%s/summary.json", dir);
        bool store = is_file(path);
        DIR *d = store ? NULL : opendir(dir);
        struct dirent *e;
        while (d && !store && (e = readdir(d)))
            store = af_findings_is_sig_name(e->d_name);
        if (d)
            closedir(d);
        if (!store) {
            af_error_set(err, "",
                         "%s: not a campaign folder (no findings/, history.jsonl or "
                         "campaign.json) nor a findings store",
                         dir);
            af_report_free(r);
            return -1;
        }
        r->store = strdup(dir);
        note(r, "a plain findings store, not a campaign folder: no campaign.json, history.jsonl "
                "or stats/");
    }
    if (campaign) {
        read_campaign(r);
        read_history(r);
        add_stats_only_runs(r);
        read_plot_data(r);
        if (r->nruns > 1)
            qsort(r->runs, (size_t)r->nruns, sizeof r->runs[0], run_cmp);
    }
    if (read_findings(r, err) < 0) {
        af_report_free(r);
        return -1;
    }
    mark_new_since_last_run(r);
    if (r->nfindings > 1)
        qsort(r->findings, (size_t)r->nfindings, sizeof r->findings[0], finding_cmp);
    for (int i = 0; i < r->nfindings; i++)
        r->nnew += !r->findings[i].known;
    return 0;
}

void af_report_free(af_report *r)
{
    free(r->dir);
    free(r->store);
    free(r->created);
    free(r->settings);
    for (int i = 0; i < r->nfindings; i++)
        free_finding(&r->findings[i]);
    free(r->findings);
    for (int i = 0; i < r->nruns; i++)
        free_run(&r->runs[i]);
    free(r->runs);
    for (int i = 0; i < r->nmissing; i++)
        free(r->missing[i]);
    free(r->missing);
    memset(r, 0, sizeof *r);
}

const char *af_report_status(const af_report_finding *f)
{
    return f->known ? "known" : "new";
}

const char *af_report_rel(const af_report *r, const char *path)
{
    size_t n = strlen(r->dir);
    while (n > 1 && r->dir[n - 1] == '/')
        n--;
    if (path && strncmp(path, r->dir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

void af_report_reproduces_on(const af_report_finding *f, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        for (int i = 0; i < f->npythons && n < cap; i++) {
            const af_report_python *p = &f->pythons[i];
            if (p->reproduced != (pass == 0))
                continue;
            const char *name = p->version ? p->version : p->python ? p->python : "?";
            const char *sep = k ? ", " : pass && n ? "; not " : pass ? "not " : "";
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", sep, name);
            k++;
        }
    }
}

double af_report_run_seconds(const af_report_run *u)
{
    if (isfinite(u->seconds))
        return u->seconds;
    if (u->nrows > 0 && isfinite(u->rows[u->nrows - 1].t))
        return u->rows[u->nrows - 1].t;
    return 0;
}

const char *const af_report_run_columns[AF_REPORT_RUN_COLUMNS] = {
    "run",      "start",  "command", "seconds", "execs", "execs/s",
    "features", "corpus", "new",     "known",   "exit",
};

void af_report_run_cells(const af_report_run *u, char cells[AF_REPORT_RUN_COLUMNS][96])
{
    snprintf(cells[0], sizeof cells[0], "%s", u->run ? u->run : "?");
    snprintf(cells[1], sizeof cells[1], "%s", u->start ? u->start : "?");
    bool engine = u->engine && (!u->command || strcmp(u->engine, u->command) != 0);
    snprintf(cells[2], sizeof cells[2], "%s%s%s%s", u->command ? u->command : "-",
             engine ? " (" : "", engine ? u->engine : "", engine ? ")" : "");
    const double v[] = {u->seconds, u->execs, u->execs_per_second, u->features, u->corpus};
    for (int i = 0; i < 5; i++)
        snprintf(cells[3 + i], sizeof cells[0], isfinite(v[i]) ? "%.*f" : "-",
                 i == 0 || i == 2 ? 1 : 0, v[i]);
    snprintf(cells[8], sizeof cells[0], "%d", u->nnew);
    snprintf(cells[9], sizeof cells[0], "%d", u->nknown);
    if (u->exit >= 0)
        snprintf(cells[10], sizeof cells[0], "%d", u->exit);
    else
        snprintf(cells[10], sizeof cells[0], "%s", u->end ? "-" : "killed");
}
