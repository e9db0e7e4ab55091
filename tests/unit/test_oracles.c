/* test_oracles.c - every oracle on hand-built traces (with matching
 * hand-built scenarios): at least three that must fire and three that must
 * stay quiet, the quiet ones being correct asyncio 3.11 behaviour; plus op
 * paths and signature stability.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "scenarios/json.h"

#include "cause_cases.h"

#define CE "asyncio.exceptions.CancelledError"
#define TE "builtins.TimeoutError"
#define EG "builtins.ExceptionGroup"

static af_scenario *S;
static af_trace TR;
static af_verdict_list V;

static int setup(void **state)
{
    (void)state;
    S = malloc(sizeof *S);
    af_scenario_init(S);
    assert_int_equal(af_trace_init(&TR, 256, 16384), 0);
    af_verdict_list_init(&V);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(S);
    af_trace_free(&TR);
    return 0;
}

static void fresh(void)
{
    af_scenario_init(S);
    af_trace_reset(&TR);
    af_verdict_list_init(&V);
}

/* ops */
static int op_root(af_op_kind k)
{
    return af_scenario_add_op(S, &S->tasks[0].body, k, 0, AF_NIL);
}
static int op_in(int parent, af_op_kind k)
{
    return af_scenario_add_op(S, &S->ops[parent].body, k, S->ops[parent].task, parent);
}
static int op_task(int task, af_op_kind k)
{
    return af_scenario_add_op(S, &S->tasks[task].body, k, task, AF_NIL);
}
static int child(int op, const char *name)
{
    return af_scenario_add_task(S, &S->ops[op].children, name, op);
}

static int judge(void)
{
    af_verdict_list_init(&V);
    return af_judge(S, &TR, &V);
}

static int count_of(af_oracle o)
{
    int n = 0;
    for (int i = 0; i < V.count; i++)
        n += V.items[i].oracle == o;
    return n;
}

static const af_verdict *first_of(af_oracle o)
{
    for (int i = 0; i < V.count; i++)
        if (V.items[i].oracle == o)
            return &V.items[i];
    return NULL;
}

static void dump(void)
{
    char buf[2048];
    for (int i = 0; i < V.count; i++) {
        af_verdict_write_json(&V.items[i], buf, sizeof buf);
        int r = V.items[i].cause_rule;
        printf("    verdict (cause rule %s): %s\n",
               r >= 0 && r < AF_CAUSE_RULE_COUNT ? af_cause_rule_defs[r].id : "none", buf);
    }
}

#define EXPECT_ONLY(o, n)                                                                          \
    do {                                                                                           \
        if (count_of(o) != (n) || V.count != (n))                                                  \
            dump();                                                                                \
        assert_int_equal(count_of(o), (n));                                                        \
        assert_int_equal(V.count, (n));                                                            \
    } while (0)
#define EXPECT_TWO(o1, o2)                                                                         \
    do {                                                                                           \
        if (V.count != 2 || count_of(o1) != 1 || count_of(o2) != 1)                                \
            dump();                                                                                \
        assert_int_equal(V.count, 2);                                                              \
        assert_int_equal(count_of(o1), 1);                                                         \
        assert_int_equal(count_of(o2), 1);                                                         \
    } while (0)
#define EXPECT_NONE()                                                                              \
    do {                                                                                           \
        if (V.count)                                                                               \
            dump();                                                                                \
        assert_int_equal(V.count, 0);                                                              \
    } while (0)

/* ---- scenario: main spawns t1, which cancels main; main runs wait_for ---- */

typedef struct gh86296 {
    int spawn, wait_for, sleep_in, cancel;
} gh86296;

/* main: [spawn t1, wait_for(timeout)[sleep d]]   t1: [sleep d, cancel main] */
static gh86296 build_gh86296(const char *tname, int d)
{
    gh86296 g;
    g.spawn = op_root(AF_OP_SPAWN);
    int t1 = child(g.spawn, tname);
    g.wait_for = op_root(AF_OP_WAIT_FOR);
    S->ops[g.wait_for].ticks = 100;
    g.sleep_in = op_in(g.wait_for, AF_OP_SLEEP);
    S->ops[g.sleep_in].ticks = d;
    op_task(t1, AF_OP_SLEEP);
    g.cancel = op_task(t1, AF_OP_CANCEL);
    S->ops[g.cancel].ref = 0;
    return g;
}

static void trace_gh86296(gh86296 g, const char *tname, int d)
{
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 1, 1, tname, 0, g.spawn, 1);
    af_trace_op_enter(&TR, 0, 1, 0, g.wait_for, 0);
    af_trace_task_new(&TR, 0, 1, 2, "Task-3", 0, g.wait_for, -1);
    af_trace_task_done(&TR, d, 5, 2, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, d, 5, 1, 0, g.cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, d, 5, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_op_exit(&TR, d, 6, 0, g.wait_for, AF_OPEXIT_OK, "", "", AF_DETAIL_BOOL, 0, 0, NULL, 1);
    af_trace_task_done(&TR, d, 6, 0, AF_OUT_RESULT, "", "", 1);
    af_trace_end(&TR, d, 6, AF_OUT_RESULT, "");
}

/* ========================= cancellation.swallowed ======================== */

static void test_swallowed_gh86296(void **state)
{
    (void)state;
    fresh();
    gh86296 g = build_gh86296("t1", 5);
    trace_gh86296(g, "t1", 5);
    judge();
    EXPECT_TWO(AF_ORACLE_CANCEL_SWALLOWED, AF_ORACLE_CANCEL_COUNT);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_COUNT)->path, "main/1:wait_for");
    assert_string_equal(first_of(AF_ORACLE_CANCEL_COUNT)->signature_text,
                        "cancellation.count|wait_for|block");
    const af_verdict *v = first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(v->path, "main/1:wait_for");
    assert_int_equal(v->task, 0);
    assert_string_equal(v->task_name, "main");
    assert_non_null(strstr(v->evidence, "wait_for"));
    assert_non_null(strstr(v->evidence, "vtime 5"));
    assert_string_equal(v->signature_text, "cancellation.swallowed|wait_for|block");
}

static void test_swallowed_handler(void **state)
{
    (void)state;
    fresh();
    /* main: [spawn t1, sleep 1, cancel t1, await t1]  t1: [try(swallow)[sleep 10]] */
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    op_root(AF_OP_SLEEP);
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    int aw = op_root(AF_OP_AWAIT);
    S->ops[aw].ref = (int16_t)t1;
    int tr_ = op_task(t1, AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_SWALLOW;
    op_in(tr_, AF_OP_SLEEP);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 1, 1, tr_, 0);
    af_trace_cancel(&TR, 1, 2, 0, 1, cancel, NULL, 1, 0, 1);
    af_trace_op_enter(&TR, 1, 2, 0, aw, 0);
    af_trace_caught(&TR, 1, 3, 1, tr_, CE, NULL);
    af_trace_op_exit(&TR, 1, 3, 1, tr_, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 1, 3, 1, AF_OUT_RESULT, "", "", 1);
    af_trace_op_exit(&TR, 1, 4, 0, aw, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 1, 4, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 1, 4, AF_OUT_RESULT, "");
    judge();
    EXPECT_TWO(AF_ORACLE_CANCEL_SWALLOWED, AF_ORACLE_CANCEL_COUNT);
    const af_verdict *v = first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(v->path, "main/0:spawn/t1/0:try");
    assert_int_equal(v->task, 1);
    assert_string_equal(v->signature_text, "cancellation.swallowed|spawn|handler|misuse");
}

static void test_swallowed_task_end(void **state)
{
    (void)state;
    fresh();
    /* t1 is cancelled while sleeping at top level; it returns a result anyway */
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    op_task(t1, AF_OP_SLEEP);
    op_task(t1, AF_OP_RETURN);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, "m", 1, 0, 1);
    af_trace_task_done(&TR, 0, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 1, AF_OUT_RESULT, "");
    af_trace_task_done(&TR, 3, 2, 1, AF_OUT_RESULT, "", "", 1);
    judge();
    EXPECT_TWO(AF_ORACLE_CANCEL_SWALLOWED, AF_ORACLE_CANCEL_COUNT);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_SWALLOWED)->signature_text,
                        "cancellation.swallowed||task-end");
    const af_verdict *v = first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(v->path, "t1");
    assert_non_null(strstr(v->evidence, "cancel('m')"));
}

static void test_swallowed_quiet_delivered(void **state)
{
    (void)state;
    fresh();
    /* correct 3.11 wait_for: outer cancelled, inner cancelled too, CancelledError out */
    gh86296 g = build_gh86296("t1", 5);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 1, 1, "t1", 0, g.spawn, 1);
    af_trace_op_enter(&TR, 0, 1, 0, g.wait_for, 0);
    af_trace_task_new(&TR, 0, 1, 2, "Task-3", 0, g.wait_for, -1);
    af_trace_cancel(&TR, 5, 5, 1, 0, g.cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 5, 5, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, 5, 6, 0, 2, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 5, 7, 2, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_op_exit(&TR, 5, 8, 0, g.wait_for, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_BOOL, 0, 0,
                     NULL, 1);
    af_trace_task_done(&TR, 5, 8, 0, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_end(&TR, 5, 8, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_NONE();
}

static void test_swallowed_quiet_uncancel(void **state)
{
    (void)state;
    fresh();
    /* t1: try(on_cancel=uncancel) catches, uncancels and returns: correct */
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    int tr_ = op_task(t1, AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_UNCANCEL;
    op_in(tr_, AF_OP_SLEEP);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 1, 1, tr_, 0);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, NULL, 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, NULL);
    af_trace_uncancel(&TR, 0, 2, 1, 1, tr_, 1, 0);
    af_trace_op_exit(&TR, 0, 2, 1, tr_, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 0, 2, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_task_done(&TR, 0, 3, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 3, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();
}

static void test_swallowed_quiet_forwarded(void **state)
{
    (void)state;
    fresh();
    /* main awaits t1; t2 cancels main: Task.cancel forwards to t1, which
     * uncancels and returns; main's await returns normally (3.11 semantics:
     * main's own count stays 1, nothing was lost by asyncio) */
    int sp1 = op_root(AF_OP_SPAWN);
    int t1 = child(sp1, "t1");
    int sp2 = op_root(AF_OP_SPAWN);
    int t2 = child(sp2, "t2");
    int aw = op_root(AF_OP_AWAIT);
    S->ops[aw].ref = (int16_t)t1;
    int tr_ = op_task(t1, AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_UNCANCEL;
    op_in(tr_, AF_OP_SLEEP);
    int cancel = op_task(t2, AF_OP_CANCEL);
    S->ops[cancel].ref = 0;
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp1, 1);
    af_trace_task_new(&TR, 0, 0, 2, "t2", 0, sp2, 2);
    af_trace_op_enter(&TR, 0, 0, 0, aw, 0);
    af_trace_op_enter(&TR, 0, 1, 1, tr_, 0);
    af_trace_cancel(&TR, 0, 1, 2, 1, cancel, NULL, 1, 0, 1);
    af_trace_cancel(&TR, 0, 1, 2, 0, cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 1, 2, AF_OUT_RESULT, "", "", 0);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, NULL);
    af_trace_uncancel(&TR, 0, 2, 1, 1, tr_, 1, 0);
    af_trace_op_exit(&TR, 0, 2, 1, tr_, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 0, 2, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_op_exit(&TR, 0, 3, 0, aw, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 0, 3, 0, AF_OUT_RESULT, "", "", 1);
    af_trace_end(&TR, 0, 3, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();
}

static void test_swallowed_quiet_timeout_and_taskgroup(void **state)
{
    (void)state;
    fresh();
    /* timeout expiry (its own cancel + uncancel, TimeoutError), then a
     * TaskGroup whose child fails (the group cancels and uncancels its
     * parent, raises ExceptionGroup), then a cancel() of a done task that
     * returns False. All correct. */
    int to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    int tg = op_root(AF_OP_TASKGROUP);
    int c1 = child(tg, "c1");
    op_task(c1, AF_OP_RAISE);
    op_in(tg, AF_OP_SLEEP);
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)c1;
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_cancel(&TR, 3, 1, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_uncancel(&TR, 3, 2, 0, 0, -1, 1, 0);
    af_trace_op_exit(&TR, 3, 2, 0, to, AF_OPEXIT_RAISE, TE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 0);
    af_trace_op_enter(&TR, 3, 2, 0, tg, 0);
    af_trace_task_new(&TR, 3, 2, 1, "c1", 0, tg, 1);
    af_trace_task_done(&TR, 3, 3, 1, AF_OUT_EXCEPTION, "AppError", "(1,)", 0);
    af_trace_cancel(&TR, 3, 3, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_uncancel(&TR, 3, 4, 0, 0, -1, 1, 0);
    af_trace_op_exit(&TR, 3, 4, 0, tg, AF_OPEXIT_RAISE, EG, "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_cancel(&TR, 3, 4, 0, 1, cancel, NULL, 0, 0, 0);
    af_trace_task_done(&TR, 3, 4, 0, AF_OUT_EXCEPTION, EG, "", 0);
    af_trace_end(&TR, 3, 4, AF_OUT_EXCEPTION, EG);
    judge();
    EXPECT_NONE();
}

/* ========================= cancellation.spurious ========================= */

static void simple_main(void)
{
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
}

static void test_spurious_fires(void **state)
{
    (void)state;
    /* 1: ended cancelled, no request */
    fresh();
    op_root(AF_OP_SLEEP);
    simple_main();
    af_trace_task_done(&TR, 1, 1, 0, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_end(&TR, 1, 1, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_SPURIOUS, 1);

    /* 2: a handler caught a CancelledError nobody requested */
    fresh();
    int tr_ = op_root(AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_RERAISE;
    op_in(tr_, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, tr_, 0);
    af_trace_caught(&TR, 1, 1, 0, tr_, CE, NULL);
    af_trace_op_exit(&TR, 1, 1, 0, tr_, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 1, 1, 0, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_end(&TR, 1, 1, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_SPURIOUS, 1);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_SPURIOUS)->path, "main/0:try");

    /* 3: one request, handled by uncancel; a second CancelledError later */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    tr_ = op_task(t1, AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_UNCANCEL;
    op_in(tr_, AF_OP_SLEEP);
    op_task(t1, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 1, 1, tr_, 0);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, NULL, 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, NULL);
    af_trace_uncancel(&TR, 0, 2, 1, 1, tr_, 1, 0);
    af_trace_op_exit(&TR, 0, 2, 1, tr_, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 2, 3, 1, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_task_done(&TR, 2, 3, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 2, 3, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_SPURIOUS, 1);
    assert_int_equal(first_of(AF_ORACLE_CANCEL_SPURIOUS)->task, 1);
}

static void test_spurious_quiet(void **state)
{
    (void)state;
    /* 1: CancelledError propagating to an awaiter of a cancelled task */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    op_task(t1, AF_OP_SLEEP);
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    int aw = op_root(AF_OP_AWAIT);
    S->ops[aw].ref = (int16_t)t1;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, "x", 1, 0, 1);
    af_trace_op_enter(&TR, 0, 0, 0, aw, 0);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, CE, "('x',)", 1);
    af_trace_op_exit(&TR, 0, 2, 0, aw, AF_OPEXIT_RAISE, CE, "('x',)", AF_DETAIL_NONE, 0, 0, NULL,
                     0);
    af_trace_task_done(&TR, 0, 2, 0, AF_OUT_CANCELLED, CE, "('x',)", 0);
    af_trace_end(&TR, 0, 2, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_NONE();

    /* 2: cancel() then uncancel() in one step: 3.11 still delivers; and a
     * task cancelled before it started */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    int sp2 = op_root(AF_OP_SPAWN);
    int t2 = child(sp2, "t2");
    op_task(t1, AF_OP_SLEEP);
    op_task(t2, AF_OP_SLEEP);
    cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    S->ops[cancel].uncancel = true;
    int cancel2 = op_root(AF_OP_CANCEL);
    S->ops[cancel2].ref = (int16_t)t2;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_task_new(&TR, 0, 0, 2, "t2", 0, sp2, 2);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, NULL, 1, 0, 1);
    af_trace_uncancel(&TR, 0, 0, 0, 1, cancel, 1, 0);
    af_trace_cancel(&TR, 0, 0, 0, 2, cancel2, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 1, AF_OUT_RESULT, "");
    af_trace_pending(&TR, 0, 1, 1);
    af_trace_pending(&TR, 0, 1, 2);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_task_done(&TR, 0, 1, 2, AF_OUT_CANCELLED, CE, "()", 1);
    judge();
    /* (the two tasks are leaked: pending when main finished) */
    EXPECT_ONLY(AF_ORACLE_LEAKED_TASK, 2);

    /* 3: the scenario raises a CancelledError subclass itself; gather's
     * children cancelled by gather's own cancel */
    fresh();
    int g = op_root(AF_OP_GATHER);
    t1 = child(g, "t1");
    t2 = child(g, "t2");
    int r = op_task(t1, AF_OP_RAISE);
    S->ops[r].exc.kind = AF_EXC_CANCELLED_SUBCLASS;
    op_task(t2, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, g, 0);
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, g, 1);
    af_trace_task_new(&TR, 0, 0, 2, "t2", 0, g, 2);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, "AppCancelled", "(3,)", 0);
    af_trace_op_exit(&TR, 0, 2, 0, g, AF_OPEXIT_RAISE, "AppCancelled", "(3,)", AF_DETAIL_NONE, 0, 0,
                     NULL, 0);
    af_trace_task_done(&TR, 0, 2, 0, AF_OUT_CANCELLED, "AppCancelled", "(3,)", 0);
    af_trace_end(&TR, 0, 2, AF_OUT_CANCELLED, "AppCancelled");
    af_trace_pending(&TR, 0, 2, 2);
    af_trace_cancel(&TR, 0, 2, -1, 2, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 3, 2, AF_OUT_CANCELLED, CE, "()", 1);
    judge();
    EXPECT_ONLY(AF_ORACLE_LEAKED_TASK, 1);
}

/* ========================== cancellation.count ========================== */

static void test_count_fires(void **state)
{
    (void)state;
    /* 1: a cancel() that returned True did not raise the count */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, NULL, 1, 0, 0);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_task_done(&TR, 0, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 1, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_COUNT, 1);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_COUNT)->signature_text,
                        "cancellation.count||arith");

    /* 2: op_exit reads a count no cancel()/uncancel() explains */
    fresh();
    int to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_op_exit(&TR, 1, 1, 0, to, AF_OPEXIT_OK, "", "", AF_DETAIL_BOOL, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 1, 1, 0, AF_OUT_RESULT, "", "", 1);
    af_trace_end(&TR, 1, 1, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_COUNT, 1);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_COUNT)->path, "main/0:timeout");

    /* 3: 3.11 TaskGroup: a child fails while __aexit__ waits; the group
     * cancels its parent after its uncancel() check and raises
     * ExceptionGroup, leaving cancelling() at 1; main catches the group
     * (except* AppError: pass) and returns (gh-116720). The probe did not
     * record cancelling at op_enter / op_exit here: the events imply it. */
    fresh();
    int es = op_root(AF_OP_EXCEPT_STAR);
    S->ops[es].match = AF_MATCH_APP;
    S->ops[es].reaction = AF_REACT_SWALLOW;
    int tg = op_in(es, AF_OP_TASKGROUP);
    int c1 = child(tg, "c1");
    op_task(c1, AF_OP_SLEEP);
    op_task(c1, AF_OP_RAISE);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, es, -1);
    af_trace_op_enter(&TR, 0, 0, 0, tg, -1);
    af_trace_task_new(&TR, 0, 0, 1, "c1", 0, tg, 1);
    af_trace_task_done(&TR, 2, 3, 1, AF_OUT_EXCEPTION, "AppError", "(0,)", 0);
    af_trace_cancel(&TR, 2, 3, -1, 0, tg, NULL, 1, 0, 1);
    af_trace_op_exit(&TR, 2, 4, 0, tg, AF_OPEXIT_RAISE, EG, "", AF_DETAIL_NONE, 0, 0, NULL, -1);
    af_trace_op_exit(&TR, 2, 4, 0, es, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, -1);
    af_trace_task_done(&TR, 2, 4, 0, AF_OUT_RESULT, "", "", 1);
    af_trace_end(&TR, 2, 4, AF_OUT_RESULT, "");
    judge();
    EXPECT_TWO(AF_ORACLE_CANCEL_COUNT, AF_ORACLE_CANCEL_SWALLOWED);
    const af_verdict *v = first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(v->path, "main/0:except_star/0:task_group");
    assert_string_equal(v->signature_text, "cancellation.swallowed|task_group|block-raise");
    assert_string_equal(first_of(AF_ORACLE_CANCEL_COUNT)->signature_text,
                        "cancellation.count|task_group|task-end");
}

static void test_count_quiet(void **state)
{
    (void)state;
    /* uncancel() at 0 stays 0; cancel() of a done task returns False and
     * changes nothing; a timeout whose counts go 0 -> 1 -> 0 */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    S->ops[cancel].uncancel = true;
    int to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, 0, 2, 0, 1, cancel, NULL, 0, 0, 0);
    af_trace_uncancel(&TR, 0, 2, 0, 1, cancel, 0, 0);
    af_trace_op_enter(&TR, 0, 2, 0, to, 0);
    af_trace_cancel(&TR, 5, 3, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_uncancel(&TR, 5, 4, 0, 0, -1, 1, 0);
    af_trace_op_exit(&TR, 5, 4, 0, to, AF_OPEXIT_RAISE, TE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 0);
    af_trace_task_done(&TR, 5, 4, 0, AF_OUT_EXCEPTION, TE, "()", 0);
    af_trace_end(&TR, 5, 4, AF_OUT_EXCEPTION, TE);
    judge();
    EXPECT_NONE();

    /* a second cancel() before delivery: 0 -> 1 -> 2, delivered once */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    S->ops[cancel].value = 2;
    op_task(t1, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, NULL, 1, 0, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, NULL, 1, 1, 2);
    af_trace_task_done(&TR, 0, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, CE, "()", 2);
    af_trace_end(&TR, 0, 1, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();

    /* a TaskGroup whose body is cancelled from outside: the group
     * propagates CancelledError (count stays 1, delivered) */
    fresh();
    int sp2 = op_root(AF_OP_SPAWN);
    int t2 = child(sp2, "t2");
    cancel = op_task(t2, AF_OP_CANCEL);
    S->ops[cancel].ref = 0;
    int tg = op_root(AF_OP_TASKGROUP);
    int c1 = child(tg, "c1");
    op_task(c1, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t2", 0, sp2, 1);
    af_trace_op_enter(&TR, 0, 0, 0, tg, 0);
    af_trace_task_new(&TR, 0, 0, 2, "c1", 0, tg, 2);
    af_trace_cancel(&TR, 0, 1, 1, 0, cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, 0, 2, -1, 2, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 3, 2, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_op_exit(&TR, 0, 4, 0, tg, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_NONE, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 0, 4, 0, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_end(&TR, 0, 4, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_NONE();
}

/* ========================= cancellation.message ========================= */

/* main: [spawn t1, cancel t1 (msg)]; t1: [try(reraise)[sleep]] */
static int msg_scenario(int *t1op, int *cancel)
{
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    *cancel = op_root(AF_OP_CANCEL);
    S->ops[*cancel].ref = (int16_t)t1;
    S->ops[*cancel].has_msg = true;
    *t1op = op_task(t1, AF_OP_TRY);
    S->ops[*t1op].on_cancel = AF_ON_CANCEL_RERAISE;
    op_in(*t1op, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 1, 1, *t1op, 0);
    return sp;
}

static void msg_finish(int t1op, const char *done_args)
{
    af_trace_op_exit(&TR, 0, 2, 1, t1op, AF_OPEXIT_RAISE, CE, done_args, AF_DETAIL_NONE, 0, 0, NULL,
                     1);
    af_trace_task_done(&TR, 0, 2, 1, AF_OUT_CANCELLED, CE, done_args, 1);
    af_trace_task_done(&TR, 0, 3, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 3, AF_OUT_RESULT, "");
}

static void test_message_fires(void **state)
{
    (void)state;
    int tr_, cancel;
    /* 1: another message arrives */
    fresh();
    msg_scenario(&tr_, &cancel);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "bye", 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, "other");
    msg_finish(tr_, "('bye',)");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_MESSAGE, 1);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_MESSAGE)->path, "main/0:spawn/t1/0:try");
    assert_non_null(strstr(first_of(AF_ORACLE_CANCEL_MESSAGE)->evidence, "'other'"));

    /* 2: the message is lost (None) */
    fresh();
    msg_scenario(&tr_, &cancel);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "bye", 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, NULL);
    msg_finish(tr_, "('bye',)");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_MESSAGE, 1);

    /* 3: the task's final CancelledError carries the wrong message */
    fresh();
    msg_scenario(&tr_, &cancel);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "bye", 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, "bye");
    msg_finish(tr_, "('zzz',)");
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_MESSAGE, 1);
}

static void test_message_quiet(void **state)
{
    (void)state;
    int tr_, cancel;
    /* 1: the message arrives */
    fresh();
    msg_scenario(&tr_, &cancel);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "bye", 1, 0, 1);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, "bye");
    msg_finish(tr_, "('bye',)");
    judge();
    EXPECT_NONE();

    /* 2: two requests before delivery: either message may arrive (3.11) */
    fresh();
    msg_scenario(&tr_, &cancel);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "a", 1, 0, 1);
    af_trace_cancel(&TR, 0, 1, 0, 1, cancel, "b", 1, 1, 2);
    af_trace_caught(&TR, 0, 2, 1, tr_, CE, "a");
    af_trace_op_exit(&TR, 0, 2, 1, tr_, AF_OPEXIT_RAISE, CE, "('a',)", AF_DETAIL_NONE, 0, 0, NULL,
                     2);
    af_trace_task_done(&TR, 0, 2, 1, AF_OUT_CANCELLED, CE, "('a',)", 2);
    af_trace_task_done(&TR, 0, 3, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 3, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();

    /* 3: the message of a cancelled child propagates to its awaiter */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    op_task(t1, AF_OP_SLEEP);
    cancel = op_root(AF_OP_CANCEL);
    S->ops[cancel].ref = (int16_t)t1;
    int tr2 = op_root(AF_OP_TRY);
    S->ops[tr2].on_cancel = AF_ON_CANCEL_RERAISE;
    int aw = op_in(tr2, AF_OP_AWAIT);
    S->ops[aw].ref = (int16_t)t1;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_cancel(&TR, 0, 0, 0, 1, cancel, "c", 1, 0, 1);
    af_trace_op_enter(&TR, 0, 0, 0, tr2, 0);
    af_trace_op_enter(&TR, 0, 0, 0, aw, 0);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_CANCELLED, CE, "('c',)", 1);
    af_trace_op_exit(&TR, 0, 2, 0, aw, AF_OPEXIT_RAISE, CE, "('c',)", AF_DETAIL_NONE, 0, 0, NULL,
                     0);
    af_trace_caught(&TR, 0, 2, 0, tr2, CE, "c");
    af_trace_op_exit(&TR, 0, 2, 0, tr2, AF_OPEXIT_RAISE, CE, "('c',)", AF_DETAIL_NONE, 0, 0, NULL,
                     0);
    af_trace_task_done(&TR, 0, 2, 0, AF_OUT_CANCELLED, CE, "('c',)", 0);
    af_trace_end(&TR, 0, 2, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_NONE();
}

/* ======================== cancellation.converted ======================== */

static void test_converted_fires(void **state)
{
    (void)state;
    /* 1: gh-86296 leaves the count at 1; a later timeout expires and 3.11's
     * `uncancel() == 0` test turns its TimeoutError into CancelledError.
     * count at wait_for, converted at timeout. */
    fresh();
    gh86296 g = build_gh86296("t1", 5);
    int to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 1, 1, "t1", 0, g.spawn, 1);
    af_trace_op_enter(&TR, 0, 1, 0, g.wait_for, 0);
    af_trace_task_new(&TR, 0, 1, 2, "Task-3", 0, g.wait_for, -1);
    af_trace_task_done(&TR, 5, 5, 2, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, 5, 5, 1, 0, g.cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 5, 5, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_op_exit(&TR, 5, 6, 0, g.wait_for, AF_OPEXIT_OK, "", "", AF_DETAIL_BOOL, 0, 0, NULL, 1);
    af_trace_op_enter(&TR, 5, 6, 0, to, 1);
    af_trace_cancel(&TR, 8, 7, -1, 0, -1, NULL, 1, 1, 2);
    af_trace_uncancel(&TR, 8, 8, 0, 0, -1, 2, 1);
    af_trace_op_exit(&TR, 8, 8, 0, to, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 1);
    af_trace_task_done(&TR, 8, 8, 0, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_end(&TR, 8, 8, AF_OUT_CANCELLED, CE);
    judge();
    /* main ends cancelled: the request was delivered after all (no
     * swallowed); the wait_for left the count up, the timeout converted */
    EXPECT_TWO(AF_ORACLE_CANCEL_COUNT, AF_ORACLE_CANCEL_CONVERTED);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_CONVERTED)->path, "main/2:timeout");

    /* 2: an external cancel comes out of wait_for as TimeoutError */
    fresh();
    g = build_gh86296("t1", 5);
    af_trace_task_new(&TR, 0, 0, 0, "main", -1, -1, 0);
    af_trace_task_new(&TR, 0, 1, 1, "t1", 0, g.spawn, 1);
    af_trace_op_enter(&TR, 0, 1, 0, g.wait_for, 0);
    af_trace_task_new(&TR, 0, 1, 2, "Task-3", 0, g.wait_for, -1);
    af_trace_cancel(&TR, 5, 5, 1, 0, g.cancel, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 5, 5, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_cancel(&TR, 5, 6, 0, 2, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 5, 7, 2, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_op_exit(&TR, 5, 8, 0, g.wait_for, AF_OPEXIT_RAISE, TE, "()", AF_DETAIL_BOOL, 1, 0,
                     NULL, 1);
    af_trace_task_done(&TR, 5, 8, 0, AF_OUT_EXCEPTION, TE, "()", 1);
    af_trace_end(&TR, 5, 8, AF_OUT_EXCEPTION, TE);
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_CONVERTED, 1);
    assert_string_equal(first_of(AF_ORACLE_CANCEL_CONVERTED)->signature_text,
                        "cancellation.converted|wait_for|external-timeout");

    /* 3: an expired timeout raises CancelledError with nothing else pending */
    fresh();
    to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_cancel(&TR, 3, 1, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_uncancel(&TR, 3, 2, 0, 0, -1, 1, 0);
    af_trace_op_exit(&TR, 3, 2, 0, to, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 0);
    af_trace_task_done(&TR, 3, 2, 0, AF_OUT_CANCELLED, CE, "()", 0);
    af_trace_end(&TR, 3, 2, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_ONLY(AF_ORACLE_CANCEL_CONVERTED, 1);
}

static void test_converted_quiet(void **state)
{
    (void)state;
    /* 1: expiry and an external cancel in one iteration: CancelledError is
     * right (another request is outstanding) */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int cancel = op_task(t1, AF_OP_CANCEL);
    S->ops[cancel].ref = 0;
    int to = op_root(AF_OP_TIMEOUT);
    op_in(to, AF_OP_SLEEP);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_cancel(&TR, 3, 1, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_cancel(&TR, 3, 1, 1, 0, cancel, NULL, 1, 1, 2);
    af_trace_task_done(&TR, 3, 1, 1, AF_OUT_RESULT, "", "", 0);
    af_trace_uncancel(&TR, 3, 2, 0, 0, -1, 2, 1);
    af_trace_op_exit(&TR, 3, 2, 0, to, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 1);
    af_trace_task_done(&TR, 3, 2, 0, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_end(&TR, 3, 2, AF_OUT_CANCELLED, CE);
    judge();
    EXPECT_NONE();

    /* 2: wait_for times out: TimeoutError, the inner task cancelled by
     * wait_for (asyncio's own task, no IR task) */
    fresh();
    int wf = op_root(AF_OP_WAIT_FOR);
    S->ops[wf].ticks = 2;
    op_in(wf, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, wf, 0);
    af_trace_task_new(&TR, 0, 0, 1, "Task-2", 0, wf, -1);
    af_trace_cancel(&TR, 2, 2, 0, 1, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 2, 3, 1, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_op_exit(&TR, 2, 4, 0, wf, AF_OPEXIT_RAISE, TE, "()", AF_DETAIL_BOOL, 1, 0, NULL, 0);
    af_trace_task_done(&TR, 2, 4, 0, AF_OUT_EXCEPTION, TE, "()", 0);
    af_trace_end(&TR, 2, 4, AF_OUT_EXCEPTION, TE);
    judge();
    EXPECT_NONE();

    /* 3: the body converts the timeout's CancelledError itself (on_cancel
     * raise): AppError out of the timeout is the scenario's doing; and the
     * scenario cancels (then uncancels) main inside a timeout that later
     * expires: TimeoutError is right */
    fresh();
    to = op_root(AF_OP_TIMEOUT);
    int tr_ = op_in(to, AF_OP_TRY);
    S->ops[tr_].on_cancel = AF_ON_CANCEL_RAISE;
    op_in(tr_, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_op_enter(&TR, 0, 0, 0, tr_, 0);
    af_trace_cancel(&TR, 3, 1, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_caught(&TR, 3, 2, 0, tr_, CE, NULL);
    af_trace_op_exit(&TR, 3, 2, 0, tr_, AF_OPEXIT_RAISE, "AppError", "(1,)", AF_DETAIL_NONE, 0, 0,
                     NULL, 1);
    af_trace_uncancel(&TR, 3, 2, 0, 0, -1, 1, 0);
    af_trace_op_exit(&TR, 3, 2, 0, to, AF_OPEXIT_RAISE, "AppError", "(1,)", AF_DETAIL_BOOL, 1, 0,
                     NULL, 0);
    af_trace_task_done(&TR, 3, 2, 0, AF_OUT_EXCEPTION, "AppError", "(1,)", 0);
    af_trace_end(&TR, 3, 2, AF_OUT_EXCEPTION, "AppError");
    judge();
    EXPECT_NONE();
}

/* ============================== leaked-task ============================== */

static void test_leaked(void **state)
{
    (void)state;
    /* fires: pending at the end; destroyed while pending; never awaited */
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    op_task(t1, AF_OP_SLEEP);
    int sp2 = op_root(AF_OP_SPAWN);
    S->ops[sp2].keep = false;
    int t2 = child(sp2, "t2");
    op_task(t2, AF_OP_SLEEP);
    int na = op_root(AF_OP_NEVER_AWAITED);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_task_new(&TR, 0, 0, 2, "t2", 0, sp2, 2);
    /* the never_awaited op's coroutine is probe.never_awaited_coro */
    af_trace_warning(&TR, 0, 0, "RuntimeWarning",
                     "coroutine 'never_awaited_coro' was never awaited");
    af_trace_loop_exc(&TR, 0, 1, "Task was destroyed but it is pending!", "", 2);
    af_trace_task_done(&TR, 0, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 1, AF_OUT_RESULT, "");
    af_trace_pending(&TR, 0, 1, 1);
    af_trace_pending(&TR, 0, 1, 2); /* the same task once more: one verdict */
    af_trace_cancel(&TR, 0, 1, -1, 1, -1, NULL, 1, 0, 1);
    af_trace_task_done(&TR, 0, 2, 1, AF_OUT_CANCELLED, CE, "()", 1);
    judge();
    EXPECT_ONLY(AF_ORACLE_LEAKED_TASK, 3);
    assert_string_equal(V.items[0].path, "main/2:never_awaited");
    assert_string_equal(V.items[1].path, "main/1:spawn");
    assert_int_equal(V.items[1].task, 2);
    assert_string_equal(V.items[2].path, "main/0:spawn");
    assert_string_equal(V.items[2].task_name, "t1");
    (void)na;

    /* quiet: a budget stopped the run (hang reports it) */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_budget(&TR, 100000, 5, AF_BUDGET_HANG);
    af_trace_pending(&TR, 100000, 5, 1);
    judge();
    EXPECT_ONLY(AF_ORACLE_HANG, 1);

    /* quiet: the shielded task goes on after its shield was cancelled, and
     * the nested_run coroutine belongs to nested-loop */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    op_task(t1, AF_OP_SLEEP);
    int sh = op_root(AF_OP_SHIELD);
    S->ops[sh].ref = (int16_t)t1;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 0, 0, sh, 0);
    af_trace_cancel(&TR, 1, 1, -1, 0, -1, NULL, 1, 0, 1);
    af_trace_op_exit(&TR, 1, 2, 0, sh, AF_OPEXIT_RAISE, CE, "()", AF_DETAIL_NONE, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 1, 2, 0, AF_OUT_CANCELLED, CE, "()", 1);
    af_trace_end(&TR, 1, 2, AF_OUT_CANCELLED, CE);
    af_trace_pending(&TR, 1, 2, 1);
    af_trace_warning(&TR, 1, 2, "RuntimeWarning", "coroutine 'nested_target' was never awaited");
    judge();
    /* the warning without a nested event is nested-loop's */
    EXPECT_ONLY(AF_ORACLE_NESTED_LOOP, 1);

    /* quiet: KeyboardInterrupt escaped: the loop was interrupted */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    int r = op_root(AF_OP_RAISE);
    S->ops[r].exc.kind = AF_EXC_KEYBOARD_INTERRUPT;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_task_done(&TR, 0, 0, 0, AF_OUT_EXCEPTION, "builtins.KeyboardInterrupt", "(0,)", 0);
    af_trace_end(&TR, 0, 0, AF_OUT_EXCEPTION, "builtins.KeyboardInterrupt");
    af_trace_pending(&TR, 0, 0, 1);
    judge();
    EXPECT_NONE();
}

/* ============================ lost-exception ============================ */

static void test_lost_exception(void **state)
{
    (void)state;
    fresh();
    int sp = op_root(AF_OP_SPAWN);
    S->ops[sp].keep = false;
    int t1 = child(sp, "t1");
    op_task(t1, AF_OP_RAISE);
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_EXCEPTION, "AppError", "(0,)", 0);
    af_trace_loop_exc(&TR, 0, 2, "Task exception was never retrieved", "AppError", 1);
    af_trace_loop_exc(&TR, 0, 2, "Exception in callback Foo()", "builtins.ValueError", -1);
    af_trace_unraisable(&TR, 0, 2, "builtins.RuntimeError",
                        "Exception ignored in: <coroutine object x>");
    af_trace_task_done(&TR, 0, 2, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 2, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_LOST_EXCEPTION, 3);
    assert_string_equal(V.items[0].path, "main/0:spawn");
    assert_int_equal(V.items[0].task, 1);
    assert_string_equal(V.items[0].signature_text, "lost-exception|spawn|never-retrieved|misuse");

    /* quiet: the exception was awaited; a pending task destroyed is a
     * leak, not a lost exception; a handler call without an exception */
    fresh();
    sp = op_root(AF_OP_SPAWN);
    t1 = child(sp, "t1");
    op_task(t1, AF_OP_RAISE);
    int aw = op_root(AF_OP_AWAIT);
    S->ops[aw].ref = (int16_t)t1;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 0, 0, aw, 0);
    af_trace_task_done(&TR, 0, 1, 1, AF_OUT_EXCEPTION, "AppError", "(0,)", 0);
    af_trace_op_exit(&TR, 0, 2, 0, aw, AF_OPEXIT_RAISE, "AppError", "(0,)", AF_DETAIL_NONE, 0, 0,
                     NULL, 0);
    af_trace_task_done(&TR, 0, 2, 0, AF_OUT_EXCEPTION, "AppError", "(0,)", 0);
    af_trace_end(&TR, 0, 2, AF_OUT_EXCEPTION, "AppError");
    af_trace_loop_exc(&TR, 0, 2, "Task was destroyed but it is pending!", "", 1);
    af_trace_loop_exc(&TR, 0, 2, "some message", "", -1);
    judge();
    EXPECT_ONLY(AF_ORACLE_LEAKED_TASK, 1);
}

/* ============================== nested-loop ============================== */

static void test_nested_loop(void **state)
{
    (void)state;
    /* fires: no RuntimeError; the loop stopped; the coroutine not closed */
    fresh();
    int n1 = op_root(AF_OP_NESTED_RUN);
    int n2 = op_root(AF_OP_NESTED_RUN);
    S->ops[n2].nested = AF_NESTED_RUN_FOREVER;
    int n3 = op_root(AF_OP_NESTED_RUN);
    S->ops[n3].nested = AF_NESTED_RUN_UNTIL_COMPLETE;
    simple_main();
    af_trace_nested(&TR, 0, 0, 0, n1, "asyncio_run", "", 1, 1);
    af_trace_nested(&TR, 0, 0, 0, n2, "run_forever", "builtins.RuntimeError", 0, 0);
    af_trace_nested(&TR, 0, 0, 0, n3, "run_until_complete", "builtins.RuntimeError", 1, 0);
    af_trace_warning(&TR, 0, 0, "RuntimeWarning", "coroutine 'nested_target' was never awaited");
    af_trace_task_done(&TR, 0, 0, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 0, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_NESTED_LOOP, 3);
    assert_string_equal(V.items[0].path, "main/0:nested_run");
    assert_string_equal(V.items[1].path, "main/1:nested_run");
    assert_string_equal(V.items[2].path, "main/2:nested_run");
    assert_string_equal(V.items[2].signature_text, "nested-loop|nested_run|coro-not-closed|misuse");

    /* quiet: each refused with RuntimeError, loop running, coroutine
     * closed; run_forever takes no coroutine; other coroutines' warnings
     * are leaked-task's */
    fresh();
    n1 = op_root(AF_OP_NESTED_RUN);
    n2 = op_root(AF_OP_NESTED_RUN);
    S->ops[n2].nested = AF_NESTED_RUN_FOREVER;
    n3 = op_root(AF_OP_NESTED_RUN);
    S->ops[n3].nested = AF_NESTED_RUN_UNTIL_COMPLETE;
    simple_main();
    af_trace_nested(&TR, 0, 0, 0, n1, "asyncio_run", "builtins.RuntimeError", 1, 1);
    af_trace_nested(&TR, 0, 0, 0, n2, "run_forever", "builtins.RuntimeError", 1, 0);
    af_trace_nested(&TR, 0, 0, 0, n3, "run_until_complete", "builtins.RuntimeError", 1, 1);
    af_trace_task_done(&TR, 0, 0, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 0, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();

    fresh();
    int na = op_root(AF_OP_NEVER_AWAITED);
    (void)na;
    simple_main();
    af_trace_warning(&TR, 0, 0, "RuntimeWarning",
                     "coroutine 'not_nested_target_x' was never awaited");
    af_trace_task_done(&TR, 0, 0, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 0, 0, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_LEAKED_TASK, 1);
}

/* ================================ cleanup ================================ */

static void test_cleanup(void **state)
{
    (void)state;
    /* fires: a resource never released; a finally skipped at op_exit; a
     * finally skipped when the task ended */
    fresh();
    int h = op_root(AF_OP_HOLD);
    snprintf(S->ops[h].name, sizeof S->ops[h].name, "db");
    op_in(h, AF_OP_SLEEP);
    int t = op_root(AF_OP_TRY);
    S->ops[t].has_finally = true;
    af_scenario_add_op(S, &S->ops[t].finally_body, AF_OP_SLEEP, 0, t);
    int t2 = op_root(AF_OP_TRY);
    S->ops[t2].has_finally = true;
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, h, 0);
    af_trace_acquire(&TR, 0, 0, 0, h, "db");
    af_trace_op_exit(&TR, 1, 1, 0, h, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_op_enter(&TR, 1, 1, 0, t, 0);
    af_trace_op_exit(&TR, 1, 1, 0, t, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_op_enter(&TR, 1, 1, 0, t2, 0);
    af_trace_task_done(&TR, 1, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 1, 1, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_CLEANUP, 3);
    assert_string_equal(V.items[0].path, "main/0:hold");
    assert_string_equal(V.items[1].path, "main/1:try");
    assert_string_equal(V.items[2].path, "main/2:try");

    /* quiet: released; the finally ran (and its op path) */
    fresh();
    h = op_root(AF_OP_HOLD);
    op_in(h, AF_OP_SLEEP);
    t = op_root(AF_OP_TRY);
    S->ops[t].has_finally = true;
    int fs = af_scenario_add_op(S, &S->ops[t].finally_body, AF_OP_SLEEP, 0, t);
    char path[128];
    af_op_path(S, fs, path, sizeof path);
    assert_string_equal(path, "main/1:try/finally/0:sleep");
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, h, 0);
    af_trace_acquire(&TR, 0, 0, 0, h, "db");
    af_trace_release(&TR, 1, 1, 0, h, "db");
    af_trace_op_exit(&TR, 1, 1, 0, h, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_op_enter(&TR, 1, 1, 0, t, 0);
    af_trace_finally(&TR, 1, 1, 0, t);
    af_trace_op_exit(&TR, 2, 2, 0, t, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_task_done(&TR, 2, 2, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 2, 2, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();

    /* quiet: the run was stopped by a budget; the holder never finished */
    fresh();
    h = op_root(AF_OP_HOLD);
    op_in(h, AF_OP_SLEEP);
    simple_main();
    af_trace_op_enter(&TR, 0, 0, 0, h, 0);
    af_trace_acquire(&TR, 0, 0, 0, h, "db");
    af_trace_budget(&TR, 0, 0, AF_BUDGET_DEADLOCK);
    judge();
    EXPECT_ONLY(AF_ORACLE_DEADLOCK, 1);
    assert_string_equal(V.items[0].path, "main/0:hold");
}

/* ============================ blocking, budget ============================ */

static void test_blocking_and_budget(void **state)
{
    (void)state;
    fresh();
    int b1 = op_root(AF_OP_BLOCK);
    S->ops[b1].ticks = 50;
    int tr_ = op_root(AF_OP_TRY);
    int b2 = op_in(tr_, AF_OP_BLOCK);
    S->ops[b2].ticks = 70;
    simple_main();
    /* a slow event names the task whose step blocked (probe.py), else
     * "callback" */
    af_trace_slow(&TR, 50, 1, 50, "main");
    af_trace_op_enter(&TR, 50, 1, 0, tr_, 0);
    af_trace_slow(&TR, 120, 2, 70, "main");
    af_trace_op_exit(&TR, 120, 2, 0, tr_, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_slow(&TR, 200, 3, 80, "callback");
    af_trace_task_done(&TR, 200, 3, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 200, 3, AF_OUT_RESULT, "");
    judge();
    EXPECT_ONLY(AF_ORACLE_BLOCKING, 3);
    assert_string_equal(V.items[0].path, "main/0:block");
    assert_string_equal(V.items[1].path, "main/1:try/0:block");
    assert_string_equal(V.items[1].signature_text, "blocking|block|slow|misuse");
    assert_string_equal(V.items[2].path, ""); /* no block op left: no location */

    /* quiet: nothing slow */
    fresh();
    op_root(AF_OP_SLEEP);
    simple_main();
    af_trace_task_done(&TR, 1, 1, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_end(&TR, 1, 1, AF_OUT_RESULT, "");
    judge();
    EXPECT_NONE();

    /* budget: hang, watchdog (a hang), deadlock */
    static const af_budget which[] = {AF_BUDGET_HANG, AF_BUDGET_WATCHDOG, AF_BUDGET_DEADLOCK};
    static const af_oracle want[] = {AF_ORACLE_HANG, AF_ORACLE_HANG, AF_ORACLE_DEADLOCK};
    for (int i = 0; i < 3; i++) {
        fresh();
        int ew = op_root(AF_OP_EVENT_WAIT);
        simple_main();
        af_trace_op_enter(&TR, 0, 0, 0, ew, 0);
        af_trace_budget(&TR, 0, 1, which[i]);
        judge();
        EXPECT_ONLY(want[i], 1);
        assert_string_equal(V.items[0].path, "main/0:event_wait");
    }
}

/* =============================== signatures =============================== */

static void test_signatures(void **state)
{
    (void)state;
    /* same shape, other names and durations: same signature */
    fresh();
    snprintf(S->tasks[0].name, sizeof S->tasks[0].name, "main");
    gh86296 g = build_gh86296("t1", 5);
    trace_gh86296(g, "t1", 5);
    judge();
    assert_int_equal(V.count, 2);
    af_verdict a = *first_of(AF_ORACLE_CANCEL_SWALLOWED);

    fresh();
    snprintf(S->tasks[0].name, sizeof S->tasks[0].name, "root_x");
    op_root(AF_OP_SLEEP); /* a different position in the body */
    g = build_gh86296("canceller", 77);
    trace_gh86296(g, "canceller", 77);
    judge();
    assert_int_equal(V.count, 2);
    af_verdict b = *first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(a.signature_text, b.signature_text);
    assert_true(a.signature == b.signature);
    assert_string_not_equal(a.path, b.path);
    assert_string_not_equal(a.evidence, b.evidence);
    /* stable across processes: a fixed value */
    assert_true(a.signature == af_hash64(a.signature_text, strlen(a.signature_text)));
    assert_true(af_hash64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(af_hash64("a", 1) == 0xaf63dc4c8601ec8cULL);

    /* a different shape: wait_for inside a timeout */
    fresh();
    int to = op_root(AF_OP_TIMEOUT);
    int sp = op_root(AF_OP_SPAWN);
    int t1 = child(sp, "t1");
    int wf = op_in(to, AF_OP_WAIT_FOR);
    op_in(wf, AF_OP_SLEEP);
    int cancel = op_task(t1, AF_OP_CANCEL);
    S->ops[cancel].ref = 0;
    simple_main();
    af_trace_task_new(&TR, 0, 0, 1, "t1", 0, sp, 1);
    af_trace_op_enter(&TR, 0, 0, 0, to, 0);
    af_trace_op_enter(&TR, 0, 0, 0, wf, 0);
    af_trace_cancel(&TR, 5, 5, 1, 0, cancel, NULL, 1, 0, 1);
    af_trace_op_exit(&TR, 5, 6, 0, wf, AF_OPEXIT_OK, "", "", AF_DETAIL_BOOL, 0, 0, NULL, 1);
    af_trace_op_exit(&TR, 5, 6, 0, to, AF_OPEXIT_OK, "", "", AF_DETAIL_BOOL, 0, 0, NULL, 1);
    af_trace_task_done(&TR, 5, 6, 0, AF_OUT_RESULT, "", "", 1);
    judge();
    EXPECT_TWO(AF_ORACLE_CANCEL_SWALLOWED, AF_ORACLE_CANCEL_COUNT);
    const af_verdict *c = first_of(AF_ORACLE_CANCEL_SWALLOWED);
    assert_string_equal(c->path, "main/0:timeout/0:wait_for");
    /* the same defect of wait_for in other surroundings: one finding */
    assert_string_equal(c->signature_text, "cancellation.swallowed|wait_for|block");
    assert_true(c->signature == a.signature);
    /* a different primitive or rule: another finding */
    const af_verdict *d = first_of(AF_ORACLE_CANCEL_COUNT);
    assert_true(d->signature != c->signature);
    assert_true(af_hash64("cancellation.swallowed|task_group|block", 39) != c->signature);

    /* the JSON form of a verdict */
    char buf[2048];
    size_t n = af_verdict_write_json(&a, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "\"oracle\":\"cancellation.swallowed\""));
    assert_non_null(strstr(buf, "\"task\":{\"id\":0,\"name\":\"main\"}"));
    assert_non_null(strstr(buf, "\"path\":\"main/1:wait_for\""));
    assert_non_null(strstr(buf, "\"signature\":{\"hash\":\""));
}

static void test_names_and_overflow(void **state)
{
    (void)state;
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        assert_int_equal(af_oracle_from_name(af_oracle_name((af_oracle)o)), o);
        assert_true(af_oracle_known(af_oracle_name((af_oracle)o)));
    }
    /* an overflowed trace: absence-based oracles stay quiet */
    af_trace small;
    assert_int_equal(af_trace_init(&small, 3, 1024), 0);
    fresh();
    int h = op_root(AF_OP_HOLD);
    op_in(h, AF_OP_SLEEP);
    af_trace_task_new(&small, 0, 0, 0, "main", -1, -1, 0);
    af_trace_acquire(&small, 0, 0, 0, h, "db");
    af_trace_task_done(&small, 0, 0, 0, AF_OUT_RESULT, "", "", 0);
    af_trace_release(&small, 0, 0, 0, h, "db"); /* dropped */
    assert_true(small.overflow);
    af_verdict_list_init(&V);
    af_judge(S, &small, &V);
    EXPECT_NONE();
    /* a bounded verdict list */
    af_trace_free(&small);
    assert_int_equal(af_trace_init(&small, 1024, 65536), 0);
    af_trace_task_new(&small, 0, 0, 0, "main", -1, -1, 0);
    for (int i = 0; i < AF_MAX_VERDICTS + 10; i++)
        af_trace_unraisable(&small, i, i, "builtins.ValueError", "x");
    af_verdict_list_init(&V);
    af_judge(S, &small, &V);
    /* same signature and task: one verdict */
    assert_int_equal(V.count, 1);
    af_trace_free(&small);
}

/* ---- causes ---------------------------------------------------------------- */

static const cause_case *cause_case_named(const char *name)
{
    for (size_t k = 0; k < sizeof CAUSE_CASES / sizeof CAUSE_CASES[0]; k++)
        if (strcmp(CAUSE_CASES[k].name, name) == 0)
            return &CAUSE_CASES[k];
    fail_msg("no cause case named %s", name);
    return NULL;
}

/* Judge the case's trace against its scenario ("@<case>": that case's)
 * into V. */
static void judge_case(const cause_case *cc)
{
    af_error err;
    memset(&err, 0, sizeof err);
    fresh();
    const char *scenario =
        cc->scenario[0] == '@' ? cause_case_named(cc->scenario + 1)->scenario : cc->scenario;
    if (af_json_read(scenario, strlen(scenario), S, &err) != 0)
        fail_msg("%s: scenario: %s", cc->name, err.message);
    if (af_trace_read_jsonl(cc->trace, strlen(cc->trace), &TR, &err) != 0)
        fail_msg("%s: trace: %s", cc->name, err.message);
    judge();
}

/* Every cause rule on a real (or, for *_target, hand-edited) trace: the
 * verdicts and their causes, exactly (cause_cases.h); each cause comes
 * from a cause rule of that cause. */
static void test_cause_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof CAUSE_CASES / sizeof CAUSE_CASES[0]; k++) {
        const cause_case *cc = &CAUSE_CASES[k];
        judge_case(cc);
        if (V.count != cc->n) {
            printf("  case %s\n", cc->name);
            dump();
        }
        assert_int_equal(V.count, cc->n);
        for (int i = 0; i < cc->n; i++) {
            int found = 0;
            for (int j = 0; j < V.count && !found; j++)
                found = strcmp(af_oracle_name(V.items[j].oracle), cc->v[i].oracle) == 0 &&
                        strcmp(af_cause_name(V.items[j].cause), cc->v[i].cause) == 0;
            if (!found) {
                printf("  case %s: no %s verdict caused by %s\n", cc->name, cc->v[i].oracle,
                       cc->v[i].cause);
                dump();
            }
            assert_true(found);
            assert_true(V.items[i].cause_why[0] != '\0');
            af_cause_rule r = V.items[i].cause_rule;
            assert_true(r < AF_CAUSE_RULE_COUNT);
            assert_int_equal(af_cause_rule_defs[r].cause, V.items[i].cause);
        }
        for (size_t g = 0; g < sizeof CAUSE_SIGS / sizeof CAUSE_SIGS[0]; g++) {
            if (strcmp(CAUSE_SIGS[g].name, cc->name) != 0)
                continue;
            int found = 0;
            for (int j = 0; j < V.count && !found; j++)
                found = strcmp(af_oracle_name(V.items[j].oracle), CAUSE_SIGS[g].oracle) == 0 &&
                        strcmp(V.items[j].signature_text, CAUSE_SIGS[g].sig) == 0;
            if (!found) {
                printf("  case %s: no verdict with signature %s\n", cc->name, CAUSE_SIGS[g].sig);
                dump();
            }
            assert_true(found);
        }
    }
}

/* The index in V of a verdict whose cause rule is `rule`, -1. */
static int verdict_by_cause_rule(af_cause_rule rule)
{
    for (int j = 0; j < V.count; j++)
        if (V.items[j].cause_rule == rule)
            return j;
    return -1;
}

/* One row of the audit: the scenario case has a verdict the rule decides;
 * the twin (its causes pinned in CAUSE_CASES) a verdict of the same oracle
 * blamed on the target. */
static void audit_pair(af_cause_rule rule, const cause_audit *a)
{
    const char *id = af_cause_rule_defs[rule].id;
    judge_case(cause_case_named(a->scenario));
    int j = verdict_by_cause_rule(rule);
    if (j < 0) {
        printf("  audit %s: case %s has no verdict decided by it\n", id, a->scenario);
        dump();
    }
    assert_true(j >= 0);
    if (!a->target) {
        assert_true(a->no_twin && strlen(a->no_twin) > 40);
        return;
    }
    af_oracle oracle = V.items[j].oracle;
    judge_case(cause_case_named(a->target));
    int twin = -1;
    for (int i = 0; i < V.count && twin < 0; i++)
        if (V.items[i].oracle == oracle && V.items[i].cause == AF_CAUSE_TARGET)
            twin = i;
    if (twin < 0) {
        printf("  audit %s: twin %s has no %s verdict blamed on the target\n", id, a->target,
               af_oracle_name(oracle));
        dump();
    }
    assert_true(twin >= 0);
}

/* The audit of the cause rules that blame the scenario or misuse (issue
 * 18): every such rule of base/oracles.def has a row in CAUSE_AUDIT, a
 * case it decides and a twin where the same shape with the implementation
 * at fault is blamed on the implementation, or the argued reason no such
 * twin can exist. A new rule without a row fails here. */
static void test_cause_audit(void **state)
{
    (void)state;
    size_t nrows = sizeof CAUSE_AUDIT / sizeof CAUSE_AUDIT[0];
    int audited = 0;
    for (int r = 0; r < AF_CAUSE_RULE_COUNT; r++) {
        int cause = af_cause_rule_defs[r].cause;
        if (cause != AF_CAUSE_SCENARIO && cause != AF_CAUSE_MISUSE)
            continue;
        const cause_audit *a = NULL;
        for (size_t k = 0; k < nrows && !a; k++)
            if (strcmp(CAUSE_AUDIT[k].rule, af_cause_rule_defs[r].id) == 0)
                a = &CAUSE_AUDIT[k];
        if (!a)
            fail_msg("cause rule %s (%s) has no row in CAUSE_AUDIT (cause_cases.h)",
                     af_cause_rule_defs[r].id, af_cause_name((af_cause)cause));
        audit_pair((af_cause_rule)r, a);
        audited++;
    }
    /* no row for a rule that is gone or no longer blames the scenario */
    assert_int_equal(audited, (int)nrows);
}

static void test_cause_api(void **state)
{
    (void)state;
    assert_string_equal(af_cause_name(AF_CAUSE_TARGET), "target");
    assert_string_equal(af_cause_name(AF_CAUSE_MISUSE), "misuse");
    assert_string_equal(af_cause_name(AF_CAUSE_SCENARIO), "scenario");
    assert_null(af_cause_name(AF_CAUSE_COUNT));
    assert_int_equal(af_cause_from_name("misuse"), AF_CAUSE_MISUSE);
    assert_int_equal(af_cause_from_name("nope"), -1);
    af_verdict v;
    memset(&v, 0, sizeof v);
    v.cause = AF_CAUSE_TARGET;
    assert_true(af_verdict_is_finding(&v, 0));
    assert_true(af_verdict_is_finding(&v, 1));
    v.cause = AF_CAUSE_MISUSE;
    assert_false(af_verdict_is_finding(&v, 0));
    assert_true(af_verdict_is_finding(&v, 1));
    v.cause = AF_CAUSE_SCENARIO;
    assert_false(af_verdict_is_finding(&v, 0));
    assert_false(af_verdict_is_finding(&v, 1));
    assert_false(af_verdict_is_finding(NULL, 1));
    snprintf(v.cause_why, sizeof v.cause_why, "why \"quoted\"");
    char buf[1024];
    af_verdict_write_json(&v, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"cause\":\"scenario\",\"cause_why\":\"why \\\"quoted\\\"\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swallowed_gh86296),
        cmocka_unit_test(test_swallowed_handler),
        cmocka_unit_test(test_swallowed_task_end),
        cmocka_unit_test(test_swallowed_quiet_delivered),
        cmocka_unit_test(test_swallowed_quiet_uncancel),
        cmocka_unit_test(test_swallowed_quiet_forwarded),
        cmocka_unit_test(test_swallowed_quiet_timeout_and_taskgroup),
        cmocka_unit_test(test_spurious_fires),
        cmocka_unit_test(test_spurious_quiet),
        cmocka_unit_test(test_count_fires),
        cmocka_unit_test(test_count_quiet),
        cmocka_unit_test(test_message_fires),
        cmocka_unit_test(test_message_quiet),
        cmocka_unit_test(test_converted_fires),
        cmocka_unit_test(test_converted_quiet),
        cmocka_unit_test(test_leaked),
        cmocka_unit_test(test_lost_exception),
        cmocka_unit_test(test_nested_loop),
        cmocka_unit_test(test_cleanup),
        cmocka_unit_test(test_blocking_and_budget),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_names_and_overflow),
        cmocka_unit_test(test_cause_cases),
        cmocka_unit_test(test_cause_audit),
        cmocka_unit_test(test_cause_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
