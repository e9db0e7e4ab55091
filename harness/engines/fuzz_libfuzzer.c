/* fuzz_libfuzzer.c - the libFuzzer target `asyncfuzz-libfuzzer`.
 *
 *   asyncfuzz-libfuzzer [libFuzzer flags] [CORPUS_DIR...|INPUT...]
 *
 * LLVMFuzzerInitialize initialises the interpreter once (af_fuzz_new: the
 * runner, asyncio imported, gc frozen), reads its own options from the
 * environment (the option table's variables, harness/options/options.def:
 * AF_COVERAGE, AF_FINDINGS, AF_TARGET, AF_MAX_VTIME ...). In a campaign (not a replay of
 * files) it then files what earlier processes left in their flight records
 * (harness/engines/flight.h: inputs that crashed or hung them), runs the coverage
 * check on fixed inputs plus the corpus folders (when the counters do not
 * move it prints why and exits with status 2) and starts this process's
 * flight record: an input that kills it is filed by the next process that
 * starts on the same findings folder (libFuzzer -fork's next job, the
 * front door's restart or its last look), and libFuzzer saves it as a
 * crash-/timeout- file as usual.
 *
 * LLVMFuzzerTestOneInput decodes the input with misuse off, runs it, judges
 * it, and fills the feature map, which IS libFuzzer's extra counters (an
 * array in the section __libfuzzer_extra_counters: libFuzzer clears it
 * before each input and reads it after; clang-14's libFuzzer finds it on
 * Linux through __start_/__stop___libfuzzer_extra_counters).
 *
 * A verdict with a new signature is written to disk first, then the banner
 * (fuzz_target.h) is printed and the process aborts - in a function of the
 * finding's signature family (crash_site.h), so that ClusterFuzz groups
 * crashes as asyncfuzz does - and libFuzzer saves the input as a crash
 * (honouring -artifact_prefix). A signature already filed
 * is only counted and fuzzing goes on - except when libFuzzer is replaying
 * inputs (files on the command line, -minimize_crash, or AF_ABORT_ON_KNOWN=1):
 * then every verdict aborts, so reproducing and minimising crashes work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/engines/coverage.h"
#include "harness/engines/crash_site.h"
#include "harness/engines/fuzz_target.h"

__attribute__((section("__libfuzzer_extra_counters"), used,
               aligned(64))) static uint8_t af_extra_counters[AF_COV_MAP_SIZE];

static af_fuzz *fuzz;
static int abort_on_known;
static int keep_going;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    af_options opts;
    af_fuzz_config cfg;
    af_error err;
    char msg[1024];
    const char **paths = calloc((size_t)*argc + 1, sizeof *paths);
    int npaths = 0, files = 0;

    memset(&err, 0, sizeof err);
    if (af_fuzz_config_from_env(&cfg, &opts, "libfuzzer", &err) < 0) {
        fprintf(stderr, "asyncfuzz-libfuzzer: %s: %s\n", err.path, err.message);
        exit(2);
    }
    for (int i = 1; i < *argc; i++) {
        const char *a = (*argv)[i];
        struct stat st;
        if (a[0] == '-') {
            if (strncmp(a, "-minimize_crash", 15) == 0 || strncmp(a, "-cleanse_crash", 14) == 0)
                abort_on_known = 1;
            continue;
        }
        if (paths)
            paths[npaths++] = a;
        if (stat(a, &st) == 0 && S_ISREG(st.st_mode))
            files++;
    }
    if (files > 0)
        abort_on_known = 1;
    int replaying = abort_on_known;
    keep_going = cfg.o.keep_going && !abort_on_known;
    if (opts.text[AF_OPT_abort_on_known])
        abort_on_known = opts.abort_on_known;

    cfg.map_precleared = 1; /* libFuzzer clears its extra counters before each input */
    fuzz = af_fuzz_new(&cfg, &err);
    if (!fuzz) {
        fprintf(stderr, "asyncfuzz-libfuzzer: cannot start: %s%s%s\n", err.path,
                err.path[0] ? ": " : "", err.message);
        exit(2);
    }
    /* A replay (crash files, -minimize_crash) runs its inputs as they are:
     * no coverage check, no quarantine, no flight record. */
    if (!replaying) {
        if (af_fuzz_use_quarantine(fuzz, stderr) < 0) {
            fprintf(stderr, "asyncfuzz-libfuzzer: out of memory for the quarantine\n");
            exit(2);
        }
        if (af_fuzz_check_coverage(fuzz, paths, npaths, NULL, NULL, stderr, msg, sizeof msg) < 0) {
            fprintf(stderr, "asyncfuzz-libfuzzer: %s\n", msg);
            exit(2);
        }
        if (af_fuzz_record_flight(fuzz, &err) < 0) {
            fprintf(stderr, "asyncfuzz-libfuzzer: %s: %s\n", err.path, err.message);
            exit(2);
        }
    }
    free(paths);
    if (!cfg.o.quiet)
        fprintf(stderr, "asyncfuzz-libfuzzer: findings go to %s/ (one folder per signature)\n",
                cfg.findings_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    af_fuzz_result r = af_fuzz_one(fuzz, data, size, af_extra_counters, 1);
    /* the abort happens in a function of the finding's family (crash_site.h) */
    if ((r == AF_FUZZ_ERROR || r == AF_FUZZ_FINDING_NEW) && !keep_going)
        af_crash_site(r == AF_FUZZ_ERROR ? NULL : af_fuzz_last_finding(fuzz));
    if (r == AF_FUZZ_FINDING_KNOWN && abort_on_known) {
        af_fuzz_print_known(fuzz);
        af_crash_site(af_fuzz_last_finding(fuzz));
    }
    return 0;
}
