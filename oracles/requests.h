/* requests.h - the cancellation request ledger's view of one run, for
 * people (the report's timelines): every cancel request the cancellation
 * oracles booked, on which task, by whom, and what became of it where.
 *
 * It runs the cancellation oracles' own walk (cancellation.c, the ledger
 * of ledger.h, where the terms made, forwarded, withdrawn, handled,
 * delivered and lost are defined) and copies each task's ledger out: the
 * view is exactly the bookkeeping the verdicts were decided from. It
 * decides nothing itself and must not judge: verdicts come from af_judge.
 */
#ifndef ASYNCFUZZ_REQUESTS_H
#define ASYNCFUZZ_REQUESTS_H

#include "harness/run/trace.h"
#include "scenarios/ir.h"

/* What became of a request. */
typedef enum af_request_fate {
    AF_FATE_OUTSTANDING = 0, /* still outstanding when the trace ends */
    AF_FATE_FORWARDED,       /* passed on to the task it awaited, which took it */
    AF_FATE_WITHDRAWN,       /* an uncancel() withdrew it */
    AF_FATE_HANDLED,         /* a scenario handler caught its CancelledError and ended it */
    AF_FATE_DELIVERED,       /* the task ended cancelled */
    AF_FATE_LOST,            /* its CancelledError was dropped at lost_op */
    AF_FATE_UNDELIVERED,     /* the task finished with it neither delivered nor withdrawn */
    AF_FATE_COUNT
} af_request_fate;

/* "outstanding", "forwarded", "withdrawn", ...; NULL out of range. */
const char *af_request_fate_name(af_request_fate f);

typedef struct af_request_view {
    int task;    /* the task cancelled (probe id) */
    int by;      /* the task that called cancel(), -1: the harness or a callback */
    int made_ev; /* its `cancel` event */
    af_request_fate fate;
    int settled_ev; /* the event that settled it (-1: outstanding, forwarded) */
    int lost_op;    /* LOST: the IR op that dropped it, else -1 */
} af_request_view;

typedef struct af_request_list {
    af_request_view *items; /* malloc'd; af_request_list_free */
    int count;
    /* the trace overflowed: the cancellation oracles do not walk it, and
     * there is no view */
    int incomplete;
} af_request_list;

/* The requests of one judged run, in task order, then in the order they
 * were made. s may be NULL. 0, or -1 with err set (out of memory). */
int af_requests_of_run(const af_scenario *s, const af_trace *tr, af_request_list *out,
                       af_error *err);
void af_request_list_free(af_request_list *list);

#endif
