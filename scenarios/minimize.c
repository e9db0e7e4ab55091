/* minimize.c - IR-level shrinker (minimize.h).
 *
 * The state is one "best" scenario, always compact and valid. Each pass
 * builds candidates from a copy of best with the editing layer of
 * mutate.h, and `try_candidate` keeps the first one that is valid, no more
 * misused than the input, strictly smaller (ops + tasks + primitives,
 * then the sum of op depths, then shortlex on the name-normalised
 * encoding), not tried before, and still satisfies the predicate.
 */
#include "scenarios/minimize.h"
#include "base/hash.h"

#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/mutate.h"
#include "scenarios/ops.h"

void af_minimize_default_names(af_scenario *s)
{
    int counts[AF_BYTES_NAME_HANDLE + 1] = {0}; /* by af_bytes_name_kind */
    const uint32_t named = AF_SHAPE_NAMED | AF_SHAPE(AF_FC_RESOURCE);
    for (int i = 0; i < s->nprims; i++)
        af_bytes_default_prim_name(s->prims[i].name, s->prims[i].kind, i);
    for (int t = 0; t < s->ntasks; t++)
        af_bytes_default_name(s->tasks[t].name, AF_BYTES_NAME_TASK, t);
    for (int i = 0; i < s->nops; i++) {
        const af_op_spec *spec = af_op_spec_of(s->ops[i].kind);
        for (int j = 0; j < spec->nfields && (spec->shape & named); j++) {
            const af_field *f = &spec->fields[j];
            if (!(AF_SHAPE(f->codec) & named))
                continue;
            int what = af_bytes_name_kind(f->codec);
            af_bytes_default_name(AF_FIELD_PTR(char, &s->ops[i], f), what, counts[what]++);
        }
    }
}

size_t af_scenario_encoded_size(const af_scenario *s)
{
    static _Thread_local uint8_t buf[AF_ENCODE_MAX_BYTES];
    size_t len = 0;
    if (af_encode(s, AF_DRAW_ALL, buf, sizeof buf, &len, NULL) != 0)
        return 0;
    return len;
}

/* ---- the shrinker's state ---- */

#define SEEN_SLOTS 8192

typedef struct shrinker {
    af_minimize_pred pred;
    void *ctx;
    af_scenario best;
    uint8_t best_key[AF_ENCODE_MAX_BYTES];
    size_t best_len;
    int64_t best_size;
    af_scenario cand;
    uint8_t cand_key[AF_ENCODE_MAX_BYTES];
    size_t cand_len;
    int64_t cand_size;
    bool allow_misuse; /* the input had misuse */
    int calls, max_calls, accepted;
    uint64_t seen[SEEN_SLOTS];
} shrinker;

/* Insert h; returns true when it was already there. */
static bool seen_insert(shrinker *k, uint64_t h)
{
    size_t i = (size_t)(h % SEEN_SLOTS);
    for (size_t n = 0; n < SEEN_SLOTS; n++, i = (i + 1) % SEEN_SLOTS) {
        if (k->seen[i] == h)
            return true;
        if (k->seen[i] == 0) {
            k->seen[i] = h;
            return false;
        }
    }
    return false; /* full: behave as unseen */
}

/* The order key of s: its encoding with default names. */
static int key_of(const af_scenario *s, uint8_t *key, size_t *len)
{
    static _Thread_local af_scenario tmp;
    tmp = *s;
    af_minimize_default_names(&tmp);
    return af_encode(&tmp, AF_DRAW_ALL, key, AF_ENCODE_MAX_BYTES, len, NULL);
}

/* Sum over ops of their depth (root body = 1); s compact (pre-order). */
static int depth_sum(const af_scenario *s)
{
    int depth[AF_MAX_OPS], sum = 0;
    for (int i = 0; i < s->nops; i++) {
        const af_op *o = &s->ops[i];
        int owner =
            o->parent != AF_NIL ? o->parent : (o->task > 0 ? s->tasks[o->task].parent : AF_NIL);
        depth[i] = (owner >= 0 && owner < i) ? depth[owner] + 1 : 1;
        sum += depth[i];
    }
    return sum;
}

/* The order: number of ops, tasks and primitives; then the depth sum
 * (lifting an op out of its enclosing op keeps the count); then the op
 * kinds in pre-order (a lower kind is simpler); then shortlex
 * on the encoding (the encoder trims trailing zero bytes, so moving ops can
 * change the length: it only decides between same-shaped scenarios).
 * Well-founded: every accepted candidate is strictly smaller. */
static int64_t size_of(const af_scenario *s, int depth)
{
    return (int64_t)(s->nops + s->ntasks + s->nprims) * 100000 + depth;
}

/* Op kinds in pre-order: a lower kind is a simpler one (sleep first). */
static int kinds_cmp(const af_scenario *a, const af_scenario *b)
{
    for (int i = 0; i < a->nops && i < b->nops; i++)
        if (a->ops[i].kind != b->ops[i].kind)
            return a->ops[i].kind < b->ops[i].kind ? -1 : 1;
    return 0;
}

static bool key_less(const uint8_t *a, size_t alen, int64_t asize, const uint8_t *b, size_t blen,
                     int64_t bsize, int kinds)
{
    if (asize != bsize)
        return asize < bsize;
    if (kinds != 0)
        return kinds < 0;
    if (alen != blen)
        return alen < blen;
    return memcmp(a, b, alen) < 0;
}

static bool out_of_budget(const shrinker *k)
{
    return k->calls >= k->max_calls;
}

/* Compact k->cand and keep it as the new best if it qualifies. */
static bool try_candidate(shrinker *k)
{
    if (out_of_budget(k))
        return false;
    if (af_ir_compact(&k->cand, NULL) != 0)
        return false;
    if (!k->allow_misuse && af_scenario_has_misuse(&k->cand))
        return false;
    if (key_of(&k->cand, k->cand_key, &k->cand_len) != 0)
        return false;
    k->cand_size = size_of(&k->cand, depth_sum(&k->cand));
    if (!key_less(k->cand_key, k->cand_len, k->cand_size, k->best_key, k->best_len, k->best_size,
                  kinds_cmp(&k->cand, &k->best)))
        return false;
    /* the key ignores names; the exact candidate is what runs */
    uint64_t h = af_fnv64(k->cand_key, k->cand_len) | 1;
    for (int t = 0; t < k->cand.ntasks; t++)
        h ^= (af_fnv64((const uint8_t *)k->cand.tasks[t].name, strlen(k->cand.tasks[t].name)) | 1) *
             (uint64_t)(t + 1);
    if (seen_insert(k, h | 1))
        return false;
    k->calls++;
    if (!k->pred(&k->cand, k->ctx))
        return false;
    k->best = k->cand;
    memcpy(k->best_key, k->cand_key, k->cand_len);
    k->best_len = k->cand_len;
    k->best_size = k->cand_size;
    k->accepted++;
    return true;
}

static void start(shrinker *k)
{
    k->cand = k->best;
}

/* ---- passes ---- */

/* Subtree size of every op of s (ops and tasks under it). */
static void subtree_sizes(const af_scenario *s, int *size)
{
    /* arrays are in pre-order: a parent has a smaller index than its
     * descendants, so accumulate from the end */
    for (int i = 0; i < s->nops; i++)
        size[i] = 1;
    for (int i = s->nops - 1; i >= 0; i--) {
        const af_op *o = &s->ops[i];
        int parent = o->parent;
        if (parent == AF_NIL && o->task > 0)
            parent = s->tasks[o->task].parent;
        if (parent != AF_NIL && parent >= 0 && parent < s->nops)
            size[parent] += size[i];
    }
}

/* Ops ordered by subtree size, biggest first (stable on pre-order). */
static int ops_by_size(const af_scenario *s, int16_t *order)
{
    int size[AF_MAX_OPS];
    subtree_sizes(s, size);
    int n = s->nops;
    for (int i = 0; i < n; i++)
        order[i] = (int16_t)i;
    for (int i = 1; i < n; i++) { /* insertion sort: n <= 64 */
        int16_t v = order[i];
        int j = i - 1;
        while (j >= 0 && size[order[j]] < size[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    return n;
}

static bool pass_delete_ops(shrinker *k)
{
    bool progress = false;
    for (int rank = 0; !out_of_budget(k); rank++) {
        int16_t order[AF_MAX_OPS];
        int n = ops_by_size(&k->best, order);
        if (rank >= n)
            break;
        start(k);
        af_ir_unlink(&k->cand, order[rank]);
        if (try_candidate(k)) {
            progress = true;
            rank--; /* the same rank now names another op */
        }
    }
    /* runs of adjacent ops: a body whose ops only go together */
    for (int i = 0; !out_of_budget(k) && i < k->best.nops; i++) {
        for (int len = 2; len <= 4 && !out_of_budget(k); len++) {
            start(k);
            af_body *b = af_ir_body_of(&k->cand, i);
            if (!b)
                break;
            int pos = af_ir_position(&k->cand, i);
            if (pos < 0 || pos + len > b->count)
                break;
            int16_t run[4];
            int cur = i;
            for (int j = 0; j < len; j++, cur = k->cand.ops[cur].next)
                run[j] = (int16_t)cur;
            for (int j = 0; j < len; j++)
                af_ir_unlink(&k->cand, run[j]);
            if (try_candidate(k)) {
                progress = true;
                i--;
                break;
            }
        }
    }
    return progress;
}

static void tasklist_remove(af_scenario *s, af_tasklist *l, int t)
{
    int16_t keep[AF_MAX_TASKS];
    int n = 0;
    for (int c = l->head; c != AF_NIL && n < AF_MAX_TASKS; c = s->tasks[c].next)
        if (c != t)
            keep[n++] = (int16_t)c;
    l->head = l->tail = AF_NIL;
    l->count = 0;
    for (int i = 0; i < n; i++) {
        s->tasks[keep[i]].next = AF_NIL;
        if (l->tail == AF_NIL)
            l->head = keep[i];
        else
            s->tasks[l->tail].next = keep[i];
        l->tail = keep[i];
        l->count++;
    }
}

static bool pass_delete_tasks(shrinker *k)
{
    bool progress = false;
    for (int t = 1; t < k->best.ntasks && !out_of_budget(k); t++) {
        int owner = k->best.tasks[t].parent;
        if (owner < 0 || owner >= k->best.nops)
            continue;
        if (af_op_kind_has(k->best.ops[owner].kind, AF_FC_ONE_TASK))
            continue; /* deleting the op does it */
        start(k);
        tasklist_remove(&k->cand, &k->cand.ops[owner].children, t);
        if (try_candidate(k)) {
            progress = true;
            t--;
        }
    }
    return progress;
}

static bool pass_hoist(shrinker *k)
{
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *o = &k->best.ops[i];
        if (!af_op_has_body(o->kind) && !af_op_has_children(o->kind))
            continue;
        int variants = (af_op_has_body(o->kind) ? 1 : 0) + o->children.count;
        if (af_op_has_children(o->kind) && af_op_has_body(o->kind)) /* a task group */
            variants = 2 * (o->children.count > 0 ? o->children.count : 1);
        for (int w = 0; w < variants && !out_of_budget(k); w++) {
            start(k);
            if (af_ir_hoist(&k->cand, i, w) != 0)
                continue;
            if (try_candidate(k)) {
                progress = true;
                i--;
                break;
            }
        }
    }
    return progress;
}

/* Set ticks of the ops in `ops` to v. */
static void set_ticks(af_scenario *s, const int16_t *ops, int n, int32_t v)
{
    for (int j = 0; j < n; j++)
        s->ops[ops[j]].ticks = (v == AF_NONE && !af_ir_ticks_optional(s->ops[ops[j]].kind)) ? 0 : v;
}

/* Lower the durations of `ops` (all equal to cur > 0) together. */
static bool lower_ticks(shrinker *k, const int16_t *ops, int n, int32_t cur)
{
    bool optional = true;
    int32_t floor_v = 0;
    for (int j = 0; j < n; j++) {
        af_op_kind kind = k->best.ops[ops[j]].kind;
        if (!af_ir_ticks_optional(kind))
            optional = false;
        if (af_op_kind_has(kind, AF_FC_TICKS_POSITIVE))
            floor_v = 1;
    }
    if (optional && cur != AF_NONE) {
        start(k);
        set_ticks(&k->cand, ops, n, AF_NONE);
        if (try_candidate(k))
            return true;
    }
    if (cur <= floor_v)
        return false;
    start(k);
    set_ticks(&k->cand, ops, n, floor_v);
    if (try_candidate(k))
        return true;
    /* binary search: lo fails, hi holds */
    int32_t lo = floor_v, hi = cur;
    bool progress = false;
    while (hi - lo > 1 && !out_of_budget(k)) {
        int32_t mid = lo + (hi - lo) / 2;
        start(k);
        set_ticks(&k->cand, ops, n, mid);
        if (try_candidate(k)) {
            hi = mid;
            progress = true;
        } else {
            lo = mid;
        }
    }
    if (!progress && cur - 1 > floor_v) { /* not monotone: one step down */
        start(k);
        set_ticks(&k->cand, ops, n, cur - 1);
        progress = try_candidate(k);
    }
    return progress;
}

static bool pass_durations(shrinker *k)
{
    bool progress = false;
    /* equal durations together first: they make events coincide */
    int32_t done[AF_MAX_OPS];
    int ndone = 0;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *o = &k->best.ops[i];
        if (!af_ir_has_ticks(o->kind) || o->ticks <= 0)
            continue;
        int32_t v = o->ticks;
        bool again = false;
        for (int j = 0; j < ndone; j++)
            again |= done[j] == v;
        if (again)
            continue;
        done[ndone++] = v;
        int16_t group[AF_MAX_OPS];
        int n = 0;
        for (int j = 0; j < k->best.nops; j++)
            if (af_ir_has_ticks(k->best.ops[j].kind) && k->best.ops[j].ticks == v)
                group[n++] = (int16_t)j;
        if (n >= 2 && lower_ticks(k, group, n, v)) {
            progress = true;
            ndone = 0;
            i = -1; /* values changed: start over */
        }
    }
    /* then each duration alone */
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *o = &k->best.ops[i];
        if (!af_ir_has_ticks(o->kind) || o->ticks == AF_NONE)
            continue;
        int16_t one = (int16_t)i;
        if (lower_ticks(k, &one, 1, o->ticks))
            progress = true;
    }
    return progress;
}

/* The simplifications of one field, toward its default: each step that
 * applies counts one; step number `which` (counting across the op's
 * fields) is done and true returned when it is reached (*n counts). */
static bool simplify_step(af_op *o, const af_field *f, int which, int *n)
{
#define STEP(cond, action)                                                                         \
    do {                                                                                           \
        if (cond) {                                                                                \
            if (*n == which) {                                                                     \
                action;                                                                            \
                return true;                                                                       \
            }                                                                                      \
            (*n)++;                                                                                \
        }                                                                                          \
    } while (0)
    switch (f->codec) {
    case AF_FC_VALUE:
    case AF_FC_COUNT:
    case AF_FC_NOTIFY_N:
    case AF_FC_BOOL: {
        int32_t dflt = af_field_default(f);
        STEP(af_field_int(o, f) != dflt, af_field_set_int(o, f, dflt));
        break;
    }
    case AF_FC_ENUM: { /* to the first value, else to the second */
        int *v = AF_FIELD_PTR(int, o, f);
        STEP(*v != 0, *v = 0);
        STEP(*v > 1, *v = 1);
        break;
    }
    case AF_FC_EXC:
    case AF_FC_RAISE: {
        af_exc *e = AF_FIELD_PTR(af_exc, o, f);
        bool present = f->codec == AF_FC_EXC || af_cond_holds(&f->when, o);
        STEP(present && e->kind != AF_EXC_APP, e->kind = AF_EXC_APP);
        STEP(present && e->id != 0, e->id = 0);
        break;
    }
    case AF_FC_MSG:
        STEP(o->has_msg, (o->has_msg = false, o->msg[0] = '\0'));
        break;
    case AF_FC_GROUP_REF:
        STEP(o->ref != AF_NIL, o->ref = AF_NIL);
        break;
    case AF_FC_FINALLY:
        STEP(o->has_finally,
             (o->has_finally = false, o->finally_body.head = o->finally_body.tail = AF_NIL,
              o->finally_body.count = 0));
        break;
    default: /* durations: pass_durations; names: pass_names; keep: misuse stays */
        break;
    }
#undef STEP
    return false;
}

/* One simplification of op o's fields, numbered in draw order; returns
 * false when the number is past the last one for this op (o unchanged). */
static bool simplify_field(af_op *o, int which)
{
    const af_field *order[AF_OP_MAX_FIELDS];
    int nf = af_op_draw_order(af_op_spec_of(o->kind), order), n = 0;
    for (int j = 0; j < nf; j++)
        if (simplify_step(o, order[j], which, &n))
            return true;
    return false;
}

static bool pass_fields(shrinker *k)
{
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        for (int w = 0; w < 8 && !out_of_budget(k); w++) {
            start(k);
            if (!simplify_field(&k->cand.ops[i], w))
                break;
            if (try_candidate(k)) {
                progress = true;
                w = -1; /* numbering changed: start over on this op */
            }
        }
    }
    /* primitive parameters */
    for (int p = 0; p < k->best.nprims && !out_of_budget(k); p++) {
        const af_primitive *pr = &k->best.prims[p];
        int32_t want = pr->kind == AF_PRIM_SEMAPHORE ? 1 : 0;
        if (pr->param == want)
            continue;
        start(k);
        k->cand.prims[p].param = want;
        if (try_candidate(k))
            progress = true;
    }
    return progress;
}

/* Replace an op's kind by a simpler one of the same shape: ops owning
 * tasks -> spawn (one task) or gather; a task group without a body ->
 * gather / spawn; ops owning a body -> wait_for (timeout None) or try
 * (no handler). The order check keeps only those that encode smaller. */
static bool change_kind(af_scenario *s, int i, af_op_kind nk)
{
    af_op *o = &s->ops[i];
    if (o->kind == nk)
        return false;
    af_op saved = *o;
    af_op_init(o, nk);
    o->next = saved.next;
    o->parent = saved.parent;
    o->task = saved.task;
    if (af_op_has_children(nk))
        o->children = saved.children;
    if (af_op_has_body(nk))
        o->body = saved.body;
    return true;
}

static bool pass_kinds(shrinker *k)
{
    static const af_op_kind task_kinds[] = {AF_OP_SPAWN, AF_OP_GATHER};
    static const af_op_kind body_kinds[] = {AF_OP_WAIT_FOR, AF_OP_TRY};
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *o = &k->best.ops[i];
        const af_op_kind *list = NULL;
        int n = 0;
        if (af_op_has_children(o->kind) && o->body.count == 0) {
            list = task_kinds;
            n = 2;
        } else if (af_op_has_body(o->kind) && !af_op_has_children(o->kind)) {
            list = body_kinds;
            n = 2;
        }
        for (int j = 0; j < n && !out_of_budget(k); j++) {
            if (af_op_kind_has(list[j], AF_FC_ONE_TASK) && o->children.count != 1)
                continue;
            start(k);
            if (!change_kind(&k->cand, i, list[j]))
                continue;
            if (try_candidate(k)) {
                progress = true;
                break;
            }
        }
    }
    return progress;
}

/* Two sleeps in a row become one sleep of the sum (the same timer end). */
static bool pass_merge_sleeps(shrinker *k)
{
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *a = &k->best.ops[i];
        int j = a->next;
        if (a->kind != AF_OP_SLEEP || j == AF_NIL || k->best.ops[j].kind != AF_OP_SLEEP)
            continue;
        int64_t sum = (int64_t)a->ticks + k->best.ops[j].ticks;
        if (sum > AF_MAX_TICKS)
            continue;
        start(k);
        k->cand.ops[i].ticks = (int32_t)sum;
        af_ir_unlink(&k->cand, j);
        if (try_candidate(k)) {
            progress = true;
            i--;
        }
    }
    return progress;
}

/* Swap adjacent ops when that encodes smaller (a canonical order). */
static bool pass_reorder(shrinker *k)
{
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        int j = k->best.ops[i].next;
        if (j == AF_NIL)
            continue;
        start(k);
        af_body *b = af_ir_body_of(&k->cand, i);
        if (!b)
            continue;
        int pos = af_ir_position(&k->cand, i);
        af_ir_unlink(&k->cand, i);
        af_ir_insert(&k->cand, b, pos + 1, i);
        if (try_candidate(k))
            progress = true;
    }
    return progress;
}

/* Lift an op out of its enclosing op (or out of its task, to the body
 * holding the op that owns the task), right after it. */
static bool pass_lift(shrinker *k)
{
    bool progress = false;
    for (int i = 0; i < k->best.nops && !out_of_budget(k); i++) {
        const af_op *o = &k->best.ops[i];
        int owner = o->parent != AF_NIL ? o->parent
                                        : (o->task > 0 ? k->best.tasks[o->task].parent : AF_NIL);
        if (owner == AF_NIL)
            continue;
        start(k);
        af_body *to = af_ir_body_of(&k->cand, owner);
        int pos = af_ir_position(&k->cand, owner);
        if (!to || pos < 0)
            continue;
        af_ir_unlink(&k->cand, i);
        af_ir_insert(&k->cand, to, pos + 1, i);
        if (try_candidate(k))
            progress = true;
    }
    return progress;
}

static bool pass_primitives(shrinker *k)
{
    bool used[AF_MAX_PRIMITIVES] = {false};
    bool any_unused = false;
    for (int i = 0; i < k->best.nops; i++)
        if (af_op_prim_kind(k->best.ops[i].kind) >= 0 && k->best.ops[i].ref >= 0 &&
            k->best.ops[i].ref < AF_MAX_PRIMITIVES)
            used[k->best.ops[i].ref] = true;
    for (int p = 0; p < k->best.nprims; p++)
        any_unused |= !used[p];
    if (!any_unused || out_of_budget(k))
        return false;
    start(k);
    if (af_ir_compact(&k->cand, used) != 0)
        return false;
    return try_candidate(k);
}

/* Default names: not smaller in the order (names are left out of it), so
 * tried directly. */
static void pass_names(shrinker *k)
{
    if (out_of_budget(k))
        return;
    start(k);
    af_minimize_default_names(&k->cand);
    af_error err;
    if (af_scenario_validate(&k->cand, &err) != 0 || af_scenario_equal(&k->cand, &k->best))
        return;
    k->calls++;
    if (k->pred(&k->cand, k->ctx)) {
        k->best = k->cand;
        k->accepted++;
    }
}

int af_minimize(const af_scenario *in, af_minimize_pred pred, void *ctx, af_scenario *out,
                af_minimize_stats *stats)
{
    static _Thread_local shrinker k;
    af_minimize_stats local = {0};
    if (!stats)
        stats = &local;
    int max_calls = stats->max_calls > 0 ? stats->max_calls : AF_MINIMIZE_DEFAULT_CALLS;
    memset(stats, 0, sizeof *stats);
    stats->max_calls = max_calls;
    *out = *in;
    stats->ops_before = stats->ops_after = in->nops;
    stats->tasks_before = stats->tasks_after = in->ntasks;
    stats->bytes_before = stats->bytes_after = af_scenario_encoded_size(in);

    af_error err;
    if (af_scenario_validate(in, &err) != 0)
        return -1;
    memset(&k, 0, sizeof k);
    k.pred = pred;
    k.ctx = ctx;
    k.max_calls = max_calls;
    k.allow_misuse = af_scenario_has_misuse(in);
    k.best = *in;
    /* compact first: a hand-written file may not be in pre-order */
    if (af_ir_compact(&k.best, NULL) != 0)
        k.best = *in;
    k.calls = 1;
    if (!pred(&k.best, ctx)) {
        stats->calls = 1;
        return -1;
    }
    if (key_of(&k.best, k.best_key, &k.best_len) != 0) {
        stats->calls = 1;
        return -1;
    }
    k.best_size = size_of(&k.best, depth_sum(&k.best));
    int rounds = 0;
    for (;;) {
        rounds++;
        bool progress = false;
        progress |= pass_delete_ops(&k);
        progress |= pass_delete_tasks(&k);
        progress |= pass_hoist(&k);
        progress |= pass_kinds(&k);
        progress |= pass_merge_sleeps(&k);
        progress |= pass_primitives(&k);
        progress |= pass_durations(&k);
        progress |= pass_fields(&k);
        progress |= pass_reorder(&k);
        progress |= pass_lift(&k);
        if (!progress || out_of_budget(&k))
            break;
    }
    pass_names(&k);
    *out = k.best;
    memcpy(out->description, in->description, sizeof out->description);
    memcpy(out->expect, in->expect, sizeof out->expect);
    out->nexpect = in->nexpect;
    stats->calls = k.calls;
    stats->accepted = k.accepted;
    stats->rounds = rounds;
    stats->budget_exhausted = out_of_budget(&k);
    stats->ops_after = out->nops;
    stats->tasks_after = out->ntasks;
    stats->bytes_after = af_scenario_encoded_size(out);
    return 0;
}
