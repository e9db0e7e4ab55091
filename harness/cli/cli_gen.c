/* cli_gen.c - the command gen: random scenarios from a seed, run, judged,
 * findings filed.
 *
 * Supervised (cli.h): the runs happen in a child. A child that dies in the
 * middle of a run - a crash of the interpreter, an exit from the target's
 * code, a run that outlives --hang-timeout (blocked in C), a target that
 * raised SystemExit out of the loop - has that run's input filed by the
 * parent as a `crash` / `hang` finding in the same store (the filing the
 * engines use: harness/engines/supervise.h), and a new child goes on from
 * the next run. What the campaign has done so far lives in memory the
 * children and the parent share (gen_shared): the next run, the counts,
 * and a mirror of the child's table of signatures, which the next child
 * takes over (af_findings_adopt), so that the end - the lines, the total,
 * summary.json - covers every child. Must not print results from the
 * parent: the last child does.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "harness/cli/cli.h"
#include "harness/cli/cli_campaign.h"
#include "harness/run/runner.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"

/* gen's longest byte string when --max-len is not given. */
#define GEN_DEFAULT_MAX_LEN 256
/* Signatures the mirror keeps (beyond: not in the end's lines after a
 * restart; their folders are filed all the same). */
#define GEN_KNOWN_CAP 16384

static const af_cli_help gen_help = {
    .usage = "gen --seed S --count N [OPTIONS]",
    .min_args = 0,
    .max_args = 0,
    .above = "Draw N random byte strings from a PRNG seeded with S, decode each into a\n"
             "scenario (the fuzzers' decoder: every byte string is a valid scenario), run\n"
             "it and judge it. Each verdict has a cause: target (asyncio broke a contract),\n"
             "misuse (a misuse operation explains it) or scenario (the scenario's own\n"
             "structure explains it: a task it never awaited, an Event it never set).\n"
             "Findings are the target verdicts, plus the misuse ones with --misuse;\n"
             "--all-verdicts makes every verdict a finding. A run stopped by a budget\n"
             "is judged the same way (hang, deadlock).\n"
             "Findings are deduplicated by verdict signature: the first run showing a\n"
             "signature is filed at once - before the next run starts - in the findings\n"
             "store OUT/findings/<signature>/ (scenario.json expecting every verdict of\n"
             "the run, repro.py, verdict.json, verdicts.json, trace.jsonl, input.bin,\n"
             "meta.json, count; the folder appears complete or not at all); later runs\n"
             "with the same signature are only counted. A store left by a killed gen is\n"
             "repaired at the next start. With the same build, the same S gives the same\n"
             "scenarios, runs and findings on every machine.\n"
             "The runs happen in a child process: a run that kills it (a crash, an exit\n"
             "from the target's code, a target raising SystemExit) or outlives\n"
             "--hang-timeout is filed as a crash / hang finding, and a new child goes on\n"
             "from the next run.\n",
    .below = "A progress line (runs, runs/s, findings) goes to stderr at most once a second;\n"
             "at the end, one line per distinct finding (count, oracle, signature, folder)\n"
             "and a total on stdout.\n"
             "A harness failure (an exception escaping the interpreter of scenarios, a\n"
             "malformed trace) stops the run; the scenario is kept as\n"
             "OUT/harness-error-seed<S>-run<I>.json.\n"
             "Ctrl-C (SIGINT) or SIGTERM ends the campaign after the current run, as\n"
             "--count would (the way to stop --count 0): counts, summary, exit code;\n"
             "a second one stops at once.\n"
             "OUT is a campaign folder (docs/campaigns.md): campaign.json keeps the settings\n"
             "of its first start, history.jsonl one line per run. Each finding is labelled\n"
             "known (in the shipped baseline of the target and Python version, or a\n"
             "--baseline list) or new in meta.json; the end lists this run's signatures.\n"
             "exit: 0 nothing new (known signatures only, or none), 1 a new signature,\n"
             "2 usage error, harness failure, or a target adapter that does not load\n",
};

/* What the children and the parent share. */
typedef struct gen_shared {
    uint64_t next; /* the run the next child starts with */
    uint64_t runs, verdict_runs;
    double t0;       /* af_clock_seconds() at the start */
    int stop_signal; /* a stop signal that came while no child ran */
    size_t nknown;   /* the mirror of the signature table */
    af_findings_known known[GEN_KNOWN_CAP];
} gen_shared;

typedef struct gen_job {
    af_options o;
    af_runner_options run;
    uint64_t seed, count;
    bool misuse;
    unsigned draw; /* af_decode's flags from the options (--misuse, --loop-ops) */
    int64_t max_len;
    char store_dir[4200];
    char origin_base[160]; /* "gen --seed S --misuse --max-len L" */
    gen_shared *sh;
    af_baseline *baseline; /* the campaign folder's known-defect lists */
} gen_job;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The bytes of run i of seed S: independent of every other run, so one run
 * can be regenerated alone. */
static size_t gen_input(uint64_t seed, uint64_t run, size_t max_len, uint8_t *buf)
{
    uint64_t st = seed ^ (run * UINT64_C(0xD1B54A32D192ED03));
    splitmix64(&st);
    size_t len = (size_t)(splitmix64(&st) % (max_len + 1));
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = splitmix64(&st);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            buf[i + j] = (uint8_t)(x >> (8 * j));
    }
    return len;
}

/* The signal that asked gen to stop (SIGINT, SIGTERM), 0 while none did;
 * and the child's slot, where the handler says it saw one. */
static volatile sig_atomic_t gen_stop;
static af_sup_slot *gen_slot;

static void gen_on_signal(int sig)
{
    gen_stop = sig;
    if (gen_slot)
        af_sup_child_saw_stop(gen_slot);
}

/* SIGINT and SIGTERM end the loop after the current run, and gen ends as
 * it would at --count (counts, summary, exit code); a second one stops
 * the process at once (SA_RESETHAND: the default action). To be installed
 * after the interpreter's start-up, which resets SIGINT
 * (harness/run/embed.c). */
static void gen_catch_signals(af_sup_slot *slot)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gen_on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    gen_slot = slot;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* One line per signature this run met (its runs, oracle, signature,
 * folder, signature text), then the total line. */
static void gen_print_end(const af_findings_store *st, uint64_t runs, double secs,
                          uint64_t verdict_runs)
{
    size_t n = af_findings_known_count(st);
    for (size_t i = 0; i < n; i++) {
        const af_findings_known *k = af_findings_known_at(st, i);
        char dir[4200];
        af_findings_sig_dir(st, k->signature, dir, sizeof dir);
        printf("%8" PRIu64 "  %-22s %016" PRIx64 "  %s  %s\n", k->hits, k->oracle, k->signature,
               dir, k->text);
    }
    printf("gen: %" PRIu64 " runs in %.2f s (%.0f runs/s), %zu findings, %" PRIu64
           " runs with verdicts\n",
           runs, secs, secs > 0 ? (double)runs / secs : 0.0, n, verdict_runs);
}

/* How many signatures this run filed first. */
static uint64_t gen_new_signatures(const af_findings_store *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < af_findings_known_count(st); i++)
        n += af_findings_known_at(st, i)->first == AF_FINDINGS_NEW;
    return n;
}

/* The child's signature table into the mirror, from entry `from` on. */
static void gen_mirror(gen_shared *sh, const af_findings_store *st, size_t from)
{
    size_t n = af_findings_known_count(st);
    if (n > GEN_KNOWN_CAP)
        n = GEN_KNOWN_CAP;
    for (size_t i = from; i < n; i++)
        sh->known[i] = *af_findings_known_at(st, i);
    sh->nknown = n;
}

/* A run the harness could not run: message, and the scenario kept for
 * whoever fixes the harness. */
static void gen_harness_failure(const gen_job *g, const af_scenario *s, uint64_t i,
                                const af_error *err)
{
    af_cli_print_error(AF_CMD_gen, NULL, err);
    char *text = af_json_write(s);
    char path[4200] = "";
    af_error werr;
    if (text && af_mkdirs(g->o.gen_out, &werr) == 0) {
        snprintf(path, sizeof path, "%s/harness-error-seed%" PRIu64 "-run%" PRIu64 ".json",
                 g->o.gen_out, g->seed, i);
        if (af_write_file_durable(path, text, strlen(text), &werr) < 0)
            path[0] = '\0';
    }
    fprintf(stderr, "asyncfuzz gen: harness failure on run %" PRIu64 " (seed %" PRIu64 ")%s%s\n", i,
            g->seed, path[0] ? "; the scenario is in " : "", path);
    if (!path[0] && text)
        fputs(text, stderr);
    free(text);
}

/* The end: the lines, the total, summary.json; the exit code. */
static int gen_end(const gen_job *g, af_findings_store *store, bool harness_failed)
{
    gen_shared *sh = g->sh;
    af_error err;
    memset(&err, 0, sizeof err);
    double secs = af_clock_seconds() - sh->t0;
    const char *stopped_by = gen_stop == SIGINT ? "SIGINT" : gen_stop == SIGTERM ? "SIGTERM" : NULL;
    if (stopped_by)
        fprintf(stderr, "asyncfuzz gen: stopped by %s after %" PRIu64 " runs\n", stopped_by,
                sh->runs);
    if (af_findings_flush(store, &err) < 0)
        af_cli_print_error(AF_CMD_gen, NULL, &err);
    gen_mirror(sh, store, 0);
    gen_print_end(store, sh->runs, secs, sh->verdict_runs);
    struct stat st;
    af_findings_campaign campaign = {.command = "gen",
                                     .engine = "gen",
                                     .seed = g->seed,
                                     .runs = sh->runs,
                                     .seconds = secs,
                                     .misuse = g->misuse,
                                     .max_len = (size_t)g->max_len,
                                     .new_signatures = gen_new_signatures(store),
                                     .stopped_by = stopped_by};
    if (stat(g->store_dir, &st) == 0 &&
        af_findings_summary_campaign(g->store_dir, &campaign, NULL, NULL, &err) < 0) {
        af_cli_print_error(AF_CMD_gen, NULL, &err);
        return AF_EXIT_USAGE;
    }
    /* known versus new, and so the exit code, is the parent's
     * (af_cli_campaign_end) */
    return harness_failed ? AF_EXIT_USAGE : AF_EXIT_OK;
}

/* The runs from sh->next on, in the supervised child. */
static int gen_work(af_sup_slot *slot, void *ctx)
{
    const gen_job *g = ctx;
    gen_shared *sh = g->sh;
    bool misuse = g->misuse, quiet = g->o.quiet, all_verdicts = g->o.all_verdicts;
    int code = AF_EXIT_USAGE;
    af_scenario *s = malloc(sizeof *s);
    af_verdict_list *v = malloc(sizeof *v);
    af_verdict_list *all = malloc(sizeof *all); /* v before keeping findings */
    uint8_t *input = malloc((size_t)g->max_len + 8);
    af_trace tr, ref_tr;
    bool tr_ok = af_trace_init(&tr, 0, 0) == 0;
    /* --reference: every scenario on the reference too; the differential
     * oracle's verdicts join v, and the reference's own are no findings. */
    af_verdict_list *ref_v = g->o.reference ? malloc(sizeof *ref_v) : NULL;
    bool ref_ok = !g->o.reference || (ref_v && af_trace_init(&ref_tr, 0, 0) == 0);
    af_error err;
    memset(&err, 0, sizeof err);
    af_findings_store *store = af_findings_open(g->store_dir, "gen", stderr, &err);
    if (!store) {
        af_cli_print_error(AF_CMD_gen, NULL, &err);
        goto done;
    }
    af_findings_use_baseline(store, g->baseline);
    if (!s || !v || !all || !input || !tr_ok || !ref_ok) {
        fprintf(stderr, "asyncfuzz gen: out of memory\n");
        goto done;
    }
    /* what the children before this one met */
    for (size_t k = 0; k < sh->nknown; k++)
        if (af_findings_adopt(store, &sh->known[k]) < 0) {
            fprintf(stderr, "asyncfuzz gen: out of memory\n");
            goto done;
        }
    bool tty = isatty(STDERR_FILENO), harness_failed = false;
    double last_tick = af_clock_seconds();
    uint64_t tick_runs = 0;
    af_runner *r = NULL, *ref = NULL;
    gen_stop = sh->stop_signal;
    if (!gen_stop && (g->count == 0 || sh->next < g->count) &&
        (!(r = af_cli_runner(AF_CMD_gen, slot, &g->run, NULL)) ||
         (g->o.reference &&
          !(ref = af_cli_runner_for(AF_CMD_gen, slot, &g->run, g->o.reference, NULL)))))
        goto done;
    gen_catch_signals(slot); /* after the interpreter's start-up, which resets SIGINT */
    /* loop-level ops test a loop under test: on with a target that brings one */
    unsigned draw =
        g->draw | (r && strcmp(af_runner_loop_mode(r), "virtual") != 0 ? AF_DRAW_LOOP : 0u);
    for (uint64_t i = sh->next; (g->count == 0 || i < g->count) && !gen_stop; i++) {
        size_t len = gen_input(g->seed, i, (size_t)g->max_len, input);
        af_decode(input, len, draw, s);
        char what[96];
        snprintf(what, sizeof what, "running run %" PRIu64 " of seed %" PRIu64, i, g->seed);
        int run_rc = ref ? af_cli_judge_differential(slot, r, ref, s, i, what, input, len, &tr, v,
                                                     &ref_tr, ref_v, &err)
                         : af_cli_judge(slot, r, s, i, what, input, len, &tr, v, &err);
        if (run_rc < 0) {
            gen_harness_failure(g, s, i, &err);
            harness_failed = true;
            break;
        }
        if (ref && v->count)
            af_verdicts_drop_shared(af_runner_target(r), v, ref_v);
        if (!all_verdicts && v->count) {
            *all = *v;
            af_verdict_list_keep_findings(v, misuse);
        }
        if (v->count) {
            /* A signature new to this run is filed at once, before the next
             * run starts (the store: reports/findings.h); later runs of it
             * are counted. scenario.json expects every verdict of the run. */
            char origin[200];
            snprintf(origin, sizeof origin, "%s%s, run %" PRIu64, g->origin_base,
                     (draw & AF_DRAW_LOOP) && !(g->draw & AF_DRAW_LOOP) ? " --loop-ops" : "", i);
            af_findings_record_in in = {.scenario = s,
                                        .verdicts = v,
                                        .all_verdicts = all_verdicts ? NULL : all,
                                        .trace = &tr,
                                        .input = input,
                                        .input_len = len,
                                        .origin = origin,
                                        .target = g->run.target};
            if (af_findings_file_run(store, &in, NULL, 0, &err) < 0) {
                af_cli_print_error(AF_CMD_gen, NULL, &err);
                goto done;
            }
            if (af_findings_known_count(store) > sh->nknown)
                gen_mirror(sh, store, sh->nknown);
            sh->verdict_runs++;
        }
        sh->runs++;
        sh->next = i + 1;
        if ((++tick_runs & 63) == 0 && af_clock_seconds() - last_tick >= 1.0) {
            double t = af_clock_seconds();
            af_error ignored;
            af_findings_flush(store, &ignored); /* counts reach the folders every second */
            gen_mirror(sh, store, 0);
            if (!quiet) {
                fprintf(stderr,
                        "%sgen: %" PRIu64 " runs, %.0f runs/s, %zu findings (%" PRIu64
                        " runs with verdicts)%s",
                        tty ? "\r" : "", sh->runs, (double)sh->runs / (t - sh->t0),
                        af_findings_known_count(store), sh->verdict_runs, tty ? "\033[K" : "\n");
                fflush(stderr);
            }
            last_tick = t;
        }
    }
    if (!quiet && tty && sh->runs >= 64)
        fputc('\n', stderr);
    code = gen_end(g, store, harness_failed);
done:
    af_findings_close(store);
    if (tr_ok)
        af_trace_free(&tr);
    if (g->o.reference && ref_ok)
        af_trace_free(&ref_tr);
    free(ref_v);
    free(input);
    free(v);
    free(all);
    free(s);
    return code;
}

static void gen_init(void *shared, void *ctx)
{
    gen_job *g = ctx;
    g->sh = shared;
    g->sh->t0 = af_clock_seconds();
}

/* Add a signature the parent filed to the mirror (no child runs now). */
static void gen_mirror_filed(gen_shared *sh, const af_sup_filed *f)
{
    for (size_t k = 0; k < sh->nknown; k++)
        if (sh->known[k].signature == f->signature) {
            sh->known[k].hits++;
            return;
        }
    if (sh->nknown == GEN_KNOWN_CAP)
        return;
    af_findings_known *e = &sh->known[sh->nknown++];
    memset(e, 0, sizeof *e);
    e->signature = f->signature;
    snprintf(e->oracle, sizeof e->oracle, "%s", f->oracle);
    snprintf(e->text, sizeof e->text, "%s", f->text);
    e->hits = 1;
    e->first = (af_findings_result)f->result;
}

/* A child died: in a run, that run's input is a crash / hang finding and a
 * new child goes on from the next run; while loading the target adapter,
 * gen cannot run. */
static int gen_death(const af_sup_death *d, const af_sup_slot *slot, void *shared, void *ctx)
{
    gen_job *g = ctx;
    gen_shared *sh = shared;
    if (d->how == AF_SUP_STOPPED) { /* Ctrl-C before the child caught it */
        sh->stop_signal = d->signal;
        return AF_CLI_GO;
    }
    char text[2400];
    af_cli_death_text(d, slot, g->o.hang_timeout, text, sizeof text);
    if (d->phase == AF_SUP_STARTING || d->phase == AF_SUP_LOADING) {
        fprintf(stderr, "asyncfuzz gen: %s\n", text);
        return AF_EXIT_USAGE;
    }
    if (af_sup_stop_signal())
        sh->stop_signal = af_sup_stop_signal(); /* the next child only ends the campaign */
    if (!d->in_step) { /* between runs: not a run's doing; the same run again */
        fprintf(stderr, "asyncfuzz gen: %s; going on\n", text);
        return AF_CLI_GO;
    }
    fprintf(stderr, "asyncfuzz gen: %s; filed as a finding, going on with run %" PRIu64 "\n", text,
            d->step + 1);
    char origin[200];
    snprintf(origin, sizeof origin, "%s, run %" PRIu64, g->origin_base, d->step);
    af_sup_filing filing = {.findings_dir = g->store_dir,
                            .engine = "gen",
                            .target = g->run.target,
                            .origin = origin,
                            .misuse = g->misuse,
                            .hang_seconds = g->o.hang_timeout,
                            .log = g->o.quiet ? NULL : stderr};
    af_sup_filed filed;
    af_error err;
    memset(&err, 0, sizeof err);
    if (af_sup_file_death(&filing, d, slot, &filed, &err) < 0) {
        af_cli_print_error(AF_CMD_gen, NULL, &err);
        return AF_EXIT_USAGE;
    }
    gen_mirror_filed(sh, &filed);
    sh->runs++;
    sh->verdict_runs++;
    sh->next = d->step + 1;
    return AF_CLI_GO;
}

int af_cmd_gen(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_gen, &gen_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (!o.text[AF_OPT_seed])
        return af_cli_usage_error(AF_CMD_gen,
                                  "--seed is required (the same seed gives the same runs)");
    if (!o.text[AF_OPT_count])
        return af_cli_usage_error(AF_CMD_gen, "--count is required (0 runs until interrupted)");
    /* the campaign folder: --out, campaign.json, history (cli_campaign.h) */
    af_cli_campaign campaign_folder;
    if ((rc = af_cli_campaign_begin(&campaign_folder, AF_CMD_gen, &o, "gen", 1)) != AF_CLI_GO)
        return rc;
    gen_job g;
    memset(&g, 0, sizeof g);
    g.o = o;
    g.baseline = campaign_folder.baseline;
    af_options_to_runner(&o, &g.run);
    g.seed = o.seed;
    g.count = o.count;
    g.misuse = o.misuse;
    g.draw = af_cli_draw_flags(&o);
    g.max_len = o.max_len ? (int64_t)o.max_len : GEN_DEFAULT_MAX_LEN;
    snprintf(g.store_dir, sizeof g.store_dir, "%s/findings", o.gen_out);
    snprintf(g.origin_base, sizeof g.origin_base, "gen --seed %" PRIu64 "%s%s --max-len %" PRId64,
             g.seed, g.misuse ? " --misuse" : "", o.loop_ops ? " --loop-ops" : "", g.max_len);
    af_cli_supervised x = {.cmd = AF_CMD_gen,
                           .hang_seconds = o.hang_timeout,
                           .work = gen_work,
                           .on_death = gen_death,
                           .shared_size = sizeof(gen_shared),
                           .init = gen_init,
                           .graceful_stop = true,
                           .ctx = &g};
    int code = af_cli_supervise(&x);
    af_cli_figures fig = {.execs = g.sh ? g.sh->runs : 0,
                          .seconds = g.sh ? af_clock_seconds() - g.sh->t0 : 0};
    bool failed = code != AF_EXIT_OK;
    int end = af_cli_campaign_end(&campaign_folder, &fig, failed);
    return failed ? code : end;
}
