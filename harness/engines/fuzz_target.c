/* fuzz_target.c - one input through the pipeline, findings on disk
 * (fuzz_target.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file_io.h"
#include "base/hash.h"
#include "harness/engines/coverage.h"
#include "harness/engines/flight.h"
#include "harness/engines/fuzz_target.h"
#include "harness/engines/pycov.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "oracles/verdict.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"

#define CHECK_RANDOM_INPUTS 32
#define CHECK_MAX_FILES 1000

struct af_fuzz {
    af_fuzz_config cfg;
    af_runner *runner;
    af_trace trace;
    af_verdict_list verdicts;     /* the findings of the last run */
    af_verdict_list all_verdicts; /* every verdict of it, before the filters */
    af_runner *ref_runner;        /* AF_REFERENCE, else NULL */
    af_trace ref_trace;
    af_verdict_list ref_verdicts;
    af_scenario scenario;
    uint64_t runs, new_findings, known_findings;
    af_flight *flight;         /* af_fuzz_record_flight, else NULL */
    af_quarantine quarantine;  /* inputs known to kill the process */
    int quarantine_on;         /* af_fuzz_use_quarantine was called */
    uint64_t skipped;          /* quarantined inputs not run */
    af_findings_store *store;  /* the findings store and this process's signatures */
    af_baseline *baseline;     /* the known-defect lists findings are labelled with */
    int last_new;              /* the first verdict of the last run filed new, -1 none */
    af_hashset harness_errors; /* messages of harness errors already saved */

    /* af_fuzz_on_target_exit */
    af_fuzz_exit_hook exit_hook;
    void *exit_ctx;
};

static af_fuzz *flush_at_exit; /* the instance whose counts atexit flushes */
static void flush_counts_at_exit(void);

/* AF_ORACLES: "o1,o2" or "all" into a bit set of af_oracle. */
static int parse_oracles(const char *list, uint32_t *set, af_error *err)
{
    *set = (1u << AF_ORACLE_COUNT) - 1;
    if (!list || strcmp(list, "all") == 0)
        return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    *set = 0;
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        int o = af_oracle_from_name(p);
        if (o < 0) {
            af_error_set(err, "AF_ORACLES", "unknown oracle '%s'", p);
            return -1;
        }
        *set |= 1u << o;
    }
    return 0;
}

int af_fuzz_config_from_options(af_fuzz_config *c, const af_options *o, const char *engine,
                                af_error *err)
{
    memset(c, 0, sizeof *c);
    c->o = *o;
    af_options_to_runner(o, &c->run);
    if (af_coverage_parse(o->coverage, &c->coverage) < 0) {
        af_error_set(err, "AF_COVERAGE", "unknown coverage kind in '%s'", o->coverage);
        return -1;
    }
    /* room for the signature folders' names after it */
    if (strlen(o->findings_dir) >= sizeof c->findings_dir - 64) {
        af_error_set(err, "AF_FINDINGS", "path too long (at most %zu bytes)",
                     sizeof c->findings_dir - 65);
        return -1;
    }
    snprintf(c->findings_dir, sizeof c->findings_dir, "%s", o->findings_dir);
    snprintf(c->engine, sizeof c->engine, "%s", engine ? engine : "engine");
    return parse_oracles(o->oracles, &c->oracles, err);
}

int af_fuzz_config_from_env(af_fuzz_config *c, af_options *o, const char *engine, af_error *err)
{
    af_options_default(o);
    if (af_options_from_env(o, err) < 0)
        return -1;
    return af_fuzz_config_from_options(c, o, engine, err);
}

/* The runner of the target or (beside it) the reference: "asyncio" or ""
 * is stock asyncio, with no adapter to load. */
static af_runner *new_runner(const af_fuzz_config *c, const char *target, const af_runner *beside,
                             af_error *err)
{
    af_runner_options o = c->run;
    snprintf(o.target, sizeof o.target, "%s", strcmp(target, "asyncio") == 0 ? "" : target);
    return af_runner_new_beside(beside, &o, err);
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
    if (af_trace_init(&f->trace, 0, 0) < 0) {
        af_error_set(err, "", "out of memory for the trace");
        goto error;
    }
    f->runner = new_runner(c, c->run.target, NULL, err);
    if (!f->runner)
        goto error;
    if (c->o.reference) {
        if (af_trace_init(&f->ref_trace, 0, 0) < 0)
            goto error;
        f->ref_runner = new_runner(c, c->o.reference, f->runner, err);
        if (!f->ref_runner)
            goto error;
    }
    if ((c->coverage & AF_COV_PYTHON) && af_pycov_init(c->o.pycov_paths, err) < 0)
        goto error;
    /* the lists of the target and Python version, and AF_BASELINE's */
    f->baseline = af_baseline_load(c->run.target, af_embed_pyversion(), c->o.baseline.joined, err);
    if (!f->baseline)
        goto error;
    /* repairs what a killed process left in the store */
    f->store = af_findings_open(c->findings_dir, c->engine, stderr, err);
    if (!f->store)
        goto error;
    af_findings_use_baseline(f->store, f->baseline);
    return f;
error:
    af_fuzz_free(f);
    return NULL;
}

void af_fuzz_free(af_fuzz *f)
{
    if (!f)
        return;
    af_findings_close(f->store); /* adds the pending counts */
    af_baseline_free(f->baseline);
    if (flush_at_exit == f)
        flush_at_exit = NULL;
    af_hashset_free(&f->harness_errors);
    af_flight_close(f->flight);
    af_hashset_free(&f->quarantine);
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
const af_verdict_list *af_fuzz_last_all_verdicts(const af_fuzz *f)
{
    return &f->all_verdicts;
}
af_findings_store *af_fuzz_store(af_fuzz *f)
{
    return f->store;
}
const af_baseline *af_fuzz_baseline(const af_fuzz *f)
{
    return f->baseline;
}
const af_verdict *af_fuzz_last_finding(const af_fuzz *f)
{
    if (f->last_new >= 0 && f->last_new < f->verdicts.count)
        return &f->verdicts.items[f->last_new];
    /* nothing new to this store (a replayed crash input): the first
     * verdict no baseline knows, else the first */
    for (int i = 0; i < f->verdicts.count; i++)
        if (!af_baseline_find(f->baseline, f->verdicts.items[i].signature))
            return &f->verdicts.items[i];
    return f->verdicts.count ? &f->verdicts.items[0] : NULL;
}

af_findings_record_in af_fuzz_last_record(const af_fuzz *f, const uint8_t *data, size_t size,
                                          const char *origin)
{
    return (af_findings_record_in){.scenario = &f->scenario,
                                   .verdicts = &f->verdicts,
                                   .all_verdicts = &f->all_verdicts,
                                   .trace = &f->trace,
                                   .input = data,
                                   .input_len = size,
                                   .origin = origin,
                                   .target = f->cfg.run.target[0] ? f->cfg.run.target : NULL};
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

/* ---- findings on disk ---- */

static void flush_counts_at_exit(void)
{
    af_error ignored;
    if (flush_at_exit && flush_at_exit->store)
        af_findings_flush(flush_at_exit->store, &ignored);
}

static void banner(const af_fuzz *f, int primary, const char *sigdir)
{
    const af_verdict *v = &f->verdicts.items[primary];
    char label[160];
    af_baseline_label(f->baseline, v->signature, label, sizeof label);
    fprintf(stderr, "asyncfuzz: FINDING %s %016" PRIx64 " %s %s\n", af_oracle_name(v->oracle),
            v->signature, v->signature_text, label);
    for (int i = 0; i < f->verdicts.count; i++) {
        const af_verdict *w = &f->verdicts.items[i];
        fprintf(stderr, "  %s%s at %s in task %s, vtime %" PRId64 ": %s\n",
                i == primary ? "" : "also ", af_oracle_name(w->oracle), w->path[0] ? w->path : "-",
                w->task_name[0] ? w->task_name : "-", w->vtime, w->evidence);
    }
    fprintf(stderr, "  finding: %s/\n", sigdir);
    fprintf(stderr, "  replay:  asyncfuzz run %s/scenario.json\n", sigdir);
    fprintf(stderr, "  repro:   python3.%d %s/repro.py\n", af_embed_pyversion() % 100, sigdir);
    fflush(stderr);
}

void af_fuzz_print_known(const af_fuzz *f)
{
    const af_verdict *v = af_fuzz_last_finding(f);
    if (!v)
        return;
    char label[160];
    af_baseline_label(f->baseline, v->signature, label, sizeof label);
    fprintf(stderr, "asyncfuzz: FINDING %s %016" PRIx64 " %s %s (already filed)\n",
            af_oracle_name(v->oracle), v->signature, v->signature_text, label);
}

/* File the run's findings in the store (reports/findings.h: a signature
 * new to this process is written durably before anything else, a known
 * one is counted in memory) and announce the new ones. */
static af_fuzz_result report(af_fuzz *f, const uint8_t *data, size_t size)
{
    char origin[160];
    snprintf(origin, sizeof origin, "%s, input of %zu bytes", f->cfg.engine, size);
    af_findings_record_in in = af_fuzz_last_record(f, data, size, origin);
    af_findings_filed filed[AF_MAX_VERDICTS];
    af_error err;
    memset(&err, 0, sizeof err);
    int n = af_findings_file_run(f->store, &in, filed, AF_MAX_VERDICTS, &err);
    if (n < 0) {
        fprintf(stderr, "asyncfuzz: cannot file the finding in %s: %s\n", f->cfg.findings_dir,
                err.message);
        return AF_FUZZ_ERROR;
    }
    af_fuzz_result res = AF_FUZZ_FINDING_KNOWN;
    for (int i = 0; i < n; i++) {
        if (filed[i].result != AF_FINDINGS_NEW)
            continue;
        char sigdir[AF_FINDINGS_SIG_DIR_CAP];
        af_findings_sig_dir(f->store, f->verdicts.items[filed[i].verdict].signature, sigdir,
                            sizeof sigdir);
        banner(f, filed[i].verdict, sigdir);
        if (res != AF_FUZZ_FINDING_NEW)
            f->last_new = filed[i].verdict;
        res = AF_FUZZ_FINDING_NEW;
    }
    if (res == AF_FUZZ_FINDING_NEW) {
        f->new_findings++;
        (void)af_findings_flush(f->store, &err); /* the engine is about to abort: no atexit */
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
    if (af_hashset_add(&f->harness_errors, h | 1) != 1)
        return; /* saved already (or no memory to remember it) */
    char name[64];
    snprintf(name, sizeof name, "harness-error-%016" PRIx64, h);
    const char *tb = af_embed_last_traceback();
    fprintf(stderr, "asyncfuzz: HARNESS ERROR %016" PRIx64 " %s\n%s\n  saved: %s/%s/\n", h,
            err->message, tb, f->cfg.findings_dir, name);
    size_t n = strlen(err->message);
    char *text = malloc(n + strlen(tb) + 2);
    if (text) {
        memcpy(text, err->message, n);
        text[n] = '\n';
        strcpy(text + n + 1, tb);
        const af_findings_file files[] = {{"input.bin", data, size},
                                          {"error.txt", text, strlen(text)}};
        af_error e2;
        if (af_findings_put_folder(f->cfg.findings_dir, name, files, 2, &e2) < 0)
            fprintf(stderr, "asyncfuzz: cannot save it: %s\n", e2.message);
        free(text);
    }
    fflush(stderr);
}

/* Differential (AF_REFERENCE): the same scenario on the reference, the
 * differential oracle's verdicts added (they feed the coverage too), and
 * the target's verdicts whose base signature the reference also gives
 * dropped (a fact stock asyncio shows too is not the target's). 0, or -1
 * with err set. */
static int judge_against_reference(af_fuzz *f, af_error *err)
{
    if (af_judge_run(f->ref_runner, &f->scenario, &f->ref_trace, &f->ref_verdicts, err) < 0)
        return -1;
    af_judge_differential(&f->scenario, af_runner_target(f->runner), &f->trace, &f->verdicts,
                          &f->ref_trace, &f->ref_verdicts, &f->verdicts);
    return 0;
}

void af_fuzz_on_target_exit(af_fuzz *f, af_fuzz_exit_hook hook, void *ctx)
{
    f->exit_hook = hook;
    f->exit_ctx = ctx;
}

/* The target raised exc_type out of the loop: its death (fuzz_target.h). */
_Noreturn static void target_exited(af_fuzz *f, const char *exc_type)
{
    const char *dot = strrchr(exc_type, '.');
    const char *name = dot ? dot + 1 : exc_type;
    char why[256];
    snprintf(why, sizeof why,
             "the target raised %s, which escaped the loop and ended the run (the scenario raises "
             "none): a target must not exit",
             name);
    if (f->exit_hook)
        f->exit_hook(f->exit_ctx, name, why);
    fprintf(stderr, "asyncfuzz: %s\n", why);
    abort();
}

static af_fuzz_result run_and_judge(af_fuzz *f, const uint8_t *data, size_t size, uint8_t *map,
                                    int report_findings)
{
    af_error err;
    int rc;

    af_decode(data, size, false, &f->scenario);
    f->last_new = -1;
    if (map && !f->cfg.map_precleared)
        memset(map, 0, AF_COV_MAP_SIZE);
    memset(&err, 0, sizeof err);
    if (map && (f->cfg.coverage & AF_COV_PYTHON)) {
        af_pycov_begin(map + AF_COV_SEMANTIC_SIZE, AF_COV_PYTHON_SIZE);
        rc = af_judge_run(f->runner, &f->scenario, &f->trace, &f->verdicts, &err);
        af_pycov_end();
    } else {
        rc = af_judge_run(f->runner, &f->scenario, &f->trace, &f->verdicts, &err);
    }
    f->runs++;
    if (rc == 0 && f->ref_runner)
        rc = judge_against_reference(f, &err);
    if (rc < 0) {
        harness_error(f, &err, data, size);
        return AF_FUZZ_ERROR;
    }
    const char *escaped = af_target_escape(&f->scenario, &f->trace);
    if (escaped)
        target_exited(f, escaped);
    if (map && (f->cfg.coverage & AF_COV_SEMANTIC)) {
        af_coverage_from_trace(&f->scenario, &f->trace, map, AF_COV_SEMANTIC_SIZE);
        af_coverage_from_verdicts(&f->verdicts, map, AF_COV_SEMANTIC_SIZE);
    }
    /* Implementation fuzzing (misuse off): only the target's faults are
     * findings; verdicts the scenario's own structure explains are not. */
    /* every verdict, for the finding's expect (it replays green) */
    f->all_verdicts.count = f->verdicts.count;
    f->all_verdicts.dropped = f->verdicts.dropped;
    memcpy(f->all_verdicts.items, f->verdicts.items,
           (size_t)f->verdicts.count * sizeof f->verdicts.items[0]);
    if (!f->cfg.o.all_causes)
        af_verdict_list_keep_findings(&f->verdicts, 0);
    if (f->cfg.oracles != (1u << AF_ORACLE_COUNT) - 1) {
        int n = 0;
        for (int i = 0; i < f->verdicts.count; i++)
            if (f->cfg.oracles & (1u << f->verdicts.items[i].oracle))
                f->verdicts.items[n++] = f->verdicts.items[i];
        f->verdicts.count = n;
    }
    if (f->verdicts.count && f->ref_runner)
        af_verdicts_drop_shared(af_runner_target(f->runner), &f->verdicts, &f->ref_verdicts);
    if (f->verdicts.count == 0)
        return AF_FUZZ_OK;
    if (!report_findings)
        return AF_FUZZ_FINDING_KNOWN;
    return report(f, data, size);
}

af_fuzz_result af_fuzz_one(af_fuzz *f, const uint8_t *data, size_t size, uint8_t *map,
                           int report_findings)
{
    if (f->quarantine.count && af_hashset_has(&f->quarantine, af_quarantine_hash(data, size))) {
        /* this input killed a process of the campaign: filed, not run again */
        if (map && !f->cfg.map_precleared)
            memset(map, 0, AF_COV_MAP_SIZE);
        f->skipped++;
        return AF_FUZZ_OK;
    }
    af_flight_begin(f->flight, data, size);
    af_fuzz_result r = run_and_judge(f, data, size, map, report_findings);
    af_flight_end(f->flight);
    return r;
}

/* ---- crashes and hangs: the flight recorder and the quarantine ---- */

static void quarantine_filed(void *ctx, const uint8_t *data, size_t len)
{
    af_fuzz *f = ctx;
    (void)af_hashset_add(&f->quarantine, af_quarantine_hash(data, len));
}

int af_fuzz_use_quarantine(af_fuzz *f, FILE *log)
{
    f->quarantine_on = 1;
    if (af_quarantine_load(&f->quarantine, f->cfg.findings_dir) < 0)
        return -1;
    char by[96];
    snprintf(by, sizeof by, "%s process %d at start", f->cfg.engine, (int)getpid());
    return af_flight_recover(f->cfg.findings_dir, by, log, quarantine_filed, f);
}

int af_fuzz_record_flight(af_fuzz *f, af_error *err)
{
    if (f->flight)
        return 0;
    f->flight = af_flight_open(f->cfg.findings_dir, f->cfg.engine, f->cfg.run.target,
                               f->cfg.o.hang_timeout, err);
    return f->flight ? 0 : -1;
}

/* ---- the start-up coverage check ---- */

/* The check runs its inputs in a forked child, so that an input that
 * crashes the interpreter or hangs in C is filed as a finding (and
 * quarantined) instead of killing the engine before it starts; the child
 * goes on from the next input. The state lives in shared memory. */
typedef struct check_state {
    uint8_t map[AF_COV_MAP_SIZE];
    uint8_t all[AF_COV_MAP_SIZE]; /* union of every map */
    uint64_t first_hash;
    int have_first, moved, inputs, errors;
    af_sup_slot slot; /* the child's: the input it is running (supervise.h) */
} check_state;

typedef struct check_input {
    uint8_t *data;
    size_t len;
} check_input;

typedef struct check_list {
    check_input *items;
    int count, cap;
} check_list;

static uint64_t map_hash(const uint8_t *m)
{
    uint64_t h = AF_COV_SEED;
    for (size_t i = 0; i < AF_COV_MAP_SIZE; i++)
        if (m[i])
            h = af_cov_mix(h, i * 256 + m[i]);
    return h;
}

static void check_one(af_fuzz *f, check_state *cs, const uint8_t *data, size_t size,
                      af_fuzz_run_fn watched, void *ctx)
{
    memset(cs->map, 0, AF_COV_MAP_SIZE);
    af_fuzz_result r =
        watched ? watched(ctx, data, size, cs->map) : af_fuzz_one(f, data, size, cs->map, 0);
    if (r == AF_FUZZ_ERROR) {
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

static int list_add(check_list *l, const uint8_t *data, size_t len)
{
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        check_input *items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    l->items[l->count].data = copy;
    l->items[l->count++].len = len;
    return 0;
}

static void list_free(check_list *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->items[i].data);
    free(l->items);
}

static void list_path(check_list *l, const char *path, int *budget)
{
    struct stat st;
    if (*budget <= 0 || stat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        af_path_list list = {0};
        if (af_path_list_add_arg(&list, path, "") == 0)
            for (size_t i = 0; i<list.count && * budget> 0; i++)
                list_path(l, list.paths[i], budget);
        af_path_list_free(&list);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > AF_READ_MAX_BYTES)
        return;
    char *data = NULL;
    size_t len = 0;
    af_error err;
    if (af_read_file(path, AF_READ_MAX_BYTES, &data, &len, &err) == 0 &&
        list_add(l, (const uint8_t *)data, len) == 0)
        (*budget)--;
    free(data);
}

/* The child: every input from `from` on. Python's fork hooks are not
 * run (os.register_at_fork): the child must behave as the parent would. */
typedef struct check_child_ctx {
    af_fuzz *f;
    check_state *cs;
    const check_list *l;
    int from;
} check_child_ctx;

static int check_child(af_sup_slot *s, void *vctx)
{
    check_child_ctx *c = vctx;
    c->f->flight = NULL; /* the parent watches this child itself */
    /* a crash must end the child by its signal, for the parent to see it
     * (a sanitizer's or libFuzzer's handler would exit with a status) */
    static const int fatal[] = {AF_CRASH_SIGNALS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    for (int i = c->from; i < c->l->count; i++) {
        const check_input *in = &c->l->items[i];
        af_sup_step_begin(s, (uint64_t)i, NULL, in->data, in->len);
        check_one(c->f, c->cs, in->data, in->len, NULL, NULL);
        af_sup_step_end(s);
    }
    return 0;
}

/* Runs the list in children until every input ran or killed one: an input
 * that killed one is filed (and quarantined), the next child goes on from
 * the input after it. */
static int check_run(af_fuzz *f, check_state *cs, const check_list *l, FILE *log)
{
    double hang = f->cfg.o.hang_timeout;
    check_child_ctx ctx = {.f = f, .cs = cs, .l = l};
    while (ctx.from < l->count) {
        pid_t pid = af_sup_spawn(&cs->slot, check_child, &ctx);
        if (pid < 0)
            return -1;
        af_sup_death d;
        int r = af_sup_wait(pid, &cs->slot, hang, NULL, &d);
        if (r <= 0)
            return r;
        if (!d.in_step) /* not an input's doing: nothing to file */
            return 0;
        int i = (int)d.step;
        const check_input *in = &l->items[i];
        char origin[128];
        snprintf(origin, sizeof origin, "%s start-up coverage check, input %d of %d", f->cfg.engine,
                 i + 1, l->count);
        af_sup_filing filing = {.findings_dir = f->cfg.findings_dir,
                                .engine = f->cfg.engine,
                                .target = f->cfg.run.target,
                                .origin = origin,
                                .quarantine = true,
                                .hang_seconds = hang,
                                .log = log};
        af_error err;
        memset(&err, 0, sizeof err);
        if (af_sup_file_death(&filing, &d, &cs->slot, NULL, &err) < 0 && log)
            fprintf(log, "asyncfuzz: cannot file a crashing input: %s\n", err.message);
        if (f->quarantine_on)
            (void)af_hashset_add(&f->quarantine, af_quarantine_hash(in->data, in->len));
        ctx.from = i + 1;
    }
    return 0;
}

static int check_verdict(af_fuzz *f, const check_state *cs, int files, FILE *log, char *msg,
                         size_t cap)
{
    size_t sem = af_coverage_count(cs->all, AF_COV_SEMANTIC_SIZE);
    size_t py = af_coverage_count(cs->all + AF_COV_SEMANTIC_SIZE, AF_COV_PYTHON_SIZE);
    if (log && !f->cfg.o.quiet)
        fprintf(log,
                "asyncfuzz: coverage %s: %d inputs (%d seed files), %zu semantic features, %zu "
                "python edges%s\n",
                af_coverage_name(f->cfg.coverage), cs->inputs, files, sem, py,
                f->cfg.run.pure_python_tasks ? " (pure-Python Task/Future)" : "");

    const char *why = NULL;
    char detail[256] = "";
    if (f->cfg.coverage == 0)
        why = "coverage is off (AF_COVERAGE=none): the engine would fuzz blind";
    else if (cs->errors > 0 && cs->inputs == 0)
        why = "every input failed in the harness";
    else if (!cs->moved)
        why = "every input gave the same coverage map: the counters do not move";
    else if ((f->cfg.coverage & AF_COV_SEMANTIC) && sem < (size_t)f->cfg.o.min_features) {
        snprintf(detail, sizeof detail,
                 "only %zu semantic features (want >= %d): is the probe recording events?", sem,
                 (int)f->cfg.o.min_features);
        why = detail;
    } else if ((f->cfg.coverage & AF_COV_PYTHON) && py < (size_t)f->cfg.o.min_features) {
        snprintf(
            detail, sizeof detail,
            "only %zu python edges (want >= %d): does AF_PYCOV_PATHS / asyncio's path (%s) match "
            "the target's files?",
            py, (int)f->cfg.o.min_features, af_pycov_prefix(0) ? af_pycov_prefix(0) : "?");
        why = detail;
    }
    if (!why)
        return 0;
    if (f->cfg.o.no_coverage_check) {
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

int af_fuzz_check_coverage(af_fuzz *f, const char *const *paths, int npaths, af_fuzz_run_fn watched,
                           void *ctx, FILE *log, char *msg, size_t cap)
{
    check_list l = {0};
    /* fixed pseudo-random inputs: af_decode is total, so they are scenarios */
    uint64_t x = 0x243f6a8885a308d3ull;
    uint8_t buf[96];
    int rc = 0;
    for (int k = 0; k < CHECK_RANDOM_INPUTS && rc == 0; k++) {
        size_t n = 16 + (size_t)(k * 5) % 80;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)(x >> 24);
        }
        rc = list_add(&l, buf, n);
    }
    int budget = CHECK_MAX_FILES;
    for (int i = 0; i < npaths && rc == 0; i++)
        list_path(&l, paths[i], &budget);
    check_state *cs = MAP_FAILED;
    if (rc == 0)
        cs = mmap(NULL, sizeof *cs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (cs == MAP_FAILED) {
        snprintf(msg, cap, "out of memory for the coverage check");
        list_free(&l);
        return -1;
    }
    if (watched) {
        for (int i = 0; i < l.count; i++)
            check_one(f, cs, l.items[i].data, l.items[i].len, watched, ctx);
    } else if (check_run(f, cs, &l, log) < 0) {
        snprintf(msg, cap, "the coverage check could not run its inputs: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        rc = check_verdict(f, cs, l.count - CHECK_RANDOM_INPUTS, log, msg, cap);
    munmap(cs, sizeof *cs);
    list_free(&l);
    return rc;
}
