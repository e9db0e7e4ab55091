/* blocking.c - blocking: a callback held the loop (rule `slow`).
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the `slow`
 * events of the trace; the n-th slow event of a task (the event names the
 * task whose step blocked) is located at that task's n-th `block` op when
 * it has one (the op that blocked), else nowhere.
 */
#include <string.h>

#include "oracles/oracle.h"

int af_nth_block_op(const af_ctx *c, int t, int n)
{
    for (int i = 0; c->s && i < c->s->nops; i++)
        if (c->s->ops[i].kind == AF_OP_BLOCK && c->s->ops[i].task == t && n-- == 0)
            return i;
    return -1;
}

void af_oracle_blocking(af_ctx *c)
{
    int nth[AF_MAX_TASKS] = {0};
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_SLOW)
            continue;
        int t = af_ctx_ir_task_named(c, e->name, i);
        int op = t >= 0 ? af_nth_block_op(c, t, nth[t]++) : -1;
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
