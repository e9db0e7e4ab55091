/* ir.c - construction, naming, validation and equality of the scenario IR.
 *
 * Everything here works on the fixed-size af_scenario of ir.h: no
 * allocation, no I/O, no printing. Readers (bytes, JSON) build scenarios
 * with the add functions and then call af_scenario_validate, which is the
 * one place where every invariant and limit is checked.
 */
#include "scenarios/ir.h"

#include "scenarios/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
static const char *const via_names[AF_VIA_COUNT] = {"call_soon", "call_later", "call_at"};
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

NAME_TABLE(exc_kind, af_exc_kind, exc_kind_names, AF_EXC_KIND_COUNT)
NAME_TABLE(on_cancel, af_on_cancel, on_cancel_names, AF_ON_CANCEL_COUNT)
NAME_TABLE(on_error, af_on_error, on_error_names, AF_ON_ERROR_COUNT)
NAME_TABLE(match, af_match, match_names, AF_MATCH_COUNT)
NAME_TABLE(reaction, af_reaction, reaction_names, AF_REACT_COUNT)
NAME_TABLE(return_when, af_return_when, return_when_names, AF_WHEN_COUNT)
NAME_TABLE(nested, af_nested_kind, nested_names, AF_NESTED_COUNT)
NAME_TABLE(call_via, af_call_via, via_names, AF_VIA_COUNT)
NAME_TABLE(prim_kind, af_prim_kind, prim_kind_names, AF_PRIM_COUNT)

const char *af_op_kind_name(af_op_kind kind)
{
    return af_op_spec_of(kind)->name;
}

int af_op_kind_from_name(const char *name)
{
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (strcmp(af_op_specs[k].name, name) == 0)
            return k;
    return -1;
}

/* The value lists of ENUM fields (ops.h). */
const af_value_list_info af_value_lists[AF_VALUE_LISTS] = {
    [AF_VALUES_EXC_KIND] = {exc_kind_names, AF_EXC_KIND_COUNT},
    [AF_VALUES_ON_CANCEL] = {on_cancel_names, AF_ON_CANCEL_COUNT},
    [AF_VALUES_ON_ERROR] = {on_error_names, AF_ON_ERROR_COUNT},
    [AF_VALUES_MATCH] = {match_names, AF_MATCH_COUNT},
    [AF_VALUES_REACTION] = {reaction_names, AF_REACT_COUNT},
    [AF_VALUES_RETURN_WHEN] = {return_when_names, AF_WHEN_COUNT},
    [AF_VALUES_NESTED] = {nested_names, AF_NESTED_COUNT},
    [AF_VALUES_PRIM_KIND] = {prim_kind_names, AF_PRIM_COUNT},
    [AF_VALUES_VIA] = {via_names, AF_VIA_COUNT},
    /* reenter: the nested runs that take a coroutine (nested_names' first two) */
    [AF_VALUES_REENTER] = {nested_names, AF_NESTED_RUN_FOREVER},
};

const char *af_value_name(af_value_list list, int v)
{
    return (unsigned)list < AF_VALUE_LISTS
               ? name_of(af_value_lists[list].names, af_value_lists[list].count, v)
               : NULL;
}

int af_value_from_name(af_value_list list, const char *name)
{
    return (unsigned)list < AF_VALUE_LISTS
               ? index_of(af_value_lists[list].names, af_value_lists[list].count, name)
               : -1;
}

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
    if ((unsigned)kind < AF_OP_KIND_COUNT) {
        *op = af_op_prototypes[kind];
        return;
    }
    memset(op, 0, sizeof *op); /* a kind out of range: no field */
    op->kind = kind;
    op->next = op->parent = op->task = op->ref = AF_NIL;
    body_init(&op->body);
    body_init(&op->finally_body);
    op->children.head = op->children.tail = AF_NIL;
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
    return (af_op_spec_of(kind)->shape & AF_SHAPE_NAMED) != 0;
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

bool af_valid_target_name(const char *name)
{
    size_t n = strnlen(name, AF_MAX_TARGET_NAME + 1);
    if (n == 0 || n > AF_MAX_TARGET_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* ---- classification -------------------------------------------------- */

/* A field's value is misuse: a dropped task reference, or, where a
 * CancelledError is handled (misuse_if), swallowing it (an ENUM's misuse
 * value) or raising anything but a CancelledError instead (a RAISE). */
static bool field_is_misuse(const af_op *op, const af_field *f)
{
    switch (f->codec) {
    case AF_FC_KEEP:
        return !*AF_FIELD_CPTR(bool, op, f);
    case AF_FC_ENUM:
        return af_cond_holds(&f->misuse_if, op) && *AF_FIELD_CPTR(int, op, f) == f->misuse;
    case AF_FC_RAISE:
        return af_cond_holds(&f->when, op) && af_cond_holds(&f->misuse_if, op) &&
               AF_FIELD_CPTR(af_exc, op, f)->kind != AF_EXC_CANCELLED_SUBCLASS;
    default:
        return false;
    }
}

bool af_op_is_misuse(const af_op *op)
{
    const af_op_spec *spec = af_op_spec_of(op->kind);
    if (spec->flags & AF_OPF_MISUSE)
        return true;
    for (int i = 0; i < spec->nfields; i++)
        if (field_is_misuse(op, &spec->fields[i]))
            return true;
    return false;
}

bool af_scenario_has_misuse(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (af_op_is_misuse(&s->ops[i]))
            return true;
    return false;
}

bool af_scenario_has_loop_ops(const af_scenario *s)
{
    for (int i = 0; i < s->nops; i++)
        if (af_op_spec_of(s->ops[i].kind)->flags & AF_OPF_LOOP)
            return true;
    return false;
}

bool af_op_has_body(af_op_kind kind)
{
    return af_op_kind_has(kind, AF_FC_BODY);
}

bool af_ir_has_ticks(af_op_kind k)
{
    return (af_op_spec_of(k)->shape & AF_SHAPE_TICKS) != 0;
}

bool af_ir_ticks_optional(af_op_kind k)
{
    return af_op_kind_has(k, AF_FC_OPT_TICKS);
}

bool af_op_has_children(af_op_kind kind)
{
    return (af_op_spec_of(kind)->shape & AF_SHAPE_TASKS) != 0;
}

int af_op_prim_kind(af_op_kind kind)
{
    return af_op_needs(kind);
}

bool af_task_started_by_start(const af_scenario *s, int t)
{
    if (t <= 0 || t >= s->ntasks)
        return false;
    int p = s->tasks[t].parent;
    return p >= 0 && p < s->nops && s->ops[p].kind == AF_OP_START;
}
