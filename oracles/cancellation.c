/* cancellation.c - the five cancellation oracles: cancellation.swallowed,
 * .spurious, .count, .message and .converted.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md); each rule's full
 * definition is the comment of the function below that applies it. The
 * oracles walk the events of one task T at a time, in order, keeping T's
 * cancellation request ledger (ledger.h, where the terms request, from
 * outside, forwarded, withdrawn, handled, delivered and lost are defined)
 * and the ops open in T; the facts they read beyond T's own events are
 * cancel_facts.h's. A request reported under one oracle is not reported
 * again under another; spurious and count give one verdict per task.
 *
 * Causes, in order: a misuse handler that ran in T's code (a try /
 * except* that swallows a CancelledError or turns it into another
 * exception) makes every verdict about T misuse, located at that op
 * (CANCEL_MISUSE_HANDLER); then each rule's own cause rules; target for
 * everything else: asyncio dropped, invented, miscounted, converted or
 * re-worded a cancellation (gh-86296 wait_for, gh-116720 TaskGroup,
 * gh-102780 timeout, ...).
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracles/cancel_facts.h"
#include "oracles/ledger.h"

/* An op open in T. */
typedef struct open_op {
    int op;
    int enter;      /* its op_enter event */
    int cancelling; /* cancelling() at its entry */
} open_op;

/* What the oracles know about task T as the walk goes. */
typedef struct walk {
    int T;
    const af_tinfo *ti;
    int skip_spurious;         /* T's code may raise a CancelledError subclass, or an escape */
    int finally_raise;         /* a raise op sits in a finally clause of T's code */
    int misuse_op;             /* a misuse handler that ran in T's code, -1 */
    int count_reported;        /* the count verdict was given */
    int spurious_reported;     /* the spurious verdict was given */
    int sources;               /* awaited / owned tasks that ended cancelled */
    int converted_by_scenario; /* CancelledErrors T's handlers turned into other exceptions */
    int raise_src_ev;          /* last op_exit raise of T: the op_exit where that exception */
    int raise_src_enter;       /* first came out of an op, and that op's op_enter (-1) */
    int last_exit_ev;          /* T's last op_exit event, -1 */
    int star_carried;          /* an except* re-raised the CancelledError it caught, still
                                   propagating in its group */
    af_blame count_cause;      /* cause for the next count verdict */
    char count_why[AF_VERDICT_WHY_MAX];
    int nopen;
    /* Arrays last: only their first entries are ever read, so start_walk
     * clears the fields above them only (clearing ~9 KiB per task was 5%
     * of a whole run's instructions). */
    open_op open[AF_MAX_OPS + 8];
    af_ledger ledger;
} walk;

/* An op_exit of T, with what the rules about blocks read. */
typedef struct block_exit {
    int i; /* the op_exit event */
    const af_event *e;
    int op;
    af_op_kind kind;
    int structured; /* task_group, timeout, wait_for */
    int enter;      /* its op_enter event */
    int enter_c;    /* cancelling() at entry and at exit */
    int exit_c;
    int inner_enter; /* the op_enter of the op nested in it the exception came out of, -1 */
} block_exit;

static const char *kname(const af_ctx *c, int op)
{
    af_op_kind k = af_ctx_op_kind(c, op);
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

/* Deliveries after `end` to a task the harness found pending (it cancels
 * those): not judged by spurious and message. */
static int after_end(const af_ctx *c, const walk *w, int i)
{
    return c->end_ev >= 0 && i > c->end_ev && w->ti->pending_ev >= 0;
}

/* ---- causes ------------------------------------------------------------ */

/* The cause of the verdict just emitted about T, decided as k (reason
 * why): misuse instead when a misuse handler ran in T's code. */
static void cause_as(af_ctx *c, const walk *w, af_blame k, const char *why)
{
    if (w->misuse_op >= 0 && c->s)
        af_cause_last(c, AF_CR_CANCEL_MISUSE_HANDLER, "a misuse op (%s) ran in the task's code",
                      af_op_kind_name(c->s->ops[w->misuse_op].kind));
    else
        af_cause_last_as(c, k, why);
}

/* The same, by a cause rule with a fixed cause. */
static void cause_by(af_ctx *c, const walk *w, af_cause_rule rule, const char *why)
{
    char text[AF_VERDICT_WHY_MAX];
    cause_as(c, w, af_because(rule, text, sizeof text, "%s", why), text);
}

/* The harness cancelled T, left pending, after the run: the cause of that
 * leak. */
static af_blame harness_cause(af_ctx *c, const walk *w, char *why, size_t cap)
{
    int mop;
    char sub[AF_VERDICT_WHY_MAX];
    af_blame k = af_leak_cause(c, w->T, sub, sizeof sub, &mop);
    return af_inherit(AF_CR_CANCEL_HARNESS_CLEANUP, k, why, cap,
                      "the harness cancelled the task left pending: %s", sub);
}

/* ---- cancellation.count ------------------------------------------------ */

/* The one count verdict of T, with the cause count_cause / count_why. */
static void count_once(af_ctx *c, walk *w, int op, int ev, af_rule rule, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void count_once(af_ctx *c, walk *w, int op, int ev, af_rule rule, const char *fmt, ...)
{
    if (w->count_reported)
        return;
    w->count_reported = 1;
    char text[AF_VERDICT_EVIDENCE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (af_emit(c, rule, w->T, op, ev, "%s", text))
        cause_as(c, w, w->count_cause, w->count_why);
}

static void count_arith(af_ctx *c, walk *w, int ev, const char *what, int got, int want)
{
    if (w->count_reported)
        return;
    /* After `end` / a budget the probe puts the garbage collector's batch
     * of events in a canonical (sorted) order: not the order of the calls. */
    int cut = c->end_ev >= 0 ? c->end_ev : c->budget_ev;
    if (cut >= 0 && ev > cut)
        return;
    w->count_reported = 1;
    const af_event *e = &c->tr->events[ev];
    int op = e->op >= 0 && e->kind != AF_EV_CANCEL && e->kind != AF_EV_UNCANCEL
                 ? e->op
                 : af_ctx_open_op(c, w->T, ev);
    if (af_emit(c, AF_RULE_COUNT_ARITH, w->T, op, ev,
                "task %s: %s at vtime %lld is %d where the cancel()/uncancel() calls imply %d",
                tname(c, w->T), what, (long long)e->vtime, got, want))
        cause_by(c, w, AF_CR_CANCEL_ARITH,
                 "cancelling() must count cancel() and uncancel() calls exactly");
}

/* count (arith), at event i of T, before the ledger takes it in: a request
 * did not raise cancelling() by exactly 1, a cancel() that returned False
 * changed it, an uncancel() did not lower it by exactly 1 (to a floor of
 * 0), or a value the probe read (op_enter, op_exit, task_done,
 * cancelling_before) differs from the value the cancel / uncancel events
 * imply. Judged up to `end` (or a budget): after it the probe sorts the
 * events the final garbage collection produced, so their order is
 * canonical, not the order of the calls. */
static void rule_count_arith(af_ctx *c, walk *w, int i)
{
    const af_event *e = &c->tr->events[i];
    int model = w->ledger.model, want;
    switch (e->kind) {
    case AF_EV_CANCEL:
        if (e->before >= 0 && e->before != model)
            count_arith(c, w, i, "cancelling() before cancel()", e->before, model);
        want = e->returned ? e->before + 1 : e->before;
        if (e->before >= 0 && e->after >= 0 && e->after != want)
            count_arith(c, w, i,
                        e->returned ? "cancelling() after a cancel() that returned True"
                                    : "cancelling() after a cancel() that returned False",
                        e->after, want);
        break;
    case AF_EV_UNCANCEL:
        if (e->before >= 0 && e->before != model)
            count_arith(c, w, i, "cancelling() before uncancel()", e->before, model);
        want = e->before > 0 ? e->before - 1 : 0;
        if (e->before >= 0 && e->after >= 0 && e->after != want)
            count_arith(c, w, i, "cancelling() after uncancel()", e->after, want);
        break;
    case AF_EV_OP_ENTER:
    case AF_EV_OP_EXIT:
    case AF_EV_TASK_DONE:
        if (e->cancelling >= 0 && e->cancelling != model)
            count_arith(c, w, i,
                        e->kind == AF_EV_OP_ENTER  ? "cancelling() at op_enter"
                        : e->kind == AF_EV_OP_EXIT ? "cancelling() at op_exit"
                                                   : "cancelling() at task_done",
                        e->cancelling, model);
        break;
    default:
        break;
    }
}

/* count (task-end) with no request left outstanding: T finished with a
 * result with cancelling() > 0 after requests delivered together as one
 * CancelledError were withdrawn by its handler only in part (the
 * scenario's own accounting: CANCEL_COALESCED). */
static void rule_coalesced_count(af_ctx *c, walk *w, int i, int done_c)
{
    const af_event *e = &c->tr->events[i];
    int co = af_ledger_coalesced(&w->ledger);
    if (e->outcome != AF_OUT_RESULT || done_c <= 0 || co <= 0)
        return;
    w->count_cause = af_because(AF_CR_CANCEL_COALESCED, w->count_why, sizeof w->count_why,
                                "%d request(s) were delivered as one CancelledError and the "
                                "scenario's handler withdrew fewer with uncancel()",
                                co);
    count_once(c, w, af_ctx_open_op(c, w->T, i), i, AF_RULE_COUNT_TASK_END,
               "task %s finished with a result at vtime %lld with cancelling()=%d", tname(c, w->T),
               (long long)e->vtime, done_c);
}

/* ---- cancellation.spurious and cancellation.message ---------------------- */

/* spurious: T received a CancelledError (event ev: a scenario handler
 * caught one, or T ended cancelled) when the number of CancelledErrors T
 * has received so far (handlers that ended the propagation, plus this one)
 * exceeds the number of requests ever made on T (withdrawn ones included:
 * 3.11's uncancel() does not stop a delivery already scheduled) plus the
 * tasks T awaits or owns that ended cancelled (await, shield, gather,
 * as_completed, wait, task_group children, asyncio's internal tasks T
 * created: their CancelledError propagates to T; a source's end counts
 * from the trace up to the iteration after the delivery, as the probe
 * records it from a done callback; a source counts once per op of T that
 * retrieves its outcome and that T entered: the op that created it, then
 * each `await` of it, as a cancelled task raises its CancelledError to
 * every retrieval). Skipped (skip) for a task whose own code may raise a
 * CancelledError subclass, after a KeyboardInterrupt / SystemExit escaped,
 * for deliveries after `end` to a task the harness found pending (it
 * cancels those), and for except* handlers. */
static void rule_spurious(af_ctx *c, walk *w, int ev, int skip)
{
    const af_ledger *l = &w->ledger;
    if (skip || w->spurious_reported)
        return;
    if (l->received + 1 <= l->requests_total + w->sources)
        return;
    if (l->received + 1 <= l->requests_total + w->sources + af_late_sources(c, w->T, ev) +
                               af_repeat_retrievals(c, w->T, ev))
        return;
    w->spurious_reported = 1;
    const af_event *e = &c->tr->events[ev];
    int op = e->kind == AF_EV_CAUGHT ? e->op : af_ctx_open_op(c, w->T, ev);
    if (af_emit(c, e->kind == AF_EV_CAUGHT ? AF_RULE_SPURIOUS_CAUGHT : AF_RULE_SPURIOUS_TASK_END,
                w->T, op, ev,
                "task %s received CancelledError #%d at vtime %lld but only %d cancel() request(s) "
                "on it and %d "
                "cancelled task(s) it awaits account for CancelledErrors",
                tname(c, w->T), l->received + 1, (long long)e->vtime, l->requests_total,
                w->sources))
        cause_by(c, w, AF_CR_CANCEL_SPURIOUS, "a CancelledError no cancel() request accounts for");
}

/* message: a CancelledError that T received (a `caught` event of exactly
 * asyncio's CancelledError, or T's task_done when the probe recorded its
 * args; event ev) carries a message that no request on T, nor on a task
 * whose cancellation can propagate into T, was given
 * (af_cancel_message_explained). Skipped when there is no request at all
 * (that is spurious). A CancelledError(None) explained only by a source
 * task that ended cancelled has cause scenario: shield() cancels its outer
 * future without a message (tasks.py `outer.cancel()`), and a cancelled
 * task hands the CancelledError that carries the message to its first
 * retrieval only (Future._make_cancelled_error consumes _cancelled_exc;
 * Task.__step cancels with no message), so a second observer (as_completed
 * after an await, ...) gets CancelledError(). Neither is a documented
 * contract. */
static void rule_message(af_ctx *c, const walk *w, int ev, const char *msg)
{
    int any, benign;
    if (af_cancel_message_explained(c, w->T, ev, msg, &any, &benign) || !any)
        return;
    char b[64];
    const af_event *e = &c->tr->events[ev];
    int op = e->kind == AF_EV_CAUGHT ? e->op : af_ctx_open_op(c, w->T, ev);
    if (!af_emit(
            c, AF_RULE_MESSAGE, w->T, op, ev,
            "task %s received CancelledError(%s) at vtime %lld, a message no cancel() of it or "
            "of a task "
            "it awaits was given",
            tname(c, w->T), af_q(msg, b, sizeof b), (long long)e->vtime))
        return;
    if (benign)
        cause_by(c, w, AF_CR_CANCEL_MESSAGE_UNDOCUMENTED,
                 "the CancelledError came from a cancelled task it waits on, through shield() "
                 "(which re-cancels without the message) or a second retrieval (the message goes "
                 "to the first): asyncio documents no message there");
    else
        cause_by(c, w, AF_CR_CANCEL_MESSAGE_LOST,
                 "asyncio must deliver the message given to cancel()");
}

/* ---- handlers ---------------------------------------------------------- */

/* What a scenario handler does with a CancelledError it caught, from the
 * IR: whether it ends the propagation, by swallowing it or turning it into
 * another exception (a bare `raise` in except* re-raises the group: a
 * BaseExceptionGroup, no longer a CancelledError); star for except*,
 * star_reraise for one whose bare `raise` re-raises the group that still
 * holds the CancelledError it caught. */
typedef struct handler {
    int ends, swallows, converts, star, star_reraise;
} handler;

static handler handler_reaction(const af_ctx *c, int op)
{
    handler h = {0, 0, 0, 0, 0};
    if (!c->s || op < 0 || op >= c->s->nops)
        return h;
    const af_op *o = &c->s->ops[op];
    if (o->kind == AF_OP_TRY) {
        h.swallows = o->on_cancel == AF_ON_CANCEL_SWALLOW;
        h.converts = o->on_cancel == AF_ON_CANCEL_RAISE;
        h.ends = h.swallows || h.converts || o->on_cancel == AF_ON_CANCEL_UNCANCEL;
    } else if (o->kind == AF_OP_EXCEPT_STAR) {
        h.star = 1;
        h.swallows = o->reaction == AF_REACT_SWALLOW;
        h.converts = o->reaction == AF_REACT_RAISE || o->reaction == AF_REACT_RERAISE;
        h.ends = h.swallows || h.converts;
        h.star_reraise = o->reaction == AF_REACT_RERAISE;
    }
    return h;
}

/* A scenario handler of T caught an exception (event i). A CancelledError
 * is judged by message and spurious, but one caught by except*: except*
 * also receives the CancelledErrors of other tasks that TaskGroups wrapped
 * into the exception groups they raise, so neither a message nor a count
 * can be judged from it. A handler that ends the propagation delivers the
 * requests outstanding (the ledger); a swallowing one loses them
 * (swallowed, rule handler: the misuse pattern). An except* that catches
 * the CancelledError an inner except* re-raised in its group (no op
 * raised a new one, none returned, in between) receives nothing new. */
static void on_caught(af_ctx *c, walk *w, int i)
{
    const af_event *e = &c->tr->events[i];
    if (!af_exc_is_cancelled(e->exc_type))
        return;
    handler h = handler_reaction(c, e->op);
    if (h.star && w->star_carried)
        return; /* the CancelledError an inner except* re-raised: received there */
    w->star_carried = h.star_reraise;
    int late = after_end(c, w, i);
    if (af_exc_is_exact_cancelled(e->exc_type) && !late && !h.star)
        rule_message(c, w, i, e->msg);
    rule_spurious(c, w, i, w->skip_spurious || late || h.star);
    if (!h.ends)
        return;
    af_ledger_handled(&w->ledger, e->op, h.swallows, h.converts);
    if (h.converts)
        w->converted_by_scenario++;
}

/* ---- blocks: op_exit ------------------------------------------------------ */

/* The op_enter event of the timeout / wait_for block whose __aexit__ made
 * asyncio's uncancel event i (no op: the block T exits right after it), -1:
 * the ledger then withdraws the timeout's own request. */
static int expiring_block_enter(const af_ctx *c, const walk *w, int i)
{
    int xop = c->tr->events[i].op < 0 ? af_exiting_op(c, w->T, i) : -1;
    af_op_kind k = af_ctx_op_kind(c, xop);
    if (xop < 0 || (k != AF_OP_TIMEOUT && k != AF_OP_WAIT_FOR))
        return -1;
    for (int d = w->nopen - 1; d >= 0; d--)
        if (w->open[d].op == xop)
            return w->open[d].enter;
    return -1;
}

static void push_open(walk *w, const af_event *e, int i)
{
    if (w->nopen < (int)(sizeof w->open / sizeof w->open[0]))
        w->open[w->nopen++] =
            (open_op){e->op, i, e->cancelling >= 0 ? e->cancelling : w->ledger.model};
}

/* Close the op op_exit i ends (and the ops opened inside it); 0 when it is
 * not open. */
static int close_open(const af_ctx *c, walk *w, int i, block_exit *x)
{
    const af_event *e = &c->tr->events[i];
    int d = w->nopen - 1;
    while (d >= 0 && w->open[d].op != e->op)
        d--;
    if (d < 0)
        return 0;
    x->i = i;
    x->e = e;
    x->op = e->op;
    x->kind = af_ctx_op_kind(c, e->op);
    x->structured =
        x->kind == AF_OP_TASKGROUP || x->kind == AF_OP_TIMEOUT || x->kind == AF_OP_WAIT_FOR;
    x->enter = w->open[d].enter;
    x->enter_c = w->open[d].cancelling;
    x->exit_c = e->cancelling >= 0 ? e->cancelling : w->ledger.model;
    w->nopen = d;
    return 1;
}

/* Where the exception op exit x raises came from: when the op that exited
 * just before in T (a deeper one, in the same step) raised the same
 * exception, it passed it up. When it came out of a non-structured asyncio
 * op (gather, wait, await, ...) nested in this block, x->inner_enter gets
 * that op's op_enter: requests made while that op was open are that op's
 * to answer for, not this block's. */
static void trace_raise_source(const af_ctx *c, walk *w, block_exit *x)
{
    const af_event *e = x->e;
    int src_ev = x->i, src_enter = x->enter;
    if (e->exit == AF_OPEXIT_RAISE && w->last_exit_ev >= 0 && w->raise_src_ev >= 0) {
        const af_event *pe = &c->tr->events[w->last_exit_ev];
        if (pe->exit == AF_OPEXIT_RAISE && pe->iter == e->iter && pe->op != e->op && pe->exc_type &&
            e->exc_type && strcmp(pe->exc_type, e->exc_type) == 0 && pe->exc_args && e->exc_args &&
            strcmp(pe->exc_args, e->exc_args) == 0 && w->raise_src_enter > x->enter) {
            src_ev = w->raise_src_ev;
            src_enter = w->raise_src_enter;
        }
    }
    w->last_exit_ev = x->i;
    w->raise_src_ev = e->exit == AF_OPEXIT_RAISE ? src_ev : -1;
    w->raise_src_enter = e->exit == AF_OPEXIT_RAISE ? src_enter : -1;
    af_op_kind sk = af_ctx_op_kind(c, c->tr->events[src_ev].op);
    x->inner_enter = src_ev != x->i && sk != AF_OP_TASKGROUP && sk != AF_OP_TIMEOUT &&
                             sk != AF_OP_WAIT_FOR && sk != AF_OP_TRY && sk != AF_OP_EXCEPT_STAR
                         ? src_enter
                         : -1;
}

/* swallowed (block), from outside: a request made from outside while op B
 * was open in T, and B then returned normally (op_exit ok) with the
 * request still outstanding: asyncio's code inside B dropped the
 * CancelledError (3.11 wait_for, gh-86296: the inner future completes in
 * the iteration the outer task is cancelled, wait_for returns the result).
 * count (block): B is a structured block (task_group, timeout, wait_for)
 * and returned with cancelling() higher than at its entry because of such
 * a request (a request T made on itself is still to be delivered at T's
 * next await and does not count). */
static void rule_block_returned(af_ctx *c, walk *w, const block_exit *x)
{
    int first;
    int n = af_ledger_lose_outside(&w->ledger, x->enter, INT_MAX, x->op, AF_RULE_SWALLOWED_BLOCK,
                                   &first);
    if (n == 0 || !x->structured || x->exit_c <= x->enter_c)
        return;
    const af_request *q = &w->ledger.reqs[first];
    const af_event *r = &c->tr->events[q->ev];
    if (r->by_task < 0 && c->end_ev >= 0 && q->ev > c->end_ev && !w->count_reported)
        w->count_cause = harness_cause(c, w, w->count_why, sizeof w->count_why);
    char b1[64];
    count_once(c, w, x->op, x->i, AF_RULE_COUNT_BLOCK,
               "task %s: %s returned normally at vtime %lld with cancelling()=%d, %d at entry: "
               "cancel(%s) by %s at vtime %lld is still counted",
               tname(c, w->T), kname(c, x->op), (long long)x->e->vtime, x->exit_c, x->enter_c,
               af_q(r->msg, b1, sizeof b1), tname(c, r->by_task), (long long)r->vtime);
}

/* converted (external-timeout): a wait_for / timeout block raised
 * TimeoutError while a request made during it by a scenario `cancel` op
 * (from outside) was neither withdrawn nor handled: the requests are
 * reported here, not as swallowed too. */
static void rule_external_timeout(af_ctx *c, walk *w, const block_exit *x)
{
    int first;
    int n = af_ledger_lose_outside(&w->ledger, x->enter, INT_MAX, x->op,
                                   AF_RULE_CONVERTED_EXTERNAL_TIMEOUT, &first);
    const af_event *r = &c->tr->events[w->ledger.reqs[first].ev];
    af_ledger_report_lost_at(&w->ledger, x->op);
    char b1[64];
    if (af_emit(c, AF_RULE_CONVERTED_EXTERNAL_TIMEOUT, w->T, x->op, x->i,
                "task %s: cancel(%s) by %s at vtime %lld came out of %s as %s at vtime %lld (%d "
                "request(s))",
                tname(c, w->T), af_q(r->msg, b1, sizeof b1), tname(c, r->by_task),
                (long long)r->vtime, kname(c, x->op), x->e->exc_type, (long long)x->e->vtime, n))
        cause_by(c, w, AF_CR_CANCEL_EXTERNAL_TIMEOUT,
                 "an external cancel must not come out as TimeoutError");
}

/* swallowed (block-raise), from outside: a request made from outside
 * during a structured block (task_group, timeout, wait_for) that then
 * raised an exception other than CancelledError without uncancel()ing it
 * (3.11 TaskGroup, gh-116720: a child fails while the parent is cancelled
 * / waits in __aexit__). When that exception came out of a gather / wait
 * / await nested in the block, the requests made while that op was open
 * are left to it (they end as task-end at it). When it came up from a try
 * whose finally ran inside the block while a CancelledError was in flight,
 * an exception raised there replaced it (Python semantics): the requests
 * are lost at that try, not at the block (cause scenario). A TimeoutError
 * of a timeout / wait_for with a request of a scenario `cancel` op among
 * them is converted (external-timeout) instead. */
static void rule_block_raised(af_ctx *c, walk *w, const block_exit *x)
{
    int first;
    int fin_try = af_finally_replaced_cancel(c, w->T, x->enter, x->i);
    if (fin_try >= 0) {
        af_ledger_lose_outside(&w->ledger, x->enter, INT_MAX, fin_try,
                               AF_RULE_SWALLOWED_BLOCK_RAISE, &first);
        return;
    }
    int to = x->inner_enter >= 0 ? x->inner_enter : INT_MAX;
    int any = 0, external = 0;
    for (int r = 0; r < w->ledger.nreq; r++) {
        const af_request *q = &w->ledger.reqs[r];
        if (q->state == AF_REQ_PENDING && !q->exempt && q->by != w->T && q->ev >= x->enter &&
            q->ev < to) {
            any = 1;
            external |= af_cancel_by_scenario_op(c, &c->tr->events[q->ev]);
        }
    }
    if (!any)
        return;
    if (af_exc_is_timeout(x->e->exc_type) && external && x->kind != AF_OP_TASKGROUP)
        rule_external_timeout(c, w, x);
    else
        af_ledger_lose_outside(&w->ledger, x->enter, to, x->op, AF_RULE_SWALLOWED_BLOCK_RAISE,
                               &first);
}

/* swallowed (block / block-raise), a request T made on itself: T made it
 * while op B was open or in the step in which T entered B, B exits in a
 * later iteration than the request (a task runs one step per iteration:
 * T's first suspension after the request, where it was due, was inside B),
 * and B exited without delivering it: normally (block) or with an
 * exception other than CancelledError (block-raise; a CancelledError exit
 * delivers it) - the wait_for defect reached through a self-cancel,
 * gh-107547, and 3.11 wait_for raising the inner task's exception. A
 * self-request made in an earlier step than B's entry was due at a
 * suspension before B and thrown there: a `finally` that then awaits B with
 * the CancelledError in flight and returns (or raises) drops it in the
 * enclosing try (cause scenario), not in B. */
static void rule_self_request_in_op(af_ctx *c, walk *w, const block_exit *x)
{
    if (x->e->exit == AF_OPEXIT_OK)
        af_ledger_lose_self(&w->ledger, c->tr, x->enter, x->i, x->op, AF_RULE_SWALLOWED_BLOCK);
    else if (!af_exc_is_cancelled(x->e->exc_type))
        af_ledger_lose_self(&w->ledger, c->tr, x->enter, x->i, x->op,
                            AF_RULE_SWALLOWED_BLOCK_RAISE);
}

/* converted (expired-cancelled): a timeout block whose timeout expired
 * (op_exit detail True) raised asyncio's CancelledError although
 * cancelling() at exit is not higher than at entry (no other request is
 * outstanding, so the CancelledError is the timeout's own and must have
 * become TimeoutError; 3.11's `uncancel() == 0` test fails this when an
 * earlier request was left counted, gh-102780). Skipped while a request
 * made before the block is still undelivered (the CancelledError may be
 * its own: a task that cancelled itself, then entered an expiring
 * timeout), and when T's scenario handlers had converted a CancelledError
 * into another exception before (that leaves the count up on purpose). */
static void rule_expired_cancelled(af_ctx *c, walk *w, const block_exit *x)
{
    const af_event *e = x->e;
    if (x->kind != AF_OP_TIMEOUT || e->exit != AF_OPEXIT_RAISE ||
        !af_exc_is_exact_cancelled(e->exc_type) || e->detail != AF_DETAIL_BOOL || !e->detail_a ||
        x->exit_c > x->enter_c || w->converted_by_scenario ||
        af_ledger_pending_before(&w->ledger, x->enter))
        return;
    if (af_emit(c, AF_RULE_CONVERTED_EXPIRED_CANCELLED, w->T, x->op, x->i,
                "task %s: the timeout expired and raised CancelledError instead of TimeoutError at "
                "vtime %lld although no other cancel request was outstanding (cancelling() %d at "
                "entry, %d at exit)",
                tname(c, w->T), (long long)e->vtime, x->enter_c, x->exit_c))
        cause_by(c, w, AF_CR_CANCEL_EXPIRED_CANCELLED,
                 "an expired timeout must raise TimeoutError (gh-102780 on 3.11)");
}

/* An op of T exited (event i): the rules about blocks, in order. */
static void on_op_exit(af_ctx *c, walk *w, int i)
{
    block_exit x;
    if (!close_open(c, w, i, &x))
        return;
    if (x.e->exit == AF_OPEXIT_OK || af_exc_is_cancelled(x.e->exc_type))
        w->star_carried = 0; /* that propagation ended, or a new CancelledError */
    trace_raise_source(c, w, &x);
    if (x.e->exit == AF_OPEXIT_OK)
        rule_block_returned(c, w, &x);
    else if (x.structured && !af_exc_is_cancelled(x.e->exc_type))
        rule_block_raised(c, w, &x);
    rule_self_request_in_op(c, w, &x);
    rule_expired_cancelled(c, w, &x);
}

/* ---- the task's end -------------------------------------------------------- */

/* The requests outstanding or lost (not forwarded) when T finished. */
typedef struct undelivered {
    int n;             /* how many */
    int first;         /* the first of them, -1 */
    int lost;          /* the first lost at an op, -1 */
    int n_self;        /* outstanding ones T's scenario code made on itself
                          (own_request) */
    int n_harness;     /* ones the harness made after `end` / a budget */
    int finally_after; /* a finally of T ran after an outstanding one */
} undelivered;

/* Whether request q on T stands for one T's own scenario code made: a
 * cancel op of T, or asyncio re-issuing such a request while T runs
 * (3.13's TaskGroup.__aexit__ calls uncancel() then cancel() on its parent:
 * the new request stands for the one that uncancel() withdrew, which may
 * have come from outside). */
static bool own_request(const af_ctx *c, const walk *w, const af_request *q)
{
    for (int hops = 0; hops < AF_LEDGER_MAX_REQ && q->by == w->T; hops++) {
        if (c->tr->events[q->ev].op >= 0)
            return true;
        const af_event *u = q->ev > 0 ? &c->tr->events[q->ev - 1] : NULL;
        if (!u || u->kind != AF_EV_UNCANCEL || u->task != w->T || u->by_task != w->T)
            return false;
        const af_request *withdrawn = NULL;
        for (int r = 0; r < w->ledger.nreq && !withdrawn; r++)
            if (w->ledger.reqs[r].end == AF_REQ_END_WITHDRAWN &&
                w->ledger.reqs[r].settled_ev == q->ev - 1)
                withdrawn = &w->ledger.reqs[r];
        if (!withdrawn)
            return false;
        q = withdrawn;
    }
    return false;
}

static undelivered collect_undelivered(const af_ctx *c, const walk *w, int i)
{
    undelivered u = {0, -1, -1, 0, 0, 0};
    for (int r = 0; r < w->ledger.nreq; r++) {
        const af_request *q = &w->ledger.reqs[r];
        if ((q->state != AF_REQ_PENDING && q->state != AF_REQ_LOST) || q->exempt)
            continue;
        u.n_self += q->state == AF_REQ_PENDING && own_request(c, w, q);
        u.n_harness += q->by < 0 && ((c->end_ev >= 0 && q->ev > c->end_ev) ||
                                     (c->budget_ev >= 0 && q->ev > c->budget_ev));
        if (q->state == AF_REQ_PENDING)
            for (int j = q->ev + 1; j < i && !u.finally_after; j++)
                u.finally_after =
                    c->tr->events[j].kind == AF_EV_FINALLY && c->tr->events[j].task == w->T;
        if (u.first < 0)
            u.first = r;
        if (u.lost < 0 && q->state == AF_REQ_LOST)
            u.lost = r;
        u.n++;
    }
    return u;
}

/* Whether the loop reported task T "destroyed but it is pending" before
 * event i: its end is the final collection's. */
static bool destroyed_pending(const af_ctx *c, int T, int i)
{
    for (int j = 0; j < i; j++) {
        const af_event *e = &c->tr->events[j];
        if (e->kind == AF_EV_LOOP_EXC && e->task == T && e->msg &&
            strstr(e->msg, "Task was destroyed but it is pending"))
            return true;
    }
    return false;
}

/* The cause of a swallowed verdict at T's end (event e) for request q,
 * the cause rules in order. */
static af_blame swallowed_cause(af_ctx *c, const walk *w, const af_event *e, const undelivered *u,
                                const af_request *q, char *why, size_t cap)
{
    af_op_kind lost_kind = af_ctx_op_kind(c, q->lost_op);
    /* the handler that swallowed it is a misuse handler that caught it:
     * cause_as decides CANCEL_MISUSE_HANDLER before this cause is used */
    if (q->lost_rule == AF_RULE_SWALLOWED_HANDLER)
        return af_because(AF_CR_CANCEL_MISUSE_HANDLER, why, cap,
                          "the scenario's handler swallowed the CancelledError (misuse)");
    if (u->n_harness == u->n && w->ti->pending_ev >= 0)
        return harness_cause(c, w, why, cap);
    if (destroyed_pending(c, w->T, (int)(e - c->tr->events))) {
        int mop;
        char sub[AF_VERDICT_WHY_MAX];
        af_blame k = af_leak_cause(c, w->T, sub, sizeof sub, &mop);
        return af_inherit(AF_CR_CANCEL_DESTROYED_PENDING, k, why, cap,
                          "the task was destroyed while pending and its coroutine closed by the "
                          "final collection, never run again: %s",
                          sub);
    }
    /* try / except* are Python statements, not asyncio: a `return` or an
     * exception in their finally replaces the CancelledError in flight;
     * that is the scenario's code. */
    if (q->lost_op >= 0 && (lost_kind == AF_OP_TRY || lost_kind == AF_OP_EXCEPT_STAR))
        return af_because(AF_CR_CANCEL_TRY_STATEMENT, why, cap,
                          "the scenario's own %s statement dropped the CancelledError (a return "
                          "or an exception in its finally replaces the one in flight)",
                          kname(c, q->lost_op));
    if (u->finally_after && u->lost < 0 && e->outcome == AF_OUT_EXCEPTION)
        return af_because(AF_CR_CANCEL_FINALLY_REPLACED, why, cap,
                          "a finally clause ran while the CancelledError propagated and the task "
                          "ended with %s: an exception raised in a finally replaces the one in "
                          "flight",
                          e->exc_type);
    if (u->n_self == u->n && e->outcome == AF_OUT_EXCEPTION)
        return af_because(AF_CR_CANCEL_SELF_THEN_RAISE, why, cap,
                          "the task cancelled itself and raised before suspending again: the "
                          "exception wins over the pending self-cancel");
    return af_because(AF_CR_CANCEL_UNDELIVERED, why, cap,
                      "asyncio must deliver a cancel request that returned True%s",
                      q->lost_op >= 0 ? " (it was dropped inside an asyncio primitive)" : "");
}

/* swallowed, once per task: T finished (event i) with a result, or with an
 * exception that is not KeyboardInterrupt / SystemExit and that no
 * scenario `finally` of T could have raised, while a request on T that is
 * not forwarded was neither delivered nor withdrawn nor handled by a
 * converting handler. Located where the CancelledError was lost when that
 * is known, its rule then (handler, block, block-raise) the reason; else
 * (task-end) at the op open in T when the request was made.
 * count (task-end): T finished with a result and cancelling() > 0 while
 * such a request is outstanding (its cause is the swallowed verdict's). */
static void rule_task_end(af_ctx *c, walk *w, int i, int done_c)
{
    const af_event *e = &c->tr->events[i];
    undelivered u = collect_undelivered(c, w, i);
    af_ledger_report_outstanding(&w->ledger);
    if (u.n == 0) {
        rule_coalesced_count(c, w, i, done_c);
        return;
    }
    const af_request *q = &w->ledger.reqs[u.lost >= 0 ? u.lost : u.first];
    const af_event *r = &c->tr->events[q->ev];
    char why[AF_VERDICT_WHY_MAX], lost[160] = "", b1[64];
    af_blame k = swallowed_cause(c, w, e, &u, q, why, sizeof why);
    int op = q->lost_op >= 0 ? q->lost_op : af_ctx_open_op(c, w->T, q->ev);
    if (k.cause == AF_CAUSE_MISUSE && q->lost_op >= 0)
        op = q->lost_op;
    else if (w->misuse_op >= 0)
        op = w->misuse_op;
    if (q->lost_op >= 0)
        snprintf(lost, sizeof lost, "; its CancelledError was dropped in %s%s",
                 kname(c, q->lost_op),
                 q->lost_rule == AF_RULE_SWALLOWED_HANDLER ? " (the scenario's handler)" : "");
    w->count_cause = k;
    snprintf(w->count_why, sizeof w->count_why, "%s", why);
    if (af_emit(c, q->lost_rule, w->T, op, i,
                "task %s: cancel(%s) by %s at vtime %lld returned True, but the task finished with "
                "%s%s at vtime %lld with cancelling()=%d: %d request(s) neither delivered as "
                "CancelledError nor withdrawn by uncancel()%s",
                tname(c, w->T), af_q(r->msg, b1, sizeof b1), tname(c, r->by_task),
                (long long)r->vtime, e->outcome == AF_OUT_RESULT ? "a result" : "",
                e->outcome == AF_OUT_RESULT ? "" : (e->exc_type ? e->exc_type : "an exception"),
                (long long)e->vtime, done_c, u.n, lost))
        cause_as(c, w, k, why);
    if (e->outcome == AF_OUT_RESULT && done_c > 0)
        count_once(c, w, op, i, AF_RULE_COUNT_TASK_END,
                   "task %s finished with a result at vtime %lld with cancelling()=%d",
                   tname(c, w->T), (long long)e->vtime, done_c);
}

/* T ended cancelled (event i): spurious and message judge the
 * CancelledError it ended with, and every request is delivered at last. */
static void task_ended_cancelled(af_ctx *c, walk *w, int i)
{
    const af_event *e = &c->tr->events[i];
    int late = after_end(c, w, i);
    char buf[AF_MAX_MSG * 2 + 8];
    const char *m;
    rule_spurious(c, w, i, w->skip_spurious || late);
    if (!late && (!e->exc_type || !e->exc_type[0] || af_exc_is_exact_cancelled(e->exc_type)) &&
        af_cancelled_args_message(e->exc_args, buf, sizeof buf, &m))
        rule_message(c, w, i, m);
    af_ledger_delivered(&w->ledger);
}

/* T finished (event i). */
static void on_task_done(af_ctx *c, walk *w, int i)
{
    const af_event *e = &c->tr->events[i];
    int done_c = e->cancelling >= 0 ? e->cancelling : w->ledger.model;
    if (e->outcome == AF_OUT_CANCELLED)
        task_ended_cancelled(c, w, i);
    else if (e->outcome != AF_OUT_EXCEPTION ||
             (!af_exc_is_escape(e->exc_type) && !w->finally_raise))
        rule_task_end(c, w, i, done_c);
}

/* ---- the walk ---------------------------------------------------------------- */

static void start_walk(af_ctx *c, int T, walk *w)
{
    memset(w, 0, offsetof(walk, open));
    af_ledger_reset(&w->ledger, T);
    w->T = T;
    w->ti = af_ctx_task(c, T);
    w->misuse_op = w->ti ? af_task_misuse_handler(c, w->ti->ir_owner, 0) : -1;
    w->raise_src_ev = w->raise_src_enter = w->last_exit_ev = -1;
    w->count_cause = af_because(AF_CR_CANCEL_BLOCK_COUNT, w->count_why, sizeof w->count_why,
                                "a structured block must leave cancelling() as it found it "
                                "unless a request is still to be delivered");
    w->skip_spurious = c->escaped || af_task_raises_cancelled(c, T);
    w->finally_raise = af_task_raises_in_finally(c, T);
}

/* Every event of the trace in order: the ends of T's sources, and T's own
 * events through count (arith) and then the ledger and the rules. */
static void judge_task(af_ctx *c, int T, walk *w)
{
    start_walk(c, T, w);
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_TASK_DONE && e->task != T && e->outcome == AF_OUT_CANCELLED &&
            af_cancel_source(c, T, e->task))
            w->sources++;
        if (e->task != T)
            continue;
        w->ledger.now = i;
        rule_count_arith(c, w, i);
        switch (e->kind) {
        case AF_EV_CANCEL:
            af_ledger_cancel(&w->ledger, c, i);
            break;
        case AF_EV_UNCANCEL:
            af_ledger_uncancel(&w->ledger, c->tr, i, expiring_block_enter(c, w, i));
            break;
        case AF_EV_CAUGHT:
            on_caught(c, w, i);
            break;
        case AF_EV_OP_ENTER:
            push_open(w, e, i);
            break;
        case AF_EV_OP_EXIT:
            on_op_exit(c, w, i);
            break;
        case AF_EV_TASK_DONE:
            on_task_done(c, w, i);
            break;
        default:
            break;
        }
    }
}

void af_oracle_cancellation(af_ctx *c)
{
    walk *w = malloc(sizeof *w);
    if (!w)
        return;
    for (int T = 0; T < c->ntasks; T++)
        if (af_ctx_task(c, T)) {
            judge_task(c, T, w);
            if (c->ledger_sink)
                c->ledger_sink(c->ledger_arg, &w->ledger);
        }
    free(w);
}
