/* trace.c - the typed trace: storage, builders, JSON-lines text form.
 *
 * The text form is byte-identical to Python's
 * json.dumps(list(event), separators=(",", ":")) (ensure_ascii=True): see
 * af_json_put_string for the escaping rules. Each kind's fields are listed
 * once, in the table `kind_fields`, which both the writer and the reader use.
 */
#include "harness/run/trace.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *const ev_kind_names[AF_EV_KIND_COUNT] = {
    "task_new", "task_done",  "cancel",  "uncancel", "caught", "op_enter",
    "op_exit",  "finally",    "acquire", "release",  "nested", "loop_exc",
    "warning",  "unraisable", "slow",    "pending",  "end",    "budget",
};
static const char *const outcome_names[AF_OUT_COUNT] = {"result", "exception", "cancelled"};
static const char *const opexit_names[AF_OPEXIT_COUNT] = {"ok", "raise"};
static const char *const budget_names[AF_BUDGET_COUNT] = {"hang", "deadlock", "watchdog"};

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
const char *af_outcome_name(af_outcome v)
{
    return (unsigned)v < AF_OUT_COUNT ? outcome_names[v] : NULL;
}
int af_outcome_from_name(const char *n)
{
    return name_lookup(outcome_names, AF_OUT_COUNT, n);
}
const char *af_opexit_name(af_opexit v)
{
    return (unsigned)v < AF_OPEXIT_COUNT ? opexit_names[v] : NULL;
}
int af_opexit_from_name(const char *n)
{
    return name_lookup(opexit_names, AF_OPEXIT_COUNT, n);
}
const char *af_budget_name(af_budget v)
{
    return (unsigned)v < AF_BUDGET_COUNT ? budget_names[v] : NULL;
}
int af_budget_from_name(const char *n)
{
    return name_lookup(budget_names, AF_BUDGET_COUNT, n);
}

/* ---- field table -------------------------------------------------------- */

typedef enum field {
    F_END = 0,
    F_TASK,
    F_BY_TASK,
    F_OP,
    F_PARENT,
    F_IR_TASK, /* int */
    F_CANCELLING,
    F_BEFORE,
    F_AFTER, /* int */
    F_RETURNED,
    F_FLAG_A,
    F_FLAG_B, /* bool */
    F_TICKS,  /* int64 */
    F_OUTCOME,
    F_EXIT,
    F_BUDGET, /* names */
    F_DETAIL, /* polymorphic */
    F_NAME,
    F_EXC_TYPE,
    F_EXC_ARGS,
    F_MSG,
    F_RESOURCE, /* strings */
} field;

#define MAX_FIELDS 8
static const field kind_fields[AF_EV_KIND_COUNT][MAX_FIELDS] = {
    [AF_EV_TASK_NEW] = {F_TASK, F_NAME, F_PARENT, F_OP, F_IR_TASK},
    [AF_EV_TASK_DONE] = {F_TASK, F_OUTCOME, F_EXC_TYPE, F_EXC_ARGS, F_CANCELLING},
    [AF_EV_CANCEL] = {F_BY_TASK, F_TASK, F_OP, F_MSG, F_RETURNED, F_BEFORE, F_AFTER},
    [AF_EV_UNCANCEL] = {F_BY_TASK, F_TASK, F_OP, F_BEFORE, F_AFTER},
    [AF_EV_CAUGHT] = {F_TASK, F_OP, F_EXC_TYPE, F_MSG},
    [AF_EV_OP_ENTER] = {F_TASK, F_OP, F_CANCELLING},
    [AF_EV_OP_EXIT] = {F_TASK, F_OP, F_EXIT, F_EXC_TYPE, F_EXC_ARGS, F_DETAIL, F_CANCELLING},
    [AF_EV_FINALLY] = {F_TASK, F_OP},
    [AF_EV_ACQUIRE] = {F_TASK, F_OP, F_RESOURCE},
    [AF_EV_RELEASE] = {F_TASK, F_OP, F_RESOURCE},
    [AF_EV_NESTED] = {F_TASK, F_OP, F_NAME, F_EXC_TYPE, F_FLAG_A, F_FLAG_B},
    [AF_EV_LOOP_EXC] = {F_MSG, F_EXC_TYPE, F_TASK},
    [AF_EV_WARNING] = {F_NAME, F_MSG},
    [AF_EV_UNRAISABLE] = {F_EXC_TYPE, F_MSG},
    [AF_EV_SLOW] = {F_TICKS, F_NAME},
    [AF_EV_PENDING] = {F_TASK},
    [AF_EV_END] = {F_OUTCOME, F_EXC_TYPE},
    [AF_EV_BUDGET] = {F_BUDGET},
};

static int *int_field(af_event *ev, field f)
{
    switch (f) {
    case F_TASK:
        return &ev->task;
    case F_BY_TASK:
        return &ev->by_task;
    case F_OP:
        return &ev->op;
    case F_PARENT:
        return &ev->parent;
    case F_IR_TASK:
        return &ev->ir_task;
    case F_CANCELLING:
        return &ev->cancelling;
    case F_BEFORE:
        return &ev->before;
    case F_AFTER:
        return &ev->after;
    case F_RETURNED:
        return &ev->returned;
    case F_FLAG_A:
        return &ev->flag_a;
    case F_FLAG_B:
        return &ev->flag_b;
    case F_OUTCOME:
        return &ev->outcome;
    case F_EXIT:
        return &ev->exit;
    case F_BUDGET:
        return &ev->budget;
    default:
        return NULL;
    }
}

static const char **str_field(af_event *ev, field f)
{
    switch (f) {
    case F_NAME:
        return &ev->name;
    case F_EXC_TYPE:
        return &ev->exc_type;
    case F_EXC_ARGS:
        return &ev->exc_args;
    case F_MSG:
        return &ev->msg;
    case F_RESOURCE:
        return &ev->resource;
    default:
        return NULL;
    }
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
    ev->task = ev->by_task = ev->op = ev->parent = ev->ir_task = -1;
    ev->outcome = ev->exit = ev->budget = -1;
    ev->cancelling = ev->before = ev->after = -1;
    ev->detail = AF_DETAIL_NONE;
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
    const char **strs[] = {&e.name, &e.exc_type, &e.exc_args, &e.msg, &e.resource, &e.detail_str};
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

#define BEGIN(kind)                                                                                \
    af_event ev;                                                                                   \
    af_event_init(&ev, kind, vtime, iter)
#define FINISH return af_trace_append(tr, &ev)

int af_trace_task_new(af_trace *tr, int64_t vtime, int64_t iter, int task, const char *name,
                      int parent_task, int op, int ir_task)
{
    BEGIN(AF_EV_TASK_NEW);
    ev.task = task;
    ev.name = name;
    ev.parent = parent_task;
    ev.op = op;
    ev.ir_task = ir_task;
    FINISH;
}

int af_trace_task_done(af_trace *tr, int64_t vtime, int64_t iter, int task, af_outcome outcome,
                       const char *exc_type, const char *exc_args, int cancelling)
{
    BEGIN(AF_EV_TASK_DONE);
    ev.task = task;
    ev.outcome = outcome;
    ev.exc_type = exc_type;
    ev.exc_args = exc_args;
    ev.cancelling = cancelling;
    FINISH;
}

int af_trace_cancel(af_trace *tr, int64_t vtime, int64_t iter, int by_task, int target, int op,
                    const char *msg, int returned, int cancelling_before, int cancelling_after)
{
    BEGIN(AF_EV_CANCEL);
    ev.by_task = by_task;
    ev.task = target;
    ev.op = op;
    ev.msg = msg;
    ev.returned = !!returned;
    ev.before = cancelling_before;
    ev.after = cancelling_after;
    FINISH;
}

int af_trace_uncancel(af_trace *tr, int64_t vtime, int64_t iter, int by_task, int target, int op,
                      int before, int after)
{
    BEGIN(AF_EV_UNCANCEL);
    ev.by_task = by_task;
    ev.task = target;
    ev.op = op;
    ev.before = before;
    ev.after = after;
    FINISH;
}

int af_trace_caught(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                    const char *exc_type, const char *msg)
{
    BEGIN(AF_EV_CAUGHT);
    ev.task = task;
    ev.op = op;
    ev.exc_type = exc_type;
    ev.msg = msg;
    FINISH;
}

int af_trace_op_enter(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, int cancelling)
{
    BEGIN(AF_EV_OP_ENTER);
    ev.task = task;
    ev.op = op;
    ev.cancelling = cancelling;
    FINISH;
}

int af_trace_op_exit(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, af_opexit outcome,
                     const char *exc_type, const char *exc_args, af_detail detail, int64_t detail_a,
                     int64_t detail_b, const char *detail_str, int cancelling)
{
    BEGIN(AF_EV_OP_EXIT);
    ev.task = task;
    ev.op = op;
    ev.exit = outcome;
    ev.exc_type = exc_type;
    ev.exc_args = exc_args;
    ev.detail = detail;
    ev.cancelling = cancelling;
    if (detail == AF_DETAIL_BOOL) {
        ev.detail_a = !!detail_a;
    } else if (detail == AF_DETAIL_PAIR) {
        ev.detail_a = detail_a;
        ev.detail_b = detail_b;
    } else if (detail == AF_DETAIL_STR) {
        if (!detail_str)
            ev.detail = AF_DETAIL_NONE;
        ev.detail_str = detail_str;
    }
    FINISH;
}

int af_trace_finally(af_trace *tr, int64_t vtime, int64_t iter, int task, int op)
{
    BEGIN(AF_EV_FINALLY);
    ev.task = task;
    ev.op = op;
    FINISH;
}

int af_trace_acquire(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                     const char *resource)
{
    BEGIN(AF_EV_ACQUIRE);
    ev.task = task;
    ev.op = op;
    ev.resource = resource;
    FINISH;
}

int af_trace_release(af_trace *tr, int64_t vtime, int64_t iter, int task, int op,
                     const char *resource)
{
    BEGIN(AF_EV_RELEASE);
    ev.task = task;
    ev.op = op;
    ev.resource = resource;
    FINISH;
}

int af_trace_nested(af_trace *tr, int64_t vtime, int64_t iter, int task, int op, const char *kind,
                    const char *exc_type, int loop_running_after, int coro_closed)
{
    BEGIN(AF_EV_NESTED);
    ev.task = task;
    ev.op = op;
    ev.name = kind;
    ev.exc_type = exc_type;
    ev.flag_a = !!loop_running_after;
    ev.flag_b = !!coro_closed;
    FINISH;
}

int af_trace_loop_exc(af_trace *tr, int64_t vtime, int64_t iter, const char *message,
                      const char *exc_type, int task)
{
    BEGIN(AF_EV_LOOP_EXC);
    ev.msg = message;
    ev.exc_type = exc_type;
    ev.task = task;
    FINISH;
}

int af_trace_warning(af_trace *tr, int64_t vtime, int64_t iter, const char *category,
                     const char *message)
{
    BEGIN(AF_EV_WARNING);
    ev.name = category;
    ev.msg = message;
    FINISH;
}

int af_trace_unraisable(af_trace *tr, int64_t vtime, int64_t iter, const char *exc_type,
                        const char *message)
{
    BEGIN(AF_EV_UNRAISABLE);
    ev.exc_type = exc_type;
    ev.msg = message;
    FINISH;
}

int af_trace_slow(af_trace *tr, int64_t vtime, int64_t iter, int64_t ticks, const char *what)
{
    BEGIN(AF_EV_SLOW);
    ev.ticks = ticks;
    ev.name = what;
    FINISH;
}

int af_trace_pending(af_trace *tr, int64_t vtime, int64_t iter, int task)
{
    BEGIN(AF_EV_PENDING);
    ev.task = task;
    FINISH;
}

int af_trace_end(af_trace *tr, int64_t vtime, int64_t iter, af_outcome outcome,
                 const char *exc_type)
{
    BEGIN(AF_EV_END);
    ev.outcome = outcome;
    ev.exc_type = exc_type;
    FINISH;
}

int af_trace_budget(af_trace *tr, int64_t vtime, int64_t iter, af_budget which)
{
    BEGIN(AF_EV_BUDGET);
    ev.budget = which;
    FINISH;
}

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

static void put_event(const af_event *ev, char *buf, size_t cap, size_t *pos)
{
    af_event *e = (af_event *)ev; /* the field accessors do not write */
    put_char(buf, cap, pos, '[');
    put_name(buf, cap, pos, af_ev_kind_name(ev->kind), (int)ev->kind);
    put_char(buf, cap, pos, ',');
    put_i64(buf, cap, pos, ev->vtime);
    put_char(buf, cap, pos, ',');
    put_i64(buf, cap, pos, ev->iter);
    if ((unsigned)ev->kind < AF_EV_KIND_COUNT) {
        for (int i = 0; i < MAX_FIELDS && kind_fields[ev->kind][i] != F_END; i++) {
            field f = kind_fields[ev->kind][i];
            put_char(buf, cap, pos, ',');
            switch (f) {
            case F_RETURNED:
            case F_FLAG_A:
            case F_FLAG_B:
                if (*int_field(e, f))
                    put_bytes(buf, cap, pos, "true", 4);
                else
                    put_bytes(buf, cap, pos, "false", 5);
                break;
            case F_OUTCOME:
                put_name(buf, cap, pos, af_outcome_name(ev->outcome), ev->outcome);
                break;
            case F_EXIT:
                put_name(buf, cap, pos, af_opexit_name(ev->exit), ev->exit);
                break;
            case F_BUDGET:
                put_name(buf, cap, pos, af_budget_name(ev->budget), ev->budget);
                break;
            case F_TICKS:
                put_i64(buf, cap, pos, ev->ticks);
                break;
            case F_DETAIL:
                switch (ev->detail) {
                case AF_DETAIL_BOOL:
                    if (ev->detail_a)
                        put_bytes(buf, cap, pos, "true", 4);
                    else
                        put_bytes(buf, cap, pos, "false", 5);
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
                break;
            default: {
                const char **sp = str_field(e, f);
                if (sp)
                    put_str_or_null(buf, cap, pos, *sp);
                else
                    put_i64(buf, cap, pos, *int_field(e, f));
            }
            }
        }
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
    int nf = 0;
    while (nf < MAX_FIELDS && kind_fields[kind][nf] != F_END)
        nf++;
    if (n != 3 + nf) {
        af_error_set(err, path, "%s: expected %d fields, got %d", ev_kind_names[kind], 3 + nf, n);
        goto out;
    }
    for (int i = 0; i < nf; i++) {
        field f = kind_fields[kind][i];
        const cJSON *it = cJSON_GetArrayItem(root, 3 + i);
        int64_t v;
        switch (f) {
        case F_RETURNED:
        case F_FLAG_A:
        case F_FLAG_B:
            if (!cJSON_IsBool(it)) {
                af_error_set(err, path, "%s: field %d must be a boolean", ev_kind_names[kind],
                             3 + i);
                goto out;
            }
            *int_field(&ev, f) = cJSON_IsTrue(it);
            break;
        case F_OUTCOME:
        case F_EXIT:
        case F_BUDGET: {
            int x = -1;
            if (cJSON_IsString(it))
                x = f == F_OUTCOME ? af_outcome_from_name(it->valuestring)
                    : f == F_EXIT  ? af_opexit_from_name(it->valuestring)
                                   : af_budget_from_name(it->valuestring);
            if (x < 0) {
                af_error_set(err, path, "%s: field %d has an unknown value", ev_kind_names[kind],
                             3 + i);
                goto out;
            }
            *int_field(&ev, f) = x;
            break;
        }
        case F_TICKS:
            if (get_int64(it, &ev.ticks)) {
                af_error_set(err, path, "%s: field %d must be an integer", ev_kind_names[kind],
                             3 + i);
                goto out;
            }
            break;
        case F_DETAIL:
            if (cJSON_IsNull(it)) {
                ev.detail = AF_DETAIL_NONE;
            } else if (cJSON_IsBool(it)) {
                ev.detail = AF_DETAIL_BOOL;
                ev.detail_a = cJSON_IsTrue(it);
            } else if (cJSON_IsString(it)) {
                ev.detail = AF_DETAIL_STR;
                ev.detail_str = it->valuestring;
            } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 &&
                       !get_int64(cJSON_GetArrayItem(it, 0), &ev.detail_a) &&
                       !get_int64(cJSON_GetArrayItem(it, 1), &ev.detail_b)) {
                ev.detail = AF_DETAIL_PAIR;
            } else {
                af_error_set(err, path, "op_exit: bad detail");
                goto out;
            }
            break;
        default: {
            const char **sp = str_field(&ev, f);
            if (sp) {
                if (cJSON_IsNull(it))
                    *sp = NULL;
                else if (cJSON_IsString(it))
                    *sp = it->valuestring;
                else {
                    af_error_set(err, path, "%s: field %d must be a string or null",
                                 ev_kind_names[kind], 3 + i);
                    goto out;
                }
            } else {
                if (get_int64(it, &v) || v < -2147483648LL || v > 2147483647LL) {
                    af_error_set(err, path, "%s: field %d must be an integer", ev_kind_names[kind],
                                 3 + i);
                    goto out;
                }
                *int_field(&ev, f) = (int)v;
            }
        }
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
