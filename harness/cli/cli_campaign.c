/* cli_campaign.c - the campaign folder around a run of `fuzz` or `gen`
 * (cli_campaign.h). */
#include "harness/cli/cli_campaign.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file_io.h"
#include "harness/run/embed.h"

/* The build's source tree and its tracked top-level folders, ':'-separated
 * (CMakeLists.txt): a campaign folder there would fill the checkout. */
#ifndef AF_SOURCE_TREE
#define AF_SOURCE_TREE ""
#endif
#ifndef AF_SOURCE_FOLDERS
#define AF_SOURCE_FOLDERS ""
#endif

/* ---- --out ---- */

/* ${XDG_DATA_HOME:-$HOME/.local/share}/asyncfuzz/<campaign|gen>. 0 or -1. */
static int default_out(const char *leaf, char *buf, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(buf, cap, "%s/asyncfuzz/%s", xdg, leaf);
    else if (home && home[0] == '/')
        snprintf(buf, cap, "%s/.local/share/asyncfuzz/%s", home, leaf);
    else
        return -1;
    return 0;
}

/* path made absolute and normalised without creating anything: the
 * longest existing prefix through realpath(3), the rest lexically. */
static void resolve(const char *path, char *buf, size_t cap)
{
    char abs[PATH_MAX * 2], head[PATH_MAX];
    if (path[0] == '/')
        snprintf(abs, sizeof abs, "%s", path);
    else {
        char cwd[PATH_MAX] = ".";
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, ".");
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    }
    /* the deepest existing ancestor */
    snprintf(head, sizeof head, "%s", abs);
    char *rest = abs + strlen(abs);
    struct stat st;
    while (stat(head, &st) != 0) {
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            snprintf(head, sizeof head, "/");
            rest = abs;
            break;
        }
        *slash = '\0';
        rest = abs + (slash - head);
    }
    char real[PATH_MAX];
    if (!realpath(head, real))
        snprintf(real, sizeof real, "%s", head);
    /* the rest, component by component */
    size_t len = strlen(real);
    while (len > 1 && real[len - 1] == '/')
        real[--len] = '\0';
    for (char *p = rest; *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = strrchr(real, '/');
            if (slash && slash != real)
                *slash = '\0';
            else
                snprintf(real, sizeof real, "/");
        } else {
            size_t l = strlen(real);
            snprintf(real + l, sizeof real - l, "%s%.*s", l > 1 ? "/" : "", (int)n, p);
        }
        p += n;
    }
    snprintf(buf, cap, "%s", real);
}

/* The tracked folder of the source tree that holds `resolved` (or "." for
 * the tree's root itself); NULL when outside. */
static const char *source_folder_of(const char *resolved, char *buf, size_t cap)
{
    char tree[PATH_MAX];
    if (!AF_SOURCE_TREE[0] || !realpath(AF_SOURCE_TREE, tree))
        return NULL;
    size_t tl = strlen(tree);
    if (strncmp(resolved, tree, tl) != 0 || (resolved[tl] != '/' && resolved[tl] != '\0'))
        return NULL;
    if (!resolved[tl] || !resolved[tl + 1])
        return ".";
    const char *first = resolved + tl + 1;
    size_t n = strcspn(first, "/");
    for (const char *p = AF_SOURCE_FOLDERS; *p;) {
        size_t len = strcspn(p, ":");
        if (len == n && strncmp(p, first, n) == 0) {
            snprintf(buf, cap, "%.*s", (int)n, first);
            return buf;
        }
        p += len + (p[len] == ':');
    }
    return NULL;
}

/* --out chosen: given, or the default. 0, or -1 (printed). */
static int choose_out(af_cli_campaign *c, af_options *o)
{
    af_option_id id = c->cmd == AF_CMD_gen ? AF_OPT_gen_out : AF_OPT_out_dir;
    const char *given = c->cmd == AF_CMD_gen ? o->gen_out : o->out_dir;
    char path[PATH_MAX];
    if (given)
        snprintf(path, sizeof path, "%s", given);
    else if (default_out(c->cmd == AF_CMD_gen ? "gen" : "campaign", path, sizeof path) < 0) {
        fprintf(stderr,
                "asyncfuzz %s: no --out given, and neither XDG_DATA_HOME nor HOME is set for the "
                "default campaign folder\n",
                c->name);
        return -1;
    }
    resolve(path, c->out, sizeof c->out);
    char folder[PATH_MAX];
    const char *inside = source_folder_of(c->out, folder, sizeof folder);
    if (inside) {
        fprintf(stderr,
                "asyncfuzz %s: --out %s is inside the asyncfuzz source tree (%s%s): a campaign "
                "there would write its corpus and findings into the checkout. Choose a folder "
                "outside it, or leave --out out for the default (%s).\n",
                c->name, given ? given : path, AF_SOURCE_TREE, strcmp(inside, ".") ? "/" : "",
                c->cmd == AF_CMD_gen ? "$XDG_DATA_HOME/asyncfuzz/gen"
                                     : "$XDG_DATA_HOME/asyncfuzz/campaign");
        return -1;
    }
    af_error err;
    if (af_options_set(o, id, c->out, "--out", &err) < 0) {
        fprintf(stderr, "asyncfuzz %s: --out: %s\n", c->name, err.message);
        return -1;
    }
    if (!given || !c->quiet)
        fprintf(stderr, "asyncfuzz %s: campaign folder %s%s\n", c->name, c->out,
                given ? "" : " (the default: --out DIR for another)");
    return 0;
}

/* ---- settings ---- */

/* The target as campaign.json records it: "asyncio", a built-in adapter's
 * name, or an adapter file's absolute path. */
static void target_name(const char *target, char *buf, size_t cap)
{
    if (!target || !target[0])
        snprintf(buf, cap, "asyncio");
    else if (strchr(target, '/') || strstr(target, ".py"))
        resolve(target, buf, cap);
    else
        snprintf(buf, cap, "%s", target);
}

/* "CPython 3.11.2" of the embedded interpreter. */
static void interpreter(char *buf, size_t cap)
{
    char d[1200];
    af_embed_describe(d, sizeof d);
    char *paren = strstr(d, " (");
    if (paren)
        *paren = '\0';
    snprintf(buf, cap, "%s", d);
}

static int check_settings(af_cli_campaign *c, const af_options *o, const char *engine)
{
    char interp[256], diff[2048];
    interpreter(interp, sizeof interp);
    bool fuzz = c->cmd == AF_CMD_fuzz;
    af_campaign_settings s = {.target = c->target,
                              .reference = fuzz ? o->reference : NULL,
                              .engine = engine,
                              .coverage = fuzz ? o->coverage : NULL,
                              .misuse = !fuzz && o->misuse,
                              .interpreter = interp,
                              .baseline = c->baseline};
    af_error err;
    memset(&err, 0, sizeof err);
    bool created;
    int rc = af_campaign_settings_check(c->out, &s, &created, diff, sizeof diff, &err);
    if (rc < 0)
        fprintf(stderr, "asyncfuzz %s: %s\n", c->name, err.message);
    else if (rc > 0)
        fprintf(stderr,
                "asyncfuzz %s: %s/campaign.json was started with other settings: %s.\n"
                "Resume it with its own settings, or give another --out for these.\n",
                c->name, c->out, diff);
    return rc == 0 ? 0 : -1;
}

/* ---- the start ---- */

static void release(af_cli_campaign *c)
{
    af_baseline_free(c->baseline);
    c->baseline = NULL;
    af_findings_tally_free(&c->before);
    af_sigset_free(&c->run.new_sigs);
    af_sigset_free(&c->run.known_sigs);
}

int af_cli_campaign_begin(af_cli_campaign *c, af_command_id cmd, af_options *o, const char *engine,
                          int jobs)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->name = af_command(cmd)->name;
    c->quiet = o->quiet;
    c->pythons = &o->python;
    c->repro_timeout = o->repro_timeout;
    af_error err;
    memset(&err, 0, sizeof err);
    if (choose_out(c, o) < 0)
        return AF_EXIT_USAGE;
    target_name(o->target, c->target, sizeof c->target);
    snprintf(c->findings, sizeof c->findings, "%s/findings", c->out);
    c->baseline = af_baseline_load(o->target, af_embed_pyversion(), o->baseline.joined, &err);
    if (!c->baseline || af_make_dirs(c->out, &err) < 0 || check_settings(c, o, engine) < 0) {
        if (err.message[0])
            fprintf(stderr, "asyncfuzz %s: %s\n", c->name, err.message);
        release(c);
        return AF_EXIT_USAGE;
    }
    af_campaign_run_init(&c->run, c->name, engine, jobs);
    c->run.baseline = c->baseline;
    if (cmd == AF_CMD_fuzz) {
        snprintf(c->run.stats, sizeof c->run.stats, "stats/%s", c->run.run);
        snprintf(c->stats_dir, sizeof c->stats_dir, "%s/%s", c->out, c->run.stats);
    }
    /* what killed runs left: the store's folders, then the history */
    if (af_findings_repair(c->findings, stderr, &err) < 0 ||
        af_campaign_repair(c->out, c->baseline, stderr, &err) < 0 ||
        af_findings_tally_read(c->findings, &c->before, &err) < 0 ||
        af_campaign_history_append(c->out, &c->run, &err) < 0) {
        fprintf(stderr, "asyncfuzz %s: %s\n", c->name, err.message);
        release(c);
        return AF_EXIT_USAGE;
    }
    return AF_CLI_GO;
}

/* ---- reproducers under other interpreters ---- */

/* Runs argv (cwd dir, stdin /dev/null) for at most `seconds`, its stdout
 * into out (may be NULL), stderr discarded. Returns the exit status, -SIG
 * when a signal ended it, -1000 when it ran out of time, -1001 when it
 * could not start. */
#define RUN_TIMEOUT (-1000)
#define RUN_CANNOT (-1001)
static int run_bounded(char *const argv[], const char *dir, double seconds, char *out, size_t cap)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return RUN_CANNOT;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(pipefd[1], 1);
        dup2(null, 2);
        close(pipefd[0]);
        if (dir && chdir(dir) != 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        return RUN_CANNOT;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    size_t got = 0;
    double end = af_clock_seconds() + seconds;
    int status = 0;
    bool timed_out = false;
    for (;;) {
        char chunk[512];
        ssize_t n;
        while ((n = read(pipefd[0], chunk, sizeof chunk)) > 0)
            if (out && cap > (size_t)n + 1) { /* the tail is kept: a verdict line ends it */
                if (got + (size_t)n > cap - 1) {
                    size_t drop = got + (size_t)n - (cap - 1);
                    memmove(out, out + drop, got - drop);
                    got -= drop;
                }
                memcpy(out + got, chunk, (size_t)n);
                got += (size_t)n;
            }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (af_clock_seconds() > end) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = true;
            break;
        }
        usleep(10000);
    }
    close(pipefd[0]);
    if (out)
        out[got] = '\0';
    if (timed_out)
        return RUN_TIMEOUT;
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WEXITSTATUS(status) == 127 ? RUN_CANNOT : WEXITSTATUS(status);
}

/* One interpreter: its version ("3.12.1"), or "" when it does not run. */
static void python_version(const char *python, char *buf, size_t cap)
{
    char *argv[] = {(char *)python, "-c", "import platform; print(platform.python_version())",
                    NULL};
    char out[128] = "";
    int rc = run_bounded(argv, NULL, 30, out, sizeof out);
    out[strcspn(out, "\r\n")] = '\0';
    snprintf(buf, cap, "%s", rc == 0 ? out : "");
}

/* Every --python interpreter on one finding's repro.py: meta.json's
 * "reproduces_on", and a line on stderr. */
static void reproduce(af_cli_campaign *c, uint64_t sig, char (*versions)[64])
{
    char dir[PATH_MAX + 64], repro[PATH_MAX + 80], line[1024];
    snprintf(dir, sizeof dir, "%s/%016" PRIx64, c->findings, sig);
    snprintf(repro, sizeof repro, "%s/repro.py", dir);
    cJSON *list = cJSON_CreateArray();
    size_t pos = (size_t)snprintf(line, sizeof line, "  %016" PRIx64 " reproduces on:", sig);
    int i = 0;
    for (const char *p = c->pythons->joined; *p; i++) {
        size_t n = strcspn(p, ":");
        char python[PATH_MAX];
        snprintf(python, sizeof python, "%.*s", (int)n, p);
        p += n + (p[n] == ':');
        char *argv[] = {python, "repro.py", NULL};
        char tail[4096] = "";
        int rc = versions[i][0] ? run_bounded(argv, dir, c->repro_timeout, tail, sizeof tail)
                                : RUN_CANNOT;
        /* the reproducer's own verdict line (reports/repro.c): exit 1 with
         * "verdict: REPRODUCED", exit 0 with "verdict: not reproduced";
         * any other end (a traceback, a wrong interpreter) is an error,
         * never taken for a reproduction */
        bool said_yes = rc == 1 && strstr(tail, "\nverdict: REPRODUCED");
        bool said_no = rc == 0 && strstr(tail, "\nverdict: not reproduced");
        const char *verdict = rc == RUN_TIMEOUT  ? "timeout"
                              : rc == RUN_CANNOT ? "cannot run"
                              : rc < 0           ? "crashed"
                              : said_yes         ? "reproduced"
                              : said_no          ? "not reproduced"
                                                 : "error";
        bool reproduced = said_yes || (rc < 0 && rc > RUN_TIMEOUT);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "python", python);
        if (versions[i][0])
            cJSON_AddStringToObject(one, "version", versions[i]);
        else
            cJSON_AddNullToObject(one, "version");
        cJSON_AddBoolToObject(one, "reproduced", reproduced);
        if (rc >= 0)
            cJSON_AddNumberToObject(one, "exit", rc);
        else
            cJSON_AddNullToObject(one, "exit");
        if (rc < 0 && rc > RUN_TIMEOUT)
            cJSON_AddNumberToObject(one, "signal", -rc);
        cJSON_AddStringToObject(one, "verdict", verdict);
        cJSON_AddItemToArray(list, one);
        if (pos < sizeof line)
            pos += (size_t)snprintf(line + pos, sizeof line - pos, "%s %s %s", i ? ";" : "",
                                    versions[i][0] ? versions[i] : python, verdict);
    }
    char *json = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    af_error err;
    if (!json || af_findings_set_meta(c->findings, sig, "reproduces_on", json, &err) < 0)
        fprintf(stderr, "asyncfuzz %s: %016" PRIx64 ": cannot record reproduces_on: %s\n", c->name,
                sig, json ? err.message : "out of memory");
    free(json);
    fprintf(stderr, "%s\n", line);
}

static void reproduce_new(af_cli_campaign *c)
{
    if (!c->pythons->count || !c->run.new_sigs.n)
        return;
    char(*versions)[64] = calloc((size_t)c->pythons->count, sizeof *versions);
    if (!versions)
        return;
    int i = 0;
    for (const char *p = c->pythons->joined; *p && i < c->pythons->count; i++) {
        size_t n = strcspn(p, ":");
        char python[PATH_MAX];
        snprintf(python, sizeof python, "%.*s", (int)n, p);
        p += n + (p[n] == ':');
        python_version(python, versions[i], sizeof versions[i]);
        if (!versions[i][0])
            fprintf(stderr, "asyncfuzz %s: --python %s does not run: its findings are not tried\n",
                    c->name, python);
    }
    fprintf(stderr,
            "asyncfuzz %s: the new findings' repro.py under %d interpreter(s) (at most "
            "%.0f s each):\n",
            c->name, c->pythons->count, c->repro_timeout);
    for (size_t k = 0; k < c->run.new_sigs.n; k++)
        reproduce(c, c->run.new_sigs.items[k], versions);
    free(versions);
}

/* ---- the end ---- */

/* A folder's signature text (meta.json), into buf. */
static void signature_text(const af_cli_campaign *c, uint64_t sig, char *buf, size_t cap)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%016" PRIx64 "/meta.json", c->findings, sig);
    char *text = NULL;
    size_t len = 0;
    af_error err;
    buf[0] = '\0';
    if (af_read_file(path, 1 << 20, &text, &len, &err) < 0)
        return;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "signature_text");
    if (cJSON_IsString(t))
        snprintf(buf, cap, "%s", t->valuestring);
    cJSON_Delete(root);
}

/* The signatures the run met, split by the baselines. 0 or -1. */
static int met_signatures(af_cli_campaign *c, af_error *err)
{
    af_findings_tally after;
    if (af_findings_tally_read(c->findings, &after, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < after.n && rc == 0; i++) {
        if (after.counts[i] <= af_findings_tally_count(&c->before, after.sigs[i]))
            continue;
        af_sigset *into =
            af_baseline_find(c->baseline, after.sigs[i]) ? &c->run.known_sigs : &c->run.new_sigs;
        if (af_sigset_add(into, after.sigs[i]) < 0) {
            af_error_set(err, "", "out of memory");
            rc = -1;
        }
    }
    af_findings_tally_free(&after);
    return rc;
}

static void print_met(const af_cli_campaign *c)
{
    size_t nn = c->run.new_sigs.n, nk = c->run.known_sigs.n;
    fprintf(stderr, "asyncfuzz %s: %zu signature(s) this run: %zu new, %zu known\n", c->name,
            nn + nk, nn, nk);
    char text[AF_VERDICT_SIGTEXT_MAX];
    for (size_t i = 0; i < nn; i++) {
        signature_text(c, c->run.new_sigs.items[i], text, sizeof text);
        fprintf(stderr, "  new    %016" PRIx64 "  %s\n", c->run.new_sigs.items[i], text);
    }
    for (size_t i = 0; i < nk; i++) {
        const af_baseline_entry *e = af_baseline_find(c->baseline, c->run.known_sigs.items[i]);
        signature_text(c, c->run.known_sigs.items[i], text, sizeof text);
        fprintf(stderr, "  known  %016" PRIx64 "  %s  %s%s%s\n", c->run.known_sigs.items[i], text,
                e && e->issue ? e->issue : "(no issue)", e && e->fixed_in ? ", fixed in " : "",
                e && e->fixed_in ? e->fixed_in : "");
    }
}

static void print_since_last_run(const af_cli_campaign *c)
{
    af_sigset seen = {0};
    size_t runs = 0;
    af_error err;
    if (af_campaign_history_seen(c->out, c->run.run, &seen, &runs, &err) < 0) {
        fprintf(stderr, "asyncfuzz %s: history: %s\n", c->name, err.message);
        return;
    }
    size_t n = 0;
    char list[1024] = "";
    size_t pos = 0;
    const af_sigset *sets[2] = {&c->run.new_sigs, &c->run.known_sigs};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < sets[s]->n; i++)
            if (!af_sigset_has(&seen, sets[s]->items[i])) {
                n++;
                if (pos + 24 < sizeof list)
                    pos += (size_t)snprintf(list + pos, sizeof list - pos, "%s%016" PRIx64,
                                            pos ? " " : "", sets[s]->items[i]);
            }
    if (runs == 0)
        fprintf(stderr, "asyncfuzz %s: the first run of this campaign folder\n", c->name);
    else if (n == 0)
        fprintf(stderr, "asyncfuzz %s: nothing new since the last run (%zu earlier run(s))\n",
                c->name, runs);
    else
        fprintf(stderr, "asyncfuzz %s: new since the last run (%zu earlier run(s)): %zu: %s\n",
                c->name, runs, n, list);
    af_sigset_free(&seen);
}

int af_cli_campaign_end(af_cli_campaign *c, const af_cli_figures *fig, bool setup_failed)
{
    af_error err;
    memset(&err, 0, sizeof err);
    int code = AF_EXIT_OK;
    if (met_signatures(c, &err) < 0 || af_findings_label(c->findings, c->baseline, &err) < 0) {
        fprintf(stderr, "asyncfuzz %s: %s\n", c->name, err.message);
        code = AF_EXIT_USAGE;
    }
    c->run.execs = fig->execs;
    c->run.seconds = fig->seconds;
    c->run.has_features = fig->has_features;
    c->run.features = fig->features;
    c->run.corpus = fig->corpus;
    if (code == AF_EXIT_OK)
        code = setup_failed && !c->run.new_sigs.n && !c->run.known_sigs.n ? AF_EXIT_USAGE
               : c->run.new_sigs.n                                        ? AF_EXIT_FINDING
                                                                          : AF_EXIT_OK;
    print_met(c);
    reproduce_new(c);
    print_since_last_run(c);
    c->run.exit = code;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(c->run.end, sizeof c->run.end, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct stat st;
    if (c->run.stats[0] && stat(c->stats_dir, &st) != 0)
        c->run.stats[0] = '\0'; /* the engine wrote none */
    if (af_campaign_history_append(c->out, &c->run, &err) < 0)
        fprintf(stderr, "asyncfuzz %s: %s\n", c->name, err.message);
    fprintf(stderr, "asyncfuzz %s: exit %d: %s\n", c->name, code,
            code == AF_EXIT_FINDING ? "a new signature (in no baseline)"
            : code == AF_EXIT_OK    ? "nothing new (known signatures only, or none)"
                                    : "setup error");
    release(c);
    return code;
}
