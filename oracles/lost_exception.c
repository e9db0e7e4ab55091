/* lost_exception.c - lost-exception.
 *
 * Fires when an exception reached no observer:
 *   (never-retrieved) the loop's exception handler was called with an
 *     exception object (exc_type not "") for anything but a pending task
 *     ("Task exception was never retrieved", "Future exception was never
 *     retrieved", "Exception in callback ...", a TaskGroup child that
 *     errored after its parent finished, ...); one verdict per task, or per
 *     message when no task is named;
 *   (unraisable) sys.unraisablehook was called (an exception raised where
 *     nobody can catch it: a finalizer, a coroutine ignoring GeneratorExit).
 * Location: the op that created the task named by the handler call, else
 * none.
 */
#include <string.h>

#include "oracles/oracle.h"

void af_oracle_lost_exception(af_ctx *c)
{
    for (int i = 0; i < c->tr->nevents; i++) {
        const af_event *e = &c->tr->events[i];
        if (e->kind == AF_EV_LOOP_EXC) {
            if (!e->exc_type || !e->exc_type[0])
                continue;
            if (e->msg && strstr(e->msg, "Task was destroyed but it is pending"))
                continue;
            const char *reason = e->msg && strstr(e->msg, "never retrieved") ? "never-retrieved"
                                 : e->msg && strncmp(e->msg, "Exception in callback", 21) == 0 ? "callback"
                                                                                               : "handler";
            const af_tinfo *t = af_ctx_task(c, e->task);
            af_emit(c, AF_ORACLE_LOST_EXCEPTION, e->task, af_ctx_task_op(c, e->task), i, reason,
                    "%s raised%s%s reached only the loop's exception handler at vtime %lld: \"%.160s\"",
                    e->exc_type, t ? " in task " : "", t && t->name ? t->name : "", (long long)e->vtime,
                    e->msg ? e->msg : "");
        } else if (e->kind == AF_EV_UNRAISABLE) {
            af_emit(c, AF_ORACLE_LOST_EXCEPTION, -1, -1, i, "unraisable",
                    "unraisable %s at vtime %lld: \"%.160s\"", e->exc_type ? e->exc_type : "?",
                    (long long)e->vtime, e->msg ? e->msg : "");
        }
    }
}
