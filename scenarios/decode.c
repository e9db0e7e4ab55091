/* decode.c - fuzz bytes -> scenario IR (total). The format is described in
 * scenarios/BYTES.md; encode.c is its mirror image and must stay in step:
 * every draw here has exactly one write there, in the same order. */
#include <stdio.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/ops.h"

/* ---- Shared tables (also used by encode.c) ---- */

const char af_bytes_name_alpha[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

const char af_bytes_msg_alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  " _-.,:;!?'()[]{}<>=+*/%&|^~@#$`";

/* Compile-time checks that the alphabets have the sizes the format uses. */
_Static_assert(sizeof af_bytes_name_alpha - 1 == AF_BYTES_NAME_REST, "name alphabet");
_Static_assert(sizeof af_bytes_msg_alpha - 1 == AF_BYTES_MSG_CHARS, "msg alphabet");

/* How each kind enters the op-kind choice list (from ops.def's flags). */
enum { CHOICE_ALWAYS, CHOICE_MISUSE, CHOICE_SYNC, CHOICE_LOOP };
static const uint8_t choice_of[AF_OP_KIND_COUNT] = {
#define OP(kind, json, flags, doc, fields)                                                         \
    [AF_OP_##kind] = ((flags)&AF_OPF_MISUSE) ? CHOICE_MISUSE                                       \
                     : ((flags) >> 4)        ? CHOICE_SYNC                                         \
                     : ((flags)&AF_OPF_LOOP) ? CHOICE_LOOP                                         \
                                             : CHOICE_ALWAYS,
#define F(...)
#include "scenarios/ops.def"
#undef OP
#undef F
};

unsigned af_draw_needed(const af_scenario *s)
{
    return (af_scenario_has_misuse(s) ? AF_DRAW_MISUSE : 0u) |
           (af_scenario_has_loop_ops(s) ? AF_DRAW_LOOP : 0u);
}

/* Whether the draw flags let kind k be drawn at all. */
static bool drawable(unsigned draw, int k)
{
    return choice_of[k] == CHOICE_MISUSE ? (draw & AF_DRAW_MISUSE) != 0
           : choice_of[k] == CHOICE_LOOP ? (draw & AF_DRAW_LOOP) != 0
                                         : true;
}

int af_bytes_kind_list(unsigned draw, int nprims, af_op_kind list[AF_OP_KIND_COUNT])
{
    int n = 0;
    bool sync_entry = false;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        if (choice_of[k] == CHOICE_SYNC) {
            if (!sync_entry && nprims > 0)
                list[n++] = (af_op_kind)k; /* the one "sync" entry */
            sync_entry = true;
        } else if (drawable(draw, k)) {
            list[n++] = (af_op_kind)k;
        }
    }
    return n;
}

int af_bytes_callback_kind_list(unsigned draw, unsigned prim_kinds,
                                af_op_kind list[AF_OP_KIND_COUNT])
{
    int n = 0;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        int pk = af_op_needs((af_op_kind)k);
        if ((af_op_specs[k].flags & AF_OPF_NOWAIT) && drawable(draw, k) &&
            (pk < 0 || (prim_kinds >> pk) & 1u))
            list[n++] = (af_op_kind)k;
    }
    return n;
}

int af_bytes_sync_ops(af_prim_kind pk, af_op_kind list[AF_OP_KIND_COUNT])
{
    int n = 0;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (af_op_needs((af_op_kind)k) == (int)pk)
            list[n++] = (af_op_kind)k;
    return n;
}

int af_bytes_name_kind(int codec)
{
    switch (codec) {
    case AF_FC_GROUP_NAME:
        return AF_BYTES_NAME_GROUP;
    case AF_FC_TIMEOUT_NAME:
        return AF_BYTES_NAME_TIMEOUT;
    case AF_FC_HANDLE_NAME:
        return AF_BYTES_NAME_HANDLE;
    default:
        return AF_BYTES_NAME_HOLD;
    }
}

void af_bytes_default_name(char *buf, int what, int index)
{
    af_field_codec codec = what == AF_BYTES_NAME_GROUP     ? AF_FC_GROUP_NAME
                           : what == AF_BYTES_NAME_TIMEOUT ? AF_FC_TIMEOUT_NAME
                           : what == AF_BYTES_NAME_HANDLE  ? AF_FC_HANDLE_NAME
                                                           : AF_FC_RESOURCE;
    if (what == AF_BYTES_NAME_TASK && index == 0)
        snprintf(buf, AF_MAX_NAME + 1, "main");
    else if (what == AF_BYTES_NAME_TASK)
        snprintf(buf, AF_MAX_NAME + 1, "t%d", index);
    else
        snprintf(buf, AF_MAX_NAME + 1, "%s%d", af_name_prefix(codec), index);
}

void af_bytes_default_prim_name(char *buf, af_prim_kind kind, int index)
{
    static const char *const names[AF_PRIM_COUNT] = {"event", "lock", "condition", "semaphore",
                                                     "queue"};
    const char *k = (kind >= 0 && kind < AF_PRIM_COUNT) ? names[kind] : "prim";
    snprintf(buf, AF_MAX_NAME + 1, "%s%d", k, index);
}

/* ---- Decoder ---- */

typedef struct dec {
    const uint8_t *data;
    size_t size, pos;
    bool misuse;
    af_scenario *s;
    int64_t used;                       /* ticks drawn so far (the AF_MAX_TOTAL_TICKS budget) */
    int nnamed[4];                      /* default-name counters, by af_bytes_name_kind - 1 */
    int raw_refs;                       /* references drawn, to resolve at the end */
    af_op_kind kinds[AF_OP_KIND_COUNT]; /* the op-kind choice list */
    int nkinds;
    af_op_kind cb_kinds[AF_OP_KIND_COUNT]; /* the one in a callback's body */
    int ncb_kinds;
} dec;

/* One choice: the next byte, 0 past the end. */
static uint8_t draw(dec *d)
{
    return d->pos < d->size ? d->data[d->pos++] : 0;
}

/* "One more?" of a repeated structure. */
static bool more(dec *d)
{
    return (draw(d) & 3) != 0;
}

static bool flag(dec *d)
{
    return draw(d) != 0;
}

static bool boolean(dec *d)
{
    return (draw(d) & 1) != 0;
}

static int32_t raw_ticks(dec *d)
{
    int32_t b = draw(d);
    if (b < 128)
        return b;
    return 128 + (((b - 128) << 8) | draw(d));
}

static int32_t clamp_ticks(dec *d, int32_t v)
{
    int64_t rem = AF_MAX_TOTAL_TICKS - d->used;
    if (v > AF_MAX_TICKS)
        v = AF_MAX_TICKS;
    if (v > rem)
        v = (int32_t)rem;
    d->used += v;
    return v;
}

static int32_t draw_ticks(dec *d)
{
    return clamp_ticks(d, raw_ticks(d));
}

static int32_t draw_opt_ticks(dec *d)
{
    if (!flag(d))
        return AF_NONE;
    return draw_ticks(d);
}

static void draw_exc(dec *d, af_exc *e)
{
    e->kind = (af_exc_kind)(draw(d) % AF_EXC_KIND_COUNT);
    e->id = draw(d);
}

/* A custom name: length, then chars; always a valid identifier (it may be
 * "self", which the callers reject). */
static void draw_custom_name(dec *d, char *out)
{
    int len = 1 + draw(d) % AF_MAX_NAME;
    out[0] = af_bytes_name_alpha[draw(d) % AF_BYTES_NAME_FIRST];
    for (int i = 1; i < len; i++)
        out[i] = af_bytes_name_alpha[draw(d) % AF_BYTES_NAME_REST];
    out[len] = '\0';
}

/* Whether `name` is free in the one namespace of tasks, task groups,
 * timeouts, handles and primitives (entities not named yet have ""). */
static bool name_free(const af_scenario *s, const char *name)
{
    if (strcmp(name, "self") == 0)
        return false;
    for (int i = 0; i < s->ntasks; i++)
        if (strcmp(s->tasks[i].name, name) == 0)
            return false;
    for (int i = 0; i < s->nprims; i++)
        if (strcmp(s->prims[i].name, name) == 0)
            return false;
    for (int i = 0; i < s->nops; i++)
        if ((af_op_specs[s->ops[i].kind].shape & AF_SHAPE_NAMED) &&
            strcmp(s->ops[i].name, name) == 0)
            return false;
    return true;
}

/* A namespace name: flag 0 = the default, else a custom name. On a
 * collision: the default, then "<default>_1", "<default>_2", ... (at most
 * AF_MAX_TASKS + AF_MAX_OPS + AF_MAX_PRIMITIVES names exist, so one of the
 * first that many + 1 candidates is free). */
static void draw_name(dec *d, char *out, const char *def)
{
    /* built aside: `out` may be the slot being named, and must stay ""
     * while the namespace is searched */
    char name[AF_MAX_NAME + 1];
    if (flag(d))
        draw_custom_name(d, name);
    else
        snprintf(name, sizeof name, "%s", def);
    if (!name_free(d->s, name)) {
        snprintf(name, sizeof name, "%s", def);
        for (int n = 1;
             !name_free(d->s, name) && n <= AF_MAX_TASKS + AF_MAX_OPS + AF_MAX_PRIMITIVES + 1; n++)
            snprintf(name, sizeof name, "%s_%d", def, n);
    }
    memcpy(out, name, sizeof name);
}

static void decode_body(dec *d, af_body *body, int task, int parent, int depth);

/* One task appended to `list` (owned by op `parent_op`); its body is at
 * `depth`. The caller has checked the task budget. */
static void decode_task(dec *d, af_tasklist *list, int parent_op, int depth)
{
    af_scenario *s = d->s;
    char def[AF_MAX_NAME + 1], name[AF_MAX_NAME + 1];
    af_bytes_default_name(def, AF_BYTES_NAME_TASK, s->ntasks);
    draw_name(d, name, def);
    int t = af_scenario_add_task(s, list, name, parent_op);
    if (t == AF_NIL)
        return; /* unreachable: the budget was checked */
    decode_body(d, &s->tasks[t].body, t, AF_NIL, depth);
}

/* children: while more, one task (a more-byte at the task limit is read and
 * treated as stop). */
static void decode_children(dec *d, int op, int depth)
{
    af_scenario *s = d->s;
    while (more(d) && s->ntasks < AF_MAX_TASKS)
        decode_task(d, &s->ops[op].children, op, depth);
}

/* ENUM: byte % count; with misuse off where the field's misuse rule
 * applies, the misuse value is left out of the choices. */
static int draw_enum(dec *d, const af_op *op, const af_field *f)
{
    int count = af_value_count((af_value_list)f->values);
    if (d->misuse || !af_cond_holds(&f->misuse_if, op))
        return draw(d) % count;
    int i = draw(d) % (count - 1);
    return i < f->misuse ? i : i + 1;
}

/* RAISE: drawn when present; with misuse off in a CancelledError handler it
 * must stay a CancelledError: only the id is drawn. */
static void draw_raise(dec *d, af_op *op, const af_field *f)
{
    if (!af_cond_holds(&f->when, op))
        return;
    af_exc *e = AF_FIELD_PTR(af_exc, op, f);
    if (d->misuse || !af_cond_holds(&f->misuse_if, op)) {
        draw_exc(d, e);
        return;
    }
    e->kind = AF_EXC_CANCELLED_SUBCLASS;
    e->id = draw(d);
}

static void draw_msg(dec *d, af_op *op)
{
    op->has_msg = flag(d);
    if (!op->has_msg)
        return;
    int len = draw(d) % (AF_MAX_MSG + 1);
    for (int c = 0; c < len; c++)
        op->msg[c] = af_bytes_msg_alpha[draw(d) % AF_BYTES_MSG_CHARS];
    op->msg[len] = '\0';
}

/* GROUP_NAME, TIMEOUT_NAME: a namespace name; RESOURCE: the same drawing,
 * no uniqueness, a custom "self" is the default. */
static void draw_op_name(dec *d, af_op *op, const af_field *f)
{
    char def[AF_MAX_NAME + 1];
    int what = af_bytes_name_kind(f->codec);
    af_bytes_default_name(def, what, d->nnamed[what - 1]++);
    char *name = AF_FIELD_PTR(char, op, f);
    if (f->codec != AF_FC_RESOURCE) {
        draw_name(d, name, def);
        return;
    }
    if (flag(d))
        draw_custom_name(d, name);
    if (name[0] == '\0' || strcmp(name, "self") == 0)
        snprintf(name, AF_MAX_NAME + 1, "%s", def);
}

/* A field drawn before the op's tasks and bodies. */
static void draw_scalar(dec *d, af_op *op, const af_field *f, int prim)
{
    switch (f->codec) {
    case AF_FC_TICKS:
        *AF_FIELD_PTR(int32_t, op, f) = draw_ticks(d);
        break;
    case AF_FC_TICKS_POSITIVE:
        *AF_FIELD_PTR(int32_t, op, f) = clamp_ticks(d, 1 + raw_ticks(d));
        break;
    case AF_FC_OPT_TICKS:
        *AF_FIELD_PTR(int32_t, op, f) = draw_opt_ticks(d);
        break;
    case AF_FC_VALUE:
    case AF_FC_COUNT: {
        af_range range = af_codec_range((af_field_codec)f->codec);
        *AF_FIELD_PTR(int32_t, op, f) = range.lo + draw(d) % (range.hi - range.lo + 1);
        break;
    }
    case AF_FC_NOTIFY_N: {
        int v = draw(d) % (AF_MAX_SMALL + 1);
        *AF_FIELD_PTR(int32_t, op, f) = v < AF_MAX_SMALL ? v + 1 : AF_NONE;
        break;
    }
    case AF_FC_BOOL:
        *AF_FIELD_PTR(bool, op, f) = boolean(d);
        break;
    case AF_FC_KEEP:
        *AF_FIELD_PTR(bool, op, f) = d->misuse ? !boolean(d) : true;
        break;
    case AF_FC_ENUM:
        *AF_FIELD_PTR(int, op, f) = draw_enum(d, op, f);
        break;
    case AF_FC_EXC:
        draw_exc(d, AF_FIELD_PTR(af_exc, op, f));
        break;
    case AF_FC_RAISE:
        draw_raise(d, op, f);
        break;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
    case AF_FC_RESOURCE:
        draw_op_name(d, op, f);
        break;
    case AF_FC_TASK_REF:
    case AF_FC_TARGET_REF:
    case AF_FC_GROUP_REF:
    case AF_FC_TIMEOUT_REF:
    case AF_FC_SCOPE_REF:
    case AF_FC_HANDLE_REF:
        op->ref = draw(d); /* raw: resolved once every task, group, timeout, handle is known */
        d->raw_refs++;
        break;
    case AF_FC_PRIM_REF:
        op->ref = (int16_t)prim; /* drawn with the kind */
        break;
    case AF_FC_FINALLY:
        op->has_finally = flag(d);
        break;
    default: /* MSG, ONE_TASK, CHILDREN, BODY: after the other fields */
        break;
    }
}

/* The op's fields in draw order (af_op_draw_order: as listed, a message
 * after the others; written out here, the hot path), then its child
 * tasks, its body, its finally body. */
static void decode_fields(dec *d, int i, int task, int depth, int prim)
{
    af_scenario *s = d->s;
    af_op *op = &s->ops[i];
    const af_op_spec *spec = &af_op_specs[op->kind]; /* a kind of the choice list */
    const uint32_t later =
        AF_SHAPE(AF_FC_MSG) | AF_SHAPE_TASKS | AF_SHAPE(AF_FC_BODY) | AF_SHAPE(AF_FC_FINALLY);
    for (int j = 0; j < spec->nfields; j++)
        draw_scalar(d, op, &spec->fields[j], prim);
    if (!(spec->shape & later))
        return;
    if (spec->shape & AF_SHAPE(AF_FC_MSG))
        draw_msg(d, op);
    if (spec->shape & AF_SHAPE(AF_FC_ONE_TASK))
        decode_task(d, &op->children, i, depth + 1);
    if (spec->shape & AF_SHAPE(AF_FC_CHILDREN))
        decode_children(d, i, depth + 1);
    if (spec->shape & AF_SHAPE(AF_FC_BODY))
        decode_body(d, &op->body, task, i, depth + 1);
    if ((spec->shape & AF_SHAPE(AF_FC_FINALLY)) && op->has_finally)
        decode_body(d, &op->finally_body, task, i, depth + 1);
}

/* No budget left for what the kind needs (a task, a positive duration), or
 * no place for it (`started` outside the code of a task a `start` op runs):
 * the op degrades to `sleep 0` (`return 0` in a callback's body, where
 * nothing waits) and draws nothing more. */
static bool out_of_budget(const dec *d, af_op_kind k, int task)
{
    uint32_t shape = af_op_specs[k].shape;
    return ((shape & AF_SHAPE(AF_FC_ONE_TASK)) && d->s->ntasks >= AF_MAX_TASKS) ||
           ((shape & AF_SHAPE(AF_FC_TICKS_POSITIVE)) && d->used >= AF_MAX_TOTAL_TICKS) ||
           (k == AF_OP_STARTED && !af_task_started_by_start(d->s, task));
}

/* The n-th primitive of kind pk (n < how many there are). */
static int nth_prim_of_kind(const af_scenario *s, int pk, int n)
{
    for (int p = 0; p < s->nprims; p++)
        if ((int)s->prims[p].kind == pk && n-- == 0)
            return p;
    return AF_NIL;
}

static int prims_of_kind(const af_scenario *s, int pk)
{
    int n = 0;
    for (int p = 0; p < s->nprims; p++)
        n += (int)s->prims[p].kind == pk;
    return n;
}

static void decode_op(dec *d, af_body *body, int task, int parent, int depth)
{
    af_scenario *s = d->s;
    bool callback = parent != AF_NIL && (af_op_specs[s->ops[parent].kind].flags & AF_OPF_CALLBACK);
    af_op_kind k = callback ? d->cb_kinds[draw(d) % d->ncb_kinds] : d->kinds[draw(d) % d->nkinds];
    int prim = AF_NIL;
    if (callback && af_op_needs(k) >= 0) { /* which primitive of the kind the op needs */
        int pk = af_op_needs(k);
        prim = nth_prim_of_kind(s, pk, draw(d) % prims_of_kind(s, pk));
    } else if (choice_of[k] == CHOICE_SYNC) { /* the sync entry: a primitive, then one of its ops */
        af_op_kind sub[AF_OP_KIND_COUNT];
        prim = draw(d) % s->nprims;
        int nsub = af_bytes_sync_ops(s->prims[prim].kind, sub);
        k = nsub > 1 ? sub[draw(d) % nsub] : sub[0];
    }
    bool degrade = out_of_budget(d, k, task);
    af_op_kind degraded = callback ? AF_OP_RETURN : AF_OP_SLEEP;
    int i = af_scenario_add_op(s, body, degrade ? degraded : k, task, parent);
    if (i == AF_NIL)
        return; /* unreachable: the op budget was checked */
    if (!degrade)
        decode_fields(d, i, task, depth, prim);
}

/* body: while more, one op. At the op limit, or below the deepest level,
 * the more-byte is read and treated as stop. */
static void decode_body(dec *d, af_body *body, int task, int parent, int depth)
{
    while (more(d) && d->s->nops < AF_MAX_OPS && depth <= AF_MAX_DEPTH)
        decode_op(d, body, task, parent, depth);
}

/* The ops defining task groups, timeouts and handles, in pre-order
 * (scopes: task groups and timeouts together). */
typedef struct named_ops {
    int16_t groups[AF_MAX_OPS], timeouts[AF_MAX_OPS], scopes[AF_MAX_OPS], handles[AF_MAX_OPS];
    int ngroups, ntimeouts, nscopes, nhandles;
} named_ops;

/* An op whose reference cannot resolve (a reschedule in a scenario without
 * a timeout, a cancel_scope without a timeout or task group) becomes
 * `sleep 0` where it stands (`return 0` in a callback's body). */
static void degrade_op(af_scenario *s, af_op *op)
{
    af_op keep = *op;
    bool callback =
        keep.parent != AF_NIL && (af_op_specs[s->ops[keep.parent].kind].flags & AF_OPF_CALLBACK);
    af_op_init(op, callback ? AF_OP_RETURN : AF_OP_SLEEP);
    op->next = keep.next;
    op->parent = keep.parent;
    op->task = keep.task;
}

static void resolve_ref(af_scenario *s, const named_ops *n, af_op *op, const af_field *f)
{
    int raw = op->ref;
    switch (f->codec) {
    case AF_FC_TASK_REF:
        op->ref = (int16_t)(raw % s->ntasks);
        break;
    case AF_FC_TARGET_REF:
        op->ref = raw == 0 ? AF_SELF : (int16_t)((raw - 1) % s->ntasks);
        break;
    case AF_FC_GROUP_REF:
        op->ref = (raw == 0 || n->ngroups == 0) ? AF_NIL : n->groups[(raw - 1) % n->ngroups];
        break;
    case AF_FC_TIMEOUT_REF:
        if (n->ntimeouts == 0) /* nothing to reschedule */
            degrade_op(s, op);
        else
            op->ref = n->timeouts[raw % n->ntimeouts];
        break;
    case AF_FC_SCOPE_REF:
        if (n->nscopes == 0) /* nothing to cancel */
            degrade_op(s, op);
        else
            op->ref = n->scopes[raw % n->nscopes];
        break;
    case AF_FC_HANDLE_REF: /* in a callback's body there is a call: its owner */
        if (n->nhandles == 0)
            degrade_op(s, op);
        else
            op->ref = n->handles[raw % n->nhandles];
        break;
    default:
        break;
    }
}

/* References are drawn as raw bytes and resolved here, once every task,
 * group and timeout exists (so an op may name one defined later). */
static void resolve_refs(af_scenario *s)
{
    const uint32_t raw_refs = AF_SHAPE(AF_FC_TASK_REF) | AF_SHAPE(AF_FC_TARGET_REF) |
                              AF_SHAPE(AF_FC_GROUP_REF) | AF_SHAPE(AF_FC_TIMEOUT_REF) |
                              AF_SHAPE(AF_FC_SCOPE_REF) | AF_SHAPE(AF_FC_HANDLE_REF);
    named_ops n;
    n.ngroups = n.ntimeouts = n.nscopes = n.nhandles = 0;
    for (int i = 0; i < s->nops; i++) {
        uint32_t shape = af_op_specs[s->ops[i].kind].shape;
        if (shape & AF_SHAPE(AF_FC_GROUP_NAME))
            n.groups[n.ngroups++] = (int16_t)i;
        else if (shape & AF_SHAPE(AF_FC_TIMEOUT_NAME))
            n.timeouts[n.ntimeouts++] = (int16_t)i;
        else if (shape & AF_SHAPE(AF_FC_HANDLE_NAME))
            n.handles[n.nhandles++] = (int16_t)i;
        if (shape & AF_SHAPE_SCOPES)
            n.scopes[n.nscopes++] = (int16_t)i;
    }
    for (int i = 0; i < s->nops; i++) {
        af_op *op = &s->ops[i];
        const af_op_spec *spec = &af_op_specs[op->kind];
        if (!(spec->shape & raw_refs))
            continue;
        for (int j = 0; j < spec->nfields; j++)
            resolve_ref(s, &n, op, &spec->fields[j]);
    }
}

void af_decode(const uint8_t *data, size_t size, unsigned flags, af_scenario *out)
{
    dec d = {
        .data = data, .size = data ? size : 0, .misuse = (flags & AF_DRAW_MISUSE) != 0, .s = out};
    af_scenario_init(out);
    out->tasks[0].name[0] = '\0'; /* named after the primitives */

    char def[AF_MAX_NAME + 1], name[AF_MAX_NAME + 1];
    while (more(&d) && out->nprims < AF_MAX_PRIMITIVES) {
        af_prim_kind kind = (af_prim_kind)(draw(&d) % AF_PRIM_COUNT);
        af_bytes_default_prim_name(def, kind, out->nprims);
        draw_name(&d, name, def);
        int param = 0;
        if (kind == AF_PRIM_SEMAPHORE)
            param = 1 + draw(&d) % AF_MAX_SMALL;
        else if (kind == AF_PRIM_QUEUE)
            param = draw(&d) % (AF_MAX_SMALL + 1);
        af_scenario_add_primitive(out, kind, name, param);
    }

    /* the primitives are known: the op-kind lists are fixed from here on */
    d.nkinds = af_bytes_kind_list(flags, out->nprims, d.kinds);
    unsigned prim_kinds = 0;
    for (int p = 0; p < out->nprims; p++)
        prim_kinds |= 1u << out->prims[p].kind;
    d.ncb_kinds = af_bytes_callback_kind_list(flags, prim_kinds, d.cb_kinds);
    af_bytes_default_name(def, AF_BYTES_NAME_TASK, 0);
    draw_name(&d, out->tasks[0].name, def);
    decode_body(&d, &out->tasks[0].body, 0, AF_NIL, 1);
    if (d.raw_refs)
        resolve_refs(out);
}
