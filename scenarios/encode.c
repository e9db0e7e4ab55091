/* encode.c - scenario IR -> fuzz bytes: the inverse of decode.c on valid
 * scenarios. Every write here mirrors one draw there, in the same order (see
 * scenarios/BYTES.md). The encoder never relies on array positions: it walks
 * the tree in the decoder's order and numbers tasks, groups, timeouts and
 * handles as the decoder will. */
#include <stdio.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/ops.h"

typedef struct enc {
    const af_scenario *s;
    bool misuse;
    uint8_t *buf;
    size_t cap, len, end;
    bool overflow;
    af_error *err;
    bool failed;
    int64_t used;             /* ticks written so far (the decoder's budget) */
    int ntasks, nops, nholds; /* counters in decoding order (nholds: resources) */
    /* Positions in decoding order, from a first walk. */
    int16_t task_pos[AF_MAX_TASKS];
    int16_t group_pos[AF_MAX_OPS];
    int16_t timeout_pos[AF_MAX_OPS];
    int16_t scope_pos[AF_MAX_OPS]; /* timeouts and task groups together */
    int16_t handle_pos[AF_MAX_OPS];
    int ngroups, ntimeouts, nscopes, nhandles;
    af_op_kind kinds[AF_OP_KIND_COUNT]; /* the op-kind choice list */
    int nkinds;
    af_op_kind cb_kinds[AF_OP_KIND_COUNT]; /* the one in a callback's body */
    int ncb_kinds;
} enc;

/* Reading past the end yields 0, so trailing zeros (stop bytes, defaults)
 * carry nothing: they are left out of the output, and need no room in it.
 * e->len counts every byte written, e->end is the length that matters. */
static void put(enc *e, int byte)
{
    if (e->len < e->cap)
        e->buf[e->len] = (uint8_t)byte;
    else if (byte != 0)
        e->overflow = true;
    e->len++;
    if (byte != 0)
        e->end = e->len;
}

/* Something the decoder could not reproduce: only reachable for scenarios
 * that af_scenario_validate rejects, kept as a guard. */
static void fail(enc *e, const char *what)
{
    if (!e->failed)
        af_error_set(e->err, "", "not encodable as bytes: %s", what);
    e->failed = true;
}

/* ---- first walk: positions in decoding order ---- */

static void number_body(enc *e, const af_body *b, int guard);

static void number_task(enc *e, int t, int guard)
{
    e->task_pos[t] = (int16_t)e->ntasks++;
    number_body(e, &e->s->tasks[t].body, guard + 1);
}

static void number_body(enc *e, const af_body *b, int guard)
{
    const af_scenario *s = e->s;
    if (guard > 2 * AF_MAX_DEPTH + 4)
        return; /* validated scenarios never get here */
    for (int i = b->head; i != AF_NIL; i = s->ops[i].next) {
        const af_op *op = &s->ops[i];
        uint32_t shape = af_op_spec_of(op->kind)->shape;
        if (shape & AF_SHAPE(AF_FC_GROUP_NAME))
            e->group_pos[i] = (int16_t)e->ngroups++;
        else if (shape & AF_SHAPE(AF_FC_TIMEOUT_NAME))
            e->timeout_pos[i] = (int16_t)e->ntimeouts++;
        else if (shape & AF_SHAPE(AF_FC_HANDLE_NAME))
            e->handle_pos[i] = (int16_t)e->nhandles++;
        if (shape & AF_SHAPE_SCOPES)
            e->scope_pos[i] = (int16_t)e->nscopes++;
        for (int t = op->children.head; t != AF_NIL; t = s->tasks[t].next)
            number_task(e, t, guard);
        number_body(e, &op->body, guard + 1);
        number_body(e, &op->finally_body, guard + 1);
    }
}

/* ---- second walk: the bytes ---- */

static void put_ticks_raw(enc *e, int32_t v)
{
    if (v < 128) {
        put(e, v);
    } else {
        int32_t w = v - 128; /* < 2^15: 128 + (w >> 8) stays a byte */
        put(e, 128 + (w >> 8));
        put(e, w & 0xff);
    }
}

/* Mirrors clamp_ticks: the value must survive the decoder's clamps. */
static void put_ticks(enc *e, int32_t v)
{
    if (v < 0 || v > AF_MAX_TICKS || v > AF_MAX_TOTAL_TICKS - e->used) {
        fail(e, "duration out of range or over the total budget");
        return;
    }
    put_ticks_raw(e, v);
    e->used += v;
}

static void put_opt_ticks(enc *e, int32_t v)
{
    if (v == AF_NONE) {
        put(e, 0);
        return;
    }
    put(e, 1);
    put_ticks(e, v);
}

static void put_exc(enc *e, const af_exc *x)
{
    put(e, x->kind);
    put(e, x->id);
}

static int alpha_index(char c, int n)
{
    const char *p = memchr(af_bytes_name_alpha, c, (size_t)n);
    return p ? (int)(p - af_bytes_name_alpha) : -1;
}

static void put_custom_name(enc *e, const char *name)
{
    size_t len = strlen(name);
    if (len < 1 || len > AF_MAX_NAME) {
        fail(e, "name length");
        return;
    }
    put(e, (int)len - 1);
    for (size_t i = 0; i < len; i++) {
        int x = alpha_index(name[i], i == 0 ? AF_BYTES_NAME_FIRST : AF_BYTES_NAME_REST);
        if (x < 0) {
            fail(e, "name character");
            return;
        }
        put(e, x);
    }
}

static void put_name(enc *e, const char *name, const char *def)
{
    if (strcmp(name, def) == 0) {
        put(e, 0);
        return;
    }
    put(e, 1);
    put_custom_name(e, name);
}

static void enc_body(enc *e, const af_body *b, int depth);

static void enc_task(enc *e, int t, int depth)
{
    char def[AF_MAX_NAME + 1];
    if (e->ntasks >= AF_MAX_TASKS) {
        fail(e, "too many tasks");
        return;
    }
    af_bytes_default_name(def, AF_BYTES_NAME_TASK, e->ntasks);
    put_name(e, e->s->tasks[t].name, def);
    e->ntasks++;
    enc_body(e, &e->s->tasks[t].body, depth);
}

static void enc_children(enc *e, const af_op *op, int depth)
{
    const af_scenario *s = e->s;
    for (int t = op->children.head; t != AF_NIL && !e->failed; t = s->tasks[t].next) {
        put(e, 1);
        enc_task(e, t, depth);
    }
    put(e, 0);
}

/* ONE_TASK: exactly one task, no more-byte. */
static void enc_single_task(enc *e, const af_op *op, int depth)
{
    if (op->children.count != 1) {
        fail(e, "an operation owning one task without exactly one task");
        return;
    }
    enc_task(e, op->children.head, depth);
}

/* In a callback's body: the kind's place in the callback list, then for a
 * primitive's op which primitive of its kind. */
static void enc_callback_kind(enc *e, const af_op *op)
{
    const af_scenario *s = e->s;
    int idx = -1;
    for (int i = 0; i < e->ncb_kinds; i++)
        if (e->cb_kinds[i] == op->kind)
            idx = i;
    if (idx < 0) {
        fail(e, "operation kind not available in a callback's body (BYTES.md)");
        return;
    }
    put(e, idx);
    int pk = af_op_needs(op->kind);
    if (pk < 0)
        return;
    int nth = 0;
    for (int p = 0; p < op->ref && p < s->nprims; p++)
        nth += (int)s->prims[p].kind == pk;
    if (op->ref < 0 || op->ref >= s->nprims || (int)s->prims[op->ref].kind != pk) {
        fail(e, "primitive reference");
        return;
    }
    put(e, nth);
}

/* The kind's choice; for a synchronisation op the sync entry, then its
 * primitive and its place among the ops of that primitive's kind. */
static void enc_kind(enc *e, const af_op *op)
{
    const af_scenario *s = e->s;
    if (op->parent != AF_NIL && (af_op_spec_of(s->ops[op->parent].kind)->flags & AF_OPF_CALLBACK)) {
        enc_callback_kind(e, op);
        return;
    }
    int pk = af_op_needs(op->kind);
    int idx = -1;
    for (int i = 0; i < e->nkinds; i++)
        if (e->kinds[i] == op->kind || (pk >= 0 && af_op_needs(e->kinds[i]) >= 0))
            idx = i;
    if (idx < 0) {
        fail(e, "operation kind not available here");
        return;
    }
    put(e, idx);
    if (pk < 0)
        return;
    if (op->ref < 0 || op->ref >= s->nprims || (int)s->prims[op->ref].kind != pk) {
        fail(e, "primitive reference");
        return;
    }
    put(e, op->ref);
    af_op_kind sub[AF_OP_KIND_COUNT];
    int nsub = af_bytes_sync_ops(s->prims[op->ref].kind, sub);
    for (int i = 0; i < nsub && nsub > 1; i++)
        if (sub[i] == op->kind)
            put(e, i);
}

/* Mirrors draw_enum. */
static void put_enum(enc *e, const af_op *op, const af_field *f)
{
    int v = *AF_FIELD_CPTR(int, op, f);
    if (e->misuse || !af_cond_holds(&f->misuse_if, op)) {
        put(e, v);
        return;
    }
    if (v == f->misuse) {
        fail(e, "a swallowed CancelledError (misuse)");
        return;
    }
    put(e, v < f->misuse ? v : v - 1);
}

/* Mirrors draw_raise: without misuse, in a CancelledError handler, the
 * kind is implied. */
static void put_raise(enc *e, const af_op *op, const af_field *f)
{
    if (!af_cond_holds(&f->when, op))
        return;
    const af_exc *x = AF_FIELD_CPTR(af_exc, op, f);
    if (e->misuse || !af_cond_holds(&f->misuse_if, op)) {
        put_exc(e, x);
        return;
    }
    if (x->kind != AF_EXC_CANCELLED_SUBCLASS) {
        fail(e, "a CancelledError handler raising a non-CancelledError (misuse)");
        return;
    }
    put(e, x->id);
}

static void put_msg(enc *e, const af_op *op)
{
    put(e, op->has_msg ? 1 : 0);
    if (!op->has_msg)
        return;
    size_t len = strlen(op->msg);
    put(e, (int)len);
    for (size_t c = 0; c < len; c++) {
        const char *p = memchr(af_bytes_msg_alpha, op->msg[c], AF_BYTES_MSG_CHARS);
        if (!p) {
            fail(e, "message character");
            return;
        }
        put(e, (int)(p - af_bytes_msg_alpha));
    }
}

/* Mirrors draw_op_name: the default is the one of the op's position. */
static void put_op_name(enc *e, int i, const af_field *f)
{
    char def[AF_MAX_NAME + 1];
    int what = af_bytes_name_kind(f->codec);
    int index = what == AF_BYTES_NAME_GROUP     ? e->group_pos[i]
                : what == AF_BYTES_NAME_TIMEOUT ? e->timeout_pos[i]
                : what == AF_BYTES_NAME_HANDLE  ? e->handle_pos[i]
                                                : e->nholds++;
    af_bytes_default_name(def, what, index);
    put_name(e, AF_FIELD_CPTR(char, &e->s->ops[i], f), def);
}

/* TICKS_POSITIVE: the decoder reads 1 + raw and clamps. */
static void put_positive_ticks(enc *e, int32_t v)
{
    if (v < 1 || v > AF_MAX_TICKS || v > AF_MAX_TOTAL_TICKS - e->used) {
        fail(e, "positive duration out of range or over the total budget");
        return;
    }
    put_ticks_raw(e, v - 1);
    e->used += v;
}

/* Mirrors draw_scalar. */
static void put_scalar(enc *e, int i, const af_field *f)
{
    const af_op *op = &e->s->ops[i];
    switch (f->codec) {
    case AF_FC_TICKS:
        put_ticks(e, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    case AF_FC_TICKS_POSITIVE:
        put_positive_ticks(e, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    case AF_FC_OPT_TICKS:
        put_opt_ticks(e, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    case AF_FC_VALUE:
    case AF_FC_COUNT:
        put(e, *AF_FIELD_CPTR(int32_t, op, f) - af_codec_range((af_field_codec)f->codec).lo);
        break;
    case AF_FC_NOTIFY_N: {
        int32_t v = *AF_FIELD_CPTR(int32_t, op, f);
        put(e, v == AF_NONE ? AF_MAX_SMALL : v - 1);
        break;
    }
    case AF_FC_BOOL:
        put(e, *AF_FIELD_CPTR(bool, op, f) ? 1 : 0);
        break;
    case AF_FC_KEEP:
        if (e->misuse)
            put(e, *AF_FIELD_CPTR(bool, op, f) ? 0 : 1);
        break;
    case AF_FC_ENUM:
        put_enum(e, op, f);
        break;
    case AF_FC_EXC:
        put_exc(e, AF_FIELD_CPTR(af_exc, op, f));
        break;
    case AF_FC_RAISE:
        put_raise(e, op, f);
        break;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
    case AF_FC_RESOURCE:
        put_op_name(e, i, f);
        break;
    case AF_FC_TASK_REF:
        put(e, e->task_pos[op->ref]);
        break;
    case AF_FC_TARGET_REF:
        put(e, op->ref == AF_SELF ? 0 : e->task_pos[op->ref] + 1);
        break;
    case AF_FC_GROUP_REF:
        put(e, op->ref == AF_NIL ? 0 : e->group_pos[op->ref] + 1);
        break;
    case AF_FC_TIMEOUT_REF:
        put(e, e->timeout_pos[op->ref]);
        break;
    case AF_FC_SCOPE_REF:
        put(e, e->scope_pos[op->ref]);
        break;
    case AF_FC_HANDLE_REF:
        put(e, e->handle_pos[op->ref]);
        break;
    case AF_FC_FINALLY:
        put(e, op->has_finally ? 1 : 0);
        break;
    default: /* PRIM_REF (with the kind); MSG, tasks and bodies: after the others */
        break;
    }
}

/* No budget left for what the kind needs: the decoder would have turned
 * the op into `sleep 0`. */
static bool out_of_budget(const enc *e, af_op_kind k)
{
    uint32_t shape = af_op_spec_of(k)->shape;
    return ((shape & AF_SHAPE(AF_FC_ONE_TASK)) && e->ntasks >= AF_MAX_TASKS) ||
           ((shape & AF_SHAPE(AF_FC_TICKS_POSITIVE)) && e->used >= AF_MAX_TOTAL_TICKS);
}

/* Mirrors decode_op and decode_fields. */
static void enc_op(enc *e, int i, int depth)
{
    const af_op *op = &e->s->ops[i];
    if (out_of_budget(e, op->kind)) {
        fail(e, "no budget left for this operation");
        return;
    }
    enc_kind(e, op);
    e->nops++;
    const af_op_spec *spec = af_op_spec_of(op->kind);
    for (int j = 0; j < spec->nfields; j++) /* as decode_fields */
        put_scalar(e, i, &spec->fields[j]);
    if (spec->shape & AF_SHAPE(AF_FC_MSG))
        put_msg(e, op);
    if (spec->shape & AF_SHAPE(AF_FC_ONE_TASK))
        enc_single_task(e, op, depth + 1);
    if (spec->shape & AF_SHAPE(AF_FC_CHILDREN))
        enc_children(e, op, depth + 1);
    if (spec->shape & AF_SHAPE(AF_FC_BODY))
        enc_body(e, &op->body, depth + 1);
    if ((spec->shape & AF_SHAPE(AF_FC_FINALLY)) && op->has_finally)
        enc_body(e, &op->finally_body, depth + 1);
}

static void enc_body(enc *e, const af_body *b, int depth)
{
    const af_scenario *s = e->s;
    for (int i = b->head; i != AF_NIL && !e->failed; i = s->ops[i].next) {
        if (e->nops >= AF_MAX_OPS || depth > AF_MAX_DEPTH) {
            fail(e, "too many operations or nested too deep");
            return;
        }
        put(e, 1);
        enc_op(e, i, depth);
    }
    put(e, 0);
}

int af_encode(const af_scenario *s, unsigned draw, uint8_t *buf, size_t cap, size_t *len,
              af_error *err)
{
    if (len)
        *len = 0;
    if (af_scenario_validate(s, err) < 0)
        return -1;
    unsigned needed = af_draw_needed(s);
    if ((needed & AF_DRAW_MISUSE) && !(draw & AF_DRAW_MISUSE)) {
        af_error_set(err, "", "scenario has a misuse operation and misuse is not allowed");
        return -1;
    }
    if ((needed & AF_DRAW_LOOP) && !(draw & AF_DRAW_LOOP)) {
        af_error_set(err, "",
                     "scenario has a loop-level operation and loop operations are not allowed");
        return -1;
    }
    enc e;
    memset(&e, 0, sizeof e);
    e.s = s;
    e.misuse = (draw & AF_DRAW_MISUSE) != 0;
    e.buf = buf;
    e.cap = buf ? cap : 0;
    e.err = err;

    /* positions in decoding order: root first */
    number_task(&e, 0, 0);
    e.nkinds = af_bytes_kind_list(draw, s->nprims, e.kinds);
    unsigned prim_kinds = 0;
    for (int p = 0; p < s->nprims; p++)
        prim_kinds |= 1u << s->prims[p].kind;
    e.ncb_kinds = af_bytes_callback_kind_list(draw, prim_kinds, e.cb_kinds);
    e.ntasks = 0;

    char def[AF_MAX_NAME + 1];
    for (int i = 0; i < s->nprims; i++) {
        const af_primitive *p = &s->prims[i];
        put(&e, 1);
        put(&e, p->kind);
        af_bytes_default_prim_name(def, p->kind, i);
        put_name(&e, p->name, def);
        if (p->kind == AF_PRIM_SEMAPHORE)
            put(&e, p->param - 1);
        else if (p->kind == AF_PRIM_QUEUE)
            put(&e, p->param);
    }
    put(&e, 0);

    af_bytes_default_name(def, AF_BYTES_NAME_TASK, 0);
    put_name(&e, s->tasks[0].name, def);
    e.ntasks = 1;
    enc_body(&e, &s->tasks[0].body, 1);

    if (e.failed)
        return -1;
    if (e.overflow) {
        af_error_set(err, "", "encoded scenario does not fit in %zu bytes", cap);
        return -1;
    }
    if (len)
        *len = e.end;
    return 0;
}
