/* budget.c - hang and deadlock: a budget stopped the run.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md); the deadlock's cause
 * is deadlock accounting (af_deadlock_cause, cause.c). Fires once per run,
 * from the first `budget` event, located at the innermost op open in the
 * root task when the run stopped (what it was waiting in).
 */
#include "oracles/oracle.h"

/* The rule of a budget event: which budget stopped the run. */
static af_rule budget_rule(af_budget which)
{
    switch (which) {
    case AF_BUDGET_DEADLOCK:
        return AF_RULE_DEADLOCK;
    case AF_BUDGET_WATCHDOG:
        return AF_RULE_HANG_WATCHDOG;
    default:
        return AF_RULE_HANG;
    }
}

/* A block op that ran: one a slow event shows (it names the task whose
 * code held the loop), or one with positive evidence (af_op_executed); -1. */
static int block_op_ran(const af_ctx *c)
{
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        int t = e->kind == AF_EV_SLOW ? af_ctx_ir_task_named(c, e->name, i) : -1;
        int op = t >= 0 ? af_nth_block_op(c, t, 0) : -1;
        if (op >= 0)
            return op;
    }
    for (int k = 0; c->s; k++) {
        int m = af_ctx_nth_op_of_kind(c, AF_OP_BLOCK, k);
        if (m < 0 || af_op_executed(c, m))
            return m;
    }
    return -1;
}

/* hang: misuse when a misuse op that can hold a bounded run ran - a block
 * (it advances the clock by its ticks, up to the budget) - else target: a
 * never_awaited coroutine, a dropped reference, a nested run (refused, or
 * the target's fault) or a handler of the bounded scenario's code cannot
 * keep the loop from ending. */
static void hang_cause(af_ctx *c)
{
    int m = block_op_ran(c);
    if (m >= 0)
        af_cause_last(c, AF_CR_HANG_MISUSE, "a misuse op (%s) ran in the run",
                      af_op_kind_name(c->s->ops[m].kind));
    else
        af_cause_last(c, AF_CR_HANG_BOUNDED, "a scenario without misuse is bounded and must end");
}

void af_oracle_budget(af_ctx *c)
{
    if (c->budget_ev < 0)
        return;
    const af_event *e = &c->tr->events[c->budget_ev];
    int root = af_ctx_task(c, 0) ? 0 : -1;
    int op = root >= 0 ? af_ctx_open_op(c, root, c->budget_ev) : -1;
    const char *which = af_budget_name((af_budget)e->budget);
    af_rule rule = budget_rule((af_budget)e->budget);
    af_emit(c, rule, root, op, c->budget_ev,
            "the %s budget stopped the run at vtime %lld, iteration %lld", which ? which : "?",
            (long long)e->vtime, (long long)e->iter);
    if (rule == AF_RULE_DEADLOCK) {
        char why[AF_VERDICT_WHY_MAX];
        af_blame k = af_deadlock_cause(c, why, sizeof why);
        af_cause_last_as(c, k, why);
    } else {
        hang_cause(c);
    }
}
