/* supervise.h - the one supervisor of everything that runs a target: the
 * work is done in a forked child, watched by a parent that holds no
 * interpreter, so that no target can hang the parent, kill it, or end it
 * with an exit code it did not choose.
 *
 * Who uses it: the commands that run scenarios (run, replay, repro, gen,
 * minimize: harness/cli/cli_supervise.c), the built-in engine's workers
 * (engine.c), the libFuzzer / AFL++ targets' start-up coverage check
 * (fuzz_target.c).
 *
 * The child tells where it is in a slot of shared memory (af_sup_slot):
 *   phase   starting, loading (the interpreter and the target adapter),
 *           running, and how it ended: finished (through af_sup_child_exit,
 *           with its exit code), failed to set up, or aborted because the
 *           target did something the child cannot go on after (it raised
 *           SystemExit out of the loop): af_sup_child_fail / _abort, with a
 *           note saying why;
 *   step    the step running (a file's index, gen's run, an input's number),
 *           what it is in words (a file name), its input bytes, and when it
 *           started (start_ns; 0 between steps).
 * The parent applies the hang timeout to loading and to each step: a child
 * that stays longer in one is killed (SIGKILL). Any other end than through
 * af_sup_child_exit is a death: a signal, an exit from elsewhere (exit() or
 * os._exit() in the target's code), a hang, a failed set-up or an abort.
 * af_sup_describe puts one in words; af_sup_file_death files the input of
 * the step as a `crash` / `hang` finding in a findings store (the flight
 * record's filing, harness/engines/flight.h).
 *
 * Stop signals (commands only: af_sup_catch_stops). Ctrl-C reaches the
 * parent and the child together (one process group); `kill PID` only the
 * parent. So the parent counts the SIGINT / SIGTERM / SIGHUP it receives,
 * waits briefly for the child to see them too (a child that handles them
 * counts them in the slot: af_sup_child_saw_stop; one that does not dies of
 * them), and passes on those the child did not get. A child killed by a
 * stop signal the parent received is `stopped`, not a death of the target.
 *
 * What it must not do: run Python, or judge anything. The per-step cost in
 * the child is a few stores and a copy of the input; the parent sleeps
 * until the child ends or the current step's deadline (a pidfd), waking
 * about once per hang timeout otherwise.
 */
#ifndef ASYNCFUZZ_SUPERVISE_H
#define ASYNCFUZZ_SUPERVISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/error.h"

/* Input bytes a step keeps (the option --max-len at most). */
#define AF_SUP_INPUT_CAP 65536

/* Starting the interpreter and loading the target adapter is bounded by
 * --hang-timeout, but never by less than this: a per-run bound of a
 * fraction of a second must not kill a start-up on a loaded machine. */
#define AF_SUP_LOAD_MIN_SECONDS 5.0
#define AF_SUP_LOAD_MIN_TEXT "5"

typedef enum af_sup_phase {
    AF_SUP_STARTING = 0, /* forked: nothing done yet */
    AF_SUP_LOADING,      /* starting the interpreter, loading the target adapter */
    AF_SUP_RUNNING,      /* running steps (one runs while start_ns != 0) */
    AF_SUP_FINISHED,     /* ended through af_sup_child_exit: `code` */
    AF_SUP_FAILED,       /* could not set up: `note` says why */
    AF_SUP_ABORTED,      /* the target made it stop: `note` says how, `key` names it */
} af_sup_phase;

/* One child's record, in shared memory: written by the child, read by the
 * parent. Embeddable (the engine keeps one per worker). */
typedef struct af_sup_slot {
    _Atomic int phase;
    _Atomic int code;            /* the exit code (FINISHED) */
    _Atomic uint64_t start_ns;   /* CLOCK_MONOTONIC start of loading / the step; 0 idle */
    _Atomic uint64_t step;       /* the step running, or the last one */
    _Atomic uint32_t len;        /* bytes in input */
    _Atomic uint32_t stops_seen; /* stop signals the child handled */
    char what[1024];             /* the step or the loading, in words ("" none) */
    char note[1024];             /* FAILED / ABORTED: why */
    char key[64];                /* ABORTED: a short name ("SystemExit") */
    uint8_t input[AF_SUP_INPUT_CAP];
} af_sup_slot;

/* ---- in the child ---- */

/* Loading begins (what: "loading the target adapter 'x.py'"), and ends. */
void af_sup_loading(af_sup_slot *s, const char *what);
void af_sup_loaded(af_sup_slot *s);
/* A step begins: its number, what it is (NULL: as it was), its input
 * (NULL: none; cut to AF_SUP_INPUT_CAP), and ends. */
void af_sup_step_begin(af_sup_slot *s, uint64_t step, const char *what, const uint8_t *input,
                       size_t len);
void af_sup_step_end(af_sup_slot *s);
/* The child's own end: FINISHED with `code` (unless it failed to set
 * up); _exit(code). */
_Noreturn void af_sup_child_exit(af_sup_slot *s, int code);
/* The child cannot set up: FAILED, note; returns code (for the caller to
 * return from the child's function). */
int af_sup_child_fail(af_sup_slot *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The target made the child stop in the middle of the step (key: a short
 * name, "SystemExit"): ABORTED, note; _exit(code). */
_Noreturn void af_sup_child_abort(af_sup_slot *s, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* From a stop signal's handler: the child saw one (async-signal-safe). */
void af_sup_child_saw_stop(af_sup_slot *s);

/* ---- in the parent ---- */

/* The slot back to STARTING, before a (re)start. */
void af_sup_slot_reset(af_sup_slot *s);

/* Fork a child that runs child(s, ctx) and ends with af_sup_child_exit of
 * what it returns. In the child: the stop signals' dispositions from
 * before af_sup_catch_stops, killed with the parent (PR_SET_PDEATHSIG).
 * The pid, or -1 with errno set. */
pid_t af_sup_spawn(af_sup_slot *s, int (*child)(af_sup_slot *s, void *ctx), void *ctx);

typedef enum af_sup_how {
    AF_SUP_SIGNALED, /* killed by `signal` */
    AF_SUP_EXITED,   /* exited (status `status`, -1 unknown) not through af_sup_child_exit */
    AF_SUP_HUNG,     /* loading or a step ran `seconds`, longer than the hang timeout */
    AF_SUP_SETUP,    /* the child could not set up (the slot's note) */
    AF_SUP_TARGET,   /* the child stopped because of the target (the slot's key, note) */
    AF_SUP_STOPPED,  /* killed by a stop signal the parent received too (Ctrl-C) */
} af_sup_how;

/* A child's end other than its own (af_sup_child_exit). */
typedef struct af_sup_death {
    af_sup_how how;
    int signal;         /* SIGNALED, STOPPED */
    int status;         /* EXITED: the exit status; -1 unknown */
    double seconds;     /* HUNG: how long it had run */
    af_sup_phase phase; /* the phase it was in */
    bool in_step;       /* a step was running (else loading, or between steps) */
    uint64_t step;      /* that step */
} af_sup_death;

/* Wait for child pid (of slot s) to end, killing it once loading or a step
 * lasts longer than hang_seconds. Returns 0 when it ended through
 * af_sup_child_exit (*code, when not NULL, gets its code), 1 for a death
 * (*d filled), -1 on a system error (errno). */
int af_sup_wait(pid_t pid, af_sup_slot *s, double hang_seconds, int *code, af_sup_death *d);

/* For a parent that reaps children itself (waitpid): true when the child
 * of slot s ended through af_sup_child_exit (*code its code), else *d. */
bool af_sup_classify(const af_sup_slot *s, int wstatus, int *code, af_sup_death *d);
/* Whether loading or the step of slot s has run longer than hang_seconds
 * at now_ns: a hang (*d filled; kill the child). */
bool af_sup_overdue(const af_sup_slot *s, uint64_t now_ns, double hang_seconds, af_sup_death *d);

/* The signals that mean a crash (the interpreter or an extension). */
#define AF_CRASH_SIGNALS SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS
/* Whether sig is one of AF_CRASH_SIGNALS. */
bool af_sup_is_crash_signal(int sig);
/* "SIGSEGV" for 11. */
void af_sup_signal_name(int sig, char *buf, size_t cap);
/* What happened, in words, without where: "was killed by signal 11
 * (SIGSEGV): the target crashed the interpreter", "exited with status 0
 * without finishing: exit() or os._exit() in the target's code", "ran for
 * more than 30 s (the hang timeout, --hang-timeout) and was killed", the
 * note of a failed set-up or an abort. */
void af_sup_describe(const af_sup_death *d, const af_sup_slot *s, double hang_seconds, char *buf,
                     size_t cap);
/* Where: "while loading the target adapter 'x.py'", "while running
 * s.json", "in step 17" (the slot's what, or the step's number). */
void af_sup_where(const af_sup_death *d, const af_sup_slot *s, char *buf, size_t cap);

/* The finding a death is filed as: oracle "crash" or "hang", the signature
 * text ("crash:SIGSEGV", "crash:exit", "hang:timeout", "crash:SystemExit")
 * and one sentence of evidence. engine names the process ("builtin",
 * "gen"). */
void af_sup_death_finding(const af_sup_death *d, const af_sup_slot *s, const char *engine,
                          double hang_seconds, const char **oracle, char *text, size_t tcap,
                          char *evidence, size_t ecap);

/* Where and how a death is filed. */
typedef struct af_sup_filing {
    const char *findings_dir;
    const char *engine; /* "gen", "builtin", "libfuzzer" ... */
    const char *target; /* the target adapter; NULL or "": stock asyncio */
    const char *origin; /* how it was found ("gen --seed 5, run 17") */
    bool misuse;        /* the input decodes with misuse operations (gen --misuse) */
    bool quarantine;    /* add the input to the quarantine (the engines) */
    double hang_seconds;
    FILE *log; /* the FINDING line; NULL: none */
} af_sup_filing;

/* What filing did. */
typedef struct af_sup_filed {
    uint64_t signature;
    const char *oracle; /* "crash", "hang" */
    char text[64];
    int result; /* af_findings_result: 1 new, 0 counted */
} af_sup_filed;

/* File the input of the step a child died in (the slot's input) as a crash
 * / hang finding. 0 (*out filled when not NULL), or -1 with err set. */
int af_sup_file_death(const af_sup_filing *f, const af_sup_death *d, const af_sup_slot *s,
                      af_sup_filed *out, af_error *err);

/* Stop signals (SIGINT, SIGTERM, SIGHUP) are counted from now on, for
 * af_sup_wait to pass on (see above); af_sup_release_stops puts the
 * dispositions back. */
void af_sup_catch_stops(void);
void af_sup_release_stops(void);
/* The last stop signal the parent received, 0 none. */
int af_sup_stop_signal(void);
/* End this process the way the stop signal sig would (default action). */
_Noreturn void af_sup_die_of(int sig);

#endif
