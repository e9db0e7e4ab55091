/* coverage.c - semantic features from the trace (coverage.h).
 *
 * One pass over the events with small fixed tables: per probe task (what
 * created it, whether it ran, when it finished, the iteration of the last
 * cancel request aimed at it) and per IR op (the cancelling() count at
 * op_enter). Every feature is a tuple of small ints mixed into a 64-bit
 * hash; the counter at hash % size is set.
 *
 * Measured design choice (20 s libFuzzer campaigns from an empty corpus,
 * seeds 1-3, semantic coverage): counting hits, pairing full event tokens
 * and recording each task's consecutive event pairs gave ~24,000 features,
 * ~8,000 corpus inputs, ~6,300 execs/s and 20-21 distinct findings; set
 * counters, pairs of event kinds and no per-task sequences give ~7,000
 * features, ~4,300 inputs, ~10,000 execs/s and 24-27 findings, with
 * gh-86296 found as fast.
 */
#include <string.h>

#include "base/hash.h"
#include "harness/engines/coverage.h"

#define MAX_TASKS 256
#define CTX_ROOT 60    /* the root task / a top-level op of the root */
#define CTX_ASYNCIO 61 /* a task asyncio made (wait_for's inner task...) */
#define CTX_UNKNOWN 62 /* no IR available / index out of range */

/* Feature families: the first word of every hashed tuple. */
enum {
    F_EVENT = 1,
    F_TASK_LIFE,
    F_BEFORE_START,
    F_CANCEL,
    F_UNCANCEL,
    F_CAUGHT,
    F_OP_ENTER,
    F_OP_EXIT,
    F_PRIMITIVE,
    F_PAIR,
    F_COINCIDE_CANCEL_DONE,
    F_COINCIDE_BLOCK_CANCEL,
    F_NEAR_CANCEL_DONE_TARGET,
    F_NEAR_RESULT_CANCELLING,
    F_NEAR_BLOCK_COUNT,
    F_NEAR_UNCANCEL,
    F_FINALLY,
    F_RESOURCE,
    F_NESTED,
    F_LOOP_EXC,
    F_WARNING,
    F_UNRAISABLE,
    F_SLOW,
    F_PENDING,
    F_END,
    F_BUDGET,
    F_SHAPE,
    F_VERDICT,
    F_OVERFLOW,
};

int af_coverage_parse(const char *spec, unsigned *kinds)
{
    unsigned k = 0;
    if (!spec || !*spec) {
        *kinds = AF_COV_DEFAULT;
        return 0;
    }
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 8 && strncmp(p, "semantic", 8) == 0)
            k |= AF_COV_SEMANTIC;
        else if (n == 6 && strncmp(p, "python", 6) == 0)
            k |= AF_COV_PYTHON;
        else if (n == 4 && strncmp(p, "none", 4) == 0)
            ;
        else if (n == 3 && strncmp(p, "all", 3) == 0)
            k |= AF_COV_DEFAULT;
        else
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    *kinds = k;
    return 0;
}

const char *af_coverage_name(unsigned kinds)
{
    switch (kinds & (AF_COV_SEMANTIC | AF_COV_PYTHON)) {
    case AF_COV_SEMANTIC | AF_COV_PYTHON:
        return "semantic,python";
    case AF_COV_SEMANTIC:
        return "semantic";
    case AF_COV_PYTHON:
        return "python";
    default:
        return "none";
    }
}

size_t af_coverage_count(const uint8_t *map, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += map[i] != 0;
    return n;
}

/* ---- small helpers ---- */

static uint64_t h2(uint64_t a, uint64_t b)
{
    return af_cov_mix(a, b);
}
static uint64_t h3(uint64_t a, uint64_t b, uint64_t c)
{
    return af_cov_mix(af_cov_mix(a, b), c);
}
static uint64_t h4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    return af_cov_mix(h3(a, b, c), d);
}
static uint64_t h5(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    return af_cov_mix(h4(a, b, c, d), e);
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}
static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* Exception classes that matter to the oracles. */
enum {
    X_NONE = 0,
    X_CANCELLED,
    X_CANCELLED_SUB,
    X_TIMEOUT,
    X_GROUP,
    X_APP,
    X_VALUE,
    X_KBI,
    X_SYSEXIT,
    X_RUNTIME,
    X_OTHER
};

static int exc_class(const char *t)
{
    if (!t || !*t)
        return X_NONE;
    const char *dot = strrchr(t, '.');
    const char *n = dot ? dot + 1 : t;
    switch (n[0]) {
    case 'C':
        if (strcmp(n, "CancelledError") == 0)
            return X_CANCELLED;
        break;
    case 'A':
        if (strcmp(n, "AppCancelled") == 0)
            return X_CANCELLED_SUB;
        if (strcmp(n, "AppError") == 0)
            return X_APP;
        break;
    case 'T':
        if (strcmp(n, "TimeoutError") == 0)
            return X_TIMEOUT;
        break;
    case 'E':
    case 'B':
        if (strstr(n, "ExceptionGroup"))
            return X_GROUP;
        break;
    case 'V':
        if (strcmp(n, "ValueError") == 0)
            return X_VALUE;
        break;
    case 'K':
        if (strcmp(n, "KeyboardInterrupt") == 0)
            return X_KBI;
        break;
    case 'S':
        if (strcmp(n, "SystemExit") == 0)
            return X_SYSEXIT;
        break;
    case 'R':
        if (strcmp(n, "RuntimeError") == 0)
            return X_RUNTIME;
        break;
    }
    return X_OTHER;
}

/* A short stable hash of a message's first words (loop_exc, warnings). */
static uint64_t msg_class(const char *m)
{
    uint64_t h = AF_COV_SEED;
    if (!m)
        return 0;
    for (int i = 0; m[i] && i < 24; i++) {
        char c = m[i];
        if (c >= '0' && c <= '9')
            continue; /* ids and addresses vary */
        h = af_fnv_step(h, (uint8_t)c);
    }
    return h;
}

static int op_kind(const af_scenario *s, int op)
{
    if (op < 0)
        return CTX_ASYNCIO;
    if (!s || op >= s->nops)
        return CTX_UNKNOWN;
    return (int)s->ops[op].kind;
}

/* The op kind of the structured operation around op: its parent op, or
 * for the first level of a task body, the op that owns the task. */
static int enclosing_kind(const af_scenario *s, int op)
{
    if (op < 0)
        return CTX_ASYNCIO;
    if (!s || op >= s->nops)
        return CTX_UNKNOWN;
    const af_op *o = &s->ops[op];
    if (o->parent >= 0 && o->parent < s->nops)
        return (int)s->ops[o->parent].kind;
    if (o->task > 0 && o->task < s->ntasks) {
        int p = s->tasks[o->task].parent;
        if (p >= 0 && p < s->nops)
            return (int)s->ops[p].kind;
    }
    return CTX_ROOT;
}

typedef struct task_info {
    uint8_t seen;
    uint8_t ctx; /* op kind that created it, CTX_* */
    uint8_t ran; /* the task did something of its own */
    uint8_t done;
    uint8_t outcome;
    int64_t done_iter;
    int64_t cancel_iter; /* iteration of the last cancel() aimed at it, -1 */
    int cancel_true;     /* requests that returned True, not yet delivered */
} task_info;

typedef struct cov_state {
    const af_scenario *s;
    uint8_t *map;
    size_t size;
    task_info tasks[MAX_TASKS];
    int op_enter_cancelling[AF_MAX_OPS];
    int64_t cur_iter;
    uint64_t window[AF_COV_PAIR_WINDOW];
    int nwindow, wpos;
} cov_state;

static task_info *task_of(cov_state *st, int t)
{
    if (t < 0 || t >= MAX_TASKS)
        return NULL;
    return &st->tasks[t];
}

static int task_ctx(cov_state *st, int t)
{
    task_info *ti = task_of(st, t);
    if (t == 0)
        return CTX_ROOT;
    return ti && ti->seen ? ti->ctx : CTX_UNKNOWN;
}

/* Semantic counters are set, not counted: a fact that repeats is not a new
 * behaviour, and hit-count buckets on them doubled the features (and the
 * corpus with them) without finding more. */
static void hit(cov_state *st, uint64_t h)
{
    st->map[h % st->size] = 1;
}

/* What a coincidence pair records of an event: its kind, and for a task's
 * end its outcome, for an op's exit whether it raised. */
static uint64_t pair_token(const af_event *ev)
{
    int sub = ev->kind == AF_EV_TASK_DONE ? ev->outcome : ev->kind == AF_EV_OP_EXIT ? ev->exit : 0;
    return (uint64_t)ev->kind * 8 + (uint64_t)sub;
}

static void one_event(cov_state *st, const af_event *ev)
{
    const af_scenario *s = st->s;
    task_info *ti = task_of(st, ev->task);
    /* task bookkeeping that later tokens depend on */
    if (ev->kind == AF_EV_TASK_NEW && ti) {
        memset(ti, 0, sizeof *ti);
        ti->seen = 1;
        ti->cancel_iter = -1;
        ti->done_iter = -1;
        if (ev->task == 0 || (ev->parent < 0 && ev->ir_task == 0))
            ti->ctx = CTX_ROOT;
        else if (ev->op >= 0)
            ti->ctx = (uint8_t)op_kind(s, ev->op);
        else if (ev->ir_task > 0 && s && ev->ir_task < s->ntasks &&
                 s->tasks[ev->ir_task].parent >= 0)
            ti->ctx = (uint8_t)op_kind(s, s->tasks[ev->ir_task].parent);
        else
            ti->ctx = ev->ir_task < 0 ? CTX_ASYNCIO : CTX_UNKNOWN;
    }

    uint64_t tok = pair_token(ev);

    /* coincidences within one loop iteration */
    if (ev->iter != st->cur_iter) {
        st->cur_iter = ev->iter;
        st->nwindow = 0;
        st->wpos = 0;
    }
    for (int j = 0; j < st->nwindow; j++)
        hit(st, h3(F_PAIR, st->window[j], tok));
    st->window[st->wpos] = tok;
    st->wpos = (st->wpos + 1) % AF_COV_PAIR_WINDOW;
    if (st->nwindow < AF_COV_PAIR_WINDOW)
        st->nwindow++;

    switch (ev->kind) {
    case AF_EV_TASK_NEW:
        hit(st, h3(F_EVENT, AF_EV_TASK_NEW, task_ctx(st, ev->task)));
        break;

    case AF_EV_TASK_DONE: {
        int ctx = task_ctx(st, ev->task);
        int xc = exc_class(ev->exc_type);
        int cz = clamp(ev->cancelling, 0, 2);
        hit(st, h5(F_TASK_LIFE, (uint64_t)ctx, (uint64_t)ev->outcome, (uint64_t)xc, (uint64_t)cz));
        if (ti) {
            if (!ti->ran)
                hit(st, h4(F_BEFORE_START, (uint64_t)ctx, (uint64_t)ev->outcome, (uint64_t)xc));
            if (ti->cancel_iter == ev->iter)
                hit(st,
                    h4(F_COINCIDE_CANCEL_DONE, (uint64_t)ctx, (uint64_t)ev->outcome, (uint64_t)xc));
            if (ti->cancel_true > 0 && ev->outcome != AF_OUT_CANCELLED)
                hit(st, h4(F_NEAR_RESULT_CANCELLING, (uint64_t)ctx, (uint64_t)ev->outcome,
                           (uint64_t)clamp(ti->cancel_true, 1, 2)));
            ti->done = 1;
            ti->outcome = (uint8_t)ev->outcome;
            ti->done_iter = ev->iter;
        }
        if (ev->outcome == AF_OUT_RESULT && ev->cancelling > 0)
            hit(st, h3(F_NEAR_RESULT_CANCELLING, (uint64_t)ctx, 100 + (uint64_t)cz));
        break;
    }

    case AF_EV_CANCEL: {
        task_info *by = task_of(st, ev->by_task);
        int tctx = task_ctx(st, ev->task);
        int bctx = ev->by_task < 0 ? CTX_ASYNCIO : task_ctx(st, ev->by_task);
        int done = ti && ti->done;
        int self = ev->by_task == ev->task;
        hit(st, h5(F_CANCEL, (uint64_t)(bctx * 64 + tctx),
                   (uint64_t)(ev->returned * 4 + done * 2 + self),
                   (uint64_t)(clamp(ev->before, 0, 3) * 4 + clamp(ev->after, 0, 3)),
                   (uint64_t)(op_kind(s, ev->op) * 4 + (ev->msg != NULL) * 2 + (ti && ti->ran))));
        if (ti) {
            if (done) {
                int64_t gap = ev->iter - ti->done_iter;
                /* the near miss: a cancel that came after its target finished */
                hit(st, h4(F_NEAR_CANCEL_DONE_TARGET, (uint64_t)tctx, (uint64_t)ti->outcome,
                           (uint64_t)(gap <= 0   ? 0
                                      : gap == 1 ? 1
                                                 : 2)));
                if (gap == 0)
                    hit(st, h4(F_COINCIDE_CANCEL_DONE, (uint64_t)tctx, 10 + (uint64_t)ti->outcome,
                               (uint64_t)ev->returned));
            }
            ti->cancel_iter = ev->iter;
            if (ev->returned)
                ti->cancel_true++;
        }
        if (by)
            by->ran = 1;
        break;
    }

    case AF_EV_UNCANCEL: {
        int tctx = task_ctx(st, ev->task);
        hit(st, h4(F_UNCANCEL, (uint64_t)tctx,
                   (uint64_t)(clamp(ev->before, 0, 3) * 4 + clamp(ev->after, 0, 3)),
                   (uint64_t)(ev->by_task == ev->task)));
        if (ti) {
            if (ev->after == 0 && ti->cancel_true > 0)
                hit(st,
                    h3(F_NEAR_UNCANCEL, (uint64_t)tctx, (uint64_t)clamp(ti->cancel_true, 1, 3)));
            if (ti->cancel_true > 0)
                ti->cancel_true--;
        }
        break;
    }

    case AF_EV_CAUGHT:
        hit(st, h4(F_CAUGHT, (uint64_t)op_kind(s, ev->op), (uint64_t)enclosing_kind(s, ev->op),
                   (uint64_t)(exc_class(ev->exc_type) * 2 + (ev->msg != NULL))));
        if (ti) {
            ti->ran = 1;
            if (ti->cancel_true > 0)
                ti->cancel_true = 0; /* delivered */
        }
        break;

    case AF_EV_OP_ENTER:
        if (ev->op >= 0 && ev->op < AF_MAX_OPS)
            st->op_enter_cancelling[ev->op] = ev->cancelling;
        hit(st, h4(F_OP_ENTER, (uint64_t)op_kind(s, ev->op), (uint64_t)enclosing_kind(s, ev->op),
                   (uint64_t)clamp(ev->cancelling, 0, 2)));
        if (ti)
            ti->ran = 1;
        break;

    case AF_EV_OP_EXIT: {
        int k = op_kind(s, ev->op);
        int enc = enclosing_kind(s, ev->op);
        int xc = exc_class(ev->exc_type);
        int delta = 0;
        if (ev->op >= 0 && ev->op < AF_MAX_OPS)
            delta = sign(ev->cancelling - st->op_enter_cancelling[ev->op]);
        int detail = 0;
        if (ev->detail == AF_DETAIL_BOOL)
            detail = 1 + (ev->detail_a != 0);
        else if (ev->detail == AF_DETAIL_PAIR)
            detail = 3 + clamp((int)ev->detail_a, 0, 3) * 4 + clamp((int)ev->detail_b, 0, 3);
        hit(st, h5(F_OP_EXIT, (uint64_t)k, (uint64_t)(ev->exit * 16 + xc), (uint64_t)(delta + 1),
                   (uint64_t)detail));
        /* which primitive saw which cancellation and how it ended */
        hit(st, h5(F_PRIMITIVE, (uint64_t)(enc * 64 + k), (uint64_t)(ev->exit * 16 + xc),
                   (uint64_t)(delta + 1), (uint64_t)clamp(ev->cancelling, 0, 2)));
        /* near miss: a structured block that exits normally with its
         * task's cancel count changed */
        if (ev->exit == AF_OPEXIT_OK && delta != 0)
            hit(st, h3(F_NEAR_BLOCK_COUNT, (uint64_t)k, (uint64_t)(delta + 1)));
        /* a timeout / wait_for ending in the iteration a cancel hit its task */
        if ((k == AF_OP_WAIT_FOR || k == AF_OP_TIMEOUT || k == AF_OP_TASKGROUP ||
             k == AF_OP_SHIELD || k == AF_OP_GATHER || k == AF_OP_WAIT) &&
            ti && ti->cancel_iter >= 0) {
            int64_t gap = ev->iter - ti->cancel_iter;
            if (gap <= 1)
                hit(st, h5(F_COINCIDE_BLOCK_CANCEL, (uint64_t)k, (uint64_t)(ev->exit * 16 + xc),
                           (uint64_t)gap, (uint64_t)detail));
        }
        if (ti)
            ti->ran = 1;
        break;
    }

    case AF_EV_FINALLY:
        hit(st, h3(F_FINALLY, (uint64_t)enclosing_kind(s, ev->op),
                   (uint64_t)(ti && ti->cancel_true > 0)));
        break;

    case AF_EV_ACQUIRE:
    case AF_EV_RELEASE:
        hit(st, h4(F_RESOURCE, (uint64_t)ev->kind, (uint64_t)enclosing_kind(s, ev->op),
                   (uint64_t)(ti && ti->cancel_true > 0)));
        break;

    case AF_EV_NESTED:
        hit(st, h5(F_NESTED, msg_class(ev->name), (uint64_t)exc_class(ev->exc_type),
                   (uint64_t)ev->flag_a, (uint64_t)ev->flag_b));
        break;

    case AF_EV_LOOP_EXC:
        hit(st, h3(F_LOOP_EXC, msg_class(ev->msg), (uint64_t)exc_class(ev->exc_type)));
        break;

    case AF_EV_WARNING:
        hit(st, h3(F_WARNING, msg_class(ev->name), msg_class(ev->msg)));
        break;

    case AF_EV_UNRAISABLE:
        hit(st, h2(F_UNRAISABLE, (uint64_t)exc_class(ev->exc_type)));
        break;

    case AF_EV_SLOW:
        hit(st, h2(F_SLOW, msg_class(ev->name)));
        break;

    case AF_EV_PENDING:
        hit(st, h3(F_PENDING, (uint64_t)task_ctx(st, ev->task), (uint64_t)(ti && ti->ran)));
        break;

    case AF_EV_END:
        hit(st, h3(F_END, (uint64_t)ev->outcome, (uint64_t)exc_class(ev->exc_type)));
        break;

    case AF_EV_BUDGET:
        hit(st, h2(F_BUDGET, (uint64_t)ev->budget));
        break;

    default:
        hit(st, h2(F_EVENT, (uint64_t)ev->kind));
        break;
    }
}

void af_coverage_from_trace(const af_scenario *s, const af_trace *tr, uint8_t *map, size_t size)
{
    static _Thread_local cov_state st; /* ~8 KiB: keep it off the stack */
    if (!map || size == 0 || !tr)
        return;
    memset(&st, 0, sizeof st);
    st.s = s;
    st.map = map;
    st.size = size;
    st.cur_iter = -1;
    for (int i = 0; i < MAX_TASKS; i++) {
        st.tasks[i].cancel_iter = -1;
        st.tasks[i].done_iter = -1;
    }

    if (s) {
        for (int i = 0; i < s->nops; i++)
            hit(&st, h3(F_SHAPE, (uint64_t)enclosing_kind(s, i), (uint64_t)s->ops[i].kind));
    }
    for (int i = 0; i < tr->nevents; i++)
        one_event(&st, &tr->events[i]);
    if (tr->overflow)
        hit(&st, h2(F_OVERFLOW, 1));
}

void af_coverage_from_verdicts(const af_verdict_list *v, uint8_t *map, size_t size)
{
    if (!v || !map || size == 0)
        return;
    for (int i = 0; i < v->count; i++)
        map[h3(F_VERDICT, (uint64_t)v->items[i].oracle, v->items[i].signature) % size] = 1;
}
