/* test_options.c - the option table (harness/options/options.def) and what
 * is generated from it: the parser (every type, --name=value, --, bad
 * values with their messages), the environment read and written, each
 * command's --help list against what the command accepts, and the
 * Markdown tables of docs/ (blocks between `<!-- options: WHAT -->` and
 * `<!-- /options -->`).
 *
 *   test_options               the tests (ctest)
 *   test_options --write-docs  rewrite those blocks in the docs
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/file_io.h"
#include "harness/options/options.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif

static const char *const docs[] = {"docs/running.md", "docs/fuzzing.md", "docs/engines.md",
                                   "docs/REPORT.md"};

/* ---- helpers ---- */

/* Parse `args` (NULL-terminated, after the command name) for cmd into o;
 * the error message (or "") into msg. Returns the parser's result. */
static int parse(af_command_id cmd, af_options *o, char *msg, size_t cap, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)af_command(cmd)->name;
    va_list ap;
    va_start(ap, cap);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    static char *kept[32]; /* o->args points into argv: keep it alive */
    memcpy(kept, argv, sizeof argv);
    af_error err;
    memset(&err, 0, sizeof err);
    af_options_default(o);
    int rc = af_options_parse(o, cmd, argc, kept, &err);
    snprintf(msg, cap, "%s%s%s", err.path, err.path[0] ? ": " : "", err.message);
    return rc;
}

#define PARSE(cmd, o, msg, ...) parse(AF_CMD_##cmd, o, msg, sizeof msg, __VA_ARGS__, (char *)NULL)

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s' does not contain '%s'", text, part);
}

/* ---- the table ---- */

static void test_defaults_parse(void **state)
{
    (void)state;
    for (int id = 0; id < AF_OPT_COUNT; id++) {
        const af_option_info *in = af_option((af_option_id)id);
        if (!in->dflt)
            continue;
        af_options o;
        af_error err;
        memset(&o, 0, sizeof o);
        if (af_options_set(&o, (af_option_id)id, in->dflt, in->name, &err) != 0)
            fail_msg("default of --%s: %s", in->name, err.message);
    }
    af_options o;
    af_options_default(&o);
    for (int id = 0; id < AF_OPT_COUNT; id++)
        assert_null(o.text[id]); /* defaults are not "given" */
    /* the runner's defaults come through the table unchanged */
    af_runner_options from_table, runner;
    af_options_to_runner(&o, &from_table);
    af_runner_options_default(&runner);
    assert_int_equal(from_table.max_iterations, runner.max_iterations);
    assert_int_equal(from_table.max_vtime, runner.max_vtime);
    assert_true(from_table.watchdog_seconds == runner.watchdog_seconds);
    assert_int_equal(from_table.slow_ticks, runner.slow_ticks);
    assert_string_equal(from_table.target, "");
}

static void test_table_consistent(void **state)
{
    (void)state;
    for (int a = 0; a < AF_OPT_COUNT; a++) {
        const af_option_info *in = af_option((af_option_id)a);
        if ((in->type == AF_TYPE_FLAG) != (in->metavar == NULL))
            fail_msg("--%s: a metavar exactly when it takes a value", in->name);
        if ((in->type == AF_TYPE_ENUM || in->type == AF_TYPE_LIST) != (in->choices != NULL))
            fail_msg("--%s: choices exactly for ENUM and LIST", in->name);
        if (in->env && strncmp(in->env, "AF_", 3) != 0)
            fail_msg("--%s: variable %s is not AF_*", in->name, in->env);
        if (!in->commands && !in->env)
            fail_msg("--%s: neither a command nor a variable sets it", in->name);
        assert_true(in->min <= in->max && in->min_s <= in->max_s);
        assert_true(in->help && in->help[0]);
        for (int b = a + 1; b < AF_OPT_COUNT; b++) {
            const af_option_info *other = af_option((af_option_id)b);
            unsigned both = in->commands & other->commands;
            if (both && strcmp(in->name, other->name) == 0)
                fail_msg("--%s twice for one command", in->name);
            if (both && in->alias && in->alias == other->alias)
                fail_msg("-%c twice for one command", in->alias);
            if (in->env && other->env && strcmp(in->env, other->env) == 0)
                fail_msg("%s sets two options", in->env);
        }
    }
    /* every command that runs scenarios takes the budgets and --target */
    for (int c = 0; c < AF_CMD_COUNT; c++) {
        bool runs = (af_command((af_command_id)c)->flags & AF_CMDF_RUNS) != 0;
        assert_int_equal(af_option_takes((af_command_id)c, AF_OPT_max_vtime), runs);
        assert_int_equal(af_option_takes((af_command_id)c, AF_OPT_target), runs);
        assert_true(af_option_takes((af_command_id)c, AF_OPT_help));
        assert_true(af_option_takes((af_command_id)c, AF_OPT_version));
        assert_int_equal(af_command_find(af_command((af_command_id)c)->name), c);
    }
    assert_int_equal(af_command_find("nope"), -1);
}

/* ---- the parser ---- */

static void test_numbers(void **state)
{
    (void)state;
    af_options o;
    char msg[400];
    assert_int_equal(PARSE(gen, &o, msg, "--count", "42", "--seed", "0x10"), 0);
    assert_int_equal(o.count, 42);
    assert_int_equal(o.seed, 16);
    assert_string_equal(o.text[AF_OPT_seed], "0x10");
    assert_int_equal(PARSE(fuzz, &o, msg, "--seed", "0X1f"), 0);
    assert_int_equal(o.seed, 31);
    assert_int_equal(PARSE(gen, &o, msg, "--seed", "18446744073709551615"), 0);
    assert_true(o.seed == UINT64_MAX);
    assert_int_equal(PARSE(gen, &o, msg, "--seed", "0xffffffffffffffff"), 0);
    assert_true(o.seed == UINT64_MAX);
    /* strict: every one of these is refused, with option, value and range */
    const char *bad_counts[] = {" -1", "-1",   "1e3", "10abc", "",
                                "+1",  "0x10", "1 ",  "1.0",   "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
        assert_int_equal(PARSE(gen, &o, msg, "--count", bad_counts[i]), -1);
        assert_contains(msg, "--count: '");
        assert_contains(msg, bad_counts[i]);
        assert_contains(msg, "0..18446744073709551615");
    }
    const char *bad_seeds[] = {"0x", "0xg", "-0x1", "0x10000000000000000", "x10"};
    for (size_t i = 0; i < sizeof bad_seeds / sizeof *bad_seeds; i++) {
        assert_int_equal(PARSE(fuzz, &o, msg, "--seed", bad_seeds[i]), -1);
        assert_contains(msg, "decimal or 0x hex");
    }
    /* ranges from the table */
    assert_int_equal(PARSE(fuzz, &o, msg, "--jobs", "0"), -1);
    assert_string_equal(msg, "--jobs: '0' is not an integer in 1..256");
    assert_int_equal(PARSE(fuzz, &o, msg, "--jobs", "257"), -1);
    assert_int_equal(PARSE(fuzz, &o, msg, "--jobs", "256"), 0);
    assert_int_equal(o.jobs, 256);
    /* --max-len agrees between gen and fuzz */
    const af_command_id both[] = {AF_CMD_gen, AF_CMD_fuzz};
    for (size_t i = 0; i < 2; i++) {
        af_command_id c = both[i];
        assert_int_equal(parse(c, &o, msg, sizeof msg, "--max-len", "65536", (char *)NULL), 0);
        assert_int_equal(o.max_len, 65536);
        assert_int_equal(parse(c, &o, msg, sizeof msg, "--max-len", "65537", (char *)NULL), -1);
        assert_string_equal(msg, "--max-len: '65537' is not an integer in 1..65536");
    }
}

static void test_seconds(void **state)
{
    (void)state;
    af_options o;
    char msg[400];
    const char *good[] = {"1.5", ".5", "2.", "86400", "0.001"};
    const double want[] = {1.5, 0.5, 2.0, 86400, 0.001};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_int_equal(PARSE(run, &o, msg, "--watchdog", good[i]), 0);
        assert_true(o.watchdog == want[i]);
    }
    const char *bad[] = {"1e3", "-1", "inf", "nan", " 1", "0x1", ".", "", "0", "86401", "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(PARSE(run, &o, msg, "--watchdog", bad[i]), -1);
        assert_contains(msg, "is not a number of seconds in 0.001..86400");
    }
}

static void test_text_types(void **state)
{
    (void)state;
    af_options o;
    char msg[400];
    /* ENUM and LIST */
    assert_int_equal(PARSE(fuzz, &o, msg, "--engine", "afl", "--coverage", "python,semantic"), 0);
    assert_string_equal(o.engine, "afl");
    assert_string_equal(o.coverage, "python,semantic");
    assert_int_equal(PARSE(fuzz, &o, msg, "--engine", "aflpp"), -1);
    assert_string_equal(msg, "--engine: 'aflpp' is not builtin, libfuzzer or afl");
    assert_int_equal(PARSE(fuzz, &o, msg, "--coverage", "semantic,pyton"), -1);
    assert_contains(msg, "'pyton' in 'semantic,pyton'");
    assert_int_equal(PARSE(fuzz, &o, msg, "--coverage", "semantic,"), -1);
    /* DIR and FILE must exist; PATH and STRING must not be empty */
    assert_int_equal(PARSE(fuzz, &o, msg, "--corpus", "/no/such/dir"), -1);
    assert_string_equal(msg, "--corpus: '/no/such/dir': No such file or directory");
    assert_int_equal(PARSE(fuzz, &o, msg, "--corpus", AF_SOURCE_DIR "/README.md"), -1);
    assert_contains(msg, "is not a folder");
    assert_int_equal(PARSE(fuzz, &o, msg, "--corpus", AF_SOURCE_DIR "/corpus"), 0);
    assert_int_equal(PARSE(fuzz, &o, msg, "--dict", "/no/such.dict"), -1);
    assert_string_equal(msg, "--dict: '/no/such.dict': No such file or directory");
    assert_int_equal(PARSE(fuzz, &o, msg, "--dict", AF_SOURCE_DIR "/corpus"), -1);
    assert_contains(msg, "is not a regular file");
    assert_int_equal(PARSE(run, &o, msg, "--target", ""), -1);
    assert_string_equal(msg, "--target: empty value");
    /* targets up to PATH_MAX - 1 bytes: far past the old 64 and 256 */
    static char long_target[PATH_MAX + 1];
    memset(long_target, 'a', PATH_MAX - 1);
    assert_int_equal(PARSE(run, &o, msg, "--target", long_target), 0);
    af_runner_options r;
    af_options_to_runner(&o, &r);
    assert_int_equal(strlen(r.target), PATH_MAX - 1);
    long_target[PATH_MAX - 1] = 'a';
    assert_int_equal(PARSE(run, &o, msg, "--target", long_target), -1);
    assert_contains(msg, "longer than");
}

static void test_syntax(void **state)
{
    (void)state;
    af_options o;
    char msg[400];
    /* --name=value, --name value, -a value, flags, "-" and "--" */
    assert_int_equal(PARSE(repro, &o, msg, "--max-vtime=77", "-o", "out.py", "--no-asserts", "-",
                           "--", "--trace"),
                     0);
    assert_int_equal(o.max_vtime, 77);
    assert_string_equal(o.out_file, "out.py");
    assert_true(o.no_asserts);
    assert_int_equal(o.nargs, 2);
    assert_string_equal(o.args[0], "-");
    assert_string_equal(o.args[1], "--trace");
    assert_int_equal(PARSE(replay, &o, msg, "a.json", "--junit=x=y.xml", "b.json", "-v"), 0);
    assert_string_equal(o.junit, "x=y.xml");
    assert_true(o.verbose);
    assert_int_equal(o.nargs, 2);
    assert_string_equal(o.args[1], "b.json");
    /* the last one given wins */
    assert_int_equal(PARSE(gen, &o, msg, "--count", "1", "--count=2"), 0);
    assert_int_equal(o.count, 2);
    /* errors */
    assert_int_equal(PARSE(gen, &o, msg, "--quiet=1"), -1);
    assert_string_equal(msg, "--quiet: takes no value");
    assert_int_equal(PARSE(gen, &o, msg, "--count"), -1);
    assert_string_equal(msg, "--count: needs a value (N)");
    assert_int_equal(PARSE(run, &o, msg, "--bogus"), -1);
    assert_string_equal(msg, "unknown option '--bogus' for run");
    assert_int_equal(PARSE(run, &o, msg, "--seed=3"), -1);
    assert_string_equal(msg, "unknown option '--seed' for run (an option of gen, fuzz)");
    assert_int_equal(PARSE(show, &o, msg, "-q"), -1);
    assert_string_equal(msg, "unknown option '-q' for show (an option of gen, fuzz)");
    assert_int_equal(PARSE(show, &o, msg, "-bytes"), -1);
    assert_int_equal(PARSE(fuzz, &o, msg, "--findings", "x"), -1); /* the environment's only */
    assert_string_equal(msg, "unknown option '--findings' for fuzz");
}

/* ---- the environment ---- */

/* name=value in the environment: af_options_from_env fails with message. */
static void expect_env_error(const char *name, const char *value, const char *message)
{
    af_options o;
    af_error err;
    setenv(name, value, 1);
    af_options_default(&o);
    assert_int_equal(af_options_from_env(&o, &err), -1);
    assert_string_equal(err.path, name);
    assert_string_equal(err.message, message);
}

static void test_env(void **state)
{
    (void)state;
    af_options o;
    af_error err;
    setenv("AF_MAX_VTIME", "5", 1);
    setenv("AF_PURE_PYTHON", "1", 1);
    setenv("AF_TARGET", "", 1); /* empty: unset */
    setenv("AF_ORACLES", "hang,deadlock", 1);
    af_options_default(&o);
    assert_int_equal(af_options_from_env(&o, &err), 0);
    assert_int_equal(o.max_vtime, 5);
    assert_true(o.pure_python_tasks);
    assert_null(o.target);
    assert_string_equal(o.oracles, "hang,deadlock");
    /* the command line wins */
    char *argv[] = {"fuzz", "--max-vtime", "9", NULL};
    assert_int_equal(af_options_parse(&o, AF_CMD_fuzz, 3, argv, &err), 0);
    assert_int_equal(o.max_vtime, 9);
    /* bad values name the variable, value and range */
    expect_env_error("AF_MAX_VTIME", "0", "'0' is not an integer in 1..1099511627776");
    setenv("AF_MAX_VTIME", "5", 1);
    expect_env_error("AF_PURE_PYTHON", "yes", "'yes' is not 1 or 0");
    setenv("AF_PURE_PYTHON", "0", 1);
    af_options_default(&o);
    assert_int_equal(af_options_from_env(&o, &err), 0);
    assert_false(o.pure_python_tasks);
    unsetenv("AF_MAX_VTIME");
    unsetenv("AF_PURE_PYTHON");
    unsetenv("AF_TARGET");
    unsetenv("AF_ORACLES");
}

static void test_to_env(void **state)
{
    (void)state;
    af_options o;
    af_error err;
    setenv("AF_REFERENCE", "left over", 1);
    char *argv[] = {"fuzz", "--hang-timeout", "2.5", "--no-accel", "--target", "t.py", NULL};
    af_options_default(&o);
    assert_int_equal(af_options_parse(&o, AF_CMD_fuzz, 6, argv, &err), 0);
    assert_int_equal(af_options_set(&o, AF_OPT_keep_going, "1", "AF_KEEP_GOING", &err), 0);
    assert_int_equal(af_options_to_env(&o), 0);
    assert_string_equal(getenv("AF_HANG_TIMEOUT"), "2.5");
    assert_string_equal(getenv("AF_NO_ACCEL"), "1");
    assert_string_equal(getenv("AF_TARGET"), "t.py");
    assert_string_equal(getenv("AF_KEEP_GOING"), "1");
    assert_null(getenv("AF_REFERENCE")); /* not an option given: removed */
    assert_null(getenv("AF_MAX_VTIME"));
    /* and an engine binary reads back exactly these options */
    af_options back;
    af_options_default(&back);
    assert_int_equal(af_options_from_env(&back, &err), 0);
    assert_true(back.hang_timeout == 2.5 && back.no_accel && back.keep_going);
    assert_string_equal(back.target, "t.py");
    for (int id = 0; id < AF_OPT_COUNT; id++)
        if (af_option((af_option_id)id)->env)
            unsetenv(af_option((af_option_id)id)->env);
}

/* FILES (--baseline): repeatable, each an existing regular file; the
 * variable joins them with ':', the command line replaces the variable's. */
static void test_repeatable_files(void **state)
{
    (void)state;
    af_options o;
    af_error err;
    const char *a = AF_SOURCE_DIR "/baselines/asyncio-3.11.tsv";
    const char *b = AF_SOURCE_DIR "/baselines/targets.tsv";
    char joined[2048];
    snprintf(joined, sizeof joined, "%s:%s", a, b);
    setenv("AF_BASELINE", joined, 1);
    af_options_default(&o);
    assert_int_equal(af_options_from_env(&o, &err), 0);
    assert_int_equal(o.baseline.count, 2);
    assert_string_equal(o.baseline.joined, joined);
    /* the command line replaces the variable's files, and repeats */
    char *argv[] = {"fuzz", "--baseline", (char *)b, "--baseline", (char *)a, NULL};
    assert_int_equal(af_options_parse(&o, AF_CMD_fuzz, 5, argv, &err), 0);
    assert_int_equal(o.baseline.count, 2);
    snprintf(joined, sizeof joined, "%s:%s", b, a);
    assert_string_equal(o.baseline.joined, joined);
    /* to the engines' environment, from a copy of the options */
    af_options copy = o;
    assert_int_equal(af_options_to_env(&copy), 0);
    assert_string_equal(getenv("AF_BASELINE"), joined);
    /* a missing file, a folder, a path holding ':' */
    char *missing[] = {"fuzz", "--baseline", "/nonexistent.tsv", NULL};
    af_options_default(&o);
    assert_int_equal(af_options_parse(&o, AF_CMD_fuzz, 3, missing, &err), -1);
    assert_non_null(strstr(err.message, "/nonexistent.tsv"));
    char *folder[] = {"gen", "--python", AF_SOURCE_DIR, NULL};
    assert_int_equal(af_options_parse(&o, AF_CMD_gen, 3, folder, &err), -1);
    assert_non_null(strstr(err.message, "is not a regular file"));
    char *colon[] = {"gen", "--python", "a:b", NULL};
    assert_int_equal(af_options_parse(&o, AF_CMD_gen, 3, colon, &err), -1);
    assert_non_null(strstr(err.message, "':'"));
    unsetenv("AF_BASELINE");
}

/* ---- help ---- */

/* Whether `help` lists option `in` as a line of its own. */
static bool help_lists(const char *help, const af_option_info *in)
{
    char line[96];
    if (in->alias)
        snprintf(line, sizeof line, "\n  -%c, --%s", in->alias, in->name);
    else
        snprintf(line, sizeof line, "\n  --%s", in->name);
    for (const char *p = help; (p = strstr(p, line)); p++) {
        char after = p[strlen(line)];
        if (after == ' ' || after == '\n')
            return true;
    }
    return false;
}

static void test_help_lists_what_parses(void **state)
{
    (void)state;
    for (int c = 0; c < AF_CMD_COUNT; c++) {
        char *help = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&help, &len);
        fputc('\n', out);
        af_options_print_help(out, (af_command_id)c);
        fclose(out);
        for (int id = 0; id < AF_OPT_COUNT; id++) {
            const af_option_info *in = af_option((af_option_id)id);
            char arg[96], msg[400];
            snprintf(arg, sizeof arg, "--%s=1", in->name);
            af_options o;
            parse((af_command_id)c, &o, msg, sizeof msg, arg, (char *)NULL);
            bool accepted = strstr(msg, "unknown option") == NULL;
            bool listed = help_lists(help, in);
            bool takes = af_option_takes((af_command_id)c, (af_option_id)id);
            /* a same-named option of another command may be the one taken */
            if (!takes && accepted)
                continue;
            if (takes != listed || takes != accepted)
                fail_msg("%s --%s: takes %d, listed %d, accepted %d",
                         af_command((af_command_id)c)->name, in->name, takes, listed, accepted);
        }
        assert_true(strlen(help) > 0);
        free(help);
    }
}

static void test_help_format(void **state)
{
    (void)state;
    char *help = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&help, &len);
    af_options_print_help(out, AF_CMD_fuzz);
    fclose(out);
    assert_contains(help, "options:\n");
    assert_contains(help, "  --jobs N             worker processes (1..256; default 1)\n");
    assert_contains(help, "  -q, --quiet          ");
    assert_contains(help, "env AF_HANG_TIMEOUT"); /* fuzz reads the environment */
    for (const char *line = help; *line; line = strchr(line, '\n') + 1)
        assert_true(strcspn(line, "\n") <= 80);
    free(help);
    help = NULL;
    out = open_memstream(&help, &len);
    af_options_print_help(out, AF_CMD_run);
    fclose(out);
    assert_null(strstr(help, "env AF_")); /* run does not */
    free(help);
}

/* ---- docs ---- */

static char *read_all(const char *path)
{
    char *text = NULL;
    size_t len;
    af_error err;
    return af_read_file(path, AF_READ_MAX_BYTES, &text, &len, &err) == 0 ? text : NULL;
}

#define BLOCK_OPEN "<!-- options: "
#define BLOCK_CLOSE "<!-- /options -->"

/* `text` with every generated block made from the table; *blocks counts
 * them. NULL on a malformed block. */
static char *regenerate(const char *text, int *blocks)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    const char *p = text;
    *blocks = 0;
    for (const char *open; (open = strstr(p, BLOCK_OPEN));) {
        const char *what = open + strlen(BLOCK_OPEN);
        const char *what_end = strstr(what, " -->");
        const char *close = strstr(what, BLOCK_CLOSE);
        if (!what_end || !close || what_end > close) {
            fclose(out);
            free(buf);
            return NULL;
        }
        const char *body = what_end + strlen(" -->\n");
        fwrite(p, 1, (size_t)(body - p), out);
        char kind[64];
        snprintf(kind, sizeof kind, "%.*s", (int)(what_end - what), what);
        if (af_options_print_markdown(out, kind) < 0) {
            fclose(out);
            free(buf);
            return NULL;
        }
        (*blocks)++;
        p = close;
    }
    fputs(p, out);
    fclose(out);
    return buf;
}

static void test_docs_current(void **state)
{
    (void)state;
    int total = 0;
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", AF_SOURCE_DIR, docs[i]);
        char *text = read_all(path);
        assert_non_null(text);
        int blocks;
        char *fresh = regenerate(text, &blocks);
        if (!fresh)
            fail_msg("%s: a malformed `%s...` block", docs[i], BLOCK_OPEN);
        if (strcmp(text, fresh) != 0)
            fail_msg("%s: the option tables are out of date: run build/test_options "
                     "--write-docs",
                     docs[i]);
        total += blocks;
        free(text);
        free(fresh);
    }
    assert_true(total >= 3); /* budgets, fuzz's options, the engines' variables */
    assert_int_equal(af_options_print_markdown(stdout, "command:nope"), -1);
}

static int write_docs(void)
{
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", AF_SOURCE_DIR, docs[i]);
        char *text = read_all(path);
        int blocks;
        char *fresh = text ? regenerate(text, &blocks) : NULL;
        if (!fresh) {
            fprintf(stderr, "test_options: %s: unreadable or a malformed block\n", docs[i]);
            return 1;
        }
        FILE *f = fopen(path, "wb");
        if (!f || fputs(fresh, f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "test_options: cannot write %s\n", path);
            return 1;
        }
        printf("%s: %d block(s)\n", docs[i], blocks);
        free(text);
        free(fresh);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--write-docs") == 0)
        return write_docs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_parse),
        cmocka_unit_test(test_table_consistent),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_text_types),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_to_env),
        cmocka_unit_test(test_repeatable_files),
        cmocka_unit_test(test_help_lists_what_parses),
        cmocka_unit_test(test_help_format),
        cmocka_unit_test(test_docs_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
