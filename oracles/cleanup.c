/* cleanup.c - cleanup.
 *
 * Fires when
 *   (unreleased) a resource acquired by a `hold` (acquire event) was not
 *     released (a release event of the same resource) by the end of the
 *     trace; once per acquire without a matching release (acquires and
 *     releases of one resource name are matched in order);
 *   (finally-skipped) a `try` with a finally clause was entered by a task
 *     (op_enter) and left (op_exit of that try, or the task's task_done)
 *     without a `finally` event for it.
 * Not judged: runs stopped by a budget or interrupted by KeyboardInterrupt /
 * SystemExit, and holders or tasks that never finished (no task_done: they
 * are leaked or hung, reported there).
 * Location: the hold / try op.
 *
 * Cause:
 *   unreleased: the holder finished during the harness's cleanup (it was
 *     pending when the root finished): the cause of that leak; a misuse
 *     handler that ran in the holder's code: misuse; a hold whose finally
 *     awaits (release_sleep) and whose task got a cancel request before it
 *     finished (a request made before the acquire may be delivered in the
 *     finally's await): scenario (a CancelledError interrupting a finally
 *     that awaits is Python's semantics); otherwise target (a finally that
 *     does not await always runs);
 *   finally-skipped: inherited from the leak when the task finished after
 *     the root; otherwise target.
 */
#include <stdio.h>
#include <string.h>

#include "oracles/oracle.h"

static int finished(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && t->done_ev >= 0;
}

/* hold_op: the hold (unreleased), -1 for a skipped finally; at: acquire. */
static void cleanup_cause(af_ctx *c, int task, int hold_op, int at)
{
    const af_tinfo *t = af_ctx_task(c, task);
    char why[AF_VERDICT_WHY_MAX];
    if (t && t->pending_ev >= 0) {
        int mop;
        af_cause k = af_leak_cause(c, task, why, sizeof why, &mop);
        af_cause_last(c, k, "task %s was still pending when the root finished: %s", t->name, why);
        return;
    }
    int m = t && c->s ? af_task_misuse_handler(c, t->ir_owner) : -1;
    if (m >= 0) {
        af_cause_last(c, AF_CAUSE_MISUSE, "a misuse op (%s) ran in task %s",
                      af_op_kind_name(c->s->ops[m].kind), t->name);
        return;
    }
    if (hold_op >= 0 && c->s && hold_op < c->s->nops && c->s->ops[hold_op].ticks != AF_NONE) {
        int end = t && t->done_ev >= 0 ? t->done_ev : c->tr->nevents;
        (void)at;
        for (int i = 0; i < end; i++) {
            const af_event *e = &c->tr->events[i];
            if (e->kind == AF_EV_CANCEL && e->task == task && e->returned) {
                af_cause_last(c, AF_CAUSE_SCENARIO,
                              "the release awaits in a finally and a cancel request at vtime %lld "
                              "interrupted it",
                              (long long)e->vtime);
                return;
            }
        }
    }
    af_cause_last(c, AF_CAUSE_TARGET, "%s",
                  hold_op >= 0 ? "the release in the finally must run"
                               : "a finally clause must run when its try is left");
}

void af_oracle_cleanup(af_ctx *c)
{
    if (c->budget_ev >= 0 || c->escaped)
        return;
    const af_trace *tr = c->tr;
    /* unreleased */
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *a = &tr->events[i];
        if (a->kind != AF_EV_ACQUIRE || !a->resource)
            continue;
        /* a hold releases what it acquired: the release of the same
         * resource by the same task and the same hold op */
        int released = 0;
        for (int j = i + 1; j < tr->nevents; j++)
            if (tr->events[j].kind == AF_EV_RELEASE && tr->events[j].resource &&
                tr->events[j].task == a->task && tr->events[j].op == a->op &&
                strcmp(tr->events[j].resource, a->resource) == 0) {
                released = 1;
                break;
            }
        if (released || !finished(c, a->task))
            continue;
        if (!af_emit(c, AF_ORACLE_CLEANUP, a->task, a->op, i, "unreleased",
                     "resource '%s' acquired at vtime %lld was never released", a->resource,
                     (long long)a->vtime))
            continue;
        cleanup_cause(c, a->task, a->op, i);
    }
    /* finally-skipped */
    if (!c->s)
        return;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        if (e->kind != AF_EV_OP_ENTER || e->op < 0 || e->op >= c->s->nops)
            continue;
        const af_op *o = &c->s->ops[e->op];
        if (o->kind != AF_OP_TRY || !o->has_finally)
            continue;
        int ran = 0, left = -1;
        for (int j = i + 1; j < tr->nevents && left < 0; j++) {
            const af_event *f = &tr->events[j];
            if (f->task != e->task)
                continue;
            if (f->kind == AF_EV_FINALLY && f->op == e->op)
                ran = 1;
            else if ((f->kind == AF_EV_OP_EXIT && f->op == e->op) || f->kind == AF_EV_TASK_DONE)
                left = j;
        }
        if (ran || left < 0)
            continue;
        const af_event *l = &tr->events[left];
        if (af_emit(c, AF_ORACLE_CLEANUP, e->task, e->op, left, "finally-skipped",
                    "the finally clause of a try entered at vtime %lld did not run before the %s "
                    "at vtime %lld%s%s",
                    (long long)e->vtime, l->kind == AF_EV_TASK_DONE ? "task finished" : "try ended",
                    (long long)l->vtime, l->exc_type && l->exc_type[0] ? " with " : "",
                    l->exc_type ? l->exc_type : ""))
            cleanup_cause(c, e->task, -1, i);
    }
}
