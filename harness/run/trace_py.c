/* trace_py.c - the probe's event tuples (harness/run/TRACE.md) -> af_trace.
 *
 * Every tuple is (kind, vtime, iteration, fields...). Each field is checked
 * for its type: a malformed event is a harness bug, reported with the event
 * index and the field, never guessed at. Only borrowed references are used
 * (PyTuple_GET_ITEM, PyUnicode_AsUTF8), so nothing here can leak; strings
 * are copied into the trace's arena by the builders.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <string.h>

#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"

typedef struct conv {
    PyObject *ev; /* the tuple (borrowed) */
    Py_ssize_t n;
    int index; /* event index in the list */
    af_error *err;
    int failed;
} conv;

static void conv_fail(conv *c, Py_ssize_t field, const char *what)
{
    if (c->failed)
        return;
    c->failed = 1;
    if (PyErr_Occurred())
        PyErr_Clear();
    char path[64];
    snprintf(path, sizeof path, "events[%d][%zd]", c->index, field);
    af_error_set(c->err, path, "malformed trace event: %s", what);
}

static long long f_int(conv *c, Py_ssize_t i)
{
    if (c->failed)
        return -1;
    if (i >= c->n) {
        conv_fail(c, i, "missing field");
        return -1;
    }
    PyObject *o = PyTuple_GET_ITEM(c->ev, i);
    if (!PyLong_Check(o)) {
        conv_fail(c, i, "expected an int");
        return -1;
    }
    long long v = PyLong_AsLongLong(o);
    if (v == -1 && PyErr_Occurred())
        conv_fail(c, i, "int out of range");
    return v;
}

static int f_bool(conv *c, Py_ssize_t i)
{
    if (c->failed)
        return 0;
    if (i >= c->n) {
        conv_fail(c, i, "missing field");
        return 0;
    }
    PyObject *o = PyTuple_GET_ITEM(c->ev, i);
    if (o == Py_True)
        return 1;
    if (o == Py_False)
        return 0;
    conv_fail(c, i, "expected a bool");
    return 0;
}

/* A str (or None when none_ok) as UTF-8; NULL for None. */
static const char *f_str(conv *c, Py_ssize_t i, int none_ok)
{
    if (c->failed)
        return "";
    if (i >= c->n) {
        conv_fail(c, i, "missing field");
        return "";
    }
    PyObject *o = PyTuple_GET_ITEM(c->ev, i);
    if (o == Py_None && none_ok)
        return NULL;
    if (!PyUnicode_Check(o)) {
        conv_fail(c, i, none_ok ? "expected a str or None" : "expected a str");
        return "";
    }
    const char *s = PyUnicode_AsUTF8(o);
    if (!s) {
        conv_fail(c, i, "str not encodable as UTF-8");
        return "";
    }
    return s;
}

static int f_enum(conv *c, Py_ssize_t i, int (*from_name)(const char *), const char *what)
{
    const char *s = f_str(c, i, 0);
    if (c->failed)
        return 0;
    int v = from_name(s);
    if (v < 0) {
        conv_fail(c, i, what);
        return 0;
    }
    return v;
}

/* Optional trailing field (an int) at index i: -1 when absent. */
static int f_opt_int(conv *c, Py_ssize_t i)
{
    if (i >= c->n)
        return -1;
    return (int)f_int(c, i);
}

static int expect_arity(conv *c, Py_ssize_t lo, Py_ssize_t hi)
{
    if (c->n < lo || c->n > hi) {
        char msg[96];
        if (lo == hi)
            snprintf(msg, sizeof msg, "expected %zd fields, got %zd", lo, c->n);
        else
            snprintf(msg, sizeof msg, "expected %zd to %zd fields, got %zd", lo, hi, c->n);
        conv_fail(c, c->n, msg);
        return -1;
    }
    return 0;
}

static int convert_one(conv *c, af_trace *tr)
{
    const char *kname = f_str(c, 0, 0);
    if (c->failed)
        return -1;
    int kind = af_ev_kind_from_name(kname);
    if (kind < 0) {
        conv_fail(c, 0, "unknown event kind");
        return -1;
    }
    int64_t vt = f_int(c, 1), it = f_int(c, 2);
    if (c->failed)
        return -1;

    switch ((af_ev_kind)kind) {
    case AF_EV_TASK_NEW: {
        if (expect_arity(c, 8, 8) < 0)
            return -1;
        int task = (int)f_int(c, 3);
        const char *name = f_str(c, 4, 0);
        int parent = (int)f_int(c, 5), op = (int)f_int(c, 6), irt = (int)f_int(c, 7);
        if (c->failed)
            return -1;
        af_trace_task_new(tr, vt, it, task, name, parent, op, irt);
        break;
    }
    case AF_EV_TASK_DONE: {
        if (expect_arity(c, 8, 8) < 0)
            return -1;
        int task = (int)f_int(c, 3);
        int outcome = f_enum(c, 4, af_outcome_from_name, "unknown outcome");
        const char *et = f_str(c, 5, 0), *ea = f_str(c, 6, 0);
        int canc = (int)f_int(c, 7);
        if (c->failed)
            return -1;
        af_trace_task_done(tr, vt, it, task, (af_outcome)outcome, et, ea, canc);
        break;
    }
    case AF_EV_CANCEL: {
        if (expect_arity(c, 10, 10) < 0)
            return -1;
        int by = (int)f_int(c, 3), target = (int)f_int(c, 4), op = (int)f_int(c, 5);
        const char *msg = f_str(c, 6, 1);
        int ret = f_bool(c, 7), before = (int)f_int(c, 8), after = (int)f_int(c, 9);
        if (c->failed)
            return -1;
        af_trace_cancel(tr, vt, it, by, target, op, msg, ret, before, after);
        break;
    }
    case AF_EV_UNCANCEL: {
        if (expect_arity(c, 8, 8) < 0)
            return -1;
        int by = (int)f_int(c, 3), target = (int)f_int(c, 4), op = (int)f_int(c, 5);
        int before = (int)f_int(c, 6), after = (int)f_int(c, 7);
        if (c->failed)
            return -1;
        af_trace_uncancel(tr, vt, it, by, target, op, before, after);
        break;
    }
    case AF_EV_CAUGHT: {
        if (expect_arity(c, 7, 7) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4);
        const char *et = f_str(c, 5, 0), *msg = f_str(c, 6, 1);
        if (c->failed)
            return -1;
        af_trace_caught(tr, vt, it, task, op, et, msg);
        break;
    }
    case AF_EV_OP_ENTER: {
        if (expect_arity(c, 5, 6) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4), canc = f_opt_int(c, 5);
        if (c->failed)
            return -1;
        af_trace_op_enter(tr, vt, it, task, op, canc);
        break;
    }
    case AF_EV_OP_EXIT: {
        if (expect_arity(c, 9, 10) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4);
        int exit = f_enum(c, 5, af_opexit_from_name, "unknown op_exit outcome");
        const char *et = f_str(c, 6, 0), *ea = f_str(c, 7, 0);
        int canc = f_opt_int(c, 9);
        if (c->failed)
            return -1;
        PyObject *d = PyTuple_GET_ITEM(c->ev, 8);
        af_detail dk = AF_DETAIL_NONE;
        int64_t a = 0, b = 0;
        const char *ds = NULL;
        if (d == Py_None) {
            dk = AF_DETAIL_NONE;
        } else if (PyBool_Check(d)) {
            dk = AF_DETAIL_BOOL;
            a = d == Py_True;
        } else if (PyTuple_Check(d) || PyList_Check(d)) {
            PyObject *seq = d;
            Py_ssize_t len = PyTuple_Check(d) ? PyTuple_GET_SIZE(d) : PyList_GET_SIZE(d);
            PyObject *x0 = len == 2 ? PySequence_Fast_GET_ITEM(seq, 0) : NULL;
            PyObject *x1 = len == 2 ? PySequence_Fast_GET_ITEM(seq, 1) : NULL;
            if (!x0 || !PyLong_Check(x0) || !PyLong_Check(x1) || PyBool_Check(x0) ||
                PyBool_Check(x1)) {
                conv_fail(c, 8, "detail: expected a pair of ints");
                return -1;
            }
            dk = AF_DETAIL_PAIR;
            a = PyLong_AsLongLong(x0);
            b = PyLong_AsLongLong(x1);
            if (PyErr_Occurred()) {
                conv_fail(c, 8, "detail: int out of range");
                return -1;
            }
        } else if (PyUnicode_Check(d)) {
            dk = AF_DETAIL_STR;
            ds = f_str(c, 8, 0);
            if (c->failed)
                return -1;
        } else {
            conv_fail(c, 8, "detail: expected None, a bool, a pair or a str");
            return -1;
        }
        af_trace_op_exit(tr, vt, it, task, op, (af_opexit)exit, et, ea, dk, a, b, ds, canc);
        break;
    }
    case AF_EV_FINALLY: {
        if (expect_arity(c, 5, 5) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4);
        if (c->failed)
            return -1;
        af_trace_finally(tr, vt, it, task, op);
        break;
    }
    case AF_EV_ACQUIRE:
    case AF_EV_RELEASE: {
        if (expect_arity(c, 6, 6) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4);
        const char *res = f_str(c, 5, 0);
        if (c->failed)
            return -1;
        if (kind == AF_EV_ACQUIRE)
            af_trace_acquire(tr, vt, it, task, op, res);
        else
            af_trace_release(tr, vt, it, task, op, res);
        break;
    }
    case AF_EV_NESTED: {
        if (expect_arity(c, 9, 9) < 0)
            return -1;
        int task = (int)f_int(c, 3), op = (int)f_int(c, 4);
        const char *nk = f_str(c, 5, 0), *et = f_str(c, 6, 0);
        int running = f_bool(c, 7), closed = f_bool(c, 8);
        if (c->failed)
            return -1;
        af_trace_nested(tr, vt, it, task, op, nk, et, running, closed);
        break;
    }
    case AF_EV_LOOP_EXC: {
        if (expect_arity(c, 6, 6) < 0)
            return -1;
        const char *msg = f_str(c, 3, 0), *et = f_str(c, 4, 0);
        int task = (int)f_int(c, 5);
        if (c->failed)
            return -1;
        af_trace_loop_exc(tr, vt, it, msg, et, task);
        break;
    }
    case AF_EV_WARNING: {
        if (expect_arity(c, 5, 5) < 0)
            return -1;
        const char *cat = f_str(c, 3, 0), *msg = f_str(c, 4, 0);
        if (c->failed)
            return -1;
        af_trace_warning(tr, vt, it, cat, msg);
        break;
    }
    case AF_EV_UNRAISABLE: {
        if (expect_arity(c, 5, 5) < 0)
            return -1;
        const char *et = f_str(c, 3, 0), *msg = f_str(c, 4, 0);
        if (c->failed)
            return -1;
        af_trace_unraisable(tr, vt, it, et, msg);
        break;
    }
    case AF_EV_SLOW: {
        if (expect_arity(c, 5, 5) < 0)
            return -1;
        int64_t ticks = f_int(c, 3);
        const char *what = f_str(c, 4, 0);
        if (c->failed)
            return -1;
        af_trace_slow(tr, vt, it, ticks, what);
        break;
    }
    case AF_EV_PENDING: {
        if (expect_arity(c, 4, 4) < 0)
            return -1;
        int task = (int)f_int(c, 3);
        if (c->failed)
            return -1;
        af_trace_pending(tr, vt, it, task);
        break;
    }
    case AF_EV_END: {
        if (expect_arity(c, 5, 5) < 0)
            return -1;
        int outcome = f_enum(c, 3, af_outcome_from_name, "unknown outcome");
        const char *et = f_str(c, 4, 0);
        if (c->failed)
            return -1;
        af_trace_end(tr, vt, it, (af_outcome)outcome, et);
        break;
    }
    case AF_EV_BUDGET: {
        if (expect_arity(c, 4, 4) < 0)
            return -1;
        int which = f_enum(c, 3, af_budget_from_name, "unknown budget");
        if (c->failed)
            return -1;
        af_trace_budget(tr, vt, it, (af_budget)which);
        break;
    }
    default:
        conv_fail(c, 0, "unhandled event kind");
        return -1;
    }
    return 0;
}

int af_trace_from_py(PyObject *events, af_trace *tr, af_error *err)
{
    if (!PyList_Check(events) && !PyTuple_Check(events)) {
        af_error_set(err, "events", "malformed trace: interp.run returned %s, not a list",
                     Py_TYPE(events)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(events);
    PyObject **items = PySequence_Fast_ITEMS(events);
    for (Py_ssize_t i = 0; i < n; i++) {
        conv c = {items[i], 0, (int)i, err, 0};
        if (!PyTuple_Check(c.ev)) {
            char path[48];
            snprintf(path, sizeof path, "events[%zd]", i);
            af_error_set(err, path, "malformed trace event: %s, not a tuple",
                         Py_TYPE(c.ev)->tp_name);
            return -1;
        }
        c.n = PyTuple_GET_SIZE(c.ev);
        if (c.n < 3) {
            conv_fail(&c, c.n, "fewer than 3 fields");
            return -1;
        }
        if (convert_one(&c, tr) < 0)
            return -1;
    }
    return 0;
}
