/* finding.h - write one finding: everything a person needs to look at it,
 * reproduce it and keep it as a regression scenario.
 *
 * A finding is a folder:
 *
 *   scenario.json   the scenario in canonical form (scenarios/json.h), its
 *                   "expect" set to the oracles the run found, restricted to
 *                   the running interpreter's version ("python": ["3.11"]):
 *                   `asyncfuzz replay DIR/scenario.json` passes as long as
 *                   the behaviour stays the same;
 *   repro.py        the standalone Python program (reports/repro.h) with
 *                   one assert per verdict found: `python3.11 repro.py`
 *                   fails while the behaviour is there;
 *   verdicts.json   {"asyncfuzz_finding": 1, "python": "3.11", "origin":
 *                   ..., "signature": {...}, "verdicts": [...]} with one
 *                   af_verdict_write_json object per verdict;
 *   trace.jsonl     the run's trace (harness/run/TRACE.md), when given;
 *   input.bin       the fuzz bytes the scenario was decoded from, when given.
 *
 * Every file is written to a temporary name, flushed and fsync'd, then
 * renamed into place, and the folder itself is fsync'd, all before
 * af_finding_write returns: a finding survives the harness crashing on the
 * very next input.
 */
#ifndef ASYNCFUZZ_FINDING_H
#define ASYNCFUZZ_FINDING_H

#include <stddef.h>
#include <stdint.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "scenarios/ir.h"

typedef struct af_finding {
    const af_scenario *scenario;
    const af_verdict_list *verdicts;
    const af_trace *trace; /* may be NULL */
    const uint8_t *input;  /* may be NULL */
    size_t input_len;
    const char *origin; /* how it was found, e.g. "gen --seed 1, run 42" */
    int pyversion;      /* major*100+minor of the interpreter */
    int primary;        /* index in verdicts of the verdict the finding is filed under */
    const char *target; /* target adapter the run used; NULL or "": stock asyncio */
    /* Every verdict of the run, when `verdicts` holds only the findings:
     * scenario.json expects all of them, so it replays clean. NULL: verdicts. */
    const af_verdict_list *all_verdicts;
} af_finding;

/* Create `dir` (and missing parents) and write the finding into it.
 * Returns 0, or -1 with err set. */
int af_finding_write(const char *dir, const af_finding *f, af_error *err);

/* The reproducer of s with one assert per verdict in v (v may be NULL: no
 * asserts). malloc'd text, the caller frees it; NULL with err set. */
char *af_finding_repro(const af_scenario *s, const af_verdict_list *v, af_error *err);
/* The same for a run on a target adapter (NULL or "": stock asyncio): the
 * program pastes the adapter in and uses its primitives. */
char *af_finding_repro_target(const af_scenario *s, const af_verdict_list *v, const char *target,
                              af_error *err);

/* The scenario as stored in a finding: s with description (when `origin`
 * is not NULL, "found by asyncfuzz ORIGIN: ORACLES") and expect replaced by
 * the distinct oracles of v, restricted to pyversion. */
void af_finding_scenario(const af_scenario *s, const af_verdict_list *v, int pyversion,
                         const char *origin, af_scenario *out);

/* The durable write and mkdir -p of base/file_io.h, under the names the
 * report writers use. */
#include "base/file_io.h"
#define af_write_file_durable af_write_file
#define af_mkdirs af_make_dirs

#endif
