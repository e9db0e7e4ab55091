/* test_oracle_table.c - the table of oracles, rules and cause rules
 * (base/oracles.def) and the reference page generated from it.
 *
 * docs/ORACLES.md must be exactly what the table renders to: after editing
 * the table, regenerate it with
 *     AF_WRITE_ORACLES_DOC=1 build/test_oracle_table
 * The table must also be sound: names and signature codes unique, every
 * oracle af_judge runs with at least one rule, every rule and cause rule
 * applied somewhere in oracles/ (no rule that only the page knows).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/file_io.h"
#include "base/oracles.h"

#define DOC_PATH AF_SOURCE_DIR "/docs/ORACLES.md"

/* ---- rendering -------------------------------------------------------------- */

/* Text in a Markdown table cell: '|' escaped. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static const char *cause_label(int cause)
{
    return cause == AF_CAUSE_INHERITED ? "inherited" : af_cause_name((af_cause)cause);
}

static void render_causes(FILE *out)
{
    fputs("## Causes\n\nWhose fault a verdict is (`cause` in verdicts; a cause other than target "
          "is appended to the signature text).\n\n| cause | definition |\n| --- | --- |\n",
          out);
    for (int k = 0; k < AF_CAUSE_COUNT; k++) {
        fprintf(out, "| `%s` | ", af_cause_name((af_cause)k));
        cell(out, af_cause_definitions[k]);
        fputs(" |\n", out);
    }
}

/* One oracle's section: its definition and the table of its rules. */
static void render_oracle(FILE *out, af_oracle o)
{
    fprintf(out, "\n### `%s`\n\n%s%s\n", af_oracle_name(o), af_oracle_defs[o].definition,
            af_oracle_defs[o].judged ? "" : " (Not evaluated by `af_judge` yet.)");
    int rows = 0;
    for (int r = 0; r < AF_RULE_COUNT; r++) {
        if (af_rule_defs[r].oracle != o)
            continue;
        if (!rows++)
            fputs("\n| rule | signature text | definition |\n| --- | --- | --- |\n", out);
        fprintf(out, "| `%s` | `", af_rule_defs[r].code);
        cell(out, af_oracle_name(o));
        cell(out, "|<primitive>|");
        cell(out, af_rule_defs[r].code);
        fputs("` | ", out);
        cell(out, af_rule_defs[r].definition);
        fputs(" |\n", out);
    }
}

static void group_heading(FILE *out, const char *title, const char *definition)
{
    fprintf(out, "\n### %s\n\n%s\n\n| cause rule | cause | definition |\n| --- | --- | --- |\n",
            title, definition);
}

static void cause_rule_row(FILE *out, af_cause_rule r)
{
    fputs("| `", out);
    for (const char *p = af_cause_rule_defs[r].id; *p; p++)
        fputc(*p == '_' ? '-' : tolower((unsigned char)*p), out);
    fprintf(out, "` | %s | ", cause_label(af_cause_rule_defs[r].cause));
    cell(out, af_cause_rule_defs[r].definition);
    fputs(" |\n", out);
}

/* The cause rules, in table order under their group headings. */
static void render_cause_rules(FILE *out)
{
    fputs("\n## Cause rules\n\nHow each verdict gets its cause, by group: within a group, "
          "where two rules could apply the first listed wins. The rule's reason is the "
          "verdict's `cause_why`. An inherited rule passes on the cause another rule decided "
          "(a leak's, a deadlock's).\n",
          out);
#define AF_CAUSE_GROUP(title, definition) group_heading(out, title, definition);
#define AF_CAUSE_RULE(id, cause, definition) cause_rule_row(out, AF_CR_##id);
#include "base/oracles.def"
}

/* The contracts (conform's matrix) and the rules whose verdicts break each. */
static void render_contracts(FILE *out)
{
    fputs("\n## Contracts\n\nThe rows of `asyncfuzz conform`'s matrix (docs/VENDORS.md): a "
          "verdict breaks the contract its rule belongs to.\n\n| contract | definition | "
          "rules |\n| --- | --- | --- |\n",
          out);
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        fprintf(out, "| `%s` | ", af_contract_defs[k].name);
        cell(out, af_contract_defs[k].definition);
        fputs(" |", out);
        int n = 0;
        for (int r = 0; r < AF_RULE_COUNT; r++)
            if (af_contract_of_rule((af_rule)r) == (af_contract)k)
                fprintf(out, "%s`%s` %s", n++ ? ", " : " ", af_oracle_name(af_rule_defs[r].oracle),
                        af_rule_defs[r].code);
        fputs(" |\n", out);
    }
}

static void render(FILE *out)
{
    fputs("# Oracles, rules and causes\n\n"
          "<!-- Generated from base/oracles.def by tests/unit/test_oracle_table.c: edit the "
          "table, then run `AF_WRITE_ORACLES_DOC=1 build/test_oracle_table`. -->\n\n"
          "An oracle judges the trace of one run; a rule is one way it fires, and its code "
          "is the reason in the verdict's signature text, "
          "`<oracle>|<innermost asyncio primitive on the op path>|<code>[|<cause>]`, "
          "whose FNV-1a 64 hash deduplicates findings (oracles/verdict.c). Scenario files "
          "name oracles in `expect` (scenarios/SCHEMA.md).\n\n",
          out);
    render_causes(out);
    fputs("\n## Oracles and their rules\n", out);
    for (int o = 0; o < AF_ORACLE_COUNT; o++)
        render_oracle(out, (af_oracle)o);
    render_contracts(out);
    render_cause_rules(out);
}

static char *render_to_string(size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    assert_non_null(out);
    render(out);
    assert_int_equal(fclose(out), 0);
    return buf;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_doc_is_generated_from_table(void **state)
{
    (void)state;
    size_t len, have_len;
    char *want = render_to_string(&len);
    af_error err;
    if (getenv("AF_WRITE_ORACLES_DOC")) {
        assert_int_equal(af_write_file(DOC_PATH, want, len, &err), 0);
        fprintf(stderr, "wrote %s\n", DOC_PATH);
    }
    char *have = NULL;
    if (af_read_file(DOC_PATH, 1 << 20, &have, &have_len, &err) < 0)
        fail_msg("%s: %s", DOC_PATH, err.message);
    if (have_len != len || memcmp(have, want, len) != 0)
        fail_msg("%s differs from base/oracles.def: regenerate it with "
                 "AF_WRITE_ORACLES_DOC=1 build/test_oracle_table",
                 DOC_PATH);
    free(have);
    free(want);
}

static void test_names_and_codes_unique(void **state)
{
    (void)state;
    for (int a = 0; a < AF_ORACLE_COUNT; a++) {
        assert_int_equal(af_oracle_from_name(af_oracle_name((af_oracle)a)), a);
        assert_true(af_oracle_known(af_oracle_name((af_oracle)a)));
    }
    assert_null(af_oracle_names[AF_ORACLE_COUNT]);
    assert_false(af_oracle_known("no-such-oracle"));
    assert_int_equal(af_oracle_from_name(NULL), -1);
    for (int a = 0; a < AF_RULE_COUNT; a++)
        for (int b = a + 1; b < AF_RULE_COUNT; b++)
            if (af_rule_defs[a].oracle == af_rule_defs[b].oracle &&
                strcmp(af_rule_defs[a].code, af_rule_defs[b].code) == 0)
                fail_msg("rules %d and %d of %s share the code %s", a, b,
                         af_oracle_name(af_rule_defs[a].oracle), af_rule_defs[a].code);
    for (int k = 0; k < AF_CAUSE_COUNT; k++)
        assert_int_equal(af_cause_from_name(af_cause_name((af_cause)k)), k);
}

/* Every rule breaks exactly one contract (AF_CONTRACT_RULE rows). */
static void test_every_rule_has_a_contract(void **state)
{
    (void)state;
    int rows[AF_RULE_COUNT] = {0};
#define AF_CONTRACT_RULE(contract, rule) rows[AF_RULE_##rule]++;
#include "base/oracles.def"
    for (int r = 0; r < AF_RULE_COUNT; r++)
        if (rows[r] != 1)
            fail_msg("rule %s %s is in %d contract(s), not 1",
                     af_oracle_name(af_rule_defs[r].oracle), af_rule_defs[r].code, rows[r]);
}

/* af_judge runs an oracle exactly when it has rules to fire. */
static void test_judged_oracles_have_rules(void **state)
{
    (void)state;
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        int rules = 0;
        for (int r = 0; r < AF_RULE_COUNT; r++)
            rules += af_rule_defs[r].oracle == (af_oracle)o;
        if (af_oracle_defs[o].judged != (rules > 0))
            fail_msg("oracle %s: judged %d with %d rule(s)", af_oracle_name((af_oracle)o),
                     af_oracle_defs[o].judged, rules);
    }
}

/* The text of every oracles/ source file, concatenated. */
static char *oracle_sources(void)
{
    af_path_list files = {0};
    assert_int_equal(af_path_list_add_arg(&files, AF_SOURCE_DIR "/oracles", ".c"), 0);
    assert_true(files.count > 0);
    size_t total = 0;
    char *all = calloc(1, 1);
    for (size_t i = 0; i < files.count; i++) {
        char *text;
        size_t n;
        af_error err;
        if (af_read_file(files.paths[i], 1 << 22, &text, &n, &err) < 0)
            fail_msg("%s: %s", files.paths[i], err.message);
        all = realloc(all, total + n + 1);
        memcpy(all + total, text, n + 1);
        total += n;
        free(text);
    }
    af_path_list_free(&files);
    return all;
}

/* Every rule and cause rule of the table is applied in oracles/ (a rule
 * only the page knows would document nothing the code does). */
static void test_every_rule_is_applied(void **state)
{
    (void)state;
    static const char *const ids[] = {
#define AF_RULE(id, oracle, code, definition) "AF_RULE_" #id,
#define AF_CAUSE_RULE(id, cause, definition) "AF_CR_" #id,
#include "base/oracles.def"
    };
    char *src = oracle_sources();
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        size_t n = strlen(ids[i]);
        const char *p = src;
        int used = 0;
        while (!used && (p = strstr(p, ids[i])) != NULL) {
            used = !(p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9'));
            p += n;
        }
        if (!used)
            fail_msg("%s is in base/oracles.def but no oracle applies it", ids[i]);
    }
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_is_generated_from_table),
        cmocka_unit_test(test_names_and_codes_unique),
        cmocka_unit_test(test_judged_oracles_have_rules),
        cmocka_unit_test(test_every_rule_has_a_contract),
        cmocka_unit_test(test_every_rule_is_applied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
