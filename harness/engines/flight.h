/* flight.h - the flight recorder of the libFuzzer and AFL++ targets: the
 * input a process is running, kept where its death cannot take it away,
 * and the recovery that files such inputs as `crash` / `hang` findings.
 *
 * A target whose code crashes the interpreter (a segfault in an extension,
 * Py_FatalError) or blocks in C dies in the middle of an input, before it
 * can write anything. So before each input the target copies it into
 * FINDINGS/.inflight/<engine>-<pid>, a file it keeps mapped shared: the
 * bytes are in the page cache the moment they are copied, and stay there
 * whatever kills the process. The record also holds:
 *   - the run's state (idle / running) and its start (CLOCK_MONOTONIC);
 *   - the last fatal or stopping signal that arrived during the run,
 *     stored by a handler chained in front of the engine's own
 *     (libFuzzer's, UBSan's, or the default action);
 *   - `overdue`, set by a POSIX timer once the run has lasted longer than
 *     the hang timeout (AF_HANG_TIMEOUT, seconds, default 30): the engine's
 *     own timeout (libFuzzer -timeout, afl-fuzz -t) kills the process
 *     later, and the mark tells that death from a campaign's normal end.
 *
 * Recovery (af_flight_recover) looks at every record whose process is gone
 * (its pid dead, or reused: the recorded start time differs) and that was
 * running an input:
 *   - a crash signal (SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS): a `crash`
 *     finding, signature text "crash:SIGSEGV";
 *   - exit() called during the run (an atexit handler marks the record):
 *     a `crash` finding, "crash:exit";
 *   - overdue: a `hang` finding, "hang:timeout";
 *   - otherwise (SIGINT/SIGTERM, or a SIGKILL at an ordinary moment: the
 *     campaign was stopped) nothing is filed.
 * A record is claimed by rename(2) first, so with several recovering
 * processes exactly one files it. Inputs filed this way are added to the
 * quarantine (FINDINGS/.quarantine/<16-hex hash of the bytes>): a campaign
 * skips them instead of dying on them again (af_quarantine_*).
 *
 * What it must not do: run Python, or judge anything. The recorder's
 * per-input cost is a memcpy and three stores; its signal handlers only
 * store into the record and pass the signal on.
 */
#ifndef ASYNCFUZZ_FLIGHT_H
#define ASYNCFUZZ_FLIGHT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/hashset.h"
#include "harness/engines/supervise.h"
#include "scenarios/ir.h"

/* af_flight_file_death's `sig` for an exit whose status is 0 or unknown. */
#define AF_FLIGHT_EXITED (-256)

typedef struct af_flight af_flight;

/* Open this process's record in findings_dir/.inflight/ (created when
 * missing). engine names the target ("libfuzzer", "afl"), target the
 * adapter (may be NULL or ""); hang_seconds is the hang timeout (the
 * option --hang-timeout, AF_HANG_TIMEOUT for the engine binaries). Signal handlers and the timer
 * are installed at the first af_flight_begin, so that they chain to handlers an engine installs
 * after this call. NULL with err set on failure. */
af_flight *af_flight_open(const char *findings_dir, const char *engine, const char *target,
                          double hang_seconds, af_error *err);
/* The input about to run / it finished. */
void af_flight_begin(af_flight *fl, const uint8_t *data, size_t len);
void af_flight_end(af_flight *fl);
/* Remove the record and stop the timer (also done at exit). */
void af_flight_close(af_flight *fl);

/* One recovered input, for callers that keep state (the quarantine). */
typedef void (*af_flight_filed_fn)(void *ctx, const uint8_t *data, size_t len);

/* File the inputs of dead processes' records in findings_dir (see above).
 * `by` names the recovering process in the finding's origin. Announces each
 * new finding on `log` (may be NULL). Returns how many inputs it filed. */
int af_flight_recover(const char *findings_dir, const char *by, FILE *log, af_flight_filed_fn fn,
                      void *ctx);

/* File one input that killed a process, seen by a supervisor that watched
 * it die (the coverage check's child): `sig` the signal, 0 for a hang of
 * more than hang_seconds, -STATUS for an exit with that status (AF_FLIGHT_EXITED
 * when 0). Adds it to the quarantine. Returns
 * 1 when it was a new finding, 0 when counted, -1 on an I/O error (err set). */
int af_flight_file_death(const char *findings_dir, const char *engine, const char *target,
                         const char *origin, const uint8_t *data, size_t len, int sig,
                         double hang_seconds, FILE *log, af_error *err);

/* File one input that killed a process (the death d, supervise.h; s the
 * dead child's slot when there is one, for an abort's note) as a `crash` /
 * `hang` finding where f says, quarantined when f asks. 0 (*out filled when
 * not NULL), or -1 with err set. */
int af_flight_file(const af_sup_filing *f, const af_sup_death *d, const af_sup_slot *s,
                   const uint8_t *data, size_t len, af_sup_filed *out, af_error *err);

/* ---- the quarantine: inputs known to kill the process ---- */

/* A set of af_quarantine_hash values (hashset.h: has, add, free). */
typedef af_hashset af_quarantine;

/* Load findings_dir/.quarantine/ (missing: empty). 0, or -1 out of memory. */
int af_quarantine_load(af_quarantine *q, const char *findings_dir);
/* The hash inputs are quarantined by. */
uint64_t af_quarantine_hash(const uint8_t *data, size_t len);

#endif
