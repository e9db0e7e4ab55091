/* trace.c - the typed trace: storage, builders, JSON-lines text form.
 *
 * The text form is byte-identical to Python's
 * json.dumps(list(event), separators=(",", ":")) (ensure_ascii=True): see
 * af_json_put_string for the escaping rules. Names, builders and the field
 * layouts that the writer and the reader walk are generated from
 * trace_events.def; nothing here lists an event's fields by hand.
 */
#include "harness/run/trace.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *const ev_kind_names[AF_EV_KIND_COUNT] = {
#define AF_TRACE_EVENT(ID, name, when) #name,
#include "harness/run/trace_events.def"
};

static int name_lookup(const char *const *names, int n, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < n; i++) /* first byte first: most names differ there */
        if (names[i][0] == name[0] && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *af_ev_kind_name(af_ev_kind k)
{
    return (unsigned)k < AF_EV_KIND_COUNT ? ev_kind_names[k] : NULL;
}
int af_ev_kind_from_name(const char *n)
{
    return name_lookup(ev_kind_names, AF_EV_KIND_COUNT, n);
}

/* <enum>_names[] and af_<enum>_name / af_<enum>_from_name, per enum. */
#define AF_TRACE_VALUE(ID, text) text,
#define AF_TRACE_ENUM(name, PREFIX, values)                                                        \
    static const char *const name##_names[PREFIX##_COUNT] = {values};                              \
    const char *af_##name##_name(af_##name v)                                                      \
    {                                                                                              \
        return (unsigned)v < PREFIX##_COUNT ? name##_names[v] : NULL;                              \
    }                                                                                              \
    int af_##name##_from_name(const char *text)                                                    \
    {                                                                                              \
        return name_lookup(name##_names, PREFIX##_COUNT, text);                                    \
    }
#include "harness/run/trace_events.def"

/* ---- layouts -------------------------------------------------------------- */

/* Every field fills a member of the C type its TYPE stores. */
#define AF_TRACE_CTYPE_INT int
#define AF_TRACE_CTYPE_I64 int64_t
#define AF_TRACE_CTYPE_BOOL int
#define AF_TRACE_CTYPE_STR const char *
#define AF_TRACE_CTYPE_OPT_STR const char *
#define AF_TRACE_CTYPE_DETAIL af_detail
#define MEMBER_IS(member, c_type) _Generic(((af_event *)0)->member, c_type : 1, default : 0)
#define CHECK_FIELD(TYPE, label, member, note)                                                     \
    _Static_assert(MEMBER_IS(member, AF_TRACE_CTYPE_##TYPE),                                       \
                   #label ": member " #member " is not a " #TYPE);
#define CHECK_ENUM_FIELD(enum, label, member, note)                                                \
    _Static_assert(MEMBER_IS(member, int), #label ": member " #member " is not an int");
#define AF_TRACE_EVENT(ID, name, when) AF_TRACE_FIELDS_##ID(CHECK_FIELD, CHECK_ENUM_FIELD)
#include "harness/run/trace_events.def"

#define FIELD_LAYOUT(TYPE, label, member, note)                                                    \
    {#label, AF_FIELD_##TYPE, offsetof(af_event, member), NULL, 0},
#define ENUM_FIELD_LAYOUT(enum, label, member, note)                                               \
    {#label, AF_FIELD_ENUM, offsetof(af_event, member), enum##_names,                              \
     (int)(sizeof enum##_names / sizeof enum##_names[0])},
#define AF_TRACE_EVENT(ID, name, when)                                                             \
    static const af_field_layout fields_##ID[] = {                                                 \
        AF_TRACE_FIELDS_##ID(FIELD_LAYOUT, ENUM_FIELD_LAYOUT)};
#include "harness/run/trace_events.def"

static const af_event_layout layouts[AF_EV_KIND_COUNT] = {
#define AF_TRACE_EVENT(ID, name, when)                                                             \
    [AF_EV_##ID] = {#name, (int)(sizeof fields_##ID / sizeof fields_##ID[0]), fields_##ID},
#include "harness/run/trace_events.def"
};

const af_event_layout *af_event_layout_of(af_ev_kind kind)
{
    return (unsigned)kind < AF_EV_KIND_COUNT ? &layouts[kind] : NULL;
}

/* A field's member in ev, by the type it has. */
static int *int_at(const af_event *ev, const af_field_layout *f)
{
    return (int *)((char *)ev + f->offset);
}
static int64_t *i64_at(const af_event *ev, const af_field_layout *f)
{
    return (int64_t *)((char *)ev + f->offset);
}
static const char **str_at(const af_event *ev, const af_field_layout *f)
{
    return (const char **)((char *)ev + f->offset);
}

/* ---- storage ------------------------------------------------------------ */

int af_trace_init(af_trace *tr, int max_events, size_t arena_bytes)
{
    memset(tr, 0, sizeof *tr);
    if (max_events <= 0)
        max_events = AF_TRACE_DEFAULT_EVENTS;
    if (arena_bytes == 0)
        arena_bytes = AF_TRACE_DEFAULT_ARENA;
    tr->events = calloc((size_t)max_events, sizeof *tr->events);
    tr->arena = malloc(arena_bytes);
    if (!tr->events || !tr->arena) {
        free(tr->events);
        free(tr->arena);
        memset(tr, 0, sizeof *tr);
        return -1;
    }
    tr->max_events = max_events;
    tr->arena_cap = arena_bytes;
    return 0;
}

void af_trace_reset(af_trace *tr)
{
    tr->nevents = 0;
    tr->arena_used = 0;
    tr->overflow = 0;
}

void af_trace_free(af_trace *tr)
{
    free(tr->events);
    free(tr->arena);
    memset(tr, 0, sizeof *tr);
}

void af_event_init(af_event *ev, af_ev_kind kind, int64_t vtime, int64_t iter)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->vtime = vtime;
    ev->iter = iter;
#define AF_TRACE_MEMBER(c_type, member, unused) ev->member = unused;
#include "harness/run/trace_events.def"
}

static const char *arena_copy(af_trace *tr, const char *s, size_t *used)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    if (*used + n > tr->arena_cap || *used + n < *used)
        return (const char *)-1;
    char *dst = tr->arena + *used;
    memcpy(dst, s, n);
    *used += n;
    return dst;
}

int af_trace_append(af_trace *tr, const af_event *ev)
{
    if (!tr->events || tr->nevents >= tr->max_events || (unsigned)ev->kind >= AF_EV_KIND_COUNT) {
        tr->overflow = 1;
        return -1;
    }
    af_event e = *ev;
    size_t used = tr->arena_used;
    const char **strs[] = {
#define AF_TRACE_STRING(member) &e.member,
#include "harness/run/trace_events.def"
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *c = arena_copy(tr, *strs[i], &used);
        if (c == (const char *)-1) {
            tr->overflow = 1;
            return -1;
        }
        *strs[i] = c;
    }
    if (e.detail != AF_DETAIL_STR)
        e.detail_str = NULL;
    tr->arena_used = used;
    tr->events[tr->nevents++] = e;
    return 0;
}

/* ---- builders ----------------------------------------------------------- */

static void set_detail(af_event *ev, af_detail detail, int64_t detail_a, int64_t detail_b,
                       const char *detail_str)
{
    ev->detail = detail;
    if (detail == AF_DETAIL_BOOL) {
        ev->detail_a = !!detail_a;
    } else if (detail == AF_DETAIL_PAIR) {
        ev->detail_a = detail_a;
        ev->detail_b = detail_b;
    } else if (detail == AF_DETAIL_STR) {
        if (!detail_str)
            ev->detail = AF_DETAIL_NONE;
        ev->detail_str = detail_str;
    }
}

#define SET_INT(member, label) ev.member = label;
#define SET_I64(member, label) ev.member = label;
#define SET_BOOL(member, label) ev.member = !!label;
#define SET_STR(member, label) ev.member = label;
#define SET_OPT_STR(member, label) ev.member = label;
#define SET_DETAIL(member, label) set_detail(&ev, detail, detail_a, detail_b, detail_str);
#define SET_FIELD(TYPE, label, member, note) SET_##TYPE(member, label)
#define SET_ENUM_FIELD(enum, label, member, note) ev.member = label;
#define AF_TRACE_EVENT(ID, name, when)                                                             \
    int af_trace_##name(af_trace *tr, int64_t vtime,                                               \
                        int64_t iter AF_TRACE_FIELDS_##ID(AF_TRACE_PARAM, AF_TRACE_ENUM_PARAM))    \
    {                                                                                              \
        af_event ev;                                                                               \
        af_event_init(&ev, AF_EV_##ID, vtime, iter);                                               \
        AF_TRACE_FIELDS_##ID(SET_FIELD, SET_ENUM_FIELD) return af_trace_append(tr, &ev);           \
    }
#include "harness/run/trace_events.def"

/* ---- writer ------------------------------------------------------------- */

static void put_bytes(char *buf, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (*pos < cap) {
        size_t room = cap - *pos;
        memcpy(buf + *pos, s, n < room ? n : room);
    }
    *pos += n;
}

static void put_char(char *buf, size_t cap, size_t *pos, char c)
{
    if (*pos < cap)
        buf[*pos] = c;
    (*pos)++;
}

static void put_u16(char *buf, size_t cap, size_t *pos, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[6] = {'\\',       'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15],
                   hex[v & 15]};
    put_bytes(buf, cap, pos, tmp, 6);
}

static void put_i64(char *buf, size_t cap, size_t *pos, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    put_bytes(buf, cap, pos, tmp, (size_t)n);
}

/* Decode one UTF-8 sequence at s (n bytes left): code point or -1 when
 * invalid (then consumes one byte). Rejects overlongs and > U+10FFFF;
 * accepts encoded surrogates (Python's surrogatepass would produce them). */
static long utf8_decode(const unsigned char *s, size_t n, size_t *used)
{
    unsigned c = s[0];
    *used = 1;
    if (c < 0x80)
        return c;
    int len;
    long cp, min;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else
        return -1;
    if ((size_t)len > n)
        return -1;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff)
        return -1;
    *used = (size_t)len;
    return cp;
}

void af_json_put_string(char *buf, size_t cap, size_t *pos, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    put_char(buf, cap, pos, '"');
    size_t i = 0;
    while (i < len) {
        size_t used;
        long cp = utf8_decode(p + i, len - i, &used);
        i += used;
        if (cp < 0)
            cp = 0xfffd;
        switch (cp) {
        case '"':
            put_bytes(buf, cap, pos, "\\\"", 2);
            continue;
        case '\\':
            put_bytes(buf, cap, pos, "\\\\", 2);
            continue;
        case '\n':
            put_bytes(buf, cap, pos, "\\n", 2);
            continue;
        case '\r':
            put_bytes(buf, cap, pos, "\\r", 2);
            continue;
        case '\t':
            put_bytes(buf, cap, pos, "\\t", 2);
            continue;
        case '\b':
            put_bytes(buf, cap, pos, "\\b", 2);
            continue;
        case '\f':
            put_bytes(buf, cap, pos, "\\f", 2);
            continue;
        default:
            break;
        }
        if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000)) {
            put_u16(buf, cap, pos, (unsigned)cp);
        } else if (cp < 0x80) {
            put_char(buf, cap, pos, (char)cp);
        } else {
            long v = cp - 0x10000;
            put_u16(buf, cap, pos, (unsigned)(0xd800 | (v >> 10)));
            put_u16(buf, cap, pos, (unsigned)(0xdc00 | (v & 0x3ff)));
        }
    }
    put_char(buf, cap, pos, '"');
}

static void put_str_or_null(char *buf, size_t cap, size_t *pos, const char *s)
{
    if (!s)
        put_bytes(buf, cap, pos, "null", 4);
    else
        af_json_put_string(buf, cap, pos, s, strlen(s));
}

static void put_name(char *buf, size_t cap, size_t *pos, const char *name, int v)
{
    if (name)
        af_json_put_string(buf, cap, pos, name, strlen(name));
    else
        put_i64(buf, cap, pos, v); /* out of range: keep the number visible */
}

static void put_bool(char *buf, size_t cap, size_t *pos, int64_t v)
{
    if (v)
        put_bytes(buf, cap, pos, "true", 4);
    else
        put_bytes(buf, cap, pos, "false", 5);
}

static void put_detail(const af_event *ev, char *buf, size_t cap, size_t *pos)
{
    switch (ev->detail) {
    case AF_DETAIL_BOOL:
        put_bool(buf, cap, pos, ev->detail_a);
        break;
    case AF_DETAIL_PAIR:
        put_char(buf, cap, pos, '[');
        put_i64(buf, cap, pos, ev->detail_a);
        put_char(buf, cap, pos, ',');
        put_i64(buf, cap, pos, ev->detail_b);
        put_char(buf, cap, pos, ']');
        break;
    case AF_DETAIL_STR:
        put_str_or_null(buf, cap, pos, ev->detail_str);
        break;
    default:
        put_bytes(buf, cap, pos, "null", 4);
        break;
    }
}

static void put_field(const af_event *ev, const af_field_layout *f, char *buf, size_t cap,
                      size_t *pos)
{
    switch (f->type) {
    case AF_FIELD_INT:
        put_i64(buf, cap, pos, *int_at(ev, f));
        break;
    case AF_FIELD_I64:
        put_i64(buf, cap, pos, *i64_at(ev, f));
        break;
    case AF_FIELD_BOOL:
        put_bool(buf, cap, pos, *int_at(ev, f));
        break;
    case AF_FIELD_STR:
    case AF_FIELD_OPT_STR:
        put_str_or_null(buf, cap, pos, *str_at(ev, f));
        break;
    case AF_FIELD_ENUM: {
        int v = *int_at(ev, f);
        put_name(buf, cap, pos, (unsigned)v < (unsigned)f->nvalues ? f->values[v] : NULL, v);
        break;
    }
    case AF_FIELD_DETAIL:
        put_detail(ev, buf, cap, pos);
        break;
    }
}

static void put_event(const af_event *ev, char *buf, size_t cap, size_t *pos)
{
    put_char(buf, cap, pos, '[');
    put_name(buf, cap, pos, af_ev_kind_name(ev->kind), (int)ev->kind);
    put_char(buf, cap, pos, ',');
    put_i64(buf, cap, pos, ev->vtime);
    put_char(buf, cap, pos, ',');
    put_i64(buf, cap, pos, ev->iter);
    const af_event_layout *l = af_event_layout_of(ev->kind);
    for (int i = 0; l && i < l->nfields; i++) {
        put_char(buf, cap, pos, ',');
        put_field(ev, &l->fields[i], buf, cap, pos);
    }
    put_char(buf, cap, pos, ']');
}

static size_t finish(char *buf, size_t cap, size_t pos)
{
    if (cap > 0)
        buf[pos < cap ? pos : cap - 1] = '\0';
    return pos;
}

size_t af_event_write_json(const af_event *ev, char *buf, size_t cap)
{
    size_t pos = 0;
    put_event(ev, buf, cap, &pos);
    return finish(buf, cap, pos);
}

size_t af_trace_write_jsonl(const af_trace *tr, char *buf, size_t cap)
{
    size_t pos = 0;
    for (int i = 0; i < tr->nevents; i++) {
        put_event(&tr->events[i], buf, cap, &pos);
        put_char(buf, cap, &pos, '\n');
    }
    return finish(buf, cap, pos);
}

int af_trace_fwrite_jsonl(const af_trace *tr, FILE *out)
{
    char small[1024];
    for (int i = 0; i < tr->nevents; i++) {
        size_t n = af_event_write_json(&tr->events[i], small, sizeof small);
        char *line = small;
        if (n >= sizeof small) {
            line = malloc(n + 1);
            if (!line)
                return -1;
            af_event_write_json(&tr->events[i], line, n + 1);
        }
        int bad = fwrite(line, 1, n, out) != n || fputc('\n', out) == EOF;
        if (line != small)
            free(line);
        if (bad)
            return -1;
    }
    return 0;
}

int af_trace_equal(const af_trace *a, const af_trace *b)
{
    if (a->nevents != b->nevents)
        return 0;
    char ba[1024], bb[1024];
    for (int i = 0; i < a->nevents; i++) {
        size_t na = af_event_write_json(&a->events[i], ba, sizeof ba);
        size_t nb = af_event_write_json(&b->events[i], bb, sizeof bb);
        if (na != nb)
            return 0;
        if (na < sizeof ba) {
            if (memcmp(ba, bb, na) != 0)
                return 0;
            continue;
        }
        char *xa = malloc(na + 1), *xb = malloc(nb + 1);
        int same = xa && xb;
        if (same) {
            af_event_write_json(&a->events[i], xa, na + 1);
            af_event_write_json(&b->events[i], xb, nb + 1);
            same = memcmp(xa, xb, na) == 0;
        }
        free(xa);
        free(xb);
        if (!same)
            return 0;
    }
    return 1;
}

/* ---- reader ------------------------------------------------------------- */

static int get_int64(const cJSON *it, int64_t *out)
{
    if (!cJSON_IsNumber(it))
        return -1;
    double d = it->valuedouble;
    if (d != floor(d) || d < -9007199254740992.0 || d > 9007199254740992.0)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* One field from JSON into ev: NULL, or what is wrong with it. Strings
 * point into the cJSON tree (copied when the event is appended). */
static const char *read_field(const cJSON *it, const af_field_layout *f, af_event *ev)
{
    int64_t v;
    switch (f->type) {
    case AF_FIELD_INT:
        if (get_int64(it, &v) || v < INT_MIN || v > INT_MAX)
            return "expected an integer that fits an int";
        *int_at(ev, f) = (int)v;
        return NULL;
    case AF_FIELD_I64:
        return get_int64(it, i64_at(ev, f)) ? "expected an integer" : NULL;
    case AF_FIELD_BOOL:
        if (!cJSON_IsBool(it))
            return "expected a boolean";
        *int_at(ev, f) = cJSON_IsTrue(it);
        return NULL;
    case AF_FIELD_OPT_STR:
        if (cJSON_IsNull(it)) {
            *str_at(ev, f) = NULL;
            return NULL;
        }
        /* fall through */
    case AF_FIELD_STR:
        if (!cJSON_IsString(it))
            return f->type == AF_FIELD_STR ? "expected a string" : "expected a string or null";
        *str_at(ev, f) = it->valuestring;
        return NULL;
    case AF_FIELD_ENUM: {
        int x = cJSON_IsString(it) ? name_lookup(f->values, f->nvalues, it->valuestring) : -1;
        if (x < 0)
            return "expected one of its names";
        *int_at(ev, f) = x;
        return NULL;
    }
    case AF_FIELD_DETAIL:
        if (cJSON_IsNull(it)) {
            ev->detail = AF_DETAIL_NONE;
        } else if (cJSON_IsBool(it)) {
            ev->detail = AF_DETAIL_BOOL;
            ev->detail_a = cJSON_IsTrue(it);
        } else if (cJSON_IsString(it)) {
            ev->detail = AF_DETAIL_STR;
            ev->detail_str = it->valuestring;
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 &&
                   !get_int64(cJSON_GetArrayItem(it, 0), &ev->detail_a) &&
                   !get_int64(cJSON_GetArrayItem(it, 1), &ev->detail_b)) {
            ev->detail = AF_DETAIL_PAIR;
        } else {
            return "expected null, a boolean, a string or a pair of integers";
        }
        return NULL;
    }
    return "unknown field type";
}

static int read_line(const char *line, size_t len, int lineno, af_trace *tr, af_error *err)
{
    cJSON *root = cJSON_ParseWithLength(line, len);
    char path[32];
    snprintf(path, sizeof path, "line %d", lineno);
    if (!root) {
        af_error_set(err, path, "not valid JSON");
        err->line = lineno;
        return -1;
    }
    int rc = -1;
    af_event ev;
    /* strings point into the cJSON tree until appended (copied) */
    int n = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1;
    if (n < 3) {
        af_error_set(err, path, "an event must be an array [kind, vtime, iteration, ...]");
        goto out;
    }
    const cJSON *k = cJSON_GetArrayItem(root, 0);
    int kind = cJSON_IsString(k) ? af_ev_kind_from_name(k->valuestring) : -1;
    if (kind < 0) {
        af_error_set(err, path, "unknown event kind");
        goto out;
    }
    int64_t vtime, iter;
    if (get_int64(cJSON_GetArrayItem(root, 1), &vtime) ||
        get_int64(cJSON_GetArrayItem(root, 2), &iter)) {
        af_error_set(err, path, "vtime and iteration must be integers");
        goto out;
    }
    af_event_init(&ev, (af_ev_kind)kind, vtime, iter);
    const af_event_layout *l = &layouts[kind];
    if (n != 3 + l->nfields) {
        af_error_set(err, path, "%s: expected %d fields, got %d", l->name, 3 + l->nfields, n);
        goto out;
    }
    for (int i = 0; i < l->nfields; i++) {
        const char *bad = read_field(cJSON_GetArrayItem(root, 3 + i), &l->fields[i], &ev);
        if (bad) {
            af_error_set(err, path, "%s field %d (%s): %s", l->name, 3 + i, l->fields[i].label,
                         bad);
            goto out;
        }
    }
    if (af_trace_append(tr, &ev) != 0) {
        af_error_set(err, path, "trace full (%d events, %zu arena bytes)", tr->max_events,
                     tr->arena_cap);
        goto out;
    }
    rc = 0;
out:
    if (rc)
        err->line = lineno;
    cJSON_Delete(root);
    return rc;
}

int af_trace_read_jsonl(const char *text, size_t len, af_trace *tr, af_error *err)
{
    size_t i = 0;
    int lineno = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        lineno++;
        size_t k = i;
        while (k < j && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r'))
            k++;
        if (k < j && read_line(text + i, j - i, lineno, tr, err) != 0)
            return -1;
        i = j + 1;
    }
    return 0;
}
