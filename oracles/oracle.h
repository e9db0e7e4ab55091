/* oracle.h - internal to oracles/: the context every oracle reads and the
 * helpers they share (task table, op stacks, exception-type tests, emitting
 * a verdict). Not part of the public API: use verdict.h.
 */
#ifndef ASYNCFUZZ_ORACLE_H
#define ASYNCFUZZ_ORACLE_H

#include "harness/run/trace.h"
#include "oracles/verdict.h"

/* Probe task ids at or above this are ignored by the oracles. */
#define AF_CTX_MAX_TASKS 512

typedef struct af_tinfo {
    int seen;       /* a task_new was recorded */
    int new_ev;     /* index of task_new */
    int done_ev;    /* index of task_done, -1 while pending */
    int pending_ev; /* index of a `pending` event, -1 none */
    int parent;     /* probe id, -1 */
    int op;         /* creating op (task_new.op), -1 */
    int ir_task;    /* task_new.ir_task, -1 for asyncio's own */
    int ir_owner;   /* the IR task whose code this task runs or serves */
    const char *name;
} af_tinfo;

struct af_ledger; /* ledger.h */

typedef struct af_ctx {
    const af_scenario *s;         /* may be NULL */
    const af_target_info *target; /* NULL: stock asyncio */
    const af_trace *tr;
    af_verdict_list *out;
    int added;
    af_tinfo tasks[AF_CTX_MAX_TASKS];
    int ntasks; /* 1 + highest id seen */
    int nslots; /* per-task arrays initialised for ids [0, nslots): every id the trace names */
    int ir_to_probe[AF_MAX_TASKS]; /* first probe id of each IR task, -1 */
    int budget_ev;                 /* first budget event, -1 */
    int end_ev;                    /* the `end` event, -1 */
    int escaped;                   /* KeyboardInterrupt / SystemExit escaped a task */
    const char *escape_type;       /* the first such exception's type, NULL */
    int last;                      /* index in out of the verdict the last af_emit added, -1 */
    /* Called with each task's request ledger once the cancellation oracles
     * walked it (NULL: none; oracles/requests.c). */
    void (*ledger_sink)(void *arg, const struct af_ledger *ledger);
    void *ledger_arg;
    /* cause.c memo: leak cause per probe task (-1 unknown, -2 in progress) */
    signed char leak_memo[AF_CTX_MAX_TASKS];
    unsigned char leak_rule[AF_CTX_MAX_TASKS]; /* the af_cause_rule of leak_memo */
    char leak_why[AF_CTX_MAX_TASKS][AF_VERDICT_WHY_MAX];
    int leak_misuse_op[AF_CTX_MAX_TASKS];
} af_ctx;

/* The signatures of out's verdicts from index first on, completed: the
 * cause when it is not the target, base_signature, and the target's name
 * when it is not stock asyncio. */
void af_verdicts_finish(const af_scenario *s, const af_target_info *target, af_verdict_list *out,
                        int first);
/* The context of one trace: every field above (the oracles' shared
 * facts), no verdict yet, no ledger sink. */
void af_ctx_build(af_ctx *c, const af_scenario *s, const af_trace *tr, af_verdict_list *out);

/* The cancellation oracles (cancellation.c): every task's walk. */
void af_oracle_cancellation(af_ctx *c);

/* Exception type tests on the probe's qualified names. */
int af_exc_is_cancelled(const char *t);       /* CancelledError or a subclass we know */
int af_exc_is_exact_cancelled(const char *t); /* asyncio's CancelledError itself */
int af_exc_is_timeout(const char *t);
/* KeyboardInterrupt, SystemExit, and the watchdog's WatchdogExpired (a
 * KeyboardInterrupt that stopped a callback: harness/accel/watchdog_c.h) */
int af_exc_is_escape(const char *t);
int af_exc_is_runtime_error(const char *t);
/* Whether a KeyboardInterrupt / SystemExit of type exc_type is the
 * target's: scenario s has no op that raises one of that kind (0 for any
 * other type, and without a scenario). */
int af_escape_is_targets(const af_scenario *s, const char *exc_type);

const af_tinfo *af_ctx_task(const af_ctx *c, int id); /* NULL if unknown */
/* The op of task `task` that was innermost open just before event `at`
 * (op_enter seen, op_exit not yet), or -1. */
int af_ctx_open_op(const af_ctx *c, int task, int at);
/* Whether op is open in task at event `at`. */
int af_ctx_op_open(const af_ctx *c, int task, int op, int at);
/* The op a task is best located at: its creating op, else the IR op that
 * owns its IR task, else the op its parent was in when it was created. */
int af_ctx_task_op(const af_ctx *c, int task);
/* The kind of IR op `op`; AF_OP_KIND_COUNT when there is no such op. */
af_op_kind af_ctx_op_kind(const af_ctx *c, int op);
/* The IR op of a given kind, the n-th in document order (n from 0), -1. */
int af_ctx_nth_op_of_kind(const af_ctx *c, af_op_kind kind, int n);
/* Probe id of an IR task, -1. */
int af_ctx_probe_of_ir(const af_ctx *c, int ir_task);

/* Append a verdict of `rule` (base/oracles.def): its oracle, and its code
 * as the reason in the signature. Evidence is printf-formatted. A verdict
 * equal in oracle, task, op and signature to one already in the list is not
 * added again. Returns 1 when added. */
int af_emit(af_ctx *c, af_rule rule, int task, int op, int event, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Causes, by the cause rules of base/oracles.def (AF_CR_*). A decided
 * cause travels with the rule that fixed it (af_blame): for a rule that
 * passes on another's cause (INHERITED), the rule that decided the cause it
 * passes on, so that a verdict names the rule its cause comes from
 * (af_verdict.cause_rule). af_because writes the reason (cause_why) of a
 * rule whose cause is fixed and returns that cause and rule; af_inherit
 * writes the reason of a rule that passes on what another rule decided (a
 * leak's, a deadlock's) and returns it. */
typedef struct af_blame {
    af_cause cause;
    af_cause_rule rule;
} af_blame;
af_blame af_because(af_cause_rule rule, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
af_blame af_inherit(af_cause_rule rule, af_blame inherited, char *why, size_t cap, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* The cause of the verdict the last af_emit call added (nothing when it
 * added none): af_cause_last by a rule whose cause is fixed, with its
 * printf-formatted reason; af_cause_last_as a cause already decided (by
 * af_because / af_inherit) with its reason. */
void af_cause_last(af_ctx *c, af_cause_rule rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void af_cause_last_as(af_ctx *c, af_blame blame, const char *why);

/* ---- cause.c: the facts the cause rules share ---------------------------- */

/* The op_exit event of IR op `op` (ops run at most once) before the root
 * finished (`end`) or a budget stopped the run, -1 none. */
int af_op_exit_ev(const af_ctx *c, int op);
/* The probe id of the task that ran op (its op_enter), -1 none. */
int af_op_runner(const af_ctx *c, int op);
/* Whether task `task` was done before event index `at` (task_done < at). */
int af_task_done_before(const af_ctx *c, int task, int at);
/* The op responsible for a task: for a scenario task, the op that created
 * it (a spawn into a group counts as that task_group op: *kind_out gets
 * the kind of the responsible op); for wait_for's inner task ("body_<op>"),
 * that wait_for op; -1 for the root and unknown tasks. *spawn_op gets the
 * creating spawn op (or -1). */
int af_task_owner_op(const af_ctx *c, int task, int *spawn_op);
/* Why task `task` was still pending when the root finished: the cause of
 * its leaked-task verdict (and of facts that follow from it: an exception
 * it raised during the harness's cleanup...). why gets one sentence;
 * *misuse_op the misuse op when the cause is misuse. */
af_blame af_leak_cause(af_ctx *c, int task, char *why, size_t cap, int *misuse_op);
/* The cause of a deadlock (budget deadlock): scenario when resource
 * accounting explains why every pending task is blocked. */
af_blame af_deadlock_cause(af_ctx *c, char *why, size_t cap);
/* Whether op makes a task of its own that the scenario is responsible for
 * (through its awaits): a spawn, or a start, without a group. */
static inline int af_op_is_free_spawn(const af_op *o)
{
    return (o->kind == AF_OP_SPAWN) || (o->kind == AF_OP_START && o->ref == AF_NIL);
}

/* Whether the (synchronous) op was executed, from positive evidence only. */
int af_op_reached(const af_ctx *c, int op);
/* Whether op ran: an event names it, or af_op_reached. */
int af_op_executed(const af_ctx *c, int op);
/* The IR task whose code the task named `who` ran at event `at` (asyncio's
 * own tasks, wait_for's inner task on 3.11, run the code of the IR task
 * that created them); -1: a callback ("callback"), or no such task. */
int af_ctx_ir_task_named(const af_ctx *c, const char *who, int at);
/* blocking.c: the n-th block op (from 0) of IR task t's code, -1. */
int af_nth_block_op(const af_ctx *c, int t, int n);
/* Whether any op of the IR task's code (its task body, transitively in
 * nested bodies of the same task) that is a misuse op was executed (has an
 * event or, for spawn, a task). Returns the op or -1. */
int af_task_misuse_op(const af_ctx *c, int ir_task);
/* The same, only misuse handlers (try / except* that swallow or convert a
 * CancelledError) that caught a CancelledError (a `caught` event at or
 * after event `from`): the misuse that can explain a cancellation or
 * cleanup verdict. */
int af_task_misuse_handler(const af_ctx *c, int ir_task, int from);

/* Bit set of the IR tasks that lie on a waits-for cycle: edges from a
 * task to the tasks its code awaits and to the children of its ops that
 * wait for them (all but spawn). */
uint32_t af_await_cycle_tasks(const af_scenario *s);
/* The trace event at which a cycle first closed: the op_enter of an op of
 * a cycle task, waiting on a task of the cycle, after which the entered
 * waits (at least one an await; a self-await is no wait, asyncio refuses
 * it) form a cycle; -1 when none formed. */
int af_await_cycle_closed(const af_scenario *s, const af_trace *tr, uint32_t cycle);

/* Whether a coroutine name is the one a nested_run op hands to the nested
 * loop ("nested_target", maybe qualified): nested-loop's, not leaked-task's. */
int af_is_nested_target(const char *coro);

/* "None" or 'msg' for evidence sentences. */
const char *af_q(const char *s, char *buf, size_t cap);

#endif
