/* repro_checks.h - the checks a reproducer ends with (one per verdict), chosen
 * so that the program fails under plain python exactly when the in-process
 * run had the verdict: the probe's readable helper when it sees the
 * violation in the run's own events, else the verdict's deciding event as
 * recorded (repro_checks.c says how). Must not judge.
 */
#ifndef ASYNCFUZZ_REPRO_CHECKS_H
#define ASYNCFUZZ_REPRO_CHECKS_H

#include <stddef.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/repro.h"
#include "scenarios/ir.h"

/* The query helper of probe.py that restates an oracle (called as
 * helper(events, task_name_or_None)); NULL when none does. */
const char *af_repro_helper_of(af_oracle o);

/* Fill out[0..n) with one check per verdict of v (at most cap); returns n.
 * Pointers into v and s stay borrowed; anchors are malloc'd
 * (af_repro_checks_free). tr: the run's trace, or NULL (then every check
 * is the helper, unverified). Asks the embedded interpreter when it is up. */
size_t af_repro_checks_build(const af_scenario *s, const af_verdict_list *v, const af_trace *tr,
                             af_repro_assert *out, size_t cap);
void af_repro_checks_free(af_repro_assert *checks, size_t n);

#endif
