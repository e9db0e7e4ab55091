/* loop.c - loop.order, loop.stop, loop.handle: the contracts of the loop
 * itself, on the callbacks a scenario's call ops schedule.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the events
 * of the loop-level operations (handle_new, handle_run, handle_cancel,
 * stop, stopped, nested_enter, nested_exit) and the `loop` event that says
 * which loop ran the trace: on a real-time one (uvloop) iterations are the
 * harness's estimates, so the iteration rules are left out and `when` is
 * judged within a tick. Everything is located at the op concerned (a call
 * op, a stop op); every verdict is the target's (the loop under test).
 * Must not judge what nested-loop judges (stops inside nested runs).
 */
#include <stdlib.h>
#include <string.h>

#include "oracles/oracle.h"

/* One call op's callback: where its events are (-1: none). */
typedef struct handle_info {
    int new_ev, run_ev;
} handle_info;

typedef struct loop_facts {
    handle_info h[AF_MAX_OPS];
    int realtime; /* the `loop` event says real time */
} loop_facts;

static void collect(const af_ctx *c, loop_facts *f)
{
    for (int op = 0; op < AF_MAX_OPS; op++)
        f->h[op].new_ev = f->h[op].run_ev = -1;
    f->realtime = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_LOOP)
            f->realtime = e->name && strcmp(e->name, "realtime") == 0;
        if ((e->kind != AF_EV_HANDLE_NEW && e->kind != AF_EV_HANDLE_RUN) || e->op < 0 ||
            e->op >= AF_MAX_OPS)
            continue;
        int *slot = e->kind == AF_EV_HANDLE_NEW ? &f->h[e->op].new_ev : &f->h[e->op].run_ev;
        if (*slot < 0)
            *slot = i;
    }
}

static int is_timer(const af_event *e)
{
    return e->via != AF_HVIA_SOON;
}

static void emit_order(af_ctx *c, af_rule rule, const af_event *scheduled, int run_ev,
                       const char *fmt_detail, long long a, long long b)
{
    if (af_emit(c, rule, scheduled->task, scheduled->op, run_ev, fmt_detail, scheduled->name, a, b))
        af_cause_last(c, AF_CR_LOOP_CONTRACT,
                      "the loop must run callbacks in the order and iteration asyncio documents");
}

/* The rules about one callback x (op ox) that ran, against every other
 * callback y that ran. */
static void judge_order_pair(af_ctx *c, const loop_facts *f, int ox, int oy)
{
    const af_event *ev = c->tr->events;
    const handle_info *x = &f->h[ox], *y = &f->h[oy];
    const af_event *xn = &ev[x->new_ev], *yn = &ev[y->new_ev];
    const af_event *xr = &ev[x->run_ev], *yr = &ev[y->run_ev];
    /* x ran before y */
    if (x->run_ev > y->run_ev)
        return;
    if (!is_timer(xn) && !is_timer(yn) && y->new_ev < x->new_ev)
        emit_order(c, AF_RULE_ORDER_SOON_FIFO, xn, x->run_ev,
                   "the callback of %s ran at iteration %lld before the one of a call_soon made "
                   "earlier, which ran at iteration %lld",
                   (long long)xr->iter, (long long)yr->iter);
    if (is_timer(xn) && is_timer(yn) && xn->when > yn->when)
        emit_order(c, AF_RULE_ORDER_TIMER_WHEN, xn, x->run_ev,
                   "the timer %s (when %lld) ran before a timer due earlier (when %lld)",
                   (long long)xn->when, (long long)yn->when);
    /* a due timer runs after the callbacks already ready in its iteration
     * (scheduled in an earlier one) */
    if (is_timer(xn) && !is_timer(yn) && xr->iter == yr->iter && yn->iter < yr->iter)
        emit_order(c, AF_RULE_ORDER_TIMER_BEFORE_READY, xn, x->run_ev,
                   "the timer %s ran at iteration %lld before a call_soon callback ready since "
                   "iteration %lld",
                   (long long)xr->iter, (long long)yn->iter);
}

/* The rules about one callback alone. */
static void judge_one(af_ctx *c, const loop_facts *f, int op)
{
    const af_event *n = &c->tr->events[f->h[op].new_ev], *r = &c->tr->events[f->h[op].run_ev];
    if (!is_timer(n) && !f->realtime && r->iter != n->iter + 1)
        emit_order(c, AF_RULE_ORDER_SOON_ITERATION, n, f->h[op].run_ev,
                   "the call_soon callback %s made in iteration %lld ran in iteration %lld",
                   (long long)n->iter, (long long)r->iter);
    long long slack = f->realtime ? 1 : 0;
    if (is_timer(n) && r->vtime + slack < n->when)
        emit_order(c, AF_RULE_ORDER_TIMER_EARLY, n, f->h[op].run_ev,
                   "the timer %s ran at vtime %lld, before its when %lld", (long long)r->vtime,
                   (long long)n->when);
}

static void judge_order(af_ctx *c, const loop_facts *f)
{
    for (int ox = 0; ox < AF_MAX_OPS; ox++) {
        if (f->h[ox].new_ev < 0 || f->h[ox].run_ev < 0)
            continue;
        judge_one(c, f, ox);
        for (int oy = 0; oy < AF_MAX_OPS; oy++)
            if (oy != ox && f->h[oy].new_ev >= 0 && f->h[oy].run_ev >= 0)
                judge_order_pair(c, f, ox, oy);
    }
}

static void judge_handles(af_ctx *c, const loop_facts *f)
{
    for (int op = 0; op < AF_MAX_OPS; op++) {
        if (f->h[op].new_ev < 0)
            continue;
        int i = f->h[op].new_ev;
        const af_event *e = &c->tr->events[i];
        int timer = is_timer(e);
        const char *type = e->msg ? e->msg : "?";
        if (timer ? !e->flag_a : !e->flag_b) {
            if (af_emit(c, AF_RULE_HANDLE_TYPE, e->task, op, i,
                        "%s of %s returned an instance of %s, not of asyncio.%s",
                        af_via_name((af_via)e->via),
                        e->name ? e->name : "?", type, timer ? "TimerHandle" : "Handle"))
                af_cause_last(c, AF_CR_LOOP_CONTRACT, "the loop must return the documented handle");
            continue; /* not a timer handle: its when() says nothing more */
        }
        if (!timer)
            continue;
        double got = e->when_got ? strtod(e->when_got, NULL) : 0;
        double off = got - (double)e->when;
        double slack = f->realtime ? 1.0 : 0.0;
        if ((!e->when_got || off > slack || off < -slack) &&
            af_emit(c, AF_RULE_HANDLE_WHEN, e->task, op, i, "%s of %s: when() is %s, not %lld",
                    af_via_name((af_via)e->via), e->name ? e->name : "?",
                    e->when_got ? e->when_got : "missing", (long long)e->when))
            af_cause_last(c, AF_CR_LOOP_CONTRACT, "a timer handle's when() is the when asked");
    }
}

/* loop.stop: a stop op outside nested runs, and the `stopped` that must
 * close its iteration. */
static void judge_stops(af_ctx *c)
{
    int depth = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_NESTED_ENTER)
            depth++;
        else if (e->kind == AF_EV_NESTED_EXIT && depth > 0)
            depth--;
        if (e->kind != AF_EV_STOP || depth > 0)
            continue;
        int stopped = -1;
        for (int j = i + 1; j < c->tr->nevents && stopped < 0; j++)
            if (c->tr->events[j].kind == AF_EV_STOPPED)
                stopped = j;
        int ended = c->budget_ev >= 0 || c->escaped; /* the run was cut short */
        if (stopped < 0) {
            if (!ended &&
                af_emit(c, AF_RULE_STOP_IGNORED, e->task, e->op, i,
                        "loop.stop() at vtime %lld (iteration %lld): the loop never stopped",
                        (long long)e->vtime, (long long)e->iter))
                af_cause_last(c, AF_CR_LOOP_CONTRACT, "stop() ends the current iteration");
            continue;
        }
        const af_event *s = &c->tr->events[stopped];
        if (s->iter > e->iter &&
            af_emit(c, AF_RULE_STOP_LATE, e->task, e->op, stopped,
                    "loop.stop() in iteration %lld: the loop stopped in iteration %lld, after "
                    "%d more events",
                    (long long)e->iter, (long long)s->iter, stopped - i - 1))
            af_cause_last(c, AF_CR_LOOP_CONTRACT, "stop() ends the current iteration");
    }
}

void af_oracle_loop(af_ctx *c)
{
    if (!c->s)
        return;
    loop_facts *f = malloc(sizeof *f);
    if (!f)
        return;
    collect(c, f);
    judge_order(c, f);
    judge_handles(c, f);
    judge_stops(c);
    free(f);
}
