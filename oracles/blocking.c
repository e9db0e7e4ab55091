/* blocking.c - blocking: a callback held the loop (rule `slow`).
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the `slow`
 * events of the trace; the n-th slow event is located at the n-th `block`
 * op of the IR when it has one (the op that blocked), else nowhere.
 */
#include "oracles/oracle.h"

void af_oracle_blocking(af_ctx *c)
{
    int nth = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_SLOW)
            continue;
        int op = af_ctx_nth_op_of_kind(c, AF_OP_BLOCK, nth++);
        int task = op >= 0 ? af_ctx_probe_of_ir(c, c->s->ops[op].task) : -1;
        if (!af_emit(c, AF_RULE_BLOCKING_SLOW, task, op, i,
                     "%s held the loop for %lld ticks at vtime %lld",
                     e->name ? e->name : "a callback", (long long)e->ticks, (long long)e->vtime))
            continue;
        if (op >= 0)
            af_cause_last(c, AF_CR_BLOCKING_BLOCK_OP, "a block op holds the loop (misuse)");
        else
            af_cause_last(c, AF_CR_BLOCKING_NO_BLOCK_OP,
                          "a callback held the loop without a block op");
    }
}
