/* fuzz_target.c - one input through the pipeline, findings on disk
 * (fuzz_target.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/coverage.h"
#include "harness/embed.h"
#include "harness/file_io.h"
#include "harness/fuzz_target.h"
#include "harness/findings.h"
#include "harness/pycov.h"
#include "harness/runner.h"
#include "reports/finding.h"
#include "scenarios/bytes.h"

#define KNOWN_SLOTS 4096 /* power of two */
#define CHECK_RANDOM_INPUTS 32
#define CHECK_MAX_FILES 1000

struct af_fuzz {
    af_fuzz_config cfg;
    af_runner *runner;
    af_trace trace;
    af_verdict_list verdicts;
    af_runner *ref_runner; /* AF_REFERENCE, else NULL */
    af_trace ref_trace;
    af_verdict_list ref_verdicts;
    af_scenario scenario;
    uint64_t runs, new_findings, known_findings;
    uint64_t known[KNOWN_SLOTS];   /* signatures already on disk (0 = empty) */
    uint32_t pending[KNOWN_SLOTS]; /* hits not yet added to its hits file */
};

static af_fuzz *flush_at_exit; /* the instance whose counts atexit flushes */
static void flush_counts(af_fuzz *f);
static void flush_counts_at_exit(void);

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* A non-empty environment variable copied into dst (cap bytes, room
 * for a suffix when cap < sizeof dst): 0, or -1 with err when too long. */
static int env_string(const char *name, char *dst, size_t cap, const char *what, af_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    if (strlen(v) >= cap) {
        af_error_set(err, name, "%s too long", what);
        return -1;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

int af_fuzz_config_from_env(af_fuzz_config *c, const char *engine, af_error *err)
{
    memset(c, 0, sizeof *c);
    c->coverage = AF_COV_DEFAULT;
    snprintf(c->findings_dir, sizeof c->findings_dir, "findings");
    c->min_features = 16;
    snprintf(c->engine, sizeof c->engine, "%s", engine ? engine : "engine");

    const char *v = getenv("AF_COVERAGE");
    if (v && af_coverage_parse(v, &c->coverage) < 0) {
        af_error_set(err, "AF_COVERAGE",
                     "unknown coverage kind in '%s' (want semantic,python | semantic | "
                     "python | none)",
                     v);
        return -1;
    }
    if (env_string("AF_FINDINGS", c->findings_dir, sizeof c->findings_dir - 64, "path", err) < 0 ||
        env_string("AF_TARGET", c->target, sizeof c->target, "name", err) < 0 ||
        env_string("AF_REFERENCE", c->reference, sizeof c->reference, "name", err) < 0)
        return -1;
    c->pure_python = env_flag("AF_PURE_PYTHON");
    c->skip_coverage_check = env_flag("AF_SKIP_COVERAGE_CHECK");
    v = getenv("AF_MIN_FEATURES");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 0 || n > AF_COV_MAP_SIZE) {
            af_error_set(err, "AF_MIN_FEATURES", "not a count: '%s'", v);
            return -1;
        }
        c->min_features = (int)n;
    }
    c->quiet = env_flag("AF_QUIET");
    c->keep_going = env_flag("AF_KEEP_GOING");
    c->all_causes = env_flag("AF_ALL_CAUSES");
    c->oracles = (1u << AF_ORACLE_COUNT) - 1;
    v = getenv("AF_ORACLES");
    if (v && *v && strcmp(v, "all") != 0) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", v);
        c->oracles = 0;
        for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            int o = af_oracle_from_name(p);
            if (o < 0) {
                af_error_set(err, "AF_ORACLES", "unknown oracle '%s'", p);
                return -1;
            }
            c->oracles |= 1u << o;
        }
    }
    return 0;
}

/* The target adapter. The runner selects one through its options once it
 * supports adapters; until then only stock asyncio is accepted. */
static int apply_target(af_runner_options *o, const char *target, af_error *err)
{
    (void)err;
    if (!target[0] || strcmp(target, "asyncio") == 0)
        return 0;
#ifdef AF_RUNNER_HAS_TARGET
    snprintf(o->target, sizeof o->target, "%s", target);
    return 0;
#else
    af_error_set(err, "AF_TARGET",
                 "target '%s': this build's runner has no target adapters yet "
                 "(only stock asyncio)",
                 target);
    return -1;
#endif
}

af_fuzz *af_fuzz_new(const af_fuzz_config *c, af_error *err)
{
    af_fuzz *f = calloc(1, sizeof *f);
    if (!f) {
        af_error_set(err, "", "out of memory");
        return NULL;
    }
    f->cfg = *c;
    if (!flush_at_exit) {
        flush_at_exit = f;
        atexit(flush_counts_at_exit);
    }
    af_runner_options o;
    af_runner_options_default(&o);
    o.pure_python_tasks = c->pure_python;
    if (apply_target(&o, c->target, err) < 0)
        goto error;
    if (af_trace_init(&f->trace, 0, 0) < 0) {
        af_error_set(err, "", "out of memory for the trace");
        goto error;
    }
    f->runner = af_runner_new(&o, err);
    if (!f->runner)
        goto error;
    if (c->reference[0]) {
        af_runner_options_default(&o);
        o.pure_python_tasks = c->pure_python;
        if (apply_target(&o, c->reference, err) < 0 || af_trace_init(&f->ref_trace, 0, 0) < 0)
            goto error;
        f->ref_runner = af_runner_new(&o, err);
        if (!f->ref_runner)
            goto error;
    }
    if ((c->coverage & AF_COV_PYTHON) && af_pycov_init(err) < 0)
        goto error;
    return f;
error:
    af_fuzz_free(f);
    return NULL;
}

void af_fuzz_free(af_fuzz *f)
{
    if (!f)
        return;
    flush_counts(f);
    if (flush_at_exit == f)
        flush_at_exit = NULL;
    af_runner_free(f->runner);
    af_trace_free(&f->trace);
    af_runner_free(f->ref_runner);
    af_trace_free(&f->ref_trace);
    free(f);
}

const af_scenario *af_fuzz_last_scenario(const af_fuzz *f)
{
    return &f->scenario;
}
const af_trace *af_fuzz_last_trace(const af_fuzz *f)
{
    return &f->trace;
}
const af_verdict_list *af_fuzz_last_verdicts(const af_fuzz *f)
{
    return &f->verdicts;
}

void af_fuzz_counts(const af_fuzz *f, uint64_t *runs, uint64_t *new_findings, uint64_t *known)
{
    if (runs)
        *runs = f->runs;
    if (new_findings)
        *new_findings = f->new_findings;
    if (known)
        *known = f->known_findings;
}

/* ---- the known-signature cache ---- */

static int known_slot(const af_fuzz *f, uint64_t sig)
{
    if (!sig)
        sig = 1;
    for (size_t i = sig & (KNOWN_SLOTS - 1), n = 0; n < KNOWN_SLOTS;
         n++, i = (i + 1) & (KNOWN_SLOTS - 1)) {
        if (f->known[i] == sig)
            return (int)i;
        if (!f->known[i])
            return -1;
    }
    return -1;
}

static void known_add(af_fuzz *f, uint64_t sig)
{
    if (!sig)
        sig = 1;
    for (size_t i = sig & (KNOWN_SLOTS - 1), n = 0; n < KNOWN_SLOTS - 1;
         n++, i = (i + 1) & (KNOWN_SLOTS - 1)) {
        if (f->known[i] == sig)
            return;
        if (!f->known[i]) {
            f->known[i] = sig;
            return;
        }
    }
}

/* ---- findings on disk ---- */

/* File verdict `primary` in the findings store (harness/findings.h: one
 * folder per signature, written durably, counted). Returns 1 when this
 * process filed it first, 0 when it was already on disk, -1 on an I/O
 * error. */
static int file_finding(af_fuzz *f, int primary, const uint8_t *data, size_t size, char *sigdir,
                        size_t cap)
{
    char origin[160];
    snprintf(origin, sizeof origin, "%s, input of %zu bytes", f->cfg.engine, size);
    af_findings_record_in in;
    memset(&in, 0, sizeof in);
    in.scenario = &f->scenario;
    in.verdicts = &f->verdicts;
    in.primary = primary;
    in.target = f->cfg.target;
    in.trace = &f->trace;
    in.input = data;
    in.input_len = size;
    in.engine = f->cfg.engine;
    in.origin = origin;
    af_error err;
    memset(&err, 0, sizeof err);
    af_findings_result r = af_findings_record(f->cfg.findings_dir, &in, sigdir, cap, &err);
    if (r == AF_FINDINGS_ERROR) {
        fprintf(stderr, "asyncfuzz: cannot file the finding in %s: %s\n", f->cfg.findings_dir,
                err.message);
        return -1;
    }
    return r == AF_FINDINGS_NEW ? 1 : 0;
}

/* Add the pending counts of known signatures to the store. */
static void flush_counts(af_fuzz *f)
{
    af_error err;
    for (int i = 0; i < KNOWN_SLOTS; i++) {
        if (f->pending[i]) {
            (void)af_findings_add_count(f->cfg.findings_dir, f->known[i], f->pending[i], &err);
            f->pending[i] = 0;
        }
    }
}

static void flush_counts_at_exit(void)
{
    if (flush_at_exit)
        flush_counts(flush_at_exit);
}

static void banner(const af_fuzz *f, int primary, const char *sigdir)
{
    const af_verdict *v = &f->verdicts.items[primary];
    fprintf(stderr, "asyncfuzz: FINDING %s %016" PRIx64 " %s\n", af_oracle_name(v->oracle),
            v->signature, v->signature_text);
    for (int i = 0; i < f->verdicts.count; i++) {
        const af_verdict *w = &f->verdicts.items[i];
        fprintf(stderr, "  %s%s at %s in task %s, vtime %" PRId64 ": %s\n",
                i == primary ? "" : "also ", af_oracle_name(w->oracle), w->path[0] ? w->path : "-",
                w->task_name[0] ? w->task_name : "-", w->vtime, w->evidence);
    }
    fprintf(stderr, "  finding: %s/\n", sigdir);
    fprintf(stderr, "  replay:  asyncfuzz run %s/scenario.json\n", sigdir);
    fprintf(stderr, "  repro:   python3.11 %s/repro.py\n", sigdir);
    fflush(stderr);
}

static af_fuzz_result report(af_fuzz *f, const uint8_t *data, size_t size)
{
    af_fuzz_result res = AF_FUZZ_FINDING_KNOWN;
    char sigdir[1200];
    for (int i = 0; i < f->verdicts.count; i++) {
        uint64_t sig = f->verdicts.items[i].signature;
        int slot = known_slot(f, sig);
        if (slot >= 0) {
            /* counted in memory, added to the hits file every 1000 and at exit */
            if (++f->pending[slot] >= 1000)
                flush_counts(f);
            continue;
        }
        int same = 0; /* the same signature twice in one run */
        for (int j = 0; j < i; j++)
            same |= f->verdicts.items[j].signature == sig;
        if (same)
            continue;
        int rc = file_finding(f, i, data, size, sigdir, sizeof sigdir);
        if (rc < 0)
            return AF_FUZZ_ERROR;
        known_add(f, sig);
        if (rc == 1) {
            banner(f, i, sigdir);
            res = AF_FUZZ_FINDING_NEW;
        }
    }
    if (res == AF_FUZZ_FINDING_NEW) {
        f->new_findings++;
        flush_counts(f); /* the engine is about to abort: no atexit then */
    } else
        f->known_findings++;
    return res;
}

/* The harness itself failed on this input (a Python exception escaped
 * interp.run, a malformed trace): a defect of the harness or of the target
 * adapter. Saved once per distinct message, as FINDINGS/harness-error-<hash>/
 * {input.bin,error.txt}, announced once per process. */
static void harness_error(af_fuzz *f, const af_error *err, const uint8_t *data, size_t size)
{
    uint64_t h = af_hash64(err->message, strlen(err->message));
    int slot = known_slot(f, h ^ 0x4841524e45535321ull);
    if (slot >= 0)
        return;
    known_add(f, h ^ 0x4841524e45535321ull);
    char dir[1200], path[1300];
    af_error e2;
    snprintf(dir, sizeof dir, "%s/harness-error-%016" PRIx64, f->cfg.findings_dir, h);
    fprintf(stderr, "asyncfuzz: HARNESS ERROR %016" PRIx64 " %s\n%s\n  saved: %s/\n", h,
            err->message, af_embed_last_traceback(), dir);
    if (af_mkdirs(dir, &e2) == 0) {
        snprintf(path, sizeof path, "%s/input.bin", dir);
        af_write_file_durable(path, data, size, &e2);
        snprintf(path, sizeof path, "%s/error.txt", dir);
        const char *tb = af_embed_last_traceback();
        size_t n = strlen(err->message);
        char *text = malloc(n + strlen(tb) + 2);
        if (text) {
            memcpy(text, err->message, n);
            text[n] = '\n';
            strcpy(text + n + 1, tb);
            af_write_file_durable(path, text, strlen(text), &e2);
            free(text);
        }
    }
    fflush(stderr);
}

/* The differential filter (AF_REFERENCE): the same scenario on the
 * reference; the target's verdicts whose signature the reference also
 * gives are dropped. 0, or -1 with err set. */
static int drop_reference_verdicts(af_fuzz *f, af_error *err)
{
    if (af_runner_run(f->ref_runner, &f->scenario, &f->ref_trace, &f->ref_verdicts, err) < 0)
        return -1;
    int n = 0;
    for (int i = 0; i < f->verdicts.count; i++) {
        int shared = 0;
        for (int j = 0; j < f->ref_verdicts.count && !shared; j++)
            shared = f->ref_verdicts.items[j].signature == f->verdicts.items[i].signature;
        if (!shared)
            f->verdicts.items[n++] = f->verdicts.items[i];
    }
    f->verdicts.count = n;
    return 0;
}

af_fuzz_result af_fuzz_one(af_fuzz *f, const uint8_t *data, size_t size, uint8_t *map,
                           int report_findings)
{
    af_error err;
    int rc;

    af_decode(data, size, false, &f->scenario);
    if (map && !f->cfg.map_precleared)
        memset(map, 0, AF_COV_MAP_SIZE);
    memset(&err, 0, sizeof err);
    if (map && (f->cfg.coverage & AF_COV_PYTHON)) {
        af_pycov_begin(map + AF_COV_SEMANTIC_SIZE, AF_COV_PYTHON_SIZE);
        rc = af_runner_run(f->runner, &f->scenario, &f->trace, &f->verdicts, &err);
        af_pycov_end();
    } else {
        rc = af_runner_run(f->runner, &f->scenario, &f->trace, &f->verdicts, &err);
    }
    f->runs++;
    if (rc < 0) {
        harness_error(f, &err, data, size);
        return AF_FUZZ_ERROR;
    }
    if (map && (f->cfg.coverage & AF_COV_SEMANTIC)) {
        af_coverage_from_trace(&f->scenario, &f->trace, map, AF_COV_SEMANTIC_SIZE);
        af_coverage_from_verdicts(&f->verdicts, map, AF_COV_SEMANTIC_SIZE);
    }
    /* Implementation fuzzing (misuse off): only the target's faults are
     * findings; verdicts the scenario's own structure explains are not. */
    if (!f->cfg.all_causes)
        af_verdict_list_keep_findings(&f->verdicts, 0);
    if (f->cfg.oracles != (1u << AF_ORACLE_COUNT) - 1) {
        int n = 0;
        for (int i = 0; i < f->verdicts.count; i++)
            if (f->cfg.oracles & (1u << f->verdicts.items[i].oracle))
                f->verdicts.items[n++] = f->verdicts.items[i];
        f->verdicts.count = n;
    }
    if (f->verdicts.count && f->ref_runner && drop_reference_verdicts(f, &err) < 0) {
        harness_error(f, &err, data, size);
        return AF_FUZZ_ERROR;
    }
    if (f->verdicts.count == 0)
        return AF_FUZZ_OK;
    if (!report_findings)
        return AF_FUZZ_FINDING_KNOWN;
    return report(f, data, size);
}

/* ---- the start-up coverage check ---- */

typedef struct check_state {
    uint8_t *map;
    uint8_t *all; /* union of every map */
    uint64_t first_hash;
    int have_first, moved, inputs, errors;
} check_state;

static uint64_t map_hash(const uint8_t *m)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < AF_COV_MAP_SIZE; i++)
        if (m[i])
            h = af_cov_mix(h, i * 256 + m[i]);
    return h;
}

static void check_one(af_fuzz *f, check_state *cs, const uint8_t *data, size_t size)
{
    memset(cs->map, 0, AF_COV_MAP_SIZE);
    if (af_fuzz_one(f, data, size, cs->map, 0) == AF_FUZZ_ERROR) {
        cs->errors++;
        return;
    }
    cs->inputs++;
    for (size_t i = 0; i < AF_COV_MAP_SIZE; i++)
        cs->all[i] |= cs->map[i] ? 1 : 0;
    uint64_t h = map_hash(cs->map);
    if (!cs->have_first) {
        cs->first_hash = h;
        cs->have_first = 1;
    } else if (h != cs->first_hash) {
        cs->moved = 1;
    }
}

static void check_path(af_fuzz *f, check_state *cs, const char *path, int *budget)
{
    struct stat st;
    if (*budget <= 0 || stat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        af_path_list list = {0};
        if (af_path_list_add_arg(&list, path, "") == 0)
            for (size_t i = 0; i<list.count && * budget> 0; i++)
                check_path(f, cs, list.paths[i], budget);
        af_path_list_free(&list);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > AF_READ_MAX_BYTES)
        return;
    char *data = NULL;
    size_t len = 0;
    af_error err;
    if (af_read_file(path, AF_READ_MAX_BYTES, &data, &len, &err) == 0) {
        check_one(f, cs, (const uint8_t *)data, len);
        (*budget)--;
    }
    free(data);
}

int af_fuzz_check_coverage(af_fuzz *f, const char *const *paths, int npaths, FILE *log, char *msg,
                           size_t cap)
{
    check_state cs;
    memset(&cs, 0, sizeof cs);
    cs.map = calloc(1, AF_COV_MAP_SIZE);
    cs.all = calloc(1, AF_COV_MAP_SIZE);
    if (!cs.map || !cs.all) {
        snprintf(msg, cap, "out of memory");
        free(cs.map);
        free(cs.all);
        return -1;
    }
    /* fixed pseudo-random inputs: af_decode is total, so they are scenarios */
    uint64_t x = 0x243f6a8885a308d3ull;
    uint8_t buf[96];
    for (int k = 0; k < CHECK_RANDOM_INPUTS; k++) {
        size_t n = 16 + (size_t)(k * 5) % 80;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)(x >> 24);
        }
        check_one(f, &cs, buf, n);
    }
    int budget = CHECK_MAX_FILES;
    for (int i = 0; i < npaths; i++)
        check_path(f, &cs, paths[i], &budget);

    size_t sem = af_coverage_count(cs.all, AF_COV_SEMANTIC_SIZE);
    size_t py = af_coverage_count(cs.all + AF_COV_SEMANTIC_SIZE, AF_COV_PYTHON_SIZE);
    free(cs.map);
    free(cs.all);
    if (log && !f->cfg.quiet)
        fprintf(log,
                "asyncfuzz: coverage %s: %d inputs (%d seed files), %zu semantic features, %zu "
                "python edges%s\n",
                af_coverage_name(f->cfg.coverage), cs.inputs, CHECK_MAX_FILES - budget, sem, py,
                f->cfg.pure_python ? " (pure-Python Task/Future)" : "");

    const char *why = NULL;
    char detail[256] = "";
    if (f->cfg.coverage == 0)
        why = "coverage is off (AF_COVERAGE=none): the engine would fuzz blind";
    else if (cs.errors > 0 && cs.inputs == 0)
        why = "every input failed in the harness";
    else if (!cs.moved)
        why = "every input gave the same coverage map: the counters do not move";
    else if ((f->cfg.coverage & AF_COV_SEMANTIC) && sem < (size_t)f->cfg.min_features) {
        snprintf(detail, sizeof detail,
                 "only %zu semantic features (want >= %d): is the probe recording events?", sem,
                 f->cfg.min_features);
        why = detail;
    } else if ((f->cfg.coverage & AF_COV_PYTHON) && py < (size_t)f->cfg.min_features) {
        snprintf(
            detail, sizeof detail,
            "only %zu python edges (want >= %d): does AF_PYCOV_PATHS / asyncio's path (%s) match "
            "the target's files?",
            py, f->cfg.min_features, af_pycov_prefix(0) ? af_pycov_prefix(0) : "?");
        why = detail;
    }
    if (!why)
        return 0;
    if (f->cfg.skip_coverage_check) {
        if (log)
            fprintf(log, "asyncfuzz: warning: %s (AF_SKIP_COVERAGE_CHECK=1: starting anyway)\n",
                    why);
        return 0;
    }
    snprintf(msg, cap,
             "refusing to start the campaign: %s.\n"
             "  Check AF_COVERAGE (now '%s'), or set AF_SKIP_COVERAGE_CHECK=1 to start anyway.",
             why, af_coverage_name(f->cfg.coverage));
    return -1;
}
