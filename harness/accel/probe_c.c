/* probe_c.c - the probe's per-task hooks in C (probe_c.h).
 *
 * The module `_af_probe`, created from C by af_probe_c_register():
 *
 *   bind(globals)          probe.py's module globals: every function below
 *                          reads and writes the probe's state there (EVENTS,
 *                          LOOP, ALL, _next_id, ...), by name, at each call,
 *                          exactly as the Python functions do.
 *   _task_factory(loop, coro, context=None)
 *   _on_done(task)         probe._task_factory / probe._on_done, statement
 *                          for statement (same reads, writes, calls, in the
 *                          same order; same event tuples).
 *   run(root_name, make_root, prim_spec=(), options=None, target=None)
 *                          probe.run: one scenario run from state reset to
 *                          final collection, step for step (the rare paths
 *                          call the Python helpers).
 *   use_id_hash(cls)       make cls's instances hash by their `_af_id` slot
 *                          in C (tp_hash), the value ProbeTask.__hash__
 *                          returns, without a Python frame per hash.
 *
 * Reference counting follows CPython's own discipline: every new reference
 * is owned by one variable and released on every path (Py_XDECREF at a
 * single exit label); borrowed references (dict lookups) are never
 * released and never kept across a call that could run Python code.
 * The module's state (the globals dict and interned names) lives for the
 * process, as the embedded interpreter does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdarg.h>

#include "harness/accel/loop_c.h"
#include "harness/accel/names.h"
#include "harness/accel/probe_c.h"
#include "harness/accel/watchdog_c.h"

/* Interned names, created once: X(enum id, text), one list so the two
 * cannot drift apart. */
#define AF_PROBE_NAMES(X)                                                                          \
    X(N_EVENTS, "EVENTS")                                                                          \
    X(N_LOOP, "LOOP")                                                                              \
    X(N_CUR_OP, "CUR_OP")                                                                          \
    X(N_ALL, "ALL")                                                                                \
    X(N_ROOT, "ROOT")                                                                              \
    X(N_root_seen, "_root_seen")                                                                   \
    X(N_next_id, "_next_id")                                                                       \
    X(N_pending_name, "_pending_name")                                                             \
    X(N_pending_ir, "_pending_ir")                                                                 \
    X(N_TaskCls, "_TaskCls")                                                                       \
    X(N_TaskInit, "_TaskInit")                                                                     \
    X(N_on_done, "_on_done")                                                                       \
    X(N_tname, "tname")                                                                            \
    X(N_TN, "_TN")                                                                                 \
    X(N_ADDRESS, "_ADDRESS")                                                                       \
    X(N_PyTask, "PyTask")                                                                          \
    X(N_current_tasks, "_current_tasks")                                                           \
    X(N_af_id, "_af_id")                                                                           \
    X(N_qualname, "__qualname__")                                                                  \
    X(N_cancelled, "cancelled")                                                                    \
    X(N_cancelling, "cancelling")                                                                  \
    X(N_cancel_message, "_cancel_message")                                                         \
    X(N_exception, "_exception")                                                                   \
    X(N_cancelled_exc, "_cancelled_exc")                                                           \
    X(N_add_done_callback, "add_done_callback")                                                    \
    X(N_append, "append")                                                                          \
    X(N_args, "args")                                                                              \
    X(N_sub, "sub")                                                                                \
    X(N_loop, "loop")                                                                              \
    X(N_name, "name")                                                                              \
    X(N_context, "context")                                                                        \
    X(N_purge_cancelled, "_purge_cancelled")                                                       \
    X(N_popleft, "popleft")                                                                        \
    X(N_run, "run")                                                                                \
    X(N_time, "_time")                                                                             \
    X(N_monotonic, "monotonic")                                                                    \
    X(N_callback_failed, "_callback_failed")                                                       \
    X(N_WATCHDOG_EVERY, "WATCHDOG_EVERY")                                                          \
    X(N_expired, "expired")                                                                        \
    X(N_groups, "groups")                                                                          \
    X(N_tasks, "tasks")                                                                            \
    X(N_close, "close")                                                                            \
    X(N_create_task, "create_task")                                                                \
    X(N_IN_CANCEL, "_IN_CANCEL")                                                                   \
    X(N_CANCEL_MSG, "_CANCEL_MSG")                                                                 \
    X(N_cancel, "cancel")                                                                          \
    X(N_DEFAULT_OPTIONS, "DEFAULT_OPTIONS")                                                        \
    X(N_PURE_PYTHON_TASKS, "PURE_PYTHON_TASKS")                                                    \
    X(N_clear, "clear")                                                                            \
    X(N_asyncio, "asyncio")                                                                        \
    X(N_TARGET, "TARGET")                                                                          \
    X(N_TASK_KINDS, "_TASK_KINDS")                                                                 \
    X(N_task_new, "_task_new")                                                                     \
    X(N_exception_handler, "_exception_handler")                                                   \
    X(N_task_factory, "_task_factory")                                                             \
    X(N_reset, "reset")                                                                            \
    X(N_filters_mutated, "_filters_mutated")                                                       \
    X(N_warnings, "warnings")                                                                      \
    X(N_sys, "sys")                                                                                \
    X(N_showwarning, "showwarning")                                                                \
    X(N_unraisablehook, "unraisablehook")                                                          \
    X(N_filters, "filters")                                                                        \
    X(N_showwarning_hook, "_showwarning")                                                          \
    X(N_ALWAYS, "_ALWAYS")                                                                         \
    X(N_unraisablehook_hook, "_unraisablehook")                                                    \
    X(N_exception_method, "exception")                                                             \
    X(N_done, "done")                                                                              \
    X(N_make_prims, "make_prims")                                                                  \
    X(N_run_until, "run_until")                                                                    \
    X(N_all_done, "_all_done")                                                                     \
    X(N_gc, "gc")                                                                                  \
    X(N_collect, "collect")                                                                        \
    X(N_finish_late_tasks, "_finish_late_tasks")                                                   \
    X(N_clear_queues, "clear_queues")                                                              \
    X(N_leave_running, "leave_running")                                                            \
    X(N_enter_running, "enter_running")                                                            \
    X(N_get_loop, "get_loop")                                                                      \
    X(N_timeouts, "timeouts")                                                                      \
    X(N_prims, "prims")

AF_NAME_TABLE(AF_PROBE_NAMES, N_COUNT, name_text)

static PyObject *N[N_COUNT];

/* Constant values of the events. */
static PyObject *s_task_new, *s_task_done, *s_result, *s_exception, *s_cancelled, *s_empty,
    *s_empty_args, *s_cancelled_error_name, *s_task, *s_at, *s_op_enter, *s_op_exit, *s_ok,
    *s_raise, *s_end, *s_budget, *s_pending;
static PyObject *g_globals;         /* probe's globals (bind) */
static PyObject *g_cancelled_error; /* asyncio.CancelledError */
static PyObject *g_init_kwnames;    /* ("loop", "name", "context") */
static PyObject *g_name_kwnames;    /* ("name",) */
static PyObject *g_empty_tuple;
static PyObject *g_minus_one;
static PyObject *g_one;
static PyObject *g_zero;
static PyObject *g_thousand;

/* A probe global: borrowed reference, or NULL with NameError set. */
static PyObject *gget(int n)
{
    if (!g_globals) {
        PyErr_SetString(PyExc_RuntimeError, "_af_probe: bind(globals) was not called");
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(g_globals, N[n]);
    if (!v && !PyErr_Occurred())
        PyErr_Format(PyExc_NameError, "name '%U' is not defined", N[n]);
    return v;
}

static int gset(int n, PyObject *v)
{
    return PyDict_SetItem(g_globals, N[n], v);
}

static PyObject *call_method0(PyObject *obj, PyObject *name)
{
    PyObject *args[1] = {obj};
    return PyObject_VectorcallMethod(name, args, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
}

/* lst.append(v): the list method for a list, else whatever append is. */
static int append_to(PyObject *lst, PyObject *v)
{
    if (PyList_CheckExact(lst))
        return PyList_Append(lst, v);
    PyObject *args[2] = {lst, v};
    PyObject *r =
        PyObject_VectorcallMethod(N[N_append], args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* getattr(obj, name, dflt): new reference. */
static PyObject *getattr_default(PyObject *obj, PyObject *name, PyObject *dflt)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (!v && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        v = Py_NewRef(dflt);
    }
    return v;
}

/* An event tuple: PyTuple_Pack(n, ...), then untracked by the collector
 * when no item can be part of a reference cycle (ints, strings, None...),
 * as the collector would untrack it at its first pass. A run's events stay
 * alive until its final collection: untracked, that collection does not
 * walk them. */
static PyObject *event_pack(Py_ssize_t n, ...)
{
    PyObject *t = PyTuple_New(n);
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, n);
    int atomic = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = va_arg(ap, PyObject *);
        if (PyObject_IS_GC(v) && (!PyTuple_CheckExact(v) || PyObject_GC_IsTracked(v)))
            atomic = 0;
        PyTuple_SET_ITEM(t, i, Py_NewRef(v));
    }
    va_end(ap);
    if (atomic)
        PyObject_GC_UnTrack(t);
    return t;
}

/* probe._task_id(): the current task's _af_id, or -1. New reference. */
static PyObject *task_id(void)
{
    PyObject *cur = gget(N_current_tasks);
    if (!cur)
        return NULL;
    PyObject *loop = gget(N_LOOP);
    if (!loop)
        return NULL;
    PyObject *t;
    if (PyDict_CheckExact(cur)) {
        t = PyDict_GetItemWithError(cur, loop);
        if (!t) {
            if (PyErr_Occurred())
                return NULL;
            return Py_NewRef(g_minus_one);
        }
        Py_INCREF(t);
    } else {
        PyObject *args[2] = {cur, loop};
        PyObject *get = PyUnicode_InternFromString("get");
        if (!get)
            return NULL;
        t = PyObject_VectorcallMethod(get, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        Py_DECREF(get);
        if (!t)
            return NULL;
        if (t == Py_None) {
            Py_DECREF(t);
            return Py_NewRef(g_minus_one);
        }
    }
    PyObject *id = getattr_default(t, N[N_af_id], g_minus_one);
    Py_DECREF(t);
    return id;
}

/* probe.tname(tp): new reference. */
static PyObject *tname_of(PyObject *tp)
{
    PyObject *tn = gget(N_TN);
    if (!tn)
        return NULL;
    if (PyDict_CheckExact(tn)) {
        PyObject *n = PyDict_GetItemWithError(tn, tp);
        if (n)
            return Py_NewRef(n);
        if (PyErr_Occurred())
            return NULL;
    }
    PyObject *f = gget(N_tname);
    if (!f)
        return NULL;
    return PyObject_CallOneArg(f, tp);
}

/* probe.args_text(e): new reference. */
static PyObject *args_text_of(PyObject *e)
{
    PyObject *args = NULL, *r = NULL, *sub = NULL, *res = NULL;
    args = PyObject_GetAttr(e, N[N_args]);
    if (!args)
        goto done;
    r = PyObject_Repr(args);
    if (!r)
        goto done;
    int has = PySequence_Contains(r, s_at);
    if (has < 0)
        goto done;
    if (!has) {
        res = Py_NewRef(r);
        goto done;
    }
    PyObject *address = gget(N_ADDRESS);
    if (!address)
        goto done;
    sub = PyObject_GetAttr(address, N[N_sub]);
    if (!sub)
        goto done;
    res = PyObject_CallFunctionObjArgs(sub, s_empty, r, NULL);
done:
    Py_XDECREF(sub);
    Py_XDECREF(r);
    Py_XDECREF(args);
    return res;
}

static int referents_visit(PyObject *obj, void *list)
{
    return PyList_Append((PyObject *)list, obj) < 0;
}

/* probe._on_done's fallback for a cancelled task whose _cancel_message is
 * None: the message of its last successful cancel(), _CANCEL_MSG[id]
 * (probe.py). *m (None on entry, a reference owned by the caller) is
 * replaced when there is one. 0, or -1 with an exception set. */
static int cancel_msg_of(PyObject *id, PyObject **m)
{
    PyObject *table = gget(N_CANCEL_MSG);
    if (!table)
        return -1;
    PyObject *found = PyDict_GetItemWithError(table, id);
    if (!found)
        return PyErr_Occurred() ? -1 : 0;
    Py_SETREF(*m, Py_NewRef(found));
    return 0;
}

/* probe._cancelled_exc(t): the CancelledError a cancelled task ended with,
 * from gc.get_referents(t) (the same traversal), or None. New reference. */
static PyObject *cancelled_exc(PyObject *t)
{
    PyObject *pytask = gget(N_PyTask);
    if (!pytask)
        return NULL;
    if ((PyObject *)Py_TYPE(t) == pytask)
        return PyObject_GetAttr(t, N[N_cancelled_exc]);
    PyObject *refs = PyList_New(0);
    if (!refs)
        return NULL;
    traverseproc traverse = Py_TYPE(t)->tp_traverse;
    if (PyObject_IS_GC(t) && traverse) {
        if (traverse(t, referents_visit, refs)) {
            Py_DECREF(refs);
            return NULL;
        }
    }
    PyObject *found = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(refs); i++) {
        PyObject *r = PyList_GET_ITEM(refs, i);
        int is = PyObject_IsInstance(r, g_cancelled_error);
        if (is < 0) {
            Py_DECREF(refs);
            return NULL;
        }
        if (is) {
            found = Py_NewRef(r);
            break;
        }
    }
    Py_DECREF(refs);
    return found ? found : Py_NewRef(Py_None);
}

/* LOOP._clock, LOOP._iteration (new references into *clock, *it). */
/* loop._clock, loop._iteration (new references into *clock, *it; on
 * failure both are NULL). */
static int loop_clock_iteration(PyObject *loop, PyObject **clock, PyObject **it)
{
    *it = NULL;
    *clock = af_loop_get(loop, AF_L_CLOCK);
    if (!*clock)
        return -1;
    *it = af_loop_get(loop, AF_L_ITERATION);
    if (!*it)
        Py_CLEAR(*clock);
    return *it ? 0 : -1;
}

static int clock_and_iteration(PyObject **clock, PyObject **it)
{
    PyObject *lp = gget(N_LOOP); /* LOOP._clock's read cannot rebind LOOP */
    if (!lp) {
        *clock = *it = NULL;
        return -1;
    }
    return loop_clock_iteration(lp, clock, it);
}

/* _task_factory(loop, coro, context=None) */
static PyObject *task_factory(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    (void)self;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *context = Py_None;
    if (nargs < 2 || nargs + nkw > 3) {
        PyErr_Format(PyExc_TypeError, "_task_factory() takes from 2 to 3 arguments (%zd given)",
                     nargs + nkw);
        return NULL;
    }
    if (nargs == 3) {
        if (nkw) {
            PyErr_SetString(PyExc_TypeError, "_task_factory() got multiple values for argument");
            return NULL;
        }
        context = args[2];
    } else if (nkw == 1) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, 0);
        if (!PyUnicode_Check(k) || PyUnicode_Compare(k, N[N_context]) != 0) {
            if (PyErr_Occurred())
                return NULL;
            PyErr_Format(PyExc_TypeError, "_task_factory() got an unexpected keyword argument '%S'",
                         k);
            return NULL;
        }
        context = args[2];
    }
    PyObject *loop = args[0], *coro = args[1];
    PyObject *name = NULL, *ir = NULL, *parent = NULL, *t = NULL, *id = NULL, *next = NULL,
             *r = NULL, *clock = NULL, *it = NULL, *ev = NULL, *result = NULL;
    PyObject *v;

    /* name = _pending_name; ir; _pending_name = None */
    v = gget(N_pending_name);
    if (!v)
        goto done;
    if (v == Py_None) {
        name = getattr_default(coro, N[N_qualname], s_task);
        if (!name)
            goto done;
        ir = Py_NewRef(g_minus_one);
    } else {
        name = Py_NewRef(v);
        v = gget(N_pending_ir);
        if (!v)
            goto done;
        ir = Py_NewRef(v);
        if (gset(N_pending_name, Py_None) < 0)
            goto done;
    }
    parent = task_id();
    if (!parent)
        goto done;
    /* t = _task_new(_TaskCls) */
    v = gget(N_TaskCls);
    if (!v)
        goto done;
    if (!PyType_Check(v) || !((PyTypeObject *)v)->tp_new) {
        PyErr_SetString(PyExc_TypeError, "probe._TaskCls is not a type with __new__");
        goto done;
    }
    t = ((PyTypeObject *)v)->tp_new((PyTypeObject *)v, g_empty_tuple, NULL);
    if (!t)
        goto done;
    /* t._af_id = _next_id; _next_id += 1 */
    v = gget(N_next_id);
    if (!v)
        goto done;
    id = Py_NewRef(v);
    if (PyObject_SetAttr(t, N[N_af_id], id) < 0)
        goto done;
    next = PyNumber_Add(id, g_one);
    if (!next || gset(N_next_id, next) < 0)
        goto done;
    /* _TaskInit(t, coro, loop=loop, name=name, context=context) */
    v = gget(N_TaskInit);
    if (!v)
        goto done;
    {
        PyObject *init = Py_NewRef(v);
        PyObject *cargs[5] = {t, coro, loop, name, context};
        r = PyObject_Vectorcall(init, cargs, 2, g_init_kwnames);
        Py_DECREF(init);
    }
    if (!r)
        goto done;
    /* ALL.append(t) */
    v = gget(N_ALL);
    if (!v || append_to(v, t) < 0)
        goto done;
    /* EVENTS.append(("task_new", LOOP._clock, LOOP._iteration, t._af_id, name,
     *                parent, CUR_OP, ir)) */
    v = gget(N_EVENTS);
    if (!v)
        goto done;
    {
        PyObject *events = Py_NewRef(v);
        PyObject *tid = NULL, *cur_op = NULL;
        if (clock_and_iteration(&clock, &it) == 0)
            tid = PyObject_GetAttr(t, N[N_af_id]);
        if (tid) {
            cur_op = gget(N_CUR_OP);
            if (cur_op)
                ev = event_pack(8, s_task_new, clock, it, tid, name, parent, cur_op, ir);
        }
        int rc = ev ? append_to(events, ev) : -1;
        Py_XDECREF(tid);
        Py_DECREF(events);
        if (rc < 0)
            goto done;
    }
    /* t.add_done_callback(_on_done) */
    v = gget(N_on_done);
    if (!v)
        goto done;
    {
        PyObject *cb = Py_NewRef(v);
        PyObject *cargs[2] = {t, cb};
        PyObject *r2 = PyObject_VectorcallMethod(N[N_add_done_callback], cargs,
                                                 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        Py_DECREF(cb);
        if (!r2)
            goto done;
        Py_DECREF(r2);
    }
    result = Py_NewRef(t);
done:
    Py_XDECREF(ev);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    Py_XDECREF(r);
    Py_XDECREF(next);
    Py_XDECREF(id);
    Py_XDECREF(t);
    Py_XDECREF(parent);
    Py_XDECREF(ir);
    Py_XDECREF(name);
    return result;
}

/* _on_done(t) */
static PyObject *on_done(PyObject *self, PyObject *t)
{
    (void)self;
    PyObject *c = NULL, *e = NULL, *m = NULL, *clock = NULL, *it = NULL, *id = NULL, *etype = NULL,
             *eargs = NULL, *n = NULL, *ev = NULL, *result = NULL;
    PyObject *outcome, *v;

    c = call_method0(t, N[N_cancelled]);
    if (!c)
        goto done;
    int cancelled = PyObject_IsTrue(c);
    if (cancelled < 0)
        goto done;
    if (cancelled) {
        outcome = s_cancelled;
        e = cancelled_exc(t);
        if (!e)
            goto done;
        if (e == Py_None) {
            m = PyObject_GetAttr(t, N[N_cancel_message]);
            if (!m || clock_and_iteration(&clock, &it) < 0)
                goto done;
            id = PyObject_GetAttr(t, N[N_af_id]);
            if (!id)
                goto done;
            if (m == Py_None && cancel_msg_of(id, &m) < 0)
                goto done;
            etype = Py_NewRef(s_cancelled_error_name);
            if (m == Py_None) {
                eargs = Py_NewRef(s_empty_args);
            } else {
                PyObject *one = PyTuple_Pack(1, m);
                if (!one)
                    goto done;
                eargs = PyObject_Repr(one);
                Py_DECREF(one);
                if (!eargs)
                    goto done;
            }
        } else {
            if (clock_and_iteration(&clock, &it) < 0)
                goto done;
            id = PyObject_GetAttr(t, N[N_af_id]);
            if (!id)
                goto done;
            etype = tname_of((PyObject *)Py_TYPE(e));
            if (!etype)
                goto done;
            eargs = args_text_of(e);
            if (!eargs)
                goto done;
        }
    } else {
        e = PyObject_GetAttr(t, N[N_exception]); /* not exception(): retrieves */
        if (!e || clock_and_iteration(&clock, &it) < 0)
            goto done;
        id = PyObject_GetAttr(t, N[N_af_id]);
        if (!id)
            goto done;
        if (e == Py_None) {
            outcome = s_result;
            etype = Py_NewRef(s_empty);
            eargs = Py_NewRef(s_empty);
        } else {
            outcome = s_exception;
            etype = tname_of((PyObject *)Py_TYPE(e));
            if (!etype)
                goto done;
            eargs = args_text_of(e);
            if (!eargs)
                goto done;
        }
    }
    n = call_method0(t, N[N_cancelling]);
    if (!n)
        goto done;
    ev = event_pack(8, s_task_done, clock, it, id, outcome, etype, eargs, n);
    if (!ev)
        goto done;
    v = gget(N_EVENTS);
    if (!v || append_to(v, ev) < 0)
        goto done;
    /* if t is ROOT: _root_seen = True; LOOP.halted = True */
    v = gget(N_ROOT);
    if (!v)
        goto done;
    if (v == t) {
        if (gset(N_root_seen, Py_True) < 0)
            goto done;
        v = gget(N_LOOP);
        if (!v || af_loop_set(v, AF_L_HALTED, Py_True) < 0)
            goto done;
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(ev);
    Py_XDECREF(n);
    Py_XDECREF(eargs);
    Py_XDECREF(etype);
    Py_XDECREF(id);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    Py_XDECREF(m);
    Py_XDECREF(e);
    Py_XDECREF(c);
    return result;
}

/* use_id_hash: ProbeTask.__hash__ (return self._af_id) as tp_hash, reading
 * the _af_id slot through the class's own member descriptor; for a class
 * without one (a subclass made later inherits the slot) the generic way. */

/* What slot_tp_hash does with the int __hash__ returned. */
static Py_hash_t hash_of_id(PyObject *v)
{
    if (!PyLong_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "__hash__ method should return an integer");
        return -1;
    }
    Py_hash_t h = PyLong_AsSsize_t(v);
    if (h == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        h = PyLong_Type.tp_hash(v);
    } else if (h == -1) {
        h = -2;
    }
    return h;
}

/* The offset of tp's own _af_id object slot, or -1. */
static Py_ssize_t id_slot_offset(PyTypeObject *tp)
{
    PyObject *d = tp->tp_dict ? PyDict_GetItemWithError(tp->tp_dict, N[N_af_id]) : NULL;
    if (!d) {
        PyErr_Clear();
        return -1;
    }
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type) ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX ||
        ((PyMemberDescrObject *)d)->d_common.d_type != tp)
        return -1;
    return ((PyMemberDescrObject *)d)->d_member->offset;
}

static Py_hash_t id_hash(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_ssize_t off = id_slot_offset(tp);
    if (off >= 0) {
        PyObject *v = *(PyObject **)((char *)self + off);
        if (!v) {
            PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '_af_id'",
                         tp->tp_name);
            return -1;
        }
        return hash_of_id(v);
    }
    PyObject *v = PyObject_GetAttr(self, N[N_af_id]);
    if (!v)
        return -1;
    Py_hash_t h = hash_of_id(v);
    Py_DECREF(v);
    return h;
}

static PyObject *use_id_hash(PyObject *self, PyObject *cls)
{
    (void)self;
    if (!PyType_Check(cls) || !(((PyTypeObject *)cls)->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        PyErr_SetString(PyExc_TypeError, "use_id_hash: a class is required");
        return NULL;
    }
    if (id_slot_offset((PyTypeObject *)cls) < 0) {
        PyErr_SetString(PyExc_TypeError, "use_id_hash: _af_id is not an object slot of the class");
        return NULL;
    }
    ((PyTypeObject *)cls)->tp_hash = id_hash;
    Py_RETURN_NONE;
}

/* -- the virtual-time loop's iterations (vloop.VirtualLoop.run_until) ------
 *
 * run_until(loop, pred, max_iterations, max_vtime, watchdog_seconds) is
 * VirtualLoop.run_until with its _run_once inlined, statement for
 * statement: the same attribute reads and writes on the loop and its
 * handles, in the same order, the same calls (heap pops in heapq's order,
 * deque.popleft, Context.run, _callback_failed, has_work, _purge_cancelled),
 * and the same moments at which a handle is released. Only the Python
 * frames are gone.
 * bind_vloop(globals) gives it vloop's globals (_callback_failed,
 * _time, WATCHDOG_EVERY). */

static PyObject *g_vloop; /* vloop's globals (bind_vloop) */
static PyObject *s_hang, *s_deadlock, *s_watchdog, *s_slow, *s_callback, *s_stopped;
static PyObject *g_sixty_four, *g_two;

static PyObject *vget(int n)
{
    if (!g_vloop) {
        PyErr_SetString(PyExc_RuntimeError, "_af_probe: bind_vloop(globals) was not called");
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(g_vloop, N[n]);
    if (!v && !PyErr_Occurred())
        PyErr_Format(PyExc_NameError, "name '%U' is not defined", N[n]);
    return v;
}

/* compare(loop.<slot>, other, op): 1, 0, -1. */
static int loop_compare(PyObject *loop, af_lslot s, PyObject *other, int op)
{
    PyObject *v = af_loop_get(loop, s);
    if (!v)
        return -1;
    int r = PyObject_RichCompareBool(v, other, op);
    Py_DECREF(v);
    return r;
}

/* loop.<slot> = loop.<slot> + delta (or - delta) */
static int loop_add(PyObject *loop, af_lslot s, PyObject *delta, int subtract)
{
    PyObject *v = af_loop_get(loop, s);
    if (!v)
        return -1;
    PyObject *w = subtract ? PyNumber_InPlaceSubtract(v, delta) : PyNumber_InPlaceAdd(v, delta);
    Py_DECREF(v);
    if (!w)
        return -1;
    int r = af_loop_set(loop, s, w);
    Py_DECREF(w);
    return r;
}

/* compare(sched[0].<slot>, other, op), or bool(sched[0].<slot>) when other
 * is NULL, for a non-empty list sched. */
static int head_compare(PyObject *sched, af_hslot slot, PyObject *other, int op)
{
    PyObject *h0 = Py_NewRef(PyList_GET_ITEM(sched, 0));
    int r;
    if (other) {
        PyObject *v = af_handle_get(h0, slot);
        r = v ? PyObject_RichCompareBool(v, other, op) : -1;
        Py_XDECREF(v);
    } else {
        r = af_handle_true(h0, slot);
    }
    Py_DECREF(h0);
    return r;
}

/* _heappop(sched)._scheduled = False; returns the handle (new reference).
 * The C heap (loop_c.h) keeps heapq's order. */
static PyObject *pop_timer(PyObject *sched)
{
    PyObject *h = af_heap_pop(sched);
    if (!h)
        return NULL;
    if (af_handle_set(h, AF_H_SCHEDULED, Py_False) < 0) {
        Py_DECREF(h);
        return NULL;
    }
    return h;
}

/* Drop cancelled timers from the head of the heap (a list):
 *     while sched and sched[0]._cancelled:
 *         self._timer_cancelled_count -= 1
 *         _heappop(sched)._scheduled = False
 * 0, or -1 with an exception. */
static int drop_cancelled_head(PyObject *loop, PyObject *sched)
{
    while (PyList_GET_SIZE(sched) > 0) {
        int r = head_compare(sched, AF_H_CANCELLED, NULL, 0);
        if (r <= 0)
            return r;
        if (loop_add(loop, AF_L_TIMER_CANCELLED_COUNT, g_one, 1) < 0)
            return -1;
        PyObject *h = pop_timer(sched);
        if (!h)
            return -1;
        Py_DECREF(h);
    }
    return 0;
}

/* h._context.run(h._callback, *h._args): new reference or NULL (probe_c.h). */
PyObject *af_run_handle(PyObject *h)
{
    PyObject *ctx = NULL, *cb = NULL, *args = NULL, *targs = NULL, *r = NULL;
    PyObject *small[8];
    PyObject **argv = small;
    ctx = af_handle_get(h, AF_H_CONTEXT);
    if (!ctx)
        goto done;
    cb = af_handle_get(h, AF_H_CALLBACK);
    if (!cb)
        goto done;
    args = af_handle_get(h, AF_H_ARGS);
    if (!args)
        goto done;
    targs = PyTuple_CheckExact(args) ? Py_NewRef(args) : PySequence_Tuple(args);
    if (!targs) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) && !PySequence_Check(args)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "Context.run() argument after * must be an iterable, not %.200s",
                         Py_TYPE(args)->tp_name);
        }
        goto done;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(targs);
    if (n + 3 > (Py_ssize_t)(sizeof small / sizeof small[0])) {
        argv = PyMem_Malloc((size_t)(n + 3) * sizeof *argv);
        if (!argv) {
            PyErr_NoMemory();
            goto done;
        }
    }
    argv[1] = ctx;
    argv[2] = cb;
    for (Py_ssize_t i = 0; i < n; i++)
        argv[3 + i] = PyTuple_GET_ITEM(targs, i);
    if (PyContext_CheckExact(ctx)) {
        /* ctx.run(cb, *args) is enter, call, exit: without the method
         * lookup. Entering a context that is already entered raises the
         * RuntimeError Context.run raises. */
        if (PyContext_Enter(ctx) == 0) {
            r = PyObject_Vectorcall(cb, argv + 3, (size_t)n | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
            if (PyContext_Exit(ctx) < 0)
                Py_CLEAR(r);
        }
    } else {
        r = PyObject_VectorcallMethod(N[N_run], argv + 1,
                                      (size_t)(n + 2) | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    }
    if (argv != small)
        PyMem_Free(argv);
done:
    Py_XDECREF(targs);
    Py_XDECREF(args);
    Py_XDECREF(cb);
    Py_XDECREF(ctx);
    return r;
}

/* What the except clauses of _run_once do with a callback's exception:
 * SystemExit / KeyboardInterrupt propagate (-1), anything else goes to
 * _callback_failed(h, exc) while it is the exception being handled. */
int af_callback_failed(PyObject *cb_failed, PyObject *h)
{
    if (PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return -1;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    if (!value) /* cannot happen: an exception was set */
        return -1;
    PyObject *old = PyErr_GetHandledException();
    PyErr_SetHandledException(value);
    PyObject *r = PyObject_CallFunctionObjArgs(cb_failed, h, value, NULL);
    PyErr_SetHandledException(old);
    Py_XDECREF(old);
    Py_DECREF(value);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The clock moved during a callback (self._clock != t0):
 *     dt = self._clock - t0
 *     if dt >= self.slow_ticks:            (it0 given: ... and self._iteration == it0)
 *         self.events.append(("slow", self._clock, self._iteration, dt,
 *                             self._slow_what or "callback"))
 *     self._slow_what = None */
int af_slow_check(PyObject *loop, PyObject *t0, PyObject *it0)
{
    int rc = -1, r;
    PyObject *c = NULL, *dt = NULL, *events = NULL, *it = NULL, *what = NULL, *ev = NULL;
    c = af_loop_get(loop, AF_L_CLOCK);
    if (!c)
        goto done;
    dt = PyNumber_Subtract(c, t0);
    Py_CLEAR(c);
    if (!dt)
        goto done;
    {
        PyObject *st = af_loop_get(loop, AF_L_SLOW_TICKS);
        if (!st)
            goto done;
        r = PyObject_RichCompareBool(dt, st, Py_GE);
        Py_DECREF(st);
    }
    if (r > 0 && it0)
        r = loop_compare(loop, AF_L_ITERATION, it0, Py_EQ);
    if (r < 0)
        goto done;
    if (r) {
        events = af_loop_get(loop, AF_L_EVENTS);
        if (!events)
            goto done;
        if (loop_clock_iteration(loop, &c, &it) < 0)
            goto done;
        what = af_loop_get(loop, AF_L_SLOW_WHAT);
        if (!what)
            goto done;
        r = PyObject_IsTrue(what);
        if (r < 0)
            goto done;
        if (!r)
            Py_SETREF(what, Py_NewRef(s_callback));
        ev = event_pack(5, s_slow, c, it, dt, what);
        if (!ev || append_to(events, ev) < 0)
            goto done;
    }
    rc = af_loop_set(loop, AF_L_SLOW_WHAT, Py_None);
done:
    Py_XDECREF(ev);
    Py_XDECREF(what);
    Py_XDECREF(it);
    Py_XDECREF(c);
    Py_XDECREF(events);
    Py_XDECREF(dt);
    return rc;
}

/* One iteration: VirtualLoop._run_once. */
static int run_once(PyObject *loop, PyObject *cb_failed)
{
    int rc = -1, r;
    PyObject *ready = NULL, *sched = NULL, *now = NULL, *popleft = NULL, *h = NULL, *t0 = NULL,
             *x = NULL;

    if (loop_add(loop, AF_L_ITERATION, g_one, 0) < 0)
        goto done;
    ready = af_loop_get(loop, AF_L_READY);
    if (!ready)
        goto done;
    sched = af_loop_get(loop, AF_L_SCHEDULED);
    if (!sched)
        goto done;
    if (!PyList_CheckExact(sched)) { /* not the loop's own list: the Python code */
        PyErr_SetString(PyExc_TypeError, "_af_probe.run_until: loop._scheduled is not a list");
        goto done;
    }
    /* Purge cancelled timers: wholesale when many (the Python method). */
    r = loop_compare(loop, AF_L_TIMER_CANCELLED_COUNT, g_sixty_four, Py_GT);
    if (r < 0)
        goto done;
    if (r) {
        x = af_loop_get(loop, AF_L_TIMER_CANCELLED_COUNT);
        PyObject *twice = x ? PyNumber_Multiply(x, g_two) : NULL;
        Py_CLEAR(x);
        if (!twice)
            goto done;
        PyObject *len = PyLong_FromSsize_t(PyList_GET_SIZE(sched));
        r = len ? PyObject_RichCompareBool(twice, len, Py_GT) : -1;
        Py_XDECREF(len);
        Py_DECREF(twice);
        if (r < 0)
            goto done;
        if (r) {
            PyObject *args[2] = {loop, sched};
            x = PyObject_VectorcallMethod(N[N_purge_cancelled], args,
                                          2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
            if (!x)
                goto done;
            Py_SETREF(sched, x);
            x = NULL;
            if (!PyList_CheckExact(sched)) {
                PyErr_SetString(PyExc_TypeError, "_purge_cancelled did not return a list");
                goto done;
            }
        }
    }
    if (drop_cancelled_head(loop, sched) < 0)
        goto done;
    /* Nothing ready: jump to the earliest timer. */
    r = PyObject_IsTrue(ready);
    if (r < 0)
        goto done;
    if (!r && PyList_GET_SIZE(sched) > 0) {
        PyObject *h0 = Py_NewRef(PyList_GET_ITEM(sched, 0));
        PyObject *when = af_handle_get(h0, AF_H_WHEN);
        Py_DECREF(h0);
        if (!when)
            goto done;
        r = loop_compare(loop, AF_L_CLOCK, when, Py_LT); /* when > self._clock */
        if (r > 0) {
            PyObject *iw = PyNumber_Long(when), *nw = NULL;
            if (iw) {
                r = PyObject_RichCompareBool(iw, when, Py_EQ);
                if (r > 0)
                    nw = Py_NewRef(iw);
                else if (r == 0)
                    nw = PyNumber_Add(iw, g_one);
            }
            r = nw ? af_loop_set(loop, AF_L_CLOCK, nw) : -1;
            Py_XDECREF(nw);
            Py_XDECREF(iw);
        }
        Py_DECREF(when);
        if (r < 0)
            goto done;
    }
    now = af_loop_get(loop, AF_L_CLOCK);
    if (!now)
        goto done;
    while (PyList_GET_SIZE(sched) > 0) {
        r = head_compare(sched, AF_H_WHEN, now, Py_LE);
        if (r < 0)
            goto done;
        if (!r)
            break;
        x = pop_timer(sched);
        if (!x)
            goto done;
        r = af_queue_append(ready, x);
        Py_CLEAR(x);
        if (r < 0)
            goto done;
    }
    popleft = PyObject_GetAttr(ready, N[N_popleft]);
    if (!popleft)
        goto done;
    Py_ssize_t n = PyObject_Size(ready);
    if (n < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        x = PyObject_CallNoArgs(popleft);
        if (!x)
            goto done;
        Py_XSETREF(h, x); /* h = popleft() */
        x = NULL;
        r = af_handle_true(h, AF_H_CANCELLED);
        if (r < 0)
            goto done;
        if (r)
            continue;
        t0 = af_loop_get(loop, AF_L_CLOCK);
        if (!t0)
            goto done;
        x = af_run_handle(h);
        if (x)
            Py_CLEAR(x);
        else if (af_callback_failed(cb_failed, h) < 0)
            goto done;
        Py_CLEAR(h); /* h = None */
        r = loop_compare(loop, AF_L_CLOCK, t0, Py_NE);
        if (r < 0)
            goto done;
        if (r && af_slow_check(loop, t0, NULL) < 0)
            goto done;
        Py_CLEAR(t0);
    }
    rc = 0;
done:
    Py_XDECREF(x);
    Py_XDECREF(t0);
    Py_XDECREF(h);
    Py_XDECREF(popleft);
    Py_XDECREF(now);
    Py_XDECREF(sched);
    Py_XDECREF(ready);
    return rc;
}

/* VirtualLoop.has_work() when self._ready is empty: drop cancelled timers
 * from the heap's head; whether a timer is left. 1, 0, -1. */
static int has_work(PyObject *loop)
{
    PyObject *sched = af_loop_get(loop, AF_L_SCHEDULED);
    if (!sched)
        return -1;
    int r = -1;
    if (!PyList_CheckExact(sched))
        PyErr_SetString(PyExc_TypeError, "_af_probe.run_until: loop._scheduled is not a list");
    else if (drop_cancelled_head(loop, sched) == 0)
        r = PyList_GET_SIZE(sched) > 0;
    Py_DECREF(sched);
    return r;
}

/* A stop() during the iteration (as run_forever sees it):
 *     if self._stopping:
 *         self._stopping = False
 *         self.events.append(("stopped", self._clock, self._iteration)) */
static int note_stop(PyObject *loop)
{
    int r = af_loop_true(loop, AF_L_STOPPING);
    if (r <= 0)
        return r;
    if (af_loop_set(loop, AF_L_STOPPING, Py_False) < 0)
        return -1;
    PyObject *events = af_loop_get(loop, AF_L_EVENTS), *clock, *it, *ev = NULL;
    if (!events)
        return -1;
    if (loop_clock_iteration(loop, &clock, &it) == 0) {
        ev = event_pack(3, s_stopped, clock, it);
        Py_DECREF(clock);
        Py_DECREF(it);
    }
    r = ev ? append_to(events, ev) : -1;
    Py_XDECREF(ev);
    Py_DECREF(events);
    return r;
}

/* run_until(loop, pred, max_iterations, max_vtime, watchdog_seconds) */
static int interrupt_raised(void);

static PyObject *run_until(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "run_until(loop, pred, max_iterations, max_vtime, watchdog_seconds)");
        return NULL;
    }
    PyObject *loop = args[0], *pred = args[1], *max_it = args[2], *max_vtime = args[3],
             *watchdog = args[4];
    PyObject *start_it = NULL, *time_mod = NULL, *mono = NULL, *deadline = NULL, *cb_failed = NULL,
             *every = NULL, *every1 = NULL, *x = NULL, *result = NULL;
    PyObject *v;
    int r, armed = 0;

    if (!(v = vget(N_callback_failed)))
        return NULL;
    cb_failed = Py_NewRef(v);
    if (!(v = vget(N_WATCHDOG_EVERY)))
        goto done;
    every = Py_NewRef(v);
    every1 = PyNumber_Subtract(every, g_one);
    if (!every1)
        goto done;
    start_it = af_loop_get(loop, AF_L_ITERATION);
    if (!start_it)
        goto done;
    /* deadline = _time.monotonic() + watchdog_seconds */
    if (!(v = vget(N_time)))
        goto done;
    time_mod = Py_NewRef(v);
    mono = PyObject_GetAttr(time_mod, N[N_monotonic]);
    if (!mono)
        goto done;
    x = PyObject_CallNoArgs(mono);
    if (!x)
        goto done;
    deadline = PyNumber_Add(x, watchdog);
    Py_CLEAR(x);
    if (!deadline)
        goto done;
    /* _wd_begin(self, watchdog_seconds): the watchdog inside a callback */
    double seconds = PyFloat_AsDouble(watchdog);
    if ((seconds == -1.0 && PyErr_Occurred()) || af_watchdog_begin(loop, seconds) < 0)
        goto done;
    armed = 1;
    for (;;) {
        /* while not (self.halted if pred is None else pred()): */
        if (pred == Py_None) {
            r = af_loop_true(loop, AF_L_HALTED);
        } else {
            x = PyObject_CallNoArgs(pred);
            r = x ? PyObject_IsTrue(x) : -1;
            Py_CLEAR(x);
        }
        if (r < 0)
            goto done;
        if (r)
            break;
        /* n = self._iteration - start_it */
        PyObject *it = af_loop_get(loop, AF_L_ITERATION);
        if (!it)
            goto done;
        PyObject *n = PyNumber_Subtract(it, start_it);
        Py_DECREF(it);
        if (!n)
            goto done;
        r = PyObject_RichCompareBool(n, max_it, Py_GE);
        if (r) {
            Py_DECREF(n);
            if (r < 0)
                goto done;
            result = Py_NewRef(s_hang);
            goto done;
        }
        x = PyNumber_Remainder(n, every);
        Py_DECREF(n);
        if (!x)
            goto done;
        r = PyObject_RichCompareBool(x, every1, Py_EQ);
        Py_CLEAR(x);
        if (r < 0)
            goto done;
        if (r) {
            PyObject *m = PyObject_GetAttr(time_mod, N[N_monotonic]);
            x = m ? PyObject_CallNoArgs(m) : NULL;
            Py_XDECREF(m);
            r = x ? PyObject_RichCompareBool(x, deadline, Py_GT) : -1;
            Py_CLEAR(x);
            if (r < 0)
                goto done;
            if (r) {
                result = Py_NewRef(s_watchdog);
                goto done;
            }
        }
        /* if not self._ready: */
        r = af_loop_true(loop, AF_L_READY);
        if (r < 0)
            goto done;
        if (!r) {
            r = has_work(loop);
            if (r < 0)
                goto done;
            if (!r) {
                result = Py_NewRef(s_deadlock);
                goto done;
            }
            /* when = self._scheduled[0]._when; if when > max_vtime: "hang" */
            PyObject *sch = af_loop_get(loop, AF_L_SCHEDULED);
            PyObject *h0 = sch ? PySequence_GetItem(sch, 0) : NULL;
            Py_XDECREF(sch);
            r = -1;
            if (h0) {
                PyObject *w = af_handle_get(h0, AF_H_WHEN);
                r = w ? PyObject_RichCompareBool(w, max_vtime, Py_GT) : -1;
                Py_XDECREF(w);
            }
            Py_XDECREF(h0);
            if (r < 0)
                goto done;
            if (r) {
                result = Py_NewRef(s_hang);
                goto done;
            }
        }
        /* if self._clock > max_vtime: "hang" */
        r = loop_compare(loop, AF_L_CLOCK, max_vtime, Py_GT);
        if (r < 0)
            goto done;
        if (r) {
            result = Py_NewRef(s_hang);
            goto done;
        }
        if (run_once(loop, cb_failed) < 0 || note_stop(loop) < 0)
            goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (armed) {
        /* except WatchdogExpired: return "watchdog"; finally: _wd_end() */
        if (!result && af_watchdog_caught())
            result = Py_NewRef(s_watchdog);
        af_watchdog_end();
    }
    /* except (KeyboardInterrupt, SystemExit): self._stopping = False; raise
     * (a stop() of the interrupted iteration does not outlive it, as in
     * run_forever's finally) */
    if (!result && interrupt_raised()) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (af_loop_set(loop, AF_L_STOPPING, Py_False) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    Py_XDECREF(x);
    Py_XDECREF(deadline);
    Py_XDECREF(mono);
    Py_XDECREF(time_mod);
    Py_XDECREF(start_it);
    Py_XDECREF(every1);
    Py_XDECREF(every);
    Py_XDECREF(cb_failed);
    return result;
}

static PyObject *bind_vloop(PyObject *self, PyObject *globals)
{
    (void)self;
    if (!PyDict_CheckExact(globals)) {
        PyErr_SetString(PyExc_TypeError, "bind_vloop: vloop's globals dict is required");
        return NULL;
    }
    Py_INCREF(globals);
    Py_XSETREF(g_vloop, globals);
    Py_RETURN_NONE;
}

/* VirtualLoop.run_until(self, pred, max_iterations, max_vtime,
 * watchdog_seconds) as a method: run_until(self, ...). */
static PyObject *run_until_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "VirtualLoop.run_until(pred, max_iterations, max_vtime, watchdog_seconds)");
        return NULL;
    }
    PyObject *all[5] = {self, args[0], args[1], args[2], args[3]};
    return run_until(NULL, all, 5);
}

static PyMethodDef run_until_def = {"run_until", (PyCFunction)(void (*)(void))run_until_method,
                                    METH_FASTCALL,
                                    "VirtualLoop.run_until in C (harness/accel/probe_c.c)."};

/* run_until_descr(cls): run_until as a method descriptor of cls. */
static PyObject *method_descr(PyObject *cls, PyMethodDef *def)
{
    if (!PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "%s_descr: a class is required", def->ml_name);
        return NULL;
    }
    return PyDescr_NewMethod((PyTypeObject *)cls, def);
}

static PyObject *run_until_descr(PyObject *self, PyObject *cls)
{
    (void)self;
    return method_descr(cls, &run_until_def);
}

/* The end of a C `finally` block: (et, ev, tb) is what PyErr_Fetch took
 * before the cleanup ran (an exception of the try part, or none). When the
 * cleanup failed, its own exception replaces that one, as in Python, and
 * -1 is returned; else the saved one is restored and 0 returned. */
static int end_finally(int cleanup_failed, PyObject *et, PyObject *ev, PyObject *tb)
{
    if (cleanup_failed) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return -1;
    }
    PyErr_Restore(et, ev, tb);
    return 0;
}

/* probe.start(op, name, coro, ir, keep=True, group=None), statement for
 * statement: create the scenario task `name` for op, on the loop (through
 * the task factory) or in the task group named `group` (a group that does
 * not exist: the coroutine is closed, None); keep: tasks[name] = t. */
static PyObject *start_task(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    (void)self;
    if (nargs < 4 || nargs > 6 || (kwnames && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "start(op, name, coro, ir, keep=True, group=None)");
        return NULL;
    }
    PyObject *op = args[0], *name = args[1], *coro = args[2], *ir = args[3];
    PyObject *keep = nargs > 4 ? args[4] : Py_True, *group = nargs > 5 ? args[5] : Py_None;
    PyObject *tg = NULL, *t = NULL;
    if (group != Py_None) {
        PyObject *groups = gget(N_groups);
        if (!groups)
            return NULL;
        tg = PyDict_CheckExact(groups) ? PyDict_GetItemWithError(groups, group) : NULL;
        if (!tg) {
            if (PyErr_Occurred() || !PyDict_CheckExact(groups)) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "probe.groups is not a dict");
                return NULL;
            }
            PyObject *r = call_method0(coro, N[N_close]);
            if (!r)
                return NULL;
            Py_DECREF(r);
            Py_RETURN_NONE;
        }
        Py_INCREF(tg);
    }
    if (gset(N_CUR_OP, op) < 0 || gset(N_pending_name, name) < 0 || gset(N_pending_ir, ir) < 0)
        goto done;
    if (tg == NULL) {
        PyObject *loop = gget(N_LOOP);
        if (loop) {
            PyObject *a[2] = {loop, coro};
            Py_INCREF(loop);
            t = task_factory(NULL, a, 2, NULL);
            Py_DECREF(loop);
        }
    } else {
        PyObject *a[3] = {tg, coro, name};
        t = PyObject_VectorcallMethod(N[N_create_task], a, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                      g_name_kwnames);
    }
    { /* finally: CUR_OP = -1; _pending_name = None */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        int failed = gset(N_CUR_OP, g_minus_one) < 0 || gset(N_pending_name, Py_None) < 0;
        if (end_finally(failed, et, ev, tb) < 0) {
            Py_CLEAR(t);
            goto done;
        }
    }
    if (!t)
        goto done;
    int k = PyObject_IsTrue(keep);
    if (k < 0)
        Py_CLEAR(t);
    else if (k) {
        PyObject *tasks = gget(N_tasks);
        if (!tasks || PyObject_SetItem(tasks, name, t) < 0)
            Py_CLEAR(t);
    }
done:
    Py_XDECREF(tg);
    return t;
}

/* -- op_scope: the probe's record of one structured operation ---------------
 *
 * probe.op_scope and probe.wait_for_scope in C, statement for statement:
 *   with op_scope(op) as o:   op_enter (task, op, cancelling()) on entry;
 *                             op_exit (outcome, exception, detail,
 *                             cancelling()) on exit, unless the coroutine
 *                             is being closed (GeneratorExit). o.detail, or
 *                             o.cm.expired() when o.cm is set, is the
 *                             detail.
 *   wait_for_scope(op, timeout): the same, detail = whether the deadline
 *                             (clock at entry + timeout) had passed. */

typedef struct op_scope_object {
    PyObject_HEAD PyObject *op;
    PyObject *task;
    PyObject *detail;
    PyObject *cm;
    PyObject *deadline; /* wait_for_scope: None or the deadline; NULL for op_scope */
} op_scope_object;

static PyTypeObject op_scope_type;

/* (current task or None) for LOOP: new reference. */
static PyObject *current_task(void)
{
    PyObject *cur = gget(N_current_tasks), *loop = cur ? gget(N_LOOP) : NULL, *t;
    if (!loop)
        return NULL;
    if (PyDict_CheckExact(cur)) {
        t = PyDict_GetItemWithError(cur, loop);
        if (!t)
            return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
        return Py_NewRef(t);
    }
    PyObject *get = PyObject_GetAttrString(cur, "get");
    t = get ? PyObject_CallOneArg(get, loop) : NULL;
    Py_XDECREF(get);
    return t;
}

/* t.cancelling(), or -1 for no task: new reference. */
static PyObject *cancelling_of(PyObject *t)
{
    return t == Py_None ? Py_NewRef(g_minus_one) : call_method0(t, N[N_cancelling]);
}

/* EVENTS.append(ev) for a new tuple ev (stolen). */
static int record(PyObject *ev)
{
    if (!ev)
        return -1;
    PyObject *events = gget(N_EVENTS);
    int r = events ? append_to(events, ev) : -1;
    Py_DECREF(ev);
    return r;
}

static PyObject *op_scope_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyObject *op;
    static char *kwlist[] = {"op", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:op_scope", kwlist, &op))
        return NULL;
    op_scope_object *o = (op_scope_object *)tp->tp_alloc(tp, 0);
    if (!o)
        return NULL;
    o->op = Py_NewRef(op);
    o->detail = Py_NewRef(Py_None);
    o->cm = Py_NewRef(Py_None);
    return (PyObject *)o;
}

static int op_scope_traverse(op_scope_object *o, visitproc visit, void *arg)
{
    Py_VISIT(o->op);
    Py_VISIT(o->task);
    Py_VISIT(o->detail);
    Py_VISIT(o->cm);
    Py_VISIT(o->deadline);
    return 0;
}

static int op_scope_clear(op_scope_object *o)
{
    Py_CLEAR(o->op);
    Py_CLEAR(o->task);
    Py_CLEAR(o->detail);
    Py_CLEAR(o->cm);
    Py_CLEAR(o->deadline);
    return 0;
}

static void op_scope_dealloc(op_scope_object *o)
{
    PyObject_GC_UnTrack(o);
    op_scope_clear(o);
    Py_TYPE(o)->tp_free((PyObject *)o);
}

static PyObject *op_scope_enter(op_scope_object *self, PyObject *unused)
{
    (void)unused;
    PyObject *t = NULL, *n = NULL, *clock = NULL, *it = NULL, *result = NULL;
    t = current_task();
    if (!t)
        goto done;
    if (t == Py_None) {
        Py_XSETREF(self->task, Py_NewRef(g_minus_one));
        n = Py_NewRef(g_minus_one);
    } else {
        PyObject *id = PyObject_GetAttr(t, N[N_af_id]);
        if (!id)
            goto done;
        Py_XSETREF(self->task, id);
        n = cancelling_of(t);
        if (!n)
            goto done;
    }
    if (clock_and_iteration(&clock, &it) < 0 ||
        record(event_pack(6, s_op_enter, clock, it, self->task, self->op, n)) < 0)
        goto done;
    result = Py_NewRef(self);
done:
    Py_XDECREF(it);
    Py_XDECREF(clock);
    Py_XDECREF(n);
    Py_XDECREF(t);
    return result;
}

/* wait_for_scope's detail: deadline is not None and LOOP._clock >= deadline */
static PyObject *deadline_passed(PyObject *deadline)
{
    if (deadline == Py_None)
        return Py_NewRef(Py_False);
    PyObject *loop = gget(N_LOOP);
    PyObject *clock = loop ? af_loop_get(loop, AF_L_CLOCK) : NULL;
    if (!clock)
        return NULL;
    PyObject *r = PyObject_RichCompare(clock, deadline, Py_GE);
    Py_DECREF(clock);
    return r;
}

static PyObject *op_scope_exit(op_scope_object *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *d = NULL, *t = NULL, *n = NULL, *clock = NULL, *it = NULL, *tn = NULL, *at = NULL;
    PyObject *result = NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "__exit__(exc_type, exc, tb)");
        return NULL;
    }
    PyObject *et = args[0], *ev = args[1];
    if (self->deadline) {
        d = deadline_passed(self->deadline);
        if (!d)
            return NULL;
        Py_SETREF(self->detail, d);
        d = NULL;
    }
    if (et == PyExc_GeneratorExit)
        Py_RETURN_FALSE; /* closed, not an outcome of the op (probe.py) */
    if (!self->task) {
        PyErr_SetString(PyExc_AttributeError, "'op_scope' object has no attribute 'task'");
        return NULL;
    }
    if (self->cm == Py_None) {
        d = Py_NewRef(self->detail);
    } else {
        PyObject *cm = Py_NewRef(self->cm);
        d = call_method0(cm, N[N_expired]);
        Py_DECREF(cm);
        if (!d)
            goto done;
    }
    t = current_task();
    n = t ? cancelling_of(t) : NULL;
    if (!n || clock_and_iteration(&clock, &it) < 0)
        goto done;
    if (ev == Py_None) {
        if (record(event_pack(10, s_op_exit, clock, it, self->task, self->op, s_ok, s_empty,
                              s_empty, d, n)) < 0)
            goto done;
    } else {
        tn = tname_of(et);
        at = tn ? args_text_of(ev) : NULL;
        if (!at || record(event_pack(10, s_op_exit, clock, it, self->task, self->op, s_raise, tn,
                                     at, d, n)) < 0)
            goto done;
    }
    result = Py_NewRef(Py_False);
done:
    Py_XDECREF(at);
    Py_XDECREF(tn);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    Py_XDECREF(n);
    Py_XDECREF(t);
    Py_XDECREF(d);
    return result;
}

static PyMethodDef op_scope_methods[] = {
    {"__enter__", (PyCFunction)op_scope_enter, METH_NOARGS, "Records op_enter."},
    {"__exit__", (PyCFunction)(void (*)(void))op_scope_exit, METH_FASTCALL,
     "Records op_exit (not on GeneratorExit)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef op_scope_members[] = {
    {"op", T_OBJECT, offsetof(op_scope_object, op), 0, "the IR op index"},
    {"task", T_OBJECT_EX, offsetof(op_scope_object, task), 0, "the task's _af_id, -1"},
    {"detail", T_OBJECT, offsetof(op_scope_object, detail), 0, "op_exit's detail"},
    {"cm", T_OBJECT, offsetof(op_scope_object, cm), 0, "a Timeout: detail is cm.expired()"},
    {"deadline", T_OBJECT, offsetof(op_scope_object, deadline), READONLY,
     "wait_for_scope's deadline"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject op_scope_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_af_probe.op_scope",
    .tp_basicsize = sizeof(op_scope_object),
    .tp_dealloc = (destructor)op_scope_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "with op_scope(op): records op_enter, then op_exit with the outcome.",
    .tp_traverse = (traverseproc)op_scope_traverse,
    .tp_clear = (inquiry)op_scope_clear,
    .tp_methods = op_scope_methods,
    .tp_members = op_scope_members,
    .tp_new = op_scope_new,
};

/* ProbeTask.cancel(self, msg=None), installed by task_cancel_descr(cls,
 * base_cancel), statement for statement as probe.py's: a cancel event
 * with cancelling() before and after; a second cancel of a task whose
 * cancel() is already running (tasks awaiting each other in a cycle) is
 * recorded and refused instead of recursing. */
static PyObject *g_base_cancel[2]; /* the base classes' cancel, by slot */
static PyTypeObject *g_cancel_cls[2];

static PyObject *cancel_event(PyObject *tid, PyObject *msg, PyObject *r, PyObject *before,
                              PyObject *after)
{
    PyObject *clock = NULL, *it = NULL, *by = NULL, *cur_op, *ev = NULL;
    if (clock_and_iteration(&clock, &it) == 0 && (by = task_id()) && (cur_op = gget(N_CUR_OP)))
        ev = event_pack(10, N[N_cancel], clock, it, by, tid, cur_op, msg, r, before, after);
    Py_XDECREF(by);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    return ev;
}

static PyObject *task_cancel(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    PyObject *msg = Py_None, *before = NULL, *tid = NULL, *in_cancel = NULL, *r = NULL,
             *after = NULL, *result = NULL;
    static const char *const kw[] = {"msg"};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1 ||
        (nkw && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), kw[0]) != 0)) {
        PyErr_SetString(PyExc_TypeError, "cancel(msg=None)");
        return NULL;
    }
    if (nargs + nkw == 1)
        msg = args[0];
    int slot = Py_IS_TYPE(self, g_cancel_cls[0]) ? 0 : Py_IS_TYPE(self, g_cancel_cls[1]) ? 1 : -1;
    if (slot < 0) {
        PyErr_Format(PyExc_TypeError, "cancel: a probe task is required, not %.100s",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    before = call_method0(self, N[N_cancelling]);
    tid = before ? PyObject_GetAttr(self, N[N_af_id]) : NULL;
    in_cancel = tid ? gget(N_IN_CANCEL) : NULL;
    if (!in_cancel)
        goto done;
    int busy = PySet_Contains(in_cancel, tid);
    if (busy < 0)
        goto done;
    if (busy) {
        if (record(cancel_event(tid, msg, Py_False, before, before)) == 0)
            result = Py_NewRef(Py_False);
        goto done;
    }
    Py_INCREF(in_cancel);
    if (PySet_Add(in_cancel, tid) < 0) {
        Py_DECREF(in_cancel);
        goto done;
    }
    { /* try: r = base.cancel(self, msg) finally: _IN_CANCEL.discard(tid) */
        PyObject *a[2] = {self, msg};
        r = PyObject_Vectorcall(g_base_cancel[slot], a, 2, NULL);
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        int d = PySet_Discard(in_cancel, tid);
        Py_DECREF(in_cancel);
        if (end_finally(d < 0, et, ev, tb) < 0) {
            Py_CLEAR(r);
            goto done;
        }
    }
    if (!r)
        goto done;
    int t = PyObject_IsTrue(r);
    if (t < 0)
        goto done;
    if (t) {
        PyObject *cm = gget(N_CANCEL_MSG);
        if (!cm || PyObject_SetItem(cm, tid, msg) < 0)
            goto done;
    }
    after = call_method0(self, N[N_cancelling]);
    if (!after || record(cancel_event(tid, msg, r, before, after)) < 0)
        goto done;
    result = Py_NewRef(r);
done:
    Py_XDECREF(after);
    Py_XDECREF(r);
    Py_XDECREF(tid);
    Py_XDECREF(before);
    return result;
}

static PyMethodDef task_cancel_def = {"cancel", (PyCFunction)(void (*)(void))task_cancel,
                                      METH_FASTCALL | METH_KEYWORDS,
                                      "ProbeTask.cancel in C (harness/accel/probe_c.c)."};

/* task_cancel_descr(cls, base_cancel): ProbeTask.cancel for cls (one of
 * the probe's two task classes), deferring to base_cancel. */
static PyObject *task_cancel_descr(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2 || !PyType_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "task_cancel_descr(cls, base_cancel)");
        return NULL;
    }
    int slot = g_cancel_cls[0] == NULL || g_cancel_cls[0] == (PyTypeObject *)args[0]   ? 0
               : g_cancel_cls[1] == NULL || g_cancel_cls[1] == (PyTypeObject *)args[0] ? 1
                                                                                       : -1;
    if (slot < 0) {
        PyErr_SetString(PyExc_RuntimeError, "task_cancel_descr: two task classes at most");
        return NULL;
    }
    Py_XSETREF(g_cancel_cls[slot], (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(g_base_cancel[slot], Py_NewRef(args[1]));
    return PyDescr_NewMethod((PyTypeObject *)args[0], &task_cancel_def);
}

/* wait_for_scope(op, timeout): an op_scope whose detail is whether
 * LOOP._clock + timeout (at creation) had passed when it exits. */
static PyObject *wait_for_scope(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "wait_for_scope(op, timeout)");
        return NULL;
    }
    PyObject *deadline;
    if (args[1] == Py_None) {
        deadline = Py_NewRef(Py_None);
    } else {
        PyObject *loop = gget(N_LOOP);
        PyObject *clock = loop ? af_loop_get(loop, AF_L_CLOCK) : NULL;
        deadline = clock ? PyNumber_Add(clock, args[1]) : NULL;
        Py_XDECREF(clock);
        if (!deadline)
            return NULL;
    }
    op_scope_object *o = (op_scope_object *)op_scope_type.tp_alloc(&op_scope_type, 0);
    if (!o) {
        Py_DECREF(deadline);
        return NULL;
    }
    o->op = Py_NewRef(args[0]);
    o->detail = Py_NewRef(Py_None);
    o->cm = Py_NewRef(Py_None);
    o->deadline = deadline;
    return (PyObject *)o;
}

/* -- probe.run in C ----------------------------------------------------------
 *
 * probe.run(root_name, make_root, prim_spec=(), options=None, target=None),
 * statement for statement: the same state reset, hooks, phases, cleanup
 * rounds and final collection, the same events in the same order. The rare
 * paths (primitives to make, tasks left after the run, garbage whose
 * finalizers start tasks, events of the final collection to sort) call the
 * Python helpers themselves. */

/* obj.<name>(args...): new reference. */
static PyObject *call_method_n(PyObject *obj, int name, PyObject *const *args, size_t nargs)
{
    PyObject *all[8];
    if (nargs > 7) {
        PyErr_SetString(PyExc_SystemError, "call_method_n: too many arguments");
        return NULL;
    }
    all[0] = obj;
    for (size_t i = 0; i < nargs; i++)
        all[i + 1] = args[i];
    return PyObject_VectorcallMethod(N[name], all, (nargs + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                     NULL);
}

/* As call_method_n, the result dropped: 0 or -1. */
static int call_method_void(PyObject *obj, int name, PyObject *const *args, size_t nargs)
{
    PyObject *r = call_method_n(obj, name, args, nargs);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* A probe global called with args: new reference. */
static PyObject *call_global(int name, PyObject *const *args, size_t nargs)
{
    PyObject *f = gget(name);
    if (!f)
        return NULL;
    Py_INCREF(f);
    PyObject *r = PyObject_Vectorcall(f, args, nargs, NULL);
    Py_DECREF(f);
    return r;
}

/* Whether the raised exception is KeyboardInterrupt or SystemExit. */
static int interrupt_raised(void)
{
    return PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
           PyErr_ExceptionMatches(PyExc_SystemExit);
}

/* The run's options, read as probe.run reads them. */
typedef struct {
    PyObject *seq;                                        /* owned: options as a fast sequence */
    PyObject *max_it, *max_vtime, *watchdog, *slow_ticks; /* borrowed from seq */
    int pure;
} run_options;

static int read_run_options(PyObject *options, PyObject *target, run_options *o)
{
    if (options == Py_None && !(options = gget(N_DEFAULT_OPTIONS)))
        return -1;
    o->seq = PySequence_Fast(options, "probe.run: options must be a sequence");
    if (!o->seq)
        return -1;
    if (PySequence_Fast_GET_SIZE(o->seq) < 5) {
        PyErr_SetString(PyExc_ValueError, "probe.run: options needs 5 values");
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(o->seq);
    o->max_it = items[0];
    o->max_vtime = items[1];
    o->watchdog = items[2];
    o->slow_ticks = items[3];
    o->pure = PyObject_IsTrue(items[4]);
    if (o->pure < 0)
        return -1;
    /* if target is not None and target is not asyncio and
     *         getattr(target, "PURE_PYTHON_TASKS", False): pure = True
     * (stock asyncio has no such attribute: not asking it saves raising
     * and clearing an AttributeError per run) */
    PyObject *asyncio = gget(N_asyncio);
    if (!asyncio)
        return -1;
    if (target == Py_None || target == asyncio)
        return 0;
    PyObject *p = getattr_default(target, N[N_PURE_PYTHON_TASKS], Py_False);
    int r = p ? PyObject_IsTrue(p) : -1;
    Py_XDECREF(p);
    if (r > 0)
        o->pure = 1;
    return r < 0 ? -1 : 0;
}

/* _forget_names(): tasks, groups, timeouts and prims cleared. */
static int forget_names(void)
{
    static const int dicts[] = {N_tasks, N_groups, N_timeouts, N_prims};
    for (size_t i = 0; i < sizeof dicts / sizeof dicts[0]; i++) {
        PyObject *d = gget(dicts[i]);
        if (!d)
            return -1;
        if (PyDict_CheckExact(d))
            PyDict_Clear(d);
        else if (call_method_void(d, N_clear, NULL, 0) < 0)
            return -1;
    }
    return 0;
}

/* The state reset of probe.run, up to loop.reset(...). */
static int reset_state(PyObject *target, PyObject *loop, PyObject *events, const run_options *o)
{
    PyObject *v, *all = NULL;
    int rc = -1;
    if (!(v = target == Py_None ? gget(N_asyncio) : target) || gset(N_TARGET, v) < 0)
        return -1;
    all = PyList_New(0);
    if (!all || gset(N_EVENTS, events) < 0 || gset(N_ALL, all) < 0 || gset(N_ROOT, Py_None) < 0 ||
        gset(N_root_seen, Py_False) < 0 || gset(N_next_id, g_zero) < 0)
        goto done;
    if (!(v = gget(N_CANCEL_MSG)))
        goto done;
    if (PyDict_CheckExact(v))
        PyDict_Clear(v);
    else if (call_method_void(v, N_clear, NULL, 0) < 0)
        goto done;
    if (forget_names() < 0 || gset(N_CUR_OP, g_minus_one) < 0)
        goto done;
    /* _TaskCls, _TaskInit, _task_new, future_cls = _TASK_KINDS[pure] */
    if (!(v = gget(N_TASK_KINDS)))
        goto done;
    PyObject *kind = PySequence_GetItem(v, o->pure ? 1 : 0);
    if (!kind)
        goto done;
    if (!PyTuple_Check(kind) || PyTuple_GET_SIZE(kind) != 4) {
        PyErr_SetString(PyExc_TypeError, "probe._TASK_KINDS: 4-tuples expected");
    } else if (gset(N_TaskCls, PyTuple_GET_ITEM(kind, 0)) == 0 &&
               gset(N_TaskInit, PyTuple_GET_ITEM(kind, 1)) == 0 &&
               gset(N_task_new, PyTuple_GET_ITEM(kind, 2)) == 0) {
        PyObject *handler = gget(N_exception_handler), *factory = gget(N_task_factory);
        if (handler && factory) {
            PyObject *a[5] = {events, handler, factory, o->slow_ticks, PyTuple_GET_ITEM(kind, 3)};
            rc = call_method_void(loop, N_reset, a, 5);
        }
    }
    Py_DECREF(kind);
done:
    Py_XDECREF(all);
    return rc;
}

/* What probe.run saves before it installs its hooks. */
typedef struct {
    PyObject *showwarning, *unraisablehook, *filters; /* owned */
    int gc_enabled;
} saved_hooks;

/* warnings._filters_mutated() */
static int filters_mutated(PyObject *warnings)
{
    return call_method_void(warnings, N_filters_mutated, NULL, 0);
}

/* The run's warning, unraisable-exception and collector settings. */
static int install_hooks(saved_hooks *s)
{
    PyObject *warnings = gget(N_warnings), *sys = gget(N_sys), *v;
    if (!warnings || !sys)
        return -1;
    s->showwarning = PyObject_GetAttr(warnings, N[N_showwarning]);
    if (!s->showwarning)
        return -1;
    s->unraisablehook = PyObject_GetAttr(sys, N[N_unraisablehook]);
    if (!s->unraisablehook)
        return -1;
    s->gc_enabled = PyGC_IsEnabled();
    s->filters = PyObject_GetAttr(warnings, N[N_filters]);
    if (!s->filters)
        return -1;
    if (!(v = gget(N_showwarning_hook)) || PyObject_SetAttr(warnings, N[N_showwarning], v) < 0)
        return -1;
    if (!(v = gget(N_ALWAYS)))
        return -1;
    PyObject *filters = PyList_New(1);
    if (!filters)
        return -1;
    PyList_SET_ITEM(filters, 0, Py_NewRef(v));
    int r = PyObject_SetAttr(warnings, N[N_filters], filters);
    Py_DECREF(filters);
    if (r < 0 || filters_mutated(warnings) < 0)
        return -1;
    if (!(v = gget(N_unraisablehook_hook)) || PyObject_SetAttr(sys, N[N_unraisablehook], v) < 0)
        return -1;
    PyGC_Disable();
    return 0;
}

static int restore_hooks(saved_hooks *s)
{
    PyObject *warnings = gget(N_warnings), *sys = gget(N_sys);
    if (!warnings || !sys || PyObject_SetAttr(warnings, N[N_showwarning], s->showwarning) < 0 ||
        PyObject_SetAttr(sys, N[N_unraisablehook], s->unraisablehook) < 0 ||
        PyObject_SetAttr(warnings, N[N_filters], s->filters) < 0 || filters_mutated(warnings) < 0)
        return -1;
    if (s->gc_enabled)
        PyGC_Enable();
    return 0;
}

static void saved_hooks_clear(saved_hooks *s)
{
    Py_CLEAR(s->showwarning);
    Py_CLEAR(s->unraisablehook);
    Py_CLEAR(s->filters);
}

/* events.append((kind, loop._clock, loop._iteration, a[, b])) */
static int append_loop_event(PyObject *events, PyObject *loop, PyObject *kind, PyObject *a,
                             PyObject *b)
{
    PyObject *clock, *it, *ev = NULL;
    if (loop_clock_iteration(loop, &clock, &it) == 0)
        ev = b ? event_pack(5, kind, clock, it, a, b) : event_pack(4, kind, clock, it, a);
    int rc = ev ? append_to(events, ev) : -1;
    Py_XDECREF(ev);
    Py_XDECREF(it);
    Py_XDECREF(clock);
    return rc;
}

/* t.done() / t.cancelled(): 1, 0, -1. */
static int call_true(PyObject *t, int name)
{
    PyObject *r = call_method_n(t, name, NULL, 0);
    int b = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    return b;
}

/* events.append(_end_event(ROOT)): the root's outcome; its exception is
 * retrieved (t.exception()), as asyncio.run does. */
static int append_end_event(PyObject *events, PyObject *loop, PyObject *root)
{
    int c = call_true(root, N_cancelled);
    if (c < 0)
        return -1;
    if (c)
        return append_loop_event(events, loop, s_end, s_cancelled, s_cancelled_error_name);
    PyObject *e = call_method_n(root, N_exception_method, NULL, 0), *n = NULL;
    if (!e)
        return -1;
    int rc = -1;
    if (e == Py_None)
        rc = append_loop_event(events, loop, s_end, s_result, s_empty);
    else if ((n = tname_of((PyObject *)Py_TYPE(e))))
        rc = append_loop_event(events, loop, s_end, s_exception, n);
    Py_XDECREF(n);
    Py_DECREF(e);
    return rc;
}

/* The `except (KeyboardInterrupt, SystemExit)` clause of _run_phases;
 * marked: the watchdog stopped the main phase (its event goes at the mark). */
static int interrupted_end(PyObject *events, PyObject *loop, int marked)
{
    PyObject *et, *ev, *tb, *n = NULL;
    PyErr_Fetch(&et, &ev, &tb);
    int rc = -1;
    if (marked ||
        ((n = tname_of(et)) && append_loop_event(events, loop, s_end, s_exception, n) == 0)) {
        /* if ROOT is not None and ROOT.done() and not ROOT.cancelled():
         *     ROOT.exception() */
        PyObject *root = gget(N_ROOT);
        rc = root ? 0 : -1;
        if (root && root != Py_None) {
            Py_INCREF(root);
            int d = call_true(root, N_done);
            int c = d > 0 ? call_true(root, N_cancelled) : 0;
            if (d < 0 || c < 0)
                rc = -1;
            else if (d && !c)
                rc = call_method_void(root, N_exception_method, NULL, 0);
            Py_DECREF(root);
        }
    }
    Py_XDECREF(n);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
    return rc;
}

/* The root task made and run: the end or budget event appended (none when
 * the watchdog stopped a callback: *main tells that run_until ran). */
static int run_root(PyObject *loop, PyObject *events, PyObject *root_name, PyObject *make_root,
                    PyObject *prim_spec, const run_options *o, int *main)
{
    PyObject *x, *coro, *root, *why;
    Py_ssize_t nspec = PyObject_Size(prim_spec);
    if (nspec < 0)
        return -1;
    if (nspec > 0) { /* make_prims(()) does nothing */
        if (!(x = call_global(N_make_prims, &prim_spec, 1)))
            return -1;
        Py_DECREF(x);
    }
    if (!(coro = PyObject_CallNoArgs(make_root)))
        return -1;
    PyObject *sargs[4] = {g_minus_one, root_name, coro, g_zero};
    root = start_task(NULL, sargs, 4, NULL);
    Py_DECREF(coro);
    if (!root)
        return -1;
    int rc = gset(N_ROOT, root);
    if (rc == 0) {
        PyObject *a[4] = {Py_None, o->max_it, o->max_vtime, o->watchdog};
        *main = 1;
        why = call_method_n(loop, N_run_until, a, 4);
        if (!why)
            rc = -1;
        else if (af_watchdog_mark(loop))
            rc = 0; /* run_phases */
        else if (why != Py_None)
            rc = append_loop_event(events, loop, s_budget, why, NULL);
        else
            rc = append_end_event(events, loop, root);
        Py_XDECREF(why);
    }
    Py_DECREF(root);
    return rc;
}

/* [t for t in ALL if not t.done()]: new reference. */
static PyObject *undone_tasks(void)
{
    PyObject *all = gget(N_ALL);
    if (!all)
        return NULL;
    PyObject *seq = PySequence_Fast(all, "probe.ALL is not a sequence");
    if (!seq)
        return NULL;
    PyObject *left = PyList_New(0);
    for (Py_ssize_t i = 0; left && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        int d = call_true(t, N_done);
        if (d < 0 || (!d && PyList_Append(left, t) < 0))
            Py_CLEAR(left);
    }
    Py_DECREF(seq);
    return left;
}

/* The cleanup rounds of _run_phases: cancel what is left, drain the loop. */
static int cancel_and_drain(PyObject *loop, const run_options *o, PyObject *first_left)
{
    for (int round = 0; round < 3; round++) {
        /* round 0: the list the pending events were made from (nothing
         * has run since: it is what the comprehension would give) */
        PyObject *left = round == 0 ? first_left : undone_tasks();
        if (!left)
            return -1;
        int ready = PyList_GET_SIZE(left) ? 1 : af_loop_true(loop, AF_L_READY);
        if (ready <= 0) {
            Py_DECREF(left);
            return ready;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(left); i++) {
            if (call_method_void(PyList_GET_ITEM(left, i), N_cancel, NULL, 0) < 0) {
                if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                    Py_DECREF(left);
                    return -1;
                }
                PyErr_Clear(); /* e.g. RecursionError from an await cycle */
            }
        }
        Py_DECREF(left);
        PyObject *clock = af_loop_get(loop, AF_L_CLOCK);
        PyObject *until = clock ? PyNumber_Add(clock, o->max_vtime) : NULL;
        PyObject *pred = until ? gget(N_all_done) : NULL;
        int rc = -1;
        if (pred) {
            PyObject *a[4] = {pred, g_thousand, until, o->watchdog};
            rc = call_method_void(loop, N_run_until, a, 4);
            if (rc < 0 && interrupt_raised()) {
                PyErr_Clear();
                rc = 0;
            }
        }
        Py_XDECREF(until);
        Py_XDECREF(clock);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* events.insert(at[0], ("budget", at[1], at[2], "watchdog")) */
static int insert_watchdog_event(PyObject *events, PyObject *at)
{
    if (!PyTuple_Check(at) || PyTuple_GET_SIZE(at) != 3) {
        PyErr_SetString(PyExc_TypeError, "loop.watchdog_at: (index, clock, iteration) expected");
        return -1;
    }
    Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(at, 0));
    if (i == -1 && PyErr_Occurred())
        return -1;
    PyObject *ev =
        event_pack(4, s_budget, PyTuple_GET_ITEM(at, 1), PyTuple_GET_ITEM(at, 2), s_watchdog);
    int rc = ev ? PyList_Insert(events, i, ev) : -1;
    Py_XDECREF(ev);
    return rc;
}

/* _run_phases(loop, ...) */
static int run_phases(PyObject *loop, PyObject *events, PyObject *root_name, PyObject *make_root,
                      PyObject *prim_spec, const run_options *o)
{
    int main = 0;
    if (run_root(loop, events, root_name, make_root, prim_spec, o, &main) < 0) {
        if (!interrupt_raised() ||
            interrupted_end(events, loop, main && af_watchdog_mark(loop)) < 0)
            return -1;
    }
    PyObject *at = main ? af_watchdog_mark(loop) : NULL;
    if (at) {
        Py_INCREF(at);
        int rc = insert_watchdog_event(events, at);
        Py_DECREF(at);
        if (rc < 0)
            return -1;
    }
    PyObject *left = undone_tasks();
    if (!left)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(left); i++) {
        PyObject *id = PyObject_GetAttr(PyList_GET_ITEM(left, i), N[N_af_id]);
        int r = id ? append_loop_event(events, loop, s_pending, id, NULL) : -1;
        Py_XDECREF(id);
        if (r < 0) {
            Py_DECREF(left);
            return -1;
        }
    }
    return cancel_and_drain(loop, o, left); /* takes left */
}

/* _collect(): the young generation, then everything if it held garbage. */
static int collect_garbage(void)
{
    PyObject *gc = gget(N_gc);
    if (!gc)
        return -1;
    PyObject *zero = g_zero;
    PyObject *n = call_method_n(gc, N_collect, &zero, 1);
    if (!n)
        return -1;
    int found = PyObject_IsTrue(n);
    Py_DECREF(n);
    if (found > 0)
        found = call_method_void(gc, N_collect, NULL, 0);
    return found < 0 ? -1 : 0;
}

/* _finish_late_tasks(loop, watchdog), in Python only when there is
 * something to finish (its first check, made here). */
static int finish_late_tasks(PyObject *loop, PyObject *watchdog)
{
    if (forget_names() < 0)
        return -1;
    PyObject *all = gget(N_ALL);
    int r = all ? PyObject_IsTrue(all) : -1;
    if (r == 0)
        r = af_loop_true(loop, AF_L_READY);
    if (r == 0)
        r = af_loop_true(loop, AF_L_SCHEDULED);
    if (r <= 0)
        return r;
    PyObject *a[2] = {loop, watchdog};
    PyObject *x = call_global(N_finish_late_tasks, a, 2);
    Py_XDECREF(x);
    return x ? 0 : -1;
}

/* events[k:] = sorted(events[k:], key=repr) */
static int sort_tail(PyObject *events, Py_ssize_t k)
{
    Py_ssize_t n = PyList_GET_SIZE(events);
    if (n - k <= 1)
        return 0;
    PyObject *tail = PyList_GetSlice(events, k, n), *key = NULL, *r = NULL;
    int rc = -1;
    if (!tail)
        return -1;
    key = PyDict_New();
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *repr = builtins ? PyDict_GetItemString(builtins, "repr") : NULL;
    if (key && repr && PyDict_SetItemString(key, "key", repr) == 0) {
        PyObject *sort = PyObject_GetAttrString(tail, "sort");
        if (sort)
            r = PyObject_Call(sort, g_empty_tuple, key);
        Py_XDECREF(sort);
    }
    if (r)
        rc = PyList_SetSlice(events, k, n, tail);
    Py_XDECREF(r);
    Py_XDECREF(key);
    Py_DECREF(tail);
    return rc;
}

/* The `finally` part of probe.run but the hooks' restoration. */
static int end_run(PyObject *loop, PyObject *events, const run_options *o)
{
    if (!PyList_CheckExact(events)) {
        PyErr_SetString(PyExc_TypeError, "probe.run: the event list was replaced");
        return -1;
    }
    Py_ssize_t k = PyList_GET_SIZE(events);
    PyObject *all = NULL;
    if (call_method_void(loop, N_clear_queues, NULL, 0) < 0 || forget_names() < 0 ||
        !(all = PyList_New(0)) || gset(N_ALL, all) < 0 || gset(N_ROOT, Py_None) < 0) {
        Py_XDECREF(all);
        return -1;
    }
    Py_DECREF(all);
    if (collect_garbage() < 0 || finish_late_tasks(loop, o->watchdog) < 0 ||
        sort_tail(events, k) < 0)
        return -1;
    return call_method_void(loop, N_leave_running, NULL, 0);
}

/* The reused loop: LOOP, or get_loop() the first time. New reference. */
static PyObject *the_loop(void)
{
    PyObject *loop = gget(N_LOOP);
    if (!loop)
        return NULL;
    if (loop != Py_None)
        return Py_NewRef(loop);
    return call_global(N_get_loop, NULL, 0);
}

/* run(root_name, make_root, prim_spec=(), options=None, target=None) */
static PyObject *probe_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    (void)self;
    if (nargs < 2 || nargs > 5 || (kwnames && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError,
                        "run(root_name, make_root, prim_spec=(), options=None, target=None)");
        return NULL;
    }
    PyObject *root_name = args[0], *make_root = args[1];
    PyObject *prim_spec = nargs > 2 ? args[2] : g_empty_tuple;
    PyObject *options = nargs > 3 ? args[3] : Py_None, *target = nargs > 4 ? args[4] : Py_None;
    run_options o = {0};
    saved_hooks saved = {0};
    PyObject *loop = NULL, *events = NULL, *result = NULL;

    if (read_run_options(options, target, &o) < 0 || !(loop = the_loop()) ||
        !(events = PyList_New(0)) || reset_state(target, loop, events, &o) < 0 ||
        install_hooks(&saved) < 0 || call_method_void(loop, N_enter_running, NULL, 0) < 0)
        goto done;
    int failed = run_phases(loop, events, root_name, make_root, prim_spec, &o) < 0;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int cleanup_failed = end_run(loop, events, &o) < 0 || restore_hooks(&saved) < 0;
    if (end_finally(cleanup_failed, et, ev, tb) < 0 || failed)
        goto done;
    result = Py_NewRef(events);
done:
    saved_hooks_clear(&saved);
    Py_XDECREF(events);
    Py_XDECREF(loop);
    Py_XDECREF(o.seq);
    return result;
}

static PyObject *bind(PyObject *self, PyObject *globals)
{
    (void)self;
    if (!PyDict_CheckExact(globals)) {
        PyErr_SetString(PyExc_TypeError, "bind: the probe's globals dict is required");
        return NULL;
    }
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (!asyncio)
        return NULL;
    PyObject *ce = PyObject_GetAttrString(asyncio, "CancelledError");
    Py_DECREF(asyncio);
    if (!ce)
        return NULL;
    Py_XSETREF(g_cancelled_error, ce);
    Py_INCREF(globals);
    Py_XSETREF(g_globals, globals);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_O, "bind(globals): the probe module's globals."},
    {"_task_factory", (PyCFunction)(void (*)(void))task_factory, METH_FASTCALL | METH_KEYWORDS,
     "probe._task_factory(loop, coro, context=None), in C."},
    {"_on_done", on_done, METH_O, "probe._on_done(task), in C."},
    {"bind_vloop", bind_vloop, METH_O, "bind_vloop(globals): vloop's module globals."},
    {"run_until", (PyCFunction)(void (*)(void))run_until, METH_FASTCALL,
     "VirtualLoop.run_until(loop, pred, max_iterations, max_vtime, watchdog_seconds), in C."},
    {"run_until_descr", run_until_descr, METH_O,
     "run_until_descr(cls): VirtualLoop.run_until in C, as a method of cls."},
    {"start", (PyCFunction)(void (*)(void))start_task, METH_FASTCALL | METH_KEYWORDS,
     "probe.start(op, name, coro, ir, keep=True, group=None), in C."},
    {"task_cancel_descr", (PyCFunction)(void (*)(void))task_cancel_descr, METH_FASTCALL,
     "task_cancel_descr(cls, base_cancel): ProbeTask.cancel in C for cls."},
    {"wait_for_scope", (PyCFunction)(void (*)(void))wait_for_scope, METH_FASTCALL,
     "probe.wait_for_scope(op, timeout), in C (an op_scope with a deadline)."},
    {"run", (PyCFunction)(void (*)(void))probe_run, METH_FASTCALL | METH_KEYWORDS,
     "probe.run(root_name, make_root, prim_spec=(), options=None, target=None), in C."},
    {"use_id_hash", use_id_hash, METH_O,
     "use_id_hash(cls): instances of cls hash by their _af_id slot (tp_hash in C)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_af_probe",
    "The probe's per-task hooks in C (asyncfuzz harness/accel/probe_c.c).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int init_constants(void)
{
    if (N[0])
        return 0;
    if (af_intern_names(N, name_text, N_COUNT) < 0)
        return -1;
    struct {
        PyObject **dst;
        const char *text;
    } strs[] = {
        {&s_task_new, "task_new"},   {&s_task_done, "task_done"},
        {&s_result, "result"},       {&s_exception, "exception"},
        {&s_cancelled, "cancelled"}, {&s_empty, ""},
        {&s_empty_args, "()"},       {&s_cancelled_error_name, "asyncio.exceptions.CancelledError"},
        {&s_task, "task"},           {&s_at, " at "},
        {&s_hang, "hang"},           {&s_deadlock, "deadlock"},
        {&s_watchdog, "watchdog"},   {&s_slow, "slow"},
        {&s_callback, "callback"},   {&s_op_enter, "op_enter"},
        {&s_op_exit, "op_exit"},     {&s_ok, "ok"},
        {&s_raise, "raise"},         {&s_end, "end"},
        {&s_budget, "budget"},       {&s_pending, "pending"},
        {&s_stopped, "stopped"},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        *strs[i].dst = PyUnicode_InternFromString(strs[i].text);
        if (!*strs[i].dst)
            return -1;
    }
    g_init_kwnames = PyTuple_Pack(3, N[N_loop], N[N_name], N[N_context]);
    g_name_kwnames = PyTuple_Pack(1, N[N_name]);
    g_empty_tuple = PyTuple_New(0);
    g_minus_one = PyLong_FromLong(-1);
    g_one = PyLong_FromLong(1);
    g_two = PyLong_FromLong(2);
    g_sixty_four = PyLong_FromLong(64);
    g_zero = PyLong_FromLong(0);
    g_thousand = PyLong_FromLong(1000);
    if (!g_init_kwnames || !g_name_kwnames || !g_empty_tuple || !g_minus_one || !g_one || !g_two ||
        !g_sixty_four || !g_zero || !g_thousand)
        return -1;
    return 0;
}

PyObject *af_probe_c_create(void)
{
    if (init_constants() < 0 || PyType_Ready(&op_scope_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m && PyModule_AddObjectRef(m, "op_scope", (PyObject *)&op_scope_type) < 0)
        Py_CLEAR(m);
    return m;
}

int af_probe_c_register(void)
{
    PyObject *m = af_probe_c_create();
    if (!m)
        return -1;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    int rc = PyDict_SetItemString(modules, "_af_probe", m);
    Py_DECREF(m);
    return rc;
}
