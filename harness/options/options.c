/* options.c - the option table (options.def) made into a parser, a help
 * printer, an environment reader and writer (options.h).
 *
 * Every behaviour here is generic over the table: no option is named in
 * this file. Numbers are strict: digits only (0x hex for U64), no sign, no
 * space, no exponent, no overflow; every value is range-checked. Nothing
 * here prints except the help and Markdown printers, to the stream given.
 */
#include "harness/options/options.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the tables ---- */

static const af_command_info commands[] = {
#define AF_COMMAND(name, flags, summary) {#name, flags, summary},
#include "harness/options/options.def"
};

#define RANGE(lo, hi) (uint64_t)(lo), (uint64_t)(hi), (double)(lo), (double)(hi), NULL
#define CHOICES(words) 0, 0, 0, 0, words
#define NO_RANGE 0, 0, 0, 0, NULL
#define C(cmd) AF_CMD_BIT(cmd)
#define RUNS AF_CMDS_RUNS
#define ALL AF_CMDS_ALL
#define ENV_ONLY 0u
static const af_option_info table[] = {
#define AF_OPTION(id, name, alias, type, range, dflt, metavar, env, commands, help)                \
    {name, alias, AF_TYPE_##type, range, dflt, metavar, env, commands, help},
#include "harness/options/options.def"
};
#undef RANGE
#undef CHOICES
#undef NO_RANGE
#undef C
#undef RUNS
#undef ALL
#undef ENV_ONLY

/* Where each option's value lives in af_options. */
static const size_t offsets[] = {
#define AF_OPTION(id, name, alias, type, range, dflt, metavar, env, commands, help)                \
    offsetof(af_options, id),
#include "harness/options/options.def"
};

/* The table in its order, sections included (for the help lists). */
typedef struct row {
    const char *section_id; /* a section heading, or NULL for an option */
    const char *title;
    int option;
} row;

static const row rows[] = {
#define AF_SECTION(id, title) {#id, title, -1},
#define AF_OPTION(id, name, alias, type, range, dflt, metavar, env, commands, help)                \
    {NULL, NULL, AF_OPT_##id},
#include "harness/options/options.def"
};

#define NROWS (sizeof rows / sizeof rows[0])

const af_command_info *af_command(af_command_id cmd)
{
    return &commands[cmd];
}

int af_command_find(const char *name)
{
    for (int c = 0; c < AF_CMD_COUNT; c++)
        if (strcmp(commands[c].name, name) == 0)
            return c;
    return -1;
}

const af_option_info *af_option(af_option_id id)
{
    return &table[id];
}

bool af_option_takes(af_command_id cmd, af_option_id id)
{
    return (table[id].commands & (1u << cmd)) != 0;
}

/* ---- values ---- */

static void *field(af_options *o, af_option_id id)
{
    return (char *)o + offsets[id];
}

/* Digits only, in base 10 or (hex_ok and a 0x prefix) 16, no overflow. */
static int parse_uint(const char *s, bool hex_ok, uint64_t *out)
{
    unsigned base = 10;
    if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

/* DIGITS[.DIGITS] or .DIGITS: no sign, exponent, hex, inf or nan. */
static int parse_seconds(const char *s, double *out)
{
    size_t int_digits = strspn(s, "0123456789"), frac_digits = 0;
    const char *p = s + int_digits;
    if (*p == '.') {
        frac_digits = strspn(p + 1, "0123456789");
        p += 1 + frac_digits;
    }
    if (*p || int_digits + frac_digits == 0)
        return -1;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

/* Whether `word` (n bytes) is one of the '|'-separated choices. */
static bool is_choice(const char *choices, const char *word, size_t n)
{
    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

/* "a, b or c" from "a|b|c". */
static void choices_text(const char *choices, char *buf, size_t cap)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (const char *p = choices; *p && pos < cap;) {
        size_t len = strcspn(p, "|");
        bool last = p[len] != '|';
        pos += (size_t)snprintf(buf + pos, cap - pos, "%s%.*s",
                                p == choices ? ""
                                : last       ? " or "
                                             : ", ",
                                (int)len, p);
        p += len + !last;
    }
}

static void range_text(const af_option_info *in, char *buf, size_t cap)
{
    if (in->type == AF_TYPE_SECONDS)
        snprintf(buf, cap, "%.15g..%.15g", in->min_s, in->max_s);
    else
        snprintf(buf, cap, "%" PRIu64 "..%" PRIu64, in->min, in->max);
}

static int check_path(const af_option_info *in, const char *label, const char *text, af_error *err)
{
    if (strlen(text) >= PATH_MAX) {
        af_error_set(err, label, "longer than %d bytes", PATH_MAX - 1);
        return -1;
    }
    if (in->type != AF_TYPE_DIR && in->type != AF_TYPE_FILE)
        return 0;
    struct stat st;
    if (stat(text, &st) != 0) {
        af_error_set(err, label, "'%s': %s", text, strerror(errno));
        return -1;
    }
    if (in->type == AF_TYPE_DIR && !S_ISDIR(st.st_mode)) {
        af_error_set(err, label, "'%s' is not a folder", text);
        return -1;
    }
    if (in->type == AF_TYPE_FILE && !S_ISREG(st.st_mode)) {
        af_error_set(err, label, "'%s' is not a regular file", text);
        return -1;
    }
    return 0;
}

static int check_words(const af_option_info *in, const char *label, const char *text, af_error *err)
{
    char want[256];
    choices_text(in->choices, want, sizeof want);
    if (in->type == AF_TYPE_ENUM) {
        if (is_choice(in->choices, text, strlen(text)))
            return 0;
        af_error_set(err, label, "'%s' is not %s", text, want);
        return -1;
    }
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        if (!is_choice(in->choices, p, len)) {
            af_error_set(err, label, "'%.*s' in '%s' is not %s (a comma-separated list)", (int)len,
                         p, text, want);
            return -1;
        }
        p += len;
        if (!*p)
            return 0;
    }
}

/* FILES: each ':'-separated file of text checked and appended. */
static int add_files(af_files *f, af_options *o, af_option_id id, const char *text,
                     const char *label, af_error *err)
{
    af_option_info one = table[id];
    one.type = AF_TYPE_FILE;
    for (const char *p = text;;) {
        size_t n = strcspn(p, ":");
        char path[PATH_MAX];
        if (n == 0) {
            af_error_set(err, label, "an empty path in '%s'", text);
            return -1;
        }
        if (n >= sizeof path) {
            af_error_set(err, label, "a path longer than %d bytes", PATH_MAX - 1);
            return -1;
        }
        snprintf(path, sizeof path, "%.*s", (int)n, p);
        size_t used = strlen(f->joined);
        if (check_path(&one, label, path, err) < 0)
            return -1;
        if (used + n + 2 > sizeof f->joined) {
            af_error_set(err, label, "too many files (at most %d bytes of paths)",
                         AF_FILES_CAP - 1);
            return -1;
        }
        snprintf(f->joined + used, sizeof f->joined - used, "%s%s", used ? ":" : "", path);
        f->count++;
        p += n;
        if (!*p++)
            break;
    }
    o->text[id] = f->joined;
    return 0;
}

int af_options_set(af_options *o, af_option_id id, const char *text, const char *label,
                   af_error *err)
{
    const af_option_info *in = &table[id];
    void *f = field(o, id);
    uint64_t u = 0;
    double d = 0;
    switch (in->type) {
    case AF_TYPE_FLAG:
        if (strcmp(text, "1") != 0 && strcmp(text, "0") != 0) {
            af_error_set(err, label, "'%s' is not 1 or 0", text);
            return -1;
        }
        *(bool *)f = text[0] == '1';
        break;
    case AF_TYPE_INT:
    case AF_TYPE_U64:
        if (parse_uint(text, in->type == AF_TYPE_U64, &u) < 0 || u < in->min || u > in->max) {
            char range[64];
            range_text(in, range, sizeof range);
            af_error_set(err, label, "'%s' is not an integer%s in %s", text,
                         in->type == AF_TYPE_U64 ? " (decimal or 0x hex)" : "", range);
            return -1;
        }
        *(uint64_t *)f = u;
        break;
    case AF_TYPE_SECONDS:
        if (parse_seconds(text, &d) < 0 || !(d >= in->min_s && d <= in->max_s)) {
            char range[64];
            range_text(in, range, sizeof range);
            af_error_set(err, label, "'%s' is not a number of seconds in %s", text, range);
            return -1;
        }
        *(double *)f = d;
        break;
    case AF_TYPE_FILES:
        return add_files((af_files *)f, o, id, text, label, err);
    default: /* the text types */
        if (!text[0]) {
            af_error_set(err, label, "empty value");
            return -1;
        }
        if ((in->type == AF_TYPE_ENUM || in->type == AF_TYPE_LIST)
                ? check_words(in, label, text, err) < 0
                : check_path(in, label, text, err) < 0)
            return -1;
        *(const char **)f = text;
        break;
    }
    o->text[id] = text;
    return 0;
}

void af_options_default(af_options *o)
{
    memset(o, 0, sizeof *o);
    for (int id = 0; id < AF_OPT_COUNT; id++) {
        const af_option_info *in = &table[id];
        /* every default parses: tests/unit/test_options.c checks it */
        if (in->dflt)
            (void)af_options_set(o, (af_option_id)id, in->dflt, in->name, NULL);
        o->text[id] = NULL;
    }
}

int af_options_from_env(af_options *o, af_error *err)
{
    for (int id = 0; id < AF_OPT_COUNT; id++) {
        const char *env = table[id].env;
        const char *v = env ? getenv(env) : NULL;
        if (v && *v && af_options_set(o, (af_option_id)id, v, env, err) < 0)
            return -1;
    }
    return 0;
}

int af_options_to_env(const af_options *o)
{
    for (int id = 0; id < AF_OPT_COUNT; id++) {
        const af_option_info *in = &table[id];
        if (!in->env)
            continue;
        const char *v = o->text[id];
        /* a flag given on the command line has no text of its own */
        if (in->type == AF_TYPE_FLAG && v)
            v = ((const bool *)((const char *)o + offsets[id]))[0] ? "1" : "0";
        /* files: the field's own copy (o may be a copy of the struct text points into) */
        if (in->type == AF_TYPE_FILES) {
            const af_files *f = (const af_files *)((const char *)o + offsets[id]);
            v = f->count ? f->joined : NULL;
        }
        if (v ? setenv(in->env, v, 1) : unsetenv(in->env))
            return -1;
    }
    return 0;
}

/* ---- the command line ---- */

/* The option `arg` names for cmd ("--name", "--name=...", "-a"), with the
 * inline value after '=' in *inline_value; -1 when it names none. */
static int find_option(af_command_id cmd, const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    if (arg[1] != '-') {
        for (int id = 0; arg[2] == '\0' && id < AF_OPT_COUNT; id++)
            if (table[id].alias == arg[1] && af_option_takes(cmd, (af_option_id)id))
                return id;
        return -1;
    }
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    for (int id = 0; id < AF_OPT_COUNT; id++)
        if (strlen(table[id].name) == len && strncmp(table[id].name, name, len) == 0 &&
            af_option_takes(cmd, (af_option_id)id)) {
            if (name[len] == '=')
                *inline_value = name + len + 1;
            return id;
        }
    return -1;
}

static void unknown_option(af_command_id cmd, const char *arg, af_error *err)
{
    size_t len = strcspn(arg, "=");
    char others[128] = "";
    size_t pos = 0;
    for (int c = 0; c < AF_CMD_COUNT; c++) {
        const char *ignored;
        if (c != (int)cmd && find_option((af_command_id)c, arg, &ignored) >= 0 &&
            pos < sizeof others)
            pos += (size_t)snprintf(others + pos, sizeof others - pos, "%s%s", pos ? ", " : "",
                                    commands[c].name);
    }
    if (others[0])
        af_error_set(err, "", "unknown option '%.*s' for %s (an option of %s)", (int)len, arg,
                     commands[cmd].name, others);
    else
        af_error_set(err, "", "unknown option '%.*s' for %s", (int)len, arg, commands[cmd].name);
}

int af_options_parse(af_options *o, af_command_id cmd, int argc, char **argv, af_error *err)
{
    int nargs = 0;
    bool options_ended = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (options_ended || arg[0] != '-' || arg[1] == '\0') {
            argv[1 + nargs++] = arg; /* 1 + nargs <= i: nothing unread is overwritten */
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_ended = true;
            continue;
        }
        const char *value;
        int id = find_option(cmd, arg, &value);
        if (id < 0) {
            unknown_option(cmd, arg, err);
            return -1;
        }
        char label[64];
        snprintf(label, sizeof label, "%.*s", (int)strcspn(arg, "="), arg);
        if (table[id].type == AF_TYPE_FLAG) {
            if (value) {
                af_error_set(err, label, "takes no value");
                return -1;
            }
            *(bool *)field(o, (af_option_id)id) = true;
            o->text[id] = arg;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                af_error_set(err, label, "needs a value (%s)", table[id].metavar);
                return -1;
            }
            value = argv[++i];
        }
        if (table[id].type == AF_TYPE_FILES) {
            af_files *f = field(o, (af_option_id)id);
            if (!f->from_argv) /* the command line wins over the environment */
                *f = (af_files){.from_argv = true};
            if (strchr(value, ':')) {
                af_error_set(err, label, "'%s': one file per %s (a path holding ':' is refused)",
                             value, label);
                return -1;
            }
        }
        if (af_options_set(o, (af_option_id)id, value, label, err) < 0)
            return -1;
    }
    o->args = argv + 1;
    o->nargs = nargs;
    return 0;
}

void af_options_to_runner(const af_options *o, af_runner_options *r)
{
    af_runner_options_default(r);
    r->max_iterations = (int64_t)o->max_iterations;
    r->max_vtime = (int64_t)o->max_vtime;
    r->watchdog_seconds = o->watchdog;
    r->slow_ticks = (int64_t)o->slow_ticks;
    r->pure_python_tasks = o->pure_python_tasks;
    r->no_accel = o->no_accel;
    r->tick_ms = (int)o->tick_ms;
    snprintf(r->target, sizeof r->target, "%s", o->target ? o->target : "");
}

/* ---- help and docs ---- */

/* A space the wrap never breaks at, printed as ' ' ("env VAR" is read,
 * and searched for, as one piece). */
#define HELP_GLUE '\x1f'

/* What the generator adds to an option's help: "(RANGE; CHOICES; default
 * D; env VAR)", the parts that apply. */
static void help_suffix(const af_option_info *in, bool with_default, bool with_env, char *buf,
                        size_t cap)
{
    char part[256];
    size_t pos = 0;
    buf[0] = '\0';
#define PART(...)                                                                                  \
    do {                                                                                           \
        snprintf(part, sizeof part, __VA_ARGS__);                                                  \
        if (pos < cap)                                                                             \
            pos += (size_t)snprintf(buf + pos, cap - pos, "%s%s", pos ? "; " : " (", part);        \
    } while (0)
    if (in->type == AF_TYPE_U64)
        PART("decimal or 0x hex");
    bool trivial = in->type != AF_TYPE_SECONDS && in->min == 0 && in->max == UINT64_MAX;
    if ((in->type == AF_TYPE_INT || in->type == AF_TYPE_U64 || in->type == AF_TYPE_SECONDS) &&
        !trivial) {
        char range[64];
        range_text(in, range, sizeof range);
        PART("%s", range);
    }
    if (in->type == AF_TYPE_FILES)
        PART("repeatable%s", in->env ? "; the variable joins them with ':'" : "");
    if (in->type == AF_TYPE_ENUM || in->type == AF_TYPE_LIST) {
        char words[200];
        choices_text(in->choices, words, sizeof words);
        PART("%s%s", in->type == AF_TYPE_LIST ? "comma-separated, each " : "", words);
    }
    if (with_default && in->dflt && in->type != AF_TYPE_FLAG)
        PART("default %s", in->dflt);
    if (with_env && in->env)
        PART("env%c%s", HELP_GLUE, in->env);
#undef PART
    if (pos && pos < cap)
        snprintf(buf + pos, cap - pos, ")");
}

#define HELP_COLUMN 23
#define HELP_WIDTH 80

/* s (n bytes) with HELP_GLUE printed as a space. */
static void print_glued(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(s[i] == HELP_GLUE ? ' ' : s[i], out);
    fputc('\n', out);
}

/* text from column HELP_COLUMN, wrapped at spaces to HELP_WIDTH. */
static void print_wrapped(FILE *out, const char *text)
{
    size_t width = HELP_WIDTH - HELP_COLUMN;
    while (*text) {
        size_t n = strlen(text);
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = strcspn(text, " ");
        }
        print_glued(out, text, n);
        text += n;
        while (*text == ' ')
            text++;
        if (*text)
            fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

/* "-o, --out FILE" or "--jobs N" or "--quiet". */
static void synopsis(const af_option_info *in, const char *sep, char *buf, size_t cap)
{
    char alias[8] = "";
    if (in->alias)
        snprintf(alias, sizeof alias, "-%c%s", in->alias, sep);
    snprintf(buf, cap, "%s--%s%s%s", alias, in->name, in->metavar ? " " : "",
             in->metavar ? in->metavar : "");
}

static void print_option_help(FILE *out, const af_option_info *in, bool with_env)
{
    char left[96], suffix[400], text[1200];
    synopsis(in, ", ", left, sizeof left);
    if (strlen(left) + 2 <= HELP_COLUMN - 2)
        fprintf(out, "  %-*s", HELP_COLUMN - 2, left);
    else
        fprintf(out, "  %s\n%*s", left, HELP_COLUMN, "");
    help_suffix(in, true, with_env, suffix, sizeof suffix);
    snprintf(text, sizeof text, "%s%s", in->help, suffix);
    print_wrapped(out, text);
}

void af_options_print_help(FILE *out, af_command_id cmd)
{
    const char *title = NULL;
    bool any = false;
    bool with_env = (commands[cmd].flags & AF_CMDF_ENV) != 0;
    for (size_t r = 0; r < NROWS; r++) {
        if (rows[r].section_id) {
            title = rows[r].title;
            continue;
        }
        af_option_id id = (af_option_id)rows[r].option;
        if (!af_option_takes(cmd, id))
            continue;
        if (title) {
            fprintf(out, "%s%s:\n", any ? "\n" : "", title);
            title = NULL;
        }
        print_option_help(out, &table[id], with_env);
        any = true;
    }
}

/* A table cell: `|` escaped. */
static void md_cell(FILE *out, const char *text)
{
    fputs(" ", out);
    for (; *text; text++) {
        if (*text == '|')
            fputc('\\', out);
        fputc(*text, out);
    }
    fputs(" |", out);
}

static void md_option_cell(FILE *out, const af_option_info *in)
{
    char syn[96], buf[128];
    synopsis(in, "`, `", syn, sizeof syn);
    snprintf(buf, sizeof buf, "`%s`", syn);
    md_cell(out, buf);
}

static void md_row(FILE *out, const af_option_info *in, bool env_first, bool with_env_column)
{
    char suffix[400], text[1200], env[64];
    help_suffix(in, false, false, suffix, sizeof suffix);
    snprintf(text, sizeof text, "%s%s", in->help, suffix);
    env[0] = '\0';
    if (in->env)
        snprintf(env, sizeof env, "`%s`", in->env);
    fputs("|", out);
    if (env_first)
        md_cell(out, env);
    if (!env_first || in->commands)
        md_option_cell(out, in);
    else
        md_cell(out, "");
    md_cell(out, in->dflt && in->type != AF_TYPE_FLAG ? in->dflt : "");
    if (with_env_column)
        md_cell(out, env);
    md_cell(out, text);
    fputs("\n", out);
}

int af_options_print_markdown(FILE *out, const char *what)
{
    int cmd = -1;
    const char *section = NULL;
    bool env = strcmp(what, "env") == 0;
    if (strncmp(what, "command:", 8) == 0 && (cmd = af_command_find(what + 8)) < 0)
        return -1;
    if (strncmp(what, "section:", 8) == 0)
        section = what + 8;
    if (cmd < 0 && !section && !env)
        return -1;
    if (env)
        fputs("| variable | option | default | meaning |\n| --- | --- | --- | --- |\n", out);
    else
        fputs("| option | default | variable | meaning |\n| --- | --- | --- | --- |\n", out);
    const char *current = NULL;
    int printed = 0;
    for (size_t r = 0; r < NROWS; r++) {
        if (rows[r].section_id) {
            current = rows[r].section_id;
            continue;
        }
        const af_option_info *in = &table[rows[r].option];
        bool wanted = env       ? in->env != NULL
                      : section ? current && strcmp(current, section) == 0
                                : af_option_takes((af_command_id)cmd, (af_option_id)rows[r].option);
        if (!wanted)
            continue;
        md_row(out, in, env, !env);
        printed++;
    }
    return printed ? 0 : -1;
}
