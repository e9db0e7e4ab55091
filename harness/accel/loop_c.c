/* loop_c.c - the virtual-time loop's scheduling in C (loop_c.h).
 *
 * What it replaces, one Python method each, statement for statement:
 * VirtualLoop.call_at, call_later and create_future, _VTimerHandle.cancel
 * (harness/py/vloop.py), heapq.heappush / heappop on the timer heap (the
 * same sift algorithm, so the heap holds its items in the same order), and
 * WeakSet.add on asyncio's registry of all tasks.
 *
 * The registry: every task's __init__ calls `_all_tasks.add(task)` (3.12
 * on: `_scheduled_tasks.add(task)`, the same WeakSet renamed), a
 * Python method that makes a weak reference whose callback (another Python
 * method) removes it when the task dies. fast_registry gives the WeakSet
 * an `add` and a callback in C that do the same, statement for statement,
 * so asyncio.all_tasks() (which iterates the WeakSet) sees the same tasks.
 *
 * What it must not do: judge, record events, or differ in any way a
 * scenario could observe from the Python code it replaces. Python objects
 * it keeps (the bound classes, interned names) live for the process, as
 * the embedded interpreter does.
 */
#include "harness/accel/loop_c.h"
#include "harness/accel/names.h"

#include <structmember.h>

static const char *const slot_names[AF_H_COUNT] = {
    "_context",          "_loop", "_callback",  "_args", "_cancelled", "_repr",
    "_source_traceback", "_when", "_scheduled",
};

/* The bound handle classes and where their slots are. A loop under test
 * on virtual time (harness/py/loops.py) makes handles of subclasses with
 * the same slots (bind_handle_class): they are read directly too. */
#define AF_MORE_HANDLE_CLASSES 4
typedef struct handle_layout {
    PyTypeObject *handle; /* strong references, from bind_handles */
    PyTypeObject *timer;
    Py_ssize_t off[AF_H_COUNT]; /* same for both classes; the last two: timer only */
    PyTypeObject *more[AF_MORE_HANDLE_CLASSES]; /* from bind_handle_class */
    int more_is_timer[AF_MORE_HANDLE_CLASSES];
    int n_more;
} handle_layout;

static handle_layout g_layout;
static PyObject *g_slot_name[AF_H_COUNT];

static const char *const loop_slot_names[AF_L_COUNT] = {
    "_clock",        "_iteration", "_ready",     "_scheduled",  "_timer_cancelled_count",
    "halted",        "_debug",     "_closed",    "_future_cls", "slow_ticks",
    "_slow_what",    "events",     "_thread_id", "_stopping",   "_exception_handler",
    "_task_factory",
};

/* The bound loop class and where its slots are. */
typedef struct loop_layout {
    PyTypeObject *cls; /* strong reference, from bind_loop */
    Py_ssize_t off[AF_L_COUNT];
} loop_layout;

static loop_layout g_loop;
static PyObject *g_loop_slot_name[AF_L_COUNT];

/* Interned names: X(enum id, text), one list so the two cannot drift. */
#define AF_LOOP_NAMES(X)                                                                           \
    X(S_append, "append")                                                                          \
    X(S_data, "data")                                                                              \
    X(S_pending_removals, "_pending_removals")                                                     \
    X(S_commit_removals, "_commit_removals")                                                       \
    X(S_iterating, "_iterating")                                                                   \
    X(S_Future, "Future")                                                                          \
    X(S_loop, "loop")                                                                              \
    X(S_context, "context")                                                                        \
    X(S_clear, "clear")                                                                            \
    X(S__get_running_loop, "_get_running_loop")                                                    \
    X(S__set_running_loop, "_set_running_loop")                                                    \
    X(S__Handle, "_Handle")                                                                        \
    X(S__TimerHandle, "_TimerHandle")

AF_NAME_TABLE(AF_LOOP_NAMES, S_COUNT, name_text)
static PyObject *S[S_COUNT];
static PyObject *g_loop_kwnames;   /* ("loop",) */
static PyObject *g_futures_module; /* asyncio.futures: create_future reads .Future per call */
static PyObject *g_one;
static PyObject *g_zero;
static PyObject *g_hundred;
static PyObject *g_events_module;  /* asyncio.events: its functions read per call */
static PyTypeObject *g_deque_type; /* collections.deque */
static PyObject *g_deque_append;   /* its append method descriptor */

/* The Python methods the C ones defer to in debug mode (method()). */
enum {
    M_CALL_SOON,
    M_CALL_AT,
    M_CALL_LATER,
    M_CREATE_FUTURE,
    M_GET_DEBUG,
    M_CANCEL,
    M_RESET,
    M_CLEAR_QUEUES,
    M_ENTER_RUNNING,
    M_LEAVE_RUNNING,
    M_COUNT
};
static PyObject *g_fallback[M_COUNT];

/* ---- handles -------------------------------------------------------------- */

/* 2: tp is a bound timer class, 1: a bound handle class, 0: neither. */
static int bound_kind(PyTypeObject *tp)
{
    if (!g_layout.handle)
        return 0;
    if (tp == g_layout.timer)
        return 2;
    if (tp == g_layout.handle)
        return 1;
    for (int i = 0; i < g_layout.n_more; i++)
        if (tp == g_layout.more[i])
            return g_layout.more_is_timer[i] ? 2 : 1;
    return 0;
}

static int is_bound_handle(PyObject *h)
{
    return bound_kind(Py_TYPE(h)) != 0;
}

static int slot_fast(PyObject *h, af_hslot s)
{
    if (s == AF_H_WHEN || s == AF_H_SCHEDULED)
        return bound_kind(Py_TYPE(h)) == 2;
    return is_bound_handle(h);
}

static PyObject **slot_addr(PyObject *h, af_hslot s)
{
    return (PyObject **)((char *)h + g_layout.off[s]);
}

/* The value in an object slot (new reference), or NULL with the
 * AttributeError getattr raises for an unset slot. */
static PyObject *read_slot(PyObject *obj, PyObject *const *addr, const char *name)
{
    PyObject *v = *addr;
    if (!v) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                     Py_TYPE(obj)->tp_name, name);
        return NULL;
    }
    return Py_NewRef(v);
}

/* bool(v), v a new reference that is released (NULL: -1). */
static int consume_truth(PyObject *v)
{
    if (!v)
        return -1;
    int r = v == Py_True ? 1 : v == Py_False ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

PyObject *af_handle_get(PyObject *h, af_hslot s)
{
    if (!slot_fast(h, s))
        return PyObject_GetAttr(h, g_slot_name[s]);
    return read_slot(h, slot_addr(h, s), slot_names[s]);
}

int af_handle_set(PyObject *h, af_hslot s, PyObject *v)
{
    if (!slot_fast(h, s))
        return PyObject_SetAttr(h, g_slot_name[s], v);
    Py_XSETREF(*slot_addr(h, s), Py_NewRef(v));
    return 0;
}

int af_handle_true(PyObject *h, af_hslot s)
{
    return consume_truth(af_handle_get(h, s));
}

PyObject *af_handle_new(PyTypeObject *tp, PyObject *loop, PyObject *callback, PyObject *args,
                        PyObject *context, PyObject *when)
{
    int kind = tp ? bound_kind(tp) : 0;
    if (!kind)
        return NULL;
    int timer = kind == 2;
    PyObject *h = tp->tp_alloc(tp, 0); /* what object.__new__(tp) does */
    if (!h)
        return NULL;
    PyObject *vals[AF_H_COUNT] = {context, loop,    callback, args,   Py_False,
                                  Py_None, Py_None, when,     Py_True};
    int n = timer ? AF_H_COUNT : AF_H_WHEN;
    for (int s = 0; s < n; s++)
        Py_XSETREF(*slot_addr(h, (af_hslot)s), Py_NewRef(vals[s]));
    return h;
}

/* ---- the loop's slots ----------------------------------------------------- */

static PyObject **loop_slot_addr(PyObject *loop, af_lslot s)
{
    return (PyObject **)((char *)loop + g_loop.off[s]);
}

/* A loop under test (harness/py/loops.py) keeps its attributes in its
 * __dict__: that dict (new reference) when the class has the generic
 * getattr and setattr and no data descriptor of that name, so that they
 * would go to the __dict__ anyway; else NULL, without an exception
 * (getattr's and setattr's way then). */
static PyObject *plain_attr_dict(PyObject *loop, PyObject *name)
{
    PyTypeObject *tp = Py_TYPE(loop);
    if (!tp->tp_dictoffset || tp->tp_getattro != PyObject_GenericGetAttr ||
        tp->tp_setattro != PyObject_GenericSetAttr)
        return NULL;
    PyObject *d = _PyType_Lookup(tp, name); /* borrowed */
    if (d && Py_TYPE(d)->tp_descr_set)
        return NULL;
    PyObject *dict = PyObject_GenericGetDict(loop, NULL);
    if (!dict)
        PyErr_Clear();
    return dict;
}

PyObject *af_attr_get(PyObject *obj, PyObject *name)
{
    PyObject *dict = plain_attr_dict(obj, name), *v = NULL;
    if (dict) {
        v = Py_XNewRef(PyDict_GetItemWithError(dict, name));
        Py_DECREF(dict);
    }
    return v || PyErr_Occurred() ? v : PyObject_GetAttr(obj, name);
}

int af_attr_set(PyObject *obj, PyObject *name, PyObject *v)
{
    PyObject *dict = plain_attr_dict(obj, name);
    if (!dict)
        return PyObject_SetAttr(obj, name, v);
    int rc = PyDict_SetItem(dict, name, v);
    Py_DECREF(dict);
    return rc;
}

PyObject *af_loop_get(PyObject *loop, af_lslot s)
{
    if (!g_loop.cls || !Py_IS_TYPE(loop, g_loop.cls))
        return af_attr_get(loop, g_loop_slot_name[s]);
    return read_slot(loop, loop_slot_addr(loop, s), loop_slot_names[s]);
}

int af_loop_set(PyObject *loop, af_lslot s, PyObject *v)
{
    if (!g_loop.cls || !Py_IS_TYPE(loop, g_loop.cls))
        return af_attr_set(loop, g_loop_slot_name[s], v);
    Py_XSETREF(*loop_slot_addr(loop, s), Py_NewRef(v));
    return 0;
}

int af_loop_true(PyObject *loop, af_lslot s)
{
    return consume_truth(af_loop_get(loop, s));
}

/* Offset of tp's object slot `name` (its own or inherited), or -1 with
 * TypeError. */
static Py_ssize_t slot_offset(PyTypeObject *tp, PyObject *name)
{
    PyObject *d = PyObject_GetAttr((PyObject *)tp, name);
    if (!d)
        return -1;
    Py_ssize_t off = -1;
    if (Py_IS_TYPE(d, &PyMemberDescr_Type) &&
        ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX &&
        PyType_IsSubtype(tp, ((PyMemberDescrObject *)d)->d_common.d_type))
        off = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    if (off < 0)
        PyErr_Format(PyExc_TypeError, "_af_loop: %U is not an object slot of %s", name,
                     tp->tp_name);
    return off;
}

static PyObject *bind_handles(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2 || !PyType_Check(args[0]) || !PyType_Check(args[1]) ||
        !PyType_IsSubtype((PyTypeObject *)args[1], (PyTypeObject *)args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "bind_handles(Handle, TimerHandle): two classes, the second a subclass");
        return NULL;
    }
    PyTypeObject *handle = (PyTypeObject *)args[0], *timer = (PyTypeObject *)args[1];
    Py_ssize_t off[AF_H_COUNT];
    for (int s = 0; s < AF_H_COUNT; s++) {
        off[s] = slot_offset(timer, g_slot_name[s]);
        if (off[s] < 0)
            return NULL;
        if (s < AF_H_WHEN && slot_offset(handle, g_slot_name[s]) != off[s]) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "bind_handles: the classes' slots differ");
            return NULL;
        }
    }
    Py_XSETREF(g_layout.handle, (PyTypeObject *)Py_NewRef(handle));
    Py_XSETREF(g_layout.timer, (PyTypeObject *)Py_NewRef(timer));
    memcpy(g_layout.off, off, sizeof off);
    Py_RETURN_NONE;
}

/* bind_handle_class(cls): a subclass of the bound Handle or TimerHandle
 * class's base with the same object slots at the same offsets (and none
 * more), whose instances the C code then reads and writes directly. */
static PyObject *bind_handle_class(PyObject *self, PyObject *cls)
{
    (void)self;
    if (!g_layout.handle || !PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "bind_handle_class(cls): a class, after bind_handles");
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)cls;
    if (bound_kind(tp))
        Py_RETURN_NONE;
    int timer = PyType_IsSubtype(tp, g_layout.timer->tp_base);
    PyTypeObject *like = timer ? g_layout.timer : g_layout.handle;
    if ((!timer && !PyType_IsSubtype(tp, g_layout.handle)) ||
        tp->tp_basicsize != like->tp_basicsize || tp->tp_itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "bind_handle_class: %s is not laid out as %s", tp->tp_name,
                     like->tp_name);
        return NULL;
    }
    for (int s = 0; s < (timer ? AF_H_COUNT : AF_H_WHEN); s++) {
        Py_ssize_t off = slot_offset(tp, g_slot_name[s]);
        if (off != g_layout.off[s]) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "bind_handle_class: %s's slots differ", tp->tp_name);
            return NULL;
        }
    }
    if (g_layout.n_more == AF_MORE_HANDLE_CLASSES) {
        PyErr_SetString(PyExc_ValueError, "bind_handle_class: too many classes");
        return NULL;
    }
    g_layout.more[g_layout.n_more] = (PyTypeObject *)Py_NewRef(cls);
    g_layout.more_is_timer[g_layout.n_more++] = timer;
    Py_RETURN_NONE;
}

static PyObject *bind_loop(PyObject *self, PyObject *cls)
{
    (void)self;
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "bind_loop(VirtualLoop): a class is required");
        return NULL;
    }
    Py_ssize_t off[AF_L_COUNT];
    for (int s = 0; s < AF_L_COUNT; s++) {
        off[s] = slot_offset((PyTypeObject *)cls, g_loop_slot_name[s]);
        if (off[s] < 0)
            return NULL;
    }
    Py_XSETREF(g_loop.cls, (PyTypeObject *)Py_NewRef(cls));
    memcpy(g_loop.off, off, sizeof off);
    Py_RETURN_NONE;
}

/* ---- the timer heap: heapq's algorithm, TimerHandle's order ------------- */

/* a < b, both held for the comparison (it may run Python code). */
static int less_held(PyObject *a, PyObject *b)
{
    Py_INCREF(a);
    Py_INCREF(b);
    int r = PyObject_RichCompareBool(a, b, Py_LT);
    Py_DECREF(a);
    Py_DECREF(b);
    return r;
}

/* a < b as heapq compares timers: TimerHandle.__lt__ is a._when < b._when. */
static int timer_less(PyObject *a, PyObject *b)
{
    if (bound_kind(Py_TYPE(a)) == 2 && bound_kind(Py_TYPE(b)) == 2) {
        PyObject *wa = *slot_addr(a, AF_H_WHEN), *wb = *slot_addr(b, AF_H_WHEN);
        if (wa && wb)
            return less_held(wa, wb);
    }
    return less_held(a, b);
}

static int heap_changed(PyObject *heap, Py_ssize_t size)
{
    if (PyList_GET_SIZE(heap) == size)
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "list changed size during iteration");
    return 1;
}

/* Move heap[pos] up towards startpos while it is less than its parent. */
static int sift_toward_root(PyObject *heap, Py_ssize_t startpos, Py_ssize_t pos)
{
    Py_ssize_t size = PyList_GET_SIZE(heap);
    while (pos > startpos) {
        Py_ssize_t parentpos = (pos - 1) >> 1;
        int less = timer_less(PyList_GET_ITEM(heap, pos), PyList_GET_ITEM(heap, parentpos));
        if (less < 0 || heap_changed(heap, size))
            return -1;
        if (!less)
            break;
        PyObject *parent = PyList_GET_ITEM(heap, parentpos);
        PyList_SET_ITEM(heap, parentpos, PyList_GET_ITEM(heap, pos));
        PyList_SET_ITEM(heap, pos, parent);
        pos = parentpos;
    }
    return 0;
}

/* heap[pos] moved down to a leaf along the smaller children, then back up
 * to its place (heapq's _siftup: fewer comparisons than stopping early). */
static int sift_to_leaf(PyObject *heap, Py_ssize_t pos)
{
    Py_ssize_t endpos = PyList_GET_SIZE(heap), startpos = pos, limit = endpos >> 1;
    while (pos < limit) {
        Py_ssize_t child = 2 * pos + 1;
        if (child + 1 < endpos) {
            int less = timer_less(PyList_GET_ITEM(heap, child), PyList_GET_ITEM(heap, child + 1));
            if (less < 0 || heap_changed(heap, endpos))
                return -1;
            if (!less)
                child++; /* the right child is not greater: take it */
        }
        PyObject *tmp = PyList_GET_ITEM(heap, child);
        PyList_SET_ITEM(heap, child, PyList_GET_ITEM(heap, pos));
        PyList_SET_ITEM(heap, pos, tmp);
        pos = child;
    }
    return sift_toward_root(heap, startpos, pos);
}

int af_heap_push(PyObject *heap, PyObject *item)
{
    if (!PyList_Check(heap)) {
        PyErr_SetString(PyExc_TypeError, "heap argument must be a list");
        return -1;
    }
    if (PyList_Append(heap, item) < 0)
        return -1;
    return sift_toward_root(heap, 0, PyList_GET_SIZE(heap) - 1);
}

PyObject *af_heap_pop(PyObject *heap)
{
    if (!PyList_Check(heap)) {
        PyErr_SetString(PyExc_TypeError, "heap argument must be a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(heap);
    if (n == 0) {
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    PyObject *last = Py_NewRef(PyList_GET_ITEM(heap, n - 1));
    if (PyList_SetSlice(heap, n - 1, n, NULL) < 0) {
        Py_DECREF(last);
        return NULL;
    }
    if (n == 1)
        return last;
    PyObject *top = PyList_GET_ITEM(heap, 0); /* the list's reference becomes ours */
    PyList_SET_ITEM(heap, 0, last);
    if (sift_to_leaf(heap, 0) < 0) {
        Py_DECREF(top);
        return NULL;
    }
    return top;
}

/* ---- VirtualLoop methods -------------------------------------------------- */

/* bool(obj.<name>) */
static int attr_true(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (!v)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* The keyword-only `context` of call_at / call_later: 0, or -1 with
 * TypeError naming the method. */
static int context_kwarg(const char *method, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames, PyObject **context)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    *context = Py_None;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);
        if (k != S[S_context] && PyUnicode_Compare(k, S[S_context]) != 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError,
                             "VirtualLoop.%s() got an unexpected keyword argument '%S'", method, k);
            return -1;
        }
        *context = args[nargs + i];
    }
    return 0;
}

/* fallback(self, *args, **kw) */
static PyObject *call_fallback(int m, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    if (!g_fallback[m]) {
        PyErr_SetString(PyExc_RuntimeError, "_af_loop: no Python method to fall back to");
        return NULL;
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject **a = PyMem_Malloc((size_t)(nargs + nkw + 1) * sizeof *a);
    if (!a)
        return PyErr_NoMemory();
    a[0] = self;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++)
        a[1 + i] = args[i];
    PyObject *f = Py_NewRef(g_fallback[m]);
    PyObject *r = PyObject_Vectorcall(f, a, (size_t)(nargs + 1), kwnames);
    Py_DECREF(f);
    PyMem_Free(a);
    return r;
}

/* The class of the handles self makes: self._Handle or self._TimerHandle
 * (vloop.VirtualTime's), the bound ones for VirtualLoop itself. Borrowed
 * (the bound classes live for the process); NULL with an exception, or
 * NULL without one when the class is not bound (the Python method runs). */
static PyTypeObject *handle_class(PyObject *self, int timer)
{
    if (g_loop.cls && Py_IS_TYPE(self, g_loop.cls))
        return timer ? g_layout.timer : g_layout.handle;
    PyObject *cls = PyObject_GetAttr(self, S[timer ? S__TimerHandle : S__Handle]);
    if (!cls)
        return NULL;
    int kind = PyType_Check(cls) ? bound_kind((PyTypeObject *)cls) : 0;
    Py_DECREF(cls); /* a bound class stays alive: g_layout holds it */
    return kind == (timer ? 2 : 1) ? (PyTypeObject *)cls : NULL;
}

/* The handle of call_soon(callback, *args, context=context) (when NULL)
 * or of call_at(when, ...): a closed loop refuses; the context is copied
 * when none is given. rest = (callback, *args). New reference or NULL. */
static PyObject *make_handle(PyObject *self, PyTypeObject *tp, PyObject *when,
                             PyObject *const *rest, Py_ssize_t nrest, PyObject *context)
{
    PyObject *ctx = NULL, *cargs = NULL, *h = NULL;
    int r = af_loop_true(self, AF_L_CLOSED);
    if (r < 0)
        return NULL;
    if (r) {
        PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
        return NULL;
    }
    ctx = context == Py_None ? PyContext_CopyCurrent() : Py_NewRef(context);
    if (!ctx)
        goto done;
    cargs = PyTuple_New(nrest - 1);
    if (!cargs)
        goto done;
    for (Py_ssize_t i = 1; i < nrest; i++)
        PyTuple_SET_ITEM(cargs, i - 1, Py_NewRef(rest[i]));
    h = af_handle_new(tp, self, rest[0], cargs, ctx, when);
    if (!h && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "_af_loop: bind_handles was not called");
done:
    Py_XDECREF(cargs);
    Py_XDECREF(ctx);
    return h;
}

/* queue.append(h) (loop_c.h). For the loop's own deque, deque.append is
 * called without looking it up on the instance each time. */
int af_queue_append(PyObject *queue, PyObject *h)
{
    PyObject *a[2] = {queue, h}, *x;
    if (g_deque_append && Py_IS_TYPE(queue, g_deque_type))
        x = PyObject_Vectorcall(g_deque_append, a, 2, NULL);
    else
        x = PyObject_VectorcallMethod(S[S_append], a, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_XDECREF(x);
    return x ? 0 : -1;
}

/* The handle made and put in the queue: self._ready.append(h) (when
 * NULL) or heappush(self._scheduled, h). New reference or NULL. */
static PyObject *schedule(PyObject *self, PyTypeObject *tp, PyObject *when, PyObject *const *rest,
                          Py_ssize_t nrest, PyObject *context)
{
    PyObject *h = make_handle(self, tp, when, rest, nrest, context);
    if (!h)
        return NULL;
    PyObject *queue = af_loop_get(self, when ? AF_L_SCHEDULED : AF_L_READY);
    int r = -1;
    if (queue && when) {
        r = af_heap_push(queue, h);
    } else if (queue) {
        r = af_queue_append(queue, h);
    }
    Py_XDECREF(queue);
    if (r < 0)
        Py_CLEAR(h);
    return h;
}

/* VirtualLoop.call_soon(self, callback, *args, context=None) */
static PyObject *call_soon(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    PyObject *context;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError,
                        "VirtualLoop.call_soon() missing 1 required positional argument: "
                        "'callback'");
        return NULL;
    }
    if (context_kwarg("call_soon", args, nargs, kwnames, &context) < 0)
        return NULL;
    int r = af_loop_true(self, AF_L_DEBUG);
    if (r < 0)
        return NULL;
    PyTypeObject *tp = r ? NULL : handle_class(self, 0);
    if (!tp)
        return PyErr_Occurred() ? NULL : call_fallback(M_CALL_SOON, self, args, nargs, kwnames);
    return schedule(self, tp, NULL, args, nargs, context);
}

/* The arguments of call_at(when, ...) / call_later(delay, ...): at least
 * (first, callback), only `context` as a keyword, first not None. 0, or
 * -1 with the TypeError the Python method raises. */
static int timer_args(const char *method, const char *first, const char *none_msg,
                      PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      PyObject **context)
{
    if (nargs < 2) {
        PyErr_Format(PyExc_TypeError,
                     "VirtualLoop.%s() missing %zd required positional argument%s: %s%s%s", method,
                     2 - nargs, nargs ? "" : "s", nargs ? "" : first, nargs ? "" : " and ",
                     "'callback'");
        return -1;
    }
    if (context_kwarg(method, args, nargs, kwnames, context) < 0)
        return -1;
    if (args[0] == Py_None) {
        PyErr_SetString(PyExc_TypeError, none_msg);
        return -1;
    }
    return 0;
}

/* VirtualLoop.call_at(self, when, callback, *args, context=None) */
static PyObject *call_at(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *context;
    if (timer_args("call_at", "'when'", "when cannot be None", args, nargs, kwnames, &context) < 0)
        return NULL;
    int r = af_loop_true(self, AF_L_DEBUG);
    if (r < 0)
        return NULL;
    PyTypeObject *tp = r ? NULL : handle_class(self, 1);
    if (!tp)
        return PyErr_Occurred() ? NULL : call_fallback(M_CALL_AT, self, args, nargs, kwnames);
    return schedule(self, tp, args[0], args + 1, nargs - 1, context);
}

/* VirtualLoop.call_later(self, delay, callback, *args, context=None):
 * call_at(self._clock + delay, ...). */
static PyObject *call_later(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    PyObject *context;
    if (timer_args("call_later", "'delay'", "delay must not be None", args, nargs, kwnames,
                   &context) < 0)
        return NULL;
    PyObject *clock = af_loop_get(self, AF_L_CLOCK);
    if (!clock)
        return NULL;
    PyObject *when = PyNumber_Add(clock, args[0]);
    Py_DECREF(clock);
    if (!when)
        return NULL;
    PyObject *r = NULL;
    int debug = af_loop_true(self, AF_L_DEBUG);
    PyTypeObject *tp = debug == 0 ? handle_class(self, 1) : NULL;
    if (tp) {
        r = schedule(self, tp, when, args + 1, nargs - 1, context);
    } else if (debug > 0 || (debug == 0 && !PyErr_Occurred())) {
        /* self.call_at(when, ...) in debug mode, or for a handle class of
         * its own */
        PyObject **a =
            PyMem_Malloc((size_t)(nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0)) * sizeof *a);
        if (a) {
            a[0] = when;
            for (Py_ssize_t i = 1; i < nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0); i++)
                a[i] = args[i];
            r = call_fallback(M_CALL_AT, self, a, nargs, kwnames);
            PyMem_Free(a);
        } else {
            PyErr_NoMemory();
        }
    }
    Py_DECREF(when);
    return r;
}

/* VirtualLoop.create_future(self): self._future_cls(loop=self), or
 * futures.Future(loop=self) as BaseEventLoop.create_future does. */
static PyObject *create_future(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *cls = af_loop_get(self, AF_L_FUTURE_CLS);
    if (!cls)
        return NULL;
    if (cls == Py_None) {
        Py_DECREF(cls);
        cls = PyObject_GetAttr(g_futures_module, S[S_Future]);
        if (!cls)
            return NULL;
    }
    PyObject *a[2] = {NULL, self};
    PyObject *f =
        PyObject_Vectorcall(cls, a + 1, 0 | PY_VECTORCALL_ARGUMENTS_OFFSET, g_loop_kwnames);
    Py_DECREF(cls);
    return f;
}

/* BaseEventLoop.get_debug(self): self._debug. asyncio's C Future and Task
 * ask the loop for it at every creation. */
static PyObject *get_debug(PyObject *self, PyObject *unused)
{
    (void)unused;
    return af_loop_get(self, AF_L_DEBUG);
}

/* _VTimerHandle.cancel(self) */
static PyObject *timer_cancel(PyObject *self, PyObject *unused)
{
    (void)unused;
    int r = af_handle_true(self, AF_H_CANCELLED);
    if (r < 0)
        return NULL;
    if (r)
        Py_RETURN_NONE;
    r = af_handle_true(self, AF_H_SCHEDULED);
    if (r < 0)
        return NULL;
    if (r) { /* self._loop._timer_cancelled_count += 1 */
        PyObject *loop = af_handle_get(self, AF_H_LOOP);
        if (!loop)
            return NULL;
        PyObject *n = af_loop_get(loop, AF_L_TIMER_CANCELLED_COUNT);
        PyObject *n1 = n ? PyNumber_InPlaceAdd(n, g_one) : NULL;
        Py_XDECREF(n);
        r = n1 ? af_loop_set(loop, AF_L_TIMER_CANCELLED_COUNT, n1) : -1;
        Py_XDECREF(n1);
        Py_DECREF(loop);
        if (r < 0)
            return NULL;
    }
    if (af_handle_set(self, AF_H_CANCELLED, Py_True) < 0 ||
        af_handle_set(self, AF_H_CALLBACK, Py_None) < 0 ||
        af_handle_set(self, AF_H_ARGS, Py_None) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- reuse and running: VirtualLoop.reset, clear_queues, enter_running,
 * leave_running, statement for statement ---- */

/* obj.clear(): 0 or -1. */
static int call_clear(PyObject *obj)
{
    PyObject *a[1] = {obj};
    PyObject *x =
        PyObject_VectorcallMethod(S[S_clear], a, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_XDECREF(x);
    return x ? 0 : -1;
}

/* for h in self._scheduled: h._scheduled = False */
static int unschedule_all(PyObject *sched)
{
    PyObject *it = PyObject_GetIter(sched), *h;
    if (!it)
        return -1;
    while ((h = PyIter_Next(it))) {
        int r = af_handle_set(h, AF_H_SCHEDULED, Py_False);
        Py_DECREF(h);
        if (r < 0)
            break;
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

/* for h in self._scheduled: h._scheduled = False; self._ready.clear();
 * self._scheduled.clear(); self._timer_cancelled_count = 0 */
static int clear_queues_c(PyObject *self)
{
    PyObject *sched = af_loop_get(self, AF_L_SCHEDULED), *ready = NULL;
    int rc = -1;
    if (!sched)
        return -1;
    if (unschedule_all(sched) == 0 && (ready = af_loop_get(self, AF_L_READY)) &&
        call_clear(ready) == 0 && call_clear(sched) == 0)
        rc = af_loop_set(self, AF_L_TIMER_CANCELLED_COUNT, g_zero);
    Py_XDECREF(ready);
    Py_DECREF(sched);
    return rc;
}

static PyObject *clear_queues(PyObject *self, PyObject *unused)
{
    (void)unused;
    if (clear_queues_c(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* reset(self, events, exception_handler, task_factory, slow_ticks=100,
 *       future_cls=None) */
static PyObject *reset(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        PyErr_SetString(PyExc_TypeError, "VirtualLoop.reset() takes positional arguments only");
        return NULL;
    }
    if (nargs < 3 || nargs > 5) {
        PyErr_Format(PyExc_TypeError, "VirtualLoop.reset() takes from 3 to 5 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    PyObject *slow_ticks = nargs > 3 ? args[3] : g_hundred;
    PyObject *future_cls = nargs > 4 ? args[4] : Py_None;
    if (clear_queues_c(self) < 0)
        return NULL;
    const struct {
        af_lslot slot;
        PyObject *value;
    } sets[] = {
        {AF_L_STOPPING, Py_False},
        {AF_L_CLOCK, g_zero},
        {AF_L_ITERATION, g_zero},
        {AF_L_SLOW_WHAT, Py_None},
        {AF_L_HALTED, Py_False},
        {AF_L_EVENTS, args[0]},
        {AF_L_SLOW_TICKS, slow_ticks},
        {AF_L_FUTURE_CLS, future_cls},
        {AF_L_EXCEPTION_HANDLER, args[1]},
        {AF_L_TASK_FACTORY, args[2]},
        {AF_L_DEBUG, Py_False},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (af_loop_set(self, sets[i].slot, sets[i].value) < 0)
            return NULL;
    Py_RETURN_NONE;
}

/* asyncio.events.<name>(arg), or () when arg is NULL: new reference. The
 * function is looked up at each call, as vloop.py's code does. */
static PyObject *events_call(int name, PyObject *arg)
{
    PyObject *f = PyObject_GetAttr(g_events_module, S[name]);
    if (!f)
        return NULL;
    PyObject *r = arg ? PyObject_CallOneArg(f, arg) : PyObject_CallNoArgs(f);
    Py_DECREF(f);
    return r;
}

/* v is not None, v a new reference that is released (NULL: -1). */
static int consume_not_none(PyObject *v)
{
    if (!v)
        return -1;
    int r = v != Py_None;
    Py_DECREF(v);
    return r;
}

/* A check of enter_running: 0 when it passed (cond 0), -1 with
 * RuntimeError(msg) when it failed (cond 1) or an exception (cond -1). */
static int running_check(int cond, const char *msg)
{
    if (cond > 0)
        PyErr_SetString(PyExc_RuntimeError, msg);
    return cond ? -1 : 0;
}

static PyObject *enter_running(PyObject *self, PyObject *unused)
{
    (void)unused;
    if (running_check(af_loop_true(self, AF_L_CLOSED), "Event loop is closed") < 0 ||
        running_check(consume_not_none(af_loop_get(self, AF_L_THREAD_ID)),
                      "This event loop is already running") < 0 ||
        running_check(consume_not_none(events_call(S__get_running_loop, NULL)),
                      "Cannot run the event loop while another loop is running") < 0)
        return NULL;
    PyObject *tid =
        PyLong_FromUnsignedLong(PyThread_get_thread_ident()); /* threading.get_ident() */
    int r = tid ? af_loop_set(self, AF_L_THREAD_ID, tid) : -1;
    Py_XDECREF(tid);
    PyObject *x = r < 0 ? NULL : events_call(S__set_running_loop, self);
    if (!x)
        return NULL;
    Py_DECREF(x);
    Py_RETURN_NONE;
}

static PyObject *leave_running(PyObject *self, PyObject *unused)
{
    (void)unused;
    if (af_loop_set(self, AF_L_STOPPING, Py_False) < 0 ||
        af_loop_set(self, AF_L_THREAD_ID, Py_None) < 0)
        return NULL;
    PyObject *x = events_call(S__set_running_loop, Py_None);
    if (!x)
        return NULL;
    Py_DECREF(x);
    Py_RETURN_NONE;
}

static PyMethodDef loop_methods[M_COUNT] = {
    {"call_soon", (PyCFunction)(void (*)(void))call_soon, METH_FASTCALL | METH_KEYWORDS,
     "VirtualLoop.call_soon in C (harness/accel/loop_c.c)."},
    {"call_at", (PyCFunction)(void (*)(void))call_at, METH_FASTCALL | METH_KEYWORDS,
     "VirtualLoop.call_at in C (harness/accel/loop_c.c)."},
    {"call_later", (PyCFunction)(void (*)(void))call_later, METH_FASTCALL | METH_KEYWORDS,
     "VirtualLoop.call_later in C (harness/accel/loop_c.c)."},
    {"create_future", create_future, METH_NOARGS,
     "VirtualLoop.create_future in C (harness/accel/loop_c.c)."},
    {"get_debug", get_debug, METH_NOARGS, "BaseEventLoop.get_debug in C (harness/accel/loop_c.c)."},
    {"cancel", timer_cancel, METH_NOARGS, "_VTimerHandle.cancel in C (harness/accel/loop_c.c)."},
    {"reset", (PyCFunction)(void (*)(void))reset, METH_FASTCALL | METH_KEYWORDS,
     "VirtualLoop.reset in C (harness/accel/loop_c.c)."},
    {"clear_queues", clear_queues, METH_NOARGS,
     "VirtualLoop.clear_queues in C (harness/accel/loop_c.c)."},
    {"enter_running", enter_running, METH_NOARGS,
     "VirtualLoop.enter_running in C (harness/accel/loop_c.c)."},
    {"leave_running", leave_running, METH_NOARGS,
     "VirtualLoop.leave_running in C (harness/accel/loop_c.c)."},
};

/* method(cls, name, python_method): cls's C method `name`; python_method
 * is what it defers to in debug mode (call_at: the Python VirtualLoop
 * method). */
static PyObject *method(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 3 || !PyType_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "method(cls, name, python_method)");
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(args[1]);
    if (!name)
        return NULL;
    for (int m = 0; m < M_COUNT; m++) {
        if (strcmp(name, loop_methods[m].ml_name) == 0) {
            Py_XSETREF(g_fallback[m], Py_NewRef(args[2]));
            return PyDescr_NewMethod((PyTypeObject *)args[0], &loop_methods[m]);
        }
    }
    PyErr_Format(PyExc_ValueError, "_af_loop.method: no C method %R", args[1]);
    return NULL;
}

/* ---- asyncio's registry of all tasks ------------------------------------ */

/* WeakSet._remove(ref), the callback of every reference the set holds,
 * bound to the set (PyCFunction self): while the set is being iterated,
 * the reference waits in _pending_removals, else it leaves data. */
static PyObject *registry_remove(PyObject *ws, PyObject *ref)
{
    int r = attr_true(ws, S[S_iterating]);
    if (r < 0)
        return NULL;
    PyObject *target = PyObject_GetAttr(ws, S[r ? S_pending_removals : S_data]);
    if (!target)
        return NULL;
    if (r)
        r = PyList_Check(target) ? PyList_Append(target, ref) : -1;
    else
        r = PySet_Check(target) ? (PySet_Discard(target, ref) < 0 ? -1 : 0) : -1;
    Py_DECREF(target);
    if (r < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "registry: not a WeakSet");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef registry_remove_def = {"_remove", registry_remove, METH_O,
                                          "WeakSet._remove in C (harness/accel/loop_c.c)."};

/* WeakSet.add(item), bound to (the set, its _remove in C):
 *     if self._pending_removals: self._commit_removals()
 *     self.data.add(ref(item, self._remove)) */
static PyObject *registry_add(PyObject *bound, PyObject *item)
{
    PyObject *ws = PyTuple_GET_ITEM(bound, 0), *remove = PyTuple_GET_ITEM(bound, 1);
    int r = attr_true(ws, S[S_pending_removals]);
    if (r < 0)
        return NULL;
    if (r) {
        PyObject *a[1] = {ws};
        PyObject *x = PyObject_VectorcallMethod(S[S_commit_removals], a,
                                                1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        if (!x)
            return NULL;
        Py_DECREF(x);
    }
    PyObject *data = PyObject_GetAttr(ws, S[S_data]);
    if (!data)
        return NULL;
    PyObject *ref = PyWeakref_NewRef(item, remove);
    r = ref ? PySet_Add(data, ref) : -1;
    Py_XDECREF(ref);
    Py_DECREF(data);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef registry_add_def = {"add", registry_add, METH_O,
                                       "WeakSet.add in C (harness/accel/loop_c.c)."};

/* fast_registry(weakset): weakset.add becomes registry_add (an instance
 * attribute, which the C Task's registration looks up first). */
static PyObject *fast_registry(PyObject *self, PyObject *ws)
{
    (void)self;
    PyObject *data = PyObject_GetAttr(ws, S[S_data]);
    if (!data)
        return NULL;
    int ok = PySet_Check(data);
    Py_DECREF(data);
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "fast_registry: a WeakSet is required");
        return NULL;
    }
    PyObject *remove = PyCFunction_New(&registry_remove_def, ws);
    PyObject *bound = remove ? PyTuple_Pack(2, ws, remove) : NULL;
    PyObject *add = bound ? PyCFunction_New(&registry_add_def, bound) : NULL;
    int r = add ? PyObject_SetAttrString(ws, "add", add) : -1;
    Py_XDECREF(add);
    Py_XDECREF(bound);
    Py_XDECREF(remove);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- the module ----------------------------------------------------------- */

static PyObject *heappush_py(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "heappush(heap, item)");
        return NULL;
    }
    if (af_heap_push(args[0], args[1]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *heappop_py(PyObject *self, PyObject *heap)
{
    (void)self;
    return af_heap_pop(heap);
}

static PyMethodDef module_methods[] = {
    {"bind_handles", (PyCFunction)(void (*)(void))bind_handles, METH_FASTCALL,
     "bind_handles(Handle, TimerHandle): the handle classes the loop makes."},
    {"bind_loop", bind_loop, METH_O, "bind_loop(VirtualLoop): the loop class."},
    {"bind_handle_class", bind_handle_class, METH_O,
     "bind_handle_class(cls): a handle class laid out as the bound ones (loops.py's)."},
    {"method", (PyCFunction)(void (*)(void))method, METH_FASTCALL,
     "method(cls, name, python_method): a C method of VirtualLoop / the timer class."},
    {"fast_registry", fast_registry, METH_O,
     "fast_registry(weakset): asyncio's task registry without a Python frame per task."},
    {"heappush", (PyCFunction)(void (*)(void))heappush_py, METH_FASTCALL,
     "heapq.heappush with TimerHandle's order, in C."},
    {"heappop", heappop_py, METH_O, "heapq.heappop with TimerHandle's order, in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_af_loop",
    "The virtual-time loop's scheduling in C (asyncfuzz harness/accel/loop_c.c).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int init_constants(void)
{
    if (S[0])
        return 0;
    if (af_intern_names(S, name_text, S_COUNT) < 0 ||
        af_intern_names(g_slot_name, slot_names, AF_H_COUNT) < 0 ||
        af_intern_names(g_loop_slot_name, loop_slot_names, AF_L_COUNT) < 0)
        return -1;
    g_loop_kwnames = PyTuple_Pack(1, S[S_loop]);
    g_one = PyLong_FromLong(1);
    g_futures_module = PyImport_ImportModule("asyncio.futures");
    g_events_module = PyImport_ImportModule("asyncio.events");
    g_zero = PyLong_FromLong(0);
    g_hundred = PyLong_FromLong(100);
    if (!g_events_module || !g_zero || !g_hundred)
        return -1;
    PyObject *collections = PyImport_ImportModule("collections");
    PyObject *deque = collections ? PyObject_GetAttrString(collections, "deque") : NULL;
    Py_XDECREF(collections);
    if (deque && PyType_Check(deque)) {
        g_deque_type = (PyTypeObject *)deque;
        g_deque_append = PyObject_GetAttr(deque, S[S_append]);
    } else {
        Py_XDECREF(deque);
    }
    return g_loop_kwnames && g_one && g_futures_module && g_deque_append ? 0 : -1;
}

int af_loop_c_register(void)
{
    if (init_constants() < 0)
        return -1;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return -1;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    int rc = PyDict_SetItemString(modules, "_af_loop", m);
    Py_DECREF(m);
    return rc;
}
