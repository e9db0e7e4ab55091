/* baseline.h - known-defect lists ("baselines"): the verdict signatures an
 * implementation is known to produce, each with its upstream issue, the
 * version that fixed it and one line of description. A finding whose
 * signature a list names is "known"; any other is "new". Every command that
 * files findings labels them with this (meta.json's "baseline", the
 * engines' FINDING lines), and a campaign exits 1 only on a new one.
 *
 * Where the lists come from:
 *   - shipped: baselines/<target>-<major.minor>.tsv, embedded in every
 *     binary at build time (cmake/embed_baselines.cmake), chosen by the
 *     target adapter and the embedded interpreter's version; a built-in
 *     adapter without a list of its own uses another's as
 *     baselines/targets.tsv says (asyncio_py: stock asyncio's), minus the
 *     signatures its own defect gives (planted_wait_for); an adapter file
 *     has no shipped list;
 *   - a team's own triage lists: --baseline FILE (repeatable; AF_BASELINE
 *     for the engine binaries, the files joined with ':').
 * A later list's line for a signature replaces an earlier one's.
 *
 * File format (baselines/README.md), one signature a line, tab-separated:
 *   signature-text<TAB>upstream-issue<TAB>fixed-in<TAB>description
 * "#" starts a comment line; upstream "none" when there is none, fixed-in
 * "-" when not fixed; the columns after the first may be left out. The
 * first column may also be the signature's 16 hex digits (summary.json's).
 *
 * Must not print, exit or read other files than the ones it is given.
 */
#ifndef ASYNCFUZZ_BASELINE_H
#define ASYNCFUZZ_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* One shipped list, embedded (af_baseline_files[], NULL-terminated). */
struct af_baseline_file {
    const char *name; /* "baselines/asyncio-3.11.tsv" */
    const char *text;
};
extern const struct af_baseline_file af_baseline_files[];

/* One line of a list. */
typedef struct af_baseline_entry {
    uint64_t signature;      /* FNV-1a 64 of the text (af_hash64) */
    const char *text;        /* the signature text; "" when the list gave only the hash */
    const char *issue;       /* "gh-86296"; NULL: "none" */
    const char *fixed_in;    /* "3.12"; NULL: "-" */
    const char *description; /* NULL: none */
    const char *list;        /* the list's name: a shipped list's, or the file's path */
} af_baseline_entry;

typedef struct af_baseline af_baseline;

/* An empty set of lists; NULL with err set when out of memory. */
af_baseline *af_baseline_new(af_error *err);
void af_baseline_free(af_baseline *b);

/* The shipped list of `target` (NULL, "" or "asyncio": stock asyncio; a
 * path: an adapter file, which has none) for Python `pyversion`
 * (major*100+minor). Returns 1 when a list was added, 0 when none ships,
 * -1 with err set. */
int af_baseline_add_shipped(af_baseline *b, const char *target, int pyversion, af_error *err);

/* The lines of `text`, a list called `name`. 0, or -1 with err set naming
 * the list and the line. */
int af_baseline_add_text(af_baseline *b, const char *name, const char *text, af_error *err);

/* Each file of `paths` ("a.tsv:b.tsv", the option's joined form; NULL or
 * "": none). 0, or -1 with err set. */
int af_baseline_add_files(af_baseline *b, const char *paths, af_error *err);

/* The shipped list of target and pyversion, then the files: what every
 * command and engine uses. NULL with err set. */
af_baseline *af_baseline_load(const char *target, int pyversion, const char *paths, af_error *err);

/* The line naming `signature`, or NULL (b may be NULL: none). */
const af_baseline_entry *af_baseline_find(const af_baseline *b, uint64_t signature);

/* The names of the lists, in the order they were added. */
size_t af_baseline_count_lists(const af_baseline *b);
const char *af_baseline_list_at(const af_baseline *b, size_t i);

/* The label of a signature for a FINDING line: "[known gh-86296, fixed in
 * 3.12]", "[known]", "[new]". */
void af_baseline_label(const af_baseline *b, uint64_t signature, char *buf, size_t cap);

#endif
