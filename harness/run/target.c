/* target.c - the contract's words and one target's declarations (target.h). */
#include "harness/run/target.h"

#include <stdio.h>
#include <string.h>

#define AF_OPS(kind) (UINT64_C(1) << AF_OP_##kind)
_Static_assert(AF_OP_KIND_COUNT <= 64, "target.def's op masks hold 64 kinds");

static const struct {
    const char *word;
    uint64_t ops;
} vocab[AF_VOCAB_COUNT] = {
#define AF_VOCAB(id, w, op_mask) [AF_VOCAB_##id] = {w, op_mask},
#include "harness/run/target.def"
};

static const struct {
    const char *name, *normalisation;
} differences[AF_DIFF_COUNT] = {
#define AF_DIFFERENCE(id, n, what) [AF_DIFF_##id] = {n, what},
#include "harness/run/target.def"
};

const char *af_vocab_word(af_vocab v)
{
    return (unsigned)v < AF_VOCAB_COUNT ? vocab[v].word : NULL;
}

int af_vocab_from_word(const char *word)
{
    for (int v = 0; v < AF_VOCAB_COUNT; v++)
        if (strcmp(vocab[v].word, word) == 0)
            return v;
    return -1;
}

const char *af_difference_name(af_difference d)
{
    return (unsigned)d < AF_DIFF_COUNT ? differences[d].name : NULL;
}

const char *af_difference_normalisation(af_difference d)
{
    return (unsigned)d < AF_DIFF_COUNT ? differences[d].normalisation : NULL;
}

int af_difference_from_name(const char *name)
{
    for (int d = 0; d < AF_DIFF_COUNT; d++)
        if (strcmp(differences[d].name, name) == 0)
            return d;
    return -1;
}

int af_vocab_of_op(af_op_kind k)
{
    for (int v = 0; v < AF_VOCAB_COUNT; v++)
        if ((unsigned)k < 64 && (vocab[v].ops >> k) & 1)
            return v;
    return -1;
}

uint32_t af_scenario_words(const af_scenario *s)
{
    uint32_t words = 0;
    for (int i = 0; i < s->nops; i++) {
        int v = af_vocab_of_op(s->ops[i].kind);
        if (v >= 0)
            words |= 1u << v;
    }
    return words;
}

bool af_target_runs_op(const af_target_info *t, af_op_kind k)
{
    int v = af_vocab_of_op(k);
    return t && !t->stock && v >= 0 && (t->provides >> v) & 1;
}

bool af_target_has_difference(const af_target_info *t, af_difference d)
{
    return t && (unsigned)d < AF_DIFF_COUNT && (t->differences >> d) & 1;
}

bool af_target_supports(const af_target_info *t, const af_scenario *s, char *why, size_t cap)
{
    uint32_t bad = af_scenario_words(s) & t->unsupported;
    if (!bad)
        return true;
    for (int v = 0; v < AF_VOCAB_COUNT; v++)
        if ((bad >> v) & 1) {
            snprintf(why, cap, "uses %s, which %s does not support", vocab[v].word, t->name);
            break;
        }
    return false;
}

bool af_target_exercised(const af_target_info *t, const af_scenario *s)
{
    return t->stock || t->own_loop || (af_scenario_words(s) & t->provides) != 0;
}
