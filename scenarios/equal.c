/* equal.c - structural equality of two scenarios.
 *
 * Two scenarios are equal when their trees are: same operations in the same
 * order with the same fields, references resolving to the same names, same
 * primitives, description and expected verdicts. Array positions and fields
 * that an operation kind does not use are ignored. Used by the round-trip
 * tests and the fuzz targets; must not allocate.
 */
#include "scenarios/ir.h"

#include <string.h>

static bool body_equal(const af_scenario *a, const af_body *ba, const af_scenario *b,
                       const af_body *bb, int depth);

static const char *ref_name(const af_scenario *s, const af_op *op)
{
    if (op->kind == AF_OP_CANCEL && op->ref == AF_SELF)
        return "self";
    if (op->ref < 0)
        return "";
    switch (op->kind) {
    case AF_OP_AWAIT:
    case AF_OP_CANCEL:
        return op->ref < s->ntasks ? s->tasks[op->ref].name : "?";
    case AF_OP_SPAWN:
    case AF_OP_RESCHEDULE:
        return op->ref < s->nops ? s->ops[op->ref].name : "?";
    default:
        return op->ref < s->nprims ? s->prims[op->ref].name : "?";
    }
}

static bool exc_equal(const af_exc *x, const af_exc *y)
{
    return x->kind == y->kind && x->id == y->id;
}

/* The fields each kind uses (see ir.h). */
static bool fields_equal(const af_op *x, const af_op *y)
{
    switch (x->kind) {
    case AF_OP_SLEEP:
    case AF_OP_BLOCK:
    case AF_OP_WAIT_FOR:
    case AF_OP_RESCHEDULE:
    case AF_OP_AS_COMPLETED:
        return x->ticks == y->ticks;
    case AF_OP_RETURN:
    case AF_OP_QUEUE_PUT:
    case AF_OP_COND_NOTIFY:
        return x->value == y->value;
    case AF_OP_RAISE:
        return exc_equal(&x->exc, &y->exc);
    case AF_OP_SPAWN:
        return x->keep == y->keep;
    case AF_OP_CANCEL:
        return x->value == y->value && x->uncancel == y->uncancel && x->has_msg == y->has_msg &&
               (!x->has_msg || strcmp(x->msg, y->msg) == 0);
    case AF_OP_GATHER:
        return x->return_exceptions == y->return_exceptions;
    case AF_OP_TASKGROUP:
        return strcmp(x->name, y->name) == 0;
    case AF_OP_TIMEOUT:
        return strcmp(x->name, y->name) == 0 && x->ticks == y->ticks && x->at == y->at;
    case AF_OP_WAIT:
        return x->ticks == y->ticks && x->return_when == y->return_when &&
               x->cancel_pending == y->cancel_pending;
    case AF_OP_TRY:
        return x->on_cancel == y->on_cancel && x->on_error == y->on_error &&
               x->has_finally == y->has_finally &&
               (x->on_cancel != AF_ON_CANCEL_RAISE || exc_equal(&x->exc, &y->exc));
    case AF_OP_EXCEPT_STAR:
        return x->match == y->match && x->reaction == y->reaction &&
               (x->reaction != AF_REACT_RAISE || exc_equal(&x->exc, &y->exc));
    case AF_OP_HOLD:
        return strcmp(x->name, y->name) == 0 && x->ticks == y->ticks;
    case AF_OP_NESTED_RUN:
        return x->nested == y->nested;
    default:
        return true;
    }
}

static bool task_equal(const af_scenario *a, int ta, const af_scenario *b, int tb, int depth)
{
    return strcmp(a->tasks[ta].name, b->tasks[tb].name) == 0 &&
           body_equal(a, &a->tasks[ta].body, b, &b->tasks[tb].body, depth + 1);
}

static bool children_equal(const af_scenario *a, const af_op *x, const af_scenario *b,
                           const af_op *y, int depth)
{
    if (x->children.count != y->children.count)
        return false;
    int ta = x->children.head, tb = y->children.head;
    for (int n = 0; n < x->children.count; n++) {
        if (ta < 0 || tb < 0 || ta >= a->ntasks || tb >= b->ntasks)
            return false;
        if (!task_equal(a, ta, b, tb, depth))
            return false;
        ta = a->tasks[ta].next;
        tb = b->tasks[tb].next;
    }
    return true;
}

static bool op_equal(const af_scenario *a, const af_op *x, const af_scenario *b, const af_op *y,
                     int depth)
{
    if (x->kind != y->kind || !fields_equal(x, y))
        return false;
    if (strcmp(ref_name(a, x), ref_name(b, y)) != 0)
        return false;
    return children_equal(a, x, b, y, depth) && body_equal(a, &x->body, b, &y->body, depth + 1) &&
           body_equal(a, &x->finally_body, b, &y->finally_body, depth + 1);
}

static bool body_equal(const af_scenario *a, const af_body *ba, const af_scenario *b,
                       const af_body *bb, int depth)
{
    if (ba->count != bb->count || depth > 2 * AF_MAX_DEPTH + 2)
        return ba->count == bb->count && ba->count == 0;
    int ia = ba->head, ib = bb->head;
    for (int n = 0; n < ba->count; n++) {
        if (ia < 0 || ib < 0 || ia >= a->nops || ib >= b->nops)
            return false;
        if (!op_equal(a, &a->ops[ia], b, &b->ops[ib], depth))
            return false;
        ia = a->ops[ia].next;
        ib = b->ops[ib].next;
    }
    return true;
}

static bool expect_equal(const af_expect *x, const af_expect *y)
{
    if (strcmp(x->oracle, y->oracle) != 0 || strcmp(x->issue, y->issue) != 0 ||
        x->npyversions != y->npyversions)
        return false;
    for (int i = 0; i < x->npyversions; i++)
        if (x->pyversions[i] != y->pyversions[i])
            return false;
    return true;
}

bool af_scenario_equal(const af_scenario *a, const af_scenario *b)
{
    if (strcmp(a->description, b->description) != 0 || a->nexpect != b->nexpect ||
        a->nprims != b->nprims || a->ntasks != b->ntasks || a->nops != b->nops)
        return false;
    for (int i = 0; i < a->nexpect; i++)
        if (!expect_equal(&a->expect[i], &b->expect[i]))
            return false;
    for (int i = 0; i < a->nprims; i++)
        if (strcmp(a->prims[i].name, b->prims[i].name) != 0 ||
            a->prims[i].kind != b->prims[i].kind || a->prims[i].param != b->prims[i].param)
            return false;
    return task_equal(a, 0, b, 0, 0);
}
