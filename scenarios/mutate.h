/* mutate.h - structure-aware mutation of scenarios, and the IR editing
 * layer the mutator and the minimiser (minimize.h) share.
 *
 * Editing model. A scenario is a fixed-size, index-linked tree (ir.h). Edits
 * work in place on the links (unlink an op from its body, splice ops into
 * another body, append a copied subtree at the end of the arrays) and then
 * af_ir_compact() rebuilds the arrays in pre-order from what is still
 * reachable from the root: unreachable ops and tasks disappear, list counts,
 * tails and every op's task/parent links are recomputed, and references are
 * remapped. An op whose reference no longer resolves (an await of a deleted
 * task, a spawn into a deleted task group, a reschedule of a deleted
 * timeout, a sync op on a dropped primitive, a `started` moved out of the
 * code of the task a `start` op runs) is removed with its subtree,
 * repeatedly, until every reference resolves. The result is then checked
 * with af_scenario_validate().
 *
 * Mutation. af_mutate() applies one to a few random structure-aware
 * mutations (insert, delete, swap, move, wrap, unwrap, duplicate an op;
 * nudge a duration so that events coincide: copy another op's duration,
 * +-1, 0, None; change an op's kind or a field; retarget a reference;
 * splice a subtree from a donor scenario) and guarantees that the result
 * validates, respects the limits and has no misuse unless allowed. It never
 * allocates and is deterministic for a given rng state.
 *
 * af_mutate_bytes() mutates the byte encoding instead (libFuzzer-style:
 * flip, set, insert, erase, copy bytes); af_decode() makes any result valid.
 */
#ifndef ASYNCFUZZ_MUTATE_H
#define ASYNCFUZZ_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/ir.h"

/* ---- random numbers (splitmix64 seeding, xorshift64* stream) ---- */

typedef struct af_rng {
    uint64_t s;
} af_rng;

void af_rng_seed(af_rng *r, uint64_t seed);
uint64_t af_rng_next(af_rng *r);
/* Uniform in 0..n-1 (n > 0; 0 when n == 0). */
uint32_t af_rng_below(af_rng *r, uint32_t n);

/* ---- IR editing layer ---- */

/* Rebuild s in pre-order from the tree reachable from the root (see the
 * header comment): drops unreachable ops and tasks, recomputes links and
 * counts, remaps references and removes, with their subtrees, the ops whose
 * references dangle. When keep_prims is NULL every primitive is kept; else
 * keep_prims[i] false drops primitive i (the ops using it go too). Returns
 * 0 when the result validates, -1 otherwise (s is then unspecified). */
int af_ir_compact(af_scenario *s, const bool *keep_prims);

/* The body list that holds op `op` (a task's body, an op's body or its
 * finally), or NULL when the links are corrupt. */
af_body *af_ir_body_of(af_scenario *s, int op);

/* Remove op `op` from its body (its subtree becomes unreachable). */
void af_ir_unlink(af_scenario *s, int op);

/* Position of `op` in its body, -1 when not found. */
int af_ir_position(af_scenario *s, int op);

/* Insert op `op` (not linked anywhere) into `body` before position `pos`
 * (pos >= count appends). Only the list links change: task/parent fields
 * are recomputed by af_ir_compact. */
void af_ir_insert(af_scenario *s, af_body *body, int pos, int op);

/* Replace op `op` in its body by the ops of its body (then its finally),
 * or, for an op owning child tasks, by the body of child number
 * `which % count` (a task group: `which` even takes its body). The removed
 * task's references dangle and af_ir_compact drops the ops holding them.
 * Returns 0, or -1 when the op has nothing to hoist or a limit is hit. */
int af_ir_hoist(af_scenario *s, int op, int which);

/* Deep-copy the subtree of op `op` of scenario `src` (which may be s itself)
 * to the end of s's arrays, giving every copied task, task group and timeout
 * a fresh name. References inside the subtree are remapped to the copies;
 * references that leave it are kept when src == s, and otherwise
 * retargeted (tasks: a random existing task or self; groups, timeouts: a
 * random existing one or none) using rng (NULL: the first candidate).
 * Primitives of src are mapped to a primitive of the same kind in s, added
 * when s has none. Returns the new op's index (not linked into any body),
 * or AF_NIL when a limit would be exceeded. */
int af_ir_copy_subtree(af_scenario *s, const af_scenario *src, int op, af_rng *rng);

/* A name of the form "<prefix><n>" not taken in s (buf: AF_MAX_NAME + 1). */
void af_ir_fresh_name(const af_scenario *s, const char *prefix, char *buf);

/* ---- mutation ---- */

typedef struct af_mutate_options {
    bool allow_misuse;        /* may produce misuse ops (oracle self-tests) */
    bool allow_loop_ops;      /* may produce loop-level ops (a target with its own loop) */
    const af_scenario *donor; /* splice source (another corpus entry), may be NULL */
    int max_stack;            /* mutations stacked per call (0: 1..4 at random) */
} af_mutate_options;

/* Mutate s in place. Always leaves a valid scenario (without misuse unless
 * allowed) that differs from the input whenever a mutation applied; when
 * none applied after a bounded number of tries, s is left unchanged and 0 is
 * returned. Otherwise returns the number of mutations applied. If `what` is
 * not NULL it receives the name of the last mutation applied (static). */
int af_mutate(af_scenario *s, const af_mutate_options *opts, af_rng *rng, const char **what);

/* Mutate a byte string in place (len <= cap). Returns the new length. */
size_t af_mutate_bytes(uint8_t *data, size_t len, size_t cap, af_rng *rng);

/* The names of the mutation operators, for statistics: af_mutate's `what`
 * is one of them. NULL-terminated. */
extern const char *const af_mutation_names[];

#endif
