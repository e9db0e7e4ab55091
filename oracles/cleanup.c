/* cleanup.c - cleanup: a hold's release or a try's finally did not run.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads acquire /
 * release events (acquires and releases of one resource by one task and
 * hold op are matched in order) and, for each try with a finally clause,
 * its op_enter, its `finally` event and its op_exit or the task's end. Not
 * judged: runs stopped by a budget or interrupted by KeyboardInterrupt /
 * SystemExit, and holders or tasks that never finished (no task_done: they
 * are leaked or hung, reported there). Located at the hold / try op.
 */
#include <stdio.h>
#include <string.h>

#include "oracles/oracle.h"

static int finished(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    return t && t->done_ev >= 0;
}

/* The first event from which a cancel request on `task` can still be
 * delivered at or after event `at`: just after the last CancelledError
 * delivered to it before `at` (a handler caught one, or an op of it raised
 * one); requests made before that were delivered there. */
static int undelivered_from(const af_ctx *c, int task, int at)
{
    for (int i = at - 1; i >= 0; i--) {
        const af_event *e = &c->tr->events[i];
        if (e->task == task &&
            (e->kind == AF_EV_CAUGHT || (e->kind == AF_EV_OP_EXIT && e->exit == AF_OPEXIT_RAISE &&
                                         af_exc_is_cancelled(e->exc_type))))
            return i + 1;
    }
    return 0;
}

/* An unreleased hold whose release awaits (release_sleep), acquired at
 * event `acq`: interrupted when a cancel request not delivered before the
 * acquire was made before the task finished (it interrupts the release's
 * await: Python semantics); then misuse when a misuse handler caught a
 * CancelledError after the acquire, else scenario. Returns whether it
 * decided. */
static int interrupted_release(af_ctx *c, const af_tinfo *t, int task, int acq)
{
    int end = t->done_ev >= 0 ? t->done_ev : c->tr->nevents;
    for (int i = undelivered_from(c, task, acq); i < end; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_CANCEL || e->task != task || !e->returned)
            continue;
        int m = c->s ? af_task_misuse_handler(c, t->ir_owner, acq) : -1;
        if (m >= 0)
            af_cause_last(c, AF_CR_CLEANUP_MISUSE_HANDLER, "a misuse op (%s) ran in task %s",
                          af_op_kind_name(c->s->ops[m].kind), t->name);
        else
            af_cause_last(c, AF_CR_CLEANUP_RELEASE_INTERRUPTED,
                          "the release awaits in a finally and a cancel request at vtime %lld "
                          "interrupted it",
                          (long long)e->vtime);
        return 1;
    }
    return 0;
}

/* hold_op: the hold (unreleased), -1 for a skipped finally; at: the event
 * the hold acquired at. The cause rules in order: the task left pending; a
 * release that awaits, interrupted (interrupted_release); else target: a
 * finally that does not await always runs, whatever handler or cancel
 * request the task met. */
static void cleanup_cause(af_ctx *c, int task, int hold_op, int at)
{
    const af_tinfo *t = af_ctx_task(c, task);
    char why[AF_VERDICT_WHY_MAX];
    if (t && t->pending_ev >= 0) {
        int mop;
        char sub[AF_VERDICT_WHY_MAX];
        af_blame k = af_inherit(
            AF_CR_CLEANUP_TASK_LEFT_PENDING, af_leak_cause(c, task, sub, sizeof sub, &mop), why,
            sizeof why, "task %s was still pending when the root finished: %s", t->name, sub);
        af_cause_last_as(c, k, why);
        return;
    }
    if (t && hold_op >= 0 && c->s && hold_op < c->s->nops && c->s->ops[hold_op].ticks != AF_NONE &&
        interrupted_release(c, t, task, at))
        return;
    if (hold_op >= 0)
        af_cause_last(c, AF_CR_CLEANUP_RELEASE_SKIPPED, "the release in the finally must run");
    else
        af_cause_last(c, AF_CR_CLEANUP_FINALLY_SKIPPED,
                      "a finally clause must run when its try is left");
}

/* unreleased: every acquire without a release of the same resource by the
 * same task and hold op, once its task finished. */
static void judge_unreleased(af_ctx *c)
{
    const af_trace *tr = c->tr;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *a = &tr->events[i];
        if (a->kind != AF_EV_ACQUIRE || !a->resource)
            continue;
        int released = 0;
        for (int j = i + 1; j < tr->nevents && !released; j++)
            released = tr->events[j].kind == AF_EV_RELEASE && tr->events[j].resource &&
                       tr->events[j].task == a->task && tr->events[j].op == a->op &&
                       strcmp(tr->events[j].resource, a->resource) == 0;
        if (released || !finished(c, a->task))
            continue;
        if (af_emit(c, AF_RULE_CLEANUP_UNRELEASED, a->task, a->op, i,
                    "resource '%s' acquired at vtime %lld was never released", a->resource,
                    (long long)a->vtime))
            cleanup_cause(c, a->task, a->op, i);
    }
}

/* finally-skipped: a try with a finally entered (event i) and left (its
 * op_exit or the task's end) with no `finally` event for it. */
static void judge_finally(af_ctx *c, int i)
{
    const af_trace *tr = c->tr;
    const af_event *e = &tr->events[i];
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
        return;
    const af_event *l = &tr->events[left];
    if (af_emit(c, AF_RULE_CLEANUP_FINALLY_SKIPPED, e->task, e->op, left,
                "the finally clause of a try entered at vtime %lld did not run before the %s "
                "at vtime %lld%s%s",
                (long long)e->vtime, l->kind == AF_EV_TASK_DONE ? "task finished" : "try ended",
                (long long)l->vtime, l->exc_type && l->exc_type[0] ? " with " : "",
                l->exc_type ? l->exc_type : ""))
        cleanup_cause(c, e->task, -1, i);
}

void af_oracle_cleanup(af_ctx *c)
{
    if (c->budget_ev >= 0 || c->escaped)
        return;
    judge_unreleased(c);
    if (!c->s)
        return;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_OP_ENTER && e->op >= 0 && e->op < c->s->nops &&
            c->s->ops[e->op].kind == AF_OP_TRY && c->s->ops[e->op].has_finally)
            judge_finally(c, i);
    }
}
