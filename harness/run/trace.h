/* trace.h - the typed trace the oracles read (harness/run/TRACE.md is the
 * authoritative list of events and fields).
 *
 * The probe (harness/py/probe.py) records event tuples; the harness converts
 * each tuple into one af_event with the builder functions below. Strings are
 * copied into an arena owned by the trace. Both the event array and the
 * arena are allocated once by af_trace_init and never grow: when either is
 * full the event is dropped and `overflow` is set (oracles that judge by the
 * absence of an event stay quiet on an overflowed trace). af_trace_reset
 * empties a trace for the next run without freeing anything.
 *
 * Text form: JSON lines, one event per line, each exactly the bytes of
 * Python's json.dumps(list(event), separators=(",", ":")) (ensure_ascii).
 *
 * Strings: NUL-terminated UTF-8; NULL stands for Python's None. Pointers
 * into the arena stay valid until af_trace_reset / af_trace_free.
 */
#ifndef ASYNCFUZZ_TRACE_H
#define ASYNCFUZZ_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenarios/ir.h" /* af_error */

/* Defaults for af_trace_init(tr, 0, 0). */
#define AF_TRACE_DEFAULT_EVENTS 8192
#define AF_TRACE_DEFAULT_ARENA (256 * 1024)

typedef enum af_ev_kind {
    AF_EV_TASK_NEW = 0,
    AF_EV_TASK_DONE,
    AF_EV_CANCEL,
    AF_EV_UNCANCEL,
    AF_EV_CAUGHT,
    AF_EV_OP_ENTER,
    AF_EV_OP_EXIT,
    AF_EV_FINALLY,
    AF_EV_ACQUIRE,
    AF_EV_RELEASE,
    AF_EV_NESTED,
    AF_EV_LOOP_EXC,
    AF_EV_WARNING,
    AF_EV_UNRAISABLE,
    AF_EV_SLOW,
    AF_EV_PENDING,
    AF_EV_END,
    AF_EV_BUDGET,
    AF_EV_KIND_COUNT
} af_ev_kind;

/* task_done and end: how the task finished. */
typedef enum af_outcome {
    AF_OUT_RESULT = 0,
    AF_OUT_EXCEPTION,
    AF_OUT_CANCELLED,
    AF_OUT_COUNT
} af_outcome;

/* op_exit: how the operation ended. */
typedef enum af_opexit {
    AF_OPEXIT_OK = 0, /* "ok" */
    AF_OPEXIT_RAISE,  /* "raise" */
    AF_OPEXIT_COUNT
} af_opexit;

/* budget: which budget stopped the run. */
typedef enum af_budget {
    AF_BUDGET_HANG = 0,
    AF_BUDGET_DEADLOCK,
    AF_BUDGET_WATCHDOG,
    AF_BUDGET_COUNT
} af_budget;

/* op_exit: the shape of `detail`. */
typedef enum af_detail {
    AF_DETAIL_NONE = 0, /* None */
    AF_DETAIL_BOOL,     /* true/false in detail_a */
    AF_DETAIL_PAIR,     /* [detail_a, detail_b] (wait: n_done, n_pending) */
    AF_DETAIL_STR,      /* detail_str (gather: repr of the result list) */
    AF_DETAIL_COUNT
} af_detail;

/* One event. A flat struct: each kind uses the fields listed, the others
 * are -1 / NULL / 0. Field names follow TRACE.md.
 *
 *   task_new    task, name, parent, op, ir_task
 *   task_done   task, outcome, exc_type, exc_args, cancelling
 *   cancel      by_task, task (= target), op, msg, returned, before, after
 *               (cancelling_before / cancelling_after)
 *   uncancel    by_task, task (= target), op, before, after
 *   caught      task, op, exc_type, msg
 *   op_enter    task, op, cancelling
 *   op_exit     task, op, exit, exc_type, exc_args, detail..., cancelling
 *   finally     task, op
 *   acquire     task, op, resource      release: the same
 *   nested      task, op, name (= kind), exc_type, flag_a (loop_running_after),
 *               flag_b (coro_closed)
 *   loop_exc    msg (= message), exc_type, task
 *   warning     name (= category), msg (= message)
 *   unraisable  exc_type, msg (= message)
 *   slow        ticks, name (= what)
 *   pending     task
 *   end         outcome, exc_type
 *   budget      budget
 */
typedef struct af_event {
    af_ev_kind kind;
    int64_t vtime;
    int64_t iter;

    int task;    /* the task the event is about (cancel/uncancel: target) */
    int by_task; /* cancel, uncancel: the caller's task, -1 none */
    int op;      /* IR op index, -1 none */
    int parent;  /* task_new: parent task, -1 none */
    int ir_task; /* task_new: IR task index, -1 none (asyncio's own) */

    int outcome;    /* task_done, end: af_outcome */
    int exit;       /* op_exit: af_opexit */
    int budget;     /* budget: af_budget */
    int cancelling; /* task_done, op_enter, op_exit */
    int before;     /* cancel, uncancel */
    int after;      /* cancel, uncancel */
    int returned;   /* cancel: bool */
    int flag_a;     /* nested: loop_running_after */
    int flag_b;     /* nested: coro_closed */
    int64_t ticks;  /* slow */

    af_detail detail; /* op_exit */
    int64_t detail_a;
    int64_t detail_b;
    const char *detail_str;

    const char *name;     /* task_new: name; nested: kind; warning: category; slow: what */
    const char *exc_type; /* "" when none */
    const char *exc_args; /* "" when none */
    const char *msg;      /* cancel, caught: msg or NULL; loop_exc, warning,
                             unraisable: message */
    const char *resource; /* acquire, release */
} af_event;

typedef struct af_trace {
    af_event *events;
    int nevents;
    int max_events;
    char *arena;
    size_t arena_used;
    size_t arena_cap;
    int overflow; /* an event was dropped: the trace is incomplete */
} af_trace;

/* Allocate (0 = default size). Returns 0, or -1 when out of memory. */
int af_trace_init(af_trace *tr, int max_events, size_t arena_bytes);
void af_trace_reset(af_trace *tr);
void af_trace_free(af_trace *tr);

/* Names used in the text form. NULL / -1 when out of range / unknown. */
const char *af_ev_kind_name(af_ev_kind kind);
int af_ev_kind_from_name(const char *name);
const char *af_outcome_name(af_outcome v);
int af_outcome_from_name(const char *name);
const char *af_opexit_name(af_opexit v);
int af_opexit_from_name(const char *name);
const char *af_budget_name(af_budget v);
int af_budget_from_name(const char *name);

/* Append an event: copies the strings into the arena. Returns 0, or -1 when
 * the trace is full (the event is dropped, overflow set). Every builder
 * below is a wrapper around it. */
int af_trace_append(af_trace *tr, const af_event *ev);
/* An event with every field at its "unused" value (-1 / NULL / 0). */
void af_event_init(af_event *ev, af_ev_kind kind, int64_t vtime, int64_t iter);

/* Builders, one per kind, fields in TRACE.md order. Booleans are int. */
int af_trace_task_new(af_trace *tr, int64_t vtime, int64_t iter, int task, const char *name,
                      int parent_task, int op, int ir_task);
int af_trace_task_done(af_trace *tr, int64_t vtime, int64_t iter, int task, af_outcome outcome,
                       const char *exc_type, const char *exc_args, int cancelling);
int af_trace_cancel(af_trace *tr, int64_t vtime, int64_t iter, int by_task, int target, int op,
                    const char *msg, int returned, int cancelling_before, int cancelling_after);
int af_trace_uncancel(af_trace *tr, int64_t vtime, int64_t iter, int by_task, int target, int op,
                      int before, int after);
int af_trace_caught(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                    const char *exc_type, const char *msg);
int af_trace_op_enter(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, int cancelling);
/* detail: AF_DETAIL_NONE; BOOL with a; PAIR with a, b; STR with str. */
int af_trace_op_exit(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, af_opexit outcome,
                     const char *exc_type, const char *exc_args, af_detail detail, int64_t detail_a,
                     int64_t detail_b, const char *detail_str, int cancelling);
int af_trace_finally(af_trace *tr, int64_t vtime, int64_t iter, int task, int op);
int af_trace_acquire(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                     const char *resource);
int af_trace_release(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                     const char *resource);
int af_trace_nested(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, const char *kind,
                    const char *exc_type, int loop_running_after, int coro_closed);
int af_trace_loop_exc(af_trace *tr, int64_t vtime, int64_t iter, const char *message,
                      const char *exc_type, int task);
int af_trace_warning(af_trace *tr, int64_t vtime, int64_t iter, const char *category,
                     const char *message);
int af_trace_unraisable(af_trace *tr, int64_t vtime, int64_t iter, const char *exc_type,
                        const char *message);
int af_trace_slow(af_trace *tr, int64_t vtime, int64_t iter, int64_t ticks, const char *what);
int af_trace_pending(af_trace *tr, int64_t vtime, int64_t iter, int task);
int af_trace_end(af_trace *tr, int64_t vtime, int64_t iter, af_outcome outcome,
                 const char *exc_type);
int af_trace_budget(af_trace *tr, int64_t vtime, int64_t iter, af_budget which);

/* Text form. Both writers work like snprintf: they write at most cap bytes
 * (always NUL-terminated when cap > 0) and return the length the full text
 * needs, excluding the NUL. af_event_write_json writes one line without the
 * newline; af_trace_write_jsonl writes every line, each ending in '\n'. */
size_t af_event_write_json(const af_event *ev, char *buf, size_t cap);
size_t af_trace_write_jsonl(const af_trace *tr, char *buf, size_t cap);
/* The same to a stream. Returns 0 or -1 on a write error. */
int af_trace_fwrite_jsonl(const af_trace *tr, FILE *out);

/* Append the events of JSON-lines text to tr (reset it first for a fresh
 * trace). Blank lines are skipped. Returns 0, or -1 with err set (err->line
 * is the 1-based line) on malformed input or when the trace is full. */
int af_trace_read_jsonl(const char *text, size_t len, af_trace *tr, af_error *err);

/* Whether two traces hold the same events (same text form). */
int af_trace_equal(const af_trace *a, const af_trace *b);

/* JSON string escaping exactly like Python's json.dumps (ensure_ascii):
 * appends the quoted form of UTF-8 `s` (len bytes) to buf at *pos, never
 * past cap; *pos advances by the full length. Invalid UTF-8 bytes become
 * \ufffd. Used by verdict.c and the report writers too. */
void af_json_put_string(char *buf, size_t cap, size_t *pos, const char *s, size_t len);

#endif
