/* blocking.c - blocking.
 *
 * Fires for every `slow` event: a callback (a task step) advanced the
 * virtual clock by at least the slow-callback threshold, i.e. held the loop
 * with a blocking call. Location: the n-th `block` op of the IR for the
 * n-th slow event when the IR has one (the op that blocked), else none.
 *
 * Cause: misuse when located at a block op; target otherwise (asyncio's own
 * code held the loop).
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
        if (!af_emit(c, AF_ORACLE_BLOCKING, task, op, i, "slow",
                     "%s held the loop for %lld ticks at vtime %lld",
                     e->name ? e->name : "a callback", (long long)e->ticks, (long long)e->vtime))
            continue;
        if (op >= 0)
            af_cause_last(c, AF_CAUSE_MISUSE, "a block op holds the loop (misuse)");
        else
            af_cause_last(c, AF_CAUSE_TARGET, "a callback held the loop without a block op");
    }
}
