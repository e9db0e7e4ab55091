/* json_read.c - scenario JSON text -> IR (format: SCHEMA.md).
 *
 * Three passes over the input:
 *  1. af_json_syntax_check (json_locate.c): the text is one valid JSON value,
 *     or an error with its exact line and column;
 *  2. cJSON builds a tree; this file walks it in SCHEMA.md's field order
 *     (an op's fields: its row of ops.def, one reader per codec),
 *     building the IR and rejecting anything the schema does not allow
 *     (unknown or duplicate keys, wrong types, out-of-range values, invalid
 *     or duplicate names, limits). Names are collected as they are defined;
 *     references (await, cancel, spawn into a group, reschedule, the
 *     primitive of a synchronisation op) are resolved once the whole tree is
 *     built, so a name may be used before the place that defines it;
 *  3. af_scenario_validate checks the result.
 * Every error gets the path of the offending value and, through
 * af_json_locate, its line and column. Only the first error is reported.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/json.h"
#include "scenarios/ops.h"

enum name_kind { NAME_TASK, NAME_GROUP, NAME_TIMEOUT, NAME_HANDLE, NAME_PRIM };
static const char *const name_kind_text[] = {"task", "task group", "timeout", "handle",
                                             "primitive"};

/* What a reference must name. */
enum ref_kind { REF_TASK, REF_GROUP, REF_TIMEOUT, REF_HANDLE, REF_PRIM, REF_SCOPE };

#define PATH_CAP 512
#define NAMES_CAP (AF_MAX_TASKS + AF_MAX_OPS + AF_MAX_PRIMITIVES)

struct name_def {
    char name[AF_MAX_NAME + 1];
    enum name_kind kind;
    int index;      /* task, op or primitive index */
    bool defaulted; /* a task name given by default */
    char path[160]; /* where it is defined */
};

struct ref_use {
    int op;
    enum ref_kind kind;
    const cJSON *node; /* the string naming the target */
    char path[PATH_CAP];
};

struct rd {
    const char *text;
    size_t len;
    const cJSON *root;
    af_scenario *s;
    af_error *err;
    char path[PATH_CAP];
    size_t plen;
    struct name_def names[NAMES_CAP];
    int nnames;
    struct ref_use refs[AF_MAX_OPS];
    int nrefs;
};

/* ---- errors ---------------------------------------------------------- */

static void set_position(struct rd *r, const cJSON *node, bool at_key)
{
    size_t val, key;
    r->err->line = r->err->column = 0;
    if (node && af_json_locate(r->text, r->len, r->root, node, &val, &key) == 0)
        af_json_line_col(r->text, r->len, at_key ? key : val, &r->err->line, &r->err->column);
}

static void copy_path(af_error *err, const char *path)
{
    size_t n = strlen(path);
    if (n < sizeof err->path) {
        memcpy(err->path, path, n + 1);
    } else { /* keep the head, mark the cut */
        memcpy(err->path, path, sizeof err->path - 4);
        memcpy(err->path + sizeof err->path - 4, "...", 4);
    }
}

/* Error at `node` (its key when at_key), with the path r->path. */
static int fail_node(struct rd *r, const cJSON *node, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_node(struct rd *r, const cJSON *node, bool at_key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
    va_end(ap);
    copy_path(r->err, r->path);
    set_position(r, node, at_key);
    return -1;
}

/* ---- path ------------------------------------------------------------ */

static bool ident_like(const char *k)
{
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
        return false;
    for (const char *p = k + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static void path_append(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_append(struct rd *r, const char *fmt, ...)
{
    if (r->plen >= sizeof r->path - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->path + r->plen, sizeof r->path - r->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->plen += (size_t)n;
    if (r->plen > sizeof r->path - 1)
        r->plen = sizeof r->path - 1;
}

/* Appends a key; returns the previous length for path_pop. Keys that are
 * not identifiers (only unknown fields can be) are written ["..."] with
 * non-printable bytes as '?', cut at 32 bytes. */
static size_t path_key(struct rd *r, const char *key)
{
    size_t old = r->plen;
    if (ident_like(key) && strlen(key) <= 40) {
        path_append(r, "%s%s", r->plen ? "." : "", key);
        return old;
    }
    char shown[40];
    size_t n = 0;
    for (const char *p = key; *p && n < 32; p++)
        shown[n++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? *p : '?';
    shown[n] = '\0';
    path_append(r, "[\"%s%s\"]", shown, key[n] ? "..." : "");
    return old;
}

static size_t path_index(struct rd *r, int i)
{
    size_t old = r->plen;
    path_append(r, "[%d]", i);
    return old;
}

static void path_pop(struct rd *r, size_t old)
{
    r->plen = old;
    r->path[old] = '\0';
}

/* ---- typed field access ---------------------------------------------- */

static const char *type_name(const cJSON *n)
{
    if (cJSON_IsString(n))
        return "a string";
    if (cJSON_IsNumber(n))
        return "a number";
    if (cJSON_IsBool(n))
        return "a boolean";
    if (cJSON_IsNull(n))
        return "null";
    if (cJSON_IsArray(n))
        return "an array";
    if (cJSON_IsObject(n))
        return "an object";
    return "an unknown value";
}

static int wrong_type(struct rd *r, const cJSON *n, const char *want)
{
    return fail_node(r, n, false, "expected %s, found %s", want, type_name(n));
}

/* Every key of `obj` must be in `allowed` (NULL-terminated) and appear once.
 * `what` names the object in messages ("operation \"sleep\"", "task"). */
static int check_keys(struct rd *r, const cJSON *obj, const char *const *allowed, const char *what)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool known = false;
        for (int i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], m->string) == 0)
                known = true;
        size_t old = path_key(r, m->string);
        if (!known) {
            /* name at most 40 bytes of the key in the message */
            return fail_node(r, m, true, "unknown field \"%.40s%s\" in %s", m->string,
                             strlen(m->string) > 40 ? "..." : "", what);
        }
        for (const cJSON *p = obj->child; p != m; p = p->next)
            if (strcmp(p->string, m->string) == 0)
                return fail_node(r, m, true, "duplicate key \"%s\"", m->string);
        path_pop(r, old);
    }
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const cJSON *required(struct rd *r, const cJSON *obj, const char *key)
{
    const cJSON *m = member(obj, key);
    if (!m)
        fail_node(r, obj, false, "missing required field \"%s\"", key);
    return m;
}

/* Whether number node n is written as an integer literal (-?digits: no
 * fraction, no exponent) in the text: 1e2, 3.0 and 1e-400 are not integers
 * here, whatever value they round to. The literal as written (at most 40
 * bytes) goes into lit. */
static bool integer_literal(const struct rd *r, const cJSON *n, char lit[48])
{
    size_t at, key;
    lit[0] = '\0';
    if (af_json_locate(r->text, r->len, r->root, n, &at, &key) < 0)
        return false;
    size_t end = at;
    while (end < r->len && end - at < 40 && strchr("+-.0123456789eE", r->text[end]))
        end++;
    snprintf(lit, 48, "%.*s%s", (int)(end - at), r->text + at, end - at >= 40 ? "..." : "");
    size_t i = at + (r->text[at] == '-');
    size_t digits = i;
    while (i < end && r->text[i] >= '0' && r->text[i] <= '9')
        i++;
    return i > digits && i == end;
}

/* An integer in lo..hi (or null -> AF_NONE when allow_null). The path must
 * already name the field. */
static int int_value(struct rd *r, const cJSON *n, long lo, long hi, bool allow_null, int32_t *out)
{
    if (allow_null && cJSON_IsNull(n)) {
        *out = AF_NONE;
        return 0;
    }
    const char *want = allow_null ? "an integer or null" : "an integer";
    if (!cJSON_IsNumber(n))
        return wrong_type(r, n, want);
    char lit[48];
    if (!integer_literal(r, n, lit))
        return fail_node(r, n, false,
                         "expected %s, found %s (an integer is written with digits only)", want,
                         lit);
    double d = n->valuedouble;
    /* no libm here: inf and nan fail d - d == 0; doubles beyond 1e18 are
     * whole (and out of every range) */
    bool whole = d - d == 0.0 && (d <= -1e18 || d >= 1e18 || (double)(long long)d == d);
    if (!whole)
        return fail_node(r, n, false, "expected %s, found %g", want, d);
    if (d < (double)lo || d > (double)hi)
        return fail_node(r, n, false,
                         d > -1e15 && d < 1e15 ? "%.0f is out of range %ld..%ld%s"
                                               : "%g is out of range %ld..%ld%s",
                         d, lo, hi, allow_null ? " (or null)" : "");
    *out = (int32_t)d;
    return 0;
}

/* Field `key` of obj as an integer; absent: *out = dflt unless required. */
static int int_field(struct rd *r, const cJSON *obj, const char *key, bool req, long lo, long hi,
                     bool allow_null, int32_t dflt, int32_t *out)
{
    const cJSON *n = req ? required(r, obj, key) : member(obj, key);
    if (!n) {
        if (req)
            return -1;
        *out = dflt;
        return 0;
    }
    size_t old = path_key(r, key);
    int rc = int_value(r, n, lo, hi, allow_null, out);
    if (rc == 0)
        path_pop(r, old);
    return rc;
}

static int bool_field(struct rd *r, const cJSON *obj, const char *key, bool dflt, bool *out)
{
    const cJSON *n = member(obj, key);
    if (!n) {
        *out = dflt;
        return 0;
    }
    size_t old = path_key(r, key);
    if (!cJSON_IsBool(n))
        return wrong_type(r, n, "true or false");
    *out = cJSON_IsTrue(n);
    path_pop(r, old);
    return 0;
}

/* A string field; returns the node (NULL: absent and optional, or error:
 * *failed set). The path is left pointing at the field on success. */
static const cJSON *string_node(struct rd *r, const cJSON *obj, const char *key, bool req,
                                bool *failed, size_t *old)
{
    const cJSON *n = req ? required(r, obj, key) : member(obj, key);
    *failed = false;
    if (!n) {
        *failed = req;
        return NULL;
    }
    *old = path_key(r, key);
    if (!cJSON_IsString(n)) {
        wrong_type(r, n, "a string");
        *failed = true;
        return NULL;
    }
    return n;
}

/* An enum field: a string naming one of the values of `list`. */
static int enum_field(struct rd *r, const cJSON *obj, const char *key, bool req, int dflt,
                      af_value_list list, int *out)
{
    bool failed;
    size_t old;
    const cJSON *n = string_node(r, obj, key, req, &failed, &old);
    if (failed)
        return -1;
    if (!n) {
        *out = dflt;
        return 0;
    }
    int v = af_value_from_name(list, n->valuestring);
    if (v < 0) {
        char names[160] = "";
        size_t used = 0;
        for (int i = 0; i < af_value_count(list) && used < sizeof names; i++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                             af_value_name(list, i));
            if (w > 0)
                used += (size_t)w;
        }
        return fail_node(r, n, false, "unknown %s \"%.40s\" (expected one of: %s)", key,
                         n->valuestring, names);
    }
    *out = v;
    path_pop(r, old);
    return 0;
}

/* ---- names ----------------------------------------------------------- */

static const char *article(const char *noun)
{
    return noun && strchr("aeiou", noun[0]) && noun[0] ? "an" : "a";
}

static int check_name_syntax(struct rd *r, const cJSON *n)
{
    if (!af_valid_name(n->valuestring))
        return fail_node(r, n, false,
                         "invalid name \"%.40s%s\" (expected [A-Za-z_][A-Za-z0-9_]*, 1..%d bytes, "
                         "not \"self\")",
                         n->valuestring, strlen(n->valuestring) > 40 ? "..." : "", AF_MAX_NAME);
    return 0;
}

/* Registers a name in the one namespace of tasks, groups, timeouts and
 * primitives; the path names where it is defined (node: for the error). */
static int define_name(struct rd *r, const char *name, enum name_kind kind, int index,
                       bool defaulted, const cJSON *node)
{
    for (int i = 0; i < r->nnames; i++) {
        const struct name_def *d = &r->names[i];
        if (strcmp(d->name, name) == 0)
            return fail_node(r, node, false, "duplicate name \"%s\" (already %s the %s at %s)",
                             name, d->defaulted ? "the default name of" : "used by",
                             name_kind_text[d->kind], d->path[0] ? d->path : "the top level");
    }
    if (r->nnames >= NAMES_CAP)
        return fail_node(r, node, false, "too many names");
    struct name_def *d = &r->names[r->nnames++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->kind = kind;
    d->index = index;
    d->defaulted = defaulted;
    /* where the named thing is: the path without its ".name" */
    size_t n = r->plen;
    if (n >= 5 && strcmp(r->path + n - 5, ".name") == 0)
        n -= 5;
    snprintf(d->path, sizeof d->path, "%.*s", (int)n, r->path);
    return 0;
}

/* Records a reference from op `op` to the name in string `node` (path: the
 * current one), resolved once the tree is built. */
static int use_name(struct rd *r, int op, enum ref_kind kind, const cJSON *node)
{
    if (r->nrefs >= AF_MAX_OPS)
        return fail_node(r, node, false, "too many references");
    struct ref_use *u = &r->refs[r->nrefs++];
    u->op = op;
    u->kind = kind;
    u->node = node;
    snprintf(u->path, sizeof u->path, "%s", r->path);
    return 0;
}

static int resolve_refs(struct rd *r)
{
    static const char *const want_text[] = {"task",   "task group", "timeout",
                                            "handle", "primitive",  "timeout or task group"};
    for (int i = 0; i < r->nrefs; i++) {
        const struct ref_use *u = &r->refs[i];
        af_op *op = &r->s->ops[u->op];
        const char *name = u->node->valuestring;
        snprintf(r->path, sizeof r->path, "%s", u->path);
        r->plen = strlen(r->path);
        const struct name_def *d = NULL;
        for (int j = 0; j < r->nnames; j++)
            if (strcmp(r->names[j].name, name) == 0)
                d = &r->names[j];
        if (u->kind == REF_PRIM) {
            af_prim_kind want = (af_prim_kind)af_op_prim_kind(op->kind);
            if (!d)
                return fail_node(r, u->node, false,
                                 "undefined primitive \"%.40s\" (%s needs %s %s)", name,
                                 af_op_kind_name(op->kind), article(af_prim_kind_name(want)),
                                 af_prim_kind_name(want));
            if (d->kind != NAME_PRIM)
                return fail_node(r, u->node, false,
                                 "\"%s\" is a %s, not a primitive (%s needs %s %s)", name,
                                 name_kind_text[d->kind], af_op_kind_name(op->kind),
                                 article(af_prim_kind_name(want)), af_prim_kind_name(want));
            const af_primitive *p = &r->s->prims[d->index];
            if (p->kind != want)
                return fail_node(r, u->node, false, "\"%s\" is %s %s, %s needs %s %s", name,
                                 article(af_prim_kind_name(p->kind)), af_prim_kind_name(p->kind),
                                 af_op_kind_name(op->kind), article(af_prim_kind_name(want)),
                                 af_prim_kind_name(want));
            op->ref = (int16_t)d->index;
            continue;
        }
        enum name_kind nk = u->kind == REF_TASK     ? NAME_TASK
                            : u->kind == REF_GROUP  ? NAME_GROUP
                            : u->kind == REF_HANDLE ? NAME_HANDLE
                                                    : NAME_TIMEOUT;
        bool scope =
            u->kind == REF_SCOPE && (d && (d->kind == NAME_GROUP || d->kind == NAME_TIMEOUT));
        if (!d)
            return fail_node(r, u->node, false, "undefined %s \"%.40s\"", want_text[u->kind], name);
        if (d->kind != nk && !scope)
            return fail_node(r, u->node, false, "\"%s\" is %s %s, not %s %s", name,
                             article(name_kind_text[d->kind]), name_kind_text[d->kind],
                             article(want_text[u->kind]), want_text[u->kind]);
        op->ref = (int16_t)d->index;
    }
    return 0;
}

/* ---- the tree -------------------------------------------------------- */

static int read_body(struct rd *r, const cJSON *arr, af_body *body, int task, int parent,
                     int depth);

/* A task object {"name", "body"} appended to list; its body is at depth. */
static int read_task(struct rd *r, const cJSON *obj, af_tasklist *list, int parent_op, int depth)
{
    static const char *const fields[] = {"name", "body", NULL};
    if (!cJSON_IsObject(obj))
        return wrong_type(r, obj, "a task object ({\"name\": ..., \"body\": [...]})");
    if (check_keys(r, obj, fields, "task"))
        return -1;
    bool failed;
    size_t old = r->plen;
    const cJSON *name = string_node(r, obj, "name", false, &failed, &old);
    if (failed || (name && check_name_syntax(r, name)))
        return -1;
    char dflt[16];
    snprintf(dflt, sizeof dflt, "t%d", r->s->ntasks);
    const char *tname = name ? name->valuestring : dflt;
    if (name)
        path_pop(r, old);
    const cJSON *body = required(r, obj, "body");
    if (!body)
        return -1;
    int ti = af_scenario_add_task(r->s, list, tname, parent_op);
    if (ti == AF_NIL)
        return fail_node(r, obj, false, "more than %d tasks", AF_MAX_TASKS);
    if (name) {
        old = path_key(r, "name");
        if (define_name(r, tname, NAME_TASK, ti, false, name))
            return -1;
        path_pop(r, old);
    } else if (define_name(r, tname, NAME_TASK, ti, true, obj)) {
        return -1;
    }
    old = path_key(r, "body");
    if (read_body(r, body, &r->s->tasks[ti].body, ti, AF_NIL, depth))
        return -1;
    path_pop(r, old);
    return 0;
}

/* ---- one field per codec (ops.h); `f` says which member and key ---- */

/* Where the fields of op `oi` are read: its task and the depth of what it
 * owns. */
struct op_at {
    int oi, task, depth;
};

static af_op *op_of(struct rd *r, const struct op_at *at)
{
    return &r->s->ops[at->oi];
}

/* CHILDREN: an array of task objects. */
static int read_children(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    const cJSON *arr = f->optional ? member(obj, f->key) : required(r, obj, f->key);
    if (!arr)
        return f->optional ? 0 : -1;
    size_t old = path_key(r, f->key);
    if (!cJSON_IsArray(arr))
        return wrong_type(r, arr, "an array of tasks");
    int i = 0;
    for (const cJSON *t = arr->child; t; t = t->next, i++) {
        size_t o2 = path_index(r, i);
        if (read_task(r, t, &op_of(r, at)->children, at->oi, at->depth + 1))
            return -1;
        path_pop(r, o2);
    }
    path_pop(r, old);
    return 0;
}

/* ONE_TASK: one task object. */
static int read_one_task(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    const cJSON *t = required(r, obj, f->key);
    if (!t)
        return -1;
    size_t old = path_key(r, f->key);
    if (read_task(r, t, &op_of(r, at)->children, at->oi, at->depth + 1))
        return -1;
    path_pop(r, old);
    return 0;
}

static int read_op_body(struct rd *r, const cJSON *obj, const char *key, bool req, af_body *body,
                        const struct op_at *at)
{
    const cJSON *arr = req ? required(r, obj, key) : member(obj, key);
    if (!arr)
        return req ? -1 : 0;
    size_t old = path_key(r, key);
    if (read_body(r, arr, body, at->task, at->oi, at->depth + 1))
        return -1;
    path_pop(r, old);
    return 0;
}

/* BODY: an array of ops run inline. */
static int read_body_field(struct rd *r, const cJSON *obj, const af_field *f,
                           const struct op_at *at)
{
    return read_op_body(r, obj, f->key, !f->optional, AF_FIELD_PTR(af_body, op_of(r, at), f), at);
}

/* FINALLY: present or not; when present, a body. */
static int read_finally(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    if (!member(obj, f->key))
        return 0;
    op_of(r, at)->has_finally = true;
    return read_op_body(r, obj, f->key, true, AF_FIELD_PTR(af_body, op_of(r, at), f), at);
}

static int read_exc(struct rd *r, const cJSON *obj, const char *key, af_exc *out)
{
    static const char *const fields[] = {"kind", "id", NULL};
    const cJSON *e = required(r, obj, key);
    if (!e)
        return -1;
    size_t old = path_key(r, key);
    if (!cJSON_IsObject(e))
        return wrong_type(r, e, "an exception object ({\"kind\": ..., \"id\": ...})");
    if (check_keys(r, e, fields, "exception"))
        return -1;
    int kind;
    int32_t id;
    if (enum_field(r, e, "kind", true, 0, AF_VALUES_EXC_KIND, &kind) ||
        int_field(r, e, "id", true, 0, AF_MAX_VALUE, false, 0, &id))
        return -1;
    out->kind = (af_exc_kind)kind;
    out->id = id;
    path_pop(r, old);
    return 0;
}

/* EXC: an exception object. */
static int read_exc_field(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    return read_exc(r, obj, f->key, AF_FIELD_PTR(af_exc, op_of(r, at), f));
}

/* RAISE: present exactly when f->when holds (the field it tests is read
 * before it). */
static int read_raise(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    af_op *op = op_of(r, at);
    if (af_cond_holds(&f->when, op))
        return read_exc(r, obj, f->key, AF_FIELD_PTR(af_exc, op, f));
    const cJSON *n = member(obj, f->key);
    if (!n)
        return 0;
    /* name the condition: "\"on_cancel\": \"raise\"" */
    const af_op_spec *spec = af_op_spec_of(op->kind);
    const af_field *cond = NULL;
    for (int i = 0; i < spec->nfields; i++)
        if (spec->fields[i].offset == f->when.offset)
            cond = &spec->fields[i];
    path_key(r, f->key);
    return fail_node(r, n, true, "field \"%s\" is only allowed with \"%s\": \"%s\"", f->key,
                     cond ? cond->key : "?",
                     cond ? af_value_name((af_value_list)cond->values, f->when.value) : "?");
}

/* TICKS, TICKS_POSITIVE, OPT_TICKS, VALUE, COUNT, NOTIFY_N: an integer in
 * the codec's range (null for AF_NONE where allowed). */
static int read_number(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    af_range range = af_codec_range((af_field_codec)f->codec);
    return int_field(r, obj, f->key, !f->optional, range.lo, range.hi, range.none_ok,
                     af_field_default(f), AF_FIELD_PTR(int32_t, op_of(r, at), f));
}

/* BOOL, KEEP: true or false. */
static int read_bool(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    if (!f->optional && !required(r, obj, f->key))
        return -1;
    return bool_field(r, obj, f->key, af_field_default(f) != 0,
                      AF_FIELD_PTR(bool, op_of(r, at), f));
}

/* ENUM: the name of one of its values. */
static int read_enum(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    return enum_field(r, obj, f->key, !f->optional, 0, (af_value_list)f->values,
                      AF_FIELD_PTR(int, op_of(r, at), f));
}

/* MSG: a cancel message, optional. */
static int read_msg(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    bool failed;
    size_t old;
    const cJSON *m = string_node(r, obj, f->key, !f->optional, &failed, &old);
    if (failed)
        return -1;
    if (!m)
        return 0;
    if (!af_valid_msg(m->valuestring))
        return fail_node(r, m, false,
                         "invalid cancel message (printable ASCII without '\"' or '\\', "
                         "at most %d bytes)",
                         AF_MAX_MSG);
    af_op *op = op_of(r, at);
    op->has_msg = true;
    snprintf(AF_FIELD_PTR(char, op, f), sizeof op->msg, "%s", m->valuestring);
    path_pop(r, old);
    return 0;
}

/* GROUP_NAME, TIMEOUT_NAME, HANDLE_NAME: a name the op defines in the
 * namespace; RESOURCE: spelled as a name, not in the namespace. */
static int read_op_name(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    bool failed;
    size_t old;
    const cJSON *n = string_node(r, obj, f->key, true, &failed, &old);
    if (failed || check_name_syntax(r, n))
        return -1;
    enum name_kind kind = f->codec == AF_FC_GROUP_NAME    ? NAME_GROUP
                          : f->codec == AF_FC_HANDLE_NAME ? NAME_HANDLE
                                                          : NAME_TIMEOUT;
    if (f->codec != AF_FC_RESOURCE && define_name(r, n->valuestring, kind, at->oi, false, n))
        return -1;
    snprintf(AF_FIELD_PTR(char, op_of(r, at), f), AF_MAX_NAME + 1, "%s", n->valuestring);
    path_pop(r, old);
    return 0;
}

/* TASK_REF, TARGET_REF ("self" too), GROUP_REF, TIMEOUT_REF, SCOPE_REF, HANDLE_REF, PRIM_REF: a
 * string naming something defined elsewhere, resolved once the tree is
 * read. */
static int read_ref(struct rd *r, const cJSON *obj, const af_field *f, const struct op_at *at)
{
    static const enum ref_kind kinds[AF_FIELD_CODECS] = {
        [AF_FC_TASK_REF] = REF_TASK,   [AF_FC_TARGET_REF] = REF_TASK,
        [AF_FC_GROUP_REF] = REF_GROUP, [AF_FC_TIMEOUT_REF] = REF_TIMEOUT,
        [AF_FC_SCOPE_REF] = REF_SCOPE, [AF_FC_HANDLE_REF] = REF_HANDLE,
        [AF_FC_PRIM_REF] = REF_PRIM,
    };
    bool failed;
    size_t old;
    const cJSON *n = string_node(r, obj, f->key, !f->optional, &failed, &old);
    if (failed)
        return -1;
    if (!n)
        return 0;
    if (f->codec == AF_FC_TARGET_REF && strcmp(n->valuestring, "self") == 0) {
        op_of(r, at)->ref = AF_SELF;
    } else {
        if (check_name_syntax(r, n) || use_name(r, at->oi, kinds[f->codec], n))
            return -1;
    }
    path_pop(r, old);
    return 0;
}

typedef int (*field_reader)(struct rd *r, const cJSON *obj, const af_field *f,
                            const struct op_at *at);

static const field_reader field_readers[AF_FIELD_CODECS] = {
    [AF_FC_TICKS] = read_number,        [AF_FC_TICKS_POSITIVE] = read_number,
    [AF_FC_OPT_TICKS] = read_number,    [AF_FC_VALUE] = read_number,
    [AF_FC_COUNT] = read_number,        [AF_FC_NOTIFY_N] = read_number,
    [AF_FC_BOOL] = read_bool,           [AF_FC_KEEP] = read_bool,
    [AF_FC_ENUM] = read_enum,           [AF_FC_EXC] = read_exc_field,
    [AF_FC_RAISE] = read_raise,         [AF_FC_MSG] = read_msg,
    [AF_FC_GROUP_NAME] = read_op_name,  [AF_FC_TIMEOUT_NAME] = read_op_name,
    [AF_FC_HANDLE_NAME] = read_op_name, [AF_FC_HANDLE_REF] = read_ref,
    [AF_FC_RESOURCE] = read_op_name,    [AF_FC_TASK_REF] = read_ref,
    [AF_FC_TARGET_REF] = read_ref,      [AF_FC_GROUP_REF] = read_ref,
    [AF_FC_TIMEOUT_REF] = read_ref,     [AF_FC_SCOPE_REF] = read_ref,
    [AF_FC_PRIM_REF] = read_ref,        [AF_FC_ONE_TASK] = read_one_task,
    [AF_FC_CHILDREN] = read_children,   [AF_FC_BODY] = read_body_field,
    [AF_FC_FINALLY] = read_finally,
};

/* The kind of an operation object ("op"), or -1 with the error set. */
static int read_kind(struct rd *r, const cJSON *obj)
{
    const cJSON *opn = required(r, obj, "op");
    if (!opn)
        return -1;
    size_t old = path_key(r, "op");
    if (!cJSON_IsString(opn))
        return wrong_type(r, opn, "a string (the operation's name)");
    int kind = af_op_kind_from_name(opn->valuestring);
    if (kind < 0)
        return fail_node(r, opn, false, "unknown operation \"%.40s%s\"", opn->valuestring,
                         strlen(opn->valuestring) > 40 ? "..." : "");
    path_pop(r, old);
    return kind;
}

/* Every key of the object is "op" or one of the kind's fields. */
static int check_op_keys(struct rd *r, const cJSON *obj, const af_op_spec *spec)
{
    const char *allowed[AF_OP_MAX_FIELDS + 2] = {"op"};
    for (int i = 0; i < spec->nfields; i++)
        allowed[i + 1] = spec->fields[i].key;
    allowed[spec->nfields + 1] = NULL;
    char what[48];
    snprintf(what, sizeof what, "operation \"%s\"", spec->name);
    return check_keys(r, obj, allowed, what);
}

static int read_op(struct rd *r, const cJSON *obj, af_body *body, int task, int parent, int depth)
{
    if (!cJSON_IsObject(obj))
        return wrong_type(r, obj, "an operation object ({\"op\": ...})");
    int kind = read_kind(r, obj);
    if (kind < 0)
        return -1;
    const af_op_spec *spec = af_op_spec_of((af_op_kind)kind);
    if (check_op_keys(r, obj, spec))
        return -1;
    if (depth > AF_MAX_DEPTH)
        return fail_node(r, obj, false, "nested too deep (more than %d levels)", AF_MAX_DEPTH);
    struct op_at at = {af_scenario_add_op(r->s, body, (af_op_kind)kind, task, parent), task, depth};
    if (at.oi == AF_NIL)
        return fail_node(r, obj, false, "more than %d operations", AF_MAX_OPS);
    for (int i = 0; i < spec->nfields; i++) {
        const af_field *f = &spec->fields[i];
        if (field_readers[f->codec](r, obj, f, &at))
            return -1;
    }
    return 0;
}

static int read_body(struct rd *r, const cJSON *arr, af_body *body, int task, int parent, int depth)
{
    if (!cJSON_IsArray(arr))
        return wrong_type(r, arr, "an array of operations");
    int i = 0;
    for (const cJSON *o = arr->child; o; o = o->next, i++) {
        size_t old = path_index(r, i);
        if (read_op(r, o, body, task, parent, depth))
            return -1;
        path_pop(r, old);
    }
    return 0;
}

/* ---- top level ------------------------------------------------------- */

static bool is_utf8_text_line(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true; /* UTF-8 validity is checked by the syntax check */
}

static int read_expect(struct rd *r, const cJSON *obj, af_expect *x)
{
    static const char *const fields[] = {"oracle", "python", "issue", "target", NULL};
    if (!cJSON_IsObject(obj))
        return wrong_type(r, obj, "an expect object ({\"oracle\": ...})");
    if (check_keys(r, obj, fields, "expect"))
        return -1;
    bool failed;
    size_t old;
    const cJSON *o = string_node(r, obj, "oracle", true, &failed, &old);
    if (failed)
        return -1;
    if (!af_oracle_known(o->valuestring)) {
        char list[400] = "";
        size_t used = 0;
        for (int i = 0; af_oracle_names[i] && used < sizeof list; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             af_oracle_names[i]);
            if (w > 0)
                used += (size_t)w;
        }
        return fail_node(r, o, false, "unknown oracle \"%.40s\" (expected one of: %s)",
                         o->valuestring, list);
    }
    snprintf(x->oracle, sizeof x->oracle, "%s", o->valuestring);
    path_pop(r, old);

    const cJSON *py = member(obj, "python");
    if (py) {
        old = path_key(r, "python");
        if (!cJSON_IsArray(py))
            return wrong_type(r, py, "an array of version strings (\"3.11\")");
        if (!py->child)
            return fail_node(r, py, false,
                             "empty version list (leave \"python\" out to mean every version)");
        int i = 0;
        for (const cJSON *v = py->child; v; v = v->next, i++) {
            size_t o2 = path_index(r, i);
            if (i >= AF_MAX_PYVERSIONS)
                return fail_node(r, v, false, "more than %d versions", AF_MAX_PYVERSIONS);
            if (!cJSON_IsString(v))
                return wrong_type(r, v, "a version string (\"3.11\")");
            const char *s = v->valuestring;
            af_pyversion ver;
            const char *why;
            if (af_pyversion_parse(s, &ver, &why) < 0)
                return fail_node(r, v, false, "invalid Python version \"%.40s\" (%s)", s, why);
            for (int j = 0; j < x->npyversions; j++)
                if (af_pyversion_overlap(&x->pyversions[j], &ver)) {
                    char other[AF_PYVERSION_TEXT];
                    af_pyversion_format(&x->pyversions[j], other, sizeof other);
                    if (strcmp(other, s) == 0)
                        return fail_node(r, v, false, "duplicate version \"%s\"", s);
                    return fail_node(r, v, false, "version \"%s\" overlaps \"%s\"", s, other);
                }
            x->pyversions[x->npyversions++] = ver;
            path_pop(r, o2);
        }
        path_pop(r, old);
    }

    const cJSON *is = string_node(r, obj, "issue", false, &failed, &old);
    if (failed)
        return -1;
    if (is) {
        const char *s = is->valuestring;
        size_t n = strlen(s);
        bool ok = n >= 1 && n <= AF_MAX_ISSUE;
        for (size_t i = 0; ok && i < n; i++)
            ok = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
        if (!ok)
            return fail_node(r, is, false,
                             "invalid issue reference (1..%d printable ASCII bytes, no spaces, "
                             "quotes or backslashes, e.g. \"gh-86296\")",
                             AF_MAX_ISSUE);
        memcpy(x->issue, s, n + 1);
        path_pop(r, old);
    }
    const cJSON *tg = string_node(r, obj, "target", false, &failed, &old);
    if (failed)
        return -1;
    if (tg) {
        if (!af_valid_target_name(tg->valuestring))
            return fail_node(r, tg, false,
                             "invalid target name (a target adapter's NAME: 1..%d letters, digits, "
                             "'_', '-', '.', e.g. \"async-timeout\")",
                             AF_MAX_TARGET_NAME);
        snprintf(x->target, sizeof x->target, "%s", tg->valuestring);
        path_pop(r, old);
    }
    return 0;
}

static int read_primitive(struct rd *r, const cJSON *obj)
{
    static const char *const fields[] = {"name", "kind", "value", "maxsize", NULL};
    if (!cJSON_IsObject(obj))
        return wrong_type(r, obj, "a primitive object ({\"name\": ..., \"kind\": ...})");
    if (check_keys(r, obj, fields, "primitive"))
        return -1;
    bool failed;
    size_t old;
    const cJSON *n = string_node(r, obj, "name", true, &failed, &old);
    if (failed || check_name_syntax(r, n))
        return -1;
    if (define_name(r, n->valuestring, NAME_PRIM, r->s->nprims, false, n))
        return -1;
    const cJSON *name = n;
    path_pop(r, old);
    int kind;
    if (enum_field(r, obj, "kind", true, 0, AF_VALUES_PRIM_KIND, &kind))
        return -1;
    int32_t param = 0;
    const cJSON *val = member(obj, "value"), *maxsize = member(obj, "maxsize");
    if (val && kind != AF_PRIM_SEMAPHORE) {
        path_key(r, "value");
        return fail_node(r, val, true, "field \"value\" is only allowed for a semaphore");
    }
    if (maxsize && kind != AF_PRIM_QUEUE) {
        path_key(r, "maxsize");
        return fail_node(r, maxsize, true, "field \"maxsize\" is only allowed for a queue");
    }
    if (kind == AF_PRIM_SEMAPHORE &&
        int_field(r, obj, "value", false, 1, AF_MAX_SMALL, false, 1, &param))
        return -1;
    if (kind == AF_PRIM_QUEUE &&
        int_field(r, obj, "maxsize", false, 0, AF_MAX_SMALL, false, 0, &param))
        return -1;
    int pi = af_scenario_add_primitive(r->s, (af_prim_kind)kind, name->valuestring, param);
    if (pi == AF_NIL)
        return fail_node(r, obj, false, "more than %d primitives", AF_MAX_PRIMITIVES);
    return 0;
}

static int read_top(struct rd *r, const cJSON *root)
{
    static const char *const fields[] = {"asyncfuzz",  "description", "expect",
                                         "primitives", "main",        NULL};
    if (!cJSON_IsObject(root))
        return wrong_type(r, root, "a scenario object ({\"asyncfuzz\": 1, ...})");
    /* The version first: a file of another version gets that message
     * rather than one about a field this version does not know. */
    const cJSON *ver = member(root, "asyncfuzz");
    if (!ver)
        return fail_node(r, root, false,
                         "missing required field \"asyncfuzz\" (the format version, %d)",
                         AF_SCHEMA_VERSION);
    size_t old = path_key(r, "asyncfuzz");
    char lit[48];
    if (!cJSON_IsNumber(ver))
        return wrong_type(r, ver, "an integer (the format version)");
    if (!integer_literal(r, ver, lit))
        return fail_node(r, ver, false, "expected an integer (the format version, %d), found %s",
                         AF_SCHEMA_VERSION, lit);
    if (ver->valuedouble != (double)AF_SCHEMA_VERSION)
        return fail_node(r, ver, false, "unsupported format version %g (this build reads %d)",
                         ver->valuedouble, AF_SCHEMA_VERSION);
    path_pop(r, old);
    if (check_keys(r, root, fields, "the scenario"))
        return -1;

    bool failed;
    const cJSON *d = string_node(r, root, "description", true, &failed, &old);
    if (failed)
        return -1;
    if (strlen(d->valuestring) > AF_MAX_DESCRIPTION)
        return fail_node(r, d, false, "longer than %d bytes", AF_MAX_DESCRIPTION);
    if (!is_utf8_text_line(d->valuestring))
        return fail_node(r, d, false, "must be one line without control characters");
    snprintf(r->s->description, sizeof r->s->description, "%s", d->valuestring);
    path_pop(r, old);

    const cJSON *ex = required(r, root, "expect");
    if (!ex)
        return -1;
    old = path_key(r, "expect");
    if (!cJSON_IsArray(ex))
        return wrong_type(r, ex, "an array of expect objects");
    int i = 0;
    for (const cJSON *x = ex->child; x; x = x->next, i++) {
        size_t o2 = path_index(r, i);
        if (i >= AF_MAX_EXPECT)
            return fail_node(r, x, false, "more than %d expected verdicts", AF_MAX_EXPECT);
        if (read_expect(r, x, &r->s->expect[i]))
            return -1;
        r->s->nexpect = (int16_t)(i + 1);
        path_pop(r, o2);
    }
    path_pop(r, old);

    const cJSON *pr = member(root, "primitives");
    if (pr) {
        old = path_key(r, "primitives");
        if (!cJSON_IsArray(pr))
            return wrong_type(r, pr, "an array of primitive objects");
        i = 0;
        for (const cJSON *p = pr->child; p; p = p->next, i++) {
            size_t o2 = path_index(r, i);
            if (read_primitive(r, p))
                return -1;
            path_pop(r, o2);
        }
        path_pop(r, old);
    }

    const cJSON *m = required(r, root, "main");
    if (!m)
        return -1;
    old = path_key(r, "main");
    if (!cJSON_IsObject(m))
        return wrong_type(r, m, "a task object ({\"name\": ..., \"body\": [...]})");
    static const char *const task_fields[] = {"name", "body", NULL};
    if (check_keys(r, m, task_fields, "task"))
        return -1;
    const cJSON *name = member(m, "name");
    if (name) {
        size_t o2 = path_key(r, "name");
        if (!cJSON_IsString(name))
            return wrong_type(r, name, "a string");
        if (check_name_syntax(r, name) ||
            define_name(r, name->valuestring, NAME_TASK, 0, false, name))
            return -1;
        snprintf(r->s->tasks[0].name, sizeof r->s->tasks[0].name, "%s", name->valuestring);
        path_pop(r, o2);
    } else if (define_name(r, "main", NAME_TASK, 0, true, m)) {
        return -1;
    }
    const cJSON *body = required(r, m, "body");
    if (!body)
        return -1;
    size_t o3 = path_key(r, "body");
    if (read_body(r, body, &r->s->tasks[0].body, 0, AF_NIL, 1))
        return -1;
    path_pop(r, o3);
    path_pop(r, old);
    return 0;
}

/* The node a validator path (main.body[2].task.ticks) names, or the
 * deepest node on the way that exists. */
static const cJSON *node_at_path(const cJSON *root, const char *path)
{
    const cJSON *n = root;
    const char *p = path;
    while (*p && n) {
        const cJSON *next = NULL;
        if (*p == '.')
            p++;
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !cJSON_IsArray(n))
                break;
            next = cJSON_GetArrayItem(n, (int)i);
            p = end + 1;
        } else {
            size_t k = strcspn(p, ".[");
            char key[64];
            if (k >= sizeof key || !cJSON_IsObject(n))
                break;
            memcpy(key, p, k);
            key[k] = '\0';
            next = cJSON_GetObjectItemCaseSensitive(n, key);
            p += k;
        }
        if (!next)
            break;
        n = next;
    }
    return n;
}

int af_json_read(const char *text, size_t len, af_scenario *out, af_error *err)
{
    af_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    af_scenario_init(out);
    if (len > AF_JSON_MAX_BYTES) {
        af_error_set(err, "", "input is %zu bytes, larger than the limit of %d bytes", len,
                     AF_JSON_MAX_BYTES);
        return -1;
    }
    size_t off;
    char msg[sizeof err->message];
    if (af_json_syntax_check(text, len, &off, msg, sizeof msg)) {
        af_error_set(err, "", "invalid JSON: %s", msg);
        af_json_line_col(text, len, off, &err->line, &err->column);
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* Valid JSON that cJSON refuses: out of memory. Its error pointer is
         * the offset where it stopped (clamped to the last byte). */
        af_error_set(err, "", "cJSON could not parse the text (out of memory?)");
        if (end && end >= text && (size_t)(end - text) <= len)
            af_json_line_col(text, len, (size_t)(end - text), &err->line, &err->column);
        return -1;
    }
    struct rd *r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(root);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    r->text = text;
    r->len = len;
    r->root = root;
    r->s = out;
    r->err = err;
    int rc = read_top(r, root);
    if (rc == 0)
        rc = resolve_refs(r);
    if (rc == 0 && af_scenario_validate(out, err) != 0) {
        /* the validator names a path; find it in the text */
        const cJSON *n = node_at_path(root, err->path);
        err->line = err->column = 0;
        size_t val, key;
        if (n && af_json_locate(text, len, root, n, &val, &key) == 0)
            af_json_line_col(text, len, val, &err->line, &err->column);
        rc = -1;
    }
    free(r);
    cJSON_Delete(root);
    if (rc != 0)
        af_scenario_init(out);
    return rc;
}

int af_json_read_file(const char *path, af_scenario *out, af_error *err)
{
    af_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    af_scenario_init(out);
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        af_error_set(err, "", "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = AF_JSON_MAX_BYTES + 1;
    char *buf = malloc(cap);
    if (!buf) {
        if (!is_stdin)
            fclose(f);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    size_t n = 0, got;
    while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0)
        n += got;
    int read_error = ferror(f);
    int saved = errno;
    if (!is_stdin)
        fclose(f);
    int rc;
    if (read_error) {
        af_error_set(err, "", "cannot read: %s", strerror(saved));
        rc = -1;
    } else if (n > AF_JSON_MAX_BYTES) {
        af_error_set(err, "", "file larger than the limit of %d bytes", AF_JSON_MAX_BYTES);
        rc = -1;
    } else {
        rc = af_json_read(buf, n, out, err);
    }
    free(buf);
    return rc;
}
