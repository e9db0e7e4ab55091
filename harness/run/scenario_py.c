/* scenario_py.c - the scenario as Python tuples (scenario_py.h), field by
 * field as the op table (scenarios/ops.h) describes them.
 *
 * Reference discipline as in CPython's own C code: every constructor result
 * is checked; pack() steals the references it is given, also on failure, so
 * a failed build leaks nothing. Names are created once per build (cached by
 * task / primitive / op index) and shared by every tuple that refers to them.
 */
#include "harness/run/scenario_py.h"

#include "scenarios/ops.h"

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

/* The tuple item of a reference field: the name it resolves to (None for
 * self or no group). */
static PyObject *ref_item(builder *b, const af_op *op, const af_field *f)
{
    switch (f->codec) {
    case AF_FC_TASK_REF:
        return task_name(b, op->ref);
    case AF_FC_TARGET_REF:
        return op->ref == AF_SELF ? none_obj() : task_name(b, op->ref);
    case AF_FC_GROUP_REF:
        return op->ref == AF_NIL ? none_obj() : op_name(b, op->ref);
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF:
        return op_name(b, op->ref);
    default: /* PRIM_REF */
        return prim_name(b, op->ref);
    }
}

/* The tuple items of field f of op i (ops.h says which per codec) into
 * out; returns how many (an exception is two: kind, id). */
static int field_items(builder *b, int i, const af_field *f, PyObject **out)
{
    const af_op *op = &b->s->ops[i];
    if (af_codec_is_ref(f->codec)) {
        out[0] = ref_item(b, op, f);
        return 1;
    }
    switch (f->codec) {
    case AF_FC_OPT_TICKS:
    case AF_FC_NOTIFY_N:
        out[0] = ticks_obj(*AF_FIELD_CPTR(int32_t, op, f));
        return 1;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        out[0] = bool_obj(*AF_FIELD_CPTR(bool, op, f));
        return 1;
    case AF_FC_ENUM:
        out[0] = int_obj(*AF_FIELD_CPTR(int, op, f));
        return 1;
    case AF_FC_EXC:
    case AF_FC_RAISE: /* both items, also when the exception is absent */
        out[0] = int_obj(AF_FIELD_CPTR(af_exc, op, f)->kind);
        out[1] = int_obj(AF_FIELD_CPTR(af_exc, op, f)->id);
        return 2;
    case AF_FC_MSG:
        out[0] = op->has_msg ? PyUnicode_FromString(op->msg) : none_obj();
        return 1;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
        out[0] = op_name(b, i);
        return 1;
    case AF_FC_RESOURCE:
        out[0] = PyUnicode_FromString(AF_FIELD_CPTR(char, op, f));
        return 1;
    case AF_FC_ONE_TASK:
        out[0] = only_child(b, op);
        return 1;
    case AF_FC_CHILDREN:
        out[0] = tasklist_obj(b, &op->children);
        return 1;
    case AF_FC_BODY:
        out[0] = body_obj(b, AF_FIELD_CPTR(af_body, op, f));
        return 1;
    case AF_FC_FINALLY:
        out[0] = op->has_finally ? body_obj(b, AF_FIELD_CPTR(af_body, op, f)) : none_obj();
        return 1;
    default: /* TICKS, TICKS_POSITIVE, VALUE, COUNT */
        out[0] = int_obj(*AF_FIELD_CPTR(int32_t, op, f));
        return 1;
    }
}

/* (kind, op index, fields...): the fields in ops.def's order. */
static PyObject *op_obj(builder *b, int i)
{
    const af_op *op = &b->s->ops[i];
    const af_op_spec *spec = af_op_spec_of(op->kind);
    if (!spec->name) {
        PyErr_Format(PyExc_ValueError, "scenario IR: unknown op kind %d in op %d", (int)op->kind,
                     i);
        return NULL;
    }
    PyObject *items[2 + 2 * AF_OP_MAX_FIELDS];
    Py_ssize_t n = 0;
    items[n++] = int_obj(op->kind);
    items[n++] = int_obj(i);
    for (int j = 0; j < spec->nfields; j++)
        n += field_items(b, i, &spec->fields[j], items + n);
    return pack(n, items);
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

/* The names of the scopes (timeouts, task groups) a cancel_scope op names:
 * made cancellable (interp.py). NULL with nothing to add: the tuple is
 * (prims, root) then, as before cancel_scope existed. */
static PyObject *cancellable_obj(builder *b)
{
    const af_scenario *s = b->s;
    int names[AF_MAX_OPS], n = 0;
    for (int i = 0; i < s->nops; i++) {
        if (s->ops[i].kind != AF_OP_CANCEL_SCOPE)
            continue;
        bool seen = false;
        for (int j = 0; j < n; j++)
            seen |= names[j] == s->ops[i].ref;
        if (!seen)
            names[n++] = s->ops[i].ref;
    }
    if (n == 0)
        return NULL;
    PyObject *tuple = PyTuple_New(n);
    for (int j = 0; tuple && j < n; j++) {
        PyObject *name = op_name(b, names[j]);
        if (!name) {
            Py_CLEAR(tuple);
            break;
        }
        PyTuple_SET_ITEM(tuple, j, name);
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
    PyObject *result = NULL, *cancellable = cancellable_obj(&b);
    if (cancellable)
        result = PACK(prims_obj(&b), task_obj(&b, 0), cancellable);
    else if (!PyErr_Occurred())
        result = PACK(prims_obj(&b), task_obj(&b, 0));
    for (int i = 0; i < AF_MAX_TASKS; i++)
        Py_XDECREF(b.task_names[i]);
    for (int i = 0; i < AF_MAX_PRIMITIVES; i++)
        Py_XDECREF(b.prim_names[i]);
    for (int i = 0; i < AF_MAX_OPS; i++)
        Py_XDECREF(b.op_names[i]);
    return result;
}
