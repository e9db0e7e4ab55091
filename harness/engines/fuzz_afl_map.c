/* fuzz_afl_map.c - our feature region in AFL++'s coverage map, for
 * fuzz_afl.c (see fuzz_afl_map.h).
 *
 * Kept out of fuzz_afl.c on purpose: afl-clang-fast's instrumentation pass
 * creates its own global named __afl_area_ptr in every module it
 * instruments, so a declaration of it in fuzz_afl.c gets renamed and no
 * longer links. This file is compiled by the plain compiler (it is part of
 * af_engines) and only linked into a program that calls it, i.e. into
 * asyncfuzz-afl, where afl-compiler-rt.o defines these symbols.
 *
 * When the reservation must happen. AFL++ 4.x reports the map size in the
 * fork server handshake (FS_OPT_MAPSIZE from __afl_map_size). The fork
 * server starts either at __AFL_INIT() (deferred, when the fuzzer saw the
 * binary's deferred signature: afl-fuzz) or in afl-compiler-rt's
 * default-priority constructor __afl_auto_init (afl-showmap, afl-tmin and
 * afl-cmin in 4.04c do not defer). Its own earlier constructors (priorities
 * 0..5) map the shared memory and the instrumentation's module constructor
 * (priority 2) numbers the edges into __afl_final_loc. So the region is
 * reserved in a constructor of priority 200: after the edges are numbered,
 * before any fork server can start.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/engines/coverage.h"
#include "harness/engines/fuzz_afl_map.h"
#include "harness/options/options.h"

extern uint8_t *__afl_area_ptr;
extern uint32_t __afl_final_loc;
extern uint32_t __afl_map_size;

static uint32_t region_base, region_size;

__attribute__((constructor(200))) static void af_afl_reserve_early(void)
{
    region_size = AF_COV_MAP_SIZE;
    region_base = (__afl_final_loc + 1 + 63) & ~63u;
    __afl_final_loc = region_base + region_size - 1;
    __afl_map_size = region_base + region_size;
    af_options o; /* AF_AFL_DEBUG; a bad variable is reported by main() */
    af_options_default(&o);
    (void)af_options_from_env(&o, NULL);
    if (o.afl_debug)
        fprintf(stderr, "asyncfuzz-afl: features at map[%u..%u), map size %u\n", region_base,
                region_base + region_size, __afl_map_size);
}

uint32_t af_afl_region(uint32_t *size)
{
    if (size)
        *size = region_size;
    return region_base;
}

uint8_t *af_afl_area(void)
{
    if (!region_size || !__afl_area_ptr || __afl_map_size < region_base + region_size)
        return 0;
    return __afl_area_ptr + region_base;
}

uint32_t af_afl_map_size(void)
{
    return __afl_map_size;
}
