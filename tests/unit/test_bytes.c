/* test_bytes.c - the bytes <-> IR codec (scenarios/decode.c, encode.c).
 *
 * Properties: every byte string decodes to a valid scenario within every
 * limit; decode(encode(s)) == s for decoded, hand-built and catalog
 * scenarios; deleting a step's bytes deletes that step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/json.h"

/* Scenarios are large: keep them off the stack. */
static af_scenario A, B, C;
static uint8_t buf[AF_ENCODE_MAX_BYTES];
static size_t max_seen_len;

/* ---- helpers ---- */

static void assert_valid_within_limits(const af_scenario *s)
{
    af_error err = {0};
    int rc = af_scenario_validate(s, &err);
    if (rc != 0)
        fail_msg("invalid scenario: %s: %s", err.path, err.message);
    assert_true(s->nops <= AF_MAX_OPS);
    assert_true(s->ntasks >= 1 && s->ntasks <= AF_MAX_TASKS);
    assert_true(s->nprims <= AF_MAX_PRIMITIVES);
    assert_true(af_scenario_depth(s) <= AF_MAX_DEPTH);
    assert_true(af_scenario_total_ticks(s) <= AF_MAX_TOTAL_TICKS);
}

/* encode s, decode it again into B, and check equality (draw: AF_DRAW_*
 * flags; true is AF_DRAW_MISUSE). */
static size_t round_trip(const af_scenario *s, unsigned misuse)
{
    af_error err = {0};
    size_t len = 0;
    int rc = af_encode(s, misuse, buf, sizeof buf, &len, &err);
    if (rc != 0)
        fail_msg("encode failed: %s: %s", err.path, err.message);
    assert_true(len <= AF_ENCODE_MAX_BYTES);
    if (len > max_seen_len)
        max_seen_len = len;
    af_decode(buf, len, misuse, &B);
    assert_valid_within_limits(&B);
    if (!af_scenario_equal(s, &B))
        fail_msg("decode(encode(s)) != s (misuse %d, %zu bytes)", misuse, len);
    return len;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int add_op(af_scenario *s, af_body *b, af_op_kind k, int task, int parent)
{
    int i = af_scenario_add_op(s, b, k, task, parent);
    assert_int_not_equal(i, AF_NIL);
    return i;
}

static int add_task(af_scenario *s, int op, const char *name)
{
    int t = af_scenario_add_task(s, &s->ops[op].children, name, op);
    assert_int_not_equal(t, AF_NIL);
    return t;
}

/* ---- random byte strings ---- */

static void fill_random(uint8_t *d, size_t n, int dist)
{
    static const uint8_t picks[] = {0, 1, 2, 3, 4, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < n; i++) {
        switch (dist) {
        case 0:
            d[i] = (uint8_t)rnd();
            break;
        case 1:
            d[i] = 0;
            break;
        case 2:
            d[i] = 0xff;
            break;
        case 3:
            d[i] = (uint8_t)(rnd() % 8);
            break;
        case 4:
            d[i] = rnd() % 4 ? picks[rnd() % 8] : (uint8_t)rnd();
            break;
        case 5:
            d[i] = rnd() % 3 == 0 ? 1 : (uint8_t)(rnd() % 32);
            break;
        default:
            break;
        }
    }
    if (dist == 6) { /* one byte value repeated */
        uint8_t c = (uint8_t)rnd();
        memset(d, c, n);
    } else if (dist == 7) { /* a short random pattern repeated */
        uint8_t pat[8];
        size_t period = 1 + rnd() % 8;
        for (size_t i = 0; i < period; i++)
            pat[i] = rnd() % 2 ? (uint8_t)(rnd() % 8) : (uint8_t)rnd();
        for (size_t i = 0; i < n; i++)
            d[i] = pat[i % period];
    }
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t data[300];
    int kinds_seen[AF_OP_KIND_COUNT] = {0};
    int at_op_limit = 0, at_task_limit = 0, at_depth_limit = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = rnd() % 301;
        fill_random(data, n, iter % 8);
        /* no flag, misuse, loop-level ops (with misuse on odd runs) */
        for (int m = 0; m < 3; m++) {
            unsigned draw = m == 0 ? 0u : m == 1 ? AF_DRAW_MISUSE : AF_DRAW_LOOP | (iter & 1u);
            af_decode(data, n, draw, &A);
            assert_valid_within_limits(&A);
            unsigned needed = af_draw_needed(&A);
            assert_int_equal(needed & ~draw, 0);
            for (int i = 0; i < A.nops; i++)
                kinds_seen[A.ops[i].kind]++;
            at_op_limit += A.nops == AF_MAX_OPS;
            at_task_limit += A.ntasks == AF_MAX_TASKS;
            at_depth_limit += af_scenario_depth(&A) == AF_MAX_DEPTH;
            round_trip(&A, draw);
            if (draw != AF_DRAW_ALL)
                round_trip(&A, AF_DRAW_ALL); /* also encodes with every flag on */
            if (needed != draw)
                round_trip(&A, needed); /* and with only the flags it needs */
        }
    }
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (kinds_seen[k] == 0)
            fail_msg("op kind %s never decoded", af_op_kind_name((af_op_kind)k));
    assert_true(at_op_limit > 0);
    assert_true(at_task_limit > 0);
    assert_true(at_depth_limit > 0);
    print_message("random: max encoded length %zu (bound %d); at op/task/depth limit: %d/%d/%d\n",
                  max_seen_len, AF_ENCODE_MAX_BYTES, at_op_limit, at_task_limit, at_depth_limit);
}

/* ---- edge cases of the input ---- */

static void test_empty_input(void **state)
{
    (void)state;
    af_decode(NULL, 0, true, &A);
    assert_valid_within_limits(&A);
    assert_string_equal(A.tasks[0].name, "main");
    assert_int_equal(A.nops, 0);
    assert_int_equal(A.ntasks, 1);
    assert_int_equal(A.nprims, 0);
    /* all-zero input is the empty scenario too: 0 is always the simplest */
    uint8_t zeros[64] = {0};
    af_decode(zeros, sizeof zeros, true, &B);
    assert_true(af_scenario_equal(&A, &B));
    /* and the empty scenario encodes to nothing */
    size_t len = 99;
    assert_int_equal(af_encode(&A, false, buf, sizeof buf, &len, NULL), 0);
    assert_int_equal(len, 0);
}

/* ---- hand-built scenarios ---- */

/* Every op kind, with the less common field values; misuse on. */
static void build_every_kind(af_scenario *s)
{
    af_scenario_init(s);
    snprintf(s->tasks[0].name, sizeof s->tasks[0].name, "entry");
    int ev = af_scenario_add_primitive(s, AF_PRIM_EVENT, "event0", 0);
    int lk = af_scenario_add_primitive(s, AF_PRIM_LOCK, "lk", 0);
    int cv = af_scenario_add_primitive(s, AF_PRIM_CONDITION, "condition2", 0);
    int sem = af_scenario_add_primitive(s, AF_PRIM_SEMAPHORE, "main", 8);
    int q = af_scenario_add_primitive(s, AF_PRIM_QUEUE, "queue4", 0);
    int q2 = af_scenario_add_primitive(s, AF_PRIM_QUEUE, "q2", 8);
    int sem1 = af_scenario_add_primitive(s, AF_PRIM_SEMAPHORE, "semaphore6", 1);
    (void)sem1;
    af_body *root = &s->tasks[0].body;
    int i, t, j, k;

    i = add_op(s, root, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[i].ticks = 0;
    i = add_op(s, root, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[i].ticks = 127;
    i = add_op(s, root, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[i].ticks = 128;
    i = add_op(s, root, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[i].ticks = AF_MAX_TICKS;
    i = add_op(s, root, AF_OP_RETURN, 0, AF_NIL);
    s->ops[i].value = 255;
    i = add_op(s, root, AF_OP_RAISE, 0, AF_NIL);
    s->ops[i].exc = (af_exc){AF_EXC_CANCELLED_SUBCLASS, 200};

    /* spawn dropping its reference into a group declared later */
    int spawn1 = add_op(s, root, AF_OP_SPAWN, 0, AF_NIL);
    s->ops[spawn1].keep = false;
    t = add_task(s, spawn1, "t1"); /* the default name of its position */
    j = add_op(s, &s->tasks[t].body, AF_OP_EVENT_WAIT, t, AF_NIL);
    s->ops[j].ref = (int16_t)ev;

    /* a task named like a later position's default */
    i = add_op(s, root, AF_OP_SPAWN, 0, AF_NIL);
    t = add_task(s, i, "t5");
    int await_fwd = add_op(s, &s->tasks[t].body, AF_OP_AWAIT, t, AF_NIL);
    int worker = t;

    i = add_op(s, root, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[i].ref = AF_SELF;
    s->ops[i].value = 2;
    s->ops[i].uncancel = true;
    s->ops[i].has_msg = true;
    snprintf(s->ops[i].msg, sizeof s->ops[i].msg, "hi there! (x=1) {'a'} `~|^%%$#@`");
    i = add_op(s, root, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[i].ref = (int16_t)worker;
    s->ops[i].has_msg = true; /* empty message */
    i = add_op(s, root, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[i].ref = 0; /* the root by name, not self */

    int gather = add_op(s, root, AF_OP_GATHER, 0, AF_NIL);
    s->ops[gather].return_exceptions = true;
    t = add_task(s, gather, "t3");
    add_task(s, gather, "abcdefghijklmnopqrstuvwx"); /* AF_MAX_NAME chars */

    int tg = add_op(s, root, AF_OP_TASKGROUP, 0, AF_NIL);
    snprintf(s->ops[tg].name, sizeof s->ops[tg].name, "grp");
    t = add_task(s, tg, "_Z9");
    i = add_op(s, &s->ops[tg].body, AF_OP_SPAWN, 0, tg);
    s->ops[i].ref = (int16_t)tg;
    add_task(s, i, "inner");
    i = add_op(s, &s->ops[tg].body, AF_OP_SHIELD, 0, tg);
    t = add_task(s, i, "shielded");
    j = add_op(s, &s->tasks[t].body, AF_OP_SLEEP, t, AF_NIL);
    s->ops[j].ticks = 3;
    s->ops[spawn1].ref = (int16_t)tg;
    s->ops[await_fwd].ref = (int16_t)t; /* a task defined after the await */

    int tg2 = add_op(s, root, AF_OP_TASKGROUP, 0, AF_NIL);
    snprintf(s->ops[tg2].name, sizeof s->ops[tg2].name, "tg1"); /* default */

    i = add_op(s, root, AF_OP_WAIT_FOR, 0, AF_NIL);
    s->ops[i].ticks = AF_NONE;
    j = add_op(s, &s->ops[i].body, AF_OP_LOCK, 0, i);
    s->ops[j].ref = (int16_t)lk;
    k = add_op(s, &s->ops[j].body, AF_OP_SEMAPHORE, 0, j);
    s->ops[k].ref = (int16_t)sem;
    int l = add_op(s, &s->ops[k].body, AF_OP_SLEEP, 0, k);
    s->ops[l].ticks = 1;
    i = add_op(s, root, AF_OP_WAIT_FOR, 0, AF_NIL);
    s->ops[i].ticks = 5;

    int to0 = add_op(s, root, AF_OP_TIMEOUT, 0, AF_NIL);
    snprintf(s->ops[to0].name, sizeof s->ops[to0].name, "to0");
    s->ops[to0].ticks = AF_NONE;
    int to1 = add_op(s, root, AF_OP_TIMEOUT, 0, AF_NIL);
    snprintf(s->ops[to1].name, sizeof s->ops[to1].name, "deadline");
    s->ops[to1].ticks = 7;
    s->ops[to1].at = true;
    j = add_op(s, &s->ops[to1].body, AF_OP_RESCHEDULE, 0, to1);
    s->ops[j].ref = (int16_t)to1;
    s->ops[j].ticks = 300;
    i = add_op(s, root, AF_OP_RESCHEDULE, 0, AF_NIL);
    s->ops[i].ref = (int16_t)to0;
    s->ops[i].ticks = AF_NONE;

    i = add_op(s, root, AF_OP_WAIT, 0, AF_NIL);
    s->ops[i].return_when = AF_WHEN_FIRST_EXCEPTION;
    s->ops[i].ticks = 4;
    s->ops[i].cancel_pending = true;
    add_task(s, i, "w1");
    add_task(s, i, "w2");
    i = add_op(s, root, AF_OP_WAIT, 0, AF_NIL);
    s->ops[i].return_when = AF_WHEN_FIRST_COMPLETED;
    i = add_op(s, root, AF_OP_AS_COMPLETED, 0, AF_NIL);
    s->ops[i].ticks = 9;
    t = add_task(s, i, "ac");
    j = add_op(s, &s->tasks[t].body, AF_OP_QUEUE_GET, t, AF_NIL);
    s->ops[j].ref = (int16_t)q2;

    i = add_op(s, root, AF_OP_TRY, 0, AF_NIL);
    s->ops[i].on_cancel = AF_ON_CANCEL_RAISE;
    s->ops[i].exc = (af_exc){AF_EXC_VALUE, 1};
    s->ops[i].on_error = AF_ON_ERROR_SWALLOW;
    s->ops[i].has_finally = true;
    j = add_op(s, &s->ops[i].body, AF_OP_COND_WAIT, 0, i);
    s->ops[j].ref = (int16_t)cv;
    j = add_op(s, &s->ops[i].finally_body, AF_OP_SLEEP, 0, i);
    s->ops[j].ticks = 2;
    i = add_op(s, root, AF_OP_TRY, 0, AF_NIL);
    s->ops[i].on_cancel = AF_ON_CANCEL_SWALLOW;
    i = add_op(s, root, AF_OP_TRY, 0, AF_NIL);
    s->ops[i].on_cancel = AF_ON_CANCEL_UNCANCEL;
    s->ops[i].has_finally = true; /* empty finally */
    i = add_op(s, root, AF_OP_TRY, 0, AF_NIL);
    s->ops[i].on_cancel = AF_ON_CANCEL_RERAISE;

    i = add_op(s, root, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[i].match = AF_MATCH_CANCELLED;
    s->ops[i].reaction = AF_REACT_RAISE;
    s->ops[i].exc = (af_exc){AF_EXC_KEYBOARD_INTERRUPT, 3};
    j = add_op(s, &s->ops[i].body, AF_OP_RAISE, 0, i);
    s->ops[j].exc = (af_exc){AF_EXC_SYSTEM_EXIT, 0};
    i = add_op(s, root, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[i].match = AF_MATCH_EXCEPTION;
    s->ops[i].reaction = AF_REACT_RERAISE;
    i = add_op(s, root, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[i].match = AF_MATCH_CANCELLED;
    s->ops[i].reaction = AF_REACT_SWALLOW;
    i = add_op(s, root, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[i].match = AF_MATCH_VALUE;
    s->ops[i].reaction = AF_REACT_RAISE;
    s->ops[i].exc = (af_exc){AF_EXC_APP, 17};
    i = add_op(s, root, AF_OP_TRY, 0, AF_NIL);
    s->ops[i].on_cancel = AF_ON_CANCEL_RAISE;
    s->ops[i].exc = (af_exc){AF_EXC_CANCELLED_SUBCLASS, 99};

    i = add_op(s, root, AF_OP_HOLD, 0, AF_NIL);
    snprintf(s->ops[i].name, sizeof s->ops[i].name, "db");
    s->ops[i].ticks = 2;
    j = add_op(s, &s->ops[i].body, AF_OP_QUEUE_PUT, 0, i);
    s->ops[j].ref = (int16_t)q;
    s->ops[j].value = 42;
    i = add_op(s, root, AF_OP_HOLD, 0, AF_NIL);
    snprintf(s->ops[i].name, sizeof s->ops[i].name, "r1"); /* default */
    i = add_op(s, root, AF_OP_HOLD, 0, AF_NIL);
    snprintf(s->ops[i].name, sizeof s->ops[i].name, "main"); /* resources: own names */

    i = add_op(s, root, AF_OP_EVENT_SET, 0, AF_NIL);
    s->ops[i].ref = (int16_t)ev;
    i = add_op(s, root, AF_OP_COND_NOTIFY, 0, AF_NIL);
    s->ops[i].ref = (int16_t)cv;
    s->ops[i].value = AF_MAX_SMALL;
    i = add_op(s, root, AF_OP_COND_NOTIFY, 0, AF_NIL);
    s->ops[i].ref = (int16_t)cv;
    s->ops[i].value = AF_NONE;
    i = add_op(s, root, AF_OP_QUEUE_PUT, 0, AF_NIL);
    s->ops[i].ref = (int16_t)q2;
    s->ops[i].value = 0;

    /* cancel_scope of a timeout and of a group (one scope list); start
     * into a group and of a task of its own, whose code calls started */
    i = add_op(s, root, AF_OP_CANCEL_SCOPE, 0, AF_NIL);
    s->ops[i].ref = (int16_t)to1;
    i = add_op(s, root, AF_OP_CANCEL_SCOPE, 0, AF_NIL);
    s->ops[i].ref = (int16_t)tg2;
    i = add_op(s, root, AF_OP_START, 0, AF_NIL);
    s->ops[i].ref = (int16_t)tg;
    t = add_task(s, i, "srv");
    j = add_op(s, &s->tasks[t].body, AF_OP_STARTED, t, AF_NIL);
    s->ops[j].value = 250;
    i = add_op(s, root, AF_OP_START, 0, AF_NIL);
    t = add_task(s, i, "own");
    add_op(s, &s->tasks[t].body, AF_OP_STARTED, t, AF_NIL);

    for (int n = 0; n < AF_NESTED_COUNT; n++) {
        i = add_op(s, root, AF_OP_NESTED_RUN, 0, AF_NIL);
        s->ops[i].nested = (af_nested_kind)n;
    }
    i = add_op(s, root, AF_OP_BLOCK, 0, AF_NIL);
    s->ops[i].ticks = 1;
    i = add_op(s, root, AF_OP_BLOCK, 0, AF_NIL);
    s->ops[i].ticks = 200;
    add_op(s, root, AF_OP_NEVER_AWAITED, 0, AF_NIL);
}

/* The loop-level ops (the every-kind scenario is at the op limit): a
 * callback with every kind of op a callback may hold, a handle cancelled
 * before it is defined, calls nested in callbacks, nested runs. */
static void build_loop_ops(af_scenario *s)
{
    af_scenario_init(s);
    int ev = af_scenario_add_primitive(s, AF_PRIM_EVENT, "ev", 0);
    int lk = af_scenario_add_primitive(s, AF_PRIM_LOCK, "lk", 0);
    (void)lk; /* a primitive without an op a callback may run */
    int to = af_scenario_add_op(s, &s->tasks[0].body, AF_OP_TIMEOUT, 0, AF_NIL);
    snprintf(s->ops[to].name, sizeof s->ops[to].name, "to0");
    s->ops[to].ticks = AF_NONE;
    af_body *root = &s->tasks[0].body;
    int i, j, k;
    int soon = add_op(s, root, AF_OP_CALL, 0, AF_NIL);
    snprintf(s->ops[soon].name, sizeof s->ops[soon].name, "h0"); /* the default */
    af_body *cb = &s->ops[soon].body;
    j = add_op(s, cb, AF_OP_EVENT_SET, 0, soon);
    s->ops[j].ref = (int16_t)ev;
    j = add_op(s, cb, AF_OP_SPAWN, 0, soon);
    add_task(s, j, "from_callback");
    j = add_op(s, cb, AF_OP_RESCHEDULE, 0, soon);
    s->ops[j].ref = (int16_t)to;
    s->ops[j].ticks = 3;
    j = add_op(s, cb, AF_OP_CANCEL, 0, soon);
    s->ops[j].ref = AF_SELF;
    j = add_op(s, cb, AF_OP_RAISE, 0, soon);
    s->ops[j].exc = (af_exc){AF_EXC_VALUE, 2};
    int cancel_later = add_op(s, cb, AF_OP_CANCEL_HANDLE, 0, soon);
    j = add_op(s, cb, AF_OP_NESTED_RUN, 0, soon);
    s->ops[j].nested = AF_NESTED_RUN_FOREVER;
    j = add_op(s, cb, AF_OP_BLOCK, 0, soon);
    s->ops[j].ticks = 2;
    add_op(s, cb, AF_OP_NEVER_AWAITED, 0, soon);
    j = add_op(s, cb, AF_OP_RETURN, 0, soon);
    s->ops[j].value = 3;
    int later = add_op(s, root, AF_OP_CALL, 0, AF_NIL);
    snprintf(s->ops[later].name, sizeof s->ops[later].name, "later");
    s->ops[later].via = AF_VIA_CALL_LATER;
    s->ops[later].ticks = 200;
    s->ops[cancel_later].ref = (int16_t)later; /* a handle defined after its cancel */
    int at = add_op(s, &s->ops[later].body, AF_OP_CALL, 0, later);
    snprintf(s->ops[at].name, sizeof s->ops[at].name, "past");
    s->ops[at].via = AF_VIA_CALL_AT;
    s->ops[at].at = true;
    s->ops[at].ticks = 1;
    add_op(s, &s->ops[at].body, AF_OP_STOP, 0, at);
    j = add_op(s, &s->ops[at].body, AF_OP_REENTER, 0, at);
    k = add_op(s, &s->ops[j].body, AF_OP_SLEEP, 0, j); /* a nested run's body may wait */
    s->ops[k].ticks = 1;
    i = add_op(s, root, AF_OP_CANCEL_HANDLE, 0, AF_NIL);
    s->ops[i].ref = (int16_t)at;
    add_op(s, root, AF_OP_STOP, 0, AF_NIL);
    int re = add_op(s, root, AF_OP_REENTER, 0, AF_NIL);
    j = add_op(s, &s->ops[re].body, AF_OP_REENTER, 0, re);
    s->ops[j].nested = AF_NESTED_RUN_UNTIL_COMPLETE;
    k = add_op(s, &s->ops[j].body, AF_OP_EVENT_WAIT, 0, j);
    s->ops[k].ref = (int16_t)ev;
}

static void test_every_kind(void **state)
{
    (void)state;
    bool seen[AF_OP_KIND_COUNT] = {false};
    build_loop_ops(&A);
    assert_valid_within_limits(&A);
    for (int i = 0; i < A.nops; i++)
        seen[A.ops[i].kind] = true;
    size_t len = round_trip(&A, AF_DRAW_ALL);
    print_message("loop-ops scenario: %d ops, %d tasks, %zu bytes\n", A.nops, A.ntasks, len);
    af_error err = {0};
    size_t n = 0;
    /* loop-level ops are refused when not allowed */
    assert_int_equal(af_encode(&A, AF_DRAW_MISUSE, buf, sizeof buf, &n, &err), -1);
    assert_true(strstr(err.message, "loop") != NULL);
    /* every truncation decodes (with the flags) to a scenario that round-trips */
    static uint8_t full[AF_ENCODE_MAX_BYTES];
    assert_int_equal(af_encode(&A, AF_DRAW_ALL, full, sizeof full, &n, NULL), 0);
    for (size_t cut = 0; cut <= n; cut++) {
        af_decode(full, cut, AF_DRAW_ALL, &C);
        assert_valid_within_limits(&C);
        round_trip(&C, AF_DRAW_ALL);
    }

    build_every_kind(&A);
    assert_valid_within_limits(&A);
    for (int i = 0; i < A.nops; i++)
        seen[A.ops[i].kind] = true;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (!seen[k])
            fail_msg("hand-built scenarios lack %s", af_op_kind_name((af_op_kind)k));
    len = round_trip(&A, true);
    print_message("every-kind scenario: %d ops, %d tasks, %zu bytes\n", A.nops, A.ntasks, len);

    /* misuse is refused when not allowed */
    assert_int_equal(af_encode(&A, false, buf, sizeof buf, &n, &err), -1);
    assert_true(strstr(err.message, "misuse") != NULL);

    /* a buffer too small is an error, never an overflow */
    assert_int_equal(af_encode(&A, AF_DRAW_ALL, buf, len - 1, &n, &err), -1);
    assert_int_equal(af_encode(&A, AF_DRAW_ALL, buf, len, &n, &err), 0);

    /* an invalid scenario is refused */
    memcpy(&C, &A, sizeof C);
    C.ops[0].ticks = -5;
    assert_int_equal(af_encode(&C, AF_DRAW_ALL, buf, sizeof buf, &n, &err), -1);

    /* every truncation of the encoding (input exhausted mid-op, mid-name,
     * mid-duration...) decodes to a valid scenario that round-trips */
    assert_int_equal(af_encode(&A, AF_DRAW_ALL, buf, sizeof buf, &n, NULL), 0);
    memcpy(full, buf, n);
    for (size_t cut = 0; cut <= n; cut++) {
        for (unsigned m = 0; m <= AF_DRAW_ALL; m++) {
            af_decode(full, cut, m, &C);
            assert_valid_within_limits(&C);
            round_trip(&C, m);
        }
    }
}

/* Without misuse ops, from the every-kind scenario: encodes both ways. */
static void test_no_misuse(void **state)
{
    (void)state;
    build_every_kind(&A);
    for (int i = 0; i < A.nops; i++) {
        af_op *op = &A.ops[i];
        if (op->kind == AF_OP_SPAWN)
            op->keep = true;
        if (op->kind == AF_OP_TRY && op->on_cancel == AF_ON_CANCEL_SWALLOW)
            op->on_cancel = AF_ON_CANCEL_NONE;
        /* a CancelledError handler may only raise a CancelledError */
        if (op->kind == AF_OP_TRY && op->on_cancel == AF_ON_CANCEL_RAISE)
            op->exc.kind = AF_EXC_CANCELLED_SUBCLASS;
        if (op->kind == AF_OP_EXCEPT_STAR && op->match == AF_MATCH_CANCELLED) {
            if (op->reaction == AF_REACT_SWALLOW)
                op->reaction = AF_REACT_RERAISE;
            else if (op->reaction == AF_REACT_RAISE)
                op->exc.kind = AF_EXC_CANCELLED_SUBCLASS;
        }
        if (op->kind == AF_OP_NESTED_RUN || op->kind == AF_OP_BLOCK ||
            op->kind == AF_OP_NEVER_AWAITED) {
            /* the misuse ops sit at the end of the root body: cut them off */
            af_body *root = &A.tasks[0].body;
            int prev = AF_NIL;
            for (int j = root->head; j != i; j = A.ops[j].next)
                prev = j;
            A.ops[prev].next = AF_NIL;
            root->tail = (int16_t)prev;
            int cnt = 0;
            for (int j = root->head; j != AF_NIL; j = A.ops[j].next)
                cnt++;
            root->count = (int16_t)cnt;
            A.nops = (int16_t)i; /* they are the last ops added */
            break;
        }
    }
    assert_valid_within_limits(&A);
    assert_false(af_scenario_has_misuse(&A));
    round_trip(&A, false);
    round_trip(&A, true);
}

/* Name collisions in the input fall back deterministically to defaults. */
static void test_name_collisions(void **state)
{
    (void)state;
    /* primitive 0: event named "a"; root named "a" too -> "main";
     * root body: a task_group named "a" -> default "tg0". */
    const uint8_t in[] = {
        1, 0, 1, 0, 0,        /* more, event, custom name len 1 "a" */
        0,                    /* no more primitives */
        1, 0, 0,              /* root: custom "a" -> collision -> "main" */
        1, 7, 1, 0, 0,  0, 0, /* more, task_group custom "a" -> "tg0", no children, empty body */
        1, 7, 0, 0, 0,        /* more, task_group default "tg1" */
        1, 7, 1, 2, 19, 6, 54, 0, 0, /* task_group custom "tg1" -> taken -> "tg2" */
        1, 7, 1, 3, 18, 4, 11, 5,    /* task_group custom "self" -> "tg3" */
    };
    af_decode(in, sizeof in, false, &A);
    assert_valid_within_limits(&A);
    assert_string_equal(A.prims[0].name, "a");
    assert_string_equal(A.tasks[0].name, "main");
    assert_int_equal(A.nops, 4);
    assert_string_equal(A.ops[0].name, "tg0");
    assert_string_equal(A.ops[1].name, "tg1");
    assert_string_equal(A.ops[2].name, "tg2");
    assert_string_equal(A.ops[3].name, "tg3");
    round_trip(&A, false);

    /* a default taken by an earlier custom name gets a suffix */
    af_scenario_init(&A);
    af_scenario_add_primitive(&A, AF_PRIM_LOCK, "main", 0);
    snprintf(A.tasks[0].name, sizeof A.tasks[0].name, "main_1");
    round_trip(&A, false);
    const uint8_t in2[] = {1, 1, 1, 3, 12, 0, 8, 13, 0, /* lock "main" */ 0, 0 /* root default */};
    af_decode(in2, sizeof in2, false, &B);
    assert_string_equal(B.prims[0].name, "main");
    assert_string_equal(B.tasks[0].name, "main_1");
}

/* Every limit reached exactly: 8 primitives, 16 tasks, 64 ops, depth 8,
 * 100000 ticks in total. */
static void test_limits_exact(void **state)
{
    (void)state;
    af_scenario *s = &A;
    af_scenario_init(s);
    for (int p = 0; p < AF_MAX_PRIMITIVES; p++) {
        char name[AF_MAX_NAME + 1];
        snprintf(name, sizeof name, "P%02d_xxxxxxxxxxxxxxxxxxxx", p);
        af_scenario_add_primitive(s, (af_prim_kind)(p % AF_PRIM_COUNT), name,
                                  p % AF_PRIM_COUNT == AF_PRIM_SEMAPHORE ? AF_MAX_SMALL : 0);
    }
    af_body *body = &s->tasks[0].body;
    int parent = AF_NIL;
    for (int d = 1; d < AF_MAX_DEPTH; d++) {
        int i = add_op(s, body, AF_OP_TRY, 0, parent);
        body = &s->ops[i].body;
        parent = i;
    }
    int leaf = add_op(s, body, AF_OP_SLEEP, 0, parent);
    s->ops[leaf].ticks = AF_MAX_TICKS;
    int g = add_op(s, &s->tasks[0].body, AF_OP_GATHER, 0, AF_NIL);
    for (int t = 1; t < AF_MAX_TASKS; t++) {
        char name[AF_MAX_NAME + 1];
        snprintf(name, sizeof name, "task_%02d_yyyyyyyyyyyyyyyy", t);
        add_task(s, g, name);
    }
    int ticks_left = AF_MAX_TOTAL_TICKS - AF_MAX_TICKS;
    while (s->nops < AF_MAX_OPS) {
        int i = add_op(s, &s->tasks[0].body, AF_OP_SLEEP, 0, AF_NIL);
        s->ops[i].ticks = ticks_left >= AF_MAX_TICKS ? AF_MAX_TICKS : ticks_left;
        ticks_left -= s->ops[i].ticks;
    }
    assert_valid_within_limits(s);
    assert_int_equal(s->nops, AF_MAX_OPS);
    assert_int_equal(s->ntasks, AF_MAX_TASKS);
    assert_int_equal(s->nprims, AF_MAX_PRIMITIVES);
    assert_int_equal(af_scenario_depth(s), AF_MAX_DEPTH);
    assert_int_equal(af_scenario_total_ticks(s), AF_MAX_TOTAL_TICKS);
    size_t len = round_trip(s, false);
    print_message("limits scenario: %zu bytes\n", len);

    /* Asking for more than the limits gives exactly the limits. */
    uint8_t in[1024];
    size_t n = 0;
    in[n++] = 0;                   /* no primitives */
    in[n++] = 0;                   /* root: main */
    for (int d = 0; d < 20; d++) { /* try inside try ...: 20 deep */
        in[n++] = 1;
        in[n++] = 14;
        in[n++] = 0;
        in[n++] = 0;
        in[n++] = 0;
    }
    af_decode(in, n, false, &B);
    assert_valid_within_limits(&B);
    assert_int_equal(af_scenario_depth(&B), AF_MAX_DEPTH);
    /* 8 nested tries; the bytes left over are read by the outer bodies */
    assert_true(B.nops >= AF_MAX_DEPTH);
    for (int i = 0; i < AF_MAX_DEPTH; i++)
        assert_int_equal(B.ops[i].kind, AF_OP_TRY);

    n = 2;
    in[0] = in[1] = 0;
    in[n++] = 1;
    in[n++] = 6;
    in[n++] = 0;                             /* gather */
    for (int t = 1; t < AF_MAX_TASKS; t++) { /* 15 children: the task limit */
        in[n++] = 1;
        in[n++] = 0;
        in[n++] = 0;
    }
    in[n++] = 1; /* one more asked for: read, and treated as stop */
    in[n++] = 1;
    in[n++] = 3; /* spawn with no task budget left: sleep 0 */
    in[n++] = 1;
    in[n++] = 0;
    in[n++] = 200;
    in[n++] = 255; /* sleep 200 + ... */
    af_decode(in, n, false, &B);
    assert_valid_within_limits(&B);
    assert_int_equal(B.ntasks, AF_MAX_TASKS);
    assert_int_equal(B.nops, 3);
    assert_int_equal(B.ops[0].children.count, AF_MAX_TASKS - 1);
    assert_int_equal(B.ops[1].kind, AF_OP_SLEEP);
    assert_int_equal(B.ops[1].ticks, 0);
    assert_int_equal(B.ops[2].kind, AF_OP_SLEEP);
    assert_int_equal(B.ops[2].ticks, AF_MAX_TICKS); /* 128 + (72 << 8 | 255) clamped */

    n = 2;
    for (int i = 0; i < 100; i++) { /* 100 sleeps of 10000 asked for */
        in[n++] = 1;
        in[n++] = 0;
        in[n++] = 128 + ((AF_MAX_TICKS - 128) >> 8);
        in[n++] = (AF_MAX_TICKS - 128) & 0xff;
    }
    af_decode(in, n, true, &B);
    assert_valid_within_limits(&B);
    assert_int_equal(B.nops, AF_MAX_OPS);
    assert_int_equal(af_scenario_total_ticks(&B), AF_MAX_TOTAL_TICKS);
    assert_int_equal(B.ops[0].ticks, AF_MAX_TICKS);
    assert_int_equal(B.ops[10].ticks, 0); /* budget spent */
}

/* Deleting the bytes of one "more" step deletes exactly that step. */
static void test_shrinking(void **state)
{
    (void)state;
    const uint8_t head[] = {0, 0};                          /* no primitives, root "main" */
    const uint8_t step1[] = {1, 0, 5};                      /* sleep 5 */
    const uint8_t step2[] = {1, 6, 1, 1, 0, 1, 1, 9, 0, 0}; /* gather(t1: return 9) */
    const uint8_t step3[] = {1, 1, 7};                      /* return 7 */
    const uint8_t *steps[] = {step1, step2, step3};
    const size_t lens[] = {sizeof step1, sizeof step2, sizeof step3};

    uint8_t in[64];
    size_t n = 0;
    memcpy(in, head, sizeof head);
    n = sizeof head;
    for (int k = 0; k < 3; k++) {
        memcpy(in + n, steps[k], lens[k]);
        n += lens[k];
    }
    af_decode(in, n, false, &A);
    assert_valid_within_limits(&A);
    assert_int_equal(A.tasks[0].body.count, 3);
    assert_int_equal(A.nops, 4);
    assert_int_equal(A.ntasks, 2);

    for (int drop = 0; drop < 3; drop++) {
        /* the expected scenario: built from the other steps' bytes */
        size_t m = sizeof head;
        memcpy(in, head, sizeof head);
        for (int k = 0; k < 3; k++)
            if (k != drop) {
                memcpy(in + m, steps[k], lens[k]);
                m += lens[k];
            }
        af_decode(in, m, false, &B);
        assert_valid_within_limits(&B);
        assert_int_equal(B.tasks[0].body.count, 2);
        assert_true(B.nops < A.nops);
        /* the ops left are the others, unchanged */
        int kinds[3] = {AF_OP_SLEEP, AF_OP_GATHER, AF_OP_RETURN};
        int o = B.tasks[0].body.head;
        for (int k = 0; k < 3; k++) {
            if (k == drop)
                continue;
            assert_int_equal(B.ops[o].kind, kinds[k]);
            o = B.ops[o].next;
        }
    }

    /* the last step's bytes cut off: the encoding of the shorter scenario is
     * a prefix of the longer one's */
    af_decode(in, sizeof head + lens[0] + lens[1], false, &B);
    size_t lb = 0;
    static uint8_t eb[AF_ENCODE_MAX_BYTES];
    assert_int_equal(af_encode(&B, false, eb, sizeof eb, &lb, NULL), 0);
    size_t la = 0;
    assert_int_equal(af_encode(&A, false, buf, sizeof buf, &la, NULL), 0);
    assert_true(lb < la);
    assert_memory_equal(eb, buf, lb);
}

/* Every catalog file round-trips (description and expect are not part of
 * the byte format). */
static void test_catalog(void **state)
{
    (void)state;
    const char *dir = AF_SOURCE_DIR "/scenarios/catalog";
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        af_error err = {0};
        if (af_json_read_file(path, &A, &err) != 0)
            fail_msg("%s: %s: %s", path, err.path, err.message);
        A.description[0] = '\0';
        A.nexpect = 0;
        memset(A.expect, 0, sizeof A.expect);
        unsigned needed = af_draw_needed(&A);
        round_trip(&A, needed);
        if (needed != AF_DRAW_ALL)
            round_trip(&A, AF_DRAW_ALL);
        files++;
    }
    closedir(d);
    print_message("catalog: %d files round-tripped\n", files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_input),  cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_no_misuse),    cmocka_unit_test(test_name_collisions),
        cmocka_unit_test(test_limits_exact), cmocka_unit_test(test_shrinking),
        cmocka_unit_test(test_catalog),      cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
