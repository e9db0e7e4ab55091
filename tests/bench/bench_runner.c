/* bench_runner.c - throughput of the in-process path against the way a
 * Python user would run the same scenarios. Prints figures, asserts
 * nothing.
 *
 *   usage: bench_runner [SECONDS_PER_MEASURE] [SCENARIO.json...]
 *          (default 3 s, tests/bench/small.json and medium.json)
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
 *                (`python3 prog.py` without the interpreter's start-up).
 * and RSS (/proc/self/statm) before and after.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/embed.h"
#include "harness/runner.h"
#include "oracles/trace.h"
#include "oracles/verdict.h"
#include "scenarios/codegen.h"
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
static const char user_way_src[] =
    "import time\n"
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
    "def full_program(prog, _unused, n):\n"
    "    t0 = time.perf_counter()\n"
    "    for _ in range(n):\n"
    "        ns = {'__name__': 'af_bench_program'}\n"
    "        exec(compile(prog, '<program>', 'exec'), ns)\n"
    "        events = ns['run_scenario']()\n"
    "        ns['close_loop']()\n"
    "    return time.perf_counter() - t0, len(events)\n";

static PyObject *g_ns;

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

    /* In-process: warm up, then runs for `budget` seconds. */
    for (int i = 0; i < 2000; i++)
        if (af_runner_run(runner, s, &tr, v, &err) < 0) {
            fprintf(stderr, "%s: %s\n", path, err.message);
            return -1;
        }
    int nev = tr.nevents;
    long rss0 = rss_kib();
    long runs = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++)
            af_runner_run(runner, s, &tr, v, &err);
        runs += 1000;
        t = now_s();
    } while (t - t0 < budget);
    double in_rate = runs / (t - t0);
    long rss1 = rss_kib();

    /* The user way and the full program. */
    char *prog = af_codegen_python(s, NULL, 0);
    PyObject *progo = PyUnicode_FromString(prog);
    PyObject *split = PyObject_CallFunction(PyDict_GetItemString(g_ns, "split"), "O", progo);
    if (!split) {
        PyErr_Print();
        return -1;
    }
    PyObject *libns = PyObject_CallFunction(PyDict_GetItemString(g_ns, "load_lib"), "O", PyTuple_GET_ITEM(split, 0));
    if (!libns) {
        PyErr_Print();
        return -1;
    }
    long ev_user = 0, ev_full = 0;
    py_time("user_way", libns, PyTuple_GET_ITEM(split, 1), 50, &ev_user); /* warm up */
    long nuser = 200;
    double secs = py_time("user_way", libns, PyTuple_GET_ITEM(split, 1), nuser, &ev_user);
    if (secs > 0 && secs < budget) {
        nuser = (long)(nuser * budget / secs);
        secs = py_time("user_way", libns, PyTuple_GET_ITEM(split, 1), nuser, &ev_user);
    }
    double user_rate = nuser / secs;
    long nfull = 50;
    double fsecs = py_time("full_program", progo, Py_None, nfull, &ev_full);
    if (fsecs > 0 && fsecs < budget / 2) {
        nfull = (long)(nfull * (budget / 2) / fsecs);
        fsecs = py_time("full_program", progo, Py_None, nfull, &ev_full);
    }
    double full_rate = nfull / fsecs;
    long rss2 = rss_kib();

    printf("%s: %d events per run\n", path, nev);
    printf("  in-process   %9.0f runs/s  %8.1f us/run  (%ld runs)\n", in_rate, 1e6 / in_rate, runs);
    printf("  user way     %9.0f runs/s  %8.1f us/run  (%ld runs, %ld events)  in-process is %.1fx\n", user_rate,
           1e6 / user_rate, nuser, ev_user, in_rate / user_rate);
    printf("  reproducer   %9.0f runs/s  %8.1f us/run  (%ld runs, %ld events)  in-process is %.1fx\n", full_rate,
           1e6 / full_rate, nfull, ev_full, in_rate / full_rate);
    printf("  RSS          %ld KiB before the in-process runs, %ld KiB after (%+ld), %ld KiB after the rest\n",
           rss0, rss1, rss1 - rss0, rss2);
    Py_DECREF(libns);
    Py_DECREF(split);
    Py_DECREF(progo);
    free(prog);
    af_trace_free(&tr);
    free(v);
    free(s);
    return 0;
}

int main(int argc, char **argv)
{
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
    printf("asyncfuzz bench: Python %d.%d embedded, %.1f s per measure, RSS %ld KiB at start, %ld KiB with "
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
