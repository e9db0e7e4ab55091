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

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/remote.h"
#include "harness/run/scenario_py.h"

struct af_runner {
    af_runner_options opts;
    char loop_mode[16]; /* the target's LOOP: "virtual", "selector", "realtime" */
    PyObject *run;      /* interp.run */
    /* (max_iterations, max_vtime, watchdog_seconds, slow_ticks, pure_python_tasks,
     * target, tick_ms) */
    PyObject *options;
    PyObject *adapter_error; /* contract.AdapterError */
    af_target_info target;   /* what the target declared */
    bool adapter_failed;     /* the last error was an adapter error */
    af_remote *remote;       /* runs in a process of its own (remote.h) */
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

/* A frozenset of words of a table into bits: -1 on a word the table does
 * not know (contract.py checked them: the two lists disagree). */
static int word_bits(PyObject *set, int (*lookup)(const char *), uint32_t *bits)
{
    PyObject *it = set ? PyObject_GetIter(set) : NULL, *w;
    *bits = 0;
    if (!it)
        return -1;
    while ((w = PyIter_Next(it))) {
        const char *text = PyUnicode_Check(w) ? PyUnicode_AsUTF8(w) : NULL;
        int b = text ? lookup(text) : -1;
        Py_DECREF(w);
        if (b < 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "unknown word %s", text ? text : "?");
            Py_DECREF(it);
            return -1;
        }
        *bits |= 1u << b;
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static int text_attr(PyObject *obj, const char *name, char *buf, size_t cap)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    const char *t = v && PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
    if (t)
        snprintf(buf, cap, "%s", t);
    else if (v && !PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "%s is not a str", name);
    Py_XDECREF(v);
    return t ? 0 : -1;
}

static int vocab_lookup(const char *w)
{
    return af_vocab_from_word(w);
}

static int difference_lookup(const char *w)
{
    return af_difference_from_name(w);
}

/* bool(t.<name>), false when it is missing (the contract checked it). */
static bool flag_attr(PyObject *t, const char *name)
{
    PyObject *v = PyObject_GetAttrString(t, name);
    bool on = v && PyObject_IsTrue(v) == 1;
    Py_XDECREF(v);
    PyErr_Clear();
    return on;
}

/* The declarations of a loaded contract.Target into info. */
static int read_target(PyObject *t, af_target_info *info)
{
    PyObject *p = PyObject_GetAttrString(t, "PROVIDES");
    PyObject *u = p ? PyObject_GetAttrString(t, "UNSUPPORTED") : NULL;
    PyObject *d = u ? PyObject_GetAttrString(t, "DIFFERENCES") : NULL;
    int rc = -1;
    if (d && text_attr(t, "NAME", info->name, sizeof info->name) == 0 &&
        text_attr(t, "VERSION", info->version, sizeof info->version) == 0 &&
        word_bits(p, vocab_lookup, &info->provides) == 0 &&
        word_bits(u, vocab_lookup, &info->unsupported) == 0 &&
        word_bits(d, difference_lookup, &info->differences) == 0)
        rc = 0;
    info->stock = strcmp(info->name, "asyncio") == 0 || strcmp(info->name, "asyncio_py") == 0;
    Py_XDECREF(p);
    Py_XDECREF(u);
    Py_XDECREF(d);
    return rc;
}

/* contract.py's VOCABULARY_NAMES / DIFFERENCES must be target.def's, in
 * order. */
static int check_words(PyObject *contract, af_error *err)
{
    static const struct {
        const char *attr;
        int count;
        const char *(*name)(int);
    } lists[] = {
        {"VOCABULARY_NAMES", AF_VOCAB_COUNT, (const char *(*)(int))af_vocab_word},
        {"DIFFERENCES", AF_DIFF_COUNT, (const char *(*)(int))af_difference_name},
    };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        PyObject *v = PyObject_GetAttrString(contract, lists[l].attr);
        PyObject *seq = v ? PySequence_Fast(v, "not a sequence") : NULL;
        int ok = seq && PySequence_Fast_GET_SIZE(seq) == lists[l].count;
        for (int i = 0; ok && i < lists[l].count; i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
            const char *got = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            ok = got && strcmp(got, lists[l].name(i)) == 0;
        }
        Py_XDECREF(seq);
        Py_XDECREF(v);
        PyErr_Clear();
        if (!ok) {
            af_error_set(err, "contract",
                         "contract.%s (harness/py/contract.py) is not the list "
                         "of harness/run/target.def",
                         lists[l].attr);
            return -1;
        }
    }
    return 0;
}

/* Load the target adapter (stock asyncio's when none is named) once, so
 * that a bad one fails here with its traceback instead of inside every
 * run, and read what it declares. A file's folder becomes importable. */
static int load_target(af_runner *r, af_error *err)
{
    const char *target = r->opts.target[0] ? r->opts.target : "asyncio";
    char context[PATH_MAX + 64];
    snprintf(context, sizeof context, "loading the target adapter '%s'", target);
    if (strchr(target, '/') ||
        (strlen(target) > 3 && !strcmp(target + strlen(target) - 3, ".py"))) {
        char dir[PATH_MAX];
        if (!realpath(target, dir)) {
            af_error_set(err, "", "%s: %s", context, strerror(errno));
            return -1;
        }
        *strrchr(dir, '/') = '\0';
        if (af_embed_add_import_path(dir[0] ? dir : "/", err) < 0)
            return -1;
    }
    PyObject *contract = af_embed_import("contract", err);
    if (!contract)
        return -1;
    int rc = -1;
    PyObject *t = NULL;
    r->adapter_error = PyObject_GetAttrString(contract, "AdapterError");
    if (!r->adapter_error) {
        af_embed_error_from_python(err, "reading contract.AdapterError");
    } else if (check_words(contract, err) == 0) {
        t = PyObject_CallMethod(contract, "load_target", "s", target);
        if (!t || read_target(t, &r->target) < 0)
            af_embed_error_from_python(err, context);
        else
            rc = 0;
        if (t) {
            read_loop_mode(t, r->loop_mode, sizeof r->loop_mode);
            r->target.process_wide = flag_attr(t, "PROCESS_WIDE");
            r->target.reentrant = flag_attr(t, "REENTRANT");
            r->target.python_tasks = flag_attr(t, "PURE_PYTHON_TASKS");
        }
        r->target.own_loop = strcmp(r->loop_mode, "virtual") != 0;
        r->target.realtime = strcmp(r->loop_mode, "realtime") == 0;
        r->target.stock = r->target.stock || !r->opts.target[0];
    }
    Py_XDECREF(t);
    Py_DECREF(contract);
    return rc;
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
    if (load_target(r, err) < 0)
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
    af_remote_stop(r->remote);
    if (Py_IsInitialized()) {
        Py_CLEAR(r->run);
        Py_CLEAR(r->options);
        Py_CLEAR(r->adapter_error);
    }
    free(r);
}

const af_target_info *af_runner_target(const af_runner *r)
{
    return &r->target;
}

bool af_runner_adapter_failed(const af_runner *r)
{
    return r->adapter_failed;
}

int af_runner_teardown(af_runner *r, af_error *err)
{
    if (r->remote) /* its process tears down when it stops */
        return 0;
    PyObject *contract = af_embed_import("contract", err);
    if (!contract)
        return -1;
    const char *target = r->opts.target[0] ? r->opts.target : "asyncio";
    PyObject *x = PyObject_CallMethod(contract, "teardown", "s", target);
    Py_DECREF(contract);
    if (!x) {
        r->adapter_failed = true;
        af_embed_error_from_python(err, "the target adapter's teardown");
        return -1;
    }
    Py_DECREF(x);
    return 0;
}

af_runner *af_runner_new_remote(const af_runner_options *opts, af_error *err)
{
    af_runner *r = calloc(1, sizeof *r);
    if (!r) {
        af_error_set(err, "", "out of memory");
        return NULL;
    }
    r->opts = *opts;
    r->remote = af_remote_start(opts, &r->target, r->loop_mode, sizeof r->loop_mode, err);
    if (!r->remote) {
        free(r);
        return NULL;
    }
    return r;
}

af_runner *af_runner_new_beside(const af_runner *other, const af_runner_options *opts,
                                af_error *err)
{
    if (other && other->target.process_wide)
        return af_runner_new_remote(opts, err);
    return af_runner_new(opts, err);
}

int af_runner_run(af_runner *r, const af_scenario *s, af_trace *tr, af_error *err)
{
    int rc = -1;
    PyObject *scen = NULL, *events = NULL;

    if (r->remote)
        return af_remote_run(r->remote, s, tr, &r->adapter_failed, err);

    af_trace_reset(tr);
    r->adapter_failed = false;

    scen = af_scenario_to_py(s);
    if (!scen) {
        af_embed_error_from_python(err, "building the scenario tuples");
        goto done;
    }
    PyObject *args[2] = {scen, r->options};
    events = PyObject_Vectorcall(r->run, args, 2, NULL);
    if (!events) {
        r->adapter_failed = PyErr_ExceptionMatches(r->adapter_error);
        af_embed_error_from_python(err, r->adapter_failed ? "target adapter" : "interp.run");
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
