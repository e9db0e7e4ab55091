/* nested_loop.c - nested-loop.
 *
 * For every `nested` event (a nested_run op returned or raised inside the
 * running loop), fires when
 *   (no-runtime-error) it did not raise RuntimeError (asyncio.run,
 *     run_until_complete and run_forever must all refuse a running loop);
 *   (loop-state) the outer loop was no longer running afterwards;
 *   (coro-not-closed) the coroutine it was given was not closed (asyncio_run,
 *     run_until_complete: it will be reported "never awaited");
 * and for a RuntimeWarning "coroutine '...nested_target' was never awaited"
 * (the coroutine a nested_run op created) when no coro-not-closed verdict
 * covers it already. Location: the nested_run op.
 *
 * Cause: no-runtime-error and loop-state are target (asyncio must refuse a
 * running loop and leave it running); coro-not-closed is misuse (the
 * coroutine was handed to a call the misuse op made inside a running loop).
 */
#include <string.h>

#include "oracles/oracle.h"

int af_is_nested_target(const char *coro);

static int af_cause_last_ok(af_ctx *c, af_cause k, const char *why)
{
    af_cause_last(c, k, "%s", why);
    return 1;
}

void af_oracle_nested_loop(af_ctx *c)
{
    int not_closed = 0;
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind != AF_EV_NESTED)
            continue;
        const char *kind = e->name ? e->name : "?";
        int takes_coro = strcmp(kind, "run_forever") != 0;
        if (!af_exc_is_runtime_error(e->exc_type))
            (void)(af_emit(c, AF_ORACLE_NESTED_LOOP, e->task, e->op, i, "no-runtime-error",
                           "%s inside the running loop %s at vtime %lld instead of raising "
                           "RuntimeError",
                           kind,
                           e->exc_type && e->exc_type[0] ? "raised another exception" : "returned",
                           (long long)e->vtime) &&
                   af_cause_last_ok(c, AF_CAUSE_TARGET,
                                    "asyncio must refuse to run a loop that is already running"));
        if (!e->flag_a)
            (void)(af_emit(c, AF_ORACLE_NESTED_LOOP, e->task, e->op, i, "loop-state",
                           "after %s at vtime %lld the outer loop is no longer running", kind,
                           (long long)e->vtime) &&
                   af_cause_last_ok(c, AF_CAUSE_TARGET,
                                    "a refused nested run must leave the running loop as it was"));
        if (takes_coro && !e->flag_b) {
            not_closed++;
            (void)(af_emit(c, AF_ORACLE_NESTED_LOOP, e->task, e->op, i, "coro-not-closed",
                           "%s at vtime %lld left the coroutine it was given unclosed (it will "
                           "never be awaited)",
                           kind, (long long)e->vtime) &&
                   af_cause_last_ok(c, AF_CAUSE_MISUSE,
                                    "the coroutine was handed to a nested run (misuse)"));
        }
    }
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
                c, AF_ORACLE_NESTED_LOOP, task, op, i, "coro-not-closed",
                "coroutine '%s' given to a nested run was never awaited (warning at vtime %lld)",
                name, (long long)e->vtime))
            af_cause_last(c, AF_CAUSE_MISUSE, "the coroutine was handed to a nested run (misuse)");
    }
}
