/* test_ops.c - the operation table (scenarios/ops.def, ops.h).
 *
 * The table's own rules, which the code generated from it relies on: names
 * unique and found again; no two fields of a kind in one af_op member (they
 * would overwrite each other); at most one reference per kind (they share
 * op->ref); an ENUM names a value list and a misuse value inside it; a
 * RAISE depends on an ENUM listed before it (the reader checks that one
 * first); a kind needs a primitive exactly when it has a PRIM_REF; misuse
 * kinds and primitive kinds apart; af_op_init gives every numeric field its
 * codec's default.
 *
 * And the operation tables of scenarios/SCHEMA.md and scenarios/BYTES.md,
 * which are rendered from the table: each file must hold its rendering
 * between the markers. AF_UPDATE_DOCS=1 rewrites them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/ops.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

static const af_field *field_at(const af_op_spec *spec, uint16_t offset)
{
    for (int i = 0; i < spec->nfields; i++)
        if (spec->fields[i].offset == offset)
            return &spec->fields[i];
    return NULL;
}

static int index_of(const af_op_spec *spec, const af_field *f)
{
    return f ? (int)(f - spec->fields) : -1;
}

static void test_names(void **state)
{
    (void)state;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        const char *name = af_op_kind_name((af_op_kind)k);
        assert_non_null(name);
        assert_int_equal(af_op_kind_from_name(name), k);
        assert_non_null(af_op_specs[k].doc);
    }
    assert_null(af_op_kind_name(AF_OP_KIND_COUNT));
    assert_int_equal(af_op_kind_from_name("sleepx"), -1);
}

/* Every rule of the table a kind's fields must keep. */
static void check_fields(int k)
{
    const af_op_spec *spec = &af_op_specs[k];
    int refs = 0;
    assert_true(spec->nfields <= AF_OP_MAX_FIELDS);
    for (int i = 0; i < spec->nfields; i++) {
        const af_field *f = &spec->fields[i];
        for (int j = 0; j < i; j++) {
            if (strcmp(spec->fields[j].key, f->key) == 0 || spec->fields[j].offset == f->offset)
                fail_msg("%s: fields %s and %s share a key or a member", spec->name,
                         spec->fields[j].key, f->key);
        }
        assert_true(spec->shape & AF_SHAPE(f->codec));
        refs += af_codec_is_ref(f->codec);
        if (f->codec == AF_FC_ENUM) {
            assert_true(f->values < AF_VALUE_LISTS);
            if (f->misuse_if.kind != AF_COND_NEVER)
                assert_true(f->misuse >= 0 && f->misuse < af_value_count(f->values));
        }
        if (f->codec == AF_FC_RAISE) {
            const af_field *cond = field_at(spec, f->when.offset);
            assert_int_equal(f->when.kind, AF_COND_IF);
            assert_non_null(cond);
            assert_int_equal(cond->codec, AF_FC_ENUM);
            assert_true(index_of(spec, cond) < i);
        }
        if (f->misuse_if.kind == AF_COND_IF) {
            const af_field *cond = field_at(spec, f->misuse_if.offset);
            assert_non_null(cond);
            assert_true(index_of(spec, cond) < i);
        }
    }
    assert_true(refs <= 1);
    assert_int_equal(af_op_needs((af_op_kind)k) >= 0, af_op_kind_has(k, AF_FC_PRIM_REF));
    assert_false((spec->flags & AF_OPF_MISUSE) && af_op_needs((af_op_kind)k) >= 0);
    assert_false(af_op_kind_has(k, AF_FC_ONE_TASK) && af_op_kind_has(k, AF_FC_CHILDREN));
}

static void test_fields(void **state)
{
    (void)state;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        check_fields(k);
}

static void test_init_defaults(void **state)
{
    (void)state;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        af_op op;
        af_op_init(&op, (af_op_kind)k);
        assert_int_equal(op.kind, k);
        assert_int_equal(op.ref, AF_NIL);
        assert_int_equal(op.next, AF_NIL);
        assert_int_equal(op.body.head, AF_NIL);
        assert_int_equal(op.children.count, 0);
        const af_op_spec *spec = &af_op_specs[k];
        for (int i = 0; i < spec->nfields; i++)
            if (af_codec_is_number(spec->fields[i].codec))
                assert_int_equal(af_field_int(&op, &spec->fields[i]),
                                 af_field_default(&spec->fields[i]));
    }
}

/* ---- the rendered tables of SCHEMA.md and BYTES.md ---- */

typedef struct text {
    char buf[16384];
    size_t len;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof t->buf - t->len);
    t->len += (size_t)n;
}

static const char *article(const char *noun)
{
    return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* The condition of a RAISE ("`on_cancel: raise`") or an ENUM's misuse rule
 * ("`match` is `cancelled`"). */
static void add_cond(text *t, const af_op_spec *spec, const af_cond *c, const char *sep)
{
    const af_field *cond = field_at(spec, c->offset);
    add(t, "`%s%s%s`", cond->key, sep, af_value_name(cond->values, c->value));
}

/* SCHEMA.md: `key` and what it takes, its default in parentheses. */
static void schema_field(text *t, const af_op_spec *spec, const af_field *f)
{
    add(t, "`%s`", f->key);
    switch (f->codec) {
    case AF_FC_TICKS:
    case AF_FC_TICKS_POSITIVE:
    case AF_FC_VALUE:
        add(t, " %d..%d", af_codec_range(f->codec).lo, af_codec_range(f->codec).hi);
        break;
    case AF_FC_OPT_TICKS:
        add(t, f->optional ? " (null)" : " (ticks or null)");
        break;
    case AF_FC_COUNT:
    case AF_FC_NOTIFY_N:
        add(t, " %d..%d%s (%d)", af_codec_range(f->codec).lo, af_codec_range(f->codec).hi,
            af_codec_range(f->codec).none_ok ? " or null" : "", af_field_default(f));
        break;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        add(t, " (%s)", af_field_default(f) ? "true" : "false");
        break;
    case AF_FC_ENUM:
        if (f->optional)
            add(t, " (`%s`)", af_value_name(f->values, 0));
        break;
    case AF_FC_RAISE:
        add(t, " (with ");
        add_cond(t, spec, &f->when, ": ");
        add(t, " only)");
        break;
    case AF_FC_MSG:
    case AF_FC_GROUP_REF:
    case AF_FC_FINALLY:
        add(t, " (absent)");
        break;
    case AF_FC_RESOURCE:
        add(t, " (a name)");
        break;
    case AF_FC_TASK_REF:
        add(t, " (a task name)");
        break;
    case AF_FC_TARGET_REF:
        add(t, " (a task name or `\"self\"`)");
        break;
    case AF_FC_TIMEOUT_REF:
        add(t, " (a timeout name)");
        break;
    case AF_FC_SCOPE_REF:
        add(t, " (a timeout or task group name)");
        break;
    case AF_FC_PRIM_REF: {
        const char *pk =
            af_prim_kind_name((af_prim_kind)af_op_needs((af_op_kind)(spec - af_op_specs)));
        add(t, " (%s %s)", article(pk), pk);
        break;
    }
    case AF_FC_ONE_TASK:
        add(t, " (a task object)");
        break;
    case AF_FC_CHILDREN:
    case AF_FC_BODY:
        if (f->optional)
            add(t, " ([])");
        break;
    default: /* EXC, GROUP_NAME, TIMEOUT_NAME */
        break;
    }
}

static void render_schema(text *t)
{
    add(t, "| op | fields (default) | Python it stands for |\n| --- | --- | --- |\n");
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        const af_op_spec *spec = &af_op_specs[k];
        add(t, "| `%s` | ", spec->name);
        for (int i = 0; i < spec->nfields; i++) {
            add(t, "%s", i ? ", " : "");
            schema_field(t, spec, &spec->fields[i]);
        }
        add(t, "%s| %s |\n", spec->nfields ? " " : "", spec->doc);
    }
}

/* BYTES.md: what one field draws ("`key`: what"). */
static void bytes_field(text *t, const af_op_spec *spec, const af_field *f)
{
    int count = f->codec == AF_FC_ENUM ? af_value_count(f->values) : 0;
    if (f->codec == AF_FC_RAISE)
        add(t, "[`%s`: ", f->key);
    else
        add(t, "`%s`: ", f->key);
    switch (f->codec) {
    case AF_FC_TICKS:
        add(t, "duration");
        break;
    case AF_FC_TICKS_POSITIVE:
        add(t, "`1 +` duration (then clamped, so >= 1)");
        break;
    case AF_FC_OPT_TICKS:
        add(t, "opt-ticks");
        break;
    case AF_FC_VALUE:
        add(t, "byte");
        break;
    case AF_FC_COUNT:
        add(t, "`1 + (byte & 1)`");
        break;
    case AF_FC_NOTIFY_N:
        add(t, "`v = byte %% %d`: `v < %d` is `v + 1`, `%d` is null", AF_MAX_SMALL + 1,
            AF_MAX_SMALL, AF_MAX_SMALL);
        break;
    case AF_FC_BOOL:
        add(t, "bool");
        break;
    case AF_FC_KEEP:
        add(t, "misuse on only: bool, 1 is false (misuse off: true, no byte)");
        break;
    case AF_FC_ENUM:
        add(t, "enum/%d", count);
        if (f->misuse_if.kind != AF_COND_NEVER) {
            add(t, " (misuse off%s", f->misuse_if.kind == AF_COND_IF ? " and " : "");
            if (f->misuse_if.kind == AF_COND_IF)
                add_cond(t, spec, &f->misuse_if, "` `");
            add(t, ": enum/%d without `%s`)", count - 1, af_value_name(f->values, f->misuse));
        }
        break;
    case AF_FC_EXC:
        add(t, "exc");
        break;
    case AF_FC_RAISE:
        add(t, "exc if ");
        add_cond(t, spec, &f->when, "` is `");
        if (f->misuse_if.kind != AF_COND_NEVER)
            add(t, "; cancel-exc with misuse off");
        if (f->misuse_if.kind == AF_COND_IF) {
            add(t, " and ");
            add_cond(t, spec, &f->misuse_if, "` `");
        }
        add(t, "]");
        break;
    case AF_FC_MSG:
        add(t, "flag, [message]");
        break;
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
        add(t, "name (default `%s<i>`)", af_name_prefix(f->codec));
        break;
    case AF_FC_RESOURCE:
        add(t, "resource name (default `%s<i>`)", af_name_prefix(f->codec));
        break;
    case AF_FC_FINALLY:
        add(t, "flag (has_finally)");
        break;
    default: /* references */
        add(t, "ref");
        break;
    }
}

static void render_bytes(text *t)
{
    add(t, "| op | draws, in order |\n| --- | --- |\n");
    for (int k = 0; k < AF_OP_KIND_COUNT; k++) {
        const af_op_spec *spec = &af_op_specs[k];
        const af_field *order[AF_OP_MAX_FIELDS];
        int n = af_op_draw_order(spec, order), items = 0;
        add(t, "| `%s` | ", spec->name);
        if (af_op_needs((af_op_kind)k) >= 0) {
            add(t, "(`primitive` and sub-op: drawn with the kind)");
            items++;
        }
        for (int i = 0; i < n; i++) {
            if (order[i]->codec == AF_FC_PRIM_REF)
                continue;
            add(t, "%s", items++ ? ", " : "");
            bytes_field(t, spec, order[i]);
        }
        if (spec->shape & AF_SHAPE(AF_FC_ONE_TASK))
            add(t, "%stask (one task, no more-byte)", items++ ? ", " : "");
        if (spec->shape & AF_SHAPE(AF_FC_CHILDREN))
            add(t, "%schildren", items++ ? ", " : "");
        if (spec->shape & AF_SHAPE(AF_FC_BODY))
            add(t, "%sbody", items++ ? ", " : "");
        if (spec->shape & AF_SHAPE(AF_FC_FINALLY))
            add(t, "%s[finally body, if has_finally]", items++ ? ", " : "");
        add(t, "%s |\n", items ? "" : "nothing");
    }
}

#define BEGIN_MARK "<!-- generated from scenarios/ops.def (tests/unit/test_ops.c): begin -->\n"
#define END_MARK "<!-- generated: end -->\n"

/* The file must hold `want` between the markers; AF_UPDATE_DOCS=1 puts it
 * there. */
static void check_doc(const char *name, const text *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s", AF_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *begin = strstr(doc, BEGIN_MARK), *end = begin ? strstr(begin, END_MARK) : NULL;
    if (!begin || !end)
        fail_msg("%s: no %s ... %s markers", path, BEGIN_MARK, END_MARK);
    begin += strlen(BEGIN_MARK);
    bool same = (size_t)(end - begin) == want->len && memcmp(begin, want->buf, want->len) == 0;
    if (same)
        return;
    const char *update = getenv("AF_UPDATE_DOCS");
    if (!update || strcmp(update, "1") != 0)
        fail_msg("%s: its operation table is not ops.def's; run AF_UPDATE_DOCS=1 %s, or "
                 "copy this:\n%s",
                 path, "build/test_ops", want->buf);
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(doc, 1, (size_t)(begin - doc), f);
    fwrite(want->buf, 1, want->len, f);
    fputs(end, f);
    fclose(f);
}

static void test_docs_current(void **state)
{
    (void)state;
    static text t;
    t.len = 0;
    render_schema(&t);
    check_doc("SCHEMA.md", &t);
    t.len = 0;
    render_bytes(&t);
    check_doc("BYTES.md", &t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_docs_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
