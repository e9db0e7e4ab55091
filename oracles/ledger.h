/* ledger.h - internal to oracles/: the cancellation request ledger of one
 * task, the bookkeeping the cancellation oracles (cancellation.c) read.
 *
 * It keeps, for a task T walked through its trace in order, every cancel
 * request on T and what became of it, and cancelling() as the cancel /
 * uncancel events left it. It judges nothing and emits nothing: the oracles
 * decide what an outstanding, lost or coalesced request means.
 *
 * Terms. A *request* on T is a `cancel` event with target T that returned
 * True (Task.cancel() on a done task returns False and is no request). It
 * is made *from outside* when by_task != T (T was suspended: the
 * CancelledError must be thrown at T's current await, inside every op then
 * open in T); a request T makes on itself is delivered at T's next await,
 * which may be after the op it was made in. It is *forwarded* when
 * Task.cancel() passed it on to the task T awaits (the `cancel` event on
 * that task comes just before, same iteration, caller and op; TRACE.md) and
 * that task did not end cancelled: the awaited task took the request (and
 * answers for it under its own id), so it is not counted against T.
 * It is *withdrawn* by an `uncancel` event on T that lowered the count,
 * *handled* when a scenario handler of T caught a CancelledError after it
 * and ended the propagation, *delivered* when T ends cancelled, and *lost*
 * when an op or a handler dropped its CancelledError (reported when T
 * finishes without a delivery).
 */
#ifndef ASYNCFUZZ_LEDGER_H
#define ASYNCFUZZ_LEDGER_H

#include "oracles/oracle.h"

#define AF_LEDGER_MAX_REQ 256

typedef enum af_req_state {
    AF_REQ_PENDING = 0, /* outstanding */
    AF_REQ_DONE,        /* withdrawn, handled or delivered */
    AF_REQ_LOST,        /* its CancelledError was dropped at lost_op */
    AF_REQ_REPORTED,    /* a verdict answers for it */
    AF_REQ_COALESCED,   /* delivered with the others outstanding as one CancelledError
                           that a handler ended; an uncancel() withdraws one of them */
} af_req_state;

/* What settled a request last, and where (af_request.settled_ev): the
 * ledger's view for people (oracles/requests.h); no oracle reads it. */
typedef enum af_req_end {
    AF_REQ_END_NONE = 0,    /* still outstanding */
    AF_REQ_END_WITHDRAWN,   /* an uncancel() */
    AF_REQ_END_HANDLED,     /* a scenario handler ended its CancelledError */
    AF_REQ_END_DELIVERED,   /* T ended cancelled */
    AF_REQ_END_LOST,        /* dropped at lost_op */
    AF_REQ_END_UNDELIVERED, /* T finished with it outstanding */
} af_req_end;

typedef struct af_request {
    int ev;     /* the `cancel` event */
    int by;     /* by_task: -1 for the harness and asyncio's callbacks */
    int exempt; /* forwarded */
    af_req_state state;
    int lost_op;       /* where it was lost, -1 */
    af_rule lost_rule; /* the cancellation.swallowed rule its loss falls under (or the
                          rule that reported it); task-end while not lost at an op */
    af_req_end end;    /* what settled it last, at event settled_ev (-1) */
    int settled_ev;
} af_request;

typedef struct af_ledger {
    int task;           /* T, the probe id */
    int model;          /* cancelling() as the cancel / uncancel events left it */
    int requests_total; /* requests ever made, also past AF_LEDGER_MAX_REQ */
    int received;       /* CancelledErrors T received that a handler ended */
    int nreq;
    int now; /* the event the walk is at: where a change is recorded (settled_ev) */
    /* Last: only the first nreq entries are read, so a reset leaves the
     * array alone (clearing it per task cost 5% of a run's instructions). */
    af_request reqs[AF_LEDGER_MAX_REQ];
} af_ledger;

/* An empty ledger for task T. */
void af_ledger_reset(af_ledger *l, int task);

/* Cancel event i on T: cancelling() after it, and a request when it
 * returned True (forwarded or not: c is read to tell). */
void af_ledger_cancel(af_ledger *l, const af_ctx *c, int i);

/* Uncancel event i on T: cancelling() after it, and when it lowered the
 * count, the request it withdraws: one a handler caught (coalesced); for an
 * uncancel() an expired timeout's (or a 3.12 wait_for's) __aexit__ made
 * (timeout_enter: that block's op_enter event, else -1), the request the
 * timeout's callback made (no task, no op) after it was entered, one still
 * pending before one another block inside already lost; for another
 * uncancel() of asyncio's own (the event has no op: TaskGroup exit) the
 * newest request no scenario op made; else the oldest request outstanding. */
void af_ledger_uncancel(af_ledger *l, const af_trace *tr, int i, int timeout_enter);

/* A scenario handler at op ended the propagation of the CancelledError it
 * caught: every request outstanding was delivered by that one
 * CancelledError (asyncio coalesces requests made before a delivery). A
 * swallowing handler loses them (rule swallowed handler; forwarded ones
 * are done), a converting one handles them, another coalesces them. */
void af_ledger_handled(af_ledger *l, int op, int swallows, int converts);

/* T ended cancelled: every request outstanding or lost is delivered. */
void af_ledger_delivered(af_ledger *l);

/* Lose at op, under rule, the requests from outside (not forwarded) still
 * pending that were made at events [from, to). Returns how many; *first
 * gets the index of the first (-1). */
int af_ledger_lose_outside(af_ledger *l, int from, int to, int op, af_rule rule, int *first);

/* Lose at op, under rule, the requests T made on itself that were due at
 * a suspension inside op: op entered at event `enter` and exited at
 * `exit_ev` in a later iteration, the request made at its entry's
 * iteration or after and before the exit's iteration. Returns how many. */
int af_ledger_lose_self(af_ledger *l, const af_trace *tr, int enter, int exit_ev, int op,
                        af_rule rule);

/* Mark the requests lost at op as reported. */
void af_ledger_report_lost_at(af_ledger *l, int op);

/* Mark every request outstanding or lost, and not forwarded, as reported. */
void af_ledger_report_outstanding(af_ledger *l);

/* Whether a request made before event `before` is still pending. */
int af_ledger_pending_before(const af_ledger *l, int before);

/* How many requests are coalesced (delivered, not all withdrawn). */
int af_ledger_coalesced(const af_ledger *l);

#endif
