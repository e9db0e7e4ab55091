/* codegen.c - a scenario as a standalone Python program (codegen.h).
 *
 * Every construct is written the way interp.py runs it, with the same probe
 * helpers at the same points (op_scope around every op that may suspend or
 * owns a body, start() for every task, ...): the two must give the same
 * trace, and tests/unit/test_codegen.c checks that they do, op kind by op
 * kind. Change this file and harness/py/interp.py together.
 */
#include "reports/repro.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/py_embed.h"
#include "reports/repro_checks.h"

/* CPython compiles at most 20 statically nested blocks per function (with,
 * async with, for, try, finally, except handlers: CO_MAXBLOCKS); one op puts
 * at most OP_MAX_BLOCKS around its own bodies (try with except ... as e and
 * finally: with, try, handler, handler cleanup). An op that would pass the
 * limit is written as a coroutine function of its own, nest_<op>(), awaited
 * where it stood: the same task, the same exceptions, and a `return` inside
 * comes back as the function's value and is returned again (NORET: it ran
 * to its end), as interp.py's run_body passes it on. */
#define PY_MAX_BLOCKS 20
#define OP_MAX_BLOCKS 4

typedef struct gen {
    const af_scenario *s;
    const char *T; /* where the primitives come from: "asyncio" or "target" (an adapter) */
    bool stock;    /* stock asyncio: its reproducers use the asyncio module itself */
    char *buf;
    size_t len, cap;
    bool oom;
    int blocks;              /* static blocks around the line being written */
    int hoisted[AF_MAX_OPS]; /* ops written as nest_<op>() functions, in order */
    int nhoisted;
} gen;

static void put_n(gen *g, const char *text, size_t n)
{
    if (g->oom)
        return;
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (g->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(g->buf, cap);
        if (!nb) {
            g->oom = true;
            return;
        }
        g->buf = nb;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, text, n);
    g->len += n;
    g->buf[g->len] = '\0';
}

static void put(gen *g, const char *text)
{
    put_n(g, text, strlen(text));
}

static void putf(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(gen *g, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        g->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        put_n(g, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        g->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put_n(g, big, (size_t)n);
    free(big);
}

static void ind(gen *g, int depth)
{
    for (int i = 0; i < depth; i++)
        put_n(g, "    ", 4);
}

/* A Python string literal ("..."); UTF-8 passes through, control
 * characters, quotes and backslashes are escaped. */
static void put_lit(gen *g, const char *text)
{
    put_n(g, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put_n(g, esc, 2);
        } else if (*p == '\n') {
            put_n(g, "\\n", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(g, esc);
        } else {
            put_n(g, (const char *)p, 1);
        }
    }
    put_n(g, "\"", 1);
}

/* A comment's text: one line, control characters replaced. */
static void put_comment_text(gen *g, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        put_n(g, (*p < 0x20 || *p == 0x7f) ? " " : (const char *)p, 1);
}

static const char *const exc_class[AF_EXC_KIND_COUNT] = {
    "AppError", "ValueError", "KeyboardInterrupt", "SystemExit", "AppCancelled",
};
static const char *const match_class[AF_MATCH_COUNT] = {
    "AppError",
    "ValueError",
    "Exception",
    "asyncio.CancelledError",
};
static const char *const return_when_const[AF_WHEN_COUNT] = {
    "asyncio.ALL_COMPLETED",
    "asyncio.FIRST_COMPLETED",
    "asyncio.FIRST_EXCEPTION",
};
static const char *const nested_call[AF_NESTED_COUNT] = {
    "asyncio.run(nested_target())",
    "loop.run_until_complete(nested_target())",
    "loop.run_forever()",
};

static const char *exc_name(af_exc_kind k)
{
    return (unsigned)k < AF_EXC_KIND_COUNT ? exc_class[k] : "AppError";
}

static void put_ticks(gen *g, int32_t t)
{
    if (t == AF_NONE)
        put(g, "None");
    else
        putf(g, "%d", (int)t);
}

/* start(op, "name", task_name(), ir_task ...) for one child task. */
static void put_start(gen *g, int op, int t, const char *extra)
{
    const af_task *task = &g->s->tasks[t];
    putf(g, "start(%d, ", op);
    put_lit(g, task->name);
    putf(g, ", task_%s(), %d%s)", task->name, t, extra ? extra : "");
}

/* One start(...) per child, one per line, each followed by ",". */
static void put_children(gen *g, int op, const af_tasklist *list, int depth)
{
    for (int t = list->head; t != AF_NIL; t = g->s->tasks[t].next) {
        ind(g, depth);
        put_start(g, op, t, NULL);
        put(g, ",\n");
    }
}

static void emit_body(gen *g, const af_body *body, int depth);

/* A body inside `extra` more static blocks. */
static void emit_body_in(gen *g, const af_body *body, int depth, int extra)
{
    int saved = g->blocks;
    g->blocks += extra;
    emit_body(g, body, depth);
    g->blocks = saved;
}

/* ---- one emitter per op kind: the op's Python as interp.py runs it ---- */

typedef void emit_fn(gen *g, int i, int depth);

static const af_op *op_at(gen *g, int i)
{
    return &g->s->ops[i];
}

/* `with op_scope(i):`, or `with op_scope(i) as oi:` when the op's code
 * sets a detail on it. */
static void put_op_scope(gen *g, int i, int depth, bool named)
{
    ind(g, depth);
    if (named)
        putf(g, "with op_scope(%d) as o%d:\n", i, i);
    else
        putf(g, "with op_scope(%d):\n", i);
}

static void emit_sleep(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "await %s.sleep(%d)%s\n", g->T, (int)op->ticks,
         op->ticks == 0 ? "  # a bare yield" : "");
}

static void emit_return(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "return %d\n", (int)op_at(g, i)->value);
}

static void emit_raise(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "raise %s(%d)\n", exc_name(op->exc.kind), (int)op->exc.id);
}

static void emit_spawn(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    char extra[64] = "";
    if (!op->keep)
        strcat(extra, ", keep=False");
    if (op->ref != AF_NIL)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ", group=\"%s\"",
                 g->s->ops[op->ref].name);
    ind(g, depth);
    put_start(g, i, op->children.head, extra);
    put(g, op->keep ? "\n" : "  # the reference is dropped (misuse)\n");
}

static void emit_await(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "await await_task(%d, ", i);
    put_lit(g, g->s->tasks[op_at(g, i)->ref].name);
    put(g, ")\n");
}

static void emit_cancel(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "cancel_task(%d, ", i);
    if (op->ref == AF_SELF)
        put(g, "None");
    else
        put_lit(g, g->s->tasks[op->ref].name);
    if (op->has_msg) {
        put(g, ", msg=");
        put_lit(g, op->msg);
    }
    if (op->value != 1)
        putf(g, ", count=%d", (int)op->value);
    if (op->uncancel)
        put(g, ", uncancel=True");
    put(g, op->ref == AF_SELF ? ")  # the current task\n" : ")\n");
}

static void emit_gather(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, true);
    ind(g, depth + 1);
    putf(g, "o%d.detail = repr_text(await %s.gather(\n", i, g->T);
    put_children(g, i, &op->children, depth + 2);
    ind(g, depth + 2);
    putf(g, "return_exceptions=%s))\n", op->return_exceptions ? "True" : "False");
}

/* Whether the timeout or task group op i is a scope a cancel_scope names
 * (made with cancellable=True, registered with contract.made_scope). */
static bool cancellable(const gen *g, int i)
{
    for (int k = 0; k < g->s->nops; k++)
        if (g->s->ops[k].kind == AF_OP_CANCEL_SCOPE && g->s->ops[k].ref == i)
            return true;
    return false;
}

static void emit_task_group(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    if (cancellable(g, i)) {
        put(g, "async with contract.made_scope(");
        put_lit(g, op->name);
        put(g, ", target.TaskGroup(cancellable=True)) as tg:\n");
    } else {
        putf(g, "async with %s.TaskGroup() as tg:\n", g->T);
    }
    ind(g, depth + 2);
    put(g, "groups[");
    put_lit(g, op->name);
    put(g, "] = tg\n");
    for (int t = op->children.head; t != AF_NIL; t = g->s->tasks[t].next) {
        char extra[64];
        snprintf(extra, sizeof extra, ", group=\"%s\"", op->name);
        ind(g, depth + 2);
        put_start(g, i, t, extra);
        put(g, "\n");
    }
    if (op->body.head != AF_NIL)
        emit_body_in(g, &op->body, depth + 2, 2);
}

static void emit_wait_for(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "with wait_for_scope(%d, ", i);
    put_ticks(g, op->ticks);
    put(g, "):\n");
    ind(g, depth + 1);
    putf(g, "await %s.wait_for(body_%d(), ", g->T, i);
    put_ticks(g, op->ticks);
    put(g, ")\n");
}

/* timeout(delay) / timeout_at(now() + delay) of `ns`, with the extra
 * keyword arguments `kw` (", cancellable=True" or ""). */
static void put_timeout_call(gen *g, const af_op *op, const char *ns, const char *kw)
{
    if (op->at && op->ticks != AF_NONE)
        putf(g, "%s.timeout_at(now() + %d%s)", ns, (int)op->ticks, kw);
    else if (op->at)
        putf(g, "%s.timeout_at(None%s)", ns, kw);
    else {
        putf(g, "%s.timeout(", ns);
        put_ticks(g, op->ticks);
        putf(g, "%s)", kw);
    }
}

static void emit_timeout(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    bool scope = cancellable(g, i);
    put_op_scope(g, i, depth, true);
    ind(g, depth + 1);
    if (g->stock && !scope) {
        put(g, "async with ");
        put_timeout_call(g, op, "asyncio", "");
        put(g, " as cm:\n");
    } else { /* the object made is the timeout (its __aenter__ may return another) */
        put(g, scope ? "cm = contract.made_scope(" : "cm = ");
        if (scope) {
            put_lit(g, op->name);
            put(g, ", ");
        }
        put_timeout_call(g, op, "target", scope ? ", cancellable=True" : "");
        put(g, scope ? ")\n" : "\n");
        ind(g, depth + 1);
        put(g, "async with cm:\n");
    }
    ind(g, depth + 2);
    putf(g, "o%d.cm = timeouts[", i);
    put_lit(g, op->name);
    put(g, "] = cm\n");
    if (op->body.head != AF_NIL)
        emit_body_in(g, &op->body, depth + 2, 2);
}

static void emit_reschedule(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "reschedule(%d, ", i);
    put_lit(g, g->s->ops[op->ref].name);
    put(g, ", ");
    put_ticks(g, op->ticks);
    put(g, ")  # now() + delay\n");
}

static void emit_shield(gen *g, int i, int depth)
{
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    putf(g, "await %s.shield(", g->T);
    put_start(g, i, op_at(g, i)->children.head, NULL);
    put(g, ")\n");
}

static void emit_wait(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, true);
    ind(g, depth + 1);
    putf(g, "done, pending = await %s.wait([\n", g->T);
    put_children(g, i, &op->children, depth + 2);
    ind(g, depth + 1);
    put(g, "], timeout=");
    put_ticks(g, op->ticks);
    putf(g, ", return_when=%s)\n", return_when_const[op->return_when % AF_WHEN_COUNT]);
    ind(g, depth + 1);
    putf(g, "o%d.detail = (len(done), len(pending))\n", i);
    if (op->cancel_pending) {
        ind(g, depth + 1);
        putf(g, "cancel_all(%d, pending)\n", i);
    }
}

static void emit_as_completed(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    putf(g, "for f in %s.as_completed([\n", g->T);
    put_children(g, i, &op->children, depth + 2);
    ind(g, depth + 1);
    put(g, "], timeout=");
    put_ticks(g, op->ticks);
    put(g, "):\n");
    ind(g, depth + 2);
    put(g, "await f\n");
}

/* try's `except asyncio.CancelledError as e:` clause. */
static void emit_try_on_cancel(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    ind(g, depth);
    put(g, "except asyncio.CancelledError as e:\n");
    ind(g, depth + 1);
    putf(g, "caught(%d, e)\n", i);
    ind(g, depth + 1);
    switch (op->on_cancel) {
    case AF_ON_CANCEL_RERAISE:
        put(g, "raise\n");
        break;
    case AF_ON_CANCEL_UNCANCEL:
        putf(g, "uncancel_self(%d)  # asyncio.current_task().uncancel(), and go on\n", i);
        break;
    case AF_ON_CANCEL_RAISE:
        putf(g, "raise %s(%d)\n", exc_name(op->exc.kind), (int)op->exc.id);
        break;
    default:
        put(g, "pass  # the cancellation is swallowed (misuse)\n");
        break;
    }
}

static void emit_try(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    bool handlers = op->on_cancel != AF_ON_CANCEL_NONE || op->on_error != AF_ON_ERROR_NONE;
    put_op_scope(g, i, depth, false);
    if (!handlers && !op->has_finally) {
        emit_body_in(g, &op->body, depth + 1, 1);
        return;
    }
    ind(g, depth + 1);
    put(g, "try:\n");
    emit_body_in(g, &op->body, depth + 2, 1 + handlers + op->has_finally);
    if (op->on_cancel != AF_ON_CANCEL_NONE)
        emit_try_on_cancel(g, i, depth + 1);
    if (op->on_error == AF_ON_ERROR_SWALLOW) {
        ind(g, depth + 1);
        put(g, "except Exception:\n");
        ind(g, depth + 2);
        put(g, "pass\n");
    }
    if (op->has_finally) {
        ind(g, depth + 1);
        put(g, "finally:\n");
        ind(g, depth + 2);
        putf(g, "entered_finally(%d)\n", i);
        if (op->finally_body.head != AF_NIL)
            emit_body_in(g, &op->finally_body, depth + 2, 2);
    }
}

static void emit_except_star(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    put(g, "try:\n");
    emit_body_in(g, &op->body, depth + 2, 2);
    ind(g, depth + 1);
    putf(g, "except* %s as eg:\n", match_class[op->match % AF_MATCH_COUNT]);
    if (op->match == AF_MATCH_CANCELLED) {
        ind(g, depth + 2);
        putf(g, "caught_group(%d, eg)\n", i);
    }
    ind(g, depth + 2);
    if (op->reaction == AF_REACT_RERAISE)
        put(g, "raise\n");
    else if (op->reaction == AF_REACT_RAISE)
        putf(g, "raise %s(%d)\n", exc_name(op->exc.kind), (int)op->exc.id);
    else
        put(g, "pass\n");
}

static void emit_hold(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    putf(g, "acquire(%d, ", i);
    put_lit(g, op->name);
    put(g, ")\n");
    ind(g, depth + 1);
    put(g, "try:\n");
    emit_body_in(g, &op->body, depth + 2, 2);
    ind(g, depth + 1);
    put(g, "finally:\n");
    if (op->ticks != AF_NONE) {
        ind(g, depth + 2);
        putf(g, "await %s.sleep(%d)\n", g->T, (int)op->ticks);
    }
    ind(g, depth + 2);
    putf(g, "release(%d, ", i);
    put_lit(g, op->name);
    put(g, ")\n");
}

/* prims["name"] */
static void put_prim(gen *g, const af_op *op)
{
    put(g, "prims[");
    put_lit(g, g->s->prims[op->ref].name);
    put(g, "]");
}

static void emit_event_set(gen *g, int i, int depth)
{
    ind(g, depth);
    put_prim(g, op_at(g, i));
    put(g, ".set()\n");
}

/* with op_scope(i):  await prims["name"]<call> */
static void emit_prim_await(gen *g, int i, int depth, const char *call)
{
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    put(g, "await ");
    put_prim(g, op_at(g, i));
    put(g, call);
}

static void emit_event_wait(gen *g, int i, int depth)
{
    emit_prim_await(g, i, depth, ".wait()\n");
}

static void emit_queue_get(gen *g, int i, int depth)
{
    emit_prim_await(g, i, depth, ".get()\n");
}

static void emit_queue_put(gen *g, int i, int depth)
{
    char call[32];
    snprintf(call, sizeof call, ".put(%d)\n", (int)op_at(g, i)->value);
    emit_prim_await(g, i, depth, call);
}

/* lock, semaphore: async with prims["name"]: body */
static void emit_async_with(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    put(g, "async with ");
    put_prim(g, op);
    put(g, ":\n");
    emit_body_in(g, &op->body, depth + 2, 2);
}

/* cond_wait, cond_notify: with op_scope(i):  async with cond:  <line> */
static void emit_with_condition(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    put(g, "async with ");
    put_prim(g, op);
    put(g, ":\n");
    ind(g, depth + 2);
    if (op->kind == AF_OP_COND_WAIT)
        put(g, "await ");
    put_prim(g, op);
    if (op->kind == AF_OP_COND_WAIT)
        put(g, ".wait()\n");
    else if (op->value == AF_NONE)
        put(g, ".notify_all()\n");
    else
        putf(g, ".notify(%d)\n", (int)op->value);
}

static void emit_nested_run(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    putf(g, "nested_run(%d, %d)  # %s inside the running loop (misuse)\n", i, (int)op->nested,
         nested_call[op->nested % AF_NESTED_COUNT]);
}

static void emit_block(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "block(%d)  # a blocking call holding the loop (misuse)\n", (int)op_at(g, i)->ticks);
}

static void emit_never_awaited(gen *g, int i, int depth)
{
    (void)i;
    ind(g, depth);
    put(g, "never_awaited_coro()  # a coroutine created and never awaited (misuse)\n");
}

static void emit_cancel_scope(gen *g, int i, int depth)
{
    put_op_scope(g, i, depth, true);
    ind(g, depth + 1);
    putf(g, "o%d.detail = contract.op_cancel_scope(%d, ", i, i);
    put_lit(g, g->s->ops[op_at(g, i)->ref].name);
    put(g, ")\n");
}

static void emit_start(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    const af_task *task = &g->s->tasks[op->children.head];
    put_op_scope(g, i, depth, true);
    ind(g, depth + 1);
    putf(g, "o%d.detail = repr(await contract.op_start(%d, ", i, i);
    put_lit(g, task->name);
    putf(g, ", %d, task_%s, ", (int)op->children.head, task->name);
    if (op->ref == AF_NIL)
        put(g, "None");
    else
        put_lit(g, g->s->ops[op->ref].name);
    put(g, "))\n");
}

static void emit_started(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "contract.op_started(%d, %d)  # task_status.started(value)\n", i,
         (int)op_at(g, i)->value);
}

/* schedule(i, "name", via, delay, past, cb_<i>): h = loop.call_soon(...) /
 * call_later / call_at; the callback cb_<i> is written after the tasks. */
static void emit_call(gen *g, int i, int depth)
{
    static const char *const via[AF_VIA_COUNT] = {
        "loop.call_soon(cb)",
        "loop.call_later(delay, cb)",
        "loop.call_at(loop.time() +/- delay, cb)",
    };
    const af_op *op = op_at(g, i);
    ind(g, depth);
    putf(g, "schedule(%d, ", i);
    put_lit(g, op->name);
    putf(g, ", %d, %d, %s, cb_%d)  # %s\n", (int)op->via, (int)op->ticks, op->at ? "True" : "False",
         i, via[op->via % AF_VIA_COUNT]);
}

static void emit_cancel_handle(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "cancel_handle(%d, ", i);
    put_lit(g, g->s->ops[op_at(g, i)->ref].name);
    put(g, ")  # h.cancel()\n");
}

static void emit_stop(gen *g, int i, int depth)
{
    ind(g, depth);
    putf(g, "stop_loop(%d)  # loop.stop()\n", i);
}

static void emit_reenter(gen *g, int i, int depth)
{
    const af_op *op = op_at(g, i);
    put_op_scope(g, i, depth, false);
    ind(g, depth + 1);
    putf(g, "reenter(%d, %d, reenter_%d())  # %s from inside the running loop\n", i,
         (int)op->nested, i,
         op->nested == AF_NESTED_ASYNCIO_RUN ? "asyncio.run(...)" : "loop.run_until_complete(...)");
}

/* The emitter of each kind, and whether its code opens a block (everything
 * written inside `with op_scope`; see PY_MAX_BLOCKS). */
static const struct {
    emit_fn *emit;
    bool opens_block;
} emitters[AF_OP_KIND_COUNT] = {
    [AF_OP_SLEEP] = {emit_sleep, false},
    [AF_OP_RETURN] = {emit_return, false},
    [AF_OP_RAISE] = {emit_raise, false},
    [AF_OP_SPAWN] = {emit_spawn, false},
    [AF_OP_AWAIT] = {emit_await, false},
    [AF_OP_CANCEL] = {emit_cancel, false},
    [AF_OP_GATHER] = {emit_gather, true},
    [AF_OP_TASKGROUP] = {emit_task_group, true},
    [AF_OP_WAIT_FOR] = {emit_wait_for, true},
    [AF_OP_TIMEOUT] = {emit_timeout, true},
    [AF_OP_RESCHEDULE] = {emit_reschedule, false},
    [AF_OP_SHIELD] = {emit_shield, true},
    [AF_OP_WAIT] = {emit_wait, true},
    [AF_OP_AS_COMPLETED] = {emit_as_completed, true},
    [AF_OP_TRY] = {emit_try, true},
    [AF_OP_EXCEPT_STAR] = {emit_except_star, true},
    [AF_OP_HOLD] = {emit_hold, true},
    [AF_OP_EVENT_SET] = {emit_event_set, false},
    [AF_OP_EVENT_WAIT] = {emit_event_wait, true},
    [AF_OP_LOCK] = {emit_async_with, true},
    [AF_OP_COND_WAIT] = {emit_with_condition, true},
    [AF_OP_COND_NOTIFY] = {emit_with_condition, true},
    [AF_OP_SEMAPHORE] = {emit_async_with, true},
    [AF_OP_QUEUE_PUT] = {emit_queue_put, true},
    [AF_OP_QUEUE_GET] = {emit_queue_get, true},
    [AF_OP_NESTED_RUN] = {emit_nested_run, true},
    [AF_OP_BLOCK] = {emit_block, false},
    [AF_OP_NEVER_AWAITED] = {emit_never_awaited, false},
    [AF_OP_CANCEL_SCOPE] = {emit_cancel_scope, true},
    [AF_OP_START] = {emit_start, true},
    [AF_OP_STARTED] = {emit_started, false},
    [AF_OP_CALL] = {emit_call, false},
    [AF_OP_CANCEL_HANDLE] = {emit_cancel_handle, false},
    [AF_OP_STOP] = {emit_stop, false},
    [AF_OP_REENTER] = {emit_reenter, true},
};

/* Past the block limit: the op's call in place, its function later. */
static bool emit_hoisted_call(gen *g, int i, int depth)
{
    af_op_kind k = g->s->ops[i].kind;
    bool opens_block = (unsigned)k >= AF_OP_KIND_COUNT || emitters[k].opens_block;
    if (!opens_block || g->blocks + OP_MAX_BLOCKS <= PY_MAX_BLOCKS || g->nhoisted >= AF_MAX_OPS)
        return false;
    g->hoisted[g->nhoisted++] = i;
    ind(g, depth);
    putf(g, "r%d = await nest_%d()  # op %d: past Python's 20 nested blocks\n", i, i, i);
    ind(g, depth);
    putf(g, "if r%d is not NORET:\n", i);
    ind(g, depth + 1);
    putf(g, "return r%d\n", i);
    return true;
}

static void emit_op(gen *g, int i, int depth)
{
    af_op_kind k = g->s->ops[i].kind;
    if (emit_hoisted_call(g, i, depth))
        return;
    if ((unsigned)k < AF_OP_KIND_COUNT && emitters[k].emit) {
        emitters[k].emit(g, i, depth);
        return;
    }
    ind(g, depth);
    putf(g, "raise ValueError(\"unknown op kind %d\")\n", (int)k);
}

static void emit_body(gen *g, const af_body *body, int depth)
{
    if (body->head == AF_NIL) {
        ind(g, depth);
        put(g, "pass\n");
        return;
    }
    int n = 0;
    for (int o = body->head; o != AF_NIL && n < AF_MAX_OPS; o = g->s->ops[o].next, n++)
        emit_op(g, o, depth);
}

/* One check (repro.h): check(seen, ORACLE, <does the run show it?>, WORDS). */
static void emit_check(gen *g, const struct af_repro_assert *a)
{
    const char *oracle = a->oracle ? a->oracle : "";
    const char *words = a->words ? a->words : oracle;
    if (a->anchor) {
        ind(g, 1);
        put(g, "# the rule behind this verdict is finer than the helper restating its\n");
        ind(g, 1);
        put(g, "# oracle: the check is the event it was decided on, as recorded\n");
    }
    ind(g, 1);
    put(g, "check(seen, ");
    put_lit(g, oracle);
    put(g, ", ");
    if (a->anchor) {
        put(g, a->anchor);
    } else if (!strcmp(oracle, "hang") || !strcmp(oracle, "deadlock")) {
        putf(g, "budget_hit(events, \"%s\")", oracle);
    } else if (!strcmp(oracle, "differential")) {
        put(g, g->stock ? "outcomes_differ(events, run_scenario(not pure))"
                        : "outcomes_differ(events, run_reference(pure))");
    } else {
        int o = af_oracle_from_name(oracle);
        const char *helper = o >= 0 ? af_repro_helper_of((af_oracle)o) : NULL;
        if (helper) {
            putf(g, "%s(events, ", helper);
            if (a->task)
                put_lit(g, a->task);
            else
                put(g, "None");
            put(g, ")");
        } else {
            put(g, "None");
        }
    }
    put(g, ", ");
    put_lit(g, words);
    put(g, ")\n");
}

static const struct af_py_source *find_source(const char *name)
{
    for (const struct af_py_source *m = af_py_sources; m->name; m++)
        if (!strcmp(m->name, name))
            return m;
    return NULL;
}

/* A whole source file as a Python string literal: r'''...''' when that
 * is exact, else a one-line escaped literal. */
static void put_source_lit(gen *g, const char *src, size_t n)
{
    if (!memmem(src, n, "'''", 3) && !(n > 0 && src[n - 1] == '\\') && !memchr(src, '\0', n)) {
        put(g, "r'''");
        put_n(g, src, n);
        put(g, "'''");
        return;
    }
    char *z = malloc(n + 1);
    if (!z) {
        g->oom = true;
        return;
    }
    memcpy(z, src, n);
    z[n] = '\0';
    put_lit(g, z); /* stops at an embedded NUL: not a Python file anyway */
    free(z);
}

/* The text of a target adapter: harness/targets/target_<name>.py (embedded), or
 * the file `name` when it is a path (contains '/' or ends in .py). Sets
 * *modname ("target_<name>", "target_<file's stem>"); NULL when unknown or
 * unreadable. A file's text is malloc'd into *owned. */
static const char *target_source(const char *name, char *modname, size_t cap, size_t *len,
                                 char **owned)
{
    size_t nl = strlen(name);
    *owned = NULL;
    if (strchr(name, '/') || (nl > 3 && !strcmp(name + nl - 3, ".py"))) {
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        size_t bl = strlen(base);
        if (bl > 3 && !strcmp(base + bl - 3, ".py"))
            bl -= 3;
        snprintf(modname, cap, "target_%.*s", (int)bl, base);
        for (char *c = modname; *c; c++)
            if (*c == '-')
                *c = '_';
        FILE *f = fopen(name, "rb");
        if (!f)
            return NULL;
        size_t cap2 = 1 << 16, n = 0;
        char *buf = malloc(cap2);
        while (buf) {
            size_t r = fread(buf + n, 1, cap2 - n, f);
            n += r;
            if (n < cap2)
                break;
            char *nb = realloc(buf, cap2 * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap2 *= 2;
        }
        fclose(f);
        if (!buf)
            return NULL;
        *owned = buf;
        *len = n;
        return buf;
    }
    snprintf(modname, cap, "target_%s", name);
    const struct af_py_source *m = find_source(modname);
    if (!m)
        return NULL;
    *len = m->length;
    return m->source;
}

/* Whether s uses an op asyncio has no primitive for (the reproducer then
 * needs the contract and adapterlib's emulations even on stock asyncio). */
static bool uses_library_ops(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == AF_OP_CANCEL_SCOPE || s->ops[i].kind == AF_OP_START)
            return true;
    return false;
}

/* `module_from_source("name", <the embedded harness file>)` */
static int put_module(gen *g, const char *name, const char *assign)
{
    const struct af_py_source *m = find_source(name);
    if (!m)
        return -1;
    putf(g, "%smodule_from_source(\"%s\", ", assign, name);
    put_source_lit(g, m->source, m->length);
    put(g, ")\n");
    return 0;
}

/* The adapter section: the contract (harness/py/contract.py) as the module
 * `contract`, adapterlib and stock asyncio's adapter, then `target`, the
 * checked adapter of the run (target NULL: stock asyncio's). A file
 * adapter's folder goes on sys.path, as the harness puts it there. */
static int put_adapter(gen *g, const char *target, const char *modname, const char *tsrc,
                       size_t tlen)
{
    put(g, "\n\n# ==== the target adapter contract (harness/py/contract.py), adapterlib and "
           "stock\n# asyncio's adapter (harness/targets/): every primitive the scenario uses "
           "is\n# target.NAME; docs/VENDORS.md says what an adapter provides. ====\n");
    if (put_module(g, "contract", "contract = ") < 0)
        return -1;
    put(g, "contract.use_probe(globals())  # probe.py, pasted above\n");
    if (put_module(g, "adapterlib", "") < 0 || put_module(g, "target_asyncio", "") < 0)
        return -1;
    if (!target || !strcmp(modname, "target_asyncio")) {
        put(g, "target = contract.adopt(sys.modules[\"target_asyncio\"])\n");
        return 0;
    }
    char dir[PATH_MAX];
    if ((strchr(target, '/') || strstr(target, ".py")) && realpath(target, dir)) {
        *strrchr(dir, '/') = '\0';
        put(g, "sys.path.insert(0, ");
        put_lit(g, dir[0] ? dir : "/");
        put(g, ")  # the adapter's folder\n");
    }
    put(g, "\n# ==== the target adapter: ");
    put_comment_text(g, target);
    put(g, " ====\ntarget = contract.adopt(module_from_source(");
    put_lit(g, modname);
    put(g, ", ");
    put_source_lit(g, tsrc, tlen);
    put(g, "))\n");
    put(g, "use_loop(adapter(target.module))  # the target's own loop, if it brings one "
           "(loops.py)\n");
    put(g, "# stock asyncio, C tasks: what a differential check compares with\n"
           "reference = contract.adopt(sys.modules[\"target_asyncio\"])\n");
    return 0;
}

char *af_codegen_python(const af_scenario *s, const struct af_repro_assert *asserts,
                        size_t nasserts)
{
    return af_codegen_python_target(s, NULL, asserts, nasserts);
}

char *af_codegen_python_target(const af_scenario *s, const char *target,
                               const struct af_repro_assert *asserts, size_t nasserts)
{
    const struct af_py_source *vloop = find_source("vloop"), *probe = find_source("probe");
    const struct af_py_source *loops = find_source("loops");
    if (!vloop || !probe || !loops || s->ntasks < 1)
        return NULL;
    if (target && (!target[0] || !strcmp(target, "asyncio")))
        target = NULL; /* stock asyncio: the program of af_codegen_python */
    gen g = {.s = s, .T = target ? "target" : "asyncio", .stock = !target};
    bool contract = target || uses_library_ops(s);
    char modname[128] = "";
    size_t tlen = 0;
    char *towned = NULL;
    const char *tsrc = NULL;
    if (target) {
        tsrc = target_source(target, modname, sizeof modname, &tlen, &towned);
        if (!tsrc)
            return NULL;
    }

    put(&g, "#!/usr/bin/env python3\n# asyncfuzz reproducer, generated by reports/repro.c.\n#\n# ");
    put_comment_text(&g, s->description[0] ? s->description : "(no description)");
    put(&g, "\n#\n"
            "#   python3 prog.py                       run it, print a summary, run the checks:\n"
            "#                                         exit 1 and 'verdict: REPRODUCED' while the\n"
            "#                                         behaviour is there, exit 0 once it is gone\n"
            "#   python3 prog.py --trace               print the trace as JSON lines\n"
            "#   add --pure-python-tasks               to use asyncio's pure-Python Task\n"
            "#\n"
            "# The first two sections are asyncfuzz's virtual-time loop and probe, as the\n"
            "# harness runs them; the scenario follows. Durations are virtual ticks: the\n"
            "# loop's clock jumps to the next timer, so the program runs instantly.\n\n");
    put(&g, "# ==== harness/py/vloop.py ====\n");
    put_n(&g, vloop->source, vloop->length);
    put(&g, "\n\n# ==== harness/py/probe.py ====\n");
    put_n(&g, probe->source, probe->length);
    if (target || af_scenario_has_loop_ops(s)) {
        put(&g, "\n\n# ==== harness/py/loops.py ====\n");
        put_n(&g, loops->source, loops->length);
    }
    if (contract && put_adapter(&g, target, modname, tsrc, tlen) < 0) {
        free(towned);
        free(g.buf);
        return NULL;
    }
    free(towned);
    put(&g, "\n\n# ==== the scenario ====\nimport asyncio\nimport sys\n\n");

    put(&g, "# (name, kind, param): kind 0 Event, 1 Lock, 2 Condition, 3 Semaphore(param),\n"
            "# 4 Queue(maxsize=param); created into prims[name] when the run starts.\n");
    put(&g, "PRIMITIVES = (");
    for (int p = 0; p < s->nprims; p++) {
        put(&g, "(");
        put_lit(&g, s->prims[p].name);
        putf(&g, ", %d, %d), ", (int)s->prims[p].kind, (int)s->prims[p].param);
    }
    put(&g, ")\n");

    for (int t = 0; t < s->ntasks; t++) {
        putf(&g, "\n\nasync def task_%s():", s->tasks[t].name);
        if (t == 0)
            put(&g, "  # the root task\n");
        else
            putf(&g, "  # started by op %d\n", s->tasks[t].parent);
        emit_body(&g, &s->tasks[t].body, 1);
    }
    for (int i = 0; i < s->nops; i++) {
        if (s->ops[i].kind == AF_OP_WAIT_FOR)
            putf(&g, "\n\nasync def body_%d():  # the body of wait_for op %d\n", i, i);
        else if (s->ops[i].kind == AF_OP_CALL)
            putf(&g, "\n\ndef cb_%d():  # the callback of call op %d\n", i, i);
        else if (s->ops[i].kind == AF_OP_REENTER)
            putf(&g, "\n\nasync def reenter_%d():  # the body run by reenter op %d\n", i, i);
        else
            continue;
        emit_body(&g, &s->ops[i].body, 1);
    }
    for (int k = 0; k < g.nhoisted; k++) { /* may add more */
        int i = g.hoisted[k];
        putf(&g, "\n\nasync def nest_%d():  # op %d, in a function of its own\n", i, i);
        emit_op(&g, i, 1);
        put(&g, "    return NORET\n");
    }
    if (g.nhoisted > 0)
        put(&g, "\n\nNORET = object()  # what a nest_<op>() returns when it ran to its end\n");

    put(&g, "\n\ndef run_scenario(pure=False):\n");
    if (contract) { /* the adapter's hooks, its primitives made in the root task */
        putf(&g, "    return contract.run_on(target, %s, ", g.stock ? "True" : "False");
        put_lit(&g, s->tasks[0].name);
        putf(&g, ", task_%s, PRIMITIVES, DEFAULT_OPTIONS[:4] + (pure,))\n", s->tasks[0].name);
    } else {
        put(&g, "    return run(");
        put_lit(&g, s->tasks[0].name);
        putf(&g, ", task_%s, PRIMITIVES, DEFAULT_OPTIONS[:4] + (pure,))\n", s->tasks[0].name);
    }
    if (!g.stock) {
        put(&g,
            "\n\ndef run_reference(pure=False):\n"
            "    \"\"\"The scenario on stock asyncio (a differential check's reference).\"\"\"\n"
            "    global target\n"
            "    saved, target = target, reference\n"
            "    try:\n"
            "        return contract.run_on(target, True, ");
        put_lit(&g, s->tasks[0].name);
        putf(&g,
             ", task_%s, PRIMITIVES, DEFAULT_OPTIONS[:4] + (pure,))\n"
             "    finally:\n"
             "        target = saved\n",
             s->tasks[0].name);
    }
    put(&g, "\n\ndef main(argv):\n"
            "    pure = \"--pure-python-tasks\" in argv\n"
            "    events = run_scenario(pure)\n"
            "    if \"--trace\" in argv:\n"
            "        sys.stdout.write(trace_text(events))\n"
            "        return 0\n"
            "    print(interpreter_line())\n"
            "    print(summary(events))\n"
            "    seen = []\n");
    for (size_t k = 0; k < nasserts; k++)
        emit_check(&g, &asserts[k]);
    putf(&g,
         "    close_loop()\n"
         "    return verdict_line(seen, %d)\n"
         "\n\nif __name__ == \"__main__\":\n"
         "    sys.exit(main(sys.argv[1:]))\n",
         (int)nasserts);
    if (g.oom) {
        free(g.buf);
        return NULL;
    }
    return g.buf;
}
