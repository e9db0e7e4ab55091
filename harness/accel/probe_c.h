/* probe_c.h - the probe's per-task hooks in C (the module `_af_probe`).
 *
 * harness/py/probe.py records one event per task creation (its task
 * factory) and per task end (the done callback it adds to every task).
 * These run for every task of every run, so the embedded harness provides
 * them in C: af_probe_c_register() creates the built-in module `_af_probe`
 * and enters it in sys.modules; probe.py, when it can import it, binds it
 * to its globals and uses its functions in place of the Python ones.
 * Without it (a generated reproducer run by a plain python3.11) probe.py
 * keeps its Python code; both produce the same events, read from and
 * written to the same probe globals.
 */
#ifndef ASYNCFUZZ_PROBE_C_H
#define ASYNCFUZZ_PROBE_C_H

struct _object;

/* The module `_af_probe` (new reference), or NULL with a Python exception
 * set. */
struct _object *af_probe_c_create(void);

/* Create the module and enter it in sys.modules as `_af_probe`. Call with
 * the interpreter initialised, before probe.py is imported. Returns 0, or
 * -1 with a Python exception set. */
int af_probe_c_register(void);

/* Shared with selector_c.c, which runs the same handle steps for a loop
 * under test on virtual time:
 *   af_run_handle(h)             h._context.run(h._callback, *h._args): new
 *                                reference, or NULL with the exception;
 *   af_callback_failed(f, h)     with a callback's exception set: SystemExit
 *                                and KeyboardInterrupt stay raised (-1),
 *                                anything else goes to f(h, exc) while it is
 *                                the exception being handled (0, -1);
 *   af_slow_check(loop, t0, it0) after a callback that moved the clock from
 *                                t0: the `slow` event when it moved by
 *                                slow_ticks or more (and, it0 given, the
 *                                loop ran no iteration meanwhile). 0, -1. */
struct _object *af_run_handle(struct _object *h);
int af_callback_failed(struct _object *cb_failed, struct _object *h);
int af_slow_check(struct _object *loop, struct _object *t0, struct _object *it0);

#endif
