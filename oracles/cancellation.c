/* cancellation.c - the cancellation oracles.
 *
 * Terms. A *request* on task T is a `cancel` event with target T that
 * returned True (Task.cancel() on a done task returns False and is no
 * request). A request is *withdrawn* by an `uncancel` event on T that
 * lowered the count: the requests a handler caught first; an uncancel()
 * asyncio makes right before an expired timeout's (or a 3.12 wait_for's)
 * op_exit takes back the timeout's own request, one made with no task and
 * no op while that block was open (one still pending before one a nested
 * block already dropped); another uncancel() of asyncio's own (TaskGroup
 * exit) the newest request no scenario op made; else the oldest request
 * outstanding. It is *handled* by the
 * scenario when a scenario handler in T caught a CancelledError after it
 * (`caught` event) and ended the propagation (on_cancel uncancel / raise /
 * swallow, except* swallow / raise; a re-raising handler handles nothing).
 * It is *delivered* when T ends cancelled. A request is *forwarded* when
 * Task.cancel() passed it on to the task T awaits (the `cancel` event on
 * that task comes just before, same iteration, caller and op; TRACE.md) and
 * that task did not end cancelled: the awaited task took the request (and
 * answers for it under its own id), so it is not counted against T. A
 * request is made *from outside* when by_task != T (T was suspended: the
 * CancelledError must be thrown at T's current await, inside every op then
 * open in T); a request T makes on itself is delivered at T's next await,
 * which may be after the op it was made in.
 *
 * cancellation.swallowed - (once per task) T finished with a result, or
 *   with an exception that is not KeyboardInterrupt / SystemExit and that no
 *   scenario `finally` of T could have raised, while a request on T that is
 *   not forwarded was neither delivered (T ending cancelled delivers every
 *   request, however late) nor withdrawn nor handled by a converting
 *   handler. The verdict is located where the CancelledError was lost, when
 *   that is known (the reason, part of the signature, says which):
 *   (handler) a scenario handler that swallows (try on_cancel=swallow,
 *     except* CancelledError: pass) caught it: the misuse pattern;
 *   (block) it was made from outside while op B was open in T, and B then
 *     returned normally (op_exit ok) with the request still outstanding:
 *     asyncio's code inside B dropped the CancelledError (3.11 wait_for,
 *     gh-86296: the inner future completes in the iteration the outer task
 *     is cancelled, wait_for returns the result); or T made it on itself
 *     while B was open or in the step in which T entered B, B exits in a
 *     later iteration than the request (a task runs one step per
 *     iteration: T's first suspension after the request, where it was
 *     due, was inside B), and B exited without delivering it (the same
 *     wait_for defect, reached through a self-cancel; gh-107547). A
 *     self-request made in an earlier step than B's entry was due at a
 *     suspension before B and thrown there: a `finally` that then awaits
 *     B with the CancelledError in flight and returns (or raises) drops it
 *     in the enclosing try (cause scenario), not in B;
 *   (block-raise) it was made from outside during a structured block
 *     (task_group, timeout, wait_for) that then raised an exception other
 *     than CancelledError without uncancel()ing it (3.11 TaskGroup,
 *     gh-116720: a child fails while the parent is cancelled / waits in
 *     __aexit__); when that exception came out of a gather / wait / await
 *     nested in the block (the deeper op raised the same exception in the
 *     same step), the requests made while that op was open are left to
 *     it (they end as task-end at it), not blamed on the block. A request
 *     T made on itself: as in (block), op B (of any kind) raising such an
 *     exception (3.11 wait_for raising the inner task's exception);
 *   (task-end) otherwise: at the op open in T when the request was made.
 * cancellation.spurious - (once per task) T received a CancelledError (a
 *   scenario handler caught one, or T ended cancelled) when the number of
 *   CancelledErrors T has received so far (handlers that ended the
 *   propagation, plus this one) exceeds the number of requests ever made on
 *   T (withdrawn ones included: 3.11's uncancel() does not stop a delivery
 *   already scheduled) plus the tasks T awaits or owns that ended cancelled
 *   (await, shield, gather, as_completed, wait, task_group children,
 *   asyncio's internal tasks T created: their CancelledError propagates to
 *   T; a source's end counts from the trace up to the iteration after the
 *   delivery, as the probe records it from a done callback; a source
 *   counts once per op of T that retrieves its outcome and that T entered:
 *   the op that created it, then each `await` of it, as a cancelled task
 *   raises its CancelledError to every retrieval). Skipped for a task whose own code may
 * raise a CancelledError subclass (raise cancelled_subclass), after a KeyboardInterrupt /
 *   SystemExit escaped, and for deliveries after `end` to a task the harness
 *   found pending (it cancels those).
 * cancellation.count - (once per task) the cancelling() counter is wrong:
 *   (arith) a request did not raise it by exactly 1, a cancel() that
 *     returned False changed it, an uncancel() did not lower it by exactly 1
 *     (to a floor of 0), or a value the probe read (op_enter, op_exit,
 *     task_done, cancelling_before) differs from the value the cancel /
 *     uncancel events imply;
 *   (block) a structured block (task_group, timeout, wait_for) returned
 *     normally with cancelling() higher than at its entry because of a
 *     request from outside that it dropped (see swallowed/block; a request
 *     T made on itself is still to be delivered at T's next await and does
 *     not count);
 *   (task-end) T finished with a result with cancelling() > 0 while a
 *     request is outstanding (forwarded requests and requests a scenario
 *     handler converted into another exception excepted), or while
 *     requests delivered together as one CancelledError were withdrawn by
 *     the handler only in part.
 *   The value the probe read at op_enter / op_exit is used when present,
 *   else the value implied by the cancel / uncancel events. (arith) is
 *   judged up to `end` (or a budget): after it the probe sorts the events
 *   the final garbage collection produced, so their order is canonical,
 *   not the order of the calls.
 * cancellation.message - a CancelledError that T received (a `caught`
 *   event of exactly asyncio's CancelledError, or T's task_done when the
 *   probe recorded its args) carries a message that no request on T, nor on
 *   a task whose cancellation can propagate into T (transitively, as for
 *   spurious: a source that ended cancelled, its end recorded up to the
 *   iteration after the delivery), was given; for a gather child that did
 *   not end cancelled, the message of the last request on it made while
 *   it ran (gather, cancelled, builds its CancelledError from its last
 *   child, cancelled or not, and a running task keeps the message of its
 *   latest cancel()). Skipped when there is no request at all (that is
 *   spurious).
 * cancellation.converted -
 *   (expired-cancelled) a timeout block whose timeout expired (op_exit
 *     detail True) raised asyncio's CancelledError although cancelling() at
 *     exit is not higher than at entry (no other request is outstanding, so
 *     the CancelledError is the timeout's own and must have become
 *     TimeoutError; 3.11's `uncancel() == 0` test fails this when an earlier
 *     request was left counted, gh-102780); skipped while a request made
 *     before the block is still undelivered (the CancelledError may be its
 *     own), and when T's scenario
 *     handlers had converted a CancelledError into another exception before
 *     (that leaves the count up on purpose); or
 *   (external-timeout) a wait_for / timeout block raised TimeoutError while
 *     a request made during it by a scenario `cancel` op (from outside) was
 *     neither withdrawn nor handled (not reported as swallowed too).
 * A request reported under one sub-oracle is not reported again under
 * another.
 *
 * A CancelledError caught by except* is judged by neither message nor
 * spurious: except* also receives the CancelledErrors of other tasks that
 * TaskGroups wrapped into the exception groups they raise.
 *
 * Messages: a CancelledError(None) explained only by a source task that
 * ended cancelled is reported with cause scenario: shield() cancels its outer future without a
 * message (tasks.py `outer.cancel()`), and a cancelled task hands the CancelledError that carries
 * the message to its first retrieval only (Future._make_cancelled_error consumes _cancelled_exc;
 * Task.__step cancels with no message), so a second observer (as_completed after an await, ...)
 * gets CancelledError(). Neither is a documented contract.
 *
 * Cause:
 *   misuse   - swallowed (handler): the scenario's swallowing handler;
 *              every verdict about a task whose code ran a misuse handler
 *              (a try / except* that swallows a CancelledError or turns it
 *              into another exception): located at that op;
 *   scenario - count (task-end) when the requests left counted were all
 *              delivered, coalesced into one CancelledError that a handler
 *              ended with fewer uncancel() calls than requests;
 *              message: see Messages above;
 *              swallowed located at a try / except* op: the scenario's
 *              own statement dropped the CancelledError (a `return` or an
 *              exception in its finally replaces the one in flight, Python
 *              semantics), e.g. a task cancels itself, the CancelledError
 *              is thrown at its next await in the try body, and the
 *              finally awaits something (innocent) and returns; also when
 *              an asyncio block (timeout, task group, wait_for) exits with
 *              an exception that came out of a try inside it whose finally
 *              ran while a CancelledError was in flight (the finally's
 *              exception, e.g. from a wait_for or a reschedule in it,
 *              replaced it): located at that try, not at the block;
 *              swallowed (task-end) with an exception when a finally clause
 *              of the task ran after the request: an exception raised in a
 *              finally (an await there that failed) replaces the
 *              CancelledError in flight (Python semantics);
 *              swallowed (task-end) when every request left was made by
 *              the task on itself and it then ended with an exception
 *              before suspending again (Task.__step lets the exception win
 *              over a pending self-cancel: there was no await to deliver it
 *              at); verdicts about requests the harness made while
 *              cleaning up a task left pending (by_task -1 after `end` or a
 *              budget): the cause of that leak or deadlock;
 *   target   - everything else: asyncio dropped, invented, miscounted,
 *              converted or re-worded a cancellation (gh-86296 wait_for,
 *              gh-116720 TaskGroup, gh-102780 timeout, ...).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracles/oracle.h"

#define MAX_REQ 256

enum { R_PENDING = 0, R_DONE, R_LOST, R_REPORTED, R_COALESCED };

typedef struct req {
    int ev;
    int by;
    int exempt; /* forwarded to an awaited task that did not end cancelled */
    int state;  /* R_PENDING; R_DONE withdrawn / handled / delivered;
                   R_LOST its CancelledError dropped at lost_op (reported
                   when the task finishes without a delivery); R_REPORTED */
    int lost_op;
    const char *lost_reason;
} req;

typedef struct tstate {
    int nreq;
    int model;             /* cancelling() implied by cancel / uncancel events */
    int count_reported;    /* arith verdict already given */
    int spurious_reported; /* one spurious verdict per task */
    int requests_total;    /* requests ever made (spurious) */
    int sources;           /* awaited / owned tasks that ended cancelled */
    int received;          /* CancelledErrors received that ended propagation */
    int converted_by_scenario;
    int nstack;
    int misuse_op;        /* a misuse op that ran in the task's code, -1 */
    int raise_src_ev;     /* last op_exit raise of T: the op_exit where that exception */
    int raise_src_enter;  /* first came out of an op, and that op's op_enter (-1) */
    int last_exit_ev;     /* T's last op_exit event, -1 */
    af_cause count_cause; /* cause for the next count_once verdict */
    char count_why[AF_VERDICT_WHY_MAX];
    /* Arrays last: only their first nreq / nstack entries are ever read,
     * so judge_task clears the fields above them only (clearing ~9 KiB per
     * task was 5% of a whole run's instructions). */
    int stack[AF_MAX_OPS + 8];
    int stack_enter[AF_MAX_OPS + 8];
    int stack_cancelling[AF_MAX_OPS + 8];
    req reqs[MAX_REQ];
} tstate;

/* Cause of the verdict just emitted about task T: misuse when a misuse op
 * ran in T's code, else k. */
static void set_cause(af_ctx *c, const tstate *st, af_cause k, const char *why)
{
    if (st->misuse_op >= 0 && c->s)
        af_cause_last(c, AF_CAUSE_MISUSE, "a misuse op (%s) ran in the task's code",
                      af_op_kind_name(c->s->ops[st->misuse_op].kind));
    else
        af_cause_last(c, k, "%s", why);
}

static af_op_kind op_kind(const af_ctx *c, int op)
{
    if (!c->s || op < 0 || op >= c->s->nops)
        return AF_OP_KIND_COUNT;
    return c->s->ops[op].kind;
}

static const char *kname(const af_ctx *c, int op)
{
    af_op_kind k = op_kind(c, op);
    const char *n = k < AF_OP_KIND_COUNT ? af_op_kind_name(k) : NULL;
    return n ? n : "code";
}

static const char *tname(const af_ctx *c, int task)
{
    const af_tinfo *t = af_ctx_task(c, task);
    if (task < 0)
        return "(no task)";
    return t && t->name ? t->name : "?";
}

/* Whether request event i on its target was forwarded (see above). */
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

/* Whether cancel event ev was made by a scenario `cancel` op (rather than
 * by asyncio's own code while that op happened to be the current one): the
 * op is a cancel op run by the calling task and aimed at the target. */
static int is_scenario_cancel(const af_ctx *c, const af_event *ev)
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

/* Whether task S's CancelledError can propagate into task T. */
static int is_source(const af_ctx *c, int T, int S)
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
    const af_scenario *sc = c->s;
    for (int i = 0; i < sc->nops; i++) {
        const af_op *o = &sc->ops[i];
        if (o->task != owner)
            continue;
        if ((o->kind == AF_OP_AWAIT || o->kind == AF_OP_SHIELD) && o->ref == s->ir_task)
            return 1;
        if (af_op_has_children(o->kind) && o->kind != AF_OP_SPAWN)
            for (int k = o->children.head, g = 0; k >= 0 && k < sc->ntasks && g < AF_MAX_TASKS;
                 k = sc->tasks[k].next, g++)
                if (k == s->ir_task)
                    return 1;
    }
    return 0;
}

/* Whether the code of T's IR task can raise a CancelledError subclass. */
static int raises_cancelled(const af_ctx *c, int T)
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

/* Whether a raise op sits in a finally clause of T's IR task code. */
static int raises_in_finally(const af_ctx *c, int T)
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

/* Whether a CancelledError was in flight in T when event j (a finally of
 * T) happened. Going back from j to the last thing T itself did: an op
 * that exited with a CancelledError, or a handler that re-raises it, means
 * yes (the error propagating up to the finally); a cancel request on T by
 * another task first means yes too (made while T was suspended: thrown at
 * the await T was in, which may record nothing, a bare sleep); anything
 * else T did means no. The harness's `pending` records are not T running. */
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

/* Whether, from event `from` up to (not including) `at`, T's ops exited
 * only by raising exceptions other than a CancelledError (an except* may
 * wrap one in a group): one exception passed up unchanged. */
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

/* The try statement whose finally clause replaced a CancelledError with
 * the exception op exit `at` raises, or -1: a finally of T that ran inside
 * the block (after `enter`) while a CancelledError was in flight, of a try
 * that then exited with another exception, which (or a group wrapping it)
 * is what the block raises. An exception raised in a finally replaces the
 * one in flight: Python semantics, the scenario's statement. A finally that
 * passed the CancelledError on (an inner try's) is not the one: the search
 * goes on to the enclosing ones. */
static int replaced_in_finally(const af_ctx *c, int T, int enter, int at)
{
    const af_trace *tr = c->tr;
    if (af_exc_is_cancelled(tr->events[at].exc_type))
        return -1;
    for (int j = enter + 1; j < at; j++) {
        const af_event *f = &tr->events[j];
        if (f->kind != AF_EV_FINALLY || f->task != T || op_kind(c, f->op) != AF_OP_TRY ||
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

/* Whether S is a child of a gather op run by X. */
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

/* Candidate messages: requests on T and on every transitive source. */
static int msg_ok(const af_ctx *c, int T, int upto, const char *msg, int *any_request,
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
        for (int i = 0; i < upto; i++) {
            const af_event *e = &c->tr->events[i];
            if (e->kind == AF_EV_CANCEL && e->task == X && e->returned) {
                *any_request = 1;
                if ((!e->msg && !msg) || (e->msg && msg && strcmp(e->msg, msg) == 0)) {
                    found = 1;
                    break;
                }
            }
        }
        for (int S = 0; S < n && !found; S++) {
            if (mark[S] || !is_source(c, X, S))
                continue;
            const af_tinfo *s = af_ctx_task(c, S);
            /* a source's end is recorded up to an iteration after the
             * delivery (done callback; see late_sources) */
            if (!s || s->done_ev < 0 ||
                c->tr->events[s->done_ev].iter > c->tr->events[upto].iter + 1)
                continue;
            if (c->tr->events[s->done_ev].outcome != AF_OUT_CANCELLED) {
                /* gather cancelled with all children done builds its
                 * CancelledError from the last child even when that child
                 * was not cancelled (tasks.py `exc =
                 * fut._make_cancelled_error()`): the message of the last
                 * cancel() on it that took effect while it ran
                 * (_must_cancel path: `self._cancel_message = msg`) */
                if (gather_child(c, X, S)) {
                    const af_event *last = NULL;
                    for (int i = 0; i < upto; i++) {
                        const af_event *q = &c->tr->events[i];
                        if (q->kind == AF_EV_CANCEL && q->task == S && q->by_task == S &&
                            q->returned)
                            last = q;
                    }
                    if (last &&
                        ((!last->msg && !msg) || (last->msg && msg && strcmp(last->msg, msg) == 0)))
                        found = 1;
                }
                continue;
            }
            if (!af_exc_is_exact_cancelled(c->tr->events[s->done_ev].exc_type) &&
                c->tr->events[s->done_ev].exc_type && c->tr->events[s->done_ev].exc_type[0])
                found = 1; /* a subclass raised by the scenario: its args are not a message */
            if (!msg)
                *no_msg_source = 1; /* shield's outer.cancel() carries no
                              message; a cancelled task hands its
                              CancelledError (with the message) to the first
                              retrieval only */
            mark[S] = 1;
            queue[qt++] = S;
        }
    }
    free(mark);
    free(queue);
    return found;
}

static void check_message(af_ctx *c, const tstate *st, int T, int ev, const char *msg)
{
    int any, benign;
    if (msg_ok(c, T, ev, msg, &any, &benign) || !any)
        return;
    char b[64];
    const af_event *e = &c->tr->events[ev];
    int op = e->kind == AF_EV_CAUGHT ? e->op : af_ctx_open_op(c, T, ev);
    if (af_emit(c, AF_ORACLE_CANCEL_MESSAGE, T, op, ev, "message",
                "task %s received CancelledError(%s) at vtime %lld, a message no cancel() of it or "
                "of a task "
                "it awaits was given",
                tname(c, T), af_q(msg, b, sizeof b), (long long)e->vtime))
        set_cause(c, st, benign ? AF_CAUSE_SCENARIO : AF_CAUSE_TARGET,
                  benign ? "the CancelledError came from a cancelled task it waits on, through "
                           "shield() (which "
                           "re-cancels without the message) or a second retrieval (the message "
                           "goes to the first): "
                           "asyncio documents no message there"
                         : "asyncio must deliver the message given to cancel()");
}

/* Parse repr(args) of a CancelledError: "()" -> None, "('m',)" -> m.
 * Returns 0 when the form is not one of those. */
static int parse_args(const char *args, char *out, size_t cap, const char **msg)
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

static void count_arith(af_ctx *c, tstate *st, int T, int ev, const char *what, int got, int want)
{
    if (st->count_reported)
        return;
    /* After `end` / a budget the probe puts the garbage collector's batch
     * of events in a canonical (sorted) order: not the order of the calls. */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
    if (cut >= 0 && ev > cut)
        return;
    st->count_reported = 1;
    const af_event *e = &c->tr->events[ev];
    int op = e->op >= 0 && e->kind != AF_EV_CANCEL && e->kind != AF_EV_UNCANCEL
                 ? e->op
                 : af_ctx_open_op(c, T, ev);
    if (af_emit(c, AF_ORACLE_CANCEL_COUNT, T, op, ev, "arith",
                "task %s: %s at vtime %lld is %d where the cancel()/uncancel() calls imply %d",
                tname(c, T), what, (long long)e->vtime, got, want))
        set_cause(c, st, AF_CAUSE_TARGET,
                  "cancelling() must count cancel() and uncancel() calls exactly");
}

/* Source tasks of T whose cancelled end the trace records after event ev
 * but no later than the next loop iteration: the probe records a task's
 * end from its done callback, which runs in the iteration after the one in
 * which the task finished, so a task that awaits it (and was scheduled
 * earlier) can receive its CancelledError before the task_done event. */
static int late_sources(const af_ctx *c, int T, int ev)
{
    const af_trace *tr = c->tr;
    int n = 0;
    for (int j = ev + 1; j < tr->nevents && tr->events[j].iter <= tr->events[ev].iter + 1; j++) {
        const af_event *e = &tr->events[j];
        if (e->kind == AF_EV_TASK_DONE && e->task != T && e->outcome == AF_OUT_CANCELLED &&
            is_source(c, T, e->task))
            n++;
    }
    return n;
}

/* Whether scenario op `op` (of T's code) retrieves the outcome of IR task
 * k: an await / shield of it, or an op (not spawn) that has it as a child. */
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

/* CancelledErrors that sources of T can account for beyond the one each:
 * a cancelled task raises its CancelledError again to every later
 * retrieval (`await t` of a done, cancelled task raises it, Future.result),
 * so a source retrieved by n ops T entered before event ev (the op that
 * created it, then `await` ops of it) accounts for n. */
static int repeat_retrievals(const af_ctx *c, int T, int ev)
{
    const af_trace *tr = c->tr;
    int extra = 0;
    for (int S = 0; S < c->ntasks; S++) {
        const af_tinfo *s = af_ctx_task(c, S);
        if (!s || s->ir_task < 0 || s->done_ev < 0 ||
            tr->events[s->done_ev].outcome != AF_OUT_CANCELLED ||
            tr->events[s->done_ev].iter > tr->events[ev].iter + 1 || !is_source(c, T, S))
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

static void spurious_check(af_ctx *c, tstate *st, int T, int ev, int skip)
{
    if (skip || st->spurious_reported)
        return;
    if (st->received + 1 <= st->requests_total + st->sources)
        return;
    if (st->received + 1 <=
        st->requests_total + st->sources + late_sources(c, T, ev) + repeat_retrievals(c, T, ev))
        return;
    st->spurious_reported = 1;
    const af_event *e = &c->tr->events[ev];
    int op = e->kind == AF_EV_CAUGHT ? e->op : af_ctx_open_op(c, T, ev);
    if (af_emit(c, AF_ORACLE_CANCEL_SPURIOUS, T, op, ev,
                e->kind == AF_EV_CAUGHT ? "caught" : "task-end",
                "task %s received CancelledError #%d at vtime %lld but only %d cancel() request(s) "
                "on it and %d "
                "cancelled task(s) it awaits account for CancelledErrors",
                tname(c, T), st->received + 1, (long long)e->vtime, st->requests_total,
                st->sources))
        set_cause(c, st, AF_CAUSE_TARGET, "a CancelledError no cancel() request accounts for");
}

/* Mark the outside, counted requests made since event `enter` and still
 * pending as lost at op (reason). Returns how many; *first the first. */
static int lose_since(tstate *st, int T, int enter, int op, const char *reason, int *first)
{
    int n = 0;
    *first = -1;
    for (int r = 0; r < st->nreq; r++) {
        req *q = &st->reqs[r];
        if (q->state != R_PENDING || q->exempt || q->by == T || q->ev < enter)
            continue;
        q->state = R_LOST;
        q->lost_op = op;
        q->lost_reason = reason;
        if (*first < 0)
            *first = r;
        n++;
    }
    return n;
}

/* Requests T made on itself are delivered at T's first suspension after
 * them (tasks.py:254-257, 307-310). One still pending when op B exits was
 * dropped inside B when that first suspension was inside B: B exits in a
 * later iteration than the request (T suspended after it, B still open),
 * and B was open at the request or entered in the same step (a task runs
 * at most one step per loop iteration, so T did not suspend between the
 * request and B's entry). A request made in an earlier step than B's
 * entry was due at a suspension before B: its CancelledError was thrown
 * there and, if T goes on, it propagates (through a `finally` that may
 * await B) and is answered for by the ops open at that suspension. */
static int lose_self_since(const af_trace *tr, tstate *st, int T, int enter, int exit_ev, int op,
                           const char *reason)
{
    int n = 0, it_exit = tr->events[exit_ev].iter, it_enter = tr->events[enter].iter;
    if (it_exit <= it_enter)
        return 0;
    for (int r = 0; r < st->nreq; r++) {
        req *q = &st->reqs[r];
        int it_req = tr->events[q->ev].iter;
        if (q->state != R_PENDING || q->exempt || q->by != T || it_exit <= it_req ||
            it_req < it_enter)
            continue;
        q->state = R_LOST;
        q->lost_op = op;
        q->lost_reason = reason;
        n++;
    }
    return n;
}

/* The op whose exit follows uncancel event i of T in the same step, with
 * no other op or handler event of T between (the block whose __aexit__
 * made the call), or -1. */
static int exiting_op(const af_ctx *c, int T, int i)
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

static void count_once(af_ctx *c, tstate *st, int T, int op, int ev, const char *reason,
                       const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void count_once(af_ctx *c, tstate *st, int T, int op, int ev, const char *reason,
                       const char *fmt, ...)
{
    if (st->count_reported)
        return;
    st->count_reported = 1;
    char text[AF_VERDICT_EVIDENCE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (af_emit(c, AF_ORACLE_CANCEL_COUNT, T, op, ev, reason, "%s", text))
        set_cause(c, st, st->count_cause, st->count_why);
}

static void judge_task(af_ctx *c, int T, tstate *st)
{
    const af_trace *tr = c->tr;
    const af_tinfo *ti = af_ctx_task(c, T);
    memset(st, 0, offsetof(tstate, stack));
    st->misuse_op = ti ? af_task_misuse_handler(c, ti->ir_owner) : -1;
    st->raise_src_ev = st->raise_src_enter = st->last_exit_ev = -1;
    st->count_cause = AF_CAUSE_TARGET;
    snprintf(st->count_why, sizeof st->count_why,
             "a structured block must leave cancelling() as it found it "
             "unless a request is still to be delivered");
    int skip_spurious = c->escaped || raises_cancelled(c, T);
    int finally_raise = raises_in_finally(c, T);
    char b1[64];

    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        /* deliveries after `end` to tasks the harness cancels */
        int after_end = c->end_ev >= 0 && i > c->end_ev && ti->pending_ev >= 0;

        if (e->kind == AF_EV_TASK_DONE && e->task != T && e->outcome == AF_OUT_CANCELLED &&
            is_source(c, T, e->task))
            st->sources++;
        if (e->task != T)
            continue;

        switch (e->kind) {
        case AF_EV_CANCEL: {
            if (e->before >= 0 && e->before != st->model)
                count_arith(c, st, T, i, "cancelling() before cancel()", e->before, st->model);
            int want = e->returned ? e->before + 1 : e->before;
            if (e->before >= 0 && e->after >= 0 && e->after != want)
                count_arith(c, st, T, i,
                            e->returned ? "cancelling() after a cancel() that returned True"
                                        : "cancelling() after a cancel() that returned False",
                            e->after, want);
            if (e->after >= 0)
                st->model = e->after;
            if (e->returned) {
                st->requests_total++;
                if (st->nreq < MAX_REQ)
                    st->reqs[st->nreq++] =
                        (req){i, e->by_task, forwarded(c, i), R_PENDING, -1, NULL};
            }
            break;
        }
        case AF_EV_UNCANCEL: {
            if (e->before >= 0 && e->before != st->model)
                count_arith(c, st, T, i, "cancelling() before uncancel()", e->before, st->model);
            int want = e->before > 0 ? e->before - 1 : 0;
            if (e->before >= 0 && e->after >= 0 && e->after != want)
                count_arith(c, st, T, i, "cancelling() after uncancel()", e->after, want);
            if (e->after >= 0)
                st->model = e->after;
            if (e->after < e->before) {
                /* withdraws a request the handler caught, else the oldest
                 * request still outstanding */
                int w = -1;
                for (int k = 0; k < st->nreq && w < 0; k++)
                    if (st->reqs[k].state == R_COALESCED)
                        w = k;
                /* an expired timeout's __aexit__ (timeouts.py, state
                 * EXPIRING; also the timeout inside a 3.12 wait_for) takes
                 * back the request its own callback made: one made with no
                 * task and no op while that op was open; one another block
                 * inside it already dropped (R_LOST) only if there is no
                 * other */
                int xop = e->op < 0 ? exiting_op(c, T, i) : -1;
                af_op_kind xk = op_kind(c, xop);
                int xd = st->nstack - 1;
                while (xop >= 0 && xd >= 0 && st->stack[xd] != xop)
                    xd--;
                if (xd >= 0 && (xk == AF_OP_TIMEOUT || xk == AF_OP_WAIT_FOR))
                    for (int pass = 0; pass < 2 && w < 0; pass++)
                        for (int k = 0; k < st->nreq && w < 0; k++) {
                            const req *q = &st->reqs[k];
                            if (q->state == (pass ? R_LOST : R_PENDING) && q->by < 0 &&
                                tr->events[q->ev].op < 0 && q->ev > st->stack_enter[xd])
                                w = k;
                        }
                /* other asyncio uncancels (TaskGroup exit) take back
                 * asyncio's own request: the newest one no scenario op made */
                for (int k = st->nreq - 1; k >= 0 && w < 0 && e->op < 0; k--)
                    if ((st->reqs[k].state == R_PENDING || st->reqs[k].state == R_LOST) &&
                        tr->events[st->reqs[k].ev].op < 0)
                        w = k;
                for (int k = 0; k < st->nreq && w < 0; k++)
                    if (st->reqs[k].state == R_PENDING || st->reqs[k].state == R_LOST)
                        w = k;
                if (w >= 0)
                    st->reqs[w].state = R_DONE;
            }
            break;
        }
        case AF_EV_CAUGHT: {
            if (!af_exc_is_cancelled(e->exc_type))
                break;
            /* the handler's reaction, from the IR */
            int ends = 0, swallows = 0, converts = 0;
            if (c->s && e->op >= 0 && e->op < c->s->nops) {
                const af_op *o = &c->s->ops[e->op];
                if (o->kind == AF_OP_TRY) {
                    swallows = o->on_cancel == AF_ON_CANCEL_SWALLOW;
                    converts = o->on_cancel == AF_ON_CANCEL_RAISE;
                    ends = swallows || converts || o->on_cancel == AF_ON_CANCEL_UNCANCEL;
                } else if (o->kind == AF_OP_EXCEPT_STAR) {
                    swallows = o->reaction == AF_REACT_SWALLOW;
                    /* a bare `raise` in except* re-raises the group: a
                     * BaseExceptionGroup, no longer a CancelledError */
                    converts = o->reaction == AF_REACT_RAISE || o->reaction == AF_REACT_RERAISE;
                    ends = swallows || converts;
                }
            }
            /* except* also sees the CancelledErrors of other tasks, wrapped
             * in the exception groups their TaskGroups raised: neither a
             * message nor a count can be judged from it */
            int star = c->s && e->op >= 0 && e->op < c->s->nops &&
                       c->s->ops[e->op].kind == AF_OP_EXCEPT_STAR;
            if (af_exc_is_exact_cancelled(e->exc_type) && !after_end && !star)
                check_message(c, st, T, i, e->msg);
            spurious_check(c, st, T, i, skip_spurious || after_end || star);
            if (ends)
                st->received++;
            if (ends) {
                /* every request outstanding now was delivered by this one
                 * CancelledError (asyncio coalesces requests made before a
                 * delivery): a swallowing handler loses them all, another
                 * handler ends them (an uncancel() that follows withdraws
                 * one of them; withdrawing fewer than were coalesced leaves
                 * cancelling() up: the scenario's own accounting) */
                for (int k = 0; k < st->nreq; k++) {
                    req *q = &st->reqs[k];
                    if (q->state != R_PENDING)
                        continue;
                    if (swallows && !q->exempt) {
                        q->state = R_LOST;
                        q->lost_op = e->op;
                        q->lost_reason = "handler";
                    } else {
                        q->state = swallows || converts ? R_DONE : R_COALESCED;
                    }
                }
                if (converts)
                    st->converted_by_scenario++;
            }
            break;
        }
        case AF_EV_OP_ENTER: {
            if (e->cancelling >= 0 && e->cancelling != st->model)
                count_arith(c, st, T, i, "cancelling() at op_enter", e->cancelling, st->model);
            if (st->nstack < (int)(sizeof st->stack / sizeof st->stack[0])) {
                st->stack[st->nstack] = e->op;
                st->stack_enter[st->nstack] = i;
                st->stack_cancelling[st->nstack] = e->cancelling >= 0 ? e->cancelling : st->model;
                st->nstack++;
            }
            break;
        }
        case AF_EV_OP_EXIT: {
            if (e->cancelling >= 0 && e->cancelling != st->model)
                count_arith(c, st, T, i, "cancelling() at op_exit", e->cancelling, st->model);
            int exit_c = e->cancelling >= 0 ? e->cancelling : st->model;
            int d = st->nstack - 1;
            while (d >= 0 && st->stack[d] != e->op)
                d--;
            if (d < 0)
                break;
            int enter = st->stack_enter[d], enter_c = st->stack_cancelling[d];
            st->nstack = d;
            af_op_kind k = op_kind(c, e->op);
            int structured = k == AF_OP_TASKGROUP || k == AF_OP_TIMEOUT || k == AF_OP_WAIT_FOR;
            int first;
            /* Patch B: where the exception this op raises came from. When
             * the op that exited just before in T (a deeper one, in the
             * same step) raised the same exception, it passed it up. */
            int src_ev = i, src_enter = enter;
            if (e->exit == AF_OPEXIT_RAISE && st->last_exit_ev >= 0 && st->raise_src_ev >= 0) {
                const af_event *pe = &tr->events[st->last_exit_ev];
                if (pe->exit == AF_OPEXIT_RAISE && pe->iter == e->iter && pe->op != e->op &&
                    pe->exc_type && e->exc_type && strcmp(pe->exc_type, e->exc_type) == 0 &&
                    pe->exc_args && e->exc_args && strcmp(pe->exc_args, e->exc_args) == 0 &&
                    st->raise_src_enter > enter) {
                    src_ev = st->raise_src_ev;
                    src_enter = st->raise_src_enter;
                }
            }
            int fin_try;
            st->last_exit_ev = i;
            st->raise_src_ev = e->exit == AF_OPEXIT_RAISE ? src_ev : -1;
            st->raise_src_enter = e->exit == AF_OPEXIT_RAISE ? src_enter : -1;
            /* the exception came out of a non-structured asyncio op (gather,
             * wait, await, ...) nested in this block: requests made while
             * that op was open are that op's to answer for, not this block's */
            af_op_kind sk = op_kind(c, tr->events[src_ev].op);
            int inner_enter = src_ev != i && sk != AF_OP_TASKGROUP && sk != AF_OP_TIMEOUT &&
                                      sk != AF_OP_WAIT_FOR && sk != AF_OP_TRY &&
                                      sk != AF_OP_EXCEPT_STAR
                                  ? src_enter
                                  : -1;

            if (e->exit == AF_OPEXIT_OK) {
                int n = lose_since(st, T, enter, e->op, "block", &first);
                if (n > 0 && structured && exit_c > enter_c) {
                    const af_event *r = &tr->events[st->reqs[first].ev];
                    if (r->by_task < 0 && c->end_ev >= 0 && st->reqs[first].ev > c->end_ev &&
                        !st->count_reported) {
                        int mop;
                        char sub[AF_VERDICT_WHY_MAX];
                        st->count_cause = af_leak_cause(c, T, sub, sizeof sub, &mop);
                        snprintf(st->count_why, sizeof st->count_why,
                                 "the harness cancelled the task left pending: %s", sub);
                    }
                    count_once(c, st, T, e->op, i, "block",
                               "task %s: %s returned normally at vtime %lld with cancelling()=%d, "
                               "%d at entry: "
                               "cancel(%s) by %s at vtime %lld is still counted",
                               tname(c, T), kname(c, e->op), (long long)e->vtime, exit_c, enter_c,
                               af_q(r->msg, b1, sizeof b1), tname(c, r->by_task),
                               (long long)r->vtime);
                }
            } else if (structured && !af_exc_is_cancelled(e->exc_type) &&
                       (fin_try = replaced_in_finally(c, T, enter, i)) >= 0) {
                /* the exception came up from a try whose finally ran inside
                 * this block: an exception raised there replaced the
                 * CancelledError in flight (Python semantics), so the
                 * requests were dropped by that statement, not the block */
                lose_since(st, T, enter, fin_try, "block-raise", &first);
            } else if (structured && !af_exc_is_cancelled(e->exc_type)) {
                /* the block consumed the CancelledError into its own exception */
                int external = 0, any = 0;
                for (int r = 0; r < st->nreq; r++) {
                    req *q = &st->reqs[r];
                    if (q->state == R_PENDING && !q->exempt && q->by != T && q->ev >= enter &&
                        !(inner_enter >= 0 && q->ev >= inner_enter)) {
                        any = 1;
                        external |= is_scenario_cancel(c, &tr->events[q->ev]);
                    }
                }
                if (any && af_exc_is_timeout(e->exc_type) && external && k != AF_OP_TASKGROUP) {
                    int n = lose_since(st, T, enter, e->op, "converted", &first);
                    const af_event *r = &tr->events[st->reqs[first].ev];
                    for (int q = 0; q < st->nreq; q++)
                        if (st->reqs[q].state == R_LOST && st->reqs[q].lost_op == e->op)
                            st->reqs[q].state = R_REPORTED;
                    if (af_emit(c, AF_ORACLE_CANCEL_CONVERTED, T, e->op, i, "external-timeout",
                                "task %s: cancel(%s) by %s at vtime %lld came out of %s as %s at "
                                "vtime %lld "
                                "(%d request(s))",
                                tname(c, T), af_q(r->msg, b1, sizeof b1), tname(c, r->by_task),
                                (long long)r->vtime, kname(c, e->op), e->exc_type,
                                (long long)e->vtime, n))
                        set_cause(c, st, AF_CAUSE_TARGET,
                                  "an external cancel must not come out as TimeoutError");
                } else if (any) {
                    /* only the requests made before the inner op opened */
                    int save[MAX_REQ], ns = 0;
                    if (inner_enter >= 0)
                        for (int r = 0; r < st->nreq; r++)
                            if (st->reqs[r].state == R_PENDING && st->reqs[r].ev >= inner_enter) {
                                st->reqs[r].state = R_DONE; /* parked */
                                save[ns++] = r;
                            }
                    lose_since(st, T, enter, e->op, "block-raise", &first);
                    for (int r = 0; r < ns; r++)
                        st->reqs[save[r]].state = R_PENDING;
                }
            }
            /* Patch A: self-requests still pending after T suspended in
             * this op (a CancelledError exit delivers them) */
            if (e->exit == AF_OPEXIT_OK)
                lose_self_since(tr, st, T, enter, i, e->op, "block");
            else if (!af_exc_is_cancelled(e->exc_type))
                lose_self_since(tr, st, T, enter, i, e->op, "block-raise");
            /* A request made before the block and not delivered yet is
             * outstanding: the CancelledError may be its own (a task that
             * cancelled itself, then entered an expiring timeout). */
            int undelivered_before = 0;
            for (int r = 0; r < st->nreq; r++)
                undelivered_before |= st->reqs[r].state == R_PENDING && st->reqs[r].ev < enter;
            if (k == AF_OP_TIMEOUT && e->exit == AF_OPEXIT_RAISE &&
                af_exc_is_exact_cancelled(e->exc_type) && e->detail == AF_DETAIL_BOOL &&
                e->detail_a && exit_c <= enter_c && !st->converted_by_scenario &&
                !undelivered_before)
                if (af_emit(c, AF_ORACLE_CANCEL_CONVERTED, T, e->op, i, "expired-cancelled",
                            "task %s: the timeout expired and raised CancelledError instead of "
                            "TimeoutError at "
                            "vtime %lld although no other cancel request was outstanding "
                            "(cancelling() %d at entry, "
                            "%d at exit)",
                            tname(c, T), (long long)e->vtime, enter_c, exit_c))
                    set_cause(c, st, AF_CAUSE_TARGET,
                              "an expired timeout must raise TimeoutError (gh-102780 on 3.11)");
            break;
        }
        case AF_EV_TASK_DONE: {
            if (e->cancelling >= 0 && e->cancelling != st->model)
                count_arith(c, st, T, i, "cancelling() at task_done", e->cancelling, st->model);
            int done_c = e->cancelling >= 0 ? e->cancelling : st->model;
            if (e->outcome == AF_OUT_CANCELLED) {
                spurious_check(c, st, T, i, skip_spurious || after_end);
                char buf[AF_MAX_MSG * 2 + 8];
                const char *m;
                if (!after_end &&
                    (!e->exc_type || !e->exc_type[0] || af_exc_is_exact_cancelled(e->exc_type)) &&
                    parse_args(e->exc_args, buf, sizeof buf, &m))
                    check_message(c, st, T, i, m);
                /* delivered, at last */
                for (int r = 0; r < st->nreq; r++)
                    if (st->reqs[r].state == R_PENDING || st->reqs[r].state == R_LOST)
                        st->reqs[r].state = R_DONE;
                break;
            }
            if (e->outcome == AF_OUT_EXCEPTION && (af_exc_is_escape(e->exc_type) || finally_raise))
                break;
            int first = -1, n = 0, where = -1, n_self = 0, n_harness = 0, fin_after = 0;
            for (int r = 0; r < st->nreq; r++) {
                req *q = &st->reqs[r];
                if ((q->state != R_PENDING && q->state != R_LOST) || q->exempt)
                    continue;
                n_self += q->by == T && q->state == R_PENDING;
                n_harness += q->by < 0 && ((c->end_ev >= 0 && q->ev > c->end_ev) ||
                                           (c->budget_ev >= 0 && q->ev > c->budget_ev));
                if (q->state == R_PENDING)
                    for (int j = q->ev + 1; j < i && !fin_after; j++)
                        fin_after = tr->events[j].kind == AF_EV_FINALLY && tr->events[j].task == T;
                if (first < 0)
                    first = r;
                if (where < 0 && q->state == R_LOST)
                    where = r;
                q->state = R_REPORTED;
                n++;
            }
            if (first < 0) {
                int co = 0;
                for (int r = 0; r < st->nreq; r++)
                    co += st->reqs[r].state == R_COALESCED;
                if (e->outcome == AF_OUT_RESULT && done_c > 0 && co > 0) {
                    st->count_cause = AF_CAUSE_SCENARIO;
                    snprintf(st->count_why, sizeof st->count_why,
                             "%d request(s) were delivered as one CancelledError and the "
                             "scenario's handler "
                             "withdrew fewer with uncancel()",
                             co);
                    count_once(c, st, T, af_ctx_open_op(c, T, i), i, "task-end",
                               "task %s finished with a result at vtime %lld with cancelling()=%d",
                               tname(c, T), (long long)e->vtime, done_c);
                }
                break;
            }
            const req *w = where >= 0 ? &st->reqs[where] : &st->reqs[first];
            const af_event *r = &tr->events[w->ev];
            int op = w->lost_op >= 0 ? w->lost_op : af_ctx_open_op(c, T, w->ev);
            char lost[160] = "";
            if (w->lost_op >= 0)
                snprintf(lost, sizeof lost, "; its CancelledError was dropped in %s%s",
                         kname(c, w->lost_op),
                         strcmp(w->lost_reason, "handler") == 0 ? " (the scenario's handler)" : "");
            af_cause k = AF_CAUSE_TARGET;
            char why[AF_VERDICT_WHY_MAX];
            snprintf(why, sizeof why, "asyncio must deliver a cancel request that returned True%s",
                     w->lost_op >= 0 ? " (it was dropped inside an asyncio primitive)" : "");
            if (w->lost_reason && strcmp(w->lost_reason, "handler") == 0) {
                k = AF_CAUSE_MISUSE;
                snprintf(why, sizeof why,
                         "the scenario's handler swallowed the CancelledError (misuse)");
            } else if (n_harness == n && ti->pending_ev >= 0) {
                int mop;
                char sub[AF_VERDICT_WHY_MAX];
                k = af_leak_cause(c, T, sub, sizeof sub, &mop);
                snprintf(why, sizeof why, "the harness cancelled the task left pending: %s", sub);
            } else if (w->lost_op >= 0 && c->s && w->lost_op < c->s->nops &&
                       (c->s->ops[w->lost_op].kind == AF_OP_TRY ||
                        c->s->ops[w->lost_op].kind == AF_OP_EXCEPT_STAR)) {
                /* try / except* are Python statements, not asyncio: a
                 * `return` or an exception in their finally replaces the
                 * CancelledError in flight; that is the scenario's code. */
                k = AF_CAUSE_SCENARIO;
                snprintf(why, sizeof why,
                         "the scenario's own %s statement dropped the CancelledError (a return "
                         "or an exception in its finally replaces the one in flight)",
                         kname(c, w->lost_op));
            } else if (fin_after && where < 0 && e->outcome == AF_OUT_EXCEPTION) {
                k = AF_CAUSE_SCENARIO;
                snprintf(
                    why, sizeof why,
                    "a finally clause ran while the CancelledError propagated and the task "
                    "ended with %s: an exception raised in a finally replaces the one in flight",
                    e->exc_type);
            } else if (n_self == n && e->outcome == AF_OUT_EXCEPTION) {
                k = AF_CAUSE_SCENARIO;
                snprintf(why, sizeof why,
                         "the task cancelled itself and raised before suspending again: the "
                         "exception wins over the pending self-cancel");
            }
            if (k == AF_CAUSE_MISUSE && w->lost_op >= 0)
                op = w->lost_op;
            else if (st->misuse_op >= 0)
                op = st->misuse_op;
            st->count_cause = k;
            snprintf(st->count_why, sizeof st->count_why, "%s", why);
            if (af_emit(c, AF_ORACLE_CANCEL_SWALLOWED, T, op, i,
                        w->lost_reason ? w->lost_reason : "task-end",
                        "task %s: cancel(%s) by %s at vtime %lld returned True, but the task "
                        "finished with %s%s at "
                        "vtime %lld with cancelling()=%d: %d request(s) neither delivered as "
                        "CancelledError nor "
                        "withdrawn by uncancel()%s",
                        tname(c, T), af_q(r->msg, b1, sizeof b1), tname(c, r->by_task),
                        (long long)r->vtime, e->outcome == AF_OUT_RESULT ? "a result" : "",
                        e->outcome == AF_OUT_RESULT ? ""
                                                    : (e->exc_type ? e->exc_type : "an exception"),
                        (long long)e->vtime, done_c, n, lost))
                set_cause(c, st, k, why);
            if (e->outcome == AF_OUT_RESULT && done_c > 0)
                count_once(c, st, T, op, i, "task-end",
                           "task %s finished with a result at vtime %lld with cancelling()=%d",
                           tname(c, T), (long long)e->vtime, done_c);
            break;
        }
        default:
            break;
        }
    }
}

void af_oracle_cancellation(af_ctx *c)
{
    tstate *st = malloc(sizeof *st);
    if (!st)
        return;
    for (int T = 0; T < c->ntasks; T++)
        if (af_ctx_task(c, T))
            judge_task(c, T, st);
    free(st);
}
