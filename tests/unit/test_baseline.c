/* test_baseline.c - known-defect lists (reports/baseline.h).
 *
 * Properties: the shipped list of stock asyncio for 3.11 is embedded and
 * holds its issues and fixed-in versions (the file's lines, one entry
 * each); asyncio_py uses stock asyncio's list; planted_wait_for uses it
 * without the signature its planted defect gives; an adapter file and a
 * Python version without a list get none; a team list's columns may be
 * left out ("none", "-" and absent read as no issue / not fixed), its
 * first column may be a 16-hex signature, a description keeps its tabs,
 * and a later list's line wins; a malformed line is refused naming the
 * list and the line; labels say new or known with the issue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file_io.h"
#include "oracles/verdict.h"
#include "reports/baseline.h"

static uint64_t sig(const char *text)
{
    return af_hash64(text, strlen(text));
}

static void test_shipped_list_of_stock_asyncio(void **state)
{
    (void)state;
    af_error err;
    af_baseline *b = af_baseline_load(NULL, 311, NULL, &err);
    assert_non_null(b);
    assert_int_equal(af_baseline_count_lists(b), 1);
    assert_string_equal(af_baseline_list_at(b, 0), "baselines/asyncio-3.11.tsv");
    int found = 0;
    const af_baseline_entry *e = af_baseline_find(b, sig("cancellation.swallowed|wait_for|block"));
    assert_non_null(e);
    assert_string_equal(e->issue, "gh-86296");
    assert_string_equal(e->fixed_in, "3.12");
    assert_string_equal(e->list, "baselines/asyncio-3.11.tsv");
    e = af_baseline_find(b, sig("cancellation.swallowed|gather|task-end"));
    assert_non_null(e);
    assert_null(e->issue);    /* "none" */
    assert_null(e->fixed_in); /* "-" */
    assert_non_null(e->description);
    assert_null(af_baseline_find(b, sig("crash:SIGSEGV")));
    /* one entry per line of the shipped file */
    char *text = NULL;
    size_t len;
    assert_int_equal(
        af_read_file(AF_SOURCE_DIR "/baselines/asyncio-3.11.tsv", 1 << 20, &text, &len, &err), 0);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        assert_non_null(af_baseline_find(b, sig(line)));
        found++;
    }
    free(text);
    assert_true(found >= 17);
    af_baseline_free(b);
    /* the same list, named "asyncio" */
    b = af_baseline_load("asyncio", 311, NULL, &err);
    assert_non_null(af_baseline_find(b, sig("leaked-task|spawn|never-awaited")));
    af_baseline_free(b);
}

static void test_other_targets(void **state)
{
    (void)state;
    af_error err;
    const char *planted = "cancellation.swallowed|wait_for|block";
    af_baseline *b = af_baseline_load("asyncio_py", 311, NULL, &err);
    assert_non_null(af_baseline_find(b, sig(planted)));
    assert_string_equal(af_baseline_list_at(b, 0), "baselines/asyncio-3.11.tsv");
    af_baseline_free(b);
    /* the planted defect's signature is never known on its target */
    b = af_baseline_load("planted_wait_for", 311, NULL, &err);
    assert_null(af_baseline_find(b, sig(planted)));
    assert_non_null(af_baseline_find(b, sig("cancellation.swallowed|task_group|block-raise")));
    af_baseline_free(b);
    /* no list: an adapter file, another Python version */
    b = af_baseline_load("/some/where/target_mine.py", 311, NULL, &err);
    assert_int_equal(af_baseline_count_lists(b), 0);
    assert_null(af_baseline_find(b, sig(planted)));
    af_baseline_free(b);
    b = af_baseline_load(NULL, 399, NULL, &err);
    assert_int_equal(af_baseline_count_lists(b), 0);
    af_baseline_free(b);
}

static void test_team_lists(void **state)
{
    (void)state;
    af_error err;
    af_baseline *b = af_baseline_new(&err);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)sig("crash:SIGSEGV"));
    char text[512];
    snprintf(text, sizeof text,
             "# ours\n"
             "\n"
             "hang||hang\n"
             "%s\tBUG-7\n"
             "cancellation.count|wait_for|block\tnone\t-\ta description\twith a tab\r\n",
             hex);
    assert_int_equal(af_baseline_add_text(b, "team.tsv", text, &err), 0);
    const af_baseline_entry *e = af_baseline_find(b, sig("hang||hang"));
    assert_non_null(e);
    assert_null(e->issue);
    assert_null(e->fixed_in);
    assert_null(e->description);
    assert_string_equal(e->list, "team.tsv");
    e = af_baseline_find(b, sig("crash:SIGSEGV"));
    assert_non_null(e);
    assert_string_equal(e->issue, "BUG-7");
    assert_string_equal(e->text, "");
    e = af_baseline_find(b, sig("cancellation.count|wait_for|block"));
    assert_string_equal(e->description, "a description\twith a tab");
    /* a later list's line wins */
    assert_int_equal(af_baseline_add_text(b, "later.tsv", "hang||hang\tgh-1\t3.14\n", &err), 0);
    e = af_baseline_find(b, sig("hang||hang"));
    assert_string_equal(e->issue, "gh-1");
    assert_string_equal(e->list, "later.tsv");
    assert_int_equal(af_baseline_count_lists(b), 2);
    char label[128];
    af_baseline_label(b, sig("hang||hang"), label, sizeof label);
    assert_string_equal(label, "[known gh-1, fixed in 3.14]");
    af_baseline_label(b, sig("crash:SIGSEGV"), label, sizeof label);
    assert_string_equal(label, "[known BUG-7]");
    af_baseline_label(b, sig("cancellation.count|wait_for|block"), label, sizeof label);
    assert_string_equal(label, "[known, no upstream issue]");
    af_baseline_label(b, sig("leaked-task|spawn|pending"), label, sizeof label);
    assert_string_equal(label, "[new]");
    /* a line that is neither a signature text nor a hash */
    assert_int_equal(af_baseline_add_text(b, "bad.tsv", "# x\nhang hang  gh-2\n", &err), -1);
    assert_non_null(strstr(err.message, "bad.tsv: line 2"));
    af_baseline_free(b);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/af-test-baseline.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[128], c[128];
    snprintf(a, sizeof a, "%s/a.tsv", dir);
    snprintf(c, sizeof c, "%s/c.tsv", dir);
    af_error err;
    assert_int_equal(af_write_file(a, "hang||hang\tA-1\n", 15, &err), 0);
    assert_int_equal(af_write_file(c, "crash:exit\tC-1\n", 15, &err), 0);
    char both[300];
    snprintf(both, sizeof both, "%s:%s", a, c);
    af_baseline *b = af_baseline_load(NULL, 311, both, &err);
    assert_non_null(b);
    assert_int_equal(af_baseline_count_lists(b), 3);
    assert_string_equal(af_baseline_find(b, sig("crash:exit"))->list, c);
    assert_non_null(af_baseline_find(b, sig("cancellation.swallowed|wait_for|block")));
    af_baseline_free(b);
    snprintf(both, sizeof both, "%s/missing.tsv", dir);
    assert_null(af_baseline_load(NULL, 311, both, &err));
    assert_non_null(strstr(err.message, "missing.tsv"));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_list_of_stock_asyncio),
        cmocka_unit_test(test_other_targets),
        cmocka_unit_test(test_team_lists),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
