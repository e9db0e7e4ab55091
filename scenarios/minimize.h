/* minimize.h - shrink a scenario at the IR level while a property holds.
 *
 * The property is a predicate on candidates; for findings it is "running
 * the candidate gives a verdict with the same signature". The minimiser is
 * Hypothesis-style: a set of shrink passes, cheapest and biggest steps
 * first, repeated until a whole round changes nothing (a fixpoint) or the
 * budget of predicate calls is spent:
 *
 *   1. delete operations (whole subtrees, biggest first; ops that refer to
 *      what was deleted go too: see af_ir_compact);
 *   2. delete child tasks of gather / task_group / wait / as_completed;
 *   3. hoist: replace an op by its body (and finally), or by the body of
 *      one of its child tasks;
 *   4. merge two sleeps in a row into one (the sum);
 *      shorten durations: None where allowed, 0, then a binary search
 *      toward 0; durations that are equal are also lowered together (they
 *      make events coincide, which is often the point);
 *   5. simplify fields, each toward its codec's default (scenarios/ops.h),
 *      in draw order: enums to their first value, else their second
 *      (on_cancel -> none / reraise, except* -> swallow...), exceptions
 *      (kind -> app, id -> 0), values (-> 0), counts (-> 1), no message,
 *      no group, flags (-> false), drop a finally;
 *   6. drop primitives no op uses; replace an op's kind by a simpler one
 *      of the same shape (one task: spawn; tasks: gather; a body:
 *      wait_for without timeout, try without handlers);
 *   7. swap adjacent ops when that encodes smaller (a canonical order);
 *      lift an op out of its enclosing op or task;
 *   8. give every task, group, timeout and primitive its default name.
 *
 * Every candidate is rebuilt with af_ir_compact and must validate; it must
 * not add misuse to an input without misuse; and it must be strictly
 * smaller than the current best in a well-founded order (the number of
 * ops, tasks and primitives; then the sum of op depths; then the op kinds
 * in pre-order (sleep is the simplest); then shortlex on
 * its byte encoding with names normalised), so the process always
 * terminates. Candidates already
 * tried are not run again.
 */
#ifndef ASYNCFUZZ_MINIMIZE_H
#define ASYNCFUZZ_MINIMIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "scenarios/ir.h"

/* Whether the candidate still has the property. */
typedef bool (*af_minimize_pred)(const af_scenario *candidate, void *ctx);

#define AF_MINIMIZE_DEFAULT_CALLS 5000

typedef struct af_minimize_stats {
    int max_calls;         /* in: bound on predicate calls (0: the default) */
    int calls;             /* out: predicate calls made (the input's included) */
    int accepted;          /* out: candidates that kept the property */
    int rounds;            /* out: rounds over every pass */
    bool budget_exhausted; /* out: stopped by max_calls, not at a fixpoint */
    int ops_before, ops_after;
    int tasks_before, tasks_after;
    size_t bytes_before, bytes_after; /* af_encode length (misuse allowed) */
} af_minimize_stats;

/* Shrink `in` into `out` (may not alias `in`). `stats` may be NULL (the
 * default budget). Description and expected verdicts are copied from the
 * input. Returns 0, or -1 when `in` does not validate or pred(in) is false
 * (then out is a copy of in). */
int af_minimize(const af_scenario *in, af_minimize_pred pred, void *ctx, af_scenario *out,
                af_minimize_stats *stats);

/* Rename every task, task group, timeout, resource and primitive to the
 * default name the bytes decoder would give it (main, t1, tg0, to0, r0,
 * event0...). s must be compact (af_ir_compact); references are by index
 * and are unaffected. */
void af_minimize_default_names(af_scenario *s);

/* Encoded size of s (misuse allowed), 0 when it does not encode. */
size_t af_scenario_encoded_size(const af_scenario *s);

#endif
