/* lost_exception.c - lost-exception: an exception reached no observer.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the loop
 * exception handler's calls with an exception object (exc_type not "";
 * "Task was destroyed but it is pending!" is leaked-task's) and
 * sys.unraisablehook's calls. Located at the op that created the task the
 * handler call names, else none. The cause of a task's exception follows
 * the op responsible for the task (cause.c), as for leaks.
 */
#include <stdio.h>
#include <string.h>

#include "oracles/oracle.h"

/* Whether event e comes after the scenario's tasks closed a cycle of
 * tasks waiting on each other (cause.c). */
static int after_await_cycle(const af_ctx *c, const af_event *e)
{
    uint32_t cycle = c->s ? af_await_cycle_tasks(c->s) : 0;
    int closed = cycle ? af_await_cycle_closed(c->s, c->tr, cycle) : -1;
    return closed >= 0 && e - c->tr->events >= closed;
}

/* Whose fault a task left pending when the run stopped is (the harness
 * then cancels it): the deadlock's, after a budget, else its leak's. */
static af_blame cleanup_cause(af_ctx *c, int task, char *why, size_t cap, int *mop)
{
    return c->budget_ev >= 0 ? af_deadlock_cause(c, why, cap)
                             : af_leak_cause(c, task, why, cap, mop);
}

/* The first task left pending when the run ended, -1. */
static int first_left_pending(const af_ctx *c)
{
    for (int P = 0; P < c->ntasks; P++)
        if (af_ctx_task(c, P) && c->tasks[P].pending_ev >= 0)
            return P;
    return -1;
}

/* An exception of no task: a callback's or asyncio's own future's. */
/* Whether a raise op is in body (its nested bodies included). */
static int body_raises(const af_scenario *s, af_body body, int depth)
{
    for (int k = body.head, g = 0; k >= 0 && g < AF_MAX_OPS && depth < AF_MAX_OPS;
         k = s->ops[k].next, g++)
        if (s->ops[k].kind == AF_OP_RAISE || body_raises(s, s->ops[k].body, depth + 1) ||
            body_raises(s, s->ops[k].finally_body, depth + 1))
            return 1;
    return 0;
}

/* The call op whose callback raised the exception of loop_exc event e
 * (an "Exception in callback"): the last callback of a call op that
 * started before it in the same iteration, when its body can raise; -1
 * for none (another callback raised: asyncio's own). */
static int raising_callback_op(const af_ctx *c, const af_event *e)
{
    if (!e->msg || strncmp(e->msg, "Exception in callback", 21) != 0)
        return -1;
    for (const af_event *p = e - 1; p >= c->tr->events && p->iter == e->iter; p--)
        if (p->kind == AF_EV_HANDLE_RUN)
            return c->s && p->op >= 0 && p->op < c->s->nops &&
                           body_raises(c->s, c->s->ops[p->op].body, 0)
                       ? p->op
                       : -1;
    return -1;
}

static af_blame no_task_cause(af_ctx *c, const af_event *e, char *why, size_t cap, int *mop)
{
    if (e->exc_type && strcmp(e->exc_type, "builtins.RecursionError") == 0 &&
        after_await_cycle(c, e))
        return af_because(AF_CR_LOST_RECURSION_CYCLE, why, cap,
                          "cancel() recursed through the scenario's cycle of tasks awaiting each "
                          "other (asyncio does not detect await cycles)");
    /* after `end` / a budget only the harness's cleanup and the collector
     * run code: that of the tasks left pending (a finally clause run by
     * GeneratorExit that builds a gather, ...) */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
    int left = cut >= 0 && e - c->tr->events > cut ? first_left_pending(c) : -1;
    if (left >= 0) {
        char sub[AF_VERDICT_WHY_MAX];
        return af_inherit(AF_CR_LOST_NO_TASK_IN_CLEANUP,
                          cleanup_cause(c, left, sub, sizeof sub, mop), why, cap,
                          "an exception of no task, reported while the harness cleaned up the "
                          "tasks left pending (%s)",
                          sub);
    }
    int cb = raising_callback_op(c, e);
    if (cb >= 0) {
        return af_because(AF_CR_LOST_SCENARIO_CALLBACK, why, cap,
                          "the callback of call op %d raised it: a callback's exception goes to "
                          "the loop's exception handler (documented)",
                          cb);
    }
    return af_because(AF_CR_LOST_NO_TASK, why, cap,
                      "an exception of no task (a callback or asyncio's own future)");
}

/* A task that raised while the harness cleaned up after the run (it
 * finished after `end` / a budget): the cause of the task left pending whose
 * cleanup ran its code. Returns 0 when T is not such a task. */
static int cleanup_task_cause(af_ctx *c, int T, char *why, size_t cap, int *mop, af_blame *k)
{
    const af_tinfo *t = af_ctx_task(c, T);
    int late = (c->end_ev >= 0 && t->done_ev > c->end_ev) ||
               (c->budget_ev >= 0 && t->done_ev > c->budget_ev);
    if (!late)
        return 0;
    /* a task created while the harness cleaned up belongs to the pending
     * task whose cleanup created it */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
    int P = T;
    for (int g = 0; P >= 0 && g < AF_CTX_MAX_TASKS; g++) {
        const af_tinfo *pt = af_ctx_task(c, P);
        if (!pt || pt->pending_ev >= 0 || pt->new_ev < cut)
            break;
        P = pt->parent;
    }
    const af_tinfo *pt = af_ctx_task(c, P);
    char sub[AF_VERDICT_WHY_MAX];
    if (P != T && pt && pt->pending_ev >= 0) {
        *k = af_inherit(AF_CR_LOST_CREATED_IN_CLEANUP, cleanup_cause(c, P, sub, sizeof sub, mop),
                        why, cap,
                        "task %s was created and raised while the harness cancelled task %s "
                        "after the run (%s)",
                        t->name, pt->name, sub);
        return 1;
    }
    if (t->pending_ev < 0)
        return 0;
    *k = af_inherit(AF_CR_LOST_RAISED_IN_CLEANUP, cleanup_cause(c, T, sub, sizeof sub, mop), why,
                    cap, "task %s raised while the harness cancelled it after the run (%s)",
                    t->name, sub);
    return 1;
}

/* The rule of the op `owner` responsible for T, by its kind (*k): 0 when
 * the kind has none for this case (the responsible op must retrieve). */
static int owner_kind_rule(af_ctx *c, int T, int owner, char *why, size_t cap, int *mop,
                           af_blame *k)
{
    const af_tinfo *t = af_ctx_task(c, T);
    const af_op *o = &c->s->ops[owner];
    int x = af_op_exit_ev(c, owner);
    int ok = x >= 0 && c->tr->events[x].exit == AF_OPEXIT_OK;
    switch (af_op_is_free_spawn(o) ? AF_OP_SPAWN : o->kind) {
    case AF_OP_SPAWN:
        for (int i = 0; i < c->s->nops; i++) {
            if (c->s->ops[i].kind != AF_OP_AWAIT || t->ir_task < 0 ||
                c->s->ops[i].ref != t->ir_task)
                continue;
            int ax = af_op_exit_ev(c, i);
            if (ax >= 0 && c->tr->events[ax].exit == AF_OPEXIT_OK &&
                af_task_done_before(c, T, ax)) {
                *k = af_because(AF_CR_LOST_AWAIT_RETURNED, why, cap,
                                "await of task %s returned normally although the task failed",
                                t->name);
                return 1;
            }
        }
        *k = af_because(AF_CR_LOST_NOT_AWAITED, why, cap,
                        "task %s was spawned with create_task and no executed await retrieved "
                        "its exception",
                        t->name);
        return 1;
    case AF_OP_WAIT:
        *k = af_because(AF_CR_LOST_WAIT_CHILD, why, cap,
                        "asyncio.wait does not retrieve exceptions: task %s's is the caller's "
                        "(documented)",
                        t->name);
        return 1;
    case AF_OP_AS_COMPLETED:
        if (ok)
            return 0;
        *k = af_because(AF_CR_LOST_AS_COMPLETED_LEFT, why, cap,
                        "the as_completed loop was left early; task %s's outcome is the "
                        "caller's",
                        t->name);
        return 1;
    case AF_OP_WAIT_FOR: {
        if (x < 0 || t->done_ev <= x)
            return 0;
        /* wait_for had left before the inner task failed: whether it was
         * allowed to leave it running decides (cause.c) */
        char sub[AF_VERDICT_WHY_MAX];
        *k = af_inherit(AF_CR_LOST_WAIT_FOR_LEFT, af_leak_cause(c, T, sub, sizeof sub, mop), why,
                        cap, "wait_for exited before its inner task %s failed: %s", t->name, sub);
        return 1;
    }
    case AF_OP_SHIELD:
        if (x < 0 || ok || !af_exc_is_cancelled(c->tr->events[x].exc_type))
            return 0;
        *k = af_because(AF_CR_LOST_SHIELD_CANCELLED, why, cap,
                        "shield was cancelled; the shielded task %s runs on and its outcome is "
                        "nobody's",
                        t->name);
        return 1;
    default:
        return 0;
    }
}

/* The op_exit of an executed await of task T that raised T's exception
 * once T had failed (it retrieved it), -1. */
static int await_retrieved(const af_ctx *c, int T)
{
    const af_tinfo *t = af_ctx_task(c, T);
    if (!t || t->ir_task < 0 || t->done_ev < 0)
        return -1;
    const af_event *d = &c->tr->events[t->done_ev];
    if (d->outcome != AF_OUT_EXCEPTION || !d->exc_type)
        return -1;
    for (int i = 0; i < c->s->nops; i++) {
        if (c->s->ops[i].kind != AF_OP_AWAIT || c->s->ops[i].ref != t->ir_task)
            continue;
        int x = af_op_exit_ev(c, i);
        if (x > t->done_ev && c->tr->events[x].exit == AF_OPEXIT_RAISE &&
            c->tr->events[x].exc_type && strcmp(c->tr->events[x].exc_type, d->exc_type) == 0)
            return x;
    }
    return -1;
}

/* The exception of task T, from the op responsible for T. */
static af_blame owner_cause(af_ctx *c, int T, char *why, size_t cap, int *mop)
{
    const af_tinfo *t = af_ctx_task(c, T);
    int spawn = -1;
    int owner = af_task_owner_op(c, T, &spawn);
    if (spawn >= 0 && !c->s->ops[spawn].keep && owner == spawn) {
        *mop = spawn;
        return af_because(AF_CR_LOST_DROPPED_REFERENCE, why, cap,
                          "task %s was created by a spawn that drops its reference (misuse)",
                          t->name);
    }
    int aw = await_retrieved(c, T);
    if (aw >= 0)
        return af_because(AF_CR_LOST_RETRIEVED_BY_AWAIT, why, cap,
                          "an await of task %s raised its %s at vtime %lld: the exception was "
                          "retrieved",
                          t->name, c->tr->events[aw].exc_type, (long long)c->tr->events[aw].vtime);
    if (owner < 0)
        return af_because(AF_CR_LOST_NO_RESPONSIBLE_OP, why, cap,
                          "task %s: no scenario op is responsible; asyncio or the harness must "
                          "retrieve it",
                          t->name ? t->name : "?");
    const af_op *o = &c->s->ops[owner];
    if (af_op_exit_ev(c, owner) < 0 && !af_op_is_free_spawn(o)) {
        /* the responsible op never ended: its task was left pending (gather
         * with return_exceptions retrieves only once every child is done),
         * or never finished because KeyboardInterrupt / SystemExit escaped
         * the loop and interrupted the run */
        int runner = af_op_runner(c, owner);
        const af_tinfo *r = af_ctx_task(c, runner);
        if (r && (r->pending_ev >= 0 || (c->escaped && r->done_ev < 0))) {
            char sub[AF_VERDICT_WHY_MAX];
            return af_inherit(AF_CR_LOST_RUNNER_PENDING,
                              af_leak_cause(c, runner, sub, sizeof sub, mop), why, cap,
                              "its %s never ended: task %s was left pending (%s)",
                              af_op_kind_name(o->kind), r->name, sub);
        }
    }
    af_blame k;
    if (owner_kind_rule(c, T, owner, why, cap, mop, &k))
        return k;
    return af_because(AF_CR_LOST_NOT_RETRIEVED, why, cap,
                      "%s is responsible for retrieving the exception of task %s",
                      af_op_kind_name(o->kind), t->name);
}

/* The cause of an exception the loop's handler got (event e). */
static af_blame exc_cause(af_ctx *c, const af_event *e, char *why, size_t cap, int *mop)
{
    *mop = -1;
    if (af_escape_is_targets(c->s, e->exc_type))
        return af_because(AF_CR_LOST_TARGET_ESCAPE, why, cap,
                          "%s, which no scenario op raises: the target raised it", e->exc_type);
    if (af_exc_is_escape(e->exc_type))
        return af_because(AF_CR_LOST_ESCAPE, why, cap,
                          "%s escapes the event loop by design; nobody can retrieve it",
                          e->exc_type);
    if (!af_ctx_task(c, e->task))
        return no_task_cause(c, e, why, cap, mop);
    af_blame k;
    if (cleanup_task_cause(c, e->task, why, cap, mop, &k))
        return k;
    return owner_cause(c, e->task, why, cap, mop);
}

/* never-retrieved / callback / handler: loop exception handler event i. */
static void judge_handler_call(af_ctx *c, int i)
{
    const af_event *e = &c->tr->events[i];
    if (!e->exc_type || !e->exc_type[0])
        return;
    if (e->msg && strstr(e->msg, "Task was destroyed but it is pending"))
        return;
    af_rule rule = e->msg && strstr(e->msg, "never retrieved") ? AF_RULE_LOST_NEVER_RETRIEVED
                   : e->msg && strncmp(e->msg, "Exception in callback", 21) == 0
                       ? AF_RULE_LOST_CALLBACK
                       : AF_RULE_LOST_HANDLER;
    const af_tinfo *t = af_ctx_task(c, e->task);
    char why[AF_VERDICT_WHY_MAX];
    int mop = -1;
    af_blame k = exc_cause(c, e, why, sizeof why, &mop);
    int cb = t ? -1 : raising_callback_op(c, e);
    int op = k.cause == AF_CAUSE_MISUSE && mop >= 0    ? mop
             : k.cause == AF_CAUSE_SCENARIO && cb >= 0 ? cb /* the call op whose callback raised */
                                                       : af_ctx_task_op(c, e->task);
    if (af_emit(c, rule, e->task, op, i,
                "%s raised%s%s reached only the loop's exception handler at vtime %lld: "
                "\"%.160s\"",
                e->exc_type, t ? " in task " : "", t && t->name ? t->name : "", (long long)e->vtime,
                e->msg ? e->msg : ""))
        af_cause_last_as(c, k, why);
}

/* unraisable: sys.unraisablehook event i. */
static void judge_unraisable(af_ctx *c, int i)
{
    const af_event *e = &c->tr->events[i];
    int left = first_left_pending(c);
    if (!af_emit(c, AF_RULE_LOST_UNRAISABLE, -1, -1, i, "unraisable %s at vtime %lld: \"%.160s\"",
                 e->exc_type ? e->exc_type : "?", (long long)e->vtime, e->msg ? e->msg : ""))
        return;
    if (left < 0) {
        af_cause_last(c, AF_CR_LOST_UNRAISABLE,
                      "an exception nobody could catch, with no task left pending");
        return;
    }
    char sub[AF_VERDICT_WHY_MAX], why[AF_VERDICT_WHY_MAX];
    int mop;
    af_blame k = af_inherit(AF_CR_LOST_UNRAISABLE_IN_CLEANUP,
                            cleanup_cause(c, left, sub, sizeof sub, &mop), why, sizeof why,
                            "raised while the collector closed tasks left pending (%s)", sub);
    af_cause_last_as(c, k, why);
}

void af_oracle_lost_exception(af_ctx *c)
{
    for (int i = 0; i < c->tr->nevents; i++) {
        if (c->tr->events[i].kind == AF_EV_LOOP_EXC)
            judge_handler_call(c, i);
        else if (c->tr->events[i].kind == AF_EV_UNRAISABLE)
            judge_unraisable(c, i);
    }
}
