/* fuzz_afl_map.c - access to AFL++'s coverage map for fuzz_afl.c.
 *
 * Kept out of fuzz_afl.c on purpose: afl-clang-fast's instrumentation pass
 * creates its own global named __afl_area_ptr in every module it
 * instruments, so a declaration of it in fuzz_afl.c gets renamed and no
 * longer links. This file is compiled by the plain compiler (it is part of
 * af_core) and is only linked into a program that calls it, i.e. into
 * asyncfuzz-afl, where afl-compiler-rt.o defines these symbols.
 */
#include <stdint.h>

#include "harness/fuzz_afl_map.h"

extern uint8_t *__afl_area_ptr;
extern uint32_t __afl_final_loc;
extern uint32_t __afl_map_size;

uint32_t af_afl_reserve(uint32_t size)
{
    uint32_t base = (__afl_final_loc + 1 + 63) & ~63u;
    __afl_final_loc = base + size - 1;
    __afl_map_size = base + size;
    return base;
}

uint8_t *af_afl_area(uint32_t base, uint32_t size)
{
    if (!__afl_area_ptr || __afl_map_size < base + size)
        return 0;
    return __afl_area_ptr + base;
}

uint32_t af_afl_map_size(void) { return __afl_map_size; }
