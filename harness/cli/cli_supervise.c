/* cli_supervise.c - what the commands that run a target share (cli.h):
 * their work in a supervised child (harness/engines/supervise.h), the one
 * runner of that child, a judged run marked as a step, the words for a
 * child's death, and every command's end (its outputs flushed, a write
 * error an error).
 *
 * The parent of a supervised command never starts the interpreter: it
 * forks before anything runs, and only waits, describes deaths and, for
 * replay and gen, starts the work again in a new child. Must not judge or
 * print results itself: the commands do (cli_run.c, cli_fuzz.c).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "harness/run/embed.h"
#include "oracles/verdict.h"

/* ---- errors and the end ---- */

void af_cli_print_error(af_command_id cmd, const char *file, const af_error *err)
{
    const char *name = af_command(cmd)->name;
    char buf[1024];
    if (file) {
        af_error_format(err, file, buf, sizeof buf);
        fprintf(stderr, "asyncfuzz %s: %s\n", name, buf);
    } else if (err->path[0]) {
        fprintf(stderr, "asyncfuzz %s: %s: %s\n", name, err->path, err->message);
    } else {
        fprintf(stderr, "asyncfuzz %s: %s\n", name, err->message);
    }
    const char *tb = af_embed_last_traceback();
    if (tb && tb[0]) {
        fputs(tb, stderr);
        ((char *)tb)[0] = '\0'; /* printed once */
    }
}

/* Python's own buffered streams (a target may print): flushed before the
 * process exits (the interpreter is never finalised). */
static void flush_python(void)
{
    if (!Py_IsInitialized())
        return;
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(i == 0 ? "stdout" : "stderr"); /* borrowed */
        if (f && f != Py_None) {
            PyObject *r = PyObject_CallMethod(f, "flush", NULL);
            Py_XDECREF(r);
        }
    }
    PyErr_Clear();
}

static int teardown_runners(af_command_id cmd, int code);

int af_cli_finish(af_command_id cmd, int code)
{
    code = teardown_runners(cmd, code);
    flush_python();
    af_error err;
    if (af_flush_stdout(&err) < 0) {
        if (code != AF_EXIT_USAGE) /* else the command said what failed (it may be this) */
            fprintf(stderr, "asyncfuzz %s: %s\n", af_command(cmd)->name, err.message);
        clearerr(stdout);
        code = AF_EXIT_USAGE;
    }
    fflush(stderr);
    return code;
}

/* ---- the runner and a judged run, in the child ---- */

/* The runners of this process, one per target ("" is stock asyncio): the
 * command's --target, a finding folder's recorded target, the reference.
 * They share the one embedded interpreter. */
#define MAX_RUNNERS 8
static struct {
    char target[PATH_MAX];
    af_runner *r;
} g_runners[MAX_RUNNERS];
static int g_nrunners;

af_runner *af_cli_runner_for(af_command_id cmd, af_sup_slot *slot, const af_runner_options *o,
                             const char *target, af_error *out)
{
    if (!target || !strcmp(target, "asyncio"))
        target = ""; /* "asyncio" names stock asyncio, as no target does */
    for (int i = 0; i < g_nrunners; i++)
        if (!strcmp(g_runners[i].target, target))
            return g_runners[i].r;
    af_error err;
    memset(&err, 0, sizeof err);
    if (g_nrunners == MAX_RUNNERS) {
        af_error_set(&err, NULL, "more than %d targets in one process", MAX_RUNNERS);
        af_cli_print_error(cmd, NULL, &err);
        if (out)
            *out = err;
        return NULL;
    }
    af_runner_options ro = *o;
    snprintf(ro.target, sizeof ro.target, "%s", target);
    char what[PATH_MAX + 80];
    if (target[0])
        snprintf(what, sizeof what, "starting the interpreter and loading the target adapter '%s'",
                 target);
    else
        snprintf(what, sizeof what, "starting the interpreter");
    /* A target that patched asyncio for the whole process leaves none for
     * another: that one (a reference) runs in a process of its own. */
    const af_runner *owner = NULL;
    for (int i = 0; i < g_nrunners; i++)
        if (af_runner_target(g_runners[i].r)->process_wide)
            owner = g_runners[i].r;
    if (slot)
        af_sup_loading(slot, what);
    af_runner *r = af_runner_new_beside(owner, &ro, &err);
    if (slot)
        af_sup_loaded(slot);
    if (!r) {
        af_cli_print_error(cmd, NULL, &err);
        if (out)
            *out = err;
        return NULL;
    }
    snprintf(g_runners[g_nrunners].target, sizeof g_runners[0].target, "%s", target);
    g_runners[g_nrunners++].r = r;
    return r;
}

af_runner *af_cli_runner(af_command_id cmd, af_sup_slot *slot, const af_runner_options *o,
                         af_error *out)
{
    return af_cli_runner_for(cmd, slot, o, o->target, out);
}

/* Every runner's adapter teardown (once), the runners freed. */
static int teardown_runners(af_command_id cmd, int code)
{
    for (int i = 0; i < g_nrunners; i++) {
        af_error err;
        memset(&err, 0, sizeof err);
        if (af_runner_teardown(g_runners[i].r, &err) < 0) {
            af_cli_print_error(cmd, NULL, &err);
            code = AF_EXIT_USAGE;
        }
        af_runner_free(g_runners[i].r);
    }
    g_nrunners = 0;
    return code;
}

static int judge(af_sup_slot *slot, af_runner *r, af_runner *ref, const af_scenario *s,
                 uint64_t step, const char *what, const uint8_t *input, size_t len, af_trace *tr,
                 af_verdict_list *v, af_trace *ref_tr, af_verdict_list *ref_v, af_error *err)
{
    if (slot)
        af_sup_step_begin(slot, step, what, input, len);
    int rc = ref ? af_judge_run_differential(r, ref, s, tr, v, ref_tr, ref_v, err)
                 : af_judge_run(r, s, tr, v, err);
    const char *escaped = rc == 0 && slot ? af_target_escape(s, tr) : NULL;
    if (escaped) {
        const char *dot = strrchr(escaped, '.');
        const char *name = dot ? dot + 1 : escaped;
        af_sup_child_abort(slot, AF_EXIT_USAGE, name,
                           "the target raised %s, which escaped the loop and ended the run (the "
                           "scenario raises none): a target must not exit",
                           name);
    }
    if (slot)
        af_sup_step_end(slot);
    return rc;
}

int af_cli_judge(af_sup_slot *slot, af_runner *r, const af_scenario *s, uint64_t step,
                 const char *what, const uint8_t *input, size_t len, af_trace *tr,
                 af_verdict_list *v, af_error *err)
{
    return judge(slot, r, NULL, s, step, what, input, len, tr, v, NULL, NULL, err);
}

int af_cli_judge_differential(af_sup_slot *slot, af_runner *r, af_runner *ref, const af_scenario *s,
                              uint64_t step, const char *what, const uint8_t *input, size_t len,
                              af_trace *tr, af_verdict_list *v, af_trace *ref_tr,
                              af_verdict_list *ref_v, af_error *err)
{
    return judge(slot, r, ref, s, step, what, input, len, tr, v, ref_tr, ref_v, err);
}

/* ---- deaths ---- */

void af_cli_death_text(const af_sup_death *d, const af_sup_slot *slot, double hang_seconds,
                       char *buf, size_t cap)
{
    char where[1100], how[1200];
    af_sup_where(d, slot, where, sizeof where);
    af_sup_describe(d, slot, hang_seconds, how, sizeof how);
    if (d->how == AF_SUP_TARGET || d->how == AF_SUP_SETUP)
        snprintf(buf, cap, "%s: %s", where, how);
    else
        snprintf(buf, cap, "%s, the process %s", where, how);
}

void af_cli_death_error(af_command_id cmd, const af_sup_death *d, const af_sup_slot *slot,
                        double hang_seconds)
{
    char text[2400];
    af_cli_death_text(d, slot, hang_seconds, text, sizeof text);
    fprintf(stderr, "asyncfuzz %s: %s\n", af_command(cmd)->name, text);
}

/* ---- the supervised command ---- */

static int child_main(af_sup_slot *slot, void *ctx)
{
    af_cli_supervised *x = ctx;
    return af_cli_finish(x->cmd, x->work(slot, x->ctx));
}

int af_cli_supervise(af_cli_supervised *x)
{
    size_t head = (sizeof(af_sup_slot) + 63) & ~(size_t)63;
    size_t size = head + x->shared_size;
    char *mem =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        fprintf(stderr, "asyncfuzz %s: cannot map shared memory: %s\n", af_command(x->cmd)->name,
                strerror(errno));
        return AF_EXIT_USAGE;
    }
    x->slot = (af_sup_slot *)mem;
    x->shared = x->shared_size ? mem + head : NULL;
    if (x->init)
        x->init(x->shared, x->ctx);
    af_sup_catch_stops();
    int rc;
    for (;;) {
        pid_t pid = af_sup_spawn(x->slot, child_main, x);
        af_sup_death d;
        int code = AF_EXIT_USAGE;
        int r = pid < 0 ? -1 : af_sup_wait(pid, x->slot, x->hang_seconds, &code, &d);
        if (r < 0) {
            fprintf(stderr, "asyncfuzz %s: cannot run the command's process: %s\n",
                    af_command(x->cmd)->name, strerror(errno));
            rc = AF_EXIT_USAGE;
            break;
        }
        if (r == 0) {
            rc = code;
            break;
        }
        /* Ctrl-C, and a closed standard output: as the command would have
         * ended - unless the command ends gracefully on a stop, and the
         * child died of it before it could (in its start-up) */
        if ((d.how == AF_SUP_STOPPED && !x->graceful_stop) ||
            (d.how == AF_SUP_SIGNALED && d.signal == SIGPIPE))
            af_sup_die_of(d.signal);
        if (!x->on_death) {
            af_cli_death_error(x->cmd, &d, x->slot, x->hang_seconds);
            rc = AF_EXIT_USAGE;
            break;
        }
        rc = x->on_death(&d, x->slot, x->shared, x->ctx);
        if (rc != AF_CLI_GO)
            break;
    }
    af_sup_release_stops();
    return rc;
}
