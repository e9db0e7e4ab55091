/* show.c - the human-readable tree of a scenario (`asyncfuzz show`).
 *
 * One line per operation, children indented under their owner, every
 * duration in ticks, handlers spelled as Python would, misuse flagged with
 * "!! misuse". Writes to the FILE the caller gives; never reads input and
 * never judges anything.
 */
#include "scenarios/show.h"

#include "scenarios/ops.h"

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

/* ---- one line per kind (the kinds without one get the generic line) ---- */

typedef void show_fn(const af_scenario *s, const af_op *op, FILE *out);

static void show_sleep(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, op->ticks == 0 ? "sleep 0 (yield)" : "sleep %d", op->ticks);
}

static void show_return(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "return %d", op->value);
}

static void show_raise(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "raise %s(%d)", exc_python(op->exc.kind), op->exc.id);
}

static void show_spawn(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "spawn%s%s%s", op->ref >= 0 ? " into " : "",
            op->ref >= 0 ? op_name(s, op->ref) : "", op->keep ? "" : " (reference dropped)");
}

static void show_await(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "await %s", task_name(s, op->ref));
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

static void show_gather(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "gather%s", op->return_exceptions ? " return_exceptions=True" : "");
}

static void show_task_group(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "async with TaskGroup() as %s:", op->name);
}

static void show_wait_for(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fputs("wait_for", out);
    print_ticks("timeout", op->ticks, out);
    fputc(':', out);
}

static void show_timeout(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "async with %s(", op->at ? "timeout_at" : "timeout");
    if (op->ticks == AF_NONE)
        fputs("None", out);
    else
        fprintf(out, op->at ? "now+%d" : "%d", op->ticks);
    fprintf(out, ") as %s:", op->name);
}

static void show_reschedule(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "%s.reschedule(", op_name(s, op->ref));
    fprintf(out, op->ticks == AF_NONE ? "None)" : "now+%d)", op->ticks);
}

static void show_shield(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    (void)op;
    fputs("shield", out);
}

static void show_wait(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "wait %s", af_return_when_name(op->return_when));
    print_ticks("timeout", op->ticks, out);
    if (op->cancel_pending)
        fputs(", then cancel pending", out);
}

static void show_as_completed(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fputs("as_completed", out);
    print_ticks("timeout", op->ticks, out);
}

static void show_try(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
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

static void show_except_star(const af_scenario *s, const af_op *op, FILE *out)
{
    static const char *const match[AF_MATCH_COUNT] = {"AppError", "ValueError", "Exception",
                                                      "CancelledError"};
    (void)s;
    fprintf(out, "try:  [except* %s: ", (int)op->match < AF_MATCH_COUNT ? match[op->match] : "?");
    if (op->reaction == AF_REACT_RAISE)
        fprintf(out, "raise %s(%d)]", exc_python(op->exc.kind), op->exc.id);
    else
        fputs(op->reaction == AF_REACT_RERAISE ? "raise]" : "pass]", out);
}

static void show_hold(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "hold %s", op->name);
    if (op->ticks != AF_NONE)
        fprintf(out, " (release awaits sleep %d)", op->ticks);
    fputc(':', out);
}

/* lock, semaphore */
static void show_async_with(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "async with %s:", prim_name(s, op->ref));
}

static void show_cond_notify(const af_scenario *s, const af_op *op, FILE *out)
{
    if (op->value == AF_NONE)
        fprintf(out, "%s.notify_all()", prim_name(s, op->ref));
    else
        fprintf(out, "%s.notify(%d)", prim_name(s, op->ref), op->value);
}

static void show_queue_put(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "%s.put(%d)", prim_name(s, op->ref), op->value);
}

static void show_nested_run(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "nested %s() inside the running loop", af_nested_name(op->nested));
}

static void show_block(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "blocking call for %d ticks", op->ticks);
}

static void show_never_awaited(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    (void)op;
    fputs("coroutine created, never awaited", out);
}

static void show_call(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    if (op->via == AF_VIA_CALL_SOON)
        fprintf(out, "%s = loop.call_soon(callback):", op->name);
    else if (op->via == AF_VIA_CALL_LATER)
        fprintf(out, "%s = loop.call_later(%d, callback):", op->name, op->ticks);
    else
        fprintf(out, "%s = loop.call_at(now%c%d, callback):", op->name, op->at ? '-' : '+',
                op->ticks);
}

static void show_cancel_handle(const af_scenario *s, const af_op *op, FILE *out)
{
    fprintf(out, "%s.cancel()", op_name(s, op->ref));
}

static void show_stop(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    (void)op;
    fputs("loop.stop()", out);
}

static void show_reenter(const af_scenario *s, const af_op *op, FILE *out)
{
    (void)s;
    fprintf(out, "%s(body) inside the running loop:",
            op->nested == AF_NESTED_ASYNCIO_RUN ? "asyncio.run" : "loop.run_until_complete");
}

static show_fn *const show_line_of[AF_OP_KIND_COUNT] = {
    [AF_OP_SLEEP] = show_sleep,
    [AF_OP_RETURN] = show_return,
    [AF_OP_RAISE] = show_raise,
    [AF_OP_SPAWN] = show_spawn,
    [AF_OP_AWAIT] = show_await,
    [AF_OP_CANCEL] = show_cancel,
    [AF_OP_GATHER] = show_gather,
    [AF_OP_TASKGROUP] = show_task_group,
    [AF_OP_WAIT_FOR] = show_wait_for,
    [AF_OP_TIMEOUT] = show_timeout,
    [AF_OP_RESCHEDULE] = show_reschedule,
    [AF_OP_SHIELD] = show_shield,
    [AF_OP_WAIT] = show_wait,
    [AF_OP_AS_COMPLETED] = show_as_completed,
    [AF_OP_TRY] = show_try,
    [AF_OP_EXCEPT_STAR] = show_except_star,
    [AF_OP_HOLD] = show_hold,
    [AF_OP_LOCK] = show_async_with,
    [AF_OP_COND_NOTIFY] = show_cond_notify,
    [AF_OP_SEMAPHORE] = show_async_with,
    [AF_OP_QUEUE_PUT] = show_queue_put,
    [AF_OP_NESTED_RUN] = show_nested_run,
    [AF_OP_BLOCK] = show_block,
    [AF_OP_NEVER_AWAITED] = show_never_awaited,
    [AF_OP_CALL] = show_call,
    [AF_OP_CANCEL_HANDLE] = show_cancel_handle,
    [AF_OP_STOP] = show_stop,
    [AF_OP_REENTER] = show_reenter,
};

/* ---- the generic line: the kind, then its fields --------------------- */

/* " name" for references and names, " key=value" for the rest (flags and
 * optional values only when not at their default); nothing for lists. */
static void show_field(const af_scenario *s, const af_op *op, const af_field *f, FILE *out)
{
    switch (f->codec) {
    case AF_FC_TASK_REF:
    case AF_FC_TARGET_REF:
        fprintf(out, " %s", task_name(s, op->ref));
        break;
    case AF_FC_GROUP_REF:
        if (op->ref != AF_NIL)
            fprintf(out, " %s", op_name(s, op->ref));
        break;
    case AF_FC_TIMEOUT_REF:
    case AF_FC_HANDLE_REF:
    case AF_FC_SCOPE_REF:
        fprintf(out, " %s", op_name(s, op->ref));
        break;
    case AF_FC_PRIM_REF:
        fprintf(out, " %s", prim_name(s, op->ref));
        break;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
    case AF_FC_RESOURCE:
        fprintf(out, " %s", AF_FIELD_CPTR(char, op, f));
        break;
    case AF_FC_MSG:
        if (op->has_msg)
            fprintf(out, " %s=\"%s\"", f->key, op->msg);
        break;
    case AF_FC_EXC:
    case AF_FC_RAISE:
        if (f->codec == AF_FC_EXC || af_cond_holds(&f->when, op))
            fprintf(out, " %s=%s(%d)", f->key, exc_python(AF_FIELD_CPTR(af_exc, op, f)->kind),
                    AF_FIELD_CPTR(af_exc, op, f)->id);
        break;
    case AF_FC_ENUM:
        fprintf(out, " %s=%s", f->key,
                af_value_name((af_value_list)f->values, *AF_FIELD_CPTR(int, op, f)));
        break;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        if (af_field_int(op, f) != af_field_default(f))
            fprintf(out, " %s=%s", f->key, af_field_int(op, f) ? "True" : "False");
        break;
    case AF_FC_OPT_TICKS:
    case AF_FC_NOTIFY_N:
        print_ticks(f->key, *AF_FIELD_CPTR(int32_t, op, f), out);
        break;
    case AF_FC_ONE_TASK:
    case AF_FC_CHILDREN:
    case AF_FC_BODY:
    case AF_FC_FINALLY:
        break;
    default: /* TICKS, TICKS_POSITIVE, VALUE, COUNT */
        fprintf(out, " %s=%d", f->key, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    }
}

static void show_generic(const af_scenario *s, const af_op *op, FILE *out)
{
    const af_op_spec *spec = af_op_spec_of(op->kind);
    fputs(spec->name, out);
    for (int i = 0; i < spec->nfields; i++)
        show_field(s, op, &spec->fields[i], out);
    if (spec->shape & AF_SHAPE(AF_FC_BODY))
        fputc(':', out);
}

/* The operation's own line, without children or bodies. */
static void show_op_line(const af_scenario *s, const af_op *op, FILE *out)
{
    if (!af_op_spec_of(op->kind)->name)
        fprintf(out, "?%d", (int)op->kind);
    else if (show_line_of[op->kind])
        show_line_of[op->kind](s, op, out);
    else
        show_generic(s, op, out);
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
    if (op->children.count && op->body.count) { /* a task group: label its body */
        pad(indent + 1, out);
        fputs("body:\n", out);
        show_body(s, &op->body, indent + 2, out);
    } else {
        show_body(s, &op->body, indent + 1, out);
    }
    if (af_op_kind_has(op->kind, AF_FC_FINALLY) && op->has_finally) {
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
    for (int i = 0; i < e->npyversions; i++) {
        char v[AF_PYVERSION_TEXT];
        af_pyversion_format(&e->pyversions[i], v, sizeof v);
        fprintf(out, "%s%s", i ? "," : "  (python ", v);
    }
    if (e->npyversions)
        fputc(')', out);
    if (e->issue[0])
        fprintf(out, "  [%s]", e->issue);
    if (e->target[0])
        fprintf(out, "  (target %s)", e->target);
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
