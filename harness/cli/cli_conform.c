/* cli_conform.c - `asyncfuzz conform`: where does a target adapter (an
 * asyncio library) break asyncio's contracts?
 *
 *   1. The target and the reference (stock asyncio by default) are loaded:
 *      an adapter that does not load or fails the contract check is an
 *      adapter error, exit 2 with its traceback.
 *   2. Contract phase: every scenario of the catalog runs on both; the
 *      target's failures are its single-run verdicts the reference does
 *      not share and the differential oracle's verdicts. Each failure is
 *      filed in OUT/findings (the findings store) and minimised there. A
 *      scenario that exercises nothing the target provides, or uses what
 *      it declares UNSUPPORTED, is skipped (never failed).
 *   3. Fuzzing phase: the built-in engine for --time seconds, differential
 *      against the reference, its findings in the same store (progress on
 *      stderr).
 *   4. The matrix, contract by result (base/oracles.def's contracts: the
 *      catalog's pass / fail / skipped counts, the signatures each phase
 *      found), with each failure's minimised scenario and reproducer and
 *      its triage (docs/conformance/triage.tsv: the upstream issue, the
 *      version that fixed it, or a plain asyncio program showing it):
 *      OUT/conform.json, OUT/conform.md, OUT/conform.xml (JUnit).
 *
 * Exit 0 conformant, 1 not, 2 usage or adapter error. Nothing below the
 * CLI prints; this file prints the results and errors once.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "harness/engines/engine.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "oracles/verdict.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "reports/junit.h"
#include "scenarios/json.h"
#include "scenarios/minimize.h"

static const af_cli_help conform_help = {
    .usage = "conform --target NAME|FILE [--reference NAME] [--time S] [--jobs N] [--out DIR]",
    .min_args = 0,
    .max_args = 0,
    .above = "Check a target adapter (an asyncio library: docs/VENDORS.md) against asyncio's\n"
             "contracts. First every catalog scenario runs on the target and on the reference\n"
             "(stock asyncio); then the built-in engine fuzzes both for --time seconds. A\n"
             "failure is a verdict of the target that the reference does not share, or a\n"
             "difference the differential oracle reports. Each failure is filed, minimised,\n"
             "in OUT/findings/<signature>/ (scenario.json, repro.py: runnable with plain\n"
             "python3.11 and the library). The matrix, contract by result, is written to\n"
             "OUT/conform.json, OUT/conform.md and OUT/conform.xml (JUnit); each failure is\n"
             "triaged from docs/conformance/triage.tsv where it is known.\n",
    .below = "exit: 0 conformant (failures triaged as another party's, \"not NAME's:\" in\n"
             "docs/conformance/triage.tsv, do not count), 1 not conformant, 2 usage or adapter\n"
             "error\n",
};

#define MINIMIZE_CALLS 400
#define MAX_SKIPPED 256
#define MAX_TRIAGE 128

/* ---- the runs ------------------------------------------------------------- */

/* What one conform process holds: the two runners, the store, the buffers
 * of one differential run. */
typedef struct conform {
    af_options o;
    const char *out;
    af_runner *target, *reference;
    const af_target_info *info;
    af_findings_store *store;
    af_scenario *s, *min;
    af_trace tr, ref_tr;
    af_verdict_list v, ref_v, failures;
    uint64_t want; /* minimisation: the signature to keep */
    bool adapter_failed;
    /* the catalog phase */
    int scenarios, ran, skipped_n;
    int catalog[AF_CONTRACT_COUNT][2]; /* scenarios passing / failing each contract */
    char skipped[MAX_SKIPPED][2][160]; /* file, why */
    /* the fuzzing phase */
    af_engine_stats stats;
    double seconds;
} conform;

/* s on both; the target's failures into c->failures (its verdicts the
 * reference does not share, and the differential ones). 0, or -1 with err
 * set (an adapter error when af_runner_adapter_failed). */
static int run_both(conform *c, const af_scenario *s, af_error *err)
{
    if (af_judge_run_differential(c->target, c->reference, s, &c->tr, &c->v, &c->ref_tr, &c->ref_v,
                                  err) < 0) {
        c->adapter_failed =
            af_runner_adapter_failed(c->target) || af_runner_adapter_failed(c->reference);
        return -1;
    }
    c->failures = c->v;
    af_verdict_list_keep_findings(&c->failures, 0);
    af_verdicts_drop_shared(c->info, &c->failures, &c->ref_v);
    return 0;
}

static bool still_fails(const af_scenario *cand, void *ctx)
{
    conform *c = ctx;
    af_error err;
    return run_both(c, cand, &err) == 0 && af_verdict_list_has_signature(&c->failures, c->want);
}

/* File the failures of the last run of s (from file), and each new one
 * again once minimised. 0, or -1 with err set. */
static int file_failures(conform *c, const af_scenario *s, const char *file, af_error *err)
{
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof origin, "conform, catalog %s", file);
    af_verdict_list failures = c->failures, all = c->v;
    af_findings_record_in in = {.scenario = s,
                                .verdicts = &failures,
                                .all_verdicts = &all,
                                .trace = &c->tr,
                                .origin = origin,
                                .target = c->o.target};
    af_findings_filed filed[AF_MAX_VERDICTS];
    int n = af_findings_file_run(c->store, &in, filed, AF_MAX_VERDICTS, err);
    for (int k = 0; k < n; k++) {
        if (filed[k].result != AF_FINDINGS_NEW)
            continue;
        c->want = failures.items[filed[k].verdict].signature;
        af_minimize_stats st = {.max_calls = MINIMIZE_CALLS};
        if (af_minimize(s, still_fails, c, c->min, &st) != 0 || st.accepted == 0 ||
            run_both(c, c->min, err) < 0)
            continue;
        for (int i = 0; i < c->failures.count; i++) {
            if (c->failures.items[i].signature != c->want)
                continue;
            af_findings_record_in m = {.scenario = c->min,
                                       .verdicts = &c->failures,
                                       .primary = i,
                                       .all_verdicts = &c->v,
                                       .trace = &c->tr,
                                       .origin = origin,
                                       .target = c->o.target};
            if (af_findings_file_one(c->store, &m, err) == AF_FINDINGS_ERROR)
                return -1;
            break;
        }
    }
    return n < 0 ? -1 : 0;
}

static void note_skipped(conform *c, const char *file, const char *why)
{
    if (c->skipped_n < MAX_SKIPPED) {
        snprintf(c->skipped[c->skipped_n][0], sizeof c->skipped[0][0], "%s", file);
        snprintf(c->skipped[c->skipped_n][1], sizeof c->skipped[0][1], "%s", why);
    }
    c->skipped_n++;
}

/* One catalog scenario: skipped, or run on both, its failures filed. 0, or
 * -1 with err set (an adapter error stops conform; a scenario that does
 * not read is reported and skipped). */
static int catalog_one(conform *c, const char *path, const char *file)
{
    af_error err;
    memset(&err, 0, sizeof err);
    c->scenarios++;
    if (af_json_read_file(path, c->s, &err) < 0) {
        char why[160];
        snprintf(why, sizeof why, "does not read: %s", err.message);
        note_skipped(c, file, why);
        return 0;
    }
    char why[160];
    if (!af_target_supports(c->info, c->s, why, sizeof why)) {
        note_skipped(c, file, why);
        return 0;
    }
    if (!af_target_exercised(c->info, c->s)) {
        snprintf(why, sizeof why, "exercises nothing %s provides", c->info->name);
        note_skipped(c, file, why);
        return 0;
    }
    if (run_both(c, c->s, &err) < 0 || file_failures(c, c->s, file, &err) < 0) {
        fprintf(stderr, "asyncfuzz conform: %s: %s%s%s\n", file, err.path, err.path[0] ? ": " : "",
                err.message);
        fputs(af_embed_last_traceback(), stderr);
        return -1;
    }
    /* the failures of c->s itself (minimising ran other scenarios since) */
    if (run_both(c, c->s, &err) < 0)
        return -1;
    bool broken[AF_CONTRACT_COUNT] = {false};
    for (int i = 0; i < c->failures.count; i++)
        broken[af_contract_of_rule(c->failures.items[i].rule)] = true;
    c->ran++;
    for (int k = 0; k < AF_CONTRACT_COUNT; k++)
        c->catalog[k][broken[k]]++;
    return 0;
}

/* Every *.json of the catalog folder, in name order. 0, or -1 (printed). */
static int catalog_phase(conform *c, const char *dir)
{
    af_path_list files = {0};
    if (af_path_list_add_arg(&files, dir, ".json") < 0 || files.count == 0) {
        fprintf(stderr, "asyncfuzz conform: %s: no scenario files\n", dir);
        af_path_list_free(&files);
        return -1;
    }
    int rc = 0; /* a folder's files come sorted by name */
    for (size_t i = 0; i < files.count && rc == 0; i++) {
        const char *base = strrchr(files.paths[i], '/');
        rc = catalog_one(c, files.paths[i], base ? base + 1 : files.paths[i]);
    }
    af_path_list_free(&files);
    fprintf(stderr, "asyncfuzz conform: catalog: %d scenario(s), %d run, %d skipped\n",
            c->scenarios, c->ran, c->skipped_n);
    return rc;
}

/* The built-in engine, differential, for --time seconds. 0, or -1
 * (printed). */
static int fuzzing_phase(conform *c)
{
    af_options eo = c->o;
    eo.out_dir = c->out;
    eo.max_time = c->o.conform_time;
    eo.max_runs = 0;
    af_engine_options e;
    af_error err;
    memset(&err, 0, sizeof err);
    if (af_engine_options_from(&e, &eo, stderr, &err) < 0) {
        fprintf(stderr, "asyncfuzz conform: %s: %s\n", err.path, err.message);
        return -1;
    }
    double t0 = af_clock_seconds();
    int rc = af_engine_run(&e, &c->stats, &err);
    c->seconds = af_clock_seconds() - t0;
    if (rc == 2) {
        fprintf(stderr, "asyncfuzz conform: fuzzing: %s\n", err.message);
        return -1;
    }
    fprintf(stderr,
            "asyncfuzz conform: fuzzing: %" PRIu64 " execs in %.1f s (%.0f/s, each on both "
            "targets), %" PRIu64 " new signature(s)\n",
            c->stats.execs, c->stats.seconds,
            c->stats.seconds > 0 ? (double)c->stats.execs / c->stats.seconds : 0.0,
            c->stats.unique_findings);
    return 0;
}

/* ---- the failures, from the store ----------------------------------------------- */

typedef struct triage {
    char target[AF_MAX_TARGET_NAME + 1];
    char signature[AF_VERDICT_SIGTEXT_MAX]; /* without "|@target" */
    char defect[240], upstream[120], fixed[80], program[120];
} triage;

typedef struct failure {
    char sig[17];
    char text[AF_VERDICT_SIGTEXT_MAX];
    af_oracle oracle;
    int rule; /* af_rule, -1 unknown */
    af_contract contract;
    char primitive[32];
    char evidence[AF_VERDICT_EVIDENCE_MAX];
    char origin[PATH_MAX + 32];
    uint64_t count;
    int reruns, reproduced; /* reruns of the minimised scenario, and how many failed alike */
    /* triaged as another party's (asyncio's, the real-time mode's): every
     * triage row of it starts "not <target>'s:" (docs/VENDORS.md) */
    bool elsewhere;
    bool catalog;   /* found by the contract phase */
    char *scenario; /* scenario.json's text */
    const triage *known[4];
    int nknown;
} failure;

typedef struct report {
    failure *items;
    int n;
    int elsewhere; /* failures every triage row of which says "not NAME's:" */
    triage triage[MAX_TRIAGE];
    int ntriage;
} report;

/* docs/conformance/triage.tsv: target, signature text without the target,
 * defect, upstream, fixed in, program; '#' lines are comments. */
static void load_triage(report *rp)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    af_error err;
    if (!af_cli_source_path("docs/conformance/triage.tsv", path, sizeof path) ||
        af_read_file(path, 1 << 20, &text, &len, &err) < 0)
        return;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && rp->ntriage < MAX_TRIAGE;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        char *col[6] = {0};
        int n = 0;
        for (char *p = line; n < 6; n++) {
            col[n] = p;
            p = strchr(p, '\t');
            if (!p)
                break;
            *p++ = '\0';
        }
        if (n < 5)
            continue;
        triage *t = &rp->triage[rp->ntriage++];
        snprintf(t->target, sizeof t->target, "%s", col[0]);
        snprintf(t->signature, sizeof t->signature, "%s", col[1]);
        snprintf(t->defect, sizeof t->defect, "%s", col[2]);
        snprintf(t->upstream, sizeof t->upstream, "%s", col[3]);
        snprintf(t->fixed, sizeof t->fixed, "%s", col[4]);
        snprintf(t->program, sizeof t->program, "%s", col[5]);
    }
    free(text);
}

static const char *json_text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* One signature folder into f. */
static bool read_failure(const char *dir, const char *name, const report *rp, const char *target,
                         failure *f)
{
    char sig_dir[PATH_MAX];
    snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, name);
    char *text = NULL, *meta = NULL;
    size_t len = 0;
    af_error err;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/verdict.json", sig_dir);
    if (af_read_file(path, 1 << 20, &text, &len, &err) < 0)
        return false;
    cJSON *v = cJSON_Parse(text);
    free(text);
    if (!v)
        return false;
    memset(f, 0, sizeof *f);
    snprintf(f->sig, sizeof f->sig, "%s", name);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(v, "signature");
    snprintf(f->text, sizeof f->text, "%s", json_text(sig, "text"));
    snprintf(f->evidence, sizeof f->evidence, "%s", json_text(v, "evidence"));
    int o = af_oracle_from_name(json_text(v, "oracle"));
    f->oracle = o < 0 ? AF_ORACLE_COUNT : (af_oracle)o;
    cJSON_Delete(v);
    /* "oracle|primitive|code[|cause][|@target]" */
    char fields[4][AF_VERDICT_SIGTEXT_MAX] = {"", "", "", ""};
    int k = 0;
    for (const char *p = f->text; *p && k < 4; k++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        snprintf(fields[k], sizeof fields[k], "%.*s", (int)n, p);
        p = bar ? bar + 1 : p + n;
    }
    snprintf(f->primitive, sizeof f->primitive, "%s", fields[1]);
    f->rule = o < 0 ? -1 : af_rule_from_code((af_oracle)o, fields[2]);
    f->contract = f->rule < 0 ? AF_CONTRACT_COUNT : af_contract_of_rule((af_rule)f->rule);
    f->count = af_findings_count(sig_dir);
    snprintf(path, sizeof path, "%s/meta.json", sig_dir);
    if (af_read_file(path, 1 << 20, &meta, &len, &err) == 0) {
        cJSON *m = cJSON_Parse(meta);
        snprintf(f->origin, sizeof f->origin, "%s", json_text(m, "origin"));
        cJSON_Delete(m);
        free(meta);
    }
    f->catalog = strncmp(f->origin, "conform, catalog", 16) == 0;
    snprintf(path, sizeof path, "%s/scenario.json", sig_dir);
    if (af_read_file(path, 1 << 20, &f->scenario, &len, &err) < 0)
        f->scenario = NULL;
    /* the triage rows of this target and signature (its text without the target) */
    char base[AF_VERDICT_SIGTEXT_MAX], suffix[AF_MAX_TARGET_NAME + 4];
    snprintf(base, sizeof base, "%s", f->text);
    snprintf(suffix, sizeof suffix, "|@%s", target);
    size_t bl = strlen(base), sl = strlen(suffix);
    if (bl > sl && !strcmp(base + bl - sl, suffix))
        base[bl - sl] = '\0';
    for (int i = 0; i < rp->ntriage && f->nknown < 4; i++)
        if (!strcmp(rp->triage[i].target, target) && !strcmp(rp->triage[i].signature, base))
            f->known[f->nknown++] = &rp->triage[i];
    f->elsewhere = f->nknown > 0;
    for (int i = 0; i < f->nknown; i++)
        f->elsewhere = f->elsewhere && !strncmp(f->known[i]->defect, "not ", 4);
    return true;
}

static int cmp_failure(const void *a, const void *b)
{
    const failure *x = a, *y = b;
    if (x->contract != y->contract)
        return x->contract < y->contract ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Every signature folder of OUT/findings. */
static int read_failures(const conform *c, report *rp)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/findings", c->out);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!af_findings_is_sig_name(e->d_name))
            continue;
        failure *grown = realloc(rp->items, (size_t)(rp->n + 1) * sizeof *grown);
        if (!grown)
            break;
        rp->items = grown;
        if (read_failure(dir, e->d_name, rp, c->info->name, &rp->items[rp->n]))
            rp->n++;
    }
    closedir(d);
    qsort(rp->items, (size_t)rp->n, sizeof rp->items[0], cmp_failure);
    for (int i = 0; i < rp->n; i++)
        rp->elsewhere += rp->items[i].elsewhere;
    return rp->n;
}

/* The reruns --reruns asks for: its value, else 10 on a loop on real time
 * (its runs are not deterministic: how often a failure comes back is
 * measured), else none. */
static int reruns_wanted(const conform *c)
{
    if (c->o.reruns > 0)
        return (int)c->o.reruns;
    return c->info->realtime ? 10 : 0;
}

/* Rerun each failure's minimised scenario n times on both and count the
 * runs that fail alike (the same signature). */
static void rerun_failures(conform *c, report *rp, int n)
{
    for (int i = 0; i < rp->n && n > 0; i++) {
        failure *f = &rp->items[i];
        af_error err;
        if (!f->scenario || af_json_read(f->scenario, strlen(f->scenario), c->s, &err) < 0)
            continue;
        c->want = strtoull(f->sig, NULL, 16);
        f->reruns = n;
        for (int k = 0; k < n; k++)
            f->reproduced += run_both(c, c->s, &err) == 0 &&
                             af_verdict_list_has_signature(&c->failures, c->want);
        fprintf(stderr, "asyncfuzz conform: %s: reproduced %d of %d reruns\n", f->text,
                f->reproduced, n);
    }
}

static void report_free(report *rp)
{
    for (int i = 0; i < rp->n; i++)
        free(rp->items[i].scenario);
    free(rp->items);
}

/* Failures of contract k (per phase). */
static void contract_counts(const report *rp, int k, int *catalog, int *fuzzing, uint64_t *hits)
{
    *catalog = *fuzzing = 0;
    *hits = 0;
    for (int i = 0; i < rp->n; i++) {
        if ((int)rp->items[i].contract != k)
            continue;
        if (rp->items[i].catalog)
            (*catalog)++;
        else
            (*fuzzing)++;
        *hits += rp->items[i].count;
    }
}

/* ---- the matrix: JSON, Markdown, JUnit ------------------------------------------ */

static void add_str(cJSON *o, const char *key, const char *v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateString(v));
}

static void add_num(cJSON *o, const char *key, double v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateNumber(v));
}

static cJSON *failure_json(const failure *f)
{
    cJSON *x = cJSON_CreateObject();
    add_str(x, "signature", f->sig);
    add_str(x, "text", f->text);
    add_str(x, "contract",
            f->contract < AF_CONTRACT_COUNT ? af_contract_defs[f->contract].name : "");
    add_str(x, "oracle", f->oracle < AF_ORACLE_COUNT ? af_oracle_name(f->oracle) : "");
    add_str(x, "primitive", f->primitive);
    add_str(x, "found_by", f->catalog ? "catalog" : "fuzzing");
    add_str(x, "origin", f->origin);
    add_num(x, "count", (double)f->count);
    if (f->reruns) {
        cJSON *r = cJSON_CreateObject();
        add_num(r, "runs", f->reruns);
        add_num(r, "reproduced", f->reproduced);
        cJSON_AddItemToObject(x, "reruns", r);
    }
    add_str(x, "evidence", f->evidence);
    char p[64];
    snprintf(p, sizeof p, "findings/%s/repro.py", f->sig);
    add_str(x, "reproducer", p);
    snprintf(p, sizeof p, "findings/%s/scenario.json", f->sig);
    add_str(x, "scenario", p);
    cJSON *t = cJSON_CreateArray();
    for (int i = 0; i < f->nknown; i++) {
        cJSON *k = cJSON_CreateObject();
        add_str(k, "defect", f->known[i]->defect);
        add_str(k, "upstream", f->known[i]->upstream);
        add_str(k, "fixed_in", f->known[i]->fixed);
        add_str(k, "program", f->known[i]->program);
        cJSON_AddItemToArray(t, k);
    }
    cJSON_AddItemToObject(x, "triage", t);
    return x;
}

static int write_json(const conform *c, const report *rp, af_error *err)
{
    cJSON *root = cJSON_CreateObject();
    add_num(root, "asyncfuzz_conform", 1);
    cJSON *t = cJSON_CreateObject();
    add_str(t, "name", c->info->name);
    add_str(t, "version", c->info->version);
    add_str(t, "adapter", c->o.target);
    add_str(t, "loop", af_runner_loop_mode(c->target));
    cJSON_AddBoolToObject(t, "deterministic", !c->info->realtime);
    cJSON_AddItemToObject(root, "target", t);
    cJSON *r = cJSON_CreateObject();
    add_str(r, "name", af_runner_target(c->reference)->name);
    add_str(r, "version", af_runner_target(c->reference)->version);
    cJSON_AddItemToObject(root, "reference", r);
    cJSON *cat = cJSON_CreateObject();
    add_num(cat, "scenarios", c->scenarios);
    add_num(cat, "run", c->ran);
    add_num(cat, "skipped", c->skipped_n);
    cJSON *sk = cJSON_CreateArray();
    for (int i = 0; i < c->skipped_n && i < MAX_SKIPPED; i++) {
        cJSON *x = cJSON_CreateObject();
        add_str(x, "file", c->skipped[i][0]);
        add_str(x, "why", c->skipped[i][1]);
        cJSON_AddItemToArray(sk, x);
    }
    cJSON_AddItemToObject(cat, "skipped_scenarios", sk);
    cJSON_AddItemToObject(root, "catalog", cat);
    cJSON *fz = cJSON_CreateObject();
    add_num(fz, "seconds", c->stats.seconds);
    add_num(fz, "execs", (double)c->stats.execs);
    cJSON_AddItemToObject(root, "fuzzing", fz);
    cJSON *ks = cJSON_CreateArray();
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        cJSON *x = cJSON_CreateObject();
        add_str(x, "contract", af_contract_defs[k].name);
        add_str(x, "definition", af_contract_defs[k].definition);
        int cf, ff;
        uint64_t hits;
        contract_counts(rp, k, &cf, &ff, &hits);
        cJSON *cc = cJSON_CreateObject();
        add_num(cc, "pass", c->catalog[k][0]);
        add_num(cc, "fail", c->catalog[k][1]);
        add_num(cc, "skipped", c->skipped_n);
        cJSON_AddItemToObject(x, "catalog", cc);
        add_num(x, "failures", cf + ff);
        add_num(x, "failures_catalog", cf);
        add_num(x, "failures_fuzzing", ff);
        add_num(x, "hits", (double)hits);
        add_str(x, "result", cf + ff ? "fail" : c->ran ? "pass" : "skipped");
        cJSON_AddItemToArray(ks, x);
    }
    cJSON_AddItemToObject(root, "contracts", ks);
    cJSON *fl = cJSON_CreateArray();
    for (int i = 0; i < rp->n; i++)
        cJSON_AddItemToArray(fl, failure_json(&rp->items[i]));
    cJSON_AddItemToObject(root, "failures", fl);
    cJSON_AddItemToObject(root, "conformant", cJSON_CreateBool(rp->n == rp->elsewhere));
    add_num(root, "failures_of_other_parties", rp->elsewhere);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        af_error_set(err, "", "out of memory writing conform.json");
        return -1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/conform.json", c->out);
    size_t n = strlen(text);
    text[n] = '\n'; /* cJSON's text has room for its NUL: replaced, then written by length */
    int rc = af_write_file(path, text, n + 1, err);
    free(text);
    return rc;
}

/* A Markdown table cell: '|' escaped, one line. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void md_failure(FILE *out, const conform *c, const failure *f)
{
    fprintf(out, "\n#### `%s`\n\n", f->text);
    fprintf(out, "- found by the %s (%s), %" PRIu64 " run(s); signature `%s`\n",
            f->catalog ? "catalog" : "fuzzing", f->origin, f->count, f->sig);
    fprintf(out, "- primitive: `%s`%s\n", f->primitive[0] ? f->primitive : "-",
            f->primitive[0] &&
                    af_target_runs_op(c->info, (af_op_kind)af_op_kind_from_name(f->primitive))
                ? " (the library's)"
                : " (stock asyncio's, in a run on the library)");
    fprintf(out, "- evidence: ");
    md_cell(out, f->evidence);
    fputs("\n", out);
    if (f->reruns)
        fprintf(out, "- reruns of the minimised scenario: failed alike in %d of %d%s\n",
                f->reproduced, f->reruns,
                c->info->realtime ? " (real time: runs are not deterministic)" : "");
    if (f->nknown == 0)
        fputs("- triage: not triaged yet (no upstream issue known; the reproducer below shows "
              "it)\n",
              out);
    for (int i = 0; i < f->nknown; i++)
        fprintf(out, "- triage: %s; upstream: %s; fixed in: %s%s%s%s\n", f->known[i]->defect,
                f->known[i]->upstream, f->known[i]->fixed,
                f->known[i]->program[0] ? "; plain asyncio program: [" : "", f->known[i]->program,
                f->known[i]->program[0] ? "]" : "");
    if (f->scenario)
        fprintf(out,
                "\nMinimised scenario (`asyncfuzz repro --target %s scenario.json` writes "
                "its reproducer; `findings/%s/repro.py` in the report folder):\n\n```json\n%s```\n",
                c->o.target, f->sig, f->scenario);
}

/* Which loop the target's runs were on, and whether they are deterministic
 * (docs/LOOPS.md's three modes). */
static const char *loop_words(const conform *c, char *buf, size_t cap)
{
    const char *mode = af_runner_loop_mode(c->target);
    char tick[48] = "the adapter's TICK_MS";
    if (c->o.tick_ms)
        snprintf(tick, sizeof tick, "%lld ms", (long long)c->o.tick_ms);
    if (c->info->realtime)
        snprintf(buf, cap,
                 "%s on real time (ticks of %s), not deterministic: each failure is "
                 "rerun",
                 mode, tick);
    else if (c->info->own_loop)
        snprintf(buf, cap, "%s, the library's loop on virtual time (deterministic)", mode);
    else
        snprintf(buf, cap, "the harness's virtual-time loop (deterministic)");
    return buf;
}

static int write_markdown(const conform *c, const report *rp, af_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/conform.md", c->out);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        af_error_set(err, "", "out of memory writing conform.md");
        return -1;
    }
    fprintf(out, "# Conformance of %s\n\n", c->info->version);
    fprintf(out,
            "<!-- Generated by `asyncfuzz conform --target %s` (harness/cli/cli_conform.c): "
            "do not edit; docs/VENDORS.md says how to read it. -->\n\n",
            c->o.target);
    char loop[160];
    fprintf(
        out,
        "Target adapter `%s` (NAME `%s`), against %s on CPython %d.%d; loop: %s. Catalog: "
        "%d scenario(s), %d run, %d skipped. Fuzzing: %.0f s, %" PRIu64 " inputs run on both.\n\n",
        c->o.target, c->info->name, af_runner_target(c->reference)->version,
        af_embed_pyversion() / 100, af_embed_pyversion() % 100, loop_words(c, loop, sizeof loop),
        c->scenarios, c->ran, c->skipped_n, c->stats.seconds, c->stats.execs);
    fprintf(out, "**%s**: %d failure(s) (signatures)",
            rp->n > rp->elsewhere ? "Not conformant" : "Conformant", rp->n);
    if (rp->elsewhere)
        fprintf(out,
                ", %d of them triaged as another party's (asyncio's or the run mode's, "
                "not %s's)",
                rp->elsewhere, c->info->name);
    fputs(".\n\n", out);
    fputs("| contract | result | catalog pass / fail / skipped | failures: catalog + fuzzing "
          "(runs) |\n| --- | --- | --- | --- |\n",
          out);
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        int cf, ff;
        uint64_t hits;
        contract_counts(rp, k, &cf, &ff, &hits);
        fprintf(out, "| `%s` | %s | %d / %d / %d | %d + %d (%" PRIu64 ") |\n",
                af_contract_defs[k].name,
                cf + ff  ? "**fail**"
                : c->ran ? "pass"
                         : "skipped",
                c->catalog[k][0], c->catalog[k][1], c->skipped_n, cf, ff, hits);
    }
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        bool any = false;
        for (int i = 0; i < rp->n; i++) {
            if ((int)rp->items[i].contract != k)
                continue;
            if (!any)
                fprintf(out, "\n### %s\n\n%s\n", af_contract_defs[k].name,
                        af_contract_defs[k].definition);
            any = true;
            md_failure(out, c, &rp->items[i]);
        }
    }
    if (c->skipped_n) {
        fputs("\n### Skipped catalog scenarios\n\n| scenario | why |\n| --- | --- |\n", out);
        for (int i = 0; i < c->skipped_n && i < MAX_SKIPPED; i++) {
            fprintf(out, "| `%s` | ", c->skipped[i][0]);
            md_cell(out, c->skipped[i][1]);
            fputs(" |\n", out);
        }
    }
    fclose(out);
    int rc = af_write_file(path, buf, len, err);
    free(buf);
    return rc;
}

static int write_junit(const conform *c, const report *rp, af_error *err)
{
    af_junit_case cases[AF_CONTRACT_COUNT];
    char *texts[AF_CONTRACT_COUNT] = {0};
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        int cf, ff;
        uint64_t hits;
        contract_counts(rp, k, &cf, &ff, &hits);
        cases[k] = (af_junit_case){.name = af_contract_defs[k].name,
                                   .classname = "asyncfuzz.conform",
                                   .status = cf + ff  ? AF_JUNIT_FAIL
                                             : c->ran ? AF_JUNIT_PASS
                                                      : AF_JUNIT_SKIPPED};
        if (cf + ff) {
            char *buf = NULL;
            size_t len = 0;
            FILE *out = open_memstream(&buf, &len);
            if (out) {
                fprintf(out, "%d failure(s):", cf + ff);
                for (int i = 0; i < rp->n; i++)
                    if ((int)rp->items[i].contract == k)
                        fprintf(out, " %s (findings/%s/repro.py);", rp->items[i].text,
                                rp->items[i].sig);
                fclose(out);
            }
            texts[k] = buf;
            cases[k].message = buf;
        } else if (!c->ran) {
            cases[k].message = "no catalog scenario exercises the target";
        }
    }
    char path[PATH_MAX], suite[64];
    snprintf(path, sizeof path, "%s/conform.xml", c->out);
    snprintf(suite, sizeof suite, "asyncfuzz.conform.%s", c->info->name);
    int rc =
        af_junit_write(path, suite, cases, AF_CONTRACT_COUNT, c->seconds + c->stats.seconds, err);
    for (int k = 0; k < AF_CONTRACT_COUNT; k++)
        free(texts[k]);
    return rc;
}

/* ---- the command ------------------------------------------------------------------- */

static int conform_run(conform *c)
{
    af_runner_options opts;
    af_options_to_runner(&c->o, &opts);
    c->target = af_cli_runner_for(AF_CMD_conform, NULL, &opts, c->o.target, NULL);
    /* The default reference runs the target's kind of tasks: what differs
     * between C and pure-Python tasks is not the target's doing. */
    if (c->target && !c->o.reference)
        c->o.reference = af_runner_target(c->target)->python_tasks ? "asyncio_py" : "asyncio";
    c->reference =
        c->target ? af_cli_runner_for(AF_CMD_conform, NULL, &opts, c->o.reference, NULL) : NULL;
    if (!c->target || !c->reference)
        return AF_EXIT_USAGE;
    c->info = af_runner_target(c->target);
    af_error err;
    memset(&err, 0, sizeof err);
    char path[PATH_MAX], catalog[PATH_MAX];
    snprintf(path, sizeof path, "%s/findings", c->out);
    if (af_make_dirs(c->out, &err) < 0 ||
        !(c->store = af_findings_open(path, "conform", stderr, &err))) {
        fprintf(stderr, "asyncfuzz conform: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    af_findings_refile_smaller(c->store, true);
    const char *dir = c->o.catalog_dir
                          ? c->o.catalog_dir
                          : af_cli_source_path("scenarios/catalog", catalog, sizeof catalog);
    if (!dir) {
        fprintf(stderr, "asyncfuzz conform: no catalog (scenarios/catalog): give --catalog DIR\n");
        return AF_EXIT_USAGE;
    }
    fprintf(stderr, "asyncfuzz conform: %s against %s\n", c->info->version,
            af_runner_target(c->reference)->version);
    double t0 = af_clock_seconds();
    int rc = catalog_phase(c, dir);
    c->seconds = af_clock_seconds() - t0;
    af_findings_close(c->store);
    c->store = NULL;
    if (rc < 0)
        return AF_EXIT_USAGE;
    if (c->o.conform_time > 0 && fuzzing_phase(c) < 0)
        return AF_EXIT_USAGE;
    report rp;
    memset(&rp, 0, sizeof rp);
    load_triage(&rp);
    read_failures(c, &rp);
    rerun_failures(c, &rp, reruns_wanted(c));
    int code = rp.n > rp.elsewhere ? AF_EXIT_FINDING : AF_EXIT_OK;
    if (write_json(c, &rp, &err) < 0 || write_markdown(c, &rp, &err) < 0 ||
        write_junit(c, &rp, &err) < 0) {
        fprintf(stderr, "asyncfuzz conform: %s\n", err.message);
        code = AF_EXIT_USAGE;
    }
    for (int k = 0; k < AF_CONTRACT_COUNT; k++) {
        int cf, ff;
        uint64_t hits;
        contract_counts(&rp, k, &cf, &ff, &hits);
        printf("%-28s %-7s catalog %3d pass %3d fail %3d skipped; failures %d catalog + %d "
               "fuzzing\n",
               af_contract_defs[k].name,
               cf + ff  ? "FAIL"
               : c->ran ? "pass"
                        : "skipped",
               c->catalog[k][0], c->catalog[k][1], c->skipped_n, cf, ff);
    }
    printf("%s: %s, %d failure(s)%s%.0d%s; %s/conform.{json,md,xml}\n", c->info->version,
           rp.n > rp.elsewhere ? "not conformant" : "conformant", rp.n, rp.elsewhere ? " (" : "",
           rp.elsewhere, rp.elsewhere ? " triaged as another party's)" : "", c->out);
    report_free(&rp);
    return code;
}

int af_cmd_conform(int argc, char **argv)
{
    conform *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "asyncfuzz conform: out of memory\n");
        return AF_EXIT_USAGE;
    }
    int rc = af_cli_options(AF_CMD_conform, &conform_help, argc, argv, &c->o);
    if (rc != AF_CLI_GO) {
        free(c);
        return rc;
    }
    if (!c->o.target) {
        free(c);
        return af_cli_usage_error(AF_CMD_conform,
                                  "--target is required (a built-in adapter or an adapter file)");
    }
    c->out = c->o.conform_out;
    c->s = malloc(sizeof *c->s);
    c->min = malloc(sizeof *c->min);
    int code = AF_EXIT_USAGE;
    if (!c->s || !c->min || af_trace_init(&c->tr, 0, 0) < 0 || af_trace_init(&c->ref_tr, 0, 0) < 0)
        fprintf(stderr, "asyncfuzz conform: out of memory\n");
    else
        code = conform_run(c);
    if (c->store)
        af_findings_close(c->store);
    af_trace_free(&c->tr);
    af_trace_free(&c->ref_tr);
    free(c->s);
    free(c->min);
    free(c);
    return af_cli_finish(AF_CMD_conform, code);
}
