/* judge.c - af_judge: build the shared context from a trace and run every
 * oracle (all but differential, which needs two traces).
 *
 * An overflowed trace is incomplete: oracles that decide from the absence
 * of an event (a release, a finally, a delivery) would report facts that
 * are only missing from the record, so af_judge runs only the oracles that
 * decide from an event's presence (leaked-task, nested-loop,
 * lost-exception, blocking, hang, deadlock) on such a trace.
 */
#include <stdlib.h>
#include <string.h>

#include "oracles/oracle.h"

static void build_ctx(af_ctx *c, const af_scenario *s, const af_trace *tr, af_verdict_list *out)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->tr = tr;
    c->out = out;
    c->budget_ev = -1;
    c->end_ev = -1;
    c->last = -1;
    for (int i = 0; i < AF_CTX_MAX_TASKS; i++) {
        c->leak_memo[i] = -1;
        c->leak_misuse_op[i] = -1;
    }
    for (int i = 0; i < AF_MAX_TASKS; i++)
        c->ir_to_probe[i] = -1;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        af_tinfo *t = (e->task >= 0 && e->task < AF_CTX_MAX_TASKS) ? &c->tasks[e->task] : NULL;
        switch (e->kind) {
        case AF_EV_TASK_NEW:
            if (!t || t->seen)
                break;
            t->seen = 1;
            t->new_ev = i;
            t->done_ev = -1;
            t->pending_ev = -1;
            t->parent = e->parent;
            t->op = e->op;
            t->ir_task = e->ir_task;
            t->name = e->name;
            if (e->task + 1 > c->ntasks)
                c->ntasks = e->task + 1;
            if (e->ir_task >= 0 && e->ir_task < AF_MAX_TASKS && c->ir_to_probe[e->ir_task] < 0)
                c->ir_to_probe[e->ir_task] = e->task;
            /* the IR task whose code it runs or serves */
            t->ir_owner = e->ir_task;
            if (t->ir_owner < 0 && s && e->op >= 0 && e->op < s->nops)
                t->ir_owner = s->ops[e->op].task;
            if (t->ir_owner < 0 && e->parent >= 0 && e->parent < AF_CTX_MAX_TASKS &&
                c->tasks[e->parent].seen)
                t->ir_owner = c->tasks[e->parent].ir_owner;
            break;
        case AF_EV_TASK_DONE:
            if (t && t->seen && t->done_ev < 0)
                t->done_ev = i;
            if (e->outcome == AF_OUT_EXCEPTION && af_exc_is_escape(e->exc_type))
                c->escaped = 1;
            break;
        case AF_EV_PENDING:
            if (t && t->seen && t->pending_ev < 0)
                t->pending_ev = i;
            break;
        case AF_EV_END:
            if (c->end_ev < 0)
                c->end_ev = i;
            if (e->outcome == AF_OUT_EXCEPTION && af_exc_is_escape(e->exc_type))
                c->escaped = 1;
            break;
        case AF_EV_BUDGET:
            if (c->budget_ev < 0)
                c->budget_ev = i;
            break;
        default:
            break;
        }
    }
}

int af_judge(const af_scenario *s, const af_trace *tr, af_verdict_list *out)
{
    af_ctx *c = malloc(sizeof *c);
    if (!c)
        return 0;
    build_ctx(c, s, tr, out);
    af_oracle_budget(c);
    af_oracle_leaked_task(c);
    af_oracle_nested_loop(c);
    af_oracle_lost_exception(c);
    af_oracle_blocking(c);
    if (!tr->overflow) {
        af_oracle_cancellation(c);
        af_oracle_cleanup(c);
    }
    int added = c->added;
    free(c);
    return added;
}
