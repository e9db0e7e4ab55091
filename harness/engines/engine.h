/* engine.h - the built-in coverage-guided fuzzing engine.
 *
 * For machines without libFuzzer or AFL++, and as the front door's default:
 *
 *   supervisor (this process: no interpreter, never runs an input)
 *     forks --jobs worker processes, each with its own interpreter
 *     (harness/engines/fuzz_target.h: decode with misuse off, run, judge, coverage);
 *     reads their counters from shared memory and prints ONE progress line;
 *     restarts a worker that died or stopped answering, after filing the
 *     input it was running as a `crash` / `hang` finding;
 *     stops them at --time / --runs / SIGINT / SIGTERM.
 *
 *   worker: the loop
 *     pick a corpus entry (bytes), decode it, mutate it (scenarios/mutate.h:
 *     structure-aware IR mutations, sometimes splicing another entry; now and
 *     then a byte-level mutation of the encoding instead), encode, copy the
 *     input into shared memory (so that it survives the worker), run it,
 *     keep it when its feature map (harness/engines/coverage.h semantic features and
 *     pycov.h Python line edges, bucketed like AFL's hit counts) has a
 *     feature no worker has seen (one union of features for the campaign,
 *     in shared memory); a verdict is a finding: filed in the
 *     findings store (reports/findings.h) before the next input runs, then
 *     minimised in the worker (scenarios/minimize.h, a small budget) and
 *     filed again when smaller. Known signatures are counted in memory and
 *     added to the store about once a second.
 *     Every few seconds a worker writes its new corpus entries to the corpus
 *     folder (named by content hash) and takes in the entries other workers
 *     wrote there, without running them (their features are in the union
 *     already; the seeds, at the start, are run).
 *
 *   statistics: with stats_dir, the supervisor writes AFL++'s fuzzer_stats
 *     and plot_data there every few seconds (afl-whatsup and afl-plot read
 *     them as they read afl-fuzz's).
 *
 * Misuse is off (implementation fuzzing): any verdict is a finding against
 * the target.
 */
#ifndef ASYNCFUZZ_ENGINE_H
#define ASYNCFUZZ_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/engines/fuzz_target.h"
#include "harness/options/options.h"
#include "scenarios/ir.h"

/* The engine's own narrow input, filled from the option table
 * (harness/options/options.def) by af_engine_options_from. */
typedef struct af_engine_options {
    const char *out_dir;    /* campaign folder: findings in OUT/findings */
    const char *corpus_dir; /* seeds, copied into OUT/corpus (NULL: none) */
    double max_time;        /* seconds, 0 = no limit */
    uint64_t max_runs;      /* inputs over all workers, 0 = no limit */
    int jobs;               /* worker processes (>= 1) */
    uint64_t seed;          /* 0: from the clock */
    int minimize_calls;     /* in-worker minimisation budget per new finding (0: off) */
    int max_len;            /* largest input kept, bytes */
    uint64_t max_findings;  /* stop once this many new signatures are filed (0: no limit) */
    const char *stop_on;    /* stop once a new finding's "oracle signature-text evidence"
                               contains this text (hunting one known defect); NULL: off */
    FILE *log;              /* progress and messages */
    const char *stats_dir;  /* the run's AFL++-format fuzzer_stats and plot_data
                               (reports/aflstats.h), OUT/stats/<run-id>; NULL: none */
    /* Each worker's fuzz target (fuzz_target.h): coverage kinds and check,
     * hang timeout (an input running longer kills its worker and is filed
     * as a hang), quiet (no progress line), budgets, target, reference... */
    af_fuzz_config fuzz;
} af_engine_options;

/* The builtin engine's longest input when --max-len is not given. */
#define AF_ENGINE_DEFAULT_MAX_LEN 4096

/* From the options of `asyncfuzz fuzz`. 0, or -1 with err set. */
int af_engine_options_from(af_engine_options *e, const af_options *o, FILE *log, af_error *err);

typedef struct af_engine_stats {
    uint64_t execs;
    double seconds;
    uint64_t features;            /* distinct features over all workers */
    uint64_t corpus;              /* largest worker corpus */
    uint64_t unique_findings;     /* signatures filed by this campaign (new to the store) */
    uint64_t total_findings;      /* runs that hit a finding (all signatures) */
    uint64_t crashes, hangs;      /* workers lost */
    uint64_t first_finding_execs; /* execs when the first finding was filed, 0 none */
    double first_finding_seconds;
    double stop_on_seconds; /* when the --stop-on finding was filed, 0 never */
    uint64_t stop_on_execs;
} af_engine_stats;

/* Run a campaign. Returns 0 (no finding), 1 (findings) or 2 (setup error,
 * err set: no interpreter, coverage counters that do not move, an unusable
 * folder). */
int af_engine_run(const af_engine_options *o, af_engine_stats *stats, af_error *err);

#endif
