/* aflstats.c - AFL++'s fuzzer_stats and plot_data (aflstats.h). */
#include "reports/aflstats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"

#define PLOT_HEADER                                                                                \
    "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, "          \
    "map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found\n"

static double coverage_percent(const af_aflstats *s)
{
    return s->total_edges ? 100.0 * (double)s->edges_found / (double)s->total_edges : 0.0;
}

static int write_fuzzer_stats(const char *dir, const af_aflstats *s, af_error *err)
{
    char text[8192], path[4200];
    uint64_t corpus = s->corpus_count ? s->corpus_count : 1; /* afl-whatsup divides by it */
    int n = snprintf(text, sizeof text,
                     "start_time        : %" PRId64 "\n"
                     "last_update       : %" PRId64 "\n"
                     "run_time          : %.0f\n"
                     "fuzzer_pid        : %ld\n"
                     "cycles_done       : 0\n"
                     "cycles_wo_finds   : 0\n"
                     "execs_done        : %" PRIu64 "\n"
                     "execs_per_sec     : %.2f\n"
                     "execs_ps_last_min : %.2f\n"
                     "corpus_count      : %" PRIu64 "\n"
                     "corpus_favored    : 0\n"
                     "corpus_found      : %" PRIu64 "\n"
                     "corpus_imported   : 0\n"
                     "corpus_variable   : 0\n"
                     "max_depth         : 0\n"
                     "cur_item          : 0\n"
                     "pending_favs      : 0\n"
                     "pending_total     : %" PRIu64 "\n"
                     "stability         : 100.00%%\n"
                     "bitmap_cvg        : %.2f%%\n"
                     "saved_crashes     : %" PRIu64 "\n"
                     "saved_hangs       : %" PRIu64 "\n"
                     "last_find         : %" PRId64 "\n"
                     "last_crash        : %" PRId64 "\n"
                     "last_hang         : %" PRId64 "\n"
                     "execs_since_crash : 0\n"
                     "exec_timeout      : %.0f\n"
                     "slowest_exec_ms   : 0\n"
                     "peak_rss_mb       : 0\n"
                     "cpu_affinity      : -1\n"
                     "edges_found       : %" PRIu64 "\n"
                     "total_edges       : %" PRIu64 "\n"
                     "var_byte_count    : 0\n"
                     "havoc_expansion   : 0\n"
                     "auto_dict_entries : 0\n"
                     "testcache_size    : 0\n"
                     "testcache_count   : 0\n"
                     "testcache_evict   : 0\n"
                     "afl_banner        : %s\n"
                     "afl_version       : asyncfuzz\n"
                     "target_mode       : asyncfuzz\n"
                     "command_line      : %s\n",
                     s->start_unix, s->now_unix, s->run_seconds, s->fuzzer_pid, s->execs,
                     s->execs_per_sec, s->execs_last_min, corpus, s->corpus_found, corpus,
                     coverage_percent(s), s->saved_crashes, s->saved_hangs, s->last_find_unix,
                     s->last_crash_unix, s->last_hang_unix, s->hang_timeout_ms, s->edges_found,
                     s->total_edges, s->banner ? s->banner : "asyncfuzz",
                     s->command_line ? s->command_line : "");
    if (n < 0 || (size_t)n >= sizeof text)
        n = (int)strlen(text);
    snprintf(path, sizeof path, "%s/fuzzer_stats", dir);
    return af_write_file(path, text, (size_t)n, err);
}

static int append_plot(const char *dir, const af_aflstats *s, af_error *err)
{
    char path[4200], line[512];
    snprintf(path, sizeof path, "%s/plot_data", dir);
    bool fresh = access(path, F_OK) != 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        af_error_set(err, "", "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int n = snprintf(line, sizeof line,
                     "%s%.0f, 0, 0, %" PRIu64 ", %" PRIu64 ", 0, %.2f%%, %" PRIu64 ", %" PRIu64
                     ", 0, %.2f, %" PRIu64 ", %" PRIu64 "\n",
                     fresh ? PLOT_HEADER : "", s->run_seconds, s->corpus_count, s->corpus_count,
                     coverage_percent(s), s->saved_crashes, s->saved_hangs, s->execs_last_min,
                     s->execs, s->edges_found);
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    if (w != n) {
        af_error_set(err, "", "%s: cannot write", path);
        return -1;
    }
    return 0;
}

int af_aflstats_update(const char *dir, const af_aflstats *s, af_error *err)
{
    if (af_make_dirs(dir, err) < 0)
        return -1;
    return write_fuzzer_stats(dir, s, err) < 0 ? -1 : append_plot(dir, s, err);
}

void af_aflstats_start(af_aflstats_run *r, const char *dir, const char *banner,
                       uint64_t total_edges, double hang_timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->dir = dir && dir[0] ? dir : NULL;
    r->banner = banner;
    r->total_edges = total_edges;
    r->hang_timeout_ms = hang_timeout_ms;
    r->start_unix = (int64_t)time(NULL);
}

void af_aflstats_tick(af_aflstats_run *r, double seconds, uint64_t execs, uint64_t features,
                      uint64_t corpus, uint64_t crashes, uint64_t hangs, bool final)
{
    if (!r->dir || (!final && (execs == 0 || seconds - r->last_t < AF_AFLSTATS_EVERY)))
        return;
    int64_t now = (int64_t)time(NULL);
    if (!r->started) {
        r->corpus0 = r->corpus = corpus;
        r->started = true;
    }
    if (corpus > r->corpus)
        r->last_find = now;
    if (crashes > r->crashes)
        r->last_crash = now;
    if (hangs > r->hangs)
        r->last_hang = now;
    double dt = seconds - r->last_t;
    af_aflstats a = {.start_unix = r->start_unix,
                     .now_unix = now,
                     .run_seconds = seconds,
                     .fuzzer_pid = (long)getpid(),
                     .execs = execs,
                     .execs_per_sec = seconds > 0 ? (double)execs / seconds : 0,
                     /* a final tick right after the last one: the lifetime rate */
                     .execs_last_min = dt >= 1 && execs >= r->last_execs
                                           ? (double)(execs - r->last_execs) / dt
                                       : seconds > 0 ? (double)execs / seconds
                                                     : 0,
                     .corpus_count = corpus,
                     .corpus_found = corpus > r->corpus0 ? corpus - r->corpus0 : 0,
                     .saved_crashes = crashes,
                     .saved_hangs = hangs,
                     .last_find_unix = r->last_find,
                     .last_crash_unix = r->last_crash,
                     .last_hang_unix = r->last_hang,
                     .edges_found = features,
                     .total_edges = r->total_edges,
                     .hang_timeout_ms = r->hang_timeout_ms,
                     .banner = r->banner};
    af_error ignored;
    af_aflstats_update(r->dir, &a, &ignored);
    r->last_t = seconds;
    r->last_execs = execs;
    r->corpus = corpus;
    r->crashes = crashes;
    r->hangs = hangs;
}
