/* timeline.h - one run laid out for people: a lane per task along the
 * run's virtual time, with what happened to the task on it. The report
 * draws it (report_svg.c); this is the model, built from the finding's
 * scenario, its trace and its verdict.
 *
 * On a lane: the task's creation and its end (result, exception,
 * cancelled, or still pending when the root finished), the scenario ops
 * it was inside (op_enter .. op_exit of each op that can suspend or owns
 * a body: awaits, blocks; nested ones one level deeper), exceptions
 * (an op that raised, a CancelledError a handler caught, the loop's
 * exception handler), the cancel requests made on it and what became of
 * each (delivered, withdrawn, handled, lost, undelivered: the cancellation
 * oracles' ledger, oracles/requests.h), and the verdict's moment.
 *
 * The axis: the events' (vtime, iteration) pairs in trace order, each
 * one slot; a slot's position adds a gap that grows with the log of the
 * virtual time that passed since the previous slot, so that iterations at
 * the same virtual time stay apart and long sleeps stay visible without
 * taking the whole width. Must not judge: the verdict is the finding's,
 * the requests' fates the ledger's.
 */
#ifndef ASYNCFUZZ_TIMELINE_H
#define ASYNCFUZZ_TIMELINE_H

#include <stdint.h>

#include "harness/run/trace.h"
#include "oracles/requests.h"
#include "scenarios/ir.h"

/* Lanes drawn at most; the verdict's task is always among them. */
#define AF_TL_MAX_LANES 24

typedef enum af_tl_kind {
    AF_TL_CREATED,   /* task_new */
    AF_TL_RESULT,    /* task_done: result */
    AF_TL_EXCEPTION, /* task_done: exception */
    AF_TL_CANCELLED, /* task_done: cancelled */
    AF_TL_PENDING,   /* still pending when the root finished */
    AF_TL_RAISE,     /* an op exited with an exception */
    AF_TL_CAUGHT,    /* a scenario handler caught a CancelledError */
    AF_TL_LOOP_EXC,  /* the loop's exception handler, about this task */
    AF_TL_REQUEST,   /* a cancel request made on this task */
    AF_TL_SETTLED,   /* what became of a request (its fate) */
    AF_TL_VERDICT,   /* the finding's verdict */
    AF_TL_KIND_COUNT
} af_tl_kind;

/* "created", "result", ... (CSS classes and the legend). */
const char *af_tl_kind_name(af_tl_kind k);

typedef struct af_tl_mark {
    af_tl_kind kind;
    int ev;               /* its event, -1 none */
    int slot;             /* its place on the axis */
    af_request_fate fate; /* REQUEST, SETTLED */
    int request;          /* REQUEST, SETTLED: index in the timeline's requests */
    int from_lane;        /* REQUEST: the lane of the task that made it, -1 */
    char text[240];       /* one sentence, for hovering */
} af_tl_mark;

/* An op the task was inside. */
typedef struct af_tl_span {
    int op;
    int slot0, slot1; /* op_enter, op_exit (the last slot when it never exited) */
    int depth;        /* 0: outermost */
    int raised;       /* it exited with an exception */
    int open;         /* it never exited */
    char label[48];   /* the op's kind */
    char text[240];
} af_tl_span;

typedef struct af_tl_lane {
    int task; /* probe id */
    char name[64];
    int slot_new, slot_done; /* -1: created before / never finished in the trace */
    af_tl_span *spans;
    int nspans;
    int depth; /* 1 + the deepest span's depth */
    af_tl_mark *marks;
    int nmarks;
} af_tl_lane;

typedef struct af_timeline {
    af_tl_lane *lanes;
    int nlanes;
    int lanes_left_out; /* tasks past AF_TL_MAX_LANES */
    int nslots;
    int64_t *slot_vtime;
    int64_t *slot_iter;
    double *slot_pos;               /* increasing, from 0 */
    int end_slot;                   /* the root finished (`end`), -1 */
    int budget_slot;                /* a budget stopped the run, -1 */
    int verdict_lane, verdict_slot; /* -1 when not placed */
    af_request_list requests;
    int overflow; /* the trace overflowed: requests' fates are unknown */
} af_timeline;

/* The finding's verdict, as the timeline places it: by re-judging the
 * trace and finding the verdict of that signature (its deciding event),
 * else at the last event of `task` at `vtime`. */
typedef struct af_tl_verdict {
    uint64_t signature;
    int task;
    int64_t vtime;
    const char *text; /* the oracle and evidence, for hovering */
} af_tl_verdict;

/* Build the timeline of trace tr of scenario s (may be NULL: ops are then
 * named by index); v may be NULL. 0, or -1 with err set (out of memory). */
int af_timeline_build(const af_scenario *s, const af_trace *tr, const af_tl_verdict *v,
                      af_timeline *out, af_error *err);
void af_timeline_free(af_timeline *t);

#endif
