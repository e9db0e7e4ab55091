/* embed.h - the embedded CPython interpreter, initialised once per process.
 *
 * af_embed_init() configures the interpreter with PyConfig so that every run
 * of the harness sees the same interpreter whatever the environment:
 *   - isolated from PYTHON* environment variables and the user site
 *     directory, no signal handlers, no argv parsing;
 *   - a fixed hash seed (use_hash_seed=1, hash_seed=0): str/bytes hashes,
 *     and so set and dict orders that depend on them, are the same in
 *     every process;
 *   - warnings filter "always" (a long-lived interpreter would otherwise
 *     show a warning once per location and hide later ones);
 *   - site enabled, so Debian's dist-packages are importable.
 * It then makes the modules of harness/py/ and the built-in adapters of
 * harness/targets/ (embedded in the binary, see py_embed.h) importable from
 * memory - never from disk - imports asyncio and the harness's modules, and
 * freezes the objects that exist at that point (gc.freeze()) so that
 * per-run collections only look at what the run created. Exactly two kinds
 * of folders are added to sys.path, at its front, for a library under
 * test: PYTHONPATH's (read here, since the isolated configuration ignores
 * the environment; added after asyncio and the harness's modules are
 * imported, so those stay the interpreter's own), and an adapter file's
 * own folder (af_embed_add_import_path, when the runner loads it).
 *
 * Errors are reported upward in `err` (the Python traceback formatted into
 * the message); nothing here prints or exits.
 */
#ifndef ASYNCFUZZ_EMBED_H
#define ASYNCFUZZ_EMBED_H

#include <stddef.h>

#include "scenarios/ir.h"

/* Initialise the interpreter (idempotent: later calls return 0 at once).
 * Returns 0, or -1 with err set. After a failure the process should not
 * try again. */
int af_embed_init(af_error *err);

/* The same, choosing how the hot path runs: accel 1 with the C accelerators
 * of harness/accel/ (the default of af_embed_init), 0 with the pure-Python
 * code the reproducers run (for checking the accelerators against it, and
 * for targets they do not support). The choice is made once per process:
 * asking for the other one after the interpreter is up is an error. */
int af_embed_init_accel(int accel, af_error *err);

/* Whether the running interpreter uses the C accelerators (1) or not (0). */
int af_embed_accel(void);

/* Put a folder at the front of sys.path (nothing when it is there). 0, or
 * -1 with err set. The interpreter must be up. */
int af_embed_add_import_path(const char *dir, af_error *err);

/* Whether af_embed_init() succeeded in this process. */
int af_embed_ready(void);

/* The running interpreter's version as major*100+minor (311 for 3.11), the
 * value scenario expectations ("python": ["3.11"]) are filtered by. Valid
 * before af_embed_init() too (it is the linked library's version). */
int af_embed_pyversion(void);

/* The running interpreter's patch release (2 for 3.11.2): an expectation
 * or a known defect may hold on some patch releases of a minor version
 * only (scenarios/pyversion.h). Valid before af_embed_init() too. */
int af_embed_pypatch(void);

/* The interpreter this binary embeds, as the running library reports it:
 * "CPython 3.11.2 (/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0)"
 * (the path when the dynamic linker knows it). Valid before
 * af_embed_init() too. */
void af_embed_describe(char *buf, size_t cap);

/* Format the Python exception currently set (PyErr_Occurred()) into err:
 * "context: Type: message (at FILE:LINE in FUNC)", the innermost frame of
 * the traceback, truncated to fit af_error.message. Clears the exception.
 * The whole formatted traceback is kept for af_embed_last_traceback().
 * If no exception is set, the message is just the context. */
void af_embed_error_from_python(af_error *err, const char *context);

/* The full traceback text of the last exception af_embed_error_from_python
 * reported ("" if none). Valid until the next call. */
const char *af_embed_last_traceback(void);

/* Format the pending exception into buf (the full traceback as Python's
 * traceback.format_exception writes it). Clears it. Returns buf. */
char *af_embed_format_exception(char *buf, size_t cap);

/* Import a module by name (harness modules come from memory). New
 * reference, or NULL with err set. */
struct _object;
struct _object *af_embed_import(const char *name, af_error *err);

#endif
