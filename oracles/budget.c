/* budget.c - hang and deadlock.
 *
 * Fires once per run from the first `budget` event:
 *   hang: the loop-iteration or virtual-time budget ran out ("hang"), or
 *     the real-time watchdog stopped the run ("watchdog");
 *   deadlock: the loop had nothing ready and no timer while the root task
 *     was still pending ("deadlock").
 * Location: the innermost op open in the root task when the run stopped
 * (what it was waiting in), task: the root.
 *
 * Cause (cause.c, "Deadlock accounting"):
 *   deadlock: scenario when every pending task is blocked on a resource that
 *     resource accounting shows cannot become available (an event no
 *     executed op set, an empty queue, a lock held by a blocked task, a
 *     condition with no notification owed, a pending task awaited...);
 *     target otherwise (e.g. a notified Condition waiter that never woke,
 *     gh-112202);
 *   hang: target (a non-misuse scenario is bounded: its durations are
 *     capped, it has no loops), except when a misuse op ran in the run
 *     (misuse, at that op).
 */
#include "oracles/oracle.h"

void af_oracle_budget(af_ctx *c)
{
    if (c->budget_ev < 0)
        return;
    const af_event *e = &c->tr->events[c->budget_ev];
    int root = af_ctx_task(c, 0) ? 0 : -1;
    int op = root >= 0 ? af_ctx_open_op(c, root, c->budget_ev) : -1;
    af_oracle o = e->budget == AF_BUDGET_DEADLOCK ? AF_ORACLE_DEADLOCK : AF_ORACLE_HANG;
    const char *which = af_budget_name((af_budget)e->budget);
    af_emit(c, o, root, op, c->budget_ev, which ? which : "?",
            "the %s budget stopped the run at vtime %lld, iteration %lld", which ? which : "?",
            (long long)e->vtime, (long long)e->iter);
    char why[AF_VERDICT_WHY_MAX];
    if (o == AF_ORACLE_DEADLOCK) {
        af_cause k = af_deadlock_cause(c, why, sizeof why);
        af_cause_last(c, k, "%s", why);
    } else {
        for (int t = 0; c->s && t < c->s->ntasks; t++) {
            int m = af_task_misuse_op(c, t);
            if (m >= 0) {
                af_cause_last(c, AF_CAUSE_MISUSE, "a misuse op (%s) ran in the run",
                              af_op_kind_name(c->s->ops[m].kind));
                return;
            }
        }
        af_cause_last(c, AF_CAUSE_TARGET, "a scenario without misuse is bounded and must end");
    }
}
