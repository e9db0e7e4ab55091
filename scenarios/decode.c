/* decode.c - fuzz bytes -> scenario IR (total). The format is described in
 * scenarios/BYTES.md; encode.c is its mirror image and must stay in step:
 * every draw here has exactly one write there, in the same order. */
#include <stdio.h>
#include <string.h>

#include "scenarios/bytes.h"

/* ---- Shared tables (also used by encode.c) ---- */

const char af_bytes_name_alpha[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

const char af_bytes_msg_alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  " _-.,:;!?'()[]{}<>=+*/%&|^~@#$`";

/* Compile-time checks that the alphabets have the sizes the format uses. */
_Static_assert(sizeof af_bytes_name_alpha - 1 == AF_BYTES_NAME_REST, "name alphabet");
_Static_assert(sizeof af_bytes_msg_alpha - 1 == AF_BYTES_MSG_CHARS, "msg alphabet");

static bool is_sync_kind(af_op_kind k)
{
    return k >= AF_OP_EVENT_SET && k <= AF_OP_QUEUE_GET;
}

static bool is_misuse_kind(af_op_kind k)
{
    return k == AF_OP_NESTED_RUN || k == AF_OP_BLOCK || k == AF_OP_NEVER_AWAITED;
}

int af_bytes_kind_list(bool allow_misuse, int nprims, af_op_kind list[AF_OP_KIND_COUNT])
{
    int n = 0;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        if (is_sync_kind((af_op_kind)k)) {
            if (k == AF_OP_EVENT_SET && nprims > 0)
                list[n++] = AF_OP_EVENT_SET; /* the one "sync" entry */
            continue;
        }
        if (is_misuse_kind((af_op_kind)k) && !allow_misuse)
            continue;
        list[n++] = (af_op_kind)k;
    }
    return n;
}

int af_bytes_sync_ops(af_prim_kind pk, af_op_kind list[2])
{
    switch (pk) {
    case AF_PRIM_EVENT:
        list[0] = AF_OP_EVENT_SET;
        list[1] = AF_OP_EVENT_WAIT;
        return 2;
    case AF_PRIM_LOCK:
        list[0] = AF_OP_LOCK;
        return 1;
    case AF_PRIM_CONDITION:
        list[0] = AF_OP_COND_WAIT;
        list[1] = AF_OP_COND_NOTIFY;
        return 2;
    case AF_PRIM_SEMAPHORE:
        list[0] = AF_OP_SEMAPHORE;
        return 1;
    case AF_PRIM_QUEUE:
        list[0] = AF_OP_QUEUE_PUT;
        list[1] = AF_OP_QUEUE_GET;
        return 2;
    default:
        return 0;
    }
}

void af_bytes_default_name(char *buf, int what, int index)
{
    switch (what) {
    case AF_BYTES_NAME_TASK:
        if (index == 0)
            snprintf(buf, AF_MAX_NAME + 1, "main");
        else
            snprintf(buf, AF_MAX_NAME + 1, "t%d", index);
        break;
    case AF_BYTES_NAME_GROUP:
        snprintf(buf, AF_MAX_NAME + 1, "tg%d", index);
        break;
    case AF_BYTES_NAME_TIMEOUT:
        snprintf(buf, AF_MAX_NAME + 1, "to%d", index);
        break;
    default:
        snprintf(buf, AF_MAX_NAME + 1, "r%d", index);
        break;
    }
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
    int ngroups, ntimeouts, nholds;     /* pre-order counters for default names */
    af_op_kind kinds[AF_OP_KIND_COUNT]; /* the op-kind choice list */
    int nkinds;
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

/* The exception a CancelledError handler raises instead. Without misuse it
 * must still be a CancelledError (anything else is misuse, see
 * af_op_is_misuse): the kind is then fixed and only the id is drawn. */
static void draw_cancel_exc(dec *d, af_exc *e)
{
    if (d->misuse) {
        draw_exc(d, e);
        return;
    }
    e->kind = AF_EXC_CANCELLED_SUBCLASS;
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
 * timeouts and primitives (entities not named yet have ""). */
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
        if ((s->ops[i].kind == AF_OP_TASKGROUP || s->ops[i].kind == AF_OP_TIMEOUT) &&
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

static void decode_op(dec *d, af_body *body, int task, int parent, int depth)
{
    af_scenario *s = d->s;
    af_op_kind k = d->kinds[draw(d) % d->nkinds];
    int prim = AF_NIL;
    if (k == AF_OP_EVENT_SET) { /* the sync entry */
        af_op_kind sub[2];
        prim = draw(d) % s->nprims;
        int nsub = af_bytes_sync_ops(s->prims[prim].kind, sub);
        k = nsub > 1 ? sub[draw(d) % nsub] : sub[0];
    }
    /* No budget left: the op degrades to `sleep 0` and draws nothing more. */
    bool degrade = ((k == AF_OP_SPAWN || k == AF_OP_SHIELD) && s->ntasks >= AF_MAX_TASKS) ||
                   (k == AF_OP_BLOCK && d->used >= AF_MAX_TOTAL_TICKS);
    int i = af_scenario_add_op(s, body, degrade ? AF_OP_SLEEP : k, task, parent);
    if (i == AF_NIL)
        return; /* unreachable: the op budget was checked */
    af_op *op = &s->ops[i];
    if (degrade) {
        op->ticks = 0;
        return;
    }
    char def[AF_MAX_NAME + 1];
    switch (k) {
    case AF_OP_SLEEP:
        op->ticks = draw_ticks(d);
        break;
    case AF_OP_RETURN:
        op->value = draw(d);
        break;
    case AF_OP_RAISE:
        draw_exc(d, &op->exc);
        break;
    case AF_OP_SPAWN:
        op->keep = d->misuse ? !boolean(d) : true;
        op->ref = draw(d); /* raw: resolved once every group is known */
        decode_task(d, &op->children, i, depth + 1);
        break;
    case AF_OP_AWAIT:
        op->ref = draw(d); /* raw */
        break;
    case AF_OP_CANCEL: {
        op->ref = draw(d); /* raw */
        op->value = 1 + (draw(d) & 1);
        op->uncancel = boolean(d);
        op->has_msg = flag(d);
        if (op->has_msg) {
            int len = draw(d) % (AF_MAX_MSG + 1);
            for (int c = 0; c < len; c++)
                op->msg[c] = af_bytes_msg_alpha[draw(d) % AF_BYTES_MSG_CHARS];
            op->msg[len] = '\0';
        }
        break;
    }
    case AF_OP_GATHER:
        op->return_exceptions = boolean(d);
        decode_children(d, i, depth + 1);
        break;
    case AF_OP_TASKGROUP:
        af_bytes_default_name(def, AF_BYTES_NAME_GROUP, d->ngroups++);
        draw_name(d, op->name, def);
        decode_children(d, i, depth + 1);
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_WAIT_FOR:
        op->ticks = draw_opt_ticks(d);
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_TIMEOUT:
        af_bytes_default_name(def, AF_BYTES_NAME_TIMEOUT, d->ntimeouts++);
        draw_name(d, op->name, def);
        op->ticks = draw_opt_ticks(d);
        op->at = boolean(d);
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_RESCHEDULE:
        op->ref = draw(d); /* raw */
        op->ticks = draw_opt_ticks(d);
        break;
    case AF_OP_SHIELD:
        decode_task(d, &op->children, i, depth + 1);
        break;
    case AF_OP_WAIT:
        op->return_when = (af_return_when)(draw(d) % AF_WHEN_COUNT);
        op->ticks = draw_opt_ticks(d);
        op->cancel_pending = boolean(d);
        decode_children(d, i, depth + 1);
        break;
    case AF_OP_AS_COMPLETED:
        op->ticks = draw_opt_ticks(d);
        decode_children(d, i, depth + 1);
        break;
    case AF_OP_TRY:
        /* swallow is the last on_cancel value: without misuse it is left out */
        op->on_cancel =
            (af_on_cancel)(draw(d) % (d->misuse ? AF_ON_CANCEL_COUNT : AF_ON_CANCEL_SWALLOW));
        if (op->on_cancel == AF_ON_CANCEL_RAISE)
            draw_cancel_exc(d, &op->exc);
        op->on_error = (af_on_error)(draw(d) % AF_ON_ERROR_COUNT);
        op->has_finally = flag(d);
        decode_body(d, &op->body, task, i, depth + 1);
        if (op->has_finally)
            decode_body(d, &op->finally_body, task, i, depth + 1);
        break;
    case AF_OP_EXCEPT_STAR:
        op->match = (af_match)(draw(d) % AF_MATCH_COUNT);
        if (op->match == AF_MATCH_CANCELLED && !d->misuse) {
            /* swallowing CancelledError is misuse: reraise or raise only */
            op->reaction = (af_reaction)(AF_REACT_RERAISE + draw(d) % 2);
            if (op->reaction == AF_REACT_RAISE)
                draw_cancel_exc(d, &op->exc);
        } else {
            op->reaction = (af_reaction)(draw(d) % AF_REACT_COUNT);
            if (op->reaction == AF_REACT_RAISE)
                draw_exc(d, &op->exc);
        }
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_HOLD:
        af_bytes_default_name(def, AF_BYTES_NAME_HOLD, d->nholds++);
        if (flag(d))
            draw_custom_name(d, op->name);
        if (op->name[0] == '\0' || strcmp(op->name, "self") == 0)
            snprintf(op->name, sizeof op->name, "%s", def);
        op->ticks = draw_opt_ticks(d);
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_EVENT_SET:
    case AF_OP_EVENT_WAIT:
    case AF_OP_COND_WAIT:
    case AF_OP_QUEUE_GET:
        op->ref = (int16_t)prim;
        break;
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
        op->ref = (int16_t)prim;
        decode_body(d, &op->body, task, i, depth + 1);
        break;
    case AF_OP_COND_NOTIFY: {
        op->ref = (int16_t)prim;
        int v = draw(d) % (AF_MAX_SMALL + 1);
        op->value = v < AF_MAX_SMALL ? v + 1 : AF_NONE;
        break;
    }
    case AF_OP_QUEUE_PUT:
        op->ref = (int16_t)prim;
        op->value = draw(d);
        break;
    case AF_OP_NESTED_RUN:
        op->nested = (af_nested_kind)(draw(d) % AF_NESTED_COUNT);
        break;
    case AF_OP_BLOCK:
        op->ticks = clamp_ticks(d, 1 + raw_ticks(d));
        break;
    case AF_OP_NEVER_AWAITED:
    default:
        break;
    }
}

/* body: while more, one op. At the op limit, or below the deepest level,
 * the more-byte is read and treated as stop. */
static void decode_body(dec *d, af_body *body, int task, int parent, int depth)
{
    while (more(d) && d->s->nops < AF_MAX_OPS && depth <= AF_MAX_DEPTH)
        decode_op(d, body, task, parent, depth);
}

/* References are drawn as raw bytes and resolved here, once every task,
 * group and timeout exists (so an op may name one defined later). */
static void resolve_refs(af_scenario *s)
{
    int16_t groups[AF_MAX_OPS], timeouts[AF_MAX_OPS];
    int ngroups = 0, ntimeouts = 0;
    for (int i = 0; i < s->nops; i++) {
        if (s->ops[i].kind == AF_OP_TASKGROUP)
            groups[ngroups++] = (int16_t)i;
        else if (s->ops[i].kind == AF_OP_TIMEOUT)
            timeouts[ntimeouts++] = (int16_t)i;
    }
    for (int i = 0; i < s->nops; i++) {
        af_op *op = &s->ops[i];
        int raw = op->ref;
        switch (op->kind) {
        case AF_OP_AWAIT:
            op->ref = (int16_t)(raw % s->ntasks);
            break;
        case AF_OP_CANCEL:
            op->ref = raw == 0 ? AF_SELF : (int16_t)((raw - 1) % s->ntasks);
            break;
        case AF_OP_SPAWN:
            op->ref = (raw == 0 || ngroups == 0) ? AF_NIL : groups[(raw - 1) % ngroups];
            break;
        case AF_OP_RESCHEDULE:
            if (ntimeouts == 0) { /* nothing to reschedule: sleep 0 */
                af_op keep = *op;
                af_op_init(op, AF_OP_SLEEP);
                op->next = keep.next;
                op->parent = keep.parent;
                op->task = keep.task;
                op->ticks = 0;
            } else {
                op->ref = timeouts[raw % ntimeouts];
            }
            break;
        default:
            break;
        }
    }
}

void af_decode(const uint8_t *data, size_t size, bool allow_misuse, af_scenario *out)
{
    dec d = {.data = data, .size = data ? size : 0, .misuse = allow_misuse, .s = out};
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

    /* the primitives are known: the op-kind list is fixed from here on */
    d.nkinds = af_bytes_kind_list(allow_misuse, out->nprims, d.kinds);
    af_bytes_default_name(def, AF_BYTES_NAME_TASK, 0);
    draw_name(&d, out->tasks[0].name, def);
    decode_body(&d, &out->tasks[0].body, 0, AF_NIL, 1);
    resolve_refs(out);
}
