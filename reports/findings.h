/* findings.h - the deduplicating findings store of a campaign.
 *
 * Layout (compatible with the findings the libFuzzer / AFL++ targets file,
 * harness/engines/fuzz_target.h):
 *
 *   STORE/<16-hex signature>/   one folder per signature:
 *       scenario.json   the smallest scenario seen with that signature
 *       repro.py        its standalone Python reproducer
 *       verdict.json    the verdict the finding is filed under (one object)
 *       verdicts.json   every verdict of that run (reports/finding.h)
 *       trace.jsonl     the run's trace, when known
 *       input.bin       the fuzz bytes of that run
 *       meta.json       oracle, signature text, size, engine, first seen
 *       count           how many runs hit the signature (decimal, one line)
 *   STORE/summary.json  per signature: oracle, count, smallest size, first
 *                       seen; regenerated from the folders
 *   STORE/.lock         flock(2)ed around every change
 *
 * Crash and hang findings (the interpreter died, or stopped answering with
 * no Python-level watchdog able to fire) have no verdict list: their
 * verdict.json is written from the record's oracle / evidence fields.
 *
 * Durability: a new folder is built under a temporary name (every file
 * written, fsync'd), then renamed into place and the store fsync'd; a
 * smaller reproducer replaces the folder's files the same way, and the two
 * folders are swapped atomically (renameat2 RENAME_EXCHANGE). Either way a
 * folder that exists is complete, even when the process is killed at any
 * instruction. Every call returns only after its data is on disk.
 *
 * Concurrency: any number of processes (engine workers, several campaigns)
 * may record into one store: changes happen under an exclusive flock of
 * STORE/.lock, and folder creation is a rename that only one can win.
 *
 * Counts: af_findings_record counts the run it records; callers that see a
 * known signature again may instead batch hits in memory and add them with
 * af_findings_add_count (a finding itself is never batched).
 */
#ifndef ASYNCFUZZ_FINDINGS_H
#define ASYNCFUZZ_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "scenarios/ir.h"

typedef struct af_findings_record_in {
    const af_scenario *scenario;     /* as run (required) */
    const af_verdict_list *verdicts; /* NULL for crash / hang findings */
    int primary;                     /* index in verdicts of the verdict filed */
    const af_trace *trace;           /* may be NULL */
    const uint8_t *input;            /* may be NULL */
    size_t input_len;
    const char *engine; /* "builtin", "libfuzzer", "afl", "minimize" */
    const char *origin; /* free text: how it was found */
    /* Without verdicts: the finding's oracle name ("crash", "hang"), its
     * signature text ("crash:SIGSEGV") and one sentence of evidence. The
     * signature is af_hash64 of the text. */
    const char *oracle;
    const char *signature_text;
    const char *evidence;
    const char *target; /* the target adapter of the run; NULL: stock asyncio */
} af_findings_record_in;

typedef enum af_findings_result {
    AF_FINDINGS_ERROR = -1,
    AF_FINDINGS_COUNTED = 0, /* known signature: count + 1 */
    AF_FINDINGS_NEW = 1,     /* a new folder */
    AF_FINDINGS_SMALLER = 2, /* known, and this scenario was smaller: replaced */
} af_findings_result;

/* The size a finding is compared by (smaller = fewer ops + tasks, then
 * fewer encoded bytes). */
typedef struct af_findings_size {
    int ops, tasks;
    size_t bytes;
} af_findings_size;

void af_findings_size_of(const af_scenario *s, af_findings_size *out);
/* <0, 0, >0 like strcmp. */
int af_findings_size_cmp(const af_findings_size *a, const af_findings_size *b);

/* The signature a record is filed under. */
uint64_t af_findings_signature(const af_findings_record_in *in);

/* Record one run. `dir` is created when missing. When sig_dir is not
 * NULL it receives the finding's folder. Returns an af_findings_result. */
af_findings_result af_findings_record(const char *dir, const af_findings_record_in *in,
                                      char *sig_dir, size_t sig_dir_cap, af_error *err);

/* Add n hits to a known signature's count. Returns 0, or -1 with err set
 * (no such folder). */
int af_findings_add_count(const char *dir, uint64_t signature, uint64_t n, af_error *err);

/* The smallest size on disk for a signature; -1 when the folder is absent. */
int af_findings_stored_size(const char *dir, uint64_t signature, af_findings_size *out);

/* Whether a folder name is a signature's: 16 lowercase hex digits. */
bool af_findings_is_sig_name(const char *name);

/* Regenerate STORE/summary.json from the folders. When unique / total are
 * not NULL they receive the number of signatures and the sum of counts.
 * Returns 0, or -1 with err set. */
int af_findings_summary(const char *dir, size_t *unique, uint64_t *total, af_error *err);

/* The count of one folder: its count file plus the hits files of the
 * libFuzzer / AFL++ targets ("ENGINE pid=P hits=N" lines). */
uint64_t af_findings_count(const char *sig_dir);

#endif
