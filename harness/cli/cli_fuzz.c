/* cli_fuzz.c - the commands `fuzz` (one front door to every engine) and
 * `minimize` (shrink a finding while its verdict signature stays).
 *
 *   asyncfuzz fuzz [--engine builtin|libfuzzer|afl] [--corpus DIR] [--time S]
 *                  [--runs N] [--jobs N] [--out DIR] [--seed S] ...
 *   asyncfuzz minimize FINDING_DIR|SCENARIO.json [--out DIR] ...
 *
 * The options are the table's (harness/options/options.def); `fuzz` reads
 * their environment variables first, its command line wins. The builtin
 * engine is harness/engines/engine.h. libFuzzer and AFL++ are separate
 * binaries (asyncfuzz-libfuzzer, asyncfuzz-afl, next to this one): `fuzz`
 * starts them with the right flags and, in the child, the environment the
 * table writes from the options (af_options_to_env: AF_FINDINGS,
 * AF_COVERAGE, AF_KEEP_GOING, the budgets...), shows one progress line from
 * their output (libFuzzer) or from the inputs the AFL++ targets count
 * themselves (AF_EXEC_COUNTER) and afl-fuzz's fuzzer_stats, and the
 * findings land in OUT/findings like the builtin engine's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "harness/cli/cli_campaign.h"
#include "harness/engines/coverage.h"
#include "harness/engines/engine.h"
#include "harness/engines/flight.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "oracles/verdict.h"
#include "reports/aflstats.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"
#include "scenarios/minimize.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Signature folders in a findings store. */
static size_t count_findings(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (af_findings_is_sig_name(e->d_name))
            n++;
    closedir(d);
    return n;
}

/* ---- fuzz ---- */

static const af_cli_help fuzz_help = {
    .usage = "fuzz [OPTIONS]",
    .min_args = 0,
    .max_args = 0,
    .above = "Fuzz asyncio (stock asyncio, or the adapter --target names) with one of three\n"
             "engines. Inputs are fuzz bytes decoded with misuse off, so any verdict is a\n"
             "finding against the target. Findings go to OUT/findings/<signature>/\n"
             "(scenario.json, repro.py, verdict.json, verdicts.json, input.bin, count),\n"
             "one folder per signature, with OUT/findings/summary.json over all of them.\n"
             "An option with a variable (env AF_...) is read from the environment first\n"
             "(the command line wins), and every engine gets it: the libFuzzer and AFL++\n"
             "binaries through that variable.\n",
    .below = "The progress line (stderr, about once a second): elapsed time, execs, execs/s,\n"
             "features, corpus size, findings (new signatures / runs with a finding).\n\n"
             "OUT is a campaign folder with a memory (docs/campaigns.md): campaign.json keeps\n"
             "the settings of its first start (a resume with another target, reference,\n"
             "engine, coverage or interpreter is refused), history.jsonl one line per run,\n"
             "stats/<run>/ AFL++'s fuzzer_stats and plot_data (afl-whatsup OUT/stats).\n"
             "Each finding is labelled known (its signature is in the shipped baseline of the\n"
             "target and Python version, or a --baseline list) or new, on its FINDING line\n"
             "and in meta.json; the end lists this run's signatures, new first, and what is\n"
             "new since the last run.\n\n"
             "exit: 0 nothing new (known signatures only, or none), 1 a new signature,\n"
             "2 usage or setup error (an engine not built, counters that do not move, a\n"
             "campaign folder started with other settings)\n",
};

/* libFuzzer's longest input when --max-len is not given: scenarios are
 * small, and a fixed cap with -len_control=0 finds deep interleavings
 * sooner (docs/engines.md). */
#define LIBFUZZER_DEFAULT_MAX_LEN 128

/* The engines' runs: 0, or -1 when the engine could not run as asked
 * (printed); what they did in fig. */
static int run_builtin(const af_options *o, const af_cli_campaign *c, af_cli_figures *fig)
{
    af_engine_stats st;
    af_error err;
    memset(&err, 0, sizeof err);
    af_engine_options eo;
    if (af_engine_options_from(&eo, o, stderr, &err) < 0) {
        af_cli_usage_error(AF_CMD_fuzz, "%s: %s", err.path, err.message);
        return -1;
    }
    eo.stats_dir = c->stats_dir;
    int rc = af_engine_run(&eo, &st, &err);
    *fig = (af_cli_figures){.execs = st.execs,
                            .seconds = st.seconds,
                            .has_features = true,
                            .features = st.features,
                            .corpus = st.corpus};
    if (rc == 2) {
        fprintf(stderr, "asyncfuzz fuzz: %s\n", err.message);
        return -1;
    }
    char findings[PATH_MAX];
    snprintf(findings, sizeof findings, "%s/findings", eo.out_dir);
    fprintf(stderr,
            "asyncfuzz fuzz: builtin, %d job(s): %" PRIu64 " execs in %.1f s (%.0f/s), %" PRIu64
            " features, %" PRIu64 " signature(s) met, %" PRIu64
            " run(s) with a finding%s; %zu signature(s) in %s/\n",
            eo.jobs, st.execs, st.seconds, st.seconds > 0 ? st.execs / st.seconds : 0.0,
            st.features, st.unique_findings, st.total_findings,
            st.crashes + st.hangs ? " (crashes/hangs included)" : "", count_findings(findings),
            findings);
    if (st.first_finding_seconds > 0)
        fprintf(stderr, "asyncfuzz fuzz: first finding after %.3f s (%" PRIu64 " execs)\n",
                st.first_finding_seconds, st.first_finding_execs);
    if (eo.stop_on) {
        if (st.stop_on_seconds > 0)
            fprintf(stderr, "asyncfuzz fuzz: '%s' found after %.3f s (%" PRIu64 " execs)\n",
                    eo.stop_on, st.stop_on_seconds, st.stop_on_execs);
        else
            fprintf(stderr, "asyncfuzz fuzz: '%s' not found\n", eo.stop_on);
    }
    return 0;
}

/* --- external engines --- */

static volatile sig_atomic_t ext_stop;
static void on_ext_stop(int sig)
{
    (void)sig;
    ext_stop = 1;
}

const char *af_cli_source_path(const char *rel, char *buf, size_t cap)
{
    struct stat st;
    if (stat(rel, &st) == 0) {
        snprintf(buf, cap, "%s", rel);
        return buf;
    }
    char dir[PATH_MAX];
    af_cli_self_dir(dir, sizeof dir);
    snprintf(buf, cap, "%s/../%s", dir, rel);
    return stat(buf, &st) == 0 ? buf : NULL;
}

static const char *find_dict(const char *given, char *buf, size_t cap)
{
    return given ? given : af_cli_source_path("corpus/asyncio.dict", buf, cap);
}

/* Pull "key: value" numbers out of a libFuzzer status line. */
static bool lf_number(const char *line, const char *key, uint64_t *out)
{
    const char *p = strstr(line, key);
    if (!p)
        return false;
    p += strlen(key);
    while (*p == ' ')
        p++;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

static void ext_progress(bool tty, const char *engine, double elapsed, uint64_t execs,
                         uint64_t rate, uint64_t features, uint64_t corpus, size_t findings,
                         bool final)
{
    char line[256];
    snprintf(line, sizeof line,
             "[%s] %5.0fs  execs %" PRIu64 " (%" PRIu64 "/s)  features %" PRIu64 "  corpus %" PRIu64
             "  findings %zu",
             engine, elapsed, execs, rate, features, corpus, findings);
    if (tty)
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

/* What the front door adds to the options for the engine binaries: the
 * findings folder, and going on past new findings (its restarts and
 * progress line rely on it). findings must outlive o. 0, or -1 (printed). */
static int add_engine_options(af_options *o, const char *findings)
{
    af_error err;
    if (af_options_set(o, AF_OPT_findings_dir, findings, "AF_FINDINGS", &err) < 0 ||
        af_options_set(o, AF_OPT_keep_going, "1", "AF_KEEP_GOING", &err) < 0) {
        fprintf(stderr, "asyncfuzz fuzz: %s: %s\n", err.path, err.message);
        return -1;
    }
    return 0;
}

/* In a child about to exec an engine binary: its environment from o. */
static void export_options(const af_options *o)
{
    if (af_options_to_env(o) < 0) {
        fprintf(stderr, "asyncfuzz fuzz: cannot set the engine's environment: %s\n",
                strerror(errno));
        _exit(127);
    }
}

/* What one libFuzzer process did, read from its stderr. */
typedef struct lf_progress {
    uint64_t execs, rate, ft, corp; /* of the current process */
    uint64_t execs_before;          /* of the processes before it */
    int artifacts;                  /* "Test unit written to" lines */
    bool stopping;
    af_aflstats_run stats;  /* the run's AFL++-format statistics, from these figures */
    size_t findings_before; /* signature folders at the start */
} lf_progress;

/* The statistics files from what libFuzzer printed so far. */
static void lf_stats(lf_progress *p, double elapsed, const char *findings, bool final)
{
    size_t nf = count_findings(findings);
    af_aflstats_tick(&p->stats, elapsed, p->execs_before + p->execs, p->ft, p->corp,
                     nf > p->findings_before ? nf - p->findings_before : 0, 0, final);
}

/* Relays one libFuzzer process's stderr: the log file gets everything, the
 * terminal the findings and errors, and the progress line. */
static void lf_pump(FILE *in, FILE *logf, pid_t pid, bool tty, double start, const char *findings,
                    lf_progress *p)
{
    char line[4096];
    double last = 0;
    while (fgets(line, sizeof line, in)) {
        if (logf)
            fputs(line, logf);
        if (ext_stop && !p->stopping) {
            kill(-pid, SIGINT);
            p->stopping = true;
        }
        if (strncmp(line, "asyncfuzz: FINDING", 18) == 0 || strncmp(line, "  ", 2) == 0) {
            if (strncmp(line, "asyncfuzz: FINDING", 18) == 0)
                fputs(tty ? "\r\033[K" : "", stderr);
            if (strncmp(line, "asyncfuzz: ", 11) == 0 || strstr(line, "finding:") ||
                strstr(line, "repro:"))
                fputs(line, stderr);
            continue;
        }
        if (line[0] == '#') {
            uint64_t v;
            if (lf_number(line, "#", &v))
                p->execs = v;
            if (lf_number(line, "ft:", &v))
                p->ft = v;
            if (lf_number(line, "corp:", &v))
                p->corp = v;
            if (lf_number(line, "exec/s:", &v) || lf_number(line, "exec/s", &v))
                p->rate = v;
        } else if (strstr(line, "Test unit written to")) {
            p->artifacts++;
            fputs(line, stderr);
        } else if (strstr(line, "ERROR") || strstr(line, "refuses") || strstr(line, "asyncfuzz:")) {
            fputs(line, stderr);
        }
        double t = af_clock_seconds();
        if (line[0] == '#')
            lf_stats(p, t - start, findings, false);
        if (t - last >= (tty ? 1.0 : 5.0)) {
            ext_progress(tty, "libfuzzer", t - start, p->execs_before + p->execs, p->rate, p->ft,
                         p->corp, count_findings(findings), false);
            last = t;
        }
    }
}

/* Starts asyncfuzz-libfuzzer with argv and the options' environment, its
 * stderr on a pipe; -1 on error. */
static pid_t lf_spawn(const char *bin, char **argv, const af_options *o, FILE **out)
{
    int pipefd[2];
    if (pipe(pipefd) < 0) {
        perror("asyncfuzz fuzz: pipe");
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        export_options(o);
        execv(bin, argv);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    *out = fdopen(pipefd[0], "r");
    return pid;
}

/* The libFuzzer command line of one process, given what is left of the
 * campaign's time and runs. Returns argc; strings live in opt. */
static int lf_argv(const af_options *o, const char *bin, const char *corpus, const char *artifacts,
                   double time_left, uint64_t runs_left, int restart, char **argv,
                   char opt[][PATH_MAX + 64])
{
    int n = 0, k = 0;
    argv[n++] = (char *)bin;
#define OPT(...) (snprintf(opt[k], PATH_MAX + 64, __VA_ARGS__), argv[n++] = opt[k++])
    if (time_left > 0)
        OPT("-max_total_time=%.0f", time_left < 1 ? 1 : time_left);
    if (runs_left)
        OPT("-runs=%" PRIu64, runs_left);
    if (o->seed) /* a restart must not walk the same mutations again */
        OPT("-seed=%" PRIu64, (o->seed + 7919u * (uint64_t)restart) % 4294967295u);
    if (o->jobs > 1) {
        /* a crash or hang stops only its own job */
        OPT("-fork=%d", (int)o->jobs);
        OPT("-ignore_crashes=1");
    }
    /* libFuzzer's own hang limit, just past the flight record's mark */
    OPT("-timeout=%.0f", o->hang_timeout + 1);
    OPT("-artifact_prefix=%s", artifacts);
    /* the measured recommendation (docs/engines.md): scenarios are small,
     * a fixed length cap finds deep interleavings sooner */
    OPT("-max_len=%d", o->max_len ? (int)o->max_len : LIBFUZZER_DEFAULT_MAX_LEN);
    OPT("-len_control=0");
    OPT("-print_final_stats=1");
    char dictbuf[PATH_MAX];
    const char *dict = find_dict(o->dict, dictbuf, sizeof dictbuf);
    if (dict)
        OPT("-dict=%s", dict);
#undef OPT
    argv[n++] = (char *)corpus;
    if (o->corpus_dir)
        argv[n++] = (char *)o->corpus_dir;
    argv[n] = NULL;
    return n;
}

/* Files what dead targets left in their flight records (the last process
 * of a campaign has no successor to do it). */
static void recover_flights(const char *findings)
{
    char by[64];
    snprintf(by, sizeof by, "the front door (pid %d)", (int)getpid());
    af_flight_recover(findings, by, stderr, NULL, NULL);
}

static int run_libfuzzer(af_options *o, const af_cli_campaign *c, af_cli_figures *fig)
{
    char bin[PATH_MAX + 32];
    if (af_cli_find_engine(
            AF_CMD_fuzz, bin, sizeof bin, "asyncfuzz-libfuzzer", "libFuzzer",
            "Build it with clang (cmake -S . -B build && cmake --build build --target "
            "asyncfuzz-libfuzzer)") < 0)
        return -1;
    char findings[PATH_MAX], corpus[PATH_MAX], artifacts[PATH_MAX + 16], logpath[PATH_MAX + 16];
    snprintf(findings, sizeof findings, "%s/findings", o->out_dir);
    /* New inputs go to OUT/corpus; --corpus is read as seeds, never written
     * (libFuzzer writes into its first corpus folder only). */
    snprintf(corpus, sizeof corpus, "%s/corpus", o->out_dir);
    snprintf(artifacts, sizeof artifacts, "%s/artifacts/", o->out_dir);
    snprintf(logpath, sizeof logpath, "%s/libfuzzer.log", o->out_dir);
    af_error err;
    if (af_mkdirs(findings, &err) < 0 || af_mkdirs(corpus, &err) < 0 ||
        af_mkdirs(artifacts, &err) < 0) {
        fprintf(stderr, "asyncfuzz fuzz: %s\n", err.message);
        return -1;
    }
    if (add_engine_options(o, findings) < 0)
        return -1;

    FILE *logf = fopen(logpath, "w");
    struct sigaction sa, oi, ot;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_ext_stop;
    sigaction(SIGINT, &sa, &oi);
    sigaction(SIGTERM, &sa, &ot);
    bool tty = isatty(2);
    double start = af_clock_seconds();
    lf_progress p;
    memset(&p, 0, sizeof p);
    /* libFuzzer's features: up to 8 hit-count buckets per extra counter */
    af_aflstats_start(&p.stats, c->stats_dir, "asyncfuzz libfuzzer", (uint64_t)AF_COV_MAP_SIZE * 8,
                      o->hang_timeout * 1000);
    p.findings_before = count_findings(findings);
    int status = 0, restarts = 0, idle_deaths = 0;
    bool setup_failed = false;
    /* One libFuzzer process without -fork stops at a crash or hang of the
     * target: the flight record keeps the input, and the next process
     * (started here) files it and goes on with the same corpus. */
    for (;;) {
        double left = o->max_time > 0 ? o->max_time - (af_clock_seconds() - start) : 0;
        uint64_t done = p.execs_before + p.execs;
        if ((o->max_time > 0 && left < 0.5) || (o->max_runs && done >= o->max_runs))
            break;
        char *argv[40];
        char opt[20][PATH_MAX + 64];
        lf_argv(o, bin, corpus, artifacts, left, o->max_runs ? o->max_runs - done : 0, restarts,
                argv, opt);
        FILE *in = NULL;
        pid_t pid = lf_spawn(bin, argv, o, &in);
        if (pid < 0 || !in) {
            setup_failed = true;
            break;
        }
        p.execs = 0;
        lf_pump(in, logf, pid, tty, start, findings, &p);
        fclose(in);
        waitpid(pid, &status, 0);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        /* -fork (jobs > 1) goes on past crashes itself (-ignore_crashes) */
        if (code == 0 || ext_stop || p.stopping || o->jobs > 1)
            break;
        if (code == AF_EXIT_USAGE || code == 127) {
            setup_failed = true; /* our own start-up refused (message shown) */
            break;
        }
        idle_deaths = p.execs == 0 ? idle_deaths + 1 : 0;
        if (idle_deaths >= 3) {
            fprintf(stderr,
                    "\nasyncfuzz fuzz: libFuzzer keeps dying before it runs an input "
                    "(status %d); stopping\n",
                    code);
            setup_failed = true;
            break;
        }
        p.execs_before += p.execs;
        restarts++;
        fprintf(stderr,
                "%sasyncfuzz fuzz: libFuzzer stopped on a crash or hang (status %d); "
                "restarting (%d) on the same corpus\n",
                tty ? "\r\033[K" : "", code, restarts);
        if (logf)
            fprintf(logf, "asyncfuzz fuzz: restart %d after status %d\n", restarts, code);
    }
    sigaction(SIGINT, &oi, NULL);
    sigaction(SIGTERM, &ot, NULL);
    if (logf)
        fclose(logf);
    recover_flights(findings);
    size_t nf = count_findings(findings);
    double elapsed = af_clock_seconds() - start;
    ext_progress(tty, "libfuzzer", elapsed, p.execs_before + p.execs, p.rate, p.ft, p.corp, nf,
                 true);
    lf_stats(&p, elapsed, findings, true);
    *fig = (af_cli_figures){.execs = p.execs_before + p.execs,
                            .seconds = elapsed,
                            .has_features = true,
                            .features = p.ft,
                            .corpus = p.corp};
    af_findings_summary(findings, NULL, NULL, &err);
    fprintf(stderr,
            "asyncfuzz fuzz: libFuzzer exited with status %d after %d restart(s); log in %s; "
            "findings in %s/%s%s\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), restarts, logpath,
            findings, p.artifacts ? "; libFuzzer's own crash files in " : "",
            p.artifacts ? artifacts : "");
    if (setup_failed || (o->jobs > 1 && status != 0)) {
        fprintf(stderr, "asyncfuzz fuzz: libFuzzer failed; see %s\n", logpath);
        return -1;
    }
    return 0;
}

/* One fuzzer_stats value. */
static bool stats_value(const char *text, const char *key, uint64_t *out)
{
    const char *p = text;
    size_t kl = strlen(key);
    while ((p = strstr(p, key))) {
        if ((p == text || p[-1] == '\n') && (p[kl] == ' ' || p[kl] == ':')) {
            const char *c = strchr(p, ':');
            if (!c)
                return false;
            *out = strtoull(c + 1, NULL, 10);
            return true;
        }
        p += kl;
    }
    return false;
}

/* The inputs afl-fuzz instance `name` has run, counted by its target
 * (AF_EXEC_COUNTER, harness/engines/fuzz_afl.c): an 8-byte file in the AFL output
 * folder, zeroed before the instance starts. */
static void reset_exec_counter(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    uint64_t zero = 0;
    if (write(fd, &zero, sizeof zero) != (ssize_t)sizeof zero)
        (void)unlink(path);
    close(fd);
}

static uint64_t live_execs(const char *aflout, int jobs)
{
    uint64_t sum = 0;
    for (int j = 0; j < jobs; j++) {
        char path[PATH_MAX + 32], name[32];
        snprintf(name, sizeof name, j == 0 ? "main" : "sec%d", j);
        snprintf(path, sizeof path, "%s/%s.execs", aflout, name);
        int fd = open(path, O_RDONLY);
        uint64_t v = 0;
        if (fd >= 0) {
            if (pread(fd, &v, sizeof v, 0) == (ssize_t)sizeof v)
                sum += v;
            close(fd);
        }
    }
    return sum;
}

/* afl-fuzz's own statistics of the main instance in the run's stats
 * folder: links while it runs (afl-whatsup OUT/stats sees it live), copies
 * at the end (the next run reuses OUT/afl). */
static void afl_stats(const char *aflout, const char *stats_dir, bool final)
{
    static const char *const files[] = {"fuzzer_stats", "plot_data", NULL};
    af_error err;
    if (!stats_dir[0] || af_mkdirs(stats_dir, &err) < 0)
        return;
    for (int i = 0; files[i]; i++) {
        char from[PATH_MAX + 64], to[PATH_MAX + 192];
        snprintf(from, sizeof from, "%s/main/%s", aflout, files[i]);
        snprintf(to, sizeof to, "%s/%s", stats_dir, files[i]);
        unlink(to);
        if (!final) {
            if (symlink(from, to) != 0)
                fprintf(stderr, "asyncfuzz fuzz: cannot link %s: %s\n", to, strerror(errno));
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        if (af_read_file(from, 64 << 20, &text, &len, &err) == 0)
            af_write_file(to, text, len, &err);
        free(text);
    }
}

static int run_afl(af_options *o, const af_cli_campaign *c, af_cli_figures *fig)
{
    char bin[PATH_MAX + 32];
    if (af_cli_find_engine(AF_CMD_fuzz, bin, sizeof bin, "asyncfuzz-afl", "AFL++",
                           "Install Debian's afl++ and rebuild (cmake finds afl-clang-fast)") < 0)
        return -1;
    const char *afl_fuzz = "afl-fuzz";
    if (system("command -v afl-fuzz >/dev/null 2>&1") != 0) {
        fprintf(stderr, "asyncfuzz fuzz: afl-fuzz is not installed (Debian package afl++)\n");
        return -1;
    }
    char findings[PATH_MAX], corpus[PATH_MAX], aflout[PATH_MAX + 16];
    snprintf(findings, sizeof findings, "%s/findings", o->out_dir);
    if (o->corpus_dir)
        snprintf(corpus, sizeof corpus, "%s", o->corpus_dir);
    else
        snprintf(corpus, sizeof corpus, "%s/corpus", o->out_dir);
    snprintf(aflout, sizeof aflout, "%s/afl", o->out_dir);
    af_error err;
    if (af_mkdirs(findings, &err) < 0 || af_mkdirs(corpus, &err) < 0 ||
        af_mkdirs(aflout, &err) < 0) {
        fprintf(stderr, "asyncfuzz fuzz: %s\n", err.message);
        return -1;
    }
    /* afl-fuzz wants at least one seed */
    DIR *d = opendir(corpus);
    bool any = false;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            any = true;
    if (d)
        closedir(d);
    if (!any) {
        char seed[PATH_MAX + 16];
        snprintf(seed, sizeof seed, "%s/empty", corpus);
        af_write_file(seed, "\0", 1, &err);
    }
    if (add_engine_options(o, findings) < 0)
        return -1;
    /* afl-fuzz's own settings (not asyncfuzz options) */
    setenv("AFL_NO_UI", "1", 1);
    setenv("AFL_SKIP_CPUFREQ", "1", 1);
    setenv("AFL_FAST_CAL", "1", 0); /* measured: faster start, same finds */
    setenv("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1", 1);
    /* a seed that crashes is filed and quarantined by the target's start-up
     * check; should one still crash, afl-fuzz must not refuse to start */
    setenv("AFL_SKIP_CRASHES", "1", 1);
    setenv("AFL_SUPPRESS_AFL_ENV_WARNINGS", "1", 1);
    /* the campaign folder goes on where its last run stopped: afl-fuzz
     * resumes OUT/afl's queue instead of refusing a folder holding more
     * than 25 minutes of an earlier run (docs/campaigns.md) */
    setenv("AFL_AUTORESUME", "1", 0);
    /* the structure-aware custom mutator (harness/engines/afl_mutator.c), next to
     * the binary; AFL++'s havoc still runs after it */
    char dir[PATH_MAX], mutator[PATH_MAX + 32];
    af_cli_self_dir(dir, sizeof dir);
    snprintf(mutator, sizeof mutator, "%s/asyncfuzz-afl-mutator.so", dir);
    if (access(mutator, R_OK) == 0)
        setenv("AFL_CUSTOM_MUTATOR_LIBRARY", mutator, 0);
    if (!getenv("AFL_MAP_SIZE")) {
        char ms[32];
        snprintf(ms, sizeof ms, "%d", AF_COV_MAP_SIZE);
        setenv("AFL_MAP_SIZE", ms, 1);
    }
    int jobs = (int)o->jobs;
    pid_t pids[256];
    char dictbuf[PATH_MAX];
    const char *dict = find_dict(o->dict, dictbuf, sizeof dictbuf);
    fflush(NULL);
    for (int j = 0; j < jobs && j < 256; j++) {
        char name[32], vtime[32], logp[PATH_MAX + 32];
        snprintf(name, sizeof name, j == 0 ? "main" : "sec%d", j);
        snprintf(vtime, sizeof vtime, "%.0f",
                 o->max_time > 0 ? (o->max_time < 1 ? 1 : o->max_time) : 0);
        snprintf(logp, sizeof logp, "%s/%s.log", aflout, name);
        char *argv[24];
        int n = 0;
        argv[n++] = (char *)afl_fuzz;
        argv[n++] = "-i";
        argv[n++] = corpus;
        argv[n++] = "-o";
        argv[n++] = aflout;
        argv[n++] = j == 0 ? "-M" : "-S";
        argv[n++] = name;
        if (o->max_time > 0) {
            argv[n++] = "-V";
            argv[n++] = vtime;
        }
        /* afl-fuzz's hang limit, just past the flight record's mark */
        char tmo[32];
        snprintf(tmo, sizeof tmo, "%.0f", (o->hang_timeout + 1) * 1000);
        argv[n++] = "-t";
        argv[n++] = tmo;
        char runs[32];
        if (o->max_runs) {
            snprintf(runs, sizeof runs, "%" PRIu64,
                     (o->max_runs + (uint64_t)jobs - 1) / (uint64_t)jobs);
            argv[n++] = "-E";
            argv[n++] = runs;
        }
        char seedbuf[32];
        if (o->seed) {
            snprintf(seedbuf, sizeof seedbuf, "%" PRIu64, o->seed + (uint64_t)j);
            argv[n++] = "-s";
            argv[n++] = seedbuf;
        }
        if (dict) {
            argv[n++] = "-x";
            argv[n++] = (char *)dict;
        }
        argv[n++] = "--";
        argv[n++] = bin;
        argv[n] = NULL;
        char counterp[PATH_MAX + 32];
        snprintf(counterp, sizeof counterp, "%s/%s.execs", aflout, name);
        reset_exec_counter(counterp);
        pid_t pid = fork();
        if (pid == 0) {
            /* the target's count of inputs run (harness/engines/fuzz_afl.c) */
            af_options_set(o, AF_OPT_exec_counter, counterp, "AF_EXEC_COUNTER", NULL);
            export_options(o);
            int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execvp(afl_fuzz, argv);
            _exit(127);
        }
        pids[j] = pid;
    }
    struct sigaction sa, oi, ot;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_ext_stop;
    sigaction(SIGINT, &sa, &oi);
    sigaction(SIGTERM, &sa, &ot);
    bool tty = isatty(2);
    double start = af_clock_seconds();
    afl_stats(aflout, c->stats_dir, false);
    int alive = jobs;
    int worst = 0;
    uint64_t execs = 0, rate = 0, edges = 0, corp = 0;
    while (alive > 0) {
        usleep(200000);
        if (ext_stop)
            for (int j = 0; j < jobs; j++)
                if (pids[j] > 0)
                    kill(pids[j], SIGINT);
        int status;
        pid_t p;
        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
            for (int j = 0; j < jobs; j++)
                if (pids[j] == p) {
                    pids[j] = 0;
                    alive--;
                    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                    if (code > worst)
                        worst = code;
                }
        execs = rate = edges = corp = 0;
        for (int j = 0; j < jobs; j++) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%s/fuzzer_stats", aflout, j == 0 ? "main" : "");
            if (j > 0)
                snprintf(path, sizeof path, "%s/sec%d/fuzzer_stats", aflout, j);
            char *text = NULL;
            size_t len;
            if (af_read_file(path, 1 << 20, &text, &len, &err) != 0)
                continue;
            uint64_t v;
            if (stats_value(text, "execs_done", &v))
                execs += v;
            if (stats_value(text, "execs_per_sec", &v))
                rate += v;
            if (stats_value(text, "edges_found", &v) && v > edges)
                edges = v;
            if (stats_value(text, "corpus_count", &v) && v > corp)
                corp = v;
            free(text);
        }
        /* the targets' own count is live; fuzzer_stats is a minute old */
        static double last, last_t;
        static uint64_t last_live;
        double t = af_clock_seconds();
        uint64_t live = live_execs(aflout, jobs);
        if (live > execs) {
            execs = live;
            if (t > last_t && live >= last_live && last_t > 0)
                rate = (uint64_t)((double)(live - last_live) / (t - last_t));
        }
        if (t - last >= (tty ? 1.0 : 5.0)) {
            ext_progress(tty, "afl", t - start, execs, rate, edges, corp, count_findings(findings),
                         false);
            last = t;
            last_live = live;
            last_t = t;
        }
    }
    sigaction(SIGINT, &oi, NULL);
    sigaction(SIGTERM, &ot, NULL);
    recover_flights(findings);
    size_t nf = count_findings(findings);
    double elapsed = af_clock_seconds() - start;
    ext_progress(tty, "afl", elapsed, execs, rate, edges, corp, nf, true);
    afl_stats(aflout, c->stats_dir, true);
    *fig = (af_cli_figures){.execs = execs,
                            .seconds = elapsed,
                            .has_features = true,
                            .features = edges,
                            .corpus = corp};
    af_findings_summary(findings, NULL, NULL, &err);
    fprintf(stderr, "asyncfuzz fuzz: afl-fuzz done (logs and queues in %s/); findings in %s/\n",
            aflout, findings);
    if (worst != 0 && execs == 0) {
        fprintf(stderr, "asyncfuzz fuzz: afl-fuzz failed (exit %d); see %s/main.log\n", worst,
                aflout);
        return -1;
    }
    return 0;
}

/* The target adapter loads (in a supervised child): whatever the engine,
 * an adapter that raises, exits, crashes or loops at import is an error
 * before any engine starts. */
static int load_work(af_sup_slot *slot, void *ctx)
{
    af_runner_options ro;
    af_options_to_runner(ctx, &ro);
    return af_cli_runner(AF_CMD_fuzz, slot, &ro, NULL) ? AF_EXIT_OK : AF_EXIT_USAGE;
}

int af_cmd_fuzz(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_fuzz, &fuzz_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (o.target) {
        af_cli_supervised x = {
            .cmd = AF_CMD_fuzz, .hang_seconds = o.hang_timeout, .work = load_work, .ctx = &o};
        if ((rc = af_cli_supervise(&x)) != AF_EXIT_OK)
            return rc;
    }
    af_cli_campaign c;
    rc = af_cli_campaign_begin(&c, AF_CMD_fuzz, &o, o.engine, (int)o.jobs);
    if (rc != AF_CLI_GO)
        return rc;
    af_cli_figures fig = {0};
    int ran = strcmp(o.engine, "libfuzzer") == 0 ? run_libfuzzer(&o, &c, &fig)
              : strcmp(o.engine, "afl") == 0     ? run_afl(&o, &c, &fig)
                                                 : run_builtin(&o, &c, &fig);
    return af_cli_campaign_end(&c, &fig, ran < 0);
}

/* ---- minimize ---- */

static const af_cli_help minimize_help = {
    .usage = "minimize FINDING_DIR|SCENARIO.json [OPTIONS]",
    .args = "FINDING_DIR or SCENARIO.json",
    .min_args = 1,
    .max_args = 1,
    .above = "Shrink a failing scenario at the IR level (delete operations and tasks,\n"
             "hoist bodies, shorten durations, simplify handlers and exceptions...) while\n"
             "running it still gives a verdict with the same signature. Prints the sizes\n"
             "before and after and writes the smaller scenario.json, repro.py,\n"
             "verdict.json and verdicts.json.\n\n"
             "The signature kept: the finding folder's (its name / verdict.json), or\n"
             "--signature HEX, or for a scenario file the first verdict of its run\n"
             "(--oracle NAME: the first verdict of that oracle).\n"
             "An option with a variable (env AF_...) is read from the environment first,\n"
             "as `fuzz` does (the command line wins): a campaign's AF_TARGET applies.\n",
    .below = "exit: 0 minimised (it still reproduces), 1 the input does not reproduce,\n"
             "2 usage or input error\n",
};

typedef struct min_ctx {
    af_runner *runner, *ref; /* the target; the reference (--reference), or NULL */
    af_trace trace, ref_trace;
    af_verdict_list verdicts, ref_verdicts;
    uint64_t sig;
    int errors;
    af_sup_slot *slot; /* each run is a step of the supervised child */
    uint64_t runs;
    const char *file;
} min_ctx;

/* One run of the minimisation, marked as a step: "running candidate N of
 * FILE"; on the reference too when there is one (the differential
 * oracle's verdicts join c->verdicts). */
static int min_run(min_ctx *c, const af_scenario *s, const char *kind, af_error *err)
{
    char what[PATH_MAX + 96];
    snprintf(what, sizeof what, "running %s %" PRIu64 " of %s", kind, c->runs, c->file);
    if (c->ref)
        return af_cli_judge_differential(c->slot, c->runner, c->ref, s, c->runs++, what, NULL, 0,
                                         &c->trace, &c->verdicts, &c->ref_trace, &c->ref_verdicts,
                                         err);
    return af_cli_judge(c->slot, c->runner, s, c->runs++, what, NULL, 0, &c->trace, &c->verdicts,
                        err);
}

static bool min_pred(const af_scenario *cand, void *vctx)
{
    min_ctx *c = vctx;
    af_error err;
    if (min_run(c, cand, "candidate", &err) != 0) {
        c->errors++;
        return false;
    }
    for (int i = 0; i < c->verdicts.count; i++)
        if (c->verdicts.items[i].signature == c->sig)
            return true;
    return false;
}

static int read_sig_from(const char *dir, uint64_t *sig)
{
    const char *base = strrchr(dir, '/');
    char name[64];
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    base = dir;
    for (size_t i = 0; i < n; i++)
        if (dir[i] == '/')
            base = dir + i + 1;
    size_t bl = (size_t)(dir + n - base);
    if (bl < sizeof name) {
        memcpy(name, base, bl);
        name[bl] = '\0';
        if (af_findings_is_sig_name(name)) {
            *sig = strtoull(name, NULL, 16);
            return 0;
        }
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    char *text = NULL;
    size_t len;
    af_error err;
    if (af_read_file(path, 1 << 20, &text, &len, &err) != 0)
        return -1;
    const char *h = strstr(text, "\"hash\"");
    int rc = -1;
    if (h && (h = strchr(h + 6, '"'))) {
        char hex[17];
        memcpy(hex, h + 1, 16);
        hex[16] = '\0';
        if (af_findings_is_sig_name(hex)) {
            *sig = strtoull(hex, NULL, 16);
            rc = 0;
        }
    }
    free(text);
    return rc;
}

/* minimize's work, in the supervised child. */
static int minimize_work(af_sup_slot *slot, void *ctx)
{
    const af_options o = *(const af_options *)ctx;
    const char *input = o.args[0], *out = o.minimize_out, *oracle = o.oracle;
    uint64_t sig = 0, max_calls = o.max_calls;
    bool have_sig = o.signature != NULL;
    if (have_sig)
        sig = strtoull(o.signature, NULL, 16);

    static af_scenario in, outs;
    char scen_path[PATH_MAX + 32], out_dir[PATH_MAX + 32];
    af_error err;
    memset(&err, 0, sizeof err);
    bool finding_dir = is_dir(input);
    if (finding_dir) {
        snprintf(scen_path, sizeof scen_path, "%s/scenario.json", input);
        if (!have_sig && !oracle && read_sig_from(input, &sig) == 0)
            have_sig = true;
        snprintf(out_dir, sizeof out_dir, "%s/minimized", input);
    } else {
        snprintf(scen_path, sizeof scen_path, "%s", input);
        size_t n = strlen(input);
        if (n > 5 && strcmp(input + n - 5, ".json") == 0)
            snprintf(out_dir, sizeof out_dir, "%.*s-min", (int)(n - 5), input);
        else
            snprintf(out_dir, sizeof out_dir, "%s-min", input);
    }
    if (out)
        snprintf(out_dir, sizeof out_dir, "%s", out);
    if (af_json_read_file(scen_path, &in, &err) != 0) {
        char buf[1024];
        af_error_format(&err, scen_path, buf, sizeof buf);
        fprintf(stderr, "asyncfuzz minimize: %s\n", buf);
        return AF_EXIT_USAGE;
    }

    af_runner_options ro;
    af_options_to_runner(&o, &ro);
    /* a finding folder is minimised on the target it was found on */
    if (finding_dir && !ro.target[0])
        af_findings_recorded_target(input, ro.target, sizeof ro.target);
    static min_ctx c;
    memset(&c, 0, sizeof c);
    if (af_trace_init(&c.trace, 0, 0) < 0 || af_trace_init(&c.ref_trace, 0, 0) < 0) {
        fprintf(stderr, "asyncfuzz minimize: out of memory\n");
        return AF_EXIT_USAGE;
    }
    c.slot = slot;
    c.file = scen_path;
    c.runner = af_cli_runner(AF_CMD_minimize, slot, &ro, NULL);
    if (!c.runner)
        return AF_EXIT_USAGE;
    if (o.reference && !(c.ref = af_cli_runner_for(AF_CMD_minimize, slot, &ro, o.reference, NULL)))
        return AF_EXIT_USAGE;
    /* the input's own run: does it reproduce, and which signature */
    if (min_run(&c, &in, "the input, run", &err) != 0) {
        fprintf(stderr, "asyncfuzz minimize: %s: the run failed: %s\n", scen_path, err.message);
        return AF_EXIT_USAGE;
    }
    int primary = -1;
    for (int i = 0; i < c.verdicts.count && primary < 0; i++) {
        const af_verdict *v = &c.verdicts.items[i];
        if (have_sig ? v->signature == sig
                     : (!oracle || strcmp(af_oracle_name(v->oracle), oracle) == 0))
            primary = i;
    }
    if (primary < 0) {
        if (have_sig)
            fprintf(
                stderr,
                "asyncfuzz minimize: %s does not reproduce: no verdict with signature %016" PRIx64
                " (%d verdict(s) of other signatures)\n",
                scen_path, sig, c.verdicts.count);
        else
            fprintf(stderr, "asyncfuzz minimize: %s does not reproduce: no %s verdict\n", scen_path,
                    oracle ? oracle : "");
        return AF_EXIT_FINDING;
    }
    c.sig = sig = c.verdicts.items[primary].signature;
    printf("signature %016" PRIx64 " %s: %s\n", sig,
           af_oracle_name(c.verdicts.items[primary].oracle),
           c.verdicts.items[primary].signature_text);

    af_minimize_stats st = {.max_calls = (int)max_calls};
    double t0 = af_clock_seconds();
    if (af_minimize(&in, min_pred, &c, &outs, &st) != 0) {
        fprintf(stderr, "asyncfuzz minimize: the input stopped reproducing (flaky?)\n");
        return AF_EXIT_FINDING;
    }
    double dt = af_clock_seconds() - t0;
    /* the result's own run: its verdicts and trace go with it */
    if (min_run(&c, &outs, "the result, run", &err) != 0 || !min_pred(&outs, &c)) {
        fprintf(stderr, "asyncfuzz minimize: the minimised scenario does not reproduce (flaky?)\n");
        return AF_EXIT_FINDING;
    }
    primary = 0;
    for (int i = 0; i < c.verdicts.count; i++)
        if (c.verdicts.items[i].signature == sig) {
            primary = i;
            break;
        }
    printf("before: %d ops, %d tasks, %zu bytes\n", st.ops_before, st.tasks_before,
           st.bytes_before);
    printf("after:  %d ops, %d tasks, %zu bytes\n", st.ops_after, st.tasks_after, st.bytes_after);
    printf("%d runs in %.2f s, %d accepted, %d round(s)%s\n", st.calls, dt, st.accepted, st.rounds,
           st.budget_exhausted ? " (budget exhausted: --max-calls for more)" : "");

    char origin[PATH_MAX + 64];
    snprintf(origin, sizeof origin, "minimize %s", input);
    uint8_t bytes[AF_ENCODE_MAX_BYTES];
    size_t blen = 0;
    bool have_bytes =
        af_encode(&outs, af_scenario_has_misuse(&outs), bytes, sizeof bytes, &blen, NULL) == 0;
    /* the store's folder writer: the same files as a finding of the store,
     * the folder complete or absent (reports/findings.h) */
    af_findings_record_in rec = {.scenario = &outs,
                                 .verdicts = &c.verdicts,
                                 .primary = primary,
                                 .trace = &c.trace,
                                 .input = have_bytes ? bytes : NULL,
                                 .input_len = blen,
                                 .engine = "minimize",
                                 .origin = origin,
                                 .target = ro.target};
    if (af_findings_write_folder(out_dir, &rec, &err) < 0) {
        fprintf(stderr, "asyncfuzz minimize: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    printf("written: %s/scenario.json, %s/repro.py, %s/verdict.json\n", out_dir, out_dir, out_dir);
    if (c.errors)
        printf("note: %d candidate run(s) failed in the harness and were rejected\n", c.errors);
    return AF_EXIT_OK;
}

int af_cmd_minimize(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_minimize, &minimize_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (o.signature && !af_findings_is_sig_name(o.signature))
        return af_cli_usage_error(AF_CMD_minimize, "--signature: '%s' is not 16 hex digits",
                                  o.signature);
    if (o.oracle && af_oracle_from_name(o.oracle) < 0)
        return af_cli_usage_error(AF_CMD_minimize, "--oracle: unknown oracle '%s'", o.oracle);
    af_cli_supervised x = {
        .cmd = AF_CMD_minimize, .hang_seconds = o.hang_timeout, .work = minimize_work, .ctx = &o};
    return af_cli_supervise(&x);
}
