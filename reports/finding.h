/* finding.h - the files of one finding folder: everything a person needs
 * to look at a finding, reproduce it and keep it as a regression scenario.
 * Writes the files into a folder it is given; where that folder lives, how
 * it is made to appear at once and what else goes beside it (meta.json,
 * count) is the findings store's job (reports/findings.h). Must not decide
 * where findings go or whether one is new.
 *
 * A finding of a run with verdicts:
 *
 *   scenario.json   the scenario in canonical form (scenarios/json.h), its
 *                   "expect" set to the oracle of every verdict the run
 *                   reported (findings and the verdicts that accompanied
 *                   them, whatever their cause: all_verdicts), restricted
 *                   to the running interpreter's version ("python":
 *                   ["3.11"]) and, for a run on a target adapter, to it
 *                   ("target": NAME): `asyncfuzz replay DIR/scenario.json` passes
 *                   on the same build, by construction, as long as the
 *                   behaviour stays the same;
 *   repro.py        the standalone Python program (reports/repro.h) with
 *                   one assert per finding verdict: `python3.11 repro.py`
 *                   fails while the behaviour is there;
 *   verdict.json    the verdict the finding is filed under (one object);
 *   verdicts.json   {"asyncfuzz_finding": 1, "python": "3.11", "origin":
 *                   ..., "oracle": ..., "signature": {...}, "verdicts":
 *                   [...]} with one af_verdict_write_json object per
 *                   finding verdict;
 *   trace.jsonl     the run's trace (harness/run/TRACE.md), when given;
 *   input.bin       the fuzz bytes the scenario was decoded from, when given.
 *
 * A finding without verdicts (the process running the input died: a crash,
 * or a hang no Python-level watchdog could end) has the same files but
 * trace.jsonl: scenario.json without expect, repro.py without asserts, and
 * verdict.json / verdicts.json made of its oracle, signature and evidence.
 *
 * The files are written, not fsync'd: af_finding_write fills a folder
 * being built, which the store fsyncs as a whole before renaming it into
 * place (reports/findings.h).
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
    /* The finding verdicts of the run (NULL: a finding without verdicts,
     * described by the fields below) and the one filed: index `primary`. */
    const af_verdict_list *verdicts;
    int primary;
    /* Every verdict of the run, when `verdicts` holds only the findings:
     * scenario.json expects all of them, so it replays green. NULL:
     * verdicts. */
    const af_verdict_list *all_verdicts;
    const af_trace *trace; /* may be NULL */
    const uint8_t *input;  /* may be NULL */
    size_t input_len;
    const char *origin; /* how it was found, e.g. "gen --seed 1, run 42" */
    int pyversion;      /* major*100+minor of the interpreter */
    const char *target; /* target adapter the run used; NULL or "": stock asyncio */
    /* Without verdicts: who filed it ("builtin", "libfuzzer", ...), the
     * oracle name ("crash", "hang"), the signature (hash and text) and one
     * sentence of evidence. */
    const char *engine;
    const char *oracle;
    uint64_t signature;
    const char *signature_text;
    const char *evidence;
} af_finding;

/* Create `dir` (and missing parents) and write the finding's files into it.
 * Returns 0, or -1 with err set. */
int af_finding_write(const char *dir, const af_finding *f, af_error *err);

/* The reproducer of s with one check per verdict in v (v may be NULL: no
 * checks), for a run on a target adapter (NULL or "": stock asyncio: the
 * program pastes the adapter in and uses its primitives). tr, the run's
 * trace (or NULL), lets each check be verified against the run
 * (reports/repro_checks.h). malloc'd text, the caller frees it; NULL with
 * err set. */
char *af_finding_repro(const af_scenario *s, const af_verdict_list *v, const af_trace *tr,
                       const char *target, af_error *err);

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
