/* engine.c - the built-in coverage-guided engine (engine.h). */
#include "harness/engines/engine.h"
#include "base/clock.h"
#include "base/hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file_io.h"
#include "base/hashset.h"
#include "harness/engines/coverage.h"
#include "harness/engines/flight.h"
#include "harness/engines/supervise.h"
#include "harness/engines/fuzz_target.h"
#include "reports/aflstats.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"
#include "scenarios/minimize.h"
#include "scenarios/mutate.h"

#define MAX_JOBS 256
#define INPUT_CAP 65536 /* the option --max-len at most */
#define WORKER_EXIT_COVERAGE 3
#define WORKER_EXIT_SETUP 4
_Static_assert(INPUT_CAP <= AF_SUP_INPUT_CAP, "a worker's input fits its supervisor slot");

/* One worker's counters, written by the worker, read by the supervisor. */
typedef struct worker_slot {
    /* phase, the input being run and when it started, why the worker
     * could not start (harness/engines/supervise.h) */
    af_sup_slot sup;
    _Atomic uint64_t execs;
    _Atomic uint32_t corpus;
    _Atomic uint64_t findings_new;   /* signatures this worker filed first */
    _Atomic uint64_t findings_total; /* runs with a finding */
} __attribute__((aligned(64))) worker_slot;

typedef struct shared {
    _Atomic int stop;
    _Atomic uint64_t first_finding_ns; /* monotonic, 0 none */
    _Atomic uint64_t first_finding_execs;
    _Atomic uint64_t stop_on_ns;
    uint64_t lost_new; /* crash / hang signatures new to the store (supervisor only) */
    _Atomic uint64_t stop_on_execs;
    uint64_t start_ns;
    uint8_t virgin[AF_COV_MAP_SIZE]; /* union of every worker's feature bits */
    worker_slot slots[];
} shared;

int af_engine_options_from(af_engine_options *e, const af_options *o, FILE *log, af_error *err)
{
    memset(e, 0, sizeof *e);
    e->out_dir = o->out_dir;
    e->corpus_dir = o->corpus_dir;
    e->max_time = o->max_time;
    e->max_runs = o->max_runs;
    e->jobs = (int)o->jobs;
    e->seed = o->seed;
    e->minimize_calls = (int)o->minimize_calls;
    e->max_len = o->max_len ? (int)o->max_len : AF_ENGINE_DEFAULT_MAX_LEN;
    e->max_findings = o->max_findings;
    e->stop_on = o->stop_on;
    e->log = log ? log : stderr;
    return af_fuzz_config_from_options(&e->fuzz, o, "builtin", err);
}

/* ---- feature maps ---- */

static uint8_t bucket_bit[256];

static void init_buckets(void)
{
    for (int c = 0; c < 256; c++) {
        /* coarser than AFL's eight classes: the semantic features count
         * events, and finer classes grow the corpus by thousands of
         * entries a second without finding more */
        int b = c <= 1 ? 0 : c <= 3 ? 1 : c <= 15 ? 2 : 3;
        bucket_bit[c] = c == 0 ? 0 : (uint8_t)(1u << b);
    }
}

/* Merge map into the campaign's union of features, which every worker
 * shares: returns the number of (counter, bucket) features that no worker
 * had seen. One union rather than one per worker: an input that is new to
 * the campaign is kept by the worker that ran it, and the others take it
 * from the corpus folder without running it again (sync_corpus). */
static int merge_features(uint8_t *global, const uint8_t *map)
{
    int fresh = 0;
    const uint64_t *w = (const uint64_t *)map;
    for (size_t k = 0; k < AF_COV_MAP_SIZE / 8; k++) {
        if (!w[k])
            continue;
        for (size_t i = k * 8; i < k * 8 + 8; i++) {
            uint8_t bit = bucket_bit[map[i]];
            if (bit && !(__atomic_load_n(&global[i], __ATOMIC_RELAXED) & bit) &&
                !(__atomic_fetch_or(&global[i], bit, __ATOMIC_RELAXED) & bit))
                fresh++;
        }
    }
    return fresh;
}

static uint64_t count_bits(const uint8_t *m, size_t n)
{
    uint64_t c = 0;
    const uint64_t *w = (const uint64_t *)m;
    for (size_t k = 0; k < n / 8; k++)
        c += (uint64_t)__builtin_popcountll(__atomic_load_n(&w[k], __ATOMIC_RELAXED));
    return c;
}

/* ---- the worker ---- */

typedef struct entry {
    uint8_t *data;
    uint32_t len;
    uint64_t hash;
} entry;

typedef struct worker {
    const af_engine_options *o;
    shared *sh;
    worker_slot *slot;
    int index;
    af_fuzz *fuzz;
    af_rng rng;
    char findings_dir[2048];
    char corpus_dir[2048];
    uint8_t *map;
    entry *corpus;
    size_t ncorpus, corpus_cap;
    size_t nwritten;          /* corpus entries already in the folder */
    af_hashset known;         /* content hashes of entries and of folder files seen */
    af_findings_store *store; /* the findings store, with this worker's signatures */
    uint64_t max_runs;
    uint64_t last_flush_ns, last_sync_ns;
    af_scenario s, donor, cand;
    uint8_t buf[INPUT_CAP];
    /* minimisation */
    uint64_t min_sig;
    int max_len;
    /* length control (libFuzzer's -len_control): mutants longer than
     * cur_max are not run; cur_max grows while coverage stalls */
    size_t cur_max;
    uint64_t last_new_exec;
} worker;

/* Run one input with the crash / hang bookkeeping in shared memory. */
static af_fuzz_result run_input(worker *w, const uint8_t *data, size_t len, uint8_t *map)
{
    worker_slot *sl = w->slot;
    if (len > INPUT_CAP)
        len = INPUT_CAP;
    af_sup_step_begin(&sl->sup, atomic_load_explicit(&sl->execs, memory_order_relaxed), NULL, data,
                      len);
    af_fuzz_result r = af_fuzz_one(w->fuzz, data, len, map, 0);
    af_sup_step_end(&sl->sup);
    atomic_fetch_add_explicit(&sl->execs, 1, memory_order_relaxed);
    return r;
}

/* run_input for the start-up coverage check (af_fuzz_run_fn). */
static af_fuzz_result check_input(void *ctx, const uint8_t *data, size_t len, uint8_t *map)
{
    return run_input(ctx, data, len, map);
}

/* Corpus files: named by content hash and created exclusively (a name
 * never changes content); not fsync'd and not renamed into place: the
 * corpus is a cache, and a file cut short is just another input. */
static void write_corpus_file(worker *w, const entry *e)
{
    char path[2200];
    snprintf(path, sizeof path, "%s/%016" PRIx64, w->corpus_dir, e->hash);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, e->data, e->len) != (ssize_t)e->len) {
        /* a short corpus file is harmless */
    }
    close(fd);
}

static void corpus_add(worker *w, const uint8_t *data, size_t len, uint64_t h)
{
    if (w->ncorpus == w->corpus_cap) {
        size_t cap = w->corpus_cap ? w->corpus_cap * 2 : 256;
        entry *c = realloc(w->corpus, cap * sizeof *c);
        if (!c)
            return;
        w->corpus = c;
        w->corpus_cap = cap;
    }
    entry *e = &w->corpus[w->ncorpus];
    e->data = malloc(len ? len : 1);
    if (!e->data)
        return;
    memcpy(e->data, data, len);
    e->len = (uint32_t)len;
    e->hash = h;
    w->ncorpus++;
    (void)af_hashset_add(&w->known, h);
    atomic_store_explicit(&w->slot->corpus, (uint32_t)w->ncorpus, memory_order_relaxed);
}

/* ---- findings in the worker ---- */

/* The counts of known signatures, kept in memory, to their folders. */
static void flush_counts(worker *w)
{
    af_error ignored;
    af_findings_flush(w->store, &ignored);
    w->last_flush_ns = af_clock_ns();
}

static bool minimize_pred(const af_scenario *cand, void *ctx)
{
    worker *w = ctx;
    size_t len = 0;
    if (af_encode(cand, false, w->buf, sizeof w->buf, &len, NULL) != 0)
        return false;
    af_fuzz_result r = run_input(w, w->buf, len, NULL);
    if (r == AF_FUZZ_ERROR)
        return false;
    return af_verdict_list_has_signature(af_fuzz_last_verdicts(w->fuzz), w->min_sig);
}

static FILE *logf_(const worker *w)
{
    return w->o->log;
}

static void announce(worker *w, const af_verdict *v)
{
    char dir[AF_FINDINGS_SIG_DIR_CAP], label[160];
    af_findings_sig_dir(w->store, v->signature, dir, sizeof dir);
    af_baseline_label(af_fuzz_baseline(w->fuzz), v->signature, label, sizeof label);
    FILE *log = logf_(w);
    fprintf(log,
            "\nasyncfuzz: FINDING %s %016" PRIx64 " %s %s\n  at %s in task %s, vtime %" PRId64
            ": %s\n  finding: %s/\n",
            af_oracle_name(v->oracle), v->signature, v->signature_text, label,
            v->path[0] ? v->path : "-", v->task_name[0] ? v->task_name : "-", v->vtime, v->evidence,
            dir);
    fflush(log);
}

static uint64_t total_execs(const worker *w)
{
    uint64_t total = 0;
    for (int k = 0; k < w->o->jobs; k++)
        total += atomic_load(&w->sh->slots[k].execs);
    return total;
}

/* A signature new to the store: the campaign's first finding and --stop-on
 * are noted. Returns true when the campaign is to stop. */
static bool new_finding(worker *w, const af_verdict *v)
{
    atomic_fetch_add_explicit(&w->slot->findings_new, 1, memory_order_relaxed);
    uint64_t zero = 0;
    if (atomic_compare_exchange_strong(&w->sh->first_finding_ns, &zero, af_clock_ns()))
        atomic_store(&w->sh->first_finding_execs, total_execs(w));
    announce(w, v);
    const char *on = w->o->stop_on;
    if (!on || !(strstr(af_oracle_name(v->oracle), on) || strstr(v->signature_text, on) ||
                 strstr(v->evidence, on)))
        return false;
    uint64_t z = 0;
    if (atomic_compare_exchange_strong(&w->sh->stop_on_ns, &z, af_clock_ns()))
        atomic_store(&w->sh->stop_on_execs, total_execs(w));
    atomic_store(&w->sh->stop, 1);
    return true;
}

/* Shrink the run s of a new signature while the worker knows it, and offer
 * the result to the store, which keeps whichever is smaller. */
static void minimize_finding(worker *w, const af_scenario *s, uint64_t sig, const char *origin)
{
    static af_scenario out;
    w->min_sig = sig;
    af_minimize_stats st = {.max_calls = w->o->minimize_calls};
    if (af_minimize(s, minimize_pred, w, &out, &st) != 0 || st.accepted == 0)
        return;
    size_t mlen = 0;
    static uint8_t mbuf[INPUT_CAP];
    if (af_encode(&out, false, mbuf, sizeof mbuf, &mlen, NULL) != 0 ||
        run_input(w, mbuf, mlen, NULL) == AF_FUZZ_ERROR)
        return;
    const af_verdict_list *mv = af_fuzz_last_verdicts(w->fuzz);
    int primary = -1;
    for (int k = 0; k < mv->count && primary < 0; k++)
        if (mv->items[k].signature == sig)
            primary = k;
    if (primary < 0)
        return;
    char morigin[160];
    snprintf(morigin, sizeof morigin, "%s, minimised (%d -> %d ops)", origin, st.ops_before,
             st.ops_after);
    af_findings_record_in m = af_fuzz_last_record(w->fuzz, mbuf, mlen, morigin);
    m.primary = primary;
    af_error err;
    if (af_findings_file_one(w->store, &m, &err) == AF_FINDINGS_ERROR)
        fprintf(logf_(w), "\nasyncfuzz: cannot file a minimised finding: %s\n", err.message);
}

/* The last run had findings: to the store before anything else (a new
 * signature, or with the store's refile_smaller a smaller run of a known
 * one; the others are counted in memory), then announced and minimised. */
static void file_findings(worker *w, const uint8_t *data, size_t len)
{
    const af_verdict_list *vl = af_fuzz_last_verdicts(w->fuzz);
    if (vl->count == 0)
        return;
    atomic_fetch_add_explicit(&w->slot->findings_total, 1, memory_order_relaxed);
    char origin[96];
    snprintf(origin, sizeof origin, "builtin worker %d, run %" PRIu64, w->index,
             atomic_load(&w->slot->execs));
    af_findings_record_in in = af_fuzz_last_record(w->fuzz, data, len, origin);
    af_findings_filed filed[AF_MAX_VERDICTS];
    af_error err;
    int n = af_findings_file_run(w->store, &in, filed, AF_MAX_VERDICTS, &err);
    if (n < 0) {
        fprintf(logf_(w), "\nasyncfuzz: cannot file a finding: %s\n", err.message);
        return;
    }
    uint64_t fresh[AF_MAX_VERDICTS];
    int nfresh = 0;
    for (int i = 0; i < n && i < AF_MAX_VERDICTS; i++) {
        if (filed[i].result != AF_FINDINGS_NEW)
            continue;
        if (new_finding(w, &vl->items[filed[i].verdict]))
            return; /* no minimisation: the campaign ends */
        fresh[nfresh++] = vl->items[filed[i].verdict].signature;
    }
    if (nfresh == 0 || w->o->minimize_calls <= 0)
        return;
    /* minimising runs other inputs: the run's scenario is copied first */
    static af_scenario run;
    run = *af_fuzz_last_scenario(w->fuzz);
    for (int k = 0; k < nfresh; k++)
        minimize_finding(w, &run, fresh[k], origin);
}

/* ---- the corpus folder ---- */

/* Take in every file of the corpus folder this worker has not seen. The
 * first time (initial: the seeds) each is run, for its features and its
 * findings, and kept; later, the files are other workers' new entries,
 * whose features are in the shared union already: they are kept without
 * being run again. With initial, an empty folder seeds the empty input. */
static void sync_corpus(worker *w, bool initial)
{
    /* our own new entries first */
    for (; w->nwritten < w->ncorpus; w->nwritten++)
        write_corpus_file(w, &w->corpus[w->nwritten]);
    DIR *d = opendir(w->corpus_dir);
    if (d) {
        struct dirent *de;
        char path[2400];
        while ((de = readdir(d)) && !atomic_load_explicit(&w->sh->stop, memory_order_relaxed)) {
            if (de->d_name[0] == '.')
                continue;
            uint64_t nh = af_fnv64_nonzero((const uint8_t *)de->d_name, strlen(de->d_name)) ^
                          0x5a5a5a5a5a5a5a5aull;
            if (af_hashset_has(&w->known, nh))
                continue;
            (void)af_hashset_add(&w->known, nh);
            snprintf(path, sizeof path, "%s/%s", w->corpus_dir, de->d_name);
            char *data = NULL;
            size_t len = 0;
            af_error err;
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > w->max_len)
                continue;
            if (af_read_file(path, (size_t)w->max_len, &data, &len, &err) != 0)
                continue;
            uint64_t h = af_fnv64_nonzero((const uint8_t *)data, len);
            if (!af_hashset_has(&w->known, h)) {
                af_fuzz_result r = AF_FUZZ_OK;
                if (initial) { /* a seed: run for its features and findings */
                    r = run_input(w, (const uint8_t *)data, len, w->map);
                    if (r != AF_FUZZ_ERROR)
                        merge_features(w->sh->virgin, w->map);
                }
                if (r != AF_FUZZ_ERROR) {
                    corpus_add(w, (const uint8_t *)data, len, h);
                    w->nwritten = w->ncorpus; /* it is in the folder already */
                }
                if (r == AF_FUZZ_FINDING_KNOWN)
                    file_findings(w, (const uint8_t *)data, len);
            }
            free(data);
        }
        closedir(d);
    }
    if (w->ncorpus == 0) {
        /* the empty input: the empty scenario */
        run_input(w, (const uint8_t *)"", 0, w->map);
        merge_features(w->sh->virgin, w->map);
        corpus_add(w, (const uint8_t *)"", 0, af_fnv64_nonzero((const uint8_t *)"", 0));
    }
    w->last_sync_ns = af_clock_ns();
}

/* ---- the loop ---- */

static const entry *pick(worker *w)
{
    size_t n = w->ncorpus;
    if (n > 8 && af_rng_below(&w->rng, 4) == 0) /* favour recent finds */
        return &w->corpus[n - 1 - af_rng_below(&w->rng, 8)];
    const entry *a = &w->corpus[af_rng_below(&w->rng, (uint32_t)n)];
    if (af_rng_below(&w->rng, 2) == 0) { /* and small ones: they run fast */
        const entry *b = &w->corpus[af_rng_below(&w->rng, (uint32_t)n)];
        if (b->len < a->len)
            a = b;
    }
    return a;
}

static void fuzz_one(worker *w)
{
    const entry *e = pick(w);
    size_t len = 0;
    if (e->len > 0 && af_rng_below(&w->rng, 10) == 0) {
        /* byte level: the decoder makes any result a scenario */
        memcpy(w->buf, e->data, e->len);
        len = af_mutate_bytes(w->buf, e->len, (size_t)w->max_len, &w->rng);
    } else {
        af_decode(e->data, e->len, false, &w->s);
        af_mutate_options mo = {.allow_misuse = false};
        if (w->ncorpus > 1 && af_rng_below(&w->rng, 4) == 0) {
            const entry *d = pick(w);
            af_decode(d->data, d->len, false, &w->donor);
            mo.donor = &w->donor;
        }
        af_mutate(&w->s, &mo, &w->rng, NULL);
        if (af_encode(&w->s, false, w->buf, sizeof w->buf, &len, NULL) != 0)
            return;
    }
    uint64_t execs = atomic_load_explicit(&w->slot->execs, memory_order_relaxed);
    if (execs - w->last_new_exec > 2000 && w->cur_max < (size_t)w->max_len) {
        w->cur_max += w->cur_max / 4 + 8;
        if (w->cur_max > (size_t)w->max_len)
            w->cur_max = (size_t)w->max_len;
        w->last_new_exec = execs;
    }
    if (len > w->cur_max)
        return;
    uint64_t h = af_fnv64_nonzero(w->buf, len);
    af_fuzz_result r = run_input(w, w->buf, len, w->map);
    if (r == AF_FUZZ_ERROR)
        return;
    int fresh = merge_features(w->sh->virgin, w->map);
    if (fresh > 0 && !af_hashset_has(&w->known, h)) {
        corpus_add(w, w->buf, len, h);
        w->last_new_exec = execs;
    }
    if (r == AF_FUZZ_FINDING_KNOWN) {
        static uint8_t copy[INPUT_CAP];
        memcpy(copy, w->buf, len);
        file_findings(w, copy, len);
    }
}

static volatile sig_atomic_t worker_term;
static void on_worker_term(int sig)
{
    (void)sig;
    worker_term = 1;
}

/* A worker that cannot start says so in its slot (af_sup_child_fail:
 * the phase FAILED, the reason in its note) before it exits: the
 * supervisor reads the phase, never the exit status, which a target's own
 * exit() may share. */

/* af_fuzz_exit_hook: the worker ends, its supervisor files the input. */
static void target_exited(void *ctx, const char *exc_type, const char *why)
{
    worker_slot *sl = ctx;
    af_sup_child_abort(&sl->sup, WORKER_EXIT_SETUP, exc_type, "%s", why);
}

static int worker_main(shared *sh, int index, const af_engine_options *o, uint64_t seed,
                       bool restarted)
{
    signal(SIGINT, SIG_IGN); /* the supervisor decides when to stop */
    signal(SIGTERM, on_worker_term);
    worker_slot *sl = &sh->slots[index];
    static worker w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.sh = sh;
    w.slot = sl;
    w.index = index;
    w.max_len = o->max_len > 0 && o->max_len <= INPUT_CAP ? o->max_len : AF_ENGINE_DEFAULT_MAX_LEN;
    w.cur_max = w.max_len < 48 ? (size_t)w.max_len : 48;
    af_rng_seed(&w.rng, seed);
    snprintf(w.findings_dir, sizeof w.findings_dir, "%s/findings", o->out_dir);
    if (o->corpus_dir)
        snprintf(w.corpus_dir, sizeof w.corpus_dir, "%s", o->corpus_dir);
    else
        snprintf(w.corpus_dir, sizeof w.corpus_dir, "%s/corpus", o->out_dir);
    w.map = aligned_alloc(64, AF_COV_MAP_SIZE);
    if (!w.map) {
        return af_sup_child_fail(&sl->sup, WORKER_EXIT_SETUP, "out of memory");
    }
    memset(w.map, 0, AF_COV_MAP_SIZE);
    init_buckets();

    af_fuzz_config cfg = o->fuzz;
    af_error err;
    memset(&err, 0, sizeof err);
    cfg.o.keep_going = 1;
    cfg.o.quiet = index != 0 || o->fuzz.o.quiet;
    snprintf(cfg.findings_dir, sizeof cfg.findings_dir, "%s", w.findings_dir);
    af_sup_loading(&sl->sup, "starting the interpreter and loading the target adapter");
    w.fuzz = af_fuzz_new(&cfg, &err);
    if (!w.fuzz)
        return af_sup_child_fail(&sl->sup, WORKER_EXIT_SETUP, "cannot start the interpreter: %s",
                                 err.message);
    af_sup_loaded(&sl->sup);
    /* a target that exits (SystemExit out of the loop): a crash finding */
    af_fuzz_on_target_exit(w.fuzz, target_exited, sl);
    /* the worker files a smaller run of a known signature again */
    w.store = af_fuzz_store(w.fuzz);
    af_findings_refile_smaller(w.store, true);
    /* inputs that killed a worker are filed and not run again */
    if (af_fuzz_use_quarantine(w.fuzz, o->log) < 0) {
        return af_sup_child_fail(&sl->sup, WORKER_EXIT_SETUP, "out of memory for the quarantine");
    }
    if (index == 0 && !restarted && !cfg.o.no_coverage_check && cfg.coverage != 0) {
        char msg[1024] = "";
        const char *paths[1] = {w.corpus_dir};
        /* in this process, through run_input: the supervisor files an
         * input that kills the worker, as during the campaign */
        if (af_fuzz_check_coverage(w.fuzz, paths, 1, check_input, &w,
                                   o->fuzz.o.quiet ? NULL : o->log, msg, sizeof msg) < 0) {
            return af_sup_child_fail(&sl->sup, WORKER_EXIT_COVERAGE, "%s", msg);
        }
    }
    if (o->max_runs)
        w.max_runs = (o->max_runs + (uint64_t)o->jobs - 1) / (uint64_t)o->jobs;
    sync_corpus(&w, true);
    /* one worker: the folder is only for the next campaign, so write it
     * rarely (creating files is slow on some file systems); several: they
     * share new entries through it */
    uint64_t sync_every = (uint64_t)(o->jobs > 1 ? 2000 + 250 * index : 10000) * 1000000ull;
    while (!worker_term && !atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        if (w.max_runs && atomic_load_explicit(&sl->execs, memory_order_relaxed) >= w.max_runs)
            break;
        fuzz_one(&w);
        if ((atomic_load_explicit(&sl->execs, memory_order_relaxed) & 63) == 0) {
            uint64_t t = af_clock_ns();
            if (t - w.last_flush_ns > 1000000000ull)
                flush_counts(&w);
            if (t - w.last_sync_ns > sync_every)
                sync_corpus(&w, false);
        }
    }
    flush_counts(&w);
    for (; w.nwritten < w.ncorpus; w.nwritten++)
        write_corpus_file(&w, &w.corpus[w.nwritten]);
    fflush(NULL);
    /* skip interpreter finalisation: nothing left to flush there */
    af_sup_child_exit(&sl->sup, 0);
}

/* ---- the supervisor ---- */

static volatile sig_atomic_t stop_requested;
static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct sup_worker {
    pid_t pid;
    int restarts;
    uint64_t seed;
} sup_worker;

typedef struct worker_args {
    shared *sh;
    int index;
    const af_engine_options *o;
    uint64_t seed;
    bool restarted;
} worker_args;

static int worker_child(af_sup_slot *slot, void *ctx)
{
    (void)slot;
    const worker_args *a = ctx;
    return worker_main(a->sh, a->index, a->o, a->seed, a->restarted);
}

static pid_t spawn_worker(shared *sh, int i, const af_engine_options *o, uint64_t seed,
                          bool restarted)
{
    worker_args a = {.sh = sh, .index = i, .o = o, .seed = seed, .restarted = restarted};
    return af_sup_spawn(&sh->slots[i].sup, worker_child, &a);
}

/* File the input a lost worker was running as a crash or hang finding
 * (the death d), quarantined (harness/engines/supervise.h). */
static void file_lost(shared *sh, int i, const af_engine_options *o, const af_sup_death *d,
                      FILE *log)
{
    char findings[2048];
    snprintf(findings, sizeof findings, "%s/findings", o->out_dir);
    af_sup_filing filing = {.findings_dir = findings,
                            .engine = "builtin",
                            .target = o->fuzz.run.target,
                            .origin = "builtin supervisor",
                            .quarantine = true,
                            .hang_seconds = o->fuzz.o.hang_timeout,
                            .log = log};
    af_sup_filed filed;
    af_error err;
    memset(&err, 0, sizeof err);
    if (af_sup_file_death(&filing, d, &sh->slots[i].sup, &filed, &err) < 0)
        fprintf(log, "\nasyncfuzz: cannot file the %s finding: %s\n",
                d->how == AF_SUP_HUNG ? "hang" : "crash", err.message);
    else if (filed.result == AF_FINDINGS_NEW) {
        sh->lost_new++;
        uint64_t zero = 0;
        if (atomic_compare_exchange_strong(&sh->first_finding_ns, &zero, af_clock_ns())) {
            uint64_t total = 0;
            for (int k = 0; k < o->jobs; k++)
                total += atomic_load(&sh->slots[k].execs);
            atomic_store(&sh->first_finding_execs, total);
        }
    }
    fflush(log);
}

/* A worker that could not start (the target adapter does not load, the
 * coverage check failed...): the campaign's setup error, in words. */
static void worker_lost(af_error *err, int i, const af_sup_death *d, const af_sup_slot *s,
                        const af_engine_options *o)
{
    char how[1200], where[1100];
    af_sup_describe(d, s, o->fuzz.o.hang_timeout, how, sizeof how);
    af_sup_where(d, s, where, sizeof where);
    if (d->how == AF_SUP_SETUP)
        af_error_set(err, "", "%s", how);
    else
        af_error_set(err, "", "worker %d %s %s", i, how, where);
}

static void gather(shared *sh, int jobs, af_engine_stats *st)
{
    st->execs = 0;
    st->corpus = 0;
    st->unique_findings = 0;
    st->total_findings = st->crashes + st->hangs;
    for (int i = 0; i < jobs; i++) {
        worker_slot *sl = &sh->slots[i];
        st->execs += atomic_load_explicit(&sl->execs, memory_order_relaxed);
        uint32_t c = atomic_load_explicit(&sl->corpus, memory_order_relaxed);
        if (c > st->corpus)
            st->corpus = c;
        st->unique_findings += atomic_load_explicit(&sl->findings_new, memory_order_relaxed);
        st->total_findings += atomic_load_explicit(&sl->findings_total, memory_order_relaxed);
    }
    st->unique_findings += sh->lost_new;
    st->features = count_bits(sh->virgin, AF_COV_MAP_SIZE);
    st->seconds = (double)(af_clock_ns() - sh->start_ns) / 1e9;
}

static void progress(FILE *log, const af_engine_stats *st, double rate, bool tty, bool final)
{
    char line[256];
    snprintf(line, sizeof line,
             "[builtin] %5.0fs  execs %" PRIu64 " (%.0f/s)  features %" PRIu64 "  corpus %" PRIu64
             "  findings %" PRIu64 "/%" PRIu64,
             st->seconds, st->execs, rate, st->features, st->corpus, st->unique_findings,
             st->total_findings);
    if (tty)
        fprintf(log, "\r%s\033[K%s", line, final ? "\n" : "");
    else
        fprintf(log, "%s\n", line);
    fflush(log);
}

/* Copies every regular file of `from` into `to` (existing names kept). */
static int copy_seeds(const char *from, const char *to, af_error *err)
{
    if (strcmp(from, to) == 0)
        return 0;
    DIR *d = opendir(from);
    if (!d) {
        af_error_set(err, "", "cannot read the corpus folder %s: %s", from, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", from, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
        struct stat st;
        if (stat(src, &st) != 0 || !S_ISREG(st.st_mode) || access(dst, F_OK) == 0)
            continue;
        char *data = NULL;
        size_t len = 0;
        if (af_read_file(src, INPUT_CAP, &data, &len, err) < 0) {
            rc = 0; /* an unreadable or oversized seed is skipped, not fatal */
            continue;
        }
        rc = af_write_file(dst, data, len, err);
        free(data);
    }
    closedir(d);
    return rc;
}

int af_engine_run(const af_engine_options *o, af_engine_stats *stats, af_error *err)
{
    af_engine_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    FILE *log = o->log ? o->log : stderr;
    int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    af_engine_options opts = *o;
    opts.jobs = jobs;
    opts.log = log;
    if (!opts.out_dir)
        opts.out_dir = ".";

    char findings[2048], corpus[2048];
    snprintf(findings, sizeof findings, "%s/findings", opts.out_dir);
    snprintf(corpus, sizeof corpus, "%s/corpus", opts.out_dir);
    if (af_mkdirs(findings, err) < 0 || af_mkdirs(corpus, err) < 0 ||
        af_findings_repair(findings, log, err) < 0) /* what a killed campaign left */
        return 2;
    /* --corpus holds seeds: copied into OUT/corpus, the working corpus the
     * workers write, so a seed folder under version control stays as is */
    if (opts.corpus_dir && copy_seeds(opts.corpus_dir, corpus, err) < 0)
        return 2;
    opts.corpus_dir = NULL;

    size_t shsize = sizeof(shared) + (size_t)jobs * sizeof(worker_slot);
    shared *sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        af_error_set(err, "", "cannot map shared memory: %s", strerror(errno));
        return 2;
    }
    memset(sh, 0, shsize);
    sh->start_ns = af_clock_ns();
    uint64_t seed = opts.seed ? opts.seed : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    sup_worker ws[MAX_JOBS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < jobs; i++) {
        ws[i].seed = seed * 1000003ull + (uint64_t)i;
        ws[i].pid = spawn_worker(sh, i, &opts, ws[i].seed, false);
    }
    bool tty = isatty(fileno(log));
    int rc = 0;
    int alive = jobs;
    af_aflstats_run sw; /* AFL++-format statistics, OUT/stats/<run-id> */
    af_aflstats_start(&sw, opts.stats_dir, "asyncfuzz builtin",
                      (uint64_t)AF_COV_MAP_SIZE * 4 /* four buckets a counter */,
                      opts.fuzz.o.hang_timeout * 1000);
    uint64_t last_print = af_clock_ns(), last_execs = 0;
    uint64_t stop_at = 0;
    double print_every = tty ? 1.0 : 5.0;
    bool setup_error = false;
    while (alive > 0) {
        usleep(20000);
        uint64_t t = af_clock_ns();
        double elapsed = (double)(t - sh->start_ns) / 1e9;
        if (!atomic_load(&sh->stop) &&
            (stop_requested || (opts.max_time > 0 && elapsed >= opts.max_time) ||
             (opts.max_runs && stats->execs >= opts.max_runs) ||
             (opts.max_findings && stats->unique_findings >= opts.max_findings))) {
            atomic_store(&sh->stop, 1);
            stop_at = t;
        }
        /* reap */
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int i = -1;
            for (int k = 0; k < jobs; k++)
                if (ws[k].pid == pid)
                    i = k;
            if (i < 0)
                continue;
            ws[i].pid = 0;
            worker_slot *sl = &sh->slots[i];
            af_sup_death d;
            int code = 0;
            bool finished = af_sup_classify(&sl->sup, status, &code, &d);
            /* at the end the supervisor stops workers with SIGTERM (and
             * SIGKILL if one does not stop): that is not the input's doing */
            bool stopped = !finished && atomic_load(&sh->stop) && d.how == AF_SUP_SIGNALED &&
                           (d.signal == SIGTERM || d.signal == SIGKILL);
            if (finished && code == 0) {
                alive--;
                continue;
            } else if (!finished && d.in_step && !stopped) {
                /* died in the middle of an input: by a signal, or by an
                 * exit() / os._exit() from the target's code */
                file_lost(sh, i, &opts, &d, log);
                stats->crashes++;
            } else if (!finished && !stopped &&
                       (d.how == AF_SUP_SETUP || d.phase == AF_SUP_STARTING ||
                        d.phase == AF_SUP_LOADING)) {
                /* the target adapter does not load: the same in every worker */
                worker_lost(err, i, &d, &sl->sup, &opts);
                setup_error = true;
                atomic_store(&sh->stop, 1);
                alive--;
                continue;
            }
            if (atomic_load(&sh->stop)) {
                alive--;
                continue;
            }
            ws[i].restarts++;
            ws[i].seed += 7919;
            ws[i].pid = spawn_worker(sh, i, &opts, ws[i].seed, true);
        }
        /* hangs: an input running longer than hang_timeout */
        for (int i = 0; i < jobs; i++) {
            if (ws[i].pid <= 0)
                continue;
            af_sup_death d;
            if (af_sup_overdue(&sh->slots[i].sup, t, opts.fuzz.o.hang_timeout, &d)) {
                kill(ws[i].pid, SIGKILL);
                waitpid(ws[i].pid, &status, 0);
                if (!d.in_step) { /* loading the target adapter never ends */
                    worker_lost(err, i, &d, &sh->slots[i].sup, &opts);
                    setup_error = true;
                    atomic_store(&sh->stop, 1);
                    ws[i].pid = 0;
                    alive--;
                    continue;
                }
                file_lost(sh, i, &opts, &d, log);
                stats->hangs++;
                if (atomic_load(&sh->stop)) {
                    ws[i].pid = 0;
                    alive--;
                } else {
                    ws[i].restarts++;
                    ws[i].seed += 7919;
                    ws[i].pid = spawn_worker(sh, i, &opts, ws[i].seed, true);
                }
            }
        }
        /* stragglers after a stop */
        if (stop_at && (double)(t - stop_at) / 1e9 > 5.0 + opts.fuzz.o.hang_timeout) {
            for (int i = 0; i < jobs; i++)
                if (ws[i].pid > 0)
                    kill(ws[i].pid, SIGKILL);
        }
        gather(sh, jobs, stats);
        af_aflstats_tick(&sw, stats->seconds, stats->execs, stats->features, stats->corpus,
                         stats->unique_findings, stats->hangs, false);
        if (!opts.fuzz.o.quiet && (double)(t - last_print) / 1e9 >= print_every) {
            double rate = (double)(stats->execs - last_execs) / ((double)(t - last_print) / 1e9);
            progress(log, stats, rate, tty, false);
            last_print = t;
            last_execs = stats->execs;
        }
    }
    gather(sh, jobs, stats);
    uint64_t ff = atomic_load(&sh->first_finding_ns);
    if (ff) {
        stats->first_finding_seconds = (double)(ff - sh->start_ns) / 1e9;
        stats->first_finding_execs = atomic_load(&sh->first_finding_execs);
    }
    uint64_t so = atomic_load(&sh->stop_on_ns);
    if (so) {
        stats->stop_on_seconds = (double)(so - sh->start_ns) / 1e9;
        stats->stop_on_execs = atomic_load(&sh->stop_on_execs);
    }
    if (!opts.fuzz.o.quiet)
        progress(log, stats, stats->seconds > 0 ? (double)stats->execs / stats->seconds : 0, tty,
                 true);
    af_aflstats_tick(&sw, stats->seconds, stats->execs, stats->features, stats->corpus,
                     stats->unique_findings, stats->hangs, true);
    af_findings_campaign campaign = {.command = "fuzz",
                                     .engine = "builtin",
                                     .seed = seed,
                                     .runs = stats->execs,
                                     .seconds = stats->seconds,
                                     .max_len = (size_t)(opts.max_len > 0 ? opts.max_len : 0),
                                     .new_signatures = stats->unique_findings,
                                     .stopped_by = stop_requested ? "signal" : NULL};
    af_error ignored;
    af_findings_summary_campaign(findings, &campaign, NULL, NULL, &ignored);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    munmap(sh, shsize);
    if (setup_error)
        return 2;
    rc = stats->total_findings > 0 ? 1 : 0;
    return rc;
}
