/* watchdog_c.h - the run's real-time watchdog inside a callback (the module
 * `_af_watchdog`).
 *
 * The virtual-time loop checks its watchdog between iterations
 * (vloop.VirtualLoop.run_until), so a callback that never returns - a
 * Python-level loop in the target's code - would never reach the check.
 * While a run_until runs, a thread of this process sleeps until its
 * deadline; past it, the thread takes the GIL - the main thread hands it
 * over at its next bytecode boundary - records where the run was, the
 * first time in that run_until - the mark (len(loop.events), loop._clock,
 * loop._iteration), also set as loop.watchdog_at - and has the main thread
 * raise vloop.WatchdogExpired where it resumes (PyThreadState_SetAsyncExc;
 * watchdog_c.c says why not Py_AddPendingCall). It is a
 * KeyboardInterrupt: asyncio's task steps and the loop's handles re-raise
 * those (other BaseExceptions are stored on the task, and the loop would go
 * on), and no scenario handler catches it (they catch CancelledError,
 * Exception and their subclasses). The callback unwinds, the loop re-raises
 * it, run_until catches it and returns "watchdog", and the probe puts the
 * run's `budget watchdog` event at the mark: what the unwinding recorded
 * comes after it, as the harness's, like its cleanup. While run_until goes
 * on past its deadline (the exception was absorbed: an await in a finally
 * clause suspends it), the thread raises it again about every quarter of the
 * watchdog (10 ms .. 1 s). An exception set and not raised when
 * run_until ends is withdrawn.
 *
 * A thread, not a signal: no system call of the target's (pause(), a read)
 * is interrupted by the watchdog. A block in C never reaches a bytecode
 * boundary: that is the supervisor's hang timeout
 * (harness/engines/supervise.h). The thread starts at the first run_until
 * of a process (again in a forked child) and costs nothing per run: a run
 * stores its deadline, the thread wakes at the deadlines it sees.
 *
 * Module `_af_watchdog` (registered by harness/run/embed.c with or without
 * the accelerators): bind(exc_type), begin(loop, seconds), end() for
 * vloop.py's Python run_until (--no-accel); the C run_until
 * (harness/accel/probe_c.c) calls the functions below. A reproducer, where
 * there is no such module, does the same with signal.setitimer and a
 * SIGALRM handler that raises (vloop.py).
 */
#ifndef ASYNCFUZZ_WATCHDOG_C_H
#define ASYNCFUZZ_WATCHDOG_C_H

struct _object;

/* Create the module and enter it in sys.modules as `_af_watchdog`. Call
 * with the interpreter initialised, before vloop.py is imported. 0, or -1
 * with a Python exception set. */
int af_watchdog_register(void);

/* A run_until on loop begins, with `seconds` of real time; it ends.
 * Nested calls keep the outermost deadline. begin: 0, or -1 with a Python
 * exception set (bind was not called). */
int af_watchdog_begin(struct _object *loop, double seconds);
void af_watchdog_end(void);

/* When the raised exception is the watchdog's: clears it, returns 1;
 * else 0 (the exception stays). */
int af_watchdog_caught(void);

/* The mark of loop's last run_until (borrowed: (index, clock, iteration)),
 * or NULL when the watchdog did not fire in it. */
struct _object *af_watchdog_mark(struct _object *loop);

#endif
