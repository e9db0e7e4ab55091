/* clock.h - the monotonic clock every stage reads (progress lines, rates,
 * watchdogs, time to a finding). Header-only. Never the wall clock: that
 * goes backwards; wall times (a finding's "first seen") use time(2).
 */
#ifndef ASYNCFUZZ_CLOCK_H
#define ASYNCFUZZ_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since an arbitrary fixed point. */
static inline uint64_t af_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The same in seconds. */
static inline double af_clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
