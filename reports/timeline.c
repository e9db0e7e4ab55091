/* timeline.c - the timeline model of one run (timeline.h): slots from the
 * trace's (vtime, iteration) pairs, a lane per task with the ops it was
 * inside and its marks, the ledger's requests, the verdict's moment. Lays
 * out; decides nothing (the fates are the ledger's, the verdict the
 * finding's).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracles/verdict.h"
#include "reports/timeline.h"

static const char *const kind_names[AF_TL_KIND_COUNT] = {
    "created", "result",   "exception", "cancelled", "pending", "raise",
    "caught",  "loop-exc", "request",   "settled",   "verdict",
};

const char *af_tl_kind_name(af_tl_kind k)
{
    return k >= 0 && k < AF_TL_KIND_COUNT ? kind_names[k] : NULL;
}

/* ---- the axis ---- */

/* Slot of each event; the slots' vtime, iteration and position. */
static int build_slots(const af_trace *tr, af_timeline *t, int *ev_slot)
{
    int n = 0;
    t->slot_vtime = malloc((size_t)(tr->nevents + 1) * sizeof *t->slot_vtime);
    t->slot_iter = malloc((size_t)(tr->nevents + 1) * sizeof *t->slot_iter);
    t->slot_pos = malloc((size_t)(tr->nevents + 1) * sizeof *t->slot_pos);
    if (!t->slot_vtime || !t->slot_iter || !t->slot_pos)
        return -1;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        if (n == 0 || e->vtime != t->slot_vtime[n - 1] || e->iter != t->slot_iter[n - 1]) {
            t->slot_vtime[n] = e->vtime;
            t->slot_iter[n] = e->iter;
            double gap = 1.0;
            if (n > 0 && e->vtime > t->slot_vtime[n - 1])
                gap += 0.75 * log2(1.0 + (double)(e->vtime - t->slot_vtime[n - 1]));
            t->slot_pos[n] = n == 0 ? 0.0 : t->slot_pos[n - 1] + gap;
            n++;
        }
        ev_slot[i] = n - 1;
    }
    t->nslots = n;
    return 0;
}

/* ---- lanes ---- */

typedef struct build {
    const af_scenario *s;
    const af_trace *tr;
    af_timeline *t;
    int *ev_slot;
    int *lane_of; /* probe id -> lane, -1 */
    int ntask_ids;
    int failed;
} build;

static int lane_of(const build *b, int task)
{
    return task >= 0 && task < b->ntask_ids ? b->lane_of[task] : -1;
}

static const char *task_name(const build *b, int task)
{
    int l = lane_of(b, task);
    if (l >= 0)
        return b->t->lanes[l].name;
    return task < 0 ? "(no task)" : "a task not drawn";
}

static void op_label(const build *b, int op, char *buf, size_t cap)
{
    if (b->s && op >= 0 && op < b->s->nops)
        snprintf(buf, cap, "%s", af_op_kind_name(b->s->ops[op].kind));
    else if (op >= 0)
        snprintf(buf, cap, "op %d", op);
    else
        snprintf(buf, cap, "asyncio");
}

/* Room for item n of an array grown by doubling (capacity 4, 8, 16 ...). */
static int grow(void **items, int n, size_t size)
{
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return 0;
    void *p = realloc(*items, (size_t)(n ? 2 * n : 4) * size);
    if (!p)
        return -1;
    *items = p;
    return 0;
}

__attribute__((format(printf, 5, 6))) static af_tl_mark *
add_mark(build *b, int lane, af_tl_kind kind, int ev, const char *fmt, ...)
{
    if (lane < 0 || b->failed)
        return NULL;
    af_tl_lane *L = &b->t->lanes[lane];
    if (grow((void **)&L->marks, L->nmarks, sizeof *L->marks) < 0) {
        b->failed = 1;
        return NULL;
    }
    af_tl_mark *m = &L->marks[L->nmarks++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->ev = ev;
    m->slot = ev >= 0 ? b->ev_slot[ev] : 0;
    m->request = m->from_lane = -1;
    const af_event *e = ev >= 0 ? &b->tr->events[ev] : NULL;
    int n = e ? snprintf(m->text, sizeof m->text,
                         "vtime %lld, iteration %lld: ", (long long)e->vtime, (long long)e->iter)
              : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->text + n, sizeof m->text - (size_t)n, fmt, ap);
    va_end(ap);
    return m;
}

/* The tasks, in creation order; the first AF_TL_MAX_LANES get a lane, and
 * the verdict's task always does (in the last lane when it comes later). */
static int build_lanes(build *b, int verdict_task)
{
    int hi = -1, n = 0;
    int *order = malloc((size_t)(b->tr->nevents + 1) * sizeof *order);
    for (int i = 0; i < b->tr->nevents; i++)
        if (b->tr->events[i].kind == AF_EV_TASK_NEW && b->tr->events[i].task > hi)
            hi = b->tr->events[i].task;
    b->ntask_ids = hi + 1;
    b->lane_of = malloc((size_t)(hi + 2) * sizeof *b->lane_of);
    b->t->lanes = calloc(AF_TL_MAX_LANES, sizeof *b->t->lanes);
    if (!order || !b->lane_of || !b->t->lanes) {
        free(order);
        return -1;
    }
    int *first_ev = malloc((size_t)(hi + 2) * sizeof *first_ev);
    if (!first_ev) {
        free(order);
        return -1;
    }
    for (int k = 0; k <= hi; k++)
        b->lane_of[k] = first_ev[k] = -1;
    bool verdict_early = false;
    for (int i = 0; i < b->tr->nevents; i++) {
        const af_event *e = &b->tr->events[i];
        if (e->kind != AF_EV_TASK_NEW || e->task < 0 || first_ev[e->task] >= 0)
            continue;
        first_ev[e->task] = i;
        verdict_early |= e->task == verdict_task && n < AF_TL_MAX_LANES;
        order[n++] = e->task;
    }
    for (int k = 0; k < n; k++) {
        int task = order[k];
        bool keep = k < AF_TL_MAX_LANES - 1 || task == verdict_task ||
                    (k == AF_TL_MAX_LANES - 1 && (verdict_early || verdict_task < 0 ||
                                                  verdict_task > hi || first_ev[verdict_task] < 0));
        if (!keep) {
            b->t->lanes_left_out++;
            continue;
        }
        int i = first_ev[task];
        af_tl_lane *L = &b->t->lanes[b->t->nlanes];
        L->task = task;
        snprintf(L->name, sizeof L->name, "%s",
                 b->tr->events[i].name ? b->tr->events[i].name : "?");
        L->slot_new = b->ev_slot[i];
        L->slot_done = -1;
        b->lane_of[task] = b->t->nlanes++;
    }
    free(order);
    free(first_ev);
    return 0;
}

/* ---- spans: the ops a task was inside ---- */

typedef struct open_op {
    int op, slot, ev;
} open_op;

static void add_span(build *b, int lane, const open_op *o, int depth, int exit_ev)
{
    af_tl_lane *L = &b->t->lanes[lane];
    if (b->failed || grow((void **)&L->spans, L->nspans, sizeof *L->spans) < 0) {
        b->failed = 1;
        return;
    }
    af_tl_span *sp = &L->spans[L->nspans++];
    memset(sp, 0, sizeof *sp);
    const af_event *x = exit_ev >= 0 ? &b->tr->events[exit_ev] : NULL;
    sp->op = o->op;
    sp->slot0 = o->slot;
    sp->slot1 = x ? b->ev_slot[exit_ev] : b->t->nslots - 1;
    sp->depth = depth;
    sp->open = !x;
    sp->raised = x && x->exit == AF_OPEXIT_RAISE;
    op_label(b, o->op, sp->label, sizeof sp->label);
    if (depth + 1 > L->depth)
        L->depth = depth + 1;
    char path[AF_VERDICT_PATH_MAX] = "";
    if (b->s && o->op >= 0 && o->op < b->s->nops)
        af_op_path(b->s, o->op, path, sizeof path);
    const af_event *en = &b->tr->events[o->ev];
    if (!x)
        snprintf(sp->text, sizeof sp->text, "%s (%s): entered at vtime %lld, never exited",
                 sp->label, path, (long long)en->vtime);
    else
        snprintf(sp->text, sizeof sp->text, "%s (%s): vtime %lld to %lld, %s%s%s", sp->label, path,
                 (long long)en->vtime, (long long)x->vtime, sp->raised ? "raised " : "returned",
                 sp->raised ? x->exc_type : "",
                 sp->raised && x->exc_args && *x->exc_args ? x->exc_args : "");
}

static void build_spans(build *b)
{
    enum { DEPTH = 64 };
    open_op(*stack)[DEPTH] = calloc((size_t)b->t->nlanes, sizeof *stack);
    int *depth = calloc((size_t)b->t->nlanes + 1, sizeof *depth);
    if (!stack || !depth) {
        b->failed = 1;
        free(stack);
        free(depth);
        return;
    }
    for (int i = 0; i < b->tr->nevents; i++) {
        const af_event *e = &b->tr->events[i];
        int l = lane_of(b, e->task);
        if (l < 0)
            continue;
        if (e->kind == AF_EV_OP_ENTER && depth[l] < DEPTH)
            stack[l][depth[l]++] = (open_op){e->op, b->ev_slot[i], i};
        if (e->kind != AF_EV_OP_EXIT)
            continue;
        int d = depth[l] - 1;
        while (d >= 0 && stack[l][d].op != e->op)
            d--;
        if (d < 0)
            continue;
        for (int k = depth[l] - 1; k > d; k--) /* ops left without their exit */
            add_span(b, l, &stack[l][k], k, -1);
        add_span(b, l, &stack[l][d], d, i);
        depth[l] = d;
    }
    for (int l = 0; l < b->t->nlanes; l++)
        for (int k = depth[l] - 1; k >= 0; k--)
            add_span(b, l, &stack[l][k], k, -1);
    free(stack);
    free(depth);
}

/* ---- marks ---- */

static void task_marks(build *b)
{
    for (int i = 0; i < b->tr->nevents; i++) {
        const af_event *e = &b->tr->events[i];
        int l = lane_of(b, e->task);
        char op[48];
        switch (e->kind) {
        case AF_EV_TASK_NEW:
            add_mark(b, l, AF_TL_CREATED, i, "task %s created by %s", task_name(b, e->task),
                     task_name(b, e->parent));
            break;
        case AF_EV_TASK_DONE:
            if (l >= 0 && b->t->lanes[l].slot_done < 0)
                b->t->lanes[l].slot_done = b->ev_slot[i];
            if (e->outcome == AF_OUT_RESULT)
                add_mark(b, l, AF_TL_RESULT, i, "task %s finished with a result",
                         task_name(b, e->task));
            else
                add_mark(b, l, e->outcome == AF_OUT_CANCELLED ? AF_TL_CANCELLED : AF_TL_EXCEPTION,
                         i, "task %s finished %s %s%s (cancelling()=%d)", task_name(b, e->task),
                         e->outcome == AF_OUT_CANCELLED ? "cancelled:" : "with", e->exc_type,
                         e->exc_args ? e->exc_args : "", e->cancelling);
            break;
        case AF_EV_PENDING:
            add_mark(b, l, AF_TL_PENDING, i,
                     "task %s was still pending when the root finished (the harness cancels it)",
                     task_name(b, e->task));
            break;
        case AF_EV_OP_EXIT:
            if (e->exit != AF_OPEXIT_RAISE)
                break;
            op_label(b, e->op, op, sizeof op);
            add_mark(b, l, AF_TL_RAISE, i, "%s raised %s%s", op, e->exc_type,
                     e->exc_args ? e->exc_args : "");
            break;
        case AF_EV_CAUGHT:
            op_label(b, e->op, op, sizeof op);
            add_mark(b, l, AF_TL_CAUGHT, i, "the handler of %s caught %s(%s)", op, e->exc_type,
                     e->msg ? e->msg : "");
            break;
        case AF_EV_LOOP_EXC:
            add_mark(b, l, AF_TL_LOOP_EXC, i, "loop exception handler: %s (%s)",
                     e->msg ? e->msg : "", e->exc_type);
            break;
        default:
            break;
        }
    }
}

static const char *fate_sentence(af_request_fate f)
{
    switch (f) {
    case AF_FATE_OUTSTANDING:
        return "still outstanding when the trace ends";
    case AF_FATE_FORWARDED:
        return "forwarded to the task it awaited, which took it";
    case AF_FATE_WITHDRAWN:
        return "withdrawn by uncancel()";
    case AF_FATE_HANDLED:
        return "its CancelledError was caught and ended by a scenario handler";
    case AF_FATE_DELIVERED:
        return "delivered: the task ended cancelled";
    case AF_FATE_LOST:
        return "lost: its CancelledError was dropped";
    case AF_FATE_UNDELIVERED:
        return "undelivered: the task finished without it";
    case AF_FATE_COUNT:
        break;
    }
    return "?";
}

/* The ledger's requests: made on the target's lane (from the maker's
 * lane), settled where the ledger settled them. On an overflowed trace
 * the cancel events that returned True, fates unknown. */
static void request_marks(build *b)
{
    const af_request_list *rl = &b->t->requests;
    for (int r = 0; r < rl->count; r++) {
        const af_request_view *q = &rl->items[r];
        const af_event *e = &b->tr->events[q->made_ev];
        char msg[80];
        snprintf(msg, sizeof msg, e->msg ? "'%.60s'" : "None", e->msg);
        af_tl_mark *m =
            add_mark(b, lane_of(b, q->task), AF_TL_REQUEST, q->made_ev,
                     "cancel(%s) of %s by %s: request #%d, %s", msg, task_name(b, q->task),
                     task_name(b, q->by), r + 1, fate_sentence(q->fate));
        if (m) {
            m->fate = q->fate;
            m->request = r;
            m->from_lane = lane_of(b, q->by);
        }
        if (q->settled_ev < 0)
            continue;
        char op[48] = "";
        if (q->fate == AF_FATE_LOST)
            op_label(b, q->lost_op, op, sizeof op);
        m = add_mark(b, lane_of(b, q->task), AF_TL_SETTLED, q->settled_ev, "request #%d %s%s%s",
                     r + 1, fate_sentence(q->fate), *op ? " in " : "", op);
        if (m) {
            m->fate = q->fate;
            m->request = r;
        }
    }
    if (!b->t->overflow)
        return;
    for (int i = 0; i < b->tr->nevents; i++) {
        const af_event *e = &b->tr->events[i];
        if (e->kind != AF_EV_CANCEL || !e->returned)
            continue;
        af_tl_mark *m = add_mark(b, lane_of(b, e->task), AF_TL_REQUEST, i,
                                 "cancel() of %s by %s (the trace overflowed: its fate is unknown)",
                                 task_name(b, e->task), task_name(b, e->by_task));
        if (m)
            m->from_lane = lane_of(b, e->by_task);
    }
}

/* The verdict's deciding event: the re-judged verdict of that signature
 * (of that task first), else the last event of the task at that vtime,
 * else the last event at or before it. */
static int verdict_event(const build *b, const af_tl_verdict *v)
{
    af_verdict_list *list = malloc(sizeof *list);
    int ev = -1;
    if (list) {
        af_verdict_list_init(list);
        af_judge(b->s, b->tr, list);
        for (int pass = 0; pass < 2 && ev < 0; pass++)
            for (int k = 0; k < list->count && ev < 0; k++)
                if (list->items[k].signature == v->signature &&
                    (pass || list->items[k].task == v->task))
                    ev = list->items[k].event;
        free(list);
    }
    for (int i = b->tr->nevents - 1; i >= 0 && ev < 0; i--)
        if (b->tr->events[i].vtime == v->vtime && b->tr->events[i].task == v->task)
            ev = i;
    for (int i = b->tr->nevents - 1; i >= 0 && ev < 0; i--)
        if (b->tr->events[i].vtime <= v->vtime)
            ev = i;
    return ev;
}

static void place_verdict(build *b, const af_tl_verdict *v)
{
    af_timeline *t = b->t;
    t->verdict_lane = t->verdict_slot = -1;
    if (!v || b->tr->nevents == 0)
        return;
    int ev = verdict_event(b, v);
    if (ev < 0)
        return;
    int task = v->task >= 0 ? v->task : b->tr->events[ev].task;
    t->verdict_lane = lane_of(b, task) >= 0 ? lane_of(b, task) : 0;
    t->verdict_slot = b->ev_slot[ev];
    if (t->nlanes > 0)
        add_mark(b, t->verdict_lane, AF_TL_VERDICT, ev, "verdict: %s", v->text ? v->text : "");
}

int af_timeline_build(const af_scenario *s, const af_trace *tr, const af_tl_verdict *v,
                      af_timeline *out, af_error *err)
{
    memset(out, 0, sizeof *out);
    out->end_slot = out->budget_slot = out->verdict_lane = out->verdict_slot = -1;
    out->overflow = tr->overflow;
    build b = {s, tr, out, malloc((size_t)(tr->nevents + 1) * sizeof(int)), NULL, 0, 0};
    if (!b.ev_slot || build_slots(tr, out, b.ev_slot) < 0 ||
        build_lanes(&b, v ? v->task : -1) < 0 || af_requests_of_run(s, tr, &out->requests, err) < 0)
        b.failed = 1;
    for (int i = 0; i < tr->nevents && !b.failed; i++) {
        if (tr->events[i].kind == AF_EV_END && out->end_slot < 0)
            out->end_slot = b.ev_slot[i];
        if (tr->events[i].kind == AF_EV_BUDGET && out->budget_slot < 0)
            out->budget_slot = b.ev_slot[i];
    }
    if (!b.failed) {
        build_spans(&b);
        task_marks(&b);
        request_marks(&b);
        place_verdict(&b, v);
    }
    free(b.ev_slot);
    free(b.lane_of);
    if (b.failed) {
        af_timeline_free(out);
        af_error_set(err, "", "out of memory laying out a timeline");
        return -1;
    }
    return 0;
}

void af_timeline_free(af_timeline *t)
{
    for (int l = 0; t->lanes && l < t->nlanes; l++) {
        free(t->lanes[l].spans);
        free(t->lanes[l].marks);
    }
    free(t->lanes);
    free(t->slot_vtime);
    free(t->slot_iter);
    free(t->slot_pos);
    af_request_list_free(&t->requests);
    memset(t, 0, sizeof *t);
    t->end_slot = t->budget_slot = t->verdict_lane = t->verdict_slot = -1;
}
