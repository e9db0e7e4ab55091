/* test_trace.c - the typed trace and its JSON-lines text form.
 *
 * The expected lines were produced once by /usr/bin/python3.11 with
 * json.dumps(list(event), separators=(",", ":")) and are embedded here, so
 * the writer is checked byte for byte against Python's escaping.
 *
 * TRACE.md's event table must be the one trace_events.def gives
 * (test_trace_md): when they differ, the test writes the corrected file to
 * the build folder and says so.
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

/* Python's output for the events built in build_all(), in order. */
static const char *const expected[] = {
    "[\"task_new\",0,0,0,\"main\",-1,-1,0]",
    "[\"cancel\",5,3,-1,1,7,\"bye \\\"q\\\" \\\\ \\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\",true,0,1]",
    /* clang-format off */
    "[\"caught\",5,4,1,7,\"asyncio.exceptions.CancelledError\",\"\\u00e9 \\u00fc \\u4e2d \\ud83d\\ude00 \\u2028\"]",
    /* clang-format on */
    "[\"op_exit\",9,7,0,3,\"ok\",\"\",\"\",[2,1],0]",
    "[\"op_exit\",9,7,0,3,\"raise\",\"builtins.TimeoutError\",\"()\",true,1]",
    "[\"op_exit\",9,7,0,3,\"ok\",\"\",\"\",\"[1, 'a']\",0]",
    "[\"op_exit\",9,7,0,3,\"ok\",\"\",\"\",null,0]",
    "[\"warning\",1,1,\"RuntimeWarning\",\"coroutine 'nested_target' was never awaited\"]",
    "[\"budget\",100,10000,\"hang\"]",
    "[\"slow\",3,2,50,\"Task.__step\"]",
    "[\"nested\",1,1,0,2,\"asyncio_run\",\"builtins.RuntimeError\",true,false]",
    "[\"task_done\",4,4,1,\"cancelled\",\"asyncio.exceptions.CancelledError\",\"('m',)\",0]",
    "[\"uncancel\",4,4,0,0,-1,1,0]",
    "[\"loop_exc\",4,4,\"Task exception was never retrieved\",\"AppError\",2]",
    "[\"end\",4,4,\"result\",\"\"]",
};
#define NEXPECTED (int)(sizeof expected / sizeof expected[0])

static void build_all(af_trace *tr)
{
    assert_int_equal(af_trace_task_new(tr, 0, 0, 0, "main", -1, -1, 0), 0);
    assert_int_equal(
        af_trace_cancel(tr, 5, 3, -1, 1, 7, "bye \"q\" \\ \n\r\t\b\f\x01\x1f\x7f", 1, 0, 1), 0);
    assert_int_equal(
        af_trace_caught(tr, 5, 4, 1, 7, "asyncio.exceptions.CancelledError",
                        "\xc3\xa9 \xc3\xbc \xe4\xb8\xad \xf0\x9f\x98\x80 \xe2\x80\xa8"),
        0);
    assert_int_equal(
        af_trace_op_exit(tr, 9, 7, 0, 3, AF_OPEXIT_OK, "", "", AF_DETAIL_PAIR, 2, 1, NULL, 0), 0);
    assert_int_equal(af_trace_op_exit(tr, 9, 7, 0, 3, AF_OPEXIT_RAISE, "builtins.TimeoutError",
                                      "()", AF_DETAIL_BOOL, 1, 0, NULL, 1),
                     0);
    assert_int_equal(
        af_trace_op_exit(tr, 9, 7, 0, 3, AF_OPEXIT_OK, "", "", AF_DETAIL_STR, 0, 0, "[1, 'a']", 0),
        0);
    assert_int_equal(
        af_trace_op_exit(tr, 9, 7, 0, 3, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0), 0);
    assert_int_equal(
        af_trace_warning(tr, 1, 1, "RuntimeWarning", "coroutine 'nested_target' was never awaited"),
        0);
    assert_int_equal(af_trace_budget(tr, 100, 10000, AF_BUDGET_HANG), 0);
    assert_int_equal(af_trace_slow(tr, 3, 2, 50, "Task.__step"), 0);
    assert_int_equal(af_trace_nested(tr, 1, 1, 0, 2, "asyncio_run", "builtins.RuntimeError", 1, 0),
                     0);
    assert_int_equal(af_trace_task_done(tr, 4, 4, 1, AF_OUT_CANCELLED,
                                        "asyncio.exceptions.CancelledError", "('m',)", 0),
                     0);
    assert_int_equal(af_trace_uncancel(tr, 4, 4, 0, 0, -1, 1, 0), 0);
    assert_int_equal(
        af_trace_loop_exc(tr, 4, 4, "Task exception was never retrieved", "AppError", 2), 0);
    assert_int_equal(af_trace_end(tr, 4, 4, AF_OUT_RESULT, ""), 0);
}

static char *joined_expected(void)
{
    size_t n = 0;
    for (int i = 0; i < NEXPECTED; i++)
        n += strlen(expected[i]) + 1;
    char *s = malloc(n + 1);
    s[0] = '\0';
    for (int i = 0; i < NEXPECTED; i++) {
        strcat(s, expected[i]);
        strcat(s, "\n");
    }
    return s;
}

static void test_write_matches_python(void **state)
{
    (void)state;
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 64, 4096), 0);
    build_all(&tr);
    assert_int_equal(tr.nevents, NEXPECTED);
    char line[512];
    for (int i = 0; i < NEXPECTED; i++) {
        size_t n = af_event_write_json(&tr.events[i], line, sizeof line);
        assert_string_equal(line, expected[i]);
        assert_int_equal(n, strlen(expected[i]));
    }
    char *want = joined_expected();
    size_t need = af_trace_write_jsonl(&tr, NULL, 0);
    assert_int_equal(need, strlen(want));
    char *buf = malloc(need + 1);
    assert_int_equal(af_trace_write_jsonl(&tr, buf, need + 1), need);
    assert_string_equal(buf, want);
    /* truncation: snprintf semantics */
    char small[10];
    assert_int_equal(af_trace_write_jsonl(&tr, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);
    free(buf);
    free(want);
    af_trace_free(&tr);
}

static void test_round_trip(void **state)
{
    (void)state;
    af_trace a, b;
    assert_int_equal(af_trace_init(&a, 64, 4096), 0);
    assert_int_equal(af_trace_init(&b, 64, 4096), 0);
    build_all(&a);
    char *text = joined_expected();
    af_error err;
    assert_int_equal(af_trace_read_jsonl(text, strlen(text), &b, &err), 0);
    assert_int_equal(b.nevents, NEXPECTED);
    assert_true(af_trace_equal(&a, &b));
    /* typed fields came back */
    assert_int_equal(b.events[1].kind, AF_EV_CANCEL);
    assert_int_equal(b.events[1].returned, 1);
    assert_int_equal(b.events[1].by_task, -1);
    assert_int_equal(b.events[1].task, 1);
    assert_string_equal(b.events[1].msg, "bye \"q\" \\ \n\r\t\b\f\x01\x1f\x7f");
    assert_string_equal(b.events[2].msg,
                        "\xc3\xa9 \xc3\xbc \xe4\xb8\xad \xf0\x9f\x98\x80 \xe2\x80\xa8");
    assert_int_equal(b.events[3].detail, AF_DETAIL_PAIR);
    assert_int_equal(b.events[3].detail_a, 2);
    assert_int_equal(b.events[3].detail_b, 1);
    assert_int_equal(b.events[4].detail, AF_DETAIL_BOOL);
    assert_int_equal(b.events[6].detail, AF_DETAIL_NONE);
    assert_int_equal(b.events[8].budget, AF_BUDGET_HANG);
    assert_int_equal(b.events[10].flag_a, 1);
    assert_int_equal(b.events[10].flag_b, 0);
    /* written again: identical text */
    size_t n = af_trace_write_jsonl(&b, NULL, 0);
    char *again = malloc(n + 1);
    af_trace_write_jsonl(&b, again, n + 1);
    assert_string_equal(again, text);
    free(again);
    /* None stays None, "" stays "" */
    af_trace_reset(&b);
    const char *nulls =
        "[\"cancel\",1,1,0,1,-1,null,false,0,0]\n\n[\"caught\",1,1,1,-1,\"\",null]\n";
    assert_int_equal(af_trace_read_jsonl(nulls, strlen(nulls), &b, &err), 0);
    assert_int_equal(b.nevents, 2);
    assert_null(b.events[0].msg);
    assert_string_equal(b.events[1].exc_type, "");
    char line[128];
    af_event_write_json(&b.events[0], line, sizeof line);
    assert_string_equal(line, "[\"cancel\",1,1,0,1,-1,null,false,0,0]");
    free(text);
    af_trace_free(&a);
    af_trace_free(&b);
}

static void test_read_errors(void **state)
{
    (void)state;
    af_trace tr;
    af_error err;
    assert_int_equal(af_trace_init(&tr, 8, 1024), 0);
    static const char *const bad[] = {
        "[\"task_new\",0,0,0,\"main\",-1,-1]",          /* too few fields */
        "[\"nope\",0,0]",                               /* unknown kind */
        "{\"kind\":1}",                                 /* not an array */
        "[\"cancel\",1,1,0,1,-1,null,1,0,0]",           /* returned not a bool */
        "[\"end\",1,1,\"weird\",\"\"]",                 /* unknown outcome */
        "[\"task_new\",0.5,0,0,\"main\",-1,-1,0]",      /* vtime not an integer */
        "[\"op_exit\",1,1,0,3,\"ok\",\"\",\"\",[1],0]", /* bad detail */
        "[\"pending\",1,1,0",                           /* not JSON */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        af_trace_reset(&tr);
        char text[256];
        snprintf(text, sizeof text, "[\"pending\",0,0,1]\n%s\n", bad[i]);
        memset(&err, 0, sizeof err);
        assert_int_equal(af_trace_read_jsonl(text, strlen(text), &tr, &err), -1);
        assert_int_equal(err.line, 2);
        assert_true(err.message[0] != '\0');
    }
    af_trace_free(&tr);
}

static void test_bounded(void **state)
{
    (void)state;
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 4, 64), 0);
    /* events cap */
    for (int i = 0; i < 4; i++)
        assert_int_equal(af_trace_pending(&tr, i, i, i), 0);
    assert_false(tr.overflow);
    assert_int_equal(af_trace_pending(&tr, 9, 9, 9), -1);
    assert_true(tr.overflow);
    assert_int_equal(tr.nevents, 4);
    /* reset: reusable without freeing */
    af_event *events = tr.events;
    char *arena = tr.arena;
    af_trace_reset(&tr);
    assert_int_equal(tr.nevents, 0);
    assert_false(tr.overflow);
    assert_ptr_equal(tr.events, events);
    assert_ptr_equal(tr.arena, arena);
    /* arena cap: a string that does not fit drops the event */
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(af_trace_warning(&tr, 0, 0, "W", big), -1);
    assert_true(tr.overflow);
    assert_int_equal(tr.nevents, 0);
    assert_int_equal(tr.arena_used, 0);
    af_trace_reset(&tr);
    assert_int_equal(af_trace_warning(&tr, 0, 0, "W", "short"), 0);
    assert_true(tr.arena_used <= tr.arena_cap);
    /* many runs: no growth */
    for (int run = 0; run < 1000; run++) {
        af_trace_reset(&tr);
        for (int i = 0; i < 10; i++)
            af_trace_task_new(&tr, i, i, i, "name", -1, -1, -1);
        assert_int_equal(tr.nevents, 4);
        assert_true(tr.arena_used <= tr.arena_cap);
    }
    /* the reader reports a full trace */
    af_trace_reset(&tr);
    const char *text =
        "[\"pending\",0,0,1]\n[\"pending\",0,0,1]\n[\"pending\",0,0,1]\n[\"pending\",0,0,1]\n"
        "[\"pending\",0,0,1]\n";
    af_error err;
    assert_int_equal(af_trace_read_jsonl(text, strlen(text), &tr, &err), -1);
    assert_int_equal(err.line, 5);
    af_trace_free(&tr);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    char buf[64];
    size_t pos = 0;
    /* a lone continuation byte and a truncated sequence become U+FFFD */
    af_json_put_string(buf, sizeof buf, &pos,
                       "a\x80"
                       "b\xe4\xb8",
                       5);
    buf[pos] = '\0';
    assert_string_equal(buf, "\"a\\ufffdb\\ufffd\\ufffd\"");
}

static void test_names(void **state)
{
    (void)state;
    for (int k = 0; k < AF_EV_KIND_COUNT; k++)
        assert_int_equal(af_ev_kind_from_name(af_ev_kind_name((af_ev_kind)k)), k);
    assert_null(af_ev_kind_name(AF_EV_KIND_COUNT));
    assert_int_equal(af_outcome_from_name("cancelled"), AF_OUT_CANCELLED);
    assert_int_equal(af_opexit_from_name("raise"), AF_OPEXIT_RAISE);
    assert_int_equal(af_budget_from_name("watchdog"), AF_BUDGET_WATCHDOG);
    assert_int_equal(af_budget_from_name("x"), -1);
}

/* ---- TRACE.md's event table ------------------------------------------- */

#define MD_BEGIN "<!-- event table: generated from trace_events.def -->\n"
#define MD_END "<!-- end of the event table -->\n"

/* What TRACE.md says of each kind, from the table: when, and each field's
 * note. */
typedef struct event_doc {
    const char *name;
    const char *when;
    const char *notes[16];
} event_doc;

#define DOC_NOTE(TYPE, label, member, note) note,
#define AF_TRACE_EVENT(ID, name, when) {#name, when, {AF_TRACE_FIELDS_##ID(DOC_NOTE, DOC_NOTE)}},
static const event_doc event_docs[AF_EV_KIND_COUNT] = {
#include "harness/run/trace_events.def"
};

/* "label (what its type says; note)". */
static void md_field(FILE *out, const af_field_layout *f, const char *note)
{
    fputs(f->label, out);
    const char *sep = " (";
    if (f->type == AF_FIELD_ENUM) {
        for (int v = 0; v < f->nvalues; v++)
            fprintf(out, "%s`%s`", v ? "/" : " (", f->values[v]);
        sep = "; ";
    } else if (f->type == AF_FIELD_BOOL || f->type == AF_FIELD_OPT_STR) {
        fprintf(out, " (%s", f->type == AF_FIELD_BOOL ? "bool" : "str or None");
        sep = "; ";
    }
    if (note[0])
        fprintf(out, "%s%s", sep, note);
    if (note[0] || sep[0] == ';')
        fputc(')', out);
}

/* The table, between its markers (malloc'd). */
static char *md_table(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    fputs(MD_BEGIN, out);
    fputs("| kind | fields after (kind, vtime, iteration) | when |\n| --- | --- | --- |\n", out);
    for (int k = 0; k < AF_EV_KIND_COUNT; k++) {
        const af_event_layout *l = af_event_layout_of((af_ev_kind)k);
        const event_doc *d = &event_docs[k];
        assert_string_equal(l->name, d->name);
        assert_true(l->nfields <= (int)(sizeof d->notes / sizeof d->notes[0]));
        fprintf(out, "| `%s` | ", l->name);
        for (int i = 0; i < l->nfields; i++) {
            if (i)
                fputs(", ", out);
            md_field(out, &l->fields[i], d->notes[i]);
        }
        fprintf(out, " | %s |\n", d->when);
    }
    fputs(MD_END, out);
    fclose(out);
    return text;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, out);
    fclose(f);
    fclose(out);
    return text;
}

static void test_trace_md(void **state)
{
    (void)state;
    char *doc = read_text(AF_SOURCE_DIR "/harness/run/TRACE.md");
    char *want = md_table();
    char *begin = strstr(doc, MD_BEGIN);
    char *end = begin ? strstr(begin, MD_END) : NULL;
    if (!end)
        fail_msg("harness/run/TRACE.md: no event table between \"%.*s\" and \"%.*s\"",
                 (int)strlen(MD_BEGIN) - 1, MD_BEGIN, (int)strlen(MD_END) - 1, MD_END);
    end += strlen(MD_END);
    if ((size_t)(end - begin) != strlen(want) || memcmp(begin, want, strlen(want)) != 0) {
        const char *fixed = AF_BINARY_DIR "/TRACE.md";
        FILE *f = fopen(fixed, "wb");
        assert_non_null(f);
        fwrite(doc, 1, (size_t)(begin - doc), f);
        fputs(want, f);
        fputs(end, f);
        fclose(f);
        fail_msg("harness/run/TRACE.md's event table is not the one harness/run/trace_events.def "
                 "gives: %s has it right (cp %s harness/run/TRACE.md)",
                 fixed, fixed);
    }
    free(want);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_matches_python),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_trace_md),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
