/* runner.c - one scenario through the embedded interpreter (runner.h).
 *
 * Reference counting: every new reference has one owner and is released on
 * every path; the runner owns `run` (interp.run) and `options` for its
 * lifetime. Per run, the only new references are the scenario tuple and the
 * result list, both released before returning, so a run leaves nothing
 * behind on the C side.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/scenario_py.h"

struct af_runner {
    af_runner_options opts;
    char loop_mode[16]; /* the target's LOOP: "virtual", "selector", "realtime" */
    PyObject *run;      /* interp.run */
    /* (max_iterations, max_vtime, watchdog_seconds, slow_ticks, pure_python_tasks,
     * target, tick_ms) */
    PyObject *options;
};

void af_runner_options_default(af_runner_options *o)
{
    o->max_iterations = AF_RUNNER_DEFAULT_MAX_ITERATIONS;
    o->max_vtime = AF_RUNNER_DEFAULT_MAX_VTIME;
    o->watchdog_seconds = AF_RUNNER_DEFAULT_WATCHDOG_SECONDS;
    o->slow_ticks = AF_RUNNER_DEFAULT_SLOW_TICKS;
    o->pure_python_tasks = 0;
    o->no_accel = 0;
    o->target[0] = '\0';
    o->tick_ms = 0;
}

const af_runner_options *af_runner_get_options(const af_runner *r)
{
    return &r->opts;
}

const char *af_runner_loop_mode(const af_runner *r)
{
    return r->loop_mode;
}

/* The adapter's LOOP (loops.py checked it) into mode[cap]. */
static void read_loop_mode(PyObject *t, char *mode, size_t cap)
{
    PyObject *m = PyObject_GetAttrString(t, "LOOP");
    const char *text = m && PyUnicode_Check(m) ? PyUnicode_AsUTF8(m) : NULL;
    snprintf(mode, cap, "%s", text ? text : "virtual");
    Py_XDECREF(m);
    PyErr_Clear();
}

/* Load the target adapter once, so that a bad one fails here with its
 * traceback instead of inside every run (its loop too, when it brings
 * one: loops.py). */
static int load_target(const char *target, char *mode, size_t cap, af_error *err)
{
    PyObject *probe = af_embed_import("probe", err);
    if (!probe)
        return -1;
    PyObject *t = PyObject_CallMethod(probe, "load_target", "s", target);
    Py_DECREF(probe);
    if (!t) {
        char context[300];
        snprintf(context, sizeof context, "loading the target adapter '%s'", target);
        af_embed_error_from_python(err, context);
        return -1;
    }
    read_loop_mode(t, mode, cap);
    Py_DECREF(t);
    return 0;
}

/* interp.KIND_NAMES must list af_op_kind_name(k) for k in 0..COUNT-1. */
static int check_kind_names(PyObject *interp, af_error *err)
{
    int rc = -1;
    PyObject *names = PyObject_GetAttrString(interp, "KIND_NAMES");
    PyObject *seq = NULL;
    if (!names) {
        af_embed_error_from_python(err, "reading interp.KIND_NAMES");
        return -1;
    }
    seq = PySequence_Fast(names, "interp.KIND_NAMES is not a sequence");
    if (!seq) {
        af_embed_error_from_python(err, "checking interp.KIND_NAMES");
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n != AF_OP_KIND_COUNT) {
        af_error_set(err, "interp.KIND_NAMES",
                     "the Python interpreter of scenarios knows %zd op kinds, the C IR %d: "
                     "harness/py/interp.py and scenarios/ir.h disagree",
                     n, (int)AF_OP_KIND_COUNT);
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        const char *want = af_op_kind_name((af_op_kind)k);
        const char *got = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (!got) {
            PyErr_Clear();
            af_error_set(err, "interp.KIND_NAMES", "entry %zd is not a str", k);
            goto done;
        }
        if (!want || strcmp(want, got) != 0) {
            af_error_set(err, "interp.KIND_NAMES",
                         "op kind %zd is '%s' in harness/py/interp.py but '%s' in scenarios/ir.h",
                         k, got, want ? want : "(none)");
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(seq);
    Py_DECREF(names);
    return rc;
}

af_runner *af_runner_new(const af_runner_options *opts, af_error *err)
{
    af_runner *r = NULL;
    PyObject *interp = NULL;

    if (af_embed_init_accel(!(opts && opts->no_accel), err) < 0)
        return NULL;
    r = calloc(1, sizeof *r);
    if (!r) {
        af_error_set(err, "", "out of memory");
        return NULL;
    }
    if (opts)
        r->opts = *opts;
    else
        af_runner_options_default(&r->opts);

    interp = af_embed_import("interp", err);
    if (!interp)
        goto error;
    if (check_kind_names(interp, err) < 0)
        goto error;
    r->run = PyObject_GetAttrString(interp, "run");
    if (!r->run) {
        af_embed_error_from_python(err, "reading interp.run");
        goto error;
    }
    r->options =
        Py_BuildValue("(LLdLOzi)", (long long)r->opts.max_iterations, (long long)r->opts.max_vtime,
                      r->opts.watchdog_seconds, (long long)r->opts.slow_ticks,
                      r->opts.pure_python_tasks ? Py_True : Py_False,
                      r->opts.target[0] ? r->opts.target : NULL, r->opts.tick_ms);
    if (!r->options) {
        af_embed_error_from_python(err, "building the run options");
        goto error;
    }
    snprintf(r->loop_mode, sizeof r->loop_mode, "virtual");
    if (r->opts.target[0] &&
        load_target(r->opts.target, r->loop_mode, sizeof r->loop_mode, err) < 0)
        goto error;
    Py_DECREF(interp);
    return r;
error:
    Py_XDECREF(interp);
    af_runner_free(r);
    return NULL;
}

void af_runner_free(af_runner *r)
{
    if (!r)
        return;
    if (Py_IsInitialized()) {
        Py_CLEAR(r->run);
        Py_CLEAR(r->options);
    }
    free(r);
}

int af_runner_run(af_runner *r, const af_scenario *s, af_trace *tr, af_error *err)
{
    int rc = -1;
    PyObject *scen = NULL, *events = NULL;

    af_trace_reset(tr);

    scen = af_scenario_to_py(s);
    if (!scen) {
        af_embed_error_from_python(err, "building the scenario tuples");
        goto done;
    }
    PyObject *args[2] = {scen, r->options};
    events = PyObject_Vectorcall(r->run, args, 2, NULL);
    if (!events) {
        af_embed_error_from_python(err, "interp.run");
        goto done;
    }
    if (af_trace_from_py(events, tr, err) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(events);
    Py_XDECREF(scen);
    return rc;
}
