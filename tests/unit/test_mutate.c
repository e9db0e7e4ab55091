/* test_mutate.c - structure-aware mutation and the IR editing layer
 * (scenarios/mutate.c).
 *
 * Properties: 100,000 mutants (random walks from the empty scenario and
 * from every catalog scenario, with catalog donors for splicing) all
 * validate, stay within the limits, carry no misuse (nor loop-level op)
 * when it is off (the 20,000 with misuse on have both) and
 * round-trip through the byte encoding; every operator gets exercised;
 * mutation is deterministic for a seed; compaction drops ops whose
 * references dangle; hoisting replaces an op by its body. */
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
#include "scenarios/mutate.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

#define MAX_SEEDS 128
static af_scenario seeds[MAX_SEEDS];
static int nseeds;
static af_scenario S, T, U;
static uint8_t buf[AF_ENCODE_MAX_BYTES];

static void load_catalog(void)
{
    if (nseeds)
        return;
    af_scenario_init(&seeds[nseeds++]); /* the empty scenario */
    DIR *d = opendir(AF_SOURCE_DIR "/scenarios/catalog");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && nseeds < MAX_SEEDS) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/scenarios/catalog/%s", AF_SOURCE_DIR, e->d_name);
        af_error err;
        if (af_json_read_file(path, &seeds[nseeds], &err) == 0)
            nseeds++;
    }
    closedir(d);
}

static void assert_valid(const af_scenario *s, unsigned draw)
{
    af_error err = {0};
    if (af_scenario_validate(s, &err) != 0)
        fail_msg("mutant does not validate: %s: %s", err.path, err.message);
    assert_true(s->nops <= AF_MAX_OPS && s->ntasks <= AF_MAX_TASKS &&
                s->nprims <= AF_MAX_PRIMITIVES);
    assert_true(af_scenario_depth(s) <= AF_MAX_DEPTH);
    assert_true(af_scenario_total_ticks(s) <= AF_MAX_TOTAL_TICKS);
    assert_int_equal(af_draw_needed(s) & ~draw, 0); /* no misuse / loop op unless allowed */
}

static void assert_round_trip(const af_scenario *s, unsigned draw)
{
    size_t len = 0;
    af_error err = {0};
    if (af_encode(s, draw, buf, sizeof buf, &len, &err) != 0)
        fail_msg("encode failed on a mutant: %s: %s", err.path, err.message);
    af_decode(buf, len, draw, &U);
    /* the byte format carries the program only */
    T = *s;
    T.description[0] = '\0';
    T.nexpect = 0;
    assert_true(af_scenario_equal(&T, &U));
}

/* draw: AF_DRAW_* flags, what the mutants may hold (misuse, loop ops). */
static void walk(int total, unsigned draw, uint64_t seed, int *op_counts)
{
    load_catalog();
    af_rng rng;
    af_rng_seed(&rng, seed);
    for (int i = 0; i < total; i++) {
        if (i % 40 == 0) {
            S = seeds[af_rng_below(&rng, (uint32_t)nseeds)];
            if (af_draw_needed(&S) & ~draw)
                af_scenario_init(&S);
        }
        af_mutate_options o = {.allow_misuse = (draw & AF_DRAW_MISUSE) != 0,
                               .allow_loop_ops = (draw & AF_DRAW_LOOP) != 0,
                               .donor = &seeds[af_rng_below(&rng, (uint32_t)nseeds)]};
        if (af_draw_needed(o.donor) & ~draw)
            o.donor = NULL;
        const char *what = NULL;
        int n = af_mutate(&S, &o, &rng, &what);
        if (n > 0 && op_counts) {
            for (int k = 0; af_mutation_names[k]; k++)
                if (what && strcmp(what, af_mutation_names[k]) == 0)
                    op_counts[k]++;
        }
        assert_valid(&S, draw);
        if (i % 10 == 0)
            assert_round_trip(&S, draw);
    }
}

static void test_100k_mutants_validate(void **state)
{
    (void)state;
    int counts[32] = {0};
    walk(100000, 0, 1, counts);
    for (int k = 0; af_mutation_names[k]; k++) {
        if (counts[k] == 0)
            fail_msg("operator %s never applied", af_mutation_names[k]);
    }
}

static void test_mutants_with_misuse_validate(void **state)
{
    (void)state;
    walk(20000, AF_DRAW_ALL, 2, NULL);
}

static void test_deterministic(void **state)
{
    (void)state;
    load_catalog();
    af_rng a, b;
    af_rng_seed(&a, 42);
    af_rng_seed(&b, 42);
    S = seeds[nseeds > 1 ? 1 : 0];
    T = S;
    for (int i = 0; i < 500; i++) {
        af_mutate_options o = {0};
        af_mutate(&S, &o, &a, NULL);
        af_mutate(&T, &o, &b, NULL);
        assert_true(af_scenario_equal(&S, &T));
    }
}

static void test_mutants_grow_from_empty(void **state)
{
    (void)state;
    af_rng rng;
    af_rng_seed(&rng, 7);
    int max_ops = 0, max_tasks = 0;
    for (int run = 0; run < 50; run++) {
        af_scenario_init(&S);
        for (int i = 0; i < 60; i++) {
            af_mutate(&S, NULL, &rng, NULL);
            if (S.nops > max_ops)
                max_ops = S.nops;
            if (S.ntasks > max_tasks)
                max_tasks = S.ntasks;
        }
    }
    assert_true(max_ops >= 10);
    assert_true(max_tasks >= 3);
}

/* main: spawn t1 (sleep 5); await t1. Deleting the spawn drops the await. */
static void test_compact_drops_dangling(void **state)
{
    (void)state;
    af_scenario_init(&S);
    af_body *root = &S.tasks[0].body;
    int sp = af_scenario_add_op(&S, root, AF_OP_SPAWN, 0, AF_NIL);
    int t1 = af_scenario_add_task(&S, &S.ops[sp].children, "t1", sp);
    int sl = af_scenario_add_op(&S, &S.tasks[t1].body, AF_OP_SLEEP, t1, AF_NIL);
    S.ops[sl].ticks = 5;
    int aw = af_scenario_add_op(&S, root, AF_OP_AWAIT, 0, AF_NIL);
    S.ops[aw].ref = (int16_t)t1;
    int sl2 = af_scenario_add_op(&S, root, AF_OP_SLEEP, 0, AF_NIL);
    S.ops[sl2].ticks = 1;
    af_error err;
    assert_int_equal(af_scenario_validate(&S, &err), 0);
    af_ir_unlink(&S, sp);
    assert_int_equal(af_ir_compact(&S, NULL), 0);
    assert_int_equal(S.nops, 1);
    assert_int_equal(S.ntasks, 1);
    assert_int_equal(S.ops[0].kind, AF_OP_SLEEP);
    assert_int_equal(S.ops[0].ticks, 1);
}

/* main: wait_for(10): [sleep 2, return 1] -> hoisted: sleep 2, return 1 */
static void test_hoist(void **state)
{
    (void)state;
    af_scenario_init(&S);
    af_body *root = &S.tasks[0].body;
    int wf = af_scenario_add_op(&S, root, AF_OP_WAIT_FOR, 0, AF_NIL);
    S.ops[wf].ticks = 10;
    int a = af_scenario_add_op(&S, &S.ops[wf].body, AF_OP_SLEEP, 0, wf);
    S.ops[a].ticks = 2;
    int b = af_scenario_add_op(&S, &S.ops[wf].body, AF_OP_RETURN, 0, wf);
    S.ops[b].value = 1;
    assert_int_equal(af_ir_hoist(&S, wf, 0), 0);
    assert_int_equal(af_ir_compact(&S, NULL), 0);
    assert_int_equal(S.nops, 2);
    assert_int_equal(S.tasks[0].body.count, 2);
    assert_int_equal(S.ops[0].kind, AF_OP_SLEEP);
    assert_int_equal(S.ops[1].kind, AF_OP_RETURN);
    assert_int_equal(S.ops[0].parent, AF_NIL);
}

/* Dropping a primitive drops the ops that use it. */
static void test_compact_drops_primitive_users(void **state)
{
    (void)state;
    af_scenario_init(&S);
    int ev = af_scenario_add_primitive(&S, AF_PRIM_EVENT, "ev", 0);
    int lk = af_scenario_add_primitive(&S, AF_PRIM_LOCK, "lk", 0);
    af_body *root = &S.tasks[0].body;
    int set = af_scenario_add_op(&S, root, AF_OP_EVENT_SET, 0, AF_NIL);
    S.ops[set].ref = (int16_t)ev;
    int lock = af_scenario_add_op(&S, root, AF_OP_LOCK, 0, AF_NIL);
    S.ops[lock].ref = (int16_t)lk;
    af_scenario_add_op(&S, &S.ops[lock].body, AF_OP_SLEEP, 0, lock);
    bool keep[AF_MAX_PRIMITIVES] = {false, true};
    assert_int_equal(af_ir_compact(&S, keep), 0);
    assert_int_equal(S.nprims, 1);
    assert_int_equal(S.nops, 2);
    assert_int_equal(S.ops[0].kind, AF_OP_LOCK);
    assert_int_equal(S.ops[0].ref, 0);
}

/* Splicing from a donor renames copied tasks and keeps references inside
 * the subtree pointing at the copies. */
static void test_copy_subtree_renames(void **state)
{
    (void)state;
    af_scenario_init(&T);
    af_body *root = &T.tasks[0].body;
    int g = af_scenario_add_op(&T, root, AF_OP_TASKGROUP, 0, AF_NIL);
    snprintf(T.ops[g].name, sizeof T.ops[g].name, "tg");
    int t1 = af_scenario_add_task(&T, &T.ops[g].children, "t1", g);
    af_scenario_add_op(&T, &T.tasks[t1].body, AF_OP_SLEEP, t1, AF_NIL);
    int c = af_scenario_add_op(&T, &T.ops[g].body, AF_OP_CANCEL, 0, g);
    T.ops[c].ref = (int16_t)t1;
    af_error err;
    assert_int_equal(af_scenario_validate(&T, &err), 0);
    S = T;
    int top = af_ir_copy_subtree(&S, &T, 0, NULL);
    assert_true(top != AF_NIL);
    af_ir_insert(&S, &S.tasks[0].body, 1, top);
    assert_int_equal(af_ir_compact(&S, NULL), 0);
    assert_int_equal(S.ntasks, 3);
    assert_int_equal(S.nops, 6);
    /* the copied cancel names the copied task */
    int cancels = 0;
    for (int i = 0; i < S.nops; i++)
        if (S.ops[i].kind == AF_OP_CANCEL) {
            cancels++;
            assert_int_equal(S.tasks[S.ops[i].ref].parent, S.ops[i].parent);
        }
    assert_int_equal(cancels, 2);
}

static void test_bytes_mutation_bounded(void **state)
{
    (void)state;
    af_rng rng;
    af_rng_seed(&rng, 3);
    uint8_t data[256];
    size_t len = 0;
    for (int i = 0; i < 100000; i++) {
        len = af_mutate_bytes(data, len, sizeof data, &rng);
        assert_true(len <= sizeof data);
        if (i % 50 == 0) {
            af_decode(data, len, false, &S);
            assert_valid(&S, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_drops_dangling),
        cmocka_unit_test(test_hoist),
        cmocka_unit_test(test_compact_drops_primitive_users),
        cmocka_unit_test(test_copy_subtree_renames),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_mutants_grow_from_empty),
        cmocka_unit_test(test_bytes_mutation_bounded),
        cmocka_unit_test(test_mutants_with_misuse_validate),
        cmocka_unit_test(test_100k_mutants_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
