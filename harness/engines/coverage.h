/* coverage.h - coverage that means asyncio: a fixed feature map of 8-bit
 * counters, filled after each run from two sources.
 *
 *   [0, AF_COV_SEMANTIC_SIZE)            semantic features computed in C
 *                                        from the trace (af_coverage_from_trace)
 *   [AF_COV_SEMANTIC_SIZE, AF_COV_MAP_SIZE)  Python line edges of the target's
 *                                        own modules (harness/engines/pycov.h)
 *
 * Semantic features (each hashed to one counter of the semantic region,
 * which is set to 1 when the feature occurs: no hit counts, a fact that
 * repeats is not a new behaviour):
 *   - events in context: every trace event with its kind and the facts that
 *     matter for it (the op kind of the enclosing structured operation, the
 *     outcome, the exception class, whether cancelling() is > 0 ...);
 *   - task state transitions: task created by <op kind> -> done with
 *     <outcome> x <exception class>, and "cancelled before its first step";
 *   - which primitive saw which cancellation and how it ended: op_exit of
 *     <op kind> inside <enclosing op kind> x exit x exception class x sign of
 *     the cancelling() delta between op_enter and op_exit;
 *   - coincidences: pairs of event kinds in the same loop iteration (each
 *     event with up to AF_COV_PAIR_WINDOW earlier events of that iteration),
 *     and the specific pairs "cancel + task_done of its target", "op_exit of
 *     a timeout/wait_for + a cancel of the same task";
 *   - oracle near-misses: cancel() returning False on a done task (and with
 *     which outcome), a task_done with a result while cancelling() > 0, a
 *     structured block exiting normally with cancelling() changed, a cancel
 *     delivered in the same iteration its target finished, a timeout whose
 *     expiry and body completion coincide, uncancel() to 0 after a request
 *     that was never delivered;
 *   - the scenario's shape (parent op kind -> child op kind pairs);
 *   - budgets (hang / deadlock / watchdog) and verdict oracles.
 *
 * Everything here is pure C over the trace: no Python, no allocation.
 */
#ifndef ASYNCFUZZ_COVERAGE_H
#define ASYNCFUZZ_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "scenarios/ir.h"

#define AF_COV_MAP_SIZE (32 * 1024)
#define AF_COV_SEMANTIC_SIZE (24 * 1024)
#define AF_COV_PYTHON_SIZE (AF_COV_MAP_SIZE - AF_COV_SEMANTIC_SIZE)
#define AF_COV_PAIR_WINDOW 8

/* Coverage kinds, a bit set. */
enum {
    AF_COV_SEMANTIC = 1u << 0,
    AF_COV_PYTHON = 1u << 1,
};
#define AF_COV_DEFAULT (AF_COV_SEMANTIC | AF_COV_PYTHON)

/* Parse "semantic,python" | "semantic" | "python" | "none" | "" (default)
 * into *kinds. Returns 0, or -1 on an unknown word. */
int af_coverage_parse(const char *spec, unsigned *kinds);
/* "semantic,python", "semantic", "python" or "none". */
const char *af_coverage_name(unsigned kinds);

/* Add the semantic features of one run of s (s may be NULL) to map[0..size).
 * size > 0; every feature lands in [0, size). The map is not cleared. */
void af_coverage_from_trace(const af_scenario *s, const af_trace *tr, uint8_t *map, size_t size);

/* Add one feature per verdict (oracle x path shape hash) to map[0..size). */
void af_coverage_from_verdicts(const af_verdict_list *v, uint8_t *map, size_t size);

/* Number of non-zero counters in map[0..size). */
size_t af_coverage_count(const uint8_t *map, size_t size);

/* The start value of coverage's FNV-1a hashes (message classes, code
 * locations, the map hash). Not the standard offset basis: its digits were
 * cut short when first written, and feature positions depend on it, so it
 * stays as it is for corpora and campaigns to keep their meaning. */
#define AF_COV_SEED 1469598103934665603ull

/* Hash helpers (also used by pycov.c): a 64-bit mix of a and b. */
static inline uint64_t af_cov_mix(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

#endif
