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

#endif
