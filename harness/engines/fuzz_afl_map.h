/* fuzz_afl_map.h - our feature region in AFL++'s map (fuzz_afl_map.c; only
 * for programs linked with afl-compiler-rt.o, i.e. asyncfuzz-afl).
 *
 * A constructor reserves AF_COV_MAP_SIZE counters right after the
 * instrumented edges (64-aligned) and raises __afl_final_loc and
 * __afl_map_size over them before any fork server starts, so the handshake
 * tells afl-fuzz / afl-showmap / afl-tmin / afl-cmin the full map size and
 * no AFL_MAP_SIZE has to be set. */
#ifndef ASYNCFUZZ_FUZZ_AFL_MAP_H
#define ASYNCFUZZ_FUZZ_AFL_MAP_H

#include <stdint.h>

/* The region's offset in the map (and its size in *size). */
uint32_t af_afl_region(uint32_t *size);
/* The region in the current map, or NULL when there is no map that large
 * (not running under an AFL++ tool). */
uint8_t *af_afl_area(void);
uint32_t af_afl_map_size(void);

#endif
