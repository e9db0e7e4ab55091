/* repro_checks.c - the checks a reproducer ends with, one per verdict, chosen
 * so that the program fails under plain python exactly when the in-process
 * run had the verdict (repro_checks.h).
 *
 * A verdict's check is the probe's query helper that restates its oracle
 * (harness/py/probe.py: cancel_swallowed, leaked...), readable and judged
 * again on whatever interpreter runs the program. A helper restates an
 * oracle, not every rule of it; so before a helper is written into a
 * program it is asked, in the embedded interpreter, whether it sees the
 * violation in the run's own events (which the program, run with the
 * same interpreter, reproduces event for event). Where it does not, the
 * check is the verdict's deciding event as recorded instead (probe.observed:
 * its kind, virtual time and fields, tasks by name, the loop iteration
 * left out), which the program reproduces by construction.
 *
 * Must not judge: the oracles (C) decide the verdicts; this only picks how a
 * program restates them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "reports/repro_checks.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/embed.h"

const char *af_repro_helper_of(af_oracle o)
{
    switch (o) {
    case AF_ORACLE_LEAKED_TASK:
        return "leaked";
    case AF_ORACLE_CANCEL_SWALLOWED:
        return "cancel_swallowed";
    case AF_ORACLE_CANCEL_SPURIOUS:
        return "spurious_cancel";
    case AF_ORACLE_CANCEL_COUNT:
        return "cancelling_left";
    case AF_ORACLE_CANCEL_MESSAGE:
        return "message_lost";
    case AF_ORACLE_CANCEL_CONVERTED:
        return "cancel_converted";
    case AF_ORACLE_NESTED_LOOP:
        return "nested_misbehaved";
    case AF_ORACLE_LOST_EXCEPTION:
        return "exception_lost";
    case AF_ORACLE_CLEANUP:
        return "cleanup_missed";
    case AF_ORACLE_BLOCKING:
        return "loop_blocked";
    default:
        return NULL;
    }
}

/* ---- the deciding event as a Python expression -------------------------- */

typedef struct text {
    char *buf;
    size_t len, cap;
    int oom;
} text;

static void put_n(text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->oom = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void put(text *t, const char *s)
{
    put_n(t, s, strlen(s));
}

static void putf(text *t, const char *fmt, long long v)
{
    char b[32];
    snprintf(b, sizeof b, fmt, v);
    put(t, b);
}

/* A Python string literal (double quotes, escapes Python reads back). */
static void put_str(text *t, const char *s)
{
    put(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put_n(t, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(t, esc);
        } else {
            put_n(t, (const char *)p, 1);
        }
    }
    put(t, "\"");
}

/* The name a task id had in the run (its task_new), NULL if unknown. */
static const char *task_name(const af_trace *tr, int id)
{
    for (int i = 0; i < tr->nevents; i++)
        if (tr->events[i].kind == AF_EV_TASK_NEW && tr->events[i].task == id)
            return tr->events[i].name;
    return NULL;
}

static int is_task_field(const af_field_layout *f)
{
    return f->type == AF_FIELD_INT &&
           (f->offset == offsetof(af_event, task) || f->offset == offsetof(af_event, by_task) ||
            f->offset == offsetof(af_event, parent));
}

static void put_detail(text *t, const af_event *ev)
{
    switch (ev->detail) {
    case AF_DETAIL_BOOL:
        put(t, ev->detail_a ? "True" : "False");
        break;
    case AF_DETAIL_PAIR:
        putf(t, "(%lld, ", (long long)ev->detail_a);
        putf(t, "%lld)", (long long)ev->detail_b);
        break;
    case AF_DETAIL_STR:
        put_str(t, ev->detail_str ? ev->detail_str : "");
        break;
    default:
        put(t, "None");
        break;
    }
}

/* One field of ev as Python reads it in the event tuple. */
static void put_field(text *t, const af_trace *tr, const af_event *ev, const af_field_layout *f)
{
    const char *base = (const char *)ev;
    switch (f->type) {
    case AF_FIELD_INT: {
        int v = *(const int *)(base + f->offset);
        const char *name = is_task_field(f) && v >= 0 ? task_name(tr, v) : NULL;
        if (name) {
            put(t, "TaskNamed(");
            put_str(t, name);
            put(t, ")");
        } else {
            putf(t, "%lld", v);
        }
        break;
    }
    case AF_FIELD_I64:
        putf(t, "%lld", (long long)*(const int64_t *)(base + f->offset));
        break;
    case AF_FIELD_BOOL:
        put(t, *(const int *)(base + f->offset) ? "True" : "False");
        break;
    case AF_FIELD_STR:
    case AF_FIELD_OPT_STR: {
        const char *s = *(const char *const *)(base + f->offset);
        if (s)
            put_str(t, s);
        else
            put(t, "None");
        break;
    }
    case AF_FIELD_ENUM: {
        int v = *(const int *)(base + f->offset);
        put_str(t, v >= 0 && v < f->nvalues ? f->values[v] : "");
        break;
    }
    case AF_FIELD_DETAIL:
        put_detail(t, ev);
        break;
    }
}

/* observed(events, KIND, VTIME, {POSITION: VALUE, ...}) for event `i`. */
static char *anchor_of(const af_trace *tr, int i)
{
    if (i < 0 || i >= tr->nevents)
        return NULL;
    const af_event *ev = &tr->events[i];
    const af_event_layout *lay = af_event_layout_of(ev->kind);
    if (!lay)
        return NULL;
    text t = {0};
    put(&t, "observed(events, ");
    put_str(&t, lay->name);
    putf(&t, ", %lld, {", (long long)ev->vtime);
    for (int k = 0; k < lay->nfields; k++) {
        putf(&t, k ? ", %lld: " : "%lld: ", 3 + k); /* after kind, vtime, iteration */
        put_field(&t, tr, ev, &lay->fields[k]);
    }
    put(&t, "})");
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ---- asking the helper in the embedded interpreter ------------------------ */

/* 1 when probe.<helper>(events, task) sees the violation in tr's events, 0
 * when not, -1 when it cannot be asked (no interpreter: a supervisor
 * process filing a crash; a Python error, cleared). */
static int helper_sees(const af_trace *tr, const char *helper, const char *task)
{
    if (!af_embed_ready())
        return -1;
    size_t n = af_trace_write_jsonl(tr, NULL, 0);
    char *jsonl = malloc(n + 1);
    if (!jsonl)
        return -1;
    af_trace_write_jsonl(tr, jsonl, n + 1);
    int rc = -1;
    PyObject *probe = NULL, *res = NULL;
    af_error err;
    probe = af_embed_import("probe", &err);
    if (probe)
        res = PyObject_CallMethod(probe, "sees_in_text", "sss", jsonl, helper, task);
    if (res)
        rc = PyObject_IsTrue(res);
    if (rc < 0)
        PyErr_Clear();
    Py_XDECREF(res);
    Py_XDECREF(probe);
    free(jsonl);
    return rc < 0 ? -1 : rc;
}

size_t af_repro_checks_build(const af_scenario *s, const af_verdict_list *v, const af_trace *tr,
                             af_repro_assert *out, size_t cap)
{
    size_t n = 0;
    for (int i = 0; v && i < v->count && n < cap; i++) {
        const af_verdict *x = &v->items[i];
        af_repro_assert *a = &out[n++];
        memset(a, 0, sizeof *a);
        a->oracle = af_oracle_name(x->oracle);
        a->task = x->task_name[0] ? x->task_name : NULL;
        /* A coroutine never awaited is nobody's task: the verdict names the
         * task that created it, the helper takes no task. */
        if (x->oracle == AF_ORACLE_LEAKED_TASK && x->op >= 0 && x->op < s->nops &&
            s->ops[x->op].kind == AF_OP_NEVER_AWAITED)
            a->task = NULL;
        a->words = x->evidence;
        /* A library's difference from stock asyncio: the check is what the
         * library did, as recorded (a fixed library does otherwise); when
         * no event decided it, the program compares with a run of its own
         * on stock asyncio (repro.c). */
        if (x->oracle == AF_ORACLE_DIFFERENTIAL && x->target[0] && tr) {
            a->anchor = anchor_of(tr, x->event);
            continue;
        }
        const char *helper = af_repro_helper_of(x->oracle);
        if (!tr || !helper)
            continue;
        if (helper_sees(tr, helper, a->task ? a->task : "") == 0)
            a->anchor = anchor_of(tr, x->event);
    }
    return n;
}

void af_repro_checks_free(af_repro_assert *checks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(checks[i].anchor);
        checks[i].anchor = NULL;
    }
}
