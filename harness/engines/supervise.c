/* supervise.c - the supervisor of everything that runs a target
 * (supervise.h). Must not run Python or judge: it forks, watches a slot of
 * shared memory and a pid, and puts deaths into words.
 *
 * Process-wide state: the stop signals the parent received (a signal
 * handler can reach nothing else) and their dispositions before
 * af_sup_catch_stops, which a child gets back. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "harness/engines/flight.h"
#include "harness/engines/supervise.h"

/* How long the parent waits for a child to show it saw a stop signal
 * before passing the signal on. */
#define STOP_GRACE_NS 100000000ull

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP (sizeof stop_signals / sizeof stop_signals[0])

static struct {
    volatile sig_atomic_t count; /* stop signals received */
    volatile sig_atomic_t last;  /* the last one */
    bool catching;
    struct sigaction prev[N_STOP];
    int at_spawn; /* count when the current child was forked */
} stops;

/* ---- in the child ---- */

static void set_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void af_sup_loading(af_sup_slot *s, const char *what)
{
    set_text(s->what, sizeof s->what, what);
    atomic_store_explicit(&s->phase, AF_SUP_LOADING, memory_order_relaxed);
    atomic_store_explicit(&s->start_ns, af_clock_ns(), memory_order_release);
}

void af_sup_loaded(af_sup_slot *s)
{
    atomic_store_explicit(&s->start_ns, 0, memory_order_release);
    atomic_store_explicit(&s->phase, AF_SUP_RUNNING, memory_order_release);
}

void af_sup_step_begin(af_sup_slot *s, uint64_t step, const char *what, const uint8_t *input,
                       size_t len)
{
    if (what)
        set_text(s->what, sizeof s->what, what);
    if (!input)
        len = 0;
    if (len > AF_SUP_INPUT_CAP)
        len = AF_SUP_INPUT_CAP;
    if (len)
        memcpy(s->input, input, len);
    atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&s->step, step, memory_order_relaxed);
    atomic_store_explicit(&s->phase, AF_SUP_RUNNING, memory_order_relaxed);
    atomic_store_explicit(&s->start_ns, af_clock_ns(), memory_order_release);
}

void af_sup_step_end(af_sup_slot *s)
{
    atomic_store_explicit(&s->start_ns, 0, memory_order_release);
}

_Noreturn void af_sup_child_exit(af_sup_slot *s, int code)
{
    atomic_store(&s->code, code);
    if (atomic_load(&s->phase) != AF_SUP_FAILED) /* a failed set-up stays one */
        atomic_store(&s->phase, AF_SUP_FINISHED);
    _exit(code);
}

int af_sup_child_fail(af_sup_slot *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->note, sizeof s->note, fmt, ap);
    va_end(ap);
    atomic_store(&s->phase, AF_SUP_FAILED);
    return code;
}

_Noreturn void af_sup_child_abort(af_sup_slot *s, int code, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->note, sizeof s->note, fmt, ap);
    va_end(ap);
    set_text(s->key, sizeof s->key, key);
    atomic_store(&s->phase, AF_SUP_ABORTED);
    fflush(NULL);
    _exit(code);
}

void af_sup_child_saw_stop(af_sup_slot *s)
{
    atomic_fetch_add_explicit(&s->stops_seen, 1, memory_order_relaxed);
}

/* ---- in the parent ---- */

void af_sup_slot_reset(af_sup_slot *s)
{
    atomic_store(&s->phase, AF_SUP_STARTING);
    atomic_store(&s->code, 0);
    atomic_store(&s->start_ns, 0);
    atomic_store(&s->len, 0);
    atomic_store(&s->stops_seen, 0);
    s->what[0] = s->note[0] = s->key[0] = '\0';
}

pid_t af_sup_spawn(af_sup_slot *s, int (*child)(af_sup_slot *s, void *ctx), void *ctx)
{
    af_sup_slot_reset(s);
    pid_t parent = getpid();
    fflush(NULL);
    stops.at_spawn = stops.count;
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (stops.catching)
        for (size_t i = 0; i < N_STOP; i++)
            sigaction(stop_signals[i], &stops.prev[i], NULL);
    stops.catching = false;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl */
        _exit(1);
    af_sup_child_exit(s, child(s, ctx));
}

bool af_sup_classify(const af_sup_slot *s, int wstatus, int *code, af_sup_death *d)
{
    int phase = atomic_load(&s->phase);
    if (phase == AF_SUP_FINISHED && WIFEXITED(wstatus) &&
        WEXITSTATUS(wstatus) == (atomic_load(&s->code) & 0xff)) {
        if (code)
            *code = atomic_load(&s->code);
        return true;
    }
    memset(d, 0, sizeof *d);
    d->phase = (af_sup_phase)phase;
    d->step = atomic_load(&s->step);
    d->in_step = phase == AF_SUP_RUNNING && atomic_load(&s->start_ns) != 0;
    d->status = -1;
    if (phase == AF_SUP_FAILED) {
        d->how = AF_SUP_SETUP;
    } else if (phase == AF_SUP_ABORTED) {
        d->how = AF_SUP_TARGET;
        d->in_step = true;
    } else if (WIFSIGNALED(wstatus)) {
        d->how = AF_SUP_SIGNALED;
        d->signal = WTERMSIG(wstatus);
    } else {
        d->how = AF_SUP_EXITED;
        d->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    }
    return false;
}

/* The bound of the slot's current phase: hang_seconds for a run, at least
 * AF_SUP_LOAD_MIN_SECONDS for starting the interpreter and loading the
 * adapter (a short per-run bound must not kill a slow start). */
static double phase_limit(const af_sup_slot *s, double hang_seconds)
{
    af_sup_phase phase = (af_sup_phase)atomic_load(&s->phase);
    bool loading = phase == AF_SUP_STARTING || phase == AF_SUP_LOADING;
    return loading && hang_seconds < AF_SUP_LOAD_MIN_SECONDS ? AF_SUP_LOAD_MIN_SECONDS
                                                             : hang_seconds;
}

bool af_sup_overdue(const af_sup_slot *s, uint64_t now_ns, double hang_seconds, af_sup_death *d)
{
    uint64_t started = atomic_load_explicit(&s->start_ns, memory_order_acquire);
    double limit = phase_limit(s, hang_seconds);
    if (!started || now_ns <= started || (double)(now_ns - started) / 1e9 <= limit)
        return false;
    memset(d, 0, sizeof *d);
    d->how = AF_SUP_HUNG;
    d->seconds = (double)(now_ns - started) / 1e9;
    d->phase = (af_sup_phase)atomic_load(&s->phase);
    d->in_step = d->phase == AF_SUP_RUNNING;
    d->step = atomic_load(&s->step);
    d->status = -1;
    return true;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* Sleep until the child pid ends (pidfd readable), a signal, or ns pass. */
static void nap(int pidfd, uint64_t ns)
{
    if (pidfd < 0 && ns > 20000000ull)
        ns = 20000000ull; /* no pidfd: poll the child every 20 ms */
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        ppoll(&p, 1, &ts, NULL);
    } else {
        nanosleep(&ts, NULL);
    }
}

/* Whether child pid has ended (not reaped). */
static bool child_ended(pid_t pid)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

/* Stop signals the parent received and has not dealt with (*handled of
 * them so far): for each, wait a moment for the child to show it saw it
 * too (or to end), else pass it on. */
static void pass_on_stops(pid_t pid, int pidfd, const af_sup_slot *s, unsigned *handled)
{
    while (*handled < (unsigned)(stops.count - stops.at_spawn)) {
        unsigned next = *handled + 1;
        uint64_t until = af_clock_ns() + STOP_GRACE_NS;
        bool seen = false;
        for (uint64_t now = af_clock_ns(); now < until && !seen; now = af_clock_ns()) {
            seen = atomic_load(&s->stops_seen) >= next || child_ended(pid);
            if (!seen)
                nap(pidfd, until - now);
        }
        if (!seen && atomic_load(&s->stops_seen) < next && !child_ended(pid))
            kill(pid, stops.last);
        *handled = next;
    }
}

int af_sup_wait(pid_t pid, af_sup_slot *s, double hang_seconds, int *code, af_sup_death *d)
{
    int pidfd = open_pidfd(pid);
    unsigned handled = 0;
    int status = 0, rc;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            rc = -1;
            goto done;
        }
        uint64_t now = af_clock_ns();
        if (af_sup_overdue(s, now, hang_seconds, d)) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            rc = 1;
            goto done;
        }
        if (stops.catching)
            pass_on_stops(pid, pidfd, s, &handled);
        uint64_t started = atomic_load_explicit(&s->start_ns, memory_order_acquire);
        uint64_t limit_ns = (uint64_t)(phase_limit(s, hang_seconds) * 1e9);
        uint64_t deadline = (started ? started : now) + limit_ns + 1000000ull;
        nap(pidfd, deadline > now ? deadline - now : 1000000ull);
    }
    if (af_sup_classify(s, status, code, d)) {
        rc = 0;
    } else {
        rc = 1;
        if (d->how == AF_SUP_SIGNALED && stops.catching && stops.count != stops.at_spawn) {
            for (size_t i = 0; i < N_STOP; i++)
                if (d->signal == stop_signals[i])
                    d->how = AF_SUP_STOPPED;
        }
    }
done:
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* ---- words ---- */

bool af_sup_is_crash_signal(int sig)
{
    static const int crash[] = {AF_CRASH_SIGNALS};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        if (crash[i] == sig)
            return true;
    return false;
}

void af_sup_signal_name(int sig, char *buf, size_t cap)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, cap, "SIG%s", abbrev);
    else
        snprintf(buf, cap, "signal-%d", sig);
}

void af_sup_describe(const af_sup_death *d, const af_sup_slot *s, double hang_seconds, char *buf,
                     size_t cap)
{
    char name[32];
    switch (d->how) {
    case AF_SUP_SIGNALED:
    case AF_SUP_STOPPED:
        af_sup_signal_name(d->signal, name, sizeof name);
        snprintf(buf, cap, "was killed by signal %d (%s)%s", d->signal, name,
                 d->how == AF_SUP_STOPPED            ? ": stopped"
                 : af_sup_is_crash_signal(d->signal) ? ": the target crashed the interpreter"
                                                     : "");
        break;
    case AF_SUP_EXITED:
        if (d->status >= 0)
            snprintf(buf, cap,
                     "exited with status %d without finishing: exit() or os._exit() called in the "
                     "target's code",
                     d->status);
        else
            snprintf(buf, cap, "exited without finishing: exit() called in the target's code");
        break;
    case AF_SUP_HUNG:
        snprintf(buf, cap, "was still running after %.1f s (--hang-timeout %g%s) and was killed%s",
                 d->seconds, hang_seconds,
                 d->phase == AF_SUP_LOADING || d->phase == AF_SUP_STARTING
                     ? ", at least " AF_SUP_LOAD_MIN_TEXT " s to load"
                     : "",
                 d->in_step ? ": blocked in C, or looping where the watchdog cannot stop it" : "");
        break;
    case AF_SUP_SETUP:
    case AF_SUP_TARGET:
        snprintf(buf, cap, "%s", s && s->note[0] ? s->note : "stopped (no reason given)");
        break;
    }
}

void af_sup_where(const af_sup_death *d, const af_sup_slot *s, char *buf, size_t cap)
{
    const char *what = s ? s->what : "";
    if (d->phase == AF_SUP_STARTING)
        snprintf(buf, cap, "while starting");
    else if ((d->phase == AF_SUP_LOADING || d->in_step) && what[0])
        snprintf(buf, cap, "while %s", what);
    else if (d->phase == AF_SUP_LOADING || d->in_step)
        snprintf(buf, cap, "in step %llu", (unsigned long long)d->step);
    else
        snprintf(buf, cap, "between steps (after %s)", what[0] ? what : "the last one");
}

void af_sup_death_finding(const af_sup_death *d, const af_sup_slot *s, const char *engine,
                          double hang_seconds, const char **oracle, char *text, size_t tcap,
                          char *evidence, size_t ecap)
{
    char name[32];
    *oracle = "crash";
    switch (d->how) {
    case AF_SUP_SIGNALED:
    case AF_SUP_STOPPED:
        af_sup_signal_name(d->signal, name, sizeof name);
        snprintf(text, tcap, "crash:%s", name);
        snprintf(evidence, ecap,
                 "the %s process was killed by signal %d (%s) while running this input: the "
                 "interpreter or an extension crashed",
                 engine, d->signal, name);
        break;
    case AF_SUP_EXITED:
        snprintf(text, tcap, "crash:exit");
        if (d->status < 0)
            snprintf(evidence, ecap,
                     "the %s process exited in the middle of this input (exit() called from the "
                     "target's code)",
                     engine);
        else
            snprintf(evidence, ecap,
                     "the %s process exited with status %d in the middle of this input (exit() or "
                     "os._exit() called from the target's code)",
                     engine, d->status);
        break;
    case AF_SUP_HUNG:
        *oracle = "hang";
        snprintf(text, tcap, "hang:timeout");
        snprintf(evidence, ecap,
                 "one input ran for more than %.0f s of real time and the %s process was "
                 "stopped: a hang no Python-level watchdog could end (in C code)",
                 hang_seconds, engine);
        break;
    case AF_SUP_SETUP:
    case AF_SUP_TARGET:
        snprintf(text, tcap, "crash:%s", s && s->key[0] ? s->key : "setup");
        snprintf(evidence, ecap, "%s", s && s->note[0] ? s->note : "the process stopped");
        break;
    }
}

int af_sup_file_death(const af_sup_filing *f, const af_sup_death *d, const af_sup_slot *s,
                      af_sup_filed *out, af_error *err)
{
    uint32_t len = atomic_load(&s->len);
    if (len > AF_SUP_INPUT_CAP)
        len = AF_SUP_INPUT_CAP;
    return af_flight_file(f, d, s, s->input, len, out, err);
}

/* ---- stop signals ---- */

static void on_stop(int sig)
{
    stops.count++;
    stops.last = sig;
}

void af_sup_catch_stops(void)
{
    if (stops.catching)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_STOP; i++)
        sigaddset(&sa.sa_mask, stop_signals[i]);
    for (size_t i = 0; i < N_STOP; i++)
        sigaction(stop_signals[i], &sa, &stops.prev[i]);
    stops.catching = true;
}

void af_sup_release_stops(void)
{
    if (!stops.catching)
        return;
    for (size_t i = 0; i < N_STOP; i++)
        sigaction(stop_signals[i], &stops.prev[i], NULL);
    stops.catching = false;
}

int af_sup_stop_signal(void)
{
    return stops.count ? stops.last : 0;
}

_Noreturn void af_sup_die_of(int sig)
{
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}
