/* trace.h - the typed trace the oracles read. Every event's layout (kind,
 * fields, the af_event member each fills) is written once, in
 * trace_events.def; the enums, the struct and the builders here are
 * generated from it, and harness/run/TRACE.md documents it. Nothing here
 * knows the interpreter (trace_py.c converts the probe's tuples).
 *
 * The probe (harness/py/probe.py) records event tuples; the harness converts
 * each tuple into one af_event (trace_py.c, by the layouts below). Strings are
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

/* The event kinds: AF_EV_TASK_NEW, AF_EV_TASK_DONE, ... (trace_events.def,
 * in its order). */
typedef enum af_ev_kind {
#define AF_TRACE_EVENT(ID, name, when) AF_EV_##ID,
#include "harness/run/trace_events.def"
    AF_EV_KIND_COUNT
} af_ev_kind;

/* The enums of the enum fields, af_outcome (AF_OUT_RESULT...), af_opexit
 * (AF_OPEXIT_OK...), af_budget (AF_BUDGET_HANG...): trace_events.def. */
#define AF_TRACE_VALUE(ID, text) ID,
/* clang-format off */
#define AF_TRACE_ENUM(name, PREFIX, values)                                                        \
    typedef enum af_##name { values PREFIX##_COUNT } af_##name;
/* clang-format on */
#include "harness/run/trace_events.def"

/* op_exit: the shape of `detail`. */
typedef enum af_detail {
    AF_DETAIL_NONE = 0, /* None */
    AF_DETAIL_BOOL,     /* true/false in detail_a */
    AF_DETAIL_PAIR,     /* [detail_a, detail_b] (wait: n_done, n_pending) */
    AF_DETAIL_STR,      /* detail_str (gather: repr of the result list) */
    AF_DETAIL_COUNT
} af_detail;

/* One event. A flat struct: the members are listed in trace_events.def
 * with what each holds; each kind fills the members its fields name there,
 * the others keep their "unused" value (-1 / NULL / 0). */
typedef struct af_event {
    af_ev_kind kind;
    int64_t vtime;
    int64_t iter;
#define AF_TRACE_MEMBER(c_type, member, unused) c_type member;
#define AF_TRACE_STRING(member) const char *member;
#include "harness/run/trace_events.def"
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

/* Names used in the text form. NULL / -1 when out of range / unknown.
 * Besides the kinds': af_outcome_name / af_outcome_from_name, and so on
 * for every enum of trace_events.def. */
const char *af_ev_kind_name(af_ev_kind kind);
int af_ev_kind_from_name(const char *name);
#define AF_TRACE_ENUM(name, PREFIX, values)                                                        \
    const char *af_##name##_name(af_##name v);                                                     \
    int af_##name##_from_name(const char *text);
#include "harness/run/trace_events.def"

/* Append an event: copies the strings into the arena. Returns 0, or -1 when
 * the trace is full (the event is dropped, overflow set). Every builder
 * below is a wrapper around it. */
int af_trace_append(af_trace *tr, const af_event *ev);
/* An event with every field at its "unused" value (-1 / NULL / 0). */
void af_event_init(af_event *ev, af_ev_kind kind, int64_t vtime, int64_t iter);

/* Builders, one per kind: af_trace_<name>(tr, vtime, iter, fields...),
 * the fields in trace_events.def's order, each a parameter named by its
 * label: INT and BOOL int, I64 int64_t, STR and OPT_STR const char *, an
 * enum field af_<enum>, and DETAIL four: (af_detail detail, int64_t
 * detail_a, int64_t detail_b, const char *detail_str) - AF_DETAIL_NONE;
 * BOOL with detail_a; PAIR with detail_a, detail_b; STR with detail_str
 * (NULL: None). For example
 *     af_trace_task_new(tr, vtime, iter, task, name, parent_task, op, ir_task)
 * Booleans are stored as 0/1. Returns what af_trace_append returns. */
#define AF_TRACE_PARAM_INT(label) , int label
#define AF_TRACE_PARAM_I64(label) , int64_t label
#define AF_TRACE_PARAM_BOOL(label) , int label
#define AF_TRACE_PARAM_STR(label) , const char *label
#define AF_TRACE_PARAM_OPT_STR(label) , const char *label
#define AF_TRACE_PARAM_DETAIL(label)                                                               \
    , af_detail detail, int64_t detail_a, int64_t detail_b, const char *detail_str
#define AF_TRACE_PARAM(TYPE, label, member, note) AF_TRACE_PARAM_##TYPE(label)
#define AF_TRACE_ENUM_PARAM(enum, label, member, note) , af_##enum label
#define AF_TRACE_EVENT(ID, name, when)                                                             \
    int af_trace_##name(af_trace *tr, int64_t vtime,                                               \
                        int64_t iter AF_TRACE_FIELDS_##ID(AF_TRACE_PARAM, AF_TRACE_ENUM_PARAM));
#include "harness/run/trace_events.def"

/* The layout of each kind's tuple, for the code that reads or writes one
 * field after the other (text form, Python conversion, tests). */
typedef enum af_field_type {
    AF_FIELD_INT,     /* int member; Python int (not bool); JSON integer */
    AF_FIELD_I64,     /* int64_t member */
    AF_FIELD_BOOL,    /* int member, 0/1; True/False; true/false */
    AF_FIELD_STR,     /* const char * member; str; JSON string */
    AF_FIELD_OPT_STR, /* the same, NULL for None / null */
    AF_FIELD_ENUM,    /* int member; the name of one of `values` */
    AF_FIELD_DETAIL,  /* detail, detail_a, detail_b, detail_str (af_detail) */
} af_field_type;

typedef struct af_field_layout {
    const char *label; /* its name in TRACE.md */
    af_field_type type;
    size_t offset;             /* of the af_event member it fills */
    const char *const *values; /* AF_FIELD_ENUM: the names, by value */
    int nvalues;
} af_field_layout;

typedef struct af_event_layout {
    const char *name;
    int nfields; /* after (kind, vtime, iteration) */
    const af_field_layout *fields;
} af_event_layout;

/* The layout of a kind; NULL when out of range. */
const af_event_layout *af_event_layout_of(af_ev_kind kind);

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
