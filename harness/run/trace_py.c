/* trace_py.c - the probe's event tuples (harness/run/TRACE.md) -> af_trace.
 *
 * Every tuple is (kind, vtime, iteration, fields...), its fields as the
 * kind's layout says (trace_events.def, af_event_layout_of). The arity and
 * every field's type are checked: a malformed event is a harness bug,
 * reported with the event index, the kind and the field's index and label,
 * never guessed at (a bool is not an int here, as json.dumps writes it
 * `true`). Nothing here lists an event's fields. Only borrowed references
 * are used (PyTuple_GET_ITEM, PyUnicode_AsUTF8), so nothing here can leak;
 * strings are copied into the trace's arena by af_trace_append.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"

typedef struct conv {
    PyObject *ev; /* the tuple (borrowed) */
    Py_ssize_t n;
    int index;                   /* event index in the list */
    const af_event_layout *kind; /* NULL until the kind is known */
    af_error *err;
} conv;

/* Fail at tuple index `field`: the error names the event, and the field by
 * its index and label. Returns -1. */
static int conv_fail(conv *c, Py_ssize_t field, const char *what)
{
    if (PyErr_Occurred())
        PyErr_Clear();
    char path[64];
    snprintf(path, sizeof path, "events[%d][%zd]", c->index, field);
    if (!c->kind)
        af_error_set(c->err, path, "malformed trace event: %s", what);
    else if (field < 3 || field >= 3 + c->kind->nfields)
        af_error_set(c->err, path, "malformed trace event: %s: %s", c->kind->name, what);
    else
        af_error_set(c->err, path, "malformed trace event: %s field %zd (%s): %s", c->kind->name,
                     field, c->kind->fields[field - 3].label, what);
    return -1;
}

/* An int (not a bool) in [lo, hi] at tuple index i. */
static int get_int(conv *c, Py_ssize_t i, long long lo, long long hi, long long *out)
{
    PyObject *o = PyTuple_GET_ITEM(c->ev, i);
    if (!PyLong_Check(o) || PyBool_Check(o))
        return conv_fail(c, i, "expected an int");
    long long v = PyLong_AsLongLong(o);
    if ((v == -1 && PyErr_Occurred()) || v < lo || v > hi)
        return conv_fail(c, i, "int out of range");
    *out = v;
    return 0;
}

/* A str as UTF-8 at tuple index i; NULL for None when none_ok. */
static int get_str(conv *c, Py_ssize_t i, int none_ok, const char **out)
{
    PyObject *o = PyTuple_GET_ITEM(c->ev, i);
    if (o == Py_None && none_ok) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(o))
        return conv_fail(c, i, none_ok ? "expected a str or None" : "expected a str");
    *out = PyUnicode_AsUTF8(o);
    return *out ? 0 : conv_fail(c, i, "str not encodable as UTF-8");
}

/* op_exit's detail: None, a bool, a pair of ints (tuple or list), a str. */
static int get_detail(conv *c, Py_ssize_t i, af_event *ev)
{
    PyObject *d = PyTuple_GET_ITEM(c->ev, i);
    if (d == Py_None) {
        ev->detail = AF_DETAIL_NONE;
    } else if (PyBool_Check(d)) {
        ev->detail = AF_DETAIL_BOOL;
        ev->detail_a = d == Py_True;
    } else if (PyTuple_Check(d) || PyList_Check(d)) {
        Py_ssize_t len = PyTuple_Check(d) ? PyTuple_GET_SIZE(d) : PyList_GET_SIZE(d);
        PyObject *x0 = len == 2 ? PySequence_Fast_GET_ITEM(d, 0) : NULL;
        PyObject *x1 = len == 2 ? PySequence_Fast_GET_ITEM(d, 1) : NULL;
        if (!x0 || !PyLong_Check(x0) || !PyLong_Check(x1) || PyBool_Check(x0) || PyBool_Check(x1))
            return conv_fail(c, i, "detail: expected a pair of ints");
        ev->detail = AF_DETAIL_PAIR;
        ev->detail_a = PyLong_AsLongLong(x0);
        ev->detail_b = PyLong_AsLongLong(x1);
        if (PyErr_Occurred())
            return conv_fail(c, i, "detail: int out of range");
    } else if (PyUnicode_Check(d)) {
        ev->detail = AF_DETAIL_STR;
        return get_str(c, i, 0, &ev->detail_str);
    } else {
        return conv_fail(c, i, "detail: expected None, a bool, a pair or a str");
    }
    return 0;
}

/* Field f of the tuple (at index i) into its member of ev. */
static int get_field(conv *c, Py_ssize_t i, const af_field_layout *f, af_event *ev)
{
    char *member = (char *)ev + f->offset;
    long long v;
    switch (f->type) {
    case AF_FIELD_INT:
        if (get_int(c, i, INT_MIN, INT_MAX, &v) < 0)
            return -1;
        *(int *)member = (int)v;
        return 0;
    case AF_FIELD_I64:
        if (get_int(c, i, INT64_MIN, INT64_MAX, &v) < 0)
            return -1;
        *(int64_t *)member = v;
        return 0;
    case AF_FIELD_BOOL: {
        PyObject *o = PyTuple_GET_ITEM(c->ev, i);
        if (o != Py_True && o != Py_False)
            return conv_fail(c, i, "expected a bool");
        *(int *)member = o == Py_True;
        return 0;
    }
    case AF_FIELD_STR:
    case AF_FIELD_OPT_STR:
        return get_str(c, i, f->type == AF_FIELD_OPT_STR, (const char **)member);
    case AF_FIELD_ENUM: {
        const char *s;
        if (get_str(c, i, 0, &s) < 0)
            return -1;
        for (int k = 0; k < f->nvalues; k++)
            if (f->values[k][0] == s[0] && strcmp(f->values[k], s) == 0) {
                *(int *)member = k;
                return 0;
            }
        return conv_fail(c, i, "not one of its names");
    }
    case AF_FIELD_DETAIL:
        return get_detail(c, i, ev);
    }
    return conv_fail(c, i, "unknown field type");
}

static int convert_one(conv *c, af_trace *tr)
{
    const char *kname;
    if (get_str(c, 0, 0, &kname) < 0)
        return -1;
    int kind = af_ev_kind_from_name(kname);
    if (kind < 0)
        return conv_fail(c, 0, "unknown event kind");
    c->kind = af_event_layout_of((af_ev_kind)kind);
    if (c->n != 3 + c->kind->nfields) {
        char msg[64];
        snprintf(msg, sizeof msg, "expected %d fields, got %zd", 3 + c->kind->nfields, c->n);
        return conv_fail(c, c->n, msg);
    }
    long long vt, it;
    if (get_int(c, 1, INT64_MIN, INT64_MAX, &vt) < 0 ||
        get_int(c, 2, INT64_MIN, INT64_MAX, &it) < 0)
        return -1;
    af_event ev;
    af_event_init(&ev, (af_ev_kind)kind, vt, it);
    for (int i = 0; i < c->kind->nfields; i++)
        if (get_field(c, 3 + i, &c->kind->fields[i], &ev) < 0)
            return -1;
    af_trace_append(tr, &ev); /* full: the trace says overflow */
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
        conv c = {items[i], 0, (int)i, NULL, err};
        if (!PyTuple_Check(c.ev)) {
            char path[48];
            snprintf(path, sizeof path, "events[%zd]", i);
            af_error_set(err, path, "malformed trace event: %s, not a tuple",
                         Py_TYPE(c.ev)->tp_name);
            return -1;
        }
        c.n = PyTuple_GET_SIZE(c.ev);
        if (c.n < 3) { /* named when its kind is known (an event without fields) */
            PyObject *k = c.n ? PyTuple_GET_ITEM(c.ev, 0) : NULL;
            int kind = k && PyUnicode_Check(k) ? af_ev_kind_from_name(PyUnicode_AsUTF8(k)) : -1;
            PyErr_Clear();
            c.kind = kind >= 0 ? af_event_layout_of((af_ev_kind)kind) : NULL;
            conv_fail(&c, c.n, "fewer than 3 fields");
            return -1;
        }
        if (convert_one(&c, tr) < 0)
            return -1;
    }
    return 0;
}
