/* campaign.h - a campaign folder's memory (docs/campaigns.md; the contract
 * with `asyncfuzz report` is CAMPAIGN_FORMAT): the settings recorded at its
 * first start (campaign.json), and one line per run of a command on it
 * (history.jsonl, append-only).
 *
 *   DIR/campaign.json   {"asyncfuzz_campaign": 1, "created": "...",
 *                        "settings": {"target", "reference", "engine",
 *                        "coverage", "misuse", "interpreter", "baselines"}}
 *   DIR/history.jsonl   {"run", "start", "end", "command", "engine",
 *                        "seconds", "execs", "execs_per_second", "features",
 *                        "corpus", "machine", "jobs", "exit", "signatures":
 *                        {"new": [...], "known": [...]}, "stats", ...}
 *
 * A run appends its line twice: at its start with "end": null, at its end
 * complete. Readers take the last line of each run id. A run killed before
 * its end leaves only the first; the next start on the same machine
 * completes it (af_campaign_repair) from what the run left: its statistics
 * (stats/<run-id>/fuzzer_stats) and the findings first filed while it ran.
 *
 * Lines are written with one write(2) on a file opened O_APPEND, so runs
 * of several processes (or machines, on a shared folder) interleave whole
 * lines. Must not run anything or judge anything: it records.
 */
#ifndef ASYNCFUZZ_CAMPAIGN_H
#define ASYNCFUZZ_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "reports/baseline.h"

/* The settings a campaign is defined by: a later start with other values
 * of the first six is refused. */
typedef struct af_campaign_settings {
    const char *target;          /* "asyncio", a built-in adapter's name, or an adapter file's
                                    absolute path */
    const char *reference;       /* NULL: none */
    const char *engine;          /* "builtin", "libfuzzer", "afl", "gen" */
    const char *coverage;        /* NULL for gen */
    bool misuse;                 /* gen --misuse */
    const char *interpreter;     /* "CPython 3.11.2" */
    const af_baseline *baseline; /* its lists' names are recorded, not compared */
} af_campaign_settings;

/* DIR/campaign.json: written when missing (*created set), else compared
 * with s. Returns 0 (the same, or created), 1 when settings differ (diff
 * receives "target: was asyncio, now planted_wait_for; engine: ...",
 * every difference), or -1 with err set (unreadable, not a campaign). */
int af_campaign_settings_check(const char *dir, const af_campaign_settings *s, bool *created,
                               char *diff, size_t cap, af_error *err);

/* Merging folders: `from`'s campaign.json becomes DIR's when DIR has
 * none; else their settings are compared as a resume's are. Returns 0
 * (the same, copied, or `from` has none), 1 when they differ (diff as
 * above, "was" being DIR's), -1 with err set. */
int af_campaign_settings_adopt(const char *dir, const char *from, char *diff, size_t cap,
                               af_error *err);

/* A set of signatures (sorted, no duplicates). */
typedef struct af_sigset {
    uint64_t *items;
    size_t n, cap;
} af_sigset;

int af_sigset_add(af_sigset *s, uint64_t sig); /* 0, or -1 out of memory */
bool af_sigset_has(const af_sigset *s, uint64_t sig);
void af_sigset_free(af_sigset *s);

/* One run of history.jsonl. */
typedef struct af_campaign_run {
    char run[64];   /* "<UTC start 20261207T183413Z>-<pid>" */
    char start[32]; /* ISO UTC */
    int64_t start_unix;
    char end[32];        /* "" while it runs (null) */
    const char *command; /* "fuzz", "gen" */
    const char *engine;
    char machine[256];
    int jobs;
    double seconds;
    uint64_t execs, features, corpus; /* features, corpus: 0 when the command has none */
    bool has_features;
    int exit; /* -1: null */
    af_sigset new_sigs, known_sigs;
    char stats[96];              /* "stats/<run-id>", "" none */
    const af_baseline *baseline; /* its lists' names go in "baselines" */
} af_campaign_run;

/* A run starting now in this process: run id, start, machine; the rest
 * zero. */
void af_campaign_run_init(af_campaign_run *r, const char *command, const char *engine, int jobs);

/* Append the run's line: at its start (end null) or at its end. */
int af_campaign_history_append(const char *dir, const af_campaign_run *r, af_error *err);

/* Complete the lines of runs killed before their end: runs of this
 * machine whose line has "end": null and whose process is gone. Their
 * figures come from stats/<run-id>/fuzzer_stats when it exists, their
 * signatures from the findings folders first seen during them (labelled
 * with b). One line on log per run completed. Returns how many, or -1
 * with err set. */
int af_campaign_repair(const char *dir, const af_baseline *b, FILE *log, af_error *err);

/* Every signature in the lines of runs other than `except_run` (new and
 * known). *runs receives how many such runs there are. 0 or -1. */
int af_campaign_history_seen(const char *dir, const char *except_run, af_sigset *out, size_t *runs,
                             af_error *err);

/* history.jsonl files merged into DIR/history.jsonl: every run id once (the
 * last line each file has for it; a complete line wins over an "end":
 * null one), ordered by start. Returns the number of runs written, or -1
 * with err set. */
int af_campaign_history_merge(const char *dir, const char *const *files, int nfiles, af_error *err);

#endif
