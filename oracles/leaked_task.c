/* leaked_task.c - leaked-task: a task outlived the run, or a coroutine was
 * never awaited.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md); a pending task's
 * cause is its leak's (af_leak_cause, cause.c: the op responsible for it).
 * Reads the `pending` events, the loop exception handler's "Task was
 * destroyed but it is pending!" and the RuntimeWarnings "coroutine '...'
 * was never awaited". A task is located at the op that created it (spawn,
 * gather, ...), else the op owning its IR task, else the op its parent was
 * in; a coroutine at the never_awaited op (the n-th for the n-th such
 * warning), at the spawn that handed the task's coroutine ('task_<name>')
 * to asyncio, or at the wait_for whose body ('body_<op>') it is.
 */
#include <stdio.h>
#include <string.h>

#include "oracles/oracle.h"

static int shield_released(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    if (!t || !c->s || t->ir_task < 0)
        return 0;
    int owner = c->s->tasks[t->ir_task].parent;
    int shield_op = -1;
    if (owner >= 0 && owner < c->s->nops && c->s->ops[owner].kind == AF_OP_SHIELD)
        shield_op = owner;
    for (int i = 0; i < c->s->nops && shield_op < 0; i++)
        if (c->s->ops[i].kind == AF_OP_SHIELD && c->s->ops[i].ref == t->ir_task)
            shield_op = i;
    if (shield_op < 0)
        return 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_OP_EXIT && e->op == shield_op && e->exit == AF_OPEXIT_RAISE &&
            af_exc_is_cancelled(e->exc_type))
            return 1;
    }
    return 0;
}

static int already(const af_ctx *c, int task)
{
    for (int i = 0; i < c->out->count; i++)
        if (c->out->items[i].oracle == AF_ORACLE_LEAKED_TASK && c->out->items[i].task == task &&
            task >= 0)
            return 1;
    return 0;
}

static void leak(af_ctx *c, int task, int ev, const char *how)
{
    if (task < 0 || already(c, task) || shield_released(c, task))
        return;
    const af_tinfo *t = af_ctx_task(c, task);
    char why[AF_VERDICT_WHY_MAX];
    int mop = -1;
    af_blame k = af_leak_cause(c, task, why, sizeof why, &mop);
    int op = k.cause == AF_CAUSE_MISUSE && mop >= 0 ? mop : af_ctx_task_op(c, task);
    if (!af_emit(c, AF_RULE_LEAKED_PENDING, task, op, ev,
                 "task %s (created at vtime %lld) %s at vtime %lld", t && t->name ? t->name : "?",
                 t ? (long long)c->tr->events[t->new_ev].vtime : -1LL, how,
                 (long long)c->tr->events[ev].vtime))
        return;
    af_cause_last_as(c, k, why);
}

/* The spawn op whose task's coroutine is named 'task_<name>', -1. */
static int spawn_of_coro(const af_ctx *c, const char *coro)
{
    if (!c->s || strncmp(coro, "task_", 5) != 0)
        return -1;
    int t = af_find_task(c->s, coro + 5);
    if (t <= 0)
        return -1;
    return c->s->tasks[t].parent;
}

/* The wait_for op whose body coroutine is coro ("body_N", N the op's
 * index: harness/py/interp.py names it so), or -1: a wait_for that fails
 * before it awaits its body (3.12's timeout() outside a task, in a finally
 * run at the final collection) leaves it never awaited. */
static int wait_for_of_coro(const af_ctx *c, const char *coro)
{
    int i, end = 0;
    if (!c->s || sscanf(coro, "body_%d%n", &i, &end) != 1 || coro[end] != '\0' || i < 0 ||
        i >= c->s->nops || c->s->ops[i].kind != AF_OP_WAIT_FOR)
        return -1;
    return i;
}

/* The coroutine name inside "coroutine 'NAME' was never awaited". */
static int coro_name(const char *msg, char *out, size_t cap)
{
    const char *p = msg ? strstr(msg, "coroutine '") : NULL;
    if (!p || !strstr(msg, "was never awaited"))
        return 0;
    p += strlen("coroutine '");
    const char *q = strchr(p, '\'');
    if (!q)
        return 0;
    size_t n = (size_t)(q - p) < cap - 1 ? (size_t)(q - p) : cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static const char *coro_task_name(const char *coro)
{
    return strncmp(coro, "task_", 5) == 0 ? coro + 5 : coro;
}

/* Whether a coroutine name is `base`, maybe qualified ("probe.base"). */
static int coro_is(const char *coro, const char *base)
{
    size_t n = strlen(coro), m = strlen(base);
    return n >= m && strcmp(coro + n - m, base) == 0 && (n == m || coro[n - m - 1] == '.');
}

int af_is_nested_target(const char *coro)
{
    return coro_is(coro, "nested_target");
}

/* The cause of a never-awaited coroutine: where it came from. */
static void coro_cause(af_ctx *c, const char *name, int spawn, int op)
{
    if (spawn < 0 && op >= 0 && c->s->ops[op].kind == AF_OP_NEVER_AWAITED)
        af_cause_last(c, AF_CR_CORO_NEVER_AWAITED_OP,
                      "the coroutine of a never_awaited op (misuse)");
    else if (spawn >= 0)
        af_cause_last(c, AF_CR_CORO_HANDED_TO_ASYNCIO,
                      "the coroutine of task %s was handed to asyncio (%s%s) and never awaited nor "
                      "closed%s",
                      coro_task_name(name), af_op_kind_name(c->s->ops[spawn].kind),
                      c->s->ops[spawn].ref >= 0 ? " into a task group" : "",
                      c->s->ops[spawn].ref >= 0 ? " (gh-115957)" : "");
    else
        af_cause_last(c, AF_CR_CORO_UNKNOWN, "a coroutine no misuse op created was never awaited");
}

void af_oracle_leaked_task(af_ctx *c)
{
    if (c->budget_ev >= 0 || c->escaped)
        return;
    int nth = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_PENDING) {
            leak(c, e->task, i, "was still pending when the root task finished");
        } else if (e->kind == AF_EV_LOOP_EXC && e->msg &&
                   strstr(e->msg, "Task was destroyed but it is pending")) {
            leak(c, e->task, i, "was destroyed while pending");
        } else if (e->kind == AF_EV_WARNING) {
            char name[128];
            if (!coro_name(e->msg, name, sizeof name) || af_is_nested_target(name))
                continue;
            int spawn = spawn_of_coro(c, name), body_of = wait_for_of_coro(c, name);
            /* a never_awaited op's coroutine is probe.never_awaited_coro: any
             * other coroutine is not the misuse's */
            int op = spawn >= 0     ? spawn
                     : body_of >= 0 ? body_of
                     : coro_is(name, "never_awaited_coro")
                         ? af_ctx_nth_op_of_kind(c, AF_OP_NEVER_AWAITED, nth++)
                         : -1;
            int task = op >= 0 ? af_ctx_probe_of_ir(c, c->s->ops[op].task) : -1;
            if (af_emit(c, AF_RULE_LEAKED_NEVER_AWAITED, task, op, i,
                        "coroutine '%s' was never awaited (warning at vtime %lld)", name,
                        (long long)e->vtime))
                coro_cause(c, name, spawn, op);
        }
    }
}
