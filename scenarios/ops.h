/* ops.h - the operation table (ops.def) as data: one af_op_spec per kind,
 * one af_field per field, for the code that treats every op alike.
 *
 * Each consumer (JSON reader and writer, validation, equality, bytes,
 * Python tuples, mutation, minimisation, show) walks spec->fields and
 * switches on the field's codec; none of them switches on the op kind for
 * a field. This header holds types and small lookups only: no I/O, no
 * allocation, no knowledge of bytes, JSON or Python.
 */
#ifndef ASYNCFUZZ_OPS_H
#define ASYNCFUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/ir.h"

/* A field's type. Per codec: the af_op member's type; JSON; default
 * (af_op_init); bytes draw; Python tuple item(s). The codecs holding one
 * number come first, up to AF_FC_ENUM (af_codec_is_number). */
typedef enum af_field_codec {
    /* int32 duration 0..AF_MAX_TICKS; JSON integer; default 0; a duration
     * (BYTES.md); int */
    AF_FC_TICKS,
    /* int32 duration 1..AF_MAX_TICKS; default 1; bytes 1 + a raw duration,
     * clamped; with the tick budget spent the op degrades to `sleep 0` */
    AF_FC_TICKS_POSITIVE,
    /* int32 duration or AF_NONE; JSON integer or null; default AF_NONE; a
     * flag, then a duration; int or None */
    AF_FC_OPT_TICKS,
    /* int32 0..AF_MAX_VALUE; default 0; one byte; int */
    AF_FC_VALUE,
    /* int32 1..2, how many times; default 1; 1 + (byte & 1); int */
    AF_FC_COUNT,
    /* int32 1..AF_MAX_SMALL or AF_NONE (notify_all); JSON integer or null;
     * default 1; v = byte % 9: v < 8 is v + 1, 8 is AF_NONE; int or None */
    AF_FC_NOTIFY_N,
    /* bool, default false; byte & 1; bool */
    AF_FC_BOOL,
    /* bool, default true, false is misuse (a dropped task reference); drawn
     * (byte & 1: dropped) with misuse on only; bool */
    AF_FC_KEEP,
    /* int enum of .values; JSON its name; default 0; byte % count, with
     * misuse off and .misuse_if holding the .misuse value left out; int */
    AF_FC_ENUM,
    /* af_exc; JSON {"kind", "id"}; kind byte % 5, id byte; int, int */
    AF_FC_EXC,
    /* af_exc present exactly when .when holds; drawn only then, with
     * misuse off and .misuse_if holding kind fixed to cancelled_subclass
     * (only the id is drawn); int, int (also when absent) */
    AF_FC_RAISE,
    /* char msg[] + has_msg; JSON string (af_valid_msg); a flag, length
     * byte % 33, chars; drawn after the op's other scalar fields; str or
     * None */
    AF_FC_MSG,
    /* char name[]: the name of a task group / a timeout, in the namespace;
     * a name draw (default tg<i> / to<i>); str */
    AF_FC_GROUP_NAME,
    AF_FC_TIMEOUT_NAME,
    /* char name[]: the name of a call's handle, in the namespace (default
     * h<i>); str */
    AF_FC_HANDLE_NAME,
    /* char name[]: a resource, spelled as a name, not in the namespace
     * (default r<i>, a custom "self" is the default); str */
    AF_FC_RESOURCE,
    /* int16 ref: a task; byte % ntasks; its name */
    AF_FC_TASK_REF,
    /* int16 ref: a task or AF_SELF (JSON "self"); 0 is self, else task
     * (byte - 1) % ntasks; its name or None (self) */
    AF_FC_TARGET_REF,
    /* int16 ref: a task_group op or AF_NIL (absent); 0 is none, else group
     * (byte - 1) % ngroups; its name or None */
    AF_FC_GROUP_REF,
    /* int16 ref: a timeout op; byte % ntimeouts, and with no timeout in the
     * scenario the op degrades to `sleep 0`; its name */
    AF_FC_TIMEOUT_REF,
    /* int16 ref: a call op; byte % ncalls, and with no call in the
     * scenario the op degrades to `sleep 0`; its name */
    AF_FC_HANDLE_REF,
    /* int16 ref: a timeout or task_group op (a scope: what cancel_scope
     * cancels); byte % nscopes over both kinds in pre-order, and with
     * neither in the scenario the op degrades to `sleep 0`; its name */
    AF_FC_SCOPE_REF,
    /* int16 ref: a primitive of the kind AF_OPF_NEEDS names; drawn with the
     * op kind (BYTES.md, "Op kind"); its name */
    AF_FC_PRIM_REF,
    /* af_tasklist of exactly one task; JSON a task object; one task, no
     * more-byte; with AF_MAX_TASKS tasks the op degrades to `sleep 0`;
     * the task tuple */
    AF_FC_ONE_TASK,
    /* af_tasklist; JSON an array of task objects; children; a tuple of task
     * tuples */
    AF_FC_CHILDREN,
    /* af_body run inline; JSON an array of ops; a body; a tuple of ops */
    AF_FC_BODY,
    /* af_body + has_finally; JSON an array of ops, present or not; a flag
     * among the scalar fields, the body after the op's body; a tuple of ops
     * or None */
    AF_FC_FINALLY,
    AF_FIELD_CODECS
} af_field_codec;

/* Lists of values an ENUM field takes (names: af_value_name). */
typedef enum af_value_list {
    AF_VALUES_EXC_KIND,
    AF_VALUES_ON_CANCEL,
    AF_VALUES_ON_ERROR,
    AF_VALUES_MATCH,
    AF_VALUES_REACTION,
    AF_VALUES_RETURN_WHEN,
    AF_VALUES_NESTED,
    AF_VALUES_PRIM_KIND,
    AF_VALUES_VIA,
    AF_VALUES_REENTER,
    AF_VALUE_LISTS
} af_value_list;

/* A condition on another field of the same op: never (the zero value),
 * always, or op->member == value for an int-sized (enum) member. */
enum { AF_COND_NEVER, AF_COND_ALWAYS, AF_COND_IF };
typedef struct af_cond {
    uint8_t kind;
    uint16_t offset;
    int16_t value;
} af_cond;
#define AF_ALWAYS                                                                                  \
    {                                                                                              \
        .kind = AF_COND_ALWAYS                                                                     \
    }
#define AF_IF(member, v)                                                                           \
    {                                                                                              \
        .kind = AF_COND_IF, .offset = offsetof(af_op, member), .value = (v)                        \
    }

/* One field (ops.def's F(...)). */
typedef struct af_field {
    const char *key; /* JSON key */
    uint16_t offset; /* offsetof(af_op, member) */
    uint8_t codec;   /* af_field_codec */
    bool optional;   /* JSON may leave it out (see ops.def) */
    uint8_t values;  /* ENUM: af_value_list */
    int16_t misuse;  /* ENUM: the value that is misuse under misuse_if */
    af_cond misuse_if;
    af_cond when;   /* RAISE: present exactly when */
    uint8_t rand;   /* random fields: the non-default value 1 in rand */
    uint8_t weight; /* mutation: relative weight (0 means 1) */
} af_field;

/* Op flags (ops.def's third column). */
#define AF_OPF_MISUSE 0x1u
/* The op never waits (no await): it may stand in a callback's body. */
#define AF_OPF_NOWAIT 0x2u
/* A loop-level op: drawn from bytes and by mutation only when loop
 * operations are on (AF_DRAW_LOOP, a target that brings its own loop). */
#define AF_OPF_LOOP 0x4u
/* Its body runs as a plain callback: only AF_OPF_NOWAIT ops. */
#define AF_OPF_CALLBACK 0x8u
#define AF_OPF_NEEDS(prim_kind) ((unsigned)((prim_kind) + 1) << 4)

/* One kind (ops.def's OP(...)). shape has bit (1 << codec) set for each
 * codec among the fields. */
typedef struct af_op_spec {
    const char *name;
    const char *doc; /* the Python it stands for (SCHEMA.md's operations table) */
    unsigned flags;
    uint32_t shape;
    const af_field *fields;
    int nfields;
} af_op_spec;

#define AF_OP_MAX_FIELDS 6
#define AF_SHAPE(codec) (1u << (codec))
#define AF_SHAPE_TICKS                                                                             \
    (AF_SHAPE(AF_FC_TICKS) | AF_SHAPE(AF_FC_TICKS_POSITIVE) | AF_SHAPE(AF_FC_OPT_TICKS))
#define AF_SHAPE_TASKS (AF_SHAPE(AF_FC_ONE_TASK) | AF_SHAPE(AF_FC_CHILDREN))
#define AF_SHAPE_NAMED                                                                             \
    (AF_SHAPE(AF_FC_GROUP_NAME) | AF_SHAPE(AF_FC_TIMEOUT_NAME) | AF_SHAPE(AF_FC_HANDLE_NAME))
/* What a SCOPE_REF may name: a timeout or a task group. */
#define AF_SHAPE_SCOPES (AF_SHAPE(AF_FC_GROUP_NAME) | AF_SHAPE(AF_FC_TIMEOUT_NAME))
/* The reference codecs (they share op->ref: an op has at most one). */
#define AF_SHAPE_REFS                                                                              \
    (AF_SHAPE(AF_FC_TASK_REF) | AF_SHAPE(AF_FC_TARGET_REF) | AF_SHAPE(AF_FC_GROUP_REF) |           \
     AF_SHAPE(AF_FC_TIMEOUT_REF) | AF_SHAPE(AF_FC_SCOPE_REF) | AF_SHAPE(AF_FC_HANDLE_REF) |        \
     AF_SHAPE(AF_FC_PRIM_REF))

extern const af_op_spec af_op_specs[AF_OP_KIND_COUNT];
/* What af_op_init gives an op of each kind: no links, empty lists, every
 * numeric field at its codec's default, the rest zero. */
extern const af_op af_op_prototypes[AF_OP_KIND_COUNT];
/* What a kind out of range gets: no name, no flag, no field. */
extern const af_op_spec af_op_spec_unknown;

/* The spec of a kind (af_op_spec_unknown out of range: no range check
 * needed by callers). */
static inline const af_op_spec *af_op_spec_of(af_op_kind kind)
{
    return (unsigned)kind < AF_OP_KIND_COUNT ? &af_op_specs[kind] : &af_op_spec_unknown;
}

static inline bool af_op_kind_has(af_op_kind kind, af_field_codec codec)
{
    return (af_op_spec_of(kind)->shape & AF_SHAPE(codec)) != 0;
}

static inline bool af_codec_is_ref(unsigned codec)
{
    return (AF_SHAPE_REFS & AF_SHAPE(codec)) != 0;
}

static inline bool af_codec_is_number(unsigned codec)
{
    return codec <= AF_FC_ENUM;
}

/* Typed access to a field's member. */
#define AF_FIELD_PTR(type, op, f) ((type *)((char *)(op) + (f)->offset))
#define AF_FIELD_CPTR(type, op, f) ((const type *)((const char *)(op) + (f)->offset))

/* Whether a condition holds for op. */
static inline bool af_cond_holds(const af_cond *c, const af_op *op)
{
    switch (c->kind) {
    case AF_COND_ALWAYS:
        return true;
    case AF_COND_IF:
        return *(const int *)((const char *)op + c->offset) == c->value;
    default:
        return false;
    }
}

/* The int value of a numeric field (ticks, value, count, n, bool, enum);
 * set stores one. */
static inline int32_t af_field_int(const af_op *op, const af_field *f)
{
    switch (f->codec) {
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        return *AF_FIELD_CPTR(bool, op, f);
    case AF_FC_ENUM:
        return *AF_FIELD_CPTR(int, op, f);
    default:
        return *AF_FIELD_CPTR(int32_t, op, f);
    }
}
static inline void af_field_set_int(af_op *op, const af_field *f, int32_t v)
{
    switch (f->codec) {
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        *AF_FIELD_PTR(bool, op, f) = v != 0;
        break;
    case AF_FC_ENUM:
        *AF_FIELD_PTR(int, op, f) = v;
        break;
    default:
        *AF_FIELD_PTR(int32_t, op, f) = v;
        break;
    }
}
/* The codec's default value (af_op_init) of such a field. */
/* The defaults of the numeric codecs (af_op_init; JSON when left out). */
#define AF_DEFAULT_TICKS 0
#define AF_DEFAULT_TICKS_POSITIVE 1
#define AF_DEFAULT_OPT_TICKS AF_NONE
#define AF_DEFAULT_VALUE 0
#define AF_DEFAULT_COUNT 1
#define AF_DEFAULT_NOTIFY_N 1
#define AF_DEFAULT_BOOL 0
#define AF_DEFAULT_KEEP 1
#define AF_DEFAULT_ENUM 0

static inline int32_t af_field_default(const af_field *f)
{
    switch (f->codec) {
    case AF_FC_TICKS_POSITIVE:
        return AF_DEFAULT_TICKS_POSITIVE;
    case AF_FC_OPT_TICKS:
        return AF_DEFAULT_OPT_TICKS;
    case AF_FC_COUNT:
        return AF_DEFAULT_COUNT;
    case AF_FC_NOTIFY_N:
        return AF_DEFAULT_NOTIFY_N;
    case AF_FC_KEEP:
        return AF_DEFAULT_KEEP;
    default: /* TICKS, VALUE, BOOL, ENUM */
        return 0;
    }
}

/* The range of a numeric codec other than BOOL, KEEP and ENUM: lo..hi, and
 * whether AF_NONE (JSON null) is allowed too. */
typedef struct af_range {
    int32_t lo, hi;
    bool none_ok;
} af_range;
static inline af_range af_codec_range(af_field_codec codec)
{
    switch (codec) {
    case AF_FC_TICKS:
        return (af_range){0, AF_MAX_TICKS, false};
    case AF_FC_TICKS_POSITIVE:
        return (af_range){1, AF_MAX_TICKS, false};
    case AF_FC_OPT_TICKS:
        return (af_range){0, AF_MAX_TICKS, true};
    case AF_FC_VALUE:
        return (af_range){0, AF_MAX_VALUE, false};
    case AF_FC_COUNT:
        return (af_range){1, 2, false};
    case AF_FC_NOTIFY_N:
        return (af_range){1, AF_MAX_SMALL, true};
    default:
        return (af_range){0, 0, false};
    }
}
/* Whether the codec is a duration (counted in the total of ticks). */
static inline bool af_codec_is_ticks(unsigned codec)
{
    return (AF_SHAPE_TICKS & AF_SHAPE(codec)) != 0;
}

/* Names of a value list: af_value_name(list, v) is NULL out of range;
 * af_value_from_name is -1 when unknown. */
typedef struct af_value_list_info {
    const char *const *names;
    int count;
} af_value_list_info;
extern const af_value_list_info af_value_lists[AF_VALUE_LISTS];
const char *af_value_name(af_value_list list, int v);
int af_value_from_name(af_value_list list, const char *name);
static inline int af_value_count(af_value_list list)
{
    return (unsigned)list < AF_VALUE_LISTS ? af_value_lists[list].count : 0;
}

/* The fields of a kind that are drawn before its tasks and bodies, in the
 * bytes draw order (BYTES.md): as listed, a MSG after the others; ONE_TASK,
 * CHILDREN and BODY are left out (they come after, in that order, then the
 * FINALLY's body). Random fields, mutation and simplification take the
 * fields in this order too. Returns how many. */
static inline int af_op_draw_order(const af_op_spec *spec, const af_field *out[AF_OP_MAX_FIELDS])
{
    const uint32_t later = AF_SHAPE(AF_FC_ONE_TASK) | AF_SHAPE(AF_FC_CHILDREN) |
                           AF_SHAPE(AF_FC_BODY) | AF_SHAPE(AF_FC_MSG);
    int n = 0;
    for (int i = 0; i < spec->nfields; i++)
        if (!(AF_SHAPE(spec->fields[i].codec) & later))
            out[n++] = &spec->fields[i];
    for (int i = 0; i < spec->nfields && (spec->shape & AF_SHAPE(AF_FC_MSG)); i++)
        if (spec->fields[i].codec == AF_FC_MSG)
            out[n++] = &spec->fields[i];
    return n;
}

/* The prefix of the names given to a GROUP_NAME ("tg"), TIMEOUT_NAME ("to"),
 * HANDLE_NAME ("h") or RESOURCE ("r"): tg0, to1, h2, r3. */
const char *af_name_prefix(af_field_codec codec);

/* The primitive kind an op kind needs, -1 for none. */
static inline int af_op_needs(af_op_kind kind)
{
    return (int)(af_op_spec_of(kind)->flags >> 4) - 1;
}

/* The kind whose field of `codec` (GROUP_NAME, TIMEOUT_NAME, HANDLE_NAME)
 * defines the names a GROUP_REF / TIMEOUT_REF / HANDLE_REF names;
 * AF_OP_KIND_COUNT when none. */
af_op_kind af_op_kind_defining(af_field_codec name_codec);
/* The name codec a reference codec names (GROUP_REF -> GROUP_NAME). */
af_field_codec af_ref_target_codec(af_field_codec ref_codec);

/* Whether kind k may stand in a body of an op of kind `owner` (a callback
 * body takes only ops that never wait). */
static inline bool af_op_allowed_in(af_op_kind owner, af_op_kind k)
{
    return !(af_op_spec_of(owner)->flags & AF_OPF_CALLBACK) ||
           (af_op_spec_of(k)->flags & AF_OPF_NOWAIT);
}

/* Whether an op of kind k is what a GROUP_REF, TIMEOUT_REF, SCOPE_REF or
 * HANDLE_REF field may name (a scope: a timeout or a task_group). */
static inline bool af_ref_accepts(af_field_codec ref_codec, af_op_kind k)
{
    uint32_t shape = af_op_spec_of(k)->shape;
    switch (ref_codec) {
    case AF_FC_GROUP_REF:
        return (shape & AF_SHAPE(AF_FC_GROUP_NAME)) != 0;
    case AF_FC_TIMEOUT_REF:
        return (shape & AF_SHAPE(AF_FC_TIMEOUT_NAME)) != 0;
    case AF_FC_SCOPE_REF:
        return (shape & AF_SHAPE_SCOPES) != 0;
    case AF_FC_HANDLE_REF:
        return (shape & AF_SHAPE(AF_FC_HANDLE_NAME)) != 0;
    default:
        return false;
    }
}

/* What a GROUP_REF, TIMEOUT_REF, SCOPE_REF or HANDLE_REF names, in
 * messages: "task_group", "timeout", "timeout or task_group", "call". */
const char *af_ref_target_words(af_field_codec ref_codec);

#endif
