/* bench_loops.c - what a loop under test costs per run, inside the harness:
 * the harness's VirtualLoop (the default, its iterations in C), a loop
 * written in Python on virtual time (LOOP = "selector": stock asyncio's
 * SelectorEventLoop, target asyncio_selector) and a loop on scaled real
 * time (LOOP = "realtime": uvloop, when it is installed). Prints figures,
 * asserts nothing.
 *
 *   usage: bench_loops [SECONDS_PER_MEASURE] [SCENARIO.json...]
 *          (default 3 s, tests/bench/small.json and medium.json)
 *          bench_loops --count TARGET N SCENARIO.json
 *          (200 runs to warm up, then N runs, silently: for counting
 *          instructions, tests/bench/loops_instructions.sh; TARGET "" is
 *          the VirtualLoop)
 *
 * Each measure is af_runner_run + af_judge per run (what `gen` pays per
 * run, decoding aside), in windows of runs for the time given, timed in
 * the process's CPU time (a shared machine's other processes left out);
 * the best window is printed as us/run and runs/s, the median next to it,
 * and the selector loop's ratio to the VirtualLoop. Real-time runs take as long
 * as their ticks say: their runs/s are printed for the default tick of the
 * adapter (target_uvloop.py's TICK_MS) and for 1 ms ticks, in real time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "scenarios/json.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* The process's CPU time: on a shared machine, what a run costs without
 * the time other processes held the CPU. */
static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct measure {
    double best, median; /* seconds per run */
    long runs;
} measure;

/* Windows of `per` runs of s on r for `budget` seconds (of real time),
 * each window timed by `clock` (cpu_s or now_s). */
static int measure_runs(af_runner *r, const af_scenario *s, long per, double budget,
                        double (*clock)(void), measure *m)
{
    static double win[8192];
    int nwin = 0;
    af_trace tr;
    af_verdict_list *v = malloc(sizeof *v);
    af_error err;
    if (!v || af_trace_init(&tr, 0, 0) < 0) {
        free(v);
        return -1;
    }
    int rc = 0;
    m->runs = 0;
    double start = now_s();
    do {
        double t0 = clock();
        for (long i = 0; i < per && rc == 0; i++) {
            if (af_runner_run(r, s, &tr, &err) < 0) {
                fprintf(stderr, "bench_loops: %s\n", err.message);
                rc = -1;
            } else {
                af_judge(s, &tr, v);
            }
        }
        if (nwin < 8192)
            win[nwin++] = (clock() - t0) / (double)per;
        m->runs += per;
    } while (rc == 0 && now_s() - start < budget);
    af_trace_free(&tr);
    free(v);
    if (rc == 0) {
        qsort(win, (size_t)nwin, sizeof *win, cmp_double);
        m->best = win[0];
        m->median = win[nwin / 2];
    }
    return rc;
}

static af_runner *runner_for(const char *target, int tick_ms)
{
    af_runner_options o;
    af_runner_options_default(&o);
    snprintf(o.target, sizeof o.target, "%s", target);
    o.tick_ms = tick_ms;
    af_error err;
    af_runner *r = af_runner_new(&o, &err);
    if (!r)
        fprintf(stderr, "bench_loops: target %s: %s\n", target[0] ? target : "asyncio",
                err.message);
    return r;
}

static void bench_scenario(const char *path, double budget)
{
    af_scenario *s = malloc(sizeof *s);
    af_error err;
    if (!s || af_json_read_file(path, s, &err) < 0) {
        fprintf(stderr, "bench_loops: %s: %s\n", path, s ? err.message : "out of memory");
        free(s);
        return;
    }
    printf("%s\n", path);
    measure base = {0}, m;
    static const struct {
        const char *target, *what;
        long per;
        int tick_ms;
    } rows[] = {
        {"", "VirtualLoop (default, C accelerators)", 500, 0},
        {"asyncio_selector", "SelectorEventLoop on virtual time", 500, 0},
        {"uvloop", "uvloop, real time (adapter's tick)", 1, 0},
        {"uvloop", "uvloop, real time, 1 ms ticks", 1, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        af_runner *r = runner_for(rows[i].target, rows[i].tick_ms);
        if (!r)
            continue;
        double b = rows[i].per == 1 ? budget / 2 : budget;
        double (*clock)(void) = rows[i].per == 1 ? now_s : cpu_s;
        if (measure_runs(r, s, rows[i].per, b, clock, &m) == 0) {
            printf("  %-40s %9.1f us/run  %8.0f runs/s  (median %.1f us, %ld runs)", rows[i].what,
                   m.best * 1e6, 1.0 / m.best, m.median * 1e6, m.runs);
            if (i == 0)
                base = m;
            else if (rows[i].per > 1 && base.best > 0)
                printf("  %.2fx", m.best / base.best);
            printf("\n");
        }
        af_runner_free(r);
    }
    free(s);
}

/* --count: warm-up plus n runs of one target, nothing printed. */
static int count_runs(const char *target, long n, const char *path)
{
    af_scenario *s = malloc(sizeof *s);
    af_error err;
    if (!s || af_json_read_file(path, s, &err) < 0) {
        fprintf(stderr, "bench_loops: %s: %s\n", path, s ? err.message : "out of memory");
        free(s);
        return 2;
    }
    af_runner *r = runner_for(target, 0);
    measure m;
    int rc = !r || measure_runs(r, s, 200, 0, cpu_s, &m) < 0 ||
             (n > 0 && measure_runs(r, s, n, 0, cpu_s, &m) < 0);
    af_runner_free(r);
    free(s);
    return rc ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--count") == 0) {
        if (argc != 5 || atol(argv[3]) < 0) {
            fprintf(stderr, "usage: bench_loops --count TARGET N SCENARIO.json\n");
            return 2;
        }
        return count_runs(argv[2], atol(argv[3]), argv[4]);
    }
    double budget = argc > 1 ? atof(argv[1]) : 3.0;
    if (budget <= 0)
        budget = 3.0;
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = 0;
        fclose(f);
    }
    printf("bench_loops: best window of in-process runs (run + judge); load average %.1f\n", load);
    if (argc > 2) {
        for (int i = 2; i < argc; i++)
            bench_scenario(argv[i], budget);
    } else {
        bench_scenario(AF_SOURCE_DIR "/tests/bench/small.json", budget);
        bench_scenario(AF_SOURCE_DIR "/tests/bench/medium.json", budget);
    }
    return 0;
}
