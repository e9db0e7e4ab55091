/* verdict.c - verdicts: names, op paths, signatures, JSON, and the helpers
 * the oracles share (oracle.h).
 *
 * Signature text: "<oracle>|<primitive>|<reason>", where the primitive is
 * the innermost asyncio primitive on the verdict's op path (the path's op
 * kinds that are asyncio API: spawn, await, gather, task_group, wait_for,
 * timeout, shield, wait, as_completed, event/lock/condition/semaphore/queue
 * ops, nested_run, block, never_awaited; try, except_star, hold and leaves
 * are left out) and the reason is the code of the rule that fired
 * (base/oracles.def). The whole path stays in the verdict (path), but only
 * the innermost primitive enters the signature: a defect of wait_for is the
 * same finding whether the wait_for sits in a gather, a TaskGroup or a
 * shield, so a campaign that hits it 10,000 times in random surroundings
 * files it once.
 * Names, positions, durations, messages and ids never enter it either.
 * signature = FNV-1a 64 of the text.
 */
#include "base/hash.h"
#include "oracles/oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int af_verdict_is_finding(const af_verdict *v, int misuse_allowed)
{
    if (!v)
        return 0;
    switch (v->cause) {
    case AF_CAUSE_TARGET:
        return 1;
    case AF_CAUSE_MISUSE:
        return misuse_allowed != 0;
    default:
        return 0;
    }
}

int af_verdict_list_has_signature(const af_verdict_list *list, uint64_t signature)
{
    for (int i = 0; i < list->count; i++)
        if (list->items[i].signature == signature)
            return 1;
    return 0;
}

int af_verdict_list_keep_findings(af_verdict_list *list, int misuse_allowed)
{
    int n = 0, dropped = 0;
    for (int i = 0; i < list->count; i++) {
        if (af_verdict_is_finding(&list->items[i], misuse_allowed))
            list->items[n++] = list->items[i];
        else
            dropped++;
    }
    list->count = n;
    return dropped;
}

void af_verdict_list_init(af_verdict_list *list)
{
    list->count = 0;
    list->dropped = 0;
}

int af_verdict_list_has(const af_verdict_list *list, af_oracle o)
{
    for (int i = 0; i < list->count; i++)
        if (list->items[i].oracle == o)
            return 1;
    return 0;
}

uint64_t af_hash64(const char *s, size_t len)
{
    return af_fnv64(s, len);
}

/* ---- paths -------------------------------------------------------------- */

typedef struct seg {
    int kind;  /* 0: op, 1: child task, 2: finally marker, 3: root task */
    int index; /* op index or task index */
    int pos;   /* position in its body (ops) */
} seg;

static int body_pos(const af_scenario *s, int head, int op)
{
    int pos = 0;
    for (int i = head; i != AF_NIL && i >= 0 && i < s->nops && pos <= AF_MAX_OPS;
         i = s->ops[i].next, pos++)
        if (i == op)
            return pos;
    return -1;
}

/* Segments from the root down; returns the count (0 when op is invalid). */
static int path_segments(const af_scenario *s, int op, seg *segs, int max)
{
    seg rev[3 * AF_MAX_OPS + 4];
    int n = 0;
    if (!s || op < 0 || op >= s->nops)
        return 0;
    int cur = op;
    int guard = 0;
    while (cur >= 0 && cur < s->nops && guard++ <= AF_MAX_OPS + AF_MAX_TASKS) {
        const af_op *o = &s->ops[cur];
        int parent = o->parent;
        int pos = -1;
        int in_finally = 0;
        if (parent >= 0 && parent < s->nops) {
            pos = body_pos(s, s->ops[parent].body.head, cur);
            if (pos < 0) {
                pos = body_pos(s, s->ops[parent].finally_body.head, cur);
                in_finally = pos >= 0;
            }
        } else if (o->task >= 0 && o->task < s->ntasks) {
            pos = body_pos(s, s->tasks[o->task].body.head, cur);
        }
        rev[n++] = (seg){0, cur, pos < 0 ? 0 : pos};
        if (in_finally)
            rev[n++] = (seg){2, -1, 0};
        if (parent >= 0 && parent < s->nops) {
            cur = parent;
            continue;
        }
        /* top of a task body: the task, then the op owning it */
        int t = o->task;
        if (t < 0 || t >= s->ntasks)
            break;
        if (s->tasks[t].parent < 0 || t == 0) {
            rev[n++] = (seg){3, t, 0};
            break;
        }
        rev[n++] = (seg){1, t, 0};
        cur = s->tasks[t].parent;
    }
    int m = n < max ? n : max;
    for (int i = 0; i < m; i++)
        segs[i] = rev[n - 1 - i];
    return m;
}

static void appendf(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    if (*pos < cap) {
        size_t room = cap - *pos;
        memcpy(buf + *pos, tmp, len < room ? len : room);
    }
    *pos += len;
}

static size_t finish(char *buf, size_t cap, size_t pos)
{
    if (cap > 0)
        buf[pos < cap ? pos : cap - 1] = '\0';
    return pos;
}

static const char *kind_name(const af_scenario *s, int op)
{
    const char *k = af_op_kind_name(s->ops[op].kind);
    return k ? k : "?";
}

size_t af_op_path(const af_scenario *s, int op, char *buf, size_t cap)
{
    seg segs[3 * AF_MAX_OPS + 4];
    int n = path_segments(s, op, segs, (int)(sizeof segs / sizeof segs[0]));
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        const char *sep = i ? "/" : "";
        switch (segs[i].kind) {
        case 0:
            appendf(buf, cap, &pos, "%s%d:%s", sep, segs[i].pos, kind_name(s, segs[i].index));
            break;
        case 1:
        case 3:
            appendf(buf, cap, &pos, "%s%s", sep, s->tasks[segs[i].index].name);
            break;
        default:
            appendf(buf, cap, &pos, "%sfinally", sep);
            break;
        }
    }
    return finish(buf, cap, pos);
}

size_t af_op_path_shape(const af_scenario *s, int op, char *buf, size_t cap)
{
    seg segs[3 * AF_MAX_OPS + 4];
    int n = path_segments(s, op, segs, (int)(sizeof segs / sizeof segs[0]));
    size_t pos = 0;
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (segs[i].kind == 3)
            continue;
        const char *sep = first ? "" : "/";
        first = 0;
        switch (segs[i].kind) {
        case 0:
            appendf(buf, cap, &pos, "%s%s", sep, kind_name(s, segs[i].index));
            break;
        case 1:
            appendf(buf, cap, &pos, "%s@", sep);
            break;
        default:
            appendf(buf, cap, &pos, "%sfinally", sep);
            break;
        }
    }
    return finish(buf, cap, pos);
}

static int is_api_kind(af_op_kind k)
{
    switch (k) {
    case AF_OP_SLEEP:
    case AF_OP_RETURN:
    case AF_OP_RAISE:
    case AF_OP_TRY:
    case AF_OP_EXCEPT_STAR:
    case AF_OP_HOLD:
    case AF_OP_CANCEL:
        return 0;
    default:
        return 1;
    }
}

static size_t prim_stack(const af_scenario *s, int op, char *buf, size_t cap)
{
    seg segs[3 * AF_MAX_OPS + 4];
    int n = path_segments(s, op, segs, (int)(sizeof segs / sizeof segs[0]));
    size_t pos = 0;
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (segs[i].kind != 0 || !is_api_kind(s->ops[segs[i].index].kind))
            continue;
        appendf(buf, cap, &pos, "%s%s", first ? "" : ">", kind_name(s, segs[i].index));
        first = 0;
    }
    return finish(buf, cap, pos);
}

/* ---- JSON ---------------------------------------------------------------- */

static void put_raw(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos < cap) {
        size_t room = cap - *pos;
        memcpy(buf + *pos, s, n < room ? n : room);
    }
    *pos += n;
}

static void put_jstr(char *buf, size_t cap, size_t *pos, const char *s)
{
    af_json_put_string(buf, cap, pos, s, strlen(s));
}

size_t af_verdict_write_json(const af_verdict *v, char *buf, size_t cap)
{
    size_t pos = 0;
    char num[64];
    const char *name = af_oracle_name(v->oracle);
    put_raw(buf, cap, &pos, "{\"oracle\":");
    put_jstr(buf, cap, &pos, name ? name : "?");
    snprintf(num, sizeof num, ",\"task\":{\"id\":%d,\"name\":", v->task);
    put_raw(buf, cap, &pos, num);
    put_jstr(buf, cap, &pos, v->task_name);
    put_raw(buf, cap, &pos, "},\"path\":");
    put_jstr(buf, cap, &pos, v->path);
    snprintf(num, sizeof num, ",\"op\":%d,\"vtime\":%lld,\"evidence\":", v->op,
             (long long)v->vtime);
    put_raw(buf, cap, &pos, num);
    put_jstr(buf, cap, &pos, v->evidence);
    put_raw(buf, cap, &pos, ",\"cause\":");
    put_jstr(buf, cap, &pos, af_cause_name(v->cause) ? af_cause_name(v->cause) : "?");
    put_raw(buf, cap, &pos, ",\"cause_why\":");
    put_jstr(buf, cap, &pos, v->cause_why);
    snprintf(num, sizeof num,
             ",\"signature\":{\"hash\":\"%016llx\",\"text\":", (unsigned long long)v->signature);
    put_raw(buf, cap, &pos, num);
    put_jstr(buf, cap, &pos, v->signature_text);
    put_raw(buf, cap, &pos, "}}");
    return finish(buf, cap, pos);
}

/* ---- shared helpers (oracle.h) -------------------------------------------- */

static const char *short_name(const char *t)
{
    if (!t)
        return "";
    const char *dot = strrchr(t, '.');
    return dot ? dot + 1 : t;
}

int af_exc_is_exact_cancelled(const char *t)
{
    return t && (strcmp(t, "asyncio.exceptions.CancelledError") == 0 ||
                 strcmp(t, "CancelledError") == 0 || strcmp(t, "asyncio.CancelledError") == 0 ||
                 strcmp(t, "concurrent.futures._base.CancelledError") == 0);
}

int af_exc_is_cancelled(const char *t)
{
    return af_exc_is_exact_cancelled(t) || strcmp(short_name(t), "AppCancelled") == 0 ||
           (t && strstr(t, "CancelledError") != NULL);
}

int af_exc_is_timeout(const char *t)
{
    return t && (strcmp(t, "builtins.TimeoutError") == 0 || strcmp(t, "TimeoutError") == 0 ||
                 strcmp(t, "asyncio.exceptions.TimeoutError") == 0 ||
                 strcmp(t, "asyncio.TimeoutError") == 0);
}

int af_exc_is_escape(const char *t)
{
    const char *n = short_name(t);
    return t && (strcmp(n, "KeyboardInterrupt") == 0 || strcmp(n, "SystemExit") == 0 ||
                 strcmp(n, "WatchdogExpired") == 0);
}

/* Whether an op of s raises an exception of kind k. */
static int scenario_raises(const af_scenario *s, af_exc_kind k)
{
    for (int i = 0; i < s->nops; i++) {
        const af_op *op = &s->ops[i];
        if (op->exc.kind == k &&
            (op->kind == AF_OP_RAISE ||
             (op->kind == AF_OP_TRY && op->on_cancel == AF_ON_CANCEL_RAISE) ||
             (op->kind == AF_OP_EXCEPT_STAR && op->reaction == AF_REACT_RAISE)))
            return 1;
    }
    return 0;
}

int af_escape_is_targets(const af_scenario *s, const char *exc_type)
{
    const char *n = short_name(exc_type);
    if (!s || !exc_type || (strcmp(n, "SystemExit") != 0 && strcmp(n, "KeyboardInterrupt") != 0))
        return 0;
    return !scenario_raises(s, strcmp(n, "SystemExit") == 0 ? AF_EXC_SYSTEM_EXIT
                                                            : AF_EXC_KEYBOARD_INTERRUPT);
}

const char *af_target_escape(const af_scenario *s, const af_trace *tr)
{
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        const char *n = short_name(e->exc_type);
        if (e->kind != AF_EV_END || e->outcome != AF_OUT_EXCEPTION ||
            (strcmp(n, "SystemExit") != 0 && strcmp(n, "KeyboardInterrupt") != 0))
            continue;
        return af_escape_is_targets(s, e->exc_type) ? e->exc_type : NULL;
    }
    return NULL;
}

int af_exc_is_runtime_error(const char *t)
{
    return t && (strcmp(t, "builtins.RuntimeError") == 0 || strcmp(t, "RuntimeError") == 0);
}

const af_tinfo *af_ctx_task(const af_ctx *c, int id)
{
    if (id < 0 || id >= c->ntasks || !c->tasks[id].seen)
        return NULL;
    return &c->tasks[id];
}

int af_ctx_open_op(const af_ctx *c, int task, int at)
{
    int stack[AF_MAX_OPS + 8];
    int n = 0;
    const af_trace *tr = c->tr;
    if (at > tr->nevents)
        at = tr->nevents;
    for (int i = 0; i < at; i++) {
        const af_event *e = &tr->events[i];
        if (e->task != task)
            continue;
        if (e->kind == AF_EV_OP_ENTER) {
            if (n < (int)(sizeof stack / sizeof stack[0]))
                stack[n++] = e->op;
        } else if (e->kind == AF_EV_OP_EXIT) {
            /* pop up to and including the matching op */
            for (int j = n - 1; j >= 0; j--)
                if (stack[j] == e->op) {
                    n = j;
                    break;
                }
        }
    }
    return n ? stack[n - 1] : -1;
}

int af_ctx_op_open(const af_ctx *c, int task, int op, int at)
{
    int open = 0;
    const af_trace *tr = c->tr;
    if (at > tr->nevents)
        at = tr->nevents;
    for (int i = 0; i < at; i++) {
        const af_event *e = &tr->events[i];
        if (e->task != task || e->op != op)
            continue;
        if (e->kind == AF_EV_OP_ENTER)
            open = 1;
        else if (e->kind == AF_EV_OP_EXIT)
            open = 0;
    }
    return open;
}

int af_ctx_task_op(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    if (!t)
        return -1;
    if (t->op >= 0 && c->s && t->op < c->s->nops)
        return t->op;
    if (c->s && t->ir_task > 0 && t->ir_task < c->s->ntasks)
        return c->s->tasks[t->ir_task].parent;
    if (t->parent >= 0)
        return af_ctx_open_op(c, t->parent, t->new_ev);
    return -1;
}

af_op_kind af_ctx_op_kind(const af_ctx *c, int op)
{
    if (!c->s || op < 0 || op >= c->s->nops)
        return AF_OP_KIND_COUNT;
    return c->s->ops[op].kind;
}

int af_ctx_nth_op_of_kind(const af_ctx *c, af_op_kind kind, int n)
{
    if (!c->s)
        return -1;
    for (int i = 0; i < c->s->nops; i++)
        if (c->s->ops[i].kind == kind && n-- == 0)
            return i;
    return -1;
}

int af_ctx_probe_of_ir(const af_ctx *c, int ir_task)
{
    if (ir_task < 0 || ir_task >= AF_MAX_TASKS)
        return -1;
    return c->ir_to_probe[ir_task];
}

const char *af_q(const char *s, char *buf, size_t cap)
{
    if (!s)
        return "None";
    snprintf(buf, cap, "'%s'", s);
    return buf;
}

int af_emit(af_ctx *c, af_rule rule, int task, int op, int event, const char *fmt, ...)
{
    af_oracle o = af_rule_defs[rule].oracle;
    af_verdict v;
    memset(&v, 0, sizeof v);
    v.oracle = o;
    v.rule = rule;
    v.cause_rule = AF_CAUSE_RULE_COUNT;
    v.task = task;
    v.event = event;
    v.vtime = event >= 0 && event < c->tr->nevents ? c->tr->events[event].vtime : 0;
    const af_tinfo *t = af_ctx_task(c, task);
    v.ir_task = t ? t->ir_task : -1;
    if (t && t->name)
        snprintf(v.task_name, sizeof v.task_name, "%s", t->name);
    if (!c->s || op < 0 || op >= c->s->nops)
        op = -1;
    v.op = op;
    char shape[200] = "", prims[200] = "";
    if (op >= 0) {
        af_op_path(c->s, op, v.path, sizeof v.path);
        af_op_path_shape(c->s, op, shape, sizeof shape);
        prim_stack(c->s, op, prims, sizeof prims);
    } else if (c->s && v.ir_task >= 0 && v.ir_task < c->s->ntasks) {
        snprintf(v.path, sizeof v.path, "%s", c->s->tasks[v.ir_task].name);
    } else {
        snprintf(v.path, sizeof v.path, "%s", v.task_name);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.evidence, sizeof v.evidence, fmt, ap);
    va_end(ap);
    const char *innermost = strrchr(prims, '>');
    innermost = innermost ? innermost + 1 : prims;
    snprintf(v.signature_text, sizeof v.signature_text, "%s|%s|%s", af_oracle_name(o), innermost,
             af_rule_defs[rule].code);
    v.signature = af_hash64(v.signature_text, strlen(v.signature_text));

    af_verdict_list *l = c->out;
    c->last = -1;
    for (int i = 0; i < l->count; i++)
        if (l->items[i].oracle == o && l->items[i].task == task && l->items[i].op == op &&
            l->items[i].signature == v.signature)
            return 0;
    if (l->count >= AF_MAX_VERDICTS) {
        l->dropped++;
        return 0;
    }
    c->last = l->count;
    l->items[l->count++] = v;
    c->added++;
    return 1;
}

af_blame af_because(af_cause_rule rule, char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return (af_blame){(af_cause)af_cause_rule_defs[rule].cause, rule};
}

af_blame af_inherit(af_cause_rule rule, af_blame inherited, char *why, size_t cap, const char *fmt,
                    ...)
{
    (void)rule; /* names the rule at the call; its cause is `inherited`'s */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return inherited;
}

void af_cause_last(af_ctx *c, af_cause_rule rule, const char *fmt, ...)
{
    if (c->last < 0 || c->last >= c->out->count)
        return;
    af_verdict *v = &c->out->items[c->last];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->cause_why, sizeof v->cause_why, fmt, ap);
    va_end(ap);
    v->cause = (af_cause)af_cause_rule_defs[rule].cause;
    v->cause_rule = rule;
}

void af_cause_last_as(af_ctx *c, af_blame blame, const char *why)
{
    if (c->last < 0 || c->last >= c->out->count)
        return;
    af_verdict *v = &c->out->items[c->last];
    v->cause = blame.cause;
    v->cause_rule = blame.rule;
    snprintf(v->cause_why, sizeof v->cause_why, "%s", why);
}
