/* limits.h - every bound on a scenario, in one place.
 *
 * Every reader (bytes decoder, JSON reader, validator) enforces these; every
 * writer may assume them. Nothing else in the project hard-codes a limit on a
 * scenario's size. Raising one is safe as long as the fixed-size arrays in
 * ir.h still fit comfortably on the heap (struct af_scenario is allocated
 * once per run and reused).
 */
#ifndef ASYNCFUZZ_LIMITS_H
#define ASYNCFUZZ_LIMITS_H

/* Operations in the whole scenario, all bodies together. */
#define AF_MAX_OPS 64
/* Tasks in the whole scenario, the root task included. */
#define AF_MAX_TASKS 16
/* Shared synchronisation primitives (Event, Lock, ...) declared. */
#define AF_MAX_PRIMITIVES 8
/* Nesting of bodies: the root body is depth 1; each operation that owns a
 * body (or a child task) adds one. */
#define AF_MAX_DEPTH 8
/* Longest single duration, in virtual ticks. */
#define AF_MAX_TICKS 10000
/* Sum of every duration in the scenario, in virtual ticks. */
#define AF_MAX_TOTAL_TICKS 100000
/* Names of tasks, groups, timeouts, primitives and resources (bytes). */
#define AF_MAX_NAME 24
/* Cancel messages (bytes). */
#define AF_MAX_MSG 32
/* Description line of a scenario file (bytes). */
#define AF_MAX_DESCRIPTION 200
/* Expected verdicts listed in one scenario file. */
#define AF_MAX_EXPECT 16
/* Upstream issue reference, e.g. "gh-86296" (bytes). */
#define AF_MAX_ISSUE 32
/* A target adapter's NAME, which an expected verdict may name (bytes). */
#define AF_MAX_TARGET_NAME 32
/* Python versions one expected verdict may be restricted to. */
#define AF_MAX_PYVERSIONS 8
/* Integer payloads: return values, exception ids, queue items. */
#define AF_MAX_VALUE 255
/* notify(n) and semaphore / queue parameters. */
#define AF_MAX_SMALL 8

/* The current scenario file format version ("asyncfuzz": 1). */
#define AF_SCHEMA_VERSION 1

#endif
