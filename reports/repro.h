/* repro.h - a scenario as a standalone Python program (a reproducer).
 *
 * The program needs only python3.11: it pastes harness/py/vloop.py and
 * harness/py/probe.py (from af_py_sources, embedded at build time), then
 * writes one `async def task_<name>()` per task with the real asyncio calls
 * written out (`async with asyncio.timeout(5):`, `await asyncio.gather(...)`)
 * and the same probe calls that harness/py/interp.py makes, so that
 *
 *     python3 prog.py --trace
 *
 * prints exactly the trace (JSON lines, harness/run/TRACE.md) that interp.run
 * records for the same scenario and options (the probe's DEFAULT_OPTIONS;
 * --pure-python-tasks selects asyncio's pure-Python Task). Without flags it
 * prints the interpreter it runs on and a short summary, runs one check per
 * af_repro_assert (each stating the violation in words when it fires) and
 * ends with a verdict line: "verdict: REPRODUCED ..." and exit status 1
 * when a check fired, "verdict: not reproduced ..." and 0 when none did.
 */
#ifndef ASYNCFUZZ_CODEGEN_H
#define ASYNCFUZZ_CODEGEN_H

#include <stddef.h>

#include "scenarios/ir.h"

/* One check of the program: the oracle's query helper (probe.py) on the
 * task, or, when anchor is set, that Python expression (repro_checks.h). */
typedef struct af_repro_assert {
    const char *oracle; /* an oracle name (af_oracle_names) */
    const char *task;   /* the task the verdict names, or NULL */
    const char *words;  /* the violation in words, printed when the check fires */
    char *anchor;       /* NULL, or "observed(events, ...)": the deciding event */
} af_repro_assert;

/* The program text (malloc'd, NUL-terminated; the caller frees it), or NULL
 * when out of memory or when the embedded probe sources are missing. The
 * scenario must be valid (af_scenario_validate). Stock asyncio. */
char *af_codegen_python(const af_scenario *s, const struct af_repro_assert *asserts,
                        size_t nasserts);

/* The same for a target adapter (harness/targets/target_asyncio.py): target is
 * a name (the embedded harness/targets/target_<name>.py), the path of an adapter
 * file (contains '/' or ends in .py), or NULL / "" / "asyncio" for stock
 * asyncio (then the text equals af_codegen_python's). The program pastes
 * the adapter's text (and target_asyncio.py's, which adapters build on)
 * after the probe and takes every primitive from it (`target.wait_for`...),
 * as interp.run does with options[5] = target. NULL also when the target is
 * unknown or its file unreadable. */
#define AF_CODEGEN_HAS_TARGET 1
char *af_codegen_python_target(const af_scenario *s, const char *target,
                               const struct af_repro_assert *asserts, size_t nasserts);

#endif
