/* fuzz_target.h - what every fuzz engine does with one input, shared by the
 * libFuzzer target (fuzz_libfuzzer.c), the AFL++ target (fuzz_afl.c) and
 * any in-process engine:
 *
 *   bytes --af_decode(misuse off)--> scenario --af_runner_run--> trace
 *         --af_judge--> verdicts; trace --coverage.h/pycov.h--> feature map
 *
 * and, on a verdict, the finding: filed FIRST in the findings store
 * (reports/findings.h) FINDINGS/<16-hex signature>/, deduplicated by
 * signature across runs and processes: a folder is built under a temporary
 * name and renamed into place, so exactly one process files a signature
 * and the folder is always complete; its scenario.json expects every
 * verdict of the run (the ones the filters below drop too), so it replays
 * green. A signature this process has filed is counted in memory and added
 * to the folder's count every 1000 hits and at exit. Opening the store
 * repairs what a killed process left in it. For a new signature a banner
 * goes to stderr:
 *
 *   asyncfuzz: FINDING <oracle> <16-hex signature> <signature text> <label>
 *     at <path> in task <name>, vtime <t>: <evidence>
 *     (one line per further verdict)
 *     finding: <dir>/
 *     replay:  asyncfuzz run <dir>/scenario.json
 *     repro:   python3.11 <dir>/repro.py
 *
 * where <label> is "[new]" or "[known gh-86296, fixed in 3.12]": whether the
 * signature is in a known-defect list (reports/baseline.h: the one shipped
 * for the target and Python version, and AF_BASELINE's files), which
 * meta.json's "baseline" records too; after which the engine aborts so that
 * it keeps the input as a crash.
 *
 * Configuration: af_fuzz_config, filled from the option table
 * (harness/options/options.def: names, ranges, defaults, variables). The
 * libFuzzer and AFL++ binaries own their argv and read the options from
 * the environment (af_fuzz_config_from_env: AF_COVERAGE, AF_FINDINGS,
 * AF_TARGET, AF_HANG_TIMEOUT, the budgets AF_MAX_ITERATIONS ...: docs/engines.md
 * lists them all); the built-in engine passes its own (engine.h).
 */
#ifndef ASYNCFUZZ_FUZZ_TARGET_H
#define ASYNCFUZZ_FUZZ_TARGET_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/engines/coverage.h"
#include "harness/options/options.h"
#include "harness/run/runner.h"
#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/findings.h"
#include "scenarios/ir.h"

typedef struct af_fuzz_config {
    /* Every option (harness/options/options.def), read where it is used:
     * o.quiet, o.keep_going, o.hang_timeout, o.min_features, o.reference ... */
    af_options o;
    /* Derived from o once: */
    af_runner_options run; /* budgets, Task flavour, accelerators, target ("" = stock asyncio) */
    unsigned coverage;     /* AF_COV_* bits of o.coverage */
    uint32_t oracles;      /* bit set of af_oracle that count as findings (o.oracles) */
    char findings_dir[1024];
    char engine[32];    /* "libfuzzer", "afl": used in the finding's origin */
    int map_precleared; /* the engine zeroes the map before each input
                           (libFuzzer's extra counters): skip our memset */
} af_fuzz_config;

/* From the options. 0, or -1 with err set on a bad value (an unknown
 * oracle in AF_ORACLES, a findings folder too long). */
int af_fuzz_config_from_options(af_fuzz_config *c, const af_options *o, const char *engine,
                                af_error *err);

/* The engine binaries': o gets the table's defaults, then the environment;
 * c is filled from it. 0, or -1 with err set (naming the variable). */
int af_fuzz_config_from_env(af_fuzz_config *c, af_options *o, const char *engine, af_error *err);

typedef enum af_fuzz_result {
    AF_FUZZ_OK = 0,        /* no verdict */
    AF_FUZZ_FINDING_NEW,   /* a signature never seen: written, banner printed */
    AF_FUZZ_FINDING_KNOWN, /* every verdict's signature already on disk: counted */
    AF_FUZZ_ERROR,         /* the harness failed (message printed) */
} af_fuzz_result;

typedef struct af_fuzz af_fuzz;

/* Initialise the interpreter and the runner (once per process). */
af_fuzz *af_fuzz_new(const af_fuzz_config *c, af_error *err);
void af_fuzz_free(af_fuzz *f);

/* Run one input: map[0..AF_COV_MAP_SIZE) is cleared and filled with the
 * enabled coverage kinds (map may be NULL: no coverage). Verdicts of
 * oracles outside c->oracles are dropped after they fed the coverage. With report != 0, verdicts
 * become findings (see above); with report == 0 they are only counted (AF_FUZZ_FINDING_KNOWN). */
af_fuzz_result af_fuzz_one(af_fuzz *f, const uint8_t *data, size_t size, uint8_t *map, int report);

/* The last run's scenario, trace and verdicts: its findings (what the
 * filters of the configuration keep), and every verdict it had. */
const af_scenario *af_fuzz_last_scenario(const af_fuzz *f);
const af_trace *af_fuzz_last_trace(const af_fuzz *f);
const af_verdict_list *af_fuzz_last_verdicts(const af_fuzz *f);
const af_verdict_list *af_fuzz_last_all_verdicts(const af_fuzz *f);

/* The findings store this instance files into (reports/findings.h), with
 * the table of the signatures it has met: an engine that files findings
 * itself (the built-in worker) files through it too. */
af_findings_store *af_fuzz_store(af_fuzz *f);
/* The known-defect lists its findings are labelled with. */
const af_baseline *af_fuzz_baseline(const af_fuzz *f);

/* The last run's finding an engine aborts on (crash_site.h): its first
 * verdict filed as a new signature, else (all filed before: a replayed
 * crash input) its first verdict no baseline knows, else its first; NULL
 * none. */
const af_verdict *af_fuzz_last_finding(const af_fuzz *f);
/* Its FINDING line when its signatures were all filed already (a replay
 * that aborts on every verdict): "asyncfuzz: FINDING ... (already filed)". */
void af_fuzz_print_known(const af_fuzz *f);
/* The last run as a record for the store (reports/findings.h): its
 * scenario, findings, every verdict, trace and target; the bytes it ran
 * and how it was found are the caller's. */
af_findings_record_in af_fuzz_last_record(const af_fuzz *f, const uint8_t *data, size_t size,
                                          const char *origin);

/* Counts since af_fuzz_new: inputs run, new findings, repeated findings. */
void af_fuzz_counts(const af_fuzz *f, uint64_t *runs, uint64_t *new_findings, uint64_t *known);

/* How an engine runs one input with its own crash / hang bookkeeping (the
 * built-in engine's workers, whose supervisor watches them): like
 * af_fuzz_one with report == 0. */
typedef af_fuzz_result (*af_fuzz_run_fn)(void *ctx, const uint8_t *data, size_t size, uint8_t *map);

/* The start-up check: run 32 fixed pseudo-random inputs and every regular
 * file in `paths` (files or folders, at most 1000 files), without
 * reporting, and count the distinct features of each enabled coverage
 * kind. Fails when a kind has fewer than c->o.min_features features or when
 * every input gave the same map (the counters do not move). On failure
 * `msg` explains what to do. Returns 0 (pass, or skipped by config) or -1.
 * A summary line goes to `log` unless NULL or quiet.
 * With watched == NULL the inputs run in a forked child: one that crashes
 * the interpreter, exits or hangs in C (AF_HANG_TIMEOUT) is filed as a
 * crash / hang finding and quarantined, and the check goes on from the next
 * input. With watched set (the caller's supervisor files such deaths
 * itself) they run in this process through watched(ctx, ...), which saves
 * the fork's start-up cost (~40 ms on this machine kind). */
int af_fuzz_check_coverage(af_fuzz *f, const char *const *paths, int npaths, af_fuzz_run_fn watched,
                           void *ctx, FILE *log, char *msg, size_t cap);

/* Campaign mode, crashes and hangs (harness/engines/flight.h). Not for replays:
 * a person replaying a crash input wants it to crash.
 *
 * af_fuzz_use_quarantine: load FINDINGS/.quarantine (inputs that killed a
 * process of a campaign: af_fuzz_one skips them, so a campaign does not
 * die on them again) and file the inputs of dead processes' flight
 * records (announced on log). Returns the number filed, -1 out of memory.
 *
 * af_fuzz_record_flight: from now on af_fuzz_one keeps its input in this
 * process's flight record. 0, or -1 with err set. */
int af_fuzz_use_quarantine(af_fuzz *f, FILE *log);
int af_fuzz_record_flight(af_fuzz *f, af_error *err);

/* A run that a KeyboardInterrupt / SystemExit of the target ended (the
 * scenario raises none: af_target_escape) is the target's death, not a
 * run: af_fuzz_one calls hook(ctx, exception type, the sentence saying so),
 * which must not return (the built-in engine's worker aborts through its
 * supervisor slot: a crash:SystemExit finding). Without a hook it prints
 * the sentence and aborts: the engines file the input as a crash
 * (crash:SIGABRT). */
typedef void (*af_fuzz_exit_hook)(void *ctx, const char *exc_type, const char *why);
void af_fuzz_on_target_exit(af_fuzz *f, af_fuzz_exit_hook hook, void *ctx);

#endif
