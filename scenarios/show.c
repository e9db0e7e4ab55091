/* show.c - the human-readable tree of a scenario (`asyncfuzz show`).
 *
 * One line per operation, children indented under their owner, every
 * duration in ticks, handlers spelled as Python would, misuse flagged with
 * "!! misuse". Writes to the FILE the caller gives; never reads input and
 * never judges anything.
 */
#include "scenarios/show.h"

#include <string.h>

static void show_body(const af_scenario *s, const af_body *b, int indent, FILE *out);

static void pad(int indent, FILE *out)
{
    for (int i = 0; i < indent; i++)
        fputs("  ", out);
}

static const char *exc_python(af_exc_kind kind)
{
    static const char *const names[AF_EXC_KIND_COUNT] = {
        "AppError", "ValueError", "KeyboardInterrupt", "SystemExit", "AppCancelled",
    };
    return (int)kind >= 0 && kind < AF_EXC_KIND_COUNT ? names[kind] : "?";
}

static void print_ticks(const char *label, int32_t ticks, FILE *out)
{
    if (ticks == AF_NONE)
        fprintf(out, " %s=None", label);
    else
        fprintf(out, " %s=%d", label, ticks);
}

static const char *task_name(const af_scenario *s, int ref)
{
    if (ref == AF_SELF)
        return "self";
    return ref >= 0 && ref < s->ntasks ? s->tasks[ref].name : "?";
}

static const char *prim_name(const af_scenario *s, int ref)
{
    return ref >= 0 && ref < s->nprims ? s->prims[ref].name : "?";
}

static const char *op_name(const af_scenario *s, int ref)
{
    return ref >= 0 && ref < s->nops ? s->ops[ref].name : "?";
}

static void show_cancel(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "cancel %s", task_name(s, op->ref));
    if (op->has_msg)
        fprintf(out, " msg=\"%s\"", op->msg);
    if (op->value == 2)
        fputs(" twice", out);
    if (op->uncancel)
        fputs(", then uncancel()", out);
}

static void show_try_header(const af_op *op, FILE *out)
{
    fputs("try:", out);
    switch (op->on_cancel) {
    case AF_ON_CANCEL_NONE:
        break;
    case AF_ON_CANCEL_RERAISE:
        fputs("  [except CancelledError: raise]", out);
        break;
    case AF_ON_CANCEL_UNCANCEL:
        fputs("  [except CancelledError: uncancel() and go on]", out);
        break;
    case AF_ON_CANCEL_RAISE:
        fprintf(out, "  [except CancelledError: raise %s(%d)]", exc_python(op->exc.kind),
                op->exc.id);
        break;
    case AF_ON_CANCEL_SWALLOW:
        fputs("  [except CancelledError: pass]", out);
        break;
    default:
        fputs("  [?]", out);
    }
    if (op->on_error == AF_ON_ERROR_SWALLOW)
        fputs("  [except Exception: pass]", out);
}

static void show_except_star(const af_op *op, FILE *out)
{
    static const char *const match[AF_MATCH_COUNT] = {"AppError", "ValueError", "Exception",
                                                      "CancelledError"};
    fprintf(out, "try:  [except* %s: ", (int)op->match < AF_MATCH_COUNT ? match[op->match] : "?");
    if (op->reaction == AF_REACT_RAISE)
        fprintf(out, "raise %s(%d)]", exc_python(op->exc.kind), op->exc.id);
    else
        fputs(op->reaction == AF_REACT_RERAISE ? "raise]" : "pass]", out);
}

/* The operation's own line, without children or bodies. */
static void show_op_line(const af_scenario *s, const af_op *op, FILE *out)
{
    const char *kind = af_op_kind_name(op->kind);
    switch (op->kind) {
    case AF_OP_SLEEP:
        fprintf(out, op->ticks == 0 ? "sleep 0 (yield)" : "sleep %d", op->ticks);
        break;
    case AF_OP_RETURN:
        fprintf(out, "return %d", op->value);
        break;
    case AF_OP_RAISE:
        fprintf(out, "raise %s(%d)", exc_python(op->exc.kind), op->exc.id);
        break;
    case AF_OP_SPAWN:
        fprintf(out, "spawn%s%s%s", op->ref >= 0 ? " into " : "",
                op->ref >= 0 ? op_name(s, op->ref) : "", op->keep ? "" : " (reference dropped)");
        break;
    case AF_OP_AWAIT:
        fprintf(out, "await %s", task_name(s, op->ref));
        break;
    case AF_OP_CANCEL:
        show_cancel(s, op, out);
        break;
    case AF_OP_GATHER:
        fprintf(out, "gather%s", op->return_exceptions ? " return_exceptions=True" : "");
        break;
    case AF_OP_TASKGROUP:
        fprintf(out, "async with TaskGroup() as %s:", op->name);
        break;
    case AF_OP_WAIT_FOR:
        fputs("wait_for", out);
        print_ticks("timeout", op->ticks, out);
        fputc(':', out);
        break;
    case AF_OP_TIMEOUT:
        fprintf(out, "async with %s(", op->at ? "timeout_at" : "timeout");
        if (op->ticks == AF_NONE)
            fputs("None", out);
        else
            fprintf(out, op->at ? "now+%d" : "%d", op->ticks);
        fprintf(out, ") as %s:", op->name);
        break;
    case AF_OP_RESCHEDULE:
        fprintf(out, "%s.reschedule(", op_name(s, op->ref));
        fprintf(out, op->ticks == AF_NONE ? "None)" : "now+%d)", op->ticks);
        break;
    case AF_OP_SHIELD:
        fputs("shield", out);
        break;
    case AF_OP_WAIT:
        fprintf(out, "wait %s", af_return_when_name(op->return_when));
        print_ticks("timeout", op->ticks, out);
        if (op->cancel_pending)
            fputs(", then cancel pending", out);
        break;
    case AF_OP_AS_COMPLETED:
        fputs("as_completed", out);
        print_ticks("timeout", op->ticks, out);
        break;
    case AF_OP_TRY:
        show_try_header(op, out);
        break;
    case AF_OP_EXCEPT_STAR:
        show_except_star(op, out);
        break;
    case AF_OP_HOLD:
        fprintf(out, "hold %s", op->name);
        if (op->ticks != AF_NONE)
            fprintf(out, " (release awaits sleep %d)", op->ticks);
        fputc(':', out);
        break;
    case AF_OP_COND_NOTIFY:
        if (op->value == AF_NONE)
            fprintf(out, "%s.notify_all()", prim_name(s, op->ref));
        else
            fprintf(out, "%s.notify(%d)", prim_name(s, op->ref), op->value);
        break;
    case AF_OP_QUEUE_PUT:
        fprintf(out, "%s.put(%d)", prim_name(s, op->ref), op->value);
        break;
    case AF_OP_EVENT_SET:
    case AF_OP_EVENT_WAIT:
    case AF_OP_COND_WAIT:
    case AF_OP_QUEUE_GET:
        fprintf(out, "%s %s", kind, prim_name(s, op->ref));
        break;
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
        fprintf(out, "async with %s:", prim_name(s, op->ref));
        break;
    case AF_OP_NESTED_RUN:
        fprintf(out, "nested %s() inside the running loop", af_nested_name(op->nested));
        break;
    case AF_OP_BLOCK:
        fprintf(out, "blocking call for %d ticks", op->ticks);
        break;
    case AF_OP_NEVER_AWAITED:
        fputs("coroutine created, never awaited", out);
        break;
    default:
        fprintf(out, "?%d", (int)op->kind);
    }
    if (af_op_is_misuse(op))
        fputs("   !! misuse", out);
    fputc('\n', out);
}

static void show_task(const af_scenario *s, int ti, int indent, FILE *out)
{
    pad(indent, out);
    fprintf(out, "task %s:%s\n", s->tasks[ti].name, s->tasks[ti].body.count ? "" : " (empty)");
    show_body(s, &s->tasks[ti].body, indent + 1, out);
}

static void show_op(const af_scenario *s, const af_op *op, int indent, FILE *out)
{
    pad(indent, out);
    show_op_line(s, op, out);
    for (int t = op->children.head; t != AF_NIL; t = s->tasks[t].next)
        show_task(s, t, indent + 1, out);
    if (op->kind == AF_OP_TASKGROUP && op->children.count && op->body.count) {
        pad(indent + 1, out);
        fputs("body:\n", out);
        show_body(s, &op->body, indent + 2, out);
    } else {
        show_body(s, &op->body, indent + 1, out);
    }
    if (op->kind == AF_OP_TRY && op->has_finally) {
        pad(indent, out);
        fprintf(out, "finally:%s\n", op->finally_body.count ? "" : " (empty)");
        show_body(s, &op->finally_body, indent + 1, out);
    }
}

static void show_body(const af_scenario *s, const af_body *b, int indent, FILE *out)
{
    for (int i = b->head; i != AF_NIL; i = s->ops[i].next)
        show_op(s, &s->ops[i], indent, out);
}

static void show_expect(const af_expect *e, FILE *out)
{
    fprintf(out, "  %s", e->oracle);
    for (int i = 0; i < e->npyversions; i++)
        fprintf(out, "%s%d.%d", i ? "," : "  (python ", e->pyversions[i] / 100,
                e->pyversions[i] % 100);
    if (e->npyversions)
        fputc(')', out);
    if (e->issue[0])
        fprintf(out, "  [%s]", e->issue);
    fputc('\n', out);
}

static void show_header(const af_scenario *s, FILE *out)
{
    fprintf(out, "scenario: %s\n", s->description[0] ? s->description : "(no description)");
    if (s->nexpect == 0)
        fputs("expect: no verdict\n", out);
    else
        fputs("expect:\n", out);
    for (int i = 0; i < s->nexpect; i++)
        show_expect(&s->expect[i], out);
    for (int i = 0; i < s->nprims; i++) {
        const af_primitive *p = &s->prims[i];
        fprintf(out, "%s %s %s", i ? "," : "primitives:", p->name, af_prim_kind_name(p->kind));
        if (p->kind == AF_PRIM_SEMAPHORE)
            fprintf(out, "(%d)", p->param);
        else if (p->kind == AF_PRIM_QUEUE)
            fprintf(out, "(maxsize=%d)", p->param);
    }
    if (s->nprims)
        fputc('\n', out);
    if (af_scenario_has_misuse(s))
        fputs("misuse: yes (operations marked !! below)\n", out);
}

void af_show(const af_scenario *s, FILE *out)
{
    show_header(s, out);
    show_task(s, 0, 0, out);
}
