/* hashset.c - the set of nonzero 64-bit hashes (hashset.h). Must not
 * allocate per entry: one array, doubled when it is half full. */
#include "base/hashset.h"

#include <stdlib.h>
#include <string.h>

static void place(uint64_t *slots, size_t cap, uint64_t hash)
{
    for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i]) {
            slots[i] = hash;
            return;
        }
}

static int grow(af_hashset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            place(slots, cap, s->slots[i]);
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int af_hashset_has(const af_hashset *s, uint64_t hash)
{
    if (!s->count)
        return 0;
    for (size_t i = hash & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == hash)
            return 1;
        if (!s->slots[i])
            return 0;
    }
}

int af_hashset_add(af_hashset *s, uint64_t hash)
{
    if (af_hashset_has(s, hash))
        return 0;
    if ((s->count + 1) * 2 > s->cap && grow(s) < 0)
        return -1;
    place(s->slots, s->cap, hash);
    s->count++;
    return 1;
}

void af_hashset_free(af_hashset *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}
