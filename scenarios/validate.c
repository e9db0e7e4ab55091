/* validate.c - the one check of every invariant and limit of a scenario.
 *
 * Readers build a scenario and call af_scenario_validate; the runner and
 * the writers may then rely on it. An error names the JSON path of the
 * offending field (SCHEMA.md spelling: main.body[2].task.body[0].ticks) so
 * the JSON reader can turn it into a line and column. Walks the tree with
 * visited marks, so a corrupt (cyclic) IR is reported, never looped over.
 */
#include "scenarios/ir.h"

#include "scenarios/ops.h"

#include <stdio.h>
#include <string.h>

typedef struct walk {
    const af_scenario *s;
    af_error *err;
    bool op_seen[AF_MAX_OPS];
    bool task_seen[AF_MAX_TASKS];
    int64_t total_ticks;
    int max_depth;
} walk;

static int walk_body(walk *w, const af_body *b, int task, int parent, int depth, const char *path);

static int fail(walk *w, const char *path, const char *field, const char *msg)
{
    char full[sizeof w->err->path];
    snprintf(full, sizeof full, "%s%s%s", path, field[0] ? "." : "", field);
    af_error_set(w->err, full, "%s", msg);
    return -1;
}

static int check_range(walk *w, const char *path, const char *field, int64_t v, int64_t lo,
                       int64_t hi)
{
    if (v >= lo && v <= hi)
        return 0;
    char full[sizeof w->err->path];
    snprintf(full, sizeof full, "%s.%s", path, field);
    af_error_set(w->err, full, "%lld is out of range %lld..%lld", (long long)v, (long long)lo,
                 (long long)hi);
    return -1;
}

static int check_exc(walk *w, const char *path, const char *field, const af_exc *e)
{
    char sub[sizeof w->err->path];
    snprintf(sub, sizeof sub, "%s.%s", path, field);
    if (check_range(w, sub, "kind", e->kind, 0, AF_EXC_KIND_COUNT - 1) < 0)
        return -1;
    return check_range(w, sub, "id", e->id, 0, AF_MAX_VALUE);
}

/* GROUP_REF, TIMEOUT_REF, SCOPE_REF, HANDLE_REF: an op of a kind that defines such
 * names. */
static int check_named_op_ref(walk *w, const char *path, const af_field *f, int ref)
{
    if (ref < 0 || ref >= w->s->nops || !af_ref_accepts(f->codec, w->s->ops[ref].kind)) {
        char msg[64];
        snprintf(msg, sizeof msg, "does not name a %s", af_ref_target_words(f->codec));
        return fail(w, path, f->key, msg);
    }
    return 0;
}

/* PRIM_REF: a primitive of the kind the op needs. */
static int check_prim_ref(walk *w, const af_op *op, const char *path, const af_field *f)
{
    const af_scenario *s = w->s;
    int want = af_op_needs(op->kind);
    if (op->ref < 0 || op->ref >= s->nprims)
        return fail(w, path, f->key, "does not name a primitive");
    if ((int)s->prims[op->ref].kind != want) {
        char full[sizeof w->err->path];
        snprintf(full, sizeof full, "%s.%s", path, f->key);
        af_error_set(w->err, full, "\"%s\" is a %s, %s needs a %s", s->prims[op->ref].name,
                     af_prim_kind_name(s->prims[op->ref].kind), af_op_kind_name(op->kind),
                     af_prim_kind_name((af_prim_kind)want));
        return -1;
    }
    return 0;
}

static int check_ref(walk *w, const af_op *op, const char *path, const af_field *f)
{
    switch (f->codec) {
    case AF_FC_TARGET_REF:
        if (op->ref == AF_SELF)
            return 0;
        /* fall through */
    case AF_FC_TASK_REF:
        if (op->ref < 0 || op->ref >= w->s->ntasks)
            return fail(w, path, f->key, "does not name a task");
        return 0;
    case AF_FC_GROUP_REF:
        return op->ref == AF_NIL ? 0 : check_named_op_ref(w, path, f, op->ref);
    case AF_FC_TIMEOUT_REF:
    case AF_FC_HANDLE_REF:
    case AF_FC_SCOPE_REF:
        return check_named_op_ref(w, path, f, op->ref);
    default:
        return check_prim_ref(w, op, path, f);
    }
}

/* TICKS, TICKS_POSITIVE, OPT_TICKS, VALUE, COUNT, NOTIFY_N: in the codec's
 * range; durations are counted in the total. */
static int check_number(walk *w, const af_op *op, const char *path, const af_field *f)
{
    int32_t v = *AF_FIELD_CPTR(int32_t, op, f);
    af_range range = af_codec_range((af_field_codec)f->codec);
    if (range.none_ok && v == AF_NONE)
        return 0;
    if (check_range(w, path, f->key, v, range.lo, range.hi) < 0)
        return -1;
    if (af_codec_is_ticks(f->codec))
        w->total_ticks += v;
    return 0;
}

static int check_field(walk *w, const af_op *op, const char *path, const af_field *f)
{
    if (af_codec_is_ref(f->codec))
        return check_ref(w, op, path, f);
    switch (f->codec) {
    case AF_FC_EXC:
        return check_exc(w, path, f->key, AF_FIELD_CPTR(af_exc, op, f));
    case AF_FC_RAISE:
        return af_cond_holds(&f->when, op) ? check_exc(w, path, f->key, &op->exc) : 0;
    case AF_FC_MSG:
        if (op->has_msg && !af_valid_msg(op->msg))
            return fail(w, path, f->key, "has characters outside printable ASCII or is too long");
        return 0;
    case AF_FC_RESOURCE:
        return af_valid_name(op->name) ? 0 : fail(w, path, f->key, "is not a valid name");
    case AF_FC_ENUM:
        return check_range(w, path, f->key, *AF_FIELD_CPTR(int, op, f), 0,
                           af_value_count((af_value_list)f->values) - 1);
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
        if (!af_valid_name(op->name))
            return fail(w, path, f->key, "is not a valid name ([A-Za-z_][A-Za-z0-9_]*, not self)");
        return 0;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
    case AF_FC_ONE_TASK:
    case AF_FC_CHILDREN:
    case AF_FC_BODY:
    case AF_FC_FINALLY:
        return 0; /* any value; lists: walk_op */
    default:
        return check_number(w, op, path, f);
    }
}

/* The fields of an op, values first, then enums and names, then the
 * exceptions that depend on an enum, then references: the first error
 * reported is the first of that order. */
static int check_fields(walk *w, const af_op *op, const char *path)
{
    static const uint8_t phase[AF_FIELD_CODECS] = {
        [AF_FC_ENUM] = 1,        [AF_FC_GROUP_NAME] = 1, [AF_FC_TIMEOUT_NAME] = 1,
        [AF_FC_HANDLE_NAME] = 1, [AF_FC_RAISE] = 2,      [AF_FC_TASK_REF] = 3,
        [AF_FC_TARGET_REF] = 3,  [AF_FC_GROUP_REF] = 3,  [AF_FC_TIMEOUT_REF] = 3,
        [AF_FC_SCOPE_REF] = 3,   [AF_FC_HANDLE_REF] = 3, [AF_FC_PRIM_REF] = 3,
    };
    const af_op_spec *spec = af_op_spec_of(op->kind);
    for (int p = 0; p < 4; p++)
        for (int i = 0; i < spec->nfields; i++)
            if (phase[spec->fields[i].codec] == p && check_field(w, op, path, &spec->fields[i]) < 0)
                return -1;
    return 0;
}

static int walk_task(walk *w, int ti, int parent, int depth, const char *path)
{
    if (ti < 0 || ti >= w->s->ntasks)
        return fail(w, path, "", "task index out of range (corrupt IR)");
    if (w->task_seen[ti])
        return fail(w, path, "", "task reached twice (corrupt IR)");
    w->task_seen[ti] = true;
    const af_task *t = &w->s->tasks[ti];
    if (!af_valid_name(t->name))
        return fail(w, path, "name", "is not a valid name ([A-Za-z_][A-Za-z0-9_]*, not self)");
    if (t->parent != parent)
        return fail(w, path, "", "task parent link is wrong (corrupt IR)");
    char sub[sizeof w->err->path];
    snprintf(sub, sizeof sub, "%s.body", path);
    return walk_body(w, &t->body, ti, AF_NIL, depth, sub);
}

static int walk_children(walk *w, const af_op *op, int oi, int depth, const char *path)
{
    bool single = af_op_kind_has(op->kind, AF_FC_ONE_TASK);
    if (single && op->children.count != 1)
        return fail(w, path, "task", "must hold exactly one task");
    int j = 0;
    for (int ti = op->children.head; ti != AF_NIL; ti = w->s->tasks[ti].next, j++) {
        if (j >= op->children.count || ti < 0 || ti >= w->s->ntasks)
            return fail(w, path, "children", "task list is corrupt");
        char sub[sizeof w->err->path];
        if (single)
            snprintf(sub, sizeof sub, "%s.task", path);
        else
            snprintf(sub, sizeof sub, "%s.children[%d]", path, j);
        if (walk_task(w, ti, oi, depth + 1, sub) < 0)
            return -1;
    }
    if (j != op->children.count)
        return fail(w, path, "children", "task list count is wrong (corrupt IR)");
    return 0;
}

static int walk_op(walk *w, int oi, int task, int parent, int depth, const char *path)
{
    const af_op *op = &w->s->ops[oi];
    if (w->op_seen[oi])
        return fail(w, path, "", "operation reached twice (corrupt IR)");
    w->op_seen[oi] = true;
    if (depth > w->max_depth)
        w->max_depth = depth;
    if (depth > AF_MAX_DEPTH) {
        char full[sizeof w->err->path];
        snprintf(full, sizeof full, "%s", path);
        af_error_set(w->err, full, "nested too deep (more than %d levels)", AF_MAX_DEPTH);
        return -1;
    }
    if ((int)op->kind < 0 || op->kind >= AF_OP_KIND_COUNT)
        return fail(w, path, "op", "unknown operation kind (corrupt IR)");
    if (op->task != task || op->parent != parent)
        return fail(w, path, "", "operation links are wrong (corrupt IR)");
    if (check_fields(w, op, path) < 0)
        return -1;
    if (op->kind == AF_OP_STARTED && !af_task_started_by_start(w->s, task))
        return fail(w, path, "op", "started outside the code of the task a start op runs");
    char sub[sizeof w->err->path];
    if (af_op_has_children(op->kind) && walk_children(w, op, oi, depth, path) < 0)
        return -1;
    if (!af_op_has_children(op->kind) && op->children.count != 0)
        return fail(w, path, "children", "this operation has no children");
    snprintf(sub, sizeof sub, "%s.body", path);
    if (af_op_has_body(op->kind) && walk_body(w, &op->body, task, oi, depth + 1, sub) < 0)
        return -1;
    if (!af_op_has_body(op->kind) && op->body.count != 0)
        return fail(w, path, "body", "this operation has no body");
    snprintf(sub, sizeof sub, "%s.finally", path);
    bool finally = af_op_kind_has(op->kind, AF_FC_FINALLY) && op->has_finally;
    if (finally && walk_body(w, &op->finally_body, task, oi, depth + 1, sub) < 0)
        return -1;
    if (op->finally_body.count != 0 && !finally)
        return fail(w, path, "finally", "only a try with a finally has a finally body");
    return 0;
}

/* A callback's body (AF_OPF_CALLBACK): ops that never wait. */
static int check_allowed(walk *w, int parent, int oi, const char *path)
{
    const af_op *op = &w->s->ops[oi];
    if (parent == AF_NIL || (unsigned)op->kind >= AF_OP_KIND_COUNT ||
        af_op_allowed_in(w->s->ops[parent].kind, op->kind))
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg,
             "%s waits, and the body of a %s runs as a callback: only operations that never "
             "wait (SCHEMA.md)",
             af_op_kind_name(op->kind), af_op_kind_name(w->s->ops[parent].kind));
    return fail(w, path, "op", msg);
}

static int walk_body(walk *w, const af_body *b, int task, int parent, int depth, const char *path)
{
    int j = 0;
    for (int oi = b->head; oi != AF_NIL; oi = w->s->ops[oi].next, j++) {
        if (j >= b->count || oi < 0 || oi >= w->s->nops)
            return fail(w, path, "", "operation list is corrupt");
        char sub[sizeof w->err->path];
        snprintf(sub, sizeof sub, "%s[%d]", path, j);
        if (check_allowed(w, parent, oi, sub) < 0 || walk_op(w, oi, task, parent, depth, sub) < 0)
            return -1;
    }
    if (j != b->count)
        return fail(w, path, "", "operation list count is wrong (corrupt IR)");
    return 0;
}

/* One namespace: tasks, task groups, timeouts, handles and primitives. */
static int check_unique_names(walk *w)
{
    const af_scenario *s = w->s;
    const char *names[AF_MAX_TASKS + AF_MAX_OPS + AF_MAX_PRIMITIVES];
    int n = 0;
    for (int i = 0; i < s->ntasks; i++)
        names[n++] = s->tasks[i].name;
    for (int i = 0; i < s->nops; i++)
        if (af_op_spec_of(s->ops[i].kind)->shape & AF_SHAPE_NAMED)
            names[n++] = s->ops[i].name;
    for (int i = 0; i < s->nprims; i++)
        names[n++] = s->prims[i].name;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) == 0) {
                af_error_set(w->err, "", "name \"%s\" is used twice", names[i]);
                return -1;
            }
    return 0;
}

static int check_primitives(walk *w)
{
    for (int i = 0; i < w->s->nprims; i++) {
        const af_primitive *p = &w->s->prims[i];
        char path[64];
        snprintf(path, sizeof path, "primitives[%d]", i);
        if (!af_valid_name(p->name))
            return fail(w, path, "name", "is not a valid name ([A-Za-z_][A-Za-z0-9_]*, not self)");
        if (check_range(w, path, "kind", p->kind, 0, AF_PRIM_COUNT - 1) < 0)
            return -1;
        if (p->kind == AF_PRIM_SEMAPHORE &&
            check_range(w, path, "value", p->param, 1, AF_MAX_SMALL) < 0)
            return -1;
        if (p->kind == AF_PRIM_QUEUE &&
            check_range(w, path, "maxsize", p->param, 0, AF_MAX_SMALL) < 0)
            return -1;
        if (p->kind != AF_PRIM_SEMAPHORE && p->kind != AF_PRIM_QUEUE && p->param != 0)
            return fail(w, path, "", "only a semaphore or a queue takes a parameter");
    }
    return 0;
}

static int check_expects(walk *w)
{
    const af_scenario *s = w->s;
    if (s->nexpect < 0 || s->nexpect > AF_MAX_EXPECT)
        return fail(w, "expect", "", "too many expected verdicts");
    for (int i = 0; i < s->nexpect; i++) {
        char path[64];
        snprintf(path, sizeof path, "expect[%d]", i);
        if (!af_oracle_known(s->expect[i].oracle))
            return fail(w, path, "oracle", "is not a known oracle");
        if (s->expect[i].target[0] && !af_valid_target_name(s->expect[i].target))
            return fail(w, path, "target", "is not a valid target name");
        if (s->expect[i].npyversions < 0 || s->expect[i].npyversions > AF_MAX_PYVERSIONS)
            return fail(w, path, "python", "too many versions");
        for (int j = 0; j < s->expect[i].npyversions; j++) {
            const af_pyversion *v = &s->expect[i].pyversions[j];
            if (check_range(w, path, "python", v->minor, 300, 399) < 0 ||
                check_range(w, path, "python", v->first_patch, -1, 99) < 0 ||
                check_range(w, path, "python", v->last_patch, v->first_patch,
                            v->first_patch < 0 ? -1 : 99) < 0)
                return -1;
        }
    }
    return 0;
}

static int check_counts(walk *w)
{
    const af_scenario *s = w->s;
    if (s->nops < 0 || s->nops > AF_MAX_OPS)
        return fail(w, "main", "", "too many operations");
    if (s->ntasks < 1 || s->ntasks > AF_MAX_TASKS)
        return fail(w, "main", "", "too many tasks");
    if (s->nprims < 0 || s->nprims > AF_MAX_PRIMITIVES)
        return fail(w, "primitives", "", "too many primitives");
    return 0;
}

static int check_all_reached(walk *w)
{
    for (int i = 0; i < w->s->nops; i++)
        if (!w->op_seen[i])
            return fail(w, "main", "", "an operation is not in the tree (corrupt IR)");
    for (int i = 0; i < w->s->ntasks; i++)
        if (!w->task_seen[i])
            return fail(w, "main", "", "a task is not in the tree (corrupt IR)");
    return 0;
}

static int run_walk(walk *w)
{
    if (check_counts(w) < 0 || check_primitives(w) < 0 || check_expects(w) < 0)
        return -1;
    if (walk_task(w, 0, AF_NIL, 1, "main") < 0 || check_all_reached(w) < 0)
        return -1;
    if (w->total_ticks > AF_MAX_TOTAL_TICKS) {
        af_error_set(w->err, "main", "durations add up to %lld ticks, more than %d",
                     (long long)w->total_ticks, AF_MAX_TOTAL_TICKS);
        return -1;
    }
    return check_unique_names(w);
}

int af_scenario_validate(const af_scenario *s, af_error *err)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.err = err;
    return run_walk(&w);
}

int af_scenario_depth(const af_scenario *s)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.s = s;
    af_error ignored;
    w.err = &ignored;
    (void)run_walk(&w);
    return w.max_depth;
}

int64_t af_scenario_total_ticks(const af_scenario *s)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.s = s;
    af_error ignored;
    w.err = &ignored;
    (void)run_walk(&w);
    return w.total_ticks;
}
