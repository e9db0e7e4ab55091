/* fuzz_afl_map.h - reserve and find our feature region in AFL++'s map
 * (fuzz_afl_map.c; only for programs linked with afl-compiler-rt.o). */
#ifndef ASYNCFUZZ_FUZZ_AFL_MAP_H
#define ASYNCFUZZ_FUZZ_AFL_MAP_H

#include <stdint.h>

/* Before the fork server starts: place a region of `size` counters after
 * the instrumented edges (64-aligned), raise __afl_final_loc and
 * __afl_map_size over it so the fork server handshake reports the full
 * size. Returns the region's offset. */
uint32_t af_afl_reserve(uint32_t size);
/* The region in the current map, or NULL when the map is smaller. */
uint8_t *af_afl_area(uint32_t base, uint32_t size);
uint32_t af_afl_map_size(void);

#endif
