/* cli_run.c - the commands that run scenario files: run, replay, repro
 * (gen: cli_gen.c).
 *
 * Each command takes its options from the table (cli.h: af_cli_options),
 * does its work in a supervised child (cli.h: af_cli_supervise) that runs
 * scenarios through one runner (one embedded interpreter per process),
 * prints results on stdout, prints each error once on stderr, and returns
 * the exit code of cli.h. A child's death is an error naming the file
 * (run, repro); replay counts that file as failed and goes on in a new
 * child, the results of every child in shared memory, from which the
 * parent writes the summary line and the JUnit file.
 *
 * Expected verdicts: a scenario file lists the oracles a run must report
 * ("expect"); an entry restricted to Python versions ("python": ["3.11"])
 * only applies when the running interpreter is one of them. A run passes
 * when the set of oracles it reports equals the set of applicable expected
 * oracles: a verdict of an oracle not expected is "unexpected", an expected
 * oracle without a verdict is "missing".
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "harness/cli/cli.h"
#include "harness/cli/cli_campaign.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "reports/junit.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"

/* ---- shared helpers ---------------------------------------------------- */

/* A command's options, as the parent parsed them: what its child works
 * from. */
typedef struct job {
    af_options o;
    af_runner_options run;
    void *shared; /* the memory the children and the parent share (replay) */
} job;

static void job_from(job *j, const af_options *o)
{
    memset(j, 0, sizeof *j);
    j->o = *o;
    af_options_to_runner(o, &j->run);
}

/* The work of a command that needs nothing but its options, supervised. */
static int supervised(af_command_id cmd, const af_options *o,
                      int (*work)(af_sup_slot *slot, void *ctx))
{
    job j;
    job_from(&j, o);
    af_cli_supervised x = {.cmd = cmd, .hang_seconds = o->hang_timeout, .work = work, .ctx = &j};
    return af_cli_supervise(&x);
}

/* "running FILE" (the words of a step: supervise.h). */
static void running_what(const char *file, char *buf, size_t cap)
{
    if (strcmp(file, "-") == 0)
        snprintf(buf, cap, "running the scenario from standard input");
    else
        snprintf(buf, cap, "running %s", file);
}

static void pyversion_str(int v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d.%d", v / 100, v % 100);
}

/* ---- expectations ------------------------------------------------------- */

typedef struct cmp_result {
    bool expected[AF_ORACLE_COUNT];
    bool found[AF_ORACLE_COUNT];
    int nunexpected, nmissing;
} cmp_result;

/* An entry applies to the running interpreter and target (its NAME):
 * restricted to versions (minor versions or ranges of their patch
 * releases), the running one is listed; naming a target, it is this one. */
static bool expect_applies(const af_expect *e, int pyversion, const char *target)
{
    if (e->target[0] && strcmp(e->target, target) != 0)
        return false;
    if (e->npyversions == 0)
        return true;
    for (int i = 0; i < e->npyversions; i++)
        if (af_pyversion_holds(&e->pyversions[i], pyversion, af_embed_pypatch()))
            return true;
    return false;
}

/* differential: whether the run had a reference (without one the
 * differential oracle cannot judge, and its expectations do not apply). */
static void compare(const af_scenario *s, const af_verdict_list *v, int pyversion,
                    const char *target, bool differential, cmp_result *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < s->nexpect; i++) {
        int o = af_oracle_from_name(s->expect[i].oracle);
        if (o == AF_ORACLE_DIFFERENTIAL && !differential)
            continue;
        if (o >= 0 && expect_applies(&s->expect[i], pyversion, target))
            c->expected[o] = true;
    }
    for (int i = 0; i < v->count; i++)
        c->found[v->items[i].oracle] = true;
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        c->nunexpected += c->found[o] && !c->expected[o];
        c->nmissing += c->expected[o] && !c->found[o];
    }
}

/* "unexpected X (task t1 at main/0:spawn); missing Y" into buf. */
static void describe_difference(const cmp_result *c, const af_verdict_list *v, char *buf,
                                size_t cap)
{
    size_t pos = 0;
    buf[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (pos < cap)                                                                             \
            pos += (size_t)snprintf(buf + pos, cap - pos, __VA_ARGS__);                            \
    } while (0)
    bool first = true;
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        if (!c->found[o] || c->expected[o])
            continue;
        const af_verdict *ex = NULL;
        for (int i = 0; i < v->count && !ex; i++)
            if ((int)v->items[i].oracle == o)
                ex = &v->items[i];
        APPEND("%sunexpected %s", first ? "" : "; ", af_oracle_name((af_oracle)o));
        if (ex)
            APPEND(" (task %s%s%s: %s)", ex->task_name[0] ? ex->task_name : "-",
                   ex->path[0] ? " at " : "", ex->path, ex->evidence);
        first = false;
    }
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        if (c->found[o] || !c->expected[o])
            continue;
        APPEND("%smissing %s", first ? "" : "; ", af_oracle_name((af_oracle)o));
        first = false;
    }
#undef APPEND
    if (pos >= cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
}

/* ---- the loop a run ran on, and reruns -------------------------------------- */

static void json_str(FILE *out, const char *s);

/* The trace's `loop` event (its first, when the target brings its own
 * loop: harness/py/loops.py), or NULL: the harness's VirtualLoop. */
static const af_event *loop_event(const af_trace *tr)
{
    return tr->nevents > 0 && tr->events[0].kind == AF_EV_LOOP ? &tr->events[0] : NULL;
}

static bool on_real_time(const af_trace *tr)
{
    const af_event *e = loop_event(tr);
    return e && e->name && strcmp(e->name, "realtime") == 0;
}

/* "loop: ...\n" into buf: which mode produced the results (every result
 * says so). */
static void format_loop_line(char *buf, size_t cap, const af_trace *tr)
{
    const af_event *e = loop_event(tr);
    if (!e)
        snprintf(buf, cap,
                 "loop: virtual (the harness's VirtualLoop): virtual time, "
                 "deterministic\n");
    else if (on_real_time(tr))
        snprintf(buf, cap,
                 "loop: realtime (%s%s), %" PRId64 " ms per tick: real time, NOT deterministic "
                 "(reruns say how often a verdict comes back)\n",
                 e->msg ? e->msg : "?", e->flag_a ? ", re-entrant" : "", e->ticks);
    else
        snprintf(buf, cap, "loop: %s (%s%s): virtual time, deterministic\n",
                 e->name ? e->name : "?", e->msg ? e->msg : "?", e->flag_a ? ", re-entrant" : "");
}

static void print_loop_line(FILE *out, const af_trace *tr)
{
    char line[512];
    format_loop_line(line, sizeof line, tr);
    fputs(line, out);
}

/* `"loop":{...}` for --json output. */
static void json_loop(FILE *out, const af_trace *tr)
{
    const af_event *e = loop_event(tr);
    fprintf(out, "\"loop\":{\"mode\":\"%s\",\"class\":", e && e->name ? e->name : "virtual");
    json_str(out, e && e->msg ? e->msg : "vloop.VirtualLoop");
    fprintf(out, ",\"reentrant\":%s,\"tick_ms\":%" PRId64 ",\"deterministic\":%s}",
            e && e->flag_a ? "true" : "false", e ? e->ticks : 0,
            on_real_time(tr) ? "false" : "true");
}

/* How often each oracle came back when a scenario was rerun. */
typedef struct rerun_counts {
    int runs, same, errors;
    int found[AF_ORACLE_COUNT];
} rerun_counts;

/* The reruns --reruns asks for: its value, else 10 on real time (the
 * trace of the first run says), else none. */
static int reruns_wanted(const af_options *o, const af_trace *tr)
{
    if (o->reruns > 0)
        return (int)o->reruns;
    return on_real_time(tr) ? 10 : 0;
}

/* Rerun s n times (tr and v are reused: the first run's are gone after)
 * and count, per oracle, the reruns that gave it, and the reruns that gave
 * exactly the first run's oracles (first). */
static void rerun(af_sup_slot *slot, af_runner *r, const af_scenario *s, uint64_t step,
                  const char *what, int n, const bool first[AF_ORACLE_COUNT], af_trace *tr,
                  af_verdict_list *v, rerun_counts *rc)
{
    memset(rc, 0, sizeof *rc);
    for (int i = 0; i < n; i++) {
        af_error err;
        memset(&err, 0, sizeof err);
        if (af_cli_judge(slot, r, s, step, what, NULL, 0, tr, v, &err) < 0) {
            rc->errors++;
            continue;
        }
        bool got[AF_ORACLE_COUNT] = {0};
        for (int k = 0; k < v->count; k++)
            got[v->items[k].oracle] = true;
        bool same = true;
        for (int o = 0; o < AF_ORACLE_COUNT; o++) {
            rc->found[o] += got[o];
            same = same && got[o] == first[o];
        }
        rc->runs++;
        rc->same += same;
    }
}

/* "reruns: 10, same verdicts 7/10; loop.order 7/10, loop.handle 10/10" */
static void print_reruns(FILE *out, const rerun_counts *rc, const bool first[AF_ORACLE_COUNT])
{
    fprintf(out, "reruns: %d, same oracles as the first run %d/%d", rc->runs, rc->same, rc->runs);
    if (rc->errors)
        fprintf(out, ", %d harness errors", rc->errors);
    const char *sep = "; ";
    for (int o = 0; o < AF_ORACLE_COUNT; o++)
        if (first[o] || rc->found[o]) {
            fprintf(out, "%s%s %d/%d", sep, af_oracle_name((af_oracle)o), rc->found[o], rc->runs);
            sep = ", ";
        }
    fputc('\n', out);
}

static void json_reruns(FILE *out, const rerun_counts *rc)
{
    fprintf(out, "\"reruns\":{\"runs\":%d,\"same\":%d,\"errors\":%d,\"found\":{", rc->runs,
            rc->same, rc->errors);
    const char *sep = "";
    for (int o = 0; o < AF_ORACLE_COUNT; o++)
        if (rc->found[o]) {
            fprintf(out, "%s\"%s\":%d", sep, af_oracle_name((af_oracle)o), rc->found[o]);
            sep = ",";
        }
    fputs("}}", out);
}

static void print_oracle_set(FILE *out, const bool set[AF_ORACLE_COUNT])
{
    bool any = false;
    for (int o = 0; o < AF_ORACLE_COUNT; o++)
        if (set[o]) {
            fprintf(out, "%s%s", any ? ", " : "", af_oracle_name((af_oracle)o));
            any = true;
        }
    if (!any)
        fputs("(none)", out);
}

static void json_str(FILE *out, const char *s)
{
    char buf[2048];
    size_t pos = 0;
    af_json_put_string(buf, sizeof buf, &pos, s, strlen(s));
    if (pos < sizeof buf) {
        fwrite(buf, 1, pos, out); /* af_json_put_string does not terminate */
        return;
    }
    char *big = malloc(pos + 1);
    if (!big) {
        fputs("\"\"", out);
        return;
    }
    size_t p2 = 0;
    af_json_put_string(big, pos + 1, &p2, s, strlen(s));
    fwrite(big, 1, p2, out);
    free(big);
}

static void json_oracle_array(FILE *out, const cmp_result *c, int which)
{
    /* which: 0 expected, 1 unexpected, 2 missing */
    bool first = true;
    fputc('[', out);
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        bool in = which == 0   ? c->expected[o]
                  : which == 1 ? (c->found[o] && !c->expected[o])
                               : (c->expected[o] && !c->found[o]);
        if (!in)
            continue;
        fprintf(out, "%s\"%s\"", first ? "" : ",", af_oracle_name((af_oracle)o));
        first = false;
    }
    fputc(']', out);
}

static void json_verdicts(FILE *out, const af_verdict_list *v)
{
    char buf[4096];
    fputc('[', out);
    for (int i = 0; i < v->count; i++) {
        size_t n = af_verdict_write_json(&v->items[i], buf, sizeof buf);
        if (n >= sizeof buf) {
            char *big = malloc(n + 1);
            if (big) {
                af_verdict_write_json(&v->items[i], big, n + 1);
                fprintf(out, "%s%s", i ? "," : "", big);
                free(big);
            }
        } else {
            fprintf(out, "%s%s", i ? "," : "", buf);
        }
    }
    fputc(']', out);
}

/* ---- one scenario on its target (and the reference) ---------------------- */

/* The target a scenario file runs on: --target when given, else the one a
 * finding folder holding it recorded (meta.json), else stock asyncio. */
static const char *file_target(af_command_id cmd, const char *file, const af_runner_options *o,
                               char *buf, size_t cap)
{
    if (o->target[0])
        return o->target;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!af_findings_recorded_target(dir, buf, cap))
        return "";
    fprintf(stderr, "asyncfuzz %s: %s: on the target its finding recorded, %s\n",
            af_command(cmd)->name, file, buf);
    return buf;
}

/* What running one scenario needs besides its trace and verdicts: the
 * reference's run, when --reference is given. */
typedef struct differential {
    const char *reference; /* NULL: none */
    af_trace tr;
    af_verdict_list v;
} differential;

static int differential_init(differential *d, const char *reference)
{
    d->reference = reference;
    return reference ? af_trace_init(&d->tr, 0, 0) : 0;
}

static void differential_free(differential *d)
{
    if (d->reference)
        af_trace_free(&d->tr);
}

enum { RAN = 0, SKIPPED = 1, FAILED = -1 };

/* Run s (read from file) on its target (file_target) and, with a
 * reference, on it too (the differential oracle's verdicts join v), as
 * step `step` of slot. SKIPPED (why set) when the target does not support
 * what s uses; FAILED with err set (*runner the runner, or NULL when none
 * could be made: the error is printed then). */
static int run_on_target(af_command_id cmd, af_sup_slot *slot, uint64_t step, const char *file,
                         const af_scenario *s, const af_runner_options *opts, differential *d,
                         af_trace *tr, af_verdict_list *v, af_runner **runner, char *why,
                         size_t cap, af_error *err)
{
    char recorded[PATH_MAX];
    const char *target = file_target(cmd, file, opts, recorded, sizeof recorded);
    af_runner *r = af_cli_runner_for(cmd, slot, opts, target, err);
    af_runner *ref =
        r && d->reference ? af_cli_runner_for(cmd, slot, opts, d->reference, err) : NULL;
    *runner = r;
    af_verdict_list_init(v);
    if (!r || (d->reference && !ref)) {
        *runner = NULL;
        return FAILED;
    }
    if (!af_target_supports(af_runner_target(r), s, why, cap))
        return SKIPPED;
    char what[PATH_MAX + 64];
    running_what(file, what, sizeof what);
    int rc = ref ? af_cli_judge_differential(slot, r, ref, s, step, what, NULL, 0, tr, v, &d->tr,
                                             &d->v, err)
                 : af_cli_judge(slot, r, s, step, what, NULL, 0, tr, v, err);
    return rc < 0 ? FAILED : RAN;
}

/* ---- run ------------------------------------------------------------------ */

static const af_cli_help run_help = {
    .usage = "run [OPTIONS] FILE|-",
    .args = "scenario file",
    .min_args = 1,
    .max_args = 1,
    .above = "Run one scenario file ('-': standard input) in the embedded interpreter\n"
             "and print the verdicts of the oracles, then whether they match the\n"
             "file's \"expect\" list (entries restricted with \"python\" apply only when\n"
             "the running interpreter is listed: `asyncfuzz --version` names it).\n",
    .below = "exit: 0 verdicts as expected, 1 a verdict unexpected or an expected one\n"
             "missing, 2 usage error, unreadable scenario or harness failure\n",
};

static void print_verdicts_human(FILE *out, const af_verdict_list *v)
{
    if (v->count == 0) {
        fputs("  (no verdicts)\n", out);
        return;
    }
    for (int i = 0; i < v->count; i++) {
        const af_verdict *x = &v->items[i];
        fprintf(out, "  %-22s task %s%s%s, t=%" PRId64 ": %s\n", af_oracle_name(x->oracle),
                x->task_name[0] ? x->task_name : "-", x->path[0] ? " at " : "", x->path, x->vtime,
                x->evidence);
    }
    if (v->dropped)
        fprintf(out, "  (%d more verdicts not kept)\n", v->dropped);
}

/* run's work, in the supervised child. */
static int run_work(af_sup_slot *slot, void *ctx)
{
    const job *j = ctx;
    bool want_trace = j->o.trace, want_json = j->o.json;
    const char *file = j->o.args[0];

    af_scenario *s = malloc(sizeof *s);
    af_trace tr;
    af_verdict_list *v = malloc(sizeof *v);
    differential d;
    af_error err;
    memset(&err, 0, sizeof err);
    int code = AF_EXIT_USAGE;
    if (!s || !v || af_trace_init(&tr, 0, 0) < 0) {
        fprintf(stderr, "asyncfuzz run: out of memory\n");
        free(s);
        free(v);
        return AF_EXIT_USAGE;
    }
    if (differential_init(&d, j->o.reference) < 0) {
        fprintf(stderr, "asyncfuzz run: out of memory\n");
        af_trace_free(&tr);
        free(s);
        free(v);
        return AF_EXIT_USAGE;
    }
    if (af_json_read_file(file, s, &err) < 0) {
        af_cli_print_error(AF_CMD_run, file, &err);
        goto done;
    }
    af_runner *r = NULL;
    char why[160];
    int ran =
        run_on_target(AF_CMD_run, slot, 0, file, s, &j->run, &d, &tr, v, &r, why, sizeof why, &err);
    if (ran == FAILED) {
        if (r)
            af_cli_print_error(AF_CMD_run, NULL, &err);
        goto done;
    }
    const af_target_info *target = af_runner_target(r);
    if (ran == SKIPPED) {
        if (want_json) {
            fputs("{\"file\":", stdout);
            json_str(stdout, file);
            fputs(",\"target\":", stdout);
            json_str(stdout, target->name);
            fputs(",\"skipped\":", stdout);
            json_str(stdout, why);
            fputs("}\n", stdout);
        } else {
            printf("%s: skipped: %s\n", file, why);
        }
        code = AF_EXIT_OK;
        goto done;
    }
    int pyv = af_embed_pyversion();
    cmp_result c;
    compare(s, v, pyv, target->name, d.reference != NULL, &c);
    bool ok = c.nunexpected == 0 && c.nmissing == 0;
    char pys[16];
    pyversion_str(pyv, pys, sizeof pys);
    /* A run with verdicts is rerun (real time by default) after the first
     * run's output is printed: tr and v are reused. */
    bool loop_own = loop_event(&tr) != NULL;
    int nreruns = v->count > 0 && !want_trace ? reruns_wanted(&j->o, &tr) : 0;
    char what[PATH_MAX + 64];
    running_what(file, what, sizeof what);
    if (want_trace) {
        if (af_trace_fwrite_jsonl(&tr, stdout) < 0) {
            fprintf(stderr, "asyncfuzz run: writing the trace failed\n");
            goto done;
        }
        if (tr.overflow)
            fprintf(stderr, "asyncfuzz run: the trace overflowed: events were dropped\n");
    } else if (want_json) {
        fputs("{\"file\":", stdout);
        json_str(stdout, file);
        if (!target->stock || d.reference) {
            fputs(",\"target\":", stdout);
            json_str(stdout, target->version);
        }
        fprintf(stdout, ",\"python\":\"%s\",\"ok\":%s,\"expected\":", pys, ok ? "true" : "false");
        json_oracle_array(stdout, &c, 0);
        fputs(",\"unexpected\":", stdout);
        json_oracle_array(stdout, &c, 1);
        fputs(",\"missing\":", stdout);
        json_oracle_array(stdout, &c, 2);
        fputs(",\"verdicts\":", stdout);
        json_verdicts(stdout, v);
        if (loop_own) { /* absent: the harness's VirtualLoop */
            fputc(',', stdout);
            json_loop(stdout, &tr);
        }
        if (nreruns > 0) {
            rerun_counts rc;
            rerun(slot, r, s, 0, what, nreruns, c.found, &tr, v, &rc);
            fputc(',', stdout);
            json_reruns(stdout, &rc);
        }
        fputs("}\n", stdout);
    } else {
        printf("%s: %s\n", file, s->description[0] ? s->description : "(no description)");
        if (!target->stock || d.reference)
            printf("target: %s%s%s\n", target->version, d.reference ? ", reference: " : "",
                   d.reference ? d.reference : "");
        print_loop_line(stdout, &tr);
        printf("verdicts:\n");
        print_verdicts_human(stdout, v);
        printf("expected on Python %s: ", pys);
        print_oracle_set(stdout, c.expected);
        if (ok) {
            printf("\nok: verdicts as expected\n");
        } else {
            char diff[2048];
            describe_difference(&c, v, diff, sizeof diff);
            printf("\nFAIL: %s\n", diff);
        }
        if (nreruns > 0) {
            rerun_counts rc;
            rerun(slot, r, s, 0, what, nreruns, c.found, &tr, v, &rc);
            print_reruns(stdout, &rc, c.found);
        }
    }
    code = ok ? AF_EXIT_OK : AF_EXIT_FINDING;
done:
    differential_free(&d);
    af_trace_free(&tr);
    free(v);
    free(s);
    return code;
}

int af_cmd_run(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_run, &run_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (o.trace && o.json)
        return af_cli_usage_error(AF_CMD_run, "--trace and --json both write stdout: choose one");
    return supervised(AF_CMD_run, &o, run_work);
}

/* ---- replay -------------------------------------------------------------- */

static const af_cli_help replay_help = {
    .usage = "replay [OPTIONS] DIR|FILE...",
    .args = "scenario files",
    .min_args = 1,
    .max_args = -1,
    .above = "Run every scenario (each FILE; for a DIR, every *.json in it, sorted by name,\n"
             "not recursive) and compare its verdicts with its \"expect\" list (entries\n"
             "restricted with \"python\" apply only when the running interpreter is listed:\n"
             "`asyncfuzz --version` names it). Prints one line per scenario that differs\n"
             "(FILE: unexpected ORACLE (where: evidence); missing ORACLE), one per scenario\n"
             "that cannot be read or run, then the summary line 'N passed, N failed'.\n",
    .below = "exit: 0 every scenario as expected, 1 some scenario differs, 2 usage error,\n"
             "unreadable scenario or harness failure (these count as failed too)\n",
};

typedef struct strlist {
    char **items;
    int n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n] = strdup(s);
    if (!l->items[l->n])
        return -1;
    l->n++;
    return 0;
}

static void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add DIR/ *.json (sorted) to l. Returns 0, or -1 (message printed). */
static int list_json_dir(const char *dir, strlist *l)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "asyncfuzz replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int first = l->n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                 e->d_name);
        if (strlist_add(l, path) < 0) {
            closedir(d);
            fprintf(stderr, "asyncfuzz replay: out of memory\n");
            return -1;
        }
    }
    closedir(d);
    if (l->n > first)
        qsort(l->items + first, (size_t)(l->n - first), sizeof *l->items, cmp_str);
    return 0;
}

/* What replay's children and the parent share: each file's result, its
 * texts in an arena, and the file the next child starts with. */
typedef struct replay_case {
    int status; /* af_junit_status; -1 not run */
    double seconds;
    int64_t message, detail; /* offsets in the arena, -1 none */
} replay_case;

typedef struct replay_shared {
    int next;       /* the first file the next child runs */
    bool loop_said; /* the `loop:` line is printed (by the first child to run a file) */
    size_t arena_used;
    replay_case cases[]; /* then the arena */
} replay_shared;

#define REPLAY_ARENA (64u << 20) /* reserved, used as texts come */

typedef struct replay_job {
    job j;
    strlist files;
    size_t arena_off; /* of the arena in the shared memory */
} replay_job;

static char *replay_arena(const replay_job *rj, replay_shared *sh)
{
    return (char *)sh + rj->arena_off;
}

/* Keep text in the arena: its offset, -1 when NULL or the arena is full. */
static int64_t replay_keep(const replay_job *rj, replay_shared *sh, const char *text)
{
    if (!text)
        return -1;
    size_t n = strlen(text) + 1;
    if (sh->arena_used + n > REPLAY_ARENA)
        return -1;
    int64_t at = (int64_t)sh->arena_used;
    memcpy(replay_arena(rj, sh) + at, text, n);
    sh->arena_used += n;
    return at;
}

static void replay_set(const replay_job *rj, replay_shared *sh, int i, int status, double seconds,
                       const char *message, const char *detail)
{
    replay_case *c = &sh->cases[i];
    c->status = status;
    c->seconds = seconds;
    c->message = replay_keep(rj, sh, message);
    c->detail = replay_keep(rj, sh, detail);
}

static void replay_init(void *shared, void *ctx)
{
    replay_job *rj = ctx;
    replay_shared *sh = shared;
    rj->j.shared = shared;
    for (int i = 0; i < rj->files.n; i++)
        sh->cases[i] = (replay_case){.status = -1, .message = -1, .detail = -1};
}

/* The files from sh->next on, in the supervised child; lines on stdout are
 * flushed one by one, so that a death does not take them. */
static int replay_work(af_sup_slot *slot, void *ctx)
{
    const replay_job *rj = ctx;
    replay_shared *sh = rj->j.shared;
    const strlist *files = &rj->files;
    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_trace tr;
    differential d;
    bool tr_ok = af_trace_init(&tr, 0, 0) == 0;
    bool d_ok = differential_init(&d, rj->j.o.reference) == 0;
    if (!s || !v || !tr_ok || !d_ok) {
        fprintf(stderr, "asyncfuzz replay: out of memory\n");
        free(s);
        free(v);
        if (tr_ok)
            af_trace_free(&tr);
        if (d_ok)
            differential_free(&d);
        return AF_EXIT_USAGE;
    }
    int pyv = af_embed_pyversion();
    for (int i = sh->next; i < files->n; i++) {
        const char *file = files->items[i];
        af_error err;
        memset(&err, 0, sizeof err);
        double t0 = af_clock_seconds();
        sh->next = i; /* a death between the runs: this file's */
        if (af_json_read_file(file, s, &err) < 0) {
            af_cli_print_error(AF_CMD_replay, file, &err);
            char msg[1024];
            af_error_format(&err, file, msg, sizeof msg);
            replay_set(rj, sh, i, AF_JUNIT_ERROR, 0, msg, NULL);
            continue;
        }
        af_runner *r = NULL;
        char why[160];
        int ran = run_on_target(AF_CMD_replay, slot, (uint64_t)i, file, s, &rj->j.run, &d, &tr, v,
                                &r, why, sizeof why, &err);
        if (ran == FAILED && !r) {
            /* The interpreter or the adapter cannot start: nothing else can run. */
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "the embedded interpreter or the target adapter failed to start: %s",
                     err.message);
            for (int k = i; k < files->n; k++)
                replay_set(rj, sh, k, AF_JUNIT_ERROR, 0, msg, NULL);
            break;
        }
        if (ran == SKIPPED) {
            printf("%s: skipped: %s\n", file, why);
            fflush(stdout);
            replay_set(rj, sh, i, AF_JUNIT_SKIPPED, 0, why, NULL);
            continue;
        }
        if (ran == FAILED) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: %s%s%s", file, err.path, err.path[0] ? ": " : "",
                     err.message);
            fprintf(stderr, "asyncfuzz replay: %s\n", msg);
            const char *tb = af_embed_last_traceback();
            if (tb[0])
                fputs(tb, stderr);
            replay_set(rj, sh, i, AF_JUNIT_ERROR, 0, msg, tb[0] ? tb : NULL);
            ((char *)tb)[0] = '\0';
            continue;
        }
        double secs = af_clock_seconds() - t0;
        if (!sh->loop_said && loop_event(&tr)) { /* the target's own loop: its mode, once */
            sh->loop_said = true;
            print_loop_line(stdout, &tr);
            fflush(stdout);
        }
        cmp_result c;
        compare(s, v, pyv, af_runner_target(r)->name, d.reference != NULL, &c);
        if (c.nunexpected == 0 && c.nmissing == 0) {
            replay_set(rj, sh, i, AF_JUNIT_PASS, secs, NULL, NULL);
            if (rj->j.o.verbose) {
                printf("%s: ok (", file);
                print_oracle_set(stdout, c.found);
                printf(")\n");
                fflush(stdout);
            }
        } else {
            char diff[2048];
            describe_difference(&c, v, diff, sizeof diff);
            printf("%s: %s\n", file, diff);
            int nreruns = reruns_wanted(&rj->j.o, &tr);
            if (nreruns > 0) {
                rerun_counts rc;
                bool first[AF_ORACLE_COUNT];
                memcpy(first, c.found, sizeof first);
                char what[PATH_MAX + 64];
                running_what(file, what, sizeof what);
                rerun(slot, r, s, (uint64_t)i, what, nreruns, first, &tr, v, &rc);
                printf("  ");
                print_reruns(stdout, &rc, first);
            }
            fflush(stdout);
            replay_set(rj, sh, i, AF_JUNIT_FAIL, secs, diff, NULL);
        }
    }
    sh->next = files->n;
    differential_free(&d);
    af_trace_free(&tr);
    free(v);
    free(s);
    return AF_EXIT_OK;
}

/* A child died: in the middle of a file's run, that file failed and the
 * next child goes on after it; while loading the target adapter, no file
 * can run. */
static int replay_death(const af_sup_death *d, const af_sup_slot *slot, void *shared, void *ctx)
{
    replay_job *rj = ctx;
    replay_shared *sh = shared;
    char text[2400];
    af_cli_death_text(d, slot, rj->j.o.hang_timeout, text, sizeof text);
    if (d->phase == AF_SUP_STARTING || d->phase == AF_SUP_LOADING) {
        fprintf(stderr, "asyncfuzz replay: %s\n", text);
        for (int k = sh->next; k < rj->files.n; k++)
            replay_set(rj, sh, k, AF_JUNIT_ERROR, 0, text, NULL);
        sh->next = rj->files.n;
        return AF_EXIT_USAGE;
    }
    int i = d->in_step ? (int)d->step : sh->next;
    if (i >= rj->files.n)
        return AF_EXIT_OK; /* after the last file: nothing lost */
    printf("%s: %s\n", rj->files.items[i], text);
    fflush(stdout);
    replay_set(rj, sh, i, AF_JUNIT_FAIL, d->how == AF_SUP_HUNG ? d->seconds : 0, text, NULL);
    sh->next = i + 1;
    return sh->next < rj->files.n ? AF_CLI_GO : AF_EXIT_OK;
}

int af_cmd_replay(int argc, char **argv)
{
    af_options o;
    int code = af_cli_options(AF_CMD_replay, &replay_help, argc, argv, &o);
    if (code != AF_CLI_GO)
        return code;
    replay_job rj;
    memset(&rj, 0, sizeof rj);
    job_from(&rj.j, &o);
    strlist *files = &rj.files;
    code = AF_EXIT_USAGE;
    for (int i = 0; i < o.nargs; i++) {
        struct stat st;
        if (stat(o.args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (list_json_dir(o.args[i], files) < 0)
                goto out;
        } else if (strlist_add(files, o.args[i]) < 0) {
            fprintf(stderr, "asyncfuzz replay: out of memory\n");
            goto out;
        }
    }
    if (files->n == 0) { /* only folders were given, and they hold no *.json */
        af_cli_usage_error(AF_CMD_replay, "no scenario files given (%s%s holds no *.json)",
                           o.args[0], o.nargs > 1 ? " ..." : "");
        goto out;
    }
    rj.arena_off = sizeof(replay_shared) + (size_t)files->n * sizeof(replay_case);
    double t_all = af_clock_seconds();
    af_cli_supervised x = {.cmd = AF_CMD_replay,
                           .hang_seconds = o.hang_timeout,
                           .work = replay_work,
                           .on_death = replay_death,
                           .shared_size = rj.arena_off + REPLAY_ARENA,
                           .init = replay_init,
                           .ctx = &rj};
    int rc = af_cli_supervise(&x);
    replay_shared *sh = x.shared;
    if (!sh)
        goto out;
    af_junit_case *cases = calloc((size_t)files->n, sizeof *cases);
    if (!cases) {
        fprintf(stderr, "asyncfuzz replay: out of memory\n");
        goto out;
    }
    int passed = 0, failed = 0, errors = 0, skipped = 0;
    for (int i = 0; i < files->n; i++) {
        const replay_case *c = &sh->cases[i];
        cases[i].name = files->items[i];
        cases[i].classname = "asyncfuzz.replay";
        cases[i].seconds = c->seconds;
        cases[i].status = c->status < 0 ? AF_JUNIT_ERROR : (af_junit_status)c->status;
        cases[i].message = c->message >= 0 ? replay_arena(&rj, sh) + c->message
                           : c->status < 0 ? "not run: the replay stopped before it"
                                           : NULL;
        cases[i].detail = c->detail >= 0 ? replay_arena(&rj, sh) + c->detail : NULL;
        passed += cases[i].status == AF_JUNIT_PASS;
        skipped += cases[i].status == AF_JUNIT_SKIPPED;
        failed += cases[i].status != AF_JUNIT_PASS && cases[i].status != AF_JUNIT_SKIPPED;
        errors += cases[i].status == AF_JUNIT_ERROR;
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    code = errors || rc == AF_EXIT_USAGE ? AF_EXIT_USAGE : failed ? AF_EXIT_FINDING : AF_EXIT_OK;
    if (o.junit) {
        af_error err;
        memset(&err, 0, sizeof err);
        if (af_junit_write(o.junit, "asyncfuzz.replay", cases, files->n, af_clock_seconds() - t_all,
                           &err) < 0) {
            af_cli_print_error(AF_CMD_replay, NULL, &err);
            code = AF_EXIT_USAGE;
        }
    }
    free(cases);
out:
    strlist_free(files);
    return code;
}

/* ---- repro ---------------------------------------------------------------- */

static const af_cli_help repro_help = {
    .usage = "repro [OPTIONS] FILE|-",
    .args = "scenario file",
    .min_args = 1,
    .max_args = 1,
    .above = "Run the scenario in the embedded interpreter, then print the standalone\n"
             "Python program of the scenario with one check for every verdict the run\n"
             "found. `python3.11 PROGRAM` runs it with plain asyncio, prints the\n"
             "interpreter, one `reproduced:` line per check that still holds, and ends\n"
             "with `verdict: REPRODUCED ...` (exit 1) while a verdict still occurs or\n"
             "`verdict: not reproduced ...` (exit 0) once the behaviour is gone.\n"
             "`python3.11 PROGRAM --trace` prints the trace as JSON lines, the same text\n"
             "as `asyncfuzz run --trace FILE`. With --pure-python-tasks here, run the\n"
             "program with --pure-python-tasks too.\n",
    .below = "exit: 0 program written, 2 usage error, unreadable scenario or harness failure\n",
};

/* repro's work, in the supervised child. */
static int repro_work(af_sup_slot *slot, void *ctx)
{
    const job *j = ctx;
    const char *file = j->o.args[0], *outpath = j->o.out_file;
    bool asserts = !j->o.no_asserts;

    int code = AF_EXIT_USAGE;
    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_trace tr;
    bool tr_ok = af_trace_init(&tr, 0, 0) == 0;
    char *text = NULL;
    af_error err;
    memset(&err, 0, sizeof err);
    if (!s || !v || !tr_ok) {
        fprintf(stderr, "asyncfuzz repro: out of memory\n");
        goto done;
    }
    if (af_json_read_file(file, s, &err) < 0) {
        af_cli_print_error(AF_CMD_repro, file, &err);
        goto done;
    }
    af_verdict_list_init(v);
    if (asserts) {
        af_runner *r = af_cli_runner(AF_CMD_repro, slot, &j->run, NULL);
        if (!r)
            goto done;
        char what[PATH_MAX + 64];
        running_what(file, what, sizeof what);
        if (af_cli_judge(slot, r, s, 0, what, NULL, 0, &tr, v, &err) < 0) {
            af_cli_print_error(AF_CMD_repro, NULL, &err);
            goto done;
        }
    }
    text = af_finding_repro(s, v, tr_ok ? &tr : NULL, j->run.target, &err);
    if (!text) {
        af_cli_print_error(AF_CMD_repro, NULL, &err);
        goto done;
    }
    if (outpath) {
        if (af_write_file_durable(outpath, text, strlen(text), &err) < 0) {
            af_cli_print_error(AF_CMD_repro, NULL, &err);
            goto done;
        }
    } else {
        fputs(text, stdout);
    }
    code = AF_EXIT_OK;
done:
    free(text);
    if (tr_ok)
        af_trace_free(&tr);
    free(v);
    free(s);
    return code;
}

int af_cmd_repro(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_repro, &repro_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    return supervised(AF_CMD_repro, &o, repro_work);
}
