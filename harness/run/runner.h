/* runner.h - run one scenario in the embedded interpreter: scenario in,
 * trace out. Judging is the next stage's (oracles/verdict.h: af_judge, or
 * af_judge_run to do both).
 *
 * The in-process path of the pipeline:
 *
 *     af_scenario --af_scenario_to_py--> tuples --interp.run--> event tuples
 *       --af_trace_from_py--> af_trace
 *
 * One runner per process: it initialises the interpreter (embed.h), holds
 * the interpreter-side objects every run needs (interp.run, the options
 * tuple) and the budgets. Construction checks that the Python interpreter of
 * scenarios (harness/py/interp.py) agrees with the C IR on the op kinds:
 * interp.KIND_NAMES[k] must equal af_op_kind_name(k) for every kind, in
 * order, and nothing more.
 *
 * Budgets (passed to interp.run, enforced by the virtual-time loop):
 *   max_iterations  loop iterations per run; past it the run stops with a
 *                   `budget hang` event (verdict "hang");
 *   max_vtime       virtual ticks per run; past it likewise ("hang");
 *   watchdog_seconds real time per run; past it `budget watchdog` ("hang");
 *   slow_ticks      a callback that advances the virtual clock by at least
 *                   this many ticks is recorded as `slow` ("blocking");
 *   pure_python_tasks  use asyncio's pure-Python Task/Future instead of the
 *                   C ones;
 *   target          the implementation under test (a target adapter);
 *                   af_runner_new fails with the adapter's traceback when
 *                   it cannot be loaded.
 * A run in which nothing is ready, no timer is pending and the root task
 * has not finished ends with `budget deadlock` ("deadlock").
 *
 * Runs are deterministic: the same scenario gives byte-identical traces in
 * every run and in every process. A run never leaks Python objects: memory
 * stays flat over any number of runs.
 *
 * Nothing here prints or exits; errors are returned in af_error (Python
 * tracebacks formatted into the message, the full text in
 * af_embed_last_traceback()).
 */
#ifndef ASYNCFUZZ_RUNNER_H
#define ASYNCFUZZ_RUNNER_H

#include <limits.h>
#include <stdint.h>

#include "harness/run/target.h"
#include "harness/run/trace.h"
#include "scenarios/ir.h"

/* The runner's own narrow input; commands and engines fill it from the
 * option table (harness/options/options.h: af_options_to_runner), where
 * each option's name, range, default and variable are written. */
typedef struct af_runner_options {
    int64_t max_iterations;
    int64_t max_vtime;
    double watchdog_seconds;
    int64_t slow_ticks;
    int pure_python_tasks; /* bool */
    /* bool: run the hot path in the pure-Python code of the reproducers
     * instead of the C accelerators (af_embed_init_accel); per process. */
    int no_accel;
    /* The target adapter: "" for stock asyncio, else a built-in name
     * (harness/targets/target_<name>.py: asyncio, asyncio_py, planted_wait_for)
     * or the path of a vendor's adapter file (.py), up to PATH_MAX - 1. */
    char target[PATH_MAX];
    /* Real milliseconds per tick of a real-time target (its loop's LOOP is
     * "realtime"); 0: the adapter's TICK_MS. */
    int tick_ms;
} af_runner_options;

/* The defaults every command uses unless told otherwise. They equal
 * probe.DEFAULT_OPTIONS (harness/py/probe.py), which the generated
 * reproducers use: tests/unit/test_runner.c checks that they agree. */
#define AF_RUNNER_DEFAULT_MAX_ITERATIONS 100000
#define AF_RUNNER_DEFAULT_MAX_VTIME 1000000
#define AF_RUNNER_DEFAULT_WATCHDOG_SECONDS 10.0
#define AF_RUNNER_DEFAULT_SLOW_TICKS 10

void af_runner_options_default(af_runner_options *o);

typedef struct af_runner af_runner;

/* Initialise the interpreter if needed and build a runner. NULL with err
 * set on failure. opts may be NULL (defaults). */
af_runner *af_runner_new(const af_runner_options *opts, af_error *err);
void af_runner_free(af_runner *r);
/* A runner whose interpreter is another process (harness/run/remote.h):
 * for a target that must not share its process with the one already here
 * (a PROCESS_WIDE adapter's). Its runs, target and loop mode are read
 * back from there; the same calls work on it. NULL with err set. */
af_runner *af_runner_new_remote(const af_runner_options *opts, af_error *err);
/* A runner for a second target next to `other` (may be NULL): in a
 * process of its own when other's target is PROCESS_WIDE, else here. */
af_runner *af_runner_new_beside(const af_runner *other, const af_runner_options *opts,
                                af_error *err);

/* The runner's options (budgets). */
const af_runner_options *af_runner_get_options(const af_runner *r);

/* The loop the target runs on (its adapter's LOOP, harness/py/loops.py):
 * "virtual" (the harness's VirtualLoop, deterministic), "selector" (its own
 * loop on virtual time, deterministic) or "realtime" (its own loop on
 * scaled real time: results must be rerun to know how often they
 * reproduce). */
const char *af_runner_loop_mode(const af_runner *r);

/* What the runner's target declared (harness/py/contract.py read it at
 * load; stock asyncio's when no adapter was named). */
const af_target_info *af_runner_target(const af_runner *r);

/* Whether the last failed af_runner_run (or teardown) failed because the
 * adapter does not match the contract (contract.AdapterError): an adapter
 * error, not a finding and not the harness's fault. */
bool af_runner_adapter_failed(const af_runner *r);

/* The adapter's teardown hook (once per process and adapter; nothing when
 * it has none). 0, or -1 with err set (an adapter error). */
int af_runner_teardown(af_runner *r, af_error *err);

/* Run s once. tr is reset and filled with the run's trace. Budget-stopped
 * runs are not errors: they end with a `budget` event (and get their
 * verdict from the oracles). Returns 0, or -1 with err set when the harness
 * itself failed (a Python exception escaped interp.run, or its result is
 * not a well-formed trace). */
int af_runner_run(af_runner *r, const af_scenario *s, af_trace *tr, af_error *err);

/* The Python objects a run returns, converted: event tuples (TRACE.md) ->
 * af_trace (appended to tr). Implemented in trace_py.c. Returns 0, or -1
 * with err set when an event is malformed (unknown kind, wrong arity or
 * field type). The GIL must be held. */
struct _object;
int af_trace_from_py(struct _object *events, af_trace *tr, af_error *err);

#endif
