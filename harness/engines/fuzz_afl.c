/* fuzz_afl.c - the AFL++ target `asyncfuzz-afl` (built with afl-clang-fast).
 *
 *   afl-fuzz -i corpus/asyncio -o out -- build/asyncfuzz-afl
 *   asyncfuzz-afl [INPUT...]          (standalone: runs each file, or stdin)
 *
 * Start-up, before the fork server: the interpreter and runner are
 * initialised (af_fuzz_new), the coverage check runs on fixed inputs plus
 * the seed folder AF_SEED_DIR (or the files on the command line) and exits
 * with status 2 when the counters do not move, and the feature region is
 * reserved in AFL's map. Then __AFL_INIT() starts the (deferred) fork
 * server, and a persistent loop (__AFL_LOOP) reads each input from shared
 * memory (__AFL_FUZZ_TESTCASE_BUF).
 *
 * The map. afl-clang-fast instruments only this file; its edges occupy
 * __afl_area_ptr[0 .. __afl_final_loc]. AFL++ 4.x sizes the map from what
 * the target reports in the fork server handshake (FS_OPT_MAPSIZE, taken
 * from __afl_map_size when the fork server starts; afl-fuzz first runs the
 * target with a large temporary map, then re-creates the shared memory at
 * the size reported). A constructor in fuzz_afl_map.c places our region
 * right after the instrumented edges (64-aligned) and raises
 * __afl_final_loc and __afl_map_size over it before any fork server can
 * start (afl-showmap/afl-tmin do not defer it to __AFL_INIT): afl-fuzz,
 * afl-showmap, afl-tmin and afl-cmin learn the full size from the
 * handshake, with no AFL_MAP_SIZE to set. Features are written straight into that region of the
 * shared map, which __AFL_LOOP clears before each input. Outside afl-fuzz (no
 * __AFL_SHM_ID) the features go to a private buffer.
 *
 * Progress: with AF_EXEC_COUNTER set, every input run adds one to the
 * 64-bit count in that file (see exec_counter_open).
 *
 * Findings: as for libFuzzer (fuzz_target.h): a new signature is written to
 * AF_FINDINGS first, then the banner, then abort() so that afl-fuzz keeps
 * the input in out/.../crashes/; a signature already filed is counted and
 * not reported as a crash (afl-fuzz does not fill up with duplicates).
 * Standalone runs abort on every verdict.
 *
 * Crashes and hangs (harness/engines/flight.h): before the fork server the
 * coverage check runs the seeds in a forked child, filing and
 * quarantining any that kill the interpreter; each child of the fork
 * server files what its dead predecessor left in its flight record, then
 * keeps its own. afl-fuzz still keeps such inputs in crashes/ and hangs/.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/file_io.h"
#include "harness/engines/coverage.h"
#include "harness/engines/crash_site.h"
#include "harness/engines/fuzz_target.h"

#ifdef __AFL_COMPILER
/* AFL++'s map, through fuzz_afl_map.c (see there why not here). */
#include "harness/engines/fuzz_afl_map.h"
#else
/* Built without afl-clang-fast (a plain compiler): a standalone runner. */
#define __AFL_FUZZ_INIT() struct af_no_afl
#define __AFL_INIT() ((void)0)
#define __AFL_LOOP(n) 0
#define __AFL_FUZZ_TESTCASE_BUF ((unsigned char *)0)
#define __AFL_FUZZ_TESTCASE_LEN 0
#endif

__AFL_FUZZ_INIT();

static uint8_t private_map[AF_COV_MAP_SIZE];

static af_fuzz *fuzz;

/* AF_EXEC_COUNTER (set by `asyncfuzz fuzz --engine afl`): a file holding
 * one 64-bit count of the inputs run, mapped shared before the fork
 * server starts, so every child adds to it; the front door's progress line
 * reads it (afl-fuzz rewrites its fuzzer_stats only once a minute). NULL
 * when unset or unusable: counting is a convenience, never a failure. */
static uint64_t *exec_counter_open(const char *path)
{
    if (!path)
        return NULL;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return NULL;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)sizeof(uint64_t)) == 0)
        p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : (uint64_t *)p;
}

static int run_standalone(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc || (argc == 1 && i == 1); i++) {
        const char *path = argc == 1 ? "-" : argv[i];
        char *data = NULL;
        size_t len = 0;
        af_error err;
        if (af_read_file(path, AF_READ_MAX_BYTES, &data, &len, &err) < 0) {
            fprintf(stderr, "asyncfuzz-afl: %s: %s\n", path, err.message);
            return 2;
        }
        af_fuzz_result r = af_fuzz_one(fuzz, (const uint8_t *)data, len, private_map, 1);
        free(data);
        if (r == AF_FUZZ_FINDING_NEW || r == AF_FUZZ_ERROR)
            af_crash_site(r == AF_FUZZ_ERROR ? NULL : af_fuzz_last_finding(fuzz));
        if (r == AF_FUZZ_FINDING_KNOWN) {
            af_fuzz_print_known(fuzz);
            af_crash_site(af_fuzz_last_finding(fuzz));
        }
        if (argc == 1)
            break;
    }
    return status;
}

int main(int argc, char **argv)
{
    af_options opts;
    af_fuzz_config cfg;
    af_error err;
    char msg[1024] = "";

    memset(&err, 0, sizeof err);
    if (af_fuzz_config_from_env(&cfg, &opts, "afl", &err) < 0) {
        fprintf(stderr, "asyncfuzz-afl: %s: %s\n", err.path, err.message);
        return 2;
    }
    int in_afl = getenv("__AFL_SHM_ID") != NULL;
    if (in_afl)
        cfg.o.quiet = 1; /* afl-fuzz owns the terminal */
    fuzz = af_fuzz_new(&cfg, &err);
    if (!fuzz) {
        fprintf(stderr, "asyncfuzz-afl: cannot start: %s%s%s\n", err.path, err.path[0] ? ": " : "",
                err.message);
        return 2;
    }
    const char *seed_dir = opts.seed_dir;
    const char *const *paths = seed_dir ? &seed_dir : (const char *const *)(argv + 1);
    int npaths = seed_dir ? 1 : argc - 1;
    if (!in_afl) {
        /* a replay: the inputs run as they are (no quarantine) */
        if (af_fuzz_check_coverage(fuzz, paths, npaths, NULL, NULL, stderr, msg, sizeof msg) < 0) {
            fprintf(stderr, "asyncfuzz-afl: %s\n", msg);
            return 2;
        }
        return run_standalone(argc, argv);
    }
    /* Before the fork server: file what dead children left in their flight
     * records, and check the seeds (quarantining those that kill the
     * interpreter, so that afl-fuzz's dry run passes them). */
    if (af_fuzz_use_quarantine(fuzz, stderr) < 0 ||
        af_fuzz_check_coverage(fuzz, paths, npaths, NULL, NULL, stderr, msg, sizeof msg) < 0) {
        fprintf(stderr, "asyncfuzz-afl: %s\n", msg[0] ? msg : "out of memory for the quarantine");
        return 2;
    }

    uint64_t *counter = exec_counter_open(opts.exec_counter);
    __AFL_INIT();
    /* A child of the fork server: the previous child may have died on an
     * input (afl-fuzz keeps it in crashes/ or hangs/); file it here too,
     * then keep this child's own flight record. */
    af_fuzz_use_quarantine(fuzz, stderr);
    if (af_fuzz_record_flight(fuzz, &err) < 0)
        fprintf(stderr, "asyncfuzz-afl: no flight record: %s: %s\n", err.path, err.message);
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        if (counter)
            __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        uint8_t *map = private_map;
#ifdef __AFL_COMPILER
        uint8_t *area = af_afl_area();
        if (area)
            map = area;
#endif
        af_fuzz_result r = af_fuzz_one(fuzz, buf, len, map, 1);
        if ((r == AF_FUZZ_ERROR || r == AF_FUZZ_FINDING_NEW) && !cfg.o.keep_going)
            af_crash_site(r == AF_FUZZ_ERROR ? NULL : af_fuzz_last_finding(fuzz));
    }
    return 0;
}
