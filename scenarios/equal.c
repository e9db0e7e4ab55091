/* equal.c - structural equality of two scenarios.
 *
 * Two scenarios are equal when their trees are: same operations in the same
 * order with the same fields, references resolving to the same names, same
 * primitives, description and expected verdicts. Array positions and fields
 * that an operation kind does not use are ignored. Used by the round-trip
 * tests and the fuzz targets; must not allocate.
 */
#include "scenarios/ir.h"

#include "scenarios/ops.h"

#include <string.h>

static bool body_equal(const af_scenario *a, const af_body *ba, const af_scenario *b,
                       const af_body *bb, int depth);

/* The name a reference field resolves to ("" for none, "self"). */
static const char *ref_name(const af_scenario *s, const af_op *op, const af_field *f)
{
    if (op->ref == AF_SELF && f->codec == AF_FC_TARGET_REF)
        return "self";
    if (op->ref < 0)
        return "";
    switch (f->codec) {
    case AF_FC_TASK_REF:
    case AF_FC_TARGET_REF:
        return op->ref < s->ntasks ? s->tasks[op->ref].name : "?";
    case AF_FC_GROUP_REF:
    case AF_FC_TIMEOUT_REF:
    case AF_FC_HANDLE_REF:
    case AF_FC_SCOPE_REF:
        return op->ref < s->nops ? s->ops[op->ref].name : "?";
    default:
        return op->ref < s->nprims ? s->prims[op->ref].name : "?";
    }
}

static bool exc_equal(const af_exc *x, const af_exc *y)
{
    return x->kind == y->kind && x->id == y->id;
}

/* One field of two ops of the same kind; lists are compared by op_equal. */
static bool field_equal(const af_scenario *a, const af_op *x, const af_scenario *b, const af_op *y,
                        const af_field *f)
{
    if (af_codec_is_ref(f->codec))
        return strcmp(ref_name(a, x, f), ref_name(b, y, f)) == 0;
    switch (f->codec) {
    case AF_FC_EXC:
        return exc_equal(AF_FIELD_CPTR(af_exc, x, f), AF_FIELD_CPTR(af_exc, y, f));
    case AF_FC_RAISE:
        return !af_cond_holds(&f->when, x) ||
               exc_equal(AF_FIELD_CPTR(af_exc, x, f), AF_FIELD_CPTR(af_exc, y, f));
    case AF_FC_MSG:
        return x->has_msg == y->has_msg && (!x->has_msg || strcmp(x->msg, y->msg) == 0);
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
    case AF_FC_RESOURCE:
        return strcmp(AF_FIELD_CPTR(char, x, f), AF_FIELD_CPTR(char, y, f)) == 0;
    case AF_FC_FINALLY:
        return x->has_finally == y->has_finally;
    case AF_FC_ONE_TASK:
    case AF_FC_CHILDREN:
    case AF_FC_BODY:
        return true;
    default:
        return af_field_int(x, f) == af_field_int(y, f);
    }
}

static bool fields_equal(const af_scenario *a, const af_op *x, const af_scenario *b, const af_op *y)
{
    const af_op_spec *spec = af_op_spec_of(x->kind);
    for (int i = 0; i < spec->nfields; i++)
        if (!field_equal(a, x, b, y, &spec->fields[i]))
            return false;
    return true;
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
    if (x->kind != y->kind || !fields_equal(a, x, b, y))
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
        strcmp(x->target, y->target) != 0 || x->npyversions != y->npyversions)
        return false;
    for (int i = 0; i < x->npyversions; i++)
        if (x->pyversions[i].minor != y->pyversions[i].minor ||
            x->pyversions[i].first_patch != y->pyversions[i].first_patch ||
            x->pyversions[i].last_patch != y->pyversions[i].last_patch)
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
