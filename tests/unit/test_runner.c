/* test_runner.c - the in-process runner, end to end through the embedded
 * interpreter.
 *
 *   kind_names_and_defaults  the runner starts (interp.KIND_NAMES agrees with
 *                            the IR) and its default budgets equal
 *                            probe.DEFAULT_OPTIONS, which reproducers use;
 *   determinism              every catalog scenario and 2,000 random ones
 *                            give byte-identical JSON-lines traces twice in
 *                            this process and once more in a fresh process
 *                            (this binary re-executed with --dump-traces);
 *                            and the same on a loop under test: target
 *                            asyncio_selector (stock asyncio's own
 *                            SelectorEventLoop on virtual time, loops.py),
 *                            the catalog and 300 random scenarios with
 *                            loop-level operations;
 *   equivalence              the generated program run by the embedded
 *                            version's plain python (AF_PYTHON)
 *                            --trace prints the same trace text as the
 *                            in-process run, for the catalog and 300 random
 *                            scenarios (python processes run in parallel),
 *                            and on target asyncio_selector for the catalog
 *                            and 100 random ones with loop-level operations;
 *   selector_is_virtual      stock asyncio's own loop through the loop path
 *                            gives the VirtualLoop's traces (but the `loop`
 *                            event), on the same set (`test_runner
 *                            --selector-soak SECONDS` does it on new random
 *                            scenarios for that long: a measurement);
 *   budgets                  deadlock, and hang by iterations and by virtual
 *                            time, end the run with their verdict, quickly;
 *   no_growth                100,000 runs leave RSS flat (after a warm-up);
 *   probe_follows_the_table  every event tuple the probe emits on the catalog
 *                            and 300 random scenarios has a kind, arity and
 *                            field types of harness/run/trace_events.def,
 *                            and its C text is json.dumps' (ctest runs this
 *                            file with and without the C accelerators, so
 *                            both probe.py and probe_c.c are checked);
 *   malformed_events         a tuple that breaks the table (each field of
 *                            each kind given a wrong type, a wrong arity) is
 *                            an error naming the event, field and label.
 *
 * AF_TEST_RANDOM / AF_TEST_EQUIV_RANDOM / AF_TEST_GROWTH_RUNS /
 * AF_TEST_LAYOUT_RANDOM / AF_TEST_SELECTOR_RANDOM override the
 * sizes (for quick local runs).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/scenario_py.h"
#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/finding.h"
#include "reports/repro.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

static af_runner *g_runner;
static af_runner *g_selector; /* target asyncio_selector */

#define SELECTOR_TARGET "asyncio_selector"

/* ---- the scenario set: catalog files, then seeded random ones ---------- */

typedef struct scen_set {
    af_scenario *items;
    char (*names)[256];
    int n;
} scen_set;

static uint64_t splitmix64(uint64_t *st)
{
    uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

/* The runner options of every runner here: the defaults, run without the
 * C accelerators when AF_NO_ACCEL=1 (ctest runs this file both ways), on
 * target (NULL: stock asyncio). */
static af_runner_options target_options(const char *target)
{
    af_runner_options o;
    af_runner_options_default(&o);
    o.no_accel = env_int("AF_NO_ACCEL", 0);
    if (target)
        snprintf(o.target, sizeof o.target, "%s", target);
    return o;
}

static af_runner_options test_options(void)
{
    return target_options(NULL);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Catalog scenarios (sorted by file name) then `nrandom` decoded from
 * seeded random bytes (every other one with misuse allowed), with the
 * draw flags `draw` too (AF_DRAW_LOOP: loop-level operations). */
static void load_set_drawn(scen_set *set, int nrandom, uint64_t seed, unsigned draw)
{
    const char *dir = AF_SOURCE_DIR "/scenarios/catalog";
    char *files[512];
    int nfiles = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nfiles < 512) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
            files[nfiles++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(files, (size_t)nfiles, sizeof *files, cmp_names);
    set->items = calloc((size_t)(nfiles + nrandom), sizeof *set->items);
    set->names = calloc((size_t)(nfiles + nrandom), sizeof *set->names);
    assert_non_null(set->items);
    assert_non_null(set->names);
    set->n = 0;
    for (int i = 0; i < nfiles; i++) {
        char path[1024];
        af_error err;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (af_json_read_file(path, &set->items[set->n], &err) < 0) {
            char msg[512];
            af_error_format(&err, path, msg, sizeof msg);
            fail_msg("catalog scenario does not load: %s", msg);
        }
        snprintf(set->names[set->n], sizeof set->names[0], "catalog/%s", files[i]);
        set->n++;
        free(files[i]);
    }
    uint64_t st = seed;
    uint8_t buf[512];
    for (int i = 0; i < nrandom; i++) {
        size_t len = (size_t)(splitmix64(&st) % 257);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)splitmix64(&st);
        af_decode(buf, len, draw | ((i & 1) ? AF_DRAW_MISUSE : 0u), &set->items[set->n]);
        snprintf(set->names[set->n], sizeof set->names[0], "random seed %" PRIu64 " #%d%s%s", seed,
                 i, (i & 1) ? " (misuse)" : "", (draw & AF_DRAW_LOOP) ? " (loop ops)" : "");
        set->n++;
    }
}

static void load_set(scen_set *set, int nrandom, uint64_t seed)
{
    load_set_drawn(set, nrandom, seed, 0);
}

static void free_set(scen_set *set)
{
    free(set->items);
    free(set->names);
    memset(set, 0, sizeof *set);
}

/* The trace text of one run (malloc'd). NULL and err set on failure. */
static char *run_text(af_runner *r, const af_scenario *s, af_trace *tr, af_error *err)
{
    if (af_runner_run(r, s, tr, err) < 0)
        return NULL;
    size_t n = af_trace_write_jsonl(tr, NULL, 0);
    char *text = malloc(n + 1);
    if (!text)
        return NULL;
    af_trace_write_jsonl(tr, text, n + 1);
    return text;
}

#define DET_RANDOM_SEED 20240611u

/* ---- --dump-traces: the fresh-process half of the determinism test ------- */

/* The set a target's determinism is checked on: with loop-level ops on a
 * target that brings its own loop. */
static void load_target_set(scen_set *set, int nrandom, const char *target)
{
    load_set_drawn(set, nrandom, DET_RANDOM_SEED, target ? AF_DRAW_LOOP : 0u);
}

static int dump_traces(const char *path, int nrandom, const char *target)
{
    af_error err;
    af_runner_options o = target_options(target);
    af_runner *r = af_runner_new(&o, &err);
    if (!r) {
        fprintf(stderr, "runner: %s\n", err.message);
        return 2;
    }
    scen_set set;
    load_target_set(&set, nrandom, target);
    FILE *out = fopen(path, "w");
    if (!out)
        return 2;
    af_trace tr;
    af_trace_init(&tr, 0, 0);
    for (int i = 0; i < set.n; i++) {
        char *t = run_text(r, &set.items[i], &tr, &err);
        fprintf(out, "== %s\n%s", set.names[i], t ? t : "(harness error)\n");
        free(t);
    }
    af_trace_free(&tr);
    free_set(&set);
    fclose(out);
    return 0;
}

/* Keep a failing scenario for a person to look at: its JSON in /tmp. */
static void keep_scenario(const af_scenario *s, const char *what, int index)
{
    char *text = af_json_write(s);
    if (!text)
        return;
    char path[256];
    snprintf(path, sizeof path, "/tmp/af_test_runner_%s_%d.json", what, index);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
        print_error("  scenario kept in %s (asyncfuzz run --trace %s)\n", path, path);
    }
    free(text);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ---- tests ----------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (g_runner)
        return 0;
    af_error err;
    af_runner_options o = test_options();
    g_runner = af_runner_new(&o, &err);
    o = target_options(SELECTOR_TARGET);
    g_selector = g_runner ? af_runner_new(&o, &err) : NULL;
    if (!g_selector) {
        fprintf(stderr, "af_runner_new: %s\n%s", err.message, af_embed_last_traceback());
        return -1;
    }
    return 0;
}

static void kind_names_and_defaults(void **state)
{
    (void)state;
    assert_non_null(g_runner);
    /* The interpreter running is the one whose headers the build used. */
    assert_int_equal(af_embed_pyversion(), PY_MAJOR_VERSION * 100 + PY_MINOR_VERSION);
    assert_int_equal(af_embed_pypatch(), PY_MICRO_VERSION);
    PyObject *probe = PyImport_ImportModule("probe");
    assert_non_null(probe);
    PyObject *d = PyObject_GetAttrString(probe, "DEFAULT_OPTIONS");
    assert_non_null(d);
    PyObject *want =
        Py_BuildValue("(LLdLO)", (long long)AF_RUNNER_DEFAULT_MAX_ITERATIONS,
                      (long long)AF_RUNNER_DEFAULT_MAX_VTIME, AF_RUNNER_DEFAULT_WATCHDOG_SECONDS,
                      (long long)AF_RUNNER_DEFAULT_SLOW_TICKS, Py_False);
    assert_non_null(want);
    int eq = PyObject_RichCompareBool(d, want, Py_EQ);
    if (eq != 1) {
        PyObject *r = PyObject_Repr(d);
        fail_msg("probe.DEFAULT_OPTIONS = %s differs from the C defaults of runner.h",
                 r ? PyUnicode_AsUTF8(r) : "?");
    }
    Py_DECREF(want);
    Py_DECREF(d);
    Py_DECREF(probe);
    /* Python-side state: hash seed fixed, warnings "always", isolated. */
    PyObject *m = PyImport_AddModule("__main__");
    PyObject *g = PyModule_GetDict(m);
    PyObject *r = PyRun_String(
        "import sys\nok = (sys.flags.hash_randomization == 0 and sys.flags.isolated == 1"
        " and 'always' in sys.warnoptions)\n",
        Py_file_input, g, g);
    assert_non_null(r);
    Py_DECREF(r);
    assert_true(PyDict_GetItemString(g, "ok") == Py_True);
}

/* Two runs in this process and one in a fresh one give the same trace, for
 * the runner of target (NULL: stock asyncio). */
static void check_determinism(af_runner *runner, const char *target, int nrandom)
{
    scen_set set;
    load_target_set(&set, nrandom, target);
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 0, 0), 0);
    af_error err;
    size_t cap = 1 << 20, pos = 0;
    char *all = malloc(cap);
    int errors = 0, diffs = 0;
    for (int i = 0; i < set.n; i++) {
        char *a = run_text(runner, &set.items[i], &tr, &err);
        char *b = a ? run_text(runner, &set.items[i], &tr, &err) : NULL;
        if (!a || !b) {
            if (errors++ < 5) {
                print_error("%s: harness error: %s: %s\n", set.names[i], err.path, err.message);
                keep_scenario(&set.items[i], "error", i);
            }
        } else if (strcmp(a, b) != 0) {
            if (diffs++ < 5) {
                print_error("%s: two runs in one process differ:\n--- first\n%s--- second\n%s",
                            set.names[i], a, b);
                keep_scenario(&set.items[i], "nondeterministic", i);
            }
        }
        char head[300];
        int hn = snprintf(head, sizeof head, "== %s\n", set.names[i]);
        const char *body = a ? a : "(harness error)\n";
        size_t need = pos + (size_t)hn + strlen(body) + 1;
        while (need > cap) {
            cap *= 2;
            all = realloc(all, cap);
            assert_non_null(all);
        }
        memcpy(all + pos, head, (size_t)hn);
        pos += (size_t)hn;
        memcpy(all + pos, body, strlen(body));
        pos += strlen(body);
        all[pos] = '\0';
        free(a);
        free(b);
    }
    /* A fresh process: this binary again, with --dump-traces. */
    char path[] = "/tmp/af_test_runner_traces_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char nr[32];
    snprintf(nr, sizeof nr, "%d", nrandom);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "test_runner", "--dump-traces", path, nr, target, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_true(waitpid(pid, &status, 0) == pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t flen = 0;
    char *fresh = read_file(path, &flen);
    assert_non_null(fresh);
    int same = flen == pos && memcmp(fresh, all, pos) == 0;
    if (!same) {
        /* Name the first scenario that differs. */
        const char *p = all, *q = fresh;
        while (*p && *p == *q)
            p++, q++;
        const char *h = p;
        while (h > all && !(h[0] == '=' && h[1] == '=' && (h == all || h[-1] == '\n')))
            h--;
        const char *nl = strchr(h, '\n');
        print_error("a fresh process gives a different trace, first at %.*s (offset %td)\n",
                    nl ? (int)(nl - h) : 40, h, p - all);
    } else {
        unlink(path);
    }
    print_message(
        "determinism%s%s: %d scenarios (%d catalog + %d random), %d harness errors, %d in-process "
        "differences, fresh process %s\n",
        target ? " on " : "", target ? target : "", set.n, set.n - nrandom, nrandom, errors, diffs,
        same ? "identical" : "DIFFERENT");
    free(fresh);
    free(all);
    af_trace_free(&tr);
    free_set(&set);
    assert_int_equal(errors, 0);
    assert_int_equal(diffs, 0);
    assert_true(same);
}

static void determinism(void **state)
{
    (void)state;
    check_determinism(g_runner, NULL, env_int("AF_TEST_RANDOM", 2000));
    check_determinism(g_selector, SELECTOR_TARGET, env_int("AF_TEST_SELECTOR_RANDOM", 300));
}

static int write_all(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static pid_t spawn_python(const char *prog, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        close(fd);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 2);
            close(null);
        }
        execl(AF_PYTHON, AF_PYTHON, "-I", prog, "--trace", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The generated programs of the set, run by AF_PYTHON, print the
 * in-process traces of the runner of target (NULL: stock asyncio). */
static void check_equivalence(af_runner *runner, const char *target, int nrandom)
{
    scen_set set;
    load_set_drawn(&set, nrandom, 777, target ? AF_DRAW_LOOP : 0u);
    char dir[] = "/tmp/af_test_equiv_XXXXXX";
    assert_non_null(mkdtemp(dir));
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 0, 0), 0);
    char **expected = calloc((size_t)set.n, sizeof *expected);
    af_error err;
    for (int i = 0; i < set.n; i++) {
        char *prog = af_codegen_python_target(&set.items[i], target, NULL, 0);
        assert_non_null(prog);
        char path[512];
        snprintf(path, sizeof path, "%s/s%04d.py", dir, i);
        assert_int_equal(write_all(path, prog), 0);
        free(prog);
        expected[i] = run_text(runner, &set.items[i], &tr, &err);
        if (!expected[i])
            print_error("%s: harness error: %s: %s\n", set.names[i], err.path, err.message);
    }
    /* Python processes, a few at a time per core. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = (int)(ncpu > 0 ? ncpu * 2 : 4);
    int next = 0, running = 0;
    while (next < set.n || running > 0) {
        while (running < jobs && next < set.n) {
            char prog[512], out[512];
            snprintf(prog, sizeof prog, "%s/s%04d.py", dir, next);
            snprintf(out, sizeof out, "%s/s%04d.out", dir, next);
            assert_true(spawn_python(prog, out) > 0);
            running++;
            next++;
        }
        int status;
        if (wait(&status) > 0)
            running--;
    }
    int same = 0, differ = 0;
    for (int i = 0; i < set.n; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/s%04d.out", dir, i);
        char *got = read_file(out, NULL);
        if (got && expected[i] && strcmp(got, expected[i]) == 0) {
            same++;
            char prog[512];
            snprintf(prog, sizeof prog, "%s/s%04d.py", dir, i);
            unlink(prog);
            unlink(out);
        } else {
            char exp[512];
            snprintf(exp, sizeof exp, "%s/s%04d.expected", dir, i);
            write_all(exp, expected[i] ? expected[i] : "(harness error)\n");
            if (differ++ < 5)
                print_error("%s: " AF_PYTHON
                            " %s/s%04d.py --trace (.out) differs from the in-process trace "
                            "(.expected)\n",
                            set.names[i], dir, i);
        }
        free(got);
        free(expected[i]);
    }
    if (differ == 0)
        rmdir(dir);
    print_message("equivalence%s%s: %d of %d scenarios (%d random) identical%s%s\n",
                  target ? " on " : "", target ? target : "", same, set.n, nrandom,
                  differ ? "; programs and outputs kept in " : "", differ ? dir : "");
    free(expected);
    af_trace_free(&tr);
    free_set(&set);
    assert_int_equal(differ, 0);
}

static void equivalence(void **state)
{
    (void)state;
    if (access(AF_PYTHON, X_OK) != 0) {
        print_message("equivalence: " AF_PYTHON " not found: skipped\n");
        skip();
    }
    check_equivalence(g_runner, NULL, env_int("AF_TEST_EQUIV_RANDOM", 300));
    check_equivalence(g_selector, SELECTOR_TARGET, env_int("AF_TEST_SELECTOR_RANDOM", 300) / 3);
}

/* The trace without its first line when that is the `loop` event. */
static const char *without_loop_event(const char *t)
{
    if (strncmp(t, "[\"loop\",", 8) != 0)
        return t;
    const char *nl = strchr(t, '\n');
    return nl ? nl + 1 : t;
}

/* Runs set on the VirtualLoop and on SELECTOR_TARGET; returns how many
 * traces differ (the first five printed, their scenarios kept). */
static int selector_differences(const scen_set *set)
{
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 0, 0), 0);
    af_error err;
    int differ = 0;
    for (int i = 0; i < set->n; i++) {
        char *v = run_text(g_runner, &set->items[i], &tr, &err);
        char *sel = v ? run_text(g_selector, &set->items[i], &tr, &err) : NULL;
        if (!v || !sel)
            fail_msg("%s: harness error: %s: %s", set->names[i], err.path, err.message);
        if (strcmp(v, without_loop_event(sel)) != 0 && differ++ < 5) {
            print_error("%s: the selector loop's trace differs:\n--- VirtualLoop\n%s--- %s\n%s",
                        set->names[i], v, SELECTOR_TARGET, sel);
            keep_scenario(&set->items[i], "selector", i);
        }
        free(v);
        free(sel);
    }
    af_trace_free(&tr);
    return differ;
}

static void selector_is_virtual(void **state)
{
    (void)state;
    scen_set set;
    load_target_set(&set, env_int("AF_TEST_SELECTOR_RANDOM", 300), SELECTOR_TARGET);
    int differ = selector_differences(&set);
    print_message("selector_is_virtual: %d scenarios, %d differ\n", set.n, differ);
    free_set(&set);
    assert_int_equal(differ, 0);
}

/* test_runner --selector-soak SECONDS: selector_is_virtual on new random
 * scenarios (with loop-level ops; the catalog again in each batch of 2000)
 * for SECONDS of real time, a measurement rather than a test: prints the
 * count of scenarios and of differences; exit 1 when any differ. */
static int selector_soak(double seconds)
{
    if (setup(NULL) < 0)
        return 2;
    double t0 = af_clock_seconds();
    long total = 0, differ = 0;
    for (uint64_t seed = 1; af_clock_seconds() - t0 < seconds; seed++) {
        scen_set set;
        load_set_drawn(&set, 2000, 0x5e1ec7000 + seed, AF_DRAW_LOOP);
        differ += selector_differences(&set);
        total += set.n;
        free_set(&set);
        fprintf(stderr, "selector-soak: %.0f s, %ld scenarios, %ld differ\n",
                af_clock_seconds() - t0, total, differ);
    }
    printf("selector-soak: %.0f s: %ld scenarios (catalog + random with loop-level ops), %ld "
           "traces differ between the VirtualLoop and %s\n",
           af_clock_seconds() - t0, total, differ, SELECTOR_TARGET);
    return differ ? 1 : 0;
}

/* Run JSON text with given options; expect `oracle` among the verdicts and
 * a `budget` event; return the wall time. */
static double expect_budget(const char *json, const af_runner_options *o, af_oracle oracle,
                            const char *budget)
{
    af_scenario s;
    af_error err;
    if (af_json_read(json, strlen(json), &s, &err) < 0)
        fail_msg("test scenario does not load: %s: %s", err.path, err.message);
    af_runner *r = af_runner_new(o, &err);
    assert_non_null(r);
    af_trace tr;
    af_verdict_list v;
    af_trace_init(&tr, 0, 0);
    double t0 = af_clock_seconds();
    int rc = af_judge_run(r, &s, &tr, &v, &err);
    double dt = af_clock_seconds() - t0;
    if (rc < 0)
        fail_msg("harness error: %s: %s", err.path, err.message);
    int found_budget = 0;
    for (int i = 0; i < tr.nevents; i++)
        if (tr.events[i].kind == AF_EV_BUDGET &&
            strcmp(af_budget_name((af_budget)tr.events[i].budget), budget) == 0)
            found_budget = 1;
    if (!found_budget || !af_verdict_list_has(&v, oracle)) {
        size_t n = af_trace_write_jsonl(&tr, NULL, 0);
        char *t = malloc(n + 1);
        af_trace_write_jsonl(&tr, t, n + 1);
        print_error("expected budget %s and verdict %s; trace:\n%s", budget, af_oracle_name(oracle),
                    t);
        free(t);
        fail();
    }
    af_trace_free(&tr);
    af_runner_free(r);
    return dt;
}

static void budgets(void **state)
{
    (void)state;
    af_runner_options o;
    /* Deadlock: waiting on an Event nobody sets. */
    o = test_options();
    double t = expect_budget(
        "{\"asyncfuzz\":1,\"description\":\"wait forever\",\"expect\":[],"
        "\"primitives\":[{\"name\":\"never\",\"kind\":\"event\"}],"
        "\"main\":{\"name\":\"main\",\"body\":[{\"op\":\"event_wait\",\"primitive\":\"never\"}]}}",
        &o, AF_ORACLE_DEADLOCK, "deadlock");
    assert_true(t < o.watchdog_seconds);
    /* Deadlock between two tasks: each holds a lock the other wants is not
     * expressible without loops; a Condition nobody notifies is. */
    t = expect_budget("{\"asyncfuzz\":1,\"description\":\"cond never notified\",\"expect\":[],"
                      "\"primitives\":[{\"name\":\"c\",\"kind\":\"condition\"}],"
                      "\"main\":{\"name\":\"main\",\"body\":[{\"op\":\"gather\",\"children\":["
                      "{\"name\":\"a\",\"body\":[{\"op\":\"cond_wait\",\"primitive\":\"c\"}]},"
                      "{\"name\":\"b\",\"body\":[{\"op\":\"sleep\",\"ticks\":3}]}]}]}}",
                      &o, AF_ORACLE_DEADLOCK, "deadlock");
    assert_true(t < o.watchdog_seconds);
    /* Hang by iterations: a budget lower than the scenario's iterations. */
    o = test_options();
    o.max_iterations = 5;
    t = expect_budget("{\"asyncfuzz\":1,\"description\":\"many yields\",\"expect\":[],"
                      "\"main\":{\"name\":\"main\",\"body\":["
                      "{\"op\":\"sleep\",\"ticks\":0},{\"op\":\"sleep\",\"ticks\":0},{\"op\":"
                      "\"sleep\",\"ticks\":0},"
                      "{\"op\":\"sleep\",\"ticks\":0},{\"op\":\"sleep\",\"ticks\":0},{\"op\":"
                      "\"sleep\",\"ticks\":0},"
                      "{\"op\":\"sleep\",\"ticks\":0},{\"op\":\"sleep\",\"ticks\":0},{\"op\":"
                      "\"sleep\",\"ticks\":0}]}}",
                      &o, AF_ORACLE_HANG, "hang");
    assert_true(t < o.watchdog_seconds);
    /* Hang by virtual time: a sleep past max_vtime. */
    o = test_options();
    o.max_vtime = 100;
    t = expect_budget("{\"asyncfuzz\":1,\"description\":\"long sleep\",\"expect\":[],"
                      "\"main\":{\"name\":\"main\",\"body\":[{\"op\":\"sleep\",\"ticks\":5000}]}}",
                      &o, AF_ORACLE_HANG, "hang");
    assert_true(t < o.watchdog_seconds);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void no_growth(void **state)
{
    (void)state;
    int runs = env_int("AF_TEST_GROWTH_RUNS", 100000);
    scen_set set;
    load_set(&set, 50, 99);
    af_trace tr;
    af_verdict_list *v = malloc(sizeof *v);
    af_trace_init(&tr, 0, 0);
    af_error err;
    int errors = 0;
    /* Keep the scenarios that run: a harness error is another test's
     * business here. */
    int *ok = calloc((size_t)set.n, sizeof *ok), nok = 0;
    for (int i = 0; i < set.n; i++)
        if (af_judge_run(g_runner, &set.items[i], &tr, v, &err) == 0)
            ok[nok++] = i;
    assert_true(nok > 0);
    int warm = runs / 10 > 2000 ? runs / 10 : 2000;
    for (int i = 0; i < warm; i++)
        if (af_judge_run(g_runner, &set.items[ok[i % nok]], &tr, v, &err) < 0)
            errors++;
    long before = rss_kib();
    double t0 = af_clock_seconds();
    for (int i = 0; i < runs; i++)
        if (af_judge_run(g_runner, &set.items[ok[i % nok]], &tr, v, &err) < 0)
            errors++;
    double dt = af_clock_seconds() - t0;
    long after = rss_kib();
    print_message(
        "no_growth: %d runs over %d scenarios in %.2f s (%.0f runs/s): RSS %ld KiB -> %ld KiB "
        "(%+ld KiB)\n",
        runs, nok, dt, runs / dt, before, after, after - before);
    free(ok);
    free(v);
    af_trace_free(&tr);
    free_set(&set);
    assert_int_equal(errors, 0);
    /* Flat: allocator noise only (arenas, freelists), far below what one
     * leaked object per run would cost (100,000 x >= 16 bytes). */
    assert_true(after - before < 1024);
}

/* ---- the probe's tuples and the event table ------------------------------- */

/* json.dumps(list(ev), separators=(",", ":")): the text form of a tuple,
 * as a reproducer prints it (malloc'd). */
static char *py_json(PyObject *ev)
{
    static PyObject *dumps;
    if (!dumps) {
        PyObject *g = PyDict_New();
        assert_non_null(g);
        PyObject *r = PyRun_String("import json\n"
                                   "def dumps(ev):\n"
                                   "    return json.dumps(list(ev), separators=(',', ':'))\n",
                                   Py_file_input, g, g);
        assert_non_null(r);
        Py_DECREF(r);
        dumps = Py_NewRef(PyDict_GetItemString(g, "dumps"));
        Py_DECREF(g);
    }
    PyObject *t = PyObject_CallOneArg(dumps, ev);
    assert_non_null(t);
    char *text = strdup(PyUnicode_AsUTF8(t));
    Py_DECREF(t);
    return text;
}

/* What the catalog and 300 random scenarios do not emit: a TaskGroup's
 * exception group raised in a task nobody awaits, destroyed pending
 * (`unraisable`; found by 30,000 random ones, then minimised). */
static const char *const extra_scenarios[] = {
    "{\"asyncfuzz\":1,\"description\":\"unraisable\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":[{\"op\":\"gather\",\"children\":[{\"name\":\"t1\",\"body\":[{\"op\":\"task_group\","
    "\"name\":\"tg0\",\"body\":[{\"op\":\"await\",\"task\":\"main\"}]}]}]}]}}",
};

/* Run s by interp.run (options: NULL for the defaults) and check its
 * tuples: the conversion accepts them and writes each as json.dumps does.
 * Counts the kinds in seen. Returns the number of problems (printed). */
static int check_tuples(PyObject *run, const af_scenario *s, const char *name, af_trace *tr,
                        long *seen, PyObject *options)
{
    af_error err;
    PyObject *scen = af_scenario_to_py(s);
    assert_non_null(scen);
    PyObject *events = PyObject_CallFunctionObjArgs(run, scen, options ? options : Py_None, NULL);
    Py_DECREF(scen);
    if (!events)
        fail_msg("%s: interp.run raised", name);
    assert_true(PyList_Check(events));
    int bad = 0;
    af_trace_reset(tr);
    if (af_trace_from_py(events, tr, &err) < 0) {
        print_error("%s: %s: %s\n", name, err.path, err.message);
        bad++;
    } else {
        assert_false(tr->overflow);
        assert_int_equal(tr->nevents, PyList_GET_SIZE(events));
        for (int k = 0; k < tr->nevents; k++) {
            char line[4096];
            af_event_write_json(&tr->events[k], line, sizeof line);
            char *want = py_json(PyList_GET_ITEM(events, k));
            if (strcmp(line, want) != 0 && bad++ < 5)
                print_error("%s: event %d reads as\n  %s\nbut json.dumps writes\n  %s\n", name, k,
                            line, want);
            free(want);
            seen[tr->events[k].kind]++;
        }
    }
    Py_DECREF(events);
    return bad;
}

static void probe_follows_the_table(void **state)
{
    (void)state;
    int nrandom = env_int("AF_TEST_LAYOUT_RANDOM", 300);
    scen_set set;
    /* loop-level ops on the random half: their events follow the table too */
    load_set_drawn(&set, nrandom, 4242, AF_DRAW_LOOP);
    af_error err;
    PyObject *interp = af_embed_import("interp", &err);
    assert_non_null(interp);
    PyObject *run = PyObject_GetAttrString(interp, "run");
    assert_non_null(run);
    PyObject *probe = af_embed_import("probe", &err);
    assert_non_null(probe);
    PyObject *dflt = PyObject_GetAttrString(probe, "DEFAULT_OPTIONS");
    assert_non_null(dflt);
    /* DEFAULT_OPTIONS + (SELECTOR_TARGET,): the loop under test's events */
    PyObject *on_selector = Py_BuildValue("(OOOOOs)", PyTuple_GET_ITEM(dflt, 0),
                                          PyTuple_GET_ITEM(dflt, 1), PyTuple_GET_ITEM(dflt, 2),
                                          PyTuple_GET_ITEM(dflt, 3), Py_False, SELECTOR_TARGET);
    assert_non_null(on_selector);
    Py_DECREF(dflt);
    Py_DECREF(probe);
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 1 << 16, 16u << 20), 0);
    long seen[AF_EV_KIND_COUNT] = {0};
    int bad = 0;
    for (int i = 0; i < set.n && bad < 5; i++) {
        int b =
            check_tuples(run, &set.items[i], set.names[i], &tr, seen, i & 1 ? on_selector : NULL);
        if (b)
            keep_scenario(&set.items[i], "layout", i);
        bad += b;
    }
    int nextra = (int)(sizeof extra_scenarios / sizeof extra_scenarios[0]);
    for (int i = 0; i < nextra; i++) {
        af_scenario s;
        if (af_json_read(extra_scenarios[i], strlen(extra_scenarios[i]), &s, &err) < 0)
            fail_msg("extra scenario %d: %s: %s", i, err.path, err.message);
        bad += check_tuples(run, &s, "extra scenario", &tr, seen, NULL);
    }
    Py_DECREF(on_selector);
    long total = 0;
    int unseen = 0;
    for (int k = 0; k < AF_EV_KIND_COUNT; k++) {
        total += seen[k];
        unseen += seen[k] == 0;
    }
    print_message("probe_follows_the_table: %ld events of %d scenarios (%d random):", total,
                  set.n + nextra, nrandom);
    for (int k = 0; k < AF_EV_KIND_COUNT; k++)
        print_message(" %s %ld", af_ev_kind_name((af_ev_kind)k), seen[k]);
    print_message("\n");
    Py_DECREF(run);
    Py_DECREF(interp);
    af_trace_free(&tr);
    free_set(&set);
    assert_int_equal(bad, 0);
    /* Every kind of the table was emitted, so every kind was checked. */
    assert_int_equal(unseen, 0);
}

/* A value of the field's type (new reference). */
static PyObject *good_value(const af_field_layout *f)
{
    switch (f->type) {
    case AF_FIELD_INT:
        return PyLong_FromLong(-1);
    case AF_FIELD_I64:
        return PyLong_FromLongLong(INT64_MAX);
    case AF_FIELD_BOOL:
        return Py_NewRef(Py_True);
    case AF_FIELD_STR:
        return PyUnicode_FromString("s\xc3\xa9 \"q\"");
    case AF_FIELD_OPT_STR:
        return Py_NewRef(Py_None);
    case AF_FIELD_ENUM:
        return PyUnicode_FromString(f->values[f->nvalues - 1]);
    case AF_FIELD_DETAIL:
        return Py_BuildValue("(ii)", 2, 1);
    }
    return NULL;
}

/* Values of other types, or out of range (a tuple, new reference). */
static PyObject *bad_values(const af_field_layout *f)
{
    switch (f->type) {
    case AF_FIELD_INT:
        return Py_BuildValue("(OsOLd)", Py_True, "3", Py_None, 1LL << 31, 3.0);
    case AF_FIELD_I64:
        return Py_BuildValue("(OsONd)", Py_False, "5", Py_None,
                             PyLong_FromString("9223372036854775808", NULL, 10), 5.0);
    case AF_FIELD_BOOL:
        return Py_BuildValue("(iOs)", 1, Py_None, "True");
    case AF_FIELD_STR:
        return Py_BuildValue("(Oiy)", Py_None, 3, "bytes");
    case AF_FIELD_OPT_STR:
        return Py_BuildValue("(iOy)", 3, Py_False, "bytes");
    case AF_FIELD_ENUM:
        return Py_BuildValue("(siO)", "nope", 0, Py_None);
    case AF_FIELD_DETAIL:
        return Py_BuildValue("(d(i)(Oi)[is]i)", 1.5, 1, Py_True, 1, 1, "a", 3);
    }
    return NULL;
}

/* Convert [ev] into tr: 0, or -1 with err set. */
static int convert_one(PyObject *ev, af_trace *tr, af_error *err)
{
    PyObject *list = PyList_New(1);
    assert_non_null(list);
    PyList_SET_ITEM(list, 0, Py_NewRef(ev));
    af_trace_reset(tr);
    memset(err, 0, sizeof *err);
    int rc = af_trace_from_py(list, tr, err);
    Py_DECREF(list);
    return rc;
}

/* The kind's tuple with good values, and `len` fields (arity + or - 1). */
static PyObject *event_tuple(const af_event_layout *l, Py_ssize_t len)
{
    PyObject *t = PyTuple_New(len);
    assert_non_null(t);
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *v = i == 0               ? PyUnicode_FromString(l->name)
                      : i < 3              ? PyLong_FromLong(7)
                      : i < 3 + l->nfields ? good_value(&l->fields[i - 3])
                                           : PyLong_FromLong(0);
        assert_non_null(v);
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static void expect_rejected(PyObject *ev, af_trace *tr, const char *path, const char *name,
                            const char *label)
{
    af_error err;
    if (convert_one(ev, tr, &err) == 0) {
        char *text = py_json(ev);
        fail_msg("accepted a malformed event: %s", text);
    }
    assert_string_equal(err.path, path);
    if (!strstr(err.message, name) || (label && !strstr(err.message, label)))
        fail_msg("%s: the error \"%s\" does not name %s %s", path, err.message, name,
                 label ? label : "");
}

static void malformed_events(void **state)
{
    (void)state;
    af_trace tr;
    af_error err;
    assert_int_equal(af_trace_init(&tr, 4, 4096), 0);
    int checked = 0;
    for (int k = 0; k < AF_EV_KIND_COUNT; k++) {
        const af_event_layout *l = af_event_layout_of((af_ev_kind)k);
        Py_ssize_t arity = 3 + l->nfields;
        PyObject *good = event_tuple(l, arity);
        if (convert_one(good, &tr, &err) < 0)
            fail_msg("%s: a well-formed event is rejected: %s: %s", l->name, err.path, err.message);
        char line[512];
        af_event_write_json(&tr.events[0], line, sizeof line);
        char *want = py_json(good);
        assert_string_equal(line, want);
        free(want);
        char path[64];
        for (int i = 0; i < l->nfields; i++) {
            PyObject *bad = bad_values(&l->fields[i]);
            assert_non_null(bad);
            snprintf(path, sizeof path, "events[0][%d]", 3 + i);
            char label[64];
            snprintf(label, sizeof label, "(%s)", l->fields[i].label);
            for (Py_ssize_t b = 0; b < PyTuple_GET_SIZE(bad); b++) {
                PyObject *ev = event_tuple(l, arity);
                PyTuple_SetItem(ev, 3 + i, Py_NewRef(PyTuple_GET_ITEM(bad, b)));
                expect_rejected(ev, &tr, path, l->name, label);
                Py_DECREF(ev);
                checked++;
            }
            Py_DECREF(bad);
        }
        /* vtime, iteration: ints, not bools */
        PyObject *ev = event_tuple(l, arity);
        PyTuple_SetItem(ev, 1, Py_NewRef(Py_True));
        expect_rejected(ev, &tr, "events[0][1]", l->name, NULL);
        Py_DECREF(ev);
        /* one field too few, one too many */
        for (int d = -1; d <= 1; d += 2) {
            PyObject *t = event_tuple(l, arity + d);
            snprintf(path, sizeof path, "events[0][%zd]", arity + d);
            expect_rejected(t, &tr, path, l->name, NULL);
            Py_DECREF(t);
            checked++;
        }
        Py_DECREF(good);
    }
    PyObject *unknown = Py_BuildValue("(sii)", "no_such_event", 0, 0);
    expect_rejected(unknown, &tr, "events[0][0]", "unknown event kind", NULL);
    Py_DECREF(unknown);
    print_message("malformed_events: %d malformed events of %d kinds rejected\n", checked,
                  (int)AF_EV_KIND_COUNT);
    af_trace_free(&tr);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--dump-traces") == 0)
        return dump_traces(argv[2], argc >= 4 ? atoi(argv[3]) : 2000, argc >= 5 ? argv[4] : NULL);
    if (argc >= 3 && strcmp(argv[1], "--selector-soak") == 0)
        return selector_soak(atof(argv[2]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kind_names_and_defaults),
        cmocka_unit_test(determinism),
        cmocka_unit_test(equivalence),
        cmocka_unit_test(selector_is_virtual),
        cmocka_unit_test(budgets),
        cmocka_unit_test(no_growth),
        cmocka_unit_test(probe_follows_the_table),
        cmocka_unit_test(malformed_events),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
