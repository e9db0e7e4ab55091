/* test_json.c - scenario JSON reading and canonical writing
 * (scenarios/json_read.c, json_write.c, json_locate.c).
 *
 * - every scenarios/malformed/NAME.json is rejected with the message whose
 *   substring is the first line of NAME.expect ("LINE:COL: PATH: MESSAGE");
 * - every scenarios/catalog/NAME.json parses, is canonical (write(read(f)) is
 *   byte-identical to f) and read(write(read(f))) equals read(f);
 * - a hand-built scenario with every operation kind and every field (at
 *   default and non-default values) round-trips, as do scenarios decoded
 *   from random bytes;
 * - syntax errors carry exact positions; keys in any order read the same;
 *   strings are escaped; limits on input size hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/json.h"

/* Scenarios are large: keep them off the stack. */
static af_scenario A, B, C;

/* ---- helpers ---------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the files in dir ending in suffix; returns the count. */
static int list_dir(const char *dir, const char *suffix, char ***out)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    char **names = NULL;
    if (d) {
        struct dirent *e;
        size_t sl = strlen(suffix);
        while ((e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                names = realloc(names, (size_t)cap * sizeof *names);
                assert_non_null(names);
            }
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static void free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void assert_valid(const af_scenario *s)
{
    af_error err = {0};
    if (af_scenario_validate(s, &err) != 0)
        fail_msg("invalid scenario: %s: %s", err.path, err.message);
}

/* write s; read it back into B (must succeed and equal s); write B again
 * (must be byte-identical). Returns the text (caller frees). */
static char *round_trip(const af_scenario *s)
{
    char *t1 = af_json_write(s);
    assert_non_null(t1);
    size_t n = strlen(t1);
    assert_true(n > 0 && t1[n - 1] == '\n');
    af_error err = {0};
    if (af_json_read(t1, n, &B, &err) != 0) {
        char msg[512];
        af_error_format(&err, "<written>", msg, sizeof msg);
        fail_msg("cannot read what was written: %s\n%s", msg, t1);
    }
    if (!af_scenario_equal(s, &B))
        fail_msg("read(write(s)) != s:\n%s", t1);
    char *t2 = af_json_write(&B);
    assert_non_null(t2);
    if (strcmp(t1, t2) != 0)
        fail_msg("write is not stable:\n%s\n---\n%s", t1, t2);
    free(t2);
    return t1;
}

/* read text that must fail; returns the formatted error. */
static const char *read_error(const char *text)
{
    static char msg[600];
    af_error err = {0};
    if (af_json_read(text, strlen(text), &C, &err) == 0)
        fail_msg("accepted: %s", text);
    af_error_format(&err, "f", msg, sizeof msg);
    return msg;
}

#define assert_error_contains(text, want)                                                          \
    do {                                                                                           \
        const char *got_ = read_error(text);                                                       \
        if (!strstr(got_, want))                                                                   \
            fail_msg("error \"%s\" does not contain \"%s\"", got_, want);                          \
    } while (0)

/* ---- malformed files --------------------------------------------------- */

static void test_malformed_files(void **state)
{
    (void)state;
    const char *dir = AF_SOURCE_DIR "/scenarios/malformed";
    char **names;
    int n = list_dir(dir, ".json", &names);
    assert_true(n >= 24);
    for (int i = 0; i < n; i++) {
        char path[1024], expect_path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(expect_path, sizeof expect_path, "%.*s.expect", (int)(strlen(path) - 5), path);
        char *want = slurp(expect_path, NULL);
        if (!want)
            fail_msg("%s has no .expect file", names[i]);
        want[strcspn(want, "\n")] = '\0';
        assert_true(strlen(want) > 0);
        af_error err = {0};
        if (af_json_read_file(path, &A, &err) == 0)
            fail_msg("%s was accepted", names[i]);
        char msg[600];
        af_error_format(&err, path, msg, sizeof msg);
        if (!strstr(msg, want))
            fail_msg("%s:\n  got:      %s\n  expected: %s", names[i], msg, want);
        /* the position is known for everything but I/O and size errors */
        assert_true(err.line > 0 && err.column > 0);
        free(want);
    }
    free_list(names, n);
}

/* ---- catalog ------------------------------------------------------------ */

static void test_catalog_canonical(void **state)
{
    (void)state;
    const char *dir = AF_SOURCE_DIR "/scenarios/catalog";
    char **names;
    int n = list_dir(dir, ".json", &names);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *text = slurp(path, &len);
        assert_non_null(text);
        af_error err = {0};
        if (af_json_read(text, len, &A, &err) != 0) {
            char msg[600];
            af_error_format(&err, path, msg, sizeof msg);
            fail_msg("%s", msg);
        }
        char *w = round_trip(&A);
        if (strcmp(w, text) != 0)
            fail_msg("%s is not in canonical form; canonical text:\n%s", names[i], w);
        free(w);
        free(text);
    }
    print_message("%d catalog files\n", n);
    free_list(names, n);
}

/* ---- hand-built: every op kind, every field ----------------------------- */

static int add(af_scenario *s, af_body *b, af_op_kind k, int task, int parent)
{
    int i = af_scenario_add_op(s, b, k, task, parent);
    assert_int_not_equal(i, AF_NIL);
    return i;
}

static int task(af_scenario *s, int op, const char *name)
{
    int t = af_scenario_add_task(s, &s->ops[op].children, name, op);
    assert_int_not_equal(t, AF_NIL);
    return t;
}

/* First scenario: non-default values wherever a field has a default. */
static void build_everything(af_scenario *s)
{
    af_scenario_init(s);
    snprintf(s->description, sizeof s->description,
             "every op: \"quotes\", back\\slash, caf\xc3\xa9, /slash");
    s->nexpect = 2;
    snprintf(s->expect[0].oracle, sizeof s->expect[0].oracle, "cancellation.swallowed");
    snprintf(s->expect[0].issue, sizeof s->expect[0].issue, "gh-86296");
    s->expect[0].pyversions[0] = (af_pyversion){311, -1, -1};
    s->expect[0].pyversions[1] = (af_pyversion){312, 1, 1};
    s->expect[0].pyversions[2] = (af_pyversion){313, 0, 2};
    s->expect[0].npyversions = 3;
    snprintf(s->expect[1].oracle, sizeof s->expect[1].oracle, "leaked-task");
    int ev = af_scenario_add_primitive(s, AF_PRIM_EVENT, "ev", 0);
    int lk = af_scenario_add_primitive(s, AF_PRIM_LOCK, "lk", 0);
    int cv = af_scenario_add_primitive(s, AF_PRIM_CONDITION, "cv", 0);
    int sem = af_scenario_add_primitive(s, AF_PRIM_SEMAPHORE, "sem", 3);
    int q = af_scenario_add_primitive(s, AF_PRIM_QUEUE, "q", 2);
    af_body *mb = &s->tasks[0].body;
    snprintf(s->tasks[0].name, sizeof s->tasks[0].name, "root");

    int o = add(s, mb, AF_OP_SLEEP, 0, AF_NIL);
    s->ops[o].ticks = 7;
    /* a task group with children and a body */
    int tg = add(s, mb, AF_OP_TASKGROUP, 0, AF_NIL);
    snprintf(s->ops[tg].name, sizeof s->ops[tg].name, "tg");
    int c1 = task(s, tg, "child1");
    o = add(s, &s->tasks[c1].body, AF_OP_RETURN, c1, AF_NIL);
    s->ops[o].value = 255;
    o = add(s, &s->ops[tg].body, AF_OP_SLEEP, 0, tg);
    s->ops[o].ticks = 0;
    /* spawn: dropped reference, into the group */
    int sp = add(s, mb, AF_OP_SPAWN, 0, AF_NIL);
    s->ops[sp].keep = false;
    s->ops[sp].ref = (int16_t)tg;
    int w = task(s, sp, "worker");
    o = add(s, &s->tasks[w].body, AF_OP_RAISE, w, AF_NIL);
    s->ops[o].exc.kind = AF_EXC_CANCELLED_SUBCLASS;
    s->ops[o].exc.id = 9;
    o = add(s, mb, AF_OP_AWAIT, 0, AF_NIL);
    s->ops[o].ref = (int16_t)w;
    o = add(s, mb, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[o].ref = (int16_t)w;
    s->ops[o].has_msg = true;
    snprintf(s->ops[o].msg, sizeof s->ops[o].msg, "stop it (now)");
    s->ops[o].value = 2;
    s->ops[o].uncancel = true;
    o = add(s, mb, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[o].ref = AF_SELF;
    s->ops[o].has_msg = true; /* an empty message is still a message */
    int g = add(s, mb, AF_OP_GATHER, 0, AF_NIL);
    s->ops[g].return_exceptions = true;
    task(s, g, "g1");
    task(s, g, "g2");
    int wf = add(s, mb, AF_OP_WAIT_FOR, 0, AF_NIL);
    s->ops[wf].ticks = 5;
    int tm = add(s, &s->ops[wf].body, AF_OP_TIMEOUT, 0, wf);
    snprintf(s->ops[tm].name, sizeof s->ops[tm].name, "deadline");
    s->ops[tm].ticks = 3;
    s->ops[tm].at = true;
    o = add(s, &s->ops[tm].body, AF_OP_RESCHEDULE, 0, tm);
    s->ops[o].ref = (int16_t)tm;
    s->ops[o].ticks = AF_NONE;
    o = add(s, &s->ops[tm].body, AF_OP_RESCHEDULE, 0, tm);
    s->ops[o].ref = (int16_t)tm;
    s->ops[o].ticks = 10;
    int sh = add(s, mb, AF_OP_SHIELD, 0, AF_NIL);
    task(s, sh, "shielded");
    int wt = add(s, mb, AF_OP_WAIT, 0, AF_NIL);
    s->ops[wt].return_when = AF_WHEN_FIRST_EXCEPTION;
    s->ops[wt].ticks = 4;
    s->ops[wt].cancel_pending = true;
    task(s, wt, "waited");
    int ac = add(s, mb, AF_OP_AS_COMPLETED, 0, AF_NIL);
    s->ops[ac].ticks = 0;
    task(s, ac, "completed");
    int tr = add(s, mb, AF_OP_TRY, 0, AF_NIL);
    s->ops[tr].on_cancel = AF_ON_CANCEL_RAISE;
    s->ops[tr].exc.kind = AF_EXC_KEYBOARD_INTERRUPT;
    s->ops[tr].exc.id = 1;
    s->ops[tr].on_error = AF_ON_ERROR_SWALLOW;
    s->ops[tr].has_finally = true;
    o = add(s, &s->ops[tr].body, AF_OP_EVENT_WAIT, 0, tr);
    s->ops[o].ref = (int16_t)ev;
    o = add(s, &s->ops[tr].finally_body, AF_OP_EVENT_SET, 0, tr);
    s->ops[o].ref = (int16_t)ev;
    int es = add(s, mb, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[es].match = AF_MATCH_EXCEPTION;
    s->ops[es].reaction = AF_REACT_RAISE;
    s->ops[es].exc.kind = AF_EXC_SYSTEM_EXIT;
    s->ops[es].exc.id = 2;
    int ho = add(s, &s->ops[es].body, AF_OP_HOLD, 0, es);
    snprintf(s->ops[ho].name, sizeof s->ops[ho].name, "conn");
    s->ops[ho].ticks = 2;
    int l = add(s, &s->ops[ho].body, AF_OP_LOCK, 0, ho);
    s->ops[l].ref = (int16_t)lk;
    int se = add(s, &s->ops[l].body, AF_OP_SEMAPHORE, 0, l);
    s->ops[se].ref = (int16_t)sem;
    o = add(s, &s->ops[se].body, AF_OP_COND_WAIT, 0, se);
    s->ops[o].ref = (int16_t)cv;
    o = add(s, mb, AF_OP_COND_NOTIFY, 0, AF_NIL);
    s->ops[o].ref = (int16_t)cv;
    s->ops[o].value = AF_NONE;
    o = add(s, mb, AF_OP_COND_NOTIFY, 0, AF_NIL);
    s->ops[o].ref = (int16_t)cv;
    s->ops[o].value = 8;
    o = add(s, mb, AF_OP_QUEUE_PUT, 0, AF_NIL);
    s->ops[o].ref = (int16_t)q;
    s->ops[o].value = 0;
    o = add(s, mb, AF_OP_QUEUE_GET, 0, AF_NIL);
    s->ops[o].ref = (int16_t)q;
    o = add(s, mb, AF_OP_NESTED_RUN, 0, AF_NIL);
    s->ops[o].nested = AF_NESTED_RUN_FOREVER;
    o = add(s, mb, AF_OP_BLOCK, 0, AF_NIL);
    s->ops[o].ticks = 10000;
    add(s, mb, AF_OP_NEVER_AWAITED, 0, AF_NIL);
    /* a try with no handler and no finally, except_star without raise */
    int t2 = add(s, mb, AF_OP_TRY, 0, AF_NIL);
    s->ops[t2].on_cancel = AF_ON_CANCEL_SWALLOW;
    int e2 = add(s, mb, AF_OP_EXCEPT_STAR, 0, AF_NIL);
    s->ops[e2].match = AF_MATCH_CANCELLED;
    s->ops[e2].reaction = AF_REACT_RERAISE;
    /* cancel_scope of a group and of a timeout; start into the group and
     * of a task of its own, whose code calls started */
    o = add(s, mb, AF_OP_CANCEL_SCOPE, 0, AF_NIL);
    s->ops[o].ref = (int16_t)tg;
    o = add(s, mb, AF_OP_CANCEL_SCOPE, 0, AF_NIL);
    s->ops[o].ref = (int16_t)tm;
    int st = add(s, &s->ops[tg].body, AF_OP_START, 0, tg);
    s->ops[st].ref = (int16_t)tg;
    int srv = task(s, st, "server");
    o = add(s, &s->tasks[srv].body, AF_OP_STARTED, srv, AF_NIL);
    s->ops[o].value = 3;
    st = add(s, mb, AF_OP_START, 0, AF_NIL);
    srv = task(s, st, "own");
    add(s, &s->tasks[srv].body, AF_OP_STARTED, srv, AF_NIL);
    /* the loop-level ops: a callback that cancels a handle defined later */
    int cb = add(s, mb, AF_OP_CALL, 0, AF_NIL);
    snprintf(s->ops[cb].name, sizeof s->ops[cb].name, "soon");
    int ch = add(s, &s->ops[cb].body, AF_OP_CANCEL_HANDLE, 0, cb);
    add(s, &s->ops[cb].body, AF_OP_STOP, 0, cb);
    int at = add(s, mb, AF_OP_CALL, 0, AF_NIL);
    snprintf(s->ops[at].name, sizeof s->ops[at].name, "past");
    s->ops[at].via = AF_VIA_CALL_AT;
    s->ops[at].ticks = 3;
    s->ops[at].at = true;
    s->ops[ch].ref = (int16_t)at;
    int re = add(s, mb, AF_OP_REENTER, 0, AF_NIL);
    s->ops[re].nested = AF_NESTED_RUN_UNTIL_COMPLETE;
    o = add(s, &s->ops[re].body, AF_OP_SLEEP, 0, re);
    s->ops[o].ticks = 1;
}

/* Second scenario: every optional field at its default. */
static void build_defaults(af_scenario *s)
{
    af_scenario_init(s);
    int sem = af_scenario_add_primitive(s, AF_PRIM_SEMAPHORE, "sem", 1);
    int q = af_scenario_add_primitive(s, AF_PRIM_QUEUE, "q", 0);
    int cv = af_scenario_add_primitive(s, AF_PRIM_CONDITION, "cv", 0);
    af_body *mb = &s->tasks[0].body;
    int tg = add(s, mb, AF_OP_TASKGROUP, 0, AF_NIL);
    snprintf(s->ops[tg].name, sizeof s->ops[tg].name, "tg");
    int sp = add(s, mb, AF_OP_SPAWN, 0, AF_NIL);
    int t = task(s, sp, "t2");
    int o = add(s, mb, AF_OP_CANCEL, 0, AF_NIL);
    s->ops[o].ref = (int16_t)t;
    int g = add(s, mb, AF_OP_GATHER, 0, AF_NIL);
    (void)g;
    int wf = add(s, mb, AF_OP_WAIT_FOR, 0, AF_NIL);
    s->ops[wf].ticks = AF_NONE;
    int tm = add(s, mb, AF_OP_TIMEOUT, 0, AF_NIL);
    snprintf(s->ops[tm].name, sizeof s->ops[tm].name, "tm");
    s->ops[tm].ticks = AF_NONE;
    add(s, mb, AF_OP_WAIT, 0, AF_NIL);
    add(s, mb, AF_OP_AS_COMPLETED, 0, AF_NIL);
    add(s, mb, AF_OP_TRY, 0, AF_NIL);
    int ho = add(s, mb, AF_OP_HOLD, 0, AF_NIL);
    snprintf(s->ops[ho].name, sizeof s->ops[ho].name, "res");
    o = add(s, mb, AF_OP_COND_NOTIFY, 0, AF_NIL);
    s->ops[o].ref = (int16_t)cv;
    o = add(s, mb, AF_OP_SEMAPHORE, 0, AF_NIL);
    s->ops[o].ref = (int16_t)sem;
    o = add(s, mb, AF_OP_QUEUE_GET, 0, AF_NIL);
    s->ops[o].ref = (int16_t)q;
    int cb = add(s, mb, AF_OP_CALL, 0, AF_NIL);
    snprintf(s->ops[cb].name, sizeof s->ops[cb].name, "cb");
}

static void test_every_op_round_trips(void **state)
{
    (void)state;
    build_everything(&A);
    assert_valid(&A);
    bool seen[AF_OP_KIND_COUNT] = {false};
    for (int i = 0; i < A.nops; i++)
        seen[A.ops[i].kind] = true;
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        if (!seen[k])
            fail_msg("op kind %s is not covered", af_op_kind_name((af_op_kind)k));
    char *t = round_trip(&A);
    /* spot checks of the canonical form */
    assert_non_null(strstr(t, "\"description\": \"every op: \\\"quotes\\\", back\\\\slash, "
                              "caf\xc3\xa9, /slash\""));
    assert_non_null(strstr(t, "{\"oracle\": \"cancellation.swallowed\", \"python\": [\"3.11\", "
                              "\"3.12.1\", \"3.13.0-3.13.2\"], \"issue\": \"gh-86296\"}"));
    assert_non_null(strstr(t, "{\"oracle\": \"leaked-task\"}"));
    assert_non_null(strstr(t, "{\"name\": \"sem\", \"kind\": \"semaphore\", \"value\": 3}"));
    assert_non_null(strstr(t, "{\"op\": \"sleep\", \"ticks\": 7}"));
    assert_non_null(strstr(t, "{\"op\": \"cancel\", \"target\": \"worker\", \"msg\": \"stop it "
                              "(now)\", \"count\": 2, \"uncancel\": true}"));
    assert_non_null(strstr(t, "{\"op\": \"cancel\", \"target\": \"self\", \"msg\": \"\"}"));
    assert_non_null(strstr(t, "{\"op\": \"cond_notify\", \"primitive\": \"cv\", \"n\": null}"));
    assert_non_null(strstr(t, "{\"op\": \"reschedule\", \"timeout\": \"deadline\", \"delay\": "
                              "null}"));
    assert_non_null(strstr(t, "{\"op\": \"never_awaited\"}"));
    assert_non_null(strstr(t, "\"main\": {\n    \"name\": \"root\",\n    \"body\": [\n"));
    assert_non_null(strstr(t, "      {\"op\": \"try\", \"body\": [], \"on_cancel\": \"swallow\"}"));
    assert_non_null(strstr(t, "{\"op\": \"call\", \"name\": \"past\", \"via\": \"call_at\", "
                              "\"delay\": 3, \"past\": true}"));
    assert_non_null(strstr(t, "{\"op\": \"cancel_handle\", \"handle\": \"past\"}"));
    free(t);

    build_defaults(&A);
    assert_valid(&A);
    t = round_trip(&A);
    /* clang-format off */
    static const char *const omitted[] = {
        "\"keep\"", "\"group\"", "\"count\"", "\"msg\"", "\"uncancel\"", "\"return_exceptions\"",
        "\"return_when\"", "\"cancel_pending\"", "\"at\"", "\"on_cancel\"", "\"on_error\"",
        "\"finally\"", "\"raise\"", "\"release_sleep\"", "\"n\"", "\"value\"", "\"maxsize\"",
        "\"delay\": 0", "\"past\"", NULL};
    /* clang-format on */
    for (int i = 0; omitted[i]; i++)
        if (strstr(t, omitted[i]))
            fail_msg("default field %s written:\n%s", omitted[i], t);
    assert_non_null(strstr(t, "{\"op\": \"task_group\", \"name\": \"tg\"}"));
    assert_non_null(strstr(t, "{\"op\": \"gather\", \"children\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"wait_for\", \"timeout\": null, \"body\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"timeout\", \"name\": \"tm\", \"delay\": null, "
                              "\"body\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"wait\", \"children\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"as_completed\", \"children\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"hold\", \"resource\": \"res\", \"body\": []}"));
    assert_non_null(strstr(t, "{\"op\": \"call\", \"name\": \"cb\", \"via\": \"call_soon\"}"));
    assert_non_null(strstr(t, "  \"expect\": [],\n"));
    free(t);

    /* no primitives: the key is left out */
    af_scenario_init(&A);
    t = round_trip(&A);
    assert_string_equal(t, "{\n  \"asyncfuzz\": 1,\n  \"description\": \"\",\n  \"expect\": [],\n"
                           "  \"main\": {\"name\": \"main\", \"body\": []}\n}\n");
    free(t);
}

/* Scenarios decoded from random bytes round-trip through JSON. */
static void test_decoded_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x243f6a8885a308d3ull;
    uint8_t bytes[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t)(iter % 509) + 1;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes[i] = (uint8_t)(x >> 24);
        }
        af_decode(bytes, n, iter % 2 == 0, &A);
        assert_valid(&A);
        char *t = round_trip(&A);
        free(t);
    }
}

/* ---- reading details ---------------------------------------------------- */

static void test_syntax_positions(void **state)
{
    (void)state;
    assert_error_contains("{\"a\": 1,}", "f:1:8: invalid JSON: trailing comma in object");
    assert_error_contains("[1, 2,\n]", "f:1:6: invalid JSON: trailing comma in array");
    assert_error_contains("{\n  \"a\": \"abc", "f:2:8: invalid JSON: unterminated string");
    assert_error_contains("{\"a\" 1}",
                          "f:1:6: invalid JSON: expected ':' after the key, found '1'");
    assert_error_contains("{\"a\": tru}", "f:1:7: invalid JSON: invalid literal 'tru'");
    assert_error_contains("{\"a\": truex}", "f:1:7: invalid JSON: invalid literal 'truex'");
    assert_error_contains("[1, 2", "f:1:6: invalid JSON: expected ',' or ']' in array, found end");
    assert_error_contains("{} x", "f:1:4: invalid JSON: unexpected 'x' after the end");
    assert_error_contains("", "f:1:1: invalid JSON: empty input");
    assert_error_contains(" \n \n", "f:3:1: invalid JSON: empty input");
    assert_error_contains("{\"a\": -}", "f:1:7: invalid JSON: invalid number");
    assert_error_contains("{\"a\": 1.}", "f:1:7: invalid JSON: invalid number");
    assert_error_contains("{\"a\": 1e}", "f:1:7: invalid JSON: invalid number");
    assert_error_contains("{\"a\": 01}", "f:1:7: invalid JSON: invalid number (leading zero)");
    assert_error_contains("{\"a\": \"\\x\"}", "f:1:8: invalid JSON: invalid escape '\\x'");
    assert_error_contains("{\"a\": \"\\u12\"}", "f:1:8: invalid JSON: invalid \\u escape");
    assert_error_contains("{\"a\": \"\\u0000\"}", "f:1:8: invalid JSON: \\u0000 is not allowed");
    assert_error_contains("{\"a\": \"\\ud800\"}", "f:1:8: invalid JSON: unpaired surrogate");
    assert_error_contains("{\"a\": \"\\udc00\"}", "f:1:8: invalid JSON: unpaired surrogate");
    assert_error_contains("{\"a\": \"\xff\"}", "f:1:8: invalid JSON: invalid UTF-8");
    assert_error_contains("{\"a\": \"\xc0\xaf\"}", "f:1:8: invalid JSON: invalid UTF-8");
    assert_error_contains("{\"a\": \"\xed\xa0\x80\"}", "f:1:8: invalid JSON: invalid UTF-8");
    assert_error_contains("{\"a\": \"x\ty\"}", "f:1:9: invalid JSON: control character 0x09");
    assert_error_contains("{\"a\": 1 /* c */}", "f:1:9: invalid JSON: expected ',' or '}'");
    assert_error_contains("\xef\xbb\xbf{}",
                          "f:1:1: invalid JSON: expected a value, found byte 0xef");
    assert_error_contains("{'a': 1}", "f:1:2: invalid JSON: expected a string key, found '''");
    /* a raw NUL byte is never silently taken as the end of the text */
    {
        static const char text[] = "{}\0garbage";
        af_error err = {0};
        assert_int_equal(af_json_read(text, sizeof text - 1, &C, &err), -1);
        assert_int_equal(err.line, 1);
        assert_int_equal(err.column, 3);
    }
    /* nesting deeper than AF_JSON_MAX_NESTING */
    {
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 99);
        deep[199] = '\0';
        assert_error_contains(deep,
                              "f:1:65: invalid JSON: arrays and objects nested deeper than 64");
    }
    /* valid JSON: escapes, surrogate pairs, numbers */
    size_t off;
    char msg[128];
    static const char ok[] = " {\"a\": [\"\\ud83d\\ude00\\n\\/\", -0, 1.5e+3, 0.25, true, false, "
                             "null, {}, []], \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\": \"\"} \n";
    assert_int_equal(af_json_syntax_check(ok, sizeof ok - 1, &off, msg, sizeof msg), 0);
}

static const char *const base_head = "{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [], ";

static const char *with_main(const char *rest)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s%s}", base_head, rest);
    return buf;
}

static void test_semantic_errors(void **state)
{
    (void)state;
    /* positions of values, keys and objects on one line */
    assert_error_contains(with_main("\"main\": {\"body\": [{\"op\": \"sleepx\"}]}"),
                          "f:1:77: main.body[0].op: unknown operation \"sleepx\"");
    assert_error_contains(with_main("\"main\": {\"body\": [{\"op\": \"sleep\", \"x\": 1}]}"),
                          "f:1:86: main.body[0].x: unknown field \"x\" in operation \"sleep\"");
    assert_error_contains(with_main("\"main\": {\"body\": [{\"op\": \"sleep\"}]}"),
                          "f:1:70: main.body[0]: missing required field \"ticks\"");
    assert_error_contains(with_main("\"main\": {\"body\": [], \"body\": []}"),
                          "f:1:73: main.body: duplicate key \"body\"");
    assert_error_contains(with_main("\"main\": {}"), "main: missing required field \"body\"");
    assert_error_contains(with_main("\"main\": []"), "main: expected a task object");
    assert_error_contains(with_main("\"main\": {\"name\": 3, \"body\": []}"),
                          "main.name: expected a string, found a number");
    /* a key with odd characters is shown quoted in the path */
    assert_error_contains(with_main("\"main\": {\"body\": [], \"a.b\\\"c\": 1}"),
                          "main[\"a.b?c\"]: unknown field \"a.b\"c\" in task");
    /* numbers */
    assert_error_contains(
        with_main("\"main\": {\"body\": [{\"op\": \"sleep\", \"ticks\": 1e400}]}"),
        "main.body[0].ticks: expected an integer, found 1e400 (an integer is written with digits "
        "only)");
    assert_error_contains(with_main("\"main\": {\"body\": [{\"op\": \"sleep\", \"ticks\": null}]}"),
                          "main.body[0].ticks: expected an integer, found null");
    assert_error_contains(
        with_main(
            "\"main\": {\"body\": [{\"op\": \"wait_for\", \"timeout\": true, \"body\": []}]}"),
        "main.body[0].timeout: expected an integer or null, found a boolean");
    assert_error_contains(
        with_main(
            "\"main\": {\"body\": [{\"op\": \"spawn\", \"keep\": 1, \"task\": {\"body\": []}}]}"),
        "main.body[0].keep: expected true or false, found a number");
    /* default names, and names defined after their use */
    const char *ok = with_main("\"main\": {\"body\": [{\"op\": \"await\", \"task\": \"t1\"}, "
                               "{\"op\": \"spawn\", \"task\": {\"body\": []}}]}");
    af_error err = {0};
    assert_int_equal(af_json_read(ok, strlen(ok), &A, &err), 0);
    assert_string_equal(A.tasks[0].name, "main");
    assert_int_equal(af_find_task(&A, "t1"), A.ops[0].ref);
    /* version first, even before unknown fields */
    assert_error_contains("{\"asyncfuzz\": 2, \"zzz\": 1}", "f:1:15: asyncfuzz: unsupported format "
                                                            "version 2");
    assert_error_contains("{\"asyncfuzz\": \"1\"}", "asyncfuzz: expected an integer");
    /* description and issue */
    assert_error_contains("{\"asyncfuzz\": 1, \"description\": \"a\\tb\", \"expect\": [], "
                          "\"main\": {\"body\": []}}",
                          "f:1:33: description: must be one line");
    assert_error_contains("{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [{\"oracle\": "
                          "\"hang\", \"issue\": \"\"}], \"main\": {\"body\": []}}",
                          "expect[0].issue: invalid issue reference");
    assert_error_contains("{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [{\"oracle\": "
                          "\"hang\", \"python\": []}], \"main\": {\"body\": []}}",
                          "expect[0].python: empty version list");
    assert_error_contains("{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [{\"oracle\": "
                          "\"hang\", \"python\": [\"3.11\", \"3.11\"]}], \"main\": {\"body\": []}}",
                          "expect[0].python[1]: duplicate version \"3.11\"");
    assert_error_contains("{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [{\"oracle\": "
                          "\"hang\", \"python\": [\"3.011\"]}], \"main\": {\"body\": []}}",
                          "expect[0].python[0]: invalid Python version");
    /* an op at depth 9 is refused while reading; an empty body there is fine */
    char deep[2048] = "";
    strcat(deep, "\"main\": {\"body\": [");
    for (int i = 0; i < 7; i++)
        strcat(deep, "{\"op\": \"try\", \"body\": [");
    strcat(deep, "{\"op\": \"lock\", \"primitive\": \"l\", \"body\": []}");
    for (int i = 0; i < 7; i++)
        strcat(deep, "]}");
    strcat(deep, "]}, \"primitives\": [{\"name\": \"l\", \"kind\": \"lock\"}]");
    const char *t = with_main(deep);
    assert_int_equal(af_json_read(t, strlen(t), &A, &err), 0);
    assert_int_equal(af_scenario_depth(&A), AF_MAX_DEPTH);
}

/* Keys may come in any order; reading does not depend on it. */
static void test_key_order(void **state)
{
    (void)state;
    static const char a[] =
        "{\"main\": {\"body\": [{\"ticks\": 2, \"op\": \"sleep\"}, {\"body\": [{\"op\": \"await\", "
        "\"task\": \"w\"}], \"children\": [{\"body\": [], \"name\": \"w\"}], \"name\": \"g\", "
        "\"op\": \"task_group\"}], \"name\": \"m\"}, \"primitives\": [{\"kind\": \"queue\", "
        "\"maxsize\": 3, \"name\": \"q\"}], \"expect\": [{\"issue\": \"x-1\", \"oracle\": "
        "\"hang\"}], \"description\": \"d\", \"asyncfuzz\": 1}";
    static const char b[] = "{\n"
                            "  \"asyncfuzz\": 1,\n"
                            "  \"description\": \"d\",\n"
                            "  \"expect\": [\n"
                            "    {\"oracle\": \"hang\", \"issue\": \"x-1\"}\n"
                            "  ],\n"
                            "  \"primitives\": [\n"
                            "    {\"name\": \"q\", \"kind\": \"queue\", \"maxsize\": 3}\n"
                            "  ],\n"
                            "  \"main\": {\n"
                            "    \"name\": \"m\",\n"
                            "    \"body\": [\n"
                            "      {\"op\": \"sleep\", \"ticks\": 2},\n"
                            "      {\n"
                            "        \"op\": \"task_group\",\n"
                            "        \"name\": \"g\",\n"
                            "        \"children\": [\n"
                            "          {\"name\": \"w\", \"body\": []}\n"
                            "        ],\n"
                            "        \"body\": [\n"
                            "          {\"op\": \"await\", \"task\": \"w\"}\n"
                            "        ]\n"
                            "      }\n"
                            "    ]\n"
                            "  }\n"
                            "}\n";
    af_error err = {0};
    assert_int_equal(af_json_read(a, sizeof a - 1, &A, &err), 0);
    assert_int_equal(af_json_read(b, sizeof b - 1, &B, &err), 0);
    assert_true(af_scenario_equal(&A, &B));
    char *t = af_json_write(&A);
    assert_string_equal(t, b);
    free(t);
}

static void test_unicode_and_escapes(void **state)
{
    (void)state;
    static const char in[] =
        "{\"asyncfuzz\": 1, \"description\": \"\\u00e9\\\"\\\\\\/ \\ud83d\\ude00"
        "\", \"expect\": [], \"main\": {\"body\": []}}";
    af_error err = {0};
    assert_int_equal(af_json_read(in, sizeof in - 1, &A, &err), 0);
    assert_string_equal(A.description, "\xc3\xa9\"\\/ \xf0\x9f\x98\x80");
    char *t = af_json_write(&A);
    assert_non_null(strstr(t, "\"description\": \"\xc3\xa9\\\"\\\\/ \xf0\x9f\x98\x80\""));
    free(t);
    /* DEL and the like are escaped on writing (a hand-built description) */
    af_scenario_init(&A);
    strcpy(A.description, "a\x7f");
    t = af_json_write(&A);
    assert_non_null(strstr(t, "\"a\\u007f\""));
    free(t);
}

static void test_size_limit(void **state)
{
    (void)state;
    size_t n = AF_JSON_MAX_BYTES + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    af_error err = {0};
    assert_int_equal(af_json_read(big, n, &A, &err), -1);
    assert_non_null(strstr(err.message, "larger than the limit"));
    char path[] = "/tmp/af_test_json_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(big, 1, n, f), n);
    fclose(f);
    assert_int_equal(af_json_read_file(path, &A, &err), -1);
    assert_non_null(strstr(err.message, "larger than the limit"));
    remove(path);
    free(big);
    assert_int_equal(af_json_read_file("/nonexistent/x.json", &A, &err), -1);
    char msg[600];
    af_error_format(&err, "/nonexistent/x.json", msg, sizeof msg);
    assert_string_equal(msg, "/nonexistent/x.json: cannot open: No such file or directory");
}

static void test_error_format(void **state)
{
    (void)state;
    af_error e = {.line = 3, .column = 17};
    strcpy(e.path, "main.body[0].op");
    strcpy(e.message, "unknown operation \"sleepx\"");
    char buf[300];
    af_error_format(&e, "x.json", buf, sizeof buf);
    assert_string_equal(buf, "x.json:3:17: main.body[0].op: unknown operation \"sleepx\"");
    e.path[0] = '\0';
    af_error_format(&e, NULL, buf, sizeof buf);
    assert_string_equal(buf, "<input>:3:17: unknown operation \"sleepx\"");
    e.line = e.column = 0;
    af_error_format(&e, "x.json", buf, 10);
    assert_string_equal(buf, "x.json: u");
}

static void test_locate(void **state)
{
    (void)state;
    static const char text[] = "{\"a\" : [1, {\"b\": \"x\\\"]\", \"c\": [[], {}]}],\n \"d\": null}";
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *a = cJSON_GetObjectItem(root, "a");
    const cJSON *obj = cJSON_GetArrayItem(a, 1);
    const cJSON *c = cJSON_GetObjectItem(obj, "c");
    const cJSON *d = cJSON_GetObjectItem(root, "d");
    size_t v, k;
    assert_int_equal(af_json_locate(text, sizeof text - 1, root, a, &v, &k), 0);
    assert_int_equal(k, 1);
    assert_int_equal(v, 7);
    assert_int_equal(af_json_locate(text, sizeof text - 1, root, c, &v, &k), 0);
    assert_int_equal(text[k], '"');
    assert_int_equal(text[k + 1], 'c');
    assert_int_equal(text[v], '[');
    assert_int_equal(af_json_locate(text, sizeof text - 1, root, cJSON_GetArrayItem(c, 1), &v, &k),
                     0);
    assert_int_equal(text[v], '{');
    assert_int_equal(af_json_locate(text, sizeof text - 1, root, d, &v, &k), 0);
    int line, col;
    af_json_line_col(text, sizeof text - 1, v, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 7);
    cJSON *other = cJSON_CreateNull();
    assert_int_equal(af_json_locate(text, sizeof text - 1, root, other, &v, &k), -1);
    cJSON_Delete(other);
    cJSON_Delete(root);
}

/* Versions of an expectation: each form read back as written, matched
 * against interpreters by minor version and patch release; bad forms
 * refused with their reason. */
static void test_pyversions(void **state)
{
    (void)state;
    static const char *const forms[] = {"3.11", "3.13.0", "3.13.0-3.13.2", "3.9", "3.99.99"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        af_pyversion v;
        const char *why = NULL;
        char back[AF_PYVERSION_TEXT];
        assert_int_equal(af_pyversion_parse(forms[i], &v, &why), 0);
        af_pyversion_format(&v, back, sizeof back);
        assert_string_equal(back, forms[i]);
    }
    af_pyversion minor, one, range;
    const char *why = NULL;
    assert_int_equal(af_pyversion_parse("3.13", &minor, &why), 0);
    assert_int_equal(af_pyversion_parse("3.13.5", &one, &why), 0);
    assert_int_equal(af_pyversion_parse("3.13.0-3.13.2", &range, &why), 0);
    assert_true(af_pyversion_holds(&minor, 313, 0) && af_pyversion_holds(&minor, 313, 18));
    assert_false(af_pyversion_holds(&minor, 312, 1));
    assert_true(af_pyversion_holds(&one, 313, 5));
    assert_false(af_pyversion_holds(&one, 313, 4));
    assert_true(af_pyversion_holds(&range, 313, 0) && af_pyversion_holds(&range, 313, 2));
    assert_false(af_pyversion_holds(&range, 313, 3));
    assert_true(af_pyversion_overlap(&minor, &one));
    assert_false(af_pyversion_overlap(&one, &range));
    static const char *const bad[] = {
        "3",       "3.",          "3.011",         "3.1.",          "3.13.00",       "4.1",
        "3.13.0-", "3.13.0-3.13", "3.13.2-3.13.2", "3.13.3-3.13.1", "3.12.0-3.13.1", "3.13 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        af_pyversion v;
        assert_int_equal(af_pyversion_parse(bad[i], &v, &why), -1);
        assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_catalog_canonical),
        cmocka_unit_test(test_every_op_round_trips),
        cmocka_unit_test(test_decoded_round_trip),
        cmocka_unit_test(test_syntax_positions),
        cmocka_unit_test(test_semantic_errors),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_unicode_and_escapes),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_pyversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
