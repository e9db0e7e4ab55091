/* findings.h - the findings store: where every command files findings
 * (gen, the built-in engine, the libFuzzer / AFL++ targets, the flight
 * record's crash and hang filing, minimize's output), deduplicated by
 * signature, crash-safe, shared by any number of processes. Must not run
 * scenarios or judge them: it is given runs already judged.
 *
 * Layout:
 *
 *   STORE/<16-hex signature>/   one folder per signature:
 *       scenario.json   the scenario filed (expect: every verdict's oracle)
 *       repro.py        its standalone Python reproducer
 *       verdict.json    the verdict the finding is filed under (one object)
 *       verdicts.json   every finding verdict of that run
 *       trace.jsonl     the run's trace, when known
 *       input.bin       the fuzz bytes of that run, when known
 *                       (the files above: reports/finding.h)
 *       meta.json       signature, signature text, oracle, engine (the
 *                       command or engine that filed it), origin (how:
 *                       gen's seed and run, an engine's worker and run),
 *                       python, target, first seen, size; "baseline": known
 *                       or new (reports/baseline.h: status, issue, fixed_in,
 *                       description, list) when the filer had the lists;
 *                       "reproduces_on" once a campaign ran its reproducer
 *                       under other interpreters (af_findings_set_meta)
 *       count           how many runs hit the signature (decimal, one line)
 *   STORE/summary.json  every signature (findings_summary.c), replaced
 *                       at once; not fsync'd: it is derived from the folders
 *   STORE/.lock         flock(2)ed around every change
 *
 * Which run a folder holds: the first one filed; a later run of the same
 * signature replaces it when it is smaller (fewer ops + tasks, then fewer
 * encoded bytes), keeping first seen and count. A process keeps a table of
 * the signatures it has seen (af_findings_store below) and counts their
 * later runs in memory; gen files each signature's first run only (its
 * files are a function of seed and run), the built-in engine also offers
 * every smaller run it meets (af_findings_refile_smaller).
 *
 * Crash safety: a folder is built under a temporary name (.tmp-SIG-PID-N,
 * its files written, then fsync'd together with it), then renamed into place and the store fsync'd;
 * a smaller run is built the same way and swapped in with renameat2 RENAME_EXCHANGE (or, where the
 * file system lacks it, the old folder is renamed to .old-SIG-PID-N and the new one into place).
 * Either way a signature folder that exists is complete, whenever the process is killed. What a
 * killed process leaves (a temporary folder, an .old- folder, a signature folder missing files from
 * outside the store) is repaired or removed by af_findings_repair, which af_findings_open runs; it
 * says what it did on its log.
 *
 * Concurrency: every change happens under an exclusive flock of
 * STORE/.lock, and folder creation is a rename only one process can win.
 * Since writers hold the lock while a temporary folder exists, every
 * temporary the repair sees under the lock is a dead process's.
 */
#ifndef ASYNCFUZZ_FINDINGS_H
#define ASYNCFUZZ_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/run/trace.h"
#include "oracles/verdict.h"
#include "reports/baseline.h"
#include "scenarios/ir.h"

/* One run to file. */
typedef struct af_findings_record_in {
    const af_scenario *scenario; /* as run (required) */
    /* The finding verdicts of the run; NULL for crash / hang findings. */
    const af_verdict_list *verdicts;
    int primary; /* index in verdicts of the verdict filed (af_findings_record) */
    /* Every verdict of the run, findings and the others (the scenario's
     * expect lists them all, so it replays green); NULL: verdicts. */
    const af_verdict_list *all_verdicts;
    const af_trace *trace; /* may be NULL */
    const uint8_t *input;  /* may be NULL */
    size_t input_len;
    const char *engine; /* "gen", "builtin", "libfuzzer", "afl", "minimize" */
    const char *origin; /* free text: how it was found */
    /* Without verdicts: the finding's oracle name ("crash", "hang"), its
     * signature text ("crash:SIGSEGV") and one sentence of evidence. The
     * signature is af_hash64 of the text. */
    const char *oracle;
    const char *signature_text;
    const char *evidence;
    const char *target; /* the target adapter of the run; NULL: stock asyncio */
    /* The known-defect lists meta.json's "baseline" label comes from; NULL:
     * no label (a smaller run of a signature keeps the folder's). */
    const af_baseline *baseline;
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

/* ---- the store on disk (findings.c) ---- */

/* Record one run. `dir` is created when missing. When sig_dir is not
 * NULL it receives the finding's folder. Returns an af_findings_result. */
af_findings_result af_findings_record(const char *dir, const af_findings_record_in *in,
                                      char *sig_dir, size_t sig_dir_cap, af_error *err);

/* Add n hits to a known signature's count. Returns 0, or -1 with err set
 * (no such folder). */
int af_findings_add_count(const char *dir, uint64_t signature, uint64_t n, af_error *err);

/* The smallest size on disk for a signature; -1 when the folder is absent. */
int af_findings_stored_size(const char *dir, uint64_t signature, af_findings_size *out);

/* The target a finding folder's run was on (meta.json's "target": a
 * built-in adapter's name or an adapter file's path) into buf; false when
 * it ran on stock asyncio (or dir is not a finding folder). */
bool af_findings_recorded_target(const char *dir, char *buf, size_t cap);

/* Whether a folder name is a signature's: 16 lowercase hex digits. */
bool af_findings_is_sig_name(const char *name);

/* The count of one folder: its count file plus the hits files of older
 * libFuzzer / AFL++ targets ("ENGINE pid=P hits=N" lines). */
uint64_t af_findings_count(const char *sig_dir);

/* Write one finding folder at `path`, outside any store (minimize's
 * output), with the store's files and the same crash safety: built
 * beside it under a temporary name, then renamed into place, replacing a
 * folder already there. Returns 0, or -1 with err set. */
int af_findings_write_folder(const char *path, const af_findings_record_in *in, af_error *err);

/* STORE/NAME, a folder of other files than a finding's (the fuzz targets'
 * harness-error-<hash>/), with the same crash safety; kept as it is when
 * it exists. Returns 0, or -1 with err set. */
typedef struct af_findings_file {
    const char *name;
    const void *data;
    size_t len;
} af_findings_file;
int af_findings_put_folder(const char *dir, const char *name, const af_findings_file *files,
                           int nfiles, af_error *err);

/* Copy the signature folder `from` (another store's STORE/<sig>, its
 * regular files) into the store `dir` when dir has no folder of that
 * signature: built under a temporary name and renamed into place, as any
 * folder. Returns 1 copied, 0 already there (kept as it is), -1 with err
 * set. For merging the stores of several machines. */
int af_findings_import(const char *dir, const char *from, af_error *err);

/* Repair what killed processes left in a store (see above): temporary
 * folders are removed, an .old- folder whose signature folder is missing
 * is put back, a signature folder missing meta.json or count gets them
 * again from its other files, one missing anything else (or whose
 * scenario.json or verdict.json does not parse) is removed. One line per
 * change on log (NULL: none). A missing store is fine. Returns the number
 * of changes, or -1 with err set. */
int af_findings_repair(const char *dir, FILE *log, af_error *err);

/* ---- summary.json (findings_summary.c) ---- */

/* The campaign a summary reports on, when a command ends: its figures go
 * into summary.json's "campaign" object (and stay there until the next
 * command's end replaces them). */
typedef struct af_findings_campaign {
    const char *command; /* "gen", "fuzz" */
    const char *engine;  /* "gen", "builtin", ... */
    uint64_t seed;
    uint64_t runs;
    double seconds;
    bool misuse;
    size_t max_len;
    uint64_t new_signatures; /* signatures this campaign filed first */
    const char *stopped_by;  /* NULL: ran to its end; "SIGINT", "SIGTERM" */
} af_findings_campaign;

/* Regenerate STORE/summary.json from the folders (campaign NULL: keep the
 * campaign object the file has). When unique / total are not NULL they
 * receive the number of signatures and the sum of counts. Returns 0, or
 * -1 with err set. */
int af_findings_summary(const char *dir, size_t *unique, uint64_t *total, af_error *err);
int af_findings_summary_campaign(const char *dir, const af_findings_campaign *campaign,
                                 size_t *unique, uint64_t *total, af_error *err);

/* ---- labels, meta.json fields, which signatures a run met (findings_label.c) ---- */

/* meta.json's "baseline" of every signature folder made to agree with b
 * (a team's list added since, a list that changed); rewritten only where
 * it differs. Returns the number of folders changed, or -1 with err set. */
int af_findings_label(const char *dir, const af_baseline *b, af_error *err);

/* Set meta.json's top-level `key` of one signature folder to the JSON
 * value `json` (parsed; under the store's lock, written durably). 0, or -1
 * with err set (no such folder, JSON that does not parse). */
int af_findings_set_meta(const char *dir, uint64_t signature, const char *key, const char *json,
                         af_error *err);

/* The count of every signature folder at one moment: what a campaign
 * compares at its end to know the signatures its run met (a folder that
 * appeared, or whose count grew), whichever engine filed them. */
typedef struct af_findings_tally {
    uint64_t *sigs, *counts; /* sorted by signature */
    size_t n;
} af_findings_tally;

/* 0 (an absent store is an empty tally), or -1 with err set. */
int af_findings_tally_read(const char *dir, af_findings_tally *out, af_error *err);
void af_findings_tally_free(af_findings_tally *t);
/* The count of sig in t (0 when absent). */
uint64_t af_findings_tally_count(const af_findings_tally *t, uint64_t sig);

/* ---- one process's view: the signature table (findings_table.c) ---- */

/* Room for a signature folder's path (af_findings_sig_dir). */
#define AF_FINDINGS_SIG_DIR_CAP 4120

/* A signature this process has filed or met. */
typedef struct af_findings_known {
    uint64_t signature;
    char oracle[48];
    char text[AF_VERDICT_SIGTEXT_MAX];
    uint64_t hits;            /* runs of this process that showed it */
    uint64_t pending;         /* of those, not yet added to the folder's count */
    af_findings_size best;    /* the smallest run of it this process offered */
    af_findings_result first; /* what filing its first run did */
} af_findings_known;

typedef struct af_findings_store af_findings_store;

/* Open the store at dir for this process: repair it (when it exists; it
 * is created at the first finding), messages on log (NULL: none).
 * engine names the filer in meta.json. NULL with err set. */
af_findings_store *af_findings_open(const char *dir, const char *engine, FILE *log, af_error *err);
/* Add the pending counts (af_findings_flush) and free the table. */
void af_findings_close(af_findings_store *st);
const char *af_findings_dir(const af_findings_store *st);

/* The known-defect lists every record of this process is labelled with
 * (meta.json's "baseline"); NULL: none. b must outlive the store. */
void af_findings_use_baseline(af_findings_store *st, const af_baseline *b);
const af_baseline *af_findings_baseline(const af_findings_store *st);

/* Off by default: a known signature's later runs are only counted. On: a
 * later run smaller than every one this process offered is filed again
 * (the store keeps it when it is smaller than the folder's). */
void af_findings_refile_smaller(af_findings_store *st, bool on);

/* What filing one signature of a run did. */
typedef struct af_findings_filed {
    int verdict; /* index in the run's verdicts */
    af_findings_result result;
} af_findings_filed;

/* File one judged run: every distinct signature among in->verdicts
 * (in->primary is not used). A signature new to this process is recorded
 * (af_findings_record); a known one is counted in memory, or recorded
 * again when refile_smaller is on and this run is smaller. Each record
 * made is reported in out (up to cap entries; out may be NULL). Returns
 * the number of records made, or -1 with err set at the first error. */
int af_findings_file_run(af_findings_store *st, const af_findings_record_in *in,
                         af_findings_filed *out, int cap, af_error *err);

/* Record in->verdicts[in->primary] again (a minimised run of a signature
 * this process knows): the table keeps its size when the store took it. */
af_findings_result af_findings_file_one(af_findings_store *st, const af_findings_record_in *in,
                                        af_error *err);

/* Add the in-memory counts to the folders' count files. 0, or -1 with err
 * set (the counts that could not be added stay pending). */
int af_findings_flush(af_findings_store *st, af_error *err);

/* Take over a signature another process of the same campaign met (a
 * supervised child that died: harness/cli/cli_run.c's gen), with its hits
 * and first result; its counts are not added again. 0, or -1 out of
 * memory. */
int af_findings_adopt(af_findings_store *st, const af_findings_known *k);

/* The signatures this process has met, in the order it met them. */
size_t af_findings_known_count(const af_findings_store *st);
const af_findings_known *af_findings_known_at(const af_findings_store *st, size_t i);

/* The folder of a signature: STORE/<16 hex>. */
void af_findings_sig_dir(const af_findings_store *st, uint64_t signature, char *buf, size_t cap);

#endif
