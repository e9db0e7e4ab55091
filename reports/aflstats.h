/* aflstats.h - AFL++'s statistics files, written for the runs afl-fuzz does
 * not make itself (the built-in engine; the libFuzzer front door from the
 * progress lines libFuzzer prints), so that afl-whatsup, afl-plot and
 * `asyncfuzz report` read every engine's runs the same way:
 *
 *   DIR/fuzzer_stats  "key : value" lines, AFL++ 4.x's keys (start_time,
 *                     last_update, run_time, fuzzer_pid, execs_done,
 *                     execs_per_sec, corpus_count, saved_crashes,
 *                     edges_found, bitmap_cvg, afl_banner ...), replaced
 *                     whole at each update;
 *   DIR/plot_data     AFL++ 4.x's header ("# relative_time, cycles_done,
 *                     cur_item, corpus_count, pending_total, pending_favs,
 *                     map_size, saved_crashes, saved_hangs, max_depth,
 *                     execs_per_sec, total_execs, edges_found") and one line
 *                     per update, appended.
 *
 * What asyncfuzz puts in AFL's words: edges_found / total_edges are
 * features and the feature map's size; corpus_count the corpus entries;
 * saved_crashes the signatures the run filed first (its unique findings),
 * saved_hangs the inputs lost to hangs; cycles, depth, favourites and
 * pending items, which the engines do not have, are 0 (pending_total is
 * the corpus, so afl-whatsup's ratios stay defined).
 * Must not read anything: it writes what it is given.
 */
#ifndef ASYNCFUZZ_AFLSTATS_H
#define ASYNCFUZZ_AFLSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef struct af_aflstats {
    int64_t start_unix;    /* the run's start */
    int64_t now_unix;      /* this update's time (last_update) */
    double run_seconds;    /* since the start */
    long fuzzer_pid;       /* the process to ask whether it still runs */
    uint64_t execs;        /* inputs run so far */
    double execs_per_sec;  /* lifetime */
    double execs_last_min; /* recent */
    uint64_t corpus_count;
    uint64_t corpus_found; /* entries added by this run */
    uint64_t saved_crashes, saved_hangs;
    int64_t last_find_unix, last_crash_unix, last_hang_unix; /* 0: none */
    uint64_t edges_found, total_edges;
    double hang_timeout_ms;
    const char *banner;       /* afl_banner: "asyncfuzz builtin" */
    const char *command_line; /* may be NULL */
} af_aflstats;

/* DIR/fuzzer_stats replaced, and one line appended to DIR/plot_data (its
 * header first when it is new); DIR is created. 0, or -1 with err set. */
int af_aflstats_update(const char *dir, const af_aflstats *s, af_error *err);

/* A run's statistics as it goes: the engine reports its figures often
 * (af_aflstats_tick), the files are updated every AF_AFLSTATS_EVERY
 * seconds and at the end, the times of the last new corpus entry, finding
 * and hang derived from the figures' changes. */
#define AF_AFLSTATS_EVERY 5.0
typedef struct af_aflstats_run {
    const char *dir; /* NULL: the run keeps no statistics */
    const char *banner;
    uint64_t total_edges;
    double hang_timeout_ms;
    int64_t start_unix;
    double last_t;
    uint64_t last_execs, corpus0, corpus, crashes, hangs;
    int64_t last_find, last_crash, last_hang;
    bool started;
} af_aflstats_run;

/* dir may be NULL (no statistics); the other strings must outlive r. */
void af_aflstats_start(af_aflstats_run *r, const char *dir, const char *banner,
                       uint64_t total_edges, double hang_timeout_ms);
/* The run's figures now (seconds since its start, inputs run, features,
 * corpus entries, signatures it filed first, hangs). Writes nothing before
 * the first input (afl-whatsup divides by execs_done) unless final.
 * Statistics never stop a run: a write error is ignored. */
void af_aflstats_tick(af_aflstats_run *r, double seconds, uint64_t execs, uint64_t features,
                      uint64_t corpus, uint64_t crashes, uint64_t hangs, bool final);

#endif
