/* cause.c - the facts the cause rules of the oracles share (oracle.h).
 *
 * Every verdict carries a cause: target (asyncio broke a contract it
 * documents), misuse (a misuse op of the scenario explains it) or scenario
 * (the scenario's own well-defined structure explains it). The cause rules,
 * one sentence each, are base/oracles.def's (AF_CR_*, docs/ORACLES.md); this
 * file holds the facts several oracles need and the two rule sets they
 * share, leak responsibility (af_leak_cause) and deadlock accounting
 * (af_deadlock_cause), whose model is:
 *
 * Responsibility for a task. Every task has at most one *responsible op*:
 *   - a plain `spawn` (create_task): the scenario itself, through the `await`
 *     ops it runs on the task;
 *   - `task_group` (its children, and tasks spawned into it): the group must
 *     not exit while a child is pending, and retrieves every child's
 *     exception;
 *   - `gather`: must not return results while a child is pending and
 *     retrieves every child's exception; when it raises (a child failed with
 *     return_exceptions=False, or it was cancelled) it does not wait for the
 *     other children (documented);
 *   - `wait`: with ALL_COMPLETED and no timeout it must not return while a
 *     child is pending; otherwise the pending set is the caller's; it never
 *     retrieves exceptions (the done set is the caller's, documented);
 *   - `as_completed`: when its loop ran to the end every child was awaited;
 *     a loop left early (a result raised, a timeout) leaves the rest to the
 *     caller (documented);
 *   - `shield`: when the shield itself is cancelled the inner task runs on
 *     and its outcome is nobody's (documented: keep a reference);
 *   - `wait_for` (its inner task "body_<op>" on 3.11): must not exit while
 *     the inner task is pending and retrieves its outcome, except when its
 *     own task is cancelled again while it waits for the inner task it
 *     cancelled (a second CancelledError interrupting cleanup that awaits);
 *   - the root: the harness retrieves its outcome (probe `end`).
 * A responsible op that never exited because the task running it is itself
 * pending (or never finished: created during the harness's cleanup and
 * destroyed pending) passes the question on to that task (af_leak_cause
 * recurses).
 * Tasks left pending because KeyboardInterrupt / SystemExit escaped the loop
 * are the scenario's (it raised them); after a budget stopped the run, the
 * budget verdict's cause (deadlock accounting, below) applies.
 *
 * Deadlock accounting (af_deadlock_cause). When the loop has nothing ready
 * and no timer, every pending task is blocked in its innermost open op.
 * The block is *explained* when the resource it waits on provably cannot
 * become available:
 *   await T          T is pending;
 *   gather / task_group / shield / as_completed / wait(ALL_COMPLETED):
 *                    a child it waits for is pending (gather without
 *                    return_exceptions: and no child failed or was
 *                    cancelled, which would have ended it);
 *   wait(FIRST_COMPLETED): no child done; wait(FIRST_EXCEPTION): no child
 *                    failed and one pending;
 *   wait_for         its inner task is pending;
 *   event_wait E     no event_wait on E ever returned and no event_set on E
 *                    was executed (positive evidence only: af_op_reached);
 *   queue_get Q      puts that completed == gets that completed (empty);
 *   queue_put Q      a bounded Q holds maxsize items;
 *   lock L           another open `lock` op on L is past its acquire (it
 *                    is not its task's innermost open op);
 *   semaphore S      as many holders as S's initial value;
 *   cond_wait C      no notification is owed to a waiter: replaying
 *                    op_enter / op_exit of cond_wait and the cond_notify
 *                    ops in order, notify(n) owes min(n, waiting - owed)
 *                    wake-ups, a waiter returning consumes one, a waiter
 *                    leaving with an error passes its wake-up on (the
 *                    Condition protocol; 3.13 does, gh-112202), owed never
 *                    exceeds waiting; explained when owed == 0 at the end.
 * Anything else (an innermost op that does not block, a child done while
 * its parent still waits, a notified waiter that never woke...) is not
 * explained: the deadlock is asyncio's (target).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracles/oracle.h"

int af_op_exit_ev(const af_ctx *c, int op)
{
    if (op < 0)
        return -1;
    /* only what happened while the run was the scenario's: before the root
     * finished (or a budget stopped it); the harness's cleanup comes after */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev >= 0 ? c->budget_ev : c->tr->nevents;
    for (int i = 0; i < cut; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_OP_EXIT && e->op == op)
            return i;
    }
    return -1;
}

static int op_enter_ev(const af_ctx *c, int op)
{
    if (op < 0)
        return -1;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_OP_ENTER && e->op == op)
            return i;
    }
    return -1;
}

int af_op_runner(const af_ctx *c, int op)
{
    int i = op_enter_ev(c, op);
    return i >= 0 ? c->tr->events[i].task : -1;
}

int af_task_done_before(const af_ctx *c, int task, int at)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && t->done_ev >= 0 && t->done_ev < at;
}

static int is_pending(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && t->pending_ev >= 0;
}

/* Pending at the end of the run, or never finished at all: a task created
 * while the harness cleaned up (after `end`) and destroyed pending has no
 * `pending` event, yet it never left the op it ran. */
static int never_finished(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && (t->pending_ev >= 0 || t->done_ev < 0);
}

static const af_op *op_at(const af_ctx *c, int op)
{
    return c->s && op >= 0 && op < c->s->nops ? &c->s->ops[op] : NULL;
}

int af_task_owner_op(const af_ctx *c, int task, int *spawn_op)
{
    const af_tinfo *t = af_ctx_task(c, task);
    if (spawn_op)
        *spawn_op = -1;
    if (!t || !c->s)
        return -1;
    const af_op *o = op_at(c, t->op);
    if (o) {
        if (o->kind == AF_OP_SPAWN || o->kind == AF_OP_START) {
            bool in_group =
                o->ref >= 0 && op_at(c, o->ref) && c->s->ops[o->ref].kind == AF_OP_TASKGROUP;
            /* a start without a group spawns a plain task, as spawn does:
             * awaiting it is the scenario's business */
            if (spawn_op && (o->kind == AF_OP_SPAWN || !in_group))
                *spawn_op = t->op;
            if (in_group)
                return o->ref;
        }
        return t->op;
    }
    if (t->ir_task < 0 && t->name && strncmp(t->name, "body_", 5) == 0) {
        char *end = NULL;
        long v = strtol(t->name + 5, &end, 10);
        if (end && !*end && v >= 0 && v < c->s->nops && c->s->ops[v].kind == AF_OP_WAIT_FOR)
            return (int)v;
    }
    return -1;
}

static const char *tn(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && t->name ? t->name : "?";
}

static const char *kn(const af_ctx *c, int op)
{
    const af_op *o = op_at(c, op);
    const char *n = o ? af_op_kind_name(o->kind) : NULL;
    return n ? n : "?";
}

/* ---- leaks ----------------------------------------------------------------- */

static af_blame leak_cause(af_ctx *c, int task, char *why, size_t cap, int *misuse_op, int depth);

/* A plain spawn's task: the scenario's own, through its awaits; an await
 * that returned while it was pending is asyncio's. */
static af_blame spawn_leak_cause(af_ctx *c, int task, char *why, size_t cap)
{
    const af_tinfo *t = af_ctx_task(c, task);
    for (int i = 0; i < c->s->nops; i++) {
        if (c->s->ops[i].kind != AF_OP_AWAIT || t->ir_task < 0 || c->s->ops[i].ref != t->ir_task)
            continue;
        int x = af_op_exit_ev(c, i), en = op_enter_ev(c, i);
        /* an await of a task not created yet returns at once ("missing") */
        if (x >= 0 && c->tr->events[x].exit == AF_OPEXIT_OK && en > t->new_ev &&
            !af_task_done_before(c, task, x))
            return af_because(AF_CR_LEAK_AWAIT_RETURNED, why, cap,
                              "await of task %s returned at vtime %lld while the task was still "
                              "pending",
                              tn(c, task), (long long)c->tr->events[x].vtime);
    }
    return af_because(AF_CR_LEAK_NOT_AWAITED, why, cap,
                      "task %s was spawned with create_task and no executed await waited for it "
                      "to finish",
                      tn(c, task));
}

/* The responsible op `owner` never exited: the task running it is pending
 * (or never finished), and its leak decides; else asyncio's. */
static af_blame unended_owner_cause(af_ctx *c, int task, int owner, char *why, size_t cap,
                                    int *misuse_op, int depth)
{
    int runner = af_op_runner(c, owner);
    if (runner >= 0 && runner != task && never_finished(c, runner) && depth < 64) {
        char sub[AF_VERDICT_WHY_MAX];
        af_blame k = leak_cause(c, runner, sub, sizeof sub, misuse_op, depth + 1);
        return af_inherit(AF_CR_LEAK_RUNNER_PENDING, k, why, cap,
                          "its %s never ended because task %s is pending: %s", kn(c, owner),
                          tn(c, runner), sub);
    }
    return af_because(AF_CR_LEAK_OP_NEVER_ENDED, why, cap,
                      "its %s never ended, yet the task running it is not pending", kn(c, owner));
}

/* wait_for (its inner task on 3.11) exited, x its op_exit: 3.11 wait_for
 * cancels its inner task and waits for it; a further cancel of its own task
 * interrupts that wait, as a second CancelledError interrupts any cleanup
 * that awaits. */
static af_blame wait_for_leak_cause(af_ctx *c, int task, int owner, int x, char *why, size_t cap)
{
    int runner = af_op_runner(c, owner), ic = -1;
    const af_event *ex = &c->tr->events[x];
    for (int i = op_enter_ev(c, owner); i >= 0 && i < x; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_CANCEL || !e->returned)
            continue;
        /* a cancel of the runner forwarded from cancelling the inner task
         * (the inner task awaits the runner) is recorded just before it:
         * same iteration and caller, only cancels between */
        int nested = 0;
        if (e->task == runner && ic < 0)
            for (int j = i + 1;
                 j < x && c->tr->events[j].kind == AF_EV_CANCEL &&
                 c->tr->events[j].iter == e->iter && c->tr->events[j].by_task == e->by_task;
                 j++)
                nested |= c->tr->events[j].task == task && c->tr->events[j].returned;
        if (e->task == task && ic < 0)
            ic = i;
        else if (e->task == runner && (ic >= 0 || nested))
            return af_because(AF_CR_LEAK_WAIT_FOR_RECANCELLED, why, cap,
                              "a further cancel of task %s at vtime %lld interrupted wait_for "
                              "while it waited for its cancelled inner task",
                              tn(c, runner), (long long)e->vtime);
    }
    return af_because(AF_CR_LEAK_WAIT_FOR_EXITED, why, cap,
                      "wait_for exited at vtime %lld (%s) with its inner task still pending",
                      (long long)ex->vtime, ex->exit == AF_OPEXIT_OK ? "ok" : ex->exc_type);
}

/* Whether some child task of op `owner` was done before event x. */
static int children_done_by(const af_ctx *c, int owner, int x)
{
    for (int t = 0; t < c->ntasks; t++)
        if (af_ctx_task(c, t) && c->tasks[t].op == owner && af_task_done_before(c, t, x))
            return 1;
    return 0;
}

/* Whether a child task of op `owner` failed with exception type `type`
 * before event x (the loop that awaited it raised its exception). */
static int child_failed_with(const af_ctx *c, int owner, int x, const char *type)
{
    for (int t = 0; t < c->ntasks; t++) {
        if (!af_ctx_task(c, t) || c->tasks[t].op != owner || !af_task_done_before(c, t, x))
            continue;
        const af_event *d = &c->tr->events[c->tasks[t].done_ev];
        if (d->outcome == AF_OUT_EXCEPTION && d->exc_type && strcmp(d->exc_type, type) == 0)
            return 1;
    }
    return 0;
}

/* Whether op `owner`'s timeout (ticks) had elapsed by its op_exit x: 0
 * when it has none; 1 when the trace cannot tell (no op_enter). */
static int elapsed(const af_ctx *c, int owner, int x)
{
    const af_op *o = op_at(c, owner);
    int en = op_enter_ev(c, owner);
    if (!o || en < 0)
        return 1;
    return o->ticks != AF_NONE && c->tr->events[x].vtime - c->tr->events[en].vtime >= o->ticks;
}

/* Whether a cancel request (returning True) was made on the task running
 * op `owner` before its op_exit x (one made before the op was entered may
 * still be delivered in it: a self-cancel withdrawn by uncancel()). */
static int runner_cancelled_before(const af_ctx *c, int owner, int x)
{
    int runner = af_op_runner(c, owner);
    for (int i = 0; runner >= 0 && i < x; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_CANCEL && e->task == runner && e->returned)
            return 1;
    }
    return 0;
}

/* The responsible op `owner` exited (op_exit x) with the task pending: by
 * its kind, whether it was allowed to (documented) or not. */
static af_blame exited_owner_cause(af_ctx *c, int task, int owner, int x, char *why, size_t cap)
{
    const af_op *o = op_at(c, owner);
    const af_event *ex = &c->tr->events[x];
    int ok = ex->exit == AF_OPEXIT_OK;
    long long vt = (long long)ex->vtime;
    switch (o->kind) {
    case AF_OP_TASKGROUP:
        return af_because(AF_CR_LEAK_TASK_GROUP_EXITED, why, cap,
                          "the TaskGroup exited at vtime %lld with its child %s still pending", vt,
                          tn(c, task));
    case AF_OP_GATHER:
        if (ok)
            return af_because(AF_CR_LEAK_GATHER_RETURNED, why, cap,
                              "gather returned at vtime %lld with its child %s still pending", vt,
                              tn(c, task));
        if (o->return_exceptions)
            return af_because(AF_CR_LEAK_GATHER_RAISED_EARLY, why, cap,
                              "gather(return_exceptions=True) raised %s at vtime %lld with its "
                              "child %s still pending",
                              ex->exc_type, vt, tn(c, task));
        return af_because(AF_CR_LEAK_GATHER_RAISED, why, cap,
                          "gather raised %s at vtime %lld; it does not wait for the other children "
                          "(documented)",
                          ex->exc_type, vt);
    case AF_OP_WAIT:
        if (ok && o->return_when == AF_WHEN_ALL_COMPLETED && o->ticks == AF_NONE)
            return af_because(AF_CR_LEAK_WAIT_ALL_RETURNED, why, cap,
                              "wait(ALL_COMPLETED) returned at vtime %lld with %s still pending",
                              vt, tn(c, task));
        if (ok && !children_done_by(c, owner, x) && !elapsed(c, owner, x))
            return af_because(AF_CR_LEAK_WAIT_EARLY, why, cap,
                              "wait returned at vtime %lld with no child done and its timeout not "
                              "elapsed, %s still pending",
                              vt, tn(c, task));
        return af_because(AF_CR_LEAK_WAIT_PENDING_SET, why, cap,
                          "wait %s at vtime %lld with %s pending: the pending set is the caller's "
                          "(documented)",
                          ok ? "returned" : "was interrupted", vt, tn(c, task));
    case AF_OP_AS_COMPLETED:
        if (ok)
            return af_because(AF_CR_LEAK_AS_COMPLETED_ENDED, why, cap,
                              "the as_completed loop ended at vtime %lld with %s still pending", vt,
                              tn(c, task));
        if (af_exc_is_timeout(ex->exc_type) && !elapsed(c, owner, x) &&
            !child_failed_with(c, owner, x, ex->exc_type))
            return af_because(AF_CR_LEAK_AS_COMPLETED_TIMED_OUT_EARLY, why, cap,
                              "the as_completed loop raised %s at vtime %lld before any timeout "
                              "elapsed, %s still pending",
                              ex->exc_type, vt, tn(c, task));
        return af_because(AF_CR_LEAK_AS_COMPLETED_LEFT, why, cap,
                          "the as_completed loop was left early with %s at vtime %lld; the rest "
                          "are the caller's",
                          ex->exc_type, vt);
    case AF_OP_SHIELD:
        if (ok)
            return af_because(AF_CR_LEAK_SHIELD_RETURNED, why, cap,
                              "shield returned at vtime %lld with its task %s still pending", vt,
                              tn(c, task));
        if (!runner_cancelled_before(c, owner, x))
            return af_because(AF_CR_LEAK_SHIELD_LEFT_UNCANCELLED, why, cap,
                              "shield was left with %s at vtime %lld with its task %s pending, "
                              "though no cancel request was made on the task awaiting it",
                              ex->exc_type, vt, tn(c, task));
        return af_because(AF_CR_LEAK_SHIELD_LEFT, why, cap,
                          "shield was left with %s at vtime %lld; the shielded task runs on by "
                          "design",
                          ex->exc_type, vt);
    case AF_OP_WAIT_FOR:
        return wait_for_leak_cause(c, task, owner, x, why, cap);
    default:
        return af_because(AF_CR_LEAK_OP_EXITED, why, cap,
                          "its %s exited with the task still pending", kn(c, owner));
    }
}

static af_blame leak_cause(af_ctx *c, int task, char *why, size_t cap, int *misuse_op, int depth)
{
    int spawn = -1;
    int owner = af_task_owner_op(c, task, &spawn);
    const af_op *so = op_at(c, spawn);
    *misuse_op = -1;
    /* a task group keeps its children: dropping the reference to a task
     * spawned into one explains nothing about it */
    if (so && !so->keep && owner == spawn) {
        *misuse_op = spawn;
        return af_because(AF_CR_LEAK_DROPPED_REFERENCE, why, cap,
                          "task %s was created by a spawn that drops its reference (misuse)",
                          tn(c, task));
    }
    const af_op *o = op_at(c, owner);
    if (!o)
        return af_because(AF_CR_LEAK_NO_RESPONSIBLE_OP, why, cap,
                          "task %s has no scenario op responsible for it", tn(c, task));
    if (af_op_is_free_spawn(o))
        return spawn_leak_cause(c, task, why, cap);
    int x = af_op_exit_ev(c, owner);
    if (x < 0)
        return unended_owner_cause(c, task, owner, why, cap, misuse_op, depth);
    return exited_owner_cause(c, task, owner, x, why, cap);
}

_Static_assert(AF_CAUSE_RULE_COUNT <= 255, "leak_rule holds an af_cause_rule in a byte");

af_blame af_leak_cause(af_ctx *c, int task, char *why, size_t cap, int *misuse_op)
{
    int mop = -1;
    if (c->escaped) {
        if (misuse_op)
            *misuse_op = -1;
        if (af_escape_is_targets(c->s, c->escape_type))
            return af_because(AF_CR_LEAK_TARGET_ESCAPED, why, cap,
                              "%s escaped the loop and interrupted the run, and no scenario op "
                              "raises one: the target raised it",
                              c->escape_type);
        return af_because(AF_CR_LEAK_ESCAPED, why, cap,
                          "KeyboardInterrupt / SystemExit escaped the loop and interrupted the "
                          "run");
    }
    if (c->budget_ev >= 0) {
        if (misuse_op)
            *misuse_op = -1;
        if (c->tr->events[c->budget_ev].budget == AF_BUDGET_DEADLOCK) {
            char sub[AF_VERDICT_WHY_MAX];
            return af_inherit(AF_CR_LEAK_DEADLOCK, af_deadlock_cause(c, sub, sizeof sub), why, cap,
                              "%s", sub);
        }
        return af_because(AF_CR_LEAK_HANG, why, cap, "the run was stopped by a budget (hang)");
    }
    if (task < 0 || task >= AF_CTX_MAX_TASKS) {
        if (misuse_op)
            *misuse_op = -1;
        return af_because(AF_CR_LEAK_NO_TASK, why, cap, "no task");
    }
    if (task >= c->nslots) /* a task the trace never names: nothing to memoise */
        return leak_cause(c, task, why, cap, misuse_op ? misuse_op : &mop, 0);
    if (c->leak_memo[task] < 0) {
        af_blame k = leak_cause(c, task, c->leak_why[task], sizeof c->leak_why[task], &mop, 0);
        c->leak_memo[task] = (signed char)k.cause;
        c->leak_rule[task] = (unsigned char)k.rule;
        c->leak_misuse_op[task] = mop;
    }
    snprintf(why, cap, "%s", c->leak_why[task]);
    if (misuse_op)
        *misuse_op = c->leak_misuse_op[task];
    return (af_blame){(af_cause)c->leak_memo[task], (af_cause_rule)c->leak_rule[task]};
}

/* ---- reached ------------------------------------------------------------- */

/* Which list of its parent op holds op: 0 body, 1 finally, -1 top of a task. */
static int list_of(const af_scenario *s, int op, int *head)
{
    const af_op *o = &s->ops[op];
    if (o->parent < 0) {
        *head = s->tasks[o->task].body.head;
        return -1;
    }
    const af_op *p = &s->ops[o->parent];
    for (int k = p->body.head, g = 0; k >= 0 && g < AF_MAX_OPS; k = s->ops[k].next, g++)
        if (k == op) {
            *head = p->body.head;
            return 0;
        }
    *head = p->finally_body.head;
    return 1;
}

/* Whether running op's subtree (same coroutine) can `return` out of it. */
static int may_return(const af_scenario *s, int op, int depth)
{
    const af_op *o = &s->ops[op];
    if (o->kind == AF_OP_RETURN)
        return 1;
    if (depth > AF_MAX_DEPTH + 4 || o->kind == AF_OP_WAIT_FOR)
        return 0; /* wait_for's body is its own coroutine */
    if (af_op_has_body(o->kind))
        for (int k = o->body.head, g = 0; k >= 0 && g < AF_MAX_OPS; k = s->ops[k].next, g++)
            if (may_return(s, k, depth + 1))
                return 1;
    if (o->kind == AF_OP_TRY && o->has_finally)
        for (int k = o->finally_body.head, g = 0; k >= 0 && g < AF_MAX_OPS; k = s->ops[k].next, g++)
            if (may_return(s, k, depth + 1))
                return 1;
    return 0;
}

/* The op that is the ancestor of `op` in the same list as `x` (same parent
 * op and same list, or the same task's top), following task parents too;
 * -1 when none. */
static int ancestor_in_list(const af_scenario *s, int op, int x)
{
    const af_op *xo = &s->ops[x];
    int xh, xl = list_of(s, x, &xh);
    int cur = op;
    for (int g = 0; cur >= 0 && cur < s->nops && g < AF_MAX_OPS + AF_MAX_TASKS; g++) {
        const af_op *o = &s->ops[cur];
        if (o->parent == xo->parent && o->task == xo->task) {
            int h, l = list_of(s, cur, &h);
            if (l == xl && h == xh)
                return cur;
        }
        if (o->parent >= 0) {
            cur = o->parent;
        } else {
            int t = o->task;
            if (t <= 0 || t >= s->ntasks)
                return -1;
            cur = s->tasks[t].parent;
        }
    }
    return -1;
}

int af_op_reached(const af_ctx *c, int x)
{
    const af_scenario *s = c->s;
    if (!s || x < 0 || x >= s->nops)
        return 0;
    /* 1. a later op of the same list (or something inside it) ran */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev >= 0 ? c->budget_ev : c->tr->nevents;
    for (int i = 0; i < cut; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->op < 0 || e->op >= s->nops || e->op == x)
            continue;
        if (e->kind == AF_EV_CANCEL && e->by_task < 0)
            continue;
        int a = ancestor_in_list(s, e->op, x);
        if (a < 0 || a == x)
            continue;
        for (int k = s->ops[x].next, g = 0; k >= 0 && g < AF_MAX_OPS; k = s->ops[k].next, g++)
            if (k == a)
                return 1;
    }
    /* 2. the list ran to its end: nothing before x can return, and its owner
     * ended normally without swallowing an error */
    int head;
    int l = list_of(s, x, &head);
    for (int k = head, g = 0; k >= 0 && k != x && g < AF_MAX_OPS; k = s->ops[k].next, g++)
        if (may_return(s, k, 0) || s->ops[k].kind == AF_OP_RAISE)
            return 0;
    const af_op *xo = &s->ops[x];
    if (l < 0) {
        int p = af_ctx_probe_of_ir(c, xo->task);
        const af_tinfo *t = af_ctx_task(c, p);
        return t && t->done_ev >= 0 && t->done_ev < cut &&
               c->tr->events[t->done_ev].outcome == AF_OUT_RESULT;
    }
    const af_op *p = &s->ops[xo->parent];
    if (l == 0 && (p->kind == AF_OP_TRY || p->kind == AF_OP_EXCEPT_STAR))
        return 0;
    int ex = af_op_exit_ev(c, xo->parent);
    if (ex < 0 || c->tr->events[ex].exit != AF_OPEXIT_OK)
        return 0;
    if (l == 1)
        return 0; /* a finally that ran to its end: the try may still have been left early */
    return 1;
}

int af_ctx_ir_task_named(const af_ctx *c, const char *who, int at)
{
    int ir = -1;
    for (int t = 0; who && t < c->ntasks; t++) {
        const af_tinfo *ti = af_ctx_task(c, t);
        if (ti && ti->name && ti->new_ev < at && strcmp(ti->name, who) == 0)
            ir = ti->ir_owner;
    }
    return ir >= 0 && ir < AF_MAX_TASKS ? ir : -1;
}

int af_op_executed(const af_ctx *c, int op)
{
    for (int k = 0; k < c->tr->nevents; k++)
        if (c->tr->events[k].op == op)
            return 1;
    return af_op_reached(c, op);
}

/* Whether handler op caught a CancelledError at or after event `from`: a
 * handler acts only on what it catches; one that caught none explains
 * nothing. */
static int caught_at(const af_ctx *c, int op, int from)
{
    for (int k = from; k < c->tr->nevents; k++)
        if (c->tr->events[k].op == op && c->tr->events[k].kind == AF_EV_CAUGHT)
            return 1;
    return 0;
}

static int misuse_op(const af_ctx *c, int ir_task, int handlers_only, int from)
{
    if (!c->s || ir_task < 0)
        return -1;
    for (int i = 0; i < c->s->nops; i++) {
        const af_op *o = &c->s->ops[i];
        if (o->task != ir_task || !af_op_is_misuse(o))
            continue;
        if (handlers_only && o->kind != AF_OP_TRY && o->kind != AF_OP_EXCEPT_STAR)
            continue;
        if (handlers_only ? caught_at(c, i, from) : af_op_executed(c, i))
            return i;
    }
    return -1;
}

int af_task_misuse_op(const af_ctx *c, int ir_task)
{
    return misuse_op(c, ir_task, 0, 0);
}

int af_task_misuse_handler(const af_ctx *c, int ir_task, int from)
{
    return misuse_op(c, ir_task, 1, from < 0 ? 0 : from);
}

/* ---- await cycles ---------------------------------------------------------- */

/* Marks in `waits` the tasks task `t`'s code waits for: awaited tasks and
 * the children of ops that wait for them (all but spawn), in its own body
 * (not in its child tasks' bodies). */
static void waits_of_body(const af_scenario *s, const af_body *b, uint32_t *waits)
{
    for (int i = b->head; i != AF_NIL; i = s->ops[i].next) {
        const af_op *op = &s->ops[i];
        if (op->kind == AF_OP_AWAIT && op->ref >= 0 && op->ref < AF_MAX_TASKS)
            *waits |= 1u << op->ref;
        if (af_op_has_children(op->kind) && op->kind != AF_OP_SPAWN)
            for (int t = op->children.head; t != AF_NIL; t = s->tasks[t].next)
                *waits |= 1u << t;
        waits_of_body(s, &op->body, waits);
        waits_of_body(s, &op->finally_body, waits);
    }
}

/* A task spawned or started into a task group is waited for by the group,
 * i.e. by the task whose code runs the group's block. */
static void group_waits(const af_scenario *s, uint32_t *reach)
{
    for (int i = 0; i < s->nops; i++) {
        const af_op *op = &s->ops[i];
        if ((op->kind != AF_OP_SPAWN && op->kind != AF_OP_START) || op->ref < 0 ||
            op->ref >= s->nops)
            continue;
        int owner = s->ops[op->ref].task;
        if (owner < 0 || owner >= AF_MAX_TASKS)
            continue;
        for (int t = op->children.head; t != AF_NIL && t < AF_MAX_TASKS; t = s->tasks[t].next)
            reach[owner] |= 1u << t;
    }
}

/* Bit set of the IR tasks that lie on a waits-for cycle of two or more
 * tasks, or wait (through their awaits and groups) for one of those, or
 * await themselves: none of them can end. A task that awaits itself does
 * not block its waiters (asyncio raises RuntimeError at once). */
uint32_t af_await_cycle_tasks(const af_scenario *s)
{
    uint32_t reach[AF_MAX_TASKS] = {0}, self_await = 0;
    for (int t = 0; t < s->ntasks; t++) {
        waits_of_body(s, &s->tasks[t].body, &reach[t]);
        if (reach[t] & (1u << t))
            self_await |= 1u << t;
        reach[t] &= ~(1u << t);
    }
    group_waits(s, reach);
    for (int k = 0; k < s->ntasks; k++) /* transitive closure */
        for (int t = 0; t < s->ntasks; t++)
            if (reach[t] & (1u << k))
                reach[t] |= reach[k];
    uint32_t on_cycle = 0;
    for (int t = 0; t < s->ntasks; t++)
        if (reach[t] & (1u << t))
            on_cycle |= 1u << t;
    uint32_t bound = on_cycle | self_await;
    for (int t = 0; t < s->ntasks; t++)
        if (reach[t] & on_cycle)
            bound |= 1u << t;
    return bound;
}

/* Whether op `op` of a cycle task waits on a task of the cycle: an await
 * of one, or an op waiting for a child that is one (not spawn). */
static int cycle_edge(const af_scenario *s, const af_op *op, uint32_t cycle)
{
    if (op->task < 0 || op->task >= AF_MAX_TASKS || !(cycle & (1u << op->task)))
        return 0;
    if ((op->kind == AF_OP_SPAWN || op->kind == AF_OP_START) && op->ref >= 0 &&
        op->ref < s->nops) { /* into a group: its owner waits for the child */
        int owner = s->ops[op->ref].task, k = op->children.head;
        return owner >= 0 && owner < AF_MAX_TASKS && (cycle & (1u << owner)) && k != AF_NIL &&
               k < AF_MAX_TASKS && (cycle & (1u << k));
    }
    if (op->kind == AF_OP_AWAIT)
        return op->ref >= 0 && op->ref < AF_MAX_TASKS && (cycle & (1u << op->ref));
    if (!af_op_has_children(op->kind) || op->kind == AF_OP_SPAWN)
        return 0;
    for (int t = op->children.head, g = 0; t != AF_NIL && g < AF_MAX_TASKS;
         t = s->tasks[t].next, g++)
        if (t < AF_MAX_TASKS && (cycle & (1u << t)))
            return 1;
    return 0;
}

/* Adds to waits[t] the tasks op (of task t) waits on among `cycle`: an
 * awaited task other than t itself (asyncio refuses a self-await at once),
 * or a child of an op that waits for its children. */
static void add_edges(const af_scenario *s, const af_op *op, uint32_t cycle, uint32_t *waits)
{
    int t = op->task;
    if ((op->kind == AF_OP_SPAWN || op->kind == AF_OP_START) && op->ref >= 0 &&
        op->ref < s->nops) { /* into a group (cycle_edge): its owner waits */
        int owner = s->ops[op->ref].task, k = op->children.head;
        if (owner >= 0 && owner < AF_MAX_TASKS && k >= 0 && k < AF_MAX_TASKS)
            waits[owner] |= (1u << k) & cycle;
        return;
    }
    if (t < 0 || t >= AF_MAX_TASKS)
        return;
    if (op->kind == AF_OP_AWAIT) {
        if (op->ref != t && op->ref >= 0 && op->ref < AF_MAX_TASKS)
            waits[t] |= (1u << op->ref) & cycle;
        return;
    }
    for (int k = op->children.head, g = 0; k != AF_NIL && g < AF_MAX_TASKS;
         k = s->tasks[k].next, g++)
        if (k < AF_MAX_TASKS)
            waits[t] |= (1u << k) & cycle;
}

/* Whether the waits-for edges in waits[0..n) hold a cycle. */
static int has_cycle(const uint32_t *waits, int n)
{
    uint32_t reach[AF_MAX_TASKS];
    memcpy(reach, waits, (size_t)n * sizeof *reach);
    for (int k = 0; k < n; k++)
        for (int t = 0; t < n; t++)
            if (reach[t] & (1u << k))
                reach[t] |= reach[k];
    for (int t = 0; t < n; t++)
        if (reach[t] & (1u << t))
            return 1;
    return 0;
}

int af_await_cycle_closed(const af_scenario *s, const af_trace *tr, uint32_t cycle)
{
    uint32_t waits[AF_MAX_TASKS] = {0};
    int awaits = 0, n = s->ntasks < AF_MAX_TASKS ? s->ntasks : AF_MAX_TASKS;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        if (e->kind != AF_EV_OP_ENTER || e->op < 0 || e->op >= s->nops ||
            !cycle_edge(s, &s->ops[e->op], cycle))
            continue;
        add_edges(s, &s->ops[e->op], cycle, waits);
        awaits += s->ops[e->op].kind == AF_OP_AWAIT;
        if (awaits && has_cycle(waits, n)) /* the first moment a cycle is closed */
            return i;
    }
    return -1;
}

/* ---- deadlock -------------------------------------------------------------- */

static int open_stack(const af_ctx *c, int task, int at, int *stack, int max)
{
    int n = 0;
    for (int i = 0; i < at && i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->task != task)
            continue;
        if (e->kind == AF_EV_OP_ENTER) {
            if (n < max)
                stack[n++] = e->op;
        } else if (e->kind == AF_EV_OP_EXIT) {
            for (int j = n - 1; j >= 0; j--)
                if (stack[j] == e->op) {
                    n = j;
                    break;
                }
        }
    }
    return n;
}

/* Holders of a lock / semaphore at event `at`: open ops on it that are not
 * their task's innermost open op. */
static int holders(const af_ctx *c, int prim, int at)
{
    int n = 0, stack[AF_MAX_OPS + 8];
    for (int T = 0; T < c->ntasks; T++) {
        if (!af_ctx_task(c, T) || af_task_done_before(c, T, at))
            continue;
        int k = open_stack(c, T, at, stack, AF_MAX_OPS + 8);
        for (int j = 0; j < k - 1; j++) {
            const af_op *o = op_at(c, stack[j]);
            if (o && (o->kind == AF_OP_LOCK || o->kind == AF_OP_SEMAPHORE) && o->ref == prim)
                n++;
        }
    }
    return n;
}

static int cond_owed(const af_ctx *c, int prim, int at)
{
    int waiting = 0, owed = 0;
    for (int i = 0; i < at && i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        const af_op *o = op_at(c, e->op);
        if (!o || o->ref != prim)
            continue;
        if (o->kind == AF_OP_COND_WAIT && e->kind == AF_EV_OP_ENTER) {
            waiting++;
        } else if (o->kind == AF_OP_COND_WAIT && e->kind == AF_EV_OP_EXIT) {
            waiting = waiting > 0 ? waiting - 1 : 0;
            if (e->exit == AF_OPEXIT_OK && owed > 0)
                owed--;
            if (owed > waiting)
                owed = waiting;
        } else if (o->kind == AF_OP_COND_NOTIFY && e->kind == AF_EV_OP_EXIT &&
                   e->exit == AF_OPEXIT_OK) {
            int avail = waiting - owed;
            int add = o->value == AF_NONE ? avail : (o->value < avail ? o->value : avail);
            owed += add > 0 ? add : 0;
        }
    }
    return owed;
}

static int queue_items(const af_ctx *c, int prim, int at)
{
    int n = 0;
    for (int i = 0; i < at && i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        const af_op *o = op_at(c, e->op);
        if (!o || o->ref != prim || e->kind != AF_EV_OP_EXIT || e->exit != AF_OPEXIT_OK)
            continue;
        if (o->kind == AF_OP_QUEUE_PUT)
            n++;
        else if (o->kind == AF_OP_QUEUE_GET)
            n--;
    }
    return n;
}

static int event_set_seen(const af_ctx *c, int prim)
{
    for (int i = 0; i < c->s->nops; i++) {
        const af_op *o = &c->s->ops[i];
        if (o->ref != prim)
            continue;
        if (o->kind == AF_OP_EVENT_SET && af_op_reached(c, i))
            return 1;
        if (o->kind == AF_OP_EVENT_WAIT) {
            int x = af_op_exit_ev(c, i);
            if (x >= 0 && c->tr->events[x].exit == AF_OPEXIT_OK)
                return 1;
        }
    }
    return 0;
}

/* A wait for children (gather, task_group, as_completed, shield, wait,
 * wait_for op O): explained while a child is pending, unless what ended it
 * already happened (gather without return_exceptions: a child failed or
 * was cancelled; wait FIRST_COMPLETED: a child done; FIRST_EXCEPTION: a
 * child failed). */
static int children_wait_explained(af_ctx *c, int P, int O, int at, char *buf, size_t cap)
{
    const af_op *o = op_at(c, O);
    int pending = 0, done = 0, failed = 0, cancelled = 0;
    for (int T = 0; T < c->ntasks; T++) {
        if (!af_ctx_task(c, T) || af_task_owner_op(c, T, NULL) != O)
            continue;
        if (is_pending(c, T) && !af_task_done_before(c, T, at)) {
            pending++;
        } else if (af_task_done_before(c, T, at)) {
            done++;
            int oc = c->tr->events[c->tasks[T].done_ev].outcome;
            failed += oc == AF_OUT_EXCEPTION;
            cancelled += oc == AF_OUT_CANCELLED;
        }
    }
    int ok = pending > 0;
    if (o->kind == AF_OP_GATHER && !o->return_exceptions && (failed || cancelled))
        ok = 0;
    if (o->kind == AF_OP_WAIT && o->return_when == AF_WHEN_FIRST_COMPLETED && done)
        ok = 0;
    if (o->kind == AF_OP_WAIT && o->return_when == AF_WHEN_FIRST_EXCEPTION && failed)
        ok = 0;
    snprintf(buf, cap, "%s waits in %s for %d pending task(s) (%d done)", tn(c, P), kn(c, O),
             pending, done);
    return ok;
}

/* A wait on a primitive (event, queue, lock, semaphore, condition; op O):
 * explained by its accounting at event `at`. */
static int primitive_wait_explained(af_ctx *c, int P, int O, int at, char *buf, size_t cap)
{
    const af_op *o = op_at(c, O);
    const char *pn = o->ref >= 0 && o->ref < c->s->nprims && af_op_prim_kind(o->kind) >= 0
                         ? c->s->prims[o->ref].name
                         : "";
    switch (o->kind) {
    case AF_OP_EVENT_WAIT:
        if (!event_set_seen(c, o->ref)) {
            snprintf(buf, cap, "%s waits for event %s, which no executed op set", tn(c, P), pn);
            return 1;
        }
        snprintf(buf, cap, "%s still waits for event %s, which was set", tn(c, P), pn);
        return 0;
    case AF_OP_QUEUE_GET: {
        int n = queue_items(c, o->ref, at);
        snprintf(buf, cap, "%s gets from queue %s holding %d item(s)", tn(c, P), pn, n);
        return n <= 0;
    }
    case AF_OP_QUEUE_PUT: {
        int n = queue_items(c, o->ref, at), max = c->s->prims[o->ref].param;
        snprintf(buf, cap, "%s puts into queue %s holding %d of %d item(s)", tn(c, P), pn, n, max);
        return max > 0 && n >= max;
    }
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE: {
        int h = holders(c, o->ref, at);
        int cap_ = o->kind == AF_OP_LOCK ? 1 : c->s->prims[o->ref].param;
        snprintf(buf, cap, "%s waits for %s %s held by %d blocked holder(s) of %d", tn(c, P),
                 kn(c, O), pn, h, cap_);
        return h >= cap_;
    }
    default: { /* AF_OP_COND_WAIT */
        int owed = cond_owed(c, o->ref, at);
        snprintf(buf, cap, "%s waits on condition %s with %d notification(s) owed to its waiters",
                 tn(c, P), pn, owed);
        return owed == 0;
    }
    }
}

/* Whether pending task P, blocked in op O at event `at`, is explained. */
static int blocked_explained(af_ctx *c, int P, int O, int at, char *buf, size_t cap)
{
    const af_op *o = op_at(c, O);
    const af_tinfo *pt = af_ctx_task(c, P);
    const af_op *maker = pt ? op_at(c, pt->op) : NULL;
    if (!o && maker && maker->kind == AF_OP_START && pt->name &&
        !strncmp(pt->name, "asyncfuzz.", 10)) {
        /* start's helper in the group (adapterlib) waits for the started task */
        int q = af_ctx_probe_of_ir(c, maker->children.head);
        snprintf(buf, cap, "%s waits for the started task %s", tn(c, P), tn(c, q));
        return q >= 0 && is_pending(c, q);
    }
    if (!o) {
        snprintf(buf, cap, "task %s is blocked outside any scenario operation", tn(c, P));
        return 0;
    }
    switch (o->kind) {
    case AF_OP_AWAIT: {
        int q = af_ctx_probe_of_ir(c, o->ref);
        if (q >= 0 && is_pending(c, q)) {
            snprintf(buf, cap, "%s awaits pending task %s", tn(c, P), tn(c, q));
            return 1;
        }
        snprintf(buf, cap, "%s still awaits task %s, which is done", tn(c, P), tn(c, q));
        return 0;
    }
    case AF_OP_GATHER:
    case AF_OP_TASKGROUP:
    case AF_OP_AS_COMPLETED:
    case AF_OP_SHIELD:
    case AF_OP_WAIT:
    case AF_OP_WAIT_FOR:
        return children_wait_explained(c, P, O, at, buf, cap);
    case AF_OP_START: { /* it waits for its task's started() */
        int q = af_ctx_probe_of_ir(c, o->children.head);
        snprintf(buf, cap, "%s waits in start for task %s to start", tn(c, P), tn(c, q));
        return q >= 0 && is_pending(c, q);
    }
    case AF_OP_EVENT_WAIT:
    case AF_OP_QUEUE_GET:
    case AF_OP_QUEUE_PUT:
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
    case AF_OP_COND_WAIT:
        return primitive_wait_explained(c, P, O, at, buf, cap);
    default:
        snprintf(buf, cap, "%s is blocked in %s, which does not wait on anything", tn(c, P),
                 kn(c, O));
        return 0;
    }
}

/* Whether a nested run_forever() was ended by the budget (the harness's
 * VirtualBudget raised out of it: the loop blocked inside it) while no op
 * of the scenario stops a loop: the nested run could not end. */
static int unstoppable_nested_run(const af_ctx *c)
{
    static const char budget_exc[] = "VirtualBudget";
    for (int i = 0; i < c->s->nops; i++)
        if (c->s->ops[i].kind == AF_OP_STOP)
            return 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        size_t n = e->kind == AF_EV_NESTED && e->exc_type ? strlen(e->exc_type) : 0;
        if (n >= sizeof budget_exc - 1 && e->name && !strcmp(e->name, "run_forever") &&
            !strcmp(e->exc_type + n - (sizeof budget_exc - 1), budget_exc))
            return 1;
    }
    return 0;
}

af_blame af_deadlock_cause(af_ctx *c, char *why, size_t cap)
{
    int at = c->budget_ev;
    char buf[AF_VERDICT_WHY_MAX], first[AF_VERDICT_WHY_MAX] = "";
    if (at < 0 || !c->s)
        return af_because(AF_CR_DEADLOCK_NO_SCENARIO, why, cap,
                          "no scenario to account for the blocked tasks");
    int n = 0;
    for (int P = 0; P < c->ntasks; P++) {
        if (!is_pending(c, P))
            continue;
        int O = af_ctx_open_op(c, P, at);
        if (!blocked_explained(c, P, O, at, buf, sizeof buf))
            return af_because(AF_CR_DEADLOCK_UNEXPLAINED, why, cap,
                              "not explained by resource accounting: %s", buf);
        if (!n++)
            snprintf(first, sizeof first, "%s", buf);
    }
    if (unstoppable_nested_run(c))
        return af_because(
            AF_CR_DEADLOCK_NESTED_RUN_FOREVER, why, cap,
            "the loop blocked inside a nested run_forever() and the scenario never stops a loop");
    if (!n)
        return af_because(AF_CR_DEADLOCK_NONE_PENDING, why, cap, "no task was pending");
    return af_because(AF_CR_DEADLOCK_EXPLAINED, why, cap,
                      "every pending task (%d) waits on something the scenario never provides, "
                      "e.g. %s",
                      n, first);
}
