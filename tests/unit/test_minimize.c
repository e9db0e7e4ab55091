/* test_minimize.c - the IR-level shrinker (scenarios/minimize.c) on
 * synthetic predicates (no interpreter needed).
 *
 * Properties: a scenario grown at random around a core ("a task whose
 * wait_for holds a sleep 5, and a cancel of that task") shrinks to exactly
 * that core; equal durations are lowered together; the budget of predicate
 * calls is honoured; the result validates, keeps the property, is a
 * fixpoint (minimising it again changes nothing) and is deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/json.h"
#include "scenarios/minimize.h"
#include "scenarios/mutate.h"

static af_scenario IN, OUT, OUT2, TMP;

/* Whether op `op` lies (at any depth) inside the code of task t. */
static bool op_in_task(const af_scenario *s, int op, int t)
{
    return op >= 0 && s->ops[op].task == t;
}

/* The core: some task T != root runs a wait_for (timeout not None) whose
 * body holds a sleep of exactly 5 ticks, and another task cancels T. */
static bool core_pred(const af_scenario *s, void *ctx)
{
    int *calls = ctx;
    if (calls)
        (*calls)++;
    for (int t = 1; t < s->ntasks; t++) {
        bool has = false;
        for (int i = 0; i < s->nops && !has; i++) {
            const af_op *w = &s->ops[i];
            if (w->kind != AF_OP_WAIT_FOR || w->ticks == AF_NONE || !op_in_task(s, i, t))
                continue;
            for (int j = w->body.head; j != AF_NIL; j = s->ops[j].next)
                if (s->ops[j].kind == AF_OP_SLEEP && s->ops[j].ticks == 5)
                    has = true;
        }
        if (!has)
            continue;
        for (int i = 0; i < s->nops; i++)
            if (s->ops[i].kind == AF_OP_CANCEL && s->ops[i].ref == t && s->ops[i].task != t)
                return true;
    }
    return false;
}

static void build_core(af_scenario *s)
{
    af_scenario_init(s);
    af_body *root = &s->tasks[0].body;
    int sp = af_scenario_add_op(s, root, AF_OP_SPAWN, 0, AF_NIL);
    int t1 = af_scenario_add_task(s, &s->ops[sp].children, "t1", sp);
    int wf = af_scenario_add_op(s, &s->tasks[t1].body, AF_OP_WAIT_FOR, t1, AF_NIL);
    s->ops[wf].ticks = 10;
    int sl = af_scenario_add_op(s, &s->ops[wf].body, AF_OP_SLEEP, t1, wf);
    s->ops[sl].ticks = 5;
    int sl2 = af_scenario_add_op(s, root, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[sl2].ticks = 5;
    int c = af_scenario_add_op(s, root, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[c].ref = (int16_t)t1;
    int aw = af_scenario_add_op(s, root, AF_OP_AWAIT, 0, AF_NIL);
    s->ops[aw].ref = (int16_t)t1;
}

/* Grow s with random mutations that keep pred. */
static void grow(af_scenario *s, bool (*pred)(const af_scenario *, void *), uint64_t seed,
                 int steps)
{
    af_rng rng;
    af_rng_seed(&rng, seed);
    for (int i = 0; i < steps; i++) {
        TMP = *s;
        af_mutate_options o = {.max_stack = 1};
        af_mutate(&TMP, &o, &rng, NULL);
        if (TMP.nops >= s->nops && pred(&TMP, NULL))
            *s = TMP;
    }
}

static void assert_valid(const af_scenario *s)
{
    af_error err;
    if (af_scenario_validate(s, &err) != 0)
        fail_msg("invalid: %s: %s", err.path, err.message);
}

static void test_shrinks_to_core(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        build_core(&IN);
        grow(&IN, core_pred, seed, 400);
        assert_true(IN.nops >= 12);
        int calls = 0;
        af_minimize_stats st = {0};
        assert_int_equal(af_minimize(&IN, core_pred, &calls, &OUT, &st), 0);
        assert_valid(&OUT);
        assert_true(core_pred(&OUT, NULL));
        assert_int_equal(st.calls, calls);
        if (OUT.nops != 4 || OUT.ntasks != 2) {
            char *j = af_json_write(&OUT);
            fail_msg("seed %d: %d ops / %d tasks -> %d ops / %d tasks, not the core:\n%s",
                     (int)seed, IN.nops, IN.ntasks, OUT.nops, OUT.ntasks, j);
        }
        /* spawn(t1: wait_for(0): sleep 5); cancel t1 */
        if (OUT.ops[3].kind != AF_OP_CANCEL)
            fail_msg("%s", af_json_write(&OUT));
        assert_int_equal(OUT.ops[0].kind, AF_OP_SPAWN);
        assert_int_equal(OUT.ops[1].kind, AF_OP_WAIT_FOR);
        assert_int_equal(OUT.ops[1].ticks, 0);
        assert_int_equal(OUT.ops[2].kind, AF_OP_SLEEP);
        assert_int_equal(OUT.ops[2].ticks, 5);
        assert_int_equal(OUT.ops[3].kind, AF_OP_CANCEL);
        assert_string_equal(OUT.tasks[1].name, "t1");
        assert_true(st.ops_before == IN.nops && st.ops_after == 4);
        assert_true(st.bytes_after < st.bytes_before);
        assert_false(st.budget_exhausted);
        /* a fixpoint */
        af_minimize_stats st2 = {0};
        assert_int_equal(af_minimize(&OUT, core_pred, NULL, &OUT2, &st2), 0);
        assert_true(af_scenario_equal(&OUT, &OUT2));
        assert_int_equal(st2.accepted, 0);
    }
}

/* Two sleeps in different tasks with the same duration >= 1. */
static bool coincide_pred(const af_scenario *s, void *ctx)
{
    (void)ctx;
    for (int i = 0; i < s->nops; i++)
        for (int j = 0; j < s->nops; j++)
            if (s->ops[i].kind == AF_OP_SLEEP && s->ops[j].kind == AF_OP_SLEEP &&
                s->ops[i].task != s->ops[j].task && s->ops[i].ticks == s->ops[j].ticks &&
                s->ops[i].ticks >= 1)
                return true;
    return false;
}

static void test_equal_durations_lowered_together(void **state)
{
    (void)state;
    af_scenario_init(&IN);
    af_body *root = &IN.tasks[0].body;
    int sp = af_scenario_add_op(&IN, root, AF_OP_SPAWN, 0, AF_NIL);
    int t1 = af_scenario_add_task(&IN, &IN.ops[sp].children, "worker", sp);
    int a = af_scenario_add_op(&IN, &IN.tasks[t1].body, AF_OP_SLEEP, t1, AF_NIL);
    IN.ops[a].ticks = 977;
    int b = af_scenario_add_op(&IN, root, AF_OP_SLEEP, 0, AF_NIL);
    IN.ops[b].ticks = 977;
    assert_valid(&IN);
    assert_int_equal(af_minimize(&IN, coincide_pred, NULL, &OUT, NULL), 0);
    assert_int_equal(OUT.nops, 3);
    for (int i = 0; i < OUT.nops; i++)
        if (OUT.ops[i].kind == AF_OP_SLEEP)
            assert_int_equal(OUT.ops[i].ticks, 1);
    assert_string_equal(OUT.tasks[1].name, "t1"); /* default names */
}

static void test_budget_honoured(void **state)
{
    (void)state;
    build_core(&IN);
    grow(&IN, core_pred, 99, 400);
    int calls = 0;
    af_minimize_stats st = {.max_calls = 25};
    assert_int_equal(af_minimize(&IN, core_pred, &calls, &OUT, &st), 0);
    assert_true(calls <= 25);
    assert_true(st.budget_exhausted);
    assert_valid(&OUT);
    assert_true(core_pred(&OUT, NULL));
    assert_true(OUT.nops <= IN.nops);
}

static void test_false_on_input(void **state)
{
    (void)state;
    af_scenario_init(&IN);
    assert_int_equal(af_minimize(&IN, core_pred, NULL, &OUT, NULL), -1);
    assert_true(af_scenario_equal(&IN, &OUT));
}

static void test_deterministic(void **state)
{
    (void)state;
    build_core(&IN);
    grow(&IN, core_pred, 5, 300);
    assert_int_equal(af_minimize(&IN, core_pred, NULL, &OUT, NULL), 0);
    assert_int_equal(af_minimize(&IN, core_pred, NULL, &OUT2, NULL), 0);
    assert_true(af_scenario_equal(&OUT, &OUT2));
}

/* Handlers and exceptions simplify: "some task raises" keeps one raise of
 * AppError(0) and nothing else. */
static bool raises_pred(const af_scenario *s, void *ctx)
{
    (void)ctx;
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == AF_OP_RAISE)
            return true;
    return false;
}

static void test_simplifies_fields(void **state)
{
    (void)state;
    af_scenario_init(&IN);
    af_body *root = &IN.tasks[0].body;
    int tr = af_scenario_add_op(&IN, root, AF_OP_TRY, 0, AF_NIL);
    IN.ops[tr].on_cancel = AF_ON_CANCEL_RAISE;
    IN.ops[tr].exc.kind = AF_EXC_VALUE;
    IN.ops[tr].exc.id = 7;
    IN.ops[tr].on_error = AF_ON_ERROR_SWALLOW;
    IN.ops[tr].has_finally = true;
    int r = af_scenario_add_op(&IN, &IN.ops[tr].body, AF_OP_RAISE, 0, tr);
    IN.ops[r].exc.kind = AF_EXC_CANCELLED_SUBCLASS;
    IN.ops[r].exc.id = 200;
    int f = af_scenario_add_op(&IN, &IN.ops[tr].finally_body, AF_OP_SLEEP, 0, tr);
    IN.ops[f].ticks = 3;
    assert_valid(&IN);
    assert_int_equal(af_minimize(&IN, raises_pred, NULL, &OUT, NULL), 0);
    assert_int_equal(OUT.nops, 1);
    assert_int_equal(OUT.ops[0].kind, AF_OP_RAISE);
    assert_int_equal(OUT.ops[0].exc.kind, AF_EXC_APP);
    assert_int_equal(OUT.ops[0].exc.id, 0);
}

/* Catalog-like inputs from random bytes: the output always validates and
 * keeps the property (here: at least two tasks and a cancel). */
static bool two_tasks_cancel(const af_scenario *s, void *ctx)
{
    (void)ctx;
    if (s->ntasks < 2)
        return false;
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == AF_OP_CANCEL)
            return true;
    return false;
}

/* No single op can be deleted (with what refers to it) keeping pred. */
static void assert_one_minimal(const af_scenario *s, bool (*pred)(const af_scenario *, void *))
{
    for (int i = 0; i < s->nops; i++) {
        TMP = *s;
        af_ir_unlink(&TMP, i);
        if (af_ir_compact(&TMP, NULL) == 0 && pred(&TMP, NULL))
            fail_msg("op %d can still be deleted:\n%s", i, af_json_write(s));
    }
}

static void test_random_inputs(void **state)
{
    (void)state;
    af_rng rng;
    af_rng_seed(&rng, 11);
    int done = 0;
    for (int n = 0; n < 3000 && done < 200; n++) {
        uint8_t data[200];
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)af_rng_next(&rng);
        af_decode(data, sizeof data, n % 2 == 0, &IN);
        if (!two_tasks_cancel(&IN, NULL))
            continue;
        done++;
        af_minimize_stats st = {.max_calls = 400};
        assert_int_equal(af_minimize(&IN, two_tasks_cancel, NULL, &OUT, &st), 0);
        assert_valid(&OUT);
        assert_true(two_tasks_cancel(&OUT, NULL));
        assert_true(st.bytes_after <= st.bytes_before);
        if (!af_scenario_has_misuse(&IN))
            assert_false(af_scenario_has_misuse(&OUT));
        if (!st.budget_exhausted)
            assert_one_minimal(&OUT, two_tasks_cancel);
    }
    assert_true(done >= 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_false_on_input),
        cmocka_unit_test(test_simplifies_fields),
        cmocka_unit_test(test_equal_durations_lowered_together),
        cmocka_unit_test(test_shrinks_to_core),
        cmocka_unit_test(test_budget_honoured),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
