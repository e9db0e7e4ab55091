/* cancel_facts.c - facts about a task's cancellations that the
 * cancellation rules (cancellation.c) read: which tasks' CancelledErrors
 * propagate into a task, the messages that explain one, where an exception
 * leaving a block came from, which cancel events a scenario op made.
 *
 * Reads the trace and the IR; decides no verdict, keeps no state.
 */
#include <stdlib.h>
#include <string.h>

#include "oracles/cancel_facts.h"

int af_cancel_by_scenario_op(const af_ctx *c, const af_event *ev)
{
    if (!c->s || ev->op < 0 || ev->op >= c->s->nops)
        return 0;
    const af_op *o = &c->s->ops[ev->op];
    const af_tinfo *by = af_ctx_task(c, ev->by_task), *target = af_ctx_task(c, ev->task);
    if (o->kind != AF_OP_CANCEL || !by || !target || by->ir_owner != o->task)
        return 0;
    if (o->ref == AF_SELF)
        return ev->by_task == ev->task;
    return o->ref >= 0 && o->ref == target->ir_task;
}

static int op_retrieves(const af_ctx *c, int op, int k);

int af_cancel_source(const af_ctx *c, int T, int S)
{
    const af_tinfo *t = af_ctx_task(c, T), *s = af_ctx_task(c, S);
    if (!t || !s || S == T)
        return 0;
    if (s->parent == T && s->ir_task < 0)
        return 1; /* asyncio's own task created by T (wait_for's inner task) */
    if (s->ir_task < 0 || !c->s)
        return s->parent == T;
    int owner = t->ir_owner;
    if (owner < 0)
        return 0;
    for (int i = 0; i < c->s->nops; i++)
        if (c->s->ops[i].task == owner && op_retrieves(c, i, s->ir_task))
            return 1;
    return 0;
}

int af_late_sources(const af_ctx *c, int T, int ev)
{
    const af_trace *tr = c->tr;
    int n = 0;
    for (int j = ev + 1; j < tr->nevents && tr->events[j].iter <= tr->events[ev].iter + 1; j++) {
        const af_event *e = &tr->events[j];
        if (e->kind == AF_EV_TASK_DONE && e->task != T && e->outcome == AF_OUT_CANCELLED &&
            af_cancel_source(c, T, e->task))
            n++;
    }
    return n;
}

static int op_retrieves(const af_ctx *c, int op, int k)
{
    const af_scenario *sc = c->s;
    if (!sc || op < 0 || op >= sc->nops || k < 0)
        return 0;
    const af_op *o = &sc->ops[op];
    if ((o->kind == AF_OP_AWAIT || o->kind == AF_OP_SHIELD) && o->ref == k)
        return 1;
    if (af_op_has_children(o->kind) && o->kind != AF_OP_SPAWN)
        for (int j = o->children.head, g = 0; j >= 0 && j < sc->ntasks && g < AF_MAX_TASKS;
             j = sc->tasks[j].next, g++)
            if (j == k)
                return 1;
    return 0;
}

int af_repeat_retrievals(const af_ctx *c, int T, int ev)
{
    const af_trace *tr = c->tr;
    int extra = 0;
    for (int S = 0; S < c->ntasks; S++) {
        const af_tinfo *s = af_ctx_task(c, S);
        if (!s || s->ir_task < 0 || s->done_ev < 0 ||
            tr->events[s->done_ev].outcome != AF_OUT_CANCELLED ||
            tr->events[s->done_ev].iter > tr->events[ev].iter + 1 || !af_cancel_source(c, T, S))
            continue;
        int n = 0;
        for (int j = 0; j < ev; j++)
            if (tr->events[j].kind == AF_EV_OP_ENTER && tr->events[j].task == T &&
                op_retrieves(c, tr->events[j].op, s->ir_task))
                n++;
        if (n > 1)
            extra += n - 1;
    }
    return extra;
}

int af_task_raises_cancelled(const af_ctx *c, int T)
{
    const af_tinfo *t = af_ctx_task(c, T);
    if (!t || !c->s)
        return 0;
    for (int i = 0; i < c->s->nops; i++) {
        const af_op *o = &c->s->ops[i];
        if (o->task != t->ir_owner || o->exc.kind != AF_EXC_CANCELLED_SUBCLASS)
            continue;
        if (o->kind == AF_OP_RAISE ||
            (o->kind == AF_OP_TRY && o->on_cancel == AF_ON_CANCEL_RAISE) ||
            (o->kind == AF_OP_EXCEPT_STAR && o->reaction == AF_REACT_RAISE))
            return 1;
    }
    return 0;
}

int af_task_raises_in_finally(const af_ctx *c, int T)
{
    const af_tinfo *t = af_ctx_task(c, T);
    if (!t || !c->s)
        return 0;
    for (int i = 0; i < c->s->nops; i++) {
        const af_op *o = &c->s->ops[i];
        if (o->task != t->ir_owner || o->kind != AF_OP_RAISE)
            continue;
        for (int p = o->parent, child = i, g = 0; p >= 0 && p < c->s->nops && g < AF_MAX_OPS;
             child = p, p = c->s->ops[p].parent, g++) {
            const af_op *po = &c->s->ops[p];
            if (po->kind == AF_OP_TRY)
                for (int k = po->finally_body.head, h = 0; k >= 0 && h < AF_MAX_OPS;
                     k = c->s->ops[k].next, h++)
                    if (k == child)
                        return 1;
        }
    }
    return 0;
}

static int cancel_in_flight(const af_ctx *c, int T, int j)
{
    const af_trace *tr = c->tr;
    for (int k = j - 1; k >= 0; k--) {
        const af_event *p = &tr->events[k];
        if (p->kind == AF_EV_CANCEL) {
            if (p->by_task == T)
                return 0;
            if (p->task == T)
                return 1;
            continue;
        }
        if (p->task != T || p->kind == AF_EV_PENDING)
            continue;
        if (p->kind == AF_EV_OP_EXIT)
            return p->exit == AF_OPEXIT_RAISE && af_exc_is_cancelled(p->exc_type);
        if (p->kind == AF_EV_CAUGHT)
            return c->s && p->op >= 0 && p->op < c->s->nops && c->s->ops[p->op].kind == AF_OP_TRY &&
                   c->s->ops[p->op].on_cancel == AF_ON_CANCEL_RERAISE;
        return 0;
    }
    return 0;
}

static int raised_through(const af_trace *tr, int T, int from, int at)
{
    for (int k = from; k < at; k++) {
        const af_event *q = &tr->events[k];
        if (q->kind == AF_EV_OP_EXIT && q->task == T &&
            (q->exit != AF_OPEXIT_RAISE || af_exc_is_cancelled(q->exc_type)))
            return 0;
    }
    return 1;
}

int af_finally_replaced_cancel(const af_ctx *c, int T, int enter, int at)
{
    const af_trace *tr = c->tr;
    if (af_exc_is_cancelled(tr->events[at].exc_type))
        return -1;
    for (int j = enter + 1; j < at; j++) {
        const af_event *f = &tr->events[j];
        if (f->kind != AF_EV_FINALLY || f->task != T || af_ctx_op_kind(c, f->op) != AF_OP_TRY ||
            !cancel_in_flight(c, T, j))
            continue;
        int k = j + 1;
        while (k < at && !(tr->events[k].kind == AF_EV_OP_EXIT && tr->events[k].task == T &&
                           tr->events[k].op == f->op))
            k++;
        if (k < at && tr->events[k].exit == AF_OPEXIT_RAISE &&
            !af_exc_is_cancelled(tr->events[k].exc_type) && raised_through(tr, T, k + 1, at))
            return f->op;
    }
    return -1;
}

int af_exiting_op(const af_ctx *c, int T, int i)
{
    const af_trace *tr = c->tr;
    for (int j = i + 1; j < tr->nevents && tr->events[j].iter == tr->events[i].iter; j++) {
        const af_event *p = &tr->events[j];
        if (p->task != T)
            continue;
        if (p->kind == AF_EV_OP_EXIT)
            return p->op;
        if (p->kind == AF_EV_OP_ENTER || p->kind == AF_EV_TASK_DONE || p->kind == AF_EV_CAUGHT ||
            p->kind == AF_EV_FINALLY || p->kind == AF_EV_UNCANCEL)
            return -1;
    }
    return -1;
}

int af_cancelled_args_message(const char *args, char *out, size_t cap, const char **msg)
{
    if (!args || !args[0])
        return 0;
    if (strcmp(args, "()") == 0) {
        *msg = NULL;
        return 1;
    }
    size_t n = strlen(args);
    if (n >= 5 && args[0] == '(' && args[1] == '\'' && strcmp(args + n - 3, "',)") == 0 &&
        n - 5 < cap) {
        memcpy(out, args + 2, n - 5);
        out[n - 5] = '\0';
        if (strchr(out, '\'') || strchr(out, '\\'))
            return 0;
        *msg = out;
        return 1;
    }
    return 0;
}

static int gather_child(const af_ctx *c, int X, int S)
{
    const af_tinfo *x = af_ctx_task(c, X), *s = af_ctx_task(c, S);
    if (!x || !s || !c->s || s->ir_task < 0 || x->ir_owner < 0)
        return 0;
    const af_scenario *sc = c->s;
    for (int i = 0; i < sc->nops; i++) {
        const af_op *o = &sc->ops[i];
        if (o->task != x->ir_owner || o->kind != AF_OP_GATHER)
            continue;
        for (int k = o->children.head, g = 0; k >= 0 && k < sc->ntasks && g < AF_MAX_TASKS;
             k = sc->tasks[k].next, g++)
            if (k == s->ir_task)
                return 1;
    }
    return 0;
}

static int same_message(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether a request on X made before event upto was given msg; sets
 * *any_request when X has a request. */
static int requested_with(const af_ctx *c, int X, int upto, const char *msg, int *any_request)
{
    for (int i = 0; i < upto; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_CANCEL && e->task == X && e->returned) {
            *any_request = 1;
            if (same_message(e->msg, msg))
                return 1;
        }
    }
    return 0;
}

/* gather cancelled with all children done builds its CancelledError from
 * the last child even when that child was not cancelled (tasks.py `exc =
 * fut._make_cancelled_error()`): the message of the last cancel() on that
 * child S that took effect while it ran (_must_cancel path:
 * `self._cancel_message = msg`), made before event upto. */
static int gather_child_message(const af_ctx *c, int S, int upto, const char *msg)
{
    const af_event *last = NULL;
    for (int i = 0; i < upto; i++) {
        const af_event *q = &c->tr->events[i];
        if (q->kind == AF_EV_CANCEL && q->task == S && q->by_task == S && q->returned)
            last = q;
    }
    return last && same_message(last->msg, msg);
}

/* Whether task S is the task of a shield op. */
static int shielded(const af_ctx *c, int S)
{
    const af_tinfo *s = af_ctx_task(c, S);
    return s && c->s && s->op >= 0 && s->op < c->s->nops && c->s->ops[s->op].kind == AF_OP_SHIELD;
}

/* Whether X received cancelled task S's CancelledError (before event
 * `upto`) as the first retrieval of S, through an `await` of S: asyncio
 * hands that one the CancelledError cancel() made, with its message. Any
 * other path (a second retrieval, an op that waits for S as a child) may
 * build a CancelledError of its own. */
static int first_await_retrieval(const af_ctx *c, int X, int S, int upto)
{
    const af_tinfo *s = af_ctx_task(c, S);
    int first = -1, last_x = -1;
    for (int i = 0; s && c->s && i < upto; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_OP_EXIT || e->exit != AF_OPEXIT_RAISE ||
            !af_exc_is_cancelled(e->exc_type) || e->op < 0 || e->op >= c->s->nops)
            continue;
        const af_op *o = &c->s->ops[e->op];
        if (e->op != s->op && !(o->kind == AF_OP_AWAIT && s->ir_task >= 0 && o->ref == s->ir_task))
            continue;
        if (first < 0)
            first = i;
        if (e->task == X)
            last_x = i;
    }
    return last_x >= 0 && last_x == first &&
           c->s->ops[c->tr->events[last_x].op].kind == AF_OP_AWAIT;
}

int af_cancel_message_explained(const af_ctx *c, int T, int upto, const char *msg, int *any_request,
                                int *no_msg_source)
{
    int n = c->ntasks;
    char *mark = calloc((size_t)(n > 0 ? n : 1), 1);
    int *queue = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    int found = 0, qh = 0, qt = 0;
    *any_request = 0;
    *no_msg_source = 0;
    if (!mark || !queue) {
        free(mark);
        free(queue);
        return 1;
    }
    if (T >= 0 && T < n) {
        mark[T] = 1;
        queue[qt++] = T;
    }
    while (qh < qt && !found) {
        int X = queue[qh++];
        found = requested_with(c, X, upto, msg, any_request);
        for (int S = 0; S < n && !found; S++) {
            if (mark[S] || !af_cancel_source(c, X, S))
                continue;
            const af_tinfo *s = af_ctx_task(c, S);
            /* a source's end is recorded up to an iteration after the
             * delivery (done callback; see af_late_sources) */
            if (!s || s->done_ev < 0 ||
                c->tr->events[s->done_ev].iter > c->tr->events[upto].iter + 1)
                continue;
            const af_event *done = &c->tr->events[s->done_ev];
            if (done->outcome != AF_OUT_CANCELLED) {
                found = gather_child(c, X, S) && gather_child_message(c, S, upto, msg);
                continue;
            }
            /* a subclass raised by the scenario: its args are not a message */
            found =
                !af_exc_is_exact_cancelled(done->exc_type) && done->exc_type && done->exc_type[0];
            /* shield's outer.cancel() carries no message; a cancelled task
             * hands its CancelledError (with the message) to the first
             * retrieval only */
            if (!msg && (shielded(c, S) || !first_await_retrieval(c, X, S, upto)))
                *no_msg_source = 1;
            mark[S] = 1;
            queue[qt++] = S;
        }
    }
    free(mark);
    free(queue);
    return found;
}
