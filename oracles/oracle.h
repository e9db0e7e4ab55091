/* oracle.h - internal to oracles/: the context every oracle reads and the
 * helpers they share (task table, op stacks, exception-type tests, emitting
 * a verdict). Not part of the public API: use verdict.h.
 */
#ifndef ASYNCFUZZ_ORACLE_H
#define ASYNCFUZZ_ORACLE_H

#include "oracles/trace.h"
#include "oracles/verdict.h"

/* Probe task ids at or above this are ignored by the oracles. */
#define AF_CTX_MAX_TASKS 512

typedef struct af_tinfo {
    int seen;     /* a task_new was recorded */
    int new_ev;   /* index of task_new */
    int done_ev;  /* index of task_done, -1 while pending */
    int pending_ev; /* index of a `pending` event, -1 none */
    int parent;   /* probe id, -1 */
    int op;       /* creating op (task_new.op), -1 */
    int ir_task;  /* task_new.ir_task, -1 for asyncio's own */
    int ir_owner; /* the IR task whose code this task runs or serves */
    const char *name;
} af_tinfo;

typedef struct af_ctx {
    const af_scenario *s; /* may be NULL */
    const af_trace *tr;
    af_verdict_list *out;
    int added;
    af_tinfo tasks[AF_CTX_MAX_TASKS];
    int ntasks;       /* 1 + highest id seen */
    int ir_to_probe[AF_MAX_TASKS]; /* first probe id of each IR task, -1 */
    int budget_ev;    /* first budget event, -1 */
    int end_ev;       /* the `end` event, -1 */
    int escaped;      /* KeyboardInterrupt / SystemExit escaped a task */
} af_ctx;

/* Exception type tests on the probe's qualified names. */
int af_exc_is_cancelled(const char *t);       /* CancelledError or a subclass we know */
int af_exc_is_exact_cancelled(const char *t); /* asyncio's CancelledError itself */
int af_exc_is_timeout(const char *t);
int af_exc_is_escape(const char *t);          /* KeyboardInterrupt, SystemExit */
int af_exc_is_runtime_error(const char *t);

const af_tinfo *af_ctx_task(const af_ctx *c, int id); /* NULL if unknown */
/* The op of task `task` that was innermost open just before event `at`
 * (op_enter seen, op_exit not yet), or -1. */
int af_ctx_open_op(const af_ctx *c, int task, int at);
/* Whether op is open in task at event `at`. */
int af_ctx_op_open(const af_ctx *c, int task, int op, int at);
/* The op a task is best located at: its creating op, else the IR op that
 * owns its IR task, else the op its parent was in when it was created. */
int af_ctx_task_op(const af_ctx *c, int task);
/* The IR op of a given kind, the n-th in document order (n from 0), -1. */
int af_ctx_nth_op_of_kind(const af_ctx *c, af_op_kind kind, int n);
/* Probe id of an IR task, -1. */
int af_ctx_probe_of_ir(const af_ctx *c, int ir_task);

/* Append a verdict. `reason` is a short stable code that becomes part of the
 * signature ("pending", "race", ...). Evidence is printf-formatted. A
 * verdict equal in oracle, task and signature to one already in the list
 * is not added again. Returns 1 when added. */
int af_emit(af_ctx *c, af_oracle o, int task, int op, int event,
            const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The oracles, one per file. */
void af_oracle_leaked_task(af_ctx *c);
void af_oracle_cancellation(af_ctx *c);
void af_oracle_nested_loop(af_ctx *c);
void af_oracle_lost_exception(af_ctx *c);
void af_oracle_cleanup(af_ctx *c);
void af_oracle_blocking(af_ctx *c);
void af_oracle_budget(af_ctx *c);

/* "None" or 'msg' for evidence sentences. */
const char *af_q(const char *s, char *buf, size_t cap);

#endif
