/* baseline.c - known-defect lists (baseline.h): parsing, the choice of the
 * shipped list, lookups and labels. Holds the lists it was given and
 * nothing else; must not print. */
#include "reports/baseline.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file_io.h"
#include "oracles/verdict.h"

/* The shipped table of which list a built-in target uses. */
#define TARGETS_TABLE "baselines/targets.tsv"

struct af_baseline {
    af_baseline_entry *entries;
    size_t n, cap;
    char **lines; /* the copies of the lines the entries point into */
    size_t nlines, lines_cap;
    char **lists; /* the lists' names, in order */
    size_t nlists, lists_cap;
};

af_baseline *af_baseline_new(af_error *err)
{
    af_baseline *b = calloc(1, sizeof *b);
    if (!b)
        af_error_set(err, "", "out of memory");
    return b;
}

void af_baseline_free(af_baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nlines; i++)
        free(b->lines[i]);
    for (size_t i = 0; i < b->nlists; i++)
        free(b->lists[i]);
    free(b->lines);
    free(b->lists);
    free(b->entries);
    free(b);
}

/* Append p to an array of pointers. 0 or -1 (out of memory). */
static int push(char ***items, size_t *n, size_t *cap, char *p)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        char **bigger = realloc(*items, c * sizeof *bigger);
        if (!bigger)
            return -1;
        *items = bigger;
        *cap = c;
    }
    (*items)[(*n)++] = p;
    return 0;
}

static bool is_hex16(const char *s)
{
    if (strlen(s) != 16)
        return false;
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A column: NULL for an absent one or for `none_word`. */
static const char *column(char **cols, int ncols, int i, const char *none_word)
{
    if (i >= ncols || !cols[i][0] || strcmp(cols[i], none_word) == 0)
        return NULL;
    return cols[i];
}

/* One line (a copy, owned from here on by b): 0, 1 (a comment or blank),
 * or -1 with err set. */
static int add_line(af_baseline *b, const char *list, char *line, int lineno, af_error *err)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = '\0';
    if (!len || line[0] == '#')
        return 1;
    char *cols[4]; /* the description (the last) keeps any further tab */
    int ncols = 0;
    for (char *p = line;;) {
        cols[ncols++] = p;
        char *tab = ncols < 4 ? strchr(p, '\t') : NULL;
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    const char *text = cols[0];
    bool hex = is_hex16(text);
    if (!hex && strchr(text, ' ')) { /* no signature text holds a space */
        af_error_set(err, "",
                     "%s: line %d: '%s' is neither a signature text (oracle|primitive|code, "
                     "crash:SIGNAL ...) nor 16 hex digits: columns are separated by tabs",
                     list, lineno, text);
        return -1;
    }
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 32;
        af_baseline_entry *bigger = realloc(b->entries, c * sizeof *bigger);
        if (!bigger) {
            af_error_set(err, "", "%s: out of memory", list);
            return -1;
        }
        b->entries = bigger;
        b->cap = c;
    }
    b->entries[b->n++] = (af_baseline_entry){.signature = hex ? strtoull(text, NULL, 16)
                                                              : af_hash64(text, strlen(text)),
                                             .text = hex ? "" : text,
                                             .issue = column(cols, ncols, 1, "none"),
                                             .fixed_in = column(cols, ncols, 2, "-"),
                                             .description = column(cols, ncols, 3, ""),
                                             .list = list};
    return 0;
}

int af_baseline_add_text(af_baseline *b, const char *name, const char *text, af_error *err)
{
    char *list = strdup(name);
    if (!list || push(&b->lists, &b->nlists, &b->lists_cap, list) < 0) {
        free(list);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    int lineno = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        lineno++;
        char *line = strndup(p, n);
        if (!line || push(&b->lines, &b->nlines, &b->lines_cap, line) < 0) {
            free(line);
            af_error_set(err, "", "out of memory");
            return -1;
        }
        if (add_line(b, list, line, lineno, err) < 0)
            return -1;
        p += n + (p[n] == '\n');
    }
    return 0;
}

int af_baseline_add_files(af_baseline *b, const char *paths, af_error *err)
{
    for (const char *p = paths; p && *p;) {
        size_t n = strcspn(p, ":");
        char path[4096];
        snprintf(path, sizeof path, "%.*s", (int)n, p);
        p += n + (p[n] == ':');
        if (!path[0])
            continue;
        char *text = NULL;
        size_t len = 0;
        af_error e;
        if (af_read_file(path, 16 << 20, &text, &len, &e) < 0) {
            af_error_set(err, "", "baseline %s: %s", path, e.message);
            return -1;
        }
        int rc = af_baseline_add_text(b, path, text, err);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const char *shipped(const char *name)
{
    for (const struct af_baseline_file *f = af_baseline_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f->text;
    return NULL;
}

/* Whether `text` is one of the comma-separated signature texts of `set`. */
static bool in_set(const char *set, const char *text)
{
    size_t n = strlen(text);
    for (const char *p = set; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, text, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* targets.tsv's row for target: the target whose list it uses and the
 * signatures left out ("" none). 0 found, -1 not. */
static int target_row(const char *target, char *uses, size_t ucap, char *left_out, size_t lcap)
{
    const char *table = shipped(TARGETS_TABLE);
    size_t tn = strlen(target);
    for (const char *p = table; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (p[0] != '#' && strncmp(p, target, tn) == 0 && p[tn] == '\t') {
            const char *u = p + tn + 1;
            size_t un = strcspn(u, "\t\n");
            snprintf(uses, ucap, "%.*s", (int)un, u);
            const char *l = u + un;
            l += *l == '\t';
            size_t ln = strcspn(l, "\t\n");
            snprintf(left_out, lcap, "%.*s", (int)ln, l);
            if (strcmp(left_out, "-") == 0)
                left_out[0] = '\0';
            return 0;
        }
        p += n + (p[n] == '\n');
    }
    return -1;
}

/* A list borrowed from another target (targets.tsv) holds that target's
 * signatures; the verdicts of a target that is not stock asyncio carry
 * "|@NAME" (oracles: af_verdicts_finish). Each entry from `from` on is
 * known under that signature too (a built-in adapter's NAME is its name).
 * Returns 1, or -1 with err set. */
static int add_target_signatures(af_baseline *b, size_t from, const char *target, af_error *err)
{
    size_t end = b->n;
    for (size_t i = from; i < end; i++) {
        if (!b->entries[i].text[0])
            continue; /* a hash only: no text to extend */
        size_t n = strlen(b->entries[i].text) + strlen(target) + 3;
        char *text = malloc(n);
        if (!text || push(&b->lines, &b->nlines, &b->lines_cap, text) < 0) {
            free(text);
            af_error_set(err, "", "baseline: out of memory");
            return -1;
        }
        snprintf(text, n, "%s|@%s", b->entries[i].text, target);
        if (b->n == b->cap) {
            size_t c = b->cap * 2;
            af_baseline_entry *bigger = realloc(b->entries, c * sizeof *bigger);
            if (!bigger) {
                af_error_set(err, "", "baseline: out of memory");
                return -1;
            }
            b->entries = bigger;
            b->cap = c;
        }
        af_baseline_entry e = b->entries[i];
        e.text = text;
        e.signature = af_hash64(text, strlen(text));
        b->entries[b->n++] = e;
    }
    return 1;
}

int af_baseline_add_shipped(af_baseline *b, const char *target, int pyversion, af_error *err)
{
    if (!target || !target[0])
        target = "asyncio";
    if (strchr(target, '/') || strstr(target, ".py"))
        return 0; /* an adapter file: its team's lists only */
    char name[256], uses[128] = "", left_out[1024] = "";
    snprintf(name, sizeof name, "baselines/%s-%d.%d.tsv", target, pyversion / 100, pyversion % 100);
    if (!shipped(name)) {
        if (target_row(target, uses, sizeof uses, left_out, sizeof left_out) < 0)
            return 0;
        snprintf(name, sizeof name, "baselines/%s-%d.%d.tsv", uses, pyversion / 100,
                 pyversion % 100);
    }
    const char *text = shipped(name);
    if (!text)
        return 0;
    size_t before = b->n;
    if (af_baseline_add_text(b, name, text, err) < 0)
        return -1;
    size_t kept = before;
    for (size_t i = before; i < b->n; i++)
        if (!left_out[0] || !in_set(left_out, b->entries[i].text))
            b->entries[kept++] = b->entries[i];
    b->n = kept;
    return uses[0] ? add_target_signatures(b, before, target, err) : 1;
}

af_baseline *af_baseline_load(const char *target, int pyversion, const char *paths, af_error *err)
{
    af_baseline *b = af_baseline_new(err);
    if (!b)
        return NULL;
    size_t before = 0;
    /* a user's list for a built-in target that is not stock asyncio names
     * its signatures with or without the "|@NAME" the verdicts carry */
    bool builtin = target && target[0] && strcmp(target, "asyncio") && !strchr(target, '/') &&
                   !strstr(target, ".py");
    if (af_baseline_add_shipped(b, target, pyversion, err) < 0 ||
        ((before = b->n), af_baseline_add_files(b, paths, err) < 0) ||
        (builtin && add_target_signatures(b, before, target, err) < 0)) {
        af_baseline_free(b);
        return NULL;
    }
    return b;
}

const af_baseline_entry *af_baseline_find(const af_baseline *b, uint64_t signature)
{
    for (size_t i = b ? b->n : 0; i-- > 0;) /* a later list wins */
        if (b->entries[i].signature == signature)
            return &b->entries[i];
    return NULL;
}

size_t af_baseline_count_lists(const af_baseline *b)
{
    return b ? b->nlists : 0;
}

const char *af_baseline_list_at(const af_baseline *b, size_t i)
{
    return b && i < b->nlists ? b->lists[i] : NULL;
}

void af_baseline_label(const af_baseline *b, uint64_t signature, char *buf, size_t cap)
{
    const af_baseline_entry *e = af_baseline_find(b, signature);
    if (!e)
        snprintf(buf, cap, "[new]");
    else if (e->issue && e->fixed_in)
        snprintf(buf, cap, "[known %s, fixed in %s]", e->issue, e->fixed_in);
    else if (e->issue)
        snprintf(buf, cap, "[known %s]", e->issue);
    else
        snprintf(buf, cap, "[known, no upstream issue]");
}
