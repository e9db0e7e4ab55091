/* hashset.h - a set of nonzero 64-bit hashes (open addressing, 0 = empty).
 * Used for content hashes: the quarantine (flight.c) and the corpus entries
 * and folder files a built-in worker has seen (engine.c). Must not hash:
 * callers bring the hash, never 0. */
#ifndef ASYNCFUZZ_HASHSET_H
#define ASYNCFUZZ_HASHSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct af_hashset {
    uint64_t *slots; /* cap slots, a power of two; 0 marks an empty one */
    size_t cap, count;
} af_hashset;

/* 1 when hash is in the set. */
int af_hashset_has(const af_hashset *s, uint64_t hash);
/* 1 added, 0 already there, -1 out of memory (the set is unchanged). */
int af_hashset_add(af_hashset *s, uint64_t hash);
void af_hashset_free(af_hashset *s);

#endif
