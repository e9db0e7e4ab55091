/* pyobj.c - the scenario as Python tuples (pyobj.h).
 *
 * Reference discipline as in CPython's own C code: every constructor result
 * is checked; pack() steals the references it is given, also on failure, so
 * a failed build leaks nothing. Names are created once per build (cached by
 * task / primitive / op index) and shared by every tuple that refers to them.
 */
#include "harness/run/scenario_py.h"

#include <string.h>

typedef struct builder {
    const af_scenario *s;
    PyObject *task_names[AF_MAX_TASKS];
    PyObject *prim_names[AF_MAX_PRIMITIVES];
    PyObject *op_names[AF_MAX_OPS]; /* task_group / timeout names */
    int depth;
} builder;

/* The scenario is a tree of tuples whose leaves are ints, strings, None
 * and bools: it cannot be part of a reference cycle, so each tuple is
 * untracked by the collector once filled (as the collector would do at its
 * first pass over it), and a run's collection does not walk the scenario. */
static PyObject *untracked(PyObject *t)
{
    if (t && PyObject_GC_IsTracked(t))
        PyObject_GC_UnTrack(t);
    return t;
}

/* A tuple of the n items, stealing them (also when one is NULL or the
 * tuple cannot be created: then every item is released, NULL returned). */
static PyObject *pack(Py_ssize_t n, PyObject *const *items)
{
    PyObject *t = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!items[i])
            goto fail;
    t = PyTuple_New(n);
    if (!t)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(t, i, items[i]);
    return untracked(t);
fail:
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(items[i]);
    return NULL;
}

#define PACK(...)                                                                                  \
    pack((Py_ssize_t)(sizeof((PyObject *[]){__VA_ARGS__}) / sizeof(PyObject *)),                   \
         (PyObject *[]){__VA_ARGS__})

static PyObject *int_obj(long v)
{
    return PyLong_FromLong(v);
}
static PyObject *bool_obj(bool v)
{
    return Py_NewRef(v ? Py_True : Py_False);
}
static PyObject *none_obj(void)
{
    return Py_NewRef(Py_None);
}
/* A duration: AF_NONE (-1) is None. */
static PyObject *ticks_obj(int32_t v)
{
    return v == AF_NONE ? none_obj() : int_obj(v);
}

static PyObject *broken(const char *what, int index)
{
    PyErr_Format(PyExc_ValueError, "scenario IR: bad %s reference %d (validate the scenario first)",
                 what, index);
    return NULL;
}

/* New reference to a cached name string. */
static PyObject *cached(PyObject **slot, const char *text)
{
    if (!*slot) {
        *slot = PyUnicode_FromString(text);
        if (!*slot)
            return NULL;
    }
    return Py_NewRef(*slot);
}

static PyObject *task_name(builder *b, int t)
{
    if (t < 0 || t >= b->s->ntasks)
        return broken("task", t);
    return cached(&b->task_names[t], b->s->tasks[t].name);
}

static PyObject *prim_name(builder *b, int p)
{
    if (p < 0 || p >= b->s->nprims)
        return broken("primitive", p);
    return cached(&b->prim_names[p], b->s->prims[p].name);
}

static PyObject *op_name(builder *b, int o)
{
    if (o < 0 || o >= b->s->nops)
        return broken("operation", o);
    return cached(&b->op_names[o], b->s->ops[o].name);
}

static PyObject *body_obj(builder *b, const af_body *body);

static PyObject *task_obj(builder *b, int t)
{
    if (t < 0 || t >= b->s->ntasks)
        return broken("task", t);
    return PACK(task_name(b, t), body_obj(b, &b->s->tasks[t].body), int_obj(t));
}

static PyObject *tasklist_obj(builder *b, const af_tasklist *list)
{
    Py_ssize_t n = 0;
    for (int t = list->head; t != AF_NIL; t = b->s->tasks[t].next) {
        if (t < 0 || t >= b->s->ntasks || n >= AF_MAX_TASKS)
            return broken("task list", t);
        n++;
    }
    PyObject *tuple = PyTuple_New(n);
    if (!tuple)
        return NULL;
    Py_ssize_t i = 0;
    for (int t = list->head; t != AF_NIL; t = b->s->tasks[t].next) {
        PyObject *item = task_obj(b, t);
        if (!item) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i++, item);
    }
    return untracked(tuple);
}

/* The one child task of spawn / shield. */
static PyObject *only_child(builder *b, const af_op *op)
{
    if (op->children.head == AF_NIL)
        return broken("child task", AF_NIL);
    return task_obj(b, op->children.head);
}

static PyObject *op_obj(builder *b, int i)
{
    const af_op *op = &b->s->ops[i];
    PyObject *k = int_obj(op->kind), *idx = int_obj(i);
    switch (op->kind) {
    case AF_OP_SLEEP:
    case AF_OP_BLOCK:
        return PACK(k, idx, int_obj(op->ticks));
    case AF_OP_RETURN:
        return PACK(k, idx, int_obj(op->value));
    case AF_OP_RAISE:
        return PACK(k, idx, int_obj(op->exc.kind), int_obj(op->exc.id));
    case AF_OP_SPAWN:
        return PACK(k, idx, only_child(b, op), bool_obj(op->keep),
                    op->ref == AF_NIL ? none_obj() : op_name(b, op->ref));
    case AF_OP_AWAIT:
        return PACK(k, idx, task_name(b, op->ref));
    case AF_OP_CANCEL:
        return PACK(k, idx, op->ref == AF_SELF ? none_obj() : task_name(b, op->ref),
                    op->has_msg ? PyUnicode_FromString(op->msg) : none_obj(), int_obj(op->value),
                    bool_obj(op->uncancel));
    case AF_OP_GATHER:
        return PACK(k, idx, tasklist_obj(b, &op->children), bool_obj(op->return_exceptions));
    case AF_OP_TASKGROUP:
        return PACK(k, idx, op_name(b, i), tasklist_obj(b, &op->children), body_obj(b, &op->body));
    case AF_OP_WAIT_FOR:
        return PACK(k, idx, ticks_obj(op->ticks), body_obj(b, &op->body));
    case AF_OP_TIMEOUT:
        return PACK(k, idx, op_name(b, i), ticks_obj(op->ticks), bool_obj(op->at),
                    body_obj(b, &op->body));
    case AF_OP_RESCHEDULE:
        return PACK(k, idx, op_name(b, op->ref), ticks_obj(op->ticks));
    case AF_OP_SHIELD:
        return PACK(k, idx, only_child(b, op));
    case AF_OP_WAIT:
        return PACK(k, idx, tasklist_obj(b, &op->children), int_obj(op->return_when),
                    ticks_obj(op->ticks), bool_obj(op->cancel_pending));
    case AF_OP_AS_COMPLETED:
        return PACK(k, idx, tasklist_obj(b, &op->children), ticks_obj(op->ticks));
    case AF_OP_TRY:
        return PACK(k, idx, body_obj(b, &op->body), int_obj(op->on_cancel), int_obj(op->exc.kind),
                    int_obj(op->exc.id), int_obj(op->on_error),
                    op->has_finally ? body_obj(b, &op->finally_body) : none_obj());
    case AF_OP_EXCEPT_STAR:
        return PACK(k, idx, body_obj(b, &op->body), int_obj(op->match), int_obj(op->reaction),
                    int_obj(op->exc.kind), int_obj(op->exc.id));
    case AF_OP_HOLD:
        return PACK(k, idx, PyUnicode_FromString(op->name), ticks_obj(op->ticks),
                    body_obj(b, &op->body));
    case AF_OP_EVENT_SET:
    case AF_OP_EVENT_WAIT:
    case AF_OP_COND_WAIT:
    case AF_OP_QUEUE_GET:
        return PACK(k, idx, prim_name(b, op->ref));
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
        return PACK(k, idx, prim_name(b, op->ref), body_obj(b, &op->body));
    case AF_OP_COND_NOTIFY:
        return PACK(k, idx, prim_name(b, op->ref), ticks_obj(op->value));
    case AF_OP_QUEUE_PUT:
        return PACK(k, idx, prim_name(b, op->ref), int_obj(op->value));
    case AF_OP_NESTED_RUN:
        return PACK(k, idx, int_obj(op->nested));
    case AF_OP_NEVER_AWAITED:
        return PACK(k, idx);
    case AF_OP_KIND_COUNT:
        break;
    }
    Py_XDECREF(k);
    Py_XDECREF(idx);
    PyErr_Format(PyExc_ValueError, "scenario IR: unknown op kind %d in op %d", (int)op->kind, i);
    return NULL;
}

static PyObject *body_obj(builder *b, const af_body *body)
{
    if (++b->depth > AF_MAX_DEPTH + 2) {
        b->depth--;
        return broken("body nesting", b->depth);
    }
    Py_ssize_t n = 0;
    for (int o = body->head; o != AF_NIL; o = b->s->ops[o].next) {
        if (o < 0 || o >= b->s->nops || n >= AF_MAX_OPS) {
            b->depth--;
            return broken("operation list", o);
        }
        n++;
    }
    PyObject *tuple = PyTuple_New(n);
    if (tuple) {
        Py_ssize_t i = 0;
        for (int o = body->head; o != AF_NIL; o = b->s->ops[o].next) {
            PyObject *item = op_obj(b, o);
            if (!item) {
                Py_CLEAR(tuple);
                break;
            }
            PyTuple_SET_ITEM(tuple, i++, item);
        }
    }
    b->depth--;
    return untracked(tuple);
}

static PyObject *prims_obj(builder *b)
{
    const af_scenario *s = b->s;
    PyObject *tuple = PyTuple_New(s->nprims);
    if (!tuple)
        return NULL;
    for (int p = 0; p < s->nprims; p++) {
        PyObject *item =
            PACK(prim_name(b, p), int_obj(s->prims[p].kind), int_obj(s->prims[p].param));
        if (!item) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, p, item);
    }
    return untracked(tuple);
}

PyObject *af_scenario_to_py(const af_scenario *s)
{
    if (s->ntasks < 1 || s->ntasks > AF_MAX_TASKS || s->nops < 0 || s->nops > AF_MAX_OPS ||
        s->nprims < 0 || s->nprims > AF_MAX_PRIMITIVES) {
        PyErr_SetString(PyExc_ValueError, "scenario IR: counts out of range");
        return NULL;
    }
    builder b;
    memset(&b, 0, sizeof b);
    b.s = s;
    PyObject *result = PACK(prims_obj(&b), task_obj(&b, 0));
    for (int i = 0; i < AF_MAX_TASKS; i++)
        Py_XDECREF(b.task_names[i]);
    for (int i = 0; i < AF_MAX_PRIMITIVES; i++)
        Py_XDECREF(b.prim_names[i]);
    for (int i = 0; i < AF_MAX_OPS; i++)
        Py_XDECREF(b.op_names[i]);
    return result;
}
