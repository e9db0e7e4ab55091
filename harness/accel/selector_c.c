/* selector_c.c - virtual time for a loop under test, in C (selector_c.h;
 * the module `_af_selector`).
 *
 * A loop written in Python (asyncio's SelectorEventLoop, a vendor's
 * subclass, nest_asyncio's patched loop) runs on virtual time through
 * harness/py/loops.py: its own _run_once runs (the code under test, left
 * in Python), around a VirtualSelector whose select() is the clock, and
 * its callbacks run through handles whose _run also reports slow
 * callbacks. Those two run once per iteration and once per callback; here
 * they are C, statement for statement:
 *
 *   VirtualSelector.select(timeout)   budgets, deadlock, watchdog, the
 *                                     clock's jump to the earliest timer;
 *   VHandle._run / VTimerHandle._run  loops.py's _run_timed;
 *   VirtualBase.time()                the clock;
 *   drive(loop, pred)                 the loop of VirtualBase.run_until:
 *                                     the class's own _run_once until
 *                                     pred() (or loop.halted), a stop()
 *                                     ending an iteration.
 *
 * What it must not do: differ in anything a scenario or a trace could
 * observe from the Python it replaces (a reproducer runs that Python, and
 * the selector loop's traces must be the VirtualLoop's), or keep a loop or
 * a handle beyond a call. The classes and functions bind() is given live
 * for the process, as the embedded interpreter does.
 */
#include "harness/accel/selector_c.h"
#include "harness/accel/loop_c.h"
#include "harness/accel/names.h"
#include "harness/accel/probe_c.h"

#include <time.h>

#define AF_SELECTOR_NAMES(X)                                                                       \
    X(N_loop, "loop")                                                                              \
    X(N_budget_hit, "budget_hit")                                                                  \
    X(N_max_iteration, "max_iteration")                                                            \
    X(N_max_vtime, "max_vtime")                                                                    \
    X(N_deadline, "deadline")                                                                      \
    X(N_hang, "hang")                                                                              \
    X(N_deadlock, "deadlock")                                                                      \
    X(N_watchdog, "watchdog")                                                                      \
    X(N__run_once, "_run_once")                                                                    \
    X(N_stopped, "stopped")                                                                        \
    X(N_append, "append")

AF_NAME_TABLE(AF_SELECTOR_NAMES, N_COUNT, name_text)
static PyObject *N[N_COUNT];
static PyObject *g_one;
static PyObject *g_zero;

/* What bind() was given. */
static PyObject *g_budget_exc;      /* loops.VirtualBudget */
static PyObject *g_callback_failed; /* vloop._callback_failed */
static long long g_watchdog_mask;   /* loops._WATCHDOG_MASK */

/* time.monotonic(): CPython reads CLOCK_MONOTONIC on Linux. */
static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* loop.budget_hit = why; raise VirtualBudget(why). Always NULL. */
static PyObject *budget_hit(PyObject *loop, PyObject *why)
{
    if (af_attr_set(loop, N[N_budget_hit], why) == 0)
        PyErr_SetObject(g_budget_exc, why);
    return NULL;
}

/* getattr(obj, name) <op> getattr(obj2, name2) as a truth value: 1, 0, -1. */
static int attr_compare(PyObject *a, PyObject *b, int op)
{
    if (!a || !b)
        return -1;
    return PyObject_RichCompareBool(a, b, op);
}

/* `it >= loop.max_iteration or loop._clock > loop.max_vtime`: 1, 0, -1. */
static int over_budget(PyObject *loop, PyObject *it)
{
    PyObject *max_it = af_attr_get(loop, N[N_max_iteration]);
    int r = attr_compare(it, max_it, Py_GE);
    Py_XDECREF(max_it);
    if (r != 0)
        return r;
    PyObject *clock = af_loop_get(loop, AF_L_CLOCK);
    PyObject *max_vtime = clock ? af_attr_get(loop, N[N_max_vtime]) : NULL;
    r = attr_compare(clock, max_vtime, Py_GT);
    Py_XDECREF(clock);
    Py_XDECREF(max_vtime);
    return r;
}

/* `it & _WATCHDOG_MASK == _WATCHDOG_MASK and time.monotonic() >
 * loop.deadline`: 1, 0, -1. */
static int watchdog_expired(PyObject *loop, PyObject *it)
{
    long long n = PyLong_AsLongLong(it);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if ((n & g_watchdog_mask) != g_watchdog_mask)
        return 0;
    double now = monotonic_seconds();
    PyObject *deadline = af_attr_get(loop, N[N_deadline]);
    if (!deadline)
        return -1;
    PyObject *now_obj = PyFloat_FromDouble(now);
    int r = attr_compare(now_obj, deadline, Py_GT);
    Py_XDECREF(now_obj);
    Py_DECREF(deadline);
    return r;
}

/* The loop waits for its earliest timer: when = loop._scheduled[0]._when;
 * the clock moves to int(when), or the next whole tick. New reference or
 * NULL. */
static PyObject *earliest_tick(PyObject *loop)
{
    PyObject *sched = af_loop_get(loop, AF_L_SCHEDULED);
    PyObject *first = sched ? PySequence_GetItem(sched, 0) : NULL;
    Py_XDECREF(sched);
    PyObject *when = first ? af_handle_get(first, AF_H_WHEN) : NULL;
    Py_XDECREF(first);
    PyObject *iw = when ? PyNumber_Long(when) : NULL;
    int same = iw ? PyObject_RichCompareBool(iw, when, Py_EQ) : -1;
    Py_XDECREF(when);
    if (same < 0) {
        Py_XDECREF(iw);
        return NULL;
    }
    if (same)
        return iw;
    PyObject *next = PyNumber_Add(iw, g_one);
    Py_DECREF(iw);
    return next;
}

/* The budgets and the clock, once the loop is known to wait (timeout > 0):
 * 0, or -1 with VirtualBudget or another exception raised. */
static int advance_clock(PyObject *loop)
{
    PyObject *now = earliest_tick(loop);
    if (!now)
        return -1;
    PyObject *max_vtime = af_attr_get(loop, N[N_max_vtime]);
    int r = attr_compare(now, max_vtime, Py_GT);
    Py_XDECREF(max_vtime);
    if (r == 0) {
        r = af_loop_set(loop, AF_L_CLOCK, now);
    } else if (r > 0) {
        budget_hit(loop, N[N_hang]);
        r = -1;
    }
    Py_DECREF(now);
    return r;
}

/* Everything select() checks and moves, for loop: 0, or -1 raised. */
static int select_step(PyObject *loop, PyObject *timeout)
{
    PyObject *hit = af_attr_get(loop, N[N_budget_hit]);
    if (!hit)
        return -1;
    if (hit != Py_None) { /* unwind the nested runs too */
        PyErr_SetObject(g_budget_exc, hit);
        Py_DECREF(hit);
        return -1;
    }
    Py_DECREF(hit);
    PyObject *it = af_loop_get(loop, AF_L_ITERATION), *next = NULL;
    if (!it)
        return -1;
    int rc = -1, r = over_budget(loop, it);
    if (r != 0) {
        if (r > 0)
            budget_hit(loop, N[N_hang]);
        goto done;
    }
    if (timeout == Py_None) { /* nothing ready, no timer: a real loop blocks forever */
        budget_hit(loop, N[N_deadlock]);
        goto done;
    }
    if ((r = watchdog_expired(loop, it)) != 0) {
        if (r > 0)
            budget_hit(loop, N[N_watchdog]);
        goto done;
    }
    if ((r = PyObject_RichCompareBool(timeout, g_zero, Py_GT)) < 0)
        goto done;
    if (r && advance_clock(loop) < 0)
        goto done;
    next = PyNumber_Add(it, g_one);
    rc = next ? af_loop_set(loop, AF_L_ITERATION, next) : -1;
done:
    Py_XDECREF(next);
    Py_DECREF(it);
    return rc;
}

/* VirtualSelector.select(self, timeout=None) */
static PyObject *virtual_select(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "select() takes at most 1 argument (%zd given)", nargs);
        return NULL;
    }
    PyObject *loop = af_attr_get(self, N[N_loop]);
    if (!loop)
        return NULL;
    int rc = select_step(loop, nargs ? args[0] : Py_None);
    Py_DECREF(loop);
    return rc < 0 ? NULL : PyList_New(0);
}

/* loops._run_timed(h): Handle._run, plus the slow-callback event. */
static PyObject *run_timed(PyObject *h, PyObject *unused)
{
    (void)unused;
    PyObject *loop = af_handle_get(h, AF_H_LOOP), *t0 = NULL, *it0 = NULL, *x = NULL;
    PyObject *result = NULL;
    if (!loop || !(t0 = af_loop_get(loop, AF_L_CLOCK)) ||
        !(it0 = af_loop_get(loop, AF_L_ITERATION)))
        goto done;
    x = af_run_handle(h);
    if (x)
        Py_CLEAR(x);
    else if (af_callback_failed(g_callback_failed, h) < 0)
        goto done;
    PyObject *clock = af_loop_get(loop, AF_L_CLOCK);
    int moved = attr_compare(clock, t0, Py_NE);
    Py_XDECREF(clock);
    if (moved < 0 || (moved && af_slow_check(loop, t0, it0) < 0))
        goto done;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(it0);
    Py_XDECREF(t0);
    Py_XDECREF(loop);
    return result;
}

/* VirtualBase.time(self): self._clock */
static PyObject *virtual_time(PyObject *self, PyObject *unused)
{
    (void)unused;
    return af_loop_get(self, AF_L_CLOCK);
}

/* After an iteration that stop() ended: loop._stopping = False and the
 * ("stopped", clock, iteration) event. 0, -1. */
static int record_stop(PyObject *loop)
{
    if (af_loop_set(loop, AF_L_STOPPING, Py_False) < 0)
        return -1;
    PyObject *events = af_loop_get(loop, AF_L_EVENTS);
    PyObject *clock = events ? af_loop_get(loop, AF_L_CLOCK) : NULL;
    PyObject *it = clock ? af_loop_get(loop, AF_L_ITERATION) : NULL;
    PyObject *ev = it ? PyTuple_Pack(3, N[N_stopped], clock, it) : NULL;
    PyObject *x = ev ? PyObject_CallMethodOneArg(events, N[N_append], ev) : NULL;
    int rc = x ? 0 : -1;
    Py_XDECREF(x);
    Py_XDECREF(ev);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    Py_XDECREF(events);
    return rc;
}

/* Whether the run is over: loop.halted if pred is None, else pred(). */
static int run_over(PyObject *loop, PyObject *pred)
{
    PyObject *v = pred == Py_None ? af_loop_get(loop, AF_L_HALTED) : PyObject_CallNoArgs(pred);
    if (!v)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* drive(loop, pred): VirtualBase.run_until's loop. None when pred() holds,
 * the budget's name when select() set one; VirtualBudget and the
 * watchdog's exception propagate, as in the Python loop. */
static PyObject *drive(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "drive(loop, pred)");
        return NULL;
    }
    PyObject *loop = args[0], *pred = args[1];
    for (;;) {
        int over = run_over(loop, pred);
        if (over)
            return over < 0 ? NULL : Py_NewRef(Py_None);
        PyObject *x = PyObject_CallMethodNoArgs(loop, N[N__run_once]);
        if (!x)
            return NULL;
        Py_DECREF(x);
        PyObject *hit = af_attr_get(loop, N[N_budget_hit]);
        if (!hit || hit != Py_None)
            return hit;
        Py_DECREF(hit);
        int stopping = af_loop_true(loop, AF_L_STOPPING);
        if (stopping < 0 || (stopping && record_stop(loop) < 0))
            return NULL;
    }
}

static PyMethodDef selector_methods[] = {
    {"select", (PyCFunction)(void (*)(void))virtual_select, METH_FASTCALL,
     "VirtualSelector.select in C (harness/accel/selector_c.c)."},
    {"_run", run_timed, METH_NOARGS, "loops._run_timed in C (harness/accel/selector_c.c)."},
    {"time", virtual_time, METH_NOARGS, "VirtualBase.time in C (harness/accel/selector_c.c)."},
    {NULL, NULL, 0, NULL},
};

/* method(cls, name): cls's C method `name` ("select", "_run" or "time"). */
static PyObject *method(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2 || !PyType_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "method(cls, name)");
        return NULL;
    }
    for (PyMethodDef *m = selector_methods; m->ml_name; m++)
        if (PyUnicode_CompareWithASCIIString(args[1], m->ml_name) == 0)
            return PyDescr_NewMethod((PyTypeObject *)args[0], m);
    PyErr_Format(PyExc_ValueError, "_af_selector.method: no C method %R", args[1]);
    return NULL;
}

/* bind(VirtualBudget, callback_failed, watchdog_mask) */
static PyObject *bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 3 || !PyExceptionClass_Check(args[0]) || !PyCallable_Check(args[1]) ||
        !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "bind(VirtualBudget, callback_failed, watchdog_mask)");
        return NULL;
    }
    long long mask = PyLong_AsLongLong(args[2]);
    if (mask == -1 && PyErr_Occurred())
        return NULL;
    Py_XSETREF(g_budget_exc, Py_NewRef(args[0]));
    Py_XSETREF(g_callback_failed, Py_NewRef(args[1]));
    g_watchdog_mask = mask;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL,
     "bind(VirtualBudget, callback_failed, watchdog_mask): what select and _run use."},
    {"method", (PyCFunction)(void (*)(void))method, METH_FASTCALL,
     "method(cls, name): the C select (VirtualSelector), _run (the handle classes) or time."},
    {"drive", (PyCFunction)(void (*)(void))drive, METH_FASTCALL,
     "drive(loop, pred): the loop of VirtualBase.run_until."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_af_selector",
    "Virtual time for a loop under test, in C (asyncfuzz harness/accel/selector_c.c).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

int af_selector_c_register(void)
{
    if (!N[0] && af_intern_names(N, name_text, N_COUNT) < 0)
        return -1;
    if (!g_one && (!(g_one = PyLong_FromLong(1)) || !(g_zero = PyLong_FromLong(0))))
        return -1;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return -1;
    int rc = PyDict_SetItemString(PyImport_GetModuleDict(), "_af_selector", m);
    Py_DECREF(m);
    return rc;
}
