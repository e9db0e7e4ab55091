/* encode.c - scenario IR -> fuzz bytes: the inverse of decode.c on valid
 * scenarios. Every write here mirrors one draw there, in the same order (see
 * scenarios/BYTES.md). The encoder never relies on array positions: it walks
 * the tree in the decoder's order and numbers tasks, groups and timeouts as
 * the decoder will. */
#include <stdio.h>
#include <string.h>

#include "scenarios/bytes.h"

typedef struct enc {
    const af_scenario *s;
    bool misuse;
    uint8_t *buf;
    size_t cap, len, end;
    bool overflow;
    af_error *err;
    bool failed;
    int64_t used;             /* ticks written so far (the decoder's budget) */
    int ntasks, nops, nholds; /* counters in decoding order */
    /* Positions in decoding order, from a first walk. */
    int16_t task_pos[AF_MAX_TASKS];
    int16_t group_pos[AF_MAX_OPS];
    int16_t timeout_pos[AF_MAX_OPS];
    int ngroups, ntimeouts;
    af_op_kind kinds[AF_OP_KIND_COUNT]; /* the op-kind choice list */
    int nkinds;
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
        if (op->kind == AF_OP_TASKGROUP)
            e->group_pos[i] = (int16_t)e->ngroups++;
        else if (op->kind == AF_OP_TIMEOUT)
            e->timeout_pos[i] = (int16_t)e->ntimeouts++;
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

/* Mirrors draw_cancel_exc: without misuse the kind is implied. */
static void put_cancel_exc(enc *e, const af_exc *x)
{
    if (e->misuse) {
        put_exc(e, x);
        return;
    }
    if (x->kind != AF_EXC_CANCELLED_SUBCLASS) {
        fail(e, "a CancelledError handler raising a non-CancelledError (misuse)");
        return;
    }
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

/* spawn / shield: exactly one task, no more-byte. */
static void enc_single_task(enc *e, const af_op *op, int depth)
{
    if (op->children.count != 1) {
        fail(e, "spawn/shield without exactly one task");
        return;
    }
    enc_task(e, op->children.head, depth);
}

static void enc_kind(enc *e, const af_op *op)
{
    const af_scenario *s = e->s;
    const af_op_kind *list = e->kinds;
    int n = e->nkinds;
    int pk = af_op_prim_kind(op->kind);
    af_op_kind entry = pk >= 0 ? AF_OP_EVENT_SET : op->kind;
    int idx = -1;
    for (int i = 0; i < n; i++)
        if (list[i] == entry)
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
    af_op_kind sub[2];
    int nsub = af_bytes_sync_ops(s->prims[op->ref].kind, sub);
    if (nsub > 1)
        put(e, sub[1] == op->kind ? 1 : 0);
}

static void enc_op(enc *e, int i, int depth)
{
    const af_scenario *s = e->s;
    const af_op *op = &s->ops[i];
    char def[AF_MAX_NAME + 1];

    if (((op->kind == AF_OP_SPAWN || op->kind == AF_OP_SHIELD) && e->ntasks >= AF_MAX_TASKS) ||
        (op->kind == AF_OP_BLOCK && e->used >= AF_MAX_TOTAL_TICKS)) {
        fail(e, "no budget left for this operation");
        return;
    }
    enc_kind(e, op);
    e->nops++;
    switch (op->kind) {
    case AF_OP_SLEEP:
        put_ticks(e, op->ticks);
        break;
    case AF_OP_RETURN:
        put(e, op->value);
        break;
    case AF_OP_RAISE:
        put_exc(e, &op->exc);
        break;
    case AF_OP_SPAWN:
        if (e->misuse)
            put(e, op->keep ? 0 : 1);
        put(e, op->ref == AF_NIL ? 0 : e->group_pos[op->ref] + 1);
        enc_single_task(e, op, depth + 1);
        break;
    case AF_OP_AWAIT:
        put(e, e->task_pos[op->ref]);
        break;
    case AF_OP_CANCEL: {
        put(e, op->ref == AF_SELF ? 0 : e->task_pos[op->ref] + 1);
        put(e, op->value - 1);
        put(e, op->uncancel ? 1 : 0);
        put(e, op->has_msg ? 1 : 0);
        if (op->has_msg) {
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
        break;
    }
    case AF_OP_GATHER:
        put(e, op->return_exceptions ? 1 : 0);
        enc_children(e, op, depth + 1);
        break;
    case AF_OP_TASKGROUP:
        af_bytes_default_name(def, AF_BYTES_NAME_GROUP, e->group_pos[i]);
        put_name(e, op->name, def);
        enc_children(e, op, depth + 1);
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_WAIT_FOR:
        put_opt_ticks(e, op->ticks);
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_TIMEOUT:
        af_bytes_default_name(def, AF_BYTES_NAME_TIMEOUT, e->timeout_pos[i]);
        put_name(e, op->name, def);
        put_opt_ticks(e, op->ticks);
        put(e, op->at ? 1 : 0);
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_RESCHEDULE:
        put(e, e->timeout_pos[op->ref]);
        put_opt_ticks(e, op->ticks);
        break;
    case AF_OP_SHIELD:
        enc_single_task(e, op, depth + 1);
        break;
    case AF_OP_WAIT:
        put(e, op->return_when);
        put_opt_ticks(e, op->ticks);
        put(e, op->cancel_pending ? 1 : 0);
        enc_children(e, op, depth + 1);
        break;
    case AF_OP_AS_COMPLETED:
        put_opt_ticks(e, op->ticks);
        enc_children(e, op, depth + 1);
        break;
    case AF_OP_TRY:
        put(e, op->on_cancel);
        if (op->on_cancel == AF_ON_CANCEL_RAISE)
            put_cancel_exc(e, &op->exc);
        put(e, op->on_error);
        put(e, op->has_finally ? 1 : 0);
        enc_body(e, &op->body, depth + 1);
        if (op->has_finally)
            enc_body(e, &op->finally_body, depth + 1);
        break;
    case AF_OP_EXCEPT_STAR:
        put(e, op->match);
        if (op->match == AF_MATCH_CANCELLED && !e->misuse) {
            if (op->reaction == AF_REACT_SWALLOW) {
                fail(e, "except* CancelledError swallowing (misuse)");
                return;
            }
            put(e, op->reaction - AF_REACT_RERAISE);
            if (op->reaction == AF_REACT_RAISE)
                put_cancel_exc(e, &op->exc);
        } else {
            put(e, op->reaction);
            if (op->reaction == AF_REACT_RAISE)
                put_exc(e, &op->exc);
        }
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_HOLD:
        af_bytes_default_name(def, AF_BYTES_NAME_HOLD, e->nholds++);
        put_name(e, op->name, def);
        put_opt_ticks(e, op->ticks);
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_EVENT_SET:
    case AF_OP_EVENT_WAIT:
    case AF_OP_COND_WAIT:
    case AF_OP_QUEUE_GET:
        break;
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
        enc_body(e, &op->body, depth + 1);
        break;
    case AF_OP_COND_NOTIFY:
        put(e, op->value == AF_NONE ? AF_MAX_SMALL : op->value - 1);
        break;
    case AF_OP_QUEUE_PUT:
        put(e, op->value);
        break;
    case AF_OP_NESTED_RUN:
        put(e, op->nested);
        break;
    case AF_OP_BLOCK:
        /* the decoder reads 1 + raw and clamps; ticks >= 1 by validation */
        if (op->ticks < 1 || op->ticks > AF_MAX_TICKS || op->ticks > AF_MAX_TOTAL_TICKS - e->used) {
            fail(e, "block duration");
            return;
        }
        put_ticks_raw(e, op->ticks - 1);
        e->used += op->ticks;
        break;
    case AF_OP_NEVER_AWAITED:
    default:
        break;
    }
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

int af_encode(const af_scenario *s, bool allow_misuse, uint8_t *buf, size_t cap, size_t *len,
              af_error *err)
{
    if (len)
        *len = 0;
    if (af_scenario_validate(s, err) < 0)
        return -1;
    if (!allow_misuse && af_scenario_has_misuse(s)) {
        af_error_set(err, "", "scenario has a misuse operation and misuse is not allowed");
        return -1;
    }
    enc e;
    memset(&e, 0, sizeof e);
    e.s = s;
    e.misuse = allow_misuse;
    e.buf = buf;
    e.cap = buf ? cap : 0;
    e.err = err;

    /* positions in decoding order: root first */
    number_task(&e, 0, 0);
    e.nkinds = af_bytes_kind_list(allow_misuse, s->nprims, e.kinds);
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
