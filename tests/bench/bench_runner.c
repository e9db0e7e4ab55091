/* bench_runner.c - throughput of the in-process path against the way a
 * Python user would run the same scenarios. Prints figures, asserts
 * nothing.
 *
 *   usage: bench_runner [SECONDS_PER_MEASURE] [SCENARIO.json...]
 *          (default 3 s, tests/bench/small.json and medium.json)
 *          bench_runner --count in-process|bare N [SCENARIO.json]
 *          (200 runs to warm up, then N runs, silently: for counting
 *          instructions under callgrind, tests/bench/instructions.sh;
 *          bare runs tests/bench/small.json's program)
 *          bench_runner --inputs SECONDS INPUT...
 *          (the engines' per-input path, af_fuzz_one, over fuzz inputs:
 *          decode with misuse off, run, judge, coverage into a map as
 *          AF_COVERAGE says, verdicts counted and never filed; every input
 *          once to warm up, then rounds over all of them for SECONDS;
 *          prints "execs_per_sec N inputs M": what the engines pay per
 *          input without their own bookkeeping, tests/bench/engines.sh)
 *
 * For each scenario, in one process, one after the other:
 *   in-process   af_runner_run: scenario tuples built from C, interp.run on
 *                the reused virtual-time loop, trace conversion, af_judge
 *                (everything `asyncfuzz gen` does per run but decoding);
 *   user way     what a Python user does with the same program: the
 *                scenario's generated source (af_codegen_python, the part
 *                after the pasted loop and probe, which act as an imported
 *                library) compiled and exec'd per run, then run on a fresh
 *                loop that is closed afterwards (asyncio.run's life cycle);
 *   reproducer   the whole generated program compiled and exec'd per run
 *                (`python3 prog.py` without the interpreter's start-up);
 *   bare loop    (small.json only) the same program written by hand
 *                (bench_py.py's bare_runner) on the same reused loop in
 *                this process: no probe, no scenario interpreter, no
 *                oracles; the floor the in-process path is compared with.
 * and RSS (/proc/self/statm) before and after. Each is measured in
 * windows (500 / 50 / 10 runs) for the time given; the best window is
 * printed as runs/s and us/run, the median window next to it (on a shared
 * machine the best window is the least disturbed one). Note: the user way
 * closes and recreates the loop per run, and the probe freezes the GC's
 * objects whenever it creates a loop, so RSS grows during those runs: that
 * is a cost of the user way as measured, not of the in-process path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/engines/fuzz_target.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/repro.h"
#include "scenarios/json.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Python side of the user way. `lib` is exec'd once per program text into
 * a namespace (as an imported module would be); `bench(scen_src, n)` then
 * compiles and runs the scenario part n times; `bench_full(prog, n)` the
 * whole program. Each returns the seconds taken. */
static const char user_way_src[] = "import time\n"
                                   "MARK = '# ==== the scenario ===='\n"
                                   "def split(prog):\n"
                                   "    i = prog.index(MARK)\n"
                                   "    return prog[:i], prog[i:]\n"
                                   "def load_lib(lib):\n"
                                   "    ns = {'__name__': 'af_bench_lib'}\n"
                                   "    exec(compile(lib, '<lib>', 'exec'), ns)\n"
                                   "    return ns\n"
                                   "def user_way(lib_ns, scen, n):\n"
                                   "    t0 = time.perf_counter()\n"
                                   "    for _ in range(n):\n"
                                   "        ns = dict(lib_ns)\n"
                                   "        ns['__name__'] = 'af_bench_scenario'\n"
                                   "        exec(compile(scen, '<scenario>', 'exec'), ns)\n"
                                   "        events = ns['run_scenario']()\n"
                                   "        lib_ns['close_loop']()\n"
                                   "    return time.perf_counter() - t0, len(events)\n"
                                   "_bare = []\n"
                                   "def bare_loop(src_dir, _unused, n):\n"
                                   "    if not _bare:\n"
                                   "        import sys\n"
                                   "        sys.path.insert(0, src_dir + '/tests/bench')\n"
                                   "        import bench_py\n"
                                   "        _bare.append(bench_py.bare_runner())\n"
                                   "    one = _bare[0]\n"
                                   "    t0 = time.perf_counter()\n"
                                   "    for _ in range(n):\n"
                                   "        one()\n"
                                   "    return time.perf_counter() - t0, 0\n"
                                   "def full_program(prog, _unused, n):\n"
                                   "    t0 = time.perf_counter()\n"
                                   "    for _ in range(n):\n"
                                   "        ns = {'__name__': 'af_bench_program'}\n"
                                   "        exec(compile(prog, '<program>', 'exec'), ns)\n"
                                   "        events = ns['run_scenario']()\n"
                                   "        ns['close_loop']()\n"
                                   "    return time.perf_counter() - t0, len(events)\n";

static PyObject *g_ns;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void best_median(double *w, int n, double *best, double *median)
{
    qsort(w, (size_t)n, sizeof *w, cmp_double);
    *best = w[0];
    *median = w[n / 2];
}

static int py_init(void)
{
    g_ns = PyDict_New();
    if (!g_ns || PyDict_SetItemString(g_ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        return -1;
    PyObject *r = PyRun_String(user_way_src, Py_file_input, g_ns, g_ns);
    if (!r) {
        PyErr_Print();
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Calls fn(args...) in g_ns returning (seconds, nevents). */
static double py_time(const char *fn, PyObject *a, PyObject *b, long n, long *nevents)
{
    PyObject *f = PyDict_GetItemString(g_ns, fn); /* borrowed */
    PyObject *r = f ? PyObject_CallFunction(f, "OOl", a, b, n) : NULL;
    if (!r) {
        PyErr_Print();
        return -1;
    }
    double secs = PyFloat_AsDouble(PyTuple_GET_ITEM(r, 0));
    *nevents = PyLong_AsLong(PyTuple_GET_ITEM(r, 1));
    Py_DECREF(r);
    return secs;
}

/* Windows of `per` runs of fn(a, b, per) for `budget` seconds: the best
 * and the median window's seconds per run, and the runs made. -1 when a
 * call failed (printed). */
typedef struct windows {
    double best, median;
    long runs;
} windows;

static int py_windows(const char *fn, PyObject *a, PyObject *b, long per, double budget, windows *w,
                      long *nevents)
{
    static double win[4096];
    int nwin = 0;
    w->runs = 0;
    double t0 = now_s();
    do {
        double secs = py_time(fn, a, b, per, nevents);
        if (secs < 0)
            return -1;
        if (nwin < 4096)
            win[nwin++] = secs / (double)per;
        w->runs += per;
    } while (now_s() - t0 < budget);
    best_median(win, nwin, &w->best, &w->median);
    return 0;
}

static int bench_one(af_runner *runner, const char *path, double budget)
{
    af_scenario *s = malloc(sizeof *s);
    af_error err;
    if (af_json_read_file(path, s, &err) < 0) {
        char msg[512];
        af_error_format(&err, path, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    af_trace tr;
    af_verdict_list *v = malloc(sizeof *v);
    af_trace_init(&tr, 0, 0);
    /* Freeze what this benchmark itself keeps alive (its Python helpers,
     * the previous scenario's user-way runs): every run ends with a full
     * collection, which would traverse them; in asyncfuzz's own commands
     * nothing is left unfrozen after start-up (af_embed_init freezes). */
    PyRun_SimpleString("import gc; gc.collect(); gc.freeze()");

    /* In-process: warm up, then windows of 500 runs for `budget` seconds;
     * the best and the median window are reported (the machine may be
     * shared: the best window is the least disturbed). */
    for (int i = 0; i < 2000; i++)
        if (af_judge_run(runner, s, &tr, v, &err) < 0) {
            fprintf(stderr, "%s: %s\n", path, err.message);
            return -1;
        }
    int nev = tr.nevents;
    long rss0 = rss_kib();
    long runs = 0;
    double win[4096];
    int nwin = 0;
    double t0 = now_s(), t = t0;
    do {
        double w0 = now_s();
        for (int i = 0; i < 500; i++)
            af_judge_run(runner, s, &tr, v, &err);
        t = now_s();
        if (nwin < 4096)
            win[nwin++] = (t - w0) / 500;
        runs += 500;
    } while (t - t0 < budget);
    double in_best, in_med;
    best_median(win, nwin, &in_best, &in_med);
    long rss1 = rss_kib();

    /* The floor, for small.json only: the same program written by hand
     * (tests/bench/bench_py.py bare_runner) on the same reused loop, in this
     * process (so with the loop's C scheduling), without probe, scenario
     * interpreter or oracles. */
    windows bare = {0, 0, 0};
    if (strstr(path, "small.json")) {
        PyObject *src = PyUnicode_FromString(AF_SOURCE_DIR);
        long unused;
        py_time("bare_loop", src, Py_None, 500, &unused); /* warm up */
        int rc = py_windows("bare_loop", src, Py_None, 500, budget, &bare, &unused);
        Py_XDECREF(src);
        if (rc < 0)
            return -1;
    }

    /* The user way and the full program, in windows too. */
    char *prog = af_codegen_python(s, NULL, 0);
    PyObject *progo = PyUnicode_FromString(prog);
    PyObject *split = PyObject_CallFunction(PyDict_GetItemString(g_ns, "split"), "O", progo);
    if (!split) {
        PyErr_Print();
        return -1;
    }
    PyObject *libns = PyObject_CallFunction(PyDict_GetItemString(g_ns, "load_lib"), "O",
                                            PyTuple_GET_ITEM(split, 0));
    if (!libns) {
        PyErr_Print();
        return -1;
    }
    long ev_user = 0, ev_full = 0;
    windows user, full;
    py_time("user_way", libns, PyTuple_GET_ITEM(split, 1), 50, &ev_user); /* warm up */
    if (py_windows("user_way", libns, PyTuple_GET_ITEM(split, 1), 50, budget, &user, &ev_user) <
            0 ||
        py_windows("full_program", progo, Py_None, 10, budget / 2, &full, &ev_full) < 0)
        return -1;
    long rss2 = rss_kib();

    printf("%s: %d events per run\n", path, nev);
    printf("  %-12s %9s %9s %10s %10s  %s\n", "", "runs/s", "us/run", "median", "runs",
           "in-process is");
    printf("  %-12s %9.0f %9.1f %10.1f %10ld\n", "in-process", 1 / in_best, 1e6 * in_best,
           1e6 * in_med, runs);
    if (bare.runs)
        printf("  %-12s %9.0f %9.1f %10.1f %10ld  %.2fx its time (median %.2fx)\n", "bare loop",
               1 / bare.best, 1e6 * bare.best, 1e6 * bare.median, bare.runs, in_best / bare.best,
               in_med / bare.median);
    printf("  %-12s %9.0f %9.1f %10.1f %10ld  %.1fx faster (median %.1fx)\n", "user way",
           1 / user.best, 1e6 * user.best, 1e6 * user.median, user.runs, user.best / in_best,
           user.median / in_med);
    printf("  %-12s %9.0f %9.1f %10.1f %10ld  %.1fx faster (median %.1fx)\n", "reproducer",
           1 / full.best, 1e6 * full.best, 1e6 * full.median, full.runs, full.best / in_best,
           full.median / in_med);
    printf("  RSS: %ld KiB before the in-process runs, %ld KiB after them (%+ld); %ld KiB after "
           "the user-way "
           "runs\n",
           rss0, rss1, rss1 - rss0, rss2);
    if (ev_user != nev || ev_full != nev)
        printf("  (event counts differ: in-process %d, user way %ld, reproducer %ld)\n", nev,
               ev_user, ev_full);
    Py_DECREF(libns);
    Py_DECREF(split);
    Py_DECREF(progo);
    free(prog);
    af_trace_free(&tr);
    free(v);
    free(s);
    return 0;
}

/* --count: warm-up plus n runs of one kind, nothing printed. */
static int count_runs(af_runner *runner, const char *what, long n, const char *path)
{
    long total = 200 + n;
    if (strcmp(what, "bare") == 0) {
        PyObject *src = PyUnicode_FromString(AF_SOURCE_DIR);
        long unused;
        double secs = src ? py_time("bare_loop", src, Py_None, total, &unused) : -1;
        Py_XDECREF(src);
        return secs < 0 ? 2 : 0;
    }
    if (strcmp(what, "in-process") != 0) {
        fprintf(stderr, "bench_runner --count: in-process or bare, not '%s'\n", what);
        return 2;
    }
    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_error err;
    af_trace tr;
    int rc = 0;
    af_trace_init(&tr, 0, 0);
    if (!s || !v || af_json_read_file(path, s, &err) < 0) {
        fprintf(stderr, "%s: %s\n", path, s && v ? err.message : "out of memory");
        rc = 2;
    }
    PyRun_SimpleString("import gc; gc.collect(); gc.freeze()");
    for (long i = 0; rc == 0 && i < total; i++)
        if (af_judge_run(runner, s, &tr, v, &err) < 0) {
            fprintf(stderr, "%s: %s\n", path, err.message);
            rc = 2;
        }
    af_trace_free(&tr);
    free(v);
    free(s);
    return rc;
}

/* One input file into a new buffer; *len its size. NULL on error. */
static uint8_t *read_input(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *len = buf ? (size_t)size : 0;
    return buf;
}

/* --inputs: af_fuzz_one over the inputs, round after round. */
static int replay_inputs(double secs, int n, char **paths)
{
    af_error err;
    af_options opts;
    af_fuzz_config c;
    if (af_fuzz_config_from_env(&c, &opts, "bench", &err) < 0) {
        fprintf(stderr, "bench_runner: %s: %s\n", err.path, err.message);
        return 2;
    }
    c.o.quiet = 1;
    c.o.no_coverage_check = 1;
    af_fuzz *f = af_fuzz_new(&c, &err);
    uint8_t **data = calloc((size_t)n, sizeof *data);
    size_t *len = calloc((size_t)n, sizeof *len);
    static uint8_t map[AF_COV_MAP_SIZE];
    int rc = f && data && len ? 0 : 2;
    if (!f)
        fprintf(stderr, "bench_runner: %s\n", err.message);
    for (int i = 0; rc == 0 && i < n; i++)
        if (!(data[i] = read_input(paths[i], &len[i]))) {
            fprintf(stderr, "bench_runner: cannot read %s\n", paths[i]);
            rc = 2;
        }
    long runs = 0;
    double start = 0, elapsed = 0;
    for (int round = 0; rc == 0 && (round == 0 || elapsed < secs); round++) {
        if (round == 1)
            start = now_s();
        for (int i = 0; rc == 0 && i < n; i++)
            if (af_fuzz_one(f, data[i], len[i], map, 0) == AF_FUZZ_ERROR)
                rc = 2;
        runs += round > 0 ? n : 0;
        elapsed = round > 0 ? now_s() - start : 0;
    }
    if (rc == 0)
        printf("execs_per_sec %.0f inputs %d\n", (double)runs / elapsed, n);
    for (int i = 0; data && i < n; i++)
        free(data[i]);
    free(data);
    free(len);
    af_fuzz_free(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--inputs") == 0) {
        if (argc < 4 || atof(argv[2]) <= 0) {
            fprintf(stderr, "usage: bench_runner --inputs SECONDS INPUT...\n");
            return 2;
        }
        return replay_inputs(atof(argv[2]), argc - 3, argv + 3);
    }
    if (argc > 1 && strcmp(argv[1], "--count") == 0) {
        if (argc < 4) {
            fprintf(stderr, "usage: bench_runner --count in-process|bare N [SCENARIO.json]\n");
            return 2;
        }
        af_error err;
        af_runner *r = af_runner_new(NULL, &err);
        if (!r || py_init() < 0) {
            fprintf(stderr, "runner: %s\n", r ? "python helpers" : err.message);
            return 2;
        }
        return count_runs(r, argv[2], atol(argv[3]),
                          argc > 4 ? argv[4] : AF_SOURCE_DIR "/tests/bench/small.json");
    }
    double budget = argc > 1 ? atof(argv[1]) : 3.0;
    if (budget <= 0)
        budget = 3.0;
    af_error err;
    long rss_start = rss_kib();
    af_runner *r = af_runner_new(NULL, &err);
    if (!r) {
        fprintf(stderr, "runner: %s\n%s", err.message, af_embed_last_traceback());
        return 2;
    }
    printf("asyncfuzz bench: Python %d.%d embedded, %.1f s per measure, RSS %ld KiB at start, %ld "
           "KiB with "
           "the interpreter ready\n",
           af_embed_pyversion() / 100, af_embed_pyversion() % 100, budget, rss_start, rss_kib());
    if (py_init() < 0)
        return 2;
    int rc = 0;
    if (argc > 2) {
        for (int i = 2; i < argc; i++)
            rc |= bench_one(r, argv[i], budget);
    } else {
        rc |= bench_one(r, AF_SOURCE_DIR "/tests/bench/small.json", budget);
        rc |= bench_one(r, AF_SOURCE_DIR "/tests/bench/medium.json", budget);
    }
    fflush(stdout);
    return rc ? 2 : 0;
}
