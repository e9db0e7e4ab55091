/* cancel_facts.h - internal to oracles/: facts about a task's
 * cancellations that the cancellation rules (cancellation.c) read. Pure
 * functions of the trace and the IR (cancel_facts.c).
 */
#ifndef ASYNCFUZZ_CANCEL_FACTS_H
#define ASYNCFUZZ_CANCEL_FACTS_H

#include "oracles/oracle.h"

/* Whether cancel event ev was made by a scenario `cancel` op (rather than
 * by asyncio's own code while that op happened to be the current one): the
 * op is a cancel op run by the calling task and aimed at the target. */
int af_cancel_by_scenario_op(const af_ctx *c, const af_event *ev);

/* Whether task S's CancelledError can propagate into task T: asyncio's own
 * task T created (wait_for's inner task), or a task an op of T's code
 * awaits, shields or waits for as a child (all but spawn). */
int af_cancel_source(const af_ctx *c, int T, int S);

/* Source tasks of T whose cancelled end the trace records after event ev
 * but no later than the next loop iteration: the probe records a task's
 * end from its done callback, which runs in the iteration after the one in
 * which the task finished, so a task that awaits it (and was scheduled
 * earlier) can receive its CancelledError before the task_done event. */
int af_late_sources(const af_ctx *c, int T, int ev);

/* CancelledErrors that sources of T can account for beyond the one each:
 * a cancelled task raises its CancelledError again to every later
 * retrieval (`await t` of a done, cancelled task raises it, Future.result),
 * so a source retrieved by n ops T entered before event ev (the op that
 * created it, then `await` ops of it) accounts for n. */
int af_repeat_retrievals(const af_ctx *c, int T, int ev);

/* Whether the code of T's IR task can raise a CancelledError subclass. */
int af_task_raises_cancelled(const af_ctx *c, int T);

/* Whether a raise op sits in a finally clause of T's IR task code. */
int af_task_raises_in_finally(const af_ctx *c, int T);

/* The try statement whose finally clause replaced a CancelledError with
 * the exception op exit `at` raises, or -1: a finally of T that ran inside
 * the block (after `enter`) while a CancelledError was in flight, of a try
 * that then exited with another exception, which (or a group wrapping it)
 * is what the block raises. An exception raised in a finally replaces the
 * one in flight: Python semantics, the scenario's statement. A finally that
 * passed the CancelledError on (an inner try's) is not the one: the search
 * goes on to the enclosing ones. */
int af_finally_replaced_cancel(const af_ctx *c, int T, int enter, int at);

/* The op whose exit follows uncancel event i of T in the same step, with
 * no other op or handler event of T between (the block whose __aexit__
 * made the call), or -1. */
int af_exiting_op(const af_ctx *c, int T, int i);

/* Parse repr(args) of a CancelledError: "()" -> None, "('m',)" -> m (in
 * out). Returns 0 when the form is not one of those. */
int af_cancelled_args_message(const char *args, char *out, size_t cap, const char **msg);

/* Whether msg (NULL for None), received by T at event upto, is explained:
 * given to a request on T or on a task whose CancelledError propagates into
 * T, transitively (a source that ended cancelled, its end recorded up to
 * the iteration after the delivery); for a gather child that did not end
 * cancelled, the message of the last request on it made while it ran; a
 * CancelledError subclass a source raised explains any message. Sets
 * *any_request when some task of that search had a request, and
 * *no_msg_source when msg is None and a cancelled source is on the way
 * (shield() re-cancels without a message, a cancelled task hands the
 * message to its first retrieval only). */
int af_cancel_message_explained(const af_ctx *c, int T, int upto, const char *msg, int *any_request,
                                int *no_msg_source);

#endif
