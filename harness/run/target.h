/* target.h - what the harness knows of the implementation under test: the
 * contract's words (target.def: what an adapter may provide, the documented
 * differences) and what one adapter declared, as the runner reads it at
 * load (harness/py/contract.py checks the declarations themselves). Data
 * and lookups only: loading is the runner's, judging the oracles'.
 */
#ifndef ASYNCFUZZ_TARGET_H
#define ASYNCFUZZ_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "scenarios/ir.h"

typedef enum af_vocab {
#define AF_VOCAB(id, word, ops) AF_VOCAB_##id,
#include "harness/run/target.def"
    AF_VOCAB_COUNT
} af_vocab;

typedef enum af_difference {
#define AF_DIFFERENCE(id, name, normalisation) AF_DIFF_##id,
#include "harness/run/target.def"
    AF_DIFF_COUNT
} af_difference;

/* "sleep", "task_group"...; NULL out of range. af_vocab_from_word: -1. */
const char *af_vocab_word(af_vocab v);
int af_vocab_from_word(const char *word);
/* "level-cancellation"...; its normalisation (one sentence). */
const char *af_difference_name(af_difference d);
const char *af_difference_normalisation(af_difference d);
int af_difference_from_name(const char *name);

/* The word an op kind's code runs when provided (a spawn: none, its group
 * is the task_group's), -1 for the kinds that are the scenario's own code
 * (return, raise, try, await, cancel...). */
int af_vocab_of_op(af_op_kind k);

/* Bits (1 << af_vocab) of the words a scenario's ops use. */
uint32_t af_scenario_words(const af_scenario *s);

/* One target, as loaded: stock asyncio when no adapter was named. */
typedef struct af_target_info {
    char name[AF_MAX_TARGET_NAME + 1]; /* NAME: "asyncio" for stock asyncio */
    char version[96];                  /* version(): "async-timeout 4.0.2" */
    uint32_t provides;                 /* bits of af_vocab */
    uint32_t unsupported;              /* bits of af_vocab */
    uint32_t differences;              /* bits of af_difference */
    bool stock;                        /* stock asyncio (C or pure-Python tasks) */
    bool own_loop; /* LOOP is not "virtual": every scenario runs on (exercises) its loop */
    /* PROCESS_WIDE: its setup patches asyncio for the whole process, so
     * another target (a reference) runs in a process of its own */
    bool process_wide;
    /* REENTRANT: its loop runs nested runs (which stock asyncio refuses) */
    bool reentrant;
    /* PURE_PYTHON_TASKS: it runs asyncio's pure-Python Task and Future */
    bool python_tasks;
    /* LOOP "realtime": its ticks are real milliseconds, its runs not
     * deterministic (docs/LOOPS.md) */
    bool realtime;
} af_target_info;

/* Whether op kind k runs the target's own primitive (provided, and the
 * target is not stock asyncio): where a verdict is placed when the
 * library is at fault. */
bool af_target_runs_op(const af_target_info *t, af_op_kind k);
bool af_target_has_difference(const af_target_info *t, af_difference d);

/* Whether the scenario can run on the target: none of its words is
 * UNSUPPORTED. When not, `why` gets "uses queue, which anyio does not
 * support". */
bool af_target_supports(const af_target_info *t, const af_scenario *s, char *why, size_t cap);
/* Whether the scenario exercises the target at all: one of its words is
 * provided, or the target brings its own loop (conform's applicable
 * scenarios). */
bool af_target_exercised(const af_target_info *t, const af_scenario *s);

#endif
