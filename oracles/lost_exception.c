/* lost_exception.c - lost-exception.
 *
 * Fires when an exception reached no observer:
 *   (never-retrieved) the loop's exception handler was called with an
 *     exception object (exc_type not "") for anything but a pending task
 *     ("Task exception was never retrieved", "Future exception was never
 *     retrieved", "Exception in callback ...", a TaskGroup child that
 *     errored after its parent finished, ...); one verdict per task, or per
 *     message when no task is named;
 *   (unraisable) sys.unraisablehook was called (an exception raised where
 *     nobody can catch it: a finalizer, a coroutine ignoring GeneratorExit).
 * Location: the op that created the task named by the handler call, else
 * none.
 *
 * Cause, for an exception of task T (the responsible op of T, cause.c):
 *   scenario - KeyboardInterrupt / SystemExit: they escape the loop by
 *              design (run_until_complete re-raises them), nobody can
 *              retrieve them;
 *              T finished during the harness's cleanup (it was pending when
 *              the root finished or a budget stopped the run): the cause of
 *              that leak / deadlock (inherited);
 *              a plain spawn whose exception no executed await retrieved;
 *              a wait child (asyncio.wait never retrieves: the done set is
 *              the caller's, documented); an as_completed loop left early;
 *              a shield that was cancelled (the inner task is nobody's);
 *              an exception of no task (a callback, asyncio's own future:
 *              e.g. the _GatheringFuture of a gather that a finally clause
 *              started while the collector closed a pending task's
 *              coroutine) that reached the handler after `end` / a budget
 *              while a task was left pending: only the code of the tasks
 *              left pending runs then; the cause of that leak / deadlock
 *              (inherited);
 *   misuse   - T was created by a spawn that drops its reference;
 *              a RecursionError in a callback when the scenario has a cycle
 *              of tasks awaiting each other (cancel() recurses through it);
 *              a child whose responsible op (gather, ...) never ended
 *              because the task running it was left pending: that task's
 *              leak / deadlock cause;
 *              a wait_for inner task that failed after wait_for exited:
 *              the leak rule for wait_for (cause.c) decides;
 *   target   - gather, TaskGroup and wait_for children (they retrieve every
 *              outcome), an await / as_completed loop that returned
 *              normally, the root, asyncio's own tasks, callbacks
 *              ("Exception in callback") and futures during the run,
 *              unraisable exceptions unless a
 *              task was still pending when the run ended (then scenario:
 *              the collector closed its coroutine).
 */
#include <stdio.h>
#include <string.h>

#include "oracles/oracle.h"

/* Whether the scenario's tasks can wait on each other in a cycle: edges
 * from the task running an await to the awaited task, and from the task
 * running a gather / task_group / wait / as_completed / shield to its
 * children; a cycle is found by depth-first search. */
static int cycle_from(const af_scenario *s, int t, signed char *mark)
{
    if (mark[t] == 1)
        return 1;
    if (mark[t] == 2)
        return 0;
    mark[t] = 1;
    for (int i = 0; i < s->nops; i++) {
        const af_op *o = &s->ops[i];
        if (o->task != t)
            continue;
        if (o->kind == AF_OP_AWAIT && o->ref >= 0 && o->ref < s->ntasks &&
            cycle_from(s, o->ref, mark))
            return 1;
        if (af_op_has_children(o->kind) && o->kind != AF_OP_SPAWN)
            for (int k = o->children.head, g = 0; k >= 0 && k < s->ntasks && g < AF_MAX_TASKS;
                 k = s->tasks[k].next, g++)
                if (cycle_from(s, k, mark))
                    return 1;
    }
    mark[t] = 2;
    return 0;
}

static int await_cycle(const af_ctx *c)
{
    if (!c->s)
        return 0;
    signed char mark[AF_MAX_TASKS];
    memset(mark, 0, sizeof mark);
    for (int t = 0; t < c->s->ntasks; t++)
        if (cycle_from(c->s, t, mark))
            return 1;
    return 0;
}

/* Whose fault a task left pending when the run stopped is (the harness
 * then cancels it): the deadlock's, after a budget, else its leak's. */
static af_cause cleanup_cause(af_ctx *c, int task, char *why, size_t cap, int *mop)
{
    return c->budget_ev >= 0 ? af_deadlock_cause(c, why, cap)
                             : af_leak_cause(c, task, why, cap, mop);
}
static af_cause exc_cause(af_ctx *c, const af_event *e, char *why, size_t cap, int *mop)
{
    int T = e->task;
    const af_tinfo *t = af_ctx_task(c, T);
    *mop = -1;
    if (af_exc_is_escape(e->exc_type)) {
        snprintf(why, cap, "%s escapes the event loop by design; nobody can retrieve it",
                 e->exc_type);
        return AF_CAUSE_SCENARIO;
    }
    if (!t) {
        if (e->exc_type && strcmp(e->exc_type, "builtins.RecursionError") == 0 && await_cycle(c)) {
            snprintf(why, cap,
                     "cancel() recursed through the scenario's cycle of tasks awaiting each other "
                     "(asyncio does not detect await cycles)");
            return AF_CAUSE_SCENARIO;
        }
        /* after `end` / a budget only the harness's cleanup and the
         * collector run code: that of the tasks left pending (a finally
         * clause run by GeneratorExit that builds a gather, ...) */
        int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
        int left = -1;
        for (int P = 0; cut >= 0 && e - c->tr->events > cut && P < c->ntasks && left < 0; P++)
            if (af_ctx_task(c, P) && c->tasks[P].pending_ev >= 0)
                left = P;
        if (left >= 0) {
            char sub[AF_VERDICT_WHY_MAX];
            af_cause k = cleanup_cause(c, left, sub, sizeof sub, mop);
            snprintf(why, cap,
                     "an exception of no task, reported while the harness cleaned up the tasks "
                     "left pending (%s)",
                     sub);
            return k;
        }
        snprintf(why, cap, "an exception of no task (a callback or asyncio's own future)");
        return AF_CAUSE_TARGET;
    }
    int late = (c->end_ev >= 0 && t->done_ev > c->end_ev) ||
               (c->budget_ev >= 0 && t->done_ev > c->budget_ev);
    /* a task created while the harness cleaned up (after `end` / a budget)
     * belongs to the pending task whose cleanup created it */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
    int P = T;
    for (int g = 0; late && P >= 0 && g < AF_CTX_MAX_TASKS; g++) {
        const af_tinfo *pt = af_ctx_task(c, P);
        if (!pt || pt->pending_ev >= 0 || pt->new_ev < cut)
            break;
        P = pt->parent;
    }
    const af_tinfo *pt = af_ctx_task(c, P);
    if (late && P != T && pt && pt->pending_ev >= 0) {
        char sub[AF_VERDICT_WHY_MAX];
        af_cause k = cleanup_cause(c, P, sub, sizeof sub, mop);
        snprintf(why, cap,
                 "task %s was created and raised while the harness cancelled task %s after the "
                 "run (%s)",
                 t->name, pt->name, sub);
        return k;
    }
    if (late && t->pending_ev >= 0) {
        char sub[AF_VERDICT_WHY_MAX];
        af_cause k = cleanup_cause(c, T, sub, sizeof sub, mop);
        snprintf(why, cap, "task %s raised while the harness cancelled it after the run (%s)",
                 t->name, sub);
        return k;
    }
    int spawn = -1;
    int owner = af_task_owner_op(c, T, &spawn);
    if (spawn >= 0 && !c->s->ops[spawn].keep) {
        *mop = spawn;
        snprintf(why, cap, "task %s was created by a spawn that drops its reference (misuse)",
                 t->name);
        return AF_CAUSE_MISUSE;
    }
    if (owner < 0) {
        snprintf(why, cap,
                 "task %s: no scenario op is responsible; asyncio or the harness must retrieve it",
                 t->name ? t->name : "?");
        return AF_CAUSE_TARGET;
    }
    const af_op *o = &c->s->ops[owner];
    int x = af_op_exit_ev(c, owner);
    int ok = x >= 0 && c->tr->events[x].exit == AF_OPEXIT_OK;
    if (x < 0 && o->kind != AF_OP_SPAWN) {
        /* the responsible op never ended: its task was left pending (gather
         * with return_exceptions retrieves only once every child is done) */
        int runner = af_op_runner(c, owner);
        const af_tinfo *r = af_ctx_task(c, runner);
        if (r && r->pending_ev >= 0) {
            char sub[AF_VERDICT_WHY_MAX];
            af_cause k = af_leak_cause(c, runner, sub, sizeof sub, mop);
            snprintf(why, cap, "its %s never ended: task %s was left pending (%s)",
                     af_op_kind_name(o->kind), r->name, sub);
            return k;
        }
    }
    switch (o->kind) {
    case AF_OP_SPAWN:
        for (int i = 0; i < c->s->nops; i++) {
            if (c->s->ops[i].kind != AF_OP_AWAIT || t->ir_task < 0 ||
                c->s->ops[i].ref != t->ir_task)
                continue;
            int ax = af_op_exit_ev(c, i);
            if (ax >= 0 && c->tr->events[ax].exit == AF_OPEXIT_OK &&
                af_task_done_before(c, T, ax)) {
                snprintf(why, cap, "await of task %s returned normally although the task failed",
                         t->name);
                return AF_CAUSE_TARGET;
            }
        }
        snprintf(
            why, cap,
            "task %s was spawned with create_task and no executed await retrieved its exception",
            t->name);
        return AF_CAUSE_SCENARIO;
    case AF_OP_WAIT:
        snprintf(
            why, cap,
            "asyncio.wait does not retrieve exceptions: task %s's is the caller's (documented)",
            t->name);
        return AF_CAUSE_SCENARIO;
    case AF_OP_AS_COMPLETED:
        if (!ok) {
            snprintf(why, cap,
                     "the as_completed loop was left early; task %s's outcome is the caller's",
                     t->name);
            return AF_CAUSE_SCENARIO;
        }
        break;
    case AF_OP_WAIT_FOR:
        if (x >= 0 && t->done_ev > x) {
            /* wait_for had left before the inner task failed: whether it
             * was allowed to leave it running decides (cause.c) */
            char sub[AF_VERDICT_WHY_MAX];
            af_cause k = af_leak_cause(c, T, sub, sizeof sub, mop);
            snprintf(why, cap, "wait_for exited before its inner task %s failed: %s", t->name, sub);
            return k;
        }
        break;
    case AF_OP_SHIELD:
        if (x >= 0 && !ok && af_exc_is_cancelled(c->tr->events[x].exc_type)) {
            snprintf(
                why, cap,
                "shield was cancelled; the shielded task %s runs on and its outcome is nobody's",
                t->name);
            return AF_CAUSE_SCENARIO;
        }
        break;
    default:
        break;
    }
    snprintf(why, cap, "%s is responsible for retrieving the exception of task %s",
             af_op_kind_name(o->kind), t->name);
    return AF_CAUSE_TARGET;
}

void af_oracle_lost_exception(af_ctx *c)
{
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_LOOP_EXC) {
            if (!e->exc_type || !e->exc_type[0])
                continue;
            if (e->msg && strstr(e->msg, "Task was destroyed but it is pending"))
                continue;
            const char *reason = e->msg && strstr(e->msg, "never retrieved") ? "never-retrieved"
                                 : e->msg && strncmp(e->msg, "Exception in callback", 21) == 0
                                     ? "callback"
                                     : "handler";
            const af_tinfo *t = af_ctx_task(c, e->task);
            char why[AF_VERDICT_WHY_MAX];
            int mop = -1;
            af_cause k = exc_cause(c, e, why, sizeof why, &mop);
            int op = k == AF_CAUSE_MISUSE && mop >= 0 ? mop : af_ctx_task_op(c, e->task);
            if (af_emit(c, AF_ORACLE_LOST_EXCEPTION, e->task, op, i, reason,
                        "%s raised%s%s reached only the loop's exception handler at vtime %lld: "
                        "\"%.160s\"",
                        e->exc_type, t ? " in task " : "", t && t->name ? t->name : "",
                        (long long)e->vtime, e->msg ? e->msg : ""))
                af_cause_last(c, k, "%s", why);
        } else if (e->kind == AF_EV_UNRAISABLE) {
            int left = -1;
            for (int T = 0; T < c->ntasks && left < 0; T++)
                if (af_ctx_task(c, T) && c->tasks[T].pending_ev >= 0)
                    left = T;
            if (!af_emit(c, AF_ORACLE_LOST_EXCEPTION, -1, -1, i, "unraisable",
                         "unraisable %s at vtime %lld: \"%.160s\"", e->exc_type ? e->exc_type : "?",
                         (long long)e->vtime, e->msg ? e->msg : ""))
                continue;
            if (left >= 0) {
                char why[AF_VERDICT_WHY_MAX];
                int mop;
                af_cause k = c->budget_ev >= 0 ? af_deadlock_cause(c, why, sizeof why)
                                               : af_leak_cause(c, left, why, sizeof why, &mop);
                af_cause_last(c, k, "raised while the collector closed tasks left pending (%s)",
                              why);
            } else {
                af_cause_last(c, AF_CAUSE_TARGET,
                              "an exception nobody could catch, with no task left pending");
            }
        }
    }
}
