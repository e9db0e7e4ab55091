/* cli.h - the subcommands of the asyncfuzz binary.
 *
 * The commands are the AF_COMMAND rows of harness/options/options.def;
 * each is af_cmd_<name>, takes its own argv (argv[0] is the command name),
 * prints its results to stdout and its errors to stderr once, and returns
 * the exit code: AF_EXIT_OK, AF_EXIT_FINDING (a finding, or a check that
 * failed) or AF_EXIT_USAGE (bad usage or bad input). Nothing below the CLI
 * prints errors or exits.
 *
 * Every command starts with af_cli_options: its options parsed from the
 * table, --help (the command's prose around the option list the table
 * generates) and --version answered.
 */
#ifndef ASYNCFUZZ_CLI_H
#define ASYNCFUZZ_CLI_H

#include <stdio.h>

#include "harness/engines/supervise.h"
#include "harness/options/options.h"
#include "oracles/verdict.h"

enum { AF_EXIT_OK = 0, AF_EXIT_FINDING = 1, AF_EXIT_USAGE = 2 };

typedef int (*af_command_fn)(int argc, char **argv);

/* af_cmd_show, af_cmd_run ...: harness/cli/cli_scenario.c (show, check,
 * decode, encode), cli_run.c (run, replay, repro), cli_gen.c (gen),
 * cli_fuzz.c (fuzz, minimize), cli_corpus.c (corpus, campaign). */
#define AF_COMMAND(name, flags, summary) int af_cmd_##name(int argc, char **argv);
#include "harness/options/options.def"

/* What a command takes besides its options, and its --help: "usage:
 * asyncfuzz USAGE", the prose above, the option list (from the table), the
 * prose below (NULL: none). */
typedef struct af_cli_help {
    const char *usage;
    const char *args; /* what the positional arguments are, for messages */
    int min_args;     /* how many it takes */
    int max_args;     /* -1: no limit */
    const char *above;
    const char *below;
} af_cli_help;

/* af_cli_options' "go on": any other value is the exit code. */
#define AF_CLI_GO (-1)

/* The options and arguments of command cmd into o: the table's defaults,
 * the environment (commands flagged AF_CMDF_ENV), then argv; the number
 * of positional arguments checked. Answers --help and --version. Returns
 * AF_CLI_GO, or the exit code after printing the help, the version or the
 * error. */
int af_cli_options(af_command_id cmd, const af_cli_help *help, int argc, char **argv,
                   af_options *o);

/* "asyncfuzz CMD: MESSAGE" and the pointer to --help on stderr; returns
 * AF_EXIT_USAGE. */
int af_cli_usage_error(af_command_id cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A file or folder of the source tree (rel: "corpus/asyncio.dict",
 * "scenarios/catalog"): rel itself when it exists from here, else beside
 * the build folder holding this executable (BUILD/../rel); NULL when
 * neither exists. cli_fuzz.c. */
const char *af_cli_source_path(const char *rel, char *buf, size_t cap);

/* `asyncfuzz --version`: asyncfuzz's version, the interpreter it embeds,
 * the build. */
void af_cli_print_version(FILE *out);

/* What fuzz bytes decode to, from --misuse and --loop-ops (AF_DRAW_*,
 * scenarios/bytes.h). */
unsigned af_cli_draw_flags(const af_options *o);

/* ---- every command's end, errors (cli_supervise.c) ---- */

/* A command's end: Python's and C's standard output flushed; a write
 * error on stdout makes the exit code AF_EXIT_USAGE, with a message
 * ("asyncfuzz CMD: write error on standard output: ...") unless the code
 * was AF_EXIT_USAGE already (the command printed its error). main() calls
 * it for every command, a supervised command's child for its work. */
int af_cli_finish(af_command_id cmd, int code);

/* An error once on stderr: "asyncfuzz CMD: FILE:LINE:COL: PATH: MESSAGE"
 * (file NULL: without it), then the Python traceback it came with. */
void af_cli_print_error(af_command_id cmd, const char *file, const af_error *err);

/* ---- supervised commands (cli_supervise.c) ----
 *
 * The commands that run a target (run, replay, repro, gen, minimize, and
 * fuzz's check that the target adapter loads) do their work in a child
 * (harness/engines/supervise.h): the parent never starts the interpreter,
 * applies --hang-timeout to loading the adapter and to each run, and turns
 * a death - a signal, an exit from the target's code, a hang, a target
 * that raised SystemExit out of the loop - into an error naming the file,
 * what the child was doing and what happened (exit 2), or, through
 * on_death, into what the command does with it (replay: that file fails,
 * gen: a crash / hang finding), then starts the work again in a new
 * child. Ctrl-C ends the command as before; a child killed by SIGPIPE (a
 * closed standard output) ends it the same way. */
typedef struct af_cli_supervised {
    af_command_id cmd;
    double hang_seconds;
    /* The work, in the child; returns the exit code (af_cli_finish is
     * applied to it). ctx is the parent's, as it was at the fork. */
    int (*work)(af_sup_slot *slot, void *ctx);
    /* NULL: a death is an error (af_cli_death_error), exit 2. Else what to
     * do: AF_CLI_GO starts the work again in a new child, anything else is
     * the exit code. */
    int (*on_death)(const af_sup_death *d, const af_sup_slot *slot, void *shared, void *ctx);
    /* Memory the children and the parent share, shared_size bytes (zeroed,
     * reserved lazily), given to init once before the first child. */
    size_t shared_size;
    void (*init)(void *shared, void *ctx);
    /* The command ends gracefully on Ctrl-C / SIGTERM (gen: the summary
     * and exit code): a child killed by the stop before it caught it goes
     * to on_death (how AF_SUP_STOPPED), which starts one that only ends. */
    bool graceful_stop;
    void *ctx;
    /* filled by af_cli_supervise */
    af_sup_slot *slot;
    void *shared;
} af_cli_supervised;

/* Run x's work supervised. Returns the exit code. */
int af_cli_supervise(af_cli_supervised *x);

/* A death in words, "while running s.json, the process was killed by
 * signal 11 (SIGSEGV): the target crashed the interpreter"; and as an error
 * on stderr ("asyncfuzz CMD: " and those words). */
void af_cli_death_text(const af_sup_death *d, const af_sup_slot *slot, double hang_seconds,
                       char *buf, size_t cap);
void af_cli_death_error(af_command_id cmd, const af_sup_death *d, const af_sup_slot *slot,
                        double hang_seconds);

/* The child's runner for o->target ("" or "asyncio": stock asyncio; a
 * built-in name or an adapter file): one per target and process, created
 * on first use, its loading marked in slot (may be NULL). Prints the error
 * (the adapter's traceback when it does not load; also copied to err when
 * not NULL); NULL on failure. af_cli_finish runs each one's teardown. */
struct af_runner *af_cli_runner(af_command_id cmd, af_sup_slot *slot, const af_runner_options *o,
                                af_error *err);
/* The same for another target than o's (the reference, a finding's
 * recorded target). */
struct af_runner *af_cli_runner_for(af_command_id cmd, af_sup_slot *slot,
                                    const af_runner_options *o, const char *target, af_error *err);

/* af_judge_run of s marked as step `step` of slot (may be NULL): what it is
 * in words (NULL: as before), its input bytes (may be NULL). A run that a
 * KeyboardInterrupt / SystemExit of the target ended (af_target_escape)
 * aborts the child: a death for the parent. */
int af_cli_judge(af_sup_slot *slot, struct af_runner *r, const af_scenario *s, uint64_t step,
                 const char *what, const uint8_t *input, size_t len, af_trace *tr,
                 af_verdict_list *v, af_error *err);
/* The same, differential: s on r and on the reference ref (its trace and
 * verdicts in ref_tr, ref_v), the differential oracle's verdicts in v. */
int af_cli_judge_differential(af_sup_slot *slot, struct af_runner *r, struct af_runner *ref,
                              const af_scenario *s, uint64_t step, const char *what,
                              const uint8_t *input, size_t len, af_trace *tr, af_verdict_list *v,
                              af_trace *ref_tr, af_verdict_list *ref_v, af_error *err);

/* The folder of this executable (the engine binaries sit next to it). */
void af_cli_self_dir(char *buf, size_t cap);

/* The engine binary `name` (asyncfuzz-libfuzzer, asyncfuzz-afl) next to
 * this one into bin: 0, or -1 after printing that the `label` engine is
 * not built and `how` to build it. */
int af_cli_find_engine(af_command_id cmd, char *bin, size_t cap, const char *name,
                       const char *label, const char *how);

#endif
