/* flight.c - the flight recorder, its recovery and the quarantine
 * (flight.h). Must not run Python or judge: it moves bytes to disk.
 *
 * The one piece of process-wide state is `active`: the record the signal
 * handlers store into, with the handlers they chain to. A signal handler
 * can reach nothing else; there is one recorder per process. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/run/embed.h"
#include "base/clock.h"
#include "harness/engines/flight.h"
#include "harness/engines/supervise.h"
#include "reports/finding.h"
#include "reports/findings.h"
#include "scenarios/bytes.h"

#define FLIGHT_MAGIC 0x544c4641u /* "AFLT" */
#define FLIGHT_VERSION 1u
#define FLIGHT_CAP (1u << 20) /* input bytes kept; longer inputs are cut */
#define FLIGHT_IDLE 0u
#define FLIGHT_RUNNING 1u
#define FLIGHT_EXITED AF_FLIGHT_EXITED /* `signal` when the process exited during the run */

typedef struct flight_record {
    uint32_t magic, version;
    int32_t pid;
    uint32_t reserved;
    uint64_t proc_start; /* /proc/PID/stat starttime: tells a reused pid */
    double hang_seconds;
    char engine[32];
    char target[1024];
    /* the current run; written by this process only */
    uint32_t state;
    int32_t signal;   /* last fatal / stopping signal during the run */
    uint32_t overdue; /* the run outlasted hang_seconds */
    uint32_t len;     /* bytes in data */
    uint64_t full_len;
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    uint8_t data[];
} flight_record;

#define FLIGHT_FILE_SIZE (sizeof(flight_record) + FLIGHT_CAP)

struct af_flight {
    flight_record *rec;
    char path[PATH_MAX];
    bool armed; /* handlers and timer installed */
    timer_t timer;
    bool have_timer;
};

/* Signals whose arrival during a run is recorded. Crash signals make a
 * `crash` finding; stopping signals say the campaign was stopped. */
static const int crash_signals[] = {AF_CRASH_SIGNALS};
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_CRASH (sizeof crash_signals / sizeof crash_signals[0])
#define N_STOP (sizeof stop_signals / sizeof stop_signals[0])

static struct {
    af_flight *fl;
    struct sigaction prev[65];
} active;

/* Fields of /proc/PID/stat: the state letter (3) and starttime (22).
 * Returns -1 when unreadable (no such process). */
static int process_stat(int pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    *state = p[2];
    /* p + 2 starts field 3; each space starts the next one */
    int field = 3;
    for (p += 2; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    *start = strtoull(p, NULL, 10);
    return 0;
}

static uint64_t process_start(int pid)
{
    char state;
    uint64_t start = 0;
    return process_stat(pid, &state, &start) == 0 ? start : 0;
}

/* Alive: the pid exists, is not a zombie, and (when known) started when
 * the record says (not a reused pid). */
static bool process_alive(int pid, uint64_t start)
{
    if (pid <= 0)
        return false;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return false;
    char state;
    uint64_t now_start;
    if (process_stat(pid, &state, &now_start) < 0)
        return kill(pid, 0) == 0 || errno == EPERM;
    if (state == 'Z' || state == 'X')
        return false;
    return start == 0 || now_start == start;
}

/* ---- the recorder ---- */

/* exit() in the middle of a run (the target's code called it): the
 * record stays, marked, for recovery to file; otherwise it goes. */
static void close_at_exit(void)
{
    af_flight *fl = active.fl;
    if (!fl)
        return;
    if (__atomic_load_n(&fl->rec->state, __ATOMIC_ACQUIRE) == FLIGHT_RUNNING) {
        __atomic_store_n(&fl->rec->signal, FLIGHT_EXITED, __ATOMIC_RELEASE);
        return;
    }
    af_flight_close(fl);
}

af_flight *af_flight_open(const char *findings_dir, const char *engine, const char *target,
                          double hang_seconds, af_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/.inflight", findings_dir);
    if (af_make_dirs(dir, err) < 0)
        return NULL;
    af_flight *fl = calloc(1, sizeof *fl);
    if (!fl) {
        af_error_set(err, "", "out of memory");
        return NULL;
    }
    snprintf(fl->path, sizeof fl->path, "%s/%s-%d", dir, engine, (int)getpid());
    int fd = open(fl->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)FLIGHT_FILE_SIZE) < 0) {
        af_error_set(err, fl->path, "cannot create the flight record: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        free(fl);
        return NULL;
    }
    void *m = mmap(NULL, FLIGHT_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        af_error_set(err, fl->path, "cannot map the flight record: %s", strerror(errno));
        unlink(fl->path);
        free(fl);
        return NULL;
    }
    fl->rec = m;
    fl->rec->version = FLIGHT_VERSION;
    fl->rec->pid = (int32_t)getpid();
    fl->rec->proc_start = process_start((int)getpid());
    fl->rec->hang_seconds = hang_seconds;
    snprintf(fl->rec->engine, sizeof fl->rec->engine, "%s", engine);
    snprintf(fl->rec->target, sizeof fl->rec->target, "%s", target ? target : "");
    __atomic_store_n(&fl->rec->magic, FLIGHT_MAGIC, __ATOMIC_RELEASE);
    if (!active.fl) {
        active.fl = fl;
        static bool registered;
        if (!registered)
            atexit(close_at_exit);
        registered = true;
    }
    return fl;
}

static void chain(int sig, siginfo_t *info, void *uctx)
{
    struct sigaction *p = &active.prev[sig];
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction)
            p->sa_sigaction(sig, info, uctx);
        return;
    }
    if (p->sa_handler == SIG_IGN)
        return;
    if (p->sa_handler == SIG_DFL) {
        /* the default action, delivered when this handler returns */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        raise(sig);
        return;
    }
    p->sa_handler(sig);
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    af_flight *fl = active.fl;
    if (fl && fl->rec && __atomic_load_n(&fl->rec->state, __ATOMIC_RELAXED) == FLIGHT_RUNNING) {
        /* a crash outranks a stop that came first */
        if (af_sup_is_crash_signal(sig) || fl->rec->signal == 0)
            __atomic_store_n(&fl->rec->signal, sig, __ATOMIC_RELAXED);
    }
    chain(sig, info, uctx);
}

static void on_timer(int sig)
{
    (void)sig;
    af_flight *fl = active.fl;
    if (!fl || !fl->rec || __atomic_load_n(&fl->rec->state, __ATOMIC_ACQUIRE) != FLIGHT_RUNNING)
        return;
    uint64_t started = fl->rec->start_ns;
    if ((double)(af_clock_ns() - started) / 1e9 >= fl->rec->hang_seconds)
        __atomic_store_n(&fl->rec->overdue, 1u, __ATOMIC_RELAXED);
}

/* An alternate stack, so that a stack overflow's SIGSEGV still reaches
 * the handler (unless the engine already set one up). */
static void ensure_altstack(void)
{
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
        return;
    size_t size = 64 * 1024;
    void *mem = malloc(size);
    if (!mem)
        return;
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) < 0)
        free(mem);
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &active.prev[sig]);
}

static void arm(af_flight *fl)
{
    fl->armed = true;
    if (active.fl != fl)
        return;
    ensure_altstack();
    for (size_t i = 0; i < N_CRASH; i++)
        install(crash_signals[i]);
    for (size_t i = 0; i < N_STOP; i++)
        install(stop_signals[i]);
    /* the overdue mark: a tick every quarter of the hang timeout (<= 1 s) */
    int tsig = SIGRTMAX - 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timer;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(tsig, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = tsig;
    if (timer_create(CLOCK_MONOTONIC, &ev, &fl->timer) == 0) {
        double tick = fl->rec->hang_seconds / 4;
        if (tick > 1.0)
            tick = 1.0;
        if (tick < 0.01)
            tick = 0.01;
        struct itimerspec its;
        its.it_interval.tv_sec = (time_t)tick;
        its.it_interval.tv_nsec = (long)((tick - (double)(time_t)tick) * 1e9);
        its.it_value = its.it_interval;
        timer_settime(fl->timer, 0, &its, NULL);
        fl->have_timer = true;
    }
}

void af_flight_begin(af_flight *fl, const uint8_t *data, size_t len)
{
    if (!fl)
        return;
    if (!fl->armed)
        arm(fl);
    flight_record *r = fl->rec;
    size_t n = len < FLIGHT_CAP ? len : FLIGHT_CAP;
    memcpy(r->data, data, n);
    r->len = (uint32_t)n;
    r->full_len = len;
    r->signal = 0;
    r->overdue = 0;
    r->start_ns = af_clock_ns();
    __atomic_store_n(&r->state, FLIGHT_RUNNING, __ATOMIC_RELEASE);
}

void af_flight_end(af_flight *fl)
{
    if (fl)
        __atomic_store_n(&fl->rec->state, FLIGHT_IDLE, __ATOMIC_RELEASE);
}

void af_flight_close(af_flight *fl)
{
    if (!fl)
        return;
    if (fl->have_timer)
        timer_delete(fl->timer);
    if (active.fl == fl) {
        for (size_t i = 0; fl->armed && i < N_CRASH; i++)
            sigaction(crash_signals[i], &active.prev[crash_signals[i]], NULL);
        for (size_t i = 0; fl->armed && i < N_STOP; i++)
            sigaction(stop_signals[i], &active.prev[stop_signals[i]], NULL);
        active.fl = NULL;
    }
    munmap(fl->rec, FLIGHT_FILE_SIZE);
    unlink(fl->path);
    free(fl);
}

/* ---- the quarantine ---- */

uint64_t af_quarantine_hash(const uint8_t *data, size_t len)
{
    uint64_t h = af_hash64((const char *)data, len);
    return h ? h : 1;
}

int af_quarantine_load(af_quarantine *q, const char *findings_dir)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/.quarantine", findings_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && rc == 0) {
        if (strlen(e->d_name) != 16)
            continue;
        char *end;
        uint64_t h = strtoull(e->d_name, &end, 16);
        if (!*end && h && af_hashset_add(q, h) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

static void quarantine_write(const char *findings_dir, uint64_t hash)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    af_error err;
    snprintf(dir, sizeof dir, "%s/.quarantine", findings_dir);
    if (af_make_dirs(dir, &err) < 0)
        return;
    snprintf(path, sizeof path, "%s/%016" PRIx64, dir, hash);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

/* ---- filing ---- */

int af_flight_file(const af_sup_filing *f, const af_sup_death *d, const af_sup_slot *s,
                   const uint8_t *data, size_t len, af_sup_filed *out, af_error *err)
{
    char text[64], evidence[1100];
    const char *oracle;
    af_sup_death_finding(d, s, f->engine, f->hang_seconds, &oracle, text, sizeof text, evidence,
                         sizeof evidence);
    af_scenario *sc = malloc(sizeof *sc);
    if (!sc) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    af_decode(data, len, f->misuse, sc);
    af_findings_record_in in;
    memset(&in, 0, sizeof in);
    in.scenario = sc;
    in.input = data;
    in.input_len = len;
    in.engine = f->engine;
    in.origin = f->origin;
    in.oracle = oracle;
    in.signature_text = text;
    in.evidence = evidence;
    in.target = f->target && *f->target ? f->target : NULL;
    char sigdir[PATH_MAX + 32];
    af_findings_result r = af_findings_record(f->findings_dir, &in, sigdir, sizeof sigdir, err);
    free(sc);
    if (r == AF_FINDINGS_ERROR)
        return -1;
    if (f->quarantine)
        quarantine_write(f->findings_dir, af_quarantine_hash(data, len));
    if (out) {
        out->signature = af_findings_signature(&in);
        out->oracle = oracle;
        snprintf(out->text, sizeof out->text, "%s", text);
        out->result = r;
    }
    FILE *log = f->log;
    if (log && r == AF_FINDINGS_NEW) {
        fprintf(log,
                "asyncfuzz: FINDING %s %016" PRIx64 " %s\n  %s\n  finding: %s/\n"
                "  replay:  asyncfuzz run %s/scenario.json\n"
                "  repro:   python3.%d %s/repro.py\n",
                in.oracle, af_findings_signature(&in), text, evidence, sigdir, sigdir,
                af_embed_pyversion() % 100, sigdir);
        fflush(log);
    } else if (log) {
        fprintf(log, "asyncfuzz: %s again (%s), counted in %s/\n", text, f->origin, sigdir);
        fflush(log);
    }
    return 0;
}

/* The death a flight record's `signal` field stands for: a signal (> 0),
 * an exit (< 0: -status, or FLIGHT_EXITED when unknown), a hang (0). */
static af_sup_death death_of(int sig)
{
    af_sup_death d;
    memset(&d, 0, sizeof d);
    d.phase = AF_SUP_RUNNING;
    d.in_step = true;
    d.status = -1;
    if (sig > 0) {
        d.how = AF_SUP_SIGNALED;
        d.signal = sig;
    } else if (sig < 0) {
        d.how = AF_SUP_EXITED;
        d.status = sig == FLIGHT_EXITED ? -1 : -sig;
    } else {
        d.how = AF_SUP_HUNG;
    }
    return d;
}

/* File one input that killed a process (flight record codes: death_of).
 * Returns an af_findings_result. */
static af_findings_result file_input(const char *findings_dir, const char *engine,
                                     const char *target, const char *origin, const uint8_t *data,
                                     size_t len, int sig, double hang_seconds, FILE *log,
                                     af_error *err)
{
    af_sup_filing f = {.findings_dir = findings_dir,
                       .engine = engine,
                       .target = target,
                       .origin = origin,
                       .quarantine = true,
                       .hang_seconds = hang_seconds,
                       .log = log};
    af_sup_death d = death_of(sig);
    af_sup_filed filed;
    if (af_flight_file(&f, &d, NULL, data, len, &filed, err) < 0)
        return AF_FINDINGS_ERROR;
    return (af_findings_result)filed.result;
}

int af_flight_file_death(const char *findings_dir, const char *engine, const char *target,
                         const char *origin, const uint8_t *data, size_t len, int sig,
                         double hang_seconds, FILE *log, af_error *err)
{
    af_findings_result r =
        file_input(findings_dir, engine, target, origin, data, len, sig, hang_seconds, log, err);
    return r == AF_FINDINGS_ERROR ? -1 : r == AF_FINDINGS_NEW ? 1 : 0;
}

/* ---- recovery ---- */

/* Reads a claimed record; 0 when it holds an input that killed its
 * process (*rec malloc'd), 1 when there is nothing to file, -1 unreadable. */
static int read_record(const char *path, flight_record **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    flight_record head;
    ssize_t n = pread(fd, &head, sizeof head, 0);
    if (n != (ssize_t)sizeof head || head.magic != FLIGHT_MAGIC || head.version != FLIGHT_VERSION ||
        head.state != FLIGHT_RUNNING || head.len > FLIGHT_CAP) {
        close(fd);
        return 1;
    }
    flight_record *r = malloc(sizeof head + head.len);
    if (!r) {
        close(fd);
        return -1;
    }
    *r = head;
    n = pread(fd, r->data, head.len, (off_t)sizeof head);
    close(fd);
    if (n != (ssize_t)head.len) {
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Whether a record file (or a claim of one) belongs to a process that is
 * gone. Names: ENGINE-PID, or .claim-CLAIMER-ENGINE-PID. */
static bool record_is_stale(const char *dir, const char *name)
{
    if (strncmp(name, ".claim-", 7) == 0)
        return !process_alive(atoi(name + 7), 0);
    if (name[0] == '.')
        return false;
    const char *dash = strrchr(name, '-');
    if (!dash)
        return false;
    int pid = atoi(dash + 1);
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    flight_record head;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t start = 0;
    if (fd >= 0) {
        if (pread(fd, &head, sizeof head, 0) == (ssize_t)sizeof head && head.magic == FLIGHT_MAGIC)
            start = head.proc_start;
        close(fd);
    }
    return pid != (int)getpid() && !process_alive(pid, start);
}

static int recover_one(const char *findings_dir, const char *dir, const char *name, const char *by,
                       FILE *log, af_flight_filed_fn fn, void *ctx)
{
    char from[PATH_MAX + 256], claim[PATH_MAX + 512];
    snprintf(from, sizeof from, "%s/%s", dir, name);
    const char *base = strncmp(name, ".claim-", 7) == 0 ? strchr(name + 7, '-') + 1 : name;
    snprintf(claim, sizeof claim, "%s/.claim-%d-%s", dir, (int)getpid(), base);
    if (rename(from, claim) < 0)
        return 0; /* another process claimed it */
    flight_record *r = NULL;
    int rc = read_record(claim, &r);
    int filed = 0;
    if (rc == 0) {
        int sig = af_sup_is_crash_signal(r->signal) || r->signal == FLIGHT_EXITED ? r->signal : 0;
        if (sig || r->overdue) {
            char origin[256];
            snprintf(origin, sizeof origin,
                     "flight record of %s process %d, filed by %s; input of %" PRIu64 " bytes%s",
                     r->engine, (int)r->pid, by, r->full_len,
                     r->full_len > r->len ? " (cut to the recorder's capacity)" : "");
            af_error err;
            memset(&err, 0, sizeof err);
            r->engine[sizeof r->engine - 1] = '\0';
            r->target[sizeof r->target - 1] = '\0';
            af_findings_result fr = file_input(findings_dir, r->engine, r->target, origin, r->data,
                                               r->len, sig, r->hang_seconds, log, &err);
            if (fr == AF_FINDINGS_ERROR) {
                if (log)
                    fprintf(log, "asyncfuzz: cannot file the input of %s: %s\n", claim,
                            err.message);
                free(r);
                return 0; /* keep the claim: a later recovery retries */
            }
            if (fn)
                fn(ctx, r->data, r->len);
            filed = 1;
        }
        free(r);
    }
    unlink(claim);
    return filed;
}

int af_flight_recover(const char *findings_dir, const char *by, FILE *log, af_flight_filed_fn fn,
                      void *ctx)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/.inflight", findings_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char names[64][256];
    int n = 0, filed = 0;
    struct dirent *e;
    bool more = true;
    while (more) {
        n = 0;
        while (n < 64 && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                strlen(e->d_name) < sizeof names[0] && record_is_stale(dir, e->d_name))
                snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        more = n == 64;
        for (int i = 0; i < n; i++)
            filed += recover_one(findings_dir, dir, names[i], by, log, fn, ctx);
    }
    closedir(d);
    return filed;
}
