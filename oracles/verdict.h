/* verdict.h - what an oracle says about a trace, and the judge that runs
 * every oracle.
 *
 * A verdict names the oracle, the task (probe id and name), the operation
 * path in the IR ("main/3:task_group/t2/0:sleep"), the evidence (one human
 * sentence with the facts) and a signature: a stable 64-bit hash of a text
 * made of the oracle, the innermost asyncio primitive on the op path and
 * the code of the rule that fired, plus the cause when it is not the target
 * (verdict.c). Findings are deduplicated by signature; the hash is FNV-1a 64
 * of the signature text, identical across runs, processes and machines.
 */
#ifndef ASYNCFUZZ_VERDICT_H
#define ASYNCFUZZ_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "base/oracles.h"
#include "harness/run/target.h"
#include "harness/run/trace.h"
#include "scenarios/ir.h"

/* The oracles (af_oracle), the rules that fire them (af_rule: the reason
 * in the signature text), the causes (af_cause: target, misuse, scenario)
 * and the rules that decide them (af_cause_rule) are base/oracles.def's,
 * with their definitions (docs/ORACLES.md). */

#define AF_VERDICT_NAME_MAX 64
#define AF_VERDICT_WHY_MAX 192
#define AF_VERDICT_PATH_MAX 256
#define AF_VERDICT_EVIDENCE_MAX 512
#define AF_VERDICT_SIGTEXT_MAX 512
#define AF_MAX_VERDICTS 64

typedef struct af_verdict {
    af_oracle oracle;
    af_rule rule;                           /* the rule that fired (its code is in the signature) */
    int task;                               /* probe task id, -1 when the fact belongs to no task */
    char task_name[AF_VERDICT_NAME_MAX];    /* the task's name, "" when none */
    int ir_task;                            /* IR task index, -1 for asyncio's own tasks / none */
    int op;                                 /* IR op index the fact is located at, -1 when none */
    int event;                              /* index in the trace of the deciding event, -1 none */
    int64_t vtime;                          /* virtual time of that event */
    char path[AF_VERDICT_PATH_MAX];         /* af_op_path of op */
    char evidence[AF_VERDICT_EVIDENCE_MAX]; /* one sentence */
    char signature_text[AF_VERDICT_SIGTEXT_MAX];
    uint64_t signature; /* FNV-1a 64 of signature_text */
    /* The signature without the target's name: what the same fact on
     * another target (the reference) is filed under. */
    uint64_t base_signature;
    char target[AF_MAX_TARGET_NAME + 1]; /* the target's NAME, "" for stock asyncio */
    af_cause cause;                      /* whose fault (default target) */
    char cause_why[AF_VERDICT_WHY_MAX];  /* one short sentence: why that cause */
    /* The cause rule that decided cause (for an inherited cause, the rule
     * that decided the one passed on); AF_CAUSE_RULE_COUNT when none did.
     * Not written to JSON: what the cause audit (test_oracles.c) checks. */
    af_cause_rule cause_rule;
} af_verdict;

/* Whether a verdict is a finding: target verdicts always, misuse verdicts
 * only when misuse_allowed (the scenario was drawn or written with misuse
 * operations on purpose), scenario-caused verdicts never. */
int af_verdict_is_finding(const af_verdict *v, int misuse_allowed);

/* A bounded list: verdicts past AF_MAX_VERDICTS are counted in `dropped`.
 * A verdict whose oracle, task, op and signature are already in the list is
 * not added twice (the same fact seen by two events). */
typedef struct af_verdict_list {
    af_verdict items[AF_MAX_VERDICTS];
    int count;
    int dropped;
} af_verdict_list;

/* Keep only the verdicts af_verdict_is_finding accepts (in order); returns
 * how many were dropped. */
int af_verdict_list_keep_findings(af_verdict_list *list, int misuse_allowed);

/* Whether a verdict of the list has this signature. */
int af_verdict_list_has_signature(const af_verdict_list *list, uint64_t signature);
void af_verdict_list_init(af_verdict_list *list);
/* Whether some verdict of that oracle is in the list. */
int af_verdict_list_has(const af_verdict_list *list, af_oracle o);

/* The path of op in the IR: the root task's name, then for each op from the
 * top down "<position in its body>:<kind>", a child task's name where the
 * path enters a child task, and "finally" where it enters a try's finally
 * clause: "main/3:task_group/t2/0:sleep", "main/0:try/finally/1:sleep".
 * op == -1 gives "". snprintf semantics (returns the full length). */
size_t af_op_path(const af_scenario *s, int op, char *buf, size_t cap);
/* The shape of that path: the kinds only, "@" for a child task, "finally"
 * kept: "task_group/@/sleep". */
size_t af_op_path_shape(const af_scenario *s, int op, char *buf, size_t cap);

/* FNV-1a 64. */
uint64_t af_hash64(const char *s, size_t len);

/* One verdict as a JSON object on one line:
 * {"oracle":..,"task":{"id":..,"name":..},"path":..,"op":..,"vtime":..,
 *  "evidence":..,"cause":"target|misuse|scenario","cause_why":..,
 *  "signature":{"hash":"<16 hex>","text":..}}
 * snprintf semantics. */
size_t af_verdict_write_json(const af_verdict *v, char *buf, size_t cap);

/* Run every oracle (all but differential) on the trace of one run of s and
 * append their verdicts to out (which the caller initialises). Returns the
 * number of verdicts appended. s may be NULL (paths and signatures are then
 * built without the IR). */
int af_judge(const af_scenario *s, const af_trace *tr, af_verdict_list *out);
/* The same for a run on `target` (NULL: stock asyncio): a verdict the
 * target's own primitive caused is placed at that primitive, and a
 * signature of a target that is not stock asyncio ends in "|@<NAME>" (so
 * that a library's defect is filed apart from a CPython defect of the same
 * shape; base_signature is the signature without it). */
int af_judge_target(const af_scenario *s, const af_trace *tr, const af_target_info *target,
                    af_verdict_list *out);

/* The differential oracle (oracles/differential.c): the same scenario s run
 * on target (trace tr, its verdicts, judged) and on the reference (ref_tr,
 * ref_verdicts); verdicts appended to out. Returns how many. */
int af_judge_differential(const af_scenario *s, const af_target_info *target, const af_trace *tr,
                          const af_verdict_list *verdicts, const af_trace *ref_tr,
                          const af_verdict_list *ref_verdicts, af_verdict_list *out);

/* The triage of a target's verdicts against the reference's on the same
 * scenario: drop from v the verdicts whose base signature the
 * reference's verdicts also have (a fact stock asyncio shows too is not
 * the target's), and, when the reference has a target-caused verdict of
 * its own, those located at a primitive the target does not provide
 * (stock asyncio's defect showing in another shape: 3.11's TaskGroup
 * leaving a cancel counted, gh-116720). Differential verdicts stay.
 * Returns how many were dropped. */
int af_verdicts_drop_shared(const af_target_info *target, af_verdict_list *v,
                            const af_verdict_list *ref);

/* The two steps of the in-process pipeline in one call: run s on r
 * (af_runner_run: tr is reset and filled) and, when verdicts is not NULL,
 * reset it and judge the trace into it. Returns af_runner_run's result;
 * verdicts stay empty when the run failed. */
struct af_runner;
int af_judge_run(struct af_runner *r, const af_scenario *s, af_trace *tr, af_verdict_list *verdicts,
                 af_error *err);

/* Differential: s run on r and judged (tr, verdicts), then on the reference
 * runner ref (ref_tr, ref_verdicts: judged as stock asyncio), and the
 * differential oracle's verdicts added to verdicts. Returns -1 with err set
 * when either run failed (which one: af_runner_adapter_failed). */
int af_judge_run_differential(struct af_runner *r, struct af_runner *ref, const af_scenario *s,
                              af_trace *tr, af_verdict_list *verdicts, af_trace *ref_tr,
                              af_verdict_list *ref_verdicts, af_error *err);

/* The type of the KeyboardInterrupt / SystemExit that escaped the loop and
 * ended the run (its `end` event) when scenario s has no op that raises
 * one of that kind (raise, try's raise-other, except*'s raise): then the
 * target raised it - a target that exits - not the scenario. NULL when
 * nothing escaped, or the scenario may have raised it. */
const char *af_target_escape(const af_scenario *s, const af_trace *tr);

#endif
