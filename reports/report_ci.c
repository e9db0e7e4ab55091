/* report_ci.c - the report for machines (report.h): JSON (the whole
 * model) and JUnit XML (one test case per signature: a new one fails, a
 * known one passes and names its issue), for CI. Writes the model; reads
 * nothing.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/junit.h"
#include "reports/report.h"

/* ---- JSON ---- */

static void add_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *strings(char **list, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
    return a;
}

static cJSON *finding_json(const af_report *r, const af_report_finding *f)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "signature", f->sig);
    add_str(o, "text", f->text);
    add_str(o, "oracle", f->oracle);
    add_str(o, "status", af_report_status(f));
    cJSON_AddBoolToObject(o, "labelled", f->labelled);
    add_str(o, "issue", f->issue);
    add_str(o, "fixed_in", f->fixed_in);
    add_str(o, "description", f->description);
    add_str(o, "baseline", f->list);
    cJSON_AddNumberToObject(o, "count", (double)f->count);
    add_str(o, "first_seen", f->first_seen);
    cJSON_AddBoolToObject(o, "new_since_last_run", f->new_since_last_run);
    add_str(o, "engine", f->engine);
    add_str(o, "origin", f->origin);
    add_str(o, "target", f->target);
    add_str(o, "evidence", f->evidence);
    add_str(o, "cause", f->cause);
    add_str(o, "cause_why", f->cause_why);
    add_str(o, "path", f->path);
    add_str(o, "task", f->task_name);
    add_num(o, "vtime", f->vtime >= 0 ? (double)f->vtime : NAN);
    add_str(o, "folder", af_report_rel(r, f->dir));
    cJSON *py = cJSON_AddArrayToObject(o, "reproduces_on");
    for (int i = 0; i < f->npythons; i++) {
        cJSON *p = cJSON_CreateObject();
        add_str(p, "python", f->pythons[i].python);
        add_str(p, "version", f->pythons[i].version);
        cJSON_AddBoolToObject(p, "reproduced", f->pythons[i].reproduced);
        add_num(p, "exit", f->pythons[i].exit >= 0 ? f->pythons[i].exit : NAN);
        cJSON_AddItemToArray(py, p);
    }
    return o;
}

static cJSON *run_json(const af_report_run *u)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "run", u->run);
    add_str(o, "start", u->start);
    add_str(o, "end", u->end);
    add_str(o, "command", u->command);
    add_str(o, "engine", u->engine);
    add_str(o, "machine", u->machine);
    add_num(o, "seconds", u->seconds);
    add_num(o, "execs", u->execs);
    add_num(o, "execs_per_second", u->execs_per_second);
    add_num(o, "features", u->features);
    add_num(o, "corpus", u->corpus);
    add_num(o, "exit", u->exit >= 0 ? u->exit : NAN);
    cJSON *s = cJSON_AddObjectToObject(o, "signatures");
    cJSON_AddItemToObject(s, "new", strings(u->new_sigs, u->nnew));
    cJSON_AddItemToObject(s, "known", strings(u->known_sigs, u->nknown));
    add_str(o, "stats", u->stats);
    cJSON_AddNumberToObject(o, "plot_rows", u->nrows);
    return o;
}

int af_report_write_json(const af_report *r, FILE *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "asyncfuzz_report", 1);
    add_str(o, "campaign", r->dir);
    add_str(o, "created", r->created);
    add_str(o, "settings", r->settings);
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    cJSON_AddNumberToObject(sum, "new", r->nnew);
    cJSON_AddNumberToObject(sum, "known", r->nfindings - r->nnew);
    cJSON_AddNumberToObject(sum, "runs", r->nruns);
    cJSON_AddItemToObject(o, "missing", strings(r->missing, r->nmissing));
    cJSON *fs = cJSON_AddArrayToObject(o, "findings");
    for (int i = 0; i < r->nfindings; i++)
        cJSON_AddItemToArray(fs, finding_json(r, &r->findings[i]));
    cJSON *rs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < r->nruns; i++)
        cJSON_AddItemToArray(rs, run_json(&r->runs[i]));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return -1;
    fputs(text, out);
    fputs("\n", out);
    free(text);
    return ferror(out) ? -1 : 0;
}

/* ---- JUnit ---- */

typedef struct case_text {
    char name[600], message[700], detail[2048], out[1024];
} case_text;

static void describe(const af_report *r, const af_report_finding *f, case_text *t, af_junit_case *c)
{
    snprintf(t->name, sizeof t->name, "%s %s", f->sig, f->text ? f->text : "");
    c->name = t->name;
    c->classname = "asyncfuzz.report";
    char on[512];
    af_report_reproduces_on(f, on, sizeof on);
    if (f->known) {
        c->status = AF_JUNIT_PASS;
        snprintf(t->out, sizeof t->out, "known: %s%s%s%s%s; %llu hit(s)%s%s",
                 f->issue ? f->issue : "no upstream issue", f->fixed_in ? ", fixed in " : "",
                 f->fixed_in ? f->fixed_in : "", f->description ? ": " : "",
                 f->description ? f->description : "", (unsigned long long)f->count,
                 *on ? "; reproduces on " : "", on);
        c->system_out = t->out;
        return;
    }
    c->status = AF_JUNIT_FAIL;
    snprintf(t->message, sizeof t->message, "new finding %s: %s", f->oracle ? f->oracle : "?",
             f->text ? f->text : f->sig);
    snprintf(t->detail, sizeof t->detail,
             "%s\ncause: %s%s%s\nwhere: %s in task %s at vtime %lld\n%llu hit(s), first seen "
             "%s%s%s\nfolder: %s (python3.11 repro.py reproduces it)%s%s\n",
             f->evidence ? f->evidence : "", f->cause ? f->cause : "?", f->cause_why ? ": " : "",
             f->cause_why ? f->cause_why : "", f->path ? f->path : "?",
             f->task_name ? f->task_name : "?", (long long)f->vtime, (unsigned long long)f->count,
             f->first_seen ? f->first_seen : "?",
             f->new_since_last_run ? ", new since the last run" : "",
             f->labelled ? "" : " (no baseline label)", af_report_rel(r, f->dir),
             *on ? "\nreproduces on: " : "", on);
    c->message = t->message;
    c->detail = t->detail;
}

int af_report_write_junit(const af_report *r, FILE *out)
{
    int n = r->nfindings;
    af_junit_case *cases = calloc((size_t)n + 1, sizeof *cases);
    case_text *text = calloc((size_t)n + 1, sizeof *text);
    if (!cases || !text) {
        free(cases);
        free(text);
        return -1;
    }
    for (int i = 0; i < n; i++)
        describe(r, &r->findings[i], &text[i], &cases[i]);
    int rc = af_junit_fwrite(out, "asyncfuzz report", cases, n, 0.0);
    free(cases);
    free(text);
    return rc;
}
