/* ir.h - the scenario IR: the one data structure every stage consumes.
 *
 * A scenario is a tree. The root task ("main" unless named otherwise) has a
 * body: a list of operations. Some operations own bodies of their own (run
 * inline, in the same task: try, wait_for, timeout, ...) and some own child
 * tasks (spawn, gather, TaskGroup, wait, as_completed, shield).
 *
 * Storage is fixed-size and index-linked: a scenario never allocates, so it
 * can be decoded, compared, copied and reset on a fuzzer's hot path. Ops,
 * tasks and primitives live in arrays inside struct af_scenario; a body is a
 * singly linked list of op indices (af_body.head, af_op.next); a list of
 * child tasks is a linked list of task indices (af_tasklist.head,
 * af_task.next). Index -1 (AF_NIL) ends a list.
 *
 * Arrays are filled in pre-order (document order), so task 0 is the root.
 *
 * Depth: the ops of the root body are at depth 1; the body (or finally) of
 * an op at depth d, and the bodies of its child tasks, hold ops at depth
 * d + 1. No op may be deeper than AF_MAX_DEPTH.
 *
 * This header defines data and the small helpers that every stage needs
 * (names of enum values, misuse test, validation, equality). It must not
 * know about bytes, JSON or Python: those live in their own files.
 */
#ifndef ASYNCFUZZ_IR_H
#define ASYNCFUZZ_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/oracles.h" /* the oracle names `expect` may use */
#include "scenarios/limits.h"
#include "scenarios/pyversion.h"

#define AF_NIL (-1)
/* ticks value meaning Python's None (no timeout, notify_all, no await). */
#define AF_NONE (-1)
/* cancel target: the task running the operation. */
#define AF_SELF (-2)

/* Operation kinds, one per row of scenarios/ops.def (which says what each
 * does and which fields it uses). The order is the bytes decoder's choice
 * order: a new kind goes at the end; never reorder without bumping
 * AF_SCHEMA_VERSION and regenerating corpus/. */
typedef enum af_op_kind {
#define OP(name, json, flags, doc, fields) AF_OP_##name,
#define F(...)
#include "scenarios/ops.def"
#undef OP
#undef F
    AF_OP_KIND_COUNT
} af_op_kind;

typedef enum af_exc_kind {
    AF_EXC_APP = 0,            /* AppError(id): the project's Exception */
    AF_EXC_VALUE,              /* ValueError(id) */
    AF_EXC_KEYBOARD_INTERRUPT, /* KeyboardInterrupt(id) */
    AF_EXC_SYSTEM_EXIT,        /* SystemExit(id) */
    AF_EXC_CANCELLED_SUBCLASS, /* AppCancelled(id), a CancelledError subclass */
    AF_EXC_KIND_COUNT
} af_exc_kind;

/* try: what the `except CancelledError` clause does. */
typedef enum af_on_cancel {
    AF_ON_CANCEL_NONE = 0, /* no except clause for CancelledError */
    AF_ON_CANCEL_RERAISE,  /* except CancelledError: raise */
    AF_ON_CANCEL_UNCANCEL, /* except CancelledError: current_task().uncancel(); continue */
    AF_ON_CANCEL_RAISE,    /* except CancelledError: raise <exc> */
    AF_ON_CANCEL_SWALLOW,  /* except CancelledError: pass  (misuse) */
    AF_ON_CANCEL_COUNT
} af_on_cancel;

/* try: what the `except Exception` clause does. */
typedef enum af_on_error {
    AF_ON_ERROR_NONE = 0, /* no except clause for Exception */
    AF_ON_ERROR_SWALLOW,  /* except Exception: pass */
    AF_ON_ERROR_COUNT
} af_on_error;

/* except*: which exceptions the clause matches. */
typedef enum af_match {
    AF_MATCH_APP = 0,   /* except* AppError */
    AF_MATCH_VALUE,     /* except* ValueError */
    AF_MATCH_EXCEPTION, /* except* Exception */
    AF_MATCH_CANCELLED, /* except* CancelledError */
    AF_MATCH_COUNT
} af_match;

/* except*: what the clause does with what it matched. */
typedef enum af_reaction {
    AF_REACT_SWALLOW = 0, /* pass */
    AF_REACT_RERAISE,     /* raise */
    AF_REACT_RAISE,       /* raise <exc> */
    AF_REACT_COUNT
} af_reaction;

typedef enum af_return_when {
    AF_WHEN_ALL_COMPLETED = 0,
    AF_WHEN_FIRST_COMPLETED,
    AF_WHEN_FIRST_EXCEPTION,
    AF_WHEN_COUNT
} af_return_when;

typedef enum af_nested_kind {
    AF_NESTED_ASYNCIO_RUN = 0,    /* asyncio.run(coro) */
    AF_NESTED_RUN_UNTIL_COMPLETE, /* loop.run_until_complete(coro) */
    AF_NESTED_RUN_FOREVER,        /* loop.run_forever() */
    AF_NESTED_COUNT
} af_nested_kind;

/* call: the loop method that schedules the callback. */
typedef enum af_call_via {
    AF_VIA_CALL_SOON = 0, /* loop.call_soon(cb) */
    AF_VIA_CALL_LATER,    /* loop.call_later(delay, cb) */
    AF_VIA_CALL_AT,       /* loop.call_at(loop.time() + delay, cb) (past: - delay) */
    AF_VIA_COUNT
} af_call_via;

typedef enum af_prim_kind {
    AF_PRIM_EVENT = 0,
    AF_PRIM_LOCK,
    AF_PRIM_CONDITION,
    AF_PRIM_SEMAPHORE, /* param: initial value, 1..AF_MAX_SMALL */
    AF_PRIM_QUEUE,     /* param: maxsize, 0 (unbounded)..AF_MAX_SMALL */
    AF_PRIM_COUNT
} af_prim_kind;

typedef struct af_exc {
    af_exc_kind kind;
    int32_t id; /* 0..AF_MAX_VALUE: args[0] of the exception */
} af_exc;

typedef struct af_body {
    int16_t head; /* first op index, AF_NIL when empty */
    int16_t tail; /* last op index, AF_NIL when empty (for appending) */
    int16_t count;
} af_body;

typedef struct af_tasklist {
    int16_t head; /* first task index, AF_NIL when empty */
    int16_t tail;
    int16_t count;
} af_tasklist;

typedef struct af_task {
    char name[AF_MAX_NAME + 1];
    af_body body;
    int16_t next;   /* next sibling in the owning af_tasklist, AF_NIL at end */
    int16_t parent; /* op index that owns this task, AF_NIL for the root */
} af_task;

/* One operation. A flat struct: each kind uses the members its row of
 * ops.def names (the comments below say which kinds use which today) and
 * leaves the others at the values af_op_init() gives them, so that
 * equality and the writers can treat every op alike. */
typedef struct af_op {
    af_op_kind kind;
    int16_t next;   /* next op in the same body, AF_NIL at end */
    int16_t parent; /* owning op index, AF_NIL at the top of a task body */
    int16_t task;   /* index of the task whose code runs this op */

    /* await, cancel: task index (cancel also AF_SELF).
     * spawn: task group op index (AF_OP_TASKGROUP) or AF_NIL.
     * reschedule: timeout op index (AF_OP_TIMEOUT).
     * event_*, lock, cond_*, semaphore, queue_*: primitive index. */
    int16_t ref;

    /* sleep, block: duration (>= 0).
     * wait_for: timeout; timeout: delay; reschedule: new delay;
     * wait, as_completed: timeout; hold: sleep before release in the
     * finally. All of these: AF_NONE (-1) for None, else >= 0. */
    int32_t ticks;

    /* return, queue_put: the value (0..AF_MAX_VALUE).
     * cancel: how many times cancel() is called (1 or 2).
     * cond_notify: n (1..AF_MAX_SMALL) or AF_NONE for notify_all(). */
    int32_t value;

    bool keep;              /* spawn: keep the task's reference (false: misuse) */
    bool return_exceptions; /* gather */
    bool uncancel;          /* cancel: call uncancel() right after cancel() */
    bool at;                /* timeout: timeout_at(loop.time() + delay) */
    bool cancel_pending;    /* wait: cancel the tasks still pending after */
    bool has_msg;           /* cancel: a message is given */
    bool has_finally;       /* try: a finally clause exists (body may be empty) */

    af_return_when return_when; /* wait */
    af_on_cancel on_cancel;     /* try */
    af_on_error on_error;       /* try */
    af_match match;             /* except_star */
    af_reaction reaction;       /* except_star */
    af_nested_kind nested;      /* nested_run; reenter (asyncio_run, run_until_complete) */
    af_call_via via;            /* call */
    af_exc exc;                 /* raise; try with on_cancel raise;
                                   except_star with reaction raise */

    /* taskgroup, timeout: the name refs point at; hold: the resource. */
    char name[AF_MAX_NAME + 1];
    char msg[AF_MAX_MSG + 1]; /* cancel: the message when has_msg */

    /* wait_for, timeout, taskgroup (inside `async with`), try, except_star,
     * hold, lock, semaphore: the body run inline. */
    af_body body;
    af_body finally_body; /* try: the finally clause (when has_finally) */
    /* spawn, shield: exactly one task. gather, taskgroup, wait,
     * as_completed: zero or more tasks. */
    af_tasklist children;
} af_op;

typedef struct af_primitive {
    char name[AF_MAX_NAME + 1];
    af_prim_kind kind;
    int32_t param; /* semaphore: initial value; queue: maxsize; else 0 */
} af_primitive;

/* An expected verdict stored in a scenario file. */
typedef struct af_expect {
    char oracle[32];              /* an oracle name (base/oracles.def) */
    char issue[AF_MAX_ISSUE + 1]; /* upstream issue ("gh-86296") or "" */
    /* The target adapter (its NAME) the verdict is expected on, "" for
     * every target. */
    char target[AF_MAX_TARGET_NAME + 1];
    /* Python versions (minor versions or ranges of their patch releases,
     * pyversion.h) this verdict is expected on; none means every version. */
    af_pyversion pyversions[AF_MAX_PYVERSIONS];
    int16_t npyversions;
} af_expect;

typedef struct af_scenario {
    char description[AF_MAX_DESCRIPTION + 1];
    af_expect expect[AF_MAX_EXPECT];
    int16_t nexpect;

    af_primitive prims[AF_MAX_PRIMITIVES];
    int16_t nprims;

    af_task tasks[AF_MAX_TASKS]; /* tasks[0] is the root */
    int16_t ntasks;

    af_op ops[AF_MAX_OPS];
    int16_t nops;
} af_scenario;

/* Construction. af_scenario_init leaves one root task named "main" with an
 * empty body. The add functions return the new index, or AF_NIL when a limit
 * would be exceeded. */
void af_scenario_init(af_scenario *s);
void af_op_init(af_op *op, af_op_kind kind);
int af_scenario_add_op(af_scenario *s, af_body *body, af_op_kind kind, int task, int parent);
int af_scenario_add_task(af_scenario *s, af_tasklist *list, const char *name, int parent_op);
int af_scenario_add_primitive(af_scenario *s, af_prim_kind kind, const char *name, int param);

/* Name helpers. Lookups return AF_NIL when absent. */
int af_find_task(const af_scenario *s, const char *name);
int af_find_named_op(const af_scenario *s, af_op_kind kind, const char *name);
int af_find_primitive(const af_scenario *s, const char *name);
/* Whether a name is used by any task, task group, timeout or primitive
 * (they share one namespace). */
bool af_name_taken(const af_scenario *s, const char *name);
/* A valid name: [A-Za-z_][A-Za-z0-9_]*, 1..AF_MAX_NAME bytes, not "self". */
bool af_valid_name(const char *name);
/* A valid cancel message: printable ASCII without '"' and '\\', <= AF_MAX_MSG. */
/* A valid target adapter NAME: 1..AF_MAX_TARGET_NAME bytes of letters,
 * digits, '_', '-', '.'. */
bool af_valid_target_name(const char *name);
bool af_valid_msg(const char *msg);

/* Kind names: "sleep", "task_group"... as used in JSON; NULL if out of range. */
const char *af_op_kind_name(af_op_kind kind);
int af_op_kind_from_name(const char *name); /* -1 if unknown */
const char *af_exc_kind_name(af_exc_kind kind);
int af_exc_kind_from_name(const char *name);
const char *af_on_cancel_name(af_on_cancel v);
int af_on_cancel_from_name(const char *name);
const char *af_on_error_name(af_on_error v);
int af_on_error_from_name(const char *name);
const char *af_match_name(af_match v);
int af_match_from_name(const char *name);
const char *af_reaction_name(af_reaction v);
int af_reaction_from_name(const char *name);
const char *af_return_when_name(af_return_when v);
int af_return_when_from_name(const char *name);
const char *af_nested_name(af_nested_kind v);
int af_nested_from_name(const char *name);
const char *af_call_via_name(af_call_via v);
int af_call_via_from_name(const char *name);
const char *af_prim_kind_name(af_prim_kind v);
int af_prim_kind_from_name(const char *name);

/* Whether an op is one of the misuse patterns: a misuse kind, a spawn that
 * drops its reference, or a handler that swallows CancelledError or turns
 * it into an exception that is not a CancelledError (try with on_cancel
 * swallow or raise <not cancelled_subclass>; except* CancelledError with
 * reaction swallow or raise <not cancelled_subclass>). */
bool af_op_is_misuse(const af_op *op);
bool af_scenario_has_misuse(const af_scenario *s);
/* Whether a scenario uses a loop-level operation (call, cancel_handle,
 * stop, reenter: ops.def's AF_OPF_LOOP kinds). */
bool af_scenario_has_loop_ops(const af_scenario *s);

/* Which ops own a body / children / a finally. */
bool af_op_has_body(af_op_kind kind);
bool af_op_has_children(af_op_kind kind);
/* Whether op kind k has a duration field (ticks), and whether it may be
 * AF_NONE. */
bool af_ir_has_ticks(af_op_kind k);
bool af_ir_ticks_optional(af_op_kind k);
/* The primitive kind an op needs, or -1 for non-synchronisation ops. */
int af_op_prim_kind(af_op_kind kind);

/* Whether task t is the task of a `start` op (the one whose code may call
 * `started`). */
bool af_task_started_by_start(const af_scenario *s, int t);

/* Check every invariant and limit: counts, depth, total ticks, ranges of
 * every field, names (valid, unique), references (resolve, right kind),
 * primitive kinds, list links. Returns 0 or -1 with err set. */
int af_scenario_validate(const af_scenario *s, af_error *err);

/* Depth (root body = 1) and sum of ticks, as validate computes them. */
int af_scenario_depth(const af_scenario *s);
int64_t af_scenario_total_ticks(const af_scenario *s);

/* Structural equality: same tree, same fields, references to the same
 * names. Ignores array positions. */
bool af_scenario_equal(const af_scenario *a, const af_scenario *b);

#endif
