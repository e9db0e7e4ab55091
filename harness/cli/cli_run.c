/* cli_run.c - the commands that run scenarios: run, replay, repro, gen.
 *
 * Each command takes its options from the table (cli.h: af_cli_options),
 * runs scenarios through one runner (one embedded interpreter per
 * process), prints results on stdout, prints each error once on stderr,
 * and returns the exit code of cli.h.
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

static void print_error(const char *cmd, const char *file, const af_error *err)
{
    char buf[1024];
    if (file) {
        af_error_format(err, file, buf, sizeof buf);
        fprintf(stderr, "asyncfuzz %s: %s\n", cmd, buf);
    } else if (err->path[0]) {
        fprintf(stderr, "asyncfuzz %s: %s: %s\n", cmd, err->path, err->message);
    } else {
        fprintf(stderr, "asyncfuzz %s: %s\n", cmd, err->message);
    }
    const char *tb = af_embed_last_traceback();
    if (tb && tb[0]) {
        fputs(tb, stderr);
        ((char *)tb)[0] = '\0'; /* printed once */
    }
}

/* Python's own buffered streams: flushed before the process exits (the
 * interpreter is never finalised). */
static void flush_python(void)
{
    if (!Py_IsInitialized())
        return;
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(i == 0 ? "stdout" : "stderr"); /* borrowed */
        if (f && f != Py_None) {
            PyObject *r = PyObject_CallMethod(f, "flush", NULL);
            Py_XDECREF(r);
        }
    }
    PyErr_Clear();
}

static int finish(int code)
{
    flush_python();
    fflush(stdout);
    fflush(stderr);
    return code;
}

static af_runner *g_runner;

/* The process's runner (created on first use). Prints the error. */
static af_runner *get_runner(const char *cmd, const af_runner_options *o)
{
    if (g_runner)
        return g_runner;
    af_error err;
    memset(&err, 0, sizeof err);
    g_runner = af_runner_new(o, &err);
    if (!g_runner)
        print_error(cmd, NULL, &err);
    return g_runner;
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

/* Whether e is expected on the embedded interpreter (its minor version
 * and patch release). */
static bool expect_applies(const af_expect *e, int pyversion)
{
    if (e->npyversions == 0)
        return true;
    for (int i = 0; i < e->npyversions; i++)
        if (af_pyversion_holds(&e->pyversions[i], pyversion, af_embed_pypatch()))
            return true;
    return false;
}

static void compare(const af_scenario *s, const af_verdict_list *v, int pyversion, cmp_result *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < s->nexpect; i++) {
        int o = af_oracle_from_name(s->expect[i].oracle);
        if (o >= 0 && expect_applies(&s->expect[i], pyversion))
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

int af_cmd_run(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_run, &run_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (o.trace && o.json)
        return af_cli_usage_error(AF_CMD_run, "--trace and --json both write stdout: choose one");
    af_runner_options opts;
    af_options_to_runner(&o, &opts);
    bool want_trace = o.trace, want_json = o.json;
    const char *file = o.args[0];

    af_scenario *s = malloc(sizeof *s);
    af_trace tr;
    af_verdict_list *v = malloc(sizeof *v);
    af_error err;
    memset(&err, 0, sizeof err);
    int code = AF_EXIT_USAGE;
    if (!s || !v || af_trace_init(&tr, 0, 0) < 0) {
        fprintf(stderr, "asyncfuzz run: out of memory\n");
        free(s);
        free(v);
        return AF_EXIT_USAGE;
    }
    if (af_json_read_file(file, s, &err) < 0) {
        print_error("run", file, &err);
        goto done;
    }
    af_runner *r = get_runner("run", &opts);
    if (!r)
        goto done;
    if (af_judge_run(r, s, &tr, v, &err) < 0) {
        print_error("run", NULL, &err);
        goto done;
    }
    int pyv = af_embed_pyversion();
    cmp_result c;
    compare(s, v, pyv, &c);
    bool ok = c.nunexpected == 0 && c.nmissing == 0;
    char pys[16];
    pyversion_str(pyv, pys, sizeof pys);
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
        fprintf(stdout, ",\"python\":\"%s\",\"ok\":%s,\"expected\":", pys, ok ? "true" : "false");
        json_oracle_array(stdout, &c, 0);
        fputs(",\"unexpected\":", stdout);
        json_oracle_array(stdout, &c, 1);
        fputs(",\"missing\":", stdout);
        json_oracle_array(stdout, &c, 2);
        fputs(",\"verdicts\":", stdout);
        json_verdicts(stdout, v);
        fputs("}\n", stdout);
    } else {
        printf("%s: %s\nverdicts:\n", file,
               s->description[0] ? s->description : "(no description)");
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
    }
    code = ok ? AF_EXIT_OK : AF_EXIT_FINDING;
done:
    af_trace_free(&tr);
    free(v);
    free(s);
    return finish(code);
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

int af_cmd_replay(int argc, char **argv)
{
    af_options o;
    int code = af_cli_options(AF_CMD_replay, &replay_help, argc, argv, &o);
    if (code != AF_CLI_GO)
        return code;
    af_runner_options opts;
    af_options_to_runner(&o, &opts);
    const char *junit = o.junit;
    bool verbose = o.verbose;
    strlist files = {0};
    code = AF_EXIT_USAGE;
    for (int i = 0; i < o.nargs; i++) {
        struct stat st;
        if (stat(o.args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (list_json_dir(o.args[i], &files) < 0)
                goto out;
        } else if (strlist_add(&files, o.args[i]) < 0) {
            fprintf(stderr, "asyncfuzz replay: out of memory\n");
            goto out;
        }
    }
    if (files.n == 0) {
        af_cli_usage_error(AF_CMD_replay, "no scenario files given (the folder holds no *.json)");
        goto out;
    }

    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_junit_case *cases = calloc((size_t)files.n, sizeof *cases);
    char **texts = calloc((size_t)files.n * 2, sizeof *texts); /* message, system-out per case */
    af_trace tr;
    bool tr_ok = af_trace_init(&tr, 0, 0) == 0;
    if (!s || !v || !cases || !texts || !tr_ok) {
        fprintf(stderr, "asyncfuzz replay: out of memory\n");
        free(s);
        free(v);
        free(cases);
        free(texts);
        if (tr_ok)
            af_trace_free(&tr);
        goto out;
    }
    int passed = 0, failed = 0, errors = 0;
    int pyv = af_embed_pyversion();
    af_runner *r = NULL;
    double t_all = af_clock_seconds();
    for (int i = 0; i < files.n; i++) {
        const char *file = files.items[i];
        af_error err;
        memset(&err, 0, sizeof err);
        cases[i].name = file;
        cases[i].classname = "asyncfuzz.replay";
        double t0 = af_clock_seconds();
        if (af_json_read_file(file, s, &err) < 0) {
            print_error("replay", file, &err);
            char msg[1024];
            af_error_format(&err, file, msg, sizeof msg);
            texts[2 * i] = strdup(msg);
            cases[i].status = AF_JUNIT_ERROR;
            cases[i].message = texts[2 * i];
            errors++;
            failed++;
            continue;
        }
        if (!r)
            r = get_runner("replay", &opts);
        if (!r) {
            /* The interpreter cannot start: nothing else can run. */
            errors += files.n - i;
            failed += files.n - i;
            for (int j = i; j < files.n; j++) {
                cases[j].name = files.items[j];
                cases[j].classname = "asyncfuzz.replay";
                cases[j].status = AF_JUNIT_ERROR;
                cases[j].message = "the embedded interpreter failed to start";
            }
            break;
        }
        if (af_judge_run(r, s, &tr, v, &err) < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: %s%s%s", file, err.path, err.path[0] ? ": " : "",
                     err.message);
            fprintf(stderr, "asyncfuzz replay: %s\n", msg);
            const char *tb = af_embed_last_traceback();
            if (tb[0])
                fputs(tb, stderr);
            texts[2 * i] = strdup(msg);
            cases[i].status = AF_JUNIT_ERROR;
            cases[i].message = texts[2 * i];
            cases[i].detail = tb[0] ? (texts[2 * i + 1] = strdup(tb)) : NULL;
            ((char *)tb)[0] = '\0';
            errors++;
            failed++;
            continue;
        }
        cases[i].seconds = af_clock_seconds() - t0;
        cmp_result c;
        compare(s, v, pyv, &c);
        if (c.nunexpected == 0 && c.nmissing == 0) {
            passed++;
            cases[i].status = AF_JUNIT_PASS;
            if (verbose) {
                printf("%s: ok (", file);
                print_oracle_set(stdout, c.found);
                printf(")\n");
            }
        } else {
            failed++;
            char diff[2048];
            describe_difference(&c, v, diff, sizeof diff);
            printf("%s: %s\n", file, diff);
            texts[2 * i] = strdup(diff);
            cases[i].status = AF_JUNIT_FAIL;
            cases[i].message = texts[2 * i];
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    code = errors ? AF_EXIT_USAGE : failed ? AF_EXIT_FINDING : AF_EXIT_OK;
    if (junit) {
        af_error err;
        memset(&err, 0, sizeof err);
        if (af_junit_write(junit, "asyncfuzz.replay", cases, files.n, af_clock_seconds() - t_all,
                           &err) < 0) {
            print_error("replay", NULL, &err);
            code = AF_EXIT_USAGE;
        }
    }
    for (int i = 0; i < files.n * 2; i++)
        free(texts[i]);
    free(texts);
    free(cases);
    af_trace_free(&tr);
    free(v);
    free(s);
out:
    strlist_free(&files);
    return finish(code);
}

/* ---- repro ---------------------------------------------------------------- */

static const af_cli_help repro_help = {
    .usage = "repro [OPTIONS] FILE|-",
    .args = "scenario file",
    .min_args = 1,
    .max_args = 1,
    .above = "Run the scenario in the embedded interpreter, then print the standalone\n"
             "Python program of the scenario with one assert for every verdict the run\n"
             "found. `python3.11 PROGRAM` runs it with plain asyncio and fails with an\n"
             "AssertionError (stating the violation) while a verdict still occurs: it\n"
             "passes once the behaviour is fixed. `python3.11 PROGRAM --trace` prints the\n"
             "trace as JSON lines, the same text as `asyncfuzz run --trace FILE`. With\n"
             "--pure-python-tasks here, run the program with --pure-python-tasks too.\n",
    .below = "exit: 0 program written, 2 usage error, unreadable scenario or harness failure\n",
};

int af_cmd_repro(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_repro, &repro_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    af_runner_options opts;
    af_options_to_runner(&o, &opts);
    const char *file = o.args[0], *outpath = o.out_file;
    bool asserts = !o.no_asserts;

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
        print_error("repro", file, &err);
        goto done;
    }
    af_verdict_list_init(v);
    if (asserts) {
        af_runner *r = get_runner("repro", &opts);
        if (!r)
            goto done;
        if (af_judge_run(r, s, &tr, v, &err) < 0) {
            print_error("repro", NULL, &err);
            goto done;
        }
    }
    text = af_finding_repro(s, v, tr_ok ? &tr : NULL, opts.target, &err);
    if (!text) {
        print_error("repro", NULL, &err);
        goto done;
    }
    if (outpath) {
        if (af_write_file_durable(outpath, text, strlen(text), &err) < 0) {
            print_error("repro", NULL, &err);
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
    return finish(code);
}

/* ---- gen ------------------------------------------------------------------ */

/* gen's longest byte string when --max-len is not given. */
#define GEN_DEFAULT_MAX_LEN 256

static const af_cli_help gen_help = {
    .usage = "gen --seed S --count N [OPTIONS]",
    .min_args = 0,
    .max_args = 0,
    .above = "Draw N random byte strings from a PRNG seeded with S, decode each into a\n"
             "scenario (the fuzzers' decoder: every byte string is a valid scenario), run\n"
             "it and judge it. Each verdict has a cause: target (asyncio broke a contract),\n"
             "misuse (a misuse operation explains it) or scenario (the scenario's own\n"
             "structure explains it: a task it never awaited, an Event it never set).\n"
             "Findings are the target verdicts, plus the misuse ones with --misuse;\n"
             "--all-verdicts makes every verdict a finding. A run stopped by a budget\n"
             "is judged the same way (hang, deadlock).\n"
             "Findings are deduplicated by verdict signature: the first run showing a\n"
             "signature is filed at once - before the next run starts - in the findings\n"
             "store OUT/findings/<signature>/ (scenario.json expecting every verdict of\n"
             "the run, repro.py, verdict.json, verdicts.json, trace.jsonl, input.bin,\n"
             "meta.json, count; the folder appears complete or not at all); later runs\n"
             "with the same signature are only counted. A store left by a killed gen is\n"
             "repaired at the next start. With the same build, the same S gives the same\n"
             "scenarios, runs and findings on every machine.\n",
    .below = "A progress line (runs, runs/s, findings) goes to stderr at most once a second;\n"
             "at the end, one line per distinct finding (count, oracle, signature, folder)\n"
             "and a total on stdout.\n"
             "A harness failure (an exception escaping the interpreter of scenarios, a\n"
             "malformed trace) stops the run; the scenario is kept as\n"
             "OUT/harness-error-seed<S>-run<I>.json.\n"
             "Ctrl-C (SIGINT) or SIGTERM ends the campaign after the current run, as\n"
             "--count would (the way to stop --count 0): counts, summary, exit code;\n"
             "a second one stops at once.\n"
             "exit: 0 no finding, 1 findings, 2 usage error or harness failure\n",
};

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The bytes of run i of seed S: independent of every other run, so one run
 * can be regenerated alone. */
static size_t gen_input(uint64_t seed, uint64_t run, size_t max_len, uint8_t *buf)
{
    uint64_t st = seed ^ (run * UINT64_C(0xD1B54A32D192ED03));
    splitmix64(&st);
    size_t len = (size_t)(splitmix64(&st) % (max_len + 1));
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = splitmix64(&st);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            buf[i + j] = (uint8_t)(x >> (8 * j));
    }
    return len;
}

/* The signal that asked gen to stop (SIGINT, SIGTERM), 0 while none did. */
static volatile sig_atomic_t gen_stop;

static void gen_on_signal(int sig)
{
    gen_stop = sig;
}

/* SIGINT and SIGTERM end the loop after the current run, and gen ends as
 * it would at --count (counts, summary, exit code); a second one stops
 * the process at once (SA_RESETHAND: the default action). Installed after
 * the interpreter's start-up, which resets SIGINT (harness/run/embed.c). */
static void gen_catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gen_on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    gen_stop = 0;
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

/* One line per signature this run met (its runs, oracle, signature,
 * folder, signature text), then the total line. */
static void gen_print_end(const af_findings_store *st, uint64_t runs, double secs,
                          uint64_t verdict_runs)
{
    size_t n = af_findings_known_count(st);
    for (size_t i = 0; i < n; i++) {
        const af_findings_known *k = af_findings_known_at(st, i);
        char dir[4200];
        af_findings_sig_dir(st, k->signature, dir, sizeof dir);
        printf("%8" PRIu64 "  %-22s %016" PRIx64 "  %s  %s\n", k->hits, k->oracle, k->signature,
               dir, k->text);
    }
    printf("gen: %" PRIu64 " runs in %.2f s (%.0f runs/s), %zu findings, %" PRIu64
           " runs with verdicts\n",
           runs, secs, secs > 0 ? (double)runs / secs : 0.0, n, verdict_runs);
}

/* How many signatures this run filed first. */
static uint64_t gen_new_signatures(const af_findings_store *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < af_findings_known_count(st); i++)
        n += af_findings_known_at(st, i)->first == AF_FINDINGS_NEW;
    return n;
}

int af_cmd_gen(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_gen, &gen_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (!o.text[AF_OPT_seed])
        return af_cli_usage_error(AF_CMD_gen,
                                  "--seed is required (the same seed gives the same runs)");
    if (!o.text[AF_OPT_count])
        return af_cli_usage_error(AF_CMD_gen, "--count is required (0 runs until interrupted)");
    af_runner_options opts;
    af_options_to_runner(&o, &opts);
    uint64_t seed = o.seed, count = o.count;
    bool misuse = o.misuse, quiet = o.quiet, all_verdicts = o.all_verdicts;
    const char *outdir = o.gen_out;
    int64_t max_len = o.max_len ? (int64_t)o.max_len : GEN_DEFAULT_MAX_LEN;

    af_runner *r = get_runner("gen", &opts);
    if (!r)
        return finish(AF_EXIT_USAGE);

    int code = AF_EXIT_USAGE;
    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_verdict_list *all = malloc(sizeof *all); /* v before keeping findings */
    uint8_t *input = malloc((size_t)max_len + 8);
    af_trace tr;
    bool tr_ok = af_trace_init(&tr, 0, 0) == 0;
    uint64_t runs = 0, verdict_runs = 0;
    af_error err;
    memset(&err, 0, sizeof err);
    struct sigaction old_int, old_term;
    bool caught = false;
    char store_dir[4200];
    snprintf(store_dir, sizeof store_dir, "%s/findings", outdir);
    af_findings_store *store = af_findings_open(store_dir, "gen", stderr, &err);
    if (!store) {
        print_error("gen", NULL, &err);
        goto done;
    }
    if (!s || !v || !all || !input || !tr_ok) {
        fprintf(stderr, "asyncfuzz gen: out of memory\n");
        goto done;
    }
    bool tty = isatty(STDERR_FILENO), harness_failed = false;
    double t0 = af_clock_seconds(), last_tick = t0;
    gen_catch_signals(&old_int, &old_term);
    caught = true;
    for (uint64_t i = 0; (count == 0 || i < count) && !gen_stop; i++) {
        size_t len = gen_input(seed, i, (size_t)max_len, input);
        af_decode(input, len, misuse, s);
        if (af_judge_run(r, s, &tr, v, &err) < 0) {
            print_error("gen", NULL, &err);
            /* Keep the input for whoever fixes the harness. */
            char *text = af_json_write(s);
            char path[4200] = "";
            af_error werr;
            if (text && af_mkdirs(outdir, &werr) == 0) {
                snprintf(path, sizeof path, "%s/harness-error-seed%" PRIu64 "-run%" PRIu64 ".json",
                         outdir, seed, i);
                if (af_write_file_durable(path, text, strlen(text), &werr) < 0)
                    path[0] = '\0';
            }
            fprintf(stderr,
                    "asyncfuzz gen: harness failure on run %" PRIu64 " (seed %" PRIu64 ")%s%s\n", i,
                    seed, path[0] ? "; the scenario is in " : "", path);
            if (!path[0] && text)
                fputs(text, stderr);
            free(text);
            harness_failed = true;
            break;
        }
        runs++;
        if (!all_verdicts && v->count) {
            *all = *v;
            af_verdict_list_keep_findings(v, misuse);
        }
        if (v->count) {
            verdict_runs++;
            /* A signature new to this run is filed at once, before the next
             * run starts (the store: reports/findings.h); later runs of it
             * are counted. scenario.json expects every verdict of the run. */
            char origin[160];
            snprintf(origin, sizeof origin,
                     "gen --seed %" PRIu64 "%s --max-len %" PRId64 ", run %" PRIu64, seed,
                     misuse ? " --misuse" : "", max_len, i);
            af_findings_record_in in = {.scenario = s,
                                        .verdicts = v,
                                        .all_verdicts = all_verdicts ? NULL : all,
                                        .trace = &tr,
                                        .input = input,
                                        .input_len = len,
                                        .origin = origin,
                                        .target = opts.target};
            if (af_findings_file_run(store, &in, NULL, 0, &err) < 0) {
                print_error("gen", NULL, &err);
                goto done;
            }
        }
        if ((runs & 63) == 0 && af_clock_seconds() - last_tick >= 1.0) {
            double t = af_clock_seconds();
            af_error ignored;
            af_findings_flush(store, &ignored); /* counts reach the folders every second */
            if (!quiet) {
                fprintf(stderr,
                        "%sgen: %" PRIu64 " runs, %.0f runs/s, %zu findings (%" PRIu64
                        " runs with verdicts)%s",
                        tty ? "\r" : "", runs, (double)runs / (t - t0),
                        af_findings_known_count(store), verdict_runs, tty ? "\033[K" : "\n");
                fflush(stderr);
            }
            last_tick = t;
        }
    }
    double secs = af_clock_seconds() - t0;
    if (!quiet && tty && runs >= 64)
        fputc('\n', stderr);
    const char *stopped_by = gen_stop == SIGINT ? "SIGINT" : gen_stop == SIGTERM ? "SIGTERM" : NULL;
    if (stopped_by)
        fprintf(stderr, "asyncfuzz gen: stopped by %s after %" PRIu64 " runs\n", stopped_by, runs);
    if (af_findings_flush(store, &err) < 0)
        print_error("gen", NULL, &err);
    gen_print_end(store, runs, secs, verdict_runs);
    struct stat st;
    af_findings_campaign campaign = {.command = "gen",
                                     .engine = "gen",
                                     .seed = seed,
                                     .runs = runs,
                                     .seconds = secs,
                                     .misuse = misuse,
                                     .max_len = (size_t)max_len,
                                     .new_signatures = gen_new_signatures(store),
                                     .stopped_by = stopped_by};
    if (stat(store_dir, &st) == 0 &&
        af_findings_summary_campaign(store_dir, &campaign, NULL, NULL, &err) < 0) {
        print_error("gen", NULL, &err);
        goto done;
    }
    code = harness_failed                       ? AF_EXIT_USAGE
           : af_findings_known_count(store) > 0 ? AF_EXIT_FINDING
                                                : AF_EXIT_OK;
done:
    if (caught) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    af_findings_close(store);
    if (tr_ok)
        af_trace_free(&tr);
    free(input);
    free(v);
    free(all);
    free(s);
    return finish(code);
}
