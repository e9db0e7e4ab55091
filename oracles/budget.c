/* budget.c - hang and deadlock.
 *
 * Fires once per run from the first `budget` event:
 *   hang: the loop-iteration or virtual-time budget ran out ("hang"), or
 *     the real-time watchdog stopped the run ("watchdog");
 *   deadlock: the loop had nothing ready and no timer while the root task
 *     was still pending ("deadlock").
 * Location: the innermost op open in the root task when the run stopped
 * (what it was waiting in), task: the root.
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
}
