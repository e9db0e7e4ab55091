/* differential.c - the differential oracle: the same scenario run on the
 * target and on the reference (stock asyncio, C tasks), per task and per
 * operation, after normalising what the contracts leave open.
 *
 * What is compared, up to `end` (the harness's cleanup after it is not the
 * scenario's) and by task name (asyncfuzz.* helper tasks are the harness's
 * and are skipped): every structured op's op_exit (ok or the exception, and
 * its detail: a timeout's expired(), what gather or start returned, wait's
 * counts), each try's finally, each scenario cancel()'s return value and
 * each handler's number of caught CancelledErrors, each task's end, and the
 * budget that stopped either run. One verdict per task, at its first
 * difference (ops in document order, then cleanup, cancel, end).
 *
 * Normalised always: an exception group is the multiset of its leaves
 * (nested groups flattened; group class and message ignored: anyio 3
 * raises a bare error or its own group); TimeoutError's spellings; the
 * arguments of a CancelledError (a group-built cancellation's message is
 * the single-run cancellation.message oracle's business). Normalised when
 * the adapter declares it (harness/run/target.def): RuntimeError wording
 * (reschedule-error-message), the CancelledErrors handlers catch and the ops
 * inside cleanups (level-cancellation), a child that never ran on the
 * reference against one that ended cancelled (unstarted-children-run),
 * scenarios cancelling a child of the library's group (child-cancel-aborts-
 * group), and differences without a single-run verdict of the target
 * (scheduling). Not compared: a scenario with a nested run on a REENTRANT
 * target's loop (stock asyncio refuses the nested run it completes), a
 * run a KeyboardInterrupt / SystemExit escaped (each loop lets it out at
 * its own point), and on a loop on real time the tick an op ended at (its
 * outcome is).
 *
 * Triage: when the reference has a single-run target verdict that the
 * target lacks, the difference is the reference's defect (3.11's gh-102780,
 * gh-116720 shapes) and nothing is reported.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracles/oracle.h"

/* A run as the comparison sees it. */
typedef struct side {
    const af_trace *tr;
    int cut;    /* events before this index are the scenario's */
    int budget; /* its budget event, -1 */
} side;

static side side_of(const af_trace *tr)
{
    side d = {tr, tr->nevents, -1};
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        if (e->kind == AF_EV_END || e->kind == AF_EV_BUDGET) {
            d.cut = i;
            d.budget = e->kind == AF_EV_BUDGET ? i : -1;
            break;
        }
    }
    return d;
}

/* ---- exceptions ---------------------------------------------------------- */

static int is_group(const char *t)
{
    return t && strstr(t, "ExceptionGroup") != NULL;
}

/* The end (exclusive) of the bracketed or parenthesised text starting at
 * p (at its opening character), skipping quoted strings. */
static const char *matching(const char *p)
{
    int depth = 0;
    char quote = 0;
    for (; *p; p++) {
        if (quote) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"')
            quote = *p;
        else if (*p == '(' || *p == '[' || *p == '{')
            depth++;
        else if ((*p == ')' || *p == ']' || *p == '}') && --depth == 0)
            return p + 1;
    }
    return p;
}

#define MAX_LEAVES 32
#define AF_DIFF_ARGS_MAX 4096
#define LEAF_MAX 96

typedef struct leaves {
    char items[MAX_LEAVES][LEAF_MAX];
    int n;
    bool runtime_by_type; /* reschedule-error-message: RuntimeError leaves by type */
} leaves;

/* text with each object repr (<...>, nested; one left open by the probe's
 * truncation runs to the end) replaced by "<>": a repr's address, state and
 * callbacks are the implementation's, not the message's. */
static void without_reprs(const char *text, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = text ? text : ""; *p && o + 3 < cap; p++) {
        if (*p != '<') {
            out[o++] = *p;
            continue;
        }
        int depth = 0;
        const char *q = p;
        for (; *q; q++)
            if (*q == '<')
                depth++;
            else if (*q == '>' && --depth == 0)
                break;
        out[o++] = '<';
        out[o++] = '>';
        if (!*q)
            break;
        p = q;
    }
    out[o] = '\0';
}

static void add_leaf(leaves *l, const char *text, size_t len)
{
    if (l->n >= MAX_LEAVES)
        return;
    if (len >= LEAF_MAX)
        len = LEAF_MAX - 1;
    char raw[LEAF_MAX];
    memcpy(raw, text, len);
    raw[len] = '\0';
    without_reprs(raw, l->items[l->n], LEAF_MAX);
    /* a CancelledError leaf: its message is not compared; nor a
     * RuntimeError's when the target words them otherwise */
    char *c = strstr(l->items[l->n], "CancelledError(");
    if (c)
        strcpy(c, "CancelledError");
    c = l->runtime_by_type ? strstr(l->items[l->n], "RuntimeError(") : NULL;
    if (c)
        strcpy(c, "RuntimeError");
    l->n++;
}

/* The leaves of a group's repr(args): "('message', [Leaf(...), ...])". */
static void group_leaves(const char *args, leaves *l, int depth)
{
    const char *open = args ? strchr(args, '[') : NULL;
    if (!open || depth > 8)
        return;
    const char *end = matching(open) - 1, *p = open + 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *q = p;
        while (q < end && *q != '(' && *q != ',')
            q++;
        const char *item_end = q < end && *q == '(' ? matching(q) : q;
        if (item_end > end)
            item_end = end;
        if (item_end > p) {
            if ((size_t)(q - p) >= 14 && memmem(p, (size_t)(q - p), "ExceptionGroup", 14))
                group_leaves(q, l, depth + 1);
            else
                add_leaf(l, p, (size_t)(item_end - p));
        }
        p = item_end;
    }
}

/* A bare exception as a group's leaf reads: "ValueError(1)" from the type
 * builtins.ValueError and the arguments "(1,)" (anyio 3 raises a single
 * error bare where asyncio raises a group of it). */
static void bare_leaf(leaves *l, const char *type, const char *args)
{
    char buf[LEAF_MAX];
    const char *dot = strrchr(type, '.');
    const char *name = dot ? dot + 1 : type;
    size_t n = args ? strlen(args) : 0;
    const char *inner = args && n >= 2 && args[0] == '(' ? args + 1 : "";
    size_t in = n >= 2 ? n - 2 : 0;
    if (in > 0 && inner[in - 1] == ',')
        in--;
    int w = snprintf(buf, sizeof buf, "%s(%.*s)", name, (int)in, inner);
    add_leaf(l, buf, w < 0 ? 0 : (size_t)w < sizeof buf ? (size_t)w : sizeof buf - 1);
}

static int cmp_leaf(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Two exceptions (module.qualname type, repr(args)) alike, as normalised. */
static int exc_alike(const af_target_info *t, const char *ta, const char *aa, const char *tb,
                     const char *ab)
{
    ta = ta ? ta : "";
    tb = tb ? tb : "";
    if (!ta[0] || !tb[0])
        return !ta[0] && !tb[0];
    if (af_exc_is_cancelled(ta) || af_exc_is_cancelled(tb))
        return af_exc_is_cancelled(ta) && af_exc_is_cancelled(tb);
    if (af_exc_is_timeout(ta) || af_exc_is_timeout(tb))
        return af_exc_is_timeout(ta) && af_exc_is_timeout(tb);
    if (is_group(ta) || is_group(tb)) {
        leaves *x = calloc(2, sizeof *x);
        if (!x)
            return 1;
        x[0].runtime_by_type = x[1].runtime_by_type =
            af_target_has_difference(t, AF_DIFF_RESCHEDULE_ERROR_MESSAGE);
        if (is_group(ta))
            group_leaves(aa, &x[0], 0);
        else
            bare_leaf(&x[0], ta, aa);
        if (is_group(tb))
            group_leaves(ab, &x[1], 0);
        else
            bare_leaf(&x[1], tb, ab);
        int same = x[0].n == x[1].n;
        qsort(x[0].items, (size_t)x[0].n, LEAF_MAX, cmp_leaf);
        qsort(x[1].items, (size_t)x[1].n, LEAF_MAX, cmp_leaf);
        for (int i = 0; same && i < x[0].n; i++)
            same = strcmp(x[0].items[i], x[1].items[i]) == 0;
        free(x);
        return same;
    }
    if (strcmp(ta, tb) != 0)
        return 0;
    if (af_exc_is_runtime_error(ta) &&
        af_target_has_difference(t, AF_DIFF_RESCHEDULE_ERROR_MESSAGE))
        return 1;
    char *x = malloc(2 * AF_DIFF_ARGS_MAX);
    if (!x)
        return strcmp(aa ? aa : "", ab ? ab : "") == 0;
    without_reprs(aa, x, AF_DIFF_ARGS_MAX);
    without_reprs(ab, x + AF_DIFF_ARGS_MAX, AF_DIFF_ARGS_MAX);
    int same = strcmp(x, x + AF_DIFF_ARGS_MAX) == 0;
    free(x);
    return same;
}

/* ---- op exits ------------------------------------------------------------- */

/* Normalised detail text: CancelledError(...) in gather results loses its
 * message. */
static void detail_text(const af_event *e, char *buf, size_t cap)
{
    switch (e->detail) {
    case AF_DETAIL_BOOL:
        snprintf(buf, cap, "%s", e->detail_a ? "True" : "False");
        return;
    case AF_DETAIL_PAIR:
        snprintf(buf, cap, "(%lld, %lld)", (long long)e->detail_a, (long long)e->detail_b);
        return;
    case AF_DETAIL_STR: {
        size_t o = 0;
        for (const char *p = e->detail_str ? e->detail_str : ""; *p && o + 1 < cap;) {
            if (!strncmp(p, "CancelledError(", 15)) {
                const char *q = matching(p + 14);
                o += (size_t)snprintf(buf + o, cap - o, "CancelledError()");
                p = q;
                continue;
            }
            buf[o++] = *p++;
        }
        buf[o < cap ? o : cap - 1] = '\0';
        return;
    }
    default:
        snprintf(buf, cap, "None");
        return;
    }
}

static int op_exit_of(const side *d, int op)
{
    for (int i = 0; i < d->cut; i++)
        if (d->tr->events[i].kind == AF_EV_OP_EXIT && d->tr->events[i].op == op)
            return i;
    return -1;
}

/* Whether op sits in a finally clause (at any depth). */
static int in_finally(const af_scenario *s, int op)
{
    for (int g = 0; op >= 0 && op < s->nops && g < AF_MAX_OPS; g++) {
        int p = s->ops[op].parent;
        if (p < 0)
            return 0;
        for (int k = s->ops[p].finally_body.head; k != AF_NIL; k = s->ops[k].next)
            if (k == op)
                return 1;
        op = p;
    }
    return 0;
}

/* ---- tasks ----------------------------------------------------------------- */

/* The first task of a name in a run: its task_new and its end (up to the
 * cut), and whether it ran (an event of it besides task_new / task_done). */
typedef struct tside {
    int id, new_ev, done_ev, ran;
} tside;

static tside task_by_name(const side *d, const char *name)
{
    tside t = {-1, -1, -1, 0};
    for (int i = 0; i < d->tr->nevents; i++) {
        const af_event *e = &d->tr->events[i];
        if (t.id < 0) {
            if (e->kind == AF_EV_TASK_NEW && e->name && !strcmp(e->name, name)) {
                t.id = e->task;
                t.new_ev = i;
            }
            continue;
        }
        if (e->task != t.id || i >= d->cut)
            continue;
        if (e->kind == AF_EV_TASK_DONE && t.done_ev < 0)
            t.done_ev = i;
        else if (e->kind != AF_EV_TASK_NEW && e->kind != AF_EV_CANCEL)
            t.ran = 1;
    }
    return t;
}

/* ---- the comparison ------------------------------------------------------------ */

/* The first difference found for one IR task. */
typedef struct diff {
    int found;
    int lib; /* at an op the target provides */
    af_rule rule;
    int op, ev;
    char text[AF_VERDICT_EVIDENCE_MAX];
} diff;

typedef struct cmp {
    af_ctx *c;
    const af_scenario *s;
    const af_target_info *t;
    side a, b;                /* target, reference */
    int level;                /* level-cancellation declared */
    uint64_t skip;            /* IR tasks not compared (unstarted-children-run) */
    diff first[AF_MAX_TASKS]; /* per IR task, its first difference */
} cmp;

static const char *ir_task_name(const cmp *m, int ir)
{
    return ir >= 0 && ir < m->s->ntasks ? m->s->tasks[ir].name : "?";
}

static int skipped(const cmp *m, int ir)
{
    return ir >= 0 && ir < 64 && ((m->skip >> ir) & 1);
}

/* Note a difference of IR task ir: kept when it is the task's first, or
 * the first at an op the target provides (lib) after differences at stock
 * asyncio's ops only (an enclosing gather or shield that ended otherwise
 * because the library's timeout inside it did: the verdict belongs to the
 * library's primitive). */
static void note(cmp *m, int ir, int lib, af_rule rule, int op, int ev, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void note(cmp *m, int ir, int lib, af_rule rule, int op, int ev, const char *fmt, ...)
{
    if (ir < 0 || ir >= m->s->ntasks || (m->first[ir].found && !(lib && !m->first[ir].lib)))
        return;
    diff *d = &m->first[ir];
    d->found = 1;
    d->lib = lib;
    d->rule = rule;
    d->op = op;
    d->ev = ev;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
}

static const char *exit_words(const af_event *e, char *buf, size_t cap)
{
    if (!e)
        snprintf(buf, cap, "not ended");
    else if (e->exit == AF_OPEXIT_OK)
        snprintf(buf, cap, "ok at tick %lld", (long long)e->vtime);
    else
        snprintf(buf, cap, "%s%.60s at tick %lld", e->exc_type, e->exc_args ? e->exc_args : "",
                 (long long)e->vtime);
    return buf;
}

/* Every structured op, in document order: how it ended, when, and its
 * detail. */
static void compare_ops(cmp *m)
{
    for (int op = 0; op < m->s->nops; op++) {
        int ir = m->s->ops[op].task;
        if (skipped(m, ir) || (m->level && in_finally(m->s, op)))
            continue;
        int ia = op_exit_of(&m->a, op), ib = op_exit_of(&m->b, op);
        if (ia < 0 && ib < 0)
            continue;
        const af_event *ea = ia >= 0 ? &m->a.tr->events[ia] : NULL;
        const af_event *eb = ib >= 0 ? &m->b.tr->events[ib] : NULL;
        char da[160] = "", db[160] = "", wa[160], wb[160];
        int same = ea && eb && ea->exit == eb->exit && (m->t->realtime || ea->vtime == eb->vtime) &&
                   (ea->exit == AF_OPEXIT_OK ||
                    exc_alike(m->t, ea->exc_type, ea->exc_args, eb->exc_type, eb->exc_args));
        if (ea)
            detail_text(ea, da, sizeof da);
        if (eb)
            detail_text(eb, db, sizeof db);
        if (same && strcmp(da, db) == 0)
            continue;
        note(m, ir, af_target_runs_op(m->t, m->s->ops[op].kind), AF_RULE_DIFF_OP_EXIT, op, ia,
             "task %s: %s ended %s%s%s on %s, %s%s%s on stock asyncio", ir_task_name(m, ir),
             af_op_kind_name(m->s->ops[op].kind), exit_words(ea, wa, sizeof wa),
             da[0] ? ", detail " : "", da, m->t->name, exit_words(eb, wb, sizeof wb),
             db[0] ? ", detail " : "", db);
    }
}

/* How many events of `kind` for op (a finally, a caught) before the cut;
 * for a cancel op, the first request's return value + 1 (0: none made). */
static int op_count(const side *d, af_ev_kind kind, int op)
{
    int n = 0;
    for (int i = 0; i < d->cut; i++) {
        const af_event *e = &d->tr->events[i];
        if (e->kind != kind || e->op != op)
            continue;
        if (kind == AF_EV_CANCEL)
            return 1 + (e->returned != 0);
        n++;
    }
    return n;
}

static const char *cancel_words(int n)
{
    return n == 2 ? "returned True" : n == 1 ? "returned False" : "was not made";
}

static void compare_cleanup_and_cancels(cmp *m)
{
    for (int op = 0; op < m->s->nops; op++) {
        const af_op *o = &m->s->ops[op];
        int ir = o->task;
        if (skipped(m, ir))
            continue;
        if (o->kind == AF_OP_TRY && o->has_finally) {
            int fa = op_count(&m->a, AF_EV_FINALLY, op) > 0;
            int fb = op_count(&m->b, AF_EV_FINALLY, op) > 0;
            if (fa != fb)
                note(m, ir, 0, AF_RULE_DIFF_CLEANUP, op, -1,
                     "task %s: the finally clause %s on %s and %s on stock asyncio",
                     ir_task_name(m, ir), fa ? "ran" : "did not run", m->t->name,
                     fb ? "ran" : "did not");
        }
        if (o->kind == AF_OP_CANCEL) {
            int ca = op_count(&m->a, AF_EV_CANCEL, op), cb = op_count(&m->b, AF_EV_CANCEL, op);
            if (ca != cb)
                note(m, ir, 0, AF_RULE_DIFF_CANCEL, op, -1,
                     "task %s: cancel() %s on %s, %s on stock asyncio", ir_task_name(m, ir),
                     cancel_words(ca), m->t->name, cancel_words(cb));
        }
        if ((o->kind == AF_OP_TRY || o->kind == AF_OP_EXCEPT_STAR) && !m->level) {
            int ca = op_count(&m->a, AF_EV_CAUGHT, op), cb = op_count(&m->b, AF_EV_CAUGHT, op);
            if (ca != cb)
                note(m, ir, 0, AF_RULE_DIFF_CANCEL, op, -1,
                     "task %s: the handler caught %d CancelledError(s) on %s, %d on stock "
                     "asyncio",
                     ir_task_name(m, ir), ca, m->t->name, cb);
        }
    }
}

static const char *end_words(const side *d, const tside *t, char *buf, size_t cap)
{
    if (t->id < 0)
        snprintf(buf, cap, "never created");
    else if (t->done_ev < 0)
        snprintf(buf, cap, "still pending");
    else {
        const af_event *e = &d->tr->events[t->done_ev];
        snprintf(buf, cap, "%s%s%.80s", af_outcome_name(e->outcome),
                 e->exc_type && e->exc_type[0] ? " " : "", e->exc_type ? e->exc_type : "");
    }
    return buf;
}

static int ends_alike(const cmp *m, const tside *x, const tside *y)
{
    if (x->id < 0 || y->id < 0)
        return x->id < 0 && y->id < 0;
    if (x->done_ev < 0 || y->done_ev < 0)
        return x->done_ev < 0 && y->done_ev < 0;
    const af_event *ea = &m->a.tr->events[x->done_ev], *eb = &m->b.tr->events[y->done_ev];
    if (ea->outcome != eb->outcome)
        return 0;
    return ea->outcome != AF_OUT_EXCEPTION ||
           exc_alike(m->t, ea->exc_type, ea->exc_args, eb->exc_type, eb->exc_args);
}

/* With unstarted-children-run declared: the IR tasks that never ran on the
 * reference (cancelled before their first step) and ended cancelled on the
 * target, whatever they did there. */
static uint64_t unstarted_children(cmp *m)
{
    uint64_t skip = 0;
    if (!af_target_has_difference(m->t, AF_DIFF_UNSTARTED_CHILDREN_RUN))
        return 0;
    for (int ir = 1; ir < m->s->ntasks && ir < 64; ir++) {
        tside x = task_by_name(&m->a, m->s->tasks[ir].name);
        tside y = task_by_name(&m->b, m->s->tasks[ir].name);
        if (y.id >= 0 && !y.ran && y.done_ev >= 0 &&
            m->b.tr->events[y.done_ev].outcome == AF_OUT_CANCELLED && x.done_ev >= 0 &&
            m->a.tr->events[x.done_ev].outcome == AF_OUT_CANCELLED)
            skip |= UINT64_C(1) << ir;
    }
    return skip;
}

static void compare_ends(cmp *m)
{
    for (int ir = 0; ir < m->s->ntasks; ir++) {
        if (skipped(m, ir))
            continue;
        const char *name = m->s->tasks[ir].name;
        tside x = task_by_name(&m->a, name), y = task_by_name(&m->b, name);
        if (ends_alike(m, &x, &y))
            continue;
        char wa[128], wb[128];
        note(m, ir, 0, AF_RULE_DIFF_TASK_END,
             x.id >= 0 ? af_ctx_open_op(m->c, x.id, x.done_ev >= 0 ? x.done_ev : m->a.cut)
                       : m->s->tasks[ir].parent,
             x.done_ev, "task %s ended %s on %s, %s on stock asyncio", name,
             end_words(&m->a, &x, wa, sizeof wa), m->t->name, end_words(&m->b, &y, wb, sizeof wb));
    }
}

/* Whether a child task of op differs: then op's own difference (a gather's
 * results, a group's exception) only follows from it. */
static int child_differs(const cmp *m, int op)
{
    for (int t = m->s->ops[op].children.head; t != AF_NIL; t = m->s->tasks[t].next)
        if (m->first[t].found)
            return 1;
    return 0;
}

/* One verdict per task, at its first difference, but for a difference of
 * an op waiting for a child that differs itself. */
static void report(cmp *m)
{
    for (int ir = 0; ir < m->s->ntasks; ir++) {
        const diff *d = &m->first[ir];
        if (!d->found || (d->op >= 0 && d->rule == AF_RULE_DIFF_OP_EXIT && child_differs(m, d->op)))
            continue;
        int task = af_ctx_probe_of_ir(m->c, ir);
        if (af_emit(m->c, d->rule, task, d->op, d->ev, "%s", d->text))
            af_cause_last(m->c, AF_CR_DIFF_OUTCOME,
                          "%s ran the scenario to another outcome than stock asyncio", m->t->name);
    }
}

/* Whether a scenario cancel op aims at a child of a task group (its
 * children, or spawned into it). */
static int cancels_group_child(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++) {
        const af_op *o = &s->ops[i];
        if (o->kind != AF_OP_CANCEL || o->ref < 0 || o->ref >= s->ntasks)
            continue;
        int p = s->tasks[o->ref].parent;
        if (p < 0)
            continue;
        const af_op *po = &s->ops[p];
        if (po->kind == AF_OP_TASKGROUP ||
            ((po->kind == AF_OP_SPAWN || po->kind == AF_OP_START) && po->ref != AF_NIL))
            return 1;
    }
    return 0;
}

/* Whether the scenario runs a loop inside the running one (nested_run,
 * reenter): stock asyncio refuses what a re-entrant loop runs, so it is no
 * reference for such a scenario (the nested-loop oracle's re-entrant rules
 * judge it). */
static int has_nested_run(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == AF_OP_NESTED_RUN || s->ops[i].kind == AF_OP_REENTER)
            return 1;
    return 0;
}

/* Whether a KeyboardInterrupt / SystemExit escaped the loop in tr: the run
 * was interrupted where that loop let it out (asyncio and uvloop at other
 * points), and what follows is the harness's cleanup, not the scenario. */
static int escaped(const af_trace *tr)
{
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        if ((e->kind == AF_EV_TASK_DONE || e->kind == AF_EV_END) &&
            e->outcome == AF_OUT_EXCEPTION && af_exc_is_escape(e->exc_type))
            return 1;
    }
    return 0;
}

/* Whether some target-caused verdict of `ref` has no verdict of the same
 * base signature in `tgt`. */
static int reference_only_verdict(const af_verdict_list *tgt, const af_verdict_list *ref)
{
    for (int i = 0; i < ref->count; i++) {
        if (ref->items[i].cause != AF_CAUSE_TARGET)
            continue;
        int shared = 0;
        for (int j = 0; j < tgt->count && !shared; j++)
            shared = tgt->items[j].base_signature == ref->items[i].base_signature;
        if (!shared)
            return 1;
    }
    return 0;
}

static int target_verdicts(const af_verdict_list *v)
{
    for (int i = 0; i < v->count; i++)
        if (v->items[i].cause == AF_CAUSE_TARGET)
            return 1;
    return 0;
}

int af_judge_differential(const af_scenario *s, const af_target_info *target, const af_trace *tr,
                          const af_verdict_list *verdicts, const af_trace *ref_tr,
                          const af_verdict_list *ref_verdicts, af_verdict_list *out)
{
    if (!s || !target || tr->overflow || ref_tr->overflow || af_scenario_has_misuse(s))
        return 0;
    if (reference_only_verdict(verdicts, ref_verdicts))
        return 0;
    if (af_target_has_difference(target, AF_DIFF_SCHEDULING) && !target_verdicts(verdicts))
        return 0;
    if ((target->reentrant && has_nested_run(s)) || escaped(tr) || escaped(ref_tr))
        return 0;
    if (af_target_has_difference(target, AF_DIFF_CHILD_CANCEL_ABORTS_GROUP) &&
        af_target_runs_op(target, AF_OP_TASKGROUP) && cancels_group_child(s))
        return 0;
    af_ctx *c = malloc(sizeof *c);
    cmp *m = calloc(1, sizeof *m);
    if (!c || !m) {
        free(c);
        free(m);
        return 0;
    }
    af_ctx_build(c, s, tr, out);
    *m = (cmp){.c = c, .s = s, .t = target, .a = side_of(tr), .b = side_of(ref_tr)};
    m->level = af_target_has_difference(target, AF_DIFF_LEVEL_CANCELLATION);
    int first = out->count;
    if (m->a.budget >= 0 || m->b.budget >= 0) {
        const af_event *ba = m->a.budget >= 0 ? &tr->events[m->a.budget] : NULL;
        const af_event *bb = m->b.budget >= 0 ? &ref_tr->events[m->b.budget] : NULL;
        if (!ba || !bb || ba->budget != bb->budget)
            note(m, 0, 0, AF_RULE_DIFF_BUDGET, af_ctx_open_op(c, 0, m->a.cut), m->a.budget,
                 "the run %s%s on %s, %s%s on stock asyncio", ba ? "was stopped by " : "ended",
                 ba ? af_budget_name(ba->budget) : "", target->name,
                 bb ? "was stopped by " : "ended", bb ? af_budget_name(bb->budget) : "");
    } else {
        m->skip = unstarted_children(m);
        compare_ops(m);
        compare_cleanup_and_cancels(m);
        compare_ends(m);
    }
    report(m);
    free(m);
    free(c);
    af_verdicts_finish(s, target, out, first);
    return out->count - first;
}
