/* cli_corpus.c - the commands that scale a campaign out over existing
 * engines and machines (docs/campaigns.md):
 *
 *   asyncfuzz corpus merge DIR... --out DIR [--engine libfuzzer|afl]
 *   asyncfuzz corpus minimize DIR --out DIR [--engine libfuzzer|afl]
 *   asyncfuzz campaign merge DIR... --out DIR
 *
 * corpus: the engine decides which inputs add coverage - libFuzzer's
 * -merge=1 (asyncfuzz-libfuzzer), or afl-cmin over asyncfuzz-afl - with the
 * options' environment (the target, the coverage kinds, the budgets), the
 * findings its runs meet going to a scratch folder, and going on past them
 * (an input with a finding stays in the corpus like any other).
 * campaign: the folders of several machines into one - settings checked
 * (as a resume's are), history.jsonl merged by run id, findings folders and
 * statistics copied where missing, the corpus united by file name (the
 * engines name entries by content).
 * Runs nothing else; the engines' own flags are theirs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "reports/campaign.h"
#include "reports/findings.h"

/* ---- small folder helpers ---- */

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Regular files directly in dir (0 when it cannot be read). */
static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[PATH_MAX + 256];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* The regular files of `from` that `to` lacks (by name), copied (`prefix`
 * before each new name). Returns how many, or -1 with err set. */
static int copy_missing(const char *from, const char *to, const char *prefix, af_error *err)
{
    DIR *d = opendir(from);
    if (!d)
        return 0;
    if (af_make_dirs(to, err) < 0) {
        closedir(d);
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n >= 0) {
        char src[PATH_MAX + 256], dst[PATH_MAX + 512];
        struct stat st;
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s%s", to, prefix, e->d_name);
        if (e->d_name[0] == '.' || stat(src, &st) != 0 || !S_ISREG(st.st_mode) ||
            access(dst, F_OK) == 0)
            continue;
        char *data = NULL;
        size_t len = 0;
        if (af_read_file(src, 256u << 20, &data, &len, err) < 0 ||
            af_write_file(dst, data, len, err) < 0)
            n = -1;
        else
            n++;
        free(data);
    }
    closedir(d);
    return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -r of a scratch folder this command made. */
static void remove_scratch(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- corpus ---- */

static const af_cli_help corpus_help = {
    .usage = "corpus merge DIR... --out DIR | corpus minimize DIR --out DIR [OPTIONS]",
    .args = "merge or minimize, then the corpus folders",
    .min_args = 2,
    .max_args = -1,
    .above = "merge: the inputs of the folders DIR... that add coverage to --out DIR (its own\n"
             "inputs count as already there) are copied into it: the corpora of several\n"
             "machines or runs into one. minimize: the smallest set of the inputs of DIR\n"
             "that keeps all of its coverage, into --out DIR (new, or empty).\n"
             "The engine judges coverage: libFuzzer's -merge=1 through asyncfuzz-libfuzzer\n"
             "(the default), or afl-cmin through asyncfuzz-afl (--engine afl, for AFL++\n"
             "queues). The target, coverage kinds and budgets of the campaign apply (options\n"
             "or their AF_ variables); findings met on the way are not filed.\n",
    .below = "exit: 0 done, 2 usage error or the engine failed (its log is shown)\n",
};

/* Run argv with the options' environment, output into log; the exit status. */
static int run_engine(char *const argv[], const af_options *o, const char *findings,
                      const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (af_options_to_env(o) < 0)
            _exit(127);
        setenv("AF_FINDINGS", findings, 1);
        setenv("AF_KEEP_GOING", "1", 1);
        setenv("AF_QUIET", "1", 1);
        setenv("AFL_ALLOW_TMP", "1", 0); /* afl-cmin: our scratch folders are ours */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void show_log_tail(const char *log)
{
    char *text = NULL;
    size_t len = 0;
    af_error err;
    if (af_read_file(log, 16 << 20, &text, &len, &err) < 0)
        return;
    size_t from = len > 2000 ? len - 2000 : 0;
    fprintf(stderr, "--- the engine's last output ---\n%s\n", text + from);
    free(text);
}

/* afl-cmin takes one input folder: several are copied into one first. */
static int afl_input(char *const *dirs, int n, const char *scratch, char *in, size_t cap,
                     af_error *err)
{
    if (n == 1) {
        snprintf(in, cap, "%s", dirs[0]);
        return 0;
    }
    snprintf(in, cap, "%s/inputs", scratch);
    for (int i = 0; i < n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "d%d-", i);
        if (copy_missing(dirs[i], in, prefix, err) < 0)
            return -1;
    }
    return 0;
}

static int corpus_run(af_options *o, bool minimize, char *const *dirs, int ndirs)
{
    const char *out = o->merge_out;
    bool afl = strcmp(o->corpus_engine, "afl") == 0;
    char bin[PATH_MAX + 32];
    if (af_cli_find_engine(AF_CMD_corpus, bin, sizeof bin,
                           afl ? "asyncfuzz-afl" : "asyncfuzz-libfuzzer",
                           afl ? "AFL++" : "libFuzzer",
                           afl ? "Install Debian's afl++ and rebuild (cmake finds afl-clang-fast)"
                               : "Build it with clang (cmake --build build --target "
                                 "asyncfuzz-libfuzzer)") < 0)
        return AF_EXIT_USAGE;
    if ((minimize || afl) && is_dir(out) && count_files(out) > 0)
        return af_cli_usage_error(AF_CMD_corpus, "--out %s is not empty (%s writes a new folder)",
                                  out, afl ? "afl-cmin" : "minimize");
    size_t before = 0;
    for (int i = 0; i < ndirs; i++) {
        if (!is_dir(dirs[i]))
            return af_cli_usage_error(AF_CMD_corpus, "'%s' is not a folder", dirs[i]);
        before += count_files(dirs[i]);
    }
    char scratch[] = "/tmp/asyncfuzz-corpus-XXXXXX";
    af_error err;
    memset(&err, 0, sizeof err);
    if (!mkdtemp(scratch) || (!afl && af_make_dirs(out, &err) < 0)) {
        fprintf(stderr, "asyncfuzz corpus: %s\n", err.message[0] ? err.message : strerror(errno));
        return AF_EXIT_USAGE;
    }
    size_t had = count_files(out);
    char findings[PATH_MAX], log[PATH_MAX], control[PATH_MAX], in[PATH_MAX];
    snprintf(findings, sizeof findings, "%s/findings", scratch);
    snprintf(log, sizeof log, "%s/engine.log", scratch);
    snprintf(control, sizeof control, "-merge_control_file=%s/control", scratch);
    int rc;
    if (afl) {
        if (afl_input(dirs, ndirs, scratch, in, sizeof in, &err) < 0) {
            fprintf(stderr, "asyncfuzz corpus: %s\n", err.message);
            remove_scratch(scratch);
            return AF_EXIT_USAGE;
        }
        char *argv[] = {"afl-cmin", "-i", in, "-o", (char *)out, "--", bin, NULL};
        rc = run_engine(argv, o, findings, log);
    } else {
        char **argv = calloc((size_t)ndirs + 6, sizeof *argv);
        int n = 0;
        argv[n++] = bin;
        argv[n++] = "-merge=1";
        argv[n++] = control;
        argv[n++] = (char *)out;
        for (int i = 0; i < ndirs; i++)
            argv[n++] = dirs[i];
        argv[n] = NULL;
        rc = run_engine(argv, o, findings, log);
        free(argv);
    }
    if (rc != 0) {
        fprintf(stderr, "asyncfuzz corpus: %s exited with status %d\n", afl ? "afl-cmin" : bin, rc);
        show_log_tail(log);
        remove_scratch(scratch);
        return AF_EXIT_USAGE;
    }
    size_t after = count_files(out);
    printf("corpus %s (%s): %zu input(s) in %d folder(s) -> %zu in %s (%zu added)\n",
           minimize ? "minimize" : "merge", afl ? "afl-cmin" : "libFuzzer -merge=1", before, ndirs,
           after, out, after - had);
    remove_scratch(scratch);
    return AF_EXIT_OK;
}

int af_cmd_corpus(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_corpus, &corpus_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    const char *what = o.args[0];
    bool minimize = strcmp(what, "minimize") == 0;
    if (!minimize && strcmp(what, "merge") != 0)
        return af_cli_usage_error(AF_CMD_corpus, "'%s': merge or minimize", what);
    if (minimize && o.nargs != 2)
        return af_cli_usage_error(AF_CMD_corpus, "minimize takes one folder");
    if (!o.merge_out)
        return af_cli_usage_error(AF_CMD_corpus, "--out DIR is required");
    return corpus_run(&o, minimize, o.args + 1, o.nargs - 1);
}

/* ---- campaign merge ---- */

static const af_cli_help campaign_help = {
    .usage = "campaign merge DIR... --out DIR",
    .args = "merge, then the campaign folders",
    .min_args = 2,
    .max_args = -1,
    .above = "The campaign folders of several machines (or runs) into --out DIR, which may\n"
             "be one of them or a new folder: their settings must agree (campaign.json, as\n"
             "a resume's), history.jsonl is merged by run id (each run once, its complete\n"
             "line kept, ordered by start), findings folders and stats/<run>/ are copied\n"
             "where DIR lacks them (a signature DIR has keeps its folder and count), the\n"
             "corpus is united by file name (the engines name entries by content).\n",
    .below = "exit: 0 merged, 2 usage error or settings that differ\n",
};

/* Every entry of from/sub copied into out/sub with fn. -1 on error. */
static int merge_each(const char *from, const char *out, const char *sub,
                      int (*fn)(const char *src, const char *dst_parent, af_error *err), int *count,
                      af_error *err)
{
    char src[PATH_MAX], dst[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s", from, sub);
    snprintf(dst, sizeof dst, "%s/%s", out, sub);
    DIR *d = opendir(src);
    if (!d)
        return 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        char one[PATH_MAX + 256];
        snprintf(one, sizeof one, "%s/%s", src, e->d_name);
        if (e->d_name[0] == '.' || !is_dir(one))
            continue;
        int r = fn(one, dst, err);
        rc = r < 0 ? -1 : 0;
        *count += r > 0;
    }
    closedir(d);
    return rc;
}

static int import_finding(const char *src, const char *store, af_error *err)
{
    const char *base = strrchr(src, '/');
    if (!af_findings_is_sig_name(base ? base + 1 : src))
        return 0;
    return af_findings_import(store, src, err);
}

static int import_stats(const char *src, const char *stats, af_error *err)
{
    const char *base = strrchr(src, '/');
    char dst[PATH_MAX + 256];
    snprintf(dst, sizeof dst, "%s/%s", stats, base ? base + 1 : src);
    if (is_dir(dst))
        return 0;
    return copy_missing(src, dst, "", err) < 0 ? -1 : 1;
}

static int campaign_merge(const char *out, char *const *dirs, int ndirs)
{
    af_error err;
    memset(&err, 0, sizeof err);
    if (af_make_dirs(out, &err) < 0) {
        fprintf(stderr, "asyncfuzz campaign: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    char diff[2048];
    for (int i = 0; i < ndirs; i++) {
        if (!is_dir(dirs[i]))
            return af_cli_usage_error(AF_CMD_campaign, "'%s' is not a folder", dirs[i]);
        int r = af_campaign_settings_adopt(out, dirs[i], diff, sizeof diff, &err);
        if (r < 0) {
            fprintf(stderr, "asyncfuzz campaign: %s\n", err.message);
            return AF_EXIT_USAGE;
        }
        if (r > 0) {
            fprintf(stderr,
                    "asyncfuzz campaign: %s was run with other settings than %s: %s; not merged\n",
                    dirs[i], out, diff);
            return AF_EXIT_USAGE;
        }
    }
    char **histories = calloc((size_t)ndirs, sizeof *histories);
    int nh = 0, findings = 0, stats = 0, corpus = 0;
    char path[PATH_MAX + 32];
    int rc = histories ? 0 : -1;
    for (int i = 0; i < ndirs && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/history.jsonl", dirs[i]);
        if (access(path, F_OK) == 0 && !(histories[nh++] = strdup(path)))
            rc = -1;
        char cfrom[PATH_MAX], cto[PATH_MAX];
        snprintf(cfrom, sizeof cfrom, "%s/corpus", dirs[i]);
        snprintf(cto, sizeof cto, "%s/corpus", out);
        int copied = rc == 0 ? copy_missing(cfrom, cto, "", &err) : -1;
        corpus += copied > 0 ? copied : 0;
        if (copied < 0 ||
            merge_each(dirs[i], out, "findings", import_finding, &findings, &err) < 0 ||
            merge_each(dirs[i], out, "stats", import_stats, &stats, &err) < 0)
            rc = -1;
    }
    int runs =
        rc == 0 ? af_campaign_history_merge(out, (const char *const *)histories, nh, &err) : -1;
    for (int i = 0; i < nh; i++)
        free(histories[i]);
    free(histories);
    snprintf(path, sizeof path, "%s/findings", out);
    if (runs < 0 || (is_dir(path) && af_findings_summary(path, NULL, NULL, &err) < 0)) {
        fprintf(stderr, "asyncfuzz campaign: %s\n", err.message[0] ? err.message : "out of memory");
        return AF_EXIT_USAGE;
    }
    printf("campaign merge: %d folder(s) into %s: %d run(s) in history.jsonl, %d finding folder(s) "
           "and %d stats folder(s) copied, %d corpus file(s) added\n",
           ndirs, out, runs, findings, stats, corpus);
    return AF_EXIT_OK;
}

int af_cmd_campaign(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_campaign, &campaign_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    if (strcmp(o.args[0], "merge") != 0)
        return af_cli_usage_error(AF_CMD_campaign, "'%s': only merge", o.args[0]);
    if (!o.merge_out)
        return af_cli_usage_error(AF_CMD_campaign, "--out DIR is required");
    return campaign_merge(o.merge_out, o.args + 1, o.nargs - 1);
}
