/* nested_loop.c - nested-loop: a nested run inside the running loop did
 * not refuse cleanly, or, on a loop that declares itself re-entrant, broke
 * the re-entrant contract.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the `nested`
 * events (a nested_run op returned or raised inside the running loop), the
 * RuntimeWarnings "coroutine '...nested_target' was never awaited" (the
 * coroutine a nested_run op created), each located at its nested_run op;
 * and the nested_enter / nested_exit events of reenter ops, with what
 * happens while such a run is open (stop, stopped, loop_exc, the body
 * task's task_done). Whether the loop is re-entrant is the `loop` event's
 * (its adapter's REENTRANT); the harness's VirtualLoop is not.
 */
#include <string.h>

#include "oracles/oracle.h"

/* Whether the trace's loop declares itself re-entrant. */
static int reentrant_loop(const af_ctx *c)
{
    for (int i = 0; i < c->tr->nevents && i < 2; i++)
        if (c->tr->events[i].kind == AF_EV_LOOP)
            return c->tr->events[i].flag_a;
    return 0;
}

/* The rules of one `nested` event i: no-runtime-error (but on a
 * re-entrant loop), loop-state and coro-not-closed. Returns whether
 * coro-not-closed applied. */
static int judge_nested_run(af_ctx *c, int i, int reentrant)
{
    const af_event *e = &c->tr->events[i];
    const char *kind = e->name ? e->name : "?";
    int takes_coro = strcmp(kind, "run_forever") != 0;
    if (!reentrant && !af_exc_is_runtime_error(e->exc_type) &&
        af_emit(c, AF_RULE_NESTED_NO_RUNTIME_ERROR, e->task, e->op, i,
                "%s inside the running loop %s at vtime %lld instead of raising RuntimeError", kind,
                e->exc_type && e->exc_type[0] ? "raised another exception" : "returned",
                (long long)e->vtime))
        af_cause_last(c, AF_CR_NESTED_NOT_REFUSED,
                      "asyncio must refuse to run a loop that is already running");
    if (!e->flag_a && af_emit(c, AF_RULE_NESTED_LOOP_STATE, e->task, e->op, i,
                              "after %s at vtime %lld the outer loop is no longer running", kind,
                              (long long)e->vtime))
        af_cause_last(c, AF_CR_NESTED_LOOP_CHANGED,
                      "a refused nested run must leave the running loop as it was");
    if (!takes_coro || e->flag_b)
        return 0;
    if (af_emit(c, AF_RULE_NESTED_CORO_NOT_CLOSED, e->task, e->op, i,
                "%s at vtime %lld left the coroutine it was given unclosed (it will never be "
                "awaited)",
                kind, (long long)e->vtime))
        af_cause_last(c, AF_CR_NESTED_CORO, "the coroutine was handed to a nested run (misuse)");
    return 1;
}

static void emit_reenter(af_ctx *c, af_rule rule, const af_event *e, int i, const char *what)
{
    if (af_emit(c, rule, e->task, e->op, i, "%s (op %d) at vtime %lld: %s",
                e->name ? e->name : "nested run", e->op, (long long)e->vtime, what))
        af_cause_last(c, AF_CR_NESTED_REENTER,
                      "a loop must refuse a nested run before it starts anything, and a "
                      "re-entrant one keep the re-entrant contract");
}

/* A reenter op's nested_exit (event x) on a loop that is not re-entrant:
 * refused with RuntimeError, before making anything of the body, the loop
 * still running. */
static void judge_refusal(af_ctx *c, int x)
{
    const af_event *e = &c->tr->events[x];
    if (e->exit != AF_OPEXIT_RAISE || !af_exc_is_runtime_error(e->exc_type)) {
        if (af_emit(c, AF_RULE_NESTED_NO_RUNTIME_ERROR, e->task, e->op, x,
                    "%s inside the running loop %s at vtime %lld instead of raising RuntimeError",
                    e->name ? e->name : "?",
                    e->exit == AF_OPEXIT_OK ? "returned" : "raised another exception",
                    (long long)e->vtime))
            af_cause_last(c, AF_CR_NESTED_NOT_REFUSED,
                          "asyncio must refuse to run a loop that is already running");
    } else if (e->body_task >= 0) {
        emit_reenter(c, AF_RULE_NESTED_REFUSED_LATE, e, x,
                     "raised RuntimeError after making a task of the body, which runs anyway");
    }
    if (!e->flag_a && af_emit(c, AF_RULE_NESTED_LOOP_STATE, e->task, e->op, x,
                              "after %s at vtime %lld the outer loop is no longer running",
                              e->name ? e->name : "?", (long long)e->vtime))
        af_cause_last(c, AF_CR_NESTED_LOOP_CHANGED,
                      "a refused nested run must leave the running loop as it was");
}

/* The body task's task_done event, -1 while pending. */
static int body_done(const af_ctx *c, int body_task)
{
    const af_tinfo *t = af_ctx_task(c, body_task);
    return t ? t->done_ev : -1;
}

/* Whether a stop op ran between events a and b. */
static int stop_between(const af_ctx *c, int a, int b)
{
    for (int i = a + 1; i < b; i++)
        if (c->tr->events[i].kind == AF_EV_STOP)
            return 1;
    return 0;
}

/* A re-entrant loop's nested_exit (event x, its nested_enter at n): the
 * run's outcome is its body's. */
static void judge_reentrant_result(af_ctx *c, int n, int x)
{
    const af_event *e = &c->tr->events[x];
    int d = body_done(c, e->body_task);
    const af_event *b = d >= 0 ? &c->tr->events[d] : NULL;
    int same;
    if (e->exit == AF_OPEXIT_RAISE && af_exc_is_runtime_error(e->exc_type) &&
        stop_between(c, n, x))
        same = 1; /* a stop() ended the run before its body, as at top level */
    else if (!b)
        same = 0; /* the run ended, its body never did */
    else if (b->outcome == AF_OUT_RESULT)
        same = e->exit == AF_OPEXIT_OK;
    else if (b->outcome == AF_OUT_CANCELLED)
        same = e->exit == AF_OPEXIT_RAISE && af_exc_is_cancelled(e->exc_type);
    else
        same = e->exit == AF_OPEXIT_RAISE && e->exc_type && b->exc_type &&
               strcmp(e->exc_type, b->exc_type) == 0;
    if (same)
        return;
    char what[300];
    snprintf(what, sizeof what, "the nested run %s%s, its body task %s%s%s",
             e->exit == AF_OPEXIT_OK ? "returned" : "raised ",
             e->exit == AF_OPEXIT_OK ? "" : (e->exc_type ? e->exc_type : "?"),
             b ? af_outcome_name((af_outcome)b->outcome) : "is pending",
             b && b->exc_type && b->exc_type[0] ? " " : "", b && b->exc_type ? b->exc_type : "");
    emit_reenter(c, AF_RULE_REENTRANT_RESULT, e, x, what);
}

/* A re-entrant loop, events n..x of one nested run: a task step that
 * failed (RuntimeError in a callback) while it was open. */
static void judge_lost_steps(af_ctx *c, int n, int x)
{
    const af_event *e = &c->tr->events[x];
    for (int i = n + 1; i < x; i++) {
        const af_event *l = &c->tr->events[i];
        if (l->kind == AF_EV_LOOP_EXC && l->msg &&
            strncmp(l->msg, "Exception in callback", 21) == 0 &&
            af_exc_is_runtime_error(l->exc_type)) {
            char what[200];
            snprintf(what, sizeof what,
                     "a callback raised RuntimeError at vtime %lld while the nested run was open "
                     "(a task step dropped)",
                     (long long)l->vtime);
            emit_reenter(c, AF_RULE_REENTRANT_LOST_TASK, e, x, what);
            return;
        }
    }
}

/* A re-entrant loop: a stop op inside the nested run n..x stops that run
 * alone. After x, an enclosing run must not stop (a top-level `stopped`,
 * or an enclosing nested_exit that says the loop stopped) before the next
 * stop op. */
static void judge_stop_scope(af_ctx *c, int n, int x)
{
    int inner_stop = -1;
    for (int i = n + 1; i < x; i++)
        if (c->tr->events[i].kind == AF_EV_STOP)
            inner_stop = i;
    if (inner_stop < 0)
        return;
    for (int i = x + 1; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_STOP)
            return;
        int outer_stopped =
            e->kind == AF_EV_STOPPED ||
            (e->kind == AF_EV_NESTED_EXIT && e->exc_args && strstr(e->exc_args, "stopped before"));
        if (outer_stopped) {
            emit_reenter(c, AF_RULE_REENTRANT_STOP_SCOPE, &c->tr->events[x], x,
                         "a stop() inside it also stopped an enclosing run");
            return;
        }
    }
}

/* The reenter ops: each nested_enter with its nested_exit (the next exit
 * at the same depth). */
static void judge_reenter(af_ctx *c, int reentrant)
{
    for (int n = 0; n < c->tr->nevents; n++) {
        const af_event *e = &c->tr->events[n];
        if (e->kind != AF_EV_NESTED_ENTER)
            continue;
        int x = -1;
        for (int j = n + 1; j < c->tr->nevents && x < 0; j++)
            if (c->tr->events[j].kind == AF_EV_NESTED_EXIT && c->tr->events[j].depth == e->depth)
                x = j;
        if (x < 0) {
            emit_reenter(c, AF_RULE_NESTED_INCOMPLETE, e, n,
                         "the nested run never returned (the run ended while it was open)");
            continue;
        }
        if (!reentrant) {
            judge_refusal(c, x);
            continue;
        }
        judge_reentrant_result(c, n, x);
        judge_lost_steps(c, n, x);
        judge_stop_scope(c, n, x);
    }
}

void af_oracle_nested_loop(af_ctx *c)
{
    int not_closed = 0;
    int reentrant = reentrant_loop(c);
    judge_reenter(c, reentrant);
    for (int i = 0; i < c->tr->nevents; i++)
        if (c->tr->events[i].kind == AF_EV_NESTED)
            not_closed += judge_nested_run(c, i, reentrant);
    int nth = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_WARNING || !e->msg || !strstr(e->msg, "was never awaited"))
            continue;
        const char *p = strstr(e->msg, "coroutine '");
        char name[128];
        if (!p)
            continue;
        p += strlen("coroutine '");
        size_t n = strcspn(p, "'");
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, p, n);
        name[n] = '\0';
        if (!af_is_nested_target(name))
            continue;
        if (nth++ < not_closed)
            continue;
        int op = af_ctx_nth_op_of_kind(c, AF_OP_NESTED_RUN, nth - 1);
        int task = op >= 0 ? af_ctx_probe_of_ir(c, c->s->ops[op].task) : -1;
        if (af_emit(
                c, AF_RULE_NESTED_CORO_NOT_CLOSED, task, op, i,
                "coroutine '%s' given to a nested run was never awaited (warning at vtime %lld)",
                name, (long long)e->vtime))
            af_cause_last(c, AF_CR_NESTED_CORO,
                          "the coroutine was handed to a nested run (misuse)");
    }
}
