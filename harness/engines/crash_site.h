/* crash_site.h - where the libFuzzer and AFL++ targets abort on a finding.
 *
 * One function per signature family - an oracle's rule (base/oracles.def:
 * asyncfuzz_finding_SWALLOWED_BLOCK, asyncfuzz_finding_LEAKED_PENDING ...),
 * generated from the table, never inlined, each calling abort() itself -
 * so the top frames of a crash's stack differ by family. ClusterFuzz and
 * OSS-Fuzz group crashes by those frames: they then deduplicate as
 * asyncfuzz does, instead of merging every finding into the one call site
 * of LLVMFuzzerTestOneInput. A harness failure aborts in
 * asyncfuzz_harness_error, a rule this table does not know in
 * asyncfuzz_finding_unknown_rule.
 *
 * Must not print or file anything: the finding is on disk and announced
 * before the engine calls here.
 */
#ifndef ASYNCFUZZ_CRASH_SITE_H
#define ASYNCFUZZ_CRASH_SITE_H

#include "oracles/verdict.h"

/* The rule of a verdict: its oracle and the code in its signature text
 * ("oracle|primitive|code[|cause]"); -1 when the table has none. */
int af_verdict_rule(const af_verdict *v);

/* Abort in the function of v's family (v NULL: a harness failure). */
__attribute__((noreturn)) void af_crash_site(const af_verdict *v);

#endif
