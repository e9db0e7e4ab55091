/* mutate.c - IR editing layer and structure-aware mutations (mutate.h).
 *
 * Every mutation edits links in place, then af_ir_compact() rebuilds the
 * scenario in pre-order and validates it; a mutation whose result does not
 * validate (a limit exceeded, a misuse op when misuse is off, a loop-level
 * op when those are off, an op that waits in a callback's body) is undone
 * and another one is drawn.
 */
#include "scenarios/mutate.h"

#include "scenarios/ops.h"

#include <stdio.h>
#include <string.h>

/* ---- random numbers ---- */

void af_rng_seed(af_rng *r, uint64_t seed)
{
    /* splitmix64 of the seed: any seed (0 included) gives a good state */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    r->s = z ? z : 0x2545f4914f6cdd1dull;
}

uint64_t af_rng_next(af_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint32_t af_rng_below(af_rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    return (uint32_t)(((af_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static bool coin(af_rng *r, uint32_t one_in)
{
    return af_rng_below(r, one_in) == 0;
}

/* ---- small helpers ---- */

static void body_clear(af_body *b)
{
    b->head = b->tail = AF_NIL;
    b->count = 0;
}

static void tasklist_clear(af_tasklist *l)
{
    l->head = l->tail = AF_NIL;
    l->count = 0;
}

static bool single_child(af_op_kind k)
{
    return af_op_kind_has(k, AF_FC_ONE_TASK);
}

/* Whether op has a finally body (a FINALLY field that is present). */
static bool has_finally(const af_op *op)
{
    return af_op_kind_has(op->kind, AF_FC_FINALLY) && op->has_finally;
}

/* Whether a kind owns both child tasks and a body (task_group). */
static bool tasks_and_body(af_op_kind k)
{
    return af_op_has_children(k) && af_op_has_body(k);
}

/* The codec of a kind's namespace name (GROUP_NAME, TIMEOUT_NAME or
 * HANDLE_NAME). */
static af_field_codec name_codec(af_op_kind k)
{
    return af_op_kind_has(k, AF_FC_GROUP_NAME)    ? AF_FC_GROUP_NAME
           : af_op_kind_has(k, AF_FC_HANDLE_NAME) ? AF_FC_HANDLE_NAME
                                                  : AF_FC_TIMEOUT_NAME;
}

/* The reference field of an op (an op has at most one), or NULL. */
static const af_field *ref_field(af_op_kind k)
{
    const af_op_spec *spec = af_op_spec_of(k);
    if (!(spec->shape & AF_SHAPE_REFS))
        return NULL;
    for (int i = 0; i < spec->nfields; i++)
        if (af_codec_is_ref(spec->fields[i].codec))
            return &spec->fields[i];
    return NULL;
}

void af_ir_fresh_name(const af_scenario *s, const char *prefix, char *buf)
{
    /* buf may be the name field of an entity of s (or uninitialised):
     * blank it first, so that the entity does not collide with itself */
    char cand[AF_MAX_NAME + 1];
    buf[0] = '\0';
    for (int n = 1;; n++) {
        snprintf(cand, sizeof cand, "%.16s%d", prefix, n);
        if (!af_name_taken(s, cand)) {
            memcpy(buf, cand, sizeof cand);
            return;
        }
    }
}

/* ---- compaction ---- */

typedef struct rebuild {
    const af_scenario *src;
    af_scenario *dst;
    const bool *skip; /* src ops left out */
    int16_t op_map[AF_MAX_OPS];
    int16_t task_map[AF_MAX_TASKS];
    int16_t prim_map[AF_MAX_PRIMITIVES];
    int16_t src_of[AF_MAX_OPS]; /* dst op -> src op */
    bool op_seen[AF_MAX_OPS];
    bool task_seen[AF_MAX_TASKS];
    bool failed;
    int max_depth;       /* deepest op (root body = 1) */
    int64_t total_ticks; /* as af_scenario_validate counts them */
} rebuild;

static void rb_body(rebuild *rb, const af_body *from, af_body *to, int task, int parent, int depth);

static void link_op(af_scenario *s, af_body *b, int i)
{
    s->ops[i].next = AF_NIL;
    if (b->tail == AF_NIL)
        b->head = (int16_t)i;
    else
        s->ops[b->tail].next = (int16_t)i;
    b->tail = (int16_t)i;
    b->count++;
}

static void link_task(af_scenario *s, af_tasklist *l, int t)
{
    s->tasks[t].next = AF_NIL;
    if (l->tail == AF_NIL)
        l->head = (int16_t)t;
    else
        s->tasks[l->tail].next = (int16_t)t;
    l->tail = (int16_t)t;
    l->count++;
}

static void rb_task(rebuild *rb, int ti, af_tasklist *to, int parent_op, int depth)
{
    const af_scenario *src = rb->src;
    af_scenario *dst = rb->dst;
    if (ti < 0 || ti >= src->ntasks || rb->task_seen[ti] || dst->ntasks >= AF_MAX_TASKS) {
        rb->failed = true;
        return;
    }
    rb->task_seen[ti] = true;
    int nt = dst->ntasks++;
    af_task *t = &dst->tasks[nt];
    memcpy(t->name, src->tasks[ti].name, sizeof t->name);
    body_clear(&t->body);
    t->parent = (int16_t)parent_op;
    t->next = AF_NIL;
    rb->task_map[ti] = (int16_t)nt;
    if (to)
        link_task(dst, to, nt);
    rb_body(rb, &src->tasks[ti].body, &dst->tasks[nt].body, nt, AF_NIL, depth);
}

static void rb_op(rebuild *rb, int oi, af_body *to, int task, int parent, int depth)
{
    const af_scenario *src = rb->src;
    af_scenario *dst = rb->dst;
    if (dst->nops >= AF_MAX_OPS) {
        rb->failed = true;
        return;
    }
    const af_op *from = &src->ops[oi];
    int ni = dst->nops++;
    af_op *op = &dst->ops[ni];
    *op = *from;
    op->task = (int16_t)task;
    op->parent = (int16_t)parent;
    body_clear(&op->body);
    body_clear(&op->finally_body);
    tasklist_clear(&op->children);
    rb->op_map[oi] = (int16_t)ni;
    rb->src_of[ni] = (int16_t)oi;
    link_op(dst, to, ni);
    if (depth > rb->max_depth)
        rb->max_depth = depth;
    if (af_ir_has_ticks(from->kind) && from->ticks > 0)
        rb->total_ticks += from->ticks;
    if (af_op_has_children(from->kind)) {
        int n = 0;
        for (int ti = from->children.head; ti != AF_NIL && !rb->failed; ti = src->tasks[ti].next) {
            if (ti < 0 || ti >= src->ntasks) {
                rb->failed = true;
                break;
            }
            if (single_child(from->kind) && n >= 1)
                break;
            rb_task(rb, ti, &dst->ops[ni].children, ni, depth + 1);
            n++;
        }
    }
    if (af_op_has_body(from->kind))
        rb_body(rb, &from->body, &dst->ops[ni].body, task, ni, depth + 1);
    if (has_finally(from))
        rb_body(rb, &from->finally_body, &dst->ops[ni].finally_body, task, ni, depth + 1);
}

static void rb_body(rebuild *rb, const af_body *from, af_body *to, int task, int parent, int depth)
{
    const af_scenario *src = rb->src;
    int guard = 0;
    for (int oi = from->head; oi != AF_NIL && !rb->failed; oi = src->ops[oi].next) {
        if (oi < 0 || oi >= src->nops || rb->op_seen[oi] || ++guard > AF_MAX_OPS) {
            rb->failed = true;
            return;
        }
        rb->op_seen[oi] = true;
        if (rb->skip[oi])
            continue;
        rb_op(rb, oi, to, task, parent, depth);
    }
}

/* The reference of op (a dst op whose ref still holds a src index) remapped
 * to dst; false when it dangles. */
static bool rb_ref(rebuild *rb, af_op *op)
{
    const af_scenario *src = rb->src;
    int ref = op->ref;
    const af_field *f = ref_field(op->kind);
    if (!f) {
        op->ref = AF_NIL;
        return true;
    }
    switch (f->codec) {
    case AF_FC_TARGET_REF:
    case AF_FC_TASK_REF:
        if (f->codec == AF_FC_TARGET_REF && ref == AF_SELF)
            return true;
        if (ref < 0 || ref >= src->ntasks || rb->task_map[ref] == AF_NIL)
            return false;
        op->ref = rb->task_map[ref];
        return true;
    case AF_FC_GROUP_REF:
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF:
        if (f->codec == AF_FC_GROUP_REF && ref == AF_NIL)
            return true;
        if (ref < 0 || ref >= src->nops || rb->op_map[ref] == AF_NIL ||
            !af_ref_accepts(f->codec, src->ops[ref].kind))
            return false;
        op->ref = rb->op_map[ref];
        return true;
    default: /* PRIM_REF */
        if (ref < 0 || ref >= src->nprims || rb->prim_map[ref] == AF_NIL ||
            (int)src->prims[ref].kind != af_op_needs(op->kind))
            return false;
        op->ref = rb->prim_map[ref];
        return true;
    }
}

/* Remap references in dst; returns the number of dangling ops (marked in
 * skip by their src index): a reference that does not resolve, an op
 * owning one task without it, or a `started` no longer in the code of the
 * task a `start` op runs. */
static int rb_refs(rebuild *rb, bool *skip)
{
    af_scenario *dst = rb->dst;
    int dangling = 0;
    for (int i = 0; i < dst->nops; i++) {
        af_op *op = &dst->ops[i];
        bool bad = (single_child(op->kind) && op->children.count != 1) ||
                   (op->kind == AF_OP_STARTED && !af_task_started_by_start(dst, op->task));
        if (bad || !rb_ref(rb, op)) {
            skip[rb->src_of[i]] = true;
            dangling++;
        }
    }
    return dangling;
}

/* full: check the result with af_scenario_validate; else only what the
 * mutators can break (depth, total ticks): their edits keep every field in
 * range and every name unique by construction (test_mutate checks that on
 * 100,000 mutants with the full validator). */
static int compact(af_scenario *s, const bool *keep_prims, bool full)
{
    static _Thread_local af_scenario src; /* 16 KiB: keep it off the stack */
    src = *s;
    bool skip[AF_MAX_OPS] = {false};
    for (int round = 0; round <= AF_MAX_OPS; round++) {
        rebuild rb;
        memset(&rb, 0, sizeof rb);
        rb.src = &src;
        rb.dst = s;
        rb.skip = skip;
        for (int i = 0; i < AF_MAX_OPS; i++)
            rb.op_map[i] = rb.src_of[i] = AF_NIL;
        for (int i = 0; i < AF_MAX_TASKS; i++)
            rb.task_map[i] = AF_NIL;
        for (int i = 0; i < AF_MAX_PRIMITIVES; i++)
            rb.prim_map[i] = AF_NIL;
        /* header and primitives */
        memcpy(s->description, src.description, sizeof s->description);
        memcpy(s->expect, src.expect, sizeof s->expect);
        s->nexpect = src.nexpect;
        s->nprims = 0;
        for (int i = 0; i < src.nprims && i < AF_MAX_PRIMITIVES; i++) {
            if (keep_prims && !keep_prims[i])
                continue;
            rb.prim_map[i] = s->nprims;
            s->prims[s->nprims++] = src.prims[i];
        }
        s->ntasks = 0;
        s->nops = 0;
        rb_task(&rb, 0, NULL, AF_NIL, 1);
        if (rb.failed)
            return -1;
        s->tasks[0].parent = AF_NIL;
        if (rb_refs(&rb, skip) == 0) {
            if (!full)
                return rb.max_depth <= AF_MAX_DEPTH && rb.total_ticks <= AF_MAX_TOTAL_TICKS ? 0
                                                                                            : -1;
            af_error err;
            return af_scenario_validate(s, &err);
        }
    }
    return -1;
}

int af_ir_compact(af_scenario *s, const bool *keep_prims)
{
    return compact(s, keep_prims, true);
}

/* ---- list editing ---- */

af_body *af_ir_body_of(af_scenario *s, int op)
{
    if (op < 0 || op >= s->nops)
        return NULL;
    af_op *o = &s->ops[op];
    if (o->parent == AF_NIL) {
        if (o->task < 0 || o->task >= s->ntasks)
            return NULL;
        return &s->tasks[o->task].body;
    }
    af_op *p = &s->ops[o->parent];
    for (int i = p->body.head; i != AF_NIL; i = s->ops[i].next)
        if (i == op)
            return &p->body;
    for (int i = p->finally_body.head; i != AF_NIL; i = s->ops[i].next)
        if (i == op)
            return &p->finally_body;
    return NULL;
}

int af_ir_position(af_scenario *s, int op)
{
    af_body *b = af_ir_body_of(s, op);
    if (!b)
        return -1;
    int pos = 0;
    for (int i = b->head; i != AF_NIL; i = s->ops[i].next, pos++)
        if (i == op)
            return pos;
    return -1;
}

/* The ops of a body, in order, into out (at most AF_MAX_OPS). */
static int body_ops(const af_scenario *s, const af_body *b, int16_t *out)
{
    int n = 0;
    for (int i = b->head; i != AF_NIL && n < AF_MAX_OPS; i = s->ops[i].next)
        out[n++] = (int16_t)i;
    return n;
}

static void body_relink(af_scenario *s, af_body *b, const int16_t *ops, int n)
{
    body_clear(b);
    for (int i = 0; i < n; i++)
        link_op(s, b, ops[i]);
}

void af_ir_unlink(af_scenario *s, int op)
{
    af_body *b = af_ir_body_of(s, op);
    if (!b)
        return;
    int16_t ops[AF_MAX_OPS];
    int n = body_ops(s, b, ops), m = 0;
    for (int i = 0; i < n; i++)
        if (ops[i] != op)
            ops[m++] = ops[i];
    body_relink(s, b, ops, m);
    s->ops[op].next = AF_NIL;
}

void af_ir_insert(af_scenario *s, af_body *body, int pos, int op)
{
    int16_t ops[AF_MAX_OPS + 1];
    int n = body_ops(s, body, ops);
    if (pos < 0 || pos > n)
        pos = n;
    memmove(ops + pos + 1, ops + pos, (size_t)(n - pos) * sizeof ops[0]);
    ops[pos] = (int16_t)op;
    body_relink(s, body, ops, n + 1);
}

/* ---- subtree copy ---- */

typedef struct copier {
    af_scenario *s;
    const af_scenario *src;
    bool same;
    af_rng *rng;
    int16_t op_map[AF_MAX_OPS];
    int16_t task_map[AF_MAX_TASKS];
    int16_t new_ops[AF_MAX_OPS];
    int nnew;
    int orig_ntasks;
    bool failed;
} copier;

static uint32_t pick(af_rng *rng, uint32_t n)
{
    return rng ? af_rng_below(rng, n) : 0;
}

static void cp_body(copier *c, const af_body *from, int dst_op, bool finally);

static int cp_op(copier *c, int oi)
{
    af_scenario *s = c->s;
    if (s->nops >= AF_MAX_OPS || oi < 0 || oi >= c->src->nops) {
        c->failed = true;
        return AF_NIL;
    }
    af_op from = c->src->ops[oi]; /* a copy: s may be src */
    int ni = s->nops++;
    af_op *op = &s->ops[ni];
    *op = from;
    op->next = AF_NIL;
    body_clear(&op->body);
    body_clear(&op->finally_body);
    tasklist_clear(&op->children);
    c->op_map[oi] = (int16_t)ni;
    c->new_ops[c->nnew++] = (int16_t)ni;
    if (af_op_spec_of(from.kind)->shape & AF_SHAPE_NAMED) /* a namespace name: a fresh one */
        af_ir_fresh_name(s, af_name_prefix(name_codec(from.kind)), s->ops[ni].name);
    if (af_op_has_children(from.kind)) {
        for (int ti = from.children.head; ti != AF_NIL && !c->failed; ti = c->src->tasks[ti].next) {
            if (s->ntasks >= AF_MAX_TASKS) {
                c->failed = true;
                break;
            }
            int nt = s->ntasks++;
            af_task *t = &s->tasks[nt];
            memset(t, 0, sizeof *t);
            t->name[0] = '\0';
            body_clear(&t->body);
            t->next = AF_NIL;
            t->parent = (int16_t)ni;
            af_ir_fresh_name(s, "t", t->name);
            c->task_map[ti] = (int16_t)nt;
            link_task(s, &s->ops[ni].children, nt);
            /* task body: its ops belong to task nt */
            const af_body tb = c->src->tasks[ti].body;
            for (int k = tb.head; k != AF_NIL && !c->failed; k = c->src->ops[k].next) {
                int child = cp_op(c, k);
                if (child != AF_NIL) {
                    s->ops[child].task = (int16_t)nt;
                    s->ops[child].parent = AF_NIL;
                    link_op(s, &s->tasks[nt].body, child);
                }
            }
            if (single_child(from.kind))
                break;
        }
    }
    if (af_op_has_body(from.kind))
        cp_body(c, &from.body, ni, false);
    if (has_finally(&from))
        cp_body(c, &from.finally_body, ni, true);
    return ni;
}

static void cp_body(copier *c, const af_body *from, int dst_op, bool finally)
{
    for (int k = from->head; k != AF_NIL && !c->failed; k = c->src->ops[k].next) {
        int child = cp_op(c, k);
        if (child == AF_NIL)
            return;
        af_scenario *s = c->s;
        s->ops[child].parent = (int16_t)dst_op;
        s->ops[child].task = s->ops[dst_op].task;
        link_op(s, finally ? &s->ops[dst_op].finally_body : &s->ops[dst_op].body, child);
    }
}

/* A random op of a kind in s, among the first `limit` ops, or AF_NIL. */
static int random_named_op(const af_scenario *s, unsigned ref_codec, int limit, af_rng *rng)
{
    int16_t cand[AF_MAX_OPS];
    int n = 0;
    for (int i = 0; i < limit && i < s->nops; i++)
        if (af_ref_accepts((af_field_codec)ref_codec, s->ops[i].kind))
            cand[n++] = (int16_t)i;
    return n ? cand[pick(rng, (uint32_t)n)] : AF_NIL;
}

static int prim_for(af_scenario *s, af_prim_kind kind, int param, af_rng *rng)
{
    int16_t cand[AF_MAX_PRIMITIVES];
    int n = 0;
    for (int i = 0; i < s->nprims; i++)
        if (s->prims[i].kind == kind)
            cand[n++] = (int16_t)i;
    if (n)
        return cand[pick(rng, (uint32_t)n)];
    char name[AF_MAX_NAME + 1];
    af_ir_fresh_name(s, af_prim_kind_name(kind), name);
    return af_scenario_add_primitive(s, kind, name, param);
}

/* The reference of copied op o: to the copy of what it named inside the
 * subtree; else, from another scenario, retargeted at random (a task or
 * self; a group or none; a timeout, or `sleep 0` without one; a primitive
 * of the kind, added when missing). -1 when a limit is hit. */
static int cp_ref(copier *c, af_op *o, int orig_nops)
{
    af_scenario *s = c->s;
    af_rng *rng = c->rng;
    const af_field *f = ref_field(o->kind);
    int ref = o->ref;
    if (!f || (f->codec == AF_FC_TARGET_REF && ref == AF_SELF) ||
        (f->codec == AF_FC_GROUP_REF && ref == AF_NIL))
        return 0;
    switch (f->codec) {
    case AF_FC_TASK_REF:
    case AF_FC_TARGET_REF:
        if (ref >= 0 && ref < AF_MAX_TASKS && c->task_map[ref] != AF_NIL)
            o->ref = c->task_map[ref];
        else if (!c->same) {
            uint32_t n = (uint32_t)c->orig_ntasks;
            if (f->codec == AF_FC_TARGET_REF && (n <= 1 || pick(rng, 4) == 0))
                o->ref = AF_SELF;
            else
                o->ref = (int16_t)(n > 1 ? 1 + pick(rng, n - 1) : 0);
        }
        return 0;
    case AF_FC_GROUP_REF:
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF:
        if (ref >= 0 && ref < AF_MAX_OPS && c->op_map[ref] != AF_NIL) {
            o->ref = c->op_map[ref];
        } else if (!c->same) {
            int t = random_named_op(s, f->codec, orig_nops, rng);
            if (t == AF_NIL && f->codec != AF_FC_GROUP_REF) { /* nothing to reschedule / cancel */
                o->kind = AF_OP_SLEEP;
                o->ticks = 0;
            }
            o->ref = (int16_t)t;
        }
        return 0;
    default: { /* PRIM_REF */
        if (c->same)
            return 0;
        if (ref < 0 || ref >= c->src->nprims)
            return -1;
        int p = prim_for(s, (af_prim_kind)af_op_needs(o->kind), c->src->prims[ref].param, rng);
        if (p == AF_NIL)
            return -1;
        o->ref = (int16_t)p;
        return 0;
    }
    }
}

int af_ir_copy_subtree(af_scenario *s, const af_scenario *src, int op, af_rng *rng)
{
    copier c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.src = src;
    c.same = src == s;
    c.rng = rng;
    c.orig_ntasks = s->ntasks;
    int orig_nops = s->nops;
    for (int i = 0; i < AF_MAX_OPS; i++)
        c.op_map[i] = AF_NIL;
    for (int i = 0; i < AF_MAX_TASKS; i++)
        c.task_map[i] = AF_NIL;
    int top = cp_op(&c, op);
    if (c.failed || top == AF_NIL)
        return AF_NIL;
    for (int k = 0; k < c.nnew; k++)
        if (cp_ref(&c, &s->ops[c.new_ops[k]], orig_nops) < 0)
            return AF_NIL;
    return top;
}

/* ---- random construction ---- */

/* Every body in s: task bodies, op bodies, finally bodies. */
typedef struct body_ref {
    af_body *body;
    int owner_op; /* AF_NIL for a task body */
    int task;     /* the task whose code the body is */
} body_ref;

static int all_bodies(af_scenario *s, body_ref *out)
{
    int n = 0;
    for (int t = 0; t < s->ntasks; t++)
        out[n++] = (body_ref){&s->tasks[t].body, AF_NIL, t};
    for (int i = 0; i < s->nops; i++) {
        af_op *o = &s->ops[i];
        if (af_op_has_body(o->kind))
            out[n++] = (body_ref){&o->body, i, o->task};
        if (has_finally(o))
            out[n++] = (body_ref){&o->finally_body, i, o->task};
    }
    return n;
}

/* A duration: small values mostly, often one already in the scenario, so
 * that timers coincide. */
static int32_t random_ticks(const af_scenario *s, af_rng *rng)
{
    uint32_t r = af_rng_below(rng, 100);
    if (r < 20)
        return 0;
    if (r < 65)
        return 1 + (int32_t)af_rng_below(rng, 5);
    if (r < 85) {
        int16_t cand[AF_MAX_OPS];
        int n = 0;
        for (int i = 0; i < s->nops; i++)
            if (af_ir_has_ticks(s->ops[i].kind) && s->ops[i].ticks > 0)
                cand[n++] = (int16_t)i;
        if (n) {
            int32_t v = s->ops[cand[af_rng_below(rng, (uint32_t)n)]].ticks;
            v += coin(rng, 2) ? 0 : (int32_t)af_rng_below(rng, 3) - 1;
            return v < 0 ? 0 : v > AF_MAX_TICKS ? AF_MAX_TICKS : v;
        }
        return 1 + (int32_t)af_rng_below(rng, 10);
    }
    if (r < 97)
        return 1 + (int32_t)af_rng_below(rng, 100);
    return (int32_t)af_rng_below(rng, AF_MAX_TICKS + 1);
}

static void random_exc(af_exc *e, af_rng *rng)
{
    /* mostly the plain application error */
    e->kind = coin(rng, 2) ? AF_EXC_APP : (af_exc_kind)af_rng_below(rng, AF_EXC_KIND_COUNT);
    e->id =
        coin(rng, 2) ? (int32_t)af_rng_below(rng, 4) : (int32_t)af_rng_below(rng, AF_MAX_VALUE + 1);
}

/* A random task of s other than the root (the root when there is none). */
static int random_task(const af_scenario *s, af_rng *rng)
{
    if (s->ntasks <= 1)
        return 0;
    return 1 + (int)af_rng_below(rng, (uint32_t)(s->ntasks - 1));
}

static const af_op_kind leaf_kinds[] = {
    AF_OP_SLEEP, AF_OP_SLEEP, AF_OP_SLEEP, AF_OP_RETURN, AF_OP_RAISE,
};

/* Fill the fields of op i (kind already set, lists cleared) at random. Ops
 * owning children get one or two fresh tasks with a short random body; ops
 * owning a body get one random leaf. Returns -1 when a limit is hit or the
 * kind cannot be built (no timeout to reschedule). */
static int random_fields(af_scenario *s, int i, bool misuse, af_rng *rng, bool fill);

static int add_leaf(af_scenario *s, af_body *b, int task, int parent, af_rng *rng)
{
    af_op_kind k = leaf_kinds[af_rng_below(rng, sizeof leaf_kinds / sizeof leaf_kinds[0])];
    int j = af_scenario_add_op(s, b, k, task, parent);
    if (j == AF_NIL)
        return -1;
    return random_fields(s, j, false, rng, false);
}

static int add_child_task(af_scenario *s, int i, af_rng *rng)
{
    char name[AF_MAX_NAME + 1];
    af_ir_fresh_name(s, "t", name);
    int t = af_scenario_add_task(s, &s->ops[i].children, name, i);
    if (t == AF_NIL)
        return -1;
    int n = (int)af_rng_below(rng, 3); /* 0..2 ops, mostly a sleep */
    if (n == 0 && coin(rng, 2))
        n = 1;
    for (int k = 0; k < n; k++)
        if (add_leaf(s, &s->tasks[t].body, t, AF_NIL, rng) < 0)
            return -1;
    return 0;
}

/* ENUM: any value, leaving out the misuse value where the field's misuse
 * rule applies and misuse is off. */
static int random_enum(const af_op *op, const af_field *f, bool misuse, af_rng *rng)
{
    int count = af_value_count((af_value_list)f->values);
    if (misuse || !af_cond_holds(&f->misuse_if, op))
        return (int)af_rng_below(rng, (uint32_t)count);
    int v = (int)af_rng_below(rng, (uint32_t)count - 1);
    return v < f->misuse ? v : v + 1;
}

/* RAISE, when present: an exception; a CancelledError handler's stays a
 * CancelledError when misuse is off. */
static void random_raise(af_op *op, const af_field *f, bool misuse, af_rng *rng)
{
    if (!af_cond_holds(&f->when, op))
        return;
    af_exc *e = AF_FIELD_PTR(af_exc, op, f);
    random_exc(e, rng);
    if (!misuse && af_cond_holds(&f->misuse_if, op))
        e->kind = AF_EXC_CANCELLED_SUBCLASS;
}

static void random_msg(af_op *op, const af_field *f, af_rng *rng)
{
    op->has_msg = coin(rng, f->rand ? f->rand : 2);
    if (op->has_msg)
        snprintf(op->msg, sizeof op->msg, "m%u", (unsigned)af_rng_below(rng, 10));
    else
        op->msg[0] = '\0';
}

/* A random reference (ref_field); -1 when there is nothing to name. */
static int random_ref(af_scenario *s, int i, const af_field *f, af_rng *rng)
{
    af_op *op = &s->ops[i];
    uint32_t odds = f->rand ? f->rand : 2;
    switch (f->codec) {
    case AF_FC_TASK_REF:
        op->ref = (int16_t)random_task(s, rng);
        return 0;
    case AF_FC_TARGET_REF:
        op->ref = coin(rng, odds) ? AF_SELF : (int16_t)random_task(s, rng);
        return 0;
    case AF_FC_GROUP_REF:
        op->ref = AF_NIL;
        if (coin(rng, odds))
            op->ref = (int16_t)random_named_op(s, f->codec, s->nops, rng);
        return 0;
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF: {
        int t = random_named_op(s, f->codec, s->nops, rng);
        if (t == AF_NIL)
            return -1;
        op->ref = (int16_t)t;
        return 0;
    }
    default: { /* PRIM_REF */
        int pk = af_op_needs(op->kind);
        int param = pk == AF_PRIM_SEMAPHORE ? 1 + (int)af_rng_below(rng, 2)
                    : pk == AF_PRIM_QUEUE   ? (int)af_rng_below(rng, 3)
                                            : 0;
        int p = prim_for(s, (af_prim_kind)pk, param, rng);
        if (p == AF_NIL)
            return -1;
        s->ops[i].ref = (int16_t)p;
        return 0;
    }
    }
}

/* One field at random (ops.def's .rand gives the odds of the non-default
 * value); -1 when it cannot be built. */
static int random_field(af_scenario *s, int i, const af_field *f, bool misuse, af_rng *rng)
{
    af_op *op = &s->ops[i];
    uint32_t odds = f->rand ? f->rand : 2;
    if (af_codec_is_ref(f->codec))
        return random_ref(s, i, f, rng);
    switch (f->codec) {
    case AF_FC_TICKS:
        *AF_FIELD_PTR(int32_t, op, f) = random_ticks(s, rng);
        return 0;
    case AF_FC_TICKS_POSITIVE:
        *AF_FIELD_PTR(int32_t, op, f) = 1 + (int32_t)af_rng_below(rng, 5);
        return 0;
    case AF_FC_OPT_TICKS:
        *AF_FIELD_PTR(int32_t, op, f) = coin(rng, odds) ? AF_NONE : random_ticks(s, rng);
        return 0;
    case AF_FC_VALUE:
        *AF_FIELD_PTR(int32_t, op, f) = (int32_t)af_rng_below(rng, 4);
        return 0;
    case AF_FC_COUNT:
        *AF_FIELD_PTR(int32_t, op, f) = coin(rng, odds) ? 2 : 1;
        return 0;
    case AF_FC_NOTIFY_N:
        *AF_FIELD_PTR(int32_t, op, f) =
            coin(rng, odds) ? AF_NONE : 1 + (int32_t)af_rng_below(rng, 2);
        return 0;
    case AF_FC_BOOL:
        *AF_FIELD_PTR(bool, op, f) = coin(rng, odds);
        return 0;
    case AF_FC_KEEP:
        *AF_FIELD_PTR(bool, op, f) = misuse ? !coin(rng, odds) : true;
        return 0;
    case AF_FC_ENUM:
        *AF_FIELD_PTR(int, op, f) = random_enum(op, f, misuse, rng);
        return 0;
    case AF_FC_EXC:
        random_exc(AF_FIELD_PTR(af_exc, op, f), rng);
        return 0;
    case AF_FC_RAISE:
        random_raise(op, f, misuse, rng);
        return 0;
    case AF_FC_MSG:
        random_msg(op, f, rng);
        return 0;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
        af_ir_fresh_name(s, af_name_prefix((af_field_codec)f->codec), AF_FIELD_PTR(char, op, f));
        return 0;
    case AF_FC_RESOURCE:
        snprintf(AF_FIELD_PTR(char, op, f), AF_MAX_NAME + 1, "%s%u",
                 af_name_prefix((af_field_codec)f->codec), (unsigned)af_rng_below(rng, 4));
        return 0;
    case AF_FC_FINALLY:
        op->has_finally = coin(rng, odds);
        return 0;
    default: /* tasks and bodies: random_fields fills them */
        return 0;
    }
}

/* Child tasks for an op owning them, a leaf in its body (and finally). */
static int random_lists(af_scenario *s, int i, af_rng *rng)
{
    af_op_kind k = s->ops[i].kind;
    if (af_op_has_children(k)) {
        int n = single_child(k) ? 1 : 1 + (int)af_rng_below(rng, 2);
        for (int c = 0; c < n; c++)
            if (add_child_task(s, i, rng) < 0)
                return -1;
    }
    if (af_op_has_body(k) && (!tasks_and_body(k) || coin(rng, 2))) {
        if (add_leaf(s, &s->ops[i].body, s->ops[i].task, i, rng) < 0)
            return -1;
        if (has_finally(&s->ops[i]) && coin(rng, 2) &&
            add_leaf(s, &s->ops[i].finally_body, s->ops[i].task, i, rng) < 0)
            return -1;
    }
    return 0;
}

static int random_fields(af_scenario *s, int i, bool misuse, af_rng *rng, bool fill)
{
    const af_field *order[AF_OP_MAX_FIELDS];
    int n = af_op_draw_order(af_op_spec_of(s->ops[i].kind), order);
    for (int j = 0; j < n; j++)
        if (random_field(s, i, order[j], misuse, rng) < 0)
            return -1;
    return fill ? random_lists(s, i, rng) : 0;
}

/* A random kind to insert into a body of op `owner` (AF_NIL: a task's
 * body): misuse and loop-level kinds only when allowed, in a callback's
 * body only kinds that never wait. */
static af_op_kind random_kind(af_rng *rng, bool misuse, bool loop, const af_scenario *s, int owner)
{
    for (;;) {
        uint32_t r = af_rng_below(rng, AF_OP_KIND_COUNT + 4);
        af_op_kind k = r >= AF_OP_KIND_COUNT ? (r & 1 ? AF_OP_SLEEP : AF_OP_CANCEL) : (af_op_kind)r;
        unsigned flags = af_op_spec_of(k)->flags;
        if ((!misuse && (flags & AF_OPF_MISUSE)) || (!loop && (flags & AF_OPF_LOOP)) ||
            (owner != AF_NIL && !af_op_allowed_in(s->ops[owner].kind, k)))
            continue;
        return k;
    }
}

/* Whether every op stands where its kind may (a callback's body holds
 * only ops that never wait). */
static bool callback_bodies_ok(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].parent != AF_NIL &&
            !af_op_allowed_in(s->ops[s->ops[i].parent].kind, s->ops[i].kind))
            return false;
    return true;
}

/* A new op of a random kind for a body of `owner`, not linked (its own
 * lists filled). */
static int new_random_op(af_scenario *s, int task, int owner, const af_mutate_options *o,
                         af_rng *rng)
{
    bool misuse = o->allow_misuse;
    af_body scratch;
    body_clear(&scratch);
    af_op_kind k = random_kind(rng, misuse, o->allow_loop_ops, s, owner);
    int i = af_scenario_add_op(s, &scratch, k, task, AF_NIL);
    if (i == AF_NIL)
        return AF_NIL;
    s->ops[i].next = AF_NIL;
    if (random_fields(s, i, misuse, rng, true) < 0)
        return AF_NIL;
    return i;
}

/* ---- mutation operators ---- */

enum {
    M_INSERT,
    M_DELETE,
    M_SWAP,
    M_MOVE,
    M_DURATION,
    M_KIND,
    M_FIELD,
    M_REF,
    M_WRAP,
    M_UNWRAP,
    M_DUPLICATE,
    M_SPLICE,
    M_ADD_CHILD,
    M_COUNT
};

const char *const af_mutation_names[] = {
    "insert", "delete", "swap",   "move",      "duration", "kind",      "field",
    "ref",    "wrap",   "unwrap", "duplicate", "splice",   "add_child", NULL,
};

/* Relative weights of the operators. */
static const uint8_t weights[M_COUNT] = {
    [M_INSERT] = 14,   [M_DELETE] = 6, [M_SWAP] = 5,      [M_MOVE] = 4, [M_DURATION] = 16,
    [M_KIND] = 5,      [M_FIELD] = 8,  [M_REF] = 6,       [M_WRAP] = 8, [M_UNWRAP] = 3,
    [M_DUPLICATE] = 3, [M_SPLICE] = 6, [M_ADD_CHILD] = 4,
};

static int random_op_index(const af_scenario *s, af_rng *rng)
{
    return s->nops ? (int)af_rng_below(rng, (uint32_t)s->nops) : AF_NIL;
}

/* Whether body b (owned by op owner, or a task body when owner is AF_NIL
 * and task is t) lies inside the subtree of op `op` (or is op's own). */
static bool body_inside(const af_scenario *s, int owner, int task, int op)
{
    int cur = owner;
    int t = task;
    for (int guard = 0; guard < AF_MAX_OPS + AF_MAX_TASKS + 2; guard++) {
        if (cur == op)
            return true;
        if (cur == AF_NIL) {
            if (t <= 0)
                return false;
            cur = s->tasks[t].parent;
            continue;
        }
        t = s->ops[cur].task;
        cur = s->ops[cur].parent;
    }
    return true;
}

static int m_insert(af_scenario *s, const af_mutate_options *o, af_rng *rng)
{
    body_ref bodies[AF_MAX_TASKS + 2 * AF_MAX_OPS];
    int nb = all_bodies(s, bodies);
    body_ref br = bodies[af_rng_below(rng, (uint32_t)nb)];
    int16_t count = br.body->count;
    int i = new_random_op(s, br.task, br.owner_op, o, rng);
    if (i == AF_NIL)
        return -1;
    /* the arrays are fixed: br.body is still valid */
    af_ir_insert(s, br.body, (int)af_rng_below(rng, (uint32_t)count + 1), i);
    return 0;
}

static int m_delete(af_scenario *s, af_rng *rng)
{
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    af_ir_unlink(s, i);
    return 0;
}

static int m_swap(af_scenario *s, af_rng *rng)
{
    body_ref bodies[AF_MAX_TASKS + 2 * AF_MAX_OPS];
    int nb = all_bodies(s, bodies);
    int16_t cand[AF_MAX_TASKS + 2 * AF_MAX_OPS];
    int nc = 0;
    for (int k = 0; k < nb; k++)
        if (bodies[k].body->count >= 2)
            cand[nc++] = (int16_t)k;
    if (!nc)
        return -1;
    af_body *b = bodies[cand[af_rng_below(rng, (uint32_t)nc)]].body;
    int16_t ops[AF_MAX_OPS];
    int n = body_ops(s, b, ops);
    int a = (int)af_rng_below(rng, (uint32_t)n);
    int c = coin(rng, 2) ? (a + 1) % n : (int)af_rng_below(rng, (uint32_t)n);
    if (a == c)
        c = (a + 1) % n;
    int16_t t = ops[a];
    ops[a] = ops[c];
    ops[c] = t;
    body_relink(s, b, ops, n);
    return 0;
}

static int m_move(af_scenario *s, af_rng *rng)
{
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    body_ref bodies[AF_MAX_TASKS + 2 * AF_MAX_OPS];
    int nb = all_bodies(s, bodies);
    body_ref br = bodies[af_rng_below(rng, (uint32_t)nb)];
    if (body_inside(s, br.owner_op, br.owner_op == AF_NIL ? br.task : s->ops[br.owner_op].task, i))
        return -1;
    af_ir_unlink(s, i);
    af_ir_insert(s, br.body, (int)af_rng_below(rng, (uint32_t)br.body->count + 1), i);
    return 0;
}

static int m_duration(af_scenario *s, af_rng *rng)
{
    int16_t cand[AF_MAX_OPS];
    int n = 0;
    for (int i = 0; i < s->nops; i++)
        if (af_ir_has_ticks(s->ops[i].kind))
            cand[n++] = (int16_t)i;
    if (!n)
        return -1;
    af_op *op = &s->ops[cand[af_rng_below(rng, (uint32_t)n)]];
    int32_t old = op->ticks, v = old;
    switch (af_rng_below(rng, 8)) {
    case 0:
    case 1: { /* copy another duration: make two timers coincide */
        af_op *o = &s->ops[cand[af_rng_below(rng, (uint32_t)n)]];
        v = o->ticks;
        break;
    }
    case 2: /* another duration plus or minus one */
        v = s->ops[cand[af_rng_below(rng, (uint32_t)n)]].ticks;
        v = v < 0 ? 0 : v + (coin(rng, 2) ? 1 : -1);
        break;
    case 3:
        v = old < 0 ? 1 : old + 1;
        break;
    case 4:
        v = old <= 0 ? 0 : old - 1;
        break;
    case 5:
        v = af_ir_ticks_optional(op->kind) && coin(rng, 2) ? AF_NONE : 0;
        break;
    case 6: { /* the sum of two durations: a timer that fires after two sleeps */
        int32_t a = s->ops[cand[af_rng_below(rng, (uint32_t)n)]].ticks;
        int32_t b = s->ops[cand[af_rng_below(rng, (uint32_t)n)]].ticks;
        v = (a < 0 ? 0 : a) + (b < 0 ? 0 : b);
        break;
    }
    default:
        v = random_ticks(s, rng);
        break;
    }
    if (v == AF_NONE && !af_ir_ticks_optional(op->kind))
        v = 0;
    if (v < AF_NONE)
        v = 0;
    if (v > AF_MAX_TICKS)
        v = AF_MAX_TICKS;
    if (v == old)
        v = old <= 0 ? 1 : old - 1;
    if (af_op_kind_has(op->kind, AF_FC_TICKS_POSITIVE) && v < 1)
        v = old == 1 ? 2 : 1;
    op->ticks = v;
    return 0;
}

/* Kinds interchangeable with k, keeping lists (body / children). */
static int kind_class(af_op_kind k)
{
    if (tasks_and_body(k))
        return 3;
    if (af_op_has_children(k))
        return single_child(k) ? 2 : 1;
    if (af_op_has_body(k))
        return 4;
    return 0;
}

static int m_kind(af_scenario *s, const af_mutate_options *o, af_rng *rng)
{
    bool misuse = o->allow_misuse;
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    af_op_kind old = s->ops[i].kind;
    af_op_kind nk = old;
    for (int tries = 0; tries < 16 && nk == old; tries++) {
        af_op_kind k = random_kind(rng, misuse, o->allow_loop_ops, s, s->ops[i].parent);
        if (kind_class(k) == kind_class(old) ||
            (kind_class(old) == 1 && kind_class(k) == 3) || /* children -> group keeps them */
            (kind_class(old) == 3 && af_op_has_children(k) && !single_child(k)))
            nk = k;
    }
    if (nk == old)
        return -1;
    af_op saved = s->ops[i];
    af_op *op = &s->ops[i];
    af_op_init(op, nk);
    op->next = saved.next;
    op->parent = saved.parent;
    op->task = saved.task;
    op->body = saved.body;
    op->finally_body = saved.finally_body;
    op->children = saved.children;
    if (af_ir_has_ticks(nk) && af_ir_has_ticks(saved.kind))
        op->ticks = saved.ticks;
    int r = random_fields(s, i, misuse, rng, false);
    op = &s->ops[i];
    if (af_ir_has_ticks(nk) && af_ir_has_ticks(saved.kind) && coin(rng, 2))
        op->ticks = saved.ticks == AF_NONE && !af_ir_ticks_optional(nk) ? 0 : saved.ticks;
    if (af_op_kind_has(nk, AF_FC_TICKS_POSITIVE) && op->ticks < 1)
        op->ticks = 1;
    if (has_finally(op) && !af_op_kind_has(saved.kind, AF_FC_FINALLY))
        body_clear(&op->finally_body);
    return r;
}

/* PRIM_REF: another primitive of the kind, sometimes a new one. */
static int retarget_prim(af_scenario *s, af_op *op, af_rng *rng)
{
    int pk = af_op_prim_kind(op->kind);
    int16_t pc[AF_MAX_PRIMITIVES];
    int np = 0;
    for (int p = 0; p < s->nprims; p++)
        if ((int)s->prims[p].kind == pk)
            pc[np++] = (int16_t)p;
    if (np < 2 && s->nprims < AF_MAX_PRIMITIVES && coin(rng, 2)) {
        char name[AF_MAX_NAME + 1];
        af_ir_fresh_name(s, af_prim_kind_name((af_prim_kind)pk), name);
        int p =
            af_scenario_add_primitive(s, (af_prim_kind)pk, name, pk == AF_PRIM_SEMAPHORE ? 1 : 0);
        op->ref = (int16_t)p;
        return 0;
    }
    if (np < 2)
        return -1;
    op->ref = pc[af_rng_below(rng, (uint32_t)np)];
    return 0;
}

/* How often m_field picks field f of op (0: never). */
static uint32_t mutation_weight(const af_field *f, bool misuse)
{
    switch (f->codec) {
    case AF_FC_KEEP:
        if (!misuse)
            return 0;
        /* fall through */
    case AF_FC_VALUE:
    case AF_FC_COUNT:
    case AF_FC_NOTIFY_N:
    case AF_FC_BOOL:
    case AF_FC_ENUM:
    case AF_FC_EXC:
    case AF_FC_MSG:
    case AF_FC_GROUP_REF:
    case AF_FC_FINALLY:
        return f->weight ? f->weight : 1;
    default: /* durations: m_duration; references: m_ref; names, lists */
        return 0;
    }
}

/* An ENUM field: another value (a toggle for two values), then the
 * exceptions that depend on it. */
static void mutate_enum(af_op *op, const af_field *f, bool misuse, af_rng *rng)
{
    int *v = AF_FIELD_PTR(int, op, f);
    if (af_value_count((af_value_list)f->values) == 2)
        *v = !*v;
    else
        *v = random_enum(op, f, misuse, rng);
    const af_op_spec *spec = af_op_spec_of(op->kind);
    for (int i = 0; i < spec->nfields; i++)
        if (spec->fields[i].codec == AF_FC_RAISE && spec->fields[i].when.offset == f->offset)
            random_raise(op, &spec->fields[i], misuse, rng);
}

static void mutate_field(af_scenario *s, af_op *op, const af_field *f, bool misuse, af_rng *rng)
{
    switch (f->codec) {
    case AF_FC_VALUE:
        *AF_FIELD_PTR(int32_t, op, f) =
            (int32_t)af_rng_below(rng, coin(rng, 2) ? 4 : AF_MAX_VALUE + 1);
        break;
    case AF_FC_COUNT:
        *AF_FIELD_PTR(int32_t, op, f) = *AF_FIELD_PTR(int32_t, op, f) == 1 ? 2 : 1;
        break;
    case AF_FC_NOTIFY_N:
        *AF_FIELD_PTR(int32_t, op, f) =
            coin(rng, 3) ? AF_NONE : 1 + (int32_t)af_rng_below(rng, AF_MAX_SMALL);
        break;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        *AF_FIELD_PTR(bool, op, f) = !*AF_FIELD_PTR(bool, op, f);
        break;
    case AF_FC_ENUM:
        mutate_enum(op, f, misuse, rng);
        break;
    case AF_FC_EXC:
        random_exc(AF_FIELD_PTR(af_exc, op, f), rng);
        break;
    case AF_FC_MSG:
        op->has_msg = !op->has_msg;
        if (op->has_msg)
            snprintf(op->msg, sizeof op->msg, "m%u", (unsigned)af_rng_below(rng, 10));
        else
            op->msg[0] = '\0';
        break;
    case AF_FC_GROUP_REF:
        op->ref = op->ref == AF_NIL ? (int16_t)random_named_op(s, f->codec, s->nops, rng) : AF_NIL;
        break;
    case AF_FC_FINALLY:
        op->has_finally = !op->has_finally;
        if (!op->has_finally)
            body_clear(&op->finally_body);
        break;
    default:
        break;
    }
}

/* An op without a field to mutate: tweak its primitive's parameter. */
static int mutate_prim_param(af_scenario *s, const af_op *op, af_rng *rng)
{
    if (af_op_needs(op->kind) < 0)
        return -1;
    af_primitive *p = &s->prims[op->ref];
    if (p->kind == AF_PRIM_SEMAPHORE)
        p->param = 1 + (int32_t)af_rng_below(rng, 3);
    else if (p->kind == AF_PRIM_QUEUE)
        p->param = (int32_t)af_rng_below(rng, 3);
    else
        return -1;
    return 0;
}

/* One field of a random op, picked by weight in draw order. */
static int m_field(af_scenario *s, bool misuse, af_rng *rng)
{
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    af_op *op = &s->ops[i];
    const af_field *order[AF_OP_MAX_FIELDS];
    int n = af_op_draw_order(af_op_spec_of(op->kind), order);
    uint32_t total = 0;
    for (int j = 0; j < n; j++)
        total += mutation_weight(order[j], misuse);
    if (total == 0)
        return mutate_prim_param(s, op, rng);
    uint32_t r = total > 1 ? af_rng_below(rng, total) : 0;
    for (int j = 0; j < n; j++) {
        uint32_t w = mutation_weight(order[j], misuse);
        if (r < w) {
            mutate_field(s, op, order[j], misuse, rng);
            return 0;
        }
        r -= w;
    }
    return -1;
}

/* Retarget a reference: another task (or self, or the root), group,
 * timeout or primitive (a new one sometimes). */
static int m_ref(af_scenario *s, af_rng *rng)
{
    int16_t cand[AF_MAX_OPS];
    int n = 0;
    for (int i = 0; i < s->nops; i++) {
        const af_field *f = ref_field(s->ops[i].kind);
        if (f && (f->codec != AF_FC_GROUP_REF || s->ops[i].ref != AF_NIL))
            cand[n++] = (int16_t)i;
    }
    if (!n)
        return -1;
    af_op *op = &s->ops[cand[af_rng_below(rng, (uint32_t)n)]];
    const af_field *f = ref_field(op->kind);
    switch (f->codec) {
    case AF_FC_TASK_REF:
        op->ref = (int16_t)(coin(rng, 10) ? 0 : random_task(s, rng));
        return 0;
    case AF_FC_TARGET_REF:
        op->ref = coin(rng, 6) ? AF_SELF : (int16_t)(coin(rng, 10) ? 0 : random_task(s, rng));
        return 0;
    case AF_FC_GROUP_REF:
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF:
        op->ref = (int16_t)random_named_op(s, f->codec, s->nops, rng);
        return 0;
    default:
        return retarget_prim(s, op, rng);
    }
}

static const af_op_kind wrap_body_kinds[] = {
    AF_OP_WAIT_FOR,  AF_OP_WAIT_FOR,    AF_OP_TIMEOUT, AF_OP_TIMEOUT, AF_OP_TRY,       AF_OP_TRY,
    AF_OP_TASKGROUP, AF_OP_EXCEPT_STAR, AF_OP_HOLD,    AF_OP_LOCK,    AF_OP_SEMAPHORE,
};
static const af_op_kind wrap_task_kinds[] = {
    AF_OP_SPAWN,     AF_OP_SPAWN,  AF_OP_SPAWN, AF_OP_GATHER,
    AF_OP_TASKGROUP, AF_OP_SHIELD, AF_OP_WAIT,  AF_OP_AS_COMPLETED,
};

/* Wrap a run of 1..3 ops of a body into a new op: its body, or the body of
 * a new child task. */
static int m_wrap(af_scenario *s, bool misuse, af_rng *rng)
{
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    af_body *b = af_ir_body_of(s, i);
    if (!b)
        return -1;
    int16_t ops[AF_MAX_OPS];
    int n = body_ops(s, b, ops);
    int pos = af_ir_position(s, i);
    int len = 1 + (int)af_rng_below(rng, 3);
    if (pos + len > n)
        len = n - pos;
    int task = s->ops[i].task, parent = s->ops[i].parent;
    bool into_task = coin(rng, 2);
    af_op_kind k =
        into_task
            ? wrap_task_kinds[af_rng_below(rng, sizeof wrap_task_kinds / sizeof wrap_task_kinds[0])]
            : wrap_body_kinds[af_rng_below(rng,
                                           sizeof wrap_body_kinds / sizeof wrap_body_kinds[0])];
    af_body scratch;
    body_clear(&scratch);
    int w = af_scenario_add_op(s, &scratch, k, task, parent);
    if (w == AF_NIL)
        return -1;
    if (random_fields(s, w, misuse, rng, false) < 0)
        return -1;
    /* b may point into s->ops/tasks: still valid (fixed arrays) */
    af_body inner;
    body_clear(&inner);
    for (int k2 = pos; k2 < pos + len; k2++)
        link_op(s, &inner, ops[k2]);
    /* the outer body: ops before, w, ops after */
    int16_t outer[AF_MAX_OPS];
    int m = 0;
    for (int k2 = 0; k2 < pos; k2++)
        outer[m++] = ops[k2];
    outer[m++] = (int16_t)w;
    for (int k2 = pos + len; k2 < n; k2++)
        outer[m++] = ops[k2];
    if (into_task) {
        char name[AF_MAX_NAME + 1];
        af_ir_fresh_name(s, "t", name);
        int t = af_scenario_add_task(s, &s->ops[w].children, name, w);
        if (t == AF_NIL)
            return -1;
        s->tasks[t].body = inner;
        if (!single_child(k) && coin(rng, 3) && add_child_task(s, w, rng) < 0)
            return -1;
        if (tasks_and_body(k) && coin(rng, 2) && add_leaf(s, &s->ops[w].body, task, w, rng) < 0)
            return -1;
    } else {
        s->ops[w].body = inner;
        if (has_finally(&s->ops[w]) && coin(rng, 2) &&
            add_leaf(s, &s->ops[w].finally_body, task, w, rng) < 0)
            return -1;
    }
    body_relink(s, b, outer, m);
    return 0;
}

/* Replace an op by its body (and finally), or by the body of one of its
 * child tasks. */
static int m_unwrap(af_scenario *s, af_rng *rng)
{
    int16_t cand[AF_MAX_OPS];
    int n = 0;
    for (int i = 0; i < s->nops; i++)
        if (af_op_has_body(s->ops[i].kind) || af_op_has_children(s->ops[i].kind))
            cand[n++] = (int16_t)i;
    if (!n)
        return -1;
    int i = cand[af_rng_below(rng, (uint32_t)n)];
    return af_ir_hoist(s, i, (int)af_rng_below(rng, 4)) < 0 ? -1 : 0;
}

static int m_duplicate(af_scenario *s, af_rng *rng)
{
    int i = random_op_index(s, rng);
    if (i == AF_NIL)
        return -1;
    int c = af_ir_copy_subtree(s, s, i, rng);
    if (c == AF_NIL)
        return -1;
    af_body *b = af_ir_body_of(s, i);
    if (!b)
        return -1;
    af_ir_insert(s, b, af_ir_position(s, i) + 1, c);
    return 0;
}

static int m_splice(af_scenario *s, const af_scenario *donor, af_rng *rng)
{
    const af_scenario *src = donor && donor->nops ? donor : s;
    if (!src->nops)
        return -1;
    int from = (int)af_rng_below(rng, (uint32_t)src->nops);
    body_ref bodies[AF_MAX_TASKS + 2 * AF_MAX_OPS];
    int nb = all_bodies(s, bodies);
    body_ref br = bodies[af_rng_below(rng, (uint32_t)nb)];
    int owner = br.owner_op;
    bool fin = owner != AF_NIL && br.body == &s->ops[owner].finally_body;
    int16_t count = br.body->count;
    int c = af_ir_copy_subtree(s, src, from, rng);
    if (c == AF_NIL)
        return -1;
    af_body *b = owner == AF_NIL ? &s->tasks[br.task].body
                 : fin           ? &s->ops[owner].finally_body
                                 : &s->ops[owner].body;
    int pos = (int)af_rng_below(rng, (uint32_t)count + 1);
    /* sometimes replace the op at pos instead of inserting */
    if (count > 0 && pos < count && coin(rng, 3)) {
        int16_t ops[AF_MAX_OPS];
        body_ops(s, b, ops);
        af_ir_unlink(s, ops[pos]);
    }
    af_ir_insert(s, b, pos, c);
    return 0;
}

static int m_add_child(af_scenario *s, af_rng *rng)
{
    int16_t cand[AF_MAX_OPS];
    int n = 0;
    for (int i = 0; i < s->nops; i++)
        if (af_op_has_children(s->ops[i].kind) && !single_child(s->ops[i].kind))
            cand[n++] = (int16_t)i;
    if (!n)
        return -1;
    return add_child_task(s, cand[af_rng_below(rng, (uint32_t)n)], rng);
}

int af_ir_hoist(af_scenario *s, int op, int which)
{
    af_body *b = af_ir_body_of(s, op);
    if (!b)
        return -1;
    af_op *o = &s->ops[op];
    int16_t inner[2 * AF_MAX_OPS];
    int n = 0;
    if (af_op_has_body(o->kind) &&
        (!af_op_has_children(o->kind) || o->children.count == 0 || which % 2 == 0)) {
        n += body_ops(s, &o->body, inner + n);
        if (has_finally(o))
            n += body_ops(s, &o->finally_body, inner + n);
    } else if (af_op_has_children(o->kind) && o->children.count > 0) {
        int c = which % o->children.count;
        int t = o->children.head;
        while (c-- > 0 && t != AF_NIL)
            t = s->tasks[t].next;
        if (t == AF_NIL)
            return -1;
        n += body_ops(s, &s->tasks[t].body, inner + n);
    } else if (!af_op_has_body(o->kind)) {
        return -1;
    }
    int16_t ops[AF_MAX_OPS];
    int m = body_ops(s, b, ops);
    int pos = -1;
    for (int k = 0; k < m; k++)
        if (ops[k] == op)
            pos = k;
    if (pos < 0 || m - 1 + n > 2 * AF_MAX_OPS)
        return -1;
    int16_t out[3 * AF_MAX_OPS];
    int r = 0;
    for (int k = 0; k < pos; k++)
        out[r++] = ops[k];
    for (int k = 0; k < n; k++)
        out[r++] = inner[k];
    for (int k = pos + 1; k < m; k++)
        out[r++] = ops[k];
    if (r > AF_MAX_OPS)
        return -1;
    body_relink(s, b, out, r);
    return 0;
}

static int apply_one(af_scenario *s, const af_mutate_options *o, af_rng *rng, int *which)
{
    uint32_t total = 0;
    for (int k = 0; k < M_COUNT; k++)
        total += weights[k];
    uint32_t r = af_rng_below(rng, total);
    int m = 0;
    while (r >= weights[m]) {
        r -= weights[m];
        m++;
    }
    /* an empty scenario can only grow */
    if (s->nops == 0 && m != M_SPLICE)
        m = M_INSERT;
    *which = m;
    bool misuse = o->allow_misuse;
    switch (m) {
    case M_INSERT:
        return m_insert(s, o, rng);
    case M_DELETE:
        return m_delete(s, rng);
    case M_SWAP:
        return m_swap(s, rng);
    case M_MOVE:
        return m_move(s, rng);
    case M_DURATION:
        return m_duration(s, rng);
    case M_KIND:
        return m_kind(s, o, rng);
    case M_FIELD:
        return m_field(s, misuse, rng);
    case M_REF:
        return m_ref(s, rng);
    case M_WRAP:
        return m_wrap(s, misuse, rng);
    case M_UNWRAP:
        return m_unwrap(s, rng);
    case M_DUPLICATE:
        return m_duplicate(s, rng);
    case M_SPLICE:
        return m_splice(s, o->donor, rng);
    case M_ADD_CHILD:
        return m_add_child(s, rng);
    default:
        return -1;
    }
}

int af_mutate(af_scenario *s, const af_mutate_options *opts, af_rng *rng, const char **what)
{
    static _Thread_local af_scenario backup;
    af_mutate_options defaults = {0};
    const af_mutate_options *o = opts ? opts : &defaults;
    int stack = o->max_stack > 0 ? o->max_stack : 1 + (int)af_rng_below(rng, 4);
    /* prefer single mutations: a stack of k has probability ~ 1/2^(k-1) */
    if (o->max_stack <= 0)
        for (int k = 1; k < stack; k++)
            if (coin(rng, 2)) {
                stack = k;
                break;
            }
    int applied = 0;
    for (int k = 0; k < stack; k++) {
        for (int tries = 0; tries < 24; tries++) {
            backup = *s;
            int which = 0;
            int rc = apply_one(s, o, rng, &which);
            if (rc == 0)
                rc = compact(s, NULL, false);
            if (rc == 0 &&
                ((!o->allow_misuse && af_scenario_has_misuse(s)) ||
                 (!o->allow_loop_ops && af_scenario_has_loop_ops(s)) || !callback_bodies_ok(s)))
                rc = -1;
            if (rc == 0) {
                applied++;
                if (what)
                    *what = af_mutation_names[which];
                break;
            }
            *s = backup;
        }
    }
    return applied;
}

/* ---- byte-level mutation ---- */

size_t af_mutate_bytes(uint8_t *data, size_t len, size_t cap, af_rng *rng)
{
    static const uint8_t interesting[] = {0, 1, 2, 3, 4, 5, 0x7f, 0x80, 0x81, 0xfe, 0xff};
    int rounds = 1 + (int)af_rng_below(rng, 3);
    for (int r = 0; r < rounds; r++) {
        uint32_t op = af_rng_below(rng, 8);
        if (len == 0)
            op = 2;
        switch (op) {
        case 0: /* flip a bit */
            data[af_rng_below(rng, (uint32_t)len)] ^= (uint8_t)(1u << af_rng_below(rng, 8));
            break;
        case 1: /* an interesting value */
            data[af_rng_below(rng, (uint32_t)len)] =
                interesting[af_rng_below(rng, sizeof interesting)];
            break;
        case 2: { /* insert 1..4 bytes */
            size_t n = 1 + af_rng_below(rng, 4);
            if (len + n > cap)
                break;
            size_t at = af_rng_below(rng, (uint32_t)len + 1);
            memmove(data + at + n, data + at, len - at);
            for (size_t k = 0; k < n; k++)
                data[at + k] = coin(rng, 2) ? (uint8_t)af_rng_next(rng)
                                            : interesting[af_rng_below(rng, sizeof interesting)];
            len += n;
            break;
        }
        case 3: { /* erase a range */
            size_t at = af_rng_below(rng, (uint32_t)len);
            size_t n = 1 + af_rng_below(rng, (uint32_t)(len - at < 8 ? len - at : 8));
            memmove(data + at, data + at + n, len - at - n);
            len -= n;
            break;
        }
        case 4: /* increment / decrement */
            data[af_rng_below(rng, (uint32_t)len)] += coin(rng, 2) ? 1 : 0xff;
            break;
        case 5: { /* duplicate a range in place */
            size_t at = af_rng_below(rng, (uint32_t)len);
            size_t n = 1 + af_rng_below(rng, (uint32_t)(len - at < 16 ? len - at : 16));
            if (len + n > cap)
                break;
            size_t to = af_rng_below(rng, (uint32_t)len + 1);
            uint8_t tmp[16];
            memcpy(tmp, data + at, n);
            memmove(data + to + n, data + to, len - to);
            memcpy(data + to, tmp, n);
            len += n;
            break;
        }
        case 6: /* a random byte */
            data[af_rng_below(rng, (uint32_t)len)] = (uint8_t)af_rng_next(rng);
            break;
        default: { /* copy one byte over another */
            size_t a = af_rng_below(rng, (uint32_t)len), b = af_rng_below(rng, (uint32_t)len);
            data[b] = data[a];
            break;
        }
        }
    }
    return len;
}
