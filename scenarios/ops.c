/* ops.c - the operation table of ops.def as data (ops.h), and the small
 * lookups every consumer of it shares.
 *
 * The descriptors are built by including ops.def three times: the fields
 * of each kind, the set of codecs each kind uses (its shape), and the spec
 * array. A field whose member does not have the type its codec reads is a
 * compile-time error here. Nothing here reads input or allocates.
 */
#include "scenarios/ops.h"

#include <string.h>

/* ---- compile-time check: each member has its codec's type ------------ */

enum { T_OTHER, T_I32, T_BOOL, T_I16, T_EXC, T_BODY, T_TASKS, T_CHARS, T_ENUM };
#define TYPE_ID(x)                                                                                 \
    _Generic((x), int32_t: T_I32, bool: T_BOOL, int16_t: T_I16, af_exc: T_EXC, af_body: T_BODY,    \
             af_tasklist: T_TASKS, char *: T_CHARS, unsigned: T_ENUM, default: T_OTHER)
#define WANT_TICKS T_I32
#define WANT_TICKS_POSITIVE T_I32
#define WANT_OPT_TICKS T_I32
#define WANT_VALUE T_I32
#define WANT_COUNT T_I32
#define WANT_NOTIFY_N T_I32
#define WANT_BOOL T_BOOL
#define WANT_KEEP T_BOOL
#define WANT_ENUM T_ENUM
#define WANT_EXC T_EXC
#define WANT_RAISE T_EXC
#define WANT_MSG T_CHARS
#define WANT_GROUP_NAME T_CHARS
#define WANT_TIMEOUT_NAME T_CHARS
#define WANT_HANDLE_NAME T_CHARS
#define WANT_RESOURCE T_CHARS
#define WANT_TASK_REF T_I16
#define WANT_TARGET_REF T_I16
#define WANT_GROUP_REF T_I16
#define WANT_TIMEOUT_REF T_I16
#define WANT_HANDLE_REF T_I16
#define WANT_SCOPE_REF T_I16
#define WANT_PRIM_REF T_I16
#define WANT_ONE_TASK T_TASKS
#define WANT_CHILDREN T_TASKS
#define WANT_BODY T_BODY
#define WANT_FINALLY T_BODY

#define OP(name, json, flags, doc, fields) fields
#define F(member, key, codec, ...)                                                                 \
    _Static_assert(TYPE_ID(((af_op *)0)->member) == WANT_##codec,                                  \
                   "ops.def: member " #member " does not have the type of codec " #codec);
#include "scenarios/ops.def"
#undef OP
#undef F

/* ---- the fields of each kind ---------------------------------------- */

#define OP(name, json, flags, doc, fields)                                                         \
    static const af_field fields_##name[] = {fields{.key = NULL}};                                 \
    _Static_assert(sizeof fields_##name / sizeof(af_field) - 1 <= AF_OP_MAX_FIELDS,                \
                   "ops.def: " json " has more than AF_OP_MAX_FIELDS fields");
#define F(member, json_key, type, ...)                                                             \
    {.key = json_key, .offset = offsetof(af_op, member), .codec = AF_FC_##type, __VA_ARGS__},
#include "scenarios/ops.def"
#undef OP
#undef F

/* ---- the codecs each kind uses -------------------------------------- */

#define OP(name, json, flags, doc, fields) SHAPE_##name = 0 fields,
#define F(member, key, codec, ...) | (int)AF_SHAPE(AF_FC_##codec)
enum {
#include "scenarios/ops.def"
};
#undef OP
#undef F

/* ---- the specs ------------------------------------------------------ */

#define OP(kind, json, op_flags, op_doc, kind_fields)                                              \
    [AF_OP_##kind] = {.name = json,                                                                \
                      .doc = op_doc,                                                               \
                      .flags = (op_flags),                                                         \
                      .shape = (uint32_t)SHAPE_##kind,                                             \
                      .fields = fields_##kind,                                                     \
                      .nfields = (int)(sizeof fields_##kind / sizeof(af_field)) - 1},
#define F(...)
const af_op_spec af_op_specs[AF_OP_KIND_COUNT] = {
#include "scenarios/ops.def"
};
#undef OP
#undef F

/* ---- af_op_init's op of each kind ---------------------------------- */

#define NUMBER_FIELD(member, type) .member = AF_DEFAULT_##type,
#define INIT_TICKS(m) NUMBER_FIELD(m, TICKS)
#define INIT_TICKS_POSITIVE(m) NUMBER_FIELD(m, TICKS_POSITIVE)
#define INIT_OPT_TICKS(m) NUMBER_FIELD(m, OPT_TICKS)
#define INIT_VALUE(m) NUMBER_FIELD(m, VALUE)
#define INIT_COUNT(m) NUMBER_FIELD(m, COUNT)
#define INIT_NOTIFY_N(m) NUMBER_FIELD(m, NOTIFY_N)
#define INIT_BOOL(m) NUMBER_FIELD(m, BOOL)
#define INIT_KEEP(m) NUMBER_FIELD(m, KEEP)
#define INIT_ENUM(m) NUMBER_FIELD(m, ENUM)
#define INIT_EXC(m)
#define INIT_RAISE(m)
#define INIT_MSG(m)
#define INIT_GROUP_NAME(m)
#define INIT_TIMEOUT_NAME(m)
#define INIT_HANDLE_NAME(m)
#define INIT_RESOURCE(m)
#define INIT_TASK_REF(m)
#define INIT_TARGET_REF(m)
#define INIT_GROUP_REF(m)
#define INIT_TIMEOUT_REF(m)
#define INIT_HANDLE_REF(m)
#define INIT_SCOPE_REF(m)
#define INIT_PRIM_REF(m)
#define INIT_ONE_TASK(m)
#define INIT_CHILDREN(m)
#define INIT_BODY(m)
#define INIT_FINALLY(m)
#define EMPTY_LIST                                                                                 \
    {                                                                                              \
        .head = AF_NIL, .tail = AF_NIL, .count = 0                                                 \
    }
#define OP(op_kind, json, op_flags, doc, kind_fields)                                              \
    [AF_OP_##op_kind] = {.kind = AF_OP_##op_kind,                                                  \
                         .next = AF_NIL,                                                           \
                         .parent = AF_NIL,                                                         \
                         .task = AF_NIL,                                                           \
                         .ref = AF_NIL,                                                            \
                         kind_fields.body = EMPTY_LIST,                                            \
                         .finally_body = EMPTY_LIST,                                               \
                         .children = EMPTY_LIST},
#define F(member, key, type, ...) INIT_##type(member)
const af_op af_op_prototypes[AF_OP_KIND_COUNT] = {
#include "scenarios/ops.def"
};
#undef OP
#undef F

static const af_field no_fields[] = {{.key = NULL}};
const af_op_spec af_op_spec_unknown = {.name = NULL, .fields = no_fields};

/* ---- lookups -------------------------------------------------------- */

const char *af_name_prefix(af_field_codec codec)
{
    switch (codec) {
    case AF_FC_GROUP_NAME:
        return "tg";
    case AF_FC_TIMEOUT_NAME:
        return "to";
    case AF_FC_HANDLE_NAME:
        return "h";
    default:
        return "r";
    }
}

af_field_codec af_ref_target_codec(af_field_codec ref_codec)
{
    return ref_codec == AF_FC_GROUP_REF    ? AF_FC_GROUP_NAME
           : ref_codec == AF_FC_HANDLE_REF ? AF_FC_HANDLE_NAME
                                           : AF_FC_TIMEOUT_NAME;
}

const char *af_ref_target_words(af_field_codec ref_codec)
{
    switch (ref_codec) {
    case AF_FC_GROUP_REF:
        return "task_group";
    case AF_FC_TIMEOUT_REF:
        return "timeout";
    case AF_FC_HANDLE_REF:
        return "call";
    default:
        return "timeout or task_group";
    }
}

af_op_kind af_op_kind_defining(af_field_codec name_codec)
{
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (af_op_specs[k].shape & AF_SHAPE(name_codec))
            return (af_op_kind)k;
    return AF_OP_KIND_COUNT;
}
