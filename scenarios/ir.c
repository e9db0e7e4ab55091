/* ir.c - construction, naming, validation and equality of the scenario IR.
 *
 * Everything here works on the fixed-size af_scenario of ir.h: no
 * allocation, no I/O, no printing. Readers (bytes, JSON) build scenarios
 * with the add functions and then call af_scenario_validate, which is the
 * one place where every invariant and limit is checked.
 */
#include "scenarios/ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const op_kind_names[AF_OP_KIND_COUNT] = {
    "sleep",      "return",       "raise",     "spawn",         "await",      "cancel",
    "gather",     "task_group",   "wait_for",  "timeout",       "reschedule", "shield",
    "wait",       "as_completed", "try",       "except_star",   "hold",       "event_set",
    "event_wait", "lock",         "cond_wait", "cond_notify",   "semaphore",  "queue_put",
    "queue_get",  "nested_run",   "block",     "never_awaited",
};
static const char *const exc_kind_names[AF_EXC_KIND_COUNT] = {
    "app", "value", "keyboard_interrupt", "system_exit", "cancelled_subclass",
};
static const char *const on_cancel_names[AF_ON_CANCEL_COUNT] = {
    "none", "reraise", "uncancel", "raise", "swallow",
};
static const char *const on_error_names[AF_ON_ERROR_COUNT] = {"none", "swallow"};
static const char *const match_names[AF_MATCH_COUNT] = {"app", "value", "exception", "cancelled"};
static const char *const reaction_names[AF_REACT_COUNT] = {"swallow", "reraise", "raise"};
static const char *const return_when_names[AF_WHEN_COUNT] = {"all_completed", "first_completed",
                                                             "first_exception"};
static const char *const nested_names[AF_NESTED_COUNT] = {"asyncio_run", "run_until_complete",
                                                          "run_forever"};
static const char *const prim_kind_names[AF_PRIM_COUNT] = {"event", "lock", "condition",
                                                           "semaphore", "queue"};

static const char *name_of(const char *const *table, int count, int value)
{
    return value >= 0 && value < count ? table[value] : NULL;
}

static int index_of(const char *const *table, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(table[i], name) == 0)
            return i;
    return -1;
}

#define NAME_TABLE(fn, type, table, count)                                                         \
    const char *af_##fn##_name(type v)                                                             \
    {                                                                                              \
        return name_of(table, count, (int)v);                                                      \
    }                                                                                              \
    int af_##fn##_from_name(const char *name)                                                      \
    {                                                                                              \
        return index_of(table, count, name);                                                       \
    }

NAME_TABLE(op_kind, af_op_kind, op_kind_names, AF_OP_KIND_COUNT)
NAME_TABLE(exc_kind, af_exc_kind, exc_kind_names, AF_EXC_KIND_COUNT)
NAME_TABLE(on_cancel, af_on_cancel, on_cancel_names, AF_ON_CANCEL_COUNT)
NAME_TABLE(on_error, af_on_error, on_error_names, AF_ON_ERROR_COUNT)
NAME_TABLE(match, af_match, match_names, AF_MATCH_COUNT)
NAME_TABLE(reaction, af_reaction, reaction_names, AF_REACT_COUNT)
NAME_TABLE(return_when, af_return_when, return_when_names, AF_WHEN_COUNT)
NAME_TABLE(nested, af_nested_kind, nested_names, AF_NESTED_COUNT)
NAME_TABLE(prim_kind, af_prim_kind, prim_kind_names, AF_PRIM_COUNT)

/* ---- construction ---------------------------------------------------- */

static void body_init(af_body *b)
{
    b->head = b->tail = AF_NIL;
    b->count = 0;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void af_scenario_init(af_scenario *s)
{
    memset(s, 0, sizeof *s);
    af_task *root = &s->tasks[0];
    copy_name(root->name, sizeof root->name, "main");
    body_init(&root->body);
    root->next = AF_NIL;
    root->parent = AF_NIL;
    s->ntasks = 1;
}

void af_op_init(af_op *op, af_op_kind kind)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->next = op->parent = op->task = op->ref = AF_NIL;
    op->ticks = af_ir_ticks_optional(kind) ? AF_NONE : 0; /* absent where optional */
    op->value = 0;
    op->keep = true;
    op->return_when = AF_WHEN_ALL_COMPLETED;
    op->exc.kind = AF_EXC_APP;
    body_init(&op->body);
    body_init(&op->finally_body);
    op->children.head = op->children.tail = AF_NIL;
    op->children.count = 0;
    switch (kind) {
    case AF_OP_CANCEL:
        op->value = 1; /* cancel() called once */
        break;
    case AF_OP_COND_NOTIFY:
        op->value = 1;
        break;
    case AF_OP_BLOCK:
        op->ticks = 1;
        break;
    default:
        break;
    }
}

int af_scenario_add_op(af_scenario *s, af_body *body, af_op_kind kind, int task, int parent)
{
    if (s->nops >= AF_MAX_OPS)
        return AF_NIL;
    int i = s->nops++;
    af_op *op = &s->ops[i];
    af_op_init(op, kind);
    op->task = (int16_t)task;
    op->parent = (int16_t)parent;
    if (body->tail == AF_NIL)
        body->head = (int16_t)i;
    else
        s->ops[body->tail].next = (int16_t)i;
    body->tail = (int16_t)i;
    body->count++;
    return i;
}

int af_scenario_add_task(af_scenario *s, af_tasklist *list, const char *name, int parent_op)
{
    if (s->ntasks >= AF_MAX_TASKS)
        return AF_NIL;
    int i = s->ntasks++;
    af_task *t = &s->tasks[i];
    memset(t, 0, sizeof *t);
    copy_name(t->name, sizeof t->name, name);
    body_init(&t->body);
    t->next = AF_NIL;
    t->parent = (int16_t)parent_op;
    if (list->tail == AF_NIL)
        list->head = (int16_t)i;
    else
        s->tasks[list->tail].next = (int16_t)i;
    list->tail = (int16_t)i;
    list->count++;
    return i;
}

int af_scenario_add_primitive(af_scenario *s, af_prim_kind kind, const char *name, int param)
{
    if (s->nprims >= AF_MAX_PRIMITIVES)
        return AF_NIL;
    int i = s->nprims++;
    af_primitive *p = &s->prims[i];
    copy_name(p->name, sizeof p->name, name);
    p->kind = kind;
    p->param = param;
    return i;
}

/* ---- names ----------------------------------------------------------- */

int af_find_task(const af_scenario *s, const char *name)
{
    for (int i = 0; i < s->ntasks; i++)
        if (strcmp(s->tasks[i].name, name) == 0)
            return i;
    return AF_NIL;
}

int af_find_named_op(const af_scenario *s, af_op_kind kind, const char *name)
{
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == kind && strcmp(s->ops[i].name, name) == 0)
            return i;
    return AF_NIL;
}

int af_find_primitive(const af_scenario *s, const char *name)
{
    for (int i = 0; i < s->nprims; i++)
        if (strcmp(s->prims[i].name, name) == 0)
            return i;
    return AF_NIL;
}

static bool op_is_named(af_op_kind kind)
{
    return kind == AF_OP_TASKGROUP || kind == AF_OP_TIMEOUT;
}

bool af_name_taken(const af_scenario *s, const char *name)
{
    if (af_find_task(s, name) != AF_NIL || af_find_primitive(s, name) != AF_NIL)
        return true;
    for (int i = 0; i < s->nops; i++)
        if (op_is_named(s->ops[i].kind) && strcmp(s->ops[i].name, name) == 0)
            return true;
    return false;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

bool af_valid_name(const char *name)
{
    size_t n = strnlen(name, AF_MAX_NAME + 1);
    if (n == 0 || n > AF_MAX_NAME || !is_ident_start(name[0]) || strcmp(name, "self") == 0)
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_ident_char(name[i]))
            return false;
    return true;
}

bool af_valid_msg(const char *msg)
{
    size_t n = strnlen(msg, AF_MAX_MSG + 1);
    if (n > AF_MAX_MSG)
        return false;
    for (size_t i = 0; i < n; i++)
        if (msg[i] < 0x20 || msg[i] > 0x7e || msg[i] == '"' || msg[i] == '\\')
            return false;
    return true;
}

/* ---- classification -------------------------------------------------- */

bool af_op_is_misuse(const af_op *op)
{
    switch (op->kind) {
    case AF_OP_NESTED_RUN:
    case AF_OP_BLOCK:
    case AF_OP_NEVER_AWAITED:
        return true;
    case AF_OP_SPAWN:
        return !op->keep;
    case AF_OP_TRY:
        /* Swallowing the CancelledError, or turning it into an exception
         * that is not a CancelledError, leaves the request undelivered. */
        return op->on_cancel == AF_ON_CANCEL_SWALLOW ||
               (op->on_cancel == AF_ON_CANCEL_RAISE && op->exc.kind != AF_EXC_CANCELLED_SUBCLASS);
    case AF_OP_EXCEPT_STAR:
        return op->match == AF_MATCH_CANCELLED &&
               (op->reaction == AF_REACT_SWALLOW ||
                (op->reaction == AF_REACT_RAISE && op->exc.kind != AF_EXC_CANCELLED_SUBCLASS));
    default:
        return false;
    }
}

bool af_scenario_has_misuse(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (af_op_is_misuse(&s->ops[i]))
            return true;
    return false;
}

bool af_op_has_body(af_op_kind kind)
{
    switch (kind) {
    case AF_OP_WAIT_FOR:
    case AF_OP_TIMEOUT:
    case AF_OP_TASKGROUP:
    case AF_OP_TRY:
    case AF_OP_EXCEPT_STAR:
    case AF_OP_HOLD:
    case AF_OP_LOCK:
    case AF_OP_SEMAPHORE:
        return true;
    default:
        return false;
    }
}

bool af_ir_has_ticks(af_op_kind k)
{
    switch (k) {
    case AF_OP_SLEEP:
    case AF_OP_BLOCK:
    case AF_OP_WAIT_FOR:
    case AF_OP_TIMEOUT:
    case AF_OP_RESCHEDULE:
    case AF_OP_WAIT:
    case AF_OP_AS_COMPLETED:
    case AF_OP_HOLD:
        return true;
    default:
        return false;
    }
}

bool af_ir_ticks_optional(af_op_kind k)
{
    return af_ir_has_ticks(k) && k != AF_OP_SLEEP && k != AF_OP_BLOCK;
}

bool af_op_has_children(af_op_kind kind)
{
    switch (kind) {
    case AF_OP_SPAWN:
    case AF_OP_SHIELD:
    case AF_OP_GATHER:
    case AF_OP_TASKGROUP:
    case AF_OP_WAIT:
    case AF_OP_AS_COMPLETED:
        return true;
    default:
        return false;
    }
}

int af_op_prim_kind(af_op_kind kind)
{
    switch (kind) {
    case AF_OP_EVENT_SET:
    case AF_OP_EVENT_WAIT:
        return AF_PRIM_EVENT;
    case AF_OP_LOCK:
        return AF_PRIM_LOCK;
    case AF_OP_COND_WAIT:
    case AF_OP_COND_NOTIFY:
        return AF_PRIM_CONDITION;
    case AF_OP_SEMAPHORE:
        return AF_PRIM_SEMAPHORE;
    case AF_OP_QUEUE_PUT:
    case AF_OP_QUEUE_GET:
        return AF_PRIM_QUEUE;
    default:
        return -1;
    }
}
