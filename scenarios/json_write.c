/* json_write.c - scenario IR -> canonical JSON text (SCHEMA.md, "Canonical
 * form").
 *
 * The IR is first turned into a cJSON tree with the keys in SCHEMA.md's
 * order and optional fields at their default left out; a printer of our own
 * (not cJSON_Print, whose layout is not ours to fix) then lays it out:
 * 2-space indentation; a container with no object inside it goes on one
 * line (`{"op": "sleep", "ticks": 3}`, `["3.11", "3.12"]`), any other one
 * member per line; `": "` after keys and `", "` between one-line members;
 * integers in decimal; strings with `"`, `\` and control characters escaped
 * (\b \f \n \r \t, else \u00XX; DEL as \u007f), other bytes (UTF-8) as is;
 * a final newline.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/json.h"
#include "scenarios/ops.h"

struct wr {
    const af_scenario *s;
    bool oom;
    int depth; /* guards against a corrupt (cyclic) IR */
};

/* ---- IR -> tree ------------------------------------------------------ */

static void check(struct wr *w, const void *p)
{
    if (!p)
        w->oom = true;
}

static void put_int(struct wr *w, cJSON *obj, const char *key, long v)
{
    check(w, cJSON_AddNumberToObject(obj, key, (double)v));
}

static void put_ticks(struct wr *w, cJSON *obj, const char *key, int32_t v)
{
    if (v == AF_NONE)
        check(w, cJSON_AddNullToObject(obj, key));
    else
        put_int(w, obj, key, v);
}

static void put_str(struct wr *w, cJSON *obj, const char *key, const char *v)
{
    check(w, cJSON_AddStringToObject(obj, key, v ? v : "?"));
}

static void put_bool(struct wr *w, cJSON *obj, const char *key, bool v)
{
    check(w, cJSON_AddBoolToObject(obj, key, v));
}

static cJSON *body_json(struct wr *w, const af_body *b);

static cJSON *task_json(struct wr *w, int ti)
{
    cJSON *t = cJSON_CreateObject();
    check(w, t);
    if (!t || ti < 0 || ti >= w->s->ntasks)
        return t;
    put_str(w, t, "name", w->s->tasks[ti].name);
    cJSON *b = body_json(w, &w->s->tasks[ti].body);
    if (!b || !cJSON_AddItemToObject(t, "body", b)) {
        cJSON_Delete(b);
        w->oom = true;
    }
    return t;
}

static void put_item(struct wr *w, cJSON *obj, const char *key, cJSON *item)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        w->oom = true;
    }
}

static void put_body(struct wr *w, cJSON *obj, const char *key, const af_body *b)
{
    put_item(w, obj, key, body_json(w, b));
}

static void put_children(struct wr *w, cJSON *obj, const char *key, const af_op *op)
{
    cJSON *arr = cJSON_CreateArray();
    check(w, arr);
    if (arr) {
        int n = 0;
        for (int ti = op->children.head; ti >= 0 && ti < w->s->ntasks && n < AF_MAX_TASKS;
             ti = w->s->tasks[ti].next, n++) {
            cJSON *t = task_json(w, ti);
            if (!t || !cJSON_AddItemToArray(arr, t)) {
                cJSON_Delete(t);
                w->oom = true;
            }
        }
    }
    put_item(w, obj, key, arr);
}

static void put_exc(struct wr *w, cJSON *obj, const char *key, const af_exc *e)
{
    cJSON *x = cJSON_CreateObject();
    if (x) {
        put_str(w, x, "kind", af_exc_kind_name(e->kind));
        put_int(w, x, "id", e->id);
    }
    put_item(w, obj, key, x);
}

static const char *task_name(const af_scenario *s, int ref)
{
    return ref >= 0 && ref < s->ntasks ? s->tasks[ref].name : "?";
}

static const char *op_name(const af_scenario *s, int ref)
{
    return ref >= 0 && ref < s->nops ? s->ops[ref].name : "?";
}

static const char *prim_name(const af_scenario *s, int ref)
{
    return ref >= 0 && ref < s->nprims ? s->prims[ref].name : "?";
}

/* Whether field f of op is written: required fields always; optional ones
 * when not at their default (a finally, a message, a group: when there). */
static bool is_written(const af_op *op, const af_field *f)
{
    if (f->codec == AF_FC_RAISE)
        return af_cond_holds(&f->when, op);
    if (!f->optional)
        return true;
    switch (f->codec) {
    case AF_FC_MSG:
        return op->has_msg;
    case AF_FC_FINALLY:
        return op->has_finally;
    case AF_FC_GROUP_REF:
        return op->ref != AF_NIL;
    case AF_FC_CHILDREN:
        return op->children.count != 0;
    case AF_FC_BODY:
        return AF_FIELD_CPTR(af_body, op, f)->count != 0;
    default:
        return af_field_int(op, f) != af_field_default(f);
    }
}

/* The value of a reference field: the name it resolves to. */
static const char *ref_text(const af_scenario *s, const af_op *op, const af_field *f)
{
    switch (f->codec) {
    case AF_FC_TASK_REF:
        return task_name(s, op->ref);
    case AF_FC_TARGET_REF:
        return op->ref == AF_SELF ? "self" : task_name(s, op->ref);
    case AF_FC_PRIM_REF:
        return prim_name(s, op->ref);
    default: /* GROUP_REF, TIMEOUT_REF, SCOPE_REF, HANDLE_REF */
        return op_name(s, op->ref);
    }
}

static void put_field(struct wr *w, cJSON *o, const af_op *op, const af_field *f)
{
    const char *key = f->key;
    if (af_codec_is_ref(f->codec)) {
        put_str(w, o, key, ref_text(w->s, op, f));
        return;
    }
    switch (f->codec) {
    case AF_FC_OPT_TICKS:
    case AF_FC_NOTIFY_N: /* AF_NONE: null (no timeout, notify_all()) */
        put_ticks(w, o, key, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    case AF_FC_BOOL:
    case AF_FC_KEEP:
        put_bool(w, o, key, *AF_FIELD_CPTR(bool, op, f));
        break;
    case AF_FC_ENUM:
        put_str(w, o, key, af_value_name((af_value_list)f->values, *AF_FIELD_CPTR(int, op, f)));
        break;
    case AF_FC_EXC:
    case AF_FC_RAISE:
        put_exc(w, o, key, AF_FIELD_CPTR(af_exc, op, f));
        break;
    case AF_FC_MSG:
    case AF_FC_GROUP_NAME:
    case AF_FC_TIMEOUT_NAME:
    case AF_FC_HANDLE_NAME:
    case AF_FC_RESOURCE:
        put_str(w, o, key, AF_FIELD_CPTR(char, op, f));
        break;
    case AF_FC_ONE_TASK:
        put_item(w, o, key, task_json(w, op->children.head));
        break;
    case AF_FC_CHILDREN:
        put_children(w, o, key, op);
        break;
    case AF_FC_BODY:
    case AF_FC_FINALLY:
        put_body(w, o, key, AF_FIELD_CPTR(af_body, op, f));
        break;
    default: /* TICKS, TICKS_POSITIVE, VALUE, COUNT */
        put_int(w, o, key, *AF_FIELD_CPTR(int32_t, op, f));
        break;
    }
}

static cJSON *op_json(struct wr *w, const af_op *op)
{
    cJSON *o = cJSON_CreateObject();
    check(w, o);
    if (!o)
        return NULL;
    const af_op_spec *spec = af_op_spec_of(op->kind);
    put_str(w, o, "op", spec->name);
    for (int i = 0; i < spec->nfields; i++)
        if (is_written(op, &spec->fields[i]))
            put_field(w, o, op, &spec->fields[i]);
    return o;
}

static cJSON *body_json(struct wr *w, const af_body *b)
{
    cJSON *arr = cJSON_CreateArray();
    check(w, arr);
    if (!arr)
        return NULL;
    if (++w->depth > 4 * AF_MAX_DEPTH) {
        w->depth--;
        return arr;
    }
    int n = 0;
    for (int oi = b->head; oi >= 0 && oi < w->s->nops && n < AF_MAX_OPS;
         oi = w->s->ops[oi].next, n++) {
        cJSON *o = op_json(w, &w->s->ops[oi]);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            w->oom = true;
        }
    }
    w->depth--;
    return arr;
}

static cJSON *scenario_json(struct wr *w)
{
    const af_scenario *s = w->s;
    cJSON *root = cJSON_CreateObject();
    check(w, root);
    if (!root)
        return NULL;
    put_int(w, root, "asyncfuzz", AF_SCHEMA_VERSION);
    put_str(w, root, "description", s->description);
    cJSON *ex = cJSON_CreateArray();
    for (int i = 0; ex && i < s->nexpect && i < AF_MAX_EXPECT; i++) {
        const af_expect *x = &s->expect[i];
        cJSON *e = cJSON_CreateObject();
        if (e) {
            put_str(w, e, "oracle", x->oracle);
            if (x->npyversions > 0) {
                cJSON *py = cJSON_CreateArray();
                for (int j = 0; py && j < x->npyversions && j < AF_MAX_PYVERSIONS; j++) {
                    char v[AF_PYVERSION_TEXT];
                    af_pyversion_format(&x->pyversions[j], v, sizeof v);
                    cJSON *vs = cJSON_CreateString(v);
                    if (!vs || !cJSON_AddItemToArray(py, vs)) {
                        cJSON_Delete(vs);
                        w->oom = true;
                    }
                }
                put_item(w, e, "python", py);
            }
            if (x->issue[0])
                put_str(w, e, "issue", x->issue);
            if (x->target[0])
                put_str(w, e, "target", x->target);
        }
        if (!e || !cJSON_AddItemToArray(ex, e)) {
            cJSON_Delete(e);
            w->oom = true;
        }
    }
    put_item(w, root, "expect", ex);
    if (s->nprims > 0) {
        cJSON *pr = cJSON_CreateArray();
        for (int i = 0; pr && i < s->nprims && i < AF_MAX_PRIMITIVES; i++) {
            const af_primitive *p = &s->prims[i];
            cJSON *po = cJSON_CreateObject();
            if (po) {
                put_str(w, po, "name", p->name);
                put_str(w, po, "kind", af_prim_kind_name(p->kind));
                if (p->kind == AF_PRIM_SEMAPHORE && p->param != 1)
                    put_int(w, po, "value", p->param);
                if (p->kind == AF_PRIM_QUEUE && p->param != 0)
                    put_int(w, po, "maxsize", p->param);
            }
            if (!po || !cJSON_AddItemToArray(pr, po)) {
                cJSON_Delete(po);
                w->oom = true;
            }
        }
        put_item(w, root, "primitives", pr);
    }
    put_item(w, root, "main", task_json(w, 0));
    return root;
}

/* ---- tree -> text ---------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void emit(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void emits(struct buf *b, const char *s)
{
    emit(b, s, strlen(s));
}

static void emit_string(struct buf *b, const char *s)
{
    emit(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            p++;
        emit(b, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        char esc[8];
        switch (*p) {
        case '"':
            emits(b, "\\\"");
            break;
        case '\\':
            emits(b, "\\\\");
            break;
        case '\b':
            emits(b, "\\b");
            break;
        case '\f':
            emits(b, "\\f");
            break;
        case '\n':
            emits(b, "\\n");
            break;
        case '\r':
            emits(b, "\\r");
            break;
        case '\t':
            emits(b, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            emits(b, esc);
            break;
        }
        p++;
    }
    emit(b, "\"", 1);
}

static bool has_object_inside(const cJSON *n)
{
    for (const cJSON *c = n->child; c; c = c->next)
        if (cJSON_IsObject(c) || (cJSON_IsArray(c) && has_object_inside(c)))
            return true;
    return false;
}

static void emit_indent(struct buf *b, int indent)
{
    static const char spaces[] = "                                ";
    while (indent > 0) {
        int n = indent < 32 ? indent : 32;
        emit(b, spaces, (size_t)n);
        indent -= n;
    }
}

static void emit_value(struct buf *b, const cJSON *n, int indent)
{
    if (cJSON_IsString(n)) {
        emit_string(b, n->valuestring);
    } else if (cJSON_IsNumber(n)) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)n->valuedouble);
        emits(b, num);
    } else if (cJSON_IsBool(n)) {
        emits(b, cJSON_IsTrue(n) ? "true" : "false");
    } else if (cJSON_IsNull(n)) {
        emits(b, "null");
    } else {
        bool object = cJSON_IsObject(n);
        emits(b, object ? "{" : "[");
        bool multi = has_object_inside(n);
        for (const cJSON *c = n->child; c; c = c->next) {
            if (multi) {
                emits(b, "\n");
                emit_indent(b, indent + 2);
            }
            if (object) {
                emit_string(b, c->string);
                emits(b, ": ");
            }
            emit_value(b, c, indent + 2);
            if (c->next)
                emits(b, multi ? "," : ", ");
        }
        if (multi) {
            emits(b, "\n");
            emit_indent(b, indent);
        }
        emits(b, object ? "}" : "]");
    }
}

char *af_json_write(const af_scenario *s)
{
    struct wr w = {.s = s};
    cJSON *root = scenario_json(&w);
    if (!root || w.oom) {
        cJSON_Delete(root);
        return NULL;
    }
    struct buf b = {0};
    emit_value(&b, root, 0);
    emits(&b, "\n");
    cJSON_Delete(root);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
