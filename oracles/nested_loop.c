/* nested_loop.c - nested-loop: a nested run inside the running loop did
 * not refuse cleanly.
 *
 * Rules and causes: base/oracles.def (docs/ORACLES.md). Reads the `nested`
 * events (a nested_run op returned or raised inside the running loop) and
 * the RuntimeWarnings "coroutine '...nested_target' was never awaited"
 * (the coroutine a nested_run op created), each located at its nested_run
 * op.
 */
#include <string.h>

#include "oracles/oracle.h"

/* The rules of one `nested` event i: no-runtime-error, loop-state and
 * coro-not-closed. Returns whether coro-not-closed applied. */
static int judge_nested_run(af_ctx *c, int i)
{
    const af_event *e = &c->tr->events[i];
    const char *kind = e->name ? e->name : "?";
    int takes_coro = strcmp(kind, "run_forever") != 0;
    if (!af_exc_is_runtime_error(e->exc_type) &&
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

void af_oracle_nested_loop(af_ctx *c)
{
    int not_closed = 0;
    for (int i = 0; i < c->tr->nevents; i++)
        if (c->tr->events[i].kind == AF_EV_NESTED)
            not_closed += judge_nested_run(c, i);
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
