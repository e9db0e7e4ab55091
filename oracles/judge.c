/* judge.c - af_judge: build the shared context from a trace and run every
 * oracle (all but differential, which needs two traces: af_judge_run_
 * differential runs both and calls oracles/differential.c).
 *
 * An overflowed trace is incomplete: oracles that decide from the absence
 * of an event (a release, a finally, a delivery) would report facts that
 * are only missing from the record, so af_judge runs only the oracles that
 * decide from an event's presence on such a trace (oracle_runs below).
 *
 * After the oracles, one cause rule that concerns all of them (AWAIT_CYCLE
 * in base/oracles.def): tasks that
 * await each other in a cycle (t awaits u while u, through its own awaits,
 * the structured ops that wait for their children and the task groups
 * that wait for the tasks spawned or started into them, waits for t), and
 * the tasks that wait for one of those. Such a scenario deadlocks by
 * construction, and a cancel entering the cycle recurses through it
 * (Task.cancel cancels what the task waits on) until RecursionError,
 * leaving cancelling() counts in the hundreds; the tasks left pending are
 * destroyed at the final collection, where their finally clauses run
 * outside any task: verdicts about these tasks are the scenario's, not
 * asyncio's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/runner.h"
#include "oracles/oracle.h"

/* 1 + the highest task id any event names (task or parent), at most
 * AF_CTX_MAX_TASKS: the per-task slots af_ctx_build initialises. */
static int task_slots(const af_trace *tr)
{
    int hi = 0;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        int m = e->task > e->parent ? e->task : e->parent;
        if (m + 1 > hi)
            hi = m + 1;
    }
    return hi < AF_CTX_MAX_TASKS ? hi : AF_CTX_MAX_TASKS;
}

/* A task_new event (index i): the task's slot, its owner and the first
 * probe id of its IR task. */
static void note_task_new(af_ctx *c, const af_scenario *s, const af_event *e, int i)
{
    af_tinfo *t = (e->task >= 0 && e->task < c->nslots) ? &c->tasks[e->task] : NULL;
    if (!t || t->seen)
        return;
    t->seen = 1;
    t->new_ev = i;
    t->done_ev = -1;
    t->pending_ev = -1;
    t->parent = e->parent;
    t->op = e->op;
    t->ir_task = e->ir_task;
    t->name = e->name;
    if (e->task + 1 > c->ntasks)
        c->ntasks = e->task + 1;
    if (e->ir_task >= 0 && e->ir_task < AF_MAX_TASKS && c->ir_to_probe[e->ir_task] < 0)
        c->ir_to_probe[e->ir_task] = e->task;
    /* the IR task whose code it runs or serves */
    t->ir_owner = e->ir_task;
    if (t->ir_owner < 0 && s && e->op >= 0 && e->op < s->nops)
        t->ir_owner = s->ops[e->op].task;
    if (t->ir_owner < 0 && e->parent >= 0 && e->parent < c->nslots && c->tasks[e->parent].seen)
        t->ir_owner = c->tasks[e->parent].ir_owner;
}

/* A KeyboardInterrupt / SystemExit of type exc_type escaped a task. */
static void note_escape(af_ctx *c, const char *exc_type)
{
    c->escaped = 1;
    if (!c->escape_type)
        c->escape_type = exc_type;
}

/* Only the slots of tasks the trace names are initialised (the context is
 * ~125 KiB; clearing all of it cost more than every oracle together). */
void af_ctx_build(af_ctx *c, const af_scenario *s, const af_trace *tr, af_verdict_list *out)
{
    c->s = s;
    c->target = NULL;
    c->tr = tr;
    c->out = out;
    c->added = 0;
    c->ntasks = 0;
    c->nslots = task_slots(tr);
    c->escaped = 0;
    c->escape_type = NULL;
    c->budget_ev = -1;
    c->end_ev = -1;
    c->last = -1;
    c->ledger_sink = NULL;
    c->ledger_arg = NULL;
    memset(c->tasks, 0, (size_t)c->nslots * sizeof c->tasks[0]);
    for (int i = 0; i < c->nslots; i++) {
        c->leak_memo[i] = -1;
        c->leak_misuse_op[i] = -1;
    }
    for (int i = 0; i < AF_MAX_TASKS; i++)
        c->ir_to_probe[i] = -1;
    for (int i = 0; i < tr->nevents; i++) {
        const af_event *e = &tr->events[i];
        af_tinfo *t = (e->task >= 0 && e->task < c->nslots) ? &c->tasks[e->task] : NULL;
        switch (e->kind) {
        case AF_EV_TASK_NEW:
            note_task_new(c, s, e, i);
            break;
        case AF_EV_TASK_DONE:
            if (t && t->seen && t->done_ev < 0)
                t->done_ev = i;
            if (e->outcome == AF_OUT_EXCEPTION && af_exc_is_escape(e->exc_type))
                note_escape(c, e->exc_type);
            break;
        case AF_EV_PENDING:
            if (t && t->seen && t->pending_ev < 0)
                t->pending_ev = i;
            break;
        case AF_EV_END:
            if (c->end_ev < 0)
                c->end_ev = i;
            if (e->outcome == AF_OUT_EXCEPTION && af_exc_is_escape(e->exc_type))
                note_escape(c, e->exc_type);
            break;
        case AF_EV_BUDGET:
            if (c->budget_ev < 0)
                c->budget_ev = i;
            break;
        default:
            break;
        }
    }
}

/* A target verdict about a task of a waits-for cycle, decided at or after
 * the cycle closed (every await / child wait on it that ran had been
 * entered), is the cycle's: the scenario deadlocks or recurses by
 * construction. Before that, no task of it waited on another through the
 * cycle. */
static void attribute_await_cycles(const af_scenario *s, const af_trace *tr, af_verdict_list *out,
                                   int first)
{
    if (!s)
        return;
    uint32_t cycle = af_await_cycle_tasks(s);
    int closed = cycle ? af_await_cycle_closed(s, tr, cycle) : -1;
    if (closed < 0)
        return;
    for (int i = first; i < out->count; i++) {
        af_verdict *v = &out->items[i];
        /* asyncio's own tasks (wait_for's inner task on 3.11) run code of
         * the IR task whose op created them */
        int t = v->ir_task;
        if (t < 0 && v->op >= 0 && v->op < s->nops)
            t = s->ops[v->op].task;
        if (v->cause != AF_CAUSE_TARGET || t < 0 || t >= AF_MAX_TASKS || !(cycle & (1u << t)) ||
            (v->event >= 0 && v->event < closed))
            continue;
        af_blame b = af_because(AF_CR_AWAIT_CYCLE, v->cause_why, sizeof v->cause_why,
                                "the scenario's tasks await each other in a cycle");
        v->cause = b.cause;
        v->cause_rule = b.rule;
    }
}

/* The cause is part of the signature: the same fact caused by a misuse
 * op and by the target are two findings ("...|misuse"), and a target
 * finding is never deduplicated into a misuse one. Target verdicts keep
 * the plain "<oracle>|<primitive>|<reason>". So is the target, when it is
 * not stock asyncio: "...|@async-timeout" (base_signature: without it). */
void af_verdicts_finish(const af_scenario *s, const af_target_info *target, af_verdict_list *out,
                        int first)
{
    (void)s;
    for (int i = first; i < out->count; i++) {
        af_verdict *v = &out->items[i];
        size_t n = strlen(v->signature_text);
        if (v->cause != AF_CAUSE_TARGET)
            n += (size_t)snprintf(v->signature_text + n, sizeof v->signature_text - n, "|%s",
                                  af_cause_name(v->cause));
        v->base_signature = af_hash64(v->signature_text, strlen(v->signature_text));
        if (target && !target->stock && n < sizeof v->signature_text) {
            snprintf(v->signature_text + n, sizeof v->signature_text - n, "|@%s", target->name);
            snprintf(v->target, sizeof v->target, "%s", target->name);
        }
        v->signature = af_hash64(v->signature_text, strlen(v->signature_text));
    }
}

/* The kind of the innermost asyncio primitive on a verdict's op path (the
 * one its signature names), AF_OP_KIND_COUNT for none. */
static af_op_kind verdict_primitive(const af_verdict *v)
{
    const char *text = v->signature_text, *bar = strchr(text, '|');
    const char *end = bar ? strchr(bar + 1, '|') : NULL;
    char kind[32];
    if (!bar || !end || end - bar - 1 >= (long)sizeof kind)
        return AF_OP_KIND_COUNT;
    snprintf(kind, sizeof kind, "%.*s", (int)(end - bar - 1), bar + 1);
    int k = af_op_kind_from_name(kind);
    return k < 0 ? AF_OP_KIND_COUNT : (af_op_kind)k;
}

int af_verdicts_drop_shared(const af_target_info *target, af_verdict_list *v,
                            const af_verdict_list *ref)
{
    int n = 0, dropped = 0, ref_target_caused = 0;
    for (int j = 0; j < ref->count; j++)
        ref_target_caused |= ref->items[j].cause == AF_CAUSE_TARGET;
    for (int i = 0; i < v->count; i++) {
        int shared = 0;
        for (int j = 0; j < ref->count && !shared; j++)
            shared = ref->items[j].base_signature == v->items[i].base_signature;
        if (ref_target_caused && !af_target_runs_op(target, verdict_primitive(&v->items[i])))
            shared = 1;
        if (shared && v->items[i].oracle != AF_ORACLE_DIFFERENTIAL)
            dropped++;
        else
            v->items[n++] = v->items[i];
    }
    v->count = n;
    return dropped;
}

int af_judge_run(af_runner *r, const af_scenario *s, af_trace *tr, af_verdict_list *verdicts,
                 af_error *err)
{
    if (verdicts)
        af_verdict_list_init(verdicts);
    if (af_runner_run(r, s, tr, err) < 0)
        return -1;
    if (verdicts)
        af_judge_target(s, tr, af_runner_target(r), verdicts);
    return 0;
}

int af_judge_run_differential(af_runner *r, af_runner *ref, const af_scenario *s, af_trace *tr,
                              af_verdict_list *verdicts, af_trace *ref_tr,
                              af_verdict_list *ref_verdicts, af_error *err)
{
    if (af_judge_run(r, s, tr, verdicts, err) < 0 ||
        af_judge_run(ref, s, ref_tr, ref_verdicts, err) < 0)
        return -1;
    af_judge_differential(s, af_runner_target(r), tr, verdicts, ref_tr, ref_verdicts, verdicts);
    return 0;
}

/* The oracles, one function each (a function may fire several: budget
 * fires hang and deadlock, cancellation the five cancellation.* oracles),
 * in the order they run: their verdicts are listed in that order. One
 * that decides from an event's absence (a release, a finally, a delivery)
 * runs on complete traces only. */
void af_oracle_budget(af_ctx *c);
void af_oracle_leaked_task(af_ctx *c);
void af_oracle_nested_loop(af_ctx *c);
void af_oracle_lost_exception(af_ctx *c);
void af_oracle_blocking(af_ctx *c);
void af_oracle_cleanup(af_ctx *c);
void af_oracle_loop(af_ctx *c);

enum { ANY_TRACE = 0, COMPLETE_TRACE = 1 };
static const struct {
    void (*run)(af_ctx *c);
    int needs;
} oracle_runs[] = {
    {af_oracle_budget, ANY_TRACE},            /* hang, deadlock */
    {af_oracle_leaked_task, ANY_TRACE},       /* leaked-task */
    {af_oracle_nested_loop, ANY_TRACE},       /* nested-loop */
    {af_oracle_lost_exception, ANY_TRACE},    /* lost-exception */
    {af_oracle_blocking, ANY_TRACE},          /* blocking */
    {af_oracle_cancellation, COMPLETE_TRACE}, /* cancellation.* */
    {af_oracle_cleanup, COMPLETE_TRACE},      /* cleanup */
    {af_oracle_loop, COMPLETE_TRACE},         /* loop.order, loop.stop, loop.handle */
};

int af_judge(const af_scenario *s, const af_trace *tr, af_verdict_list *out)
{
    return af_judge_target(s, tr, NULL, out);
}

int af_judge_target(const af_scenario *s, const af_trace *tr, const af_target_info *target,
                    af_verdict_list *out)
{
    af_ctx *c = malloc(sizeof *c);
    if (!c)
        return 0;
    af_ctx_build(c, s, tr, out);
    c->target = target;
    int first = out->count;
    for (size_t i = 0; i < sizeof oracle_runs / sizeof oracle_runs[0]; i++)
        if (!tr->overflow || oracle_runs[i].needs == ANY_TRACE)
            oracle_runs[i].run(c);
    int added = c->added;
    free(c);
    attribute_await_cycles(s, tr, out, first);
    af_verdicts_finish(s, target, out, first);
    return added;
}
