/* ledger.c - the cancellation request ledger of one task (ledger.h).
 *
 * Bookkeeping only: it records what became of each cancel request as the
 * events go by and answers the oracles' questions; it never emits a
 * verdict nor decides a cause.
 */
#include "oracles/ledger.h"

void af_ledger_reset(af_ledger *l, int task)
{
    l->task = task;
    l->model = 0;
    l->requests_total = 0;
    l->received = 0;
    l->nreq = 0;
    l->now = -1;
}

/* Record what settled q, at the event the walk is at. */
static void settle(const af_ledger *l, af_request *q, af_req_state state, af_req_end end)
{
    q->state = state;
    q->end = end;
    q->settled_ev = l->now;
}

/* Whether request event i on its target was forwarded (ledger.h). */
static int forwarded(const af_ctx *c, int i)
{
    const af_event *e = &c->tr->events[i];
    for (int j = i - 1; j >= 0; j--) {
        const af_event *p = &c->tr->events[j];
        if (p->kind != AF_EV_CANCEL || p->iter != e->iter || p->vtime != e->vtime ||
            p->by_task != e->by_task || p->op != e->op || p->task == e->task)
            break;
        if (!p->returned)
            continue;
        const af_tinfo *s = af_ctx_task(c, p->task);
        if (!s)
            continue;
        if (s->done_ev < 0 || c->tr->events[s->done_ev].outcome != AF_OUT_CANCELLED)
            return 1;
    }
    /* A request T made on itself sets _must_cancel; Task.__step passes it
     * on when T next suspends, to the future T then awaits
     * (tasks.py:307-310 `self._fut_waiter.cancel(...)`): when that is a
     * task T awaits (an `await` op open in T), its cancel event, by T with
     * no op, comes later in the same step. If that task did not end
     * cancelled it took the request, as for a forward from outside. */
    if (e->by_task == e->task && c->s) {
        for (int j = i + 1; j < c->tr->nevents; j++) {
            const af_event *p = &c->tr->events[j];
            if (p->iter != e->iter)
                break;
            if (p->kind != AF_EV_CANCEL || p->by_task != e->task || p->task == e->task ||
                p->op >= 0 || !p->returned)
                continue;
            const af_tinfo *s = af_ctx_task(c, p->task);
            int aw = af_ctx_open_op(c, e->task, j);
            if (!s || aw < 0 || aw >= c->s->nops || c->s->ops[aw].kind != AF_OP_AWAIT ||
                c->s->ops[aw].ref != s->ir_task)
                continue;
            if (s->done_ev < 0 || c->tr->events[s->done_ev].outcome != AF_OUT_CANCELLED)
                return 1;
        }
    }
    return 0;
}

void af_ledger_cancel(af_ledger *l, const af_ctx *c, int i)
{
    const af_event *e = &c->tr->events[i];
    if (e->after >= 0)
        l->model = e->after;
    if (!e->returned)
        return;
    l->requests_total++;
    if (l->nreq < AF_LEDGER_MAX_REQ)
        l->reqs[l->nreq++] = (af_request){i,
                                          e->by_task,
                                          forwarded(c, i),
                                          AF_REQ_PENDING,
                                          -1,
                                          AF_RULE_SWALLOWED_TASK_END,
                                          AF_REQ_END_NONE,
                                          -1};
}

static int outstanding(const af_request *q)
{
    return q->state == AF_REQ_PENDING || q->state == AF_REQ_LOST;
}

/* The request uncancel event i withdraws (af_ledger_uncancel), -1. */
static int withdrawn_request(const af_ledger *l, const af_trace *tr, int i, int timeout_enter)
{
    for (int k = 0; k < l->nreq; k++)
        if (l->reqs[k].state == AF_REQ_COALESCED)
            return k;
    if (timeout_enter >= 0)
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < l->nreq; k++) {
                const af_request *q = &l->reqs[k];
                if (q->state == (pass ? AF_REQ_LOST : AF_REQ_PENDING) && q->by < 0 &&
                    tr->events[q->ev].op < 0 && q->ev > timeout_enter)
                    return k;
            }
    if (tr->events[i].op < 0)
        for (int k = l->nreq - 1; k >= 0; k--)
            if (outstanding(&l->reqs[k]) && tr->events[l->reqs[k].ev].op < 0)
                return k;
    for (int k = 0; k < l->nreq; k++)
        if (outstanding(&l->reqs[k]))
            return k;
    return -1;
}

void af_ledger_uncancel(af_ledger *l, const af_trace *tr, int i, int timeout_enter)
{
    const af_event *e = &tr->events[i];
    if (e->after >= 0)
        l->model = e->after;
    if (e->after >= e->before)
        return;
    int w = withdrawn_request(l, tr, i, timeout_enter);
    if (w >= 0)
        settle(l, &l->reqs[w], AF_REQ_DONE, AF_REQ_END_WITHDRAWN);
}

void af_ledger_handled(af_ledger *l, int op, int swallows, int converts)
{
    l->received++;
    for (int k = 0; k < l->nreq; k++) {
        af_request *q = &l->reqs[k];
        if (q->state != AF_REQ_PENDING)
            continue;
        if (swallows && !q->exempt) {
            settle(l, q, AF_REQ_LOST, AF_REQ_END_LOST);
            q->lost_op = op;
            q->lost_rule = AF_RULE_SWALLOWED_HANDLER;
        } else {
            settle(l, q, swallows || converts ? AF_REQ_DONE : AF_REQ_COALESCED, AF_REQ_END_HANDLED);
        }
    }
}

void af_ledger_delivered(af_ledger *l)
{
    for (int r = 0; r < l->nreq; r++)
        if (outstanding(&l->reqs[r]))
            settle(l, &l->reqs[r], AF_REQ_DONE, AF_REQ_END_DELIVERED);
}

static void lose(const af_ledger *l, af_request *q, int op, af_rule rule)
{
    settle(l, q, AF_REQ_LOST, AF_REQ_END_LOST);
    q->lost_op = op;
    q->lost_rule = rule;
}

int af_ledger_lose_outside(af_ledger *l, int from, int to, int op, af_rule rule, int *first)
{
    int n = 0;
    *first = -1;
    for (int r = 0; r < l->nreq; r++) {
        af_request *q = &l->reqs[r];
        if (q->state != AF_REQ_PENDING || q->exempt || q->by == l->task || q->ev < from ||
            q->ev >= to)
            continue;
        lose(l, q, op, rule);
        if (*first < 0)
            *first = r;
        n++;
    }
    return n;
}

int af_ledger_lose_self(af_ledger *l, const af_trace *tr, int enter, int exit_ev, int op,
                        af_rule rule)
{
    int n = 0, it_exit = tr->events[exit_ev].iter, it_enter = tr->events[enter].iter;
    if (it_exit <= it_enter)
        return 0;
    for (int r = 0; r < l->nreq; r++) {
        af_request *q = &l->reqs[r];
        int it_req = tr->events[q->ev].iter;
        if (q->state != AF_REQ_PENDING || q->exempt || q->by != l->task || it_exit <= it_req ||
            it_req < it_enter)
            continue;
        lose(l, q, op, rule);
        n++;
    }
    return n;
}

void af_ledger_report_lost_at(af_ledger *l, int op)
{
    for (int r = 0; r < l->nreq; r++)
        if (l->reqs[r].state == AF_REQ_LOST && l->reqs[r].lost_op == op)
            l->reqs[r].state = AF_REQ_REPORTED;
}

void af_ledger_report_outstanding(af_ledger *l)
{
    for (int r = 0; r < l->nreq; r++) {
        af_request *q = &l->reqs[r];
        if (outstanding(q) && !q->exempt) {
            if (q->state == AF_REQ_PENDING)
                settle(l, q, q->state, AF_REQ_END_UNDELIVERED);
            q->state = AF_REQ_REPORTED;
        }
    }
}

int af_ledger_pending_before(const af_ledger *l, int before)
{
    for (int r = 0; r < l->nreq; r++)
        if (l->reqs[r].state == AF_REQ_PENDING && l->reqs[r].ev < before)
            return 1;
    return 0;
}

int af_ledger_coalesced(const af_ledger *l)
{
    int n = 0;
    for (int r = 0; r < l->nreq; r++)
        n += l->reqs[r].state == AF_REQ_COALESCED;
    return n;
}
