/* hash.h - FNV-1a 64, the one content hash of the project: signatures,
 * input and map hashes, interned file names. Header-only (inline), so the
 * hot paths pay no call. Must not change: signature hashes are stored in
 * findings folders and baselines.
 */
#ifndef ASYNCFUZZ_HASH_H
#define ASYNCFUZZ_HASH_H

#include <stddef.h>
#include <stdint.h>

#define AF_FNV_OFFSET 0xcbf29ce484222325ull
#define AF_FNV_PRIME 0x100000001b3ull

/* One byte folded into h. */
static inline uint64_t af_fnv_step(uint64_t h, uint8_t byte)
{
    return (h ^ byte) * AF_FNV_PRIME;
}

/* FNV-1a 64 of n bytes, from a given start value (AF_FNV_OFFSET for the
 * standard hash; coverage keeps its own seed, AF_COV_SEED). */
static inline uint64_t af_fnv64_from(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    for (size_t i = 0; i < n; i++)
        h = af_fnv_step(h, p[i]);
    return h;
}

/* FNV-1a 64 of n bytes. */
static inline uint64_t af_fnv64(const void *data, size_t n)
{
    return af_fnv64_from(AF_FNV_OFFSET, data, n);
}

/* FNV-1a 64 of n bytes, never 0 (for sets where 0 marks an empty slot). */
static inline uint64_t af_fnv64_nonzero(const void *data, size_t n)
{
    uint64_t h = af_fnv64(data, n);
    return h ? h : 1;
}

#endif
