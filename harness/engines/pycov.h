/* pycov.h - Python line coverage of the target's own modules, collected by
 * a trace function written in C (never a Python callback).
 *
 * af_pycov_begin() installs a Py_tracefunc with PyEval_SetTrace on the
 * calling thread; af_pycov_end() removes it. Install it around one run
 * only: tracing makes the interpreter dispatch every instruction through
 * its tracing path, so it must not be on while the harness does anything
 * else.
 *
 * Which code is traced: code objects whose co_filename starts with one of
 * the registered prefixes (by default the directory of asyncio's package,
 * e.g. /usr/lib/python3.11/asyncio/, plus the prefixes af_pycov_add_prefix
 * or AF_PYCOV_PATHS adds: the library under test). The decision is taken
 * once per code object and cached in an open-addressing table keyed by the
 * code object's address; the table holds a strong reference to every code
 * object it caches, so an address can never be reused by another code
 * object while its entry exists. When the table is full, decisions are
 * taken without caching.
 *
 * What is recorded: edges (previous location, location), AFL style:
 * location = hash(code object's filename hash, co_firstlineno, line);
 * counter[(location ^ previous) % size]++ (saturating); previous =
 * location >> 1. A call (or a coroutine resume) into traced code starts
 * from the code object's own entry location, so edges are per function
 * activation, and a resume records where the coroutine continued.
 *
 * With the C Task/Future (the default), a task's step, wakeup and cancel
 * logic runs in C and is invisible here; the runner option
 * pure_python_tasks (AF_PURE_PYTHON=1) uses asyncio's pure-Python
 * Task/Future and shows those edges too.
 *
 * Needs the GIL (the embedded interpreter initialised).
 */
#ifndef ASYNCFUZZ_PYCOV_H
#define ASYNCFUZZ_PYCOV_H

#include <stddef.h>
#include <stdint.h>

#include "scenarios/ir.h"

#define AF_PYCOV_MAX_PREFIXES 16
#define AF_PYCOV_TABLE_SIZE 8192 /* power of two */

/* Register the default prefix (asyncio's package directory) and those in
 * extra_prefixes (':'-separated, the option AF_PYCOV_PATHS; NULL: none).
 * Idempotent. Returns 0, or -1 with err set. */
int af_pycov_init(const char *extra_prefixes, af_error *err);

/* Add a filename prefix to trace. Returns 0, or -1 when the prefix table
 * is full or the prefix too long. */
int af_pycov_add_prefix(const char *prefix);

/* The registered prefixes, for messages. */
int af_pycov_prefix_count(void);
const char *af_pycov_prefix(int i);

/* Start / stop recording into map[0..size) (size > 0). */
void af_pycov_begin(uint8_t *map, size_t size);
void af_pycov_end(void);

/* Statistics: code objects cached as traced / not traced; line events
 * recorded since the process started. */
void af_pycov_stats(size_t *traced, size_t *skipped, uint64_t *lines);

#endif
