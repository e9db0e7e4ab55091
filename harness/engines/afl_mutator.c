/* afl_mutator.c - an AFL++ custom mutator over the scenario IR
 * (build/asyncfuzz-afl-mutator.so).
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build/asyncfuzz-afl-mutator.so \
 *       afl-fuzz -i corpus/asyncio -o out -x corpus/asyncio.dict -- build/asyncfuzz-afl
 *
 * (`asyncfuzz fuzz --engine afl` sets it when the library sits next to the
 * binary.) Each call decodes the input (af_decode: any byte string is a
 * scenario), applies the structure-aware mutations of scenarios/mutate.h
 * (af_mutate; one time in four it splices from AFL's add_buf, decoded as
 * the donor) and re-encodes the result (af_encode). AFL++'s own havoc stage
 * still runs after this one (no AFL_CUSTOM_MUTATOR_ONLY). Deterministic for
 * a given seed from afl-fuzz (afl-fuzz -s N fixes it). Never allocates after
 * afl_custom_init.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/bytes.h"
#include "scenarios/ir.h"
#include "scenarios/mutate.h"

typedef struct af_afl_mutator {
    af_rng rng;
    af_scenario s;
    af_scenario donor;
    uint8_t out[AF_ENCODE_MAX_BYTES];
} af_afl_mutator;

/* The AFL++ custom mutator API (docs/custom_mutators.md); afl_state_t is
 * opaque here. The library is built with hidden visibility: only these
 * are exported. */
#define AF_AFL_API __attribute__((visibility("default")))
AF_AFL_API void *afl_custom_init(void *afl, unsigned int seed);
AF_AFL_API size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                                  uint8_t *add_buf, size_t add_buf_size, size_t max_size);
AF_AFL_API void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    af_afl_mutator *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    af_rng_seed(&m->rng, 0x61666c6d75746174ULL ^ (uint64_t)seed);
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    af_afl_mutator *m = data;
    af_decode(buf, buf_size, false, &m->s);
    af_mutate_options mo = {.allow_misuse = false};
    if (add_buf && add_buf_size > 0 && af_rng_below(&m->rng, 4) == 0) {
        af_decode(add_buf, add_buf_size, false, &m->donor);
        mo.donor = &m->donor;
    }
    af_mutate(&m->s, &mo, &m->rng, NULL);
    size_t len = 0;
    if (af_encode(&m->s, false, m->out, sizeof m->out, &len, NULL) != 0 || len > max_size) {
        /* cannot happen for a valid scenario within the limits; hand back
         * the input unchanged (truncated to what AFL accepts) */
        len = buf_size < max_size ? buf_size : max_size;
        if (len > sizeof m->out)
            len = sizeof m->out;
        if (len)
            memcpy(m->out, buf, len);
    }
    *out_buf = m->out;
    return len;
}

void afl_custom_deinit(void *data)
{
    free(data);
}
